/* Tailor's HTTP JSON server (libmicrohttpd, jansson): the routes of docs/API.md over one
 * tl_service. This header is what the CLI (`tailor serve`) sees: the configuration and the one
 * table of its settings, the server's lifecycle and the list of routes. The server never opens
 * a store or a model itself; the caller hands it a service. */
#ifndef TL_SERVER_H
#define TL_SERVER_H

#include <stddef.h>

#include "tailor/error.h"
#include "tailor/service.h"

/* What one server does. Strings are owned (tl_server_config_release frees them). */
typedef struct tl_server_config {
    char *bind;           /* the address to listen on (IPv4 or IPv6, numeric) */
    int port;             /* 0 = any free port (tl_server_port says which) */
    int threads;          /* worker threads (libmicrohttpd's thread pool) */
    long long max_body;   /* bytes of one request body */
    int max_batch;        /* events in one POST /v1/events */
    int max_depth;        /* nesting of a JSON body */
    char *cors_origin;    /* Access-Control-Allow-Origin, or NULL: no CORS headers */
    int request_timeout;  /* seconds a connection may stay idle (slow clients) */
    int max_connections;  /* open connections at once */
    int rate_limit;       /* requests a second per key or client address (0 = no limit) */
    int rate_burst;       /* tokens of a full bucket (0 = rate_limit) */
    int retrain_events;   /* for the service: train after this many new events (0 = never) */
    int retrain_seconds;  /* ... and this often while events arrive (0 = no schedule) */
    int retention_hours;  /* run the retention job this often (0 = never) */
    int quiet;            /* no per-request log lines (benchmarks) */
    char *db, *model;     /* the store (NULL: none) and the model file, for the service */
    char *pseudonym_key;  /* the file of the store's pseudonym key (NULL: none) */
    char *models;         /* more models a request may pick (model=NAME): "FILE" or "NAME=FILE",
                             comma-separated (NULL: none) */
    char *segment_attr;   /* the patrons' attribute of the homepage's group row */
    int min_group;        /* k: the fewest patrons behind a group's count */
    char *calendar;       /* the academic calendar's file (NULL: none) */
    char *search_weight;  /* catalogue search: the patron's profile against the text, "0".."1" */
    int search_cache;     /* catalogue search: answers kept (0 = none) */
    char *row_policy;     /* the homepage's row order: "fixed" or "bandit" */
    char *bandit_p_min;   /* the bandits' least probability, "0".."0.1" */
    int attribution_days; /* a loan's attribution window */
    char *impressions;    /* "on" (the default) or "off": log impressions */
    int read_only;        /* the store is opened read-only: POST /v1/events answers 503 */
    int no_auth;          /* serve without authentication (no API keys asked for) */
    /* New-arrival alerts: the unsubscribe route as patrons reach it (links in digests and
     * previews; NULL: the default of tl_digest_query), and the digest's schedule, which the
     * program runs (tailor serve): every digest_every seconds (0: never) to digest_out (a
     * directory) or digest_smtp (a URL), From digest_from. Strings must outlive the server. */
    char *unsubscribe_url, *digest_out, *digest_smtp, *digest_from;
    int digest_every;
    /* Where the log goes: one JSON object per line, without the newline (the server never
     * prints). NULL = nowhere. Called from any worker thread. Not a setting of the table. */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
} tl_server_config;

typedef enum tl_setting_type {
    TL_SETTING_STR,  /* char *, never empty */
    TL_SETTING_INT,  /* int (or long long for max-body) in [min, max] */
    TL_SETTING_BOOL, /* int 0/1: true, yes, on, 1 / false, no, off, 0; always off by default */
} tl_setting_type;

/* One setting: the same table drives the defaults, the config file, the environment
 * ($TAILOR_<NAME> with '-' as '_'), the command line and its --help. */
typedef struct tl_server_setting {
    const char *name; /* "port": the flag --port, the file key port, $TAILOR_PORT */
    tl_setting_type type;
    const char *arg; /* the value's name in help ("N") */
    const char *def; /* the default as text, NULL for none */
    long long min, max;
    size_t offset;    /* in tl_server_config */
    int wide;         /* TL_SETTING_INT stored as long long */
    const char *help; /* one sentence */
} tl_server_setting;

/* Every setting, ending with a {NULL} entry. */
extern const tl_server_setting tl_server_settings[];

/* The setting called name ('_' and '-' alike), or NULL. */
const tl_server_setting *tl_server_setting_find(const char *name);

/* Fills c with the defaults of the table: TL_OK, or TL_ENOMEM (c holds nothing then). */
tl_err tl_server_config_init(tl_server_config *c);
/* Frees c's strings; c can be initialized again. */
void tl_server_config_release(tl_server_config *c);
/* Sets s from text, checked against its type and range. TL_EINVAL with d (field = the
 * setting's name) saying why; TL_ENOMEM. c is unchanged on error. */
tl_err tl_server_config_set(tl_server_config *c, const tl_server_setting *s, const char *text,
                            tl_diag *d);

/* One structured log line through c->log (nothing when it is NULL), as the server writes its
 * own: {"ts", "level", "what", "message"}. For the caller's events (start, stop, training), so
 * that the whole log is JSON lines. Any thread. */
void tl_server_log(const tl_server_config *c, const char *level, const char *what,
                   const char *message);

typedef struct tl_server tl_server;

/* Starts listening on cfg's address with cfg->threads workers that serve from svc (which must
 * outlive the server). cfg is copied. Errors: TL_EINVAL (a bad bind address or setting), TL_EIO
 * (the port is taken, or the daemon would not start: d says why), TL_ENOMEM. */
tl_err tl_server_start(const tl_server_config *cfg, tl_service *svc, tl_server **out, tl_diag *d);
/* The port the server listens on (the chosen one when cfg->port was 0). */
int tl_server_port(const tl_server *s);
/* Graceful stop: accepts no new connection, lets the requests in flight finish (waiting at
 * most the request timeout), then stops the workers and frees s. NULL does nothing. */
void tl_server_stop(tl_server *s);

/* One route of the server, as docs/API.md (and a later OpenAPI document) lists it. */
typedef struct tl_server_route {
    const char *method;  /* "GET", "POST" */
    const char *pattern; /* "/v1/users/{id}/recommendations" */
} tl_server_route;

/* The i-th route of the one routing table, or NULL past the last. */
const tl_server_route *tl_server_route_at(size_t i);

#endif
