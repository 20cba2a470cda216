/* Standard MIDI Files: round trip through the grid (every note back within half a tick), file
 * tempo mapping, format 0 with running status, a stem driven by a MIDI file, and hostile input
 * (every truncation, random bit flips, bad headers) that must fail cleanly. */
#include "compose_fixture.h"

#include <math.h>

/* Matches every note of a in b: same key, start and end within tol frames; velocity within
 * half a MIDI step. */
static void assert_notes_match(const sg_note_list *a, const sg_note_list *b, int64_t tol) {
  assert_int_equal(a->n, b->n);
  char *used = calloc(b->n ? b->n : 1, 1);
  for (size_t i = 0; i < a->n; ++i) {
    const sg_note *x = &a->v[i];
    int found = 0;
    for (size_t j = 0; j < b->n && !found; ++j) {
      const sg_note *y = &b->v[j];
      if (used[j] || y->key != x->key)
        continue;
      int64_t ds = y->start - x->start, de = (y->start + y->length) - (x->start + x->length);
      if (llabs(ds) <= tol && llabs(de) <= tol) {
        assert_true(fabs(y->velocity - x->velocity) <= 0.5 / 127 + 1e-6);
        used[j] = 1;
        found = 1;
      }
    }
    if (!found)
      fail_msg("note %zu (key %d at %lld, %lld long) did not survive the round trip", i, x->key,
               (long long)x->start, (long long)x->length);
  }
  free(used);
}

static void round_trip_through_the_grid(void **state) {
  (void)state;
  static const char *const meters[] = {"4/4", "6/8"};
  for (int m = 0; m < 2; ++m) {
    fixture f;
    fixture_load(&f, meters[m], "bossa");
    /* Half a tick in frames, plus one for the two roundings. */
    int64_t tol = (int64_t)ceil(sg_timeline_frames_per_quarter(&f.tl) / SG_MIDI_PPQ / 2) + 1;
    for (int i = -1; i < f.song->n_stems; ++i) {
      sg_note_list l, back;
      sg_notes_init(&l);
      sg_notes_init(&back);
      sg_compose_report rep;
      compose_or_fail(&f, i, &l, &rep);
      sg_key key;
      sg_progression prog;
      assert_int_equal(sg_section_harmony(f.song, 0, &key, &prog, NULL), SG_OK);
      uint8_t *buf;
      size_t len;
      sg_diag d;
      sg_diag_clear(&d);
      assert_int_equal(
          sg_midi_encode(&l, &f.tl, f.song->title, "stem", i < 0 ? 9 : 0, &key, &buf, &len, &d),
          SG_OK);
      assert_memory_equal(buf, "MThd", 4);
      sg_midi_info info;
      assert_int_equal(sg_midi_decode(buf, len, &f.tl, SG_MIDI_MAP_GRID, &back, &info, &d), SG_OK);
      assert_int_equal(info.format, 1);
      assert_int_equal(info.n_tracks, 2);
      assert_int_equal(info.division, SG_MIDI_PPQ);
      assert_float_equal(info.first_bpm, 120.0, 1e-9);
      assert_int_equal(info.meter_num, m == 0 ? 4 : 6);
      assert_int_equal(info.meter_den, m == 0 ? 4 : 8);
      assert_string_equal(info.track_name, "Fixture");
      assert_notes_match(&l, &back, tol);
      /* At the song's tempo the file's own tempo map gives the same frames. */
      sg_notes_clear(&back);
      assert_int_equal(sg_midi_decode(buf, len, &f.tl, SG_MIDI_MAP_FILE_TEMPO, &back, NULL, &d),
                       SG_OK);
      assert_notes_match(&l, &back, tol);
      free(buf);
      sg_notes_free(&l);
      sg_notes_free(&back);
    }
    fixture_free(&f);
  }
}

/* A hand-made format-0 file: running status, note-on velocity 0 as note-off, a tempo change. */
static const uint8_t FORMAT0[] = {
    'M',  'T',  'h',  'd',  0, 0, 0,  6,    0,    0,    0,    1,    0,    96,   'M',
    'T',  'r',  'k',  0,    0, 0, 28, 0x00, 0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40, /* 60 BPM */
    0x00, 0x90, 60,   100,                                                      /* C4 on at 0 */
    0x00, 64,   90,       /* E4 on (running status) */
    0x60, 60,   0,        /* C4 off at 96 (vel 0) */
    0x00, 64,   0,        /* E4 off */
    0x30, 0x80, 67,   64, /* G4 off without an on: ignored */
    0x00, 0xFF, 0x2F, 0x00,
};

static void format0_running_status_and_tempo(void **state) {
  (void)state;
  fixture f;
  fixture_load(&f, "4/4", "pop");
  sg_note_list l;
  sg_notes_init(&l);
  sg_midi_info info;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_midi_decode(FORMAT0, sizeof FORMAT0, &f.tl, SG_MIDI_MAP_GRID, &l, &info, &d),
                   SG_OK);
  assert_int_equal(info.format, 0);
  assert_int_equal(info.division, 96);
  assert_float_equal(info.first_bpm, 60.0, 1e-9);
  assert_int_equal(l.n, 2);
  assert_int_equal(l.v[0].key, 60);
  assert_int_equal(l.v[1].key, 64);
  /* Grid mapping: 96 ticks = one quarter of the song (120 BPM at 48 kHz = 24000 frames). */
  assert_int_equal(l.v[0].start, 0);
  assert_int_equal(l.v[0].length, 24000);
  assert_float_equal(l.v[0].velocity, 100.0 / 127.0, 1e-6);
  /* File tempo mapping: at 60 BPM the quarter lasts one second. */
  sg_notes_clear(&l);
  assert_int_equal(
      sg_midi_decode(FORMAT0, sizeof FORMAT0, &f.tl, SG_MIDI_MAP_FILE_TEMPO, &l, NULL, &d), SG_OK);
  assert_int_equal(l.v[0].length, 48000);
  sg_notes_free(&l);
  fixture_free(&f);
}

static void hostile_files_fail_cleanly(void **state) {
  (void)state;
  fixture f;
  fixture_load(&f, "4/4", "pop");
  sg_note_list l;
  sg_notes_init(&l);
  sg_diag d;
  /* Every truncation of a real file: an error or a clean parse, never a crash (ASan run). */
  sg_note_list src;
  sg_notes_init(&src);
  sg_compose_report rep;
  compose_or_fail(&f, 1, &src, &rep);
  uint8_t *buf;
  size_t len;
  assert_int_equal(sg_midi_encode(&src, &f.tl, "t", "bass", 0, NULL, &buf, &len, NULL), SG_OK);
  int failures = 0;
  for (size_t n = 0; n < len; ++n) {
    sg_notes_clear(&l);
    sg_diag_clear(&d);
    uint8_t *cut = malloc(n ? n : 1); /* exact size so ASan sees any over-read */
    memcpy(cut, buf, n);
    sg_status st = sg_midi_decode(cut, n, &f.tl, SG_MIDI_MAP_GRID, &l, NULL, &d);
    if (st != SG_OK) {
      ++failures;
      assert_true(st == SG_E_FORMAT);
      assert_true(strlen(d.message) > 10);
    }
    free(cut);
  }
  assert_true(failures > (int)len / 2);
  /* Random bit flips. */
  uint64_t seed = 0x5eed5eedULL;
  print_message("bit-flip seed %llu\n", (unsigned long long)seed);
  sg_rng r;
  sg_rng_seed(&r, seed, 3);
  uint8_t *mut = malloc(len);
  for (int it = 0; it < 400; ++it) {
    memcpy(mut, buf, len);
    int flips = 1 + (int)(sg_rng_u32(&r) % 4);
    for (int k = 0; k < flips; ++k)
      mut[sg_rng_u32(&r) % len] ^= (uint8_t)(1u << (sg_rng_u32(&r) % 8));
    sg_notes_clear(&l);
    sg_status st = sg_midi_decode(mut, len, &f.tl, SG_MIDI_MAP_FILE_TEMPO, &l, NULL, &d);
    assert_true(st == SG_OK || st == SG_E_FORMAT || st == SG_E_UNSUPPORTED || st == SG_E_LIMIT);
    for (size_t k = 0; k < l.n; ++k)
      assert_true(l.v[k].key >= 0 && l.v[k].key <= 127 && l.v[k].length >= 1);
  }
  free(mut);
  free(buf);
  /* Specific bad headers. */
  uint8_t h[sizeof FORMAT0];
  memcpy(h, FORMAT0, sizeof h);
  h[0] = 'X';
  assert_int_equal(sg_midi_decode(h, sizeof h, &f.tl, SG_MIDI_MAP_GRID, &l, NULL, &d), SG_E_FORMAT);
  memcpy(h, FORMAT0, sizeof h);
  h[9] = 2; /* format 2 */
  assert_int_equal(sg_midi_decode(h, sizeof h, &f.tl, SG_MIDI_MAP_GRID, &l, NULL, &d),
                   SG_E_UNSUPPORTED);
  memcpy(h, FORMAT0, sizeof h);
  h[12] = 0xE7; /* SMPTE division */
  assert_int_equal(sg_midi_decode(h, sizeof h, &f.tl, SG_MIDI_MAP_GRID, &l, NULL, &d),
                   SG_E_UNSUPPORTED);
  memcpy(h, FORMAT0, sizeof h);
  h[21] = 200; /* track length beyond the file */
  assert_int_equal(sg_midi_decode(h, sizeof h, &f.tl, SG_MIDI_MAP_GRID, &l, NULL, &d), SG_E_FORMAT);
  memcpy(h, FORMAT0, sizeof h);
  h[29] = 0xFF; /* 5-byte delta time: 0xFF 0x90 ... */
  h[30] = 0xFF;
  h[31] = 0xFF;
  h[32] = 0xFF;
  assert_int_equal(sg_midi_decode(h, sizeof h, &f.tl, SG_MIDI_MAP_GRID, &l, NULL, &d), SG_E_FORMAT);
  /* A missing file. */
  assert_int_equal(sg_midi_read(sg_test_path("nope.mid"), &f.tl, SG_MIDI_MAP_GRID, &l, NULL, &d),
                   SG_E_IO);
  sg_notes_free(&l);
  sg_notes_free(&src);
  fixture_free(&f);
}

static void stem_driven_by_a_midi_file(void **state) {
  (void)state;
  /* Write a file covering the whole song, then let a verse-only stem read it. */
  fixture f;
  fixture_load(&f, "4/4", "pop");
  sg_note_list all;
  sg_notes_init(&all);
  for (int64_t q = 0; q < f.tl.total_bars * 4; ++q) {
    sg_note n = {sg_timeline_frame_at(&f.tl, q, 1), 6000, 60 + (int)(q % 12), 0.8f, 0, 0, 0};
    assert_int_equal(sg_notes_push(&all, &n), SG_OK);
  }
  const char *path = sg_test_path("verse.mid");
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_midi_write(path, &all, &f.tl, "t", "all", 0, NULL, &d), SG_OK);
  char yaml[4096];
  snprintf(yaml, sizeof yaml, FIXTURE_YAML, "4/4", "pop");
  char *stems = strstr(yaml, "stems:\n");
  char extra[1200];
  snprintf(extra, sizeof extra,
           "stems:\n  - {name: Keys, instrument: dx7, midi_file: \"%s\", "
           "sections: [verse]}\n",
           path);
  char tail[4096];
  snprintf(tail, sizeof tail, "%s", stems + strlen("stems:\n"));
  snprintf(stems, sizeof yaml - (size_t)(stems - yaml), "%s%s", extra, tail);
  fixture g;
  fixture_from_text(&g, yaml);
  sg_note_list l;
  sg_notes_init(&l);
  sg_compose_report rep;
  compose_or_fail(&g, 0, &l, &rep);
  assert_true(rep.from_midi);
  assert_true(rep.max_offset_ms == 0.0);
  const sg_section_time *v = &g.tl.sections[1];
  assert_int_equal(l.n, (size_t)(v->bars * 4)); /* one note per quarter of the verse */
  for (size_t i = 0; i < l.n; ++i) {
    assert_true(l.v[i].start >= v->start_frame && l.v[i].start + l.v[i].length <= v->end_frame);
    assert_int_equal(l.v[i].length, 6000);
  }
  assert_int_equal(l.v[0].start, v->start_frame);
  sg_notes_free(&l);
  sg_notes_free(&all);
  fixture_free(&g);
  fixture_free(&f);
}

static void tempo_map_round_trip(void **state) {
  (void)state;
  /* A measured tempo map (an accelerando from 120 BPM) filled by hand: the writer emits one
   * set-tempo per quarter, and both mappings bring every note back. */
  enum { NQ = 17 };
  int64_t m[NQ];
  m[0] = 1000; /* the grid starts 1000 frames in (reference alignment) */
  for (int i = 1; i < NQ; ++i)
    m[i] = m[i - 1] + 24000 - 300 * i;
  sg_timeline tl;
  memset(&tl, 0, sizeof tl);
  tl.rate = 48000;
  tl.tempo_num = 120;
  tl.tempo_den = 1;
  tl.meter_num = 4;
  tl.meter_den = 4;
  tl.bar_q_num = 4;
  tl.bar_q_den = 1;
  tl.origin_frame = 1000;
  tl.total_bars = 4;
  tl.total_frames = m[NQ - 1];
  tl.n_sections = 1;
  tl.sections[0].bars = 4;
  tl.sections[0].start_frame = 1000;
  tl.sections[0].end_frame = m[NQ - 1];
  tl.quarter_frames = m;
  tl.n_quarter_frames = NQ;
  sg_note_list l, back;
  sg_notes_init(&l);
  sg_notes_init(&back);
  for (int i = 0; i + 1 < NQ; ++i) {
    sg_note n = {m[i], (m[i + 1] - m[i]) / 2, 48 + i, 0.5f, 0, 0, 0};
    assert_int_equal(sg_notes_push(&l, &n), SG_OK);
  }
  uint8_t *buf;
  size_t len;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_midi_encode(&l, &tl, "map", "notes", 0, NULL, &buf, &len, &d), SG_OK);
  sg_midi_info info;
  assert_int_equal(sg_midi_decode(buf, len, &tl, SG_MIDI_MAP_GRID, &back, &info, &d), SG_OK);
  assert_int_equal(info.n_tempo_events, NQ - 1);
  assert_notes_match(&l, &back, 1);
  for (size_t i = 0; i < back.n; ++i)
    assert_int_equal(back.v[i].start, m[i]); /* quarter starts are exact */
  sg_notes_clear(&back);
  assert_int_equal(sg_midi_decode(buf, len, &tl, SG_MIDI_MAP_FILE_TEMPO, &back, NULL, &d), SG_OK);
  assert_notes_match(&l, &back, 2); /* microsecond tempo rounding: < 2 frames over 16 quarters */
  free(buf);
  sg_notes_free(&l);
  sg_notes_free(&back);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(round_trip_through_the_grid),
      cmocka_unit_test(format0_running_status_and_tempo),
      cmocka_unit_test(hostile_files_fail_cleanly),
      cmocka_unit_test(stem_driven_by_a_midi_file),
      cmocka_unit_test(tempo_map_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
