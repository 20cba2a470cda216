/* Measurement helpers for the synth tests: radix-2 FFT, windowed magnitude spectra, peak
 * frequency with log-parabolic interpolation, Goertzel tone level, rendering helpers. */
#ifndef SYNTH_TEST_UTIL_H
#define SYNTH_TEST_UTIL_H

#include "sg_test.h"
#include "stemgate/synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* In-place iterative radix-2 FFT, n a power of two. */
static inline void tu_fft(double *re, double *im, size_t n) {
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1)
      j ^= bit;
    j ^= bit;
    if (i < j) {
      double t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    double ang = -2 * SG_PI / (double)len;
    for (size_t i = 0; i < n; i += len)
      for (size_t k = 0; k < len / 2; ++k) {
        double wr = cos(ang * (double)k), wi = sin(ang * (double)k);
        double xr = re[i + k + len / 2] * wr - im[i + k + len / 2] * wi;
        double xi = re[i + k + len / 2] * wi + im[i + k + len / 2] * wr;
        re[i + k + len / 2] = re[i + k] - xr;
        im[i + k + len / 2] = im[i + k] - xi;
        re[i + k] += xr;
        im[i + k] += xi;
      }
  }
}

/* Power spectrum (n/2 + 1 bins) of x[0..m) with a 4-term Blackman-Harris window (sidelobes
 * -92 dB), zero-padded to nfft. Caller frees. */
static inline double *tu_power(const float *x, size_t m, size_t nfft) {
  double *re = calloc(nfft, sizeof *re), *im = calloc(nfft, sizeof *im);
  for (size_t i = 0; i < m && i < nfft; ++i) {
    double t = 2 * SG_PI * (double)i / (double)(m - 1);
    double w = 0.35875 - 0.48829 * cos(t) + 0.14128 * cos(2 * t) - 0.01168 * cos(3 * t);
    re[i] = x[i] * w;
  }
  tu_fft(re, im, nfft);
  double *p = malloc((nfft / 2 + 1) * sizeof *p);
  for (size_t k = 0; k <= nfft / 2; ++k)
    p[k] = re[k] * re[k] + im[k] * im[k];
  free(re);
  free(im);
  return p;
}

/* Frequency of the strongest bin between lo and hi Hz, refined by a parabola through the log
 * magnitudes of the peak and its neighbours. */
static inline double tu_peak_hz(const double *p, size_t nfft, double rate, double lo, double hi) {
  size_t a = (size_t)(lo / rate * (double)nfft), b = (size_t)(hi / rate * (double)nfft);
  if (a < 1)
    a = 1;
  if (b > nfft / 2 - 1)
    b = nfft / 2 - 1;
  size_t best = a;
  for (size_t k = a; k <= b; ++k)
    if (p[k] > p[best])
      best = k;
  double l = log(p[best - 1] + 1e-300), c = log(p[best] + 1e-300), r = log(p[best + 1] + 1e-300);
  double den = l - 2 * c + r, d = den != 0 ? 0.5 * (l - r) / den : 0.0;
  return ((double)best + d) * rate / (double)nfft;
}

/* Amplitude of a tone at hz in x (Goertzel over m samples, Blackman-Harris window so
 * neighbouring tones leak below -90 dB; amplitude-normalised). */
static inline double tu_tone(const float *x, size_t m, double hz, double rate) {
  double w = 2 * SG_PI * hz / rate, c = 2 * cos(w), s0 = 0, s1 = 0, s2 = 0, wsum = 0;
  for (size_t i = 0; i < m; ++i) {
    double t = 2 * SG_PI * (double)i / (double)(m - 1);
    double win = 0.35875 - 0.48829 * cos(t) + 0.14128 * cos(2 * t) - 0.01168 * cos(3 * t);
    wsum += win;
    s0 = x[i] * win + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  double re = s1 - s2 * cos(w), im = s2 * sin(w);
  return 2 * sqrt(re * re + im * im) / wsum;
}

static inline double tu_cents(double f, double ref) { return 1200.0 * log2(f / ref); }

/* Renders [0, n) of notes with blocks of `block` frames into L (and a scratch right channel). */
static inline void tu_render(sg_synth *s, const sg_note_list *l, float *L, size_t n, size_t block) {
  float *R = malloc(n * sizeof *R);
  for (size_t off = 0; off < n; off += block) {
    size_t m = n - off < block ? n - off : block;
    assert_int_equal(sg_synth_render(s, l, (int64_t)off, L + off, R + off, m), SG_OK);
  }
  free(R);
}

static inline sg_note tu_note(int64_t start, int64_t len, int key, float vel) {
  sg_note n;
  memset(&n, 0, sizeof n);
  n.start = start;
  n.length = len;
  n.key = key;
  n.velocity = vel;
  return n;
}

/* Builds a parameter set from "name=value" pairs (numbers only). */
static inline void tu_params(sg_param_set *ps, const char *const *kv, int n) {
  memset(ps, 0, sizeof *ps);
  for (int i = 0; i < n && i < SG_MAX_PARAMS; ++i) {
    const char *eq = strchr(kv[i], '=');
    size_t kl = (size_t)(eq - kv[i]);
    memcpy(ps->v[i].key, kv[i], kl);
    ps->v[i].key[kl] = 0;
    snprintf(ps->v[i].text, sizeof ps->v[i].text, "%s", eq + 1);
    char *end = NULL;
    ps->v[i].num = strtod(eq + 1, &end);
    ps->v[i].is_num = end && *end == 0;
    ps->v[i].pos.line = i + 1;
    ps->v[i].pos.col = 3;
  }
  ps->n = n;
}

#endif
