/* Subtractive instruments: the Minimoog-style mono bass and the Prophet-5-style poly synth.
 *
 * One voice = 3 PolyBLEP/PolyBLAMP oscillators + noise -> mixer -> ZDF ladder (Zavalishin) with
 * envelope, key tracking and velocity on the cutoff -> amp ADSR. Cutoff and pitch are control
 * rate (every SG__CTRL = 16 samples, ~0.33 ms at 48 kHz); the ladder ramps its coefficients
 * across that block, so sweeps do not zipper. */
#include "kernels.h"
#include "synth_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define P(f, unit, lo, hi, doc) SG__PARAM(#f, unit, lo, hi, doc, offsetof(sg__sub_patch, f))
const sg_param_def sg__sub_params[] = {
    P(osc1_wave, "", 0, 3, "0 saw, 1 square, 2 triangle, 3 sine"),
    P(osc2_wave, "", 0, 3, "0 saw, 1 square, 2 triangle, 3 sine"),
    P(osc3_wave, "", 0, 3, "0 saw, 1 square, 2 triangle, 3 sine"),
    P(osc1_level, "", 0, 1, "mixer level"),
    P(osc2_level, "", 0, 1, "mixer level"),
    P(osc3_level, "", 0, 1, "mixer level"),
    P(osc2_detune, "cents", -100, 100, "detune against oscillator 1"),
    P(osc3_detune, "cents", -100, 100, "detune against oscillator 1"),
    P(osc1_octave, "octaves", -2, 2, "octave shift"),
    P(osc2_octave, "octaves", -2, 2, "octave shift"),
    P(osc3_octave, "octaves", -2, 2, "octave shift"),
    P(pulse_width, "", 0.05, 0.95, "square duty cycle"),
    P(noise_level, "", 0, 1, "mixer level of white noise"),
    P(cutoff, "Hz", 20, 18000, "ladder cutoff before the envelope"),
    P(resonance, "", 0, 1, "0..1 (1 = self-oscillation)"),
    P(drive, "", 0.1, 10, "input gain into the ladder's tanh"),
    P(key_track, "", 0, 1, "cutoff follows pitch, 1 = 1 oct/oct"),
    P(filter_env, "octaves", -2, 8, "filter envelope depth"),
    P(filter_attack, "s", 0.0005, 20, "filter envelope attack"),
    P(filter_decay, "s", 0.0005, 20, "filter envelope decay"),
    P(filter_sustain, "", 0, 1, "filter envelope sustain level"),
    P(filter_release, "s", 0.0005, 20, "filter envelope release"),
    P(amp_attack, "s", 0.0005, 20, "amplitude attack"),
    P(amp_decay, "s", 0.0005, 20, "amplitude decay"),
    P(amp_sustain, "", 0, 1, "amplitude sustain level"),
    P(amp_release, "s", 0.0005, 20, "amplitude release"),
    P(velocity_to_filter, "octaves", 0, 4, "extra cutoff at velocity 1"),
    P(glide, "s", 0, 2, "portamento time (mono only)"),
    P(drift, "cents", 0, 20, "per-voice slow drift (poly only)"),
    P(gain, "dB", -24, 12, "output trim"),
};
#undef P
const size_t sg__sub_nparams = sizeof sg__sub_params / sizeof sg__sub_params[0];

#define K_MAX 4.1 /* resonance 1 maps here: just past the k = 4 self-oscillation edge */
/* The mixer feeds the ladder at half scale: drive 1 then saturates gently (third harmonic of a
 * full-scale sine about -35 dB) and higher drive settings push into the tanh audibly. */
#define LADDER_IN 0.5f

static double wave_of(double w) { return (double)(int)(w + 0.5); }

void sg__sub_voice_init(sg__sub_voice *v, const sg__sub_patch *p, double rate, uint64_t seed) {
  memset(v, 0, sizeof *v);
  const double waves[3] = {p->osc1_wave, p->osc2_wave, p->osc3_wave};
  sg_rng_seed(&v->rng, seed, 0x737562u);
  for (int i = 0; i < 3; ++i) {
    sg_osc_config oc;
    sg_osc_config_init(&oc);
    oc.wave = (sg_wave)wave_of(waves[i]);
    oc.pulse_width = p->pulse_width;
    /* Free-running oscillators start at seeded phases, like analog VCOs that never stop. */
    oc.phase = sg_rng_uniform(&v->rng);
    sg_osc_init(&v->osc[i], &oc, rate);
  }
  sg_osc_config nc;
  sg_osc_config_init(&nc);
  nc.wave = SG_WAVE_NOISE;
  nc.seed = seed ^ 0x9e3779b97f4a7c15ull;
  sg_osc_init(&v->noise, &nc, rate);
  sg_ladder_config lc;
  sg_ladder_config_init(&lc);
  lc.cutoff = p->cutoff;
  lc.resonance = p->resonance * K_MAX;
  lc.drive = p->drive;
  sg_ladder_init(&v->lad, &lc, rate);
  sg_adsr_config fc = {p->filter_attack, p->filter_decay, p->filter_sustain, p->filter_release};
  sg_adsr_config ac = {p->amp_attack, p->amp_decay, p->amp_sustain, p->amp_release};
  sg_adsr_init(&v->fenv, &fc, rate);
  sg_adsr_init(&v->aenv, &ac, rate);
  double lsum = p->osc1_level + p->osc2_level + p->osc3_level + 0.5 * p->noise_level;
  if (lsum < 1.0)
    lsum = 1.0;
  v->lvl[0] = (float)(p->osc1_level / lsum);
  v->lvl[1] = (float)(p->osc2_level / lsum);
  v->lvl[2] = (float)(p->osc3_level / lsum);
  v->noise_lvl = (float)(p->noise_level / lsum);
  /* Make-up for the saturator and for the ladder's passband loss 1/(1+k) (half compensated,
   * keeping some of the Moog's bass thinning at high resonance), then the patch trim. */
  double k = p->resonance * K_MAX, dr = p->drive;
  v->level = (float)(0.5 * (dr / tanh(LADDER_IN * dr)) * (1.0 + 0.5 * k) / (1.0 + 0.25 * k) *
                     pow(10.0, p->gain / 20.0));
  v->drift_cents = v->drift_target = 0;
  v->pitch[0] = v->pitch[1] = v->pitch[2] = NAN; /* frequencies not set yet */
  v->note = v->target_note = 60;
}

/* Inline in each build of voice_prepare_body (floor and the exponentials in its instruction
 * set; no call per control tick). */
static SG__ALWAYS_INLINE void voice_control(sg__sub_voice *v, const sg__sub_patch *p, double rate,
                                            float fenv) {
  v->note = v->target_note + (v->note - v->target_note) * v->glide_coef;
  if (p->drift > 0) {
    if (fabs(v->drift_target - v->drift_cents) <= fabs(v->drift_step) || v->drift_step == 0) {
      v->drift_cents = v->drift_target;
      v->drift_target = sg_rng_range(&v->rng, -p->drift, p->drift);
      /* Reach the next drift point in 0.5..2 s: a slow wander, not vibrato. */
      double blocks = sg_rng_range(&v->rng, 0.5, 2.0) * rate / SG__CTRL;
      v->drift_step = (v->drift_target - v->drift_cents) / blocks;
    }
    v->drift_cents += v->drift_step;
  }
  const double oct[3] = {p->osc1_octave, p->osc2_octave, p->osc3_octave};
  const double det[3] = {0, p->osc2_detune, p->osc3_detune};
  for (int i = 0; i < 3; ++i) {
    double m = v->note + 12.0 * floor(oct[i] + 0.5) + (det[i] + v->drift_cents) / 100.0;
    if (m != v->pitch[i]) { /* a held note without glide or drift keeps its frequencies */
      v->pitch[i] = m;
      sg__osc_set_freq(&v->osc[i], 440.0 * sg_fast_exp2((m - 69.0) * (1.0 / 12.0)));
    }
  }
  double octs = p->key_track * (v->note - 60.0) / 12.0 + p->filter_env * fenv +
                p->velocity_to_filter * v->velocity * fenv;
  double fc = p->cutoff * sg_fast_exp2(octs);
  if (fc > 0.45 * rate)
    fc = 0.45 * rate;
  const double k = p->resonance * K_MAX;
  /* The same cutoff with the ramps finished would set the same targets and zero steps: skip the
   * tangent. */
  if (fc == v->lad.c.cutoff && k == v->lad.c.resonance && v->lad.g_step == 0 && v->lad.k_step == 0)
    return;
  sg_ladder_set(&v->lad, fc, k);
}

/* Adds lvl * o over c samples to x (first: stores instead), the waveform's switch outside the
 * loop. Per sample: the phase recursion and the waveform with its branches (noise). */
static void osc_add(sg_osc *o, float lvl, float *x, size_t c, int first) {
#define OSC_LOOP(W)                                                                                \
  for (size_t j = 0; j < c; ++j) {                                                                 \
    const float v = lvl * sg__osc_wave(o, W);                                                      \
    x[j] = first ? v : x[j] + v;                                                                   \
  }                                                                                                \
  break
  switch (o->wave) {
  case SG_WAVE_SAW:
    OSC_LOOP(SG_WAVE_SAW);
  case SG_WAVE_SQUARE:
    OSC_LOOP(SG_WAVE_SQUARE);
  case SG_WAVE_TRIANGLE:
    OSC_LOOP(SG_WAVE_TRIANGLE);
  case SG_WAVE_SINE:
    OSC_LOOP(SG_WAVE_SINE);
  default: /* noise and the naive saw */
    OSC_LOOP(o->wave);
  }
#undef OSC_LOOP
}

/* Whether phases rising from tf to tl (no wrap between) come within e of an edge at phase q,
 * circularly, with a margin for the rounding of the residuals' own phase arithmetic: may say
 * yes needlessly, never no (the exact per-sample pass decides). */
#define NEAR_EPS 1e-9
static SG__ALWAYS_INLINE int near_edge(double tf, double tl, double q, double e) {
  const double lo = q - e - NEAR_EPS, hi = q + e + NEAR_EPS;
  return (tf < hi && tl > lo) | (tl > lo + 1.0) | (tf < hi - 1.0);
}

/* The voice's three oscillators over c (<= SG__CTRL) samples into x, as osc_add would give bit
 * for bit, cheaper: the three phase recursions in one loop (independent chains that overlap),
 * then each waveform without its band-limiting residual as a branch-free loop that vectorises,
 * then the full sg__osc_value only where a residual can be non-zero (within two samples of a
 * discontinuity or corner: a few samples a cycle). Away from those the residuals are exact
 * zeros, so the naive value is the same double. Noise keeps osc_add (its generator is serial). */
static SG__ALWAYS_INLINE void osc_mix3(sg_osc *o, const float *lvl, float *x, size_t c) {
  if (o[0].wave == SG_WAVE_NOISE || o[1].wave == SG_WAVE_NOISE || o[2].wave == SG_WAVE_NOISE) {
    for (int i = 0; i < 3; ++i)
      osc_add(&o[i], lvl[i], x, c, i == 0);
    return;
  }
  double t[3][SG__CTRL];
  double t0 = o[0].phase, t1 = o[1].phase, t2 = o[2].phase;
  const double d0 = o[0].dt, d1 = o[1].dt, d2 = o[2].dt;
  for (size_t j = 0; j < c; ++j) {
    t[0][j] = t0, t[1][j] = t1, t[2][j] = t2;
    t0 += d0, t1 += d1, t2 += d2;
    if (t0 >= 1.0)
      t0 -= 1.0;
    if (t1 >= 1.0)
      t1 -= 1.0;
    if (t2 >= 1.0)
      t2 -= 1.0;
  }
  o[0].phase = t0, o[1].phase = t1, o[2].phase = t2;
  for (int i = 0; i < 3; ++i) {
    sg_osc *q = &o[i];
    const double *ti = t[i], dt = q->dt, pw = q->pw, off = 2.0 * pw - 1.0;
    /* Where sg__step_residual / sg__polyblamp can be non-zero: t < e or t > 1 - e. */
    const double e = q->wave != SG_WAVE_TRIANGLE && dt < 0.2 ? 2.0 * dt : dt, hi = 1.0 - e;
    float y[SG__CTRL];
    /* Most control blocks hold no sample near an edge (a saw at 220 Hz has four such samples in
     * 218): the rising phases' ends tell (a wrap inside the block puts the next sample within dt
     * of 0), and the exact per-sample pass runs only where they say it may matter. */
    const double tf = ti[0], tl = ti[c - 1];
    const int near = tl < tf || dt * (double)c >= 1.0 || near_edge(tf, tl, 0.0, e);
    switch (q->wave) {
    case SG_WAVE_SAW:
      for (size_t j = 0; j < c; ++j)
        y[j] = (float)(2.0 * ti[j] - 1.0);
      for (size_t j = 0; near && j < c; ++j)
        if (ti[j] < e || ti[j] > hi)
          y[j] = sg__osc_value(q, SG_WAVE_SAW, ti[j]);
      break;
    case SG_WAVE_SQUARE:
      for (size_t j = 0; j < c; ++j)
        y[j] = (float)((ti[j] < pw ? 1.0 : -1.0) - off);
      for (size_t j = 0; (near || near_edge(tf, tl, pw, e)) && j < c; ++j) {
        double u = ti[j] - pw;
        if (u < 0)
          u += 1.0;
        if (ti[j] < e || ti[j] > hi || u < e || u > hi)
          y[j] = sg__osc_value(q, SG_WAVE_SQUARE, ti[j]);
      }
      break;
    case SG_WAVE_TRIANGLE:
      for (size_t j = 0; j < c; ++j)
        y[j] = (float)(1.0 - 4.0 * fabs(ti[j] - 0.5));
      for (size_t j = 0; (near || near_edge(tf, tl, 0.5, e)) && j < c; ++j) {
        double u = ti[j] + 0.5;
        if (u >= 1.0)
          u -= 1.0;
        if (ti[j] < e || ti[j] > hi || u < e || u > hi)
          y[j] = sg__osc_value(q, SG_WAVE_TRIANGLE, ti[j]);
      }
      break;
    case SG_WAVE_SINE:
      for (size_t j = 0; j < c; ++j)
        y[j] = (float)sg__sin2pi(ti[j]);
      break;
    default: /* the naive saw */
      for (size_t j = 0; j < c; ++j)
        y[j] = (float)(2.0 * ti[j] - 1.0);
      break;
    }
    const float l = lvl[i];
    if (i == 0)
      for (size_t j = 0; j < c; ++j)
        x[j] = l * y[j];
    else
      for (size_t j = 0; j < c; ++j)
        x[j] = x[j] + l * y[j];
  }
}

/* Everything of a voice's next n (<= SG__SUB_RUN) samples but the ladder's recursion: the amplitude
 * envelope first (it alone decides where the voice ends: on the sample its envelope does, so the
 * voice's state never depends on how the caller splits blocks), then per control tick the
 * filter envelope, pitch and cutoff, the oscillator mix and the ladder's coefficients. */
static SG__ALWAYS_INLINE void voice_prepare_body(sg__sub_voice *v, const sg__sub_patch *p,
                                                 double rate, size_t n) {
  const float amp = v->level * (float)(0.25 + 0.75 * v->velocity);
  float fe[SG__SUB_RUN]; /* the filter envelope, read at control ticks only */
  const size_t m = sg__adsr_run2(&v->aenv, v->ae, &v->fenv, fe, n);
  float alp = v->amp_lp;
  for (size_t j = 0; j < m; ++j) {
    /* One-pole de-zipper on the amplitude so a steal or velocity change never steps. */
    const float next = alp + 0.02f * (amp - alp);
    if (next == alp) { /* settled: it stays there */
      for (; j < m; ++j)
        v->al[j] = alp;
      break;
    }
    alp = next;
    v->al[j] = alp;
  }
  v->amp_lp = alp;
  v->run = m;
  for (size_t j = 0; j < m;) {
    if (v->ctrl <= 0) {
      voice_control(v, p, rate, fe[j]);
      v->ctrl = SG__CTRL;
    }
    size_t c = (size_t)v->ctrl < m - j ? (size_t)v->ctrl : m - j;
    v->ctrl -= (int)c;
    float *x = v->x + j;
    osc_mix3(v->osc, v->lvl, x, c);
    if (v->noise_lvl > 0)
      osc_add(&v->noise, v->noise_lvl, x, c, 0);
    for (size_t i = 0; i < c; ++i)
      x[i] = LADDER_IN * x[i];
    /* The ramps on a local copy: in registers, not through v's memory that v->g aliases. */
    sg_ladder lad = v->lad;
    for (size_t i = 0; i < c; ++i) {
      sg__ladder_ramp(&lad);
      v->g[j + i] = lad.g;
      v->k[j + i] = lad.k;
    }
    v->lad = lad;
    j += c;
  }
}

/* voice_prepare_body as two builds, one chosen at run time (sg_dsp_avx2): its loops (naive
 * waveforms, amplitude) vectorise four doubles wide with AVX2. Same operations in the same order,
 * no FMA: the same bits. */
static void voice_prepare_base(sg__sub_voice *v, const sg__sub_patch *p, double rate, size_t n) {
  voice_prepare_body(v, p, rate, n);
}
#if SG_DSP_AVX2
SG_DSP_TARGET_AVX2 static void voice_prepare_avx2(sg__sub_voice *v, const sg__sub_patch *p,
                                                  double rate, size_t n) {
  voice_prepare_body(v, p, rate, n);
}
#endif
static void voice_prepare(sg__sub_voice *v, const sg__sub_patch *p, double rate, size_t n,
                          int avx2) {
#if SG_DSP_AVX2
  if (avx2) {
    voice_prepare_avx2(v, p, rate, n);
    return;
  }
#endif
  (void)avx2;
  voice_prepare_base(v, p, rate, n);
}

/* The ladder's coefficients for samples [j0, j1) of v's stretch from its ramps g, k: one
 * branch-free loop (SIMD where the target has it, two builds as voice_prepare), the same
 * arithmetic as sg__ladder_coef. The AVX2 quads compute them in their lanes instead. */
static SG__ALWAYS_INLINE void coefs_body(sg__sub_voice *v, size_t j0, size_t j1) {
  const double drive = v->lad.c.drive;
  for (size_t j = j0; j < j1; ++j) {
    SG__LADDER_COEFS(double, v->g[j], v->k[j], drive, v->ux[j], v->a0[j], v->a1[j], v->a2[j],
                     v->a3[j], v->G[j], v->H[j]);
  }
}
static void coefs_base(sg__sub_voice *v, size_t j0, size_t j1) { coefs_body(v, j0, j1); }
#if SG_DSP_AVX2
SG_DSP_TARGET_AVX2 static void coefs_avx2(sg__sub_voice *v, size_t j0, size_t j1) {
  coefs_body(v, j0, j1);
}
#endif
static void voice_coefs(sg__sub_voice *v, size_t j0, size_t j1, int avx2) {
#if SG_DSP_AVX2
  if (avx2) {
    coefs_avx2(v, j0, j1);
    return;
  }
#endif
  (void)avx2;
  coefs_base(v, j0, j1);
}

#if defined(__SSE2__)
#include <emmintrin.h>

/* sg__ladder_step for two voices in the two lanes of SSE2 registers: the same IEEE operations in
 * the same order (sg__tanh included), so each lane's result is bit-identical to the scalar step;
 * half the instructions. */
typedef struct lad2 {
  __m128d s0, s1, s2, s3, id;
} lad2;

static SG__ALWAYS_INLINE __m128d tanh2(__m128d x) {
  const __m128d c = _mm_set1_pd(SG__TANH_CLAMP);
  x = _mm_min_pd(_mm_max_pd(x, _mm_sub_pd(_mm_setzero_pd(), c)), c);
  const __m128d x2 = _mm_mul_pd(x, x), x4 = _mm_mul_pd(x2, x2), x8 = _mm_mul_pd(x4, x4);
  return _mm_div_pd(_mm_mul_pd(x, SG__TANH_P(x2, x4, x8)), SG__TANH_Q(x2, x4));
}

static SG__ALWAYS_INLINE void ladder_step2(lad2 *L, sg__sub_voice *a, sg__sub_voice *b, size_t j,
                                           int lin) {
#define LD(f) _mm_set_pd(b->f[j], a->f[j])
  const __m128d a0 = LD(a0), a1 = LD(a1), a2 = LD(a2), a3 = LD(a3), G = LD(G), H = LD(H);
  const __m128d x = _mm_set_pd((double)b->x[j], (double)a->x[j]);
  __m128d u = SG__LADDER_IN(LD(ux), x, a0, a1, a2, a3, L->s0, L->s1, L->s2, L->s3);
#undef LD
  if (!lin)
    u = tanh2(u);
  __m128d y4;
  SG__LADDER_POLES(__m128d, G, H, u, L->s0, L->s1, L->s2, L->s3, y4);
  double o[2];
  _mm_storeu_pd(o, _mm_mul_pd(y4, L->id));
  a->y[j] = (float)o[0];
  b->y[j] = (float)o[1];
}

static void lad2_load(lad2 *L, const sg__sub_voice *a, const sg__sub_voice *b) {
  L->s0 = _mm_set_pd(b->lad.s[0], a->lad.s[0]);
  L->s1 = _mm_set_pd(b->lad.s[1], a->lad.s[1]);
  L->s2 = _mm_set_pd(b->lad.s[2], a->lad.s[2]);
  L->s3 = _mm_set_pd(b->lad.s[3], a->lad.s[3]);
  L->id = _mm_set_pd(1.0 / b->lad.c.drive, 1.0 / a->lad.c.drive);
}

static void lad2_store(const lad2 *L, sg__sub_voice *a, sg__sub_voice *b) {
  double v[4][2];
  _mm_storeu_pd(v[0], L->s0);
  _mm_storeu_pd(v[1], L->s1);
  _mm_storeu_pd(v[2], L->s2);
  _mm_storeu_pd(v[3], L->s3);
  for (int i = 0; i < 4; ++i) {
    a->lad.s[i] = sg_dsp_flush(v[i][0]);
    b->lad.s[i] = sg_dsp_flush(v[i][1]);
  }
}

/* Up to eight voices as up to four lane pairs whose chains overlap: one pair's step is a chain
 * of ~100 cycles but a quarter of that in throughput, so four pairs cost about what one does
 * (a pad's chords keep five to nine voices sounding). An odd voice shares its pair with a
 * silent stand-in whose lane is computed and dropped. Each lane is the scalar step's bits. */
static int ladder_packed(sg__sub_voice *const *w, int nw, size_t j0, size_t j1) {
  if (nw < 2)
    return 0;
  static _Thread_local sg__sub_voice idle; /* zero coefficients and input: its lane stays 0 */
  idle.lad.c.drive = 1.0;
  sg__sub_voice *v[8];
  for (int q = 0; q < 8; ++q)
    v[q] = q < nw ? w[q] : &idle;
  const int lin = w[0]->lad.c.linear, np = (nw + 1) / 2;
  lad2 P[4];
  for (int q = 0; q < np; ++q)
    lad2_load(&P[q], v[2 * q], v[2 * q + 1]);
  switch (np) {
  case 4:
    for (size_t j = j0; j < j1; ++j) {
      ladder_step2(&P[0], v[0], v[1], j, lin);
      ladder_step2(&P[1], v[2], v[3], j, lin);
      ladder_step2(&P[2], v[4], v[5], j, lin);
      ladder_step2(&P[3], v[6], v[7], j, lin);
    }
    break;
  case 3:
    for (size_t j = j0; j < j1; ++j) {
      ladder_step2(&P[0], v[0], v[1], j, lin);
      ladder_step2(&P[1], v[2], v[3], j, lin);
      ladder_step2(&P[2], v[4], v[5], j, lin);
    }
    break;
  case 2:
    for (size_t j = j0; j < j1; ++j) {
      ladder_step2(&P[0], v[0], v[1], j, lin);
      ladder_step2(&P[1], v[2], v[3], j, lin);
    }
    break;
  default:
    for (size_t j = j0; j < j1; ++j)
      ladder_step2(&P[0], v[0], v[1], j, lin);
    break;
  }
  for (int q = 0; q < np; ++q)
    lad2_store(&P[q], v[2 * q], v[2 * q + 1]);
  return 1;
}
#else
static int ladder_packed(sg__sub_voice *const *w, int nw, size_t j0, size_t j1) {
  (void)w, (void)nw, (void)j0, (void)j1;
  return 0;
}
#endif

#if SG_DSP_AVX2
#include <immintrin.h>

/* ladder_step2 four voices wide (AVX2 build): the same IEEE operations per lane, so the same
 * bits. Five to eight voices as two quads: a sample's step is throughput-bound there (about 90
 * instructions a lane pair, a third of them gathering coefficients), and a quad needs little
 * more than a pair's. Fewer voices keep the pairs, whose two chains hide each other's latency.
 * A quad gathers only g and k and computes coefs_body's coefficients in its lanes. */
typedef struct lad4 {
  __m256d s0, s1, s2, s3, id, drive;
} lad4;

SG_DSP_TARGET_AVX2 static SG__ALWAYS_INLINE __m256d tanh4(__m256d x) {
  const __m256d c = _mm256_set1_pd(SG__TANH_CLAMP);
  x = _mm256_min_pd(_mm256_max_pd(x, _mm256_sub_pd(_mm256_setzero_pd(), c)), c);
  const __m256d x2 = _mm256_mul_pd(x, x), x4 = _mm256_mul_pd(x2, x2), x8 = _mm256_mul_pd(x4, x4);
  return _mm256_div_pd(_mm256_mul_pd(x, SG__TANH_P(x2, x4, x8)), SG__TANH_Q(x2, x4));
}

SG_DSP_TARGET_AVX2 static SG__ALWAYS_INLINE void ladder_step4(lad4 *L, sg__sub_voice *const *v,
                                                              size_t j, int lin) {
#define LD(f) _mm256_set_pd(v[3]->f[j], v[2]->f[j], v[1]->f[j], v[0]->f[j])
  const __m256d g = LD(g), k = LD(k);
#undef LD
  __m256d ux, a0, a1, a2, a3, G, H;
  SG__LADDER_COEFS(__m256d, g, k, L->drive, ux, a0, a1, a2, a3, G, H);
  const __m256d x =
      _mm256_set_pd((double)v[3]->x[j], (double)v[2]->x[j], (double)v[1]->x[j], (double)v[0]->x[j]);
  __m256d u = SG__LADDER_IN(ux, x, a0, a1, a2, a3, L->s0, L->s1, L->s2, L->s3);
  if (!lin)
    u = tanh4(u);
  __m256d y4;
  SG__LADDER_POLES(__m256d, G, H, u, L->s0, L->s1, L->s2, L->s3, y4);
  double o[4];
  _mm256_storeu_pd(o, _mm256_mul_pd(y4, L->id));
  for (int q = 0; q < 4; ++q)
    v[q]->y[j] = (float)o[q];
}

/* Five to eight voices (the rest of the eight lanes silent stand-ins, as in ladder_packed). */
SG_DSP_TARGET_AVX2 static void ladder_quads(sg__sub_voice *const *w, int nw, size_t j0, size_t j1) {
  static _Thread_local sg__sub_voice idle; /* zero coefficients and input: its lanes stay 0 */
  idle.lad.c.drive = 1.0;
  sg__sub_voice *v[8];
  for (int q = 0; q < 8; ++q)
    v[q] = q < nw ? w[q] : &idle;
  const int lin = w[0]->lad.c.linear;
  lad4 P[2];
  for (int h = 0; h < 2; ++h) {
    sg__sub_voice *const *u = v + 4 * h;
#define ST(i) _mm256_set_pd(u[3]->lad.s[i], u[2]->lad.s[i], u[1]->lad.s[i], u[0]->lad.s[i])
    P[h].s0 = ST(0), P[h].s1 = ST(1), P[h].s2 = ST(2), P[h].s3 = ST(3);
#undef ST
    P[h].id = _mm256_set_pd(1.0 / u[3]->lad.c.drive, 1.0 / u[2]->lad.c.drive,
                            1.0 / u[1]->lad.c.drive, 1.0 / u[0]->lad.c.drive);
    P[h].drive =
        _mm256_set_pd(u[3]->lad.c.drive, u[2]->lad.c.drive, u[1]->lad.c.drive, u[0]->lad.c.drive);
  }
  for (size_t j = j0; j < j1; ++j) {
    ladder_step4(&P[0], v, j, lin);
    ladder_step4(&P[1], v + 4, j, lin);
  }
  for (int h = 0; h < 2; ++h) {
    double st[4][4];
    _mm256_storeu_pd(st[0], P[h].s0);
    _mm256_storeu_pd(st[1], P[h].s1);
    _mm256_storeu_pd(st[2], P[h].s2);
    _mm256_storeu_pd(st[3], P[h].s3);
    for (int q = 0; q < 4; ++q)
      for (int i = 0; i < 4; ++i)
        v[4 * h + q]->lad.s[i] = sg_dsp_flush(st[i][q]);
  }
}
#endif

/* The ladder recursions of nw (1..4) voices over samples [j0, j1) of their stretch, interleaved:
 * independent chains the CPU overlaps (each sample of one voice is a chain of ~100 cycles of
 * latency but a third of that in throughput). */
static void ladder_scalar(sg__sub_voice *const *w, int nw, size_t j0, size_t j1) {
  const int lin = w[0]->lad.c.linear;
  double s[4][4], id[4];
  for (int q = 0; q < nw; ++q) {
    memcpy(s[q], w[q]->lad.s, sizeof s[q]);
    id[q] = 1.0 / w[q]->lad.c.drive;
  }
  /* Undo the drive for small signals so drive changes colour, not level. */
#define LADDER_ONE(q)                                                                              \
  do {                                                                                             \
    const sg__lad_coef c = {w[q]->ux[j], w[q]->a0[j], w[q]->a1[j], w[q]->a2[j],                    \
                            w[q]->a3[j], w[q]->G[j],  w[q]->H[j]};                                 \
    w[q]->y[j] = (float)(sg__ladder_step(s[q], &c, (double)w[q]->x[j], lin) * id[q]);              \
  } while (0)
  switch (nw) {
  case 4:
    for (size_t j = j0; j < j1; ++j) {
      LADDER_ONE(0);
      LADDER_ONE(1);
      LADDER_ONE(2);
      LADDER_ONE(3);
    }
    break;
  case 3:
    for (size_t j = j0; j < j1; ++j) {
      LADDER_ONE(0);
      LADDER_ONE(1);
      LADDER_ONE(2);
    }
    break;
  case 2:
    for (size_t j = j0; j < j1; ++j) {
      LADDER_ONE(0);
      LADDER_ONE(1);
    }
    break;
  default:
    for (size_t j = j0; j < j1; ++j)
      LADDER_ONE(0);
    break;
  }
#undef LADDER_ONE
  for (int q = 0; q < nw; ++q)
    for (int i = 0; i < 4; ++i)
      w[q]->lad.s[i] = sg_dsp_flush(s[q][i]);
}

/* The mono voice's ladder. Alone, a sample costs the latency of its chain: tanh, the four
 * stages, then the next sample's feedback sum. Unrolling one sample shortens it to the tanh and
 * a multiply-subtract: with the state s' before the previous sample, its tanh output t' and its
 * G', H', the next input u = ux x - sum a_i s_i (sg__ladder_step) is
 *   u = (ux x - sum_k w_k s'_k) - Q t',
 *   r_3 = a_3, r_k = a_k + G' r_(k+1), w_k = 2 H' r_k - a_k, Q = 2 G' r_0,
 * where the first part depends on the older state only and runs beside the previous tanh. The
 * same filter as sg__ladder_step up to rounding (1e-16 relative per sample). */
static void ladder_serial(sg__sub_voice *w, size_t j0, size_t j1) {
  const int lin = w->lad.c.linear;
  const double id = 1.0 / w->lad.c.drive;
  double s0 = w->lad.s[0], s1 = w->lad.s[1], s2 = w->lad.s[2], s3 = w->lad.s[3];
  double p0 = w->sp[0], p1 = w->sp[1], p2 = w->sp[2], p3 = w->sp[3];
  double tp = w->tp, Gp = w->Gp, Hp = w->Hp;
  for (size_t j = j0; j < j1; ++j) {
    const double r3 = w->a3[j], r2 = w->a2[j] + Gp * r3, r1 = w->a1[j] + Gp * r2,
                 r0 = w->a0[j] + Gp * r1, h = Hp + Hp;
    const double part = ((h * r0 - w->a0[j]) * p0 + (h * r1 - w->a1[j]) * p1) +
                        ((h * r2 - w->a2[j]) * p2 + (h * r3 - r3) * p3);
    double u = (w->ux[j] * (double)w->x[j] - part) - ((Gp + Gp) * r0) * tp;
    if (!lin)
      u = sg__tanh(u);
    const double G = w->G[j], H = w->H[j];
    const double y1 = G * u + H * s0, y2 = G * y1 + H * s1, y3 = G * y2 + H * s2,
                 y4 = G * y3 + H * s3;
    p0 = s0, p1 = s1, p2 = s2, p3 = s3;
    s0 = (y1 + y1) - s0, s1 = (y2 + y2) - s1, s2 = (y3 + y3) - s2, s3 = (y4 + y4) - s3;
    tp = u, Gp = G, Hp = H;
    w->y[j] = (float)(y4 * id);
  }
  w->lad.s[0] = sg_dsp_flush(s0), w->lad.s[1] = sg_dsp_flush(s1);
  w->lad.s[2] = sg_dsp_flush(s2), w->lad.s[3] = sg_dsp_flush(s3);
  w->sp[0] = sg_dsp_flush(p0), w->sp[1] = sg_dsp_flush(p1);
  w->sp[2] = sg_dsp_flush(p2), w->sp[3] = sg_dsp_flush(p3);
  w->tp = sg_dsp_flush(tp), w->Gp = Gp, w->Hp = Hp;
}

/* nw (1..LADDER_GROUP) voices: quads (five or more voices, AVX2 build) or lane pairs where the
 * target has them, else scalar fours. */
#define LADDER_GROUP 8
static void ladder_group(sg__sub_voice *const *w, int nw, size_t j0, size_t j1, int avx2) {
#if SG_DSP_AVX2
  if (avx2 && nw >= 5) {
    ladder_quads(w, nw, j0, j1);
    return;
  }
#endif
  for (int q = 0; q < nw; ++q)
    voice_coefs(w[q], j0, j1, avx2);
  if (ladder_packed(w, nw, j0, j1))
    return;
  for (int q = 0; q < nw; q += 4)
    ladder_scalar(w + q, nw - q < 4 ? nw - q : 4, j0, j1);
}

/* The voices' ladders in groups of LADDER_GROUP: each group over its common length, then the
 * rest of each longer one alone. */
static void ladders(sg__sub_voice *const *live, int nl, int avx2) {
  if (nl == 1 && live[0]->serial) {
    voice_coefs(live[0], 0, live[0]->run, avx2);
    ladder_serial(live[0], 0, live[0]->run);
    return;
  }
  for (int i = 0; i < nl; i += LADDER_GROUP) {
    const int nw = nl - i < LADDER_GROUP ? nl - i : LADDER_GROUP;
    size_t common = live[i]->run;
    for (int q = 1; q < nw; ++q)
      common = live[i + q]->run < common ? live[i + q]->run : common;
    ladder_group(live + i, nw, 0, common, avx2);
    for (int q = 0; q < nw; ++q)
      if (live[i + q]->run > common)
        ladder_group(live + i + q, 1, common, live[i + q]->run, avx2);
  }
}

void sg__sub_voices_render(sg__sub_voice *const *v, int nv, const sg__sub_patch *p, double rate,
                           float *out, size_t n) {
  const int avx2 = sg_dsp_avx2();
  for (size_t i0 = 0; i0 < n; i0 += SG__SUB_RUN) {
    const size_t bn = n - i0 < SG__SUB_RUN ? n - i0 : SG__SUB_RUN;
    sg__sub_voice *live[SG__SUB_MAX_VOICES];
    int nl = 0;
    for (int i = 0; i < nv && nl < SG__SUB_MAX_VOICES; ++i)
      if (sg_adsr_active(&v[i]->aenv)) {
        voice_prepare(v[i], p, rate, bn, avx2);
        live[nl++] = v[i];
      }
    if (nl == 0)
      return;
    ladders(live, nl, avx2);
    /* Voices add in their order, as each sample's sum always did. */
    for (int i = 0; i < nl; ++i) {
      const sg__sub_voice *w = live[i];
      float *o = out + i0;
      for (size_t j = 0; j < w->run; ++j)
        o[j] += w->y[j] * w->ae[j] * w->al[j];
    }
  }
}

/* ---- patches ---------------------------------------------------------------------------- */

static void sub_defaults(sg__sub_patch *p) {
  memset(p, 0, sizeof *p);
  p->osc1_level = 1;
  p->pulse_width = 0.5;
  p->cutoff = 1000;
  p->drive = 1;
  p->key_track = 0.5;
  p->filter_attack = 0.002;
  p->filter_decay = 0.3;
  p->filter_sustain = 0.2;
  p->filter_release = 0.2;
  p->amp_attack = 0.002;
  p->amp_decay = 0.3;
  p->amp_sustain = 0.8;
  p->amp_release = 0.1;
}

const char *const sg__mono_patches[] = {"moog_bass", "sub", "acid", NULL};
const char *const sg__poly_patches[] = {"pad", "brass", "arp_pluck", NULL};
/* Each patch in words for NOTES.txt (sg_synth_words), in the order of the names above. */
const char *const sg__mono_words[] = {
    "Minimoog-style mono synth bass: three oscillators into a 24 dB/octave ladder filter with "
    "its own envelope",
    "Minimoog-style mono sub bass: round low oscillators into a 24 dB/octave ladder filter kept "
    "low",
    "acid mono bass: a sawtooth into a resonant 24 dB/octave ladder filter swept by a snappy "
    "envelope",
    NULL};
const char *const sg__poly_words[] = {
    "Prophet-5-style polyphonic synth pad: detuned oscillators into a ladder filter, slow "
    "attack and release",
    "Prophet-5-style polyphonic synth brass: sawtooth oscillators with a filter envelope that "
    "opens on each note",
    "Prophet-5-style polyphonic plucked synth for arpeggios: short filter and amplitude "
    "envelopes",
    NULL};

static void mono_patch(int idx, sg__sub_patch *p) {
  sub_defaults(p);
  switch (idx) {
  case 0: /* classic: two saws and a square an octave down, punchy filter contour */
    p->osc1_wave = 0;
    p->osc2_wave = 0;
    p->osc3_wave = 1;
    p->osc1_level = 1;
    p->osc2_level = 0.8;
    p->osc3_level = 0.6;
    p->osc2_detune = 7;
    p->osc3_octave = -1;
    p->cutoff = 180;
    p->resonance = 0.35;
    p->drive = 1.5;
    p->key_track = 0.5;
    p->filter_env = 3.2;
    p->filter_attack = 0.001;
    p->filter_decay = 0.22;
    p->filter_sustain = 0.15;
    p->filter_release = 0.12;
    p->amp_attack = 0.0015;
    p->amp_decay = 0.4;
    p->amp_sustain = 0.85;
    p->amp_release = 0.06;
    p->velocity_to_filter = 1.5;
    p->glide = 0.04;
    p->gain = 5.5;
    break;
  case 1: /* sub: triangle + sine, filter open, almost pure fundamental */
    p->osc1_wave = 2;
    p->osc2_wave = 3;
    p->osc3_wave = 3;
    p->osc1_level = 0.6;
    p->osc2_level = 1;
    p->osc3_level = 0;
    p->cutoff = 400;
    p->resonance = 0;
    p->drive = 1;
    p->key_track = 1;
    p->filter_env = 0.5;
    p->filter_decay = 0.2;
    p->filter_sustain = 0.5;
    p->amp_attack = 0.003;
    p->amp_decay = 0.5;
    p->amp_sustain = 0.9;
    p->amp_release = 0.08;
    p->glide = 0.03;
    p->gain = 5.5;
    break;
  default: /* acid: one saw, high resonance, fast decaying envelope, slides */
    p->osc1_wave = 0;
    p->osc1_level = 1;
    p->osc2_level = 0;
    p->osc3_level = 0;
    p->cutoff = 260;
    p->resonance = 0.82;
    p->drive = 2.5;
    p->key_track = 0.3;
    p->filter_env = 4.0;
    p->filter_attack = 0.0008;
    p->filter_decay = 0.18;
    p->filter_sustain = 0.0;
    p->filter_release = 0.1;
    p->amp_attack = 0.001;
    p->amp_decay = 0.5;
    p->amp_sustain = 0.9;
    p->amp_release = 0.03;
    p->velocity_to_filter = 1.5;
    p->glide = 0.0;
    p->gain = 3.5;
    break;
  }
}

static void poly_patch(int idx, sg__sub_patch *p) {
  sub_defaults(p);
  switch (idx) {
  case 0: /* pad: two detuned saws + sub square, slow contours, drift */
    p->osc1_wave = 0;
    p->osc2_wave = 0;
    p->osc3_wave = 1;
    p->osc1_level = 1;
    p->osc2_level = 1;
    p->osc3_level = 0.35;
    p->osc2_detune = 9;
    p->osc3_octave = -1;
    p->pulse_width = 0.5;
    p->cutoff = 900;
    p->resonance = 0.2;
    p->key_track = 0.4;
    p->filter_env = 1.2;
    p->filter_attack = 0.8;
    p->filter_decay = 1.5;
    p->filter_sustain = 0.5;
    p->filter_release = 1.2;
    p->amp_attack = 0.6;
    p->amp_decay = 1.0;
    p->amp_sustain = 0.85;
    p->amp_release = 1.2;
    p->drift = 4;
    p->gain = 4.5;
    break;
  case 1: /* brass: saw + pulse, filter swell with overshoot */
    p->osc1_wave = 0;
    p->osc2_wave = 1;
    p->osc3_wave = 1;
    p->osc1_level = 1;
    p->osc2_level = 0.7;
    p->osc3_level = 0.25;
    p->osc2_detune = 5;
    p->osc3_octave = -1;
    p->pulse_width = 0.4;
    p->cutoff = 500;
    p->resonance = 0.15;
    p->key_track = 0.6;
    p->filter_env = 2.6;
    p->filter_attack = 0.08;
    p->filter_decay = 0.5;
    p->filter_sustain = 0.55;
    p->filter_release = 0.25;
    p->amp_attack = 0.03;
    p->amp_decay = 0.4;
    p->amp_sustain = 0.9;
    p->amp_release = 0.25;
    p->velocity_to_filter = 0.8;
    p->drift = 3;
    p->gain = 3.5;
    break;
  default: /* arp_pluck: short filter blip on a pulse + saw */
    p->osc1_wave = 1;
    p->osc2_wave = 0;
    p->osc3_wave = 1;
    p->osc1_level = 1;
    p->osc2_level = 0.6;
    p->osc3_level = 0.2;
    p->osc2_detune = 6;
    p->osc3_octave = -1;
    p->pulse_width = 0.3;
    p->cutoff = 350;
    p->resonance = 0.35;
    p->key_track = 0.7;
    p->filter_env = 4.0;
    p->filter_attack = 0.001;
    p->filter_decay = 0.16;
    p->filter_sustain = 0.0;
    p->filter_release = 0.15;
    p->amp_attack = 0.001;
    p->amp_decay = 0.35;
    p->amp_sustain = 0.0;
    p->amp_release = 0.2;
    p->velocity_to_filter = 1.0;
    p->drift = 2;
    p->gain = 6.5;
    break;
  }
}

/* ---- mono (Minimoog-style) -------------------------------------------------------------- */

#define MONO_STACK 32

typedef struct mono_held {
  uint32_t id;
  int key;
  float vel;
} mono_held;

typedef struct sg__mono {
  sg__sub_patch p;
  double rate;
  uint64_t seed;
  sg__sub_voice v;
  mono_held stack[MONO_STACK]; /* held notes, last = sounding (last-note priority) */
  int nheld;
  double glide_coef;
} sg__mono;

static double glide_coef(double tau, double rate) {
  if (tau <= 0)
    return 0;
  return exp(-(double)SG__CTRL / (tau * rate));
}

static void mono_reset(void *st) {
  sg__mono *m = st;
  sg__sub_voice_init(&m->v, &m->p, m->rate, m->seed);
  m->v.serial = 1;
  m->nheld = 0;
}

static void mono_note_on(void *st, const sg_note *n, uint32_t id) {
  sg__mono *m = st;
  int legato = m->nheld > 0;
  if (m->nheld == MONO_STACK) { /* forget the oldest held note */
    memmove(m->stack, m->stack + 1, (MONO_STACK - 1) * sizeof m->stack[0]);
    --m->nheld;
  }
  m->stack[m->nheld++] = (mono_held){id, n->key, n->velocity};
  int slide = (n->flags & SG_NOTE_SLIDE) != 0;
  m->v.target_note = n->key;
  if (slide || (legato && m->p.glide > 0)) {
    double tau = m->p.glide > 0 ? m->p.glide : 0.05; /* a slide without glide set: 303-ish */
    m->v.glide_coef = glide_coef(tau, m->rate);
  } else {
    m->v.glide_coef = 0;
    m->v.note = n->key;
    m->v.ctrl = 0; /* retune now */
  }
  m->v.velocity = n->velocity;
  if (!legato) { /* legato notes do not retrigger the contours, as on the Minimoog */
    sg_adsr_gate_on(&m->v.fenv);
    sg_adsr_gate_on(&m->v.aenv);
  }
}

static void mono_note_off(void *st, uint32_t id) {
  sg__mono *m = st;
  for (int i = 0; i < m->nheld; ++i) {
    if (m->stack[i].id != id)
      continue;
    int was_top = i == m->nheld - 1;
    memmove(m->stack + i, m->stack + i + 1, (size_t)(m->nheld - i - 1) * sizeof m->stack[0]);
    --m->nheld;
    if (m->nheld == 0) {
      sg_adsr_gate_off(&m->v.fenv);
      sg_adsr_gate_off(&m->v.aenv);
    } else if (was_top) { /* fall back to the previous held note */
      m->v.target_note = m->stack[m->nheld - 1].key;
      m->v.glide_coef = glide_coef(m->p.glide, m->rate);
      if (m->v.glide_coef == 0) {
        m->v.note = m->v.target_note;
        m->v.ctrl = 0;
      }
    }
    return;
  }
}

static void mono_render(void *st, float *l, float *r, size_t n) {
  sg__mono *m = st;
  memset(l, 0, n * sizeof *l);
  sg__sub_voice *v = &m->v;
  sg__sub_voices_render(&v, 1, &m->p, m->rate, l, n);
  memcpy(r, l, n * sizeof *r);
}

static int64_t mono_tail(const void *st) {
  const sg__mono *m = st;
  return (int64_t)((m->p.amp_release * 1.2 + 0.05) * m->rate);
}

static void sub_destroy(void *st) { free(st); }

static double mono_attack(const void *st) { return ((const sg__mono *)st)->p.amp_attack; }

static const sg__inst_vt mono_vt = {mono_note_on, mono_note_off, mono_render, mono_reset,
                                    sub_destroy,  mono_tail,     mono_attack};

sg_status sg__mono_create(const char *patch, const sg_param_set *ov, double rate, uint64_t seed,
                          void **st, const sg__inst_vt **vt, sg_diag *d) {
  int idx = sg__patch_index(sg__mono_patches, patch, "moog_bass", d);
  if (idx < 0)
    return SG_E_NOTFOUND;
  sg__mono *m = calloc(1, sizeof *m);
  if (!m)
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory creating the moog_bass instrument");
  mono_patch(idx, &m->p);
  sg_status s = sg__apply_overrides(&m->p, sg__sub_params, sg__sub_nparams, ov, "moog_bass", d);
  if (s != SG_OK) {
    free(m);
    return s;
  }
  m->rate = rate;
  m->seed = seed;
  mono_reset(m);
  *st = m;
  *vt = &mono_vt;
  return SG_OK;
}

/* ---- poly (Prophet-5-style) -------------------------------------------------------------- */

#define POLY_VOICES 8

typedef struct poly_slot {
  uint32_t id;
  int key;
  int held;
  uint64_t on_order, off_order; /* allocation clock at note-on / note-off */
} poly_slot;

typedef struct sg__poly {
  sg__sub_patch p;
  double rate;
  uint64_t seed;
  sg__sub_voice v[POLY_VOICES];
  poly_slot slot[POLY_VOICES];
  uint64_t clock;
} sg__poly;

static void poly_reset(void *st) {
  sg__poly *q = st;
  for (int i = 0; i < POLY_VOICES; ++i) {
    sg__sub_voice_init(&q->v[i], &q->p, q->rate, q->seed * 31 + (uint64_t)i + 1);
    /* Each voice card is slightly out of tune with the others (seeded, +-drift/2 cents). */
    q->v[i].drift_cents = sg_rng_range(&q->v[i].rng, -0.5, 0.5) * q->p.drift;
    q->v[i].drift_target = q->v[i].drift_cents;
    memset(&q->slot[i], 0, sizeof q->slot[i]);
  }
  q->clock = 0;
}

/* A free voice; else the one released longest ago; else the one started longest ago. */
static int poly_pick(const sg__poly *q) {
  int best = -1;
  for (int i = 0; i < POLY_VOICES; ++i)
    if (!sg_adsr_active(&q->v[i].aenv))
      return i;
  for (int i = 0; i < POLY_VOICES; ++i)
    if (!q->slot[i].held && (best < 0 || q->slot[i].off_order < q->slot[best].off_order))
      best = i;
  if (best >= 0)
    return best;
  best = 0;
  for (int i = 1; i < POLY_VOICES; ++i)
    if (q->slot[i].on_order < q->slot[best].on_order)
      best = i;
  return best;
}

static void poly_note_on(void *st, const sg_note *n, uint32_t id) {
  sg__poly *q = st;
  int i = poly_pick(q);
  sg__sub_voice *v = &q->v[i];
  q->slot[i] = (poly_slot){id, n->key, 1, ++q->clock, 0};
  v->target_note = v->note = n->key;
  v->glide_coef = 0;
  v->velocity = n->velocity;
  v->ctrl = 0;
  sg_adsr_gate_on(&v->fenv);
  sg_adsr_gate_on(&v->aenv);
}

static void poly_note_off(void *st, uint32_t id) {
  sg__poly *q = st;
  for (int i = 0; i < POLY_VOICES; ++i)
    if (q->slot[i].held && q->slot[i].id == id) {
      q->slot[i].held = 0;
      q->slot[i].off_order = ++q->clock;
      sg_adsr_gate_off(&q->v[i].fenv);
      sg_adsr_gate_off(&q->v[i].aenv);
    }
}

static void poly_render(void *st, float *l, float *r, size_t n) {
  sg__poly *q = st;
  memset(l, 0, n * sizeof *l);
  sg__sub_voice *v[POLY_VOICES];
  for (int i = 0; i < POLY_VOICES; ++i)
    v[i] = &q->v[i];
  sg__sub_voices_render(v, POLY_VOICES, &q->p, q->rate, l, n);
  memcpy(r, l, n * sizeof *r);
}

static int64_t poly_tail(const void *st) {
  const sg__poly *q = st;
  return (int64_t)((q->p.amp_release * 1.2 + 0.05) * q->rate);
}

static double poly_attack(const void *st) { return ((const sg__poly *)st)->p.amp_attack; }

static const sg__inst_vt poly_vt = {poly_note_on, poly_note_off, poly_render, poly_reset,
                                    sub_destroy,  poly_tail,     poly_attack};

sg_status sg__poly_create(const char *patch, const sg_param_set *ov, double rate, uint64_t seed,
                          void **st, const sg__inst_vt **vt, sg_diag *d) {
  int idx = sg__patch_index(sg__poly_patches, patch, "prophet_poly", d);
  if (idx < 0)
    return SG_E_NOTFOUND;
  sg__poly *q = calloc(1, sizeof *q);
  if (!q)
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory creating the prophet_poly instrument");
  poly_patch(idx, &q->p);
  sg_status s = sg__apply_overrides(&q->p, sg__sub_params, sg__sub_nparams, ov, "prophet_poly", d);
  if (s != SG_OK) {
    free(q);
    return s;
  }
  q->rate = rate;
  q->seed = seed;
  poly_reset(q);
  *st = q;
  *vt = &poly_vt;
  return SG_OK;
}
