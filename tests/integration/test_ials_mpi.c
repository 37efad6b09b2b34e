/* Distributed iALS: `mpirun -np 2 tailor train --model ials --distributed` writes the same
 * model, to 1e-4, as one process trains with the same settings (users and items sharded by
 * rank, Gram matrices summed, factors exchanged every half-epoch); --distributed without
 * mpirun is one rank; models other than ials are refused. Skipped (77) where mpirun or MPI
 * is missing. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/models/ials.h"

/* Open MPI refuses root without these; a two-core machine needs --oversubscribe; loopback
 * transports only (no network interface needed); one OpenMP thread per rank. */
#define MPIRUN                                                                                     \
    "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "                                   \
    "OMPI_MCA_rmaps_base_oversubscribe=1 "                                                         \
    "OMP_NUM_THREADS=1 mpirun --oversubscribe --mca btl self,vader -np 2"

static char data_path[4096];

/* 400 users x 150 items, skewed popularity and history lengths, deterministic. */
static void write_data(void)
{
    snprintf(data_path, sizeof(data_path), "%s", tl_test_tmp("events.tsv"));
    FILE *f = fopen(data_path, "w");
    assert_non_null(f);
    fprintf(f, "user\titem\tvalue\n");
    uint64_t x = 88172645463325252ull;
    for (int u = 0; u < 400; u++) {
        int n = 3 + (u * 7919) % 40;
        for (int j = 0; j < n; j++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            double r = (double)(x % 1000003) / 1000003.0;
            int item = (int)(150 * r * r); /* popular items first */
            fprintf(f, "u%d\ti%d\t%d\n", u, item, 1 + (int)(x % 3));
        }
    }
    fclose(f);
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

/* Loads two ials model files and asserts their factors agree to tol, and are not trivial. */
static void assert_same_model(const char *one, const char *two, double tol)
{
    tl_model *a = NULL, *b = NULL;
    tl_diag diag;
    assert_int_equal(tl_model_load(one, &a, &diag), TL_OK);
    assert_int_equal(tl_model_load(two, &b, &diag), TL_OK);
    tl_ials_view va, vb;
    assert_int_equal(tl_ials_view_get(a, &va), TL_OK);
    assert_int_equal(tl_ials_view_get(b, &vb), TL_OK);
    assert_int_equal(va.n_users, vb.n_users);
    assert_int_equal(va.n_items, vb.n_items);
    assert_int_equal(va.ld, vb.ld);
    size_t nu = (size_t)va.n_users * va.ld, ni = (size_t)va.n_items * va.ld;
    double du = max_diff(va.user_factors, vb.user_factors, nu);
    double di = max_diff(va.item_factors, vb.item_factors, ni);
    double scale = 0;
    for (size_t i = 0; i < ni; i++)
        scale = fmax(scale, fabs(va.item_factors[i]));
    printf("max |diff|: users %.3g, items %.3g (largest item factor %.3g)\n", du, di, scale);
    assert_true(du <= tol);
    assert_true(di <= tol);
    assert_true(scale > 0.05); /* trained, not the tiny initial factors */
    tl_model_free(a);
    tl_model_free(b);
}

static int have_mpirun(void)
{
#ifndef TL_HAVE_MPI
    return 0;
#else
    return tl_test_sh("command -v mpirun >/dev/null 2>&1") == 0;
#endif
}

/* Open MPI keeps allocations to its exit (and unloads the components that made them), which
 * LeakSanitizer would count against a sanitizer build: the distributed runs go without the leak
 * check, the one-process runs they are compared with keep it. */
static void mpi_leak_check(int on)
{
    static char saved[1024];
    static int have_saved;
    if (!on) {
        const char *now = getenv("ASAN_OPTIONS");
        have_saved = now != NULL;
        snprintf(saved, sizeof(saved), "%s", now ? now : "");
        char off[1100];
        snprintf(off, sizeof(off), "%s%sdetect_leaks=0", saved, saved[0] ? ":" : "");
        setenv("ASAN_OPTIONS", off, 1);
    } else if (have_saved) {
        setenv("ASAN_OPTIONS", saved, 1);
    } else {
        unsetenv("ASAN_OPTIONS");
    }
}

static void two_ranks_equal_one_process(const char *solver)
{
    char one[4096], two[4096], sets[256];
    snprintf(sets, sizeof(sets),
             "--set autotune=0 --set factors=24 --set iterations=8 --set seed=7 --set solver=%s "
             "--set threads=1",
             solver);
    snprintf(one, sizeof(one), "%s", tl_test_tmp("one.model"));
    snprintf(two, sizeof(two), "%s", tl_test_tmp("two.model"));
    int rc = tl_test_cli("train --model ials --data '%s' --value-weights %s --out '%s'", data_path,
                         sets, one);
    tl_test_cli_check(rc, 0, NULL, "trained ials");
    char cmd[16384];
    snprintf(cmd, sizeof(cmd),
             MPIRUN " '%s' train --model ials --distributed --data '%s' --value-weights %s "
                    "--out '%s' 2>'%s'",
             tl_test_bin(), data_path, sets, two, tl_test_tmp("mpi.err"));
    mpi_leak_check(0);
    rc = tl_test_sh("%s", cmd);
    mpi_leak_check(1);
    char *err = tl_test_read(tl_test_tmp("mpi.err"));
    printf("%s", err ? err : "");
    assert_int_equal(rc, 0);
    assert_non_null(err);
    assert_non_null(strstr(err, "distributed: 2 ranks")); /* rank 0 alone reports */
    assert_null(strstr(strstr(err, "trained ials") + 1, "trained ials"));
    free(err);
    assert_same_model(one, two, 1e-4);
}

static void cg_two_ranks(void **state)
{
    (void)state;
    two_ranks_equal_one_process("cg");
}

static void cholesky_two_ranks(void **state)
{
    (void)state;
    two_ranks_equal_one_process("cholesky");
}

/* --distributed outside mpirun: one rank, the very model of a plain run. */
static void distributed_alone_is_one_rank(void **state)
{
    (void)state;
    const char *sets = "--set autotune=0 --set factors=8 --set iterations=3";
    char one[4096];
    snprintf(one, sizeof(one), "%s", tl_test_tmp("plain.model"));
    int rc = tl_test_cli("train --model ials --data '%s' %s --out '%s' -q", data_path, sets, one);
    tl_test_cli_check(rc, 0, NULL, NULL);
    mpi_leak_check(0);
    rc = tl_test_cli("train --model ials --distributed --data '%s' %s --out '%s'", data_path, sets,
                     tl_test_tmp("alone.model"));
    mpi_leak_check(1);
    tl_test_cli_check(rc, 0, NULL, "distributed: 1 ranks");
    assert_same_model(one, tl_test_tmp("alone.model"), 0);
}

static void other_models_refused(void **state)
{
    (void)state;
    int rc = tl_test_cli("train --model ease --distributed --data '%s' --out '%s'", data_path,
                         tl_test_tmp("ease.model"));
    tl_test_cli_check(rc, 2, NULL, "--distributed trains ials only");
}

int main(void)
{
    if (!have_mpirun()) {
        printf("SKIP: no mpirun or a build without MPI (apt-get install openmpi-bin "
               "libopenmpi-dev)\n");
        return 77;
    }
    write_data();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cg_two_ranks),
        cmocka_unit_test(cholesky_two_ranks),
        cmocka_unit_test(distributed_alone_is_one_rank),
        cmocka_unit_test(other_models_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
