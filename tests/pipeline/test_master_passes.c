/* The master's first limited pass lands: on a bundled song whose plain first drive (the target
 * less the bus's loudness) misses, because the limiter costs loudness, the predicted drive is
 * the master in one limited pass streamed to the writer, and the master still meets its
 * loudness and true-peak gates. */
#include "sg_test.h"

#include "stemgate/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void quiet(void *u, const char *line) {
  (void)u;
  (void)line;
}

/* A number of the master's node record (work/nodes/master.json: "name": "<hex float>"). */
static double node_value(const char *json, const char *name) {
  char key[64];
  snprintf(key, sizeof key, "\"%s\": \"", name);
  const char *p = strstr(json, key);
  assert_non_null(p);
  return strtod(p + strlen(key), NULL);
}

static void first_limited_pass_is_the_master(void **st) {
  (void)st;
  /* minimal.yaml: before the prediction its first drive came out 0.19 LU under -14 LUFS and
   * a second limited pass and a written pass followed. */
  const char *out = sg_test_path("minimal");
  sg_render_options o;
  sg_render_options_init(&o);
  o.spec_path = sg_test_source("examples/minimal.yaml");
  o.out_dir = out;
  o.log = getenv("SG_TEST_VERBOSE") ? NULL : quiet;
  sg_render_result res;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_render(&o, &res, &d), SG_OK); /* every gate passed */
  char path[1200];
  snprintf(path, sizeof path, "%s/work/nodes/master.json", out);
  char *json = sg_test_read_file(path, NULL);
  assert_non_null(json);
  const double passes = node_value(json, "passes"), streamed = node_value(json, "streamed");
  const double lufs = node_value(json, "integrated_lufs"), tp = node_value(json, "true_peak_dbtp");
  printf("master: %g passes (the bus and the limited ones), streamed %g, %.3f LUFS, %.3f dBTP\n",
         passes, streamed, lufs, tp);
  assert_true(passes == 2);   /* the bus, then one limited pass */
  assert_true(streamed == 1); /* that pass was written as it was measured */
  assert_true(lufs >= -14.0 - 0.5 * 0.25 && lufs <= -14.0 + 0.5 * 0.25);
  assert_true(tp <= -1.0);
  free(json);
  sg_render_result_free(&res);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(first_limited_pass_is_the_master),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
