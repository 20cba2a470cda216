/* stemgate timing: the song's grid — bars, beats, seconds and sample frames — computed exactly.
 *
 * Tempo is a decimal (97.3 BPM = 973/10 quarter notes per minute), so the frame of any grid
 * point is one rational expression, rounded once:
 *     frame(q quarters) = origin + round(q * 60 * rate * tempo.den / tempo.num)
 * There is no per-bar accumulation, so bar 200 lands on the same sample whether computed
 * directly or by summing section lengths, at any song length. Section boundaries given as
 * target times ("1:22") snap to the nearest bar; the snapping error is reported.
 *
 * A spec may change tempo (a section's `tempo`, a `tempo_change` ramp): the grid is then a list
 * of tempo segments, each anchored at the exact frame where the one before it ends. A constant
 * segment stays rational, frame = anchor + round(dq * 60 * rate * den / num) for dq quarters
 * into it; a ramp integrates its tempo curve in closed form (linear in beats: t(x) = 60 L /
 * (T1 - T0) * ln(T(x) / T0); exponential: t(x) = 60 L / (T0 ln r) * (1 - r^(-x/L)), r = T1/T0),
 * so any grid point inside a ramp, a sixteenth as well as a bar, lands on its own sample rather
 * than between two interpolated quarters. Target times snap to the nearest bar of that map.
 *
 * When the grid follows a reference's measured beats (a tempo map), frames between two
 * measured beats are interpolated linearly; that map replaces the spec's. */
#ifndef STEMGATE_TIMING_H
#define STEMGATE_TIMING_H

#include "stemgate/core.h"
#include "stemgate/spec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sg_section_time {
  char name[SG_MAX_NAME];
  int index;
  int64_t start_bar, bars;        /* 0-based start bar, length in bars */
  int64_t start_quarter;          /* in quarter notes (bars * quarters_per_bar) */
  int64_t start_frame, end_frame; /* [start, end) */
  double start_sec, end_sec;
  int snapped_start, snapped_end;                  /* 1 when the boundary came from a target time */
  double target_start_sec, target_end_sec;         /* the targets, -1 when none */
  double snap_error_start_sec, snap_error_end_sec; /* snapped minus target */
} sg_section_time;

/* One stretch of the spec's tempo map, from bar start_bar to the next segment's start (the last
 * one runs on past the song). A ramp is always followed by a constant segment. */
typedef struct sg_tempo_segment {
  int64_t start_bar;
  int64_t rel_frame;            /* anchor: frame of start_bar minus origin_frame */
  int64_t tempo_num, tempo_den; /* quarter notes per minute at the start */
  int64_t to_num, to_den;       /* at the end (a ramp); == the start for a constant segment */
  int64_t ramp_bars;            /* 0: constant; else the ramp's length in bars */
  sg_tempo_curve curve;
  int section; /* the section it starts in */
} sg_tempo_segment;

#define SG_MAX_TEMPO_SEGMENTS (2 * SG_MAX_SECTIONS + 1)

typedef struct sg_timeline {
  unsigned rate;
  int64_t tempo_num, tempo_den; /* quarter notes per minute = num / den (at bar 1) */
  sg_beat beat;                 /* the spec's beat unit and its tempo in those beats per minute */
  int64_t beat_tempo_num, beat_tempo_den; /* (what the spec wrote; the grid uses tempo_num) */
  int meter_num, meter_den;
  int64_t bar_q_num, bar_q_den; /* quarters per bar = meter_num * 4 / meter_den, reduced */
  int64_t origin_frame;         /* frame of bar 0 beat 0 (reference alignment offset) */
  int64_t total_bars;
  int64_t total_frames; /* song length: end of the last section */
  /* The ending (song's `ending:`), and the one rule for how long every delivered file is:
   *   cut:  file_frames = total_frames;
   *   fade: file_frames = total_frames, faded from fade_start_frame (the last
   *         ending_fade_bars bars);
   *   ring: file_frames = total_frames + ring_frames, where the final hit on the downbeat after
   *         the last bar holds for hold_frames (one bar, at most 2 s) and ring_frames = hold +
   *         the decay the renderer estimates for its instruments and effects
   *         (sg_timeline_set_ring), never more than ring_max_frames (ending_max_s). */
  sg_ending ending;
  int64_t hold_frames, ring_frames, ring_max_frames;
  int fade_bars;
  int64_t file_frames;
  /* Intermediate (dry) renders run to dry_frames: for ring the song plus the longest ring-out
   * allowed, so they never depend on the renderer's estimate (an effect's tail); the final
   * files are cut to file_frames. == file_frames otherwise. */
  int64_t dry_frames;
  int64_t fade_start_frame; /* == file_frames when there is no fade */
  int n_sections;
  sg_section_time sections[SG_MAX_SECTIONS];
  /* Optional tempo map: frame of each quarter note 0..n_map-1 (owned by the caller, must
   * outlive the timeline). NULL: the constant tempo above. */
  const int64_t *quarter_frames;
  size_t n_quarter_frames;
  /* The spec's tempo map (always at least one segment); tempo_varies is 1 when it has more than
   * one, i.e. the song changes tempo somewhere. */
  int n_tempo;
  int tempo_varies;
  sg_tempo_segment tempo[SG_MAX_TEMPO_SEGMENTS];
} sg_timeline;

/* Builds the timeline from a parsed song. Target times are snapped to the nearest bar; a
 * section that would end up empty, overlap or leave a gap is an SG_E_SPEC error at the
 * section's position. origin_frame starts at 0. */
sg_status sg_timeline_build(const sg_song *song, sg_timeline *tl, sg_diag *d);

/* Moves the grid so bar 0 starts at origin_frame (alignment to a reference's first downbeat)
 * and recomputes every section's frames and the total length. */
void sg_timeline_set_origin(sg_timeline *tl, int64_t origin_frame);
/* Makes the grid follow measured quarter-note frames (a tempo map; the array must outlive the
 * timeline; n >= 2) and recomputes every section's frames; NULL/0 returns to the constant
 * tempo. */
void sg_timeline_set_tempo_map(sg_timeline *tl, const int64_t *quarter_frames, size_t n);

/* ring ending: the files run on hold_frames + decay_frames after the last bar (capped at
 * ring_max_frames; never under hold_frames). No effect for fade and cut. */
void sg_timeline_set_ring(sg_timeline *tl, int64_t decay_frames);
/* The file lengths a delivery of this song may have, [*lo, *hi] frames: exactly file_frames
 * for fade and cut; for ring, from the song to the song plus the cap (a verifier does not know
 * the renderer's decay estimate; whether the tail rang out is ending_decay's question). */
void sg_timeline_length_range(const sg_timeline *tl, int64_t *lo, int64_t *hi);

/* Exact frame of a grid point given in quarter notes as the fraction qn/qd (qd > 0). */
int64_t sg_timeline_frame_at(const sg_timeline *tl, int64_t qn, int64_t qd);
/* Frame of a bar start (bar may be == total_bars for the song end). */
int64_t sg_timeline_bar_frame(const sg_timeline *tl, int64_t bar);
/* Frames per quarter note at bar 1 (the song's first tempo). Anything that runs through the song
 * asks sg_timeline_frames_per_quarter_at. */
double sg_timeline_frames_per_quarter(const sg_timeline *tl);
/* Tempo in quarter notes per minute at a frame (the local tempo of a ramp, a section's tempo,
 * or with a reference map the measured quarter around it), and frames per quarter there. */
double sg_timeline_tempo_at(const sg_timeline *tl, int64_t frame);
double sg_timeline_frames_per_quarter_at(const sg_timeline *tl, int64_t frame);
/* Quarter notes from bar 1 to a frame (the inverse of frame_at; exact for constant tempo up to
 * the double's precision). */
double sg_timeline_quarter_at(const sg_timeline *tl, int64_t frame);
/* round(quarter_at(frame) * ppq) (MIDI ticks), in exact integers where the tempo is constant
 * and between the quarters of a measured map. */
int64_t sg_timeline_ticks_at(const sg_timeline *tl, int64_t frame, int64_t ppq);
/* Quarter notes per bar as a double. */
double sg_timeline_quarters_per_bar(const sg_timeline *tl);
/* Seconds of one bar at the spec's tempo; with tempo: auto (no tempo yet), one bar at the
 * fastest tempo a spec may give (400 BPM), the shortest bar the song can have. */
double sg_song_bar_seconds(const sg_song *song);
/* The spec's tempo map in one line, e.g. "120 BPM bars 1-4; 100 BPM bars 5-8; ritardando 100 ->
 * 80 BPM bars 9-12 (linear); 80 BPM bars 13-16" (quarter notes per minute); "" when the tempo
 * never changes. Truncated to cap. */
char *sg_timeline_tempo_text(const sg_timeline *tl, char *out, size_t cap);
/* Section index containing frame, or -1 outside the song. */
int sg_timeline_section_at(const sg_timeline *tl, int64_t frame);

/* Parses "1:22", "1:22.5", "82", "82.5s" into seconds; SG_E_PARSE when malformed. */
sg_status sg_parse_time(const char *s, double *sec);
/* Formats seconds as m:ss.mmm into out. */
char *sg_format_time(double sec, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
