/* Chord symbols as musicians write them on lead sheets.
 *
 * The symbol after the root is read as a sequence of tokens (quality words, numbers,
 * alterations, add/omit/sus, parentheses and commas as separators), then the tones are built
 * from the collected facts, in the order Levine's "Jazz Theory Book" teaches them: triad
 * (third, fifth), seventh or sixth, then extensions, where a higher extension implies the lower
 * ones and an alteration replaces its natural degree. */
#include "stemgate/theory.h"

#include <ctype.h>
#include <string.h>

typedef struct facts {
  int minor, majseven, dim, halfdim, aug, sus2, sus4, power, six, six9, ext, alt_all;
  int omit3, omit5;
  unsigned alt;
  int adds[4];
  int n_adds;
  int quality_seen; /* a quality word or number was read (for '-' = minor, 'o' = dim) */
} facts;

static int starts(const char *s, size_t n, size_t i, const char *w) {
  size_t k = strlen(w);
  return i + k <= n && memcmp(s + i, w, k) == 0;
}

/* Reads a decimal number of up to 2 digits at i. */
static int read_num(const char *s, size_t n, size_t *i) {
  int v = 0, k = 0;
  while (*i < n && isdigit((unsigned char)s[*i]) && k < 2) {
    v = v * 10 + (s[*i] - '0');
    ++*i;
    ++k;
  }
  return k ? v : -1;
}

static sg_status fail_at(sg_diag *d, int col0, size_t i, const char *s, size_t n,
                         const char *what) {
  int col = col0 + (int)i + 1;
  sg_diag_at(d, NULL, d ? d->line : 0, col);
  return sg_diag_fail(d, SG_E_PARSE, "chord '%.*s': %s at column %d", (int)n, s, what, col);
}

/* Alteration degree (5, 9, 11, 13, or 6 = b13) with sign to a flag. */
static unsigned alteration_flag(int sign, int deg) {
  if (deg == 5)
    return sign < 0 ? SG_ALT_B5 : SG_ALT_S5;
  if (deg == 9)
    return sign < 0 ? SG_ALT_B9 : SG_ALT_S9;
  if (deg == 11)
    return sign > 0 ? SG_ALT_S11 : 0;
  if (deg == 13 || deg == 6)
    return sign < 0 ? SG_ALT_B13 : 0;
  return 0;
}

static int degree_semitones(int deg) {
  switch (deg) {
  case 2:
  case 9:
    return 14;
  case 4:
  case 11:
    return 17;
  case 6:
  case 13:
    return 21;
  default:
    return -1;
  }
}

static void add_tone(sg_chord *c, int t) {
  for (int i = 0; i < c->n_tones; ++i)
    if (c->tones[i] == t)
      return;
  if (c->n_tones < SG_CHORD_MAX_TONES)
    c->tones[c->n_tones++] = t;
}

sg_status sg_chord_parse_n(const char *s, size_t n, int col0, sg_chord *c, sg_diag *d) {
  if (!s || !c)
    return SG_E_INVAL;
  memset(c, 0, sizeof *c);
  size_t i = 0;
  while (i < n && isspace((unsigned char)s[i]))
    ++i;
  while (n > i && isspace((unsigned char)s[n - 1]))
    --n;
  size_t begin = i;
  if (i >= n)
    return fail_at(d, col0, i, s, n, "empty chord symbol");
  size_t used;
  if (sg_pc_parse(s + i, &c->root, &c->root_letter, &used) != SG_OK || i + used > n ||
      !isupper((unsigned char)s[i]))
    return fail_at(d, col0, i, s, n, "expected a root note A-G");
  i += used;
  facts f;
  memset(&f, 0, sizeof f);
  int paren = 0;
  size_t paren_at = 0;
  c->bass = c->root;
  c->bass_letter = c->root_letter;

  while (i < n) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == ' ' || ch == ',') {
      ++i;
      continue;
    }
    if (ch == '(') {
      if (paren)
        return fail_at(d, col0, i, s, n, "nested '('");
      paren = 1;
      paren_at = i;
      ++i;
      continue;
    }
    if (ch == ')') {
      if (!paren)
        return fail_at(d, col0, i, s, n, "')' without '('");
      paren = 0;
      ++i;
      continue;
    }
    if (ch == '/') {
      size_t j = i + 1;
      if (f.six && j < n && s[j] == '9') { /* 6/9 */
        f.six9 = 1;
        i = j + 1;
        continue;
      }
      if (starts(s, n, j, "maj") || starts(s, n, j, "M7")) { /* Cm/maj7 */
        i = j;
        continue;
      }
      int bpc, bl;
      if (j >= n || sg_pc_parse(s + j, &bpc, &bl, &used) != SG_OK || !isupper((unsigned char)s[j]))
        return fail_at(d, col0, j, s, n, "expected a bass note A-G after '/'");
      if (j + used != n)
        return fail_at(d, col0, j + used, s, n, "unexpected text after the slash bass");
      c->has_slash = 1;
      c->bass = bpc;
      c->bass_letter = bl;
      i = n;
      break;
    }
    /* Quality words, longest first. */
    if (starts(s, n, i, "maj") || starts(s, n, i, "Maj") || starts(s, n, i, "MA") || ch == 'M' ||
        ch == '^' || starts(s, n, i, "\xCE\x94") || starts(s, n, i, "\xE2\x88\x86")) {
      int triangle = ch == '^' || ch == 0xCE || ch == 0xE2;
      if (starts(s, n, i, "maj") || starts(s, n, i, "Maj"))
        i += 3;
      else if (starts(s, n, i, "MA"))
        i += 2;
      else if (ch == 'M' || ch == '^')
        i += 1;
      else
        i += ch == 0xCE ? 2 : 3;
      size_t at = i;
      int num = read_num(s, n, &i);
      if (num >= 0) {
        if (num != 7 && num != 9 && num != 11 && num != 13)
          return fail_at(d, col0, at, s, n, "expected 7, 9, 11 or 13 after 'maj'");
        f.majseven = 1;
        if (num > f.ext)
          f.ext = num;
      } else if (triangle) {
        f.majseven = 1;
        if (f.ext < 7)
          f.ext = 7;
      }
      f.quality_seen = 1;
      continue;
    }
    if (starts(s, n, i, "min") || starts(s, n, i, "mi") || ch == 'm' ||
        (ch == '-' && !f.quality_seen &&
         !(i + 1 < n && isdigit((unsigned char)s[i + 1]) && s[i + 1] != '7' && s[i + 1] != '6'))) {
      if (f.minor || f.dim || f.halfdim || f.aug)
        return fail_at(d, col0, i, s, n, "a second triad quality");
      i += starts(s, n, i, "min") ? 3 : starts(s, n, i, "mi") ? 2 : 1;
      f.minor = 1;
      f.quality_seen = 1;
      continue;
    }
    if (starts(s, n, i, "dim") || starts(s, n, i, "\xC2\xB0") ||
        (ch == 'o' && !f.quality_seen && !starts(s, n, i, "omit"))) {
      if (f.minor || f.dim || f.halfdim || f.aug)
        return fail_at(d, col0, i, s, n, "a second triad quality");
      i += starts(s, n, i, "dim") ? 3 : ch == 0xC2 ? 2 : 1;
      f.dim = 1;
      f.quality_seen = 1;
      continue;
    }
    if (starts(s, n, i, "\xC3\xB8") || starts(s, n, i, "\xC3\x98")) { /* ø Ø */
      if (f.minor || f.dim || f.halfdim || f.aug)
        return fail_at(d, col0, i, s, n, "a second triad quality");
      i += 2;
      f.halfdim = 1;
      f.quality_seen = 1;
      continue;
    }
    if (starts(s, n, i, "aug") ||
        (ch == '+' && !(i + 1 < n && isdigit((unsigned char)s[i + 1]) && f.ext > 0))) {
      if (f.minor || f.dim || f.halfdim || f.aug)
        return fail_at(d, col0, i, s, n, "a second triad quality");
      i += ch == '+' ? 1 : 3;
      f.aug = 1;
      f.quality_seen = 1;
      continue;
    }
    if (starts(s, n, i, "sus")) {
      i += 3;
      size_t at = i;
      int num = read_num(s, n, &i);
      if (num == -1 || num == 4)
        f.sus4 = 1;
      else if (num == 2)
        f.sus2 = 1;
      else if (num == 24) {
        f.sus2 = f.sus4 = 1;
      } else
        return fail_at(d, col0, at, s, n, "expected sus, sus2 or sus4");
      f.quality_seen = 1;
      continue;
    }
    if (starts(s, n, i, "alt")) {
      i += 3;
      f.alt_all = 1;
      if (f.ext < 7)
        f.ext = 7;
      f.quality_seen = 1;
      continue;
    }
    if (starts(s, n, i, "add")) {
      i += 3;
      int sign = 0;
      if (i < n && (s[i] == 'b' || s[i] == '-'))
        sign = -1, ++i;
      else if (i < n && (s[i] == '#' || s[i] == '+'))
        sign = 1, ++i;
      size_t at = i;
      int num = read_num(s, n, &i);
      int t = degree_semitones(num);
      if (t < 0)
        return fail_at(d, col0, at, s, n, "expected add2, add4, add6, add9, add11 or add13");
      if (f.n_adds >= (int)(sizeof f.adds / sizeof f.adds[0]))
        return fail_at(d, col0, at, s, n, "too many added tones");
      f.adds[f.n_adds++] = t + sign;
      f.quality_seen = 1;
      continue;
    }
    if (starts(s, n, i, "omit") || starts(s, n, i, "no")) {
      i += starts(s, n, i, "omit") ? 4 : 2;
      size_t at = i;
      int num = read_num(s, n, &i);
      if (num == 3)
        f.omit3 = 1;
      else if (num == 5)
        f.omit5 = 1;
      else
        return fail_at(d, col0, at, s, n, "expected omit3 or omit5");
      continue;
    }
    if (ch == 'b' || ch == '#' || ch == '-' || ch == '+' || starts(s, n, i, "\xE2\x99\xAD") ||
        starts(s, n, i, "\xE2\x99\xAF")) {
      int sign = (ch == 'b' || ch == '-' || starts(s, n, i, "\xE2\x99\xAD")) ? -1 : 1;
      i += ch == 0xE2 ? 3 : 1;
      size_t at = i;
      int num = read_num(s, n, &i);
      unsigned fl = alteration_flag(sign, num);
      if (!fl)
        return fail_at(d, col0, at, s, n, "expected an alteration b5 #5 b9 #9 #11 b13");
      f.alt |= fl;
      f.quality_seen = 1;
      continue;
    }
    if (isdigit(ch)) {
      size_t at = i;
      int num;
      if (starts(s, n, i, "69") && !(i + 2 < n && isdigit((unsigned char)s[i + 2]))) {
        num = 6; /* C69 = C6/9 */
        ++i;
      } else {
        num = read_num(s, n, &i);
      }
      if (num == 5 && !f.quality_seen) {
        f.power = 1;
      } else if (num == 6) {
        f.six = 1;
        if (i < n && s[i] == '9') { /* 69 */
          f.six9 = 1;
          ++i;
        }
      } else if (num == 7 || num == 9 || num == 11 || num == 13) {
        if (num > f.ext)
          f.ext = num;
      } else if (num == 2) {
        if (f.n_adds >= (int)(sizeof f.adds / sizeof f.adds[0])) /* "C2alt2alt2..." */
          return fail_at(d, col0, at, s, n, "too many added tones");
        f.adds[f.n_adds++] = 14; /* C2 = Cadd9 */
      } else if (num == 4) {
        f.sus4 = 1;
      } else {
        return fail_at(d, col0, at, s, n, "unexpected number (allowed 5, 6, 7, 9, 11, 13)");
      }
      f.quality_seen = 1;
      continue;
    }
    return fail_at(d, col0, i, s, n, "unknown chord quality");
  }
  if (paren)
    return fail_at(d, col0, paren_at, s, n, "'(' without ')'");
  if (f.power && (f.minor || f.dim || f.aug || f.halfdim || f.ext || f.six))
    return fail_at(d, col0, begin, s, n, "a power chord (5) takes no other quality");

  /* Triad. */
  c->third = f.minor || f.dim || f.halfdim ? 3 : 4;
  if (f.sus4)
    c->third = 5;
  else if (f.sus2)
    c->third = 2;
  if (f.power || f.omit3)
    c->third = -1;
  c->fifth = (f.dim || f.halfdim) ? 6 : f.aug ? 8 : 7;
  if (f.alt & SG_ALT_B5)
    c->fifth = 6;
  if (f.alt & SG_ALT_S5)
    c->fifth = 8;
  if (f.alt_all || f.omit5)
    c->fifth = -1;
  /* Seventh or sixth. */
  c->seventh = -1;
  if (f.halfdim)
    c->seventh = 10;
  if (f.ext >= 7 || f.alt_all)
    c->seventh = f.majseven ? 11 : f.dim ? 9 : 10;
  c->sixth = f.six;
  c->ext = f.ext > 7 ? f.ext : 0;
  c->alt = f.alt;
  if (f.alt_all)
    c->alt |= SG_ALT_ALT | SG_ALT_B9 | SG_ALT_S9 | SG_ALT_S11 | SG_ALT_B13;

  add_tone(c, 0);
  if (c->third >= 0)
    add_tone(c, c->third);
  if (f.sus2 && f.sus4)
    add_tone(c, 2);
  if (c->fifth >= 0)
    add_tone(c, c->fifth);
  if (c->seventh >= 0)
    add_tone(c, c->seventh);
  if (f.six)
    add_tone(c, 9);
  if (f.six9)
    add_tone(c, 14);
  int nine_altered = (c->alt & (SG_ALT_B9 | SG_ALT_S9)) != 0;
  if (c->ext >= 9 && !nine_altered)
    add_tone(c, 14);
  if (c->alt & SG_ALT_B9)
    add_tone(c, 13);
  if (c->alt & SG_ALT_S9)
    add_tone(c, 15);
  int minorish = f.minor || f.halfdim || f.dim;
  if (c->ext == 11 && !(c->alt & SG_ALT_S11) && !f.sus4)
    add_tone(c, 17);
  if (c->ext == 13 && minorish && !(c->alt & SG_ALT_S11))
    add_tone(c, 17);
  if (c->alt & SG_ALT_S11)
    add_tone(c, 18);
  if (c->ext == 13 && !(c->alt & SG_ALT_B13))
    add_tone(c, 21);
  if (c->alt & SG_ALT_B13)
    add_tone(c, 20);
  for (int a = 0; a < f.n_adds; ++a)
    add_tone(c, f.adds[a]);

  if (f.power)
    c->quality = SG_CHORD_POWER;
  else if (f.halfdim || (f.minor && c->fifth == 6 && c->seventh == 10))
    c->quality = SG_CHORD_HALF_DIM;
  else if (f.dim)
    c->quality = SG_CHORD_DIMINISHED;
  else if (f.aug)
    c->quality = SG_CHORD_AUGMENTED;
  else if (f.sus2 || f.sus4)
    c->quality = SG_CHORD_SUS;
  else if (f.minor)
    c->quality = f.majseven ? SG_CHORD_MINOR_MAJOR : SG_CHORD_MINOR;
  else if (c->seventh == 10)
    c->quality = SG_CHORD_DOMINANT;
  else
    c->quality = SG_CHORD_MAJOR;

  c->pcs = 0;
  for (int t = 0; t < c->n_tones; ++t)
    c->pcs |= (uint16_t)(1u << ((c->root + c->tones[t]) % 12));
  c->pcs |= (uint16_t)(1u << c->bass);
  size_t len = n - begin < sizeof c->symbol - 1 ? n - begin : sizeof c->symbol - 1;
  memcpy(c->symbol, s + begin, len);
  c->symbol[len] = 0;
  return SG_OK;
}

sg_status sg_chord_parse(const char *s, sg_chord *c, sg_diag *d) {
  if (!s)
    return SG_E_INVAL;
  return sg_chord_parse_n(s, strlen(s), 0, c, d);
}

int sg_chord_priority(const sg_chord *c, int pcs[SG_CHORD_MAX_TONES + 1]) {
  int order[3 * SG_CHORD_MAX_TONES + 4];
  int n = 0;
  /* Guide tones first (third, seventh/sixth), then colour (alterations, top extension), then
   * the root and the fifth, then the rest: Levine's rule of what a voicing can't lose. */
  if (c->third >= 0)
    order[n++] = c->third;
  if (c->seventh >= 0)
    order[n++] = c->seventh;
  if (c->sixth)
    order[n++] = 9;
  for (int t = c->n_tones - 1; t >= 0; --t) { /* highest colour tones first */
    int x = c->tones[t];
    if (x > 12)
      order[n++] = x;
  }
  order[n++] = 0;
  if (c->fifth >= 0)
    order[n++] = c->fifth;
  for (int t = 0; t < c->n_tones; ++t)
    order[n++] = c->tones[t];
  int k = 0;
  uint16_t seen = 0;
  for (int i = 0; i < n && k < SG_CHORD_MAX_TONES + 1; ++i) {
    int pc = (c->root + order[i]) % 12;
    if (seen & (1u << pc))
      continue;
    seen |= (uint16_t)(1u << pc);
    pcs[k++] = pc;
  }
  return k;
}
