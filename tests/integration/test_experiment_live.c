/* Experiments applied live: a patron's arm sets the homepage's row policy, the model and the
 * re-ranker, and the impressions log carries the experiment and the arm (empty outside it);
 * an unknown setting is refused at create, naming the key. With
 * TL_TEST_DB=postgres (test_experiment_live_postgres) the store is a PostgreSQL database. */
#include "pg_server.h"
#include "support.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tailor/service.h"

static char db[600], model[600];

static int setup(void **state)
{
    (void)state;
    return tl_test_loans_store(40, "explive.db", db, model);
}

/* The service's own policy is bandit: an arm's fixed shows that the arm applies. */
static tl_service *open_service(void)
{
    tl_service_opts o = {.db = db,
                         .model = model,
                         .writable = 1,
                         .impressions = 1,
                         .row_policy = TL_ROW_POLICY_BANDIT};
    tl_service *s = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_open(&o, &s, &d), TL_OK);
    return s;
}

static tl_err create(tl_service *s, const char *name, const char *a, const char *b, double traffic,
                     tl_diag *d)
{
    const char *arms[] = {a, b};
    tl_experiment_rec e = {.name = name,
                           .metric = "loans",
                           .arms = arms,
                           .n_arms = 2,
                           .traffic = traffic,
                           .salt = "fixed-salt"};
    tl_diag_clear(d);
    return tl_service_experiment_create(s, &e, d);
}

/* Field k (0-based) of a TSV line into out. */
static void field(const char *line, int k, char *out, size_t len)
{
    for (int j = 0; j < k; j++)
        line = strchr(line, '\t') + 1;
    size_t n = strcspn(line, "\t\n");
    snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), line);
}

typedef struct text {
    char *buf;
    size_t n;
} text;

static tl_err on_line(void *ctx, const char *line, size_t len)
{
    text *t = ctx;
    t->buf = realloc(t->buf, t->n + len + 1);
    memcpy(t->buf + t->n, line, len);
    t->n += len;
    t->buf[t->n] = '\0';
    return TL_OK;
}

/* The experiment and arm columns of the export's lines for impression id (asserts one). */
static void logged_arm(tl_service *s, const char *id, char *exp, char *arm)
{
    text t = {calloc(1, 1), 0};
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_impressions_export(s, 0, on_line, &t, &d), TL_OK);
    int seen = 0;
    for (char *line = t.buf; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : 0) {
        char f[64];
        field(line, 0, f, sizeof(f));
        if (strcmp(f, id) != 0)
            continue;
        field(line, 5, exp, 64);
        field(line, 6, arm, 64);
        seen = 1;
    }
    free(t.buf);
    assert_true(seen);
}

/* The arm of experiment name in the joined columns exps/arms ("" when not there). */
static const char *arm_in(const char *exps, const char *arms, const char *name)
{
    static char out[64];
    out[0] = '\0';
    for (;;) {
        size_t n = strcspn(exps, ","), m = strcspn(arms, ",");
        if (n == strlen(name) && strncmp(exps, name, n) == 0) {
            snprintf(out, sizeof(out), "%.*s", (int)m, arms);
            return out;
        }
        if (!exps[n] || !arms[m])
            return out;
        exps += n + 1;
        arms += m + 1;
    }
}

static void home_policy(tl_service *s, const char *user, const char *policy, const char *exp,
                        const char *arm)
{
    tl_home_query q = {.user = user, .rows = 4, .n = 3, .impression = 1};
    tl_home h;
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_homepage(s, &q, &h, &d), TL_OK);
    assert_true(h.n_rows > 1);
    for (int k = 0; k < h.n_rows; k++)
        assert_string_equal(h.rows[k].policy, policy);
    char id[TL_IMPRESSION_ID_MAX], e[64], a[64];
    snprintf(id, sizeof(id), "%s", h.impression_id);
    tl_home_free(&h);
    logged_arm(s, id, e, a);
    assert_string_equal(e, exp);
    assert_string_equal(a, arm);
}

/* A patron of each arm and one outside (the experiment has half the traffic). */
static void find_patrons(tl_service *s, const char *name, char *in_fixed, char *in_bandit,
                         char *outside)
{
    const char *users[40];
    char ids[40][8];
    char arms[40][TL_EXP_NAME_MAX + 1];
    for (int u = 0; u < 40; u++) {
        snprintf(ids[u], sizeof(ids[u]), "u%02d", u);
        users[u] = ids[u];
    }
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_experiment_assign(s, name, users, 40, arms, &d), TL_OK);
    in_fixed[0] = in_bandit[0] = outside[0] = '\0';
    for (int u = 0; u < 40; u++) {
        char *to = strcmp(arms[u], "fixed") == 0    ? in_fixed
                   : strcmp(arms[u], "bandit") == 0 ? in_bandit
                                                    : outside;
        if (!*to)
            strcpy(to, ids[u]);
    }
    assert_true(in_fixed[0] && in_bandit[0] && outside[0]);
}

static void arms_apply_and_are_logged(void **state)
{
    (void)state;
    tl_service *s = open_service();
    tl_diag d;
    assert_int_equal(create(s, "order", "bandit:rows=bandit", "fixed:row-policy=fixed", 0.5, &d),
                     TL_OK);
    char fixed[8], bandit[8], outside[8];
    find_patrons(s, "order", fixed, bandit, outside);
    home_policy(s, fixed, "fixed", "order", "fixed");
    home_policy(s, bandit, "bandit", "order", "bandit");
    home_policy(s, outside, "bandit", "", ""); /* the service's own */
    /* recommendations carry the arm too, and an arm's model serves */
    assert_int_equal(create(s, "model", "control", "pop:model=popular,diversify=0.5", 1.0, &d),
                     TL_OK);
    const char *users[] = {"u00", "u01", "u02", "u03", "u04", "u05", "u06", "u07"};
    char arms[8][TL_EXP_NAME_MAX + 1];
    tl_diag_clear(&d);
    assert_int_equal(tl_service_experiment_assign(s, "model", users, 8, arms, &d), TL_OK);
    int seen_pop = 0, seen_control = 0;
    for (int u = 0; u < 8; u++) {
        tl_rec_query q = {.user = users[u], .n = 5, .impression = 1};
        tl_rec_result r;
        tl_diag_clear(&d);
        assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
        int pop = strcmp(arms[u], "pop") == 0;
        assert_string_equal(r.model, pop ? "popular" : "itemknn");
        char id[TL_IMPRESSION_ID_MAX], e[64], a[64];
        snprintf(id, sizeof(id), "%s", r.impression_id);
        tl_rec_result_free(&r);
        logged_arm(s, id, e, a);
        /* the patron may be in "order" too: both, in the store's order (creation, name) */
        tl_diag_clear(&d);
        char order_arm[1][TL_EXP_NAME_MAX + 1];
        assert_int_equal(tl_service_experiment_assign(s, "order", &users[u], 1, order_arm, &d),
                         TL_OK);
        assert_string_equal(arm_in(e, a, "model"), arms[u]);
        assert_string_equal(arm_in(e, a, "order"), order_arm[0]);
        seen_pop += pop;
        seen_control += !pop;
    }
    assert_true(seen_pop > 0 && seen_control > 0);
    /* stopped: the arms no longer apply (this process reloads at once) */
    tl_diag_clear(&d);
    assert_int_equal(tl_service_experiment_stop(s, "order", NULL, &d), TL_OK);
    char model_arm[1][TL_EXP_NAME_MAX + 1];
    const char *who[] = {fixed};
    tl_diag_clear(&d);
    assert_int_equal(tl_service_experiment_assign(s, "model", who, 1, model_arm, &d), TL_OK);
    home_policy(s, fixed, "bandit", "model", model_arm[0]);
    tl_service_close(s);
}

static void unknown_settings_are_refused(void **state)
{
    (void)state;
    tl_service *s = open_service();
    tl_diag d;
    assert_int_equal(create(s, "bad", "a", "b:colour=red", 1.0, &d), TL_EINVAL);
    assert_non_null(strstr(d.msg, "colour"));
    assert_int_equal(create(s, "bad", "a", "b:rows=sideways", 1.0, &d), TL_EINVAL);
    assert_non_null(strstr(d.msg, "rows"));
    assert_int_equal(create(s, "bad", "a", "b:diversify=2", 1.0, &d), TL_EINVAL);
    assert_non_null(strstr(d.msg, "diversify"));
    assert_int_equal(
        create(s, "good", "a", "b:calibrate=0.3,max_per_author=2,search_weight=0.4", 1.0, &d),
        TL_OK);
    tl_service_close(s);
}

/* The loans of item i in the setup's events. */
static int loans_of(int i)
{
    int n = 0;
    for (int u = 0; u < 40; u++)
        for (int k = 0; k < 8; k++)
            n += (u * 5 + k * (u % 4 + 1)) % 40 == i;
    return n;
}

static int by_loans(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return loans_of(x) != loans_of(y) ? loans_of(y) - loans_of(x) : x - y;
}

/* The report's guardrails per arm match what the arms' patrons were shown: distinct items over
 * the catalogue, and the shown items outside the most-borrowed fifth over those shown. */
static void guardrails_from_the_impressions(void **state)
{
    (void)state;
    tl_service *s = open_service();
    tl_diag d;
    assert_int_equal(create(s, "guard", "a:rows=fixed", "b:rows=fixed", 1.0, &d), TL_OK);
    int rank[40], head[40] = {0};
    for (int i = 0; i < 40; i++)
        rank[i] = i;
    qsort(rank, 40, sizeof(*rank), by_loans);
    int catalogue = 0; /* the items with events: the store's catalogue here */
    for (int i = 0; i < 40; i++)
        catalogue += loans_of(i) > 0;
    int n_head = (int)(catalogue * 0.2 + 0.5);
    for (int k = 0; k < n_head; k++) /* the most-borrowed fifth */
        head[rank[k]] = 1;
    int shown[2][40] = {{0}}, shows[2] = {0}, tail[2] = {0}, answers[2] = {0};
    for (int u = 0; u < 12; u++) {
        char user[8];
        snprintf(user, sizeof(user), "u%02d", u);
        const char *users[] = {user};
        char arm[1][TL_EXP_NAME_MAX + 1];
        tl_diag_clear(&d);
        assert_int_equal(tl_service_experiment_assign(s, "guard", users, 1, arm, &d), TL_OK);
        int a = strcmp(arm[0], "b") == 0;
        tl_rec_query q = {.user = user, .n = 5, .impression = 1};
        tl_rec_result r;
        assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
        answers[a]++;
        for (int k = 0; k < r.n; k++) {
            int i = atoi(r.items[k].item + 1);
            shown[a][i] = 1;
            shows[a]++;
            tail[a] += !head[i];
        }
        tl_rec_result_free(&r);
    }
    assert_true(shows[0] > 0 && shows[1] > 0);
    char *json = NULL;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_experiment_report(s, "guard", &json, &d), TL_OK);
    json_t *rep = json_loads(json, 0, NULL), *g = json_object_get(rep, "guardrails");
    assert_int_equal(json_integer_value(json_object_get(g, "catalogue_items")), catalogue);
    assert_int_equal(json_integer_value(json_object_get(g, "head_items")), n_head);
    assert_string_equal(json_string_value(json_object_get(g, "head_by")), "loans");
    const char *names[] = {"a", "b"};
    /* latency: this process's answers, each arm's counted apart, quantiles in order */
    json_t *lat = json_object_get(g, "latency_ms");
    assert_true(json_is_object(lat));
    for (int a = 0; a < 2; a++) {
        json_t *x = json_object_get(lat, names[a]);
        assert_int_equal(json_integer_value(json_object_get(x, "answers")), answers[a]);
        double p50 = json_real_value(json_object_get(x, "p50")),
               p95 = json_real_value(json_object_get(x, "p95")),
               p99 = json_real_value(json_object_get(x, "p99"));
        assert_true(p50 > 0 && p50 <= p95 && p95 <= p99);
    }
    for (int a = 0; a < 2; a++) {
        int distinct = 0;
        for (int i = 0; i < 40; i++)
            distinct += shown[a][i];
        double cov = json_real_value(json_object_get(json_object_get(g, "coverage"), names[a]));
        double lt =
            json_real_value(json_object_get(json_object_get(g, "long_tail_share"), names[a]));
        assert_true(fabs(cov - (double)distinct / catalogue) < 1e-9);
        assert_true(fabs(lt - (double)tail[a] / shows[a]) < 1e-9);
    }
    json_decref(rep);
    free(json);
    tl_service_close(s);
    /* the text report and the HTML page show them */
    tl_test_cli_check(tl_test_cli("--db '%s' experiment report guard", db), 0,
                      "guardrails a: ", NULL);
    const char *html = tl_test_tmp("guard.html");
    char path[600];
    snprintf(path, sizeof(path), "%s", html);
    assert_int_equal(tl_test_cli("--db '%s' experiment report guard --html '%s'", db, path), 0);
    char *page = tl_test_read(path);
    assert_non_null(page);
    assert_non_null(strstr(page, "<h2>Guardrails</h2>"));
    free(page);
}

/* A store without loans ranks its head by events of any type. */
static void guardrails_without_loans(void **state)
{
    (void)state;
    const char *events = tl_test_tmp("clicks.tsv");
    assert_int_equal(tl_test_write(events, "user\titem\ttype\ttimestamp\n"
                                           "v1\ta\tclick\t10\nv2\ta\tclick\t11\nv3\ta\tclick\t12\n"
                                           "v1\tb\tclick\t13\nv2\tc\tclick\t14\nv3\td\tclick\t15\n"
                                           "v1\te\tclick\t16\n"),
                     0);
    char clicks_db[600];
    snprintf(clicks_db, sizeof(clicks_db), "%s", tl_test_store("clicks.db"));
    assert_int_equal(tl_test_cli("--db '%s' import events '%s' --quiet", clicks_db, events), 0);
    assert_int_equal(tl_test_cli("--db '%s' experiment create c --arm x --arm y", clicks_db), 0);
    assert_int_equal(tl_test_cli("--db '%s' experiment report c --json", clicks_db), 0);
    char *out = tl_test_cli_out();
    json_t *rep = json_loads(out, 0, NULL), *g = json_object_get(rep, "guardrails");
    assert_string_equal(json_string_value(json_object_get(g, "head_by")), "events");
    /* a fifth of 5 items: 1, a (the most events) */
    assert_int_equal(json_integer_value(json_object_get(g, "head_items")), 1);
    json_decref(rep);
    free(out);
}

/* tailor ope without --log reads the store's impressions: the same estimates as from the
 * export written to a file. */
static void ope_reads_the_store(void **state)
{
    (void)state;
    const char *log = tl_test_tmp("explive.tsv");
    char path[600];
    snprintf(path, sizeof(path), "%s", log);
    assert_int_equal(tl_test_cli("--db '%s' impressions export --out '%s'", db, path), 0);
    tl_test_cli_check(tl_test_cli("ope --policy uniform --log '%s' --json", path), 0, "\"ips\"",
                      NULL);
    char *from_file = tl_test_cli_out();
    tl_test_cli_check(tl_test_cli("--db '%s' ope --policy uniform --json", db), 0, "\"ips\"", NULL);
    char *from_store = tl_test_cli_out();
    assert_string_equal(from_store, from_file);
    free(from_file);
    free(from_store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arms_apply_and_are_logged),
        cmocka_unit_test(unknown_settings_are_refused),
        cmocka_unit_test(guardrails_from_the_impressions),
        cmocka_unit_test(guardrails_without_loans),
        cmocka_unit_test(ope_reads_the_store),
    };
    if (tl_test_on_pg() && !tl_test_pg_start())
        return TL_TEST_SKIP;
    return cmocka_run_group_tests(tests, setup, NULL);
}
