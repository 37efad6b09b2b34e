/* Patrons' reading lists and reviews from the command line: `tailor list
 * create|add|remove|show|user|delete` and `tailor review put|delete|show`. The command line
 * acts as an admin: it sees private lists too. Each goes through the service, which also
 * records the list_add and rate events that training counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "tailor/service.h"

/* The service on the store, writable; NULL after printing why (*code). */
tl_service *tl_cli_lib_service(const tl_cli *cli, const char *what, int *code)
{
    tl_diag d;
    tl_diag_clear(&d);
    tl_service_opts so = {.db = cli->db_path, .writable = 1};
    tl_service *svc = NULL;
    tl_err rc = tl_cli_service_open(cli, &so, &svc, &d);
    *code = rc == TL_OK ? TL_EXIT_OK : tl_cli_fail(what, rc, &d);
    return svc;
}

/* Prints json (text, freed here) as it is or pretty with indent 2; TL_EIO when stdout fails. */
tl_err tl_cli_print_json(char *json, int pretty)
{
    int bad = 0;
    if (pretty) {
        json_t *j = json_loads(json, 0, NULL);
        bad = !j || json_dumpf(j, stdout, JSON_INDENT(2)) != 0;
        json_decref(j);
        bad = bad || putchar('\n') == EOF;
    } else {
        bad = printf("%s\n", json) < 0;
    }
    free(json);
    return bad || fflush(stdout) != 0 ? TL_EIO : TL_OK;
}

typedef struct list_args {
    const char *id, *description, *note;
    int public, json;
} list_args;

static const tl_opt list_opts[] = {
    {"id", 0, TL_OPT_STR, "ID", NULL, 0, 0, TL_OPT_AT(list_args, id),
     "create: the list's id (default: a fresh random one)"},
    {"description", 0, TL_OPT_STR, "TEXT", NULL, 0, 0, TL_OPT_AT(list_args, description),
     "create: what the list is about"},
    {"public", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(list_args, public),
     "create: anyone may read the list (default: its owner only)"},
    {"note", 0, TL_OPT_STR, "TEXT", NULL, 0, 0, TL_OPT_AT(list_args, note),
     "add: a note on the item"},
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(list_args, json),
     "show, user: the JSON of the HTTP API"},
    {.name = NULL},
};

static const tl_cmd_def list_def = {
    .name = "list",
    .synopsis = "list create USER TITLE [--id ID] [--public] [--description TEXT]\n"
                "       tailor list add LIST ITEM [--note TEXT]\n"
                "       tailor list remove LIST ITEM\n"
                "       tailor list show LIST [--json]\n"
                "       tailor list user USER [--json]\n"
                "       tailor list delete LIST",
    .about = "Patrons' reading lists. create prints the new list's id. An item added to a list\n"
             "is a list_add event of its owner, counted by training and live recommendations\n"
             "(tailor stats --weights). Public lists feed \"From lists with ...\" on the\n"
             "homepage. user shows a patron's lists (private ones too: the command line is the\n"
             "library's).",
    .opts = list_opts,
    .min_args = 2,
    .max_args = 3,
};

static void print_list(json_t *l, int items)
{
    printf("%s\t%s\t%s\t%lld items\n", json_string_value(json_object_get(l, "id")),
           json_is_true(json_object_get(l, "public")) ? "public" : "private",
           json_string_value(json_object_get(l, "title")),
           (long long)json_integer_value(json_object_get(l, "n_items")));
    json_t *e;
    size_t k;
    if (items)
        json_array_foreach(json_object_get(l, "items"), k, e)
        {
            const char *title = json_string_value(json_object_get(e, "title")),
                       *note = json_string_value(json_object_get(e, "note"));
            printf("  %lld. %s%s%s%s%s\n", (long long)json_integer_value(json_object_get(e, "pos")),
                   json_string_value(json_object_get(e, "item")), title ? "  " : "",
                   title ? title : "", note ? "  -- " : "", note ? note : "");
        }
}

static tl_err show(char *json, int as_json, int one)
{
    if (as_json)
        return tl_cli_print_json(json, 0);
    json_t *j = json_loads(json, 0, NULL);
    free(json);
    if (!j)
        return TL_ENOMEM;
    if (one) {
        print_list(j, 1);
    } else {
        json_t *l;
        size_t k;
        json_array_foreach(json_object_get(j, "lists"), k, l) print_list(l, 0);
    }
    json_decref(j);
    return fflush(stdout) == 0 ? TL_OK : TL_EIO;
}

static int list_run(const tl_cli *cli, int argc, char **argv)
{
    list_args a = {0};
    int first, code = tl_opt_parse(&list_def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    const char *sub = argv[first];
    int nargs = argc - first - 1;
    static const struct {
        const char *name;
        int args;
    } subs[] = {{"create", 2}, {"add", 2}, {"remove", 2}, {"show", 1}, {"user", 1}, {"delete", 1}};
    int which = -1;
    for (int k = 0; k < 6; k++)
        if (strcmp(sub, subs[k].name) == 0)
            which = k;
    if (which < 0)
        return tl_opt_usage_error(&list_def,
                                  "unknown subcommand '%s': create, add, remove, show, user or "
                                  "delete",
                                  sub);
    if (nargs != subs[which].args)
        return tl_opt_usage_error(&list_def, "%s takes %d argument%s", sub, subs[which].args,
                                  subs[which].args > 1 ? "s" : "");
    const char *x = argv[first + 1], *y = nargs > 1 ? argv[first + 2] : NULL;
    char what[32];
    snprintf(what, sizeof(what), "list %s", sub);
    tl_service *svc = tl_cli_lib_service(cli, what, &code);
    if (!svc)
        return code;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = TL_OK;
    char id[TL_LIST_ID_MAX + 1], *json = NULL;
    switch (which) {
    case 0: {
        tl_list_rec l = {a.id, x, y, a.description, a.public};
        if ((rc = tl_service_list_create(svc, &l, id, &d)) == TL_OK)
            printf("%s\n", id);
        break;
    }
    case 1:
        rc = tl_service_list_add(svc, x, y, a.note, NULL, &d);
        break;
    case 2:
        rc = tl_service_list_remove(svc, x, y, NULL, &d);
        break;
    case 3:
        if ((rc = tl_service_list_get(svc, x, NULL, &json, &d)) == TL_OK)
            rc = show(json, a.json, 1);
        break;
    case 4:
        if ((rc = tl_service_lists(svc, x, NULL, NULL, &json, &d)) == TL_OK)
            rc = show(json, a.json, 0);
        break;
    default:
        rc = tl_service_list_delete(svc, x, NULL, &d);
        break;
    }
    code = rc == TL_OK ? TL_EXIT_OK : tl_cli_fail(what, rc, &d);
    tl_service_close(svc);
    return code;
}

const tl_cmd tl_cmd_list = {&list_def, "patrons' reading lists", list_run};

/* ---- tailor review ----------------------------------------------------------------------- */

typedef struct review_args {
    double rating;
    const char *text;
    int private, json;
} review_args;

static const tl_opt review_opts[] = {
    {"rating", 0, TL_OPT_NUM, "R", NULL, 0, TL_RATING_MAX, TL_OPT_AT(review_args, rating),
     "put: the rating, 0 to 5"},
    {"text", 0, TL_OPT_STR, "TEXT", NULL, 0, 0, TL_OPT_AT(review_args, text),
     "put: the review's text"},
    {"private", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(review_args, private),
     "put: only the patron (and the library) may read it"},
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(review_args, json),
     "show: the JSON of the HTTP API"},
    {.name = NULL},
};

static const tl_cmd_def review_def = {
    .name = "review",
    .synopsis = "review put USER ITEM [--rating R] [--text TEXT] [--private]\n"
                "       tailor review delete USER ITEM\n"
                "       tailor review show ITEM [--json]",
    .about = "Patrons' reviews and ratings: one per patron and item (put again to change it).\n"
             "A rating is also a rate event with the rating as its value (a review without\n"
             "one, a review event), so that training weighs it as it weighs imported ratings.",
    .opts = review_opts,
    .min_args = 2,
    .max_args = 3,
};

static int review_run(const tl_cli *cli, int argc, char **argv)
{
    review_args a = {.rating = -1};
    int first, code = tl_opt_parse(&review_def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    const char *sub = argv[first];
    int nargs = argc - first - 1;
    int put = strcmp(sub, "put") == 0, del = strcmp(sub, "delete") == 0,
        sh = strcmp(sub, "show") == 0;
    if (!put && !del && !sh)
        return tl_opt_usage_error(&review_def, "unknown subcommand '%s': put, delete or show", sub);
    if (nargs != (sh ? 1 : 2))
        return tl_opt_usage_error(&review_def, "%s takes %s", sub, sh ? "ITEM" : "USER ITEM");
    if (put && a.rating < 0 && !a.text)
        return tl_opt_usage_error(&review_def, "put needs --rating or --text");
    char what[32];
    snprintf(what, sizeof(what), "review %s", sub);
    tl_service *svc = tl_cli_lib_service(cli, what, &code);
    if (!svc)
        return code;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc;
    if (put) {
        tl_review_rec r = {argv[first + 1], argv[first + 2], a.rating >= 0,
                           a.rating,        a.text,          !a.private};
        rc = tl_service_review_put(svc, &r, &d);
    } else if (del) {
        rc = tl_service_review_delete(svc, argv[first + 1], argv[first + 2], &d);
    } else {
        char *json = NULL;
        rc = tl_service_reviews(svc, NULL, argv[first + 1], NULL, &json, &d);
        if (rc == TL_OK && a.json) {
            rc = tl_cli_print_json(json, 0);
        } else if (rc == TL_OK) {
            json_t *j = json_loads(json, 0, NULL), *e;
            free(json);
            size_t k;
            json_t *mean = json_object_get(j, "mean_rating");
            long long n = (long long)json_integer_value(json_object_get(j, "ratings"));
            if (json_is_number(mean))
                printf("%lld ratings, mean %.2f\n", n, json_number_value(mean));
            else
                printf("%lld ratings\n", n);
            json_array_foreach(json_object_get(j, "reviews"), k, e)
            {
                json_t *r = json_object_get(e, "rating");
                const char *body = json_string_value(json_object_get(e, "body"));
                char num[32] = "-";
                if (json_is_number(r))
                    snprintf(num, sizeof(num), "%g", json_number_value(r));
                printf("%s\t%s\t%s\n", json_string_value(json_object_get(e, "user")), num,
                       body ? body : "");
            }
            json_decref(j);
        }
    }
    code = rc == TL_OK ? TL_EXIT_OK : tl_cli_fail(what, rc, &d);
    tl_service_close(svc);
    return code;
}

const tl_cmd tl_cmd_review = {&review_def, "patrons' reviews and ratings", review_run};
