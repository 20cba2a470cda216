/* Streaming WAV writer: the header is written here, the samples stream in large blocks.
 *
 * Why not libsndfile for writing: its IEEE-float WAVs carry a 16-byte fmt chunk without cbSize,
 * which strict readers flag ("sox WARN wav: wave header missing extended part of fmt chunk"),
 * and its small writes are slow on these machines. The layout follows the RIFF/WAVE spec
 * (Microsoft/IBM 1991), EBU Tech 3285 (BWF bext chunk) and EBU Tech 3306 (RF64 for files past
 * 4 GiB; a JUNK chunk reserves the ds64 space, as the spec recommends). Everything else reads
 * through libsndfile.
 *
 * Files are written to "<path>.<pid>.<n>.partial" and renamed into place only when complete, so
 * a failed render never leaves a file that looks finished; the name is unique per process and
 * writer, so two writers of one path never interleave their bytes in one temporary file. PCM
 * conversion rounds to nearest with clipping; 16-bit gets TPDF dither of +-1 LSB (Lipshitz,
 * Wannamaker & Vanderkooy, "Quantization and Dither: A Theoretical Survey", JAES 1992), seeded so
 * renders stay bit-identical. Float files get subnormal samples flushed to zero: an effect tail
 * decaying below FLT_MIN would otherwise leave denormals in the file (slow in a DAW, failed by
 * the denormals check). */
#include "stemgate/io.h"

#include "core/filehash.h"
#include "core/writeback.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SG_WRITER_BYTES (1u << 20) /* conversion/output buffer: large writes, reused */
/* Writeback of the file is started on each 8 MiB written (core/writeback.h). */
#define SG_WRITEBACK_BYTES (8u << 20)

enum {
  FMT_PCM = 1,
  FMT_FLOAT = 3,
  JUNK_SIZE = 28, /* ds64 body without table: 3 x uint64 + uint32 */
  BEXT_SIZE = 602,
  /* RIFF, JUNK, fmt, fact, bext with the longest coding history (padded), data */
  HEADER_MAX = 12 + 8 + JUNK_SIZE + 8 + 18 + 12 + 8 + BEXT_SIZE + 256 + 8
};

struct sg_audio_writer {
  FILE *f;
  sg_audio_writer_config cfg;
  char path[1024];
  char tmp[1040];
  int64_t frames;
  unsigned bytes_per_sample;
  long fact_pos, data_pos; /* offsets of the fact value and the data chunk's size field */
  sg_rng dither;
  unsigned char *buf;
  float *quantised; /* the samples as the file will hold them, for the tap */
  sg_bext bext;     /* cfg.bext copied: bext_final may complete it at close */
  long bext_pos;    /* offset of the bext chunk's body (0: none) */
  uint32_t bext_size;
  uint64_t written; /* sample bytes written */
  uint64_t wb_from; /* sample bytes whose writeback has been started */
  unsigned in_ch;   /* channels the caller writes (cfg.channels: the file's) */
  float *mono;      /* fold_identical while folded: one channel of a block */
  /* cfg.digest while the streamed digest holds (NULL once it cannot): the SHA-256 and CRC-32
   * of the header as close will leave it, then of every byte written after it */
  sg_audio_digest *dg;
  sg_sha256 sha;
  uint32_t crc;
  uint64_t dg_riff, dg_data; /* the RIFF and data sizes the hashed header holds */
};

static _Atomic unsigned seq; /* temporary names; writers run on the pool's threads */

static void writer_free(sg_audio_writer *w) {
  sg_sha256_free(&w->sha);
  free(w->buf);
  free(w->quantised);
  free(w->mono);
  free(w);
}

void sg_audio_writer_config_init(sg_audio_writer_config *c) {
  memset(c, 0, sizeof *c);
  c->rate = 48000;
  c->channels = 2;
  c->format = SG_FMT_FLOAT32;
}

const char *sg_sample_format_name(sg_sample_format f) {
  switch (f) {
  case SG_FMT_FLOAT32:
    return "float32";
  case SG_FMT_PCM24:
    return "pcm24";
  case SG_FMT_PCM16:
    return "pcm16";
  default:
    return "other";
  }
}

sg_status sg_sample_format_parse(const char *s, sg_sample_format *out) {
  static const sg_sample_format all[] = {SG_FMT_FLOAT32, SG_FMT_PCM24, SG_FMT_PCM16};
  for (size_t i = 0; s && i < sizeof all / sizeof all[0]; ++i)
    if (strcmp(s, sg_sample_format_name(all[i])) == 0) {
      *out = all[i];
      return SG_OK;
    }
  return SG_E_PARSE;
}

/* ---- little-endian header helpers --------------------------------------------------------- */

static void put_u16(unsigned char *p, unsigned v) {
  p[0] = (unsigned char)(v & 0xff);
  p[1] = (unsigned char)((v >> 8) & 0xff);
}
static void put_u32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = (unsigned char)((v >> (8 * i)) & 0xff);
}
static void put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = (unsigned char)((v >> (8 * i)) & 0xff);
}

static void chunk_head(unsigned char *h, const char *id, uint32_t size) {
  memcpy(h, id, 4);
  put_u32(h + 4, size);
}

/* EBU Tech 3285 v2 loudness field: value x 100 rounded, 0x7FFF when not measured. */
static unsigned loud16(int has, double v) {
  if (!has || !isfinite(v))
    return 0x7fff;
  double q = floor(v * 100.0 + 0.5);
  q = q > 32766 ? 32766 : (q < -32768 ? -32768 : q);
  return (unsigned)(uint16_t)(int16_t)q;
}

/* The bext chunk's body (EBU Tech 3285 version 2); returns its size, padded to even. */
static uint32_t bext_body(const sg_bext *x, unsigned char *b) {
  size_t hist = strnlen(x->coding_history, sizeof x->coding_history);
  size_t size = BEXT_SIZE + hist;
  memset(b, 0, size + 1);
  memcpy(b, x->description, strnlen(x->description, 256));
  memcpy(b + 256, x->originator, strnlen(x->originator, 32));
  memcpy(b + 288, x->originator_ref, strnlen(x->originator_ref, 32));
  /* A fixed date unless given keeps renders bit-identical run to run. */
  memcpy(b + 320, x->date[0] ? x->date : "2000-01-01", 10);
  memcpy(b + 330, x->time[0] ? x->time : "00:00:00", 8);
  put_u64(b + 338, x->time_reference);
  put_u16(b + 346, 2); /* version 2: loudness fields; UMID zero */
  put_u16(b + 412, loud16(x->has_loudness, x->loudness_lufs));
  put_u16(b + 414, loud16(x->has_loudness, x->loudness_range_lu));
  put_u16(b + 416, loud16(x->has_loudness, x->true_peak_dbtp));
  put_u16(b + 418, loud16(x->has_loudness, x->momentary_max_lufs));
  put_u16(b + 420, loud16(x->has_loudness, x->short_term_max_lufs));
  memcpy(b + BEXT_SIZE, x->coding_history, hist);
  return (uint32_t)(size + (size & 1));
}

/* The header as open writes it (sizes 0, patched at close) into h; returns its length and sets
 * the offsets finish patches. */
static size_t header_bytes(sg_audio_writer *w, unsigned char *h) {
  const sg_audio_writer_config *c = &w->cfg;
  const int is_float = c->format == SG_FMT_FLOAT32;
  size_t n = 12;
  chunk_head(h, "RIFF", 0); /* RIFF size is patched on close. */
  memcpy(h + 8, "WAVE", 4);
  chunk_head(h + n, "JUNK", JUNK_SIZE);
  memset(h + n + 8, 0, JUNK_SIZE);
  n += 8 + JUNK_SIZE;
  /* fmt: 18 bytes with cbSize = 0 for float (required for non-PCM tags), 16 for PCM. */
  const unsigned fmt_size = is_float ? 18 : 16;
  const unsigned block = c->channels * w->bytes_per_sample;
  unsigned char *b = h + n + 8;
  chunk_head(h + n, "fmt ", fmt_size);
  put_u16(b, is_float ? FMT_FLOAT : FMT_PCM);
  put_u16(b + 2, c->channels);
  put_u32(b + 4, c->rate);
  put_u32(b + 8, c->rate * block);
  put_u16(b + 12, block);
  put_u16(b + 14, w->bytes_per_sample * 8);
  if (is_float)
    put_u16(b + 16, 0);
  n += 8 + fmt_size;
  if (is_float) { /* fact: frame count, required for non-PCM formats */
    chunk_head(h + n, "fact", 4);
    put_u32(h + n + 8, 0);
    w->fact_pos = (long)n + 8;
    n += 12;
  }
  if (c->bext) {
    w->bext_size = bext_body(&w->bext, h + n + 8);
    chunk_head(h + n, "bext", w->bext_size);
    w->bext_pos = (long)n + 8;
    n += 8 + w->bext_size;
  }
  chunk_head(h + n, "data", 0);
  w->data_pos = (long)n + 4;
  return n + 8;
}

/* The sizes finish writes for a file of frames frames: the data chunk's and the RIFF's. */
static void final_sizes(const sg_audio_writer *w, int64_t frames, uint64_t *data, uint64_t *riff) {
  *data = (uint64_t)frames * w->cfg.channels * w->bytes_per_sample;
  *riff = (uint64_t)w->data_pos + 4 + *data + (*data & 1) - 8; /* RIFF chunks are word aligned */
}

static uint32_t fact_value(int64_t frames) {
  return frames > 0xffffffff ? 0xffffffffu : (uint32_t)frames;
}

static void digest_drop(sg_audio_writer *w) {
  sg_sha256_free(&w->sha);
  w->dg = NULL;
}

static void digest_add(sg_audio_writer *w, const unsigned char *p, size_t n) {
  if (!w->dg)
    return;
  if (sg_sha256_update(&w->sha, p, n) != SG_OK)
    digest_drop(w);
  else
    w->crc = sg__crc32(w->crc, p, n);
}

/* (Re)starts the digest with the header h of n bytes as close will patch it for the promised
 * frame count; an RF64 file (its ds64 written at close) is not hashed as it streams. */
static void digest_begin(sg_audio_writer *w, const unsigned char *h, size_t n) {
  if (!w->dg)
    return;
  sg_sha256_free(&w->sha);
  final_sizes(w, w->dg->frames, &w->dg_data, &w->dg_riff);
  if (w->dg_riff > 0xffffffffu || sg_sha256_init(&w->sha) != SG_OK) {
    digest_drop(w);
    return;
  }
  unsigned char f[HEADER_MAX];
  memcpy(f, h, n);
  put_u32(f + 4, (uint32_t)w->dg_riff);
  put_u32(f + w->data_pos, (uint32_t)w->dg_data);
  if (w->fact_pos > 0)
    put_u32(f + w->fact_pos, fact_value(w->dg->frames));
  w->crc = 0;
  digest_add(w, f, n);
}

static int write_header(sg_audio_writer *w) {
  unsigned char h[HEADER_MAX];
  const size_t n = header_bytes(w, h);
  digest_begin(w, h, n);
  return fwrite(h, 1, n, w->f) == n;
}

sg_status sg_audio_writer_open(sg_audio_writer **out, const char *path,
                               const sg_audio_writer_config *cfg, sg_diag *d) {
  if (!out || !path || !cfg)
    return sg_diag_fail(d, SG_E_INVAL, "audio writer: NULL argument");
  *out = NULL;
  if (cfg->channels < 1 || cfg->channels > 64)
    return sg_diag_fail(d, SG_E_RANGE, "audio writer: %u channels (allowed 1..64)", cfg->channels);
  if (cfg->rate < 8000 || cfg->rate > 384000)
    return sg_diag_fail(d, SG_E_RANGE, "audio writer: sample rate %u Hz (allowed 8000..384000)",
                        cfg->rate);
  if (cfg->format != SG_FMT_FLOAT32 && cfg->format != SG_FMT_PCM24 && cfg->format != SG_FMT_PCM16)
    return sg_diag_fail(d, SG_E_UNSUPPORTED,
                        "audio writer: format must be float32, pcm24 or pcm16");
  if (strlen(path) + 48 >= sizeof((sg_audio_writer *)0)->tmp)
    return sg_diag_fail(d, SG_E_RANGE, "audio writer: path too long: %s", path);

  sg_audio_writer *w = calloc(1, sizeof *w);
  if (!w || !(w->buf = malloc(SG_WRITER_BYTES)) ||
      (cfg->tap && !(w->quantised = malloc(SG_WRITER_BYTES / 2 * sizeof(float))))) {
    if (w)
      free(w->buf);
    free(w->quantised);
    free(w);
    return sg_diag_fail(d, SG_E_NOMEM, "audio writer: out of memory");
  }
  w->cfg = *cfg;
  w->in_ch = cfg->channels;
  if (cfg->fold_identical && cfg->channels == 2 && cfg->format == SG_FMT_FLOAT32) {
    w->cfg.channels = 1; /* until a frame's channels differ (unfold) */
    if (!(w->mono = malloc(SG_WRITER_BYTES / 8 * sizeof(float)))) {
      writer_free(w);
      return sg_diag_fail(d, SG_E_NOMEM, "audio writer: out of memory");
    }
  }
  if (cfg->bext) {
    w->bext = *cfg->bext;
    w->cfg.bext = &w->bext;
  }
  if (cfg->digest) {
    cfg->digest->ok = 0;
    if (!cfg->bext_final && cfg->digest->frames >= 0)
      w->dg = cfg->digest;
  }
  w->bytes_per_sample = cfg->format == SG_FMT_PCM16 ? 2 : cfg->format == SG_FMT_PCM24 ? 3 : 4;
  size_t len = strlen(path); /* checked above: fits both buffers */
  memcpy(w->path, path, len + 1);
  snprintf(w->tmp, sizeof w->tmp, "%s.%ld.%u.partial", path, (long)getpid(), ++seq);
  sg_rng_seed(&w->dither, cfg->dither_seed, 0x5347444954ULL /* "SGDIT" */);
  w->f = fopen(w->tmp, "wb");
  if (!w->f || !write_header(w)) {
    sg_status st = sg_diag_fail(d, SG_E_IO, "cannot create '%s': %s", w->tmp, strerror(errno));
    if (w->f) {
      fclose(w->f);
      remove(w->tmp);
    }
    writer_free(w);
    return st;
  }
  *out = w;
  return SG_OK;
}

/* Converts samples to little-endian bytes in w->buf; returns the byte count. */
static size_t convert(sg_audio_writer *w, const float *in, size_t samples) {
  unsigned char *o = w->buf;
  switch (w->cfg.format) {
  case SG_FMT_FLOAT32:
    /* Subnormals flushed to +0 on the bits (exponent field 0, mantissa not), branch-free in
     * runs of a fixed 256 samples (a short run zero-padded) so the loop vectorises at -O2. */
    for (size_t i0 = 0; i0 < samples; i0 += 256) {
      const size_t m = samples - i0 < 256 ? samples - i0 : 256;
      uint32_t u[256];
      memcpy(u, in + i0, m * 4);
      if (m < 256)
        memset(u + m, 0, (256 - m) * 4);
      for (size_t i = 0; i < 256; ++i) {
        const int32_t a = (int32_t)(u[i] & 0x7fffffffu);
        const uint32_t keep = (uint32_t)(a > 0x007fffff) | (uint32_t)(a == 0);
        u[i] &= 0u - keep;
      }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      memcpy(o + 4 * i0, u, m * 4);
#else
      for (size_t i = 0; i < m; ++i)
        put_u32(o + 4 * (i0 + i), u[i]);
#endif
      if (w->quantised)
        memcpy(w->quantised + i0, u, m * 4);
    }
    return samples * 4;
  case SG_FMT_PCM24:
    for (size_t i = 0; i < samples; ++i) {
      double v = (double)in[i] * 8388608.0;
      v = v != v ? 0.0 : v;
      v = v > 8388607.0 ? 8388607.0 : (v < -8388608.0 ? -8388608.0 : v);
      int32_t q = (int32_t)lrint(v);
      uint32_t u = (uint32_t)q;
      if (w->quantised)
        w->quantised[i] = (float)((double)q / 8388608.0);
      o[3 * i] = (unsigned char)(u & 0xff);
      o[3 * i + 1] = (unsigned char)((u >> 8) & 0xff);
      o[3 * i + 2] = (unsigned char)((u >> 16) & 0xff);
    }
    return samples * 3;
  default: /* PCM16 with TPDF dither */
    for (size_t i = 0; i < samples; ++i) {
      double v = (double)in[i] * 32768.0 + (double)sg_rng_tpdf(&w->dither);
      v = v != v ? 0.0 : v;
      v = v > 32767.0 ? 32767.0 : (v < -32768.0 ? -32768.0 : v);
      int16_t q = (int16_t)lrint(v);
      if (w->quantised)
        w->quantised[i] = (float)((double)q / 32768.0);
      put_u16(o + 2 * i, (unsigned)(uint16_t)q);
    }
    return samples * 2;
  }
}

/* fold_identical: the first channel of n stereo frames into m; 0 if any frame's two channels
 * differ in any bit. */
static int split_mono(float *m, const float *x, size_t n) {
  uint32_t diff = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t a, b;
    memcpy(&a, x + 2 * i, 4);
    memcpy(&b, x + 2 * i + 1, 4);
    diff |= a ^ b;
    m[i] = x[2 * i];
  }
  return diff == 0;
}

/* A folded file whose channels now differ: a new temporary file with a 2-channel header gets
 * the samples written so far, each twice, and replaces the one-channel file. */
static int unfold(sg_audio_writer *w) {
  char old[sizeof w->tmp];
  memcpy(old, w->tmp, sizeof old);
  FILE *of = w->f, *in = fflush(of) == 0 ? fopen(old, "rb") : NULL;
  long from = w->data_pos + 4;
  snprintf(w->tmp, sizeof w->tmp, "%s.%ld.%u.partial", w->path, (long)getpid(), ++seq);
  w->f = in ? fopen(w->tmp, "wb") : NULL;
  if (!w->f) {
    if (in)
      fclose(in);
    w->f = of;
    memcpy(w->tmp, old, sizeof old);
    return 0;
  }
  w->cfg.channels = 2;
  w->fact_pos = w->bext_pos = 0;
  int ok = write_header(w) && fseek(in, from, SEEK_SET) == 0;
  const size_t cap = SG_WRITER_BYTES / 8; /* samples: the mono buffer's, twice w->buf's half */
  for (uint64_t left = w->written / 4; ok && left > 0;) {
    size_t k = left < cap ? (size_t)left : cap;
    ok = fread(w->mono, 4, k, in) == k;
    for (size_t i = 0; ok && i < k; ++i) {
      memcpy(w->buf + 8 * i, w->mono + i, 4);
      memcpy(w->buf + 8 * i + 4, w->mono + i, 4);
    }
    ok = ok && fwrite(w->buf, 8, k, w->f) == k;
    if (ok)
      digest_add(w, w->buf, 8 * k);
    left -= k;
  }
  fclose(in);
  fclose(of);
  remove(old);
  w->written *= 2;
  w->wb_from = 0;
  free(w->mono);
  w->mono = NULL;
  return ok;
}

sg_status sg_audio_writer_write(sg_audio_writer *w, const float *x, size_t frames, sg_diag *d) {
  if (!w || (!x && frames))
    return sg_diag_fail(d, SG_E_INVAL, "audio writer: NULL argument");
  /* The tap meters what the file holds: the input with denormals flushed for float, the
   * quantised (and dithered) values for PCM, so a gate and a later read of the file see the
   * same samples. */
  const size_t ch = w->in_ch;
  const size_t per_chunk = SG_WRITER_BYTES / (ch * w->bytes_per_sample);
  for (size_t done = 0; done < frames;) {
    size_t n = frames - done < per_chunk ? frames - done : per_chunk;
    const float *blk = x + done * ch;
    if (w->mono && !split_mono(w->mono, blk, n) && !unfold(w))
      return sg_diag_fail(d, SG_E_IO, "rewriting '%s' as two channels failed: %s", w->tmp,
                          strerror(errno));
    size_t bytes = w->mono ? convert(w, w->mono, n) : convert(w, blk, n * ch);
    if (fwrite(w->buf, 1, bytes, w->f) != bytes)
      return sg_diag_fail(d, SG_E_IO, "write to '%s' failed: %s", w->tmp, strerror(errno));
    digest_add(w, w->buf, bytes);
    w->written += bytes;
    if (w->written - w->wb_from >= SG_WRITEBACK_BYTES) {
      int64_t at = (int64_t)w->data_pos + 4; /* the sample data follows the size field */
      sg__start_writeback(fileno(w->f), at + (int64_t)w->wb_from,
                          (int64_t)(w->written - w->wb_from));
      w->wb_from = w->written;
    }
    if (w->quantised) {
      for (size_t i = n; w->mono && i-- > 0;) /* the tap sees both channels */
        w->quantised[2 * i] = w->quantised[2 * i + 1] = w->quantised[i];
      sg_status st = w->cfg.tap(w->cfg.tap_user, w->quantised, n);
      if (st != SG_OK)
        return st;
    }
    done += n;
  }
  w->frames += (int64_t)frames;
  if (w->dg && w->frames > w->dg->frames)
    digest_drop(w); /* more than promised: the hashed header is wrong */
  return SG_OK;
}

int64_t sg_audio_writer_frames(const sg_audio_writer *w) { return w ? w->frames : 0; }

static int patch_u32(FILE *f, long pos, uint32_t v) {
  unsigned char b[4];
  put_u32(b, v);
  return fseek(f, pos, SEEK_SET) == 0 && fwrite(b, 1, 4, f) == 4;
}

/* Fills in the sizes; past 4 GiB the file becomes RF64 with a ds64 chunk in the JUNK space. */
static int finish(sg_audio_writer *w) {
  uint64_t data, riff;
  final_sizes(w, w->frames, &data, &riff);
  if (data & 1) { /* RIFF chunks are word aligned */
    unsigned char z = 0;
    if (fwrite(&z, 1, 1, w->f) != 1)
      return 0;
    digest_add(w, &z, 1);
  }
  if (fflush(w->f) != 0)
    return 0;
  riff = (uint64_t)ftell(w->f) - 8;
  if (w->dg && (w->frames != w->dg->frames || riff != w->dg_riff || data != w->dg_data))
    digest_drop(w); /* fewer frames than promised: the hashed header is not the file's */
  if (riff <= 0xffffffffu) {
    if (!patch_u32(w->f, 4, (uint32_t)riff) || !patch_u32(w->f, w->data_pos, (uint32_t)data))
      return 0;
  } else {
    unsigned char ds[8 + JUNK_SIZE];
    memcpy(ds, "ds64", 4);
    put_u32(ds + 4, JUNK_SIZE);
    put_u64(ds + 8, riff);
    put_u64(ds + 16, data);
    put_u64(ds + 24, (uint64_t)w->frames);
    put_u32(ds + 32, 0);
    if (fseek(w->f, 0, SEEK_SET) != 0 || fwrite("RF64", 1, 4, w->f) != 4 ||
        !patch_u32(w->f, 4, 0xffffffffu) || fseek(w->f, 12, SEEK_SET) != 0 ||
        fwrite(ds, 1, sizeof ds, w->f) != sizeof ds || !patch_u32(w->f, w->data_pos, 0xffffffffu))
      return 0;
  }
  if (w->bext_pos > 0 && w->cfg.bext_final) {
    /* Same size: the coding history was fixed at open. */
    unsigned char body[BEXT_SIZE + sizeof w->bext.coding_history + 1];
    char hist[sizeof w->bext.coding_history];
    memcpy(hist, w->bext.coding_history, sizeof hist);
    w->cfg.bext_final(w->cfg.tap_user, &w->bext);
    memcpy(w->bext.coding_history, hist, sizeof hist);
    if (bext_body(&w->bext, body) != w->bext_size || fseek(w->f, w->bext_pos, SEEK_SET) != 0 ||
        fwrite(body, 1, w->bext_size, w->f) != w->bext_size)
      return 0;
  }
  if (w->fact_pos > 0 && !patch_u32(w->f, w->fact_pos, fact_value(w->frames)))
    return 0;
  return fflush(w->f) == 0;
}

sg_status sg_audio_writer_close(sg_audio_writer *w, sg_diag *d) {
  if (!w)
    return sg_diag_fail(d, SG_E_INVAL, "audio writer: NULL argument");
  sg_status st = SG_OK;
  int ok = finish(w);
  struct stat sb; /* the finished file as the digest describes it */
  if (w->dg && (!ok || fstat(fileno(w->f), &sb) != 0))
    digest_drop(w);
  if (ok)
    sg__start_writeback(fileno(w->f), 0, 0);
  if (fclose(w->f) != 0 || !ok)
    st = sg_diag_fail(d, SG_E_IO, "finishing '%s' failed: %s", w->tmp, strerror(errno));
  if (st == SG_OK && sg__replace_file(w->tmp, w->path) != 0)
    st = sg_diag_fail(d, SG_E_IO, "cannot rename '%s' to '%s': %s", w->tmp, w->path,
                      strerror(errno));
  if (st != SG_OK)
    remove(w->tmp);
  sg_audio_digest *dg = w->dg;
  if (st == SG_OK && dg && sg_sha256_final(&w->sha, dg->sha256) == SG_OK) {
    dg->crc32 = w->crc;
    dg->size = (long long)sb.st_size;
    dg->mtime_s = (long long)sb.st_mtim.tv_sec;
    dg->mtime_ns = (long long)sb.st_mtim.tv_nsec;
    dg->ino = (long long)sb.st_ino;
    dg->dev = (long long)sb.st_dev;
    dg->ok = 1;
  }
  writer_free(w);
  return st;
}

void sg_audio_writer_abort(sg_audio_writer *w) {
  if (!w)
    return;
  fclose(w->f);
  remove(w->tmp);
  writer_free(w);
}

sg_status sg_audio_write_all(const char *path, const float *x, int64_t frames,
                             const sg_audio_writer_config *cfg, sg_diag *d) {
  sg_audio_writer *w;
  sg_status st = sg_audio_writer_open(&w, path, cfg, d);
  if (st != SG_OK)
    return st;
  st = sg_audio_writer_write(w, x, (size_t)frames, d);
  if (st != SG_OK) {
    sg_audio_writer_abort(w);
    return st;
  }
  return sg_audio_writer_close(w, d);
}
