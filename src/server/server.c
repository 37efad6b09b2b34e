/* The server's lifecycle over libmicrohttpd: a thread pool, each worker with its own epoll
 * (poll where epoll is missing), limits against slow and numerous clients, and a graceful
 * stop that lets the requests in flight finish. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/server_int.h"
#include "util/clock.h"

#define STOP_POLL_NS 5000000L /* how often a stop checks for requests still in flight */

/* Keeps %-escapes in the path and the query: the router and rec_params.c decode them, so that
 * %2F inside an id is not a '/' that splits the path. */
static size_t keep_escapes(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    tl__log_error(cls, "libmicrohttpd", msg);
}

static unsigned random_prefix(void)
{
    unsigned v = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
        v = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
    if (fd >= 0)
        close(fd);
    return v;
}

typedef union addr {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
} addr;

static tl_err parse_bind(const char *bind, int port, addr *a, int *v6, tl_diag *d)
{
    memset(a, 0, sizeof(*a));
    *v6 = 0;
    if (inet_pton(AF_INET, bind, &a->v4.sin_addr) == 1) {
        a->v4.sin_family = AF_INET;
        a->v4.sin_port = htons((uint16_t)port);
        return TL_OK;
    }
    if (inet_pton(AF_INET6, bind, &a->v6.sin6_addr) == 1) {
        a->v6.sin6_family = AF_INET6;
        a->v6.sin6_port = htons((uint16_t)port);
        *v6 = 1;
        return TL_OK;
    }
    tl_diag_set(d, NULL, 0, "bind", "'%.100s' is not a numeric IPv4 or IPv6 address", bind);
    return TL_EINVAL;
}

tl_err tl_server_start(const tl_server_config *cfg, tl_service *svc, tl_server **out, tl_diag *d)
{
    addr a;
    int v6;
    tl_err rc = parse_bind(cfg->bind ? cfg->bind : "127.0.0.1", cfg->port, &a, &v6, d);
    if (rc != TL_OK)
        return rc;
    tl_server *s = calloc(1, sizeof(*s));
    if (!s)
        return TL_ENOMEM;
    s->svc = svc;
    s->cfg = *cfg;
    s->redact_paths = cfg->pseudonym_key != NULL;
    s->cfg.pseudonym_key = NULL; /* the service holds the key; only the fact matters here */
    s->cfg.bind = s->cfg.db = s->cfg.model = NULL; /* used here only, and not ours */
    s->cfg.cors_origin = NULL;
    if (cfg->cors_origin && !(s->cfg.cors_origin = strdup(cfg->cors_origin))) {
        free(s);
        return TL_ENOMEM;
    }
    tl__metrics_init(&s->metrics);
    if (cfg->rate_limit > 0 && !(s->limits = tl__ratelimit_new(cfg->rate_limit, cfg->rate_burst))) {
        free(s->cfg.cors_origin);
        free(s);
        return TL_ENOMEM;
    }
    s->id_prefix = random_prefix();
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                     (MHD_is_feature_supported(MHD_FEATURE_EPOLL) ? MHD_USE_EPOLL : MHD_USE_POLL) |
                     (v6 ? MHD_USE_IPv6 : 0);
    errno = 0;
    s->mhd = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, tl__dispatch, s, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, s, MHD_OPTION_SOCK_ADDR, &a.sa, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)cfg->threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->request_timeout,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections, MHD_OPTION_NOTIFY_COMPLETED,
        tl__completed, s, MHD_OPTION_UNESCAPE_CALLBACK, keep_escapes, NULL, MHD_OPTION_END);
    if (!s->mhd) {
        tl_diag_set(d, NULL, 0, "bind", "cannot listen on %.100s port %d: %s", cfg->bind, cfg->port,
                    errno ? strerror(errno) : "libmicrohttpd would not start");
        tl__ratelimit_free(s->limits);
        free(s->cfg.cors_origin);
        free(s);
        return TL_EIO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    *out = s;
    return TL_OK;
}

int tl_server_port(const tl_server *s)
{
    return s->port;
}

void tl_server_stop(tl_server *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, 1);
    MHD_socket fd = MHD_quiesce_daemon(s->mhd);
    double deadline = tl_now() + s->cfg.request_timeout;
    struct timespec pause = {0, STOP_POLL_NS};
    while (atomic_load(&s->in_flight) > 0 && tl_now() < deadline)
        nanosleep(&pause, NULL);
    MHD_stop_daemon(s->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    tl__ratelimit_free(s->limits);
    free(s->cfg.cors_origin);
    free(s);
}
