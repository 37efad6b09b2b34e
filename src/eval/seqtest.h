/* Tests for experiments: the fixed-horizon z test, the mixture sequential probability ratio
 * test (mSPRT) whose p-value stays valid however often it is looked at, and the sample-ratio
 * mismatch (SRM) check of an experiment's assignment counts. */
#ifndef TL_EVAL_SEQTEST_H
#define TL_EVAL_SEQTEST_H

/* Two-sided p-value of a standard normal statistic z. */
double tl_normal_p_two_sided(double z);
/* The upper tail P(X > x) of a chi-square variable with df degrees of freedom. */
double tl_chisq_sf(double x, int df);

/* The mixture likelihood ratio for an estimate theta_hat ~ N(theta, v) of H0: theta = 0 against
 * theta ~ N(0, tau2) (Johari et al., "Always valid inference", 2017). */
double tl_msprt_lambda(double theta_hat, double v, double tau2);

/* A running always-valid p-value: look at it every day; reject when p <= alpha. */
typedef struct tl_msprt {
    double tau2; /* the mixture's variance: the square of a plausible effect size */
    double p;    /* 1 before the first look; never increases */
    int looks;
} tl_msprt;
void tl_msprt_init(tl_msprt *m, double tau2);
/* One look at the current estimate; returns the updated p-value. v <= 0 is ignored. */
double tl_msprt_look(tl_msprt *m, double theta_hat, double v);

/* The SRM check: a chi-square goodness-of-fit p-value of k observed counts against the expected
 * shares (summing to 1). A p-value below TL_SRM_ALPHA means the split is broken. */
#define TL_SRM_ALPHA 0.001
double tl_srm_pvalue(const long *observed, const double *share, int k);

/* A difference of two means with its variance: b - a, var_a/n_a + var_b/n_b. */
typedef struct tl_diff {
    double diff, var;
} tl_diff;
tl_diff tl_diff_means(double mean_a, double var_a, double n_a, double mean_b, double var_b,
                      double n_b);

#endif
