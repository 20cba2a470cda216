/* The check table and gate rows: every comparison passes and fails where it should, failures
 * name step, stem, check, measured value and limit, downgraded rows never fail the run, the
 * table is well formed, and docs/gates.md is what the table generates. */
#include "sg_test.h"

#include "stemgate/gate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void comparisons_pass_and_fail(void **st) {
  (void)st;
  sg_gate_report r;
  sg_gate_report_init(&r);
  struct {
    sg_check_id id;
    double m, lim, tgt;
    int pass;
  } t[] = {
      {SG_CHECK_TRUE_PEAK, -1.2, -1.0, 0, 1},
      {SG_CHECK_TRUE_PEAK, -0.9, -1.0, 0, 0},
      {SG_CHECK_TRUE_PEAK, -1.0, -1.0, 0, 1},
      {SG_CHECK_SILENCE, -60, -60, 0, 1},
      {SG_CHECK_SILENCE, -60.01, -60, 0, 0},
      {SG_CHECK_SAMPLE_RATE, 48000, 48000, 0, 1},
      {SG_CHECK_SAMPLE_RATE, 44100, 48000, 0, 0},
      {SG_CHECK_SYNC_OFFSET, -10.5, 10, 0, 0},
      {SG_CHECK_SYNC_OFFSET, -9.9, 10, 0, 1},
      {SG_CHECK_LOUDNESS, -14.4, 0.5, -14, 1},
      {SG_CHECK_LOUDNESS, -13.4, 0.5, -14, 0},
      {SG_CHECK_TRUE_PEAK, NAN, -1, 0, 0},
      {SG_CHECK_STEM_LOUDNESS, 123, 0, 0, 1},
      {SG_CHECK_DC_OFFSET, 0.0011, NAN, 0, 0},
      {SG_CHECK_DC_OFFSET, 0.0009, SG_LIMIT_DEFAULT, 0, 1},
  };
  size_t fails = 0;
  for (size_t i = 0; i < sizeof t / sizeof t[0]; ++i) {
    sg_status s = sg_gate_row(&r, t[i].id, "stem", "Bass", t[i].m, t[i].lim, t[i].tgt, NULL,
                              SG_SEV_FAIL, NULL);
    assert_int_equal(s, t[i].pass ? SG_OK : SG_E_GATE);
    assert_int_equal(r.v[r.n - 1].pass, t[i].pass);
    assert_string_equal(r.v[r.n - 1].check, sg_check_get(t[i].id)->name);
    assert_string_equal(r.v[r.n - 1].unit, sg_check_get(t[i].id)->unit);
    fails += !t[i].pass;
  }
  assert_int_equal(r.failed, fails);
  /* SG_LIMIT_DEFAULT takes the table's limit. */
  assert_float_equal(r.v[r.n - 1].limit, sg_check_get(SG_CHECK_DC_OFFSET)->limit, 0);
  sg_gate_report_free(&r);
}

static void failure_names_everything(void **st) {
  (void)st;
  sg_gate_report r;
  sg_gate_report_init(&r);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_gate_row(&r, SG_CHECK_TRUE_PEAK, "master", "master", -0.31, -1.0, 0, NULL,
                               SG_SEV_FAIL, &d),
                   SG_E_GATE);
  char line[600];
  sg_diag_format(&d, line, sizeof line);
  assert_string_equal(line, "master/master/true_peak: true_peak must be <= -1 dBTP (measured "
                            "-0.31 dBTP, limit -1 dBTP)");
  sg_gate_result_format(&r.v[0], line, sizeof line);
  assert_non_null(strstr(line, "FAIL"));
  assert_non_null(strstr(line, "-0.31 dBTP"));
  /* Downgraded to a warning: reported as WARN, the run goes on. */
  assert_int_equal(
      sg_gate_row(&r, SG_CHECK_DC_OFFSET, "stem", "Pad", 0.01, 0.001, 0, NULL, SG_SEV_WARN, NULL),
      SG_OK);
  sg_gate_result_format(&r.v[1], line, sizeof line);
  assert_non_null(strstr(line, "WARN"));
  assert_int_equal(r.v[1].severity, SG_SEV_WARN);
  /* Downgraded to information: never judged. */
  assert_int_equal(
      sg_gate_row(&r, SG_CHECK_DC_OFFSET, "stem", "Pad", 0.5, 0.001, 0, NULL, SG_SEV_INFO, NULL),
      SG_OK);
  assert_true(r.v[2].pass);
  assert_int_equal(r.v[2].cmp, SG_CMP_INFO);
  /* A row can never be raised above the table's severity. */
  assert_int_equal(sg_gate_row(&r, SG_CHECK_DOWNBEAT_CONFIDENCE, "reference", "Drums", 0.01, 0.1, 0,
                               NULL, SG_SEV_FAIL, NULL),
                   SG_OK);
  assert_int_equal(r.v[3].severity, SG_SEV_WARN);
  assert_int_equal(r.failed, 1);
  /* Text checks. */
  sg_diag_clear(&d);
  assert_int_equal(
      sg_gate_row_text(&r, SG_CHECK_FORMAT, "stem", "Bass", "pcm16", "float32", 0, SG_SEV_FAIL, &d),
      SG_E_GATE);
  assert_non_null(strstr(d.message, "pcm16 (expected float32)"));
  assert_string_equal(d.stem, "Bass");
  assert_int_equal(sg_gate_row_text(&r, SG_CHECK_FORMAT, "stem", "Bass", "float32", "float32", 1,
                                    SG_SEV_FAIL, NULL),
                   SG_OK);
  assert_int_equal(r.n, 6);
  assert_ptr_equal(sg_gate_first_failure(&r, 0), &r.v[0]);
  assert_ptr_equal(sg_gate_first_failure(&r, 1), &r.v[4]);
  assert_null(sg_gate_first_failure(&r, 5));
  /* A numeric check cannot be used as text and the reverse. */
  assert_int_equal(sg_gate_row(&r, SG_CHECK_FORMAT, "s", "x", 1, 1, 0, NULL, SG_SEV_FAIL, NULL),
                   SG_E_INVAL);
  assert_int_equal(sg_gate_row(&r, SG_CHECK_COUNT, "s", "x", 1, 1, 0, NULL, SG_SEV_FAIL, NULL),
                   SG_E_INVAL);
  sg_gate_report_free(&r);
}

static void report_grows_and_appends(void **st) {
  (void)st;
  sg_gate_report r, r2;
  sg_gate_report_init(&r);
  sg_gate_report_init(&r2);
  for (int i = 0; i < 1000; ++i)
    assert_int_equal(sg_gate_row(&r, SG_CHECK_NOTES, "s", "x", i + 1, SG_LIMIT_DEFAULT, 0, NULL,
                                 SG_SEV_FAIL, NULL),
                     SG_OK);
  assert_int_equal(r.n, 1000);
  assert_float_equal(r.v[999].measured, 1000, 0);
  sg_gate_row(&r2, SG_CHECK_NOTES, "s", "y", 0, SG_LIMIT_DEFAULT, 0, NULL, SG_SEV_FAIL, NULL);
  assert_int_equal(sg_gate_report_append(&r, &r2), SG_OK);
  assert_int_equal(r.n, 1001);
  assert_int_equal(r.failed, 1);
  assert_string_equal(r.v[1000].stem, "y");
  sg_gate_report_free(&r);
  sg_gate_report_free(&r2);
}

/* Every entry is complete and every name unique: a check is named once. */
static void table_is_well_formed(void **st) {
  (void)st;
  for (int i = 0; i < SG_CHECK_COUNT; ++i) {
    const sg_check_def *c = sg_check_get((sg_check_id)i);
    assert_non_null(c);
    assert_int_equal(c->id, i);
    assert_true(strlen(c->name) > 0 && strlen(c->name) < 64);
    assert_true(strlen(c->measures) > 10);
    if (c->severity != SG_SEV_INFO)
      assert_true(strlen(c->fix) > 5); /* a judged check says how to fix it */
    assert_true(c->cmp != SG_CMP_INFO || c->severity == SG_SEV_INFO);
    assert_ptr_equal(sg_check_find(c->name), c);
    for (int j = 0; j < i; ++j)
      assert_string_not_equal(sg_check_get((sg_check_id)j)->name, c->name);
  }
  assert_null(sg_check_get(SG_CHECK_COUNT));
  assert_null(sg_check_find("not_a_check"));
}

/* docs/gates.md is generated from the table; a stale page fails here (`make docs`). */
static void gates_doc_is_current(void **st) {
  (void)st;
  char *md = NULL;
  assert_int_equal(sg_check_table_markdown(&md), SG_OK);
  FILE *f = fopen(sg_test_source("docs/gates.md"), "rb");
  assert_non_null(f);
  char *buf = malloc(1 << 20);
  assert_non_null(buf);
  size_t n = fread(buf, 1, (1 << 20) - 1, f);
  fclose(f);
  buf[n] = '\0';
  if (strcmp(buf, md) != 0)
    fail_msg("docs/gates.md is stale: run `make docs` (stemgate checks --markdown > "
             "docs/gates.md) and commit it");
  free(buf);
  free(md);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(comparisons_pass_and_fail), cmocka_unit_test(failure_names_everything),
      cmocka_unit_test(report_grows_and_appends),  cmocka_unit_test(table_is_well_formed),
      cmocka_unit_test(gates_doc_is_current),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
