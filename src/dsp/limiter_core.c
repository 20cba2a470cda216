/* Look-ahead limiter gain computer. See include/stemgate/dsp.h.
 *
 * Per frame (k counts detector peaks):
 *   1. m[k] = max(pk[k-W+1 .. k]), W = L + 2H (monotonic wedge, O(1) per frame), and the
 *      requirement a[k] = min(1, thresh / m[k]) (the minimum of the per-frame requirements:
 *      thresh / x is monotonic, so one division per frame suffices).
 *   2. Release: c[k] = a[k] when it falls, else exponential approach to a[k] (c <= a always).
 *   3. Attack: b[k] = mean(c[k-L+1 .. k]) (box filter: a linear ramp over the look-ahead L).
 * Every b[k] used on the frames within H of a peak j averages c values that all include the
 * requirement of j in their window (W >= L + 2H), so the gain is <= thresh / pk[j] on the peak
 * and flat over +-H frames around it. */
#include "stemgate/dsp.h"

#include <stdlib.h>
#include <string.h>

void sg_slidemax_init(sg_slidemax *s, float *val, uint64_t *idx, size_t cap, size_t win) {
  s->val = val;
  s->idx = idx;
  s->cap = cap;
  s->win = win;
  sg_slidemax_reset(s);
}

void sg_slidemax_reset(sg_slidemax *s) { s->head = s->tail = 0, s->t = 0; }

sg_status sg_limiter_core_init(sg_limiter_core *st, size_t la, size_t hold, double a_rel,
                               double thresh) {
  if (!st || la < 1 || !(thresh > 0))
    return SG_E_INVAL;
  memset(st, 0, sizeof *st);
  st->la = la;
  st->hold = hold;
  st->win = la + 2 * hold;
  size_t cap = st->win + 2;
  st->mem = calloc(cap + la, sizeof(float));
  st->idx = calloc(cap, sizeof(uint64_t));
  if (!st->mem || !st->idx) {
    sg_limiter_core_free(st);
    return SG_E_NOMEM;
  }
  st->box = st->mem + cap;
  sg_slidemax_init(&st->mx, st->mem, st->idx, cap, st->win);
  st->a_rel = a_rel;
  st->thresh = thresh;
  sg_limiter_core_reset(st);
  return SG_OK;
}

void sg_limiter_core_free(sg_limiter_core *st) {
  if (!st)
    return;
  free(st->mem);
  free(st->idx);
  st->mem = st->box = NULL;
  st->idx = NULL;
}

void sg_limiter_core_reset(sg_limiter_core *st) {
  sg_slidemax_reset(&st->mx);
  for (size_t i = 0; i < st->la; ++i)
    st->box[i] = 1.0f;
  st->box_pos = 0;
  st->box_sum = (double)st->la;
  st->box_refresh = 0;
  st->rel_c = 1.0;
}

double sg_limiter_core_tick(sg_limiter_core *st, double pk) {
  const double thr = st->thresh;
  double m = sg_slidemax_push(&st->mx, (float)pk);
  double a = m > thr ? (float)(thr / m) : 1.0f;
  /* Release follower: falls at once, recovers exponentially; never above a. */
  double c = a < st->rel_c ? a : a + st->a_rel * (st->rel_c - a);
  st->rel_c = c;
  /* Attack: box filter of length L. */
  float cf = (float)c;
  st->box_sum += (double)cf - st->box[st->box_pos];
  st->box[st->box_pos] = cf;
  st->box_pos = st->box_pos + 1 == st->la ? 0 : st->box_pos + 1;
  if (++st->box_refresh >= 4096) { /* exact re-sum: no drift of the running sum */
    double s = 0;
    for (size_t j = 0; j < st->la; ++j)
      s += st->box[j];
    st->box_sum = s;
    st->box_refresh = 0;
  }
  double g = st->box_sum / (double)st->la;
  return g > 1.0 ? 1.0 : g;
}
