/* Saturation: 4x oversampling lowers aliasing (energy at folded harmonic frequencies) by a
 * large margin while keeping the in-band harmonics; exact integer latency with the dry path
 * aligned; DC blocking of the asymmetric curve; width (mid/side) and the -3 dB pan law. */
#include "sg_test.h"

#include "fx_test_util.h"
#include "stemgate/fx.h"

#include <stdio.h>

#define RATE 48000.0

/* Sum of energies at the frequencies where odd/even harmonics of f0 above Nyquist fold to
 * (aliases), and the energy of the in-band 3rd harmonic. */
static void alias_measure(int os, double *alias_db, double *h3_db) {
  sg_saturation_config c;
  sg_saturation_config_init(&c);
  c.drive_db = 18, c.oversample = os, c.asym = 0.2;
  sg_saturation st;
  assert_int_equal(sg_saturation_init(&st, &c, RATE), SG_OK);
  const double f0 = 5000;
  size_t n = 16384, skip = 4096;
  float *L = fxt_alloc(n + skip), *R = fxt_alloc(n + skip);
  fxt_sine(L, n + skip, 0.9, f0, RATE, 0);
  memcpy(R, L, (n + skip) * sizeof(float));
  sg_saturation_process(&st, L, R, n + skip);
  double e = 0;
  for (int k = 5; k <= 40; ++k) {
    double f = fmod(k * f0, RATE);
    if (f > RATE / 2)
      f = RATE - f;
    if (k * f0 < RATE / 2 || fmod(f, f0) == 0) /* in band, or lands on a true harmonic */
      continue;
    double a = fxt_hann_amp(L + skip, n, f, RATE);
    e += a * a;
  }
  *alias_db = 10 * log10(e + 1e-30);
  *h3_db = 20 * log10(fxt_hann_amp(L + skip, n, 3 * f0, RATE));
  free(L), free(R);
}

static void oversampling_reduces_aliasing(void **state) {
  (void)state;
  double a1, h1, a4, h4;
  alias_measure(1, &a1, &h1);
  alias_measure(4, &a4, &h4);
  printf("alias energy: %.1f dB without oversampling, %.1f dB at 4x (%.1f dB lower); "
         "3rd harmonic %.1f / %.1f dB\n",
         a1, a4, a1 - a4, h1, h4);
  assert_true(a1 - a4 > 30.0);
  assert_float_equal(h1, h4, 1.0);
}

static void latency_and_dry_alignment(void **state) {
  (void)state;
  sg_saturation_config c;
  sg_saturation_config_init(&c);
  c.drive_db = 0, c.mix = 1;
  sg_saturation st;
  assert_int_equal(sg_saturation_init(&st, &c, RATE), SG_OK);
  size_t lat = sg_saturation_latency(&st), n = 48000;
  assert_int_equal(lat, 48);
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *in = fxt_alloc(n);
  /* A low-level 1 kHz tone: tanh is linear there, so the output is the input delayed. */
  fxt_sine(in, n, 0.001, 1000, RATE, 0.2);
  memcpy(L, in, n * sizeof(float));
  memcpy(R, in, n * sizeof(float));
  sg_saturation_process(&st, L, R, n);
  /* The only deviation left is the 5 Hz DC blocker's phase at 1 kHz (~0.005 rad, 5e-6);
   * one frame off would be 2 pi 1000/48000 * 1e-3 = 1.3e-4. */
  double err[3] = {0, 0, 0};
  for (int d = -1; d <= 1; ++d)
    for (size_t i = 4800; i < n; ++i)
      err[d + 1] = fmax(err[d + 1], fabs(L[i] - in[i - lat + d]));
  printf("latency %zu: max deviation from the input delayed by lat-1, lat, lat+1: %.2e %.2e "
         "%.2e (amplitude 1e-3)\n",
         lat, err[0], err[1], err[2]);
  assert_true(err[1] < 1e-5);
  assert_true(err[0] > 1e-4 && err[2] > 1e-4);
  /* Half wet at high drive: the dry half is aligned, so the tone does not comb-filter. */
  c.mix = 0.5, c.drive_db = 0;
  assert_int_equal(sg_saturation_init(&st, &c, RATE), SG_OK);
  memcpy(L, in, n * sizeof(float));
  memcpy(R, in, n * sizeof(float));
  sg_saturation_process(&st, L, R, n);
  for (size_t i = 4800; i < n; ++i)
    assert_float_equal(L[i], in[i - lat], 1e-5);
  free(L), free(R), free(in);
}

static void dc_blocked_and_finite(void **state) {
  (void)state;
  sg_saturation_config c;
  sg_saturation_config_init(&c);
  c.drive_db = 24, c.asym = 1.0;
  sg_saturation st;
  assert_int_equal(sg_saturation_init(&st, &c, RATE), SG_OK);
  size_t n = 96000;
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *L2 = fxt_alloc(n), *R2 = fxt_alloc(n);
  fxt_sine(L, 72000, 0.5, 220, RATE, 0);
  memcpy(R, L, n * sizeof(float));
  L[80000] = 1e-40f;
  memcpy(L2, L, n * sizeof(float));
  memcpy(R2, R, n * sizeof(float));
  sg_saturation_process(&st, L, R, n);
  assert_true(fxt_all_finite(L, n));
  double mean = 0;
  for (size_t i = 48000; i < 72000; ++i)
    mean += L[i];
  mean /= 24000;
  printf("asymmetric drive: output mean %.2e\n", mean);
  assert_true(fabs(mean) < 1e-3);
  sg_saturation_reset(&st);
  sg_saturation_process(&st, L2, R2, 999);
  sg_saturation_process(&st, L2 + 999, R2 + 999, n - 999);
  assert_memory_equal(L, L2, n * sizeof(float));
  free(L), free(R), free(L2), free(R2);
}

static void width_and_pan_law(void **state) {
  (void)state;
  float L[4] = {1, 0.5f, -0.25f, 0}, R[4] = {0, 0.5f, 0.75f, 1};
  float l0[4], r0[4];
  memcpy(l0, L, sizeof L);
  memcpy(r0, R, sizeof R);
  sg_width w;
  assert_int_equal(sg_width_init(&w, 1.0, RATE), SG_OK);
  sg_width_process(&w, L, R, 4);
  for (int i = 0; i < 4; ++i)
    assert_float_equal(L[i], l0[i], 1e-7), assert_float_equal(R[i], r0[i], 1e-7);
  assert_int_equal(sg_width_init(&w, 0.0, RATE), SG_OK);
  sg_width_process(&w, L, R, 4);
  for (int i = 0; i < 4; ++i) {
    assert_float_equal(L[i], R[i], 1e-7);
    assert_float_equal(L[i], 0.5f * (l0[i] + r0[i]), 1e-7);
  }
  assert_int_equal(sg_width_init(&w, 2.0, RATE), SG_OK);
  memcpy(L, l0, sizeof L);
  memcpy(R, r0, sizeof R);
  sg_width_process(&w, L, R, 4);
  for (int i = 0; i < 4; ++i) /* side doubled, mid kept */
    assert_float_equal(L[i] - R[i], 2 * (l0[i] - r0[i]), 1e-6),
        assert_float_equal(L[i] + R[i], l0[i] + r0[i], 1e-6);
  double gl, gr;
  sg_pan_gains(0, &gl, &gr);
  assert_float_equal(20 * log10(gl), -3.0103, 1e-3);
  assert_float_equal(gl, gr, 1e-12);
  for (double p = -1; p <= 1.0001; p += 0.125) {
    sg_pan_gains(p, &gl, &gr);
    assert_float_equal(gl * gl + gr * gr, 1.0, 1e-12); /* constant power */
  }
  sg_pan_gains(-1, &gl, &gr);
  assert_float_equal(gl, 1.0, 1e-12);
  assert_float_equal(gr, 0.0, 1e-12);
  sg_pan_gains(5, &gl, &gr); /* clamped */
  assert_float_equal(gr, 1.0, 1e-12);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(oversampling_reduces_aliasing),
      cmocka_unit_test(latency_and_dry_alignment),
      cmocka_unit_test(dc_blocked_and_finite),
      cmocka_unit_test(width_and_pan_law),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
