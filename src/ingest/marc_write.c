/* Writes MARC 21 records as ISO 2709 in UTF-8 with YAZ (yaz_marc_add_* and
 * yaz_marc_write_iso2709): the benchmark's generated catalogue and the demo library's. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaz/marcdisp.h>
#include <yaz/wrbuf.h>

#include "ingest/marc.h"

struct tl_marc_out {
    FILE *f;
    yaz_marc_t mt;
    WRBUF wr, sub;
};

tl_marc_out *tl_marc_out_new(FILE *f)
{
    tl_marc_out *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->f = f;
    o->mt = yaz_marc_create();
    o->wr = wrbuf_alloc();
    o->sub = wrbuf_alloc();
    if (!o->mt || !o->wr || !o->sub) {
        tl_marc_out_free(o);
        return NULL;
    }
    return o;
}

void tl_marc_out_begin(tl_marc_out *o, const char *type_level, const char *id)
{
    char leader[TL_MARC_LEADER + 1];
    int il, sl, base, lde, ls, li;
    /* lengths are computed by the writer; a = UTF-8 (leader/09) */
    snprintf(leader, sizeof(leader), "00000n%c%c a2200000 a 4500", type_level[0], type_level[1]);
    yaz_marc_reset(o->mt);
    yaz_marc_set_leader(o->mt, leader, &il, &sl, &base, &lde, &ls, &li);
    tl_marc_out_control(o, "001", id);
}

void tl_marc_out_control(tl_marc_out *o, const char *tag, const char *data)
{
    yaz_marc_add_controlfield(o->mt, tag, data, strlen(data));
}

void tl_marc_out_field(tl_marc_out *o, const char *tag, const char *ind, ...)
{
    va_list ap;
    yaz_marc_add_datafield(o->mt, tag, ind, 2);
    va_start(ap, ind);
    for (;;) {
        const char *code = va_arg(ap, const char *);
        if (!code)
            break;
        const char *text = va_arg(ap, const char *);
        if (!text)
            continue;
        wrbuf_rewind(o->sub);
        wrbuf_putc(o->sub, code[0]);
        wrbuf_puts(o->sub, text);
        yaz_marc_add_subfield(o->mt, wrbuf_buf(o->sub), wrbuf_len(o->sub));
    }
    va_end(ap);
}

int tl_marc_out_end(tl_marc_out *o)
{
    wrbuf_rewind(o->wr);
    if (yaz_marc_write_iso2709(o->mt, o->wr) != 0 || wrbuf_len(o->wr) > 99999)
        return -1;
    return fwrite(wrbuf_buf(o->wr), 1, wrbuf_len(o->wr), o->f) == wrbuf_len(o->wr) ? 0 : -1;
}

void tl_marc_out_free(tl_marc_out *o)
{
    if (!o)
        return;
    if (o->mt)
        yaz_marc_destroy(o->mt);
    if (o->wr)
        wrbuf_destroy(o->wr);
    if (o->sub)
        wrbuf_destroy(o->sub);
    free(o);
}
