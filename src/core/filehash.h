/* Internal to stemgate: a file hashed once, with a second digest from the same read. */
#ifndef SG_CORE_FILEHASH_H
#define SG_CORE_FILEHASH_H

#include "stemgate/core.h"

#include <libdeflate.h>
#include <stddef.h>
#include <stdint.h>

/* The SHA-256 (lowercase hex) of the file at path, read once in 1 MiB blocks; each block is also
 * handed to also (optional) in order, so a second digest (a zip entry's CRC-32) costs no second
 * read. sg_sha256_file is this without also. */
sg_status sg__sha256_file_also(const char *path, char hex[65],
                               void (*also)(void *user, const unsigned char *p, size_t n),
                               void *user, sg_diag *d);

/* Zip's CRC-32 (zlib's crc32_z(crc, p, n), chained the same way) from libdeflate, which folds
 * with PCLMULQDQ where the CPU has it: ~11 GB/s here against zlib 1.2.13's ~2.2. Here, not in
 * the package module, because the audio writer takes it of the bytes it writes. */
static inline uint32_t sg__crc32(uint32_t crc, const unsigned char *p, size_t n) {
  return libdeflate_crc32(crc, p, n);
}

#endif
