/* Alignment: known offsets recovered within 1 ms (sample-exact and fractional), a 0.2% stretch
 * measured as drift, file alignment equal to memory alignment. */
#include "analysis_gen.h"
#include "sg_test.h"

#include "stemgate/analysis.h"
#include "stemgate/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000u

/* Event times: irregular (Poisson-like, mean 5/s) so no lag but the true one correlates. */
static size_t event_times(double secs, uint64_t seed, double *t, size_t cap) {
  sg_rng g;
  sg_rng_seed(&g, seed, 5);
  size_t k = 0;
  double now = 0.3;
  while (now < secs - 0.5 && k < cap) {
    t[k++] = now;
    now += 0.08 + sg_rng_range(&g, 0, 0.25);
  }
  return k;
}

/* Renders events (t * stretch + offset) as decaying noise bursts plus a tone per event; each
 * event's noise is seeded by its index so both signals carry the same sounds. */
static float *render(const double *t, size_t k, double secs, double stretch, double offset) {
  size_t n = (size_t)(secs * RATE);
  float *x = calloc(n, sizeof *x);
  assert_non_null(x);
  for (size_t i = 0; i < k; ++i) {
    sg_rng g;
    sg_rng_seed(&g, 1000 + i, 1);
    double at = t[i] * stretch + offset;
    gen_burst(x, n, RATE, at, 0.3, 0.02 + 0.02 * (double)(i % 3), 0.12, &g);
    gen_click(x, n, RATE, at, 0.2, 200 + 50 * (double)(i % 7));
  }
  return x;
}

/* Fractional delay by linear interpolation (for offsets that are not whole samples). */
static float *delayed(const float *x, size_t n, double delay_s) {
  float *y = calloc(n, sizeof *y);
  assert_non_null(y);
  double dsm = delay_s * RATE;
  for (size_t i = 0; i < n; ++i) {
    double src = (double)i - dsm;
    long j = (long)floor(src);
    double fr = src - (double)j;
    if (j >= 0 && j + 1 < (long)n)
      y[i] = (float)((1 - fr) * x[j] + fr * x[j + 1]);
  }
  return y;
}

static void known_offsets(void **state) {
  (void)state;
  const double secs = 12;
  double t[400];
  size_t k = event_times(secs, 42, t, 400);
  printf("event seed 42, %zu events\n", k);
  size_t n = (size_t)(secs * RATE);
  float *a = render(t, k, secs, 1.0, 0);
  static const double offs[] = {0.030, -0.0125, 0.0, 0.10037, -0.2501};
  for (size_t i = 0; i < sizeof offs / sizeof *offs; ++i) {
    float *b = delayed(a, n, offs[i]);
    sg_align_result r;
    sg_diag d;
    sg_diag_clear(&d);
    assert_int_equal(sg_align_signals(a, n, b, n, RATE, NULL, &r, &d), SG_OK);
    printf("offset %+.4f ms: measured %+.4f ms (end %+.4f), sim %.3f fine %.3f\n", offs[i] * 1e3,
           r.offset_s * 1e3, r.end_offset_s * 1e3, r.similarity, r.fine_similarity);
    assert_true(fabs(r.offset_s - offs[i]) < 0.001); /* within 1 ms */
    assert_true(fabs(r.end_offset_s - offs[i]) < 0.001);
    assert_true(fabs(r.drift_s) < 0.0005);
    assert_true(r.similarity > 0.5);
    assert_int_equal(r.inverted, 0);
    free(b);
  }
  /* Polarity inverted: same offset, flagged. */
  {
    float *b = delayed(a, n, 0.0217);
    for (size_t i = 0; i < n; ++i)
      b[i] = -b[i];
    sg_align_result r;
    assert_int_equal(sg_align_signals(a, n, b, n, RATE, NULL, &r, NULL), SG_OK);
    printf("inverted: %+.4f ms, inverted %d\n", r.offset_s * 1e3, r.inverted);
    assert_true(fabs(r.offset_s - 0.0217) < 0.001);
    assert_int_equal(r.inverted, 1);
    free(b);
  }
  /* Without refinement the envelope peak alone is within one hop (5.3 ms). */
  float *b = delayed(a, n, 0.030);
  sg_align_config c;
  sg_align_config_init(&c);
  c.refine_s = 0;
  sg_align_result r;
  assert_int_equal(sg_align_signals(a, n, b, n, RATE, &c, &r, NULL), SG_OK);
  printf("coarse only: %+.3f ms\n", r.offset_s * 1e3);
  assert_true(fabs(r.offset_s - 0.030) < 0.0054);
  free(b);
  free(a);
}

static void stretch_is_drift(void **state) {
  (void)state;
  const double secs = 50, stretch = 1.002, off = 0.010;
  double t[1000];
  size_t k = event_times(secs - 1, 7, t, 1000);
  size_t n = (size_t)(secs * RATE);
  float *a = render(t, k, secs, 1.0, 0);
  float *b = render(t, k, secs, stretch, off);
  sg_align_config c;
  sg_align_config_init(&c);
  c.window_s = 10;
  sg_align_result r;
  assert_int_equal(sg_align_signals(a, n, b, n, RATE, &c, &r, NULL), SG_OK);
  /* b(t) = a((t - off) / stretch): offset at a-time T is off + (stretch - 1) T. */
  double e0 = off + (stretch - 1) * r.start_time_s, e1 = off + (stretch - 1) * r.end_time_s;
  printf("stretch: start %.4f ms @ %.2f s (expect %.4f), end %.4f ms @ %.2f s (expect %.4f), "
         "ratio %.6f\n",
         r.offset_s * 1e3, r.start_time_s, e0 * 1e3, r.end_offset_s * 1e3, r.end_time_s, e1 * 1e3,
         r.drift_ratio);
  assert_true(r.has_end);
  assert_true(r.end_time_s - r.start_time_s > 25);
  assert_true(fabs(r.offset_s - e0) < 0.001);
  assert_true(fabs(r.end_offset_s - e1) < 0.001);
  assert_true(fabs(r.drift_ratio - 0.002) < 0.0001);
  free(a);
  free(b);
}

static void files_match_memory(void **state) {
  (void)state;
  const double secs = 12;
  double t[400];
  size_t k = event_times(secs, 3, t, 400);
  size_t n = (size_t)(secs * RATE);
  float *a = render(t, k, secs, 1.0, 0);
  float *b = delayed(a, n, -0.0125);
  /* b as stereo with the right channel at half level: the downmix keeps the timing. */
  float *bs = malloc(2 * n * sizeof *bs);
  assert_non_null(bs);
  for (size_t i = 0; i < n; ++i) {
    bs[2 * i] = b[i];
    bs[2 * i + 1] = 0.5f * b[i];
  }
  sg_audio_writer_config wc;
  sg_audio_writer_config_init(&wc);
  wc.channels = 1;
  const char *pa = sg_test_path("a.wav"), *pb = sg_test_path("b.wav");
  assert_int_equal(sg_audio_write_all(pa, a, (int64_t)n, &wc, NULL), SG_OK);
  wc.channels = 2;
  assert_int_equal(sg_audio_write_all(pb, bs, (int64_t)n, &wc, NULL), SG_OK);
  sg_align_result r;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_align_files(pa, pb, NULL, &r, &d), SG_OK);
  printf("files: %+.4f ms\n", r.offset_s * 1e3);
  assert_true(fabs(r.offset_s + 0.0125) < 0.001);
  /* Different rates are refused with a reason. */
  wc.rate = 44100;
  const char *pc = sg_test_path("c.wav");
  assert_int_equal(sg_audio_write_all(pc, a, (int64_t)n / 2, &wc, NULL), SG_OK);
  assert_int_equal(sg_align_files(pa, pc, NULL, &r, &d), SG_E_UNSUPPORTED);
  assert_true(strstr(d.message, "44100") != NULL);
  free(a);
  free(b);
  free(bs);
}

static void tonal_material(void **state) {
  (void)state;
  /* Sustained harmonic tones changing every 0.4-0.7 s, no noise: the waveform correlation
   * repeats every period, the envelope stage must pick the right cycle. */
  const double secs = 12;
  size_t n = (size_t)(secs * RATE);
  float *a = calloc(n, sizeof *a);
  assert_non_null(a);
  sg_rng g;
  sg_rng_seed(&g, 55, 6);
  printf("tonal seed 55\n");
  for (double t = 0.2; t < secs - 1; t += sg_rng_range(&g, 0.4, 0.7)) {
    double dur = 0.35 + sg_rng_range(&g, 0, 0.3);
    gen_tone(a, n, RATE, t, dur, 48 + floor(sg_rng_range(&g, 0, 24)), 0.2);
    gen_tone(a, n, RATE, t, dur, 60 + floor(sg_rng_range(&g, 0, 24)), 0.1);
  }
  static const double offs[] = {0.0073, -0.0311};
  for (size_t i = 0; i < 2; ++i) {
    float *b = delayed(a, n, offs[i]);
    sg_align_result r;
    assert_int_equal(sg_align_signals(a, n, b, n, RATE, NULL, &r, NULL), SG_OK);
    printf("tonal %+.3f ms: %+.4f ms (fine %.3f)\n", offs[i] * 1e3, r.offset_s * 1e3,
           r.fine_similarity);
    assert_true(fabs(r.offset_s - offs[i]) < 0.001);
    free(b);
  }
  free(a);
}

static void stem_inside_a_mix(void **state) {
  (void)state;
  /* b is a mix: the stem a delayed 18.2 ms at -3 dB plus unrelated tones and bursts. */
  const double secs = 12;
  double t[400];
  size_t k = event_times(secs, 8, t, 400);
  size_t n = (size_t)(secs * RATE);
  float *a = render(t, k, secs, 1.0, 0);
  float *b = delayed(a, n, 0.0182);
  sg_rng g;
  sg_rng_seed(&g, 81, 6);
  printf("mix seed 81\n");
  for (size_t i = 0; i < n; ++i)
    b[i] *= 0.7f;
  for (double u = 0.1; u < secs - 1; u += sg_rng_range(&g, 0.3, 0.6)) {
    gen_tone(b, n, RATE, u, 0.5, 40 + floor(sg_rng_range(&g, 0, 30)), 0.15);
    gen_burst(b, n, RATE, u + 0.13, 0.1, 0.02, 0.1, &g);
  }
  sg_align_result r;
  assert_int_equal(sg_align_signals(a, n, b, n, RATE, NULL, &r, NULL), SG_OK);
  printf("mix: %+.4f ms (sim %.3f fine %.3f)\n", r.offset_s * 1e3, r.similarity, r.fine_similarity);
  assert_true(fabs(r.offset_s - 0.0182) < 0.001);
  assert_true(fabs(r.end_offset_s - 0.0182) < 0.001);
  free(a);
  free(b);
}

static void stem_entering_late(void **state) {
  (void)state;
  /* A stem silent for 25 s, playing 25..45 s, silent again to 60 s: the windows must sit where
   * it plays. Then a stem with only 3 s of material: one window, no drift. */
  const double secs = 60;
  size_t n = (size_t)(secs * RATE);
  double t[400];
  size_t k = event_times(20, 12, t, 400);
  for (size_t i = 0; i < k; ++i)
    t[i] += 25;
  float *a = render(t, k, secs, 1.0, 0);
  float *b = delayed(a, n, 0.012);
  sg_align_config c;
  sg_align_config_init(&c);
  c.window_s = 8;
  sg_align_result r;
  assert_int_equal(sg_align_signals(a, n, b, n, RATE, &c, &r, NULL), SG_OK);
  printf("late stem: %+.4f ms @ %.1f s, end %+.4f ms @ %.1f s\n", r.offset_s * 1e3, r.start_time_s,
         r.end_offset_s * 1e3, r.end_time_s);
  assert_true(fabs(r.offset_s - 0.012) < 0.001 && fabs(r.end_offset_s - 0.012) < 0.001);
  assert_true(r.has_end && r.start_time_s > 24 && r.end_time_s < 46);
  free(a);
  free(b);
  k = event_times(3.5, 13, t, 400);
  a = render(t, k, 10, 1.0, 0);
  n = 10 * RATE;
  b = delayed(a, n, -0.004);
  assert_int_equal(sg_align_signals(a, n, b, n, RATE, NULL, &r, NULL), SG_OK);
  assert_true(fabs(r.offset_s + 0.004) < 0.001);
  assert_false(r.has_end);
  assert_true(r.drift_s == 0);
  free(a);
  free(b);
}

static void silence_does_not_align(void **state) {
  (void)state;
  size_t n = RATE * 3;
  float *z = calloc(n, sizeof *z);
  assert_non_null(z);
  sg_align_result r;
  assert_int_equal(sg_align_signals(z, n, z, n, RATE, NULL, &r, NULL), SG_E_NOTFOUND);
  assert_int_equal(sg_align_signals(z, 0, z, n, RATE, NULL, &r, NULL), SG_E_INVAL);
  free(z);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(known_offsets),          cmocka_unit_test(stretch_is_drift),
      cmocka_unit_test(files_match_memory),     cmocka_unit_test(tonal_material),
      cmocka_unit_test(stem_inside_a_mix),      cmocka_unit_test(stem_entering_late),
      cmocka_unit_test(silence_does_not_align),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
