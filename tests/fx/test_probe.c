/* Probes (src/fx/fx_probe.c): every effect type as configured in the bundled examples measures
 * within its check's tolerance of its design, and a deliberately broken unit (probed against the
 * design it should have had) misses by more than the tolerance, on the right measurement. */
#include "sg_test.h"

#include "stemgate/check.h"
#include "stemgate/fx.h"
#include "stemgate/spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000.0
#define BPM 124.0

/* "type k=v k=v ...": numbers, or text (a note value, a stem name). */
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
  return e;
}

/* Tolerance of a quantity, as its check reports it: absolute (dB, ms, frames) or relative (%). */
static double tol(sg_fx_quantity q, int *relative) {
  *relative = q == SG_FXQ_COMP_TIME || q == SG_FXQ_RT60 || q == SG_FXQ_MOD_RATE;
  switch (q) {
  case SG_FXQ_RESPONSE:
    return sg_check_get(SG_CHECK_FX_EQ_RESPONSE)->limit;
  case SG_FXQ_COMP_CURVE:
    return sg_check_get(SG_CHECK_FX_COMP_CURVE)->limit;
  case SG_FXQ_COMP_TIME:
    return sg_check_get(SG_CHECK_FX_COMP_TIME)->limit;
  case SG_FXQ_RT60:
    return sg_check_get(SG_CHECK_FX_REVERB_RT60)->limit;
  case SG_FXQ_PREDELAY:
    return sg_check_get(SG_CHECK_FX_REVERB_PREDELAY)->limit;
  case SG_FXQ_LAG:
    return sg_check_get(SG_CHECK_FX_DELAY_LAG)->limit;
  case SG_FXQ_FEEDBACK:
    return sg_check_get(SG_CHECK_FX_DELAY_FEEDBACK)->limit;
  case SG_FXQ_MOD_RATE:
    return sg_check_get(SG_CHECK_FX_MOD_RATE)->limit;
  case SG_FXQ_THD:
    return sg_check_get(SG_CHECK_FX_SAT_THD)->limit;
  case SG_FXQ_LEVEL:
    return sg_check_get(SG_CHECK_FX_LEVEL)->limit;
  default:
    return 1e9;
  }
}

static int holds(const sg_fx_measure *m) {
  int rel;
  double t = tol(m->q, &rel);
  if (m->q == SG_FXQ_CEILING)
    return m->measured <= m->expected;
  if (m->q == SG_FXQ_WET_GAIN)
    return 1;
  double err = rel ? 100.0 * (m->measured - m->expected) / m->expected : m->measured - m->expected;
  return fabs(err) <= t;
}

static void probe(const char *unit, const char *design, sg_fx_probe_result *r) {
  sg_effect_spec *u = spec(unit), *ds = spec(design);
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_fx_probe_against(u, ds, RATE, BPM, r, &d);
  if (st != SG_OK)
    print_message("probe failed: %s\n", d.message);
  assert_int_equal(st, SG_OK);
  assert_true(r->n >= 1);
  for (int i = 0; i < r->n; ++i)
    print_message("  %-44s %-28s measured %10.4f  design %10.4f  %s\n", unit, r->m[i].what,
                  r->m[i].measured, r->m[i].expected, holds(&r->m[i]) ? "ok" : "MISS");
  free(u);
  free(ds);
}

static void expect_pass(const char *cfg) {
  sg_fx_probe_result r;
  probe(cfg, cfg, &r);
  for (int i = 0; i < r.n; ++i)
    assert_true(holds(&r.m[i]));
}

/* The unit built from `unit` measured against `design`: measurement `q` must miss. */
static void expect_miss(const char *unit, const char *design, sg_fx_quantity q) {
  sg_fx_probe_result r;
  probe(unit, design, &r);
  int missed = 0;
  for (int i = 0; i < r.n; ++i)
    if (r.m[i].q == q && !holds(&r.m[i]))
      missed = 1;
  assert_true(missed);
}

static void test_eq(void **state) {
  (void)state;
  expect_pass("eq type=highpass freq=90 order=2");
  expect_pass("eq type=peak freq=2800 q=1.2 gain_db=2");
  expect_pass("eq type=highpass freq=35");
  expect_pass("eq type=highpass freq=25");
  expect_pass("eq type=lowshelf freq=200 gain_db=-3");
  expect_pass("eq type=highshelf freq=9000 gain_db=1.5");
  expect_pass("eq type=lowpass freq=1000 order=4");
  expect_pass("eq type=notch freq=500 q=4");
  /* A filter designed at the wrong frequency. */
  expect_miss("eq type=highpass freq=120", "eq type=highpass freq=90", SG_FXQ_RESPONSE);
}

static void test_compressor(void **state) {
  (void)state;
  expect_pass("compressor threshold_db=-20 ratio=2.5 attack_ms=15 release_ms=120 makeup_db=2");
  expect_pass("compressor threshold_db=-24 ratio=4 attack_ms=5 release_ms=80 sidechain=Drums");
  expect_pass("compressor threshold_db=-16 ratio=3 attack_ms=10 release_ms=90");
  expect_pass("compressor threshold_db=-12 ratio=2 attack_ms=30 release_ms=200");
  expect_pass("compressor threshold_db=-30 ratio=4 attack_ms=5 release_ms=180 knee_db=0");
  expect_pass("compressor threshold_db=-20 ratio=3 detector=rms");
  /* A compressor whose ratio is ignored (it runs at 1:1), and one with slow ballistics. */
  expect_miss("compressor threshold_db=-20 ratio=1", "compressor threshold_db=-20 ratio=4",
              SG_FXQ_COMP_CURVE);
  expect_miss("compressor threshold_db=-20 attack_ms=30",
              "compressor threshold_db=-20 attack_ms=10", SG_FXQ_COMP_TIME);
}

static void test_delay(void **state) {
  (void)state;
  expect_pass("delay time=1/8. feedback=0.3 mix=0.22");
  expect_pass("delay time=1/8. feedback=0.35 mix=0.25 pingpong=true");
  expect_pass("delay time=1/4 feedback=0.3 mix=0.2");
  expect_pass("delay time=250ms feedback=0.5 mix=0.3 lowcut=300 highcut=3000");
  expect_miss("delay time=1/8 feedback=0.3", "delay time=1/8. feedback=0.3", SG_FXQ_LAG);
  expect_miss("delay time=1/8 feedback=0.6", "delay time=1/8 feedback=0.3", SG_FXQ_FEEDBACK);
}

static void test_reverb(void **state) {
  (void)state;
  expect_pass("reverb rt60=1.4 predelay_ms=18 mix=0.18");
  expect_pass("reverb rt60=0.9 predelay_ms=8 mix=0.12");
  expect_pass("reverb rt60=3.0 predelay_ms=30 mix=0.3");
  expect_pass("reverb rt60=0.8 mix=0.1");
  expect_pass("reverb rt60=2 rt60_low=3 mix=0.3");
  /* A reverb three times too long, and one with the pre-delay ignored. */
  expect_miss("reverb rt60=4.2 mix=0.2", "reverb rt60=1.4 mix=0.2", SG_FXQ_RT60);
  expect_miss("reverb rt60=1.4 predelay_ms=0 mix=0.2", "reverb rt60=1.4 predelay_ms=18 mix=0.2",
              SG_FXQ_PREDELAY);
}

static void test_modulation(void **state) {
  (void)state;
  expect_pass("chorus rate_hz=0.6 depth_ms=3 mix=0.4");
  expect_pass("chorus rate_hz=0.4 depth_ms=2 mix=0.3");
  expect_pass("chorus rate_hz=1.5 voices=3 mix=0.5");
  expect_pass("flanger rate_hz=0.25");
  expect_pass("phaser rate_hz=0.2 mix=0.3");
  expect_pass("phaser rate_hz=1 stages=4");
  /* A chorus at the wrong rate. */
  expect_miss("chorus rate_hz=0.3 depth_ms=3 mix=0.4", "chorus rate_hz=0.6 depth_ms=3 mix=0.4",
              SG_FXQ_MOD_RATE);
  expect_miss("phaser rate_hz=0.4 mix=0.3", "phaser rate_hz=0.2 mix=0.3", SG_FXQ_MOD_RATE);
}

static void test_saturation(void **state) {
  (void)state;
  expect_pass("saturation drive_db=6 mix=0.3");
  expect_pass("saturation drive_db=18 asym=0.4");
  expect_pass("saturation drive_db=12 oversample=1");
  expect_miss("saturation drive_db=18 mix=0.3", "saturation drive_db=6 mix=0.3", SG_FXQ_THD);
}

static void test_levels(void **state) {
  (void)state;
  expect_pass("width width=1.5");
  expect_pass("width width=0.5");
  expect_pass("pan pan=-0.25");
  expect_pass("gain gain_db=-4");
  expect_pass("limiter ceiling_dbtp=-1");
  expect_pass("limiter ceiling_dbtp=-3 release_ms=200");
  expect_miss("pan pan=0.25", "pan pan=-0.25", SG_FXQ_LEVEL);
  expect_miss("limiter ceiling_dbtp=-0.5", "limiter ceiling_dbtp=-1", SG_FXQ_CEILING);
}

/* Same arguments, same numbers (a probe is a pure function of spec, rate and tempo). */
static void test_deterministic(void **state) {
  (void)state;
  sg_fx_probe_result a, b;
  probe("reverb rt60=1.4 predelay_ms=18 mix=0.18", "reverb rt60=1.4 predelay_ms=18 mix=0.18", &a);
  probe("reverb rt60=1.4 predelay_ms=18 mix=0.18", "reverb rt60=1.4 predelay_ms=18 mix=0.18", &b);
  assert_int_equal(a.n, b.n);
  assert_memory_equal(a.m, b.m, sizeof a.m[0] * (size_t)a.n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_eq),         cmocka_unit_test(test_compressor),
      cmocka_unit_test(test_delay),      cmocka_unit_test(test_reverb),
      cmocka_unit_test(test_modulation), cmocka_unit_test(test_saturation),
      cmocka_unit_test(test_levels),     cmocka_unit_test(test_deterministic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
