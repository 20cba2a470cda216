/* Window design, DC blocker and parameter smoother. See include/stemgate/dsp.h. */
#include "stemgate/dsp.h"

#include <stdlib.h>
#include <string.h>

double sg_dsp_bessel_i0(double x) {
  double sum = 1.0, term = 1.0, q = x * x / 4.0;
  for (int k = 1; k < 64; ++k) {
    term *= q / ((double)k * k);
    sum += term;
    if (term < 1e-14 * sum)
      break;
  }
  return sum;
}

void sg_dsp_kaiser_sinc(float *h, int n, double fc, double beta, double gain) {
  double mid = (n - 1) / 2.0, sum = 0.0, i0b = sg_dsp_bessel_i0(beta);
  double tmp[1024];
  for (int i = 0; i < n && i < 1024; ++i) {
    double t = i - mid;
    double sinc = t == 0 ? 2.0 * fc : sin(2.0 * SG_PI * fc * t) / (SG_PI * t);
    double r = t / mid;
    double w = sg_dsp_bessel_i0(beta * sqrt(fmax(0.0, 1.0 - r * r))) / i0b;
    tmp[i] = sinc * w;
    sum += tmp[i];
  }
  for (int i = 0; i < n && i < 1024; ++i)
    h[i] = (float)(tmp[i] * gain / sum);
}

void sg_dc_blocker_init(sg_dc_blocker *st, double r) {
  st->r = r;
  sg_dc_blocker_reset(st);
}

void sg_dc_blocker_reset(sg_dc_blocker *st) { st->x1 = st->y1 = 0; }

void sg_dc_blocker_process(sg_dc_blocker *st, const float *in, float *out, size_t n) {
  for (size_t i = 0; i < n; ++i)
    out[i] = (float)sg_dc_blocker_tick(st, in[i]);
}

int sg_dsp_avx2(void) {
#if SG_DSP_AVX2
  const char *e = getenv("SG_BASELINE_ISA");
  return __builtin_cpu_supports("avx2") && !(e && *e && strcmp(e, "0") != 0);
#else
  return 0;
#endif
}

void sg_smoother_init(sg_smoother *s, double value, double tau_sec, double tick_rate) {
  s->cur = s->target = value;
  s->a = sg_onepole_coef_tau(tau_sec, tick_rate);
}

#if defined(__SSE2__) || defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#define SG_MXCSR_FTZ 0x8000u /* flush to zero */
#define SG_MXCSR_DAZ 0x0040u /* denormals are zero */
unsigned sg_dsp_denormals_off(void) {
  unsigned prev = _mm_getcsr();
  _mm_setcsr(prev | SG_MXCSR_FTZ | SG_MXCSR_DAZ);
  return prev;
}
void sg_dsp_denormals_restore(unsigned prev) { _mm_setcsr(prev); }
#else
unsigned sg_dsp_denormals_off(void) { return 0; }
void sg_dsp_denormals_restore(unsigned prev) { (void)prev; }
#endif
