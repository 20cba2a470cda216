/* stemgate DSP primitives: the one home of the small filters and detectors that the effects
 * (src/fx/), the instruments (src/synth/) and the meters (src/analysis/) are built from. Each
 * exists once; the modules above call these instead of keeping their own copies.
 *
 * Methods implemented (src/dsp/):
 *   - Biquad: R. Bristow-Johnson, "Cookbook formulae for audio EQ biquad filter coefficients"
 *     (the Audio-EQ-Cookbook) designs, run in transposed direct form II with double state
 *     (TDF-II has the lowest round-off noise of the direct forms for floating point, Smith,
 *     "Introduction to Digital Filters", "Transposed Direct-Forms"). First-order low/high-pass
 *     sections by the bilinear transform with pre-warping.
 *   - One-pole low-pass y = (1-a) x + a y[-1] and the one-pole/one-zero high-pass
 *     y = a (y[-1] + x - x[-1]), a = exp(-2 pi fc / fs) (impulse-invariant pole).
 *   - DC blocker y = x - x[-1] + R y[-1] (J. O. Smith, "Introduction to Digital Filters",
 *     "DC Blocker"), pole radius R chosen by the caller or from a -3 dB frequency.
 *   - Parameter smoother: one-pole exponential approach cur = target + a (cur - target) with
 *     a = exp(-1 / (tau fs)) (63 % of a step after tau seconds).
 *   - Oversampled (true) peak detector after ITU-R BS.1770-4 Annex 2: polyphase interpolation
 *     (4x below 96 kHz, 2x below 192 kHz, as BS.1770 and libebur128) by libebur128's 49-tap
 *     Hann-windowed sinc for meters, or by a Kaiser-windowed sinc with long phases at 8x for a
 *     limiter's detector; block processing without per-sample branches.
 *   - Fast log2 / exp2 for per-sample level and gain conversions (dB <-> linear): exponent from
 *     the IEEE bits, the mantissa's logarithm by the atanh series 2 atanh((m-1)/(m+1)) and 2^f
 *     by its Taylor series on |f| <= 1/2 (error below 1e-12 relative; plain arithmetic, so
 *     vectorisable and the same bits on every machine, unlike libm's).
 *   - Look-ahead limiter core: sliding maximum of a detector over a window (monotonic wedge,
 *     D. Lemire, "Streaming maximum-minimum filter using no more than three comparisons per
 *     element", 2006), gain requirement, exponential release and a linear attack ramp over the
 *     look-ahead (box filter).
 *   - True-peak guard: that limiter core keyed by the meters' own BS.1770-4 Annex 2 detector,
 *     run after a limiter whose detector interpolates differently, so that what a meter reads
 *     of the output stays under the threshold.
 *
 * Conventions (docs/ARCHITECTURE.md): caller-owned state; nothing in a tick/process function
 * allocates, locks or does I/O; recursive state is flushed below 1e-25 (sg_dsp_flush) where a
 * decay could reach denormals. in == out is allowed for every process function.
 */
#ifndef STEMGATE_DSP_H
#define STEMGATE_DSP_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "stemgate/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Flushes values that would decay into denormals (state of recursive filters): below 1e-25
 * (-500 dB) a value is inaudible, and denormal arithmetic is up to 100x slower on x86. */
static inline double sg_dsp_flush(double x) { return fabs(x) < 1e-25 ? 0.0 : x; }

/* log2(x) for finite x > 0 (normal; 0, denormals and negatives give garbage: callers clamp),
 * within 1e-12 absolute. Branch-free, inlined, so loops over it vectorise. */
static inline double sg_fast_log2(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  /* x = m 2^e with m in [1, 2), then [sqrt(1/2), sqrt(2)) (no 64-bit compares: SSE2 has none,
   * and the loops should vectorise there too). */
  const uint64_t mb = (b & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull;
  const uint64_t eb = (b >> 52) | 0x4330000000000000ull; /* 2^52 + e + 1023 */
  double m, e;
  memcpy(&m, &mb, sizeof m);
  memcpy(&e, &eb, sizeof e);
  e -= 4503599627370496.0 + 1023.0;
  const int hi = m > 1.4142135623730951;
  m = hi ? 0.5 * m : m;
  e = hi ? e + 1 : e;
  const double s = (m - 1) / (m + 1), z = s * s; /* |s| <= 0.1716, ln m = 2 atanh s */
  const double p =
      1 + z * (1.0 / 3 + z * (1.0 / 5 + z * (1.0 / 7 + z * (1.0 / 9 + z * (1.0 / 11 + z / 13)))));
  return e + 2.8853900817779268 * s * p; /* 2 / ln 2 */
}

/* sg_fast_exp2 without its clamp, for y already in [-1022, 1023] (same bits there): a loop over
 * it has no compare, so GCC vectorises it even under the default -ftrapping-math, which keeps
 * the clamp's selects from being if-converted. */
static inline double sg_fast_exp2_inrange(double y) {
  const double k = (y + 6755399441055744.0) - 6755399441055744.0; /* 1.5 2^52: round */
  const double f = y - k, f2 = f * f, f4 = f2 * f2;
  const double p01 = 1.0 + 0.6931471805459336 * f,
               p23 = 0.24022650695813455 + 0.05550410941205712 * f;
  const double p45 = 0.009618129159336788 + 0.001333345056819519 * f;
  const double p67 = 0.00015403455887123276 + 1.531007934840581e-05 * f;
  const double p = (p01 + p23 * f2) + (p45 + p67 * f2) * f4 + 1.3255218600736884e-06 * (f4 * f4);
  /* 2^k: k + 1023 lands in the low mantissa bits of (k + 1023) + 2^52, shifted into the exponent
   * field (same bits as an integer conversion, and vectorises without AVX-512's cvtpd2qq). */
  const double kb = (k + 1023.0) + 4503599627370496.0;
  uint64_t bits;
  memcpy(&bits, &kb, sizeof bits);
  bits <<= 52;
  double scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

/* 2^y for y in [-1022, 1023] (clamped), within 1.2e-12 relative: y = k + f, k rounded (ties to
 * even), 2^f by a degree-8 Chebyshev fit on |f| <= 1/2 evaluated as Estrin pairs (a short
 * dependency chain), 2^k put into the exponent bits. Branch-free and inlined, so loops over it
 * vectorise (with -fno-trapping-math; sg_fast_exp2_inrange without); the synth's envelopes and
 * tanh and the dynamics' gain all use this one. */
static inline double sg_fast_exp2(double y) {
  return sg_fast_exp2_inrange(y < -1022.0 ? -1022.0 : (y > 1023.0 ? 1023.0 : y));
}

/* x86-64 (GCC, Clang): the hottest kernels are also compiled for AVX2 (function attribute
 * target("avx2"): wider vectors, no FMA) and one build is chosen at init. Both do the same IEEE
 * operations in the same order (no contraction in ISO C mode, no reassociation), so they give
 * the same bits; tests compare them. sg_dsp_avx2(): the CPU has AVX2 and the environment
 * variable SG_BASELINE_ISA (for comparing the builds' files; not a user option) is unset. */
#if defined(__x86_64__) && defined(__GNUC__)
#define SG_DSP_AVX2 1
#define SG_DSP_TARGET_AVX2 __attribute__((target("avx2")))
#else
#define SG_DSP_AVX2 0
#define SG_DSP_TARGET_AVX2
#endif
int sg_dsp_avx2(void);

/* The calling thread's floating-point unit flushes denormal results to zero and reads denormal
 * inputs as zero (x86 SSE: the MXCSR's FTZ and DAZ bits; elsewhere nothing, and the units' own
 * sg_dsp_flush on their recursive state carries it). Every thread that runs DSP sets it so a
 * render is bit-identical whatever the thread count. Returns the previous mode for
 * sg_dsp_denormals_restore. */
unsigned sg_dsp_denormals_off(void);
void sg_dsp_denormals_restore(unsigned prev);

/* Dot product of two float arrays with eight independent partial sums: lets the compiler keep
 * several multiply-adds in flight (and use SIMD) without reassociation flags. The float
 * accumulation error (~1e-7 relative) is far below what the FIR filters here resolve. */
static inline float sg_dsp_dot(const float *a, const float *b, int n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k)
      s[k] += a[i + k] * b[i + k];
  float r = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; i < n; ++i)
    r += a[i] * b[i];
  return r;
}

/* Zeroth-order modified Bessel function of the first kind (Kaiser window), power series. */
double sg_dsp_bessel_i0(double x);
/* Kaiser-windowed sinc low-pass: n taps (n <= 1024; odd for a symmetric centre tap), cutoff fc
 * as a fraction of the sampling rate, window parameter beta, scaled to DC gain `gain`. */
void sg_dsp_kaiser_sinc(float *h, int n, double fc, double beta, double gain);

/* ================================ biquad ================================= */

typedef enum sg_biquad_type {
  SG_BIQUAD_LOWPASS = 0,
  SG_BIQUAD_HIGHPASS,
  SG_BIQUAD_BANDPASS, /* constant 0 dB peak gain (cookbook "BPF, constant 0 dB peak gain") */
  SG_BIQUAD_NOTCH,
  SG_BIQUAD_PEAK,     /* peaking EQ, gain_db at freq */
  SG_BIQUAD_LOWSHELF, /* shelf midpoint (gain_db/2) at freq, slope set by q */
  SG_BIQUAD_HIGHSHELF,
  SG_BIQUAD_TYPE_COUNT_
} sg_biquad_type;

/* One normalised second-order section (a0 = 1). A first-order section has b2 = a2 = 0. */
typedef struct sg_biquad_coefs {
  double b0, b1, b2, a1, a2;
} sg_biquad_coefs;

/* Cookbook design of one section. freq in Hz (clamped to [1, 0.49 rate]), q > 0 (clamped to
 * [0.05, 100]), gain_db for peak/shelves (clamped to +-48). SG_E_INVAL for a bad type or a rate
 * below 1 kHz. */
sg_status sg_biquad_design(sg_biquad_type t, double freq, double q, double gain_db, double rate,
                           sg_biquad_coefs *c);
/* First-order low-pass (highpass = 0) or high-pass (1) by the bilinear transform pre-warped
 * at freq (Hz, clamped to [1, 0.49 rate]): -3.01 dB at freq, 6.02 dB/octave. */
void sg_biquad_design_first_order(int highpass, double freq, double rate, sg_biquad_coefs *c);
/* Magnitude in dB of the realised section at frequency f (evaluates H(e^jw) of the coefs). */
double sg_biquad_coefs_mag_db(const sg_biquad_coefs *c, double f, double rate);

/* A single section with its transposed-direct-form-II state (mono). */
typedef struct sg_biquad {
  sg_biquad_coefs c;
  double z1, z2;
} sg_biquad;

void sg_biquad_init(sg_biquad *b, const sg_biquad_coefs *c);
void sg_biquad_reset(sg_biquad *b);
/* in == out allowed; the state is flushed at the end of the block. */
void sg_biquad_process(sg_biquad *b, const float *in, float *out, size_t n);
/* The kernel behind sg_biquad_process for state kept elsewhere (z[0] = z1, z[1] = z2). */
void sg_biquad_run(const sg_biquad_coefs *c, double *z, const float *in, float *out, size_t n);
/* sg_biquad_run on two channels (state zl, zr) in place, in one loop: the two recursions are
 * independent chains the CPU overlaps (a section's speed is the latency of its chain), each
 * channel's samples the same bits as sg_biquad_run. */
void sg_biquad_run2(const sg_biquad_coefs *c, double *zl, double *zr, float *l, float *r, size_t n);
/* Two cascaded sections c[0] then c[1] (states z[0], z[1]) in place in one loop: the second's
 * recursion overlaps the first's instead of waiting for the whole block, and the samples are the
 * bits of sg_biquad_run with c[0] then with c[1] (the float between them is kept). */
void sg_biquad_run_pair(const sg_biquad_coefs *c, double (*z)[2], float *x, size_t n);
/* sg_biquad_run_pair on two channels (states zl[0..1], zr[0..1]): four chains in one loop. */
void sg_biquad_run2_pair(const sg_biquad_coefs *c, double (*zl)[2], double (*zr)[2], float *l,
                         float *r, size_t n);

/* One sample (for per-sample use inside an instrument's own loop). No flush: a caller ticking
 * per sample owns the state's lifetime (instrument voices are reset between notes). */
static inline double sg_biquad_tick(sg_biquad *b, double x) {
  double y = b->c.b0 * x + b->z1;
  b->z1 = b->c.b1 * x - b->c.a1 * y + b->z2;
  b->z2 = b->c.b2 * x - b->c.a2 * y;
  return y;
}

/* ================================ one-pole filters ================================= */

/* Pole for a time constant: exp(-1 / (tau_sec rate)); 0 (no smoothing) for tau_sec <= 0. */
static inline double sg_onepole_coef_tau(double tau_sec, double rate) {
  if (tau_sec <= 0)
    return 0.0;
  return exp(-1.0 / (tau_sec * rate));
}

/* Pole for a corner frequency: exp(-2 pi hz / rate) (impulse invariance of the analog RC). */
static inline double sg_onepole_coef_hz(double hz, double rate) {
  return exp(-2 * SG_PI * hz / rate);
}

/* One-pole low-pass y = (1 - a) x + a y[-1]: unity gain at DC. */
static inline double sg_onepole_lp_tick(double *y1, double a, double x) {
  double y = (1 - a) * x + a * *y1;
  *y1 = sg_dsp_flush(y);
  return y;
}

/* One-pole/one-zero high-pass y = a (y[-1] + x - x[-1]): zero at DC, unity gain at Nyquist. */
static inline double sg_onepole_hp_tick(double *x1, double *y1, double a, double x) {
  double y = a * (*y1 + x - *x1);
  *x1 = x;
  *y1 = sg_dsp_flush(y);
  return y;
}

/* ================================ DC blocker ================================= */

/* y = x - x[-1] + r y[-1]: a zero at DC and a pole at r just inside the unit circle. */
typedef struct sg_dc_blocker {
  double r;      /* pole radius, (0, 1) */
  double x1, y1; /* state */
} sg_dc_blocker;

/* Pole radius exp(-2 pi hz / rate) for a -3 dB point at about hz (hz << rate). */
static inline double sg_dc_blocker_pole(double hz, double rate) {
  return sg_onepole_coef_hz(hz, rate);
}
/* r is the pole radius (sg_dc_blocker_pole, or a caller's own approximation). */
void sg_dc_blocker_init(sg_dc_blocker *st, double r);
void sg_dc_blocker_reset(sg_dc_blocker *st);

static inline double sg_dc_blocker_tick(sg_dc_blocker *st, double x) {
  double y = x - st->x1 + st->r * st->y1;
  st->x1 = x;
  st->y1 = sg_dsp_flush(y);
  return y;
}

/* in == out allowed. */
void sg_dc_blocker_process(sg_dc_blocker *st, const float *in, float *out, size_t n);
/* Two channels in place (a on l, b on r), bit-identical to sg_dc_blocker_process on each, about
 * three times faster: the two recursions interleaved, the flush checked per stretch. */
void sg_dc_blocker_process2(sg_dc_blocker *a, sg_dc_blocker *b, float *l, float *r, size_t n);

/* ================================ parameter smoother ================================= */

/* One step of the exponential approach: target + a (cur - target). */
static inline double sg_smooth_step(double cur, double target, double a) {
  return target + a * (cur - target);
}

typedef struct sg_smoother {
  double cur, target; /* value now and value being approached */
  double a;           /* per-tick pole, sg_onepole_coef_tau(tau, tick rate) */
} sg_smoother;

/* Starts at value (no glide); tau_sec is the time constant at tick_rate ticks per second. */
void sg_smoother_init(sg_smoother *s, double value, double tau_sec, double tick_rate);
/* New target; the value glides towards it on the following ticks. */
static inline void sg_smoother_set(sg_smoother *s, double target) { s->target = target; }
/* Jumps to the target (reset). */
static inline void sg_smoother_snap(sg_smoother *s) { s->cur = s->target; }
static inline double sg_smoother_tick(sg_smoother *s) {
  s->cur = sg_smooth_step(s->cur, s->target, s->a);
  return s->cur;
}

/* ================================ true-peak detector ================================= */

#define SG_TPD_MAX_OS 8    /* largest oversampling factor */
#define SG_TPD_MAX_TAPS 64 /* largest number of taps per phase */
#define SG_TPD_BLOCK 256   /* frames per inner block of sg_truepeak_process / _push_block */
#define SG_TPD_RINGS 7     /* push_block's bound: rings of width 2, 4, .. 64 around the centre */
#define SG_TPD_CENTRE 8    /* push_block's bound: central taps summed exactly */

typedef enum sg_truepeak_design {
  /* BS.1770-4 Annex 2 class filter, as libebur128 builds it: a 49-tap Hann-windowed sinc at
   * the oversampled rate (~12 taps per phase), phases not normalised. The meters use it, so
   * that readings stay those of the reference implementation (within ~0.01 dB). */
  SG_TPD_BS1770 = 0,
  /* Kaiser-windowed sinc with `taps` per phase, each phase normalised to unity DC gain: reads
   * closer to the ideal reconstruction near Nyquist (a limiter's detector: 8x, 64 taps). */
  SG_TPD_KAISER = 1
} sg_truepeak_design;

typedef struct sg_truepeak_config {
  sg_truepeak_design design; /* default SG_TPD_BS1770 */
  int oversample; /* 1, 2, 4 or 8; 0 (default) = by rate as BS.1770-4: 4x below 96 kHz, 2x
                     below 192 kHz, 1x above */
  int taps;       /* Kaiser: taps per phase, 4..64 (even), default 48 */
  double beta;    /* Kaiser: window parameter, default 8 (~80 dB stopband) */
} sg_truepeak_config;

/* One channel. The interpolator is a Kaiser-windowed sinc cut off at the base Nyquist, split
 * into `oversample` phases, each normalised to unity DC gain so a constant reads exactly its
 * value; the detector reports the largest |value| of the base samples and of the interpolated
 * points between them. */
typedef struct sg_truepeak {
  int os, taps;
  float ph[SG_TPD_MAX_OS][SG_TPD_MAX_TAPS]; /* phases, taps reversed (one contiguous dot) */
  double l1;                                /* max over phases of sum |h| */
  /* block mode work list: phases that are not a plain unit tap (a unit tap reproduces a base
   * sample, which the sample peak already covers), and the tap range where any is non-zero */
  int nact, act[SG_TPD_MAX_OS], t0, tn;
  /* push_block's bounds on |interpolated point| (see truepeak.c): rings of taps around the
   * centre pair (widths 2, 4, 8, ..., the last the whole window), the largest sum |h| over a
   * ring's own taps of any phase; the central cw taps of every phase (hc[j][p]) and each
   * phase's sum |h| over each ring outside them (tail[r][p]) */
  int nring, rc, cw;
  float ring_l1[SG_TPD_RINGS];
  float hc[SG_TPD_CENTRE][SG_TPD_MAX_OS];
  float tail[SG_TPD_RINGS][SG_TPD_MAX_OS];
  /* streaming (per sample) */
  float hist[2 * SG_TPD_MAX_TAPS]; /* input history (doubled ring) */
  size_t hpos;
  int loud;      /* history samples that could make an inter-sample peak (see quiet) */
  double quiet;  /* |x| below this everywhere in the history: no point can exceed thresh */
  double thresh; /* the quiet threshold itself (0 = never skip) */
  /* block */
  float buf[SG_TPD_MAX_TAPS + SG_TPD_BLOCK]; /* taps-1 history frames, then the block */
  float peak;                                /* largest |value| since reset */
} sg_truepeak;

void sg_truepeak_config_init(sg_truepeak_config *c);
/* SG_E_INVAL for a NULL argument, a rate outside 8..768 kHz or an oversampling factor other
 * than 0/1/2/4/8; taps are clamped to [4, 64] and made even. */
sg_status sg_truepeak_init(sg_truepeak *st, const sg_truepeak_config *c, double rate);
void sg_truepeak_reset(sg_truepeak *st);
/* Interpolator delay in base frames (taps / 2): a streaming value is this many frames old. */
size_t sg_truepeak_latency(const sg_truepeak *st);

/* Block mode: feeds n samples read with a stride (interleaved channel c of C: x + c, stride
 * C), updates the running peak and returns it (linear). The peak of a stream does not depend
 * on how it is split into calls, and is exactly the largest |value| of the full computation:
 * stretches whose samples times the filter's L1 norm cannot beat the running peak are not
 * interpolated, since no point there could change it. */
float sg_truepeak_process(sg_truepeak *st, const float *x, size_t stride, size_t n);
/* Linear true peak since reset (includes the sample peak). */
static inline float sg_truepeak_value(const sg_truepeak *st) { return st->peak; }

/* Streaming mode (a limiter's detector): pushes one sample and returns the largest |value|
 * among the interpolated points between the two base samples sg_truepeak_latency() frames
 * back, and those two samples. With a quiet threshold t set (sg_truepeak_set_quiet; 0 = never
 * skip), a frame whose interpolated points provably all stay below t may report only its two
 * base samples: the value reported is then never above the full computation's, and equal to
 * it whenever that exceeds t. */
void sg_truepeak_set_quiet(sg_truepeak *st, double quiet_thresh);
double sg_truepeak_push(sg_truepeak *st, double x);
/* n sg_truepeak_push calls at once (x[i] pushed, pk[i] its value as a float, which loses
 * nothing): the same contract, and a far tighter proof of quiet (bounds over rings of taps,
 * then the central taps' exact sum), so a loud stream is interpolated only near the frames
 * that can reach the threshold. Calls of both kinds may be mixed on one detector. */
void sg_truepeak_push_block(sg_truepeak *st, const float *x, size_t n, float *pk);

/* ================================ look-ahead limiter core ================================= */

/* Sliding maximum over the last `win` pushed values (monotonic wedge), O(1) amortised. The
 * caller provides val/idx arrays of cap >= win + 1 entries. */
typedef struct sg_slidemax {
  float *val;
  uint64_t *idx;
  size_t cap, win, head, tail;
  uint64_t t; /* values pushed since reset */
} sg_slidemax;

void sg_slidemax_init(sg_slidemax *s, float *val, uint64_t *idx, size_t cap, size_t win);
void sg_slidemax_reset(sg_slidemax *s);
/* Pushes v and returns the maximum of the last win values (including v). */
static inline float sg_slidemax_push(sg_slidemax *s, float v) {
  while (s->tail != s->head) {
    size_t last = s->tail == 0 ? s->cap - 1 : s->tail - 1;
    if (s->val[last] > v)
      break;
    s->tail = last;
  }
  uint64_t k = s->t++;
  s->val[s->tail] = v;
  s->idx[s->tail] = k;
  s->tail = s->tail + 1 == s->cap ? 0 : s->tail + 1;
  while (s->idx[s->head] + s->win <= k)
    s->head = s->head + 1 == s->cap ? 0 : s->head + 1;
  return s->val[s->head];
}
/* Current maximum (0 when empty). */
static inline float sg_slidemax_max(const sg_slidemax *s) {
  return s->head == s->tail ? 0.0f : s->val[s->head];
}

/* Gain computer of a look-ahead limiter: for each frame's detector peak it returns the gain to
 * apply to the frame la - 1 + hold frames earlier. With a window of la + 2 hold frames, every
 * gain applied within hold frames of a peak is <= threshold / peak and flat over +-hold frames
 * (a reconstruction filter sees a constant gain across its main lobe), reached by a linear ramp
 * over la frames and released exponentially. */
typedef struct sg_limiter_core {
  size_t la, hold, win; /* look-ahead L, hold H, window L + 2H */
  sg_slidemax mx;       /* sliding maximum of the peaks (window win) */
  float *mem;           /* one allocation: wedge values, box ring */
  uint64_t *idx;        /* wedge indices */
  float *box;           /* box filter ring of length la */
  size_t box_pos, box_refresh;
  size_t ones; /* frames since the box last took a value other than 1 */
  double box_sum;
  double rel_c, a_rel; /* release follower state and pole */
  double thresh;       /* linear threshold */
} sg_limiter_core;

/* la >= 1 frames of look-ahead, hold frames, release pole a_rel (sg_onepole_coef_tau),
 * linear threshold. Allocates once; SG_E_INVAL, SG_E_NOMEM. */
sg_status sg_limiter_core_init(sg_limiter_core *st, size_t la, size_t hold, double a_rel,
                               double thresh);
void sg_limiter_core_reset(sg_limiter_core *st);
void sg_limiter_core_free(sg_limiter_core *st);
/* Frames between a peak entering and its gain coming out: la - 1 + hold. */
static inline size_t sg_limiter_core_delay(const sg_limiter_core *st) {
  return st->la - 1 + st->hold;
}
/* One frame: pk is the detector's peak (linear, >= 0); returns the gain (<= 1). */
double sg_limiter_core_tick(sg_limiter_core *st, double pk);
/* n frames at once: g[i] is what sg_limiter_core_tick(st, pk[i]) would return, bit for bit
 * (the two may be mixed); a stretch with nothing above the threshold costs almost nothing. */
void sg_limiter_core_process(sg_limiter_core *st, const float *pk, double *g, size_t n);

/* ================================ true-peak guard ================================= */

/* A stereo-linked look-ahead gain stage whose detector is the meters' true-peak interpolator
 * (SG_TPD_BS1770: 4x below 96 kHz, libebur128's filter, phases not normalised). A limiter with
 * a closer-to-ideal detector (8x Kaiser) can leave points that this interpolator reads up to a
 * few tenths of a dB above its ceiling; the guard brings each such point down to the threshold
 * with a gain held flat over the interpolator's whole span (hold >= taps / 2 frames around the
 * point), so a BS.1770 meter reading of the output stays at or under the threshold (up to float
 * rounding). Below the threshold it is a pure delay. */
typedef struct sg_tp_guard {
  sg_truepeak det[2];   /* the meters' detector, streaming, quiet below the threshold */
  sg_limiter_core core; /* hold, attack ramp, release */
  size_t delay, dpos;   /* detector latency + core delay; delay line position */
  float *dl[2];         /* delay lines (allocated in init) */
  double gr_db_max;     /* largest gain reduction since init/reset, dB */
} sg_tp_guard;

/* thresh_dbtp: the largest meter reading let through; rate 8..768 kHz. Attack 5 ms, release
 * 150 ms: gain dips that span several cycles of the low end, so riding the peaks of one
 * polarity leaves next to no DC offset (nothing after the guard could take it out without
 * moving the peaks again). SG_E_INVAL, SG_E_NOMEM. */
sg_status sg_tp_guard_init(sg_tp_guard *g, double thresh_dbtp, double rate);
void sg_tp_guard_reset(sg_tp_guard *g);
void sg_tp_guard_free(sg_tp_guard *g);
/* Frames the output lags the input. */
static inline size_t sg_tp_guard_latency(const sg_tp_guard *g) { return g->delay; }
/* In place, two distinct channels; R NULL: one channel (exactly what L gets when R == L: the
 * second detector and delay line are then not run, so do not mix the two forms on one guard). */
void sg_tp_guard_process(sg_tp_guard *g, float *L, float *R, size_t n);

#ifdef __cplusplus
}
#endif
#endif
