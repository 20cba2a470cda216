/* Internal interface between the renderer (synth.c) and the instrument models. */
#ifndef SG_SYNTH_INTERNAL_H
#define SG_SYNTH_INTERNAL_H

#include "kernels.h"
#include "stemgate/dsp.h"
#include "stemgate/synth.h"

#include <math.h>
#include <stddef.h>

/* Biquads (guitar body, drum filters) are the RBJ cookbook sections of stemgate/dsp.h, ticked
 * per sample inside the voices' loops. Designs a section and clears its state. */
static inline void sg__bq_set(sg_biquad *b, sg_biquad_type t, double f, double q, double rate) {
  sg_biquad_coefs c;
  sg_biquad_design(t, f, q, 0, rate, &c);
  sg_biquad_init(b, &c);
}

/* Control-rate block: envelopes that drive filters are read once per this many samples. */
#define SG__CTRL 16

/* One overridable patch parameter: a double field of the patch struct at `offset`. Its default
 * is the selected patch's preset (def = NAN in the table), its range is checked by core's
 * sg_params_check; the same tables are read by sg_synth_check (the spec loader). */
#define SG__PARAM(name, unit, lo, hi, doc, off)                                                    \
  { name, SG_PARAM_NUMBER, unit, lo, hi, NAN, NULL, doc, off }

/* Applies overrides to patch using defs; SG_E_SPEC naming the parameter on an unknown name,
 * a non-number or a value out of range. */
sg_status sg__apply_overrides(void *patch, const sg_param_def *defs, size_t ndefs,
                              const sg_param_set *ov, const char *kind, sg_diag *d);

/* Each instrument's parameter table (defined next to the instrument). */
extern const sg_param_def sg__drum_params[];
extern const size_t sg__drum_nparams;
extern const sg_param_def sg__fm_params[];
extern const size_t sg__fm_nparams;
extern const sg_param_def sg__pluck_params[];
extern const size_t sg__pluck_nparams;
extern const sg_param_def sg__sf2_params[];
extern const size_t sg__sf2_nparams;

/* An instrument behind the renderer. Every function runs on the audio path except create and
 * destroy: no allocation there. */
typedef struct sg__inst_vt {
  void (*note_on)(void *st, const sg_note *n, uint32_t id);
  void (*note_off)(void *st, uint32_t id);
  /* Overwrites l and r with n frames. */
  void (*render)(void *st, float *l, float *r, size_t n);
  void (*reset)(void *st);
  void (*destroy)(void *st);
  int64_t (*tail)(const void *st);
  /* Seconds the amplitude takes to reach full level at the patch's settings (NAN: unknown). */
  double (*attack)(const void *st);
} sg__inst_vt;

/* Each instrument's constructor: patch already validated by name lookup inside. */
sg_status sg__mono_create(const char *patch, const sg_param_set *ov, double rate, uint64_t seed,
                          void **st, const sg__inst_vt **vt, sg_diag *d);
sg_status sg__poly_create(const char *patch, const sg_param_set *ov, double rate, uint64_t seed,
                          void **st, const sg__inst_vt **vt, sg_diag *d);
sg_status sg__fm_create(const char *patch, const sg_param_set *ov, double rate, uint64_t seed,
                        void **st, const sg__inst_vt **vt, sg_diag *d);
sg_status sg__pluck_create(const char *patch, const sg_param_set *ov, double rate, uint64_t seed,
                           void **st, const sg__inst_vt **vt, sg_diag *d);
sg_status sg__drums_create(const char *patch, const sg_param_set *ov, double rate, uint64_t seed,
                           void **st, const sg__inst_vt **vt, sg_diag *d);
sg_status sg__sf2_create(const char *path, int bank, int program, const sg_param_set *ov,
                         double rate, void **st, const sg__inst_vt **vt, sg_diag *d);

extern const char *const sg__mono_patches[];
extern const char *const sg__poly_patches[];
extern const char *const sg__fm_patches[];
extern const char *const sg__pluck_patches[];
extern const char *const sg__drums_patches[];
extern const char *const sg__mono_words[], *const sg__poly_words[],
                                               *const sg__fm_words[], *const sg__pluck_words[],
                                                                          *const sg__drums_words[];

/* Index of name in a NULL-terminated list (NULL/"" -> 0); -1 when absent, with d naming the
 * known patches. */
int sg__patch_index(const char *const *names, const char *name, const char *kind, sg_diag *d);

/* ---- subtractive voice shared by the mono and poly synths ---------------------------------- */

typedef struct sg__sub_patch {
  double osc1_wave, osc2_wave, osc3_wave;
  double osc1_level, osc2_level, osc3_level;
  double osc2_detune, osc3_detune;
  double osc1_octave, osc2_octave, osc3_octave;
  double pulse_width, noise_level;
  double cutoff, resonance, drive, key_track, filter_env;
  double filter_attack, filter_decay, filter_sustain, filter_release;
  double amp_attack, amp_decay, amp_sustain, amp_release;
  double velocity_to_filter, glide, drift, gain;
} sg__sub_patch;

extern const sg_param_def sg__sub_params[];
extern const size_t sg__sub_nparams;

#define SG__SUB_RUN 64        /* samples per render stretch of the subtractive voices */
#define SG__SUB_MAX_VOICES 16 /* voices one sg__sub_voices_render call takes */

typedef struct sg__sub_voice {
  sg_osc osc[3], noise;
  sg_ladder lad;
  sg_adsr fenv, aenv;
  double note;        /* current (gliding) pitch in MIDI note units */
  double target_note; /* pitch the glide approaches */
  double glide_coef;  /* per-sample one-pole coefficient of the glide (0 = jump) */
  double pitch[3];    /* each oscillator's pitch (MIDI units) its frequency was last set to */
  double velocity;
  double drift_cents, drift_target, drift_step; /* slow seeded random walk (poly) */
  int ctrl;                                     /* samples until the next control-rate update */
  float level;                                  /* output gain from the patch (linear) */
  float lvl[3], noise_lvl;
  float amp_lp; /* smoothed amplitude (de-zipper of velocity changes) */
  sg_rng rng;   /* drift */
  /* The mono instrument's ladder runs alone, so its speed is the latency of one sample's chain:
   * it carries the state before the previous sample, that sample's tanh output and G, H (1 -
   * G) so the next sample's feedback needs one multiply-subtract after the tanh (ladder_serial
   * in sub.c). Zero for a fresh voice, which is consistent with the zero ladder state. */
  int serial;
  double sp[4], tp, Gp, Hp;
  /* Scratch of one render stretch (SG__SUB_RUN samples): the ladder's input, its coefficient
   * ramps, the amplitude envelope, the output. Filled and read inside one render call. */
  size_t run; /* samples of the stretch (the voice may end inside it) */
  float x[SG__SUB_RUN], ae[SG__SUB_RUN], al[SG__SUB_RUN], y[SG__SUB_RUN];
  double g[SG__SUB_RUN], k[SG__SUB_RUN]; /* the ladder's ramps, then its coefficients: */
  double ux[SG__SUB_RUN], a0[SG__SUB_RUN], a1[SG__SUB_RUN], a2[SG__SUB_RUN], a3[SG__SUB_RUN];
  double G[SG__SUB_RUN], H[SG__SUB_RUN];
} sg__sub_voice;

void sg__sub_voice_init(sg__sub_voice *v, const sg__sub_patch *p, double rate, uint64_t seed);
/* n samples of the nv sounding voices v (each ADDED into out, in the order given), with the
 * control-rate updates (pitch, cutoff) at each voice's own control ticks. The voices' ladders
 * run interleaved: their recursions are independent chains the CPU overlaps. */
void sg__sub_voices_render(sg__sub_voice *const *v, int nv, const sg__sub_patch *p, double rate,
                           float *out, size_t n);

#endif
