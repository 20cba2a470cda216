/* Feed-forward compressor after Giannoulis, Massberg & Reiss (JAES 2012): log-domain soft-knee
 * gain computer, smooth branching peak detector on the gain reduction, optional RMS level
 * detection, stereo link and external sidechain. See include/stemgate/fx.h. */
#include "stemgate/fx.h"

#include "fx/fx_internal.h"

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

/* Gain computer (Giannoulis et al. eq. 4): output level for input level x (both dB). */
static double gain_computer(const sg_compressor_config *c, double x) {
  double T = c->threshold_db, W = c->knee_db, R = c->ratio, d = x - T;
  if (2 * d < -W)
    return x;
  if (W > 0 && 2 * fabs(d) <= W) {
    double e = d + W / 2;
    return x + (1 / R - 1) * e * e / (2 * W);
  }
  return T + d / R;
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

void sg_compressor_process(sg_compressor *st, float *L, float *R, const float *sideL,
                           const float *sideR, size_t n) {
  const sg_compressor_config c = st->cfg;
  const double aA = st->a_att, aR = st->a_rel, aM = st->a_rms, aS = st->a_smooth;
  const double mt = st->makeup_target;
  const float *dl = sideL ? sideL : L;
  const float *dr = sideL ? sideR : R;
  double yl = st->y_l, ms = st->ms, mk = st->makeup_cur, gmax = st->gr_max_db, gsum = 0;
  /* Below the knee the gain computer returns its input, so the wanted reduction is exactly 0:
   * a detector level under this bound (the knee's foot, less a 1e-6 margin that dwarfs
   * log10's rounding) skips the logarithm; a zero reduction skips pow (10^-0 = 1). */
  const int rms = c.detector == SG_DETECT_RMS;
  const double quiet = pow(10.0, (c.threshold_db - c.knee_db / 2) / (rms ? 10 : 20)) * (1 - 1e-6);
  for (size_t i = 0; i < n; ++i) {
    double a = dl[i], b = dr ? dr[i] : a, xl = 0;
    if (rms) {
      ms = aM * ms + (1 - aM) * 0.5 * (a * a + b * b);
      if (!(ms < quiet)) {
        double xg = 10 * log10(ms > 1e-20 ? ms : 1e-20);
        xl = xg - gain_computer(&c, xg); /* wanted gain reduction, dB >= 0 */
      }
    } else {
      double p = fmax(fabs(a), fabs(b));
      if (!(p < quiet)) {
        double xg = 20 * log10(p > 1e-10 ? p : 1e-10);
        xl = xg - gain_computer(&c, xg);
      }
    }
    /* Smooth branching peak detector (paper eq. 17). */
    yl = xl > yl ? aA * yl + (1 - aA) * xl : aR * yl + (1 - aR) * xl;
    if (yl < 1e-12)
      yl = 0;
    mk = sg_smooth_step(mk, mt, aS);
    double g = yl == 0 ? mk : pow(10.0, -yl / 20.0) * mk;
    L[i] = (float)(L[i] * g);
    if (R)
      R[i] = (float)(R[i] * g);
    if (yl > gmax)
      gmax = yl;
    gsum += yl;
  }
  st->y_l = yl, st->ms = sg_dsp_flush(ms), st->makeup_cur = mk;
  st->gr_max_db = gmax;
  st->gr_sum_db += gsum;
  st->gr_count += n;
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
