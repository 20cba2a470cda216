/* True-peak limiter: on hard material (full-scale square waves, the fs/4 sine at 45 degrees,
 * transients after silence, clipped noise, a loud 18 kHz tone) the output true peak, measured by
 * an independent 16x / 1024-tap interpolator, never exceeds the ceiling - also after TPDF-dithered
 * 16-bit quantisation. Latency is exact, gain reduction returns to 0 after the release, reset
 * gives identical output. The detector's shortcuts (frames proven below the threshold are not
 * interpolated) leave the output bit-identical to the full computation. */
#include "sg_test.h"

#include "fx_test_util.h"
#include "stemgate/fx.h"

#include <stdio.h>

#define RATE 48000.0

typedef void (*gen_fn)(float *L, float *R, size_t n, sg_rng *rng);

static void gen_square(float *L, float *R, size_t n, sg_rng *rng) {
  (void)rng;
  for (size_t i = 0; i < n; ++i) /* 1 kHz naive square, full scale (+6 dB input gain below) */
    L[i] = R[i] = (i / 24) % 2 ? -1.0f : 1.0f;
  for (size_t i = 0; i < n; ++i) /* 3.3 kHz square on the right */
    R[i] = ((size_t)((double)i * 3300.0 / RATE * 2.0)) % 2 ? -1.0f : 1.0f;
}

static void gen_fs4(float *L, float *R, size_t n, sg_rng *rng) {
  (void)rng;
  /* fs/4 at 45 degrees: samples at +-0.7071, true peak 1.0 (0 dBTP), sample peak -3 dB. */
  for (size_t i = 0; i < n; ++i)
    L[i] = R[i] = (float)sin(SG_PI / 2 * (double)i + SG_PI / 4);
}

static void gen_transients(float *L, float *R, size_t n, sg_rng *rng) {
  memset(L, 0, n * sizeof(float));
  memset(R, 0, n * sizeof(float));
  for (size_t start = 1000; start + 3000 < n; start += 7919)
    for (size_t i = 0; i < 3000; ++i) {
      double env = exp(-(double)i / 400.0);
      L[start + i] = (float)(env * sg_rng_range(rng, -1, 1));
      R[start + i] = (float)(env * (i % 2 ? 1 : -1)); /* Nyquist-rate click train */
    }
}

static void gen_clipped_noise(float *L, float *R, size_t n, sg_rng *rng) {
  for (size_t i = 0; i < n; ++i) {
    double a = 3 * sg_rng_normal(rng), b = 3 * sg_rng_normal(rng);
    L[i] = (float)(a > 1 ? 1 : a < -1 ? -1 : a);
    R[i] = (float)(b > 1 ? 1 : b < -1 ? -1 : b);
  }
}

static double g_rate = RATE; /* rate of the material being generated */

static void gen_hf_tone(float *L, float *R, size_t n, sg_rng *rng) {
  (void)rng;
  fxt_sine(L, n, 1.0, 18000, g_rate, 0.3);
  fxt_sine(R, n, 1.0, 19500, g_rate, 1.1);
}

static void hard_material_stays_under_ceiling(void **state) {
  (void)state;
  struct {
    const char *name;
    gen_fn gen;
    double gain_db;
  } mats[] = {{"square", gen_square, 6},
              {"fs/4 at 45 deg", gen_fs4, 3},
              {"transients", gen_transients, 12},
              {"clipped noise", gen_clipped_noise, 0},
              {"18/19.5 kHz tones", gen_hf_tone, 6}};
  /* (ceiling, rate): both ceilings at 48 kHz, the usual one at 44.1 kHz. */
  const double ceilings[] = {-1.0, -0.3, -1.0}, rates[] = {48000, 48000, 44100};
  for (size_t m = 0; m < sizeof mats / sizeof *mats; ++m)
    for (int ci = 0; ci < 3; ++ci) {
      sg_limiter_config c;
      sg_limiter_config_init(&c);
      c.ceiling_dbtp = ceilings[ci], c.gain_db = mats[m].gain_db;
      sg_limiter st;
      assert_int_equal(sg_limiter_init(&st, &c, rates[ci]), SG_OK);
      size_t n = 24000, lat = sg_limiter_latency(&st);
      float *L = fxt_alloc(n + lat), *R = fxt_alloc(n + lat);
      sg_rng rng;
      sg_rng_seed(&rng, 1234 + m, 9);
      g_rate = rates[ci];
      mats[m].gen(L, R, n, &rng);
      sg_limiter_process(&st, L, R, n + lat);
      double tp = fmax(fxt_true_peak(L, n + lat), fxt_true_peak(R, n + lat));
      /* 16-bit delivery: TPDF dither and quantisation after the limiter. */
      sg_rng_seed(&rng, 99, 1);
      sg_dither_quantize(&rng, L, L, n + lat, 16);
      sg_dither_quantize(&rng, R, R, n + lat, 16);
      double tpq = fmax(fxt_true_peak(L, n + lat), fxt_true_peak(R, n + lat));
      printf("%-18s %5.1f kHz ceiling %5.1f: true peak out %7.3f dBTP, after 16-bit %7.3f dBTP, "
             "max GR "
             "%.2f dB\n",
             mats[m].name, rates[ci] / 1000, c.ceiling_dbtp, 20 * log10(tp), 20 * log10(tpq),
             sg_limiter_max_gain_reduction_db(&st));
      assert_true(20 * log10(tp) <= c.ceiling_dbtp);
      assert_true(20 * log10(tpq) <= c.ceiling_dbtp);
      assert_true(sg_limiter_max_gain_reduction_db(&st) > 0.5);
      sg_limiter_free(&st);
      free(L), free(R);
    }
}

static void latency_is_exact_and_release_returns(void **state) {
  (void)state;
  sg_limiter_config c;
  sg_limiter_config_init(&c);
  c.release_ms = 50;
  sg_limiter st;
  assert_int_equal(sg_limiter_init(&st, &c, RATE), SG_OK);
  size_t lat = sg_limiter_latency(&st);
  /* look-ahead 96 + detector delay (half the interpolator) + hold 12 - 1 */
  assert_int_equal(lat, 96 + SG_TP_TAPS / 2 + 12 - 1);
  size_t n = 96000;
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *in = fxt_alloc(n);
  fxt_sine(in, n, 0.1, 440, RATE, 0); /* -20 dBFS: below the ceiling */
  for (size_t i = 20000; i < 22000; ++i)
    in[i] *= 20.0f; /* a +6 dBFS burst */
  memcpy(L, in, n * sizeof(float));
  memcpy(R, in, n * sizeof(float));
  sg_limiter_process(&st, L, R, 10000);
  /* Quiet part: bit-exact copy delayed by the latency. */
  for (size_t i = lat; i < 10000; ++i)
    assert_true(L[i] == in[i - lat]);
  sg_limiter_process(&st, L + 10000, R + 10000, n - 10000);
  assert_true(sg_limiter_max_gain_reduction_db(&st) > 6.0);
  printf("latency %zu frames; GR max %.2f dB, at end %.5f dB\n", lat,
         sg_limiter_max_gain_reduction_db(&st), sg_limiter_gain_reduction_db(&st));
  assert_true(sg_limiter_gain_reduction_db(&st) < 0.001);
  /* Mean over the whole run: the burst is 2000 of 96000 frames. */
  double mean = sg_limiter_mean_gain_reduction_db(&st);
  assert_true(mean > 0.01 && mean < 0.1 * sg_limiter_max_gain_reduction_db(&st));
  /* After the release the output is the input again. */
  for (size_t i = 60000; i < n; ++i)
    assert_float_equal(L[i], in[i - lat], 1e-5);
  free(L), free(R), free(in);
  sg_limiter_free(&st);
}

static void silence_after_loud_and_reset(void **state) {
  (void)state;
  sg_limiter_config c;
  sg_limiter_config_init(&c);
  sg_limiter st;
  assert_int_equal(sg_limiter_init(&st, &c, RATE), SG_OK);
  size_t n = 48000;
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *L2 = fxt_alloc(n), *R2 = fxt_alloc(n);
  sg_rng rng;
  sg_rng_seed(&rng, 3, 3);
  for (size_t i = 0; i < 4800; ++i)
    L[i] = (float)sg_rng_range(&rng, -4, 4), R[i] = (float)sg_rng_range(&rng, -4, 4);
  L[30000] = 1e-40f;
  memcpy(L2, L, n * sizeof(float));
  memcpy(R2, R, n * sizeof(float));
  sg_limiter_process(&st, L, R, n);
  assert_true(fxt_all_finite(L, n) && fxt_all_finite(R, n));
  sg_limiter_reset(&st);
  sg_limiter_process(&st, L2, R2, 333);
  sg_limiter_process(&st, L2 + 333, R2 + 333, n - 333);
  assert_memory_equal(L, L2, n * sizeof(float));
  assert_memory_equal(R, R2, n * sizeof(float));
  sg_limiter_free(&st);
  sg_limiter_free(&st);
  free(L), free(R), free(L2), free(R2);
}

static void dither_statistics(void **state) {
  (void)state;
  /* TPDF dither of +-1 LSB: error mean 0, error power LSB^2/4, independent of the signal. */
  size_t n = 200000;
  float *x = fxt_alloc(n);
  int32_t *q = malloc(n * sizeof(int32_t));
  assert_non_null(q);
  fxt_sine(x, n, 0.3 / 32768.0, 997, RATE, 0); /* a sine of 0.3 LSB */
  sg_rng rng;
  sg_rng_seed(&rng, 2024, 7);
  assert_int_equal(sg_dither_to_int(&rng, x, q, n, 16), 0);
  double m = 0, v = 0;
  for (size_t i = 0; i < n; ++i) {
    double e = q[i] - x[i] * 32768.0;
    m += e, v += e * e;
  }
  m /= n, v /= n;
  printf("TPDF error mean %.4f LSB, power %.4f LSB^2 (theory 0.25)\n", m, v);
  assert_true(fabs(m) < 0.01);
  assert_float_equal(v, 0.25, 0.01);
  /* The sub-LSB sine survives in the average (dither linearises the quantiser). */
  float *qf = fxt_alloc(n);
  for (size_t i = 0; i < n; ++i)
    qf[i] = (float)q[i];
  double amp = fxt_tone_amp(qf, 192000, 997, RATE, NULL);
  assert_float_equal(amp, 0.3, 0.03);
  /* Without dither it rounds to silence. */
  assert_int_equal(sg_dither_to_int(NULL, x, q, n, 16), 0);
  for (size_t i = 0; i < n; ++i)
    assert_int_equal(q[i], 0);
  /* Clipping is counted. */
  float big[3] = {1.5f, -1.5f, 0.0f};
  assert_int_equal(sg_dither_to_int(NULL, big, q, 3, 16), 2);
  assert_int_equal(q[0], 32767);
  assert_int_equal(q[1], -32768);
  free(x), free(q), free(qf);
}

/* The limiter's signal flow with every detector frame fully interpolated (sg_truepeak_push, no
 * quiet threshold), frame by frame: the reference the shortcut must reproduce bit for bit. */
static void reference_limiter(const sg_limiter *lim, float *L, float *R, size_t n, double *gr_max,
                              double *gr_sum) {
  sg_truepeak det[2];
  sg_truepeak_config tc;
  sg_truepeak_config_init(&tc);
  tc.design = SG_TPD_KAISER, tc.oversample = SG_TP_OS, tc.taps = SG_TP_TAPS, tc.beta = 8.0;
  sg_limiter_core core;
  assert_int_equal(
      sg_limiter_core_init(&core, lim->core.la, lim->core.hold, lim->core.a_rel, lim->core.thresh),
      SG_OK);
  for (int ch = 0; ch < 2; ++ch) {
    assert_int_equal(sg_truepeak_init(&det[ch], &tc, lim->rate), SG_OK);
    sg_truepeak_reset(&det[ch]);
  }
  const size_t D = lim->delay;
  float *dl = fxt_alloc(2 * D);
  size_t pos = 0;
  *gr_max = *gr_sum = 0;
  for (size_t i = 0; i < n; ++i) {
    double x[2] = {L[i] * lim->in_gain, R[i] * lim->in_gain}, pk = 0;
    for (int ch = 0; ch < 2; ++ch)
      pk = fmax(pk, sg_truepeak_push(&det[ch], x[ch]));
    double g = sg_limiter_core_tick(&core, pk);
    double y0 = dl[pos] * g, y1 = dl[D + pos] * g;
    dl[pos] = (float)x[0], dl[D + pos] = (float)x[1];
    L[i] = (float)y0, R[i] = (float)y1;
    pos = pos + 1 == D ? 0 : pos + 1;
    double gr = g < 1.0 ? -20.0 * log10(g) : 0.0;
    *gr_max = fmax(*gr_max, gr);
    *gr_sum += gr;
  }
  sg_limiter_core_free(&core);
  free(dl);
}

static void shortcut_output_is_bit_identical(void **state) {
  (void)state;
  const gen_fn gens[] = {gen_square, gen_fs4, gen_transients, gen_clipped_noise, gen_hf_tone};
  const double drive[] = {6, 3, 12, 0, 6};
  for (int m = 0; m < 5; ++m)
    for (int v = 0; v < 2; ++v) {
      sg_limiter_config c;
      sg_limiter_config_init(&c);
      c.gain_db = drive[m] - 8.0 * v; /* v = 1: mostly below the threshold */
      sg_limiter st;
      assert_int_equal(sg_limiter_init(&st, &c, RATE), SG_OK);
      size_t n = 30000;
      float *L = fxt_alloc(n), *R = fxt_alloc(n), *rL = fxt_alloc(n), *rR = fxt_alloc(n);
      sg_rng rng;
      sg_rng_seed(&rng, 77 + m, 3);
      g_rate = RATE;
      gens[m](L, R, n, &rng);
      /* a fade from silence, so that the material crosses the threshold both ways */
      for (size_t i = 0; i < 6000; ++i)
        L[i] *= (float)i / 6000.0f, R[i] *= (float)i / 6000.0f;
      memcpy(rL, L, n * sizeof *L);
      memcpy(rR, R, n * sizeof *R);
      double rmax, rsum;
      reference_limiter(&st, rL, rR, n, &rmax, &rsum);
      for (size_t off = 0, k = 1; off < n; off += k, k = k * 3 % 997 + 1)
        sg_limiter_process(&st, L + off, R + off, off + k > n ? n - off : k);
      size_t diff = 0;
      for (size_t i = 0; i < n; ++i)
        diff += memcmp(L + i, rL + i, sizeof *L) != 0 || memcmp(R + i, rR + i, sizeof *R) != 0;
      printf("material %d drive %+.0f dB: %zu frames differ from the full computation (limit 0), "
             "max GR %.4f / %.4f dB, mean %.6f / %.6f dB\n",
             m, c.gain_db, diff, sg_limiter_max_gain_reduction_db(&st), rmax,
             sg_limiter_mean_gain_reduction_db(&st), rsum / (double)n);
      assert_int_equal(diff, 0);
      assert_true(sg_limiter_max_gain_reduction_db(&st) == rmax);
      assert_true(sg_limiter_mean_gain_reduction_db(&st) == rsum / (double)n);
      sg_limiter_free(&st);
      free(L), free(R), free(rL), free(rR);
    }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hard_material_stays_under_ceiling),
      cmocka_unit_test(latency_is_exact_and_release_returns),
      cmocka_unit_test(silence_after_loud_and_reset),
      cmocka_unit_test(dither_statistics),
      cmocka_unit_test(shortcut_output_is_bit_identical),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
