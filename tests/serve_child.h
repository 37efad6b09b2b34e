/* `tailor serve` as a child process, and one HTTP request through libcurl, for the tests that
 * talk to a real server (test_server, test_server_auth, test_openapi, test_server_kill,
 * test_server_errors, test_server_catalogue). Nothing here asserts: client threads
 * call tl_test_http too. curl_global_init must have run before. */
#ifndef TL_TESTS_SERVE_CHILD_H
#define TL_TESTS_SERVE_CHILD_H

#include <stddef.h>
#include <sys/types.h>

typedef struct tl_test_server {
    pid_t pid; /* 0 when none runs */
    int port;
} tl_test_server;

/* Starts `tailor serve --no-auth --quiet --port 0 --db DB --model MODEL`, its stderr going to
 * err_path, and waits (15 s at most) for its first line. 0, or -1 (nothing left running). */
int tl_test_serve(tl_test_server *s, const char *db, const char *model, const char *err_path);
/* The same with the arguments after `tailor serve --port 0` given (a NULL-terminated list of
 * at most 30). */
int tl_test_serve_args(tl_test_server *s, const char *const *args, const char *err_path);
/* The same with flags and more arguments (a NULL-terminated list, or NULL). TL_TEST_AUTH asks
 * for API keys (no --no-auth); TL_TEST_LOG keeps the request log on stderr (no --quiet) for the
 * tests that read it. */
enum { TL_TEST_AUTH = 1, TL_TEST_LOG = 2 };
int tl_test_serve_with(tl_test_server *s, const char *db, const char *model, const char *err_path,
                       int flags, const char *const *extra);
/* Sends sig to the server (SIGKILL, SIGTERM) and reaps it; nothing when none runs. */
void tl_test_serve_stop(tl_test_server *s, int sig);

/* One request to 127.0.0.1:port: the status, or -1 when no answer came (the connection was
 * refused or cut). ctype/body NULL = none. *body_out and *ctype_out (each optional) get the
 * answer's body and Content-Type (malloc'd; NULL when none). */
long tl_test_http(int port, const char *method, const char *path, const char *ctype,
                  const char *body, size_t body_len, char **body_out, size_t *body_len_out,
                  char **ctype_out);
/* The same with header lines of its own (a NULL-terminated list, or NULL: "Content-Type: ...",
 * "Authorization: Bearer ...", "Idempotency-Key: ..."). */
long tl_test_http_headers(int port, const char *method, const char *path,
                          const char *const *headers, const char *body, size_t body_len,
                          char **body_out);

/* One request with key as a bearer token and a JSON body (NULL: none); the answer's body in
 * *body_out (may be NULL; free it). Returns the status. */
long tl_test_call(int port, const char *key, const char *method, const char *path, const char *body,
                  char **body_out);

/* An answer in full (tl_test_request). Strings malloc'd, NUL-terminated, NULL when none. */
typedef struct tl_test_reply {
    long status; /* -1: no answer */
    char *body, *headers, *ctype;
    size_t body_len;
} tl_test_reply;
/* One request with the given header lines (NULL-terminated list, or NULL); the answer goes to
 * *out (tl_test_reply_free it). Returns out->status. */
long tl_test_request(int port, const char *method, const char *path, const char *const *headers,
                     const char *body, size_t body_len, tl_test_reply *out);
void tl_test_reply_free(tl_test_reply *r);

#endif
