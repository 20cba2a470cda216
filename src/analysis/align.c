/* Alignment of two signals: onset-envelope cross-correlation (coarse, robust to level, EQ and
 * polarity of the mix), then normalised sample-domain cross-correlation in a short window
 * (fine, sub-sample by parabolic interpolation). Measured at the start and at the end, so a
 * stretched render shows up as drift. */
#include "analysis_internal.h"
#include "stemgate/io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sg_align_config_init(sg_align_config *c) {
  c->window_s = 20;
  c->max_lag_s = 1.0;
  c->refine_s = 1.0;
}

/* Full-rate mono access for the refinement windows: memory, a seekable file or the caller's
 * reader (sg_align_input). */
typedef struct src {
  const float *x;
  size_t n;
  sg_audio_reader *rd;
  unsigned ch;
  int64_t frames;
  float *buf;
  size_t buf_cap;
  const sg_align_input *in;
} src;

/* Mono samples [start, start + len), zero outside the signal. */
static sg_status src_read(src *s, int64_t start, size_t len, float *out, sg_diag *d) {
  memset(out, 0, len * sizeof *out);
  int64_t total = s->in ? s->in->frames : s->rd ? s->frames : (int64_t)s->n;
  int64_t a = start < 0 ? 0 : start, b = start + (int64_t)len;
  if (b > total)
    b = total;
  if (b <= a)
    return SG_OK;
  if (s->in)
    return s->in->read(s->in->user, a, (size_t)(b - a), out + (a - start), d);
  if (!s->rd) {
    memcpy(out + (a - start), s->x + a, (size_t)(b - a) * sizeof *out);
    return SG_OK;
  }
  size_t want = (size_t)(b - a);
  if (s->buf_cap < want * s->ch) {
    free(s->buf);
    s->buf = malloc(want * s->ch * sizeof *s->buf);
    if (!s->buf) {
      s->buf_cap = 0;
      return sg_diag_fail(d, SG_E_NOMEM, "align: out of memory");
    }
    s->buf_cap = want * s->ch;
  }
  sg_status st = sg_audio_reader_seek(s->rd, a, d);
  size_t got = 0, have = 0;
  while (st == SG_OK && have < want) {
    st = sg_audio_reader_read(s->rd, s->buf + have * s->ch, want - have, &got, d);
    if (got == 0)
      break;
    have += got;
  }
  if (st != SG_OK)
    return st;
  for (size_t i = 0; i < have; ++i) {
    float m = 0;
    for (unsigned c = 0; c < s->ch; ++c)
      m += s->buf[i * s->ch + c];
    out[(size_t)(a - start) + i] = m / (float)s->ch;
  }
  return SG_OK;
}

typedef struct window_result {
  double offset_s, time_s, sim, fine_sim;
  int inverted;
} window_result;

/* Normalised cross-correlation of a[i0, i1) against b (nb long) shifted by lags -L..L. Returns
 * the best lag (with parabolic fraction) and its correlation. a and b may be windows of longer
 * signals: element i of a is a[i - ao], element j of b is b[j - bo] (a window holding every
 * element read: a's [i0, i1), b's [i0 + base - L, i1 + base + L) within [0, nb)). */
static double xcorr_peak(const float *a, long ao, const float *b, long bo, size_t nb, long i0,
                         long i1, long L, long base, double *peak) {
  double ma = 0, mb = 0;
  for (long i = i0; i < i1; ++i)
    ma += a[i - ao];
  ma /= (double)(i1 - i0);
  long bl = i0 + base - L, bh = i1 + base + L, cnt = 0;
  for (long i = bl; i < bh; ++i)
    if (i >= 0 && i < (long)nb) {
      mb += b[i - bo];
      cnt++;
    }
  mb = cnt ? mb / (double)cnt : 0;
  double *r = malloc((size_t)(2 * L + 1) * sizeof *r);
  if (!r) {
    *peak = 0;
    return 0;
  }
  double saa = 0;
  for (long i = i0; i < i1; ++i)
    saa += (a[i - ao] - ma) * (a[i - ao] - ma);
  long best = 0;
  double bv = -2;
  for (long l = -L; l <= L; ++l) {
    double s = 0, sbb = 0;
    for (long i = i0; i < i1; ++i) {
      long j = i + base + l;
      if (j < 0 || j >= (long)nb)
        continue;
      double y = b[j - bo] - mb;
      s += (a[i - ao] - ma) * y;
      sbb += y * y;
    }
    double v = saa > 0 && sbb > 0 ? s / sqrt(saa * sbb) : 0;
    r[l + L] = v;
    if (v > bv) {
      bv = v;
      best = l;
    }
  }
  double fr =
      (best > -L && best < L) ? sg__parabolic(r[best + L - 1], r[best + L], r[best + L + 1]) : 0;
  free(r);
  *peak = bv;
  return (double)best + fr;
}

static sg_status ewin_fail(sg_diag *d) {
  return sg_diag_fail(d, SG_E_IO, "align: cannot read the onset envelope back");
}

/* The active part [*ia, *ib) of w's envelope: first to last frame above thr. */
static void active_part(sg__ewin *w, double thr, size_t *ia, size_t *ib) {
  size_t a = 0, b = (size_t)w->total;
  while (a < b && !(sg__ewin_at(w, (long)a) > thr))
    a++;
  while (b > a && !(sg__ewin_at(w, (long)b - 1) > thr))
    b--;
  *ia = a;
  *ib = b;
}

static sg_status measure(sg__ewin *wa, sg__ewin *wb, double R, unsigned rate, src *sa, src *sb,
                         const sg_align_config *c, double t0, double t1, window_result *w,
                         sg_diag *d) {
  long i0 = (long)floor(t0 * R), i1 = (long)ceil(t1 * R);
  if (i1 > wa->total)
    i1 = wa->total;
  if (i1 - i0 < 4)
    return sg_diag_fail(d, SG_E_NOTFOUND, "align: window too short");
  long L = (long)ceil(c->max_lag_s * R);
  if (sg__ewin_load(wa, i0, i1) != SG_OK || sg__ewin_load(wb, i0 - L, i1 + L) != SG_OK)
    return ewin_fail(d);
  const float *ea = wa->v;
  double sim;
  double lag = xcorr_peak(ea, i0, wb->v, wb->lo, (size_t)wb->total, i0, i1, L, 0, &sim);
  w->offset_s = lag / R;
  w->sim = sim;
  w->time_s = 0.5 * (t0 + t1);
  w->fine_sim = 0;
  w->inverted = 0;
  if (!(sim > 0))
    return sg_diag_fail(d, SG_E_NOTFOUND, "align: no correlated onsets between the signals");
  if (!(c->refine_s > 0))
    return SG_OK;
  /* Refine in the sub-window of a with the most onset energy. */
  long wr = (long)ceil(c->refine_s * R);
  if (wr > i1 - i0)
    wr = i1 - i0;
  double s = 0, bs = -1;
  long bstart = i0;
  for (long i = i0; i < i1; ++i) {
    s += (double)ea[i - i0] * ea[i - i0];
    if (i - wr >= i0)
      s -= (double)ea[i - wr - i0] * ea[i - wr - i0];
    if (i - i0 + 1 >= wr && s > bs) {
      bs = s;
      bstart = i - wr + 1;
    }
  }
  int64_t a0 = (int64_t)llround((double)bstart / R * rate);
  size_t nr = (size_t)llround((double)wr / R * rate);
  long M = (long)ceil(3.0 * rate / R);
  long base = (long)llround(w->offset_s * rate);
  float *xa = malloc(nr * sizeof *xa), *xb = malloc((nr + 2 * (size_t)M) * sizeof *xb);
  sg_status st = SG_OK;
  if (!xa || !xb) {
    st = sg_diag_fail(d, SG_E_NOMEM, "align: out of memory");
    goto done;
  }
  st = src_read(sa, a0, nr, xa, d);
  if (st == SG_OK)
    st = src_read(sb, a0 + base - M, nr + 2 * (size_t)M, xb, d);
  if (st != SG_OK)
    goto done;
  /* Middle stage: amplitude envelopes (rectified, one-pole low-pass at 300 Hz, every 8th
   * sample) pin the lag to a fraction of a millisecond without the cycle ambiguity of tonal
   * material, whose waveform correlation repeats every period. */
  const size_t D = 8;
  size_t ma = nr / D, mb = (nr + 2 * (size_t)M) / D;
  float *va = malloc((ma + 1) * sizeof *va), *vb = malloc((mb + 1) * sizeof *vb);
  if (!va || !vb) {
    free(va);
    free(vb);
    st = sg_diag_fail(d, SG_E_NOMEM, "align: out of memory");
    goto done;
  }
  const float pole = (float)exp(-2 * SG_PI * 300.0 / rate);
  float y = 0;
  for (size_t i = 0; i < ma * D; ++i) {
    y = pole * y + (1 - pole) * fabsf(xa[i]);
    if (i % D == D - 1)
      va[i / D] = y;
  }
  y = 0;
  for (size_t i = 0; i < mb * D; ++i) {
    y = pole * y + (1 - pole) * fabsf(xb[i]);
    if (i % D == D - 1)
      vb[i / D] = y;
  }
  double msim;
  long Md = M / (long)D;
  double mid = ma > 8 ? xcorr_peak(va, 0, vb, 0, mb, 0, (long)ma, Md, Md, &msim) * (double)D : 0;
  free(va);
  free(vb);
  /* Fine stage: normalised waveform correlation within +-1.5 ms of the envelope estimate.
   * xb index j is b frame a0 + base - M + j; a frame a0 + i pairs with b frame
   * a0 + i + base + l, i.e. xb index i + M + l. */
  long cm = lround(mid), W = (long)ceil(0.0015 * rate);
  if (cm > M - W)
    cm = M - W;
  if (cm < -(M - W))
    cm = -(M - W);
  double fsim;
  double fl =
      (double)cm + xcorr_peak(xa, 0, xb, 0, nr + 2 * (size_t)M, 0, (long)nr, W, M + cm, &fsim);
  if (!(fsim > 0.1)) {
    /* Perhaps b is a with its polarity inverted: correlate against -b. */
    for (size_t i = 0; i < nr + 2 * (size_t)M; ++i)
      xb[i] = -xb[i];
    double nsim, nfl = (double)cm +
                       xcorr_peak(xa, 0, xb, 0, nr + 2 * (size_t)M, 0, (long)nr, W, M + cm, &nsim);
    if (nsim > 0.1) {
      fsim = nsim;
      fl = nfl;
      w->inverted = 1;
    }
  }
  w->fine_sim = fsim;
  int use_fine = fsim > 0.1 && fabs(fl) < (double)M;
  int use_mid = !use_fine && ma > 8 && msim > 0.3; /* polarity-free envelope estimate */
  if (use_fine || use_mid) {
    w->offset_s = ((double)base + (use_fine ? fl : mid)) / rate;
    /* The correlation weighs each part of the window by its energy, so under drift the
     * measured offset belongs to the energy centroid of the window, not its middle. */
    double se = 0, sie = 0;
    for (size_t i = 0; i < nr; ++i) {
      double e2 = (double)xa[i] * xa[i];
      se += e2;
      sie += (double)i * e2;
    }
    w->time_s = ((double)a0 + (se > 0 ? sie / se : 0.5 * (double)nr)) / rate;
  }
done:
  free(xa);
  free(xb);
  return st;
}

static sg_status align_core(const sg_features *fa, const sg_features *fb, src *sa, src *sb,
                            const sg_align_config *cfg, sg_align_result *out, sg_diag *d) {
  sg_align_config c;
  if (cfg)
    c = *cfg;
  else
    sg_align_config_init(&c);
  if (!(c.window_s > 0) || !(c.max_lag_s > 0))
    return sg_diag_fail(d, SG_E_INVAL, "align: window and max lag must be positive");
  double R;
  sg__ewin wa, wb;
  sg__ewin_init(&wa, fa, &R);
  sg__ewin_init(&wb, fb, &R); /* R: b's, as before (the rates are the same) */
  const size_t na = (size_t)wa.total;
  unsigned rate = sg_features_rate(fa);
  /* Windows lie inside the active part of a (first to last onset-envelope frame above 5% of its
   * 99th percentile): a stem that enters at bar 17 or stops early is measured where it plays. */
  double p99;
  size_t ia, ib;
  sg_status st = sg__onset_p99(fa, na, &p99);
  if (st == SG_OK) {
    active_part(&wa, 0.05 * p99, &ia, &ib);
    if (wa.err)
      st = SG_E_IO;
  }
  if (st != SG_OK) {
    sg__ewin_free(&wa);
    return ewin_fail(d);
  }
  if (ia >= ib) {
    sg__ewin_free(&wa);
    return sg_diag_fail(d, SG_E_NOTFOUND, "align: the first signal has no onsets to align on");
  }
  double ta = (double)ia / R - 0.5, tb = (double)ib / R + 0.5;
  ta = ta < 0 ? 0 : ta;
  tb = tb > (double)na / R ? (double)na / R : tb;
  double dur = tb - ta, W = c.window_s;
  double s0 = ta, s1, e0 = 0, e1 = 0;
  int has_end = 1;
  if (dur >= 2 * W) {
    s1 = ta + W;
    e0 = tb - W;
    e1 = tb;
  } else if (dur / 2 >= 5.0) {
    s1 = ta + dur / 2;
    e0 = s1;
    e1 = tb;
  } else {
    s1 = tb;
    has_end = 0;
  }
  window_result ws, we;
  /* Under drift the offset changes across the refinement window and wideband material gives
   * one sharp correlation peak per event, so a long window would pick a single event's offset
   * anywhere inside it. A coarse pass estimates the drift; the refinement window is then cut
   * so the offset moves by at most 0.25 ms within it (never under 0.1 s). An end window that
   * finds nothing to correlate leaves a start-only result (has_end = 0). */
  st = measure(&wa, &wb, R, rate, sa, sb, &(sg_align_config){c.window_s, c.max_lag_s, 0}, s0, s1,
               &ws, d);
  if (st != SG_OK)
    goto done;
  if (has_end && measure(&wa, &wb, R, rate, sa, sb, &(sg_align_config){c.window_s, c.max_lag_s, 0},
                         e0, e1, &we, NULL) != SG_OK)
    has_end = 0;
  if (has_end && c.refine_s > 0) {
    double ratio = fabs(we.offset_s - ws.offset_s) / (we.time_s - ws.time_s);
    if (ratio > 0 && 0.00025 / ratio < c.refine_s)
      c.refine_s = 0.00025 / ratio > 0.1 ? 0.00025 / ratio : 0.1;
  }
  if (c.refine_s > 0) {
    st = measure(&wa, &wb, R, rate, sa, sb, &c, s0, s1, &ws, d);
    if (st != SG_OK)
      goto done;
  }
  out->offset_s = ws.offset_s;
  out->start_time_s = ws.time_s;
  out->similarity = ws.sim;
  out->fine_similarity = ws.fine_sim;
  out->inverted = ws.inverted;
  out->end_offset_s = ws.offset_s;
  out->end_time_s = ws.time_s;
  out->has_end = has_end;
  if (!has_end)
    goto done;
  if (c.refine_s > 0) {
    st = measure(&wa, &wb, R, rate, sa, sb, &c, e0, e1, &we, d);
    if (st != SG_OK)
      goto done;
  }
  out->end_offset_s = we.offset_s;
  out->end_time_s = we.time_s;
  out->drift_s = we.offset_s - ws.offset_s;
  out->drift_ratio = we.time_s > ws.time_s ? out->drift_s / (we.time_s - ws.time_s) : 0;
  out->similarity = 0.5 * (ws.sim + we.sim);
  out->fine_similarity = 0.5 * (ws.fine_sim + we.fine_sim);
done:
  sg__ewin_free(&wa);
  sg__ewin_free(&wb);
  return st;
}

/* The onset features of both mono signals, which every alignment starts from. */
static sg_status onset_features(const float *a, size_t na, const float *b, size_t nb, unsigned rate,
                                sg_features **fa, sg_features **fb, sg_diag *d) {
  sg_features_config fc;
  sg_features_config_init(&fc);
  fc.flags = SG_FEAT_ONSET;
  sg_status st = sg_features_from_mono(fa, a, na, rate, &fc, d);
  if (st == SG_OK)
    st = sg_features_from_mono(fb, b, nb, rate, &fc, d);
  return st;
}

sg_status sg_align_signals(const float *a, size_t na, const float *b, size_t nb, unsigned rate,
                           const sg_align_config *cfg, sg_align_result *out, sg_diag *d) {
  if (!a || !b || !out || !na || !nb)
    return sg_diag_fail(d, SG_E_INVAL, "align: empty or NULL signal");
  memset(out, 0, sizeof *out);
  sg_features *fa = NULL, *fb = NULL;
  sg_status st = onset_features(a, na, b, nb, rate, &fa, &fb, d);
  if (st == SG_OK) {
    src sa = {a, na, NULL, 1, 0, NULL, 0, NULL}, sb = {b, nb, NULL, 1, 0, NULL, 0, NULL};
    st = align_core(fa, fb, &sa, &sb, cfg, out, d);
  }
  sg_features_free(fa);
  sg_features_free(fb);
  return st;
}

/* Linear interpolation of e at fractional index j (0 outside). */
static double env_at(sg__ewin *e, double j) {
  const size_t n = (size_t)e->total;
  if (!(j >= 0) || j > (double)n - 1)
    return 0;
  size_t k = (size_t)j;
  double f = j - (double)k;
  if (k + 1 >= n)
    return sg__ewin_at(e, (long)k);
  const float e0 = sg__ewin_at(e, (long)k), e1 = sg__ewin_at(e, (long)k + 1);
  return e0 + f * (e1 - e0);
}

/* Weighted least-squares line through (t, y) with weights w over the kept points. */
static int fit_line(const double *t, const double *y, const double *w, const unsigned char *keep,
                    size_t n, double *a, double *b) {
  double sw = 0, st = 0, sy = 0;
  size_t k = 0;
  for (size_t i = 0; i < n; ++i)
    if (keep[i]) {
      sw += w[i];
      st += w[i] * t[i];
      sy += w[i] * y[i];
      ++k;
    }
  if (!k || !(sw > 0))
    return 0;
  double mt = st / sw, my = sy / sw, stt = 0, sty = 0;
  for (size_t i = 0; i < n; ++i)
    if (keep[i]) {
      stt += w[i] * (t[i] - mt) * (t[i] - mt);
      sty += w[i] * (t[i] - mt) * (y[i] - my);
    }
  *b = k >= 2 && stt > 0 ? sty / stt : 0;
  *a = my - *b * mt;
  return (int)k;
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

static sg_status track_core(const sg_features *fa, const sg_features *fb, double max_lag_s,
                            double window_s, sg_align_track *out, sg_diag *d) {
  memset(out, 0, sizeof *out);
  double R;
  sg__ewin wa, wb;
  sg__ewin_init(&wa, fa, &R);
  sg__ewin_init(&wb, fb, &R);
  const size_t na = (size_t)wa.total, nb = (size_t)wb.total;
  double p99 = 0;
  size_t ia = 0, ib = 0;
  double *t = NULL, *y = NULL, *w = NULL, *res = NULL;
  unsigned char *keep = NULL;
  sg_status st = sg__onset_p99(fa, na, &p99);
  if (st == SG_OK)
    active_part(&wa, 0.05 * p99, &ia, &ib);
  if (st != SG_OK || wa.err) {
    st = ewin_fail(d);
    goto done;
  }
  long W = lround(window_s * R), hop = W / 2 > 0 ? W / 2 : 1;
  long L0 = (long)ceil(max_lag_s * R), Lt = L0 / 2 > 3 ? L0 / 2 : 3;
  if (ia >= ib || (long)(ib - ia) < W) {
    st = sg_diag_fail(d, SG_E_NOTFOUND, "align: too little active signal to track");
    goto done;
  }
  size_t cap = (size_t)((long)(ib - ia) / hop) + 2;
  t = malloc(cap * sizeof *t), y = malloc(cap * sizeof *y), w = malloc(cap * sizeof *w);
  res = malloc(cap * sizeof *res);
  keep = malloc(cap);
  if (!t || !y || !w || !res || !keep) {
    st = sg_diag_fail(d, SG_E_NOMEM, "align: out of memory");
    goto done;
  }
  size_t n = 0;
  long center = 0;
  int have = 0;
  for (long i0 = (long)ia; i0 + W <= (long)ib && n < cap; i0 += hop) {
    /* A window with almost no onsets (a break) correlates with anything: skip it. */
    if (sg__ewin_load(&wa, i0, i0 + W) != SG_OK) {
      st = ewin_fail(d);
      goto done;
    }
    size_t busy = 0;
    for (long i = 0; i < W; ++i)
      busy += wa.v[i] > 0.05 * p99;
    if (busy < 4)
      continue;
    out->n_windows++;
    long base = have ? center : 0, L = have ? Lt : L0;
    if (sg__ewin_load(&wb, i0 + base - L, i0 + W + base + L) != SG_OK) {
      st = ewin_fail(d);
      goto done;
    }
    double pk;
    double lag = (double)base + xcorr_peak(wa.v, i0, wb.v, wb.lo, nb, i0, i0 + W, L, base, &pk);
    if (!(pk > 0.2))
      continue;
    t[n] = ((double)i0 + 0.5 * (double)W) / R;
    y[n] = lag / R;
    w[n] = pk * pk;
    keep[n] = 1;
    ++n;
    if (pk > 0.4) {
      center = lround(lag);
      have = 1;
    }
  }
  if (n < 2) {
    st = sg_diag_fail(d, SG_E_NOTFOUND, "align: fewer than two windows correlate");
    goto done;
  }
  double a0 = 0, b0 = 0;
  for (int pass = 0; pass < 3; ++pass) {
    if (!fit_line(t, y, w, keep, n, &a0, &b0))
      break;
    if (pass == 2)
      break;
    size_t k = 0;
    for (size_t i = 0; i < n; ++i)
      if (keep[i])
        res[k++] = fabs(y[i] - (a0 + b0 * t[i]));
    qsort(res, k, sizeof *res, cmp_double);
    double mad = k ? res[k / 2] : 0, lim = fmax(3.0 * 1.4826 * mad, 1.5 / R);
    for (size_t i = 0; i < n; ++i)
      keep[i] = fabs(y[i] - (a0 + b0 * t[i])) <= lim;
  }
  double first = -1, last = -1, ss = 0;
  for (size_t i = 0; i < n; ++i)
    if (keep[i]) {
      if (first < 0)
        first = t[i];
      last = t[i];
      out->n_used++;
      double r = y[i] - (a0 + b0 * t[i]);
      ss += r * r;
    }
  if (out->n_used < 2) {
    st = sg_diag_fail(d, SG_E_NOTFOUND, "align: no consistent lag across the windows");
    goto done;
  }
  out->first_time_s = first;
  out->last_time_s = last;
  out->ratio = b0;
  out->offset_s = a0 + b0 * first;
  out->drift_s = b0 * (last - first);
  out->residual_s = sqrt(ss / (double)out->n_used);
  /* Correlation along the line over a's active part. */
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  size_t m = 0;
  for (size_t i = ia; i < ib; ++i) {
    double ti = (double)i / R, j = (double)i + (a0 + b0 * ti) * R;
    double x = sg__ewin_at(&wa, (long)i), v = env_at(&wb, j);
    sa += x;
    sb += v;
    saa += x * x;
    sbb += v * v;
    sab += x * v;
    ++m;
  }
  double cov = sab - sa * sb / (double)m, va = saa - sa * sa / (double)m,
         vb = sbb - sb * sb / (double)m;
  out->similarity = va > 0 && vb > 0 ? cov / sqrt(va * vb) : 0;
  if (wa.err || wb.err)
    st = ewin_fail(d);
done:
  sg__ewin_free(&wa);
  sg__ewin_free(&wb);
  free(t);
  free(y);
  free(w);
  free(res);
  free(keep);
  return st;
}

sg_status sg_align_signals_track(const float *a, size_t na, const float *b, size_t nb,
                                 unsigned rate, const sg_align_config *cfg, double window_s,
                                 sg_align_result *al, sg_align_track *tr, sg_diag *d) {
  if (!a || !b || !tr || !na || !nb)
    return sg_diag_fail(d, SG_E_INVAL, "align: empty or NULL signal");
  sg_align_config c;
  if (cfg)
    c = *cfg;
  else
    sg_align_config_init(&c);
  if (al)
    memset(al, 0, sizeof *al);
  memset(tr, 0, sizeof *tr);
  sg_features *fa = NULL, *fb = NULL;
  sg_status st = onset_features(a, na, b, nb, rate, &fa, &fb, d);
  if (st == SG_OK && al) {
    src sa = {a, na, NULL, 1, 0, NULL, 0, NULL}, sb = {b, nb, NULL, 1, 0, NULL, 0, NULL};
    st = align_core(fa, fb, &sa, &sb, &c, al, d);
  }
  if (st == SG_OK)
    st = track_core(fa, fb, c.max_lag_s, window_s > 0 ? window_s : 4.0, tr, d);
  sg_features_free(fa);
  sg_features_free(fb);
  return st;
}

sg_status sg_align_inputs(const sg_align_input *a, const sg_align_input *b,
                          const sg_align_config *cfg, double window_s, sg_align_result *al,
                          sg_align_track *tr, sg_diag *d) {
  if (!a || !b || !a->feat || !b->feat || !a->read || !b->read || (!al && !tr))
    return sg_diag_fail(d, SG_E_INVAL, "align: NULL input");
  if (a->frames <= 0 || b->frames <= 0)
    return sg_diag_fail(d, SG_E_INVAL, "align: empty signal");
  if (sg_features_rate(a->feat) != sg_features_rate(b->feat))
    return sg_diag_fail(d, SG_E_UNSUPPORTED, "align: the signals' rates differ (%u, %u Hz)",
                        sg_features_rate(a->feat), sg_features_rate(b->feat));
  sg_align_config c;
  if (cfg)
    c = *cfg;
  else
    sg_align_config_init(&c);
  if (al)
    memset(al, 0, sizeof *al);
  if (tr)
    memset(tr, 0, sizeof *tr);
  sg_status st = SG_OK;
  if (al) {
    src sa = {NULL, 0, NULL, 1, 0, NULL, 0, a}, sb = {NULL, 0, NULL, 1, 0, NULL, 0, b};
    st = align_core(a->feat, b->feat, &sa, &sb, &c, al, d);
  }
  if (st == SG_OK && tr)
    st = track_core(a->feat, b->feat, c.max_lag_s, window_s > 0 ? window_s : 4.0, tr, d);
  return st;
}

sg_status sg_align_files(const char *path_a, const char *path_b, const sg_align_config *cfg,
                         sg_align_result *out, sg_diag *d) {
  if (!path_a || !path_b || !out)
    return sg_diag_fail(d, SG_E_INVAL, "align: NULL argument");
  memset(out, 0, sizeof *out);
  sg_features_config fc;
  sg_features_config_init(&fc);
  fc.flags = SG_FEAT_ONSET;
  sg_features *fa = NULL, *fb = NULL;
  src sa = {0}, sb = {0};
  sg_audio_info ia, ib;
  sg_status st = sg_features_from_file(&fa, path_a, &fc, d);
  if (st == SG_OK)
    st = sg_features_from_file(&fb, path_b, &fc, d);
  if (st == SG_OK && sg_features_rate(fa) != sg_features_rate(fb))
    st = sg_diag_fail(d, SG_E_UNSUPPORTED, "align: '%s' is %u Hz but '%s' is %u Hz; conform first",
                      path_a, sg_features_rate(fa), path_b, sg_features_rate(fb));
  if (st == SG_OK)
    st = sg_audio_reader_open(&sa.rd, path_a, &ia, d);
  if (st == SG_OK)
    st = sg_audio_reader_open(&sb.rd, path_b, &ib, d);
  if (st == SG_OK) {
    sa.ch = ia.channels;
    sa.frames = ia.frames;
    sb.ch = ib.channels;
    sb.frames = ib.frames;
    st = align_core(fa, fb, &sa, &sb, cfg, out, d);
  }
  sg_audio_reader_close(sa.rd);
  sg_audio_reader_close(sb.rd);
  free(sa.buf);
  free(sb.buf);
  sg_features_free(fa);
  sg_features_free(fb);
  return st;
}
