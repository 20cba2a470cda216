/* Onsets, tempo, grid fit, downbeat, drift and beat times from the onset envelope.
 * See include/stemgate/analysis.h for the methods and their references. */
#include "analysis_internal.h"
#include "core/simd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------- onsets --- */

void sg_onset_config_init(sg_onset_config *c) {
  c->delta = 0.07;
  c->min_gap_s = 0.03;
  c->refine = 1;
}

void sg_onset_list_free(sg_onset_list *l) {
  if (!l)
    return;
  free(l->time);
  free(l->strength);
  free(l->low);
  memset(l, 0, sizeof *l);
}

#define REFINE_MAX 512 /* blocks around an onset: ~70 at the ~1 kHz envelope */

/* Start of the attack near t: the 1 ms block whose level rises most above the loudest block of
 * the 10 ms before it. Against the recent maximum rather than the previous block, so the
 * block-to-block ripple of a low note (a 50 Hz kick tail swings 20 dB within 1 ms blocks)
 * cannot pass for an attack. */
static double refine_onset(const sg_features *f, size_t ne, double re, double t) {
  const long back = (long)lround(0.01 * re) > 1 ? (long)lround(0.01 * re) : 1;
  long j0 = (long)floor((t - 0.035) * re), j1 = (long)ceil((t + 0.02) * re);
  if (j0 < 1)
    j0 = 1;
  if (j1 > (long)ne - 1)
    j1 = (long)ne - 1;
  if (j1 <= j0)
    return t;
  /* The blocks read, [base, j1 + 1], from the envelope (which may be spooled to a file). */
  const long base = j0 - back < 0 ? 0 : j0 - back;
  float w[REFINE_MAX];
  if (j1 + 2 - base > REFINE_MAX ||
      sg_features_energy_read(f, (size_t)base, (size_t)(j1 + 2 - base), w) != SG_OK)
    return t;
  float emax = 0;
  for (long j = j0 - back < 0 ? 0 : j0 - back; j <= j1; ++j)
    if (w[j - base] > emax)
      emax = w[j - base];
  if (emax <= 0)
    return t;
  double floor_e = 1e-10 * emax, best = -1e300, bprev = 0;
  long bj = -1;
  for (long j = j0; j <= j1; ++j) {
    float prev = 0;
    for (long q = j - back < 0 ? 0 : j - back; q < j; ++q)
      prev = w[q - base] > prev ? w[q - base] : prev;
    double rise = 10.0 * log10((w[j - base] + floor_e) / (prev + floor_e));
    if (rise > best) {
      best = rise;
      bj = j;
      bprev = prev;
    }
  }
  if (bj < 0 || best <= 3.0)
    return t;
  /* Where inside block bj the attack began: a step from the background level to the level of
   * the next block fills the block in proportion to the part after the step. */
  double frac = 0;
  if (bj + 1 < (long)ne && w[bj + 1 - base] > bprev) {
    frac = (w[bj + 1 - base] - w[bj - base]) / (w[bj + 1 - base] - bprev);
    frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
  }
  return ((double)bj + frac) / re;
}

sg_status sg_onsets_pick(const sg_features *f, const sg_onset_config *cfg, sg_onset_list *out) {
  if (!f || !out)
    return SG_E_INVAL;
  memset(out, 0, sizeof *out);
  sg_onset_config c;
  if (cfg)
    c = *cfg;
  else
    sg_onset_config_init(&c);
  size_t n, nl, ne;
  double R, re;
  sg__ewin o; /* the envelope may be spooled to a file: read by window */
  sg__ewin_init(&o, f, &R);
  n = (size_t)o.total;
  nl = sg_features_low_frames(f); /* read by frame: it may be spooled to a file */
  ne = sg_features_energy_frames(f, &re);
  if (!n)
    return SG_E_INVAL;
  double p99;
  if (sg__onset_p99(f, n, &p99) != SG_OK)
    return SG_E_IO;
  if (!(p99 > 0))
    return SG_OK;
  double delta = c.delta * p99;
  long wmax = (long)lround(0.02 * R);
  if (wmax < 1)
    wmax = 1;
  long pre = (long)lround(0.1 * R), post = (long)lround(0.07 * R);
  long gap = (long)lround(c.min_gap_s * R);
  size_t cap = 64;
  out->time = malloc(cap * sizeof *out->time);
  out->strength = malloc(cap * sizeof *out->strength);
  out->low = malloc(cap * sizeof *out->low);
  if (!out->time || !out->strength || !out->low)
    goto nomem;
  long last = -1000000;
  for (long m = 0; m < (long)n; ++m) {
    float v = sg__ewin_at(&o, m);
    if (v <= 0)
      continue;
    int ismax = 1;
    for (long j = m - wmax; j <= m + wmax && ismax; ++j)
      if (j >= 0 && j < (long)n && j != m &&
          (sg__ewin_at(&o, j) > v || (sg__ewin_at(&o, j) == v && j < m)))
        ismax = 0;
    if (!ismax)
      continue;
    double s = 0;
    long cnt = 0;
    for (long j = m - pre; j <= m + post; ++j)
      if (j >= 0 && j < (long)n) {
        s += sg__ewin_at(&o, j);
        cnt++;
      }
    if (v < s / (double)cnt + delta)
      continue;
    if (m - last < gap)
      continue;
    last = m;
    double off = (m > 0 && m + 1 < (long)n)
                     ? sg__parabolic(sg__ewin_at(&o, m - 1), v, sg__ewin_at(&o, m + 1))
                     : 0;
    double t = ((double)m + off) / R;
    if (c.refine && ne)
      t = refine_onset(f, ne, re, t);
    if (out->n == cap) {
      cap *= 2;
      double *tt = realloc(out->time, cap * sizeof *tt);
      if (!tt)
        goto nomem;
      out->time = tt;
      float *ss = realloc(out->strength, cap * sizeof *ss);
      if (!ss)
        goto nomem;
      out->strength = ss;
      float *ll = realloc(out->low, cap * sizeof *ll);
      if (!ll)
        goto nomem;
      out->low = ll;
    }
    /* Refinement can reorder two close onsets by a millisecond: keep the list ascending. */
    if (out->n && t < out->time[out->n - 1])
      t = out->time[out->n - 1];
    out->time[out->n] = t < 0 ? 0 : t;
    out->strength[out->n] = v;
    float lv = 0.0f;
    if ((size_t)m < nl && sg_features_low_read(f, (size_t)m, 1, &lv) != SG_OK)
      lv = 0.0f;
    out->low[out->n] = lv;
    out->n++;
  }
  if (o.err) {
    sg__ewin_free(&o);
    sg_onset_list_free(out);
    return SG_E_IO;
  }
  sg__ewin_free(&o);
  return SG_OK;
nomem:
  sg__ewin_free(&o);
  sg_onset_list_free(out);
  return SG_E_NOMEM;
}

/* -------------------------------------------------------------------------------- tempo --- */

void sg_tempo_config_init(sg_tempo_config *c) {
  c->min_bpm = 50;
  c->max_bpm = 220;
  c->prior_bpm = 120;
  c->prior_octaves = 1.0;
  c->half_ratio = 0.8;
  c->hint_bpm = 0;
}

static double acf_at(const double *acf, size_t na, double lag) {
  if (lag < 0 || lag >= (double)(na - 1))
    return 0;
  size_t i = (size_t)lag;
  double fr = lag - (double)i;
  return acf[i] * (1 - fr) + acf[i + 1] * fr;
}

static double acf_max_near(const double *acf, size_t na, double lag, double w, double *where) {
  long a = (long)floor(lag - w), b = (long)ceil(lag + w);
  double best = -1e300;
  if (a < 1)
    a = 1;
  if (b > (long)na - 1)
    b = (long)na - 1;
  for (long i = a; i <= b; ++i)
    if (acf[i] > best) {
      best = acf[i];
      if (where)
        *where = (double)i;
    }
  return a <= b ? best : 0;
}

/* Beat phase: the onset time (as a candidate grid position) whose grid gathers the most onset
 * strength within a narrow Gaussian (sigma = period / 24), refined by the strength-weighted mean
 * residual of onsets within an eighth of a beat. Unlike a circular mean it cannot settle
 * between two strong streams (kick on the beat, snare on the off-beat). Returns [0, period). */
static double beat_phase(const sg_onset_list *on, double period) {
  const double sig = period / 24;
  size_t step = on->n > 1500 ? on->n / 1500 + 1 : 1;
  double best = -1, ph = 0;
  for (size_t c = 0; c < on->n; c += step) {
    double s = 0;
    for (size_t i = 0; i < on->n; ++i) {
      double r = on->time[i] - on->time[c];
      r -= period * floor(r / period + 0.5);
      if (fabs(r) < 4 * sig)
        s += on->strength[i] * exp(-0.5 * (r / sig) * (r / sig));
    }
    if (s > best) {
      best = s;
      ph = on->time[c];
    }
  }
  for (int it = 0; it < 2; ++it) {
    double sr = 0, sw = 0;
    for (size_t i = 0; i < on->n; ++i) {
      double r = on->time[i] - ph;
      r -= period * floor(r / period + 0.5);
      if (fabs(r) < period / 8) {
        sr += on->strength[i] * r;
        sw += on->strength[i];
      }
    }
    if (sw > 0)
      ph += sr / sw;
  }
  ph = fmod(ph, period);
  return ph < 0 ? ph + period : ph;
}

/* Strength-weighted least-squares line t = a + b k over onsets within an eighth of a beat of
 * the grid (a, b); staged over growing prefixes of the material so slow drift cannot push late
 * onsets off their beat numbers. Returns the number of onsets in the final fit. */
static size_t grid_line(const sg_onset_list *on, double *a, double *b, double *resid, double *kmin,
                        double *kmax) {
  if (!on->n)
    return 0;
  double t0 = on->time[0], span = on->time[on->n - 1] - t0;
  static const double stages[] = {0.25, 0.5, 1.0, 1.0};
  size_t used = 0;
  for (size_t s = 0; s < sizeof stages / sizeof *stages; ++s) {
    double lim = t0 + stages[s] * span + 1e-9;
    double sw = 0, sk = 0, st = 0, skk = 0, skt = 0, lo = 1e300, hi = -1e300;
    size_t n = 0;
    for (size_t i = 0; i < on->n && on->time[i] <= lim; ++i) {
      double k = floor((on->time[i] - *a) / *b + 0.5);
      double r = on->time[i] - *a - k * *b;
      if (fabs(r) >= *b / 8)
        continue;
      double w = on->strength[i] > 0 ? on->strength[i] : 0;
      sw += w;
      sk += w * k;
      st += w * on->time[i];
      skk += w * k * k;
      skt += w * k * on->time[i];
      n++;
      lo = k < lo ? k : lo;
      hi = k > hi ? k : hi;
    }
    double den = sw * skk - sk * sk;
    if (n < 4 || hi - lo < 3 || !(den > 0))
      continue;
    *b = (sw * skt - sk * st) / den;
    *a = (st - *b * sk) / sw;
    used = n;
    *kmin = lo;
    *kmax = hi;
  }
  if (used && resid) {
    double ss = 0;
    size_t m = 0;
    for (size_t i = 0; i < on->n; ++i) {
      double k = floor((on->time[i] - *a) / *b + 0.5);
      double r = on->time[i] - *a - k * *b;
      if (fabs(r) < *b / 8) {
        ss += r * r;
        m++;
      }
    }
    *resid = m ? sqrt(ss / (double)m) : 0;
  }
  return used;
}

/* acf[l] += p[-l] * x for l < L: each lag's sum in the order of the frames, four lags per vector
 * (p read backwards, reversed in registers): GCC left the loop scalar, a load, multiply, add and
 * store per lag for every frame of the envelope (~750 lags at 187.5 frames/s). */
typedef double acf_v4 __attribute__((vector_size(32)));
typedef long long acf_i4 __attribute__((vector_size(32)));
SG__CLONES static void acf_add(double *restrict acf, const double *restrict p, size_t L, double x) {
  size_t l = 0;
  for (; l + 4 <= L; l += 4) {
    acf_v4 a, q;
    memcpy(&a, acf + l, sizeof a);
    memcpy(&q, p - (long)l - 3, sizeof q); /* p[-l-3] .. p[-l] */
#if defined(__clang__)
    q = __builtin_shufflevector(q, q, 3, 2, 1, 0);
#else
    q = __builtin_shuffle(q, (acf_i4){3, 2, 1, 0});
#endif
    a += q * x;
    memcpy(acf + l, &a, sizeof a);
  }
  for (; l < L; ++l)
    acf[l] += p[-(long)l] * x;
}

sg_status sg_tempo_estimate(const sg_features *f, const sg_onset_list *onsets,
                            const sg_tempo_config *cfg, sg_tempo_result *out) {
  if (!f || !out)
    return SG_E_INVAL;
  memset(out, 0, sizeof *out);
  sg_tempo_config c;
  if (cfg)
    c = *cfg;
  else
    sg_tempo_config_init(&c);
  if (!(c.min_bpm > 0) || !(c.max_bpm > c.min_bpm) || !(c.prior_octaves > 0))
    return SG_E_INVAL;
  double R;
  sg__ewin o; /* the envelope may be spooled to a file: read by window */
  sg__ewin_init(&o, f, &R);
  const size_t n = (size_t)o.total;
  if (n < 8)
    return n ? SG_E_NOTFOUND : SG_E_INVAL;
  double tmin = 60.0 * R / c.max_bpm, tmax = 60.0 * R / c.min_bpm;
  size_t na = (size_t)ceil(4 * tmax) + 4;
  if (na > n / 2)
    na = n / 2;
  if (na < (size_t)ceil(tmax) + 3)
    return SG_E_NOTFOUND;

  /* Mean-removed envelope (moving average over +-0.5 s), then its normalised unbiased ACF, in
   * one pass over the envelope: the prefix sums in a ring over the averaging window, the
   * mean-removed values in a buffer of the last na, and each lag's sum taken in the order of i
   * (the same sums as over whole arrays, without two of 16 bytes a frame: 11 MB an hour). */
  const long h = (long)lround(0.5 * R);
  const size_t W = (size_t)(2 * h + 2), XB = na + 4096;
  double *cs = malloc(W * sizeof *cs), *xb = malloc(XB * sizeof *xb);
  double *acf = calloc(na, sizeof *acf);
  sg_status st = SG_OK;
  double a0 = 0;
  if (!cs || !xb || !acf) {
    st = SG_E_NOMEM;
    goto done;
  }
  cs[0] = 0;
  size_t csn = 0, fill = 0; /* cs[0..csn] computed; xb holds fill values */
  double run = 0;
  for (long i = 0; i < (long)n; ++i) {
    long a = i - h < 0 ? 0 : i - h, b = i + h + 1 > (long)n ? (long)n : i + h + 1;
    while (csn < (size_t)b) {
      run += sg__ewin_at(&o, (long)csn++);
      cs[csn % W] = run;
    }
    double xi = sg__ewin_at(&o, i) - (cs[(size_t)b % W] - cs[(size_t)a % W]) / (double)(b - a);
    if (fill == XB) { /* keep the last na - 1 */
      memmove(xb, xb + fill - (na - 1), (na - 1) * sizeof *xb);
      fill = na - 1;
    }
    xb[fill] = xi;
    const double *p = xb + fill++;
    const size_t L = (size_t)i + 1 < na ? (size_t)i + 1 : na; /* lags with i - l >= 0 */
    acf_add(acf, p, L, xi);
    a0 += xi * xi;
  }
  if (o.err) {
    st = SG_E_IO;
    goto done;
  }
  for (size_t l = 0; l < na; ++l)
    acf[l] /= (double)(n - l);
  a0 /= (double)n;
  if (!(a0 > 0)) {
    st = SG_E_NOTFOUND;
    goto done;
  }
  for (size_t l = 0; l < na; ++l)
    acf[l] /= a0;

  /* Comb over the first four multiples of each candidate period, weighted by the prior. */
  double best = -1e300, bt = 0;
  for (long T = (long)ceil(tmin); T <= (long)floor(tmax); ++T) {
    double s = 0;
    int K = 0;
    for (int k = 1; k <= 4; ++k) {
      if ((double)(k * T) + k / 2.0 >= (double)na - 1)
        break;
      s += acf_max_near(acf, na, (double)(k * T), k / 2.0, NULL);
      K++;
    }
    if (!K)
      continue;
    double bpm = 60.0 * R / (double)T;
    double z = log2(bpm / c.prior_bpm) / c.prior_octaves;
    double score = exp(-0.5 * z * z) * s / K;
    if (score > best) {
      best = score;
      bt = (double)T;
    }
  }
  if (bt == 0) {
    st = SG_E_NOTFOUND;
    goto done;
  }
  /* Octave check: onsets as strong halfway between the beats mean the beat is twice as fast. */
  for (;;) {
    double half = bt / 2, wh = 0, wf = 0;
    if (half < tmin)
      break;
    double ah = acf_max_near(acf, na, half, 1, &wh);
    double af = acf_max_near(acf, na, bt, 1, &wf);
    if (!(af > 0) || ah < c.half_ratio * af)
      break;
    bt = wh;
  }
  /* An expected tempo settles the octave. */
  if (c.hint_bpm > 0) {
    double j = floor(log2(60.0 * R / bt / c.hint_bpm) + 0.5);
    double nb = bt * pow(2.0, j);
    if (nb * 4 < (double)na - 2 && nb >= 2)
      bt = nb;
  }
  /* Fine period: maximise the comb over all multiples the ACF holds, 0.01-lag steps, then a
   * parabola through the best step and its neighbours. */
  double bp = bt, bs = -1e300, sprev = 0, snext = 0;
  int steps = 200;
  double *score = malloc((size_t)(steps + 1) * sizeof *score);
  if (!score) {
    st = SG_E_NOMEM;
    goto done;
  }
  int bi = 0;
  for (int i = 0; i <= steps; ++i) {
    double P = bt - 1.0 + 2.0 * i / steps, s = 0;
    for (int k = 1; k * P < (double)na - 1 && k <= 16; ++k)
      s += acf_at(acf, na, k * P);
    score[i] = s;
    if (s > bs) {
      bs = s;
      bi = i;
    }
  }
  if (bi > 0 && bi < steps) {
    sprev = score[bi - 1];
    snext = score[bi + 1];
    bp = bt - 1.0 + 2.0 * (bi + sg__parabolic(sprev, bs, snext)) / steps;
  } else {
    bp = bt - 1.0 + 2.0 * bi / steps;
  }
  free(score);
  out->bpm_acf = 60.0 * R / bp;
  out->bpm = out->bpm_acf;
  double conf = acf_at(acf, na, bp);
  out->confidence = conf < 0 ? 0 : conf > 1 ? 1 : conf;

  /* Final: least-squares fit of onset times to beat numbers (sub-millisecond on long material). */
  sg_onset_list own = {0};
  const sg_onset_list *on = onsets;
  if (!on) {
    st = sg_onsets_pick(f, NULL, &own);
    if (st != SG_OK)
      goto done;
    on = &own;
  }
  if (on->n < 4 || out->confidence < 0.1) {
    /* A periodicity needs repeated events: a single hit and the ripples of its reverb tail are
     * not a tempo (their envelope autocorrelates under 0.1 at any candidate period). */
    memset(out, 0, sizeof *out);
    st = SG_E_NOTFOUND;
  } else {
    double period = bp / R, a = beat_phase(on, period), b = period, kmin = 0, kmax = 0;
    out->phase_s = a;
    size_t used = grid_line(on, &a, &b, NULL, &kmin, &kmax);
    if (used >= 8 && fabs(b / period - 1) < 0.005) {
      out->bpm = 60.0 / b;
      out->onsets_used = used;
      double ph = fmod(a, b);
      out->phase_s = ph < 0 ? ph + b : ph;
    }
  }
  sg_onset_list_free(&own);
done:
  sg__ewin_free(&o);
  free(xb);
  free(cs);
  free(acf);
  return st;
}

/* --------------------------------------------------------------------- grid and downbeat --- */

sg_status sg_grid_fit_onsets(const sg_onset_list *on, double bpm, double origin_s, int subdivision,
                             double tolerance_s, sg_grid_fit *out) {
  if (!on || !out || !(bpm > 0) || subdivision < 1)
    return SG_E_INVAL;
  memset(out, 0, sizeof *out);
  double g = 60.0 / (bpm * subdivision);
  size_t ok = 0;
  for (size_t i = 0; i < on->n; ++i) {
    double k = floor((on->time[i] - origin_s) / g + 0.5);
    double r = on->time[i] - origin_s - k * g;
    out->mean_abs_dev_s += fabs(r);
    out->mean_dev_s += r;
    if (fabs(r) > out->max_abs_dev_s)
      out->max_abs_dev_s = fabs(r);
    if (fabs(r) <= tolerance_s)
      ok++;
  }
  out->onsets = on->n;
  if (on->n) {
    out->mean_abs_dev_s /= (double)on->n;
    out->mean_dev_s /= (double)on->n;
    out->on_grid_frac = (double)ok / (double)on->n;
  }
  return SG_OK;
}

sg_status sg_downbeat_estimate(const sg_onset_list *on, double bpm, int beats_per_bar,
                               sg_downbeat_result *out) {
  if (!on || !out || !(bpm > 0) || beats_per_bar < 1 || beats_per_bar > 32)
    return SG_E_INVAL;
  memset(out, 0, sizeof *out);
  if (on->n < 2)
    return SG_E_NOTFOUND;
  double P = 60.0 / bpm;
  double ph = beat_phase(on, P);
  out->beat_phase_s = ph;
  double ms = 0, ml = 0;
  for (size_t i = 0; i < on->n; ++i) {
    ms += on->strength[i];
    ml += on->low[i];
  }
  ms = ms > 0 ? ms / (double)on->n : 1;
  ml = ml > 0 ? ml / (double)on->n : 0;
  double score[32] = {0}, count[32] = {0};
  for (size_t i = 0; i < on->n; ++i) {
    double k = floor((on->time[i] - ph) / P + 0.5);
    if (fabs(on->time[i] - ph - k * P) >= P / 6)
      continue;
    long pos = ((long)k % beats_per_bar + beats_per_bar) % beats_per_bar;
    score[pos] += on->strength[i] / ms + (ml > 0 ? on->low[i] / ml : 0);
    count[pos] += 1;
  }
  int second;
  double b1, b2;
  int best = sg__top_two(score, count, beats_per_bar, &second, &b1, &b2);
  /* Near tie: prefer the position of the first onset on the beat grid. */
  for (size_t i = 0; i < on->n && second >= 0 && b1 > 0 && (b1 - b2) < 0.1 * b1; ++i) {
    double k = floor((on->time[i] - ph) / P + 0.5);
    if (fabs(on->time[i] - ph - k * P) >= P / 6)
      continue;
    if (((long)k % beats_per_bar + beats_per_bar) % beats_per_bar == second) {
      int t = best;
      best = second;
      second = t;
    }
    break;
  }
  out->bar_position = best;
  out->confidence = beats_per_bar == 1 ? 1 : (b1 > 0 ? (b1 - (b2 > 0 ? b2 : 0)) / b1 : 0);
  double bar = P * beats_per_bar, first = on->time[0] - P / 2;
  double t = ph + best * P;
  t -= bar * ceil((t - first) / bar);
  while (t < first - 1e-12)
    t += bar;
  out->first_downbeat_s = t;
  return b1 > 0 ? SG_OK : SG_E_NOTFOUND;
}

sg_status sg_drift_estimate(const sg_onset_list *on, double bpm, double origin_s,
                            sg_drift_result *out) {
  if (!on || !out || !(bpm > 0))
    return SG_E_INVAL;
  memset(out, 0, sizeof *out);
  double P = 60.0 / bpm, a = origin_s, b = P, kmin = 0, kmax = 0, resid = 0;
  size_t used = grid_line(on, &a, &b, &resid, &kmin, &kmax);
  if (used < 4)
    return SG_E_NOTFOUND;
  /* Express the fitted line against the nominal grid's beat numbers. */
  double shift = floor((a - origin_s) / P + 0.5);
  a -= shift * b;
  kmin += shift;
  kmax += shift;
  out->period_s = b;
  out->tempo_ratio = P / b;
  out->start_dev_s = (a + b * kmin) - (origin_s + P * kmin);
  out->end_dev_s = (a + b * kmax) - (origin_s + P * kmax);
  out->drift_s = out->end_dev_s - out->start_dev_s;
  out->residual_s = resid;
  out->onsets_used = used;
  return SG_OK;
}

sg_status sg_beat_times(const sg_onset_list *on, double bpm, double phase_s, double duration_s,
                        double **times, size_t *n) {
  if (!on || !times || !n || !(bpm > 0) || !(duration_s > 0))
    return SG_E_INVAL;
  *times = NULL;
  *n = 0;
  double P = 60.0 / bpm;
  size_t cap = (size_t)(duration_s / P * 1.5) + 8, cnt = 0, j = 0;
  double *v = malloc(cap * sizeof *v);
  if (!v)
    return SG_E_NOMEM;
  double t = fmod(phase_s, P);
  if (t < 0)
    t += P;
  while (t <= duration_s && cnt < cap) {
    double w = 0.15 * P, bt = t, bs = -1;
    while (j < on->n && on->time[j] < t - w)
      j++;
    for (size_t i = j; i < on->n && on->time[i] <= t + w; ++i)
      if (on->strength[i] > bs) {
        bs = on->strength[i];
        bt = on->time[i];
      }
    v[cnt++] = bt;
    double err = bs >= 0 ? bt - t : 0;
    P += 0.1 * err;
    t += 0.5 * err + P;
  }
  *times = v;
  *n = cnt;
  return SG_OK;
}
