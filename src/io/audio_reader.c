/* Streaming audio reader over libsndfile: any format it reads (WAV, RF64, AIFF, FLAC, OGG, ...),
 * delivered as interleaved float in caller-sized blocks. A header that promises more frames than
 * the data holds is reported as truncated instead of being silently accepted. */
#include "stemgate/io.h"

#include <errno.h>
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

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* libsndfile quietly shortens a WAV whose data chunk runs past the end of the file, so a
 * truncated delivery would read as a shorter, valid one. Walk the RIFF chunks and compare the
 * data chunk's declared size with the bytes really there. Returns the declared data bytes, or 0
 * when the file is not a plain RIFF/WAVE (RF64, AIFF, ... are left to libsndfile). */
static uint64_t wav_declared_data(FILE *f, uint64_t file_size, uint64_t *data_at) {
  unsigned char h[12];
  if (fread(h, 1, 12, f) != 12 || memcmp(h, "RIFF", 4) || memcmp(h + 8, "WAVE", 4))
    return 0;
  uint64_t pos = 12;
  for (int guard = 0; guard < 64 && pos + 8 <= file_size; ++guard) {
    if (fseek(f, (long)pos, SEEK_SET) != 0 || fread(h, 1, 8, f) != 8)
      return 0;
    uint64_t size = le32(h + 4);
    if (!memcmp(h, "data", 4)) {
      *data_at = pos + 8;
      return size;
    }
    pos += 8 + size + (size & 1);
  }
  return 0;
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
  if (st == SG_OK && (si.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAV) {
    FILE *fp = fopen(path, "rb");
    uint64_t at = 0, declared = fp ? wav_declared_data(fp, (uint64_t)sb.st_size, &at) : 0;
    if (fp)
      fclose(fp);
    if (declared && at + declared > (uint64_t)sb.st_size)
      st = sg_diag_fail(d, SG_E_FORMAT,
                        "'%s' is truncated: its data chunk declares %llu bytes but the file "
                        "holds %llu",
                        path, (unsigned long long)declared,
                        (unsigned long long)((uint64_t)sb.st_size - at));
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
