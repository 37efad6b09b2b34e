/* Reading lists and reviews through the service: who sees a private list, list_add and rate
 * events that training and live answers count, co-membership of public lists, and a patron's
 * lists, reviews and feedback in their export and gone with their erasure (and an item's
 * places on lists with the item). With TL_TEST_DB=postgres (test_readinglists_postgres) the
 * stores are PostgreSQL databases. */
#include "pg_server.h"
#include "support.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tailor/service.h"
#include "tailor/store.h"

static void put_item(tl_store *st, const char *id, const char *title)
{
    tl_item_rec r = {.id = id,
                     .id_len = strlen(id),
                     .type = "book",
                     .title = title,
                     .year = TL_ABSENT,
                     .added = TL_ABSENT,
                     .copies = TL_ABSENT,
                     .available = TL_ABSENT};
    tl_diag d;
    assert_int_equal(tl_store_put_item(st, &r, NULL, &d), TL_OK);
}

static const char *make_store(const char *name)
{
    static char db[600];
    snprintf(db, sizeof(db), "%s", tl_test_store(name));
    tl_store *st;
    tl_diag d;
    assert_int_equal(tl_store_open(db, TL_STORE_CREATE, &st, &d), TL_OK);
    assert_int_equal(tl_store_begin(st), TL_OK);
    const char *ids[] = {"b1", "b2", "b3", "b4", "b5"};
    for (int k = 0; k < 5; k++)
        put_item(st, ids[k], ids[k]);
    tl_user_rec u = {.id = "out", .id_len = 3, .personalize = 0, .created = TL_ABSENT};
    assert_int_equal(tl_store_put_user(st, &u, NULL, &d), TL_OK);
    assert_int_equal(tl_store_commit(st), TL_OK);
    tl_store_free(st);
    return db;
}

static tl_service *open_service(const char *db)
{
    tl_service_opts o = {.db = db, .writable = 1};
    tl_service *s = NULL;
    tl_diag d;
    if (tl_service_open(&o, &s, &d) != TL_OK)
        fail_msg("tl_service_open: %s", d.msg);
    return s;
}

static json_t *parse(char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    free(text);
    return j;
}

/* The events of type of user in the store. */
static long long events_of(const char *db, const char *user, const char *type)
{
    tl_diag d;
    long long n = 0;
    char *json = NULL;
    tl_service *s = open_service(db);
    if (tl_service_user_export(s, user, "test", &json, &d) == TL_OK) {
        json_t *j = parse(json);
        json_t *e;
        size_t k;
        json_array_foreach(json_object_get(j, "events"), k, e) n +=
            strcmp(json_string_value(json_object_get(e, "type")), type) == 0;
        json_decref(j);
    }
    tl_service_close(s);
    return n;
}

static void test_lists(void **state)
{
    (void)state;
    const char *db = make_store("lists.db");
    tl_service *s = open_service(db);
    tl_diag d;
    char id[TL_LIST_ID_MAX + 1], id2[TL_LIST_ID_MAX + 1];
    tl_list_rec priv = {.user = "ann", .title = "To read", .public = 0};
    assert_int_equal(tl_service_list_create(s, &priv, id, &d), TL_OK);
    assert_int_equal(id[0], 'L');
    tl_list_rec pub = {.id = "ann-best", .user = "ann", .title = "Best", .public = 1};
    assert_int_equal(tl_service_list_create(s, &pub, id2, &d), TL_OK);
    assert_string_equal(id2, "ann-best");
    assert_int_equal(tl_service_list_create(s, &pub, id2, &d), TL_EEXIST);
    tl_list_rec bad = {.user = "ann", .title = ""};
    assert_int_equal(tl_service_list_create(s, &bad, id2, &d), TL_EINVAL);
    assert_string_equal(d.field, "title");
    assert_int_equal(tl_service_list_add(s, id, "b1", "for the summer", NULL, &d), TL_OK);
    assert_int_equal(tl_service_list_add(s, id, "b2", NULL, NULL, &d), TL_OK);
    assert_int_equal(tl_service_list_add(s, id, "b1", "again", NULL, &d), TL_OK); /* a note */
    assert_int_equal(tl_service_list_add(s, id, "zz", NULL, NULL, &d), TL_ENOTFOUND);
    assert_string_equal(d.field, "item");
    assert_int_equal(tl_service_list_add(s, "nope", "b1", NULL, NULL, &d), TL_ENOTFOUND);
    assert_string_equal(d.field, "list");
    /* public lists with b3: b3 shares two with b4, one with b5 */
    assert_int_equal(tl_service_list_add(s, "ann-best", "b3", NULL, NULL, &d), TL_OK);
    assert_int_equal(tl_service_list_add(s, "ann-best", "b4", NULL, NULL, &d), TL_OK);
    tl_list_rec pub2 = {.id = "bob-best", .user = "bob", .title = "Bob's", .public = 1};
    assert_int_equal(tl_service_list_create(s, &pub2, NULL, &d), TL_OK);
    const char *bobs[] = {"b3", "b4", "b5"};
    for (int k = 0; k < 3; k++)
        assert_int_equal(tl_service_list_add(s, "bob-best", bobs[k], NULL, NULL, &d), TL_OK);
    /* every added item is a list_add event of the owner */
    assert_int_equal(events_of(db, "ann", "list_add"), 4);

    /* who sees the private list: its owner and an admin; an app and another patron do not */
    char ann_ref[600], bob_ref[600];
    snprintf(ann_ref, sizeof(ann_ref), "ann");
    snprintf(bob_ref, sizeof(bob_ref), "bob");
    tl_viewer owner = {TL_ROLE_PATRON, ann_ref}, other = {TL_ROLE_PATRON, bob_ref},
              app = {TL_ROLE_APP, NULL}, admin = {TL_ROLE_ADMIN, NULL};
    char *text = NULL;
    assert_int_equal(tl_service_list_get(s, id, &owner, &text, &d), TL_OK);
    json_t *j = parse(text);
    json_t *items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "note")),
                        "again");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 1), "pos")), 2);
    json_decref(j);
    assert_int_equal(tl_service_list_get(s, id, &admin, &text, &d), TL_OK);
    free(text);
    /* another patron reads a public list, not whose it is; an app knows */
    assert_int_equal(tl_service_list_get(s, "ann-best", &other, &text, &d), TL_OK);
    assert_non_null(strstr(text, "\"user\":null"));
    free(text);
    assert_int_equal(tl_service_list_get(s, "ann-best", &app, &text, &d), TL_OK);
    assert_non_null(strstr(text, "\"user\":\"ann\""));
    free(text);
    assert_int_equal(tl_service_list_get(s, id, &app, &text, &d), TL_ENOTFOUND);
    assert_int_equal(tl_service_list_get(s, id, &other, &text, &d), TL_ENOTFOUND);
    assert_int_equal(tl_service_list_add(s, id, "b3", NULL, &other, &d), TL_ENOTFOUND);
    assert_int_equal(tl_service_list_delete(s, "ann-best", &other, &d), TL_ENOTFOUND);
    assert_int_equal(tl_service_lists(s, "ann", NULL, &app, &text, &d), TL_OK);
    j = parse(text);
    assert_int_equal(json_array_size(json_object_get(j, "lists")), 1);
    json_decref(j);
    assert_int_equal(tl_service_lists(s, "ann", NULL, &owner, &text, &d), TL_OK);
    j = parse(text);
    assert_int_equal(json_array_size(json_object_get(j, "lists")), 2);
    json_decref(j);
    assert_int_equal(tl_service_lists(s, NULL, "b4", &app, &text, &d), TL_OK);
    j = parse(text);
    assert_int_equal(json_array_size(json_object_get(j, "lists")), 2);
    json_decref(j);
    /* made private, a list leaves the public listings */
    tl_list_rec upd = {.title = "Best of all", .public = 0};
    assert_int_equal(tl_service_list_update(s, "bob-best", &upd, NULL, &d), TL_OK);
    assert_int_equal(tl_service_lists(s, NULL, "b5", &app, &text, &d), TL_OK);
    assert_string_equal(text, "{\"lists\":[]}");
    free(text);
    assert_int_equal(tl_service_list_remove(s, id, "b2", &owner, &d), TL_OK);
    assert_int_equal(tl_service_list_remove(s, id, "b2", &owner, &d), TL_ENOTFOUND);
    assert_int_equal(tl_service_list_delete(s, id, &owner, &d), TL_OK);
    assert_int_equal(tl_service_list_get(s, id, NULL, &text, &d), TL_ENOTFOUND);
    tl_service_close(s);
}

static void test_reviews(void **state)
{
    (void)state;
    const char *db = make_store("reviews.db");
    tl_service *s = open_service(db);
    tl_diag d;
    tl_review_rec r = {.user = "ann", .item = "b1", .has_rating = 1, .rating = 4, .public = 1};
    assert_int_equal(tl_service_review_put(s, &r, &d), TL_OK);
    tl_review_rec r2 = {
        .user = "bob", .item = "b1", .has_rating = 1, .rating = 2, .body = "meh", .public = 0};
    assert_int_equal(tl_service_review_put(s, &r2, &d), TL_OK);
    tl_review_rec r3 = {.user = "out", .item = "b1", .body = "fine", .public = 1};
    assert_int_equal(tl_service_review_put(s, &r3, &d), TL_OK);
    tl_review_rec bad = {.user = "ann", .item = "b2", .has_rating = 1, .rating = 6};
    assert_int_equal(tl_service_review_put(s, &bad, &d), TL_EINVAL);
    assert_string_equal(d.field, "rating");
    bad.has_rating = 0;
    assert_int_equal(tl_service_review_put(s, &bad, &d), TL_EINVAL);
    bad = (tl_review_rec){.user = "ann", .item = "zz", .has_rating = 1, .rating = 3};
    assert_int_equal(tl_service_review_put(s, &bad, &d), TL_ENOTFOUND);
    /* a rating is a rate event with the rating as its value; the opted-out patron's is none */
    assert_int_equal(events_of(db, "ann", "rate"), 1);
    assert_int_equal(events_of(db, "out", "review"), 0);
    tl_viewer app = {TL_ROLE_APP, NULL}, bob = {TL_ROLE_PATRON, "bob"};
    char *text = NULL;
    assert_int_equal(tl_service_reviews(s, NULL, "b1", &app, &text, &d), TL_OK);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    assert_int_equal(json_array_size(json_object_get(j, "reviews")), 2); /* bob's is private */
    assert_int_equal(json_integer_value(json_object_get(j, "ratings")), 1);
    assert_true(json_real_value(json_object_get(j, "mean_rating")) == 4.0);
    json_decref(j);
    assert_int_equal(tl_service_reviews(s, "bob", NULL, &bob, &text, &d), TL_OK);
    assert_non_null(strstr(text, "\"body\":\"meh\""));
    free(text);
    assert_int_equal(tl_service_review_delete(s, "bob", "b1", &d), TL_OK);
    assert_int_equal(tl_service_review_delete(s, "bob", "b1", &d), TL_ENOTFOUND);
    tl_service_close(s);
}

static void test_export_and_erasure(void **state)
{
    (void)state;
    const char *db = make_store("erase.db");
    tl_service *s = open_service(db);
    tl_diag d;
    tl_list_rec l = {.id = "ann-list", .user = "ann", .title = "Mine", .public = 1};
    assert_int_equal(tl_service_list_create(s, &l, NULL, &d), TL_OK);
    assert_int_equal(tl_service_list_add(s, "ann-list", "b1", "a note", NULL, &d), TL_OK);
    assert_int_equal(tl_service_list_add(s, "ann-list", "b2", NULL, NULL, &d), TL_OK);
    tl_list_rec l2 = {.id = "bob-list", .user = "bob", .title = "His", .public = 1};
    assert_int_equal(tl_service_list_create(s, &l2, NULL, &d), TL_OK);
    assert_int_equal(tl_service_list_add(s, "bob-list", "b2", NULL, NULL, &d), TL_OK);
    tl_review_rec r = {
        .user = "ann", .item = "b1", .has_rating = 1, .rating = 5, .body = "loved", .public = 0};
    assert_int_equal(tl_service_review_put(s, &r, &d), TL_OK);
    tl_path_step_rec steps[] = {{"b1", 1, TL_ABSENT}, {"b2", 2, 1}};
    tl_path_rec p = {"p", "A path", NULL, steps, 2};
    assert_int_equal(tl_service_path_put(s, &p, 1, NULL, &d), TL_OK);
    assert_int_equal(tl_service_path_feedback(s, "p", "b2", "ann", 0, &d), TL_OK);
    char *exp = NULL;
    assert_int_equal(tl_service_user_export(s, "ann", "test", &exp, &d), TL_OK);
    json_t *j = json_loads(exp, 0, NULL);
    free(exp);
    json_t *lists = json_object_get(j, "lists");
    assert_int_equal(json_array_size(lists), 1);
    json_t *items = json_object_get(json_array_get(lists, 0), "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "note")),
                        "a note");
    json_t *rv = json_array_get(json_object_get(j, "reviews"), 0);
    assert_string_equal(json_string_value(json_object_get(rv, "body")), "loved");
    assert_int_equal(json_array_size(json_object_get(j, "path_feedback")), 1);
    json_decref(j);
    /* erased: nothing of ann's is left, bob's list is whole */
    tl_erase_report rep;
    assert_int_equal(tl_service_user_erase(s, "ann", "test", &rep, &d), TL_OK);
    char *text = NULL;
    assert_int_equal(tl_service_list_get(s, "ann-list", NULL, &text, &d), TL_ENOTFOUND);
    assert_int_equal(tl_service_reviews(s, NULL, "b1", NULL, &text, &d), TL_OK);
    assert_string_equal(text, "{\"reviews\":[],\"ratings\":0,\"mean_rating\":null}");
    free(text);
    if (tl_test_on_pg()) { /* no file to read: the rows themselves */
        assert_int_equal(
            tl_test_pg_int("erase", "SELECT count(*) FROM reviews WHERE body = 'loved'"), 0);
        assert_int_equal(
            tl_test_pg_int("erase", "SELECT count(*) FROM list_items WHERE note = 'a note'"), 0);
    } else {
        assert_false(tl_test_file_has(db, "loved"));
        assert_false(tl_test_file_has(db, "a note"));
    }
    assert_int_equal(tl_service_list_get(s, "bob-list", NULL, &text, &d), TL_OK);
    assert_non_null(strstr(text, "\"b2\""));
    free(text);
    /* an item deleted from the catalogue leaves lists and paths */
    assert_int_equal(tl_service_delete_record(s, TL_RECORD_ITEM, "b2", NULL, &d), TL_OK);
    assert_int_equal(tl_service_list_get(s, "bob-list", NULL, &text, &d), TL_OK);
    assert_null(strstr(text, "\"b2\""));
    free(text);
    assert_int_equal(tl_service_path_get(s, "p", &text, &d), TL_OK);
    assert_null(strstr(text, "\"b2\""));
    free(text);
    tl_service_close(s);
}

/* With a pseudonym key, a patron's id never reaches the store through lists, reviews or
 * feedback, and the patron still finds, exports and erases them by their own id. */
static void test_pseudonymized(void **state)
{
    (void)state;
    char path[600];
    snprintf(path, sizeof(path), "%s", tl_test_store("pseudo.db"));
    uint8_t key[TL_PSEUDONYM_KEY_LEN];
    for (int k = 0; k < TL_PSEUDONYM_KEY_LEN; k++)
        key[k] = (uint8_t)(k * 7 + 1);
    tl_store *st;
    tl_diag d;
    tl_store_opts so;
    tl_store_opts_init(&so);
    so.flags = TL_STORE_CREATE;
    so.pseudonym_key = key;
    assert_int_equal(tl_store_open_with(path, &so, &st, &d), TL_OK);
    tl_item_rec r = {.id = "b1",
                     .id_len = 2,
                     .type = "book",
                     .title = "One",
                     .year = TL_ABSENT,
                     .added = TL_ABSENT,
                     .copies = TL_ABSENT,
                     .available = TL_ABSENT};
    assert_int_equal(tl_store_put_item(st, &r, NULL, &d), TL_OK);
    tl_store_free(st);
    tl_service_opts o = {.db = path, .writable = 1, .pseudonym_key = key};
    tl_service *s = NULL;
    assert_int_equal(tl_service_open(&o, &s, &d), TL_OK);
    const char *who = "patron-qq71";
    tl_list_rec l = {.id = "L-1", .user = who, .title = "T", .public = 0};
    assert_int_equal(tl_service_list_create(s, &l, NULL, &d), TL_OK);
    assert_int_equal(tl_service_list_add(s, "L-1", "b1", NULL, NULL, &d), TL_OK);
    tl_review_rec v = {.user = who, .item = "b1", .has_rating = 1, .rating = 3, .public = 1};
    assert_int_equal(tl_service_review_put(s, &v, &d), TL_OK);
    tl_path_step_rec steps[] = {{"b1", 1, TL_ABSENT}};
    tl_path_rec p = {"p", "P", NULL, steps, 1};
    assert_int_equal(tl_service_path_put(s, &p, 1, NULL, &d), TL_OK);
    assert_int_equal(tl_service_path_feedback(s, "p", "b1", who, 1, &d), TL_OK);
    char *text = NULL;
    assert_int_equal(tl_service_lists(s, who, NULL, NULL, &text, &d), TL_OK);
    assert_non_null(strstr(text, "\"id\":\"L-1\""));
    assert_null(strstr(text, who));
    free(text);
    assert_int_equal(tl_service_path_next(s, "p", who, &text, &d), TL_OK);
    assert_non_null(strstr(text, "\"complete\":true")); /* the list_add event counts */
    free(text);
    assert_int_equal(tl_service_user_export(s, who, "test", &text, &d), TL_OK);
    assert_non_null(strstr(text, "\"L-1\""));
    assert_non_null(strstr(text, "\"path_feedback\":[{"));
    free(text);
    tl_service_close(s);
    assert_false(tl_test_file_has(path, who));
    s = NULL;
    assert_int_equal(tl_service_open(&o, &s, &d), TL_OK);
    tl_erase_report rep;
    assert_int_equal(tl_service_user_erase(s, who, "test", &rep, &d), TL_OK);
    assert_int_equal(tl_service_list_get(s, "L-1", NULL, &text, &d), TL_ENOTFOUND);
    tl_service_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_reviews),
        cmocka_unit_test(test_export_and_erasure),
        cmocka_unit_test(test_pseudonymized),
    };
    if (tl_test_on_pg() && !tl_test_pg_start())
        return TL_TEST_SKIP;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
