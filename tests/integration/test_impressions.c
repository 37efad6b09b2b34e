/* Impressions end to end through the service: propensities at least p_min and each decision's
 * probabilities summing to 1; rewards joined (a click naming its impression, a loan within the
 * attribution window, nothing outside it); an opted-out patron logged without identity; an
 * erasure removing the patron's impressions; the export's round trip. With TL_TEST_DB=postgres
 * (test_impressions_postgres) the store is a PostgreSQL database. */
#include "pg_server.h"
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/bandit.h"
#include "tailor/service.h"
#include "tailor/store.h"

#define P_MIN 0.05

static char db[600], model[600];

static int setup(void **state)
{
    (void)state;
    return tl_test_loans_store(30, "imp.db", db, model);
}

static tl_service *open_service(void)
{
    tl_service_opts o = {.db = db,
                         .model = model,
                         .writable = 1,
                         .impressions = 1,
                         .row_policy = TL_ROW_POLICY_BANDIT,
                         .bandit_p_min = P_MIN};
    tl_service *s = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_open(&o, &s, &d), TL_OK);
    return s;
}

static void homepage(tl_service *s, const char *user, tl_home *h)
{
    tl_home_query q = {.user = user, .rows = 4, .n = 3, .impression = 1};
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_homepage(s, &q, h, &d), TL_OK);
    assert_true(h->impression_id[0]);
}

/* The export as lines (malloc'd text). */
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

static char *export_all(tl_service *s)
{
    text t = {calloc(1, 1), 0};
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_impressions_export(s, 0, on_line, &t, &d), TL_OK);
    return t.buf;
}

/* Field k (0-based) of a TSV line into out. */
static void field(const char *line, int k, char *out, size_t len)
{
    for (int j = 0; j < k; j++)
        line = strchr(line, '\t') + 1;
    size_t n = strcspn(line, "\t\n");
    snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), line);
}

static const char *const kinds[] = {
    "exams",          "for_you",         "events",     "season",           "because_you_borrowed",
    "next_in_series", "new_in_subjects", "from_lists", "readers_like_you", "segment",
    "trending",       "popular"};

static int kind_of(const char *name, size_t len)
{
    for (int k = 0; k < 12; k++)
        if (strlen(kinds[k]) == len && strncmp(kinds[k], name, len) == 0)
            return k;
    return -1;
}

static void propensities_are_floored_and_sum_to_one(void **state)
{
    (void)state;
    tl_service *s = open_service();
    for (int r = 0; r < 20; r++) {
        char user[8];
        snprintf(user, sizeof(user), "u%02d", r % 10);
        tl_home h;
        homepage(s, user, &h);
        for (int k = 0; k < h.n_rows; k++) {
            assert_string_equal(h.rows[k].policy, "bandit");
            assert_true(h.rows[k].propensity >= P_MIN - 1e-9 && h.rows[k].propensity <= 1);
        }
        tl_home_free(&h);
    }
    char *all = export_all(s);
    tl_diag d;
    tl_diag_clear(&d);
    /* the policy's distributions over each logged decision's candidates (the state saved) */
    assert_int_equal(tl_service_impressions_flush(s, &d), TL_OK);
    tl_store *st;
    assert_int_equal(tl_store_open(db, TL_STORE_READONLY, &st, &d), TL_OK);
    unsigned char *img;
    size_t len;
    int64_t version;
    int found;
    assert_int_equal(tl_store_learner_get(st, "rows", &img, &len, &version, &found, &d), TL_OK);
    assert_true(found);
    tl_bandit *b;
    assert_int_equal(tl_bandit_load(img, len, &b), TL_OK);
    free(img);
    int lines = 0;
    for (char *line = strchr(all, '\n') + 1; *line; line = strchr(line, '\n') + 1, lines++) {
        char prop[32], cands[512], ctx[512];
        field(line, 9, prop, sizeof(prop));
        field(line, 10, cands, sizeof(cands));
        field(line, 11, ctx, sizeof(ctx));
        int arms[12], n = 0;
        for (const char *c = cands; *c;) {
            size_t m = strcspn(c, ",");
            arms[n++] = kind_of(c, m);
            assert_true(arms[n - 1] >= 0);
            c += m + (c[m] == ',');
        }
        double p = atof(prop), x[TL_CTX_DIM], probs[12], sum = 0;
        assert_true(n == 1 ? fabs(p - 1) < 1e-9 : p >= P_MIN - 1e-6);
        char *c = ctx;
        for (int j = 0; j < TL_CTX_DIM; j++)
            x[j] = strtod(c, &c), c += *c == ',';
        assert_int_equal(tl_bandit_probs(b, x, arms, n, probs), TL_OK);
        for (int j = 0; j < n; j++) {
            assert_true(n == 1 || probs[j] >= P_MIN - 1e-9);
            sum += probs[j];
        }
        assert_true(fabs(sum - 1) < 1e-9);
    }
    assert_true(lines >= 20);
    tl_bandit_free(b);
    tl_store_free(st);
    free(all);
    tl_service_close(s);
}

static void post(tl_service *s, const char *user, const char *item, const char *type, long long ts,
                 const char *impression, int row, int position)
{
    tl_event_rec e = {.user = user,
                      .user_len = strlen(user),
                      .item = item,
                      .item_len = strlen(item),
                      .type = type,
                      .ts = ts,
                      .impression = impression,
                      .has_place = impression != NULL,
                      .row = row,
                      .position = position};
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_add_events(s, &e, 1, NULL, &d), TL_OK);
}

/* The reward of decision `row` of impression id in the export (-1: no such line). */
static double reward_of(tl_service *s, const char *id, int row)
{
    char *all = export_all(s);
    double r = -1;
    for (char *line = strchr(all, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        char f0[32], f7[16], f12[32];
        field(line, 0, f0, sizeof(f0));
        field(line, 7, f7, sizeof(f7));
        field(line, 12, f12, sizeof(f12));
        if (!strcmp(f0, id) && atoi(f7) == row)
            r = atof(f12);
    }
    free(all);
    return r;
}

static void rewards_join_within_the_window(void **state)
{
    (void)state;
    tl_service *s = open_service();
    tl_home h;
    homepage(s, "u03", &h);
    assert_true(h.n_rows >= 2 && h.rows[0].n >= 2 && h.rows[1].n >= 1);
    char id[TL_IMPRESSION_ID_MAX], clicked[64], loaned[64], late[64];
    snprintf(id, sizeof(id), "%s", h.impression_id);
    snprintf(clicked, sizeof(clicked), "%s", h.rows[0].items[1].item);
    snprintf(loaned, sizeof(loaned), "%s", h.rows[1].items[0].item);
    snprintf(late, sizeof(late), "%s", h.rows[0].items[0].item);
    tl_home_free(&h);
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_impressions_flush(s, &d), TL_OK);
    long long now = (long long)time(NULL);
    assert_true(reward_of(s, id, 0) == 0 && reward_of(s, id, 1) == 0);
    /* a click from the card, position 1 of row 0: weighted by the position */
    post(s, "u03", clicked, "click", now + 5, id, 0, 1);
    assert_true(fabs(reward_of(s, id, 0) - tl_position_weight(1)) < 1e-4);
    /* a loan 3 days later without an impression id: the latest impression that showed it */
    post(s, "u03", loaned, "loan", now + 3 * 86400, NULL, 0, 0);
    assert_true(fabs(reward_of(s, id, 1) - tl_position_weight(0)) < 1e-4);
    /* a loan after the 14 days: nothing */
    post(s, "u03", late, "loan", now + 20 * 86400, NULL, 0, 0);
    assert_true(fabs(reward_of(s, id, 0) - tl_position_weight(1)) < 1e-4);
    tl_service_close(s);
}

static void opted_out_patrons_leave_no_identity(void **state)
{
    (void)state;
    tl_service *s = open_service();
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_consent_set(s, "u07", 0, -1, "test", &d), TL_OK);
    tl_home h;
    homepage(s, "u07", &h);
    char id[TL_IMPRESSION_ID_MAX];
    snprintf(id, sizeof(id), "%s", h.impression_id);
    tl_home_free(&h);
    tl_rec_query q = {.user = "u07", .n = 3, .impression = 1};
    tl_rec_result r;
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_OK);
    char rid[TL_IMPRESSION_ID_MAX];
    snprintf(rid, sizeof(rid), "%s", r.impression_id);
    tl_rec_result_free(&r);
    char *all = export_all(s);
    int seen = 0;
    for (char *line = strchr(all, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        char f0[32], user[64];
        field(line, 0, f0, sizeof(f0));
        field(line, 2, user, sizeof(user));
        if (!strcmp(f0, id) || !strcmp(f0, rid)) {
            assert_string_equal(user, "");
            seen++;
        }
    }
    assert_true(seen >= 2);
    free(all);
    assert_int_equal(tl_service_consent_set(s, "u07", 1, -1, "test", &d), TL_OK);
    tl_service_close(s);
}

static void erasure_removes_impressions(void **state)
{
    (void)state;
    tl_service *s = open_service();
    tl_home h;
    homepage(s, "u11", &h);
    tl_home_free(&h);
    tl_diag d;
    tl_diag_clear(&d);
    char *json = NULL;
    assert_int_equal(tl_service_user_export(s, "u11", "test", &json, &d), TL_OK);
    assert_non_null(strstr(json, "\"impressions\":[{"));
    free(json);
    tl_erase_report rep;
    assert_int_equal(tl_service_user_erase(s, "u11", "test", &rep, &d), TL_OK);
    char *all = export_all(s);
    for (char *line = strchr(all, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        char user[64];
        field(line, 2, user, sizeof(user));
        assert_string_not_equal(user, "u11");
    }
    free(all);
    tl_service_close(s);
}

static void export_round_trips(void **state)
{
    (void)state;
    tl_service *s = open_service();
    tl_home h;
    homepage(s, "u05", &h);
    tl_home_free(&h);
    char *a = export_all(s), *b = export_all(s);
    assert_string_equal(a, b); /* stable */
    assert_true(strncmp(a,
                        "impression_id\tts\tuser\tpolicy\tpolicy_version\texperiment\tarm\t"
                        "decision\tchosen\tpropensity\tcandidates\tcontext\treward\n",
                        112) == 0);
    for (char *line = a; *line; line = strchr(line, '\n') + 1) {
        int tabs = 0;
        for (char *c = line; *c != '\n'; c++)
            tabs += *c == '\t';
        assert_int_equal(tabs, 12);
    }
    tl_service_close(s);
    /* the CLI writes the same file */
    const char *out = tl_test_tmp("imp.tsv");
    assert_int_equal(tl_test_cli("--db '%s' impressions export --out '%s'", db, out), 0);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char *c = calloc(1, strlen(a) + 2);
    size_t got = fread(c, 1, strlen(a) + 1, f);
    fclose(f);
    assert_int_equal(got, strlen(a));
    assert_string_equal(c, a);
    free(c);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(propensities_are_floored_and_sum_to_one),
        cmocka_unit_test(rewards_join_within_the_window),
        cmocka_unit_test(opted_out_patrons_leave_no_identity),
        cmocka_unit_test(erasure_removes_impressions),
        cmocka_unit_test(export_round_trips),
    };
    if (tl_test_on_pg() && !tl_test_pg_start())
        return TL_TEST_SKIP;
    return cmocka_run_group_tests(tests, setup, NULL);
}
