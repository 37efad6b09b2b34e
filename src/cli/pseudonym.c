/* The pseudonym key of the `tailor` commands (--pseudonym-key FILE, $TAILOR_PSEUDONYM_KEY_FILE)
 * and the one way they open the store with it, so that no command reads or writes a
 * pseudonymized store under plain patron ids. */
#include "cli/cli.h"

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
    return rc == TL_OK ? tl_store_open_with(target, &o, out, d) : rc;
}

tl_err tl_cli_service_open(const tl_cli *cli, tl_service_opts *so, tl_service **out, tl_diag *d)
{
    tl_err rc = tl_cli_pseudonym_key(cli->pseudonym_key_file, &so->pseudonym_key, d);
    return rc == TL_OK ? tl_service_open(so, out, d) : rc;
}
