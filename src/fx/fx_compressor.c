/* Feed-forward compressor after Giannoulis, Massberg & Reiss (JAES 2012): log-domain soft-knee
 * gain computer, smooth branching peak detector on the gain reduction, optional RMS level
 * detection, stereo link and external sidechain. See include/stemgate/fx.h. */
#include "stemgate/fx.h"

#include "fx/fx_internal.h"

#include <stdint.h>
#include <string.h>

void sg_compressor_config_init(sg_compressor_config *c) {
  c->threshold_db = -18;
  c->ratio = 4;
  c->knee_db = 6;
  c->attack_ms = 10;
  c->release_ms = 100;
  c->makeup_db = 0;
  c->detector = SG_DETECT_PEAK;
  c->rms_ms = 10;
}

static void clamp_cfg(sg_compressor_config *c) {
  c->threshold_db = sg__clamp(c->threshold_db, -80, 0);
  c->ratio = sg__clamp(c->ratio, 1, 100);
  c->knee_db = sg__clamp(c->knee_db, 0, 24);
  c->attack_ms = sg__clamp(c->attack_ms, 0.01, 500);
  c->release_ms = sg__clamp(c->release_ms, 1, 5000);
  c->makeup_db = sg__clamp(c->makeup_db, -24, 48);
  c->rms_ms = sg__clamp(c->rms_ms, 0.1, 300);
  if (c->detector != SG_DETECT_RMS)
    c->detector = SG_DETECT_PEAK;
}

/* Gain computer (Giannoulis et al. eq. 4): output level for input level x (both dB). The
 * per-sample loop in process computes the reduction x - gain_computer(x) in closed form. */
static inline double gain_computer(const sg_compressor_config *c, double x) {
  const double T = c->threshold_db, W = c->knee_db, R = c->ratio, d = x - T, e = d + W / 2;
  const double knee = x + (1 / R - 1) * e * e / (W > 0 ? 2 * W : 1);
  const double above = T + d / R;
  return 2 * d < -W ? x : (W > 0 && 2 * fabs(d) <= W ? knee : above);
}

double sg_compressor_static_db(const sg_compressor_config *cin, double in_db) {
  sg_compressor_config c = *cin;
  clamp_cfg(&c);
  return gain_computer(&c, in_db) + c.makeup_db;
}

static void apply_cfg(sg_compressor *st) {
  /* Time constants as in the paper: alpha = exp(-1 / (tau fs)). */
  st->a_att = sg_onepole_coef_tau(st->cfg.attack_ms * 1e-3, st->rate);
  st->a_rel = sg_onepole_coef_tau(st->cfg.release_ms * 1e-3, st->rate);
  st->a_rms = sg_onepole_coef_tau(st->cfg.rms_ms * 1e-3, st->rate);
  st->makeup_target = sg_db_to_lin(st->cfg.makeup_db);
}

sg_status sg_compressor_init(sg_compressor *st, const sg_compressor_config *c, double rate) {
  if (!st || !c || !(rate >= 8000.0 && rate <= 384000.0))
    return SG_E_INVAL;
  memset(st, 0, sizeof *st);
  st->cfg = *c;
  clamp_cfg(&st->cfg);
  st->rate = rate;
  st->a_smooth = sg_onepole_coef_tau(SG__SMOOTH_SEC, rate);
  apply_cfg(st);
  st->makeup_cur = st->makeup_target;
  st->avx2 = sg_dsp_avx2();
  return SG_OK;
}

void sg_compressor_reset(sg_compressor *st) {
  st->y_l = 0;
  st->ms = 0;
  st->makeup_cur = st->makeup_target;
  sg_compressor_stats_reset(st);
}

void sg_compressor_set(sg_compressor *st, const sg_compressor_config *c) {
  st->cfg = *c;
  clamp_cfg(&st->cfg);
  apply_cfg(st);
}

#if defined(__GNUC__)
typedef double cp_v2 __attribute__((vector_size(16)));
typedef int64_t cp_m2 __attribute__((vector_size(16)));
#endif

#define CP_CHUNK 256 /* frames per pass: level and wanted reduction, detector, gain */

/* The body, inlined into a baseline and an AVX2 build (same bits; chosen at init). */
static inline __attribute__((always_inline)) void process_body(sg_compressor *st, float *L,
                                                               float *R, const float *sideL,
                                                               const float *sideR, size_t n) {
  const sg_compressor_config c = st->cfg;
  const double aA = st->a_att, aR = st->a_rel, aM = st->a_rms, aS = st->a_smooth;
  const double bA = 1 - aA, bR = 1 - aR;
  const double mt = st->makeup_target;
  const float *dl = sideL ? sideL : L;
  const float *dr = sideL ? sideR : R;
  double yl = st->y_l, ms = st->ms, mk = st->makeup_cur, gmax = st->gr_max_db, gsum = 0;
  /* Below the knee the gain computer returns its input, so the wanted reduction is exactly 0:
   * a detector level under this bound (the knee's foot, less a 1e-6 margin that dwarfs the
   * logarithm's error) needs none; a zero reduction needs no gain (10^-0 = 1). */
  const int rms = c.detector == SG_DETECT_RMS;
  const double quiet = pow(10.0, (c.threshold_db - c.knee_db / 2) / (rms ? 10 : 20)) * (1 - 1e-6);
  /* Level in dB: 10 or 20 log10 x = k log2 x; gain 10^(-yl / 20) = 2^(-yl log2(10) / 20). */
  const double kdb = (rms ? 10 : 20) * 0.30102999566398120, kg = 0.16609640474436813;
  const double fl = rms ? 1e-20 : 1e-10;
  const double T = c.threshold_db, W = c.knee_db, kr = 1 - 1 / c.ratio,
               kq = W > 0 ? kr / (2 * W) : 0;
  double lv[CP_CHUNK], yv[CP_CHUNK], mv[CP_CHUNK];
  for (size_t i0 = 0; i0 < n; i0 += CP_CHUNK) {
    const size_t m = n - i0 < CP_CHUNK ? n - i0 : CP_CHUNK;
    const float *a = dl + i0, *b = dr ? dr + i0 : a;
    if (rms) {
      for (size_t i = 0; i < m; ++i)
        lv[i] = ms = aM * ms + (1 - aM) * 0.5 * ((double)a[i] * a[i] + (double)b[i] * b[i]);
    } else {
      for (size_t i = 0; i < m; ++i) {
        const double pa = fabs((double)a[i]), pb = fabs((double)b[i]);
        lv[i] = pa > pb ? pa : pb;
      }
    }
    /* Wanted gain reduction xg - gain_computer(xg), dB >= 0, with d = xg - T: 0 below the knee,
     * (1 - 1/R) (d + W/2)^2 / (2 W) in it, (1 - 1/R) d above. A run under the knee's foot has
     * none. */
    double top = 0;
    for (size_t i = 0; i < m; ++i)
      top = lv[i] > top ? lv[i] : top;
    if (!(top < quiet)) {
      for (size_t i = 0; i < m; ++i) {
        const double x = lv[i], d = kdb * sg_fast_log2(x > fl ? x : fl) - T;
        const double r =
            2 * d < -W ? 0.0 : (2 * fabs(d) <= W ? kq * (d + W / 2) * (d + W / 2) : kr * d);
        lv[i] = x < quiet ? 0.0 : r;
      }
    } else {
      for (size_t i = 0; i < m; ++i)
        lv[i] = 0;
    }
    /* Smooth branching peak detector (paper eq. 17) and the make-up gain's smoother. */
    if (mk == mt) {
      for (size_t i = 0; i < m; ++i)
        mv[i] = mt;
    } else {
      for (size_t i = 0; i < m; ++i)
        mv[i] = mk = sg_smooth_step(mk, mt, aS);
    }
    if (top < quiet) {
      /* No reduction wanted: the detector only releases (0 > yl never holds), aR yl + bR 0 is
       * aR yl, and once under the floor it stays 0 (adding those zeros to gsum changes no
       * bit). A multiply per sample instead of the general recursion's select chain. */
      size_t i = 0;
      for (; i < m && yl != 0; ++i) {
        yl = aR * yl;
        yl = yl < 1e-12 ? 0.0 : yl;
        yv[i] = yl;
        gmax = yl > gmax ? yl : gmax;
        gsum += yl;
      }
      for (; i < m; ++i)
        yv[i] = 0;
    } else {
      /* Both poles, then selects by masks (GCC turns the ternaries into a jump the music
       * mispredicts and a round trip through an integer register), so the chain through yl is
       * a multiply, an add and two blends. */
#if defined(__GNUC__)
      cp_v2 y = {yl, 0};
      const cp_v2 floor = {1e-12, 1e-12};
      for (size_t i = 0; i < m; ++i) {
        const cp_v2 x = {lv[i], 0}, att = aA * y + bA * x, rel = aR * y + bR * x;
        const cp_m2 up = x > y;
        y = (cp_v2)(((cp_m2)att & up) | ((cp_m2)rel & ~up));
        y = (cp_v2)((cp_m2)y & ~(y < floor));
        yl = yv[i] = y[0];
        gmax = yl > gmax ? yl : gmax;
        gsum += yl;
      }
#else
      for (size_t i = 0; i < m; ++i) {
        const double xl = lv[i];
        yl = xl > yl ? aA * yl + bA * xl : aR * yl + bR * xl;
        yl = yl < 1e-12 ? 0.0 : yl;
        yv[i] = yl;
        gmax = yl > gmax ? yl : gmax;
        gsum += yl;
      }
#endif
    }
    float *l = L + i0, *r = R ? R + i0 : NULL;
    for (size_t i = 0; i < m; ++i)
      mv[i] = yv[i] == 0 ? mv[i] : sg_fast_exp2(-kg * yv[i]) * mv[i];
    for (size_t i = 0; i < m; ++i)
      l[i] = (float)(l[i] * mv[i]);
    if (r)
      for (size_t i = 0; i < m; ++i)
        r[i] = (float)(r[i] * mv[i]);
  }
  st->y_l = yl, st->ms = sg_dsp_flush(ms), st->makeup_cur = mk;
  st->gr_max_db = gmax;
  st->gr_sum_db += gsum;
  st->gr_count += n;
}

static void process_base(sg_compressor *st, float *L, float *R, const float *sideL,
                         const float *sideR, size_t n) {
  process_body(st, L, R, sideL, sideR, n);
}

#if SG_DSP_AVX2
SG_DSP_TARGET_AVX2 static void process_avx2(sg_compressor *st, float *L, float *R,
                                            const float *sideL, const float *sideR, size_t n) {
  process_body(st, L, R, sideL, sideR, n);
}
#endif

void sg_compressor_process(sg_compressor *st, float *L, float *R, const float *sideL,
                           const float *sideR, size_t n) {
#if SG_DSP_AVX2
  if (st->avx2) {
    process_avx2(st, L, R, sideL, sideR, n);
    return;
  }
#endif
  process_base(st, L, R, sideL, sideR, n);
}

void sg_compressor_stats(const sg_compressor *st, double *max_db, double *mean_db) {
  if (max_db)
    *max_db = st->gr_max_db;
  if (mean_db)
    *mean_db = st->gr_count ? st->gr_sum_db / (double)st->gr_count : 0.0;
}

void sg_compressor_stats_reset(sg_compressor *st) {
  st->gr_max_db = 0;
  st->gr_sum_db = 0;
  st->gr_count = 0;
}

double sg_compressor_gain_reduction_db(const sg_compressor *st) { return st->y_l; }
