/* report.html of a render: a short song with a stem named `<b>&"x` rendered, then its page
 * parsed: tags balanced, one waveform per stem plus the master, one table row per gate row of
 * the run (the manifest's rows first), FAIL before WARN before PASS, every user string escaped.
 * A render that fails still writes the page, marked failed, in DIR/work. */
#include "sg_test.h"

#include "stemgate/manifest.h"
#include "stemgate/pipeline.h"
#include "stemgate/verify.h"
#include "stemgate/zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *SONG = "title: Report <Song> & \"Co\"\n"
                          "tempo: 120\n"
                          "key: A minor\n"
                          "style: pop\n"
                          "sections:\n"
                          "  - {name: \"in<tro>\", bars: 2, chords: \"Am F\"}\n"
                          "  - {name: verse, bars: 2, chords: \"C G\"}\n"
                          "stems:\n"
                          "  - {name: \"<b>&\\\"x\", instrument: moog_bass}\n"
                          "  - {name: Keys, instrument: dx7}\n"
                          "drums: {source: synth, style: pop}\n";

/* The second section is silent (no drums, the stems play only the first), and the spec asks
 * every section to reach -20 dBFS: the master's section_presence fails after every stem. */
static const char *SILENT = "title: Report Fail\n"
                            "tempo: 120\n"
                            "key: A minor\n"
                            "sections:\n"
                            "  - {name: a, bars: 2, chords: \"Am F\"}\n"
                            "  - {name: b, bars: 2, chords: \"C G\"}\n"
                            "stems:\n"
                            "  - {name: \"<b>&\\\"x\", instrument: moog_bass, sections: [a]}\n"
                            "  - {name: Keys, instrument: dx7, sections: [a]}\n"
                            "gates: {silence_dbfs: -20}\n";

static void quiet(void *u, const char *line) {
  (void)u;
  (void)line;
}

static size_t count(const char *s, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
    ++n;
  return n;
}

/* Every tag closed in order (void elements: meta), and every '<' starts a tag or a comment:
 * an unescaped '<' in a name would either break the nesting or show up here. */
static void assert_balanced(const char *s) {
  char stack[256][16];
  int depth = 0;
  for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<')) {
    const char *e = strchr(p, '>');
    assert_non_null(e);
    if (p[1] == '!')
      continue;
    int closing = p[1] == '/';
    const char *nm = p + 1 + closing;
    size_t len = strspn(nm, "abcdefghijklmnopqrstuvwxyz0123456789");
    if (len == 0 || len >= 16)
      fail_msg("stray '<' at offset %ld: %.40s", (long)(p - s), p);
    char name[16];
    memcpy(name, nm, len);
    name[len] = '\0';
    if (closing) {
      if (depth == 0 || strcmp(stack[depth - 1], name))
        fail_msg("</%s> at offset %ld closes <%s>", name, (long)(p - s),
                 depth ? stack[depth - 1] : "nothing");
      --depth;
    } else if (e[-1] != '/' && strcmp(name, "meta")) {
      assert_true(depth < 256);
      snprintf(stack[depth++], sizeof stack[0], "%s", name);
    }
  }
  assert_int_equal(depth, 0);
}

static sg_status render(const char *spec, const char *dir, sg_render_result *res, sg_diag *d) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.yaml", sg_test_tmpdir(), dir);
  assert_int_equal(sg_test_write_text(path, spec), 0);
  sg_render_options o;
  sg_render_options_init(&o);
  o.spec_path = path;
  o.out_dir = sg_test_path(dir);
  o.jobs = 2;
  o.log = getenv("SG_TEST_VERBOSE") ? NULL : quiet;
  return sg_render(&o, res, d);
}

static void test_delivered_report(void **state) {
  (void)state;
  sg_render_result res;
  sg_diag d;
  memset(&d, 0, sizeof d);
  sg_status st = render(SONG, "ok", &res, &d);
  if (st != SG_OK)
    fail_msg("render: %s", d.message);
  /* inside the delivered set, next to the zip */
  char want[1200];
  snprintf(want, sizeof want, "%s/current/report.html", res.out_dir);
  assert_string_equal(res.report_path, want);
  char *html = sg_test_read_file(res.report_path, NULL);
  assert_non_null(html);
  assert_balanced(html);
  /* escaped: the stem, the title and a section name come from the spec */
  assert_null(strstr(html, "<b>&\"x"));
  assert_null(strstr(html, "<b>"));
  assert_null(strstr(html, "<Song>"));
  assert_null(strstr(html, "in<tro>"));
  assert_non_null(strstr(html, "&lt;b&gt;&amp;&quot;x"));
  assert_non_null(strstr(html, "Report &lt;Song&gt; &amp; &quot;Co&quot;"));
  assert_non_null(strstr(html, "in&lt;tro&gt;"));
  /* one waveform per stem (two and the drums) and the master; one piano roll per stem */
  assert_int_equal(count(html, "<svg class=\"wave\""), 3);
  assert_int_equal(count(html, "<svg class=\"wave master\""), 1);
  assert_int_equal(count(html, "<svg class=\"roll\""), 3);
  assert_int_equal(count(html, "<svg class=\"loudness\""), 1);
  assert_int_equal(count(html, "<svg class=\"keys\""), 1);
  assert_int_equal(count(html, "<table class=\"gates\">"), 1);
  assert_non_null(strstr(html, "data-stem=\"&lt;b&gt;&amp;&quot;x\""));
  /* the envelope is drawn, not empty: a path with many points for the named stem */
  const char *w = strstr(html, "data-stem=\"&lt;b&gt;&amp;&quot;x\"");
  const char *env = strstr(w, "<path class=\"env\" d=\"M");
  assert_non_null(env);
  assert_true(count(env, "L") > 500);
  assert_non_null(strstr(html, "PASSED"));
  assert_null(strstr(html, "RENDER FAILED"));

  /* one row per gate row of the run; the manifest holds the rows up to the package, the rest
   * are the re-read of the archive and the client's verification */
  size_t rows = count(html, "<tr class=\"");
  assert_int_equal(rows, res.gates.n);
  sg_zip_reader *zr = NULL;
  assert_int_equal(sg_zip_reader_open(&zr, res.zip_path, NULL, &d), SG_OK);
  const sg_zip_entry *me = sg_zip_reader_find(zr, "manifest.json");
  assert_non_null(me);
  char *js = NULL;
  size_t jn = 0;
  assert_int_equal(sg_zip_reader_read_all(zr, me, 1 << 26, &js, &jn, &d), SG_OK);
  sg_zip_reader_close(zr);
  sg_manifest m;
  assert_int_equal(sg_manifest_parse(js, jn, &m, &d), SG_OK);
  free(js);
  assert_true(m.n_gates > 50 && m.n_gates <= rows);
  for (size_t i = 0; i < m.n_gates; ++i)
    assert_string_equal(m.gates[i].check, res.gates.v[i].check);
  for (size_t i = m.n_gates; i < rows; ++i)
    assert_true(!strcmp(res.gates.v[i].step, "package") || !strcmp(res.gates.v[i].step, "verify"));
  sg_manifest_free(&m);
  free(html);

  /* verify --report: the same page for the package as a client verifies it */
  sg_song *song = NULL;
  assert_int_equal(sg_song_load(sg_test_path("ok.yaml"), &song, &d), SG_OK);
  sg_verify_options vo;
  sg_verify_options_init(&vo);
  vo.package = res.zip_path;
  sg_verify_result vr;
  assert_int_equal(sg_verify_package(song, &vo, &vr, &d), SG_OK);
  const char *vpath = sg_test_path("verify.html");
  assert_int_equal(sg_verify_to_html(song, &vr, vpath, &d), SG_OK);
  html = sg_test_read_file(vpath, NULL);
  assert_non_null(html);
  assert_balanced(html);
  assert_null(strstr(html, "<b>"));
  assert_int_equal(count(html, "<svg class=\"wave\""), 3);
  assert_int_equal(count(html, "<svg class=\"wave master\""), 1);
  assert_int_equal(count(html, "<tr class=\""), vr.report.n);
  assert_null(strstr(html, "not rendered"));
  assert_null(strstr(html, "no note events")); /* the package's MIDI files were found */
  assert_non_null(strstr(html, "PASSED"));
  free(html);
  sg_verify_result_free(&vr);
  sg_song_free(song);
  sg_render_result_free(&res);
}

static void test_failed_report(void **state) {
  (void)state;
  sg_render_result res;
  sg_diag d;
  memset(&d, 0, sizeof d);
  sg_status st = render(SILENT, "bad", &res, &d);
  assert_int_equal(st, SG_E_GATE);
  char want[1200];
  snprintf(want, sizeof want, "%s/work/report.html", res.out_dir);
  assert_string_equal(res.report_path, want);
  char cur[1200];
  snprintf(cur, sizeof cur, "%s/current/report.html", res.out_dir);
  FILE *f = fopen(cur, "rb");
  assert_null(f); /* nothing delivered */
  char *html = sg_test_read_file(res.report_path, NULL);
  assert_non_null(html);
  assert_balanced(html);
  assert_non_null(strstr(html, "<title>FAILED: "));
  assert_non_null(strstr(html, "RENDER FAILED"));
  assert_null(strstr(html, "<b>"));
  assert_int_equal(count(html, "<tr class=\""), res.gates.n);
  /* the failing row first, then warnings, then passes */
  const char *first = strstr(html, "<tr class=\"");
  assert_non_null(first);
  assert_memory_equal(first, "<tr class=\"fail\">", 17);
  assert_non_null(strstr(first, "section_presence"));
  int rank = 0;
  for (const char *p = first; p; p = strstr(p + 1, "<tr class=\"")) {
    int k = !strncmp(p + 11, "fail", 4) ? 0 : !strncmp(p + 11, "warn", 4) ? 1 : 2;
    assert_true(k >= rank);
    rank = k;
  }
  assert_int_equal(rank, 2); /* passes are there too */
  /* the stems and the master were rendered before the failure: their waveforms are drawn */
  assert_int_equal(count(html, "<svg class=\"wave\""), 2);
  assert_null(strstr(html, "not rendered"));
  sg_render_result_free(&res);
  free(html);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_delivered_report),
      cmocka_unit_test(test_failed_report),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
