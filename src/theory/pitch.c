/* Pitch classes, note spelling and keys.
 *
 * Spelling works on (letter, pitch class) pairs: a scale degree keeps its letter and the
 * accidental is whatever makes the letter reach the pitch class, so every diatonic scale spells
 * each letter once (the rule behind key signatures). Key signatures are counted on the circle
 * of fifths from the parent major scale's tonic letter and accidental. */
#include "stemgate/theory.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const int natural_pc[7] = {0, 2, 4, 5, 7, 9, 11};    /* C D E F G A B */
static const int letter_fifths[7] = {0, 2, 4, -1, 1, 3, 5}; /* position on circle of fifths */
static const char letter_name[7] = {'C', 'D', 'E', 'F', 'G', 'A', 'B'};

/* Interval pattern of each mode (semitones above the tonic). */
static const int mode_steps[SG_MODE_COUNT_][7] = {
    {0, 2, 4, 5, 7, 9, 11}, /* major */
    {0, 2, 3, 5, 7, 9, 10}, /* dorian */
    {0, 1, 3, 5, 7, 8, 10}, /* phrygian */
    {0, 2, 4, 6, 7, 9, 11}, /* lydian */
    {0, 2, 4, 5, 7, 9, 10}, /* mixolydian */
    {0, 2, 3, 5, 7, 8, 10}, /* aeolian */
    {0, 1, 3, 5, 6, 8, 10}, /* locrian */
    {0, 2, 3, 5, 7, 8, 11}, /* harmonic minor */
};
/* Degree of the parent major scale the mode starts on (0 = ionian ... 6 = locrian). */
static const int mode_degree[SG_MODE_COUNT_] = {0, 1, 2, 3, 4, 5, 6, 5};

static int mod12(int x) { return ((x % 12) + 12) % 12; }

static int letter_index(char c) {
  switch (toupper((unsigned char)c)) {
  case 'C':
    return 0;
  case 'D':
    return 1;
  case 'E':
    return 2;
  case 'F':
    return 3;
  case 'G':
    return 4;
  case 'A':
    return 5;
  case 'B':
    return 6;
  default:
    return -1;
  }
}

sg_status sg_pc_parse(const char *s, int *pc, int *letter, size_t *consumed) {
  if (!s)
    return SG_E_INVAL;
  int li = letter_index(s[0]);
  if (li < 0)
    return SG_E_PARSE;
  size_t i = 1;
  int acc = 0;
  for (;;) {
    if (s[i] == '#') {
      ++acc;
      ++i;
    } else if (s[i] == 'b') {
      --acc;
      ++i;
    } else if ((unsigned char)s[i] == 0xE2 && (unsigned char)s[i + 1] == 0x99 &&
               ((unsigned char)s[i + 2] == 0xAF || (unsigned char)s[i + 2] == 0xAD)) {
      acc += (unsigned char)s[i + 2] == 0xAF ? 1 : -1; /* U+266F sharp, U+266D flat */
      i += 3;
    } else {
      break;
    }
  }
  if (acc > 2 || acc < -2)
    return SG_E_PARSE;
  if (pc)
    *pc = mod12(natural_pc[li] + acc);
  if (letter)
    *letter = li;
  if (consumed)
    *consumed = i;
  return SG_OK;
}

const char *sg_pc_name(int pc, int prefer_flats) {
  static const char *sharp[12] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
  static const char *flat[12] = {"C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"};
  pc = mod12(pc);
  return prefer_flats ? flat[pc] : sharp[pc];
}

char *sg_spell(int letter, int pc, char out[8]) {
  letter = ((letter % 7) + 7) % 7;
  int acc = mod12(pc - natural_pc[letter]);
  if (acc > 6)
    acc -= 12;
  int k = 0;
  out[k++] = letter_name[letter];
  if (acc > 2 || acc < -2) { /* not reachable from this letter: fall back to plain name */
    snprintf(out, 8, "%s", sg_pc_name(pc, 0));
    return out;
  }
  for (int i = 0; i < acc; ++i)
    out[k++] = '#';
  for (int i = 0; i < -acc; ++i)
    out[k++] = 'b';
  out[k] = 0;
  return out;
}

/* ---- keys ---------------------------------------------------------------------------------- */

static const struct {
  const char *word;
  sg_mode mode;
} mode_words[] = {
    {"major", SG_MODE_MAJOR},
    {"maj", SG_MODE_MAJOR},
    {"ionian", SG_MODE_MAJOR},
    {"minor", SG_MODE_MINOR},
    {"min", SG_MODE_MINOR},
    {"m", SG_MODE_MINOR},
    {"aeolian", SG_MODE_MINOR},
    {"natural minor", SG_MODE_MINOR},
    {"harmonic minor", SG_MODE_HARMONIC_MINOR},
    {"dorian", SG_MODE_DORIAN},
    {"phrygian", SG_MODE_PHRYGIAN},
    {"lydian", SG_MODE_LYDIAN},
    {"mixolydian", SG_MODE_MIXOLYDIAN},
    {"locrian", SG_MODE_LOCRIAN},
};

const char *sg_mode_name(sg_mode m) {
  static const char *names[SG_MODE_COUNT_] = {"major",      "dorian", "phrygian", "lydian",
                                              "mixolydian", "minor",  "locrian",  "harmonic minor"};
  return (unsigned)m < SG_MODE_COUNT_ ? names[m] : "?";
}

static int word_eq(const char *a, size_t n, const char *b) {
  if (strlen(b) != n)
    return 0;
  for (size_t i = 0; i < n; ++i)
    if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
      return 0;
  return 1;
}

sg_status sg_key_parse(const char *s, sg_key *k, sg_diag *d) {
  if (!s || !k)
    return SG_E_INVAL;
  size_t i = 0;
  while (s[i] == ' ' || s[i] == '\t')
    ++i;
  int pc, letter;
  size_t used;
  if (sg_pc_parse(s + i, &pc, &letter, &used) != SG_OK) {
    sg_diag_at(d, NULL, 0, (int)i + 1);
    return sg_diag_fail(d, SG_E_PARSE, "key '%s': expected a note name A-G at column %d", s,
                        (int)i + 1);
  }
  i += used;
  size_t wstart = i;
  while (s[wstart] == ' ' || s[wstart] == '\t')
    ++wstart;
  size_t wend = strlen(s);
  while (wend > wstart && (s[wend - 1] == ' ' || s[wend - 1] == '\t'))
    --wend;
  sg_mode mode = SG_MODE_MAJOR;
  if (wend > wstart) {
    /* "m" is case-sensitive ("EM" is not a key); everything else case-insensitive. */
    int found = 0;
    if (wend - wstart == 1 && s[wstart] == 'm') {
      mode = SG_MODE_MINOR;
      found = 1;
    }
    for (size_t w = 0; !found && w < sizeof mode_words / sizeof mode_words[0]; ++w) {
      if (strcmp(mode_words[w].word, "m") == 0)
        continue;
      if (word_eq(s + wstart, wend - wstart, mode_words[w].word)) {
        mode = mode_words[w].mode;
        found = 1;
      }
    }
    if (!found) {
      sg_diag_at(d, NULL, 0, (int)wstart + 1);
      return sg_diag_fail(d, SG_E_PARSE,
                          "key '%s': unknown mode '%.*s' at column %d (allowed: major, minor, m, "
                          "dorian, phrygian, lydian, mixolydian, aeolian, ionian, locrian, "
                          "harmonic minor)",
                          s, (int)(wend - wstart), s + wstart, (int)wstart + 1);
    }
  }
  k->tonic = pc;
  k->tonic_letter = letter;
  k->mode = mode;
  return SG_OK;
}

char *sg_key_name(const sg_key *k, char *out, size_t cap) {
  char nm[8];
  snprintf(out, cap, "%s %s", sg_spell(k->tonic_letter, k->tonic, nm), sg_mode_name(k->mode));
  return out;
}

void sg_key_scale(const sg_key *k, int pcs[7]) {
  sg_mode m = (unsigned)k->mode < SG_MODE_COUNT_ ? k->mode : SG_MODE_MAJOR;
  for (int i = 0; i < 7; ++i)
    pcs[i] = mod12(k->tonic + mode_steps[m][i]);
}

int sg_key_contains(const sg_key *k, int pc) {
  int s[7];
  sg_key_scale(k, s);
  for (int i = 0; i < 7; ++i)
    if (s[i] == mod12(pc))
      return 1;
  return 0;
}

int sg_key_signature(const sg_key *k) {
  sg_mode m = (unsigned)k->mode < SG_MODE_COUNT_ ? k->mode : SG_MODE_MAJOR;
  int deg = mode_degree[m];
  /* Parent major: its tonic is `deg` letters below, and major_steps[deg] semitones below. */
  int pl = ((k->tonic_letter - deg) % 7 + 7) % 7;
  int ppc = mod12(k->tonic - mode_steps[SG_MODE_MAJOR][deg]);
  int acc = mod12(ppc - natural_pc[pl]);
  if (acc > 6)
    acc -= 12;
  return letter_fifths[pl] + 7 * acc;
}

char *sg_key_spell(const sg_key *k, int pc, char out[8]) {
  int s[7];
  sg_key_scale(k, s);
  pc = mod12(pc);
  for (int i = 0; i < 7; ++i)
    if (s[i] == pc)
      return sg_spell(k->tonic_letter + i, pc, out);
  snprintf(out, 8, "%s", sg_pc_name(pc, sg_key_signature(k) < 0));
  return out;
}
