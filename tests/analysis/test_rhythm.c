/* Rhythm: onsets, tempo of click tracks (no octave errors), first downbeat, grid fit, drift and
 * beat times, on synthesised click tracks with known answers. */
#include "analysis_gen.h"
#include "sg_test.h"

#include "stemgate/analysis.h"
#include "stemgate/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Click track: beats at lead + k * 60 / bpm; the first beat of each bar (counting from
 * first_pos) is accented (louder and lower). Optional jitter (uniform +-jitter_s, seeded). */
static float *click_track(unsigned rate, double secs, double bpm, double lead, int first_pos,
                          double jitter_s, uint64_t seed, size_t *n_out) {
  size_t n = (size_t)(secs * rate);
  float *x = calloc(n, sizeof *x);
  assert_non_null(x);
  sg_rng g;
  sg_rng_seed(&g, seed, 3);
  double P = 60.0 / bpm;
  for (int k = 0; lead + k * P < secs - 0.05; ++k) {
    double t = lead + k * P + (jitter_s > 0 ? sg_rng_range(&g, -jitter_s, jitter_s) : 0);
    int pos = (first_pos + k) % 4;
    if (pos == 0) {
      gen_click(x, n, rate, t, 0.9, 800);
      gen_click(x, n, rate, t, 0.6, 90);
    } else
      gen_click(x, n, rate, t, 0.35, 1600);
  }
  *n_out = n;
  return x;
}

static sg_features *features_of(const float *x, size_t n, unsigned rate) {
  sg_features_config c;
  sg_features_config_init(&c);
  c.flags = SG_FEAT_ONSET | SG_FEAT_ENERGY;
  sg_features *f = NULL;
  assert_int_equal(sg_features_from_mono(&f, x, n, rate, &c, NULL), SG_OK);
  return f;
}

static void onsets_at_clicks(void **state) {
  (void)state;
  size_t n;
  float *x = click_track(48000, 6.0, 100, 0.2537, 0, 0, 1, &n);
  sg_features *f = features_of(x, n, 48000);
  sg_onset_list on;
  assert_int_equal(sg_onsets_pick(f, NULL, &on), SG_OK);
  /* Clicks at 0.2537 + 0.6 k up to 5.95 s: 10 clicks. Refined times within 0.5 ms. */
  printf("onsets: %zu\n", on.n);
  assert_int_equal(on.n, 10);
  double worst = 0;
  for (size_t i = 0; i < on.n; ++i) {
    double e = fabs(on.time[i] - (0.2537 + 0.6 * (double)i));
    worst = e > worst ? e : worst;
  }
  printf("worst onset error %.2f ms\n", worst * 1e3);
  assert_true(worst < 0.0005); /* 0.5 ms */
  sg_onset_list_free(&on);
  sg_features_free(f);
  free(x);
}

static void tempo_of_click_tracks(void **state) {
  (void)state;
  static const double bpms[] = {72, 97.3, 120, 140, 174};
  static const unsigned rates[] = {44100, 48000, 44100, 48000, 44100};
  for (size_t i = 0; i < sizeof bpms / sizeof *bpms; ++i) {
    size_t n;
    float *x = click_track(rates[i], 20.0, bpms[i], 0.1, 0, 0, 2, &n);
    sg_features *f = features_of(x, n, rates[i]);
    sg_tempo_result t;
    assert_int_equal(sg_tempo_estimate(f, NULL, NULL, &t), SG_OK);
    printf("%.1f BPM @ %u: est %.3f (acf %.3f, conf %.2f, %zu onsets)\n", bpms[i], rates[i], t.bpm,
           t.bpm_acf, t.confidence, t.onsets_used);
    assert_true(fabs(t.bpm - bpms[i]) < 0.5);     /* within 0.5 BPM, no octave errors */
    assert_true(fabs(t.bpm_acf - bpms[i]) < 1.5); /* the ACF stage alone is already close */
    assert_true(t.confidence > 0.3);
    sg_features_free(f);
    free(x);
  }
}

/* The shared tempo check: other metrical levels of the same pulse fold to the expected tempo and
 * say which; a tempo 6 % off stays off. */
static void tempo_check_folds_metrical_levels(void **state) {
  (void)state;
  size_t n;
  float *x = click_track(48000, 20.0, 140, 0.1, 0, 0, 5, &n);
  sg_features *f = features_of(x, n, 48000);
  sg_tempo_check t;
  assert_int_equal(sg_tempo_check_against(f, 140, &t), SG_OK);
  assert_true(fabs(t.folded_bpm - 140) < 0.5 && t.level == 1.0);
  assert_int_equal(sg_tempo_check_against(f, 70, &t), SG_OK); /* a 70 BPM song, hats at 140 */
  assert_true(fabs(t.folded_bpm - 70) < 0.5);
  assert_int_equal(sg_tempo_check_against(f, 93.333, &t), SG_OK); /* 140 = dotted 93.3 */
  printf("140 against 93.33: %.2f (%s)\n", t.folded_bpm, t.level_name);
  assert_true(fabs(t.folded_bpm - 93.333) < 0.5);
  assert_int_equal(sg_tempo_check_against(f, 132, &t), SG_OK); /* wrong tempo: stays wrong */
  printf("140 against 132: %.2f\n", t.folded_bpm);
  assert_true(fabs(t.folded_bpm - 132) > 5.0);
  assert_int_equal(sg_tempo_check_against(f, 0, &t), SG_E_INVAL);
  sg_features_free(f);
  free(x);
}

static void tempo_resolves_tenths_on_long_material(void **state) {
  (void)state;
  /* 60 s with +-4 ms jitter: 97.3 must not read as 97.0 (tolerance 0.05 BPM). */
  size_t n;
  float *x = click_track(48000, 60.0, 97.3, 0.5, 0, 0.004, 11, &n);
  printf("jitter seed 11\n");
  sg_features *f = features_of(x, n, 48000);
  sg_tempo_result t;
  assert_int_equal(sg_tempo_estimate(f, NULL, NULL, &t), SG_OK);
  printf("97.3 long: %.4f BPM (acf %.3f)\n", t.bpm, t.bpm_acf);
  assert_true(fabs(t.bpm - 97.3) < 0.05);
  sg_features_free(f);
  free(x);
}

/* A drum kit pattern: kick, snare (noise), closed hats on every eighth. dnb = 1: kick on 1 and
 * the "and" of 3 (drum and bass). Seeded. */
static void kick(float *x, size_t n, unsigned rate, double t) {
  long s0 = lround(t * rate);
  for (long i = 0; i < (long)(0.25 * rate) && s0 + i < (long)n; ++i) {
    double u = (double)i / rate;
    x[s0 + i] +=
        (float)(0.8 * exp(-u / 0.08) * sin(2 * SG_PI * (50 * u + 1.6 * (1 - exp(-u / 0.02)))));
  }
}

static float *drum_pattern(unsigned rate, double secs, double bpm, double lead, int dnb,
                           uint64_t seed, size_t *n_out) {
  size_t n = (size_t)(secs * rate);
  float *x = calloc(n, sizeof *x);
  assert_non_null(x);
  sg_rng g;
  sg_rng_seed(&g, seed, 8);
  double P = 60 / bpm;
  for (int k = 0; lead + k * P < secs - 1; ++k) {
    double t = lead + k * P;
    int pos = k % 4;
    if (pos == 0 || (pos == 2 && !dnb))
      kick(x, n, rate, t);
    if (pos == 2 && dnb)
      kick(x, n, rate, t + P / 2);
    if (pos == 1 || pos == 3)
      gen_burst(x, n, rate, t, 0.4, 0.05, 0.2, &g);
    gen_burst(x, n, rate, t, 0.08, 0.01, 0.05, &g);
    gen_burst(x, n, rate, t + P / 2, 0.06, 0.01, 0.05, &g);
  }
  *n_out = n;
  return x;
}

static void tempo_and_downbeat_of_drum_patterns(void **state) {
  (void)state;
  /* Kick on 1 and 3, snare on 2 and 4, eighth hats: tempo within 0.5 BPM, downbeat on the
   * first kick (0.1 s) within 5 ms. */
  static const double bpms[] = {85, 96, 128, 140};
  for (size_t i = 0; i < 4; ++i) {
    size_t n;
    float *x = drum_pattern(44100, 20, bpms[i], 0.1, 0, 20 + i, &n);
    sg_features *f = features_of(x, n, 44100);
    sg_onset_list on;
    assert_int_equal(sg_onsets_pick(f, NULL, &on), SG_OK);
    sg_tempo_result t;
    assert_int_equal(sg_tempo_estimate(f, &on, NULL, &t), SG_OK);
    sg_downbeat_result db;
    assert_int_equal(sg_downbeat_estimate(&on, t.bpm, 4, &db), SG_OK);
    printf("kit %.0f BPM (seed %zu): %.3f BPM, downbeat %.4f s (conf %.2f)\n", bpms[i], 20 + i,
           t.bpm, db.first_downbeat_s, db.confidence);
    assert_true(fabs(t.bpm - bpms[i]) < 0.5);
    assert_true(fabs(db.first_downbeat_s - 0.1) < 0.005);
    sg_onset_list_free(&on);
    sg_features_free(f);
    free(x);
  }
  /* Drum and bass at 174: the kick/snare cycle alone says 87, an octave the hint settles. */
  size_t n;
  float *x = drum_pattern(44100, 20, 174, 0.1, 1, 30, &n);
  sg_features *f = features_of(x, n, 44100);
  sg_tempo_config tc;
  sg_tempo_config_init(&tc);
  sg_tempo_result t;
  assert_int_equal(sg_tempo_estimate(f, NULL, &tc, &t), SG_OK);
  double free_bpm = t.bpm;
  printf("  unhinted: acf %.3f, %zu onsets used\n", t.bpm_acf, t.onsets_used);
  tc.hint_bpm = 170;
  assert_int_equal(sg_tempo_estimate(f, NULL, &tc, &t), SG_OK);
  printf("dnb 174 (seed 30): %.3f BPM unhinted, %.3f BPM with hint 170\n", free_bpm, t.bpm);
  assert_true(fabs(free_bpm - 174) < 0.5 || fabs(free_bpm - 87) < 0.25); /* 174 or its half */
  assert_true(fabs(t.bpm - 174) < 0.5);
  sg_features_free(f);
  free(x);
}

static void other_sample_rates(void **state) {
  (void)state;
  /* Frame sizes scale with the rate: the same answers at 8, 22.05 and 96 kHz. */
  static const unsigned rates[] = {8000, 22050, 96000};
  for (size_t i = 0; i < 3; ++i) {
    size_t n;
    float *x = click_track(rates[i], 10.0, 120, 0.0413, 0, 0, 9, &n);
    sg_features *f = features_of(x, n, rates[i]);
    sg_onset_list on;
    assert_int_equal(sg_onsets_pick(f, NULL, &on), SG_OK);
    sg_tempo_result t;
    assert_int_equal(sg_tempo_estimate(f, &on, NULL, &t), SG_OK);
    printf("%u Hz: %.3f BPM, first onset %.4f s, %zu onsets\n", rates[i], t.bpm, on.time[0], on.n);
    assert_true(fabs(t.bpm - 120) < 0.5);
    assert_true(fabs(on.time[0] - 0.0413) < 0.001);
    assert_int_equal(on.n, 20);
    sg_onset_list_free(&on);
    sg_features_free(f);
    free(x);
  }
}

static void beat_times_follow_a_tempo_change(void **state) {
  (void)state;
  /* 120 BPM for 16 beats, then 127 BPM: a tempo map must follow the clicks (within 1 ms). */
  const unsigned rate = 48000;
  const double secs = 16;
  size_t n = (size_t)(secs * rate);
  float *x = calloc(n, sizeof *x);
  assert_non_null(x);
  double clicks[64];
  size_t nc = 0;
  for (double t = 0.25; t < secs - 0.1 && nc < 64; t += nc < 16 ? 0.5 : 60.0 / 127) {
    gen_click(x, n, rate, t, nc % 4 ? 0.4 : 0.9, 1000);
    clicks[nc++] = t;
  }
  sg_features *f = features_of(x, n, rate);
  sg_onset_list on;
  assert_int_equal(sg_onsets_pick(f, NULL, &on), SG_OK);
  double *bt;
  size_t nb;
  assert_int_equal(sg_beat_times(&on, 120, 0.25, secs, &bt, &nb), SG_OK);
  printf("tempo change: %zu beats for %zu clicks\n", nb, nc);
  assert_true(nb >= nc);
  double worst = 0;
  for (size_t i = 0; i < nc; ++i)
    worst = fmax(worst, fabs(bt[i] - clicks[i]));
  printf("  worst beat error %.3f ms\n", worst * 1e3);
  assert_true(worst < 0.001);
  free(bt);
  sg_onset_list_free(&on);
  sg_features_free(f);
  free(x);
}

static void no_tempo_in_a_single_hit(void **state) {
  (void)state;
  /* One noise burst and a 2 s reverberant tail: its ripples are onsets of a sort, but not a
   * tempo. */
  const unsigned rate = 48000;
  size_t n = 5 * rate;
  float *x = calloc(n, sizeof *x);
  assert_non_null(x);
  sg_rng g;
  sg_rng_seed(&g, 17, 2);
  gen_burst(x, n, rate, 0.5, 0.3, 2.0 / log(1000.0), 4.0, &g);
  sg_features *f = features_of(x, n, rate);
  sg_tempo_result t;
  assert_int_equal(sg_tempo_estimate(f, NULL, NULL, &t), SG_E_NOTFOUND);
  assert_true(t.bpm == 0);
  sg_features_free(f);
  free(x);
}

static void no_tempo_in_silence(void **state) {
  (void)state;
  float *x = calloc(48000 * 5, sizeof *x);
  assert_non_null(x);
  sg_features *f = features_of(x, 48000 * 5, 48000);
  sg_tempo_result t;
  assert_int_equal(sg_tempo_estimate(f, NULL, NULL, &t), SG_E_NOTFOUND);
  assert_true(t.bpm == 0);
  sg_features_free(f);
  free(x);
}

static void first_downbeat_offset(void **state) {
  (void)state;
  /* 37 ms of silence, then beat 1 of the bar. Then a pickup: the track starts on beat 3, so the
   * first downbeat is two beats later. Within 5 ms. */
  static const int first_pos[] = {0, 2};
  for (int v = 0; v < 2; ++v) {
    double bpm = 97.3, P = 60 / bpm;
    size_t n;
    float *x = click_track(48000, 16.0, bpm, 0.037, first_pos[v], 0, 3, &n);
    sg_features *f = features_of(x, n, 48000);
    sg_onset_list on;
    assert_int_equal(sg_onsets_pick(f, NULL, &on), SG_OK);
    sg_tempo_result t;
    assert_int_equal(sg_tempo_estimate(f, &on, NULL, &t), SG_OK);
    sg_downbeat_result db;
    assert_int_equal(sg_downbeat_estimate(&on, t.bpm, 4, &db), SG_OK);
    double expect = 0.037 + (first_pos[v] ? (4 - first_pos[v]) * P : 0);
    printf("downbeat: %.4f s (expect %.4f), conf %.2f\n", db.first_downbeat_s, expect,
           db.confidence);
    assert_true(fabs(db.first_downbeat_s - expect) < 0.005);
    assert_true(db.confidence > 0.2);
    sg_onset_list_free(&on);
    sg_features_free(f);
    free(x);
  }
}

static void grid_fit_and_drift(void **state) {
  (void)state;
  /* Exact grid: deviations under 2 ms. */
  size_t n;
  float *x = click_track(48000, 12.0, 120, 0.2, 0, 0, 4, &n);
  sg_features *f = features_of(x, n, 48000);
  sg_onset_list on;
  assert_int_equal(sg_onsets_pick(f, NULL, &on), SG_OK);
  sg_grid_fit g;
  assert_int_equal(sg_grid_fit_onsets(&on, 120, 0.2, 1, 0.005, &g), SG_OK);
  printf("grid: mean %.2f ms max %.2f ms frac %.2f\n", g.mean_abs_dev_s * 1e3,
         g.max_abs_dev_s * 1e3, g.on_grid_frac);
  assert_true(g.mean_abs_dev_s < 0.002 && g.max_abs_dev_s < 0.002);
  assert_true(g.on_grid_frac == 1.0);
  /* The same onsets against a grid 20 ms late: mean signed deviation -20 ms (+-2). */
  assert_int_equal(sg_grid_fit_onsets(&on, 120, 0.22, 1, 0.005, &g), SG_OK);
  assert_true(fabs(g.mean_dev_s + 0.020) < 0.002);
  assert_true(g.on_grid_frac == 0.0);
  sg_onset_list_free(&on);
  sg_features_free(f);
  free(x);

  /* Material 0.2% fast against a nominal 120 BPM grid: tempo ratio 1.002, drift = the time the
   * track gains between the first and last matched beats. */
  x = click_track(48000, 30.0, 120 * 1.002, 0.2, 0, 0, 5, &n);
  f = features_of(x, n, 48000);
  assert_int_equal(sg_onsets_pick(f, NULL, &on), SG_OK);
  sg_drift_result dr;
  assert_int_equal(sg_drift_estimate(&on, 120, 0.2, &dr), SG_OK);
  double P = 0.5 / 1.002;
  double kspan = floor((on.time[on.n - 1] - 0.2) / P + 0.5);
  double expect = kspan * (P - 0.5);
  printf("drift: ratio %.5f drift %.2f ms (expect %.2f) resid %.2f ms, %zu onsets\n",
         dr.tempo_ratio, dr.drift_s * 1e3, expect * 1e3, dr.residual_s * 1e3, dr.onsets_used);
  assert_true(fabs(dr.tempo_ratio - 1.002) < 0.0002);
  assert_true(fabs(dr.drift_s - expect) < 0.002);
  /* Beat times: one per beat, each within 2 ms of the click. */
  double *bt;
  size_t nb;
  assert_int_equal(sg_beat_times(&on, 120, 0.2, 30.0, &bt, &nb), SG_OK);
  size_t clicks = (size_t)floor((30.0 - 0.05 - 0.2) / P) + 1;
  printf("beats %zu (clicks %zu)\n", nb, clicks);
  assert_true(nb >= clicks && nb <= clicks + 1);
  for (size_t i = 0; i < clicks; ++i)
    assert_true(fabs(bt[i] - (0.2 + (double)i * P)) < 0.002);
  free(bt);
  sg_onset_list_free(&on);
  sg_features_free(f);
  free(x);
}

static void features_from_file_match(void **state) {
  (void)state;
  size_t n;
  float *x = click_track(44100, 8.0, 140, 0.1, 0, 0, 6, &n);
  float *st = malloc(2 * n * sizeof *st);
  assert_non_null(st);
  for (size_t i = 0; i < n; ++i)
    st[2 * i] = st[2 * i + 1] = x[i];
  const char *p = sg_test_path("clicks.wav");
  sg_audio_writer_config wc;
  sg_audio_writer_config_init(&wc);
  wc.rate = 44100;
  assert_int_equal(sg_audio_write_all(p, st, (int64_t)n, &wc, NULL), SG_OK);
  sg_features *ff = NULL, *fm = features_of(x, n, 44100);
  sg_features_config c;
  sg_features_config_init(&c);
  c.flags = SG_FEAT_ONSET | SG_FEAT_ENERGY;
  assert_int_equal(sg_features_from_file(&ff, p, &c, NULL), SG_OK);
  size_t na, nb;
  const float *ea = sg_features_onset_env(fm, &na, NULL);
  const float *eb = sg_features_onset_env(ff, &nb, NULL);
  assert_int_equal(na, nb);
  for (size_t i = 0; i < na; ++i)
    assert_true(fabsf(ea[i] - eb[i]) <= 1e-5f * (1 + fabsf(ea[i])));
  sg_features_free(ff);
  sg_features_free(fm);
  free(st);
  free(x);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(onsets_at_clicks),
      cmocka_unit_test(tempo_of_click_tracks),
      cmocka_unit_test(tempo_resolves_tenths_on_long_material),
      cmocka_unit_test(tempo_check_folds_metrical_levels),
      cmocka_unit_test(tempo_and_downbeat_of_drum_patterns),
      cmocka_unit_test(other_sample_rates),
      cmocka_unit_test(beat_times_follow_a_tempo_change),
      cmocka_unit_test(no_tempo_in_a_single_hit),
      cmocka_unit_test(no_tempo_in_silence),
      cmocka_unit_test(first_downbeat_offset),
      cmocka_unit_test(grid_fit_and_drift),
      cmocka_unit_test(features_from_file_match),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
