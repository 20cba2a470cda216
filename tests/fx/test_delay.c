/* Delay: note value parsing, exact frames at a tempo, echo at the exact (documented, rounded)
 * lag, ping-pong alternation, feedback decay within the reported tail, reset determinism. */
#include "sg_test.h"

#include "fx/fx_internal.h"
#include "fx_test_util.h"
#include "stemgate/fx.h"

#include <stdio.h>

static void note_values(void **state) {
  (void)state;
  struct {
    const char *s;
    int n, d;
  } ok[] = {{"1/4", 1, 4},    {"1/8.", 3, 16}, {"1/4T", 1, 6},  {"1/16", 1, 16}, {"3/16", 3, 16},
            {"1/8..", 7, 32}, {"1/2t", 1, 3},  {" 1/1 ", 1, 1}, {"2/4", 1, 2}};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; ++i) {
    int n = 0, d = 0;
    assert_int_equal(sg_note_value_parse(ok[i].s, &n, &d), SG_OK);
    assert_int_equal(n, ok[i].n);
    assert_int_equal(d, ok[i].d);
  }
  const char *bad[] = {"",      "1/",     "/4",      "1/0",   "0/4", "1/4TT",
                       "1/4.T", "1/8...", "quarter", "1/512", "1/4x"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
    int n, d;
    assert_int_equal(sg_note_value_parse(bad[i], &n, &d), SG_E_PARSE);
  }
  /* 1/8. at 140 BPM, 48 kHz: 3/16 * 4 * 60/140 * 48000 = 15428.571428... frames. */
  assert_float_equal(sg_note_value_frames(3, 16, 140, 48000), 15428.571428571428, 1e-6);
  assert_float_equal(sg_note_value_frames(1, 4, 120, 44100), 22050.0, 1e-9);
  assert_float_equal(sg_note_value_frames(1, 6, 90, 48000), 21333.333333333332, 1e-6);
}

static void echo_at_exact_lag(void **state) {
  (void)state;
  struct {
    const char *t;
    double bpm, rate;
    size_t lag;
  } cases[] = {{"1/8.", 140, 48000, 15429}, /* 15428.571 rounds to nearest: 15429 */
               {"1/4", 120, 44100, 22050},  {"1/4T", 90, 48000, 21333}, /* 21333.333 -> 21333 */
               {"1/16", 174, 48000, 4138},                              /* 4137.93 -> 4138 */
               {"3/16", 100, 96000, 43200}, {"250ms", 120, 48000, 12000}};
  for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c) {
    sg_delay_config cfg;
    sg_delay_config_init(&cfg);
    snprintf(cfg.time, sizeof cfg.time, "%s", cases[c].t);
    cfg.bpm = cases[c].bpm, cfg.mix = 1.0, cfg.feedback = 0.5;
    sg_delay st;
    assert_int_equal(sg_delay_init(&st, &cfg, cases[c].rate), SG_OK);
    assert_int_equal(st.lag, cases[c].lag);
    size_t n = 3 * cases[c].lag;
    float *L = fxt_alloc(n), *R = fxt_alloc(n);
    L[0] = R[0] = 1.0f;
    sg_delay_process(&st, L, R, n);
    /* Wet only: nothing before the lag, the unfiltered impulse exactly at it. */
    size_t first = n;
    for (size_t i = 0; i < n; ++i)
      if (L[i] != 0.0f) {
        first = i;
        break;
      }
    printf("%s at %g BPM, %g Hz: echo at %zu (exact %.3f)\n", cases[c].t, cases[c].bpm,
           cases[c].rate, first, st.lag_exact);
    assert_int_equal(first, cases[c].lag);
    assert_float_equal(L[first], 1.0, 1e-6);
    assert_float_equal(R[first], 1.0, 1e-6);
    /* The second echo went once through the loop filters: its energy is ~ feedback^2 of the
     * first within the filters' loss, centred near 2 lag. */
    double e2 = 0;
    for (size_t i = 2 * st.lag - 50; i < 2 * st.lag + 400; ++i)
      e2 += (double)L[i] * L[i];
    assert_true(e2 > 0.1 * 0.25 && e2 < 0.25 + 1e-6);
    sg_delay_free(&st);
    free(L), free(R);
  }
}

static void pingpong_alternates(void **state) {
  (void)state;
  sg_delay_config cfg;
  sg_delay_config_init(&cfg);
  snprintf(cfg.time, sizeof cfg.time, "1/16");
  cfg.bpm = 120, cfg.mix = 1, cfg.feedback = 0.6, cfg.pingpong = 1;
  sg_delay st;
  assert_int_equal(sg_delay_init(&st, &cfg, 48000), SG_OK);
  size_t lag = st.lag, n = 5 * lag;
  assert_int_equal(lag, 6000);
  float *L = fxt_alloc(n), *R = fxt_alloc(n);
  L[0] = R[0] = 1.0f;
  sg_delay_process(&st, L, R, n);
  double eL[4] = {0}, eR[4] = {0};
  for (int k = 1; k <= 4; ++k)
    for (size_t i = k * lag - 10; i < k * lag + 500 && i < n; ++i)
      eL[k - 1] += (double)L[i] * L[i], eR[k - 1] += (double)R[i] * R[i];
  /* Echo 1 left, 2 right, 3 left, 4 right; the other side silent. */
  assert_true(eL[0] > 0.9 && eR[0] == 0);
  assert_true(eR[1] > 0.05 && eL[1] == 0);
  assert_true(eL[2] > 0.001 && eR[2] == 0);
  assert_true(eR[3] > 0.0001 && eL[3] == 0);
  sg_delay_free(&st);
  free(L), free(R);
}

static void tail_and_reset(void **state) {
  (void)state;
  sg_delay_config cfg;
  sg_delay_config_init(&cfg);
  snprintf(cfg.time, sizeof cfg.time, "1/8");
  cfg.bpm = 150, cfg.mix = 1, cfg.feedback = 0.7, cfg.lowcut_hz = 10, cfg.highcut_hz = 20000;
  sg_delay st;
  assert_int_equal(sg_delay_init(&st, &cfg, 48000), SG_OK);
  size_t tail = (size_t)ceil(sg_delay_tail_frames(&st)), n = tail + 48000;
  /* 0.7^k < 1e-3 from k = 20: 21 lags. */
  assert_int_equal(tail, 21 * st.lag);
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *L2 = fxt_alloc(n), *R2 = fxt_alloc(n);
  L[0] = R[0] = 1.0f;
  L[100] = 1e-39f;
  memcpy(L2, L, n * sizeof(float));
  memcpy(R2, R, n * sizeof(float));
  sg_delay_process(&st, L, R, n);
  assert_true(fxt_all_finite(L, n));
  double after = fxt_peak(L + tail, n - tail);
  printf("delay tail %zu frames; peak after it %.2e (limit 1e-3)\n", tail, after);
  assert_true(after < 1e-3);
  sg_delay_reset(&st);
  sg_delay_process(&st, L2, R2, 777);
  sg_delay_process(&st, L2 + 777, R2 + 777, n - 777);
  assert_memory_equal(L, L2, n * sizeof(float));
  sg_delay_free(&st);
  sg_delay_free(&st); /* twice is safe */
  free(L), free(R), free(L2), free(R2);
  /* Bad time string. */
  snprintf(cfg.time, sizeof cfg.time, "1/7x");
  assert_int_equal(sg_delay_init(&st, &cfg, 48000), SG_E_PARSE);
}

/* At rest (lines and loop filters zero, settled) an all-zero block is skipped: zeros out, the
 * state still zero, the write index moved on by the block. Echoes fade to exact zeros (the
 * flush), and from there new input gives the same bits as a fresh delay: skipping changes
 * nothing. */
static void rest_skips_silence_exactly(void **state) {
  (void)state;
  sg_delay_config cfg;
  sg_delay_config_init(&cfg);
  snprintf(cfg.time, sizeof cfg.time, "1/16");
  cfg.bpm = 140, cfg.mix = 0.3, cfg.feedback = 0.3; /* echoes below 1e-25 within 6 s */
  sg_delay a, b;
  assert_int_equal(sg_delay_init(&a, &cfg, 48000), SG_OK);
  assert_int_equal(sg_delay_init(&b, &cfg, 48000), SG_OK);
  const size_t n = 10 * 48000, z = 5000;
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *L2 = fxt_alloc(n), *R2 = fxt_alloc(n);
  R[7] = -0.0f;
  sg_delay_process(&a, L, R, z);
  assert_true(sg__all_zero(L, z) && sg__all_zero(R, z));
  assert_true(sg__all_zero(a.buf[0], a.cap) && sg__all_zero(a.buf[1], a.cap));
  assert_int_equal(a.pos, z % a.cap);
  sg_rng rng;
  sg_rng_seed(&rng, 3, 3);
  for (size_t i = 0; i < 4800; ++i)
    L[i] = (float)sg_rng_range(&rng, -1, 1), R[i] = (float)sg_rng_range(&rng, -1, 1);
  sg_delay_process(&a, L, R, n);
  assert_true(fxt_peak(L + a.lag, 4800) > 1e-3);
  assert_true(sg__all_zero(L + n - 4800, 4800));
  assert_true(sg__all_zero(a.buf[0], a.cap) && sg__all_zero(a.buf[1], a.cap));
  for (size_t i = 0; i < n; ++i)
    L[i] = i < 9000 ? (float)sg_rng_range(&rng, -1, 1) : 0.0f, R[i] = L[i] * 0.5f;
  memcpy(L2, L, n * sizeof(float));
  memcpy(R2, R, n * sizeof(float));
  sg_delay_process(&a, L, R, n);
  sg_delay_process(&b, L2, R2, n);
  assert_memory_equal(L, L2, n * sizeof(float));
  assert_memory_equal(R, R2, n * sizeof(float));
  sg_delay_free(&a);
  sg_delay_free(&b);
  free(L), free(R), free(L2), free(R2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(note_values),
      cmocka_unit_test(echo_at_exact_lag),
      cmocka_unit_test(pingpong_alternates),
      cmocka_unit_test(tail_and_reset),
      cmocka_unit_test(rest_skips_silence_exactly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
