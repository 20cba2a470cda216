/* FDN reverb: RT60 measured by Schroeder backward integration (T30 fit, -5..-35 dB) within 15%
 * of the set value, low-band RT60, L/R decorrelation (< 0.5), tail length, denormal safety and
 * reset determinism. */
#include "sg_test.h"

#include "fx/fx_internal.h"
#include "fx_test_util.h"
#include "stemgate/fx.h"

#include <stdio.h>

#define RATE 48000.0

/* Wet impulse response (mix 1) of a reverb config: L and R. */
static void impulse_response(const sg_reverb_config *c, float *L, float *R, size_t n, int stereo) {
  sg_reverb st;
  assert_int_equal(sg_reverb_init(&st, c, RATE), SG_OK);
  memset(L, 0, n * sizeof(float));
  memset(R, 0, n * sizeof(float));
  L[0] = 1.0f;
  if (stereo)
    R[0] = 1.0f;
  sg_reverb_process(&st, L, R, n);
  sg_reverb_free(&st);
}

static double t30_of(const float *L, const float *R, size_t n) {
  double *e = malloc(n * sizeof(double));
  assert_non_null(e);
  for (size_t i = 0; i < n; ++i)
    e[i] = (double)L[i] * L[i] + (double)R[i] * R[i];
  double t = fxt_t30(e, n, RATE);
  free(e);
  return t;
}

static void rt60_hits_setting(void **state) {
  (void)state;
  const double rts[] = {0.5, 1.2, 2.5};
  const int lines[] = {16, 8, 16};
  const double sizes[] = {0.6, 1.0, 1.5};
  for (int k = 0; k < 3; ++k) {
    sg_reverb_config c;
    sg_reverb_config_init(&c);
    c.rt60 = rts[k], c.damping = 0, c.mix = 1, c.predelay_ms = 5, c.lines = lines[k];
    c.size = sizes[k];
    size_t n = (size_t)((1.3 * rts[k] + 0.2) * RATE);
    float *L = fxt_alloc(n), *R = fxt_alloc(n);
    impulse_response(&c, L, R, n, 0);
    double t = t30_of(L, R, n);
    printf("rt60 set %.2f s (%d lines, size %.1f): T30 measured %.3f s (%.1f%%)\n", rts[k],
           lines[k], sizes[k], t, 100 * (t / rts[k] - 1));
    assert_true(fabs(t / rts[k] - 1) < 0.15);
    free(L), free(R);
  }
}

static void modulated_rt60_and_difference(void **state) {
  (void)state;
  sg_reverb_config c;
  sg_reverb_config_init(&c);
  c.rt60 = 1.2, c.damping = 0, c.mix = 1, c.mod_depth_ms = 1.0, c.mod_rate_hz = 0.8;
  size_t n = (size_t)(1.8 * RATE);
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *L0 = fxt_alloc(n), *R0 = fxt_alloc(n);
  impulse_response(&c, L, R, n, 0);
  assert_true(fxt_all_finite(L, n) && fxt_all_finite(R, n));
  double t = t30_of(L, R, n);
  c.mod_depth_ms = 0;
  impulse_response(&c, L0, R0, n, 0);
  double diff = 0, e = 0;
  for (size_t i = 0; i < n; ++i)
    diff += (L[i] - L0[i]) * (double)(L[i] - L0[i]), e += (double)L0[i] * L0[i];
  printf("modulated (1 ms at 0.8 Hz): T30 %.3f s for 1.2 s set; differs from unmodulated by "
         "%.1f dB\n",
         t, 10 * log10(diff / e));
  assert_true(fabs(t / 1.2 - 1) < 0.15);
  assert_true(10 * log10(diff / e) > -20); /* the modulation does change the tail */
  free(L), free(R), free(L0), free(R0);
}

static void low_band_rt60(void **state) {
  (void)state;
  sg_reverb_config c;
  sg_reverb_config_init(&c);
  c.rt60 = 0.8, c.rt60_low = 2.0, c.damping = 0.5, c.mix = 1;
  size_t n = (size_t)(3.0 * RATE);
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *l2 = fxt_alloc(n), *r2 = fxt_alloc(n);
  impulse_response(&c, L, R, n, 0);
  memcpy(l2, L, n * sizeof(float));
  memcpy(r2, R, n * sizeof(float));
  /* Low band: 4th-order Butterworth low-pass at 80 Hz; high band: high-pass at 4 kHz. */
  sg_eq_config lp;
  sg_eq_config_init(&lp);
  lp.type = SG_EQ_LOWPASS, lp.freq_hz = 80, lp.order = 4;
  sg_eq eq;
  assert_int_equal(sg_eq_init(&eq, &lp, RATE), SG_OK);
  sg_eq_process(&eq, L, R, n);
  double tl = t30_of(L, R, n);
  lp.type = SG_EQ_BANDPASS, lp.freq_hz = 1000, lp.q = 2, lp.order = 2;
  assert_int_equal(sg_eq_init(&eq, &lp, RATE), SG_OK);
  sg_eq_process(&eq, l2, r2, n);
  double tm = t30_of(l2, r2, n);
  printf("rt60 0.8 s / low 2.0 s: T30 below 80 Hz %.3f s, around 1 kHz %.3f s\n", tl, tm);
  assert_true(fabs(tl / 2.0 - 1) < 0.15);
  assert_true(fabs(tm / 0.8 - 1) < 0.15);
  free(L), free(R), free(l2), free(r2);
}

static void stereo_decorrelation_and_tail(void **state) {
  (void)state;
  sg_reverb_config c;
  sg_reverb_config_init(&c);
  c.rt60 = 1.5, c.mix = 1;
  size_t n = (size_t)(2.0 * RATE);
  float *L = fxt_alloc(n), *R = fxt_alloc(n);
  impulse_response(&c, L, R, n, 1); /* mono impulse into both inputs */
  double lr = 0, ll = 0, rr = 0;
  for (size_t i = 0; i < n; ++i)
    lr += (double)L[i] * R[i], ll += (double)L[i] * L[i], rr += (double)R[i] * R[i];
  double corr = lr / sqrt(ll * rr);
  printf("L/R impulse response correlation %.3f (limit 0.5); energy L %.3f R %.3f\n", corr, ll, rr);
  assert_true(fabs(corr) < 0.5);
  assert_true(ll > 0.1 && rr > 0.1 && ll / rr < 2 && rr / ll < 2);
  sg_reverb st;
  assert_int_equal(sg_reverb_init(&st, &c, RATE), SG_OK);
  assert_true(sg_reverb_tail_frames(&st) >= 1.5 * RATE);
  sg_reverb_free(&st);
  free(L), free(R);
}

static void silence_after_loud_and_reset(void **state) {
  (void)state;
  sg_reverb_config c;
  sg_reverb_config_init(&c);
  c.rt60 = 0.3;
  sg_reverb st;
  assert_int_equal(sg_reverb_init(&st, &c, RATE), SG_OK);
  size_t n = (size_t)(3 * RATE);
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *L2 = fxt_alloc(n), *R2 = fxt_alloc(n);
  sg_rng rng;
  sg_rng_seed(&rng, 5, 5);
  for (size_t i = 0; i < 4800; ++i)
    L[i] = (float)sg_rng_range(&rng, -1, 1), R[i] = (float)sg_rng_range(&rng, -1, 1);
  memcpy(L2, L, n * sizeof(float));
  memcpy(R2, R, n * sizeof(float));
  sg_reverb_process(&st, L, R, n);
  assert_true(fxt_all_finite(L, n) && fxt_all_finite(R, n));
  assert_true(fxt_peak(L + n - 4800, 4800) < 1e-7); /* decayed far below -60 dB */
  sg_reverb_reset(&st);
  sg_reverb_process(&st, L2, R2, 1234);
  sg_reverb_process(&st, L2 + 1234, R2 + 1234, n - 1234);
  assert_memory_equal(L, L2, n * sizeof(float));
  assert_memory_equal(R, R2, n * sizeof(float));
  sg_reverb_free(&st);
  free(L), free(R), free(L2), free(R2);
}

/* The reverb runs the lines in sub-blocks; called one frame at a time, every sub-block is one
 * frame, i.e. the plain per-sample recursion. Both must give the same bits, for 8 and 16 lines,
 * modulated lines, the shortest lines (sub-blocks shorter than 64) and mono input. */
static void sub_blocks_equal_per_sample(void **state) {
  (void)state;
  const size_t n = 24000;
  float *L = malloc(n * sizeof(float)), *R = malloc(n * sizeof(float));
  float *L2 = malloc(n * sizeof(float)), *R2 = malloc(n * sizeof(float));
  assert_true(L && R && L2 && R2);
  const double rates[3] = {8000, 24000, 44100};
  for (int cfg = 0; cfg < 3; ++cfg) {
    sg_reverb_config c;
    sg_reverb_config_init(&c);
    c.mix = 0.7;
    if (cfg == 0)
      c.mod_depth_ms = 1.5, c.size = 0.25, c.rt60 = 3; /* 8 kHz: lines from 47 frames */
    if (cfg == 1)
      c.lines = 8, c.predelay_ms = 0, c.damping = 0.8;
    if (cfg == 2)
      c.mod_depth_ms = 0.7, c.lines = 8, c.rt60_low = 4;
    sg_rng rng;
    sg_rng_seed(&rng, 11, (uint64_t)cfg);
    for (size_t i = 0; i < n; ++i)
      L[i] = i < n / 3 ? (float)sg_rng_range(&rng, -1, 1) : 0.0f,
      R[i] = i < n / 3 ? (float)sg_rng_range(&rng, -1, 1) : 0.0f;
    memcpy(L2, L, n * sizeof(float));
    memcpy(R2, R, n * sizeof(float));
    const int mono = cfg == 1;
    sg_reverb a, b;
    assert_int_equal(sg_reverb_init(&a, &c, rates[cfg]), SG_OK);
    assert_int_equal(sg_reverb_init(&b, &c, rates[cfg]), SG_OK);
    sg_reverb_process(&a, L, mono ? NULL : R, n);
    for (size_t i = 0; i < n; ++i)
      sg_reverb_process(&b, L2 + i, mono ? NULL : R2 + i, 1);
    assert_memory_equal(L, L2, n * sizeof(float));
    if (!mono)
      assert_memory_equal(R, R2, n * sizeof(float));
    assert_true(fxt_peak(L + n / 3, n / 3) > 1e-3); /* a tail, not silence */
    sg_reverb_free(&a);
    sg_reverb_free(&b);
  }
  free(L), free(R), free(L2), free(R2);
}

/* The kernel's AVX2 build (x86-64 with AVX2; chosen at init) and its baseline build give the
 * same bits: 16 and 8 lines, modulated lines, short lines at 8 kHz, mono input, blocks of odd
 * lengths. Where the CPU has no AVX2 both calls run the baseline. */
static void avx2_build_equals_baseline(void **state) {
  (void)state;
  const size_t n = 30000;
  float *L = malloc(n * sizeof(float)), *R = malloc(n * sizeof(float));
  float *L2 = malloc(n * sizeof(float)), *R2 = malloc(n * sizeof(float));
  assert_true(L && R && L2 && R2);
  const double rates[4] = {48000, 8000, 44100, 96000};
  for (int cfg = 0; cfg < 4; ++cfg) {
    sg_reverb_config c;
    sg_reverb_config_init(&c);
    c.mix = 0.6, c.rt60_low = 3, c.damping = 0.5;
    if (cfg == 1)
      c.mod_depth_ms = 1.5, c.size = 0.25;
    if (cfg == 2)
      c.lines = 8, c.mod_depth_ms = 0.5, c.predelay_ms = 0;
    if (cfg == 3)
      c.size = 2, c.rt60 = 8;
    sg_rng rng;
    sg_rng_seed(&rng, 21, (uint64_t)cfg);
    for (size_t i = 0; i < n; ++i)
      L[i] = i < n / 2 ? (float)sg_rng_range(&rng, -1, 1) : 0.0f,
      R[i] = i < n / 2 ? (float)sg_rng_range(&rng, -1, 1) : 0.0f;
    memcpy(L2, L, n * sizeof(float));
    memcpy(R2, R, n * sizeof(float));
    const int mono = cfg == 2;
    sg_reverb a, b;
    assert_int_equal(sg_reverb_init(&a, &c, rates[cfg]), SG_OK);
    assert_int_equal(sg_reverb_init(&b, &c, rates[cfg]), SG_OK);
    for (size_t i = 0, m = 777; i < n; i += m) {
      const size_t k = n - i < m ? n - i : m;
      sg__reverb_process_isa(&a, L + i, mono ? NULL : R + i, k, 0);
      sg__reverb_process_isa(&b, L2 + i, mono ? NULL : R2 + i, k, 1);
    }
    assert_memory_equal(L, L2, n * sizeof(float));
    if (!mono)
      assert_memory_equal(R, R2, n * sizeof(float));
    assert_true(fxt_peak(L + n / 2, n / 4) > 1e-3);
    sg_reverb_free(&a);
    sg_reverb_free(&b);
  }
  free(L), free(R), free(L2), free(R2);
}

/* At rest (every ring and pole zero) an all-zero block is skipped: zeros out, the state still
 * zero, the ring indices moved on by the block. A tail reaches that state exactly (the flush), and
 * from it the network answers new input with the same bits as a fresh one (a zero ring looks the
 * same from any index), so skipping changes nothing. */
static void rest_skips_silence_exactly(void **state) {
  (void)state;
  sg_reverb_config c;
  sg_reverb_config_init(&c);
  c.rt60 = 0.3, c.mix = 0.4;
  sg_reverb a, b;
  assert_int_equal(sg_reverb_init(&a, &c, RATE), SG_OK);
  assert_int_equal(sg_reverb_init(&b, &c, RATE), SG_OK);
  const size_t n = (size_t)(4 * RATE), z = 5000;
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *L2 = fxt_alloc(n), *R2 = fxt_alloc(n);
  size_t nfl = 2 * (a.pre_len + 1);
  for (int i = 0; i < a.n; ++i)
    nfl += a.cap[i];
  for (int k = 0; k < SG_REVERB_DIFFUSERS; ++k)
    nfl += 2 * a.ap_len[k];
  L[3] = -0.0f;
  sg_reverb_process(&a, L, R, z);
  assert_true(sg__all_zero(L, z) && sg__all_zero(R, z) && sg__all_zero(a.mem, nfl));
  for (int i = 0; i < a.n; ++i)
    assert_int_equal(a.pos[i], z % a.cap[i]);
  assert_int_equal(a.pre_pos, z % a.pre_len);
  for (int k = 0; k < SG_REVERB_DIFFUSERS; ++k)
    assert_int_equal(a.ap_pos[k], z % a.ap_len[k]);
  /* Noise, then a tail that decays to exact zeros well within 4 s (RT60 0.3 s, flush 1e-25). */
  sg_rng rng;
  sg_rng_seed(&rng, 7, 7);
  for (size_t i = 0; i < 4800; ++i)
    L[i] = (float)sg_rng_range(&rng, -1, 1), R[i] = (float)sg_rng_range(&rng, -1, 1);
  sg_reverb_process(&a, L, R, n);
  assert_true(fxt_peak(L + 4800, 4800) > 1e-3);
  assert_true(sg__all_zero(L + n - 4800, 4800) && sg__all_zero(a.mem, nfl));
  for (int i = 0; i < a.n; ++i)
    assert_true(a.lp_s[i] == 0 && a.hf_s[i] == 0);
  for (size_t i = 0; i < n; ++i)
    L[i] = i < 9000 ? (float)sg_rng_range(&rng, -1, 1) : 0.0f, R[i] = L[i] * 0.5f;
  memcpy(L2, L, n * sizeof(float));
  memcpy(R2, R, n * sizeof(float));
  sg_reverb_process(&a, L, R, n);
  sg_reverb_process(&b, L2, R2, n);
  assert_memory_equal(L, L2, n * sizeof(float));
  assert_memory_equal(R, R2, n * sizeof(float));
  sg_reverb_free(&a);
  sg_reverb_free(&b);
  free(L), free(R), free(L2), free(R2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rt60_hits_setting),
      cmocka_unit_test(modulated_rt60_and_difference),
      cmocka_unit_test(low_band_rt60),
      cmocka_unit_test(stereo_decorrelation_and_tail),
      cmocka_unit_test(silence_after_loud_and_reset),
      cmocka_unit_test(sub_blocks_equal_per_sample),
      cmocka_unit_test(avx2_build_equals_baseline),
      cmocka_unit_test(rest_skips_silence_exactly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
