/* Spec: the bundled example parses to the expected song; exact tempo decimals; defaults; every
 * malformed spec fails with SG_E_SPEC at the exact line:col and says what is wrong; truncated and
 * bit-flipped specs never crash and always fail with a position (run under ASan/UBSan). */
#include "sg_test.h"

#include "stemgate/spec.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A minimal valid spec the malformed cases below start from. */
#define MIN_SPEC                                                                                   \
  "title: T\n"                                                                                     \
  "tempo: 120\n"                                                                                   \
  "sections:\n"                                                                                    \
  "  - name: a\n"                                                                                  \
  "    bars: 4\n"                                                                                  \
  "stems:\n"                                                                                       \
  "  - name: Bass\n"                                                                               \
  "    instrument: moog_bass\n"

static sg_song *parse_ok(const char *yaml) {
  sg_song *s = NULL;
  sg_diag d;
  sg_status st = sg_song_parse(yaml, strlen(yaml), "song.yaml", &s, &d);
  if (st != SG_OK) {
    char buf[700];
    print_error("unexpected failure: %s\n", sg_diag_format(&d, buf, sizeof buf));
  }
  assert_int_equal(st, SG_OK);
  assert_non_null(s);
  return s;
}

/* Parses yaml and checks status, position and a phrase of the message. */
static void expect_fail(const char *yaml, size_t len, int line, int col, const char *phrase) {
  sg_song *s = (sg_song *)1;
  sg_diag d;
  sg_status st = sg_song_parse(yaml, len, "song.yaml", &s, &d);
  char buf[700];
  sg_diag_format(&d, buf, sizeof buf);
  if (st != SG_E_SPEC || d.line != line || d.col != col || !strstr(d.message, phrase))
    print_error("expected song.yaml:%d:%d: ...%s...\n     got %s [%s]\n", line, col, phrase, buf,
                sg_status_name(st));
  assert_int_equal(st, SG_E_SPEC);
  assert_null(s);
  assert_string_equal(d.file, "song.yaml");
  assert_int_equal(d.line, line);
  assert_int_equal(d.col, col);
  assert_non_null(strstr(d.message, phrase));
}

#define EXPECT_FAIL(yaml, line, col, phrase)                                                       \
  expect_fail((yaml), strlen(yaml), (line), (col), (phrase))

/* ---- the bundled example ---------------------------------------------------------------- */

static void example_parses(void **state) {
  (void)state;
  sg_song *s = NULL;
  sg_diag d;
  const char *path = sg_test_source("examples/deja-vu.yaml");
  sg_status st = sg_song_load(path, &s, &d);
  if (st) {
    char buf[700];
    print_error("%s\n", sg_diag_format(&d, buf, sizeof buf));
  }
  assert_int_equal(st, SG_OK);
  assert_string_equal(s->title, "Deja Vu");
  assert_string_equal(s->slug, "deja-vu");
  assert_int_equal(s->tempo.num, 140);
  assert_int_equal(s->tempo.den, 1);
  assert_int_equal(s->tempo_auto, 0);
  assert_int_equal(s->meter_num, 4);
  assert_int_equal(s->meter_den, 4);
  assert_int_equal(s->sample_rate, 48000);
  assert_int_equal(s->format, SG_FMT_FLOAT32);
  assert_int_equal(s->channels, 2);
  assert_string_equal(s->key.s, "G major");
  assert_string_equal(s->style.s, "bossa");

  /* Sections: 80 bars with the bridge as 1:22-1:49 targets. */
  assert_int_equal(s->n_sections, 7);
  int bars = 0;
  for (int i = 0; i < s->n_sections; ++i)
    bars += s->sections[i].bars;
  assert_int_equal(bars, 64); /* the bridge's 16 bars come from its times */
  int br = sg_song_section_index(s, "BRIDGE");
  assert_int_equal(br, 4);
  assert_int_equal(s->sections[br].bars, 0);
  assert_true(fabs(s->sections[br].start_sec - 82.0) < 1e-12);
  assert_true(fabs(s->sections[br].end_sec - 109.0) < 1e-12);
  assert_string_equal(s->sections[br].key.s, "Ab major");
  assert_non_null(strstr(s->sections[br].chords.s, "Abmaj7"));
  assert_true(s->sections[br].chords.pos.line > 0);
  assert_true(s->sections[0].start_sec < 0 && s->sections[0].end_sec < 0);
  assert_string_equal(s->sections[0].energy.s, "sparse");
  assert_string_equal(s->sections[1].energy.s, "normal");
  assert_string_equal(s->sections[2].energy.s, "full");
  assert_string_equal(s->sections[3].name.s, "verse 2");

  /* Stems. */
  assert_int_equal(s->n_stems, 4);
  const sg_stem_spec *g = &s->stems[sg_song_stem_index(s, "guitars")];
  assert_string_equal(g->instrument.s, "guitar");
  assert_string_equal(g->patch.s, "nylon");
  assert_string_equal(g->role.s, "comp");
  assert_string_equal(g->style.s, "bossa"); /* from the song */
  assert_true(fabs(g->pan + 0.25) < 1e-12);
  assert_int_equal(g->n_effects, 4);
  assert_string_equal(g->effects[0].type.s, "eq");
  const sg_param *t = sg_params_find(&g->effects[0].params, "type");
  assert_non_null(t);
  assert_string_equal(t->text, "highpass");
  assert_int_equal(t->is_num, 0);
  double f = 0;
  assert_int_equal(sg_params_num(&g->effects[0].params, "freq", 1000, 10, 20000, &f, s->path, &d),
                   SG_OK);
  assert_true(f == 90.0);

  const sg_stem_spec *br_stem = &s->stems[sg_song_stem_index(s, "Bridge")];
  assert_string_equal(br_stem->instrument.s, "dx7");
  assert_int_equal(br_stem->n_sections, 1);
  for (int i = 0; i < s->n_sections; ++i)
    assert_int_equal(sg_stem_plays_in(s, br_stem, i), i == br);
  assert_int_equal(sg_stem_plays_in(s, g, br), 1);
  assert_int_equal(sg_stem_plays_in(s, g, s->n_sections), 0);
  const sg_param *tm = sg_params_find(&br_stem->effects[1].params, "time");
  assert_string_equal(br_stem->effects[1].type.s, "delay");
  assert_string_equal(tm->text, "1/8.");
  assert_int_equal(tm->is_num, 0);

  const sg_stem_spec *syn = &s->stems[sg_song_stem_index(s, "Synths")];
  const sg_param *cut = sg_params_find(&syn->overrides, "cutoff");
  assert_non_null(cut);
  assert_true(cut->is_num && cut->num == 2400.0);

  /* The bass compressor's sidechain becomes the stem's. */
  const sg_stem_spec *bass = &s->stems[sg_song_stem_index(s, "Bass")];
  assert_string_equal(bass->sidechain, "Drums");
  assert_true(bass->sidechain_pos.line > 100); /* the compressor parameter's position */
  assert_string_equal(s->drums.patch.s, "808");
  assert_string_equal(bass->role.s, "bass");

  assert_int_equal(s->drums.source, SG_DRUMS_SYNTH);
  assert_string_equal(s->drums.style.s, "bossa");
  assert_int_equal(s->drums.n_effects, 2);
  assert_true(s->master.loudness_lufs == -14.0);
  assert_true(s->master.true_peak_dbtp == -1.0);
  assert_int_equal(s->master.n_effects, 2);
  assert_string_equal(s->deliverable.zip, "deja-vu.zip");
  assert_string_equal(s->deliverable.naming, "{song}_{stem}.wav");
  assert_int_equal(s->deliverable.midi, 1);
  assert_true(s->limits.sync_ms == 10.0);
  assert_int_equal(s->seed, 20240917);

  /* Path, folder and the hash of the file's bytes. */
  assert_string_equal(s->path, path);
  char hex[65];
  assert_int_equal(sg_sha256_file(path, hex, NULL), SG_OK);
  assert_string_equal(s->spec_sha256, hex);
  char want_dir[1100], got[1100];
  snprintf(want_dir, sizeof want_dir, "%s", path);
  *strrchr(want_dir, '/') = '\0';
  assert_string_equal(s->dir, want_dir);
  sg_song_resolve_path(s, "drums.wav", got, sizeof got);
  strcat(want_dir, "/drums.wav");
  assert_string_equal(got, want_dir);
  sg_song_resolve_path(s, "/abs/x.wav", got, sizeof got);
  assert_string_equal(got, "/abs/x.wav");
  sg_song_free(s);
}

/* Every bundled example parses; the waltz keeps its fractional tempo exactly. */
static void all_examples_parse(void **state) {
  (void)state;
  const char *dir = sg_test_source("examples");
  DIR *dp = opendir(dir);
  assert_non_null(dp);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(dp)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
      continue;
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    sg_song *s = NULL;
    sg_diag d;
    sg_status st = sg_song_load(path, &s, &d);
    if (st) {
      char buf[700];
      print_error("%s\n", sg_diag_format(&d, buf, sizeof buf));
    }
    assert_int_equal(st, SG_OK);
    if (strcmp(e->d_name, "waltz.yaml") == 0) {
      assert_int_equal(s->tempo.num, 973);
      assert_int_equal(s->tempo.den, 10);
      assert_int_equal(s->meter_num, 3);
      assert_int_equal(s->format, SG_FMT_PCM24);
      assert_int_equal(s->sample_rate, 44100);
      assert_true(s->sections[1].end_sec == 48.0 && s->sections[1].bars == 0);
    }
    sg_song_free(s);
    ++n;
  }
  closedir(dp);
  assert_true(n >= 3);
}

static void load_missing_file_is_io_error(void **state) {
  (void)state;
  sg_song *s = (sg_song *)1;
  sg_diag d;
  assert_int_equal(sg_song_load(sg_test_path("nope.yaml"), &s, &d), SG_E_IO);
  assert_null(s);
  assert_non_null(strstr(d.message, "nope.yaml"));
}

/* ---- values and defaults ---------------------------------------------------------------- */

static void tempo_decimals_are_exact(void **state) {
  (void)state;
  static const struct {
    const char *text;
    int64_t num, den;
  } cases[] = {{"97.3", 973, 10}, {"140", 140, 1},        {"120.125", 120125, 1000},
               {"140.0", 140, 1}, {"\"99.50\"", 995, 10}, {"60.000001", 60000001, 1000000},
               {"+128", 128, 1}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    char y[512];
    snprintf(y, sizeof y,
             "title: T\ntempo: %s\nsections: [{name: a, bars: 1}]\n"
             "drums: {source: synth}\n",
             cases[i].text);
    sg_song *s = parse_ok(y);
    assert_int_equal(s->tempo.num, cases[i].num);
    assert_int_equal(s->tempo.den, cases[i].den);
    assert_int_equal(s->tempo.pos.line, 2);
    assert_int_equal(s->tempo.pos.col, 8);
    sg_song_free(s);
  }
}

static void defaults_follow_the_header(void **state) {
  (void)state;
  sg_song *s = parse_ok(MIN_SPEC);
  assert_int_equal(s->meter_num, 4);
  assert_int_equal(s->meter_den, 4);
  assert_int_equal(s->sample_rate, 48000);
  assert_int_equal(s->format, SG_FMT_FLOAT32);
  assert_int_equal(s->channels, 2);
  assert_true(s->swing == 0.0);
  assert_true(s->humanize_ms == 8.0);
  assert_true(s->humanize_velocity == 0.08);
  assert_int_equal(s->drums.source, SG_DRUMS_NONE);
  assert_int_equal(s->drums.align, 1);
  assert_true(s->drums.tempo_tolerance_bpm == 1.0);
  assert_true(s->master.loudness_lufs == -14.0);
  assert_true(s->master.loudness_tolerance == 0.5);
  assert_true(s->master.true_peak_dbtp == -1.0);
  assert_true(s->master.headroom_db == 6.0);
  assert_string_equal(s->deliverable.zip, "t.zip");
  assert_string_equal(s->deliverable.naming, ""); /* the package default, SG_NAMING_DEFAULT */
  assert_true(s->limits.tail_s == SG_TAIL_S_DEFAULT);
  assert_int_equal(s->deliverable.deflate, 0);
  assert_int_equal(s->deliverable.midi, 1);
  assert_true(s->limits.sync_ms == 10.0);
  assert_true(s->limits.length_tolerance_ms == 50.0);
  assert_true(s->limits.dc_offset == 0.001);
  assert_true(s->limits.silence_dbfs == -60.0);
  assert_true(s->limits.key_window_sec == 10.0);
  assert_int_equal(s->seed, sg_hash64("T"));
  assert_string_equal(s->stems[0].role.s, "bass");
  assert_string_equal(s->stems[0].style.s, s->style.s);
  assert_true(s->stems[0].gain_db == 0.0 && s->stems[0].pan == 0.0);
  assert_int_equal(s->stems[0].n_sections, 0);
  assert_int_equal(s->sections[0].bars, 4);
  assert_true(s->sections[0].start_sec == -1.0 && s->sections[0].end_sec == -1.0);
  assert_string_equal(s->dir, ".");
  char out[64];
  sg_song_resolve_path(s, "x.wav", out, sizeof out);
  assert_string_equal(out, "x.wav");
  sg_song_free(s);
}

static void times_slugs_and_forms(void **state) {
  (void)state;
  sg_song *s = parse_ok("title: \"  Déjà Vu -- (Live!) \"\n"
                        "tempo: 90\n"
                        "meter: 7/8\n"
                        "sample_rate: 44100\n"
                        "format: pcm16\n"
                        "channels: 1\n"
                        "seed: 18446744073709551615\n"
                        "sections:\n"
                        "  - {name: a, end: \"0:10.5\"}\n"
                        "  - {name: b, start: 10.5, end: 21s}\n"
                        "  - {name: c, start: \"1:05\"}\n"
                        "  - {name: d, start: \"1:20\", end: \"1:30\"}\n"
                        "stems:\n"
                        "  - name: Keys\n"
                        "    instrument: soundfont\n"
                        "    soundfont: gm.sf2\n"
                        "    program: 4\n"
                        "    effects:\n"
                        "      - type: reverb\n"
                        "        rt60: 1.5\n"
                        "      - saturation:\n"
                        "deliverable: {deflate: yes, midi: no, naming: \"{index}-{stem}.wav\"}\n");
  assert_string_equal(s->slug, "d-j-vu-live");
  assert_int_equal(s->meter_num, 7);
  assert_int_equal(s->meter_den, 8);
  assert_int_equal(s->sample_rate, 44100);
  assert_int_equal(s->format, SG_FMT_PCM16);
  assert_int_equal(s->channels, 1);
  assert_true(s->seed == UINT64_MAX);
  assert_true(s->sections[0].end_sec == 10.5);
  assert_true(s->sections[1].start_sec == 10.5 && s->sections[1].end_sec == 21.0);
  assert_true(s->sections[2].start_sec == 65.0);
  assert_int_equal(s->sections[2].start_pos.line, 11);
  assert_int_equal(s->sections[2].start_pos.col, 22);
  assert_string_equal(s->stems[0].soundfont, "gm.sf2");
  assert_int_equal(s->stems[0].program, 4);
  assert_int_equal(s->stems[0].n_effects, 2);
  assert_string_equal(s->stems[0].effects[0].type.s, "reverb");
  assert_int_equal(s->stems[0].effects[0].params.n, 1);
  assert_string_equal(s->stems[0].effects[1].type.s, "saturation");
  assert_int_equal(s->stems[0].effects[1].params.n, 0);
  assert_int_equal(s->deliverable.deflate, 1);
  assert_int_equal(s->deliverable.midi, 0);
  sg_song_free(s);
}

static void anchors_and_key_order(void **state) {
  (void)state;
  /* Stems before sections (cross-checks run after the whole file), and a shared effect chain
   * through a YAML anchor/alias. */
  sg_song *s = parse_ok("stems:\n"
                        "  - name: A\n"
                        "    instrument: dx7\n"
                        "    sections: [Bridge]\n"
                        "    effects: &verb\n"
                        "      - reverb: {rt60: 2.5}\n"
                        "  - name: B\n"
                        "    instrument: guitar\n"
                        "    effects: *verb\n"
                        "title: T\n"
                        "tempo: 100\n"
                        "sections: [{name: intro, bars: 2}, {name: bridge, bars: 2}]\n");
  assert_int_equal(s->n_stems, 2);
  assert_int_equal(sg_stem_plays_in(s, &s->stems[0], 1), 1);
  assert_int_equal(sg_stem_plays_in(s, &s->stems[0], 0), 0);
  assert_int_equal(s->stems[1].n_effects, 1);
  const sg_param *p = sg_params_find(&s->stems[1].effects[0].params, "rt60");
  assert_true(p && p->is_num && p->num == 2.5);
  assert_int_equal(p->pos.line, 6); /* an alias points at the anchored definition */
  sg_song_free(s);
  /* A self-referencing alias is refused by the structure checks, not followed forever. */
  EXPECT_FAIL("title: T\ntempo: 120\nsections: &a [*a]\n", 3, 11,
              "section 1 must be a mapping of keys");
}

static void params_num_checks_range_and_type(void **state) {
  (void)state;
  sg_song *s = parse_ok(MIN_SPEC "    effects:\n"
                                 "      - delay: {time: \"1/8.\", mix: 0.5, feedback: 0.3}\n");
  const sg_param_set *ps = &s->stems[0].effects[0].params;
  sg_diag d;
  double v = -1;
  sg_diag_clear(&d);
  assert_int_equal(sg_params_num(ps, "feedback", 0.35, 0, 0.95, &v, s->path, &d), SG_OK);
  assert_true(v == 0.3);
  assert_int_equal(sg_params_num(ps, "lowcut", 100, 10, 5000, &v, s->path, &d), SG_OK);
  assert_true(v == 100.0);
  assert_int_equal(sg_params_num(ps, "mix", 0.25, 0, 0.4, &v, s->path, &d), SG_E_SPEC);
  assert_int_equal(d.line, 10);
  assert_int_equal(d.col, 36);
  assert_non_null(strstr(d.message, "outside the allowed range 0 to 0.4"));
  assert_int_equal(sg_params_num(ps, "time", 250, 0, 4000, &v, s->path, &d), SG_E_SPEC);
  assert_int_equal(d.col, 23);
  assert_non_null(strstr(d.message, "must be a number"));
  assert_null(sg_params_find(ps, "nope"));
  sg_song_free(s);
}

static void edit_distance(void **state) {
  (void)state;
  assert_int_equal(sg_edit_distance("kitten", "sitting"), 3);
  assert_int_equal(sg_edit_distance("tmepo", "tempo"), 2);
  assert_int_equal(sg_edit_distance("", "abc"), 3);
  assert_int_equal(sg_edit_distance("same", "same"), 0);
  assert_int_equal(sg_edit_distance(NULL, "ab"), 2);
  char a[400], b[400];
  memset(a, 'a', 399);
  a[399] = '\0';
  memcpy(b, a, 400);
  b[200] = 'b';
  assert_int_equal(sg_edit_distance(a, b), 1); /* long strings take the heap path */
}

/* ---- malformed specs: status, exact position, message --------------------------------- */

static void malformed_top_level(void **state) {
  (void)state;
  EXPECT_FAIL("title: T\ntmepo: 120\nsections: [{name: a, bars: 1}]\n", 2, 1,
              "unknown key 'tmepo' in song; did you mean 'tempo'? Allowed: title, tempo, meter");
  EXPECT_FAIL("title: T\ntempo: 120\nmeter: 4/5\n"
              "sections: [{name: a, bars: 1}]\n",
              3, 8, "denominator is 5; allowed 1, 2, 4, 8 or 16");
  EXPECT_FAIL("title: T\ntempo: 120\nmeter: x/4\n"
              "sections: [{name: a, bars: 1}]\n",
              3, 8, "'meter' must be N/D");
  EXPECT_FAIL("title: T\ntempo: 120\nmeter: 33/4\n"
              "sections: [{name: a, bars: 1}]\n",
              3, 8, "numerator is 33; allowed 1 to 32");
  EXPECT_FAIL("title: T\ntempo: 0\nsections: [{name: a, bars: 1}]\n", 2, 8,
              "'tempo' is 0 BPM, outside the allowed range 20 to 400 BPM");
  EXPECT_FAIL("title: T\ntempo: -120\nsections: [{name: a, bars: 1}]\n", 2, 8,
              "outside the allowed range 20 to 400 BPM");
  EXPECT_FAIL("title: T\ntempo: fast\nsections: [{name: a, bars: 1}]\n", 2, 8,
              "'tempo' must be a number of BPM (e.g. 140 or 97.3) or 'auto', got 'fast'");
  EXPECT_FAIL("title: T\ntempo: 97.1234567\nsections: [{name: a, bars: 1}]\n", 2, 8,
              "more than 6 decimals");
  EXPECT_FAIL("title: T\ntempo: 1.2e2\nsections: [{name: a, bars: 1}]\n", 2, 8, "plain decimal");
  EXPECT_FAIL("title: T\ntempo: auto\nsections: [{name: a, bars: 1}]\ndrums: {source: synth}\n", 2,
              8, "tempo: auto takes the tempo of a drum reference");
  EXPECT_FAIL("title: T\ntempo: 120\nsample_rate: 44000\nsections: [{name: a, bars: 1}]\n", 3, 14,
              "'sample_rate' 44000 Hz is not supported; allowed 44100, 48000, 88200 or 96000");
  EXPECT_FAIL("title: T\ntempo: 120\nformat: pcm32\nsections: [{name: a, bars: 1}]\n", 3, 9,
              "'format' must be one of float32, pcm24, pcm16, got 'pcm32'");
  EXPECT_FAIL("title: T\ntempo: 120\nchannels: 3\nsections: [{name: a, bars: 1}]\n", 3, 11,
              "'channels' is 3, outside the allowed range 1 to 2");
  EXPECT_FAIL("title: T\ntempo: 120\ntitle: U\nsections: [{name: a, bars: 1}]\n", 3, 1,
              "duplicate key 'title' in song (first given at line 1)");
  EXPECT_FAIL("tempo: 120\nsections: [{name: a, bars: 1}]\n", 1, 1, "missing required key 'title'");
  EXPECT_FAIL("title: \"\"\ntempo: 120\nsections: [{name: a, bars: 1}]\n", 1, 8,
              "'title' must not be empty");
  EXPECT_FAIL("title: T\ntempo: 120\nswing: 0.7\nsections: [{name: a, bars: 1}]\n", 3, 8,
              "'swing' is 0.7, outside the allowed range 0 to 0.5");
  EXPECT_FAIL("title: T\ntempo: 120\nhumanize: {timing_ms: 5, velocty: 0.1}\n"
              "sections: [{name: a, bars: 1}]\n",
              3, 26, "did you mean 'velocity'?");
  EXPECT_FAIL("title: T\ntempo: 120\nseed: -3\nsections: [{name: a, bars: 1}]\n", 3, 7,
              "'seed' must be a whole number");
  EXPECT_FAIL("title: T\ntempo: 120\nsections: [{name: a, bars: 1}]\n", 1, 1, "nothing to render");
  EXPECT_FAIL("- title: T\n", 1, 1, "the song spec must be a mapping of keys (title, tempo");
  EXPECT_FAIL("", 1, 1, "the spec is empty");
  EXPECT_FAIL("# only a comment\n", 1, 1, "the spec is empty");
  EXPECT_FAIL(MIN_SPEC "---\ntitle: U\n", 10, 1, "more than one YAML document");
}

static void malformed_strings_and_kinds(void **state) {
  (void)state;
  char y[1200];
  char longt[301];
  memset(longt, 'x', 300);
  longt[300] = '\0';
  snprintf(y, sizeof y, "tempo: 120\ntitle: %s\nsections: [{name: a, bars: 1}]\n", longt);
  EXPECT_FAIL(y, 2, 8, "'title' is too long (300 bytes; at most 127)");
  EXPECT_FAIL(MIN_SPEC "master: [1, 2]\n", 9, 9,
              "'master' must be a mapping of keys (loudness_lufs, loudness_tolerance, "
              "true_peak_dbtp, headroom_db, effects), got a list");
  EXPECT_FAIL("title: T\ntempo: {bpm: 120}\nsections: [{name: a, bars: 1}]\n", 2, 8,
              "'tempo' must be a number of BPM (e.g. 140 or 97.3) or 'auto', got a mapping");
  EXPECT_FAIL("title: T\ntempo: 120\nsections: {name: a, bars: 1}\n", 3, 11,
              "'sections' must be a list of sections");
  EXPECT_FAIL("title: T\ntempo: 120\nsections: []\n", 3, 11, "'sections' is empty");
  EXPECT_FAIL(MIN_SPEC "deliverable: {naming: \"{song}.wav\"}\n", 9, 23,
              "'naming' must contain {stem}");
  EXPECT_FAIL(MIN_SPEC "deliverable: {naming: \"{song}_{stme}.wav\"}\n", 9, 23,
              "unknown field '{stme}'; did you mean 'stem'?");
  /* Every output path resolves inside -o: checked at load, with the line and column. */
  EXPECT_FAIL(MIN_SPEC "deliverable: {zip: ../x.zip}\n", 9, 20,
              "'deliverable.zip' must be a relative file name inside the output folder (-o), "
              "got '../x.zip' with a '..' component");
  EXPECT_FAIL(MIN_SPEC "deliverable: {zip: pkg/../../escape.zip}\n", 9, 20, "a '..' component");
  EXPECT_FAIL(MIN_SPEC "deliverable: {zip: /tmp/x.zip}\n", 9, 20,
              "got '/tmp/x.zip' with an absolute path");
  EXPECT_FAIL(MIN_SPEC "deliverable: {zip: \"a\\\\b.zip\"}\n", 9, 20, "with a '\\'");
  EXPECT_FAIL(MIN_SPEC "deliverable: {zip: \"pkg//x.zip\"}\n", 9, 20, "an empty or '.' component");
  EXPECT_FAIL(MIN_SPEC "deliverable: {naming: \"./{stem}.wav\"}\n", 9, 23,
              "'deliverable.naming' must be a relative file name inside the output folder");
  EXPECT_FAIL(MIN_SPEC "deliverable: {deflate: maybe}\n", 9, 24,
              "'deflate' must be true or false (or yes/no), got 'maybe'");
  EXPECT_FAIL(MIN_SPEC "gates: {silence_dbfs: -10}\n", 9, 23,
              "'silence_dbfs' is -10 dBFS, outside the allowed range -144 to -20 dBFS");
  EXPECT_FAIL(MIN_SPEC "master: {loudness_lufs: loud}\n", 9, 25,
              "'loudness_lufs' must be a number from -40 to -5 LUFS, got 'loud'");
  /* A NUL byte inside a double-quoted escape, and a raw NUL byte in the input. */
  EXPECT_FAIL("title: \"a\\0b\"\ntempo: 120\nsections: [{name: a, bars: 1}]\n", 1, 8,
              "contains a NUL character");
  static const char raw[] = "title: T\ntempo: 12\0\nsections: [{name: a, bars: 1}]\n";
  expect_fail(raw, sizeof raw - 1, 2, 10, "YAML syntax error: control characters are not allowed");
  EXPECT_FAIL("title: T\ntempo: 120\xff\n", 2, 11, "the spec must be UTF-8");
}

static void malformed_yaml_syntax(void **state) {
  (void)state;
  /* Positions are libyaml's problem marks (converted to 1-based). */
  EXPECT_FAIL("title: \"Deja Vu\ntempo: 120\n", 3, 1,
              "YAML syntax error: found unexpected end of stream while scanning a quoted scalar "
              "(started at line 1, column 8)");
  EXPECT_FAIL("title: T\ntempo: 120\nsections:\n  - name: a\n     bars: 4\n", 5, 10,
              "YAML syntax error: mapping values are not allowed in this context");
  EXPECT_FAIL("title: T\n  tempo: 120\n", 2, 8, "YAML syntax error");
  EXPECT_FAIL("title: [T\ntempo: 120\n", 2, 6,
              "YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence "
              "(started at line 1, column 8)");
  EXPECT_FAIL("title: *nope\n", 1, 8, "YAML syntax error: found undefined alias");
}

static void malformed_sections(void **state) {
  (void)state;
  /* Key names are parsed at load (theory's parser), not first at compose. */
  EXPECT_FAIL("title: T\ntempo: 120\nkey: H minor\nsections: [{name: a, bars: 1}]\ndrums: {source: "
              "synth}\n",
              3, 6, "song: key 'H minor': expected a note name");
  EXPECT_FAIL("title: T\ntempo: 120\nsections:\n  - {name: a, bars: 1, key: Xb major}\ndrums: "
              "{source: synth}\n",
              4, 29, "section 'a': key 'Xb major'");
  EXPECT_FAIL("title: T\ntempo: 120\nsections:\n  - name: a\n    key: G\n"
              "drums: {source: synth}\n",
              4, 5, "section 'a' has no length: give it 'bars', or an 'end' time");
  EXPECT_FAIL("title: T\ntempo: 120\nsections:\n  - name: a\n    bars: 0\n", 5, 11,
              "'bars' is 0, outside the allowed range 1 to 4096");
  EXPECT_FAIL("title: T\ntempo: 120\nsections:\n  - name: a\n    bars: 2.5\n", 5, 11,
              "'bars' must be a whole number from 1 to 4096, got '2.5'");
  EXPECT_FAIL("title: T\ntempo: 120\nsections:\n  - name: a\n    end: \"1:75\"\n", 5, 10,
              "'end' is not a valid time: seconds after ':' must be 00 to 59, got '1:75'");
  EXPECT_FAIL("title: T\ntempo: 120\nsections:\n  - name: a\n    start: 1:2\n    bars: 1\n", 5, 12,
              "seconds after ':' need two digits");
  EXPECT_FAIL("title: T\ntempo: 120\nsections:\n  - name: a\n    end: soon\n", 5, 10,
              "expected m:ss, m:ss.sss or seconds");
  EXPECT_FAIL("title: T\ntempo: 120\nsections:\n  - {name: a, start: 20, end: 10}\n", 4, 31,
              "section 'a' ends (10.000 s) before it starts (20.000 s)");
  EXPECT_FAIL("title: T\ntempo: 120\nsections:\n  - {name: a, end: 20}\n"
              "  - {name: b, start: 10, bars: 2}\n",
              5, 22, "section 'b' starts at 10.000 s, before section 'a' ends (20.000 s)");
  EXPECT_FAIL("title: T\ntempo: 120\nsections:\n  - {name: Verse, bars: 4}\n"
              "  - {name: verse, bars: 4}\n",
              5, 12, "duplicate section name 'verse' (first at line 4)");
  EXPECT_FAIL("title: T\ntempo: 120\nsections:\n  - {bars: 4}\n", 4, 5, "section 1 has no 'name'");
  EXPECT_FAIL("title: T\ntempo: 120\nsections:\n  - {name: a, bars: 4, energy: loud}\n", 4, 32,
              "'energy' must be one of sparse, normal, full, got 'loud'");
  EXPECT_FAIL("title: T\ntempo: 120\nsections:\n  - {name: a, bars: 4, chords: C, "
              "progression: I-V}\n",
              4, 48, "gives both 'chords' and 'progression'");
  EXPECT_FAIL("title: T\ntempo: 120\nsections:\n  - {name: a, bars: 4, chrods: C}\n", 4, 24,
              "unknown key 'chrods' in section 'a'; did you mean 'chords'?");
  EXPECT_FAIL("title: T\ntempo: 120\nsections:\n  - [a, 4]\n", 4, 5,
              "section 1 must be a mapping of keys (name, bars");
  /* 129 sections. */
  static char big[129 * 32 + 128];
  size_t n = (size_t)snprintf(big, sizeof big, "title: T\ntempo: 120\nsections:\n");
  for (int i = 0; i < 129; ++i)
    n += (size_t)snprintf(big + n, sizeof big - n, "  - {name: s%d, bars: 1}\n", i);
  EXPECT_FAIL(big, 3 + 129, 5, "too many sections (at most 128)");
}

static void malformed_stems(void **state) {
  (void)state;
  EXPECT_FAIL(MIN_SPEC "    instrumnet: dx7\n", 9, 5,
              "unknown key 'instrumnet' in stem 'Bass'; did you mean 'instrument'?");
  EXPECT_FAIL(MIN_SPEC "  - name: bass\n    instrument: dx7\n", 9, 11,
              "duplicate stem name 'bass' (first at line 7)");
  EXPECT_FAIL(MIN_SPEC "    sections: [brige]\n", 9, 16,
              "stem 'Bass' plays in unknown section 'brige'. Sections: a");
  EXPECT_FAIL("title: T\ntempo: 120\nsections:\n  - {name: bridge, bars: 4}\n"
              "stems:\n  - {name: K, instrument: dx7, sections: [brige]}\n",
              6, 43, "stem 'K' plays in unknown section 'brige'; did you mean 'bridge'?");
  EXPECT_FAIL(MIN_SPEC "    sections: []\n", 9, 15, "'sections' of a stem is empty");
  EXPECT_FAIL(MIN_SPEC "    sections: [a, A]\n", 9, 19, "section 'A' is listed twice");
  EXPECT_FAIL(MIN_SPEC "    sidechain: Kick\n", 9, 16,
              "stem 'Bass' sidechains from unknown stem 'Kick'. Allowed: (no other stems)");
  EXPECT_FAIL(MIN_SPEC "    sidechain: Drums\n", 9, 16,
              "sidechains from Drums, but the song has no drums");
  EXPECT_FAIL(MIN_SPEC "    sidechain: Bass\n", 9, 16, "cannot sidechain from itself");
  EXPECT_FAIL(MIN_SPEC "    effects: [{compressor: {sidechain: Drumz}}]\n"
                       "drums: {source: synth}\n",
              9, 40, "sidechains from unknown stem 'Drumz'; did you mean 'Drums'?");
  EXPECT_FAIL(MIN_SPEC "    sidechain: Keys\n    effects: [{compressor: {sidechain: Drums}}]\n"
                       "  - {name: Keys, instrument: dx7}\ndrums: {source: synth}\n",
              10, 40, "has sidechain 'Keys' but its compressor names 'Drums'");
  EXPECT_FAIL(MIN_SPEC "    gain_db: 40\n", 9, 14,
              "'gain_db' is 40 dB, outside the allowed range -60 to 24 dB");
  EXPECT_FAIL(MIN_SPEC "    pan: 2\n", 9, 10, "'pan' is 2, outside the allowed range -1 to 1");
  EXPECT_FAIL(MIN_SPEC "    octave: 1.5\n", 9, 13, "'octave' must be a whole number");
  EXPECT_FAIL(MIN_SPEC "    program: 128\n", 9, 14, "outside the allowed range 0 to 127");
  EXPECT_FAIL(MIN_SPEC "    effects: {type: reverb}\n", 9, 14,
              "'effects' of stem 'Bass' must be a list of effects");
  EXPECT_FAIL(MIN_SPEC "    effects:\n      - rt60: 2\n        mix: 0.3\n", 10, 9,
              "effect 1 of stem 'Bass' has no 'type'");
  EXPECT_FAIL(MIN_SPEC "    effects:\n      - reverb\n", 10, 9,
              "effect 1 of stem 'Bass' must be a mapping with 'type'");
  EXPECT_FAIL(MIN_SPEC "    effects:\n      - {type: Reverb!}\n", 10, 16,
              "effect type 'Reverb!' may only use a-z");
  EXPECT_FAIL(MIN_SPEC "    effects:\n      - {type: reverb, mix: [1]}\n", 10, 29,
              "parameter 'mix' in effect 'reverb' of stem 'Bass' must be a single value");
  EXPECT_FAIL(MIN_SPEC "    effects:\n      - {type: reverb, mix: 0.1, mix: 0.2}\n", 10, 34,
              "duplicate parameter 'mix' in effect 'reverb'");
  EXPECT_FAIL(MIN_SPEC "    params: [cutoff]\n", 9, 13,
              "'params' of stem 'Bass' must be a mapping of patch parameters");
  EXPECT_FAIL(MIN_SPEC "    role: bas\n", 9, 11,
              "'role' must be one of comp, pad, arp, lead, bass, drums, got 'bas'; did you mean "
              "'bass'?");
  EXPECT_FAIL("title: T\ntempo: 120\nsections: [{name: a, bars: 1}]\nstems:\n"
              "  - name: Keys\n    instrument: piano\n",
              6, 17,
              "'instrument' must be one of moog_bass, prophet_poly, dx7, guitar, drums, "
              "soundfont, got 'piano'");
  EXPECT_FAIL("title: T\ntempo: 120\nsections: [{name: a, bars: 1}]\nstems:\n"
              "  - name: Keys\n",
              5, 5, "stem 'Keys' has no 'instrument'");
  EXPECT_FAIL("title: T\ntempo: 120\nsections: [{name: a, bars: 1}]\nstems:\n"
              "  - {name: Keys, instrument: soundfont}\n",
              5, 30, "uses instrument soundfont but gives no 'soundfont' file");
  EXPECT_FAIL(MIN_SPEC "drums: {source: synth}\n  - {name: Drums, instrument: drums}\n", 10, 3,
              "YAML syntax error");
  EXPECT_FAIL("title: T\ntempo: 120\nsections: [{name: a, bars: 1}]\ndrums: {}\nstems:\n"
              "  - {name: drums, instrument: drums}\n",
              6, 12, "stem name 'drums' is taken by the drums block");
  EXPECT_FAIL(MIN_SPEC "  - {name: Gtr/1, instrument: guitar}\n", 9, 12,
              "stem name 'Gtr/1' may not contain '/'");
  /* 33 stems. */
  static char big[33 * 48 + 128];
  size_t n = (size_t)snprintf(big, sizeof big,
                              "title: T\ntempo: 120\nsections: [{name: a, "
                              "bars: 1}]\nstems:\n");
  for (int i = 0; i < 33; ++i)
    n += (size_t)snprintf(big + n, sizeof big - n, "  - {name: s%d, instrument: dx7}\n", i);
  EXPECT_FAIL(big, 4 + 33, 5, "too many stems (at most 32)");
  /* 25 parameters. */
  n = (size_t)snprintf(big, sizeof big, MIN_SPEC "    params:\n");
  for (int i = 0; i < 25; ++i)
    n += (size_t)snprintf(big + n, sizeof big - n, "      p%d: %d\n", i, i);
  EXPECT_FAIL(big, 9 + 25, 7, "too many parameters in params of stem 'Bass' (at most 24)");
}

static void malformed_drums(void **state) {
  (void)state;
  EXPECT_FAIL(MIN_SPEC "drums:\n  source: reference\n", 10, 11,
              "drums source is reference but no 'reference' file is given");
  EXPECT_FAIL(MIN_SPEC "drums:\n  source: synth\n  reference: loop.wav\n", 11, 14,
              "drums give a 'reference' file but source is synth");
  EXPECT_FAIL(MIN_SPEC "drums:\n  source: sampled\n", 10, 11,
              "'source' must be one of none, synth, reference, got 'sampled'");
  EXPECT_FAIL(MIN_SPEC "drums:\n  fit: stretch\n", 10, 8, "'fit' must be one of fade, loop");
  EXPECT_FAIL(MIN_SPEC "drums:\n  align: 1\n", 10, 10, "'align' must be true or false");
  EXPECT_FAIL(MIN_SPEC "drums:\n  tempo_tolerance: 2\n", 10, 3,
              "did you mean 'tempo_tolerance_bpm'?");
  sg_song *s = parse_ok("title: T\ntempo: auto\nsections: [{name: a, bars: 4}]\n"
                        "drums: {source: reference, reference: loops/d.wav, fit: loop, "
                        "align: no, follow_tempo_map: yes}\n");
  assert_int_equal(s->tempo_auto, 1);
  assert_int_equal(s->drums.source, SG_DRUMS_REFERENCE);
  assert_string_equal(s->drums.reference, "loops/d.wav");
  assert_int_equal(s->drums.reference_pos.line, 4);
  assert_int_equal(s->drums.fit, SG_FIT_LOOP);
  assert_int_equal(s->drums.align, 0);
  assert_int_equal(s->drums.follow_tempo_map, 1);
  assert_string_equal(s->drums.patch.s, "");
  sg_song_free(s);
}

/* ending, ending_max_s, ending_fade_bars; sections / tacet on stems and the drums block. */
static void endings_and_tacet(void **state) {
  (void)state;
  EXPECT_FAIL(MIN_SPEC "ending: loud\n", 9, 9, "'ending' must be one of ring, fade, cut");
  EXPECT_FAIL(MIN_SPEC "ending_max_s: 0.1\n", 9, 15, "ending_max_s");
  EXPECT_FAIL(MIN_SPEC "ending_fade_bars: 0\n", 9, 19, "ending_fade_bars");
  EXPECT_FAIL(MIN_SPEC "drums:\n  tacet: [b]\n", 10, 11,
              "drums 'Drums' sits out unknown section 'b'");
  EXPECT_FAIL(MIN_SPEC "drums:\n  tacet: [a]\n", 10, 11, "sits out every section");
  EXPECT_FAIL(MIN_SPEC "    sections: [a]\n    tacet: [a]\n", 9, 15,
              "gives both 'sections' and 'tacet'");
  EXPECT_FAIL(MIN_SPEC "    tacet: [x]\n", 9, 13, "stem 'Bass' sits out unknown section 'x'");
  sg_song *s = parse_ok("title: T\ntempo: 120\nending: fade\nending_fade_bars: 3\n"
                        "sections: [{name: a, bars: 4}, {name: b, bars: 4}]\n"
                        "stems: [{name: K, instrument: dx7, tacet: [b]}]\n"
                        "drums: {source: synth, tacet: [a]}\n");
  assert_int_equal(s->ending, SG_ENDING_FADE);
  assert_int_equal(s->ending_fade_bars, 3);
  assert_int_equal(sg_drums_play_in(s, 0), 0);
  assert_int_equal(sg_drums_play_in(s, 1), 1);
  assert_int_equal(sg_stem_plays_in(s, &s->stems[0], 0), 1);
  assert_int_equal(sg_stem_plays_in(s, &s->stems[0], 1), 0);
  sg_song_free(s);
  s = parse_ok(MIN_SPEC);
  assert_int_equal(s->ending, SG_ENDING_RING); /* the default */
  assert_true(s->ending_max_s == SG_ENDING_MAX_S_DEFAULT);
  assert_int_equal(sg_drums_play_in(s, 0), 1);
  sg_song_free(s);
}

/* ---- robustness -------------------------------------------------------------------------- */

static char *read_example(size_t *len) {
  FILE *f = fopen(sg_test_source("examples/deja-vu.yaml"), "rb");
  assert_non_null(f);
  static char buf[65536];
  *len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  assert_true(*len > 1000 && *len < sizeof buf);
  return buf;
}

/* OK, or an error that says where: never a crash, never a position-less spec error. */
static void check_robust(const char *text, size_t len) {
  sg_song *s = NULL;
  sg_diag d;
  sg_status st = sg_song_parse(text, len, "fuzz.yaml", &s, &d);
  if (st == SG_OK) {
    assert_non_null(s);
    assert_true(s->n_sections >= 1 && s->n_sections <= SG_MAX_SECTIONS);
    assert_true(s->n_stems <= SG_MAX_STEMS);
    sg_song_free(s);
    return;
  }
  assert_null(s);
  assert_int_equal(st, SG_E_SPEC);
  assert_true(d.line >= 1 && d.col >= 1);
  assert_true(strlen(d.message) > 10);
}

/* Bounded input cost: a spec at the 4 MiB size limit nested as deep as it can be (the composer
 * of libyaml is quadratic in depth: hours) or holding two million values is refused by the
 * first pass at the line and column where the limit was crossed. The root mapping is level 1,
 * so the 64th '[' (column 11 + 63) is level 65; the root, its 5 keys and values before the list
 * and the list are 7 nodes, so the 199994th number (column 12 + 2 * 199993) is node 200001. */
static void deep_or_huge_specs_refused_while_parsing(void **state) {
  (void)state;
  const size_t n = (4u << 20) - 64;
  char *y = malloc(n + 1);
  assert_non_null(y);
  const char *head = "title: x\ntempo: 120\nsections: ";
  size_t h = strlen(head);
  memcpy(y, head, h);
  memset(y + h, '[', n - h);
  expect_fail(y, n, 3, 74, "nests more than 64 levels");
  for (size_t i = h; i + 4 <= n; i += 4) /* flow mappings "{a: {a: ...": one level each */
    memcpy(y + i, "{a: ", 4);
  expect_fail(y, n - (n - h) % 4, 3, 11 + 63 * 4, "nests more than 64 levels");
  y[h] = '[';
  for (size_t i = h + 1; i + 2 <= n; i += 2)
    memcpy(y + i, "1,", 2);
  expect_fail(y, n - (n - h - 1) % 2, 3, 12 + 2 * 199993, "more than 200000 values");
  free(y);
}

static void truncated_prefixes_never_crash(void **state) {
  (void)state;
  size_t len;
  const char *text = read_example(&len);
  int ok = 0, failed = 0;
  for (size_t n = 0; n < len; n += 37) {
    /* A heap copy of exactly n bytes so ASan sees any read past the end. */
    char *copy = malloc(n ? n : 1);
    memcpy(copy, text, n);
    sg_song *s = NULL;
    sg_diag d;
    if (sg_song_parse(copy, n, "fuzz.yaml", &s, &d) == SG_OK)
      ++ok;
    else
      ++failed;
    sg_song_free(s);
    check_robust(copy, n);
    free(copy);
  }
  /* Most prefixes end before the stems or mid-value; some must fail. */
  assert_true(failed > 0);
  check_robust(text, len);
  (void)ok;
}

static void byte_flips_never_crash(void **state) {
  (void)state;
  size_t len;
  const char *text = read_example(&len);
  const uint64_t seed = 0x5eed5bec;
  printf("byte_flips_never_crash: seed %llu\n", (unsigned long long)seed);
  sg_rng r;
  sg_rng_seed(&r, seed, 7);
  char *copy = malloc(len);
  static const char interesting[] = ":-[]{}\"'#&*!|>%@`\n\t 0/.\\";
  for (int iter = 0; iter < 400; ++iter) {
    memcpy(copy, text, len);
    int flips = 1 + (int)(sg_rng_u32(&r) % 4);
    for (int k = 0; k < flips; ++k) {
      size_t at = sg_rng_u32(&r) % len;
      uint32_t how = sg_rng_u32(&r);
      if (how & 1)
        copy[at] = interesting[(how >> 1) % (sizeof interesting - 1)];
      else
        copy[at] = (char)(copy[at] ^ (1u << ((how >> 1) % 8)));
    }
    check_robust(copy, len);
  }
  free(copy);
}

/* A freed song's block is handed to the next parse (spec_parse.c: song_alloc, song_release).
 * A parse into a block a larger song, or a failed parse, used before must give the same bytes as
 * one into a fresh calloc'd block: nothing of the earlier song may survive past the counts. */
static void reused_song_block_is_clean(void **state) {
  (void)state;
  const char *failing = MIN_SPEC "  - name: Keys\n"
                                 "    instrument: dx7\n"
                                 "    patch: epiano\n"
                                 "    pattern: \"x.x. ..x. x... ..x.\"\n"
                                 "    effects:\n"
                                 "      - eq: {type: highpass, freq: 100}\n"
                                 "      - reverb: {rt60: 1.5, mix: 0.2}\n"
                                 "  - name: Pad\n"
                                 "    instrument: dx7\n"
                                 "    effects: [{eq: {type: highpass, freq: 100}}]\n"
                                 "    gain_db: loud\n";
  for (int round = 0; round < 2; ++round) {
    sg_song *big = NULL;
    sg_diag d;
    if (round == 0) { /* the largest bundled song, then freed: its block is kept */
      assert_int_equal(sg_song_load(sg_test_source("examples/deja-vu.yaml"), &big, &d), SG_OK);
      assert_true(big->n_stems > 1 && big->n_sections > 1);
      sg_song_free(big);
    } else { /* a parse that fails in its third stem, after filling most of it */
      assert_int_equal(sg_song_parse(failing, strlen(failing), "song.yaml", &big, &d), SG_E_SPEC);
      assert_null(big);
    }
    sg_song *a = parse_ok(MIN_SPEC); /* the kept block */
    sg_song *b = parse_ok(MIN_SPEC); /* the slot is empty now: a fresh block */
    assert_ptr_not_equal(a, b);
    assert_int_equal(a->n_stems, 1);
    assert_memory_equal(a, b, sizeof *a);
    sg_song_free(b);
    sg_song_free(a);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(example_parses),
      cmocka_unit_test(all_examples_parse),
      cmocka_unit_test(load_missing_file_is_io_error),
      cmocka_unit_test(tempo_decimals_are_exact),
      cmocka_unit_test(defaults_follow_the_header),
      cmocka_unit_test(times_slugs_and_forms),
      cmocka_unit_test(anchors_and_key_order),
      cmocka_unit_test(params_num_checks_range_and_type),
      cmocka_unit_test(edit_distance),
      cmocka_unit_test(malformed_top_level),
      cmocka_unit_test(malformed_strings_and_kinds),
      cmocka_unit_test(malformed_yaml_syntax),
      cmocka_unit_test(malformed_sections),
      cmocka_unit_test(malformed_stems),
      cmocka_unit_test(malformed_drums),
      cmocka_unit_test(endings_and_tacet),
      cmocka_unit_test(deep_or_huge_specs_refused_while_parsing),
      cmocka_unit_test(truncated_prefixes_never_crash),
      cmocka_unit_test(byte_flips_never_crash),
      cmocka_unit_test(reused_song_block_is_clean),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
