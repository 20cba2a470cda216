/* A stem's sample-domain lag against the master (sg__waveform_offset, see verify_internal.h):
 * normalised cross-correlation of first differences (a cheap pre-whitening, after Knapp & Carter
 * 1976) in a 2-s window, searched +-8 ms around the envelopes' estimate.
 *
 * Every lag is first scored with a fast sum (eight independent partial sums, so the additions
 * pipeline instead of waiting on one another, and a running sum for the master window's energy);
 * the lags that can still be the answer (within CAND_EPS of the best score) are then scored
 * again by the exact sequential sum, and the answer is taken from those exact scores by the same
 * rule as a plain search over every lag: the highest local maximum, the earliest on a tie, and a
 * parabola through it and its neighbours. The fast scores differ from the exact ones by about
 * 1e-13, far inside CAND_EPS, so the result is the plain search's to the last bit. */
#include "core/simd.h"
#include "verify_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The fast and exact scores differ by rounding only (~1e-13 for a 96000-term sum of doubles);
 * any lag whose fast score is within this of the best exact local maximum is scored exactly. */
#define CAND_EPS 1e-6
/* Terms of the fast products summed per pass over the lags (8 KB of doubles). */
#define XTILE 1024

/* Exact score of lag offset t (0..2M): the sequential double sums a plain search makes. */
static double exact_score(const double *da, const double *db, size_t n, size_t t, double saa) {
  double sab = 0, sbb = 0;
  for (size_t k = 0; k < n; ++k) {
    sab += da[k] * db[k + t];
    sbb += db[k + t] * db[k + t];
  }
  return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
}

/* Fast dot product of n terms: eight partial sums. */
static SG__INLINE double dot8(const double *x, const double *y, size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    s0 += x[k] * y[k];
    s1 += x[k + 1] * y[k + 1];
    s2 += x[k + 2] * y[k + 2];
    s3 += x[k + 3] * y[k + 3];
    s4 += x[k + 4] * y[k + 4];
    s5 += x[k + 5] * y[k + 5];
    s6 += x[k + 6] * y[k + 6];
    s7 += x[k + 7] * y[k + 7];
  }
  for (; k < n; ++k)
    s0 += x[k] * y[k];
  return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
}

typedef struct lagscore {
  size_t t;
  double v;
} lagscore;

static int by_score_desc(const void *x, const void *y) {
  const lagscore *a = x, *b = y;
  return a->v > b->v ? -1 : a->v < b->v ? 1 : (a->t > b->t) - (a->t < b->t);
}

/* The lag search over da (n terms) against db (n + 2M terms): returns the lag offset t in
 * [1, 2M - 1] of the highest exact local maximum (earliest on a tie) with r[] its exact score
 * and its neighbours', or -1 when there is none. */
SG__CLONES static long best_lag(const double *da, const double *db, size_t n, size_t M, double saa,
                                double r[3]) {
  const size_t T = 2 * M + 1;
  double *fast = malloc(T * sizeof *fast), *ex = malloc(T * sizeof *ex);
  lagscore *cand = malloc(T * sizeof *cand);
  long best = -1;
  if (!fast || !ex || !cand)
    goto done;
  double sbb = 0;
  for (size_t k = 0; k < n; ++k)
    sbb += db[k] * db[k];
  /* The fast products in tiles of XTILE terms, every lag per tile: the tile of da and the
   * T + XTILE values of db it meets stay in L1 (a whole window per lag streamed 1.5 MB from L2
   * for each of the ~770 lags). A tile's sums add to the lag's total: another rounding, of the
   * same ~1e-13 size, far inside CAND_EPS. */
  for (size_t t = 0; t < T; ++t)
    fast[t] = 0;
  for (size_t k0 = 0; k0 < n; k0 += XTILE) {
    const size_t kn = n - k0 < XTILE ? n - k0 : XTILE;
    for (size_t t = 0; t < T; ++t)
      fast[t] += dot8(da + k0, db + k0 + t, kn);
  }
  for (size_t t = 0; t < T; ++t) {
    if (t > 0) /* slide the master window by one */
      sbb += db[t + n - 1] * db[t + n - 1] - db[t - 1] * db[t - 1];
    double sab = fast[t];
    fast[t] = saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
    ex[t] = NAN;
  }
  /* Candidates: interior lags not clearly below a neighbour, best first. */
  size_t nc = 0;
  for (size_t t = 1; t + 1 < T; ++t)
    if (fast[t] >= fast[t - 1] - CAND_EPS && fast[t] >= fast[t + 1] - CAND_EPS)
      cand[nc++] = (lagscore){t, fast[t]};
  qsort(cand, nc, sizeof *cand, by_score_desc);
  double bv = -2;
  for (size_t i = 0; i < nc; ++i) {
    if (best >= 0 && cand[i].v < bv - 2 * CAND_EPS)
      break; /* no later candidate can reach the best exact maximum */
    size_t t = cand[i].t;
    for (size_t u = t - 1; u <= t + 1; ++u)
      if (isnan(ex[u]))
        ex[u] = exact_score(da, db, n, u, saa);
    if (ex[t] >= ex[t - 1] && ex[t] >= ex[t + 1] &&
        (ex[t] > bv || (ex[t] == bv && (long)t < best))) {
      bv = ex[t];
      best = (long)t;
    }
  }
  if (best >= 0) {
    r[0] = ex[best - 1];
    r[1] = ex[best];
    r[2] = ex[best + 1];
  }
done:
  free(fast);
  free(ex);
  free(cand);
  return best;
}

double sg__waveform_offset(sg__mono *A, sg__mono *B, unsigned rate, double coarse_s, double *at_s,
                           double *peak) {
  size_t N = 2 * (size_t)rate, best_i = 0, H = N / 4;
  size_t na = (size_t)A->frames, nb = (size_t)B->frames;
  long M = (long)ceil(0.008 * rate), c = lround(coarse_s * rate);
  size_t edge = (size_t)(labs(c) + M + 1);
  double best_e = -1;
  *at_s = 0;
  *peak = 0;
  if (na < N + 2 * edge || nb < N + 2 * edge)
    return coarse_s;
  const size_t nbw = N + 2 * (size_t)M + 2; /* master frames read around the window */
  float *a = malloc(N * sizeof *a), *b = malloc(nbw * sizeof *b);
  double *da = malloc(N * sizeof *da), *db = malloc(nbw * sizeof *db);
  if (!a || !b || !da || !db)
    goto fail;
  /* a's loudest window: N frames sliding by N/4, read from its spool (every 4th sample). The
   * window is a ring (it starts at a[r0]): a slide reads the next quarter over the oldest, and
   * the sum still runs over the window's frames in order. */
  for (size_t i = edge, have = 0, r0 = 0; i + N + edge <= na && i + N + edge <= nb; i += H) {
    if (have) { /* slide: the next H frames over the oldest H */
      const size_t h1 = N - r0 < H ? N - r0 : H;
      if (sg__mono_read(A, (int64_t)(i + N - H), h1, a + r0, NULL) != SG_OK ||
          (h1 < H && sg__mono_read(A, (int64_t)(i + N - H + h1), H - h1, a, NULL) != SG_OK))
        goto fail;
      r0 = (r0 + H) % N;
    } else if (sg__mono_read(A, (int64_t)i, N, a, NULL) != SG_OK) {
      goto fail;
    }
    have = 1;
    double e = 0;
    for (size_t k = 0, j = r0; k < N; k += 4, j += 4) {
      if (j >= N)
        j -= N;
      e += (double)a[j] * a[j];
    }
    if (e > best_e) {
      best_e = e;
      best_i = i;
    }
  }
  if (best_e < 0)
    goto fail;
  /* a[k] is frame best_i + k; b[k] is frame best_i + c - M - 1 + k, so frame best_i + k + l of
   * the master is b[k + l - c + M + 1]. */
  long b0 = (long)best_i + c - M - 1;
  if (sg__mono_read(A, (int64_t)best_i, N, a, NULL) != SG_OK ||
      sg__mono_read(B, b0, nbw, b, NULL) != SG_OK)
    goto fail;
  /* First differences: da[k - 1] = a[k] - a[k - 1] (k = 1..N-1), db[j - 1] likewise; lag
   * l = c - M + t pairs da[k - 1] with db[k + t]. */
  double saa = 0;
  for (size_t k = 1; k < N; ++k) {
    da[k - 1] = (double)a[k] - a[k - 1];
    saa += da[k - 1] * da[k - 1];
  }
  for (size_t j = 1; j < nbw; ++j)
    db[j - 1] = (double)b[j] - b[j - 1];
  /* A silent window scores 0 at every lag: nothing correlates. */
  double r[3] = {0, 0, 0};
  long t = saa > 0 ? best_lag(da, db + 1, N - 1, (size_t)M, saa, r) : -1;
  free(a);
  free(b);
  free(da);
  free(db);
  *at_s = ((double)best_i + 0.5 * (double)N) / rate;
  if (t < 0 || !(r[1] > 0.05))
    return coarse_s;
  *peak = r[1];
  double den = r[0] - 2 * r[1] + r[2];
  double fr = den < 0 ? 0.5 * (r[0] - r[2]) / den : 0;
  return ((double)(c - M + t) + fr) / rate;
fail:
  free(a);
  free(b);
  free(da);
  free(db);
  return coarse_s;
}
