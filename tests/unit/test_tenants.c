/* Consortium tenancy through the store and the service: the id a tenant's patron is kept
 * under, the same patron id in two tenants as two patrons, exports, erasures and lists that
 * never cross tenants (both ways), the consortium that sees all, tenant keys and what they
 * may do, and recommendations from the tenant's holdings only. With
 * TL_TEST_DB=postgres (test_tenants_postgres) the store is a PostgreSQL database. */
#include "pg_server.h"
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tailor/service.h"
#include "tailor/store.h"

/* Tenant a's patrons 42, 43, 45; tenant b's 42 and 44. a:45 links i1 to i4, an item only b
 * holds: what a shared model would recommend to a:42 unless a's holdings filter it. i7 (an
 * ebook) has no copy anywhere: everyone's. */
static const char EVENTS_A[] = "user\titem\ttype\ttimestamp\n"
                               "42\ti1\tloan\t1000\n42\ti2\tloan\t1001\n"
                               "43\ti1\tloan\t1000\n43\ti3\tloan\t1001\n"
                               "43\ti7\tloan\t1002\n"
                               "45\ti1\tloan\t1000\n45\ti4\tloan\t1001\n";
static const char EVENTS_B[] = "user\titem\ttype\ttimestamp\n"
                               "42\ti4\tloan\t1000\n42\ti5\tloan\t1001\n"
                               "44\ti4\tloan\t1000\n44\ti6\tloan\t1001\n";

static char db[600], model[600];

static int setup(void **state)
{
    (void)state;
    snprintf(db, sizeof(db), "%s", tl_test_store("tenants.db"));
    snprintf(model, sizeof(model), "%s", tl_test_tmp("tenants.tlm"));
    remove(db);
    char ea[600], eb[600];
    snprintf(ea, sizeof(ea), "%s", tl_test_tmp("events_a.tsv"));
    snprintf(eb, sizeof(eb), "%s", tl_test_tmp("events_b.tsv"));
    char it[600];
    snprintf(it, sizeof(it), "%s", tl_test_tmp("items.tsv"));
    tl_store *st = NULL;
    tl_diag d;
    if (tl_test_write(it, "item\ttitle\ni1\tOne\ni2\tTwo\ni3\tThree\ni4\tFour\ni5\tFive\n"
                          "i6\tSix\ni7\tEbook\n") ||
        tl_test_cli("--db '%s' import items '%s' --quiet", db, it) || tl_test_write(ea, EVENTS_A) ||
        tl_test_write(eb, EVENTS_B) ||
        tl_test_cli("--db '%s' tenant add a --name 'Library A' --branch A1", db) ||
        tl_test_cli("--db '%s' tenant add b --name 'Library B' --branch B1 --branch B2", db) ||
        tl_test_cli("--db '%s' --tenant a import events '%s' --quiet", db, ea) ||
        tl_test_cli("--db '%s' --tenant b import events '%s' --quiet", db, eb))
        return -1;
    /* the shared catalogue's copies: i1..i3 at a's branch, i4..i6 at b's */
    if (tl_store_open(db, 0, &st, &d) != TL_OK)
        return -1;
    static const char *const items[] = {"i1", "i2", "i3", "i4", "i5", "i6"};
    for (int i = 0; i < 6; i++) {
        char copy[8];
        snprintf(copy, sizeof(copy), "c%d", i + 1);
        tl_holding_rec h = {
            .copy = copy, .branch = i < 3 ? "A1" : "B1", .available = 1, .item = items[i]};
        if (tl_store_put_holding(st, &h, NULL, &d) != TL_OK)
            return -1;
    }
    tl_store_free(st);
    return tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", db, model);
}

static tl_service *open_service(void)
{
    tl_service_opts o = {.db = db, .model = model, .writable = 1};
    tl_service *s = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    if (tl_service_open(&o, &s, &d) != TL_OK)
        fail_msg("open: %s", d.msg);
    return s;
}

static void test_kept_ids(void **state)
{
    (void)state;
    char buf[TL_PATRON_REF_SIZE];
    assert_string_equal(tl_patron_ref(NULL, NULL, "42", 2, buf, NULL), "42");
    assert_string_equal(tl_patron_ref(NULL, "a", "42", 2, buf, NULL), "a:42");
    uint8_t key[TL_PSEUDONYM_KEY_LEN];
    memset(key, 7, sizeof(key));
    char plain[TL_PATRON_REF_SIZE], other[TL_PATRON_REF_SIZE];
    snprintf(plain, sizeof(plain), "%s", tl_patron_ref(key, NULL, "42", 2, buf, NULL));
    size_t n = 0;
    tl_patron_ref(key, "a", "42", 2, buf, &n);
    assert_int_equal(n, 2 + TL_PSEUDONYM_LEN);
    assert_memory_equal(buf, "a:", 2);
    assert_string_equal(buf + 2, plain); /* the tenant, then the pseudonym of the id */
    snprintf(other, sizeof(other), "%s", tl_patron_ref(key, "b", "42", 2, buf, NULL));
    assert_string_not_equal(other, "a:");
    assert_memory_equal(other, "b:", 2);
    assert_true(tl_tenant_id_ok("central-1_x"));
    assert_false(tl_tenant_id_ok(""));
    assert_false(tl_tenant_id_ok("A"));
    assert_false(tl_tenant_id_ok("a:b"));
    assert_false(tl_tenant_id_ok("abcdefghijklmnopqrstuvwxyz0123456")); /* 33 */
    assert_int_equal(tl_store_tenant_enter("no:colon"), TL_EINVAL);
    assert_string_equal(tl_store_tenant(), "");
}

static tl_err count_tenants(void *ctx, const tl_store_tenant_rec *t)
{
    int *n = ctx;
    if (strcmp(t->id, "b") == 0)
        assert_int_equal(t->n_branches, 2);
    ++*n;
    return TL_OK;
}

static void test_store_tenants_and_patrons(void **state)
{
    (void)state;
    tl_store *st = NULL;
    tl_diag d;
    assert_int_equal(tl_store_open(db, 0, &st, &d), TL_OK);
    int n = 0;
    assert_int_equal(tl_store_tenants(st, count_tenants, &n, &d), TL_OK);
    assert_int_equal(n, 2);
    /* a branch belongs to one tenant */
    const char *taken[] = {"B1"};
    tl_store_tenant_rec t = {"a", "Library A", 1, taken, 1};
    assert_int_equal(tl_store_tenant_put(st, &t, &d), TL_EEXIST);
    assert_non_null(strstr(d.msg, "'b'"));
    tl_store_tenant_rec bad = {"A!", "x", 1, NULL, 0};
    assert_int_equal(tl_store_tenant_put(st, &bad, &d), TL_EINVAL);
    /* five patrons: a's 42, 43, 45 and b's 42, 44 */
    tl_store_counts c;
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.users, 5);
    int found = 0, personalize = 0;
    assert_int_equal(tl_store_user_consent(st, "a:42", 4, &found, &personalize, &d), TL_OK);
    assert_int_equal(found, 1);
    /* by the door: b's 43 does not exist, a's does */
    assert_int_equal(tl_store_tenant_enter("b"), TL_OK);
    assert_int_equal(tl_store_user_consent(st, "43", 2, &found, &personalize, &d), TL_OK);
    assert_int_equal(found, 0);
    assert_int_equal(tl_store_user_consent(st, "a:43", 4, &found, &personalize, &d), TL_OK);
    assert_int_equal(found, 0); /* b's "a:43" is b:a:43: a tenant never names another's */
    assert_int_equal(tl_store_tenant_enter("a"), TL_OK);
    assert_int_equal(tl_store_user_consent(st, "43", 2, &found, &personalize, &d), TL_OK);
    assert_int_equal(found, 1);
    tl_store_tenant_enter(NULL);
    tl_store_free(st);
}

/* user's export as tenant (NULL: the consortium): its JSON, or NULL and *rc. */
static char *export_as(tl_service *s, const char *tenant, const char *user, tl_err *rc)
{
    assert_int_equal(tl_service_act_for_tenant(tenant), TL_OK);
    char *json = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    *rc = tl_service_user_export(s, user, "test", &json, &d);
    tl_service_act_for(NULL);
    return json;
}

static void test_export_erase_both_ways(void **state)
{
    (void)state;
    tl_service *s = open_service();
    tl_err rc;
    char *j = export_as(s, "a", "42", &rc);
    assert_int_equal(rc, TL_OK);
    assert_non_null(strstr(j, "\"i1\""));
    assert_null(strstr(j, "\"i4\"")); /* b's 42 borrowed i4 and i5 */
    free(j);
    j = export_as(s, "b", "42", &rc);
    assert_int_equal(rc, TL_OK);
    assert_non_null(strstr(j, "\"i5\""));
    assert_null(strstr(j, "\"i1\""));
    free(j);
    assert_null(export_as(s, "a", "44", &rc)); /* b's patron, unknown to a */
    assert_int_equal(rc, TL_ENOTFOUND);
    assert_null(export_as(s, "b", "43", &rc)); /* a's patron, unknown to b */
    assert_int_equal(rc, TL_ENOTFOUND);
    /* the consortium sees every tenant's patrons by their kept ids; "42" is none of them */
    j = export_as(s, NULL, "b:44", &rc);
    assert_int_equal(rc, TL_OK);
    assert_non_null(strstr(j, "\"i6\""));
    free(j);
    assert_null(export_as(s, NULL, "42", &rc));
    assert_int_equal(rc, TL_ENOTFOUND);
    /* b erases its 42: a's 42 stays; b cannot erase a's 43 */
    tl_diag d;
    tl_diag_clear(&d);
    tl_erase_report er;
    tl_service_act_for_tenant("b");
    assert_int_equal(tl_service_user_erase(s, "43", "test", &er, &d), TL_ENOTFOUND);
    assert_int_equal(tl_service_user_erase(s, "42", "test", &er, &d), TL_OK);
    assert_int_equal(er.events, 2);
    tl_service_act_for(NULL);
    j = export_as(s, "a", "42", &rc);
    assert_int_equal(rc, TL_OK);
    free(j);
    assert_null(export_as(s, "b", "42", &rc));
    assert_int_equal(rc, TL_ENOTFOUND);
    tl_service_close(s);
}

static void test_tenant_keys(void **state)
{
    (void)state;
    tl_service *s = open_service();
    char key[TL_KEY_LEN + 1], pkey[TL_KEY_LEN + 1];
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(
        tl_service_key_create_for(s, TL_ROLE_APP, NULL, NULL, "nope", "test", key, sizeof(key), &d),
        TL_EINVAL);
    assert_non_null(strstr(d.msg, "no tenant 'nope'"));
    assert_int_equal(
        tl_service_key_create_for(s, TL_ROLE_ADMIN, NULL, NULL, "a", "test", key, sizeof(key), &d),
        TL_OK);
    tl_key_info k;
    assert_int_equal(tl_service_authenticate(s, key, &k), TL_OK);
    assert_string_equal(k.tenant, "a");
    /* a tenant's admin: its patrons' data and records, nothing of the consortium's */
    assert_true(tl_key_allows(&k, TL_KEY_READ_USER, "42"));
    assert_true(tl_key_allows(&k, TL_KEY_OWN_DATA, "42"));
    assert_true(tl_key_allows(&k, TL_KEY_PATRON_RECORDS, NULL));
    assert_false(tl_key_allows(&k, TL_KEY_CATALOGUE, NULL));
    assert_false(tl_key_allows(&k, TL_KEY_TRAIN, NULL));
    assert_false(tl_key_allows(&k, TL_KEY_MANAGE_KEYS, NULL));
    /* it cannot become another tenant's */
    assert_int_equal(tl_service_key_for_tenant(s, &k, "b", &d), TL_EUNSUPPORTED);
    /* a patron key of b's 44: that patron in b, not a's 44 (a has none) nor the consortium's */
    assert_int_equal(tl_service_key_create_for(s, TL_ROLE_PATRON, "44", NULL, "b", "test", pkey,
                                               sizeof(pkey), &d),
                     TL_OK);
    tl_key_info p;
    assert_int_equal(tl_service_authenticate(s, pkey, &p), TL_OK);
    assert_string_equal(p.user, "b:44");
    assert_true(tl_key_allows(&p, TL_KEY_READ_USER, "44"));
    assert_false(tl_key_allows(&p, TL_KEY_READ_USER, "b:44"));
    /* the consortium's admin: everything, and any one tenant on asking */
    assert_int_equal(
        tl_service_key_create_for(s, TL_ROLE_ADMIN, NULL, NULL, NULL, "test", key, sizeof(key), &d),
        TL_OK);
    tl_key_info c;
    assert_int_equal(tl_service_authenticate(s, key, &c), TL_OK);
    assert_string_equal(c.tenant, "");
    assert_true(tl_key_allows(&c, TL_KEY_MANAGE_KEYS, NULL));
    assert_int_equal(tl_service_key_for_tenant(s, &c, "zz", &d), TL_ENOTFOUND);
    assert_int_equal(tl_service_key_for_tenant(s, &c, "Bad!", &d), TL_EINVAL);
    assert_int_equal(tl_service_key_for_tenant(s, &c, "b", &d), TL_OK);
    assert_string_equal(c.tenant, "b");
    assert_false(tl_key_allows(&c, TL_KEY_MANAGE_KEYS, NULL));
    assert_int_equal(tl_service_key_for_tenant(s, &p, "b", &d), TL_OK); /* its own */
    tl_key_info cp = p;
    cp.tenant[0] = '\0';
    assert_int_equal(tl_service_key_for_tenant(s, &cp, "b", &d), TL_EUNSUPPORTED);
    tl_service_close(s);
}

/* The items recommended to user as tenant, as one string "i3 i1 ..." (n at most 6). */
static void recommend_as(tl_service *s, const char *tenant, const char *user, char *out, size_t len)
{
    tl_service_act_for_tenant(tenant);
    tl_rec_query q = {.user = user, .n = 6, .ignore_shelf = 1};
    tl_rec_result r;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_recommend(s, &q, &r, &d);
    tl_service_act_for(NULL);
    if (rc != TL_OK)
        fail_msg("recommend %s as %s: %s", user, tenant ? tenant : "-", d.msg);
    out[0] = '\0';
    for (int i = 0; i < r.n; i++)
        snprintf(out + strlen(out), len - strlen(out), "%s ", r.items[i].item);
    tl_rec_result_free(&r);
}

static void test_recommendations_from_holdings(void **state)
{
    (void)state;
    tl_service *s = open_service();
    char got[128];
    /* the shared model, no filter: a:45's loans lead a's 42 to i4 */
    recommend_as(s, NULL, "a:42", got, sizeof(got));
    assert_non_null(strstr(got, "i4"));
    /* as tenant a: only what a holds (i1..i3), i3 from a:43, and i7 that no one holds */
    recommend_as(s, "a", "42", got, sizeof(got));
    assert_non_null(strstr(got, "i3"));
    assert_non_null(strstr(got, "i7"));
    for (int i = 4; i <= 6; i++) {
        char id[4];
        snprintf(id, sizeof(id), "i%d", i);
        assert_null(strstr(got, id));
    }
    /* as tenant b: only what b holds */
    recommend_as(s, "b", "44", got, sizeof(got));
    assert_true(got[0] != '\0');
    for (int i = 1; i <= 3; i++) {
        char id[4];
        snprintf(id, sizeof(id), "i%d", i);
        assert_null(strstr(got, id));
    }
    /* a's recommendations for b's patron 44 do not exist: a has no 44 */
    tl_service_act_for_tenant("a");
    tl_rec_query q = {.user = "44", .n = 3};
    tl_rec_result r;
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_recommend(s, &q, &r, &d), TL_ENOTFOUND);
    tl_service_act_for(NULL);
    tl_service_close(s);
}

static void test_lists_stay_in_tenant(void **state)
{
    (void)state;
    tl_service *s = open_service();
    tl_diag d;
    tl_diag_clear(&d);
    char id[TL_LIST_ID_MAX + 1];
    tl_service_act_for_tenant("a");
    tl_list_rec l = {.user = "43", .title = "A's picks", .public = 1};
    assert_int_equal(tl_service_list_create(s, &l, id, &d), TL_OK);
    tl_service_act_for(NULL);
    char *json = NULL;
    tl_viewer app = {TL_ROLE_APP, NULL};
    /* a sees it on the item, b does not; b cannot change it */
    tl_service_act_for_tenant("a");
    assert_int_equal(tl_service_list_get(s, id, &app, &json, &d), TL_OK);
    free(json);
    tl_service_act_for_tenant("b");
    json = NULL;
    assert_int_not_equal(tl_service_list_get(s, id, &app, &json, &d), TL_OK);
    free(json);
    tl_list_rec rename = {.title = "B's now", .public = 1};
    assert_int_not_equal(tl_service_list_update(s, id, &rename, &app, &d), TL_OK);
    tl_service_act_for(NULL);
    /* the consortium sees it */
    json = NULL;
    assert_int_equal(tl_service_list_get(s, id, &app, &json, &d), TL_OK);
    assert_non_null(strstr(json, "A's picks"));
    free(json);
    tl_service_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kept_ids),
        cmocka_unit_test(test_store_tenants_and_patrons),
        cmocka_unit_test(test_tenant_keys),
        cmocka_unit_test(test_recommendations_from_holdings),
        cmocka_unit_test(test_lists_stay_in_tenant),
        cmocka_unit_test(test_export_erase_both_ways),
    };
    if (tl_test_on_pg() && !tl_test_pg_start())
        return TL_TEST_SKIP;
    return cmocka_run_group_tests(tests, setup, NULL);
}
