/* Helpers shared by the analysis sources (not public). */
#ifndef SG_ANALYSIS_INTERNAL_H
#define SG_ANALYSIS_INTERNAL_H

#include "stemgate/analysis.h"

#include <stddef.h>

/* Growable float array (amortised doubling). */
typedef struct sg__farr {
  float *v;
  size_t n, cap;
} sg__farr;

sg_status sg__farr_push(sg__farr *a, float x);
sg_status sg__farr_pushn(sg__farr *a, const float *x, size_t n);
void sg__farr_free(sg__farr *a);

/* Median of n floats; reorders tmp (a scratch copy of n values). */
float sg__median(float *tmp, size_t n);
/* Vertex offset in (-0.5, 0.5) of the parabola through (-1, a), (0, b), (1, c); 0 when flat. */
double sg__parabolic(double a, double b, double c);
/* The bar positions with the highest and second-highest mean score (score[p] / count[p], 0 where
 * nothing counted) among n; *second is -1 when n == 1. Returns the best; *m1, *m2 their means.
 * Where the downbeat is read from bar-position evidence (beats.c, rhythm.c). */
int sg__top_two(const double *score, const double *count, int n, int *second, double *m1,
                double *m2);
/* q-quantile (0..1) of x[0..n): its element of rank round(q (n - 1)), exact, without a copy;
 * 0 when n == 0. */
float sg__quantile(const float *x, size_t n, double q);
/* The same over n values that read(src, start, count, out) copies out a window at a time (an
 * envelope kept in a file); a failed read is returned. */
typedef sg_status (*sg__read_fn)(const void *src, size_t start, size_t n, float *out);
sg_status sg__quantile_read(sg__read_fn read, const void *src, size_t n, double q, float *out);

/* A window of a features' onset envelope (which a long one keeps in a file, see features.c), so
 * an analysis holds a few seconds of it whatever the length: frames [lo, lo + n) in v.
 * sg__ewin_load reads a range (clipped to the envelope) for direct indexing; sg__ewin_at reads
 * one frame, moving the window when it does not hold it (for scans in order), and sets err when
 * a read fails (the frame then reads 0). */
#define SG__EWIN 8192
typedef struct sg__ewin {
  const sg_features *f;
  long total; /* frames of the envelope */
  float *v;
  size_t cap;
  long lo, n;
  int err;
} sg__ewin;
/* *R (optional) receives the envelope's frame rate. */
void sg__ewin_init(sg__ewin *w, const sg_features *f, double *R);
sg_status sg__ewin_load(sg__ewin *w, long lo, long hi);
void sg__ewin_free(sg__ewin *w);
/* Frame j, 0 <= j < total. */
static inline float sg__ewin_at(sg__ewin *w, long j) {
  if ((j < w->lo || j >= w->lo + w->n) &&
      sg__ewin_load(w, j - SG__EWIN / 4, j - SG__EWIN / 4 + SG__EWIN) != SG_OK) {
    w->err = 1;
    return 0;
  }
  return w->v[j - w->lo];
}
/* The 99th percentile (sg__quantile) of f's onset envelope of n frames, read by window. */
sg_status sg__onset_p99(const sg_features *f, size_t n, double *p99);

/* Tests: f (just created) takes the portable paths of its FFTs, salience and median windows,
 * which give the same bits as the AVX ones. */
void sg__features_portable(sg_features *f);

/* Real FFT of a power-of-two length n >= 8 (fft.c): Stockham radix-4 on n/2 complex points. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(SG_NO_CLONES)
#define SG_RFFT_AVX 1 /* fft.c's AVX path, chosen at run time */
#endif
typedef struct sg__rfft {
  size_t n;
  int radix2; /* log2(n/2) odd: one radix-2 stage at the end */
  int simd;   /* the AVX path (same bits; a test clears it to compare the portable one) */
  float *mem, *ar, *ai, *br, *bi, *tw; /* work arrays and stage twiddles, all in mem */
  float *pc, *ps;                      /* cos, sin of 2 pi k / n for k <= n/4 */
} sg__rfft;

/* 0, or -1 when n is not a power of two >= 8 or memory is short (then free is still safe). */
int sg__rfft_init(sg__rfft *p, size_t n);
void sg__rfft_free(sg__rfft *p);
/* pw[k] = |X[k]|^2 for k < nb <= n/2 + 1, X the DFT of x[i] * w[i] (unscaled, e^{-2 pi i k j/n}),
 * the window given split as the transform reads the samples: win[j] = w[2 j], win[n/2 + j] =
 * w[2 j + 1] (sg__rfft_split_window), so it is not deinterleaved again for every frame. */
void sg__rfft_power(sg__rfft *p, const float *x, const float *win, float *pw, size_t nb);
/* The window w of n samples split for sg__rfft_power into win (n floats). */
void sg__rfft_split_window(const float *w, size_t n, float *win);

#endif
