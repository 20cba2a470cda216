/* Theory: note names, all 24 keys and the modes, a table of chord symbols with their expected
 * pitch-class sets and bass, parse-error columns, progressions, guitar playability of every
 * chord in the table and pad voice-leading bounds. */
#include "sg_test.h"

#include "stemgate/theory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint16_t mask_of(int root, const char *semis) {
  /* semis: space-separated semitones above the root */
  uint16_t m = 0;
  const char *p = semis;
  while (*p) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p)
      break;
    m |= (uint16_t)(1u << ((root + v) % 12));
    p = end;
  }
  return m;
}

typedef struct chord_case {
  const char *sym;
  int root;
  const char *semis; /* above the root */
  int bass;          /* pitch class of the bass */
} chord_case;

/* Expected sets per Levine, "The Jazz Theory Book" conventions (see theory.h). */
static const chord_case chords[] = {
    {"C", 0, "0 4 7", 0},
    {"Cm", 0, "0 3 7", 0},
    {"C-", 0, "0 3 7", 0},
    {"Cmin", 0, "0 3 7", 0},
    {"Gmaj7", 7, "0 4 7 11", 7},
    {"Em7", 4, "0 3 7 10", 4},
    {"Am7", 9, "0 3 7 10", 9},
    {"D7", 2, "0 4 7 10", 2},
    {"Cmaj7", 0, "0 4 7 11", 0},
    {"CM7", 0, "0 4 7 11", 0},
    {"C\xCE\x94", 0, "0 4 7 11", 0},
    {"C\xCE\x94"
     "7",
     0, "0 4 7 11", 0},
    {"C^7", 0, "0 4 7 11", 0},
    {"B7(b9)", 11, "0 4 7 10 13", 11},
    {"B7b9", 11, "0 4 7 10 13", 11},
    {"Ab6/9", 8, "0 4 7 9 14", 8},
    {"C69", 0, "0 4 7 9 14", 0},
    {"Fm9", 5, "0 3 7 10 14", 5},
    {"Bbm7", 10, "0 3 7 10", 10},
    {"Eb13", 3, "0 4 7 10 14 21", 3},
    {"D7sus4", 2, "0 5 7 10", 2},
    {"Gadd9", 7, "0 4 7 14", 7},
    {"G(add9)", 7, "0 4 7 14", 7},
    {"Bm7b5", 11, "0 3 6 10", 11},
    {"Bm7(b5)", 11, "0 3 6 10", 11},
    {"E7#9", 4, "0 4 7 10 15", 4},
    {"C/E", 0, "0 4 7", 4},
    {"Cm(maj7)", 0, "0 3 7 11", 0},
    {"CmMaj7", 0, "0 3 7 11", 0},
    {"CmM7", 0, "0 3 7 11", 0},
    {"Cdim7", 0, "0 3 6 9", 0},
    {"C\xC2\xB0"
     "7",
     0, "0 3 6 9", 0},
    {"Cdim", 0, "0 3 6", 0},
    {"C\xC2\xB0", 0, "0 3 6", 0},
    {"Co", 0, "0 3 6", 0},
    {"Caug", 0, "0 4 8", 0},
    {"C+", 0, "0 4 8", 0},
    {"C+7", 0, "0 4 8 10", 0},
    {"C7#5", 0, "0 4 8 10", 0},
    {"C7+5", 0, "0 4 8 10", 0},
    {"C\xC3\xB8", 0, "0 3 6 10", 0},
    {"C\xC3\xB8"
     "7",
     0, "0 3 6 10", 0},
    {"C7alt", 0, "0 4 10 13 15 18 20", 0},
    {"G13#11", 7, "0 4 7 10 14 18 21", 7},
    {"Fmaj9", 5, "0 4 7 11 14", 5},
    {"Bb7b5", 10, "0 4 6 10", 10},
    {"A7sus2", 9, "0 2 7 10", 9},
    {"E5", 4, "0 7", 4},
    {"Dm6", 2, "0 3 7 9", 2},
    {"C6", 0, "0 4 7 9", 0},
    {"Csus", 0, "0 5 7", 0},
    {"Csus2", 0, "0 2 7", 0},
    {"Csus4", 0, "0 5 7", 0},
    {"C9sus4", 0, "0 5 7 10 14", 0},
    {"C9", 0, "0 4 7 10 14", 0},
    {"C11", 0, "0 4 7 10 14 17", 0},
    {"Cm11", 0, "0 3 7 10 14 17", 0},
    {"Cm13", 0, "0 3 7 10 14 17 21", 0},
    {"C13", 0, "0 4 7 10 14 21", 0},
    {"Cmaj13", 0, "0 4 7 11 14 21", 0},
    {"Cmaj7#11", 0, "0 4 7 11 18", 0},
    {"Cmaj9#11", 0, "0 4 7 11 14 18", 0},
    {"C7(b9,#11)", 0, "0 4 7 10 13 18", 0},
    {"C7(b9 b13)", 0, "0 4 7 10 13 20", 0},
    {"C7b9#9", 0, "0 4 7 10 13 15", 0},
    {"C-7", 0, "0 3 7 10", 0},
    {"Cmi7", 0, "0 3 7 10", 0},
    {"Cm7/Bb", 0, "0 3 7 10", 10},
    {"D/F#", 2, "0 4 7", 6},
    {"Am/G", 9, "0 3 7", 7},
    {"F#m7", 6, "0 3 7 10", 6},
    {"Gb7", 6, "0 4 7 10", 6},
    {"C#dim7", 1, "0 3 6 9", 1},
    {"Dbmaj7", 1, "0 4 7 11", 1},
    {"Cadd11", 0, "0 4 7 17", 0},
    {"Cmadd9", 0, "0 3 7 14", 0},
    {"C7omit3", 0, "0 7 10", 0},
    {"C2", 0, "0 4 7 14", 0},
    {"Cm6/9", 0, "0 3 7 9 14", 0},
    {"Fmaj7/A", 5, "0 4 7 11", 9},
    {"E7(#9)", 4, "0 4 7 10 15", 4},
    {"A7b13", 9, "0 4 7 10 20", 9},
};
#define N_CHORDS (sizeof chords / sizeof chords[0])

static void chord_table(void **state) {
  (void)state;
  assert_true(N_CHORDS >= 60);
  for (size_t i = 0; i < N_CHORDS; ++i) {
    sg_chord c;
    sg_diag d;
    sg_diag_clear(&d);
    sg_status st = sg_chord_parse(chords[i].sym, &c, &d);
    if (st != SG_OK)
      fail_msg("'%s' did not parse: %s", chords[i].sym, d.message);
    uint16_t want = mask_of(chords[i].root, chords[i].semis) | (uint16_t)(1u << chords[i].bass);
    if (c.pcs != want || c.root != chords[i].root || c.bass != chords[i].bass)
      fail_msg("'%s': pcs %03x root %d bass %d, expected %03x root %d bass %d", chords[i].sym,
               c.pcs, c.root, c.bass, want, chords[i].root, chords[i].bass);
  }
}

static void chord_qualities(void **state) {
  (void)state;
  sg_chord c;
  assert_int_equal(sg_chord_parse("G7", &c, NULL), SG_OK);
  assert_int_equal(c.quality, SG_CHORD_DOMINANT);
  assert_int_equal(c.third, 4);
  assert_int_equal(c.seventh, 10);
  assert_int_equal(sg_chord_parse("Bm7b5", &c, NULL), SG_OK);
  assert_int_equal(c.quality, SG_CHORD_HALF_DIM);
  assert_int_equal(sg_chord_parse("Cm(maj7)", &c, NULL), SG_OK);
  assert_int_equal(c.quality, SG_CHORD_MINOR_MAJOR);
  assert_int_equal(sg_chord_parse("E5", &c, NULL), SG_OK);
  assert_int_equal(c.quality, SG_CHORD_POWER);
  assert_int_equal(sg_chord_parse("Ab6/9", &c, NULL), SG_OK);
  assert_true(c.sixth);
  assert_int_equal(c.seventh, -1);
  assert_int_equal(c.has_slash, 0);
  assert_int_equal(sg_chord_parse("C7alt", &c, NULL), SG_OK);
  assert_true(c.alt & SG_ALT_ALT);
  assert_int_equal(c.fifth, -1);
  assert_int_equal(sg_chord_parse("  Ebmaj7  ", &c, NULL), SG_OK);
  assert_string_equal(c.symbol, "Ebmaj7");
}

typedef struct bad_case {
  const char *sym;
  int col;
} bad_case;

static void chord_errors_have_columns(void **state) {
  (void)state;
  static const bad_case bad[] = {
      {"H7", 1},    /* not a note */
      {"Cq7", 2},   /* unknown quality */
      {"Cmaj8", 5}, /* maj needs 7/9/11/13 */
      {"C7(b9", 3}, /* unclosed parenthesis points at '(' */
      {"C7b10", 4}, /* alteration needs 5/9/11/13 */
      {"C/H", 3},   /* bad slash bass */
      {"C/E7", 4},  /* text after the bass */
      {"Cadd8", 5}, /* add needs 2/4/6/9/11/13 */
      {"Cmm7", 3},  /* second quality */
      {"C7)", 3},   /* ')' without '(' */
      {"", 1},      /* empty */
      {"c7", 1},    /* lower-case root */
      {"Csus3", 5}, /* sus needs 2/4 */
      {"C8", 2},    /* number */
      /* a fifth added tone: once written past the four-slot array (found by fuzz_theory) */
      {"C2alt2alt2alt2alt2", 18},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    sg_chord c;
    sg_diag d;
    sg_diag_clear(&d);
    sg_status st = sg_chord_parse(bad[i].sym, &c, &d);
    if (st != SG_E_PARSE || d.col != bad[i].col)
      fail_msg("'%s': status %d col %d (%s), expected SG_E_PARSE at column %d", bad[i].sym, st,
               d.col, d.message, bad[i].col);
    assert_true(strlen(d.message) > 10);
  }
  /* Column offsets inside a chart. */
  sg_progression p;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_progression_parse("Gmaj7 Em7 | Am7 Dx7 |", NULL, 0, &p, &d), SG_E_PARSE);
  assert_int_equal(d.col, 18);
  sg_diag_clear(&d);
  assert_int_equal(sg_progression_parse("C | G", NULL, 10, &p, &d), SG_OK);
  assert_int_equal(sg_progression_parse("C | xyz", NULL, 10, &p, &d), SG_E_PARSE);
  assert_int_equal(d.col, 15);
}

static void pitch_names_and_spelling(void **state) {
  (void)state;
  int pc, letter;
  size_t used;
  assert_int_equal(sg_pc_parse("F#", &pc, &letter, &used), SG_OK);
  assert_int_equal(pc, 6);
  assert_int_equal(used, 2);
  assert_int_equal(sg_pc_parse("Bb", &pc, &letter, &used), SG_OK);
  assert_int_equal(pc, 10);
  assert_int_equal(sg_pc_parse("Cb", &pc, &letter, &used), SG_OK);
  assert_int_equal(pc, 11);
  assert_int_equal(sg_pc_parse("E\xE2\x99\xAD", &pc, &letter, &used), SG_OK);
  assert_int_equal(pc, 3);
  assert_int_equal(used, 4);
  assert_int_equal(sg_pc_parse("X", &pc, &letter, &used), SG_E_PARSE);
  assert_string_equal(sg_pc_name(1, 1), "Db");
  assert_string_equal(sg_pc_name(1, 0), "C#");
  char out[8];
  assert_string_equal(sg_spell(2, 5, out), "E#");
  assert_string_equal(sg_spell(0, 11, out), "Cb");
  sg_key k;
  assert_int_equal(sg_key_parse("F# major", &k, NULL), SG_OK);
  assert_string_equal(sg_key_spell(&k, 5, out), "E#");
  assert_int_equal(sg_key_parse("Bb major", &k, NULL), SG_OK);
  assert_string_equal(sg_key_spell(&k, 3, out), "Eb");
  assert_string_equal(sg_key_spell(&k, 1, out), "Db"); /* chromatic: flat key -> flat */
  assert_int_equal(sg_key_parse("E major", &k, NULL), SG_OK);
  assert_string_equal(sg_key_spell(&k, 10, out), "A#");
}

static void all_24_keys_and_modes(void **state) {
  (void)state;
  /* Circle of fifths: signature of every major key and its relative minor. */
  static const struct {
    const char *major, *minor;
    int sig;
  } keys[] = {
      {"C", "Am", 0},   {"G", "Em", 1},   {"D", "Bm", 2},   {"A", "F#m", 3},
      {"E", "C#m", 4},  {"B", "G#m", 5},  {"F#", "D#m", 6}, {"Db", "Bbm", -5},
      {"Ab", "Fm", -4}, {"Eb", "Cm", -3}, {"Bb", "Gm", -2}, {"F", "Dm", -1},
  };
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; ++i) {
    sg_key maj, min;
    char buf[64];
    snprintf(buf, sizeof buf, "%s major", keys[i].major);
    assert_int_equal(sg_key_parse(buf, &maj, NULL), SG_OK);
    assert_int_equal(sg_key_parse(keys[i].major, &maj, NULL), SG_OK);
    assert_int_equal(maj.mode, SG_MODE_MAJOR);
    assert_int_equal(sg_key_signature(&maj), keys[i].sig);
    assert_int_equal(sg_key_parse(keys[i].minor, &min, NULL), SG_OK);
    assert_int_equal(min.mode, SG_MODE_MINOR);
    assert_int_equal(sg_key_signature(&min), keys[i].sig);
    /* Relative minor shares the scale, rotated. */
    int a[7], b[7];
    sg_key_scale(&maj, a);
    sg_key_scale(&min, b);
    for (int j = 0; j < 7; ++j)
      assert_int_equal(a[(j + 5) % 7], b[j]);
    /* Scale spelling uses each letter once. */
    int seen = 0;
    for (int j = 0; j < 7; ++j) {
      char nm[8];
      sg_key_spell(&maj, a[j], nm);
      seen |= 1 << (strchr("CDEFGAB", nm[0]) - "CDEFGAB");
    }
    assert_int_equal(seen, 0x7f);
    /* "X minor" long form too. */
    snprintf(buf, sizeof buf, "%.*s minor", (int)(strlen(keys[i].minor) - 1), keys[i].minor);
    assert_int_equal(sg_key_parse(buf, &min, NULL), SG_OK);
    assert_int_equal(min.mode, SG_MODE_MINOR);
  }
  /* Modes: scales and signatures of the parent major. */
  static const struct {
    const char *s;
    sg_mode m;
    int sig;
    int third; /* semitones of the scale's third */
  } modes[] = {
      {"D dorian", SG_MODE_DORIAN, 0, 3},  {"E phrygian", SG_MODE_PHRYGIAN, 0, 3},
      {"F lydian", SG_MODE_LYDIAN, 0, 4},  {"G mixolydian", SG_MODE_MIXOLYDIAN, 0, 4},
      {"A aeolian", SG_MODE_MINOR, 0, 3},  {"B locrian", SG_MODE_LOCRIAN, 0, 3},
      {"C ionian", SG_MODE_MAJOR, 0, 4},   {"Bb Mixolydian", SG_MODE_MIXOLYDIAN, -3, 4},
      {"F# Dorian", SG_MODE_DORIAN, 4, 3}, {"A harmonic minor", SG_MODE_HARMONIC_MINOR, 0, 3},
      {"Em", SG_MODE_MINOR, 1, 3},         {"G", SG_MODE_MAJOR, 1, 4},
      {"Ab", SG_MODE_MAJOR, -4, 4},        {"F# minor", SG_MODE_MINOR, 3, 3},
  };
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; ++i) {
    sg_key k;
    sg_diag d;
    sg_diag_clear(&d);
    if (sg_key_parse(modes[i].s, &k, &d) != SG_OK)
      fail_msg("%s: %s", modes[i].s, d.message);
    assert_int_equal(k.mode, modes[i].m);
    assert_int_equal(sg_key_signature(&k), modes[i].sig);
    int sc[7];
    sg_key_scale(&k, sc);
    assert_int_equal((sc[2] - sc[0] + 12) % 12, modes[i].third);
  }
  sg_key k;
  sg_key_parse("A harmonic minor", &k, NULL);
  assert_true(sg_key_contains(&k, 8));  /* G# */
  assert_false(sg_key_contains(&k, 7)); /* G */
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_key_parse("G majestic", &k, &d), SG_E_PARSE);
  assert_int_equal(d.col, 3);
  assert_int_equal(sg_key_parse("  Q minor", &k, &d), SG_E_PARSE);
  assert_int_equal(d.col, 3);
}

static void progressions(void **state) {
  (void)state;
  sg_progression p;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_progression_parse("Gmaj7 Em7 | Am7 D7 |", NULL, 0, &p, &d), SG_OK);
  assert_int_equal(p.bars, 2);
  assert_int_equal(p.n, 4);
  assert_int_equal(p.v[1].slot, 1);
  assert_int_equal(p.v[1].n_slots, 2);
  assert_int_equal(p.v[3].bar, 1);
  assert_int_equal(p.v[3].chord.root, 2);
  /* Repeats: '%' bar, '-' slot. */
  assert_int_equal(sg_progression_parse("| C - - G | % | F |", NULL, 0, &p, &d), SG_OK);
  assert_int_equal(p.bars, 3);
  assert_int_equal(p.n, 4 + 4 + 1);
  assert_int_equal(p.v[1].chord.root, 0);
  assert_int_equal(p.v[7].chord.root, 7);
  assert_int_equal(p.v[7].bar, 1);
  /* Roman numerals relative to the key. */
  sg_key key;
  sg_key_parse("G major", &key, NULL);
  assert_int_equal(sg_progression_named("I-vi-IV-V", &key, 0, &p, &d), SG_OK);
  assert_int_equal(p.n, 4);
  assert_int_equal(p.v[0].chord.root, 7);
  assert_int_equal(p.v[1].chord.root, 4);
  assert_int_equal(p.v[1].chord.quality, SG_CHORD_MINOR);
  assert_int_equal(p.v[2].chord.root, 0);
  assert_int_equal(p.v[3].chord.root, 2);
  sg_key_parse("A minor", &key, NULL);
  assert_int_equal(sg_progression_named("i-VI-III-VII", &key, 0, &p, &d), SG_OK);
  assert_int_equal(p.v[1].chord.root, 5);
  assert_int_equal(p.v[2].chord.root, 0);
  assert_int_equal(p.v[3].chord.root, 7);
  assert_int_equal(p.v[3].chord.quality, SG_CHORD_MAJOR);
  sg_key_parse("C", &key, NULL);
  assert_int_equal(sg_progression_named("ii-V-I", &key, 0, &p, &d), SG_OK);
  assert_int_equal(p.bars, 4); /* three chords hold the last for two bars */
  assert_int_equal(p.v[0].chord.quality, SG_CHORD_MINOR);
  assert_int_equal(p.v[1].chord.quality, SG_CHORD_DOMINANT);
  assert_int_equal(p.v[2].chord.seventh, 11);
  assert_int_equal(sg_progression_named("I-bVII-IV", &key, 0, &p, &d), SG_OK);
  assert_int_equal(p.v[1].chord.root, 10);
  assert_int_equal(sg_progression_named("blues", &key, 0, &p, &d), SG_OK);
  assert_int_equal(p.bars, 12);
  assert_int_equal(p.v[1].chord.root, 5);
  assert_int_equal(sg_progression_named("I-V7(b9)-vii\xC3\xB8"
                                        "7",
                                        &key, 0, &p, &d),
                   SG_OK);
  assert_true(p.v[1].chord.alt & SG_ALT_B9);
  assert_int_equal(p.v[2].chord.quality, SG_CHORD_HALF_DIM);
  assert_int_equal(sg_progression_parse("I vi | ii V", &key, 0, &p, &d), SG_OK);
  assert_int_equal(p.v[3].chord.root, 7);
  sg_diag_clear(&d);
  assert_int_equal(sg_progression_named("I-X-IV", &key, 0, &p, &d), SG_E_PARSE);
  assert_int_equal(d.col, 3);
  /* Defaults exist for every mode and stay diatonic to it. */
  for (int m = 0; m < SG_MODE_COUNT_; ++m) {
    sg_key mk = {2, 1, (sg_mode)m};
    assert_int_equal(sg_progression_default(&mk, &p), SG_OK);
    assert_true(p.n >= 2);
    for (int i = 0; i < p.n; ++i)
      assert_true(sg_key_contains(&mk, p.v[i].chord.root));
  }
}

static void guitar_voicings_are_playable(void **state) {
  (void)state;
  for (size_t i = 0; i < N_CHORDS; ++i) {
    sg_chord c;
    assert_int_equal(sg_chord_parse(chords[i].sym, &c, NULL), SG_OK);
    sg_guitar_voicing v;
    if (sg_voice_guitar(&c, NULL, &v) != SG_OK)
      fail_msg("no guitar voicing for %s", chords[i].sym);
    assert_true(v.n >= 4 && v.n <= 6);
    int used = 0, fmin = 99, fmax = 0;
    uint16_t have = 0;
    for (int k = 0; k < v.n; ++k) {
      assert_true(v.string[k] >= 0 && v.string[k] < 6);
      assert_false(used & (1 << v.string[k])); /* one note per string */
      used |= 1 << v.string[k];
      assert_int_equal(v.key[k], sg_guitar_tuning[v.string[k]] + v.fret[k]);
      if (k)
        assert_true(v.string[k] > v.string[k - 1]);
      if (v.fret[k] > 0) {
        fmin = v.fret[k] < fmin ? v.fret[k] : fmin;
        fmax = v.fret[k] > fmax ? v.fret[k] : fmax;
      }
      assert_true(c.pcs & (1u << (v.key[k] % 12))); /* only chord tones */
      have |= (uint16_t)(1u << (v.key[k] % 12));
    }
    if (fmax > 0 && fmax - fmin > 3)
      fail_msg("%s: fret span %d-%d", chords[i].sym, fmin, fmax);
    /* Fingers: fretted notes, where notes on the lowest fret may share one barre finger when
     * no open string sounds under the barre. */
    int fretted = 0, at_min = 0, first = -1, last = -1, open_under = 0;
    for (int k = 0; k < v.n; ++k)
      if (v.fret[k] > 0) {
        ++fretted;
        if (v.fret[k] == fmin) {
          ++at_min;
          if (first < 0)
            first = v.string[k];
          last = v.string[k];
        }
      }
    for (int k = 0; k < v.n; ++k)
      if (v.fret[k] == 0 && v.string[k] > first && v.string[k] < last)
        open_under = 1;
    int fingers = (at_min >= 2 && !open_under) ? 1 + fretted - at_min : fretted;
    if (fingers > 4)
      fail_msg("%s needs %d fingers", chords[i].sym, fingers);
    /* Lowest note is the root or the slash bass. */
    assert_int_equal(v.key[0] % 12, c.bass);
    if (c.third >= 0)
      assert_true(have & (1u << ((c.root + c.third) % 12)));
  }
}

static void pad_voice_leading(void **state) {
  (void)state;
  const char *iivi[] = {"Dm7", "G7", "Cmaj7", "Am7", "Dm7", "G7", "Cmaj7"};
  sg_pad_voicing prev, cur;
  memset(&prev, 0, sizeof prev);
  for (int voices = 3; voices <= 5; ++voices) {
    memset(&prev, 0, sizeof prev);
    for (size_t i = 0; i < sizeof iivi / sizeof iivi[0]; ++i) {
      sg_chord c;
      assert_int_equal(sg_chord_parse(iivi[i], &c, NULL), SG_OK);
      assert_int_equal(sg_voice_pad(&c, i ? &prev : NULL, voices, 48, 79, &cur), SG_OK);
      assert_int_equal(cur.n, voices);
      for (int k = 0; k < cur.n; ++k) {
        assert_true(cur.key[k] >= 48 && cur.key[k] <= 79);
        assert_true(c.pcs & (1u << (cur.key[k] % 12)));
        if (k)
          assert_true(cur.key[k] > cur.key[k - 1]);
      }
      if (i) {
        int mv = sg_voice_movement(&prev, &cur);
        if (mv > 7)
          fail_msg("%d voices %s -> %s moved %d semitones (limit 7)", voices, iivi[i - 1], iivi[i],
                   mv);
      }
      prev = cur;
    }
  }
  /* A voicing never leaves its register even over a long cycle of fifths. */
  const char *cycle[] = {"C7",  "F7", "Bb7", "Eb7", "Ab7", "Db7",
                         "Gb7", "B7", "E7",  "A7",  "D7",  "G7"};
  memset(&prev, 0, sizeof prev);
  for (int r = 0; r < 3; ++r)
    for (int i = 0; i < 12; ++i) {
      sg_chord c;
      sg_chord_parse(cycle[i], &c, NULL);
      assert_int_equal(sg_voice_pad(&c, prev.n ? &prev : NULL, 4, 52, 76, &cur), SG_OK);
      assert_true(cur.key[0] >= 52 && cur.key[3] <= 76);
      if (prev.n)
        assert_true(sg_voice_movement(&prev, &cur) <= 8);
      prev = cur;
    }
}

static void bass_helpers(void **state) {
  (void)state;
  sg_key k;
  sg_key_parse("C major", &k, NULL);
  assert_int_equal(sg_bass_approach(43, SG_APPROACH_CHROMATIC_BELOW, &k), 42);
  assert_int_equal(sg_bass_approach(43, SG_APPROACH_CHROMATIC_ABOVE, &k), 44);
  assert_int_equal(sg_bass_approach(43, SG_APPROACH_DIATONIC_BELOW, &k), 41); /* F under G */
  assert_int_equal(sg_bass_approach(40, SG_APPROACH_DIATONIC_BELOW, &k), 38); /* D under E */
  assert_int_equal(sg_bass_approach(40, SG_APPROACH_DIATONIC_ABOVE, &k), 41); /* F over E */
  assert_int_equal(sg_bass_approach(36, SG_APPROACH_FIFTH, &k), 31);
  assert_int_equal(sg_note_in_range(7, 28, 52, 40), 43);
  assert_int_equal(sg_note_in_range(7, 28, 52, -1), 43);
  assert_int_equal(sg_note_in_range(0, 28, 52, 30), 36);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(chord_table),
      cmocka_unit_test(chord_qualities),
      cmocka_unit_test(chord_errors_have_columns),
      cmocka_unit_test(pitch_names_and_spelling),
      cmocka_unit_test(all_24_keys_and_modes),
      cmocka_unit_test(progressions),
      cmocka_unit_test(guitar_voicings_are_playable),
      cmocka_unit_test(pad_voice_leading),
      cmocka_unit_test(bass_helpers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
