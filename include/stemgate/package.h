/* stemgate package: the deliverable a client receives, and the proof that it is intact.
 *
 * A package is one zip (PKWARE APPNOTE.TXT 6.3, written and read with libzip) holding the
 * master, every stem as WAV, optional MIDI files, NOTES.txt and manifest.json. The manifest
 * (JSON, RFC 8259) lists every other entry with its role, audio format, frame count, SHA-256
 * (FIPS 180-4), loudness (ITU-R BS.1770 / EBU R 128, measured by the pipeline) and every gate
 * verdict of the run, so `stemgate verify` can prove on the client's side that what arrived is
 * what was measured.
 *
 * Four parts:
 *  - JSON: a streaming writer (RFC 8259 escaping, invalid UTF-8 replaced by U+FFFD, shortest
 *    round-trip numbers, NaN/Inf written as null) and a bounded DOM reader for hostile input.
 *  - Manifest: a plain model the pipeline fills, rendered deterministically to JSON and parsed
 *    back for verification.
 *  - Zip writer: audio STORED (deflate saves ~8 % on audio at a large CPU cost), text deflated;
 *    written to "<zip>.partial" and renamed into place only when complete; fixed timestamps and
 *    attributes so the same inputs give a bit-identical zip.
 *  - Zip reader: hostile-archive safety (path traversal, absolute names, drive letters,
 *    backslashes, control characters, duplicate names, entry count, declared sizes, compression
 *    ratio for zip bombs, encryption, unknown methods), streaming SHA-256 of an entry, WAV
 *    entries opened as audio through io's virtual I/O without extracting, safe extraction.
 *
 * Final verification (sg_package_verify) re-opens a written package and records one gate result
 * per check (step "package": "entry_present", "sha256", "wav_header", "entry_listed") into an
 * sg_gate_report.
 *
 * Ownership: every open/begin function returns an object the caller frees with the matching
 * close/free/abort function; strings passed in are copied unless stated otherwise. */
#ifndef STEMGATE_PACKAGE_H
#define STEMGATE_PACKAGE_H

#include "stemgate/core.h"
#include "stemgate/gate.h"
#include "stemgate/io.h"
#include "stemgate/spec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== JSON writer ============================================================================ */

#define SG_JSON_MAX_DEPTH 64

/* Streams JSON text into a growable buffer. Errors are sticky: after the first failure
 * (out of memory, nesting deeper than SG_JSON_MAX_DEPTH, a value where a key is required) every
 * call is a no-op and sg_json_writer_status reports it, so callers check once at the end. */
typedef struct sg_json_writer {
  char *buf;
  size_t len, cap;
  int depth;
  unsigned char count[SG_JSON_MAX_DEPTH + 1]; /* values written at each level (saturating) */
  unsigned char is_obj[SG_JSON_MAX_DEPTH + 1];
  int after_key;
  int pretty; /* 1: two-space indentation and newlines; 0: compact */
  sg_status err;
} sg_json_writer;

void sg_json_writer_init(sg_json_writer *w, int pretty);
void sg_json_writer_free(sg_json_writer *w);
void sg_json_begin_object(sg_json_writer *w);
void sg_json_end_object(sg_json_writer *w);
void sg_json_begin_array(sg_json_writer *w);
void sg_json_end_array(sg_json_writer *w);
/* Member name inside an object; the next call must write its value. */
void sg_json_key(sg_json_writer *w, const char *key);
/* NUL-terminated UTF-8 string; NULL writes null. Escapes '"', '\\' and every control character
 * (U+0000..U+001F, U+007F); bytes that are not valid UTF-8 become U+FFFD. */
void sg_json_string(sg_json_writer *w, const char *s);
/* The same for n bytes that may contain NUL (written as \u0000). */
void sg_json_string_n(sg_json_writer *w, const char *s, size_t n);
/* Shortest decimal that reads back to the same double (tries %.15g, %.16g, %.17g); NaN and
 * infinities have no JSON form and are written as null. */
void sg_json_number(sg_json_writer *w, double x);
void sg_json_int(sg_json_writer *w, int64_t x);
void sg_json_bool(sg_json_writer *w, int b);
void sg_json_null(sg_json_writer *w);
/* Convenience: key + value. */
void sg_json_kv_string(sg_json_writer *w, const char *key, const char *s);
void sg_json_kv_number(sg_json_writer *w, const char *key, double x);
void sg_json_kv_int(sg_json_writer *w, const char *key, int64_t x);
void sg_json_kv_bool(sg_json_writer *w, const char *key, int b);
/* SG_OK, or the first error; also SG_E_INVAL when objects/arrays are still open. */
sg_status sg_json_writer_status(const sg_json_writer *w);
/* The text so far (NUL-terminated, owned by w); *len optional. NULL after an error. */
const char *sg_json_writer_text(const sg_json_writer *w, size_t *len);
/* Hands the buffer to the caller (free() it) and resets w. NULL after an error. */
char *sg_json_writer_take(sg_json_writer *w, size_t *len);

/* ==== JSON reader ============================================================================ */

typedef enum sg_json_type {
  SG_JSON_NULL = 0,
  SG_JSON_BOOL,
  SG_JSON_NUMBER,
  SG_JSON_STRING,
  SG_JSON_ARRAY,
  SG_JSON_OBJECT
} sg_json_type;

/* One parsed value. Children of arrays and objects form a singly linked list (child, next);
 * members of an object carry their name in key. Strings are NUL-terminated with their byte
 * length in len (they may contain NUL when the text had \u0000). */
typedef struct sg_json_value {
  sg_json_type type;
  int boolean;
  double number;
  const char *str;
  size_t len;
  const char *key;
  size_t key_len;
  struct sg_json_value *child, *next;
  size_t n; /* number of children */
} sg_json_value;

typedef struct sg_json_doc sg_json_doc;

#define SG_JSON_PARSE_MAX_DEPTH 64

/* Parses exactly one JSON value (RFC 8259, strict: no comments, no trailing commas, no leading
 * zeros, UTF-8 validated, surrogate pairs combined, lone surrogates rejected) followed only by
 * whitespace. Nesting is bounded by SG_JSON_PARSE_MAX_DEPTH; memory is bounded by a small
 * multiple of len. On failure d gets "line:col" in its position fields and a message. */
sg_status sg_json_parse(const char *text, size_t len, sg_json_doc **out, sg_diag *d);
const sg_json_value *sg_json_root(const sg_json_doc *doc);
void sg_json_doc_free(sg_json_doc *doc);
/* Member of an object by name (first match); NULL when v is not an object or has no such key. */
const sg_json_value *sg_json_get(const sg_json_value *obj, const char *key);
/* i-th element of an array (or member of an object); NULL when out of range. */
const sg_json_value *sg_json_at(const sg_json_value *v, size_t i);
/* Typed accessors with a default for missing or mistyped values. */
const char *sg_json_get_str(const sg_json_value *obj, const char *key, const char *def);
double sg_json_get_num(const sg_json_value *obj, const char *key, double def);
int sg_json_get_bool(const sg_json_value *obj, const char *key, int def);

/* ==== manifest =============================================================================== */

#define SG_PKG_NAME 256 /* archive entry names, titles */
#define SG_PKG_SHORT 64

typedef enum sg_pkg_role {
  SG_ROLE_MASTER = 0,
  SG_ROLE_STEM,
  SG_ROLE_MIDI,
  SG_ROLE_NOTES,
  SG_ROLE_OTHER
} sg_pkg_role;

/* "master", "stem", "midi", "notes", "other". */
const char *sg_pkg_role_name(sg_pkg_role r);
sg_status sg_pkg_role_parse(const char *s, sg_pkg_role *out);

/* Loudness of one audio file as measured by the pipeline (analysis module). */
typedef struct sg_pkg_loudness {
  int valid;
  double integrated_lufs;  /* ITU-R BS.1770-4 integrated loudness, LUFS              */
  double true_peak_dbtp;   /* BS.1770-4 Annex 2 true peak (4x oversampled), dBTP     */
  double sample_peak_dbfs; /* largest |sample|, dBFS                                 */
} sg_pkg_loudness;

typedef struct sg_manifest_file {
  char archive_name[SG_PKG_NAME]; /* path inside the zip, '/'-separated */
  sg_pkg_role role;
  char stem[SG_PKG_SHORT]; /* stem name for role stem/midi; "" otherwise */
  int is_audio;            /* 1: the fields below describe a WAV         */
  sg_sample_format format;
  unsigned rate, channels;
  int bits;
  int64_t frames;
  double duration_sec;
  uint64_t bytes;  /* size of the entry's data */
  char sha256[65]; /* lowercase hex of the entry's bytes */
  int compressed;  /* 1: stored deflated in the zip */
  sg_pkg_loudness loudness;
} sg_manifest_file;

typedef struct sg_manifest_section {
  char name[SG_PKG_SHORT];
  char key[SG_PKG_SHORT];         /* "G major"; "" when the song's key applies */
  int start_bar, end_bar;         /* 1-based first bar, exclusive end bar */
  int64_t start_frame, end_frame; /* exact frames at the song rate */
  double start_sec, end_sec;
} sg_manifest_section;

typedef struct sg_manifest_reference {
  int present;
  char path[1024];
  double measured_tempo_bpm;
  double offset_ms;             /* reference start relative to bar 1, ms */
  double drift_ms;              /* worst alignment drift over the song, ms */
  char conversion[SG_PKG_NAME]; /* e.g. "44100 Hz stereo -> 48000 Hz stereo (SRC sinc best)" */
} sg_manifest_reference;

typedef struct sg_manifest {
  char title[SG_PKG_NAME];
  char slug[SG_PKG_SHORT];
  char tool[SG_PKG_SHORT];         /* "stemgate" (set by init)      */
  char tool_version[SG_PKG_SHORT]; /* sg_version() (set by init)    */
  char created_by[SG_PKG_NAME];    /* "stemgate 0.1.0" by default   */
  /* ISO 8601 UTC. Fixed ("1980-01-01T00:00:00Z") by default so output is reproducible; the
   * pipeline may derive it from the spec. Never wall-clock time unless a caller puts it here. */
  char timestamp[32];
  char spec_sha256[65];
  unsigned rate, channels;
  sg_sample_format format;
  double tempo_bpm;
  int meter_num, meter_den;
  char key[SG_PKG_SHORT];
  sg_manifest_reference reference;
  sg_manifest_section *sections;
  size_t n_sections, cap_sections;
  sg_manifest_file *files;
  size_t n_files, cap_files;
  sg_gate_result *gates; /* copied rows */
  size_t n_gates;
} sg_manifest;

#define SG_MANIFEST_SCHEMA "stemgate.manifest/1"
#define SG_MANIFEST_NAME "manifest.json"

void sg_manifest_init(sg_manifest *m);
void sg_manifest_free(sg_manifest *m);
sg_status sg_manifest_add_section(sg_manifest *m, const sg_manifest_section *s);
/* Appends a copy; SG_E_INVAL for an empty or duplicate archive name. */
sg_status sg_manifest_add_file(sg_manifest *m, const sg_manifest_file *f);
sg_manifest_file *sg_manifest_find_file(sg_manifest *m, const char *archive_name);
void sg_manifest_set_reference(sg_manifest *m, const sg_manifest_reference *r);
/* Copies every row of r (replacing rows attached before). */
sg_status sg_manifest_attach_gates(sg_manifest *m, const sg_gate_report *r);
/* Renders the manifest as pretty JSON text (newly allocated, free()). Deterministic: the same
 * model gives the same bytes. */
sg_status sg_manifest_to_json(const sg_manifest *m, char **text, size_t *len, sg_diag *d);
/* Parses manifest JSON back into a model (m is initialised here; free with sg_manifest_free).
 * Missing optional fields keep their defaults; a wrong schema or a file row without
 * archive_name/sha256 is SG_E_FORMAT. */
sg_status sg_manifest_parse(const char *text, size_t len, sg_manifest *m, sg_diag *d);

/* Fills f from a file on disk: SHA-256 and size always; for a readable audio file also format,
 * rate, channels, bits, frames and duration (is_audio = 1). archive_name/role/stem are set from
 * the arguments; loudness is left invalid. */
sg_status sg_manifest_file_describe(sg_manifest_file *f, const char *path, const char *archive_name,
                                    sg_pkg_role role, const char *stem, sg_diag *d);

/* One gate row as a JSON object — step, stem, check, verdict ("pass", "fail", "warn"), pass,
 * required, measured (null for text checks), cmp ("le", "ge", "eq", "abs_le", "within",
 * "info"), limit, target (for "within"), unit, detail — the form manifest.json and
 * `stemgate verify --json` share. */
void sg_json_gate_row(sg_json_writer *w, const sg_gate_result *g);

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
/* Adds n bytes from memory (copied). */
sg_status sg_zip_writer_add_buffer(sg_zip_writer *w, const char *archive_name, const void *data,
                                   size_t n, int compress, sg_diag *d);
/* Adds a NUL-terminated text (copied), deflated: NOTES.txt, manifest.json, any text entry. */
sg_status sg_zip_writer_add_text(sg_zip_writer *w, const char *archive_name, const char *text,
                                 sg_diag *d);
/* Writes the archive and renames it into place. Frees w in every case. */
sg_status sg_zip_writer_close(sg_zip_writer *w, sg_diag *d);
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
/* Reads a whole entry into a new buffer (free()) with a NUL appended; SG_E_LIMIT when its
 * declared size exceeds max_bytes. */
sg_status sg_zip_reader_read_all(sg_zip_reader *r, const sg_zip_entry *e, size_t max_bytes,
                                 char **data, size_t *n, sg_diag *d);

/* An audio entry opened for reading in place: stored entries are read through libzip with
 * seeking; deflated ones are inflated into memory (bounded by max_memory_entry). */
typedef struct sg_zip_audio sg_zip_audio;
sg_status sg_zip_audio_open(sg_zip_audio **out, sg_zip_reader *r, const sg_zip_entry *e,
                            sg_audio_info *info, sg_diag *d);
/* The reader to use with sg_audio_reader_read/seek; owned by a (do not close it). */
sg_audio_reader *sg_zip_audio_reader(sg_zip_audio *a);
void sg_zip_audio_close(sg_zip_audio *a);

/* Extracts every entry under dir (created if missing). Each file is written to a temporary name
 * in its final directory and renamed into place; names are re-checked, and a path component
 * that is a symbolic link is refused, so nothing lands outside dir. */
sg_status sg_zip_reader_extract(sg_zip_reader *r, const char *dir, sg_diag *d);

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
/* Adds any other file (MIDI: stored; compress chooses). */
sg_status sg_package_add_file(sg_package *p, const char *src_path, const char *archive_name,
                              sg_pkg_role role, const char *stem, int compress, sg_diag *d);
/* Adds a text entry (deflated) and its manifest row, e.g. NOTES.txt with SG_ROLE_NOTES. */
sg_status sg_package_add_text(sg_package *p, const char *archive_name, const char *text,
                              sg_pkg_role role, sg_diag *d);
/* Renders manifest.json into the zip, writes and renames it into place. Frees p. */
sg_status sg_package_finish(sg_package *p, sg_diag *d);
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
