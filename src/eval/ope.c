/* IPS, SNIPS and DR with normal confidence intervals; see ope.h. */
#include "eval/ope.h"

#include <math.h>
#include <string.h>

#define Z95 1.959963984540054

static void finish(tl_ope_value *v, double mean, double var_of_mean)
{
    v->value = mean;
    v->se = var_of_mean > 0 ? sqrt(var_of_mean) : 0;
    v->lo = mean - Z95 * v->se;
    v->hi = mean + Z95 * v->se;
}

/* Mean and the variance of the mean of terms produced by term(i), in two passes. */
typedef double (*term_fn)(const tl_ope_sample *s, double *w);

static double ips_term(const tl_ope_sample *s, double *w)
{
    *w = s->target[s->chosen] / s->propensity;
    return *w * s->reward;
}

static double dr_term(const tl_ope_sample *s, double *w)
{
    double direct = 0, q_chosen = 0;
    if (s->qhat) {
        for (int k = 0; k < s->n_cand; k++)
            direct += s->target[k] * s->qhat[k];
        q_chosen = s->qhat[s->chosen];
    }
    *w = s->target[s->chosen] / s->propensity;
    return direct + *w * (s->reward - q_chosen);
}

static void mean_estimate(const tl_ope_sample *s, size_t n, term_fn f, tl_ope_value *out)
{
    double sum = 0, sq = 0, w;
    for (size_t i = 0; i < n; i++)
        sum += f(&s[i], &w);
    double mean = sum / (double)n;
    for (size_t i = 0; i < n; i++) {
        double t = f(&s[i], &w) - mean;
        sq += t * t;
    }
    double var = n > 1 ? sq / (double)(n - 1) : 0;
    finish(out, mean, var / (double)n);
}

tl_err tl_ope_estimate(const tl_ope_sample *s, size_t n, tl_ope_result *out)
{
    memset(out, 0, sizeof *out);
    if (!s || n == 0)
        return TL_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (s[i].n_cand < 1 || s[i].chosen < 0 || s[i].chosen >= s[i].n_cand ||
            !(s[i].propensity > 0) || !s[i].target || !isfinite(s[i].reward))
            return TL_EINVAL;
    out->n = n;
    mean_estimate(s, n, ips_term, &out->ips);
    mean_estimate(s, n, dr_term, &out->dr);
    /* SNIPS = sum w r / sum w; its variance by the delta method: sum (w (r - V))^2 / (sum w)^2 */
    double sw = 0, sw2 = 0, swr = 0;
    for (size_t i = 0; i < n; i++) {
        double w;
        swr += ips_term(&s[i], &w);
        sw += w;
        sw2 += w * w;
    }
    double v = sw > 0 ? swr / sw : 0, sq = 0;
    for (size_t i = 0; i < n; i++) {
        double w;
        ips_term(&s[i], &w);
        sq += w * w * (s[i].reward - v) * (s[i].reward - v);
    }
    finish(&out->snips, v, sw > 0 ? sq / (sw * sw) : 0);
    out->ess = sw2 > 0 ? sw * sw / sw2 : 0;
    return TL_OK;
}
