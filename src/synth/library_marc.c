/* The demo library's catalogue as MARC 21 (dir/catalogue.mrc, ISO 2709 in UTF-8, written with
 * YAZ): each book's record with its copies as Koha 952 fields across the demo's branches, the
 * ones out at the end of the simulated year on loan, for `tailor import marc` to give the demo
 * copies and availability by branch. The series group of a goodbooks title ("(The Hunger
 * Games, #1)") becomes an 830 series with its volume. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/series.h"
#include "ingest/marc.h"
#include "synth/synth.h"

#define NBRANCHES 3 /* tl_synth_branch_name(1..3) */

static void ymd(int64_t ts, char *buf, size_t cap)
{
    time_t t = (time_t)ts;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        snprintf(buf, cap, "1970-01-01");
    else
        strftime(buf, cap, "%Y-%m-%d", &tm);
}

/* Writes one book's record. */
static int write_book(tl_marc_out *o, const tl_synth_library *lib, const tl_synth_book *b,
                      int64_t *itemnumber)
{
    char f008[96], year[16] = "", title[512], series[300], vol[32], date[16], due[16];
    const char *lang = b->language && strlen(b->language) == 3 ? b->language : "   ";
    if (b->year > 0)
        snprintf(year, sizeof(year), "%d", (int)b->year);
    snprintf(f008, sizeof(f008), "000101s%-4.4s    xx            000 1 %.3s d",
             b->year > 0 && b->year < 10000 ? year : "uuuu", lang);
    tl_marc_out_begin(o, "am", b->id);
    tl_marc_out_control(o, "008", f008);
    /* creators: the first as the main entry, the others as added entries */
    char names[1024];
    snprintf(names, sizeof(names), "%s", b->creators ? b->creators : "");
    int k = 0;
    for (char *save = NULL, *n = strtok_r(names, "|", &save); n; n = strtok_r(NULL, "|", &save))
        tl_marc_out_field(o, k++ ? "700" : "100", "1 ", "a", n, NULL);
    /* the title proper, and its series group as an 830 */
    double no = 0;
    int in_series = tl_series_parse(b->title, series, sizeof(series), &no);
    snprintf(title, sizeof(title), "%s", b->title);
    if (in_series) {
        char *open = strrchr(title, '(');
        while (open && open > title && open[-1] == ' ')
            *--open = '\0';
        if (open)
            *open = '\0';
    }
    /* nonfiling characters (245 ind2): "The ", "A ", "An " */
    char ind[3] = "00";
    if (strncmp(title, "The ", 4) == 0)
        ind[1] = '4';
    else if (strncmp(title, "An ", 3) == 0)
        ind[1] = '3';
    else if (strncmp(title, "A ", 2) == 0)
        ind[1] = '2';
    tl_marc_out_field(o, "245", ind, "a", title, NULL);
    tl_marc_out_field(o, "264", " 1", "c", year[0] ? year : NULL, NULL);
    if (in_series) {
        snprintf(vol, sizeof(vol), "%g", no);
        tl_marc_out_field(o, "830", " 0", "a", series, "v", vol, NULL);
    }
    char subjects[2048];
    snprintf(subjects, sizeof(subjects), "%s", b->subjects ? b->subjects : "");
    for (char *save = NULL, *s = strtok_r(subjects, "|", &save); s; s = strtok_r(NULL, "|", &save))
        tl_marc_out_field(o, "650", " 4", "a", s, NULL);
    /* copies: spread over the branches from one that depends on the book; those out at the
     * end of the simulated period are on loan */
    ymd(b->added, date, sizeof(date));
    ymd(lib->end + 14 * 86400, due, sizeof(due));
    int first = (int)(strlen(b->id) + (size_t)b->author) % NBRANCHES;
    for (int c = 0; c < b->copies; c++) {
        char num[24], bar[24];
        snprintf(num, sizeof(num), "%" PRId64, ++*itemnumber);
        snprintf(bar, sizeof(bar), "3900%07" PRId64, *itemnumber);
        const char *branch = tl_synth_branch_name(1 + (first + c) % NBRANCHES);
        tl_marc_out_field(o, "952", "  ", "9", num, "a", branch, "b", branch, "c", "STACKS", "d",
                          date, "p", bar, "q", c < b->copies - b->available ? due : NULL, NULL);
    }
    return tl_marc_out_end(o);
}

tl_err tl_synth_library_write_marc(const tl_synth_library *lib, const char *dir, tl_diag *d)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/catalogue.mrc", dir);
    FILE *f = fopen(path, "wb");
    if (!f) {
        tl_diag_set(d, path, 0, NULL, "cannot write: %s", strerror(errno));
        return TL_EIO;
    }
    tl_marc_out *o = tl_marc_out_new(f);
    int ok = o != NULL;
    int64_t itemnumber = 0;
    for (int32_t i = 0; i < lib->nbooks && ok; i++)
        ok = write_book(o, lib, &lib->books[i], &itemnumber) == 0;
    tl_marc_out_free(o);
    if (fclose(f) != 0 || !ok) {
        tl_diag_set(d, path, 0, NULL, "write failed: %s", o ? strerror(errno) : "out of memory");
        return o ? TL_EIO : TL_ENOMEM;
    }
    return TL_OK;
}
