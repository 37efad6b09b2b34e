/* Private to src/store/postgres: the schema, its versions, and the tables a copy between
 * engines (tailor migrate) walks. */
#ifndef TL_PG_SCHEMA_H
#define TL_PG_SCHEMA_H

#include "store/postgres/pg_int.h"

/* A table of the schema: its name, the columns that order it (its key) in SQLite and in
 * PostgreSQL (text keys in bytes' order, as SQLite's BINARY; consent_log by its insertion
 * order), and its identity column (NULL when its key is not generated). */
typedef struct tl_pg_table {
    const char *name, *sq_order, *pg_order, *identity;
} tl_pg_table;

/* Every table of the schema, in an order that satisfies the foreign keys; ends with NULL. */
extern const tl_pg_table tl__pg_tables[];

int tl__pg_latest_version(void);
/* Brings the schema to the latest version (create: a database without one gets one); sets
 * st->schema_version. name: the target, for messages. */
tl_err tl__pg_migrate(tl_store *st, int create, const char *name, tl_diag *d);
/* Moves each identity column's sequence past the largest id (after rows came with their ids). */
tl_err tl__pg_reset_ids(tl_store *st);

#endif
