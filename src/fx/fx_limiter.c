/* True-peak look-ahead limiter. See include/stemgate/fx.h.
 *
 * Signal flow per frame:
 *   1. Detector: each channel is interpolated 8x by a 512-tap polyphase Kaiser-sinc filter
 *      (sg_truepeak in streaming mode: the ITU-R BS.1770-4 Annex 2 true-peak method at twice
 *      its oversampling and with 64 taps per phase). The largest |value| of the 8 interpolated
 *      points and the two base samples around them, over both channels, is the frame's peak
 *      (32 frames back: the interpolator's delay). The detector runs per block
 *      (sg_truepeak_push_block) and interpolates only frames it cannot prove below the
 *      threshold; a frame below it sets no gain, so the output is bit for bit that of the full
 *      computation (fx.test_limiter checks it).
 *   2. Gain: sg_limiter_core (sliding maximum over L + 2H frames, requirement ceiling / peak,
 *      exponential release, linear attack over the look-ahead L) gives the gain for the frame
 *      L - 1 + H detector frames earlier, held flat over +-H frames around every peak so the
 *      reconstruction filter of a meter (or a DAC) sees a constant gain across its main lobe,
 *      which is what keeps the true peak (not only the sample peak) under the ceiling.
 *   3. Output: the input delayed by detector latency + L - 1 + H frames, times the gain. */
#include "stemgate/fx.h"

#include "fx/fx_internal.h"

#include <stdlib.h>
#include <string.h>

#define HOLD_FRAMES 12

void sg_limiter_config_init(sg_limiter_config *c) {
  c->ceiling_dbtp = -1;
  c->lookahead_ms = 2;
  c->release_ms = 80;
  c->margin_db = 0.1;
  c->gain_db = 0;
}

void sg_limiter_free(sg_limiter *st) {
  if (!st)
    return;
  free(st->dl[0]);
  st->dl[0] = st->dl[1] = NULL;
  sg_limiter_core_free(&st->core);
}

sg_status sg_limiter_init(sg_limiter *st, const sg_limiter_config *cin, double rate) {
  if (!st || !cin || !(rate >= 8000.0 && rate <= 384000.0))
    return SG_E_INVAL;
  memset(st, 0, sizeof *st);
  sg_limiter_config *c = &st->cfg;
  *c = *cin;
  c->ceiling_dbtp = sg__clamp(c->ceiling_dbtp, -30, 0);
  c->lookahead_ms = sg__clamp(c->lookahead_ms, 0.5, 10);
  c->release_ms = sg__clamp(c->release_ms, 1, 2000);
  c->margin_db = sg__clamp(c->margin_db, 0, 1);
  c->gain_db = sg__clamp(c->gain_db, -24, 36);
  st->rate = rate;
  sg_truepeak_config tc;
  sg_truepeak_config_init(&tc);
  tc.design = SG_TPD_KAISER;
  tc.oversample = SG_TP_OS;
  tc.taps = SG_TP_TAPS;
  tc.beta = 8.0;
  double thresh = pow(10.0, (c->ceiling_dbtp - c->margin_db) / 20.0);
  for (int ch = 0; ch < 2; ++ch) {
    if (sg_truepeak_init(&st->det[ch], &tc, rate) != SG_OK)
      return SG_E_INVAL;
    /* While no history sample could make an interpolated point reach the threshold the
     * interpolation is skipped (quiet passages cost nothing). */
    sg_truepeak_set_quiet(&st->det[ch], thresh);
  }
  size_t la = (size_t)floor(c->lookahead_ms * 1e-3 * rate + 0.5);
  if (la < 1)
    la = 1;
  sg_status s = sg_limiter_core_init(&st->core, la, HOLD_FRAMES,
                                     sg_onepole_coef_tau(c->release_ms * 1e-3, rate), thresh);
  if (s != SG_OK)
    return s;
  st->delay = sg_truepeak_latency(&st->det[0]) + sg_limiter_core_delay(&st->core);
  st->dl[0] = calloc(2 * st->delay, sizeof(float));
  if (!st->dl[0]) {
    sg_limiter_free(st);
    return SG_E_NOMEM;
  }
  st->dl[1] = st->dl[0] + st->delay;
  st->in_gain = sg_db_to_lin(c->gain_db);
  sg_limiter_reset(st);
  return SG_OK;
}

void sg_limiter_reset(sg_limiter *st) {
  for (int ch = 0; ch < 2; ++ch)
    sg_truepeak_reset(&st->det[ch]);
  if (st->dl[0])
    memset(st->dl[0], 0, 2 * st->delay * sizeof(float));
  st->dpos = 0;
  if (st->core.mem)
    sg_limiter_core_reset(&st->core);
  st->gr_db_now = st->gr_db_max = st->gr_db_sum = 0;
  st->gr_g = 1.0;
  st->gr_count = 0;
}

size_t sg_limiter_latency(const sg_limiter *st) { return st->delay; }
double sg_limiter_gain_reduction_db(const sg_limiter *st) { return st->gr_db_now; }
double sg_limiter_max_gain_reduction_db(const sg_limiter *st) { return st->gr_db_max; }
double sg_limiter_mean_gain_reduction_db(const sg_limiter *st) {
  return st->gr_count ? st->gr_db_sum / (double)st->gr_count : 0.0;
}
void sg_limiter_stats_reset(sg_limiter *st) {
  st->gr_db_max = st->gr_db_now;
  st->gr_db_sum = 0;
  st->gr_count = 0;
}

/* x = (float)(in * g): the detector's input. Distinct arrays (vectorised). */
static void scale(float *restrict x, const float *restrict in, double g, size_t n) {
  for (size_t i = 0; i < n; ++i)
    x[i] = (float)(in[i] * g);
}

/* n frames through the delay line: out gets the delayed frames times their gains, the line the
 * new ones. Distinct arrays (vectorised). */
static void delay_out(float *restrict out, float *restrict line, const float *restrict in,
                      const double *restrict g, size_t n) {
  for (size_t j = 0; j < n; ++j) {
    const double y = line[j];
    line[j] = in[j];
    out[j] = (float)(y * g[j]);
  }
}

void sg_limiter_process(sg_limiter *st, float *L, float *R, size_t n) {
  const double ig = st->in_gain;
  const size_t D = st->delay;
  float *io[2] = {L, R};
  float xf[2][SG_TPD_BLOCK], pk[2][SG_TPD_BLOCK];
  while (n) {
    const size_t k = n < SG_TPD_BLOCK ? n : SG_TPD_BLOCK;
    /* The detector over the block: per frame and channel the value sg_truepeak_push gives
     * (below the threshold possibly only the base samples, which changes no gain). */
    for (int ch = 0; ch < 2; ++ch) {
      if (io[ch])
        scale(xf[ch], io[ch], ig, k);
      else
        memset(xf[ch], 0, k * sizeof xf[ch][0]);
      sg_truepeak_push_block(&st->det[ch], xf[ch], k, pk[ch]);
    }
    double g[SG_TPD_BLOCK];
    for (size_t i = 0; i < k; ++i) {
      float p = pk[0][i] > 0.0f ? pk[0][i] : 0.0f;
      pk[0][i] = pk[1][i] > p ? pk[1][i] : p;
    }
    sg_limiter_core_process(&st->core, pk[0], g, k);
    /* Delay line: the frame leaving it is exactly D frames old (in runs up to the wrap). */
    size_t pos = st->dpos;
    for (int ch = 0; ch < 2; ++ch) {
      float *d = st->dl[ch], *o = io[ch], *xc = xf[ch];
      pos = st->dpos;
      for (size_t i = 0; i < k;) {
        const size_t r = k - i < D - pos ? k - i : D - pos;
        if (o)
          delay_out(o + i, d + pos, xc + i, g + i, r);
        else
          memcpy(d + pos, xc + i, r * sizeof *d);
        i += r;
        pos = pos + r == D ? 0 : pos + r;
      }
    }
    st->dpos = pos;
    /* The statistics in locals (st's fields could alias g as far as the compiler knows, which
     * would keep the running sum in memory); the same operations in the same order. */
    double gg = st->gr_g, now = st->gr_db_now, mx = st->gr_db_max, sum = st->gr_db_sum;
    for (size_t i = 0; i < k; ++i) {
      /* The same gain as the frame before (a hold, a flat stretch) needs no new logarithm. */
      if (g[i] != gg) {
        gg = g[i];
        now = g[i] < 1.0 ? -20.0 * log10(g[i]) : 0.0;
      }
      if (now > mx)
        mx = now;
      sum += now;
    }
    st->gr_g = gg, st->gr_db_now = now, st->gr_db_max = mx, st->gr_db_sum = sum;
    st->gr_count += k;
    for (int ch = 0; ch < 2; ++ch)
      if (io[ch])
        io[ch] += k;
    n -= k;
  }
}
