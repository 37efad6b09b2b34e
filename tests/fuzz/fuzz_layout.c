/* Circulation layouts: a mapping file (src/ingest/layout.c) and a circulation export read
 * through it (the layout paths of src/ingest/import.c). The input is the mapping file, a line
 * "---", then the export; without that line all of it is the export, read with the built-in
 * layout that the first byte chooses. Each row's copy resolves to "bib-COPY" unless the copy
 * starts with "x" (not in the holdings). Checks: every error has a message; rows are accepted,
 * skipped or ignored, each once; a record handed on names a non-empty item and a known type. */
#include "fuzz.h"

#include <stdio.h>
#include <string.h>

typedef struct sink_state {
    char item[TL_ID_MAX + 8];
    long long events;
} sink_state;

static tl_err on_event(void *ctx, const tl_event_rec *r, tl_diag *d)
{
    (void)d;
    sink_state *s = ctx;
    TL_FUZZ_CHECK(r->user && r->user_len > 0 && r->item && r->item_len > 0);
    TL_FUZZ_CHECK(r->type && r->type[0] && strlen(r->type) <= TL_EVENT_TYPE_MAX);
    TL_FUZZ_CHECK(r->ts >= TL_TIME_MIN && r->ts <= TL_TIME_MAX);
    s->events++;
    return TL_OK;
}

static tl_err on_copy(void *ctx, const char *copy, size_t len, const char **item, size_t *item_len,
                      tl_diag *d)
{
    (void)d;
    sink_state *s = ctx;
    TL_FUZZ_CHECK(len > 0 && len <= TL_ID_MAX);
    if (copy[0] == 'x')
        return TL_ENOTFOUND;
    snprintf(s->item, sizeof(s->item), "bib-%.*s", (int)len, copy);
    *item = s->item;
    *item_len = strlen(s->item);
    return TL_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    const char *sep = NULL;
    for (size_t k = 0; !sep && k + 5 <= len; k++)
        if (memcmp(text + k, "\n---\n", 5) == 0)
            sep = text + k;
    tl_ingest_layout *lay = NULL;
    tl_diag d;
    tl_err rc;
    const char *file = text;
    size_t file_len = len;
    if (sep) {
        size_t n = (size_t)(sep - text);
        rc = tl_ingest_layout_parse(text, n, "fuzz.layout", &lay, &d);
        file = sep + 5;
        file_len = len - n - 5;
    } else {
        rc = tl_ingest_layout_load(tl_ingest_layout_names[sel & 1], &lay, &d);
        TL_FUZZ_CHECK(rc == TL_OK);
    }
    if (rc != TL_OK) {
        TL_FUZZ_CHECK(d.msg[0] != '\0' && !lay);
        return 0;
    }
    TL_FUZZ_CHECK(tl_ingest_layout_name(lay)[0] != '\0');
    tl_ingest_opts o;
    tl_ingest_opts_init(&o);
    o.kind = TL_INGEST_EVENTS;
    o.format = TL_FORMAT_CSV;
    o.layout = lay;
    o.skip_bad = (sel >> 1) & 1;
    o.path = tl_fuzz_file((const uint8_t *)file, file_len, ".csv");
    sink_state st = {.events = 0};
    tl_ingest_sink sink = {.ctx = &st, .event = on_event, .copy = on_copy};
    tl_ingest_report rep;
    rc = tl_ingest_file(&o, &sink, &rep, &d);
    if (rc == TL_OK) {
        TL_FUZZ_CHECK(rep.accepted + rep.skipped + rep.ignored == rep.rows);
        TL_FUZZ_CHECK(st.events >= rep.accepted); /* a row may add its return */
    } else {
        TL_FUZZ_CHECK(d.msg[0] != '\0');
    }
    tl_ingest_layout_free(lay);
    return 0;
}
