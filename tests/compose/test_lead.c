/* The lead role: a generated melody (in the key, chord tones on the pulses, phrases that do not
 * repeat outright, inside the instrument's range) in 4/4, 3/4, 6/8 and 7/8 for several styles;
 * a user's written melody parsed (errors at line:col) and played note for note, through MIDI. */
#include "compose_fixture.h"

#include <math.h>

/* %s meter, %s style, %s key, then the chords of the two sections (8 bars each). */
static const char *const LEAD_YAML = "title: Lead\n"
                                     "tempo: 120\n"
                                     "meter: %s\n"
                                     "sample_rate: 48000\n"
                                     "key: %s\n"
                                     "style: %s\n"
                                     "seed: %u\n"
                                     "humanize: {timing_ms: 0, velocity: 0}\n"
                                     "sections:\n"
                                     "  - {name: verse, bars: 8, chords: \"%s\"}\n"
                                     "  - {name: chorus, bars: 8, energy: full, chords: \"%s\"}\n"
                                     "stems:\n"
                                     "  - {name: Lead, instrument: dx7, role: lead}\n";

typedef struct lead_case {
  const char *meter, *style, *key, *verse, *chorus;
  int pulses;       /* pulses per bar */
  int pulse_8th[8]; /* pulse starts in 8ths */
} lead_case;

static const lead_case CASES[] = {
    {"4/4",
     "pop",
     "C major",
     "C | Am | F | G | C | Am | Dm | G",
     "F | G | Em | Am | F | G | C | C",
     4,
     {0, 2, 4, 6}},
    {"3/4",
     "bossa",
     "G major",
     "G | Em | Am7 | D7 | G | C | Am | D",
     "C | D | Bm | Em | C | D | G | G",
     3,
     {0, 2, 4}},
    {"6/8",
     "pop",
     "A minor",
     "Am | F | C | G | Am | Dm | Em | Am",
     "F | G | Am | Am | F | G | Am | Am",
     2,
     {0, 3}},
    {"7/8",
     "house",
     "E dorian",
     "Em7 | A | Em7 | A | Em7 | D | C | Bm",
     "Em7 | A | G | D | Em7 | A | Bm | Em7",
     3,
     {0, 2, 4}},
};

static void lead_generated(void **state) {
  (void)state;
  for (size_t ci = 0; ci < sizeof CASES / sizeof CASES[0]; ++ci)
    for (unsigned seed = 1; seed <= 3; ++seed) {
      const lead_case *lc = &CASES[ci];
      char text[4096];
      snprintf(text, sizeof text, LEAD_YAML, lc->meter, lc->key, lc->style, seed, lc->verse,
               lc->chorus);
      fixture f;
      fixture_from_text(&f, text);
      sg_note_list l;
      sg_notes_init(&l);
      compose_or_fail(&f, 0, &l, NULL);
      sg_key key;
      sg_diag d;
      assert_int_equal(sg_key_parse(lc->key, &key, &d), SG_OK);
      double fpq = sg_timeline_frames_per_quarter(&f.tl);
      double qpb = sg_timeline_quarters_per_bar(&f.tl);
      int in_key = 0, strong = 0, strong_ct = 0, lo = 127, hi = 0;
      /* Phrase signatures: (key, onset in 8ths within the phrase) per 4-bar phrase. */
      enum { PH = 4 };
      static int sig[PH][256];
      int nsig[PH] = {0};
      for (size_t i = 0; i < l.n; ++i) {
        const sg_note *n = &l.v[i];
        int pc = n->key % 12;
        in_key += sg_key_contains(&key, pc);
        lo = n->key < lo ? n->key : lo;
        hi = n->key > hi ? n->key : hi;
        double q = (double)n->start / fpq;
        int bar = (int)floor(q / qpb + 1e-9);
        double in_bar8 = (q - bar * qpb) * 2.0; /* 8ths into the bar */
        int ph = bar / PH;
        if (ph < PH && nsig[ph] < 254) {
          sig[ph][nsig[ph]++] = n->key;
          sig[ph][nsig[ph]++] = (int)lround((q - ph * PH * qpb) * 4.0);
        }
        for (int p = 0; p < lc->pulses; ++p)
          if (fabs(in_bar8 - lc->pulse_8th[p]) < 1e-6) {
            const char *chart = bar < 8 ? lc->verse : lc->chorus;
            sg_progression prog;
            assert_int_equal(sg_progression_parse(chart, &key, 0, &prog, &d), SG_OK);
            const sg_chord *ch = &prog.v[0].chord;
            for (int k = 0; k < prog.n; ++k)
              if (prog.v[k].bar == bar % 8)
                ch = &prog.v[k].chord;
            ++strong;
            strong_ct += (ch->pcs >> pc) & 1;
          }
      }
      printf("%s %s seed %u: %zu notes, %d in key, chord tones on %d of %d pulse notes, range "
             "%d-%d\n",
             lc->meter, lc->style, seed, l.n, in_key, strong_ct, strong, lo, hi);
      assert_true(l.n >= 16 * 2);                /* at least two notes a bar on average */
      assert_int_equal(in_key, (int)l.n);        /* every note in the key */
      assert_true(strong >= 16);                 /* the pulses carry notes */
      assert_true(strong_ct * 10 >= strong * 8); /* >= 80 % chord tones on strong beats */
      assert_true(lo >= 62 && hi <= 86);         /* the dx7 lead range */
      for (int p = 1; p < PH; ++p) {
        int same = nsig[p] == nsig[p - 1];
        for (int k = 0; same && k < nsig[p]; ++k)
          same = sig[p][k] == sig[p - 1][k];
        assert_false(same); /* no two consecutive phrases identical */
      }
      /* Rests at phrase ends: the last pulse of every fourth bar is silent. */
      for (int ph = 0; ph < PH; ++ph) {
        double breath_q = (ph * PH + 4) * qpb - 0.5;
        for (size_t i = 0; i < l.n; ++i) {
          double s = (double)l.v[i].start / fpq, e = s + (double)l.v[i].length / fpq;
          assert_false(s < breath_q && e > breath_q + 0.01);
        }
      }
      sg_notes_free(&l);
      fixture_free(&f);
    }
}

static const char *const MEL_YAML = "title: Mel\n"
                                    "tempo: 100\n"
                                    "meter: 4/4\n"
                                    "sample_rate: 48000\n"
                                    "key: E minor\n"
                                    "humanize: {timing_ms: 0, velocity: 0}\n"
                                    "sections:\n"
                                    "  - {name: a, bars: 4}\n"
                                    "stems:\n"
                                    "  - name: Lead\n"
                                    "    instrument: dx7\n"
                                    "    melody: \"%s\"\n";

/* The written line: parsed, composed and written to MIDI; the MIDI file holds the same notes
 * (key, start tick, length tick) as the text, looped over the section. */
static void lead_user_melody_note_for_note(void **state) {
  (void)state;
  const char *line = "E4/4 G4/8 A4/8 B4/2 | r/4 A4/8. G4/16 E4/8t F#4 G4 D4/4 |";
  sg_melody m;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_melody_parse(line, 0, &m, &d), SG_OK);
  assert_int_equal(m.n, 10);
  assert_int_equal(m.length, 2 * 4 * SG_MELODY_TPQ);
  static const int keys[10] = {64, 67, 69, 71, 69, 67, 64, 66, 67, 62};
  static const int starts[10] = {0, 48, 72, 96, 240, 276, 288, 304, 320, 336};
  for (int i = 0; i < 10; ++i) {
    assert_int_equal(m.v[i].key, keys[i]);
    assert_int_equal(m.v[i].start, starts[i]);
  }
  char text[2048];
  snprintf(text, sizeof text, MEL_YAML, line);
  fixture f;
  fixture_from_text(&f, text);
  sg_note_list l, back;
  sg_notes_init(&l);
  sg_notes_init(&back);
  compose_or_fail(&f, 0, &l, NULL);
  assert_int_equal(l.n, 20); /* two loops of the two-bar line in four bars */
  uint8_t *buf = NULL;
  size_t len = 0;
  assert_int_equal(sg_midi_encode(&l, &f.tl, "Mel", "Lead", 0, NULL, &buf, &len, &d), SG_OK);
  assert_int_equal(sg_midi_decode(buf, len, &f.tl, SG_MIDI_MAP_GRID, &back, NULL, &d), SG_OK);
  assert_int_equal(back.n, 20);
  double fpq = sg_timeline_frames_per_quarter(&f.tl);
  for (size_t i = 0; i < back.n; ++i) {
    const sg_melody_note *w = &m.v[i % 10];
    int loop = (int)(i / 10);
    double q = (double)back.v[i].start / fpq;
    double want_q = (double)(w->start + loop * m.length) / SG_MELODY_TPQ;
    assert_int_equal(back.v[i].key, w->key);
    assert_true(fabs(q - want_q) < 1e-3);
    assert_true(fabs((double)back.v[i].length / fpq - (double)w->len / SG_MELODY_TPQ) < 1e-2);
  }
  free(buf);
  sg_notes_free(&l);
  sg_notes_free(&back);
  fixture_free(&f);
}

static void melody_syntax_errors(void **state) {
  (void)state;
  static const struct {
    const char *text;
    int col;
  } bad[] = {{"E4/4 G4/3", 9}, {"E4/4 H4", 6}, {"E/4", 2},   {"E4/4 G4/4x", 10},
             {"r/8 ", 1},      {"C11/4", 1},   {"E4/64.", 4}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    sg_melody m;
    sg_diag d;
    sg_diag_clear(&d);
    assert_int_not_equal(sg_melody_parse(bad[i].text, 0, &m, &d), SG_OK);
    printf("'%s': col %d: %s\n", bad[i].text, d.col, d.message);
    assert_int_equal(d.col, bad[i].col);
  }
  /* In a spec: the file's line and the column inside the quoted value. */
  char text[2048];
  snprintf(text, sizeof text, MEL_YAML, "E4/4 G4/5");
  sg_song *s = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_song_parse(text, strlen(text), "mel.yaml", &s, &d), SG_E_SPEC);
  printf("%s:%d:%d: %s\n", d.file, d.line, d.col, d.message);
  assert_int_equal(d.line, 12);
  assert_int_equal(d.col, 22);
  /* melody with a pattern, or with another role, is refused. */
  snprintf(text, sizeof text, MEL_YAML, "E4/4\"\n    pattern: \"x...");
  assert_int_equal(sg_song_parse(text, strlen(text), "mel.yaml", &s, &d), SG_E_SPEC);
  assert_non_null(strstr(d.message, "both 'melody' and 'pattern'"));
  snprintf(text, sizeof text, MEL_YAML, "E4/4\"\n    role: \"pad");
  assert_int_equal(sg_song_parse(text, strlen(text), "mel.yaml", &s, &d), SG_E_SPEC);
  assert_non_null(strstr(d.message, "role: lead"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lead_generated),
      cmocka_unit_test(lead_user_melody_note_for_note),
      cmocka_unit_test(melody_syntax_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
