/* A throwaway PostgreSQL server for the tests that run against the PostgreSQL store: one per
 * test process, in a temporary directory, reached on a Unix socket there, stopped and removed
 * when the process ends however it ends (a watchdog child waits for the process to go). */
#ifndef TL_TESTS_PG_SERVER_H
#define TL_TESTS_PG_SERVER_H

#include <stdint.h>

/* 1 when $TL_TEST_DB is "postgres": the test runs its store tests against PostgreSQL. */
int tl_test_on_pg(void);
/* Starts the server (once per process); returns its URI (postgres://...), or NULL when the
 * PostgreSQL server binaries (initdb, pg_ctl) are not installed: the caller skips, saying so
 * (return TL_TEST_SKIP from main). */
const char *tl_test_pg_start(void);
#define TL_TEST_SKIP 77
/* The URI of the database name on the running server (created on first use), in a rotating
 * buffer. */
const char *tl_test_pg_db(const char *name);
/* A test's store: tl_test_tmp(name), or with TL_TEST_DB=postgres the URI of the database named
 * by name up to its first '.' ("lists.db" -> "lists"). In rotating buffers. */
const char *tl_test_db(const char *name);
/* The same, emptied first (a fresh store). */
const char *tl_test_store(const char *name);
/* The database name of a URI tl_test_pg_db gave (a static buffer). */
const char *tl_test_pg_name(const char *db_uri);
/* The rows of sql on the database name as text (malloc'd): fields separated by ' ', each row
 * ended by '\n', NULL as "". Fails the test on an error. */
char *tl_test_pg_rows(const char *name, const char *sql);
/* Empties the database name: every table of a Tailor store goes. */
void tl_test_pg_reset(const char *name);
/* Runs sql on the database name; returns the first column of the first row as an integer
 * (-1 when there is none). Fails the test on an error. */
int64_t tl_test_pg_int(const char *name, const char *sql);

#endif
