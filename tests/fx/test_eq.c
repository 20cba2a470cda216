/* EQ against theory: realised cookbook coefficients vs the analog prototype at the warped
 * frequency (< 0.1 dB), measured sine responses (< 0.1 dB), Butterworth -3.01 dB at cutoff and
 * 6.02*N dB/octave, zero-phase mode, smoothing, denormal safety, reset determinism. */
#include "sg_test.h"

#include "fx_test_util.h"
#include "stemgate/fx.h"

#include <stdio.h>

#define RATE 48000.0

static const double k_freqs[] = {25, 60, 150, 400, 1000, 2500, 6000, 12000, 18000, 22000};

static void realised_matches_analytic(void **state) {
  (void)state;
  const double qs[] = {0.5, 0.7071, 2.0, 8.0}, gains[] = {-12, -3, 6, 15};
  const double rates[] = {44100, 48000, 96000};
  double worst = 0;
  for (int ri = 0; ri < 3; ++ri)
    for (int t = 0; t < SG_EQ_TYPE_COUNT_; ++t)
      for (int qi = 0; qi < 4; ++qi)
        for (int gi = 0; gi < 4; ++gi)
          for (double f0 = 100; f0 < 15000; f0 *= 3.7) {
            sg_eq_config c;
            sg_eq_config_init(&c);
            c.type = (sg_eq_type)t, c.freq_hz = f0, c.q = qs[qi], c.gain_db = gains[gi];
            sg_eq st;
            assert_int_equal(sg_eq_init(&st, &c, rates[ri]), SG_OK);
            for (size_t k = 0; k < sizeof k_freqs / sizeof *k_freqs; ++k) {
              if (k_freqs[k] >= rates[ri] / 2)
                continue;
              double a = sg_eq_magnitude_db(&c, rates[ri], k_freqs[k]);
              double r = sg_eq_response_db(&st, k_freqs[k]);
              if (a < -80) /* deep in a notch / stopband: compare where it is meaningful */
                continue;
              double e = fabs(a - r);
              if (e > worst)
                worst = e;
              if (e > 0.1)
                fail_msg("%s f0=%g q=%g g=%g at %g Hz, fs %g: analytic %.4f realised %.4f dB",
                         sg_eq_type_name(c.type), f0, c.q, c.gain_db, k_freqs[k], rates[ri], a, r);
            }
          }
  printf("realised vs analytic: worst %.2e dB (limit 0.1)\n", worst);
  /* Spot values from the cookbook definitions: peak gain at f0, shelf midpoint gain/2,
   * band-pass 0 dB at f0, notch deep at f0. */
  sg_eq_config c;
  sg_eq_config_init(&c);
  c.type = SG_EQ_PEAK, c.freq_hz = 1000, c.gain_db = 9, c.q = 1.4;
  assert_float_equal(sg_eq_magnitude_db(&c, RATE, 1000), 9.0, 1e-9);
  c.type = SG_EQ_LOWSHELF, c.gain_db = -8;
  assert_float_equal(sg_eq_magnitude_db(&c, RATE, 1000), -4.0, 1e-9);
  c.type = SG_EQ_HIGHSHELF, c.gain_db = 6;
  assert_float_equal(sg_eq_magnitude_db(&c, RATE, 1000), 3.0, 1e-9);
  assert_float_equal(sg_eq_magnitude_db(&c, RATE, 23000), 6.0, 0.05);
  c.type = SG_EQ_BANDPASS;
  assert_float_equal(sg_eq_magnitude_db(&c, RATE, 1000), 0.0, 1e-9);
  c.type = SG_EQ_NOTCH;
  assert_true(sg_eq_magnitude_db(&c, RATE, 1000) < -100);
}

/* Steady-state amplitude of a sine through the EQ, after the transient has died away. */
static double measured_db(const sg_eq_config *c, double f) {
  sg_eq st;
  assert_int_equal(sg_eq_init(&st, c, RATE), SG_OK);
  size_t settle = (size_t)RATE, n = (size_t)RATE; /* 1 s each: integer cycles for integer f */
  float *x = fxt_alloc(settle + n);
  fxt_sine(x, settle + n, 0.5, f, RATE, 0.3);
  sg_eq_process(&st, x, NULL, settle + n);
  double a = fxt_tone_amp(x + settle, n, f, RATE, NULL);
  free(x);
  return 20 * log10(a / 0.5);
}

static void measured_sine_response(void **state) {
  (void)state;
  struct {
    sg_eq_type t;
    double f0, q, g;
    int order;
  } cases[] = {{SG_EQ_LOWPASS, 1000, 0.7071, 0, 2},   {SG_EQ_HIGHPASS, 300, 2.0, 0, 2},
               {SG_EQ_BANDPASS, 2000, 4.0, 0, 2},     {SG_EQ_NOTCH, 700, 1.0, 0, 2},
               {SG_EQ_PEAK, 500, 1.5, 9, 2},          {SG_EQ_LOWSHELF, 200, 0.7071, -6, 2},
               {SG_EQ_HIGHSHELF, 5000, 0.7071, 4, 2}, {SG_EQ_LOWPASS, 2000, 0.7071, 0, 6}};
  const double probe[] = {100, 500, 1000, 2000, 5000};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
    sg_eq_config c;
    sg_eq_config_init(&c);
    c.type = cases[i].t, c.freq_hz = cases[i].f0, c.q = cases[i].q, c.gain_db = cases[i].g;
    c.order = cases[i].order;
    for (size_t k = 0; k < 5; ++k) {
      double a = sg_eq_magnitude_db(&c, RATE, probe[k]);
      if (a < -60)
        continue; /* the sine would sit near float noise */
      double m = measured_db(&c, probe[k]);
      if (fabs(a - m) > 0.1)
        fail_msg("%s order %d at %g Hz: analytic %.3f measured %.3f dB (limit 0.1)",
                 sg_eq_type_name(c.type), c.order, probe[k], a, m);
    }
  }
}

static void butterworth_cascades(void **state) {
  (void)state;
  for (int N = 1; N <= 8; ++N) {
    sg_eq_config c;
    sg_eq_config_init(&c);
    c.type = SG_EQ_LOWPASS, c.freq_hz = 1000, c.order = N;
    sg_eq st;
    assert_int_equal(sg_eq_init(&st, &c, RATE), SG_OK);
    /* -3.01 dB at the cutoff for every order (realised coefficients). */
    assert_float_equal(sg_eq_response_db(&st, 1000), -3.0103, 0.01);
    /* High-pass far below the warping region: slope between fc/16 and fc/8 = 6.02 N dB/oct. */
    c.type = SG_EQ_HIGHPASS, c.freq_hz = 4000;
    assert_int_equal(sg_eq_init(&st, &c, RATE), SG_OK);
    assert_float_equal(sg_eq_response_db(&st, 4000), -3.0103, 0.01);
    double slope = sg_eq_response_db(&st, 500) - sg_eq_response_db(&st, 250);
    printf("order %d: -3 dB ok, slope %.3f dB/oct (theory %.3f)\n", N, slope, 6.0206 * N);
    assert_float_equal(slope, 6.0206 * N, 0.1);
    /* Measured: a 4 kHz sine at the cutoff is 3 dB down. */
    if (N == 4 || N == 7)
      assert_float_equal(measured_db(&c, 4000), -3.0103, 0.1);
  }
}

static void zero_phase_mode(void **state) {
  (void)state;
  sg_eq_config c;
  sg_eq_config_init(&c);
  c.type = SG_EQ_LOWPASS, c.freq_hz = 800, c.order = 4;
  size_t n = 48000;
  float *x = fxt_alloc(n);
  x[n / 2] = 1.0f;
  assert_int_equal(sg_eq_filtfilt(&c, RATE, x, n), SG_OK);
  /* Impulse response symmetric about the impulse (zero phase). */
  for (size_t k = 1; k < 2000; ++k)
    assert_float_equal(x[n / 2 + k], x[n / 2 - k], 1e-6);
  /* A sine keeps its phase and sees |H|^2 (twice the dB). */
  fxt_sine(x, n, 0.5, 600, RATE, 0.0);
  assert_int_equal(sg_eq_filtfilt(&c, RATE, x, n), SG_OK);
  double ph, a = fxt_tone_amp(x + 12000, 24000, 600, RATE, &ph);
  double want = 2 * sg_eq_magnitude_db(&c, RATE, 600);
  printf("filtfilt 600 Hz: %.3f dB (want %.3f), phase %.2e rad\n", 20 * log10(a / 0.5), want, ph);
  assert_float_equal(20 * log10(a / 0.5), want, 0.1);
  assert_float_equal(ph, 0.0, 0.01);
  free(x);
}

static void smoothing_glides_without_jumps(void **state) {
  (void)state;
  sg_eq_config c;
  sg_eq_config_init(&c);
  c.type = SG_EQ_PEAK, c.freq_hz = 1000, c.q = 1, c.gain_db = 0;
  sg_eq st;
  assert_int_equal(sg_eq_init(&st, &c, RATE), SG_OK);
  size_t n = 48000;
  float *x = fxt_alloc(n);
  fxt_sine(x, n, 0.25, 1000, RATE, 0);
  sg_eq_process(&st, x, NULL, 4800);
  c.gain_db = 12;
  sg_eq_set(&st, &c);
  sg_eq_process(&st, x + 4800, NULL, n - 4800);
  /* Largest sample step stays that of a 1 kHz sine at the final level (no click):
   * 2 pi f / fs * A = 0.131 * 0.25 * 4 = 0.131. */
  double maxstep = 0;
  for (size_t i = 1; i < n; ++i)
    maxstep = fmax(maxstep, fabs(x[i] - x[i - 1]));
  assert_true(maxstep < 0.14);
  /* Converged to the new response. */
  assert_float_equal(20 * log10(fxt_tone_amp(x + 24000, 24000, 1000, RATE, NULL) / 0.25), 12.0,
                     0.05);
  free(x);
}

static void silence_after_loud_and_reset(void **state) {
  (void)state;
  sg_eq_config c;
  sg_eq_config_init(&c);
  c.type = SG_EQ_LOWPASS, c.freq_hz = 30, c.order = 8;
  sg_eq st;
  assert_int_equal(sg_eq_init(&st, &c, RATE), SG_OK);
  size_t n = 96000;
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *L2 = fxt_alloc(n);
  sg_rng rng;
  sg_rng_seed(&rng, 7, 1);
  for (size_t i = 0; i < 4800; ++i)
    L[i] = R[i] = (float)sg_rng_range(&rng, -1, 1);
  memcpy(L2, L, n * sizeof(float));
  sg_eq_process(&st, L, R, n);
  assert_true(fxt_all_finite(L, n) && fxt_all_finite(R, n));
  assert_true(fxt_peak(L + n - 1000, 1000) < 1e-6);
  sg_eq_reset(&st);
  sg_eq_process(&st, L2, NULL, n);
  assert_memory_equal(L, L2, n * sizeof(float));
  free(L), free(R), free(L2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(realised_matches_analytic),
      cmocka_unit_test(measured_sine_response),
      cmocka_unit_test(butterworth_cascades),
      cmocka_unit_test(zero_phase_mode),
      cmocka_unit_test(smoothing_glides_without_jumps),
      cmocka_unit_test(silence_after_loud_and_reset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
