/* The report module alone: the streaming envelope (exact min/max per column, the overflow
 * column, loudness and true peak of a known tone) and the writer (escaping, row order, the
 * failed banner) on data built by hand. */
#include "sg_test.h"

#include "stemgate/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_envelope_columns(void **state) {
  (void)state;
  /* 100 columns of 480 frames; column k holds +k/200 and -k/400 on alternate frames (ch 0) */
  sg_trace_config c = {2, 48000, 48000, 100, 0};
  sg_trace *t = NULL;
  assert_int_equal(sg_trace_create(&t, &c, NULL), SG_OK);
  static float x[48000 * 2];
  for (int i = 0; i < 48000; ++i) {
    int k = i / 480;
    x[2 * i] = (i % 2) ? -(float)k / 400.0f : (float)k / 200.0f;
    x[2 * i + 1] = 0;
  }
  /* odd block sizes: columns must not depend on how the writer cut its blocks */
  for (size_t off = 0; off < 48000;) {
    size_t n = 48000 - off < 777 ? 48000 - off : 777;
    assert_int_equal(sg_trace_add(t, x + 2 * off, n), SG_OK);
    off += n;
  }
  sg_report_wave w;
  assert_int_equal(sg_report_wave_from(&w, t), SG_OK);
  assert_int_equal(w.n, 100);
  assert_float_equal(w.col_s, 0.01, 1e-12);
  assert_null(w.st_lufs);
  for (int k = 0; k < 100; ++k) {
    assert_float_equal(w.hi[k], k / 200.0f, 1e-7);
    assert_float_equal(w.lo[k], k ? -k / 400.0f : 0.0f, 1e-7);
  }
  free(w.lo);
  free(w.hi);
  /* frames past the expected length fall into the last column */
  float big[2] = {0.9f, -0.95f};
  assert_int_equal(sg_trace_add(t, big, 1), SG_OK);
  assert_int_equal(sg_report_wave_from(&w, t), SG_OK);
  assert_int_equal(w.n, 100);
  assert_float_equal(w.hi[99], 0.9f, 1e-7); /* channel 0's 0.9 the max, channel 1's -0.95 the min */
  assert_float_equal(w.lo[99], -0.95f, 1e-7);
  free(w.lo);
  free(w.hi);
  sg_trace_free(t);
}

static void test_loudness_of_a_tone(void **state) {
  (void)state;
  /* EBU Tech 3341 case 1 style: a 1 kHz sine at -20 dBFS in both channels reads -20 LUFS
   * short-term once 3 s are in; its true peak is -20 dBTP. */
  const unsigned rate = 48000;
  const int64_t frames = 6 * rate;
  sg_trace_config c = {2, rate, frames, 60, 1};
  sg_trace *t = NULL;
  assert_int_equal(sg_trace_create(&t, &c, NULL), SG_OK);
  float *x = malloc((size_t)frames * 2 * sizeof *x);
  assert_non_null(x);
  const double a = pow(10.0, -20.0 / 20.0);
  for (int64_t i = 0; i < frames; ++i)
    x[2 * i] = x[2 * i + 1] =
        (float)(a * sin(2 * 3.14159265358979323846 * 1000.0 * (double)i / rate));
  assert_int_equal(sg_trace_add(t, x, (size_t)frames), SG_OK);
  free(x);
  sg_report_wave w;
  assert_int_equal(sg_report_wave_from(&w, t), SG_OK);
  assert_int_equal(w.n, 60);
  assert_non_null(w.st_lufs);
  for (int k = 30; k < 60; ++k) { /* from 3 s on: a full window */
    assert_float_equal(w.st_lufs[k], -20.0, 0.1);
    assert_float_equal(w.tp_dbtp[k], -20.0, 0.1);
  }
  assert_true(w.st_lufs[5] < w.st_lufs[40] - 3); /* 0.6 s of tone in a 3 s window */
  free(w.lo);
  free(w.hi);
  free(w.st_lufs);
  free(w.tp_dbtp);
  sg_trace_free(t);
}

static void add_row(sg_report *r, const char *check, const char *stem, int pass, int required) {
  sg_gate_result g;
  memset(&g, 0, sizeof g);
  snprintf(g.step, sizeof g.step, "stem");
  snprintf(g.check, sizeof g.check, "%s", check);
  snprintf(g.stem, sizeof g.stem, "%s", stem);
  g.measured = 1.5;
  g.limit = 1;
  g.cmp = SG_CMP_LE;
  g.pass = pass;
  g.required = required;
  snprintf(g.detail, sizeof g.detail, "a<b & c>d");
  sg_gate_report one = {&g, 1, 1, 0};
  assert_int_equal(sg_gate_report_append(&r->gates, &one), SG_OK);
}

static void test_writer(void **state) {
  (void)state;
  sg_report *r = malloc(sizeof *r);
  assert_non_null(r);
  sg_report_init(r);
  snprintf(r->title, sizeof r->title, "T<i>tle");
  r->duration_s = 8;
  r->failed = 1;
  snprintf(r->failure, sizeof r->failure, "stem/<x>: peak > limit");
  r->n_sections = 1;
  snprintf(r->sections[0].name, sizeof r->sections[0].name, "A&B");
  r->sections[0].end_s = 8;
  r->n_stems = 1;
  snprintf(r->stems[0].name, sizeof r->stems[0].name, "<script>alert(1)</script>");
  add_row(r, "first_pass", "s", 1, 1);
  add_row(r, "the_fail", "s", 0, 1);
  add_row(r, "a_warn", "s", 0, 0);
  add_row(r, "second_pass", "s", 1, 1);
  char *h = sg_report_html(r);
  assert_non_null(h);
  assert_null(strstr(h, "<script"));
  assert_null(strstr(h, "<i>"));
  assert_null(strstr(h, "a<b"));
  assert_non_null(strstr(h, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  assert_non_null(strstr(h, "A&amp;B"));
  assert_non_null(strstr(h, "RENDER FAILED"));
  assert_non_null(strstr(h, "stem/&lt;x&gt;: peak &gt; limit"));
  const char *f = strstr(h, "the_fail"), *w = strstr(h, "a_warn"), *p1 = strstr(h, "first_pass"),
             *p2 = strstr(h, "second_pass");
  assert_true(f && w && p1 && p2);
  assert_true(f < w && w < p1 && p1 < p2);
  assert_non_null(strstr(h, "not rendered")); /* a stem without audio says so */
  free(h);
  const char *path = sg_test_path("r.html");
  assert_int_equal(sg_report_write_html(r, path, NULL), SG_OK);
  FILE *fp = fopen(path, "rb");
  assert_non_null(fp);
  fclose(fp);
  /* A piano roll of 20000 notes (~1 MB of page): the streamed file is the page, byte for byte,
   * through many flushes of the writer's buffer. */
  r->stems[0].n_notes = 20000;
  r->stems[0].notes = calloc(r->stems[0].n_notes, sizeof *r->stems[0].notes);
  assert_non_null(r->stems[0].notes);
  for (size_t i = 0; i < r->stems[0].n_notes; ++i)
    r->stems[0].notes[i] = (sg_report_note){(double)i * 4e-4, 0.1, 40 + (int)(i % 37), 0.5f};
  h = sg_report_html(r);
  assert_non_null(h);
  size_t hn = strlen(h);
  assert_true(hn > 8 * 65536);
  assert_int_equal(sg_report_write_html(r, path, NULL), SG_OK);
  fp = fopen(path, "rb");
  assert_non_null(fp);
  char *got = malloc(hn + 2);
  assert_non_null(got);
  assert_int_equal(fread(got, 1, hn + 2, fp), hn);
  fclose(fp);
  assert_memory_equal(got, h, hn);
  free(got);
  free(h);
  sg_report_free(r);
  free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_envelope_columns),
      cmocka_unit_test(test_loudness_of_a_tone),
      cmocka_unit_test(test_writer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
