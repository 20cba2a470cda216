/* Biquad sections: Audio-EQ-Cookbook designs (R. Bristow-Johnson), bilinear first-order
 * sections, transposed direct form II. See include/stemgate/dsp.h. */
#include "stemgate/dsp.h"

static double clampd(double x, double lo, double hi) { return x < lo ? lo : (x > hi ? hi : x); }

sg_status sg_biquad_design(sg_biquad_type t, double freq, double q, double gain_db, double rate,
                           sg_biquad_coefs *c) {
  if (!c || !(rate >= 1000.0) || t < 0 || t >= SG_BIQUAD_TYPE_COUNT_)
    return SG_E_INVAL;
  freq = clampd(freq, 1.0, 0.49 * rate);
  q = clampd(q, 0.05, 100.0);
  gain_db = clampd(gain_db, -48.0, 48.0);
  double w0 = 2.0 * SG_PI * freq / rate, cw = cos(w0), sw = sin(w0);
  double alpha = sw / (2.0 * q), A = pow(10.0, gain_db / 40.0), sA = sqrt(A);
  double b0, b1, b2, a0, a1, a2;
  switch (t) {
  case SG_BIQUAD_LOWPASS:
    b0 = (1 - cw) / 2, b1 = 1 - cw, b2 = (1 - cw) / 2;
    a0 = 1 + alpha, a1 = -2 * cw, a2 = 1 - alpha;
    break;
  case SG_BIQUAD_HIGHPASS:
    b0 = (1 + cw) / 2, b1 = -(1 + cw), b2 = (1 + cw) / 2;
    a0 = 1 + alpha, a1 = -2 * cw, a2 = 1 - alpha;
    break;
  case SG_BIQUAD_BANDPASS:
    b0 = alpha, b1 = 0, b2 = -alpha;
    a0 = 1 + alpha, a1 = -2 * cw, a2 = 1 - alpha;
    break;
  case SG_BIQUAD_NOTCH:
    b0 = 1, b1 = -2 * cw, b2 = 1;
    a0 = 1 + alpha, a1 = -2 * cw, a2 = 1 - alpha;
    break;
  case SG_BIQUAD_PEAK:
    b0 = 1 + alpha * A, b1 = -2 * cw, b2 = 1 - alpha * A;
    a0 = 1 + alpha / A, a1 = -2 * cw, a2 = 1 - alpha / A;
    break;
  case SG_BIQUAD_LOWSHELF:
    b0 = A * ((A + 1) - (A - 1) * cw + 2 * sA * alpha);
    b1 = 2 * A * ((A - 1) - (A + 1) * cw);
    b2 = A * ((A + 1) - (A - 1) * cw - 2 * sA * alpha);
    a0 = (A + 1) + (A - 1) * cw + 2 * sA * alpha;
    a1 = -2 * ((A - 1) + (A + 1) * cw);
    a2 = (A + 1) + (A - 1) * cw - 2 * sA * alpha;
    break;
  case SG_BIQUAD_HIGHSHELF:
  default:
    b0 = A * ((A + 1) + (A - 1) * cw + 2 * sA * alpha);
    b1 = -2 * A * ((A - 1) + (A + 1) * cw);
    b2 = A * ((A + 1) + (A - 1) * cw - 2 * sA * alpha);
    a0 = (A + 1) - (A - 1) * cw + 2 * sA * alpha;
    a1 = 2 * ((A - 1) - (A + 1) * cw);
    a2 = (A + 1) - (A - 1) * cw - 2 * sA * alpha;
    break;
  }
  c->b0 = b0 / a0, c->b1 = b1 / a0, c->b2 = b2 / a0, c->a1 = a1 / a0, c->a2 = a2 / a0;
  return SG_OK;
}

void sg_biquad_design_first_order(int highpass, double freq, double rate, sg_biquad_coefs *c) {
  double K = tan(SG_PI * clampd(freq, 1.0, 0.49 * rate) / rate);
  c->a1 = (K - 1) / (K + 1);
  c->a2 = c->b2 = 0;
  if (highpass)
    c->b0 = 1 / (1 + K), c->b1 = -1 / (1 + K);
  else
    c->b0 = K / (1 + K), c->b1 = K / (1 + K);
}

double sg_biquad_coefs_mag_db(const sg_biquad_coefs *c, double f, double rate) {
  double w = 2 * SG_PI * f / rate, c1 = cos(w), s1 = sin(w), c2 = cos(2 * w), s2 = sin(2 * w);
  double nr = c->b0 + c->b1 * c1 + c->b2 * c2, ni = -(c->b1 * s1 + c->b2 * s2);
  double dr = 1 + c->a1 * c1 + c->a2 * c2, di = -(c->a1 * s1 + c->a2 * s2);
  double m2 = (nr * nr + ni * ni) / (dr * dr + di * di);
  return 10 * log10(m2 > 1e-30 ? m2 : 1e-30);
}

void sg_biquad_init(sg_biquad *b, const sg_biquad_coefs *c) {
  b->c = *c;
  b->z1 = b->z2 = 0;
}

void sg_biquad_reset(sg_biquad *b) { b->z1 = b->z2 = 0; }

void sg_biquad_run(const sg_biquad_coefs *cp, double *z, const float *in, float *out, size_t n) {
  /* Coefficients and state in locals: the compiler keeps them in registers across the loop
   * (out may alias in, so it could not otherwise assume they are unchanged). */
  const sg_biquad_coefs c = *cp;
  double z1 = z[0], z2 = z[1];
  for (size_t i = 0; i < n; ++i) {
    double x = in[i], y = c.b0 * x + z1;
    z1 = c.b1 * x - c.a1 * y + z2;
    z2 = c.b2 * x - c.a2 * y;
    out[i] = (float)y;
  }
  z[0] = sg_dsp_flush(z1), z[1] = sg_dsp_flush(z2);
}

void sg_biquad_run2(const sg_biquad_coefs *cp, double *zl, double *zr, float *l, float *r,
                    size_t n) {
  const sg_biquad_coefs c = *cp;
  double a1 = zl[0], a2 = zl[1], b1 = zr[0], b2 = zr[1];
  for (size_t i = 0; i < n; ++i) {
    const double xa = l[i], xb = r[i], ya = c.b0 * xa + a1, yb = c.b0 * xb + b1;
    a1 = c.b1 * xa - c.a1 * ya + a2;
    b1 = c.b1 * xb - c.a1 * yb + b2;
    a2 = c.b2 * xa - c.a2 * ya;
    b2 = c.b2 * xb - c.a2 * yb;
    l[i] = (float)ya;
    r[i] = (float)yb;
  }
  zl[0] = sg_dsp_flush(a1), zl[1] = sg_dsp_flush(a2);
  zr[0] = sg_dsp_flush(b1), zr[1] = sg_dsp_flush(b2);
}

/* One TDF-II step of section c on x with state (z1, z2); the expressions of sg_biquad_run, so
 * the cascades below give its bits. */
#define SG__BQ_STEP(c, x, y, z1, z2)                                                               \
  do {                                                                                             \
    (y) = (c).b0 * (x) + (z1);                                                                     \
    (z1) = (c).b1 * (x) - (c).a1 * (y) + (z2);                                                     \
    (z2) = (c).b2 * (x) - (c).a2 * (y);                                                            \
  } while (0)

void sg_biquad_run_pair(const sg_biquad_coefs *cp, double (*z)[2], float *x, size_t n) {
  const sg_biquad_coefs c = cp[0], d = cp[1];
  double p1 = z[0][0], p2 = z[0][1], q1 = z[1][0], q2 = z[1][1];
  for (size_t i = 0; i < n; ++i) {
    double y, w;
    SG__BQ_STEP(c, (double)x[i], y, p1, p2);
    SG__BQ_STEP(d, (double)(float)y, w, q1, q2); /* the float between sections, as in place */
    x[i] = (float)w;
  }
  z[0][0] = sg_dsp_flush(p1), z[0][1] = sg_dsp_flush(p2);
  z[1][0] = sg_dsp_flush(q1), z[1][1] = sg_dsp_flush(q2);
}

void sg_biquad_run2_pair(const sg_biquad_coefs *cp, double (*zl)[2], double (*zr)[2], float *l,
                         float *r, size_t n) {
  const sg_biquad_coefs c = cp[0], d = cp[1];
  double a1 = zl[0][0], a2 = zl[0][1], b1 = zr[0][0], b2 = zr[0][1];
  double e1 = zl[1][0], e2 = zl[1][1], f1 = zr[1][0], f2 = zr[1][1];
  for (size_t i = 0; i < n; ++i) {
    double ya, yb, wa, wb;
    SG__BQ_STEP(c, (double)l[i], ya, a1, a2);
    SG__BQ_STEP(c, (double)r[i], yb, b1, b2);
    SG__BQ_STEP(d, (double)(float)ya, wa, e1, e2);
    SG__BQ_STEP(d, (double)(float)yb, wb, f1, f2);
    l[i] = (float)wa;
    r[i] = (float)wb;
  }
  zl[0][0] = sg_dsp_flush(a1), zl[0][1] = sg_dsp_flush(a2);
  zr[0][0] = sg_dsp_flush(b1), zr[0][1] = sg_dsp_flush(b2);
  zl[1][0] = sg_dsp_flush(e1), zl[1][1] = sg_dsp_flush(e2);
  zr[1][0] = sg_dsp_flush(f1), zr[1][1] = sg_dsp_flush(f2);
}

void sg_biquad_process(sg_biquad *b, const float *in, float *out, size_t n) {
  double z[2] = {b->z1, b->z2};
  sg_biquad_run(&b->c, z, in, out, n);
  b->z1 = z[0], b->z2 = z[1];
}
