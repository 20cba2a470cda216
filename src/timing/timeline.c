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

static int64_t const_frame(const sg_timeline *tl, int64_t qn, int64_t qd) {
  sg_i128 num = (sg_i128)qn * 60 * tl->rate * tl->tempo_den;
  sg_i128 den = (sg_i128)qd * tl->tempo_num;
  return div_round(num, den);
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
  return tl->origin_frame + const_frame(tl, qn, qd);
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

static double seconds_per_bar(const sg_timeline *tl) {
  return 60.0 * (double)tl->tempo_den / (double)tl->tempo_num * sg_timeline_quarters_per_bar(tl);
}

/* Nearest bar to t seconds; ties resolve to the later bar. */
static int64_t snap_bar(const sg_timeline *tl, double t) {
  return (int64_t)floor(t / seconds_per_bar(tl) + 0.5);
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
  int64_t g = gcd64(song->tempo.num, song->tempo.den);
  tl->tempo_num = song->tempo.num / g;
  tl->tempo_den = song->tempo.den / g;
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

  /* Boundaries b[i] (start of section i), -1 while unknown. */
  int64_t b[SG_MAX_SECTIONS + 1];
  for (int i = 0; i <= song->n_sections; ++i)
    b[i] = -1;
  b[0] = 0;
  for (int i = 0; i < song->n_sections; ++i) {
    const sg_section_spec *s = &song->sections[i];
    sg_section_time *t = &tl->sections[i];
    snprintf(t->name, sizeof t->name, "%s", s->name.s);
    t->index = i;
    t->target_start_sec = s->start_sec;
    t->target_end_sec = s->end_sec;
    if (s->start_sec >= 0) {
      int64_t bar = snap_bar(tl, s->start_sec);
      if (i == 0 && bar != 0)
        return spec_error(d, song, s->start_pos,
                          "section '%s' is the first section, so it starts at bar 1 (0:00), but "
                          "its start %.3f s snaps to %.0f bars later",
                          s->name.s, s->start_sec, (double)bar);
      if (b[i] >= 0 && b[i] != bar)
        return spec_error(d, song, s->start_pos,
                          "section '%s' starts at %.3f s, which snaps to bar %.0f, but the "
                          "sections before it end at another bar; adjust their bars or times",
                          s->name.s, s->start_sec, (double)bar + 1);
      if (i > 0 && bar <= b[i - 1])
        return spec_error(d, song, s->start_pos,
                          "section '%s' start %.3f s snaps to bar %.0f, not after the previous "
                          "section's start",
                          s->name.s, s->start_sec, (double)bar + 1);
      b[i] = bar;
      t->snapped_start = 1;
    }
    if (b[i] < 0)
      return spec_error(d, song, s->pos,
                        "section '%s' cannot be placed: the section before it has neither "
                        "bars nor an end time, and this one has no start time",
                        s->name.s);
    if (s->bars > 0) {
      b[i + 1] = b[i] + s->bars;
      if (s->end_sec >= 0 && snap_bar(tl, s->end_sec) != b[i + 1])
        return spec_error(d, song, s->end_pos,
                          "section '%s' end %.3f s snaps to bar line %.0f, which contradicts "
                          "its length in bars",
                          s->name.s, s->end_sec, (double)snap_bar(tl, s->end_sec) + 1);
    } else if (s->end_sec >= 0) {
      b[i + 1] = snap_bar(tl, s->end_sec);
      t->snapped_end = 1;
    }
    if (b[i + 1] >= 0 && b[i + 1] <= b[i])
      return spec_error(d, song, s->end_sec >= 0 ? s->end_pos : s->pos,
                        "section '%s' is empty after snapping to bars (end %.3f s, length %g "
                        "bars); give it at least one bar",
                        s->name.s, s->end_sec, (double)(b[i + 1] - b[i]));
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
    double spb = seconds_per_bar(tl);
    t->snap_error_start_sec = t->target_start_sec >= 0 ? b[i] * spb - t->target_start_sec : 0;
    t->snap_error_end_sec = t->target_end_sec >= 0 ? b[i + 1] * spb - t->target_end_sec : 0;
    if (t->target_end_sec >= 0)
      t->snapped_end = 1;
  }
  tl->total_bars = b[song->n_sections];
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
