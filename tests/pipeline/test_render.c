/* The whole pipeline on short songs: every gate passes on a good spec, renders are
 * bit-identical, the cache re-renders only what changed, a failing gate stops the run with the
 * step, stem, check, value and limit and leaves no half-written package. */
#include "sg_test.h"

#include "stemgate/compose.h"
#include "stemgate/package.h"
#include "stemgate/pipeline.h"
#include "stemgate/zip.h"

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

/* The delivered MIDI entry `name` of the zip, read with the suite's SMF reader. */
static uint8_t *zip_entry(const char *zip, const char *name, size_t *len) {
  sg_zip_reader *z = NULL;
  assert_int_equal(sg_zip_reader_open(&z, zip, NULL, NULL), SG_OK);
  const sg_zip_entry *e = sg_zip_reader_find(z, name);
  if (!e)
    fail_msg("the package has no %s", name);
  char *buf = NULL;
  assert_int_equal(sg_zip_reader_read_all(z, e, 1u << 24, &buf, len, NULL), SG_OK);
  sg_zip_reader_close(z);
  return (uint8_t *)buf;
}

static const sg_midi_event *midi_find(const sg_midi_event *ev, size_t n, int track, int kind,
                                      int64_t tick, const char *text) {
  for (size_t i = 0; i < n; ++i)
    if (ev[i].track == track && ev[i].kind == kind && ev[i].tick == tick &&
        (!text || !strcmp((const char *)ev[i].data, text)))
      return &ev[i];
  return NULL;
}

/* song.mid of SONG (3 sections of 4 bars, D major -> F major at b, F major again at c; Keys
 * dx7 epiano, Bass moog_bass, Lift prophet pad, Drums): one conductor and every stem a track,
 * named, with its General MIDI program; markers at each section's first bar and a key
 * signature only where the key changes. */
static void check_song_midi(const char *zip) {
  size_t len = 0;
  uint8_t *buf = zip_entry(zip, "midi/test-song_song.mid", &len);
  sg_midi_event *ev = NULL;
  size_t n = 0;
  sg_midi_info info;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_midi_events(buf, len, &ev, &n, &info, &d), SG_OK);
  assert_int_equal(info.format, 1);
  assert_int_equal(info.n_tracks, 4 + 1);
  assert_int_equal(info.lead_ticks, 0); /* no reference: the grid starts at the audio's zero */
  static const char *const names[] = {"Keys", "Bass", "Lift", "Drums"};
  static const int programs[] = {5, 38, 89, -1};
  for (int t = 0; t < 4; ++t) {
    assert_non_null(midi_find(ev, n, t + 1, 0x03, 0, names[t]));
    const sg_midi_event *pc = midi_find(ev, n, t + 1, 0xC0, 0, NULL);
    if (programs[t] < 0)
      assert_null(pc);
    else {
      assert_non_null(pc);
      assert_int_equal(pc->data[0], programs[t]);
    }
  }
  const int64_t bar = 4 * SG_MIDI_PPQ;
  assert_non_null(midi_find(ev, n, 0, 0x06, 0, "a"));
  assert_non_null(midi_find(ev, n, 0, 0x06, 4 * bar, "b"));
  assert_non_null(midi_find(ev, n, 0, 0x06, 8 * bar, "c"));
  const sg_midi_event *k0 = midi_find(ev, n, 0, 0x59, 0, NULL);
  const sg_midi_event *k1 = midi_find(ev, n, 0, 0x59, 4 * bar, NULL);
  assert_non_null(k0);
  assert_non_null(k1);
  assert_int_equal((int8_t)k0->data[0], 2);  /* D major: 2 sharps */
  assert_int_equal((int8_t)k1->data[0], -1); /* F major: 1 flat */
  assert_null(midi_find(ev, n, 0, 0x59, 8 * bar, NULL));
  const sg_midi_event *ts = midi_find(ev, n, 0, 0x58, 0, NULL);
  assert_non_null(ts);
  assert_int_equal(ts->data[0], 4);
  assert_int_equal(ts->data[1], 2);
  const sg_midi_event *tp = midi_find(ev, n, 0, 0x51, 0, NULL);
  assert_non_null(tp);
  uint32_t us = ((uint32_t)tp->data[0] << 16) | ((uint32_t)tp->data[1] << 8) | tp->data[2];
  assert_int_equal(us, 468750); /* 128 BPM */
  free(ev);
  free(buf);
  /* The stems' own files are there too, with the same conductor. */
  buf = zip_entry(zip, "midi/Bass.mid", &len);
  assert_int_equal(sg_midi_events(buf, len, &ev, &n, &info, &d), SG_OK);
  assert_int_equal(info.n_tracks, 2);
  assert_non_null(midi_find(ev, n, 0, 0x06, 4 * bar, "b"));
  assert_int_equal(midi_find(ev, n, 1, 0xC0, 0, NULL)->data[0], 38);
  free(ev);
  free(buf);
}

/* The MIDI of a reference-locked song: the grid starts at the reference's downbeat (origin_ms
 * in), the file at the audio's zero; every Bass note read through the file's tempo map lands
 * within 2 ms of the frame the composer gave it on the locked grid. */
static void check_locked_midi(const char *zip, const char *spec, double origin_ms) {
  sg_song *song = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_song_load(spec, &song, &d), SG_OK);
  sg_timeline tl;
  assert_int_equal(sg_timeline_build(song, &tl, &d), SG_OK);
  const int64_t origin = (int64_t)llround(origin_ms * song->sample_rate / 1000.0);
  sg_timeline_set_origin(&tl, origin);
  int bass = -1;
  for (int i = 0; i < song->n_stems; ++i)
    if (!strcmp(song->stems[i].name.s, "Bass"))
      bass = i;
  assert_true(bass >= 0);
  sg_note_list want, got;
  sg_notes_init(&want);
  sg_notes_init(&got);
  sg_compose_report rep;
  assert_int_equal(sg_compose_stem(song, &tl, bass, &want, &rep, &d), SG_OK);
  size_t len = 0;
  uint8_t *buf = zip_entry(zip, "midi/Bass.mid", &len);
  sg_midi_info info;
  /* FILE_TEMPO: ticks -> seconds through the file's own tempo events, seconds -> frames. */
  assert_int_equal(sg_midi_decode(buf, len, &tl, SG_MIDI_MAP_FILE_TEMPO, &got, &info, &d), SG_OK);
  assert_int_equal(info.lead_ticks > 0,
                   origin > 0); /* a lead-in exactly when the grid starts late */
  assert_int_equal(got.n, want.n);
  double worst = 0;
  for (size_t i = 0; i < want.n; ++i) {
    double e = fabs((double)(got.v[i].start - want.v[i].start)) * 1000.0 / song->sample_rate;
    worst = e > worst ? e : worst;
  }
  printf("locked MIDI: downbeat %.2f ms, %zu notes, worst MIDI-vs-frame %.3f ms\n", origin_ms,
         want.n, worst);
  assert_true(worst <= 2.0);
  /* And song.mid puts them at the same times. */
  free(buf);
  buf = zip_entry(zip, "midi/test-song_song.mid", &len);
  sg_notes_clear(&got);
  assert_int_equal(sg_midi_decode(buf, len, &tl, SG_MIDI_MAP_FILE_TEMPO, &got, &info, &d), SG_OK);
  assert_int_equal(info.lead_ticks > 0, origin > 0);
  free(buf);
  sg_notes_free(&want);
  sg_notes_free(&got);
  sg_song_free(song);
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
  check_song_midi(res.zip_path);
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

/* Makes a client-style reference from a rendered drum stem: pad frames (at 48 kHz) of leading
 * silence, 44.1 kHz, 16-bit. */
static void make_reference_padded(const char *drums_wav, const char *ref_path, int64_t pad) {
  float *x = NULL;
  sg_audio_info info;
  assert_int_equal(sg_audio_read_all(drums_wav, 1 << 24, &x, &info, NULL), SG_OK);
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

static void make_reference(const char *drums_wav, const char *ref_path) {
  make_reference_padded(drums_wav, ref_path, 1776); /* 37 ms at 48 kHz */
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
  check_locked_midi(res.zip_path, spec, g->measured);
  sg_render_result_free(&res);
}

/* tempo: auto (issue 13): a drum reference made at 97.3 BPM (a tight render's drums,
 * 44.1 kHz 16-bit) builds the grid: render measures it in step 2 before the
 * timeline exists, the timing gates run on that grid, the MIDI lines up with the composed frames
 * within 2 ms, and `stemgate timing` prints the measured tempo. The reference starts after
 * 120 ms of silence, and the grid starts on its first downbeat, there (the downbeat used to
 * land a bar or half a bar late on this groove). */
static const char *SONG97 = "title: Test Song\n"
                            "tempo: 97.3\n"
                            "meter: 4/4\n"
                            "key: D major\n"
                            "style: pop\n"
                            "seed: 5\n"
                            "humanize: {timing_ms: 0}\n"
                            "sections:\n"
                            "  - {name: a, bars: 4, chords: \"Dmaj7 | Bm7 | Gmaj7 | A7\"}\n"
                            "  - {name: b, bars: 4, chords: \"Dmaj7 | Bm7 | Gmaj7 | A7\"}\n"
                            "stems:\n"
                            "  - {name: Bass, instrument: moog_bass, gain_db: -2}\n"
                            "  - {name: Keys, instrument: dx7, patch: epiano}\n"
                            "%s"
                            "master: {loudness_lufs: -14, true_peak_dbtp: -1.0}\n";

static void tempo_auto_renders_on_the_measured_tempo(void **st) {
  (void)st;
  char text[4096], spec97[1100], specauto[1100], ref[1100];
  snprintf(spec97, sizeof spec97, "%s", sg_test_path("song97.yaml"));
  snprintf(text, sizeof text, SONG97, "drums: {source: synth, style: pop}\n");
  assert_int_equal(sg_test_write_text(spec97, text), 0);
  sg_render_result res;
  sg_diag d;
  assert_int_equal(render(spec97, sg_test_path("out97"), &res, &d), SG_OK);
  sg_render_result_free(&res);
  char drums[1200];
  snprintf(drums, sizeof drums, "%s/current/test-song_Drums.wav", sg_test_path("out97"));
  snprintf(ref, sizeof ref, "%s", sg_test_path("ref97.wav"));
  make_reference_padded(drums, ref, 5760); /* 120 ms at 48 kHz */
  char drums_line[1400];
  snprintf(drums_line, sizeof drums_line, "drums: {source: reference, reference: \"%s\"}\n", ref);
  snprintf(text, sizeof text, SONG97, drums_line);
  char *t = strstr(text, "tempo: 97.3");
  assert_non_null(t);
  memcpy(t, "tempo: auto", 11);
  snprintf(specauto, sizeof specauto, "%s", sg_test_path("song_auto.yaml"));
  assert_int_equal(sg_test_write_text(specauto, text), 0);
  sg_status s = render(specauto, sg_test_path("outAuto"), &res, &d);
  char msg[1200];
  if (s != SG_OK)
    printf("render failed: %s\n", sg_diag_format(&d, msg, sizeof msg));
  assert_int_equal(s, SG_OK);
  const sg_gate_result *g = find_gate(&res, "reference", "reference_tempo");
  assert_non_null(g);
  printf("tempo: auto measured %.4f BPM\n", g->measured);
  assert_true(fabs(g->measured - 97.3) <= 0.05);
  assert_non_null(find_gate(&res, "song", "grid_error")); /* the timing gates ran on that grid */
  const sg_gate_result *o = find_gate(&res, "reference", "reference_origin");
  assert_non_null(o);
  printf("tempo: auto origin %.2f ms\n", o->measured);
  assert_true(fabs(o->measured - 120.0) <= 2.0); /* the first downbeat, 120 ms in */
  /* The MIDI against the 97.3 BPM grid locked to the reference's downbeat. */
  check_locked_midi(res.zip_path, spec97, o->measured);
  sg_render_result_free(&res);
  /* stemgate timing on the tempo: auto spec measures the reference and prints the tempo. */
  const char *bin = getenv("SG_STEMGATE");
  if (bin) {
    char cmd[3000];
    snprintf(cmd, sizeof cmd, "'%s' timing '%s' 2>&1", bin, specauto);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    static char out[1 << 16];
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    assert_int_equal(pclose(f), 0);
    printf("%s", out);
    const char *m = strstr(out, "measured tempo ");
    assert_non_null(m);
    assert_true(fabs(atof(m + strlen("measured tempo ")) - 97.3) <= 0.05);
    assert_non_null(strstr(out, "grid 97.30 BPM, tempo: auto"));
    assert_non_null(strstr(out, "97.3 BPM (973/10)"));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(good_song_passes_every_gate),
      cmocka_unit_test(renders_are_bit_identical_for_any_thread_count_and_cached),
      cmocka_unit_test(failing_gate_stops_the_run),
      cmocka_unit_test(spec_errors_are_usage_errors),
      cmocka_unit_test(reference_track_locks_the_grid),
      cmocka_unit_test(tempo_auto_renders_on_the_measured_tempo),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
