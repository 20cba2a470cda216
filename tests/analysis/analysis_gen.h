/* Signal generators for the analysis tests: every fixture is synthesised with a known answer. */
#ifndef SG_ANALYSIS_GEN_H
#define SG_ANALYSIS_GEN_H

#include "stemgate/core.h"

#include <math.h>
#include <stdlib.h>

/* Adds a click at t seconds: a sine burst with an instantaneous attack and a 6 ms decay. */
static inline void gen_click(float *x, size_t n, unsigned rate, double t, double amp, double hz) {
  long s0 = lround(t * rate);
  long len = (long)(0.04 * rate);
  for (long i = 0; i < len; ++i) {
    long j = s0 + i;
    if (j < 0 || j >= (long)n)
      continue;
    double u = (double)i / rate;
    x[j] += (float)(amp * exp(-u / 0.006) * sin(2 * SG_PI * hz * u));
  }
}

/* Adds a noise burst at t: Gaussian noise of RMS amp, exponential decay with time constant tau. */
static inline void gen_burst(float *x, size_t n, unsigned rate, double t, double amp, double tau,
                             double len_s, sg_rng *r) {
  long s0 = lround(t * rate);
  long len = (long)(len_s * rate);
  for (long i = 0; i < len; ++i) {
    long j = s0 + i;
    double v = amp * exp(-(double)i / rate / tau) * sg_rng_normal(r);
    if (j >= 0 && j < (long)n)
      x[j] += (float)v;
  }
}

/* Adds an additive-harmonic tone (6 partials at 1/h) with 10 ms attack and release. */
static inline void gen_tone(float *x, size_t n, unsigned rate, double t0, double dur, double midi,
                            double amp) {
  double hz = sg_midi_to_hz(midi);
  long s0 = lround(t0 * rate), len = lround(dur * rate), ramp = (long)(0.01 * rate);
  for (long i = 0; i < len; ++i) {
    long j = s0 + i;
    if (j < 0 || j >= (long)n)
      continue;
    double env = 1;
    if (i < ramp)
      env = (double)i / ramp;
    if (len - i < ramp)
      env = (double)(len - i) / ramp;
    double u = (double)i / rate, v = 0;
    for (int h = 1; h <= 6; ++h)
      if (hz * h < 0.45 * rate)
        v += sin(2 * SG_PI * hz * h * u) / h;
    x[j] += (float)(amp * env * v);
  }
}

#endif
