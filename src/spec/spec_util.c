/* Spec module: lookups over a parsed song, parameter access with positions, the strict scalar
 * grammars (numbers, exact decimals, song times). Did-you-mean uses core's sg_suggest. */
#include "spec_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- scalar grammars ---------------------------------------------------------------------- */

static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

static int lower(int ch) { return (ch >= 'A' && ch <= 'Z') ? ch - 'A' + 'a' : ch; }

int sg__ieq(const char *a, const char *b) {
  if (!a || !b)
    return 0;
  while (*a && lower((unsigned char)*a) == lower((unsigned char)*b)) {
    ++a;
    ++b;
  }
  return *a == '\0' && *b == '\0';
}

/* Length of the strict number grammar at s (0 when none). */
static size_t number_span(const char *s) {
  const char *p = s;
  if (*p == '+' || *p == '-')
    ++p;
  size_t int_digits = 0, frac_digits = 0;
  while (is_digit(*p)) {
    ++p;
    ++int_digits;
  }
  if (*p == '.') {
    ++p;
    while (is_digit(*p)) {
      ++p;
      ++frac_digits;
    }
  }
  if (int_digits + frac_digits == 0)
    return 0;
  if (*p == 'e' || *p == 'E') {
    const char *q = p + 1;
    if (*q == '+' || *q == '-')
      ++q;
    if (!is_digit(*q))
      return 0;
    while (is_digit(*q))
      ++q;
    p = q;
  }
  return (size_t)(p - s);
}

int sg__parse_number(const char *s, double *out) {
  if (!s || !*s)
    return 0;
  size_t n = number_span(s);
  if (n == 0 || s[n] != '\0')
    return 0;
  /* The grammar check above guarantees strtod sees only [+-digits.eE]; the library keeps the
   * C locale (it never calls setlocale), so '.' is the decimal point. */
  char *end = NULL;
  double v = strtod(s, &end);
  if (end != s + n || !isfinite(v))
    return 0;
  if (out)
    *out = v;
  return 1;
}

int sg__parse_integer(const char *s, long long *out) {
  if (!s || !*s)
    return 0;
  const char *p = s;
  int neg = 0;
  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  if (!is_digit(*p))
    return 0;
  unsigned long long v = 0;
  for (; is_digit(*p); ++p) {
    unsigned d = (unsigned)(*p - '0');
    if (v > (9223372036854775807ULL - d) / 10)
      return 0;
    v = v * 10 + d;
  }
  if (*p)
    return 0;
  if (out)
    *out = neg ? -(long long)v : (long long)v;
  return 1;
}

int sg__parse_decimal(const char *s, int max_decimals, int64_t *num, int64_t *den) {
  if (!s || !*s)
    return -1;
  const char *p = s;
  int neg = 0;
  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  if (!is_digit(*p))
    return -1;
  int64_t ip = 0;
  for (; is_digit(*p); ++p) {
    ip = ip * 10 + (*p - '0');
    if (ip > 1000000000000LL)
      return -3;
  }
  int64_t frac = 0, d = 1;
  if (*p == '.') {
    ++p;
    const char *fs = p;
    while (is_digit(*p))
      ++p;
    if (p == fs)
      return -1; /* "140." */
    const char *fe = p;
    while (fe > fs && fe[-1] == '0') /* "140.50" -> 1405/10 */
      --fe;
    if (fe - fs > max_decimals)
      return -2;
    for (const char *q = fs; q < fe; ++q) {
      frac = frac * 10 + (*q - '0');
      d *= 10;
    }
  }
  if (*p)
    return -1;
  *num = (neg ? -1 : 1) * (ip * d + frac);
  *den = d;
  return 0;
}

int sg__parse_time(const char *s, double *sec, const char **why) {
  static const char *const syntax = "expected m:ss, m:ss.sss or seconds (e.g. \"1:22\", "
                                    "\"1:22.5\", 82)";
  if (!s || !*s) {
    *why = syntax;
    return 0;
  }
  const char *colon = strchr(s, ':');
  if (!colon) {
    char buf[64];
    size_t n = strlen(s);
    if (n >= sizeof buf) {
      *why = syntax;
      return 0;
    }
    memcpy(buf, s, n + 1);
    if (n > 1 && buf[n - 1] == 's' && is_digit(buf[n - 2]))
      buf[n - 1] = '\0';
    double v;
    if (!sg__parse_number(buf, &v) || strchr(buf, 'e') || strchr(buf, 'E')) {
      *why = syntax;
      return 0;
    }
    if (v < 0) {
      *why = "a time must not be negative";
      return 0;
    }
    *sec = v;
    return 1;
  }
  /* minutes: digits only */
  long long minutes = 0;
  const char *p = s;
  if (p == colon) {
    *why = syntax;
    return 0;
  }
  for (; p < colon; ++p) {
    if (!is_digit(*p) || minutes > 100000) {
      *why = syntax;
      return 0;
    }
    minutes = minutes * 10 + (*p - '0');
  }
  p = colon + 1;
  if (!is_digit(p[0]) || !is_digit(p[1])) {
    *why = "seconds after ':' need two digits (\"1:05\")";
    return 0;
  }
  int whole = (p[0] - '0') * 10 + (p[1] - '0');
  p += 2;
  double frac = 0, scale = 0.1;
  if (*p == '.') {
    ++p;
    if (!is_digit(*p)) {
      *why = syntax;
      return 0;
    }
    for (; is_digit(*p); ++p, scale *= 0.1)
      frac += (*p - '0') * scale;
  }
  if (*p) {
    *why = syntax;
    return 0;
  }
  if (whole >= 60) {
    *why = "seconds after ':' must be 00 to 59";
    return 0;
  }
  *sec = (double)minutes * 60.0 + whole + frac;
  return 1;
}

/* ---- parameters --------------------------------------------------------------------------- */

sg_status sg_params_num(const sg_param_set *ps, const char *key, double def, double lo, double hi,
                        double *out, const char *file, sg_diag *d) {
  if (!out || !key)
    return sg_diag_fail(d, SG_E_INVAL, "sg_params_num: NULL argument");
  const sg_param *p = sg_params_find(ps, key);
  if (!p) {
    *out = def;
    return SG_OK;
  }
  if (!p->is_num || !isfinite(p->num)) {
    sg_diag_at(d, file, p->pos.line, p->pos.col);
    return sg_diag_fail(d, SG_E_SPEC, "'%s' must be a number between %g and %g, got '%s'", key, lo,
                        hi, p->text);
  }
  if (p->num < lo || p->num > hi) {
    sg_diag_at(d, file, p->pos.line, p->pos.col);
    return sg_diag_fail(d, SG_E_SPEC, "'%s' is %g, outside the allowed range %g to %g", key, p->num,
                        lo, hi);
  }
  *out = p->num;
  return SG_OK;
}

/* ---- lookups ------------------------------------------------------------------------------ */

int sg_song_section_index(const sg_song *s, const char *name) {
  if (!s || !name)
    return -1;
  for (int i = 0; i < s->n_sections; ++i)
    if (sg__ieq(s->sections[i].name.s, name))
      return i;
  return -1;
}

int sg_song_stem_index(const sg_song *s, const char *name) {
  if (!s || !name)
    return -1;
  for (int i = 0; i < s->n_stems; ++i)
    if (sg__ieq(s->stems[i].name.s, name))
      return i;
  return -1;
}

/* A list of sections played in (tacet 0) or sat out (tacet 1); an empty list plays all. */
static int plays_in(const sg_song *s, const sg_name *list, int n, int tacet, int si) {
  if (!s || si < 0 || si >= s->n_sections)
    return 0;
  if (n == 0)
    return 1;
  for (int i = 0; i < n; ++i)
    if (sg__ieq(list[i].s, s->sections[si].name.s))
      return !tacet;
  return tacet;
}

int sg_stem_plays_in(const sg_song *s, const sg_stem_spec *st, int si) {
  return st ? plays_in(s, st->sections, st->n_sections, st->tacet, si) : 0;
}

int sg_drums_play_in(const sg_song *s, int si) {
  return s ? plays_in(s, s->drums.sections, s->drums.n_sections, s->drums.tacet, si) : 0;
}

const char *sg_ending_name(sg_ending e) {
  return e == SG_ENDING_FADE ? "fade" : e == SG_ENDING_CUT ? "cut" : "ring";
}

void sg_song_resolve_path(const sg_song *s, const char *rel, char *out, size_t cap) {
  if (!out || cap == 0)
    return;
  out[0] = '\0';
  if (!rel)
    return;
  const char *dir = s ? s->dir : "";
  if (rel[0] == '/' || !dir[0] || strcmp(dir, ".") == 0)
    snprintf(out, cap, "%s", rel);
  else if (dir[strlen(dir) - 1] == '/')
    snprintf(out, cap, "%s%s", dir, rel);
  else
    snprintf(out, cap, "%s/%s", dir, rel);
}

void sg_beat_quarters(sg_beat b, int *num, int *den) {
  static const int n[SG_BEAT_COUNT_] = {1, 3, 1, 2}, d[SG_BEAT_COUNT_] = {1, 2, 2, 1};
  int i = (unsigned)b < SG_BEAT_COUNT_ ? (int)b : 0;
  *num = n[i];
  *den = d[i];
}

const char *sg_beat_name(sg_beat b) {
  static const char *const names[SG_BEAT_COUNT_] = {"quarter", "dotted-quarter", "eighth", "half"};
  return (unsigned)b < SG_BEAT_COUNT_ ? names[b] : "?";
}
