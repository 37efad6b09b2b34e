/* tl_dist in a build without MPI (cmake found none, or -DTL_MPI=OFF): refuses to open. */
#include <stddef.h>

#include "dist/dist.h"

tl_err tl_dist_open(tl_dist **out, tl_diag *diag)
{
    *out = NULL;
    tl_diag_set(diag, NULL, 0, NULL,
                "this tailor was built without MPI (install libopenmpi-dev and rebuild)");
    return TL_EUNSUPPORTED;
}

const tl_comm *tl_dist_comm(const tl_dist *d)
{
    (void)d;
    return NULL;
}

int tl_dist_all_ok(const tl_dist *d, int ok)
{
    (void)d;
    return ok ? 0 : -1;
}

void tl_dist_close(tl_dist *d)
{
    (void)d;
}
