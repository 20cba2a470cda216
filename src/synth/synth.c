/* The renderer over every instrument: note cursor, pending note-offs, sample-accurate block
 * splitting, patch overrides by name, and the shared output stage (5 Hz DC blocker, look-ahead
 * peak limiter at -1 dBFS). */
#include "synth_internal.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PENDING 1024   /* sounding notes awaiting their note-off */
#define LOOKAHEAD 64       /* output limiter look-ahead, frames */
#define DQ (LOOKAHEAD + 2) /* sliding-maximum wedge capacity (window LOOKAHEAD + 1) */

/* The limiter's gain dips on each attack, where a struck note's first partial cycles carry area
 * that the AC coupling before it balances over the next ~30 ms at full gain: the product keeps
 * an offset of its own (the DX7 e-piano of examples/minimal.yaml read -9e-4 over the whole
 * stem, -1.1e-3 over 1-s windows). A second DC blocker after the limiter removes it; at 0.25 Hz
 * it moves dense chords' peaks by under 0.05 dB (at 1 Hz by 0.1 dB, past the limiter's
 * -1 dBFS), and leaves the e-piano at 4e-4 over its worst window. */
#define LIMIT_DC_HZ 0.25

typedef struct pending_off {
  int64_t frame;
  uint32_t id;
} pending_off;

/* Rendering ahead (sg_synth_set_ahead): a helper thread renders the stream on from where the
 * caller asked first, AHEAD_CHUNK frames at a time, into a ring of AHEAD_RING frames; the
 * caller's renders copy out of it. The instrument's output does not depend on how its timeline
 * is split into blocks (tests/synth: random_notes_random_blocks), so the stream is the bits a
 * direct render gives. */
#define AHEAD_CHUNK 2048
#define AHEAD_RING (4 * AHEAD_CHUNK)

typedef struct ahead {
  int armed, running, stop;
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  const sg_note_list *notes;
  int64_t start;           /* stream frame of the ring's frame 0 */
  int64_t produced, taken; /* frames rendered into the ring, frames copied out */
  float *L, *R;            /* AHEAD_RING frames each */
} ahead;

struct sg_synth {
  sg_synth_kind kind;
  void *st;
  const sg__inst_vt *vt;
  double rate;
  size_t cursor;      /* next note of the list to start */
  int64_t next_frame; /* frame the next contiguous render starts at */
  int started;
  uint32_t next_id;
  pending_off pend[MAX_PENDING];
  size_t npend;
  float lim_gain, lim_rel, lim_att;       /* output limiter state */
  float la_l[LOOKAHEAD], la_r[LOOKAHEAD]; /* limiter look-ahead delay line */
  int la_pos;
  float dq_v[DQ]; /* sliding-maximum wedge memory: values, sample indices */
  uint64_t dq_i[DQ];
  sg_slidemax peak;        /* maximum of the last LOOKAHEAD + 1 input peaks */
  sg_dc_blocker dc[2];     /* output DC blocker (before the limiter) */
  sg_dc_blocker dc_lim[2]; /* the limiter's own offset (after it) */
  ahead ah;
};

static const char *const kind_names[SG_SYNTH_KIND_COUNT_] = {
    "moog_bass", "prophet_poly", "dx7", "guitar", "drums", "soundfont"};

static int name_eq(const char *a, const char *b) {
  for (; *a && *b; ++a, ++b)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return 0;
  return *a == *b;
}

sg_status sg_synth_kind_from_name(const char *name, sg_synth_kind *out) {
  static const struct {
    const char *n;
    sg_synth_kind k;
  } alias[] = {{"bass", SG_SYNTH_MOOG_BASS},
               {"poly", SG_SYNTH_PROPHET_POLY},
               {"fm", SG_SYNTH_DX7},
               {"sf2", SG_SYNTH_SOUNDFONT}};
  if (!name || !out)
    return SG_E_INVAL;
  for (int k = 0; k < SG_SYNTH_KIND_COUNT_; ++k)
    if (name_eq(name, kind_names[k])) {
      *out = (sg_synth_kind)k;
      return SG_OK;
    }
  for (size_t i = 0; i < sizeof alias / sizeof alias[0]; ++i)
    if (name_eq(name, alias[i].n)) {
      *out = alias[i].k;
      return SG_OK;
    }
  return SG_E_NOTFOUND;
}

const char *sg_synth_kind_name(sg_synth_kind k) {
  return (k >= 0 && k < SG_SYNTH_KIND_COUNT_) ? kind_names[k] : "unknown";
}

const char *sg_synth_words(sg_synth_kind k, const char *patch) {
  static const char *const *const words[SG_SYNTH_KIND_COUNT_] = {
      sg__mono_words, sg__poly_words, sg__fm_words, sg__pluck_words, sg__drums_words, NULL};
  if (k == SG_SYNTH_SOUNDFONT)
    return "sampled instrument from a SoundFont (General MIDI program), played by FluidSynth";
  if (k < 0 || k >= SG_SYNTH_KIND_COUNT_ || !words[k])
    return "";
  const char *const *names = sg_synth_patch_names(k);
  for (int i = 0; names && names[i]; ++i)
    if (!patch || !patch[0] || !strcmp(names[i], patch))
      return words[k][i];
  return "";
}

const char *const *sg_synth_patch_names(sg_synth_kind k) {
  static const char *const none[] = {NULL};
  switch (k) {
  case SG_SYNTH_MOOG_BASS:
    return sg__mono_patches;
  case SG_SYNTH_PROPHET_POLY:
    return sg__poly_patches;
  case SG_SYNTH_DX7:
    return sg__fm_patches;
  case SG_SYNTH_GUITAR:
    return sg__pluck_patches;
  case SG_SYNTH_DRUMS:
    return sg__drums_patches;
  default:
    return none;
  }
}

/* General MIDI Level 1 programs (0-based) that come closest to each patch, so a DAW opening
 * the MIDI files hears the right family of sound. The one table of it: MIDI writers ask here.
 * Drums have none (GM channel 10 selects the kit). */
int sg_synth_gm_program(sg_synth_kind kind, const char *patch) {
  static const struct {
    sg_synth_kind k;
    const char *patch;
    int program;
  } gm[] = {
      {SG_SYNTH_MOOG_BASS, "moog_bass", 38},    /* Synth Bass 1 */
      {SG_SYNTH_MOOG_BASS, "sub", 39},          /* Synth Bass 2 */
      {SG_SYNTH_MOOG_BASS, "acid", 39},         /* Synth Bass 2 */
      {SG_SYNTH_PROPHET_POLY, "pad", 89},       /* Pad 2 (warm) */
      {SG_SYNTH_PROPHET_POLY, "brass", 62},     /* Synth Brass 1 */
      {SG_SYNTH_PROPHET_POLY, "arp_pluck", 81}, /* Lead 2 (sawtooth) */
      {SG_SYNTH_DX7, "epiano", 5},              /* Electric Piano 2 (the DX7 electric piano) */
      {SG_SYNTH_DX7, "bell", 14},               /* Tubular Bells */
      {SG_SYNTH_DX7, "fm_bass", 39},            /* Synth Bass 2 */
      {SG_SYNTH_GUITAR, "nylon", 24},           /* Acoustic Guitar (nylon) */
      {SG_SYNTH_GUITAR, "steel", 25},           /* Acoustic Guitar (steel) */
  };
  const char *const *names = sg_synth_patch_names(kind);
  if (!patch || !*patch)
    patch = names[0];
  if (!patch)
    return -1;
  for (size_t i = 0; i < sizeof gm / sizeof gm[0]; ++i)
    if (gm[i].k == kind && name_eq(gm[i].patch, patch))
      return gm[i].program;
  return -1;
}

int sg__patch_index(const char *const *names, const char *name, const char *kind, sg_diag *d) {
  if (!name || !*name)
    return 0;
  for (int i = 0; names[i]; ++i)
    if (name_eq(names[i], name))
      return i;
  char known[256] = "";
  for (int i = 0; names[i]; ++i) {
    if (i)
      strncat(known, ", ", sizeof known - strlen(known) - 1);
    strncat(known, names[i], sizeof known - strlen(known) - 1);
  }
  sg_diag_fail(d, SG_E_NOTFOUND, "unknown patch '%s' for instrument %s (known: %s)", name, kind,
               known);
  return -1;
}

sg_status sg__apply_overrides(void *patch, const sg_param_def *defs, size_t ndefs,
                              const sg_param_set *ov, const char *kind, sg_diag *d) {
  if (!ov)
    return SG_OK;
  char label[SG_MAX_NAME + 16];
  snprintf(label, sizeof label, "instrument %s", kind);
  /* Names, kinds and ranges come from the table, through the same check the spec loader runs. */
  sg_status st = sg_params_check(ov, defs, (int)ndefs, label, NULL, NULL, d);
  if (st != SG_OK)
    return st;
  for (int i = 0; i < ov->n && i < SG_MAX_PARAMS; ++i) {
    int k = sg_param_def_find(defs, (int)ndefs, ov->v[i].key);
    if (k >= 0)
      *(double *)((char *)patch + defs[k].offset) = ov->v[i].num;
  }
  return SG_OK;
}

sg_status sg_synth_param_schema(sg_synth_kind kind, const sg_param_def **params, int *n) {
  const sg_param_def *p = NULL;
  size_t c = 0;
  switch (kind) {
  case SG_SYNTH_MOOG_BASS:
  case SG_SYNTH_PROPHET_POLY:
    p = sg__sub_params, c = sg__sub_nparams;
    break;
  case SG_SYNTH_DX7:
    p = sg__fm_params, c = sg__fm_nparams;
    break;
  case SG_SYNTH_GUITAR:
    p = sg__pluck_params, c = sg__pluck_nparams;
    break;
  case SG_SYNTH_DRUMS:
    p = sg__drum_params, c = sg__drum_nparams;
    break;
  case SG_SYNTH_SOUNDFONT:
    p = sg__sf2_params, c = sg__sf2_nparams;
    break;
  default:
    return SG_E_RANGE;
  }
  if (params)
    *params = p;
  if (n)
    *n = (int)c;
  return SG_OK;
}

sg_status sg_synth_check(sg_synth_kind kind, const char *patch, sg_pos patch_pos,
                         const sg_param_set *overrides, const char *owner, const char *spec_file,
                         sg_diag *d) {
  const sg_param_def *defs;
  int n;
  if (sg_synth_param_schema(kind, &defs, &n) != SG_OK)
    return sg_diag_fail(d, SG_E_INVAL, "unknown instrument kind %d", (int)kind);
  const char *kname = sg_synth_kind_name(kind);
  if (!owner)
    owner = "instrument";
  const char *const *names = sg_synth_patch_names(kind);
  if (patch && *patch && names[0]) {
    int hit = -1, nn = 0;
    for (; names[nn]; ++nn)
      if (name_eq(names[nn], patch))
        hit = nn;
    if (hit < 0) {
      char known[256] = "", hint[96] = "";
      for (int i = 0; names[i]; ++i)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                 names[i]);
      int h = sg_suggest(patch, names, nn);
      if (h >= 0)
        snprintf(hint, sizeof hint, "; did you mean '%s'?", names[h]);
      sg_diag_at(d, spec_file, patch_pos.line, patch_pos.col);
      return sg_diag_fail(d, SG_E_SPEC, "%s: unknown patch '%s' for %s%s Allowed: %s", owner, patch,
                          kname, hint[0] ? hint : ".", known);
    }
  }
  char label[SG_MAX_NAME * 2 + 32];
  snprintf(label, sizeof label, "params of %s (%s)", owner, kname);
  return sg_params_check(overrides, defs, n, label, spec_file, NULL, d);
}

static sg_status finish_create(sg_synth_kind kind, double rate, void *st, const sg__inst_vt *vt,
                               sg_synth **out, sg_diag *d) {
  sg_synth *s = calloc(1, sizeof *s);
  if (!s) {
    vt->destroy(st);
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory creating a synth");
  }
  s->kind = kind;
  s->st = st;
  s->vt = vt;
  s->rate = rate;
  s->lim_rel = (float)exp(-1.0 / (0.080 * rate));
  s->lim_att = (float)exp(-8.0 / LOOKAHEAD); /* 99.97 % of the way down within the look-ahead */
  s->lim_gain = 1.0f;
  /* Pole 1 - 2 pi fc / rate: the first-order approximation of exp(-2 pi fc / rate) (a pole
   * radius 2e-7 larger at 48 kHz, a -3 dB point under 0.01 Hz lower), kept so that every
   * rendered stem stays bit-identical to the ones rendered before this blocker moved to dsp. */
  for (int ch = 0; ch < 2; ++ch) {
    sg_dc_blocker_init(&s->dc[ch], 1.0 - 2.0 * SG_PI * 5.0 / rate);
    sg_dc_blocker_init(&s->dc_lim[ch], 1.0 - 2.0 * SG_PI * LIMIT_DC_HZ / rate);
  }
  sg_slidemax_init(&s->peak, s->dq_v, s->dq_i, DQ, LOOKAHEAD + 1);
  *out = s;
  return SG_OK;
}

double sg_synth_attack_s(const sg_synth *s) {
  return s && s->vt->attack ? s->vt->attack(s->st) : NAN;
}

sg_status sg_synth_create(sg_synth_kind kind, const char *patch, const sg_param_set *overrides,
                          double rate, uint64_t seed, sg_synth **out, sg_diag *d) {
  if (!out)
    return SG_E_INVAL;
  *out = NULL;
  if (!(rate >= 8000 && rate <= 384000))
    return sg_diag_fail(d, SG_E_RANGE, "sample rate %g Hz is outside 8000..384000", rate);
  void *st = NULL;
  const sg__inst_vt *vt = NULL;
  sg_status s;
  switch (kind) {
  case SG_SYNTH_MOOG_BASS:
    s = sg__mono_create(patch, overrides, rate, seed, &st, &vt, d);
    break;
  case SG_SYNTH_PROPHET_POLY:
    s = sg__poly_create(patch, overrides, rate, seed, &st, &vt, d);
    break;
  case SG_SYNTH_DX7:
    s = sg__fm_create(patch, overrides, rate, seed, &st, &vt, d);
    break;
  case SG_SYNTH_GUITAR:
    s = sg__pluck_create(patch, overrides, rate, seed, &st, &vt, d);
    break;
  case SG_SYNTH_DRUMS:
    s = sg__drums_create(patch, overrides, rate, seed, &st, &vt, d);
    break;
  case SG_SYNTH_SOUNDFONT:
    return sg_diag_fail(d, SG_E_INVAL,
                        "a soundfont instrument needs a .sf2 file: use sg_synth_create_soundfont");
  default:
    return sg_diag_fail(d, SG_E_INVAL, "unknown instrument kind %d", (int)kind);
  }
  if (s != SG_OK)
    return s;
  return finish_create(kind, rate, st, vt, out, d);
}

sg_status sg_synth_create_soundfont(const char *sf2_path, int bank, int program,
                                    const sg_param_set *overrides, double rate, uint64_t seed,
                                    sg_synth **out, sg_diag *d) {
  (void)seed; /* fluidsynth is deterministic without chorus/reverb; nothing to seed */
  if (!out || !sf2_path)
    return SG_E_INVAL;
  *out = NULL;
  if (!(rate >= 8000 && rate <= 384000))
    return sg_diag_fail(d, SG_E_RANGE, "sample rate %g Hz is outside 8000..384000", rate);
  void *st = NULL;
  const sg__inst_vt *vt = NULL;
  sg_status s = sg__sf2_create(sf2_path, bank, program, overrides, rate, &st, &vt, d);
  if (s != SG_OK)
    return s;
  return finish_create(SG_SYNTH_SOUNDFONT, rate, st, vt, out, d);
}

static void ahead_stop(sg_synth *s);

void sg_synth_reset(sg_synth *s) {
  if (!s)
    return;
  ahead_stop(s);
  s->vt->reset(s->st);
  s->cursor = 0;
  s->npend = 0;
  s->started = 0;
  s->next_frame = 0;
  s->lim_gain = 1.0f;
}

void sg_synth_destroy(sg_synth *s) {
  if (!s)
    return;
  ahead_stop(s);
  if (s->ah.armed) {
    pthread_cond_destroy(&s->ah.cv);
    pthread_mutex_destroy(&s->ah.mu);
  }
  free(s->ah.L);
  s->vt->destroy(s->st);
  free(s);
}

int64_t sg_synth_tail_frames(const sg_synth *s) { return s ? s->vt->tail(s->st) : 0; }

/* Output safety: a look-ahead peak limiter at -1 dBFS (linked stereo). The instrument runs
 * LOOKAHEAD frames (1.3 ms at 48 kHz) ahead of the output through a delay line; the gain follows
 * the peak of everything in the delay line, ramping down over the look-ahead (so it reaches the
 * needed reduction when the peak arrives, without a step) and recovering with an 80 ms release.
 * A tanh knee from -1 dBFS that approaches but never reaches 0 dBFS catches any remainder.
 * Single notes of every patch peak at -6..-3 dBFS and pass untouched; a dense chord at full
 * velocity is turned down instead of clipped. */
#define LIMIT_THRESHOLD 0.8912509f /* -1 dBFS */

static float knee(float x) {
  const float room = 0.999f - LIMIT_THRESHOLD;
  float a = fabsf(x);
  if (a <= LIMIT_THRESHOLD)
    return x;
  float y = LIMIT_THRESHOLD + room * tanhf((a - LIMIT_THRESHOLD) / room);
  return x < 0 ? -y : y;
}

/* in: the instrument's samples LOOKAHEAD frames ahead; out (in place): the delayed, limited
 * output. */
/* The settled case: every peak in the window and the block at or below the threshold. Then each
 * frame's target is 1, the gain only releases toward 1 (and stays there once it is 1), and the
 * knee passes every sample: the output is the input delayed by LOOKAHEAD frames times the
 * gain, bit for bit as the per-frame loop computes it. The sliding maximum only needs the last
 * LOOKAHEAD + 1 peaks (older ones have left its window), pushed at their own frame numbers.
 * Returns 0 (nothing done) unless that holds. */
static int limit_settled(sg_synth *s, float *l, float *r, size_t n) {
  enum { W = LOOKAHEAD + 1 };
  if (!(s->lim_gain <= 1.0f) || n < 2 * W || sg_slidemax_max(&s->peak) > LIMIT_THRESHOLD)
    return 0;
  float pk = 0;
  for (size_t i = 0; i < n; ++i) {
    const float a = fabsf(l[i]) > fabsf(r[i]) ? fabsf(l[i]) : fabsf(r[i]);
    pk = a > pk ? a : pk;
  }
  if (!(pk <= LIMIT_THRESHOLD))
    return 0;
  float tl[LOOKAHEAD], tr[LOOKAHEAD];
  for (int j = 0; j < LOOKAHEAD; ++j) {
    tl[j] = s->la_l[(s->la_pos + j) % LOOKAHEAD];
    tr[j] = s->la_r[(s->la_pos + j) % LOOKAHEAD];
  }
  for (size_t i = n - LOOKAHEAD; i < n; ++i) {
    s->la_l[(s->la_pos + i) % LOOKAHEAD] = l[i];
    s->la_r[(s->la_pos + i) % LOOKAHEAD] = r[i];
  }
  s->peak.t += n - W;
  for (size_t i = n - W; i < n; ++i)
    sg_slidemax_push(&s->peak, fmaxf(fabsf(l[i]), fabsf(r[i])));
  memmove(l + LOOKAHEAD, l, (n - LOOKAHEAD) * sizeof *l);
  memmove(r + LOOKAHEAD, r, (n - LOOKAHEAD) * sizeof *r);
  memcpy(l, tl, sizeof tl);
  memcpy(r, tr, sizeof tr);
  s->la_pos = (int)((s->la_pos + n) % LOOKAHEAD);
  float g = s->lim_gain;
  for (size_t i = 0; i < n && g != 1.0f; ++i) { /* the release, as in limit() */
    g = 1.0f + (g - 1.0f) * s->lim_rel;
    if (g > 0.999999f)
      g = 1.0f;
    l[i] = l[i] * g;
    r[i] = r[i] * g;
  }
  s->lim_gain = g;
  return 1;
}

static void limit(sg_synth *s, float *l, float *r, size_t n) {
  if (limit_settled(s, l, r, n))
    return;
  float g = s->lim_gain;
  for (size_t i = 0; i < n; ++i) {
    float ol = s->la_l[s->la_pos], orr = s->la_r[s->la_pos];
    s->la_l[s->la_pos] = l[i];
    s->la_r[s->la_pos] = r[i];
    s->la_pos = (s->la_pos + 1) % LOOKAHEAD;
    float peak = sg_slidemax_push(&s->peak, fmaxf(fabsf(l[i]), fabsf(r[i])));
    float target = peak > LIMIT_THRESHOLD ? LIMIT_THRESHOLD / peak : 1.0f;
    g = target < g ? target + (g - target) * s->lim_att : target + (g - target) * s->lim_rel;
    /* The float release parks a few ulp below 1 (the step rounds away): end it at 1, which the
     * settled case above needs (a gain difference under 1e-6, -0.00001 dB). */
    if (target == 1.0f && g > 0.999999f)
      g = 1.0f;
    l[i] = knee(ol * g);
    r[i] = knee(orr * g);
  }
  s->lim_gain = g;
}

static void fire_off(sg_synth *s, size_t i) {
  s->vt->note_off(s->st, s->pend[i].id);
  s->pend[i] = s->pend[--s->npend];
}

/* Renders the instrument's own timeline [frame0, frame0 + n), splitting at every event, then
 * AC-couples it, as on the analog outputs these instruments imitate: a DC blocker (stemgate/dsp.h)
 * with its -3 dB point at 5 Hz (-0.3 dB at 20 Hz). Short low notes (partial cycles under an
 * envelope) and asymmetric saturation otherwise leave a DC offset that the stem gates would
 * flag. */
static void render_internal(sg_synth *s, const sg_note_list *notes, int64_t frame0, float *left,
                            float *right, size_t n) {
  int64_t pos = frame0, end = frame0 + (int64_t)n;
  while (pos < end) {
    /* Events at pos: note-offs first, so a note restarting on the same frame is not cut. */
    for (size_t i = 0; i < s->npend;) {
      if (s->pend[i].frame <= pos)
        fire_off(s, i);
      else
        ++i;
    }
    while (notes && s->cursor < notes->n && notes->v[s->cursor].start <= pos) {
      const sg_note *nt = &notes->v[s->cursor++];
      if (nt->key < 0 || nt->key > 127 || !(nt->velocity > 0))
        continue;
      if (s->npend == MAX_PENDING) { /* release the note due first to make room */
        size_t first = 0;
        for (size_t i = 1; i < s->npend; ++i)
          if (s->pend[i].frame < s->pend[first].frame)
            first = i;
        fire_off(s, first);
      }
      uint32_t id = ++s->next_id;
      sg_note tmp = *nt;
      if (tmp.velocity > 1)
        tmp.velocity = 1;
      s->vt->note_on(s->st, &tmp, id);
      int64_t len = nt->length > 0 ? nt->length : 1;
      s->pend[s->npend++] = (pending_off){nt->start + len, id};
    }
    int64_t next = end;
    for (size_t i = 0; i < s->npend; ++i)
      if (s->pend[i].frame < next)
        next = s->pend[i].frame;
    if (notes && s->cursor < notes->n && notes->v[s->cursor].start < next)
      next = notes->v[s->cursor].start;
    if (next <= pos)
      next = pos + 1;
    size_t off = (size_t)(pos - frame0), len = (size_t)(next - pos);
    s->vt->render(s->st, left + off, right + off, len);
    pos = next;
  }
  sg_dc_blocker_process2(&s->dc[0], &s->dc[1], left, right, n);
}

static sg_status render_direct(sg_synth *s, const sg_note_list *notes, int64_t frame0, float *left,
                               float *right, size_t n);

static void *ahead_main(void *arg) {
  sg_synth *s = arg;
  ahead *a = &s->ah;
  sg_dsp_denormals_off(); /* the FP mode the caller's renders run in (pipeline threads) */
  pthread_mutex_lock(&a->mu);
  for (;;) {
    while (!a->stop && a->produced - a->taken > AHEAD_RING - AHEAD_CHUNK)
      pthread_cond_wait(&a->cv, &a->mu);
    if (a->stop)
      break;
    const int64_t at = a->produced;
    pthread_mutex_unlock(&a->mu);
    /* Chunks never wrap: the ring holds a whole number of them. */
    const size_t off = (size_t)(at % AHEAD_RING);
    render_direct(s, a->notes, a->start + at, a->L + off, a->R + off, AHEAD_CHUNK);
    pthread_mutex_lock(&a->mu);
    a->produced = at + AHEAD_CHUNK;
    pthread_cond_broadcast(&a->cv);
  }
  pthread_mutex_unlock(&a->mu);
  return NULL;
}

/* Stops the helper; the instrument is then somewhere past what the caller took, so the next
 * render starts again from a reset (as a jump would). */
static void ahead_stop(sg_synth *s) {
  ahead *a = &s->ah;
  if (!a->running)
    return;
  pthread_mutex_lock(&a->mu);
  a->stop = 1;
  pthread_cond_broadcast(&a->cv);
  pthread_mutex_unlock(&a->mu);
  pthread_join(a->th, NULL);
  a->running = 0;
  if (s->started)
    s->next_frame = INT64_MIN; /* no request continues it: the next render resets the voices */
}

void sg_synth_set_ahead(sg_synth *s, int on) {
  if (!s || !on || s->ah.armed)
    return;
  ahead *a = &s->ah;
  a->L = malloc(2 * AHEAD_RING * sizeof *a->L);
  if (!a->L)
    return; /* renders directly */
  a->R = a->L + AHEAD_RING;
  pthread_mutex_init(&a->mu, NULL);
  pthread_cond_init(&a->cv, NULL);
  a->armed = 1;
}

/* A render served from the helper's stream: started at the first request, restarted (from a
 * reset) when a request does not continue where the last one ended. 0: render directly. */
static int ahead_render(sg_synth *s, const sg_note_list *notes, int64_t frame0, float *left,
                        float *right, size_t n) {
  ahead *a = &s->ah;
  if (a->running && (frame0 != a->start + a->taken || notes != a->notes))
    ahead_stop(s);
  if (!a->running) {
    a->notes = notes;
    a->start = frame0;
    a->produced = a->taken = 0;
    a->stop = 0;
    if (pthread_create(&a->th, NULL, ahead_main, s) != 0)
      return 0;
    a->running = 1;
  }
  for (size_t done = 0; done < n;) {
    pthread_mutex_lock(&a->mu);
    while (a->produced == a->taken)
      pthread_cond_wait(&a->cv, &a->mu);
    const int64_t avail = a->produced - a->taken;
    pthread_mutex_unlock(&a->mu);
    const size_t off = (size_t)(a->taken % AHEAD_RING);
    size_t m = n - done;
    if ((int64_t)m > avail)
      m = (size_t)avail;
    if (m > AHEAD_RING - off)
      m = AHEAD_RING - off;
    memcpy(left + done, a->L + off, m * sizeof *left);
    memcpy(right + done, a->R + off, m * sizeof *right);
    done += m;
    pthread_mutex_lock(&a->mu);
    a->taken += (int64_t)m;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
  }
  return 1;
}

sg_status sg_synth_render(sg_synth *s, const sg_note_list *notes, int64_t frame0, float *left,
                          float *right, size_t n) {
  if (!s || !left || !right)
    return SG_E_INVAL;
  if (s->ah.armed && n && ahead_render(s, notes, frame0, left, right, n))
    return SG_OK;
  return render_direct(s, notes, frame0, left, right, n);
}

static sg_status render_direct(sg_synth *s, const sg_note_list *notes, int64_t frame0, float *left,
                               float *right, size_t n) {
  if (!s->started || frame0 != s->next_frame) {
    if (s->started)
      s->vt->reset(s->st);
    s->lim_gain = 1.0f;
    s->la_pos = 0;
    sg_slidemax_reset(&s->peak);
    sg_dc_blocker_reset(&s->dc[0]);
    sg_dc_blocker_reset(&s->dc[1]);
    sg_dc_blocker_reset(&s->dc_lim[0]);
    sg_dc_blocker_reset(&s->dc_lim[1]);
    s->npend = 0;
    s->cursor = 0;
    while (notes && s->cursor < notes->n && notes->v[s->cursor].start < frame0)
      ++s->cursor;
    s->started = 1;
    /* Prime the limiter's look-ahead with the first LOOKAHEAD frames. */
    render_internal(s, notes, frame0, s->la_l, s->la_r, LOOKAHEAD);
    for (int j = 0; j < LOOKAHEAD; ++j)
      sg_slidemax_push(&s->peak, fmaxf(fabsf(s->la_l[j]), fabsf(s->la_r[j])));
    /* A note right at the start leaves no time to ramp: start at the gain it needs. */
    float pk = sg_slidemax_max(&s->peak);
    s->lim_gain = pk > LIMIT_THRESHOLD ? LIMIT_THRESHOLD / pk : 1.0f;
  }
  /* The instrument runs LOOKAHEAD frames ahead of the output: notes still start on their own
   * frames in the output, the limiter just sees them coming. */
  render_internal(s, notes, frame0 + LOOKAHEAD, left, right, n);
  limit(s, left, right, n);
  sg_dc_blocker_process2(&s->dc_lim[0], &s->dc_lim[1], left, right, n);
  s->next_frame = frame0 + (int64_t)n;
  return SG_OK;
}
