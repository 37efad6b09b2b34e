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
    const char *const args[] = {"--no-auth", "--quiet", "--db", db, "--model", model, NULL};
    return tl_test_serve_args(s, args, err_path);
}

int tl_test_serve_with(tl_test_server *s, const char *db, const char *model, const char *err_path,
                       int flags, const char *const *extra)
{
    const char *args[32] = {"--db", db, "--model", model};
    int n = 4;
    if (!(flags & TL_TEST_AUTH))
        args[n++] = "--no-auth";
    if (!(flags & TL_TEST_LOG))
        args[n++] = "--quiet";
    for (int k = 0; extra && extra[k] && n < 31; k++)
        args[n++] = extra[k];
    args[n] = NULL;
    return tl_test_serve_args(s, args, err_path);
}

int tl_test_serve_args(tl_test_server *s, const char *const *args, const char *err_path)
{
    const char *argv[36] = {tl_test_bin(), "serve", "--port", "0"};
    int argc = 4;
    for (int k = 0; args[k] && argc < 35; k++)
        argv[argc++] = args[k];
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

long tl_test_request(int port, const char *method, const char *path, const char *const *headers,
                     const char *body, size_t body_len, tl_test_reply *out)
{
    char url[2048];
    buf got = {.p = NULL}, head = {.p = NULL};
    memset(out, 0, sizeof(*out));
    out->status = -1;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    /* no Expect: 100-continue, and no Content-Type but the caller's */
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    h = curl_slist_append(h, "Content-Type:");
    for (int k = 0; headers && headers[k]; k++)
        h = curl_slist_append(h, headers[k]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &head);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    if (curl_easy_perform(c) == CURLE_OK) {
        char *t = NULL;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &t);
        out->ctype = t ? strdup(t) : NULL;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    out->body = got.p;
    out->body_len = got.n;
    out->headers = head.p;
    return out->status;
}

void tl_test_reply_free(tl_test_reply *r)
{
    free(r->body);
    free(r->headers);
    free(r->ctype);
    memset(r, 0, sizeof(*r));
}

long tl_test_http(int port, const char *method, const char *path, const char *ctype,
                  const char *body, size_t body_len, char **body_out, size_t *body_len_out,
                  char **ctype_out)
{
    char ct[128];
    snprintf(ct, sizeof(ct), "Content-Type: %s", ctype ? ctype : "");
    const char *const headers[] = {ctype ? ct : NULL, NULL};
    tl_test_reply r;
    long status = tl_test_request(port, method, path, headers, body, body_len, &r);
    if (body_out)
        *body_out = r.body, r.body = NULL;
    if (body_len_out)
        *body_len_out = r.body_len;
    if (ctype_out)
        *ctype_out = r.ctype, r.ctype = NULL;
    tl_test_reply_free(&r);
    return status;
}

long tl_test_http_headers(int port, const char *method, const char *path,
                          const char *const *headers, const char *body, size_t body_len,
                          char **body_out)
{
    tl_test_reply r;
    long status = tl_test_request(port, method, path, headers, body, body_len, &r);
    if (body_out)
        *body_out = r.body, r.body = NULL;
    tl_test_reply_free(&r);
    return status;
}

long tl_test_call(int port, const char *key, const char *method, const char *path, const char *body,
                  char **body_out)
{
    char auth[256];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
    const char *headers[] = {auth, "Content-Type: application/json", NULL};
    return tl_test_http_headers(port, method, path, headers, body, body ? strlen(body) : 0,
                                body_out);
}
