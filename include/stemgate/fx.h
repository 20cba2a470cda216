/* stemgate effects: the processing a mix engineer puts on stems and on the master bus.
 *
 * Methods implemented (one file each under src/fx/):
 *   - EQ: second-order sections from R. Bristow-Johnson, "Cookbook formulae for audio EQ biquad
 *     filter coefficients" (the Audio-EQ-Cookbook), run in transposed direct form II (double
 *     state); Butterworth low/high-pass cascades (orders 1-8) from the pole angles of the analog
 *     prototype, all sections bilinear-transformed with the same pre-warp so the cascade is
 *     exactly |H|^2 = 1 / (1 + (tan(w/2)/tan(w0/2))^(2N)). Optional zero-phase forward-backward
 *     mode for offline use.
 *   - Compressor: the feed-forward design of D. Giannoulis, M. Massberg, J. D. Reiss, "Digital
 *     Dynamic Range Compressor Design - A Tutorial and Analysis", JAES 60(6), 2012: soft-knee
 *     static curve in the log domain, smooth branching peak detector on the gain signal
 *     ("log domain, decoupled/branching"), optional RMS level detection, stereo link, external
 *     sidechain.
 *   - Delay: tempo-synced delay line with integer lag (note value at a tempo -> frames, rounded
 *     to the nearest frame), one-pole low-cut/high-cut in the feedback loop, ping-pong.
 *   - Reverb: a feedback delay network after J.-M. Jot and A. Chaigne, "Digital delay networks
 *     for designing artificial reverberators" (AES 90th Conv., 1991) and J.-M. Jot, "An analysis/
 *     synthesis approach to real-time artificial reverberation" (ICASSP 1992): 8 or 16 mutually
 *     prime delay lines, a normalised Hadamard feedback matrix (lossless, fast Walsh-Hadamard),
 *     per-line absorption gains g_i = 10^(-3 m_i / (T60 fs)) with a low-band and a high-band
 *     correction, pre-delay, Schroeder allpass input diffusion, two orthogonal output taps for
 *     decorrelated L/R; optional slow delay modulation of the four longest lines (cubic Hermite
 *     reads), off by default so the decay stays exactly exponential.
 *   - Chorus / flanger: modulated fractional delays (4-point cubic Hermite interpolation),
 *     one quadrature LFO per voice, stereo phase offset; a flanger is one short voice with
 *     feedback. Phaser: cascaded first-order allpasses swept exponentially by an LFO, with
 *     feedback.
 *   - Saturation: tanh waveshaper with optional asymmetry, 4x oversampling by a polyphase
 *     Kaiser-windowed-sinc FIR (interpolate, shape, decimate), DC blocker after.
 *   - Width (mid/side) and a -3 dB constant-power pan law.
 *   - True-peak limiter: look-ahead brickwall limiter whose gain is computed from an 8x
 *     polyphase-interpolated peak estimate (ITU-R BS.1770-4 Annex 2 style, but 8x with 64 taps
 *     per phase: the standard's 4x/12-tap filter under-reads by up to 0.5 dB near 20 kHz, and
 *     short filters miss the Gibbs overshoot of near-Nyquist content such as naive squares), a
 *     sliding minimum over the look-ahead plus a hold around each peak, a linear attack ramp
 *     over the look-ahead (box filter) and an exponential release. Reports its latency for
 *     sample-exact compensation.
 *   - TPDF dither and quantisation to integer PCM.
 *   - A chain built from the song spec's effect list with strict validation.
 *
 * Conventions (docs/ARCHITECTURE.md): each unit has a config with documented defaults, units and
 * ranges (init clamps out-of-range values into range; the chain builder instead rejects them with
 * a spec position), caller-owned state, and process functions that never allocate, lock or do
 * I/O. Units with delay memory allocate it once in init and release it in _free (safe to call
 * on a zeroed or already freed state). Stereo units process L and R in place. Parameter changes
 * through the _set functions are smoothed (about 20 ms); coefficients are recomputed at control
 * rate (every SG_FX_CONTROL_BLOCK samples at most), never per sample. Sample rates 8 kHz..384 kHz.
 */
#ifndef STEMGATE_FX_H
#define STEMGATE_FX_H

#include <stddef.h>
#include <stdint.h>

#include "stemgate/core.h"
#include "stemgate/dsp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Samples between control-rate updates (coefficient recomputation while smoothing, LFOs). */
#define SG_FX_CONTROL_BLOCK 32

/* ================================ EQ (biquads) ================================= */

/* EQ types are the biquad designs of stemgate/dsp.h under their EQ names (macros, so that the
 * names and the type stay interchangeable without enum-conversion warnings). */
typedef sg_biquad_type sg_eq_type;
#define SG_EQ_LOWPASS SG_BIQUAD_LOWPASS
#define SG_EQ_HIGHPASS SG_BIQUAD_HIGHPASS
#define SG_EQ_BANDPASS SG_BIQUAD_BANDPASS
#define SG_EQ_NOTCH SG_BIQUAD_NOTCH
#define SG_EQ_PEAK SG_BIQUAD_PEAK
#define SG_EQ_LOWSHELF SG_BIQUAD_LOWSHELF
#define SG_EQ_HIGHSHELF SG_BIQUAD_HIGHSHELF
#define SG_EQ_TYPE_COUNT_ SG_BIQUAD_TYPE_COUNT_

/* "lowpass", "highpass", "bandpass", "notch", "peak", "lowshelf", "highshelf". */
const char *sg_eq_type_name(sg_eq_type t);
/* Case-insensitive parse of the names above; SG_E_PARSE when unknown. */
sg_status sg_eq_type_parse(const char *s, sg_eq_type *out);

/* The single sections (sg_biquad_coefs, sg_biquad_design, sg_biquad, ...) are in
 * stemgate/dsp.h. */

#define SG_EQ_MAX_SECTIONS 4

typedef struct sg_eq_config {
  sg_eq_type type; /* default SG_EQ_PEAK */
  double freq_hz;  /* cutoff / centre / shelf midpoint, Hz, default 1000, clamped [10, 0.49 fs] */
  double q;        /* default 0.7071, clamped [0.05, 100]; ignored for lp/hp of order != 2 */
  double gain_db;  /* peak and shelves only, default 0, clamped [-48, 48] */
  int order;       /* lowpass/highpass only: 1..8, default 2 (orders 3..8 are Butterworth
                      cascades: -3.01 dB at freq, 6.02*order dB/octave); ignored otherwise */
} sg_eq_config;

typedef struct sg_eq {
  sg_eq_config cfg;    /* parameters the coefficients currently realise */
  sg_eq_config target; /* parameters being smoothed towards (sg_eq_set) */
  double rate;
  double smooth; /* per-control-block smoothing coefficient */
  int ctl_left;  /* samples left in the current control block (counted from reset) */
  int nsec;
  sg_biquad_coefs c[SG_EQ_MAX_SECTIONS];
  double z[2][SG_EQ_MAX_SECTIONS][2]; /* [channel][section][z1,z2] */
} sg_eq;

void sg_eq_config_init(sg_eq_config *c);
sg_status sg_eq_init(sg_eq *st, const sg_eq_config *c, double rate);
void sg_eq_reset(sg_eq *st);
/* New target parameters: freq glides in log-frequency, gain and q linearly (about 20 ms);
 * a change of type or order switches at once. */
void sg_eq_set(sg_eq *st, const sg_eq_config *c);
/* Stereo in place; R may be NULL for mono (channel 0 only). */
void sg_eq_process(sg_eq *st, float *L, float *R, size_t n);
/* Magnitude in dB of the coefficients currently realised (product of the sections). */
double sg_eq_response_db(const sg_eq *st, double f);
/* Analytic magnitude in dB: the analog prototype of the cookbook (or the Butterworth formula)
 * evaluated at the bilinear-warped frequency Omega = tan(pi f/rate) / tan(pi f0/rate). An
 * independent code path from the coefficient formulas, for tests and for the notes file. */
double sg_eq_magnitude_db(const sg_eq_config *c, double rate, double f);
/* Zero-phase offline filtering of a whole mono buffer: forward pass, then backward pass
 * (filtfilt). The response is |H|^2 (dB values double: a -3 dB cutoff becomes -6 dB) with zero
 * phase. The state starts at rest at both ends (edge transients of a few time constants). */
sg_status sg_eq_filtfilt(const sg_eq_config *c, double rate, float *x, size_t n);

/* ================================ compressor ================================= */

typedef enum sg_detector { SG_DETECT_PEAK = 0, SG_DETECT_RMS = 1 } sg_detector;

typedef struct sg_compressor_config {
  double threshold_db;  /* dBFS, default -18, clamped [-80, 0] */
  double ratio;         /* default 4, clamped [1, 100] (100 ~ limiting) */
  double knee_db;       /* soft knee width W, dB, default 6, clamped [0, 24] */
  double attack_ms;     /* detector attack time constant, default 10, clamped [0.01, 500] */
  double release_ms;    /* detector release time constant, default 100, clamped [1, 5000] */
  double makeup_db;     /* default 0, clamped [-24, 48] */
  sg_detector detector; /* default SG_DETECT_PEAK */
  double rms_ms;        /* RMS averaging time constant (detector rms), default 10, [0.1, 300] */
} sg_compressor_config;

typedef struct sg_compressor {
  sg_compressor_config cfg;
  double rate;
  double a_att, a_rel, a_rms; /* one-pole coefficients exp(-1/(tau fs)) */
  double y_l;                 /* detector state: smoothed gain reduction in dB (>= 0) */
  double ms;                  /* mean-square state (rms detector) */
  double makeup_cur, makeup_target, a_smooth; /* smoothed linear make-up gain */
  double gr_max_db, gr_sum_db;                /* statistics since reset/stats reset */
  uint64_t gr_count;
  int avx2; /* x86-64: run the AVX2 build (same bits; chosen at init, sg_dsp_avx2) */
} sg_compressor;

void sg_compressor_config_init(sg_compressor_config *c);
sg_status sg_compressor_init(sg_compressor *st, const sg_compressor_config *c, double rate);
void sg_compressor_reset(sg_compressor *st);
/* New parameters; make-up gain is smoothed, the detector smooths the rest. */
void sg_compressor_set(sg_compressor *st, const sg_compressor_config *c);
/* Stereo-linked compression of L/R in place (R may be NULL for mono). The detector listens to
 * sideL/sideR when sideL is non-NULL (external sidechain, e.g. bass keyed by kick; sideR may
 * be NULL), else to the input. Peak detection links with max(|L|,|R|), RMS with the mean of
 * the two channels' squares. */
void sg_compressor_process(sg_compressor *st, float *L, float *R, const float *sideL,
                           const float *sideR, size_t n);
/* Static curve (gain computer + make-up): output level in dB for a steady input level in dB
 * (Giannoulis et al. eq. 4). */
double sg_compressor_static_db(const sg_compressor_config *c, double in_db);
/* Gain reduction statistics since init/reset/last sg_compressor_stats_reset, in dB (>= 0):
 * largest, and mean over processed samples. */
void sg_compressor_stats(const sg_compressor *st, double *max_db, double *mean_db);
void sg_compressor_stats_reset(sg_compressor *st);
/* Current gain reduction in dB (>= 0). */
double sg_compressor_gain_reduction_db(const sg_compressor *st);

/* ================================ delay ================================= */

/* Parses a note value into a reduced fraction of a whole note: "1/4" = 1/4, "1/8." = 3/16
 * (dotted: x 3/2), "1/8.." = 7/32 (double dotted), "1/4T" = 1/6 (triplet: x 2/3), "3/16" = 3/16.
 * Numerator 1..64, denominator 1..256. SG_E_PARSE when malformed. */
sg_status sg_note_value_parse(const char *s, int *num, int *den);
/* Exact length in frames (not rounded): num/den whole notes at bpm quarter notes per minute.
 * E.g. 3/16 at 140 BPM, 48 kHz: 0.75 * 60/140 * 48000 = 15428.571... */
double sg_note_value_frames(int num, int den, double bpm, double rate);

typedef struct sg_delay_config {
  char time[128];    /* note value ("1/8.") or milliseconds ("250", "250ms"); default "1/8" */
  double bpm;        /* tempo for note values, default 120, clamped [20, 400] */
  double feedback;   /* 0..0.95 (clamped), default 0.35 */
  double mix;        /* wet fraction 0..1, default 0.25: out = (1-mix) dry + mix wet */
  double lowcut_hz;  /* one-pole high-pass in the feedback loop, default 100, [10, 5000] */
  double highcut_hz; /* one-pole low-pass in the feedback loop, default 8000, [500, 0.45 fs] */
  int pingpong;      /* 1: echoes alternate L, R, L, ... (input summed to mono), default 0 */
  double max_sec;    /* delay memory to allocate, default 4 s (time clamps to it) */
  /* > 0: the delay follows tempo changes (sg_delay_set_bpm) down to this tempo: the memory holds
   * the note value at it, and the lag glides (one-pole, SG_DELAY_GLIDE_SEC) with a linearly
   * interpolated read. 0 (default): a fixed integer lag, the exact echo of the bpm above. */
  double follow_min_bpm;
} sg_delay_config;

/* Time constant of a following delay's glide to a new tempo: short enough that the echo keeps
 * to a ramp's grid within a fraction of a millisecond, long enough to add no zipper noise. */
#define SG_DELAY_GLIDE_SEC 0.05

typedef struct sg_delay {
  sg_delay_config cfg;
  double rate;
  size_t lag;       /* frames: round-half-up of the exact note length (documented rounding) */
  double lag_exact; /* frames before rounding */
  float *buf[2];    /* ring buffers (allocated in init) */
  size_t cap, pos;
  double hp_a, lp_a; /* one-pole coefficients */
  double hp_x[2], hp_y[2], lp_y[2];
  double fb_cur, fb_target, mix_cur, mix_target, a_smooth;
  int follow;                 /* follows sg_delay_set_bpm (follow_min_bpm > 0, a note value) */
  double lag_cur, lag_target; /* following: the gliding lag in frames */
  double a_glide;             /* its one-pole coefficient */
  int note_num, note_den;     /* the note value, whole notes */
} sg_delay;

void sg_delay_config_init(sg_delay_config *c);
/* SG_E_PARSE when time is neither a note value nor a number of ms; SG_E_NOMEM. */
sg_status sg_delay_init(sg_delay *st, const sg_delay_config *c, double rate);
void sg_delay_reset(sg_delay *st);
void sg_delay_free(sg_delay *st);
/* Smoothed feedback and mix (time changes need a new init). */
void sg_delay_set_mix(sg_delay *st, double feedback, double mix);
/* A following delay (follow_min_bpm > 0 and a note-value time) glides to the note value at bpm
 * quarter notes per minute (clamped to its memory); no effect otherwise. Call between blocks. */
void sg_delay_set_bpm(sg_delay *st, double bpm);
void sg_delay_process(sg_delay *st, float *L, float *R, size_t n);
/* Frames until the echoes decay below -60 dB (feedback^k < 1e-3), counting the loop filters
 * as unity gain (an upper bound). */
double sg_delay_tail_frames(const sg_delay *st);

/* ================================ reverb (FDN) ================================= */

#define SG_REVERB_MAX_LINES 16
#define SG_REVERB_DIFFUSERS 4

typedef struct sg_reverb_config {
  double rt60;         /* s, mid-band decay time, default 2.0, clamped [0.1, 30] */
  double rt60_low;     /* s, below ~250 Hz; 0 = same as rt60 (default), clamped [0.1, 30] */
  double damping;      /* 0..0.9: high-band (Nyquist) RT60 = rt60 * (1 - damping), default 0.3 */
  double predelay_ms;  /* default 10, clamped [0, 250] */
  double size;         /* scales the delay lengths (room size), default 1, clamped [0.25, 2] */
  double diffusion;    /* input allpass gain, default 0.6, clamped [0, 0.8] */
  double mix;          /* wet fraction, default 0.25 */
  int lines;           /* 8 or 16, default 16 */
  double mod_depth_ms; /* delay modulation of the 4 longest lines (peak-to-peak), default 0
                          (off: the decay stays exactly exponential), clamped [0, 2] */
  double mod_rate_hz;  /* modulation rate, default 0.7, clamped [0.05, 5]; lines 90 deg apart */
} sg_reverb_config;

typedef struct sg_reverb {
  sg_reverb_config cfg;
  double rate;
  int n;
  float *mem; /* one allocation for every line (init) */
  float *line[SG_REVERB_MAX_LINES];
  size_t len[SG_REVERB_MAX_LINES];   /* nominal delay of each line, frames (distinct primes) */
  size_t cap[SG_REVERB_MAX_LINES];   /* ring length: len + room for the modulation swing */
  size_t pos[SG_REVERB_MAX_LINES];   /* write index */
  double mod_d;                      /* modulation swing in frames (0: off) */
  double mod_c, mod_s, rot_c, rot_s; /* modulation LFO phasor and its per-sample rotation */
  uint32_t mod_count;
  double g_mid[SG_REVERB_MAX_LINES], g_low[SG_REVERB_MAX_LINES];
  double lp_a, lp_s[SG_REVERB_MAX_LINES]; /* low-band split (one-pole, ~250 Hz) */
  double hf_b[SG_REVERB_MAX_LINES], hf_s[SG_REVERB_MAX_LINES]; /* high-band damping pole */
  float *pre; /* pre-delay ring (stereo interleaved) */
  size_t pre_len, pre_pos;
  float *ap[2][SG_REVERB_DIFFUSERS]; /* input diffusers per channel */
  size_t ap_len[SG_REVERB_DIFFUSERS], ap_pos[SG_REVERB_DIFFUSERS];
  double mix_cur, mix_target, a_smooth;
  int avx2; /* x86-64: run the AVX2 build of the kernel (same bits; chosen at init, sg_dsp_avx2) */
} sg_reverb;

void sg_reverb_config_init(sg_reverb_config *c);
sg_status sg_reverb_init(sg_reverb *st, const sg_reverb_config *c, double rate);
void sg_reverb_reset(sg_reverb *st);
void sg_reverb_free(sg_reverb *st);
void sg_reverb_set_mix(sg_reverb *st, double mix);
void sg_reverb_process(sg_reverb *st, float *L, float *R, size_t n);
/* Frames until the slowest band has decayed by 60 dB, plus pre-delay and diffusers. */
double sg_reverb_tail_frames(const sg_reverb *st);

/* ================================ modulation ================================= */

#define SG_CHORUS_MAX_VOICES 4

typedef struct sg_chorus_config {
  double rate_hz;  /* LFO rate, default 0.8, clamped [0.01, 10] */
  double depth_ms; /* delay swing (peak), default 2.5, clamped [0, 10] */
  double delay_ms; /* centre delay, default 12, clamped [0.1, 40]; >= depth_ms + 0.05 */
  int voices;      /* 1..4, default 2; voice v has LFO phase v/voices */
  double feedback; /* -0.95..0.95, default 0 (a flanger uses feedback) */
  double spread;   /* stereo: R LFO phase offset = spread * 90 degrees, default 1 */
  double mix;      /* wet fraction, default 0.5 */
} sg_chorus_config;

typedef struct sg_chorus {
  sg_chorus_config cfg;
  double rate;
  float *buf[2];
  size_t cap, pos;     /* power-of-two ring */
  double lfo_c, lfo_s; /* quadrature LFO phasor (cos, sin) */
  double rot_c, rot_s; /* per-sample rotation */
  uint32_t count;      /* samples since reset (phasor renormalisation every 1024) */
  double fb_state[2];
  double mix_cur, mix_target, a_smooth;
} sg_chorus;

void sg_chorus_config_init(sg_chorus_config *c);
/* Flanger defaults in the same config: 1 voice, delay 2 ms, depth 1.5 ms, rate 0.25 Hz,
 * feedback 0.5, mix 0.5. */
void sg_flanger_config_init(sg_chorus_config *c);
sg_status sg_chorus_init(sg_chorus *st, const sg_chorus_config *c, double rate);
void sg_chorus_reset(sg_chorus *st);
void sg_chorus_free(sg_chorus *st);
void sg_chorus_process(sg_chorus *st, float *L, float *R, size_t n);

#define SG_PHASER_MAX_STAGES 12

typedef struct sg_phaser_config {
  double rate_hz;  /* LFO rate, default 0.5, clamped [0.01, 10] */
  int stages;      /* first-order allpasses, 2..12 (even), default 6 */
  double min_hz;   /* sweep bottom (allpass break frequency), default 200 */
  double max_hz;   /* sweep top, default 3000, clamped [min_hz, 0.45 fs] */
  double feedback; /* -0.95..0.95, default 0.4 */
  double spread;   /* R LFO phase offset = spread * 90 degrees, default 1 */
  double mix;      /* default 0.5 (0.5 gives the deepest notches) */
} sg_phaser_config;

typedef struct sg_phaser {
  sg_phaser_config cfg;
  double rate;
  double phase; /* LFO phase in cycles [0, 1) */
  double a[2];  /* allpass coefficients of the current control block */
  int ctl_left; /* samples left in the current control block */
  double x1[2][SG_PHASER_MAX_STAGES], y1[2][SG_PHASER_MAX_STAGES];
  double fb[2];
  double mix_cur, mix_target, a_smooth;
} sg_phaser;

void sg_phaser_config_init(sg_phaser_config *c);
sg_status sg_phaser_init(sg_phaser *st, const sg_phaser_config *c, double rate);
void sg_phaser_reset(sg_phaser *st);
void sg_phaser_process(sg_phaser *st, float *L, float *R, size_t n);

/* ================================ saturation ================================= */

/* 4x oversampling filter: Kaiser-windowed sinc (beta 7, about 70 dB stopband), 193 taps at the
 * oversampled rate, cutoff at 0.875 of the base Nyquist (21 kHz at 48 kHz), used both to
 * interpolate (polyphase, 4 phases of <= 49 taps) and to decimate. Latency 2 x 96 / 4 = 48. */
#define SG_OS_FACTOR 4
#define SG_OS_TAPS 193
#define SG_OS_UPLEN 49
#define SG_OS_LATENCY 48
/* Corner of the DC blocker after the shaper (the offset an asymmetric curve makes), Hz: part of
 * the unit's design, so the in-situ model (step fx) applies the same. */
#define SG_SATURATION_DC_HZ 5.0

typedef struct sg_saturation_config {
  double drive_db;  /* input gain into tanh, default 12, clamped [0, 48] */
  double asym;      /* bias for even harmonics 0..1 (default 0): y = tanh(g x + b) - tanh(b) */
  double output_db; /* output gain, default 0, clamped [-48, 12] */
  double mix;       /* wet fraction, default 1 */
  int oversample;   /* 1 or 4 (default 4); 1 exists to measure the aliasing it avoids */
} sg_saturation_config;

typedef struct sg_saturation {
  sg_saturation_config cfg;
  double rate;
  float h[SG_OS_TAPS];                 /* lowpass at the base Nyquist, DC gain 1 */
  float hp[SG_OS_FACTOR][SG_OS_UPLEN]; /* its polyphase parts, reversed, zero padded */
  float up_hist[2][2 * SG_OS_UPLEN];   /* base-rate input history (doubled ring) */
  float dn_hist[2][2 * SG_OS_TAPS];    /* oversampled shaped history (doubled ring) */
  size_t up_pos, dn_pos;
  float dry[2][SG_OS_LATENCY]; /* dry path delayed to match the latency */
  size_t dry_pos;
  sg_dc_blocker dc[2]; /* DC blocker (pole at ~5 Hz) */
  double drive_cur, drive_target, bias, out_cur, out_target, mix_cur, mix_target, a_smooth;
} sg_saturation;

void sg_saturation_config_init(sg_saturation_config *c);
sg_status sg_saturation_init(sg_saturation *st, const sg_saturation_config *c, double rate);
void sg_saturation_reset(sg_saturation *st);
void sg_saturation_set(sg_saturation *st, const sg_saturation_config *c);
void sg_saturation_process(sg_saturation *st, float *L, float *R, size_t n);
/* Frames of delay the oversampling filters add (the dry path is delayed to match): 48 at 4x,
 * 0 at 1x. */
size_t sg_saturation_latency(const sg_saturation *st);

/* ================================ width, pan ================================= */

/* Mid/side width: M = (L+R)/2, S = (L-R)/2 * width; L = M+S, R = M-S. width 0 = mono,
 * 1 = unchanged, 2 = double side level. Smoothed. */
typedef struct sg_width {
  double cur, target, a_smooth;
} sg_width;
sg_status sg_width_init(sg_width *st, double width, double rate);
void sg_width_set(sg_width *st, double width);
void sg_width_process(sg_width *st, float *L, float *R, size_t n);

/* Constant-power pan law, -3 dB at centre: theta = (pan + 1) pi/4, gl = cos theta,
 * gr = sin theta, so gl^2 + gr^2 = 1 for every pan and gl = gr = 0.7071 (-3.01 dB) at 0.
 * pan in [-1 (left), +1 (right)], clamped. */
void sg_pan_gains(double pan, double *gl, double *gr);

/* ================================ true-peak limiter ================================= */

#define SG_TP_OS 8    /* detector oversampling factor */
#define SG_TP_TAPS 64 /* taps per phase of the detector interpolator (512-tap prototype) */

typedef struct sg_limiter_config {
  double ceiling_dbtp; /* output true-peak ceiling, default -1, clamped [-30, 0] */
  double lookahead_ms; /* attack ramp length, default 2, clamped [0.5, 10] */
  double release_ms;   /* exponential release time constant, default 80, clamped [1, 2000] */
  double margin_db;    /* internal safety margin below the ceiling, default 0.1, [0, 1] */
  double gain_db;      /* input gain before limiting, default 0, clamped [-24, 36] */
} sg_limiter_config;

typedef struct sg_limiter {
  sg_limiter_config cfg;
  double rate;
  sg_truepeak det[2];   /* 8x / 64-tap true-peak detectors (stemgate/dsp.h), one per channel */
  sg_limiter_core core; /* sliding maximum, release, attack ramp (stemgate/dsp.h) */
  size_t delay;         /* signal delay: detector latency + core delay */
  float *dl[2];         /* signal delay lines (allocated in init, length delay) */
  size_t dpos;
  double in_gain;
  double gr_db_now, gr_db_max, gr_db_sum;
  double gr_g; /* the gain gr_db_now was computed for */
  uint64_t gr_count;
} sg_limiter;

void sg_limiter_config_init(sg_limiter_config *c);
sg_status sg_limiter_init(sg_limiter *st, const sg_limiter_config *c, double rate);
void sg_limiter_reset(sg_limiter *st);
void sg_limiter_free(sg_limiter *st);
void sg_limiter_process(sg_limiter *st, float *L, float *R, size_t n);
/* Frames the output lags the input: output frame k corresponds to input frame k - latency.
 * Callers compensate by feeding latency frames of silence after the input and dropping the
 * first latency output frames. */
size_t sg_limiter_latency(const sg_limiter *st);
/* Gain reduction in dB (>= 0): applied to the last output frame, and the largest since
 * init/reset/sg_limiter_stats_reset. */
double sg_limiter_gain_reduction_db(const sg_limiter *st);
double sg_limiter_max_gain_reduction_db(const sg_limiter *st);
/* Mean gain reduction in dB over the frames since init/reset/sg_limiter_stats_reset. */
double sg_limiter_mean_gain_reduction_db(const sg_limiter *st);
void sg_limiter_stats_reset(sg_limiter *st);

/* ================================ dither ================================= */

/* Quantises float samples to signed integers of `bits` (8..32) with TPDF dither of +-1 LSB
 * (triangular, the sum of two uniforms from rng; NULL rng = no dither, plain rounding). Full
 * scale 1.0 maps to 2^(bits-1); results are clipped to [-2^(bits-1), 2^(bits-1)-1]. Returns the
 * number of clipped samples. Deterministic for a given rng state. */
size_t sg_dither_to_int(sg_rng *rng, const float *in, int32_t *out, size_t n, int bits);
/* Same, but writes the quantised values back as floats on the integer grid divided by
 * 2^(bits-1) (so a float file carries exactly what the PCM file will). in == out allowed. */
size_t sg_dither_quantize(sg_rng *rng, const float *in, float *out, size_t n, int bits);

/* ================================ chain from the spec ================================= */

/* Effect types and parameters accepted in the spec: the table in src/fx/fx_chain.c is the one
 * description (name, kind, unit, range, default, doc); sg_fx_type_schema exposes it and
 * docs/spec.md embeds the reference generated from it. An unknown type or parameter, a wrong kind
 * or an out-of-range value is an SG_E_SPEC error at the spec position of the value, with the
 * allowed values and a did-you-mean. */
typedef struct sg_effect_spec sg_effect_spec; /* include/stemgate/spec.h */
typedef struct sg_fx_chain sg_fx_chain;

/* Validates and builds a chain. fx may be NULL when n == 0 (an empty chain passes audio
 * through). rate in Hz; bpm for tempo-synced delays; spec_file names the file in diagnostics.
 * SG_E_SPEC with d at the offending value's file:line:col; SG_E_NOMEM. */
sg_status sg_fx_chain_create(const sg_effect_spec *fx, int n, double rate, double bpm,
                             const char *spec_file, sg_fx_chain **out, sg_diag *d);
/* Validates an effect list exactly as sg_fx_chain_create does (types, every parameter against
 * the effect's table, delay times at bpm, phaser min/max) without setting anything up: no
 * memory beyond one scratch record, no audio. owner (optional, "stem 'Bass'") names the chain in
 * messages. The spec loader calls it so a typo fails before any stem is rendered.
 * SG_E_SPEC with d at the offending value's file:line:col. */
sg_status sg_fx_check(const sg_effect_spec *fx, int n, double rate, double bpm, const char *owner,
                      const char *spec_file, sg_diag *d);
/* The parameter schema of effect type i (0 <= i < sg_fx_type_count()): its name, a one-line
 * doc and its table (static; never freed). SG_E_RANGE for a bad index. */
int sg_fx_type_count(void);
sg_status sg_fx_type_schema(int i, const char **name, const char **doc, const sg_param_def **params,
                            int *n_params);
/* Processes a block in place. sideL/sideR (optional, may be NULL) feed the detector of any
 * compressor that names a sidechain; without them such a compressor listens to its input. */
void sg_fx_chain_process(sg_fx_chain *c, float *L, float *R, const float *sideL, const float *sideR,
                         size_t n);
/* Back to silence (identical output for identical input after a reset). */
void sg_fx_chain_reset(sg_fx_chain *c);
/* A song whose tempo changes: every tempo-synced delay is rebuilt to follow tempos down to
 * min_bpm (memory allocated here), then sg_fx_chain_set_bpm gives the local tempo between blocks
 * and the delay times glide to it. Effects in Hz or ms do not depend on the tempo. */
sg_status sg_fx_chain_follow_tempo(sg_fx_chain *c, double min_bpm, sg_diag *d);
void sg_fx_chain_set_bpm(sg_fx_chain *c, double bpm);
/* Frames the effects keep ringing after the input stops (reverb RT60 of the slowest band plus
 * pre-delay, delay feedback to -60 dB, ...), summed along the chain; latency not included. */
size_t sg_fx_chain_tail_frames(const sg_fx_chain *c);
/* Frames of processing delay (oversampled saturation, limiter look-ahead), summed. */
size_t sg_fx_chain_latency_frames(const sg_fx_chain *c);
/* One line per effect with every parameter value and unit ("reverb: rt60=2 s ..."), for the
 * notes file. Writes at most cap bytes, NUL-terminated; returns out. */
char *sg_fx_chain_describe(const sg_fx_chain *c, char *out, size_t cap);
/* Number of effects, the type name of effect i ("eq", ...), and the stem named by the first
 * compressor's sidechain parameter (NULL when none). */
int sg_fx_chain_count(const sg_fx_chain *c);
const char *sg_fx_chain_type(const sg_fx_chain *c, int i);
const char *sg_fx_chain_sidechain(const sg_fx_chain *c);
/* Gain reduction statistics (dB, >= 0) of effect i when it is a compressor or limiter
 * (SG_E_UNSUPPORTED otherwise, SG_E_RANGE for a bad index). mean_db may be NULL. */
sg_status sg_fx_chain_gain_reduction(const sg_fx_chain *c, int i, double *max_db, double *mean_db);
void sg_fx_chain_destroy(sg_fx_chain *c);

/* A per-effect observer: called after effect `effect` (0-based, spec order) processed a block,
 * with that effect's own input (inL/inR, a copy taken before the in-place processing), its
 * output (outL/outR: the chain's buffers, to be read, not written) and the sidechain the effect
 * listened to (NULL unless it is a keyed compressor). Runs on the processing thread: whatever it
 * does adds to the block's cost. */
typedef void (*sg_fx_tap_fn)(void *user, int effect, const float *inL, const float *inR,
                             const float *outL, const float *outR, const float *sideL,
                             const float *sideR, size_t n);
/* Installs (fn non-NULL) or removes (fn NULL) the tap. Allocates the input copy for blocks of up
 * to max_block frames here, never in process (longer blocks are processed in pieces, with the
 * same output). The audio is unchanged either way. SG_E_INVAL, SG_E_NOMEM. */
sg_status sg_fx_chain_set_tap(sg_fx_chain *c, sg_fx_tap_fn fn, void *user, size_t max_block,
                              sg_diag *d);

/* ================================ probes: each unit against its design ===================== */

/* A probe builds the exact configured instance of one effect (the same spec, rate and tempo as
 * the chain, fresh state), feeds it a known signal and measures the response against what the
 * parameters say (src/fx/fx_probe.c, methods there):
 *   eq          impulse response, DFT at f0/2, f0, 2 f0 against the analog prototype
 *               (sg_eq_magnitude_db: an independent code path from the coefficients), dB;
 *   compressor  steady levels at threshold + 6/12/24 dB (static curve, Giannoulis et al. eq. 4),
 *               and the attack/release time constants from level steps (peak detector), ms;
 *   delay       echo lag of an impulse (frames, exact), level change per repeat of a tone burst
 *               against feedback x the loop filters' one-pole magnitudes, dB;
 *   reverb      RT60 at 1 kHz and 63 Hz (octave bands) by Schroeder backward integration (ISO
 *               3382-1, T30 = -5..-35 dB) against rt60 / rt60_low, s; pre-delay as the onset
 *               shift against a zero-pre-delay twin, ms;
 *   chorus, flanger, phaser  modulation rate from the period of the complex response to a
 *               steady sine (voices evenly spaced: the response repeats every 1/(voices rate)), Hz;
 *   saturation  total harmonic distortion and fundamental gain of a sine against the tanh curve
 *               evaluated alias-free, dB;
 *   width, pan, gain  side/channel level changes, dB;
 *   limiter     true peak (8x) of an over-driven signal with inter-sample peaks against the
 *               ceiling, dBTP.
 * Chorus, flanger and phaser also report the wet path's energy gain on pink noise (SG_FXQ_WET_GAIN,
 * with independent channels, then the same noise in both), which their in-situ mix estimate
 * needs (a delay's or reverb's does not: its wet path hardly correlates with the dry). A
 * probe is a pure function of (effect spec, rate, bpm): the same arguments give bit-identical
 * results. */
typedef enum sg_fx_quantity {
  SG_FXQ_RESPONSE = 0, /* magnitude response at a frequency, dB */
  SG_FXQ_COMP_CURVE,   /* steady-state gain reduction, dB */
  SG_FXQ_COMP_TIME,    /* attack or release time constant, ms */
  SG_FXQ_RT60,         /* decay time, s */
  SG_FXQ_PREDELAY,     /* ms */
  SG_FXQ_LAG,          /* echo lag, frames */
  SG_FXQ_FEEDBACK,     /* level change per repeat, dB */
  SG_FXQ_MOD_RATE,     /* modulation rate, Hz */
  SG_FXQ_THD,          /* total harmonic distortion, dB */
  SG_FXQ_LEVEL,        /* level change (fundamental, side, channel), dB */
  SG_FXQ_CEILING,      /* output true peak, dBTP; the expectation is an upper bound */
  SG_FXQ_WET_GAIN,     /* wet path energy gain on pink noise, dB (information) */
  SG_FXQ_COUNT_
} sg_fx_quantity;

#define SG_FX_PROBE_MAX 12

typedef struct sg_fx_measure {
  sg_fx_quantity q;
  char what[40];   /* where: "at 45 Hz", "threshold+6 dB", "attack", "1 kHz band" */
  double measured; /* in the quantity's unit (see above) */
  double expected; /* the design's value */
} sg_fx_measure;

typedef struct sg_fx_probe_result {
  int n;
  sg_fx_measure m[SG_FX_PROBE_MAX];
} sg_fx_probe_result;

/* Probes effect e (one spec entry) at rate and bpm: every type reports at least one measurement
 * (a reverb or delay with mix 0 only its wet gain). SG_E_SPEC as sg_fx_chain_create;
 * SG_E_NOMEM. */
sg_status sg_fx_probe(const sg_effect_spec *e, double rate, double bpm, sg_fx_probe_result *out,
                      sg_diag *d);
/* The unit built from `unit` measured against the design of `design` (same effect type): the
 * tests' way to probe a deliberately broken unit (a filter at the wrong frequency, a compressor
 * whose ratio is ignored). sg_fx_probe(e) is sg_fx_probe_against(e, e). SG_E_INVAL when the
 * types differ. */
sg_status sg_fx_probe_against(const sg_effect_spec *unit, const sg_effect_spec *design, double rate,
                              double bpm, sg_fx_probe_result *out, sg_diag *d);

/* The design numbers of one effect, for the in-situ measurements of the pipeline. */
typedef struct sg_fx_design {
  int kind;        /* index of sg_fx_type_schema */
  char type[16];   /* "eq", ... */
  sg_eq_config eq; /* eq */
  sg_compressor_config comp;
  char sidechain[64];    /* compressor: the stem keying it ("" when none) */
  double mix;            /* wet share of delay, reverb, chorus, flanger, phaser, saturation */
  double gain_l, gain_r; /* pan, gain: linear channel gains */
  double width;          /* width */
  sg_saturation_config sat;
  double ceiling_dbtp; /* limiter */
  double probe_hz[3];  /* eq: f0/2, f0, 2 f0 (those below 0.45 rate) */
  int n_probe_hz;
} sg_fx_design;
sg_status sg_fx_design_get(const sg_effect_spec *e, double rate, double bpm, sg_fx_design *out,
                           sg_diag *d);

#ifdef __cplusplus
}
#endif
#endif
