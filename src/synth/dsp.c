/* Synth building blocks: PolyBLEP/PolyBLAMP oscillator, analog-style ADSR, DX7 rate/level
 * envelope, zero-delay-feedback ladder filter. Methods and citations in stemgate/synth.h; the
 * per-sample kernels are in kernels.h. */
#include "kernels.h"

#include <math.h>
#include <string.h>

/* ---- oscillator ----------------------------------------------------------------------------- */

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

void sg_osc_set_freq(sg_osc *o, double hz) { sg__osc_set_freq(o, hz); }

void sg_osc_set_pw(sg_osc *o, double pw) {
  if (!(pw >= 0.02))
    pw = 0.02;
  if (pw > 0.98)
    pw = 0.98;
  o->pw = pw;
}

float sg_osc_tick(sg_osc *o) { return sg__osc_tick(o); }

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

float sg_adsr_tick(sg_adsr *e) { return sg__adsr_tick(e); }

void sg_adsr_process(sg_adsr *e, float *out, size_t n) {
  for (size_t i = 0; i < n; ++i)
    out[i] = sg_adsr_tick(e);
}

int sg_adsr_active(const sg_adsr *e) { return e->stage != SG_ADSR_IDLE; }

/* ---- DX7 envelope ------------------------------------------------------------------------- */

#define DX_FLOOR_DB SG__DX_FLOOR_DB
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

void sg__dx_start_seg(sg_dxenv *e, int seg) {
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

void sg_dxenv_gate_on(sg_dxenv *e) { sg__dx_start_seg(e, 0); }

void sg_dxenv_gate_off(sg_dxenv *e) {
  if (e->seg < 4)
    sg__dx_start_seg(e, 4);
}

float sg_dxenv_tick(sg_dxenv *e) { return sg__dxenv_tick(e); }

void sg_dxenv_process(sg_dxenv *e, float *out, size_t n) {
  for (size_t i = 0; i < n; ++i)
    out[i] = sg_dxenv_tick(e);
}

/* Inactive once released and below -90 dB (a release to a non-zero L4 rings on). */
int sg_dxenv_active(const sg_dxenv *e) { return !sg__dx_quiet(e->seg, e->db); }

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

float sg_ladder_tick(sg_ladder *f, float xin) { return sg__ladder_tick(f, xin); }

void sg_ladder_process(sg_ladder *f, const float *in, float *out, size_t n) {
  for (size_t i = 0; i < n; ++i)
    out[i] = sg_ladder_tick(f, in[i]);
}
