/* Effects evidence: reverberant decay after the last onset (Schroeder backward integration) and
 * echo at a given lag (envelope autocorrelation against neighbouring lags). */
#include "analysis_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sg_decay_config_init(sg_decay_config *c) { c->floor_dbfs = -60; }

static double db10(double e) {
  double v = e > 0 ? 10.0 * log10(e) : SG_SILENCE_DB;
  return v < SG_SILENCE_DB ? SG_SILENCE_DB : v;
}

/* Energy blocks [a, b) into out, 0 outside the envelope (which may be spooled to a file). */
static sg_status energy_window(const sg_features *f, long a, long b, float *out) {
  long ne = (long)sg_features_energy_frames(f, NULL), lo = a < 0 ? 0 : a, hi = b < ne ? b : ne;
  memset(out, 0, (size_t)(b - a) * sizeof *out);
  return hi > lo ? sg_features_energy_read(f, (size_t)lo, (size_t)(hi - lo), out + (lo - a))
                 : SG_OK;
}

sg_status sg_decay_tail(const sg_features *f, const sg_decay_config *cfg, sg_decay_result *out) {
  if (!f || !out)
    return SG_E_INVAL;
  memset(out, 0, sizeof *out);
  sg_decay_config c;
  if (cfg)
    c = *cfg;
  else
    sg_decay_config_init(&c);
  double re;
  const size_t ne = sg_features_energy_frames(f, &re);
  if (!ne)
    return SG_E_INVAL;
  sg_onset_list on;
  sg_status st = sg_onsets_pick(f, NULL, &on);
  if (st != SG_OK)
    return st;
  if (!on.n) {
    sg_onset_list_free(&on);
    return SG_E_NOTFOUND;
  }
  /* The last onset that is a new event: its 10 ms level rises 6 dB over the level just before
   * it (a fluctuation inside a decaying tail does not). */
  double tl = on.time[0];
  const long w = (long)lround(0.01 * re);
  float *win = malloc((size_t)(9 * w + 1) * sizeof *win); /* blocks [j - 3w, j + 6w) */
  if (!win) {
    sg_onset_list_free(&on);
    return SG_E_NOMEM;
  }
  for (size_t i = on.n; i-- > 0;) {
    long j = (long)lround(on.time[i] * re), wa = j - 3 * w;
    if ((st = energy_window(f, wa, j + 6 * w, win)) != SG_OK)
      break;
    double before = 0, after = 0;
    long nb = 0;
    for (long q = j - 3 * w; q < j - w; ++q)
      if (q >= 0 && q < (long)ne) {
        before += win[q - wa];
        nb++;
      }
    before = nb ? before / (double)nb : 0;
    for (long q0 = j; q0<j + 5 * w; q0 += w / 2> 0 ? w / 2 : 1) {
      double m = 0;
      long na = 0;
      for (long q = q0; q < q0 + w && q < (long)ne; ++q) {
        m += win[q - wa];
        na++;
      }
      m = na ? m / (double)na : 0;
      if (m > after)
        after = m;
    }
    if (after > 4.0 * before) {
      tl = on.time[i];
      break;
    }
  }
  free(win);
  sg_onset_list_free(&on);
  if (st != SG_OK)
    return st;

  /* Start: the energy maximum just after the last onset. */
  long a = (long)floor((tl - 0.01) * re), b = (long)ceil((tl + 0.1) * re);
  if (a < 0)
    a = 0;
  if (b > (long)ne)
    b = (long)ne;
  long js = a;
  if (b > a) {
    float *near = malloc((size_t)(b - a) * sizeof *near);
    st = near ? energy_window(f, a, b, near) : SG_E_NOMEM;
    if (st != SG_OK) {
      free(near);
      return st;
    }
    for (long j = a; j < b; ++j)
      if (near[j - a] > near[js - a])
        js = j;
    free(near);
  }
  out->start_s = (double)js / re;
  long n = (long)ne - js;
  if (n < 20)
    return SG_E_NOTFOUND;
  /* 10 ms smoothed level (forward window). */
  const long sw = (long)lround(0.01 * re) > 0 ? (long)lround(0.01 * re) : 1;
  double *lv = malloc((size_t)n * sizeof *lv), *edc = malloc((size_t)(n + 1) * sizeof *edc);
  float *e = malloc((size_t)n * sizeof *e); /* the region: e[j] is block js + j */
  st = !lv || !edc || !e ? SG_E_NOMEM : energy_window(f, js, (long)ne, e);
  if (st != SG_OK) {
    free(lv);
    free(edc);
    free(e);
    return st;
  }
  double acc = 0;
  for (long j = (long)ne - 1; j >= js; --j) {
    acc += e[j - js];
    if (j + sw < (long)ne)
      acc -= e[j + sw - js];
    long cnt = (long)ne - j < sw ? (long)ne - j : sw;
    lv[j - js] = acc / (double)cnt;
  }
  /* Noise floor: mean energy over the last tenth of the region (Lundeby's late-part estimate). */
  long nn = n / 10 > 1 ? n / 10 : 1;
  double noise = 0;
  for (long j = n - nn; j < n; ++j)
    noise += e[j];
  noise /= (double)nn;
  out->noise_floor_dbfs = db10(noise);
  /* Truncate where the smoothed level meets the floor (+5 dB), or 100 dB under the peak. */
  double stop = noise > 0 ? noise * 3.1623 : lv[0] * 1e-10;
  long jt = n;
  for (long j = 0; j < n; ++j)
    if (lv[j] <= stop) {
      jt = j;
      break;
    }
  /* Schroeder integral of noise-subtracted energy (Chu 1978). */
  edc[jt] = 0;
  for (long j = jt; j-- > 0;) {
    double v = e[j] - noise;
    edc[j] = edc[j + 1] + (v > 0 ? v : 0);
  }
  st = SG_OK;
  if (!(edc[0] > 0)) {
    st = SG_E_NOTFOUND;
    goto done;
  }
  double lo = 0, e0 = edc[0];
  for (long j = 0; j < jt; ++j) {
    double v = edc[j] > 0 ? 10.0 * log10(edc[j] / e0) : -300;
    edc[j] = v;
    if (v < lo)
      lo = v;
  }
  double top = -5, bottom;
  if (lo <= -27)
    bottom = -25; /* T20 */
  else if (lo <= -17)
    bottom = -15; /* T10 */
  else if (lo <= -12)
    bottom = -10;
  else {
    st = SG_E_NOTFOUND;
    goto done;
  }
  double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, m = 0;
  for (long j = 0; j < jt; ++j) {
    if (edc[j] > top || edc[j] < bottom)
      continue;
    double x = (double)j / re, y = edc[j];
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
    syy += y * y;
    m += 1;
  }
  double den = m * sxx - sx * sx;
  if (m < 3 || den <= 0) {
    st = SG_E_NOTFOUND;
    goto done;
  }
  double slope = (m * sxy - sx * sy) / den;
  double vy = m * syy - sy * sy;
  out->decay_db_per_s = slope;
  out->rt60_s = slope < 0 ? -60.0 / slope : 0;
  out->fit_top_db = top;
  out->fit_bottom_db = bottom;
  out->fit_r2 = vy > 0 ? (m * sxy - sx * sy) * (m * sxy - sx * sy) / (den * vy) : 1;
  double fl = pow(10.0, c.floor_dbfs / 10.0);
  out->tail_s = 0;
  for (long j = n; j-- > 0;)
    if (lv[j] >= fl) {
      out->tail_s = (double)(j + sw) / re;
      break;
    }
done:
  free(lv);
  free(edc);
  free(e);
  return st;
}

static double acf_lag(const double *x, long n, long l, double r0) {
  if (l <= 0 || l >= n)
    return 0;
  double s = 0;
  for (long i = 0; i + l < n; ++i)
    s += x[i] * x[i + l];
  return s / (double)(n - l) / r0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

sg_status sg_echo_at_lag(const sg_features *f, double lag_s, double threshold,
                         sg_echo_result *out) {
  if (!f || !out || !(lag_s > 0))
    return SG_E_INVAL;
  memset(out, 0, sizeof *out);
  double re;
  const size_t ne = sg_features_energy_frames(f, &re);
  if (!ne)
    return SG_E_INVAL;
  long n = (long)ne, L = (long)lround(lag_s * re);
  if (L < 2 || 2 * L >= n)
    return SG_E_RANGE;
  double *x = malloc((size_t)n * sizeof *x);
  if (!x)
    return SG_E_NOMEM;
  double mean = 0, r0 = 0;
  float buf[1024]; /* the envelope may be spooled to a file: read by window */
  for (long i0 = 0; i0 < n; i0 += 1024) {
    long m = n - i0 < 1024 ? n - i0 : 1024;
    if (sg_features_energy_read(f, (size_t)i0, (size_t)m, buf) != SG_OK) {
      free(x);
      return SG_E_IO;
    }
    for (long i = i0; i < i0 + m; ++i) {
      x[i] = sqrt(buf[i - i0] > 0 ? (double)buf[i - i0] : 0.0);
      mean += x[i];
    }
  }
  mean /= (double)n;
  for (long i = 0; i < n; ++i) {
    x[i] -= mean;
    r0 += x[i] * x[i];
  }
  r0 /= (double)n;
  if (!(r0 > 0)) {
    free(x);
    return SG_E_NOTFOUND;
  }
  long w = (long)ceil(0.03 * L) > 2 ? (long)ceil(0.03 * L) : 2;
  double best = -2;
  long bl = L;
  for (long l = L - w; l <= L + w; ++l) {
    double r = acf_lag(x, n, l, r0);
    if (r > best) {
      best = r;
      bl = l;
    }
  }
  long lo = (long)floor(0.7 * L), hi = (long)ceil(1.3 * L), ex = (long)ceil(0.08 * L);
  if (ex < w + 1)
    ex = w + 1;
  double *nb = malloc((size_t)(hi - lo + 1) * sizeof *nb);
  if (!nb) {
    free(x);
    return SG_E_NOMEM;
  }
  size_t k = 0;
  for (long l = lo; l <= hi; ++l)
    if (labs(l - L) > ex && l < n)
      nb[k++] = acf_lag(x, n, l, r0);
  qsort(nb, k, sizeof *nb, cmp_double);
  out->lag_s = (double)bl / re;
  out->acf = best;
  out->neighbours = k ? nb[k / 2] : 0;
  out->prominence = best - out->neighbours;
  /* Robust spread of the neighbours (1.4826 x median absolute deviation). */
  for (size_t i = 0; i < k; ++i)
    nb[i] = fabs(nb[i] - out->neighbours);
  qsort(nb, k, sizeof *nb, cmp_double);
  out->spread = k ? 1.4826 * nb[k / 2] : 0;
  double r = best;
  out->gain_estimate = r <= 0 ? 0 : r >= 0.5 ? 1 : (1 - sqrt(1 - 4 * r * r)) / (2 * r);
  out->detected = out->prominence >= threshold && out->prominence >= 3.0 * out->spread;
  free(nb);
  free(x);
  return SG_OK;
}
