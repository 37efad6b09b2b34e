/* Model files (src/core/mfile.c, tl_model_load in src/core/model.c and each model's load):
 * whatever the bytes, loading gives a model or an error with a message, never a crash or a
 * read outside the mapping. A model that loads must then recommend without reading outside
 * its arrays: its loader is what vouches for them.
 *
 * The input is the file as it is. Mutated files almost never keep a valid checksum, so when
 * the input has the header of a model file it is loaded a second time with its size and
 * checksum made right: that reaches the section table and the models' loaders. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/model.h"

#define HEADER_BYTES 64 /* src/core/mfile.c */
#define OFF_SIZE 16     /* header.file_size */
#define OFF_CRC 24      /* header.crc, of the bytes after the header */

static void load(const uint8_t *data, size_t size)
{
    const char *path = tl_fuzz_file(data, size, ".tlm");
    tl_model *m = NULL;
    tl_diag d;
    memset(&d, 0, sizeof(d));
    tl_err rc = tl_model_load(path, &m, &d);
    if (rc != TL_OK) {
        TL_FUZZ_CHECK(m == NULL);
        TL_FUZZ_CHECK(d.msg[0] != '\0'); /* every error says what */
        return;
    }
    TL_FUZZ_CHECK(m && m->n_users >= 0 && m->n_items >= 0);
    TL_FUZZ_CHECK(m->items.count == m->n_items);
    if (m->n_items > 0 && m->n_items <= (1 << 20)) {
        /* the first user's history when the model keeps histories, else a made-up one */
        const int32_t *items = NULL;
        const float *w = NULL;
        int32_t n = 0, uidx = -1, fake_item = 0;
        const float one = 1.0f;
        if (m->hist.indptr && m->n_users > 0) {
            uidx = 0;
            items = m->hist.indices;
            w = m->hist.data;
            n = (int32_t)m->hist.indptr[1];
        } else {
            items = &fake_item;
            w = &one;
            n = 1;
        }
        int32_t out[10];
        float scores[10];
        int got = -1;
        if (tl_model_recommend(m, uidx, items, w, n, NULL, 10, out, scores, &got) == TL_OK) {
            TL_FUZZ_CHECK(got >= 0 && got <= 10);
            for (int i = 0; i < got; i++)
                TL_FUZZ_CHECK(out[i] >= 0 && out[i] < m->n_items);
        }
    }
    tl_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load(data, size);
    if (size < HEADER_BYTES || memcmp(data, "TAILORMF", 8) != 0)
        return 0;
    uint64_t fsize = size;
    uint32_t crc =
        (uint32_t)crc32_z(crc32_z(0L, Z_NULL, 0), data + HEADER_BYTES, size - HEADER_BYTES);
    if (memcmp(data + OFF_SIZE, &fsize, 8) == 0 && memcmp(data + OFF_CRC, &crc, 4) == 0)
        return 0; /* already right: loaded once is enough */
    uint8_t *fixed = malloc(size);
    TL_FUZZ_CHECK(fixed != NULL);
    memcpy(fixed, data, size);
    memcpy(fixed + OFF_SIZE, &fsize, 8);
    memcpy(fixed + OFF_CRC, &crc, 4);
    load(fixed, size);
    free(fixed);
    return 0;
}
