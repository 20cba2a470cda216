/* A stem's sample-domain lag against the master (sg__waveform_offset, see verify_internal.h):
 * normalised cross-correlation of first differences (a cheap pre-whitening, after Knapp & Carter
 * 1976) in a 2-s window (the stem's loudest by its activity map, sg__sync_window), searched
 * +-8 ms around the envelopes' estimate.
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

#if defined(__GNUC__)
/* Four consecutive lags at once: each x vector loaded once for the four (the single-lag sum
 * loads two operands per product, and the loads bounded it), eight vector partial sums in
 * flight. Another summation order than dot8's, of the same ~1e-13 rounding. */
typedef double v4d __attribute__((vector_size(32)));

/* out[l] += the dot product of x with y + l (n terms), l = 0..3. */
static SG__INLINE void dot_lags4(const double *x, const double *y, size_t n, double out[4]) {
  v4d a0 = {0}, a1 = {0}, b0 = {0}, b1 = {0}, c0 = {0}, c1 = {0}, d0 = {0}, d1 = {0};
  size_t k = 0;
#define LD4(v, p) memcpy(&(v), (p), sizeof(v)) /* unaligned; no vector passed by value */
  for (; k + 8 <= n; k += 8) {
    v4d x0, x1, y0, y1;
    LD4(x0, x + k);
    LD4(x1, x + k + 4);
    LD4(y0, y + k);
    LD4(y1, y + k + 4);
    a0 += x0 * y0;
    a1 += x1 * y1;
    LD4(y0, y + k + 1);
    LD4(y1, y + k + 5);
    b0 += x0 * y0;
    b1 += x1 * y1;
    LD4(y0, y + k + 2);
    LD4(y1, y + k + 6);
    c0 += x0 * y0;
    c1 += x1 * y1;
    LD4(y0, y + k + 3);
    LD4(y1, y + k + 7);
    d0 += x0 * y0;
    d1 += x1 * y1;
  }
#undef LD4
  const v4d v[4] = {a0 + a1, b0 + b1, c0 + c1, d0 + d1};
  for (int l = 0; l < 4; ++l) {
    double t = (v[l][0] + v[l][1]) + (v[l][2] + v[l][3]);
    for (size_t i = k; i < n; ++i)
      t += x[i] * y[i + l];
    out[l] += t;
  }
}
#define SG_DOT_LAGS4 1
#endif

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
    size_t t = 0;
#if defined(SG_DOT_LAGS4)
    for (; t + 4 <= T; t += 4)
      dot_lags4(da + k0, db + k0 + t, kn, fast + t);
#endif
    for (; t < T; ++t)
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

/* Frames a window of sg__waveform_offset keeps from each end of both files for lag c (frames):
 * the master is read at +-(|c| + M + 1) around it. */
static size_t window_edge(unsigned rate, double coarse_s) {
  return (size_t)(labs(lround(coarse_s * rate)) + (long)ceil(0.008 * rate) + 1);
}

/* The loudest window by the stem's activity map, not by its samples: the map (mean square over
 * all channels per 50-ms window, sg_meter_window_db) is held on both of verify's paths, its own
 * meter of the decoded entry or the render's lent one, bit for bit the same, so the choice reads
 * no samples and lent and measured rows stay identical. Windows of the map are summed in power
 * over the 2 s (slid by one map window, 50 ms, where the samples' search slid by 0.5 s); the
 * channels' mean square ranks a stem's loud regions as its mono does, except where the channels
 * cancel in the mono (anti-phase): such a window correlates with nothing, so the envelopes'
 * estimate stands, never a wrong lag. */
int64_t sg__sync_window(const sg_meter *act, int64_t na, int64_t nb, unsigned rate,
                        double coarse_s) {
  const size_t N = 2 * (size_t)rate, edge = window_edge(rate, coarse_s);
  const int64_t n = na < nb ? na : nb;
  if (n < (int64_t)(N + 2 * edge))
    return -1;
  const size_t W = sg_meter_window_frames(act);
  if (!W) /* no activity map (more channels than the meter takes): the middle of the file */
    return (n - (int64_t)N) / 2;
  const size_t K = (N + W - 1) / W; /* map windows a 2-s window touches */
  const size_t j0 = (edge + W - 1) / W, nw = ((size_t)n - edge - N) / W + K + 1;
  double *pw = malloc(nw * sizeof *pw);
  if (!pw)
    return -1;
  for (size_t j = j0; j < nw; ++j)
    pw[j] = pow(10.0, 0.1 * sg_meter_window_db(act, j));
  int64_t best = -1;
  double best_e = -1;
  for (size_t j = j0; j * W + N + edge <= (size_t)n; ++j) {
    double e = 0; /* summed afresh per start: no running-sum rounding to depend on order */
    for (size_t k = 0; k < K; ++k)
      e += pw[j + k];
    if (e > best_e) {
      best_e = e;
      best = (int64_t)(j * W);
    }
  }
  free(pw);
  return best;
}

double sg__waveform_offset(sg__mono *A, sg__mono *B, unsigned rate, double coarse_s, int64_t start,
                           double *at_s, double *peak) {
  const size_t N = 2 * (size_t)rate, edge = window_edge(rate, coarse_s);
  const long M = (long)ceil(0.008 * rate), c = lround(coarse_s * rate);
  *at_s = 0;
  *peak = 0;
  if (start < (int64_t)edge || start + (int64_t)(N + edge) > A->frames ||
      start + (int64_t)(N + edge) > B->frames)
    return coarse_s;
  const size_t best_i = (size_t)start;
  const size_t nbw = N + 2 * (size_t)M + 2; /* master frames read around the window */
  float *a = malloc(N * sizeof *a), *b = malloc(nbw * sizeof *b);
  double *da = malloc(N * sizeof *da), *db = malloc(nbw * sizeof *db);
  if (!a || !b || !da || !db)
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
