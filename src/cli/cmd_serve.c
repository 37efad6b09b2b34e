/* tailor serve: the HTTP JSON API (docs/API.md) over a model and a store. Every setting comes
 * from the server's one table (server/server.h), layered: flags over $TAILOR_<NAME> over the
 * config file over the defaults. Runs until SIGTERM or SIGINT, then stops gracefully. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/serve_config.h"
#include "server/server.h"
#include "tailor/store.h"

#define MAX_SETTINGS 48
#define HELP_MAX 512
#define LOG_LINE_MAX 4096

typedef struct args {
    const char *value[MAX_SETTINGS]; /* STR and INT settings, as typed */
    int on[MAX_SETTINGS];            /* BOOL settings */
    const char *config;
    int check_config;
} args;

/* The option table, made once from the settings table, then --config and --check-config. */
static tl_opt opts[MAX_SETTINGS + 3];
static char helps[MAX_SETTINGS][HELP_MAX];

static const tl_cmd_def def = {
    .name = "serve",
    .synopsis = "serve --model FILE [--db PATH] [--port N] [--bind ADDR] [--no-auth]\n"
                "             [--config FILE] [--threads N] [OPTIONS]",
    .about =
        "Serves recommendations, \"more like this\" and event ingestion as JSON over HTTP\n"
        "(docs/API.md). The first line on stdout is `listening on http://ADDR:PORT`; each\n"
        "request logs one JSON line on stderr. SIGTERM or SIGINT stops it after the requests in\n"
        "flight (exit 0). Every route but GET /v1/health needs an API key from the store\n"
        "(Authorization: Bearer KEY; tailor key create). --no-auth serves without keys, for\n"
        "local trials, and says so loudly.",
    .opts = opts,
    .notes = "Each setting can also be given as an environment variable ($TAILOR_PORT...) or as\n"
             "a `key = value` line of the --config file ($TAILOR_CONFIG); a flag wins over the\n"
             "environment, which wins over the file. Boolean settings take true or false there.",
    .min_args = 0,
    .max_args = 0,
};

/* Settings whose environment variable is the global option's ($TAILOR_DB,
 * $TAILOR_PSEUDONYM_KEY_FILE), which applies when no setting names one. */
static int global_setting(const tl_server_setting *s)
{
    return strcmp(s->name, "db") == 0 || strcmp(s->name, "pseudonym-key") == 0;
}

static void build_opts(void)
{
    if (opts[0].name)
        return;
    int k = 0;
    for (const tl_server_setting *s = tl_server_settings; s->name && k < MAX_SETTINGS; s++, k++) {
        char env[64], range[64] = "";
        tl_serve_env_name(s->name, env, sizeof(env));
        if (s->type == TL_SETTING_INT)
            snprintf(range, sizeof(range), "%lld..%lld; ", s->min, s->max);
        if (global_setting(s)) /* its variable is the global one */
            snprintf(helps[k], HELP_MAX, "%s", s->help);
        else if (s->def)
            snprintf(helps[k], HELP_MAX, "%s\n(default %s; %s$%s)", s->help, s->def, range, env);
        else
            snprintf(helps[k], HELP_MAX, "%s\n(%s$%s)", s->help, range, env);
        int flag = s->type == TL_SETTING_BOOL;
        opts[k] = (tl_opt){s->name,
                           0,
                           flag ? TL_OPT_FLAG : TL_OPT_STR,
                           s->arg,
                           NULL,
                           0,
                           0,
                           flag ? offsetof(args, on) + (size_t)k * sizeof(int)
                                : offsetof(args, value) + (size_t)k * sizeof(const char *),
                           helps[k]};
    }
    opts[k] = (tl_opt){"config",
                       'c',
                       TL_OPT_STR,
                       "FILE",
                       NULL,
                       0,
                       0,
                       TL_OPT_AT(args, config),
                       "read settings from this file first ($TAILOR_CONFIG)"};
    opts[k + 1] = (tl_opt){"check-config",
                           0,
                           TL_OPT_FLAG,
                           NULL,
                           NULL,
                           0,
                           0,
                           TL_OPT_AT(args, check_config),
                           "check the settings (file, environment, flags), print each as\n"
                           "`name = value` and exit (0, or 2 for a bad setting) without\n"
                           "opening the store or the model"};
}

/* --check-config: every setting as the server would use it, a line each, in the syntax of
 * the config file; a setting without a value is a comment. */
static int print_settings(const tl_server_config *c)
{
    for (const tl_server_setting *s = tl_server_settings; s->name; s++) {
        const char *at = (const char *)c + s->offset;
        if (s->type == TL_SETTING_STR) {
            const char *v = *(char *const *)at;
            if (v)
                printf("%s = %s\n", s->name, v);
            else
                printf("# %s (none)\n", s->name);
        } else if (s->type == TL_SETTING_BOOL) {
            printf("%s = %s\n", s->name, *(const int *)at ? "true" : "false");
        } else {
            printf("%s = %lld\n", s->name,
                   s->wide ? *(const long long *)at : (long long)*(const int *)at);
        }
    }
    return fflush(stdout) == 0 && !ferror(stdout) ? TL_EXIT_OK : TL_EXIT_FAIL;
}

/* The flags over what the file and the environment set. */
static int apply_flags(tl_server_config *c, const args *a)
{
    int k = 0;
    for (const tl_server_setting *s = tl_server_settings; s->name; s++, k++) {
        const char *v = s->type == TL_SETTING_BOOL ? (a->on[k] ? "true" : NULL) : a->value[k];
        tl_diag d;
        tl_diag_clear(&d);
        tl_err rc = v ? tl_server_config_set(c, s, v, &d) : TL_OK;
        if (rc != TL_OK)
            return tl_opt_usage_error(&def, "--%s: %s", s->name,
                                      rc == TL_ENOMEM ? tl_strerror(rc) : d.msg);
    }
    return TL_EXIT_OK;
}

/* The store when no setting named one: the global --db or $TAILOR_DB (or ./tailor.db) when
 * that file exists, or a PostgreSQL store; else none, and the model alone answers. */
static int default_db(tl_server_config *c, const tl_cli *cli)
{
    if (c->db)
        return TL_EXIT_OK;
    if (!tl_store_is_postgres(cli->db_path) && access(cli->db_path, F_OK) != 0) {
        char msg[600];
        snprintf(msg, sizeof(msg),
                 "no store at %.400s: serving the model alone (histories from its file; POST "
                 "/v1/events answers 503)",
                 cli->db_path);
        tl_server_log(c, "warning", "start", msg);
        return TL_EXIT_OK;
    }
    tl_server_config_set(c, tl_server_setting_find("db"), cli->db_path, NULL);
    return c->db ? TL_EXIT_OK : tl_cli_fail("serve", TL_ENOMEM, NULL);
}

static int settings(tl_server_config *c, const tl_cli *cli, const args *a)
{
    const char *file = a->config ? a->config : getenv("TAILOR_CONFIG");
    int code;
    if (file && *file && (code = tl_serve_config_file(c, file)) != TL_EXIT_OK)
        return code;
    if ((code = tl_serve_config_env(c)) != TL_EXIT_OK || (code = apply_flags(c, a)) != TL_EXIT_OK)
        return code;
    if (!c->model)
        return tl_opt_usage_error(&def, "needs --model FILE (tailor train --out)");
    if (!c->pseudonym_key && cli->pseudonym_key_file &&
        tl_server_config_set(c, tl_server_setting_find("pseudonym-key"), cli->pseudonym_key_file,
                             NULL) != TL_OK)
        return tl_cli_fail("serve", TL_ENOMEM, NULL);
    int code2 = default_db(c, cli);
    if (code2 == TL_EXIT_OK && !c->no_auth && !c->db) {
        fprintf(stderr, "tailor serve: API keys live in the store, and there is none: pass --db "
                        "PATH (tailor key create makes keys), or --no-auth for a local trial\n");
        return TL_EXIT_USAGE;
    }
    return code2;
}

/* The server's log: one line per write, so that lines of concurrent requests never mix. From
 * the moment the settings are read, everything `tailor serve` says is such a JSON line; only
 * what stops it from starting (a bad setting, a store that will not open) is the plain
 * `tailor serve: ...` of every command. */
static void log_line(void *ctx, const char *line)
{
    char buf[LOG_LINE_MAX];
    (void)ctx;
    size_t n = strlen(line);
    if (n + 1 > sizeof(buf))
        return;
    memcpy(buf, line, n);
    buf[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, buf, n);
    (void)w; /* a closed stderr loses the log, not the request */
}

/* The service's news (trainings, swaps) as lines of the server's log; ctx is the config. */
static void service_log(void *ctx, const char *level, const char *what, const char *message)
{
    tl_server_log(ctx, level, what, message);
}

/* The write end of the pipe the stop signals are told through. */
static int stop_pipe[2] = {-1, -1};

static void on_stop_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    ssize_t n = write(stop_pipe[1], &b, 1); /* async-signal-safe; a full pipe already says stop */
    (void)n;
}

/* The retention job in the server's schedule: every retention-hours (0: never). */
static void run_retention(tl_server_config *c, tl_service *svc)
{
    long long removed = 0;
    tl_diag d;
    tl_diag_clear(&d);
    char msg[400];
    tl_err rc = tl_service_retention_run(svc, "server:schedule", &removed, &d);
    if (rc == TL_OK)
        snprintf(msg, sizeof(msg), "retention: %lld expired events deleted", removed);
    else
        snprintf(msg, sizeof(msg), "retention failed: %s", d.msg[0] ? d.msg : tl_strerror(rc));
    tl_server_log(c, rc == TL_OK ? "info" : "error", "retention", msg);
}

/* The digest in the server's schedule: every digest-every seconds, the items added since the
 * last scheduled run (the store keeps its time). */
static void run_digest(tl_server_config *c, tl_service *svc)
{
    tl_digest_out o = {.dir = c->digest_out,
                       .smtp_url = c->digest_out ? NULL : c->digest_smtp,
                       .from = c->digest_from,
                       .user = getenv("TAILOR_SMTP_USER"),
                       .password = getenv("TAILOR_SMTP_PASSWORD")};
    tl_digest_report rep;
    tl_diag d;
    tl_diag_clear(&d);
    char msg[600];
    tl_err rc = tl_service_digest_scheduled(svc, c->digest_every, c->unsubscribe_url, &o, &rep, &d);
    if (rc == TL_OK)
        snprintf(msg, sizeof(msg),
                 "digest: %lld patrons with alerts, %lld messages, %lld with nothing new",
                 rep.patrons, rep.sent, rep.empty);
    else
        snprintf(msg, sizeof(msg), "digest failed: %.500s", d.msg[0] ? d.msg : tl_strerror(rc));
    tl_server_log(c, rc == TL_OK ? "info" : "error", "digest", msg);
    free(o.failures);
}

static long long ms_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The server's schedule (retention, digests) while it waits for a stop signal, whose number
 * goes to *sig. */
static void wait_for_stop(tl_server_config *c, tl_service *svc, unsigned char *sig)
{
    long long retention_ms = c->retention_hours > 0 && c->db && !c->read_only
                                 ? (long long)c->retention_hours * 3600 * 1000
                                 : -1;
    long long digest_ms =
        c->digest_every > 0 && c->db && !c->read_only && (c->digest_out || c->digest_smtp)
            ? (long long)c->digest_every * 1000
            : -1;
    long long next_retention = ms_now() + retention_ms, next_digest = ms_now() + digest_ms;
    for (;;) {
        long long now = ms_now(), wait = -1;
        if (retention_ms > 0)
            wait = next_retention - now;
        if (digest_ms > 0 && (wait < 0 || next_digest - now < wait))
            wait = next_digest - now;
        struct pollfd p = {.fd = stop_pipe[0], .events = POLLIN};
        /* poll takes an int of milliseconds: longer waits wake up on the way */
        int n = poll(&p, 1, wait < 0 ? -1 : wait > 2000000000 ? 2000000000 : (int)wait);
        if (n > 0 && read(stop_pipe[0], sig, 1) == 1)
            return;
        if (n < 0 && errno != EINTR)
            return; /* cannot wait: stop rather than spin */
        now = ms_now();
        if (retention_ms > 0 && now >= next_retention) {
            run_retention(c, svc);
            next_retention = ms_now() + retention_ms;
        }
        if (digest_ms > 0 && now >= next_digest) {
            run_digest(c, svc);
            next_digest = ms_now() + digest_ms;
        }
    }
}

/* Serves until SIGTERM or SIGINT. The signals are blocked while the server's threads start, so
 * they inherit the mask; threads that libraries start before main (OpenBLAS's pool) cannot be
 * masked, so the signals have a handler that tells this thread through a pipe, wherever they
 * land (with the default action, one landing on such a thread killed the process). */
/* The setting search-personal-weight as a number 0..1 (checked by --check-config too). */
static int search_weight_of(const tl_server_config *c, double *w)
{
    const char *why = NULL;
    *w = TL_SEARCH_WEIGHT;
    if (c->search_weight && tl_opt_parse_num(c->search_weight, 0, 1, w, &why) != 0) {
        fprintf(stderr, "tailor serve: search-personal-weight: '%s' %s (0 to 1)\n",
                c->search_weight, why);
        return TL_EXIT_USAGE;
    }
    return TL_EXIT_OK;
}

/* The settings row-policy and bandit-p-min, checked (by --check-config too). */
static int policy_of(const tl_server_config *c, int *policy, double *p_min)
{
    const char *why = NULL;
    *policy = !c->row_policy || strcmp(c->row_policy, "bandit") == 0 ? TL_ROW_POLICY_BANDIT
                                                                     : TL_ROW_POLICY_FIXED;
    if (c->row_policy && strcmp(c->row_policy, "bandit") && strcmp(c->row_policy, "fixed")) {
        fprintf(stderr, "tailor serve: row-policy: '%s' is not fixed or bandit\n", c->row_policy);
        return TL_EXIT_USAGE;
    }
    if (c->impressions && strcmp(c->impressions, "on") && strcmp(c->impressions, "off")) {
        fprintf(stderr, "tailor serve: impressions: '%s' is not on or off\n", c->impressions);
        return TL_EXIT_USAGE;
    }
    *p_min = TL_BANDIT_P_MIN;
    if (c->bandit_p_min && tl_opt_parse_num(c->bandit_p_min, 0.0001, 0.1, p_min, &why) != 0) {
        fprintf(stderr, "tailor serve: bandit-p-min: '%s' %s (0.0001 to 0.1)\n", c->bandit_p_min,
                why);
        return TL_EXIT_USAGE;
    }
    return TL_EXIT_OK;
}

static int serve(tl_server_config *c)
{
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    if (pipe(stop_pipe) != 0) {
        perror("tailor serve: pipe");
        return TL_EXIT_FAIL;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-response is libmicrohttpd's to handle */
    const char *more[TL_SERVICE_MAX_MODELS];
    char *list = c->models ? strdup(c->models) : NULL;
    int n_more = 0;
    for (char *save = NULL, *tok = list ? strtok_r(list, ",", &save) : NULL; tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (n_more == TL_SERVICE_MAX_MODELS) {
            n_more++; /* too many: the service says how many it takes */
            break;
        }
        more[n_more++] = tok;
    }
    if (c->models && !list)
        return tl_cli_fail("serve", TL_ENOMEM, NULL);
    double search_weight, p_min;
    int policy;
    if (search_weight_of(c, &search_weight) != TL_EXIT_OK ||
        policy_of(c, &policy, &p_min) != TL_EXIT_OK) {
        free(list);
        return TL_EXIT_USAGE;
    }
    tl_service_opts so = {
        .impressions = !c->impressions || strcmp(c->impressions, "off") != 0,
        .row_policy = policy,
        .bandit_p_min = p_min,
        .attribution_days = c->attribution_days,
        .search_weight = search_weight,
        .search_cache = c->search_cache > 0 ? c->search_cache : -1,
        .search_weight_set = 1,
        .db = c->db,
        .model = c->model,
        .more_models = more,
        .min_group = c->min_group,
        .calendar = c->calendar,
        .segment_attribute =
            c->segment_attr && strcmp(c->segment_attr, "none") == 0 ? "" : c->segment_attr,
        .n_more_models = n_more,
        .writable = c->db && !c->read_only,
        .serving = 1,
        .retrain_events = c->retrain_events,
        .retrain_seconds = c->retrain_seconds,
        .log = service_log,
        .log_ctx = c};
    tl_service *svc = NULL;
    tl_server *srv = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_cli_pseudonym_key(c->pseudonym_key, &so.pseudonym_key, &d);
    if (rc == TL_OK)
        rc = tl_service_open(&so, &svc, &d);
    free(list);
    if (rc != TL_OK)
        return tl_cli_fail("serve", rc, &d);
    if ((rc = tl_server_start(c, svc, &srv, &d)) != TL_OK) {
        tl_service_close(svc);
        return tl_cli_fail("serve", rc, &d);
    }
    int v6 = strchr(c->bind, ':') != NULL;
    char url[128], msg[1200];
    snprintf(url, sizeof(url), "http://%s%s%s:%d", v6 ? "[" : "", c->bind, v6 ? "]" : "",
             tl_server_port(srv));
    if (c->no_auth) {
        snprintf(msg, sizeof(msg),
                 "NO AUTHENTICATION (--no-auth): anyone who can reach %s can read every patron's "
                 "recommendations and write events",
                 url);
        tl_server_log(c, "warning", "start", msg);
    }
    printf("listening on %s\n", url); /* stdout's first line: scripts read the port there */
    fflush(stdout);
    snprintf(msg, sizeof(msg), "listening on %s: model %.400s, store %.400s, %d threads", url,
             c->model, c->db ? c->db : "none", c->threads);
    tl_server_log(c, "info", "start", msg);
    pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
    unsigned char b = 0;
    wait_for_stop(c, svc, &b);
    int sig = b;
    tl_server_log(c, "info", "stop",
                  sig == SIGINT ? "SIGINT: stopping after the requests in flight"
                                : "SIGTERM: stopping after the requests in flight");
    tl_server_stop(srv);
    tl_service_close(svc);
    tl_server_log(c, "info", "stop", "stopped");
    return TL_EXIT_OK;
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    build_opts();
    args a;
    memset(&a, 0, sizeof(a));
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    tl_server_config c;
    if (tl_server_config_init(&c) != TL_OK)
        return tl_cli_fail("serve", TL_ENOMEM, NULL);
    c.log = log_line;
    code = settings(&c, cli, &a);
    double w, p_min;
    int policy;
    if (code == TL_EXIT_OK)
        code = search_weight_of(&c, &w);
    if (code == TL_EXIT_OK)
        code = policy_of(&c, &policy, &p_min);
    if (code == TL_EXIT_OK)
        code = a.check_config ? print_settings(&c) : serve(&c);
    tl_server_config_release(&c);
    return code;
}

const tl_cmd tl_cmd_serve = {&def, "the HTTP JSON API (recommendations, events, metrics)", run};
