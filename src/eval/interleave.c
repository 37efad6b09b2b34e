/* Team-draft interleaving and its sign test; see interleave.h. */
#include "eval/interleave.h"

#include <math.h>

#include "eval/seqtest.h"
#include "util/hash.h"

static int shown(const int64_t *out, int n, int64_t item)
{
    for (int i = 0; i < n; i++)
        if (out[i] == item)
            return 1;
    return 0;
}

/* The next item of list[*pos..n) not shown yet, advancing *pos; -1 when none is left. */
static int next_new(const int64_t *list, int n, int *pos, const int64_t *out, int placed)
{
    while (*pos < n && shown(out, placed, list[*pos]))
        (*pos)++;
    return *pos < n ? *pos : -1;
}

int tl_team_draft(const int64_t *a, int na, const int64_t *b, int nb, int len, uint64_t seed,
                  int64_t *out, unsigned char *team)
{
    int placed = 0, picks_a = 0, picks_b = 0, pa = 0, pb = 0;
    tl_rng g = {tl_splitmix64(seed)};
    while (placed < len) {
        int ia = next_new(a, na, &pa, out, placed), ib = next_new(b, nb, &pb, out, placed);
        if (ia < 0 && ib < 0)
            break;
        int take_a;
        if (ia < 0)
            take_a = 0;
        else if (ib < 0)
            take_a = 1;
        else if (picks_a != picks_b)
            take_a = picks_a < picks_b;
        else
            take_a = (tl_rng_next(&g) & 1) == 0;
        out[placed] = take_a ? a[ia] : b[ib];
        team[placed] = take_a ? 0 : 1;
        placed++;
        if (take_a)
            picks_a++;
        else
            picks_b++;
    }
    return placed;
}

int tl_interleave_credit(const unsigned char *team, const unsigned char *clicked, int n)
{
    int ca = 0, cb = 0;
    for (int i = 0; i < n; i++)
        if (clicked[i]) {
            if (team[i] == 0)
                ca++;
            else
                cb++;
        }
    return ca > cb ? 1 : ca < cb ? -1 : 0;
}

double tl_interleave_pvalue(long wins_a, long wins_b)
{
    long n = wins_a + wins_b;
    if (n <= 0)
        return 1;
    long k = wins_a < wins_b ? wins_a : wins_b;
    if (n > 1000) {
        double z = ((double)(n - 2 * k) - 1) / sqrt((double)n); /* with continuity correction */
        return z <= 0 ? 1 : tl_normal_p_two_sided(z);
    }
    /* 2 * P(X <= k), X ~ Binomial(n, 1/2) */
    double p = 0;
    for (long i = 0; i <= k; i++)
        p += exp(lgamma((double)n + 1) - lgamma((double)i + 1) - lgamma((double)(n - i) + 1) -
                 n * log(2.0));
    p *= 2;
    return p > 1 ? 1 : p;
}
