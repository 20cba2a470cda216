/* stemgate package: the deliverable a client receives, and the proof that it is intact.
 *
 * A package is one zip (include/stemgate/zip.h) holding the master, every stem as WAV, optional
 * MIDI files, NOTES.txt and manifest.json (include/stemgate/manifest.h). This header builds one
 * (zip writer and manifest together), verifies a written one against its own manifest, and
 * holds the one naming rule of delivered files.
 *
 * Final verification (sg_package_verify) re-opens a written package and records one gate row
 * per check (step "package": entry_present, sha256, wav_header, entry_listed, and the
 * manifest_* re-measurements) into an sg_gate_report.
 *
 * Ownership: sg_package_begin returns an object freed by sg_package_finish or
 * sg_package_abort; strings passed in are copied unless stated otherwise. */
#ifndef STEMGATE_PACKAGE_H
#define STEMGATE_PACKAGE_H

#include "stemgate/core.h"
#include "stemgate/gate.h"
#include "stemgate/io.h"
#include "stemgate/manifest.h"
#include "stemgate/spec.h"
#include "stemgate/zip.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== package builder and verification ======================================================= */

/* Builds a package: zip writer + manifest together. Audio goes in stored, text deflated. The
 * manifest's timestamp is taken from cfg's entry time (the fixed 1980-01-01T00:00:00Z when cfg
 * is NULL), so one date describes the delivery; the caller may overwrite it. */
typedef struct sg_package sg_package;

sg_status sg_package_begin(sg_package **out, const char *zip_path, const sg_zip_writer_config *cfg,
                           sg_diag *d);
/* The manifest to fill (title, sections, reference, gates...). Owned by p. */
sg_manifest *sg_package_manifest(sg_package *p);
/* Adds an audio file (stored, or deflated when the package's config asks) and its manifest row
 * (header fields and SHA-256 read from the file; loudness optional). */
sg_status sg_package_add_audio(sg_package *p, const char *src_path, const char *archive_name,
                               sg_pkg_role role, const char *stem, const sg_pkg_loudness *ld,
                               sg_diag *d);
/* The same with the file's digests already known (a render's node records hold the SHA-256,
 * lowercase hex, and the CRC-32 of each file it wrote, both from one read: sg_package_file_digest):
 * the manifest row takes the hash instead of reading the file once more, and a stored entry whose
 * CRC-32 is given is copied by the kernel without passing through user space (zip_write.c). Both
 * are taken as they are: the package's final verification hashes every entry from the archive
 * against the manifest and checks its CRC-32 against the directory, so a file that no longer
 * holds those bytes fails there. sha256 NULL: read; crc32 NULL: computed as it is copied. */
sg_status sg_package_add_audio_digest(sg_package *p, const char *src_path, const char *archive_name,
                                      sg_pkg_role role, const char *stem, const sg_pkg_loudness *ld,
                                      const char *sha256, const uint32_t *crc32, sg_diag *d);
/* A file's SHA-256 (hex) and the CRC-32 a zip entry of it needs, from one read. */
sg_status sg_package_file_digest(const char *path, char sha256[65], uint32_t *crc32, sg_diag *d);
/* Adds any other file (MIDI: stored; compress chooses). */
sg_status sg_package_add_file(sg_package *p, const char *src_path, const char *archive_name,
                              sg_pkg_role role, const char *stem, int compress, sg_diag *d);
/* Adds a text entry (deflated) and its manifest row, e.g. NOTES.txt with SG_ROLE_NOTES. */
sg_status sg_package_add_text(sg_package *p, const char *archive_name, const char *text,
                              sg_pkg_role role, sg_diag *d);
/* Starts writing the entries added so far into the zip on a thread of its own while the caller
 * prepares the rest (a render zips its stems while it masters); finish writes the others after
 * them. The zip's bytes are the same as without. */
sg_status sg_package_write_ahead(sg_package *p, sg_diag *d);
/* Renders manifest.json into the zip, writes and renames it into place. Frees p. */
sg_status sg_package_finish(sg_package *p, sg_diag *d);
/* The same, and the zip's SHA-256 into hex (sg_zip_writer_close_sha256: taken beside the
 * writing when the config's hash_sha256 is set). */
sg_status sg_package_finish_sha256(sg_package *p, char hex[65], sg_diag *d);
/* The same with the zip's entry digest (sg_zip_writer_close_digest): no read of the archive when
 * every audio file was added with its SHA-256. */
sg_status sg_package_finish_digest(sg_package *p, char hex[65], sg_diag *d);
void sg_package_abort(sg_package *p);

/* Re-opens a package and proves it against its manifest. For each manifest row:
 *   entry_present  the entry exists in the zip
 *   sha256         SHA-256 of the entry equals the manifest's
 *   wav_header     for audio rows: rate, channels, format and frames read from the WAV header
 *                  inside the zip equal the manifest's
 * and for every zip entry other than manifest.json: entry_listed (it is in the manifest).
 * Also "archive" and "manifest" checks when the zip or its manifest cannot be read. Every
 * result is appended to report (step "package"). Returns SG_OK when all hold, SG_E_GATE when a
 * check failed (d names the first), or the error that stopped verification. lim may be NULL. */
sg_status sg_package_verify(const char *zip_path, const sg_zip_limits *lim, sg_gate_report *report,
                            sg_diag *d);

/* What a caller measured of one entry in its own single pass over the same archive (stemgate
 * verify decodes each audio entry once, hashing its bytes on the way and metering it): with
 * these, the two functions below take the entry's hash and meter result from that pass instead
 * of reading the entry again. An entry not listed is read as usual. */
typedef struct sg_package_entry_pass {
  char name[SG_PKG_NAME]; /* archive name                                            */
  int hashed;             /* 1: sha_status / sha256 describe the entry's bytes          */
  sg_status sha_status;   /* SG_OK: sha256 is the entry's; else error says why          */
  char sha256[65];
  char error[SG_DIAG_TEXT];
  int metered;            /* 1: meter_status / mr describe a decode of the entry      */
  sg_status meter_status; /* SG_OK: mr holds SG_METER_ALL; else meter_error says why  */
  sg_meter_result mr;
  char meter_error[SG_DIAG_TEXT];
} sg_package_entry_pass;
sg_status sg_package_verify_passed(const char *zip_path, const sg_zip_limits *lim,
                                   const sg_package_entry_pass *known, size_t n_known,
                                   sg_gate_report *report, sg_diag *d);

/* Re-measures every audio entry whose manifest row carries loudness, streaming it out of the
 * archive through the analysis meter (ITU-R BS.1770-4 integrated loudness and true peak, sample
 * peak), and records per entry (step "package", stem = archive name):
 *   loudness     |measured - manifest| <= tol_lu              (LUFS)
 *   true_peak    |measured - manifest| <= tol_db              (dBTP)
 *   sample_peak  |measured - manifest| <= tol_db              (dBFS)
 * Values the manifest holds as null are skipped. This proves the manifest's numbers describe
 * the delivered bytes (not, say, the float signal before quantisation). Costs one decode and a
 * 4x-oversampled true-peak pass per file. Returns SG_OK, SG_E_GATE, or the error that stopped
 * it. Typical tolerances: 0.1 LU, 0.1 dB. */
sg_status sg_package_verify_loudness(const char *zip_path, const sg_zip_limits *lim, double tol_lu,
                                     double tol_db, sg_gate_report *report, sg_diag *d);
sg_status sg_package_verify_loudness_passed(const char *zip_path, const sg_zip_limits *lim,
                                            const sg_package_entry_pass *known, size_t n_known,
                                            double tol_lu, double tol_db, sg_gate_report *report,
                                            sg_diag *d);
/* The rows of one file: manifest_loudness, manifest_true_peak, manifest_sample_peak of a meter
 * result (SG_METER_ALL) against what f records (a figure not recorded gives no row), within
 * tol_lu / tol_db (SG_LIMIT_DEFAULT: the table's). stem names the rows; step their step.
 * Returns SG_OK, SG_E_GATE (d names the first failure) or SG_E_NOMEM. */
sg_status sg_package_compare_loudness(sg_gate_report *report, const char *step, const char *stem,
                                      const sg_manifest_file *f, const sg_meter_result *mr,
                                      double tol_lu, double tol_db, sg_diag *d);

/* ---- naming ----------------------------------------------------------------------------- */

/* The default deliverable.naming template. */
#define SG_NAMING_DEFAULT "{song}_{stem}.wav"

/* File-safe form of a name: letters, digits, '-' and '_' kept, anything else '_'. */
void sg_package_safe_name(const char *in, char *out, size_t cap);
/* The archive name of a stem's (or "Master"'s) file by the spec's deliverable.naming: {song}
 * the slug, {stem} the file-safe stem name, {index} two digits (index < 0: the byte 0x01, which
 * verify's matcher reads as "one or more digits"), {rate}, {format}. */
void sg_package_file_name(const sg_song *s, const char *stem, int index, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
