/* Effects evidence: RT60 of exponentially decaying noise (with and without a noise floor), tail
 * length, and echo detection at a known lag (present with an echo, absent without). */
#include "analysis_gen.h"
#include "sg_test.h"

#include "stemgate/analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000u

static sg_features *features_of(const float *x, size_t n) {
  sg_features_config c;
  sg_features_config_init(&c);
  c.flags = SG_FEAT_ONSET | SG_FEAT_ENERGY;
  sg_features *f = NULL;
  assert_int_equal(sg_features_from_mono(&f, x, n, RATE, &c, NULL), SG_OK);
  return f;
}

/* A few dry hits, then a final burst whose amplitude falls 60 dB in rt60 seconds. */
static float *decay_signal(double rt60, double noise_floor, size_t *n_out, uint64_t seed) {
  const double secs = 4.0, t_last = 1.0;
  size_t n = (size_t)(secs * RATE);
  float *x = calloc(n, sizeof *x);
  assert_non_null(x);
  sg_rng g;
  sg_rng_seed(&g, seed, 2);
  for (int i = 0; i < 3; ++i)
    gen_burst(x, n, RATE, 0.2 + 0.25 * i, 0.3, 0.01, 0.08, &g);
  double tau = rt60 / log(1000.0); /* amplitude e^(-t/tau): -60 dB at rt60 */
  gen_burst(x, n, RATE, t_last, 0.3, tau, secs - t_last, &g);
  for (size_t i = 0; i < n && noise_floor > 0; ++i)
    x[i] += (float)(noise_floor * sg_rng_normal(&g));
  *n_out = n;
  return x;
}

static void rt60_of_decaying_noise(void **state) {
  (void)state;
  static const double rts[] = {0.4, 0.8, 1.5};
  for (size_t i = 0; i < 3; ++i)
    for (int fl = 0; fl < 2; ++fl) {
      size_t n;
      double floor_rms = fl ? 3e-4 : 0; /* about -70 dBFS of steady noise */
      float *x = decay_signal(rts[i], floor_rms, &n, 10 + i);
      sg_features *f = features_of(x, n);
      sg_decay_result r;
      assert_int_equal(sg_decay_tail(f, NULL, &r), SG_OK);
      /* The burst's RMS is 0.3 (-10.5 dBFS): it reaches the -60 dBFS floor after 49.5 dB. */
      double tail = rts[i] * (60 + 20 * log10(0.3)) / 60;
      printf("rt60 %.2f s (floor %s, seed %zu): %.3f s, fit %.0f..%.0f dB r2 %.4f, tail %.3f s "
             "(expect %.3f), start %.3f s, noise %.1f dBFS\n",
             rts[i], fl ? "-70 dBFS" : "none", 10 + i, r.rt60_s, r.fit_top_db, r.fit_bottom_db,
             r.fit_r2, r.tail_s, tail, r.start_s, r.noise_floor_dbfs);
      assert_true(fabs(r.rt60_s / rts[i] - 1) < 0.15); /* within 15% */
      assert_true(fabs(r.start_s - 1.0) < 0.02);
      assert_true(r.fit_r2 > 0.95);
      if (rts[i] < 2.0)
        assert_true(fabs(r.tail_s / tail - 1) < 0.15);
      sg_features_free(f);
      free(x);
    }
}

static void no_decay_without_onsets(void **state) {
  (void)state;
  size_t n = RATE;
  float *z = calloc(n, sizeof *z);
  assert_non_null(z);
  sg_features *f = features_of(z, n);
  sg_decay_result r;
  assert_int_equal(sg_decay_tail(f, NULL, &r), SG_E_NOTFOUND);
  sg_features_free(f);
  free(z);
}

/* Irregular bursts (so the dry envelope has no periodicity), optionally echoed at lag with gain. */
static float *bursts(double secs, double lag, double gain, uint64_t seed, size_t *n_out) {
  size_t n = (size_t)(secs * RATE);
  float *x = calloc(n, sizeof *x);
  assert_non_null(x);
  sg_rng g;
  sg_rng_seed(&g, seed, 4);
  for (double t = 0.1; t < secs - 0.5; t += 0.1 + sg_rng_range(&g, 0, 0.4))
    gen_burst(x, n, RATE, t, 0.3, 0.015, 0.06, &g);
  if (gain > 0) {
    long L = lround(lag * RATE);
    for (long i = (long)n - 1; i >= L; --i)
      x[i] += (float)gain * x[i - L];
  }
  *n_out = n;
  return x;
}

static void echo_detected_at_lag(void **state) {
  (void)state;
  /* Dotted eighth at 120 BPM: 0.375 s, echo gain 0.5; three seeds of irregular bursts. */
  for (uint64_t seed = 99; seed < 102; ++seed) {
    size_t n;
    float *x = bursts(12, 0.375, 0.5, seed, &n);
    sg_features *f = features_of(x, n);
    sg_echo_result r;
    assert_int_equal(sg_echo_at_lag(f, 0.375, 0.1, &r), SG_OK);
    printf("echo (seed %u): lag %.4f s acf %.3f neighbours %.3f prominence %.3f spread %.3f "
           "gain %.2f\n",
           (unsigned)seed, r.lag_s, r.acf, r.neighbours, r.prominence, r.spread, r.gain_estimate);
    assert_true(r.detected);
    assert_true(fabs(r.lag_s - 0.375) < 0.003);
    assert_true(fabs(r.gain_estimate - 0.5) < 0.2);
    /* A lag where there is no echo: nothing. */
    assert_int_equal(sg_echo_at_lag(f, 0.25, 0.1, &r), SG_OK);
    printf("  at 0.25 s: acf %.3f prominence %.3f spread %.3f\n", r.acf, r.prominence, r.spread);
    assert_false(r.detected);
    sg_features_free(f);
    free(x);

    x = bursts(12, 0.375, 0, seed, &n);
    f = features_of(x, n);
    assert_int_equal(sg_echo_at_lag(f, 0.375, 0.1, &r), SG_OK);
    printf("  dry: acf %.3f prominence %.3f spread %.3f\n", r.acf, r.prominence, r.spread);
    assert_false(r.detected);
    assert_int_equal(sg_echo_at_lag(f, 20.0, 0.1, &r), SG_E_RANGE); /* beyond half the file */
    sg_features_free(f);
    free(x);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rt60_of_decaying_noise),
      cmocka_unit_test(no_decay_without_onsets),
      cmocka_unit_test(echo_detected_at_lag),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
