/* Compose: sections a stem plays in, song bounds, humanisation bounds and determinism, bass
 * anticipations, meters on the grid, energy, fills, user patterns and spec error positions. */
#include "compose_fixture.h"

#include <math.h>

static const char *const STYLES[] = {"bossa", "pop", "house", "samba"};
static const char *const METERS[] = {"4/4", "3/4", "6/8"};

static int64_t grid16(const sg_timeline *tl, int64_t k) { return sg_timeline_frame_at(tl, k, 4); }

static void bridge_stem_only_in_bridge(void **state) {
  (void)state;
  for (size_t s = 0; s < 4; ++s) {
    fixture f;
    fixture_load(&f, "4/4", STYLES[s]);
    int bi = sg_song_stem_index(f.song, "Bridge");
    int si = sg_song_section_index(f.song, "bridge");
    assert_true(bi >= 0 && si >= 0);
    sg_note_list l;
    sg_notes_init(&l);
    sg_compose_report rep;
    compose_or_fail(&f, bi, &l, &rep);
    assert_true(l.n > 10);
    const sg_section_time *sec = &f.tl.sections[si];
    for (size_t i = 0; i < l.n; ++i) {
      assert_true(l.v[i].start >= sec->start_frame);
      assert_true(l.v[i].start + l.v[i].length <= sec->end_frame);
    }
    for (int k = 0; k < rep.n_sections; ++k)
      if (k != si)
        assert_int_equal(rep.section_notes[k], 0);
    assert_int_equal(rep.section_notes[si], l.n);
    sg_notes_free(&l);
    fixture_free(&f);
  }
}

static void notes_stay_inside_the_song(void **state) {
  (void)state;
  for (size_t m = 0; m < 3; ++m)
    for (size_t s = 0; s < 4; ++s) {
      fixture f;
      fixture_load(&f, METERS[m], STYLES[s]);
      for (int i = -1; i < f.song->n_stems; ++i) {
        sg_note_list l;
        sg_notes_init(&l);
        sg_compose_report rep;
        compose_or_fail(&f, i, &l, &rep);
        if (l.n == 0)
          fail_msg("%s %s stem %d: no notes", METERS[m], STYLES[s], i);
        assert_int_equal(rep.notes, l.n);
        for (size_t k = 0; k < l.n; ++k) {
          const sg_note *n = &l.v[k];
          assert_true(n->start >= 0);
          assert_true(n->length >= 1);
          /* Inside the song; the final hit of the ring ending starts on the last bar line. */
          assert_true(n->start + n->length <= f.tl.total_frames ||
                      (n->start == f.tl.total_frames && n->start + n->length <= f.tl.file_frames));
          assert_true(n->key >= 0 && n->key <= 127);
          assert_true(n->velocity > 0.0f && n->velocity <= 1.0f);
          if (k)
            assert_true(l.v[k - 1].start <= n->start); /* sorted */
        }
        assert_true(rep.max_offset_ms <= f.song->humanize_ms);
        sg_notes_free(&l);
      }
      fixture_free(&f);
    }
}

static int notes_equal(const sg_note_list *a, const sg_note_list *b) {
  if (a->n != b->n)
    return 0;
  for (size_t i = 0; i < a->n; ++i)
    if (a->v[i].start != b->v[i].start || a->v[i].length != b->v[i].length ||
        a->v[i].key != b->v[i].key || a->v[i].velocity != b->v[i].velocity)
      return 0;
  return 1;
}

static void humanisation_is_bounded_and_deterministic(void **state) {
  (void)state;
  fixture f;
  fixture_load(&f, "4/4", "bossa");
  double bound = f.song->humanize_ms;
  int64_t bound_frames = (int64_t)(bound * 1e-3 * f.tl.rate);
  print_message("seed %llu, bound %.1f ms\n", (unsigned long long)f.song->seed, bound);
  for (int i = -1; i < f.song->n_stems; ++i) {
    sg_note_list a, b, plain;
    sg_notes_init(&a);
    sg_notes_init(&b);
    sg_notes_init(&plain);
    sg_compose_report ra, rb, rp;
    compose_or_fail(&f, i, &a, &ra);
    compose_or_fail(&f, i, &b, &rb);
    assert_true(notes_equal(&a, &b)); /* same seed: bit-identical */
    assert_true(ra.max_offset_ms <= bound);
    assert_true(ra.max_offset_ms > bound / 4); /* humanisation is really applied */
    /* Against the unhumanised composition: every note is within the bound of its twin. */
    double hm = f.song->humanize_ms, hv = f.song->humanize_velocity;
    f.song->humanize_ms = 0;
    f.song->humanize_velocity = 0;
    compose_or_fail(&f, i, &plain, &rp);
    f.song->humanize_ms = hm;
    f.song->humanize_velocity = hv;
    assert_true(rp.max_offset_ms == 0.0);
    assert_int_equal(plain.n, a.n);
    char *used = calloc(plain.n, 1);
    for (size_t k = 0; k < a.n; ++k) {
      int found = 0;
      for (size_t j = 0; j < plain.n && !found; ++j) {
        if (used[j] || plain.v[j].key != a.v[k].key)
          continue;
        int64_t dd = a.v[k].start - plain.v[j].start;
        if (dd <= bound_frames && dd >= -bound_frames) {
          used[j] = 1;
          found = 1;
        }
      }
      if (!found)
        fail_msg("stem %d note %zu (key %d at %lld) has no unhumanised twin within %.1f ms", i, k,
                 a.v[k].key, (long long)a.v[k].start, bound);
    }
    free(used);
    /* A different seed gives a different performance. */
    f.song->seed += 1;
    compose_or_fail(&f, i, &b, &rb);
    f.song->seed -= 1;
    assert_false(notes_equal(&a, &b));
    sg_notes_free(&a);
    sg_notes_free(&b);
    sg_notes_free(&plain);
  }
  fixture_free(&f);
}

static void bass_anticipates_on_the_and_of_four(void **state) {
  (void)state;
  fixture f;
  fixture_load(&f, "4/4", "bossa");
  f.song->humanize_ms = 0;
  f.song->swing = 0;
  int bi = sg_song_stem_index(f.song, "Bass");
  sg_note_list l;
  sg_notes_init(&l);
  sg_compose_report rep;
  compose_or_fail(&f, bi, &l, &rep);
  /* Verse (bars 2-5): Dm7 | G7 | Cmaj7 | A7(b9). Once per 4-bar phrase (into its last bar) the
   * next root is anticipated one 8th early and tied over; the other downbeats are played. */
  int64_t bar = 5;
  int64_t at = sg_timeline_frame_at(&f.tl, bar * 8 - 1, 2); /* 1/8 before the bar */
  int64_t down = sg_timeline_bar_frame(&f.tl, bar);
  int hit = 0, on_down = 0;
  for (size_t i = 0; i < l.n; ++i) {
    if (l.v[i].start == at && l.v[i].key % 12 == 9) {
      hit = 1;
      assert_true(l.v[i].start + l.v[i].length > down); /* tied over the bar line */
    }
    if (l.v[i].start == down)
      on_down = 1;
  }
  if (!hit)
    fail_msg("no anticipation of root 9 at frame %lld (bar %lld)", (long long)at, (long long)bar);
  assert_false(on_down); /* the anticipated downbeat is not struck again */
  /* Anticipated bars stay at most one in four, so the bass still marks the downbeats. */
  int anticipated = 0;
  for (int64_t b = 1; b < 12; ++b) {
    int64_t d0 = sg_timeline_bar_frame(&f.tl, b), a0 = sg_timeline_frame_at(&f.tl, b * 8 - 1, 2);
    for (size_t i = 0; i < l.n; ++i)
      if (l.v[i].start == a0 && l.v[i].start + l.v[i].length > d0 + (d0 - a0))
        ++anticipated;
  }
  print_message("anticipated bars: %d of 11\n", anticipated);
  assert_true(anticipated >= 1 && anticipated <= 3);
  sg_notes_free(&l);
  fixture_free(&f);
}

static void meters_land_on_the_grid(void **state) {
  (void)state;
  for (size_t m = 1; m < 3; ++m)
    for (size_t s = 0; s < 4; ++s) {
      fixture f;
      fixture_load(&f, METERS[m], STYLES[s]);
      f.song->humanize_ms = 0;
      f.song->swing = 0;
      double fpq = sg_timeline_frames_per_quarter(&f.tl);
      for (int i = -1; i < f.song->n_stems; ++i) {
        sg_note_list l;
        sg_notes_init(&l);
        sg_compose_report rep;
        compose_or_fail(&f, i, &l, &rep);
        for (size_t k = 0; k < l.n; ++k) {
          if (l.v[k].strum_index > 0)
            continue; /* strummed strings follow the first by design */
          int64_t q16 = (int64_t)llround(l.v[k].start / (fpq / 4));
          if (grid16(&f.tl, q16) != l.v[k].start)
            fail_msg("%s %s stem %d: note at %lld is off the 16th grid", METERS[m], STYLES[s], i,
                     (long long)l.v[k].start);
        }
        sg_notes_free(&l);
      }
      /* Drums repeat with the bar's own period: verse bars 3 and 4 hold the same hits. */
      sg_note_list dr;
      sg_notes_init(&dr);
      sg_compose_report rep;
      compose_or_fail(&f, -1, &dr, &rep);
      int64_t b3 = sg_timeline_bar_frame(&f.tl, 3), b4 = sg_timeline_bar_frame(&f.tl, 4),
              b5 = sg_timeline_bar_frame(&f.tl, 5);
      int n3 = 0, n4 = 0;
      for (size_t k = 0; k < dr.n; ++k) {
        if (dr.v[k].start >= b3 && dr.v[k].start < b4) {
          ++n3;
          int found = 0;
          for (size_t j = 0; j < dr.n; ++j)
            if (dr.v[j].key == dr.v[k].key && dr.v[j].start == dr.v[k].start + (b4 - b3))
              found = 1;
          assert_true(found);
        }
        if (dr.v[k].start >= b4 && dr.v[k].start < b5)
          ++n4;
      }
      assert_true(n3 > 0);
      assert_int_equal(n3, n4);
      /* Every bar starts with a kick. */
      int kick0 = 0;
      for (size_t k = 0; k < dr.n; ++k)
        if (dr.v[k].start == b3 && dr.v[k].key == 36)
          kick0 = 1;
      assert_true(kick0);
      sg_notes_free(&dr);
      fixture_free(&f);
    }
  /* 6/8 pop: the backbeat falls on the second dotted-quarter beat (1.5 quarters in). */
  fixture f;
  fixture_load(&f, "6/8", "pop");
  f.song->humanize_ms = 0;
  sg_note_list dr;
  sg_notes_init(&dr);
  sg_compose_report rep;
  compose_or_fail(&f, -1, &dr, &rep);
  int64_t snare_at = sg_timeline_frame_at(&f.tl, 3 * 3 * 2 + 3, 2); /* bar 3 + 1.5 q */
  int found = 0;
  for (size_t k = 0; k < dr.n; ++k)
    if (dr.v[k].key == 38 && dr.v[k].start == snare_at)
      found = 1;
  assert_true(found);
  sg_notes_free(&dr);
  fixture_free(&f);
  /* 3/4 pop: kick on 1, snare on 2 (one quarter into the bar), nothing past the bar's 3 beats
   * repeats a 4/4 figure: the next bar's kick is 3 quarters later. */
  fixture_load(&f, "3/4", "pop");
  f.song->humanize_ms = 0;
  sg_notes_init(&dr);
  compose_or_fail(&f, -1, &dr, &rep);
  int kick = 0, snare = 0, next_kick = 0;
  for (size_t k = 0; k < dr.n; ++k) {
    if (dr.v[k].key == 36 && dr.v[k].start == sg_timeline_frame_at(&f.tl, 9, 1))
      kick = 1;
    if (dr.v[k].key == 38 && dr.v[k].start == sg_timeline_frame_at(&f.tl, 10, 1))
      snare = 1;
    if (dr.v[k].key == 36 && dr.v[k].start == sg_timeline_frame_at(&f.tl, 12, 1))
      next_kick = 1;
  }
  assert_true(kick && snare && next_kick);
  sg_notes_free(&dr);
  fixture_free(&f);
}

static void energy_and_fills(void **state) {
  (void)state;
  fixture f;
  fixture_load(&f, "4/4", "pop");
  sg_note_list dr;
  sg_notes_init(&dr);
  sg_compose_report rep;
  compose_or_fail(&f, -1, &dr, &rep);
  /* Per-bar density: sparse intro < normal verse < full outro. */
  double intro = rep.section_notes[0] / 2.0, verse = rep.section_notes[1] / 4.0,
         outro = rep.section_notes[3] / 2.0;
  print_message("drum hits per bar: intro %.1f verse %.1f outro %.1f\n", intro, verse, outro);
  assert_true(intro < verse);
  assert_true(verse < outro);
  /* Fill: the last beat before each section change carries a snare roll of 16ths; the last beat
   * of a bar inside a section carries at most one snare. */
  for (int s = 0; s + 1 < f.tl.n_sections; ++s) {
    int64_t end = f.tl.sections[s].end_frame;
    int64_t beat = sg_timeline_frame_at(
        &f.tl, f.tl.sections[s].start_quarter + f.tl.sections[s].bars * 4 - 1, 1);
    int64_t tol = (int64_t)(f.song->humanize_ms * 1e-3 * f.tl.rate) + 1;
    int snares = 0;
    for (size_t k = 0; k < dr.n; ++k)
      if (dr.v[k].key == 38 && dr.v[k].start >= beat - tol && dr.v[k].start < end)
        ++snares;
    if (snares < 2)
      fail_msg("section %d: only %d snares in the fill", s, snares);
  }
  int64_t b = sg_timeline_frame_at(&f.tl, 3 * 4 + 3, 1); /* beat 4 of bar 3, inside the verse */
  int64_t e = sg_timeline_bar_frame(&f.tl, 4) - 500;
  int snares = 0;
  for (size_t k = 0; k < dr.n; ++k)
    if (dr.v[k].key == 38 && dr.v[k].start > b + 500 && dr.v[k].start < e)
      ++snares;
  assert_true(snares <= 1);
  /* Section chords in the report. */
  assert_string_equal(rep.section_chords[0], "Cmaj7 | A7");
  assert_string_equal(rep.section_chords[2], "Fm7 | Bb7 | Ebmaj7 | Ebmaj7");
  assert_string_equal(rep.section_chords[3], "C | Am | F | G"); /* the key's default */
  sg_notes_free(&dr);
  fixture_free(&f);
}

static const char *const PATTERN_YAML = "title: Pattern\n"
                                        "tempo: 100\n"
                                        "meter: 4/4\n"
                                        "sample_rate: 48000\n"
                                        "key: G major\n"
                                        "style: pop\n"
                                        "seed: 7\n"
                                        "humanize: {timing_ms: 0, velocity: 0}\n"
                                        "sections:\n"
                                        "  - name: a\n"
                                        "    bars: 2\n"
                                        "    chords: \"G | Em\"\n"
                                        "stems:\n"
                                        "  - name: Bass\n"
                                        "    instrument: moog_bass\n"
                                        "    role: bass\n"
                                        "    pattern: \"%s\"\n"
                                        "drums:\n"
                                        "  source: synth\n"
                                        "  pattern: \"%s\"\n";

static void user_patterns_drive_the_stem(void **state) {
  (void)state;
  char text[2048];
  snprintf(text, sizeof text, PATTERN_YAML, "X..x..x...x.x-..",
           "kick: x...x...x...x... snare: ....X.......X...");
  fixture f;
  fixture_from_text(&f, text);
  f.song->swing = 0;
  sg_note_list l;
  sg_notes_init(&l);
  sg_compose_report rep;
  compose_or_fail(&f, 0, &l, &rep);
  static const int steps[] = {0, 3, 6, 10, 12};
  assert_int_equal(l.n, 11); /* the pattern's ten, then the ending's final hit on the tonic */
  assert_int_equal(l.v[10].start, f.tl.total_frames);
  for (int bar = 0; bar < 2; ++bar)
    for (int k = 0; k < 5; ++k) {
      const sg_note *n = &l.v[bar * 5 + k];
      assert_int_equal(n->start, grid16(&f.tl, bar * 16 + steps[k]));
      assert_int_equal(n->key % 12, bar == 0 ? 7 : 4); /* G then E */
      if (k == 4)                                      /* 'x-' holds two 16ths */
        assert_int_equal(n->start + n->length, grid16(&f.tl, bar * 16 + 14));
    }
  assert_true(l.v[0].flags & SG_NOTE_ACCENT);
  assert_true(l.v[0].velocity > l.v[1].velocity);
  sg_compose_report dr;
  compose_or_fail(&f, -1, &l, &dr);
  int kicks = 0, snares = 0;
  for (size_t i = 0; i < l.n; ++i) {
    if (l.v[i].key == 36) {
      ++kicks;
      assert_int_equal((l.v[i].start - grid16(&f.tl, 0)) % grid16(&f.tl, 4), 0);
    }
    if (l.v[i].key == 38)
      ++snares;
  }
  assert_int_equal(kicks, 9); /* eight written, and the final hit (a piece the pattern names) */
  assert_int_equal(snares, 4);
  sg_notes_free(&l);
  fixture_free(&f);
}

static void spec_errors_point_at_the_character(void **state) {
  (void)state;
  /* The spec loader rejects bad patterns before any audio (tests/spec/test_schema.c); compose
   * still maps its own parse errors onto the spec for songs built in memory, so the bad text is
   * put in after loading. A bad step pattern: the column of 'q' inside the quoted value. */
  char text[2048];
  snprintf(text, sizeof text, PATTERN_YAML, "x..x", "kick: x...");
  fixture f;
  fixture_from_text(&f, text);
  memcpy(f.song->stems[0].pattern.s, "x..q", 4);
  sg_note_list l;
  sg_notes_init(&l);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_compose_stem(f.song, &f.tl, 0, &l, NULL, &d), SG_E_SPEC);
  assert_int_equal(d.line, f.song->stems[0].pattern.pos.line);
  assert_int_equal(d.col, f.song->stems[0].pattern.pos.col + 1 + 3);
  assert_string_equal(d.file, "fixture.yaml");
  /* The loader finds the same character. */
  sg_pos pat = f.song->stems[0].pattern.pos;
  fixture_free(&f);
  snprintf(text, sizeof text, PATTERN_YAML, "x..q", "kick: x...");
  sg_song *bad = NULL;
  sg_diag_clear(&d);
  assert_int_equal(sg_song_parse(text, strlen(text), "fixture.yaml", &bad, &d), SG_E_SPEC);
  assert_int_equal(d.line, pat.line);
  assert_int_equal(d.col, pat.col + 1 + 3);
  /* A bad drum lane. */
  snprintf(text, sizeof text, PATTERN_YAML, "x...", "kick: x...");
  fixture_from_text(&f, text);
  snprintf(f.song->drums.pattern.s, sizeof f.song->drums.pattern.s, "kick: x... cowbell: x...");
  sg_diag_clear(&d);
  assert_int_equal(sg_compose_drums(f.song, &f.tl, &l, NULL, &d), SG_E_SPEC);
  assert_int_equal(d.col, f.song->drums.pattern.pos.col + 1 + 11);
  fixture_free(&f);
  /* A bad chord in a section chart. */
  char yaml[4096];
  snprintf(yaml, sizeof yaml, FIXTURE_YAML, "4/4", "pop");
  char *p = strstr(yaml, "A7(b9)");
  assert_non_null(p);
  memcpy(p, "A7(b8)", 6);
  fixture_from_text(&f, yaml);
  sg_diag_clear(&d);
  assert_int_equal(sg_compose_stem(f.song, &f.tl, 0, &l, NULL, &d), SG_E_SPEC);
  const sg_text *ch = &f.song->sections[1].chords;
  assert_int_equal(d.line, ch->pos.line);
  assert_int_equal(d.col, ch->pos.col + 1 + (int)(strstr(ch->s, "b8") - ch->s) + 1);
  fixture_free(&f);
  /* From a file with a plain (unquoted) value: the column is read back from the file. */
  snprintf(text, sizeof text, PATTERN_YAML, "x...", "kick: x...");
  char *pp = strstr(text, "pattern: \"x...\"");
  assert_non_null(pp);
  memcpy(pp, "pattern:  x..x ", 15); /* same length, plain scalar one column to the right */
  const char *path = sg_test_path("plain.yaml");
  assert_int_equal(sg_test_write_text(path, text), 0);
  sg_song *song;
  sg_diag_clear(&d);
  assert_int_equal(sg_song_load(path, &song, &d), SG_OK);
  sg_timeline tl;
  assert_int_equal(sg_timeline_build(song, &tl, &d), SG_OK);
  memcpy(song->stems[0].pattern.s, "x..q", 4);
  sg_diag_clear(&d);
  assert_int_equal(sg_compose_stem(song, &tl, 0, &l, NULL, &d), SG_E_SPEC);
  assert_int_equal(d.col, song->stems[0].pattern.pos.col + 3);
  assert_string_equal(d.file, path);
  /* The loader, given the same file with the bad pattern, points at the same column. */
  int want = song->stems[0].pattern.pos.col + 3;
  sg_song_free(song);
  memcpy(pp, "pattern:  x..q ", 15);
  assert_int_equal(sg_test_write_text(path, text), 0);
  sg_diag_clear(&d);
  assert_int_equal(sg_song_load(path, &song, &d), SG_E_SPEC);
  assert_int_equal(d.col, want);
  /* An unknown style names itself (put in after loading: the loader rejects it). */
  fixture_load(&f, "4/4", "pop");
  snprintf(f.song->stems[0].style.s, sizeof f.song->stems[0].style.s, "polka");
  sg_diag_clear(&d);
  assert_int_equal(sg_compose_stem(f.song, &f.tl, 0, &l, NULL, &d), SG_E_SPEC);
  assert_non_null(strstr(d.message, "polka"));
  fixture_free(&f);
  sg_notes_free(&l);
}

static void comp_is_not_block_chords(void **state) {
  (void)state;
  /* Producer check: bossa guitar hits fall mostly off the beat, and voicings change smoothly. */
  fixture f;
  fixture_load(&f, "4/4", "bossa");
  f.song->humanize_ms = 0;
  f.song->swing = 0;
  sg_note_list l;
  sg_notes_init(&l);
  sg_compose_report rep;
  compose_or_fail(&f, 0, &l, &rep);
  int on = 0, off = 0;
  int64_t q = grid16(&f.tl, 4);
  for (size_t i = 0; i < l.n; ++i) {
    if (l.v[i].strum_index != 0)
      continue;
    if (l.v[i].start % q == 0)
      ++on;
    else
      ++off;
  }
  print_message("bossa comp: %d strikes on the beat, %d off the beat\n", on, off);
  assert_true(off > on / 2);
  /* Pad: consecutive chords move by few semitones in total (4 voices, normal energy). */
  int pi = sg_song_stem_index(f.song, "Pad");
  compose_or_fail(&f, pi, &l, &rep);
  int64_t verse0 = f.tl.sections[1].start_frame, verse1 = f.tl.sections[1].end_frame;
  int prev[8], np = 0;
  int64_t t = -1;
  int cur[8], nc = 0;
  for (size_t i = 0; i <= l.n; ++i) {
    if (i == l.n || l.v[i].start != t) {
      if (nc && np == nc) {
        int mv = 0;
        for (int k = 0; k < nc; ++k)
          mv += abs(cur[k] - prev[k]);
        if (mv > 8)
          fail_msg("pad moved %d semitones", mv);
      }
      if (nc) {
        memcpy(prev, cur, sizeof cur);
        np = nc;
      }
      nc = 0;
      if (i == l.n)
        break;
      t = l.v[i].start;
    }
    if (l.v[i].start >= verse0 && l.v[i].start < verse1 && nc < 8)
      cur[nc++] = l.v[i].key;
  }
  sg_notes_free(&l);
  fixture_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bridge_stem_only_in_bridge),
      cmocka_unit_test(notes_stay_inside_the_song),
      cmocka_unit_test(humanisation_is_bounded_and_deterministic),
      cmocka_unit_test(bass_anticipates_on_the_and_of_four),
      cmocka_unit_test(meters_land_on_the_grid),
      cmocka_unit_test(energy_and_fills),
      cmocka_unit_test(user_patterns_drive_the_stem),
      cmocka_unit_test(spec_errors_point_at_the_character),
      cmocka_unit_test(comp_is_not_block_chords),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
