/* In situ: what one effect did to the music it processed, from its own input and output (fed by
 * the chain's tap), against its design. Methods in include/stemgate/analysis.h: Welch's
 * cross-spectral transfer with coherence (P. D. Welch, IEEE Trans. Audio Electroacoust. 15(2),
 * 1967; J. S. Bendat & A. G. Piersol, "Random Data", ch. 9) for linear effects; the compressor
 * design of Giannoulis, Massberg & Reiss (JAES 2012) re-implemented here, independently of
 * src/fx, as the reference for the measured gain reduction; energy ratios for the rest. */
#include "analysis_internal.h"

#include "stemgate/dsp.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* DYNAMICS block-rate sources: the own input, the named sidechain, then the candidate keys. */
#define SRC_OWN 0
#define SRC_SIDE 1
#define SRC_N (2 + SG_INSITU_MAX_KEYS)
#define IS_RUN 256 /* DYNAMICS: frames per run (within a 10 ms block) */
/* TRANSFER: segments measured back to back, then one in IS_SPREAD (the rest skipped unread) */
#define IS_DENSE 32
#define IS_SPREAD 4

#if defined(__GNUC__)
/* GCC/Clang generic vectors (element-wise IEEE operations, the scalar ones' bits), for a
 * branch-free select in the ballistics' recursion. */
typedef double is_v2 __attribute__((vector_size(16)));
typedef int64_t is_m2 __attribute__((vector_size(16)));
#endif

struct sg_insitu {
  sg_insitu_config c;
  double e_in; /* sum of squares of the input, both channels */
  /* TRANSFER */
  size_t seg, fill, skip;
  float *xr, *yr; /* the current segment's mid input and output */
  double *cs[SG_INSITU_MAX_FREQS], *sn[SG_INSITU_MAX_FREQS]; /* Hann window x cos, x sin */
  double sxx[SG_INSITU_MAX_FREQS], syy[SG_INSITU_MAX_FREQS];
  double sxy_re[SG_INSITU_MAX_FREQS], sxy_im[SG_INSITU_MAX_FREQS];
  size_t nseg;
  /* DYNAMICS */
  double a_att, a_rel, a_rms, yl, ms;
  size_t blk, bpos;
  double b_in, b_out, b_pred;
  double err2, grsum, grmax;
  size_t nblk;
  int have_side;
  /* wiring: per source, the block's detector level (peak or mean square), the design's
   * reduction predicted from it at block rate, and the correlation sums with the measured one */
  double bk_a_att, bk_a_rel;
  double rel_pow[IS_RUN]; /* a_rel^(k + 1): a release run in closed form */
  double src_lv[SRC_N], src_yl[SRC_N];
  double cs_n, cs_a, cs_aa, cs_b[SRC_N], cs_bb[SRC_N], cs_ab[SRC_N];
  /* WET */
  double w_xx, w_xy, w_yy, w_lr;
  /* LEVEL, SHAPER */
  double e_out[2], e_inc[2], e_mid[2], e_side[2];
  double p_sum, p_sq, y_sum, y_sq, cnt;
  sg_dc_blocker dcb[2];
  /* PEAK */
  sg_truepeak tp[2];
  int avx2; /* DYNAMICS: its AVX2 build (sg_dsp_avx2) */
};

void sg_insitu_free(sg_insitu *s) {
  if (!s)
    return;
  free(s->xr);
  free(s->yr);
  for (int i = 0; i < SG_INSITU_MAX_FREQS; ++i) {
    free(s->cs[i]);
    free(s->sn[i]);
  }
  free(s);
}

sg_status sg_insitu_create(sg_insitu **out, const sg_insitu_config *c) {
  if (!out || !c || !(c->rate >= 8000 && c->rate <= 384000) || c->n_freqs < 0 ||
      c->n_freqs > SG_INSITU_MAX_FREQS || c->n_keys < 0 || c->n_keys > SG_INSITU_MAX_KEYS)
    return SG_E_INVAL;
  *out = NULL;
  sg_insitu *s = calloc(1, sizeof *s);
  if (!s)
    return SG_E_NOMEM;
  s->c = *c;
  if (c->kind == SG_INSITU_TRANSFER) {
    /* A power of two near 0.7 s: a 2.9 Hz main lobe at 48 kHz, fine enough for a high-pass
     * an octave below 25 Hz. */
    size_t n = 1;
    while ((double)n < 0.68 * c->rate)
      n <<= 1;
    s->seg = n;
    s->xr = malloc(n * sizeof(float));
    s->yr = malloc(n * sizeof(float));
    double *win = malloc(n * sizeof(double));
    int ok = s->xr && s->yr && win;
    for (size_t k = 0; ok && k < n; ++k)
      win[k] = 0.5 - 0.5 * cos(2 * SG_PI * (double)k / (double)n); /* Hann */
    for (int i = 0; ok && i < c->n_freqs; ++i) {
      if (!(c->freqs[i] > 0 && c->freqs[i] < 0.5 * c->rate)) {
        free(win);
        sg_insitu_free(s);
        return SG_E_INVAL;
      }
      s->cs[i] = malloc(n * sizeof(double));
      s->sn[i] = malloc(n * sizeof(double));
      ok = s->cs[i] && s->sn[i];
      for (size_t k = 0; ok && k < n; ++k) {
        const double ph = 2 * SG_PI * c->freqs[i] * (double)k / c->rate;
        s->cs[i][k] = win[k] * cos(ph), s->sn[i][k] = win[k] * sin(ph);
      }
    }
    free(win);
    if (!ok) {
      sg_insitu_free(s);
      return SG_E_NOMEM;
    }
  } else if (c->kind == SG_INSITU_DYNAMICS) {
    s->a_att = sg_onepole_coef_tau(c->attack_ms * 1e-3, c->rate);
    s->a_rel = sg_onepole_coef_tau(c->release_ms * 1e-3, c->rate);
    s->a_rms = sg_onepole_coef_tau(c->rms_ms * 1e-3, c->rate);
    s->blk = (size_t)(0.01 * c->rate);
    const double brate = c->rate / (double)s->blk;
    s->bk_a_att = sg_onepole_coef_tau(c->attack_ms * 1e-3, brate);
    s->bk_a_rel = sg_onepole_coef_tau(c->release_ms * 1e-3, brate);
    s->avx2 = sg_dsp_avx2();
    double p = 1;
    for (int k = 0; k < IS_RUN; ++k)
      s->rel_pow[k] = p *= s->a_rel;
  } else if (c->kind == SG_INSITU_SHAPER) {
    const double r = c->dc_hz > 0 ? sg_dc_blocker_pole(c->dc_hz, c->rate) : 0;
    sg_dc_blocker_init(&s->dcb[0], r);
    sg_dc_blocker_init(&s->dcb[1], r);
  } else if (c->kind == SG_INSITU_PEAK) {
    sg_truepeak_config tc;
    sg_truepeak_config_init(&tc);
    if (sg_truepeak_init(&s->tp[0], &tc, c->rate) != SG_OK ||
        sg_truepeak_init(&s->tp[1], &tc, c->rate) != SG_OK) {
      sg_insitu_free(s);
      return SG_E_INVAL;
    }
  } else if (c->kind > SG_INSITU_PEAK) {
    sg_insitu_free(s);
    return SG_E_INVAL;
  }
  *out = s;
  return SG_OK;
}

/* Gain computer of the design (Giannoulis et al. eq. 4): output level for input level x, dB.
 * (The per-sample loop computes the reduction x - gc(x) in closed form.) */
static inline double gc(const sg_insitu_config *c, double x) {
  const double T = c->threshold_db, W = c->knee_db, R = c->ratio, d = x - T;
  const double knee = x + (1 / R - 1) * (d + W / 2) * (d + W / 2) / (W > 0 ? 2 * W : 1);
  return 2 * d < -W ? x : (W > 0 && 2 * fabs(d) <= W ? knee : T + d / R);
}

static double db10(double e) { return 10 * log10(e > 1e-30 ? e : 1e-30); }

/* Sums over a segment or a block are kept in four interleaved partial sums (frames k, k+4,
 * ...), so the loops vectorise; the four are added at the end. */
#define LANES 4

static void segment(sg_insitu *s) {
  const float *x = s->xr, *y = s->yr;
  for (int i = 0; i < s->c.n_freqs; ++i) {
    double xr[LANES] = {0}, xi[LANES] = {0}, yr[LANES] = {0}, yi[LANES] = {0};
    const double *cs = s->cs[i], *sn = s->sn[i];
    for (size_t k = 0; k < s->seg; k += LANES) /* seg: a power of two >= 4 */
      for (int j = 0; j < LANES; ++j) {
        const double a = x[k + j], b = y[k + j];
        xr[j] += a * cs[k + j], xi[j] -= a * sn[k + j];
        yr[j] += b * cs[k + j], yi[j] -= b * sn[k + j];
      }
    const double Xr = (xr[0] + xr[1]) + (xr[2] + xr[3]), Xi = (xi[0] + xi[1]) + (xi[2] + xi[3]);
    const double Yr = (yr[0] + yr[1]) + (yr[2] + yr[3]), Yi = (yi[0] + yi[1]) + (yi[2] + yi[3]);
    s->sxx[i] += Xr * Xr + Xi * Xi;
    s->syy[i] += Yr * Yr + Yi * Yi;
    /* conj(X) Y */
    s->sxy_re[i] += Xr * Yr + Xi * Yi;
    s->sxy_im[i] += Xr * Yi - Xi * Yr;
  }
  s->nseg++;
  /* Segments do not overlap: half the cost of Welch's 50% overlap, and a song gives hundreds of
   * segments, so the variance it would save is not needed (#16 bench). Past IS_DENSE segments
   * (22 s), one in IS_SPREAD: the estimate's variance goes as 1 / segments, and a 3-minute song
   * still averages ~80 spread over all of it (the design is time-invariant, so any segment
   * measures the same transfer), at a third of the cost. */
  s->fill = 0;
  s->skip = s->nseg >= IS_DENSE ? (IS_SPREAD - 1) * s->seg : 0;
}

/* Sum of a[k]^2 + b[k]^2 over m frames. */
static double energy2(const float *a, const float *b, size_t m) {
  double l[LANES] = {0};
  size_t k = 0;
  for (; k + LANES <= m; k += LANES)
    for (int j = 0; j < LANES; ++j)
      l[j] += (double)a[k + j] * a[k + j] + (double)b[k + j] * b[k + j];
  for (; k < m; ++k)
    l[0] += (double)a[k] * a[k] + (double)b[k] * b[k];
  return (l[0] + l[1]) + (l[2] + l[3]);
}

/* Largest |a[k]|, |b[k]| over m frames and acc. */
static double peak2(const float *a, const float *b, size_t m, double acc) {
  float l[LANES] = {0};
  size_t k = 0;
  for (; k + LANES <= m; k += LANES)
    for (int j = 0; j < LANES; ++j) {
      const float x = fabsf(a[k + j]), y = fabsf(b[k + j]), v = x > y ? x : y;
      l[j] = v > l[j] ? v : l[j];
    }
  for (; k < m; ++k) {
    const float x = fabsf(a[k]), y = fabsf(b[k]), v = x > y ? x : y;
    l[0] = v > l[0] ? v : l[0];
  }
  for (int j = 0; j < LANES; ++j)
    acc = l[j] > acc ? l[j] : acc;
  return acc;
}

/* Block-rate reduction the design predicts from a source's block level (dB). */
static double predict(sg_insitu *s, int j) {
  const sg_insitu_config *c = &s->c;
  double lv = c->rms ? db10(s->src_lv[j] / (double)(2 * s->blk)) : 2 * db10(s->src_lv[j]);
  double xl = lv - gc(c, lv), *yl = &s->src_yl[j];
  *yl = xl > *yl ? s->bk_a_att * *yl + (1 - s->bk_a_att) * xl
                 : s->bk_a_rel * *yl + (1 - s->bk_a_rel) * xl;
  s->src_lv[j] = 0;
  return *yl;
}

static void end_block(sg_insitu *s) {
  const int nsrc = 2 + s->c.n_keys;
  double pred_src[SRC_N];
  for (int j = 0; j < nsrc; ++j) /* every block: the ballistics run through silence too */
    pred_src[j] = predict(s, j);
  if (s->b_in > 1e-6 * (double)s->blk) { /* -60 dBFS mean square over both channels */
    double gr = db10(s->b_in) - db10(s->b_out), pred = db10(s->b_in) - db10(s->b_pred);
    s->err2 += (gr - pred) * (gr - pred);
    double grn = gr + s->c.makeup_db; /* reduction without the make-up gain */
    s->grsum += grn;
    s->grmax = fmax(s->grmax, grn);
    s->nblk++;
    s->cs_n += 1, s->cs_a += grn, s->cs_aa += grn * grn;
    for (int j = 0; j < nsrc; ++j) {
      double b = pred_src[j];
      s->cs_b[j] += b, s->cs_bb[j] += b * b, s->cs_ab[j] += grn * b;
    }
  }
  s->b_in = s->b_out = s->b_pred = 0;
  s->bpos = 0;
}

/* A source's block level over m more frames: sum of squares (RMS design) or peak. */
static void src_level(sg_insitu *s, int j, const float *a, const float *b, size_t m) {
  if (s->c.rms)
    s->src_lv[j] += energy2(a, b, m);
  else
    s->src_lv[j] = peak2(a, b, m, s->src_lv[j]);
}

/* DYNAMICS: the body, inlined into a baseline and an AVX2 build (same bits; chosen at create). */
static inline __attribute__((always_inline)) void
dynamics_body(sg_insitu *s, const float *inL, const float *inR, const float *outL,
              const float *outR, const float *sideL, const float *sideR, const float *const *keys,
              int n_keys, size_t n) {
  const sg_insitu_config *c = &s->c;
  /* Per frame: the detector's level, the design's wanted reduction (dB; 0 below the knee,
   * where the gain computer leaves the level alone), the smoothed reduction yl and the
   * predicted power gain g^2 = 10^((makeup - yl) / 10); per 10 ms block, the sums. Runs of
   * frames within a block, each step over the run (only the detectors' recursions frame by
   * frame). 10 log10 x = k log2 x; 10^(-yl / 10) = 2^(-yl log2(10) / 10). */
  const double mk2 = pow(10, c->makeup_db / 10),
               knee_lin = pow(10, (c->threshold_db - 0.5 * c->knee_db) / 20);
  const double knee = c->rms ? knee_lin * knee_lin : knee_lin;
  const double kdb = (c->rms ? 10 : 20) * 0.30102999566398120, kg2 = 0.33219280948873623;
  if (sideL)
    s->have_side = 1;
  const float *dl = sideL ? sideL : inL, *dr = sideL ? (sideR ? sideR : sideL) : inR;
  double lv[IS_RUN];
  for (size_t k0 = 0; k0 < n;) {
    size_t m = s->blk - s->bpos < n - k0 ? s->blk - s->bpos : n - k0;
    m = m < IS_RUN ? m : IS_RUN;
    const float *a = dl + k0, *b = dr + k0;
    if (c->rms) {
      double ms = s->ms;
      for (size_t k = 0; k < m; ++k)
        lv[k] = ms =
            s->a_rms * ms + (1 - s->a_rms) * 0.5 * ((double)a[k] * a[k] + (double)b[k] * b[k]);
      s->ms = ms;
    } else {
      for (size_t k = 0; k < m; ++k) {
        const double pa = fabs((double)a[k]), pb = fabs((double)b[k]);
        lv[k] = pa > pb ? pa : pb;
      }
    }
    /* Reduction xg - gc(xg) with d = xg - T: 0 below the knee, (1 - 1/R) (d + W/2)^2 / (2 W)
     * in it, (1 - 1/R) d above (multiplications only). A run under the knee has none. */
    const double T = c->threshold_db, W = c->knee_db, kr = 1 - 1 / c->ratio;
    const double kq = W > 0 ? kr / (2 * W) : 0;
    double tl[LANES] = {0}, top = 0; /* lanes: no chain of max through the run */
    size_t kt = 0;
    for (; kt + LANES <= m; kt += LANES)
      for (int j = 0; j < LANES; ++j)
        tl[j] = lv[kt + j] > tl[j] ? lv[kt + j] : tl[j];
    for (; kt < m; ++kt)
      tl[0] = lv[kt] > tl[0] ? lv[kt] : tl[0];
    for (int j = 0; j < LANES; ++j)
      top = tl[j] > top ? tl[j] : top;
    if (top > knee) {
      for (size_t k = 0; k < m; ++k) {
        const double x = lv[k], d = kdb * sg_fast_log2(x > 1e-300 ? x : 1e-300) - T;
        const double r =
            2 * d < -W ? 0.0 : (2 * fabs(d) <= W ? kq * (d + W / 2) * (d + W / 2) : kr * d);
        lv[k] = x > knee ? r : 0.0;
      }
    } else {
      /* Under the knee the wanted reduction is 0, so the ballistics can only release: the
       * select's release step with x = 0 is yl ar, so frame k of the run holds yl ar^(k+1)
       * (a table, no chain through the frames; within a few ulps of the frame-by-frame
       * product); released fully, nothing to run at all. */
      double yl = s->yl;
      if (yl > 0) {
        const double *pw = s->rel_pow;
        for (size_t k = 0; k < m; ++k) {
          const double v = yl * pw[k];
          lv[k] = v < 1e-30 ? 0.0 : v;
        }
        yl = lv[m - 1];
      } else {
        for (size_t k = 0; k < m; ++k)
          lv[k] = 0;
      }
      s->yl = yl;
      top = -1; /* the run's reduction is done */
    }
    /* Attack or release pole: both steps, then a select by masks (GCC turns a ternary into a
     * jump the music mispredicts), so the chain through yl is a multiply-add and a blend. The
     * flush of a fully released yl to 0 (no denormals, and the gain exactly 1) is taken off the
     * chain: on the run's output, and on yl once per run (256 release steps from 1e-30 stay far
     * above the denormals); it differs from a flush per frame only when an attack starts from
     * under 1e-30 dB towards a wanted reduction itself near 1e-16 dB. */
    const double aa = s->a_att, ar = s->a_rel, ba = 1 - aa, br = 1 - ar;
#if defined(__GNUC__)
    is_v2 yv = {s->yl, 0};
    if (top >= 0)
      for (size_t k = 0; k < m; ++k) {
        const is_v2 xv = {lv[k], 0}, att = aa * yv + ba * xv, rel = ar * yv + br * xv;
        const is_m2 up = xv > yv;
        yv = (is_v2)(((is_m2)att & up) | ((is_m2)rel & ~up));
        lv[k] = yv[0];
      }
    s->yl = yv[0] < 1e-30 ? 0.0 : yv[0];
#else
    double yl = s->yl;
    for (size_t k = 0; top >= 0 && k < m; ++k) {
      const double xl = lv[k];
      yl = xl > yl ? aa * yl + ba * xl : ar * yl + br * xl;
      lv[k] = yl;
    }
    s->yl = yl < 1e-30 ? 0.0 : yl;
#endif
    if (top >= 0)
      for (size_t k = 0; k < m; ++k)
        lv[k] = lv[k] < 1e-30 ? 0.0 : lv[k];
    const float *il = inL + k0, *ir = inR + k0, *ol = outL + k0, *orr = outR + k0;
    double bi[LANES] = {0}, bp[LANES] = {0}, bo[LANES] = {0};
    size_t k = 0;
    for (; k + LANES <= m; k += LANES)
      for (int j = 0; j < LANES; ++j) {
        const double y = lv[k + j], g2 = y > 0 ? sg_fast_exp2(-kg2 * y) * mk2 : mk2;
        const double ein = (double)il[k + j] * il[k + j] + (double)ir[k + j] * ir[k + j];
        bi[j] += ein, bp[j] += g2 * ein;
        bo[j] += (double)ol[k + j] * ol[k + j] + (double)orr[k + j] * orr[k + j];
      }
    for (; k < m; ++k) {
      const double y = lv[k], g2 = y > 0 ? sg_fast_exp2(-kg2 * y) * mk2 : mk2;
      const double ein = (double)il[k] * il[k] + (double)ir[k] * ir[k];
      bi[0] += ein, bp[0] += g2 * ein;
      bo[0] += (double)ol[k] * ol[k] + (double)orr[k] * orr[k];
    }
    s->b_in += (bi[0] + bi[1]) + (bi[2] + bi[3]);
    s->b_pred += (bp[0] + bp[1]) + (bp[2] + bp[3]);
    s->b_out += (bo[0] + bo[1]) + (bo[2] + bo[3]);
    src_level(s, SRC_OWN, il, ir, m);
    if (sideL)
      src_level(s, SRC_SIDE, a, b, m);
    for (int j = 0; j < n_keys; ++j)
      src_level(s, 2 + j, keys[2 * j] + k0, keys[2 * j + 1] + k0, m);
    k0 += m;
    if ((s->bpos += m) == s->blk)
      end_block(s);
  }
}

static void dynamics_base(sg_insitu *s, const float *inL, const float *inR, const float *outL,
                          const float *outR, const float *sideL, const float *sideR,
                          const float *const *keys, int n_keys, size_t n) {
  dynamics_body(s, inL, inR, outL, outR, sideL, sideR, keys, n_keys, n);
}

#if SG_DSP_AVX2
SG_DSP_TARGET_AVX2 static void dynamics_avx2(sg_insitu *s, const float *inL, const float *inR,
                                             const float *outL, const float *outR,
                                             const float *sideL, const float *sideR,
                                             const float *const *keys, int n_keys, size_t n) {
  dynamics_body(s, inL, inR, outL, outR, sideL, sideR, keys, n_keys, n);
}
#endif

void sg_insitu_add(sg_insitu *s, const float *inL, const float *inR, const float *outL,
                   const float *outR, const float *sideL, const float *sideR, size_t n) {
  sg_insitu_add_keyed(s, inL, inR, outL, outR, sideL, sideR, NULL, 0, n);
}

void sg_insitu_add_keyed(sg_insitu *s, const float *inL, const float *inR, const float *outL,
                         const float *outR, const float *sideL, const float *sideR,
                         const float *const *keys, int n_keys, size_t n) {
  const sg_insitu_config *c = &s->c;
  if (!keys || n_keys > c->n_keys)
    n_keys = keys ? c->n_keys : 0;
  s->e_in += energy2(inL, inR, n);
  switch (c->kind) {
  case SG_INSITU_TRANSFER:
    for (size_t k = 0; k < n;) {
      if (s->skip) {
        const size_t m = s->skip < n - k ? s->skip : n - k;
        s->skip -= m, k += m;
        continue;
      }
      const size_t m = s->seg - s->fill < n - k ? s->seg - s->fill : n - k;
      float *xr = s->xr + s->fill, *yr = s->yr + s->fill;
      for (size_t j = 0; j < m; ++j) {
        xr[j] = 0.5f * (inL[k + j] + inR[k + j]);
        yr[j] = 0.5f * (outL[k + j] + outR[k + j]);
      }
      s->fill += m, k += m;
      if (s->fill == s->seg)
        segment(s);
    }
    break;
  case SG_INSITU_DYNAMICS:
#if SG_DSP_AVX2
    if (s->avx2)
      dynamics_avx2(s, inL, inR, outL, outR, sideL, sideR, keys, n_keys, n);
    else
#endif
      dynamics_base(s, inL, inR, outL, outR, sideL, sideR, keys, n_keys, n);
    break;
  case SG_INSITU_WET: {
    double xx[LANES] = {0}, xy[LANES] = {0}, yy[LANES] = {0}, lr[LANES] = {0};
    size_t k = 0;
    for (; k + LANES <= n; k += LANES)
      for (int j = 0; j < LANES; ++j) {
        const double xl = inL[k + j], xr = inR[k + j], yl = outL[k + j], yr = outR[k + j];
        xx[j] += xl * xl + xr * xr, xy[j] += xl * yl + xr * yr;
        yy[j] += yl * yl + yr * yr, lr[j] += xl * xr;
      }
    for (; k < n; ++k) {
      const double xl = inL[k], xr = inR[k], yl = outL[k], yr = outR[k];
      xx[0] += xl * xl + xr * xr, xy[0] += xl * yl + xr * yr;
      yy[0] += yl * yl + yr * yr, lr[0] += xl * xr;
    }
    s->w_xx += (xx[0] + xx[1]) + (xx[2] + xx[3]);
    s->w_xy += (xy[0] + xy[1]) + (xy[2] + xy[3]);
    s->w_yy += (yy[0] + yy[1]) + (yy[2] + yy[3]);
    s->w_lr += (lr[0] + lr[1]) + (lr[2] + lr[3]);
    break;
  }
  case SG_INSITU_LEVEL:
    for (size_t k = 0; k < n; ++k) {
      double il = inL[k], ir = inR[k], ol = outL[k], orr = outR[k];
      s->e_inc[0] += il * il, s->e_inc[1] += ir * ir;
      s->e_out[0] += ol * ol, s->e_out[1] += orr * orr;
      s->e_mid[0] += 0.25 * (il + ir) * (il + ir), s->e_mid[1] += 0.25 * (ol + orr) * (ol + orr);
      s->e_side[0] += 0.25 * (il - ir) * (il - ir), s->e_side[1] += 0.25 * (ol - orr) * (ol - orr);
    }
    break;
  case SG_INSITU_SHAPER: {
    const double g = pow(10, c->drive_db / 20), b = 0.5 * c->asym, o = pow(10, c->output_db / 20);
    const double m = c->mix, tb = tanh(b);
    for (size_t k = 0; k < n; ++k)
      for (int ch = 0; ch < 2; ++ch) {
        double x = ch ? inR[k] : inL[k], y = ch ? outR[k] : outL[k];
        double w = tanh(g * x + b) - tb;
        if (c->dc_hz > 0)
          w = sg_dc_blocker_tick(&s->dcb[ch], w);
        double p = (1 - m) * x + m * o * w;
        s->p_sum += p, s->p_sq += p * p, s->y_sum += y, s->y_sq += y * y, s->cnt += 1;
      }
    break;
  }
  case SG_INSITU_PEAK:
    sg_truepeak_process(&s->tp[0], outL, 1, n);
    sg_truepeak_process(&s->tp[1], outR, 1, n);
    break;
  }
}

static double pearson(double n, double a, double b, double aa, double bb, double ab) {
  double va = n * aa - a * a, vb = n * bb - b * b;
  return va > 0 && vb > 0 ? (n * ab - a * b) / sqrt(va * vb) : 0;
}

/* The dry share u from c = <y,x>/<x,x>, e = <y,y>/<x,x> and the wet gain g: with y = u x + m w,
 * m = 1 - u, <w,x> unknown (eliminated through c) and <w,w> = g <x,x>:
 * (g - 1) u^2 + 2 (c - g) u + (g - e) = 0. Of the roots in [0, 1] (a little slack for noise),
 * the one nearest c (the wet path's projection on the dry is small beside it). */
static void wet_solve(const sg_insitu *s, sg_insitu_result *r) {
  r->wet_mix = NAN;
  r->wet_dry_db = NAN;
  if (!(s->w_xx > 0))
    return;
  const double c = s->w_xy / s->w_xx, e = s->w_yy / s->w_xx;
  /* correlation of the channels (energy-weighted): 2 <l,r> / (<l,l> + <r,r>) */
  const double rho = fmin(fmax(2 * s->w_lr / s->w_xx, -1), 1);
  const double gi = pow(10, s->c.wet_gain_db / 10), gm = pow(10, s->c.wet_gain_mono_db / 10);
  const double g = fmax(gi + rho * (gm - gi), 1e-6);
  r->wet_gain_db = 10 * log10(g);
  r->dry_coef = c;
  if (s->c.uncorrelated) {
    const double u = fmin(fmax(c, 1e-6), 1 - 1e-6);
    r->wet_mix = 1 - u;
    r->wet_dry_db = 20 * log10((1 - u) / u);
    return;
  }
  double roots[2];
  int nr = 0;
  const double A = g - 1, B = 2 * (c - g), C = g - e;
  if (fabs(A) < 1e-9) {
    if (fabs(B) > 1e-12)
      roots[nr++] = -C / B;
  } else {
    double disc = B * B - 4 * A * C;
    if (disc >= 0) {
      double q = sqrt(disc);
      roots[nr++] = (-B - q) / (2 * A);
      roots[nr++] = (-B + q) / (2 * A);
    }
  }
  double best = NAN;
  for (int i = 0; i < nr; ++i)
    if (roots[i] >= -0.05 && roots[i] <= 1.05 &&
        (isnan(best) || fabs(roots[i] - c) < fabs(best - c)))
      best = roots[i];
  if (isnan(best))
    return;
  const double u = fmin(fmax(best, 1e-6), 1 - 1e-6);
  r->wet_mix = 1 - u;
  r->wet_dry_db = 20 * log10((1 - u) / u);
}

sg_status sg_insitu_result_get(const sg_insitu *s, sg_insitu_result *r) {
  if (!s || !r)
    return SG_E_INVAL;
  memset(r, 0, sizeof *r);
  r->in_energy = s->e_in;
  const sg_insitu_config *c = &s->c;
  switch (c->kind) {
  case SG_INSITU_TRANSFER:
    for (int i = 0; i < c->n_freqs; ++i) {
      double h2 = (s->sxy_re[i] * s->sxy_re[i] + s->sxy_im[i] * s->sxy_im[i]);
      r->mag_db[i] = s->sxx[i] > 0 ? db10(h2 / (s->sxx[i] * s->sxx[i])) : -300;
      r->coherence[i] = s->sxx[i] > 0 && s->syy[i] > 0 ? h2 / (s->sxx[i] * s->syy[i]) : 0;
      /* Mean |X|^2 per segment against a full-scale sine's (amplitude 1: (sum w / 2)^2). */
      double sw = 0.5 * (double)s->seg; /* sum of the Hann window */
      r->in_db[i] = s->nseg ? db10(s->sxx[i] / (double)s->nseg / (0.25 * sw * sw)) : -300;
    }
    break;
  case SG_INSITU_DYNAMICS:
    r->blocks = s->nblk;
    r->gr_err_rms_db = s->nblk ? sqrt(s->err2 / (double)s->nblk) : 0;
    r->gr_mean_db = s->nblk ? s->grsum / (double)s->nblk : 0;
    r->gr_max_db = s->grmax;
    r->corr_own =
        pearson(s->cs_n, s->cs_a, s->cs_b[SRC_OWN], s->cs_aa, s->cs_bb[SRC_OWN], s->cs_ab[SRC_OWN]);
    r->corr_side = s->have_side ? pearson(s->cs_n, s->cs_a, s->cs_b[SRC_SIDE], s->cs_aa,
                                          s->cs_bb[SRC_SIDE], s->cs_ab[SRC_SIDE])
                                : NAN;
    r->n_keys = c->n_keys;
    r->key_best = -1;
    for (int j = 0; j < c->n_keys; ++j) {
      const int q = 2 + j;
      r->corr_key[j] = pearson(s->cs_n, s->cs_a, s->cs_b[q], s->cs_aa, s->cs_bb[q], s->cs_ab[q]);
      if (r->key_best < 0 || r->corr_key[j] > r->corr_key[r->key_best])
        r->key_best = j;
    }
    break;
  case SG_INSITU_WET:
    wet_solve(s, r);
    break;
  case SG_INSITU_LEVEL:
    r->left_db = db10(s->e_out[0]) - db10(s->e_inc[0]);
    r->right_db = db10(s->e_out[1]) - db10(s->e_inc[1]);
    r->mid_db = db10(s->e_mid[1]) - db10(s->e_mid[0]);
    r->side_db = db10(s->e_side[1]) - db10(s->e_side[0]);
    break;
  case SG_INSITU_SHAPER: {
    double n = s->cnt > 0 ? s->cnt : 1;
    double vp = s->p_sq / n - (s->p_sum / n) * (s->p_sum / n);
    double vy = s->y_sq / n - (s->y_sum / n) * (s->y_sum / n);
    r->shaper_db = db10(vy) - db10(vp);
    break;
  }
  case SG_INSITU_PEAK: {
    double p = fmax(sg_truepeak_value(&s->tp[0]), sg_truepeak_value(&s->tp[1]));
    r->true_peak_dbtp = 20 * log10(p > 1e-15 ? p : 1e-15);
    break;
  }
  }
  return SG_OK;
}
