/* Exit codes and checked output for every command: errors map to exit codes in one place, and
 * nothing counts as written until it was flushed and the OS said yes. */
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tl_cli_exit_code(tl_err rc, const tl_diag *d)
{
    switch (rc) {
    case TL_OK:
        return TL_EXIT_OK;
    case TL_EINVAL:
        return TL_EXIT_USAGE;
    case TL_EPARSE:
        return TL_EXIT_DATA;
    case TL_ECANCELED:
        return TL_EXIT_INTERRUPTED;
    case TL_ENOMEM:
        return TL_EXIT_FAIL;
    default: /* an error found at a line of an input is about what the input says */
        return d && d->line > 0 ? TL_EXIT_DATA : TL_EXIT_FAIL;
    }
}

void tl_cli_error(const char *what, tl_err rc, const tl_diag *d)
{
    char buf[1024];
    if (d && (d->msg[0] || d->file[0])) {
        tl_diag_format(d, buf, sizeof(buf));
        fprintf(stderr, "tailor: %s: %s\n", what, buf);
    } else {
        fprintf(stderr, "tailor: %s: %s\n", what, tl_strerror(rc));
    }
}

int tl_cli_fail(const char *what, tl_err rc, const tl_diag *d)
{
    tl_cli_error(what, rc, d);
    return tl_cli_exit_code(rc, d);
}

const char *tl_cli_printable(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    for (; s && *s && o + 5 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\t')
            o += (size_t)snprintf(buf + o, len - o, "\\t");
        else if (c == '\n')
            o += (size_t)snprintf(buf + o, len - o, "\\n");
        else if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    if (s && *s && o + 4 <= len) { /* truncated: say so */
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o < len ? o : len - 1] = '\0';
    return buf;
}

int tl_tsv_field_ok(const char *cmd, const char *what, const char *s)
{
    if (!strpbrk(s, "\t\n\r"))
        return 1;
    char buf[128];
    fprintf(stderr,
            "tailor: %s: %s '%s' contains a TAB or line break and cannot be written as TSV\n", cmd,
            what, tl_cli_printable(s, buf, sizeof(buf)));
    return 0;
}

const char *tl_out_label(const tl_out *o)
{
    return o->name ? o->name : "standard output";
}

static int stdout_reported; /* a stdout error was printed already: main stays quiet */

/* Prints the write error of a stream (quietly for a broken pipe) and returns TL_EXIT_FAIL. */
static int write_error(const char *label, int err, int is_stdout)
{
    if (is_stdout) {
        if (stdout_reported)
            return TL_EXIT_FAIL;
        stdout_reported = 1;
    }
    if (err != EPIPE)
        fprintf(stderr, "tailor: writing %s: %s\n", label, strerror(err ? err : EIO));
    return TL_EXIT_FAIL;
}

int tl_out_open(tl_out *o, const char *path)
{
    memset(o, 0, sizeof(*o));
    o->af.fd = -1;
    if (!path || strcmp(path, "-") == 0) {
        o->f = stdout;
        return TL_EXIT_OK;
    }
    o->name = path;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_afile_open(&o->af, path, 0, &d);
    if (rc != TL_OK) {
        char what[600];
        snprintf(what, sizeof(what), "writing %s", path);
        /* d starts with the path already: print only its message */
        fprintf(stderr, "tailor: %s: %s\n", what, d.msg[0] ? d.msg : tl_strerror(rc));
        return tl_cli_exit_code(rc, &d);
    }
    /* The stream gets its own descriptor: fclose must not close the one the commit syncs. */
    int fd = dup(o->af.fd);
    if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        tl_afile_abort(&o->af);
        return write_error(path, err, 0);
    }
    return TL_EXIT_OK;
}

int tl_out_failed(const tl_out *o)
{
    return o->f && ferror(o->f);
}

int tl_out_close(tl_out *o, int code)
{
    if (!o->f)
        return code;
    if (o->f == stdout) {
        o->f = NULL;
        if (code == TL_EXIT_OK) {
            errno = 0;
            if (fflush(stdout) != 0 || ferror(stdout))
                return write_error("standard output", errno, 1);
        }
        return code;
    }
    errno = 0;
    int bad = fflush(o->f) != 0 || ferror(o->f);
    int err = errno;
    if (fclose(o->f) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    o->f = NULL;
    if (code != TL_EXIT_OK || bad) {
        tl_afile_abort(&o->af);
        return bad && code == TL_EXIT_OK ? write_error(o->name, err, 0) : code;
    }
    tl_diag d;
    tl_diag_clear(&d);
    if (tl_afile_commit(&o->af, &d) != TL_OK) {
        fprintf(stderr, "tailor: writing %s: %s\n", o->name, d.msg);
        return TL_EXIT_FAIL;
    }
    return TL_EXIT_OK;
}

int tl_cli_close_stdout(int code)
{
    errno = 0;
    int bad = fflush(stdout) != 0 || ferror(stdout);
    int err = errno;
    if (fclose(stdout) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    if (bad) {
        write_error("standard output", err, 1);
        return code == TL_EXIT_OK ? TL_EXIT_FAIL : code;
    }
    return code;
}

json_t *tl_json_num(double v, const char *what)
{
    if (isfinite(v))
        return json_real(v);
    fprintf(stderr, "tailor: %s is %s, which JSON cannot hold; written as null\n", what,
            isnan(v) ? "not a number" : "infinite");
    return json_null();
}

const char *tl_float_text(float v, char *buf, size_t len)
{
    for (int prec = 6; prec < 9; prec++) {
        snprintf(buf, len, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v)
            return buf;
    }
    snprintf(buf, len, "%.9g", (double)v);
    return buf;
}

json_t *tl_json_float(float v, const char *what)
{
    char buf[32];
    return isfinite(v) ? json_real(strtod(tl_float_text(v, buf, sizeof(buf)), NULL))
                       : tl_json_num(v, what);
}

json_t *tl_json_availability(const tl_rec_item *it)
{
    return json_pack("{s:s?, s:i, s:i}", "branch",
                     it->availability.branch[0] ? it->availability.branch : NULL, "on_shelf_here",
                     it->availability.on_shelf_here, "on_shelf_elsewhere",
                     it->availability.on_shelf_elsewhere);
}

int tl_json_emit(tl_out *o, json_t *j, int indent, int prec)
{
    if (!j) {
        fprintf(stderr, "tailor: building JSON: %s\n", tl_strerror(TL_ENOMEM));
        return TL_EXIT_FAIL;
    }
    size_t flags = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(prec) |
                   (indent ? JSON_INDENT(indent) : JSON_COMPACT);
    int rc = json_dumpf(j, o->f, flags);
    json_decref(j);
    if (rc != 0 && !ferror(o->f)) {
        fprintf(stderr, "tailor: writing JSON: a value cannot be represented\n");
        return TL_EXIT_FAIL;
    }
    fputc('\n', o->f);
    return TL_EXIT_OK;
}

json_t *tl_json_params(const char *text, const char *seps)
{
    json_t *o = json_object();
    char *copy = strdup(text ? text : "");
    if (!o || !copy) {
        json_decref(o);
        free(copy);
        return NULL;
    }
    for (char *save = NULL, *kv = strtok_r(copy, seps, &save); kv;
         kv = strtok_r(NULL, seps, &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *v = eq + 1, *why;
        int64_t i;
        double x;
        json_t *j;
        if (tl_opt_parse_i64(v, INT64_MIN, INT64_MAX, &i, &why) == 0)
            j = json_integer((json_int_t)i);
        else if (tl_opt_parse_num(v, -HUGE_VAL, HUGE_VAL, &x, &why) == 0)
            j = json_real(x);
        else
            j = json_string(v);
        json_object_set_new(o, kv, j);
    }
    free(copy);
    return o;
}
