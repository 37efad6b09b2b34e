/* A digest as an e-mail (RFC 5322 headers, MIME multipart/alternative: text/plain and
 * text/html in UTF-8, quoted-printable, CRLF line ends) and its delivery: one .eml file per
 * patron in a directory, or SMTP through libcurl. Every catalogue field is HTML-escaped in the
 * HTML part; covers are links, never fetched. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "service/service_int.h"

#define DEFAULT_FROM "Tailor <tailor@localhost>"
#define QP_LINE 76

/* ---- a growing buffer -------------------------------------------------------------------- */

typedef struct buf {
    char *p;
    size_t n, cap;
    int failed;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void puts_(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void printf_(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Text for HTML: & < > " ' escaped. */
static void html(buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            puts_(b, "&amp;");
            break;
        case '<':
            puts_(b, "&lt;");
            break;
        case '>':
            puts_(b, "&gt;");
            break;
        case '"':
            puts_(b, "&quot;");
            break;
        case '\'':
            puts_(b, "&#39;");
            break;
        default:
            put(b, s, 1);
        }
    }
}

/* Text for a plain-text line: control characters (a catalogue field's line breaks) as spaces. */
static void plain(buf *b, const char *s)
{
    for (; s && *s; s++)
        put(b, (unsigned char)*s < 0x20 || *s == 0x7f ? " " : s, 1);
}

/* A '|'-separated list (creators) as "a, b". */
static void names(buf *b, const char *s, void (*esc)(buf *, const char *))
{
    char part[512];
    for (int first = 1; s && *s; first = 0) {
        size_t n = strcspn(s, "|");
        snprintf(part, sizeof(part), "%.*s", (int)(n < sizeof(part) - 1 ? n : sizeof(part) - 1), s);
        if (!first)
            puts_(b, ", ");
        esc(b, part);
        s += n + (s[n] == '|');
    }
}

/* A link's URL for href: only http(s), escaped; else NULL (not shown). */
static int url_ok(const char *u)
{
    if (!u || (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0))
        return 0;
    for (const unsigned char *c = (const unsigned char *)u; *c; c++)
        if (*c <= 0x20 || *c == 0x7f)
            return 0;
    return 1;
}

static void date_text(int64_t t, char *out, size_t len, int with_time)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    static const char *const day[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    if (with_time)
        snprintf(out, len, "%s %d %s %d, %02d:%02d UTC", day[tm.tm_wday], tm.tm_mday,
                 mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min);
    else
        snprintf(out, len, "%d %s %d", tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900);
}

/* ---- the bodies -------------------------------------------------------------------------- */

static void text_body(buf *b, const tl_digest_msg *m)
{
    char since[64];
    date_text(m->since, since, sizeof(since), 0);
    puts_(b, "Hello,\n\n");
    if (m->n_items)
        printf_(b, "New at the library since %s%s:\n\n", since,
                m->personal ? ", chosen for you" : "");
    for (int k = 0; k < m->n_items; k++) {
        const tl_digest_item *it = &m->items[k];
        printf_(b, "%d. ", k + 1);
        plain(b, it->title ? it->title : it->id);
        if (it->creators) {
            puts_(b, " - ");
            names(b, it->creators, plain);
        }
        puts_(b, "\n   ");
        plain(b, it->reason);
        puts_(b, "\n");
        if (url_ok(it->cover)) {
            puts_(b, "   Cover: ");
            puts_(b, it->cover);
            puts_(b, "\n");
        }
    }
    if (m->n_events) {
        puts_(b, m->n_items ? "\nUpcoming library events:\n\n" : "Upcoming library events:\n\n");
        for (int k = 0; k < m->n_events; k++) {
            const tl_digest_item *e = &m->events[k];
            char when[64];
            date_text(e->starts, when, sizeof(when), 1);
            puts_(b, "- ");
            plain(b, e->title ? e->title : e->id);
            printf_(b, ", %s", when);
            if (e->place) {
                puts_(b, ", ");
                plain(b, e->place);
            }
            puts_(b, "\n");
        }
    }
    printf_(b, "\nTo stop these messages: %s\n", m->unsubscribe ? m->unsubscribe : "");
}

static void html_body(buf *b, const tl_digest_msg *m)
{
    char since[64];
    date_text(m->since, since, sizeof(since), 0);
    puts_(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>New at the library"
             "</title></head>\n<body>\n<p>Hello,</p>\n");
    if (m->n_items)
        printf_(b, "<h2>New at the library since %s%s</h2>\n<ol>\n", since,
                m->personal ? ", chosen for you" : "");
    for (int k = 0; k < m->n_items; k++) {
        const tl_digest_item *it = &m->items[k];
        puts_(b, "<li>");
        if (url_ok(it->cover)) {
            puts_(b, "<a href=\"");
            html(b, it->cover);
            puts_(b, "\">[cover]</a> ");
        }
        puts_(b, "<strong>");
        html(b, it->title ? it->title : it->id);
        puts_(b, "</strong>");
        if (it->creators) {
            puts_(b, " &ndash; ");
            names(b, it->creators, html);
        }
        puts_(b, "<br><em>");
        html(b, it->reason);
        puts_(b, "</em></li>\n");
    }
    if (m->n_items)
        puts_(b, "</ol>\n");
    if (m->n_events) {
        puts_(b, "<h2>Upcoming library events</h2>\n<ul>\n");
        for (int k = 0; k < m->n_events; k++) {
            const tl_digest_item *e = &m->events[k];
            char when[64];
            date_text(e->starts, when, sizeof(when), 1);
            puts_(b, "<li><strong>");
            html(b, e->title ? e->title : e->id);
            printf_(b, "</strong>, %s", when);
            if (e->place) {
                puts_(b, ", ");
                html(b, e->place);
            }
            puts_(b, "</li>\n");
        }
        puts_(b, "</ul>\n");
    }
    puts_(b, "<p><a href=\"");
    html(b, m->unsubscribe ? m->unsubscribe : "");
    puts_(b, "\">Unsubscribe</a></p>\n</body></html>\n");
}

/* Quoted-printable (RFC 2045) of s with CRLF line ends: '=', bytes outside printable ASCII and
 * spaces before a line end encoded, lines soft-broken at 76. */
static void qp(buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    int col = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') {
            puts_(b, "\r\n");
            col = 0;
            continue;
        }
        int at_end = i + 1 == n || s[i + 1] == '\n';
        char enc[4];
        int len;
        if ((c >= 33 && c <= 126 && c != '=') || (c == ' ' && !at_end)) {
            enc[0] = (char)c;
            len = 1;
        } else {
            enc[0] = '=';
            enc[1] = hex[c >> 4];
            enc[2] = hex[c & 15];
            len = 3;
        }
        if (col + len > QP_LINE - 1) {
            puts_(b, "=\r\n");
            col = 0;
        }
        put(b, enc, (size_t)len);
        col += len;
    }
}

/* The envelope address of a From header: what is between < and >, else the whole. */
static void bare_address(const char *from, char *out, size_t len)
{
    const char *a = strchr(from, '<'), *z = a ? strchr(a, '>') : NULL;
    if (a && z)
        snprintf(out, len, "%.*s", (int)(z - a - 1), a + 1);
    else
        snprintf(out, len, "%s", from);
}

static int header_ok(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

tl_err tl_digest_render(const tl_digest_msg *m, const char *format, const char *from, char **out,
                        size_t *len, tl_diag *d)
{
    buf text = {0}, htm = {0}, all = {0};
    *out = NULL;
    *len = 0;
    from = from && *from ? from : DEFAULT_FROM;
    if (!header_ok(from) || (m->email && !header_ok(m->email)) ||
        (m->unsubscribe && !header_ok(m->unsubscribe))) {
        tl_diag_set(d, NULL, 0, "from", "a header would hold a line break");
        return TL_EINVAL;
    }
    if (!format || strcmp(format, "text") == 0) {
        text_body(&all, m);
    } else if (strcmp(format, "html") == 0) {
        html_body(&all, m);
    } else if (strcmp(format, "eml") == 0) {
        text_body(&text, m);
        html_body(&htm, m);
        uint8_t h[16];
        char boundary[64], hx[33], date[64];
        crypto_generichash(h, sizeof(h), (const unsigned char *)m->user, strlen(m->user),
                           (const unsigned char *)&m->now, sizeof(m->now));
        sodium_bin2hex(hx, sizeof(hx), h, sizeof(h));
        /* "=_" never appears in quoted-printable text: the boundary cannot occur in a part */
        snprintf(boundary, sizeof(boundary), "=_tailor_%s", hx);
        time_t tt = (time_t)m->now;
        struct tm tm;
        gmtime_r(&tt, &tm);
        static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        static const char *const day[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        snprintf(date, sizeof(date), "%s, %02d %s %d %02d:%02d:%02d +0000", day[tm.tm_wday],
                 tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        char addr[TL_EMAIL_MAX + 1];
        bare_address(from, addr, sizeof(addr));
        const char *domain = strchr(addr, '@');
        printf_(&all, "From: %s\r\n", from);
        printf_(&all, "To: %s\r\n", m->email ? m->email : "undisclosed-recipients:;");
        if (m->n_items)
            printf_(&all, "Subject: New at the library: %d title%s for you\r\n", m->n_items,
                    m->n_items == 1 ? "" : "s");
        else
            puts_(&all, "Subject: Upcoming library events\r\n");
        printf_(&all, "Date: %s\r\n", date);
        printf_(&all, "Message-ID: <digest.%lld.%s@%s>\r\n", (long long)m->now, hx,
                domain ? domain + 1 : "localhost");
        printf_(&all, "List-Unsubscribe: <%s>\r\n", m->unsubscribe ? m->unsubscribe : "");
        puts_(&all, "MIME-Version: 1.0\r\n");
        printf_(&all, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary);
        puts_(&all, "This is a MIME message in two forms: plain text and HTML.\r\n");
        const buf *parts[2] = {&text, &htm};
        const char *types[2] = {"text/plain", "text/html"};
        for (int k = 0; k < 2; k++) {
            printf_(&all, "\r\n--%s\r\n", boundary);
            printf_(&all, "Content-Type: %s; charset=UTF-8\r\n", types[k]);
            puts_(&all, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
            qp(&all, parts[k]->p ? parts[k]->p : "", parts[k]->n);
        }
        printf_(&all, "\r\n--%s--\r\n", boundary);
    } else {
        tl_diag_set(d, NULL, 0, "format", "expected eml, text or html, got '%.40s'", format);
        return TL_EINVAL;
    }
    int failed = text.failed || htm.failed || all.failed || !all.p;
    free(text.p);
    free(htm.p);
    if (failed) {
        free(all.p);
        return TL_ENOMEM;
    }
    *out = all.p;
    *len = all.n;
    return TL_OK;
}

/* ---- delivery ---------------------------------------------------------------------------- */

typedef struct deliver {
    tl_digest_out *o;
    buf failures;
    CURL *curl;
    int dirfd;
    tl_err first;
} deliver;

/* A file name for a patron id: letters, digits, '.', '_', '-' kept, other bytes %XX; a long or
 * dot-led id becomes its hash. */
static void file_name(const char *user, char *out, size_t len)
{
    size_t o = 0;
    for (const unsigned char *c = (const unsigned char *)user; *c && o + 4 < len; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            *c == '_' || *c == '-' || (*c == '.' && o > 0))
            out[o++] = (char)*c;
        else
            o += (size_t)snprintf(out + o, len - o, "%%%02X", *c);
    }
    out[o] = '\0';
    if (strlen(user) * 3 + 8 >= len) {
        uint8_t h[16];
        crypto_generichash(h, sizeof(h), (const unsigned char *)user, strlen(user), NULL, 0);
        sodium_bin2hex(out, len, h, sizeof(h));
    }
}

static tl_err write_file(deliver *v, const tl_digest_msg *m, const char *eml, size_t n, tl_diag *d)
{
    char name[256], tmp[272];
    file_name(m->user, name, sizeof(name) - 4);
    strcat(name, ".eml");
    snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
    int fd = openat(v->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        tl_diag_set(d, NULL, 0, NULL, "cannot write %s/%s: %s", v->o->dir, tmp, strerror(errno));
        return TL_EIO;
    }
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, eml + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    int err = off < n ? errno : 0;
    if (close(fd) != 0 && !err)
        err = errno;
    if (!err && renameat(v->dirfd, tmp, v->dirfd, name) != 0)
        err = errno;
    if (err) {
        unlinkat(v->dirfd, tmp, 0);
        tl_diag_set(d, NULL, 0, NULL, "cannot write %s/%s: %s", v->o->dir, name, strerror(err));
        return TL_EIO;
    }
    return TL_OK;
}

typedef struct upload {
    const char *p;
    size_t n, off;
} upload;

static size_t read_cb(char *out, size_t size, size_t nmemb, void *ctx)
{
    upload *u = ctx;
    size_t want = size * nmemb, left = u->n - u->off;
    size_t n = want < left ? want : left;
    memcpy(out, u->p + u->off, n);
    u->off += n;
    return n;
}

static tl_err send_smtp(deliver *v, const tl_digest_msg *m, const char *eml, size_t n, tl_diag *d)
{
    char from[TL_EMAIL_MAX + 3], rcpt[TL_EMAIL_MAX + 3], addr[TL_EMAIL_MAX + 1];
    char err[CURL_ERROR_SIZE] = "";
    bare_address(v->o->from ? v->o->from : DEFAULT_FROM, addr, sizeof(addr));
    snprintf(from, sizeof(from), "<%s>", addr);
    snprintf(rcpt, sizeof(rcpt), "<%s>", m->email);
    struct curl_slist *to = curl_slist_append(NULL, rcpt);
    if (!to)
        return TL_ENOMEM;
    upload u = {eml, n, 0};
    CURL *c = v->curl;
    curl_easy_setopt(c, CURLOPT_URL, v->o->smtp_url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, to);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)n);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (v->o->starttls)
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (v->o->user) {
        curl_easy_setopt(c, CURLOPT_USERNAME, v->o->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, v->o->password ? v->o->password : "");
    }
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(to);
    if (rc != CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        tl_diag_set(d, NULL, 0, NULL, "SMTP: %s%s%s (reply %ld)", curl_easy_strerror(rc),
                    err[0] ? ": " : "", err, code);
        return TL_EIO;
    }
    return TL_OK;
}

static tl_err deliver_one(void *ctx, const tl_digest_msg *m, tl_diag *d)
{
    deliver *v = ctx;
    char *eml = NULL;
    size_t n = 0;
    tl_err rc = tl_digest_render(m, "eml", v->o->from, &eml, &n, d);
    if (rc == TL_OK && !v->o->dir && !m->email) {
        tl_diag_set(d, NULL, 0, "email", "the patron has no e-mail address");
        rc = TL_EINVAL;
    }
    if (rc == TL_OK)
        rc = v->o->dir ? write_file(v, m, eml, n, d) : send_smtp(v, m, eml, n, d);
    free(eml);
    if (rc != TL_OK) {
        printf_(&v->failures, "%s <%s>: %s\n", m->user, m->email ? m->email : "", d->msg);
        if (v->first == TL_OK)
            v->first = rc;
    }
    return rc;
}

static void curl_start(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

tl_err tl_service_digest_deliver(tl_service *s, const tl_digest_query *q, tl_digest_out *o,
                                 tl_digest_report *rep, tl_diag *d)
{
    deliver v = {.o = o, .dirfd = -1};
    o->failures = NULL;
    memset(rep, 0, sizeof(*rep));
    if (!o->dir == !o->smtp_url) {
        tl_diag_set(d, NULL, 0, "out", "a digest goes to a directory or to an SMTP server");
        return TL_EINVAL;
    }
    if (o->from && !header_ok(o->from)) {
        tl_diag_set(d, NULL, 0, "from", "the From address holds a line break");
        return TL_EINVAL;
    }
    if (o->dir) {
        struct stat sb;
        if (stat(o->dir, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
            tl_diag_set(d, NULL, 0, "out", "%s is not a directory", o->dir);
            return TL_EIO;
        }
        if (mkdir(o->dir, 0750) != 0 && errno != EEXIST) {
            tl_diag_set(d, NULL, 0, "out", "cannot create %s: %s", o->dir, strerror(errno));
            return TL_EIO;
        }
        if ((v.dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
            tl_diag_set(d, NULL, 0, "out", "cannot open %s: %s", o->dir, strerror(errno));
            return TL_EIO;
        }
    } else {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, curl_start);
        if (!(v.curl = curl_easy_init())) {
            tl_diag_set(d, NULL, 0, NULL, "cannot start libcurl");
            return TL_ENOMEM;
        }
    }
    tl_err rc = tl_service_digest(s, q, deliver_one, &v, rep, d);
    if (v.dirfd >= 0) {
        if (rc == TL_OK && fsync(v.dirfd) != 0 && errno != EINVAL)
            rc = TL_EIO;
        close(v.dirfd);
    }
    if (v.curl)
        curl_easy_cleanup(v.curl);
    if (v.failures.failed) {
        free(v.failures.p);
        v.failures.p = NULL;
    }
    o->failures = v.failures.p;
    if (rc == TL_OK && rep->failed) {
        const char *nl = v.failures.p ? strchr(v.failures.p, '\n') : NULL;
        tl_diag_set(d, NULL, 0, NULL, "%lld of %lld messages failed; the first: %.*s", rep->failed,
                    rep->failed + rep->sent, nl ? (int)(nl - v.failures.p) : 0,
                    v.failures.p ? v.failures.p : "");
        rc = TL_EIO;
    }
    return rc;
}

tl_err tl_service_digest_scheduled(tl_service *s, long long every, const char *unsubscribe_url,
                                   tl_digest_out *o, tl_digest_report *rep, tl_diag *d)
{
    memset(rep, 0, sizeof(*rep));
    o->failures = NULL;
    tl_digest_query q = {.now = (int64_t)time(NULL), .unsubscribe_url = unsubscribe_url};
    tl_err rc = tl__service_need_writer(s, "scheduled digests", d);
    char *last = NULL;
    if (rc == TL_OK) {
        pthread_mutex_lock(&s->write_mu);
        rc = tl_store_get_meta(s->writer, TL_META_DIGEST_LAST, &last);
        pthread_mutex_unlock(&s->write_mu);
    }
    if (rc != TL_OK) {
        tl_diag_set(d, NULL, 0, NULL, "cannot read the last digest's time");
        return rc;
    }
    long long t = 0;
    int used = 0;
    q.since = last && sscanf(last, "%lld%n", &t, &used) == 1 && !last[used] && t > 0 && t < q.now
                  ? (int64_t)t
                  : q.now - (every > 0 ? every : 1);
    free(last);
    rc = tl_service_digest_deliver(s, &q, o, rep, d);
    if (rc == TL_OK || (rc == TL_EIO && rep->patrons)) {
        char now[32];
        snprintf(now, sizeof(now), "%lld", (long long)q.now);
        pthread_mutex_lock(&s->write_mu);
        tl_err mc = tl_store_set_meta(s->writer, TL_META_DIGEST_LAST, now);
        pthread_mutex_unlock(&s->write_mu);
        if (rc == TL_OK && mc != TL_OK) {
            tl_diag_set(d, NULL, 0, NULL, "the digest went, but its time was not kept");
            rc = mc;
        }
    }
    return rc;
}
