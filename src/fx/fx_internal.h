/* Helpers shared by the fx units (internal, sg__ prefix). The filters, smoothers and detectors
 * themselves live in src/dsp/ (stemgate/dsp.h). */
#ifndef SG_FX_INTERNAL_H
#define SG_FX_INTERNAL_H

#include "stemgate/dsp.h"

#include <math.h>
#include <stddef.h>

/* Parameter smoothing time constant (s): fast enough to follow automation, slow enough that a
 * step in gain does not click. */
#define SG__SMOOTH_SEC 0.02

static inline double sg__clamp(double x, double lo, double hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

#endif
