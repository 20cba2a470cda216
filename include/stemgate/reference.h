/* stemgate reference tracks: "here is the drum track, 140 BPM — build the instrumental on it,
 * tightly synchronised".
 *
 * The client's reference file is read in any format libsndfile reads, conformed to the project's
 * rate and channel count with libsamplerate SRC_SINC_BEST_QUALITY (bandlimited interpolation,
 * J. O. Smith, "Digital Audio Resampling"), measured, and the song's grid is locked to it:
 *
 *   tempo         sg_tempo_estimate (Ellis 2007 onset-autocorrelation comb, refined by a
 *                 least-squares fit of onset times to beat numbers) with the spec's tempo as
 *                 its octave hint and the centre of its log-Gaussian prior, so the octave
 *                 follows the spec (70 vs 140 with hats on the eighths is genuinely ambiguous)
 *                 while a 132-vs-140 BPM difference (6 %, a tenth of an octave) is seen in full.
 *   beats and    sg_beat_track_onsets: a smooth tempo curve (penalised least squares of beat
 *   first downbeat times against the onsets on the beat grid, third-difference penalty:
 *                 Whittaker-Henderson graduation, Eilers 2003) from the measured tempo and
 *                 phase, so a drifting or ramping drummer is followed beat by beat without his
 *                 hit-to-hit jitter; then the bar position with the strongest kick, accent
 *                 (crash) and fill-before evidence, the first downbeat being that position's
 *                 first beat at or after the first onset (a pickup lies before it).
 *                 sg_downbeat_estimate (one global grid) is the fallback for sparse material.
 *   drift         sg_drift_estimate: a least-squares line through onset times against beat
 *                 numbers on the grid the song will use; reported in ms over the file and as a
 *                 tempo ratio, and projected over the part of the song the reference plays.
 *   tempo map     the tracked beats from the first downbeat to the end of the file: one frame
 *                 per quarter note, for sg_timeline_set_tempo_map (drums.follow_tempo_map),
 *                 which the MIDI files' tempo events follow.
 *   sync          sg_align_files: cross-correlation of onset envelopes at the start and the end
 *                 of a rendered file against the conformed reference, searched within 0.2 beat
 *                 (drums repeat every eighth note: a wider search aliases); then the median-
 *                 guarded mean difference of matched attack times (sg_onsets_pick, ~1 ms),
 *                 because the envelope peak sits a few ms differently for a pluck and a kick
 *                 that start on the same sample. A file containing the reference (the master)
 *                 keeps sg_align's sample-domain refinement instead.
 *
 * Every measurement lives in the analysis module; this module holds only the reference-specific
 * policy: which tempo builds the grid, where the grid starts, how a short or long reference is
 * fitted to the song (trim with a fade, fade-and-pad, or bar-loop with equal-power crossfades),
 * and when a sync measurement is meaningful.
 *
 * How the pipeline uses it (step 2 "reference", then the drums step and every sync gate):
 *
 *     sg_reference ref;                       // caller-owned; sg_reference_free at the end
 *     sg_reference_prepare(song, NULL, cfg, "work/reference.wav", &ref, &gates, &d);
 *     if (song->tempo_auto) song->tempo = ref.tempo_grid;   // == tempo_measured then
 *     sg_timeline_build(song, &tl, &d);
 *     sg_reference_align(&ref, song, &tl, cfg, &gates, &d); // origin, tempo map, length, drift
 *     sg_reference_write_drums(&ref, song, &tl, NULL, "work/stems/Drums.wav", "Drums",
 *                              &gates, &d);
 *     ... render each stem on tl ...
 *     sg_reference_sync_check(&ref, song, "stems/Bass.wav", "Bass", 0, NULL, &res, &gates,
 *                             "stems", &d);
 *     sg_reference_sync_check(&ref, song, "master.wav", "master", 1, NULL, &res, &gates,
 *                             "master", &d);
 *
 * Every function appends its checks to the gate report (step "reference" unless told
 * otherwise) and returns SG_E_GATE when a required check fails, with d naming step, stem,
 * check, measured value and limit. The sg_reference struct is the report the pipeline writes
 * into manifest.json and the notes (sg_reference_describe gives the lines of text). */
#ifndef STEMGATE_REFERENCE_H
#define STEMGATE_REFERENCE_H

#include "stemgate/core.h"
#include "stemgate/gate.h"
#include "stemgate/io.h"
#include "stemgate/spec.h"
#include "stemgate/timing.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Gate step name used for every check of this module unless the caller names another. */
#define SG_REFERENCE_STEP "reference"

typedef struct sg_reference_config {
  double trim_fade_ms;        /* fade-out ending at the song end when the reference is longer;
                                 default 20, clamped 1..500                                      */
  double pad_fade_ms;         /* fit: fade — fade-out ending at the last whole bar line inside the
                                 reference, then silence; default 20, clamped 1..500            */
  double loop_xfade_ms;       /* fit: loop — equal-power crossfade ending at each looped bar line,
                                 so the incoming downbeat is never smeared; default 10, 1..100  */
  int loop_bars;              /* bars in the loop (the last whole bars of the reference); 0 picks
                                 the largest of 4, 2, 1 the reference holds; default 0           */
  double tempo_prior_octaves; /* width of the tempo prior around the spec's tempo, octaves;
                              default 0.5 (tempo: auto uses the estimator's default prior)    */
  double min_downbeat_confidence; /* below this the advisory "downbeat_confidence" row warns
                              that the bar accent is weak; default 0.1, clamped 0..1          */
  double sync_max_lag_beats;      /* sync search range in beats either side; default 0.2 (86 ms at
                                   140 BPM). Drums repeat every eighth note, so a search reaching
                                   the neighbouring eighth (0.5 beat) finds its peak about as high
                                   as the true one; offsets beyond this range alias and are out of
                                   this gate's reach (a peak at the edge is reported as not
                                   measurable). Clamped 0.02..0.49                               */
  int sync_min_onsets;        /* a rendered file needs this many onsets (over the whole file, and
                                 at least a quarter of them in each of the start and end windows)
                                 for its sync to be measurable; default 8                        */
  double sync_min_similarity; /* and this normalised onset-envelope correlation at the peak;
                              default 0.2                                                      */
} sg_reference_config;

/* Documented defaults above. */
void sg_reference_config_init(sg_reference_config *c);

/* How the reference was fitted to the song length. */
typedef enum sg_reference_fit {
  SG_REF_FIT_NONE = 0, /* not decided yet (before sg_reference_align)                         */
  SG_REF_FIT_EXACT,    /* the reference is exactly as long as the song                        */
  SG_REF_FIT_TRIM,     /* longer: cut at the song end after a trim_fade_ms fade                */
  SG_REF_FIT_FADE,     /* shorter, fit: fade — faded at its last whole bar, padded with silence */
  SG_REF_FIT_LOOP      /* shorter, fit: loop — its last whole bars repeat on the grid          */
} sg_reference_fit;

/* "none", "exact", "trim", "fade", "loop". */
const char *sg_reference_fit_name(sg_reference_fit f);

/* The reference as read, conformed, measured and fitted: the report the pipeline writes into
 * the manifest and notes. Plain data except tempo_map and onset_times (owned;
 * sg_reference_free). */
typedef struct sg_reference {
  /* ---- input and conform (sg_reference_prepare) ---- */
  char source_path[SG_MAX_PATH]; /* the client's file                                          */
  char work_path[SG_MAX_PATH];   /* the conformed float32 file every later step reads          */
  sg_audio_info input;           /* format as read                                             */
  sg_audio_info work;            /* format after conforming (song rate/channels, float32)      */
  char input_desc[96];           /* "wav 44100 Hz pcm16 mono, 31.200 s"                        */
  char conversion[192];          /* "44100 Hz pcm16 mono -> 48000 Hz float32 stereo,
                                    libsamplerate SINC_BEST"                                  */
  /* ---- tempo (sg_reference_prepare) ---- */
  double tempo_bpm;          /* measured, full precision                                   */
  double tempo_bpm_acf;      /* the autocorrelation estimate before the grid fit           */
  double tempo_confidence;   /* normalised onset autocorrelation at the beat period, 0..1  */
  size_t onsets;             /* onsets found in the reference                               */
  sg_decimal tempo_measured; /* measured tempo as an exact 2-decimal value (13200/100)      */
  sg_decimal tempo_grid;     /* the tempo the grid must be built with: the spec's tempo, or
                                tempo_measured with tempo: auto                            */
  double tempo_grid_bpm;     /* tempo_grid as a double                                      */
  /* ---- first downbeat (sg_reference_prepare) ---- */
  double first_downbeat_s;    /* measured, seconds from the start of the conformed file     */
  double downbeat_confidence; /* 0..1 (sg_downbeat_result.confidence)                        */
  int64_t origin_frame;       /* frame for sg_timeline_set_origin: the first downbeat (0 when
                                 drums.align is off)                                        */
  double offset_ms;           /* the offset applied to the grid, origin_frame in ms          */
  /* ---- drift against the grid tempo (sg_reference_prepare) ---- */
  double drift_ms;         /* fitted beat line minus the grid, last minus first matched
                              beat, ms (> 0: the reference is late = slower)             */
  double drift_span_s;     /* between those beats, s                                       */
  double tempo_ratio;      /* grid beat period / measured period (0.999: 0.1 % slower)    */
  double beat_residual_ms; /* RMS of onsets about the fitted line, ms                     */
  /* ---- tempo map (sg_reference_prepare; used by sg_reference_align when following) ---- */
  int64_t *tempo_map; /* frame of quarter note 0.. (quarter 0 = the first downbeat),
                         measured through the end of the reference, then (by
                         sg_reference_align, when following) extended to the song
                         end at the least-squares period of its last 16 beats; owned */
  size_t n_tempo_map;
  int follows_tempo_map; /* 1 once sg_reference_align gave it to the timeline          */
  double *onset_times;   /* refined onset times of the conformed reference, s; owned;
                            the sync gates match rendered onsets against them         */
  size_t n_onset_times;
  /* ---- fit to the song (sg_reference_align, sg_reference_write_drums) ---- */
  int64_t song_frames;       /* timeline total_frames (origin included)                     */
  double projected_drift_ms; /* drift over the part of the song the reference plays          */
  sg_reference_fit fit;
  double fit_fade_ms;     /* trim or pad fade length, ms                                  */
  int64_t fit_cut_frame;  /* trim: song end; fade: the bar line where the fade ends;
                             loop: the bar line where looping starts                    */
  int loop_bars;          /* loop: bars repeated                                          */
  int64_t loop_src_frame; /* loop: first frame of the looped bars in the reference        */
  double loop_xfade_ms;
  char fit_desc[192];   /* "loop: last 4 bars from bar 7 repeated from 0:16.037 with
                           10 ms equal-power crossfades"                              */
  int64_t drums_frames; /* frames written by sg_reference_write_drums                   */
} sg_reference;

/* Step 2. Overwrites *ref (call sg_reference_free first when reusing one). Reads the reference
 * (source_path, or song->drums.reference resolved against the spec's folder when NULL), describes
 * its format, conforms it into work_path (float32 at song->sample_rate and song->channels;
 * directories are created), and measures tempo, first downbeat, drift against the grid tempo and a
 * tempo map. cfg may be NULL (defaults).
 *
 * Checks appended to gates (step "reference", stem "reference"):
 *   readable (text; required)       the file opens and decodes; measured: its description
 *   conform (text; advisory)        the conversion applied
 *   tempo (required)                |measured - spec| <= drums.tempo_tolerance_bpm, BPM
 *                                   (0, the value of a zeroed struct, means the default 1)
 *                                   (the spec's tempo settles the octave: 70 vs 140); with
 *                                   tempo: auto an info row with the measured tempo; no
 *                                   periodic onsets at all fails either way
 *   tempo_confidence (info)
 *   first_downbeat (info, ms)       and the offset the grid will start at
 *   downbeat_confidence (advisory)  >= cfg->min_downbeat_confidence: a clear bar accent
 *   drift (info, ms)                over the measured span of the file, and the tempo ratio
 *
 * Returns SG_OK, SG_E_GATE (a required check failed: d names it), SG_E_INVAL, SG_E_NOMEM, or
 * the reader's/converter's error (SG_E_IO, SG_E_FORMAT, with d naming the file) after a failed
 * "readable" row. On any return *ref is valid for sg_reference_free. */
sg_status sg_reference_prepare(const sg_song *song, const char *source_path,
                               const sg_reference_config *cfg, const char *work_path,
                               sg_reference *ref, sg_gate_report *gates, sg_diag *d);

/* After the pipeline built the timeline (with ref->tempo_grid when tempo: auto): sets the grid
 * origin to the first downbeat (drums.align), hands the tempo map to the timeline when
 * drums.follow_tempo_map (tl keeps a pointer into ref: ref must outlive tl's use; following
 * implies alignment: quarter 0 is the measured first downbeat), records the song length and
 * decides the fit policy.
 *
 * Checks (step "reference", stem "reference"):
 *   origin (info, ms)               the offset applied
 *   length (required)               reference frames >= song frames, or, when shorter, the
 *                                   fit policy can extend it: fade always can; loop needs at
 *                                   least one whole bar after the first downbeat (measured in
 *                                   bars, limit 1); the row's detail says which
 *   drift_over_song (required unless following the tempo map, then info)
 *                                   |projected drift| <= limits.sync_ms, ms: the reference's
 *                                   tempo against the grid over the part of the song it plays
 * Returns SG_OK, SG_E_GATE, SG_E_INVAL. */
sg_status sg_reference_align(sg_reference *ref, const sg_song *song, sg_timeline *tl,
                             const sg_reference_config *cfg, sg_gate_report *gates, sg_diag *d);

/* The Drums stem from the reference: the conformed reference trimmed or extended to exactly
 * tl->total_frames, per ref->fit (decided by sg_reference_align). wcfg may be NULL: then the
 * song's rate, channels and format, PCM16 dither seeded from song->seed and the stem name.
 * A given wcfg must have the work file's rate and channel count (SG_E_INVAL otherwise).
 *
 * Checks (step "reference", stem stem_name): fit (info: the policy as applied), length
 * (required: frames written == song frames). Returns SG_OK, SG_E_GATE, SG_E_INVAL, SG_E_NOMEM
 * or an I/O error. */
sg_status sg_reference_write_drums(sg_reference *ref, const sg_song *song, const sg_timeline *tl,
                                   const sg_audio_writer_config *wcfg, const char *out_path,
                                   const char *stem_name, sg_gate_report *gates, sg_diag *d);

/* Result of one sync measurement. */
typedef struct sg_reference_sync {
  int measurable;       /* 0: not enough rhythmic content; see reason                        */
  double offset_ms;     /* rendered minus reference at the start, ms (> 0: rendered late)     */
  double end_offset_ms; /* the same in the end window                                          */
  double drift_ms;      /* end minus start, ms                                                 */
  double drift_ratio;   /* drift per second of material (0.001 = 0.1 %)                        */
  double similarity;    /* onset-envelope correlation at the peak, 0..1                        */
  size_t onsets;        /* onsets found in the rendered file                                   */
  size_t onsets_start, onsets_end;   /* ... in the start and end alignment windows                */
  size_t matched_start, matched_end; /* onsets matched to reference onsets in each window       */
  char method[32];  /* how the offsets were measured: "onset match" (median difference of
                       matched refined onset times, ~1 ms), "waveform" (sample-domain
                       cross-correlation, the file contains the reference) or "envelope"
                       (onset-envelope correlation only, a few ms)                         */
  char reason[192]; /* why it is not measurable (empty when it is)                         */
} sg_reference_sync;

/* Sync gate for a rendered file (a stem or the master) against the conformed reference: the
 * start offset and the end-to-end drift by sg_align_files, each |x| <= song->limits.sync_ms
 * (10 ms when unset). A file with too few onsets (a sustained pad) or whose onset envelope does
 * not correlate with the reference's cannot be measured honestly: then one advisory row "sync"
 * with the reason, unless must_measure (the master, which contains the drums): then a required
 * failure. step NULL means "reference". The rendered file must have the reference's rate.
 *
 * Checks (stem stem_name): sync_offset, sync_drift (required, ms), or sync (advisory/required
 * when not measurable). Returns SG_OK, SG_E_GATE, SG_E_INVAL, SG_E_UNSUPPORTED (rate differs)
 * or the reader's error. res may be NULL. */
sg_status sg_reference_sync_check(const sg_reference *ref, const sg_song *song,
                                  const char *rendered_path, const char *stem_name,
                                  int must_measure, const sg_reference_config *cfg,
                                  sg_reference_sync *res, sg_gate_report *gates, const char *step,
                                  sg_diag *d);

/* Lines of text for the notes ("Reference: wav 44100 Hz pcm16 mono ...", tempo, downbeat,
 * drift, fit), each ending in '\n'. Writes at most cap bytes, always NUL-terminated; returns
 * out. */
char *sg_reference_describe(const sg_reference *ref, char *out, size_t cap);

/* Frees the tempo map and onset times. Safe with NULL and on a zeroed struct; safe to call twice.
 */
void sg_reference_free(sg_reference *ref);

#ifdef __cplusplus
}
#endif
#endif
