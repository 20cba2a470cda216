/* Internal to the mix module: block buffers and the output stage shared by every writer. */
#ifndef SG_MIX_INTERNAL_H
#define SG_MIX_INTERNAL_H

#include "stemgate/dsp.h"
#include "stemgate/mix.h"

#include "analysis/loudness.h"

#include <stdio.h>

/* The end fade of a stream of `frames` frames: its length (SG_MIX_END_FADE_MS, at most the
 * stream) and the gain of frame f under a fade over the last len frames (1 before them). */
int64_t sg__end_fade_len(int64_t frames, unsigned rate);
float sg__end_fade_gain(int64_t frames, int64_t len, int64_t f);
/* A mono stream's sample at fade gain g, as the writer takes it: the mean of L and R. */
static inline float sg__out_mono(float L, float R, float g) { return 0.5f * (L + R) * g; }

/* One output stream of exactly `frames` frames: interleaves planar L/R, applies the
 * raised-cosine fade over the last SG_MIX_END_FADE_MS, feeds the meter and the writer. */
typedef struct sg__out {
  sg_audio_writer *w;
  sg_meter *meter;
  unsigned channels;
  int64_t frames, pos, fade_len;
  float buf[2 * SG_MIX_BLOCK];
} sg__out;

sg_status sg__out_open(sg__out *o, const char *path, const sg_audio_writer_config *cfg,
                       int64_t frames, sg_meter *meter, sg_diag *d);
/* Emits n frames (planar); frames past `frames` are ignored. */
sg_status sg__out_write(sg__out *o, const float *L, const float *R, size_t n, sg_diag *d);
sg_status sg__out_close(sg__out *o, sg_diag *d);
/* A longer fade-out (the fade ending): the last len frames; never shorter than the end fade. */
void sg__out_set_fade(sg__out *o, int64_t len);
void sg__out_abort(sg__out *o);

/* Reads n frames of a stem into planar L/R (mono duplicated); zeros past the end. */
typedef struct sg__in {
  sg_audio_reader *r;
  sg_audio_info info;
  float buf[2 * SG_MIX_BLOCK];
} sg__in;

sg_status sg__in_open(sg__in *in, const char *path, sg_diag *d);
sg_status sg__in_read(sg__in *in, float *L, float *R, size_t n, sg_diag *d);
/* Adds what sg__in_read would give to L and R, the same sums in one pass over the frames. */
sg_status sg__in_add(sg__in *in, float *L, float *R, size_t n, sg_diag *d);
void sg__in_close(sg__in *in);

/* What a master pass measures of itself (side.c): BS.1770-4 integrated loudness and, on limited
 * passes, the true peak, by the same K-weighting and gating (sg__loud) and the same detector in
 * the same configuration (sg_truepeak) sg_meter runs, without sg_meter's levels (sample peak,
 * RMS, DC, activity), which no pass reads: the values are sg_meter's to the bit. Non-finite
 * samples count as 0, as in sg_meter. Planar input, one or two channels. */
typedef struct sg__pass_meter {
  sg__loud loud;
  sg_truepeak tp[2];
  unsigned channels;
  int tp_on;
  float zero[2][SG_MIX_BLOCK]; /* a block with its non-finite samples zeroed */
} sg__pass_meter;
sg_status sg__pass_meter_init(sg__pass_meter *m, unsigned channels, unsigned rate, int true_peak);
sg_status sg__pass_meter_add(sg__pass_meter *m, const float *const *ch, size_t n);
/* Integrated loudness (LUFS) and true peak (dBTP; SG_SILENCE_DB without it), as sg_meter's. */
void sg__pass_meter_get(const sg__pass_meter *m, double *lufs, double *tp_dbtp);
void sg__pass_meter_free(sg__pass_meter *m);

/* A second thread beside a master pass (side.c): takes each planar block in order, streams it
 * to the pass's temporary file f (may be NULL) and meters frames [skip, skip + m) with meter
 * (may be NULL; mono songs metered as 0.5 (L + R), as the writer downmixes). Modes: the whole
 * block as planar L then R (n frames each), or only the metered frames interleaved L R. */
enum { SG__SIDE_PLANAR, SG__SIDE_INTERLEAVED };
typedef struct sg__side sg__side;
sg_status sg__side_start(sg__side **s, sg__pass_meter *meter, FILE *f, int mode, unsigned channels,
                         sg_diag *d);
sg_status sg__side_push(sg__side *s, const float *L, const float *R, size_t n, size_t skip,
                        size_t m);
/* The bus effects' observer deferred to the thread (n_fx effects): install sg__side_fx_tap
 * (user: the side) as the chain's tap and call sg__side_reserve before each block's chain runs;
 * the calls captured during a block are replayed on the thread, in order, before the block's own
 * work. Without a thread the observer is called at once. */
sg_status sg__side_defer_fx(sg__side *s, sg_fx_tap_fn fn, void *user, int n_fx, sg_diag *d);
sg_status sg__side_reserve(sg__side *s);
void sg__side_fx_tap(void *user, int effect, const float *inL, const float *inR, const float *outL,
                     const float *outR, const float *sideL, const float *sideR, size_t n);
/* The metered frames also go to o (sg__out_write, planar) on the thread; set before the first
 * push. */
void sg__side_set_out(sg__side *s, sg__out *o);
/* The meter takes the metered frames (song frames 0 .. frames - 1, in order) with the end fade
 * over their last len frames (sg__end_fade_gain), as sg__out_write fades them; set before the
 * first push. */
void sg__side_set_fade(sg__side *s, int64_t frames, int64_t len);
/* Counts the metered frames' peaks max(|L|, |R|) by their float's top 13 bits (exponent and 5
 * mantissa bits: 0.19 dB bins) into hist[SG__PEAK_BINS]; set before the first push. */
#define SG__PEAK_BINS 8192
void sg__side_set_hist(sg__side *s, uint32_t *hist);
/* The limiter's loudness cost predicted from the bus (predict.c), so the first limited pass can
 * land on the target: the bus pass feeds it the song's frames in chunks of SG__PRED_CHUNK; per
 * chunk its peak max(|L|, |R|) and energy as metered (L^2 + R^2; mono songs (L + R)^2 / 4). For a
 * grid of drives over the limiter's threshold (y_i = SG__PRED_Y0 + i SG__PRED_DY dB) a chunk-rate
 * model of the limiter's gain computer (requirement threshold / peak, the limiter's exponential
 * release) accumulates sum g^2 e: the limited loudness is the bus's, plus the drive, plus 10
 * log10(sum g^2 e / sum e) (energy unweighted, no gating: an estimate, the passes measure). Fixed
 * size (kept with the bus file), nothing per song frame. Also whether every bus block had L == R
 * bit for bit (a mono bus: the limited passes process one channel and copy it). */
#define SG__PRED_CHUNK 256
#define SG__PRED_N 128
#define SG__PRED_Y0 (-12.0)
#define SG__PRED_DY 0.5
/* The model reads the cost 3-13 % under what the passes measured on the bundled songs (peaks
 * between samples, which the limiter's detector sees; the guard after it): scaled by this. */
#define SG__PRED_SCALE 1.05
typedef struct sg__pred {
  double s[SG__PRED_N]; /* sum over chunks of g_i^2 e */
  double e;             /* sum of e */
  uint32_t lr_equal;    /* every planar block had L == R */
  /* the stream's state */
  float k[SG__PRED_N], c[SG__PRED_N]; /* 10^(-y_i / 20); the release follower per drive */
  float rel;                          /* the limiter's release pole over one chunk */
  unsigned channels;                  /* of the song: 1 meters the writer's downmix */
  float pk, acc;                      /* the open chunk's peak and energy */
  size_t fill;                        /* its frames */
} sg__pred;
void sg__pred_init(sg__pred *p, double rate, unsigned channels);
/* n song frames (planar). */
void sg__pred_add(sg__pred *p, const float *L, const float *R, size_t n);
/* One whole planar block as it goes to the bus file: clears lr_equal unless L == R. */
void sg__pred_block(sg__pred *p, const float *L, const float *R, size_t n);
/* After the last frame: the open chunk counted. */
void sg__pred_finish(sg__pred *p);
/* The predicted loudness change (dB, <= 0) of the limiter at drive y dB over its threshold
 * (gain_db - (ceiling - margin)); 0 (no prediction) when y is outside the grid's reach. */
int sg__pred_cost(const sg__pred *p, double y, double *cost_db);
/* The bus pass's side feeds p (song frames and whole blocks); before the first push. */
void sg__side_set_pred(sg__side *s, sg__pred *p);
/* Waits for every block to be done; the first failure, described in d. */
sg_status sg__side_finish(sg__side *s, sg_diag *d);
/* Ends the thread (dropping what is queued) and frees; NULL is fine. */
void sg__side_free(sg__side *s);

/* Peak of |L|,|R| over n frames. */
float sg__peak(const float *L, const float *R, size_t n);

#endif
