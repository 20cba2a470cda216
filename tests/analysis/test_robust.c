/* Robustness: hostile input (NaN, Inf, 1e30, denormals, random block sizes, empty and very short
 * streams) through every analysis. Each call must return a status and leave finite results;
 * under ASan/UBSan this is also a memory-safety test. */
#include "sg_test.h"

#include "stemgate/analysis.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float hostile(sg_rng *g) {
  switch (sg_rng_u32(g) % 12) {
  case 0:
    return NAN;
  case 1:
    return INFINITY;
  case 2:
    return -INFINITY;
  case 3:
    return 1e30f;
  case 4:
    return FLT_MIN / 4; /* denormal */
  case 5:
    return 0.0f;
  default:
    return (float)sg_rng_range(g, -1.5, 1.5);
  }
}

static void run_everything(const sg_features *f) {
  sg_onset_list on;
  if (sg_onsets_pick(f, NULL, &on) == SG_OK) {
    for (size_t i = 0; i < on.n; ++i)
      assert_true(isfinite(on.time[i]));
    sg_tempo_result t;
    sg_tempo_estimate(f, &on, NULL, &t);
    assert_true(isfinite(t.bpm));
    sg_downbeat_result db;
    sg_downbeat_estimate(&on, 120, 4, &db);
    sg_drift_result dr;
    sg_drift_estimate(&on, 120, 0, &dr);
    sg_grid_fit gf;
    sg_grid_fit_onsets(&on, 120, 0, 2, 0.01, &gf);
    double *bt = NULL;
    size_t nb = 0;
    if (sg_beat_times(&on, 120, 0, sg_features_duration(f) + 0.01, &bt, &nb) == SG_OK)
      free(bt);
    sg_beat_track tr;
    if (sg_beat_track_onsets(f, &on, 120, 0, sg_features_duration(f) + 0.01, NULL, &tr) == SG_OK) {
      for (size_t i = 0; i < tr.n; ++i)
        assert_true(isfinite(tr.time[i]) && (i == 0 || tr.time[i] > tr.time[i - 1]));
      assert_true(tr.confidence >= 0 && tr.confidence <= 1);
    } else {
      assert_null(tr.time);
    }
    sg_beat_track_free(&tr);
  }
  sg_onset_list_free(&on);
  sg_keyfit k;
  sg_key_estimate(f, 0, 0, SG_KEY_KRUMHANSL, &k);
  sg_key_track kt;
  if (sg_key_track_compute(f, NULL, &kt) == SG_OK)
    sg_key_track_free(&kt);
  sg_decay_result dr;
  sg_decay_tail(f, NULL, &dr);
  sg_echo_result er;
  sg_echo_at_lag(f, 0.1, 0.1, &er);
}

static void hostile_streams(void **state) {
  (void)state;
  const uint64_t seed = 1234;
  printf("seed %llu\n", (unsigned long long)seed);
  sg_rng g;
  sg_rng_seed(&g, seed, 1);
  static const unsigned rates[] = {8000, 44100, 48000, 192000};
  static const unsigned chans[] = {1, 2, 6, 8};
  for (int trial = 0; trial < 4; ++trial) {
    unsigned rate = rates[trial], ch = chans[trial];
    size_t total = (size_t)(sg_rng_range(&g, 0.5, 3.0) * rate);
    float *x = malloc(total * ch * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < total * ch; ++i)
      x[i] = hostile(&g);
    sg_meter *m = NULL;
    sg_features *f = NULL;
    assert_int_equal(sg_meter_create(&m, ch, rate, SG_METER_ALL, NULL), SG_OK);
    assert_int_equal(sg_features_create(&f, ch, rate, NULL, NULL), SG_OK);
    size_t done = 0;
    while (done < total) {
      size_t k = 1 + sg_rng_u32(&g) % 9000;
      if (k > total - done)
        k = total - done;
      assert_int_equal(sg_meter_add(m, x + done * ch, k), SG_OK);
      assert_int_equal(sg_features_add(f, x + done * ch, k), SG_OK);
      done += k;
    }
    assert_int_equal(sg_features_finish(f), SG_OK);
    assert_int_equal(sg_features_add(f, x, 1), SG_E_INVAL); /* finished */
    sg_meter_result r;
    assert_int_equal(sg_meter_result_get(m, &r), SG_OK);
    assert_true(r.nan_count > 0 && r.inf_count > 0);
    assert_true(isfinite(r.rms_dbfs) && isfinite(r.integrated_lufs) && isfinite(r.true_peak_dbtp) &&
                isfinite(r.short_term_max_lufs));
    run_everything(f);
    sg_meter_free(m);
    sg_features_free(f);
    free(x);
  }
}

static void tiny_streams(void **state) {
  (void)state;
  /* 0, 1 and 100 frames: nothing to find, nothing to crash on. */
  static const size_t lens[] = {0, 1, 100};
  float x[100];
  for (int i = 0; i < 100; ++i)
    x[i] = 0.5f * (float)sin(i * 0.3);
  for (int i = 0; i < 3; ++i) {
    sg_features *f = NULL;
    assert_int_equal(sg_features_create(&f, 1, 48000, NULL, NULL), SG_OK);
    assert_int_equal(sg_features_add(f, x, lens[i]), SG_OK);
    assert_int_equal(sg_features_finish(f), SG_OK);
    run_everything(f);
    sg_tempo_result t;
    assert_int_not_equal(sg_tempo_estimate(f, NULL, NULL, &t), SG_OK);
    sg_features_free(f);
  }
  sg_align_result ar;
  assert_int_not_equal(sg_align_signals(x, 100, x, 100, 48000, NULL, &ar, NULL), SG_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hostile_streams),
      cmocka_unit_test(tiny_streams),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
