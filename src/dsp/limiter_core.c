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
 * and flat over +-H frames around it.
 *
 * Only peaks above the threshold can set a requirement below 1, and the window's maximum is
 * above it exactly when one of them is in the window, so the wedge holds only those (the
 * others just advance the frame count): the same a[k], far fewer wedge operations. While the
 * wedge is empty, the release follower settled and the box full of ones, every gain is the
 * same (the running sum does not move until its periodic exact re-sum), so
 * sg_limiter_core_process runs such stretches with no per-frame arithmetic. */
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
  st->ones = st->la;
  st->rel_c = 1.0;
}

/* One frame (both entry points): the steps of the header comment. */
static inline double core_step(sg_limiter_core *st, float v) {
  sg_slidemax *s = &st->mx;
  const double thr = st->thresh;
  const uint64_t k = s->t++;
  if ((double)v > thr) {
    while (s->tail != s->head) {
      size_t last = s->tail == 0 ? s->cap - 1 : s->tail - 1;
      if (s->val[last] > v)
        break;
      s->tail = last;
    }
    s->val[s->tail] = v;
    s->idx[s->tail] = k;
    s->tail = s->tail + 1 == s->cap ? 0 : s->tail + 1;
  } else if (v != v) { /* a NaN peak: a plain sliding maximum would pop everything for it */
    s->head = s->tail;
  }
  while (s->head != s->tail && s->idx[s->head] + s->win <= k)
    s->head = s->head + 1 == s->cap ? 0 : s->head + 1;
  /* the window's largest peak is above the threshold iff the wedge holds one */
  double a = s->head != s->tail ? (float)(thr / (double)s->val[s->head]) : 1.0f;
  /* Release follower: falls at once, recovers exponentially; never above a. */
  double c = a < st->rel_c ? a : a + st->a_rel * (st->rel_c - a);
  st->rel_c = c;
  /* Attack: box filter of length L. */
  float cf = (float)c;
  st->box_sum += (double)cf - st->box[st->box_pos];
  st->box[st->box_pos] = cf;
  st->box_pos = st->box_pos + 1 == st->la ? 0 : st->box_pos + 1;
  st->ones = cf == 1.0f ? st->ones + 1 : 0;
  if (++st->box_refresh >= 4096) { /* exact re-sum: no drift of the running sum */
    double sum = 0;
    for (size_t j = 0; j < st->la; ++j)
      sum += st->box[j];
    st->box_sum = sum;
    st->box_refresh = 0;
  }
  double g = st->box_sum / (double)st->la;
  return g > 1.0 ? 1.0 : g;
}

double sg_limiter_core_tick(sg_limiter_core *st, double pk) { return core_step(st, (float)pk); }

void sg_limiter_core_process(sg_limiter_core *st, const float *pk, double *g, size_t n) {
  const double thr = st->thresh;
  size_t i = 0;
  while (i < n) {
    /* Idle: no peak above the threshold in the window, the follower reading 1 as a float
     * (it only rises towards 1 from there), the box all ones. Each frame then adds (1 - 1) to
     * the running sum: only counters move, and the follower's double, stepped as core_step
     * steps it until it stalls a rounding step short of 1 (1 + a_rel (c - 1) == c). */
    if (st->mx.head == st->mx.tail && st->ones >= st->la && (float)st->rel_c == 1.0f) {
      double gi = st->box_sum / (double)st->la;
      gi = gi > 1.0 ? 1.0 : gi;
      size_t e = i;
      while (e < n && !((double)pk[e] > thr))
        ++e;
      size_t m = e - i;
      while (m) {
        size_t step = 4096 - st->box_refresh; /* frames until the next re-sum */
        size_t r = m < step ? m : step;
        for (size_t j = 0; j < r; ++j)
          g[i + j] = gi;
        /* core_step's a + a_rel (c - a) with a = 1, frame by frame, while it still moves */
        double c = st->rel_c;
        for (size_t j = 0; j < r; ++j) {
          const double cn = 1.0 + st->a_rel * (c - 1.0);
          if (cn == c)
            break;
          c = cn;
        }
        st->rel_c = c;
        st->box_pos = (st->box_pos + r) % st->la;
        st->ones += r;
        st->mx.t += r;
        st->box_refresh += r;
        if (st->box_refresh >= 4096) { /* the box is all ones: its exact sum is la */
          double sum = 0;
          for (size_t j = 0; j < st->la; ++j)
            sum += st->box[j];
          st->box_sum = sum;
          st->box_refresh = 0;
          gi = st->box_sum / (double)st->la;
          gi = gi > 1.0 ? 1.0 : gi;
        }
        i += r, m -= r;
      }
      if (i == n)
        break;
    }
    g[i] = core_step(st, pk[i]);
    ++i;
  }
}
