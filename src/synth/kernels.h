/* Per-sample kernels of the synth building blocks (oscillator, ADSR, ladder) and the fast
 * elementary functions they use. dsp.c exports them as sg_osc_tick, sg_adsr_tick, ...; the
 * voices inline them so a voice's loop runs without a call per oscillator and sample.
 *
 * Elementary functions: libm's exp/tanh/sin are exact to an ulp but cost 20-60 ns with their
 * special-case branches, per sample. Here each argument is reduced by an exact rounding to the
 * nearest integer (the 1.5 * 2^52 shift, round-to-nearest mode) and a polynomial interpolating
 * the function at Chebyshev nodes (near-minimax, Estrin evaluation) covers the reduced range:
 *  - 2^f, |f| <= 0.5: degree 8, relative error < 1.1e-12 (exactly 1 at f = 0);
 *  - sin(2 pi w), 0 <= w <= 0.25 (the rest by symmetry): odd degree 13, error < 1.2e-12.
 * Both far below the float samples' resolution (6e-8); tanh (below) is a rational fit. Plain
 * double arithmetic in a fixed order, so the results are the same on every x86-64 build. */
#ifndef SG_SYNTH_KERNELS_H
#define SG_SYNTH_KERNELS_H

#include "stemgate/dsp.h"
#include "stemgate/synth.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#define SG__ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define SG__ALWAYS_INLINE inline
#endif

#define SG__RND 6755399441055744.0 /* 1.5 * 2^52: (x + RND) - RND rounds |x| < 2^51 */

/* x rounded to the nearest integer (ties to even), |x| < 2^51. */
static inline double sg__round(double x) { return (x + SG__RND) - SG__RND; }

/* e^x for x in about [-708, 709]. */
static inline double sg__exp(double x) { return sg_fast_exp2(x * 1.4426950408889634); }

/* sin(2 pi t) for any |t| < 2^50 (t in cycles). */
static SG__ALWAYS_INLINE double sg__sin2pi(double t) {
  const double u = t - sg__round(t);            /* [-0.5, 0.5] */
  const double w = 0.25 - fabs(0.25 - fabs(u)); /* [0, 0.25]: sin(2 pi u) = +-sin(2 pi w) */
  const double w2 = w * w, w4 = w2 * w2;
  const double q =
      (6.283185307179586 - 41.34170224039522 * w2) +
      (81.60524926923539 - 76.70585783997653 * w2) * w4 +
      ((42.05851686457312 - 15.087789627470976 * w2) + 3.703840847369518 * w4) * (w4 * w4);
  const double s = w * q;
  return u < 0 ? -s : s;
}

/* tanh x for any x: x P(x^2) / Q(x^2), degrees 13/6, a minimax-style fit on |x| <= 7.9053
 * (Eigen's single-precision fast tanh, evaluated here in double) with x clamped there.
 * Absolute error < 2.6e-8 for |x| <= 3, < 2.7e-7 anywhere (at the clamp, where tanh is
 * 1 - 2.7e-7); slope at 0 is 1 - 1.3e-7. Odd exactly. One division and no exponent tricks:
 * about two thirds of the latency of (1 - e^-2x) / (1 + e^-2x), which is what the mono
 * ladder's chain waits on each sample. sub.c's tanh2 repeats these operations in order. */
#define SG__TANH_CLAMP 7.90531110763549805
#define SG__TANH_P(x2, x4, x8)                                                                     \
  (((4.89352455891786e-03 + 6.37261928875436e-04 * (x2)) +                                         \
    (1.48572235717979e-05 + 5.12229709037114e-08 * (x2)) * (x4)) +                                 \
   ((-8.60467152213735e-11 + 2.00018790482477e-13 * (x2)) + -2.76076847742355e-16 * (x4)) * (x8))
#define SG__TANH_Q(x2, x4)                                                                         \
  ((4.89352518554385e-03 + 2.26843463243900e-03 * (x2)) +                                          \
   (1.18534705686654e-04 + 1.19825839466702e-06 * (x2)) * (x4))
static SG__ALWAYS_INLINE double sg__tanh(double x) {
  x = x > SG__TANH_CLAMP ? SG__TANH_CLAMP : (x < -SG__TANH_CLAMP ? -SG__TANH_CLAMP : x);
  const double x2 = x * x, x4 = x2 * x2, x8 = x4 * x4;
  return (x * SG__TANH_P(x2, x4, x8)) / SG__TANH_Q(x2, x4);
}

/* ---- oscillator ----------------------------------------------------------------------------- */

/* Two-point PolyBLEP residual for a unit-height (+2 for a saw's -2 jump, sign handled by the
 * caller) step at phase 0, t = phase in cycles, dt = phase increment. It is the difference
 * between a band-limited step (integrated triangular "sinc" approximation) and the trivial
 * step, non-zero only one sample on either side of the discontinuity. */
static SG__ALWAYS_INLINE double sg__polyblep(double t, double dt) {
  if (t < dt) {
    double x = t / dt;
    return x + x - x * x - 1.0;
  }
  if (t > 1.0 - dt) {
    double x = (t - 1.0) / dt;
    return x * x + x + x + 1.0;
  }
  return 0.0;
}

/* Four-point BLEP residual from the integrated cubic B-spline (the B-spline is the
 * interpolation kernel of Välimäki & Huovilainen's higher-order polynomial BLEPs): x is the
 * time of the sample relative to the discontinuity in samples, in (-2, 2). Returns B(x) - H(x)
 * for a unit step, B being the integral of the cubic B-spline. Its sinc^4 spectrum suppresses
 * aliases much further than the two-point residual (sinc^2), at the price of a gentle high roll-
 * off (-2.5 dB at 10 kHz, 48 kHz rate). */
static SG__ALWAYS_INLINE double sg__blep4(double x) {
  if (x < -1.0) {
    double u = 2.0 + x, u2 = u * u;
    return u2 * u2 * (1.0 / 24.0);
  }
  if (x < 0.0) {
    double x2 = x * x;
    return 0.5 + x * (2.0 / 3.0) - x2 * x * (1.0 / 3.0) - x2 * x2 * 0.125;
  }
  if (x < 1.0) {
    double x2 = x * x;
    return 0.5 + x * (2.0 / 3.0) - x2 * x * (1.0 / 3.0) + x2 * x2 * 0.125 - 1.0;
  }
  double u = 2.0 - x, u2 = u * u;
  return -u2 * u2 * (1.0 / 24.0);
}

/* Residual of a unit step at phase 0 for a sample at phase t, increment dt: four-point while
 * two samples fit on each side of the step within a cycle (dt < 0.2, i.e. below ~9.6 kHz at
 * 48 kHz), else the two-point PolyBLEP (rescaled to a unit step). */
static SG__ALWAYS_INLINE double sg__step_residual(double t, double dt) {
  if (dt < 0.2) {
    if (t < 2.0 * dt)
      return sg__blep4(t / dt);
    if (t > 1.0 - 2.0 * dt)
      return sg__blep4((t - 1.0) / dt);
    return 0.0;
  }
  return 0.5 * sg__polyblep(t, dt);
}

/* Two-point PolyBLAMP residual (integral of the PolyBLEP residual, for a unit change of slope
 * per sample): (1 - x)^3 / 6 after the corner, (1 + x)^3 / 6 before it. */
static SG__ALWAYS_INLINE double sg__polyblamp(double t, double dt) {
  if (t < dt) {
    double x = 1.0 - t / dt;
    return x * x * x * (1.0 / 6.0);
  }
  if (t > 1.0 - dt) {
    double x = 1.0 + (t - 1.0) / dt;
    return x * x * x * (1.0 / 6.0);
  }
  return 0.0;
}

/* The value of o as waveform w at phase t (cycles, [0, 1)): with w a constant the compiler drops
 * the switch (the voices' loops over one oscillator). */
static SG__ALWAYS_INLINE float sg__osc_value(sg_osc *o, sg_wave w, double t) {
  const double dt = o->dt;
  double y;
  switch (w) {
  case SG_WAVE_SAW: /* falls by 2 at phase 0 */
    y = 2.0 * t - 1.0 - 2.0 * sg__step_residual(t, dt);
    break;
  case SG_WAVE_SQUARE: {
    double t2 = t - o->pw;
    if (t2 < 0)
      t2 += 1.0;
    /* Rising edge (+2) at 0, falling edge (-2) at pw; the mean is removed so PWM adds no DC. */
    y = (t < o->pw ? 1.0 : -1.0) + 2.0 * sg__step_residual(t, dt) -
        2.0 * sg__step_residual(t2, dt) - (2.0 * o->pw - 1.0);
    break;
  }
  case SG_WAVE_TRIANGLE: {
    double t2 = t + 0.5;
    if (t2 >= 1.0)
      t2 -= 1.0;
    /* Minimum at phase 0 (slope changes by +8 dt per sample), maximum at 0.5 (-8 dt). */
    y = 1.0 - 4.0 * fabs(t - 0.5) + 8.0 * dt * (sg__polyblamp(t, dt) - sg__polyblamp(t2, dt));
    break;
  }
  case SG_WAVE_SINE:
    y = sg__sin2pi(t);
    break;
  case SG_WAVE_NOISE:
    y = 2.0 * sg_rng_uniform(&o->rng) - 1.0;
    break;
  case SG_WAVE_NAIVE_SAW:
  default:
    y = 2.0 * t - 1.0;
    break;
  }
  return (float)y;
}

/* sg_osc_set_freq, inline for the voices' control ticks. */
static SG__ALWAYS_INLINE void sg__osc_set_freq(sg_osc *o, double hz) {
  double dt = hz / o->rate;
  if (!(dt > 0))
    dt = 0;
  if (dt > 0.49)
    dt = 0.49;
  o->dt = dt;
}

/* One sample of o as waveform w, then the phase advances. */
static SG__ALWAYS_INLINE float sg__osc_wave(sg_osc *o, sg_wave w) {
  double t = o->phase;
  const float y = sg__osc_value(o, w, t);
  t += o->dt;
  if (t >= 1.0)
    t -= 1.0;
  o->phase = t;
  return y;
}

static inline float sg__osc_tick(sg_osc *o) { return sg__osc_wave(o, o->wave); }

/* ---- ADSR ------------------------------------------------------------------------------------ */

/* One tick of e from value v in stage *st: the next value (e itself is not written, so a loop
 * keeps value and stage in registers). */
static SG__ALWAYS_INLINE double sg__adsr_next(const sg_adsr *e, double v, sg_adsr_stage *st) {
  switch (*st) {
  case SG_ADSR_ATTACK:
    v = e->a_base + v * e->a_coef;
    if (v >= 1.0) {
      v = 1.0;
      *st = SG_ADSR_DECAY;
    }
    return v;
  case SG_ADSR_DECAY:
    v = e->d_base + v * e->d_coef;
    if (v <= e->c.sustain) {
      v = e->c.sustain;
      *st = SG_ADSR_SUSTAIN;
    }
    return v;
  case SG_ADSR_SUSTAIN:
    v = e->c.sustain;
    if (v <= 0)
      *st = SG_ADSR_IDLE;
    return v;
  case SG_ADSR_RELEASE:
    v = e->r_base + v * e->r_coef;
    if (v <= 0) {
      v = 0;
      *st = SG_ADSR_IDLE;
    }
    return v;
  case SG_ADSR_IDLE:
  default:
    return 0;
  }
}

static inline float sg__adsr_tick(sg_adsr *e) {
  e->value = sg__adsr_next(e, e->value, &e->stage);
  return (float)e->value;
}

/* Up to n ticks of a into ao and of f into fo (the values sg__adsr_tick returns), stopping after
 * the tick on which a turns idle (an a idle from the start runs all n); returns the ticks run.
 * One loop for the two envelopes (a voice's amplitude and filter contours): each tick is a
 * multiply-add chain, and two independent chains overlap. */
static inline size_t sg__adsr_run2(sg_adsr *a, float *ao, sg_adsr *f, float *fo, size_t n) {
  double va = a->value, vf = f->value;
  sg_adsr_stage sa = a->stage, sf = f->stage;
  const int was_idle = sa == SG_ADSR_IDLE;
  size_t j = 0;
  while (j < n) {
    va = sg__adsr_next(a, va, &sa);
    vf = sg__adsr_next(f, vf, &sf);
    ao[j] = (float)va;
    fo[j++] = (float)vf;
    if (sa == SG_ADSR_IDLE && !was_idle)
      break;
  }
  a->value = va, a->stage = sa;
  f->value = vf, f->stage = sf;
  return j;
}

/* ---- DX7 envelope -----------------------------------------------------------------------------
 */

#define SG__DX_FLOOR_DB (-96.0)
/* Starts segment seg (0..3 the rates/levels, 4 release, 5 done) from the current level. */
void sg__dx_start_seg(sg_dxenv *e, int seg);

/* e's level has reached its segment's target: the next segment (the sustain holds; the release
 * ends). */
static inline void sg__dx_arrive(sg_dxenv *e) {
  if (e->seg < 2)
    sg__dx_start_seg(e, e->seg + 1);
  else if (e->seg == 2)
    sg__dx_start_seg(e, 3);
  else if (e->seg == 4)
    e->seg = 5;
}

static inline int sg__dx_moving(const sg_dxenv *e) { return e->seg < 5 && e->seg != 3; }
/* sg_dxenv_active's test: released and below -90 dB. */
static inline int sg__dx_quiet(int seg, double db) { return seg >= 4 && db <= -90.0; }

/* The amplitude 10^(dB/20) of a level above the floor, as ln(10)/20 dB then e^x, in
 * sg_fast_exp2's range for every dB >= -7000 (so no clamp: its loops vectorise). */
static inline float sg__dx_amp(double db) {
  return (float)sg_fast_exp2_inrange(db * (0.11512925464970229) * 1.4426950408889634);
}

/* A level below which sg__dx_amp is 0.0f exactly (10^(-1000/20) is below the smallest float),
 * standing in for the floor's 0 in loops that convert runs of levels without a compare. */
#define SG__DX_SILENT_DB (-1000.0)

/* n samples of e's level (dB) movement and segment changes, without the amplitude: lv[j] the
 * level after sample j (the floor and below as SG__DX_SILENT_DB); quiet (if not NULL): quiet[j]
 * cleared where e is active after sample j. A segment moves its level one way until it reaches
 * the target (clamped there), so within one the level is a plain running sum: the loop's
 * dependency chain is one add, the arrival a predicted branch. */
static SG__ALWAYS_INLINE void sg__dxenv_levels(sg_dxenv *e, double *lv, unsigned char *quiet,
                                               size_t n) {
  double db = e->db, target = e->target, step = e->step;
  int seg = e->seg, moving = sg__dx_moving(e), dir = (db < target) - (db > target);
  for (size_t j = 0; j < n; ++j) {
    if (moving) {
      if (dir > 0)
        db += step;
      else if (dir < 0)
        db -= step;
      if (dir > 0 ? db >= target : db <= target) { /* there (dir 0: already) */
        e->db = target;
        sg__dx_arrive(e);
        db = e->db, target = e->target, step = e->step, seg = e->seg;
        moving = sg__dx_moving(e), dir = (db < target) - (db > target);
      }
    }
    lv[j] = db <= SG__DX_FLOOR_DB ? SG__DX_SILENT_DB : db;
    if (quiet)
      quiet[j] &= (unsigned char)sg__dx_quiet(seg, db);
  }
  e->db = db;
}

/* One sample of sg__dxenv_levels. */
static inline void sg__dxenv_step(sg_dxenv *e) {
  double lv;
  sg__dxenv_levels(e, &lv, NULL, 1);
}

static inline float sg__dxenv_tick(sg_dxenv *e) {
  sg__dxenv_step(e);
  if (e->db <= SG__DX_FLOOR_DB)
    return 0.0f;
  if (e->db != e->last_db) {
    e->last_db = e->db;
    e->last_amp = sg__dx_amp(e->db);
  }
  return e->last_amp;
}

/* ---- ladder ---------------------------------------------------------------------------------- */

/* The TPT ladder (Zavalishin ch. 5) rearranged for a short dependency chain per sample. With
 * G = g / (1 + g) each one-pole stage is y' = G y + (1 - G) s, s <- 2 y' - s, and the output of
 * the cascade is y4 = G^4 u + S, S = (G^3 s0 + G^2 s1 + G s2 + s3) / (1 + g). The zero-delay
 * feedback u = d x - k y4 solves to u = (d x - k S) / (1 + k G^4), computed as
 * u = ux x - (a0 s0 + a1 s1 + a2 s2 + a3 s3) with coefficients that do not depend on the state
 * (two divisions per coefficient change, outside the recursion). */
typedef struct sg__lad_coef {
  double ux, a0, a1, a2, a3, G, H;
} sg__lad_coef;

/* The ladder's arithmetic once, for any type with C's arithmetic operators: double, or a GCC
 * vector of doubles (sub.c's SSE2 pairs and AVX2 quads of voices), whose every lane then gets the
 * scalar's bits (the same operations in the same order; ISO C mode contracts nothing into FMAs).
 * SG__LADDER_COEFS sets the coefficients from g and k (T their type); SG__LADDER_IN is the pole
 * input before the saturator; SG__LADDER_POLES runs u through the four poles, updating the state
 * s0..s3, and sets y4 (the drive not yet undone). */
#define SG__LADDER_COEFS(T, g, k, drive, ux, a0, a1, a2, a3, G, H)                                 \
  do {                                                                                             \
    const T inv_ = 1.0 / (1.0 + (g)), G_ = (g)*inv_, G2_ = G_ * G_, G4_ = G2_ * G2_;               \
    const T rc_ = 1.0 / (1.0 + (k)*G4_), kr_ = (k)*rc_ * inv_;                                     \
    (ux) = (drive)*rc_;                                                                            \
    (a0) = kr_ * (G2_ * G_);                                                                       \
    (a1) = kr_ * G2_;                                                                              \
    (a2) = kr_ * G_;                                                                               \
    (a3) = kr_;                                                                                    \
    (G) = G_;                                                                                      \
    (H) = 1.0 - G_;                                                                                \
  } while (0)
#define SG__LADDER_IN(ux, x, a0, a1, a2, a3, s0, s1, s2, s3)                                       \
  ((ux) * (x) - (((a0) * (s0) + (a1) * (s1) + (a2) * (s2)) + (a3) * (s3)))
#define SG__LADDER_POLES(T, G, H, u, s0, s1, s2, s3, y4)                                           \
  do {                                                                                             \
    const T y1_ = (G) * (u) + (H) * (s0);                                                          \
    (s0) = (y1_ + y1_) - (s0);                                                                     \
    const T y2_ = (G)*y1_ + (H) * (s1);                                                            \
    (s1) = (y2_ + y2_) - (s1);                                                                     \
    const T y3_ = (G)*y2_ + (H) * (s2);                                                            \
    (s2) = (y3_ + y3_) - (s2);                                                                     \
    (y4) = (G)*y3_ + (H) * (s3);                                                                   \
    (s3) = ((y4) + (y4)) - (s3);                                                                   \
  } while (0)

static SG__ALWAYS_INLINE void sg__ladder_coef(double g, double k, double drive, sg__lad_coef *c) {
  SG__LADDER_COEFS(double, g, k, drive, c->ux, c->a0, c->a1, c->a2, c->a3, c->G, c->H);
}

/* One sample through the cascade from the state s; returns y4 (the drive not yet undone). */
static SG__ALWAYS_INLINE double sg__ladder_step(double *s, const sg__lad_coef *c, double x,
                                                int linear) {
  double u = SG__LADDER_IN(c->ux, x, c->a0, c->a1, c->a2, c->a3, s[0], s[1], s[2], s[3]);
  if (!linear)
    u = sg__tanh(u);
  double y4;
  SG__LADDER_POLES(double, c->G, c->H, u, s[0], s[1], s[2], s[3], y4);
  return y4;
}

/* Advances the per-block coefficient ramps of sg_ladder_set by one sample. */
static inline void sg__ladder_ramp(sg_ladder *f) {
  if (f->g_step != 0) {
    f->g += f->g_step;
    if ((f->g_step > 0 && f->g >= f->g_target) || (f->g_step < 0 && f->g <= f->g_target)) {
      f->g = f->g_target;
      f->g_step = 0;
    }
  }
  if (f->k_step != 0) {
    f->k += f->k_step;
    if ((f->k_step > 0 && f->k >= f->k_target) || (f->k_step < 0 && f->k <= f->k_target)) {
      f->k = f->k_target;
      f->k_step = 0;
    }
  }
}

static inline float sg__ladder_tick(sg_ladder *f, float xin) {
  sg__ladder_ramp(f);
  sg__lad_coef c;
  sg__ladder_coef(f->g, f->k, f->c.drive, &c);
  const double y = sg__ladder_step(f->s, &c, (double)xin, f->c.linear);
  for (int i = 0; i < 4; ++i)
    f->s[i] = sg_dsp_flush(f->s[i]);
  /* Undo the drive for small signals so drive changes colour, not level. */
  return (float)(y / f->c.drive);
}

#endif
