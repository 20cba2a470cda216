/* Measurement helpers for the fx tests, written independently of the code under test. */
#ifndef FX_TEST_UTIL_H
#define FX_TEST_UTIL_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stemgate/core.h"

static inline float *fxt_alloc(size_t n) {
  float *p = calloc(n ? n : 1, sizeof(float));
  if (!p)
    abort();
  return p;
}

static inline void fxt_sine(float *x, size_t n, double amp, double f, double rate, double ph) {
  for (size_t i = 0; i < n; ++i)
    x[i] = (float)(amp * sin(2 * SG_PI * f * (double)i / rate + ph));
}

/* Amplitude of the f component of x[0..n) by projection on sin and cos (exact for an integer
 * number of periods in n). Optional phase out (radians, of a sin reference). */
static inline double fxt_tone_amp(const float *x, size_t n, double f, double rate, double *phase) {
  double s = 0, c = 0;
  for (size_t i = 0; i < n; ++i) {
    double w = 2 * SG_PI * f * (double)i / rate;
    s += x[i] * sin(w);
    c += x[i] * cos(w);
  }
  if (phase)
    *phase = atan2(c, s);
  return 2.0 * sqrt(s * s + c * c) / (double)n;
}

/* Hann-windowed single-bin DFT magnitude (amplitude of a sinusoid at f). */
static inline double fxt_hann_amp(const float *x, size_t n, double f, double rate) {
  double s = 0, c = 0, wsum = 0;
  for (size_t i = 0; i < n; ++i) {
    double w = 0.5 - 0.5 * cos(2 * SG_PI * (double)i / (double)(n - 1));
    double a = 2 * SG_PI * f * (double)i / rate;
    s += w * x[i] * sin(a);
    c += w * x[i] * cos(a);
    wsum += w;
  }
  return 2.0 * sqrt(s * s + c * c) / wsum;
}

static inline double fxt_rms(const float *x, size_t n) {
  double e = 0;
  for (size_t i = 0; i < n; ++i)
    e += (double)x[i] * x[i];
  return sqrt(e / (double)(n ? n : 1));
}

static inline double fxt_peak(const float *x, size_t n) {
  double p = 0;
  for (size_t i = 0; i < n; ++i)
    if (fabs(x[i]) > p)
      p = fabs(x[i]);
  return p;
}

static inline int fxt_all_finite(const float *x, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (!isfinite(x[i]))
      return 0;
  return 1;
}

/* True peak (linear) by 16x oversampling with a 1024-tap Kaiser-windowed sinc (beta 10),
 * a longer and finer interpolator than the limiter's own 8x detector. */
static inline double fxt_true_peak(const float *x, size_t n) {
  enum { OS = 16, T = 64 };
  static double ph[OS][T];
  static int ready;
  if (!ready) {
    double i0b = 1, term = 1, q = 10.0 * 10.0 / 4;
    for (int k = 1; k < 80; ++k) {
      term *= q / ((double)k * k);
      i0b += term;
    }
    for (int p = 0; p < OS; ++p) {
      double sum = 0;
      for (int k = 0; k < T; ++k) {
        /* tap index j = k*OS + p of a centred filter of length OS*T */
        double t = ((double)(k * OS + p) - (OS * T - 1) / 2.0) / OS; /* in input samples */
        double sinc = fabs(t) < 1e-12 ? 1.0 : sin(SG_PI * t) / (SG_PI * t);
        double r = 2.0 * t / T;
        double arg = 1 - r * r, bx = 10.0 * sqrt(arg > 0 ? arg : 0), i0 = 1, tm = 1;
        for (int m = 1; m < 80; ++m) {
          tm *= (bx * bx / 4) / ((double)m * m);
          i0 += tm;
        }
        ph[p][k] = sinc * i0 / i0b;
        sum += ph[p][k];
      }
      for (int k = 0; k < T; ++k)
        ph[p][k] /= sum;
    }
    ready = 1;
  }
  double pk = fxt_peak(x, n);
  for (size_t i = 0; i < n + T; ++i)
    for (int p = 0; p < OS; ++p) {
      double acc = 0;
      for (int k = 0; k < T; ++k) {
        long idx = (long)i - k;
        if (idx >= 0 && (size_t)idx < n)
          acc += ph[p][k] * x[idx];
      }
      if (fabs(acc) > pk)
        pk = fabs(acc);
    }
  return pk;
}

/* Reverberation time by Schroeder backward integration of the squared impulse response and a
 * least-squares line fitted to the energy decay curve between -5 and -35 dB (T30). */
static inline double fxt_t30(const double *e2, size_t n, double rate) {
  double *edc = malloc(n * sizeof(double));
  if (!edc)
    abort();
  double acc = 0;
  for (size_t i = n; i-- > 0;) {
    acc += e2[i];
    edc[i] = acc;
  }
  double total = edc[0];
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  size_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    double db = 10 * log10(edc[i] / total + 1e-300);
    if (db <= -5 && db >= -35) {
      double t = (double)i / rate;
      sx += t, sy += db, sxx += t * t, sxy += t * db;
      ++m;
    }
  }
  free(edc);
  double slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
  return -60.0 / slope;
}

#endif
