/* stemgate audio I/O: streaming WAV writer and any-format reader over libsndfile, plus rate
 * conversion over libsamplerate.
 *
 * Memory stays flat however long the file: both sides work in caller-sized blocks of
 * interleaved float. The writer writes to "<path>.partial" and renames on sg_audio_writer_close,
 * so a failed render never leaves a file that looks complete. A tap sees every block as it is
 * written, so gates meter the audio on its way to disk instead of reading it back. */
#ifndef STEMGATE_IO_H
#define STEMGATE_IO_H

#include "stemgate/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sg_sample_format {
  SG_FMT_FLOAT32 = 0, /* IEEE 754 float, WAVE_FORMAT_IEEE_FLOAT */
  SG_FMT_PCM24 = 1,   /* 24-bit integer                         */
  SG_FMT_PCM16 = 2,   /* 16-bit integer, TPDF dither applied    */
  SG_FMT_OTHER = 3    /* any other on read (8/32-bit int, double, compressed) */
} sg_sample_format;

/* "float32", "pcm24", "pcm16", "other". */
const char *sg_sample_format_name(sg_sample_format f);
/* Parses the names above; SG_E_PARSE when unknown. */
sg_status sg_sample_format_parse(const char *s, sg_sample_format *out);

typedef struct sg_audio_info {
  int64_t frames;
  unsigned rate;
  unsigned channels;
  sg_sample_format format;
  int bits; /* bits per sample as stored (16, 24, 32, 64; 0 for compressed) */
  int is_float;
  char container[16]; /* "wav", "aiff", "flac", "ogg", "rf64", ... */
  int lossy;          /* 1: a perceptual codec (MPEG layer I-III, Vorbis, Opus) or a lossy
                         ADPCM/GSM/G.72x encoding, as libsndfile's format subtype says */
} sg_audio_info;

/* Called with each block the writer accepts, after clamping/dither are decided but with the
 * samples as the file holds them: the caller's floats for float32, the quantised (and, for
 * pcm16, dithered) values scaled back to [-1, 1) for PCM, so a gate that meters through the tap
 * sees exactly what a later read of the file decodes. */
typedef sg_status (*sg_audio_tap_fn)(void *user, const float *interleaved, size_t frames);

typedef struct sg_bext {
  char description[256];
  char originator[32];
  char originator_ref[32];
  char date[11];           /* yyyy-mm-dd; empty: a fixed date keeps renders reproducible */
  char time[9];            /* hh:mm:ss */
  uint64_t time_reference; /* first sample's position since midnight, in frames */
  /* BWF version 2 loudness (EBU Tech 3285 v2, EBU R 128 values; stored as value x 100 in
   * 16 bits). has_loudness 0 writes 0x7FFF, "not measured". */
  int has_loudness;
  double loudness_lufs, loudness_range_lu, true_peak_dbtp, momentary_max_lufs, short_term_max_lufs;
  char coding_history[256]; /* EBU R 98 lines, e.g. "A=PCM,F=48000,W=24,M=stereo,T=...\r\n" */
} sg_bext;

typedef struct sg_audio_writer sg_audio_writer;

/* The finished file's SHA-256 and zip CRC-32 taken from the bytes as the writer writes them, so
 * the caller need not read a just-written file back to hash it. Only when the whole file is
 * known at open: the caller promises the exact frame count, and no bext_final rewrites the
 * header at close (the loudness fields come before the samples). A fold_identical file that
 * unfolds is hashed again as it is rewritten. ok says whether it held. */
typedef struct sg_audio_digest {
  int64_t frames;  /* [in] frames the caller will write, exactly */
  int ok;          /* [out] 1 after a successful close when the fields below describe the file */
  char sha256[65]; /* [out] lowercase hex */
  uint32_t crc32;  /* [out] zlib's crc32 of every byte of the file */
  /* [out] the file's fstat(2) once complete, before its rename: a later stat saying otherwise
   * means the file was written since (the digest is of what the writer wrote) */
  long long size, mtime_s, mtime_ns, ino, dev;
} sg_audio_digest;

typedef struct sg_audio_writer_config {
  unsigned rate;
  unsigned channels;
  sg_sample_format format; /* FLOAT32, PCM24 or PCM16 */
  uint64_t dither_seed;    /* PCM16: TPDF dither stream seed (deterministic) */
  const sg_bext *bext;     /* optional BWF metadata; NULL for none */
  sg_audio_tap_fn tap;     /* optional */
  void *tap_user;
  /* optional: called at close with tap_user and the writer's copy of bext, to fill what is known
   * only when every sample is written (the loudness fields); the bext chunk is then rewritten. */
  void (*bext_final)(void *tap_user, sg_bext *bext);
  /* optional, float32 with 2 channels only: while both channels are bit for bit equal (a mono
   * instrument before its pan) the file holds one channel, half the bytes; the first frame where
   * they differ turns it into a 2-channel file (what was written is copied over, duplicated).
   * The tap always sees 2 channels; readers of the file get the one channel back on both. */
  int fold_identical;
  sg_audio_digest *digest; /* optional: the file's digest as it is written, filled at close */
} sg_audio_writer_config;

void sg_audio_writer_config_init(sg_audio_writer_config *c); /* 48 kHz, stereo, float32 */

sg_status sg_audio_writer_open(sg_audio_writer **out, const char *path,
                               const sg_audio_writer_config *cfg, sg_diag *d);
/* Writes frames of interleaved float. Values outside [-1, 1] are clipped for PCM formats
 * (and counted); float files keep them. */
sg_status sg_audio_writer_write(sg_audio_writer *w, const float *interleaved, size_t frames,
                                sg_diag *d);
int64_t sg_audio_writer_frames(const sg_audio_writer *w);
/* Finishes the file and renames it into place. Frees w in every case. */
sg_status sg_audio_writer_close(sg_audio_writer *w, sg_diag *d);
/* Discards the partial file. Frees w. Safe with NULL. */
void sg_audio_writer_abort(sg_audio_writer *w);

typedef struct sg_audio_reader sg_audio_reader;

/* Virtual file for reading from memory or an archive (libsndfile virtual I/O). */
typedef struct sg_vio {
  int64_t (*get_length)(void *user);
  int64_t (*seek)(int64_t offset, int whence, void *user);
  int64_t (*read)(void *ptr, int64_t count, void *user);
  int64_t (*tell)(void *user);
  void *user;
} sg_vio;

sg_status sg_audio_reader_open(sg_audio_reader **out, const char *path, sg_audio_info *info,
                               sg_diag *d);
sg_status sg_audio_reader_open_vio(sg_audio_reader **out, const sg_vio *vio, const char *name,
                                   sg_audio_info *info, sg_diag *d);
/* Reads up to frames frames into interleaved float; *got is 0 at the end. */
sg_status sg_audio_reader_read(sg_audio_reader *r, float *interleaved, size_t frames, size_t *got,
                               sg_diag *d);
sg_status sg_audio_reader_seek(sg_audio_reader *r, int64_t frame, sg_diag *d);
void sg_audio_reader_close(sg_audio_reader *r);

/* SG_E_FORMAT naming the file, the frame (first_frame + index in x) and the channel of the
 * first NaN or infinite sample of a block of frames x channels interleaved floats; SG_OK when
 * every sample is finite. The one rule render's reference step and verify both apply. */
sg_status sg_audio_check_finite(const float *x, size_t frames, unsigned channels,
                                int64_t first_frame, const char *name, sg_diag *d);

/* Whether a file can serve as a client's reference track: SG_E_FORMAT naming it when its rate
 * is below SG_REFERENCE_MIN_RATE (too little bandwidth for onsets and sync), it is lossy
 * (codec pre-echo smears the transients the alignment uses), or it is shorter than
 * min_seconds (a bar of the song: no downbeat can be found in less). */
#define SG_REFERENCE_MIN_RATE 22050u
sg_status sg_audio_check_reference(const sg_audio_info *info, double min_seconds, const char *name,
                                   sg_diag *d);

/* Reads a whole file into a newly allocated interleaved float buffer (analysis of bounded
 * material, tests). Refuses files longer than max_frames (SG_E_LIMIT). Free with free(). */
sg_status sg_audio_read_all(const char *path, int64_t max_frames, float **out, sg_audio_info *info,
                            sg_diag *d);
/* Writes a whole buffer (tests, small files). */
sg_status sg_audio_write_all(const char *path, const float *interleaved, int64_t frames,
                             const sg_audio_writer_config *cfg, sg_diag *d);

/* Copies frames [from, to) of a file to a float32 WAV (auditions: no second quantisation). */
sg_status sg_audio_copy_range(const char *in, const char *out, int64_t from, int64_t to,
                              sg_diag *d);
/* Encodes a file as codec "flac" (24-bit, or 16 when the input is) or "mp3" (libsndfile >= 1.1
 * with LAME) for a preview; SG_E_UNSUPPORTED with the library's version when it cannot. */
sg_status sg_audio_encode(const char *in, const char *out, const char *codec, sg_diag *d);

/* ---- rate conversion ---------------------------------------------------------------------- */

/* Streaming sample-rate converter over libsamplerate's SRC_SINC_BEST_QUALITY (J. O. Smith,
 * "Digital Audio Resampling", bandlimited interpolation; 97 dB SNR, 97% bandwidth). */
typedef struct sg_resampler sg_resampler;

sg_status sg_resampler_create(sg_resampler **out, unsigned channels, unsigned from_rate,
                              unsigned to_rate, sg_diag *d);
/* Converts up to in_frames input frames into at most out_cap output frames; reports how many
 * input frames were consumed and output frames produced. last = 1 flushes the filter tail. */
sg_status sg_resampler_process(sg_resampler *r, const float *in, size_t in_frames, float *out,
                               size_t out_cap, int last, size_t *used, size_t *produced,
                               sg_diag *d);
void sg_resampler_destroy(sg_resampler *r);
/* Streams a whole file through the converter and channel mapping into a new file (float32):
 * the reference-conforming step. channels: 1 = downmix (mean), 2 = mono duplicated or stereo
 * kept; more input channels are downmixed to the first two by mean. */
sg_status sg_audio_convert_file(const char *in_path, const char *out_path, unsigned rate,
                                unsigned channels, sg_diag *d);

/* Creates every missing directory of path (like mkdir -p). */
sg_status sg_mkdirs(const char *path, sg_diag *d);

#ifdef __cplusplus
}
#endif
#endif
