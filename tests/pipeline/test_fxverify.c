/* Effect verification end to end, per effect type, as render judges it: the unit built from one
 * spec entry runs in a real chain (sg_fx_chain, its tap feeding the in-situ measurement) on a
 * music-like signal, and its rows are made by render's own code (sg__fxv_probe_rows,
 * sg__fxv_insitu_rows in src/pipeline/step_fx.c) against the design of a second entry, then
 * judged by sg_gate_row with the check table's limits. For every type the fx chain supports
 * (src/fx/fx_chain.c: eq, compressor, delay, reverb, chorus, flanger, phaser, saturation, width,
 * pan, gain, limiter):
 *   - the unit as designed: at least one probe row and one in-situ row, every judged row holds;
 *   - a deliberately broken unit (wrong frequency, ratio ignored, wrong time or mix, wrong decay,
 *     wrong rate, wrong drive, width, gain, pan, ceiling; a sidechain fed from the wrong stem):
 *     the named row fails.
 * Every row is printed with its measured value, limit and margin (positive: holds). Signals are
 * seeded (seed printed). */
#include "sg_test.h"

#include "pipeline/pipeline_internal.h"
#include "stemgate/analysis.h"
#include "stemgate/check.h"
#include "stemgate/fx.h"
#include "stemgate/gate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000.0
#define BPM 120.0
#define BLOCK 4096
#define SECS 8.0

/* ---- signals ---- */

static uint64_t g_rng;

static double urand(void) { /* xorshift64*, [0, 1) */
  g_rng ^= g_rng >> 12, g_rng ^= g_rng << 25, g_rng ^= g_rng >> 27;
  return (double)((g_rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static double grand(void) {
  double u = urand(), v = urand();
  return sqrt(-2 * log(u > 1e-300 ? u : 1e-300)) * cos(2 * SG_PI * v);
}

typedef struct sig {
  float *L, *R;
  size_t n;
} sig;

static float *falloc(size_t n) {
  float *p = calloc(n, sizeof *p);
  assert_non_null(p);
  return p;
}

/* A stem-like signal: pink noise under a level that moves between -20 and 0 dB every 0.4 s,
 * plus held tones (a new pitch every 0.5 s), peak about -6 dBFS. */
static sig music(uint64_t seed) {
  g_rng = seed;
  print_message("music: seed %llu\n", (unsigned long long)seed);
  sig s = {falloc((size_t)(SECS * RATE)), falloc((size_t)(SECS * RATE)), (size_t)(SECS * RATE)};
  double b[2][3] = {{0}};
  double lv0 = -10, lv1 = -10, f = 220;
  const size_t seg = (size_t)(0.4 * RATE), note = (size_t)(0.5 * RATE);
  for (size_t i = 0; i < s.n; ++i) {
    if (i % seg == 0)
      lv0 = lv1, lv1 = -20 + 20 * urand();
    if (i % note == 0)
      f = 110 * pow(2, floor(24 * urand()) / 12);
    double lv = pow(10, (lv0 + (lv1 - lv0) * (double)(i % seg) / (double)seg) / 20);
    double tone = 0.15 * sin(2 * SG_PI * f * (double)i / RATE);
    for (int ch = 0; ch < 2; ++ch) {
      double w = grand();
      b[ch][0] = 0.99765 * b[ch][0] + w * 0.0990460;
      b[ch][1] = 0.96300 * b[ch][1] + w * 0.2965164;
      b[ch][2] = 0.57000 * b[ch][2] + w * 1.0526913;
      double p = 0.02 * (b[ch][0] + b[ch][1] + b[ch][2] + w * 0.1848);
      (ch ? s.R : s.L)[i] = (float)(lv * (p + tone * (ch ? 0.8 : 1.0)));
    }
  }
  return s;
}

/* Kick-like pulses: a decaying 55 Hz sine every period_s (jittered), digital silence between. */
static sig pulses(uint64_t seed, double period_s, double jitter_s) {
  g_rng = seed;
  sig s = {falloc((size_t)(SECS * RATE)), falloc((size_t)(SECS * RATE)), (size_t)(SECS * RATE)};
  for (double t0 = 0.05; t0 < SECS; t0 += period_s) {
    size_t a = (size_t)((t0 + jitter_s * (2 * urand() - 1)) * RATE);
    for (size_t k = 0; a + k < s.n && k < (size_t)(0.25 * RATE); ++k) {
      double t = (double)k / RATE;
      s.L[a + k] = s.R[a + k] = (float)(0.9 * exp(-t / 0.05) * sin(2 * SG_PI * 55 * t));
    }
  }
  return s;
}

static void sig_free(sig *s) {
  free(s->L);
  free(s->R);
}

/* ---- specs: "type k=v k=v ..." ---- */

static sg_effect_spec *spec(const char *text) {
  sg_effect_spec *e = calloc(1, sizeof *e);
  assert_non_null(e);
  char buf[512];
  snprintf(buf, sizeof buf, "%s", text);
  char *save = NULL, *tok = strtok_r(buf, " ", &save);
  snprintf(e->type.s, sizeof e->type.s, "%s", tok);
  while ((tok = strtok_r(NULL, " ", &save))) {
    char *eq = strchr(tok, '=');
    assert_non_null(eq);
    *eq = 0;
    sg_param *p = &e->params.v[e->params.n++];
    snprintf(p->key, sizeof p->key, "%s", tok);
    snprintf(p->text, sizeof p->text, "%s", eq + 1);
    char *end;
    p->num = strtod(eq + 1, &end);
    p->is_num = end != eq + 1 && !*end;
  }
  e->pos.line = 1;
  return e;
}

/* ---- one case ---- */

typedef struct tapctx {
  sg_insitu *acc;
  const sig *side; /* the key the spec names (the measurement's reference) */
  const sig *keys; /* the other stems */
  int n_keys;
  size_t pos;
} tapctx;

static void tap(void *user, int effect, const float *inL, const float *inR, const float *outL,
                const float *outR, const float *sideL, const float *sideR, size_t n) {
  tapctx *t = user;
  (void)sideL, (void)sideR;
  if (effect != 0)
    return;
  const float *keys[2 * SG_INSITU_MAX_KEYS];
  for (int j = 0; j < t->n_keys; ++j)
    keys[2 * j] = t->keys[j].L + t->pos, keys[2 * j + 1] = t->keys[j].R + t->pos;
  sg_insitu_add_keyed(t->acc, inL, inR, outL, outR, t->side ? t->side->L + t->pos : NULL,
                      t->side ? t->side->R + t->pos : NULL, keys, t->n_keys, n);
  t->pos += n;
}

typedef struct verdict {
  int probe_rows, insitu_rows; /* judged (not info) */
  int failed[SG_CHECK_COUNT];
  double margin[SG_CHECK_COUNT]; /* the smallest over the check's judged rows */
} verdict;

/* Distance of a judged row from failing, in its unit: positive when it holds. */
static double margin_of(const sg_gate_result *g) {
  switch (g->cmp) {
  case SG_CMP_LE:
    return g->limit - g->measured;
  case SG_CMP_GE:
    return g->measured - g->limit;
  case SG_CMP_ABS_LE:
    return g->limit - fabs(g->measured);
  case SG_CMP_WITHIN:
    return g->limit - fabs(g->measured - g->target);
  default:
    return 0;
  }
}

/* The unit built from `unit` runs on x (keyed by fed when not NULL) and is judged against the
 * design of `design`, whose sidechain the measurement reads as named_side, with keys[0..n_keys)
 * the other stems. */
static verdict run_case(const char *label, const char *unit, const char *design, const sig *x,
                        const sig *fed, const sig *named_side, const sig *keys, int n_keys) {
  sg_effect_spec *u = spec(unit), *de = spec(design);
  sg_diag d;
  sg_diag_clear(&d);
  sg_fx_design ds;
  sg_fx_probe_result pr;
  assert_int_equal(sg_fx_design_get(de, RATE, BPM, &ds, &d), SG_OK);
  assert_int_equal(sg_fx_probe_against(u, de, RATE, BPM, &pr, &d), SG_OK);
  /* Render probes the spec's own unit, whose wet gain the in-situ wet row builds on. */
  sg_fx_probe_result pd;
  assert_int_equal(sg_fx_probe(de, RATE, BPM, &pd, &d), SG_OK);
  sg_insitu_config c;
  sg__fxv_insitu_config(&ds, &pd, RATE, &c);
  c.n_keys = named_side ? n_keys : 0;
  tapctx t = {NULL, named_side, keys, c.n_keys, 0};
  assert_int_equal(sg_insitu_create(&t.acc, &c), SG_OK);
  sg_fx_chain *ch = NULL;
  assert_int_equal(sg_fx_chain_create(u, 1, RATE, BPM, "", &ch, &d), SG_OK);
  assert_int_equal(sg_fx_chain_set_tap(ch, tap, &t, BLOCK, &d), SG_OK);
  float *L = falloc(x->n), *R = falloc(x->n);
  memcpy(L, x->L, x->n * sizeof *L);
  memcpy(R, x->R, x->n * sizeof *R);
  for (size_t p = 0; p < x->n; p += BLOCK) {
    size_t m = x->n - p < BLOCK ? x->n - p : BLOCK;
    sg_fx_chain_process(ch, L + p, R + p, fed ? fed->L + p : NULL, fed ? fed->R + p : NULL, m);
  }
  sg_insitu_result q;
  assert_int_equal(sg_insitu_result_get(t.acc, &q), SG_OK);
  sg_insitu_free(t.acc);
  sg_fx_chain_destroy(ch);
  free(L), free(R);

  const char *names[SG_INSITU_MAX_KEYS];
  for (int j = 0; j < SG_INSITU_MAX_KEYS; ++j)
    names[j] = "other";
  sg__fxv_row rows[SG_FX_PROBE_MAX + 8];
  int np = sg__fxv_probe_rows(&pr, "effect 1", rows, SG_FX_PROBE_MAX + 8);
  int n = np + sg__fxv_insitu_rows(&ds, &q, RATE, "effect 1", names, rows + np,
                                   SG_FX_PROBE_MAX + 8 - np);
  verdict v;
  memset(&v, 0, sizeof v);
  for (int k = 0; k < SG_CHECK_COUNT; ++k)
    v.margin[k] = INFINITY;
  sg_gate_report rep;
  sg_gate_report_init(&rep);
  print_message("%s: unit '%s', design '%s'\n", label, unit, design);
  for (int k = 0; k < n; ++k) {
    assert_true(sg_gate_row(&rep, rows[k].id, "fx", "x", rows[k].measured, rows[k].limit,
                            rows[k].target, rows[k].detail, rows[k].sev, NULL) != SG_E_NOMEM);
    const sg_gate_result *g = &rep.v[rep.n - 1];
    if (g->severity == SG_SEV_INFO) {
      print_message("  %-22s info  %s\n", g->check, g->detail);
      continue;
    }
    double mg = margin_of(g);
    print_message("  %-22s %-4s measured %9.3f %-5s limit %s%.3f%s margin %+.3f  %s\n", g->check,
                  g->pass ? "ok" : "FAIL", g->measured, g->unit, sg_cmp_symbol(g->cmp), g->limit,
                  g->cmp == SG_CMP_WITHIN ? " of target" : "", mg, g->detail);
    if (k < np)
      v.probe_rows++;
    else
      v.insitu_rows++;
    if (!g->pass)
      v.failed[g->id] = 1;
    if (mg < v.margin[g->id])
      v.margin[g->id] = mg;
  }
  sg_gate_report_free(&rep);
  free(u);
  free(de);
  return v;
}

static void expect_pass(const char *cfg, const sig *x) {
  verdict v = run_case("as designed", cfg, cfg, x, NULL, NULL, NULL, 0);
  assert_true(v.probe_rows >= 1);
  assert_true(v.insitu_rows >= 1);
  for (int k = 0; k < SG_CHECK_COUNT; ++k)
    assert_false(v.failed[k]);
}

static void expect_fail(const char *unit, const char *design, const sig *x, sg_check_id id) {
  verdict v = run_case("broken", unit, design, x, NULL, NULL, NULL, 0);
  print_message("  -> %s fails by %.3f\n", sg_check_get(id)->name, -v.margin[id]);
  assert_true(v.failed[id]);
}

static sig g_x;

static int setup(void **state) {
  (void)state;
  g_x = music(1616);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  sig_free(&g_x);
  return 0;
}

static void test_eq(void **state) {
  (void)state;
  expect_pass("eq type=highpass freq=90", &g_x);
  expect_pass("eq type=peak freq=1000 q=1 gain_db=4", &g_x);
  expect_fail("eq type=highpass freq=120", "eq type=highpass freq=90", &g_x,
              SG_CHECK_FX_EQ_RESPONSE);
  expect_fail("eq type=highpass freq=120", "eq type=highpass freq=90", &g_x,
              SG_CHECK_FX_INSITU_TRANSFER);
}

static void test_compressor(void **state) {
  (void)state;
  const char *ok = "compressor threshold_db=-24 ratio=4 attack_ms=10 release_ms=100";
  expect_pass(ok, &g_x);
  const char *ign = "compressor threshold_db=-24 ratio=1 attack_ms=10 release_ms=100";
  expect_fail(ign, ok, &g_x, SG_CHECK_FX_COMP_CURVE);
  expect_fail(ign, ok, &g_x, SG_CHECK_FX_INSITU_DYNAMICS);
}

/* A bass-like stem keyed by a kick (A); the other stems: B (pulses at another rate) and C
 * (pulses close to A's rate, jittered: the hardest decoy). */
static void test_sidechain(void **state) {
  (void)state;
  sig A = pulses(21, 0.5, 0.01), B = pulses(22, 0.37, 0.08), C = pulses(23, 0.52, 0.12);
  const char *cfg = "compressor threshold_db=-30 ratio=4 attack_ms=2 release_ms=80 sidechain=A";
  const double lim = sg_check_get(SG_CHECK_FX_INSITU_SIDECHAIN)->limit;
  sig others[2] = {B, C};
  /* Right wiring: fed A, spec names A; the other stems B and C. */
  verdict v = run_case("keyed by A as named", cfg, cfg, &g_x, &A, &A, others, 2);
  print_message("  -> right stem: sidechain margin %+.3f over the limit %.2f\n",
                v.margin[SG_CHECK_FX_INSITU_SIDECHAIN], lim);
  assert_true(v.insitu_rows >= 2);
  for (int k = 0; k < SG_CHECK_COUNT; ++k)
    assert_false(v.failed[k]);
  assert_true(v.margin[SG_CHECK_FX_INSITU_SIDECHAIN] >= 0.3);
  /* Wrong wiring: the chain fed B where the spec names A (A's dry file is read as the named
   * key; the other stems are B and C). */
  sig others2[2] = {B, C};
  v = run_case("fed B, spec names A", cfg, cfg, &g_x, &B, &A, others2, 2);
  print_message("  -> wrong stem: sidechain fails by %.3f\n",
                -v.margin[SG_CHECK_FX_INSITU_SIDECHAIN]);
  assert_true(v.failed[SG_CHECK_FX_INSITU_SIDECHAIN]);
  assert_true(v.margin[SG_CHECK_FX_INSITU_SIDECHAIN] <= -0.3);
  /* Fed a stem that is not among the candidates at all (C, with only B as a candidate): the
   * named key does not predict the reduction, so the margin stays under the limit. */
  v = run_case("fed C, spec names A, C not a candidate", cfg, cfg, &g_x, &C, &A, &B, 1);
  print_message("  -> wrong stem, no decoy: sidechain fails by %.3f\n",
                -v.margin[SG_CHECK_FX_INSITU_SIDECHAIN]);
  assert_true(v.failed[SG_CHECK_FX_INSITU_SIDECHAIN]);
  /* Not keyed at all (fed its own input). */
  v = run_case("unkeyed, spec names A", cfg, cfg, &g_x, NULL, &A, others, 2);
  print_message("  -> unkeyed: sidechain fails by %.3f\n", -v.margin[SG_CHECK_FX_INSITU_SIDECHAIN]);
  assert_true(v.failed[SG_CHECK_FX_INSITU_SIDECHAIN]);
  sig_free(&A), sig_free(&B), sig_free(&C);
}

static void test_delay(void **state) {
  (void)state;
  expect_pass("delay time=1/8. feedback=0.35 mix=0.25", &g_x);
  expect_pass("delay time=1/4 feedback=0.5 mix=0.6 pingpong=true", &g_x);
  expect_fail("delay time=1/8 feedback=0.35 mix=0.25", "delay time=1/8. feedback=0.35 mix=0.25",
              &g_x, SG_CHECK_FX_DELAY_LAG);
  expect_fail("delay time=1/8 feedback=0.35 mix=0.3", "delay time=1/8 feedback=0.35 mix=0.8", &g_x,
              SG_CHECK_FX_INSITU_WET);
  expect_fail("delay time=1/8 feedback=0.35 mix=0.8", "delay time=1/8 feedback=0.35 mix=0.3", &g_x,
              SG_CHECK_FX_INSITU_WET);
}

static void test_reverb(void **state) {
  (void)state;
  expect_pass("reverb rt60=1.4 predelay_ms=18 mix=0.2", &g_x);
  expect_pass("reverb rt60=3 mix=0.5", &g_x);
  expect_fail("reverb rt60=4.2 mix=0.2", "reverb rt60=1.4 mix=0.2", &g_x, SG_CHECK_FX_REVERB_RT60);
  expect_fail("reverb rt60=1.4 mix=0.1", "reverb rt60=1.4 mix=0.3", &g_x, SG_CHECK_FX_INSITU_WET);
}

static void test_modulation(void **state) {
  (void)state;
  expect_pass("chorus rate_hz=0.6 depth_ms=3 mix=0.4", &g_x);
  expect_pass("flanger rate_hz=0.25 mix=0.5", &g_x);
  expect_pass("phaser rate_hz=0.5 mix=0.5", &g_x);
  expect_fail("chorus rate_hz=0.3 depth_ms=3 mix=0.4", "chorus rate_hz=0.6 depth_ms=3 mix=0.4",
              &g_x, SG_CHECK_FX_MOD_RATE);
  expect_fail("flanger rate_hz=0.5 mix=0.5", "flanger rate_hz=0.25 mix=0.5", &g_x,
              SG_CHECK_FX_MOD_RATE);
  expect_fail("phaser rate_hz=1 mix=0.5", "phaser rate_hz=0.5 mix=0.5", &g_x, SG_CHECK_FX_MOD_RATE);
  expect_fail("chorus rate_hz=0.6 mix=0.2", "chorus rate_hz=0.6 mix=0.5", &g_x,
              SG_CHECK_FX_INSITU_WET);
  expect_fail("phaser rate_hz=0.5 mix=0.8", "phaser rate_hz=0.5 mix=0.5", &g_x,
              SG_CHECK_FX_INSITU_WET);
}

static void test_saturation(void **state) {
  (void)state;
  expect_pass("saturation drive_db=12", &g_x);
  expect_pass("saturation drive_db=18 asym=0.4 output_db=-6", &g_x);
  expect_pass("saturation drive_db=6 mix=0.5", &g_x);
  expect_fail("saturation drive_db=18", "saturation drive_db=6", &g_x, SG_CHECK_FX_SAT_THD);
  expect_fail("saturation drive_db=18", "saturation drive_db=6", &g_x, SG_CHECK_FX_INSITU_SHAPER);
}

static void test_levels(void **state) {
  (void)state;
  expect_pass("width width=1.5", &g_x);
  expect_pass("pan pan=-0.25", &g_x);
  expect_pass("gain gain_db=-4", &g_x);
  expect_fail("width width=1.2", "width width=1.5", &g_x, SG_CHECK_FX_LEVEL);
  expect_fail("width width=1.2", "width width=1.5", &g_x, SG_CHECK_FX_INSITU_LEVEL);
  expect_fail("pan pan=0.25", "pan pan=-0.25", &g_x, SG_CHECK_FX_INSITU_LEVEL);
  expect_fail("gain gain_db=-3", "gain gain_db=-4", &g_x, SG_CHECK_FX_LEVEL);
  expect_fail("gain gain_db=-3", "gain gain_db=-4", &g_x, SG_CHECK_FX_INSITU_LEVEL);
}

static void test_limiter(void **state) {
  (void)state;
  /* Driven 12 dB into its ceiling so the music reaches it. */
  expect_pass("limiter ceiling_dbtp=-1 gain_db=12", &g_x);
  expect_fail("limiter ceiling_dbtp=-0.3 gain_db=12", "limiter ceiling_dbtp=-1 gain_db=12", &g_x,
              SG_CHECK_FX_LIMITER_CEILING);
  expect_fail("limiter ceiling_dbtp=-0.3 gain_db=12", "limiter ceiling_dbtp=-1 gain_db=12", &g_x,
              SG_CHECK_FX_INSITU_PEAK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_eq),         cmocka_unit_test(test_compressor),
      cmocka_unit_test(test_sidechain),  cmocka_unit_test(test_delay),
      cmocka_unit_test(test_reverb),     cmocka_unit_test(test_modulation),
      cmocka_unit_test(test_saturation), cmocka_unit_test(test_levels),
      cmocka_unit_test(test_limiter),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
