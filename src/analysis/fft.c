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
  size_t total = 4 * M + ntw + 2 * (M / 2 + 1);
  p->mem = malloc(total * sizeof *p->mem);
  if (!p->mem)
    return -1;
  p->ar = p->mem;
  p->ai = p->ar + M;
  p->br = p->ai + M;
  p->bi = p->br + M;
  p->tw = p->bi + M;
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

/* lo[k] = |X[k]|^2 and hi[M / 2 - k] = |X[M - k]|^2 for 0 < k < M / 2 from Z[k] and Z[M - k]:
 * E = (Z[k] + conj Z[M-k]) / 2, O = -i (Z[k] - conj Z[M-k]) / 2 and T = W^k O,
 * X[k] = E + T and X[M - k] = conj(E - T) (W^(M-k) = -conj W^k). */
static SG__INLINE void split_pairs(size_t M, cfp zr, cfp zi, cfp pc, cfp ps, fp lo, fp hi) {
  for (size_t k = 1; k < M / 2; ++k) {
    const float ar = zr[k], ai = zi[k], br = zr[M - k], bi = zi[M - k];
    const float er = 0.5f * (ar + br), ei = 0.5f * (ai - bi);
    const float orr = 0.5f * (ai + bi), oi = -0.5f * (ar - br);
    const float tr = pc[k] * orr + ps[k] * oi, ti = pc[k] * oi - ps[k] * orr;
    lo[k] = (er + tr) * (er + tr) + (ei + ti) * (ei + ti);
    hi[M / 2 - k] = (er - tr) * (er - tr) + (ei - ti) * (ei - ti);
  }
}

/* |X[k]|^2 for 0 < k < nb <= M / 2. */
static SG__INLINE void split_low(size_t M, size_t nb, cfp zr, cfp zi, cfp pc, cfp ps, fp pw) {
  for (size_t k = 1; k < nb; ++k) {
    const float ar = zr[k], ai = zi[k], br = zr[M - k], bi = zi[M - k];
    const float er = 0.5f * (ar + br), ei = 0.5f * (ai - bi);
    const float orr = 0.5f * (ai + bi), oi = -0.5f * (ar - br);
    const float tr = pc[k] * orr + ps[k] * oi, ti = pc[k] * oi - ps[k] * orr;
    pw[k] = (er + tr) * (er + tr) + (ei + ti) * (ei + ti);
  }
}

void sg__rfft_split_window(const float *w, size_t n, float *win) {
  for (size_t j = 0; j < n / 2; ++j) {
    win[j] = w[2 * j];
    win[n / 2 + j] = w[2 * j + 1];
  }
}

SG__CLONES void sg__rfft_power(sg__rfft *p, const float *restrict x, const float *restrict win,
                               float *restrict pw, size_t nb) {
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
    tw += 6 * (L / 4);
    s *= 4;
    float *t = xr;
    xr = yr, yr = t;
    t = xi;
    xi = yi, yi = t;
  }
  if (p->radix2) {
    last2(s, xr, xi, xr + s, xi + s, yr, yi, yr + s, yi + s);
    xr = yr, xi = yi;
  }
  /* Z = FFT(z) in xr, xi; X[0] = Re Z[0] + Im Z[0], X[M] = Re Z[0] - Im Z[0], X[M/2] =
   * conj Z[M/2]. */
  if (nb == M + 1) {
    split_pairs(M, xr, xi, p->pc, p->ps, pw, pw + M / 2);
  } else {
    split_low(M, nb < M / 2 ? nb : M / 2, xr, xi, p->pc, p->ps, pw);
    for (size_t k = M / 2 + 1; k < nb; ++k) { /* X[k] = conj(E - T) at k' = M - k */
      const size_t j = M - k;
      const float ar = xr[j], ai = xi[j], br = xr[k], bi = xi[k];
      const float er = 0.5f * (ar + br), ei = 0.5f * (ai - bi);
      const float orr = 0.5f * (ai + bi), oi = -0.5f * (ar - br);
      const float tr = p->pc[j] * orr + p->ps[j] * oi, ti = p->pc[j] * oi - p->ps[j] * orr;
      pw[k] = (er - tr) * (er - tr) + (ei - ti) * (ei - ti);
    }
  }
  if (nb > M / 2)
    pw[M / 2] = xr[M / 2] * xr[M / 2] + xi[M / 2] * xi[M / 2];
  pw[0] = (xr[0] + xi[0]) * (xr[0] + xi[0]);
  if (nb > M)
    pw[M] = (xr[0] - xi[0]) * (xr[0] - xi[0]);
}
