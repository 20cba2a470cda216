/* Meter: levels of known signals, EBU Tech 3341 loudness, true peak, NaN/Inf, clip runs,
 * activity map, file metering. */
#include "sg_test.h"

#include "stemgate/analysis.h"
#include "stemgate/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *stereo_sine(unsigned rate, double secs, double hz, double amp, double phase,
                          double dc, size_t *frames) {
  size_t n = (size_t)(secs * rate);
  float *x = malloc(2 * n * sizeof *x);
  assert_non_null(x);
  for (size_t i = 0; i < n; ++i) {
    float v = (float)(dc + amp * sin(2 * SG_PI * hz * (double)i / rate + phase));
    x[2 * i] = x[2 * i + 1] = v;
  }
  *frames = n;
  return x;
}

static void measure(const float *x, size_t frames, unsigned ch, unsigned rate, unsigned flags,
                    sg_meter_result *r) {
  sg_meter *m = NULL;
  assert_int_equal(sg_meter_create(&m, ch, rate, flags, NULL), SG_OK);
  /* Odd block sizes: results must not depend on how the stream is cut. */
  size_t done = 0, blk = 1000;
  while (done < frames) {
    size_t k = frames - done < blk ? frames - done : blk;
    assert_int_equal(sg_meter_add(m, x + done * ch, k), SG_OK);
    done += k;
    blk = blk == 1000 ? 777 : 1000;
  }
  assert_int_equal(sg_meter_result_get(m, r), SG_OK);
  sg_meter_free(m);
}

static void full_scale_sine_levels(void **state) {
  (void)state;
  size_t n;
  float *x = stereo_sine(48000, 1.0, 997, 1.0, 0.3, 0, &n);
  sg_meter_result r;
  measure(x, n, 2, 48000, 0, &r);
  printf("sine: peak %.5f dBFS rms %.4f dBFS dc %.2e\n", r.sample_peak_dbfs, r.rms_dbfs, r.dc[0]);
  assert_true(fabs(r.sample_peak_dbfs) < 0.01);  /* 0 dBFS +- 0.01 dB      */
  assert_true(fabs(r.rms_dbfs + 3.0103) < 0.01); /* -3.01 dBFS +- 0.01 dB   */
  assert_true(fabs(r.dc[0]) < 1e-4 && fabs(r.dc[1]) < 1e-4);
  assert_int_equal(r.clip_runs, 0); /* isolated tops are not runs */
  assert_int_equal(r.nan_count + r.inf_count, 0);
  assert_int_equal(r.frames, (int64_t)n);
  assert_true(r.true_peak_dbtp == SG_SILENCE_DB); /* not measured */
  free(x);
  /* DC offset: 0.1 under a 0.5 sine. */
  x = stereo_sine(48000, 1.0, 100, 0.5, 0, 0.1, &n);
  measure(x, n, 2, 48000, 0, &r);
  assert_true(fabs(r.dc[0] - 0.1) < 1e-4);
  assert_true(fabs(r.sample_peak[1] - 0.6) < 1e-3);
  /* RMS of dc + sine: sqrt(dc^2 + a^2 / 2). */
  assert_true(fabs(r.rms[0] - sqrt(0.01 + 0.125)) < 1e-4);
  free(x);
}

static void ebu_tech_3341_sine(void **state) {
  (void)state;
  /* Tech 3341 test 1: stereo 1 kHz sine at -23 dBFS reads -23.0 LUFS (+-0.1 LU). */
  size_t n;
  float *x = stereo_sine(48000, 10.0, 1000, pow(10, -23.0 / 20), 0, 0, &n);
  sg_meter_result r;
  measure(x, n, 2, 48000, SG_METER_LOUDNESS, &r);
  printf("3341: I %.3f LUFS, S max %.3f LUFS, LRA %.3f LU\n", r.integrated_lufs,
         r.short_term_max_lufs, r.loudness_range_lu);
  assert_true(fabs(r.integrated_lufs + 23.0) <= 0.1);
  assert_true(fabs(r.short_term_max_lufs + 23.0) <= 0.1);
  assert_true(r.loudness_range_lu < 0.5);
  free(x);
  /* 20 dB quieter for 5 s then the -23 dBFS tone: the short-term maximum finds the loud part. */
  x = stereo_sine(48000, 10.0, 1000, pow(10, -23.0 / 20), 0, 0, &n);
  for (size_t i = 0; i < n / 2; ++i)
    x[2 * i] = x[2 * i + 1] = x[2 * i] * 0.1f;
  measure(x, n, 2, 48000, SG_METER_LOUDNESS, &r);
  assert_true(fabs(r.short_term_max_lufs + 23.0) <= 0.1);
  assert_true(r.loudness_range_lu > 10.0); /* two levels 20 LU apart */
  free(x);
}

static void ebu_tech_3341_3342_levels(void **state) {
  (void)state;
  /* Tech 3341 test 2: 1 kHz at -33 dBFS reads -33.0 LUFS (+-0.1). */
  size_t n;
  float *x = stereo_sine(48000, 10.0, 1000, pow(10, -33.0 / 20), 0, 0, &n);
  sg_meter_result r;
  measure(x, n, 2, 48000, SG_METER_LOUDNESS, &r);
  assert_true(fabs(r.integrated_lufs + 33.0) <= 0.1);
  free(x);
  /* Tech 3342 test 1: 20 s at -20 dBFS then 20 s at -30 dBFS: LRA 10 LU (+-1). */
  float *lo = stereo_sine(48000, 40.0, 1000, pow(10, -20.0 / 20), 0, 0, &n);
  for (size_t i = n / 2; i < n; ++i)
    lo[2 * i] = lo[2 * i + 1] = lo[2 * i] * (float)pow(10, -10.0 / 20);
  measure(lo, n, 2, 48000, SG_METER_LOUDNESS, &r);
  printf("3342 #1: LRA %.3f LU\n", r.loudness_range_lu);
  assert_true(fabs(r.loudness_range_lu - 10.0) <= 1.0);
  free(lo);
}

static void true_peak_above_sample_peak(void **state) {
  (void)state;
  /* fs/4 at 45 degrees: every sample sits at +-0.707 A, the waveform peaks at A between them. */
  size_t n;
  float *x = stereo_sine(48000, 1.0, 12000, 0.9, SG_PI / 4, 0, &n);
  sg_meter_result r;
  measure(x, n, 2, 48000, SG_METER_ALL, &r);
  double expect = 20 * log10(0.9);
  printf("tp: sample %.3f dBFS, true %.3f dBTP (expect %.3f)\n", r.sample_peak_dbfs,
         r.true_peak_dbtp, expect);
  assert_true(fabs(r.sample_peak_dbfs - (expect - 3.0103)) < 0.01);
  assert_true(r.true_peak_dbtp > r.sample_peak_dbfs + 2.5);
  assert_true(fabs(r.true_peak_dbtp - expect) < 0.3); /* 4x oversampling: within 0.3 dB */
  assert_true(r.true_peak[0] > 0 && r.true_peak[1] > 0);
  free(x);
}

static void nan_inf_counted_and_excluded(void **state) {
  (void)state;
  size_t n;
  float *x = stereo_sine(48000, 1.0, 440, 0.5, 0, 0, &n);
  x[100] = NAN;
  x[201] = NAN;
  x[5000] = NAN;
  x[7000] = INFINITY;
  x[7001] = INFINITY;
  x[9001] = -INFINITY;
  sg_meter_result r;
  measure(x, n, 2, 48000, SG_METER_ALL, &r);
  assert_int_equal(r.nan_count, 3);
  assert_int_equal(r.inf_count, 3);
  assert_true(isfinite(r.rms_dbfs) && isfinite(r.integrated_lufs) && isfinite(r.true_peak_dbtp));
  assert_true(r.sample_peak[0] <= 0.5001 && r.sample_peak[1] <= 0.5001);
  free(x);
}

static void clip_runs_counted(void **state) {
  (void)state;
  const size_t n = 4800;
  float *x = calloc(2 * n, sizeof *x);
  assert_non_null(x);
  for (size_t i = 0; i < 5; ++i) /* run of 5 in channel 0 */
    x[2 * (1000 + i)] = 1.0f;
  for (size_t i = 0; i < 2; ++i) /* 2 clipped samples: not a run */
    x[2 * (2000 + i)] = 1.0f;
  for (size_t i = 0; i < 3; ++i) /* run of 3 in channel 1, negative */
    x[2 * (3000 + i) + 1] = -1.0f;
  x[2 * 3001] = -1.0f; /* a lone clipped sample in channel 0 during it */
  sg_meter *m = NULL;
  assert_int_equal(sg_meter_create(&m, 2, 48000, 0, NULL), SG_OK);
  /* Cut the stream inside the channel-0 run: runs carry across blocks. */
  assert_int_equal(sg_meter_add(m, x, 1002), SG_OK);
  assert_int_equal(sg_meter_add(m, x + 2 * 1002, n - 1002), SG_OK);
  sg_meter_result r;
  assert_int_equal(sg_meter_result_get(m, &r), SG_OK);
  assert_int_equal(r.clipped_samples, 11);
  assert_int_equal(r.clip_runs, 2);
  assert_int_equal(r.first_signal_frame, 1000); /* sample-exact, across the block cut */
  assert_int_equal(r.last_signal_frame, 3002);
  sg_meter_free(m);
  free(x);
}

static void activity_map(void **state) {
  (void)state;
  const unsigned rate = 48000;
  const size_t n = 3 * rate;
  float *x = calloc(n, sizeof *x);
  assert_non_null(x);
  sg_rng g;
  sg_rng_seed(&g, 7, 1);
  printf("activity seed 7\n");
  for (size_t i = rate; i < 2 * rate; ++i)
    x[i] = (float)(0.1 * sg_rng_normal(&g)); /* -20 dBFS */
  sg_meter *m = NULL;
  assert_int_equal(sg_meter_create(&m, 1, rate, 0, NULL), SG_OK);
  assert_int_equal(sg_meter_add(m, x, n), SG_OK);
  size_t w = sg_meter_window_frames(m);
  assert_int_equal(w, 2400);
  assert_int_equal(sg_meter_window_count(m), 60);
  assert_true(fabs(sg_meter_window_db(m, 30) + 20) < 0.5);
  assert_true(sg_meter_window_db(m, 5) == SG_SILENCE_DB);
  assert_int_equal(sg_meter_first_active(m, -60), (int64_t)rate);
  assert_int_equal(sg_meter_last_active(m, -60), (int64_t)(2 * rate));
  assert_int_equal(sg_meter_active(m, 0, rate - 2400, -60), 0);
  assert_int_equal(sg_meter_active(m, rate - 100, rate + 1, -60), 1);
  assert_int_equal(sg_meter_active(m, 2 * rate, 3 * rate, -60), 0);
  assert_int_equal(sg_meter_first_active(m, -10), -1);
  sg_meter_result r;
  assert_int_equal(sg_meter_result_get(m, &r), SG_OK);
  /* Sample-exact signal bounds: noise occupies [rate, 2 rate) (a normal sample under 1e-4 at
   * either edge is possible, so within 3 frames). */
  assert_true(r.first_signal_frame >= (int64_t)rate && r.first_signal_frame < (int64_t)rate + 3);
  assert_true(r.last_signal_frame < 2 * (int64_t)rate &&
              r.last_signal_frame > 2 * (int64_t)rate - 4);
  /* A partial last window counts. */
  float tail[100];
  for (int i = 0; i < 100; ++i)
    tail[i] = 0.5f;
  assert_int_equal(sg_meter_add(m, tail, 100), SG_OK);
  assert_int_equal(sg_meter_window_count(m), 61);
  assert_int_equal(sg_meter_last_active(m, -60), (int64_t)n + 100);
  sg_meter_free(m);
  free(x);
}

static void file_matches_memory(void **state) {
  (void)state;
  size_t n;
  float *x = stereo_sine(44100, 4.0, 1000, 0.3, 0, 0, &n);
  const char *p = sg_test_path("meter.wav");
  sg_audio_writer_config wc;
  sg_audio_writer_config_init(&wc);
  wc.rate = 44100;
  assert_int_equal(sg_audio_write_all(p, x, (int64_t)n, &wc, NULL), SG_OK);
  sg_meter_result a, b;
  measure(x, n, 2, 44100, SG_METER_ALL, &a);
  sg_meter *keep = NULL;
  assert_int_equal(sg_meter_file(p, SG_METER_ALL, &b, &keep, NULL), SG_OK);
  assert_non_null(keep);
  assert_int_equal(b.frames, (int64_t)n);
  assert_true(fabs(a.integrated_lufs - b.integrated_lufs) < 1e-6);
  assert_true(fabs(a.true_peak_dbtp - b.true_peak_dbtp) < 1e-6);
  assert_int_equal(sg_meter_first_active(keep, -60), 0);
  sg_meter_free(keep);
  /* One pass for meter and features gives the same meter result. */
  sg_meter_result c;
  sg_features *f = NULL;
  assert_int_equal(sg_analysis_file_pass(p, SG_METER_ALL, &c, NULL, NULL, &f, NULL), SG_OK);
  assert_non_null(f);
  assert_true(c.integrated_lufs == b.integrated_lufs && c.true_peak_dbtp == b.true_peak_dbtp);
  assert_int_equal(sg_features_frames(f), (int64_t)n);
  sg_features_free(f);
  assert_int_equal(sg_analysis_file_pass(p, 0, NULL, NULL, NULL, NULL, NULL), SG_E_INVAL);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_not_equal(sg_meter_file(sg_test_path("missing.wav"), 0, &b, NULL, &d), SG_OK);
  free(x);
}

static void meter_as_writer_tap(void **state) {
  (void)state;
  /* The meter sees every block on its way to disk: the same numbers as reading the file back. */
  size_t n;
  float *x = stereo_sine(48000, 3.0, 440, 0.25, 0, 0, &n);
  sg_meter *m = NULL;
  assert_int_equal(sg_meter_create(&m, 2, 48000, SG_METER_ALL, NULL), SG_OK);
  sg_audio_writer_config wc;
  sg_audio_writer_config_init(&wc);
  wc.tap = sg_meter_tap;
  wc.tap_user = m;
  sg_audio_writer *w = NULL;
  const char *p = sg_test_path("tap.wav");
  assert_int_equal(sg_audio_writer_open(&w, p, &wc, NULL), SG_OK);
  for (size_t done = 0; done < n; done += 4800)
    assert_int_equal(
        sg_audio_writer_write(w, x + 2 * done, n - done < 4800 ? n - done : 4800, NULL), SG_OK);
  assert_int_equal(sg_audio_writer_close(w, NULL), SG_OK);
  sg_meter_result a, b;
  assert_int_equal(sg_meter_result_get(m, &a), SG_OK);
  assert_int_equal(sg_meter_file(p, SG_METER_ALL, &b, NULL, NULL), SG_OK);
  printf("tap: %.4f LUFS vs file %.4f LUFS\n", a.integrated_lufs, b.integrated_lufs);
  assert_int_equal(a.frames, b.frames);
  assert_true(fabs(a.integrated_lufs - b.integrated_lufs) < 1e-9);
  assert_true(fabs(a.true_peak_dbtp - b.true_peak_dbtp) < 1e-9);
  sg_meter_free(m);
  free(x);
}

static void invalid_arguments(void **state) {
  (void)state;
  sg_meter *m = NULL;
  assert_int_equal(sg_meter_create(&m, 0, 48000, 0, NULL), SG_E_INVAL);
  assert_int_equal(sg_meter_create(&m, 9, 48000, 0, NULL), SG_E_INVAL);
  assert_int_equal(sg_meter_create(&m, 2, 100, 0, NULL), SG_E_INVAL);
  assert_null(m);
  assert_int_equal(sg_meter_add(NULL, NULL, 0), SG_E_INVAL);
  /* Empty meter: silence values, no crash. */
  assert_int_equal(sg_meter_create(&m, 1, 48000, SG_METER_ALL, NULL), SG_OK);
  sg_meter_result r;
  assert_int_equal(sg_meter_result_get(m, &r), SG_OK);
  assert_true(r.integrated_lufs == SG_SILENCE_DB && r.rms_dbfs == SG_SILENCE_DB);
  assert_true(r.first_signal_frame == -1 && r.last_signal_frame == -1);
  assert_int_equal(sg_meter_first_active(m, -100), -1);
  sg_meter_free(m);
}

/* A frozen meter answers as the meter it was taken from: the same result and activity map, bit
 * for bit; it takes no blocks; an activity map of the wrong length is refused. */
static void frozen_meter_answers_as_measured(void **state) {
  (void)state;
  const size_t n = 48000 * 2 + 1234; /* a partial last window */
  float *x = malloc(n * 2 * sizeof *x);
  assert_non_null(x);
  for (size_t i = 0; i < n; ++i)
    x[2 * i] = x[2 * i + 1] = (float)(0.3 * sin(0.01 * (double)i) * (i > n / 3 ? 1.0 : 0.001));
  sg_meter *m = NULL, *f = NULL;
  assert_int_equal(sg_meter_create(&m, 2, 48000, SG_METER_ALL, NULL), SG_OK);
  assert_int_equal(sg_meter_add(m, x, n), SG_OK);
  sg_meter_result a, b;
  assert_int_equal(sg_meter_result_get(m, &a), SG_OK);
  const size_t nw = sg_meter_window_count(m);
  double *w = malloc(nw * sizeof *w);
  assert_non_null(w);
  for (size_t i = 0; i < nw; ++i)
    w[i] = sg_meter_window_db(m, i);
  assert_int_equal(sg_meter_freeze(&f, &a, sg_meter_window_frames(m), w, nw - 1, NULL), SG_E_INVAL);
  assert_int_equal(sg_meter_freeze(&f, &a, sg_meter_window_frames(m), w, nw, NULL), SG_OK);
  assert_int_equal(sg_meter_result_get(f, &b), SG_OK);
  assert_int_equal(memcmp(&a, &b, sizeof a), 0);
  assert_int_equal(sg_meter_window_count(f), nw);
  for (size_t i = 0; i <= nw; ++i)
    assert_true(sg_meter_window_db(f, i) == sg_meter_window_db(m, i));
  assert_int_equal(sg_meter_first_active(f, -40), sg_meter_first_active(m, -40));
  assert_int_equal(sg_meter_last_active(f, -40), sg_meter_last_active(m, -40));
  assert_int_equal(sg_meter_active(f, 0, 4800, -40), sg_meter_active(m, 0, 4800, -40));
  assert_int_equal(sg_meter_add(f, x, 16), SG_E_INVAL);
  sg_meter_free(f);
  /* The map given a window at a time (kept as floats but the open last window, a double):
   * the same answers; a closed window's level no float holds is refused. */
  assert_true((double)(float)w[nw - 1] != w[nw - 1]); /* the partial window's level */
  assert_int_equal(sg_meter_freeze(&f, &a, sg_meter_window_frames(m), NULL, nw, NULL), SG_OK);
  for (size_t i = 0; i < nw; i += 7)
    assert_int_equal(sg_meter_freeze_set(f, i, w + i, nw - i < 7 ? nw - i : 7), SG_OK);
  for (size_t i = 0; i <= nw; ++i)
    assert_true(sg_meter_window_db(f, i) == sg_meter_window_db(m, i));
  assert_int_equal(sg_meter_freeze_set(f, nw - 1, w, 2), SG_E_INVAL); /* past the end */
  const double odd = w[0] + 1e-9;
  assert_int_equal(sg_meter_freeze_set(f, 0, &odd, 1), SG_E_INVAL);
  sg_meter_free(f);
  w[1] = odd;
  assert_int_equal(sg_meter_freeze(&f, &a, sg_meter_window_frames(m), w, nw, NULL), SG_E_INVAL);
  assert_null(f);
  sg_meter_free(m);
  free(w);
  free(x);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(frozen_meter_answers_as_measured),
      cmocka_unit_test(full_scale_sine_levels),
      cmocka_unit_test(ebu_tech_3341_sine),
      cmocka_unit_test(ebu_tech_3341_3342_levels),
      cmocka_unit_test(true_peak_above_sample_peak),
      cmocka_unit_test(nan_inf_counted_and_excluded),
      cmocka_unit_test(clip_runs_counted),
      cmocka_unit_test(activity_map),
      cmocka_unit_test(file_matches_memory),
      cmocka_unit_test(meter_as_writer_tap),
      cmocka_unit_test(invalid_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
