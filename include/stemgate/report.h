/* stemgate report: report.html, what a render measured, to look at.
 *
 * Two halves kept apart: the data (sg_report, filled by whoever measured: the render pipeline
 * from its own meters, analysis and gate rows) and the writer (sg_report_write_html), which
 * only draws what it is given. The page is one self-contained HTML file: inline SVG and CSS, no
 * script, no network, no external font.
 *
 * Waveforms are min/max envelopes, the way audio editors draw a file zoomed out: the song is cut
 * into a fixed number of columns and each keeps the smallest and largest sample it saw, so the
 * memory is fixed whatever the song's length and the picture is built while the audio streams
 * (sg_trace, fed by a writer's tap). The master's trace also keeps, per column, the short-term
 * loudness (EBU R128 / EBU Tech 3341: 3 s window, BS.1770-4 K-weighting, the meter's loudness.c) at
 * the column's 100 ms boundary and the true peak (BS.1770-4 oversampled) inside it. */
#ifndef STEMGATE_REPORT_H
#define STEMGATE_REPORT_H

#include "stemgate/analysis.h"
#include "stemgate/core.h"
#include "stemgate/gate.h"
#include "stemgate/notes.h"
#include "stemgate/spec.h"
#include "stemgate/timing.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SG_REPORT_COLS 1000 /* envelope columns per song */

/* ---- the streaming envelope --------------------------------------------------------------- */

typedef struct sg_trace_config {
  unsigned channels, rate;
  int64_t frames; /* expected length; later frames go into the last column */
  int cols;       /* columns; 0: SG_REPORT_COLS */
  int loudness;   /* 1: also short-term loudness and true peak per column */
} sg_trace_config;

typedef struct sg_trace sg_trace;

/* SG_E_INVAL for bad arguments, SG_E_NOMEM. All memory is allocated here. */
sg_status sg_trace_create(sg_trace **out, const sg_trace_config *c, sg_diag *d);
/* Adds interleaved frames; allocates nothing. */
sg_status sg_trace_add(sg_trace *t, const float *interleaved, size_t frames);
/* An sg_audio_tap_fn: user is the sg_trace*. */
sg_status sg_trace_tap(void *user, const float *interleaved, size_t frames);
/* A file read through a trace (for a file no writer streamed in this run). */
sg_status sg_trace_file(const char *path, int loudness, sg_trace **out, sg_diag *d);
/* A finished trace kept in a small file beside the node that wrote the audio it measured, so a
 * later run that reuses that audio draws it without reading it again: 112 bytes of header and 8
 * (16 with loudness) per column, at most about 16 KB whatever the song's length.
 * key: the SHA-256 (hex) of the audio file's bytes; the file is written under a temporary name
 * and renamed, so it is whole or absent. SG_E_INVAL, SG_E_IO. */
sg_status sg_trace_save(const sg_trace *t, const char *key, const char *path, sg_diag *d);
/* The trace saved at path, only when it was saved for this key by this trace version with this
 * loudness flag and SG_REPORT_COLS columns, and holds exactly what its header declares;
 * SG_E_NOTFOUND otherwise (absent, stale or damaged: measure the file instead). The loaded
 * trace is finished: sg_trace_add refuses it (SG_E_INVAL); sg_report_wave_from reads it. */
sg_status sg_trace_load(const char *path, const char *key, int loudness, sg_trace **out);
void sg_trace_free(sg_trace *t);

/* What a trace holds, in the report's terms. Arrays of n; owned by the sg_report. */
typedef struct sg_report_wave {
  int n;          /* columns used */
  double col_s;   /* seconds per column */
  float *lo, *hi; /* min and max sample over the channels, -1..1 */
  float *st_lufs; /* short-term loudness at the column's end (NULL without loudness);
                     SG_SILENCE_DB before 3 s of signal */
  float *tp_dbtp; /* true peak within the column (NULL without loudness) */
} sg_report_wave;

/* ---- the data ----------------------------------------------------------------------------- */

typedef struct sg_report_section {
  char name[SG_MAX_NAME];
  char key[48];    /* the spec's key of the section ("A minor", "D dorian") */
  int tonic, mode; /* that key (theory.h: pitch class, sg_mode); tonic -1 when unknown */
  int start_bar;   /* 1-based, first bar */
  int end_bar;     /* last bar, inclusive */
  double start_s, end_s;
} sg_report_section;

typedef struct sg_report_note {
  double start_s, length_s;
  int key; /* MIDI note number */
  float velocity;
} sg_report_note;

typedef struct sg_report_stem {
  char name[SG_MAX_NAME];
  char instrument[160];
  sg_report_wave wave; /* n 0: no audio (the render stopped before it) */
  sg_report_note *notes;
  size_t n_notes;
  int drums; /* the piano roll names drum keys by number */
} sg_report_stem;

/* The key estimated per analysis window of the master against the spec's key there. */
typedef struct sg_report_keywin {
  double t0, t1;     /* the window's span shown (hop around its centre), s */
  char est[32];      /* "G major"; "none" without pitched content */
  char expected[48]; /* the spec's key of the section at the window's centre */
  int agrees;        /* the same key, its relative, or a mode's tonic or parent scale */
} sg_report_keywin;

typedef struct sg_report {
  char title[256];
  char source[SG_MAX_PATH]; /* the spec's path */
  int failed;               /* the render stopped: the banner says so */
  char failure[512];        /* why (the diagnostic) */
  double duration_s, bpm;
  char tempo_map[512]; /* the spec's tempo map in words (sg_timeline_tempo_text); "" if steady */
  int meter_num, meter_den;
  unsigned rate;
  double lufs_target, lufs_tolerance, tp_ceiling_dbtp;
  sg_report_section sections[SG_MAX_SECTIONS];
  int n_sections;
  double *bar_s; /* start of each bar, s (n_bars + 1 entries: the last is the song's end) */
  int n_bars;
  sg_report_stem stems[SG_MAX_STEMS + 1];
  int n_stems;
  sg_report_wave master; /* n 0: no master yet */
  sg_report_keywin *keys;
  size_t n_keys;
  /* The grid against a reference: the offset of the reference's nearest onset from each bar's
   * downbeat (NAN: no onset within 100 ms). */
  int has_reference;
  char reference[SG_MAX_PATH];
  double ref_tempo_bpm, ref_drift_ms, ref_residual_ms;
  double *bar_offset_ms; /* n_bars */
  char grid_note[200];   /* shown instead of the chart when set (why it is not drawn) */
  sg_gate_report gates;  /* every row, in the order they were judged */
} sg_report;

void sg_report_init(sg_report *r);
void sg_report_free(sg_report *r);
/* What the spec and its grid say: title, tempo, meter, targets, sections with their keys, bar
 * lines. SG_E_NOMEM. */
sg_status sg_report_from_song(sg_report *r, const sg_song *s, const sg_timeline *tl, double bpm);
/* The key windows of a track over the master against the sections' keys (from_song first). */
sg_status sg_report_set_keys(sg_report *r, const sg_key_track *kt);
/* The key gate's rule (analysis.h, sg_key_check_region): an estimate agrees with a key (tonic,
 * sg_mode) when it is that key or its relative; for a mode, its tonic or the parent major scale
 * (or that scale's relative minor). */
int sg_report_key_agrees(int est_tonic, int est_minor, int tonic, int mode);
/* Notes as the report draws them, from a note list at rate. SG_E_NOMEM. */
sg_status sg_report_set_notes(sg_report_stem *rs, const sg_note_list *nl, unsigned rate);
/* Copies what t measured into w (w owns the copy). SG_E_NOMEM. */
sg_status sg_report_wave_from(sg_report_wave *w, const sg_trace *t);

/* ---- the writer --------------------------------------------------------------------------- */

/* The page as a string (free with free()); NULL when out of memory. Every text that comes from
 * a spec, a file or a measurement is HTML-escaped. */
char *sg_report_html(const sg_report *r);
/* Writes the page to path through a temporary name and a rename. */
sg_status sg_report_write_html(const sg_report *r, const char *path, sg_diag *d);

#ifdef __cplusplus
}
#endif
#endif
