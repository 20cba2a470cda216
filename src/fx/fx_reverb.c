/* Feedback delay network reverb after Jot & Chaigne (1991) and Jot (1992). See fx.h.
 *
 * Loop per sample: y_i = line_i delayed by m_i; a_i = absorb_i(y_i); f = (H/sqrt(N)) a;
 * line_i <- f_i + b_i u, with H the Sylvester-Hadamard matrix (orthogonal after scaling, so the
 * loop without absorption is lossless and every mode decays only through the absorbers).
 * Absorber gains: per round trip of m_i samples the line loses 60 dB * m_i / (T60 fs), i.e.
 * g_i = 10^(-3 m_i / (T60 fs)), which makes every mode of the network decay at the same rate
 * (Jot's condition). The low band (below ~250 Hz, one-pole split) uses rt60_low, and a one-pole
 * low-pass per line brings the gain at Nyquist to that of rt60 * (1 - damping). */
#include "stemgate/fx.h"

#include "fx/fx_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Schroeder input diffusers (ms): the classic 142/107/379/277 samples at 29.761 kHz. */
static const double k_ap_ms[SG_REVERB_DIFFUSERS] = {4.771, 3.595, 12.735, 9.307};

void sg_reverb_config_init(sg_reverb_config *c) {
  c->rt60 = 2.0;
  c->rt60_low = 0;
  c->damping = 0.3;
  c->predelay_ms = 10;
  c->size = 1;
  c->diffusion = 0.6;
  c->mix = 0.25;
  c->lines = 16;
  c->mod_depth_ms = 0;
  c->mod_rate_hz = 0.7;
}

static int is_prime(size_t v) {
  if (v < 2)
    return 0;
  for (size_t d = 2; d * d <= v; ++d)
    if (v % d == 0)
      return 0;
  return 1;
}

/* Sign of entry (r, c) of the Sylvester-Hadamard matrix: (-1)^popcount(r & c). */
static double hsign(int r, int c) {
  int v = r & c, p = 0;
  while (v) {
    p ^= v & 1;
    v >>= 1;
  }
  return p ? -1.0 : 1.0;
}

static void set_gains(sg_reverb *st) {
  const sg_reverb_config *c = &st->cfg;
  double fs = st->rate, t_low = c->rt60_low > 0 ? c->rt60_low : c->rt60;
  double t_high = c->rt60 * (1 - c->damping);
  for (int i = 0; i < st->n; ++i) {
    /* A modulated line's mean delay is len + swing/2. */
    double m = (double)st->len[i] + (i >= st->n - 4 ? 0.5 * st->mod_d : 0.0);
    st->g_mid[i] = pow(10.0, -3.0 * m / (c->rt60 * fs));
    st->g_low[i] = pow(10.0, -3.0 * m / (t_low * fs));
    double g_hi = pow(10.0, -3.0 * m / (t_high * fs));
    double r = g_hi / st->g_mid[i]; /* wanted Nyquist gain of the damping low-pass */
    st->hf_b[i] = (1 - r) / (1 + r);
  }
  st->lp_a = sg_onepole_coef_hz(250.0, fs);
}

sg_status sg_reverb_init(sg_reverb *st, const sg_reverb_config *cin, double rate) {
  if (!st || !cin || !(rate >= 8000.0 && rate <= 384000.0))
    return SG_E_INVAL;
  memset(st, 0, sizeof *st);
  sg_reverb_config *c = &st->cfg;
  *c = *cin;
  c->rt60 = sg__clamp(c->rt60, 0.1, 30);
  c->rt60_low = c->rt60_low > 0 ? sg__clamp(c->rt60_low, 0.1, 30) : 0;
  c->damping = sg__clamp(c->damping, 0, 0.9);
  c->predelay_ms = sg__clamp(c->predelay_ms, 0, 250);
  c->size = sg__clamp(c->size, 0.25, 2);
  c->diffusion = sg__clamp(c->diffusion, 0, 0.8);
  c->mix = sg__clamp(c->mix, 0, 1);
  c->lines = c->lines <= 8 ? 8 : 16;
  c->mod_depth_ms = sg__clamp(c->mod_depth_ms, 0, 2);
  c->mod_rate_hz = sg__clamp(c->mod_rate_hz, 0.05, 5);
  st->rate = rate;
  st->mod_d = c->mod_depth_ms * 1e-3 * rate;
  double w = 2 * SG_PI * c->mod_rate_hz / rate;
  st->rot_c = cos(w), st->rot_s = sin(w);
  st->mod_c = 1, st->mod_s = 0;
  st->n = c->lines;
  /* Line lengths spread geometrically over 22..78 ms (times size), moved to distinct primes so
   * that no two lines share a common period (mode density, no flutter). */
  size_t total = 0;
  for (int i = 0; i < st->n; ++i) {
    double ms = 22.0 * pow(78.0 / 22.0, (double)i / (st->n - 1)) * c->size;
    size_t m = (size_t)(ms * 1e-3 * rate);
    if (m < 17)
      m = 17;
    while (!is_prime(m) || (i > 0 && m <= st->len[i - 1]))
      ++m;
    st->len[i] = m;
    /* Modulated lines read up to mod_d further back, plus 3 frames for the interpolator. */
    st->cap[i] = m + (st->mod_d > 0 && i >= st->n - 4 ? (size_t)ceil(st->mod_d) + 3 : 0);
    total += st->cap[i];
  }
  st->pre_len = (size_t)floor(c->predelay_ms * 1e-3 * rate + 0.5);
  size_t ap_total = 0;
  for (int k = 0; k < SG_REVERB_DIFFUSERS; ++k) {
    st->ap_len[k] = (size_t)(k_ap_ms[k] * 1e-3 * rate * (0.5 + 0.5 * c->size)) + 1;
    ap_total += st->ap_len[k];
  }
  size_t nfl = total + 2 * (st->pre_len + 1) + 2 * ap_total;
  st->mem = calloc(nfl, sizeof(float));
  if (!st->mem)
    return SG_E_NOMEM;
  float *p = st->mem;
  for (int i = 0; i < st->n; ++i) {
    st->line[i] = p;
    p += st->cap[i];
  }
  st->pre = p;
  p += 2 * (st->pre_len + 1);
  for (int ch = 0; ch < 2; ++ch)
    for (int k = 0; k < SG_REVERB_DIFFUSERS; ++k) {
      st->ap[ch][k] = p;
      p += st->ap_len[k];
    }
  set_gains(st);
  st->a_smooth = sg_onepole_coef_tau(SG__SMOOTH_SEC, rate);
  st->mix_cur = st->mix_target = c->mix;
  st->avx2 = sg_dsp_avx2();
  return SG_OK;
}

void sg_reverb_reset(sg_reverb *st) {
  if (!st->mem)
    return;
  size_t total = 0, ap_total = 0;
  for (int i = 0; i < st->n; ++i)
    total += st->cap[i];
  for (int k = 0; k < SG_REVERB_DIFFUSERS; ++k)
    ap_total += st->ap_len[k];
  st->mod_c = 1, st->mod_s = 0;
  st->mod_count = 0;
  memset(st->mem, 0, (total + 2 * (st->pre_len + 1) + 2 * ap_total) * sizeof(float));
  memset(st->pos, 0, sizeof st->pos);
  memset(st->lp_s, 0, sizeof st->lp_s);
  memset(st->hf_s, 0, sizeof st->hf_s);
  memset(st->ap_pos, 0, sizeof st->ap_pos);
  st->pre_pos = 0;
  st->mix_cur = st->mix_target;
}

void sg_reverb_free(sg_reverb *st) {
  if (!st)
    return;
  free(st->mem);
  st->mem = NULL;
}

/* Value d frames before the write index w (d in [1, cap - 3]), 4-point cubic Hermite. */
static double read_line(const float *b, size_t cap, size_t w, double d) {
  double fi = floor(d), t = d - fi;
  size_t i = (size_t)fi;
  size_t i1 = (w + cap - i) % cap; /* d = i exactly */
  size_t i0 = i1 + 1 == cap ? 0 : i1 + 1, i2 = i1 == 0 ? cap - 1 : i1 - 1;
  size_t i3 = i2 == 0 ? cap - 1 : i2 - 1;
  double p0 = b[i0], p1 = b[i1], p2 = b[i2], p3 = b[i3];
  double c1 = 0.5 * (p2 - p0), c2 = p0 - 2.5 * p1 + 2 * p2 - 0.5 * p3;
  double c3 = 0.5 * (p3 - p0) + 1.5 * (p1 - p2);
  return ((c3 * t + c2) * t + c1) * t + p1;
}

void sg_reverb_set_mix(sg_reverb *st, double mix) { st->mix_target = sg__clamp(mix, 0, 1); }

#define RV_SUB 64 /* frames per sub-block (fewer when the shortest line is shorter) */

/* Sub-blocks of B frames with N lines (fx_reverb_lines.h, compiled for 8 and for 16 lines, so
 * the per-line loops have a fixed trip count and vectorise). Every line is at least B + 3 frames
 * long, so everything a sub-block reads from the lines (the cubic read's newest point lies
 * len - 2 back) was written before it starts, and no write of the sub-block lands where a later
 * frame of it reads: the lines are read for the whole sub-block, the network runs frame by frame
 * on the frames x lines matrix, and the lines are written back. Each value gets the same
 * operations in the same order whatever the sub-block length, so the output does not depend on
 * how the caller splits blocks. The network runs in single precision: the lines store floats, so
 * every round trip is rounded to float anyway, and the recursion's own rounding (relative 6e-8
 * per operation) is far below what the decay (>= 0.005 dB per round trip) or the RT60 tests can
 * see. No fused multiply-add and no reassociation: the AVX2 build of the body (SG_DSP_AVX2)
 * gives the same bits as the baseline one. */
#if defined(__GNUC__)
#define RV_INLINE static inline __attribute__((always_inline))
#else
#define RV_INLINE static inline
#endif
#define RV_ALIGN _Alignas(32)

/* Four lines of one frame (GCC/Clang generic vectors: SSE on x86-64, NEON on arm64, plain code
 * elsewhere; element-wise IEEE operations, the same bits as the scalar ones). */
typedef float rv_v4 __attribute__((vector_size(16)));
typedef int32_t rv_i4 __attribute__((vector_size(16)));

RV_INLINE float rv_flush(float x) { return fabsf(x) < 1e-25f ? 0.0f : x; }

/* rv_flush on four lanes: zero where |x| < 1e-25. */
RV_INLINE rv_v4 rv_vflush(rv_v4 x) {
  const rv_i4 tiny = (rv_v4)((rv_i4)x & 0x7fffffff) < 1e-25f;
  return (rv_v4)((rv_i4)x & ~tiny);
}

RV_INLINE rv_v4 rv_load(const float *p) {
  rv_v4 v;
  memcpy(&v, p, sizeof v);
  return v;
}

RV_INLINE void rv_store(float *p, rv_v4 v) { memcpy(p, &v, sizeof v); }

/* One Schroeder allpass y = -g x + d, store x + g y over m frames of its ring (m <= its length:
 * no frame reads what another writes). */
RV_INLINE void rv_allpass(float *restrict buf, float *restrict u, size_t m, float g) {
  for (size_t t = 0; t < m; ++t) {
    const float v = -g * u[t] + buf[t];
    buf[t] = rv_flush(u[t] + g * v);
    u[t] = v;
  }
}

/* One Hadamard butterfly over m frames of two lines. */
RV_INLINE void rv_butterfly(float *restrict x0, float *restrict x1, size_t m) {
  for (size_t t = 0; t < m; ++t) {
    const float a = x0[t], b = x1[t];
    x0[t] = a + b;
    x1[t] = a - b;
  }
}

/* A line's new input, written to its ring: its absorbed, mixed frames y (times the Hadamard
 * scale) plus the injected input u s (s = +-1); a decaying tail, so no denormals. */
RV_INLINE void rv_inject(float *restrict out, const float *restrict y, float scale,
                         const float *restrict u, float s, size_t m) {
  for (size_t t = 0; t < m; ++t)
    out[t] = rv_flush(y[t] * scale + u[t] * s);
}

/* dst (cols x rows, row stride ds) = the transpose of the rows src[0..rows) (cols frames each);
 * rows and cols multiples of 4. */
RV_INLINE void rv_transpose(const float *const *src, float *restrict dst, size_t ds, size_t rows,
                            size_t cols) {
  for (size_t r = 0; r < rows; r += 4)
    for (size_t c = 0; c < cols; c += 4) {
      const rv_v4 a = rv_load(src[r] + c), b = rv_load(src[r + 1] + c);
      const rv_v4 e = rv_load(src[r + 2] + c), f = rv_load(src[r + 3] + c);
      float *d = dst + c * ds + r;
#if defined(__GNUC__) && !defined(__clang__)
      const rv_i4 lo = {0, 4, 1, 5}, hi = {2, 6, 3, 7}, l2 = {0, 1, 4, 5}, h2 = {2, 3, 6, 7};
      const rv_v4 ab0 = __builtin_shuffle(a, b, lo), ab1 = __builtin_shuffle(a, b, hi);
      const rv_v4 ef0 = __builtin_shuffle(e, f, lo), ef1 = __builtin_shuffle(e, f, hi);
      rv_store(d, __builtin_shuffle(ab0, ef0, l2));
      rv_store(d + ds, __builtin_shuffle(ab0, ef0, h2));
      rv_store(d + 2 * ds, __builtin_shuffle(ab1, ef1, l2));
      rv_store(d + 3 * ds, __builtin_shuffle(ab1, ef1, h2));
#else
      for (int j = 0; j < 4; ++j) {
        const rv_v4 col = {a[j], b[j], e[j], f[j]};
        rv_store(d + (size_t)j * ds, col);
      }
#endif
    }
}

#define RV_ATTR
#define RV_N 8
#define RV_FN process_8
#include "fx/fx_reverb_lines.h"
#define RV_ATTR
#define RV_N 16
#define RV_FN process_16
#include "fx/fx_reverb_lines.h"
#if SG_DSP_AVX2
#define RV_ATTR SG_DSP_TARGET_AVX2
#define RV_N 8
#define RV_FN process_8_avx2
#include "fx/fx_reverb_lines.h"
#define RV_ATTR SG_DSP_TARGET_AVX2
#define RV_N 16
#define RV_FN process_16_avx2
#include "fx/fx_reverb_lines.h"
#endif

/* The network at rest: every ring and pole state zero, the mix settled and no modulation LFO to
 * advance. An all-zero block then leaves it at rest and gives zeros (the dry part is zero, the
 * taps read zeros), so it is skipped, the ring indices moved on as the body would move them. */
static int at_rest(const sg_reverb *st, const float *L, const float *R, size_t n) {
  if (st->mod_d > 0 || st->mix_cur != st->mix_target)
    return 0;
  if (!sg__all_zero(L, n) || (R && !sg__all_zero(R, n)))
    return 0;
  size_t total = 2 * (st->pre_len + 1);
  for (int i = 0; i < st->n; ++i) {
    if (st->lp_s[i] != 0 || st->hf_s[i] != 0)
      return 0;
    total += st->cap[i];
  }
  for (int k = 0; k < SG_REVERB_DIFFUSERS; ++k)
    total += 2 * st->ap_len[k];
  return sg__all_zero(st->mem, total); /* lines, pre-delay and diffusers: one allocation */
}

void sg__reverb_process_isa(sg_reverb *st, float *L, float *R, size_t n, int avx2) {
  if (at_rest(st, L, R, n)) {
    memset(L, 0, n * sizeof *L);
    if (R)
      memset(R, 0, n * sizeof *R);
    for (int i = 0; i < st->n; ++i)
      st->pos[i] = (st->pos[i] + n) % st->cap[i];
    if (st->pre_len)
      st->pre_pos = (st->pre_pos + n) % st->pre_len;
    for (int k = 0; k < SG_REVERB_DIFFUSERS; ++k)
      st->ap_pos[k] = (st->ap_pos[k] + n) % st->ap_len[k];
    return;
  }
#if SG_DSP_AVX2
  if (avx2) {
    if (st->n == 8)
      process_8_avx2(st, L, R, n);
    else
      process_16_avx2(st, L, R, n);
    return;
  }
#else
  (void)avx2;
#endif
  if (st->n == 8)
    process_8(st, L, R, n);
  else
    process_16(st, L, R, n);
}

void sg_reverb_process(sg_reverb *st, float *L, float *R, size_t n) {
  sg__reverb_process_isa(st, L, R, n, st->avx2);
}

double sg_reverb_tail_frames(const sg_reverb *st) {
  double t = st->cfg.rt60;
  if (st->cfg.rt60_low > t)
    t = st->cfg.rt60_low;
  double extra = (double)st->pre_len;
  for (int k = 0; k < SG_REVERB_DIFFUSERS; ++k)
    extra += 4.0 * (double)st->ap_len[k];
  return t * st->rate + extra;
}
