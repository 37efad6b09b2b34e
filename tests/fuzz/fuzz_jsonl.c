/* JSON Lines records through the import engine (src/ingest/import.c with jansson). The first
 * byte chooses the kind of record and the options; the rest is the file. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    tl_fuzz_ingest(data + 1, size - 1, TL_FORMAT_JSONL, data[0]);
    return 0;
}
