/* The mono copies verify aligns (see verify_internal.h): samples spooled to an unlinked
 * temporary file in $TMPDIR (or /tmp) through a small write buffer, read back by pread for the
 * alignment's refinement windows; the onset features are computed while the samples arrive. */
#include "verify_internal.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define WBUF 16384

/* The mono copy of n interleaved frames: each the mean of its C channels summed in double,
 * non-finite samples as 0. Stereo, the common case, four frames at a time with SSE2: the same
 * operations in the same order as the general loop (0 + l, + r, / 2 as * 0.5, exact), so the
 * same bits. */
void sg__mix_mono(const float *restrict x, size_t n, unsigned C, float *restrict y) {
  size_t k = 0;
#if defined(__SSE2__)
  if (C == 2) {
    const __m128 absm = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff)), big = _mm_set1_ps(FLT_MAX);
    const __m128d zero = _mm_setzero_pd(), half = _mm_set1_pd(0.5);
    for (; k + 4 <= n; k += 4) {
      __m128 v0 = _mm_loadu_ps(x + 2 * k), v1 = _mm_loadu_ps(x + 2 * k + 4);
      v0 = _mm_and_ps(v0, _mm_cmple_ps(_mm_and_ps(v0, absm), big)); /* NaN, Inf -> 0 */
      v1 = _mm_and_ps(v1, _mm_cmple_ps(_mm_and_ps(v1, absm), big));
      const __m128 l = _mm_shuffle_ps(v0, v1, 0x88), r = _mm_shuffle_ps(v0, v1, 0xdd);
      __m128d a = _mm_add_pd(_mm_add_pd(zero, _mm_cvtps_pd(l)), _mm_cvtps_pd(r));
      __m128d b = _mm_add_pd(_mm_add_pd(zero, _mm_cvtps_pd(_mm_movehl_ps(l, l))),
                             _mm_cvtps_pd(_mm_movehl_ps(r, r)));
      _mm_storeu_ps(y + k, _mm_movelh_ps(_mm_cvtpd_ps(_mm_mul_pd(a, half)),
                                         _mm_cvtpd_ps(_mm_mul_pd(b, half))));
    }
  }
#endif
  for (; k < n; ++k) {
    double s = 0;
    for (unsigned c = 0; c < C; ++c) {
      float v = x[k * C + c];
      s += isfinite(v) ? v : 0.0f;
    }
    y[k] = (float)(s / C);
  }
}

static sg_status flush(sg__mono *m, sg_diag *d) {
  const char *p = (const char *)m->wbuf;
  size_t left = m->wn * sizeof(float);
  off_t at = (off_t)((m->frames - (int64_t)m->wn) * (int64_t)sizeof(float));
  while (left) {
    ssize_t k = pwrite(m->fd, p, left, at);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return sg_diag_fail(d, SG_E_IO, "verify: cannot write the temporary mono copy: %s",
                          k < 0 ? strerror(errno) : "no progress");
    p += k;
    at += k;
    left -= (size_t)k;
  }
  m->wn = 0;
  return SG_OK;
}

sg_status sg__mono_open(sg__mono *m, unsigned rate, unsigned feat_flags, int copy, sg_diag *d) {
  memset(m, 0, sizeof *m);
  m->fd = -1;
  sg_status st = SG_OK;
  if (copy) {
    const char *dir = getenv("TMPDIR");
    char path[SG_MAX_PATH];
    snprintf(path, sizeof path, "%s/stemgate-mono-XXXXXX", dir && *dir ? dir : "/tmp");
    m->fd = mkstemp(path);
    if (m->fd < 0)
      return sg_diag_fail(d, SG_E_IO, "verify: cannot create a temporary file in '%s': %s",
                          dir && *dir ? dir : "/tmp", strerror(errno));
    unlink(path); /* gone with the descriptor, whatever happens to the process */
    if (!(m->wbuf = malloc(WBUF * sizeof *m->wbuf)))
      st = sg_diag_fail(d, SG_E_NOMEM, "verify: out of memory");
  }
  sg_features_config fc;
  sg_features_config_init(&fc);
  fc.flags = SG_FEAT_ONSET | feat_flags;
  if (st == SG_OK)
    st = sg_features_create(&m->onset, 1, rate, &fc, d);
  if (st != SG_OK)
    sg__mono_close(m);
  return st;
}

sg_status sg__mono_add(sg__mono *m, const float *x, size_t n, sg_diag *d) {
  sg_status st = m->onset ? sg_features_add(m->onset, x, n) : SG_OK;
  if (st != SG_OK)
    return sg_diag_fail(d, st, "verify: onset analysis failed");
  if (m->fd < 0) { /* no copy: the samples are read from the entry (sg__mono_attach_entry) */
    m->frames += (int64_t)n;
    return SG_OK;
  }
  while (n) {
    size_t k = WBUF - m->wn < n ? WBUF - m->wn : n;
    memcpy(m->wbuf + m->wn, x, k * sizeof *x);
    m->wn += k;
    m->frames += (int64_t)k;
    x += k;
    n -= k;
    if (m->wn == WBUF && (st = flush(m, d)) != SG_OK)
      return st;
  }
  return SG_OK;
}

sg_status sg__mono_finish(sg__mono *m, sg_diag *d) {
  sg_status st = m->fd >= 0 ? flush(m, d) : SG_OK;
  if (st == SG_OK && m->onset && (st = sg_features_finish(m->onset)) != SG_OK)
    sg_diag_fail(d, st, "verify: onset analysis failed");
  return st;
}

/* Frames [a, b) of an entry-backed mono into out. */
static sg_status entry_read(sg__mono *m, int64_t a, int64_t b, float *out, sg_diag *d) {
  sg_audio_reader *ar = sg__vaudio_reader(&m->src);
  sg_status st = a < b ? sg_audio_reader_seek(ar, a, d) : SG_OK;
  while (st == SG_OK && a < b) {
    size_t want = b - a < WBUF ? (size_t)(b - a) : WBUF, got = 0;
    if ((st = sg_audio_reader_read(ar, m->rbuf, want, &got, d)) != SG_OK)
      break;
    if (got == 0)
      return sg_diag_fail(d, SG_E_IO, "verify: the entry ended before its declared length");
    sg__mix_mono(m->rbuf, got, m->src_ch, out);
    out += got;
    a += (int64_t)got;
  }
  return st;
}

sg_status sg__mono_read(void *user, int64_t start, size_t len, float *out, sg_diag *d) {
  sg__mono *m = user;
  memset(out, 0, len * sizeof *out);
  int64_t a = start < 0 ? 0 : start, b = start + (int64_t)len;
  if (b > m->frames)
    b = m->frames;
  if (m->src_zr)
    return entry_read(m, a, b, out + (a - start), d);
  char *p = (char *)(out + (a - start));
  size_t left = b > a ? (size_t)(b - a) * sizeof(float) : 0;
  off_t at = (off_t)(a * (int64_t)sizeof(float));
  while (left) {
    ssize_t k = pread(m->fd, p, left, at);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return sg_diag_fail(d, SG_E_IO, "verify: cannot read the temporary mono copy: %s",
                          k < 0 ? strerror(errno) : "short file");
    p += k;
    at += k;
    left -= (size_t)k;
  }
  return SG_OK;
}

sg_align_input sg__mono_input(sg__mono *m) {
  sg_align_input in = {m->lent ? m->lent : m->onset, m->frames, sg__mono_read, m};
  return in;
}

sg_status sg__mono_attach_entry(sg__mono *m, const char *zip_path, size_t i, unsigned ch,
                                sg_diag *d) {
  m->src_ch = ch;
  sg__vpkg p; /* a one-zip view for sg__vpkg_open_audio_in */
  memset(&p, 0, sizeof p);
  p.is_zip = 1;
  sg_audio_info info;
  sg_status st = sg_zip_reader_open(&m->src_zr, zip_path, NULL, d);
  if (st == SG_OK) {
    p.zip = m->src_zr;
    p.n = sg_zip_reader_count(m->src_zr);
    st = sg__vpkg_open_audio_in(&p, NULL, i, 0, &m->src, &info, d);
  }
  if (st == SG_OK && (info.channels != ch || info.frames != m->frames))
    st = sg_diag_fail(d, SG_E_FORMAT, "verify: the entry changed since it was read");
  if (st == SG_OK && !(m->rbuf = malloc((size_t)WBUF * ch * sizeof *m->rbuf)))
    st = sg_diag_fail(d, SG_E_NOMEM, "verify: out of memory");
  return st;
}

sg_status sg__mono_open_entry(sg__mono *m, const char *zip_path, size_t i, unsigned ch,
                              int64_t frames, const sg_features *lent, sg_diag *d) {
  memset(m, 0, sizeof *m);
  m->fd = -1;
  m->frames = frames;
  m->lent = lent;
  sg_status st = sg__mono_attach_entry(m, zip_path, i, ch, d);
  if (st != SG_OK)
    sg__mono_close(m);
  return st;
}

void sg__mono_close(sg__mono *m) {
  sg__vaudio_close(&m->src);
  sg_zip_reader_close(m->src_zr);
  free(m->rbuf);
  if (m->fd >= 0)
    close(m->fd);
  sg_features_free(m->onset);
  free(m->wbuf);
  memset(m, 0, sizeof *m);
  m->fd = -1;
}
