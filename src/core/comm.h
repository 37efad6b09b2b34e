/* A communicator for a fit split across processes (distributed training): which process this
 * is, how many there are, and the two collectives a sharded fit needs. Core knows only these
 * callbacks; the MPI implementation lives in src/dist/, so core never depends on MPI. */
#ifndef TL_CORE_COMM_H
#define TL_CORE_COMM_H

#include <stddef.h>
#include <stdint.h>

typedef struct tl_comm {
    int rank, size; /* 0 <= rank < size */
    void *ctx;
    /* buf[0..n) becomes the element-wise sum of every process's buf. 0, or -1 on failure. */
    int (*allreduce_sum_f64)(void *ctx, double *buf, size_t n);
    /* Rows of row_floats floats: process p holds rows [first[p], first[p + 1]) of buf, and
     * afterwards every process holds all of rows [first[0], first[size]). 0, or -1. */
    int (*allgather_rows_f32)(void *ctx, float *buf, int row_floats, const int32_t *first);
} tl_comm;

#endif
