/* Streaming meter: levels, loudness (ITU-R BS.1770-4 / EBU R128, loudness.c), true peak
 * (sg_truepeak: ITU-R BS.1770-4 Annex 2, 4x polyphase oversampling), clipping, NaN/Inf and the
 * activity map. See include/stemgate/analysis.h. */
#include "loudness.h"
#include "stemgate/analysis.h"
#include "stemgate/dsp.h"
#include "stemgate/io.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Blocks of at most this many frames (sanitised copy of the input). */
#define CHUNK 4096

/* One DC window being summed: Hann-weighted sums (w = (1 - cos phase) / 2, the phase turned
 * by a rotation so no sin/cos runs per sample; reset at every window, so it cannot drift). */
typedef struct dc_acc {
  int64_t start; /* first frame of the window */
  size_t fill;
  double sum[SG_METER_MAX_CHANNELS], ss, wsum;
  double c, s; /* cos and sin of the window's phase at the next frame */
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
  double win_ss;
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
  float *scratch; /* CHUNK * channels */
  /* True peak per channel. libebur128's true-peak mode ran ~10x slower than this block
   * detector (per-sample branches, double arithmetic) and dominated render and verify time. */
  sg_truepeak tp[SG_METER_MAX_CHANNELS];
};

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
  m->dca[0].c = m->dca[1].c = 1.0;
  m->dca[1].start = (int64_t)(m->dcw / 2);
  m->dc_worst_at = m->dc_first_at = -1;
  m->scratch = malloc(sizeof(float) * CHUNK * channels);
  if (!m->scratch)
    goto nomem;
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
  free(m->act);
  free(m->scratch);
  free(m);
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
  double ms = m->win_ss / ((double)m->win * m->channels);
  m->act[m->act_n++] = (float)(ms > 0 ? 10.0 * log10(ms) : SG_SILENCE_DB);
  m->win_ss = 0;
  m->win_fill = 0;
  return SG_OK;
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

/* Adds frame pos, x (channels values, finite; fss their sum of squares), to both DC windows,
 * closing a full one. */
static void dc_add(sg_meter *m, int64_t pos, const float *x, double fss) {
  for (int k = 0; k < 2; ++k) {
    dc_acc *a = &m->dca[k];
    if (pos < a->start) /* the second window starts half a window in */
      continue;
    double w = 0.5 - 0.5 * a->c;
    for (unsigned c = 0; c < m->channels; ++c)
      a->sum[c] += w * x[c];
    a->ss += w * fss;
    a->wsum += w;
    double nc = a->c * m->dc_rot_c - a->s * m->dc_rot_s;
    a->s = a->s * m->dc_rot_c + a->c * m->dc_rot_s;
    a->c = nc;
    if (++a->fill == m->dcw) {
      dc_close(m, a);
      int64_t next = a->start + (int64_t)m->dcw;
      memset(a, 0, sizeof *a);
      a->start = next;
      a->c = 1.0;
    }
  }
}

sg_status sg_meter_add(sg_meter *m, const float *x, size_t frames) {
  if (!m || (!x && frames))
    return SG_E_INVAL;
  const unsigned C = m->channels;
  while (frames) {
    size_t k = frames < CHUNK ? frames : CHUNK;
    float *s = m->scratch;
    for (size_t i = 0; i < k; ++i) {
      double fss = 0;
      for (unsigned c = 0; c < C; ++c) {
        float v = x[i * C + c];
        if (!isfinite(v)) {
          if (isnan(v))
            m->nan_count++;
          else
            m->inf_count++;
          v = 0.0f;
        }
        s[i * C + c] = v;
        if (v != 0.0f && fabsf(v) < FLT_MIN)
          m->denormals++;
        double a = fabs((double)v);
        if (a > m->peak[c])
          m->peak[c] = a;
        m->sum[c] += v;
        m->sumsq[c] += (double)v * v;
        fss += (double)v * v;
        if (a >= SG_SIGNAL_LEVEL) {
          m->last_sig = m->frames + (int64_t)i;
          if (m->first_sig < 0)
            m->first_sig = m->last_sig;
        }
        if (a >= SG_CLIP_LEVEL) {
          m->clipped++;
          if (++m->run[c] == SG_CLIP_RUN)
            m->clip_runs++;
        } else {
          m->run[c] = 0;
        }
      }
      m->win_ss += fss;
      if (++m->win_fill == m->win && push_window(m) != SG_OK)
        return SG_E_NOMEM;
      dc_add(m, m->frames + (int64_t)i, s + i * C, fss);
    }
    if (m->flags & SG_METER_TRUE_PEAK)
      for (unsigned c = 0; c < C; ++c)
        sg_truepeak_process(&m->tp[c], s + c, C, k);
    if (m->loud_on) {
      const float *chp[SG_METER_MAX_CHANNELS];
      for (unsigned c = 0; c < C; ++c)
        chp[c] = s + c;
      if (sg__loud_add(&m->loud, chp, C, k) != SG_OK)
        return SG_E_NOMEM;
    }
    m->frames += (int64_t)k;
    x += k * C;
    frames -= k;
  }
  return SG_OK;
}

sg_status sg_meter_tap(void *user, const float *interleaved, size_t frames) {
  return sg_meter_add((sg_meter *)user, interleaved, frames);
}

static double db_or_silence(double lin) { return lin > 0 ? 20.0 * log10(lin) : SG_SILENCE_DB; }

sg_status sg_meter_result_get(const sg_meter *m, sg_meter_result *r) {
  if (!m || !r)
    return SG_E_INVAL;
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
    r->rms[c] = m->frames ? sqrt(m->sumsq[c] / (double)m->frames) : 0;
    r->dc[c] = m->frames ? m->sum[c] / (double)m->frames : 0;
    ss += m->sumsq[c];
    if (m->flags & SG_METER_TRUE_PEAK) {
      double tp = sg_truepeak_value(&m->tp[c]);
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
      double v = dc_window_value(m, a, &at, &ch);
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

size_t sg_meter_window_count(const sg_meter *m) { return m ? m->act_n + (m->win_fill > 0) : 0; }

double sg_meter_window_db(const sg_meter *m, size_t i) {
  if (!m)
    return SG_SILENCE_DB;
  if (i < m->act_n)
    return m->act[i];
  if (i == m->act_n && m->win_fill) {
    double ms = m->win_ss / ((double)m->win_fill * m->channels);
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

sg_status sg_meter_file(const char *path, unsigned flags, sg_meter_result *result, sg_meter **keep,
                        sg_diag *d) {
  if (!path || !result)
    return sg_diag_fail(d, SG_E_INVAL, "meter: NULL argument");
  return sg_analysis_file_pass(path, flags, result, keep, NULL, NULL, d);
}
