/* Internal helpers shared by the package module's files. */
#ifndef SG_PACKAGE_INTERNAL_H
#define SG_PACKAGE_INTERNAL_H

#include "stemgate/package.h"

#include "core/filehash.h" /* sg__crc32 */

#include <libdeflate.h>

#define SG__PATH_MAX 4096

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF), 0 when invalid. n > 0 bytes are available. Shared by the JSON reader and the zip
 * name checks. */
size_t sg__utf8_seq(const unsigned char *s, size_t n);

/* sg_manifest_file_describe with the file's SHA-256 given (sha256 != NULL: taken as it is, the
 * file is not read for it) or read from the file (NULL). */
sg_status sg__manifest_file_describe(sg_manifest_file *f, const char *path,
                                     const char *archive_name, sg_pkg_role role, const char *stem,
                                     const char *sha256, sg_diag *d);

/* sg_zip_writer_add_file with the file's CRC-32 known (crc32 != NULL: taken as it is, so it must
 * be of the bytes the file holds, e.g. computed with its SHA-256 by sg_package_file_digest), and
 * its SHA-256 (sha256 != NULL: the same, for sg_zip_writer_close_digest). */
sg_status sg__zip_writer_add_file_crc(sg_zip_writer *w, const char *archive_name,
                                      const char *src_path, int compress, const uint32_t *crc32,
                                      const char *sha256, sg_diag *d);

/* Starts laying out the entries added so far on a thread of the writer's own, while the caller
 * adds more; close joins it and writes the rest, so the archive is byte for byte what one pass
 * at close writes. A no-op (everything at close) when the writer cannot write ahead: libzip's
 * archives, the hash beside the writing, entries the direct writer does not lay out. */
sg_status sg__zip_writer_write_ahead(sg_zip_writer *w, sg_diag *d);

#endif
