/* CSV and TSV: the record reader itself (src/ingest/csv.c) with every option, the import
 * engine over it (import.c), and the matrix reader of train and eval (matrix_tsv.c). The first
 * byte chooses the path (its top two bits) and the options; the rest is the file. */
#include "fuzz.h"

#include <string.h>

#include "core/data.h"
#include "ingest/csv.h"
#include "ingest/matrix_tsv.h"

/* The record reader: fields NUL-terminated at their length and within the limits, a bad
 * record skipped whole, a read error final and repeated, every error with a message. */
static void records(const uint8_t *data, size_t size, uint8_t sel)
{
    const char *path = tl_fuzz_file(data, size, ".csv");
    tl_csv_opts o = {
        .delim = sel & 1 ? ',' : '\t',
        .quoting = (sel >> 1) & 1,
        .max_field = (sel >> 2) & 1 ? 8 : 0,
        .raw = (sel >> 3) & 1,
        .lf_only = (sel >> 4) & 1,
    };
    size_t max_field = o.max_field ? o.max_field : TL_CSV_MAX_FIELD;
    tl_csv *r;
    tl_diag d;
    TL_FUZZ_CHECK(tl_csv_open(path, &o, &r, &d) == TL_OK);
    char **fields;
    size_t *lens;
    int nf, got;
    long last_line = 0;
    while ((got = tl_csv_next(r, &fields, &lens, &nf, &d)) != 0) {
        TL_FUZZ_CHECK(tl_csv_line(r) >= last_line); /* records come in file order */
        last_line = tl_csv_line(r);
        if (got == -TL_EPARSE) {
            TL_FUZZ_CHECK(d.msg[0] != '\0');
            TL_FUZZ_CHECK(tl__csv_reason(r) != TL_CSV_OK && tl__csv_reason(r) != TL_CSV_READ_ERROR);
            continue;
        }
        if (got < 0) { /* final: the next call says the same */
            TL_FUZZ_CHECK(d.msg[0] != '\0' && tl__csv_reason(r) == TL_CSV_READ_ERROR);
            TL_FUZZ_CHECK(tl_csv_next(r, &fields, &lens, &nf, &d) == got);
            break;
        }
        TL_FUZZ_CHECK(got == 1 && last_line >= 1 && nf >= 1 && nf <= TL_CSV_MAX_FIELDS);
        size_t total = 0;
        for (int i = 0; i < nf; i++) {
            TL_FUZZ_CHECK(fields[i][lens[i]] == '\0');
            total += lens[i];
            if (!o.raw) {
                TL_FUZZ_CHECK(lens[i] <= max_field);
                TL_FUZZ_CHECK(tl_utf8_check(fields[i], lens[i]) < 0); /* no NUL, valid UTF-8 */
            }
            if (!o.quoting)
                TL_FUZZ_CHECK(memchr(fields[i], '\n', lens[i]) == NULL);
            TL_FUZZ_CHECK(memchr(fields[i], o.delim, lens[i]) == NULL || o.quoting);
        }
        TL_FUZZ_CHECK(total <= TL_CSV_MAX_RECORD);
    }
    tl_csv_close(r);
}

/* The matrix reader: whatever it accepts builds consistent matrices. */
static void matrix(const uint8_t *data, size_t size, uint8_t sel)
{
    const char *path = tl_fuzz_file(data, size, ".tsv");
    tl_data d;
    tl_tsv_opts o;
    tl_diag diag;
    tl_data_init(&d);
    tl_tsv_opts_init(&o);
    if (sel & 1)
        o.weighting = TL_WEIGHT_VALUE;
    if (tl_data_load_tsv(&d, path, &o, &diag) == TL_OK) {
        TL_FUZZ_CHECK(d.ui.nnz == d.iu.nnz);
        TL_FUZZ_CHECK(d.ui.nnz <= (int64_t)size);
        tl_data_load_items_tsv(&d, path, sel & 2, &diag);
    }
    tl_data_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    switch (sel >> 6) {
    case 0:
        tl_fuzz_ingest(data + 1, size - 1, TL_FORMAT_TSV, sel);
        break;
    case 1:
        tl_fuzz_ingest(data + 1, size - 1, TL_FORMAT_CSV, sel);
        break;
    case 2:
        matrix(data + 1, size - 1, sel);
        break;
    default:
        records(data + 1, size - 1, sel);
    }
    return 0;
}
