/* Modulation effects: chorus/flanger (modulated fractional delays, cubic Hermite interpolation,
 * quadrature LFO) and phaser (swept first-order allpass cascade with feedback). See fx.h. */
#include "stemgate/fx.h"

#include "fx/fx_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- chorus / flanger ------------------------------------------------------------------ */

void sg_chorus_config_init(sg_chorus_config *c) {
  c->rate_hz = 0.8;
  c->depth_ms = 2.5;
  c->delay_ms = 12;
  c->voices = 2;
  c->feedback = 0;
  c->spread = 1;
  c->mix = 0.5;
}

void sg_flanger_config_init(sg_chorus_config *c) {
  c->rate_hz = 0.25;
  c->depth_ms = 1.5;
  c->delay_ms = 2;
  c->voices = 1;
  c->feedback = 0.5;
  c->spread = 1;
  c->mix = 0.5;
}

sg_status sg_chorus_init(sg_chorus *st, const sg_chorus_config *cin, double rate) {
  if (!st || !cin || !(rate >= 8000.0 && rate <= 384000.0))
    return SG_E_INVAL;
  memset(st, 0, sizeof *st);
  sg_chorus_config *c = &st->cfg;
  *c = *cin;
  c->rate_hz = sg__clamp(c->rate_hz, 0.01, 10);
  c->depth_ms = sg__clamp(c->depth_ms, 0, 10);
  c->delay_ms = sg__clamp(c->delay_ms, 0.1, 40);
  if (c->delay_ms < c->depth_ms + 0.05)
    c->delay_ms = c->depth_ms + 0.05;
  c->voices =
      c->voices < 1 ? 1 : (c->voices > SG_CHORUS_MAX_VOICES ? SG_CHORUS_MAX_VOICES : c->voices);
  c->feedback = sg__clamp(c->feedback, -0.95, 0.95);
  c->spread = sg__clamp(c->spread, 0, 1);
  c->mix = sg__clamp(c->mix, 0, 1);
  st->rate = rate;
  size_t need = (size_t)((c->delay_ms + c->depth_ms) * 1e-3 * rate) + 8, cap = 16;
  while (cap < need)
    cap <<= 1;
  st->cap = cap;
  st->buf[0] = calloc(cap, sizeof(float));
  st->buf[1] = calloc(cap, sizeof(float));
  if (!st->buf[0] || !st->buf[1]) {
    sg_chorus_free(st);
    return SG_E_NOMEM;
  }
  double w = 2 * SG_PI * c->rate_hz / rate;
  st->rot_c = cos(w), st->rot_s = sin(w);
  st->lfo_c = 1, st->lfo_s = 0;
  st->a_smooth = sg_onepole_coef_tau(SG__SMOOTH_SEC, rate);
  st->mix_cur = st->mix_target = c->mix;
  return SG_OK;
}

void sg_chorus_reset(sg_chorus *st) {
  if (st->buf[0])
    memset(st->buf[0], 0, st->cap * sizeof(float));
  if (st->buf[1])
    memset(st->buf[1], 0, st->cap * sizeof(float));
  st->pos = 0;
  st->lfo_c = 1, st->lfo_s = 0;
  st->count = 0;
  st->fb_state[0] = st->fb_state[1] = 0;
  st->mix_cur = st->mix_target;
}

void sg_chorus_free(sg_chorus *st) {
  if (!st)
    return;
  free(st->buf[0]);
  free(st->buf[1]);
  st->buf[0] = st->buf[1] = NULL;
}

#define CH_RUN 256 /* frames per run */

void sg_chorus_process(sg_chorus *st, float *L, float *R, size_t n) {
  const sg_chorus_config *c = &st->cfg;
  const size_t mask = st->cap - 1;
  const int V = c->voices;
  const double base = c->delay_ms * 1e-3 * st->rate, depth = c->depth_ms * 1e-3 * st->rate;
  const double fb = c->feedback, aS = st->a_smooth, mt = st->mix_target;
  /* Per-voice phase offsets as rotations of the LFO phasor; R adds spread * 90 degrees. */
  double oc[2][SG_CHORUS_MAX_VOICES], os[2][SG_CHORUS_MAX_VOICES];
  for (int ch = 0; ch < 2; ++ch)
    for (int v = 0; v < V; ++v) {
      double ph = 2 * SG_PI * ((double)v / V + (ch ? 0.25 * c->spread : 0.0));
      oc[ch][v] = cos(ph), os[ch][v] = sin(ph);
    }
  double lc = st->lfo_c, ls = st->lfo_s, mix = st->mix_cur;
  /* The voices' average: with a power-of-two count, times the exact reciprocal is the same
   * double as the division (both scale by a power of two) at a fraction of its cost. */
  const int pow2 = (V & (V - 1)) == 0;
  const double inv_v = 1.0 / V;
  /* Per run of frames: the LFO phasor and the mix first (their recursions), then each channel
   * with its voices. */
  double vc[CH_RUN], vs[CH_RUN], mx[CH_RUN], yv[SG_CHORUS_MAX_VOICES][CH_RUN];
  /* The shortest delay reaches back further than a run (the cubic's newest point is d - 1
   * back): no read of a run sees a write of the same run. */
  const int reads_old = base - depth >= (double)CH_RUN + 3;
  for (size_t t0 = 0; t0 < n; t0 += CH_RUN) {
    const size_t m = n - t0 < CH_RUN ? n - t0 : CH_RUN;
    for (size_t t = 0; t < m; ++t) {
      vc[t] = lc, vs[t] = ls;
      double nc = lc * st->rot_c - ls * st->rot_s;
      ls = lc * st->rot_s + ls * st->rot_c;
      lc = nc;
      /* Renormalise the phasor every 1024 samples (counted from reset, so the output does not
       * depend on how the caller splits blocks) so rounding cannot make it grow or shrink. */
      if ((++st->count & 1023u) == 0) {
        double g = sqrt(lc * lc + ls * ls);
        lc /= g, ls /= g;
      }
    }
    if (mix == mt) {
      for (size_t t = 0; t < m; ++t)
        mx[t] = mt;
    } else {
      for (size_t t = 0; t < m; ++t)
        mx[t] = mix = sg_smooth_step(mix, mt, aS);
    }
    for (int ch = 0; ch < 2; ++ch) {
      float *x = ch ? R : L;
      if (!x)
        continue;
      x += t0;
      float *b = st->buf[ch];
      size_t pos = st->pos;
      double fbs = st->fb_state[ch];
      if (reads_old) {
        /* Every read of the run lies before it, so the voices' reads run first, each voice over
         * the run (independent frames), then the writes and the sums in the same order. */
        for (int v = 0; v < V; ++v)
          for (size_t t = 0; t < m; ++t) {
            double lfo = vs[t] * oc[ch][v] + vc[t] * os[ch][v];
            double d = base + depth * lfo;
            yv[v][t] = sg__read_frac(b, mask, pos + t, d < 1.0 ? 1.0 : d);
          }
        for (size_t t = 0; t < m; ++t) {
          const double in = x[t];
          b[(pos + t) & mask] = (float)(in + fb * fbs);
          double wet = 0;
          for (int v = 0; v < V; ++v)
            wet += yv[v][t];
          fbs = sg_dsp_flush(yv[0][t]);
          wet = pow2 ? wet * inv_v : wet / V;
          x[t] = (float)((1 - mx[t]) * in + mx[t] * wet);
        }
        st->fb_state[ch] = fbs;
        continue;
      }
      for (size_t t = 0; t < m; ++t) {
        const double in = x[t];
        b[pos] = (float)(in + fb * fbs);
        double wet = 0;
        for (int v = 0; v < V; ++v) {
          double lfo = vs[t] * oc[ch][v] + vc[t] * os[ch][v]; /* sin(theta + offset) */
          double d = base + depth * lfo;
          double y = sg__read_frac(b, mask, pos, d < 1.0 ? 1.0 : d);
          if (v == 0)
            fbs = sg_dsp_flush(y);
          wet += y;
        }
        wet = pow2 ? wet * inv_v : wet / V;
        x[t] = (float)((1 - mx[t]) * in + mx[t] * wet);
        pos = (pos + 1) & mask;
      }
      st->fb_state[ch] = fbs;
    }
    st->pos = (st->pos + m) & mask;
  }
  st->lfo_c = lc, st->lfo_s = ls;
  st->mix_cur = mix;
}

/* ---- phaser ------------------------------------------------------------------------------- */

void sg_phaser_config_init(sg_phaser_config *c) {
  c->rate_hz = 0.5;
  c->stages = 6;
  c->min_hz = 200;
  c->max_hz = 3000;
  c->feedback = 0.4;
  c->spread = 1;
  c->mix = 0.5;
}

sg_status sg_phaser_init(sg_phaser *st, const sg_phaser_config *cin, double rate) {
  if (!st || !cin || !(rate >= 8000.0 && rate <= 384000.0))
    return SG_E_INVAL;
  memset(st, 0, sizeof *st);
  sg_phaser_config *c = &st->cfg;
  *c = *cin;
  c->rate_hz = sg__clamp(c->rate_hz, 0.01, 10);
  c->stages =
      c->stages < 2 ? 2 : (c->stages > SG_PHASER_MAX_STAGES ? SG_PHASER_MAX_STAGES : c->stages);
  c->stages &= ~1;
  c->min_hz = sg__clamp(c->min_hz, 20, 5000);
  c->max_hz = sg__clamp(c->max_hz, c->min_hz, 0.45 * rate);
  c->feedback = sg__clamp(c->feedback, -0.95, 0.95);
  c->spread = sg__clamp(c->spread, 0, 1);
  c->mix = sg__clamp(c->mix, 0, 1);
  st->rate = rate;
  st->a_smooth = sg_onepole_coef_tau(SG__SMOOTH_SEC, rate);
  st->mix_cur = st->mix_target = c->mix;
  return SG_OK;
}

void sg_phaser_reset(sg_phaser *st) {
  memset(st->x1, 0, sizeof st->x1);
  memset(st->y1, 0, sizeof st->y1);
  st->fb[0] = st->fb[1] = 0;
  st->phase = 0;
  st->ctl_left = 0;
  st->mix_cur = st->mix_target;
}

/* Allpass coefficient for break frequency f: a = (tan(pi f/fs) - 1) / (tan(pi f/fs) + 1). */
static double ap_coef(double f, double rate) {
  double k = tan(SG_PI * f / rate);
  return (k - 1) / (k + 1);
}

void sg_phaser_process(sg_phaser *st, float *L, float *R, size_t n) {
  const sg_phaser_config *c = &st->cfg;
  const double ratio = c->max_hz / c->min_hz, aS = st->a_smooth, mt = st->mix_target;
  const double dphase = c->rate_hz / st->rate;
  float *io[2] = {L, R};
  double mix = st->mix_cur;
  size_t done = 0;
  while (done < n) {
    /* Control rate: one sweep position (exponential in frequency) per SG_FX_CONTROL_BLOCK
     * samples counted from reset, so block splits by the caller do not change the output. */
    if (st->ctl_left == 0) {
      for (int ch = 0; ch < 2; ++ch) {
        double ph = st->phase + (ch ? 0.25 * c->spread : 0.0);
        double lfo = 0.5 + 0.5 * sin(2 * SG_PI * ph);
        st->a[ch] = ap_coef(c->min_hz * pow(ratio, lfo), st->rate);
      }
      st->ctl_left = SG_FX_CONTROL_BLOCK;
      st->phase += dphase * SG_FX_CONTROL_BLOCK;
      st->phase -= floor(st->phase);
    }
    size_t m = n - done < (size_t)st->ctl_left ? n - done : (size_t)st->ctl_left;
    const double *a = st->a;
    double mix0 = mix;
    for (int ch = 0; ch < 2; ++ch) {
      if (!io[ch])
        continue;
      double *x1 = st->x1[ch], *y1 = st->y1[ch], fbs = st->fb[ch], ac = a[ch];
      mix = mix0;
      for (size_t t = done; t < done + m; ++t) {
        mix = sg_smooth_step(mix, mt, aS);
        double x = io[ch][t], v = x + c->feedback * fbs;
        for (int s = 0; s < c->stages; ++s) {
          double y = ac * v + x1[s] - ac * y1[s];
          x1[s] = v;
          y1[s] = sg_dsp_flush(y);
          v = y;
        }
        fbs = v;
        io[ch][t] = (float)((1 - mix) * x + mix * v);
      }
      st->fb[ch] = sg_dsp_flush(fbs);
    }
    st->ctl_left -= (int)m;
    done += m;
  }
  st->mix_cur = mix;
}
