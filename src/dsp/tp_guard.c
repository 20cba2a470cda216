/* True-peak guard. See include/stemgate/dsp.h.
 *
 * The same three stages as the true-peak limiter (src/fx/fx_limiter.c), with the meters'
 * interpolator as the detector: (1) per frame the largest |value| of the BS.1770-4 Annex 2
 * points between the two base samples latency frames back, over both channels (sg_truepeak
 * streaming mode, interpolating only frames that can reach the threshold); (2) sg_limiter_core
 * with a hold of taps / 2 + 1 frames, so every input sample of an interpolated point that sets
 * a requirement sees the same gain (the point scales exactly); (3) the input delayed by detector
 * latency + core delay, times the gain. No input gain, no margin: the threshold is the reading
 * to keep. */
#include "stemgate/dsp.h"

#include <stdlib.h>
#include <string.h>

#define GUARD_ATTACK_S 0.005
#define GUARD_RELEASE_S 0.150

sg_status sg_tp_guard_init(sg_tp_guard *g, double thresh_dbtp, double rate) {
  if (!g || !(rate >= 8000.0 && rate <= 768000.0) || !(thresh_dbtp <= 0.0 && thresh_dbtp > -60.0))
    return SG_E_INVAL;
  memset(g, 0, sizeof *g);
  sg_truepeak_config tc;
  sg_truepeak_config_init(&tc); /* SG_TPD_BS1770 at the rate's factor: the meters' */
  const double thresh = pow(10.0, thresh_dbtp / 20.0);
  for (int ch = 0; ch < 2; ++ch) {
    if (sg_truepeak_init(&g->det[ch], &tc, rate) != SG_OK)
      return SG_E_INVAL;
    sg_truepeak_set_quiet(&g->det[ch], thresh);
  }
  size_t la = (size_t)floor(GUARD_ATTACK_S * rate + 0.5);
  la = la < 1 ? 1 : la;
  const size_t hold = (size_t)g->det[0].taps / 2 + 1;
  sg_status s =
      sg_limiter_core_init(&g->core, la, hold, sg_onepole_coef_tau(GUARD_RELEASE_S, rate), thresh);
  if (s != SG_OK)
    return s;
  g->delay = sg_truepeak_latency(&g->det[0]) + sg_limiter_core_delay(&g->core);
  if (!(g->dl[0] = calloc(2 * g->delay, sizeof(float)))) {
    sg_tp_guard_free(g);
    return SG_E_NOMEM;
  }
  g->dl[1] = g->dl[0] + g->delay;
  sg_tp_guard_reset(g);
  return SG_OK;
}

void sg_tp_guard_reset(sg_tp_guard *g) {
  for (int ch = 0; ch < 2; ++ch)
    sg_truepeak_reset(&g->det[ch]);
  if (g->dl[0])
    memset(g->dl[0], 0, 2 * g->delay * sizeof(float));
  g->dpos = 0;
  if (g->core.mem)
    sg_limiter_core_reset(&g->core);
  g->gr_db_max = 0;
}

void sg_tp_guard_free(sg_tp_guard *g) {
  if (!g)
    return;
  free(g->dl[0]);
  g->dl[0] = g->dl[1] = NULL;
  sg_limiter_core_free(&g->core);
}

/* n frames through the delay line in place: io gets the delayed frames times their gains, the
 * line the frames io held. Distinct arrays (vectorised). */
static void delay_swap(float *restrict io, float *restrict line, const double *restrict g,
                       size_t n) {
  for (size_t j = 0; j < n; ++j) {
    const float x = io[j];
    io[j] = (float)(line[j] * g[j]);
    line[j] = x;
  }
}

void sg_tp_guard_process(sg_tp_guard *g, float *L, float *R, size_t n) {
  const size_t D = g->delay;
  const int nch = R ? 2 : 1;
  float *io[2] = {L, R};
  float pk[2][SG_TPD_BLOCK];
  double gn[SG_TPD_BLOCK];
  while (n) {
    const size_t k = n < SG_TPD_BLOCK ? n : SG_TPD_BLOCK;
    for (int ch = 0; ch < nch; ++ch)
      sg_truepeak_push_block(&g->det[ch], io[ch], k, pk[ch]);
    if (nch == 2)
      for (size_t i = 0; i < k; ++i)
        pk[0][i] = pk[1][i] > pk[0][i] ? pk[1][i] : pk[0][i];
    sg_limiter_core_process(&g->core, pk[0], gn, k);
    double gmin = 1.0;
    for (size_t i = 0; i < k; ++i)
      gmin = gn[i] < gmin ? gn[i] : gmin;
    if (gmin < 1.0) {
      const double gr = -20.0 * log10(gmin);
      g->gr_db_max = gr > g->gr_db_max ? gr : g->gr_db_max;
    }
    /* Delay line: the frame leaving it is exactly D frames old (in runs up to the wrap). */
    size_t pos = g->dpos;
    for (int ch = 0; ch < nch; ++ch) {
      float *d = g->dl[ch], *o = io[ch];
      pos = g->dpos;
      for (size_t i = 0; i < k;) {
        const size_t r = k - i < D - pos ? k - i : D - pos;
        delay_swap(o + i, d + pos, gn + i, r);
        i += r;
        pos = pos + r == D ? 0 : pos + r;
      }
    }
    g->dpos = pos;
    io[0] += k;
    if (R)
      io[1] += k;
    n -= k;
  }
}
