/* The audit report as HTML (audit_html.h): a summary table, then one section per metric with
 * what the number means for a library, a Lorenz curve for the Gini coefficient and bar charts
 * of subject exposure, both as inline SVG. Nothing on the page refers outside it, so that it
 * can be mailed or archived as one file. */
#include "cli/audit_html.h"

#include <string.h>

#define PCT(x) (100.0 * (x))

static const char STYLE[] =
    "body{font-family:Georgia,'Times New Roman',serif;max-width:60rem;margin:2rem auto;"
    "padding:0 1rem;color:#222;line-height:1.5}"
    "h1{font-size:1.7rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;"
    "border-bottom:1px solid #ccc}"
    ".sub{color:#555;margin-top:0}"
    "table{border-collapse:collapse;margin:1rem 0}"
    "th,td{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:right}"
    "th:first-child,td:first-child{text-align:left}"
    "thead th{border-bottom:2px solid #888}"
    ".note{color:#555;font-size:.92rem}"
    "svg{display:block;margin:1rem 0;max-width:100%;height:auto;font-family:sans-serif}"
    ".recs{fill:#2b6cb0;stroke:#2b6cb0}.cat{fill:#9aa5b1;stroke:#9aa5b1}"
    ".loans{fill:#dd8a2b;stroke:#dd8a2b}"
    ".line-recs{fill:none;stroke:#2b6cb0}.line-loans{fill:none;stroke:#dd8a2b}"
    "footer{margin-top:3rem;color:#666;font-size:.85rem}";

/* s with &, <, >, " and ' as entities. */
void tl_html_esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void summary(FILE *f, const tl_audit_report *r)
{
    fprintf(f, "<table>\n<thead><tr><th>Measure</th><th>Recommendations</th>"
               "<th>Loans (what patrons borrowed)</th></tr></thead>\n<tbody>\n");
    fprintf(f, "<tr><td>Catalogue coverage</td><td>%.1f%% (%d items)</td><td></td></tr>\n",
            PCT(r->coverage), (int)r->items_recommended);
    fprintf(f, "<tr><td>Gini coefficient of exposure</td><td>%.3f</td><td>%.3f</td></tr>\n",
            r->gini_recs, r->gini_loans);
    fprintf(f,
            "<tr><td>Mean popularity percentile</td><td>%.1f</td><td>%.1f</td></tr>\n"
            "<tr><td>Long-tail share</td><td>%.1f%%</td><td>%.1f%%</td></tr>\n"
            "<tr><td>Novelty (bits)</td><td>%.2f</td><td>%.2f</td></tr>\n",
            r->pop_pct_recs, r->pop_pct_loans, PCT(r->tail_recs), PCT(r->tail_loans),
            r->novelty_recs, r->novelty_loans);
    if (r->has_subjects && r->ild_lists)
        fprintf(f, "<tr><td>Intra-list diversity</td><td>%.3f</td><td></td></tr>\n", r->ild);
    else
        fprintf(f, "<tr><td>Intra-list diversity</td><td>not measured</td><td></td></tr>\n");
    fprintf(f, "</tbody>\n</table>\n");
}

static void lorenz_line(FILE *f, const double *l, const char *cls)
{
    fprintf(f, "<polyline class=\"line-%s\" stroke-width=\"2.5\" points=\"", cls);
    for (int k = 0; k < TL_AUDIT_LORENZ_POINTS; k++)
        fprintf(f, "%s%.1f,%.1f", k ? " " : "", 60 + 380.0 * k / (TL_AUDIT_LORENZ_POINTS - 1),
                20 + 340.0 * (1 - l[k]));
    fprintf(f, "\"/>\n");
}

/* The Lorenz curves of recommendations and loans against the line of equal exposure. */
static void lorenz_svg(FILE *f, const tl_audit_report *r)
{
    fprintf(f, "<svg viewBox=\"0 0 720 410\" width=\"720\" height=\"410\" role=\"img\" "
               "aria-label=\"Lorenz curves of recommendations and loans\">\n"
               "<title>Lorenz curves: the share of recommendations (blue) and of loans (orange) "
               "that go to the least shown items</title>\n"
               "<rect x=\"60\" y=\"20\" width=\"380\" height=\"340\" fill=\"#fafafa\" "
               "stroke=\"#888\"/>\n");
    for (int t = 0; t <= 4; t++) {
        double x = 60 + 95.0 * t, y = 360 - 85.0 * t;
        fprintf(f,
                "<line x1=\"%.0f\" y1=\"20\" x2=\"%.0f\" y2=\"360\" stroke=\"#e2e2e2\"/>"
                "<line x1=\"60\" y1=\"%.0f\" x2=\"440\" y2=\"%.0f\" stroke=\"#e2e2e2\"/>\n"
                "<text x=\"%.0f\" y=\"378\" font-size=\"12\" text-anchor=\"middle\">%d%%</text>"
                "<text x=\"52\" y=\"%.0f\" font-size=\"12\" text-anchor=\"end\">%d%%</text>\n",
                x, x, y, y, x, 25 * t, y + 4, 25 * t);
    }
    fprintf(f, "<line x1=\"60\" y1=\"360\" x2=\"440\" y2=\"20\" stroke=\"#444\" "
               "stroke-dasharray=\"6 4\"/>\n");
    lorenz_line(f, r->lorenz_loans, "loans");
    lorenz_line(f, r->lorenz_recs, "recs");
    fprintf(f,
            "<text x=\"250\" y=\"400\" font-size=\"13\" text-anchor=\"middle\">share of the "
            "catalogue's items, least shown first</text>\n"
            "<text x=\"16\" y=\"190\" font-size=\"13\" text-anchor=\"middle\" "
            "transform=\"rotate(-90 16 190)\">share of all recommendations or loans</text>\n"
            "<rect x=\"455\" y=\"40\" width=\"14\" height=\"14\" class=\"recs\"/>"
            "<text x=\"476\" y=\"52\" font-size=\"13\">recommendations (Gini %.2f)</text>\n"
            "<rect x=\"455\" y=\"64\" width=\"14\" height=\"14\" class=\"loans\"/>"
            "<text x=\"476\" y=\"76\" font-size=\"13\">loans (Gini %.2f)</text>\n"
            "<line x1=\"455\" y1=\"95\" x2=\"469\" y2=\"95\" stroke=\"#444\" "
            "stroke-dasharray=\"4 3\"/>"
            "<text x=\"476\" y=\"99\" font-size=\"13\">equal exposure</text>\n</svg>\n",
            r->gini_recs, r->gini_loans);
}

/* Per subject three bars: share of recommendations, of catalogue items, of loans. */
static void subjects_svg(FILE *f, const tl_audit_report *r)
{
    const int label_w = 230, bar_w = 420, row_h = 52, top = 40;
    double max = 0.01;
    for (int k = 0; k < r->n_top; k++) {
        const tl_audit_subject *s = &r->top[k];
        double v[3] = {s->rec_share, s->item_share, s->loan_share};
        for (int j = 0; j < 3; j++)
            max = v[j] > max ? v[j] : max;
    }
    int height = top + row_h * r->n_top + 10;
    fprintf(f,
            "<svg viewBox=\"0 0 740 %d\" width=\"740\" height=\"%d\" role=\"img\" "
            "aria-label=\"Subject exposure\">\n<title>Share of recommendations, catalogue items "
            "and loans per subject</title>\n"
            "<rect x=\"%d\" y=\"8\" width=\"12\" height=\"12\" class=\"recs\"/>"
            "<text x=\"%d\" y=\"19\" font-size=\"13\">recommendations</text>"
            "<rect x=\"%d\" y=\"8\" width=\"12\" height=\"12\" class=\"cat\"/>"
            "<text x=\"%d\" y=\"19\" font-size=\"13\">catalogue items</text>"
            "<rect x=\"%d\" y=\"8\" width=\"12\" height=\"12\" class=\"loans\"/>"
            "<text x=\"%d\" y=\"19\" font-size=\"13\">loans</text>\n",
            height, height, label_w, label_w + 17, label_w + 150, label_w + 167, label_w + 290,
            label_w + 307);
    static const char *const cls[3] = {"recs", "cat", "loans"};
    for (int k = 0; k < r->n_top; k++) {
        const tl_audit_subject *s = &r->top[k];
        double v[3] = {s->rec_share, s->item_share, s->loan_share};
        int y = top + row_h * k;
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"13\" text-anchor=\"end\">", label_w - 8,
                y + 22);
        tl_html_esc(f, s->name);
        fprintf(f, "</text>\n");
        for (int j = 0; j < 3; j++) {
            double w = bar_w * v[j] / max;
            fprintf(f,
                    "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"13\" class=\"%s\"/>"
                    "<text x=\"%.1f\" y=\"%d\" font-size=\"11\">%.1f%%</text>\n",
                    label_w, y + 2 + 15 * j, w, cls[j], label_w + w + 5, y + 13 + 15 * j,
                    PCT(v[j]));
        }
    }
    fprintf(f, "</svg>\n");
}

static void coverage_text(FILE *f, const tl_audit_report *r)
{
    fprintf(f,
            "<h2>Catalogue coverage: %.1f%%</h2>\n<p>%d of the %d items the model can "
            "recommend appear in at least one patron's top %d. The other %d items are never "
            "suggested to anyone: patrons meet them only by searching or browsing the shelves. "
            "Low coverage means the recommendations promote a small part of the "
            "collection.</p>\n",
            PCT(r->coverage), (int)r->items_recommended, (int)r->n_items, r->n,
            (int)(r->n_items - r->items_recommended));
}

static void gini_text(FILE *f, const tl_audit_report *r)
{
    fprintf(f,
            "<h2>Concentration of exposure: Gini %.3f</h2>\n<p>The Gini coefficient says how "
            "unequally the recommendations are shared among all the catalogue's items: 0 when "
            "every item is suggested equally often, close to 1 when a handful of items take "
            "nearly every suggestion. Borrowing itself has a Gini of %.3f. The recommendations "
            "are %s concentrated than what patrons borrow%s.</p>\n",
            r->gini_recs, r->gini_loans, r->gini_recs > r->gini_loans ? "more" : "less",
            r->gini_recs > r->gini_loans ? ": they narrow what patrons see" : "");
    fprintf(f, "<p class=\"note\">The curve below (a Lorenz curve) lines the items up from the "
               "least to the most shown and plots the share of all suggestions the first ones "
               "get. The further it sags below the dashed line, the less equal the "
               "exposure.</p>\n");
    lorenz_svg(f, r);
}

static void popularity_text(FILE *f, const tl_audit_report *r)
{
    fprintf(f,
            "<h2>Popularity bias: percentile %.1f against %.1f</h2>\n<p>Each item has a "
            "popularity percentile: the share of the catalogue that fewer patrons borrowed "
            "(50 is the middle of the collection, near 100 the bestsellers). The average "
            "suggested item stands at %.1f; the average borrowed item at %.1f. %s</p>\n",
            r->pop_pct_recs, r->pop_pct_loans, r->pop_pct_recs, r->pop_pct_loans,
            r->pop_pct_recs > r->pop_pct_loans + 1
                ? "The recommendations lean towards items that are already popular."
            : r->pop_pct_recs < r->pop_pct_loans - 1
                ? "The recommendations reach further into less borrowed items than patrons do."
                : "The recommendations are about as popular as what patrons borrow.");
}

static void tail_text(FILE *f, const tl_audit_report *r)
{
    fprintf(f,
            "<h2>Long tail: %.1f%% of suggestions</h2>\n<p>The <em>head</em> is the %d most "
            "borrowed items (%.1f%% of the catalogue), which together account for %.1f%% of all "
            "loans. Everything else is the long tail. %.1f%% of the suggestions come from the "
            "long tail, against %.1f%% of the loans: %s</p>\n",
            PCT(r->tail_recs), (int)r->head_items, PCT((double)r->head_items / r->n_items),
            PCT(r->head_loan_share), PCT(r->tail_recs), PCT(r->tail_loans),
            r->tail_recs < r->tail_loans
                ? "the recommendations send patrons to the head more than they go there "
                  "themselves."
                : "the recommendations help patrons into the less borrowed part of the "
                  "collection.");
}

static void novelty_text(FILE *f, const tl_audit_report *r)
{
    fprintf(f,
            "<h2>Novelty: %.2f bits</h2>\n<p>Novelty measures how surprising a suggestion is: "
            "an item that every patron has borrowed scores 0 bits, one borrowed by half of them "
            "1 bit, one in a thousand about 10 bits (the information, −log<sub>2</sub>, of the "
            "share of the %d patrons who borrowed it). The suggestions average %.2f bits, the "
            "loans %.2f. Higher means less obvious suggestions.</p>\n",
            r->novelty_recs, (int)r->n_patrons, r->novelty_recs, r->novelty_loans);
}

static void diversity_text(FILE *f, const tl_audit_report *r)
{
    if (!r->has_subjects) {
        fprintf(f, "<h2>Intra-list diversity and subjects: not measured</h2>\n<p>The model's "
                   "catalogue has no subjects (train it from the store, or with --items and a "
                   "subjects column), so the variety of the lists and the subjects they expose "
                   "cannot be measured.</p>\n");
        return;
    }
    if (!r->ild_lists)
        fprintf(f, "<h2>Intra-list diversity: not measured</h2>\n<p>No list had two items with "
                   "subjects.</p>\n");
    else
        fprintf(f,
                "<h2>Intra-list diversity: %.3f</h2>\n<p>How different the items of one patron's "
                "list are from each other, by subject: for every pair of items in a list, the "
                "share of their subjects they do <em>not</em> have in common (0: the same "
                "subjects, 1: none shared), averaged over the list and then over the %d lists. "
                "A low value means each patron is shown more of the same.</p>\n",
                r->ild, (int)r->ild_lists);
    fprintf(f,
            "<p class=\"note\">Skipped: %d lists with fewer than two items with subjects; %lld "
            "suggestions of items without subjects.</p>\n",
            (int)r->ild_lists_skipped, (long long)r->recs_without_subjects);
    fprintf(f,
            "<h2>Subject exposure</h2>\n<p>For the %d subjects suggested most often (of %d in "
            "the catalogue): their share of all suggestions, of the catalogue's items and of "
            "the loans. A subject whose blue bar is much longer than its grey and orange ones "
            "is pushed beyond its place in the collection and in borrowing; a much shorter one "
            "is kept out of sight. An item with several subjects counts for each, so the shares "
            "add up to more than 100%%.</p>\n",
            r->n_top, (int)r->n_subjects);
    subjects_svg(f, r);
    fprintf(f, "<table>\n<thead><tr><th>Subject</th><th>Recommendations</th><th>Catalogue "
               "items</th><th>Loans</th></tr></thead>\n<tbody>\n");
    for (int k = 0; k < r->n_top; k++) {
        const tl_audit_subject *s = &r->top[k];
        fprintf(f, "<tr><td>");
        tl_html_esc(f, s->name);
        fprintf(f, "</td><td>%.1f%%</td><td>%.1f%%</td><td>%.1f%%</td></tr>\n", PCT(s->rec_share),
                PCT(s->item_share), PCT(s->loan_share));
    }
    fprintf(f, "</tbody>\n</table>\n");
}

void tl_audit_html(FILE *f, const tl_audit_report *r, const tl_audit_meta *meta)
{
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<title>Recommendation audit: ");
    tl_html_esc(f, meta->model);
    fprintf(f,
            "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>Recommendation audit</h1>\n"
            "<p class=\"sub\">Model <code>",
            STYLE);
    tl_html_esc(f, meta->model);
    fprintf(f, "</code> (");
    tl_html_esc(f, meta->kind);
    fprintf(f,
            "): the top %d for each of %d patrons, %lld suggestions in all, set against %lld "
            "loans in its training data, over a catalogue of %d items.</p>\n",
            r->n, (int)r->n_lists, (long long)r->n_recs, (long long)r->n_loans, (int)r->n_items);
    if (meta->fallbacks)
        fprintf(f,
                "<p class=\"note\">%lld patrons had no usable history and were shown the most "
                "popular items instead; they are included.</p>\n",
                (long long)meta->fallbacks);
    summary(f, r);
    coverage_text(f, r);
    gini_text(f, r);
    popularity_text(f, r);
    tail_text(f, r);
    novelty_text(f, r);
    diversity_text(f, r);
    fprintf(f, "<footer>Made by <code>tailor audit</code>. Every measure is defined in "
               "docs/AUDIT.md of the Tailor sources.</footer>\n</body>\n</html>\n");
}
