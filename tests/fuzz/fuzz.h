/* Shared by the fuzz targets (tests/fuzz/fuzz_<input>.c): each defines LLVMFuzzerTestOneInput,
 * linked with libFuzzer when built with clang and -DTL_FUZZ=ON (scripts/fuzz.sh), else with
 * replay.c, which runs the committed corpus tests/fuzz/corpus/<target>/ through it as a CTest. */
#ifndef TL_TESTS_FUZZ_H
#define TL_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "tailor/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes data to a temporary file of this process whose name ends in suffix (".csv", ".gz"...)
 * and returns its path, valid until the next call with the same suffix. The readers under test
 * take paths, so the input goes through the same open and read calls as a user's file.
 * Aborts when the file cannot be written (a broken harness, not a finding). */
const char *tl_fuzz_file(const uint8_t *data, size_t size, const char *suffix);

/* Runs the import engine over data as a file of format fmt with options taken from sel, and
 * aborts when a record handed to the sink breaks the engine's contract (an empty id, a control
 * character in an id, a value or timestamp out of range) or the report does not add up. */
void tl_fuzz_ingest(const uint8_t *data, size_t size, tl_ingest_format fmt, uint8_t sel);

/* Aborts with a message when cond is false: a finding, whatever the build. */
#define TL_FUZZ_CHECK(cond) ((cond) ? (void)0 : tl_fuzz_fail(#cond, __FILE__, __LINE__))
void tl_fuzz_fail(const char *what, const char *file, int line);

#endif
