/* Test helpers: environment paths, a temporary directory, shell commands. */
#include "support.h"

#include "core/data.h"
#include "pg_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[256];

static void remove_tmpdir(void)
{
    if (tmpdir[0] && !getenv("TL_KEEP_TMP")) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

static const char *join(const char *env, const char *rel)
{
    static char bufs[8][1024];
    static int next;
    const char *base = getenv(env);
    if (!base)
        return NULL;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof(bufs[0]), "%s/%s", base, rel);
    return b;
}

const char *tl_test_shared(const char *rel)
{
    const char *p = join("TL_SHARED_DIR", rel);
    struct stat st;
    return p && stat(p, &st) == 0 ? p : NULL;
}

const char *tl_test_source(const char *rel)
{
    return join("TL_SOURCE_DIR", rel);
}

const char *tl_test_bin(void)
{
    const char *b = getenv("TL_BIN");
    return b ? b : "tailor";
}

const char *tl_test_tmpdir(void)
{
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/tailor-test-XXXXXX");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            abort();
        }
        atexit(remove_tmpdir);
    }
    return tmpdir;
}

const char *tl_test_tmp(const char *name)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof(bufs[0]), "%s/%s", tl_test_tmpdir(), name);
    return b;
}

int tl_test_sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

int tl_test_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s) {
        s[n] = '\0';
        *len = (size_t)n;
    }
    fclose(f);
    return s;
}

char *tl_test_read(const char *path)
{
    size_t len;
    return read_all(path, &len);
}

tl_test_snap tl_test_snapshot(const char *path)
{
    tl_test_snap s = {0};
    s.bytes = read_all(path, &s.len);
    return s;
}

int tl_test_has_companions(const char *path)
{
    static const char *const ext[] = {"-wal", "-shm", "-journal"};
    char p[1100];
    for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", path, ext[i]);
        if (access(p, F_OK) == 0)
            return 1;
    }
    return 0;
}

void tl_test_assert_unchanged(const char *path, tl_test_snap *s)
{
    tl_test_snap now = tl_test_snapshot(path);
    if (!s->bytes != !now.bytes)
        fail_msg("%s: %s", path, s->bytes ? "is gone" : "appeared");
    if (s->bytes && (s->len != now.len || memcmp(s->bytes, now.bytes, s->len) != 0))
        fail_msg("%s: changed (%zu bytes before, %zu after)", path, s->len, now.len);
    if (tl_test_has_companions(path))
        fail_msg("%s: a -wal, -shm or -journal file appeared beside it", path);
    free(now.bytes);
    free(s->bytes);
    s->bytes = NULL;
}

void tl_test_data_from_pairs(tl_data *d, int n_users, int n_items, const int (*pairs)[2],
                             int n_pairs)
{
    char id[32];
    int32_t idx;
    tl_coo coo;
    tl_data_init(d);
    for (int u = 0; u < n_users; u++) {
        snprintf(id, sizeof(id), "u%d", u);
        assert_int_equal(tl_intern_add(&d->users, id, strlen(id), &idx), TL_OK);
    }
    for (int i = 0; i < n_items; i++) {
        snprintf(id, sizeof(id), "i%d", i);
        assert_int_equal(tl_intern_add(&d->items, id, strlen(id), &idx), TL_OK);
    }
    assert_int_equal(tl_coo_init(&coo, n_pairs, 0), TL_OK);
    for (int p = 0; p < n_pairs; p++)
        assert_int_equal(tl_coo_push(&coo, pairs[p][0], pairs[p][1], 1.0f, 0), TL_OK);
    assert_int_equal(tl_data_build(d, &coo, TL_DUP_MAX), TL_OK);
    tl_coo_release(&coo);
}

static char cli_out[300], cli_err[300];

int tl_test_cli(const char *fmt, ...)
{
    char args[3500];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    snprintf(cli_out, sizeof(cli_out), "%s/cli.out", tl_test_tmpdir());
    snprintf(cli_err, sizeof(cli_err), "%s/cli.err", tl_test_tmpdir());
    /* captures first: a redirection in args (> /dev/full, >&-) comes later and wins */
    return tl_test_sh("'%s' > '%s' 2> '%s' %s", tl_test_bin(), cli_out, cli_err, args);
}

char *tl_test_cli_out(void)
{
    char *s = tl_test_read(cli_out);
    assert_non_null(s);
    return s;
}

char *tl_test_cli_err(void)
{
    char *s = tl_test_read(cli_err);
    assert_non_null(s);
    return s;
}

void tl_test_make_key(const char *db, const char *args, char *key, size_t len)
{
    assert_int_equal(tl_test_cli("--db '%s' key create %s", db, args), 0);
    char *out = tl_test_cli_out();
    size_t n = strlen(out);
    while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = '\0';
    const char *w = strrchr(out, ' '), *nl = strrchr(out, '\n');
    if (!w || (nl && nl > w))
        w = nl;
    w = w ? w + 1 : out;
    assert_int_equal(strncmp(w, "tl_", 3), 0);
    snprintf(key, len, "%s", w);
    free(out);
}

void tl_test_cli_check(int rc, int code, const char *out_has, const char *err_has)
{
    char *out = tl_test_cli_out(), *err = tl_test_cli_err();
    if (rc != code || (out_has && !strstr(out, out_has)) || (err_has && !strstr(err, err_has)))
        fail_msg("expected exit %d, stdout with '%s', stderr with '%s'; got exit %d\n"
                 "stdout:\n%.2000s\nstderr:\n%.2000s",
                 code, out_has ? out_has : "", err_has ? err_has : "", rc, out, err);
    free(out);
    free(err);
}

int tl_test_file_has(const char *path, const char *text)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t cap = 1 << 20, n = 0, got, t = strlen(text);
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        char *more = n == cap ? realloc(buf, cap *= 2) : buf;
        if (!more)
            free(buf);
        buf = more;
    }
    fclose(f);
    int found = 0;
    for (size_t i = 0; buf && !found && i + t <= n; i++)
        found = memcmp(buf + i, text, t) == 0;
    free(buf);
    return found;
}

int tl_test_loans_store(int users, const char *name, char *db, char *model)
{
    char *ev = malloc(1 << 16);
    if (!ev)
        return -1;
    size_t o = (size_t)snprintf(ev, 1 << 16, "user\titem\ttype\ttimestamp\n");
    for (int u = 0; u < users && o < (1 << 16) - 64; u++)
        for (int k = 0; k < 8; k++)
            o += (size_t)snprintf(ev + o, (1 << 16) - o, "u%02d\ti%02d\tloan\t%d\n", u,
                                  (u * 5 + k * (u % 4 + 1)) % 40, 1000 + u * 20 + k);
    char events[600];
    snprintf(events, sizeof(events), "%s.events.tsv", tl_test_tmp(name));
    int rc = tl_test_write(events, ev);
    free(ev);
    snprintf(db, 600, "%s", tl_test_store(name));
    snprintf(model, 600, "%s.tlm", tl_test_tmp(name));
    if (rc || tl_test_cli("--db '%s' import events '%s' --quiet", db, events) ||
        tl_test_cli("--db '%s' train --model itemknn --out '%s' --quiet", db, model))
        return -1;
    return 0;
}
