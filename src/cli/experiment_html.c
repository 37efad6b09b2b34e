/* The experiment report as an HTML page with SVG charts; see experiment_html.h. */
#include "cli/experiment_html.h"

#include "cli/audit_html.h"

#include <math.h>
#include <string.h>
#include <time.h>

static const char *const css =
    "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 "
    "1rem;color:#222}"
    "h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}table{border-collapse:collapse}"
    "td,th{padding:.3rem .7rem;border-bottom:1px solid #ddd;text-align:right}td:first-child,"
    "th:first-child{text-align:left}.verdict{padding:.8rem "
    "1rem;border-radius:.4rem;background:#eef4fb}"
    ".warn{background:#fdecea}.bar{fill:#2b6cb0}.ctl{fill:#8a9bb0}.whisker{stroke:#222;stroke-"
    "width:1.5}"
    ".exp{stroke:#c53030;stroke-dasharray:4 3;stroke-width:1.5}text{font-size:12px}"
    "footer{margin-top:3rem;color:#666;font-size:.85rem}";

static double num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void date(FILE *f, double t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    fputs(buf, f);
}

/* A bar per arm of the metric per patron with its 95% interval as a whisker. */
static void metric_chart(FILE *f, const json_t *r, const char *key)
{
    const json_t *arms = json_object_get(r, "arms"), *cmp = json_object_get(r, "comparisons");
    size_t n = json_array_size(arms);
    double top = 0, lo[16], hi[16], v[16];
    for (size_t k = 0; k < n && k < 16; k++) {
        v[k] = num(json_array_get(arms, k), key);
        lo[k] = hi[k] = v[k];
        if (k > 0) { /* the interval of the difference, placed around the arm's mean */
            const json_t *ci = json_object_get(json_array_get(cmp, k - 1), "ci95");
            if (json_array_size(ci) == 2) {
                double m0 = num(json_array_get(arms, 0), key);
                lo[k] = m0 + json_number_value(json_array_get(ci, 0));
                hi[k] = m0 + json_number_value(json_array_get(ci, 1));
            }
        }
        if (isfinite(hi[k]) && hi[k] > top)
            top = hi[k];
        if (isfinite(v[k]) && v[k] > top)
            top = v[k];
    }
    if (!(top > 0))
        top = 1;
    int w = 120 * (int)n + 60, h = 220;
    fprintf(f, "<svg width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s per arm\">", w, h,
            key);
    for (size_t k = 0; k < n && k < 16; k++) {
        double x = 50 + 120.0 * k, bh = isfinite(v[k]) ? 170 * v[k] / top : 0;
        fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"70\" height=\"%.1f\"/>",
                k ? "bar" : "ctl", x, 190 - bh, bh);
        if (k > 0 && isfinite(lo[k]) && hi[k] > lo[k]) {
            double y1 = 190 - 170 * fmax(lo[k], 0) / top, y2 = 190 - 170 * hi[k] / top;
            fprintf(f, "<line class=\"whisker\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
                    x + 35, x + 35, y1, y2);
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.3f</text>", x + 35,
                185 - bh, isfinite(v[k]) ? v[k] : 0);
        fprintf(f, "<text x=\"%.1f\" y=\"208\" text-anchor=\"middle\">", x + 35);
        tl_html_esc(f, str(json_array_get(arms, k), "name"));
        fputs("</text>", f);
    }
    fputs("<line x1=\"40\" x2=\"100%\" y1=\"190\" y2=\"190\" stroke=\"#999\"/></svg>", f);
}

/* Each arm's share of the active patrons against its planned share (dashed line). */
static void ratio_chart(FILE *f, const json_t *r)
{
    const json_t *arms = json_object_get(r, "arms");
    size_t n = json_array_size(arms);
    double total = 0;
    for (size_t k = 0; k < n; k++)
        total += num(json_array_get(arms, k), "patrons");
    fprintf(f, "<svg width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"patrons per arm\">", 460,
            30 * (int)n + 10);
    for (size_t k = 0; k < n; k++) {
        const json_t *a = json_array_get(arms, k);
        double got = total > 0 ? num(a, "patrons") / total : 0, want = num(a, "share");
        double y = 5 + 30.0 * k;
        fprintf(f, "<text x=\"0\" y=\"%.1f\">", y + 15);
        tl_html_esc(f, str(a, "name"));
        fprintf(f, "</text><rect class=\"bar\" x=\"100\" y=\"%.1f\" width=\"%.1f\" height=\"20\"/>",
                y, 300 * got);
        fprintf(f, "<line class=\"exp\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
                100 + 300 * want, 100 + 300 * want, y - 2, y + 22);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%.1f%%</text>", 105 + 300 * got, y + 15, 100 * got);
    }
    fputs("</svg>", f);
}

/* Per arm, what its patrons were shown (the report's guardrails, from the impressions log). */
static void guardrails_table(FILE *f, const json_t *r)
{
    const json_t *g = json_object_get(r, "guardrails"), *arms = json_object_get(r, "arms");
    const json_t *cov = json_object_get(g, "coverage"),
                 *tail = json_object_get(g, "long_tail_share"),
                 *imps = json_object_get(g, "impressions");
    if (!json_is_object(cov))
        return;
    fputs("<h2>Guardrails</h2><p>What each arm's patrons were shown: the share of the catalogue "
          "(coverage) and the share of the items shown outside the most-borrowed fifth "
          "(long tail). A big drop in either means an arm narrows what patrons discover.</p>"
          "<table><tr><th>Arm</th><th>Impressions</th><th>Coverage</th><th>Long-tail "
          "share</th></tr>",
          f);
    for (size_t k = 0; k < json_array_size(arms); k++) {
        const char *name = str(json_array_get(arms, k), "name");
        const json_t *c = json_object_get(cov, name), *t = json_object_get(tail, name);
        fputs("<tr><td>", f);
        tl_html_esc(f, name);
        fprintf(f, "</td><td>%lld</td>",
                (long long)json_integer_value(json_object_get(imps, name)));
        if (json_is_number(c))
            fprintf(f, "<td>%.1f%%</td>", 100 * json_number_value(c));
        else
            fputs("<td>n/a</td>", f);
        if (json_is_number(t))
            fprintf(f, "<td>%.1f%%</td></tr>", 100 * json_number_value(t));
        else
            fputs("<td>n/a</td></tr>", f);
    }
    fputs("</table>", f);
}

void tl_experiment_html(FILE *f, const json_t *r)
{
    const char *metric =
        strcmp(str(r, "metric"), "clicks") == 0 ? "clicks_per_patron" : "loans_per_patron";
    const char *metric_words =
        strcmp(str(r, "metric"), "clicks") == 0 ? "clicks per patron" : "loans per patron";
    fprintf(f, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Experiment ");
    tl_html_esc(f, str(r, "name"));
    fprintf(f, "</title><style>%s</style></head><body><h1>Experiment: ", css);
    tl_html_esc(f, str(r, "name"));
    fputs("</h1><p>", f);
    fprintf(f, "%s since ", strcmp(str(r, "status"), "stopped") == 0 ? "Ran" : "Running");
    date(f, num(r, "created"));
    if (strcmp(str(r, "status"), "stopped") == 0) {
        fputs(" until ", f);
        date(f, num(r, "stopped"));
    }
    fprintf(f, " (%.1f days). Primary metric: <b>%s</b>.", num(r, "days"), metric_words);
    if (*str(r, "layer")) {
        fputs(" Layer: ", f);
        tl_html_esc(f, str(r, "layer"));
        fputs(".", f);
    }
    fputs("</p>", f);

    const json_t *cmp = json_object_get(r, "comparisons"), *srm = json_object_get(r, "srm");
    int mismatch = json_is_true(json_object_get(srm, "mismatch"));
    for (size_t k = 0; k < json_array_size(cmp); k++) {
        const json_t *c = json_array_get(cmp, k);
        int sig = json_is_true(json_object_get(c, "significant"));
        double rel = num(c, "relative"), avp = num(c, "always_valid_p_value");
        fprintf(f, "<p class=\"verdict%s\"><b>", mismatch ? " warn" : "");
        tl_html_esc(f, str(c, "arm"));
        fputs(" against ", f);
        tl_html_esc(f, str(c, "control"));
        fputs(":</b> ", f);
        if (mismatch)
            fputs("the arms did not get the patrons the split promised (sample ratio mismatch), so "
                  "this "
                  "comparison cannot be trusted until the cause is found. ",
                  f);
        if (!isfinite(avp))
            fputs("not enough data to compare yet.", f);
        else if (sig)
            fprintf(f,
                    "a real difference: %s %s by %.1f%% (always-valid p = %.3g). You may stop the "
                    "experiment.",
                    metric_words, num(c, "difference") > 0 ? "rose" : "fell",
                    isfinite(rel) ? 100 * fabs(rel) : 0, avp);
        else
            fprintf(f,
                    "no clear difference yet (%s %+.1f%%, always-valid p = %.3g). Keep it running, "
                    "or stop "
                    "it if a difference this small would not change what you do.",
                    metric_words, isfinite(rel) ? 100 * rel : 0, avp);
        fputs("</p>", f);
    }

    fputs("<h2>Arms</h2><table><tr><th>Arm</th><th>Settings</th><th>Planned share</th><th>Active "
          "patrons</th>"
          "<th>Loans</th><th>Loans per patron</th><th>Clicks per patron</th></tr>",
          f);
    const json_t *arms = json_object_get(r, "arms");
    for (size_t k = 0; k < json_array_size(arms); k++) {
        const json_t *a = json_array_get(arms, k);
        fputs("<tr><td>", f);
        tl_html_esc(f, str(a, "name"));
        fputs("</td><td>", f);
        const char *key;
        const json_t *v;
        int first = 1;
        json_object_foreach((json_t *)json_object_get(a, "params"), key, v)
        {
            fputs(first ? "" : ", ", f);
            tl_html_esc(f, key);
            fputs("=", f);
            tl_html_esc(f, json_string_value(v));
            first = 0;
        }
        fprintf(f, "</td><td>%.0f%%</td><td>%.0f</td><td>%.0f</td><td>%.3f</td><td>%.3f</td></tr>",
                100 * num(a, "share"), num(a, "patrons"), num(a, "loans"),
                isfinite(num(a, "loans_per_patron")) ? num(a, "loans_per_patron") : 0,
                isfinite(num(a, "clicks_per_patron")) ? num(a, "clicks_per_patron") : 0);
    }
    fputs("</table>", f);

    fprintf(f,
            "<h2>The metric per arm: %s</h2><p>Bars: each arm's mean; the whisker on an arm: the "
            "95%% interval "
            "of its "
            "difference from the first arm (the control), placed on the control's mean.</p>",
            metric_words);
    metric_chart(f, r, metric);
    fputs("<table><tr><th>Comparison</th><th>Difference</th><th>Relative</th><th>95% interval</th>"
          "<th>p (fixed size)</th><th>Always-valid p</th></tr>",
          f);
    for (size_t k = 0; k < json_array_size(cmp); k++) {
        const json_t *c = json_array_get(cmp, k), *ci = json_object_get(c, "ci95");
        fputs("<tr><td>", f);
        tl_html_esc(f, str(c, "arm"));
        fputs(" vs ", f);
        tl_html_esc(f, str(c, "control"));
        fprintf(f, "</td><td>%+.4f</td><td>%+.1f%%</td>", num(c, "difference"),
                isfinite(num(c, "relative")) ? 100 * num(c, "relative") : 0);
        if (json_array_size(ci) == 2)
            fprintf(f, "<td>[%+.4f, %+.4f]</td><td>%.3g</td><td>%.3g</td></tr>",
                    json_number_value(json_array_get(ci, 0)),
                    json_number_value(json_array_get(ci, 1)), num(c, "p_value"),
                    num(c, "always_valid_p_value"));
        else
            fputs("<td>n/a</td><td>n/a</td><td>n/a</td></tr>", f);
    }
    fputs("</table>", f);

    fprintf(
        f,
        "<h2>Did the split work?</h2><p>Each arm's share of the active patrons (bar) against the "
        "share "
        "planned (dashed line). Sample-ratio check: p = %.3g, %s</p>",
        num(srm, "p_value"),
        mismatch
            ? "<b>a mismatch</b>: something sends patrons to one arm more than planned (a bug in "
              "applying the arms, or one arm losing patrons' activity); fix it before reading "
              "results."
            : "no sign of a problem.");
    ratio_chart(f, r);

    guardrails_table(f, r);

    fputs("<h2>How to read this</h2><ul>"
          "<li><b>Always-valid p</b> comes from a sequential test (mSPRT): it stays trustworthy "
          "however often "
          "you look, so you can check this page every day and stop as soon as it drops below "
          "0.05.</li>"
          "<li><b>p (fixed size)</b> is the ordinary test: it is only right if you decided in "
          "advance how long "
          "to run and look once at the end; looking every day and stopping at the first p below "
          "0.05 finds "
          "differences that are not there.</li>"
          "<li><b>Active patrons</b> are those with any loan, click or other event since the "
          "start; patrons "
          "who opted out of personalization are not counted.</li></ul>",
          f);
    const json_t *notes = json_object_get(r, "notes");
    if (json_array_size(notes)) {
        fputs("<h2>Notes</h2><ul>", f);
        for (size_t k = 0; k < json_array_size(notes); k++) {
            fputs("<li>", f);
            tl_html_esc(f, json_string_value(json_array_get(notes, k)));
            fputs("</li>", f);
        }
        fputs("</ul>", f);
    }
    fputs("<footer>Tailor experiment report. Nothing on this page is fetched from "
          "elsewhere.</footer></body></html>\n",
          f);
}
