/* Spec module: the `delivery:` block — what a delivery may be, as against what the spec renders.
 *
 * A client's brief ("48 kHz, 24-bit PCM or float, master -16..-8 LUFS, TP <= -0.1 dBTP, stems
 * Guitars/Synths/Bridge/Bass, no drums") is a set of ranges and lists, while the spec says the one
 * rate, format and loudness to render. The block lives in the spec or in a separate criteria file
 * (`stemgate verify --criteria FILE`); both are read by the walker below, with the same strictness
 * as the rest of the spec (unknown keys with a did-you-mean, kinds, ranges, duplicates, every
 * error at file:line:col). Kept apart from spec_parse.c so the block has one home. */
#include "spec_internal.h"

#include <yaml.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CRITERIA_MAX_BYTES (1u << 20)
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *const KEYS[] = {"sample_rates",  "formats",        "channels", "length_s",
                                   "loudness_lufs", "true_peak_dbtp", "stems",    "manifest"};
static const char *const FORMATS[] = {"float32", "pcm24", "pcm16"};
static const sg_sample_format FORMAT_VALUES[] = {SG_FMT_FLOAT32, SG_FMT_PCM24, SG_FMT_PCM16};
static const char *const MANIFEST[] = {"required", "optional"};

typedef struct dctx {
  yaml_document_t *doc;
  const char *file;
  sg_diag *d;
} dctx;

static sg_pos pos_of(const yaml_node_t *n) { return sg__yaml_pos(n); }

static sg_status fail(dctx *c, sg_pos p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static sg_status fail(dctx *c, sg_pos p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sg_status st = sg__spec_vfail(c->d, c->file, p, fmt, ap);
  va_end(ap);
  return st;
}

static yaml_node_t *node(dctx *c, int id) { return yaml_document_get_node(c->doc, id); }

static const char *text_of(const yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A number from a scalar in [lo, hi]. */
static sg_status num(dctx *c, yaml_node_t *v, const char *key, double lo, double hi,
                     const char *unit, double *out) {
  const char *t = text_of(v);
  double x;
  if (!t || !sg__parse_number(t, &x))
    return fail(c, pos_of(v), "delivery '%s' must be a number from %g to %g %s", key, lo, hi, unit);
  if (x < lo || x > hi)
    return fail(c, pos_of(v), "delivery '%s' is %s %s, outside %g to %g %s", key, t, unit, lo, hi,
                unit);
  *out = x;
  return SG_OK;
}

/* A flow or block list of scalars, 1..max items. */
static sg_status list(dctx *c, yaml_node_t *v, const char *key, int max, const char *what) {
  if (v->type != YAML_SEQUENCE_NODE)
    return fail(c, pos_of(v), "delivery '%s' must be a list of %s, e.g. [%s]", key, what,
                !strcmp(key, "formats") ? "pcm24, float32" : "48000");
  int n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
  if (n < 1 || n > max)
    return fail(c, pos_of(v), "delivery '%s' must list 1 to %d %s, got %d", key, max, what, n);
  for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; ++it)
    if (!text_of(node(c, *it)))
      return fail(c, pos_of(node(c, *it)), "delivery '%s': each item must be %s", key, what);
  return SG_OK;
}

/* A [min, max] range of numbers. */
static sg_status range(dctx *c, yaml_node_t *v, const char *key, double lo, double hi,
                       const char *unit, double out[2]) {
  if (v->type != YAML_SEQUENCE_NODE ||
      v->data.sequence.items.top - v->data.sequence.items.start != 2)
    return fail(c, pos_of(v), "delivery '%s' must be a range [min, max] in %s", key, unit);
  for (int i = 0; i < 2; ++i) {
    sg_status st = num(c, node(c, v->data.sequence.items.start[i]), key, lo, hi, unit, &out[i]);
    if (st)
      return st;
  }
  if (out[0] > out[1])
    return fail(c, pos_of(v), "delivery '%s' is [%g, %g]: the minimum is above the maximum", key,
                out[0], out[1]);
  return SG_OK;
}

static sg_status parse_block(dctx *c, yaml_node_t *map, sg_delivery_spec *dl) {
  memset(dl, 0, sizeof *dl);
  dl->given = 1;
  snprintf(dl->file, sizeof dl->file, "%s", c->file);
  dl->pos = pos_of(map);
  if (map->type != YAML_MAPPING_NODE)
    return fail(c, pos_of(map),
                "'delivery' must be a mapping with any of sample_rates, formats, channels, "
                "length_s, loudness_lufs, true_peak_dbtp, stems, manifest");
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; ++p) {
    yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
    const char *key = text_of(k);
    if (!key || !v)
      return fail(c, pos_of(k), "delivery keys must be plain names");
    int known = -1;
    for (int i = 0; i < COUNT(KEYS); ++i)
      if (!strcmp(key, KEYS[i]))
        known = i;
    if (known < 0) {
      int s = sg_suggest(key, KEYS, COUNT(KEYS));
      return fail(c, pos_of(k),
                  "unknown key '%s' in delivery%s%s%s Allowed: sample_rates, formats, channels, "
                  "length_s, loudness_lufs, true_peak_dbtp, stems, manifest",
                  key, s >= 0 ? "; did you mean '" : "", s >= 0 ? KEYS[s] : "",
                  s >= 0 ? "'?" : ".");
    }
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; ++q)
      if (text_of(node(c, q->key)) && !strcmp(text_of(node(c, q->key)), key))
        return fail(c, pos_of(k), "delivery key '%s' is given twice", key);
    sg_status st = SG_OK;
    if (!strcmp(key, "sample_rates") || !strcmp(key, "channels")) {
      int rates = key[0] == 's';
      if ((st = list(c, v, key, SG_DELIVERY_MAX_LIST, rates ? "sample rates in Hz" : "counts")))
        return st;
      for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
           ++it) {
        yaml_node_t *e = node(c, *it);
        long long x;
        if (!sg__parse_integer(text_of(e), &x) || x < (rates ? 8000 : 1) ||
            x > (rates ? 384000 : 8))
          return fail(c, pos_of(e), "delivery '%s': '%s' is not %s", key, text_of(e),
                      rates ? "a sample rate from 8000 to 384000 Hz" : "a channel count 1..8");
        if (rates)
          dl->rates[dl->n_rates++] = (unsigned)x;
        else
          dl->channels[dl->n_channels++] = (unsigned)x;
      }
    } else if (!strcmp(key, "formats")) {
      if ((st = list(c, v, key, SG_DELIVERY_MAX_LIST, "formats (float32, pcm24, pcm16)")))
        return st;
      for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
           ++it) {
        yaml_node_t *e = node(c, *it);
        int f = -1;
        for (int i = 0; i < COUNT(FORMATS); ++i)
          if (!strcmp(text_of(e), FORMATS[i]))
            f = i;
        if (f < 0) {
          int s = sg_suggest(text_of(e), FORMATS, COUNT(FORMATS));
          return fail(c, pos_of(e),
                      "delivery 'formats': unknown format '%s'%s%s%s Allowed: "
                      "float32, pcm24, pcm16",
                      text_of(e), s >= 0 ? "; did you mean '" : "", s >= 0 ? FORMATS[s] : "",
                      s >= 0 ? "'?" : ".");
        }
        dl->formats[dl->n_formats++] = FORMAT_VALUES[f];
      }
    } else if (!strcmp(key, "length_s")) {
      st = range(c, v, key, 0, 86400, "s", dl->length_s);
      dl->has_length = 1;
    } else if (!strcmp(key, "loudness_lufs")) {
      st = range(c, v, key, -70, 0, "LUFS", dl->loudness_lufs);
      dl->has_loudness = 1;
    } else if (!strcmp(key, "true_peak_dbtp")) {
      st = num(c, v, key, -20, 3, "dBTP", &dl->true_peak_dbtp);
      dl->has_true_peak = 1;
    } else if (!strcmp(key, "stems")) {
      if (v->type == YAML_SEQUENCE_NODE &&
          v->data.sequence.items.top == v->data.sequence.items.start) {
        dl->has_stems = 1; /* [] : only the master is required */
        continue;
      }
      if ((st = list(c, v, key, SG_MAX_STEMS + 1, "stem names")))
        return st;
      dl->has_stems = 1;
      for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
           ++it) {
        yaml_node_t *e = node(c, *it);
        if (strlen(text_of(e)) == 0 || strlen(text_of(e)) >= SG_MAX_NAME)
          return fail(c, pos_of(e), "delivery 'stems': a stem name of 1 to %d characters",
                      SG_MAX_NAME - 1);
        snprintf(dl->stems[dl->n_stems].s, sizeof dl->stems[0].s, "%s", text_of(e));
        dl->stems[dl->n_stems++].pos = pos_of(e);
      }
    } else {
      const char *t = text_of(v);
      if (t && !strcmp(t, "required"))
        dl->manifest = SG_MANIFEST_REQUIRED;
      else if (t && !strcmp(t, "optional"))
        dl->manifest = SG_MANIFEST_OPTIONAL;
      else {
        int s = t ? sg_suggest(t, MANIFEST, COUNT(MANIFEST)) : -1;
        return fail(c, pos_of(v), "delivery 'manifest' must be required or optional%s%s%s",
                    s >= 0 ? "; did you mean '" : "", s >= 0 ? MANIFEST[s] : "",
                    s >= 0 ? "'?" : "");
      }
    }
    if (st)
      return st;
  }
  return SG_OK;
}

sg_status sg__parse_delivery(struct yaml_document_s *doc, struct yaml_node_s *v, const char *file,
                             sg_delivery_spec *out, sg_diag *d) {
  dctx c = {doc, file, d};
  return parse_block(&c, v, out);
}

sg_status sg__delivery_check(const sg_song *s, sg_diag *d) {
  const sg_delivery_spec *dl = &s->delivery;
  if (!dl->given)
    return SG_OK;
  dctx c = {NULL, dl->file, d};
  for (int i = 0; i < dl->n_stems; ++i) {
    const char *n = dl->stems[i].s;
    int drums = sg__ieq(n, "Drums") && s->drums.source != SG_DRUMS_NONE;
    if (sg_song_stem_index(s, n) < 0 && !drums) {
      const char *names[SG_MAX_STEMS + 1];
      int k = 0;
      for (int j = 0; j < s->n_stems; ++j)
        names[k++] = s->stems[j].name.s;
      if (s->drums.source != SG_DRUMS_NONE)
        names[k++] = "Drums";
      int sug = sg_suggest(n, names, k);
      return fail(&c, dl->stems[i].pos,
                  "delivery 'stems': '%s' is not a stem of the song '%s'%s%s%s", n, s->path,
                  sug >= 0 ? "; did you mean '" : "", sug >= 0 ? names[sug] : "",
                  sug >= 0 ? "'?" : "");
    }
    for (int j = 0; j < i; ++j)
      if (sg__ieq(dl->stems[j].s, n))
        return fail(&c, dl->stems[i].pos, "delivery 'stems': '%s' is listed twice", n);
  }
  return SG_OK;
}

sg_status sg_delivery_load(const char *path, sg_song *song, sg_diag *d) {
  if (!path || !song)
    return sg_diag_fail(d, SG_E_INVAL, "criteria: NULL argument");
  FILE *f = fopen(path, "rb");
  if (!f)
    return sg_diag_fail(d, SG_E_IO, "cannot open criteria file '%s'", path);
  char *buf = malloc(CRITERIA_MAX_BYTES + 1);
  size_t n = buf ? fread(buf, 1, CRITERIA_MAX_BYTES + 1, f) : 0;
  fclose(f);
  if (!buf)
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory reading '%s'", path);
  if (n > CRITERIA_MAX_BYTES) {
    free(buf);
    sg_diag_at(d, path, 1, 1);
    return sg_diag_fail(d, SG_E_SPEC, "criteria file '%s' is larger than %u bytes", path,
                        CRITERIA_MAX_BYTES);
  }
  yaml_parser_t parser;
  yaml_document_t doc;
  if (!yaml_parser_initialize(&parser)) {
    free(buf);
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory initialising the YAML parser");
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)buf, n);
  dctx c = {&doc, path, d};
  sg_status st = SG_OK;
  if (!yaml_parser_load(&parser, &doc)) {
    st = fail(&c, (sg_pos){(int)parser.problem_mark.line + 1, (int)parser.problem_mark.column + 1},
              "YAML syntax error: %s", parser.problem ? parser.problem : "malformed YAML");
    yaml_parser_delete(&parser);
    free(buf);
    return st;
  }
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  yaml_node_t *block = NULL;
  if (!root || root->type != YAML_MAPPING_NODE) {
    st = fail(&c, pos_of(root), "a criteria file holds one mapping with a 'delivery' block");
  } else {
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         ++p) {
      const char *k = text_of(node(&c, p->key));
      if (k && !strcmp(k, "delivery") && !block) {
        block = node(&c, p->value);
      } else {
        st = fail(&c, pos_of(node(&c, p->key)),
                  "a criteria file holds only a 'delivery' block; got '%s'", k ? k : "?");
        break;
      }
    }
    if (st == SG_OK && !block)
      st = fail(&c, pos_of(root), "the criteria file has no 'delivery' block");
  }
  sg_delivery_spec dl;
  if (st == SG_OK && (st = parse_block(&c, block, &dl)) == SG_OK) {
    sg_delivery_spec keep = song->delivery;
    song->delivery = dl;
    if ((st = sg__delivery_check(song, d)) != SG_OK)
      song->delivery = keep;
  }
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  free(buf);
  return st;
}

/* ---- queries ------------------------------------------------------------------------------ */

int sg_delivery_rate_ok(const sg_song *s, unsigned rate) {
  if (!s->delivery.n_rates)
    return rate == s->sample_rate;
  for (int i = 0; i < s->delivery.n_rates; ++i)
    if (s->delivery.rates[i] == rate)
      return 1;
  return 0;
}

int sg_delivery_format_ok(const sg_song *s, sg_sample_format f) {
  if (!s->delivery.n_formats)
    return f == s->format;
  for (int i = 0; i < s->delivery.n_formats; ++i)
    if (s->delivery.formats[i] == f)
      return 1;
  return 0;
}

int sg_delivery_channels_ok(const sg_song *s, unsigned channels) {
  if (!s->delivery.n_channels)
    return channels == s->channels;
  for (int i = 0; i < s->delivery.n_channels; ++i)
    if (s->delivery.channels[i] == channels)
      return 1;
  return 0;
}

static const char *format_name(sg_sample_format f) {
  for (int i = 0; i < COUNT(FORMATS); ++i)
    if (FORMAT_VALUES[i] == f)
      return FORMATS[i];
  return "other";
}

static void join_u(const unsigned *v, int n, unsigned one, char *out, size_t cap) {
  size_t k = 0;
  out[0] = 0;
  if (!n) {
    snprintf(out, cap, "%u", one);
    return;
  }
  for (int i = 0; i < n && k + 1 < cap; ++i) {
    int w = snprintf(out + k, cap - k, "%s%u", i ? "|" : "", v[i]);
    if (w < 0)
      break;
    k += (size_t)w < cap - k ? (size_t)w : cap - k - 1;
  }
}

void sg_delivery_rates_text(const sg_song *s, char *out, size_t cap) {
  join_u(s->delivery.rates, s->delivery.n_rates, s->sample_rate, out, cap);
}

void sg_delivery_channels_text(const sg_song *s, char *out, size_t cap) {
  join_u(s->delivery.channels, s->delivery.n_channels, s->channels, out, cap);
}

void sg_delivery_formats_text(const sg_song *s, char *out, size_t cap) {
  size_t k = 0;
  out[0] = 0;
  if (!s->delivery.n_formats) {
    snprintf(out, cap, "%s", format_name(s->format));
    return;
  }
  for (int i = 0; i < s->delivery.n_formats && k + 1 < cap; ++i) {
    int w = snprintf(out + k, cap - k, "%s%s", i ? "|" : "", format_name(s->delivery.formats[i]));
    if (w < 0)
      break;
    k += (size_t)w < cap - k ? (size_t)w : cap - k - 1;
  }
}

int sg_delivery_requires(const sg_song *s, const char *stem) {
  if (!s->delivery.has_stems)
    return 1;
  for (int i = 0; i < s->delivery.n_stems; ++i)
    if (sg__ieq(s->delivery.stems[i].s, stem))
      return 1;
  return 0;
}
