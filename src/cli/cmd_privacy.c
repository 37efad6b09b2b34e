/* A patron's rights and the library's accountability from the command line: `tailor user
 * export|erase ID`, `tailor consent set ID on|off [--retention DAYS|none]`, `tailor retention
 * run` and `tailor auditlog list|verify`. Each goes through the service, which logs it. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "tailor/service.h"

const char *tl_cli_actor(char *buf, size_t len)
{
    struct passwd *pw = getpwuid(geteuid());
    snprintf(buf, len, "cli:%s", pw && pw->pw_name ? pw->pw_name : "unknown");
    return buf;
}

static tl_service *open_writable(const tl_cli *cli, const char *what, int *code)
{
    return tl_cli_lib_service(cli, what, code);
}

/* ---- tailor user ------------------------------------------------------------------------- */

static const tl_opt no_opts[] = {{.name = NULL}};

static const tl_cmd_def user_def = {
    .name = "user",
    .synopsis = "user export ID\n"
                "       tailor user erase ID",
    .about = "A patron's data. export prints everything the store holds about the patron as\n"
             "one JSON object (profile, events, searches, consent history). erase removes all\n"
             "of it in one transaction, overwritten in the file, and the patron's own API keys;\n"
             "a server on the store answers 404 for the patron at once and trains its models\n"
             "again without them. Both are written to the audit log (erase names no patron).",
    .opts = no_opts,
    .min_args = 2,
    .max_args = 2,
};

static int user_run(const tl_cli *cli, int argc, char **argv)
{
    int first, code = tl_opt_parse(&user_def, NULL, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    const char *sub = argv[first], *id = argv[first + 1];
    int export = strcmp(sub, "export") == 0, erase = strcmp(sub, "erase") == 0;
    if (!export && !erase)
        return tl_opt_usage_error(&user_def, "unknown subcommand '%s': export or erase", sub);
    if (!*id)
        return tl_opt_usage_error(&user_def, "%s needs the patron's ID", sub);
    tl_service *svc = open_writable(cli, export ? "user export" : "user erase", &code);
    if (!svc)
        return code;
    char who[300];
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc;
    if (export) {
        char *json = NULL;
        rc = tl_service_user_export(svc, id, tl_cli_actor(who, sizeof(who)), &json, &d);
        if (rc == TL_OK && (printf("%s\n", json) < 0 || fflush(stdout) != 0))
            rc = TL_EIO;
        free(json);
    } else {
        tl_erase_report rep;
        rc = tl_service_user_erase(svc, id, tl_cli_actor(who, sizeof(who)), &rep, &d);
        if (rc == TL_OK)
            printf("erased patron %s: %lld events%s\n", id, rep.events,
                   rep.scrubbed ? "" : " (the write-ahead log is emptied at the next checkpoint)");
    }
    code = rc == TL_OK ? TL_EXIT_OK : tl_cli_fail(export ? "user export" : "user erase", rc, &d);
    if (rc == TL_ENOTFOUND)
        code = TL_EXIT_DATA;
    tl_service_close(svc);
    return code;
}

const tl_cmd tl_cmd_user = {&user_def, "a patron's data: export it, erase it", user_run};

/* ---- tailor consent ---------------------------------------------------------------------- */

typedef struct consent_args {
    const char *retention;
} consent_args;

static const tl_opt consent_opts[] = {
    {"retention", 0, TL_OPT_STR, "DAYS|none", NULL, 0, 0, TL_OPT_AT(consent_args, retention),
     "keep the patron's events this many days (0: none beyond aggregates; none: no window)"},
    {.name = NULL},
};

static const tl_cmd_def consent_def = {
    .name = "consent",
    .synopsis = "consent set ID on|off [--retention DAYS|none]",
    .about = "A patron's consent to personalization, and how long their events are kept.\n"
             "off: the patron gets answers that are not personal from the next request on,\n"
             "and `tailor retention run` deletes their events. Every change is kept in the\n"
             "patron's consent history (exported with the patron) and in the audit log.",
    .opts = consent_opts,
    .min_args = 3,
    .max_args = 3,
};

static int consent_run(const tl_cli *cli, int argc, char **argv)
{
    consent_args a = {NULL};
    int first, code = tl_opt_parse(&consent_def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    const char *sub = argv[first], *id = argv[first + 1], *onoff = argv[first + 2];
    if (strcmp(sub, "set") != 0)
        return tl_opt_usage_error(&consent_def, "unknown subcommand '%s': set", sub);
    int on = strcmp(onoff, "on") == 0;
    if (!on && strcmp(onoff, "off") != 0)
        return tl_opt_usage_error(&consent_def, "expected on or off, got '%s'", onoff);
    long long days = TL_ABSENT;
    if (a.retention && strcmp(a.retention, "none") == 0) {
        days = -1;
    } else if (a.retention) {
        int64_t v;
        const char *why;
        if (tl_opt_parse_i64(a.retention, 0, 36500, &v, &why) != 0)
            return tl_opt_usage_error(&consent_def, "--retention: %s (0..36500 days, or none)",
                                      why);
        days = v;
    }
    tl_service *svc = open_writable(cli, "consent set", &code);
    if (!svc)
        return code;
    char who[300];
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_consent_set(svc, id, on, days, tl_cli_actor(who, sizeof(who)), &d);
    if (rc == TL_OK)
        printf("patron %s: personalization %s%s\n", id, on ? "on" : "off",
               days == TL_ABSENT ? ""
               : days < 0        ? ", no retention window"
                                 : ", retention window set");
    code = rc == TL_OK ? TL_EXIT_OK : rc == TL_ENOTFOUND ? TL_EXIT_DATA : TL_EXIT_FAIL;
    if (rc != TL_OK)
        tl_cli_fail("consent set", rc, &d);
    tl_service_close(svc);
    return code;
}

const tl_cmd tl_cmd_consent = {&consent_def, "a patron's consent and retention window",
                               consent_run};

/* ---- tailor retention -------------------------------------------------------------------- */

static const tl_cmd_def retention_def = {
    .name = "retention",
    .synopsis = "retention run",
    .about = "Deletes the events past each patron's retention window (tailor consent set\n"
             "--retention) and every event of patrons who opted out of personalization; the\n"
             "server runs the same job on its own schedule. Logged in the audit log.",
    .opts = no_opts,
    .min_args = 1,
    .max_args = 1,
};

static int retention_run(const tl_cli *cli, int argc, char **argv)
{
    int first, code = tl_opt_parse(&retention_def, NULL, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    if (strcmp(argv[first], "run") != 0)
        return tl_opt_usage_error(&retention_def, "unknown subcommand '%s': run", argv[first]);
    tl_service *svc = open_writable(cli, "retention run", &code);
    if (!svc)
        return code;
    char who[300];
    long long removed = 0;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_retention_run(svc, tl_cli_actor(who, sizeof(who)), &removed, &d);
    if (rc == TL_OK)
        printf("deleted %lld expired events\n", removed);
    code = rc == TL_OK ? TL_EXIT_OK : tl_cli_fail("retention run", rc, &d);
    tl_service_close(svc);
    return code;
}

const tl_cmd tl_cmd_retention = {&retention_def, "delete events past their retention window",
                                 retention_run};

/* ---- tailor auditlog --------------------------------------------------------------------- */

typedef struct log_args {
    int json;
} log_args;

static const tl_opt log_opts[] = {
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(log_args, json),
     "list: one JSON object a line; verify: one JSON object"},
    {.name = NULL},
};

static const tl_cmd_def log_def = {
    .name = "auditlog",
    .synopsis = "auditlog list|verify [--json]",
    .about = "The audit log: exports, erasures, consent changes, retention runs and key changes,\n"
             "with who, what and when. Each entry's hash covers the one before it; verify\n"
             "recomputes the chain and exits 1 naming the first entry that does not follow\n"
             "(an edit, an insertion or a removal).",
    .opts = log_opts,
    .min_args = 1,
    .max_args = 1,
};

static tl_err print_entry(void *ctx, const tl_audit_entry *e)
{
    const log_args *a = ctx;
    if (a->json) {
        json_t *j = json_pack("{s:I, s:I, s:s, s:s, s:s?, s:s?, s:s}", "seq", (json_int_t)e->seq,
                              "ts", (json_int_t)e->ts, "actor", e->actor, "action", e->action,
                              "target", e->target, "detail", e->detail, "hash", e->hash);
        char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (!t)
            return TL_ENOMEM;
        printf("%s\n", t);
        free(t);
        return TL_OK;
    }
    char when[32];
    time_t tt = (time_t)e->ts;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(when, sizeof(when), "-");
    printf("%6lld %s %-20s %-10s %s%s%s\n", e->seq, when, e->actor, e->action,
           e->target ? e->target : "-", e->detail ? "  " : "", e->detail ? e->detail : "");
    return TL_OK;
}

static int log_run(const tl_cli *cli, int argc, char **argv)
{
    log_args a = {0};
    int first, code = tl_opt_parse(&log_def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    int list = strcmp(argv[first], "list") == 0, verify = strcmp(argv[first], "verify") == 0;
    if (!list && !verify)
        return tl_opt_usage_error(&log_def, "unknown subcommand '%s': list or verify", argv[first]);
    tl_diag d;
    tl_diag_clear(&d);
    tl_service_opts so = {.db = cli->db_path};
    tl_service *svc = NULL;
    tl_err rc = tl_cli_service_open(cli, &so, &svc, &d);
    if (rc != TL_OK)
        return tl_cli_fail("auditlog", rc, &d);
    tl_audit_check c;
    rc = list ? tl_service_audit_each(svc, print_entry, &a, &d)
              : tl_service_audit_verify(svc, &c, &d);
    if (rc == TL_OK && verify) {
        if (a.json)
            printf("{\"entries\":%lld,\"intact\":%s,\"broken_at\":%lld}\n", c.entries,
                   c.broken_at ? "false" : "true", c.broken_at);
        else if (c.broken_at)
            printf("the audit log is broken at entry %lld (of %lld): it was edited, or an entry "
                   "was inserted or removed\n",
                   c.broken_at, c.entries);
        else
            printf("the audit log holds: %lld entries, each chained to the one before\n",
                   c.entries);
    }
    code = rc != TL_OK             ? tl_cli_fail("auditlog", rc, &d)
           : verify && c.broken_at ? TL_EXIT_DATA
                                   : TL_EXIT_OK;
    tl_service_close(svc);
    return code;
}

const tl_cmd tl_cmd_auditlog = {&log_def, "the audit log: list it, verify its chain", log_run};
