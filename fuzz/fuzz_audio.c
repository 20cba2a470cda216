/* Fuzz target: the one audio-reading path (sg_audio_reader_open_vio, the container size check
 * of src/io/container.c, libsndfile, sg_audio_reader_read) that files, zip entries and
 * references all go through, on bytes in memory. Nothing is analysed here (meters and features
 * are other code and would make the target slow), so it runs at thousands of inputs a second.
 *
 * Invariants: a rejection carries a message; an accepted file reports 1..64 channels and a
 * plausible rate, and reads no more frames than its header declares. Seeds: the same short
 * stereo signal written by libsndfile as WAV (PCM16, PCM24, float), RF64, W64, AIFF, AIFC and
 * FLAC, an 8 kHz WAV, and a WAV truncated in its data chunk. */
#include "fuzz.h"
#include "seeds_util.h"
#include "stemgate/io.h"

#include <math.h>
#include <sndfile.h>

typedef struct mem {
  const uint8_t *p;
  int64_t n, pos;
} mem;

static int64_t m_len(void *u) { return ((mem *)u)->n; }
static int64_t m_tell(void *u) { return ((mem *)u)->pos; }
static int64_t m_seek(int64_t off, int whence, void *u) {
  mem *m = u;
  int64_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->n : 0;
  if (base + off < 0 || base + off > m->n)
    return -1;
  return m->pos = base + off;
}
static int64_t m_read(void *ptr, int64_t count, void *u) {
  mem *m = u;
  int64_t left = m->n - m->pos;
  if (count > left)
    count = left;
  if (count <= 0)
    return 0;
  memcpy(ptr, m->p + m->pos, (size_t)count);
  m->pos += count;
  return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mem m = {data, (int64_t)size, 0};
  sg_vio v = {m_len, m_seek, m_read, m_tell, &m};
  sg_audio_reader *r = NULL;
  sg_audio_info info;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_audio_reader_open_vio(&r, &v, "fuzz.wav", &info, &d);
  if (st != SG_OK) {
    if (r || !d.message[0])
      abort();
    return 0;
  }
  if (info.channels < 1 || info.channels > 64 || info.rate < 1000 || info.frames < 0)
    abort();
  enum { BLK = 1024 };
  float buf[BLK * 2];
  size_t per = BLK * 2 / info.channels;
  int64_t total = 0;
  for (size_t got = 1; per && got && total < ((int64_t)1 << 20);) {
    sg_diag_clear(&d);
    st = sg_audio_reader_read(r, buf, per ? per : 1, &got, &d);
    if (st != SG_OK && !d.message[0])
      abort();
    if (st == SG_OK && got) {
      sg_diag_clear(&d);
      if (sg_audio_check_finite(buf, got, info.channels, total, "fuzz.wav", &d) != SG_OK &&
          !strstr(d.message, "frame"))
        abort(); /* a non-finite sample is refused with its position */
    }
    total += (int64_t)got;
    if (st != SG_OK)
      break;
  }
  if (total > info.frames)
    abort();
  sg_audio_reader_close(r);
  return 0;
}

/* Writes the signal in one libsndfile format and adds the bytes (cut to keep, when > 0). */
static void add_format(sg_fuzz_add_fn add, void *user, int format, int rate, long keep) {
  char path[4200];
  sg_fuzz_tmp(path, sizeof path, "audio_seed");
  SF_INFO si = {.samplerate = rate, .channels = 2, .format = format};
  SNDFILE *sf = sf_open(path, SFM_WRITE, &si);
  if (!sf)
    return;
  float x[2 * 256];
  for (int i = 0; i < 256; ++i)
    x[2 * i] = x[2 * i + 1] = 0.5f * (float)sin(0.05 * i);
  sf_writef_float(sf, x, 256);
  sf_close(sf);
  FILE *f = fopen(path, "rb");
  uint8_t b[16384];
  size_t n = f ? fread(b, 1, sizeof b, f) : 0;
  if (f)
    fclose(f);
  remove(path);
  if (n > 0)
    add(user, b, keep > 0 && (size_t)keep < n ? (size_t)keep : n);
}

void sg_fuzz_seeds(sg_fuzz_add_fn add, void *user) {
  add_format(add, user, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 0);
  add_format(add, user, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 44100, 0);
  add_format(add, user, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 0);
  add_format(add, user, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 0);
  add_format(add, user, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 600); /* truncated */
  add_format(add, user, SF_FORMAT_RF64 | SF_FORMAT_PCM_16, 48000, 0);
  add_format(add, user, SF_FORMAT_W64 | SF_FORMAT_PCM_16, 48000, 0);
  add_format(add, user, SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 48000, 0);
  add_format(add, user, SF_FORMAT_AIFF | SF_FORMAT_FLOAT, 48000, 0); /* AIFC */
  add_format(add, user, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000, 0);
}
