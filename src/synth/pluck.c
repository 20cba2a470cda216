/* Plucked-string guitar: extended Karplus–Strong (Jaffe & Smith 1983; Karjalainen, Välimäki &
 * Tolonen 1998).
 *
 * Per string: a delay line of N integer samples, a one-pole loss filter
 *     H(z) = g (1 - p) / (1 - p z^-1)
 * (frequency-dependent damping: p sets how much faster high partials die, g the overall decay
 * so the fundamental reaches -60 dB after the note's T60), and a first-order Thiran allpass
 *     A(z) = (a + z^-1) / (1 + a z^-1),  a = (1 - d) / (1 + d)
 * for the fractional part of the loop delay. The loop delay is tuned at the fundamental with the
 * exact phase delays of both filters, so the pitch is right within a fraction of a cent.
 *
 * The excitation (written into the delay line at the pluck) is seeded noise shaped like a pick:
 * a one-pole low-pass whose cutoff rises with velocity (the "dynamic level" filter of the 1998
 * paper), then a pick-position comb 1 - z^-round(beta N) that notches the harmonics a pluck at
 * beta of the string length cannot excite. The body is a set of parallel resonant band-pass
 * biquads (RBJ Audio EQ Cookbook) on the summed output: commuting the linear body out of the
 * per-string loops is what commuted synthesis allows.
 *
 * Six strings, two slots each: a new note on a string moves the sounding slot into a fast
 * choke (30 ms T60) and plucks the other, as a re-struck string damps its old vibration. */
#include "synth_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STRINGS 6
#define SLOTS 2
#define LINE 8192 /* delay memory per slot, power of two: 35 Hz at 192 kHz */
#define NBODY 4

typedef struct pluck_patch {
  double decay, brightness, pick_position, body, release, mute_decay, strum_spread, gain;
  double exc_lo, exc_hi; /* excitation low-pass cutoff at velocity 0 / 1, Hz */
  double body_f[NBODY], body_q[NBODY], body_g[NBODY];
} pluck_patch;

const sg_param_def sg__pluck_params[] = {
    SG__PARAM("decay", "s", 0.2, 20, "T60 of the open E2 string", offsetof(pluck_patch, decay)),
    SG__PARAM("brightness", "", 0, 1, "excitation and loop brightness",
              offsetof(pluck_patch, brightness)),
    SG__PARAM("pick_position", "", 0.05, 0.5, "pick position as a fraction of the string",
              offsetof(pluck_patch, pick_position)),
    SG__PARAM("body", "", 0, 1, "mix of the body resonator", offsetof(pluck_patch, body)),
    SG__PARAM("release", "s", 0.02, 2, "T60 after a note ends", offsetof(pluck_patch, release)),
    SG__PARAM("mute_decay", "s", 0.01, 0.5, "T60 of muted notes",
              offsetof(pluck_patch, mute_decay)),
    SG__PARAM("strum_spread", "ms", 0, 30, "extra delay per strum step",
              offsetof(pluck_patch, strum_spread)),
    SG__PARAM("gain", "dB", -24, 12, "output trim", offsetof(pluck_patch, gain)),
};
const size_t sg__pluck_nparams = sizeof sg__pluck_params / sizeof sg__pluck_params[0];

typedef struct pluck_voice {
  float line[LINE];
  unsigned w;
  int n_int;
  double p, g, a_ap; /* loss pole, loss gain, Thiran coefficient */
  double lp1, ap_x1, ap_y1;
  double f0;
  int64_t life; /* samples until below -90 dB at the current decay */
  int64_t wait; /* samples until the pluck (per-string strum delay) */
  int pending;  /* excitation still to be written */
  float vel;
  int muted, held, group;
  uint32_t id;
} pluck_voice;

typedef struct sg__pluck {
  pluck_patch p;
  double rate;
  uint64_t seed;
  sg_rng rng;
  pluck_voice v[STRINGS][SLOTS];
  int cur[STRINGS]; /* sounding slot of each string */
  sg_biquad body[NBODY];
  double dry, wet, out_gain;
} sg__pluck;

const char *const sg__pluck_patches[] = {"nylon", "steel", NULL};
/* Each patch in words for NOTES.txt (sg_synth_words), in the order of the names above. */
const char *const sg__pluck_words[] = {
    "nylon-string guitar: six Karplus-Strong plucked strings, soft and warm, through a body "
    "resonance",
    "steel-string guitar: six Karplus-Strong plucked strings, bright, through a body resonance",
    NULL};

static const int open_key[STRINGS] = {40, 45, 50, 55, 59, 64}; /* E2 A2 D3 G3 B3 E4 */

static void pluck_patch_init(int idx, pluck_patch *p) {
  memset(p, 0, sizeof *p);
  if (idx == 0) { /* nylon: darker, shorter, finger-soft excitation, warm body */
    p->decay = 3.5;
    p->brightness = 0.35;
    p->pick_position = 0.18;
    p->body = 0.55;
    p->release = 0.25;
    p->mute_decay = 0.06;
    p->gain = 3;
    p->exc_lo = 600;
    p->exc_hi = 3500;
    const double f[NBODY] = {98, 204, 390, 1100}, q[NBODY] = {6, 9, 5, 2};
    const double gg[NBODY] = {1.0, 0.8, 0.5, 0.25};
    memcpy(p->body_f, f, sizeof f);
    memcpy(p->body_q, q, sizeof q);
    memcpy(p->body_g, gg, sizeof gg);
  } else { /* steel: brighter pick, longer sustain, more top-end body */
    p->decay = 6.0;
    p->brightness = 0.7;
    p->pick_position = 0.13;
    p->body = 0.45;
    p->release = 0.3;
    p->mute_decay = 0.05;
    p->gain = 2.5;
    p->exc_lo = 1000;
    p->exc_hi = 6000;
    const double f[NBODY] = {110, 220, 480, 2500}, q[NBODY] = {7, 10, 5, 1.5};
    const double gg[NBODY] = {0.9, 0.8, 0.5, 0.35};
    memcpy(p->body_f, f, sizeof f);
    memcpy(p->body_q, q, sizeof q);
    memcpy(p->body_g, gg, sizeof gg);
  }
}

/* Phase delay in samples of the one-pole loss filter at w (rad/sample). */
static double lp_phase_delay(double p, double w) { return atan2(p * sin(w), 1.0 - p * cos(w)) / w; }

/* Phase delay of the first-order allpass (a + z^-1) / (1 + a z^-1) at w. */
static double ap_phase_delay(double a, double w) {
  /* arg(a + e^{-jw}) - arg(1 + a e^{-jw}) */
  double ph = atan2(-sin(w), a + cos(w)) - atan2(-a * sin(w), 1.0 + a * cos(w));
  return -ph / w;
}

/* Sets the loop gain g from a T60 at the fundamental, given the loss pole p. */
static void set_decay(pluck_voice *v, double t60, double rate) {
  double w = 2 * SG_PI * v->f0 / rate;
  double mag = (1.0 - v->p) / sqrt(1.0 - 2.0 * v->p * cos(w) + v->p * v->p);
  double per_period = pow(10.0, -3.0 / (v->f0 * t60));
  double g = per_period / mag;
  if (g > 0.99995) /* keep the DC loop gain below one */
    g = 0.99995;
  v->g = g;
  /* -90 dB takes 1.5 T60 (bounded by what this g can actually do). */
  v->life = (int64_t)(1.5 * t60 * rate) + 64;
}

static void tune(pluck_voice *v, double f0, double rate) {
  double w = 2 * SG_PI * f0 / rate, total = rate / f0;
  double lpd = lp_phase_delay(v->p, w);
  int n = (int)floor(total - lpd - 0.5);
  if (n < 2)
    n = 2;
  if (n > LINE - 4)
    n = LINE - 4;
  double d = total - lpd - n; /* target allpass delay in [0.5, 1.5) */
  double dd = d;
  for (int it = 0; it < 4; ++it) { /* correct Thiran's small phase-delay error at w */
    double a = (1.0 - dd) / (1.0 + dd);
    dd += d - ap_phase_delay(a, w);
  }
  v->n_int = n;
  v->a_ap = (1.0 - dd) / (1.0 + dd);
}

static void pluck_reset(void *st) {
  sg__pluck *k = st;
  for (int s = 0; s < STRINGS; ++s) {
    for (int j = 0; j < SLOTS; ++j) {
      pluck_voice *v = &k->v[s][j];
      memset(v->line, 0, sizeof v->line);
      v->w = 0;
      v->lp1 = v->ap_x1 = v->ap_y1 = 0;
      v->life = 0;
      v->wait = 0;
      v->pending = 0;
      v->held = 0;
    }
    k->cur[s] = 0;
  }
  for (int b = 0; b < NBODY; ++b)
    sg__bq_set(&k->body[b], SG_BIQUAD_BANDPASS, k->p.body_f[b], k->p.body_q[b], k->rate);
  sg_rng_seed(&k->rng, k->seed, 0x706c75636bu);
}

/* Pluck: write the shaped excitation (one period) into the delay line. */
static void excite(sg__pluck *k, pluck_voice *v) {
  int n = v->n_int;
  float *x = v->line;
  memset(x, 0, sizeof v->line);
  double fc = k->p.exc_lo * pow(k->p.exc_hi / k->p.exc_lo, v->vel);
  if (v->muted)
    fc *= 0.5;
  double c = exp(-2 * SG_PI * fc / k->rate), y = 0, mean = 0;
  /* Two passes of the low-pass (12 dB/oct) so soft plucks are really soft, then a two-point
   * average that puts a zero at Nyquist (a pick or finger has no energy up there). */
  double y2 = 0, y2p = 0;
  for (int i = 0; i < n; ++i) {
    double r = 2.0 * sg_rng_uniform(&k->rng) - 1.0;
    y = (1 - c) * r + c * y;
    y2 = (1 - c) * y + c * y2;
    double y3 = 0.5 * (y2 + y2p);
    y2p = y2;
    x[i] = (float)y3;
    mean += y3;
  }
  mean /= n;
  int m = (int)lround(k->p.pick_position * n);
  if (m < 1)
    m = 1;
  double peak = 1e-9;
  /* Comb in place from the end so every x[i - m] read is still the unfiltered value. */
  for (int i = n - 1; i >= 0; --i) {
    double a = x[i] - mean, b = i >= m ? x[i - m] - mean : 0.0;
    x[i] = (float)(a - b);
  }
  for (int i = 0; i < n; ++i)
    if (fabs(x[i]) > peak)
      peak = fabs(x[i]);
  /* Taper both ends (half-Hann over up to 24 samples): the string starts from rest, and the
   * period joins itself without a step, so the onset does not click. */
  int taper = n / 8 < 24 ? n / 8 : 24;
  for (int i = 0; i < taper; ++i) {
    float w = (float)(0.5 - 0.5 * cos(SG_PI * (i + 0.5) / taper));
    x[i] *= w;
    x[n - 1 - i] *= w;
  }
  /* The taper leaves the period with a small mean, and the loop keeps DC as long as the note
   * (its DC gain is the loop gain per period): a low string would carry an offset for seconds.
   * Take the mean out under a Hann shape so both ends stay at rest. */
  double sum = 0, hsum = 0;
  for (int i = 0; i < n; ++i)
    sum += x[i];
  for (int i = 0; i < n; ++i) {
    double h = sin(SG_PI * (i + 0.5) / n);
    hsum += h * h;
  }
  double amp = (0.15 + 0.85 * v->vel) / peak;
  for (int i = 0; i < n; ++i) {
    double h = sin(SG_PI * (i + 0.5) / n);
    x[i] = (float)((x[i] - sum * h * h / hsum) * amp);
  }
  /* The read tap is N behind the write position: place the period right there. */
  v->w = (unsigned)n;
  v->lp1 = v->ap_x1 = v->ap_y1 = 0;
  v->pending = 0;
}

static int pick_string(const sg__pluck *k, const sg_note *n) {
  int s0 = 0;
  for (int s = 0; s < STRINGS; ++s)
    if (n->key >= open_key[s])
      s0 = s;
  if (n->group == 0)
    return s0;
  /* Inside a strum every note needs its own string: move down, then up, past strings that the
   * same group already uses. */
  for (int s = s0; s >= 0; --s) {
    const pluck_voice *v = &k->v[s][k->cur[s]];
    if (!(v->held && v->group == n->group))
      return s;
  }
  for (int s = s0 + 1; s < STRINGS; ++s) {
    const pluck_voice *v = &k->v[s][k->cur[s]];
    if (!(v->held && v->group == n->group))
      return s;
  }
  return s0;
}

static void pluck_note_on(void *st, const sg_note *n, uint32_t id) {
  sg__pluck *k = st;
  int s = pick_string(k, n);
  pluck_voice *old = &k->v[s][k->cur[s]];
  if (old->life > 0) { /* choke what rings on this string */
    set_decay(old, 0.03, k->rate);
    old->held = 0;
  }
  k->cur[s] = (k->cur[s] + 1) % SLOTS;
  pluck_voice *v = &k->v[s][k->cur[s]];
  v->f0 = sg_midi_to_hz(n->key);
  if (v->f0 > 0.2 * k->rate)
    v->f0 = 0.2 * k->rate;
  v->vel = n->velocity;
  v->muted = (n->flags & SG_NOTE_MUTED) != 0;
  v->held = 1;
  v->group = n->group;
  v->id = id;
  /* Loss pole: darker patches and low notes lose their highs faster per period; high notes
   * need less so they do not die unnaturally fast. */
  double p = (0.08 + 0.55 * (1.0 - k->p.brightness)) * sqrt(110.0 / v->f0);
  if (v->muted)
    p = 0.75;
  v->p = p < 0.02 ? 0.02 : (p > 0.85 ? 0.85 : p);
  tune(v, v->f0, k->rate);
  double t60 = v->muted ? k->p.mute_decay : k->p.decay * pow(82.41 / v->f0, 0.55);
  if ((n->flags & SG_NOTE_ACCENT) && !v->muted)
    t60 *= 1.2;
  set_decay(v, t60, k->rate);
  v->wait =
      (int64_t)(k->p.strum_spread * 1e-3 * k->rate * (n->strum_index > 0 ? n->strum_index : 0));
  v->pending = 1;
  if (v->wait == 0)
    excite(k, v);
}

static void pluck_note_off(void *st, uint32_t id) {
  sg__pluck *k = st;
  for (int s = 0; s < STRINGS; ++s)
    for (int j = 0; j < SLOTS; ++j) {
      pluck_voice *v = &k->v[s][j];
      if (v->held && v->id == id) {
        v->held = 0;
        if (!v->muted)
          set_decay(v, k->p.release, k->rate);
      }
    }
}

static void voice_render(sg__pluck *k, pluck_voice *v, float *out, size_t n) {
  const unsigned mask = LINE - 1;
  const double gl = v->g * (1.0 - v->p), p = v->p, a = v->a_ap;
  size_t i = 0;
  if (v->pending) {
    if ((int64_t)n <= v->wait) {
      v->wait -= (int64_t)n;
      return;
    }
    i = (size_t)v->wait;
    v->wait = 0;
    excite(k, v);
  }
  unsigned w = v->w;
  double lp1 = v->lp1, x1 = v->ap_x1, y1 = v->ap_y1;
  /* Run exactly `life` samples, whatever the block size. */
  if ((int64_t)(n - i) > v->life)
    n = i + (size_t)(v->life > 0 ? v->life : 0);
  v->life -= (int64_t)(n - i);
  for (; i < n; ++i) {
    double x = v->line[(w - (unsigned)v->n_int) & mask];
    lp1 = gl * x + p * lp1;
    double y = a * lp1 + x1 - a * y1;
    x1 = lp1;
    y1 = y;
    v->line[w & mask] = (float)y;
    ++w;
    out[i] += (float)x;
  }
  v->w = w;
  v->lp1 = lp1;
  v->ap_x1 = x1;
  v->ap_y1 = y1;
}

static void pluck_render(void *st, float *l, float *r, size_t n) {
  sg__pluck *k = st;
  memset(l, 0, n * sizeof *l);
  for (int s = 0; s < STRINGS; ++s)
    for (int j = 0; j < SLOTS; ++j)
      if (k->v[s][j].life > 0 || k->v[s][j].pending)
        voice_render(k, &k->v[s][j], l, n);
  for (size_t i = 0; i < n; ++i) {
    double x = l[i], b = 0;
    for (int q = 0; q < NBODY; ++q)
      b += k->p.body_g[q] * sg_biquad_tick(&k->body[q], x);
    l[i] = (float)((k->dry * x + k->wet * b) * k->out_gain);
  }
  memcpy(r, l, n * sizeof *r);
}

static int64_t pluck_tail(const void *st) {
  const sg__pluck *k = st;
  return (int64_t)((1.5 * k->p.release + 0.1) * k->rate);
}

static void pluck_destroy(void *st) { free(st); }

/* A plucked string sounds at once: the excitation is the attack. */
static double pluck_attack(const void *st) {
  (void)st;
  return 0.0;
}

static const sg__inst_vt pluck_vt = {pluck_note_on, pluck_note_off, pluck_render, pluck_reset,
                                     pluck_destroy, pluck_tail,     pluck_attack};

sg_status sg__pluck_create(const char *patch, const sg_param_set *ov, double rate, uint64_t seed,
                           void **st, const sg__inst_vt **vt, sg_diag *d) {
  int idx = sg__patch_index(sg__pluck_patches, patch, "guitar", d);
  if (idx < 0)
    return SG_E_NOTFOUND;
  sg__pluck *k = calloc(1, sizeof *k);
  if (!k)
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory creating the guitar instrument");
  pluck_patch_init(idx, &k->p);
  sg_status s = sg__apply_overrides(&k->p, sg__pluck_params, sg__pluck_nparams, ov, "guitar", d);
  if (s != SG_OK) {
    free(k);
    return s;
  }
  k->rate = rate;
  k->seed = seed;
  k->dry = 1.0 - 0.6 * k->p.body;
  k->wet = 2.5 * k->p.body;
  k->out_gain = 0.5 * pow(10.0, k->p.gain / 20.0);
  pluck_reset(k);
  *st = k;
  *vt = &pluck_vt;
  return SG_OK;
}
