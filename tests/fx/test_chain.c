/* Chain builder: errors name the spec position (file:line:col) with allowed values and a
 * did-you-mean; a valid chain processes audio, reports latency, tail, description, sidechain and
 * gain reduction; reset gives identical output. */
#include "sg_test.h"

#include "fx_test_util.h"
#include "stemgate/fx.h"
#include "stemgate/spec.h"

#include <stdio.h>

#define RATE 48000.0

static void set_type(sg_effect_spec *e, const char *type, int line) {
  memset(e, 0, sizeof *e);
  snprintf(e->type.s, sizeof e->type.s, "%s", type);
  e->type.pos.line = line, e->type.pos.col = 11;
  e->pos.line = line, e->pos.col = 9;
}

static void add_num(sg_effect_spec *e, const char *key, double v, int line, int col) {
  sg_param *p = &e->params.v[e->params.n++];
  snprintf(p->key, sizeof p->key, "%s", key);
  snprintf(p->text, sizeof p->text, "%g", v);
  p->num = v, p->is_num = 1;
  p->pos.line = line, p->pos.col = col;
}

static void add_text(sg_effect_spec *e, const char *key, const char *v, int line, int col) {
  sg_param *p = &e->params.v[e->params.n++];
  snprintf(p->key, sizeof p->key, "%s", key);
  snprintf(p->text, sizeof p->text, "%s", v);
  p->is_num = 0;
  p->pos.line = line, p->pos.col = col;
}

static void expect_error(const sg_effect_spec *fx, int n, int line, int col, const char *must1,
                         const char *must2) {
  sg_fx_chain *c = (sg_fx_chain *)0x1;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_fx_chain_create(fx, n, RATE, 120, "song.yaml", &c, &d), SG_E_SPEC);
  assert_null(c);
  char buf[700];
  sg_diag_format(&d, buf, sizeof buf);
  printf("  %s\n", buf);
  assert_string_equal(d.file, "song.yaml");
  assert_int_equal(d.line, line);
  assert_int_equal(d.col, col);
  assert_non_null(strstr(d.message, must1));
  if (must2)
    assert_non_null(strstr(d.message, must2));
}

static void errors_point_into_the_spec(void **state) {
  (void)state;
  sg_effect_spec fx[3];
  set_type(&fx[0], "eq", 10);
  add_num(&fx[0], "freq", 200, 10, 20);
  set_type(&fx[1], "revreb", 12);
  expect_error(fx, 2, 12, 11, "unknown effect type 'revreb'", "did you mean 'reverb'?");
  assert_non_null(strstr(fx[1].type.s, "revreb"));

  set_type(&fx[1], "reverb", 12);
  add_num(&fx[1], "rt6", 2.0, 13, 7);
  expect_error(fx, 2, 13, 7, "unknown parameter 'rt6'", "did you mean 'rt60'?");

  set_type(&fx[1], "reverb", 12);
  add_num(&fx[1], "mix", 2.0, 14, 12);
  expect_error(fx, 2, 14, 12, "'mix' is 2, outside the allowed range 0 to 1", NULL);

  set_type(&fx[1], "compressor", 12);
  add_text(&fx[1], "ratio", "lots", 15, 14);
  expect_error(fx, 2, 15, 14, "'ratio' must be a number from 1 to 100", "'lots'");

  set_type(&fx[1], "eq", 12);
  add_text(&fx[1], "type", "lowpas", 16, 13);
  expect_error(fx, 2, 16, 13, "'type' must be one of lowpass, highpass", "did you mean 'lowpass'?");

  set_type(&fx[1], "delay", 12);
  add_text(&fx[1], "time", "1/7x", 17, 13);
  expect_error(fx, 2, 17, 13, "'time' is '1/7x', neither a note value", NULL);

  set_type(&fx[1], "delay", 12);
  add_text(&fx[1], "pingpong", "maybe", 18, 17);
  expect_error(fx, 2, 18, 17, "'pingpong' must be true or false", NULL);

  set_type(&fx[1], "reverb", 12);
  add_num(&fx[1], "lines", 12, 19, 14);
  expect_error(fx, 2, 19, 14, "'lines' is 12; allowed values: 8, 16", NULL);

  set_type(&fx[1], "phaser", 12);
  add_num(&fx[1], "min_hz", 2000, 20, 5);
  add_num(&fx[1], "max_hz", 1000, 21, 5);
  expect_error(fx, 2, 21, 5, "min_hz (2000) must be below max_hz (1000)", NULL);

  set_type(&fx[1], "limiter", 12);
  add_num(&fx[1], "ceiling_dbtp", -1, 22, 5);
  add_num(&fx[1], "ceiling_dbtp", -2, 23, 5);
  expect_error(fx, 2, 23, 5, "given twice", NULL);
}

static sg_fx_chain *valid_chain(void) {
  static sg_effect_spec fx[8];
  int k = 0;
  set_type(&fx[k], "eq", 1);
  add_text(&fx[k], "type", "highpass", 1, 1);
  add_num(&fx[k], "freq", 40, 1, 1);
  add_num(&fx[k++], "order", 4, 1, 1);
  set_type(&fx[k], "Compressor", 2); /* type names are case-insensitive */
  add_num(&fx[k], "threshold_db", -20, 2, 1);
  add_text(&fx[k], "sidechain", "Kick", 2, 1);
  add_text(&fx[k++], "detector", "rms", 2, 1);
  set_type(&fx[k], "delay", 3);
  add_text(&fx[k], "time", "1/8.", 3, 1);
  add_text(&fx[k++], "pingpong", "true", 3, 1);
  set_type(&fx[k], "chorus", 4);
  add_num(&fx[k++], "voices", 3, 4, 1);
  set_type(&fx[k], "reverb", 5);
  add_num(&fx[k++], "rt60", 1.5, 5, 1);
  set_type(&fx[k++], "saturation", 6);
  set_type(&fx[k], "pan", 7);
  add_num(&fx[k++], "pan", 0.3, 7, 1);
  set_type(&fx[k++], "limiter", 8);
  sg_fx_chain *c = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status s = sg_fx_chain_create(fx, k, RATE, 140, "song.yaml", &c, &d);
  if (s != SG_OK) {
    char buf[700];
    fail_msg("%s", sg_diag_format(&d, buf, sizeof buf));
  }
  return c;
}

static void valid_chain_processes_and_reports(void **state) {
  (void)state;
  sg_fx_chain *c = valid_chain();
  assert_int_equal(sg_fx_chain_count(c), 8);
  assert_string_equal(sg_fx_chain_type(c, 4), "reverb");
  assert_null(sg_fx_chain_type(c, 8));
  assert_string_equal(sg_fx_chain_sidechain(c), "Kick");
  /* Saturation 4x (48) + limiter look-ahead (96 + 32 + 12 - 1). */
  assert_int_equal(sg_fx_chain_latency_frames(c), 48 + 96 + SG_TP_TAPS / 2 + 11);
  size_t tail = sg_fx_chain_tail_frames(c);
  printf("tail %zu frames (%.2f s)\n", tail, tail / RATE);
  assert_true(tail > 1.5 * RATE + 15429); /* reverb RT60 + at least one echo */
  char desc[2048];
  sg_fx_chain_describe(c, desc, sizeof desc);
  printf("%s", desc);
  int lines = 0;
  for (const char *p = desc; *p; ++p)
    lines += *p == '\n';
  assert_int_equal(lines, 16); /* each effect: a line in words, then its parameters */
  assert_non_null(strstr(desc, "Reverb: an artificial room"));
  assert_non_null(strstr(desc, "reverb: rt60=1.5 s rt60_low=1.5 s"));
  assert_non_null(strstr(desc, "delay: time=1/8."));
  assert_non_null(strstr(desc, "lag 15429 frames, exact 15428.571"));
  assert_non_null(strstr(desc, "eq: type=highpass freq=40 Hz"));
  assert_non_null(strstr(desc, "detector=rms"));
  assert_non_null(strstr(desc, "pingpong=true"));

  size_t n = 48000;
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *sL = fxt_alloc(n), *L2 = fxt_alloc(n),
        *R2 = fxt_alloc(n);
  sg_rng rng;
  sg_rng_seed(&rng, 4242, 1);
  for (size_t i = 0; i < n; ++i) {
    L[i] = (float)(0.5 * sg_rng_normal(&rng));
    R[i] = (float)(0.5 * sg_rng_normal(&rng));
    sL[i] = (i / 12000) % 2 ? 0.9f : 0.0f;
  }
  memcpy(L2, L, n * sizeof(float));
  memcpy(R2, R, n * sizeof(float));
  sg_fx_chain_process(c, L, R, sL, sL, n);
  assert_true(fxt_all_finite(L, n) && fxt_all_finite(R, n));
  double mx, mean;
  assert_int_equal(sg_fx_chain_gain_reduction(c, 1, &mx, &mean), SG_OK);
  printf("compressor GR max %.2f mean %.2f dB\n", mx, mean);
  assert_true(mx > 1.0);
  assert_int_equal(sg_fx_chain_gain_reduction(c, 7, &mx, NULL), SG_OK);
  assert_int_equal(sg_fx_chain_gain_reduction(c, 0, &mx, NULL), SG_E_UNSUPPORTED);
  assert_int_equal(sg_fx_chain_gain_reduction(c, 9, &mx, NULL), SG_E_RANGE);
  /* The limiter at the end holds the output under -1 dBTP (sample peak check here). */
  assert_true(20 * log10(fxt_peak(L, n)) <= -1.0);
  sg_fx_chain_reset(c);
  for (size_t i = 0; i < n; i += 4096) {
    size_t m = n - i < 4096 ? n - i : 4096;
    sg_fx_chain_process(c, L2 + i, R2 + i, sL + i, sL + i, m);
  }
  assert_memory_equal(L, L2, n * sizeof(float));
  assert_memory_equal(R, R2, n * sizeof(float));
  sg_fx_chain_destroy(c);
  free(L), free(R), free(sL), free(L2), free(R2);
}

static void empty_chain_passes_through(void **state) {
  (void)state;
  sg_fx_chain *c = NULL;
  assert_int_equal(sg_fx_chain_create(NULL, 0, RATE, 120, "x.yaml", &c, NULL), SG_OK);
  float L[3] = {0.1f, 0.2f, 0.3f}, R[3] = {0.3f, 0.2f, 0.1f};
  sg_fx_chain_process(c, L, R, NULL, NULL, 3);
  assert_float_equal(L[2], 0.3f, 0);
  assert_int_equal(sg_fx_chain_latency_frames(c), 0);
  assert_int_equal(sg_fx_chain_tail_frames(c), 0);
  assert_null(sg_fx_chain_sidechain(c));
  sg_fx_chain_destroy(c);
  sg_fx_chain_destroy(NULL);
  assert_int_equal(sg_fx_chain_create(NULL, 1, RATE, 120, "x.yaml", &c, NULL), SG_E_INVAL);
}

/* Random chains from the documented parameter names with values inside and outside their
 * ranges: the builder either succeeds (and then the chain processes noise to finite output) or
 * fails with SG_E_SPEC at a position. Seed printed. */
static void random_chains_are_safe(void **state) {
  (void)state;
  static const struct {
    const char *type;
    const char *params[9];
  } table[] = {
      {"eq", {"type", "freq", "q", "gain_db", "order"}},
      {"compressor",
       {"threshold_db", "ratio", "knee_db", "attack_ms", "release_ms", "makeup_db", "detector",
        "rms_ms", "sidechain"}},
      {"delay", {"time", "feedback", "mix", "lowcut", "highcut", "pingpong"}},
      {"reverb",
       {"rt60", "rt60_low", "predelay_ms", "size", "mix", "damping", "diffusion", "lines"}},
      {"chorus", {"rate_hz", "depth_ms", "delay_ms", "voices", "spread", "mix"}},
      {"flanger", {"rate_hz", "depth_ms", "delay_ms", "feedback", "spread", "mix"}},
      {"phaser", {"rate_hz", "stages", "min_hz", "max_hz", "feedback", "spread", "mix"}},
      {"saturation", {"drive_db", "asym", "output_db", "mix", "oversample"}},
      {"width", {"width"}},
      {"pan", {"pan"}},
      {"gain", {"gain_db"}},
      {"limiter", {"ceiling_dbtp", "lookahead_ms", "release_ms", "gain_db", "margin_db"}},
  };
  static const char *texts[] = {"1/8.",  "1/4T",    "3/16",  "250ms", "peak",  "rms", "true",
                                "false", "lowpass", "notch", "Kick",  "bogus", "1/0", "-3"};
  const uint64_t seed = 20261124;
  printf("random chains: seed %llu\n", (unsigned long long)seed);
  sg_rng rng;
  sg_rng_seed(&rng, seed, 3);
  static sg_effect_spec fx[4];
  float L[256], R[256];
  int ok = 0, bad = 0;
  for (int iter = 0; iter < 300; ++iter) {
    int n = 1 + (int)(sg_rng_u32(&rng) % 4);
    for (int i = 0; i < n; ++i) {
      int t = (int)(sg_rng_u32(&rng) % (sizeof table / sizeof *table));
      set_type(&fx[i], table[t].type, 10 + i);
      int np = 0;
      while (np < 9 && table[t].params[np])
        ++np;
      int k = (int)(sg_rng_u32(&rng) % 4);
      for (int j = 0; j < k; ++j) {
        const char *key = table[t].params[sg_rng_u32(&rng) % (uint32_t)np];
        int dup = 0;
        for (int q = 0; q < fx[i].params.n; ++q)
          dup |= !strcmp(fx[i].params.v[q].key, key);
        if (dup)
          continue;
        if (sg_rng_u32(&rng) % 3 == 0)
          add_text(&fx[i], key, texts[sg_rng_u32(&rng) % (sizeof texts / sizeof *texts)], 20 + j,
                   3);
        else
          add_num(&fx[i], key,
                  sg_rng_range(&rng, -100, 20000) * (sg_rng_uniform(&rng) < 0.7 ? 1e-3 : 1), 20 + j,
                  3);
      }
    }
    sg_fx_chain *c = NULL;
    sg_diag d;
    sg_diag_clear(&d);
    sg_status st = sg_fx_chain_create(fx, n, 44100, 128, "r.yaml", &c, &d);
    if (st == SG_OK) {
      ++ok;
      for (int i = 0; i < 256; ++i)
        L[i] = (float)sg_rng_range(&rng, -1, 1), R[i] = (float)sg_rng_range(&rng, -1, 1);
      sg_fx_chain_process(c, L, R, L, NULL, 256);
      assert_true(fxt_all_finite(L, 256) && fxt_all_finite(R, 256));
      char desc[4096];
      sg_fx_chain_describe(c, desc, sizeof desc);
      assert_true(strlen(desc) > 3);
      sg_fx_chain_destroy(c);
    } else {
      ++bad;
      assert_int_equal(st, SG_E_SPEC);
      assert_null(c);
      assert_true(d.line >= 10);
      assert_string_equal(d.file, "r.yaml");
    }
  }
  printf("random chains: %d built, %d rejected\n", ok, bad);
  assert_true(ok > 20 && bad > 20);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(errors_point_into_the_spec),
      cmocka_unit_test(valid_chain_processes_and_reports),
      cmocka_unit_test(empty_chain_passes_through),
      cmocka_unit_test(random_chains_are_safe),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
