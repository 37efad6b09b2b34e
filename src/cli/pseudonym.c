/* The pseudonym key of the `tailor` commands (--pseudonym-key FILE, $TAILOR_PSEUDONYM_KEY_FILE)
 * and the one way they open the store with it, so that no command reads or writes a
 * pseudonymized store under plain patron ids, nor acts for a tenant (--tenant) the store does
 * not have. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static tl_err is_it(void *ctx, const tl_tenant *t)
{
    return strcmp(t->id, ctx) == 0 ? TL_EEXIST : TL_OK;
}

static tl_err is_it_rec(void *ctx, const tl_store_tenant_rec *t)
{
    return strcmp(t->id, ctx) == 0 ? TL_EEXIST : TL_OK;
}

/* rc of the scan for the --tenant: TL_OK when it was found (TL_EEXIST), else TL_EINVAL. */
static tl_err tenant_found(tl_err rc, tl_diag *d)
{
    if (rc == TL_EEXIST)
        return TL_OK;
    if (rc == TL_OK)
        tl_diag_set(d, NULL, 0, "tenant", "the store has no tenant '%s' (tailor tenant add)",
                    tl_store_tenant());
    return rc == TL_OK ? TL_EINVAL : rc;
}

tl_err tl_cli_pseudonym_key(const char *file, const uint8_t **key, tl_diag *d)
{
    static uint8_t buf[TL_PSEUDONYM_KEY_LEN]; /* the process's one key, for its lifetime */
    *key = NULL;
    if (!file || !*file)
        return TL_OK;
    tl_err rc = tl_pseudonym_key_read(file, buf, d);
    if (rc == TL_OK)
        *key = buf;
    return rc;
}

tl_err tl_cli_store_open(const tl_cli *cli, const char *target, int flags, tl_store **out,
                         tl_diag *d)
{
    tl_store_opts o;
    tl_store_opts_init(&o);
    o.flags = flags;
    tl_err rc = tl_cli_pseudonym_key(cli->pseudonym_key_file, &o.pseudonym_key, d);
    if (rc == TL_OK)
        rc = tl_store_open_with(target, &o, out, d);
    if (rc == TL_OK && tl_store_tenant()[0] &&
        (rc = tenant_found(tl_store_tenants(*out, is_it_rec, (void *)tl_store_tenant(), d), d)) !=
            TL_OK) {
        tl_store_free(*out);
        *out = NULL;
    }
    return rc;
}

tl_err tl_cli_service_open(const tl_cli *cli, tl_service_opts *so, tl_service **out, tl_diag *d)
{
    tl_err rc = tl_cli_pseudonym_key(cli->pseudonym_key_file, &so->pseudonym_key, d);
    if (rc == TL_OK)
        rc = tl_service_open(so, out, d);
    if (rc == TL_OK && so->db && tl_store_tenant()[0] &&
        (rc = tenant_found(tl_service_tenants(*out, is_it, (void *)tl_store_tenant(), d), d)) !=
            TL_OK) {
        tl_service_close(*out);
        *out = NULL;
    }
    return rc;
}
