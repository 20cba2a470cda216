/* Effect chain built from the song spec: strict, table-driven validation (every error points to
 * the spec's file:line:col with the allowed values and a did-you-mean), then one unit per
 * effect, processed in order in place. See include/stemgate/fx.h for the parameter list.
 *
 * sg_fx links only sg_core: the sg_effect_spec / sg_param_set types come from spec.h as plain
 * data, and the parameter lookup and edit distance are local (no call into sg_spec). */
#include "stemgate/fx.h"
#include "stemgate/spec.h"

#include "fx/fx_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameter tables ---------------------------------------------------------------------- */

typedef enum pkind { P_NUM, P_ENUM, P_BOOL, P_TEXT } pkind;

typedef struct pdef {
  const char *name;
  pkind kind;
  double lo, hi, def;
  const char *unit;    /* for numbers; "" when unitless */
  const char *choices; /* P_ENUM: "a|b|c" (default = index def); P_NUM: allowed values or NULL;
                          P_TEXT: default text */
} pdef;

typedef enum fxkind {
  FX_EQ,
  FX_COMP,
  FX_DELAY,
  FX_REVERB,
  FX_CHORUS,
  FX_FLANGER,
  FX_PHASER,
  FX_SAT,
  FX_WIDTH,
  FX_PAN,
  FX_GAIN,
  FX_LIMITER,
  FX_KIND_COUNT
} fxkind;

#define MAXP 12

typedef struct tdef {
  const char *name;
  pdef p[MAXP];
} tdef;

static const tdef k_types[FX_KIND_COUNT] = {
    [FX_EQ] = {"eq",
               {{"type", P_ENUM, 0, 0, 4, "",
                 "lowpass|highpass|bandpass|notch|peak|lowshelf|highshelf"},
                {"freq", P_NUM, 10, 20000, 1000, "Hz", NULL},
                {"q", P_NUM, 0.05, 100, 0.7071, "", NULL},
                {"gain_db", P_NUM, -48, 48, 0, "dB", NULL},
                {"order", P_NUM, 1, 8, 2, "", "1|2|3|4|5|6|7|8"}}},
    [FX_COMP] = {"compressor",
                 {{"threshold_db", P_NUM, -80, 0, -18, "dB", NULL},
                  {"ratio", P_NUM, 1, 100, 4, "", NULL},
                  {"knee_db", P_NUM, 0, 24, 6, "dB", NULL},
                  {"attack_ms", P_NUM, 0.01, 500, 10, "ms", NULL},
                  {"release_ms", P_NUM, 1, 5000, 100, "ms", NULL},
                  {"makeup_db", P_NUM, -24, 48, 0, "dB", NULL},
                  {"detector", P_ENUM, 0, 0, 0, "", "peak|rms"},
                  {"rms_ms", P_NUM, 0.1, 300, 10, "ms", NULL},
                  {"sidechain", P_TEXT, 0, 0, 0, "", ""}}},
    [FX_DELAY] = {"delay",
                  {{"time", P_TEXT, 0, 0, 0, "", "1/8"},
                   {"feedback", P_NUM, 0, 0.95, 0.35, "", NULL},
                   {"mix", P_NUM, 0, 1, 0.25, "", NULL},
                   {"lowcut", P_NUM, 10, 5000, 100, "Hz", NULL},
                   {"highcut", P_NUM, 500, 20000, 8000, "Hz", NULL},
                   {"pingpong", P_BOOL, 0, 1, 0, "", NULL}}},
    [FX_REVERB] = {"reverb",
                   {{"rt60", P_NUM, 0.1, 30, 2, "s", NULL},
                    {"rt60_low", P_NUM, 0.1, 30, 0, "s", NULL},
                    {"predelay_ms", P_NUM, 0, 250, 10, "ms", NULL},
                    {"size", P_NUM, 0.25, 2, 1, "", NULL},
                    {"mix", P_NUM, 0, 1, 0.25, "", NULL},
                    {"damping", P_NUM, 0, 0.9, 0.3, "", NULL},
                    {"diffusion", P_NUM, 0, 0.8, 0.6, "", NULL},
                    {"lines", P_NUM, 8, 16, 16, "", "8|16"},
                    {"mod_depth_ms", P_NUM, 0, 2, 0, "ms", NULL},
                    {"mod_rate_hz", P_NUM, 0.05, 5, 0.7, "Hz", NULL}}},
    [FX_CHORUS] = {"chorus",
                   {{"rate_hz", P_NUM, 0.01, 10, 0.8, "Hz", NULL},
                    {"depth_ms", P_NUM, 0, 10, 2.5, "ms", NULL},
                    {"delay_ms", P_NUM, 0.1, 40, 12, "ms", NULL},
                    {"voices", P_NUM, 1, 4, 2, "", "1|2|3|4"},
                    {"spread", P_NUM, 0, 1, 1, "", NULL},
                    {"mix", P_NUM, 0, 1, 0.5, "", NULL}}},
    [FX_FLANGER] = {"flanger",
                    {{"rate_hz", P_NUM, 0.01, 10, 0.25, "Hz", NULL},
                     {"depth_ms", P_NUM, 0, 10, 1.5, "ms", NULL},
                     {"delay_ms", P_NUM, 0.1, 40, 2, "ms", NULL},
                     {"feedback", P_NUM, -0.95, 0.95, 0.5, "", NULL},
                     {"spread", P_NUM, 0, 1, 1, "", NULL},
                     {"mix", P_NUM, 0, 1, 0.5, "", NULL}}},
    [FX_PHASER] = {"phaser",
                   {{"rate_hz", P_NUM, 0.01, 10, 0.5, "Hz", NULL},
                    {"stages", P_NUM, 2, 12, 6, "", "2|4|6|8|10|12"},
                    {"min_hz", P_NUM, 20, 5000, 200, "Hz", NULL},
                    {"max_hz", P_NUM, 100, 20000, 3000, "Hz", NULL},
                    {"feedback", P_NUM, -0.95, 0.95, 0.4, "", NULL},
                    {"spread", P_NUM, 0, 1, 1, "", NULL},
                    {"mix", P_NUM, 0, 1, 0.5, "", NULL}}},
    [FX_SAT] = {"saturation",
                {{"drive_db", P_NUM, 0, 48, 12, "dB", NULL},
                 {"asym", P_NUM, 0, 1, 0, "", NULL},
                 {"output_db", P_NUM, -48, 12, 0, "dB", NULL},
                 {"mix", P_NUM, 0, 1, 1, "", NULL},
                 {"oversample", P_NUM, 1, 4, 4, "", "1|4"}}},
    [FX_WIDTH] = {"width", {{"width", P_NUM, 0, 2, 1, "", NULL}}},
    [FX_PAN] = {"pan", {{"pan", P_NUM, -1, 1, 0, "", NULL}}},
    [FX_GAIN] = {"gain", {{"gain_db", P_NUM, -60, 24, 0, "dB", NULL}}},
    [FX_LIMITER] = {"limiter",
                    {{"ceiling_dbtp", P_NUM, -30, 0, -1, "dBTP", NULL},
                     {"lookahead_ms", P_NUM, 0.5, 10, 2, "ms", NULL},
                     {"release_ms", P_NUM, 1, 2000, 80, "ms", NULL},
                     {"gain_db", P_NUM, -24, 36, 0, "dB", NULL},
                     {"margin_db", P_NUM, 0, 1, 0.1, "dB", NULL}}},
};

static int nparams(const tdef *t) {
  int n = 0;
  while (n < MAXP && t->p[n].name)
    ++n;
  return n;
}

/* ---- chain --------------------------------------------------------------------------------- */

typedef struct node {
  fxkind kind;
  double v[MAXP];
  char txt[MAXP][SG_MAX_NAME * 2];
  union {
    sg_eq eq;
    sg_compressor comp;
    sg_delay delay;
    sg_reverb reverb;
    sg_chorus chorus;
    sg_phaser phaser;
    sg_saturation sat;
    sg_width width;
    sg_limiter lim;
  } u;
  double gl, gr; /* pan / gain */
  int keyed;     /* compressor with a sidechain parameter */
} node;

struct sg_fx_chain {
  int n;
  node *nodes;
  double rate;
};

/* ---- validation helpers --------------------------------------------------------------------- */

static int ieq(const char *a, const char *b) {
  for (; *a && *b; ++a, ++b)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return 0;
  return *a == *b;
}

/* Levenshtein distance (case-insensitive), two rows; names are short (< 128). */
static int edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 127 || lb > 127)
    return 1000;
  int row0[128], row1[128];
  for (size_t j = 0; j <= lb; ++j)
    row0[j] = (int)j;
  for (size_t i = 1; i <= la; ++i) {
    row1[0] = (int)i;
    for (size_t j = 1; j <= lb; ++j) {
      int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
      int v = row0[j - 1] + cost;
      if (row0[j] + 1 < v)
        v = row0[j] + 1;
      if (row1[j - 1] + 1 < v)
        v = row1[j - 1] + 1;
      row1[j] = v;
    }
    memcpy(row0, row1, (lb + 1) * sizeof(int));
  }
  return row0[lb];
}

/* Appends "; did you mean 'x'?" to buf when a candidate is close enough. */
static void did_you_mean(char *buf, size_t cap, const char *given, const char *const *cands,
                         int n) {
  int best = 1000, bi = -1;
  for (int i = 0; i < n; ++i) {
    int d = edit_distance(given, cands[i]);
    if (d < best)
      best = d, bi = i;
  }
  int lim = (int)strlen(given) / 3;
  if (lim < 2)
    lim = 2;
  if (bi >= 0 && best <= lim) {
    size_t l = strlen(buf);
    snprintf(buf + l, cap - l, "; did you mean '%s'?", cands[bi]);
  }
}

/* Splits "a|b|c" into pointers into store. Returns the count. */
static int split_choices(const char *choices, char store[16][32], const char *out[16]) {
  int n = 0;
  const char *s = choices;
  while (s && *s && n < 16) {
    const char *e = strchr(s, '|');
    size_t l = e ? (size_t)(e - s) : strlen(s);
    if (l > 31)
      l = 31;
    memcpy(store[n], s, l);
    store[n][l] = 0;
    out[n] = store[n];
    ++n;
    s = e ? e + 1 : NULL;
  }
  return n;
}

static sg_status fail_at(sg_diag *d, const char *file, sg_pos pos, const char *msg) {
  sg_diag_at(d, file, pos.line, pos.col);
  return sg_diag_fail(d, SG_E_SPEC, "%s", msg);
}

static const sg_param *find_param(const sg_param_set *ps, const char *key) {
  for (int i = 0; i < ps->n && i < SG_MAX_PARAMS; ++i)
    if (ieq(ps->v[i].key, key))
      return &ps->v[i];
  return NULL;
}

static void fmt_num(char *out, size_t cap, double v) { snprintf(out, cap, "%.6g", v); }

/* Reads and validates every parameter of one effect into nd->v / nd->txt. */
static sg_status read_params(const sg_effect_spec *fx, int idx, const tdef *t, node *nd,
                             double rate, double bpm, const char *file, sg_diag *d) {
  char msg[SG_DIAG_TEXT];
  const int np = nparams(t);
  const char *names[MAXP];
  for (int i = 0; i < np; ++i)
    names[i] = t->p[i].name;
  /* Unknown keys first: a typo must not silently fall back to a default. */
  for (int i = 0; i < fx->params.n && i < SG_MAX_PARAMS; ++i) {
    const sg_param *p = &fx->params.v[i];
    int known = 0;
    for (int k = 0; k < np; ++k)
      known |= ieq(p->key, names[k]);
    if (!known) {
      size_t l = (size_t)snprintf(msg, sizeof msg,
                                  "effect %d (%s): unknown parameter '%s'; allowed: ", idx + 1,
                                  t->name, p->key);
      for (int k = 0; k < np && l < sizeof msg; ++k)
        l += (size_t)snprintf(msg + l, sizeof msg - l, "%s%s", k ? ", " : "", names[k]);
      did_you_mean(msg, sizeof msg, p->key, names, np);
      return fail_at(d, file, p->pos, msg);
    }
    for (int j = 0; j < i; ++j)
      if (ieq(fx->params.v[j].key, p->key)) {
        snprintf(msg, sizeof msg, "effect %d (%s): parameter '%s' is given twice", idx + 1, t->name,
                 p->key);
        return fail_at(d, file, p->pos, msg);
      }
  }
  for (int k = 0; k < np; ++k) {
    const pdef *pd = &t->p[k];
    const sg_param *p = find_param(&fx->params, pd->name);
    nd->v[k] = pd->def;
    nd->txt[k][0] = 0;
    if (pd->kind == P_TEXT)
      snprintf(nd->txt[k], sizeof nd->txt[k], "%s", pd->choices ? pd->choices : "");
    if (!p)
      continue;
    switch (pd->kind) {
    case P_TEXT:
      snprintf(nd->txt[k], sizeof nd->txt[k], "%s", p->text);
      break;
    case P_BOOL: {
      static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no",
                                                                                  "off", "0"};
      int v = -1;
      for (int j = 0; j < 4; ++j) {
        if (ieq(p->text, yes[j]))
          v = 1;
        if (ieq(p->text, no[j]))
          v = 0;
      }
      if (v < 0 && p->is_num && (p->num == 0 || p->num == 1))
        v = (int)p->num;
      if (v < 0) {
        snprintf(msg, sizeof msg, "effect %d (%s): %s expects true or false, got '%s'", idx + 1,
                 t->name, pd->name, p->text);
        return fail_at(d, file, p->pos, msg);
      }
      nd->v[k] = v;
      break;
    }
    case P_ENUM: {
      char store[16][32];
      const char *ch[16];
      int nc = split_choices(pd->choices, store, ch), hit = -1;
      for (int j = 0; j < nc; ++j)
        if (ieq(p->text, ch[j]))
          hit = j;
      if (hit < 0) {
        snprintf(msg, sizeof msg, "effect %d (%s): %s '%s' is not one of %s", idx + 1, t->name,
                 pd->name, p->text, pd->choices);
        did_you_mean(msg, sizeof msg, p->text, ch, nc);
        return fail_at(d, file, p->pos, msg);
      }
      nd->v[k] = hit;
      break;
    }
    case P_NUM:
    default: {
      if (!p->is_num) {
        snprintf(msg, sizeof msg, "effect %d (%s): %s expects a number in [%g, %g]%s%s, got '%s'",
                 idx + 1, t->name, pd->name, pd->lo, pd->hi, *pd->unit ? " " : "", pd->unit,
                 p->text);
        return fail_at(d, file, p->pos, msg);
      }
      if (!(p->num >= pd->lo && p->num <= pd->hi)) {
        snprintf(msg, sizeof msg, "effect %d (%s): %s = %g is outside [%g, %g]%s%s", idx + 1,
                 t->name, pd->name, p->num, pd->lo, pd->hi, *pd->unit ? " " : "", pd->unit);
        return fail_at(d, file, p->pos, msg);
      }
      if (pd->choices) {
        char store[16][32];
        const char *ch[16];
        int nc = split_choices(pd->choices, store, ch), ok = 0;
        for (int j = 0; j < nc; ++j)
          ok |= atof(ch[j]) == p->num;
        if (!ok) {
          snprintf(msg, sizeof msg, "effect %d (%s): %s = %g is not one of %s", idx + 1, t->name,
                   pd->name, p->num, pd->choices);
          return fail_at(d, file, p->pos, msg);
        }
      }
      nd->v[k] = p->num;
      break;
    }
    }
  }
  /* Cross-parameter checks. */
  if (nd->kind == FX_DELAY) {
    sg_delay_config dc;
    sg_delay_config_init(&dc);
    snprintf(dc.time, sizeof dc.time, "%s", nd->txt[0]);
    int num, den;
    char *end;
    double ms = strtod(dc.time, &end);
    int ok = sg_note_value_parse(dc.time, &num, &den) == SG_OK ||
             (end != dc.time && ms > 0 && (!*end || !strcmp(end, "ms")));
    if (!ok || strlen(nd->txt[0]) >= sizeof dc.time) {
      const sg_param *p = find_param(&fx->params, "time");
      snprintf(msg, sizeof msg,
               "effect %d (delay): time '%s' is neither a note value (1/4, 1/8., 1/4T, 3/16) "
               "nor milliseconds (250, 250ms)",
               idx + 1, nd->txt[0]);
      return fail_at(d, file, p ? p->pos : fx->pos, msg);
    }
    double frames = ok && sg_note_value_parse(dc.time, &num, &den) == SG_OK
                        ? sg_note_value_frames(num, den, bpm > 0 ? bpm : 120, rate)
                        : ms * 1e-3 * rate;
    if (frames > 8.0 * rate) {
      const sg_param *p = find_param(&fx->params, "time");
      snprintf(msg, sizeof msg, "effect %d (delay): time '%s' is %.2f s at %g BPM; at most 8 s",
               idx + 1, nd->txt[0], frames / rate, bpm);
      return fail_at(d, file, p ? p->pos : fx->pos, msg);
    }
  }
  if (nd->kind == FX_PHASER && nd->v[2] >= nd->v[3]) {
    const sg_param *p = find_param(&fx->params, "max_hz");
    if (!p)
      p = find_param(&fx->params, "min_hz");
    snprintf(msg, sizeof msg, "effect %d (phaser): min_hz (%g) must be below max_hz (%g)", idx + 1,
             nd->v[2], nd->v[3]);
    return fail_at(d, file, p ? p->pos : fx->pos, msg);
  }
  return SG_OK;
}

/* ---- building ---------------------------------------------------------------------------- */

static sg_status build_node(node *nd, double rate, double bpm) {
  const double *v = nd->v;
  switch (nd->kind) {
  case FX_EQ: {
    sg_eq_config c;
    sg_eq_config_init(&c);
    c.type = (sg_eq_type)(int)v[0], c.freq_hz = v[1], c.q = v[2], c.gain_db = v[3];
    c.order = (int)v[4];
    return sg_eq_init(&nd->u.eq, &c, rate);
  }
  case FX_COMP: {
    sg_compressor_config c;
    sg_compressor_config_init(&c);
    c.threshold_db = v[0], c.ratio = v[1], c.knee_db = v[2], c.attack_ms = v[3];
    c.release_ms = v[4], c.makeup_db = v[5];
    c.detector = v[6] > 0 ? SG_DETECT_RMS : SG_DETECT_PEAK;
    c.rms_ms = v[7];
    nd->keyed = nd->txt[8][0] != 0;
    return sg_compressor_init(&nd->u.comp, &c, rate);
  }
  case FX_DELAY: {
    sg_delay_config c;
    sg_delay_config_init(&c);
    snprintf(c.time, sizeof c.time, "%s", nd->txt[0]);
    c.bpm = bpm > 0 ? bpm : 120;
    c.feedback = v[1], c.mix = v[2], c.lowcut_hz = v[3], c.highcut_hz = v[4];
    c.pingpong = v[5] > 0;
    c.max_sec = 8;
    return sg_delay_init(&nd->u.delay, &c, rate);
  }
  case FX_REVERB: {
    sg_reverb_config c;
    sg_reverb_config_init(&c);
    c.rt60 = v[0], c.rt60_low = v[1], c.predelay_ms = v[2], c.size = v[3], c.mix = v[4];
    c.damping = v[5], c.diffusion = v[6], c.lines = (int)v[7];
    c.mod_depth_ms = v[8], c.mod_rate_hz = v[9];
    return sg_reverb_init(&nd->u.reverb, &c, rate);
  }
  case FX_CHORUS: {
    sg_chorus_config c;
    sg_chorus_config_init(&c);
    c.rate_hz = v[0], c.depth_ms = v[1], c.delay_ms = v[2], c.voices = (int)v[3];
    c.spread = v[4], c.mix = v[5];
    return sg_chorus_init(&nd->u.chorus, &c, rate);
  }
  case FX_FLANGER: {
    sg_chorus_config c;
    sg_flanger_config_init(&c);
    c.rate_hz = v[0], c.depth_ms = v[1], c.delay_ms = v[2], c.feedback = v[3];
    c.spread = v[4], c.mix = v[5];
    return sg_chorus_init(&nd->u.chorus, &c, rate);
  }
  case FX_PHASER: {
    sg_phaser_config c;
    sg_phaser_config_init(&c);
    c.rate_hz = v[0], c.stages = (int)v[1], c.min_hz = v[2], c.max_hz = v[3];
    c.feedback = v[4], c.spread = v[5], c.mix = v[6];
    return sg_phaser_init(&nd->u.phaser, &c, rate);
  }
  case FX_SAT: {
    sg_saturation_config c;
    sg_saturation_config_init(&c);
    c.drive_db = v[0], c.asym = v[1], c.output_db = v[2], c.mix = v[3];
    c.oversample = (int)v[4];
    return sg_saturation_init(&nd->u.sat, &c, rate);
  }
  case FX_WIDTH:
    return sg_width_init(&nd->u.width, v[0], rate);
  case FX_PAN:
    sg_pan_gains(v[0], &nd->gl, &nd->gr);
    return SG_OK;
  case FX_GAIN:
    nd->gl = nd->gr = sg_db_to_lin(v[0]);
    return SG_OK;
  case FX_LIMITER: {
    sg_limiter_config c;
    sg_limiter_config_init(&c);
    c.ceiling_dbtp = v[0], c.lookahead_ms = v[1], c.release_ms = v[2], c.gain_db = v[3];
    c.margin_db = v[4];
    return sg_limiter_init(&nd->u.lim, &c, rate);
  }
  default:
    return SG_E_INTERNAL;
  }
}

static void free_node(node *nd) {
  switch (nd->kind) {
  case FX_DELAY:
    sg_delay_free(&nd->u.delay);
    break;
  case FX_REVERB:
    sg_reverb_free(&nd->u.reverb);
    break;
  case FX_CHORUS:
  case FX_FLANGER:
    sg_chorus_free(&nd->u.chorus);
    break;
  case FX_LIMITER:
    sg_limiter_free(&nd->u.lim);
    break;
  default:
    break;
  }
}

sg_status sg_fx_chain_create(const sg_effect_spec *fx, int n, double rate, double bpm,
                             const char *spec_file, sg_fx_chain **out, sg_diag *d) {
  if (!out || n < 0 || (n > 0 && !fx) || !(rate >= 8000.0 && rate <= 384000.0))
    return sg_diag_fail(d, SG_E_INVAL, "fx chain: invalid arguments (n=%d, rate=%g)", n, rate);
  *out = NULL;
  const char *file = spec_file ? spec_file : "";
  sg_fx_chain *c = calloc(1, sizeof *c);
  if (!c)
    return sg_diag_fail(d, SG_E_NOMEM, "fx chain: out of memory");
  c->rate = rate;
  if (n > 0) {
    c->nodes = calloc((size_t)n, sizeof(node));
    if (!c->nodes) {
      free(c);
      return sg_diag_fail(d, SG_E_NOMEM, "fx chain: out of memory");
    }
  }
  const char *tnames[FX_KIND_COUNT];
  for (int k = 0; k < FX_KIND_COUNT; ++k)
    tnames[k] = k_types[k].name;
  sg_status st = SG_OK;
  for (int i = 0; i < n; ++i) {
    const sg_effect_spec *e = &fx[i];
    int kind = -1;
    for (int k = 0; k < FX_KIND_COUNT; ++k)
      if (ieq(e->type.s, k_types[k].name))
        kind = k;
    if (kind < 0) {
      char msg[SG_DIAG_TEXT];
      size_t l = (size_t)snprintf(
          msg, sizeof msg, "effect %d: unknown effect type '%s'; allowed: ", i + 1, e->type.s);
      for (int k = 0; k < FX_KIND_COUNT && l < sizeof msg; ++k)
        l += (size_t)snprintf(msg + l, sizeof msg - l, "%s%s", k ? ", " : "", tnames[k]);
      did_you_mean(msg, sizeof msg, e->type.s, tnames, FX_KIND_COUNT);
      st = fail_at(d, file, e->type.pos.line ? e->type.pos : e->pos, msg);
      break;
    }
    node *nd = &c->nodes[i];
    nd->kind = (fxkind)kind;
    st = read_params(e, i, &k_types[kind], nd, rate, bpm, file, d);
    if (st != SG_OK)
      break;
    st = build_node(nd, rate, bpm);
    if (st != SG_OK) {
      sg_diag_at(d, file, e->pos.line, e->pos.col);
      sg_diag_fail(d, st, "effect %d (%s): could not be set up: %s", i + 1, k_types[kind].name,
                   sg_status_message(st));
      break;
    }
    c->n = i + 1;
  }
  if (st != SG_OK) {
    sg_fx_chain_destroy(c);
    return st;
  }
  *out = c;
  return SG_OK;
}

void sg_fx_chain_destroy(sg_fx_chain *c) {
  if (!c)
    return;
  for (int i = 0; i < c->n; ++i)
    free_node(&c->nodes[i]);
  free(c->nodes);
  free(c);
}

void sg_fx_chain_process(sg_fx_chain *c, float *L, float *R, const float *sideL, const float *sideR,
                         size_t n) {
  for (int i = 0; i < c->n; ++i) {
    node *nd = &c->nodes[i];
    switch (nd->kind) {
    case FX_EQ:
      sg_eq_process(&nd->u.eq, L, R, n);
      break;
    case FX_COMP:
      sg_compressor_process(&nd->u.comp, L, R, nd->keyed ? sideL : NULL, nd->keyed ? sideR : NULL,
                            n);
      break;
    case FX_DELAY:
      sg_delay_process(&nd->u.delay, L, R, n);
      break;
    case FX_REVERB:
      sg_reverb_process(&nd->u.reverb, L, R, n);
      break;
    case FX_CHORUS:
    case FX_FLANGER:
      sg_chorus_process(&nd->u.chorus, L, R, n);
      break;
    case FX_PHASER:
      sg_phaser_process(&nd->u.phaser, L, R, n);
      break;
    case FX_SAT:
      sg_saturation_process(&nd->u.sat, L, R, n);
      break;
    case FX_WIDTH:
      sg_width_process(&nd->u.width, L, R, n);
      break;
    case FX_PAN:
    case FX_GAIN:
      for (size_t k = 0; k < n; ++k) {
        L[k] = (float)(L[k] * nd->gl);
        R[k] = (float)(R[k] * nd->gr);
      }
      break;
    case FX_LIMITER:
      sg_limiter_process(&nd->u.lim, L, R, n);
      break;
    default:
      break;
    }
  }
}

void sg_fx_chain_reset(sg_fx_chain *c) {
  for (int i = 0; i < c->n; ++i) {
    node *nd = &c->nodes[i];
    switch (nd->kind) {
    case FX_EQ:
      sg_eq_reset(&nd->u.eq);
      break;
    case FX_COMP:
      sg_compressor_reset(&nd->u.comp);
      break;
    case FX_DELAY:
      sg_delay_reset(&nd->u.delay);
      break;
    case FX_REVERB:
      sg_reverb_reset(&nd->u.reverb);
      break;
    case FX_CHORUS:
    case FX_FLANGER:
      sg_chorus_reset(&nd->u.chorus);
      break;
    case FX_PHASER:
      sg_phaser_reset(&nd->u.phaser);
      break;
    case FX_SAT:
      sg_saturation_reset(&nd->u.sat);
      break;
    case FX_WIDTH:
      nd->u.width.cur = nd->u.width.target;
      break;
    case FX_LIMITER:
      sg_limiter_reset(&nd->u.lim);
      break;
    default:
      break;
    }
  }
}

/* -60 dB ring time of a resonance of quality q at f: envelope time constant 2q/w0. */
static double ring_frames(double q, double f, double rate) {
  return 6.908 * 2.0 * q / (2 * SG_PI * f) * rate;
}

size_t sg_fx_chain_tail_frames(const sg_fx_chain *c) {
  double total = 0, rate = c->rate;
  for (int i = 0; i < c->n; ++i) {
    const node *nd = &c->nodes[i];
    const double *v = nd->v;
    double t = 0;
    switch (nd->kind) {
    case FX_EQ: {
      /* Sharpest resonance: the given q, or the highest Butterworth section Q for order > 2. */
      double q = v[2];
      if ((v[0] == SG_EQ_LOWPASS || v[0] == SG_EQ_HIGHPASS) && (int)v[4] != 2)
        q = 1.0 / (2.0 * cos(SG_PI / 2 - SG_PI / (2.0 * v[4])));
      t = ring_frames(q < 0.5 ? 0.5 : q, v[1], rate);
      break;
    }
    case FX_DELAY:
      t = sg_delay_tail_frames(&nd->u.delay);
      break;
    case FX_REVERB:
      t = sg_reverb_tail_frames(&nd->u.reverb);
      break;
    case FX_CHORUS:
    case FX_FLANGER: {
      const sg_chorus_config *k = &nd->u.chorus.cfg;
      double dly = (k->delay_ms + k->depth_ms) * 1e-3 * rate, fb = fabs(k->feedback);
      t = fb > 1e-6 ? dly * (ceil(log(1e-3) / log(fb)) + 1) : dly;
      break;
    }
    case FX_PHASER: {
      const sg_phaser_config *k = &nd->u.phaser.cfg;
      double fb = fabs(k->feedback);
      t = ring_frames(0.5 * k->stages, k->min_hz, rate) / (1 - fb);
      break;
    }
    default:
      break;
    }
    total += t;
  }
  return (size_t)ceil(total);
}

size_t sg_fx_chain_latency_frames(const sg_fx_chain *c) {
  size_t total = 0;
  for (int i = 0; i < c->n; ++i) {
    if (c->nodes[i].kind == FX_SAT)
      total += sg_saturation_latency(&c->nodes[i].u.sat);
    if (c->nodes[i].kind == FX_LIMITER)
      total += sg_limiter_latency(&c->nodes[i].u.lim);
  }
  return total;
}

char *sg_fx_chain_describe(const sg_fx_chain *c, char *out, size_t cap) {
  if (!out || !cap)
    return out;
  out[0] = 0;
  size_t l = 0;
  for (int i = 0; i < c->n && l + 1 < cap; ++i) {
    const node *nd = &c->nodes[i];
    const tdef *t = &k_types[nd->kind];
    l += (size_t)snprintf(out + l, cap - l, "%s:", t->name);
    for (int k = 0; k < nparams(t) && l + 1 < cap; ++k) {
      const pdef *pd = &t->p[k];
      char val[SG_MAX_NAME * 2 + 8];
      if (pd->kind == P_TEXT) {
        if (!nd->txt[k][0])
          continue;
        snprintf(val, sizeof val, "%s", nd->txt[k]);
      } else if (pd->kind == P_ENUM) {
        char store[16][32];
        const char *ch[16];
        int nc = split_choices(pd->choices, store, ch), idx = (int)nd->v[k];
        snprintf(val, sizeof val, "%s", idx >= 0 && idx < nc ? ch[idx] : "?");
      } else if (pd->kind == P_BOOL) {
        snprintf(val, sizeof val, "%s", nd->v[k] > 0 ? "true" : "false");
      } else if (nd->kind == FX_REVERB && !strcmp(pd->name, "rt60_low") && nd->v[k] <= 0) {
        fmt_num(val, sizeof val, nd->v[0]); /* default: same as rt60 */
        strcat(val, " s");
      } else {
        fmt_num(val, sizeof val, nd->v[k]);
        if (*pd->unit) {
          strcat(val, " ");
          strcat(val, pd->unit);
        }
      }
      l += (size_t)snprintf(out + l, cap - l, " %s=%s", pd->name, val);
    }
    if (nd->kind == FX_DELAY && l + 1 < cap)
      l += (size_t)snprintf(out + l, cap - l, " (lag %zu frames, exact %.3f)", nd->u.delay.lag,
                            nd->u.delay.lag_exact);
    if (l + 1 < cap)
      l += (size_t)snprintf(out + l, cap - l, "\n");
  }
  if (l >= cap)
    out[cap - 1] = 0;
  return out;
}

int sg_fx_chain_count(const sg_fx_chain *c) { return c ? c->n : 0; }

const char *sg_fx_chain_type(const sg_fx_chain *c, int i) {
  if (!c || i < 0 || i >= c->n)
    return NULL;
  return k_types[c->nodes[i].kind].name;
}

const char *sg_fx_chain_sidechain(const sg_fx_chain *c) {
  for (int i = 0; c && i < c->n; ++i)
    if (c->nodes[i].kind == FX_COMP && c->nodes[i].keyed)
      return c->nodes[i].txt[8];
  return NULL;
}

sg_status sg_fx_chain_gain_reduction(const sg_fx_chain *c, int i, double *max_db, double *mean_db) {
  if (!c || i < 0 || i >= c->n)
    return SG_E_RANGE;
  const node *nd = &c->nodes[i];
  if (nd->kind == FX_COMP) {
    double mx, mn;
    sg_compressor_stats(&nd->u.comp, &mx, &mn);
    if (max_db)
      *max_db = mx;
    if (mean_db)
      *mean_db = mn;
    return SG_OK;
  }
  if (nd->kind == FX_LIMITER) {
    if (max_db)
      *max_db = sg_limiter_max_gain_reduction_db(&nd->u.lim);
    if (mean_db)
      *mean_db = sg_limiter_mean_gain_reduction_db(&nd->u.lim);
    return SG_OK;
  }
  return SG_E_UNSUPPORTED;
}
