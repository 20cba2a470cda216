/* Oversampled (true) peak detector after ITU-R BS.1770-4 Annex 2. See include/stemgate/dsp.h.
 *
 * BS.1770-4 specifies 4x oversampling (at 48 kHz) by a polyphase interpolating FIR and the
 * largest absolute value of the oversampled signal. The meters use the filter libebur128 builds
 * for this (a 49-tap Hann-windowed sinc, ~12 taps per phase, the Annex's filter class), so that
 * readings match the reference implementation; the limiter's detector uses a longer Kaiser
 * design at 8x, which reads closer to the ideal reconstruction near Nyquist (so the limiter
 * errs on the safe side of the meter). Like libebur128 the factor falls to 2x from 96 kHz and
 * 1x from 192 kHz.
 *
 * Block mode: the polyphase FIR runs over fixed blocks of 256 frames, 16 outputs at a time with
 * the sums held in registers, and the peak is a maximum over the bit patterns of |acc| (for
 * non-negative IEEE floats the integer order is the numeric order), a branch-free integer max
 * that SSE2 vectorises. Most of it is never computed: an interpolated point is a dot product of
 * the filter phase with the window's samples, so |point| <= L1(phase) * max|x| over the window
 * (and the float sum can exceed that by a relative ~1e-6 at most); a block, then a group of 16
 * outputs, whose bound cannot beat the running peak is skipped, which leaves the result exactly
 * the full computation's (the running peak only grows, and every skipped point is below it).
 * Once a song's loud part has set the peak, only its loudest stretches are interpolated.
 *
 * Streaming mode (the limiter's detector) has the same kind of shortcut against a fixed
 * threshold t (the limiter's: a frame below t changes nothing there). sg_truepeak_push skips
 * the interpolation while every history sample is below t / L1; sg_truepeak_push_block proves
 * far more frames quiet, in three stages per block: (1) the sum over rings of taps around the
 * centre pair (widths 2, 4, 8, .., the window) of the ring's largest L1 over phases times the
 * ring's largest |x| (sliding maxima by doubling: one vector pass per ring); (2) for frames
 * that fail it, each phase's exact sum over its central 8 taps plus its L1 over each outer
 * ring times that ring's largest |x|; (3) the full 8-phase interpolation, in sg_truepeak_push's
 * arithmetic, for the frames (~2 % of a loud master at the limiter's threshold) that fail both.
 * Each bound carries a margin above the float rounding of the sums it stands for. */

#include "stemgate/dsp.h"

#include <string.h>
#if defined(__SSE__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

/* push_block's bound tables. Window positions j = 0..T-1 (T-1 newest); the centre pair is
 * D-1, D (D = T/2); ring r (r < nring-1, or all when the last is a doubling too) spans
 * [D - 2^r, D + 2^r), the last ring the whole window; each ring's "own" taps are those not in
 * a smaller ring. */
static void ring_tables(sg_truepeak *st) {
  const int T = st->taps, D = T / 2;
  int nr = 0;
  while ((2 << nr) <= T && (1 << nr) <= D && nr < SG_TPD_RINGS)
    ++nr;            /* doubling rings: widths 2 .. 2^nr */
  if ((1 << nr) < T) /* the whole window beyond them */
    ++nr;
  st->nring = nr;
  st->rc = 0;
  while (st->rc + 1 < nr && (2 << (st->rc + 1)) <= SG_TPD_CENTRE && (2 << (st->rc + 1)) <= T)
    st->rc++;
  st->cw = 2 << st->rc; /* central taps summed exactly: ring rc */
  memset(st->ring_l1, 0, sizeof st->ring_l1);
  memset(st->hc, 0, sizeof st->hc);
  memset(st->tail, 0, sizeof st->tail);
  for (int p = 0; p < st->os; ++p) {
    double own[SG_TPD_RINGS] = {0};
    for (int j = 0; j < T; ++j) {
      int r = 0;
      while (r < nr - 1 && !(j >= D - (1 << r) && j < D + (1 << r)))
        ++r;
      own[r] += fabs(st->ph[p][j]);
    }
    for (int r = 0; r < nr; ++r) {
      /* rounded up to the next float: the stored bound is never below the exact sum */
      float v = (float)own[r];
      if ((double)v < own[r])
        v = nextafterf(v, INFINITY);
      st->ring_l1[r] = st->ring_l1[r] > v ? st->ring_l1[r] : v;
      if (r > st->rc)
        st->tail[r][p] = v;
    }
    for (int j = 0; j < st->cw; ++j)
      st->hc[j][p] = st->ph[p][D - st->cw / 2 + j];
  }
}

void sg_truepeak_config_init(sg_truepeak_config *c) {
  c->design = SG_TPD_BS1770;
  c->oversample = 0;
  c->taps = 48;
  c->beta = 8.0;
}

sg_status sg_truepeak_init(sg_truepeak *st, const sg_truepeak_config *c, double rate) {
  if (!st || !c || !(rate >= 8000.0 && rate <= 768000.0))
    return SG_E_INVAL;
  int os = c->oversample;
  if (os == 0)
    os = rate < 96000.0 ? 4 : (rate < 192000.0 ? 2 : 1);
  if (os != 1 && os != 2 && os != 4 && os != 8)
    return SG_E_INVAL;
  int taps = c->taps < 4 ? 4 : (c->taps > SG_TPD_MAX_TAPS ? SG_TPD_MAX_TAPS : c->taps);
  if (c->design == SG_TPD_BS1770)
    taps = (49 + os - 1) / os;
  taps += taps & 1;
  memset(st, 0, sizeof *st);
  st->os = os;
  st->taps = taps;
  float proto[SG_TPD_MAX_OS * SG_TPD_MAX_TAPS];
  int len = os * taps;
  if (c->design == SG_TPD_BS1770) {
    /* libebur128's interpolator: h[j] = sinc((j - 24) / os) * Hann(j), j = 0..48, zero after;
     * each phase sums to about 1 without normalisation. */
    for (int j = 0; j < len; ++j) {
      double m = (double)j - 24.0, v = 1.0;
      if (fabs(m) > 1e-6)
        v = sin(m * SG_PI / os) / (m * SG_PI / os);
      v *= 0.5 * (1 - cos(2 * SG_PI * j / 48.0));
      /* sin(k pi) is ~1e-16, not 0: like libebur128, treat such taps as the zeros they are. */
      proto[j] = j < 49 && fabs(v) > 1e-9 ? (float)v : 0.0f;
    }
    for (int p = 0; p < os; ++p)
      for (int k = 0; k < taps; ++k)
        st->ph[p][taps - 1 - k] = proto[k * os + p];
  } else {
    /* Prototype low-pass at the base Nyquist (os * taps - 1 taps, symmetric about a tap of
     * phase 0), split into os phases, each normalised to unity DC gain. */
    sg_dsp_kaiser_sinc(proto, len - 1, 0.5 / os, c->beta, os);
    proto[len - 1] = 0;
    for (int p = 0; p < os; ++p) {
      double s = 0;
      for (int k = 0; k < taps; ++k)
        s += proto[k * os + p];
      for (int k = 0; k < taps; ++k) /* reversed: ph[p][T-1-k] multiplies x[n-k] */
        st->ph[p][taps - 1 - k] = (float)(proto[k * os + p] / s);
    }
  }
  double l1 = 0;
  for (int p = 0; p < os; ++p) {
    double s = 0;
    for (int k = 0; k < taps; ++k)
      s += fabs(st->ph[p][k]);
    l1 = fmax(l1, s);
  }
  st->l1 = l1;
  ring_tables(st);
  /* Block-mode work list. libebur128's phase 0 is sinc at integer multiples of pi: a single
   * unit tap, i.e. the base sample itself; skipping it and the all-zero edge taps of the other
   * phases saves ~40 % of the multiply-adds. */
  int lo = taps, hi = -1;
  for (int p = 0; p < os; ++p) {
    int nz = 0, unit = 0;
    for (int k = 0; k < taps; ++k)
      if (st->ph[p][k] != 0.0f)
        ++nz, unit = st->ph[p][k] == 1.0f;
    if (os > 1 && !(nz == 1 && unit)) {
      st->act[st->nact++] = p;
      for (int k = 0; k < taps; ++k)
        if (st->ph[p][k] != 0.0f) {
          lo = k < lo ? k : lo;
          hi = k > hi ? k : hi;
        }
    }
  }
  st->t0 = hi < 0 ? 0 : lo;
  st->tn = hi < 0 ? 0 : hi - lo + 1;
  return SG_OK;
}

void sg_truepeak_reset(sg_truepeak *st) {
  memset(st->hist, 0, sizeof st->hist);
  memset(st->buf, 0, sizeof st->buf);
  st->hpos = 0;
  st->loud = 0.0 >= st->quiet ? st->taps : 0; /* the history is silence */
  st->peak = 0;
}

size_t sg_truepeak_latency(const sg_truepeak *st) { return (size_t)st->taps / 2; }

void sg_truepeak_set_quiet(sg_truepeak *st, double quiet_thresh) {
  st->thresh = quiet_thresh > 0 ? quiet_thresh : 0;
  /* The margin covers the float dot's rounding (< 1e-5 relative): below quiet, no computed
   * point reaches the threshold. */
  st->quiet = st->thresh / (st->l1 * (1.0 + 1e-5));
  /* Recount: the history may already hold samples. */
  st->loud = 0;
  for (int k = 0; k < st->taps; ++k)
    st->loud += fabs(st->hist[k]) >= st->quiet;
}

double sg_truepeak_push(sg_truepeak *st, double x) {
  const int T = st->taps, D = T / 2;
  float *h = st->hist;
  size_t p = st->hpos;
  st->loud -= fabs(h[p]) >= st->quiet; /* the oldest sample leaves the history */
  h[p] = h[p + (size_t)T] = (float)x;
  st->loud += fabs(h[p]) >= st->quiet;
  const float *xs = h + p + T; /* xs[-k] = x[n-k] */
  st->hpos = p + 1 == (size_t)T ? 0 : p + 1;
  double pk = fmax(fabs(xs[-D]), fabs(xs[-(D - 1)]));
  if (!st->loud)
    return pk;
  for (int q = 0; q < st->os; ++q) {
    double acc = sg_dsp_dot(st->ph[q], xs - (T - 1), T);
    if (fabs(acc) > pk)
      pk = fabs(acc);
  }
  return pk;
}

/* Stages 2 and 3 of push_chunk for frame i, whose stage-1 bound bnd did not prove it quiet (v:
 * its base samples' value). */
static float chunk_frame(const sg_truepeak *st, const float *xw, const float *const *mr, size_t i,
                         float bnd, float v) {
  const int T = st->taps, D = T / 2, nr = st->nring, rc = st->rc, cw = st->cw;
  const float thr = (float)st->thresh;
  /* Stage 2: per phase, the exact sum over the central cw taps plus each outer ring's L1
   * times that ring's largest |x|; the margin covers both float sums (relative to stage
   * 1's bound, which dominates every phase's sum |h x|). */
  float s[SG_TPD_MAX_OS] = {0}, t[SG_TPD_MAX_OS] = {0};
  const float *xc = xw + D - cw / 2;
  for (int j = 0; j < cw; ++j)
    for (int p = 0; p < SG_TPD_MAX_OS; ++p)
      s[p] += st->hc[j][p] * xc[j];
  for (int q = rc + 1; q < nr; ++q)
    for (int p = 0; p < SG_TPD_MAX_OS; ++p)
      t[p] += st->tail[q][p] * mr[q][i];
  float b2 = 0;
  for (int p = 0; p < SG_TPD_MAX_OS; ++p) {
    float e = fabsf(s[p]) + t[p];
    b2 = e > b2 ? e : b2;
  }
  if (b2 * 1.0001f + 1e-4f * bnd < thr)
    return v;
  /* Stage 3: sg_truepeak_push's arithmetic exactly. */
  for (int q = 0; q < st->os; ++q) {
    float acc = fabsf(sg_dsp_dot(st->ph[q], xw, T));
    if (acc > v)
      v = acc;
  }
  return v;
}

/* bound[i] = 0 + l1[0] mr[0][i] + .. + l1[nr-1] mr[nr-1][i], summed in that order (called with a
 * constant nr: one vectorised pass, the sum in a register). */
static inline __attribute__((always_inline)) void stage1(float *restrict bound, const float *l1,
                                                         const float *const *mr, size_t k, int nr) {
  _Static_assert(SG_TPD_RINGS == 7, "stage1 names seven rings");
  const float *restrict m0 = mr[0], *restrict m1 = mr[nr > 1 ? 1 : 0],
                        *restrict m2 = mr[nr > 2 ? 2 : 0], *restrict m3 = mr[nr > 3 ? 3 : 0],
                        *restrict m4 = mr[nr > 4 ? 4 : 0], *restrict m5 = mr[nr > 5 ? 5 : 0],
                        *restrict m6 = mr[nr > 6 ? 6 : 0];
  const float c0 = l1[0], c1 = l1[1], c2 = l1[2], c3 = l1[3], c4 = l1[4], c5 = l1[5], c6 = l1[6];
  for (size_t i = 0; i < k; ++i) {
    float v = 0;
    v += c0 * m0[i];
    if (nr > 1)
      v += c1 * m1[i];
    if (nr > 2)
      v += c2 * m2[i];
    if (nr > 3)
      v += c3 * m3[i];
    if (nr > 4)
      v += c4 * m4[i];
    if (nr > 5)
      v += c5 * m5[i];
    if (nr > 6)
      v += c6 * m6[i];
    bound[i] = v;
  }
}

/* Frames push_chunk checks for a failed stage-1 bound at once: a group with none costs a few
 * vector compares. */
#define CHUNK_GROUP 16

/* One chunk of push_block: w holds T-1 history samples then the k <= SG_TPD_BLOCK new ones;
 * frame i's window is w[i .. i+T-1]. Stage 1 and the base samples run as plain loops over the
 * chunk (vectorised), the later stages only for the frames stage 1 leaves. */
static void push_chunk(const sg_truepeak *st, const float *w, size_t k, float *pk) {
  const int T = st->taps, D = T / 2, nr = st->nring;
  const size_t len = k + (size_t)T - 1;
  const float thr = (float)st->thresh;
  /* Ring maxima by doubling: after step r, mx[j] = max|w| over [j, j + 2^(r+1)); ring r of
   * frame i starts at i + D - 2^r. The last ring, when wider than the doublings, is the whole
   * window: two overlapping doubled spans cover it. */
  float lv[SG_TPD_RINGS][SG_TPD_MAX_TAPS + SG_TPD_BLOCK], whole[SG_TPD_BLOCK];
  float bound[SG_TPD_BLOCK];
  const float *mr[SG_TPD_RINGS]; /* mr[r][i]: largest |x| in ring r of frame i */
  float *cur = lv[0];
  for (size_t j = 0; j < len; ++j) { /* |x|, NaN read as +inf (no bound built on it passes) */
    const float a = fabsf(w[j]);
    cur[j] = a == a ? a : INFINITY;
  }
  size_t span = 1, have = len; /* cur[j] covers [j, j + span) for j < have */
  int r = 0;
  for (; r < nr && (2 << r) <= T && (1 << r) <= D; ++r) {
    float *nxt = lv[r + 1 < SG_TPD_RINGS ? r + 1 : 0];
    for (size_t j = 0; j + span < have; ++j)
      nxt[j] = cur[j] > cur[j + span] ? cur[j] : cur[j + span];
    have -= span;
    span *= 2;
    cur = nxt;
    mr[r] = cur + (D - (1 << r));
  }
  if (r < nr) { /* whole window [i, i + T): [i, i + span) and [i + T - span, i + T) */
    const size_t o = (size_t)T - span;
    for (size_t i = 0; i < k; ++i)
      whole[i] = cur[i] > cur[i + o] ? cur[i] : cur[i + o];
    mr[r] = whole;
  }
  /* Stage 1: sum over rings of (largest L1 of its own taps) * (largest |x| in it). */
  switch (nr) { /* the sum in registers, rings in order, for each ring count a build has */
  case 1:
    stage1(bound, st->ring_l1, mr, k, 1);
    break;
  case 2:
    stage1(bound, st->ring_l1, mr, k, 2);
    break;
  case 3:
    stage1(bound, st->ring_l1, mr, k, 3);
    break;
  case 4:
    stage1(bound, st->ring_l1, mr, k, 4);
    break;
  case 5:
    stage1(bound, st->ring_l1, mr, k, 5);
    break;
  case 6:
    stage1(bound, st->ring_l1, mr, k, 6);
    break;
  default:
    stage1(bound, st->ring_l1, mr, k, SG_TPD_RINGS);
    break;
  }
  /* Every frame's base samples, fmax(|x[D-1]|, |x[D]|) with a NaN losing: the value of every
   * frame the bounds prove quiet. */
  for (size_t i = 0; i < k; ++i) {
    const float a = fabsf(w[i + (size_t)D - 1]), b = fabsf(w[i + (size_t)D]);
    pk[i] = (b > a) | (a != a) ? b : a;
  }
  /* margins: the bounds' own float sums (~1e-6) and the full dot's rounding (< 1e-5) */
  for (size_t i0 = 0; i0 < k; i0 += CHUNK_GROUP) {
    const size_t e = k - i0 < CHUNK_GROUP ? k : i0 + CHUNK_GROUP;
    int any = 0;
    for (size_t i = i0; i < e; ++i)
      any |= !(bound[i] * 1.0001f < thr);
    if (!any)
      continue;
    for (size_t i = i0; i < e; ++i)
      if (!(bound[i] * 1.0001f < thr))
        pk[i] = chunk_frame(st, w + i, mr, i, bound[i], pk[i]);
  }
}

void sg_truepeak_push_block(sg_truepeak *st, const float *x, size_t n, float *pk) {
  const int T = st->taps;
  if (!n)
    return;
  float w[SG_TPD_MAX_TAPS + SG_TPD_BLOCK], oldest = 0;
  /* The last T-1 samples pushed: push's ring holds the last T at hist[hpos .. hpos+T-1]. */
  memcpy(w, st->hist + st->hpos + 1, (size_t)(T - 1) * sizeof *w);
  while (n) {
    size_t k = n < SG_TPD_BLOCK ? n : SG_TPD_BLOCK;
    memcpy(w + T - 1, x, k * sizeof *w);
    push_chunk(st, w, k, pk);
    oldest = w[k - 1]; /* first sample of the last frame's window */
    memmove(w, w + k, (size_t)(T - 1) * sizeof *w);
    x += k, pk += k, n -= k;
  }
  /* Back into push's doubled ring, the last T samples oldest first at hpos = 0, and its count
   * of loud samples. */
  st->hist[0] = st->hist[T] = oldest;
  memcpy(st->hist + 1, w, (size_t)(T - 1) * sizeof *w);
  memcpy(st->hist + T + 1, w, (size_t)(T - 1) * sizeof *w);
  st->hpos = 0;
  st->loud = 0;
  for (int j = 0; j < T; ++j)
    st->loud += fabs(st->hist[j]) >= st->quiet;
}

/* Largest |v| of v[0..n) as the integer maximum of the magnitude bit patterns (NaN reads
 * above +inf). */
static uint32_t absmax_bits_n(const float *v, size_t n, uint32_t m) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t a;
    memcpy(&a, v + i, sizeof a);
    a &= 0x7fffffffu;
    m = a > m ? a : m;
  }
  return m;
}

static inline float bits_float(uint32_t b) {
  float f;
  memcpy(&f, &b, sizeof f);
  return f;
}

/* Whether no point of a window whose largest |x| has bits xb can beat the running peak m:
 * |point| <= L1 * max|x|, and the float FIR's sum exceeds the exact one by < 1e-5 relative.
 * Only finite values qualify (an overflowing sum could read inf or NaN). */
static inline int cannot_beat(uint32_t xb, uint32_t m, double l1) {
  return xb < 0x7f800000u && m < 0x7f800000u &&
         (double)bits_float(xb) * (l1 * (1.0 + 1e-5)) <= (double)bits_float(m);
}

/* out[j] = sum_t h[t] x[j + t] for j = 0..15. The SSE path holds the 16 sums in four registers
 * across the taps (GCC at -O2 keeps the plain loop's sums in memory, about 2x slower); the
 * plain loop is the portable fallback and the reference for the arithmetic (same order). */
static void fir16(const float *h, const float *x, int tn, float *out) {
#if defined(__SSE__) || defined(_M_X64)
  __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (int t = 0; t < tn; ++t) {
    const __m128 ht = _mm_set1_ps(h[t]);
    const float *xt = x + t;
    a0 = _mm_add_ps(a0, _mm_mul_ps(ht, _mm_loadu_ps(xt)));
    a1 = _mm_add_ps(a1, _mm_mul_ps(ht, _mm_loadu_ps(xt + 4)));
    a2 = _mm_add_ps(a2, _mm_mul_ps(ht, _mm_loadu_ps(xt + 8)));
    a3 = _mm_add_ps(a3, _mm_mul_ps(ht, _mm_loadu_ps(xt + 12)));
  }
  _mm_storeu_ps(out, a0);
  _mm_storeu_ps(out + 4, a1);
  _mm_storeu_ps(out + 8, a2);
  _mm_storeu_ps(out + 12, a3);
#else
  float v[16] = {0};
  for (int t = 0; t < tn; ++t)
    for (int j = 0; j < 16; ++j)
      v[j] += h[t] * x[j + t];
  memcpy(out, v, sizeof v);
#endif
}

float sg_truepeak_process(sg_truepeak *st, const float *x, size_t stride, size_t n) {
  const int T = st->taps, t0 = st->t0, tn = st->tn;
  float *buf = st->buf;
  uint32_t m;
  memcpy(&m, &st->peak, sizeof m);
  while (n) {
    size_t k = n < SG_TPD_BLOCK ? n : SG_TPD_BLOCK;
    float *in = buf + T - 1;
    for (size_t i = 0; i < k; ++i)
      in[i] = x[i * stride];
    /* Sample peak first (the base samples: phase 0 of an ideal interpolator), so that the
     * running peak the bounds are held to already includes this block's samples. */
    uint32_t xb = absmax_bits_n(in, k, 0);
    m = xb > m ? xb : m;
    /* The whole block's windows (T-1 history frames and the k new ones), then groups of 16
     * outputs: interpolate only where a point could beat the running peak. */
    if (st->nact && !cannot_beat(absmax_bits_n(buf, (size_t)T - 1, xb), m, st->l1)) {
      /* A partial block: zeros after the data (only the first k outputs count). */
      for (size_t i = k; i < SG_TPD_BLOCK; ++i)
        in[i] = 0.0f;
      for (size_t i0 = 0; i0 < k; i0 += 16) {
        const size_t valid = k - i0 < 16 ? k - i0 : 16;
        const float *xb0 = buf + t0 + i0;
        if (cannot_beat(absmax_bits_n(xb0, valid + (size_t)tn - 1, 0), m, st->l1))
          continue;
        for (int a = 0; a < st->nact; ++a) {
          float acc[16];
          /* 16 outputs: four vector accumulators stay in registers across the taps, and each
           * input vector is loaded once per tap. */
          fir16(st->ph[st->act[a]] + t0, xb0, tn, acc);
          m = absmax_bits_n(acc, valid, m);
        }
      }
    }
    /* Keep the last T - 1 input frames as the next block's history. */
    memmove(buf, buf + k, (size_t)(T - 1) * sizeof *buf);
    x += k * stride;
    n -= k;
  }
  memcpy(&st->peak, &m, sizeof m);
  return st->peak;
}
