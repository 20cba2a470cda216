/* The mono copies verify aligns (see verify_internal.h): samples spooled to an unlinked
 * temporary file in $TMPDIR (or /tmp) through a small write buffer, read back by pread for the
 * alignment's refinement windows; the onset features are computed while the samples arrive. */
#include "verify_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WBUF 16384

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

sg_status sg__mono_open(sg__mono *m, unsigned rate, unsigned feat_flags, sg_diag *d) {
  memset(m, 0, sizeof *m);
  m->fd = -1;
  const char *dir = getenv("TMPDIR");
  char path[SG_MAX_PATH];
  snprintf(path, sizeof path, "%s/stemgate-mono-XXXXXX", dir && *dir ? dir : "/tmp");
  m->fd = mkstemp(path);
  if (m->fd < 0)
    return sg_diag_fail(d, SG_E_IO, "verify: cannot create a temporary file in '%s': %s",
                        dir && *dir ? dir : "/tmp", strerror(errno));
  unlink(path); /* gone with the descriptor, whatever happens to the process */
  sg_features_config fc;
  sg_features_config_init(&fc);
  fc.flags = SG_FEAT_ONSET | feat_flags;
  sg_status st;
  if (!(m->wbuf = malloc(WBUF * sizeof *m->wbuf)))
    st = sg_diag_fail(d, SG_E_NOMEM, "verify: out of memory");
  else if (feat_flags & SG__MONO_NO_FEATURES)
    st = SG_OK;
  else
    st = sg_features_create(&m->onset, 1, rate, &fc, d);
  if (st != SG_OK)
    sg__mono_close(m);
  return st;
}

sg_status sg__mono_add(sg__mono *m, const float *x, size_t n, sg_diag *d) {
  sg_status st = m->onset ? sg_features_add(m->onset, x, n) : SG_OK;
  if (st != SG_OK)
    return sg_diag_fail(d, st, "verify: onset analysis failed");
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
  sg_status st = flush(m, d);
  if (st == SG_OK && m->onset && (st = sg_features_finish(m->onset)) != SG_OK)
    sg_diag_fail(d, st, "verify: onset analysis failed");
  return st;
}

sg_status sg__mono_read(void *user, int64_t start, size_t len, float *out, sg_diag *d) {
  sg__mono *m = user;
  memset(out, 0, len * sizeof *out);
  int64_t a = start < 0 ? 0 : start, b = start + (int64_t)len;
  if (b > m->frames)
    b = m->frames;
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

void sg__mono_lend(sg__mono *m, const sg_features *f) { m->lent = f; }

sg_align_input sg__mono_input(sg__mono *m) {
  sg_align_input in = {m->lent ? m->lent : m->onset, m->frames, sg__mono_read, m};
  return in;
}

void sg__mono_close(sg__mono *m) {
  if (m->fd >= 0)
    close(m->fd);
  sg_features_free(m->onset);
  free(m->wbuf);
  memset(m, 0, sizeof *m);
  m->fd = -1;
}
