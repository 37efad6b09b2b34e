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
/* A fresh store for a test: tl_test_tmp(name), or with TL_TEST_DB=postgres the emptied database
 * named by name up to its first '.' ("lists.db" -> "lists"), as a URI. A static buffer. */
const char *tl_test_store(const char *name);
/* Empties the database name: every table of a Tailor store goes. */
void tl_test_pg_reset(const char *name);
/* Runs sql on the database name; returns the first column of the first row as an integer
 * (-1 when there is none). Fails the test on an error. */
int64_t tl_test_pg_int(const char *name, const char *sql);

#endif
