/* SHA-256 (FIPS 180-4) through OpenSSL's EVP interface, incremental so writers can hash the
 * blocks as they stream to disk instead of reading files back. */
#include "stemgate/core.h"

#include "core/filehash.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sg_status sg_sha256_init(sg_sha256 *h) {
  if (!h)
    return SG_E_INVAL;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  if (!c)
    return SG_E_NOMEM;
  if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(c);
    return SG_E_INTERNAL;
  }
  h->ctx = c;
  return SG_OK;
}

sg_status sg_sha256_update(sg_sha256 *h, const void *data, size_t n) {
  if (!h || !h->ctx || (!data && n))
    return SG_E_INVAL;
  return EVP_DigestUpdate((EVP_MD_CTX *)h->ctx, data, n) == 1 ? SG_OK : SG_E_INTERNAL;
}

sg_status sg_sha256_final(sg_sha256 *h, char hex[65]) {
  if (!h || !h->ctx || !hex)
    return SG_E_INVAL;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  int ok = EVP_DigestFinal_ex((EVP_MD_CTX *)h->ctx, md, &len);
  sg_sha256_free(h);
  if (ok != 1 || len != 32)
    return SG_E_INTERNAL;
  static const char digits[] = "0123456789abcdef";
  for (unsigned i = 0; i < 32; ++i) {
    hex[2 * i] = digits[md[i] >> 4];
    hex[2 * i + 1] = digits[md[i] & 15];
  }
  hex[64] = '\0';
  return SG_OK;
}

void sg_sha256_free(sg_sha256 *h) {
  if (h && h->ctx) {
    EVP_MD_CTX_free((EVP_MD_CTX *)h->ctx);
    h->ctx = NULL;
  }
}

sg_status sg__sha256_file_also(const char *path, char hex[65],
                               void (*also)(void *user, const unsigned char *p, size_t n),
                               void *user, sg_diag *d) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return sg_diag_fail(d, SG_E_IO, "cannot open '%s' for hashing: %s", path, strerror(errno));
  /* Large reads, on the heap: a thread-local buffer is set up (its pages touched) in every
   * thread the process starts, 1 MiB each. */
  const size_t cap = (size_t)1 << 20;
  unsigned char *buf = malloc(cap);
  if (!buf) {
    fclose(f);
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory hashing '%s'", path);
  }
  sg_sha256 h;
  sg_status st = sg_sha256_init(&h);
  while (st == SG_OK) {
    size_t n = fread(buf, 1, cap, f);
    if (n) {
      st = sg_sha256_update(&h, buf, n);
      if (also)
        also(user, buf, n);
    }
    if (n < cap) {
      if (ferror(f))
        st = sg_diag_fail(d, SG_E_IO, "read error while hashing '%s'", path);
      break;
    }
  }
  fclose(f);
  free(buf);
  if (st != SG_OK) {
    sg_sha256_free(&h);
    return st;
  }
  return sg_sha256_final(&h, hex);
}

sg_status sg_sha256_file(const char *path, char hex[65], sg_diag *d) {
  return sg__sha256_file_also(path, hex, NULL, NULL, d);
}
