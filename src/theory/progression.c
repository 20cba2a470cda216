/* Chord charts and roman-numeral progressions.
 *
 * A chart is bars separated by '|'; the chords of a bar share it evenly. Roman numerals are
 * read relative to the key's own scale (degree roots from sg_key_scale), with b/# moving the
 * root and the rest of the token read as an ordinary chord-symbol suffix, so "V7(b9)" in C is
 * exactly "G7(b9)". */
#include "stemgate/theory.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int is_roman_start(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && (s[i] == 'b' || s[i] == '#'))
    ++i;
  return i < n && (s[i] == 'I' || s[i] == 'V' || s[i] == 'i' || s[i] == 'v');
}

sg_status sg_roman_parse(const char *s, size_t len, const sg_key *key, int col0, sg_chord *c,
                         sg_diag *d) {
  if (!s || !key || !c)
    return SG_E_INVAL;
  size_t i = 0;
  int acc = 0;
  while (i < len && (s[i] == 'b' || s[i] == '#')) {
    acc += s[i] == '#' ? 1 : -1;
    ++i;
  }
  static const char *upper[7] = {"VII", "VI", "V", "IV", "III", "II", "I"};
  static const int degree[7] = {7, 6, 5, 4, 3, 2, 1};
  int deg = 0, lower = 0;
  size_t at = i;
  for (int r = 0; r < 7 && !deg; ++r) {
    size_t k = strlen(upper[r]);
    if (i + k > len)
      continue;
    int up = 1, lo = 1;
    for (size_t j = 0; j < k; ++j) {
      up &= s[i + j] == upper[r][j];
      lo &= s[i + j] == (char)tolower((unsigned char)upper[r][j]);
    }
    if (up || lo) {
      deg = degree[r];
      lower = lo;
      i += k;
    }
  }
  if (!deg) {
    int col = col0 + (int)at + 1;
    sg_diag_at(d, NULL, d ? d->line : 0, col);
    return sg_diag_fail(d, SG_E_PARSE, "'%.*s': expected a roman numeral I-VII at column %d",
                        (int)len, s, col);
  }
  int scale[7];
  sg_key_scale(key, scale);
  int pc = ((scale[deg - 1] + acc) % 12 + 12) % 12;
  int letter = (key->tonic_letter + deg - 1) % 7;
  char text[64];
  char nm[8];
  sg_spell(letter, pc, nm);
  const char *suffix = s + i;
  size_t slen = len - i;
  int is_dimlike = slen > 0 && (suffix[0] == 'o' || (unsigned char)suffix[0] == 0xC2 ||
                                (unsigned char)suffix[0] == 0xC3 ||
                                (slen >= 3 && memcmp(suffix, "dim", 3) == 0));
  const char *m = lower && !is_dimlike ? "m" : "";
  if (slen > 40)
    slen = 40;
  int prefix = snprintf(text, sizeof text, "%s%s", nm, m);
  snprintf(text + prefix, sizeof text - (size_t)prefix, "%.*s", (int)slen, suffix);
  sg_diag tmp;
  sg_diag_clear(&tmp);
  sg_status st = sg_chord_parse_n(text, strlen(text), 0, c, &tmp);
  if (st != SG_OK) {
    int col = col0 + (int)i + (tmp.col - prefix);
    if (col < col0 + 1)
      col = col0 + 1;
    sg_diag_at(d, NULL, d ? d->line : 0, col);
    return sg_diag_fail(d, SG_E_PARSE, "'%.*s': bad chord suffix at column %d", (int)len, s, col);
  }
  return SG_OK; /* c->symbol holds the chord as a symbol ("Fm7" for ii7 in Eb) */
}

static sg_status push(sg_progression *p, const sg_chord *c, int bar, int col, sg_diag *d) {
  if (p->n >= SG_PROG_MAX) {
    sg_diag_at(d, NULL, d ? d->line : 0, col);
    return sg_diag_fail(d, SG_E_LIMIT, "more than %d chords in one progression", SG_PROG_MAX);
  }
  sg_prog_chord *pc = &p->v[p->n++];
  pc->chord = *c;
  pc->bar = bar;
  pc->col = col;
  return SG_OK;
}

sg_status sg_progression_parse(const char *s, const sg_key *key, int col0, sg_progression *p,
                               sg_diag *d) {
  if (!s || !p)
    return SG_E_INVAL;
  memset(p, 0, sizeof *p);
  size_t n = strlen(s);
  size_t pos = 0;
  int bar = 0;
  /* Collect bar segments. */
  while (pos <= n) {
    size_t end = pos;
    while (end < n && s[end] != '|')
      ++end;
    /* tokens of [pos, end) */
    size_t tok_start[64], tok_len[64];
    int nt = 0;
    size_t i = pos;
    while (i < end) {
      while (i < end && isspace((unsigned char)s[i]))
        ++i;
      if (i >= end)
        break;
      size_t j = i;
      while (j < end && !isspace((unsigned char)s[j]))
        ++j;
      if (nt >= 64) {
        sg_diag_at(d, NULL, d ? d->line : 0, col0 + (int)i + 1);
        return sg_diag_fail(d, SG_E_LIMIT, "more than 64 chords in one bar (column %d)",
                            col0 + (int)i + 1);
      }
      tok_start[nt] = i;
      tok_len[nt] = j - i;
      ++nt;
      i = j;
    }
    if (nt == 0) {
      /* Empty segments are allowed only before the first and after the last bar. */
      size_t k = end;
      int more = 0;
      while (k < n) {
        if (s[k] != '|' && !isspace((unsigned char)s[k])) {
          more = 1;
          break;
        }
        ++k;
      }
      if (more && bar > 0) {
        int col = col0 + (int)end + 1;
        sg_diag_at(d, NULL, d ? d->line : 0, col);
        return sg_diag_fail(d, SG_E_PARSE, "empty bar before column %d (write %% to repeat a bar)",
                            col);
      }
      if (end >= n)
        break;
      pos = end + 1;
      continue;
    }
    if (nt == 1 && tok_len[0] == 1 && s[tok_start[0]] == '%') {
      int col = col0 + (int)tok_start[0] + 1;
      if (bar == 0) {
        sg_diag_at(d, NULL, d ? d->line : 0, col);
        return sg_diag_fail(d, SG_E_PARSE, "'%%' at column %d repeats a bar, but there is none",
                            col);
      }
      int first = p->n;
      for (int k = 0; k < first; ++k) {
        if (p->v[k].bar != bar - 1)
          continue;
        sg_status st = push(p, &p->v[k].chord, bar, col, d);
        if (st != SG_OK)
          return st;
        p->v[p->n - 1].slot = p->v[k].slot;
        p->v[p->n - 1].n_slots = p->v[k].n_slots;
      }
    } else {
      for (int t = 0; t < nt; ++t) {
        const char *tok = s + tok_start[t];
        size_t tl = tok_len[t];
        int col = col0 + (int)tok_start[t] + 1;
        sg_chord c;
        if (tl == 1 && (tok[0] == '-' || tok[0] == '%')) {
          if (p->n == 0) {
            sg_diag_at(d, NULL, d ? d->line : 0, col);
            return sg_diag_fail(d, SG_E_PARSE,
                                "'%c' at column %d repeats a chord, but there is "
                                "none before it",
                                tok[0], col);
          }
          c = p->v[p->n - 1].chord;
        } else if (tok[0] >= 'A' && tok[0] <= 'G') {
          sg_status st = sg_chord_parse_n(tok, tl, col0 + (int)tok_start[t], &c, d);
          if (st != SG_OK)
            return st;
        } else if (key && is_roman_start(tok, tl)) {
          sg_status st = sg_roman_parse(tok, tl, key, col0 + (int)tok_start[t], &c, d);
          if (st != SG_OK)
            return st;
        } else {
          sg_diag_at(d, NULL, d ? d->line : 0, col);
          return sg_diag_fail(d, SG_E_PARSE,
                              "'%.*s' at column %d is not a chord (expected a root A-G%s)", (int)tl,
                              tok, col, key ? " or a roman numeral" : "");
        }
        sg_status st = push(p, &c, bar, col, d);
        if (st != SG_OK)
          return st;
        p->v[p->n - 1].slot = t;
        p->v[p->n - 1].n_slots = nt;
      }
    }
    ++bar;
    if (end >= n)
      break;
    pos = end + 1;
  }
  p->bars = bar;
  if (p->n == 0) {
    sg_diag_at(d, NULL, d ? d->line : 0, col0 + 1);
    return sg_diag_fail(d, SG_E_PARSE, "no chords in '%s'", s);
  }
  return SG_OK;
}

static const struct {
  const char *name;
  const char *romans;
} named[] = {
    {"blues", "I7 IV7 I7 I7 IV7 IV7 I7 I7 V7 IV7 I7 V7"},
    {"minor-blues", "i7 iv7 i7 i7 iv7 iv7 i7 i7 VI7 V7 i7 V7"},
    {"andalusian", "i VII VI V"},
    {"canon", "I V vi iii IV I IV V"},
    {"pachelbel", "I V vi iii IV I IV V"},
    {"doo-wop", "I vi IV V"},
    {"axis", "I V vi IV"},
    {"turnaround", "I vi ii V"},
    {"ii-V-I", "ii7 V7 Imaj7"},
    {"jazz-turnaround", "Imaj7 vi7 ii7 V7"},
};

static int eq_ci(const char *a, const char *b) {
  for (; *a && *b; ++a, ++b)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return 0;
  return *a == *b;
}

sg_status sg_progression_named(const char *name, const sg_key *key, int col0, sg_progression *p,
                               sg_diag *d) {
  if (!name || !key || !p)
    return SG_E_INVAL;
  memset(p, 0, sizeof *p);
  const char *src = name;
  int table = 0;
  for (size_t k = 0; k < sizeof named / sizeof named[0]; ++k)
    if (eq_ci(name, named[k].name)) {
      src = named[k].romans;
      table = 1;
    }
  size_t n = strlen(src);
  size_t i = 0;
  int bar = 0;
  while (i < n) {
    while (i < n && (src[i] == '-' || src[i] == '|' || isspace((unsigned char)src[i])))
      ++i;
    if (i >= n)
      break;
    size_t j = i;
    while (j < n && !(src[j] == '-' || src[j] == '|' || isspace((unsigned char)src[j])))
      ++j;
    sg_chord c;
    int tcol = table ? col0 : col0 + (int)i;
    sg_status st;
    if (src[i] >= 'A' && src[i] <= 'G')
      st = sg_chord_parse_n(src + i, j - i, tcol, &c, d);
    else
      st = sg_roman_parse(src + i, j - i, key, tcol, &c, d);
    if (st != SG_OK)
      return st;
    st = push(p, &c, bar, tcol + 1, d);
    if (st != SG_OK)
      return st;
    p->v[p->n - 1].slot = 0;
    p->v[p->n - 1].n_slots = 1;
    ++bar;
    i = j;
  }
  if (p->n == 0) {
    sg_diag_at(d, NULL, d ? d->line : 0, col0 + 1);
    return sg_diag_fail(d, SG_E_PARSE, "empty progression '%s'", name);
  }
  if (p->n == 3) { /* keep four-bar phrases: hold the last chord for two bars */
    p->v[3] = p->v[2];
    p->v[3].bar = 3;
    p->n = 4;
    bar = 4;
  }
  p->bars = bar;
  return SG_OK;
}

sg_status sg_progression_default(const sg_key *key, sg_progression *p) {
  static const char *by_mode[SG_MODE_COUNT_] = {
      "I vi IV V",           /* major */
      "i7 IV7 i7 IV7",       /* dorian: the raised sixth lives in IV7 */
      "i II i vii",          /* phrygian: II is the flat second */
      "I II I II",           /* lydian: II major carries the #4 */
      "I VII IV I",          /* mixolydian: VII is the flat seventh */
      "i VI III VII",        /* minor */
      "i\xC2\xB0 II iii II", /* locrian */
      "i iv V7 i",           /* harmonic minor */
  };
  if (!key || !p)
    return SG_E_INVAL;
  sg_mode m = (unsigned)key->mode < SG_MODE_COUNT_ ? key->mode : SG_MODE_MAJOR;
  return sg_progression_named(by_mode[m], key, 0, p, NULL);
}
