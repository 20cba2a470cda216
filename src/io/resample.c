/* Sample-rate and channel conversion for conforming outside material (reference tracks) to the
 * project's format. Rate conversion is libsamplerate's best sinc converter (J. O. Smith,
 * "Digital Audio Resampling Home Page", bandlimited interpolation), run block by block so any
 * length streams through bounded memory. */
#include "stemgate/io.h"

#include <samplerate.h>
#include <stdlib.h>
#include <string.h>

struct sg_resampler {
  SRC_STATE *src;
  unsigned channels;
  double ratio;
};

sg_status sg_resampler_create(sg_resampler **out, unsigned channels, unsigned from_rate,
                              unsigned to_rate, sg_diag *d) {
  if (!out || channels < 1 || channels > 64 || from_rate == 0 || to_rate == 0)
    return sg_diag_fail(d, SG_E_INVAL, "resampler: bad arguments (%u ch, %u -> %u Hz)", channels,
                        from_rate, to_rate);
  sg_resampler *r = calloc(1, sizeof *r);
  if (!r)
    return sg_diag_fail(d, SG_E_NOMEM, "resampler: out of memory");
  int err = 0;
  r->src = src_new(SRC_SINC_BEST_QUALITY, (int)channels, &err);
  if (!r->src) {
    free(r);
    return sg_diag_fail(d, SG_E_INTERNAL, "resampler: %s", src_strerror(err));
  }
  r->channels = channels;
  r->ratio = (double)to_rate / (double)from_rate;
  *out = r;
  return SG_OK;
}

sg_status sg_resampler_process(sg_resampler *r, const float *in, size_t in_frames, float *out,
                               size_t out_cap, int last, size_t *used, size_t *produced,
                               sg_diag *d) {
  if (!r || !out || !used || !produced || (!in && in_frames))
    return sg_diag_fail(d, SG_E_INVAL, "resampler: NULL argument");
  SRC_DATA sd;
  memset(&sd, 0, sizeof sd);
  sd.data_in = in;
  sd.input_frames = (long)in_frames;
  sd.data_out = out;
  sd.output_frames = (long)out_cap;
  sd.end_of_input = last;
  sd.src_ratio = r->ratio;
  int err = src_process(r->src, &sd);
  if (err)
    return sg_diag_fail(d, SG_E_INTERNAL, "resampler: %s", src_strerror(err));
  *used = (size_t)sd.input_frames_used;
  *produced = (size_t)sd.output_frames_gen;
  return SG_OK;
}

void sg_resampler_destroy(sg_resampler *r) {
  if (!r)
    return;
  src_delete(r->src);
  free(r);
}

/* Maps ic input channels to oc output channels (mean downmix, duplicate for mono -> stereo). */
static void map_channels(const float *in, unsigned ic, float *out, unsigned oc, size_t frames) {
  for (size_t i = 0; i < frames; ++i) {
    const float *f = in + i * ic;
    if (oc == ic) {
      memcpy(out + i * oc, f, oc * sizeof *f);
    } else if (oc == 1) {
      float s = 0;
      for (unsigned c = 0; c < ic; ++c)
        s += f[c];
      out[i] = s / (float)ic;
    } else if (ic == 1) {
      for (unsigned c = 0; c < oc; ++c)
        out[i * oc + c] = f[0];
    } else { /* ic > 2 -> stereo: odd channels left, even right */
      float l = 0, rr = 0;
      unsigned nl = 0, nr = 0;
      for (unsigned c = 0; c < ic; ++c) {
        if (c % 2 == 0)
          l += f[c], ++nl;
        else
          rr += f[c], ++nr;
      }
      out[i * 2] = l / (float)nl;
      out[i * 2 + 1] = rr / (float)nr;
    }
  }
}

sg_status sg_audio_convert_file(const char *in_path, const char *out_path, unsigned rate,
                                unsigned channels, sg_diag *d) {
  enum { BLOCK = 8192 };
  sg_audio_reader *rd = NULL;
  sg_audio_writer *wr = NULL;
  sg_resampler *rs = NULL;
  float *in = NULL, *mapped = NULL, *res = NULL;
  sg_audio_info info;
  if (channels < 1 || channels > 2)
    return sg_diag_fail(d, SG_E_RANGE, "convert: %u output channels (allowed 1 or 2)", channels);
  sg_status st = sg_audio_reader_open(&rd, in_path, &info, d);
  if (st != SG_OK)
    return st;
  double ratio = (double)rate / info.rate;
  size_t res_cap = (size_t)(BLOCK * ratio) + 64;
  in = malloc((size_t)BLOCK * info.channels * sizeof *in);
  mapped = malloc((size_t)BLOCK * channels * sizeof *mapped);
  res = malloc(res_cap * channels * sizeof *res);
  if (!in || !mapped || !res) {
    st = sg_diag_fail(d, SG_E_NOMEM, "convert: out of memory");
    goto done;
  }
  sg_audio_writer_config cfg;
  sg_audio_writer_config_init(&cfg);
  cfg.rate = rate;
  cfg.channels = channels;
  cfg.format = SG_FMT_FLOAT32;
  if (rate != info.rate && (st = sg_resampler_create(&rs, channels, info.rate, rate, d)) != SG_OK)
    goto done;
  if ((st = sg_audio_writer_open(&wr, out_path, &cfg, d)) != SG_OK)
    goto done;
  for (;;) {
    size_t got = 0;
    if ((st = sg_audio_reader_read(rd, in, BLOCK, &got, d)) != SG_OK)
      goto done;
    map_channels(in, info.channels, mapped, channels, got);
    if (!rs) {
      if (got && (st = sg_audio_writer_write(wr, mapped, got, d)) != SG_OK)
        goto done;
    } else {
      size_t off = 0;
      int last = got == 0;
      do { /* drain: the converter may need several calls for one input block */
        size_t used = 0, made = 0;
        st = sg_resampler_process(rs, mapped + off * channels, got - off, res, res_cap, last, &used,
                                  &made, d);
        if (st != SG_OK)
          goto done;
        off += used;
        if (made && (st = sg_audio_writer_write(wr, res, made, d)) != SG_OK)
          goto done;
        if (last && made == 0)
          break;
      } while (off < got || last);
    }
    if (got == 0)
      break;
  }
  st = sg_audio_writer_close(wr, d);
  wr = NULL;
done:
  sg_audio_writer_abort(wr);
  sg_resampler_destroy(rs);
  sg_audio_reader_close(rd);
  free(in);
  free(mapped);
  free(res);
  return st;
}
