/* Distributed training: the processes that `mpirun` starts, joined into a communicator for a
 * sharded fit (core/comm.h). MPI stays inside src/dist/; a build without MPI keeps this header
 * and refuses to open. */
#ifndef TL_DIST_DIST_H
#define TL_DIST_DIST_H

#include "core/comm.h"
#include "tailor/error.h"

typedef struct tl_dist tl_dist;

/* Joins the processes of this job (MPI_Init): under mpirun, its ranks; alone, one process.
 * TL_EUNSUPPORTED when this build has no MPI; TL_EIO when MPI fails to start. */
tl_err tl_dist_open(tl_dist **out, tl_diag *diag);
/* The communicator the fit uses (valid until tl_dist_close). */
const tl_comm *tl_dist_comm(const tl_dist *d);
/* 0 when every process passed ok != 0, else -1; a collective (every process calls it). */
int tl_dist_all_ok(const tl_dist *d, int ok);
/* Leaves the job (MPI_Finalize). d may be NULL. */
void tl_dist_close(tl_dist *d);

#endif
