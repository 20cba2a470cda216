/* Real FFT of a power-of-two length for the feature STFTs: the n real samples as n/2 complex
 * ones (even samples real, odd imaginary), a complex FFT of n/2 points, then the split into the
 * spectrum of the real signal (the standard "two-for-one" post-processing, e.g. E. O. Brigham,
 * "The Fast Fourier Transform and its Applications", 1988, sec. 9.3). The complex FFT is
 * Stockham's autosort formulation (no bit reversal), radix 4 with one radix-2 stage when
 * log2(n/2) is odd (C. Van Loan, "Computational Frameworks for the Fast Fourier Transform",
 * 1992, sec. 1.7 and 2.3). The data are kept as separate real and imaginary arrays and every
 * stage but the first runs its inner loop over contiguous elements with the twiddle fixed, so
 * the compiler vectorises it (features.c's STFTs spent ~80 % of their time in KissFFT's scalar
 * butterflies). Twiddles are computed once in double precision. */
#include "analysis_internal.h"
#include "core/simd.h"

#include <math.h>
#include <stdlib.h>
#if defined(SG_RFFT_AVX)
#include <immintrin.h>
#endif

void sg__rfft_free(sg__rfft *p) {
  if (!p)
    return;
  free(p->mem);
  p->mem = NULL;
}

int sg__rfft_init(sg__rfft *p, size_t n) {
  p->mem = NULL;
  if (n < 8 || (n & (n - 1)))
    return -1;
  const size_t M = n / 2;
  p->n = n;
  /* Buffers: two ping-pong pairs of M, the stage twiddles (at most 6 * M / 4 per stage, log4 M
   * stages: bounded by 2 * M * log2 M / 2), the post-processing twiddles (M / 2 + 1 each). */
  size_t lg = 0;
  while (((size_t)1 << lg) < M)
    ++lg;
  size_t ntw = 0;
  for (size_t L = M; L >= 4; L /= 4)
    ntw += 6 * (L / 4);
  /* Each work array PAD floats further on than the last ends: arrays a multiple of 4 KB apart
   * make a stage's loads and stores alias in the CPU's store forwarding (same address bits
   * 0-11), which stalled the AVX path's deinterleaving by a third. */
  const size_t PAD = 40;
  size_t total = 4 * (M + PAD) + ntw + 2 * (M / 2 + 1);
  p->mem = malloc(total * sizeof *p->mem);
  if (!p->mem)
    return -1;
  p->ar = p->mem;
  p->ai = p->ar + M + PAD;
  p->br = p->ai + M + PAD;
  p->bi = p->br + M + PAD;
  p->tw = p->bi + M + PAD;
  p->pc = p->tw + ntw;
  p->ps = p->pc + (M / 2 + 1);
  /* Radix-4 stages on lengths L = M, M/4, ... down to 4; a final radix-2 stage when lg is odd.
   * Stage twiddles for p < L/4: W_L^p, W_L^2p, W_L^3p with W_L = exp(-2 pi i / L). */
  float *t = p->tw;
  for (size_t L = M; L >= 4; L /= 4) {
    const size_t m = L / 4;
    for (size_t j = 0; j < m; ++j)
      for (int u = 1; u <= 3; ++u) {
        double a = -2 * SG_PI * (double)(u * j) / (double)L;
        t[(size_t)(2 * (u - 1)) * m + j] = (float)cos(a);
        t[(size_t)(2 * (u - 1) + 1) * m + j] = (float)sin(a);
      }
    t += 6 * m;
  }
  p->radix2 = lg % 2;
#if defined(SG_RFFT_AVX)
  p->simd = M >= 32 && __builtin_cpu_supports("avx");
#else
  p->simd = 0;
#endif
  for (size_t k = 0; k <= M / 2; ++k) {
    double a = 2 * SG_PI * (double)k / (double)n;
    p->pc[k] = (float)cos(a);
    p->ps[k] = (float)sin(a);
  }
  return 0;
}

typedef const float *restrict cfp;
typedef float *restrict fp;

/* Radix-4 butterflies on s contiguous elements of each input quarter (a, b, c, d), output t
 * rotated by the twiddle w[2t - 2] + i w[2t - 1]. Every array its own restrict parameter: the
 * loop then vectorises (GCC cannot prove the offsets of one array apart). */
static SG__INLINE void bfly4(size_t s, cfp ar, cfp ai, cfp br, cfp bi, cfp cr, cfp ci, cfp dr,
                             cfp di, fp y0r, fp y0i, fp y1r, fp y1i, fp y2r, fp y2i, fp y3r, fp y3i,
                             float c1, float s1, float c2, float s2, float c3, float s3) {
  for (size_t q = 0; q < s; ++q) {
    const float apcr = ar[q] + cr[q], apci = ai[q] + ci[q];
    const float amcr = ar[q] - cr[q], amci = ai[q] - ci[q];
    const float bpdr = br[q] + dr[q], bpdi = bi[q] + di[q];
    const float bmdr = br[q] - dr[q], bmdi = bi[q] - di[q];
    /* outputs 1 and 3: (a - c) -+ i (b - d) */
    const float t1r = amcr + bmdi, t1i = amci - bmdr;
    const float t2r = apcr - bpdr, t2i = apci - bpdi;
    const float t3r = amcr - bmdi, t3i = amci + bmdr;
    y0r[q] = apcr + bpdr;
    y0i[q] = apci + bpdi;
    y1r[q] = t1r * c1 - t1i * s1;
    y1i[q] = t1r * s1 + t1i * c1;
    y2r[q] = t2r * c2 - t2i * s2;
    y2i[q] = t2r * s2 + t2i * c2;
    y3r[q] = t3r * c3 - t3i * s3;
    y3i[q] = t3r * s3 + t3i * c3;
  }
}

/* The first stage (s = 1): the butterflies along j, the outputs interleaved by four. */
static SG__INLINE void first4(size_t m, cfp ar, cfp ai, cfp br, cfp bi, cfp cr, cfp ci, cfp dr,
                              cfp di, fp yr, fp yi, cfp w1r, cfp w1i, cfp w2r, cfp w2i, cfp w3r,
                              cfp w3i) {
  for (size_t j = 0; j < m; ++j) {
    const float apcr = ar[j] + cr[j], apci = ai[j] + ci[j];
    const float amcr = ar[j] - cr[j], amci = ai[j] - ci[j];
    const float bpdr = br[j] + dr[j], bpdi = bi[j] + di[j];
    const float bmdr = br[j] - dr[j], bmdi = bi[j] - di[j];
    const float t1r = amcr + bmdi, t1i = amci - bmdr;
    const float t2r = apcr - bpdr, t2i = apci - bpdi;
    const float t3r = amcr - bmdi, t3i = amci + bmdr;
    yr[4 * j] = apcr + bpdr;
    yi[4 * j] = apci + bpdi;
    yr[4 * j + 1] = t1r * w1r[j] - t1i * w1i[j];
    yi[4 * j + 1] = t1r * w1i[j] + t1i * w1r[j];
    yr[4 * j + 2] = t2r * w2r[j] - t2i * w2i[j];
    yi[4 * j + 2] = t2r * w2i[j] + t2i * w2r[j];
    yr[4 * j + 3] = t3r * w3r[j] - t3i * w3i[j];
    yi[4 * j + 3] = t3r * w3i[j] + t3i * w3r[j];
  }
}

/* One radix-4 Stockham stage: s interleaved sequences of length L (x[q + s * j]) to 4 s of
 * length L / 4 (y[q + s * (4 j' + t)], t the output residue mod 4). tw holds, for j < L / 4,
 * cos and sin of W_L^j, W_L^2j, W_L^3j as six arrays of L / 4. */
static SG__INLINE void stage4(size_t L, size_t s, const float *tw, const float *xr, const float *xi,
                              float *yr, float *yi) {
  const size_t m = L / 4, sm = s * m;
  if (s == 1) {
    first4(m, xr, xi, xr + m, xi + m, xr + 2 * m, xi + 2 * m, xr + 3 * m, xi + 3 * m, yr, yi, tw,
           tw + m, tw + 2 * m, tw + 3 * m, tw + 4 * m, tw + 5 * m);
    return;
  }
  for (size_t j = 0; j < m; ++j) {
    const size_t a = s * j, y = 4 * s * j;
    bfly4(s, xr + a, xi + a, xr + a + sm, xi + a + sm, xr + a + 2 * sm, xi + a + 2 * sm,
          xr + a + 3 * sm, xi + a + 3 * sm, yr + y, yi + y, yr + y + s, yi + y + s, yr + y + 2 * s,
          yi + y + 2 * s, yr + y + 3 * s, yi + y + 3 * s, tw[j], tw[m + j], tw[2 * m + j],
          tw[3 * m + j], tw[4 * m + j], tw[5 * m + j]);
  }
}

/* The last, radix-2 stage (L = 2, s = M / 2). */
static SG__INLINE void last2(size_t s, cfp ar, cfp ai, cfp br, cfp bi, fp y0r, fp y0i, fp y1r,
                             fp y1i) {
  for (size_t q = 0; q < s; ++q) {
    y0r[q] = ar[q] + br[q];
    y0i[q] = ai[q] + bi[q];
    y1r[q] = ar[q] - br[q];
    y1i[q] = ai[q] - bi[q];
  }
}

/* lo[k] = |X[k]|^2 and hi[M / 2 - k] = |X[M - k]|^2 for k0 <= k < M / 2 from Z[k] and Z[M - k]:
 * E = (Z[k] + conj Z[M-k]) / 2, O = -i (Z[k] - conj Z[M-k]) / 2 and T = W^k O,
 * X[k] = E + T and X[M - k] = conj(E - T) (W^(M-k) = -conj W^k). */
static SG__INLINE void split_pairs(size_t M, size_t k0, cfp zr, cfp zi, cfp pc, cfp ps, fp lo,
                                   fp hi) {
  for (size_t k = k0; k < M / 2; ++k) {
    const float ar = zr[k], ai = zi[k], br = zr[M - k], bi = zi[M - k];
    const float er = 0.5f * (ar + br), ei = 0.5f * (ai - bi);
    const float orr = 0.5f * (ai + bi), oi = -0.5f * (ar - br);
    const float tr = pc[k] * orr + ps[k] * oi, ti = pc[k] * oi - ps[k] * orr;
    lo[k] = (er + tr) * (er + tr) + (ei + ti) * (ei + ti);
    hi[M / 2 - k] = (er - tr) * (er - tr) + (ei - ti) * (ei - ti);
  }
}

/* |X[k]|^2 for k0 <= k < nb <= M / 2. */
static SG__INLINE void split_low(size_t M, size_t k0, size_t nb, cfp zr, cfp zi, cfp pc, cfp ps,
                                 fp pw) {
  for (size_t k = k0; k < nb; ++k) {
    const float ar = zr[k], ai = zi[k], br = zr[M - k], bi = zi[M - k];
    const float er = 0.5f * (ar + br), ei = 0.5f * (ai - bi);
    const float orr = 0.5f * (ai + bi), oi = -0.5f * (ar - br);
    const float tr = pc[k] * orr + ps[k] * oi, ti = pc[k] * oi - ps[k] * orr;
    pw[k] = (er + tr) * (er + tr) + (ei + ti) * (ei + ti);
  }
}

/* The power spectrum pw[0, nb) from Z = FFT(z) in zr, zi, the pairs (or low bins) below k0
 * already done: X[0] = Re Z[0] + Im Z[0], X[M] = Re Z[0] - Im Z[0], X[M/2] = conj Z[M/2]. */
static SG__INLINE void split_power(const sg__rfft *p, size_t k0, cfp zr, cfp zi, fp pw, size_t nb) {
  const size_t M = p->n / 2;
  if (nb == M + 1) {
    split_pairs(M, k0, zr, zi, p->pc, p->ps, pw, pw + M / 2);
  } else {
    split_low(M, k0, nb < M / 2 ? nb : M / 2, zr, zi, p->pc, p->ps, pw);
    for (size_t k = M / 2 + 1; k < nb; ++k) { /* X[k] = conj(E - T) at k' = M - k */
      const size_t j = M - k;
      const float ar = zr[j], ai = zi[j], br = zr[k], bi = zi[k];
      const float er = 0.5f * (ar + br), ei = 0.5f * (ai - bi);
      const float orr = 0.5f * (ai + bi), oi = -0.5f * (ar - br);
      const float tr = p->pc[j] * orr + p->ps[j] * oi, ti = p->pc[j] * oi - p->ps[j] * orr;
      pw[k] = (er - tr) * (er - tr) + (ei - ti) * (ei - ti);
    }
  }
  if (nb > M / 2)
    pw[M / 2] = zr[M / 2] * zr[M / 2] + zi[M / 2] * zi[M / 2];
  pw[0] = (zr[0] + zi[0]) * (zr[0] + zi[0]);
  if (nb > M)
    pw[M] = (zr[0] - zi[0]) * (zr[0] - zi[0]);
}

void sg__rfft_split_window(const float *w, size_t n, float *win) {
  for (size_t j = 0; j < n / 2; ++j) {
    win[j] = w[2 * j];
    win[n / 2 + j] = w[2 * j + 1];
  }
}

#if defined(SG_RFFT_AVX)
static void rfft_power_avx(sg__rfft *p, const float *restrict x, const float *restrict win,
                           float *restrict pw, size_t nb);
#endif

/* After a radix-4 stage over L points: its twiddles passed, the stride four times, and the
 * ping-pong buffers swapped (the stage's output is the next one's input). */
static inline void next_stage(size_t L, const float **tw, size_t *s, float **xr, float **xi,
                              float **yr, float **yi) {
  *tw += 6 * (L / 4);
  *s *= 4;
  float *t = *xr;
  *xr = *yr, *yr = t;
  t = *xi;
  *xi = *yi, *yi = t;
}

SG__CLONES void sg__rfft_power(sg__rfft *p, const float *restrict x, const float *restrict win,
                               float *restrict pw, size_t nb) {
#if defined(SG_RFFT_AVX)
  if (p->simd) {
    rfft_power_avx(p, x, win, pw, nb);
    return;
  }
#endif
  const size_t M = p->n / 2;
  float *xr = p->ar, *xi = p->ai, *yr = p->br, *yi = p->bi;
  for (size_t j = 0; j < M; ++j) {
    xr[j] = x[2 * j] * win[j];
    xi[j] = x[2 * j + 1] * win[M + j];
  }
  const float *tw = p->tw;
  size_t s = 1;
  for (size_t L = M; L >= 4; L /= 4) {
    stage4(L, s, tw, xr, xi, yr, yi);
    next_stage(L, &tw, &s, &xr, &xi, &yr, &yi);
  }
  if (p->radix2) {
    last2(s, xr, xi, xr + s, xi + s, yr, yi, yr + s, yi + s);
    xr = yr, xi = yi;
  }
  split_power(p, 1, xr, xi, pw, nb);
}

#if defined(SG_RFFT_AVX)
/* The same transform with AVX intrinsics, eight lanes of the same operations in the same order
 * as the loops above (no FMA, no reassociation), so the same bits; what changes is the data
 * movement. The first stage (s = 1) reads and windows the samples itself (no pass through ar,
 * ai), takes eight j at a time and transposes its four outputs into place (the loop above
 * stores them four apart, which the compiler did lane by lane); the second (s = 4) takes two j
 * per vector, the twiddle of each broadcast over its half (the loop above ran four lanes); the
 * split reads Z[M - k] reversed in registers. 2048 points: 2.1 -> 1.3 us a frame here. */
#define AVXF __attribute__((target("avx")))
typedef __m256 v8;

static AVXF inline v8 bcast2(float lo, float hi) {
  return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_set1_ps(lo)), _mm_set1_ps(hi), 1);
}

static AVXF inline v8 rev8(v8 v) {
  return _mm256_permute_ps(_mm256_permute2f128_ps(v, v, 1), 0x1b);
}

/* The radix-4 butterfly of bfly4 on eight lanes: inputs a, b, c, d, outputs y0 .. y3 rotated by
 * the twiddles (c1, s1) .. (c3, s3). */
#define BFLY4_AVX(ar, ai, br, bi, cr, ci, dr, di, c1, s1, c2, s2, c3, s3)                          \
  const v8 apcr = _mm256_add_ps(ar, cr), apci = _mm256_add_ps(ai, ci);                             \
  const v8 amcr = _mm256_sub_ps(ar, cr), amci = _mm256_sub_ps(ai, ci);                             \
  const v8 bpdr = _mm256_add_ps(br, dr), bpdi = _mm256_add_ps(bi, di);                             \
  const v8 bmdr = _mm256_sub_ps(br, dr), bmdi = _mm256_sub_ps(bi, di);                             \
  const v8 t1r = _mm256_add_ps(amcr, bmdi), t1i = _mm256_sub_ps(amci, bmdr);                       \
  const v8 t2r = _mm256_sub_ps(apcr, bpdr), t2i = _mm256_sub_ps(apci, bpdi);                       \
  const v8 t3r = _mm256_sub_ps(amcr, bmdi), t3i = _mm256_add_ps(amci, bmdr);                       \
  const v8 y0r = _mm256_add_ps(apcr, bpdr), y0i = _mm256_add_ps(apci, bpdi);                       \
  const v8 y1r = _mm256_sub_ps(_mm256_mul_ps(t1r, c1), _mm256_mul_ps(t1i, s1));                    \
  const v8 y1i = _mm256_add_ps(_mm256_mul_ps(t1r, s1), _mm256_mul_ps(t1i, c1));                    \
  const v8 y2r = _mm256_sub_ps(_mm256_mul_ps(t2r, c2), _mm256_mul_ps(t2i, s2));                    \
  const v8 y2i = _mm256_add_ps(_mm256_mul_ps(t2r, s2), _mm256_mul_ps(t2i, c2));                    \
  const v8 y3r = _mm256_sub_ps(_mm256_mul_ps(t3r, c3), _mm256_mul_ps(t3i, s3));                    \
  const v8 y3i = _mm256_add_ps(_mm256_mul_ps(t3r, s3), _mm256_mul_ps(t3i, c3))

/* Stores four vectors of eight (lane l of vector t) as y[4 l + t]: a 4 x 8 transpose. */
static AVXF inline void store_t4(float *y, v8 a, v8 b, v8 c, v8 d) {
  const v8 t0 = _mm256_unpacklo_ps(a, b), t1 = _mm256_unpackhi_ps(a, b);
  const v8 t2 = _mm256_unpacklo_ps(c, d), t3 = _mm256_unpackhi_ps(c, d);
  const v8 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
  const v8 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
  _mm256_storeu_ps(y, _mm256_permute2f128_ps(u0, u1, 0x20));
  _mm256_storeu_ps(y + 8, _mm256_permute2f128_ps(u2, u3, 0x20));
  _mm256_storeu_ps(y + 16, _mm256_permute2f128_ps(u0, u1, 0x31));
  _mm256_storeu_ps(y + 24, _mm256_permute2f128_ps(u2, u3, 0x31));
}

/* Stores the halves of four vectors (lanes 0-3 of j, 4-7 of j + 1) as y[4 t + q] and
 * y[16 + 4 t + q]. */
static AVXF inline void store_h4(float *y, v8 a, v8 b, v8 c, v8 d) {
  _mm256_storeu_ps(y, _mm256_permute2f128_ps(a, b, 0x20));
  _mm256_storeu_ps(y + 8, _mm256_permute2f128_ps(c, d, 0x20));
  _mm256_storeu_ps(y + 16, _mm256_permute2f128_ps(a, b, 0x31));
  _mm256_storeu_ps(y + 24, _mm256_permute2f128_ps(c, d, 0x31));
}

#define LD(p) _mm256_loadu_ps(p)

/* Samples x[2 j], x[2 j + 1] .. of eight j from j as real and imaginary parts, each times its
 * window value (the product the portable path stores first). */
static AVXF inline void load_win(const float *x, const float *win, size_t M, size_t j, v8 *re,
                                 v8 *im) {
  const v8 a = LD(x + 2 * j), b = LD(x + 2 * j + 8);
  const v8 lo = _mm256_permute2f128_ps(a, b, 0x20), hi = _mm256_permute2f128_ps(a, b, 0x31);
  *re = _mm256_mul_ps(_mm256_shuffle_ps(lo, hi, 0x88), LD(win + j));
  *im = _mm256_mul_ps(_mm256_shuffle_ps(lo, hi, 0xdd), LD(win + M + j));
}

/* The first stage read straight from the samples (windowed on the way in). */
static AVXF void first4_avx(size_t m, const float *x, const float *win, const float *tw, float *yr,
                            float *yi) {
  const size_t M = 4 * m;
  for (size_t j = 0; j < m; j += 8) {
    v8 ar, ai, br, bi, cr, ci, dr, di;
    load_win(x, win, M, j, &ar, &ai);
    load_win(x, win, M, m + j, &br, &bi);
    load_win(x, win, M, 2 * m + j, &cr, &ci);
    load_win(x, win, M, 3 * m + j, &dr, &di);
    const v8 c1 = LD(tw + j), s1 = LD(tw + m + j), c2 = LD(tw + 2 * m + j);
    const v8 s2 = LD(tw + 3 * m + j), c3 = LD(tw + 4 * m + j), s3 = LD(tw + 5 * m + j);
    BFLY4_AVX(ar, ai, br, bi, cr, ci, dr, di, c1, s1, c2, s2, c3, s3);
    store_t4(yr + 4 * j, y0r, y1r, y2r, y3r);
    store_t4(yi + 4 * j, y0i, y1i, y2i, y3i);
  }
}

static AVXF void second4_avx(size_t m, const float *xr, const float *xi, const float *tw, float *yr,
                             float *yi) {
  const size_t sm = 4 * m;
  for (size_t j = 0; j < m; j += 2) {
    const size_t a = 4 * j;
    const v8 ar = LD(xr + a), ai = LD(xi + a), br = LD(xr + a + sm), bi = LD(xi + a + sm);
    const v8 cr = LD(xr + a + 2 * sm), ci = LD(xi + a + 2 * sm);
    const v8 dr = LD(xr + a + 3 * sm), di = LD(xi + a + 3 * sm);
    const v8 c1 = bcast2(tw[j], tw[j + 1]), s1 = bcast2(tw[m + j], tw[m + j + 1]);
    const v8 c2 = bcast2(tw[2 * m + j], tw[2 * m + j + 1]);
    const v8 s2 = bcast2(tw[3 * m + j], tw[3 * m + j + 1]);
    const v8 c3 = bcast2(tw[4 * m + j], tw[4 * m + j + 1]);
    const v8 s3 = bcast2(tw[5 * m + j], tw[5 * m + j + 1]);
    BFLY4_AVX(ar, ai, br, bi, cr, ci, dr, di, c1, s1, c2, s2, c3, s3);
    store_h4(yr + 16 * j, y0r, y1r, y2r, y3r);
    store_h4(yi + 16 * j, y0i, y1i, y2i, y3i);
  }
}

/* A stage with s a multiple of eight: runs of s contiguous elements, the twiddle broadcast. */
static AVXF void stage4_avx(size_t L, size_t s, const float *tw, const float *xr, const float *xi,
                            float *yr, float *yi) {
  const size_t m = L / 4, sm = s * m;
  for (size_t j = 0; j < m; ++j) {
    const v8 c1 = _mm256_set1_ps(tw[j]), s1 = _mm256_set1_ps(tw[m + j]);
    const v8 c2 = _mm256_set1_ps(tw[2 * m + j]), s2 = _mm256_set1_ps(tw[3 * m + j]);
    const v8 c3 = _mm256_set1_ps(tw[4 * m + j]), s3 = _mm256_set1_ps(tw[5 * m + j]);
    const float *pr = xr + s * j, *pi = xi + s * j;
    float *qr = yr + 4 * s * j, *qi = yi + 4 * s * j;
    for (size_t q = 0; q < s; q += 8) {
      const v8 ar = LD(pr + q), ai = LD(pi + q), br = LD(pr + sm + q), bi = LD(pi + sm + q);
      const v8 cr = LD(pr + 2 * sm + q), ci = LD(pi + 2 * sm + q);
      const v8 dr = LD(pr + 3 * sm + q), di = LD(pi + 3 * sm + q);
      BFLY4_AVX(ar, ai, br, bi, cr, ci, dr, di, c1, s1, c2, s2, c3, s3);
      _mm256_storeu_ps(qr + q, y0r);
      _mm256_storeu_ps(qi + q, y0i);
      _mm256_storeu_ps(qr + s + q, y1r);
      _mm256_storeu_ps(qi + s + q, y1i);
      _mm256_storeu_ps(qr + 2 * s + q, y2r);
      _mm256_storeu_ps(qi + 2 * s + q, y2i);
      _mm256_storeu_ps(qr + 3 * s + q, y3r);
      _mm256_storeu_ps(qi + 3 * s + q, y3i);
    }
  }
}

/* E, O and T of split_pairs for eight k from k0 (ar, ai: Z[k]; Z[M - k] read reversed). */
#define SPLIT_AVX(zr, zi, pc, ps, k0, M)                                                           \
  const v8 ar = LD(zr + k0), ai = LD(zi + k0);                                                     \
  const v8 br = rev8(LD(zr + M - k0 - 7)), bi = rev8(LD(zi + M - k0 - 7));                         \
  const v8 er = _mm256_mul_ps(half, _mm256_add_ps(ar, br));                                        \
  const v8 ei = _mm256_mul_ps(half, _mm256_sub_ps(ai, bi));                                        \
  const v8 orr = _mm256_mul_ps(half, _mm256_add_ps(ai, bi));                                       \
  const v8 oi = _mm256_mul_ps(mhalf, _mm256_sub_ps(ar, br));                                       \
  const v8 c = LD(pc + k0), sn = LD(ps + k0);                                                      \
  const v8 tr = _mm256_add_ps(_mm256_mul_ps(c, orr), _mm256_mul_ps(sn, oi));                       \
  const v8 ti = _mm256_sub_ps(_mm256_mul_ps(c, oi), _mm256_mul_ps(sn, orr));                       \
  const v8 pr = _mm256_add_ps(er, tr), pi = _mm256_add_ps(ei, ti);                                 \
  const v8 lo = _mm256_add_ps(_mm256_mul_ps(pr, pr), _mm256_mul_ps(pi, pi))

static AVXF void rfft_power_avx(sg__rfft *p, const float *restrict x, const float *restrict win,
                                float *restrict pw, size_t nb) {
  const size_t M = p->n / 2;
  float *xr = p->ar, *xi = p->ai, *yr = p->br, *yi = p->bi;
  const float *tw = p->tw;
  size_t s = 1;
  for (size_t L = M; L >= 4; L /= 4) {
    if (s == 1)
      first4_avx(L / 4, x, win, tw, yr, yi);
    else if (s == 4)
      second4_avx(L / 4, xr, xi, tw, yr, yi);
    else
      stage4_avx(L, s, tw, xr, xi, yr, yi);
    next_stage(L, &tw, &s, &xr, &xi, &yr, &yi);
  }
  if (p->radix2) {
    for (size_t q = 0; q < s; q += 8) {
      const v8 ar = LD(xr + q), ai = LD(xi + q), br = LD(xr + s + q), bi = LD(xi + s + q);
      _mm256_storeu_ps(yr + q, _mm256_add_ps(ar, br));
      _mm256_storeu_ps(yi + q, _mm256_add_ps(ai, bi));
      _mm256_storeu_ps(yr + s + q, _mm256_sub_ps(ar, br));
      _mm256_storeu_ps(yi + s + q, _mm256_sub_ps(ai, bi));
    }
    xr = yr, xi = yi;
  }
  const v8 half = _mm256_set1_ps(0.5f), mhalf = _mm256_set1_ps(-0.5f);
  size_t k = 1;
  if (nb == M + 1) {
    for (; k + 8 <= M / 2; k += 8) { /* pw[M - k] reversed */
      SPLIT_AVX(xr, xi, p->pc, p->ps, k, M);
      const v8 qr = _mm256_sub_ps(er, tr), qi = _mm256_sub_ps(ei, ti);
      _mm256_storeu_ps(pw + k, lo);
      _mm256_storeu_ps(pw + M - k - 7,
                       rev8(_mm256_add_ps(_mm256_mul_ps(qr, qr), _mm256_mul_ps(qi, qi))));
    }
  } else {
    const size_t top = nb < M / 2 ? nb : M / 2;
    for (; k + 8 <= top; k += 8) {
      SPLIT_AVX(xr, xi, p->pc, p->ps, k, M);
      _mm256_storeu_ps(pw + k, lo);
    }
  }
  split_power(p, k, xr, xi, pw, nb);
}
#endif
