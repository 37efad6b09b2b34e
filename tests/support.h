/* Helpers shared by the cmocka tests: paths to the sources, ../shared and the built CLI. */
#ifndef TL_TESTS_SUPPORT_H
#define TL_TESTS_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* $TL_SHARED_DIR/rel, or NULL when ../shared is absent (tests then skip). */
const char *tl_test_shared(const char *rel);
/* $TL_SOURCE_DIR/rel. */
const char *tl_test_source(const char *rel);
/* The built `tailor` binary. */
const char *tl_test_bin(void);
/* A fresh temporary directory (removed at exit). */
const char *tl_test_tmpdir(void);
/* tl_test_tmpdir()/name (one of eight rotating buffers: copy what must live longer). */
const char *tl_test_tmp(const char *name);
/* Runs a shell command; returns its exit status (or -1). Output goes to the test log. */
int tl_test_sh(const char *fmt, ...);
/* Writes text to path; returns 0 on success. */
int tl_test_write(const char *path, const char *text);
/* A store of patrons u00..u{users-1}, each with 8 loans among items i00..i39 (patron u's k-th:
 * item (u * 5 + k * (u % 4 + 1)) % 40, so the patrons of one u % 4 borrow alike), and an
 * item-kNN model on it: the store named name (tl_test_store: SQLite or PostgreSQL) into db and
 * the model into model (600 bytes each). 0, else -1. */
int tl_test_loans_store(int users, const char *name, char *db, char *model);
/* Reads a whole file (malloc'd, NUL-terminated), or NULL. */
char *tl_test_read(const char *path);
/* Whether the bytes of path (binary: a store, a model) contain text; 0 when it cannot be read. */
int tl_test_file_has(const char *path, const char *text);

/* A file's bytes at one moment, to check later that nothing touched it. */
typedef struct tl_test_snap {
    char *bytes; /* NULL when the path did not exist (or was not a readable file) */
    size_t len;
} tl_test_snap;
tl_test_snap tl_test_snapshot(const char *path);
/* Asserts that path holds exactly the bytes of s (or still does not exist) and that no SQLite
 * companion (path-wal, path-shm, path-journal) exists; frees s. */
void tl_test_assert_unchanged(const char *path, tl_test_snap *s);
/* 1 when path-wal, path-shm or path-journal exists. */
int tl_test_has_companions(const char *path);
/* Runs `$TL_BIN ARGS` (ARGS is shell text: quote paths yourself) with stdout and stderr
 * captured; returns the exit status (-1 when killed by a signal). */
int tl_test_cli(const char *fmt, ...);
/* What the last tl_test_cli wrote to stdout / stderr (malloc'd; asserts it can be read). */
char *tl_test_cli_out(void);
char *tl_test_cli_err(void);
/* Fails unless rc (tl_test_cli's status) is code, and the last tl_test_cli's stdout contains
 * out_has and its stderr err_has (NULL = anything); prints all of it when not. */
void tl_test_cli_check(int rc, int code, const char *out_has, const char *err_has);
/* Runs `tailor --db DB key create ARGS` and copies the key it prints (the last word of its
 * last line) to key (len bytes); fails the test when it makes none. */
void tl_test_make_key(const char *db, const char *args, char *key, size_t len);

/* Builds d (initialized here) from (user, item) pairs of weight 1: users "u<n>" and items
 * "i<n>" are interned in index order first, so index n is id n. Asserts on failure. */
struct tl_data;
void tl_test_data_from_pairs(struct tl_data *d, int n_users, int n_items, const int (*pairs)[2],
                             int n_pairs);

#endif
