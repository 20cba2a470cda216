/* Streaming audio reader over libsndfile: any format it reads (WAV, RF64, AIFF, FLAC, OGG, ...),
 * delivered as interleaved float in caller-sized blocks. A header that promises more frames than
 * the data holds is reported as truncated instead of being silently accepted: files and virtual
 * files (zip entries) both pass the container size check of container.c before libsndfile
 * opens them, and a stream that decodes fewer frames than declared fails in read. */
#include "io_internal.h"

#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct sg_audio_reader {
  SNDFILE *sf;
  SF_VIRTUAL_IO vio_fns;
  sg_vio vio;
  sg_audio_info info;
  int64_t pos;
  char name[256];
};

static void fill_info(const SF_INFO *si, SNDFILE *sf, sg_audio_info *info) {
  memset(info, 0, sizeof *info);
  info->frames = si->frames;
  info->rate = (unsigned)si->samplerate;
  info->channels = (unsigned)si->channels;
  int sub = si->format & SF_FORMAT_SUBMASK;
  switch (sub) {
  case SF_FORMAT_FLOAT:
    info->format = SG_FMT_FLOAT32, info->bits = 32, info->is_float = 1;
    break;
  case SF_FORMAT_DOUBLE:
    info->format = SG_FMT_OTHER, info->bits = 64, info->is_float = 1;
    break;
  case SF_FORMAT_PCM_24:
    info->format = SG_FMT_PCM24, info->bits = 24;
    break;
  case SF_FORMAT_PCM_16:
    info->format = SG_FMT_PCM16, info->bits = 16;
    break;
  case SF_FORMAT_PCM_32:
    info->format = SG_FMT_OTHER, info->bits = 32;
    break;
  case SF_FORMAT_PCM_S8:
  case SF_FORMAT_PCM_U8:
    info->format = SG_FMT_OTHER, info->bits = 8;
    break;
  default:
    info->format = SG_FMT_OTHER, info->bits = 0;
    break;
  }
  switch (sub) { /* lossy encodings libsndfile decodes */
  case SF_FORMAT_VORBIS:
  case SF_FORMAT_GSM610:
  case SF_FORMAT_G721_32:
  case SF_FORMAT_G723_24:
  case SF_FORMAT_G723_40:
  case SF_FORMAT_IMA_ADPCM:
  case SF_FORMAT_MS_ADPCM:
  case SF_FORMAT_VOX_ADPCM:
#ifdef SF_FORMAT_OPUS
  case SF_FORMAT_OPUS:
#endif
#ifdef SF_FORMAT_MPEG_LAYER_III
  case SF_FORMAT_MPEG_LAYER_I:
  case SF_FORMAT_MPEG_LAYER_II:
  case SF_FORMAT_MPEG_LAYER_III:
#endif
    info->lossy = 1;
    break;
  default:
    break;
  }
#ifdef SF_FORMAT_MPEG
  if ((si->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG)
    info->lossy = 1;
#endif
  if ((si->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG)
    info->lossy = 1;
  SF_FORMAT_INFO fi;
  memset(&fi, 0, sizeof fi);
  fi.format = si->format & SF_FORMAT_TYPEMASK;
  const char *ext = "unknown";
  if (sf_command(sf, SFC_GET_FORMAT_INFO, &fi, sizeof fi) == 0 && fi.extension)
    ext = fi.extension;
  snprintf(info->container, sizeof info->container, "%s", ext);
}

static sg_status check_info(const SF_INFO *si, const char *name, sg_diag *d) {
  if (si->channels < 1 || si->channels > 64)
    return sg_diag_fail(d, SG_E_FORMAT, "'%s': %d channels (allowed 1..64)", name, si->channels);
  if (si->samplerate < 1000 || si->samplerate > 768000)
    return sg_diag_fail(d, SG_E_FORMAT, "'%s': sample rate %d Hz is implausible", name,
                        si->samplerate);
  if (si->frames < 0)
    return sg_diag_fail(d, SG_E_FORMAT, "'%s': negative length in header", name);
  return SG_OK;
}

static int file_read_at(void *user, uint64_t at, void *buf, size_t n) {
  FILE *f = user;
  return fseeko(f, (off_t)at, SEEK_SET) == 0 && fread(buf, 1, n, f) == n ? 0 : -1;
}

static int vio_read_at(void *user, uint64_t at, void *buf, size_t n) {
  const sg_vio *v = user;
  return v->seek((int64_t)at, SEEK_SET, v->user) == (int64_t)at &&
                 v->read(buf, (int64_t)n, v->user) == (int64_t)n
             ? 0
             : -1;
}

sg_status sg_audio_reader_open(sg_audio_reader **out, const char *path, sg_audio_info *info,
                               sg_diag *d) {
  if (!out || !path)
    return sg_diag_fail(d, SG_E_INVAL, "audio reader: NULL argument");
  *out = NULL;
  struct stat sb;
  if (stat(path, &sb) != 0)
    return sg_diag_fail(d, SG_E_IO, "cannot open '%s': %s", path, strerror(errno));
  SF_INFO si;
  memset(&si, 0, sizeof si);
  SNDFILE *sf = sf_open(path, SFM_READ, &si);
  if (!sf)
    return sg_diag_fail(d, SG_E_FORMAT, "cannot read '%s' as audio: %s", path, sf_strerror(NULL));
  sg_status st = check_info(&si, path, d);
  if (st == SG_OK) { /* whatever the name says: the container is told by its first bytes */
    FILE *fp = fopen(path, "rb");
    if (!fp)
      st = sg_diag_fail(d, SG_E_IO, "cannot open '%s': %s", path, strerror(errno));
    else {
      sg__bytes b = {file_read_at, fp, (uint64_t)sb.st_size};
      st = sg__container_check(&b, path, d);
      fclose(fp);
    }
  }
  if (st != SG_OK) {
    sf_close(sf);
    return st;
  }
  sg_audio_reader *r = calloc(1, sizeof *r);
  if (!r) {
    sf_close(sf);
    return sg_diag_fail(d, SG_E_NOMEM, "audio reader: out of memory");
  }
  r->sf = sf;
  fill_info(&si, sf, &r->info);
  snprintf(r->name, sizeof r->name, "%s", path);
  if (info)
    *info = r->info;
  *out = r;
  return SG_OK;
}

static sf_count_t v_len(void *u) {
  const sg_vio *v = u;
  return v->get_length(v->user);
}
static sf_count_t v_seek(sf_count_t off, int whence, void *u) {
  const sg_vio *v = u;
  return v->seek(off, whence, v->user);
}
static sf_count_t v_read(void *p, sf_count_t n, void *u) {
  const sg_vio *v = u;
  return v->read(p, n, v->user);
}
static sf_count_t v_tell(void *u) {
  const sg_vio *v = u;
  return v->tell(v->user);
}

sg_status sg_audio_reader_open_vio(sg_audio_reader **out, const sg_vio *vio, const char *name,
                                   sg_audio_info *info, sg_diag *d) {
  if (!out || !vio || !vio->get_length || !vio->seek || !vio->read || !vio->tell)
    return sg_diag_fail(d, SG_E_INVAL, "audio reader: incomplete virtual I/O");
  *out = NULL;
  name = name ? name : "(memory)";
  sg_audio_reader *r = calloc(1, sizeof *r);
  if (!r)
    return sg_diag_fail(d, SG_E_NOMEM, "audio reader: out of memory");
  r->vio = *vio;
  r->vio_fns.get_filelen = v_len;
  r->vio_fns.seek = v_seek;
  r->vio_fns.read = v_read;
  r->vio_fns.tell = v_tell;
  r->vio_fns.write = NULL;
  /* The same size check as a file gets: a zip entry is read as strictly as a loose file. */
  int64_t len = vio->get_length(vio->user);
  sg__bytes b = {vio_read_at, &r->vio, len > 0 ? (uint64_t)len : 0};
  sg_status cst = sg__container_check(&b, name, d);
  if (cst != SG_OK || vio->seek(0, SEEK_SET, vio->user) != 0) {
    free(r);
    return cst != SG_OK ? cst : sg_diag_fail(d, SG_E_IO, "'%s': cannot seek", name);
  }
  SF_INFO si;
  memset(&si, 0, sizeof si);
  r->sf = sf_open_virtual(&r->vio_fns, SFM_READ, &si, &r->vio);
  if (!r->sf) {
    free(r);
    return sg_diag_fail(d, SG_E_FORMAT, "cannot read '%s' as audio: %s", name, sf_strerror(NULL));
  }
  sg_status st = check_info(&si, name, d);
  if (st != SG_OK) {
    sf_close(r->sf);
    free(r);
    return st;
  }
  fill_info(&si, r->sf, &r->info);
  snprintf(r->name, sizeof r->name, "%s", name);
  if (info)
    *info = r->info;
  *out = r;
  return SG_OK;
}

sg_status sg_audio_reader_read(sg_audio_reader *r, float *x, size_t frames, size_t *got,
                               sg_diag *d) {
  if (!r || !got || (!x && frames))
    return sg_diag_fail(d, SG_E_INVAL, "audio reader: NULL argument");
  *got = 0;
  int64_t left = r->info.frames - r->pos;
  if (left <= 0 || frames == 0)
    return SG_OK;
  size_t want = (int64_t)frames < left ? frames : (size_t)left;
  sf_count_t n = sf_readf_float(r->sf, x, (sf_count_t)want);
  if (n < 0)
    n = 0;
  r->pos += n;
  *got = (size_t)n;
  if ((size_t)n < want)
    return sg_diag_fail(d, SG_E_FORMAT,
                        "'%s' is truncated: its header declares %lld frames but the data ends "
                        "after %lld",
                        r->name, (long long)r->info.frames, (long long)r->pos);
  return SG_OK;
}

sg_status sg_audio_reader_seek(sg_audio_reader *r, int64_t frame, sg_diag *d) {
  if (!r || frame < 0 || frame > r->info.frames)
    return sg_diag_fail(d, SG_E_RANGE, "audio reader: seek to frame %lld outside the file",
                        (long long)frame);
  if (sf_seek(r->sf, frame, SEEK_SET) < 0)
    return sg_diag_fail(d, SG_E_IO, "'%s': seek failed: %s", r->name, sf_strerror(r->sf));
  r->pos = frame;
  return SG_OK;
}

void sg_audio_reader_close(sg_audio_reader *r) {
  if (!r)
    return;
  sf_close(r->sf);
  free(r);
}

sg_status sg_audio_check_finite(const float *x, size_t frames, unsigned channels,
                                int64_t first_frame, const char *name, sg_diag *d) {
  if (!x || channels == 0)
    return frames ? sg_diag_fail(d, SG_E_INVAL, "finite check: NULL block") : SG_OK;
  for (size_t i = 0; i < frames * channels; ++i)
    if (!isfinite(x[i]))
      return sg_diag_fail(
          d, SG_E_FORMAT, "'%s' holds a non-finite sample (%s) at frame %lld, channel %u",
          name ? name : "(audio)", isnan(x[i]) ? "NaN" : "Inf",
          (long long)(first_frame + (int64_t)(i / channels)), (unsigned)(i % channels) + 1);
  return SG_OK;
}

sg_status sg_audio_check_reference(const sg_audio_info *info, double min_seconds, const char *name,
                                   sg_diag *d) {
  name = name ? name : "(reference)";
  if (!info || info->rate == 0)
    return sg_diag_fail(d, SG_E_INVAL, "reference '%s': no audio information", name);
  if (info->rate < SG_REFERENCE_MIN_RATE)
    return sg_diag_fail(d, SG_E_FORMAT,
                        "reference '%s' is sampled at %u Hz; a reference needs at least %u Hz",
                        name, info->rate, SG_REFERENCE_MIN_RATE);
  if (info->lossy)
    return sg_diag_fail(d, SG_E_FORMAT,
                        "reference '%s' is lossy (%s); a reference must be PCM, float or "
                        "lossless (WAV, AIFF, FLAC)",
                        name, info->container);
  double sec = (double)info->frames / info->rate;
  if (sec < min_seconds)
    return sg_diag_fail(d, SG_E_FORMAT,
                        "reference '%s' lasts %.3f s, shorter than one bar of the song (%.3f s)",
                        name, sec, min_seconds);
  return SG_OK;
}

sg_status sg_audio_read_all(const char *path, int64_t max_frames, float **out, sg_audio_info *info,
                            sg_diag *d) {
  if (!out)
    return sg_diag_fail(d, SG_E_INVAL, "audio reader: NULL argument");
  *out = NULL;
  sg_audio_reader *r;
  sg_audio_info inf;
  sg_status st = sg_audio_reader_open(&r, path, &inf, d);
  if (st != SG_OK)
    return st;
  if (inf.frames > max_frames) {
    sg_audio_reader_close(r);
    return sg_diag_fail(d, SG_E_LIMIT, "'%s' has %lld frames, more than the %lld allowed here",
                        path, (long long)inf.frames, (long long)max_frames);
  }
  size_t samples = (size_t)inf.frames * inf.channels;
  float *buf = malloc((samples ? samples : 1) * sizeof *buf);
  if (!buf) {
    sg_audio_reader_close(r);
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory reading '%s'", path);
  }
  size_t got = 0;
  st = sg_audio_reader_read(r, buf, (size_t)inf.frames, &got, d);
  sg_audio_reader_close(r);
  if (st != SG_OK) {
    free(buf);
    return st;
  }
  *out = buf;
  if (info)
    *info = inf;
  return SG_OK;
}

sg_status sg_mkdirs(const char *path, sg_diag *d) {
  char buf[1024];
  if (!path || strlen(path) >= sizeof buf)
    return sg_diag_fail(d, SG_E_INVAL, "mkdirs: path missing or too long");
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1;; ++p) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return sg_diag_fail(d, SG_E_IO, "cannot create directory '%s': %s", buf, strerror(errno));
      *p = c;
      if (!c)
        break;
    }
  }
  return SG_OK;
}
