/* GET /v1/analytics: the collection report (tl_service_analytics), admin keys only. The query
 * string takes the command's options: section, months, since, branch, min_group (at least
 * the server's min-group: a smaller one is raised to it), limit, new_days, few. */
#include <stdlib.h>
#include <string.h>

#include "server/handlers.h"
#include "server/http_json.h"
#include "tailor/service.h"

typedef struct an_ctx {
    tl_analytics_opts o;
    const char *bad, *why;
} an_ctx;

/* a whole number: digits only (the service checks its range) */
static int digits(const char *v, int *out)
{
    if (!*v || strlen(v) > 9 || strspn(v, "0123456789") != strlen(v))
        return -1;
    *out = atoi(v);
    return 0;
}

static enum MHD_Result one(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    an_ctx *c = cls;
    (void)kind;
    if (c->bad)
        return MHD_NO;
    static const char *const ints[] = {"months", "min_group", "limit", "new_days", "few"};
    int *at[] = {&c->o.months, &c->o.min_group, &c->o.limit, &c->o.new_days, &c->o.few};
    v = v ? v : "";
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        if (!strcmp(k, ints[i])) {
            if (digits(v, at[i]) != 0)
                c->bad = k, c->why = "must be a whole number";
            return c->bad ? MHD_NO : MHD_YES;
        }
    if (!strcmp(k, "section"))
        c->o.section = v;
    else if (!strcmp(k, "branch"))
        c->o.branch = v;
    else if (!strcmp(k, "since")) {
        if (tl_parse_time(v, strlen(v), &c->o.since) != 0 || c->o.since <= 0)
            c->bad = k, c->why = "must be Unix seconds or an ISO 8601 date or time after 1970";
    } else {
        c->bad = k;
        c->why = "is not a parameter of this route (section, months, since, branch, min_group, "
                 "limit, new_days, few)";
    }
    return c->bad ? MHD_NO : MHD_YES;
}

void tl__h_analytics(tl_req *r)
{
    an_ctx c = {.bad = NULL};
    tl_analytics_opts_init(&c.o);
    c.o.min_group = 0; /* the server's unless the client asks for more */
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, one, &c);
    if (c.bad) {
        tl__reply_error(r, 400, "invalid", c.bad, -1, "%s %s", c.bad, c.why);
        return;
    }
    tl_diag d;
    tl_diag_clear(&d);
    char *text = NULL;
    tl_err rc = tl_service_analytics(r->srv->svc, &c.o, &text, &d);
    if (rc != TL_OK) {
        tl__reply_failure(r, rc, &d, NULL);
        return;
    }
    size_t n = strlen(text);
    char *body = realloc(text, n + 2); /* a terminal shows the next prompt on a line of its own */
    if (!body) {
        free(text);
        tl__reply_failure(r, TL_ENOMEM, NULL, NULL);
        return;
    }
    memcpy(body + n, "\n", 2);
    tl__reply_text(r, 200, "application/json", body, n + 1);
}
