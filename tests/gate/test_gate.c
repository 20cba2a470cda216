/* Gate reports: every comparison passes and fails where it should, failures name step, stem,
 * check, measured value and limit, advisory checks never fail the run. */
#include "sg_test.h"

#include "stemgate/gate.h"

#include <math.h>
#include <string.h>

static void comparisons_pass_and_fail(void **st) {
  (void)st;
  sg_gate_report r;
  sg_gate_report_init(&r);
  struct {
    double m;
    sg_cmp c;
    double lim, tgt;
    int pass;
  } t[] = {
      {-1.2, SG_CMP_LE, -1.0, 0, 1},        {-0.9, SG_CMP_LE, -1.0, 0, 0},
      {-1.0, SG_CMP_LE, -1.0, 0, 1},        {5, SG_CMP_GE, 5, 0, 1},
      {4.99, SG_CMP_GE, 5, 0, 0},           {48000, SG_CMP_EQ, 48000, 0, 1},
      {44100, SG_CMP_EQ, 48000, 0, 0},      {-0.002, SG_CMP_ABS_LE, 0.001, 0, 0},
      {0.0009, SG_CMP_ABS_LE, 0.001, 0, 1}, {-14.4, SG_CMP_WITHIN, 0.5, -14, 1},
      {-13.4, SG_CMP_WITHIN, 0.5, -14, 0},  {NAN, SG_CMP_LE, 0, 0, 0},
      {123, SG_CMP_INFO, 0, 0, 1},
  };
  size_t fails = 0;
  for (size_t i = 0; i < sizeof t / sizeof t[0]; ++i) {
    sg_status s = sg_gate_check(&r, "stem", "Bass", "x", t[i].m, t[i].c, t[i].lim, t[i].tgt, "u",
                                NULL, 1, NULL);
    assert_int_equal(s, t[i].pass ? SG_OK : SG_E_GATE);
    assert_int_equal(r.v[r.n - 1].pass, t[i].pass);
    fails += !t[i].pass;
  }
  assert_int_equal(r.failed, fails);
  sg_gate_report_free(&r);
}

static void failure_names_everything(void **st) {
  (void)st;
  sg_gate_report r;
  sg_gate_report_init(&r);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_gate_check(&r, "master", "master", "true_peak", -0.31, SG_CMP_LE, -1.0, 0,
                                 "dBTP", NULL, 1, &d),
                   SG_E_GATE);
  char line[600];
  sg_diag_format(&d, line, sizeof line);
  assert_string_equal(line, "master/master/true_peak: true_peak must be <= -1 dBTP (measured "
                            "-0.31 dBTP, limit -1 dBTP)");
  sg_gate_result_format(&r.v[0], line, sizeof line);
  assert_non_null(strstr(line, "FAIL"));
  assert_non_null(strstr(line, "-0.31 dBTP"));
  /* Advisory: reported as WARN, the run goes on. */
  assert_int_equal(sg_gate_check(&r, "stem", "Pad", "dc_offset", 0.01, SG_CMP_ABS_LE, 0.001, 0, "",
                                 NULL, 0, NULL),
                   SG_OK);
  sg_gate_result_format(&r.v[1], line, sizeof line);
  assert_non_null(strstr(line, "WARN"));
  assert_int_equal(r.failed, 1);
  /* Text checks. */
  sg_diag_clear(&d);
  assert_int_equal(sg_gate_check_text(&r, "stem", "Bass", "format", "pcm16", "float32", 0, 1, &d),
                   SG_E_GATE);
  assert_non_null(strstr(d.message, "pcm16 (expected float32)"));
  assert_string_equal(d.stem, "Bass");
  assert_int_equal(
      sg_gate_check_text(&r, "stem", "Bass", "format", "float32", "float32", 1, 1, NULL), SG_OK);
  assert_int_equal(r.n, 4);
  sg_gate_report_free(&r);
}

static void report_grows(void **st) {
  (void)st;
  sg_gate_report r;
  sg_gate_report_init(&r);
  for (int i = 0; i < 1000; ++i)
    assert_int_equal(sg_gate_check(&r, "s", "x", "c", i, SG_CMP_LE, 1e9, 0, "", NULL, 1, NULL),
                     SG_OK);
  assert_int_equal(r.n, 1000);
  assert_float_equal(r.v[999].measured, 999, 0);
  sg_gate_report_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(comparisons_pass_and_fail),
      cmocka_unit_test(failure_names_everything),
      cmocka_unit_test(report_grows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
