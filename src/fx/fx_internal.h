/* Helpers shared by the fx units (internal, sg__ prefix). The filters, smoothers and detectors
 * themselves live in src/dsp/ (stemgate/dsp.h). */
#ifndef SG_FX_INTERNAL_H
#define SG_FX_INTERNAL_H

#include "stemgate/dsp.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Parameter smoothing time constant (s): fast enough to follow automation, slow enough that a
 * step in gain does not click. */
#define SG__SMOOTH_SEC 0.02

static inline double sg__clamp(double x, double lo, double hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/* 1 when every value of x[0..n) is zero (either sign). A unit whose recursive state is all zero
 * maps an all-zero block to zeros and keeps its state zero (linear, flushed), so it may skip the
 * block: the Bridge's delay and reverb run on 118 s of silence in a 145 s song. Checked in
 * stretches so a non-zero value ends the scan early. */
static inline int sg__all_zero(const float *x, size_t n) {
  for (size_t o = 0; o < n; o += 256) {
    const size_t m = n - o < 256 ? n - o : 256;
    uint32_t acc = 0;
    for (size_t k = 0; k < m; ++k) {
      uint32_t b;
      memcpy(&b, x + o + k, sizeof b);
      acc |= b << 1; /* drop the sign bit: -0 counts as zero */
    }
    if (acc)
      return 0;
  }
  return 1;
}

/* 4-point cubic Hermite (Catmull-Rom) read of a power-of-two ring at a fractional delay d >= 1
 * behind the newest sample (index pos): the chorus's read, and its test's reference recursion.
 * d > 0, so the conversion truncates to floor(d) (no libm call); through int64_t, which
 * x86-64 converts both ways in one instruction where size_t needs a range test (d < 2^63). */
static inline double sg__read_frac(const float *b, size_t mask, size_t pos, double d) {
  const int64_t k = (int64_t)d;
  const size_t i = (size_t)k;
  const double t = d - (double)k;
  double p0 = b[(pos - i + 1) & mask], p1 = b[(pos - i) & mask];
  double p2 = b[(pos - i - 1) & mask], p3 = b[(pos - i - 2) & mask];
  double c1 = 0.5 * (p2 - p0), c2 = p0 - 2.5 * p1 + 2 * p2 - 0.5 * p3;
  double c3 = 0.5 * (p3 - p0) + 1.5 * (p1 - p2);
  return ((c3 * t + c2) * t + c1) * t + p1;
}

/* Effect kinds in the order of the parameter tables (src/fx/fx_chain.c): the index of
 * sg_fx_type_schema. */
typedef enum sg__fxkind {
  SG__FX_EQ,
  SG__FX_COMP,
  SG__FX_DELAY,
  SG__FX_REVERB,
  SG__FX_CHORUS,
  SG__FX_FLANGER,
  SG__FX_PHASER,
  SG__FX_SAT,
  SG__FX_WIDTH,
  SG__FX_PAN,
  SG__FX_GAIN,
  SG__FX_LIMITER,
  SG__FX_KIND_COUNT
} sg__fxkind;

typedef struct sg_fx_chain sg_fx_chain;

/* Effect i of a chain as the builder read it from the spec: its kind, its parameter values in
 * table order (defaults filled in) and the text of text-valued parameter k ("1/8.", the
 * sidechain's stem name; "" when absent). For the probes (fx_probe.c), which derive each
 * design expectation from the same values the unit was built from. */
sg__fxkind sg__fx_node_kind(const sg_fx_chain *c, int i);
const double *sg__fx_node_values(const sg_fx_chain *c, int i);
const char *sg__fx_node_text(const sg_fx_chain *c, int i, int k);

/* The reverb with the baseline (avx2 = 0) or the AVX2 build (SG_DSP_AVX2 in stemgate/dsp.h;
 * where the CPU has none, the baseline), whatever was chosen at init. */
typedef struct sg_reverb sg_reverb;
void sg__reverb_process_isa(sg_reverb *st, float *L, float *R, size_t n, int avx2);

#endif
