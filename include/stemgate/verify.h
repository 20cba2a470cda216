/* stemgate verify: independent QC of any delivery package (zip or folder) against a song spec.
 *
 * An engineer who receives stems from someone else runs one command before the session; the
 * same measurements that gate stemgate's own renders (include/stemgate/analysis.h) decide here,
 * so "passes verify" means what "passed the render gates" means. Nothing here links render code.
 *
 * Method:
 *  1. Package: a zip opened with the hostile-safe reader (include/stemgate/package.h; path
 *     traversal, absolute names, bombs and counts are refused before anything is read), or a
 *     folder of files (regular files only, symbolic links refused, counts bounded). WAV entries
 *     are read in place through virtual I/O, never extracted.
 *  2. Files are matched to the spec: first by the spec's deliverable.naming template ("{song}_
 *     {stem}.wav" with song = slug), then by common names (master/mix/main, guitar(s), bass,
 *     synth(s), drums/drum, keys, pad, ... compared case-insensitively with separators ignored).
 *     Every match records which way it was found.
 *  3. Each file is streamed exactly once through one sg_meter (peaks, RMS, clipping, activity map;
 *     true peak and loudness on the master only: true peak is the expensive part) and, for the
 *     master, one sg_features pass (onset envelopes and HPSS chroma). A render's own final
 *     verification lends what it measured as it wrote the files (sg_verify_lender): an entry
 *     whose bytes hash as the loan's is then only hashed, nothing decoded.
 *  4. Checks (each one sg_gate_result row, step "verify"; check names are stable):
 *       package          exactly one package was given and could be read
 *       archive, manifest, entry_present, sha256, wav_header, entry_listed   (step "package")
 *                        a zip holding manifest.json is also proved against it with
 *                        sg_package_verify; without one an advisory "manifest" row says so
 *       present          each required file (master, every spec stem, Drums unless there are
 *                        none); detail says how it was found ("naming" or "common name")
 *       readable         the WAV header and data could be decoded
 *       sample_rate, format, channels      per file, against the spec
 *       duration         master length within the timeline's song length +- duration tolerance
 *       length           each stem's length equals the master's (limits.length_tolerance_ms)
 *       sync_offset, sync_drift   master against the drum reference (--reference or
 *                        drums.reference): sg_align_signals (onset-envelope cross-correlation,
 *                        sample-domain refinement) over start and end windows of a quarter of
 *                        the song (at most 20 s), lags searched up to 0.45 beat (a steady groove
 *                        correlates nearly as well one beat off: whole-beat offsets are outside
 *                        what this row sees); limit limits.sync_ms. Advisory when
 *                        drum_similarity fails (an offset to other content means nothing).
 *       drum_similarity  normalised onset-envelope correlation master/reference >= threshold
 *       tempo            master tempo estimate vs the spec BPM (+-drums.tempo_tolerance_bpm);
 *                        a half- or double-time estimate is folded and said so in the detail.
 *                        "tempo: auto" takes the reference's measured tempo (to 0.01 BPM) for
 *                        this row and the timeline; without a reference that is SG_E_SPEC.
 *       key              per section (stem = section name): key of the master's HPSS chroma
 *                        over the section's interior (Krumhansl-Kessler profile) vs the spec
 *       key_change       per section boundary where the spec changes key: the key track's
 *                        nearest change within limits.key_window_sec of the boundary
 *       section_presence per section: the master is active (>= limits.silence_dbfs)
 *       loudness         master integrated loudness (BS.1770-4) within target +- tolerance
 *       true_peak        master true peak <= ceiling
 *       clipping         per file: runs of >= SG_CLIP_RUN full-scale samples == 0
 *       non_finite       per file: NaN and infinite samples == 0
 *       dc_offset        per file: largest |mean| of a channel over 1-s Hann windows where the
 *                        file plays (windows under -60 dBFS skipped) <= limits.dc_offset
 *       denormals        per file: non-zero subnormal float samples == 0
 *       silence          per file: loudest 50 ms window >= limits.silence_dbfs
 *       active_in_sections      a stem that lists sections: quietest listed section's loudest
 *                               window >= limits.silence_dbfs
 *       silent_outside_sections the same stem's loudest window outside its sections (allowing
 *                               a tail of tail_allowance_s after each) < limits.silence_dbfs
 *
 * Reports: a terminal table, JSON (package module's writer) and JUnit XML for CI.
 *
 * Ownership: sg_verify_result owns its report; free with sg_verify_result_free. Text returned by
 * the sg_verify_to_* functions is malloc'd and freed by the caller. */
#ifndef STEMGATE_VERIFY_H
#define STEMGATE_VERIFY_H

#include "stemgate/analysis.h"
#include "stemgate/core.h"
#include "stemgate/gate.h"
#include "stemgate/package.h"
#include "stemgate/spec.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SG_VERIFY_STEP "verify"
#define SG_VERIFY_MAX_FILES (SG_MAX_STEMS + 2)
/* A folder package may hold at most this many entries (hostile input bound). */
#define SG_VERIFY_MAX_DIR_ENTRIES 1000

/* What a caller measured on a file as it wrote it. The meter and features are pure functions of
 * the file's bytes, so they stand for any entry whose bytes hash to the same SHA-256: verify then
 * hashes the entry (one pass over its bytes, decoding none) and takes them instead of decoding
 * and measuring it, as the node cache reuses a node by the hashes of its inputs. The rows are
 * the same bits as a full analysis gives.
 *  meter     finished, SG_METER_ALL, over the file's samples as decoded (a writer's tap sees
 *            exactly those: sg_audio_writer_config.tap), or frozen (sg_meter_freeze).
 *  features  finished, over the same frames. A master: default configuration (SG_FEAT_ALL; its
 *            tempo and keys are read). A stem: at least SG_FEAT_ONSET (the alignments read the
 *            onset envelope; sg_features_from_onset). For one or two channels, the features
 *            sg_features_add derives from the frames are those of the mean of the channels that
 *            verify's alignment copy holds, bit for bit. May be NULL when nothing is aligned.
 *  token     the lender's own (which copy to give back). */
typedef struct sg_verify_loan {
  const sg_meter *meter;
  const sg_features *features;
  void *token;
} sg_verify_loan;

/* borrow: 1 with *loan filled when user holds an analysis of the bytes hashing to sha256
 * (lowercase hex), 0 otherwise. Called from verify's worker threads, one file each at a time,
 * so it must be thread-safe; the loan is only read, and handed to give_back (optional) when
 * verify is done with that file (memory holds the files in flight, not the package).
 * A loan is taken only for a stored zip entry of one or two channels whose header matches it
 * (rate, channels, frames); otherwise, or without a loan, the entry is decoded and measured in
 * full. A folder package, a deflated entry, or a run without measure_all never borrows. */
typedef struct sg_verify_lender {
  int (*borrow)(void *user, const char *sha256, sg_verify_loan *loan);
  void (*give_back)(void *user, sg_verify_loan *loan);
  void *user;
  /* Optional: 1 with sha256 filled (lowercase hex) when user wrote the file it put in the archive
   * as `entry`, of `bytes` bytes, whose CRC-32 is crc32, and hashed it to sha256 on the same
   * read. The entry is then read once for its CRC-32 (libdeflate's, ~15 GB/s, against SHA-256's
   * ~2 GB/s), which must also be the archive directory's, and takes that SHA-256: a zip's own
   * integrity check ties the delivered bytes to the file the caller hashed and measured. Without
   * it, or when it says 0, the entry is hashed. Only a caller's own files are vouched for; a
   * client's verify never is. */
  int (*vouch)(void *user, const char *entry, uint32_t crc32, uint64_t bytes, char sha256[65]);
} sg_verify_lender;

typedef struct sg_verify_options {
  const char *package;         /* zip file or folder                                          */
  const char *reference;       /* drum reference; NULL: the spec's drums.reference, if any     */
  double duration_tolerance_s; /* master length vs song length, s; default 1.0                 */
  double drum_similarity_min;  /* onset-envelope correlation master/reference; default 0.8:
                                  the tests measure 0.999 for a master holding the reference's
                                  drums and 0.71 for one on the same grid without them       */
  double max_seconds;          /* longest file analysed, s; default 3600 (hostile input bound) */
  int measure_all;             /* 1 (a render's final verification): every audio file metered
                                  in full (loudness, true peak), each entry's pass kept in
                                  res->passes for sg_package_verify_loudness_passed; default 0 */
  int jobs;                    /* files decoded at once; 0: one per core (at most 8)          */
  /* Optional (a render's final verification, with measure_all): the caller's own analysis of
   * files it wrote, lent by content hash (see sg_verify_lender). Default NULL. */
  const sg_verify_lender *lender;
} sg_verify_options;

/* Defaults above; package and reference NULL. */
void sg_verify_options_init(sg_verify_options *o);

/* How a required file was found. */
typedef enum sg_verify_match {
  SG_MATCH_NONE = 0, /* not found                                  */
  SG_MATCH_NAMING,   /* by the spec's deliverable.naming template  */
  SG_MATCH_COMMON    /* by a common name (case/separators ignored) */
} sg_verify_match;

/* "missing", "naming", "common name". */
const char *sg_verify_match_name(sg_verify_match m);

typedef struct sg_verify_file {
  char stem[SG_MAX_NAME]; /* "Master", a spec stem name, or "Drums"                   */
  char entry[256];        /* archive entry or file name inside the folder; "" missing */
  sg_verify_match match;
  int is_master;
  int optional; /* 1: not required by the delivery block's stems list           */
  int readable; /* 1: decoded completely                                    */
  unsigned rate, channels;
  int bits, is_float;
  int64_t frames;
  int lent; /* 1: measured by the caller (opt->lender), proved by the entry's SHA-256 (or the
              CRC-32 of the bytes the caller hashed, lender->vouch) */
} sg_verify_file;

typedef struct sg_verify_result {
  sg_gate_report report; /* every row, in order                                     */
  sg_verify_file files[SG_VERIFY_MAX_FILES];
  int n_files;
  char package[SG_MAX_PATH];
  int package_readable; /* 0: the package itself could not be opened (exit 3)      */
  int file_unreadable;  /* a required file was present but could not be decoded   */
  double seconds;       /* master duration, s (0 when missing)                     */
  /* What the one pass over each analysed zip entry measured: its SHA-256 (hashed as it was
   * decoded; the integrity rows use it) and, with measure_all, its meter result. */
  sg_package_entry_pass passes[SG_VERIFY_MAX_FILES];
  int n_passes;
  int n_lent;    /* files whose analysis was lent (sg_verify_file.lent) */
  int n_vouched; /* entries whose SHA-256 the lender vouched for by their CRC-32 (lender->vouch) */
} sg_verify_result;

void sg_verify_result_init(sg_verify_result *r);
void sg_verify_result_free(sg_verify_result *r);

/* Verifies opt->package against song. Fills res (initialised here) with every row. Returns
 *   SG_OK          every required check holds
 *   SG_E_GATE      a required check failed (d names the first failure)
 *   SG_E_FORMAT, SG_E_LIMIT, SG_E_IO   the package (or a required file in it) cannot be read:
 *                  res still holds a failed "package" or "readable" row saying why
 *   SG_E_INVAL     bad arguments; SG_E_SPEC when the song's timeline cannot be built;
 *   SG_E_NOMEM.
 * The reference (when used) must be readable (SG_E_IO otherwise, with a "reference" row). */
sg_status sg_verify_package(const sg_song *song, const sg_verify_options *opt,
                            sg_verify_result *res, sg_diag *d);

/* Verifies opt->package, a stemgate zip, against its own manifest.json (no spec): the
 * integrity rows (archive, manifest, entry_present, sha256, wav_header, entry_listed: every
 * listed file present with its hash and header, no unlisted entry), then every listed audio file
 * decoded once and judged by the shared checks (format, rate, channels, non_finite, peaks,
 * clipping, dc_offset, denormals, silence, the master's duration against the recorded sections,
 * its loudness and true peak against the recorded targets, each stem's length against the
 * master) with the limits the manifest's recorded rows carry (the table's defaults where it
 * records none), and its loudness, true peak and sample peak against the recorded figures
 * (manifest_loudness, manifest_true_peak, manifest_sample_peak). criteria (optional): a file
 * holding a delivery: block whose lists then judge the files (its stems must be listed).
 * Returns as sg_verify_package; SG_E_INVAL, with a message saying what is needed (a spec, a
 * criteria file or a manifest), when the package carries no manifest.json. */
sg_status sg_verify_manifest(const sg_verify_options *opt, const char *criteria,
                             sg_verify_result *res, sg_diag *d);

/* Renders the result as a table for a terminal (one row per check: verdict, file/stem,
 * check, measured, limit) followed by how each file was found and a summary line. */
sg_status sg_verify_to_table(const sg_verify_result *r, char **text);
/* JSON (schema "stemgate.verify/1"): tool_version, package, package_readable, ok, checks_total,
 * checks_failed, master_seconds, files[], checks[] (each row as manifest.json has it).
 * Pretty-printed. */
sg_status sg_verify_to_json(const sg_verify_result *r, char **text);
/* JUnit XML: one <testsuite name="stemgate verify"> with one <testcase> per check (classname
 * = file/stem, name = check), a <failure message=...> for failed required checks and
 * <skipped/> for advisory failures. Text is XML-escaped; invalid UTF-8 bytes become '?'. */
sg_status sg_verify_to_junit(const sg_verify_result *r, char **text);

/* report.html of a verified package (src/report's page): the matched files read again for
 * their envelopes (the master also for its key track), the package's MIDI files, and the rows of
 * res; marked failed when a required check failed. Written through a temporary name. */
sg_status sg_verify_to_html(const sg_song *song, const sg_verify_result *res, const char *path,
                            sg_diag *d);

/* Writes text to path through a temporary file renamed into place; "-" is standard output. */
sg_status sg_verify_write_text(const char *path, const char *text, sg_diag *d);

#ifdef __cplusplus
}
#endif
#endif
