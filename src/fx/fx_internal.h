/* Helpers shared by the fx units (internal, sg__ prefix). The filters, smoothers and detectors
 * themselves live in src/dsp/ (stemgate/dsp.h). */
#ifndef SG_FX_INTERNAL_H
#define SG_FX_INTERNAL_H

#include "stemgate/dsp.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Parameter smoothing time constant (s): fast enough to follow automation, slow enough that a
 * step in gain does not click. */
#define SG__SMOOTH_SEC 0.02

static inline double sg__clamp(double x, double lo, double hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/* x86-64: the hottest kernels are also built for AVX2 (function attribute target("avx2"), no
 * FMA) and chosen at init. Each build does the same IEEE operations in the same order (no
 * contraction in ISO C mode, no reassociation), so both give the same bits; tests compare them. */
#if defined(__x86_64__) && defined(__GNUC__)
#define SG__FX_AVX2 1
#else
#define SG__FX_AVX2 0
#endif

/* Whether a unit initialised now runs its AVX2 build: the CPU has AVX2 and the environment
 * variable SG_FX_BASELINE (for comparing the two builds' files, not a user option) is unset. */
static inline int sg__fx_avx2(void) {
#if SG__FX_AVX2
  const char *e = getenv("SG_FX_BASELINE");
  return __builtin_cpu_supports("avx2") && !(e && *e && strcmp(e, "0") != 0);
#else
  return 0;
#endif
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

/* The reverb with the baseline (avx2 = 0) or the AVX2 build (where SG__FX_AVX2 and the CPU has
 * it; else the baseline), whatever was chosen at init. */
typedef struct sg_reverb sg_reverb;
void sg__reverb_process_isa(sg_reverb *st, float *L, float *R, size_t n, int avx2);

#endif
