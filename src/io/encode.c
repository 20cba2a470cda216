/* Copies of finished files: a frame range of a WAV (auditions) and a compressed preview of a
 * master. The range is copied as float32, so no sample is quantised or dithered twice; the
 * preview goes through libsndfile's encoders (FLAC, and MPEG-1/2 Layer III through LAME from
 * libsndfile 1.1 on). Both write a temporary name renamed into place when complete. */
#include "stemgate/io.h"

#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 16384

sg_status sg_audio_copy_range(const char *in, const char *out, int64_t from, int64_t to,
                              sg_diag *d) {
  sg_audio_reader *rd = NULL;
  sg_audio_info info;
  sg_status st = sg_audio_reader_open(&rd, in, &info, d);
  if (st != SG_OK)
    return st;
  if (from < 0 || to < from || to > info.frames) {
    sg_audio_reader_close(rd);
    return sg_diag_fail(d, SG_E_RANGE, "'%s': frames %lld..%lld outside its %lld frames", in,
                        (long long)from, (long long)to, (long long)info.frames);
  }
  sg_audio_writer_config c;
  sg_audio_writer_config_init(&c);
  c.rate = info.rate;
  c.channels = info.channels;
  c.format = SG_FMT_FLOAT32;
  sg_audio_writer *w = NULL;
  float *buf = malloc((size_t)BLOCK * info.channels * sizeof *buf);
  if (!buf)
    st = sg_diag_fail(d, SG_E_NOMEM, "copy: out of memory");
  if (st == SG_OK)
    st = sg_audio_reader_seek(rd, from, d);
  if (st == SG_OK)
    st = sg_audio_writer_open(&w, out, &c, d);
  for (int64_t left = to - from; st == SG_OK && left > 0;) {
    size_t got = 0;
    st = sg_audio_reader_read(rd, buf, left < BLOCK ? (size_t)left : BLOCK, &got, d);
    if (st == SG_OK && got == 0)
      st = sg_diag_fail(d, SG_E_IO, "'%s' ended early", in);
    if (st == SG_OK)
      st = sg_audio_writer_write(w, buf, got, d);
    left -= (int64_t)got;
  }
  if (w) {
    if (st == SG_OK)
      st = sg_audio_writer_close(w, d);
    else
      sg_audio_writer_abort(w);
  }
  free(buf);
  sg_audio_reader_close(rd);
  return st;
}

sg_status sg_audio_encode(const char *in, const char *out, const char *codec, sg_diag *d) {
  int fmt;
  if (!codec || !in || !out)
    return sg_diag_fail(d, SG_E_INVAL, "encode: NULL argument");
  if (!strcmp(codec, "flac"))
    fmt = SF_FORMAT_FLAC | SF_FORMAT_PCM_24;
  else if (!strcmp(codec, "mp3")) /* libsndfile >= 1.1 (Debian 12 has 1.2); checked below */
    fmt = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
  else
    return sg_diag_fail(d, SG_E_INVAL, "encode: codec '%s' (flac or mp3)", codec);
  sg_audio_reader *rd = NULL;
  sg_audio_info info;
  sg_status st = sg_audio_reader_open(&rd, in, &info, d);
  if (st != SG_OK)
    return st;
  if (info.bits == 16 && !strcmp(codec, "flac"))
    fmt = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
  SF_INFO si;
  memset(&si, 0, sizeof si);
  si.samplerate = (int)info.rate;
  si.channels = (int)info.channels;
  si.format = fmt;
  if (!sf_format_check(&si)) {
    sg_audio_reader_close(rd);
    return sg_diag_fail(d, SG_E_UNSUPPORTED,
                        "encode: this libsndfile (%s) cannot write %s at %u Hz, %u channels",
                        sf_version_string(), codec, info.rate, info.channels);
  }
  char tmp[2048];
  snprintf(tmp, sizeof tmp, "%s.%ld.partial", out, (long)getpid());
  SNDFILE *sf = sf_open(tmp, SFM_WRITE, &si);
  if (!sf) {
    sg_audio_reader_close(rd);
    return sg_diag_fail(d, SG_E_UNSUPPORTED, "encode: cannot write %s '%s': %s", codec, tmp,
                        sf_strerror(NULL));
  }
  float *buf = malloc((size_t)BLOCK * info.channels * sizeof *buf);
  if (!buf)
    st = sg_diag_fail(d, SG_E_NOMEM, "encode: out of memory");
  for (;;) {
    size_t got = 0;
    if (st != SG_OK || (st = sg_audio_reader_read(rd, buf, BLOCK, &got, d)) != SG_OK || !got)
      break;
    if (sf_writef_float(sf, buf, (sf_count_t)got) != (sf_count_t)got)
      st = sg_diag_fail(d, SG_E_IO, "encode: writing '%s' failed: %s", tmp, sf_strerror(sf));
  }
  if (sf_close(sf) != 0 && st == SG_OK)
    st = sg_diag_fail(d, SG_E_IO, "encode: finishing '%s' failed", tmp);
  free(buf);
  sg_audio_reader_close(rd);
  if (st == SG_OK && rename(tmp, out) != 0)
    st = sg_diag_fail(d, SG_E_IO, "encode: cannot rename '%s' to '%s'", tmp, out);
  if (st != SG_OK)
    remove(tmp);
  return st;
}
