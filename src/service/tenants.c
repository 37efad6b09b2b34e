/* Consortium tenancy in the service: the tenant a thread's requests act for (the store's door
 * applies it to every patron id), the tenants and their branches (read at most once a second),
 * and the per-tenant filter of the shared models: a tenant with branches is recommended only
 * the items it holds. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "service/service_int.h"
#include "util/clock.h"

#define TENANT_TTL 1.0 /* seconds the tenants read from the store are trusted */

typedef struct tenant_row {
    char id[TL_TENANT_ID_MAX + 1];
    char **branches;
    int n_branches;
} tenant_row;

typedef struct tl_tenant_cache {
    pthread_mutex_t mu; /* guards the rows and when they were read */
    double read_at;
    tenant_row *rows;
    int n, cap;
} tl_tenant_cache;

void tl_service_act_for(const tl_key_info *k)
{
    tl_store_tenant_enter(k && k->tenant[0] ? k->tenant : NULL);
}

tl_err tl_service_act_for_tenant(const char *tenant)
{
    return tl_store_tenant_enter(tenant);
}

int tl__tenant_owns(const char *owner)
{
    const char *t = tl_store_tenant();
    size_t n = strlen(t);
    return !n || !owner || (strncmp(owner, t, n) == 0 && owner[n] == ':');
}

static void rows_free(tl_tenant_cache *c)
{
    for (int i = 0; i < c->n; i++) {
        for (int k = 0; k < c->rows[i].n_branches; k++)
            free(c->rows[i].branches[k]);
        free(c->rows[i].branches);
    }
    free(c->rows);
    c->rows = NULL;
    c->n = c->cap = 0;
}

void tl__tenants_free(tl_service *s)
{
    if (!s->tenants)
        return;
    rows_free(s->tenants);
    pthread_mutex_destroy(&s->tenants->mu);
    free(s->tenants);
    s->tenants = NULL;
}

static tl_err add_row(void *ctx, const tl_store_tenant_rec *t)
{
    tl_tenant_cache *c = ctx;
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 8;
        tenant_row *rows = realloc(c->rows, (size_t)cap * sizeof(*rows));
        if (!rows)
            return TL_ENOMEM;
        c->rows = rows;
        c->cap = cap;
    }
    tenant_row *r = &c->rows[c->n];
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s", t->id);
    if (t->n_branches && !(r->branches = calloc((size_t)t->n_branches, sizeof(char *))))
        return TL_ENOMEM;
    c->n++;
    for (int k = 0; k < t->n_branches; k++) {
        if (!(r->branches[k] = strdup(t->branches[k])))
            return TL_ENOMEM;
        r->n_branches++;
    }
    return TL_OK;
}

/* The tenants as the store has them now, at most TENANT_TTL old. Under c->mu. */
static tl_err refresh(tl_service *s, tl_tenant_cache *c)
{
    double now = tl_now();
    if (c->read_at > 0 && now - c->read_at < TENANT_TTL)
        return TL_OK;
    tl_store *st;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl__service_reader(s, &st, &d);
    if (rc != TL_OK)
        return rc;
    rows_free(c);
    rc = tl_store_tenants(st, add_row, c, &d);
    tl__service_reader_done(s, st);
    if (rc == TL_EVERSION) /* a store before tenancy: no tenant has branches */
        rc = TL_OK;
    if (rc == TL_OK)
        c->read_at = now;
    return rc;
}

static tl_tenant_cache *cache_of(tl_service *s)
{
    pthread_mutex_lock(&s->keys_mu); /* made once; keys_mu guards such first uses */
    if (!s->tenants && (s->tenants = calloc(1, sizeof(*s->tenants))))
        pthread_mutex_init(&s->tenants->mu, NULL);
    tl_tenant_cache *c = s->tenants;
    pthread_mutex_unlock(&s->keys_mu);
    return c;
}

tl_err tl__tenant_allow(tl_service *s, tl_model_ref *r, uint8_t **allow)
{
    const char *tenant = tl_store_tenant();
    if (!tenant[0] || !s->db)
        return TL_OK;
    tl_tenant_cache *c = cache_of(s);
    if (!c)
        return TL_ENOMEM;
    size_t n = (size_t)r->m->n_items + 1;
    pthread_mutex_lock(&c->mu); /* then the shelves' lock, never the other way round */
    tl_err rc = refresh(s, c);
    const tenant_row *row = NULL;
    for (int i = 0; rc == TL_OK && i < c->n && !row; i++)
        if (strcmp(c->rows[i].id, tenant) == 0)
            row = &c->rows[i];
    if (rc == TL_OK && row && row->n_branches > 0) {
        if (!*allow && (*allow = malloc(n)))
            memset(*allow, 1, n);
        rc = *allow
                 ? tl__shelf_held(s, r, (const char *const *)row->branches, row->n_branches, *allow)
                 : TL_ENOMEM;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

tl_err tl__tenant_branches(tl_service *s, char ***branches, int *n)
{
    *branches = NULL;
    *n = 0;
    const char *tenant = tl_store_tenant();
    if (!tenant[0] || !s->db)
        return TL_OK;
    tl_tenant_cache *c = cache_of(s);
    if (!c)
        return TL_ENOMEM;
    pthread_mutex_lock(&c->mu);
    tl_err rc = refresh(s, c);
    for (int i = 0; rc == TL_OK && i < c->n; i++) {
        const tenant_row *row = &c->rows[i];
        if (strcmp(row->id, tenant) != 0 || !row->n_branches)
            continue;
        if (!(*branches = calloc((size_t)row->n_branches, sizeof(char *))))
            rc = TL_ENOMEM;
        for (int k = 0; rc == TL_OK && k < row->n_branches; k++)
            if (((*branches)[k] = strdup(row->branches[k])) != NULL)
                ++*n;
            else
                rc = TL_ENOMEM;
        break;
    }
    pthread_mutex_unlock(&c->mu);
    if (rc != TL_OK) {
        tl__tenant_branches_free(*branches, *n);
        *branches = NULL;
        *n = 0;
    }
    return rc;
}

void tl__tenant_branches_free(char **branches, int n)
{
    for (int k = 0; k < n; k++)
        free(branches[k]);
    free(branches);
}

tl_err tl_service_key_for_tenant(tl_service *s, tl_key_info *k, const char *tenant, tl_diag *d)
{
    if (!tl_tenant_id_ok(tenant)) {
        tl_diag_set(d, NULL, 0, "tenant", "a tenant id is 1 to %d of a-z, 0-9, '-' and '_'",
                    TL_TENANT_ID_MAX);
        return TL_EINVAL;
    }
    if (k->tenant[0] && strcmp(k->tenant, tenant) == 0)
        return TL_OK;
    if (k->tenant[0] || k->role == TL_ROLE_PATRON) {
        tl_diag_set(d, NULL, 0, "tenant", "%s",
                    k->tenant[0] ? "the key acts for another tenant"
                                 : "a patron key cannot act for a tenant");
        return TL_EUNSUPPORTED;
    }
    tl_tenant_cache *c = s->db ? cache_of(s) : NULL;
    int known = 0;
    tl_err rc = c ? TL_OK : s->db ? TL_ENOMEM : TL_EUNSUPPORTED;
    if (!s->db)
        tl_diag_set(d, NULL, 0, "tenant", "tenants need a store");
    if (c) {
        pthread_mutex_lock(&c->mu);
        rc = refresh(s, c);
        for (int i = 0; rc == TL_OK && i < c->n && !known; i++)
            known = strcmp(c->rows[i].id, tenant) == 0;
        pthread_mutex_unlock(&c->mu);
    }
    if (rc == TL_OK && !known) {
        tl_diag_set(d, NULL, 0, "tenant", "no tenant '%s' (tailor tenant add)", tenant);
        rc = TL_ENOTFOUND;
    }
    if (rc == TL_OK)
        snprintf(k->tenant, sizeof(k->tenant), "%s", tenant);
    return rc;
}

/* ---- the tenants --------------------------------------------------------------------------- */

/* The branches of the stored tenant keep->id, copied into keep (its branches NULL when none). */
typedef struct kept_branches {
    const char *id;
    char **branches;
    int n, found;
} kept_branches;

static tl_err keep_branches(void *ctx, const tl_store_tenant_rec *t)
{
    kept_branches *k = ctx;
    if (strcmp(t->id, k->id) != 0 || !t->n_branches)
        return TL_OK;
    k->found = 1;
    if (!(k->branches = calloc((size_t)t->n_branches, sizeof(char *))))
        return TL_ENOMEM;
    for (; k->n < t->n_branches; k->n++)
        if (!(k->branches[k->n] = strdup(t->branches[k->n])))
            return TL_ENOMEM;
    return TL_OK;
}

tl_err tl_service_tenant_put(tl_service *s, const tl_tenant *t, const char *actor, tl_diag *d)
{
    tl_err rc = tl__service_need_writer(s, "tenants", d);
    if (rc != TL_OK)
        return rc;
    tl_store_tenant_rec rec = {t->id, t->name, (int64_t)time(NULL), t->branches, t->n_branches};
    kept_branches kept = {.id = t->id};
    pthread_mutex_lock(&s->write_mu);
    rc = tl_store_begin(s->writer);
    if (rc == TL_OK && !t->branches) { /* an existing tenant renamed: its branches stay */
        if ((rc = tl_store_tenants(s->writer, keep_branches, &kept, d)) == TL_EVERSION) {
            tl_diag_clear(d);
            rc = TL_OK; /* a store before tenancy: the put migrates it, none to keep */
        }
        rec.branches = (const char *const *)kept.branches;
        rec.n_branches = kept.n;
    }
    char detail[64];
    snprintf(detail, sizeof(detail), "branches=%d", rec.n_branches);
    if (rc == TL_OK && (rc = tl_store_tenant_put(s->writer, &rec, d)) == TL_OK)
        rc = tl__audit_append(s, actor, "tenant.put", t->id, detail, d);
    if (rc == TL_OK)
        rc = tl_store_commit(s->writer);
    else
        tl_store_rollback(s->writer);
    pthread_mutex_unlock(&s->write_mu);
    if (rc == TL_OK && s->tenants) { /* seen at once in this process */
        pthread_mutex_lock(&s->tenants->mu);
        s->tenants->read_at = 0;
        pthread_mutex_unlock(&s->tenants->mu);
    }
    tl__tenant_branches_free(kept.branches, kept.n);
    return rc;
}

typedef struct list_ctx {
    tl_tenant_fn fn;
    void *ctx;
} list_ctx;

static tl_err list_one(void *ctx, const tl_store_tenant_rec *r)
{
    list_ctx *c = ctx;
    tl_tenant t = {r->id, r->name, r->created, r->branches, r->n_branches};
    return c->fn(c->ctx, &t);
}

tl_err tl_service_tenants(tl_service *s, tl_tenant_fn fn, void *ctx, tl_diag *d)
{
    if (!s->db) {
        tl_diag_set(d, NULL, 0, NULL, "tenants need a store (--db)");
        return TL_EUNSUPPORTED;
    }
    tl_store *st;
    tl_err rc = tl__service_reader(s, &st, d);
    if (rc != TL_OK)
        return rc;
    list_ctx c = {fn, ctx};
    rc = tl_store_tenants(st, list_one, &c, d);
    tl__service_reader_done(s, st);
    return rc;
}
