/* Loudness (internal to the analysis module): ITU-R BS.1770-4 / EBU R128.
 *
 *  - K-weighting (BS.1770-4 Annex 1): the pre-filter (high shelf, +4 dB above ~1.7 kHz) and the
 *    RLB high-pass (~38 Hz), two biquads in cascade, double state. Their coefficients are
 *    derived for any rate from the analogue prototypes (f0, gain, Q) by the bilinear transform,
 *    the way libebur128 derives them; at 48 kHz they are those of BS.1770-4 Table 1 and 2.
 *  - Per 100 ms sub-block (round(rate / 10) frames) the channel-weighted energy sum G_i * y_i^2:
 *    G = 1 for L, R, C and 1.41 for the surrounds (BS.1770-4 Table 3), 0 for the LFE, with
 *    the channel order of WAVE/SMPTE (L, R, C, LFE, Ls, Rs) and libebur128's defaults:
 *    1..3 channels all 1 (mono: one channel, weight 1), 4 channels L R Ls Rs, 5 channels
 *    L R C Ls Rs, 6 channels 5.1, 7 and 8 channels the 5.1 channels and the rest unweighted (0:
 *    their positions are not known from the count alone).
 *  - Momentary loudness: the last 4 sub-blocks (400 ms); short-term: the last 30 (3 s);
 *    both -0.691 + 10 log10(mean energy), read at every sub-block once the window is full.
 *  - Integrated (BS.1770-4 2.8): 400 ms blocks every 100 ms (75 % overlap), absolute gate
 *    -70 LUFS, relative gate -10 LU under the absolute-gated mean.
 *  - Loudness range (EBU Tech 3342, 2016): short-term values every 100 ms (10 Hz; libebur128
 *    still takes them every second, the 2011 text), absolute gate -70 LUFS, relative gate
 *    -20 LU, then the 95th minus the 10th percentile (nearest rank).
 *
 * Memory: fixed state plus the stored energies of the 400 ms blocks and of the short-term
 * values over the absolute gate, one double each per 100 ms: 2 x 36000 x 8 B = 576 kB for 60
 * minutes (amortised doubling). The add path allocates nothing else. */
#ifndef SG_ANALYSIS_LOUDNESS_H
#define SG_ANALYSIS_LOUDNESS_H

#include "stemgate/analysis.h"

#include <stddef.h>
#include <stdint.h>

#define SG__LOUD_SUBS 30 /* 100 ms sub-blocks in the 3 s short-term window */

typedef struct sg__loud {
  unsigned channels;
  size_t sub;                         /* frames per 100 ms sub-block */
  double b0[3], a0[2];                /* pre-filter (shelf): b0, b1, b2 and a1, a2 */
  double b1[3], a1[2];                /* RLB high-pass */
  double z[SG_METER_MAX_CHANNELS][4]; /* transposed direct form II state, two per biquad */
  double w[SG_METER_MAX_CHANNELS];    /* channel weights G */
  double part[SG_METER_MAX_CHANNELS]; /* sum of y^2 of the open sub-block per channel */
  size_t fill;                        /* frames in the open sub-block */
  double ring[SG__LOUD_SUBS];         /* weighted energy sums of the last full sub-blocks */
  uint64_t nsub;                      /* full sub-blocks so far */
  int64_t frames;                     /* frames fed */
  double m_max, s_max;                /* largest momentary / short-term energy (mean) read */
  double *blk, *st;                   /* gated-in 400 ms block and short-term mean energies */
  size_t nblk, cap_blk, nst, cap_st;
  int nomem; /* a growth failed: integrated and LRA are not available */
} sg__loud;

/* rate 8000..768000, channels 1..SG_METER_MAX_CHANNELS (checked by the caller). */
void sg__loud_init(sg__loud *l, unsigned channels, unsigned rate);
void sg__loud_free(sg__loud *l);
/* n frames; channel c's frame i is ch[c][i * stride] (planar: stride 1; interleaved: ch[c] =
 * x + c, stride = channels). Samples must be finite. SG_E_NOMEM when the block store cannot
 * grow (the meter goes on; the integrated value and LRA then say so). */
sg_status sg__loud_add(sg__loud *l, const float *const *ch, size_t stride, size_t n);
/* Energies to LUFS: -0.691 + 10 log10(e); SG_SILENCE_DB for e <= 0. */
double sg__loud_lufs(double energy);
/* Mean energy of the last `subs` sub-blocks (4: momentary, 30: short-term). While fewer frames
 * than the window were fed, every frame so far over the whole window's length (the stream
 * starts in silence, as libebur128 reads it); otherwise the last full sub-blocks, so a reading
 * between two 100 ms boundaries is that of the boundary before. */
double sg__loud_window(const sg__loud *l, unsigned subs);
/* Largest momentary / short-term energy read at a 100 ms boundary with a full window; 0 when
 * none. */
static inline double sg__loud_momentary_max(const sg__loud *l) { return l->m_max; }
static inline double sg__loud_shortterm_max(const sg__loud *l) { return l->s_max; }
/* Integrated loudness, LUFS; SG_SILENCE_DB when no block passes the gates. */
double sg__loud_integrated(const sg__loud *l);
/* Loudness range, LU; 0 when no short-term value passes the gates. SG_E_NOMEM possible
 * (sorting needs a copy). */
sg_status sg__loud_range(const sg__loud *l, double *lra);

/* The K-weighting of an sg_meter created with SG_METER_LOUDNESS (NULL otherwise): it has been fed
 * every frame given to sg_meter_add, non-finite samples as 0. Read only, between two adds. */
const sg__loud *sg__meter_loud(const sg_meter *m);
/* Columns for a report trace fed beside the meter (sg__trace_add_metered): from the first frame,
 * the meter's true-peak detectors also give the exact true peak (linear, every channel) of each
 * column of col_frames frames, the last (cols - 1) taking the rest; a block never spans two. The
 * song-wide values are unchanged (the bounds skip only what beats neither). SG_E_INVAL once a
 * frame was fed or without SG_METER_TRUE_PEAK. */
sg_status sg__meter_columns(sg_meter *m, int64_t col_frames, int cols);
/* The true peak so far of the column the last frame fed belongs to. */
float sg__meter_column_peak(const sg_meter *m);
/* Frames fed so far; *channels the meter's channel count. */
int64_t sg__meter_frames(const sg_meter *m, unsigned *channels);

#endif
