/* The whole pipeline on short songs: every gate passes on a good spec, renders are
 * bit-identical, the cache re-renders only what changed, a failing gate stops the run with the
 * step, stem, check, value and limit and leaves no half-written package. */
#include "sg_test.h"

#include "stemgate/package.h"
#include "stemgate/pipeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *SONG =
    "title: Test Song\n"
    "tempo: 128\n"
    "meter: 4/4\n"
    "key: D major\n"
    "style: pop\n"
    "seed: 7\n"
    "sections:\n"
    "  - {name: a, bars: 4, chords: \"Dmaj7 | Bm7 | Gmaj7 | A7\"}\n"
    "  - {name: b, bars: 4, key: F major, chords: \"Fmaj7 | Dm7 | Bbmaj7 | C7\"}\n"
    "  - {name: c, bars: 4, key: F major, chords: \"Fmaj7 | Dm7 | Gm7 | C7\"}\n"
    "stems:\n"
    "  - name: Keys\n"
    "    instrument: dx7\n"
    "    patch: epiano\n"
    "    effects:\n"
    "      - delay: {time: \"1/8.\", feedback: 0.3, mix: 0.3}\n"
    "      - reverb: {rt60: 1.2, mix: 0.2}\n"
    "  - {name: Bass, instrument: moog_bass, gain_db: -2}\n"
    "  - {name: Lift, instrument: prophet_poly, patch: pad, sections: [b]}\n"
    "drums: {source: synth, style: pop}\n"
    "master: {loudness_lufs: -14, true_peak_dbtp: -1.0}\n";

static int file_exists(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0;
}

static void quiet(void *u, const char *line) {
  (void)u;
  (void)line;
}

static int g_jobs; /* 0: the default (one per core) */

static sg_status render(const char *spec, const char *out, sg_render_result *res, sg_diag *d) {
  sg_render_options o;
  sg_render_options_init(&o);
  o.jobs = g_jobs;
  o.spec_path = spec;
  o.out_dir = out;
  o.log = getenv("SG_TEST_VERBOSE") ? NULL : quiet;
  sg_diag_clear(d);
  return sg_render(&o, res, d);
}

static const sg_gate_result *find_gate(const sg_render_result *r, const char *stem,
                                       const char *check) {
  for (size_t i = 0; i < r->gates.n; ++i)
    if (!strcmp(r->gates.v[i].stem, stem) && !strcmp(r->gates.v[i].check, check))
      return &r->gates.v[i];
  return NULL;
}

static void good_song_passes_every_gate(void **st) {
  (void)st;
  const char *spec = sg_test_path("song.yaml");
  assert_int_equal(sg_test_write_text(spec, SONG), 0);
  sg_render_result res;
  sg_diag d;
  sg_status s = render(spec, sg_test_path("out1"), &res, &d);
  char msg[1200];
  if (s != SG_OK)
    printf("render failed: %s\n", sg_diag_format(&d, msg, sizeof msg));
  assert_int_equal(s, SG_OK);
  assert_int_equal(res.gates.failed, 0);
  assert_int_equal(res.stems_rendered, 4);
  assert_true(file_exists(res.zip_path));
  /* The gates that matter were really measured. */
  const sg_gate_result *g = find_gate(&res, "Master", "loudness");
  assert_non_null(g);
  printf("master loudness %.2f LUFS\n", g->measured);
  assert_true(g->pass);
  assert_non_null(find_gate(&res, "Master", "true_peak"));
  assert_non_null(find_gate(&res, "b..c", "key"));
  /* Render verified its own package with verify's code, and the two agree: every check that
   * both report on the same file has the same name, number and verdict. */
  size_t compared = 0;
  for (size_t i = 0; i < res.gates.n; ++i) {
    const sg_gate_result *v = &res.gates.v[i];
    /* Stems' sync rows against the master are verify's own: render builds the master from its
     * stems, so there is nothing for it to measure there. */
    int stem_sync =
        (v->id == SG_CHECK_SYNC || v->id == SG_CHECK_SYNC_OFFSET || v->id == SG_CHECK_SYNC_DRIFT) &&
        strcmp(v->stem, "Master") != 0;
    if (strcmp(v->step, "verify") != 0 || !strcmp(v->check, "present") ||
        !strcmp(v->check, "readable") || !strcmp(v->check, "package") || stem_sync)
      continue;
    const sg_gate_result *m = NULL;
    for (size_t j = 0; j < i && !m; ++j) {
      const sg_gate_result *x = &res.gates.v[j];
      if ((!strcmp(x->step, "fx") || !strcmp(x->step, "master")) && x->id == v->id &&
          !strcmp(x->stem, v->stem))
        m = x;
    }
    if (!m) {
      printf("verify row %s/%s has no render row\n", v->stem, v->check);
      fail();
    }
    if (!(m->measured == v->measured || (isnan(m->measured) && isnan(v->measured))) ||
        m->pass != v->pass || strcmp(m->detail, v->detail) != 0) {
      printf("%s/%s: render %.17g %d '%s', verify %.17g %d '%s'\n", v->stem, v->check, m->measured,
             m->pass, m->detail, v->measured, v->pass, v->detail);
      fail();
    }
    ++compared;
  }
  printf("%zu rows identical in render and verify\n", compared);
  assert_true(compared >= 40);
  assert_non_null(find_gate(&res, "Keys", "delay_echo"));
  assert_non_null(find_gate(&res, "Lift", "silent_outside_sections"));
  /* The archive holds what the manifest says (re-verified independently here). */
  sg_gate_report rep;
  sg_gate_report_init(&rep);
  assert_int_equal(sg_package_verify(res.zip_path, NULL, &rep, NULL), SG_OK);
  assert_true(rep.n >= 3 * 5);
  sg_gate_report_free(&rep);
  sg_render_result_free(&res);
}

static void renders_are_bit_identical_for_any_thread_count_and_cached(void **st) {
  (void)st;
  const char *spec = sg_test_path("song2.yaml");
  assert_int_equal(sg_test_write_text(spec, SONG), 0);
  sg_render_result a, b, c;
  sg_diag d;
  g_jobs = 1;
  assert_int_equal(render(spec, sg_test_path("outA"), &a, &d), SG_OK);
  g_jobs = 3;
  assert_int_equal(render(spec, sg_test_path("outB"), &b, &d), SG_OK);
  g_jobs = 0;
  char ha[65], hb[65];
  assert_int_equal(sg_sha256_file(a.zip_path, ha, NULL), SG_OK);
  assert_int_equal(sg_sha256_file(b.zip_path, hb, NULL), SG_OK);
  /* two fresh renders, one thread against three: the same package, byte for byte */
  assert_string_equal(ha, hb);
  /* Again into A: everything comes from the cache, and the package is still identical. */
  assert_int_equal(render(spec, sg_test_path("outA"), &c, &d), SG_OK);
  assert_int_equal(c.stems_rendered, 0);
  assert_int_equal(c.stems_cached, 4);
  assert_int_equal(sg_sha256_file(c.zip_path, hb, NULL), SG_OK);
  assert_string_equal(ha, hb);
  sg_render_result_free(&c);
  /* Change one stem's gain: its dry render stays cached, the package changes. */
  char *edited = malloc(strlen(SONG) + 16);
  strcpy(edited, SONG);
  char *p = strstr(edited, "gain_db: -2");
  assert_non_null(p);
  memcpy(p, "gain_db: -4", 11);
  assert_int_equal(sg_test_write_text(spec, edited), 0);
  assert_int_equal(render(spec, sg_test_path("outA"), &c, &d), SG_OK);
  assert_int_equal(c.stems_rendered, 0);
  assert_int_equal(sg_sha256_file(c.zip_path, hb, NULL), SG_OK);
  assert_string_not_equal(ha, hb);
  free(edited);
  sg_render_result_free(&a);
  sg_render_result_free(&b);
  sg_render_result_free(&c);
}

static void failing_gate_stops_the_run(void **st) {
  (void)st;
  /* A loudness target no limiter reaches under a -9 dBTP ceiling. */
  char *spec_text = malloc(strlen(SONG) + 64);
  strcpy(spec_text, SONG);
  char *m = strstr(spec_text, "master: {loudness_lufs: -14, true_peak_dbtp: -1.0}");
  assert_non_null(m);
  strcpy(m, "master: {loudness_lufs: -5, true_peak_dbtp: -9}\n");
  const char *spec = sg_test_path("loud.yaml");
  assert_int_equal(sg_test_write_text(spec, spec_text), 0);
  sg_render_result res;
  sg_diag d;
  const char *out = sg_test_path("outLoud");
  assert_int_equal(render(spec, out, &res, &d), SG_E_GATE);
  char msg[1200];
  printf("%s\n", sg_diag_format(&d, msg, sizeof msg));
  assert_string_equal(d.step, "master");
  assert_string_equal(d.check, "loudness");
  assert_true(d.has_value);
  assert_true(d.measured < -5.5);
  assert_int_equal(sg_exit_code(SG_E_GATE), 1);
  /* Nothing is delivered after a failed gate (no current set, no zip); the stems written before
   * it are complete files in work/. */
  char zip[1200];
  snprintf(zip, sizeof zip, "%s/current/test-song.zip", out);
  assert_false(file_exists(zip));
  snprintf(zip, sizeof zip, "%s/current", out);
  assert_false(file_exists(zip));
  char stem[1200];
  snprintf(stem, sizeof stem, "%s/work/final/Keys.wav", out);
  assert_true(file_exists(stem));
  sg_render_result_free(&res);
  free(spec_text);
}

static void spec_errors_are_usage_errors(void **st) {
  (void)st;
  const char *spec = sg_test_path("bad.yaml");
  assert_int_equal(sg_test_write_text(spec, "title: x\ntempo: 120\nsections: []\nstemz: []\n"), 0);
  sg_render_result res;
  sg_diag d;
  sg_status s = render(spec, sg_test_path("outBad"), &res, &d);
  assert_int_equal(s, SG_E_SPEC);
  assert_int_equal(sg_exit_code(s), 2);
  assert_true(d.line > 0);
  sg_render_result_free(&res);
  assert_int_equal(render(sg_test_path("missing.yaml"), sg_test_path("o"), &res, &d), SG_E_IO);
  assert_int_equal(sg_exit_code(SG_E_IO), 3);
  sg_render_result_free(&res);
}

/* Makes a client-style reference from a rendered drum stem: 37 ms of leading silence, 44.1 kHz,
 * 16-bit. */
static void make_reference(const char *drums_wav, const char *ref_path) {
  float *x = NULL;
  sg_audio_info info;
  assert_int_equal(sg_audio_read_all(drums_wav, 1 << 24, &x, &info, NULL), SG_OK);
  const int64_t pad = 1776; /* 37 ms at 48 kHz */
  float *y = calloc((size_t)(info.frames + pad) * info.channels, sizeof *y);
  memcpy(y + pad * info.channels, x, (size_t)info.frames * info.channels * sizeof *x);
  sg_audio_writer_config c;
  sg_audio_writer_config_init(&c);
  c.rate = info.rate;
  c.channels = info.channels;
  const char *tmp = sg_test_path("ref48.wav");
  assert_int_equal(sg_audio_write_all(tmp, y, info.frames + pad, &c, NULL), SG_OK);
  const char *tmp44 = sg_test_path("ref44f.wav");
  assert_int_equal(sg_audio_convert_file(tmp, tmp44, 44100, 2, NULL), SG_OK);
  float *z = NULL;
  sg_audio_info zi;
  assert_int_equal(sg_audio_read_all(tmp44, 1 << 24, &z, &zi, NULL), SG_OK);
  c.rate = 44100;
  c.format = SG_FMT_PCM16;
  assert_int_equal(sg_audio_write_all(ref_path, z, zi.frames, &c, NULL), SG_OK);
  free(x);
  free(y);
  free(z);
}

static void reference_track_locks_the_grid(void **st) {
  (void)st;
  /* 1. A song with synthesized drums, played without timing humanisation so its first
   * downbeat is exactly on bar 1, gives the "client's" drum track. */
  const char *spec = sg_test_path("for_ref.yaml");
  char *tight = malloc(strlen(SONG) + 64);
  strcpy(tight, SONG);
  char *seed = strstr(tight, "seed: 7\n");
  assert_non_null(seed);
  const char *ins = "seed: 7\nhumanize: {timing_ms: 0}\n";
  size_t k = strlen(ins);
  memmove(seed + k, seed + 8, strlen(seed + 8) + 1);
  memcpy(seed, ins, k);
  assert_int_equal(sg_test_write_text(spec, tight), 0);
  free(tight);
  sg_render_result res;
  sg_diag d;
  assert_int_equal(render(spec, sg_test_path("outR0"), &res, &d), SG_OK);
  sg_render_result_free(&res);
  char drums[1200];
  snprintf(drums, sizeof drums, "%s/current/test-song_Drums.wav", sg_test_path("outR0"));
  const char *ref = sg_test_path("client_drums.wav");
  make_reference(drums, ref);
  /* 2. The same spec built on that reference, given on the command line (--reference): the
   * reference replaces the synthesized drums. */
  const char *spec2 = spec;
  sg_render_options o;
  sg_render_options_init(&o);
  o.spec_path = spec2;
  o.out_dir = sg_test_path("outR1");
  o.reference = ref;
  o.log = getenv("SG_TEST_VERBOSE") ? NULL : quiet;
  sg_diag_clear(&d);
  sg_status s = sg_render(&o, &res, &d);
  char msg[1200];
  if (s != SG_OK)
    printf("render failed: %s\n", sg_diag_format(&d, msg, sizeof msg));
  assert_int_equal(s, SG_OK);
  /* The grid starts at the reference's first downbeat: 37 ms in. */
  const sg_gate_result *g = find_gate(&res, "reference", "reference_origin");
  assert_non_null(g);
  printf("origin %.2f ms\n", g->measured);
  assert_true(fabs(g->measured - 37.0) < 2.0);
  /* The master is in sync with the reference within stemgate's own 2 ms. */
  int seen = 0;
  for (size_t i = 0; i < res.gates.n; ++i) {
    const sg_gate_result *x = &res.gates.v[i];
    if (!strcmp(x->step, "master") && !strcmp(x->stem, "Master") &&
        !strncmp(x->check, "sync_", 5)) {
      printf("%s %s %.3f %s\n", x->stem, x->check, x->measured, x->unit);
      assert_true(x->pass);
      assert_true(fabs(x->measured) <= 2.0);
      ++seen;
    }
  }
  assert_true(seen >= 2);
  sg_render_result_free(&res);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(good_song_passes_every_gate),
      cmocka_unit_test(renders_are_bit_identical_for_any_thread_count_and_cached),
      cmocka_unit_test(failing_gate_stops_the_run),
      cmocka_unit_test(spec_errors_are_usage_errors),
      cmocka_unit_test(reference_track_locks_the_grid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
