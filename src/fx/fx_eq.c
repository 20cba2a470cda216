/* EQ: Butterworth cascades of Audio-EQ-Cookbook biquads (R. Bristow-Johnson; the sections and
 * their TDF-II kernel are in src/dsp/biquad.c), parameter glides, zero-phase offline mode,
 * analytic magnitude. See include/stemgate/fx.h. */
#include "stemgate/fx.h"

#include "fx/fx_internal.h"

#include <ctype.h>
#include <string.h>

static const char *const k_eq_names[SG_EQ_TYPE_COUNT_] = {
    "lowpass", "highpass", "bandpass", "notch", "peak", "lowshelf", "highshelf"};

const char *sg_eq_type_name(sg_eq_type t) {
  return (t >= 0 && t < SG_EQ_TYPE_COUNT_) ? k_eq_names[t] : "unknown";
}

static int ieq(const char *a, const char *b) {
  for (; *a && *b; ++a, ++b)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return 0;
  return *a == *b;
}

sg_status sg_eq_type_parse(const char *s, sg_eq_type *out) {
  if (!s || !out)
    return SG_E_INVAL;
  for (int i = 0; i < SG_EQ_TYPE_COUNT_; ++i)
    if (ieq(s, k_eq_names[i])) {
      *out = (sg_eq_type)i;
      return SG_OK;
    }
  return SG_E_PARSE;
}

/* ---- EQ unit ------------------------------------------------------------------------------ */

void sg_eq_config_init(sg_eq_config *c) {
  c->type = SG_EQ_PEAK;
  c->freq_hz = 1000;
  c->q = 0.70710678118654752;
  c->gain_db = 0;
  c->order = 2;
}

static void clamp_cfg(sg_eq_config *c, double rate) {
  if (c->type < 0 || c->type >= SG_EQ_TYPE_COUNT_)
    c->type = SG_EQ_PEAK;
  c->freq_hz = sg__clamp(c->freq_hz, 10.0, 0.49 * rate);
  c->q = sg__clamp(c->q, 0.05, 100.0);
  c->gain_db = sg__clamp(c->gain_db, -48.0, 48.0);
  if (c->order < 1)
    c->order = 1;
  if (c->order > 8)
    c->order = 8;
}

static int is_lphp(sg_eq_type t) { return t == SG_EQ_LOWPASS || t == SG_EQ_HIGHPASS; }

/* Butterworth pole-pair Q values for order N (pole angles from the negative real axis). */
static int design_sections(const sg_eq_config *c, double rate, sg_biquad_coefs *sec) {
  if (!is_lphp(c->type) || c->order == 2) {
    sg_biquad_design(c->type, c->freq_hz, c->q, c->gain_db, rate, &sec[0]);
    return 1;
  }
  int N = c->order, k = 0;
  if (N % 2 == 1) {
    sg_biquad_design_first_order(c->type == SG_EQ_HIGHPASS, c->freq_hz, rate, &sec[k++]);
    for (int i = 1; i <= (N - 1) / 2; ++i)
      sg_biquad_design(c->type, c->freq_hz, 1.0 / (2.0 * cos(i * SG_PI / N)), 0, rate, &sec[k++]);
  } else {
    for (int i = 1; i <= N / 2; ++i)
      sg_biquad_design(c->type, c->freq_hz, 1.0 / (2.0 * cos((2 * i - 1) * SG_PI / (2.0 * N))), 0,
                       rate, &sec[k++]);
  }
  return k;
}

sg_status sg_eq_init(sg_eq *st, const sg_eq_config *c, double rate) {
  if (!st || !c || !(rate >= 8000.0 && rate <= 384000.0))
    return SG_E_INVAL;
  memset(st, 0, sizeof *st);
  st->rate = rate;
  st->cfg = *c;
  clamp_cfg(&st->cfg, rate);
  st->target = st->cfg;
  st->smooth = sg_onepole_coef_tau(SG__SMOOTH_SEC, rate / SG_FX_CONTROL_BLOCK);
  st->nsec = design_sections(&st->cfg, rate, st->c);
  return SG_OK;
}

void sg_eq_reset(sg_eq *st) {
  memset(st->z, 0, sizeof st->z);
  st->ctl_left = 0;
  st->cfg = st->target;
  st->nsec = design_sections(&st->cfg, st->rate, st->c);
}

void sg_eq_set(sg_eq *st, const sg_eq_config *c) {
  sg_eq_config t = *c;
  clamp_cfg(&t, st->rate);
  st->target = t;
  if (t.type != st->cfg.type || t.order != st->cfg.order) {
    /* A structural change cannot glide; switch at once and clear the state. */
    st->cfg = t;
    memset(st->z, 0, sizeof st->z);
    st->nsec = design_sections(&st->cfg, st->rate, st->c);
  }
}

/* Moves the realised parameters one control step towards the target; returns 1 if changed. */
static int smooth_step(sg_eq *st) {
  sg_eq_config *c = &st->cfg;
  const sg_eq_config *t = &st->target;
  if (c->freq_hz == t->freq_hz && c->q == t->q && c->gain_db == t->gain_db)
    return 0;
  double a = st->smooth;
  double lf = log(c->freq_hz), lt = log(t->freq_hz);
  lf = sg_smooth_step(lf, lt, a);
  c->freq_hz = fabs(lf - lt) < 1e-5 ? t->freq_hz : exp(lf);
  c->q = fabs(c->q - t->q) < 1e-5 ? t->q : sg_smooth_step(c->q, t->q, a);
  c->gain_db =
      fabs(c->gain_db - t->gain_db) < 1e-4 ? t->gain_db : sg_smooth_step(c->gain_db, t->gain_db, a);
  return 1;
}

/* Sections two at a time: a cascade's pair runs in one loop (src/dsp/biquad.c), same bits. */
static void run_sections(const sg_biquad_coefs *sec, int nsec, double (*z)[2], float *x, size_t n) {
  int s = 0;
  for (; s + 1 < nsec; s += 2)
    sg_biquad_run_pair(&sec[s], &z[s], x, n);
  if (s < nsec)
    sg_biquad_run(&sec[s], z[s], x, x, n);
}

void sg_eq_process(sg_eq *st, float *L, float *R, size_t n) {
  size_t done = 0;
  while (done < n) {
    /* Control blocks are counted from reset, so the caller's block sizes do not change the
     * output while a parameter glides. */
    if (st->ctl_left == 0) {
      if (smooth_step(st))
        st->nsec = design_sections(&st->cfg, st->rate, st->c);
      st->ctl_left = SG_FX_CONTROL_BLOCK;
    }
    size_t m = n - done < (size_t)st->ctl_left ? n - done : (size_t)st->ctl_left;
    st->ctl_left -= (int)m;
    if (R && R != L) {
      int s = 0;
      for (; s + 1 < st->nsec; s += 2)
        sg_biquad_run2_pair(&st->c[s], &st->z[0][s], &st->z[1][s], L + done, R + done, m);
      if (s < st->nsec)
        sg_biquad_run2(&st->c[s], st->z[0][s], st->z[1][s], L + done, R + done, m);
    } else {
      run_sections(st->c, st->nsec, st->z[0], L + done, m);
      if (R)
        run_sections(st->c, st->nsec, st->z[1], R + done, m);
    }
    done += m;
  }
}

double sg_eq_response_db(const sg_eq *st, double f) {
  double db = 0;
  for (int s = 0; s < st->nsec; ++s)
    db += sg_biquad_coefs_mag_db(&st->c[s], f, st->rate);
  return db;
}

/* |H(j W)|^2 of H(s) = (n2 s^2 + n1 s + n0) / (d2 s^2 + d1 s + d0). */
static double proto_mag2(double n2, double n1, double n0, double d2, double d1, double d0,
                         double W) {
  double nr = n0 - n2 * W * W, ni = n1 * W, dr = d0 - d2 * W * W, di = d1 * W;
  return (nr * nr + ni * ni) / (dr * dr + di * di);
}

double sg_eq_magnitude_db(const sg_eq_config *cin, double rate, double f) {
  sg_eq_config cc = *cin;
  clamp_cfg(&cc, rate);
  const sg_eq_config *c = &cc;
  double W = tan(SG_PI * f / rate) / tan(SG_PI * c->freq_hz / rate);
  double Q = c->q, A = pow(10.0, c->gain_db / 40.0), sA = sqrt(A), m2;
  if (is_lphp(c->type) && c->order != 2) {
    double r = pow(W, 2.0 * c->order); /* Butterworth: 1/(1+W^2N), high-pass mirrors W */
    m2 = c->type == SG_EQ_LOWPASS ? 1.0 / (1.0 + r) : r / (1.0 + r);
  } else {
    switch (c->type) {
    case SG_EQ_LOWPASS:
      m2 = proto_mag2(0, 0, 1, 1, 1 / Q, 1, W);
      break;
    case SG_EQ_HIGHPASS:
      m2 = proto_mag2(1, 0, 0, 1, 1 / Q, 1, W);
      break;
    case SG_EQ_BANDPASS:
      m2 = proto_mag2(0, 1 / Q, 0, 1, 1 / Q, 1, W);
      break;
    case SG_EQ_NOTCH:
      m2 = proto_mag2(1, 0, 1, 1, 1 / Q, 1, W);
      break;
    case SG_EQ_PEAK:
      m2 = proto_mag2(1, A / Q, 1, 1, 1 / (A * Q), 1, W);
      break;
    case SG_EQ_LOWSHELF:
      m2 = A * A * proto_mag2(1, sA / Q, A, A, sA / Q, 1, W);
      break;
    case SG_EQ_HIGHSHELF:
    default:
      m2 = A * A * proto_mag2(A, sA / Q, 1, 1, sA / Q, A, W);
      break;
    }
  }
  return 10 * log10(m2 > 1e-30 ? m2 : 1e-30);
}

sg_status sg_eq_filtfilt(const sg_eq_config *c, double rate, float *x, size_t n) {
  sg_eq st;
  sg_status s = sg_eq_init(&st, c, rate);
  if (s != SG_OK)
    return s;
  if (!x && n)
    return SG_E_INVAL;
  run_sections(st.c, st.nsec, st.z[0], x, n);
  for (size_t i = 0; i < n / 2; ++i) {
    float t = x[i];
    x[i] = x[n - 1 - i];
    x[n - 1 - i] = t;
  }
  memset(st.z, 0, sizeof st.z);
  run_sections(st.c, st.nsec, st.z[0], x, n);
  for (size_t i = 0; i < n / 2; ++i) {
    float t = x[i];
    x[i] = x[n - 1 - i];
    x[n - 1 - i] = t;
  }
  return SG_OK;
}
