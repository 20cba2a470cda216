/* Internal to the verify module: package access (zip or folder) and file matching. */
#ifndef SG_VERIFY_INTERNAL_H
#define SG_VERIFY_INTERNAL_H

#include "stemgate/analysis.h"
#include "stemgate/io.h"
#include "stemgate/package.h"
#include "stemgate/spec.h"
#include "stemgate/verify.h"

/* A package seen as a flat list of entry names, whatever holds it. */
typedef struct sg__vpkg {
  int is_zip;
  sg_zip_reader *zip;
  char dir[SG_MAX_PATH];  /* folder package: its path */
  char path[SG_MAX_PATH]; /* what was opened (the zip inside a folder when that was used) */
  char **names;           /* entry names ('/'-separated, relative) */
  size_t n, cap;
  char note[256];    /* how the package was resolved, for the "package" row */
  size_t n_packages; /* set when a folder holds several zips and no audio (ambiguous) */
} sg__vpkg;

/* Opens a zip or a folder. A folder holding no WAV and exactly one .zip opens that zip; one
 * holding several zips and no WAV is ambiguous (SG_E_INVAL with a message). Folders are read
 * one level deep, regular files only (symbolic links are refused), at most
 * SG_VERIFY_MAX_DIR_ENTRIES entries (SG_E_LIMIT). Zip errors are the zip reader's. */
sg_status sg__vpkg_open(sg__vpkg *p, const char *path, sg_diag *d);
void sg__vpkg_close(sg__vpkg *p);

/* One opened audio entry. */
typedef struct sg__vaudio {
  sg_zip_audio *za;
  sg_audio_reader *ar; /* folder file; for zip entries the reader owned by za */
} sg__vaudio;

sg_status sg__vpkg_open_audio(sg__vpkg *p, size_t i, sg__vaudio *a, sg_audio_info *info,
                              sg_diag *d);
/* The same through zr (a reader of the same zip this thread owns; NULL: p's), hashing the
 * entry's bytes as they are decoded when hash is set (zip entries only). */
sg_status sg__vpkg_open_audio_in(sg__vpkg *p, sg_zip_reader *zr, size_t i, int hash, sg__vaudio *a,
                                 sg_audio_info *info, sg_diag *d);
/* The SHA-256 of an entry opened with hash (sg_zip_audio_sha256), after its audio was read. */
sg_status sg__vaudio_sha256(sg__vaudio *a, char hex[65], sg_diag *d);
sg_audio_reader *sg__vaudio_reader(sg__vaudio *a);
void sg__vaudio_close(sg__vaudio *a);

/* Case-insensitive match of name against an expanded template; also matches when the name has
 * extra leading folders ("pkg/deja-vu_Bass.wav" matches "deja-vu_Bass.wav"). */
int sg__name_match(const char *pattern, const char *name);
/* 1 when the entry name is a common name of stem (see verify.h), given the song slug. */
int sg__common_match(const char *stem, int is_master, const char *slug, const char *name);
/* 1 for names ending in .wav/.wave/.bwf/.rf64 (any case). */
int sg__is_audio_name(const char *name);

/* A file's mono copy for the alignments (the mean of its channels), held on disk in an unlinked
 * temporary file with only its onset features in memory, so verify's memory does not grow
 * with the song's length (a 60-minute stem is 690 MB of mono at 48 kHz). sg__mono_input gives
 * it to sg_align_inputs; sg__mono_read reads any range back. The mono is the mean of the
 * channels' finite samples (computed in double): for one or two channels it is bit for bit the
 * signal sg_features_add derives from the same frames (float sum, halved), so features taken on
 * it equal the file's own. */
typedef struct sg__mono {
  int fd;
  int64_t frames;
  float *wbuf; /* pending writes */
  size_t wn;
  sg_features *onset;
  const sg_features *lent; /* onset features of the same samples from elsewhere (a loan) */
  /* Or no copy at all (sg__mono_open_entry): the samples read from a zip's stored entry on
   * demand through a reader of its own, and averaged as sg__mix_mono does. */
  sg_zip_reader *src_zr;
  sg__vaudio src;
  unsigned src_ch;
  float *rbuf; /* a block of the entry's interleaved frames */
} sg__mono;

/* feat_flags: features computed besides the onsets (SG_FEAT_*), from the same mono signal: the
 * master's tempo and keys come from its alignment copy, so its STFTs run once. copy = 0: the
 * samples are not kept (only counted and analysed); the caller then attaches the stored zip
 * entry they came from (sg__mono_attach_entry) after sg__mono_finish, which the windows are read
 * from instead of a copy (no temporary file written: a stem's 28 MB an hour of mono). */
sg_status sg__mono_open(sg__mono *m, unsigned rate, unsigned feat_flags, int copy, sg_diag *d);
sg_status sg__mono_add(sg__mono *m, const float *x, size_t n, sg_diag *d);
/* Flushes the pending samples and finishes the onset features; call once after the last add. */
sg_status sg__mono_finish(sg__mono *m, sg_diag *d);
/* sg_mono_read_fn over a finished sg__mono: frames [start, start + len), zero outside. */
sg_status sg__mono_read(void *m, int64_t start, size_t len, float *out, sg_diag *d);
sg_align_input sg__mono_input(sg__mono *m);
/* A mono without a copy: entry i of the zip at zip_path (stored, ch channels, frames frames, as
 * its header said when it was hashed) read back by window when sg__mono_read asks, through a
 * reader of its own (so any thread may use it), with lent onset features of the same samples.
 * A lent entry is proved by its hash, so the alignments read exactly what a copy would hold. */
sg_status sg__mono_open_entry(sg__mono *m, const char *zip_path, size_t i, unsigned ch,
                              int64_t frames, const sg_features *lent, sg_diag *d);
/* Makes a finished mono opened without a copy read entry i of the zip at zip_path (stored, ch
 * channels, as many frames as were added) by window, as sg__mono_open_entry does. */
sg_status sg__mono_attach_entry(sg__mono *m, const char *zip_path, size_t i, unsigned ch,
                                sg_diag *d);
/* The mono of n interleaved frames of C channels: each the mean of its channels' finite samples
 * summed in double (non-finite as 0), rounded to float once. */
void sg__mix_mono(const float *restrict x, size_t n, unsigned C, float *restrict y);
void sg__mono_close(sg__mono *m);

/* The first frame of A's loudest 2 s that sg__waveform_offset can correlate at coarse_s (away
 * from both files' ends by |coarse| + 8 ms), chosen on act, A's activity map (its meter), so no
 * sample is read; na, nb: the files' lengths. A window valid at coarse_s is valid at any lag
 * nearer 0, so the no-lag hypothesis shares it. The middle of the files without a map; -1 when
 * they are too short (or out of memory). */
int64_t sg__sync_window(const sg_meter *act, int64_t na, int64_t nb, unsigned rate,
                        double coarse_s);
/* Sample-domain offset of B against A (B later when > 0, in s) around coarse_s (+-8 ms, 1.5
 * envelope frames): normalised cross-correlation of first differences over the 2 s of A from
 * frame start (sg__sync_window; only that window and its margins are read), the highest local
 * maximum of the lags searched, with a parabolic fraction. A stem is added sample for sample into
 * the master, so the correlation peaks exactly at its lag, the other stems being uncorrelated with
 * it. The first difference is a cheap pre-whitening (the idea of Knapp & Carter's 1976 generalised
 * cross-correlation): it weighs attacks and upper partials, so a held bass note's period (10.2 ms
 * at 98 Hz) does not rival the true lag. *at_s receives the window's centre, *peak the correlation
 * there. Returns coarse_s when nothing correlates (peak <= 0.05) or the window is not within the
 * files by |coarse| + 8 ms. */
double sg__waveform_offset(sg__mono *A, sg__mono *B, unsigned rate, double coarse_s, int64_t start,
                           double *at_s, double *peak);

#endif
