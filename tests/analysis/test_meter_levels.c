/* sg_meter_add's block loops against a per-sample scalar reference of the same definitions (the
 * loop the meter had before it was split into vectorised block loops): sample peak, RMS, mean,
 * NaN/Inf and subnormal counts, clipped samples and runs, first/last signal frame, the activity
 * map and the windowed DC (two Hann windows half a window apart, sign-agreeing pairs).
 * Counts and frames must be equal; sums may differ by summation order only (1e-9 relative). */
#include "sg_test.h"

#include "stemgate/analysis.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct refm {
  double peak[8], sum[8], sumsq[8];
  uint64_t nan, inf, den, clipped, runs;
  unsigned run[8];
  int64_t first, last;
  double *act;
  size_t nact;
  double dc, dc_prev[8];
  int64_t dc_at, dc_prev_at;
  int dc_prev_ok;
  unsigned dc_ch, closed;
  double first_v;
  int64_t first_at;
  unsigned first_ch;
} refm;

/* Worst channel's Hann-weighted mean of window [start, start + w) when it plays; -1 frame if not.
 */
static double dc_win(const float *x, unsigned C, int64_t start, size_t w, double *means,
                     int64_t *at, unsigned *ch) {
  double ws = 0, ss = 0, s[8] = {0};
  for (size_t i = 0; i < w; ++i) {
    double wt = 0.5 - 0.5 * cos(2 * SG_PI * (double)i / (double)w);
    ws += wt;
    for (unsigned c = 0; c < C; ++c) {
      float v = x[(size_t)(start + (int64_t)i) * C + c];
      if (!isfinite(v))
        v = 0;
      s[c] += wt * v;
      ss += wt * v * v;
    }
  }
  for (unsigned c = 0; c < C; ++c)
    means[c] = s[c] / ws;
  *at = -1;
  if (ss / (ws * C) < pow(10.0, SG_METER_DC_FLOOR_DB / 10.0))
    return 0;
  double worst = 0;
  *ch = 0;
  for (unsigned c = 0; c < C; ++c)
    if (fabs(means[c]) > worst) {
      worst = fabs(means[c]);
      *ch = c;
    }
  *at = start;
  return worst;
}

static void reference(const float *x, size_t n, unsigned C, unsigned rate, refm *r) {
  memset(r, 0, sizeof *r);
  r->first = r->last = r->dc_at = r->first_at = -1;
  size_t win = (size_t)lround(SG_METER_WINDOW_S * rate), fill = 0;
  r->act = malloc((n / win + 2) * sizeof *r->act);
  double wss = 0;
  for (size_t i = 0; i < n; ++i) {
    for (unsigned c = 0; c < C; ++c) {
      float v = x[i * C + c];
      if (!isfinite(v)) {
        if (isnan(v))
          r->nan++;
        else
          r->inf++;
        v = 0;
      }
      if (v != 0.0f && fabsf(v) < FLT_MIN)
        r->den++;
      double a = fabs((double)v);
      if (a > r->peak[c])
        r->peak[c] = a;
      r->sum[c] += v;
      r->sumsq[c] += (double)v * v;
      wss += (double)v * v;
      if (a >= SG_SIGNAL_LEVEL) {
        r->last = (int64_t)i;
        if (r->first < 0)
          r->first = (int64_t)i;
      }
      if (a >= SG_CLIP_LEVEL) {
        r->clipped++;
        if (++r->run[c] == SG_CLIP_RUN)
          r->runs++;
      } else {
        r->run[c] = 0;
      }
    }
    if (++fill == win) {
      double ms = wss / ((double)win * C);
      r->act[r->nact++] = (float)(ms > 0 ? 10 * log10(ms) : SG_SILENCE_DB);
      wss = 0;
      fill = 0;
    }
  }
  /* DC: full windows in order of their end, as the meter closes them */
  size_t w = (size_t)lround(SG_METER_DC_WINDOW_S * rate);
  for (int64_t k = 0;; ++k) { /* window k: the first of each pair at k / 2 windows */
    int64_t start = (k % 2 ? (int64_t)w / 2 : 0) + (k / 2) * (int64_t)w;
    if (start + (int64_t)w > (int64_t)n)
      break;
    double means[8];
    int64_t at;
    unsigned ch = 0;
    double v = dc_win(x, C, start, w, means, &at, &ch);
    if (r->closed++ == 0 && at >= 0) {
      r->first_v = v;
      r->first_at = at;
      r->first_ch = ch;
    }
    for (unsigned c = 0; at >= 0 && r->dc_prev_ok && c < C; ++c)
      if ((means[c] > 0) == (r->dc_prev[c] > 0)) {
        double m = fmin(fabs(means[c]), fabs(r->dc_prev[c]));
        if (r->dc_at < 0 || m > r->dc) {
          r->dc = m;
          r->dc_at = r->dc_prev_at;
          r->dc_ch = c;
        }
      }
    for (unsigned c = 0; at >= 0 && c < C; ++c)
      r->dc_prev[c] = means[c];
    r->dc_prev_ok = at >= 0;
    r->dc_prev_at = start;
  }
}

static int close_rel(double a, double b) { return fabs(a - b) <= 1e-9 * fmax(fabs(b), 1e-12); }

static void compare(const float *x, size_t n, unsigned C, unsigned rate, size_t blk) {
  refm r;
  reference(x, n, C, rate, &r);
  sg_meter *m = NULL;
  assert_int_equal(sg_meter_create(&m, C, rate, 0, NULL), SG_OK);
  for (size_t i = 0; i < n; i += blk)
    assert_int_equal(sg_meter_add(m, x + i * C, n - i < blk ? n - i : blk), SG_OK);
  sg_meter_result g;
  assert_int_equal(sg_meter_result_get(m, &g), SG_OK);
  printf("%u ch %u Hz %zu frames (blocks of %zu): nan %llu inf %llu den %llu clip %llu runs %llu "
         "first %lld last %lld dc %.6g at %lld ch %u\n",
         C, rate, n, blk, (unsigned long long)g.nan_count, (unsigned long long)g.inf_count,
         (unsigned long long)g.denormal_count, (unsigned long long)g.clipped_samples,
         (unsigned long long)g.clip_runs, (long long)g.first_signal_frame,
         (long long)g.last_signal_frame, g.dc_window, (long long)g.dc_window_frame,
         g.dc_window_channel);
  for (unsigned c = 0; c < C; ++c) {
    assert_true(g.sample_peak[c] == r.peak[c]);
    assert_true(close_rel(g.rms[c], sqrt(r.sumsq[c] / (double)n)));
    assert_true(fabs(g.dc[c] - r.sum[c] / (double)n) <= 1e-12);
  }
  assert_true(g.nan_count == r.nan && g.inf_count == r.inf && g.denormal_count == r.den);
  assert_true(g.clipped_samples == r.clipped && g.clip_runs == r.runs);
  assert_true(g.first_signal_frame == r.first && g.last_signal_frame == r.last);
  assert_true(sg_meter_window_count(m) >= r.nact);
  for (size_t i = 0; i < r.nact; ++i)
    assert_true(fabs(sg_meter_window_db(m, i) - r.act[i]) <= 1e-4); /* stored as float dB */
  /* the meter's first lone window counts only when it is the only full one */
  double want = r.closed == 1 ? r.first_v : r.dc;
  int64_t want_at = r.closed == 1 ? r.first_at : r.dc_at;
  if (n >= (size_t)lround(SG_METER_DC_WINDOW_S * rate)) {
    assert_true(g.dc_window_frame == want_at);
    assert_true(fabs(g.dc_window - want) <= 1e-9 * fmax(want, 1e-6));
  }
  sg_meter_free(m);
  free(r.act);
}

/* Every result, loudness and true peak included, is the same to the bit however the stream is
 * cut (a render measures on its writer's tap, verify on its reader's blocks). */
static void same_bits_for_any_blocks(const float *x, size_t n, unsigned C, unsigned rate) {
  static const size_t blks[] = {4096, 1, 333, 4800, 100000};
  sg_meter_result r0;
  size_t nwin = 0;
  double wdb[64];
  for (int b = 0; b < 5; ++b) {
    size_t blk = blks[b], len = blk == 1 ? 20011 : n; /* one frame at a time: a prefix */
    sg_meter *m = NULL;
    assert_int_equal(sg_meter_create(&m, C, rate, SG_METER_ALL, NULL), SG_OK);
    for (size_t i = 0; i < len; i += blk)
      assert_int_equal(sg_meter_add(m, x + i * C, len - i < blk ? len - i : blk), SG_OK);
    sg_meter_result r;
    assert_int_equal(sg_meter_result_get(m, &r), SG_OK);
    if (blk == 1) { /* the same prefix in big blocks */
      sg_meter *m2 = NULL;
      assert_int_equal(sg_meter_create(&m2, C, rate, SG_METER_ALL, NULL), SG_OK);
      assert_int_equal(sg_meter_add(m2, x, len), SG_OK);
      sg_meter_result r2;
      assert_int_equal(sg_meter_result_get(m2, &r2), SG_OK);
      assert_memory_equal(&r, &r2, sizeof r);
      sg_meter_free(m2);
    } else if (b == 0) {
      r0 = r;
      nwin = sg_meter_window_count(m);
      for (size_t i = 0; i < nwin && i < 64; ++i)
        wdb[i] = sg_meter_window_db(m, i);
    } else {
      assert_memory_equal(&r, &r0, sizeof r);
      assert_int_equal(sg_meter_window_count(m), nwin);
      for (size_t i = 0; i < nwin && i < 64; ++i)
        assert_true(sg_meter_window_db(m, i) == wdb[i]);
    }
    sg_meter_free(m);
  }
}

static void block_loops_match_scalar_reference(void **state) {
  (void)state;
  uint32_t s = 7;
  const unsigned rates[] = {48000, 44100, 11025};
  const unsigned chans[] = {2, 1, 6, 3};
  for (int t = 0; t < 4; ++t) {
    unsigned C = chans[t], rate = rates[t % 3];
    size_t n = (size_t)(3.7 * rate);
    float *x = malloc(n * C * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; ++i)
      for (unsigned c = 0; c < C; ++c) {
        s = s * 1664525u + 1013904223u;
        double nz = (double)(s >> 8) / 8388608.0 - 1.0;
        double tt = (double)i / rate;
        /* a quiet start, a DC-carrying middle part, a clipped stretch, noise */
        double v = tt < 0.3 ? 1e-6 * nz : 0.3 * sin(2 * SG_PI * 110 * tt + c) + 0.05 * nz;
        if (tt > 1.0 && tt < 2.5)
          v += 0.02 * (c + 1);
        if (tt > 2.0 && tt < 2.01)
          v = c % 2 ? -1.0 : 1.0;
        x[i * C + c] = (float)v;
      }
    /* non-finite and subnormal values at a few places */
    x[1000 * C] = NAN;
    x[2000 * C + (C - 1)] = INFINITY;
    x[3000 * C] = -INFINITY;
    x[4000 * C] = 1e-41f;
    x[(n - 1) * C] = 0.0f;
    compare(x, n, C, rate, 4096);
    compare(x, n, C, rate, 333);
    compare(x, n, C, rate, 100000);
    same_bits_for_any_blocks(x, n, C, rate);
    free(x);
  }
  /* a file shorter than one DC window and a tail of silence */
  size_t n = 20000;
  float *x = calloc(2 * n, sizeof *x);
  assert_non_null(x);
  for (size_t i = 100; i < 15000; ++i)
    x[2 * i] = x[2 * i + 1] = 0.1f + 0.2f * (float)sin(0.01 * (double)i);
  compare(x, n, 2, 48000, 777);
  free(x);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(block_loops_match_scalar_reference),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
