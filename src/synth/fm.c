/* DX7-style 6-operator FM (Chowning, "The synthesis of complex audio spectra by means of
 * frequency modulation", JAES 21(7), 1973; Yamaha DX7 operator/algorithm architecture).
 *
 * Every one of the 32 DX7 algorithms is a table entry: which operators modulate which, which are
 * carriers, and where the feedback loop runs. On the DX7 every modulation edge goes from a
 * higher to a lower operator number, so computing operators 6 -> 1 each sample sees every
 * modulator's current output; only the feedback edge reads the past. Feedback averages the last
 * two outputs (as the DX7/msfa does) which keeps high feedback from turning to noise.
 * Operator output a (0..1) modulates the phase of its targets by a cycles (2 pi a rad). */
#include "kernels.h"
#include "synth_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FM_VOICES 16
#define FM_OPS 6

typedef struct fm_alg {
  const char *edges; /* "65 54": op 6 modulates op 5, op 5 modulates op 4 */
  const char *carriers;
  int fb_from, fb_to; /* feedback: fb_from's output into fb_to's phase (equal = self) */
} fm_alg;

static const fm_alg algs[32] = {
    {"65 54 43 21", "13", 6, 6},   {"65 54 43 21", "13", 2, 2},   {"65 54 32 21", "14", 6, 6},
    {"65 54 32 21", "14", 4, 6},   {"65 43 21", "135", 6, 6},     {"65 43 21", "135", 5, 6},
    {"65 53 43 21", "13", 6, 6},   {"65 53 43 21", "13", 4, 4},   {"65 53 43 21", "13", 2, 2},
    {"32 21 64 54", "14", 3, 3},   {"32 21 64 54", "14", 6, 6},   {"21 63 53 43", "13", 2, 2},
    {"21 63 53 43", "13", 6, 6},   {"21 43 54 64", "13", 6, 6},   {"21 43 54 64", "13", 2, 2},
    {"21 43 31 65 51", "1", 6, 6}, {"21 43 31 65 51", "1", 2, 2}, {"21 31 65 54 41", "1", 3, 3},
    {"32 21 64 65", "145", 6, 6},  {"31 32 54 64", "124", 3, 3},  {"31 32 64 65", "1245", 3, 3},
    {"21 63 64 65", "1345", 6, 6}, {"32 64 65", "1245", 6, 6},    {"63 64 65", "12345", 6, 6},
    {"64 65", "12345", 6, 6},      {"32 54 64", "124", 6, 6},     {"32 54 64", "124", 3, 3},
    {"21 54 43", "136", 5, 5},     {"43 65", "1235", 6, 6},       {"54 43", "1236", 5, 5},
    {"65", "12345", 6, 6},         {"", "123456", 6, 6},
};

typedef struct fm_op_patch {
  double ratio, fixed_hz, detune, level, vel_sens, rate_scale;
  double rate[4], lvl[4]; /* EG R1..R4, L1..L4 (0..99) */
} fm_op_patch;

typedef struct fm_patch {
  double algorithm, feedback, gain;
  fm_op_patch op[FM_OPS];
} fm_patch;

#define OP(n, suffix, unit, lo, hi, doc, field)                                                    \
  SG__PARAM("op" #n "_" suffix, unit, lo, hi, doc, offsetof(fm_patch, op[n - 1].field))
#define OPP(n)                                                                                     \
  OP(n, "ratio", "", 0.5, 31.99, "frequency ratio to the note", ratio),                            \
      OP(n, "fixed_hz", "Hz", 0, 9772, "fixed frequency (0: ratio mode)", fixed_hz),               \
      OP(n, "detune", "", -7, 7, "detune, about 1.5 cents per step", detune),                      \
      OP(n, "level", "", 0, 99, "output level, 0.75 dB per step", level),                          \
      OP(n, "vel_sens", "", 0, 7, "velocity sensitivity", vel_sens),                               \
      OP(n, "rate_scale", "", 0, 7, "keyboard rate scaling", rate_scale),                          \
      OP(n, "r1", "", 0, 99, "envelope rate 1", rate[0]),                                          \
      OP(n, "r2", "", 0, 99, "envelope rate 2", rate[1]),                                          \
      OP(n, "r3", "", 0, 99, "envelope rate 3", rate[2]),                                          \
      OP(n, "r4", "", 0, 99, "envelope rate 4", rate[3]),                                          \
      OP(n, "l1", "", 0, 99, "envelope level 1", lvl[0]),                                          \
      OP(n, "l2", "", 0, 99, "envelope level 2", lvl[1]),                                          \
      OP(n, "l3", "", 0, 99, "envelope level 3", lvl[2]),                                          \
      OP(n, "l4", "", 0, 99, "envelope level 4", lvl[3])
const sg_param_def sg__fm_params[] = {
    SG__PARAM("algorithm", "", 1, 32, "DX7 algorithm", offsetof(fm_patch, algorithm)),
    SG__PARAM("feedback", "", 0, 7, "operator feedback", offsetof(fm_patch, feedback)),
    SG__PARAM("gain", "dB", -24, 12, "output trim", offsetof(fm_patch, gain)),
    OPP(1),
    OPP(2),
    OPP(3),
    OPP(4),
    OPP(5),
    OPP(6),
};
const size_t sg__fm_nparams = sizeof sg__fm_params / sizeof sg__fm_params[0];
#undef OP
#undef OPP

typedef struct fm_voice {
  double phase[FM_OPS], inc[FM_OPS];
  float amp[FM_OPS]; /* level x velocity, linear */
  sg_dxenv env[FM_OPS];
  double fb0, fb1;
  uint32_t id;
  int held;
  uint64_t on_order, off_order;
} fm_voice;

#define SINE_BITS 12
#define SINE_N (1 << SINE_BITS)

typedef struct sg__fm {
  fm_patch p;
  float sine[SINE_N + 1]; /* one cycle + guard point; linear interpolation: error < 3e-7 */
  double rate;
  unsigned mods[FM_OPS]; /* bit j set: operator j modulates operator i (0-based) */
  unsigned carriers;
  int fb_from, fb_to;
  double fb_scale, out_gain;
  fm_voice v[FM_VOICES];
  uint64_t clock;
} sg__fm;

const char *const sg__fm_patches[] = {"epiano", "bell", "fm_bass", NULL};
/* Each patch in words for NOTES.txt (sg_synth_words), in the order of the names above. */
const char *const sg__fm_words[] = {
    "Yamaha DX7-style 6-operator FM electric piano: a tine-like attack over a mellow body",
    "Yamaha DX7-style 6-operator FM bell: inharmonic operator ratios with a long decay",
    "Yamaha DX7-style 6-operator FM bass: a plucky attack over a solid fundamental", NULL};

static void set_op(fm_op_patch *o, double ratio, double detune, double level, double vs, int r1,
                   int r2, int r3, int r4, int l1, int l2, int l3, int l4) {
  memset(o, 0, sizeof *o);
  o->ratio = ratio;
  o->detune = detune;
  o->level = level;
  o->vel_sens = vs;
  o->rate_scale = 2;
  o->rate[0] = r1;
  o->rate[1] = r2;
  o->rate[2] = r3;
  o->rate[3] = r4;
  o->lvl[0] = l1;
  o->lvl[1] = l2;
  o->lvl[2] = l3;
  o->lvl[3] = l4;
}

static void fm_patch_init(int idx, fm_patch *p) {
  memset(p, 0, sizeof *p);
  switch (idx) {
  case 0: /* E.PIANO 1-like, algorithm 5: tine (2->1 at ratio 14) + two detuned body pairs */
    p->algorithm = 5;
    p->feedback = 6;
    p->gain = -4;
    set_op(&p->op[0], 1, 3, 99, 2, 96, 25, 25, 67, 99, 75, 0, 0);
    set_op(&p->op[1], 14, 0, 76, 7, 95, 50, 35, 78, 99, 75, 0, 0);
    set_op(&p->op[2], 1, 0, 99, 2, 95, 20, 20, 50, 99, 95, 0, 0);
    set_op(&p->op[3], 1, 0, 86, 6, 95, 29, 20, 50, 99, 95, 0, 0);
    set_op(&p->op[4], 1, -7, 99, 0, 95, 20, 20, 50, 99, 95, 0, 0);
    set_op(&p->op[5], 1, 7, 76, 6, 95, 29, 20, 50, 99, 95, 0, 0);
    break;
  case 1: /* TUBULAR BELLS-like: inharmonic 3.5 modulators, long exponential decays */
    p->algorithm = 5;
    p->feedback = 2;
    p->gain = 0.5;
    set_op(&p->op[0], 1, 2, 99, 2, 95, 33, 20, 22, 99, 80, 0, 0);
    set_op(&p->op[1], 3.5, 0, 80, 4, 98, 12, 20, 22, 99, 75, 0, 0);
    set_op(&p->op[2], 2, -2, 90, 2, 95, 30, 20, 20, 99, 75, 0, 0);
    set_op(&p->op[3], 3.5, 1, 74, 4, 98, 14, 20, 20, 99, 70, 0, 0);
    set_op(&p->op[4], 0.5, 0, 84, 1, 95, 28, 20, 20, 99, 80, 0, 0);
    set_op(&p->op[5], 1.41, 0, 68, 3, 98, 20, 20, 20, 99, 60, 0, 0);
    break;
  default: /* fm_bass: algorithm 5 pairs, fast-decaying modulation index = plucky attack */
    p->algorithm = 5;
    p->feedback = 4;
    p->gain = 4;
    set_op(&p->op[0], 1, 0, 99, 1, 99, 40, 30, 70, 99, 85, 80, 0);
    set_op(&p->op[1], 1, 0, 84, 5, 99, 55, 30, 70, 99, 50, 40, 0);
    set_op(&p->op[2], 0.5, 0, 90, 1, 99, 35, 30, 70, 99, 85, 80, 0);
    set_op(&p->op[3], 3, 0, 64, 6, 99, 70, 40, 70, 99, 0, 0, 0);
    set_op(&p->op[4], 1, 0, 0, 0, 99, 40, 30, 70, 99, 85, 80, 0);
    set_op(&p->op[5], 1, 0, 0, 0, 99, 40, 30, 70, 99, 85, 80, 0);
    break;
  }
}

static void fm_prepare(sg__fm *f) {
  const fm_alg *a = &algs[(int)(f->p.algorithm + 0.5) - 1];
  memset(f->mods, 0, sizeof f->mods);
  for (const char *e = a->edges; *e;) {
    if (*e == ' ') {
      ++e;
      continue;
    }
    int from = e[0] - '1', to = e[1] - '1';
    f->mods[to] |= 1u << from;
    e += 2;
  }
  f->carriers = 0;
  int ncar = 0;
  for (const char *c = a->carriers; *c; ++c, ++ncar)
    f->carriers |= 1u << (*c - '1');
  f->fb_from = a->fb_from - 1;
  f->fb_to = a->fb_to - 1;
  int fb = (int)(f->p.feedback + 0.5);
  /* msfa: feedback 7 adds half the averaged output in cycles; each step down halves it. */
  f->fb_scale = fb > 0 ? 0.5 * exp2(fb - 7) : 0.0;
  /* Carriers add; divide so several carriers at full level still peak near -6 dBFS. */
  f->out_gain = 0.5 / sqrt((double)ncar) * pow(10.0, f->p.gain / 20.0);
}

static void fm_reset(void *st) {
  sg__fm *f = st;
  memset(f->v, 0, sizeof f->v);
  for (int i = 0; i < FM_VOICES; ++i)
    for (int o = 0; o < FM_OPS; ++o) {
      sg_dxenv_config c;
      sg_dxenv_config_init(&c);
      sg_dxenv_init(&f->v[i].env[o], &c, f->rate);
    }
  f->clock = 0;
}

static int fm_voice_active(const sg__fm *f, const fm_voice *v) {
  for (int o = 0; o < FM_OPS; ++o)
    if ((f->carriers >> o & 1u) && sg_dxenv_active(&v->env[o]))
      return 1;
  return 0;
}

static void fm_note_on(void *st, const sg_note *n, uint32_t id) {
  sg__fm *f = st;
  int best = -1;
  for (int i = 0; i < FM_VOICES && best < 0; ++i)
    if (!fm_voice_active(f, &f->v[i]))
      best = i;
  if (best < 0) {
    for (int i = 0; i < FM_VOICES; ++i)
      if (!f->v[i].held && (best < 0 || f->v[i].off_order < f->v[best].off_order))
        best = i;
  }
  if (best < 0) {
    best = 0;
    for (int i = 1; i < FM_VOICES; ++i)
      if (f->v[i].on_order < f->v[best].on_order)
        best = i;
  }
  fm_voice *v = &f->v[best];
  if (!fm_voice_active(f, v)) { /* key sync: an idle voice starts every operator at phase 0 */
    memset(v->phase, 0, sizeof v->phase);
    v->fb0 = v->fb1 = 0;
  }
  v->id = id;
  v->held = 1;
  v->on_order = ++f->clock;
  double hz = sg_midi_to_hz(n->key);
  for (int o = 0; o < FM_OPS; ++o) {
    const fm_op_patch *op = &f->p.op[o];
    double ofz = op->fixed_hz > 0 ? op->fixed_hz : hz * op->ratio;
    ofz *= exp2(op->detune * 1.5 / 1200.0); /* ~1.5 cents per detune step */
    v->inc[o] = ofz / f->rate;
    if (v->inc[o] > 0.49)
      v->inc[o] = 0.49;
    /* Velocity sensitivity: up to 32 dB less output at velocity 0 with sensitivity 7. */
    double att = op->vel_sens / 7.0 * (1.0 - n->velocity) * 32.0;
    v->amp[o] = (float)pow(10.0, (sg_dx_level_db(op->level) - att) / 20.0);
    if (op->level <= 0)
      v->amp[o] = 0;
    sg_dxenv_config c;
    for (int q = 0; q < 4; ++q) {
      c.rate[q] = (int)(op->rate[q] + 0.5);
      c.level[q] = (int)(op->lvl[q] + 0.5);
    }
    /* Keyboard rate scaling (msfa: (note/3 - 7) * scale / 8 in rate quarter-steps). */
    c.rate_scale_bias = (int)(op->rate_scale * (n->key / 3.0 - 7.0) / 8.0 * 1.5);
    double db = v->env[o].db; /* retrigger continues from the current level: no click */
    sg_dxenv_init(&v->env[o], &c, f->rate);
    v->env[o].db = db;
    sg_dxenv_gate_on(&v->env[o]);
  }
}

static void fm_note_off(void *st, uint32_t id) {
  sg__fm *f = st;
  for (int i = 0; i < FM_VOICES; ++i) {
    fm_voice *v = &f->v[i];
    if (v->held && v->id == id) {
      v->held = 0;
      v->off_order = ++f->clock;
      for (int o = 0; o < FM_OPS; ++o)
        sg_dxenv_gate_off(&v->env[o]);
    }
  }
}

/* sin(2 pi ph) for any real ph, from the table. */
static SG__ALWAYS_INLINE double fm_sin(const sg__fm *f, double ph) {
  /* ph - floor(ph), bit for bit (ph - round(ph) is exact; adding 1 rounds like the subtraction
   * of floor would), without the libm-style floor sequence. */
  ph -= sg__round(ph);
  ph += ph < 0 ? 1.0 : 0.0; /* a select, not a branch: the loops over it vectorise */
  double x = ph * SINE_N;
  int i = (int)x;
  double fr = x - i;
  return f->sine[i] + fr * (f->sine[i + 1] - f->sine[i]);
}

#define FM_BLOCK 64

/* ea[o][j] = the amplitude of levels db[o][j] (SG__DX_SILENT_DB: silent) times amp[o], as
 * sg__dxenv_tick's value times the operator's amplitude; compare-free, so it vectorises. */
static SG__ALWAYS_INLINE void fm_amps_body(const double (*db)[FM_BLOCK], float (*ea)[FM_BLOCK],
                                           const float *amp, size_t m) {
  for (int o = 0; o < FM_OPS; ++o)
    for (size_t j = 0; j < m; ++j)
      ea[o][j] = sg__dx_amp(db[o][j]) * amp[o];
}
/* Two builds, one chosen at run time (sg_dsp_avx2): same operations, no FMA, the same bits. */
static void fm_amps_base(const double (*db)[FM_BLOCK], float (*ea)[FM_BLOCK], const float *amp,
                         size_t m) {
  fm_amps_body(db, ea, amp, m);
}
#if SG_DSP_AVX2
SG_DSP_TARGET_AVX2 static void fm_amps_avx2(const double (*db)[FM_BLOCK], float (*ea)[FM_BLOCK],
                                            const float *amp, size_t m) {
  fm_amps_body(db, ea, amp, m);
}
#endif
static void fm_amps(const double (*db)[FM_BLOCK], float (*ea)[FM_BLOCK], const float *amp, size_t m,
                    int avx2) {
#if SG_DSP_AVX2
  if (avx2) {
    fm_amps_avx2(db, ea, amp, m);
    return;
  }
#endif
  (void)avx2;
  fm_amps_base(db, ea, amp, m);
}

/* m samples of v's operators into l, operator by operator (6 -> 1), for algorithms whose
 * feedback loops on one operator: each sample sees the same values, added in the same order, as
 * in the sample-by-sample loop, so the bits are the same; every loop but the feedback
 * operator's has independent iterations. */
static SG__ALWAYS_INLINE void fm_ops_body(const sg__fm *f, fm_voice *v, const float (*ea)[FM_BLOCK],
                                          float *l, size_t m) {
  double ob[FM_OPS][FM_BLOCK], mix[FM_BLOCK];
  for (size_t j = 0; j < m; ++j)
    mix[j] = 0;
  for (int o = FM_OPS - 1; o >= 0; --o) {
    double *ph = ob[o]; /* the phases, then the outputs in place */
    double p = v->phase[o];
    const double inc = v->inc[o];
    for (size_t j = 0; j < m; ++j) {
      ph[j] = p;
      p += inc;
      p -= p >= 1.0 ? 1.0 : 0.0; /* a select: a branch would mispredict every cycle; p - 0 = p */
    }
    v->phase[o] = p;
    for (int k = o + 1; k < FM_OPS; ++k)
      if (f->mods[o] >> k & 1u)
        for (size_t j = 0; j < m; ++j)
          ph[j] += ob[k][j];
    if (o == f->fb_to) {
      double fb0 = v->fb0, fb1 = v->fb1;
      for (size_t j = 0; j < m; ++j) {
        const double y = fm_sin(f, ph[j] + f->fb_scale * 0.5 * (fb0 + fb1)) * (double)ea[o][j];
        ph[j] = y;
        fb1 = fb0;
        fb0 = y;
      }
      v->fb0 = fb0, v->fb1 = fb1;
    } else {
      for (size_t j = 0; j < m; ++j)
        ph[j] = fm_sin(f, ph[j]) * (double)ea[o][j];
    }
    if (f->carriers >> o & 1u)
      for (size_t j = 0; j < m; ++j)
        mix[j] += ob[o][j];
  }
  for (size_t j = 0; j < m; ++j)
    l[j] += (float)(mix[j] * f->out_gain);
}
static void fm_ops_base(const sg__fm *f, fm_voice *v, const float (*ea)[FM_BLOCK], float *l,
                        size_t m) {
  fm_ops_body(f, v, ea, l, m);
}
#if SG_DSP_AVX2
SG_DSP_TARGET_AVX2 static void fm_ops_avx2(const sg__fm *f, fm_voice *v,
                                           const float (*ea)[FM_BLOCK], float *l, size_t m) {
  fm_ops_body(f, v, ea, l, m);
}
#endif
static void fm_ops_run(const sg__fm *f, fm_voice *v, float (*ea)[FM_BLOCK], float *l, size_t m,
                       int avx2) {
#if SG_DSP_AVX2
  if (avx2) {
    fm_ops_avx2(f, v, (const float(*)[FM_BLOCK])ea, l, m);
    return;
  }
#endif
  (void)avx2;
  fm_ops_base(f, v, (const float(*)[FM_BLOCK])ea, l, m);
}

/* Up to c samples of v's envelopes into db, operator by operator, stopping after the sample on
 * which the voice ends (every carrier quiet, as fm_voice_active; the envelopes are left as after
 * that sample); returns the samples run. */
static size_t fm_envelopes(const sg__fm *f, fm_voice *v, double (*db)[FM_BLOCK], size_t c) {
  sg_dxenv start[FM_OPS];
  unsigned char quiet[FM_BLOCK];
  memcpy(start, v->env, sizeof start);
  memset(quiet, 1, c);
  for (int o = 0; o < FM_OPS; ++o)
    sg__dxenv_levels(&v->env[o], db[o], f->carriers >> o & 1u ? quiet : NULL, c);
  size_t m = 0;
  while (m < c && !quiet[m])
    ++m;
  if (m == c)
    return c;
  memcpy(v->env, start, sizeof start); /* ended inside: run again to that sample */
  for (int o = 0; o < FM_OPS; ++o)
    sg__dxenv_levels(&v->env[o], db[o], NULL, m + 1);
  return m + 1;
}

/* Per voice, in runs of up to FM_BLOCK samples: the envelopes first (they do not depend on the
 * operators; the run stops on the sample the voice ends, as the per-sample check did), their
 * exponentials as one vector loop, then the operators sample by sample. */
static void fm_render(void *st, float *l, float *r, size_t n) {
  sg__fm *f = st;
  const int avx2 = sg_dsp_avx2();
  memset(l, 0, n * sizeof *l);
  for (int vi = 0; vi < FM_VOICES; ++vi) {
    fm_voice *v = &f->v[vi];
    if (!fm_voice_active(f, v))
      continue;
    for (size_t i0 = 0, ended = 0; i0 < n && !ended;) {
      double db[FM_OPS][FM_BLOCK];
      float ea[FM_OPS][FM_BLOCK];
      const size_t c = n - i0 < FM_BLOCK ? n - i0 : FM_BLOCK;
      size_t m = fm_envelopes(f, v, db, c);
      ended = m < c || !fm_voice_active(f, v);
      fm_amps((const double(*)[FM_BLOCK])db, ea, v->amp, m, avx2);
      if (f->fb_from == f->fb_to) { /* no loop between operators: one operator at a time */
        fm_ops_run(f, v, ea, l + i0, m, avx2);
        i0 += m;
        continue;
      }
      for (size_t j = 0; j < m; ++j) {
        double out[FM_OPS], mix = 0;
        for (int o = FM_OPS - 1; o >= 0; --o) {
          double ph = v->phase[o];
          unsigned mo = f->mods[o];
          for (int k = o + 1; mo && k < FM_OPS; ++k)
            if (mo >> k & 1u)
              ph += out[k];
          if (o == f->fb_to)
            ph += f->fb_scale * 0.5 * (v->fb0 + v->fb1);
          out[o] = fm_sin(f, ph) * (double)ea[o][j];
          v->phase[o] += v->inc[o];
          if (v->phase[o] >= 1.0)
            v->phase[o] -= 1.0;
          if (f->carriers >> o & 1u)
            mix += out[o];
        }
        v->fb1 = v->fb0;
        v->fb0 = out[f->fb_from];
        l[i0 + j] += (float)(mix * f->out_gain);
      }
      i0 += m;
    }
  }
  memcpy(r, l, n * sizeof *r);
}

static int64_t fm_tail(const void *st) {
  const sg__fm *f = st;
  /* Slowest carrier release from its sustain level to -90 dB. */
  double worst = 0.05;
  for (int o = 0; o < FM_OPS; ++o) {
    if (!(f->carriers >> o & 1u))
      continue;
    double t = (sg_dx_level_db(f->p.op[o].lvl[0]) + 90.0) / sg_dx_rate_dbps(f->p.op[o].rate[3]);
    if (t > worst)
      worst = t;
  }
  return (int64_t)(worst * f->rate);
}

static void fm_destroy(void *st) { free(st); }

/* The DX7 patches here all strike (carrier R1 at 99 reaches full level within milliseconds). */
static double fm_attack(const void *st) {
  (void)st;
  return 0.002;
}

static const sg__inst_vt fm_vt = {fm_note_on, fm_note_off, fm_render, fm_reset,
                                  fm_destroy, fm_tail,     fm_attack};

sg_status sg__fm_create(const char *patch, const sg_param_set *ov, double rate, uint64_t seed,
                        void **st, const sg__inst_vt **vt, sg_diag *d) {
  (void)seed; /* FM voices are fully determined by the notes (phases start at 0, as on a DX7) */
  int idx = sg__patch_index(sg__fm_patches, patch, "dx7", d);
  if (idx < 0)
    return SG_E_NOTFOUND;
  sg__fm *f = calloc(1, sizeof *f);
  if (!f)
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory creating the dx7 instrument");
  fm_patch_init(idx, &f->p);
  sg_status s = sg__apply_overrides(&f->p, sg__fm_params, sg__fm_nparams, ov, "dx7", d);
  if (s != SG_OK) {
    free(f);
    return s;
  }
  f->rate = rate;
  for (int i = 0; i <= SINE_N; ++i)
    f->sine[i] = (float)sin(2.0 * SG_PI * i / SINE_N);
  fm_prepare(f);
  fm_reset(f);
  *st = f;
  *vt = &fm_vt;
  return SG_OK;
}
