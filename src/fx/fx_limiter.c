/* True-peak look-ahead limiter. See include/stemgate/fx.h.
 *
 * Signal flow per frame (indices in "requirement time" k, see the derivation below):
 *   1. Detector: the stereo input is interpolated 8x by a 512-tap polyphase Kaiser-sinc filter
 *      (the ITU-R BS.1770-4 Annex 2 true-peak method, at twice its oversampling). The largest
 *      |value| of the 8 interpolated points and the two base samples around them gives a
 *      requirement req[k] = min(1, threshold / peak) for base sample k (8 frames back: the
 *      interpolator's delay).
 *   2. a[k] = min(req[k-W+1 .. k]), W = L + 2H (monotonic deque, O(1) per frame).
 *   3. Release: c[k] = a[k] when it falls, else exponential approach to a[k] (c <= a always).
 *   4. Attack: b[k] = mean(c[k-L+1 .. k]) (box filter: a linear ramp over the look-ahead L).
 *   5. Output x[k - (L-1+H)] * b[k].
 * Every b[k] used on the output samples within H frames of a peak j averages c values that all
 * include req[j] in their minimum window (W >= L + 2H), so the gain is <= req[j] on the peak and
 * flat (held) over +-H frames around it: the reconstruction filter of a meter (or a DAC) sees a
 * constant gain across its main lobe, which is what keeps the true peak (not only the sample
 * peak) under the ceiling. */
#include "stemgate/fx.h"

#include "fx/fx_internal.h"

#include <stdlib.h>
#include <string.h>

#define DETECT_DELAY (SG_TP_TAPS / 2)
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
  free(st->mq_val);
  free(st->mq_idx);
  free(st->box);
  st->dl[0] = st->dl[1] = NULL;
  st->mq_val = NULL;
  st->mq_idx = NULL;
  st->box = NULL;
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
  /* Detector interpolator: prototype low-pass at the base Nyquist, split into 8 phases, each
   * normalised to unity DC gain so a constant input reads exactly its value. */
  float proto[SG_TP_OS * SG_TP_TAPS];
  sg__kaiser_sinc(proto, SG_TP_OS * SG_TP_TAPS - 1, 0.5 / SG_TP_OS, 8.0, SG_TP_OS);
  proto[SG_TP_OS * SG_TP_TAPS - 1] = 0;
  for (int p = 0; p < SG_TP_OS; ++p) {
    double s = 0;
    for (int k = 0; k < SG_TP_TAPS; ++k)
      s += proto[k * SG_TP_OS + p];
    for (int k = 0; k < SG_TP_TAPS; ++k) /* reversed: ph[p][T-1-k] multiplies x[n-k] */
      st->ph[p][SG_TP_TAPS - 1 - k] = (float)(proto[k * SG_TP_OS + p] / s);
  }
  /* Bound on any interpolated value: max over phases of sum |h| times max |x|. While no
   * history sample exceeds thresh / l1 no inter-sample peak can reach the threshold and the
   * interpolation is skipped (quiet passages cost nothing). */
  double l1 = 0;
  for (int p = 0; p < SG_TP_OS; ++p) {
    double s = 0;
    for (int k = 0; k < SG_TP_TAPS; ++k)
      s += fabs(st->ph[p][k]);
    l1 = fmax(l1, s);
  }
  st->la = (size_t)floor(c->lookahead_ms * 1e-3 * rate + 0.5);
  if (st->la < 1)
    st->la = 1;
  st->hold = HOLD_FRAMES;
  st->win = st->la + 2 * st->hold;
  st->delay = DETECT_DELAY + st->la - 1 + st->hold;
  st->mq_cap = st->win + 2;
  st->dl[0] = calloc(2 * st->delay, sizeof(float));
  st->mq_val = calloc(st->mq_cap, sizeof(float));
  st->mq_idx = calloc(st->mq_cap, sizeof(uint64_t));
  st->box = calloc(st->la, sizeof(float));
  if (!st->dl[0] || !st->mq_val || !st->mq_idx || !st->box) {
    sg_limiter_free(st);
    return SG_E_NOMEM;
  }
  st->dl[1] = st->dl[0] + st->delay;
  st->a_rel = sg__onepole(c->release_ms * 1e-3, rate);
  st->thresh = pow(10.0, (c->ceiling_dbtp - c->margin_db) / 20.0);
  st->in_gain = sg_db_to_lin(c->gain_db);
  st->quiet = st->thresh / l1;
  sg_limiter_reset(st);
  return SG_OK;
}

void sg_limiter_reset(sg_limiter *st) {
  memset(st->hist, 0, sizeof st->hist);
  st->hpos = 0;
  st->loud[0] = st->loud[1] = 0;
  if (st->dl[0])
    memset(st->dl[0], 0, 2 * st->delay * sizeof(float));
  st->dpos = 0;
  st->mq_head = st->mq_tail = 0;
  st->t = 0;
  for (size_t i = 0; i < st->la; ++i)
    st->box[i] = 1.0f;
  st->box_pos = 0;
  st->box_sum = (double)st->la;
  st->box_refresh = 0;
  st->rel_c = 1.0;
  st->gr_db_now = st->gr_db_max = st->gr_db_sum = 0;
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

/* Largest |value| among the 8 interpolated points between the two base samples that sit
 * DETECT_DELAY frames back, and those two samples. */
static double detect(sg_limiter *st, int ch, double x) {
  float *h = st->hist[ch];
  size_t p = st->hpos;
  st->loud[ch] -= fabs(h[p]) >= st->quiet; /* the oldest sample leaves the history */
  h[p] = h[p + SG_TP_TAPS] = (float)x;
  st->loud[ch] += fabs(h[p]) >= st->quiet;
  const float *xs = h + p + SG_TP_TAPS; /* xs[-k] = x[n-k] */
  double pk = fmax(fabs(xs[-DETECT_DELAY]), fabs(xs[-(DETECT_DELAY - 1)]));
  if (!st->loud[ch])
    return pk;
  for (int q = 0; q < SG_TP_OS; ++q) {
    double acc = sg__dot(st->ph[q], xs - (SG_TP_TAPS - 1), SG_TP_TAPS);
    if (fabs(acc) > pk)
      pk = fabs(acc);
  }
  return pk;
}

void sg_limiter_process(sg_limiter *st, float *L, float *R, size_t n) {
  const double thr = st->thresh, ig = st->in_gain, ar = st->a_rel;
  const size_t W = st->win, cap = st->mq_cap, la = st->la, D = st->delay;
  float *io[2] = {L, R};
  for (size_t i = 0; i < n; ++i) {
    double xin[2], pk = 0;
    for (int ch = 0; ch < 2; ++ch) {
      xin[ch] = io[ch] ? io[ch][i] * ig : 0.0;
      double p = detect(st, ch, xin[ch]);
      if (p > pk)
        pk = p;
    }
    st->hpos = st->hpos + 1 == SG_TP_TAPS ? 0 : st->hpos + 1;
    float req = pk > thr ? (float)(thr / pk) : 1.0f;
    /* Sliding minimum over the last W requirements. */
    uint64_t k = st->t++;
    while (st->mq_tail != st->mq_head) {
      size_t last = st->mq_tail == 0 ? cap - 1 : st->mq_tail - 1;
      if (st->mq_val[last] < req)
        break;
      st->mq_tail = last;
    }
    st->mq_val[st->mq_tail] = req;
    st->mq_idx[st->mq_tail] = k;
    st->mq_tail = st->mq_tail + 1 == cap ? 0 : st->mq_tail + 1;
    while (st->mq_idx[st->mq_head] + W <= k)
      st->mq_head = st->mq_head + 1 == cap ? 0 : st->mq_head + 1;
    double a = st->mq_val[st->mq_head];
    /* Release follower: falls at once, recovers exponentially; never above a. */
    double c = a < st->rel_c ? a : a + ar * (st->rel_c - a);
    st->rel_c = c;
    /* Attack: box filter of length L. */
    float cf = (float)c;
    st->box_sum += (double)cf - st->box[st->box_pos];
    st->box[st->box_pos] = cf;
    st->box_pos = st->box_pos + 1 == la ? 0 : st->box_pos + 1;
    if (++st->box_refresh >= 4096) { /* exact re-sum: no drift of the running sum */
      double s = 0;
      for (size_t j = 0; j < la; ++j)
        s += st->box[j];
      st->box_sum = s;
      st->box_refresh = 0;
    }
    double g = st->box_sum / (double)la;
    if (g > 1.0)
      g = 1.0;
    /* Delay line: the frame leaving it is exactly D frames old. */
    for (int ch = 0; ch < 2; ++ch) {
      float *d = st->dl[ch];
      double y = d[st->dpos];
      d[st->dpos] = (float)xin[ch];
      if (io[ch])
        io[ch][i] = (float)(y * g);
    }
    st->dpos = st->dpos + 1 == D ? 0 : st->dpos + 1;
    double gr = g < 1.0 ? -20.0 * log10(g) : 0.0;
    st->gr_db_now = gr;
    if (gr > st->gr_db_max)
      st->gr_db_max = gr;
    st->gr_db_sum += gr;
    st->gr_count++;
  }
}
