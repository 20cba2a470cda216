/* ITU-R BS.1770-4 / EBU R128 loudness: K-weighting, momentary, short-term, gated integrated
 * loudness and EBU Tech 3342 loudness range. See loudness.h. */
#include "loudness.h"

#include "stemgate/dsp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Absolute gate, -70 LUFS, as a mean energy (the -0.691 dB offset undone). */
#define ABS_GATE_E 1.1724653045822963e-7 /* 10^((-70 + 0.691) / 10) */

double sg__loud_lufs(double e) { return e > 0 ? -0.691 + 10.0 * log10(e) : SG_SILENCE_DB; }

/* BS.1770-4 Annex 1. The two filters as analogue prototypes (centre frequency, gain, Q; the
 * values that reproduce Table 1 and 2 at 48 kHz), mapped to the rate by the bilinear transform
 * with pre-warping (K = tan(pi f0 / fs)). */
void sg__loud_init(sg__loud *l, unsigned channels, unsigned rate) {
  memset(l, 0, sizeof *l);
  l->channels = channels;
  l->sub = (rate + 5) / 10;
  const double fs = (double)rate;
  /* pre-filter: a high shelf, +4 dB */
  double f0 = 1681.974450955533, gdb = 3.999843853973347, q = 0.7071752369554196;
  double k = tan(SG_PI * f0 / fs), vh = pow(10.0, gdb / 20.0);
  double vb = pow(vh, 0.4996667741545416);
  double a0 = 1.0 + k / q + k * k;
  l->b0[0] = (vh + vb * k / q + k * k) / a0;
  l->b0[1] = 2.0 * (k * k - vh) / a0;
  l->b0[2] = (vh - vb * k / q + k * k) / a0;
  l->a0[0] = 2.0 * (k * k - 1.0) / a0;
  l->a0[1] = (1.0 - k / q + k * k) / a0;
  /* RLB high-pass: numerator 1, -2, 1 as in Table 2 (not normalised) */
  f0 = 38.13547087602444;
  q = 0.5003270373238773;
  k = tan(SG_PI * f0 / fs);
  a0 = 1.0 + k / q + k * k;
  l->b1[0] = 1.0;
  l->b1[1] = -2.0;
  l->b1[2] = 1.0;
  l->a1[0] = 2.0 * (k * k - 1.0) / a0;
  l->a1[1] = (1.0 - k / q + k * k) / a0;
  /* BS.1770-4 Table 3 weights in the WAVE/SMPTE order, as libebur128's default map. */
  static const double w6[6] = {1.0, 1.0, 1.0, 0.0, 1.41, 1.41};
  for (unsigned c = 0; c < channels; ++c)
    l->w[c] = c < 6 ? w6[c] : 0.0;
  if (channels == 4) { /* L R Ls Rs */
    l->w[2] = l->w[3] = 1.41;
  } else if (channels == 5) { /* L R C Ls Rs */
    l->w[3] = l->w[4] = 1.41;
  }
}

void sg__loud_free(sg__loud *l) {
  if (!l)
    return;
  free(l->blk);
  free(l->st);
  l->blk = l->st = NULL;
  l->nblk = l->nst = l->cap_blk = l->cap_st = 0;
}

/* K-weights n samples of one channel (x[i * stride]) through its state z and adds y^2 to *e in
 * order (so the sum does not depend on how the stream is cut). The recursion is serial in
 * time; two channels go through kw2 so their chains overlap. */
static void kw1(const sg__loud *l, double *z, const float *x, size_t stride, size_t n, double *ep) {
  const double p0 = l->b0[0], p1 = l->b0[1], p2 = l->b0[2], pa1 = l->a0[0], pa2 = l->a0[1];
  const double ra1 = l->a1[0], ra2 = l->a1[1];
  double s1 = z[0], s2 = z[1], t1 = z[2], t2 = z[3], e = *ep;
  for (size_t i = 0; i < n; ++i) {
    double v = x[i * stride];
    double u = p0 * v + s1;
    s1 = p1 * v - pa1 * u + s2;
    s2 = p2 * v - pa2 * u;
    double y = u + t1;
    t1 = -2.0 * u - ra1 * y + t2;
    t2 = u - ra2 * y;
    e += y * y;
  }
  z[0] = sg_dsp_flush(s1);
  z[1] = sg_dsp_flush(s2);
  z[2] = sg_dsp_flush(t1);
  z[3] = sg_dsp_flush(t2);
  *ep = e;
}

static void kw2(const sg__loud *l, double *za, double *zb, const float *xa, const float *xb,
                size_t stride, size_t n, double *ea, double *eb) {
  const double p0 = l->b0[0], p1 = l->b0[1], p2 = l->b0[2], pa1 = l->a0[0], pa2 = l->a0[1];
  const double ra1 = l->a1[0], ra2 = l->a1[1];
  double s1 = za[0], s2 = za[1], t1 = za[2], t2 = za[3], e = *ea;
  double S1 = zb[0], S2 = zb[1], T1 = zb[2], T2 = zb[3], E = *eb;
  for (size_t i = 0; i < n; ++i) {
    double v = xa[i * stride], V = xb[i * stride];
    double u = p0 * v + s1, U = p0 * V + S1;
    s1 = p1 * v - pa1 * u + s2;
    S1 = p1 * V - pa1 * U + S2;
    s2 = p2 * v - pa2 * u;
    S2 = p2 * V - pa2 * U;
    double y = u + t1, Y = U + T1;
    t1 = -2.0 * u - ra1 * y + t2;
    T1 = -2.0 * U - ra1 * Y + T2;
    t2 = u - ra2 * y;
    T2 = U - ra2 * Y;
    e += y * y;
    E += Y * Y;
  }
  za[0] = sg_dsp_flush(s1);
  za[1] = sg_dsp_flush(s2);
  za[2] = sg_dsp_flush(t1);
  za[3] = sg_dsp_flush(t2);
  zb[0] = sg_dsp_flush(S1);
  zb[1] = sg_dsp_flush(S2);
  zb[2] = sg_dsp_flush(T1);
  zb[3] = sg_dsp_flush(T2);
  *ea = e;
  *eb = E;
}

static int push(double **v, size_t *n, size_t *cap, double e) {
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 1024; /* 102 s of 100 ms values */
    double *p = realloc(*v, nc * sizeof *p);
    if (!p)
      return -1;
    *v = p;
    *cap = nc;
  }
  (*v)[(*n)++] = e;
  return 0;
}

/* Sum of the last `subs` full sub-blocks' energy sums (nsub >= subs). */
static double last_subs(const sg__loud *l, unsigned subs) {
  double s = 0;
  for (unsigned j = 1; j <= subs; ++j)
    s += l->ring[(l->nsub - j) % SG__LOUD_SUBS];
  return s;
}

/* A sub-block is complete: store it, read momentary and short-term, gate the 400 ms block and
 * (10 Hz) the short-term value. */
static sg_status close_sub(sg__loud *l) {
  double e = 0;
  for (unsigned c = 0; c < l->channels; ++c) {
    e += l->w[c] * l->part[c];
    l->part[c] = 0;
  }
  l->ring[l->nsub % SG__LOUD_SUBS] = e;
  l->nsub++;
  l->fill = 0;
  sg_status st = SG_OK;
  if (l->nsub >= 4) {
    double m = last_subs(l, 4) / (4.0 * (double)l->sub);
    if (m > l->m_max)
      l->m_max = m;
    if (m >= ABS_GATE_E && push(&l->blk, &l->nblk, &l->cap_blk, m) != 0)
      l->nomem = 1, st = SG_E_NOMEM;
  }
  if (l->nsub >= SG__LOUD_SUBS) {
    double s = last_subs(l, SG__LOUD_SUBS) / (SG__LOUD_SUBS * (double)l->sub);
    if (s > l->s_max)
      l->s_max = s;
    if (s >= ABS_GATE_E && push(&l->st, &l->nst, &l->cap_st, s) != 0)
      l->nomem = 1, st = SG_E_NOMEM;
  }
  return st;
}

sg_status sg__loud_add(sg__loud *l, const float *const *ch, size_t stride, size_t n) {
  const unsigned C = l->channels;
  sg_status st = SG_OK;
  size_t off = 0;
  while (off < n) {
    size_t k = l->sub - l->fill;
    if (k > n - off)
      k = n - off;
    unsigned c = 0;
    for (; c + 1 < C; c += 2)
      kw2(l, l->z[c], l->z[c + 1], ch[c] + off * stride, ch[c + 1] + off * stride, stride, k,
          &l->part[c], &l->part[c + 1]);
    if (c < C)
      kw1(l, l->z[c], ch[c] + off * stride, stride, k, &l->part[c]);
    l->fill += k;
    l->frames += (int64_t)k;
    off += k;
    if (l->fill == l->sub && close_sub(l) != SG_OK)
      st = SG_E_NOMEM;
  }
  return st;
}

double sg__loud_window(const sg__loud *l, unsigned subs) {
  const double len = (double)subs * (double)l->sub;
  if (l->frames <= (int64_t)subs * (int64_t)l->sub) {
    /* Everything fed lies in the window (which starts in silence). */
    double s = 0;
    for (uint64_t j = 0; j < l->nsub; ++j)
      s += l->ring[j % SG__LOUD_SUBS];
    for (unsigned c = 0; c < l->channels; ++c)
      s += l->w[c] * l->part[c];
    return s / len;
  }
  return last_subs(l, subs) / len;
}

double sg__loud_integrated(const sg__loud *l) {
  if (l->nomem || l->nblk == 0)
    return SG_SILENCE_DB;
  double s = 0;
  for (size_t i = 0; i < l->nblk; ++i)
    s += l->blk[i];
  const double rel = s / (double)l->nblk * 0.1; /* -10 LU */
  double g = 0;
  size_t n = 0;
  for (size_t i = 0; i < l->nblk; ++i)
    if (l->blk[i] >= rel) {
      g += l->blk[i];
      n++;
    }
  return n ? sg__loud_lufs(g / (double)n) : SG_SILENCE_DB;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

sg_status sg__loud_range(const sg__loud *l, double *lra) {
  *lra = 0;
  if (l->nomem)
    return SG_E_NOMEM;
  if (l->nst == 0)
    return SG_OK;
  double s = 0;
  for (size_t i = 0; i < l->nst; ++i)
    s += l->st[i];
  const double rel = s / (double)l->nst * 0.01; /* -20 LU */
  double *v = malloc(l->nst * sizeof *v);
  if (!v)
    return SG_E_NOMEM;
  size_t n = 0;
  for (size_t i = 0; i < l->nst; ++i)
    if (l->st[i] >= rel)
      v[n++] = l->st[i];
  if (n) {
    qsort(v, n, sizeof *v, cmp_double);
    double lo = v[(size_t)((double)(n - 1) * 0.10 + 0.5)];
    double hi = v[(size_t)((double)(n - 1) * 0.95 + 0.5)];
    *lra = 10.0 * log10(hi / lo);
  }
  free(v);
  return SG_OK;
}
