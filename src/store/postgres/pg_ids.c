/* Ids in bulk on PostgreSQL: an import resolves tens of thousands of user and item ids, and one
 * round trip each (find, then create) cost more than its events' COPY. After a few lookups of a
 * kind in a transaction, its whole ext id -> id table is read once (COPY) and looked up here;
 * after a few creations, ids are reserved from the sequence in blocks and the new rows are
 * written with one COPY before the next statement of the connection (tl__pg_ids_flush). The
 * transaction holds the writers' lock (pg_begin), so nobody else creates ids meanwhile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/pg_int.h"

#define DIRECT 32    /* lookups / creations per kind and transaction before the bulk path */
#define RESERVE 4096 /* ids taken from the sequence per round trip */

static const char *const table[] = {"users", "items", "event_types"};
static const char *const column[] = {"ext_id", "ext_id", "name"};

void tl__pg_ids_reset(tl_pg_ids *x)
{
    for (int k = 0; k < TL_ID_NKINDS; k++) {
        tl_pg_kind_ids *m = &x->kind[k];
        tl_intern_release(&m->names);
        free(m->ids);
        free(m->pending);
        free(m->reserved);
        memset(m, 0, sizeof(*m));
        tl_intern_init(&m->names);
    }
    x->pending = 0;
    x->flushing = 0;
}

tl_err tl__pg_ids_note(tl_pg_ids *x, tl_id_kind k, const char *ext, size_t len, int64_t id)
{
    tl_pg_kind_ids *m = &x->kind[k];
    int32_t idx;
    if (!m->loaded)
        return TL_OK;
    tl_err rc = tl_intern_add(&m->names, ext, len, &idx);
    if (rc == TL_OK && idx >= m->cap) {
        int32_t cap = m->cap ? m->cap * 2 : 4096;
        while (cap <= idx)
            cap *= 2;
        int64_t *ids = realloc(m->ids, (size_t)cap * sizeof(*ids));
        if (!ids)
            return TL_ENOMEM;
        m->ids = ids;
        m->cap = cap;
    }
    if (rc == TL_OK)
        m->ids[idx] = id;
    return rc;
}

/* Reads the kind's whole table into m (COPY TO). */
static tl_err load(tl_store *st, tl_pg_ids *x, tl_id_kind k, tl_pg_kind_ids *m)
{
    PGconn *c = tl__pg_conn(st);
    char sql[128];
    snprintf(sql, sizeof(sql), "COPY (SELECT id, %s FROM %s) TO STDOUT", column[k], table[k]);
    tl_err rc = tl__pg_query(st, sql, NULL, NULL);
    if (rc != TL_OK)
        return rc;
    char *line;
    int n;
    while ((n = PQgetCopyData(c, &line, 0)) > 0) {
        char *tab = strchr(line, '\t'), *w = tab ? tab + 1 : NULL;
        if (rc == TL_OK && tab) {
            /* COPY's text escapes: ids hold no tab or newline, a backslash is doubled */
            char *r = w, *e = line + n - 1; /* before the newline */
            for (; r < e; r++)
                *w++ = *r == '\\' && r + 1 < e ? *++r : *r;
            m->loaded = 1; /* note adds to a loaded map */
            rc = tl__pg_ids_note(x, k, tab + 1, (size_t)(w - tab - 1), strtoll(line, NULL, 10));
        }
        PQfreemem(line);
    }
    PGresult *r;
    while ((r = PQgetResult(c)) != NULL) {
        if (rc == TL_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
            snprintf(st->errmsg, sizeof(st->errmsg), "%s", PQresultErrorMessage(r));
            rc = TL_ESTORE;
        }
        PQclear(r);
    }
    m->loaded = rc == TL_OK;
    return rc;
}

tl_err tl__pg_ids_find(tl_store *st, tl_pg_ids *x, tl_id_kind k, const char *ext, size_t len,
                       int64_t *id, int *done)
{
    tl_pg_kind_ids *m = &x->kind[k];
    *done = 0;
    if (!m->loaded && ++m->finds <= DIRECT)
        return TL_OK; /* a few: one query each */
    tl_err rc = m->loaded ? TL_OK : load(st, x, k, m);
    if (rc != TL_OK)
        return rc;
    int32_t idx = tl_intern_find(&m->names, ext, len);
    *id = idx >= 0 ? m->ids[idx] : 0;
    *done = 1;
    return TL_OK;
}

static int pend(tl_pg_kind_ids *m, int64_t id, const char *ext, size_t len)
{
    if (m->pending_len + 2 * len + 32 > m->pending_cap) {
        size_t cap = m->pending_cap ? m->pending_cap * 2 : 1 << 16;
        while (cap < m->pending_len + 2 * len + 32)
            cap *= 2;
        char *p = realloc(m->pending, cap);
        if (!p)
            return -1;
        m->pending = p;
        m->pending_cap = cap;
    }
    char *o = m->pending + m->pending_len;
    o += sprintf(o, "%lld\t", (long long)id);
    for (size_t i = 0; i < len; i++) {
        if (ext[i] == '\\' || ext[i] == '\t' || ext[i] == '\n' || ext[i] == '\r')
            *o++ = '\\';
        *o++ = ext[i] == '\t' ? 't' : ext[i] == '\n' ? 'n' : ext[i] == '\r' ? 'r' : ext[i];
    }
    *o++ = '\n';
    m->pending_len = (size_t)(o - m->pending);
    return 0;
}

tl_err tl__pg_ids_create(tl_store *st, tl_pg_ids *x, tl_id_kind k, const char *ext, size_t len,
                         int64_t *id, int *done)
{
    tl_pg_kind_ids *m = &x->kind[k];
    *done = 0;
    if (++m->creates <= DIRECT)
        return TL_OK;
    if (m->next == m->nreserved) {
        char sql[160];
        PGresult *r = NULL;
        /* one block of RESERVE ids in one step (RESERVE nextval calls cost 3 us each on the
         * server): nobody else takes ids meanwhile, as the writers' lock is held */
        snprintf(sql, sizeof(sql),
                 "SELECT setval(s, nextval(s) + %d) FROM pg_get_serial_sequence('%s', 'id') s",
                 RESERVE - 1, table[k]);
        x->flushing = 1; /* the pending rows wait for the next statement that needs them */
        tl_err rc = tl__pg_query(st, sql, NULL, &r);
        x->flushing = 0;
        if (rc != TL_OK)
            return rc;
        int64_t last = PQntuples(r) == 1 ? tl__pg_i64(r, 0, 0) : 0;
        PQclear(r);
        if (last < RESERVE) {
            snprintf(st->errmsg, sizeof(st->errmsg), "no id sequence for %s", table[k]);
            return TL_ESTORE;
        }
        if (!m->reserved && !(m->reserved = malloc(RESERVE * sizeof(*m->reserved))))
            return TL_ENOMEM;
        m->nreserved = RESERVE;
        for (int i = 0; i < RESERVE; i++)
            m->reserved[i] = last - RESERVE + 1 + i;
        m->next = 0;
    }
    *id = m->reserved[m->next++];
    if (pend(m, *id, ext, len))
        return TL_ENOMEM;
    x->pending++;
    *done = 1;
    return TL_OK;
}

tl_err tl__pg_ids_flush(tl_store *st, tl_pg_ids *x)
{
    tl_err rc = TL_OK;
    x->flushing = 1;
    for (int k = 0; k < TL_ID_NKINDS && rc == TL_OK; k++) {
        tl_pg_kind_ids *m = &x->kind[k];
        char sql[96];
        if (!m->pending_len)
            continue;
        snprintf(sql, sizeof(sql), "COPY %s(id, %s) FROM STDIN", table[k], column[k]);
        rc = tl__pg_copy_in(st, sql, m->pending, m->pending_len);
        m->pending_len = 0;
    }
    x->pending = 0;
    x->flushing = 0;
    return rc;
}
