/* Writes a simulated library in Tailor's import formats: items.tsv (the catalogue), users.tsv
 * (synthetic patrons) and events.tsv (synthetic circulation), all TSV with a header line. */
#include "synth/synth.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void ymd(int64_t ts, char *buf, size_t cap)
{
    time_t t = (time_t)ts;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, cap, "%" PRId64, ts);
        return;
    }
    strftime(buf, cap, "%Y-%m-%d", &tm);
}

static FILE *open_out(const char *dir, const char *name, char *path, size_t cap, tl_diag *d)
{
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        tl_diag_set(d, path, 0, NULL, "cannot write: %s", strerror(errno));
    return f;
}

static tl_err close_out(FILE *f, int ok, const char *path, tl_diag *d)
{
    if (fclose(f) != 0 || !ok) {
        tl_diag_set(d, path, 0, NULL, "write failed: %s", strerror(errno));
        return TL_EIO;
    }
    return TL_OK;
}

static tl_err write_items(const tl_synth_library *lib, const char *dir, tl_diag *d)
{
    char path[1024], date[32];
    FILE *f = open_out(dir, "items.tsv", path, sizeof(path), d);
    if (!f)
        return TL_EIO;
    int ok = fputs("item\ttype\ttitle\tcreators\tsubjects\tyear\tlanguage\tformat\tadded\tcopies\ta"
                   "vailable\n",
                   f) >= 0;
    for (int32_t i = 0; i < lib->nbooks && ok; i++) {
        const tl_synth_book *b = &lib->books[i];
        char year[16] = "";
        if (b->year)
            snprintf(year, sizeof(year), "%d", (int)b->year);
        ymd(b->added, date, sizeof(date));
        ok = fprintf(f, "%s\tbook\t%s\t%s\t%s\t%s\t%s\tprint\t%s\t%d\t%d\n", b->id, b->title,
                     b->creators, b->subjects, year, b->language, date, (int)b->copies,
                     (int)b->available) > 0;
    }
    return close_out(f, ok, path, d);
}

static tl_err write_users(const tl_synth_library *lib, const char *dir, tl_diag *d)
{
    char path[1024], date[32];
    FILE *f = open_out(dir, "users.tsv", path, sizeof(path), d);
    if (!f)
        return TL_EIO;
    int ok = fputs("user\tdepartment\tlevel\tbranch\tcreated\tconsent\n", f) >= 0;
    for (int32_t u = 0; u < lib->npatrons && ok; u++) {
        const tl_synth_patron *p = &lib->patrons[u];
        ymd(p->created, date, sizeof(date));
        ok = fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\n", p->id, p->department, p->level, p->branch, date,
                     p->consent ? "yes" : "no") > 0;
    }
    return close_out(f, ok, path, d);
}

static tl_err write_events(const tl_synth_library *lib, const char *dir, tl_diag *d)
{
    char path[1024];
    FILE *f = open_out(dir, "events.tsv", path, sizeof(path), d);
    if (!f)
        return TL_EIO;
    int ok = fputs("user\titem\ttype\tvalue\ttimestamp\tbranch\tdevice\n", f) >= 0;
    for (int64_t k = 0; k < lib->nevents && ok; k++) {
        const tl_synth_event *e = &lib->events[k];
        ok = fprintf(f, "%s\t%s\t%s\t%d\t%" PRId64 "\t%s\t%s\n", lib->patrons[e->patron].id,
                     lib->books[e->book].id, tl_synth_ev_name((tl_synth_ev)e->type), (int)e->value,
                     e->ts, tl_synth_branch_name(e->branch), tl_synth_device_name(e->device)) > 0;
    }
    return close_out(f, ok, path, d);
}

tl_err tl_synth_library_write(const tl_synth_library *lib, const char *dir, tl_diag *d)
{
    tl_err rc = write_items(lib, dir, d);
    if (rc == TL_OK)
        rc = write_users(lib, dir, d);
    if (rc == TL_OK)
        rc = write_events(lib, dir, d);
    if (rc == TL_OK)
        rc = tl_synth_library_write_marc(lib, dir, d);
    return rc;
}
