/* The stemgate command: help texts, exit codes (0 done, 1 gate failed, 2 usage or spec error,
 * 3 I/O error), diagnostics with file:line:col, the timing table. Runs the built binary. */
#include "sg_test.h"

#include "stemgate/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char out[1 << 16];

/* Runs "stemgate ARGS" with stdout+stderr captured into out; returns the exit code. */
static int run(const char *args) {
  const char *bin = getenv("SG_STEMGATE");
  assert_non_null(bin);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", bin, args);
  FILE *f = popen(cmd, "r");
  assert_non_null(f);
  size_t n = fread(out, 1, sizeof out - 1, f);
  out[n] = '\0';
  int status = pclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void help_and_usage(void **st) {
  (void)st;
  assert_int_equal(run("--help"), 0);
  assert_non_null(strstr(out, "render"));
  assert_non_null(strstr(out, "verify"));
  assert_non_null(strstr(out, "exit codes"));
  assert_int_equal(run("help render"), 0);
  assert_non_null(strstr(out, "usage: stemgate render SPEC"));
  assert_non_null(strstr(out, "3 I/O error"));
  assert_int_equal(run("help verify"), 0);
  assert_non_null(strstr(out, "--junit"));
  assert_int_equal(run("render --help"), 0);
  assert_int_equal(run("--version"), 0);
  assert_non_null(strstr(out, "stemgate 0."));
  assert_int_equal(run(""), 2);
  assert_int_equal(run("frobnicate"), 2);
  assert_non_null(strstr(out, "unknown command"));
  assert_int_equal(run("render"), 2);
  assert_int_equal(run("render a.yaml --bogus"), 2);
  assert_non_null(strstr(out, "--bogus"));
  assert_int_equal(run("help nope"), 2);
}

static void spec_errors_point_into_the_file(void **st) {
  (void)st;
  const char *p = sg_test_path("typo.yaml");
  assert_int_equal(sg_test_write_text(p, "title: T\ntempo: 120\ntmepo: 3\nsections:\n"
                                         "  - {name: a, bars: 4}\n"),
                   0);
  char args[1200];
  snprintf(args, sizeof args, "render '%s' -o '%s'", p, sg_test_path("o"));
  assert_int_equal(run(args), 2);
  assert_non_null(strstr(out, "typo.yaml:3:1:"));
  assert_non_null(strstr(out, "did you mean 'tempo'"));
  snprintf(args, sizeof args, "timing '%s'", p);
  assert_int_equal(run(args), 2);
  snprintf(args, sizeof args, "render '%s'", sg_test_path("absent.yaml"));
  assert_int_equal(run(args), 3);
}

static void timing_table(void **st) {
  (void)st;
  char args[1200];
  snprintf(args, sizeof args, "timing '%s'", sg_test_source("examples/deja-vu.yaml"));
  assert_int_equal(run(args), 0);
  /* The bridge: bars 49-64, snapped from 1:22-1:49, first frame 3949714 at 48 kHz. */
  const char *b = strstr(out, "bridge");
  assert_non_null(b);
  assert_non_null(strstr(b, "49-64"));
  assert_non_null(strstr(b, "3949714"));
  assert_non_null(strstr(b, "start +0.286 s"));
  assert_non_null(strstr(out, "total: 80 bars, 2:17.143, 6582857 frames"));
}

static void analyze_a_file(void **st) {
  (void)st;
  /* A 2 s 440 Hz tone at -6 dBFS written by the test. */
  const char *p = sg_test_path("tone.wav");
  sg_audio_writer_config c;
  sg_audio_writer_config_init(&c);
  c.channels = 1;
  float *x = malloc(96000 * sizeof *x);
  for (int i = 0; i < 96000; ++i)
    x[i] = 0.5f * (float)sin(2 * SG_PI * 440 * i / 48000.0);
  assert_int_equal(sg_audio_write_all(p, x, 96000, &c, NULL), SG_OK);
  free(x);
  char args[1200];
  snprintf(args, sizeof args, "analyze '%s'", p);
  assert_int_equal(run(args), 0);
  assert_non_null(strstr(out, "48000 Hz"));
  assert_non_null(strstr(out, "peak -6.02 dBFS"));
  snprintf(args, sizeof args, "analyze '%s'", sg_test_path("nothing.wav"));
  assert_int_equal(run(args), 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(help_and_usage),
      cmocka_unit_test(spec_errors_point_into_the_file),
      cmocka_unit_test(timing_table),
      cmocka_unit_test(analyze_a_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
