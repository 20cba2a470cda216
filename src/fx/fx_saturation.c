/* Saturation: tanh waveshaper at 4x oversampling (polyphase Kaiser-sinc interpolator and
 * decimator), DC blocker; mid/side width; constant-power pan law. See include/stemgate/fx.h. */
#include "stemgate/fx.h"

#include "fx/fx_internal.h"

#include <string.h>

void sg_saturation_config_init(sg_saturation_config *c) {
  c->drive_db = 12;
  c->asym = 0;
  c->output_db = 0;
  c->mix = 1;
  c->oversample = 4;
}

static void clamp_cfg(sg_saturation_config *c) {
  c->drive_db = sg__clamp(c->drive_db, 0, 48);
  c->asym = sg__clamp(c->asym, 0, 1);
  c->output_db = sg__clamp(c->output_db, -48, 12);
  c->mix = sg__clamp(c->mix, 0, 1);
  c->oversample = c->oversample == 1 ? 1 : 4;
}

sg_status sg_saturation_init(sg_saturation *st, const sg_saturation_config *c, double rate) {
  if (!st || !c || !(rate >= 8000.0 && rate <= 384000.0))
    return SG_E_INVAL;
  memset(st, 0, sizeof *st);
  st->cfg = *c;
  clamp_cfg(&st->cfg);
  st->rate = rate;
  /* Cutoff 0.875 of the base Nyquist, as a fraction of the oversampled rate. */
  sg_dsp_kaiser_sinc(st->h, SG_OS_TAPS, 0.875 * 0.5 / SG_OS_FACTOR, 7.0, 1.0);
  /* hp[p][i] = SG_OS_FACTOR * h[4 (UPLEN-1-i) + p]: phase p reversed, so that it lines up with
   * the history x[n-UPLEN+1 .. n] stored contiguously; the gain restores the level lost to
   * zero-stuffing. */
  for (int p = 0; p < SG_OS_FACTOR; ++p)
    for (int i = 0; i < SG_OS_UPLEN; ++i) {
      int j = SG_OS_FACTOR * (SG_OS_UPLEN - 1 - i) + p;
      st->hp[p][i] = j < SG_OS_TAPS ? SG_OS_FACTOR * st->h[j] : 0.0f;
    }
  for (int ch = 0; ch < 2; ++ch)
    sg_dc_blocker_init(&st->dc[ch], sg_dc_blocker_pole(SG_SATURATION_DC_HZ, rate));
  st->a_smooth = sg_onepole_coef_tau(SG__SMOOTH_SEC, rate);
  sg_saturation_set(st, &st->cfg);
  st->drive_cur = st->drive_target;
  st->out_cur = st->out_target;
  st->mix_cur = st->mix_target;
  return SG_OK;
}

void sg_saturation_set(sg_saturation *st, const sg_saturation_config *c) {
  sg_saturation_config k = *c;
  clamp_cfg(&k);
  k.oversample = st->cfg.oversample; /* structural: fixed at init */
  st->cfg = k;
  st->drive_target = sg_db_to_lin(k.drive_db);
  st->bias = 0.5 * k.asym;
  st->out_target = sg_db_to_lin(k.output_db);
  st->mix_target = k.mix;
}

void sg_saturation_reset(sg_saturation *st) {
  memset(st->up_hist, 0, sizeof st->up_hist);
  memset(st->dn_hist, 0, sizeof st->dn_hist);
  memset(st->dry, 0, sizeof st->dry);
  st->up_pos = st->dn_pos = st->dry_pos = 0;
  sg_dc_blocker_reset(&st->dc[0]);
  sg_dc_blocker_reset(&st->dc[1]);
  st->drive_cur = st->drive_target;
  st->out_cur = st->out_target;
  st->mix_cur = st->mix_target;
}

size_t sg_saturation_latency(const sg_saturation *st) {
  return st->cfg.oversample == 1 ? 0 : SG_OS_LATENCY;
}

static inline double shape(double x, double g, double b) { return tanh(g * x + b) - tanh(b); }

/* One base-rate sample through interpolate -> shape -> decimate. */
static double os_sample(sg_saturation *st, int ch, double x, double g, double b) {
  float *uh = st->up_hist[ch];
  /* Newest sample at index up_pos and up_pos + UPLEN (doubled ring: contiguous reads). */
  size_t up = st->up_pos;
  uh[up] = uh[up + SG_OS_UPLEN] = (float)x;
  float *dh = st->dn_hist[ch];
  size_t dp = st->dn_pos;
  double y = 0;
  for (int p = 0; p < SG_OS_FACTOR; ++p) {
    /* v[4n+p] = 4 sum_k h[4k+p] x[n-k], as one contiguous dot product. */
    double acc = sg_dsp_dot(st->hp[p], uh + up + 1, SG_OS_UPLEN);
    double w = shape(acc, g, b);
    dp = dp == 0 ? SG_OS_TAPS - 1 : dp - 1;
    dh[dp] = dh[dp + SG_OS_TAPS] = (float)w;
    if (p == 0) {
      /* Decimate at phase 0: y[n] = sum_j h[j] w[4n-j], so the total delay is exactly
       * (96 + 96) / 4 = 48 base-rate frames (no fractional offset). */
      y = sg_dsp_dot(st->h, dh + dp, SG_OS_TAPS);
    }
  }
  st->dn_pos = dp;
  (void)ch;
  return y;
}

void sg_saturation_process(sg_saturation *st, float *L, float *R, size_t n) {
  const double aS = st->a_smooth, b = st->bias;
  const int os = st->cfg.oversample;
  float *io[2] = {L, R};
  for (size_t t = 0; t < n; ++t) {
    st->drive_cur = sg_smooth_step(st->drive_cur, st->drive_target, aS);
    st->out_cur = sg_smooth_step(st->out_cur, st->out_target, aS);
    st->mix_cur = sg_smooth_step(st->mix_cur, st->mix_target, aS);
    size_t dn_save = st->dn_pos;
    size_t dn_next = dn_save;
    for (int ch = 0; ch < 2; ++ch) {
      if (!io[ch])
        continue;
      double x = io[ch][t], wet, dry;
      if (os == 1) {
        wet = shape(x, st->drive_cur, b);
        dry = x;
      } else {
        st->dn_pos = dn_save;
        wet = os_sample(st, ch, x, st->drive_cur, b);
        dn_next = st->dn_pos;
        dry = st->dry[ch][st->dry_pos];
        st->dry[ch][st->dry_pos] = (float)x;
      }
      /* DC blocker: y = x - x1 + r y1 (removes the offset the asymmetric curve creates). */
      double dc = sg_dc_blocker_tick(&st->dc[ch], wet);
      io[ch][t] = (float)((1 - st->mix_cur) * dry + st->mix_cur * st->out_cur * dc);
    }
    if (os != 1) {
      st->dn_pos = dn_next;
      st->up_pos = st->up_pos + 1 == SG_OS_UPLEN ? 0 : st->up_pos + 1;
      st->dry_pos = st->dry_pos + 1 == SG_OS_LATENCY ? 0 : st->dry_pos + 1;
    }
  }
}

/* ---- width and pan ------------------------------------------------------------------------ */

sg_status sg_width_init(sg_width *st, double width, double rate) {
  if (!st || !(rate >= 8000.0 && rate <= 384000.0))
    return SG_E_INVAL;
  st->a_smooth = sg_onepole_coef_tau(SG__SMOOTH_SEC, rate);
  st->cur = st->target = sg__clamp(width, 0, 2);
  return SG_OK;
}

void sg_width_set(sg_width *st, double width) { st->target = sg__clamp(width, 0, 2); }

void sg_width_process(sg_width *st, float *L, float *R, size_t n) {
  double w = st->cur;
  const double wt = st->target, a = st->a_smooth;
  for (size_t i = 0; i < n; ++i) {
    w = sg_smooth_step(w, wt, a);
    double m = 0.5 * (L[i] + R[i]), s = 0.5 * (L[i] - R[i]) * w;
    L[i] = (float)(m + s);
    R[i] = (float)(m - s);
  }
  st->cur = w;
}

void sg_pan_gains(double pan, double *gl, double *gr) {
  double th = (sg__clamp(pan, -1, 1) + 1) * SG_PI / 4;
  *gl = cos(th);
  *gr = sin(th);
}
