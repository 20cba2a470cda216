/* report.html's envelopes kept beside their nodes (work/nodes/<node>.trace): a render that
 * reuses the stems draws them from what their writers measured, and its page (like every file it
 * delivers) is byte-identical to a clean render's; a kept trace is drawn only for the bytes it was
 * measured on (a trace saved under another file's hash is ignored, the file read and the trace
 * saved again). */
#include "sg_test.h"

#include "stemgate/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *SONG = "title: Trace Song\n"
                          "tempo: 120\n"
                          "key: A minor\n"
                          "style: pop\n"
                          "seed: 5\n"
                          "sections:\n"
                          "  - {name: a, bars: 2, chords: \"Am F\"}\n"
                          "  - {name: b, bars: 2, chords: \"C G\"}\n"
                          "stems:\n"
                          "  - {name: Bass, instrument: moog_bass}\n"
                          "  - {name: Keys, instrument: dx7}\n"
                          "drums: {source: synth, style: pop}\n"
                          "master: {loudness_lufs: %s, true_peak_dbtp: -1.0}\n";

static void quiet(void *u, const char *line) {
  (void)u;
  (void)line;
}

/* Renders the song with the master's target lufs into out. */
static void render(const char *lufs, const char *out) {
  char text[2048], spec[1024];
  snprintf(text, sizeof text, SONG, lufs);
  snprintf(spec, sizeof spec, "%s/song%s.yaml", sg_test_tmpdir(), lufs);
  assert_int_equal(sg_test_write_text(spec, text), 0);
  sg_render_options o;
  sg_render_options_init(&o);
  o.spec_path = spec;
  o.out_dir = out;
  o.jobs = 2;
  o.log = getenv("SG_TEST_VERBOSE") ? NULL : quiet;
  sg_render_result res;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_render(&o, &res, &d);
  if (st != SG_OK)
    fail_msg("render: %s", d.message);
  sg_render_result_free(&res);
}

static int same_file(const char *a, const char *b) {
  size_t na = 0, nb = 0;
  char *x = sg_test_read_file(a, &na), *y = sg_test_read_file(b, &nb);
  int same = x && y && na == nb && !memcmp(x, y, (size_t)na);
  free(x);
  free(y);
  return same;
}

static const char *at(const char *dir, const char *rel) {
  static char buf[4][1200];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", dir, rel);
  return buf[k];
}

static void test_kept_traces(void **state) {
  (void)state;
  char loop[1024], clean14[1024], clean15[1024];
  snprintf(loop, sizeof loop, "%s", sg_test_path("loop"));
  snprintf(clean14, sizeof clean14, "%s", sg_test_path("clean14"));
  snprintf(clean15, sizeof clean15, "%s", sg_test_path("clean15"));
  render("-14", loop);
  /* kept for every node that wrote audio: 112 bytes of header, 2 floats per column (a stem),
   * 4 with the master's loudness and true peak */
  const char *stems[] = {"fx_Bass", "fx_Keys", "fx_Drums"};
  for (int i = 0; i < 3; ++i) {
    char rel[64];
    snprintf(rel, sizeof rel, "work/nodes/%s.trace", stems[i]);
    size_t n = 0;
    char *t = sg_test_read_file(at(loop, rel), &n);
    assert_non_null(t);
    assert_int_equal(n, 112 + 8 * 1000);
    free(t);
  }
  size_t mn = 0;
  char *mt = sg_test_read_file(at(loop, "work/nodes/master.trace"), &mn);
  assert_non_null(mt);
  assert_int_equal(mn, 112 + 16 * 1000);
  free(mt);

  /* the master's target changed: the stems are reused, their envelopes drawn from the kept
   * traces, and the page is the clean render's, byte for byte */
  render("-15", loop);
  render("-15", clean15);
  assert_true(same_file(at(loop, "current/report.html"), at(clean15, "current/report.html")));
  /* and every delivered file is the clean render's: the zip's stored entries copied with the
   * CRC-32 the reused stems' records hold */
  sg_test_set a, b;
  assert_int_equal(sg_test_set_read(loop, &a), 1);
  assert_int_equal(sg_test_set_read(clean15, &b), 1);
  assert_true(a.n >= 5);
  assert_true(sg_test_set_equal(&a, &b));
  render("-14", clean14);

  /* the kept trace is what is drawn: one changed in its columns (its key left) changes the
   * page */
  char bass[1200];
  snprintf(bass, sizeof bass, "%s", at(loop, "work/nodes/fx_Bass.trace"));
  size_t bn = 0;
  char *orig = sg_test_read_file(bass, &bn);
  assert_non_null(orig);
  char *bent = malloc((size_t)bn);
  assert_non_null(bent);
  memcpy(bent, orig, (size_t)bn);
  for (long i = 112; i < 112 + 4 * 1000; i += 4) /* every column's minimum: -0.5 */
    memcpy(bent + i, "\x00\x00\x00\xbf", 4);
  FILE *f = fopen(bass, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(bent, 1, (size_t)bn, f), (size_t)bn);
  assert_int_equal(fclose(f), 0);
  render("-14", loop);
  assert_false(same_file(at(loop, "current/report.html"), at(clean14, "current/report.html")));

  /* another file's trace (the Keys' key) in its place is never drawn: the file is read, the
   * page is the clean one, and the trace is kept again as the writer measured it */
  assert_int_equal(sg_test_copy_file(at(loop, "work/nodes/fx_Keys.trace"), bass), 0);
  render("-15", loop);
  assert_true(same_file(at(loop, "current/report.html"), at(clean15, "current/report.html")));
  size_t kn = 0;
  char *kept = sg_test_read_file(bass, &kn);
  assert_non_null(kept);
  assert_int_equal(kn, bn);
  assert_memory_equal(kept, orig, (size_t)bn);
  free(kept);
  free(bent);
  free(orig);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kept_traces),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
