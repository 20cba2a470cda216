/* Block streams in and out of WAV files for the mix module. The song end is faded with a
 * raised cosine (Hann half-window) so a cut tail never clicks. */
#include "mix_internal.h"

#include <math.h>
#include <string.h>

int64_t sg__end_fade_len(int64_t frames, unsigned rate) {
  const int64_t len = (int64_t)(SG_MIX_END_FADE_MS * 1e-3 * rate);
  return len < frames ? len : frames;
}

float sg__end_fade_gain(int64_t frames, int64_t len, int64_t f) {
  const int64_t start = frames - len;
  if (f < start || len <= 0)
    return 1.0f;
  const double x = (double)(f - start + 1) / (double)len; /* (0, 1] */
  return (float)(0.5 * (1.0 + cos(SG_PI * x)));
}

sg_status sg__out_open(sg__out *o, const char *path, const sg_audio_writer_config *cfg,
                       int64_t frames, sg_meter *meter, sg_diag *d) {
  memset(o, 0, offsetof(sg__out, buf));
  if (cfg->channels < 1 || cfg->channels > 2)
    return sg_diag_fail(d, SG_E_RANGE, "mix: %u channels (stems are mono or stereo)",
                        cfg->channels);
  o->channels = cfg->channels;
  o->frames = frames;
  o->meter = meter;
  o->fade_len = sg__end_fade_len(frames, cfg->rate);
  sg_audio_writer_config c = *cfg;
  if (meter) { /* else the caller's own tap, if any, stays */
    c.tap = sg_meter_tap;
    c.tap_user = meter;
  }
  return sg_audio_writer_open(&o->w, path, &c, d);
}

void sg__out_set_fade(sg__out *o, int64_t len) {
  if (len > o->fade_len)
    o->fade_len = len < o->frames ? len : o->frames;
}

sg_status sg__out_write(sg__out *o, const float *L, const float *R, size_t n, sg_diag *d) {
  if (o->pos >= o->frames)
    return SG_OK;
  if ((int64_t)n > o->frames - o->pos)
    n = (size_t)(o->frames - o->pos);
  const int64_t fade_start = o->frames - o->fade_len;
  for (size_t i = 0; i < n; ++i) {
    const int64_t f = o->pos + (int64_t)i;
    const float g = f >= fade_start ? sg__end_fade_gain(o->frames, o->fade_len, f) : 1.0f;
    if (o->channels == 2) {
      o->buf[2 * i] = L[i] * g;
      o->buf[2 * i + 1] = R[i] * g;
    } else {
      o->buf[i] = sg__out_mono(L[i], R[i], g);
    }
  }
  o->pos += (int64_t)n;
  return sg_audio_writer_write(o->w, o->buf, n, d);
}

sg_status sg__out_close(sg__out *o, sg_diag *d) {
  if (o->pos != o->frames) {
    sg__out_abort(o);
    return sg_diag_fail(d, SG_E_INTERNAL, "mix: wrote %lld of %lld frames", (long long)o->pos,
                        (long long)o->frames);
  }
  sg_status st = sg_audio_writer_close(o->w, d);
  o->w = NULL;
  return st;
}

void sg__out_abort(sg__out *o) {
  sg_audio_writer_abort(o->w);
  o->w = NULL;
}

sg_status sg__in_open(sg__in *in, const char *path, sg_diag *d) {
  in->r = NULL;
  sg_status st = sg_audio_reader_open(&in->r, path, &in->info, d);
  if (st != SG_OK)
    return st;
  if (in->info.channels < 1 || in->info.channels > 2) {
    sg__in_close(in);
    return sg_diag_fail(d, SG_E_FORMAT, "mix: '%s' has %u channels (stems are mono or stereo)",
                        path, in->info.channels);
  }
  return SG_OK;
}

sg_status sg__in_read(sg__in *in, float *L, float *R, size_t n, sg_diag *d) {
  size_t got = 0;
  sg_status st = sg_audio_reader_read(in->r, in->buf, n, &got, d);
  if (st != SG_OK)
    return st;
  if (in->info.channels == 2) {
    for (size_t i = 0; i < got; ++i) {
      L[i] = in->buf[2 * i];
      R[i] = in->buf[2 * i + 1];
    }
  } else {
    for (size_t i = 0; i < got; ++i)
      L[i] = R[i] = in->buf[i];
  }
  for (size_t i = got; i < n; ++i)
    L[i] = R[i] = 0.0f;
  return SG_OK;
}

sg_status sg__in_add(sg__in *in, float *L, float *R, size_t n, sg_diag *d) {
  size_t got = 0;
  sg_status st = sg_audio_reader_read(in->r, in->buf, n, &got, d);
  if (st != SG_OK)
    return st;
  const float *x = in->buf;
  if (in->info.channels == 2) {
    for (size_t i = 0; i < got; ++i) {
      L[i] += x[2 * i];
      R[i] += x[2 * i + 1];
    }
  } else {
    for (size_t i = 0; i < got; ++i) {
      L[i] += x[i];
      R[i] += x[i];
    }
  }
  for (size_t i = got; i < n; ++i) { /* the zeros sg__in_read gives: -0 + 0 is +0 */
    L[i] += 0.0f;
    R[i] += 0.0f;
  }
  return SG_OK;
}

void sg__in_close(sg__in *in) {
  sg_audio_reader_close(in->r);
  in->r = NULL;
}

float sg__peak(const float *L, const float *R, size_t n) {
  float p = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    float a = fabsf(L[i]), b = fabsf(R[i]);
    p = a > p ? a : p;
    p = b > p ? b : p;
  }
  return p;
}
