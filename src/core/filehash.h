/* Internal to stemgate: a file hashed once, with a second digest from the same read. */
#ifndef SG_CORE_FILEHASH_H
#define SG_CORE_FILEHASH_H

#include "stemgate/core.h"

#include <stddef.h>

/* The SHA-256 (lowercase hex) of the file at path, read once in 1 MiB blocks; each block is also
 * handed to also (optional) in order, so a second digest (a zip entry's CRC-32) costs no second
 * read. sg_sha256_file is this without also. */
sg_status sg__sha256_file_also(const char *path, char hex[65],
                               void (*also)(void *user, const unsigned char *p, size_t n),
                               void *user, sg_diag *d);

#endif
