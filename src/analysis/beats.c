/* Beat and downbeat tracking of drummer-like material: a smooth tempo curve fitted to the
 * onsets on the beat grid, then the bar position from what is played on each beat.
 *
 * Beats: the beat times t_k minimise
 *     sum_i (o_i - t(i))^2 + lambda sum_k (t_{k+3} - 3 t_{k+2} + 3 t_{k+1} - t_k)^2
 * over the onsets o_i matched to beats (t(i) = t_k) or to the off-beat eighths between two
 * beats (t(i) = (t_k + t_{k+1}) / 2 plus the groove's swing, one offset for the file measured
 * as the median place of the off-beats): Whittaker-Henderson graduation (Eilers 2003, "A
 * perfect smoother") with a third-order difference penalty, so a constant tempo and a linear
 * tempo ramp cost nothing anywhere, ends included, and only changes of the ramp are smoothed.
 * lambda = (L / 2 pi)^6 times the mean weight per beat puts the cut-off at a period of L beats
 * (default 32, eight 4/4 bars): the drummer's hit-to-hit timing averages out, drift and ramps
 * stay. (A second-order term was tried to steady the ends; it bends a ramp there by
 * milliseconds, so it is not used.) Each hit counts once whatever its loudness. Onsets are
 * matched within a tenth of a beat of the current curve and the fit repeated, so the matching
 * follows drift (starting from sg_tempo_estimate's least-squares line); hits further than four
 * robust deviations (MAD) from the curve are dropped, and so are attacks in the file's last
 * 50 ms (cut by its end). The band matrix (half width 3) is solved by banded Cholesky in
 * O(beats). Each hit is timed by sg_onsets_pick's refinement on the ~1 ms energy envelope
 * (the block where the level rises most over the recent maximum, interpolated inside it).
 *
 * Downbeat (bar-position evidence, after the kick/snare/crash cues of downbeat trackers such
 * as Davies & Plumbley 2006 and Durand et al. 2015, here hand-weighted): per beat the kick
 * (low-band envelope peak near the beat), the accent (onset envelope peak: kick, crash) and a
 * fill before it (onsets off the eighth-note grid in the two beats before), each over its mean;
 * the bar position with the highest mean of kick + accent / 2 + fill / 4 wins, confidence the
 * margin over the second. Snare backbeats carry little low band, so positions 2 and 4 lose to
 * 1 and 3; kick velocity, crashes and fills then tell 1 from 3. Between near-equal positions
 * (within 10 %) the first beat carrying a kick decides: music starts on a downbeat, and a
 * pickup (an anacrusis of snare or tom hits) carries none. The first downbeat is the first beat
 * at that position at or after the material's start (the first onset, or the first sound within
 * 30 dB of the loud ~1 ms blocks when earlier: a hit on the file's first sample leaves no
 * onset): a pickup, shorter than a bar, lies before it.
 */
#include "analysis_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sg_beat_track_config_init(sg_beat_track_config *c) {
  c->beats_per_bar = 4;
  c->smooth_beats = 32;
}

void sg_beat_track_free(sg_beat_track *t) {
  if (!t)
    return;
  free(t->time);
  memset(t, 0, sizeof *t);
}

/* Solves the symmetric positive definite band system A x = b in place (A stored as a[k][j] =
 * A[k][k + j], j = 0..3) by Cholesky. Returns 0 when A is not positive definite. */
static int band_solve(double (*a)[4], double *b, size_t n) {
  for (size_t k = 0; k < n; ++k) {
    for (size_t j = 1; j <= 3 && j <= k; ++j) /* a[k][0] -= sum L(k, k-j)^2 */
      a[k][0] -= a[k - j][j] * a[k - j][j];
    if (!(a[k][0] > 0))
      return 0;
    double d = sqrt(a[k][0]);
    a[k][0] = d;
    for (size_t j = 1; j <= 3 && k + j < n; ++j) {
      double s = a[k][j]; /* L(k+j, k) = (A(k, k+j) - sum_m L(k, m) L(k+j, m)) / L(k, k) */
      for (size_t m = 1; m + j <= 3 && m <= k; ++m)
        s -= a[k - m][m] * a[k - m][m + j];
      a[k][j] = s / d;
    }
  }
  for (size_t k = 0; k < n; ++k) { /* L y = b */
    double s = b[k];
    for (size_t j = 1; j <= 3 && j <= k; ++j)
      s -= a[k - j][j] * b[k - j];
    b[k] = s / a[k][0];
  }
  for (size_t k = n; k-- > 0;) { /* L^T x = y */
    double s = b[k];
    for (size_t j = 1; j <= 3 && k + j < n; ++j)
      s -= a[k][j] * b[k + j];
    b[k] = s / a[k][0];
  }
  return 1;
}

/* Beat number (fractional) of time t on the curve t[0..n); extrapolated at the end periods. */
static double beat_of(const double *t, size_t n, double x) {
  if (x <= t[0])
    return (x - t[0]) / (t[1] - t[0]);
  if (x >= t[n - 1])
    return (double)(n - 1) + (x - t[n - 1]) / (t[n - 1] - t[n - 2]);
  size_t lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (t[mid] <= x)
      lo = mid;
    else
      hi = mid;
  }
  return (double)lo + (x - t[lo]) / (t[hi] - t[lo]);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static sg_status read_energy(const void *f, size_t start, size_t n, float *out) {
  return sg_features_energy_read(f, start, n, out);
}

sg_status sg_beat_track_onsets(const sg_features *f, const sg_onset_list *on, double bpm,
                               double phase_s, double duration_s, const sg_beat_track_config *cfg,
                               sg_beat_track *out) {
  if (!out)
    return SG_E_INVAL;
  sg__ewin env; /* the onset envelope, for the bar-position evidence */
  memset(&env, 0, sizeof env);
  memset(out, 0, sizeof *out);
  if (!on || !(bpm > 0) || !(duration_s > 0) || !isfinite(phase_s))
    return SG_E_INVAL;
  sg_beat_track_config c;
  if (cfg)
    c = *cfg;
  else
    sg_beat_track_config_init(&c);
  if (c.beats_per_bar < 1 || c.beats_per_bar > 32)
    return SG_E_INVAL;
  if (!(c.smooth_beats >= 2) || c.smooth_beats > 256)
    c.smooth_beats = 32;
  if (on->n < 4)
    return SG_E_NOTFOUND;
  const double P = 60.0 / bpm;
  /* Where the material starts: the first onset, or the first sound when that comes earlier (a
   * hit on the file's very first sample has no rise before it in the onset envelope, and is
   * found by no onset picker): the first ~1 ms block within 30 dB of the loud blocks. */
  double first = on->time[0], last = on->time[on->n - 1];
  double re = 0;
  const size_t ne = f ? sg_features_energy_frames(f, &re) : 0;
  float loud = 0;
  if (ne && re > 0 && sg__quantile_read(read_energy, f, ne, 0.99, &loud) == SG_OK && loud > 0) {
    float buf[1024]; /* the envelope may be spooled to a file: read by window */
    int found = 0;
    for (size_t j0 = 0; !found && j0 < ne && (double)j0 / re < first; j0 += 1024) {
      size_t m = ne - j0 < 1024 ? ne - j0 : 1024;
      if (sg_features_energy_read(f, j0, m, buf) != SG_OK)
        break;
      for (size_t j = j0; j < j0 + m && (double)j / re < first; ++j)
        if (buf[j - j0] > 1e-3 * (double)loud) {
          first = (double)j / re;
          found = 1;
          break;
        }
    }
  }
  /* The grid over the material: from the earliest beat within 0.6 beat before its start to the
   * beat nearest the last onset. */
  double k0 = ceil((first - phase_s) / P - 0.6), k1 = floor((last - phase_s) / P + 0.5);
  if (k1 - k0 < 3)
    return SG_E_NOTFOUND;
  size_t n = (size_t)(k1 - k0) + 1;
  double *t = malloc(n * sizeof *t), *g = malloc(n * sizeof *g), *rhs = malloc(n * sizeof *rhs);
  double(*a)[4] = malloc(n * sizeof *a);
  long *kof = malloc(on->n * sizeof *kof);
  double *res = malloc(on->n * sizeof *res);
  sg_status st = SG_OK;
  if (!t || !g || !rhs || !a || !kof || !res) {
    st = SG_E_NOMEM;
    goto done;
  }
  for (size_t k = 0; k < n; ++k)
    t[k] = g[k] = phase_s + (k0 + (double)k) * P;

  /* Match, fit, repeat: the window follows the curve, outliers leave after the first fits.
   * The first pass takes onsets on beats only; then the off-beat eighths join at their
   * measured place between two beats (the groove's swing, one offset for the file). */
  double cut = 1e300, swing = 0; /* swing: off-beat position minus the midpoint, in beats */
  size_t used = 0;
  int offbeats = 0;
  for (int it = 0; it < 6; ++it) {
    memset(a, 0, n * sizeof *a);
    memset(rhs, 0, n * sizeof *rhs);
    double wsum = 0;
    used = 0;
    for (size_t i = 0; i < on->n; ++i) {
      double u = beat_of(t, n, on->time[i]), k = floor(u + 0.5), h = floor(u);
      kof[i] = -1;
      if (on->time[i] > duration_s - 0.05) /* an attack cut by the file's end */
        continue;
      /* Each hit counts once whatever its loudness: a soft hat is as much the drummer's time
       * as a kick, and loudness-weighting would let one instrument's attack shape set it. */
      if (k >= 0 && k < (double)n && fabs(u - k) < 0.1) {
        double r = on->time[i] - t[(size_t)k];
        if (fabs(r) > cut)
          continue;
        kof[i] = (long)k;
        a[(size_t)k][0] += 1;
        rhs[(size_t)k] += on->time[i] - g[(size_t)k];
      } else if (offbeats && h >= 0 && h + 1 < (double)n && fabs(u - h - 0.5 - swing) < 0.08) {
        size_t j = (size_t)h;
        double y = on->time[i] - swing * (t[j + 1] - t[j]);
        if (fabs(y - 0.5 * (t[j] + t[j + 1])) > cut)
          continue;
        kof[i] = (long)n + (long)j; /* an off-beat after beat j */
        a[j][0] += 0.25;
        a[j][1] += 0.25;
        a[j + 1][0] += 0.25;
        rhs[j] += 0.5 * (y - 0.5 * (g[j] + g[j + 1]));
        rhs[j + 1] += 0.5 * (y - 0.5 * (g[j] + g[j + 1]));
      } else {
        continue;
      }
      wsum += 1;
      used++;
    }
    if (used < 4) {
      st = SG_E_NOTFOUND;
      goto done;
    }
    double L = c.smooth_beats / (2 * SG_PI), lam = wsum / (double)n * L * L * L * L * L * L;
    static const double d3[4] = {-1, 3, -3, 1};
    for (size_t k = 0; k + 3 < n; ++k) /* lambda D3^T D3 */
      for (int p = 0; p < 4; ++p)
        for (int q = p; q < 4; ++q)
          a[k + (size_t)p][q - p] += lam * d3[p] * d3[q];
    if (!band_solve(a, rhs, n)) {
      st = SG_E_NOTFOUND;
      goto done;
    }
    for (size_t k = 0; k < n; ++k)
      t[k] = g[k] + rhs[k];
    /* Keep the curve increasing: a wild fit on too few onsets is not a tempo. */
    for (size_t k = 1; k < n; ++k)
      if (!(t[k] - t[k - 1] > 0.5 * P)) {
        st = SG_E_NOTFOUND;
        goto done;
      }
    /* Robust scale of the residuals (MAD), for the next pass's cut. */
    size_t m = 0;
    for (size_t i = 0; i < on->n; ++i)
      if (kof[i] >= (long)n) {
        size_t j = (size_t)(kof[i] - (long)n);
        res[m++] = fabs(on->time[i] - swing * (t[j + 1] - t[j]) - 0.5 * (t[j] + t[j + 1]));
      } else if (kof[i] >= 0) {
        res[m++] = fabs(on->time[i] - t[kof[i]]);
      }
    qsort(res, m, sizeof *res, cmp_double);
    double mad = 1.4826 * res[m / 2];
    cut = 4 * mad > 0.004 ? 4 * mad : 0.004;
    double ss = 0;
    for (size_t i = 0; i < m; ++i)
      ss += res[i] * res[i];
    out->residual_s = sqrt(ss / (double)m);
    /* The off-beats' place: the median of onsets between 0.3 and 0.7 of a beat. */
    m = 0;
    for (size_t i = 0; i < on->n; ++i) {
      double u = beat_of(t, n, on->time[i]), fr = u - floor(u);
      if (u >= 0 && u < (double)(n - 1) && fr > 0.3 && fr < 0.7)
        res[m++] = fr - 0.5;
    }
    if (m >= 8) {
      qsort(res, m, sizeof *res, cmp_double);
      swing = res[m / 2];
      offbeats = 1;
    }
  }
  out->onsets_used = used;

  /* Bar-position evidence per beat k: the kick (the low-band envelope's peak near the beat),
   * the accent (the onset envelope's peak: kick, crash) and a fill (onsets off the eighth-note
   * grid in the two beats before), each over its mean across beats. */
  size_t nlo = 0, nenv = 0;
  double R = 0;
  if (f) { /* the envelope may be spooled to a file: read by window */
    sg__ewin_init(&env, f, &R);
    nenv = (size_t)env.total;
  }
  const int has_env = nenv > 0;
  nlo = f ? sg_features_low_frames(f) : 0; /* read by window: it may be spooled to a file */
  const int lo = nlo > 0;
  double *kick = g, *acc = rhs, *fill = res; /* reused: the fit is done */
  if (on->n < n) {                           /* res holds on->n values; fill needs n */
    double *x = realloc(res, n * sizeof *x);
    if (!x) {
      st = SG_E_NOMEM;
      goto done;
    }
    res = fill = x;
  }
  for (size_t k = 0; k < n; ++k) {
    kick[k] = acc[k] = fill[k] = 0;
    if (lo && has_env && R > 0) {
      long j0 = (long)floor((t[k] - 0.03) * R), j1 = (long)ceil((t[k] + 0.05) * R);
      long ja = j0 < 0 ? 0 : j0, jb = j1 + 1; /* frames [ja, jb) within both envelopes */
      if (jb > (long)nlo)
        jb = (long)nlo;
      if (jb > (long)nenv)
        jb = (long)nenv;
      float lw[256]; /* 0.08 s: ~16 frames at the ~187.5 Hz envelope */
      if (jb > ja &&
          (jb - ja > 256 || sg_features_low_read(f, (size_t)ja, (size_t)(jb - ja), lw) != SG_OK)) {
        st = SG_E_IO;
        goto done;
      }
      for (long j = ja; j < jb; ++j) {
        kick[k] = lw[j - ja] > kick[k] ? lw[j - ja] : kick[k];
        const float e = sg__ewin_at(&env, j);
        acc[k] = e > acc[k] ? e : acc[k];
      }
    }
  }
  if (env.err) {
    st = SG_E_IO;
    goto done;
  }
  if (!lo || !has_env) /* no envelopes: the matched onsets' own values */
    for (size_t i = 0; i < on->n; ++i) {
      double u = beat_of(t, n, on->time[i]), k = floor(u + 0.5);
      if (k < 0 || k >= (double)n || fabs(u - k) >= 0.1)
        continue;
      kick[(size_t)k] = on->low[i] > kick[(size_t)k] ? on->low[i] : kick[(size_t)k];
      acc[(size_t)k] = on->strength[i] > acc[(size_t)k] ? on->strength[i] : acc[(size_t)k];
    }
  for (size_t i = 0; i < on->n; ++i) {
    double u = beat_of(t, n, on->time[i]), e = 2 * u - floor(2 * u + 0.5);
    if (fabs(e) < 0.2 || u < 0)
      continue; /* on the eighth-note grid */
    for (size_t k = (size_t)ceil(u); k < n && (double)k <= u + 2; ++k)
      fill[k] += 1;
  }
  double mk = 0, ma = 0, mf = 0;
  for (size_t k = 0; k < n; ++k) {
    mk += kick[k];
    ma += acc[k];
    mf += fill[k];
  }
  mk = mk > 0 ? mk / (double)n : 1;
  ma = ma > 0 ? ma / (double)n : 1;
  mf = mf > 0 ? mf / (double)n : 1;
  for (size_t k = 0; k < n; ++k) {
    kick[k] /= mk;
    acc[k] = kick[k] + 0.5 * acc[k] / ma + 0.25 * fill[k] / mf;
  }
  const int B = c.beats_per_bar;
  double score[32] = {0}, count[32] = {0};
  for (size_t k = 0; k < n; ++k) {
    score[k % (size_t)B] += acc[k];
    count[k % (size_t)B] += 1;
  }
  int second;
  double b1, b2;
  int best = sg__top_two(score, count, B, &second, &b1, &b2);
  if (B > 1 && second >= 0 && b1 > 0 && b1 - b2 < 0.1 * b1) {
    for (size_t k = 0; k < n; ++k)
      if (kick[k] >= 0.5) { /* the first kick of the material (over half the mean) */
        if ((int)(k % (size_t)B) == second) {
          int x = best;
          best = second;
          second = x;
          double y = b1;
          b1 = b2;
          b2 = y;
        }
        break;
      }
  }
  out->confidence = B == 1 ? 1 : (b1 > 0 ? (b1 - (b2 > 0 ? b2 : 0)) / b1 : 0);
  out->confidence = out->confidence < 0 ? 0 : out->confidence > 1 ? 1 : out->confidence;
  /* The first beat at the bar position at or after the start (a quarter beat early for a hit
   * played ahead of it). */
  size_t kd = (size_t)best;
  while (kd < n && t[kd] < first - 0.25 * (t[1] - t[0]))
    kd += (size_t)B;
  if (kd >= n) {
    st = SG_E_NOTFOUND;
    goto done;
  }

  /* Beats from there to the end of the file, the curve's end period carried past its last
   * beat (the drummer's last tempo). */
  double pend = (t[n - 1] - t[n - 4]) / 3.0;
  size_t cap = (n - kd) + (size_t)((duration_s - t[n - 1]) / pend) + 2;
  out->time = malloc(cap * sizeof *out->time);
  if (!out->time) {
    st = SG_E_NOMEM;
    goto done;
  }
  for (size_t k = kd; k < n && t[k] <= duration_s; ++k)
    out->time[out->n++] = t[k];
  for (double x = t[n - 1] + pend; x <= duration_s && out->n < cap; x += pend)
    out->time[out->n++] = x;
  out->first_downbeat_s = t[kd];
  out->bar_position = best;
  out->period_s = out->n >= 2 ? (out->time[out->n - 1] - out->time[0]) / (double)(out->n - 1) : P;
  if (out->n < 2)
    st = SG_E_NOTFOUND;
done:
  sg__ewin_free(&env);
  if (st != SG_OK)
    sg_beat_track_free(out);
  free(t);
  free(g);
  free(rhs);
  free(a);
  free(kof);
  free(res);
  return st;
}
