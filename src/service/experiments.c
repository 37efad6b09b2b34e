/* Experiments (A/B tests): definitions, assignment by hashing the patron's id as the store
 * keeps it with the experiment's salt (within the experiment's range of its layer), the arms a
 * patron is in, and the report (metrics per arm, fixed-horizon and always-valid tests, SRM). */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval/seqtest.h"
#include "service/exp_int.h"
#include "service/imp_int.h"
#include "service/lib_int.h"

#define SALT_BYTES 16
#define TL_EXP_SALT_MAX 64
#define MSPRT_EFFECT 0.1 /* the mixture's scale: a tenth of the control's mean */
#define ALPHA 0.05

/* An experiment as loaded from the store. */
typedef struct experiment {
    char name[TL_EXP_NAME_MAX + 1], layer[TL_EXP_NAME_MAX + 2], metric[16],
        salt[TL_EXP_SALT_MAX + 1];
    int64_t created, stopped;
    double lo, hi; /* its range of the layer */
    int n_arms;
    double share[TL_EXP_MAX_ARMS];
    char arm[TL_EXP_MAX_ARMS][TL_EXP_NAME_MAX + 1];
    json_t *def; /* {"arms": [{"name", "params", "share"}], "range": [lo, hi]} */
} experiment;

static int name_ok(const char *v, size_t max)
{
    size_t n = v ? strlen(v) : 0;
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && v[i] != '_' && v[i] != '-' && v[i] != '.')
            return 0;
    return 1;
}

/* Uniform [0, 1) from BLAKE2b of salt, a zero byte and the patron's id. */
static double unit_hash(const char *salt, const char *id)
{
    crypto_generichash_state st;
    unsigned char h[8], zero = 0;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)salt, strlen(salt));
    crypto_generichash_update(&st, &zero, 1);
    crypto_generichash_update(&st, (const unsigned char *)id, strlen(id));
    crypto_generichash_final(&st, h, sizeof h);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | h[i];
    return (double)(v >> 11) * (1.0 / 9007199254740992.0);
}

static void layer_salt(const char *layer, char *buf, size_t n)
{
    snprintf(buf, n, "layer:%s", layer);
}

/* The arm index of patron id (as the store keeps it), or -1 outside the experiment. */
static int arm_of(const experiment *e, const char *id)
{
    char ls[TL_EXP_NAME_MAX + 16];
    layer_salt(e->layer, ls, sizeof ls);
    double u = unit_hash(ls, id);
    if (u < e->lo || u >= e->hi)
        return -1;
    double v = unit_hash(e->salt, id), acc = 0;
    for (int k = 0; k < e->n_arms - 1; k++) {
        acc += e->share[k];
        if (v < acc)
            return k;
    }
    return e->n_arms - 1;
}

static void experiment_clear(experiment *e)
{
    json_decref(e->def);
    e->def = NULL;
}

/* Fills e from a store row; TL_ECORRUPT when its definition does not parse. */
static tl_err experiment_load(experiment *e, const tl_store_experiment *r)
{
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", r->name);
    snprintf(e->layer, sizeof e->layer, "%s", r->layer);
    snprintf(e->metric, sizeof e->metric, "%s", r->metric);
    snprintf(e->salt, sizeof e->salt, "%s", r->salt);
    e->created = r->created;
    e->stopped = r->stopped;
    e->def = json_loads(r->arms, 0, NULL);
    json_t *arms = json_object_get(e->def, "arms"), *range = json_object_get(e->def, "range");
    if (!json_is_array(arms) || json_array_size(arms) < 2 ||
        json_array_size(arms) > TL_EXP_MAX_ARMS || !json_is_array(range) ||
        json_array_size(range) != 2) {
        experiment_clear(e);
        return TL_ECORRUPT;
    }
    e->lo = json_number_value(json_array_get(range, 0));
    e->hi = json_number_value(json_array_get(range, 1));
    e->n_arms = (int)json_array_size(arms);
    for (int k = 0; k < e->n_arms; k++) {
        json_t *a = json_array_get(arms, (size_t)k);
        snprintf(e->arm[k], sizeof e->arm[k], "%s",
                 json_string_value(json_object_get(a, "name")) ?: "");
        e->share[k] = json_number_value(json_object_get(a, "share"));
    }
    return TL_OK;
}

static tl_err load_row(void *ctx, const tl_store_experiment *r)
{
    return experiment_load(ctx, r);
}

static tl_err experiment_find(tl_store *st, const char *name, experiment *e, tl_diag *d)
{
    int found = 0;
    memset(e, 0, sizeof *e);
    tl_err rc = tl_store_experiment_get(st, name, load_row, e, &found, d);
    if (rc == TL_OK && !found) {
        tl_diag_set(d, NULL, 0, "experiment", "no experiment named '%.100s'", name ? name : "");
        rc = TL_ENOTFOUND;
    }
    if (rc == TL_ECORRUPT)
        tl_diag_set(d, NULL, 0, "experiment", "the definition of '%.100s' is damaged", name);
    return rc;
}

/* A number in [0, 1] from v, -1 when v is not one. */
static double fraction(const char *v)
{
    char *end;
    double x = strtod(v, &end);
    return *v && !*end && x >= 0 && x <= 1 ? x : -1;
}

/* Sets key=v of an arm's settings (p may be NULL: only checked); 0 when taken, else -1 with d
 * set naming the key. */
static int arm_param(tl__arm_params *p, const char *arm, const char *key, const char *v, tl_diag *d)
{
    tl__arm_params scratch;
    if (!p)
        p = &scratch;
    const char *want = NULL;
    if (strcmp(key, "model") == 0) {
        if (name_ok(v, TL_SERVICE_MODEL_NAME - 1)) {
            snprintf(p->model, sizeof(p->model), "%s", v);
            return 0;
        }
        want = "a served model's name";
    } else if (strcmp(key, "rows") == 0 || strcmp(key, "row-policy") == 0) {
        p->rows = strcmp(v, "bandit") == 0  ? TL_ROW_POLICY_BANDIT
                  : strcmp(v, "fixed") == 0 ? TL_ROW_POLICY_FIXED
                                            : -1;
        if (p->rows >= 0)
            return 0;
        want = "fixed or bandit";
    } else if (strcmp(key, "diversify") == 0 || strcmp(key, "calibrate") == 0 ||
               strcmp(key, "search_weight") == 0) {
        double x = fraction(v);
        if (x >= 0) {
            if (key[0] == 'd')
                p->diversify = (float)x;
            else if (key[0] == 'c')
                p->calibrate = (float)x;
            else
                p->search_weight = x;
            return 0;
        }
        want = "a number from 0 to 1";
    } else if (strcmp(key, "max_per_author") == 0) {
        char *end;
        long x = strtol(v, &end, 10);
        if (*v && !*end && x >= 0 && x <= TL_RERANK_MAX_N) {
            p->max_per_author = (int)x;
            return 0;
        }
        want = "a whole number from 0 (no cap) to 1000";
    } else {
        tl_diag_set(d, NULL, 0, "arm",
                    "arm '%s': unknown setting '%.64s' (known: model, rows (or row-policy), "
                    "diversify, calibrate, max_per_author, search_weight)",
                    arm, key);
        return -1;
    }
    tl_diag_set(d, NULL, 0, "arm", "arm '%s': %s=%.64s: expected %s", arm, key, v, want);
    return -1;
}

static void params_unset(tl__arm_params *p)
{
    memset(p, 0, sizeof(*p));
    p->rows = p->max_per_author = -1;
    p->diversify = p->calibrate = -1;
    p->search_weight = -1;
}

/* "NAME" or "NAME:KEY=VALUE,..." -> {"name", "params": {}}; NULL with d set when malformed. */
static json_t *parse_arm(const char *spec, tl_diag *d)
{
    char buf[TL_EXP_NAME_MAX + TL_EXP_PARAMS_MAX + 2];
    if (!spec || strlen(spec) >= sizeof buf) {
        tl_diag_set(d, NULL, 0, "arm", "an arm is NAME[:KEY=VALUE,...] of at most %d bytes",
                    (int)sizeof buf - 1);
        return NULL;
    }
    strcpy(buf, spec);
    char *colon = strchr(buf, ':');
    if (colon)
        *colon = '\0';
    if (!name_ok(buf, TL_EXP_NAME_MAX)) {
        tl_diag_set(d, NULL, 0, "arm", "arm name '%.80s': 1 to %d letters, digits, '_', '-', '.'",
                    buf, TL_EXP_NAME_MAX);
        return NULL;
    }
    json_t *params = json_object(), *arm = json_pack("{s:s}", "name", buf);
    char *save = NULL;
    for (char *kv = colon ? strtok_r(colon + 1, ",", &save) : NULL; kv;
         kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (eq)
            *eq = '\0';
        int bad = !eq || !name_ok(kv, 64) || json_object_get(params, kv);
        for (const char *v = eq ? eq + 1 : ""; !bad && *v; v++)
            bad = iscntrl((unsigned char)*v);
        if (bad) {
            tl_diag_set(d, NULL, 0, "arm", "arm '%s': '%.80s' is not a new KEY=VALUE", buf, kv);
            json_decref(params);
            json_decref(arm);
            return NULL;
        }
        if (arm_param(NULL, buf, kv, eq + 1, d) != 0) {
            json_decref(params);
            json_decref(arm);
            return NULL;
        }
        json_object_set_new(params, kv, json_string(eq + 1));
    }
    json_object_set_new(arm, "params", params);
    return arm;
}

static void exp_changed(tl_service *s);

typedef struct create_job {
    const tl_experiment_rec *rec;
    json_t *arms;
    char split[TL_EXP_MAX_ARMS * 24];
    char layer[TL_EXP_NAME_MAX + 2];
    double traffic;
    /* the running experiments' ranges in the layer */
    double lo[256], hi[256];
    int n_ranges;
    int exists; /* an experiment has the name */
} create_job;

static tl_err collect_range(void *ctx, const tl_store_experiment *r)
{
    create_job *j = ctx;
    if (strcmp(r->name, j->rec->name) == 0)
        j->exists = 1;
    if (r->stopped || strcmp(r->layer, j->layer) != 0 || j->n_ranges >= 256)
        return TL_OK;
    experiment e;
    if (experiment_load(&e, r) != TL_OK)
        return TL_OK;
    j->lo[j->n_ranges] = e.lo;
    j->hi[j->n_ranges++] = e.hi;
    experiment_clear(&e);
    return TL_OK;
}

/* The lowest start of a free interval of width w in [0, 1) between the ranges; -1 when none. */
static double free_start(const create_job *j, double w)
{
    double start = 0;
    for (int round = 0; round <= j->n_ranges; round++) {
        int moved = 0;
        for (int i = 0; i < j->n_ranges; i++)
            if (start < j->hi[i] - 1e-12 && start + w > j->lo[i] + 1e-12) {
                start = j->hi[i];
                moved = 1;
            }
        if (!moved)
            return start + w <= 1 + 1e-12 ? start : -1;
    }
    return -1;
}

static tl_err do_create(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    create_job *j = ctx;
    tl_err rc = tl_store_experiments_each(st, collect_range, j, d);
    if (rc != TL_OK)
        return rc;
    if (j->exists) {
        tl_diag_set(d, NULL, 0, "name", "an experiment named '%s' exists", j->rec->name);
        return TL_EEXIST;
    }
    double lo = free_start(j, j->traffic);
    if (lo < 0) {
        tl_diag_set(d, NULL, 0, "layer",
                    "layer '%s' has no free %.0f%% of its patrons: stop an experiment or ask for "
                    "less traffic",
                    j->layer, 100 * j->traffic);
        return TL_EEXIST;
    }
    unsigned char raw[SALT_BYTES];
    char salt[TL_EXP_SALT_MAX + 1];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(salt, sizeof salt, raw, sizeof raw);
    if (j->rec->salt)
        snprintf(salt, sizeof salt, "%s", j->rec->salt);
    json_t *def = json_pack("{s:O,s:[f,f],s:f}", "arms", j->arms, "range", lo, lo + j->traffic,
                            "traffic", j->traffic);
    char *text = def ? json_dumps(def, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(def);
    if (!text)
        return TL_ENOMEM;
    tl_store_experiment e = {j->rec->name, j->layer, j->rec->metric,      salt,
                             text,         j->split, (int64_t)time(NULL), 0};
    rc = tl_store_experiment_put(st, &e, d);
    free(text);
    return rc;
}

tl_err tl_service_experiment_create(tl_service *s, const tl_experiment_rec *e, tl_diag *d)
{
    if (!name_ok(e->name, TL_EXP_NAME_MAX)) {
        tl_diag_set(d, NULL, 0, "name",
                    "an experiment's name is 1 to %d letters, digits, '_', '-', '.'",
                    TL_EXP_NAME_MAX);
        return TL_EINVAL;
    }
    if (e->layer && !name_ok(e->layer, TL_EXP_NAME_MAX)) {
        tl_diag_set(d, NULL, 0, "layer", "a layer's name is 1 to %d letters, digits, '_', '-', '.'",
                    TL_EXP_NAME_MAX);
        return TL_EINVAL;
    }
    if (!e->metric || (strcmp(e->metric, "loans") != 0 && strcmp(e->metric, "clicks") != 0)) {
        tl_diag_set(d, NULL, 0, "metric", "the metric is loans or clicks");
        return TL_EINVAL;
    }
    if (e->n_arms < 2 || e->n_arms > TL_EXP_MAX_ARMS) {
        tl_diag_set(d, NULL, 0, "arm", "an experiment has 2 to %d arms", TL_EXP_MAX_ARMS);
        return TL_EINVAL;
    }
    if (e->salt && (!*e->salt || strlen(e->salt) > TL_EXP_SALT_MAX)) {
        tl_diag_set(d, NULL, 0, "salt", "a salt is 1 to %d bytes", TL_EXP_SALT_MAX);
        return TL_EINVAL;
    }
    double traffic = e->traffic == 0 ? 1 : e->traffic;
    if (!(traffic > 0 && traffic <= 1)) {
        tl_diag_set(d, NULL, 0, "traffic", "traffic is a share in (0, 1]");
        return TL_EINVAL;
    }
    double total = 0;
    for (int k = 0; k < e->n_arms && e->split; k++) {
        if (!(e->split[k] > 0) || !isfinite(e->split[k])) {
            tl_diag_set(d, NULL, 0, "split", "every arm's share is a positive percentage");
            return TL_EINVAL;
        }
        total += e->split[k];
    }
    if (e->split && fabs(total - 100) > 1e-6) {
        tl_diag_set(d, NULL, 0, "split", "the split's percentages add up to %g, not 100", total);
        return TL_EINVAL;
    }
    tl_err rc = tl__keys_start(d);
    if (rc != TL_OK)
        return rc;
    create_job *j = calloc(1, sizeof *j);
    if (!j)
        return TL_ENOMEM;
    j->rec = e;
    j->traffic = traffic;
    j->arms = json_array();
    if (e->layer)
        snprintf(j->layer, sizeof j->layer, "%s", e->layer);
    else
        snprintf(j->layer, sizeof j->layer, "~%s", e->name); /* a layer of its own */
    for (int k = 0; k < e->n_arms && rc == TL_OK; k++) {
        json_t *arm = parse_arm(e->arms[k], d);
        if (!arm) {
            rc = TL_EINVAL;
            break;
        }
        for (size_t i = 0; i < json_array_size(j->arms); i++)
            if (strcmp(json_string_value(json_object_get(json_array_get(j->arms, i), "name")),
                       json_string_value(json_object_get(arm, "name"))) == 0) {
                tl_diag_set(d, NULL, 0, "arm", "two arms are named '%s'",
                            json_string_value(json_object_get(arm, "name")));
                rc = TL_EINVAL;
            }
        double share = e->split ? e->split[k] / 100 : 1.0 / e->n_arms;
        json_object_set_new(arm, "share", json_real(share));
        json_array_append_new(j->arms, arm);
        snprintf(j->split + strlen(j->split), sizeof j->split - strlen(j->split), "%s%g",
                 k ? "," : "", 100 * share);
    }
    if (rc == TL_OK && (rc = tl__lib_write(s, do_create, j, d)) == TL_OK)
        exp_changed(s);
    json_decref(j->arms);
    free(j);
    return rc;
}

typedef struct assign_job {
    const char *name;
    const char *const *users;
    int n;
    char (*arms)[TL_EXP_NAME_MAX + 1];
} assign_job;

static tl_err do_assign(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    assign_job *j = ctx;
    experiment e;
    tl_err rc = experiment_find(st, j->name, &e, d);
    if (rc != TL_OK)
        return rc;
    for (int i = 0; i < j->n; i++) {
        char buf[TL_PATRON_REF_SIZE];
        int k = arm_of(&e, tl__patron_ref(s, j->users[i], buf));
        snprintf(j->arms[i], TL_EXP_NAME_MAX + 1, "%s", k < 0 ? "" : e.arm[k]);
    }
    experiment_clear(&e);
    return TL_OK;
}

tl_err tl_service_experiment_assign(tl_service *s, const char *name, const char *const *users,
                                    int n, char (*arms)[TL_EXP_NAME_MAX + 1], tl_diag *d)
{
    for (int i = 0; i < n; i++) {
        tl_err rc = tl__lib_check_id(users[i], TL_ID_MAX, "user", d);
        if (rc != TL_OK)
            return rc;
    }
    tl_err rc = tl__keys_start(d);
    if (rc != TL_OK)
        return rc;
    assign_job j = {name, users, n, arms};
    return tl__lib_read(s, do_assign, &j, d);
}

/* ---- the report ---- */

typedef struct arm_stats {
    double patrons, loans, clicks, sum, sq; /* sum, sq: of the primary metric per patron */
} arm_stats;

typedef struct report_job {
    experiment e;
    int clicks_metric;
    arm_stats arm[TL_EXP_MAX_ARMS];
    json_t *out;
    json_t *guardrails; /* NULL: a store without impressions */
} report_job;

static tl_err count_patron(void *ctx, const char *user, int64_t events, int64_t loans,
                           int64_t clicks)
{
    (void)events;
    report_job *j = ctx;
    int k = arm_of(&j->e, user); /* user as the store keeps it: already its pseudonym */
    if (k < 0)
        return TL_OK;
    arm_stats *a = &j->arm[k];
    double m = (double)(j->clicks_metric ? clicks : loans);
    a->patrons++;
    a->loans += (double)loans;
    a->clicks += (double)clicks;
    a->sum += m;
    a->sq += m * m;
    return TL_OK;
}

static void mean_var(const arm_stats *a, double *mean, double *var)
{
    *mean = a->patrons > 0 ? a->sum / a->patrons : 0;
    *var = a->patrons > 1 ? (a->sq - a->patrons * *mean * *mean) / (a->patrons - 1) : 0;
    if (*var < 0)
        *var = 0;
}

static json_t *comparison(const report_job *j, int k)
{
    double ma, va, mb, vb;
    mean_var(&j->arm[0], &ma, &va);
    mean_var(&j->arm[k], &mb, &vb);
    tl_diff df = tl_diff_means(ma, va, j->arm[0].patrons, mb, vb, j->arm[k].patrons);
    json_t *c = json_pack("{s:s,s:s,s:s,s:f,s:f,s:f}", "arm", j->e.arm[k], "control", j->e.arm[0],
                          "metric", j->clicks_metric ? "clicks_per_patron" : "loans_per_patron",
                          "control_mean", ma, "mean", mb, "difference", df.diff);
    json_object_set_new(c, "relative", ma > 0 ? json_real(df.diff / ma) : json_null());
    if (df.var > 0) {
        double se = sqrt(df.var), scale = ma > 0 ? ma : (ma + mb) / 2;
        double tau2 = MSPRT_EFFECT * scale * MSPRT_EFFECT * scale;
        double lambda = tl_msprt_lambda(df.diff, df.var, tau2 > 0 ? tau2 : df.var);
        double av = lambda > 1 ? 1 / lambda : 1;
        json_object_set_new(
            c, "ci95",
            json_pack("[f,f]", df.diff - 1.959963984540054 * se, df.diff + 1.959963984540054 * se));
        json_object_set_new(c, "p_value", json_real(tl_normal_p_two_sided(df.diff / se)));
        json_object_set_new(c, "always_valid_p_value", json_real(av));
        json_object_set_new(c, "significant", json_boolean(av <= ALPHA));
    } else {
        json_object_set_new(c, "ci95", json_null());
        json_object_set_new(c, "p_value", json_null());
        json_object_set_new(c, "always_valid_p_value", json_null());
        json_object_set_new(c, "significant", json_false());
    }
    return c;
}

static json_t *experiment_json(const experiment *e)
{
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:I}", "name", e->name, "layer",
                          e->layer[0] == '~' ? "" : e->layer, "metric", e->metric, "status",
                          e->stopped ? "stopped" : "running", "created", (json_int_t)e->created);
    json_object_set_new(j, "stopped", e->stopped ? json_integer(e->stopped) : json_null());
    json_object_set_new(j, "traffic", json_real(e->hi - e->lo));
    return j;
}

static tl_err do_report(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    report_job *j = ctx;
    tl_err rc = experiment_find(st, json_string_value(json_object_get(j->out, "name")), &j->e, d);
    if (rc != TL_OK)
        return rc;
    j->clicks_metric = strcmp(j->e.metric, "clicks") == 0;
    rc = tl_store_patron_activity(st, j->e.created, j->e.stopped, count_patron, j, d);
    if (rc == TL_OK) {
        rc = tl__exp_guardrails(st, j->e.name, (const char(*)[TL_EXP_NAME_MAX + 1]) j->e.arm,
                                j->e.n_arms, j->e.created, j->e.stopped, &j->guardrails, d);
        if (rc == TL_EVERSION || rc == TL_EUNSUPPORTED) { /* a store before impressions */
            tl_diag_clear(d);
            rc = TL_OK;
        }
    }
    return rc;
}

static json_t *arm_latency(tl_service *s, const char *name);

tl_err tl_service_experiment_report(tl_service *s, const char *name, char **json, tl_diag *d)
{
    *json = NULL;
    tl_err rc = tl__keys_start(d);
    if (rc != TL_OK)
        return rc;
    report_job *j = calloc(1, sizeof *j);
    if (!j)
        return TL_ENOMEM;
    j->out = json_pack("{s:s}", "name", name ? name : "");
    if (tl__imp_logging(s)) { /* what is still queued counts in the guardrails */
        tl_service_impressions_flush(s, d);
        tl_diag_clear(d);
    }
    rc = tl__lib_read(s, do_report, j, d);
    if (rc != TL_OK) {
        json_decref(j->out);
        json_decref(j->guardrails);
        experiment_clear(&j->e);
        free(j);
        return rc;
    }
    const experiment *e = &j->e;
    json_t *out = experiment_json(e);
    int64_t end = e->stopped ? e->stopped : (int64_t)time(NULL);
    json_object_set_new(out, "days", json_real((double)(end - e->created) / 86400.0));
    json_t *arms = json_array(), *defs = json_object_get(e->def, "arms");
    long counts[TL_EXP_MAX_ARMS];
    double total = 0;
    for (int k = 0; k < e->n_arms; k++) {
        const arm_stats *a = &j->arm[k];
        json_t *arm = json_pack("{s:s,s:O,s:f,s:I,s:I,s:I}", "name", e->arm[k], "params",
                                json_object_get(json_array_get(defs, (size_t)k), "params"), "share",
                                e->share[k], "patrons", (json_int_t)a->patrons, "loans",
                                (json_int_t)a->loans, "clicks", (json_int_t)a->clicks);
        json_object_set_new(arm, "loans_per_patron",
                            a->patrons > 0 ? json_real(a->loans / a->patrons) : json_null());
        json_object_set_new(arm, "clicks_per_patron",
                            a->patrons > 0 ? json_real(a->clicks / a->patrons) : json_null());
        json_array_append_new(arms, arm);
        counts[k] = (long)a->patrons;
        total += a->patrons;
    }
    json_object_set_new(out, "arms", arms);
    double srm_p = tl_srm_pvalue(counts, e->share, e->n_arms);
    json_object_set_new(out, "srm",
                        json_pack("{s:f,s:b,s:f}", "p_value", srm_p, "mismatch",
                                  srm_p < TL_SRM_ALPHA, "threshold", TL_SRM_ALPHA));
    json_t *cmp = json_array();
    for (int k = 1; k < e->n_arms; k++)
        json_array_append_new(cmp, comparison(j, k));
    json_object_set_new(out, "comparisons", cmp);
    json_t *guard = j->guardrails
                        ? j->guardrails
                        : json_pack("{s:n,s:n,s:n}", "coverage", "long_tail_share", "latency_ms");
    json_t *latency = arm_latency(s, e->name);
    if (guard && latency)
        json_object_set_new(guard, "latency_ms", latency);
    json_object_set_new(out, "guardrails", guard);
    json_t *notes = json_array();
    json_array_append_new(
        notes, json_string("patrons: those with any event since the start (opted-out patrons "
                           "are left out); the metric is per such patron"));
    json_array_append_new(
        notes, json_string("significant: the always-valid (mSPRT) p-value is at most 0.05, "
                           "safe to look at every day; the plain p-value is valid only at a "
                           "sample size fixed in advance"));
    json_array_append_new(
        notes,
        json_string(j->guardrails
                        ? "guardrails, from the impressions logged with the experiment's arms: "
                          "coverage is the share of the catalogue shown to an arm's patrons, "
                          "long_tail_share the share of the items shown outside the most-borrowed "
                          "fifth of the catalogue"
                        : "coverage and long-tail share need the impressions log, which this "
                          "store does not have"));
    json_array_append_new(
        notes, json_string(latency ? "latency_ms: the service's time per answer (homepage, "
                                     "recommendations, search) for each arm's patrons, from the "
                                     "arm lookup to the answer (HTTP and JSON left out), counted "
                                     "by this server process since it started; p50, p95 and "
                                     "p99 are the upper edges of buckets 35% apart"
                                   : "latency_ms: counted by the serving process in memory, per "
                                     "arm; this process answered none of the experiment's "
                                     "patrons (ask the server: GET /v1/experiments/NAME)"));
    if (total < 100)
        json_array_append_new(notes,
                              json_string("fewer than 100 active patrons: too early to read"));
    if (srm_p < TL_SRM_ALPHA)
        json_array_append_new(
            notes, json_string("sample ratio mismatch: the arms' patron counts do not match the "
                               "split; do not trust the comparison until the cause is found"));
    json_object_set_new(out, "notes", notes);
    json_decref(j->out);
    experiment_clear(&j->e);
    free(j);
    return tl__lib_dump(out, json);
}

static tl_err do_stop(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    void **args = ctx;
    experiment e;
    tl_err rc = experiment_find(st, args[0], &e, d);
    if (rc != TL_OK)
        return rc;
    experiment_clear(&e);
    return tl_store_experiment_stop(st, args[0], (int64_t)time(NULL), args[1], d);
}

tl_err tl_service_experiment_stop(tl_service *s, const char *name, int *changed, tl_diag *d)
{
    int ch = 0;
    void *args[2] = {(void *)name, &ch};
    tl_err rc = tl__lib_write(s, do_stop, args, d);
    if (rc == TL_OK)
        exp_changed(s);
    if (changed)
        *changed = ch;
    return rc;
}

/* ---- listings ---- */

typedef struct list_job {
    json_t *list;
    const char *user; /* arms: the patron as the store keeps them; NULL: list every experiment */
} list_job;

static tl_err list_row(void *ctx, const tl_store_experiment *r)
{
    list_job *j = ctx;
    experiment e;
    if (experiment_load(&e, r) != TL_OK)
        return TL_OK; /* a damaged definition is left out */
    json_t *defs = json_object_get(e.def, "arms");
    if (!j->user) {
        json_t *x = experiment_json(&e);
        json_t *arms = json_array();
        for (int k = 0; k < e.n_arms; k++) {
            json_t *a = json_array_get(defs, (size_t)k);
            json_array_append_new(arms,
                                  json_pack("{s:s,s:O,s:f}", "name", e.arm[k], "params",
                                            json_object_get(a, "params"), "share", e.share[k]));
        }
        json_object_set_new(x, "arms", arms);
        json_array_append_new(j->list, x);
    } else if (!e.stopped) {
        int k = arm_of(&e, j->user);
        if (k >= 0)
            json_array_append_new(
                j->list, json_pack("{s:s,s:s,s:s,s:O}", "experiment", e.name, "layer",
                                   e.layer[0] == '~' ? "" : e.layer, "arm", e.arm[k], "params",
                                   json_object_get(json_array_get(defs, (size_t)k), "params")));
    }
    experiment_clear(&e);
    return TL_OK;
}

static tl_err do_list(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    return tl_store_experiments_each(st, list_row, ctx, d);
}

tl_err tl_service_experiments(tl_service *s, char **json, tl_diag *d)
{
    *json = NULL;
    list_job j = {json_array(), NULL};
    tl_err rc = tl__lib_read(s, do_list, &j, d);
    if (rc != TL_OK) {
        json_decref(j.list);
        return rc;
    }
    return tl__lib_dump(json_pack("{s:o}", "experiments", j.list), json);
}

tl_err tl_service_experiment_arms(tl_service *s, const char *user, char **json, tl_diag *d)
{
    *json = NULL;
    tl_err rc = tl__lib_check_id(user, TL_ID_MAX, "user", d);
    if (rc == TL_OK)
        rc = tl__keys_start(d);
    if (rc != TL_OK)
        return rc;
    char buf[TL_PATRON_REF_SIZE];
    list_job j = {json_array(), tl__patron_ref(s, user, buf)};
    rc = tl__lib_read(s, do_list, &j, d);
    if (rc != TL_OK) {
        json_decref(j.list);
        return rc;
    }
    return tl__lib_dump(json_pack("{s:s,s:o}", "user", user, "experiments", j.list), json);
}

/* ---- the running experiments as serving applies them (exp_int.h) ---- */

typedef struct running {
    experiment e; /* def released */
    tl__arm_params p[TL_EXP_MAX_ARMS];
} running;

struct tl_exp_cache {
    pthread_rwlock_t lock;     /* list and n: requests read, a reload swaps */
    pthread_mutex_t reload_mu; /* one reload at a time */
    running *list;
    int n;
    double loaded_at;         /* monotonic seconds; 0: never */
    uint64_t loaded_gen;      /* gen when loaded */
    atomic_uint_fast64_t gen; /* moved by a create or a stop in this process */
    struct tl_exp_latency *latency;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct tl_exp_cache *tl__exp_cache_new(void)
{
    struct tl_exp_cache *c = calloc(1, sizeof(*c));
    if (c) {
        pthread_rwlock_init(&c->lock, NULL);
        pthread_mutex_init(&c->reload_mu, NULL);
        atomic_init(&c->gen, 1);
        if (!(c->latency = tl__exp_latency_new())) {
            tl__exp_cache_free(c);
            return NULL;
        }
    }
    return c;
}

void tl__exp_cache_free(struct tl_exp_cache *c)
{
    if (!c)
        return;
    free(c->list);
    tl__exp_latency_free(c->latency);
    pthread_rwlock_destroy(&c->lock);
    pthread_mutex_destroy(&c->reload_mu);
    free(c);
}

static void exp_changed(tl_service *s)
{
    if (s->exp)
        atomic_fetch_add(&s->exp->gen, 1);
}

typedef struct reload_job {
    running *list;
    int n, cap;
} reload_job;

static tl_err reload_row(void *ctx, const tl_store_experiment *r)
{
    reload_job *j = ctx;
    if (r->stopped)
        return TL_OK;
    if (j->n == j->cap) {
        int cap = j->cap ? 2 * j->cap : 8;
        running *g = realloc(j->list, (size_t)cap * sizeof(*g));
        if (!g)
            return TL_ENOMEM;
        j->list = g;
        j->cap = cap;
    }
    running *x = &j->list[j->n];
    if (experiment_load(&x->e, r) != TL_OK)
        return TL_OK; /* a damaged definition is left out */
    json_t *defs = json_object_get(x->e.def, "arms");
    for (int k = 0; k < x->e.n_arms; k++) {
        params_unset(&x->p[k]);
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(json_array_get(defs, (size_t)k), "params"), key, v)
        {
            tl_diag d;
            arm_param(&x->p[k], x->e.arm[k], key, json_string_value(v) ?: "", &d);
        }
    }
    experiment_clear(&x->e);
    j->n++;
    return TL_OK;
}

static tl_err do_reload(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    return tl_store_experiments_each(st, reload_row, ctx, d);
}

/* Reloads the running experiments when this process changed them or they are old. */
static void exp_refresh(tl_service *s, struct tl_exp_cache *c)
{
    uint64_t gen = atomic_load(&c->gen);
    double now = mono_s();
    pthread_rwlock_rdlock(&c->lock);
    int loaded = c->loaded_at > 0;
    int due = c->loaded_gen != gen || now - c->loaded_at >= TL__EXP_REFRESH_S;
    pthread_rwlock_unlock(&c->lock);
    /* a request that finds another reloading serves with what is cached, unless none is */
    if (!due ||
        (loaded ? pthread_mutex_trylock(&c->reload_mu) : pthread_mutex_lock(&c->reload_mu)) != 0)
        return;
    reload_job j = {0};
    tl_diag d;
    tl_diag_clear(&d);
    if (tl__keys_start(&d) != TL_OK || tl__lib_read(s, do_reload, &j, &d) != TL_OK)
        j.n = 0; /* a store before experiments, or unreadable: none running */
    pthread_rwlock_wrlock(&c->lock);
    running *old = c->list;
    c->list = j.list;
    c->n = j.n;
    c->loaded_at = now;
    c->loaded_gen = gen;
    pthread_rwlock_unlock(&c->lock);
    pthread_mutex_unlock(&c->reload_mu);
    free(old);
}

static void join_name(char *buf, const char *name)
{
    size_t n = strlen(buf);
    snprintf(buf + n, TL__EXP_NAMES - n, "%s%s", n ? "," : "", name);
}

static void merge_params(tl__arm_params *to, const tl__arm_params *p)
{
    if (!to->model[0])
        snprintf(to->model, sizeof(to->model), "%s", p->model);
    if (to->rows < 0)
        to->rows = p->rows;
    if (to->diversify < 0)
        to->diversify = p->diversify;
    if (to->calibrate < 0)
        to->calibrate = p->calibrate;
    if (to->max_per_author < 0)
        to->max_per_author = p->max_per_author;
    if (to->search_weight < 0)
        to->search_weight = p->search_weight;
}

void tl__exp_arms_of(tl_service *s, const char *user, tl__exp_arms *out)
{
    out->t0 = mono_s();
    out->experiment[0] = out->arm[0] = '\0';
    params_unset(&out->p);
    struct tl_exp_cache *c = s->exp;
    if (!c || !s->db || !user || !*user)
        return;
    exp_refresh(s, c);
    pthread_rwlock_rdlock(&c->lock);
    if (c->n > 0) {
        char buf[TL_PSEUDONYM_LEN + 1];
        const char *id = tl__patron_ref(s, user, buf);
        for (int x = 0; x < c->n; x++) {
            int k = arm_of(&c->list[x].e, id);
            if (k < 0)
                continue;
            join_name(out->experiment, c->list[x].e.name);
            join_name(out->arm, c->list[x].e.arm[k]);
            merge_params(&out->p, &c->list[x].p[k]);
        }
    }
    pthread_rwlock_unlock(&c->lock);
}

/* The experiment's latency per arm in this process (NULL: none counted). */
static json_t *arm_latency(tl_service *s, const char *name)
{
    return s->exp ? tl__exp_latency_json(s->exp->latency, name) : NULL;
}

void tl__exp_arms_done(tl_service *s, const tl__exp_arms *a)
{
    if (s->exp && a->experiment[0])
        tl__exp_latency_record(s->exp->latency, a->experiment, a->arm, (mono_s() - a->t0) * 1e3);
}

int tl__exp_row_policy(tl_service *s, const tl__exp_arms *a)
{
    return a && a->p.rows >= 0 ? a->p.rows : tl__imp_row_policy(s);
}

struct tl_model_ref *tl__exp_model_ref(tl_service *s, const char *model, const tl__exp_arms *a,
                                       int *popular_only, const char **served, tl_err *rc,
                                       tl_diag *d)
{
    if (!(model && *model) && a && a->p.model[0]) {
        tl_model_ref *r = tl__service_model_named(s, a->p.model, popular_only, served, rc, d);
        if (r)
            return r;
        tl_diag_clear(d);
    }
    return tl__service_model_named(s, model, popular_only, served, rc, d);
}

void tl__exp_rerank(const tl__exp_arms *a, tl_rerank *r)
{
    if (!a || r->mmr || r->calibrate || r->max_per_author)
        return;
    if (a->p.diversify >= 0) {
        r->mmr = 1;
        r->lambda = a->p.diversify;
    }
    if (a->p.calibrate >= 0) {
        r->calibrate = 1;
        r->cal_lambda = a->p.calibrate;
    }
    if (a->p.max_per_author >= 0)
        r->max_per_author = a->p.max_per_author;
}
