/* New-arrival digests end to end: patrons opt in (tailor subscription set), `tailor digest`
 * writes one valid MIME message per opted-in patron (only items added in the window, a reason
 * each, upcoming events, a cover link, an unsubscribe link that verifies) to a directory or to
 * an SMTP server this test runs on loopback; a server that refuses a recipient makes the run
 * fail naming the patron; the address is exported and erased with the patron; the demo store
 * has a digest. With TL_TEST_DB=postgres (test_digest_postgres) the store is a PostgreSQL
 * database (the demo's stays a SQLite file). */
#include "pg_server.h"
#include "support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "serve_child.h"
#include "store/sqlite/sqlite_search.h" /* the tokenizer, for a raw connection's writes */
#include "tailor/service.h"
#include "tailor/store.h"

#define NOW "2026-12-01T12:00:00Z"

static char dir[512], db[600];

static void sql(const char *path, const char *text)
{
    if (tl_store_is_postgres(path)) {
        tl_test_pg_int(tl_test_pg_name(path), text);
        return;
    }
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(tl__sq_search_register(h), SQLITE_OK); /* the search index follows */
    char *err = NULL;
    int rc = sqlite3_exec(h, text, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", text, err ? err : "");
    sqlite3_close(h);
}

static long long sql_count(const char *path, const char *text)
{
    if (tl_store_is_postgres(path))
        return tl_test_pg_int(tl_test_pg_name(path), text);
    sqlite3 *h;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, text, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    long long n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(h);
    return n;
}

/* A store: old items, new ones in the window, one before it, two events (one upcoming); p1
 * borrowed a dragon book, p2 (opted out of personalization) a star book, p3 a ship book but
 * has alerts off, p4 has no loans, p5 never subscribed. */
static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "%s", tl_test_tmp("digest"));
    tl_test_sh("rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (tl_test_on_pg()) /* test_digest_postgres: the store is a database */
        snprintf(db, sizeof(db), "%s", tl_test_store("s.db"));
    else
        snprintf(db, sizeof(db), "%s/s.db", dir);
    char path[700];
    snprintf(path, sizeof(path), "%s/items.tsv", dir);
    assert_int_equal(
        tl_test_write(path,
                      "item\ttype\ttitle\tcreators\tsubjects\tadded\n"
                      "o1\tbook\tDragons of Old\tAnn Smith\tFantasy|Dragons\t2020-01-01\n"
                      "o2\tbook\tStars Above\tCarl Sky\tAstronomy\t2020-01-01\n"
                      "o3\tbook\tOld Ships\tSea Man\tHistory|Ships\t2020-01-01\n"
                      "n1\tbook\tDragons <Return> & Rise\tAnn Smith\tFantasy|Dragons\t2026-11-28\n"
                      "n2\tbook\tGalaxies Beyond\tCarl Sky\tAstronomy\t2026-11-29\n"
                      "n3\tbook\tShips of the Line\tSea Man\tHistory|Ships\t2026-11-30\n"
                      "n9\tbook\tDragons Before\tAnn Smith\tFantasy|Dragons\t2026-11-01\n"
                      "ev1\tevent\tAuthor talk: dragons\t\tFantasy\t2026-11-20\n"
                      "ev2\tevent\tPast gathering\t\tFantasy\t2026-11-20\n"),
        0);
    snprintf(path, sizeof(path), "%s/users.csv", dir);
    assert_int_equal(
        tl_test_write(path, "user,personalize\np1,yes\np2,no\np3,yes\np4,yes\np5,yes\n"), 0);
    snprintf(path, sizeof(path), "%s/events.tsv", dir);
    assert_int_equal(tl_test_write(path, "user\titem\ttype\ttimestamp\n"
                                         "p1\to1\tloan\t1700000000\n"
                                         "p3\to3\tloan\t1700000000\n"
                                         "p5\to1\tloan\t1700000000\n"),
                     0);
    assert_int_equal(tl_test_cli("--db '%s' import items '%s/items.tsv' --quiet", db, dir), 0);
    assert_int_equal(tl_test_cli("--db '%s' import users '%s/users.csv' --quiet", db, dir), 0);
    assert_int_equal(tl_test_cli("--db '%s' import events '%s/events.tsv' --quiet", db, dir), 0);
    sql(db, "INSERT INTO item_details(item_id, cover) SELECT id,"
            " 'https://covers.example.org/n1.jpg?a=1&b=2' FROM items WHERE ext_id = 'n1';"
            "INSERT INTO item_details(item_id, starts, place) SELECT id, 1796493600, 'Main hall'"
            " FROM items WHERE ext_id = 'ev1';" /* 2026-12-05T18:00Z */
            "INSERT INTO item_details(item_id, starts) SELECT id, 1795478400 FROM items"
            " WHERE ext_id = 'ev2';"); /* 2026-11-24: past */
    const char *subs[] = {
        "p1 --alerts on --email p1@example.org", "p2 --alerts on --email p2@example.org",
        "p3 --alerts off --email p3@example.org", "p4 --alerts on --email p4@example.org"};
    for (int k = 0; k < 4; k++)
        tl_test_cli_check(tl_test_cli("--db '%s' subscription set %s", db, subs[k]), 0, "patron",
                          NULL);
    return 0;
}

/* Quoted-printable decoded (soft breaks removed, =XX as bytes); malloc'd. */
static char *qp_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 2;
        } else if (s[i] == '=' && i + 2 < n) {
            unsigned v;
            assert_int_equal(sscanf(s + i + 1, "%2x", &v), 1);
            *o++ = (char)v;
            i += 2;
        } else if (s[i] != '\r') {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

typedef struct parsed {
    char to[256], unsub[512];
    char *text, *html;
} parsed;

/* Checks one message's structure (headers, CRLF, line lengths, the boundary) and decodes both
 * parts. */
static void parse_eml(const char *m, parsed *p)
{
    memset(p, 0, sizeof(*p));
    const char *body = strstr(m, "\r\n\r\n");
    assert_non_null(body);
    const char *need[] = {"From: ",
                          "To: ",
                          "Subject: ",
                          "Date: ",
                          "Message-ID: <",
                          "List-Unsubscribe: <",
                          "MIME-Version: 1.0\r\n"};
    for (int k = 0; k < 7; k++) {
        const char *h = strstr(m, need[k]);
        if (!h || h > body)
            fail_msg("no %s header in:\n%s", need[k], m);
    }
    assert_int_equal(sscanf(strstr(m, "To: "), "To: %255[^\r]", p->to), 1);
    assert_int_equal(
        sscanf(strstr(m, "List-Unsubscribe: <"), "List-Unsubscribe: <%511[^>]", p->unsub), 1);
    char boundary[128], open[160], close[160];
    const char *ct = strstr(m, "Content-Type: multipart/alternative; boundary=\"");
    assert_true(ct && ct < body);
    assert_int_equal(
        sscanf(ct, "Content-Type: multipart/alternative; boundary=\"%127[^\"]", boundary), 1);
    for (const char *l = m; *l;) { /* every line ends in CRLF and fits 78 characters */
        const char *nl = strchr(l, '\n');
        assert_non_null(nl);
        assert_true(nl > l ? nl[-1] == '\r' : 0 || nl == l);
        assert_true(nl - l <= 998);
        if (l > body)
            assert_true(nl - l <= 78);
        l = nl + 1;
    }
    snprintf(open, sizeof(open), "\r\n--%s\r\n", boundary);
    snprintf(close, sizeof(close), "\r\n--%s--\r\n", boundary);
    const char *a = strstr(body, open), *b = a ? strstr(a + 1, open) : NULL;
    const char *c = b ? strstr(b + 1, close) : NULL;
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_null(strstr(b + 1, open));
    assert_string_equal(c + strlen(close), "");
    const char *parts[2] = {a + strlen(open), b + strlen(open)}, *ends[2] = {b, c};
    const char *types[2] = {"Content-Type: text/plain; charset=UTF-8\r\n",
                            "Content-Type: text/html; charset=UTF-8\r\n"};
    char *out[2];
    for (int k = 0; k < 2; k++) {
        assert_memory_equal(parts[k], types[k], strlen(types[k]));
        assert_non_null(strstr(parts[k], "Content-Transfer-Encoding: quoted-printable\r\n\r\n"));
        const char *x = strstr(parts[k], "\r\n\r\n") + 4;
        out[k] = qp_decode(x, (size_t)(ends[k] - x));
    }
    p->text = out[0];
    p->html = out[1];
}

static void parsed_free(parsed *p)
{
    free(p->text);
    free(p->html);
}

static char *read_eml(const char *d, const char *user)
{
    char path[800];
    snprintf(path, sizeof(path), "%s/%s.eml", d, user);
    return tl_test_read(path);
}

static void check_p1(const char *m)
{
    parsed p;
    parse_eml(m, &p);
    assert_string_equal(p.to, "p1@example.org");
    assert_non_null(strstr(p.text, "Dragons <Return> & Rise - Ann Smith"));
    assert_non_null(strstr(p.text, "Because you borrowed \"Dragons of Old\""));
    assert_non_null(strstr(p.text, "Cover: https://covers.example.org/n1.jpg?a=1&b=2"));
    assert_non_null(strstr(p.html, "Dragons &lt;Return&gt; &amp; Rise"));
    assert_non_null(strstr(p.html, "href=\"https://covers.example.org/n1.jpg?a=1&amp;b=2\""));
    assert_null(strstr(p.html, "<Return>"));
    assert_null(strstr(p.text, "Dragons Before")); /* added before the window */
    assert_null(strstr(p.text, "Galaxies"));       /* nothing to do with p1's loans */
    assert_non_null(strstr(p.text, "Author talk: dragons"));
    assert_non_null(strstr(p.text, "Main hall"));
    assert_null(strstr(p.text, "Past gathering"));
    assert_non_null(strstr(p.text, p.unsub));
    assert_non_null(strstr(p.unsub, "/v1/unsubscribe?u=p1&sig="));
    parsed_free(&p);
}

static void test_out_dir(void **state)
{
    (void)state;
    char out[700];
    snprintf(out, sizeof(out), "%s/mail", dir);
    tl_test_cli_check(tl_test_cli("--db '%s' digest --since 7d --now " NOW " --out '%s'", db, out),
                      0, NULL, "3 messages written");
    assert_int_equal(tl_test_sh("test $(ls '%s' | wc -l) -eq 3", out), 0);
    char *m1 = read_eml(out, "p1"), *m2 = read_eml(out, "p2"), *m4 = read_eml(out, "p4");
    check_p1(m1);
    parsed p;
    parse_eml(m2, &p); /* opted out of personalization: the newest, not chosen */
    assert_string_equal(p.to, "p2@example.org");
    assert_non_null(strstr(p.text, "New in the library"));
    assert_null(strstr(p.text, "Because you borrowed"));
    assert_non_null(strstr(p.text, "Ships of the Line"));
    assert_null(strstr(p.text, "Dragons Before"));
    parsed_free(&p);
    parse_eml(m4, &p); /* no loans */
    assert_non_null(strstr(p.text, "New in the library"));
    parsed_free(&p);
    /* the same store and window: the same bytes */
    char again[700];
    snprintf(again, sizeof(again), "%s/mail2", dir);
    assert_int_equal(tl_test_cli("--db '%s' digest --since 2026-11-24T12:00:00Z --now " NOW
                                 " --out '%s'",
                                 db, again),
                     0);
    char *b1 = read_eml(again, "p1");
    assert_string_equal(m1, b1);
    free(b1);
    free(m1);
    free(m2);
    free(m4);
    /* a file where the directory should be is refused */
    char file[700];
    snprintf(file, sizeof(file), "%s/items.tsv", dir);
    tl_test_cli_check(tl_test_cli("--db '%s' digest --since 7d --now " NOW " --out '%s'", db, file),
                      1, NULL, "not a directory");
    tl_test_cli_check(tl_test_cli("--db '%s' digest --since yesterday --out '%s'", db, out), 2,
                      NULL, "--since");
    tl_test_cli_check(tl_test_cli("--db '%s' subscription set p1 --email 'a b@x.org'", db), 2, NULL,
                      "e-mail");
}

/* ---- a tiny SMTP server on loopback -------------------------------------------------------- */

typedef struct smtp {
    int fd, port;
    const char *refuse; /* RCPT TO this address gets 550 */
    int auth;           /* offers AUTH PLAIN; what came is kept in login */
    char login[256];
    char rcpt[16][128];
    char *data[16];
    int n;
    pthread_t th;
} smtp;

static int read_line(int fd, char *buf, size_t len)
{
    size_t n = 0;
    while (n + 1 < len) {
        char c;
        if (recv(fd, &c, 1, 0) != 1)
            return -1;
        buf[n++] = c;
        if (c == '\n')
            break;
    }
    buf[n] = '\0';
    return (int)n;
}

static void say(int fd, const char *s)
{
    assert_true(send(fd, s, strlen(s), MSG_NOSIGNAL) == (ssize_t)strlen(s));
}

static void *smtp_main(void *arg)
{
    smtp *s = arg;
    int c;
    while ((c = accept(s->fd, NULL, NULL)) >= 0) {
        char line[2048], rcpt[128] = "";
        say(c, "220 test ESMTP\r\n");
        while (read_line(c, line, sizeof(line)) > 0) {
            if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0) {
                say(c, s->auth ? "250-test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"
                               : "250-test\r\n250 8BITMIME\r\n");
            } else if (strncasecmp(line, "AUTH PLAIN", 10) == 0) {
                char *cred = line + 10;
                while (*cred == ' ')
                    cred++;
                if (!*cred || *cred == '\r') { /* the credentials come on the next line */
                    say(c, "334 \r\n");
                    if (read_line(c, line, sizeof(line)) <= 0)
                        break;
                    cred = line;
                }
                snprintf(s->login, sizeof(s->login), "%.*s", (int)strcspn(cred, "\r\n"), cred);
                say(c, "235 accepted\r\n");
            } else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
                say(c, "250 OK\r\n");
            } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
                sscanf(line + 8, " <%127[^>]", rcpt);
                say(c, s->refuse && strcmp(rcpt, s->refuse) == 0 ? "550 no such mailbox\r\n"
                                                                 : "250 OK\r\n");
            } else if (strncasecmp(line, "DATA", 4) == 0) {
                say(c, "354 go ahead\r\n");
                size_t cap = 1 << 16, n = 0;
                char *d = malloc(cap);
                while (read_line(c, line, sizeof(line)) > 0 && strcmp(line, ".\r\n") != 0) {
                    size_t l = strlen(line);
                    if (n + l + 1 > cap)
                        d = realloc(d, cap *= 2);
                    memcpy(d + n, line, l);
                    n += l;
                }
                d[n] = '\0';
                if (s->n < 16) {
                    snprintf(s->rcpt[s->n], sizeof(s->rcpt[0]), "%s", rcpt);
                    s->data[s->n++] = d;
                } else {
                    free(d);
                }
                say(c, "250 queued\r\n");
            } else if (strncasecmp(line, "QUIT", 4) == 0) {
                say(c, "221 bye\r\n");
                break;
            } else {
                say(c, "250 OK\r\n");
            }
        }
        close(c);
    }
    return NULL;
}

static void smtp_start_auth(smtp *s, const char *refuse, int auth)
{
    memset(s, 0, sizeof(*s));
    s->refuse = refuse;
    s->auth = auth;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 4), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->th, NULL, smtp_main, s), 0);
}

static void smtp_start(smtp *s, const char *refuse)
{
    smtp_start_auth(s, refuse, 0);
}

static void smtp_stop(smtp *s)
{
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    pthread_join(s->th, NULL);
}

/* Frees what the server recorded (after the test read it). */
static void smtp_free(smtp *s)
{
    for (int k = 0; k < s->n; k++)
        free(s->data[k]);
    s->n = 0;
}

static void test_smtp(void **state)
{
    (void)state;
    smtp s;
    smtp_start(&s, NULL);
    tl_test_cli_check(tl_test_cli("--db '%s' digest --since 7d --now " NOW
                                  " --smtp smtp://127.0.0.1:%d --from 'Library <news@example.org>'",
                                  db, s.port),
                      0, NULL, "3 messages sent");
    smtp_stop(&s);
    assert_int_equal(s.n, 3);
    const char *want[3] = {"p1@example.org", "p2@example.org", "p4@example.org"};
    for (int k = 0; k < 3; k++) {
        assert_string_equal(s.rcpt[k], want[k]);
        parsed p;
        parse_eml(s.data[k], &p);
        assert_string_equal(p.to, want[k]);
        assert_non_null(strstr(s.data[k], "From: Library <news@example.org>\r\n"));
        parsed_free(&p);
    }
    check_p1(s.data[0]);
    smtp_free(&s);
}

static void test_smtp_refuses(void **state)
{
    (void)state;
    smtp s;
    smtp_start(&s, "p2@example.org");
    tl_test_cli_check(tl_test_cli("--db '%s' digest --since 7d --now " NOW
                                  " --smtp smtp://127.0.0.1:%d",
                                  db, s.port),
                      1, NULL, "p2 <p2@example.org>: SMTP");
    smtp_stop(&s);
    assert_int_equal(s.n, 2); /* the others went */
    assert_string_equal(s.rcpt[0], "p1@example.org");
    assert_string_equal(s.rcpt[1], "p4@example.org");
    char *err = tl_test_cli_err();
    assert_non_null(strstr(err, "1 failed"));
    free(err);
    smtp_free(&s);
}

/* The login comes from a file (or the environment), never the command line; a server without
 * STARTTLS is refused when --starttls asks for it. */
static void test_smtp_auth_tls(void **state)
{
    (void)state;
    smtp s;
    char auth[700];
    snprintf(auth, sizeof(auth), "%s/smtp.auth", dir);
    assert_int_equal(tl_test_write(auth, "mailer:s3cret\n"), 0);
    smtp_start_auth(&s, NULL, 1);
    tl_test_cli_check(tl_test_cli("--db '%s' digest --since 7d --now " NOW
                                  " --smtp smtp://127.0.0.1:%d --smtp-auth '%s'",
                                  db, s.port, auth),
                      0, NULL, "3 messages sent");
    smtp_stop(&s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.login, "AG1haWxlcgBzM2NyZXQ="); /* base64 of "\0mailer\0s3cret" */
    smtp_free(&s);
    smtp_start_auth(&s, NULL, 1);
    tl_test_cli_check(tl_test_cli("--db '%s' digest --since 7d --now " NOW
                                  " --smtp smtp://127.0.0.1:%d --starttls",
                                  db, s.port),
                      1, NULL, "p1 <p1@example.org>: SMTP");
    smtp_stop(&s);
    assert_int_equal(s.n, 0); /* nothing went in the clear */
}

static void test_unsubscribe(void **state)
{
    (void)state;
    char out[700];
    snprintf(out, sizeof(out), "%s/mail3", dir);
    assert_int_equal(tl_test_cli("--db '%s' digest --since 7d --now " NOW " --out '%s'", db, out),
                     0);
    char *m1 = read_eml(out, "p1");
    parsed p;
    parse_eml(m1, &p);
    char *sig = strstr(p.unsub, "&sig=");
    assert_non_null(sig);
    sig += 5;
    tl_service_opts so = {.db = db, .writable = 1};
    tl_service *svc;
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_service_open(&so, &svc, &d), TL_OK);
    int changed = 0;
    char bad[200];
    snprintf(bad, sizeof(bad), "%s", sig);
    bad[3] = bad[3] == '0' ? '1' : '0'; /* tampered */
    assert_int_equal(tl_service_unsubscribe(svc, "p1", bad, &changed, &d), TL_EINVAL);
    assert_int_equal(tl_service_unsubscribe(svc, "p2", sig, &changed, &d), TL_EINVAL);
    assert_int_equal(tl_service_unsubscribe(svc, "p1", "", &changed, &d), TL_EINVAL);
    assert_int_equal(changed, 0);
    assert_int_equal(tl_service_unsubscribe(svc, "p1", sig, &changed, &d), TL_OK);
    assert_int_equal(changed, 1);
    tl_service_close(svc);
    parsed_free(&p);
    free(m1);
    snprintf(out, sizeof(out), "%s/mail4", dir);
    tl_test_cli_check(tl_test_cli("--db '%s' digest --since 7d --now " NOW " --out '%s'", db, out),
                      0, NULL, "2 messages written");
    assert_int_equal(tl_test_sh("test ! -e '%s/p1.eml' && test -e '%s/p2.eml'", out, out), 0);
    /* the audit log has it, and still verifies */
    tl_test_cli_check(tl_test_cli("--db '%s' auditlog verify", db), 0, NULL, NULL);
    assert_int_equal(sql_count(db, "SELECT count(*) FROM audit_log WHERE action = 'unsubscribe'"),
                     1);
    /* each opt-in is audited, and the log keeps no address */
    assert_true(sql_count(db, "SELECT count(*) FROM audit_log WHERE action = 'subscription'") >= 4);
    assert_int_equal(sql_count(db, "SELECT count(*) FROM audit_log WHERE detail LIKE '%@%'"), 0);
    assert_int_equal(tl_test_cli("--db '%s' subscription set p1 --alerts on", db), 0);
}

static void test_export_erase(void **state)
{
    (void)state;
    tl_test_cli_check(tl_test_cli("--db '%s' user export p4", db), 0,
                      "\"subscription\":{\"email\":\"p4@example.org\",\"alerts\":true", NULL);
    tl_test_cli_check(tl_test_cli("--db '%s' user export p5", db), 0, "\"subscription\":null",
                      NULL);
    assert_int_equal(tl_test_cli("--db '%s' user erase p4", db), 0);
    assert_int_equal(sql_count(db, "SELECT count(*) FROM subscriptions WHERE email LIKE 'p4@%'"),
                     0);
    if (!tl_test_on_pg()) /* the file keeps no copy (PostgreSQL's: the row is gone above) */
        assert_int_equal(tl_test_sh("! grep -q 'p4@example.org' '%s'", db), 0);
}

/* path's content once it appears; fails after seconds, showing log. */
static char *wait_file(const char *path, int seconds, const char *log)
{
    for (int k = 0; k < seconds * 10; k++) {
        if (access(path, F_OK) == 0)
            return tl_test_read(path);
        usleep(100000);
    }
    char *l = tl_test_read(log);
    print_error("%s\n", l ? l : "");
    free(l);
    fail_msg("%s did not appear in %d s; the server's log is above", path, seconds);
    return NULL;
}

/* The server: the schedule fires, the subscription route, the preview, the unsubscribe link. */
static void test_http(void **state)
{
    (void)state;
    char model[700], err[700], sched[700], unsub[800];
    snprintf(model, sizeof(model), "%s/m.tlm", dir);
    snprintf(err, sizeof(err), "%s/serve.err", dir);
    snprintf(sched, sizeof(sched), "%s/sched", dir);
    assert_int_equal(tl_test_cli("--db '%s' train --model popular --out '%s' --quiet", db, model),
                     0);
    /* the last scheduled run was a day ago: the first run covers the day, however slowly the
     * server starts */
    sql(db, tl_test_on_pg()
                ? "INSERT INTO items(ext_id, type, title, authors, subjects, added) VALUES ('n7',"
                  " 'book', 'Dragons Again', 'Ann Smith', 'Fantasy|Dragons',"
                  " extract(epoch FROM now())::bigint - 60);"
                  "INSERT INTO meta(key, value) VALUES ('digest_last_run',"
                  " extract(epoch FROM now())::bigint - 86400) ON CONFLICT(key) DO UPDATE"
                  " SET value = excluded.value"
                : "INSERT INTO items(ext_id, type, title, authors, subjects, added) VALUES ('n7',"
                  " 'book', 'Dragons Again', 'Ann Smith', 'Fantasy|Dragons',"
                  " strftime('%s', 'now') - 60);"
                  "INSERT OR REPLACE INTO meta(key, value) VALUES ('digest_last_run',"
                  " strftime('%s', 'now') - 86400)");
    const char *extra[] = {"--digest-every",
                           "5",
                           "--digest-out",
                           sched,
                           "--digest-from",
                           "Library <news@example.org>",
                           "--unsubscribe-url",
                           "https://library.example.org/v1/unsubscribe",
                           NULL};
    tl_test_server srv;
    assert_int_equal(tl_test_serve_with(&srv, db, model, err, 0, extra), 0);
    /* the schedule: the item added just now goes to p1 (a dragon reader) within a run */
    char path[800];
    snprintf(path, sizeof(path), "%s/p1.eml", sched);
    char *m1 = wait_file(path, 60, err);
    parsed p;
    parse_eml(m1, &p);
    assert_non_null(strstr(p.text, "Dragons Again"));
    assert_non_null(strstr(p.text, "Because you borrowed \"Dragons of Old\""));
    assert_null(strstr(p.text, "Dragons <Return>")); /* added weeks before this window */
    assert_non_null(strstr(p.unsub, "https://library.example.org/v1/unsubscribe?u=p1&sig="));
    assert_non_null(strstr(m1, "From: Library <news@example.org>\r\n"));
    parsed_free(&p);
    free(m1);
    /* the subscription route */
    const char *sub = "{\"alerts\": true, \"email\": \"p5@example.org\"}";
    assert_int_equal(tl_test_http(srv.port, "PUT", "/v1/users/p5/subscription", "application/json",
                                  sub, strlen(sub), NULL, NULL, NULL),
                     200);
    const char *bad = "{\"email\": \"p5 at example\"}";
    assert_int_equal(tl_test_http(srv.port, "PUT", "/v1/users/p5/subscription", "application/json",
                                  bad, strlen(bad), NULL, NULL, NULL),
                     400);
    assert_int_equal(tl_test_http(srv.port, "PUT", "/v1/users/nobody/subscription",
                                  "application/json", sub, strlen(sub), NULL, NULL, NULL),
                     404);
    assert_int_equal(sql_count(db, "SELECT count(*) FROM subscriptions s JOIN users u ON"
                                   " u.id = s.user_id WHERE u.ext_id = 'p5' AND s.alerts = 1"),
                     1);
    /* the preview: JSON, then the HTML body */
    char *body = NULL, *ctype = NULL;
    assert_int_equal(tl_test_http(srv.port, "GET", "/v1/users/p1/digest?since=2026-11-24&now=" NOW,
                                  NULL, NULL, 0, &body, NULL, &ctype),
                     200);
    assert_non_null(strstr(body, "\"item\":\"n1\""));
    assert_non_null(strstr(body, "\"kind\":\"similar\""));
    assert_non_null(strstr(body, "Because you borrowed"));
    assert_null(strstr(body, "\"n9\""));
    assert_non_null(strstr(body, "\"ev1\""));
    free(body);
    free(ctype);
    assert_int_equal(tl_test_http(srv.port, "GET",
                                  "/v1/users/p1/digest?since=7d&now=" NOW "&format=html", NULL,
                                  NULL, 0, &body, NULL, &ctype),
                     200);
    assert_non_null(strstr(ctype, "text/html"));
    assert_non_null(strstr(body, "Dragons &lt;Return&gt; &amp; Rise"));
    char *sig = strstr(body, "sig=");
    assert_non_null(sig);
    char hex[65];
    assert_int_equal(sscanf(sig + 4, "%64[0-9a-f]", hex), 1);
    free(body);
    free(ctype);
    assert_int_equal(tl_test_http(srv.port, "GET", "/v1/users/p1/digest?since=yesterday", NULL,
                                  NULL, 0, NULL, NULL, NULL),
                     400);
    assert_int_equal(
        tl_test_http(srv.port, "GET", "/v1/users/nobody/digest", NULL, NULL, 0, NULL, NULL, NULL),
        404);
    /* the unsubscribe link: tampered, another patron's, then the real one */
    char tampered[65];
    snprintf(tampered, sizeof(tampered), "%s", hex);
    tampered[10] = tampered[10] == 'a' ? 'b' : 'a';
    snprintf(unsub, sizeof(unsub), "/v1/unsubscribe?u=p1&sig=%s", tampered);
    assert_int_equal(tl_test_http(srv.port, "GET", unsub, NULL, NULL, 0, &body, NULL, &ctype), 403);
    assert_non_null(strstr(ctype, "application/json"));
    assert_non_null(strstr(body, "sig"));
    free(body);
    free(ctype);
    snprintf(unsub, sizeof(unsub), "/v1/unsubscribe?u=p2&sig=%s", hex);
    assert_int_equal(tl_test_http(srv.port, "GET", unsub, NULL, NULL, 0, NULL, NULL, NULL), 403);
    snprintf(unsub, sizeof(unsub), "/v1/unsubscribe?u=p1&sig=%s", hex);
    assert_int_equal(tl_test_http(srv.port, "GET", unsub, NULL, NULL, 0, &body, NULL, NULL), 200);
    assert_non_null(strstr(body, "\"changed\":true"));
    free(body);
    tl_test_serve_stop(&srv, SIGTERM);
    assert_int_equal(sql_count(db, "SELECT count(*) FROM subscriptions s JOIN users u ON"
                                   " u.id = s.user_id WHERE u.ext_id = 'p1' AND s.alerts = 0"),
                     1);
    assert_int_equal(tl_test_sh("grep -q '\"digest\"' '%s'", err), 0);
    assert_true(sql_count(db, "SELECT value FROM meta WHERE key = 'digest_last_run'") >
                sql_count(db, tl_test_on_pg() ? "SELECT extract(epoch FROM now())::bigint - 3600"
                                              : "SELECT strftime('%s', 'now') - 3600"));
    assert_int_equal(tl_test_cli("--db '%s' subscription set p1 --alerts on", db), 0);
}

/* The demo library: opted-in patrons, and a digest of the last week for each. */
static void test_demo(void **state)
{
    (void)state;
    char ddir[700], ddb[760], data[760];
    snprintf(ddir, sizeof(ddir), "%s/demo", dir);
    snprintf(ddb, sizeof(ddb), "%s/demo.db", ddir);
    snprintf(data, sizeof(data), "%s/data", ddir);
    assert_int_equal(tl_test_sh("mkdir -p '%s' && TL_DEMO_SERVE=0 TL_DEMO_PATRONS=200 "
                                "TL_DEMO_DATA='%s' sh '%s' '%s' '%s' > '%s/log' 2>&1",
                                ddir, data, tl_test_source("scripts/demo.sh"), tl_test_bin(), ddb,
                                ddir),
                     0);
    long long subs = sql_count(ddb, "SELECT count(*) FROM subscriptions WHERE alerts = 1");
    assert_true(subs >= 5);
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "test $(ls '%s/digest'/*.eml | wc -l) -eq %lld", data, subs);
    assert_int_equal(tl_test_sh("%s", cmd), 0);
    assert_int_equal(tl_test_sh("grep -q 'new-arrival alerts' '%s/log'", ddir), 0);
    char *m = read_eml(data, "digest/p00001");
    parsed p;
    parse_eml(m, &p);
    assert_string_equal(p.to, "p00001@example.org");
    assert_true(strstr(p.text, "Because you borrowed") || strstr(p.text, "In your subject") ||
                strstr(p.text, "New in the library"));
    parsed_free(&p);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_dir),      cmocka_unit_test(test_smtp),
        cmocka_unit_test(test_smtp_refuses), cmocka_unit_test(test_smtp_auth_tls),
        cmocka_unit_test(test_unsubscribe),  cmocka_unit_test(test_export_erase),
        cmocka_unit_test(test_http),         cmocka_unit_test(test_demo),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (tl_test_on_pg() && !tl_test_pg_start())
        return TL_TEST_SKIP;
    int rc = cmocka_run_group_tests(tests, setup, NULL);
    curl_global_cleanup();
    return rc;
}
