/* Fixtures shared by the package tests: small WAVs written with libsndfile directly, whole-file
 * helpers. Header-only (static) so each test executable stays standalone. */
#ifndef SG_PKG_FIXTURES_H
#define SG_PKG_FIXTURES_H

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A sine of freq Hz at amp, frames long; sf_format e.g. SF_FORMAT_WAV | SF_FORMAT_FLOAT. */
static inline int fx_write_wav(const char *path, int rate, int ch, int sf_format, long frames,
                               double freq, double amp) {
  SF_INFO si;
  memset(&si, 0, sizeof si);
  si.samplerate = rate;
  si.channels = ch;
  si.format = sf_format;
  SNDFILE *f = sf_open(path, SFM_WRITE, &si);
  if (!f)
    return -1;
  float *buf = malloc((size_t)frames * (size_t)ch * sizeof *buf);
  if (!buf) {
    sf_close(f);
    return -1;
  }
  for (long i = 0; i < frames; ++i)
    for (int c = 0; c < ch; ++c)
      buf[i * ch + c] =
          (float)(amp * sin(2 * 3.14159265358979323846 * freq * (double)i / rate + 0.5 * c));
  sf_count_t n = sf_writef_float(f, buf, frames);
  free(buf);
  sf_close(f);
  return n == frames ? 0 : -1;
}

/* Reads a whole file; returns NULL on failure. */
static inline unsigned char *fx_slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
  if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
    free(b);
    b = NULL;
  }
  fclose(f);
  if (b && n)
    *n = (size_t)len;
  return b;
}

static inline int fx_spit(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  size_t w = fwrite(data, 1, n, f);
  return (fclose(f) == 0 && w == n) ? 0 : -1;
}

/* Offset of needle in hay, or -1. */
static inline long fx_find(const unsigned char *hay, size_t n, const void *needle, size_t k) {
  for (size_t i = 0; i + k <= n; ++i)
    if (memcmp(hay + i, needle, k) == 0)
      return (long)i;
  return -1;
}

#endif
