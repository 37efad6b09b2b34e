/* The MARC reader (src/ingest/marc.c) over any bytes as an ISO 2709 or MARCXML file: it must
 * never crash, and every record it hands over must keep its contract: a non-empty id of at
 * most TL_ID_MAX bytes without control characters, valid UTF-8 in every string, a known item
 * type, copies that add up; and its report must add up. */
#include "fuzz.h"

#include <math.h>
#include <string.h>

#include "ingest/csv.h"

static void utf8(const char *s)
{
    if (s)
        TL_FUZZ_CHECK(tl_utf8_check(s, strlen(s)) < 0);
}

static tl_err check(void *ctx, const tl_marc_rec *m, tl_diag *d)
{
    (void)d;
    long long *n = ctx;
    const tl_item_rec *it = &m->item;
    TL_FUZZ_CHECK(it->id && it->id_len > 0 && it->id_len == strlen(it->id));
    for (size_t i = 0; i < it->id_len; i++)
        TL_FUZZ_CHECK((unsigned char)it->id[i] >= 0x20 && it->id[i] != 0x7f);
    int known = 0;
    for (int k = 0; tl_item_type_names[k]; k++)
        known |= strcmp(it->type, tl_item_type_names[k]) == 0;
    TL_FUZZ_CHECK(known);
    const char *s[] = {
        it->title,         it->authors,         it->subjects,       it->language,
        it->format,        it->extra,           m->details.work,    m->details.isbn,
        m->details.issn,   m->details.series,   m->details.edition, m->details.publisher,
        m->details.extent, m->details.contents, m->details.summary, m->details.cover};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        utf8(s[i]);
    TL_FUZZ_CHECK(isnan(m->details.series_volume) || isfinite(m->details.series_volume));
    int avail = 0;
    for (int h = 0; h < m->nholdings; h++) {
        TL_FUZZ_CHECK(m->holdings[h].copy && m->holdings[h].copy[0]);
        utf8(m->holdings[h].copy);
        utf8(m->holdings[h].branch);
        utf8(m->holdings[h].location);
        avail += m->holdings[h].available != 0;
    }
    if (m->nholdings)
        TL_FUZZ_CHECK(it->copies == m->nholdings && it->available == avail);
    (*n)++;
    return TL_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    for (int skip = 0; skip < 2; skip++) {
        tl_marc_opts o;
        tl_marc_opts_init(&o);
        o.path = tl_fuzz_file(data, size, ".mrc");
        o.skip_bad = skip;
        long long n = 0;
        tl_marc_report rep;
        tl_diag d;
        tl_err rc = tl_marc_read(&o, check, &n, &rep, &d);
        TL_FUZZ_CHECK(rc == TL_OK || rc == TL_EPARSE);
        TL_FUZZ_CHECK(rep.accepted == n);
        TL_FUZZ_CHECK(rep.accepted + rep.skipped <= rep.records);
        if (rc == TL_OK && !skip)
            TL_FUZZ_CHECK(rep.skipped == 0);
    }
    return 0;
}
