/* The song grid, exact to the sample.
 *
 * All grid arithmetic is rational: tempo is num/den quarter notes per minute and a grid point
 * is a fraction of quarter notes, so a frame is one product and one rounded division in 128-bit
 * integers. Nothing accumulates, so any bar of any song lands on the same sample however it is
 * reached. Target times snap to the nearest bar line (ties go to the later bar). */
#include "stemgate/timing.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef __int128 sg_i128;

static int64_t gcd64(int64_t a, int64_t b) {
  a = a < 0 ? -a : a;
  b = b < 0 ? -b : b;
  while (b) {
    int64_t t = a % b;
    a = b;
    b = t;
  }
  return a ? a : 1;
}

/* round(num / den) for den > 0, halves away from zero. */
static int64_t div_round(sg_i128 num, sg_i128 den) {
  if (num >= 0)
    return (int64_t)((num + den / 2) / den);
  return -(int64_t)((-num + den / 2) / den);
}

/* ---- the spec's tempo map ---------------------------------------------------------------- */

/* Seconds from the start of a ramp of L quarters (T0 -> T1 quarter notes per minute) to x
 * quarters into it: the integral of 60 / T over the beats. */
static long double ramp_seconds(long double t0, long double t1, long double L, long double x,
                                sg_tempo_curve curve) {
  if (L <= 0 || fabsl(t1 - t0) < 1e-12L * t0)
    return 60.0L * x / t0;
  if (curve == SG_CURVE_EXPONENTIAL) {
    long double lr = logl(t1 / t0);
    return 60.0L * L / (t0 * lr) * (1.0L - expl(-lr * x / L));
  }
  long double tx = t0 + (t1 - t0) * x / L;
  return 60.0L * L / (t1 - t0) * logl(tx / t0);
}

/* Inverse of ramp_seconds: quarters into the ramp after t seconds. */
static long double ramp_quarters(long double t0, long double t1, long double L, long double t,
                                 sg_tempo_curve curve) {
  if (L <= 0 || fabsl(t1 - t0) < 1e-12L * t0)
    return t * t0 / 60.0L;
  if (curve == SG_CURVE_EXPONENTIAL) {
    long double lr = logl(t1 / t0);
    long double u = 1.0L - t * t0 * lr / (60.0L * L);
    if (u <= 0)
      u = 1e-300L;
    return -L * logl(u) / lr;
  }
  long double tx = t0 * expl(t * (t1 - t0) / (60.0L * L));
  return (tx - t0) * L / (t1 - t0);
}

/* Tempo x quarters into a ramp. */
static long double ramp_tempo(long double t0, long double t1, long double L, long double x,
                              sg_tempo_curve curve) {
  if (L <= 0)
    return t0;
  if (x < 0)
    x = 0;
  if (x > L)
    x = L;
  if (curve == SG_CURVE_EXPONENTIAL)
    return t0 * powl(t1 / t0, x / L);
  return t0 + (t1 - t0) * x / L;
}

/* Segment holding quarter qn/qd (the last one starting at or before it; the first for earlier
 * points). */
static int seg_of_quarter(const sg_timeline *tl, int64_t qn, int64_t qd) {
  int lo = 0, hi = tl->n_tempo - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    /* start quarter of mid = start_bar * bar_q_num / bar_q_den <= qn / qd ? */
    sg_i128 a = (sg_i128)tl->tempo[mid].start_bar * tl->bar_q_num * qd;
    sg_i128 b = (sg_i128)qn * tl->bar_q_den;
    if (a <= b)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

static int seg_of_frame(const sg_timeline *tl, int64_t rel) {
  int lo = 0, hi = tl->n_tempo - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (tl->tempo[mid].rel_frame <= rel)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

/* Frame (relative to the origin) of quarter qn/qd inside segment k. */
static int64_t seg_frame(const sg_timeline *tl, int k, int64_t qn, int64_t qd) {
  const sg_tempo_segment *g = &tl->tempo[k];
  /* dq = qn/qd - start_bar * bar_q_num / bar_q_den = dn / dd */
  sg_i128 dn = (sg_i128)qn * tl->bar_q_den - (sg_i128)g->start_bar * tl->bar_q_num * qd;
  sg_i128 dd = (sg_i128)qd * tl->bar_q_den;
  if (!g->ramp_bars || dn < 0) /* before a ramp (the song opens with one): its first tempo */
    return g->rel_frame + div_round(dn * 60 * tl->rate * g->tempo_den, dd * g->tempo_num);
  long double L = (long double)g->ramp_bars * tl->bar_q_num / tl->bar_q_den;
  long double t =
      ramp_seconds((long double)g->tempo_num / g->tempo_den, (long double)g->to_num / g->to_den, L,
                   (long double)dn / (long double)dd, g->curve);
  return g->rel_frame + (int64_t)llroundl(t * tl->rate);
}

/* Quarters from bar 1 to rel (relative frame), and the tempo there. */
static long double quarter_of_frame(const sg_timeline *tl, int64_t rel, long double *tempo) {
  int k = seg_of_frame(tl, rel);
  const sg_tempo_segment *g = &tl->tempo[k];
  long double q0 = (long double)g->start_bar * tl->bar_q_num / tl->bar_q_den;
  long double t = (long double)(rel - g->rel_frame) / tl->rate;
  long double t0 = (long double)g->tempo_num / g->tempo_den;
  if (!g->ramp_bars || t < 0) {
    if (tempo)
      *tempo = t0;
    return q0 + t * t0 / 60.0L;
  }
  long double L = (long double)g->ramp_bars * tl->bar_q_num / tl->bar_q_den;
  long double t1 = (long double)g->to_num / g->to_den;
  long double x = ramp_quarters(t0, t1, L, t, g->curve);
  if (tempo)
    *tempo = ramp_tempo(t0, t1, L, x, g->curve);
  return q0 + x;
}

int64_t sg_timeline_frame_at(const sg_timeline *tl, int64_t qn, int64_t qd) {
  if (qd <= 0)
    qd = 1;
  if (tl->quarter_frames && tl->n_quarter_frames >= 2) {
    /* Tempo map: interpolate between measured quarter-note frames. */
    const int64_t *m = tl->quarter_frames;
    size_t n = tl->n_quarter_frames;
    int64_t whole = qn >= 0 ? qn / qd : -((-qn + qd - 1) / qd);
    int64_t rem = qn - whole * qd; /* 0 <= rem < qd */
    size_t i;
    if (whole < 0)
      i = 0;
    else if ((size_t)whole >= n - 1)
      i = n - 2;
    else
      i = (size_t)whole;
    sg_i128 span = m[i + 1] - m[i];
    sg_i128 off = (sg_i128)(whole - (int64_t)i) * qd + rem; /* quarters past m[i], times qd */
    return m[i] + div_round(span * off, qd);
  }
  if (tl->n_tempo <= 0)
    return tl->origin_frame; /* not built */
  return tl->origin_frame + seg_frame(tl, seg_of_quarter(tl, qn, qd), qn, qd);
}

/* Measured map: the quarter whose span holds frame (the first or last span extended past the
 * map's ends). */
static size_t map_span_of(const sg_timeline *tl, int64_t frame) {
  const int64_t *m = tl->quarter_frames;
  size_t n = tl->n_quarter_frames, lo = 0, hi = n - 1;
  if (frame >= m[n - 1])
    return n - 2;
  if (frame > m[0]) {
    while (hi - lo > 1) {
      size_t mid = (lo + hi) / 2;
      if (m[mid] <= frame)
        lo = mid;
      else
        hi = mid;
    }
  }
  return lo;
}

/* Measured map: the quarter at a frame, interpolated. */
static double map_quarter_at(const sg_timeline *tl, int64_t frame, double *fpq) {
  const int64_t *m = tl->quarter_frames;
  size_t lo = map_span_of(tl, frame);
  double span = (double)(m[lo + 1] - m[lo]);
  if (span <= 0)
    span = 1;
  if (fpq)
    *fpq = span;
  return (double)lo + (double)(frame - m[lo]) / span;
}

double sg_timeline_quarter_at(const sg_timeline *tl, int64_t frame) {
  if (tl->quarter_frames && tl->n_quarter_frames >= 2)
    return map_quarter_at(tl, frame, NULL);
  if (tl->n_tempo <= 0 || tl->rate == 0)
    return 0;
  return (double)quarter_of_frame(tl, frame - tl->origin_frame, NULL);
}

double sg_timeline_tempo_at(const sg_timeline *tl, int64_t frame) {
  if (tl->quarter_frames && tl->n_quarter_frames >= 2) {
    double fpq;
    map_quarter_at(tl, frame, &fpq);
    return 60.0 * tl->rate / fpq;
  }
  if (tl->n_tempo <= 0)
    return tl->tempo_den > 0 ? (double)tl->tempo_num / (double)tl->tempo_den : 0;
  long double t;
  quarter_of_frame(tl, frame - tl->origin_frame, &t);
  return (double)t;
}

double sg_timeline_frames_per_quarter_at(const sg_timeline *tl, int64_t frame) {
  double t = sg_timeline_tempo_at(tl, frame);
  return t > 0 ? 60.0 * tl->rate / t : sg_timeline_frames_per_quarter(tl);
}

int64_t sg_timeline_ticks_at(const sg_timeline *tl, int64_t frame, int64_t ppq) {
  if (tl->quarter_frames && tl->n_quarter_frames >= 2) { /* exact between measured quarters */
    const int64_t *m = tl->quarter_frames;
    size_t lo = map_span_of(tl, frame);
    int64_t span = m[lo + 1] - m[lo];
    if (span <= 0)
      span = 1;
    return (int64_t)lo * ppq + div_round((sg_i128)(frame - m[lo]) * ppq, span);
  }
  if (!(tl->quarter_frames && tl->n_quarter_frames >= 2) && tl->n_tempo > 0) {
    int64_t rel = frame - tl->origin_frame;
    int k = seg_of_frame(tl, rel);
    const sg_tempo_segment *g = &tl->tempo[k];
    if (!g->ramp_bars) { /* exact: the inverse of seg_frame's rational formula */
      sg_i128 t0n = (sg_i128)g->start_bar * tl->bar_q_num * ppq; /* start tick * bar_q_den */
      sg_i128 num = (sg_i128)(rel - g->rel_frame) * ppq * g->tempo_num * tl->bar_q_den +
                    t0n * 60 * tl->rate * g->tempo_den;
      sg_i128 den = (sg_i128)60 * tl->rate * g->tempo_den * tl->bar_q_den;
      return div_round(num, den);
    }
  }
  return (int64_t)llround(sg_timeline_quarter_at(tl, frame) * (double)ppq);
}

int64_t sg_timeline_bar_frame(const sg_timeline *tl, int64_t bar) {
  return sg_timeline_frame_at(tl, bar * tl->bar_q_num, tl->bar_q_den);
}

double sg_timeline_frames_per_quarter(const sg_timeline *tl) {
  return 60.0 * tl->rate * (double)tl->tempo_den / (double)tl->tempo_num;
}

double sg_timeline_quarters_per_bar(const sg_timeline *tl) {
  return (double)tl->bar_q_num / (double)tl->bar_q_den;
}

int sg_timeline_section_at(const sg_timeline *tl, int64_t frame) {
  for (int i = 0; i < tl->n_sections; ++i)
    if (frame >= tl->sections[i].start_frame && frame < tl->sections[i].end_frame)
      return i;
  return -1;
}

sg_status sg_parse_time(const char *s, double *sec) {
  if (!s || !sec)
    return SG_E_INVAL;
  while (*s == ' ')
    ++s;
  char *end;
  double a = strtod(s, &end);
  if (end == s || a < 0 || !isfinite(a))
    return SG_E_PARSE;
  if (*end == ':') {
    if (a != floor(a))
      return SG_E_PARSE;
    const char *p = end + 1;
    if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9'))
      return SG_E_PARSE; /* seconds need two digits: "1:05" */
    double b = strtod(p, &end);
    if (b >= 60.0 || b < 0)
      return SG_E_PARSE;
    a = a * 60.0 + b;
  } else if (*end == 's') {
    ++end;
  }
  while (*end == ' ')
    ++end;
  if (*end)
    return SG_E_PARSE;
  *sec = a;
  return SG_OK;
}

char *sg_format_time(double sec, char *out, size_t cap) {
  if (!out || !cap)
    return out;
  const char *sign = sec < 0 ? "-" : "";
  sec = fabs(sec);
  long ms = lround(sec * 1000.0);
  snprintf(out, cap, "%s%ld:%02ld.%03ld", sign, ms / 60000, (ms / 1000) % 60, ms % 1000);
  return out;
}

/* The file length rule (timing.h). */
static void place_ending(sg_timeline *tl) {
  const int64_t end = tl->total_frames;
  int64_t bar = tl->total_bars > 0 ? end - sg_timeline_bar_frame(tl, tl->total_bars - 1) : 0;
  int64_t two_s = 2 * (int64_t)tl->rate;
  tl->hold_frames = bar < two_s ? bar : two_s;
  if (tl->ring_max_frames < tl->hold_frames)
    tl->ring_max_frames = tl->hold_frames;
  tl->file_frames = tl->dry_frames = end;
  tl->fade_start_frame = end;
  if (tl->ending == SG_ENDING_RING) {
    if (tl->ring_frames < tl->hold_frames)
      tl->ring_frames = tl->hold_frames;
    if (tl->ring_frames > tl->ring_max_frames)
      tl->ring_frames = tl->ring_max_frames;
    tl->file_frames = end + tl->ring_frames;
    tl->dry_frames = end + tl->ring_max_frames;
  } else {
    tl->ring_frames = 0;
    if (tl->ending == SG_ENDING_FADE) {
      int64_t b = tl->total_bars - tl->fade_bars;
      tl->fade_start_frame = sg_timeline_bar_frame(tl, b > 0 ? b : 0);
    }
  }
}

void sg_timeline_set_ring(sg_timeline *tl, int64_t decay_frames) {
  if (!tl || tl->ending != SG_ENDING_RING)
    return;
  tl->ring_frames = tl->hold_frames + (decay_frames > 0 ? decay_frames : 0);
  place_ending(tl);
}

void sg_timeline_length_range(const sg_timeline *tl, int64_t *lo, int64_t *hi) {
  *lo = *hi = tl->file_frames;
  if (tl->ending == SG_ENDING_RING) {
    *lo = tl->total_frames; /* a delivery cut at the last bar is still the song */
    *hi = tl->total_frames + tl->ring_max_frames;
  }
}

/* Frames of every section boundary and the total, from the bars and the current grid. */
static void place_sections(sg_timeline *tl) {
  for (int i = 0; i < tl->n_sections; ++i) {
    sg_section_time *t = &tl->sections[i];
    t->start_frame = sg_timeline_bar_frame(tl, t->start_bar);
    t->end_frame = sg_timeline_bar_frame(tl, t->start_bar + t->bars);
    t->start_sec = (double)t->start_frame / tl->rate;
    t->end_sec = (double)t->end_frame / tl->rate;
  }
  tl->total_frames = sg_timeline_bar_frame(tl, tl->total_bars);
  place_ending(tl);
}

static sg_status spec_error(sg_diag *d, const sg_song *s, sg_pos pos, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static sg_status spec_error(sg_diag *d, const sg_song *s, sg_pos pos, const char *fmt, ...) {
  if (!d)
    return SG_E_SPEC;
  sg_diag_at(d, s->path, pos.line, pos.col);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->message, sizeof d->message, fmt, ap);
  va_end(ap);
  d->status = SG_E_SPEC;
  return SG_E_SPEC;
}

/* ---- planning the map: section placement in seconds ---------------------------------------- */

typedef struct plan {
  const sg_song *song;
  double qpb;                        /* quarters per bar */
  int64_t b[SG_MAX_SECTIONS + 1];    /* start bars, -1 unknown */
  double start[SG_MAX_SECTIONS + 1]; /* start seconds of section i (known ones) */
  double tempo[SG_MAX_SECTIONS];     /* tempo at the section's first downbeat */
  double end_tempo[SG_MAX_SECTIONS]; /* at its end */
  int n_closed;                      /* sections 0..n_closed-1 have a length */
} plan;

static double dec(sg_decimal x) { return x.den > 0 ? (double)x.num / (double)x.den : 0; }

/* Bars of section i's tempo_change for a length of len bars (0: none). */
static int64_t ramp_bars_of(const sg_section_spec *s, int64_t len) {
  if (s->ramp_to.num <= 0)
    return 0;
  int64_t r = s->ramp_bars > 0 ? s->ramp_bars : len;
  return r > len ? len : r;
}

/* Seconds from the start of section i (starting tempo p->tempo[i]) to k bars into it, when it is
 * len bars long. */
static double plan_section_seconds(const plan *p, int i, int64_t len, int64_t k) {
  const sg_section_spec *s = &p->song->sections[i];
  double t0 = p->tempo[i];
  int64_t r = ramp_bars_of(s, len), flat = len - r;
  int64_t kc = k < flat ? k : flat;
  double sec = kc * p->qpb * 60.0 / t0;
  if (k > flat)
    sec += (double)ramp_seconds(t0, dec(s->ramp_to), (long double)r * p->qpb,
                                (long double)(k - flat) * p->qpb, s->ramp_curve);
  return sec;
}

/* Section i gets its length: its end time and tempo are known from then on. */
static sg_status plan_close(plan *p, int i, int64_t len, sg_diag *d) {
  const sg_section_spec *s = &p->song->sections[i];
  if (s->ramp_to.num > 0 && s->ramp_bars > len)
    return spec_error(d, p->song, s->ramp_bars_pos.line ? s->ramp_bars_pos : s->ramp_pos,
                      "section '%s' has %lld bars, but its tempo_change runs over %d; over_bars "
                      "counts the section's last bars",
                      s->name.s, (long long)len, s->ramp_bars);
  p->b[i + 1] = p->b[i] + len;
  p->start[i + 1] = p->start[i] + plan_section_seconds(p, i, len, len);
  p->end_tempo[i] = s->ramp_to.num > 0 ? dec(s->ramp_to) : p->tempo[i];
  p->n_closed = i + 1;
  return SG_OK;
}

/* Length in bars of section i (start known, length not) whose end lands nearest to target
 * seconds; ties go to the longer one. 0 when even one bar overshoots by more than half. */
static int64_t plan_snap_length(const plan *p, int i, double target) {
  const sg_section_spec *s = &p->song->sections[i];
  double want = target - p->start[i];
  int64_t lo = s->ramp_to.num > 0 && s->ramp_bars > 0 ? s->ramp_bars : 1;
  double prev = 0; /* seconds of 0 bars */
  int64_t prev_len = 0;
  for (int64_t len = lo; len <= 1000000; ++len) {
    double e = plan_section_seconds(p, i, len, len);
    if (e >= want)
      return (want - prev) >= (e - want) ? len : prev_len;
    prev = e;
    prev_len = len;
  }
  return prev_len;
}

/* Seconds of a bar line (bars known up to section n_closed; beyond, at tempo ext). */
static double plan_bar_seconds(const plan *p, int64_t bar, double ext) {
  int n = p->n_closed;
  if (bar >= p->b[n])
    return p->start[n] + (double)(bar - p->b[n]) * p->qpb * 60.0 / ext;
  if (bar <= 0)
    return (double)bar * p->qpb * 60.0 / p->tempo[0];
  int j = 0;
  while (j + 1 < n && p->b[j + 1] <= bar)
    ++j;
  return p->start[j] + plan_section_seconds(p, j, p->b[j + 1] - p->b[j], bar - p->b[j]);
}

/* Bar line nearest to target seconds on the planned map (ties to the later bar); the bars after
 * the last placed section run at tempo ext. */
static int64_t plan_snap_bar(const plan *p, double ext, double target) {
  int64_t lo = 0, hi = 1;
  while (plan_bar_seconds(p, hi, ext) < target)
    hi *= 2;
  while (hi - lo > 1) { /* first bar at or after target is hi */
    int64_t mid = (lo + hi) / 2;
    if (plan_bar_seconds(p, mid, ext) >= target)
      hi = mid;
    else
      lo = mid;
  }
  if (plan_bar_seconds(p, 0, ext) >= target)
    return 0;
  return target - plan_bar_seconds(p, lo, ext) >= plan_bar_seconds(p, hi, ext) - target ? hi : lo;
}

/* Anchors: each segment starts at the frame where the one before it ends. */
static void anchor_segments(sg_timeline *tl) {
  tl->tempo[0].rel_frame = 0;
  for (int k = 0; k + 1 < tl->n_tempo; ++k)
    tl->tempo[k + 1].rel_frame =
        seg_frame(tl, k, tl->tempo[k + 1].start_bar * tl->bar_q_num, tl->bar_q_den);
}

static int same_tempo(int64_t an, int64_t ad, int64_t bn, int64_t bd) {
  return (sg_i128)an * bd == (sg_i128)bn * ad;
}

/* The exact map: a constant segment wherever the tempo is steady, a ramp for each
 * tempo_change, anchored one after the other at the frame where the previous one ends. */
static void build_segments(sg_timeline *tl, const sg_song *song, const int64_t *b) {
  int n = 0;
  int64_t cn = tl->tempo_num, cd = tl->tempo_den;
  sg_tempo_segment *g = &tl->tempo[n++];
  memset(g, 0, sizeof *g);
  g->tempo_num = g->to_num = cn;
  g->tempo_den = g->to_den = cd;
  int after_ramp = 0;
  for (int i = 0; i < song->n_sections; ++i) {
    const sg_section_spec *s = &song->sections[i];
    int64_t len = b[i + 1] - b[i];
    if (s->tempo.num > 0 && !same_tempo(s->tempo.num, s->tempo.den, cn, cd)) {
      cn = s->tempo.num;
      cd = s->tempo.den;
      after_ramp = 1; /* force a new constant segment below */
    }
    if (after_ramp) {
      if (tl->tempo[n - 1].start_bar == b[i] && !tl->tempo[n - 1].ramp_bars)
        g = &tl->tempo[n - 1]; /* the section's own tempo replaces a segment of no length */
      else
        g = &tl->tempo[n++];
      memset(g, 0, sizeof *g);
      g->start_bar = b[i];
      g->section = i;
      int64_t r = gcd64(cn, cd);
      g->tempo_num = g->to_num = cn / r;
      g->tempo_den = g->to_den = cd / r;
      after_ramp = 0;
    }
    int64_t rb = ramp_bars_of(s, len);
    if (rb > 0 && !same_tempo(s->ramp_to.num, s->ramp_to.den, cn, cd)) {
      int64_t start = b[i + 1] - rb;
      if (tl->tempo[n - 1].start_bar == start)
        --n; /* the ramp starts where the constant stretch would: no constant part */
      g = &tl->tempo[n++];
      memset(g, 0, sizeof *g);
      g->start_bar = start;
      g->section = i;
      int64_t r = gcd64(cn, cd);
      g->tempo_num = cn / r;
      g->tempo_den = cd / r;
      r = gcd64(s->ramp_to.num, s->ramp_to.den);
      g->to_num = s->ramp_to.num / r;
      g->to_den = s->ramp_to.den / r;
      g->ramp_bars = rb;
      g->curve = s->ramp_curve;
      cn = s->ramp_to.num;
      cd = s->ramp_to.den;
      after_ramp = 1;
    }
  }
  if (after_ramp) { /* a ramp is always followed by a constant segment (the song's end) */
    g = &tl->tempo[n++];
    memset(g, 0, sizeof *g);
    g->start_bar = b[song->n_sections];
    g->section = song->n_sections - 1;
    int64_t r = gcd64(cn, cd);
    g->tempo_num = g->to_num = cn / r;
    g->tempo_den = g->to_den = cd / r;
  }
  tl->n_tempo = n;
  tl->tempo_varies = n > 1;
  anchor_segments(tl);
}

sg_status sg_timeline_build(const sg_song *song, sg_timeline *tl, sg_diag *d) {
  if (!song || !tl)
    return sg_diag_fail(d, SG_E_INVAL, "timeline: NULL argument");
  memset(tl, 0, sizeof *tl);
  if (song->tempo.num <= 0 || song->tempo.den <= 0)
    return spec_error(d, song, song->tempo.pos, "tempo must be positive (got %g/%g)",
                      (double)song->tempo.num, (double)song->tempo.den);
  if (song->meter_num <= 0 || song->meter_den <= 0 || song->sample_rate == 0)
    return sg_diag_fail(d, SG_E_SPEC, "timeline: meter and sample rate must be set");
  if (song->n_sections <= 0)
    return sg_diag_fail(d, SG_E_SPEC, "%s: the song has no sections", song->path);
  sg_status st;
  /* The grid's first tempo: the song's, or the first section's own. */
  sg_decimal first = song->sections[0].tempo.num > 0 ? song->sections[0].tempo : song->tempo;
  int64_t g = gcd64(first.num, first.den);
  tl->tempo_num = first.num / g;
  tl->tempo_den = first.den / g;
  /* The spec's beat tempo, derived back from the one quarter-note tempo the grid uses (the loader
   * converted once), so the two can never disagree. */
  int bn, bd;
  tl->beat = (unsigned)song->beat < SG_BEAT_COUNT_ ? song->beat : SG_BEAT_QUARTER;
  sg_beat_quarters(tl->beat, &bn, &bd);
  g = gcd64(tl->tempo_num * bd, tl->tempo_den * bn);
  tl->beat_tempo_num = tl->tempo_num * bd / g;
  tl->beat_tempo_den = tl->tempo_den * bn / g;
  tl->rate = song->sample_rate;
  tl->meter_num = song->meter_num;
  tl->meter_den = song->meter_den;
  g = gcd64(song->meter_num * 4, song->meter_den);
  tl->bar_q_num = song->meter_num * 4 / g;
  tl->bar_q_den = song->meter_den / g;
  tl->n_sections = song->n_sections;
  tl->ending = song->ending;
  tl->fade_bars = song->ending_fade_bars > 0 ? song->ending_fade_bars : 1;
  tl->ring_max_frames = (int64_t)llround(song->ending_max_s * song->sample_rate);

  /* Placement, section by section, on the tempo map being planned (in seconds; the exact
   * frames come from the segments built after). b[i]: start bar of section i, -1 while unknown;
   * a section without a length takes it from the next section's start time. */
  plan p;
  memset(&p, 0, sizeof p);
  p.song = song;
  p.qpb = sg_timeline_quarters_per_bar(tl);
  int64_t *b = p.b;
  for (int i = 0; i <= song->n_sections; ++i)
    b[i] = -1;
  b[0] = 0;
  double carry = dec(song->tempo);
  for (int i = 0; i < song->n_sections; ++i) {
    const sg_section_spec *s = &song->sections[i];
    sg_section_time *t = &tl->sections[i];
    snprintf(t->name, sizeof t->name, "%s", s->name.s);
    t->index = i;
    t->target_start_sec = s->start_sec;
    t->target_end_sec = s->end_sec;
    if (i > 0 && p.n_closed == i)
      carry = p.end_tempo[i - 1];
    if (s->start_sec >= 0) {
      int64_t bar;
      if (i == 0) {
        bar = (int64_t)floor(s->start_sec * carry / (60.0 * p.qpb) + 0.5);
        if (s->tempo.num > 0)
          bar = (int64_t)floor(s->start_sec * dec(s->tempo) / (60.0 * p.qpb) + 0.5);
        if (bar != 0)
          return spec_error(d, song, s->start_pos,
                            "section '%s' is the first section, so it starts at bar 1 (0:00), "
                            "but its start %.3f s snaps to %.0f bars later",
                            s->name.s, s->start_sec, (double)bar);
      } else if (b[i] < 0) { /* the section before has no length: this start gives it one */
        int64_t len = plan_snap_length(&p, i - 1, s->start_sec);
        bar = b[i - 1] + len;
        if (len <= 0)
          return spec_error(d, song, s->start_pos,
                            "section '%s' start %.3f s snaps to bar %.0f, not after the "
                            "previous section's start",
                            s->name.s, s->start_sec, (double)bar + 1);
        if ((st = plan_close(&p, i - 1, len, d)))
          return st;
        carry = p.end_tempo[i - 1];
      } else {
        bar = plan_snap_bar(&p, s->tempo.num > 0 ? dec(s->tempo) : carry, s->start_sec);
        if (bar != b[i])
          return spec_error(d, song, s->start_pos,
                            "section '%s' starts at %.3f s, which snaps to bar %.0f, but the "
                            "sections before it end at another bar; adjust their bars or times",
                            s->name.s, s->start_sec, (double)bar + 1);
      }
      b[i] = bar;
      t->snapped_start = 1;
    }
    if (b[i] < 0)
      return spec_error(d, song, s->pos,
                        "section '%s' cannot be placed: the section before it has neither "
                        "bars nor an end time, and this one has no start time",
                        s->name.s);
    if (i > 0 && p.n_closed == i)
      carry = p.end_tempo[i - 1];
    p.tempo[i] = s->tempo.num > 0 ? dec(s->tempo) : carry;
    if (s->bars > 0) {
      b[i + 1] = b[i] + s->bars;
      if ((st = plan_close(&p, i, s->bars, d)))
        return st;
      if (s->end_sec >= 0) {
        int64_t e = plan_snap_bar(&p, p.end_tempo[i], s->end_sec);
        if (e != b[i + 1])
          return spec_error(d, song, s->end_pos,
                            "section '%s' end %.3f s snaps to bar line %.0f, which contradicts "
                            "its length in bars",
                            s->name.s, s->end_sec, (double)e + 1);
      }
    } else if (s->end_sec >= 0) {
      int64_t len = plan_snap_length(&p, i, s->end_sec);
      b[i + 1] = b[i] + len;
      t->snapped_end = 1;
      if (len <= 0)
        return spec_error(d, song, s->end_pos,
                          "section '%s' is empty after snapping to bars (end %.3f s, length %g "
                          "bars); give it at least one bar",
                          s->name.s, s->end_sec, (double)len);
      if ((st = plan_close(&p, i, len, d)))
        return st;
    }
  }
  if (b[song->n_sections] < 0) {
    const sg_section_spec *s = &song->sections[song->n_sections - 1];
    return spec_error(d, song, s->pos,
                      "the last section '%s' has no length: give it bars or an end time",
                      s->name.s);
  }
  for (int i = 0; i < song->n_sections; ++i) {
    sg_section_time *t = &tl->sections[i];
    t->start_bar = b[i];
    t->bars = b[i + 1] - b[i];
    t->start_quarter = b[i] * tl->bar_q_num / tl->bar_q_den;
    t->snap_error_start_sec = t->target_start_sec >= 0 ? p.start[i] - t->target_start_sec : 0;
    t->snap_error_end_sec = t->target_end_sec >= 0 ? p.start[i + 1] - t->target_end_sec : 0;
    if (t->target_end_sec >= 0)
      t->snapped_end = 1;
  }
  tl->total_bars = b[song->n_sections];
  build_segments(tl, song, b);
  place_sections(tl);
  return SG_OK;
}

void sg_timeline_set_origin(sg_timeline *tl, int64_t origin_frame) {
  tl->origin_frame = origin_frame;
  place_sections(tl);
}

void sg_timeline_set_tempo_map(sg_timeline *tl, const int64_t *quarter_frames, size_t n) {
  tl->quarter_frames = n >= 2 ? quarter_frames : NULL;
  tl->n_quarter_frames = n >= 2 ? n : 0;
  place_sections(tl);
}

double sg_song_bar_seconds(const sg_song *song) {
  if (!song || song->meter_den <= 0)
    return 0;
  double bpm = song->tempo_auto || song->tempo.num <= 0 || song->tempo.den <= 0
                   ? 400.0
                   : (double)song->tempo.num / (double)song->tempo.den;
  return song->meter_num * 4.0 / song->meter_den * 60.0 / bpm;
}

char *sg_timeline_tempo_text(const sg_timeline *tl, char *out, size_t cap) {
  if (!out || !cap)
    return out;
  out[0] = 0;
  size_t n = 0;
  for (int k = 0; tl->tempo_varies && k < tl->n_tempo && n < cap; ++k) {
    const sg_tempo_segment *g = &tl->tempo[k];
    int64_t end = k + 1 < tl->n_tempo ? tl->tempo[k + 1].start_bar : tl->total_bars;
    if (end <= g->start_bar)
      continue;
    double a = (double)g->tempo_num / (double)g->tempo_den;
    double b = (double)g->to_num / (double)g->to_den;
    int w;
    if (g->ramp_bars)
      w = snprintf(out + n, cap - n, "%s%s %.6g -> %.6g BPM bars %lld-%lld (%s)", n ? "; " : "",
                   b < a ? "ritardando" : "accelerando", a, b, (long long)g->start_bar + 1,
                   (long long)end, g->curve == SG_CURVE_EXPONENTIAL ? "exponential" : "linear");
    else
      w = snprintf(out + n, cap - n, "%s%.6g BPM bars %lld-%lld", n ? "; " : "", a,
                   (long long)g->start_bar + 1, (long long)end);
    if (w < 0)
      break;
    n += (size_t)w < cap - n ? (size_t)w : cap - n - 1;
  }
  return out;
}
