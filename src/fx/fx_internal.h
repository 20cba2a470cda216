/* Helpers shared by the fx units (internal, sg__ prefix). */
#ifndef SG_FX_INTERNAL_H
#define SG_FX_INTERNAL_H

#include <math.h>
#include <stddef.h>

/* Parameter smoothing time constant (s): fast enough to follow automation, slow enough that a
 * step in gain does not click. */
#define SG__SMOOTH_SEC 0.02

static inline double sg__clamp(double x, double lo, double hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/* One-pole coefficient exp(-1 / (tau * rate)) for a time constant tau in seconds. */
static inline double sg__onepole(double tau_sec, double rate) {
  if (tau_sec <= 0)
    return 0.0;
  return exp(-1.0 / (tau_sec * rate));
}

/* Flush values that would decay into denormals (state of recursive filters). */
static inline double sg__flush(double x) { return fabs(x) < 1e-25 ? 0.0 : x; }

/* Dot product of two float arrays with eight independent partial sums: lets the compiler keep
 * several multiply-adds in flight (and use SIMD) without reassociation flags. The float
 * accumulation error (~1e-7 relative) is far below what the FIR filters here resolve. */
static inline float sg__dot(const float *a, const float *b, int n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k)
      s[k] += a[i + k] * b[i + k];
  float r = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; i < n; ++i)
    r += a[i] * b[i];
  return r;
}

/* Zeroth-order modified Bessel function (Kaiser window). */
double sg__bessel_i0(double x);
/* Kaiser-windowed sinc lowpass: n taps (odd), cutoff fc as a fraction of the sampling rate,
 * DC gain `gain`. */
void sg__kaiser_sinc(float *h, int n, double fc, double beta, double gain);

#endif
