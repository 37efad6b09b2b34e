#include "serve_child.h"

#include <curl/curl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

#define START_TIMEOUT_MS 15000

/* The first stdout line, "listening on http://127.0.0.1:PORT", within START_TIMEOUT_MS. */
static int read_port(int fd)
{
    char line[256];
    size_t n = 0;
    while (n + 1 < sizeof(line)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, START_TIMEOUT_MS) <= 0 || read(fd, line + n, 1) != 1)
            return -1;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    const char *prefix = "listening on http://127.0.0.1:";
    if (strncmp(line, prefix, strlen(prefix)) != 0)
        return -1;
    return atoi(line + strlen(prefix));
}

int tl_test_serve(tl_test_server *s, const char *db, const char *model, const char *err_path)
{
    return tl_test_serve_with(s, db, model, err_path, 0, NULL);
}

int tl_test_serve_with(tl_test_server *s, const char *db, const char *model, const char *err_path,
                       int auth, const char *const *extra)
{
    const char *argv[32] = {tl_test_bin(), "serve", "--quiet", "--port", "0",
                            "--db",        db,      "--model", model};
    int argc = 9;
    if (!auth)
        argv[argc++] = "--no-auth";
    for (int k = 0; extra && extra[k] && argc < 31; k++)
        argv[argc++] = extra[k];
    argv[argc] = NULL;
    int out[2];
    s->pid = 0;
    s->port = -1;
    if (pipe(out) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(out[0]);
        close(out[1]);
        return -1;
    }
    if (pid == 0) {
        FILE *err = fopen(err_path, "w");
        dup2(out[1], STDOUT_FILENO);
        if (err)
            dup2(fileno(err), STDERR_FILENO);
        close(out[0]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    s->pid = pid;
    s->port = read_port(out[0]);
    close(out[0]);
    if (s->port <= 0) {
        tl_test_serve_stop(s, SIGKILL);
        return -1;
    }
    return 0;
}

void tl_test_serve_stop(tl_test_server *s, int sig)
{
    if (s->pid > 0) {
        kill(s->pid, sig);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

typedef struct buf {
    char *p;
    size_t n;
} buf;

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
    buf *b = ctx;
    size_t add = size * n;
    char *q = realloc(b->p, b->n + add + 1);
    if (!q)
        return 0;
    memcpy(q + b->n, p, add);
    b->n += add;
    q[b->n] = '\0';
    b->p = q;
    return add;
}

/* One request with the header lines of extra (NULL-terminated, or NULL) and of ctype. */
static long request(int port, const char *method, const char *path, const char *ctype,
                    const char *const *extra, const char *body, size_t body_len, char **body_out,
                    size_t *body_len_out, char **ctype_out)
{
    char url[2048], ct[128];
    buf got = {.p = NULL};
    long status = -1;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    if (ctype) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
        h = curl_slist_append(h, ct);
    }
    for (int k = 0; extra && extra[k]; k++)
        h = curl_slist_append(h, extra[k]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (ctype_out) {
            char *t = NULL;
            curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &t);
            *ctype_out = t ? strdup(t) : NULL;
        }
    } else if (ctype_out) {
        *ctype_out = NULL;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (body_len_out)
        *body_len_out = got.n;
    if (body_out)
        *body_out = got.p;
    else
        free(got.p);
    return status;
}

long tl_test_http(int port, const char *method, const char *path, const char *ctype,
                  const char *body, size_t body_len, char **body_out, size_t *body_len_out,
                  char **ctype_out)
{
    return request(port, method, path, ctype, NULL, body, body_len, body_out, body_len_out,
                   ctype_out);
}

long tl_test_http_headers(int port, const char *method, const char *path,
                          const char *const *headers, const char *body, size_t body_len,
                          char **body_out)
{
    return request(port, method, path, NULL, headers, body, body_len, body_out, NULL, NULL);
}
