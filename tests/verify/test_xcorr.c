/* The stem-to-master waveform lag (sg__waveform_offset): the true lag found to a sample for
 * offsets of 0, +-1, +-37 and +-4800 frames, on a stem that is silent in places and a master
 * that holds another, louder stem; and the same answer, to the bit, as a plain search that
 * scores every lag by its exact sum (the method before the two-stage search). */
#include "sg_test.h"

#include "verify/verify_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000u
#define SECONDS 12

static uint32_t rng = 1;
static float noise(void) {
  rng = rng * 1664525u + 1013904223u;
  return (float)((double)(rng >> 8) / 16777216.0 * 2.0 - 1.0);
}

/* A stem: plucked 98 Hz notes with noisy attacks every 0.5 s, silent over [3, 5) s and after
 * 10.5 s. */
static void make_stem(float *x, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    double t = (double)i / RATE, ph = fmod(t, 0.5);
    double env = exp(-ph * 8.0), atk = exp(-ph * 200.0);
    x[i] = (float)(0.5 * env * sin(2 * SG_PI * 98.0 * t) + 0.3 * atk * noise());
    if ((t >= 3.0 && t < 5.0) || t >= 10.5)
      x[i] = 0;
  }
}

static void to_mono(sg__mono *m, const float *x, size_t n) {
  assert_int_equal(sg__mono_open(m, RATE, 0, 1, NULL), SG_OK);
  assert_int_equal(sg__mono_add(m, x, n, NULL), SG_OK);
  assert_int_equal(sg__mono_finish(m, NULL), SG_OK);
}

/* The stem's activity map, as verify's meter of it holds one. */
static sg_meter *meter_of(const float *x, size_t n) {
  sg_meter *mt = NULL;
  assert_int_equal(sg_meter_create(&mt, 1, RATE, 0, NULL), SG_OK);
  assert_int_equal(sg_meter_add(mt, x, n), SG_OK);
  return mt;
}

/* The plain search in the window from frame best_i: every lag of +-8 ms around coarse scored by
 * its exact sequential sums. */
static double plain_offset(sg__mono *A, sg__mono *B, double coarse_s, size_t best_i, double *peak) {
  size_t N = 2 * (size_t)RATE;
  long M = (long)ceil(0.008 * RATE), c = lround(coarse_s * RATE);
  *peak = 0;
  float *a = malloc(N * sizeof *a), *b = malloc((N + 2 * (size_t)M + 2) * sizeof *b);
  assert_non_null(a);
  assert_non_null(b);
  long b0 = (long)best_i + c - M - 1;
  assert_int_equal(sg__mono_read(A, (int64_t)best_i, N, a, NULL), SG_OK);
  assert_int_equal(sg__mono_read(B, b0, N + 2 * (size_t)M + 2, b, NULL), SG_OK);
  double saa = 0;
  for (size_t k = 1; k < N; ++k) {
    double da = (double)a[k] - a[k - 1];
    saa += da * da;
  }
  double r[3] = {0, 0, 0}, bv = -2, prev = 0, prev2 = 0;
  long bl = 0;
  for (long l = c - M; l <= c + M; ++l) {
    double sab = 0, sbb = 0;
    for (size_t k = 1; k < N; ++k) {
      long j = (long)k + l - c + M + 1;
      double da = (double)a[k] - a[k - 1], db = (double)b[j] - b[j - 1];
      sab += da * db;
      sbb += db * db;
    }
    double v = saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
    if (l > c - M + 1 && prev > bv && prev >= v && prev >= prev2) {
      bv = prev;
      bl = l - 1;
      r[0] = prev2;
      r[1] = prev;
      r[2] = v;
    }
    prev2 = prev;
    prev = v;
  }
  free(a);
  free(b);
  if (!(bv > 0.05))
    return coarse_s;
  *peak = bv;
  double den = r[0] - 2 * r[1] + r[2];
  double fr = den < 0 ? 0.5 * (r[0] - r[2]) / den : 0;
  return ((double)bl + fr) / RATE;
}

static void lag_found(long off) {
  const size_t n = (size_t)SECONDS * RATE;
  float *stem = malloc(n * sizeof *stem), *mix = malloc(n * sizeof *mix);
  assert_non_null(stem);
  assert_non_null(mix);
  rng = 7;
  make_stem(stem, n);
  /* The master: the stem late by off frames, under a louder uncorrelated stem and a pad. */
  for (size_t i = 0; i < n; ++i) {
    long j = (long)i - off;
    double t = (double)i / RATE;
    mix[i] = (j >= 0 && j < (long)n ? stem[j] : 0.0f) +
             0.15f * noise() * (float)(fmod(t, 0.25) < 0.05) +
             (float)(0.3 * sin(2 * SG_PI * 220.0 * t));
  }
  sg__mono A, B;
  to_mono(&A, stem, n);
  to_mono(&B, mix, n);
  sg_meter *mt = meter_of(stem, n);
  /* The envelopes' estimate is a millisecond off either way. */
  for (int e = -1; e <= 1; e += 2) {
    double coarse = ((double)off + 48.0 * e) / RATE, at = 0, pk = 0, ppk = 0;
    int64_t w = sg__sync_window(mt, (int64_t)n, (int64_t)n, RATE, coarse);
    assert_true(w > 0);
    double lag = sg__waveform_offset(&A, &B, RATE, coarse, w, &at, &pk);
    double plain = plain_offset(&A, &B, coarse, (size_t)w, &ppk);
    fprintf(stderr, "offset %+ld frames, coarse %+.0f: found %+.3f frames (peak %.3f at %.2f s)\n",
            off, coarse * RATE, lag * RATE, pk, at);
    assert_true(fabs(lag * RATE - (double)off) < 1.0);
    assert_true(pk > 0.05); /* found: above the no-correlation floor */
    assert_true(at > 0);
    assert_memory_equal(&lag, &plain, sizeof lag); /* the plain search's answer, to the bit */
    assert_memory_equal(&pk, &ppk, sizeof pk);
  }
  sg_meter_free(mt);
  sg__mono_close(&A);
  sg__mono_close(&B);
  free(stem);
  free(mix);
}

static void lag_0(void **state) {
  (void)state;
  lag_found(0);
}
static void lag_plus_1(void **state) {
  (void)state;
  lag_found(1);
}
static void lag_minus_1(void **state) {
  (void)state;
  lag_found(-1);
}
static void lag_plus_37(void **state) {
  (void)state;
  lag_found(37);
}
static void lag_minus_37(void **state) {
  (void)state;
  lag_found(-37);
}
static void lag_plus_4800(void **state) {
  (void)state;
  lag_found(4800);
}
static void lag_minus_4800(void **state) {
  (void)state;
  lag_found(-4800);
}

/* A silent stem correlates with nothing: the coarse estimate comes back, with no peak. */
static void silent_stem_keeps_coarse(void **state) {
  (void)state;
  const size_t n = (size_t)SECONDS * RATE;
  float *stem = calloc(n, sizeof *stem), *mix = malloc(n * sizeof *mix);
  assert_non_null(stem);
  assert_non_null(mix);
  rng = 3;
  for (size_t i = 0; i < n; ++i)
    mix[i] = 0.5f * noise();
  sg__mono A, B;
  to_mono(&A, stem, n);
  to_mono(&B, mix, n);
  double at = 0, pk = 1, ppk = 1;
  sg_meter *mt = meter_of(stem, n);
  int64_t w = sg__sync_window(mt, (int64_t)n, (int64_t)n, RATE, 0.002);
  assert_true(w > 0); /* all windows equally silent: the first */
  double lag = sg__waveform_offset(&A, &B, RATE, 0.002, w, &at, &pk);
  assert_true(lag == 0.002);
  assert_true(pk == 0);
  assert_true(plain_offset(&A, &B, 0.002, (size_t)w, &ppk) == 0.002);
  sg_meter_free(mt);
  /* The stem against a master that does not hold it: nothing peaks, as in the plain search. */
  make_stem(stem, n);
  sg__mono_close(&A);
  to_mono(&A, stem, n);
  mt = meter_of(stem, n);
  w = sg__sync_window(mt, (int64_t)n, (int64_t)n, RATE, 0.002);
  lag = sg__waveform_offset(&A, &B, RATE, 0.002, w, &at, &pk);
  double plain = plain_offset(&A, &B, 0.002, (size_t)w, &ppk);
  assert_memory_equal(&lag, &plain, sizeof lag);
  assert_memory_equal(&pk, &ppk, sizeof pk);
  sg_meter_free(mt);
  sg__mono_close(&A);
  sg__mono_close(&B);
  free(stem);
  free(mix);
}

/* The window is the stem's loudest 2 s by its activity map, to the map's 50 ms, clear of the
 * files' ends by the lag searched; without a map the middle; none when the files are too short;
 * and a window outside the files' margins is refused (the coarse estimate comes back). */
static void window_is_loudest(void **state) {
  (void)state;
  const size_t n = (size_t)SECONDS * RATE, loud = (size_t)(6.3 * RATE);
  float *stem = malloc(n * sizeof *stem);
  assert_non_null(stem);
  rng = 11;
  for (size_t i = 0; i < n; ++i)
    stem[i] = (i >= loud && i < loud + 2 * RATE ? 0.5f : 0.05f) * noise();
  sg_meter *mt = meter_of(stem, n);
  assert_int_equal(sg__sync_window(mt, (int64_t)n, (int64_t)n, RATE, 0.002), (int64_t)loud);
  assert_int_equal(sg__sync_window(mt, (int64_t)n, (int64_t)n, RATE, -0.1), (int64_t)loud);
  /* The loud part too near the master's end for a 0.1-s lag: the best window left ends sooner. */
  int64_t nb = (int64_t)loud + 2 * RATE + 2400;
  int64_t w = sg__sync_window(mt, (int64_t)n, nb, RATE, 0.1);
  assert_true(w >= 0 && w < (int64_t)loud && w + 2 * RATE + 0.108 * RATE <= nb);
  assert_int_equal(sg__sync_window(NULL, (int64_t)n, (int64_t)n, RATE, 0),
                   (int64_t)(n - 2 * RATE) / 2);
  assert_int_equal(sg__sync_window(mt, 2 * RATE + 100, (int64_t)n, RATE, 0), -1);
  sg__mono A;
  to_mono(&A, stem, n);
  double at = 1, pk = 1;
  assert_true(sg__waveform_offset(&A, &A, RATE, 0.002, 0, &at, &pk) == 0.002);
  assert_true(pk == 0 && at == 0);
  assert_true(sg__waveform_offset(&A, &A, RATE, 0.002, (int64_t)(n - 2 * RATE), &at, &pk) == 0.002);
  sg__mono_close(&A);
  sg_meter_free(mt);
  free(stem);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lag_0),
      cmocka_unit_test(lag_plus_1),
      cmocka_unit_test(lag_minus_1),
      cmocka_unit_test(lag_plus_37),
      cmocka_unit_test(lag_minus_37),
      cmocka_unit_test(lag_plus_4800),
      cmocka_unit_test(lag_minus_4800),
      cmocka_unit_test(silent_stem_keeps_coarse),
      cmocka_unit_test(window_is_loudest),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
