/* stemgate zip: packages as zip files (PKWARE APPNOTE.TXT 6.3, written and read with libzip).
 *  - Writer: audio STORED (deflate saves ~8 % on audio at a large CPU cost), text deflated;
 *    written to "<zip>.partial" and renamed into place only when complete; fixed timestamps and
 *    attributes so the same inputs give a bit-identical zip.
 *  - Reader: hostile-archive safety (path traversal, absolute names, drive letters,
 *    backslashes, control characters, duplicate names, entry count, declared sizes, compression
 *    ratio for zip bombs, encryption, unknown methods), streaming SHA-256 of an entry, WAV
 *    entries opened as audio through io's virtual I/O without extracting, safe extraction.
 *
 * Ownership: every open function returns an object the caller frees with the matching close or
 * abort function; strings passed in are copied unless stated otherwise. */
#ifndef STEMGATE_ZIP_H
#define STEMGATE_ZIP_H

#include "stemgate/core.h"
#include "stemgate/io.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SG_PKG_NAME 256 /* archive entry names, titles */
#define SG_PKG_SHORT 64

/* ==== zip writer ============================================================================= */

typedef struct sg_zip_writer sg_zip_writer;

typedef struct sg_zip_writer_config {
  /* Modification time written to every entry, as local broken-down DOS time fields (zip stores
   * no time zone): default 1980-01-01 00:00:00, the DOS epoch. */
  int year, month, day, hour, minute, second;
  int deflate_level;  /* 1..9 for deflated entries; default 6 */
  size_t io_block;    /* bytes per read/write system call; default 1 MiB; 0 = libzip's own
                         stdio file I/O (slower; kept for comparison) */
  int fsync_on_close; /* 1 (default): the archive is on disk before it is renamed into place */
  int deflate_audio;  /* 1: the package deflates audio entries too (~8 % smaller at ~25 MB/s);
                         default 0: audio stored */
  int hash_sha256;    /* 1: the archive's SHA-256 taken beside the writing, on a thread that reads
                         back what is final (sg_zip_writer_close_sha256 then waits only for the
                         tail); default 0 */
} sg_zip_writer_config;

void sg_zip_writer_config_init(sg_zip_writer_config *c);
/* Starts a zip at path; nothing is visible at path until sg_zip_writer_close succeeds (data goes
 * to "<path>.partial"). cfg may be NULL for defaults. */
sg_status sg_zip_writer_open(sg_zip_writer **out, const char *path, const sg_zip_writer_config *cfg,
                             sg_diag *d);
/* Adds a file from disk (read at close time, so it must stay until then). compress: 0 stored,
 * 1 deflated. Names are checked with sg_zip_name_check. */
sg_status sg_zip_writer_add_file(sg_zip_writer *w, const char *archive_name, const char *src_path,
                                 int compress, sg_diag *d);
/* Adds a NUL-terminated text (copied), deflated: NOTES.txt, manifest.json, any text entry. */
sg_status sg_zip_writer_add_text(sg_zip_writer *w, const char *archive_name, const char *text,
                                 sg_diag *d);
/* Writes the archive and renames it into place. Frees w in every case. */
sg_status sg_zip_writer_close(sg_zip_writer *w, sg_diag *d);
/* The same, and the SHA-256 of the archive as written into hex (lowercase; "" on failure): from
 * the thread beside the writing when cfg->hash_sha256 was set and it saw every byte, else read
 * from the renamed file. */
sg_status sg_zip_writer_close_sha256(sg_zip_writer *w, char hex[65], sg_diag *d);
/* The same with the archive's entry digest (sg_zip_digest_file) instead: taken from the bytes as
 * they are written, with no read of the archive, when every stored file came with its SHA-256
 * (sg_package_add_audio_digest); else from the renamed file. */
sg_status sg_zip_writer_close_digest(sg_zip_writer *w, char hex[65], sg_diag *d);
/* A zip's entry digest: the SHA-256 of its bytes in order, except that each stored entry's data
 * (local headers walked in order) counts as the 64 lowercase hex digits of its own SHA-256. Any
 * changed byte changes it, like the file's SHA-256, yet a writer that knows its entries' hashes
 * need not read back the hundreds of MB it copied to get it, and a verification that hashes
 * every entry vouches for it. An identity for caches, not a checksum to publish. */
sg_status sg_zip_digest_file(const char *path, char hex[65], sg_diag *d);
/* Discards everything written. Frees w. Safe with NULL. */
void sg_zip_writer_abort(sg_zip_writer *w);

/* ==== zip reader ============================================================================= */

typedef struct sg_zip_limits {
  size_t max_entries;       /* default 1000                                             */
  uint64_t max_entry_bytes; /* declared uncompressed size of one entry; default 4 GiB    */
  uint64_t max_total_bytes; /* sum of declared sizes; default 16 GiB                     */
  double max_ratio;         /* uncompressed/compressed above this is a bomb; default 200 */
  uint64_t ratio_min_bytes; /* the ratio applies to entries at least this big; 1 MiB     */
  size_t max_memory_entry;  /* deflated WAV opened as audio is inflated into memory up to
                               this many bytes; default 256 MiB                          */
} sg_zip_limits;

void sg_zip_limits_init(sg_zip_limits *l);

/* Rejects (SG_E_FORMAT, with a message naming the problem) names that are unsafe to extract or
 * ambiguous: empty, longer than 255 bytes, absolute ("/x"), drive-letter ("C:x"), containing
 * '\\', a control character (< 0x20 or 0x7F), an empty, "." or ".." component, or invalid
 * UTF-8. A trailing '/' (directory entry) is allowed. */
sg_status sg_zip_name_check(const char *name, sg_diag *d);

typedef struct sg_zip_entry {
  char name[SG_PKG_NAME];
  uint64_t index;     /* libzip index */
  uint64_t size;      /* declared uncompressed size */
  uint64_t comp_size; /* declared compressed size */
  int deflated;       /* 0 stored, 1 deflated */
  int is_dir;
  uint32_t crc;
} sg_zip_entry;

typedef struct sg_zip_reader sg_zip_reader;

/* Opens an archive and validates every entry before returning: names (as stored, including a
 * NUL byte libzip would show as a space, and as libzip decodes them), count, sizes, ratio,
 * method, encryption. Any violation fails the open with SG_E_LIMIT (counts, sizes, ratio) or
 * SG_E_FORMAT (names, methods, damaged archive) and a message naming the entry. lim may be
 * NULL for defaults. */
sg_status sg_zip_reader_open(sg_zip_reader **out, const char *path, const sg_zip_limits *lim,
                             sg_diag *d);
void sg_zip_reader_close(sg_zip_reader *r);
size_t sg_zip_reader_count(const sg_zip_reader *r);
const sg_zip_entry *sg_zip_reader_entry(const sg_zip_reader *r, size_t i);
const sg_zip_entry *sg_zip_reader_find(const sg_zip_reader *r, const char *name);
/* Streams the entry through SHA-256 (never more than its declared size; libzip checks the CRC
 * at the end). bytes (optional) receives the number of bytes hashed. */
sg_status sg_zip_reader_sha256(sg_zip_reader *r, const sg_zip_entry *e, char hex[65],
                               uint64_t *bytes, sg_diag *d);
/* The CRC-32 of a stored entry's bytes, read in place (no decoding, no SHA-256: about ten times
 * cheaper). SG_E_FORMAT when they cannot be read to the entry's size or their CRC-32 is not the
 * directory's; SG_E_UNSUPPORTED for an entry not read in place (deflated, say). */
sg_status sg_zip_reader_crc32(sg_zip_reader *r, const sg_zip_entry *e, uint32_t *crc, sg_diag *d);
/* Reads a whole entry into a new buffer (free()) with a NUL appended; SG_E_LIMIT when its
 * declared size exceeds max_bytes. */
sg_status sg_zip_reader_read_all(sg_zip_reader *r, const sg_zip_entry *e, size_t max_bytes,
                                 char **data, size_t *n, sg_diag *d);

/* An audio entry opened for reading in place: stored entries are read through libzip with
 * seeking; deflated ones are inflated into memory (bounded by max_memory_entry). */
typedef struct sg_zip_audio sg_zip_audio;
sg_status sg_zip_audio_open(sg_zip_audio **out, sg_zip_reader *r, const sg_zip_entry *e,
                            sg_audio_info *info, sg_diag *d);
/* The same, hashing the entry's bytes as the decoder reads them, so one pass over the entry
 * gives both the audio and the entry's SHA-256 (sg_zip_audio_sha256). */
sg_status sg_zip_audio_open_sha256(sg_zip_audio **out, sg_zip_reader *r, const sg_zip_entry *e,
                                   sg_audio_info *info, sg_diag *d);
/* After the audio has been read: reads whatever the decoder skipped (chunks after the audio),
 * then gives the SHA-256 of the entry's bytes; SG_E_FORMAT when the entry could not be read to
 * its declared size. No more audio reads after this. */
sg_status sg_zip_audio_sha256(sg_zip_audio *a, char hex[65], sg_diag *d);
/* The reader to use with sg_audio_reader_read/seek; owned by a (do not close it). */
sg_audio_reader *sg_zip_audio_reader(sg_zip_audio *a);
void sg_zip_audio_close(sg_zip_audio *a);

/* Extracts every entry under dir (created if missing). Each file is written to a temporary name
 * in its final directory and renamed into place; names are re-checked, and a path component
 * that is a symbolic link is refused, so nothing lands outside dir. */
sg_status sg_zip_reader_extract(sg_zip_reader *r, const char *dir, sg_diag *d);

#ifdef __cplusplus
}
#endif
#endif
