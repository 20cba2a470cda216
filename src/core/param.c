/* Parameter schema: validation of a parameter block against a table of sg_param_def, and the one
 * edit distance (Levenshtein, Wagner-Fischer with two rows) behind every did-you-mean.
 *
 * The tables live next to the code that uses the values (fx in src/fx/fx_chain.c, instrument
 * patches in src/synth/); this file only knows the kinds. Messages follow the spec's style:
 * what is wrong, what is allowed (range with unit or the list of names), and a did-you-mean. */
#include "stemgate/core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lower(int ch) { return (ch >= 'A' && ch <= 'Z') ? ch - 'A' + 'a' : ch; }

static int ieq(const char *a, const char *b) {
  while (*a && lower((unsigned char)*a) == lower((unsigned char)*b)) {
    ++a;
    ++b;
  }
  return *a == '\0' && *b == '\0';
}

/* ---- edit distance and suggestions -------------------------------------------------------- */

int sg_edit_distance(const char *a, const char *b) {
  if (!a)
    a = "";
  if (!b)
    b = "";
  size_t la = strlen(a), lb = strlen(b);
  if (la == 0 || lb == 0)
    return (int)(la + lb > (size_t)INT32_MAX ? INT32_MAX : la + lb);
  /* The shorter string indexes the row, so names never need the heap. */
  if (lb > la) {
    const char *t = a;
    a = b;
    b = t;
    size_t tl = la;
    la = lb;
    lb = tl;
  }
  int stack_row[2][256];
  int *prev = stack_row[0], *cur = stack_row[1], *heap = NULL;
  if (lb + 1 > 256) {
    heap = malloc(2 * (lb + 1) * sizeof *heap);
    if (!heap)
      return INT32_MAX;
    prev = heap;
    cur = heap + lb + 1;
  }
  for (size_t j = 0; j <= lb; ++j)
    prev[j] = (int)j;
  for (size_t i = 1; i <= la; ++i) {
    cur[0] = (int)i;
    for (size_t j = 1; j <= lb; ++j) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      int v = prev[j - 1] + cost;
      if (prev[j] + 1 < v)
        v = prev[j] + 1;
      if (cur[j - 1] + 1 < v)
        v = cur[j - 1] + 1;
      cur[j] = v;
    }
    int *t = prev;
    prev = cur;
    cur = t;
  }
  int r = prev[lb];
  free(heap);
  return r;
}

int sg_suggest(const char *word, const char *const *cands, int n) {
  if (!word || !*word || !cands)
    return -1;
  size_t len = strlen(word);
  if (len > 128)
    return -1;
  char lw[129];
  for (size_t i = 0; i <= len; ++i)
    lw[i] = (char)lower((unsigned char)word[i]);
  int best = -1, best_d = 1 << 30;
  for (int i = 0; i < n; ++i) {
    if (!cands[i] || !cands[i][0] || strlen(cands[i]) > 128)
      continue;
    char lc[129];
    size_t k = 0;
    for (; cands[i][k]; ++k)
      lc[k] = (char)lower((unsigned char)cands[i][k]);
    lc[k] = '\0';
    int dist = sg_edit_distance(lw, lc);
    /* A word that is a clipped form of a candidate ("tempo_tolerance" for
     * "tempo_tolerance_bpm") is a near miss however many letters are missing. */
    if (len >= 4 && k > len && strncmp(lc, lw, len) == 0 && dist > 1)
      dist = 1;
    if (dist < best_d) {
      best_d = dist;
      best = i;
    }
  }
  int limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
  return best_d <= limit ? best : -1;
}

/* ---- tables ------------------------------------------------------------------------------- */

const sg_param *sg_params_find(const sg_param_set *ps, const char *key) {
  if (!ps || !key)
    return NULL;
  for (int i = 0; i < ps->n && i < SG_MAX_PARAMS; ++i)
    if (strcmp(ps->v[i].key, key) == 0)
      return &ps->v[i];
  return NULL;
}

int sg_param_def_find(const sg_param_def *defs, int n, const char *name) {
  if (!defs || !name)
    return -1;
  for (int i = 0; i < n; ++i)
    if (ieq(defs[i].name, name))
      return i;
  return -1;
}

int sg_param_choice(const char *choices, int i, char *out, size_t cap) {
  if (cap)
    out[0] = '\0';
  const char *s = choices;
  for (int k = 0; s && *s; ++k) {
    const char *e = strchr(s, '|');
    size_t l = e ? (size_t)(e - s) : strlen(s);
    if (k == i) {
      if (cap)
        snprintf(out, cap, "%.*s", (int)l, s);
      return 1;
    }
    s = e ? e + 1 : NULL;
  }
  return 0;
}

int sg_param_choice_count(const char *choices) {
  if (!choices || !*choices)
    return 0;
  int n = 1;
  for (const char *s = choices; *s; ++s)
    n += *s == '|';
  return n;
}

/* "a|b|c" as "a, b, c". */
static void choices_list(const char *choices, char *out, size_t cap) {
  out[0] = '\0';
  size_t l = 0;
  for (const char *s = choices; s && *s && l + 1 < cap; ++s, ++l)
    if (*s == '|') {
      if (l + 3 >= cap)
        break;
      out[l++] = ',';
      out[l] = ' ';
    } else {
      out[l] = *s;
    }
  out[l < cap ? l : cap - 1] = '\0';
}

static const char *sp(const char *unit) { return unit && unit[0] ? " " : ""; }
static const char *un(const char *unit) { return unit ? unit : ""; }

char *sg_param_describe(const sg_param_def *p, char *out, size_t cap) {
  char list[256], dflt[96] = "";
  switch (p->kind) {
  case SG_PARAM_ENUM: {
    char c[64];
    choices_list(p->choices, list, sizeof list);
    if (sg_param_choice(p->choices, (int)p->def, c, sizeof c))
      snprintf(dflt, sizeof dflt, " (default %s)", c);
    snprintf(out, cap, "%s%s", list, dflt);
    break;
  }
  case SG_PARAM_BOOL:
    snprintf(out, cap, "true or false (default %s)", p->def > 0 ? "true" : "false");
    break;
  case SG_PARAM_NOTE_TIME:
    snprintf(out, cap, "note value (1/4, 1/8., 1/4T, 3/16) or ms (250ms) (default %s)",
             p->choices ? p->choices : "");
    break;
  case SG_PARAM_STEM:
    snprintf(out, cap, "another stem's name or Drums");
    break;
  case SG_PARAM_PATH:
    snprintf(out, cap, "a file relative to the spec's folder");
    break;
  case SG_PARAM_INTEGER:
  case SG_PARAM_NUMBER:
  default:
    if (isnan(p->def))
      snprintf(dflt, sizeof dflt, " (default from the patch)");
    else
      snprintf(dflt, sizeof dflt, " (default %g)", p->def);
    if (p->choices && p->choices[0]) {
      choices_list(p->choices, list, sizeof list);
      snprintf(out, cap, "%s%s%s%s", list, sp(p->unit), un(p->unit), dflt);
    } else {
      snprintf(out, cap, "%g to %g%s%s%s", p->lo, p->hi, sp(p->unit), un(p->unit), dflt);
    }
    break;
  }
  return out;
}

/* ---- validation ----------------------------------------------------------------------------- */

static sg_status fail_at(sg_diag *d, const char *file, sg_pos pos, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static sg_status fail_at(sg_diag *d, const char *file, sg_pos pos, const char *fmt, ...) {
  if (!d)
    return SG_E_SPEC;
  char msg[SG_DIAG_TEXT];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sg_diag_at(d, file, pos.line, pos.col);
  return sg_diag_fail(d, SG_E_SPEC, "%s", msg);
}

/* "; did you mean 'x'?" (or "") for word among the candidates. */
static const char *dym(const char *word, const char *const *cands, int n, char *out, size_t cap) {
  int i = sg_suggest(word, cands, n);
  if (i < 0)
    out[0] = '\0';
  else
    snprintf(out, cap, "; did you mean '%s'?", cands[i]);
  return out;
}

static sg_status check_enum(const sg_param *p, const sg_param_def *pd, const char *label,
                            const char *file, double *value, sg_diag *d) {
  char store[16][48];
  const char *names[16];
  int nc = sg_param_choice_count(pd->choices);
  if (nc > 16)
    nc = 16;
  for (int j = 0; j < nc; ++j) {
    sg_param_choice(pd->choices, j, store[j], sizeof store[j]);
    names[j] = store[j];
    if (ieq(p->text, store[j])) {
      *value = j;
      return SG_OK;
    }
  }
  char list[256], hint[96];
  choices_list(pd->choices, list, sizeof list);
  return fail_at(d, file, p->pos, "%s: '%s' must be one of %s, got '%s'%s", label, pd->name, list,
                 p->text, dym(p->text, names, nc, hint, sizeof hint));
}

static sg_status check_number(const sg_param *p, const sg_param_def *pd, const char *label,
                              const char *file, double *value, sg_diag *d) {
  const int whole = pd->kind == SG_PARAM_INTEGER;
  if (!p->is_num || !isfinite(p->num) || (whole && p->num != floor(p->num))) {
    if (pd->choices && pd->choices[0]) {
      char list[128];
      choices_list(pd->choices, list, sizeof list);
      return fail_at(d, file, p->pos, "%s: '%s' must be one of %s%s%s, got '%s'", label, pd->name,
                     list, sp(pd->unit), un(pd->unit), p->text);
    }
    return fail_at(d, file, p->pos, "%s: '%s' must be a %s from %g to %g%s%s, got '%s'", label,
                   pd->name, whole ? "whole number" : "number", pd->lo, pd->hi, sp(pd->unit),
                   un(pd->unit), p->text);
  }
  if (!(p->num >= pd->lo && p->num <= pd->hi)) {
    return fail_at(d, file, p->pos, "%s: '%s' is %g%s%s, outside the allowed range %g to %g%s%s",
                   label, pd->name, p->num, sp(pd->unit), un(pd->unit), pd->lo, pd->hi,
                   sp(pd->unit), un(pd->unit));
  }
  if (pd->choices && pd->choices[0]) {
    int ok = 0, nc = sg_param_choice_count(pd->choices);
    for (int j = 0; j < nc; ++j) {
      char c[32];
      sg_param_choice(pd->choices, j, c, sizeof c);
      ok |= atof(c) == p->num;
    }
    if (!ok) {
      char list[128];
      choices_list(pd->choices, list, sizeof list);
      return fail_at(d, file, p->pos, "%s: '%s' is %g; allowed values: %s%s%s", label, pd->name,
                     p->num, list, sp(pd->unit), un(pd->unit));
    }
  }
  *value = p->num;
  return SG_OK;
}

sg_status sg_params_check(const sg_param_set *ps, const sg_param_def *defs, int n,
                          const char *label, const char *file, double *values, sg_diag *d) {
  if (!defs || n < 0)
    return sg_diag_fail(d, SG_E_INVAL, "sg_params_check: no table");
  if (!label)
    label = "parameters";
  const int np = ps ? (ps->n < SG_MAX_PARAMS ? ps->n : SG_MAX_PARAMS) : 0;
  /* Unknown names first: a typo must never fall back silently to a default. */
  for (int i = 0; i < np; ++i) {
    const sg_param *p = &ps->v[i];
    if (sg_param_def_find(defs, n, p->key) < 0) {
      const char *names[256];
      int nn = n < 256 ? n : 256;
      for (int k = 0; k < nn; ++k)
        names[k] = defs[k].name;
      char msg[SG_DIAG_TEXT], hint[96];
      dym(p->key, names, nn, hint, sizeof hint);
      size_t l = (size_t)snprintf(msg, sizeof msg, "%s: unknown parameter '%s'%s Allowed: ", label,
                                  p->key, hint[0] ? hint : ".");
      for (int k = 0; k < nn && l + 1 < sizeof msg; ++k)
        l += (size_t)snprintf(msg + l, sizeof msg - l, "%s%s", k ? ", " : "", names[k]);
      if (l >= sizeof msg) /* a long table (dx7): say it was cut */
        memcpy(msg + sizeof msg - 4, "...", 4);
      /* An unknown name points at its key (the value is not the problem). */
      sg_pos kp = p->key_pos.line > 0 ? p->key_pos : p->pos;
      return fail_at(d, file, kp, "%s", msg);
    }
    for (int j = 0; j < i; ++j)
      if (ieq(ps->v[j].key, p->key))
        return fail_at(d, file, p->pos, "%s: parameter '%s' is given twice (first at line %d)",
                       label, p->key, ps->v[j].pos.line);
  }
  for (int k = 0; k < n; ++k) {
    const sg_param_def *pd = &defs[k];
    const sg_param *p = NULL;
    for (int i = 0; i < np && !p; ++i)
      if (ieq(ps->v[i].key, pd->name))
        p = &ps->v[i];
    double v = pd->def;
    if (p) {
      sg_status st = SG_OK;
      switch (pd->kind) {
      case SG_PARAM_BOOL: {
        static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no",
                                                                                    "off", "0"};
        int b = -1;
        for (int j = 0; j < 4; ++j) {
          if (ieq(p->text, yes[j]))
            b = 1;
          if (ieq(p->text, no[j]))
            b = 0;
        }
        if (b < 0 && p->is_num && (p->num == 0 || p->num == 1))
          b = (int)p->num;
        if (b < 0)
          st = fail_at(d, file, p->pos, "%s: '%s' must be true or false, got '%s'", label, pd->name,
                       p->text);
        v = b;
        break;
      }
      case SG_PARAM_ENUM:
        st = check_enum(p, pd, label, file, &v, d);
        break;
      case SG_PARAM_NUMBER:
      case SG_PARAM_INTEGER:
        st = check_number(p, pd, label, file, &v, d);
        break;
      case SG_PARAM_NOTE_TIME:
      case SG_PARAM_STEM:
      case SG_PARAM_PATH:
      default:
        v = 0; /* text: its owner reads and checks it (fx: note values; spec: stems, files) */
        break;
      }
      if (st != SG_OK)
        return st;
    } else if (pd->kind >= SG_PARAM_NOTE_TIME) {
      v = 0;
    }
    if (values)
      values[k] = v;
  }
  return SG_OK;
}
