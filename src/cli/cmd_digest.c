/* New-arrival alerts from the command line: `tailor subscription set USER --alerts on|off
 * [--email ADDR]` (a patron's opt-in, audited) and `tailor digest --since 7d (--out DIR |
 * --smtp URL)` (one message per patron with alerts on). The service does the work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "tailor/service.h"

/* ---- tailor subscription ----------------------------------------------------------------- */

typedef struct sub_args {
    const char *alerts, *email;
} sub_args;

static const tl_opt sub_opts[] = {
    {"alerts", 0, TL_OPT_STR, "on|off", NULL, 0, 0, TL_OPT_AT(sub_args, alerts),
     "new-arrival alerts by e-mail"},
    {"email", 0, TL_OPT_STR, "ADDR", NULL, 0, 0, TL_OPT_AT(sub_args, email),
     "the patron's address (none: removes it)"},
    {.name = NULL},
};

static const tl_cmd_def sub_def = {
    .name = "subscription",
    .synopsis = "subscription set ID [--alerts on|off] [--email ADDR|none]",
    .about = "A patron's subscription to new-arrival alerts (`tailor digest`). The address is\n"
             "personal data: `tailor user export` shows it and `tailor user erase` removes it.\n"
             "Every change is in the audit log (without the address).",
    .opts = sub_opts,
    .min_args = 2,
    .max_args = 2,
};

static int sub_run(const tl_cli *cli, int argc, char **argv)
{
    sub_args a = {NULL, NULL};
    int first, code = tl_opt_parse(&sub_def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    const char *sub = argv[first], *id = argv[first + 1];
    if (strcmp(sub, "set") != 0)
        return tl_opt_usage_error(&sub_def, "unknown subcommand '%s': set", sub);
    int alerts = -1;
    if (a.alerts && (alerts = strcmp(a.alerts, "on") == 0    ? 1
                              : strcmp(a.alerts, "off") == 0 ? 0
                                                             : -2) == -2)
        return tl_opt_usage_error(&sub_def, "--alerts: expected on or off, got '%s'", a.alerts);
    const char *email = a.email && strcmp(a.email, "none") == 0 ? "" : a.email;
    if (alerts < 0 && !email)
        return tl_opt_usage_error(&sub_def, "nothing to set: give --alerts or --email");
    tl_diag d;
    tl_diag_clear(&d);
    tl_service_opts so = {.db = cli->db_path, .writable = 1};
    tl_service *svc = NULL;
    tl_err rc = tl_cli_service_open(cli, &so, &svc, &d);
    if (rc != TL_OK)
        return tl_cli_fail("subscription set", rc, &d);
    char who[300];
    rc = tl_service_subscription_set(svc, id, alerts, email, tl_cli_actor(who, sizeof(who)), &d);
    if (rc == TL_OK)
        printf("patron %s: alerts %s%s\n", id,
               alerts < 0 ? "unchanged"
               : alerts   ? "on"
                          : "off",
               !email   ? ""
               : *email ? ", address set"
                        : ", address removed");
    code = rc == TL_OK ? TL_EXIT_OK : tl_cli_fail("subscription set", rc, &d);
    if (rc == TL_ENOTFOUND)
        code = TL_EXIT_DATA;
    tl_service_close(svc);
    return code;
}

const tl_cmd tl_cmd_subscription = {&sub_def, "a patron's new-arrival alerts: on, off, address",
                                    sub_run};

/* ---- tailor digest ----------------------------------------------------------------------- */

typedef struct digest_args {
    const char *since, *now, *user, *out, *smtp, *from, *auth, *unsub;
    int starttls, limit;
} digest_args;

static const tl_opt digest_opts[] = {
    {"since", 0, TL_OPT_STR, "7d|DATE", NULL, 0, 0, TL_OPT_AT(digest_args, since),
     "items added since then: 7d, 12h, YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or Unix seconds"},
    {"now", 0, TL_OPT_STR, "DATE", NULL, 0, 0, TL_OPT_AT(digest_args, now),
     "the end of the window (default: the clock): the same store and window give the same mail"},
    {"user", 0, TL_OPT_STR, "ID", NULL, 0, 0, TL_OPT_AT(digest_args, user),
     "this patron only (subscribed or not: a preview)"},
    {"out", 'o', TL_OPT_STR, "DIR", NULL, 0, 0, TL_OPT_AT(digest_args, out),
     "write one PATRON.eml per patron into DIR (made when missing)"},
    {"smtp", 0, TL_OPT_STR, "URL", NULL, 0, 0, TL_OPT_AT(digest_args, smtp),
     "send through this server: smtp://HOST[:PORT] or smtps://HOST[:PORT]"},
    {"starttls", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(digest_args, starttls),
     "require STARTTLS on smtp://"},
    {"smtp-auth", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(digest_args, auth),
     "a file whose first line is USER:PASSWORD (else $TAILOR_SMTP_USER and "
     "$TAILOR_SMTP_PASSWORD)"},
    {"from", 0, TL_OPT_STR, "ADDR", "Tailor <tailor@localhost>", 0, 0, TL_OPT_AT(digest_args, from),
     "the From header"},
    {"unsubscribe-url", 0, TL_OPT_STR, "URL", "http://127.0.0.1:8080/v1/unsubscribe", 0, 0,
     TL_OPT_AT(digest_args, unsub), "the server's /v1/unsubscribe as patrons reach it"},
    {"limit", 'n', TL_OPT_INT, "N", "10", 1, TL_DIGEST_MAX_N, TL_OPT_AT(digest_args, limit),
     "items per patron"},
    {.name = NULL},
};

static const tl_cmd_def digest_def = {
    .name = "digest",
    .synopsis = "digest --since 7d|DATE [--now DATE] [--user ID] (--out DIR | --smtp URL)",
    .about = "New-arrival alerts: for each patron with alerts on (`tailor subscription set`),\n"
             "the items added in the window that match what they borrowed (similar titles,\n"
             "creators and subjects, else a shared subject), each with its reason, and the\n"
             "library events starting in the next window, as one e-mail (plain text and HTML,\n"
             "with a signed unsubscribe link). Patrons who opted out of personalization, or\n"
             "have no loans, get the newest arrivals. Exits 1 naming every patron whose\n"
             "message could not be written or sent.",
    .opts = digest_opts,
    .min_args = 0,
    .max_args = 0,
};

/* USER:PASSWORD from the first line of path into user/pass (malloc'd). */
static int read_auth(const char *path, char **user, char **pass)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    if (!f)
        return -1;
    char *got = fgets(line, sizeof(line), f);
    fclose(f);
    char *colon = got ? strchr(line, ':') : NULL;
    if (!colon)
        return -1;
    line[strcspn(line, "\r\n")] = '\0';
    *colon = '\0';
    *user = strdup(line);
    *pass = strdup(colon + 1);
    memset(line, 0, sizeof(line));
    return *user && *pass ? 0 : -1;
}

static int digest_run(const tl_cli *cli, int argc, char **argv)
{
    digest_args a = {0};
    int first, code = tl_opt_parse(&digest_def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    if (!a.since)
        return tl_opt_usage_error(&digest_def, "--since is required (e.g. --since 7d)");
    if (!a.out == !a.smtp)
        return tl_opt_usage_error(&digest_def, "give one of --out DIR and --smtp URL");
    tl_diag d;
    tl_diag_clear(&d);
    tl_digest_query q = {.n = a.limit, .user = a.user, .unsubscribe_url = a.unsub};
    q.now = (int64_t)time(NULL);
    if ((a.now && tl_digest_parse_time(a.now, q.now, "now", &q.now, &d) != TL_OK) ||
        tl_digest_parse_time(a.since, q.now, "since", &q.since, &d) != TL_OK)
        return tl_opt_usage_error(&digest_def, "--%s: %s", d.field, d.msg);
    char *user = NULL, *pass = NULL;
    if (a.auth && read_auth(a.auth, &user, &pass) != 0) {
        fprintf(stderr, "tailor: digest: --smtp-auth %s: expected a first line USER:PASSWORD\n",
                a.auth);
        free(user);
        free(pass);
        return TL_EXIT_FAIL;
    }
    tl_digest_out o = {.dir = a.out,
                       .smtp_url = a.smtp,
                       .starttls = a.starttls,
                       .user = user ? user : getenv("TAILOR_SMTP_USER"),
                       .password = pass ? pass : getenv("TAILOR_SMTP_PASSWORD"),
                       .from = a.from};
    tl_service_opts so = {.db = cli->db_path, .writable = 1};
    tl_service *svc = NULL;
    tl_err rc = tl_cli_service_open(cli, &so, &svc, &d);
    tl_digest_report rep = {0};
    if (rc == TL_OK)
        rc = tl_service_digest_deliver(svc, &q, &o, &rep, &d);
    if (rc == TL_OK || rep.patrons)
        fprintf(stderr,
                "digest: %lld patrons with alerts, %lld messages %s, %lld with nothing new, "
                "%lld failed (%lld new items, %lld upcoming events) in %.1f s\n",
                rep.patrons, rep.sent, a.out ? "written" : "sent", rep.empty, rep.failed,
                rep.new_items, rep.events, rep.seconds);
    if (o.failures)
        fputs(o.failures, stderr);
    code = rc == TL_OK ? TL_EXIT_OK : tl_cli_fail("digest", rc, &d);
    if (rc == TL_EIO && rep.failed)
        code = TL_EXIT_FAIL;
    free(o.failures);
    free(user);
    free(pass);
    tl_service_close(svc);
    return code;
}

const tl_cmd tl_cmd_digest = {&digest_def, "new-arrival alerts: one e-mail per subscribed patron",
                              digest_run};
