/* Window design, DC blocker and parameter smoother. See include/stemgate/dsp.h. */
#include "stemgate/dsp.h"

#include <math.h>
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

/* The recursion is serial: the speed is the latency of y = (x - x1) + r y1 per sample. The flush
 * (a compare and mask on y inside that chain) nearly doubles it, yet only acts when |y| < 1e-25,
 * i.e. in silence. So a stretch runs both channels interleaved (two independent chains) without
 * the flush, tracking the smallest |y|; if any y fell under the flush threshold the stretch is
 * redone with sg_dc_blocker_tick from the saved state. Silence in and at rest is skipped. The
 * result is bit-identical to sg_dc_blocker_tick on each channel. */
#define DC_RUN 256

static int dc_at_rest(const sg_dc_blocker *a, const float *x, size_t n) {
  if (a->x1 != 0 || a->y1 != 0)
    return 0;
  for (size_t i = 0; i < n; ++i)
    if (x[i] != 0)
      return 0;
  return 1;
}

void sg_dc_blocker_process2(sg_dc_blocker *a, sg_dc_blocker *b, float *l, float *r, size_t n) {
  for (size_t i0 = 0; i0 < n; i0 += DC_RUN) {
    size_t m = n - i0 < DC_RUN ? n - i0 : DC_RUN;
    float *pl = l + i0, *pr = r + i0;
    const int rest_l = dc_at_rest(a, pl, m), rest_r = dc_at_rest(b, pr, m);
    if (rest_l && rest_r)
      continue; /* zeros in, zeros out, state stays 0 */
    float ol[DC_RUN], orr[DC_RUN];
    const double ra = a->r, rb = b->r;
    double xa = a->x1, ya = a->y1, xb = b->x1, yb = b->y1;
    double lo = HUGE_VAL;
    for (size_t i = 0; i < m; ++i) {
      double ua = pl[i], ub = pr[i];
      double va = (ua - xa) + ra * ya, vb = (ub - xb) + rb * yb;
      xa = ua;
      xb = ub;
      ya = va;
      yb = vb;
      ol[i] = (float)va;
      orr[i] = (float)vb;
      double ma = fabs(va), mb = fabs(vb);
      lo = ma < lo ? ma : lo;
      lo = mb < lo ? mb : lo;
    }
    if (lo >= 1e-25) { /* the flush never acted: these are the exact values */
      a->x1 = xa;
      a->y1 = ya;
      b->x1 = xb;
      b->y1 = yb;
      memcpy(pl, ol, m * sizeof *pl);
      memcpy(pr, orr, m * sizeof *pr);
      continue;
    }
    for (size_t i = 0; i < m; ++i) {
      pl[i] = (float)sg_dc_blocker_tick(a, pl[i]);
      pr[i] = (float)sg_dc_blocker_tick(b, pr[i]);
    }
  }
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
