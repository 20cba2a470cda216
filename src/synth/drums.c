/* Drum machine voices after the Roland TR-808 / TR-909 circuits (as analysed in e.g.
 * K. J. Werner, J. S. Abel & J. O. Smith, "A physically-informed, circuit-bendable, digital
 * model of the Roland TR-808 bass drum circuit", DAFx 2014, and the 808 service notes):
 *
 *  36 kick:   sine whose pitch falls exponentially from ~3x to the tune frequency, exponential
 *             amplitude decay, plus a short click (high-passed noise burst).
 *  38 snare:  two detuned sine "drum heads" + band-passed/high-passed noise ("snappy").
 *  37 rim:    impulse into two resonant band-passes (~460 Hz and ~1.7 kHz), a few ms long.
 *  39 clap:   band-passed noise with four retriggered 10 ms bursts and a reverberant tail.
 *  42/46 hats: six PolyBLEP square oscillators at the 808's inharmonic frequencies, band-pass
 *             ~10 kHz and high-pass ~7 kHz; a closed hat chokes a ringing open hat.
 *  70 shaker: band-passed noise with a short swell and decay.
 *  41 43 45 47 48 50 toms: the kick's falling sine tuned from ~85 Hz (41) to ~210 Hz (50), with a
 *             softer click and a shorter decay.
 *  49/57 crash, 51/59 ride: the hat bank an octave lower, band-passed lower and ringing longer
 *             (crash ~1.6 s with noise, ride ~0.9 s with a bell partial).
 *
 * Stereo kit: each piece is panned where it sits for the drummer (audience-right = drummer's
 * right is not assumed; the drummer's view is the usual mix convention): kick, snare, rim and clap
 * centred, hats and crash left, ride right, toms spread from high (left) to floor (right),
 * shaker right. The pan law keeps a centred piece at unit gain in both channels (sqrt(2) x
 * constant power), so a mono kit keeps its level. Overheads/room: three early reflections of
 * the dry kit per channel at different delays (11-29 ms, -20 to -26 dB), decorrelating the
 * channels as a room pair does without moving the centred pieces off centre.
 *
 * Also accepted: 35 (kick), 40 (snare), 44 (closed hat). Other keys are ignored. Noise comes
 * from one seeded PCG32, consumed in a fixed voice order, so renders are bit-identical. */
#include "kernels.h"
#include "synth_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DRUM_VOICES 16

enum {
  D_NONE = 0,
  D_KICK,
  D_SNARE,
  D_RIM,
  D_CLAP,
  D_CHAT,
  D_OHAT,
  D_SHAKER,
  D_TOM,
  D_CRASH,
  D_RIDE,
  D_KICK_TONE /* render-internal: a kick past its click */
};

#define ROOM_LEN 8192 /* > the longest tap (29.1 ms) at up to 192 kHz */
#define ROOM_TAPS 3

typedef struct drum_patch {
  double kick_tune, kick_decay, snare_tune, snare_decay, hat_decay, open_hat_decay, gain;
  double kick_sweep, kick_click, snare_noise, style909;
} drum_patch;

const sg_param_def sg__drum_params[] = {
    SG__PARAM("kick_tune", "Hz", 30, 120, "kick pitch", offsetof(drum_patch, kick_tune)),
    SG__PARAM("kick_decay", "s", 0.05, 2, "kick decay", offsetof(drum_patch, kick_decay)),
    SG__PARAM("snare_tune", "Hz", 100, 400, "snare head pitch", offsetof(drum_patch, snare_tune)),
    SG__PARAM("snare_decay", "s", 0.05, 1, "snare decay", offsetof(drum_patch, snare_decay)),
    SG__PARAM("hat_decay", "s", 0.01, 0.3, "closed hat decay", offsetof(drum_patch, hat_decay)),
    SG__PARAM("open_hat_decay", "s", 0.05, 2, "open hat decay",
              offsetof(drum_patch, open_hat_decay)),
    SG__PARAM("gain", "dB", -24, 12, "output trim", offsetof(drum_patch, gain)),
};
const size_t sg__drum_nparams = sizeof sg__drum_params / sizeof sg__drum_params[0];

typedef struct drum_voice {
  int type;
  int64_t t; /* samples since the hit */
  double vel;
  double amp, amp_mul; /* main exponential envelope */
  double amp2, amp2_mul;
  double ph, ph2, f, f_end, f_mul; /* tone oscillators and pitch sweep */
  sg_biquad f1, f2, f3;
  sg_osc sq[6];
  sg_rng rng; /* per voice, seeded at the hit: noise does not depend on block sizes */
  int64_t life;
  double gl, gr; /* pan gains (centre = 1, 1) */
} drum_voice;

typedef struct sg__drums {
  drum_patch p;
  double rate, inv_rate, out_gain;
  uint64_t seed;
  sg_rng rng;
  drum_voice v[DRUM_VOICES];
  float room[ROOM_LEN]; /* the dry mono kit, for the room reflections */
  size_t room_w;
  int tap_l[ROOM_TAPS], tap_r[ROOM_TAPS];
} sg__drums;

const char *const sg__drums_patches[] = {"808", "909", NULL};
/* Each patch in words for NOTES.txt (sg_synth_words), in the order of the names above. */
const char *const sg__drums_words[] = {
    "Roland TR-808-style drum machine: pitch-swept sine kick, tuned snare, metallic hats and "
    "clap, modelled from the circuits",
    "Roland TR-909-style drum machine: punchier, shorter kick and a brighter snare and hats", NULL};

static void drum_patch_init(int idx, drum_patch *p) {
  memset(p, 0, sizeof *p);
  if (idx == 0) {
    p->kick_tune = 50;
    p->kick_decay = 0.7;
    p->snare_tune = 180;
    p->snare_decay = 0.18;
    p->hat_decay = 0.05;
    p->open_hat_decay = 0.45;
    p->kick_sweep = 0.045;
    p->kick_click = 0.3;
    p->snare_noise = 0.6;
  } else {
    p->kick_tune = 55;
    p->kick_decay = 0.4;
    p->snare_tune = 200;
    p->snare_decay = 0.22;
    p->hat_decay = 0.06;
    p->open_hat_decay = 0.4;
    p->kick_sweep = 0.025;
    p->kick_click = 0.6;
    p->snare_noise = 0.8;
    p->style909 = 1;
    p->gain = -1.5;
  }
}

/* Per-sample multiplier that decays by 60 dB over t60 seconds. */
static double t60_mul(double t60, double rate) { return pow(10.0, -3.0 / (t60 * rate)); }

static double noise(drum_voice *v) { return 2.0 * sg_rng_uniform(&v->rng) - 1.0; }

static void drums_reset(void *st) {
  sg__drums *k = st;
  memset(k->v, 0, sizeof k->v);
  memset(k->room, 0, sizeof k->room);
  k->room_w = 0;
  sg_rng_seed(&k->rng, k->seed, 0x6472756du);
}

static int map_key(int key) {
  switch (key) {
  case 35:
  case 36:
    return D_KICK;
  case 37:
    return D_RIM;
  case 38:
  case 40:
    return D_SNARE;
  case 39:
    return D_CLAP;
  case 42:
  case 44:
    return D_CHAT;
  case 46:
    return D_OHAT;
  case 70:
    return D_SHAKER;
  case 41:
  case 43:
  case 45:
  case 47:
  case 48:
  case 50:
    return D_TOM;
  case 49:
  case 57:
    return D_CRASH;
  case 51:
  case 59:
    return D_RIDE;
  default:
    return D_NONE;
  }
}

/* Where a piece sits, -1 (left) .. +1 (right), from the drummer's seat. */
static double piece_pan(int key) {
  switch (key) {
  case 42:
  case 44:
  case 46:
    return -0.5; /* hi-hat by the left hand */
  case 49:
  case 57:
    return -0.35;
  case 51:
  case 59:
    return 0.45;
  case 70:
    return 0.35;
  case 50:
    return -0.3; /* high tom over the kick, left */
  case 48:
    return -0.15;
  case 47:
    return 0.0;
  case 45:
    return 0.15;
  case 43:
    return 0.35;
  case 41:
    return 0.5; /* floor tom at the right knee */
  default:
    return 0.0; /* kick, snare, rim, clap */
  }
}

static void set_pan(drum_voice *v, double pan) {
  double th = (pan + 1.0) * SG_PI / 4.0; /* constant power, scaled so the centre is 1, 1 */
  v->gl = sqrt(2.0) * cos(th);
  v->gr = sqrt(2.0) * sin(th);
}

static void drums_note_on(void *st, const sg_note *n, uint32_t id) {
  (void)id; /* one-shot voices: note-offs are ignored */
  sg__drums *k = st;
  int type = map_key(n->key);
  if (type == D_NONE)
    return;
  const double R = k->rate;
  if (type == D_CHAT) /* the closed hat chokes the open one */
    for (int i = 0; i < DRUM_VOICES; ++i)
      if (k->v[i].type == D_OHAT) {
        k->v[i].amp_mul = t60_mul(0.02, R);
        if (k->v[i].life > (int64_t)(0.03 * R))
          k->v[i].life = (int64_t)(0.03 * R);
      }
  /* A free voice, else the quietest. */
  int best = 0;
  for (int i = 0; i < DRUM_VOICES; ++i) {
    if (k->v[i].type == D_NONE) {
      best = i;
      break;
    }
    if (k->v[i].amp < k->v[best].amp)
      best = i;
  }
  drum_voice *v = &k->v[best];
  memset(v, 0, sizeof *v);
  v->type = type;
  sg_rng_seed(&v->rng, sg_rng_u32(&k->rng), (uint64_t)best);
  v->vel = n->velocity * ((n->flags & SG_NOTE_ACCENT) ? 1.0 : 0.85);
  set_pan(v, piece_pan(n->key));
  if (n->flags & SG_NOTE_GHOST)
    v->vel *= 0.5;
  const drum_patch *p = &k->p;
  switch (type) {
  case D_KICK:
    v->f_end = p->kick_tune;
    v->f = p->kick_tune * (p->style909 ? 4.0 : 3.0);
    v->f_mul = exp(-1.0 / (p->kick_sweep * R));
    v->amp = 1.0;
    v->amp_mul = t60_mul(p->kick_decay, R);
    v->amp2 = p->kick_click;
    v->amp2_mul = t60_mul(0.006, R);
    sg__bq_set(&v->f1, SG_BIQUAD_BANDPASS, 2500, 0.6, R);
    v->life = (int64_t)(p->kick_decay * 1.5 * R);
    break;
  case D_SNARE:
    v->f = p->snare_tune;
    v->amp = 0.8;
    v->amp_mul = t60_mul(0.12, R);
    v->amp2 = p->snare_noise;
    v->amp2_mul = t60_mul(p->snare_decay, R);
    sg__bq_set(&v->f1, SG_BIQUAD_BANDPASS, p->style909 ? 5000 : 3500, 0.8, R);
    sg__bq_set(&v->f2, SG_BIQUAD_HIGHPASS, 1200, 0.7, R);
    v->life = (int64_t)((p->snare_decay > 0.12 ? p->snare_decay : 0.12) * 1.5 * R);
    break;
  case D_RIM:
    v->amp = 1.0;
    sg__bq_set(&v->f1, SG_BIQUAD_BANDPASS, 1700, 12, R);
    sg__bq_set(&v->f2, SG_BIQUAD_BANDPASS, 460, 8, R);
    v->amp_mul = t60_mul(0.03, R);
    v->life = (int64_t)(0.06 * R);
    break;
  case D_CLAP:
    v->amp = 1.0;
    v->amp_mul = t60_mul(0.05, R);
    v->amp2 = 0;
    v->amp2_mul = t60_mul(0.25, R);
    sg__bq_set(&v->f1, SG_BIQUAD_BANDPASS, 1200, 1.6, R);
    sg__bq_set(&v->f2, SG_BIQUAD_HIGHPASS, 600, 0.7, R);
    v->life = (int64_t)(0.45 * R);
    break;
  case D_CHAT:
  case D_OHAT: {
    static const double fr[6] = {205.3, 304.4, 369.6, 522.7, 540.0, 800.0}; /* 808 hat bank */
    for (int i = 0; i < 6; ++i) {
      sg_osc_config oc;
      sg_osc_config_init(&oc);
      oc.wave = SG_WAVE_SQUARE;
      oc.freq = fr[i] * (p->style909 ? 1.4 : 1.0);
      oc.phase = 0.1 * i;
      sg_osc_init(&v->sq[i], &oc, R);
    }
    sg__bq_set(&v->f1, SG_BIQUAD_BANDPASS, 10000, 1.2, R);
    sg__bq_set(&v->f2, SG_BIQUAD_HIGHPASS, 7000, 0.7, R);
    double dec = type == D_CHAT ? p->hat_decay : p->open_hat_decay;
    v->amp = 1.0;
    v->amp_mul = t60_mul(dec, R);
    v->life = (int64_t)(dec * 1.5 * R);
    break;
  }
  case D_TOM: {
    /* 41 -> ~85 Hz ... 50 -> ~210 Hz: about a tenth of an octave per GM key step. */
    v->f_end = 85.0 * pow(2.0, (n->key - 41) * 1.3 / 9.0);
    v->f = v->f_end * 1.6;
    v->f_mul = exp(-1.0 / (0.03 * R));
    v->amp = 1.0;
    double dec = 0.5 - 0.025 * (n->key - 41);
    v->amp_mul = t60_mul(dec, R);
    v->amp2 = 0.15;
    v->amp2_mul = t60_mul(0.004, R);
    sg__bq_set(&v->f1, SG_BIQUAD_BANDPASS, 1800, 0.6, R);
    v->life = (int64_t)(dec * 1.5 * R);
    break;
  }
  case D_CRASH:
  case D_RIDE: {
    static const double fr[6] = {205.3, 304.4, 369.6, 522.7, 540.0, 800.0};
    for (int i = 0; i < 6; ++i) {
      sg_osc_config oc;
      sg_osc_config_init(&oc);
      oc.wave = SG_WAVE_SQUARE;
      oc.freq = fr[i] * (type == D_RIDE ? 0.93 : 0.71);
      oc.phase = 0.13 * i;
      sg_osc_init(&v->sq[i], &oc, R);
    }
    sg__bq_set(&v->f1, SG_BIQUAD_BANDPASS, type == D_RIDE ? 5200 : 6500, 0.9, R);
    sg__bq_set(&v->f2, SG_BIQUAD_HIGHPASS, type == D_RIDE ? 2500 : 3000, 0.7, R);
    double dec = type == D_RIDE ? 0.9 : 1.6;
    v->amp = 1.0;
    v->amp_mul = t60_mul(dec, R);
    v->amp2 = type == D_CRASH ? 0.6 : 0.0; /* crash: a noise wash */
    v->amp2_mul = t60_mul(dec * 0.6, R);
    v->f = type == D_RIDE ? 2900 : 0; /* ride bell partial */
    v->life = (int64_t)(dec * 1.2 * R);
    break;
  }
  case D_SHAKER:
  default:
    v->amp = 0;
    v->amp2 = 1.0;
    v->amp_mul = t60_mul(0.07, R);
    sg__bq_set(&v->f1, SG_BIQUAD_BANDPASS, 6500, 1.4, R);
    sg__bq_set(&v->f2, SG_BIQUAD_HIGHPASS, 3000, 0.7, R);
    v->life = (int64_t)(0.15 * R);
    break;
  }
}

static void drums_note_off(void *st, uint32_t id) {
  (void)st;
  (void)id;
}

/* One sample of v played as piece `type` (v->type; a constant where inlined: the voice loops
 * below run without the switch). */
static SG__ALWAYS_INLINE double voice_tick(sg__drums *k, drum_voice *v, int type) {
  const double R = k->rate, iR = k->inv_rate;
  double y = 0;
  switch (type) {
  case D_KICK_TONE: /* the kick once its click has ended (amp2 == 0): the same sum, no noise */
    v->f = v->f_end + (v->f - v->f_end) * v->f_mul;
    v->ph += v->f * iR;
    if (v->ph >= 1.0)
      v->ph -= 1.0;
    y = (sg__sin2pi(v->ph) * v->amp *
             (v->t < (int64_t)(0.0003 * R) ? (double)v->t / (0.0003 * R) : 1.0) +
         0.0) *
        0.72;
    v->amp *= v->amp_mul;
    break;
  case D_KICK: {
    v->f = v->f_end + (v->f - v->f_end) * v->f_mul;
    v->ph += v->f * iR;
    if (v->ph >= 1.0)
      v->ph -= 1.0;
    /* 0.3 ms fade-in keeps the first cycle from stepping. */
    double fade = v->t < (int64_t)(0.0003 * R) ? (double)v->t / (0.0003 * R) : 1.0;
    /* The click's noise and filter run only while it is audible (-180 dB after ~0.2 s). */
    double click = v->amp2 > 0 ? sg_biquad_tick(&v->f1, noise(v)) * v->amp2 : 0.0;
    y = (sg__sin2pi(v->ph) * v->amp * fade + click) * 0.72;
    v->amp *= v->amp_mul;
    v->amp2 = v->amp2 * v->amp2_mul < 1e-9 ? 0.0 : v->amp2 * v->amp2_mul;
    break;
  }
  case D_SNARE: {
    v->ph += v->f * iR;
    v->ph2 += v->f * 1.62 * iR;
    v->ph -= floor(v->ph);
    v->ph2 -= floor(v->ph2);
    double tone = 0.6 * sg__sin2pi(v->ph) + 0.4 * sg__sin2pi(v->ph2);
    double nz = sg_biquad_tick(&v->f2, sg_biquad_tick(&v->f1, noise(v)));
    y = (tone * v->amp + 2.2 * nz * v->amp2) * 0.45;
    v->amp *= v->amp_mul;
    v->amp2 *= v->amp2_mul;
    break;
  }
  case D_RIM: {
    double ex = v->t == 0 ? 1.0 : 0.0;
    ex += 0.05 * noise(v) * v->amp;
    y = (sg_biquad_tick(&v->f1, ex) * 10.0 + sg_biquad_tick(&v->f2, ex) * 6.0) * v->amp * 0.45;
    v->amp *= v->amp_mul;
    break;
  }
  case D_CLAP: {
    /* Four bursts 10 ms apart (the 808's retriggered envelope), then the tail. */
    int64_t burst = (int64_t)(0.010 * R);
    if (v->t < 4 * burst && v->t % burst == 0)
      v->amp = 1.0;
    if (v->t == 3 * burst)
      v->amp2 = 0.45;
    double nz = sg_biquad_tick(&v->f2, sg_biquad_tick(&v->f1, noise(v)));
    double e = (v->t < 4 * burst ? v->amp : 0.0) + v->amp2;
    y = nz * e * 1.6;
    v->amp *= v->amp_mul * 0.9992;
    v->amp2 *= v->amp2_mul;
    break;
  }
  case D_CHAT:
  case D_OHAT: {
    double bank = 0;
    for (int i = 0; i < 6; ++i)
      bank += sg__osc_wave(&v->sq[i], SG_WAVE_SQUARE);
    y = sg_biquad_tick(&v->f2, sg_biquad_tick(&v->f1, bank / 6.0)) * v->amp * 1.3;
    v->amp *= v->amp_mul;
    break;
  }
  case D_TOM: {
    v->f = v->f_end + (v->f - v->f_end) * v->f_mul;
    v->ph += v->f * iR;
    v->ph -= floor(v->ph);
    double fade = v->t < (int64_t)(0.0003 * R) ? (double)v->t / (0.0003 * R) : 1.0;
    /* The click's noise and filter run only while it is audible (-180 dB after ~0.2 s). */
    double click = v->amp2 > 0 ? sg_biquad_tick(&v->f1, noise(v)) * v->amp2 : 0.0;
    y = (sg__sin2pi(v->ph) * v->amp * fade + click) * 0.6;
    v->amp *= v->amp_mul;
    v->amp2 = v->amp2 * v->amp2_mul < 1e-9 ? 0.0 : v->amp2 * v->amp2_mul;
    break;
  }
  case D_CRASH:
  case D_RIDE: {
    double bank = 0;
    for (int i = 0; i < 6; ++i)
      bank += sg__osc_wave(&v->sq[i], SG_WAVE_SQUARE);
    double bell = 0;
    if (v->f > 0) {
      v->ph += v->f * iR;
      v->ph -= floor(v->ph);
      bell = 0.25 * sg__sin2pi(v->ph);
    }
    double x = bank / 6.0 + bell + v->amp2 * noise(v);
    y = sg_biquad_tick(&v->f2, sg_biquad_tick(&v->f1, x)) * v->amp * 0.5;
    v->amp *= v->amp_mul;
    v->amp2 *= v->amp2_mul;
    break;
  }
  case D_SHAKER:
  default: {
    /* 12 ms swell (raised cosine) then exponential decay. */
    double sw = 0.012 * R, e = v->t < sw ? 0.5 - 0.5 * cos(SG_PI * v->t / sw) : v->amp2;
    if (v->t >= sw)
      v->amp2 *= v->amp_mul;
    y = sg_biquad_tick(&v->f2, sg_biquad_tick(&v->f1, noise(v))) * e * 0.5;
    break;
  }
  }
  ++v->t;
  return y * v->vel;
}

static void drums_render(void *st, float *l, float *r, size_t n) {
  sg__drums *k = st;
  memset(l, 0, n * sizeof *l);
  memset(r, 0, n * sizeof *r);
  for (size_t i0 = 0; i0 < n; i0 += ROOM_LEN / 2) {
    size_t bn = n - i0 < ROOM_LEN / 2 ? n - i0 : ROOM_LEN / 2;
    float dry[ROOM_LEN / 2];
    memset(dry, 0, bn * sizeof *dry);
    for (int vi = 0; vi < DRUM_VOICES; ++vi) {
      drum_voice *v = &k->v[vi];
      if (v->type == D_NONE)
        continue;
      size_t m = (int64_t)bn < v->life ? bn : (size_t)(v->life > 0 ? v->life : 0);
#define VOICE_LOOP(T)                                                                              \
  for (size_t i = 0; i < m; ++i) {                                                                 \
    double y = voice_tick(k, v, T) * k->out_gain;                                                  \
    dry[i] += (float)y;                                                                            \
    l[i0 + i] += (float)(y * v->gl);                                                               \
    r[i0 + i] += (float)(y * v->gr);                                                               \
  }                                                                                                \
  break
      switch (v->type) {
      case D_KICK: {
        /* With the click over, the loop has no call left: its state stays in registers. */
        const size_t m_all = m;
        size_t i = 0;
        for (; i < m_all && v->amp2 > 0; ++i) {
          double y = voice_tick(k, v, D_KICK) * k->out_gain;
          dry[i] += (float)y;
          l[i0 + i] += (float)(y * v->gl);
          r[i0 + i] += (float)(y * v->gr);
        }
        drum_voice tv = *v;
        for (; i < m_all; ++i) {
          double y = voice_tick(k, &tv, D_KICK_TONE) * k->out_gain;
          dry[i] += (float)y;
          l[i0 + i] += (float)(y * tv.gl);
          r[i0 + i] += (float)(y * tv.gr);
        }
        *v = tv;
        break;
      }
      case D_SNARE:
        VOICE_LOOP(D_SNARE);
      case D_CHAT:
        VOICE_LOOP(D_CHAT);
      case D_OHAT:
        VOICE_LOOP(D_OHAT);
      case D_TOM:
        VOICE_LOOP(D_TOM);
      case D_CRASH:
        VOICE_LOOP(D_CRASH);
      case D_RIDE:
        VOICE_LOOP(D_RIDE);
      default:
        VOICE_LOOP(v->type);
      }
#undef VOICE_LOOP
      v->life -= (int64_t)m;
      if (v->life <= 0)
        v->type = D_NONE;
    }
    /* Room pair: early reflections of the dry kit, at other delays in each channel. */
    static const float g[ROOM_TAPS] = {0.10f, 0.07f, 0.05f};
    for (size_t i = 0; i < bn; ++i) {
      k->room[k->room_w] = dry[i];
      float el = 0, er = 0;
      for (int t = 0; t < ROOM_TAPS; ++t) {
        el += g[t] * k->room[(k->room_w + ROOM_LEN - (size_t)k->tap_l[t]) % ROOM_LEN];
        er += g[t] * k->room[(k->room_w + ROOM_LEN - (size_t)k->tap_r[t]) % ROOM_LEN];
      }
      k->room_w = (k->room_w + 1) % ROOM_LEN;
      l[i0 + i] += el;
      r[i0 + i] += er;
    }
  }
}

static int64_t drums_tail(const void *st) {
  const sg__drums *k = st;
  double t = k->p.kick_decay;
  if (k->p.open_hat_decay > t)
    t = k->p.open_hat_decay;
  if (t < 0.45)
    t = 0.45;
  return (int64_t)(1.5 * t * k->rate);
}

static void drums_destroy(void *st) { free(st); }

static double drums_attack(const void *st) {
  (void)st;
  return 0.0;
}

static const sg__inst_vt drums_vt = {drums_note_on, drums_note_off, drums_render, drums_reset,
                                     drums_destroy, drums_tail,     drums_attack};

sg_status sg__drums_create(const char *patch, const sg_param_set *ov, double rate, uint64_t seed,
                           void **st, const sg__inst_vt **vt, sg_diag *d) {
  int idx = sg__patch_index(sg__drums_patches, patch, "drums", d);
  if (idx < 0)
    return SG_E_NOTFOUND;
  sg__drums *k = calloc(1, sizeof *k);
  if (!k)
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory creating the drums instrument");
  drum_patch_init(idx, &k->p);
  sg_status s = sg__apply_overrides(&k->p, sg__drum_params, sg__drum_nparams, ov, "drums", d);
  if (s != SG_OK) {
    free(k);
    return s;
  }
  k->rate = rate;
  k->inv_rate = 1.0 / rate;
  k->seed = seed;
  k->out_gain = pow(10.0, k->p.gain / 20.0);
  static const double ms_l[ROOM_TAPS] = {11.3, 17.9, 29.1}, ms_r[ROOM_TAPS] = {13.7, 21.4, 25.6};
  for (int t = 0; t < ROOM_TAPS; ++t) {
    k->tap_l[t] = (int)fmin(ms_l[t] * 1e-3 * rate, ROOM_LEN - 1);
    k->tap_r[t] = (int)fmin(ms_r[t] * 1e-3 * rate, ROOM_LEN - 1);
  }
  drums_reset(k);
  *st = k;
  *vt = &drums_vt;
  return SG_OK;
}
