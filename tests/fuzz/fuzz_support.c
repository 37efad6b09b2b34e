/* What the fuzz targets share: temporary files (one per suffix, rewritten for every input and
 * removed at exit) and the import engine run with a sink that checks every record. */
#include "fuzz.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FILES 8

static struct {
    char suffix[16];
    char path[256];
} files[MAX_FILES];
static int nfiles;

static void remove_files(void)
{
    for (int i = 0; i < nfiles; i++)
        unlink(files[i].path);
}

const char *tl_fuzz_file(const uint8_t *data, size_t size, const char *suffix)
{
    int k = 0;
    while (k < nfiles && strcmp(files[k].suffix, suffix) != 0)
        k++;
    if (k == nfiles) {
        const char *dir = getenv("TMPDIR");
        if (k == MAX_FILES || strlen(suffix) >= sizeof(files[k].suffix))
            abort();
        snprintf(files[k].suffix, sizeof(files[k].suffix), "%s", suffix);
        snprintf(files[k].path, sizeof(files[k].path), "%s/tailor-fuzz-%ld-%d%s",
                 dir && *dir ? dir : "/tmp", (long)getpid(), k, suffix);
        if (nfiles++ == 0)
            atexit(remove_files);
    }
    FILE *f = fopen(files[k].path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort();
    return files[k].path;
}

void tl_fuzz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    abort();
}

/* A user or item id as the engine promises it: not empty, NUL-terminated at its length, no
 * control character. */
static void check_id(const char *id, size_t len)
{
    TL_FUZZ_CHECK(id && len > 0);
    TL_FUZZ_CHECK(strlen(id) == len);
    for (size_t i = 0; i < len; i++)
        TL_FUZZ_CHECK((unsigned char)id[i] >= 0x20 && id[i] != 0x7f);
}

static void check_time(int64_t t, int64_t lo)
{
    TL_FUZZ_CHECK(t == TL_ABSENT || (t >= lo && t <= TL_TIME_MAX));
}

static tl_err on_item(void *ctx, const tl_item_rec *r, tl_diag *d)
{
    (void)ctx;
    (void)d;
    check_id(r->id, r->id_len);
    TL_FUZZ_CHECK(r->type != NULL);
    check_time(r->added, TL_DATE_MIN);
    return TL_OK;
}

static tl_err on_user(void *ctx, const tl_user_rec *r, tl_diag *d)
{
    (void)ctx;
    (void)d;
    check_id(r->id, r->id_len);
    TL_FUZZ_CHECK(r->personalize >= -1 && r->personalize <= 1);
    check_time(r->created, TL_DATE_MIN);
    return TL_OK;
}

static tl_err on_event(void *ctx, const tl_event_rec *r, tl_diag *d)
{
    (void)ctx;
    (void)d;
    check_id(r->user, r->user_len);
    check_id(r->item, r->item_len);
    TL_FUZZ_CHECK(r->type && *r->type && strlen(r->type) <= TL_EVENT_TYPE_MAX);
    TL_FUZZ_CHECK(!r->has_value || (isfinite(r->value) && fabs(r->value) <= TL_VALUE_MAX));
    check_time(r->ts, TL_TIME_MIN);
    /* a sink may reject a record: the engine must count it, not crash */
    return r->user_len == 3 && memcmp(r->user, "bad", 3) == 0 ? TL_EINVAL : TL_OK;
}

static tl_err on_search(void *ctx, const tl_search_rec *r, tl_diag *d)
{
    (void)ctx;
    (void)d;
    if (r->user)
        check_id(r->user, r->user_len);
    TL_FUZZ_CHECK(r->query && *r->query);
    check_time(r->ts, TL_TIME_MIN);
    for (int i = 0; i < r->nclicked; i++)
        check_id(r->clicked[i], r->clicked_len[i]);
    return TL_OK;
}

void tl_fuzz_ingest(const uint8_t *data, size_t size, tl_ingest_format fmt, uint8_t sel)
{
    static const char *const suffix[] = {".txt", ".tsv", ".csv", ".jsonl"};
    tl_ingest_opts o;
    tl_ingest_opts_init(&o);
    o.kind = (tl_ingest_kind)(sel & 3);
    o.format = fmt;
    o.skip_bad = (sel >> 2) & 1;
    o.max_field = (sel >> 3) & 1 ? 16 : 0;
    o.list_sep = (sel >> 4) & 1 ? ',' : 0;
    o.path = tl_fuzz_file(data, size, suffix[fmt]);
    tl_ingest_sink sink = {NULL, on_item, on_user, on_event, on_search, NULL};
    tl_ingest_report rep;
    tl_diag d;
    tl_err rc = tl_ingest_file(&o, &sink, &rep, &d);
    if (rc == TL_OK) {
        TL_FUZZ_CHECK(rep.accepted + rep.skipped + rep.ignored == rep.rows);
        TL_FUZZ_CHECK(o.skip_bad || rep.skipped == 0);
        TL_FUZZ_CHECK(!rep.damaged);
    } else {
        TL_FUZZ_CHECK(d.msg[0] != '\0'); /* every error says what */
    }
}
