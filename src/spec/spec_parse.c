/* Spec module: YAML song spec -> sg_song, with strict validation.
 *
 * The file is loaded with libyaml's document API (YAML 1.1 composer), which keeps the start mark
 * of every node; the walker below then checks every mapping against its schema (unknown keys with
 * a did-you-mean, duplicate keys, wrong node kinds, ranges, enumerations, bounded sizes) and
 * reports the first problem as file:line:col with what is wrong and what is allowed. Scalars are
 * interpreted by our own strict grammars, never by YAML 1.1 implicit typing: "1:22" stays a time,
 * not the sexagesimal 82, and 97.3 becomes the exact decimal 973/10. Cross-references (stem
 * sections, sidechains, section lengths) are checked after the whole document is read, so keys
 * may come in any order. docs/spec.md is the reference of every key. */
#include "spec_internal.h"

#include "stemgate/check.h"

#include <yaml.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_MAX_BYTES (4u << 20) /* a song spec is a few KiB; refuse anything absurd */

typedef struct ctx {
  yaml_document_t *doc;
  const char *file;
  sg_diag *d;
  sg_song *s;
} ctx;

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *const TOP_KEYS[] = {"title",        "tempo",
                                       "meter",        "beat",
                                       "sample_rate",  "format",
                                       "channels",     "key",
                                       "style",        "seed",
                                       "swing",        "humanize",
                                       "sections",     "stems",
                                       "drums",        "master",
                                       "deliverable",  "gates",
                                       "delivery",     "ending",
                                       "ending_max_s", "ending_fade_bars",
                                       "variations"};
static const char *const HUMANIZE_KEYS[] = {"timing_ms", "velocity"};
static const char *const SECTION_KEYS[] = {"name",  "bars",        "start",       "end",
                                           "key",   "chords",      "progression", "energy",
                                           "tempo", "tempo_change"};
static const char *const TEMPO_CHANGE_KEYS[] = {"to", "over_bars", "curve"};
static const char *const CURVES[] = {"linear", "exponential"}; /* = sg_tempo_curve */
static const char *const STEM_KEYS[] = {"name",    "instrument", "patch",  "params",    "style",
                                        "role",    "pattern",    "melody", "sections",  "tacet",
                                        "gain_db", "pan",        "octave", "midi_file", "soundfont",
                                        "program", "sidechain",  "effects"};
static const char *const DRUMS_KEYS[] = {
    "source",   "reference", "fit",     "align", "follow_tempo_map", "tempo_tolerance_bpm",
    "style",    "patch",     "pattern", "fills", "gain_db",          "effects",
    "sections", "tacet",     "seed"};
static const char *const MASTER_KEYS[] = {"loudness_lufs", "loudness_tolerance", "true_peak_dbtp",
                                          "headroom_db", "effects"};
static const char *const DELIVERABLE_KEYS[] = {"zip", "naming", "deflate", "midi"};
static const char *const GATES_KEYS[] = {"sync_ms",      "length_tolerance_ms", "dc_offset",
                                         "silence_dbfs", "key_window_sec",      "tail_s",
                                         "limiter_gr_db"};
static const char *const ENDINGS[] = {"ring", "fade", "cut"}; /* sg_ending order */

static const char *const FORMATS[] = {"float32", "pcm24", "pcm16"};
/* spec links only core, so map names to sg_sample_format here rather than via io. */
static const sg_sample_format FORMAT_VALUES[] = {SG_FMT_FLOAT32, SG_FMT_PCM24, SG_FMT_PCM16};
static const char *const ENERGIES[] = {"sparse", "normal", "full"};
static const char *const INSTRUMENTS[] = {"moog_bass", "prophet_poly", "dx7",
                                          "guitar",    "drums",        "soundfont"};
/* Default role of each instrument above, same order. */
static const char *const INSTRUMENT_ROLES[] = {"bass", "pad", "comp", "comp", "drums", "comp"};
static const char *const ROLES[] = {"comp", "pad", "arp", "lead", "bass", "drums"};
static const char *const DRUM_SOURCES[] = {"none", "synth", "reference"}; /* = sg_drums_source */
static const char *const FITS[] = {"fade", "loop"};                       /* = sg_fit_policy */
static const unsigned RATES[] = {44100, 48000, 88200, 96000};

/* ---- diagnostics -------------------------------------------------------------------------- */

sg_pos sg__yaml_pos(const yaml_node_t *n) {
  sg_pos p = {0, 0};
  if (n) {
    p.line = (int)n->start_mark.line + 1;
    p.col = (int)n->start_mark.column + 1;
  }
  return p;
}

sg_status sg__spec_vfail(sg_diag *d, const char *file, sg_pos p, const char *fmt, va_list ap) {
  if (!d)
    return SG_E_SPEC;
  char msg[SG_DIAG_TEXT];
  vsnprintf(msg, sizeof msg, fmt, ap);
  sg_diag_at(d, file, p.line > 0 ? p.line : 1, p.col > 0 ? p.col : 1);
  return sg_diag_fail(d, SG_E_SPEC, "%s", msg);
}

static sg_pos pos_of(const yaml_node_t *n) { return sg__yaml_pos(n); }

static sg_status fail_pos(ctx *c, sg_pos p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static sg_status fail_pos(ctx *c, sg_pos p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sg_status st = sg__spec_vfail(c->d, c->file, p, fmt, ap);
  va_end(ap);
  return st;
}

#define FAIL(c, node, ...) fail_pos((c), pos_of(node), __VA_ARGS__)

/* Joins names as "a, b, c" into out (truncates with "..." only if the message buffer would). */
static const char *join(const char *const *names, int n, char *out, size_t cap) {
  size_t k = 0;
  out[0] = '\0';
  for (int i = 0; i < n && k + 1 < cap; ++i) {
    int w = snprintf(out + k, cap - k, "%s%s", i ? ", " : "", names[i]);
    if (w < 0)
      break;
    k += (size_t)w < cap - k ? (size_t)w : cap - k - 1;
  }
  return out;
}

/* " did you mean 'x'?" or "" */
static const char *did_you_mean(const char *word, const char *const *cands, int n, char *out,
                                size_t cap) {
  int i = sg_suggest(word, cands, n);
  if (i < 0)
    out[0] = '\0';
  else
    snprintf(out, cap, "; did you mean '%s'?", cands[i]);
  return out;
}

static const char *kind_of(const yaml_node_t *n) {
  switch (n->type) {
  case YAML_SEQUENCE_NODE:
    return "a list";
  case YAML_MAPPING_NODE:
    return "a mapping";
  case YAML_SCALAR_NODE:
    return n->data.scalar.length ? "text" : "nothing";
  default:
    return "an empty node";
  }
}

/* Scalar text for messages, shortened to keep the diagnostic readable. */
static const char *shown(const yaml_node_t *n, char *buf, size_t cap) {
  if (n->type != YAML_SCALAR_NODE) {
    snprintf(buf, cap, "%s", kind_of(n));
    return buf;
  }
  const char *v = (const char *)n->data.scalar.value;
  size_t len = n->data.scalar.length;
  if (len > 40) {
    int cut = 37; /* cut at a UTF-8 character boundary */
    while (cut > 0 && ((unsigned char)v[cut] & 0xC0) == 0x80)
      --cut;
    snprintf(buf, cap, "'%.*s...'", cut, v);
  } else
    snprintf(buf, cap, "'%s'", v);
  return buf;
}

/* ---- node access -------------------------------------------------------------------------- */

static yaml_node_t *node(ctx *c, int id) { return yaml_document_get_node(c->doc, id); }

#define FOR_PAIRS(c, map, p, k, v)                                                                 \
  for (yaml_node_pair_t *p = (map)->data.mapping.pairs.start; p < (map)->data.mapping.pairs.top;   \
       ++p)                                                                                        \
    for (yaml_node_t *k = node((c), p->key), *v = node((c), p->value); k && v; k = NULL)

#define FOR_ITEMS(c, seq, it, v)                                                                   \
  for (yaml_node_item_t *it = (seq)->data.sequence.items.start;                                    \
       it < (seq)->data.sequence.items.top; ++it)                                                  \
    for (yaml_node_t *v = node((c), *it); v; v = NULL)

static int seq_len(const yaml_node_t *seq) {
  return (int)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

static const char *key_of(const yaml_node_t *k) { return (const char *)k->data.scalar.value; }

/* Value of key in map (keys already checked to be scalars), or NULL. */
static yaml_node_t *lookup(ctx *c, yaml_node_t *map, const char *key) {
  FOR_PAIRS(c, map, p, k, v) {
    if (k->type == YAML_SCALAR_NODE && strcmp(key_of(k), key) == 0)
      return v;
  }
  return NULL;
}

static sg_status expect_map(ctx *c, yaml_node_t *v, const char *what, const char *const *keys,
                            int n) {
  if (v->type == YAML_MAPPING_NODE)
    return SG_OK;
  char allowed[400];
  return FAIL(c, v, "%s must be a mapping of keys (%s), got %s", what,
              join(keys, n, allowed, sizeof allowed), kind_of(v));
}

static sg_status expect_list(ctx *c, yaml_node_t *v, const char *what, const char *of) {
  if (v->type == YAML_SEQUENCE_NODE)
    return SG_OK;
  return FAIL(c, v, "%s must be a list of %s, got %s", what, of, kind_of(v));
}

/* Checks that every key of map is a known, non-duplicated scalar. */
static sg_status check_keys(ctx *c, yaml_node_t *map, const char *const *allowed, int n,
                            const char *where) {
  FOR_PAIRS(c, map, p, k, v) {
    (void)v;
    if (k->type != YAML_SCALAR_NODE)
      return FAIL(c, k, "a key in %s must be a plain name, got %s", where, kind_of(k));
    const char *key = key_of(k);
    int known = 0;
    for (int i = 0; i < n && !known; ++i)
      known = strcmp(key, allowed[i]) == 0;
    if (!known) {
      char dym[96], list[400], sh[64];
      return FAIL(c, k, "unknown key %s in %s%s Allowed: %s", shown(k, sh, sizeof sh), where,
                  did_you_mean(key, allowed, n, dym, sizeof dym)[0] ? dym : ".",
                  join(allowed, n, list, sizeof list));
    }
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; ++q) {
      yaml_node_t *k2 = node(c, q->key);
      if (k2 && k2->type == YAML_SCALAR_NODE && strcmp(key_of(k2), key) == 0) {
        sg_pos first = pos_of(k2);
        return FAIL(c, k, "duplicate key '%s' in %s (first given at line %d); give each key once",
                    key, where, first.line);
      }
    }
  }
  return SG_OK;
}

/* ---- scalar values ------------------------------------------------------------------------ */

/* The scalar text of v; fails when v is not a scalar. expect names what was wanted. */
static sg_status scalar(ctx *c, yaml_node_t *v, const char *key, const char *expect,
                        const char **out) {
  if (v->type != YAML_SCALAR_NODE)
    return FAIL(c, v, "'%s' must be %s, got %s", key, expect, kind_of(v));
  if (strlen((const char *)v->data.scalar.value) != v->data.scalar.length)
    return FAIL(c, v, "'%s' contains a NUL character; give %s", key, expect);
  *out = (const char *)v->data.scalar.value;
  return SG_OK;
}

/* Copies a text value into dst[cap]; too long is an error, empty is an error when required. */
static sg_status get_text(ctx *c, yaml_node_t *v, const char *key, char *dst, size_t cap,
                          int required) {
  const char *t;
  sg_status st = scalar(c, v, key, "text", &t);
  if (st)
    return st;
  size_t len = strlen(t);
  if (len >= cap)
    return FAIL(c, v, "'%s' is too long (%zu bytes; at most %zu)", key, len, cap - 1);
  if (required && len == 0)
    return FAIL(c, v, "'%s' must not be empty", key);
  memcpy(dst, t, len + 1);
  return SG_OK;
}

static sg_status get_name(ctx *c, yaml_node_t *v, const char *key, sg_name *dst, int required) {
  sg_status st = get_text(c, v, key, dst->s, sizeof dst->s, required);
  dst->pos = pos_of(v);
  return st;
}

/* Position and layout of a text value whose characters later checks point into (patterns): a
 * quoted scalar's text starts one column after its mark, and one spanning several lines cannot
 * be mapped character by character (folding and escapes), so errors then point at its start. */
static void text_layout(const yaml_node_t *v, sg_text *t) {
  t->pos = pos_of(v);
  t->quoted = v->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
              v->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
  t->multiline = v->end_mark.line != v->start_mark.line ||
                 v->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
                 v->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
}

static sg_status get_num(ctx *c, yaml_node_t *v, const char *key, double lo, double hi,
                         const char *unit, double *out) {
  const char *t;
  char expect[96];
  snprintf(expect, sizeof expect, "a number from %g to %g%s%s", lo, hi, unit[0] ? " " : "", unit);
  sg_status st = scalar(c, v, key, expect, &t);
  if (st)
    return st;
  double x;
  if (!sg__parse_number(t, &x)) {
    char sh[64];
    return FAIL(c, v, "'%s' must be %s, got %s", key, expect,
                t[0] ? shown(v, sh, sizeof sh) : "nothing");
  }
  if (x < lo || x > hi)
    return FAIL(c, v, "'%s' is %s%s%s, outside the allowed range %g to %g%s%s", key, t,
                unit[0] ? " " : "", unit, lo, hi, unit[0] ? " " : "", unit);
  *out = x;
  return SG_OK;
}

static sg_status get_int(ctx *c, yaml_node_t *v, const char *key, long long lo, long long hi,
                         long long *out) {
  const char *t;
  char expect[96];
  snprintf(expect, sizeof expect, "a whole number from %lld to %lld", lo, hi);
  sg_status st = scalar(c, v, key, expect, &t);
  if (st)
    return st;
  long long x;
  if (!sg__parse_integer(t, &x)) {
    char sh[64];
    return FAIL(c, v, "'%s' must be %s, got %s", key, expect,
                t[0] ? shown(v, sh, sizeof sh) : "nothing");
  }
  if (x < lo || x > hi)
    return FAIL(c, v, "'%s' is %lld, outside the allowed range %lld to %lld", key, x, lo, hi);
  *out = x;
  return SG_OK;
}

static sg_status get_bool(ctx *c, yaml_node_t *v, const char *key, int *out) {
  const char *t;
  sg_status st = scalar(c, v, key, "true or false", &t);
  if (st)
    return st;
  if (sg__ieq(t, "true") || sg__ieq(t, "yes")) {
    *out = 1;
    return SG_OK;
  }
  if (sg__ieq(t, "false") || sg__ieq(t, "no")) {
    *out = 0;
    return SG_OK;
  }
  char sh[64];
  return FAIL(c, v, "'%s' must be true or false (or yes/no), got %s", key,
              t[0] ? shown(v, sh, sizeof sh) : "nothing");
}

/* One of names (exact, lowercase); *out is the index. */
static sg_status get_choice(ctx *c, yaml_node_t *v, const char *key, const char *const *names,
                            int n, int *out) {
  char list[300];
  join(names, n, list, sizeof list);
  char expect[340];
  snprintf(expect, sizeof expect, "one of %s", list);
  const char *t;
  sg_status st = scalar(c, v, key, expect, &t);
  if (st)
    return st;
  for (int i = 0; i < n; ++i)
    if (strcmp(t, names[i]) == 0) {
      *out = i;
      return SG_OK;
    }
  char dym[96], sh[64];
  return FAIL(c, v, "'%s' must be %s, got %s%s", key, expect,
              t[0] ? shown(v, sh, sizeof sh) : "nothing",
              did_you_mean(t, names, n, dym, sizeof dym));
}

static sg_status get_time(ctx *c, yaml_node_t *v, const char *key, double *out, sg_pos *pos) {
  const char *t;
  sg_status st = scalar(c, v, key, "a time (m:ss, m:ss.sss or seconds)", &t);
  if (st)
    return st;
  const char *why = "";
  if (!sg__parse_time(t, out, &why)) {
    char sh[64];
    return FAIL(c, v, "'%s' is not a valid time: %s, got %s", key, why,
                t[0] ? shown(v, sh, sizeof sh) : "nothing");
  }
  if (*out > 24 * 3600.0)
    return FAIL(c, v, "'%s' is %s, beyond the 24-hour limit of a song", key, t);
  *pos = pos_of(v);
  return SG_OK;
}

/* ---- blocks ------------------------------------------------------------------------------- */

static sg_status parse_params(ctx *c, yaml_node_t *map, sg_param_set *ps, const char *where,
                              const char *skip_key) {
  ps->n = 0;
  FOR_PAIRS(c, map, p, k, v) {
    if (k->type != YAML_SCALAR_NODE)
      return FAIL(c, k, "a parameter name in %s must be a plain name, got %s", where, kind_of(k));
    const char *key = key_of(k);
    if (skip_key && strcmp(key, skip_key) == 0)
      continue;
    if (!key[0])
      return FAIL(c, k, "a parameter name in %s is empty", where);
    for (const char *q = key; *q; ++q)
      if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_'))
        return FAIL(c, k, "parameter name '%.60s' in %s may only use a-z, 0-9 and '_'", key, where);
    if (strlen(key) >= sizeof ps->v[0].key)
      return FAIL(c, k, "parameter name in %s is too long (%zu bytes; at most %zu)", where,
                  strlen(key), sizeof ps->v[0].key - 1);
    for (int i = 0; i < ps->n; ++i)
      if (strcmp(ps->v[i].key, key) == 0)
        return FAIL(c, k, "duplicate parameter '%s' in %s (first given at line %d)", key, where,
                    ps->v[i].pos.line);
    if (ps->n >= SG_MAX_PARAMS)
      return FAIL(c, k, "too many parameters in %s (at most %d)", where, SG_MAX_PARAMS);
    sg_param *pr = &ps->v[ps->n];
    memset(pr, 0, sizeof *pr);
    memcpy(pr->key, key, strlen(key) + 1);
    const char *t;
    if (v->type != YAML_SCALAR_NODE)
      return FAIL(c, v, "parameter '%s' in %s must be a single value (number or text), got %s", key,
                  where, kind_of(v));
    sg_status st = scalar(c, v, key, "a number or text", &t);
    if (st)
      return st;
    if (strlen(t) >= sizeof pr->text)
      return FAIL(c, v, "value of '%s' in %s is too long (%zu bytes; at most %zu)", key, where,
                  strlen(t), sizeof pr->text - 1);
    if (!t[0])
      return FAIL(c, v, "parameter '%s' in %s has no value", key, where);
    memcpy(pr->text, t, strlen(t) + 1);
    pr->is_num = sg__parse_number(t, &pr->num);
    if (!pr->is_num)
      pr->num = 0;
    pr->pos = pos_of(v);
    pr->key_pos = pos_of(k);
    ps->n++;
  }
  return SG_OK;
}

static sg_status parse_effects(ctx *c, yaml_node_t *seq, sg_effect_spec *fx, int *n_fx,
                               const char *owner) {
  char what[160];
  snprintf(what, sizeof what, "'effects' of %s", owner);
  sg_status st = expect_list(c, seq, what, "effects (mappings with 'type' and parameters)");
  if (st)
    return st;
  *n_fx = 0;
  FOR_ITEMS(c, seq, it, v) {
    if (*n_fx >= SG_MAX_EFFECTS)
      return FAIL(c, v, "too many effects on %s (at most %d)", owner, SG_MAX_EFFECTS);
    sg_effect_spec *e = &fx[*n_fx];
    memset(e, 0, sizeof *e);
    e->pos = pos_of(v);
    char where[200];
    snprintf(where, sizeof where, "effect %d of %s", *n_fx + 1, owner);
    if (v->type != YAML_MAPPING_NODE)
      return FAIL(c, v,
                  "%s must be a mapping with 'type' (eq, compressor, delay, reverb, "
                  "chorus, ...) and its parameters, got %s",
                  where, kind_of(v));
    yaml_node_t *tv = lookup(c, v, "type");
    yaml_node_t *params_map = v;
    const char *skip = "type";
    if (!tv && v->data.mapping.pairs.top - v->data.mapping.pairs.start == 1) {
      /* Compact form "- eq: {type: highpass, freq: 90}": the key names the effect and every
       * key of the inner mapping is a parameter (so eq can take its own filter 'type'). */
      yaml_node_t *k1 = node(c, v->data.mapping.pairs.start->key);
      yaml_node_t *v1 = node(c, v->data.mapping.pairs.start->value);
      if (k1 && v1 && k1->type == YAML_SCALAR_NODE &&
          (v1->type == YAML_MAPPING_NODE ||
           (v1->type == YAML_SCALAR_NODE && v1->data.scalar.length == 0))) {
        tv = k1;
        params_map = v1->type == YAML_MAPPING_NODE ? v1 : NULL;
        skip = NULL;
      }
    }
    if (!tv)
      return FAIL(c, v,
                  "%s has no 'type'; write '- type: reverb' with its parameters, or "
                  "'- reverb: {rt60: 2}' (types: eq, compressor, delay, reverb, chorus, "
                  "...)",
                  where);
    if ((st = get_name(c, tv, "type", &e->type, 1)))
      return st;
    for (const char *q = e->type.s; *q; ++q)
      if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_'))
        return FAIL(c, tv, "effect type '%s' may only use a-z, 0-9 and '_' (e.g. eq, reverb)",
                    e->type.s);
    snprintf(where, sizeof where, "effect '%s' of %s", e->type.s, owner);
    if (params_map && (st = parse_params(c, params_map, &e->params, where, skip)))
      return st;
    /* A duplicated 'type' key is still a duplicate. */
    int n_type = 0;
    FOR_PAIRS(c, v, p, k, vv) {
      (void)vv;
      if (k->type == YAML_SCALAR_NODE && strcmp(key_of(k), "type") == 0 && ++n_type > 1)
        return FAIL(c, k, "duplicate key 'type' in %s", where);
    }
    (*n_fx)++;
  }
  return SG_OK;
}

static sg_status parse_humanize(ctx *c, yaml_node_t *map) {
  sg_status st = expect_map(c, map, "'humanize'", HUMANIZE_KEYS, COUNT(HUMANIZE_KEYS));
  if (st || (st = check_keys(c, map, HUMANIZE_KEYS, COUNT(HUMANIZE_KEYS), "humanize")))
    return st;
  FOR_PAIRS(c, map, p, k, v) {
    const char *key = key_of(k);
    if (!strcmp(key, "timing_ms"))
      st = get_num(c, v, key, 0, 50, "ms", &c->s->humanize_ms);
    else
      st = get_num(c, v, key, 0, 1, "", &c->s->humanize_velocity);
    if (st)
      return st;
  }
  return SG_OK;
}

/* Name shown in messages for the i-th item of a list: "section 3 ('verse')" or "section 3". */
static void item_label(ctx *c, yaml_node_t *item, const char *kind, int i, char *out, size_t cap) {
  yaml_node_t *nv = item->type == YAML_MAPPING_NODE ? lookup(c, item, "name") : NULL;
  if (nv && nv->type == YAML_SCALAR_NODE && nv->data.scalar.length > 0 &&
      nv->data.scalar.length < SG_MAX_NAME)
    snprintf(out, cap, "%s '%s'", kind, (const char *)nv->data.scalar.value);
  else
    snprintf(out, cap, "%s %d", kind, i + 1);
}

static sg_status check_name_chars(ctx *c, const sg_name *n, const char *what) {
  for (const unsigned char *q = (const unsigned char *)n->s; *q; ++q)
    if (*q < 0x20 || *q == 0x7f || *q == '/' || *q == '\\')
      return fail_pos(c, n->pos,
                      "%s name '%s' may not contain '/', '\\' or control characters "
                      "(it becomes part of file names)",
                      what, n->s);
  if (n->s[0] == '.' || n->s[0] == ' ' || n->s[strlen(n->s) - 1] == ' ')
    return fail_pos(c, n->pos, "%s name '%s' may not start with '.' or start/end with a space",
                    what, n->s);
  return SG_OK;
}

static sg_status get_tempo(ctx *c, yaml_node_t *v, const char *key, int allow_auto, sg_decimal *out,
                           int *is_auto);
static sg_status parse_tempo_change(ctx *c, yaml_node_t *v, sg_section_spec *sec);

static sg_status parse_section(ctx *c, yaml_node_t *map, int i) {
  sg_song *s = c->s;
  char where[SG_MAX_NAME + 32];
  item_label(c, map, "section", i, where, sizeof where);
  sg_status st = expect_map(c, map, where, SECTION_KEYS, COUNT(SECTION_KEYS));
  if (st || (st = check_keys(c, map, SECTION_KEYS, COUNT(SECTION_KEYS), where)))
    return st;
  sg_section_spec *sec = &s->sections[i];
  memset(sec, 0, sizeof *sec);
  sec->pos = pos_of(map);
  sec->start_sec = sec->end_sec = -1;
  snprintf(sec->energy.s, sizeof sec->energy.s, "normal");
  yaml_node_t *prog_node = NULL, *chords_node = NULL;
  FOR_PAIRS(c, map, p, k, v) {
    const char *key = key_of(k);
    long long ll;
    int idx;
    if (!strcmp(key, "name")) {
      st = get_name(c, v, key, &sec->name, 1);
    } else if (!strcmp(key, "bars")) {
      if (!(st = get_int(c, v, key, 1, 4096, &ll))) {
        sec->bars = (int)ll;
        sec->bars_pos = pos_of(v);
      }
    } else if (!strcmp(key, "start")) {
      st = get_time(c, v, key, &sec->start_sec, &sec->start_pos);
    } else if (!strcmp(key, "end")) {
      st = get_time(c, v, key, &sec->end_sec, &sec->end_pos);
    } else if (!strcmp(key, "key")) {
      st = get_name(c, v, key, &sec->key, 1);
    } else if (!strcmp(key, "chords")) {
      chords_node = v;
      if (!(st = get_text(c, v, key, sec->chords.s, sizeof sec->chords.s, 1)))
        sec->chords.pos = pos_of(v);
    } else if (!strcmp(key, "progression")) {
      prog_node = v;
      st = get_name(c, v, key, &sec->progression, 1);
    } else if (!strcmp(key, "tempo")) {
      int dummy = 0;
      st = get_tempo(c, v, key, 0, &sec->tempo, &dummy);
    } else if (!strcmp(key, "tempo_change")) {
      st = parse_tempo_change(c, v, sec);
    } else { /* energy */
      if (!(st = get_choice(c, v, key, ENERGIES, COUNT(ENERGIES), &idx))) {
        snprintf(sec->energy.s, sizeof sec->energy.s, "%s", ENERGIES[idx]);
        sec->energy.pos = pos_of(v);
      }
    }
    if (st)
      return st;
  }
  if (!sec->name.s[0])
    return FAIL(c, map, "%s has no 'name'; every section needs a unique name (intro, verse, ...)",
                where);
  if (chords_node && prog_node)
    return FAIL(c, prog_node, "section '%s' gives both 'chords' and 'progression'; give one",
                sec->name.s);
  if (sec->start_sec >= 0 && sec->end_sec >= 0 && sec->end_sec <= sec->start_sec)
    return fail_pos(c, sec->end_pos, "section '%s' ends (%.3f s) before it starts (%.3f s)",
                    sec->name.s, sec->end_sec, sec->start_sec);
  for (int j = 0; j < i; ++j)
    if (sg__ieq(s->sections[j].name.s, sec->name.s))
      return fail_pos(c, sec->name.pos,
                      "duplicate section name '%s' (first at line %d); section names must be "
                      "unique (case-insensitive), e.g. 'verse 2'",
                      sec->name.s, s->sections[j].name.pos.line);
  return SG_OK;
}

/* `sections:` (played in) or `tacet:` (sat out) of a stem or the drums block: a non-empty list
 * of distinct names, one of the two keys only. Names are checked against the song's sections
 * once every section is read. */
static sg_status parse_plays(ctx *c, yaml_node_t *map, yaml_node_t *v, const char *key,
                             const char *who, sg_name *list, int *n, int *tacet) {
  if (lookup(c, map, "sections") && lookup(c, map, "tacet"))
    return FAIL(c, v,
                "%s gives both 'sections' and 'tacet'; give the sections it plays in or the "
                "ones it sits out, not both",
                who);
  char what[64];
  snprintf(what, sizeof what, "'%s' of %s", key, who);
  sg_status st = expect_list(c, v, what, "section names");
  if (!st && seq_len(v) == 0)
    st = FAIL(c, v, "%s is empty; list section names, or omit the key to play in every section",
              what);
  if (st)
    return st;
  *tacet = !strcmp(key, "tacet");
  FOR_ITEMS(c, v, it, sv) {
    if (*n >= SG_MAX_SECTIONS)
      return FAIL(c, sv, "too many sections listed (at most %d)", SG_MAX_SECTIONS);
    sg_name *nm = &list[*n];
    if ((st = get_name(c, sv, key, nm, 1)))
      return st;
    for (int j = 0; j < *n; ++j)
      if (sg__ieq(list[j].s, nm->s))
        return FAIL(c, sv, "section '%s' is listed twice", nm->s);
    (*n)++;
  }
  return SG_OK;
}

static sg_status parse_stem(ctx *c, yaml_node_t *map, int i) {
  sg_song *s = c->s;
  char where[SG_MAX_NAME + 32];
  item_label(c, map, "stem", i, where, sizeof where);
  sg_status st = expect_map(c, map, where, STEM_KEYS, COUNT(STEM_KEYS));
  if (st || (st = check_keys(c, map, STEM_KEYS, COUNT(STEM_KEYS), where)))
    return st;
  sg_stem_spec *stem = &s->stems[i];
  memset(stem, 0, sizeof *stem);
  stem->pos = pos_of(map);
  yaml_node_t *params_node = NULL, *effects_node = NULL, *instrument_node = NULL;
  FOR_PAIRS(c, map, p, k, v) {
    const char *key = key_of(k);
    long long ll;
    int idx;
    if (!strcmp(key, "name")) {
      if (!(st = get_name(c, v, key, &stem->name, 1)))
        st = check_name_chars(c, &stem->name, "stem");
    } else if (!strcmp(key, "instrument")) {
      instrument_node = v;
      if (!(st = get_choice(c, v, key, INSTRUMENTS, COUNT(INSTRUMENTS), &idx))) {
        snprintf(stem->instrument.s, sizeof stem->instrument.s, "%s", INSTRUMENTS[idx]);
        stem->instrument.pos = pos_of(v);
      }
    } else if (!strcmp(key, "patch")) {
      st = get_name(c, v, key, &stem->patch, 1);
    } else if (!strcmp(key, "params")) {
      params_node = v;
    } else if (!strcmp(key, "style")) {
      st = get_name(c, v, key, &stem->style, 1);
    } else if (!strcmp(key, "role")) {
      if (!(st = get_choice(c, v, key, ROLES, COUNT(ROLES), &idx))) {
        snprintf(stem->role.s, sizeof stem->role.s, "%s", ROLES[idx]);
        stem->role.pos = pos_of(v);
      }
    } else if (!strcmp(key, "pattern")) {
      if (!(st = get_text(c, v, key, stem->pattern.s, sizeof stem->pattern.s, 1)))
        text_layout(v, &stem->pattern);
    } else if (!strcmp(key, "melody")) {
      if (!(st = get_text(c, v, key, stem->melody.s, sizeof stem->melody.s, 1)))
        text_layout(v, &stem->melody);
    } else if (!strcmp(key, "sections") || !strcmp(key, "tacet")) {
      st = parse_plays(c, map, v, key, "a stem", stem->sections, &stem->n_sections, &stem->tacet);
    } else if (!strcmp(key, "gain_db")) {
      st = get_num(c, v, key, -60, 24, "dB", &stem->gain_db);
    } else if (!strcmp(key, "pan")) {
      st = get_num(c, v, key, -1, 1, "", &stem->pan);
    } else if (!strcmp(key, "octave")) {
      if (!(st = get_int(c, v, key, -4, 4, &ll)))
        stem->octave = (int)ll;
    } else if (!strcmp(key, "midi_file")) {
      st = get_text(c, v, key, stem->midi_file, sizeof stem->midi_file, 1);
      stem->midi_file_pos = pos_of(v);
    } else if (!strcmp(key, "soundfont")) {
      st = get_text(c, v, key, stem->soundfont, sizeof stem->soundfont, 1);
      stem->soundfont_pos = pos_of(v);
    } else if (!strcmp(key, "program")) {
      if (!(st = get_int(c, v, key, 0, 127, &ll)))
        stem->program = (int)ll;
    } else if (!strcmp(key, "sidechain")) {
      st = get_text(c, v, key, stem->sidechain, sizeof stem->sidechain, 1);
      stem->sidechain_pos = pos_of(v);
    } else { /* effects */
      effects_node = v;
    }
    if (st)
      return st;
  }
  if (!stem->name.s[0])
    return FAIL(c, map, "%s has no 'name'; every stem needs a unique name (Guitars, Bass, ...)",
                where);
  snprintf(where, sizeof where, "stem '%s'", stem->name.s);
  if (!instrument_node) {
    char list[200];
    return FAIL(c, map, "stem '%s' has no 'instrument'; give one of %s", stem->name.s,
                join(INSTRUMENTS, COUNT(INSTRUMENTS), list, sizeof list));
  }
  if (params_node) {
    if (params_node->type != YAML_MAPPING_NODE)
      return FAIL(c, params_node,
                  "'params' of stem '%s' must be a mapping of patch parameters (name: value), "
                  "got %s",
                  stem->name.s, kind_of(params_node));
    char pw[SG_MAX_NAME + 32];
    snprintf(pw, sizeof pw, "params of stem '%s'", stem->name.s);
    if ((st = parse_params(c, params_node, &stem->overrides, pw, NULL)))
      return st;
  }
  if (effects_node && (st = parse_effects(c, effects_node, stem->effects, &stem->n_effects, where)))
    return st;
  if (!strcmp(stem->instrument.s, "soundfont") && !stem->soundfont[0])
    return FAIL(c, instrument_node,
                "stem '%s' uses instrument soundfont but gives no "
                "'soundfont' file (.sf2)",
                stem->name.s);
  if (stem->soundfont[0] && strcmp(stem->instrument.s, "soundfont") != 0)
    return FAIL(c, lookup(c, map, "soundfont"),
                "stem '%s' gives 'soundfont' but its instrument is %s; use instrument: soundfont",
                stem->name.s, stem->instrument.s);
  for (int j = 0; j < i; ++j)
    if (sg__ieq(s->stems[j].name.s, stem->name.s))
      return fail_pos(c, stem->name.pos,
                      "duplicate stem name '%s' (first at line %d); stem names must be unique "
                      "(case-insensitive)",
                      stem->name.s, s->stems[j].name.pos.line);
  return SG_OK;
}

static sg_status parse_seed_into(ctx *c, yaml_node_t *v, uint64_t *out);
static sg_status parse_drums(ctx *c, yaml_node_t *map) {
  sg_drums_spec *dr = &c->s->drums;
  sg_status st = expect_map(c, map, "'drums'", DRUMS_KEYS, COUNT(DRUMS_KEYS));
  if (st || (st = check_keys(c, map, DRUMS_KEYS, COUNT(DRUMS_KEYS), "drums")))
    return st;
  dr->pos = pos_of(map);
  dr->source = SG_DRUMS_SYNTH; /* a drums block asks for drums */
  yaml_node_t *source_node = NULL;
  FOR_PAIRS(c, map, p, k, v) {
    const char *key = key_of(k);
    int idx;
    if (!strcmp(key, "source")) {
      source_node = v;
      if (!(st = get_choice(c, v, key, DRUM_SOURCES, COUNT(DRUM_SOURCES), &idx)))
        dr->source = (sg_drums_source)idx;
    } else if (!strcmp(key, "reference")) {
      if (!(st = get_text(c, v, key, dr->reference, sizeof dr->reference, 1)))
        dr->reference_pos = pos_of(v);
    } else if (!strcmp(key, "fit")) {
      if (!(st = get_choice(c, v, key, FITS, COUNT(FITS), &idx)))
        dr->fit = (sg_fit_policy)idx;
    } else if (!strcmp(key, "align")) {
      st = get_bool(c, v, key, &dr->align);
    } else if (!strcmp(key, "follow_tempo_map")) {
      st = get_bool(c, v, key, &dr->follow_tempo_map);
    } else if (!strcmp(key, "tempo_tolerance_bpm")) {
      st = get_num(c, v, key, 0, 20, "BPM", &dr->tempo_tolerance_bpm);
    } else if (!strcmp(key, "style")) {
      st = get_name(c, v, key, &dr->style, 1);
    } else if (!strcmp(key, "patch")) {
      st = get_name(c, v, key, &dr->patch, 1);
    } else if (!strcmp(key, "pattern")) {
      if (!(st = get_text(c, v, key, dr->pattern.s, sizeof dr->pattern.s, 1)))
        text_layout(v, &dr->pattern);
    } else if (!strcmp(key, "fills")) {
      int on = 0;
      if (!(st = get_bool(c, v, key, &on)))
        dr->fills = on ? 1 : -1; /* 0 stays "unset" */
    } else if (!strcmp(key, "gain_db")) {
      st = get_num(c, v, key, -60, 24, "dB", &dr->gain_db);
    } else if (!strcmp(key, "sections") || !strcmp(key, "tacet")) {
      st = parse_plays(c, map, v, key, "the drums", dr->sections, &dr->n_sections, &dr->tacet);
    } else if (!strcmp(key, "seed")) {
      if (!(st = parse_seed_into(c, v, &dr->seed)))
        dr->has_seed = 1;
    } else { /* effects */
      st = parse_effects(c, v, dr->effects, &dr->n_effects, "drums");
    }
    if (st)
      return st;
  }
  if (dr->source == SG_DRUMS_REFERENCE && !dr->reference[0])
    return FAIL(c, source_node ? source_node : map,
                "drums source is reference but no 'reference' file is given (a WAV/AIFF/FLAC "
                "path relative to the spec)");
  if (dr->source != SG_DRUMS_REFERENCE && dr->reference[0])
    return fail_pos(c, dr->reference_pos,
                    "drums give a 'reference' file but source is %s; set source: reference",
                    DRUM_SOURCES[dr->source]);
  return SG_OK;
}

static sg_status parse_master(ctx *c, yaml_node_t *map) {
  sg_master_spec *m = &c->s->master;
  sg_status st = expect_map(c, map, "'master'", MASTER_KEYS, COUNT(MASTER_KEYS));
  if (st || (st = check_keys(c, map, MASTER_KEYS, COUNT(MASTER_KEYS), "master")))
    return st;
  m->pos = pos_of(map);
  FOR_PAIRS(c, map, p, k, v) {
    const char *key = key_of(k);
    if (!strcmp(key, "loudness_lufs"))
      st = get_num(c, v, key, -40, -5, "LUFS", &m->loudness_lufs);
    else if (!strcmp(key, "loudness_tolerance"))
      st = get_num(c, v, key, 0.1, 3, "LU", &m->loudness_tolerance);
    else if (!strcmp(key, "true_peak_dbtp"))
      st = get_num(c, v, key, -9, 0, "dBTP", &m->true_peak_dbtp);
    else if (!strcmp(key, "headroom_db"))
      st = get_num(c, v, key, 0, 24, "dB", &m->headroom_db);
    else
      st = parse_effects(c, v, m->effects, &m->n_effects, "master");
    if (st)
      return st;
  }
  return SG_OK;
}

/* An output path from the spec must name a file inside the output folder (-o): relative, no
 * '..' component, no backslash (a Windows separator on another system), no empty or '.'
 * component, no control character. Checked here rather than when the file is written so a
 * render never starts with a name it cannot deliver, and the error points at the line. */
static sg_status check_inside(ctx *c, yaml_node_t *v, const char *key, const char *t) {
  const char *why = NULL;
  if (t[0] == '/')
    why = "an absolute path";
  else if (strchr(t, '\\'))
    why = "a '\\'";
  for (const char *q = t; *q && !why; ++q)
    if ((unsigned char)*q < 0x20 || *q == 0x7f)
      why = "a control character";
  for (const char *q = t; *q && !why;) {
    const char *e = strchr(q, '/');
    size_t n = e ? (size_t)(e - q) : strlen(q);
    if (n == 2 && !strncmp(q, "..", 2))
      why = "a '..' component";
    else if (n == 0 || (n == 1 && *q == '.'))
      why = "an empty or '.' component";
    q += n + (e ? 1 : 0);
    if (e && !*q && !why)
      why = "a trailing '/'";
  }
  if (why)
    return FAIL(c, v,
                "'%s' must be a relative file name inside the output folder (-o), got '%s' "
                "with %s",
                key, t, why);
  return SG_OK;
}

static sg_status check_naming(ctx *c, yaml_node_t *v, const char *t) {
  static const char *const FIELDS[] = {"song", "stem", "index", "rate", "format"};
  int has_stem = 0;
  for (const char *q = t; *q; ++q) {
    if (*q == '}')
      return FAIL(c, v, "'naming' has a '}' without '{'");
    if (*q != '{')
      continue;
    const char *e = strchr(q, '}');
    if (!e)
      return FAIL(c, v, "'naming' has a '{' without '}'");
    char field[32];
    size_t n = (size_t)(e - q - 1);
    if (n >= sizeof field)
      n = sizeof field - 1;
    memcpy(field, q + 1, n);
    field[n] = '\0';
    int ok = 0;
    for (int i = 0; i < COUNT(FIELDS) && !ok; ++i)
      ok = strcmp(field, FIELDS[i]) == 0;
    if (!ok) {
      char dym[96];
      return FAIL(c, v,
                  "'naming' has unknown field '{%s}'%s Allowed: {song}, {stem}, {index}, "
                  "{rate}, {format}",
                  field,
                  did_you_mean(field, FIELDS, COUNT(FIELDS), dym, sizeof dym)[0] ? dym : ".");
    }
    has_stem |= !strcmp(field, "stem");
    q = e;
  }
  if (!has_stem)
    return FAIL(c, v, "'naming' must contain {stem} so every stem gets its own file");
  if (t[0] == '/' || strstr(t, "..") || strchr(t, '\\'))
    return FAIL(c, v,
                "'naming' must be a relative name inside the archive (no leading '/', "
                "'..' or '\\')");
  return check_inside(c, v, "deliverable.naming", t);
}

static sg_status parse_deliverable(ctx *c, yaml_node_t *map) {
  sg_deliverable_spec *dl = &c->s->deliverable;
  sg_status st = expect_map(c, map, "'deliverable'", DELIVERABLE_KEYS, COUNT(DELIVERABLE_KEYS));
  if (st || (st = check_keys(c, map, DELIVERABLE_KEYS, COUNT(DELIVERABLE_KEYS), "deliverable")))
    return st;
  FOR_PAIRS(c, map, p, k, v) {
    const char *key = key_of(k);
    if (!strcmp(key, "zip")) {
      if (!(st = get_text(c, v, key, dl->zip, sizeof dl->zip, 1)))
        st = check_inside(c, v, "deliverable.zip", dl->zip);
    } else if (!strcmp(key, "naming")) {
      if (!(st = get_text(c, v, key, dl->naming, sizeof dl->naming, 1)))
        st = check_naming(c, v, dl->naming);
    } else if (!strcmp(key, "deflate")) {
      st = get_bool(c, v, key, &dl->deflate);
    } else {
      st = get_bool(c, v, key, &dl->midi);
    }
    if (st)
      return st;
  }
  return SG_OK;
}

static sg_status parse_gates(ctx *c, yaml_node_t *map) {
  sg_gate_limits *g = &c->s->limits;
  sg_status st = expect_map(c, map, "'gates'", GATES_KEYS, COUNT(GATES_KEYS));
  if (st || (st = check_keys(c, map, GATES_KEYS, COUNT(GATES_KEYS), "gates")))
    return st;
  FOR_PAIRS(c, map, p, k, v) {
    const char *key = key_of(k);
    if (!strcmp(key, "sync_ms"))
      st = get_num(c, v, key, 0.01, 1000, "ms", &g->sync_ms);
    else if (!strcmp(key, "length_tolerance_ms"))
      st = get_num(c, v, key, 0, 10000, "ms", &g->length_tolerance_ms);
    else if (!strcmp(key, "dc_offset"))
      st = get_num(c, v, key, 0, 0.1, "", &g->dc_offset);
    else if (!strcmp(key, "silence_dbfs"))
      st = get_num(c, v, key, -144, -20, "dBFS", &g->silence_dbfs);
    else if (!strcmp(key, "tail_s"))
      st = get_num(c, v, key, 0, 60, "s", &g->tail_s);
    else if (!strcmp(key, "limiter_gr_db"))
      st = get_num(c, v, key, 0, 60, "dB", &g->limiter_gr_db);
    else
      st = get_num(c, v, key, 0, 120, "s", &g->key_window_sec);
    if (st)
      return st;
  }
  return SG_OK;
}

/* A tempo value of key ("tempo", "to"): a plain decimal of BPM in `beat` units, or 'auto' when
 * allowed (only the song's tempo). */
static sg_status get_tempo(ctx *c, yaml_node_t *v, const char *key, int allow_auto, sg_decimal *out,
                           int *is_auto) {
  const char *t;
  sg_status st = scalar(c, v, key,
                        allow_auto ? "a number of BPM (e.g. 140 or 97.3) or 'auto'"
                                   : "a number of BPM (e.g. 140 or 97.3)",
                        &t);
  if (st)
    return st;
  out->pos = pos_of(v);
  if (allow_auto && !strcmp(t, "auto")) {
    *is_auto = 1;
    out->num = 0;
    out->den = 1;
    return SG_OK;
  }
  int64_t num, den;
  int r = sg__parse_decimal(t, 6, &num, &den);
  char sh[64];
  if (r == -2)
    return FAIL(c, v, "'%s' %s has more than 6 decimals; give at most 6 (e.g. 97.3)", key,
                shown(v, sh, sizeof sh));
  if (r != 0) {
    double x;
    if (r == -3 || sg__parse_number(t, &x))
      return FAIL(c, v,
                  "'%s' must be a plain decimal from 20 to 400 BPM (e.g. 140 or 97.3), "
                  "got %s",
                  key, shown(v, sh, sizeof sh));
    return FAIL(c, v, "'%s' must be a number of BPM (e.g. 140 or 97.3)%s, got %s", key,
                allow_auto ? " or 'auto'" : "", t[0] ? shown(v, sh, sizeof sh) : "nothing");
  }
  out->num = num; /* the range is checked in quarter notes, after `beat` (convert_beat) */
  out->den = den;
  return SG_OK;
}

static sg_status parse_tempo(ctx *c, yaml_node_t *v) {
  return get_tempo(c, v, "tempo", 1, &c->s->tempo, &c->s->tempo_auto);
}

/* A section's `tempo_change: {to: 120, over_bars: 4, curve: linear}`. */
static sg_status parse_tempo_change(ctx *c, yaml_node_t *v, sg_section_spec *sec) {
  char where[SG_MAX_NAME + 48];
  snprintf(where, sizeof where, "'tempo_change' of section '%s'",
           sec->name.s[0] ? sec->name.s : "?");
  sg_status st = expect_map(c, v, where, TEMPO_CHANGE_KEYS, COUNT(TEMPO_CHANGE_KEYS));
  if (st || (st = check_keys(c, v, TEMPO_CHANGE_KEYS, COUNT(TEMPO_CHANGE_KEYS), where)))
    return st;
  sec->ramp_pos = pos_of(v);
  int to = 0;
  FOR_PAIRS(c, v, p, k, x) {
    const char *key = key_of(k);
    long long ll;
    int idx, dummy = 0;
    if (!strcmp(key, "to")) {
      st = get_tempo(c, x, key, 0, &sec->ramp_to, &dummy);
      to = 1;
    } else if (!strcmp(key, "over_bars")) {
      if (!(st = get_int(c, x, key, 1, 4096, &ll))) {
        sec->ramp_bars = (int)ll;
        sec->ramp_bars_pos = pos_of(x);
      }
    } else if (!(st = get_choice(c, x, key, CURVES, COUNT(CURVES), &idx))) {
      sec->ramp_curve = (sg_tempo_curve)idx;
    }
    if (st)
      return st;
  }
  if (!to)
    return FAIL(c, v, "%s has no 'to': give the tempo the change arrives at (e.g. to: 90)", where);
  return SG_OK;
}

/* One tempo written in `beat` units per minute, converted in place to quarter notes per minute
 * (exact: the ratios 3/2, 1/2 and 2 keep a decimal a decimal) and range-checked. */
static sg_status tempo_to_quarters(ctx *c, sg_decimal *t, const char *key) {
  int bn, bd;
  sg_song *s = c->s;
  sg_beat_quarters(s->beat, &bn, &bd);
  int64_t num = t->num * bn, den = t->den;
  if (bd == 2) { /* x/2 = 5x/10: den stays a power of ten */
    num *= 5;
    den *= 10;
  }
  while (den > 1 && num % 10 == 0) {
    num /= 10;
    den /= 10;
  }
  if ((num < 20 * den || num > 400 * den) && s->beat == SG_BEAT_QUARTER)
    return fail_pos(c, t->pos, "'%s' is %.6g BPM, outside the allowed range 20 to 400 BPM", key,
                    (double)num / (double)den);
  if (num < 20 * den || num > 400 * den)
    return fail_pos(c, t->pos,
                    "'%s' %.6g %s beats per minute is %.6g quarter notes per minute, outside "
                    "the allowed range 20 to 400",
                    key, (double)t->num / (double)t->den, sg_beat_name(s->beat),
                    (double)num / (double)den);
  t->num = num;
  t->den = den;
  return SG_OK;
}

/* tempo counts `beat`s: converted here, once, into quarter notes per minute, the song's and
 * every section's. */
static sg_status convert_beat(ctx *c, yaml_node_t *beat_node) {
  sg_song *s = c->s;
  sg_status st;
  s->tempo_written = s->tempo;
  if (s->tempo_auto) {
    if (beat_node && s->beat != SG_BEAT_QUARTER)
      return FAIL(c, beat_node,
                  "'beat: %s' needs a numeric tempo; tempo: auto takes the reference's quarter "
                  "notes",
                  sg_beat_name(s->beat));
    for (int i = 0; i < s->n_sections; ++i) {
      const sg_section_spec *sec = &s->sections[i];
      if (sec->tempo.num > 0 || sec->ramp_to.num > 0)
        return fail_pos(c, sec->tempo.num > 0 ? sec->tempo.pos : sec->ramp_pos,
                        "section '%s' changes the tempo, but the song's tempo is auto (the "
                        "reference's); give the song a BPM number to write a tempo map",
                        sec->name.s);
    }
    return SG_OK;
  }
  if ((st = tempo_to_quarters(c, &s->tempo, "tempo")))
    return st;
  for (int i = 0; i < s->n_sections; ++i) {
    sg_section_spec *sec = &s->sections[i];
    if (sec->tempo.num > 0 && (st = tempo_to_quarters(c, &sec->tempo, "tempo")))
      return st;
    if (sec->ramp_to.num > 0 && (st = tempo_to_quarters(c, &sec->ramp_to, "to")))
      return st;
    if (sec->ramp_bars > 0 && sec->bars > 0 && sec->ramp_bars > sec->bars)
      return fail_pos(c, sec->ramp_bars_pos,
                      "section '%s' has %d bars, but its tempo_change runs over %d; over_bars "
                      "counts the section's last bars",
                      sec->name.s, sec->bars, sec->ramp_bars);
  }
  return SG_OK;
}

static sg_status parse_meter(ctx *c, yaml_node_t *v) {
  const char *t;
  sg_status st = scalar(c, v, "meter", "a time signature like \"4/4\", \"3/4\" or \"6/8\"", &t);
  if (st)
    return st;
  char sh[64];
  const char *slash = strchr(t, '/');
  long long num, den;
  char a[16], b[16];
  size_t la = slash ? (size_t)(slash - t) : 0;
  if (!slash || la == 0 || la >= sizeof a || strlen(slash + 1) >= sizeof b)
    return FAIL(c, v, "'meter' must be N/D like \"4/4\", \"3/4\" or \"6/8\", got %s",
                t[0] ? shown(v, sh, sizeof sh) : "nothing");
  memcpy(a, t, la);
  a[la] = '\0';
  snprintf(b, sizeof b, "%s", slash + 1);
  if (!sg__parse_integer(a, &num) || !sg__parse_integer(b, &den) || a[0] == '+' || a[0] == '-' ||
      b[0] == '+' || b[0] == '-')
    return FAIL(c, v, "'meter' must be N/D with whole numbers like \"4/4\" or \"7/8\", got %s",
                shown(v, sh, sizeof sh));
  if (num < 1 || num > 32)
    return FAIL(c, v, "'meter' numerator is %lld; allowed 1 to 32 beats per bar", num);
  if (den != 1 && den != 2 && den != 4 && den != 8 && den != 16)
    return FAIL(c, v, "'meter' denominator is %lld; allowed 1, 2, 4, 8 or 16", den);
  c->s->meter_num = (int)num;
  c->s->meter_den = (int)den;
  return SG_OK;
}

static sg_status parse_rate(ctx *c, yaml_node_t *v) {
  long long r;
  sg_status st = get_int(c, v, "sample_rate", 1, 10000000, &r);
  if (st)
    return st;
  for (int i = 0; i < COUNT(RATES); ++i)
    if (r == RATES[i]) {
      c->s->sample_rate = RATES[i];
      return SG_OK;
    }
  return FAIL(c, v, "'sample_rate' %lld Hz is not supported; allowed 44100, 48000, 88200 or 96000",
              r);
}

static sg_status parse_seed_into(ctx *c, yaml_node_t *v, uint64_t *out) {
  const char *t;
  sg_status st = scalar(c, v, "seed", "a whole number from 0 to 18446744073709551615", &t);
  if (st)
    return st;
  uint64_t x = 0;
  const char *q = t;
  for (; *q >= '0' && *q <= '9'; ++q) {
    unsigned dgt = (unsigned)(*q - '0');
    if (x > (UINT64_MAX - dgt) / 10)
      return FAIL(c, v, "'seed' is larger than 18446744073709551615");
    x = x * 10 + dgt;
  }
  if (q == t || *q) {
    char sh[64];
    return FAIL(c, v, "'seed' must be a whole number from 0 to 18446744073709551615, got %s",
                t[0] ? shown(v, sh, sizeof sh) : "nothing");
  }
  *out = x;
  return SG_OK;
}

static sg_status parse_seed(ctx *c, yaml_node_t *v) { return parse_seed_into(c, v, &c->s->seed); }

/* ---- cross-checks and defaults ------------------------------------------------------------ */

static const char *const *section_names(const sg_song *s, const char **buf) {
  for (int i = 0; i < s->n_sections; ++i)
    buf[i] = s->sections[i].name.s;
  return buf;
}

/* A sidechain source named by stem self (or -2: by the drums, -1: by the master bus). */
static sg_status check_sidechain(ctx *c, int self, const char *name, sg_pos pos) {
  const sg_song *s = c->s;
  char owner[SG_MAX_NAME + 16];
  if (self >= 0)
    snprintf(owner, sizeof owner, "stem '%s'", s->stems[self].name.s);
  else
    snprintf(owner, sizeof owner, "%s", self == -2 ? "drums" : "master");
  int target = sg_song_stem_index(s, name);
  if (target >= 0 && target == self)
    return fail_pos(c, pos, "%s cannot sidechain from itself", owner);
  if (target >= 0)
    return SG_OK;
  if (sg__ieq(name, "Drums")) {
    if (self == -2)
      return fail_pos(c, pos, "drums cannot sidechain from itself");
    if (s->drums.source != SG_DRUMS_NONE)
      return SG_OK;
    return fail_pos(c, pos,
                    "%s sidechains from Drums, but the song has no drums (drums source is "
                    "none)",
                    owner);
  }
  const char *cand[SG_MAX_STEMS + 1];
  int nc = 0;
  for (int j = 0; j < s->n_stems; ++j)
    if (j != self)
      cand[nc++] = s->stems[j].name.s;
  if (s->drums.source != SG_DRUMS_NONE && self != -2)
    cand[nc++] = "Drums";
  char dym[96], list[600];
  return fail_pos(c, pos, "%s sidechains from unknown stem '%s'%s Allowed: %s", owner, name,
                  did_you_mean(name, cand, nc, dym, sizeof dym)[0] ? dym : ".",
                  nc ? join(cand, nc, list, sizeof list) : "(no other stems)");
}

/* A stem's or the drums' sections / tacet list: known names, and at least one section played. */
static sg_status check_plays(ctx *c, const char *const *names, const char *who, const char *name,
                             const sg_name *list, int n, int tacet) {
  const sg_song *s = c->s;
  for (int j = 0; j < n; ++j) {
    if (sg_song_section_index(s, list[j].s) >= 0)
      continue;
    char dym[96], all[600];
    return fail_pos(c, list[j].pos, "%s '%s' %s unknown section '%s'%s Sections: %s", who, name,
                    tacet ? "sits out" : "plays in", list[j].s,
                    did_you_mean(list[j].s, names, s->n_sections, dym, sizeof dym)[0] ? dym : ".",
                    join(names, s->n_sections, all, sizeof all));
  }
  if (tacet && n > 0 && n >= s->n_sections)
    return fail_pos(c, list[0].pos,
                    "%s '%s' sits out every section; remove it or play in at least one", who, name);
  return SG_OK;
}

static sg_status finish(ctx *c, yaml_node_t *root) {
  sg_song *s = c->s;
  sg_status r;
  const char *names[SG_MAX_SECTIONS > SG_MAX_STEMS ? SG_MAX_SECTIONS : SG_MAX_STEMS];
  /* Every section has a length: bars, an end, or the next section's start. */
  for (int i = 0; i < s->n_sections; ++i) {
    const sg_section_spec *sec = &s->sections[i];
    int next_start = i + 1 < s->n_sections && s->sections[i + 1].start_sec >= 0;
    if (sec->bars == 0 && sec->end_sec < 0 && !next_start)
      return fail_pos(c, sec->pos,
                      "section '%s' has no length: give it 'bars', or an 'end' time (\"1:22\" "
                      "or seconds)%s",
                      sec->name.s,
                      i + 1 < s->n_sections ? ", or a 'start' time on the next section" : "");
    if (i > 0 && sec->start_sec >= 0) {
      const sg_section_spec *pr = &s->sections[i - 1];
      double prev_t = pr->end_sec >= 0 ? pr->end_sec : pr->start_sec;
      if (prev_t >= 0 && sec->start_sec < prev_t)
        return fail_pos(c, sec->start_pos,
                        "section '%s' starts at %.3f s, before section '%s' %s (%.3f s); sections "
                        "are listed in playing order",
                        sec->name.s, sec->start_sec, pr->name.s,
                        pr->end_sec >= 0 ? "ends" : "starts", prev_t);
    }
  }
  /* Stems: sections exist, sidechains exist, defaults from the song. */
  section_names(s, names);
  for (int i = 0; i < s->n_stems; ++i) {
    sg_stem_spec *st = &s->stems[i];
    sg_status ps =
        check_plays(c, names, "stem", st->name.s, st->sections, st->n_sections, st->tacet);
    if (ps)
      return ps;
    if (!st->style.s[0])
      snprintf(st->style.s, sizeof st->style.s, "%s", s->style.s);
    if (st->melody.s[0]) { /* a written line is a lead: it gives both the rhythm and the notes */
      if (st->pattern.s[0])
        return fail_pos(c, st->melody.pos,
                        "stem '%s' has both 'melody' and 'pattern'; a melody gives its own "
                        "rhythm, so keep one",
                        st->name.s);
      if (st->midi_file[0])
        return fail_pos(c, st->melody.pos,
                        "stem '%s' has both 'melody' and 'midi_file'; keep one source of notes",
                        st->name.s);
      if (st->role.s[0] && strcmp(st->role.s, "lead") != 0)
        return fail_pos(c, st->role.pos,
                        "stem '%s' has a 'melody', which plays as role lead, but role is '%s'; "
                        "set role: lead or leave it out",
                        st->name.s, st->role.s);
      snprintf(st->role.s, sizeof st->role.s, "lead");
    }
    if (!st->role.s[0])
      for (int k = 0; k < COUNT(INSTRUMENTS); ++k)
        if (!strcmp(st->instrument.s, INSTRUMENTS[k]))
          snprintf(st->role.s, sizeof st->role.s, "%s", INSTRUMENT_ROLES[k]);
    if (s->drums.source != SG_DRUMS_NONE && sg__ieq(st->name.s, "Drums"))
      return fail_pos(c, st->name.pos,
                      "stem name '%s' is taken by the drums block (its stem is 'Drums', source "
                      "%s); rename this stem or set drums source: none",
                      st->name.s, DRUM_SOURCES[s->drums.source]);
  }
  {
    sg_status ps = check_plays(c, names, "drums", "Drums", s->drums.sections, s->drums.n_sections,
                               s->drums.tacet);
    if (ps)
      return ps;
  }
  /* Sidechains: the stem-level key and every compressor's 'sidechain' parameter must name
   * another stem or Drums. A stem without the key takes its compressor's, so the mixer can read
   * st->sidechain alone. */
  for (int i = 0; i < s->n_stems; ++i) {
    sg_stem_spec *st = &s->stems[i];
    if (st->sidechain[0] && (r = check_sidechain(c, i, st->sidechain, st->sidechain_pos)))
      return r;
    for (int e = 0; e < st->n_effects; ++e) {
      const sg_param *sc = sg_params_find(&st->effects[e].params, "sidechain");
      if (!sc || strcmp(st->effects[e].type.s, "compressor") != 0)
        continue;
      if ((r = check_sidechain(c, i, sc->text, sc->pos)))
        return r;
      if (!st->sidechain[0]) {
        /* It names a stem (names are < SG_MAX_NAME) or Drums, so it fits. */
        size_t n = strlen(sc->text);
        memcpy(st->sidechain, sc->text, n < sizeof st->sidechain ? n + 1 : 0);
        st->sidechain[sizeof st->sidechain - 1] = '\0';
        st->sidechain_pos = sc->pos;
      } else if (!sg__ieq(st->sidechain, sc->text)) {
        return fail_pos(c, sc->pos,
                        "stem '%s' has sidechain '%s' but its compressor names "
                        "'%s'; give one sidechain source",
                        st->name.s, st->sidechain, sc->text);
      }
    }
  }
  for (int e = 0; e < s->drums.n_effects; ++e) {
    const sg_param *sc = sg_params_find(&s->drums.effects[e].params, "sidechain");
    if (sc && !strcmp(s->drums.effects[e].type.s, "compressor") &&
        (r = check_sidechain(c, -2, sc->text, sc->pos)))
      return r;
  }
  for (int e = 0; e < s->master.n_effects; ++e) {
    const sg_param *sc = sg_params_find(&s->master.effects[e].params, "sidechain");
    if (sc && !strcmp(s->master.effects[e].type.s, "compressor") &&
        (r = check_sidechain(c, -1, sc->text, sc->pos)))
      return r;
  }
  if (!s->drums.style.s[0])
    snprintf(s->drums.style.s, sizeof s->drums.style.s, "%s", s->style.s);
  if (s->tempo_auto && s->drums.source != SG_DRUMS_REFERENCE)
    return fail_pos(c, s->tempo.pos,
                    "tempo: auto takes the tempo of a drum reference, but drums "
                    "source is not reference; give a BPM number");
  if (s->n_stems == 0 && s->drums.source == SG_DRUMS_NONE)
    return FAIL(c, root,
                "the song has nothing to render: give at least one stem under 'stems' or "
                "a 'drums' block");
  if (!s->deliverable.zip[0])
    snprintf(s->deliverable.zip, sizeof s->deliverable.zip, "%s.zip", s->slug);
  return SG_OK;
}

static int lower_ascii(int ch) { return (ch >= 'A' && ch <= 'Z') ? ch - 'A' + 'a' : ch; }

/* "Deja Vu!" -> "deja-vu": lowercase ASCII letters and digits, runs of anything else -> '-'. */
static void make_slug(sg_song *s) {
  size_t k = 0;
  int dash = 0;
  for (const unsigned char *q = (const unsigned char *)s->title; *q && k + 1 < sizeof s->slug;
       ++q) {
    int ch = *q;
    if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z')) {
      if (dash && k > 0 && k + 2 < sizeof s->slug)
        s->slug[k++] = '-';
      dash = 0;
      s->slug[k++] = (char)lower_ascii(ch);
    } else {
      dash = 1;
    }
  }
  s->slug[k] = '\0';
  if (!k)
    snprintf(s->slug, sizeof s->slug, "song");
}

static void set_defaults(sg_song *s) {
  s->meter_num = 4;
  s->meter_den = 4;
  s->tempo.den = 1;
  s->sample_rate = 48000;
  s->format = SG_FMT_FLOAT32;
  s->channels = 2;
  snprintf(s->key.s, sizeof s->key.s, "C major");
  snprintf(s->style.s, sizeof s->style.s, "pop");
  s->swing = 0;
  s->humanize_ms = 8;
  s->humanize_velocity = 0.08;
  s->drums.source = SG_DRUMS_NONE;
  s->drums.fit = SG_FIT_FADE;
  s->drums.align = 1;
  s->drums.follow_tempo_map = 0;
  /* Default limits are the check table's (include/stemgate/check.h): one place for each. */
  s->drums.tempo_tolerance_bpm = sg_check_get(SG_CHECK_TEMPO)->limit;
  s->master.loudness_lufs = -14;
  s->master.loudness_tolerance = sg_check_get(SG_CHECK_LOUDNESS)->limit;
  s->master.true_peak_dbtp = sg_check_get(SG_CHECK_TRUE_PEAK)->limit;
  s->master.headroom_db = 6;
  s->deliverable.naming[0] = '\0'; /* empty: the package module's default template */
  s->deliverable.deflate = 0;
  s->deliverable.midi = 1;
  s->limits.sync_ms = sg_check_get(SG_CHECK_SYNC_OFFSET)->limit;
  s->limits.length_tolerance_ms = sg_check_get(SG_CHECK_LENGTH)->limit;
  s->limits.dc_offset = sg_check_get(SG_CHECK_DC_OFFSET)->limit;
  s->limits.silence_dbfs = sg_check_get(SG_CHECK_SILENCE)->limit;
  s->limits.key_window_sec = sg_check_get(SG_CHECK_KEY_CHANGE)->limit;
  s->limits.tail_s = SG_TAIL_S_DEFAULT;
  s->limits.limiter_gr_db = sg_check_get(SG_CHECK_LIMITER_GR)->limit;
  s->ending = SG_ENDING_RING;
  s->ending_max_s = SG_ENDING_MAX_S_DEFAULT;
  s->ending_fade_bars = SG_ENDING_FADE_BARS_DEFAULT;
}

static sg_status parse_root(ctx *c, yaml_node_t *root) {
  sg_song *s = c->s;
  sg_status st = expect_map(c, root, "the song spec", TOP_KEYS, COUNT(TOP_KEYS));
  if (st || (st = check_keys(c, root, TOP_KEYS, COUNT(TOP_KEYS), "song")))
    return st;
  static const char *const required[] = {"title", "tempo", "sections"};
  for (int i = 0; i < COUNT(required); ++i)
    if (!lookup(c, root, required[i]))
      return FAIL(c, root, "missing required key '%s' in song (required: title, tempo, sections)",
                  required[i]);
  yaml_node_t *seed_node = NULL, *beat_node = NULL;
  yaml_node_t *stems_node = NULL;
  FOR_PAIRS(c, root, p, k, v) {
    const char *key = key_of(k);
    long long ll;
    int idx;
    if (!strcmp(key, "title")) {
      st = get_text(c, v, key, s->title, sizeof s->title, 1);
    } else if (!strcmp(key, "tempo")) {
      st = parse_tempo(c, v);
    } else if (!strcmp(key, "beat")) {
      beat_node = v;
      const char *beats[SG_BEAT_COUNT_]; /* the names are sg_beat_name's */
      for (int b = 0; b < SG_BEAT_COUNT_; ++b)
        beats[b] = sg_beat_name((sg_beat)b);
      if (!(st = get_choice(c, v, key, beats, SG_BEAT_COUNT_, &idx)))
        s->beat = (sg_beat)idx;
    } else if (!strcmp(key, "meter")) {
      st = parse_meter(c, v);
    } else if (!strcmp(key, "sample_rate")) {
      st = parse_rate(c, v);
    } else if (!strcmp(key, "format")) {
      if (!(st = get_choice(c, v, key, FORMATS, COUNT(FORMATS), &idx)))
        s->format = FORMAT_VALUES[idx];
    } else if (!strcmp(key, "channels")) {
      if (!(st = get_int(c, v, key, 1, 2, &ll)))
        s->channels = (unsigned)ll;
    } else if (!strcmp(key, "key")) {
      st = get_name(c, v, key, &s->key, 1);
    } else if (!strcmp(key, "style")) {
      st = get_name(c, v, key, &s->style, 1);
    } else if (!strcmp(key, "seed")) {
      seed_node = v;
      st = parse_seed(c, v);
    } else if (!strcmp(key, "swing")) {
      st = get_num(c, v, key, 0, 0.5, "", &s->swing);
    } else if (!strcmp(key, "humanize")) {
      st = parse_humanize(c, v);
    } else if (!strcmp(key, "ending")) {
      s->ending_pos = pos_of(v);
      if (!(st = get_choice(c, v, key, ENDINGS, COUNT(ENDINGS), &idx)))
        s->ending = (sg_ending)idx;
    } else if (!strcmp(key, "ending_max_s")) {
      st = get_num(c, v, key, 0.5, 60, "s", &s->ending_max_s);
    } else if (!strcmp(key, "ending_fade_bars")) {
      if (!(st = get_int(c, v, key, 1, 64, &ll)))
        s->ending_fade_bars = (int)ll;
    } else if (!strcmp(key, "sections")) {
      if ((st = expect_list(c, v, "'sections'", "sections (mappings with name, bars, ...)")))
        return st;
      if (seq_len(v) == 0)
        return FAIL(c, v, "'sections' is empty; give at least one section");
      FOR_ITEMS(c, v, it, sv) {
        if (s->n_sections >= SG_MAX_SECTIONS)
          return FAIL(c, sv, "too many sections (at most %d)", SG_MAX_SECTIONS);
        if ((st = parse_section(c, sv, s->n_sections)))
          return st;
        s->n_sections++;
      }
    } else if (!strcmp(key, "stems")) {
      stems_node = v;
      st = expect_list(c, v, "'stems'", "stems (mappings with name, instrument, ...)");
    } else if (!strcmp(key, "drums")) {
      st = parse_drums(c, v);
    } else if (!strcmp(key, "master")) {
      st = parse_master(c, v);
    } else if (!strcmp(key, "deliverable")) {
      st = parse_deliverable(c, v);
    } else if (!strcmp(key, "variations")) {
      s->variations_pos = pos_of(k); /* expanded by sg_song_variants (below) */
    } else if (!strcmp(key, "delivery")) {
      st = sg__parse_delivery(c->doc, v, c->file, &s->delivery, c->d); /* spec_delivery.c */
    } else {
      st = parse_gates(c, v);
    }
    if (st)
      return st;
  }
  if ((st = convert_beat(c, beat_node)))
    return st;
  /* Stems after the rest so the checks below see every section and the drums block. */
  if (stems_node) {
    FOR_ITEMS(c, stems_node, it, sv) {
      if (s->n_stems >= SG_MAX_STEMS)
        return FAIL(c, sv, "too many stems (at most %d)", SG_MAX_STEMS);
      if ((st = parse_stem(c, sv, s->n_stems)))
        return st;
      s->n_stems++;
    }
  }
  make_slug(s);
  if (!seed_node)
    s->seed = sg_hash64(s->title);
  sg_status fst = finish(c, root);
  return fst ? fst : sg__delivery_check(s, c->d);
}

/* Position of a libyaml error; reader errors carry only a byte offset. */
static sg_pos yaml_error_pos(const yaml_parser_t *p, const char *text, size_t len) {
  sg_pos pos = {1, 1};
  if (p->error == YAML_READER_ERROR) {
    size_t off = p->problem_offset < len ? p->problem_offset : len;
    for (size_t i = 0; i < off; ++i) {
      if (text[i] == '\n') {
        pos.line++;
        pos.col = 1;
      } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
        pos.col++;
      }
    }
    return pos;
  }
  pos.line = (int)p->problem_mark.line + 1;
  pos.col = (int)p->problem_mark.column + 1;
  return pos;
}

static sg_status yaml_failure(ctx *c, const yaml_parser_t *p, const char *text, size_t len) {
  if (p->error == YAML_MEMORY_ERROR) {
    sg_diag_at(c->d, c->file, 1, 1);
    return sg_diag_fail(c->d, SG_E_NOMEM, "out of memory while reading the YAML");
  }
  sg_pos pos = yaml_error_pos(p, text, len);
  const char *problem = p->problem ? p->problem : "malformed YAML";
  if (p->context && p->error != YAML_READER_ERROR)
    return fail_pos(c, pos, "YAML syntax error: %s %s (started at line %d, column %d)", problem,
                    p->context, (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
  if (p->error == YAML_READER_ERROR)
    return fail_pos(c, pos, "YAML syntax error: %s (byte value %d); the spec must be UTF-8 text",
                    problem, p->problem_value);
  return fail_pos(c, pos, "YAML syntax error: %s", problem);
}

/* Bounded input cost: libyaml's composer (yaml_parser_load) takes time quadratic in the nesting
 * depth, and a 4 MiB spec could nest about two million levels (hours). A song spec nests a few
 * levels (song, stems, a stem, its effects, an effect, a value: 6), so this first pass over the
 * event stream, linear while the depth stays bounded, refuses more than SPEC_MAX_DEPTH levels or
 * SPEC_MAX_NODES nodes before the document is built, at the line and column where the limit
 * was crossed. Errors of the YAML itself are left to the load that follows, which reports them
 * with its own message. */
#define SPEC_MAX_DEPTH 64
#define SPEC_MAX_NODES 200000
static sg_status bounded_shape(ctx *c, const char *text, size_t len) {
  yaml_parser_t p;
  if (!yaml_parser_initialize(&p))
    return sg_diag_fail(c->d, SG_E_NOMEM, "out of memory initialising the YAML parser");
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  sg_status st = SG_OK;
  long depth = 0, nodes = 0;
  for (int done = 0; !done && st == SG_OK;) {
    yaml_event_t e;
    if (!yaml_parser_parse(&p, &e))
      break; /* a syntax error: the load reports it */
    sg_pos at = {(int)e.start_mark.line + 1, (int)e.start_mark.column + 1};
    switch (e.type) {
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
      if (++depth > SPEC_MAX_DEPTH)
        st = fail_pos(c, at,
                      "the spec nests more than %d levels of lists and mappings; a song spec "
                      "needs fewer than 10",
                      SPEC_MAX_DEPTH);
      if (st == SG_OK && ++nodes > SPEC_MAX_NODES) /* a collection is a node too */
        st = fail_pos(c, at, "the spec has more than %d values; a song spec has a few hundred",
                      SPEC_MAX_NODES);
      break;
    case YAML_SCALAR_EVENT:
    case YAML_ALIAS_EVENT:
      if (++nodes > SPEC_MAX_NODES)
        st = fail_pos(c, at, "the spec has more than %d values; a song spec has a few hundred",
                      SPEC_MAX_NODES);
      break;
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
      --depth;
      break;
    case YAML_STREAM_END_EVENT:
      done = 1;
      break;
    default:
      break;
    }
    yaml_event_delete(&e);
  }
  yaml_parser_delete(&p);
  return st;
}

static void set_path(sg_song *s, const char *name) {
  snprintf(s->path, sizeof s->path, "%s", name);
  const char *slash = strrchr(name, '/');
  if (!slash)
    snprintf(s->dir, sizeof s->dir, ".");
  else if (slash == name)
    snprintf(s->dir, sizeof s->dir, "/");
  else
    snprintf(s->dir, sizeof s->dir, "%.*s", (int)(slash - name), name);
}

/* An sg_song is about 4 MB of fixed arrays (SG_MAX_STEMS stems, SG_MAX_SECTIONS sections, each
 * with its effects) of which a song uses a few percent. Allocating and zeroing the whole block
 * for every parse was most of the parser's cost (a fresh mapping, its page faults, under ASan
 * its shadow too: 250 parses per CPU-second in the fuzz target). So one freed song is kept and
 * handed to the next parse. It is kept all zero, as calloc would give it: on release only what a
 * parse or a caller can have written is cleared, which is everything but the stems and sections
 * past the counts (the parser fills entry n before it counts it, hence n + 1). One slot, swapped
 * atomically: threads parsing at once simply allocate. */
static _Atomic(sg_song *) spare_song;

static sg_song *song_alloc(void) {
  sg_song *s = atomic_exchange(&spare_song, NULL);
  return s ? s : calloc(1, sizeof *s);
}

static int used_entries(int n, int max) { return n < 0 ? max : n + 1 < max ? n + 1 : max; }

static void song_release(sg_song *s) {
  if (!s)
    return;
  char *p = (char *)s;
  int ns = used_entries(s->n_sections, SG_MAX_SECTIONS);
  int nt = used_entries(s->n_stems, SG_MAX_STEMS);
  memset(p, 0, offsetof(sg_song, sections) + (size_t)ns * sizeof s->sections[0]);
  char *gap = (char *)&s->sections[SG_MAX_SECTIONS];
  memset(gap, 0, (size_t)((char *)&s->stems[0] - gap) + (size_t)nt * sizeof s->stems[0]);
  char *tail = (char *)&s->stems[SG_MAX_STEMS];
  memset(tail, 0, (size_t)(p + sizeof *s - tail));
  sg_song *none = NULL;
  if (!atomic_compare_exchange_strong(&spare_song, &none, s))
    free(s);
}

/* A change made to the loaded YAML before the song is read from it (variations, below). */
typedef sg_status (*doc_hook)(ctx *c, void *user);

static sg_status parse_impl(const char *text, size_t len, const char *name, doc_hook hook,
                            void *hook_user, sg_song **out, sg_diag *d) {
  sg_diag_clear(d);
  if (!out)
    return sg_diag_fail(d, SG_E_INVAL, "sg_song_parse: NULL output");
  *out = NULL;
  if (!text && len)
    return sg_diag_fail(d, SG_E_INVAL, "sg_song_parse: NULL text");
  if (!name || !*name)
    name = "<spec>";
  if (strlen(name) >= SG_MAX_PATH)
    return sg_diag_fail(d, SG_E_INVAL, "spec path is too long (%zu bytes; at most %d)",
                        strlen(name), SG_MAX_PATH - 1);
  ctx c;
  memset(&c, 0, sizeof c);
  c.file = name;
  c.d = d;
  if (len > SPEC_MAX_BYTES)
    return fail_pos(&c, (sg_pos){1, 1},
                    "the spec is %zu bytes; a song spec may be at most %u bytes", len,
                    SPEC_MAX_BYTES);
  sg_song *s = song_alloc();
  if (!s)
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory for the song (%zu bytes)", sizeof *s);
  c.s = s;
  set_defaults(s);
  set_path(s, name);

  sg_status st = SG_OK;
  sg_sha256 h = {NULL};
  if ((st = sg_sha256_init(&h)) || (st = sg_sha256_update(&h, text ? text : "", len)) ||
      (st = sg_sha256_final(&h, s->spec_sha256))) {
    sg_sha256_free(&h);
    song_release(s);
    return sg_diag_fail(d, st, "could not hash the spec");
  }

  if ((st = bounded_shape(&c, text ? text : "", len)) != SG_OK) {
    song_release(s);
    return st;
  }
  yaml_parser_t parser;
  yaml_document_t doc, extra;
  if (!yaml_parser_initialize(&parser)) {
    song_release(s);
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory initialising the YAML parser");
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)(text ? text : ""), len);
  if (!yaml_parser_load(&parser, &doc)) {
    st = yaml_failure(&c, &parser, text, len);
    yaml_parser_delete(&parser);
    song_release(s);
    return st;
  }
  c.doc = &doc;
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (!root) {
    st = fail_pos(&c, (sg_pos){1, 1},
                  "the spec is empty; it needs at least title, tempo and "
                  "sections");
  } else if (!yaml_parser_load(&parser, &extra)) {
    st = yaml_failure(&c, &parser, text, len);
  } else {
    yaml_node_t *r2 = yaml_document_get_root_node(&extra);
    if (r2)
      st = FAIL(&c, r2,
                "the spec holds more than one YAML document ('---'); give one song per "
                "file");
    yaml_document_delete(&extra);
    if (!st && hook && (st = hook(&c, hook_user)) == SG_OK)
      root = yaml_document_get_root_node(&doc); /* the hook may have grown the node table */
    if (!st)
      st = parse_root(&c, root);
    if (!st) /* effects, instruments, styles, patterns: before any audio */
      st = sg__song_check(s, d);
  }
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  if (st) {
    song_release(s);
    return st;
  }
  *out = s;
  return SG_OK;
}

sg_status sg_song_parse(const char *text, size_t len, const char *name, sg_song **out, sg_diag *d) {
  return parse_impl(text, len, name, NULL, NULL, out, d);
}

/* The spec file's bytes (at most SPEC_MAX_BYTES) in a new buffer. */
static sg_status read_spec(const char *path, char **text, size_t *len, sg_diag *d) {
  *text = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    sg_diag_at(d, path, 0, 0);
    return sg_diag_fail(d, SG_E_IO, "cannot open the song spec '%s'", path);
  }
  size_t cap = 16384, n = 0;
  char *buf = malloc(cap);
  sg_status st = buf ? SG_OK : SG_E_NOMEM;
  while (!st) {
    if (n == cap) {
      if (cap > SPEC_MAX_BYTES) {
        st = SG_E_SPEC;
        break;
      }
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        st = SG_E_NOMEM;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t k = fread(buf + n, 1, cap - n, f);
    n += k;
    if (k == 0) {
      if (ferror(f))
        st = SG_E_IO;
      break;
    }
  }
  fclose(f);
  if (st) {
    free(buf);
    sg_diag_at(d, path, st == SG_E_SPEC ? 1 : 0, st == SG_E_SPEC ? 1 : 0);
    if (st == SG_E_SPEC)
      return sg_diag_fail(d, st,
                          "the spec is larger than %u bytes; a song spec may be at most "
                          "%u bytes",
                          SPEC_MAX_BYTES, SPEC_MAX_BYTES);
    return sg_diag_fail(
        d, st, st == SG_E_IO ? "cannot read the song spec '%s'" : "out of memory reading '%s'",
        path);
  }
  *text = buf;
  *len = n;
  return SG_OK;
}

static sg_status load_impl(const char *path, doc_hook hook, void *user, sg_song **out, sg_diag *d) {
  sg_diag_clear(d);
  if (!out || !path)
    return sg_diag_fail(d, SG_E_INVAL, "sg_song_load: NULL argument");
  *out = NULL;
  char *buf = NULL;
  size_t n = 0;
  sg_status st = read_spec(path, &buf, &n, d);
  if (st)
    return st;
  st = parse_impl(buf, n, path, hook, user, out, d);
  free(buf);
  if (st == SG_OK && (st = sg__song_check_files(*out, d)) != SG_OK) {
    sg_song_free(*out);
    *out = NULL;
  }
  return st;
}

sg_status sg_song_load(const char *path, sg_song **out, sg_diag *d) {
  return load_impl(path, NULL, NULL, out, d);
}

void sg_song_free(sg_song *s) { song_release(s); }

/* ---- variations ------------------------------------------------------------------------------
 * One spec, several songs. The plan (axis, value node) of every variant is read from the
 * variations block; each variant is then the spec's YAML loaded again with its value nodes put
 * at their keys (hook apply_variant) and read by parse_root and the checks like any spec, so a
 * value is validated by the code of its own key and a bad one is reported at its line:col. */

static const char *const VARIATION_AXES[] = {"seed",   "tempo",      "key",        "style",
                                             "energy", "drums.seed", "drums.style"};
static const char *const VARIANT_KEYS[] = {"seed",   "tempo",      "key",         "style",
                                           "energy", "drums.seed", "drums.style", "name"};
#define VAR_AXES 7

typedef struct var_set {
  int axis;  /* index into VARIATION_AXES */
  int value; /* node id in the document (the same in every load of the same text) */
} var_set;

typedef struct var_plan {
  size_t n;
  var_set (*sets)[VAR_AXES];
  int *nsets;
  char (*names)[SG_MAX_NAME * 2];
  size_t want; /* apply_variant: the variant to put in place */
} var_plan;

static void var_plan_free(var_plan *p) {
  free(p->sets);
  free(p->nsets);
  free(p->names);
  memset(p, 0, sizeof *p);
}

/* "seed" + "2" -> "seed2", "key" + "D minor" -> "key_D_minor", "drums.seed" -> "drums_seed...";
 * a non-scalar value (a tempo map, say) is named by its position: "tempo_v2". */
static void name_part(const char *axis, const yaml_node_t *v, int index, char *out, size_t cap) {
  size_t k = 0;
  for (const char *a = axis; *a && k + 1 < cap; ++a)
    out[k++] = *a == '.' ? '_' : *a;
  char val[SG_MAX_NAME * 2];
  if (v->type == YAML_SCALAR_NODE)
    snprintf(val, sizeof val, "%s", (const char *)v->data.scalar.value);
  else
    snprintf(val, sizeof val, "v%d", index + 1);
  if (!(val[0] >= '0' && val[0] <= '9') && k + 1 < cap)
    out[k++] = '_';
  for (const char *q = val; *q && k + 1 < cap; ++q) {
    char ch = *q;
    if (ch == '#') {
      for (const char *w = "sharp"; *w && k + 1 < cap; ++w)
        out[k++] = *w;
      continue;
    }
    int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
             ch == '.' || ch == '-';
    out[k++] = ok ? ch : '_';
  }
  out[k] = 0;
}

static int axis_index(const char *key) {
  for (int i = 0; i < VAR_AXES; ++i)
    if (!strcmp(key, VARIATION_AXES[i]))
      return i;
  return -1;
}

static sg_status plan_grow(ctx *c, var_plan *p, size_t n, yaml_node_t *at) {
  p->sets = calloc(n, sizeof *p->sets);
  p->nsets = calloc(n, sizeof *p->nsets);
  p->names = calloc(n, sizeof *p->names);
  if (!p->sets || !p->nsets || !p->names) {
    (void)at;
    return sg_diag_fail(c->d, SG_E_NOMEM, "out of memory for %zu variants", n);
  }
  p->n = n;
  return SG_OK;
}

static sg_status add_name(ctx *c, var_plan *p, size_t i, const char *part, yaml_node_t *at) {
  char *nm = p->names[i];
  size_t len = strlen(nm);
  if (len + strlen(part) + 2 > sizeof p->names[0])
    return FAIL(c, at,
                "this variant's name would be longer than %zu characters; give the variants "
                "as a list with a short 'name:' each",
                sizeof p->names[0] - 1);
  snprintf(nm + len, sizeof p->names[0] - len, "%s%s", len ? "-" : "", part);
  return SG_OK;
}

/* Cartesian form: axis -> value or list of values. */
static sg_status plan_product(ctx *c, yaml_node_t *vars, var_plan *p) {
  sg_status st = check_keys(c, vars, VARIATION_AXES, VAR_AXES, "variations");
  if (st)
    return st;
  if (vars->data.mapping.pairs.top == vars->data.mapping.pairs.start)
    return FAIL(c, vars, "'variations' is empty; give an axis (%s) with a list of values",
                "seed, tempo, key, style, energy, drums.seed, drums.style");
  size_t total = 1;
  FOR_PAIRS(c, vars, pr, k, v) {
    size_t len = v->type == YAML_SEQUENCE_NODE ? (size_t)seq_len(v) : 1;
    if (!len)
      return FAIL(c, v, "variations: '%s' has no values; give at least one", key_of(k));
    if (total > SG_MAX_VARIANTS / len)
      return FAIL(c, vars, "variations make more than %d variants; split the spec",
                  SG_MAX_VARIANTS);
    total *= len;
  }
  if ((st = plan_grow(c, p, total, vars)))
    return st;
  for (size_t i = 0; i < total; ++i) {
    size_t rest = i, stride = total;
    FOR_PAIRS(c, vars, pr, k, v) {
      size_t len = v->type == YAML_SEQUENCE_NODE ? (size_t)seq_len(v) : 1;
      stride /= len; /* the first axis varies slowest */
      size_t j = rest / stride;
      rest %= stride;
      int id = v->type == YAML_SEQUENCE_NODE ? v->data.sequence.items.start[j] : pr->value;
      yaml_node_t *val = node(c, id);
      int a = axis_index(key_of(k));
      p->sets[i][p->nsets[i]++] = (var_set){a, id};
      char part[SG_MAX_NAME * 2];
      name_part(VARIATION_AXES[a], val, (int)j, part, sizeof part);
      if ((st = add_name(c, p, i, part, val)))
        return st;
    }
  }
  return SG_OK;
}

/* List form: one mapping of axis -> value a variant, with an optional name. */
static sg_status plan_list(ctx *c, yaml_node_t *vars, var_plan *p) {
  size_t total = (size_t)seq_len(vars);
  if (!total)
    return FAIL(c, vars, "'variations' is an empty list; give one mapping a variant");
  if (total > SG_MAX_VARIANTS)
    return FAIL(c, vars, "variations make more than %d variants; split the spec", SG_MAX_VARIANTS);
  sg_status st = plan_grow(c, p, total, vars);
  size_t i = 0;
  FOR_ITEMS(c, vars, it, item) {
    if (st)
      break;
    if ((st = expect_map(c, item, "a variant", VARIANT_KEYS, VAR_AXES + 1)) ||
        (st = check_keys(c, item, VARIANT_KEYS, VAR_AXES + 1, "a variant")))
      return st;
    yaml_node_t *nm = lookup(c, item, "name");
    FOR_PAIRS(c, item, pr, k, v) {
      int a = axis_index(key_of(k));
      if (a < 0)
        continue;
      p->sets[i][p->nsets[i]++] = (var_set){a, pr->value};
      char part[SG_MAX_NAME * 2];
      name_part(VARIATION_AXES[a], v, (int)i, part, sizeof part);
      if (!nm && (st = add_name(c, p, i, part, v)))
        return st;
    }
    if (!p->nsets[i])
      return FAIL(c, item, "this variant changes nothing; give at least one of %s",
                  "seed, tempo, key, style, energy, drums.seed, drums.style");
    if (nm) {
      const char *t;
      if ((st = scalar(c, nm, "name", "a variant name of letters, digits, '.', '_' and '-'", &t)))
        return st;
      size_t len = strlen(t);
      int ok = len > 0 && len < sizeof p->names[0] && t[0] != '.';
      for (size_t q = 0; ok && q < len; ++q)
        ok = (t[q] >= 'a' && t[q] <= 'z') || (t[q] >= 'A' && t[q] <= 'Z') ||
             (t[q] >= '0' && t[q] <= '9') || t[q] == '.' || t[q] == '_' || t[q] == '-';
      if (!ok) {
        char sh[64];
        return FAIL(c, nm,
                    "a variant's name must be 1 to %zu letters, digits, '.', '_' or '-' (not "
                    "starting with '.'), got %s",
                    sizeof p->names[0] - 1, shown(nm, sh, sizeof sh));
      }
      snprintf(p->names[i], sizeof p->names[0], "%s", t);
    }
    ++i;
  }
  return st;
}

/* Hook of the first load: the plan, from the block's shape; names unique. */
static sg_status plan_variants(ctx *c, void *user) {
  var_plan *p = user;
  yaml_node_t *root = yaml_document_get_root_node(c->doc);
  yaml_node_t *vars = root && root->type == YAML_MAPPING_NODE ? lookup(c, root, "variations") : 0;
  if (!vars)
    return SG_OK;
  sg_status st = vars->type == YAML_MAPPING_NODE    ? plan_product(c, vars, p)
                 : vars->type == YAML_SEQUENCE_NODE ? plan_list(c, vars, p)
                                                    : FAIL(c, vars,
                                                           "'variations' must be a mapping of "
                                                           "axis -> list of values (every "
                                                           "combination) or a list of variants "
                                                           "(mappings), got %s",
                                                           kind_of(vars));
  for (size_t i = 0; !st && i < p->n; ++i)
    for (size_t j = 0; j < i; ++j)
      if (!strcmp(p->names[i], p->names[j])) {
        yaml_node_t *at = node(c, p->sets[i][0].value);
        st = FAIL(c, at ? at : vars,
                  "two variants are both named '%s'; give distinct values or names", p->names[i]);
        break;
      }
  return st;
}

/* Puts value node id at key of the mapping map_id: replaces the pair or appends one. */
static sg_status set_pair(ctx *c, int map_id, const char *key, int value) {
  yaml_node_t *map = node(c, map_id);
  if (!map || map->type != YAML_MAPPING_NODE)
    return SG_OK; /* the parser reports the wrong shape at its own key */
  FOR_PAIRS(c, map, pr, k, v) {
    (void)v;
    if (k->type == YAML_SCALAR_NODE && !strcmp(key_of(k), key)) {
      pr->value = value;
      return SG_OK;
    }
  }
  int kid = yaml_document_add_scalar(c->doc, NULL, (yaml_char_t *)(uintptr_t)key, -1,
                                     YAML_PLAIN_SCALAR_STYLE);
  if (!kid || !yaml_document_append_mapping_pair(c->doc, map_id, kid, value))
    return sg_diag_fail(c->d, SG_E_NOMEM, "out of memory applying a variation");
  return SG_OK;
}

/* The id of the root's value at key, or 0. */
static int root_value(ctx *c, const char *key) {
  yaml_node_t *root = yaml_document_get_root_node(c->doc);
  if (!root || root->type != YAML_MAPPING_NODE)
    return 0;
  FOR_PAIRS(c, root, pr, k, v) {
    (void)v;
    if (k->type == YAML_SCALAR_NODE && !strcmp(key_of(k), key))
      return pr->value;
  }
  return 0;
}

/* Hook of a variant's load: its values at their keys (root is node 1 in libyaml). */
static sg_status apply_variant(ctx *c, void *user) {
  const var_plan *p = user;
  size_t i = p->want;
  sg_status st = SG_OK;
  for (int s = 0; !st && s < p->nsets[i]; ++s) {
    const var_set *vs = &p->sets[i][s];
    const char *axis = VARIATION_AXES[vs->axis];
    if (!strcmp(axis, "energy")) {
      yaml_node_t *secs = node(c, root_value(c, "sections"));
      if (!secs || secs->type != YAML_SEQUENCE_NODE)
        continue; /* parse_root reports the missing or wrong sections */
      int n = seq_len(secs);
      for (int j = 0; !st && j < n; ++j) {
        secs = node(c, root_value(c, "sections")); /* appends may move the node table */
        st = set_pair(c, secs->data.sequence.items.start[j], "energy", vs->value);
      }
    } else if (!strncmp(axis, "drums.", 6)) {
      int dr = root_value(c, "drums");
      if (!dr)
        return FAIL(c, node(c, vs->value),
                    "variations: '%s' varies the drums but the spec has no 'drums' block", axis);
      st = set_pair(c, dr, axis + 6, vs->value);
    } else {
      st = set_pair(c, 1, axis, vs->value);
    }
  }
  return st;
}

static sg_status variants_plan(const char *path, var_plan *p, sg_diag *d) {
  memset(p, 0, sizeof *p);
  sg_song *base = NULL;
  sg_status st = load_impl(path, plan_variants, p, &base, d);
  sg_song_free(base);
  if (st)
    var_plan_free(p);
  return st;
}

static sg_status load_variant_at(const char *path, var_plan *p, size_t i, sg_song **out,
                                 sg_diag *d) {
  p->want = i;
  sg_status st = load_impl(path, apply_variant, p, out, d);
  if (st == SG_OK)
    snprintf((*out)->variant, sizeof(*out)->variant, "%s", p->names[i]);
  else if (d && d->message[0]) { /* name the variant the value belongs to */
    char m[sizeof d->message];
    snprintf(m, sizeof m, "%s (variant '%s')", d->message, p->names[i]);
    snprintf(d->message, sizeof d->message, "%s", m);
  }
  return st;
}

sg_status sg_song_variants(const char *path, sg_variant_list *out, sg_diag *d) {
  if (!out)
    return sg_diag_fail(d, SG_E_INVAL, "sg_song_variants: NULL output");
  memset(out, 0, sizeof *out);
  var_plan p;
  sg_status st = variants_plan(path, &p, d);
  /* Every variant loaded (all checks, files included) before the caller renders any. */
  for (size_t i = 0; !st && i < p.n; ++i) {
    sg_song *s = NULL;
    st = load_variant_at(path, &p, i, &s, d);
    sg_song_free(s);
  }
  if (!st && p.n) {
    out->n = p.n;
    out->names = p.names;
    p.names = NULL;
  }
  var_plan_free(&p);
  return st;
}

void sg_variant_list_free(sg_variant_list *l) {
  if (!l)
    return;
  free(l->names);
  memset(l, 0, sizeof *l);
}

sg_status sg_song_load_variant(const char *path, const char *variant, sg_song **out, sg_diag *d) {
  if (!out || !variant)
    return sg_diag_fail(d, SG_E_INVAL, "sg_song_load_variant: NULL argument");
  *out = NULL;
  var_plan p;
  sg_status st = variants_plan(path, &p, d);
  if (st)
    return st;
  size_t i = 0;
  while (i < p.n && strcmp(p.names[i], variant))
    ++i;
  if (i == p.n) {
    char list[400] = "";
    for (size_t j = 0; j < p.n && strlen(list) + strlen(p.names[j]) + 8 < sizeof list; ++j)
      snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "", p.names[j]);
    st = sg_diag_fail(d, SG_E_NOTFOUND, "%s has no variant '%s'%s%s", path, variant,
                      p.n ? "; its variants: " : " (it has no variations block)", list);
  } else {
    /* Every variant is checked, as batch does, so one spec never renders while a sibling
     * variant is invalid; the one asked for is kept. */
    for (size_t j = 0; !st && j < p.n; ++j) {
      sg_song *s = NULL;
      st = load_variant_at(path, &p, j, &s, d);
      if (j == i && !st)
        *out = s;
      else
        sg_song_free(s);
    }
    if (st && *out) {
      sg_song_free(*out);
      *out = NULL;
    }
  }
  var_plan_free(&p);
  return st;
}
