/* The limiter's loudness cost predicted from the bus pass (see mix_internal.h). The model runs
 * at chunk rate on sample peaks: the limiter's true-peak detector, look-ahead ramp and hold are
 * below its resolution; what it captures is the part that costs loudness, the gain held down by
 * the release after each peak over the threshold. */
#include "mix_internal.h"

#include <math.h>
#include <string.h>

void sg__pred_init(sg__pred *p, double rate, unsigned channels) {
  memset(p, 0, sizeof *p);
  p->channels = channels;
  sg_limiter_config lc;
  sg_limiter_config_init(&lc);
  p->rel = (float)pow(sg_onepole_coef_tau(lc.release_ms * 1e-3, rate), SG__PRED_CHUNK);
  for (int i = 0; i < SG__PRED_N; ++i) {
    p->k[i] = (float)pow(10.0, -(SG__PRED_Y0 + i * SG__PRED_DY) / 20.0);
    p->c[i] = 1.0f;
  }
  p->lr_equal = 1;
}

static void chunk_end(sg__pred *p) {
  const float e = p->acc, rel = p->rel;
  /* requirement min(1, k / peak); a silent (or non-finite) chunk requires nothing */
  const float q = p->pk > 0.0f && p->pk < INFINITY ? 1.0f / p->pk : INFINITY;
  for (int i = 0; i < SG__PRED_N; ++i) {
    const float kq = p->k[i] * q;
    const float a = kq < 1.0f ? kq : 1.0f;
    const float c = a < p->c[i] ? a : a + rel * (p->c[i] - a);
    p->c[i] = c;
    p->s[i] += (double)(c * c * e);
  }
  p->e += (double)e;
  p->pk = p->acc = 0.0f;
  p->fill = 0;
}

void sg__pred_add(sg__pred *p, const float *L, const float *R, size_t n) {
  while (n) {
    size_t k = SG__PRED_CHUNK - p->fill;
    k = k < n ? k : n;
    float pk = p->pk, acc = 0.0f;
    for (size_t j = 0; j < k; ++j) {
      const float a = fabsf(L[j]), b = fabsf(R[j]);
      const float m = a > b ? a : b;
      pk = m > pk ? m : pk;
    }
    if (p->channels == 1) /* the writer's downmix 0.5 (L + R) */
      for (size_t j = 0; j < k; ++j) {
        const float v = 0.5f * (L[j] + R[j]);
        acc += v * v;
      }
    else
      for (size_t j = 0; j < k; ++j)
        acc += L[j] * L[j] + R[j] * R[j];
    p->pk = pk;
    p->acc += acc == acc && acc < INFINITY ? acc : 0.0f;
    p->fill += k;
    L += k, R += k, n -= k;
    if (p->fill == SG__PRED_CHUNK)
      chunk_end(p);
  }
}

void sg__pred_block(sg__pred *p, const float *L, const float *R, size_t n) {
  if (p->lr_equal && memcmp(L, R, n * sizeof *L) != 0)
    p->lr_equal = 0;
}

void sg__pred_finish(sg__pred *p) {
  if (p->fill)
    chunk_end(p);
}

int sg__pred_cost(const sg__pred *p, double y, double *cost_db) {
  if (!(p->e > 0))
    return 0;
  const double u = (y - SG__PRED_Y0) / SG__PRED_DY;
  double r;
  if (u < 0) {
    /* below the grid: only where its lowest drive already costs nothing */
    if (p->s[0] < p->e * (1.0 - 1e-6))
      return 0;
    r = 1.0;
  } else {
    const int i = (int)u;
    if (i >= SG__PRED_N - 1)
      return 0;
    const double f = u - i;
    r = ((1.0 - f) * p->s[i] + f * p->s[i + 1]) / p->e;
  }
  *cost_db = r > 0 ? 10.0 * log10(r < 1.0 ? r : 1.0) : -100.0;
  return 1;
}
