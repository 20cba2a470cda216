/* Small numeric helpers shared inside the analysis module. */
#include "analysis_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

sg_status sg__farr_push(sg__farr *a, float x) { return sg__farr_pushn(a, &x, 1); }

sg_status sg__farr_pushn(sg__farr *a, const float *x, size_t n) {
  if (a->n + n > a->cap) {
    size_t cap = a->cap ? a->cap : 1024;
    while (cap < a->n + n)
      cap *= 2;
    float *p = realloc(a->v, cap * sizeof *p);
    if (!p)
      return SG_E_NOMEM;
    a->v = p;
    a->cap = cap;
  }
  memcpy(a->v + a->n, x, n * sizeof *x);
  a->n += n;
  return SG_OK;
}

void sg__farr_free(sg__farr *a) {
  free(a->v);
  a->v = NULL;
  a->n = a->cap = 0;
}

/* k-th smallest of v[0..n), in place: Wirth's selection ("Algorithms + Data Structures =
 * Programs", 1976), expected O(n), fast on the 17-element vectors of the HPSS median filters. */
static float select_k(float *v, size_t n, size_t k) {
  long l = 0, m = (long)n - 1, kk = (long)k;
  while (l < m) {
    float x = v[kk];
    long i = l, j = m;
    do {
      while (v[i] < x)
        i++;
      while (x < v[j])
        j--;
      if (i <= j) {
        float t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        j--;
      }
    } while (i <= j);
    if (j < kk)
      l = i;
    if (kk < i)
      m = j;
  }
  return v[kk];
}

float sg__median(float *tmp, size_t n) { return n ? select_k(tmp, n, n / 2) : 0.0f; }

int sg__top_two(const double *score, const double *count, int n, int *second, double *m1,
                double *m2) {
  int best = 0;
  double b1 = -1e300, b2 = -1e300;
  *second = -1;
  for (int p = 0; p < n; ++p) {
    double s = count[p] > 0 ? score[p] / count[p] : 0;
    if (s > b1) {
      b2 = b1;
      *second = best;
      b1 = s;
      best = p;
    } else if (s > b2) {
      b2 = s;
      *second = p;
    }
  }
  *m1 = b1;
  *m2 = b2;
  return best;
}

double sg__parabolic(double a, double b, double c) {
  double den = a - 2 * b + c;
  if (den >= 0) /* not a maximum */
    return 0;
  double p = 0.5 * (a - c) / den;
  return p > 0.5 ? 0.5 : p < -0.5 ? -0.5 : p;
}

/* A float's bits as an unsigned key in the same order (sign flipped for positives, all bits for
 * negatives), and back. */
static uint32_t float_key(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  return u & 0x80000000u ? ~u : u | 0x80000000u;
}

static float key_float(uint32_t u) {
  u = u & 0x80000000u ? u & 0x7fffffffu : ~u;
  float v;
  memcpy(&v, &u, sizeof v);
  return v;
}

static sg_status read_array(const void *src, size_t start, size_t n, float *out) {
  memcpy(out, (const float *)src + start, n * sizeof *out);
  return SG_OK;
}

float sg__quantile(const float *x, size_t n, double q) {
  float v = 0.0f;
  sg__quantile_read(read_array, x, n, q, &v);
  return v;
}

/* The k-th smallest by radix selection on the order-preserving keys: three counting passes
 * over the values (12, 12 and 8 bits of the key), each keeping the bucket that holds rank k, so
 * the value is exact and nothing the length of x is copied (the 1 kHz energy envelope of an
 * hour is 14 MB). */
sg_status sg__quantile_read(sg__read_fn read, const void *src, size_t n, double q, float *out) {
  *out = 0.0f;
  if (!n)
    return SG_OK;
  size_t k = (size_t)(q * (double)(n - 1) + 0.5);
  static const unsigned width[3] = {12, 12, 8};
  uint32_t prefix = 0, mask = 0;
  unsigned shift = 32;
  float buf[1024];
  for (int p = 0; p < 3; ++p) {
    size_t count[1u << 12] = {0};
    shift -= width[p];
    const uint32_t digit = (1u << width[p]) - 1;
    for (size_t i = 0; i < n;) {
      size_t m = n - i < 1024 ? n - i : 1024;
      sg_status st = read(src, i, m, buf);
      if (st != SG_OK)
        return st;
      for (size_t j = 0; j < m; ++j) {
        uint32_t u = float_key(buf[j]);
        if ((u & mask) == prefix)
          count[(u >> shift) & digit]++;
      }
      i += m;
    }
    uint32_t b = 0;
    while (k >= count[b])
      k -= count[b++];
    prefix |= b << shift;
    mask |= digit << shift;
  }
  *out = key_float(prefix);
  return SG_OK;
}

void sg__ewin_init(sg__ewin *w, const sg_features *f, double *R) {
  memset(w, 0, sizeof *w);
  w->f = f;
  w->total = (long)sg_features_onset_frames(f, R);
}

sg_status sg__ewin_load(sg__ewin *w, long lo, long hi) {
  lo = lo < 0 ? 0 : lo;
  hi = hi > w->total ? w->total : hi;
  hi = hi < lo ? lo : hi;
  const size_t n = (size_t)(hi - lo);
  if (n > w->cap) {
    float *v = realloc(w->v, n * sizeof *v);
    if (!v)
      return SG_E_NOMEM;
    w->v = v;
    w->cap = n;
  }
  w->lo = lo;
  w->n = 0;
  sg_status st = sg_features_onset_read(w->f, (size_t)lo, n, w->v);
  if (st == SG_OK)
    w->n = (long)n;
  return st;
}

void sg__ewin_free(sg__ewin *w) {
  free(w->v);
  w->v = NULL;
  w->cap = 0;
  w->n = 0;
}

static sg_status read_onset(const void *f, size_t start, size_t n, float *out) {
  return sg_features_onset_read(f, start, n, out);
}

sg_status sg__onset_p99(const sg_features *f, size_t n, double *p99) {
  float v = 0;
  sg_status st = sg__quantile_read(read_onset, f, n, 0.99, &v);
  *p99 = v;
  return st;
}
