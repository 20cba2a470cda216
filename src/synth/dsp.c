/* Synth building blocks: PolyBLEP/PolyBLAMP oscillator, analog-style ADSR, DX7 rate/level
 * envelope, zero-delay-feedback ladder filter. Methods and citations in stemgate/synth.h. */
#include "stemgate/dsp.h"
#include "stemgate/synth.h"

#include <math.h>
#include <string.h>

/* ---- oscillator ----------------------------------------------------------------------------- */

/* Two-point PolyBLEP residual for a unit-height (+2 for a saw's -2 jump, sign handled by the
 * caller) step at phase 0, t = phase in cycles, dt = phase increment. It is the difference
 * between a band-limited step (integrated triangular "sinc" approximation) and the trivial
 * step, non-zero only one sample on either side of the discontinuity. */
static inline double polyblep(double t, double dt) {
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
static inline double blep4(double x) {
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
static inline double step_residual(double t, double dt) {
  if (dt < 0.2) {
    if (t < 2.0 * dt)
      return blep4(t / dt);
    if (t > 1.0 - 2.0 * dt)
      return blep4((t - 1.0) / dt);
    return 0.0;
  }
  return 0.5 * polyblep(t, dt);
}

/* Two-point PolyBLAMP residual (integral of the PolyBLEP residual, for a unit change of slope
 * per sample): (1 - x)^3 / 6 after the corner, (1 + x)^3 / 6 before it. */
static inline double polyblamp(double t, double dt) {
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

void sg_osc_config_init(sg_osc_config *c) {
  memset(c, 0, sizeof *c);
  c->wave = SG_WAVE_SAW;
  c->freq = 440.0;
  c->pulse_width = 0.5;
  c->phase = 0.0;
  c->seed = 1;
}

sg_status sg_osc_init(sg_osc *o, const sg_osc_config *c, double rate) {
  if (!o || !c || !(rate > 0))
    return SG_E_INVAL;
  memset(o, 0, sizeof *o);
  o->wave = c->wave;
  o->rate = rate;
  o->seed = c->seed;
  o->phase0 = c->phase - floor(c->phase);
  sg_osc_set_freq(o, c->freq);
  sg_osc_set_pw(o, c->pulse_width);
  sg_osc_reset(o);
  return SG_OK;
}

void sg_osc_reset(sg_osc *o) {
  o->phase = o->phase0;
  sg_rng_seed(&o->rng, o->seed, 0x6f7363u);
}

void sg_osc_set_freq(sg_osc *o, double hz) {
  double dt = hz / o->rate;
  if (!(dt > 0))
    dt = 0;
  if (dt > 0.49)
    dt = 0.49;
  o->dt = dt;
}

void sg_osc_set_pw(sg_osc *o, double pw) {
  if (!(pw >= 0.02))
    pw = 0.02;
  if (pw > 0.98)
    pw = 0.98;
  o->pw = pw;
}

float sg_osc_tick(sg_osc *o) {
  double t = o->phase, dt = o->dt, y;
  switch (o->wave) {
  case SG_WAVE_SAW: /* falls by 2 at phase 0 */
    y = 2.0 * t - 1.0 - 2.0 * step_residual(t, dt);
    break;
  case SG_WAVE_SQUARE: {
    double t2 = t - o->pw;
    if (t2 < 0)
      t2 += 1.0;
    /* Rising edge (+2) at 0, falling edge (-2) at pw; the mean is removed so PWM adds no DC. */
    y = (t < o->pw ? 1.0 : -1.0) + 2.0 * step_residual(t, dt) - 2.0 * step_residual(t2, dt) -
        (2.0 * o->pw - 1.0);
    break;
  }
  case SG_WAVE_TRIANGLE: {
    double t2 = t + 0.5;
    if (t2 >= 1.0)
      t2 -= 1.0;
    /* Minimum at phase 0 (slope changes by +8 dt per sample), maximum at 0.5 (-8 dt). */
    y = 1.0 - 4.0 * fabs(t - 0.5) + 8.0 * dt * (polyblamp(t, dt) - polyblamp(t2, dt));
    break;
  }
  case SG_WAVE_SINE:
    y = sin(2.0 * SG_PI * t);
    break;
  case SG_WAVE_NOISE:
    y = 2.0 * sg_rng_uniform(&o->rng) - 1.0;
    break;
  case SG_WAVE_NAIVE_SAW:
  default:
    y = 2.0 * t - 1.0;
    break;
  }
  t += dt;
  if (t >= 1.0)
    t -= 1.0;
  o->phase = t;
  return (float)y;
}

void sg_osc_process(sg_osc *o, float *out, size_t n) {
  for (size_t i = 0; i < n; ++i)
    out[i] = sg_osc_tick(o);
}

/* ---- ADSR --------------------------------------------------------------------------------- */

/* Exponential segment toward target + overshoot (an RC charging toward a voltage beyond the
 * comparator threshold), after N. Redmon's EarLevel ADSR: coef = exp(-ln((1 + r) / r) / n)
 * reaches the threshold in exactly n samples. */
static void seg_coef(double seconds, double ratio, double rate, double *coef) {
  double n = seconds * rate;
  if (n < 1.0)
    n = 1.0;
  *coef = exp(-log((1.0 + ratio) / ratio) / n);
}

#define ADSR_ATTACK_RATIO 0.3   /* aims at 1.3: the slightly convex analog attack */
#define ADSR_DECAY_RATIO 0.0001 /* decay/release reach their target (to -80 dB) in time */
#define ADSR_RELEASE_RATIO 0.01 /* release ends at 0 after `release` s (-40 dB then floor) */

void sg_adsr_config_init(sg_adsr_config *c) {
  c->attack = 0.005;
  c->decay = 0.2;
  c->sustain = 0.7;
  c->release = 0.3;
}

static double clampd(double v, double lo, double hi) {
  if (!(v >= lo))
    return lo;
  return v > hi ? hi : v;
}

sg_status sg_adsr_init(sg_adsr *e, const sg_adsr_config *c, double rate) {
  if (!e || !c || !(rate > 0))
    return SG_E_INVAL;
  memset(e, 0, sizeof *e);
  e->c = *c;
  e->c.attack = clampd(c->attack, 0.0002, 60);
  e->c.decay = clampd(c->decay, 0.0002, 60);
  e->c.release = clampd(c->release, 0.0002, 60);
  e->c.sustain = clampd(c->sustain, 0, 1);
  e->rate = rate;
  seg_coef(e->c.attack, ADSR_ATTACK_RATIO, rate, &e->a_coef);
  e->a_base = (1.0 + ADSR_ATTACK_RATIO) * (1.0 - e->a_coef);
  seg_coef(e->c.decay, ADSR_DECAY_RATIO, rate, &e->d_coef);
  e->d_base = (e->c.sustain - ADSR_DECAY_RATIO * (1.0 - e->c.sustain)) * (1.0 - e->d_coef);
  seg_coef(e->c.release, ADSR_RELEASE_RATIO, rate, &e->r_coef);
  e->r_base = -ADSR_RELEASE_RATIO * (1.0 - e->r_coef);
  sg_adsr_reset(e);
  return SG_OK;
}

void sg_adsr_reset(sg_adsr *e) {
  e->value = 0;
  e->stage = SG_ADSR_IDLE;
}

void sg_adsr_gate_on(sg_adsr *e) { e->stage = SG_ADSR_ATTACK; }

void sg_adsr_gate_off(sg_adsr *e) {
  if (e->stage != SG_ADSR_IDLE)
    e->stage = SG_ADSR_RELEASE;
}

float sg_adsr_tick(sg_adsr *e) {
  switch (e->stage) {
  case SG_ADSR_ATTACK:
    e->value = e->a_base + e->value * e->a_coef;
    if (e->value >= 1.0) {
      e->value = 1.0;
      e->stage = SG_ADSR_DECAY;
    }
    break;
  case SG_ADSR_DECAY:
    e->value = e->d_base + e->value * e->d_coef;
    if (e->value <= e->c.sustain) {
      e->value = e->c.sustain;
      e->stage = SG_ADSR_SUSTAIN;
    }
    break;
  case SG_ADSR_SUSTAIN:
    e->value = e->c.sustain;
    if (e->value <= 0)
      e->stage = SG_ADSR_IDLE;
    break;
  case SG_ADSR_RELEASE:
    e->value = e->r_base + e->value * e->r_coef;
    if (e->value <= 0) {
      e->value = 0;
      e->stage = SG_ADSR_IDLE;
    }
    break;
  case SG_ADSR_IDLE:
  default:
    e->value = 0;
    break;
  }
  return (float)e->value;
}

void sg_adsr_process(sg_adsr *e, float *out, size_t n) {
  for (size_t i = 0; i < n; ++i)
    out[i] = sg_adsr_tick(e);
}

int sg_adsr_active(const sg_adsr *e) { return e->stage != SG_ADSR_IDLE; }

/* ---- DX7 envelope ------------------------------------------------------------------------- */

#define DX_FLOOR_DB (-96.0)
/* The DX7 attack does not crawl up from silence: the generator jumps to about -40 dB and rises
 * from there (Levien's msfa notes), which is why DX attacks sound immediate. */
#define DX_ATTACK_JUMP_DB (-40.0)

double sg_dx_level_db(double level) {
  if (level <= 0)
    return DX_FLOOR_DB;
  if (level > 99)
    level = 99;
  return (level - 99.0) * 0.75;
}

double sg_dx_rate_dbps(double rate) {
  /* Rate 0 moves ~2.4 dB/s (40 s over the full range), rate 99 ~97 dB/ms: 15.3 doublings. */
  rate = clampd(rate, 0, 99);
  return 2.4 * exp2(rate / 6.47);
}

void sg_dxenv_config_init(sg_dxenv_config *c) {
  static const int r[4] = {99, 50, 35, 60}, l[4] = {99, 90, 0, 0};
  memcpy(c->rate, r, sizeof r);
  memcpy(c->level, l, sizeof l);
  c->rate_scale_bias = 0;
}

sg_status sg_dxenv_init(sg_dxenv *e, const sg_dxenv_config *c, double rate) {
  if (!e || !c || !(rate > 0))
    return SG_E_INVAL;
  memset(e, 0, sizeof *e);
  e->c = *c;
  e->rate = rate;
  sg_dxenv_reset(e);
  return SG_OK;
}

void sg_dxenv_reset(sg_dxenv *e) {
  e->last_db = 1.0; /* never a real level: forces the first computation */
  e->last_amp = 0.0f;
  e->db = DX_FLOOR_DB;
  e->target = DX_FLOOR_DB;
  e->step = 0;
  e->seg = 5;
}

static void dx_start_seg(sg_dxenv *e, int seg) {
  e->seg = seg;
  if (seg >= 5)
    return;
  int idx = seg == 4 ? 3 : seg;
  if (seg == 3) { /* sustain: hold L3 */
    e->target = sg_dx_level_db(e->c.level[2]);
    e->step = 0;
    return;
  }
  e->target = sg_dx_level_db(e->c.level[idx]);
  double r = e->c.rate[idx] + e->c.rate_scale_bias;
  double dbps = sg_dx_rate_dbps(r);
  if (e->target > e->db) {
    if (e->db < DX_ATTACK_JUMP_DB)
      e->db = DX_ATTACK_JUMP_DB < e->target ? DX_ATTACK_JUMP_DB : e->target;
    dbps *= 1.5; /* rising segments run faster than falling ones on the DX7 */
  }
  e->step = dbps / e->rate;
}

void sg_dxenv_gate_on(sg_dxenv *e) { dx_start_seg(e, 0); }

void sg_dxenv_gate_off(sg_dxenv *e) {
  if (e->seg < 4)
    dx_start_seg(e, 4);
}

float sg_dxenv_tick(sg_dxenv *e) {
  if (e->seg < 5 && e->seg != 3) {
    if (e->db < e->target) {
      e->db += e->step;
      if (e->db >= e->target)
        e->db = e->target;
    } else if (e->db > e->target) {
      e->db -= e->step;
      if (e->db <= e->target)
        e->db = e->target;
    }
    if (e->db == e->target) {
      if (e->seg < 2)
        dx_start_seg(e, e->seg + 1);
      else if (e->seg == 2)
        dx_start_seg(e, 3);
      else if (e->seg == 4)
        e->seg = 5;
    }
  }
  if (e->db <= DX_FLOOR_DB)
    return 0.0f;
  if (e->db != e->last_db) {
    e->last_db = e->db;
    e->last_amp = (float)exp(e->db * (0.11512925464970229)); /* 10^(dB/20) */
  }
  return e->last_amp;
}

void sg_dxenv_process(sg_dxenv *e, float *out, size_t n) {
  for (size_t i = 0; i < n; ++i)
    out[i] = sg_dxenv_tick(e);
}

/* Inactive once released and below -90 dB (a release to a non-zero L4 rings on). */
int sg_dxenv_active(const sg_dxenv *e) { return !(e->seg >= 4 && e->db <= -90.0); }

/* ---- ladder ------------------------------------------------------------------------------- */

#define LADDER_RAMP 32.0 /* samples over which a coefficient change is ramped */

void sg_ladder_config_init(sg_ladder_config *c) {
  c->cutoff = 1000;
  c->resonance = 0;
  c->drive = 1;
  c->linear = 0;
}

static double ladder_g(const sg_ladder *f, double cutoff) {
  cutoff = clampd(cutoff, 10.0, 0.45 * f->rate);
  /* Bilinear prewarping: the analog prototype's cutoff lands exactly at `cutoff`. */
  return tan(SG_PI * cutoff / f->rate);
}

sg_status sg_ladder_init(sg_ladder *f, const sg_ladder_config *c, double rate) {
  if (!f || !c || !(rate > 0))
    return SG_E_INVAL;
  memset(f, 0, sizeof *f);
  f->c = *c;
  f->c.resonance = clampd(c->resonance, 0, 4.2);
  f->c.drive = clampd(c->drive, 0.05, 20);
  f->rate = rate;
  f->g = f->g_target = ladder_g(f, c->cutoff);
  f->k = f->k_target = f->c.resonance;
  sg_ladder_reset(f);
  return SG_OK;
}

void sg_ladder_reset(sg_ladder *f) {
  memset(f->s, 0, sizeof f->s);
  f->g = f->g_target;
  f->k = f->k_target;
  f->g_step = f->k_step = 0;
}

void sg_ladder_set(sg_ladder *f, double cutoff, double resonance) {
  f->c.cutoff = cutoff;
  f->c.resonance = clampd(resonance, 0, 4.2);
  f->g_target = ladder_g(f, cutoff);
  f->k_target = f->c.resonance;
  f->g_step = (f->g_target - f->g) / LADDER_RAMP;
  f->k_step = (f->k_target - f->k) / LADDER_RAMP;
}

float sg_ladder_tick(sg_ladder *f, float xin) {
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
  const double g = f->g, G = g / (1.0 + g), k = f->k, inv = 1.0 / (1.0 + g);
  /* y4 = G^4 u + S with S collecting the states (Zavalishin eq. 5.x): solve the zero-delay
   * feedback u = x - k y4 in closed form. */
  double S = G * G * G * f->s[0] * inv + G * G * f->s[1] * inv + G * f->s[2] * inv + f->s[3] * inv;
  double G4 = G * G * G * G;
  double x = (double)xin * f->c.drive;
  double u = (x - k * S) / (1.0 + k * G4);
  if (!f->c.linear)
    u = tanh(u);
  double y = u;
  for (int i = 0; i < 4; ++i) {
    double v = (y - f->s[i]) * G;
    y = v + f->s[i];
    f->s[i] = sg_dsp_flush(y + v);
  }
  /* Undo the drive for small signals so drive changes colour, not level. */
  return (float)(y / f->c.drive);
}

void sg_ladder_process(sg_ladder *f, const float *in, float *out, size_t n) {
  for (size_t i = 0; i < n; ++i)
    out[i] = sg_ladder_tick(f, in[i]);
}
