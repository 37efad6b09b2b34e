/* linalg: every kernel against a plain double-precision version, at sizes that exercise the
 * padded tails (k not a multiple of 8, row counts not multiples of the 8-row blocks). */
#include "support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/linalg.h"
#include "util/hash.h"

static float urand(tl_rng *g)
{
    return (float)(tl_rng_uniform(g) * 2.0 - 1.0);
}

/* n x ld matrix with random first k columns and zero padding. */
static float *random_rows(tl_rng *g, int64_t n, int k, int ld)
{
    float *x = tl_la_alloc((size_t)n * ld);
    assert_non_null(x);
    for (int64_t r = 0; r < n; r++)
        for (int c = 0; c < k; c++)
            x[r * ld + c] = urand(g);
    return x;
}

static void test_dotp_symv_gemv(void **state)
{
    (void)state;
    tl_rng g = {1};
    for (int k = 1; k <= 70; k += 23) {
        int ld = tl_la_pad(k);
        float *a = random_rows(&g, ld, ld, ld);
        for (int r = 0; r < ld; r++) /* symmetric */
            for (int c = 0; c < r; c++)
                a[r * ld + c] = a[c * ld + r];
        float *x = random_rows(&g, 1, ld, ld), y[80];
        assert_true(fabsf(tl_la_dotp(a, x, ld) - tl_la_dot(a, x, ld)) < 1e-4f);
        tl_la_symv(a, ld, ld, x, y);
        for (int r = 0; r < ld; r++) {
            double s = 0;
            for (int c = 0; c < ld; c++)
                s += (double)a[r * ld + c] * x[c];
            assert_true(fabs(y[r] - s) < 1e-4);
        }
        /* 19 rows: two blocks of eight and a tail of three */
        float *rows = random_rows(&g, 19, k, ld), out[19];
        float *xk = random_rows(&g, 1, k, ld);
        tl_la_gemv_rows(rows, 19, k, ld, xk, out);
        for (int r = 0; r < 19; r++) {
            double s = 0;
            for (int c = 0; c < k; c++)
                s += (double)rows[r * ld + c] * xk[c];
            assert_true(fabs(out[r] - s) < 1e-4);
        }
        tl_la_free(a);
        tl_la_free(x);
        tl_la_free(rows);
        tl_la_free(xk);
    }
}

static void test_symv_multi(void **state)
{
    (void)state;
    tl_rng g = {6};
    int ld = 24; /* one 16-wide tile and an 8-wide tail */
    float *a = random_rows(&g, ld, ld, ld);
    for (int r = 0; r < ld; r++)
        for (int c = 0; c < r; c++)
            a[r * ld + c] = a[c * ld + r];
    float *x = random_rows(&g, 4, ld, ld), *y = tl_la_alloc(4 * (size_t)ld), one[24];
    for (int nv = 1; nv <= TL_LA_SYMV_MULTI; nv++) {
        const float *in[4] = {x, x + ld, x + 2 * ld, x + 3 * ld};
        float *out[4] = {y, y + ld, y + 2 * ld, y + 3 * ld};
        memset(y, 0, 4 * (size_t)ld * sizeof(float));
        tl_la_symv_multi(a, ld, ld, in, nv, out);
        for (int j = 0; j < 4; j++) {
            tl_la_symv(a, ld, ld, in[j], one);
            for (int c = 0; c < ld; c++) {
                if (j < nv)
                    assert_true(fabsf(out[j][c] - one[c]) < 1e-4f);
                else
                    assert_true(out[j][c] == 0); /* vectors past nv are not written */
            }
        }
    }
    tl_la_free(a);
    tl_la_free(x);
    tl_la_free(y);
}

static void test_gather_axpy(void **state)
{
    (void)state;
    tl_rng g = {2};
    int k = 13, ld = tl_la_pad(k);
    float *y = random_rows(&g, 50, k, ld), *v = random_rows(&g, 1, k, ld);
    int32_t idx[21];
    float w[21];
    for (int j = 0; j < 21; j++) { /* 21 = two blocks and a tail of five */
        idx[j] = (int32_t)(tl_rng_next(&g) % 50);
        w[j] = (float)tl_rng_uniform(&g) * 3;
    }
    float out[16] = {0}, a0 = 1.5f, a1 = 0.25f, b1 = -2.0f;
    for (int c = 0; c < ld; c++)
        out[c] = (float)c; /* accumulates onto what is there */
    tl_la_gather_axpy(y, ld, idx, w, 21, a0, a1, b1, v, out);
    for (int c = 0; c < ld; c++) {
        double s = c;
        for (int j = 0; j < 21; j++) {
            const float *yj = y + idx[j] * ld;
            double d = 0;
            for (int q = 0; q < k; q++)
                d += (double)yj[q] * v[q];
            s += (a0 + a1 * w[j] + b1 * w[j] * d) * yj[c];
        }
        assert_true(fabs(out[c] - s) < 1e-3);
    }
    assert_true(out[k] == (float)k); /* padding columns only ever add zeros */
    tl_la_free(y);
    tl_la_free(v);
}

static void test_scatter_axpy(void **state)
{
    (void)state;
    tl_rng g = {5};
    int k = 21, ld = tl_la_pad(k), nh = 30;
    float *y = random_rows(&g, 1, k, ld), *v = random_rows(&g, nh, k, ld);
    float *out = random_rows(&g, nh, k, ld), *want = malloc((size_t)nh * ld * sizeof(float));
    int32_t hidx[19];
    float w[19];
    uint8_t active[30];
    for (int h = 0; h < nh; h++)
        active[h] = h % 5 != 0;
    for (int j = 0; j < 19; j++) { /* distinct rows, as in one CSR row; two blocks + 3 */
        hidx[j] = (j * 7 + 3) % nh;
        w[j] = 0.5f + (float)j;
    }
    memcpy(want, out, (size_t)nh * ld * sizeof(float));
    float a0 = 0.5f, a1 = -0.25f, b1 = 1.5f;
    for (int j = 0; j < 19; j++) {
        int h = hidx[j];
        if (!active[h])
            continue;
        double d = 0;
        for (int q = 0; q < k; q++)
            d += (double)y[q] * v[h * ld + q];
        double c = a0 + a1 * w[j] + b1 * w[j] * d;
        for (int q = 0; q < ld; q++)
            want[h * ld + q] += (float)(c * y[q]);
    }
    tl_la_scatter_axpy(y, ld, hidx, w, 19, active, a0, a1, b1, v, out);
    for (int q = 0; q < nh * ld; q++)
        assert_true(fabsf(out[q] - want[q]) < 1e-3f);
    tl_la_free(y);
    tl_la_free(v);
    tl_la_free(out);
    free(want);
}

/* A = G + sum s_j y_j y_j^T (upper), b = sum t_j y_j, then Cholesky: A x = b must hold. */
static void test_syrk_rows_and_cholesky(void **state)
{
    (void)state;
    tl_rng g = {3};
    for (int k = 3; k <= 67; k += 32) {
        int ld = tl_la_pad(k);
        int n = 29;
        float *y = random_rows(&g, 40, k, ld), *a = tl_la_alloc((size_t)ld * ld);
        float *b = tl_la_alloc(ld);
        double *ad = calloc((size_t)k * k, sizeof(double)), *bd = calloc((size_t)k, sizeof(double));
        int32_t idx[29];
        float s[29], t[29];
        assert_non_null(a);
        assert_non_null(ad);
        for (int q = 0; q < k; q++) {
            a[q * ld + q] = 2.0f; /* a regularized start */
            ad[q * k + q] = 2.0;
        }
        for (int j = 0; j < n; j++) {
            idx[j] = (int32_t)(tl_rng_next(&g) % 40);
            s[j] = (float)tl_rng_uniform(&g) * 4;
            t[j] = 1 + s[j];
            const float *yj = y + idx[j] * ld;
            for (int r = 0; r < k; r++) {
                bd[r] += t[j] * yj[r];
                for (int c = 0; c < k; c++)
                    ad[r * k + c] += (double)s[j] * yj[r] * yj[c];
            }
        }
        tl_la_syrk_rows(y, ld, idx, s, t, n, k, a, ld, b);
        for (int r = 0; r < k; r++) {
            assert_true(fabs(b[r] - bd[r]) < 1e-3);
            for (int c = r; c < k; c++)
                assert_true(fabs(a[r * ld + c] - ad[r * k + c]) < 1e-3 * (1 + fabs(ad[r * k + c])));
        }
        assert_int_equal(tl_la_potrf_upper(a, k, ld), 0);
        tl_la_potrs_upper(a, k, ld, b);
        for (int r = 0; r < k; r++) {
            double s2 = 0;
            for (int c = 0; c < k; c++)
                s2 += ad[r * k + c] * b[c];
            assert_true(fabs(s2 - bd[r]) < 1e-3 * (1 + fabs(bd[r])));
        }
        /* not positive definite: refused rather than returning garbage */
        memset(a, 0, (size_t)ld * ld * sizeof(float));
        a[0] = -1;
        assert_int_equal(tl_la_potrf_upper(a, k, ld), -1);
        tl_la_free(y);
        tl_la_free(a);
        tl_la_free(b);
        free(ad);
        free(bd);
    }
}

static void test_gram_and_gemm(void **state)
{
    (void)state;
    tl_rng g = {4};
    int k = 12, ld = tl_la_pad(k);
    int64_t n = 5000; /* several slices */
    float *x = random_rows(&g, n, k, ld), *out1 = tl_la_alloc((size_t)ld * ld);
    float *out2 = tl_la_alloc((size_t)ld * ld);
    assert_int_equal(tl_la_gram(x, n, ld, ld, out1, ld, 1), 0);
    assert_int_equal(tl_la_gram(x, n, ld, ld, out2, ld, 2), 0);
    /* the same bits whatever the number of threads */
    assert_memory_equal(out1, out2, (size_t)ld * ld * sizeof(float));
    for (int r = 0; r < ld; r++)
        for (int c = 0; c < ld; c++) {
            double s = 0;
            for (int64_t i = 0; i < n; i++)
                s += (double)x[i * ld + r] * x[i * ld + c];
            assert_true(fabs(out1[r * ld + c] - s) < 1e-2 + 1e-4 * fabs(s)); /* float sums */
        }
    /* C = A B^T: tall (split by rows) and wide (split by columns, several blocks) */
    int shapes[2][2] = {{300, 7}, {5, 4500}};
    for (int sh = 0; sh < 2; sh++) {
        int m = shapes[sh][0], nb = shapes[sh][1];
        float *b = random_rows(&g, nb, k, ld), *c = malloc((size_t)m * nb * sizeof(float));
        tl_la_gemm_nt(m, nb, k, x, ld, b, ld, c, nb, 2);
        for (int r = 0; r < m; r++)
            for (int q = 0; q < nb; q++) {
                double s = 0;
                for (int f = 0; f < k; f++)
                    s += (double)x[r * ld + f] * b[q * ld + f];
                assert_true(fabs(c[r * nb + q] - s) < 1e-4);
            }
        tl_la_free(b);
        free(c);
    }
    tl_la_free(x);
    tl_la_free(out1);
    tl_la_free(out2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dotp_symv_gemv),
        cmocka_unit_test(test_symv_multi),
        cmocka_unit_test(test_gather_axpy),
        cmocka_unit_test(test_scatter_axpy),
        cmocka_unit_test(test_syrk_rows_and_cholesky),
        cmocka_unit_test(test_gram_and_gemm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
