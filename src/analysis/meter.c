/* Streaming meter: levels, loudness (ITU-R BS.1770-4 / EBU R128, loudness.c), true peak
 * (sg_truepeak: ITU-R BS.1770-4 Annex 2, 4x polyphase oversampling), clipping, NaN/Inf and the
 * activity map. See include/stemgate/analysis.h. */
#include "core/simd.h"
#include "loudness.h"
#include "stemgate/analysis.h"
#include "stemgate/dsp.h"
#include "stemgate/io.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Blocks of at most this many frames (the input copied channel by channel, sanitised). */
#define CHUNK 4096
/* Independent accumulators: the compiler turns them into vector lanes (floating-point sums are
 * not reassociated without them). Lane j of a window takes the window's frames j, j + LANES, ...
 * in order, and the lanes are added in a fixed order where the window closes, so every result
 * is the same however the stream is cut into blocks (a render's tap and verify's reader agree
 * to the bit). */
#define LANES 4

/* One DC window being summed: Hann-weighted sums (w = (1 - cos phase) / 2, the phase turned
 * by a rotation so no sin/cos runs per sample; reset at every window, so it cannot drift). */
typedef struct dc_acc {
  int64_t start; /* first frame of the window */
  size_t fill;
  double sum[SG_METER_MAX_CHANNELS], ss, wsum; /* folded from the lanes (dc_fold) */
  /* cos and sin of the window's phase at the next 4 frames: four chains, each turned by 4 steps
   * so they do not wait on each other; restarted at every window, so rounding cannot build up
   * past one window (~1e-12 relative after 48000 steps) */
  double c[4], s[4];
  double wl[LANES], sl[SG_METER_MAX_CHANNELS][LANES], ql[SG_METER_MAX_CHANNELS][LANES];
} dc_acc;

struct sg_meter {
  unsigned channels, rate, flags;
  int loud_on;   /* SG_METER_LOUDNESS */
  sg__loud loud; /* K-weighting, sub-block energies, gated blocks */
  int64_t frames;
  double peak[SG_METER_MAX_CHANNELS];
  double sumsq[SG_METER_MAX_CHANNELS];
  double sum[SG_METER_MAX_CHANNELS];
  unsigned run[SG_METER_MAX_CHANNELS]; /* current clipped run length per channel */
  uint64_t nan_count, inf_count, clipped, clip_runs;
  int64_t first_sig, last_sig;
  /* activity map */
  size_t win, win_fill;
  double wsl[SG_METER_MAX_CHANNELS][LANES]; /* the open activity window's sums per lane */
  double wql[SG_METER_MAX_CHANNELS][LANES]; /* and sums of squares */
  float *act;
  size_t act_n, act_cap;
  /* windowed DC (fixed memory): two Hann windows of dcw frames, half a window apart */
  size_t dcw;
  dc_acc dca[2];
  double dc_rot_c, dc_rot_s; /* cos, sin of 2 pi / dcw: the window's phase step */
  double dc_worst;           /* worst offset held by two consecutive (overlapping) windows */
  int64_t dc_worst_at;
  unsigned dc_worst_ch;
  double dc_prev[SG_METER_MAX_CHANNELS]; /* signed means of the window closed last */
  int dc_prev_ok;                        /* it played */
  int64_t dc_prev_at;
  unsigned dc_closed; /* windows closed so far */
  double dc_first;    /* the first window alone (a file with one window) */
  int64_t dc_first_at;
  unsigned dc_first_ch;
  uint64_t denormals;
  float *plane; /* CHUNK * channels: the block, one channel after another, non-finite as 0 */
  double *wbuf; /* CHUNK: a DC window's Hann weights over a segment */
  double dc_rot4_c, dc_rot4_s; /* cos, sin of 4 * 2 pi / dcw */
  const double *wtab;          /* the window's dcw weights (dc_table), or NULL: turned per frame */
  const double *wfull;         /* with wtab: a full window's weight sums per lane */
  /* True peak per channel. libebur128's true-peak mode ran ~10x slower than this block
   * detector (per-sample branches, double arithmetic) and dominated render and verify time. */
  sg_truepeak tp[SG_METER_MAX_CHANNELS];
  float tpk[SG_METER_MAX_CHANNELS];    /* each channel's true peak so far (linear) */
  float blk_pk[SG_METER_MAX_CHANNELS]; /* each channel's sample peak in the block being added */
  /* Columns (sg__meter_columns): the true peak of every channel over the current column of
   * col_frames frames (the last, col_last, takes the rest) too, for a report trace. */
  int64_t col_frames, col_last, col_at;
  float col_peak;
  /* A frozen meter (sg_meter_freeze): a finished measurement kept, answering from these only. */
  sg_meter_result *frozen;
  float *fwin; /* its activity map, dB per window, but the last (floats, as a meter keeps it) */
  double fwin_last; /* the last window's (a meter's open window: a double) */
  size_t fwin_n;
};

static void dc_restart(const sg_meter *m, dc_acc *a, int64_t start);
static const double *dc_table(const sg_meter *m, const double **wfull);

sg_status sg_meter_create(sg_meter **out, unsigned channels, unsigned rate, unsigned flags,
                          sg_diag *d) {
  if (!out)
    return sg_diag_fail(d, SG_E_INVAL, "meter: NULL argument");
  *out = NULL;
  if (channels < 1 || channels > SG_METER_MAX_CHANNELS)
    return sg_diag_fail(d, SG_E_INVAL, "meter: %u channels (1..%d supported)", channels,
                        SG_METER_MAX_CHANNELS);
  if (rate < 8000 || rate > 768000)
    return sg_diag_fail(d, SG_E_INVAL, "meter: sample rate %u outside 8000..768000", rate);
  sg_meter *m = calloc(1, sizeof *m);
  if (!m)
    return sg_diag_fail(d, SG_E_NOMEM, "meter: out of memory");
  m->channels = channels;
  m->rate = rate;
  m->flags = flags & SG_METER_ALL;
  m->first_sig = m->last_sig = -1;
  m->win = (size_t)lround(SG_METER_WINDOW_S * rate);
  m->dcw = (size_t)lround(SG_METER_DC_WINDOW_S * rate);
  m->dc_rot_c = cos(2.0 * SG_PI / (double)m->dcw);
  m->dc_rot_s = sin(2.0 * SG_PI / (double)m->dcw);
  dc_restart(m, &m->dca[0], 0);
  dc_restart(m, &m->dca[1], (int64_t)(m->dcw / 2));
  m->dc_worst_at = m->dc_first_at = -1;
  m->dc_rot4_c = cos(8.0 * SG_PI / (double)m->dcw);
  m->dc_rot4_s = sin(8.0 * SG_PI / (double)m->dcw);
  m->plane = malloc(sizeof(float) * CHUNK * channels);
  m->wbuf = malloc(sizeof(double) * CHUNK);
  if (!m->plane || !m->wbuf)
    goto nomem;
  m->wtab = dc_table(
      m, &m->wfull); /* NULL (out of memory, or too many rates): weights turned per frame */
  if (m->flags & SG_METER_TRUE_PEAK) {
    sg_truepeak_config tc;
    sg_truepeak_config_init(&tc); /* 4x below 96 kHz, 2x below 192 kHz, as BS.1770-4 */
    for (unsigned c = 0; c < channels; ++c) {
      if (sg_truepeak_init(&m->tp[c], &tc, rate) != SG_OK) {
        sg_meter_free(m);
        return sg_diag_fail(d, SG_E_INTERNAL, "meter: true-peak detector rejected %u Hz", rate);
      }
      sg_truepeak_reset(&m->tp[c]);
    }
  }
  if (m->flags & SG_METER_LOUDNESS) {
    sg__loud_init(&m->loud, channels, rate);
    m->loud_on = 1;
  }
  *out = m;
  return SG_OK;
nomem:
  sg_meter_free(m);
  return sg_diag_fail(d, SG_E_NOMEM, "meter: out of memory");
}

void sg_meter_free(sg_meter *m) {
  if (!m)
    return;
  sg__loud_free(&m->loud);
  free(m->frozen);
  free(m->fwin);
  free(m->act);
  free(m->plane);
  free(m->wbuf);
  free(m);
}

/* Sum of squares of the open activity window, all channels. */
static double win_ss(const sg_meter *m) {
  double t = 0;
  for (unsigned c = 0; c < m->channels; ++c)
    for (int j = 0; j < LANES; ++j)
      t += m->wql[c][j];
  return t;
}

static sg_status push_window(sg_meter *m) {
  if (m->act_n == m->act_cap) {
    size_t cap = m->act_cap ? m->act_cap * 2 : 256;
    float *p = realloc(m->act, cap * sizeof *p);
    if (!p)
      return SG_E_NOMEM;
    m->act = p;
    m->act_cap = cap;
  }
  double ms = win_ss(m) / ((double)m->win * m->channels);
  m->act[m->act_n++] = (float)(ms > 0 ? 10.0 * log10(ms) : SG_SILENCE_DB);
  for (unsigned c = 0; c < m->channels; ++c) {
    double s = 0, q = 0;
    for (int j = 0; j < LANES; ++j) {
      s += m->wsl[c][j];
      q += m->wql[c][j];
      m->wsl[c][j] = m->wql[c][j] = 0;
    }
    m->sum[c] += s;
    m->sumsq[c] += q;
  }
  m->win_fill = 0;
  return SG_OK;
}

/* Window a with its lanes added up (in a fixed order) into sum, ss and wsum. */
static void dc_fold(const sg_meter *m, const dc_acc *a, dc_acc *f) {
  *f = *a;
  f->ss = f->wsum = 0;
  double wl[LANES] = {0};
  if (!m->wtab) /* summed along */
    memcpy(wl, a->wl, sizeof wl);
  else if (a->fill == m->dcw) /* a full window: the table's sums */
    memcpy(wl, m->wfull, sizeof wl);
  else /* a file shorter than a window: its frames so far, in the order dc_segment took them */
    for (size_t i = 0; i < a->fill; ++i)
      wl[i % LANES] += m->wtab[i];
  for (int j = 0; j < LANES; ++j)
    f->wsum += wl[j];
  for (unsigned c = 0; c < m->channels; ++c) {
    f->sum[c] = 0;
    for (int j = 0; j < LANES; ++j) {
      f->sum[c] += a->sl[c][j];
      f->ss += a->ql[c][j];
    }
  }
}

/* The worst channel's weighted mean of DC window a when it plays: *at = -1 when it does not. */
static double dc_window_value(const sg_meter *m, const dc_acc *a, int64_t *at, unsigned *ch) {
  *at = -1;
  *ch = 0;
  if (!(a->wsum > 0))
    return 0;
  const double floor_ms = pow(10.0, SG_METER_DC_FLOOR_DB / 10.0);
  if (a->ss / (a->wsum * m->channels) < floor_ms)
    return 0;
  double worst = 0;
  for (unsigned c = 0; c < m->channels; ++c) {
    double v = fabs(a->sum[c]) / a->wsum;
    if (v > worst) {
      worst = v;
      *ch = c;
    }
  }
  *at = a->start;
  return worst;
}

static void dc_keep(double v, int64_t at, unsigned ch, double *worst, int64_t *worst_at,
                    unsigned *worst_ch) {
  if (at >= 0 && (*worst_at < 0 || v > *worst)) {
    *worst = v;
    *worst_at = at;
    *worst_ch = ch;
  }
}

/* A full window closes. An offset is steady: a channel's offset counts where two consecutive
 * windows (half a window apart) agree in sign, as the smaller of the two; a note's low partial
 * cycles, or a plucked chord's sub-sonic swing, turn sign within a window or two and read near
 * zero, a DC reads in full. */
static void dc_close(sg_meter *m, const dc_acc *a) {
  dc_acc f;
  dc_fold(m, a, &f);
  a = &f;
  int64_t at;
  unsigned ch;
  double v = dc_window_value(m, a, &at, &ch);
  int ok = at >= 0;
  if (m->dc_closed++ == 0)
    dc_keep(v, at, ch, &m->dc_first, &m->dc_first_at, &m->dc_first_ch);
  for (unsigned c = 0; ok && m->dc_prev_ok && c < m->channels; ++c) {
    double now = a->sum[c] / a->wsum, prev = m->dc_prev[c];
    if ((now > 0) == (prev > 0))
      dc_keep(fmin(fabs(now), fabs(prev)), m->dc_prev_at, c, &m->dc_worst, &m->dc_worst_at,
              &m->dc_worst_ch);
  }
  for (unsigned c = 0; ok && c < m->channels; ++c)
    m->dc_prev[c] = a->sum[c] / a->wsum;
  m->dc_prev_ok = ok;
  m->dc_prev_at = a->start;
}

/* Window a's Hann weights w = (1 - cos phase) / 2 for its next n frames, its phase chains
 * turned past them (in next-frame order after). */
static SG__INLINE void dc_weights(const sg_meter *m, dc_acc *a, double *restrict w, size_t n) {
  const double r4c = m->dc_rot4_c, r4s = m->dc_rot4_s;
  /* The chains in locals: stores to w cannot alias them, so they stay in registers. */
  double lc[4], ls[4];
  memcpy(lc, a->c, sizeof lc);
  memcpy(ls, a->s, sizeof ls);
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int j = 0; j < 4; ++j) {
      w[i + j] = 0.5 - 0.5 * lc[j];
      double nc = lc[j] * r4c - ls[j] * r4s;
      ls[j] = ls[j] * r4c + lc[j] * r4s;
      lc[j] = nc;
    }
  size_t r = n - i;
  if (!r) {
    memcpy(a->c, lc, sizeof lc);
    memcpy(a->s, ls, sizeof ls);
    return;
  }
  double tc[4], ts[4];
  for (size_t j = 0; j < 4; ++j) { /* chains r..3 come next, then 0..r-1 turned once more */
    size_t k = (j + r) % 4;
    if (k < r) {
      w[i + k] = 0.5 - 0.5 * lc[k];
      tc[j] = lc[k] * r4c - ls[k] * r4s;
      ts[j] = ls[k] * r4c + lc[k] * r4s;
    } else {
      tc[j] = lc[k];
      ts[j] = ls[k];
    }
  }
  memcpy(a->c, tc, sizeof tc);
  memcpy(a->s, ts, sizeof ts);
}

/* Window a restarts at frame start: phase 0 and the three steps after it, sums cleared. */
static void dc_restart(const sg_meter *m, dc_acc *a, int64_t start) {
  memset(a, 0, sizeof *a);
  a->start = start;
  a->c[0] = 1.0;
  for (int j = 1; j < 4; ++j) {
    a->c[j] = a->c[j - 1] * m->dc_rot_c - a->s[j - 1] * m->dc_rot_s;
    a->s[j] = a->s[j - 1] * m->dc_rot_c + a->c[j - 1] * m->dc_rot_s;
  }
}

/* The DC window's Hann weights for its dcw frames, shared by every meter of that window length
 * (one table per rate in the process, made once, never freed; at most DC_TABLES rates, others
 * turn the phase per frame). A frame's weight is a function of its place in the window only
 * (dc_weights' chain k holds the frames k mod 4, turned the same steps however the stream is
 * cut), so the table, made by dc_weights itself, holds the very values the per-frame rotation
 * gives: the same bits, without its chain of dependent multiplications per frame (a third of
 * the meter's time). 8 bytes a frame: 384 KB at 48 kHz. */
#define DC_TABLES 4
static pthread_mutex_t dc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  size_t dcw;
  double *w;
  double wl[LANES]; /* a full window's sums per lane, each in frame order as dc_segment adds */
} dc_tabs[DC_TABLES];

static const double *dc_table(const sg_meter *m, const double **wfull) {
  const double *w = NULL;
  pthread_mutex_lock(&dc_lock);
  int k = 0;
  for (; k < DC_TABLES && dc_tabs[k].w; ++k)
    if (dc_tabs[k].dcw == m->dcw) {
      w = dc_tabs[k].w;
      *wfull = dc_tabs[k].wl;
      break;
    }
  if (!w && k < DC_TABLES) {
    double *t = malloc(m->dcw * sizeof *t);
    if (t) {
      dc_acc a;
      dc_restart(m, &a, 0);
      dc_weights(m, &a, t, m->dcw);
      for (size_t i = 0; i < m->dcw; ++i)
        dc_tabs[k].wl[i % LANES] += t[i];
      *wfull = dc_tabs[k].wl;
      dc_tabs[k].dcw = m->dcw;
      dc_tabs[k].w = t;
      w = t;
    }
  }
  pthread_mutex_unlock(&dc_lock);
  return w;
}

/* The Hann-weighted sums of nch (1 or 2, a constant once inlined) channels' n samples (planes
 * p, p + CHUNK) into their lanes sl, ql, the first sample in lane l0 (h samples before lane 0
 * comes round). Each lane's sums are chains of dependent additions: two channels in one loop
 * keep twice the chains in flight, each lane in its own order (the same bits as one channel
 * after another). The lanes as vectors of LANES (GCC's extension; the default clone runs them on
 * SSE2): left to itself GCC kept two channels' lanes in memory. */
typedef double lanes_d __attribute__((vector_size(LANES * sizeof(double))));
typedef float lanes_f __attribute__((vector_size(LANES * sizeof(float))));
#define LANES_LD(v, ptr) memcpy(&(v), (ptr), sizeof(v)) /* no vector passed by value */
static SG__INLINE void dc_lanes(const double *w, const float *p, size_t h, size_t n, size_t l0,
                                int nch, double (*sl)[LANES], double (*ql)[LANES]) {
  lanes_d sv[2], qv[2];
  for (int c = 0; c < nch; ++c) {
    for (size_t i = 0; i < h; ++i) {
      double wx = w[i] * p[c * CHUNK + i];
      sl[c][l0 + i] += wx;
      ql[c][l0 + i] += wx * p[c * CHUNK + i];
    }
    LANES_LD(sv[c], sl[c]);
    LANES_LD(qv[c], ql[c]);
  }
  size_t i = h;
  for (; i + LANES <= n; i += LANES) {
    lanes_d wv;
    LANES_LD(wv, w + i);
    for (int c = 0; c < nch; ++c) {
      lanes_f xf;
      LANES_LD(xf, p + c * CHUNK + i);
      const lanes_d x = __builtin_convertvector(xf, lanes_d), wx = wv * x;
      sv[c] += wx;
      qv[c] += wx * x;
    }
  }
  for (int c = 0; c < nch; ++c) {
    memcpy(sl[c], &sv[c], sizeof sv[c]);
    memcpy(ql[c], &qv[c], sizeof qv[c]);
    for (size_t j = 0; i + j < n; ++j) {
      double wx = w[i + j] * p[c * CHUNK + i + j];
      sl[c][j] += wx;
      ql[c][j] += wx * p[c * CHUNK + i + j];
    }
  }
}

/* Frames [off, off + n) of the planar block go into DC window a (all inside it). Lane of a
 * frame: its index in the window mod LANES. */
static SG__INLINE void dc_segment(sg_meter *m, dc_acc *a, size_t off, size_t n) {
  const double *w = m->wtab ? m->wtab + a->fill : m->wbuf;
  const size_t l0 = a->fill % LANES;
  size_t h = (LANES - l0) % LANES; /* frames before lane 0 comes round */
  if (h > n)
    h = n;
  size_t i = h;
  if (!m->wtab) { /* the weights' sums along (with the table, dc_fold has them) */
    dc_weights(m, a, m->wbuf, n);
    for (i = 0; i < h; ++i)
      a->wl[l0 + i] += w[i];
    double wv[LANES]; /* the lanes in a local: stores to them cannot alias w, so no reloads */
    memcpy(wv, a->wl, sizeof wv);
    for (; i + LANES <= n; i += LANES)
      for (int j = 0; j < LANES; ++j)
        wv[j] += w[i + j];
    for (size_t j = 0; i + j < n; ++j)
      wv[j] += w[i + j];
    memcpy(a->wl, wv, sizeof wv);
  }
  unsigned c = 0;
  for (; c + 1 < m->channels; c += 2)
    dc_lanes(w, m->plane + (size_t)c * CHUNK + off, h, n, l0, 2, a->sl + c, a->ql + c);
  if (c < m->channels)
    dc_lanes(w, m->plane + (size_t)c * CHUNK + off, h, n, l0, 1, a->sl + c, a->ql + c);
  a->fill += n;
  if (a->fill == m->dcw) {
    dc_close(m, a);
    dc_restart(m, a, a->start + (int64_t)m->dcw);
  }
}

/* Peak of n samples (a maximum: any order gives it), in eight lanes so it vectorises. */
static SG__INLINE float chan_peak(const float *p, size_t n) {
  float mx[8] = {0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) {
      float a = fabsf(p[i + j]);
      mx[j] = a > mx[j] ? a : mx[j];
    }
  float pk = 0;
  for (; i < n; ++i) {
    float a = fabsf(p[i]);
    pk = a > pk ? a : pk;
  }
  for (int j = 0; j < 8; ++j)
    pk = mx[j] > pk ? mx[j] : pk;
  return pk;
}

/* The sums and sums of squares of nch (1 or 2) channels' n samples (planes p, p + CHUNK) into
 * their lanes sl, ql, the first sample in lane l0; two channels in one loop, as dc_lanes. */
static SG__INLINE void chan_sums(const float *p, size_t n, size_t l0, int nch, double (*sl)[LANES],
                                 double (*ql)[LANES]) {
  size_t h = (LANES - l0) % LANES;
  if (h > n)
    h = n;
  lanes_d sv[2], qv[2];
  for (int c = 0; c < nch; ++c) {
    for (size_t i = 0; i < h; ++i) {
      sl[c][l0 + i] += p[c * CHUNK + i];
      ql[c][l0 + i] += (double)p[c * CHUNK + i] * p[c * CHUNK + i];
    }
    LANES_LD(sv[c], sl[c]);
    LANES_LD(qv[c], ql[c]);
  }
  size_t i = h;
  for (; i + LANES <= n; i += LANES)
    for (int c = 0; c < nch; ++c) {
      lanes_f xf;
      LANES_LD(xf, p + c * CHUNK + i);
      const lanes_d x = __builtin_convertvector(xf, lanes_d);
      sv[c] += x;
      qv[c] += x * x;
    }
  for (int c = 0; c < nch; ++c) {
    memcpy(sl[c], &sv[c], sizeof sv[c]);
    memcpy(ql[c], &qv[c], sizeof qv[c]);
    for (size_t j = 0; i + j < n; ++j) {
      sl[c][j] += p[c * CHUNK + i + j];
      ql[c][j] += (double)p[c * CHUNK + i + j] * p[c * CHUNK + i + j];
    }
  }
}

/* Frames [off, off + n) of the planar block, all inside one activity window and one segment of
 * each DC window: levels, signal extent, clips, the activity window's and DC windows' sums. */
static SG__INLINE void segment(sg_meter *m, size_t off, size_t n) {
  const int64_t pos = m->frames + (int64_t)off;
  int64_t first = -1, last = -1;
  const size_t l0 = m->win_fill % LANES;
  unsigned c = 0;
  for (; c + 1 < m->channels; c += 2)
    chan_sums(m->plane + (size_t)c * CHUNK + off, n, l0, 2, m->wsl + c, m->wql + c);
  if (c < m->channels)
    chan_sums(m->plane + (size_t)c * CHUNK + off, n, l0, 1, m->wsl + c, m->wql + c);
  for (c = 0; c < m->channels; ++c) {
    const float *p = m->plane + (size_t)c * CHUNK + off;
    float pk = chan_peak(p, n);
    m->blk_pk[c] = pk > m->blk_pk[c] ? pk : m->blk_pk[c];
    if (pk > m->peak[c])
      m->peak[c] = pk;
    if (pk >= SG_SIGNAL_LEVEL) { /* rare scans: signal is found at once from either end */
      size_t k = n;
      while (k-- > 0 && !(fabsf(p[k]) >= SG_SIGNAL_LEVEL))
        ;
      if ((int64_t)k > last)
        last = (int64_t)k;
      if (m->first_sig < 0) {
        for (k = 0; !(fabsf(p[k]) >= SG_SIGNAL_LEVEL); ++k)
          ;
        if (first < 0 || (int64_t)k < first)
          first = (int64_t)k;
      }
    }
    if (pk >= SG_CLIP_LEVEL) {
      for (size_t i = 0; i < n; ++i) {
        if (fabsf(p[i]) >= SG_CLIP_LEVEL) {
          m->clipped++;
          if (++m->run[c] == SG_CLIP_RUN)
            m->clip_runs++;
        } else {
          m->run[c] = 0;
        }
      }
    } else {
      m->run[c] = 0;
    }
  }
  if (last >= 0)
    m->last_sig = pos + last;
  if (first >= 0 && m->first_sig < 0)
    m->first_sig = pos + first;
  for (int k = 0; k < 2; ++k)
    if (pos >= m->dca[k].start)
      dc_segment(m, &m->dca[k], off, n);
}

/* The planar block's k frames through the levels, cut where an activity or DC window ends. */
static SG__INLINE sg_status levels(sg_meter *m, size_t k) {
  for (size_t off = 0; off < k;) {
    const int64_t pos = m->frames + (int64_t)off;
    size_t n = k - off;
    if (m->win - m->win_fill < n)
      n = m->win - m->win_fill;
    for (int j = 0; j < 2; ++j) {
      const dc_acc *a = &m->dca[j];
      size_t room = pos < a->start ? (size_t)(a->start - pos) : m->dcw - a->fill;
      if (room < n)
        n = room;
    }
    segment(m, off, n);
    off += n;
    m->win_fill += n;
    if (m->win_fill == m->win && push_window(m) != SG_OK)
      return SG_E_NOMEM;
  }
  return SG_OK;
}

/* The block's n interleaved values: how many are not finite, how many are subnormal (bit tests,
 * vectorised). */
static SG__INLINE size_t scan(const float *x, size_t n, uint64_t *denormals) {
  uint32_t bad = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t b;
    memcpy(&b, &x[i], sizeof b);
    uint32_t e = b & 0x7f800000u;
    bad += e == 0x7f800000u;
    den += (e == 0) & ((b & 0x007fffffu) != 0);
  }
  *denormals += den;
  return bad;
}

/* The true peak of the planar block's k frames (inside one column, when there are columns).
 * Each detector's running peak, which its bounds are held to, is set before the block to what a
 * new point must beat to matter: the channel's peak so far or, with columns, the lower of that
 * and the column's (every channel's) so far, each raised to the block's sample peaks (points of
 * the true peak too, known from the levels: fewer stretches pass the bounds, chiefly where a
 * column restarts). Both then come out exact: the detector returns the larger of that floor and
 * the block's exact maximum, which is at least the floor's sample peak. */
static void true_peak(sg_meter *m, const float *const *chp, size_t k) {
  float col = m->col_peak;
  if (m->col_frames) {
    const int64_t at = m->frames / m->col_frames;
    if ((at < m->col_last ? at : m->col_last) != m->col_at) {
      m->col_at = at < m->col_last ? at : m->col_last;
      col = 0;
    }
    for (unsigned c = 0; c < m->channels; ++c)
      col = m->blk_pk[c] > col ? m->blk_pk[c] : col;
  }
  float next = col;
  for (unsigned c = 0; c < m->channels; ++c) {
    const float own = m->blk_pk[c] > m->tpk[c] ? m->blk_pk[c] : m->tpk[c];
    m->tp[c].peak = m->col_frames && col < own ? col : own;
    const float v = sg_truepeak_process(&m->tp[c], chp[c], 1, k);
    m->tpk[c] = v > m->tpk[c] ? v : m->tpk[c];
    next = v > next ? v : next;
  }
  m->col_peak = next;
}

SG__CLONES sg_status sg_meter_add(sg_meter *m, const float *x, size_t frames) {
  if (!m || m->frozen || (!x && frames))
    return SG_E_INVAL;
  const unsigned C = m->channels;
  while (frames) {
    size_t k = frames < CHUNK ? frames : CHUNK;
    if (m->col_frames) { /* a block ends at a column's end */
      const int64_t col = m->frames / m->col_frames;
      if (col < m->col_last && (int64_t)k > (col + 1) * m->col_frames - m->frames)
        k = (size_t)((col + 1) * m->col_frames - m->frames);
    }
    size_t bad = scan(x, k * C, &m->denormals);
    memset(m->blk_pk, 0, sizeof m->blk_pk);
    const float *chp[SG_METER_MAX_CHANNELS];
    if (C == 2) /* the common case in one pass */
      for (size_t i = 0; i < k; ++i) {
        m->plane[i] = x[2 * i];
        m->plane[CHUNK + i] = x[2 * i + 1];
      }
    for (unsigned c = 0; c < C; ++c) {
      float *p = m->plane + (size_t)c * CHUNK;
      chp[c] = p;
      for (size_t i = 0; C != 2 && i < k; ++i)
        p[i] = x[i * C + c];
      for (size_t i = 0; bad && i < k; ++i) /* the slow path: NaN or Inf present */
        if (!isfinite(p[i])) {
          if (isnan(p[i]))
            m->nan_count++;
          else
            m->inf_count++;
          p[i] = 0.0f;
        }
    }
    sg_status st = levels(m, k);
    if (st != SG_OK)
      return st;
    if (m->flags & SG_METER_TRUE_PEAK)
      true_peak(m, chp, k);
    if (m->loud_on && sg__loud_add(&m->loud, chp, 1, k) != SG_OK)
      return SG_E_NOMEM;
    m->frames += (int64_t)k;
    x += k * C;
    frames -= k;
  }
  return SG_OK;
}

const sg__loud *sg__meter_loud(const sg_meter *m) { return m && m->loud_on ? &m->loud : NULL; }

sg_status sg__meter_columns(sg_meter *m, int64_t col_frames, int cols) {
  if (!m || m->frozen || m->frames || !(m->flags & SG_METER_TRUE_PEAK) || col_frames < 1 ||
      cols < 1)
    return SG_E_INVAL;
  m->col_frames = col_frames;
  m->col_last = cols - 1;
  m->col_at = 0;
  m->col_peak = 0;
  return SG_OK;
}

float sg__meter_column_peak(const sg_meter *m) { return m->col_peak; }

int64_t sg__meter_frames(const sg_meter *m, unsigned *channels) {
  *channels = m->channels;
  return m->frames;
}

sg_status sg_meter_tap(void *user, const float *interleaved, size_t frames) {
  return sg_meter_add((sg_meter *)user, interleaved, frames);
}

static double db_or_silence(double lin) { return lin > 0 ? 20.0 * log10(lin) : SG_SILENCE_DB; }

sg_status sg_meter_result_get(const sg_meter *m, sg_meter_result *r) {
  if (!m || !r)
    return SG_E_INVAL;
  if (m->frozen) {
    *r = *m->frozen;
    return SG_OK;
  }
  memset(r, 0, sizeof *r);
  r->frames = m->frames;
  r->rate = m->rate;
  r->channels = m->channels;
  r->flags = m->flags;
  double pmax = 0, ss = 0, tpmax = 0;
  for (unsigned c = 0; c < m->channels; ++c) {
    r->sample_peak[c] = m->peak[c];
    if (m->peak[c] > pmax)
      pmax = m->peak[c];
    double sum = m->sum[c], sq = m->sumsq[c]; /* closed windows, then the open one's lanes */
    double os = 0, oq = 0;
    for (int j = 0; j < LANES; ++j) {
      os += m->wsl[c][j];
      oq += m->wql[c][j];
    }
    sum += os;
    sq += oq;
    r->rms[c] = m->frames ? sqrt(sq / (double)m->frames) : 0;
    r->dc[c] = m->frames ? sum / (double)m->frames : 0;
    ss += sq;
    if (m->flags & SG_METER_TRUE_PEAK) {
      double tp = m->tpk[c];
      r->true_peak[c] = tp;
      if (tp > tpmax)
        tpmax = tp;
    }
  }
  r->sample_peak_dbfs = db_or_silence(pmax);
  r->rms_dbfs =
      m->frames ? db_or_silence(sqrt(ss / ((double)m->frames * m->channels))) : SG_SILENCE_DB;
  r->true_peak_dbtp = (m->flags & SG_METER_TRUE_PEAK) ? db_or_silence(tpmax) : SG_SILENCE_DB;
  r->dc_window = m->dc_worst;
  r->dc_window_frame = m->dc_worst_at;
  r->dc_window_channel = m->dc_worst_ch;
  if (m->dc_closed == 1) { /* one full window: it alone */
    r->dc_window = m->dc_first;
    r->dc_window_frame = m->dc_first_at;
    r->dc_window_channel = m->dc_first_ch;
  }
  /* A file shorter than one window: its open window (a truncated Hann window is lopsided, so a
   * longer file's last partial windows are left out; the full ones reach to within half a
   * window of its end). */
  for (int k = 0; k < 2; ++k) {
    const dc_acc *a = &m->dca[k];
    if (a->fill && m->frames < (int64_t)m->dcw) {
      int64_t at;
      unsigned ch;
      dc_acc f;
      dc_fold(m, a, &f);
      double v = dc_window_value(m, &f, &at, &ch);
      dc_keep(v, at, ch, &r->dc_window, &r->dc_window_frame, &r->dc_window_channel);
    }
  }
  r->denormal_count = m->denormals;
  r->nan_count = m->nan_count;
  r->inf_count = m->inf_count;
  r->clipped_samples = m->clipped;
  r->clip_runs = m->clip_runs;
  r->first_signal_frame = m->first_sig;
  r->last_signal_frame = m->last_sig;
  r->integrated_lufs = r->short_term_max_lufs = r->momentary_max_lufs = SG_SILENCE_DB;
  if (m->loud_on) {
    const sg__loud *l = &m->loud;
    r->integrated_lufs = sg__loud_integrated(l);
    /* Momentary and short-term maxima are read every 100 ms once their window is full;
     * material shorter than 3 s has no full short-term window: report the one it has. */
    double smax = sg__loud_shortterm_max(l);
    if (m->frames < (int64_t)m->rate * 3 && sg__loud_window(l, SG__LOUD_SUBS) > smax)
      smax = sg__loud_window(l, SG__LOUD_SUBS);
    r->short_term_max_lufs = sg__loud_lufs(smax);
    r->momentary_max_lufs = sg__loud_lufs(sg__loud_momentary_max(l));
    double lra;
    if (sg__loud_range(l, &lra) == SG_OK)
      r->loudness_range_lu = lra;
  }
  return SG_OK;
}

size_t sg_meter_window_frames(const sg_meter *m) { return m ? m->win : 0; }

size_t sg_meter_window_count(const sg_meter *m) {
  return !m ? 0 : m->frozen ? m->fwin_n : m->act_n + (m->win_fill > 0);
}

double sg_meter_window_db(const sg_meter *m, size_t i) {
  if (!m)
    return SG_SILENCE_DB;
  if (m->frozen)
    return i + 1 < m->fwin_n ? m->fwin[i] : i + 1 == m->fwin_n ? m->fwin_last : SG_SILENCE_DB;
  if (i < m->act_n)
    return m->act[i];
  if (i == m->act_n && m->win_fill) {
    double ms = win_ss(m) / ((double)m->win_fill * m->channels);
    return ms > 0 ? 10.0 * log10(ms) : SG_SILENCE_DB;
  }
  return SG_SILENCE_DB;
}

int sg_meter_active(const sg_meter *m, int64_t a, int64_t b, double threshold_db) {
  if (!m || b <= a || a >= m->frames)
    return 0;
  if (a < 0)
    a = 0;
  size_t i0 = (size_t)(a / (int64_t)m->win);
  size_t i1 = (size_t)((b - 1) / (int64_t)m->win);
  size_t n = sg_meter_window_count(m);
  for (size_t i = i0; i <= i1 && i < n; ++i)
    if (sg_meter_window_db(m, i) >= threshold_db)
      return 1;
  return 0;
}

int64_t sg_meter_first_active(const sg_meter *m, double threshold_db) {
  size_t n = sg_meter_window_count(m);
  for (size_t i = 0; i < n; ++i)
    if (sg_meter_window_db(m, i) >= threshold_db)
      return (int64_t)(i * m->win);
  return -1;
}

int64_t sg_meter_last_active(const sg_meter *m, double threshold_db) {
  size_t n = sg_meter_window_count(m);
  for (size_t i = n; i-- > 0;)
    if (sg_meter_window_db(m, i) >= threshold_db) {
      int64_t end = (int64_t)((i + 1) * m->win);
      return end < m->frames ? end : m->frames;
    }
  return -1;
}

sg_status sg_meter_freeze(sg_meter **out, const sg_meter_result *r, size_t window_frames,
                          const double *window_db, size_t n_windows, sg_diag *d) {
  if (!out || !r || !window_frames || r->channels < 1 || r->channels > SG_METER_MAX_CHANNELS ||
      r->frames < 0 ||
      (uint64_t)n_windows != ((uint64_t)r->frames + window_frames - 1) / window_frames)
    return sg_diag_fail(d, SG_E_INVAL, "meter: inconsistent measurement to freeze");
  *out = NULL;
  sg_meter *m = calloc(1, sizeof *m);
  if (!m || !(m->frozen = malloc(sizeof *m->frozen)) ||
      (n_windows && !(m->fwin = malloc(n_windows * sizeof *m->fwin)))) {
    sg_meter_free(m);
    return sg_diag_fail(d, SG_E_NOMEM, "meter: out of memory");
  }
  *m->frozen = *r;
  m->fwin_n = n_windows;
  for (size_t i = 0; i + 1 < n_windows; ++i)
    m->fwin[i] = (float)SG_SILENCE_DB;
  m->fwin_last = SG_SILENCE_DB;
  if (window_db && sg_meter_freeze_set(m, 0, window_db, n_windows) != SG_OK) {
    sg_meter_free(m);
    return sg_diag_fail(d, SG_E_INVAL, "meter: an activity map a meter cannot have measured");
  }
  m->channels = r->channels;
  m->rate = r->rate;
  m->flags = r->flags;
  m->frames = r->frames;
  m->win = window_frames;
  *out = m;
  return SG_OK;
}

sg_status sg_meter_freeze_set(sg_meter *m, size_t i0, const double *window_db, size_t n) {
  if (!m || !m->frozen || (n && !window_db) || i0 > m->fwin_n || n > m->fwin_n - i0)
    return SG_E_INVAL;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = i0 + k;
    const double v = window_db[k];
    if (i + 1 == m->fwin_n) {
      m->fwin_last = v;
      continue;
    }
    const float f = (float)v; /* a closed window is kept as a float: exact, or not a meter's */
    if ((double)f != v && !(isnan(v) && isnan(f)))
      return SG_E_INVAL;
    m->fwin[i] = f;
  }
  return SG_OK;
}

sg_status sg_meter_file(const char *path, unsigned flags, sg_meter_result *result, sg_meter **keep,
                        sg_diag *d) {
  if (!path || !result)
    return sg_diag_fail(d, SG_E_INVAL, "meter: NULL argument");
  return sg_analysis_file_pass(path, flags, result, keep, NULL, NULL, d);
}
