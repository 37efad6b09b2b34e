/* util: interning, parameters, hashes, line reading (plain and gzip), diagnostics, calendar
 * dates. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "tailor/params.h"
#include "util/civil.h"
#include "util/hash.h"
#include "util/intern.h"
#include "util/lines.h"

static void test_intern_dense_and_stable(void **state)
{
    (void)state;
    tl_intern in;
    tl_intern_init(&in);
    char buf[32];
    for (int i = 0; i < 5000; i++) {
        int32_t idx;
        int n = snprintf(buf, sizeof(buf), "id-%d", i);
        assert_int_equal(tl_intern_add(&in, buf, (size_t)n, &idx), TL_OK);
        assert_int_equal(idx, i);
    }
    int32_t again;
    assert_int_equal(tl_intern_add(&in, "id-1234", 7, &again), TL_OK);
    assert_int_equal(again, 1234);
    assert_int_equal(tl_intern_find(&in, "id-4999", 7), 4999);
    assert_int_equal(tl_intern_find(&in, "id-5000", 7), -1);
    /* ids are bytes: a prefix is a different id */
    assert_int_equal(tl_intern_find(&in, "id-1", 3), -1);
    assert_string_equal(tl_intern_str(&in, 42), "id-42");

    char *packed;
    size_t len;
    assert_int_equal(tl_intern_pack(&in, &packed, &len), TL_OK);
    tl_intern back;
    tl_intern_init(&back);
    assert_int_equal(tl_intern_unpack(&back, packed, len, in.count), TL_OK);
    assert_int_equal(back.count, 5000);
    assert_string_equal(tl_intern_str(&back, 4321), "id-4321");
    /* a count that does not match the bytes is corrupt */
    tl_intern bad;
    tl_intern_init(&bad);
    assert_int_equal(tl_intern_unpack(&bad, packed, len, in.count + 1), TL_ECORRUPT);
    tl_intern_release(&bad);
    free(packed);
    tl_intern_release(&back);
    tl_intern_release(&in);
}

typedef struct test_cfg {
    double reg;
    int factors;
    const char *solver;
    int64_t seed;
} test_cfg;

static const tl_param_def defs[] = {
    TL_PARAM(test_cfg, factors, "64", 1, 1024, "latent factors"),
    TL_PARAM(test_cfg, reg, "0.5", 0, 1e6, "L2 regularization"),
    TL_PARAM(test_cfg, solver, "cg", 0, 0, "cg or cholesky"),
    TL_PARAM(test_cfg, seed, "42", 0, 9007199254740992.0, "a seed beyond int"),
};

static void test_params(void **state)
{
    (void)state;
    tl_params p;
    tl_diag d;
    assert_int_equal(tl_params_init(&p, defs, 4), TL_OK);
    assert_true(tl_params_num(&p, "factors") == 64);
    assert_false(tl_params_is_set(&p, "factors"));
    assert_int_equal(tl_params_set_kv(&p, "factors=128", &d), TL_OK);
    assert_true(tl_params_is_set(&p, "factors"));
    assert_int_equal(tl_params_set_kv(&p, "factors=1.5", &d), TL_EINVAL);
    assert_string_equal(d.field, "factors");
    assert_int_equal(tl_params_set_kv(&p, "factors=0", &d), TL_EINVAL);
    assert_int_equal(tl_params_set_kv(&p, "reg=abc", &d), TL_EINVAL);
    assert_int_equal(tl_params_set_kv(&p, "nope=1", &d), TL_EINVAL);
    assert_string_equal(d.field, "nope");
    assert_int_equal(tl_params_set_kv(&p, "solver=cholesky", &d), TL_OK);
    assert_int_equal(tl_params_set_kv(&p, "reg=0.1", &d), TL_OK);

    char *text;
    assert_int_equal(tl_params_to_text(&p, &text), TL_OK);
    tl_params q;
    assert_int_equal(tl_params_init(&q, defs, 4), TL_OK);
    assert_int_equal(tl_params_from_text(&q, text, &d), TL_OK);
    assert_true(tl_params_num(&q, "factors") == 128);
    assert_true(tl_params_num(&q, "reg") == 0.1); /* %.17g round-trips exactly */
    assert_string_equal(tl_params_str(&q, "solver"), "cholesky");
    free(text);
    tl_params_release(&q);
    tl_params_release(&p);
}

static void test_params_bind(void **state)
{
    (void)state;
    /* The table says each name and type once, in the struct. */
    assert_string_equal(defs[0].name, "factors");
    assert_int_equal(defs[0].type, TL_PARAM_INT);
    assert_int_equal(defs[0].field, TL_FIELD_INT);
    assert_int_equal(defs[1].type, TL_PARAM_FLOAT);
    assert_int_equal(defs[2].type, TL_PARAM_STR);
    assert_int_equal(defs[3].type, TL_PARAM_INT);
    assert_int_equal(defs[3].field, TL_FIELD_INT64);
    assert_int_equal(defs[3].offset, offsetof(test_cfg, seed));

    tl_params p;
    tl_diag d;
    test_cfg cfg;
    memset(&cfg, 0xA5, sizeof(cfg));
    assert_int_equal(tl_params_init(&p, defs, 4), TL_OK);
    tl_params_bind(&p, &cfg);
    /* Binding writes the defaults at once. */
    assert_int_equal(cfg.factors, 64);
    assert_true(cfg.reg == 0.5);
    assert_string_equal(cfg.solver, "cg");
    assert_true(cfg.seed == 42);
    /* Every way of setting a value reaches the field. */
    assert_int_equal(tl_params_set_kv(&p, "factors=128", &d), TL_OK);
    assert_int_equal(tl_params_set_default(&p, "reg", "0.25", &d), TL_OK);
    assert_int_equal(tl_params_from_text(&p, "solver=cholesky\nseed=9007199254740992\n", &d),
                     TL_OK);
    assert_int_equal(cfg.factors, 128);
    assert_true(cfg.reg == 0.25);
    assert_string_equal(cfg.solver, "cholesky");
    assert_ptr_equal(cfg.solver, tl_params_str(&p, "solver"));
    assert_true(cfg.seed == 9007199254740992LL);
    /* A rejected value leaves the field as it was. */
    assert_int_equal(tl_params_set_kv(&p, "factors=2048", &d), TL_EINVAL);
    assert_int_equal(tl_params_set_kv(&p, "factors=1.5", &d), TL_EINVAL);
    assert_int_equal(cfg.factors, 128);
    /* The field and the text form agree. */
    char *text;
    assert_int_equal(tl_params_to_text(&p, &text), TL_OK);
    assert_string_equal(text, "factors=128\nreg=0.25\nsolver=cholesky\nseed=9007199254740992\n");
    free(text);
    /* Release ends the binding without leaving a pointer to freed memory. */
    tl_params_release(&p);
    assert_null(cfg.solver);
    assert_null(p.bound);
}

static void test_civil_dates(void **state)
{
    (void)state;
    /* Fixed points: the epoch, the 32-bit time_t limit, the ends of four-digit years. */
    assert_int_equal(tl_civil_days(1970, 1, 1), 0);
    assert_int_equal(tl_civil_days(1969, 12, 31), -1);
    assert_int_equal(tl_civil_days(2038, 1, 19), 24855); /* 2^31 s is 2038-01-19 03:14:08 */
    assert_int_equal(tl_civil_days(2000, 3, 1), 11017);
    assert_int_equal(tl_civil_days(9999, 12, 31), 2932896); /* 253402300799 s */
    assert_int_equal(tl_civil_days(0, 1, 1), -719528);      /* -62167219200 s */
    assert_int_equal(tl_civil_days(-1, 12, 31), -719529);
    assert_int_equal(tl_civil_days(-400, 3, 1), -719468 - 146097);
    /* Leap years: every fourth, not centuries, but every fourth century; negative years too
     * (year 0 is 1 BC). */
    assert_true(tl_civil_leap(2024) && tl_civil_leap(2000) && tl_civil_leap(1600));
    assert_true(tl_civil_leap(0) && tl_civil_leap(-4) && tl_civil_leap(-400));
    assert_false(tl_civil_leap(2023) || tl_civil_leap(1900) || tl_civil_leap(2100));
    assert_false(tl_civil_leap(-1) || tl_civil_leap(-100));
    assert_true(tl_civil_valid(2000, 2, 29) && tl_civil_valid(2024, 2, 29));
    assert_false(tl_civil_valid(1900, 2, 29) || tl_civil_valid(2023, 2, 29));
    assert_false(tl_civil_valid(2024, 0, 1) || tl_civil_valid(2024, 13, 1));
    assert_false(tl_civil_valid(2024, 4, 31) || tl_civil_valid(2024, 1, 0));
    assert_true(tl_civil_valid(2024, 12, 31) && tl_civil_valid(-1, 2, 28));

    /* Every valid day from -2001 to 10000 is the day after the one before, and a year has 365
     * days plus its leap day. */
    int64_t prev = tl_civil_days(-2001, 1, 1) - 1;
    for (int64_t y = -2001; y <= 10000; y++) {
        int64_t first = prev + 1;
        for (unsigned m = 1; m <= 12; m++)
            for (unsigned d = 1; d <= 31; d++) {
                if (!tl_civil_valid(y, m, d))
                    continue;
                int64_t t = tl_civil_days(y, m, d);
                if (t != prev + 1)
                    fail_msg("%lld-%u-%u is day %lld, after %lld", (long long)y, m, d, (long long)t,
                             (long long)prev);
                prev = t;
            }
        assert_int_equal(prev - first + 1, 365 + tl_civil_leap(y));
    }

    /* The same days as the C library's timegm wherever its time_t reaches. */
    for (int y = 1902; y <= 2037; y++)
        for (unsigned m = 1; m <= 12; m++)
            for (unsigned d = 1; d <= 31; d++) {
                struct tm tm = {0};
                tm.tm_year = y - 1900;
                tm.tm_mon = (int)m - 1;
                tm.tm_mday = (int)d;
                time_t t = timegm(&tm);
                int valid = tm.tm_mday == (int)d; /* timegm normalizes 04-31 to 05-01 */
                assert_int_equal(valid, tl_civil_valid(y, m, d));
                if (valid)
                    assert_int_equal((int64_t)t, tl_civil_days(y, m, d) * 86400);
            }
}

static void test_protocol_hashes(void **state)
{
    (void)state;
    /* Values from the reference definitions in PROTOCOL.md (FNV-1a 64 test vectors). */
    assert_true(tl_fnv1a64("", 0) == 14695981039346656037ULL);
    assert_true(tl_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(tl_splitmix64(0) == 0xe220a8397b1dcdafULL);
}

static void test_lines_plain_and_gzip(void **state)
{
    (void)state;
    char path[512], gz[512];
    snprintf(path, sizeof(path), "%s/lines.txt", tl_test_tmpdir());
    snprintf(gz, sizeof(gz), "%s/lines.txt.gz", tl_test_tmpdir());
    assert_int_equal(tl_test_write(path, "a\tb\r\n\nlast-without-newline"), 0);
    assert_int_equal(tl_test_sh("gzip -c '%s' > '%s'", path, gz), 0);
    const char *paths[] = {path, gz};
    for (int k = 0; k < 2; k++) {
        tl_lines lr;
        char *line;
        size_t len;
        assert_int_equal(tl_lines_open(&lr, paths[k]), TL_OK);
        assert_int_equal(tl_lines_next(&lr, &line, &len), 1);
        assert_string_equal(line, "a\tb"); /* CRLF stripped */
        assert_int_equal(tl_lines_next(&lr, &line, &len), 1);
        assert_int_equal(len, 0);
        assert_int_equal(tl_lines_next(&lr, &line, &len), 1);
        assert_string_equal(line, "last-without-newline");
        assert_int_equal(lr.lineno, 3);
        assert_int_equal(tl_lines_next(&lr, &line, &len), 0);
        tl_lines_close(&lr);
    }
    tl_lines lr;
    assert_int_equal(tl_lines_open(&lr, "/nonexistent/file"), TL_EIO);
}

/* Reads every line of path into one string, each followed by '\n', and returns how reading
 * ended (0, or the negated error); *nlines counts the lines. */
static int read_all(const char *path, unsigned flags, char **text, long *nlines, tl_lines *lr)
{
    char *line;
    size_t len, cap = 1 << 16, off = 0;
    int got;
    char *out = malloc(cap);
    assert_non_null(out);
    assert_int_equal(tl_lines_open_flags(lr, path, flags), TL_OK);
    *nlines = 0;
    while ((got = tl_lines_next(lr, &line, &len)) == 1) {
        assert_int_equal(strlen(line), len);
        while (off + len + 2 > cap) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        memcpy(out + off, line, len);
        off += len;
        out[off++] = '\n';
        (*nlines)++;
    }
    out[off] = '\0';
    *text = out;
    return got;
}

/* Deflates text as one gzip member into out (Z_FINISH), or without its end (Z_FULL_FLUSH:
 * everything decodable, the stream never ends); returns the byte count. */
static size_t gzip_member(const char *text, unsigned char *out, size_t cap, int finish)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (unsigned char *)text;
    zs.avail_in = (unsigned)strlen(text);
    zs.next_out = out;
    zs.avail_out = (unsigned)cap;
    assert_int_equal(deflate(&zs, finish ? Z_FINISH : Z_FULL_FLUSH), finish ? Z_STREAM_END : Z_OK);
    size_t n = cap - zs.avail_out;
    deflateEnd(&zs);
    return n;
}

static void write_bytes(const char *path, const void *p, size_t n, const char *mode)
{
    FILE *f = fopen(path, mode);
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* LF, CRLF and CR end lines, also across the reader's buffer boundaries; with
 * TL_LINES_LF_ONLY only LF does. */
static void test_lines_line_ends(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/ends.txt", tl_test_tmpdir());
    assert_int_equal(tl_test_write(path, "a\rb\r\nc\n\rd\r\re"), 0);
    tl_lines lr;
    char *text;
    long n;
    assert_int_equal(read_all(path, 0, &text, &n, &lr), 0);
    assert_string_equal(text, "a\nb\nc\n\nd\n\ne\n");
    assert_int_equal(n, 7);
    assert_int_equal(lr.lineno, 7);
    tl_lines_close(&lr);
    free(text);
    assert_int_equal(read_all(path, TL_LINES_LF_ONLY, &text, &n, &lr), 0);
    assert_string_equal(text, "a\rb\nc\n\rd\r\re\n");
    tl_lines_close(&lr);
    free(text);
    /* ~1.4 MB of lines of every length up to 60 bytes: line ends fall on every offset of the
     * 256 KiB reads, CRLF split between two of them included */
    static const char *const ends[] = {"\n", "\r\n", "\r"};
    for (int k = 0; k < 3; k++) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        for (int i = 0; i < 45000; i++) {
            for (int c = 0; c < i % 61; c++)
                fputc('a' + (i + c) % 26, f);
            fputs(ends[k], f);
        }
        fclose(f);
        assert_int_equal(read_all(path, 0, &text, &n, &lr), 0);
        assert_int_equal(n, 45000);
        const char *p = text;
        for (int i = 0; i < 45000; i++) {
            for (int c = 0; c < i % 61; c++)
                if (*p++ != 'a' + (i + c) % 26)
                    fail_msg("ends %d: line %d differs", k, i + 1);
            assert_int_equal(*p++, '\n');
        }
        tl_lines_close(&lr);
        free(text);
    }
}

/* Concatenated members are one stream; zero padding after the last is not data. */
static void test_lines_gzip_members(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/members.gz", tl_test_tmpdir());
    unsigned char buf[4096];
    size_t n = gzip_member("a\nb\n", buf, sizeof(buf), 1);
    write_bytes(path, buf, n, "wb");
    n = gzip_member("", buf, sizeof(buf), 1);
    write_bytes(path, buf, n, "ab");
    n = gzip_member("c\nd", buf, sizeof(buf), 1);
    write_bytes(path, buf, n, "ab");
    n = gzip_member("e\n", buf, sizeof(buf), 1);
    write_bytes(path, buf, n, "ab");
    memset(buf, 0, 1000);
    write_bytes(path, buf, 1000, "ab");
    tl_lines lr;
    char *text;
    long lines;
    assert_int_equal(read_all(path, 0, &text, &lines, &lr), 0);
    assert_string_equal(text, "a\nb\nc\nde\n");
    assert_int_equal(lr.members, 4);
    tl_lines_close(&lr);
    free(text);
}

/* A stream cut short (at a line end or inside a line), a bad CRC, junk after the end: every
 * complete line before the damage is read, then an error that says what and after how many
 * lines; a line cut in two is never returned. */
static void test_lines_gzip_damage(void **state)
{
    (void)state;
    char path[512], want[64];
    snprintf(path, sizeof(path), "%s/damaged.gz", tl_test_tmpdir());
    char *text = malloc(1 << 20), *got;
    assert_non_null(text);
    size_t off = 0;
    for (int i = 0; i < 20000; i++)
        off += (size_t)sprintf(text + off, "line %d of the test\n", i);
    size_t cap = off + 1024;
    unsigned char *gz = malloc(cap);
    assert_non_null(gz);
    tl_lines lr;
    long lines;

    size_t n = gzip_member(text, gz, cap, 0); /* flushed, never finished */
    write_bytes(path, gz, n, "wb");
    assert_int_equal(read_all(path, 0, &got, &lines, &lr), -TL_ECORRUPT);
    assert_string_equal(got, text);
    assert_string_equal(tl_lines_error(&lr),
                        "truncated gzip stream (unexpected end after 20000 lines)");
    tl_lines_close(&lr);
    free(got);

    n = gzip_member(text, gz, cap, 1);
    for (size_t cut = 0; cut < n; cut += n / 7 + 1) {
        write_bytes(path, gz, cut, "wb");
        assert_int_equal(read_all(path, 0, &got, &lines, &lr), cut < 2 ? 0 : -TL_ECORRUPT);
        if (cut >= 2) {
            snprintf(want, sizeof(want), "(unexpected end after %ld lines)", lines);
            assert_non_null(strstr(tl_lines_error(&lr), want));
        }
        assert_int_equal(memcmp(got, text, strlen(got)), 0); /* whole lines only */
        tl_lines_close(&lr);
        free(got);
    }

    gz[n - 8] ^= 1; /* the CRC-32 of the trailer */
    write_bytes(path, gz, n, "wb");
    assert_int_equal(read_all(path, 0, &got, &lines, &lr), -TL_ECORRUPT);
    assert_non_null(strstr(tl_lines_error(&lr), "corrupt gzip stream"));
    tl_lines_close(&lr);
    free(got);
    gz[n - 8] ^= 1;

    write_bytes(path, gz, n, "wb");
    write_bytes(path, "\0\0x", 3, "ab");
    assert_int_equal(read_all(path, 0, &got, &lines, &lr), -TL_ECORRUPT);
    assert_string_equal(got, text);
    assert_non_null(strstr(tl_lines_error(&lr), "not gzip data after the end"));
    tl_lines_close(&lr);
    free(got);

    gz[20] ^= 0xff; /* inside the compressed data */
    write_bytes(path, gz, n, "wb");
    assert_true(read_all(path, 0, &got, &lines, &lr) < 0);
    tl_lines_close(&lr);
    free(got);
    free(gz);
    free(text);
}

/* A line over TL_LINE_MAX: an error that consumes it, or pieces that show every byte. */
static void test_lines_long(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/long.txt", tl_test_tmpdir());
    size_t big = 2 * TL_LINE_MAX + 5;
    char *text = malloc(big + 16);
    assert_non_null(text);
    memcpy(text, "a\n", 2);
    memset(text + 2, 'x', big);
    memcpy(text + 2 + big, "\r\nb", 4);
    assert_int_equal(tl_test_write(path, text), 0);
    tl_lines lr;
    char *line;
    size_t len;
    int more;
    assert_int_equal(tl_lines_open(&lr, path), TL_OK);
    assert_int_equal(tl_lines_next(&lr, &line, &len), 1);
    assert_int_equal(tl_lines_next(&lr, &line, &len), -TL_EPARSE);
    assert_string_equal(tl_lines_error(&lr), "line longer than 1 MiB");
    assert_int_equal(tl_lines_next(&lr, &line, &len), 1);
    assert_string_equal(line, "b");
    assert_int_equal(lr.lineno, 3);
    tl_lines_close(&lr);
    assert_int_equal(tl_lines_open(&lr, path), TL_OK);
    assert_int_equal(tl_lines_next_piece(&lr, &line, &len, &more), 1);
    size_t total = 0;
    int pieces = 0;
    do {
        assert_int_equal(tl_lines_next_piece(&lr, &line, &len, &more), 1);
        for (size_t i = 0; i < len; i++)
            assert_int_equal(line[i], 'x');
        total += len;
        pieces++;
        assert_int_equal(lr.lineno, 2);
    } while (more);
    assert_int_equal(total, big);
    assert_int_equal(pieces, 3);
    assert_int_equal(tl_lines_next_piece(&lr, &line, &len, &more), 1);
    assert_string_equal(line, "b");
    assert_int_equal(tl_lines_next_piece(&lr, &line, &len, &more), 0);
    tl_lines_close(&lr);
    free(text);
}

static void test_diag_format(void **state)
{
    (void)state;
    tl_diag d;
    char buf[256];
    tl_diag_set(&d, "events.tsv", 17, "value", "'x' is not a number");
    tl_diag_format(&d, buf, sizeof(buf));
    assert_string_equal(buf, "events.tsv:17: field 'value': 'x' is not a number");
    assert_string_equal(tl_strerror(TL_ECORRUPT), "corrupt file");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intern_dense_and_stable),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_params_bind),
        cmocka_unit_test(test_civil_dates),
        cmocka_unit_test(test_protocol_hashes),
        cmocka_unit_test(test_lines_plain_and_gzip),
        cmocka_unit_test(test_lines_line_ends),
        cmocka_unit_test(test_lines_gzip_members),
        cmocka_unit_test(test_lines_gzip_damage),
        cmocka_unit_test(test_lines_long),
        cmocka_unit_test(test_diag_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
