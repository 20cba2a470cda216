/* Effect chain built from the song spec: strict, table-driven validation (every error points to
 * the spec's file:line:col with the allowed values and a did-you-mean), then one unit per
 * effect, processed in order in place. See include/stemgate/fx.h for the parameter list.
 *
 * sg_fx links only sg_core: the sg_effect_spec type comes from spec.h as plain data, and the
 * parameter validation and did-you-mean are core's (sg_params_check, sg_suggest), so the spec
 * loader can call sg_fx_check without a dependency cycle. */
#include "stemgate/fx.h"
#include "stemgate/spec.h"

#include "fx/fx_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameter tables ----------------------------------------------------------------------
 *
 * The one description of every effect parameter (name, kind, unit, range, default, doc). The spec
 * loader validates a song against it through sg_fx_check before any audio, the chain below reads
 * its values and defaults from it (v[k] is parameter k of the type), and docs/spec.md's effect
 * table is generated from it (tests/spec/test_schema_doc.c keeps the two equal). */

#define NUM(n, u, lo, hi, def, doc)                                                                \
  { n, SG_PARAM_NUMBER, u, lo, hi, def, NULL, doc, 0 }
#define INT(n, lo, hi, def, ch, doc)                                                               \
  { n, SG_PARAM_INTEGER, "", lo, hi, def, ch, doc, 0 }
#define ENUM(n, def, ch, doc)                                                                      \
  { n, SG_PARAM_ENUM, "", 0, 0, def, ch, doc, 0 }
#define BOOL(n, def, doc)                                                                          \
  { n, SG_PARAM_BOOL, "", 0, 1, def, NULL, doc, 0 }
#define TEXT(n, kind, dflt, doc)                                                                   \
  { n, kind, "", 0, 0, 0, dflt, doc, 0 }

#define MAXP 12

typedef struct tdef {
  const char *name;
  const char *doc;
  sg_param_def p[MAXP];
  const char *words; /* what it does, for a client reading NOTES.txt (sg_fx_chain_describe) */
} tdef;

static const tdef k_types[SG__FX_KIND_COUNT] = {
    [SG__FX_EQ] = {"eq",
                   "RBJ cookbook filter; Butterworth cascade for low/high-pass orders above 2",
                   {ENUM("type", 4, "lowpass|highpass|bandpass|notch|peak|lowshelf|highshelf",
                         "filter shape"),
                    NUM("freq", "Hz", 10, 20000, 1000, "corner or centre frequency"),
                    NUM("q", "", 0.05, 100, 0.7071, "quality (bandwidth) of peak/notch/band/shelf"),
                    NUM("gain_db", "dB", -48, 48, 0, "gain of peak and shelf filters"),
                    INT("order", 1, 8, 2, NULL, "low/high-pass order (12 dB/oct per 2)")},
                   "Equaliser: a filter that shapes the tone (cuts or boosts a band, or rolls off "
                   "lows or highs)"},
    [SG__FX_COMP] =
        {"compressor",
         "feed-forward log-domain compressor (Giannoulis, Massberg & Reiss 2012)",
         {NUM("threshold_db", "dB", -80, 0, -18, "level where compression starts"),
          NUM("ratio", "", 1, 100, 4, "input dB per output dB above the threshold"),
          NUM("knee_db", "dB", 0, 24, 6, "width of the soft knee"),
          NUM("attack_ms", "ms", 0.01, 500, 10, "attack time constant"),
          NUM("release_ms", "ms", 1, 5000, 100, "release time constant"),
          NUM("makeup_db", "dB", -24, 48, 0, "gain after compression"),
          ENUM("detector", 0, "peak|rms", "level detector"),
          NUM("rms_ms", "ms", 0.1, 300, 10, "RMS window of the rms detector"),
          TEXT("sidechain", SG_PARAM_STEM, "",
               "stem whose signal keys the detector (checked by the spec)")},
         "Compressor: evens out the level by turning loud passages down, with a soft knee"},
    [SG__FX_DELAY] =
        {"delay",
         "tempo-synced delay with filtered feedback",
         {TEXT("time", SG_PARAM_NOTE_TIME, "1/8", "delay time at the song's tempo"),
          NUM("feedback", "", 0, 0.95, 0.35, "feedback gain"),
          NUM("mix", "", 0, 1, 0.25, "wet share"),
          NUM("lowcut", "Hz", 10, 5000, 100, "high-pass in the feedback loop"),
          NUM("highcut", "Hz", 500, 20000, 8000, "low-pass in the feedback loop"),
          BOOL("pingpong", 0, "alternate the repeats left and right")},
         "Echo in time with the song: repeats that fade out, darker and thinner at each pass"},
    [SG__FX_REVERB] = {"reverb",
                       "feedback delay network (Jot & Chaigne 1991)",
                       {NUM("rt60", "s", 0.1, 30, 2, "decay time to -60 dB"),
                        NUM("rt60_low", "s", 0.1, 30, 0, "low-band decay time (0 or absent: rt60)"),
                        NUM("predelay_ms", "ms", 0, 250, 10, "delay before the reverb"),
                        NUM("size", "", 0.25, 2, 1, "scale of the delay lines"),
                        NUM("mix", "", 0, 1, 0.25, "wet share"),
                        NUM("damping", "", 0, 0.9, 0.3, "high-frequency damping"),
                        NUM("diffusion", "", 0, 0.8, 0.6, "input allpass diffusion"),
                        INT("lines", 8, 16, 16, "8|16", "delay lines of the network"),
                        NUM("mod_depth_ms", "ms", 0, 2, 0, "delay modulation depth (0: off)"),
                        NUM("mod_rate_hz", "Hz", 0.05, 5, 0.7, "delay modulation rate")},
                       "Reverb: an artificial room whose tail decays over rt60 seconds"},
    [SG__FX_CHORUS] =
        {"chorus",
         "modulated fractional delays, one LFO per voice",
         {NUM("rate_hz", "Hz", 0.01, 10, 0.8, "LFO rate"),
          NUM("depth_ms", "ms", 0, 10, 2.5, "modulation depth"),
          NUM("delay_ms", "ms", 0.1, 40, 12, "centre delay"),
          INT("voices", 1, 4, 2, NULL, "delayed voices"),
          NUM("spread", "", 0, 1, 1, "stereo phase offset of the LFOs"),
          NUM("mix", "", 0, 1, 0.5, "wet share")},
         "Chorus: slightly delayed, gently wobbling copies that thicken and widen the sound"},
    [SG__FX_FLANGER] = {"flanger",
                        "one short modulated delay with feedback",
                        {NUM("rate_hz", "Hz", 0.01, 10, 0.25, "LFO rate"),
                         NUM("depth_ms", "ms", 0, 10, 1.5, "modulation depth"),
                         NUM("delay_ms", "ms", 0.1, 40, 2, "centre delay"),
                         NUM("feedback", "", -0.95, 0.95, 0.5, "feedback gain"),
                         NUM("spread", "", 0, 1, 1, "stereo phase offset of the LFO"),
                         NUM("mix", "", 0, 1, 0.5, "wet share")},
                        "Flanger: a short swept echo with feedback, the classic jet-like whoosh"},
    [SG__FX_PHASER] = {"phaser",
                       "swept first-order allpass cascade with feedback",
                       {NUM("rate_hz", "Hz", 0.01, 10, 0.5, "LFO rate"),
                        INT("stages", 2, 12, 6, "2|4|6|8|10|12", "allpass stages"),
                        NUM("min_hz", "Hz", 20, 5000, 200, "lowest notch sweep frequency"),
                        NUM("max_hz", "Hz", 100, 20000, 3000, "highest sweep frequency (> min_hz)"),
                        NUM("feedback", "", -0.95, 0.95, 0.4, "feedback gain"),
                        NUM("spread", "", 0, 1, 1, "stereo phase offset of the LFO"),
                        NUM("mix", "", 0, 1, 0.5, "wet share")},
                       "Phaser: moving notches swept through the spectrum for a swirling tone"},
    [SG__FX_SAT] = {"saturation",
                    "oversampled tanh waveshaper",
                    {NUM("drive_db", "dB", 0, 48, 12, "gain into the shaper"),
                     NUM("asym", "", 0, 1, 0, "asymmetry (even harmonics)"),
                     NUM("output_db", "dB", -48, 12, 0, "gain after the shaper"),
                     NUM("mix", "", 0, 1, 1, "wet share"),
                     INT("oversample", 1, 4, 4, "1|4", "oversampling factor")},
                    "Saturation: gentle analogue-style overdrive that adds harmonics and warmth"},
    [SG__FX_WIDTH] = {"width",
                      "mid/side width",
                      {NUM("width", "", 0, 2, 1, "0 mono, 1 as is, 2 wide")},
                      "Stereo width: narrows or widens the stereo image (mid/side)"},
    [SG__FX_PAN] = {"pan",
                    "constant-power pan (-3 dB centre)",
                    {NUM("pan", "", -1, 1, 0, "-1 left, +1 right")},
                    "Panner: places the sound between left and right"},
    [SG__FX_GAIN] = {"gain",
                     "static gain",
                     {NUM("gain_db", "dB", -60, 24, 0, "gain")},
                     "Gain: a fixed level change"},
    [SG__FX_LIMITER] = {"limiter",
                        "look-ahead true-peak limiter",
                        {NUM("ceiling_dbtp", "dBTP", -30, 0, -1, "true-peak ceiling"),
                         NUM("lookahead_ms", "ms", 0.5, 10, 2, "look-ahead"),
                         NUM("release_ms", "ms", 1, 2000, 80, "release time"),
                         NUM("gain_db", "dB", -24, 36, 0, "gain into the limiter"),
                         NUM("margin_db", "dB", 0, 1, 0.1, "safety margin below the ceiling")},
                        "Limiter: a brickwall that keeps the peaks (true peaks) under its ceiling"},
};

#undef NUM
#undef INT
#undef ENUM
#undef BOOL
#undef TEXT

static int nparams(const tdef *t) {
  int n = 0;
  while (n < MAXP && t->p[n].name)
    ++n;
  return n;
}

/* ---- chain --------------------------------------------------------------------------------- */

typedef struct node {
  sg__fxkind kind;
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
  double bpm;       /* the tempo it was built at */
  sg_fx_tap_fn tap; /* per-effect observer (sg_fx_chain_set_tap), or NULL */
  void *tap_user;
  float *tap_in; /* copy of an effect's input for the tap: 2 x tap_block floats */
  size_t tap_block;
};

/* ---- validation helpers --------------------------------------------------------------------- */

static int ieq(const char *a, const char *b) {
  for (; *a && *b; ++a, ++b)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return 0;
  return *a == *b;
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

/* Reads and validates every parameter of one effect into nd->v / nd->txt: the table does the
 * names, kinds and ranges; the checks that need more than one value or the tempo follow. */
static sg_status read_params(const sg_effect_spec *fx, const char *label, const tdef *t, node *nd,
                             double rate, double bpm, const char *file, sg_diag *d) {
  char msg[SG_DIAG_TEXT];
  const int np = nparams(t);
  sg_status st = sg_params_check(&fx->params, t->p, np, label, file, nd->v, d);
  if (st != SG_OK)
    return st;
  for (int k = 0; k < np; ++k) {
    nd->txt[k][0] = 0;
    if (t->p[k].kind < SG_PARAM_NOTE_TIME)
      continue;
    const sg_param *p = find_param(&fx->params, t->p[k].name);
    snprintf(nd->txt[k], sizeof nd->txt[k], "%s",
             p ? p->text : (t->p[k].choices ? t->p[k].choices : ""));
  }
  /* Cross-parameter checks. */
  if (nd->kind == SG__FX_DELAY) {
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
               "%s: 'time' is '%s', neither a note value (1/4, 1/8., 1/4T, 3/16) nor "
               "milliseconds (250, 250ms)",
               label, nd->txt[0]);
      return fail_at(d, file, p ? p->pos : fx->pos, msg);
    }
    double frames = ok && sg_note_value_parse(dc.time, &num, &den) == SG_OK
                        ? sg_note_value_frames(num, den, bpm > 0 ? bpm : 120, rate)
                        : ms * 1e-3 * rate;
    if (frames > 8.0 * rate) {
      const sg_param *p = find_param(&fx->params, "time");
      snprintf(msg, sizeof msg, "%s: 'time' '%s' is %.2f s at %g BPM; at most 8 s", label,
               nd->txt[0], frames / rate, bpm > 0 ? bpm : 120);
      return fail_at(d, file, p ? p->pos : fx->pos, msg);
    }
  }
  if (nd->kind == SG__FX_PHASER && nd->v[2] >= nd->v[3]) {
    const sg_param *p = find_param(&fx->params, "max_hz");
    if (!p)
      p = find_param(&fx->params, "min_hz");
    snprintf(msg, sizeof msg, "%s: min_hz (%g) must be below max_hz (%g)", label, nd->v[2],
             nd->v[3]);
    return fail_at(d, file, p ? p->pos : fx->pos, msg);
  }
  return SG_OK;
}

/* ---- building ---------------------------------------------------------------------------- */

static sg_status build_node(node *nd, double rate, double bpm, double follow_min_bpm) {
  const double *v = nd->v;
  switch (nd->kind) {
  case SG__FX_EQ: {
    sg_eq_config c;
    sg_eq_config_init(&c);
    c.type = (sg_eq_type)(int)v[0], c.freq_hz = v[1], c.q = v[2], c.gain_db = v[3];
    c.order = (int)v[4];
    return sg_eq_init(&nd->u.eq, &c, rate);
  }
  case SG__FX_COMP: {
    sg_compressor_config c;
    sg_compressor_config_init(&c);
    c.threshold_db = v[0], c.ratio = v[1], c.knee_db = v[2], c.attack_ms = v[3];
    c.release_ms = v[4], c.makeup_db = v[5];
    c.detector = v[6] > 0 ? SG_DETECT_RMS : SG_DETECT_PEAK;
    c.rms_ms = v[7];
    nd->keyed = nd->txt[8][0] != 0;
    return sg_compressor_init(&nd->u.comp, &c, rate);
  }
  case SG__FX_DELAY: {
    sg_delay_config c;
    sg_delay_config_init(&c);
    snprintf(c.time, sizeof c.time, "%s", nd->txt[0]);
    c.bpm = bpm > 0 ? bpm : 120;
    c.feedback = v[1], c.mix = v[2], c.lowcut_hz = v[3], c.highcut_hz = v[4];
    c.pingpong = v[5] > 0;
    c.max_sec = 8;
    c.follow_min_bpm = follow_min_bpm;
    return sg_delay_init(&nd->u.delay, &c, rate);
  }
  case SG__FX_REVERB: {
    sg_reverb_config c;
    sg_reverb_config_init(&c);
    c.rt60 = v[0], c.rt60_low = v[1], c.predelay_ms = v[2], c.size = v[3], c.mix = v[4];
    c.damping = v[5], c.diffusion = v[6], c.lines = (int)v[7];
    c.mod_depth_ms = v[8], c.mod_rate_hz = v[9];
    return sg_reverb_init(&nd->u.reverb, &c, rate);
  }
  case SG__FX_CHORUS: {
    sg_chorus_config c;
    sg_chorus_config_init(&c);
    c.rate_hz = v[0], c.depth_ms = v[1], c.delay_ms = v[2], c.voices = (int)v[3];
    c.spread = v[4], c.mix = v[5];
    return sg_chorus_init(&nd->u.chorus, &c, rate);
  }
  case SG__FX_FLANGER: {
    sg_chorus_config c;
    sg_flanger_config_init(&c);
    c.rate_hz = v[0], c.depth_ms = v[1], c.delay_ms = v[2], c.feedback = v[3];
    c.spread = v[4], c.mix = v[5];
    return sg_chorus_init(&nd->u.chorus, &c, rate);
  }
  case SG__FX_PHASER: {
    sg_phaser_config c;
    sg_phaser_config_init(&c);
    c.rate_hz = v[0], c.stages = (int)v[1], c.min_hz = v[2], c.max_hz = v[3];
    c.feedback = v[4], c.spread = v[5], c.mix = v[6];
    return sg_phaser_init(&nd->u.phaser, &c, rate);
  }
  case SG__FX_SAT: {
    sg_saturation_config c;
    sg_saturation_config_init(&c);
    c.drive_db = v[0], c.asym = v[1], c.output_db = v[2], c.mix = v[3];
    c.oversample = (int)v[4];
    return sg_saturation_init(&nd->u.sat, &c, rate);
  }
  case SG__FX_WIDTH:
    return sg_width_init(&nd->u.width, v[0], rate);
  case SG__FX_PAN:
    sg_pan_gains(v[0], &nd->gl, &nd->gr);
    return SG_OK;
  case SG__FX_GAIN:
    nd->gl = nd->gr = sg_db_to_lin(v[0]);
    return SG_OK;
  case SG__FX_LIMITER: {
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
  case SG__FX_DELAY:
    sg_delay_free(&nd->u.delay);
    break;
  case SG__FX_REVERB:
    sg_reverb_free(&nd->u.reverb);
    break;
  case SG__FX_CHORUS:
  case SG__FX_FLANGER:
    sg_chorus_free(&nd->u.chorus);
    break;
  case SG__FX_LIMITER:
    sg_limiter_free(&nd->u.lim);
    break;
  default:
    break;
  }
}

/* Looks up effect i's type and reads its parameters into nd (no DSP set up). owner (optional)
 * names the chain in messages ("stem 'Bass'"). */
static sg_status check_one(const sg_effect_spec *e, int i, const char *owner, double rate,
                           double bpm, const char *file, node *nd, sg_diag *d) {
  const char *tnames[SG__FX_KIND_COUNT];
  int kind = -1;
  for (int k = 0; k < SG__FX_KIND_COUNT; ++k) {
    tnames[k] = k_types[k].name;
    if (ieq(e->type.s, k_types[k].name))
      kind = k;
  }
  char label[SG_MAX_NAME * 3];
  if (kind < 0) {
    char msg[SG_DIAG_TEXT];
    int hint = sg_suggest(e->type.s, tnames, SG__FX_KIND_COUNT);
    size_t l;
    if (hint >= 0)
      l = (size_t)snprintf(msg, sizeof msg,
                           "effect %d%s%s: unknown effect type '%s'; did you mean '%s'? Allowed: ",
                           i + 1, owner ? " of " : "", owner ? owner : "", e->type.s, tnames[hint]);
    else
      l = (size_t)snprintf(msg, sizeof msg,
                           "effect %d%s%s: unknown effect type '%s'. Allowed: ", i + 1,
                           owner ? " of " : "", owner ? owner : "", e->type.s);
    for (int k = 0; k < SG__FX_KIND_COUNT && l < sizeof msg; ++k)
      l += (size_t)snprintf(msg + l, sizeof msg - l, "%s%s", k ? ", " : "", tnames[k]);
    return fail_at(d, file, e->type.pos.line ? e->type.pos : e->pos, msg);
  }
  snprintf(label, sizeof label, "effect %d (%s)%s%s", i + 1, k_types[kind].name,
           owner ? " of " : "", owner ? owner : "");
  nd->kind = (sg__fxkind)kind;
  return read_params(e, label, &k_types[kind], nd, rate, bpm, file, d);
}

sg_status sg_fx_check(const sg_effect_spec *fx, int n, double rate, double bpm, const char *owner,
                      const char *spec_file, sg_diag *d) {
  if (n < 0 || (n > 0 && !fx) || !(rate >= 8000.0 && rate <= 384000.0))
    return sg_diag_fail(d, SG_E_INVAL, "fx check: invalid arguments (n=%d, rate=%g)", n, rate);
  if (n == 0)
    return SG_OK;
  node *nd = calloc(1, sizeof *nd); /* large (text values); the values are thrown away */
  if (!nd)
    return sg_diag_fail(d, SG_E_NOMEM, "fx check: out of memory");
  sg_status st = SG_OK;
  for (int i = 0; i < n && st == SG_OK; ++i)
    st = check_one(&fx[i], i, owner, rate, bpm, spec_file ? spec_file : "", nd, d);
  free(nd);
  return st;
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
  c->bpm = bpm;
  if (n > 0) {
    c->nodes = calloc((size_t)n, sizeof(node));
    if (!c->nodes) {
      free(c);
      return sg_diag_fail(d, SG_E_NOMEM, "fx chain: out of memory");
    }
  }
  sg_status st = SG_OK;
  for (int i = 0; i < n; ++i) {
    const sg_effect_spec *e = &fx[i];
    node *nd = &c->nodes[i];
    st = check_one(e, i, NULL, rate, bpm, file, nd, d);
    if (st != SG_OK)
      break;
    st = build_node(nd, rate, bpm, 0);
    if (st != SG_OK) {
      sg_diag_at(d, file, e->pos.line, e->pos.col);
      sg_diag_fail(d, st, "effect %d (%s): could not be set up: %s", i + 1, k_types[nd->kind].name,
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

sg_status sg_fx_chain_follow_tempo(sg_fx_chain *c, double min_bpm, sg_diag *d) {
  if (!c || !(min_bpm > 0))
    return sg_diag_fail(d, SG_E_INVAL, "fx chain: follow_tempo needs a tempo > 0");
  for (int i = 0; i < c->n; ++i) {
    node *nd = &c->nodes[i];
    if (nd->kind != SG__FX_DELAY)
      continue;
    sg_delay_free(&nd->u.delay);
    sg_status st = build_node(nd, c->rate, c->bpm, min_bpm);
    if (st != SG_OK)
      return sg_diag_fail(d, st, "effect %d (delay): could not follow the tempo: %s", i + 1,
                          sg_status_message(st));
  }
  return SG_OK;
}

void sg_fx_chain_set_bpm(sg_fx_chain *c, double bpm) {
  for (int i = 0; c && i < c->n; ++i)
    if (c->nodes[i].kind == SG__FX_DELAY)
      sg_delay_set_bpm(&c->nodes[i].u.delay, bpm);
}

int sg_fx_type_count(void) { return SG__FX_KIND_COUNT; }

sg_status sg_fx_type_schema(int i, const char **name, const char **doc, const sg_param_def **params,
                            int *n_params) {
  if (i < 0 || i >= SG__FX_KIND_COUNT)
    return SG_E_RANGE;
  if (name)
    *name = k_types[i].name;
  if (doc)
    *doc = k_types[i].doc;
  if (params)
    *params = k_types[i].p;
  if (n_params)
    *n_params = nparams(&k_types[i]);
  return SG_OK;
}

void sg_fx_chain_destroy(sg_fx_chain *c) {
  if (!c)
    return;
  for (int i = 0; i < c->n; ++i)
    free_node(&c->nodes[i]);
  free(c->nodes);
  free(c->tap_in);
  free(c);
}

sg_status sg_fx_chain_set_tap(sg_fx_chain *c, sg_fx_tap_fn fn, void *user, size_t max_block,
                              sg_diag *d) {
  if (!c || (fn && max_block == 0))
    return sg_diag_fail(d, SG_E_INVAL, "fx chain: invalid tap arguments");
  free(c->tap_in);
  c->tap_in = NULL;
  c->tap = NULL;
  c->tap_user = NULL;
  c->tap_block = 0;
  if (!fn)
    return SG_OK;
  if (!(c->tap_in = malloc(2 * max_block * sizeof(float))))
    return sg_diag_fail(d, SG_E_NOMEM, "fx chain: out of memory for the tap");
  c->tap = fn;
  c->tap_user = user;
  c->tap_block = max_block;
  return SG_OK;
}

sg__fxkind sg__fx_node_kind(const sg_fx_chain *c, int i) { return c->nodes[i].kind; }
const double *sg__fx_node_values(const sg_fx_chain *c, int i) { return c->nodes[i].v; }
const char *sg__fx_node_text(const sg_fx_chain *c, int i, int k) { return c->nodes[i].txt[k]; }

static void process_nodes(sg_fx_chain *c, float *L, float *R, const float *sideL,
                          const float *sideR, size_t n) {
  for (int i = 0; i < c->n; ++i) {
    node *nd = &c->nodes[i];
    /* The tap sees each effect's own input and output (copied before the in-place process). */
    if (c->tap) {
      memcpy(c->tap_in, L, n * sizeof(float));
      memcpy(c->tap_in + c->tap_block, R, n * sizeof(float));
    }
    switch (nd->kind) {
    case SG__FX_EQ:
      sg_eq_process(&nd->u.eq, L, R, n);
      break;
    case SG__FX_COMP:
      sg_compressor_process(&nd->u.comp, L, R, nd->keyed ? sideL : NULL, nd->keyed ? sideR : NULL,
                            n);
      break;
    case SG__FX_DELAY:
      sg_delay_process(&nd->u.delay, L, R, n);
      break;
    case SG__FX_REVERB:
      sg_reverb_process(&nd->u.reverb, L, R, n);
      break;
    case SG__FX_CHORUS:
    case SG__FX_FLANGER:
      sg_chorus_process(&nd->u.chorus, L, R, n);
      break;
    case SG__FX_PHASER:
      sg_phaser_process(&nd->u.phaser, L, R, n);
      break;
    case SG__FX_SAT:
      sg_saturation_process(&nd->u.sat, L, R, n);
      break;
    case SG__FX_WIDTH:
      sg_width_process(&nd->u.width, L, R, n);
      break;
    case SG__FX_PAN:
    case SG__FX_GAIN:
      for (size_t k = 0; k < n; ++k) {
        L[k] = (float)(L[k] * nd->gl);
        R[k] = (float)(R[k] * nd->gr);
      }
      break;
    case SG__FX_LIMITER:
      sg_limiter_process(&nd->u.lim, L, R, n);
      break;
    default:
      break;
    }
    if (c->tap)
      c->tap(c->tap_user, i, c->tap_in, c->tap_in + c->tap_block, L, R, nd->keyed ? sideL : NULL,
             nd->keyed ? sideR : NULL, n);
  }
}

void sg_fx_chain_process(sg_fx_chain *c, float *L, float *R, const float *sideL, const float *sideR,
                         size_t n) {
  if (!c->tap) {
    process_nodes(c, L, R, sideL, sideR, n);
    return;
  }
  /* With a tap, blocks longer than its copy buffer go through in pieces: every unit is block-size
   * independent (control rate counted from reset), so the output is the same. */
  for (size_t o = 0; o < n; o += c->tap_block) {
    size_t m = n - o < c->tap_block ? n - o : c->tap_block;
    process_nodes(c, L + o, R + o, sideL ? sideL + o : NULL, sideR ? sideR + o : NULL, m);
  }
}

void sg_fx_chain_reset(sg_fx_chain *c) {
  for (int i = 0; i < c->n; ++i) {
    node *nd = &c->nodes[i];
    switch (nd->kind) {
    case SG__FX_EQ:
      sg_eq_reset(&nd->u.eq);
      break;
    case SG__FX_COMP:
      sg_compressor_reset(&nd->u.comp);
      break;
    case SG__FX_DELAY:
      sg_delay_reset(&nd->u.delay);
      break;
    case SG__FX_REVERB:
      sg_reverb_reset(&nd->u.reverb);
      break;
    case SG__FX_CHORUS:
    case SG__FX_FLANGER:
      sg_chorus_reset(&nd->u.chorus);
      break;
    case SG__FX_PHASER:
      sg_phaser_reset(&nd->u.phaser);
      break;
    case SG__FX_SAT:
      sg_saturation_reset(&nd->u.sat);
      break;
    case SG__FX_WIDTH:
      nd->u.width.cur = nd->u.width.target;
      break;
    case SG__FX_LIMITER:
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
    case SG__FX_EQ: {
      /* Sharpest resonance: the given q, or the highest Butterworth section Q for order > 2. */
      double q = v[2];
      if ((v[0] == SG_EQ_LOWPASS || v[0] == SG_EQ_HIGHPASS) && (int)v[4] != 2)
        q = 1.0 / (2.0 * cos(SG_PI / 2 - SG_PI / (2.0 * v[4])));
      t = ring_frames(q < 0.5 ? 0.5 : q, v[1], rate);
      break;
    }
    case SG__FX_DELAY:
      t = sg_delay_tail_frames(&nd->u.delay);
      break;
    case SG__FX_REVERB:
      t = sg_reverb_tail_frames(&nd->u.reverb);
      break;
    case SG__FX_CHORUS:
    case SG__FX_FLANGER: {
      const sg_chorus_config *k = &nd->u.chorus.cfg;
      double dly = (k->delay_ms + k->depth_ms) * 1e-3 * rate, fb = fabs(k->feedback);
      t = fb > 1e-6 ? dly * (ceil(log(1e-3) / log(fb)) + 1) : dly;
      break;
    }
    case SG__FX_PHASER: {
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
    if (c->nodes[i].kind == SG__FX_SAT)
      total += sg_saturation_latency(&c->nodes[i].u.sat);
    if (c->nodes[i].kind == SG__FX_LIMITER)
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
    /* In words first, then the parameters as set. */
    l += (size_t)snprintf(out + l, cap - l, "%s.\n  %s:", t->words, t->name);
    for (int k = 0; k < nparams(t) && l + 1 < cap; ++k) {
      const sg_param_def *pd = &t->p[k];
      char val[SG_MAX_NAME * 2 + 8];
      if (pd->kind >= SG_PARAM_NOTE_TIME) {
        if (!nd->txt[k][0])
          continue;
        snprintf(val, sizeof val, "%s", nd->txt[k]);
      } else if (pd->kind == SG_PARAM_ENUM) {
        if (!sg_param_choice(pd->choices, (int)nd->v[k], val, sizeof val))
          snprintf(val, sizeof val, "?");
      } else if (pd->kind == SG_PARAM_BOOL) {
        snprintf(val, sizeof val, "%s", nd->v[k] > 0 ? "true" : "false");
      } else if (nd->kind == SG__FX_REVERB && !strcmp(pd->name, "rt60_low") && nd->v[k] <= 0) {
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
    if (nd->kind == SG__FX_DELAY && l + 1 < cap)
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
    if (c->nodes[i].kind == SG__FX_COMP && c->nodes[i].keyed)
      return c->nodes[i].txt[8];
  return NULL;
}

sg_status sg_fx_chain_gain_reduction(const sg_fx_chain *c, int i, double *max_db, double *mean_db) {
  if (!c || i < 0 || i >= c->n)
    return SG_E_RANGE;
  const node *nd = &c->nodes[i];
  if (nd->kind == SG__FX_COMP) {
    double mx, mn;
    sg_compressor_stats(&nd->u.comp, &mx, &mn);
    if (max_db)
      *max_db = mx;
    if (mean_db)
      *mean_db = mn;
    return SG_OK;
  }
  if (nd->kind == SG__FX_LIMITER) {
    if (max_db)
      *max_db = sg_limiter_max_gain_reduction_db(&nd->u.lim);
    if (mean_db)
      *mean_db = sg_limiter_mean_gain_reduction_db(&nd->u.lim);
    return SG_OK;
  }
  return SG_E_UNSUPPORTED;
}
