/* Fixed-horizon and sequential tests, and the SRM check; see seqtest.h. */
#include "eval/seqtest.h"

#include <math.h>

double tl_normal_p_two_sided(double z)
{
    return erfc(fabs(z) / sqrt(2.0));
}

/* Regularized lower incomplete gamma P(a, x) by its series (x < a + 1), else 1 - Q by the
 * continued fraction (Numerical Recipes 6.2). */
static double gamma_p(double a, double x)
{
    if (x <= 0)
        return 0;
    double lg = lgamma(a);
    if (x < a + 1) {
        double ap = a, sum = 1.0 / a, del = sum;
        for (int i = 0; i < 1000; i++) {
            ap += 1;
            del *= x / ap;
            sum += del;
            if (fabs(del) < fabs(sum) * 1e-15)
                break;
        }
        return sum * exp(-x + a * log(x) - lg);
    }
    double b = x + 1 - a, c = 1e300, d = 1 / b, h = d;
    for (int i = 1; i < 1000; i++) {
        double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < 1e-300)
            d = 1e-300;
        c = b + an / c;
        if (fabs(c) < 1e-300)
            c = 1e-300;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-15)
            break;
    }
    return 1 - exp(-x + a * log(x) - lg) * h;
}

double tl_chisq_sf(double x, int df)
{
    if (df < 1)
        return 1;
    double p = 1 - gamma_p(df / 2.0, x / 2.0);
    return p < 0 ? 0 : p;
}

double tl_msprt_lambda(double theta_hat, double v, double tau2)
{
    if (!(v > 0) || !(tau2 > 0))
        return 1;
    return sqrt(v / (v + tau2)) * exp(tau2 * theta_hat * theta_hat / (2 * v * (v + tau2)));
}

void tl_msprt_init(tl_msprt *m, double tau2)
{
    m->tau2 = tau2;
    m->p = 1;
    m->looks = 0;
}

double tl_msprt_look(tl_msprt *m, double theta_hat, double v)
{
    if (!(v > 0) || !isfinite(theta_hat))
        return m->p;
    m->looks++;
    double lambda = tl_msprt_lambda(theta_hat, v, m->tau2);
    if (1 / lambda < m->p)
        m->p = 1 / lambda;
    return m->p;
}

double tl_srm_pvalue(const long *observed, const double *share, int k)
{
    double total = 0, chi = 0;
    for (int i = 0; i < k; i++)
        total += (double)observed[i];
    if (k < 2 || total <= 0)
        return 1;
    int df = 0;
    for (int i = 0; i < k; i++) {
        double e = share[i] * total;
        if (e <= 0)
            continue;
        chi += ((double)observed[i] - e) * ((double)observed[i] - e) / e;
        df++;
    }
    return tl_chisq_sf(chi, df - 1);
}

tl_diff tl_diff_means(double mean_a, double var_a, double n_a, double mean_b, double var_b,
                      double n_b)
{
    tl_diff d = {mean_b - mean_a, 0};
    if (n_a > 0 && n_b > 0)
        d.var = var_a / n_a + var_b / n_b;
    return d;
}
