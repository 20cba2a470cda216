/* A user's own melody line in note names with durations (the spec's `melody:`), next to the chord
 * and pattern parsers. The syntax is documented in theory.h; every error names the character
 * and its column. Durations are counted in ticks of 1/192 whole note (48 per quarter, the
 * compose grid), so dotted and triplet values stay whole numbers. */
#include "stemgate/notes.h"
#include "stemgate/theory.h"

#include <stdio.h>
#include <string.h>

static sg_status merr(sg_diag *d, int col0, size_t i, const char *msg, const char *s) {
  int col = col0 + (int)i + 1;
  char what[16];
  size_t k = 0;
  while (s[i + k] && s[i + k] != ' ' && s[i + k] != '\t' && s[i + k] != '\n' && k < 12) {
    what[k] = s[i + k];
    ++k;
  }
  what[k] = '\0';
  sg_diag_at(d, NULL, d ? d->line : 0, col);
  return sg_diag_fail(d, SG_E_PARSE, "%s at column %d ('%s')", msg, col, what);
}

/* One duration after '/': N (1 2 4 8 16 32 64), then any number of '.' (each adds half the
 * previous addition) and an optional 't' (triplet: two thirds). Returns ticks, or -1. */
static int parse_value(const char *s, size_t *i) {
  int n = 0, digits = 0;
  while (s[*i] >= '0' && s[*i] <= '9' && digits < 3) {
    n = n * 10 + (s[*i] - '0');
    ++*i;
    ++digits;
  }
  if (!digits || (n != 1 && n != 2 && n != 4 && n != 8 && n != 16 && n != 32 && n != 64))
    return -1;
  int base = 768 / n; /* in 1/768 whole notes, so a dotted 32nd and a 16th triplet stay exact */
  int t = base, add = base;
  while (s[*i] == '.') {
    add /= 2;
    t += add;
    ++*i;
  }
  if (s[*i] == 't') {
    t = t * 2 / 3;
    ++*i;
  }
  /* Back to ticks (1/192 whole); a value finer than a tick is refused. */
  if (t % 4)
    return -1;
  return t / 4;
}

sg_status sg_melody_parse(const char *s, int col0, sg_melody *m, sg_diag *d) {
  if (!s || !m)
    return sg_diag_fail(d, SG_E_INVAL, "sg_melody_parse: NULL argument");
  memset(m, 0, sizeof *m);
  int dur = SG_MELODY_TPQ; /* a quarter until a duration is written */
  size_t i = 0;
  int64_t at = 0;
  while (s[i]) {
    char ch = s[i];
    if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '|' || ch == ',') {
      ++i;
      continue;
    }
    size_t tok = i;
    int key = -1;
    if (ch == 'r' || ch == 'R') {
      ++i;
    } else {
      int pc, letter;
      size_t used = 0;
      if (sg_pc_parse(s + i, &pc, &letter, &used) != SG_OK)
        return merr(d, col0, tok, "expected a note (C4, F#3, Bb5) or a rest 'r'", s);
      i += used;
      int sign = 1, oct = 0, digits = 0;
      if (s[i] == '-') {
        sign = -1;
        ++i;
      }
      while (s[i] >= '0' && s[i] <= '9' && digits < 2) {
        oct = oct * 10 + (s[i] - '0');
        ++i;
        ++digits;
      }
      if (!digits)
        return merr(d, col0, i, "a note needs its octave (C4 is middle C)", s);
      /* Scientific pitch: C4 = 60. The letter's octave, so B#3 is C4 and Cb4 is B3. */
      static const int letter_pc[7] = {0, 2, 4, 5, 7, 9, 11};
      int shift = pc - letter_pc[letter];
      if (shift > 6)
        shift -= 12;
      if (shift < -6)
        shift += 12;
      key = 12 * (sign * oct + 1) + letter_pc[letter] + shift;
      if (key < 0 || key > 127)
        return merr(d, col0, tok, "note outside MIDI 0..127 (C-1..G9)", s);
    }
    if (s[i] == '/') {
      ++i;
      int total = 0;
      for (;;) {
        size_t vi = i;
        int v = parse_value(s, &i);
        if (v <= 0)
          return merr(d, col0, vi,
                      "expected a duration 1 2 4 8 16 32 or 64 (then '.' dotted, 't' triplet)", s);
        total += v;
        if (s[i] != '+')
          break;
        ++i; /* '+': tied to another value, "B4/2+8" */
      }
      dur = total;
    }
    unsigned flags = 0;
    if (s[i] == '!') { /* accent */
      flags = SG_NOTE_ACCENT;
      ++i;
    }
    if (s[i] && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' && s[i] != '|' &&
        s[i] != ',')
      return merr(d, col0, i, "unexpected character after a note", s);
    if (at + dur > (int64_t)1 << 30)
      return merr(d, col0, tok, "melody too long", s);
    if (key >= 0) {
      if (m->n >= SG_MELODY_MAX) {
        int col = col0 + (int)tok + 1;
        sg_diag_at(d, NULL, d ? d->line : 0, col);
        return sg_diag_fail(d, SG_E_LIMIT, "melody longer than %d notes at column %d",
                            SG_MELODY_MAX, col);
      }
      sg_melody_note *n = &m->v[m->n++];
      n->key = key;
      n->start = (int)at;
      n->len = dur;
      n->flags = flags;
      n->col = col0 + (int)tok + 1;
    }
    at += dur;
  }
  if (m->n == 0) {
    sg_diag_at(d, NULL, d ? d->line : 0, col0 + 1);
    return sg_diag_fail(d, SG_E_PARSE, "the melody has no notes (write e.g. \"E4/4 G4/8 A4/8\")");
  }
  m->length = (int)at;
  return SG_OK;
}
