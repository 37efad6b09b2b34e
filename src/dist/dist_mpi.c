/* tl_dist over MPI: MPI_Init only when asked (tailor train --distributed), the Gram matrices
 * summed by MPI_Allreduce and the factor shards exchanged by MPI_Allgatherv. OpenMP threads
 * compute; only the main thread calls MPI (MPI_THREAD_FUNNELED). */
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>

#include "dist/dist.h"

struct tl_dist {
    tl_comm comm;
    int *counts, *displs; /* per rank, for Allgatherv */
};

static int allreduce_sum_f64(void *ctx, double *buf, size_t n)
{
    (void)ctx;
    for (size_t o = 0; o < n; o += INT_MAX) { /* MPI counts are ints */
        int c = (int)(n - o < INT_MAX ? n - o : INT_MAX);
        if (MPI_Allreduce(MPI_IN_PLACE, buf + o, c, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) !=
            MPI_SUCCESS)
            return -1;
    }
    return 0;
}

/* Counted in rows (a contiguous type of row_floats), so that a shard of 2^31 floats fits. */
static int allgather_rows_f32(void *ctx, float *buf, int row_floats, const int32_t *first)
{
    tl_dist *d = ctx;
    MPI_Datatype row;
    for (int p = 0; p < d->comm.size; p++) {
        d->counts[p] = first[p + 1] - first[p];
        d->displs[p] = first[p] - first[0];
    }
    if (MPI_Type_contiguous(row_floats, MPI_FLOAT, &row) != MPI_SUCCESS)
        return -1;
    int rc = MPI_Type_commit(&row) == MPI_SUCCESS &&
                     MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL,
                                    buf + (size_t)first[0] * row_floats, d->counts, d->displs, row,
                                    MPI_COMM_WORLD) == MPI_SUCCESS
                 ? 0
                 : -1;
    MPI_Type_free(&row);
    return rc;
}

tl_err tl_dist_open(tl_dist **out, tl_diag *diag)
{
    int provided = 0, rank = 0, size = 1;
    *out = NULL;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        tl_diag_set(diag, NULL, 0, NULL, "MPI failed to start");
        return TL_EIO;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    tl_dist *d = calloc(1, sizeof(*d));
    if (d) {
        d->counts = malloc((size_t)size * sizeof(int));
        d->displs = malloc((size_t)size * sizeof(int));
    }
    if (!d || !d->counts || !d->displs) {
        tl_dist_close(d);
        return TL_ENOMEM;
    }
    d->comm = (tl_comm){.rank = rank,
                        .size = size,
                        .ctx = d,
                        .allreduce_sum_f64 = allreduce_sum_f64,
                        .allgather_rows_f32 = allgather_rows_f32};
    *out = d;
    return TL_OK;
}

const tl_comm *tl_dist_comm(const tl_dist *d)
{
    return &d->comm;
}

int tl_dist_all_ok(const tl_dist *d, int ok)
{
    (void)d;
    int mine = ok != 0, all = 0;
    if (MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS)
        return -1;
    return all ? 0 : -1;
}

void tl_dist_close(tl_dist *d)
{
    if (d) {
        free(d->counts);
        free(d->displs);
        free(d);
    }
    int up = 0, down = 0;
    MPI_Initialized(&up);
    MPI_Finalized(&down);
    if (up && !down)
        MPI_Finalize();
}
