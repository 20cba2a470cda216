/* Compressor against Giannoulis, Massberg & Reiss (2012): static curve from steady sines within
 * 0.25 dB (peak and RMS detection), exact one-pole attack/release of the log-domain detector,
 * stereo link, external sidechain (ducking), statistics, denormal safety, reset determinism. */
#include "sg_test.h"

#include "fx_test_util.h"
#include "stemgate/dsp.h"
#include "stemgate/fx.h"

#include <stdio.h>

#define RATE 48000.0

static void static_curve_formula(void **state) {
  (void)state;
  sg_compressor_config c;
  sg_compressor_config_init(&c);
  c.threshold_db = -20, c.ratio = 4, c.knee_db = 10, c.makeup_db = 3;
  /* Below the knee: identity (+ make-up); above: T + (x - T)/R; knee: quadratic, continuous. */
  assert_float_equal(sg_compressor_static_db(&c, -40), -37, 1e-12);
  assert_float_equal(sg_compressor_static_db(&c, -25), -22, 1e-12);
  assert_float_equal(sg_compressor_static_db(&c, 0), -20 + 20.0 / 4 + 3, 1e-12);
  assert_float_equal(sg_compressor_static_db(&c, -15), -20 + 5.0 / 4 + 3, 1e-12);
  /* At the threshold the knee gives x + (1/R - 1) (W/2)^2 / (2W) = -20 - 0.9375. */
  assert_float_equal(sg_compressor_static_db(&c, -20), -20 - 0.9375 + 3, 1e-12);
  double prev = -1e9;
  for (double x = -40; x <= 0; x += 0.01) {
    double y = sg_compressor_static_db(&c, x);
    assert_true(y >= prev - 1e-12); /* monotonic, continuous */
    if (prev > -1e8)
      assert_true(y - prev < 0.011);
    prev = y;
  }
}

/* Drives a 1 kHz sine at level_db (peak or RMS dBFS) and returns the steady gain in dB. */
static double steady_gain_db(const sg_compressor_config *c, double amp, int rms) {
  sg_compressor st;
  assert_int_equal(sg_compressor_init(&st, c, RATE), SG_OK);
  size_t n = (size_t)(1.5 * RATE), tail = 24000;
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *ref = fxt_alloc(n);
  fxt_sine(L, n, amp, 1000, RATE, 0.1);
  memcpy(R, L, n * sizeof(float));
  memcpy(ref, L, n * sizeof(float));
  sg_compressor_process(&st, L, R, NULL, NULL, n);
  double g = rms ? fxt_rms(L + n - tail, tail) / fxt_rms(ref + n - tail, tail)
                 : fxt_peak(L + n - tail, tail) / fxt_peak(ref + n - tail, tail);
  free(L), free(R), free(ref);
  return 20 * log10(g);
}

static void static_curve_from_steady_sines(void **state) {
  (void)state;
  sg_compressor_config c;
  sg_compressor_config_init(&c);
  c.threshold_db = -24, c.ratio = 5, c.knee_db = 8, c.makeup_db = 2;
  c.attack_ms = 0.2, c.release_ms = 2000; /* detector settles on the waveform's peak */
  double worst = 0;
  for (double lvl = -40; lvl <= 0; lvl += 2) {
    double amp = pow(10, lvl / 20);
    /* The sine's sample peak is what the peak detector sees. */
    float tmp[48];
    fxt_sine(tmp, 48, amp, 1000, RATE, 0.1);
    double pk_db = 20 * log10(fxt_peak(tmp, 48));
    double want = sg_compressor_static_db(&c, pk_db) - pk_db;
    double got = steady_gain_db(&c, amp, 0);
    worst = fmax(worst, fabs(got - want));
    if (fabs(got - want) > 0.25)
      fail_msg("peak: level %g dB: gain %.3f dB, static curve %.3f dB (limit 0.25)", lvl, got,
               want);
  }
  printf("peak detector: worst static-curve error %.3f dB (limit 0.25)\n", worst);
  c.detector = SG_DETECT_RMS, c.rms_ms = 50, c.attack_ms = 5, c.release_ms = 200;
  worst = 0;
  for (double lvl = -40; lvl <= 0; lvl += 4) {
    double amp = pow(10, lvl / 20), rms_db = 20 * log10(amp / sqrt(2.0));
    double want = sg_compressor_static_db(&c, rms_db) - rms_db;
    double got = steady_gain_db(&c, amp, 1);
    worst = fmax(worst, fabs(got - want));
    if (fabs(got - want) > 0.25)
      fail_msg("rms: level %g dB: gain %.3f dB, static curve %.3f dB (limit 0.25)", lvl, got, want);
  }
  printf("rms detector: worst static-curve error %.3f dB (limit 0.25)\n", worst);
}

static void attack_and_release_time_constants(void **state) {
  (void)state;
  sg_compressor_config c;
  sg_compressor_config_init(&c);
  c.threshold_db = -20, c.ratio = 4, c.knee_db = 0, c.attack_ms = 5, c.release_ms = 50;
  sg_compressor st;
  assert_int_equal(sg_compressor_init(&st, &c, RATE), SG_OK);
  /* A constant 0 dBFS input wants 15 dB of reduction; the detector is one-pole in dB:
   * y(t) = 15 (1 - exp(-t / tau_a)), then 15 exp(-t / tau_r) after the input drops. */
  size_t n = 48000;
  float *L = fxt_alloc(n);
  for (size_t i = 0; i < n; ++i)
    L[i] = i < 24000 ? 1.0f : 0.001f;
  sg_compressor_process(&st, L, NULL, NULL, NULL, n);
  size_t ta = (size_t)(0.005 * RATE); /* one attack time constant after the step */
  double gr_a = -20 * log10(L[ta - 1]);
  printf("attack: %.3f dB after tau (theory %.3f)\n", gr_a, 15 * (1 - exp(-1.0)));
  assert_float_equal(gr_a, 15 * (1 - exp(-1.0)), 0.1);
  assert_float_equal(-20 * log10(L[23999]), 15.0, 0.01);
  size_t tr = 24000 + (size_t)(0.05 * RATE);
  double gr_r = -20 * log10(L[tr - 1] / 0.001f);
  printf("release: %.3f dB after tau (theory %.3f)\n", gr_r, 15 * exp(-1.0));
  assert_float_equal(gr_r, 15 * exp(-1.0), 0.1);
  double mx, mean;
  sg_compressor_stats(&st, &mx, &mean);
  assert_float_equal(mx, 15.0, 0.01);
  assert_true(mean > 5 && mean < 10);
  free(L);
}

static void stereo_link_and_sidechain(void **state) {
  (void)state;
  sg_compressor_config c;
  sg_compressor_config_init(&c);
  c.threshold_db = -30, c.ratio = 10, c.attack_ms = 1, c.release_ms = 50;
  sg_compressor st;
  assert_int_equal(sg_compressor_init(&st, &c, RATE), SG_OK);
  size_t n = 24000;
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *L0 = fxt_alloc(n), *R0 = fxt_alloc(n);
  fxt_sine(L, n, 0.9, 220, RATE, 0);
  fxt_sine(R, n, 0.01, 330, RATE, 0);
  memcpy(L0, L, n * sizeof(float));
  memcpy(R0, R, n * sizeof(float));
  sg_compressor_process(&st, L, R, NULL, NULL, n);
  /* Linked: the quiet right channel gets exactly the loud left channel's gain. */
  for (size_t i = 100; i < n; i += 97)
    if (fabs(L0[i]) > 0.1)
      assert_float_equal(R[i] / R0[i], L[i] / L0[i], 1e-4);
  assert_true(fxt_rms(R + n / 2, n / 2) < 0.5 * fxt_rms(R0 + n / 2, n / 2));

  /* Ducking: a bass at -20 dBFS (below threshold -12) is untouched alone, and drops while
   * the kick in the sidechain hits. */
  c.threshold_db = -12, c.ratio = 8, c.attack_ms = 1, c.release_ms = 80, c.knee_db = 0;
  assert_int_equal(sg_compressor_init(&st, &c, RATE), SG_OK);
  float *side = fxt_alloc(n);
  fxt_sine(L, n, 0.1, 55, RATE, 0);
  memcpy(L0, L, n * sizeof(float));
  for (size_t i = 12000; i < 14400; ++i)
    side[i] = (float)(0.9 * sin(2 * SG_PI * 60 * (double)i / RATE));
  sg_compressor_process(&st, L, NULL, side, NULL, n);
  double before = fxt_rms(L + 6000, 4800) / fxt_rms(L0 + 6000, 4800);
  double during = fxt_rms(L + 12960, 1440) / fxt_rms(L0 + 12960, 1440);
  printf("ducking: gain before %.2f dB, during kick %.2f dB\n", 20 * log10(before),
         20 * log10(during));
  assert_float_equal(20 * log10(before), 0.0, 0.01);
  assert_true(20 * log10(during) < -6.0);
  free(L), free(R), free(L0), free(R0), free(side);
}

static void silence_after_loud_and_reset(void **state) {
  (void)state;
  sg_compressor_config c;
  sg_compressor_config_init(&c);
  c.detector = SG_DETECT_RMS;
  c.makeup_db = 6;
  sg_compressor st;
  assert_int_equal(sg_compressor_init(&st, &c, RATE), SG_OK);
  size_t n = 96000;
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *L2 = fxt_alloc(n), *R2 = fxt_alloc(n);
  sg_rng rng;
  sg_rng_seed(&rng, 11, 2);
  for (size_t i = 0; i < 9600; ++i)
    L[i] = R[i] = (float)sg_rng_range(&rng, -1, 1);
  L[50000] = 1e-38f; /* a denormal-range input after silence */
  memcpy(L2, L, n * sizeof(float));
  memcpy(R2, R, n * sizeof(float));
  sg_compressor_process(&st, L, R, NULL, NULL, n);
  assert_true(fxt_all_finite(L, n) && fxt_all_finite(R, n));
  sg_compressor_reset(&st);
  sg_compressor_process(&st, L2, R2, NULL, NULL, 1000);
  sg_compressor_process(&st, L2 + 1000, R2 + 1000, NULL, NULL, n - 1000); /* block split */
  assert_memory_equal(L, L2, n * sizeof(float));
  assert_memory_equal(R, R2, n * sizeof(float));
  free(L), free(R), free(L2), free(R2);
}

/* The AVX2 build (x86-64 with AVX2) and the baseline build give the same bits: peak and RMS
 * detectors, a soft and a hard knee, make-up gain, a sidechain, blocks of odd lengths, music
 * that moves in and out of the knee. Without AVX2 both run the baseline. */
static void avx2_build_equals_baseline(void **state) {
  (void)state;
  const size_t n = 48000;
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *L2 = fxt_alloc(n), *R2 = fxt_alloc(n);
  float *S = fxt_alloc(n);
  sg_rng rng;
  sg_rng_seed(&rng, 3, 9);
  for (size_t i = 0; i < n; ++i) {
    const double env = 0.5 + 0.5 * sin(2 * SG_PI * 3.0 * (double)i / 48000.0);
    L[i] = (float)(env * sg_rng_range(&rng, -1, 1)),
    R[i] = (float)(env * sg_rng_range(&rng, -1, 1));
    S[i] = (float)(i % 12000 < 2000 ? sg_rng_range(&rng, -1, 1) : 0.0);
  }
  for (int cfg = 0; cfg < 3; ++cfg) {
    sg_compressor_config c;
    sg_compressor_config_init(&c);
    c.threshold_db = -20, c.makeup_db = 3;
    if (cfg == 1)
      c.detector = SG_DETECT_RMS, c.knee_db = 0;
    sg_compressor a, b;
    assert_int_equal(sg_compressor_init(&a, &c, 48000), SG_OK);
    assert_int_equal(sg_compressor_init(&b, &c, 48000), SG_OK);
    a.avx2 = 0, b.avx2 = sg_dsp_avx2();
    memcpy(L2, L, n * sizeof(float)), memcpy(R2, R, n * sizeof(float));
    float *l1 = fxt_alloc(n), *r1 = fxt_alloc(n);
    memcpy(l1, L, n * sizeof(float)), memcpy(r1, R, n * sizeof(float));
    for (size_t i = 0, m = 333; i < n; i += m) {
      const size_t k = n - i < m ? n - i : m;
      sg_compressor_process(&a, l1 + i, r1 + i, cfg == 2 ? S + i : NULL, cfg == 2 ? S + i : NULL,
                            k);
      sg_compressor_process(&b, L2 + i, R2 + i, cfg == 2 ? S + i : NULL, cfg == 2 ? S + i : NULL,
                            k);
    }
    assert_memory_equal(l1, L2, n * sizeof(float));
    assert_memory_equal(r1, R2, n * sizeof(float));
    double mx = 0;
    sg_compressor_stats(&a, &mx, NULL);
    assert_true(mx > 3); /* it did compress */
    free(l1), free(r1);
  }
  free(L), free(R), free(L2), free(R2), free(S);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(static_curve_formula),
      cmocka_unit_test(static_curve_from_steady_sines),
      cmocka_unit_test(attack_and_release_time_constants),
      cmocka_unit_test(stereo_link_and_sidechain),
      cmocka_unit_test(silence_after_loud_and_reset),
      cmocka_unit_test(avx2_build_equals_baseline),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
