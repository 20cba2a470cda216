/* stemgate analysis: the measurements behind every gate and `stemgate verify`.
 *
 * Nothing here knows how audio was made; everything streams over blocks of interleaved float so
 * memory grows only with small per-frame feature arrays (a 10-minute stereo file needs a few MB,
 * never the 10 minutes of full-rate audio). Methods, by name:
 *
 *  - Loudness and loudness range: ITU-R BS.1770-4 / EBU R 128, EBU Tech 3341/3342, measured by
 *    stemgate's own K-weighting and gating (src/analysis/loudness.c; tested against libebur128
 *    within 0.01 LU, LRA from 10 Hz short-term values per Tech 3342 2016). True peak: BS.1770-4
 * Annex 2, 4x polyphase oversampling below 96 kHz (2x below 192 kHz) by sg_truepeak
 * (stemgate/dsp.h) with libebur128's interpolation filter, in float blocks that vectorise (readings
 * within 1e-5 dB of EBUR128_MODE_TRUE_PEAK, ~10x faster).
 *  - Onset strength: spectral flux of log-compressed magnitudes in log-frequency bands (Dixon
 *    2006, "Onset detection revisited"; log compression and the logarithmic filterbank after
 *    Klapuri 1999 / Böck, Krebs & Schedl 2012), peak picking with a local-maximum and local-mean
 *    threshold (Böck et al. 2012); attack times refined on a ~1 ms energy envelope.
 *  - Beat phase and downbeat: the onset grid gathering the most onset strength; the downbeat as
 *    the bar position with the strongest accent (onset plus low-band energy rise).
 *  - Beat tracking of a drifting or ramping drummer: beat times as a penalised least-squares
 *    fit to the onsets on the beat grid (Whittaker-Henderson graduation with a third-difference
 *    penalty, Eilers 2003, "A perfect smoother"), downbeat by bar-position evidence (kick,
 *    accent, fill before), src/analysis/beats.c.
 *  - Tempo: autocorrelation of the onset envelope with a harmonic comb and a log-Gaussian tempo
 *    prior around 120 BPM (Ellis 2007, "Beat tracking by dynamic programming"), refined by
 *    parabolic interpolation of the comb score and a strength-weighted least-squares fit of
 *    onset times to beat numbers (which also gives drift).
 *  - Chroma: harmonic/percussive separation by median filtering (Fitzgerald 2010, "Harmonic/
 *    percussive separation using median filtering", soft Wiener masks); in the bass register
 *    (fundamentals 27.5-180 Hz, spectrum from ~24 Hz) a pitch-salience step — harmonic summation
 *    with iterative estimation and cancellation (Klapuri 2006) and a spectral-smoothness limit on
 *    the partials (Klapuri 2003) — credits the partials of low notes to their fundamentals; the
 *    rest is a semitone-folded magnitude spectrum (Fujishima 1999, "Pitch class profile") around
 *    the tuning measured from the spectral peaks.
 *  - Key: correlation of a chroma vector with the 24 rotations of a key profile (Krumhansl &
 *    Kessler 1982 probe-tone ratings, or Temperley's Kostka-Payne profile, Temperley 2007);
 *    the tonic from the profile, the bass-register chroma, a strong-beat chord-root histogram and
 *    the phrases' first and final chords, then the mode on it (see sg_key_evidence_measure).
 *  - Alignment: normalised cross-correlation of onset envelopes (direct, O(window x lags), cheap
 *    at ~190 Hz), then of amplitude envelopes (rate / 8), then of the waveform in a short window,
 *    each stage searching around the last with parabolic peak interpolation (sub-sample).
 *  - Decay: Schroeder backward integration (Schroeder 1965, "New method of measuring
 *    reverberation time") with noise-energy subtraction (Chu 1978) and a T20/T10 line fit
 *    (ISO 3382-1); echo as an envelope-autocorrelation peak against neighbouring lags.
 *
 * No global state: distinct objects may be used from different threads at once; one object is
 * not to be shared between threads without a lock.
 *
 * Conventions: times are seconds from the first frame; levels are dBFS where 0 dBFS is a
 * full-scale sample value of 1.0; digital silence reports -200 dB (as sg_lin_to_db does) rather
 * than -inf so every number can be written to JSON. Arrays returned through an out-pointer are
 * owned by the caller and freed with free() unless a _free function is named. */
#ifndef STEMGATE_ANALYSIS_H
#define STEMGATE_ANALYSIS_H

#include "stemgate/core.h"
#include "stemgate/theory.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The level reported for digital silence, in dB. */
#define SG_SILENCE_DB (-200.0)

/* ================================================================================ meter ==== */

/* Streaming meter: feed blocks of interleaved float as they are rendered or read; ask for the
 * result at any time. Usable directly as an sg_audio_tap_fn through sg_meter_tap. */

#define SG_METER_MAX_CHANNELS 8

enum {
  SG_METER_TRUE_PEAK = 1u << 0, /* true peak (4x oversampling)                                  */
  SG_METER_LOUDNESS = 1u << 1,  /* integrated, short-term maximum and loudness range (LRA)      */
  SG_METER_ALL = SG_METER_TRUE_PEAK | SG_METER_LOUDNESS
  /* Sample peak, RMS, DC, NaN/Inf, clipping and the activity map are always measured.          */
};

/* A sample at |x| >= SG_CLIP_LEVEL counts as clipped; SG_CLIP_RUN or more consecutive clipped
 * samples in one channel count as one clip run (a flat top, not a legitimate full-scale peak). */
#define SG_CLIP_LEVEL 0.9999f
#define SG_CLIP_RUN 3
/* A sample at |x| >= SG_SIGNAL_LEVEL (-80 dBFS) is signal for first/last_signal_frame: above
 * 24-bit dither, below anything audible in a mix. */
#define SG_SIGNAL_LEVEL 1e-4f
/* Width of one window of the activity map, seconds. */
#define SG_METER_WINDOW_S 0.05
/* DC is measured where a file plays: the Hann-weighted mean of each channel over windows of
 * SG_METER_DC_WINDOW_S, half a window apart, whose weighted RMS (all channels) reaches
 * SG_METER_DC_FLOOR_DB; quieter windows are skipped, so silence around a part cannot dilute the
 * offset it carries while it plays. An offset is steady: it counts where two consecutive windows
 * agree in sign, as the smaller of the two (1.5 s held). The Hann weight and the pairing keep
 * notes, drum hits and a plucked chord's sub-sonic swing, which turn sign within a window or
 * two, from reading as an offset (a rectangular 1 s window read 1e-3 on an offset-free kick and
 * e-piano, a lone Hann window 1.8e-3 on a nylon guitar); a steady offset reads in full.
 * A file with one full window is judged by it; one shorter than a window by its open window. */
#define SG_METER_DC_WINDOW_S 1.0
#define SG_METER_DC_FLOOR_DB -60.0

typedef struct sg_meter_result {
  int64_t frames;
  unsigned rate, channels;
  unsigned flags;                            /* what was measured (SG_METER_*)            */
  double sample_peak[SG_METER_MAX_CHANNELS]; /* max |x| per channel, linear               */
  double sample_peak_dbfs;                   /* max over channels                         */
  double true_peak[SG_METER_MAX_CHANNELS];   /* linear; 0 when SG_METER_TRUE_PEAK is off  */
  double true_peak_dbtp;                     /* max over channels; SG_SILENCE_DB when off */
  double integrated_lufs;                    /* gated (BS.1770-4); SG_SILENCE_DB when under
                                                400 ms, silent, or loudness off           */
  double short_term_max_lufs;                /* max 3 s loudness, every 100 ms            */
  double momentary_max_lufs;                 /* max 400 ms loudness, every 100 ms         */
  double loudness_range_lu;                  /* EBU Tech 3342 LRA; 0 when not available   */
  double rms[SG_METER_MAX_CHANNELS];         /* linear RMS per channel                    */
  double rms_dbfs;                           /* RMS over all channels                     */
  double dc[SG_METER_MAX_CHANNELS];          /* mean per channel over the whole file      */
  double dc_window;                          /* largest offset of a channel held over two DC
                                                windows that play (see above); 0: none    */
  int64_t dc_window_frame;                   /* first frame of that window; -1 when none  */
  unsigned dc_window_channel;                /* its channel (0-based)                     */
  uint64_t denormal_count;                   /* non-zero subnormal samples (|x| < FLT_MIN):
                                                only a float file can hold them           */
  uint64_t nan_count, inf_count;             /* non-finite samples (excluded from levels) */
  uint64_t clipped_samples;                  /* samples at |x| >= SG_CLIP_LEVEL           */
  uint64_t clip_runs;                        /* runs of >= SG_CLIP_RUN clipped samples    */
  int64_t first_signal_frame;                /* first frame with any |x| >= SG_SIGNAL_LEVEL,
                                                sample-exact; -1 when none                */
  int64_t last_signal_frame;                 /* last such frame; -1 when none             */
} sg_meter_result;

typedef struct sg_meter sg_meter;

/* Creates a meter. channels 1..SG_METER_MAX_CHANNELS, rate 8000..768000. libebur128's default
 * channel map (BS.1770-4 weights) applies (L, R, C, LFE unused, Ls, Rs); a mono file is measured as
 * one channel. Returns SG_E_INVAL for bad arguments, SG_E_NOMEM. *out is freed with sg_meter_free.
 */
sg_status sg_meter_create(sg_meter **out, unsigned channels, unsigned rate, unsigned flags,
                          sg_diag *d);
/* Adds frames of interleaved float (channels per frame). NaN/Inf are counted and treated as 0
 * for every level. May grow the activity map (amortised realloc: one float per 50 ms) and,
 * with SG_METER_LOUDNESS, the gated block store (two doubles per 100 ms: 576 kB for 60 min).
 * Returns SG_E_NOMEM (the loudness block store could not grow: integrated and LRA then read as
 * unavailable). */
sg_status sg_meter_add(sg_meter *m, const float *interleaved, size_t frames);
/* An sg_audio_tap_fn: user is the sg_meter*. */
sg_status sg_meter_tap(void *user, const float *interleaved, size_t frames);
/* Fills *r with everything measured so far. The meter can go on taking blocks afterwards. */
sg_status sg_meter_result_get(const sg_meter *m, sg_meter_result *r);
void sg_meter_free(sg_meter *m);

/* Activity map: RMS over all channels per window of sg_meter_window_frames() frames, in dBFS.
 * The last window may be partial. */
size_t sg_meter_window_frames(const sg_meter *m);
size_t sg_meter_window_count(const sg_meter *m);
/* Level of window i in dBFS (SG_SILENCE_DB past the end). */
double sg_meter_window_db(const sg_meter *m, size_t i);
/* 1 if any window overlapping frames [a, b) has a level >= threshold_db, else 0. */
int sg_meter_active(const sg_meter *m, int64_t a, int64_t b, double threshold_db);
/* First frame of the first window at or above threshold_db; -1 if none. Resolution: one window. */
int64_t sg_meter_first_active(const sg_meter *m, double threshold_db);
/* One past the last frame of the last window at or above threshold_db; -1 if none. */
int64_t sg_meter_last_active(const sg_meter *m, double threshold_db);

/* A finished measurement as a meter again (a render keeps what its writer's meter measured, for
 * the final verification to lend by content hash): the result r and the activity map as
 * sg_meter_window_db gave it, window_frames per window, one window per started window of
 * r->frames. The meter answers sg_meter_result_get (r, bit for bit) and the activity queries
 * exactly as the meter measured; it takes no more blocks (sg_meter_add: SG_E_INVAL). SG_E_INVAL
 * for an inconsistent measurement (a closed window's level that is not a float, as every meter
 * keeps it), SG_E_NOMEM. window_db NULL: the map is given afterwards by sg_meter_freeze_set (a
 * long one a window at a time; held as floats, 288 kB for 60 minutes). */
sg_status sg_meter_freeze(sg_meter **out, const sg_meter_result *r, size_t window_frames,
                          const double *window_db, size_t n_windows, sg_diag *d);
/* Windows [i0, i0 + n) of a frozen meter's activity map. SG_E_INVAL (as sg_meter_freeze). */
sg_status sg_meter_freeze_set(sg_meter *m, size_t i0, const double *window_db, size_t n);

/* Streams a file through a meter (sg_audio_reader, 64 k-frame blocks). Fills *result; when keep
 * is not NULL the meter is handed over in *keep (for the activity map) and the caller frees it.
 * Errors: those of sg_audio_reader_open/read (d names the file), SG_E_INVAL for more than
 * SG_METER_MAX_CHANNELS channels. */
sg_status sg_meter_file(const char *path, unsigned flags, sg_meter_result *result, sg_meter **keep,
                        sg_diag *d);

/* ============================================================================= features ==== */

/* One streaming pass that turns audio into the compact feature arrays all later analyses use:
 *
 *  - onset envelope: spectral flux of log magnitudes in log-frequency bands (6 per octave from
 *    30 Hz, so kick, snare and hats weigh by octaves rather than by bin counts), frame size
 *    ~43 ms (2048 at 48 kHz, scaled to the rate), hop N/8 (~187.5 Hz envelope). Frame m is
 *    centred on input frame m * hop.
 *  - low-band onset envelope: the rise of linear energy below low_cut_hz (kick, bass), used to
 *    choose the downbeat.
 *  - energy envelope: mean square of the mono downmix per block of round(rate/1000) frames
 *    (~1 ms); block j covers input frames [j * block, (j + 1) * block). Used for precise onset
 *    times, decay tails and echo detection.
 *  - chroma (available after finish): 12 pitch-class magnitudes (index 0 = C) per frame
 *    of a decimated STFT (decimation round(rate / 12000) with a windowed-sinc anti-alias FIR;
 *    4096 points at ~12 kHz, hop 1024, ~85 ms), after Fitzgerald median-filter HPSS (17 frames
 *    by 17 bins, Wiener masks): harmonic part only, so drums do not pollute it. Magnitudes are
 *    gathered in 1/5-semitone bins and folded into pitch classes around the tuning measured
 *    from the spectral peaks (sg_features_tuning_cents), not around 440 Hz. Frame j is
 *    centred on decimated frame j * hop; the HPSS look-ahead of 8 frames is flushed by finish.
 *
 * Memory an hour at 48 kHz: none. The onset and low-band envelopes (2.7 MB an hour each),
 * the energy envelope (14 MB), chroma and bass chroma (2 MB each) and the 1/5-semitone chroma
 * waiting for finish (20 MB) keep their first ~20-40 s in memory and the rest in an unlinked
 * temporary file in $TMPDIR (or /tmp), read back by window (sg_features_onset_read,
 * sg_features_low_read, sg_features_energy_read, sg_features_chroma_read) and once by finish;
 * without a temporary file they stay in memory. Nothing else in add grows with the file length. */

enum {
  SG_FEAT_ONSET = 1u << 0,  /* onset and low-band envelopes */
  SG_FEAT_ENERGY = 1u << 1, /* ~1 ms energy envelope        */
  SG_FEAT_CHROMA = 1u << 2, /* HPSS chroma                  */
  SG_FEAT_ALL = 7u
};

typedef struct sg_features_config {
  unsigned flags;     /* SG_FEAT_*; default SG_FEAT_ALL                                   */
  double low_cut_hz;  /* upper edge of the low band, Hz; default 150, clamped 40..1000     */
  double chroma_fmin; /* lowest frequency folded into chroma, Hz; default 60                */
  double chroma_fmax; /* highest, Hz; default 2000 (clamped below the decimated Nyquist)   */
} sg_features_config;

void sg_features_config_init(sg_features_config *c);

typedef struct sg_features sg_features;

/* channels >= 1, rate 8000..768000. cfg NULL means defaults. Free with sg_features_free. */
sg_status sg_features_create(sg_features **out, unsigned channels, unsigned rate,
                             const sg_features_config *cfg, sg_diag *d);
/* Adds frames of interleaved float (downmixed to mono by mean; non-finite samples read as 0,
 * samples beyond +-1e4 are clamped there).
 * Returns SG_E_INVAL after sg_features_finish, SG_E_NOMEM when a feature array cannot grow. */
sg_status sg_features_add(sg_features *f, const float *interleaved, size_t frames);
/* Flushes the analysis frames still waiting for input (zero padding). Idempotent. */
sg_status sg_features_finish(sg_features *f);
void sg_features_free(sg_features *f);
/* Frees the arrays of a finished f that flags name (SG_FEAT_ONSET: the low-band envelope only;
 * SG_FEAT_ENERGY, SG_FEAT_CHROMA), for a caller that keeps f for its onset envelope alone (an
 * alignment): their accessors then give NULL and 0. Does nothing before sg_features_finish. */
void sg_features_release(sg_features *f, unsigned flags);

/* Convenience: a whole mono buffer, finished. *out owned by the caller (sg_features_free). */
sg_status sg_features_from_mono(sg_features **out, const float *x, size_t n, unsigned rate,
                                const sg_features_config *cfg, sg_diag *d);
/* Convenience: streams a file (any format sg_audio_reader opens) in 32 k-frame blocks,
 * finished. Errors of the reader come with d naming the file. */
sg_status sg_features_from_file(sg_features **out, const char *path, const sg_features_config *cfg,
                                sg_diag *d);

/* A finished copy of the onset, low-band and energy envelopes of [t0, t1) seconds of f (the
 * rhythm features; no chroma), to analyse one stretch of a stream on its own. Free with
 * sg_features_free. SG_E_NOMEM. */
sg_status sg_features_slice(const sg_features *f, double t0, double t1, sg_features **out);
/* Finished features holding only an onset envelope (n frames at frame_rate, as
 * sg_features_onset_env gave it) of frames input frames at rate: what the alignments read, kept
 * by a render for its final verification. SG_E_INVAL, SG_E_NOMEM. */
sg_status sg_features_from_onset(sg_features **out, unsigned rate, int64_t frames, const float *env,
                                 size_t n, double frame_rate);
/* Appends n frames to the envelope of features made by sg_features_from_onset (so a long one
 * can be given a window at a time, and spooled as any other). SG_E_INVAL, SG_E_NOMEM, SG_E_IO. */
sg_status sg_features_onset_append(sg_features *f, const float *env, size_t n);

/* Accessors. Pointers stay valid until the next add or free; *n receives the element count
 * (frames of the envelope, or chroma frames with 12 floats each); *frame_rate in Hz. NULL and
 * *n = 0 when the feature was not requested. */
/* The whole onset envelope; a spooled one (past ~22 s) is loaded into memory on this call (and
 * kept until the next add or free), so analyses of long streams read it by window instead: */
const float *sg_features_onset_env(const sg_features *f, size_t *n, double *frame_rate);
size_t sg_features_onset_frames(const sg_features *f, double *frame_rate);
/* Copies onset envelope frames [start, start + n) into out, 0 past the end. SG_E_INVAL, SG_E_IO. */
sg_status sg_features_onset_read(const sg_features *f, size_t start, size_t n, float *out);
/* The whole low-band envelope; a spooled one (past ~22 s) is loaded into memory on this call,
 * so analyses of long streams read it by window instead (same frames as the onset envelope): */
const float *sg_features_low_env(const sg_features *f, size_t *n, double *frame_rate);
size_t sg_features_low_frames(const sg_features *f);
/* Copies low-band envelope frames [start, start + n) into out, 0 past the end. SG_E_INVAL,
 * SG_E_IO. */
sg_status sg_features_low_read(const sg_features *f, size_t start, size_t n, float *out);
/* The whole energy envelope; a spooled one (past ~16 s) is loaded into memory on this call, so
 * analyses of long streams read it by window instead: */
const float *sg_features_energy(const sg_features *f, size_t *n, double *frame_rate);
/* Its length in blocks (and *frame_rate), without loading it. */
size_t sg_features_energy_frames(const sg_features *f, double *frame_rate);
/* Copies energy blocks [start, start + n) into out, 0 past the end. SG_E_INVAL, SG_E_IO. */
sg_status sg_features_energy_read(const sg_features *f, size_t start, size_t n, float *out);
const float *sg_features_chroma(const sg_features *f, size_t *n, double *frame_rate);
/* Bass chroma: the part of each chroma frame the pitch-salience step credited to notes with
 * fundamentals in the bass register (27.5-180 Hz), same frames as sg_features_chroma: where
 * the roots of a song's chords are heard (tonic evidence for the key check). */
const float *sg_features_bass_chroma(const sg_features *f, size_t *n, double *frame_rate);
/* Both load a spooled chroma (past ~44 s) into memory; analyses of long streams read spans:
 * the frames of the chroma (bass 0) or the bass chroma (bass 1), and frames [start, start + n)
 * of it, 12 floats each, into out (0 past the end). SG_E_INVAL, SG_E_IO. */
size_t sg_features_chroma_frames(const sg_features *f, int bass, double *frame_rate);
sg_status sg_features_chroma_read(const sg_features *f, int bass, size_t start, size_t n,
                                  float *out);
/* Tuning of the pitched content against A4 = 440 Hz equal temperament, in cents (-50..50),
 * from the harmonic spectral peaks: a 432 Hz recording reads about -32. Chroma is folded around
 * it, so detuned material keeps its pitch classes. 0 before finish or without pitched content. */
double sg_features_tuning_cents(const sg_features *f);
unsigned sg_features_rate(const sg_features *f);
int64_t sg_features_frames(const sg_features *f); /* input frames seen */
double sg_features_duration(const sg_features *f);

/* One decode of a file feeding a meter and the features together (what `stemgate analyze` and
 * verify need), instead of reading it once per analysis. meter_result (filled), meter_out (the
 * meter handed over, for the activity map) and features_out (finished features) are each
 * optional; at least one must be given. Outputs are owned by the caller (sg_meter_free,
 * sg_features_free) and set to NULL on error. Errors: the reader's (d names the file),
 * SG_E_INVAL, SG_E_NOMEM. */
sg_status sg_analysis_file_pass(const char *path, unsigned meter_flags,
                                sg_meter_result *meter_result, sg_meter **meter_out,
                                const sg_features_config *fc, sg_features **features_out,
                                sg_diag *d);

/* =============================================================================== rhythm ==== */

typedef struct sg_onset_config {
  double delta;     /* threshold above the local mean, as a fraction of the envelope's
                       99th percentile; default 0.07                                      */
  double min_gap_s; /* minimum distance between onsets, s; default 0.03                    */
  int refine;       /* 1: refine times on the ~1 ms energy envelope (needs SG_FEAT_ENERGY);
                       default 1                                                          */
} sg_onset_config;

void sg_onset_config_init(sg_onset_config *c);

typedef struct sg_onset_list {
  double *time;    /* s, ascending                                    */
  float *strength; /* onset envelope value at the peak                */
  float *low;      /* low-band envelope value at the peak             */
  size_t n;
} sg_onset_list;

/* Picks onsets from the onset envelope: local maxima over +-20 ms that exceed the mean over
 * [-100 ms, +70 ms] by delta, at least min_gap_s apart. Refined times mark the 1 ms block
 * within [-35 ms, +20 ms] of the envelope peak that rises most above the loudest block of the
 * 10 ms before it, i.e. the start of the attack, placed inside that block by how much of it
 * the step fills (sub-millisecond for sharp attacks). *out owns its arrays: free
 * with sg_onset_list_free (also after an error). Returns SG_E_INVAL without an onset envelope,
 * SG_E_NOMEM. Silence gives an empty list and SG_OK. */
sg_status sg_onsets_pick(const sg_features *f, const sg_onset_config *cfg, sg_onset_list *out);
void sg_onset_list_free(sg_onset_list *l);

typedef struct sg_tempo_config {
  double min_bpm, max_bpm; /* search range; default 50..220                              */
  double prior_bpm;        /* centre of the log-Gaussian prior; default 120               */
  double prior_octaves;    /* its standard deviation in octaves; default 1.0              */
  double half_ratio;       /* switch to the double tempo when the autocorrelation at half
                              the period is at least this fraction of that at the period:
                              onsets then fall as strongly between the beats as on them;
                              default 0.8                                                */
  double hint_bpm;         /* expected tempo (from a spec), 0 for none: the estimate moves by
                              whole octaves (x2, /2) to the one nearest the hint, then is
                              refined on the material. Octave ambiguity (70 vs 140 with
                              eighth-note hats, 87 vs 174 for drum and bass) is real, and
                              only the expectation can settle it; default 0              */
} sg_tempo_config;

void sg_tempo_config_init(sg_tempo_config *c);

typedef struct sg_tempo_result {
  double bpm;         /* final estimate                                                   */
  double bpm_acf;     /* from the comb-weighted autocorrelation alone                     */
  double confidence;  /* normalised autocorrelation at the beat period, 0..1              */
  double phase_s;     /* time of a beat (0 <= phase_s < 60/bpm), from onsets              */
  size_t onsets_used; /* onsets in the least-squares grid fit (0: ACF estimate kept)      */
} sg_tempo_result;

/* Tempo of the whole feature stream. onsets (optional, borrowed) are those of f; NULL picks
 * them with defaults. The ACF estimate is replaced by the grid regression when at least 8
 * onsets match and the two agree within 0.5%. Returns SG_E_NOTFOUND when the material has no
 * periodic onsets (confidence under 0.1) or fewer than 4 onsets (bpm = 0; out zeroed),
 * SG_E_INVAL for a bad config or a missing onset envelope. */
sg_status sg_tempo_estimate(const sg_features *f, const sg_onset_list *onsets,
                            const sg_tempo_config *cfg, sg_tempo_result *out);

/* The tempo check shared by the render gates and `stemgate verify`: the tempo of the whole
 * stream estimated with the expected tempo as prior, then read at the metrical level nearest
 * the expectation. A beat tracker may lock to another level of the same pulse — double or half
 * time, dotted beats (x3/2), triplets (x2/3), and their octaves (x3/4, x4/3, x3, x1/3) — and no
 * onset-based estimator can tell them apart reliably (Ellis 2007, sec. 4); those are the same
 * tempo, 5 % off is not. The caller compares folded_bpm with the expectation. SG_E_NOTFOUND when
 * nothing periodic is found. */
typedef struct sg_tempo_check {
  sg_tempo_result est;    /* the estimate as measured                                   */
  double folded_bpm;      /* est.bpm divided by the chosen level                          */
  double level;           /* est.bpm / folded_bpm: 1, 2, 1/2, 3/2, 2/3, 3/4, 4/3, 3, 1/3  */
  const char *level_name; /* "" for 1, else "double time", "half time", "dotted beats", ... */
} sg_tempo_check;

sg_status sg_tempo_check_against(const sg_features *f, double expected_bpm, sg_tempo_check *out);
/* The same over the stretch [t0, t1) seconds of the stream (a section of a song whose tempo
 * changes): est.phase_s counts from t0. */
sg_status sg_tempo_check_range(const sg_features *f, double t0, double t1, double expected_bpm,
                               sg_tempo_check *out);

typedef struct sg_grid_fit {
  size_t onsets;         /* onsets considered                                             */
  double mean_abs_dev_s; /* mean |onset - nearest grid line|                              */
  double max_abs_dev_s;  /* max of the same                                               */
  double mean_dev_s;     /* signed mean (onsets late > 0)                                 */
  double on_grid_frac;   /* fraction within tolerance_s                                    */
} sg_grid_fit;

/* Deviation of onsets from the grid origin_s + k * 60 / (bpm * subdivision). subdivision >= 1
 * (1 = beats, 2 = eighths, 4 = sixteenths). tolerance_s for on_grid_frac. Every onset counts,
 * so a fill or a flam shows; SG_E_INVAL for bpm <= 0 or subdivision < 1. */
sg_status sg_grid_fit_onsets(const sg_onset_list *onsets, double bpm, double origin_s,
                             int subdivision, double tolerance_s, sg_grid_fit *out);

typedef struct sg_downbeat_result {
  double first_downbeat_s; /* first downbeat at or after the first onset (minus half a beat) */
  double beat_phase_s;     /* 0 <= phase < beat period: any beat time modulo the period       */
  int bar_position;        /* which beat of the bar (counted from the beat at phase) is 1     */
  double confidence;       /* (best - second) / best of the bar-position scores, 0..1         */
} sg_downbeat_result;

/* Beat phase: the onset whose beat grid gathers the most onset strength (Gaussian window,
 * sigma = beat / 24), refined by the weighted mean residual of onsets within an eighth of a
 * beat (so two strong streams, kick on the beat and snare off it, cannot average out); then the
 * downbeat as the bar position with the strongest accent: onset strength plus low-band onset
 * strength, each normalised by its mean, averaged per position. When the two best positions
 * score within 10% (kick on 1 and 3), the one holding the first onset wins: material usually
 * starts on a downbeat. beats_per_bar 1..32. */
sg_status sg_downbeat_estimate(const sg_onset_list *onsets, double bpm, int beats_per_bar,
                               sg_downbeat_result *out);

typedef struct sg_drift_result {
  double period_s;    /* least-squares beat period of onsets against beat numbers        */
  double tempo_ratio; /* (60 / bpm) / period_s: > 1 when the material runs faster        */
  double start_dev_s; /* fitted line minus nominal grid at the first matched beat        */
  double end_dev_s;   /* ... at the last matched beat                                     */
  double drift_s;     /* end_dev_s - start_dev_s                                          */
  double residual_s;  /* RMS of onsets about the fitted line                              */
  size_t onsets_used;
} sg_drift_result;

/* Fits onset times to a line against beat numbers on the nominal grid origin_s + k * 60/bpm
 * (onsets further than an eighth of a beat from the grid are left out). SG_E_NOTFOUND with fewer
 * than 4 matched onsets. */
sg_status sg_drift_estimate(const sg_onset_list *onsets, double bpm, double origin_s,
                            sg_drift_result *out);

/* Measured beat times for a tempo map: a phase-locked follower steps from the first beat by the
 * current period, snaps to the strongest onset within +-15% of a beat and corrects phase
 * (gain 0.5) and period (gain 0.1) by the error; beats with no onset keep the prediction.
 * *times is malloc'd (free()). */
sg_status sg_beat_times(const sg_onset_list *onsets, double bpm, double phase_s, double duration_s,
                        double **times, size_t *n);

typedef struct sg_beat_track_config {
  int beats_per_bar;   /* 1..32; default 4                                                  */
  double smooth_beats; /* the tempo curve's smoothing period in beats (cut-off of the
                          penalised fit): the drummer's hit-to-hit timing averages over it,
                          slower tempo changes stay; default 32, 2..256                        */
} sg_beat_track_config;

void sg_beat_track_config_init(sg_beat_track_config *c);

typedef struct sg_beat_track {
  double *time;            /* beat times from the first downbeat to the end of the material, s;
                              malloc'd (sg_beat_track_free)                                   */
  size_t n;                /* beats in time[]                                                 */
  double first_downbeat_s; /* == time[0]                                                      */
  int bar_position;        /* bar position chosen, counted from the grid's first beat        */
  double confidence;       /* (best - second) / best of the bar-position scores, 0..1        */
  double period_s;         /* mean beat period over time[]                                    */
  double residual_s;       /* RMS of matched onsets about the fitted beats                    */
  size_t onsets_used;      /* onsets matched to beats in the final fit                        */
} sg_beat_track;

/* Beats and first downbeat of drummer-like material (src/analysis/beats.c for the method): a
 * smooth tempo curve fitted to the onsets on beats by penalised least squares (Whittaker-
 * Henderson graduation, third-difference penalty: Eilers 2003), starting from a tempo estimate
 * (bpm and a beat time phase_s, e.g. sg_tempo_result); then the bar position with the
 * strongest kick, accent (crash) and fill-before evidence, read from f's low-band and onset
 * envelopes at each beat (f may be NULL: the onsets' own values), ties decided by the first
 * kick, and the first downbeat the first beat at that position at or after the material's
 * start: the first onset, or f's first sound within 30 dB of its loud ~1 ms blocks when
 * earlier (a hit on the file's first sample leaves no onset); a pickup lies before it. Beats run
 * to duration_s, past the last onset at the fitted end tempo. SG_E_NOTFOUND when fewer than 4
 * onsets fall on beats or the onsets span under 4 beats; out is zeroed on any error. */
sg_status sg_beat_track_onsets(const sg_features *f, const sg_onset_list *onsets, double bpm,
                               double phase_s, double duration_s, const sg_beat_track_config *cfg,
                               sg_beat_track *out);
void sg_beat_track_free(sg_beat_track *t);

/* ================================================================================ pitch ==== */

typedef enum sg_key_profile {
  SG_KEY_KRUMHANSL = 0, /* Krumhansl & Kessler 1982 probe-tone ratings (default)          */
  SG_KEY_TEMPERLEY = 1  /* Temperley 2007, Kostka-Payne corpus pitch-class distributions  */
} sg_key_profile;

typedef struct sg_keyfit {
  int tonic;         /* pitch class 0 = C .. 11 = B; -1 when no pitched content             */
  int minor;         /* 0 major, 1 minor                                                     */
  double r;          /* Pearson correlation with the profile, -1..1                          */
  double confidence; /* r(best) - r(second best key), 0..2                                   */
  double r_relative; /* r of the relative key (same pitch set, other mode: A minor for C
                        major); r - r_relative near 0 means the mode is a guess              */
} sg_keyfit;

/* (Named sg_keyfit, not sg_key: theory.h owns the musical key type; this is a measurement.)
 * Conventional spelling: majors C Db D Eb E F F# G Ab A Bb B; minors C C# D Eb E F F# G G# A
 * Bb B; then " major"/" minor" ("Ab major", "C# minor"). "none" for tonic -1. Static storage. */
const char *sg_keyfit_name(int tonic, int minor);
/* Parses the names above and enharmonic spellings ("G#", "Gb", "Ebm", "A minor", "f# min").
 * SG_E_PARSE when not a key. */
sg_status sg_keyfit_parse(const char *s, int *tonic, int *minor);

/* Key of a 12-bin chroma vector (index 0 = C). Profile correlation weighs pitch classes, not
 * order: the usual error is the relative key (an Aeolian i-VI-III-VII loop has the pitch
 * content of its relative major and reads as such). r_relative shows how close that was. */
sg_keyfit sg_key_from_chroma(const double chroma[12], sg_key_profile profile);
/* Key of chroma frames between t0 and t1 seconds (t1 <= 0: to the end). SG_E_INVAL without
 * chroma; tonic -1 when the range holds no pitched energy. */
sg_status sg_key_estimate(const sg_features *f, double t0, double t1, sg_key_profile profile,
                          sg_keyfit *out);

/* ----- tonic and mode of a key region -------------------------------------------------------
 * A pitch-class profile weighs pitch classes, not function: the relative major/minor and the
 * modes sharing a pitch-class set (E dorian, D mixolydian, G major...) correlate alike with it.
 * The tonic is therefore decided from four kinds of evidence, each a distribution over the 12
 * pitch classes, combined with fixed weights:
 *  - profile: the best of Temperley's major and minor profiles (Temperley 2001/2007) on each
 *    tonic, softened as exp((r - r_best) / 0.15) (Krumhansl 1990's tonal hierarchy: the tonic
 *    triad above the scale above the chromatic notes; blind to relatives, so weighted least);
 *                                                                                    weight 0.15
 *  - bass: a histogram of each chroma frame's strongest bass-register note
 *    (sg_features_bass_chroma), where the roots sound; the strongest, not the sum, because a
 *    root-position major triad is harmonics 4-6 of its bass and inflates its salience;
 *                                                                                    weight 0.30
 *  - roots: a chord-root histogram of the strong beats: each bar's first half matched against
 *    major and minor triad templates plus its bass; a phrase's 1st, 3rd, 5th... bars (its
 *    hyperbeats, Lerdahl & Jackendoff 1983) weighted 1, the others 0.6;              weight 0.35
 *  - cadence: each phrase's (section's) first chord and final chord (the last half of its last
 *    bar) count for their root; a final major chord also counts half for the root a fifth below
 *    (a half cadence on V);                                                          weight 0.20
 * The mode is then the scale (theory's eight: ionian..locrian and harmonic minor) on that tonic
 * that holds the most chroma; the check judges the expected key degree by degree: a degree is
 * contradicted when the other form (C against C# for a 6th) has at least twice the chroma of
 * the expected one and 0.3 of a scale note's mean.
 * (The HMM key tracking of Noland & Sandler 2006 is not used: the grid gives the bars.) */

/* The song's grid over a region: bar starts and the phrases (sections) they belong to. */
typedef struct sg_key_grid {
  const double *bar_s;   /* n_bars + 1 bar start times, s; the last is the region's end */
  int n_bars;            /* >= 1 */
  const int *phrase_bar; /* first bar (index into bar_s) of each phrase, ascending; NULL: one */
  int n_phrases;
} sg_key_grid;

typedef struct sg_key_evidence {
  int tonic;        /* most likely tonic 0..11; -1 when the region holds no pitched content */
  int second;       /* the runner-up tonic                                                */
  int mode;         /* sg_mode: the scale on that tonic holding the most chroma           */
  double margin;    /* (score[tonic] - score[second]) / score[tonic], 0..1                */
  double score[12]; /* combined, sums to 1        */
  double profile[12], bass[12], roots[12], cadence[12]; /* each sums to 1 (or all 0)  */
  double pc[12];                                        /* region chroma, sums to 1   */
  int final_root, final_minor; /* the region's last chord; root -1 when none        */
  sg_keyfit fit;               /* Temperley major/minor fit: r says whether there is a key */
} sg_key_evidence;

/* Evidence over the region g->bar_s[0] .. g->bar_s[n_bars] (its chroma over the interior: the
 * first 5 % + 1 s and the last 2 % left out, so a boundary modulation or tail does not smear
 * it). SG_E_INVAL without chroma or with a bad grid. */
sg_status sg_key_evidence_measure(const sg_features *f, const sg_key_grid *g, sg_key_evidence *out);

/* The key check shared by the render gates and `stemgate verify`: the region's evidence judged
 * against the expected key.
 *  - fail: a scale degree of the expected key contradicted (an aeolian 6th under a dorian
 *    label), or a tonic other than the expected one with a margin >= SG_KEY_TONIC_MARGIN while
 *    neither the bass, the strong-beat roots nor the phrase ends put the expected tonic first
 *    (ties included) (the relative minor's chords under a major label);
 *  - not judged (verdict -1): the tonic differs with a smaller margin, the chroma fits no key
 *    (fit.r < 0.5), or there is no pitched content;
 *  - pass otherwise. "minor" admits the raised 7th (harmonic minor) and, with it, the raised
 *    6th (melodic minor); a raised 6th over a flat 7th is dorian and fails.
 * The region must last 6 s (SG_E_RANGE otherwise). text says what was measured and why:
 * "E minor (tonic E: bass 0.61, roots 0.48, final chord Em, margin 0.31; 6th degree C not C#)". */
/* Correct charts in tests/analysis/test_key_mode.c have tonic margins >= 0.48, wrongly labelled
 * relatives 0.48-0.64; the aeolian loop Am-F-C-G reads C by 0.13, an i-IV vamp 0.06. */
#define SG_KEY_TONIC_MARGIN 0.25
typedef struct sg_key_check {
  sg_key_evidence ev;
  int verdict;    /* 1 pass, 0 fail, -1 not judged (weak evidence)                      */
  int tonic_ok;   /* the measured tonic is the expected one                              */
  int n_degrees;  /* scale degrees of the expected key contradicted                      */
  char text[256]; /* the measurement and its evidence                                    */
} sg_key_check;

sg_status sg_key_check_grid(const sg_features *f, const sg_key_grid *g, const sg_key *want,
                            sg_key_check *out);

typedef struct sg_key_track_config {
  double window_s;      /* analysis window, s; default 8                                    */
  double hop_s;         /* step, s; default 1                                               */
  double min_segment_s; /* a key must hold this long to count as a change; default 6        */
  sg_key_profile profile;
} sg_key_track_config;

void sg_key_track_config_init(sg_key_track_config *c);

typedef struct sg_key_change {
  double time_s; /* estimated boundary                                                     */
  sg_keyfit from, to;
} sg_key_change;

typedef struct sg_key_track {
  double *center_s; /* window centres                                                */
  sg_keyfit *key;   /* per window (raw)                                              */
  size_t n;
  sg_key_change *change; /* after merging segments shorter than min_segment_s             */
  size_t n_changes;
} sg_key_track;

sg_status sg_key_track_compute(const sg_features *f, const sg_key_track_config *cfg,
                               sg_key_track *out);
void sg_key_track_free(sg_key_track *t);

/* ============================================================================ alignment ==== */

typedef struct sg_align_config {
  double window_s;  /* length of the start and end windows, s; default 20                  */
  double max_lag_s; /* largest offset searched, s (either sign); default 1.0               */
  double refine_s;  /* sample-domain refinement window, s; default 1.0 (0 disables). Under
                       drift it is shortened so the offset moves <= 0.25 ms inside it      */
} sg_align_config;

void sg_align_config_init(sg_align_config *c);

typedef struct sg_align_result {
  double offset_s;        /* offset at the start: b(t) = a(t - offset_s), b later when > 0   */
  double end_offset_s;    /* offset measured in the end window                                */
  double drift_s;         /* end_offset_s - offset_s                                          */
  double drift_ratio;     /* drift_s / (end_time_s - start_time_s): 0.002 for 0.2% stretch   */
  double start_time_s;    /* time in a at which offset_s was measured (energy centroid of the
                             refinement window, or the middle of the envelope window)         */
  double end_time_s;      /* time in a at which end_offset_s was measured                     */
  double similarity;      /* normalised onset-envelope correlation at the peak, mean of both */
  double fine_similarity; /* normalised sample correlation of the refinement (0 when off)     */
  int has_end;            /* 0 when a is too short for a separate end window (drift 0)        */
  int inverted;           /* 1 when b correlates with a only with its polarity flipped       */
} sg_align_result;

/* Aligns two mono signals at the same rate. The start and end windows lie inside the active
 * part of a (its first to last onsets), so a stem that enters late or stops early is measured
 * where it plays; when a's active part is under 10 s, or the end window finds nothing to
 * correlate, one window is measured and has_end = 0. SG_E_INVAL for empty input,
 * SG_E_NOTFOUND when either signal has no onsets to correlate. */
sg_status sg_align_signals(const float *a, size_t na, const float *b, size_t nb, unsigned rate,
                           const sg_align_config *cfg, sg_align_result *out, sg_diag *d);
/* Local alignment that follows drift: a's active part is cut into windows of window_s (hop half
 * a window); the first searches +-max_lag_s around 0, each next one +-max_lag_s / 2 around the
 * last confident lag, so a stretched file is followed however far it drifts. A line
 * offset(t) = offset_s + ratio (t - first_time_s) is fitted to the window lags (weighted by
 * their correlation squared; windows beyond 3 MADs or 1.5 envelope frames of the fit dropped,
 * twice). similarity is the onset-envelope correlation of a with b read along that line over
 * a's active part: a file holding a's content scores near 1 however it drifts, another file
 * scores what a global correlation would (identification from local alignment, after the
 * dynamic-time-warping idea of following the path rather than one lag; here the path is a line:
 * an export's rate error). */
typedef struct sg_align_track {
  size_t n_windows, n_used; /* windows measured; kept by the fit                         */
  double offset_s;          /* fitted offset at first_time_s (b later when > 0)          */
  double first_time_s;      /* centre of the first kept window, s in a                   */
  double last_time_s;       /* centre of the last kept window                            */
  double ratio;             /* fitted slope, s per s: 0.002 for a 0.2% stretch           */
  double drift_s;           /* ratio * (last_time_s - first_time_s)                      */
  double residual_s;        /* RMS residual of the kept windows about the line           */
  double similarity;        /* onset-envelope correlation along the fitted line          */
} sg_align_track;

/* sg_align_signals (into *al, when not NULL) and the drift-following track (into *tr) of the
 * same two signals, sharing one onset analysis. window_s <= 0: 4 s. Errors as
 * sg_align_signals; SG_E_NOTFOUND also when fewer than two windows correlate. */
sg_status sg_align_signals_track(const float *a, size_t na, const float *b, size_t nb,
                                 unsigned rate, const sg_align_config *cfg, double window_s,
                                 sg_align_result *al, sg_align_track *tr, sg_diag *d);
/* A mono signal that need not be held in memory: its onset features (SG_FEAT_ONSET, e.g. fed
 * block by block while the file streams) and a reader of its samples, which alignment calls
 * only for the short refinement windows. read fills out[0, len) with frames [start, start +
 * len), always inside [0, frames). */
typedef sg_status (*sg_mono_read_fn)(void *user, int64_t start, size_t len, float *out, sg_diag *d);
typedef struct sg_align_input {
  const sg_features *feat;
  int64_t frames;
  sg_mono_read_fn read;
  void *user;
} sg_align_input;

/* sg_align_signals (into *al) and/or the drift-following track (into *tr) of two inputs, each
 * may be NULL but not both: the same results as the array functions give for the same samples,
 * with memory independent of the signals' length. SG_E_UNSUPPORTED when the rates differ. */
sg_status sg_align_inputs(const sg_align_input *a, const sg_align_input *b,
                          const sg_align_config *cfg, double window_s, sg_align_result *al,
                          sg_align_track *tr, sg_diag *d);
/* Aligns two files (streamed; only refinement windows are read at full rate). The files must
 * share a sample rate (SG_E_UNSUPPORTED otherwise: conform first). */
sg_status sg_align_files(const char *path_a, const char *path_b, const sg_align_config *cfg,
                         sg_align_result *out, sg_diag *d);
/* Fine offset of b's onsets against a's around a coarse lag (same convention as
 * sg_align_result: b(t) = a(t - offset), b later when > 0), for two files that play the same
 * attacks. a_time[0..na) and b_time[0..nb) are onset times in s, each ascending (e.g.
 * sg_onset_list.time, refined). Every b onset t in [t0, t1) is paired with the a onset nearest
 * to t - coarse_s, and kept when that distance is <= tol_s; the offset is the median of the
 * kept differences t - a, then the mean of those within 2 ms of the median (refined onsets are
 * quantised to ~1 ms blocks, and the mean over attacks at every phase resolves below that; a
 * median of two values more than 2 ms from it stands). *matched (optional) receives the number
 * of kept pairs, also with SG_E_NOTFOUND (0 after SG_E_INVAL or SG_E_NOMEM); *offset_s is
 * written only on SG_OK. SG_E_INVAL for an empty list, NULL times or offset_s, t1 < t0, a
 * negative or non-finite tolerance or a non-finite lag; SG_E_NOTFOUND when fewer than
 * max(min_matched, 1) pairs are kept; SG_E_NOMEM. */
sg_status sg_align_onsets(const double *a_time, size_t na, const double *b_time, size_t nb,
                          double coarse_s, double t0, double t1, double tol_s, size_t min_matched,
                          double *offset_s, size_t *matched, sg_diag *d);

/* ============================================================================== effects ==== */

typedef struct sg_decay_config {
  double floor_dbfs; /* tail ends where the 10 ms level falls below this; default -60       */
} sg_decay_config;

void sg_decay_config_init(sg_decay_config *c);

typedef struct sg_decay_result {
  double start_s;        /* energy peak after the final onset                              */
  double decay_db_per_s; /* slope of the Schroeder curve over the fit range (negative)    */
  double rt60_s;         /* -60 / slope                                                     */
  double fit_top_db, fit_bottom_db; /* fit range on the Schroeder curve (-5..-25 is T20)    */
  double fit_r2;           /* coefficient of determination of the line fit                   */
  double tail_s;           /* from start_s to the last 10 ms window above floor_dbfs         */
  double noise_floor_dbfs; /* estimated from the last tenth of the tail region                */
} sg_decay_result;

/* Decay after the last onset that starts a new event (its 10 ms level rises 6 dB over the level
 * 10-30 ms before it, so ripples inside a tail are not taken for onsets), from the energy
 * envelope (needs SG_FEAT_ENERGY and SG_FEAT_ONSET). The fit uses T20 (-5..-25 dB) when the
 * curve spans 27 dB, else T10 (-5..-15) or -5..-10. SG_E_NOTFOUND when there is no onset or
 * under 12 dB of decay to fit. */
sg_status sg_decay_tail(const sg_features *f, const sg_decay_config *cfg, sg_decay_result *out);

typedef struct sg_echo_result {
  double lag_s;         /* lag of the local autocorrelation maximum within +-3% of the asked */
  double acf;           /* normalised envelope autocorrelation there                          */
  double neighbours;    /* median over lags 0.7..1.3 x lag, excluding +-8%                    */
  double prominence;    /* acf - neighbours                                                   */
  double spread;        /* 1.4826 x median absolute deviation of the neighbouring lags        */
  double gain_estimate; /* echo gain g solving acf = g / (1 + g^2) (single echo model)       */
  int detected;         /* prominence >= threshold and >= 3 x spread (a peak, not ripple)     */
} sg_echo_result;

/* Echo evidence at lag_s (e.g. a tempo-synced delay: 0.75 * 60 / bpm for a dotted eighth):
 * normalised autocorrelation of the mean-removed ~1 ms amplitude envelope at the lag, against
 * neighbouring lags. threshold: prominence needed to report detected (0.1 is a good default:
 * a single echo of gain g gives about g / (1 + g^2), so 0.1 finds echoes above ~-20 dB).
 * Needs SG_FEAT_ENERGY. */
sg_status sg_echo_at_lag(const sg_features *f, double lag_s, double threshold, sg_echo_result *out);

/* ---- in situ: one effect's input against its output, on the music it processed -------------
 * Fed block by block from the effect chain's tap (src/fx: each effect's own input and output),
 * so an effect in the middle of a chain is measured on what reached it. The design numbers come
 * in plain (this module does not link the effects); src/analysis/insitu.c implements:
 *   TRANSFER  Welch's cross-spectral estimate (Hann segments of ~0.7 s, not overlapping) of the
 *             mid-channel transfer H = Sxy / Sxx with the magnitude-squared coherence
 *             |Sxy|^2 / (Sxx Syy) at up to four frequencies (a direct DFT per frequency: cheaper
 *             than an FFT for so few bins);
 *   DYNAMICS  the design's gain computer (Giannoulis, Massberg & Reiss 2012, eq. 4) and smooth
 *             branching detector run on the detector signal (the sidechain given, else the
 *             input), against the measured gain reduction in 10 ms blocks; and the wiring: the
 *             same design run at block rate on each candidate key (the named sidechain, the
 *             effect's own input, every other candidate stem) gives a predicted reduction per
 *             candidate, and the Pearson correlation of the measured reduction with each (blocks
 *             whose input is under -60 dBFS left out; a silent key predicts no reduction, which
 *             is what the unit does, so silence does not dilute the correlation);
 *   WET       the dry share u (mix = 1 - u) from c = <y,x>/<x,x>: with y = u x + m w, c = u + m
 *             <w,x>/<x,x>, and a delay's or reverb's wet path (delayed by at least its lag or the
 *             network's shortest line) hardly correlates with the dry at lag 0, so u = c without
 *             any knowledge of the wet gain (uncorrelated = 1). A chorus, flanger or phaser's wet
 *             path is a copy delayed by a few ms that does: there <w,x> is eliminated with
 *             e = <y,y>/<x,x> and the probe's wet gain g (wet energy over input energy at mix 1,
 *             interpolated between its independent-channel and mono values by the input's
 *             inter-channel correlation): e = -u^2 + 2 u c + g (1-u)^2, solved for u;
 *   LEVEL     channel, mid and side energy changes;
 *   SHAPER    the output's variance against the design's tanh curve, with the unit's DC
 *             blocker (first-order, dc_hz), applied to the input;
 *   PEAK      true peak of the output (the 8x detector of src/dsp). */
typedef enum sg_insitu_kind {
  SG_INSITU_TRANSFER = 0,
  SG_INSITU_DYNAMICS,
  SG_INSITU_WET,
  SG_INSITU_LEVEL,
  SG_INSITU_SHAPER,
  SG_INSITU_PEAK
} sg_insitu_kind;

#define SG_INSITU_MAX_FREQS 4
#define SG_INSITU_MAX_KEYS 32 /* DYNAMICS: candidate keys besides the named sidechain */

typedef struct sg_insitu_config {
  sg_insitu_kind kind;
  double rate; /* Hz */
  double freqs[SG_INSITU_MAX_FREQS];
  int n_freqs; /* TRANSFER */
  /* DYNAMICS: the compressor's design (dB, ms; rms = 1 for an RMS detector). */
  double threshold_db, ratio, knee_db, attack_ms, release_ms, makeup_db, rms_ms;
  int rms;
  int n_keys; /* DYNAMICS: candidate keys given to sg_insitu_add_keyed */
  double mix; /* WET, SHAPER: wet share */
  /* WET: the wet path's energy gain (dB, the probe's) on independent channels and on a mono
   * source; the stem's inter-channel correlation r interpolates between the two (exact for a
   * linear wet path: its output energy is linear in the input's covariance). */
  double wet_gain_db, wet_gain_mono_db;
  int uncorrelated; /* WET: the wet path is delayed past the music's short-term correlation */
  double drive_db, asym, output_db; /* SHAPER */
  double dc_hz;                     /* SHAPER: the unit's DC blocker corner, 0: none */
} sg_insitu_config;

typedef struct sg_insitu_result {
  /* TRANSFER: per frequency, |H| in dB, coherence, and the input's level there (dB re full
   * scale sine). */
  double mag_db[SG_INSITU_MAX_FREQS], coherence[SG_INSITU_MAX_FREQS], in_db[SG_INSITU_MAX_FREQS];
  /* DYNAMICS: over blocks with input above -60 dBFS; corr_side is NAN without a sidechain.
   * corr_*: correlation of the measured reduction with the one the design predicts from the
   * named sidechain, the own input, each candidate key; key_best: the candidate correlating
   * most (-1: none). */
  double gr_err_rms_db, gr_mean_db, gr_max_db, corr_side, corr_own;
  double corr_key[SG_INSITU_MAX_KEYS];
  int n_keys, key_best;
  size_t blocks;
  /* WET: the wet/dry amplitude ratio 20 log10(mix / (1 - mix)) of the estimated mix, the
   * estimated mix (NAN when the sums admit none) and the dry coefficient <y,x>/<x,x>. */
  double wet_dry_db, wet_mix, dry_coef, wet_gain_db; /* wet_gain_db: the g used */
  double left_db, right_db, mid_db, side_db;         /* LEVEL */
  double shaper_db;      /* SHAPER: output level minus the curve's, dB */
  double true_peak_dbtp; /* PEAK */
  double in_energy; /* sum of squares of the input (both channels): 0 = the effect heard nothing */
} sg_insitu_result;

typedef struct sg_insitu sg_insitu;

/* SG_E_INVAL (bad kind, rate, frequency), SG_E_NOMEM. */
sg_status sg_insitu_create(sg_insitu **out, const sg_insitu_config *c);
/* One block: the effect's input, its output, and (DYNAMICS, optional) the detector's sidechain
 * as the spec names it. Never allocates. */
void sg_insitu_add(sg_insitu *s, const float *inL, const float *inR, const float *outL,
                   const float *outR, const float *sideL, const float *sideR, size_t n);
/* The same with the DYNAMICS candidate keys: keys[2 j], keys[2 j + 1] the left and right of
 * candidate j < n_keys (at most the config's n_keys). */
void sg_insitu_add_keyed(sg_insitu *s, const float *inL, const float *inR, const float *outL,
                         const float *outR, const float *sideL, const float *sideR,
                         const float *const *keys, int n_keys, size_t n);
sg_status sg_insitu_result_get(const sg_insitu *s, sg_insitu_result *r);
void sg_insitu_free(sg_insitu *s);

#ifdef __cplusplus
}
#endif
#endif
