/* stemgate manifest: the model of manifest.json, the proof a package carries. It lists every
 * other entry with its role, audio format, frame count, SHA-256 (FIPS 180-4), loudness (ITU-R
 * BS.1770 / EBU R 128, as measured by the pipeline) and every gate row of the run; rendered
 * deterministically to JSON (RFC 8259) and parsed back for verification. */
#ifndef STEMGATE_MANIFEST_H
#define STEMGATE_MANIFEST_H

#include "stemgate/core.h"
#include "stemgate/gate.h"
#include "stemgate/io.h"
#include "stemgate/zip.h" /* SG_PKG_NAME */

#ifdef __cplusplus
extern "C" {
#endif

/* ==== manifest =============================================================================== */

typedef enum sg_pkg_role {
  SG_ROLE_MASTER = 0,
  SG_ROLE_STEM,
  SG_ROLE_MIDI,
  SG_ROLE_NOTES,
  SG_ROLE_OTHER
} sg_pkg_role;

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
  int start_bar, end_bar;         /* 1-based first and last bar (inclusive, as in NOTES.txt) */
  int64_t start_frame, end_frame; /* exact frames at the song rate */
  double start_sec, end_sec;
  char energy[SG_PKG_SHORT]; /* "sparse", "normal", "full"; "" when not given */
  /* The master in this section: integrated loudness (LUFS), RMS (dBFS) and the limiter's mean
   * gain reduction (dB); 0 when not measured (a package read without them). */
  double lufs, rms_dbfs, limiter_gr_db;
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
  double tempo_bpm;     /* the first tempo */
  char tempo_map[1024]; /* the spec's tempo map (sg_timeline_tempo_text); "" when steady */
  int meter_num, meter_den;
  char key[SG_PKG_SHORT];
  char ending[16]; /* "ring", "fade", "cut"; "" in manifests before endings */
  double song_sec; /* end of the last bar; the files may ring on past it */
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
/* A manifest larger than this is refused (hostile input bound). */
#define SG_MANIFEST_MAX_BYTES ((size_t)16 << 20)

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

#ifdef __cplusplus
}
#endif
#endif
