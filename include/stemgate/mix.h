/* stemgate mix: the audio between the instruments and the package.
 *
 *  - sg_mix_render_dry: an instrument playing a note list, streamed to a WAV of exactly the
 *    song's length; notes still ringing at the song end are cut with a raised-cosine fade.
 *  - sg_mix_stem_fx: a dry stem through its effect chain (with an optional sidechain stem),
 *    then gain (dB) and constant-power pan; processing latency is compensated so the stem stays
 *    sample-aligned; effect tails that would ring past the song end are measured, reported and
 *    cut with a fade — never a click.
 *  - sg_mix_master: every final stem summed with headroom, bus processing, loudness
 *    normalisation to an integrated target (ITU-R BS.1770-4 / EBU R 128, measured by
 *    the gate's sg_meter), a look-ahead true-peak limiter and, after it, a true-peak guard keyed
 *    by the gate meter's own interpolator (sg_tp_guard). Normalisation is iterative and
 * offline: pass 1 measures the bus (and predicts the limiter's loudness cost from it, so the
 *    first limited pass usually lands), later passes set the limiter's input gain until the
 *    measured loudness of the limited output is within a quarter of the tolerance of the target,
 * and lower the limiter's ceiling should the gate's true-peak meter read above it. The bus is
 *    rendered once, to a temporary float file beside out_path (unlinked while open); each
 *    limited pass reads it, and the accepted pass's frames (kept in a second such file) are the
 *    ones written: disk, not memory, holds the song (2 x 8 bytes a frame while it runs).
 *
 * Every writer is metered as it streams (sg_meter as the writer's tap): the gates read the
 * meter, never the file. Where a function takes a meter, NULL keeps the writer config's own tap
 * (so a caller can attach a meter and feature extractor together). Memory is flat: one block per
 * stream. */
#ifndef STEMGATE_MIX_H
#define STEMGATE_MIX_H

#include "stemgate/analysis.h"
#include "stemgate/core.h"
#include "stemgate/fx.h"
#include "stemgate/io.h"
#include "stemgate/notes.h"
#include "stemgate/spec.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SG_MIX_BLOCK 4096      /* frames per processing block */
#define SG_MIX_END_FADE_MS 20  /* raised-cosine fade at the song end */
#define SG_MIX_TEMPO_SLICE 256 /* frames between tempo updates of a chain following a tempo map */
/* The master's true-peak guard (sg_tp_guard, the meters' own interpolator) holds the output this
 * far under the limiter's ceiling: room for the float rounding of the meters' sums and the
 * written file's quantisation, so the first limited pass passes the
 * true-peak rule. */
#define SG_MIX_GUARD_MARGIN_DB 0.05

typedef struct sg_synth sg_synth;

/* Renders notes with synth into path: exactly `frames` frames, song channels and format.
 * The meter (created by the caller, may be NULL) sees every block. Reports the peak level of
 * what rang past the end (dBFS, SG_SILENCE_DB when nothing did) in *cut_db (may be NULL). */
sg_status sg_mix_render_dry(sg_synth *synth, const sg_note_list *notes, int64_t frames,
                            const char *path, const sg_audio_writer_config *wcfg, sg_meter *meter,
                            double *cut_db, sg_diag *d);

typedef struct sg_stem_fx_job {
  const char *dry_path;  /* input, exactly `frames` long */
  const char *side_path; /* sidechain source (dry stem), or NULL */
  const char *out_path;
  const sg_effect_spec *fx; /* chain from the spec */
  int n_fx;
  const char *spec_file; /* for diagnostics */
  double gain_db, pan;
  double bpm;
  int64_t frames;
  int64_t fade_frames;         /* raised-cosine fade-out ending at `frames` (the fade ending); when
                                  shorter than SG_MIX_END_FADE_MS, that end fade */
  sg_audio_writer_config wcfg; /* rate, channels, format of the output */
  sg_fx_tap_fn fx_tap;         /* optional: sees each effect's input and output */
  void *fx_tap_user;
  /* Optional: a song whose tempo changes (tempo_at gives quarter notes per minute at a song
   * frame, e.g. sg_timeline_tempo_at; tempo_min_bpm the slowest): tempo-synced delays follow it,
   * told every SG_MIX_TEMPO_SLICE frames. NULL: the constant bpm above. */
  double (*tempo_at)(const void *user, int64_t frame);
  const void *tempo_user;
  double tempo_min_bpm;
  /* Optional: the dry stem read from a stream as it is being produced instead of from dry_path
   * (which then only names it in messages): n frames as planar L and R, zeros past its end,
   * the same samples a read of the finished file returns. */
  sg_status (*dry_read)(void *user, float *L, float *R, size_t n, sg_diag *d);
  void *dry_user;
} sg_stem_fx_job;

typedef struct sg_stem_fx_report {
  size_t latency_frames;        /* compensated */
  size_t tail_frames;           /* how long the chain rings */
  double tail_cut_db;           /* peak of what rang past the song end (cut with a fade) */
  double gain_reduction_max_db; /* largest compressor/limiter gain reduction in the chain */
  char chain[2048];             /* sg_fx_chain_describe */
} sg_stem_fx_report;

sg_status sg_mix_stem_fx(const sg_stem_fx_job *job, sg_meter *meter, sg_stem_fx_report *rep,
                         sg_diag *d);

typedef struct sg_master_job {
  const char *const *stem_paths; /* final stems, each exactly `frames` long */
  int n_stems;
  const char *out_path;
  const sg_effect_spec *bus_fx; /* optional bus processing before the limiter */
  int n_bus_fx;
  const char *spec_file;
  double target_lufs, tolerance_lu, ceiling_dbtp, headroom_db;
  double bpm;
  int64_t frames;
  sg_audio_writer_config wcfg;
  sg_fx_tap_fn fx_tap; /* optional: sees each bus effect's input and output (the bus pass) */
  void *fx_tap_user;
  /* Optional: section boundaries in song frames (n_sections + 1 ascending values) for the
   * limiter's gain reduction per section; NULL/0: none. */
  const int64_t *section_bounds;
  int n_sections;
  /* Optional: a song whose tempo changes (tempo_at gives quarter notes per minute at a song
   * frame, e.g. sg_timeline_tempo_at; tempo_min_bpm the slowest): tempo-synced delays follow it,
   * told every SG_MIX_TEMPO_SLICE frames. NULL: the constant bpm above. */
  double (*tempo_at)(const void *user, int64_t frame);
  const void *tempo_user;
  double tempo_min_bpm;
  /* Optional: lets a limited pass whose drive was predicted (usually the first; see
   * no_prediction) stream to the writer while it is measured (that drive is usually the one
   * accepted, and then nothing is rendered again).
   * Should the pass not be accepted, its file is dropped and restart(restart_user) must set
   * the writer's taps (wcfg.tap, bext_final) back to measuring nothing yet; the search goes on
   * as without it. The written master is the same bytes either way. NULL: each pass is measured
   * first and the accepted one written after it. Not used when a meter is given. */
  sg_status (*restart)(void *restart_user, sg_diag *d);
  void *restart_user;
  /* Optional, with restart: the integrated loudness and true peak (as sg_meter_result's
   * integrated_lufs and true_peak_dbtp) the writer's tap measured of a streamed pass, asked once
   * the pass is written. A pass is judged on its frames with the end fade, as a float32 file
   * holds them; for a float32 master those are the frames the tap sees, so a streamed pass then
   * measures nothing itself. Ignored for PCM (the tap sees quantised frames). */
  sg_status (*measured)(void *restart_user, double *lufs, double *tp_dbtp, sg_diag *d);
  /* Optional: the bus kept as a file at bus_path (its planar float blocks, then its loudness and
   * peak histogram), so a later master whose bus is the same (same stems, bus effects, headroom,
   * grid) only runs the limited passes: bus_reuse 0 renders the bus there (its SHA-256 in the
   * report), 1 reads it instead of rendering (fx_tap is then not called; a file that does not
   * fit this job is rendered again). NULL: a temporary file, gone with the master. */
  const char *bus_path;
  int bus_reuse;
  /* Tests: 1 sets every drive without the limiter's predicted loudness cost (the first at the
   * target minus the bus's loudness), the search as when the prediction misses. */
  int no_prediction;
} sg_master_job;

typedef struct sg_master_report {
  double bus_lufs;           /* loudness of the bus before normalisation */
  double gain_db;            /* normalisation gain into the limiter */
  double limiter_max_gr_db;  /* largest limiter gain reduction */
  double ceiling_dbtp;       /* limiter ceiling used (below the target where the meter's
                                true-peak interpolator read higher than the limiter's) */
  int passes;                /* offline passes run: the bus, then each limited pass */
  double limiter_mean_gr_db; /* limiter gain reduction, dB averaged over the song's frames */
  double section_gr_db[SG_MAX_SECTIONS]; /* the same per section (job's section_bounds) */
  /* The true-peak guard after the limiter: its threshold (ceiling - SG_MIX_GUARD_MARGIN_DB) and
   * its largest gain reduction (dB) in the written pass. */
  double guard_dbtp, guard_max_gr_db;
  /* A limited pass streamed to the writer (job.restart): 1 and accepted, it is the master; -1
   * the last one streamed was dropped, the search went on; 0 not tried (no restart, a meter
   * given, or no prediction and more than a few frames over the limiter's threshold at the first
   * drive). */
  int streamed;
  /* job.bus_path: 1 when the kept bus was read instead of rendered; else the SHA-256 of the bus
   * file written there (empty without bus_path). */
  int bus_reused;
  char bus_sha256[65];
  char chain[2048];
} sg_master_report;

/* meter: created by the caller with SG_METER_ALL; measures the final written master. */
sg_status sg_mix_master(const sg_master_job *job, sg_meter *meter, sg_master_report *rep,
                        sg_diag *d);

#ifdef __cplusplus
}
#endif
#endif
