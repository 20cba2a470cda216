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
/* q-quantile (0..1) of x[0..n) using a scratch copy; 0 when n == 0. */
float sg__quantile(const float *x, size_t n, double q);

#endif
