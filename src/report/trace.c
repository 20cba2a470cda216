/* The streaming min/max envelope and, for a master, short-term loudness and true peak per
 * column (see report.h). Fixed memory: a few floats per column and one sanitised block. */
#include "report/trace_internal.h"
#include "stemgate/dsp.h"
#include "stemgate/io.h"
#include "stemgate/report.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 4096 /* frames sanitised at once */

/* What a saved trace's columns mean: bump when a column measures anything else (the envelope,
 * the loudness window, the true-peak detector), so no trace saved before is used again. */
#define TRACE_VERSION 1u
#define TRACE_MAGIC "SGTRACE"               /* 8 bytes with its NUL */
#define TRACE_HEAD (8 + 6 * 4 + 2 * 8 + 64) /* magic, six u32, two i64, the key */

struct sg_trace {
  unsigned channels, rate;
  int cols;
  int64_t per_col; /* frames per column */
  int64_t fed;     /* frames seen */
  float *lo, *hi, *st, *tp;
  int loud;              /* short-term loudness and true peak measured */
  sg__loud lm;           /* BS.1770-4 short-term loudness (the analysis module's) */
  sg_truepeak tp_det[8]; /* BS.1770-4 Annex 2, per channel; its peak restarts per column */
  /* The column's true peak so far (linear, every channel) and its column: each detector starts
   * a block from it, so the detector's bounds skip what cannot beat it (sg_truepeak_process:
   * the result is the full computation's; only the column's maximum is kept anyway). */
  float col_peak;
  int peak_col;
  /* Fed with a meter (sg__trace_add_metered) that keeps the columns' true peaks: read from it,
   * the detectors above stay idle. */
  const sg_meter *tp_meter;
  float *buf; /* BLOCK frames, non-finite samples as 0 */
  int sealed; /* loaded from a saved trace: read only */
};

sg_status sg_trace_create(sg_trace **out, const sg_trace_config *c, sg_diag *d) {
  *out = NULL;
  if (!c || c->channels < 1 || c->channels > 8 || c->rate < 1000 || c->frames < 0)
    return sg_diag_fail(d, SG_E_INVAL, "report: bad trace configuration");
  if (c->loudness && (c->rate < 8000 || c->rate > 768000))
    return sg_diag_fail(d, SG_E_INVAL, "report: loudness trace at %u Hz (8000..768000)", c->rate);
  sg_trace *t = calloc(1, sizeof *t);
  if (!t)
    return sg_diag_fail(d, SG_E_NOMEM, "report: out of memory");
  t->channels = c->channels;
  t->rate = c->rate;
  t->cols = c->cols > 0 ? c->cols : SG_REPORT_COLS;
  t->per_col = (c->frames + t->cols - 1) / t->cols;
  if (t->per_col < 1)
    t->per_col = 1;
  size_t n = (size_t)t->cols;
  t->lo = malloc(n * sizeof *t->lo);
  t->hi = malloc(n * sizeof *t->hi);
  t->buf = malloc((size_t)BLOCK * c->channels * sizeof *t->buf);
  int ok = t->lo && t->hi && t->buf;
  if (ok && c->loudness) {
    t->st = malloc(n * sizeof *t->st);
    t->tp = malloc(n * sizeof *t->tp);
    ok = t->st && t->tp;
    if (ok) {
      sg__loud_init(&t->lm, c->channels, c->rate);
      sg_truepeak_config tc;
      sg_truepeak_config_init(&tc);
      for (unsigned ch = 0; ok && ch < c->channels; ++ch) {
        ok = sg_truepeak_init(&t->tp_det[ch], &tc, c->rate) == SG_OK;
        sg_truepeak_reset(&t->tp_det[ch]);
      }
      t->loud = ok;
    }
  }
  if (!ok) {
    sg_trace_free(t);
    return sg_diag_fail(d, SG_E_NOMEM, "report: out of memory");
  }
  for (size_t i = 0; i < n; ++i) {
    t->lo[i] = 1.0f;
    t->hi[i] = -1.0f; /* lo > hi: a column nothing reached */
    if (t->st) {
      t->st[i] = (float)SG_SILENCE_DB;
      t->tp[i] = (float)SG_SILENCE_DB;
    }
  }
  *out = t;
  return SG_OK;
}

static void keep_peak(sg_trace *t, int col, double peak) {
  float db = peak > 0 ? (float)(20.0 * log10(peak)) : (float)SG_SILENCE_DB;
  if (db > t->tp[col])
    t->tp[col] = db;
}

/* Frames [0, n) of x all fall into column col; own: the trace K-weights them itself; own_tp: it
 * interpolates the true peak itself (else its caller reads the meter's). */
static sg_status add_in_column(sg_trace *t, int col, const float *x, size_t n, int own,
                               int own_tp) {
  const unsigned ch = t->channels;
  const int copy = t->loud && (own || own_tp); /* the sanitised block is read again */
  float lo = t->lo[col], hi = t->hi[col];
  for (size_t off = 0; off < n;) {
    size_t m = n - off < BLOCK ? n - off : BLOCK;
    const float *p = x + off * ch;
    for (size_t i = 0; i < m * ch; ++i) {
      float v = isfinite(p[i]) ? p[i] : 0.0f;
      if (copy)
        t->buf[i] = v;
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    if (copy) {
      const float *chp[8];
      for (unsigned c = 0; c < ch; ++c)
        chp[c] = t->buf + c;
      if (own && sg__loud_add(&t->lm, chp, ch, m) != SG_OK)
        return SG_E_NOMEM;
    }
    if (t->loud && own_tp) {
      if (t->peak_col != col) {
        t->peak_col = col;
        t->col_peak = 0;
      }
      double peak = 0;
      for (unsigned c = 0; c < ch; ++c) {
        t->tp_det[c].peak = t->col_peak; /* the column's so far (the history stays) */
        double v = sg_truepeak_process(&t->tp_det[c], t->buf + c, ch, m);
        if (v > peak)
          peak = v;
      }
      t->col_peak = (float)peak;
      keep_peak(t, col, peak);
    }
    off += m;
  }
  t->lo[col] = lo;
  t->hi[col] = hi;
  return SG_OK;
}

/* lm: the loudness read at each column's end, the trace's own or one fed the same samples;
 * t->tp_meter, when set, has been fed these frames too and holds their column's true peak. */
static sg_status trace_add(sg_trace *t, const float *x, size_t frames, const sg__loud *lm) {
  if (!t || t->sealed)
    return SG_E_INVAL;
  size_t off = 0;
  while (off < frames) {
    int64_t col = t->fed / t->per_col;
    int last = col >= t->cols - 1;
    if (last)
      col = t->cols - 1;
    size_t room = last ? frames - off : (size_t)((col + 1) * t->per_col - t->fed);
    size_t m = frames - off < room ? frames - off : room;
    sg_status st = add_in_column(t, (int)col, x + off * t->channels, m, lm == &t->lm, !t->tp_meter);
    if (st != SG_OK)
      return st;
    if (t->loud && t->tp_meter)
      keep_peak(t, (int)col, sg__meter_column_peak(t->tp_meter));
    off += m;
    t->fed += (int64_t)m;
    if (t->loud && (last || t->fed % t->per_col == 0)) {
      /* Short-term loudness at the column's end (at the 100 ms boundary before it). */
      double v = sg__loud_lufs(sg__loud_window(lm, SG__LOUD_SUBS));
      t->st[col] = (float)(v > SG_SILENCE_DB ? v : SG_SILENCE_DB);
    }
  }
  return SG_OK;
}

sg_status sg_trace_add(sg_trace *t, const float *x, size_t frames) {
  if (t && t->tp_meter) /* its true peaks come from the meter, which these frames miss */
    return SG_E_INVAL;
  return trace_add(t, x, frames, t ? &t->lm : NULL);
}

/* Frames the trace takes before its current column ends (SIZE_MAX in the last column). */
static size_t trace_room(const sg_trace *t) {
  if (t->fed / t->per_col >= t->cols - 1)
    return SIZE_MAX;
  return (size_t)((t->fed / t->per_col + 1) * t->per_col - t->fed);
}

sg_status sg__trace_add_metered(sg_trace *t, sg_meter *m, const float *x, size_t frames) {
  unsigned mch = 0;
  if (!t || !m || t->sealed || sg__meter_frames(m, &mch) != t->fed || mch != t->channels ||
      (t->fed && t->tp_meter && t->tp_meter != m))
    return SG_E_INVAL;
  if (t->fed == 0) /* the meter takes the columns now, or the trace interpolates itself */
    t->tp_meter = t->loud && sg__meter_columns(m, t->per_col, t->cols) == SG_OK ? m : NULL;
  const sg__loud *lm = sg__meter_loud(m);
  if (!lm)
    lm = &t->lm;
  while (frames) {
    size_t k = trace_room(t);
    k = k < frames ? k : frames;
    sg_status st = sg_meter_add(m, x, k);
    if (st == SG_OK)
      st = trace_add(t, x, k, lm);
    if (st != SG_OK)
      return st;
    x += k * t->channels;
    frames -= k;
  }
  return SG_OK;
}

sg_status sg_trace_tap(void *user, const float *x, size_t frames) {
  return sg_trace_add(user, x, frames);
}

void sg_trace_free(sg_trace *t) {
  if (!t)
    return;
  sg__loud_free(&t->lm);
  free(t->lo);
  free(t->hi);
  free(t->st);
  free(t->tp);
  free(t->buf);
  free(t);
}

sg_status sg_trace_file(const char *path, int loudness, sg_trace **out, sg_diag *d) {
  *out = NULL;
  sg_audio_reader *rd = NULL;
  sg_audio_info info;
  sg_status st = sg_audio_reader_open(&rd, path, &info, d);
  if (st != SG_OK)
    return st;
  sg_trace_config c = {info.channels, info.rate, info.frames, 0, loudness};
  sg_trace *t = NULL;
  float *buf = malloc((size_t)BLOCK * info.channels * sizeof *buf);
  if (!buf)
    st = sg_diag_fail(d, SG_E_NOMEM, "report: out of memory");
  if (st == SG_OK)
    st = sg_trace_create(&t, &c, d);
  size_t got = 1;
  while (st == SG_OK && got > 0) {
    st = sg_audio_reader_read(rd, buf, BLOCK, &got, d);
    if (st == SG_OK && got > 0 && (st = sg_trace_add(t, buf, got)) != SG_OK)
      st = sg_diag_fail(d, st, "report: cannot measure '%s'", path);
  }
  free(buf);
  sg_audio_reader_close(rd);
  if (st != SG_OK) {
    sg_trace_free(t);
    return st;
  }
  *out = t;
  return SG_OK;
}

/* ---- a finished trace kept on disk (little-endian, floats by their bits) ----------------------
 */

static unsigned char *put_u32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    *p++ = (unsigned char)(v >> (8 * i));
  return p;
}

static unsigned char *put_i64(unsigned char *p, int64_t v) {
  uint64_t u = (uint64_t)v;
  for (int i = 0; i < 8; ++i)
    *p++ = (unsigned char)(u >> (8 * i));
  return p;
}

static const unsigned char *get_u32(const unsigned char *p, uint32_t *v) {
  *v = 0;
  for (int i = 0; i < 4; ++i)
    *v |= (uint32_t)p[i] << (8 * i);
  return p + 4;
}

static const unsigned char *get_i64(const unsigned char *p, int64_t *v) {
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i)
    u |= (uint64_t)p[i] << (8 * i);
  *v = (int64_t)u;
  return p + 8;
}

static unsigned char *put_floats(unsigned char *p, const float *x, int n) {
  for (int i = 0; i < n; ++i) {
    uint32_t b;
    memcpy(&b, &x[i], 4);
    p = put_u32(p, b);
  }
  return p;
}

static const unsigned char *get_floats(const unsigned char *p, float *x, int n) {
  for (int i = 0; i < n; ++i) {
    uint32_t b;
    p = get_u32(p, &b);
    memcpy(&x[i], &b, 4);
  }
  return p;
}

static int key_ok(const char *key) {
  if (!key || strlen(key) != 64)
    return 0;
  for (int i = 0; i < 64; ++i)
    if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f')))
      return 0;
  return 1;
}

static size_t saved_size(int cols, int loud) {
  return TRACE_HEAD + (size_t)cols * 4 * (loud ? 4 : 2);
}

sg_status sg_trace_save(const sg_trace *t, const char *key, const char *path, sg_diag *d) {
  if (!t || !path || !key_ok(key))
    return sg_diag_fail(d, SG_E_INVAL, "report: cannot save a trace without a SHA-256 key");
  size_t n = saved_size(t->cols, t->loud);
  unsigned char *buf = malloc(n), *p = buf;
  if (!buf)
    return sg_diag_fail(d, SG_E_NOMEM, "report: out of memory");
  memcpy(p, TRACE_MAGIC, 8);
  p += 8;
  p = put_u32(p, TRACE_VERSION);
  p = put_u32(p, t->channels);
  p = put_u32(p, t->rate);
  p = put_u32(p, (uint32_t)t->cols);
  p = put_u32(p, (uint32_t)t->loud);
  p = put_u32(p, 0);
  p = put_i64(p, t->per_col);
  p = put_i64(p, t->fed);
  memcpy(p, key, 64);
  p += 64;
  p = put_floats(p, t->lo, t->cols);
  p = put_floats(p, t->hi, t->cols);
  if (t->loud) {
    p = put_floats(p, t->st, t->cols);
    p = put_floats(p, t->tp, t->cols);
  }
  char tmp[4096 + 16];
  if (snprintf(tmp, sizeof tmp, "%s.partial", path) >= (int)sizeof tmp) {
    free(buf);
    return sg_diag_fail(d, SG_E_RANGE, "report: path too long: '%s'", path);
  }
  FILE *f = fopen(tmp, "wb");
  int ok = f && fwrite(buf, 1, n, f) == n;
  int err = ok ? 0 : errno;
  if (f && fclose(f) != 0 && ok)
    ok = 0, err = errno;
  free(buf);
  if (ok && rename(tmp, path) != 0)
    ok = 0, err = errno;
  if (!ok) {
    remove(tmp);
    return sg_diag_fail(d, SG_E_IO, "report: cannot write the trace '%s': %s", path,
                        strerror(err ? err : EIO));
  }
  return SG_OK;
}

sg_status sg_trace_load(const char *path, const char *key, int loudness, sg_trace **out) {
  *out = NULL;
  if (!path || !key_ok(key))
    return SG_E_INVAL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return SG_E_NOTFOUND;
  const size_t most = saved_size(SG_REPORT_COLS, 1);
  unsigned char *buf = malloc(most + 1);
  size_t n = buf ? fread(buf, 1, most + 1, f) : 0;
  fclose(f);
  sg_status st = SG_E_NOTFOUND;
  uint32_t ver = 0, ch = 0, rate = 0, cols = 0, loud = 0, zero = 1;
  int64_t per_col = 0, fed = 0;
  const unsigned char *p = buf;
  if (buf && n >= TRACE_HEAD && !memcmp(p, TRACE_MAGIC, 8)) {
    p = get_u32(p + 8, &ver);
    p = get_u32(p, &ch);
    p = get_u32(p, &rate);
    p = get_u32(p, &cols);
    p = get_u32(p, &loud);
    p = get_u32(p, &zero);
    p = get_i64(p, &per_col);
    p = get_i64(p, &fed);
    if (ver == TRACE_VERSION && !memcmp(p, key, 64) && cols == SG_REPORT_COLS &&
        loud == (uint32_t)(loudness != 0) && zero == 0 && ch >= 1 && ch <= 8 && rate >= 1000 &&
        per_col >= 1 && fed >= 0 && n == saved_size((int)cols, (int)loud))
      st = SG_OK;
    p += 64;
  }
  sg_trace *t = NULL;
  if (st == SG_OK) {
    sg_trace_config c = {ch, rate, 0, (int)cols, 0};
    if (sg_trace_create(&t, &c, NULL) != SG_OK)
      st = SG_E_NOMEM;
  }
  if (st == SG_OK && loud) {
    t->st = malloc(cols * sizeof *t->st);
    t->tp = malloc(cols * sizeof *t->tp);
    if (!t->st || !t->tp)
      st = SG_E_NOMEM;
  }
  if (st == SG_OK) {
    t->per_col = per_col;
    t->fed = fed;
    t->loud = (int)loud;
    t->sealed = 1;
    p = get_floats(p, t->lo, (int)cols);
    p = get_floats(p, t->hi, (int)cols);
    if (loud) {
      p = get_floats(p, t->st, (int)cols);
      get_floats(p, t->tp, (int)cols);
    }
    *out = t;
    t = NULL;
  }
  sg_trace_free(t);
  free(buf);
  return st;
}

sg_status sg_report_wave_from(sg_report_wave *w, const sg_trace *t) {
  memset(w, 0, sizeof *w);
  if (!t || t->fed == 0)
    return SG_OK;
  int64_t used = (t->fed + t->per_col - 1) / t->per_col;
  int n = used < t->cols ? (int)used : t->cols;
  size_t bytes = (size_t)n * sizeof(float);
  w->lo = malloc(bytes);
  w->hi = malloc(bytes);
  if (t->loud) {
    w->st_lufs = malloc(bytes);
    w->tp_dbtp = malloc(bytes);
  }
  if (!w->lo || !w->hi || (t->loud && (!w->st_lufs || !w->tp_dbtp))) {
    free(w->lo);
    free(w->hi);
    free(w->st_lufs);
    free(w->tp_dbtp);
    memset(w, 0, sizeof *w);
    return SG_E_NOMEM;
  }
  memcpy(w->lo, t->lo, bytes);
  memcpy(w->hi, t->hi, bytes);
  if (t->loud) {
    memcpy(w->st_lufs, t->st, bytes);
    memcpy(w->tp_dbtp, t->tp, bytes);
  }
  w->n = n;
  w->col_s = (double)t->per_col / t->rate;
  return SG_OK;
}
