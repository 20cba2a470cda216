/* stemgate synth: the instrument models that turn note events into audio.
 *
 * Building blocks (each a DSP unit: config / init / reset / process, caller-owned state, no
 * allocation, locking or I/O while processing, coefficients recomputed per block):
 *
 *  - sg_osc: band-limited oscillator. Saw and square/pulse use polynomial band-limited step
 *    residuals (Välimäki & Huovilainen, "Antialiasing oscillators in subtractive synthesis", IEEE
 *    Signal Processing Magazine 24(2), 2007): the four-point residual of the integrated cubic
 *    B-spline up to ~rate/5, the two-point PolyBLEP above (1760 Hz saw at 48 kHz: aliases
 *    -86 dB below 8 kHz, vs -18 dB for the trivial saw). The triangle uses the two-point
 *    PolyBLAMP (Esqueda, Välimäki & Bilbao, "Rounding corners with BLAMP", DAFx 2016). Sine and
 *    white noise (PCG32, so seeded and deterministic) complete the set.
 *  - sg_adsr: analog-style ADSR with exponential (RC-charging) segments; the attack aims past 1
 *    so it ends in a finite time, as in the Minimoog/Prophet contour generators.
 *  - sg_dxenv: the Yamaha DX7 four-rate / four-level envelope: segments move linearly in the log
 *    (dB) domain, level steps of 0.75 dB, rate doubling every ~6.5 steps (after the published
 *    reverse engineering of the DX7 envelope generator by R. Levien, "msfa" / Dexed).
 *  - sg_ladder: 4-pole transistor-ladder low-pass after Zavalishin, "The Art of VA Filter Design"
 *    (2018), ch. 5: zero-delay-feedback topology-preserving transform (TPT) with bilinear
 *    prewarping, so the cutoff is exact and resonance k = 4 self-oscillates at the cutoff; a tanh
 *    saturator at the input of the first stage (evaluated on the ZDF solution, the "cheap"
 *    nonlinear TPT of ch. 6) gives the drive and bounds self-oscillation.
 *
 * Instruments (sg_synth, rendered by sg_synth_render):
 *
 *  kind "moog_bass"   Minimoog-style mono: 3 oscillators, mixer + noise, ladder with filter
 *                     envelope and key tracking, amp envelope, last-note priority, glide on
 *                     SG_NOTE_SLIDE or legato. Patches: "moog_bass" (default), "sub", "acid".
 *  kind "prophet_poly" Prophet-5-style poly: 8 voices, 2 detuned oscillators + sub per voice,
 *                     per-voice ladder and envelopes, seeded per-voice drift. Stealing: a free
 *                     voice, else the oldest released, else the oldest. Patches: "pad" (default),
 *                     "brass", "arp_pluck".
 *  kind "dx7"         6-operator FM with all 32 DX7 algorithms, ratio/fixed frequencies, detune,
 *                     feedback, rate/level envelopes, velocity sensitivity, rate scaling.
 *                     Patches: "epiano" (default, algorithm 5), "bell", "fm_bass".
 *  kind "guitar"      6-string extended Karplus–Strong (Jaffe & Smith, "Extensions of the
 *                     Karplus-Strong plucked-string algorithm", CMJ 7(2) 1983; Karjalainen,
 *                     Välimäki & Tolonen, "Plucked-string models: from the Karplus-Strong
 *                     algorithm to digital waveguides and beyond", CMJ 22(3) 1998): first-order
 *                     Thiran allpass fractional delay, pick-position comb, one-pole loop filter
 *                     set from a per-note T60, velocity-dependent excitation low-pass, body
 *                     resonances as parallel RBJ band-pass biquads (commuted to the output),
 *                     choke per string. A note's string is the highest whose open pitch is not
 *                     above it (E2 A2 D3 G3 B3 E4); notes of one strum group take distinct
 *                     strings, so a chord rings while a repeated note re-strikes (chokes) its
 *                     string. SG_NOTE_MUTED: short, dark decay; SG_NOTE_ACCENT: longer ring.
 *                     Patches: "nylon" (default), "steel".
 *  kind "drums"       808/909-style synthesis on GM keys 36 kick, 37 rim, 38 snare, 39 clap,
 *                     42 closed hat (chokes 46), 46 open hat, 70 shaker. Patch: "808" (default),
 *                     "909".
 *  kind "soundfont"   libfluidsynth, offline (no audio driver), reverb and chorus off, so the
 *                     same notes give the same bytes. Created with sg_synth_create_soundfont.
 *                     Note starts are quantised to fluidsynth's internal 64-frame block
 *                     (up to 63 frames late, 1.3 ms at 48 kHz). Creating one silences
 *                     fluidsynth's global log (the library never prints): create SoundFont
 *                     instruments from one thread.
 *
 * Patch parameters (override by name; each is range-checked, errors name the parameter): one
 * table per instrument next to its model (src/synth/sub.c, fm.c, pluck.c, drums.c, sf2.c) gives
 * name, unit, range and doc; defaults are the patch presets. sg_synth_param_schema exposes the
 * tables, sg_synth_check validates against them (the spec loader calls it), and docs/spec.md
 * embeds the reference generated from them. dx7 notes: level 0.75 dB per step, 99 = full; a
 * modulator at amplitude a shifts its target's phase by 2 pi a rad, as in msfa; feedback 7 adds
 * half the averaged output in cycles, each step below halves it; detune ~1.5 cents per step;
 * velocity sensitivity 7 = 32 dB less output at velocity 0.
 *
 * Output level: every patch peaks around -6..-3 dBFS for one note at velocity 1, so stems keep
 * headroom. Output is stereo (instruments are mono inside and identical on both channels; pan
 * belongs to the mixer). Every instrument goes through the same output stage: AC coupling (a
 * DC blocker with its corner at 5 Hz, as on the analog outputs imitated) and a look-ahead peak
 * limiter at -1 dBFS (64 frames of look-ahead, 80 ms release, then a tanh knee that never
 * reaches 0 dBFS). The limiter is idle for single notes and only turns dense chords at high
 * velocity down, so no stem clips. The look-ahead is internal: notes still start on their own
 * frames in the output. */
#ifndef STEMGATE_SYNTH_H
#define STEMGATE_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "stemgate/core.h"
#include "stemgate/notes.h"
#include "stemgate/spec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- oscillator ----------------------------------------------------------------------------- */

typedef enum sg_wave {
  SG_WAVE_SAW = 0,
  SG_WAVE_SQUARE = 1, /* pulse with duty cycle pulse_width */
  SG_WAVE_TRIANGLE = 2,
  SG_WAVE_SINE = 3,
  SG_WAVE_NOISE = 4,    /* white, uniform in [-1, 1) */
  SG_WAVE_NAIVE_SAW = 5 /* trivial (aliasing) saw, only for comparison in tests */
} sg_wave;

typedef struct sg_osc_config {
  sg_wave wave;       /* default SG_WAVE_SAW */
  double freq;        /* Hz, (0, rate/2); default 440 */
  double pulse_width; /* duty cycle for SG_WAVE_SQUARE, clamped to [0.02, 0.98]; default 0.5 */
  double phase;       /* start phase in cycles [0, 1); default 0 */
  uint64_t seed;      /* noise seed; default 1 */
} sg_osc_config;

typedef struct sg_osc {
  sg_wave wave;
  double phase, dt, pw, phase0, rate;
  sg_rng rng;
  uint64_t seed;
} sg_osc;

void sg_osc_config_init(sg_osc_config *c);
sg_status sg_osc_init(sg_osc *o, const sg_osc_config *c, double rate);
void sg_osc_reset(sg_osc *o);
/* Frequency change takes effect at the next sample (callers smooth/glide the value). */
void sg_osc_set_freq(sg_osc *o, double hz);
void sg_osc_set_pw(sg_osc *o, double pw);
/* One sample; the per-sample form lets voices modulate pitch sample by sample. */
float sg_osc_tick(sg_osc *o);
/* Writes n samples to out (no input). */
void sg_osc_process(sg_osc *o, float *out, size_t n);

/* ---- ADSR --------------------------------------------------------------------------------- */

typedef struct sg_adsr_config {
  double attack;  /* s to reach 1, default 0.005 */
  double decay;   /* s to reach the sustain level (RC curve aimed just below it), default 0.2 */
  double sustain; /* level [0, 1], default 0.7 */
  double release; /* s to fall from 1 to 0 (RC curve aimed 1 % below 0), default 0.3 */
} sg_adsr_config;

typedef enum sg_adsr_stage {
  SG_ADSR_IDLE = 0,
  SG_ADSR_ATTACK,
  SG_ADSR_DECAY,
  SG_ADSR_SUSTAIN,
  SG_ADSR_RELEASE
} sg_adsr_stage;

typedef struct sg_adsr {
  sg_adsr_config c;
  double rate, value;
  double a_coef, a_base, d_coef, d_base, r_coef, r_base;
  sg_adsr_stage stage;
} sg_adsr;

void sg_adsr_config_init(sg_adsr_config *c);
sg_status sg_adsr_init(sg_adsr *e, const sg_adsr_config *c, double rate);
void sg_adsr_reset(sg_adsr *e);
/* Gate on: attack restarts from the current value (no click on retrigger). */
void sg_adsr_gate_on(sg_adsr *e);
void sg_adsr_gate_off(sg_adsr *e);
float sg_adsr_tick(sg_adsr *e);
void sg_adsr_process(sg_adsr *e, float *out, size_t n);
int sg_adsr_active(const sg_adsr *e);

/* ---- DX7 envelope ------------------------------------------------------------------------- */

typedef struct sg_dxenv_config {
  int rate[4];         /* 0..99: R1 attack, R2, R3 decays, R4 release */
  int level[4];        /* 0..99: L1..L3 reached by R1..R3, L4 after release */
  int rate_scale_bias; /* added to every rate (keyboard rate scaling, computed by the caller) */
} sg_dxenv_config;

typedef struct sg_dxenv {
  sg_dxenv_config c;
  double rate;
  double db;      /* current attenuation-domain level in dB (0 = full, -96 = silent) */
  double target;  /* dB target of the current segment */
  double step;    /* dB per sample of the current segment (>= 0) */
  int seg;        /* 0..2 running, 3 sustain (holds L3), 4 release, 5 done */
  double last_db; /* amplitude cache: holds need no exp() */
  float last_amp;
} sg_dxenv;

void sg_dxenv_config_init(sg_dxenv_config *c);
sg_status sg_dxenv_init(sg_dxenv *e, const sg_dxenv_config *c, double rate);
void sg_dxenv_reset(sg_dxenv *e);
void sg_dxenv_gate_on(sg_dxenv *e);
void sg_dxenv_gate_off(sg_dxenv *e);
/* Linear amplitude in [0, 1]. */
float sg_dxenv_tick(sg_dxenv *e);
void sg_dxenv_process(sg_dxenv *e, float *out, size_t n);
int sg_dxenv_active(const sg_dxenv *e);
/* DX7 level 0..99 to dB (99 = 0 dB, 0.75 dB per step, 0 -> -96 dB). */
double sg_dx_level_db(double level);
/* DX7 rate 0..99 to the segment speed in dB per second. */
double sg_dx_rate_dbps(double rate);

/* ---- ladder filter ------------------------------------------------------------------------ */

typedef struct sg_ladder_config {
  double cutoff;    /* Hz, clamped to [10, 0.45 * rate]; default 1000 */
  double resonance; /* feedback k in [0, 4.2]; 4 = edge of self-oscillation; default 0 */
  double drive;     /* input gain into the saturator, [0.05, 20]; default 1 */
  int linear;       /* 1: no saturator (for measurements); default 0 */
} sg_ladder_config;

typedef struct sg_ladder {
  sg_ladder_config c;
  double rate;
  double s[4];                               /* TPT integrator states */
  double g, G, k;                            /* per-block coefficients */
  double k_target, g_target, k_step, g_step; /* per-block linear ramps (smoothing) */
} sg_ladder;

void sg_ladder_config_init(sg_ladder_config *c);
sg_status sg_ladder_init(sg_ladder *f, const sg_ladder_config *c, double rate);
void sg_ladder_reset(sg_ladder *f);
/* New cutoff/resonance: the coefficients ramp to the new values over the next process call. */
void sg_ladder_set(sg_ladder *f, double cutoff, double resonance);
float sg_ladder_tick(sg_ladder *f, float x);
void sg_ladder_process(sg_ladder *f, const float *in, float *out, size_t n);

/* ---- instruments -------------------------------------------------------------------------- */

typedef enum sg_synth_kind {
  SG_SYNTH_MOOG_BASS = 0,
  SG_SYNTH_PROPHET_POLY,
  SG_SYNTH_DX7,
  SG_SYNTH_GUITAR,
  SG_SYNTH_DRUMS,
  SG_SYNTH_SOUNDFONT,
  SG_SYNTH_KIND_COUNT_
} sg_synth_kind;

typedef struct sg_synth sg_synth;

/* "moog_bass", "prophet_poly", "dx7", "guitar", "drums", "soundfont" (also "bass", "poly",
 * "fm" as aliases). SG_E_NOTFOUND for anything else. */
sg_status sg_synth_kind_from_name(const char *name, sg_synth_kind *out);
const char *sg_synth_kind_name(sg_synth_kind k);
/* NULL-terminated list of the kind's patch names; the first is the default. */
const char *const *sg_synth_patch_names(sg_synth_kind k);
/* The instrument and patch in words for a client ("Yamaha DX7-style 6-operator FM electric
 * piano: ..."), written next to each instrument's patch table; patch "" or NULL: the default
 * patch. "" for an unknown patch. */
const char *sg_synth_words(sg_synth_kind k, const char *patch);
/* The General MIDI program (0-127) closest to a patch (NULL/"" = the kind's default), -1 when
 * there is none (drums: channel 10; soundfont: the stem's own program). */
int sg_synth_gm_program(sg_synth_kind kind, const char *patch);

/* Creates an instrument. patch NULL or "" selects the kind's default patch; an unknown patch is
 * SG_E_NOTFOUND naming the known ones. overrides (optional) are applied by name; an unknown
 * name, a non-number or a value out of range is SG_E_SPEC with the parameter, its range and
 * unit and the position in the spec. seed drives every random choice (noise, drift, pluck
 * excitation). For SG_SYNTH_SOUNDFONT use sg_synth_create_soundfont. *out is freed with
 * sg_synth_destroy. */
sg_status sg_synth_create(sg_synth_kind kind, const char *patch, const sg_param_set *overrides,
                          double rate, uint64_t seed, sg_synth **out, sg_diag *d);
/* A SoundFont instrument: sf2 file, bank and GM program (overrides may set "bank", "program",
 * "gain"). SG_E_IO when the file cannot be loaded, SG_E_NOTFOUND when the preset is missing. */
sg_status sg_synth_create_soundfont(const char *sf2_path, int bank, int program,
                                    const sg_param_set *overrides, double rate, uint64_t seed,
                                    sg_synth **out, sg_diag *d);

/* Validates an instrument before anything is created or loaded: the patch name (NULL or "": the
 * default; did-you-mean at patch_pos) and the overrides against the instrument's parameter
 * table, the one sg_synth_create reads. owner ("stem 'Bass'") names it in messages. SoundFont
 * patches are not names (no check); the .sf2 file itself is the spec loader's to check.
 * SG_E_SPEC with d at spec_file:line:col of the offending value. */
sg_status sg_synth_check(sg_synth_kind kind, const char *patch, sg_pos patch_pos,
                         const sg_param_set *overrides, const char *owner, const char *spec_file,
                         sg_diag *d);
/* Seconds the instrument's amplitude takes to reach full level with its patch (the amp envelope's
 * attack); 0 for struck and plucked models, NAN when unknown (a SoundFont's recording). */
double sg_synth_attack_s(const sg_synth *s);
/* The parameter table of an instrument kind (static, never freed): names, units, ranges, docs;
 * defaults are NAN because they come from the selected patch. SG_E_RANGE for a bad kind. */
sg_status sg_synth_param_schema(sg_synth_kind kind, const sg_param_def **params, int *n);

/* Renders frames [frame0, frame0 + n) of the notes (sorted with sg_notes_sort) into left and
 * right (both n long; they are overwritten). Voices start and stop exactly at their frames; the
 * block is split at every event. Rendering is meant to be contiguous (frame0 = end of the
 * previous call); a jump resets the voices and skips notes that started before frame0. The
 * note list must stay the same object (and unchanged) between calls, or call sg_synth_reset. */
sg_status sg_synth_render(sg_synth *s, const sg_note_list *notes, int64_t frame0, float *left,
                          float *right, size_t n);
/* on = 1: renders run ahead on a helper thread (started by the first sg_synth_render, stopped
 * by reset/destroy) while the caller writes what it took, for a caller with a core to spare.
 * The samples are the same bits as direct renders; a request that does not continue the last
 * one restarts the helper as a jump would. Not for an instrument two threads share. */
void sg_synth_set_ahead(sg_synth *s, int on);
/* Frames after the last note-off until the sound has decayed below -60 dB (a safe bound). */
int64_t sg_synth_tail_frames(const sg_synth *s);
/* Back to silence, cursor to the first note. */
void sg_synth_reset(sg_synth *s);
void sg_synth_destroy(sg_synth *s);

#ifdef __cplusplus
}
#endif
#endif
