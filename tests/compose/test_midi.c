/* Standard MIDI Files: round trip through the grid (every note back within half a tick), file
 * tempo mapping, format 0 with running status, a stem driven by a MIDI file, and hostile input
 * (every truncation, random bit flips, bad headers) that must fail cleanly; a grid that starts
 * after the audio's zero (a reference's downbeat at 120 ms) is a lead-in in MIDI time, notes on
 * their audio frames within 2 ms; the conductor data (markers, key signatures at each
 * modulation, modes, time signature, names, programs) read back with sg_midi_events. */
#include "compose_fixture.h"

#include "stemgate/synth.h"

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
  /* The grid starts 1000 frames in: a one-bar lead-in with its own tempo, then one per quarter. */
  assert_int_equal(info.n_tempo_events, NQ);
  assert_int_equal(info.lead_ticks, 4 * SG_MIDI_PPQ);
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

/* Frames allowed between a note's audio frame and its MIDI time: 2 ms. */
#define TOL_2MS(rate) ((int64_t)((rate)*0.002))

static void section_keys(const fixture *f, sg_key *keys) {
  for (int i = 0; i < f->tl.n_sections; ++i) {
    sg_progression prog;
    assert_int_equal(sg_section_harmony(f->song, i, &keys[i], &prog, NULL), SG_OK);
  }
}

/* The brief's case: the reference's first downbeat is at 120 ms, so the grid starts 5760 frames
 * in. Every stem's file starts at the audio's zero; the tempo map (read back through the file's
 * own set-tempo events) puts each note within 2 ms of the frame the composer gave it, at 120 and
 * at 97.3 BPM, and the grid mapping still finds the same frames. */
static void lead_in_keeps_the_audio_time(void **state) {
  (void)state;
  static const char *const tempos[] = {"120", "97.3"};
  for (int t = 0; t < 2; ++t) {
    char text[4096];
    snprintf(text, sizeof text, FIXTURE_YAML, "4/4", "pop");
    char *tp = strstr(text, "tempo: 120\n");
    assert_non_null(tp);
    char rest[4096];
    snprintf(rest, sizeof rest, "%s", tp + strlen("tempo: 120\n"));
    snprintf(tp, sizeof text - (size_t)(tp - text), "tempo: %s\n%s", tempos[t], rest);
    fixture f;
    fixture_from_text(&f, text);
    const int64_t origin = 5760; /* 120 ms at 48 kHz */
    sg_timeline_set_origin(&f.tl, origin);
    sg_key keys[SG_MAX_SECTIONS];
    section_keys(&f, keys);
    double worst = 0;
    for (int i = -1; i < f.song->n_stems; ++i) {
      sg_note_list l, back, grid;
      sg_notes_init(&l);
      sg_notes_init(&back);
      sg_notes_init(&grid);
      sg_compose_report rep;
      compose_or_fail(&f, i, &l, &rep);
      assert_true(l.n > 0);
      sg_midi_track tr = {&l, "stem", i < 0 ? 9 : 0, -1};
      uint8_t *buf;
      size_t len;
      sg_diag d;
      sg_diag_clear(&d);
      assert_int_equal(sg_midi_encode_song(&f.tl, "t", keys, &tr, 1, &buf, &len, &d), SG_OK);
      sg_midi_info info;
      assert_int_equal(sg_midi_decode(buf, len, &f.tl, SG_MIDI_MAP_FILE_TEMPO, &back, &info, &d),
                       SG_OK);
      assert_int_equal(info.lead_ticks, 4 * SG_MIDI_PPQ); /* one 4/4 bar of lead-in */
      /* 120 ms over four quarters: 30000 us per quarter in the lead-in. */
      assert_float_equal(info.first_bpm, 60e6 / 30000, 1e-9);
      assert_int_equal(back.n, l.n);
      for (size_t k = 0; k < l.n; ++k) {
        double e = fabs((double)(back.v[k].start - l.v[k].start)) / 48.0;
        worst = e > worst ? e : worst;
      }
      assert_notes_match(&l, &back, TOL_2MS(48000));
      /* The grid mapping (a DAW following the project tempo) lands on the same frames. */
      assert_int_equal(sg_midi_decode(buf, len, &f.tl, SG_MIDI_MAP_GRID, &grid, NULL, &d), SG_OK);
      assert_notes_match(&l, &grid, TOL_2MS(48000));
      free(buf);
      sg_notes_free(&l);
      sg_notes_free(&back);
      sg_notes_free(&grid);
    }
    printf("tempo %s, downbeat at 120 ms: worst MIDI-vs-frame error %.3f ms\n", tempos[t], worst);
    assert_true(worst <= 2.0);
    fixture_free(&f);
  }
}

static const sg_midi_event *find_event(const sg_midi_event *ev, size_t n, int track, int kind,
                                       int64_t tick, const char *text) {
  for (size_t i = 0; i < n; ++i)
    if (ev[i].track == track && ev[i].kind == kind && ev[i].tick == tick &&
        (!text || !strcmp((const char *)ev[i].data, text)))
      return &ev[i];
  return NULL;
}

static size_t count_kind(const sg_midi_event *ev, size_t n, int track, int kind) {
  size_t c = 0;
  for (size_t i = 0; i < n; ++i)
    c += ev[i].track == track && ev[i].kind == kind;
  return c;
}

/* The conductor track: a marker at each section's first bar, a key signature at the first
 * section and at each modulation (C major -> Eb major bridge -> C major; and a D dorian bridge:
 * the parent C major signature with the mode named in a text event), 6/8 time, program changes
 * and track names. */
static void conductor_data_reads_back(void **state) {
  (void)state;
  for (int v = 0; v < 2; ++v) {
    char text[4096];
    snprintf(text, sizeof text, FIXTURE_YAML, v ? "6/8" : "4/4", "pop");
    if (v) {
      char *k = strstr(text, "key: Eb major");
      assert_non_null(k);
      memcpy(k, "key: D dorian", 13);
    }
    fixture f;
    fixture_from_text(&f, text);
    sg_key keys[SG_MAX_SECTIONS];
    section_keys(&f, keys);
    sg_note_list a, b;
    sg_notes_init(&a);
    sg_notes_init(&b);
    sg_compose_report rep;
    compose_or_fail(&f, 1, &a, &rep);
    compose_or_fail(&f, -1, &b, &rep);
    sg_midi_track tr[2] = {{&a, "Bass", 0, sg_synth_gm_program(SG_SYNTH_MOOG_BASS, NULL)},
                           {&b, "Drums", 9, -1}};
    uint8_t *buf;
    size_t len;
    sg_diag d;
    sg_diag_clear(&d);
    assert_int_equal(sg_midi_encode_song(&f.tl, "Fixture", keys, tr, 2, &buf, &len, &d), SG_OK);
    sg_midi_event *ev = NULL;
    size_t n = 0;
    sg_midi_info info;
    assert_int_equal(sg_midi_events(buf, len, &ev, &n, &info, &d), SG_OK);
    assert_int_equal(info.n_tracks, 3);
    assert_int_equal(info.lead_ticks, 0);
    assert_int_equal(info.meter_num, v ? 6 : 4);
    assert_int_equal(info.meter_den, v ? 8 : 4);
    const int64_t bar = v ? 3 * SG_MIDI_PPQ : 4 * SG_MIDI_PPQ;
    /* Markers: intro bar 0, verse 2, bridge 6, outro 10. */
    static const char *const names[] = {"intro", "verse", "bridge", "outro"};
    static const int64_t bars[] = {0, 2, 6, 10};
    assert_int_equal(count_kind(ev, n, 0, 0x06), 4);
    for (int i = 0; i < 4; ++i)
      assert_non_null(find_event(ev, n, 0, 0x06, bars[i] * bar, names[i]));
    /* Key signatures: C major at 0, the bridge at bar 6, C major again at bar 10. */
    assert_int_equal(count_kind(ev, n, 0, 0x59), 3);
    const sg_midi_event *k0 = find_event(ev, n, 0, 0x59, 0, NULL);
    const sg_midi_event *k1 = find_event(ev, n, 0, 0x59, 6 * bar, NULL);
    const sg_midi_event *k2 = find_event(ev, n, 0, 0x59, 10 * bar, NULL);
    assert_non_null(k0);
    assert_non_null(k1);
    assert_non_null(k2);
    assert_int_equal((int8_t)k0->data[0], 0);
    assert_int_equal(k0->data[1], 0);
    assert_int_equal((int8_t)k1->data[0], v ? 0 : -3); /* Eb major: 3 flats; D dorian: none */
    assert_int_equal(k1->data[1], 0);
    assert_int_equal((int8_t)k2->data[0], 0);
    if (v)
      assert_non_null(find_event(ev, n, 0, 0x01, 6 * bar, "key: D dorian"));
    else
      assert_int_equal(count_kind(ev, n, 0, 0x01), 0);
    /* Time signature, tempo, names, programs. */
    const sg_midi_event *ts = find_event(ev, n, 0, 0x58, 0, NULL);
    assert_non_null(ts);
    assert_int_equal(ts->data[0], v ? 6 : 4);
    assert_int_equal(ts->data[1], v ? 3 : 2);
    assert_int_equal(count_kind(ev, n, 0, 0x51), 1);
    assert_non_null(find_event(ev, n, 0, 0x03, 0, "Fixture"));
    assert_non_null(find_event(ev, n, 1, 0x03, 0, "Bass"));
    assert_non_null(find_event(ev, n, 2, 0x03, 0, "Drums"));
    const sg_midi_event *pc = find_event(ev, n, 1, 0xC0, 0, NULL);
    assert_non_null(pc);
    assert_int_equal(pc->data[0], 38); /* Synth Bass 1 */
    assert_int_equal(pc->channel, 0);
    assert_int_equal(count_kind(ev, n, 2, 0xC0), 0); /* drums: channel 10 picks the kit */
    free(ev);
    /* The notes of both tracks come back. */
    sg_note_list back;
    sg_notes_init(&back);
    assert_int_equal(sg_midi_decode(buf, len, &f.tl, SG_MIDI_MAP_GRID, &back, NULL, &d), SG_OK);
    assert_int_equal(back.n, a.n + b.n);
    sg_notes_free(&back);
    free(buf);
    sg_notes_free(&a);
    sg_notes_free(&b);
    fixture_free(&f);
  }
}

/* One table of General MIDI programs, next to the instruments. */
static void gm_programs(void **state) {
  (void)state;
  assert_int_equal(sg_synth_gm_program(SG_SYNTH_MOOG_BASS, "moog_bass"), 38);
  assert_int_equal(sg_synth_gm_program(SG_SYNTH_PROPHET_POLY, NULL), 89); /* pad, the default */
  assert_int_equal(sg_synth_gm_program(SG_SYNTH_GUITAR, "nylon"), 24);
  assert_int_equal(sg_synth_gm_program(SG_SYNTH_DX7, "epiano"), 5);
  assert_int_equal(sg_synth_gm_program(SG_SYNTH_DRUMS, NULL), -1);
  assert_int_equal(sg_synth_gm_program(SG_SYNTH_DX7, "no_such_patch"), -1);
  /* Every patch of every kind but drums and soundfont has a program. */
  for (int k = 0; k < SG_SYNTH_KIND_COUNT_; ++k) {
    if (k == SG_SYNTH_DRUMS || k == SG_SYNTH_SOUNDFONT)
      continue;
    const char *const *p = sg_synth_patch_names((sg_synth_kind)k);
    for (int i = 0; p[i]; ++i) {
      int g = sg_synth_gm_program((sg_synth_kind)k, p[i]);
      if (g < 0 || g > 127)
        fail_msg("%s patch %s has no General MIDI program", sg_synth_kind_name((sg_synth_kind)k),
                 p[i]);
    }
  }
}

/* song.mid from stem files: the conductor once, every stem's track in order; a stem file with
 * another conductor is refused and leaves no output. */
static void merge_makes_one_song_file(void **state) {
  (void)state;
  fixture f;
  fixture_load(&f, "4/4", "pop");
  sg_key keys[SG_MAX_SECTIONS];
  section_keys(&f, keys);
  const char *paths[3] = {sg_test_path("m_bass.mid"), sg_test_path("m_pad.mid"),
                          sg_test_path("m_other.mid")};
  sg_note_list l[2];
  sg_diag d;
  sg_diag_clear(&d);
  for (int i = 0; i < 2; ++i) {
    sg_notes_init(&l[i]);
    sg_compose_report rep;
    compose_or_fail(&f, i == 0 ? 1 : 3, &l[i], &rep);
    sg_midi_track tr = {&l[i], i ? "Pad" : "Bass", 0, i ? 89 : 38};
    assert_int_equal(sg_midi_write_song(paths[i], &f.tl, "Fixture", keys, &tr, 1, &d), SG_OK);
  }
  sg_midi_track tr = {&l[0], "Bass", 0, 38};
  assert_int_equal(sg_midi_write_song(paths[2], &f.tl, "Other title", keys, &tr, 1, &d), SG_OK);
  const char *out = sg_test_path("m_song.mid");
  assert_int_equal(sg_midi_merge(paths, 2, out, &d), SG_OK);
  FILE *fp = fopen(out, "rb");
  assert_non_null(fp);
  static uint8_t buf[1 << 20];
  size_t len = fread(buf, 1, sizeof buf, fp);
  fclose(fp);
  sg_midi_event *ev;
  size_t n;
  sg_midi_info info;
  assert_int_equal(sg_midi_events(buf, len, &ev, &n, &info, &d), SG_OK);
  assert_int_equal(info.format, 1);
  assert_int_equal(info.n_tracks, 3);
  assert_non_null(find_event(ev, n, 1, 0x03, 0, "Bass"));
  assert_non_null(find_event(ev, n, 2, 0x03, 0, "Pad"));
  assert_int_equal(find_event(ev, n, 2, 0xC0, 0, NULL)->data[0], 89);
  assert_int_equal(count_kind(ev, n, 0, 0x06), 4);
  free(ev);
  sg_note_list back;
  sg_notes_init(&back);
  assert_int_equal(sg_midi_decode(buf, len, &f.tl, SG_MIDI_MAP_GRID, &back, NULL, &d), SG_OK);
  assert_int_equal(back.n, l[0].n + l[1].n);
  sg_notes_free(&back);
  remove(out);
  const char *bad[2] = {paths[0], paths[2]};
  assert_int_equal(sg_midi_merge(bad, 2, out, &d), SG_E_FORMAT);
  assert_non_null(strstr(d.message, "conductor"));
  assert_null(fopen(out, "rb"));
  sg_notes_free(&l[0]);
  sg_notes_free(&l[1]);
  fixture_free(&f);
}

/* A spec tempo map: 120 BPM, a 4-bar linear ritardando to 84 over the bridge, the outro at 132.
 * Each note read back through the file's own tempo events (one per sixteenth along the ramp)
 * lands within 2 ms of the frame the composer gave it, the grid mapping within half a tick and
 * a frame; the conductor has one tempo event per constant stretch plus 64 along the ramp. */
static void spec_tempo_map_notes_on_their_frames(void **state) {
  (void)state;
  char text[4096];
  snprintf(text, sizeof text, FIXTURE_YAML, "4/4", "pop");
  char *b = strstr(text, "    key: Eb major\n");
  assert_non_null(b);
  char rest[4096];
  snprintf(rest, sizeof rest, "%s", b);
  snprintf(b, sizeof text - (size_t)(b - text),
           "    tempo_change: {to: 84, over_bars: 4, curve: linear}\n%s", rest);
  char *o = strstr(text, "    energy: full\n");
  assert_non_null(o);
  snprintf(rest, sizeof rest, "%s", o);
  snprintf(o, sizeof text - (size_t)(o - text), "    tempo: 132\n%s", rest);
  fixture f;
  fixture_from_text(&f, text);
  assert_int_equal(f.tl.tempo_varies, 1);
  sg_key keys[SG_MAX_SECTIONS];
  section_keys(&f, keys);
  double worst = 0, worst_grid = 0;
  for (int i = -1; i < f.song->n_stems; ++i) {
    sg_note_list l, back, grid;
    sg_notes_init(&l);
    sg_notes_init(&back);
    sg_notes_init(&grid);
    sg_compose_report rep;
    compose_or_fail(&f, i, &l, &rep);
    sg_midi_track tr = {&l, "stem", i < 0 ? 9 : 0, -1};
    uint8_t *buf;
    size_t len;
    sg_diag d;
    sg_diag_clear(&d);
    assert_int_equal(sg_midi_encode_song(&f.tl, "t", keys, &tr, 1, &buf, &len, &d), SG_OK);
    assert_int_equal(sg_midi_decode(buf, len, &f.tl, SG_MIDI_MAP_FILE_TEMPO, &back, NULL, &d),
                     SG_OK);
    assert_int_equal(sg_midi_decode(buf, len, &f.tl, SG_MIDI_MAP_GRID, &grid, NULL, &d), SG_OK);
    assert_int_equal(back.n, l.n);
    for (size_t k = 0; k < l.n; ++k) {
      double e = fabs((double)(back.v[k].start - l.v[k].start)) / 48.0;
      worst = e > worst ? e : worst;
      e = fabs((double)(grid.v[k].start - l.v[k].start)) / 48.0;
      worst_grid = e > worst_grid ? e : worst_grid;
    }
    assert_notes_match(&l, &back, TOL_2MS(48000));
    assert_notes_match(&l, &grid, TOL_2MS(48000));
    if (i < 0) {
      sg_midi_event *ev = NULL;
      size_t n = 0;
      assert_int_equal(sg_midi_events(buf, len, &ev, &n, NULL, &d), SG_OK);
      /* 120 at 0, 64 sixteenths of ramp from bar 7, 84 at bar 11, 132 at bar 11 replaced: the
       * outro starts with its own tempo, so 120, ramp, 132. */
      assert_int_equal(count_kind(ev, n, 0, 0x51), 1 + 64 + 1);
      const sg_midi_event *t = find_event(ev, n, 0, 0x51, 10 * 4 * SG_MIDI_PPQ, NULL);
      assert_non_null(t);
      uint32_t us = (uint32_t)t->data[0] << 16 | (uint32_t)t->data[1] << 8 | t->data[2];
      assert_int_equal(us, 454545); /* 60e6 / 132 */
      free(ev);
    }
    free(buf);
    sg_notes_free(&l);
    sg_notes_free(&back);
    sg_notes_free(&grid);
  }
  printf("spec tempo map (120, rit. to 84, 132): worst MIDI-vs-frame error %.3f ms through the "
         "file's tempo events, %.3f ms through the grid\n",
         worst, worst_grid);
  assert_true(worst <= 2.0);
  fixture_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(round_trip_through_the_grid),
      cmocka_unit_test(format0_running_status_and_tempo),
      cmocka_unit_test(hostile_files_fail_cleanly),
      cmocka_unit_test(stem_driven_by_a_midi_file),
      cmocka_unit_test(tempo_map_round_trip),
      cmocka_unit_test(spec_tempo_map_notes_on_their_frames),
      cmocka_unit_test(lead_in_keeps_the_audio_time),
      cmocka_unit_test(conductor_data_reads_back),
      cmocka_unit_test(gm_programs),
      cmocka_unit_test(merge_makes_one_song_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
