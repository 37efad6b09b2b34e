/* tailor ope: off-policy evaluation of a row-ordering policy from an impressions log: IPS, SNIPS
 * and doubly robust estimates of its top-row reward, each with a 95% interval. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "eval/ope_log.h"
#include "synth/simulate.h"
#include "tailor/service.h"

typedef struct args {
    int policy, json;
    const char *log, *order;
    double alpha, p_min;
} args;

enum { POLICY_FIXED, POLICY_UNIFORM, POLICY_BANDIT };

static const tl_opt opts[] = {
    {"policy", 0, TL_OPT_CHOICE, "fixed|uniform|bandit", NULL, 0, 0, TL_OPT_AT(args, policy),
     "the policy to evaluate: fixed (the first row of --order that is available),\n"
     "uniform, or bandit (a LinUCB bandit fitted on the log's first half, by time,\n"
     "evaluated on its second half)"},
    {"log", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, log),
     "the impressions export (tailor impressions export, or tailor simulate --log-out);\n"
     "default: the store's impressions (--db), exported as tailor impressions export does"},
    {"order", 0, TL_OPT_STR, "ROW,ROW,...", NULL, 0, 0, TL_OPT_AT(args, order),
     "fixed: the row order (default: the homepage's, exams,for_you,events,...)"},
    {"alpha", 0, TL_OPT_NUM, "X", "0", 0, 100, TL_OPT_AT(args, alpha),
     "bandit: its exploration width"},
    {"p-min", 0, TL_OPT_NUM, "P", "0.01", 0, 1, TL_OPT_AT(args, p_min),
     "bandit: its propensity floor"},
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, json), "print JSON"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "ope",
    .synopsis = "[--db PATH] ope --policy fixed|uniform|bandit [--log FILE] [--order ROW,...] "
                "[--json]",
    .about = "Estimates from logged homepage decisions how another row-ordering policy would have\n"
             "done: the expected reward of the row it puts first (decision 0 of each page), by\n"
             "inverse propensity scoring (IPS), self-normalized IPS and doubly robust (DR, with a\n"
             "cross-fitted per-row linear reward model), each with a 95% confidence interval.\n"
             "The log's propensities must be those the logging policy really used.",
    .opts = opts,
};

static int parse_order(tl_ope_log *log, const char *text, tl_ope_fixed *f)
{
    char buf[2048];
    if (strlen(text) >= sizeof buf)
        return -1;
    strcpy(buf, text);
    char *save = NULL;
    f->n = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int id = tl_ope_log_arm(log, t);
        if (id < 0 || f->n >= TL_OPE_MAX_ARMS)
            return -1;
        f->order[f->n++] = id;
    }
    return f->n > 0 ? 0 : -1;
}

static json_t *value_json(const tl_ope_value *v)
{
    return json_pack("{s:f,s:f,s:f,s:f}", "value", v->value, "se", v->se, "lo", v->lo, "hi", v->hi);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* Each line of the store's export into the log. */
typedef struct store_lines {
    tl_ope_log *log;
    long lineno;
    char *buf;
    size_t cap;
    tl_diag *d;
} store_lines;

static tl_err take_line(void *ctx, const char *line, size_t len)
{
    store_lines *s = ctx;
    if (len && line[len - 1] == '\n')
        len--;
    if (len + 1 > s->cap) {
        char *g = realloc(s->buf, 2 * len + 1);
        if (!g)
            return TL_ENOMEM;
        s->buf = g;
        s->cap = 2 * len + 1;
    }
    memcpy(s->buf, line, len);
    s->buf[len] = '\0';
    return tl_ope_log_line(s->log, s->buf, len, ++s->lineno, "the store's impressions", s->d);
}

/* The log from the store's impressions (the export's lines, in memory). */
static tl_err read_store(const tl_cli *cli, tl_ope_log *log, tl_diag *d)
{
    memset(log, 0, sizeof(*log));
    tl_service_opts so = {.db = cli->db_path};
    tl_service *svc = NULL;
    tl_err rc = tl_cli_service_open(cli, &so, &svc, d);
    store_lines s = {.log = log, .d = d};
    if (rc == TL_OK)
        rc = tl_service_impressions_export(svc, 0, take_line, &s, d);
    tl_service_close(svc);
    free(s.buf);
    if (rc != TL_OK)
        tl_ope_log_free(log);
    return rc;
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof a);
    a.policy = -1;
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    if (a.policy < 0)
        return tl_opt_usage_error(&def, "needs --policy fixed, uniform or bandit");
    tl_ope_log log;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = a.log ? tl_ope_log_read(a.log, &log, &d) : read_store(cli, &log, &d);
    if (rc != TL_OK)
        return tl_cli_fail("ope", rc, &d);
    tl_ope_fixed fixed;
    tl_bandit *bandit = NULL;
    long long since = 0;
    tl_ope_policy_fn fn = tl_ope_policy_uniform;
    void *ctx = NULL;
    if (a.policy == POLICY_FIXED) {
        char deflt[512] = "";
        for (int k = 0; k < TL_SIM_ROWS; k++)
            snprintf(deflt + strlen(deflt), sizeof deflt - strlen(deflt), "%s%s", k ? "," : "",
                     tl_sim_row_names[k]);
        if (parse_order(&log, a.order ? a.order : deflt, &fixed) != 0) {
            tl_ope_log_free(&log);
            return tl_opt_usage_error(&def, "--order: row names separated by commas (at most %d)",
                                      TL_OPE_MAX_ARMS);
        }
        fn = tl_ope_policy_fixed;
        ctx = &fixed;
    } else if (a.policy == POLICY_BANDIT) {
        /* train before the median time, evaluate from it */
        long long *ts = malloc(sizeof(long long) * (log.n ? log.n : 1));
        if (!ts) {
            tl_ope_log_free(&log);
            return tl_cli_fail("ope", TL_ENOMEM, NULL);
        }
        for (size_t i = 0; i < log.n; i++)
            ts[i] = log.rows[i].ts;
        qsort(ts, log.n, sizeof *ts, cmp_ll);
        since = log.n ? ts[log.n / 2] : 0;
        free(ts);
        if ((rc = tl_ope_fit_bandit(&log, since, TL_BANDIT_LINUCB, a.alpha, a.p_min, &bandit)) !=
            TL_OK) {
            tl_ope_log_free(&log);
            return tl_cli_fail("ope", rc, NULL);
        }
        fn = tl_ope_policy_bandit;
        ctx = bandit;
    }
    tl_ope_result r;
    rc = tl_ope_log_estimate(&log, since, fn, ctx, &r);
    /* the logging policy's own top-row reward, for comparison */
    double logged = 0, n0 = 0;
    for (size_t i = 0; i < log.n; i++)
        if (log.rows[i].decision == 0 && log.rows[i].ts >= since) {
            logged += log.rows[i].reward;
            n0++;
        }
    tl_bandit_free(bandit);
    tl_ope_log_free(&log);
    if (rc == TL_ENOTFOUND) {
        tl_diag_set(&d, a.log, 0, NULL, "no top-slot decisions (decision 0) to evaluate");
        return tl_cli_fail("ope", TL_EPARSE, &d);
    }
    if (rc != TL_OK)
        return tl_cli_fail("ope", rc, NULL);
    static const char *names[] = {"fixed", "uniform", "bandit"};
    if (a.json) {
        json_t *j = json_pack("{s:s,s:I,s:f,s:f,s:o,s:o,s:o}", "policy", names[a.policy],
                              "decisions", (json_int_t)r.n, "effective_sample_size", r.ess,
                              "logged_value", n0 > 0 ? logged / n0 : 0, "ips", value_json(&r.ips),
                              "snips", value_json(&r.snips), "dr", value_json(&r.dr));
        rc = tl_cli_print_json(json_dumps(j, JSON_COMPACT), 0);
        json_decref(j);
    } else {
        printf("policy %s: %zu top-row decisions (effective sample size %.0f)%s\n", names[a.policy],
               r.n, r.ess, a.policy == POLICY_BANDIT ? ", fitted on the earlier half" : "");
        printf("logged policy  %.4f\n", n0 > 0 ? logged / n0 : 0);
        const char *est[] = {"IPS", "SNIPS", "DR"};
        const tl_ope_value *v[] = {&r.ips, &r.snips, &r.dr};
        for (int e = 0; e < 3; e++)
            printf("%-6s         %.4f  95%% [%.4f, %.4f]\n", est[e], v[e]->value, v[e]->lo,
                   v[e]->hi);
        rc = fflush(stdout) == 0 ? TL_OK : TL_EIO;
    }
    return rc == TL_OK ? TL_EXIT_OK : tl_cli_fail("ope", rc, NULL);
}

const tl_cmd tl_cmd_ope = {&def, "off-policy evaluation of a row policy from an impressions log",
                           run};
