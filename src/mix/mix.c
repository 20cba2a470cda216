/* Dry renders, per-stem effect chains and the master bus (see include/stemgate/mix.h). */
#include "core/writeback.h"
#include "mix_internal.h"

#include "stemgate/fx.h"
#include "stemgate/synth.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How far past the song end tails are rendered to measure what the end fade cuts. */
#define SG_TAIL_MEASURE_MAX_S 4.0

typedef struct planar {
  float L[SG_MIX_BLOCK], R[SG_MIX_BLOCK];
} planar;

sg_status sg_mix_render_dry(sg_synth *synth, const sg_note_list *notes, int64_t frames,
                            const char *path, const sg_audio_writer_config *wcfg, sg_meter *meter,
                            double *cut_db, sg_diag *d) {
  if (!synth || !notes || !path || !wcfg || frames <= 0)
    return sg_diag_fail(d, SG_E_INVAL, "mix: bad arguments to render_dry");
  planar *b = malloc(sizeof *b);
  sg__out *o = malloc(sizeof *o);
  if (!b || !o) {
    free(b);
    free(o);
    return sg_diag_fail(d, SG_E_NOMEM, "mix: out of memory");
  }
  sg_synth_reset(synth);
  sg_status st = sg__out_open(o, path, wcfg, frames, meter, d);
  for (int64_t pos = 0; st == SG_OK && pos < frames; pos += SG_MIX_BLOCK) {
    size_t n = (size_t)(frames - pos < SG_MIX_BLOCK ? frames - pos : SG_MIX_BLOCK);
    st = sg_synth_render(synth, notes, pos, b->L, b->R, n);
    if (st == SG_OK)
      st = sg__out_write(o, b->L, b->R, n, d);
  }
  if (st != SG_OK) {
    sg__out_abort(o);
    free(b);
    free(o);
    return st;
  }
  st = sg__out_close(o, d);
  /* What would have rung on: measured, reported, cut by the end fade. */
  float peak = 0.0f;
  int64_t tail = sg_synth_tail_frames(synth);
  int64_t cap = (int64_t)(SG_TAIL_MEASURE_MAX_S * wcfg->rate);
  tail = tail < cap ? tail : cap;
  for (int64_t pos = frames; st == SG_OK && pos < frames + tail; pos += SG_MIX_BLOCK) {
    size_t n = SG_MIX_BLOCK;
    if (sg_synth_render(synth, notes, pos, b->L, b->R, n) != SG_OK)
      break;
    float p = sg__peak(b->L, b->R, n);
    peak = p > peak ? p : peak;
  }
  if (cut_db)
    *cut_db = peak > 0 ? sg_lin_to_db(peak) : -200.0;
  free(b);
  free(o);
  return st;
}

static void apply_gain_pan(float *L, float *R, size_t n, double gain_db, double pan,
                           unsigned channels) {
  double gl = 1.0, gr = 1.0;
  if (channels == 2)
    sg_pan_gains(pan, &gl, &gr);
  /* Constant power, -3 dB centre: a centred stem sits 3 dB down, which the master's loudness
   * normalisation takes back; stems still sum to the bus exactly. */
  float a = (float)(sg_db_to_lin(gain_db) * gl), c = (float)(sg_db_to_lin(gain_db) * gr);
  for (size_t i = 0; i < n; ++i) {
    L[i] *= a;
    R[i] *= c;
  }
}

/* The chain over one block; a chain following a tempo map gets the local tempo every
 * SG_MIX_TEMPO_SLICE frames (pos: song frame of x[0]). */
static void chain_block(sg_fx_chain *c, float *L, float *R, const float *sL, const float *sR,
                        size_t n, int64_t pos, double (*tempo_at)(const void *, int64_t),
                        const void *user) {
  if (!tempo_at) {
    sg_fx_chain_process(c, L, R, sL, sR, n);
    return;
  }
  for (size_t k = 0; k < n; k += SG_MIX_TEMPO_SLICE) {
    size_t m = n - k < SG_MIX_TEMPO_SLICE ? n - k : SG_MIX_TEMPO_SLICE;
    sg_fx_chain_set_bpm(c, tempo_at(user, pos + (int64_t)k));
    sg_fx_chain_process(c, L + k, R + k, sL ? sL + k : NULL, sR ? sR + k : NULL, m);
  }
}

sg_status sg_mix_stem_fx(const sg_stem_fx_job *job, sg_meter *meter, sg_stem_fx_report *rep,
                         sg_diag *d) {
  if (!job || !job->dry_path || !job->out_path || job->frames <= 0)
    return sg_diag_fail(d, SG_E_INVAL, "mix: bad arguments to stem_fx");
  sg_stem_fx_report local;
  rep = rep ? rep : &local;
  memset(rep, 0, sizeof *rep);
  rep->tail_cut_db = -200.0;
  sg_fx_chain *chain = NULL;
  sg__in *in = calloc(1, sizeof *in), *side = job->side_path ? calloc(1, sizeof *side) : NULL;
  sg__out *o = calloc(1, sizeof *o);
  planar *b = malloc(sizeof *b), *sb = job->side_path ? malloc(sizeof *sb) : NULL;
  sg_status st = SG_OK;
  if (!in || !o || !b || (job->side_path && (!side || !sb))) {
    st = sg_diag_fail(d, SG_E_NOMEM, "mix: out of memory");
    goto done;
  }
  if ((st = sg_fx_chain_create(job->fx, job->n_fx, job->wcfg.rate, job->bpm, job->spec_file, &chain,
                               d)) != SG_OK)
    goto done;
  if (job->tempo_at && (st = sg_fx_chain_follow_tempo(chain, job->tempo_min_bpm, d)) != SG_OK)
    goto done;
  if (job->fx_tap &&
      (st = sg_fx_chain_set_tap(chain, job->fx_tap, job->fx_tap_user, SG_MIX_BLOCK, d)) != SG_OK)
    goto done;
  sg_fx_chain_describe(chain, rep->chain, sizeof rep->chain);
  rep->latency_frames = sg_fx_chain_latency_frames(chain);
  rep->tail_frames = sg_fx_chain_tail_frames(chain);
  if (!job->dry_read && (st = sg__in_open(in, job->dry_path, d)) != SG_OK)
    goto done;
  if (side && (st = sg__in_open(side, job->side_path, d)) != SG_OK)
    goto done;
  if ((st = sg__out_open(o, job->out_path, &job->wcfg, job->frames, meter, d)) != SG_OK)
    goto done;
  sg__out_set_fade(o, job->fade_frames);
  const int64_t lat = (int64_t)rep->latency_frames;
  int64_t tail = (int64_t)rep->tail_frames;
  int64_t cap = (int64_t)(SG_TAIL_MEASURE_MAX_S * job->wcfg.rate);
  tail = tail < cap ? tail : cap;
  float tail_peak = 0.0f;
  /* Input frame k leaves the chain at k + lat: feed lat extra frames and drop the first lat. */
  for (int64_t pos = 0; pos < job->frames + lat + tail; pos += SG_MIX_BLOCK) {
    size_t n = SG_MIX_BLOCK;
    if ((st = job->dry_read ? job->dry_read(job->dry_user, b->L, b->R, n, d)
                            : sg__in_read(in, b->L, b->R, n, d)) != SG_OK)
      goto done;
    if (side && (st = sg__in_read(side, sb->L, sb->R, n, d)) != SG_OK)
      goto done;
    chain_block(chain, b->L, b->R, sb ? sb->L : NULL, sb ? sb->R : NULL, n, pos, job->tempo_at,
                job->tempo_user);
    apply_gain_pan(b->L, b->R, n, job->gain_db, job->pan, job->wcfg.channels);
    int64_t out0 = pos - lat; /* song frame of b[0] */
    size_t skip = out0 < 0 ? (size_t)(-out0 < (int64_t)n ? -out0 : (int64_t)n) : 0;
    if (skip < n && out0 + (int64_t)skip < job->frames &&
        (st = sg__out_write(o, b->L + skip, b->R + skip, n - skip, d)) != SG_OK)
      goto done;
    /* Past the song end: measure what the fade cuts. */
    int64_t first_after = job->frames - out0; /* index of the first frame past the end */
    if (first_after < (int64_t)n) {
      size_t k = first_after > 0 ? (size_t)first_after : 0;
      float p = sg__peak(b->L + k, b->R + k, n - k);
      tail_peak = p > tail_peak ? p : tail_peak;
    }
  }
  if ((st = sg__out_close(o, d)) != SG_OK)
    goto done;
  rep->tail_cut_db = tail_peak > 0 ? sg_lin_to_db(tail_peak) : -200.0;
  for (int i = 0; i < sg_fx_chain_count(chain); ++i) {
    double gr = 0;
    if (sg_fx_chain_gain_reduction(chain, i, &gr, NULL) == SG_OK && gr > rep->gain_reduction_max_db)
      rep->gain_reduction_max_db = gr;
  }
done:
  if (st != SG_OK && o)
    sg__out_abort(o);
  if (in)
    sg__in_close(in);
  if (side)
    sg__in_close(side);
  sg_fx_chain_destroy(chain);
  free(in);
  free(side);
  free(o);
  free(b);
  free(sb);
  return st;
}

/* ---- master ---------------------------------------------------------------------------------- */

/* The master renders the bus once and limits it as often as the loudness needs:
 *  - the bus pass: every stem summed with headroom through the bus chain (the fx tap sees it),
 *    streamed to a temporary float file beside the output while its loudness is metered;
 *  - limited passes: that file through the limiter, the DC blocker and the true-peak guard,
 *    metered (loudness and true peak) and streamed to a second temporary file, until the
 *    acceptance rule holds;
 *  - the written master: the accepted pass's own frames from its file through the writer (end
 *    fade, the caller's meter and taps), so what is delivered is exactly what was accepted.
 * Each pass's metering and file writing run on a second thread (side.c). Memory stays flat (a
 * few blocks); the temporary files are unlinked as soon as they are open, so they vanish with
 * the process whatever happens. */

typedef struct master_ctx {
  const sg_master_job *job;
  sg__in *in; /* one per stem */
  sg_fx_chain *bus;
  sg_limiter lim;
  int lim_ready;
  sg_tp_guard guard; /* after the limiter and the DC blocker: the meters' true-peak reading */
  int guard_ready;
  double ceiling; /* the limiter's ceiling: the job's, lowered if a meter disagrees */
  double dc_r;    /* DC blocker pole */
  double dc_x[2], dc_y[2];
  planar acc;
  float il[2 * SG_MIX_BLOCK];
  int64_t lat_bus, lat_lim, lat_guard; /* latencies of the bus chain, limiter and guard */
  int64_t blocks;                      /* SG_MIX_BLOCK blocks the bus pass renders */
  FILE *busf, *limf; /* the pre-limiter bus (planar blocks), the last limited pass */
  char bus_path[1100], lim_path[1100];
  sg_sha256 sha; /* of the kept bus file (job->bus_path), as it is written */
  int sha_open;
  uint32_t peak_hist[SG__PEAK_BINS]; /* the bus's frame peaks (sg__side_set_hist) */
  sg__pred pred;                     /* the limiter's loudness cost (sg__side_set_pred) */
  /* Limiter gain reduction by section (each limited pass): sum of dB over frames, count. */
  int track_gr;
  double gr_sum[SG_MAX_SECTIONS + 1], gr_max;
  int64_t gr_n[SG_MAX_SECTIONS + 1];
} master_ctx;

/* Section of song frame f (job->n_sections for the song-level total of frames after the last
 * bound, -1 before the first) and the next boundary after f. */
static int gr_bin(const sg_master_job *job, int64_t f, int64_t *next) {
  const int64_t *b = job->section_bounds;
  if (f < b[0]) {
    *next = b[0];
    return -1;
  }
  for (int i = 0; i < job->n_sections; ++i)
    if (f < b[i + 1]) {
      *next = b[i + 1];
      return i;
    }
  *next = INT64_MAX;
  return job->n_sections;
}

/* The limiter over one block, its gain reduction accounted to the sections the block's output
 * frames belong to (chain position p leaves at song frame p - lat). The limiter works frame by
 * frame, so splitting a block changes nothing in its output. */
static void limit_tracked(master_ctx *c, int64_t pos, int64_t lat, size_t n, float *R) {
  size_t k0 = 0;
  while (k0 < n) {
    int64_t next;
    int bin = gr_bin(c->job, pos + (int64_t)k0 - lat, &next);
    int64_t until = next == INT64_MAX ? (int64_t)n : next + lat - pos;
    size_t k1 = until < (int64_t)n ? (size_t)until : n;
    if (k1 <= k0)
      k1 = k0 + 1;
    sg_limiter_stats_reset(&c->lim);
    sg_limiter_process(&c->lim, c->acc.L + k0, R ? R + k0 : NULL, k1 - k0);
    double mx = sg_limiter_max_gain_reduction_db(&c->lim);
    c->gr_max = mx > c->gr_max ? mx : c->gr_max;
    if (bin >= 0 && bin < c->job->n_sections) {
      c->gr_sum[bin] += sg_limiter_mean_gain_reduction_db(&c->lim) * (double)(k1 - k0);
      c->gr_n[bin] += (int64_t)(k1 - k0);
    }
    k0 = k1;
  }
}

/* DC blocker, y[n] = x[n] - x[n-1] + R y[n-1] (J. O. Smith, "Introduction to Digital Filters",
 * DC Blocker), corner ~5 Hz. Any level-dependent gain (bus compressor, limiter) riding on
 * asymmetric waveforms such as kick drums leaves a DC offset; this takes it out last. */
static void dc_block(master_ctx *c, float *x, size_t n, int ch) {
  double x1 = c->dc_x[ch], y1 = c->dc_y[ch];
  for (size_t i = 0; i < n; ++i) {
    double y = x[i] - x1 + c->dc_r * y1;
    x1 = x[i];
    y1 = y;
    x[i] = (float)y;
  }
  c->dc_x[ch] = x1;
  c->dc_y[ch] = y1;
}

/* dc_block on both channels in one loop: two independent recursions in flight at once (each a
 * chain of dependent multiply-adds), the same operations on each. */
static void dc_block2(master_ctx *c, float *restrict L, float *restrict R, size_t n) {
  double xl = c->dc_x[0], yl = c->dc_y[0], xr = c->dc_x[1], yr = c->dc_y[1];
  for (size_t i = 0; i < n; ++i) {
    const double a = L[i] - xl + c->dc_r * yl, b = R[i] - xr + c->dc_r * yr;
    xl = L[i], xr = R[i];
    yl = a, yr = b;
    L[i] = (float)a, R[i] = (float)b;
  }
  c->dc_x[0] = xl, c->dc_y[0] = yl, c->dc_x[1] = xr, c->dc_y[1] = yr;
}

/* The song frames of block pos once the processing delay lat is dropped: skip frames at the
 * block's start, then m frames (m = 0: none). */
static void song_range(int64_t pos, int64_t lat, int64_t frames, size_t n, size_t *skip,
                       size_t *m) {
  int64_t out0 = pos - lat;
  *skip = out0 < 0 ? (size_t)(-out0 < (int64_t)n ? -out0 : (int64_t)n) : 0;
  *m = 0;
  if (*skip >= n || out0 + (int64_t)*skip >= frames)
    return;
  *m = n - *skip;
  if ((int64_t)*m > frames - (out0 + (int64_t)*skip))
    *m = (size_t)(frames - (out0 + (int64_t)*skip));
}

/* A temporary file beside the master ("<out>.<pid>.<tag>.partial"), unlinked at once where the
 * system allows it (the open stream keeps it alive); else removed at the end. */
static sg_status temp_open(const char *out, const char *tag, FILE **f, char *path, size_t cap,
                           sg_diag *d) {
  if ((size_t)snprintf(path, cap, "%s.%ld.%s.partial", out, (long)getpid(), tag) >= cap)
    return sg_diag_fail(d, SG_E_RANGE, "master: path too long: '%s'", out);
  if (!(*f = fopen(path, "w+b"))) {
    sg_status st =
        sg_diag_fail(d, SG_E_IO, "master: cannot create '%s': %s", path, strerror(errno));
    path[0] = '\0';
    return st;
  }
  if (remove(path) == 0)
    path[0] = '\0';
  return SG_OK;
}

static void temp_close(FILE **f, char *path) {
  if (*f)
    fclose(*f);
  *f = NULL;
  if (path[0])
    remove(path);
  path[0] = '\0';
}

static sg_status temp_rewind(FILE *f, const char *what, sg_diag *d) {
  if (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0)
    return sg_diag_fail(d, SG_E_IO, "master: cannot rewind the temporary %s file: %s", what,
                        strerror(errno));
  return SG_OK;
}

/* The kept bus file (job->bus_path): the bus pass's planar blocks as the limited passes read them,
 * then this trailer, so a reader learns what the bus pass measured without rendering it. Written
 * field by field (no padding in the bytes); the file is this machine's cache, native byte order. */
static const char BUS_MAGIC[8] = {'S', 'G', 'B', 'U', 'S', '2', 0, 0};
typedef struct bus_trailer {
  uint32_t channels, rate;
  int64_t frames, blocks, lat_bus;
  double lufs;
} bus_trailer;
#define BUS_TRAILER_BYTES (8 + 2 * 4 + 3 * 8 + 8 + SG__PEAK_BINS * 4 + SG__PRED_N * 8 + 8 + 4)

static sg_status bus_put(master_ctx *c, const void *p, size_t n) {
  if (fwrite(p, 1, n, c->busf) != n)
    return SG_E_IO;
  return sg_sha256_update(&c->sha, p, n);
}

/* After the bus pass: the trailer appended and the hash finished (hex). */
static sg_status bus_trailer_write(master_ctx *c, double lufs, char hex[65], sg_diag *d) {
  const bus_trailer t = {
      c->job->wcfg.channels, c->job->wcfg.rate, c->job->frames, c->blocks, c->lat_bus, lufs};
  sg_status st = bus_put(c, BUS_MAGIC, 8);
  if (st == SG_OK)
    st = bus_put(c, &t.channels, 4);
  if (st == SG_OK)
    st = bus_put(c, &t.rate, 4);
  if (st == SG_OK)
    st = bus_put(c, &t.frames, 8);
  if (st == SG_OK)
    st = bus_put(c, &t.blocks, 8);
  if (st == SG_OK)
    st = bus_put(c, &t.lat_bus, 8);
  if (st == SG_OK)
    st = bus_put(c, &t.lufs, 8);
  if (st == SG_OK)
    st = bus_put(c, c->peak_hist, sizeof c->peak_hist);
  if (st == SG_OK)
    st = bus_put(c, c->pred.s, sizeof c->pred.s);
  if (st == SG_OK)
    st = bus_put(c, &c->pred.e, 8);
  if (st == SG_OK)
    st = bus_put(c, &c->pred.lr_equal, 4);
  if (st == SG_OK && fflush(c->busf) != 0)
    st = SG_E_IO;
  if (st == SG_OK) {
    c->sha_open = 0;
    st = sg_sha256_final(&c->sha, hex);
  }
  return st == SG_OK ? SG_OK
                     : sg_diag_fail(d, st, "master: writing the bus file '%s' failed: %s",
                                    c->bus_path, strerror(errno));
}

/* A kept bus file that fits this job: opened as the bus file, its loudness in *lufs and its
 * histogram in c->peak_hist. 0 (nothing kept open) when it is missing or does not fit. */
static int bus_load(master_ctx *c, const char *path, double *lufs) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  const long long data = (long long)c->blocks * 2 * SG_MIX_BLOCK * (long long)sizeof(float);
  char magic[8];
  bus_trailer t;
  int ok = fseeko(f, 0, SEEK_END) == 0 && (long long)ftello(f) == data + BUS_TRAILER_BYTES &&
           fseeko(f, (off_t)data, SEEK_SET) == 0 && fread(magic, 1, 8, f) == 8 &&
           fread(&t.channels, 4, 1, f) == 1 && fread(&t.rate, 4, 1, f) == 1 &&
           fread(&t.frames, 8, 1, f) == 1 && fread(&t.blocks, 8, 1, f) == 1 &&
           fread(&t.lat_bus, 8, 1, f) == 1 && fread(&t.lufs, 8, 1, f) == 1 &&
           fread(c->peak_hist, sizeof c->peak_hist, 1, f) == 1 &&
           fread(c->pred.s, sizeof c->pred.s, 1, f) == 1 && fread(&c->pred.e, 8, 1, f) == 1 &&
           fread(&c->pred.lr_equal, 4, 1, f) == 1;
  ok = ok && !memcmp(magic, BUS_MAGIC, 8) && t.channels == c->job->wcfg.channels &&
       t.rate == c->job->wcfg.rate && t.frames == c->job->frames && t.blocks == c->blocks &&
       t.lat_bus == c->lat_bus && isfinite(t.lufs);
  if (!ok) {
    fclose(f);
    memset(c->peak_hist, 0, sizeof c->peak_hist);
    sg__pred_init(&c->pred, c->job->wcfg.rate, c->job->wcfg.channels);
    return 0;
  }
  c->busf = f;
  *lufs = t.lufs;
  return 1;
}

/* The bus pass: stems summed with headroom through the bus chain, every block to the bus file,
 * the song's frames measured by meter (loudness only). */
static sg_status bus_pass(master_ctx *c, sg__pass_meter *meter, sg_diag *d) {
  const sg_master_job *job = c->job;
  sg__side *side = NULL;
  sg_status st = sg__side_start(&side, meter, c->busf, SG__SIDE_PLANAR, job->wcfg.channels, d);
  /* The bus effects' observer runs on the side thread, on copies of what each effect saw. */
  if (st == SG_OK && job->fx_tap &&
      (st = sg__side_defer_fx(side, job->fx_tap, job->fx_tap_user, sg_fx_chain_count(c->bus), d)) ==
          SG_OK)
    st = sg_fx_chain_set_tap(c->bus, sg__side_fx_tap, side, SG_MIX_BLOCK, d);
  if (st == SG_OK) {
    sg__side_set_hist(side, c->peak_hist);
    sg__side_set_pred(side, &c->pred);
  }
  const float headroom = (float)sg_db_to_lin(-job->headroom_db);
  for (int64_t b = 0; st == SG_OK && b < c->blocks; ++b) {
    const int64_t pos = b * SG_MIX_BLOCK;
    const size_t n = SG_MIX_BLOCK;
    memset(&c->acc, 0, sizeof c->acc);
    for (int i = 0; st == SG_OK && i < job->n_stems; ++i)
      st = sg__in_add(&c->in[i], c->acc.L, c->acc.R, n, d);
    if (st != SG_OK)
      break;
    for (size_t k = 0; k < n; ++k) {
      c->acc.L[k] *= headroom;
      c->acc.R[k] *= headroom;
    }
    if ((st = sg__side_reserve(side)) != SG_OK) { /* the slot the observer's copies go to */
      st = sg__side_finish(side, d);
      break;
    }
    chain_block(c->bus, c->acc.L, c->acc.R, NULL, NULL, n, pos, job->tempo_at, job->tempo_user);
    size_t skip, m;
    song_range(pos, c->lat_bus, job->frames, n, &skip, &m);
    /* The kept file's hash (the bytes the side writes, in order) runs here, not on the side
     * thread, which writes, meters and observes each block: the two threads' shares even. */
    if (c->sha_open && (sg_sha256_update(&c->sha, c->acc.L, n * sizeof(float)) != SG_OK ||
                        sg_sha256_update(&c->sha, c->acc.R, n * sizeof(float)) != SG_OK)) {
      st = sg_diag_fail(d, SG_E_INTERNAL, "master: cannot hash the bus file");
      break;
    }
    if ((st = sg__side_push(side, c->acc.L, c->acc.R, n, skip, m)) != SG_OK)
      st = sg__side_finish(side, d);
  }
  if (st == SG_OK)
    st = sg__side_finish(side, d);
  sg__side_free(side);
  sg__pred_finish(&c->pred);
  if (job->fx_tap) /* the side is gone: nothing may call its observer any more */
    sg_fx_chain_set_tap(c->bus, NULL, NULL, 0, NULL);
  return st;
}

/* See the drive search in sg_mix_master. */
#define SPEC_MAX_OVER 1e-4

/* The limiter's ceiling as the limiter clamps it. */
static double clamped_ceiling(const master_ctx *c) {
  return c->ceiling > 0 ? 0 : (c->ceiling < -30 ? -30 : c->ceiling);
}

/* The guard's threshold: that ceiling less the guard's margin. */
static double guard_dbtp(const master_ctx *c) {
  return clamped_ceiling(c) - SG_MIX_GUARD_MARGIN_DB;
}

/* The limiter's threshold (dB): its ceiling, as it clamps it, less its margin. */
static double threshold_db(const master_ctx *c) {
  sg_limiter_config lc;
  sg_limiter_config_init(&lc);
  return clamped_ceiling(c) - lc.margin_db;
}

/* The share of the song's frames whose peak max(|L|, |R|) the drive gain_db takes over the
 * limiter's threshold (its ceiling less its margin), from the bus pass's histogram (0.19 dB bins,
 * each read at its centre). The limiter's loudness cost grows with it. */
static double over_fraction(const master_ctx *c, double gain_db) {
  const double lim = pow(10.0, (threshold_db(c) - gain_db) / 20.0);
  double n = 0, over = 0;
  for (uint32_t b = 0; b < SG__PEAK_BINS; ++b) {
    if (!c->peak_hist[b])
      continue;
    const uint32_t u = (b << 18) | (1u << 17);
    float v;
    memcpy(&v, &u, sizeof v);
    n += c->peak_hist[b];
    if ((double)v > lim)
      over += c->peak_hist[b];
  }
  return n > 0 ? over / n : 1.0;
}

/* The drive at which the predicted limited loudness (the bus's lufs, plus the drive, plus the
 * limiter's predicted cost) reaches target: bisection over the 30 dB above the plain drive (the
 * prediction does not fall with more drive), within the grid. 0, *gain untouched, when the
 * prediction does not reach the plain drive or the target lies beyond its reach. */
static int predict_drive(const master_ctx *c, double lufs, double target, double *gain) {
  const double thr = threshold_db(c), top = thr + SG__PRED_Y0 + (SG__PRED_N - 1.5) * SG__PRED_DY;
  double lo = target - lufs, hi = lo + 30.0 < top ? lo + 30.0 : top, cost;
  if (!sg__pred_cost(&c->pred, lo - thr, &cost))
    return 0;
  if (lufs + lo + SG__PRED_SCALE * cost >= target) { /* the limiter costs nothing there */
    *gain = lo;
    return 1;
  }
  if (!sg__pred_cost(&c->pred, hi - thr, &cost) || lufs + hi + SG__PRED_SCALE * cost < target)
    return 0;
  for (int i = 0; i < 40; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (!sg__pred_cost(&c->pred, mid - thr, &cost))
      return 0;
    if (lufs + mid + SG__PRED_SCALE * cost < target)
      lo = mid;
    else
      hi = mid;
  }
  *gain = hi;
  return 1;
}

/* One limited pass over the bus file at gain_db into the limiter (ceiling c->ceiling): the song's
 * frames, limited, DC-blocked and guarded, measured by meter and kept in the limited file, or
 * with o streamed to the master's writer instead (in the blocks write_master would give it). */
static sg_status limit_pass(master_ctx *c, double gain_db, sg__pass_meter *meter, sg__out *o,
                            double *max_gr, sg_diag *d) {
  const sg_master_job *job = c->job;
  sg_status st;
  if ((st = temp_rewind(c->busf, "bus", d)) != SG_OK ||
      (!o && (st = temp_rewind(c->limf, "limited", d)) != SG_OK))
    return st;
  sg_limiter_config lc;
  sg_limiter_config_init(&lc);
  lc.ceiling_dbtp = c->ceiling;
  lc.gain_db = gain_db;
  if (c->lim_ready)
    sg_limiter_free(&c->lim);
  c->lim_ready = 0;
  if ((st = sg_limiter_init(&c->lim, &lc, job->wcfg.rate)) != SG_OK)
    return sg_diag_fail(d, st, "master: limiter rejected its settings");
  c->lim_ready = 1;
  /* The guard reads as the master's true-peak gate does, a little under its limit: the pass
   * lands under the ceiling as measured even where the limiter's detector reads lower. */
  if (c->guard_ready)
    sg_tp_guard_free(&c->guard);
  c->guard_ready = 0;
  if ((st = sg_tp_guard_init(&c->guard, guard_dbtp(c), job->wcfg.rate)) != SG_OK)
    return sg_diag_fail(d, st, "master: true-peak guard rejected a ceiling of %.2f dBTP",
                        c->ceiling);
  c->guard_ready = 1;
  const int mono = c->pred.lr_equal != 0;
  const int64_t lat = c->lat_bus + c->lat_lim; /* the limiter's output frame, for its statistics */
  const int64_t lat_out = lat + c->lat_guard;
  c->dc_r = 1.0 - 2.0 * SG_PI * 5.0 / job->wcfg.rate;
  memset(c->dc_x, 0, sizeof c->dc_x);
  memset(c->dc_y, 0, sizeof c->dc_y);
  memset(c->gr_sum, 0, sizeof c->gr_sum);
  memset(c->gr_n, 0, sizeof c->gr_n);
  c->gr_max = 0;
  sg__side *side = NULL;
  st =
      sg__side_start(&side, meter, o ? NULL : c->limf, SG__SIDE_INTERLEAVED, job->wcfg.channels, d);
  if (st == SG_OK && o)
    sg__side_set_out(side, o);
  if (st == SG_OK) /* the pass is judged as it would be written */
    sg__side_set_fade(side, job->frames, sg__end_fade_len(job->frames, job->wcfg.rate));
  for (int64_t b = 0; st == SG_OK && b < c->blocks; ++b) {
    const int64_t pos = b * SG_MIX_BLOCK;
    const size_t n = SG_MIX_BLOCK;
    if (fread(c->acc.L, sizeof(float), n, c->busf) != n ||
        fread(c->acc.R, sizeof(float), n, c->busf) != n) {
      st = sg_diag_fail(d, SG_E_IO, "master: the temporary bus file ended early");
      break;
    }
    /* A bus with L == R throughout: one channel through the stages (the limiter's second
     * detector fed silence, which moves no gain), then copied; the same bits as both. */
    float *R = mono ? NULL : c->acc.R;
    if (c->track_gr)
      limit_tracked(c, pos, lat, n, R);
    else
      sg_limiter_process(&c->lim, c->acc.L, R, n);
    if (R)
      dc_block2(c, c->acc.L, R, n);
    else
      dc_block(c, c->acc.L, n, 0);
    /* Last: a high-pass after it would shift the low end's phase and move the peaks it set. */
    sg_tp_guard_process(&c->guard, c->acc.L, R, n);
    if (!R)
      memcpy(c->acc.R, c->acc.L, n * sizeof *c->acc.R);
    size_t skip, m;
    song_range(pos, lat_out, job->frames, n, &skip, &m);
    if (m > 0 && (st = sg__side_push(side, c->acc.L, c->acc.R, n, skip, m)) != SG_OK)
      st = sg__side_finish(side, d);
  }
  if (st == SG_OK)
    st = sg__side_finish(side, d);
  sg__side_free(side);
  if (st == SG_OK && max_gr)
    *max_gr = c->track_gr ? c->gr_max : sg_limiter_max_gain_reduction_db(&c->lim);
  return st;
}

/* A pass measured: the bus pass (gain_db <= -900) its loudness; a limited pass its loudness and
 * true peak, of its frames with the writer's end fade, as a float32 file holds them (the acceptance
 * rule's measurement, whether the pass streams to o or not): by its own meter on the side thread,
 * or, streamed to a float32 master, by the writer's tap (job->measured), which sees exactly those
 * frames: measured once. */
static sg_status measure_pass(master_ctx *c, double gain_db, sg__out *o, double *lufs, double *tp,
                              double *max_gr, sg_diag *d) {
  const sg_master_job *job = c->job;
  const int limit = gain_db > -900;
  if (limit && o && job->measured && job->wcfg.format == SG_FMT_FLOAT32) {
    sg_status st = limit_pass(c, gain_db, NULL, o, max_gr, d);
    return st == SG_OK ? job->measured(job->restart_user, lufs, tp, d) : st;
  }
  sg__pass_meter *m = malloc(sizeof *m);
  if (!m)
    return sg_diag_fail(d, SG_E_NOMEM, "master: out of memory");
  sg_status st = sg__pass_meter_init(m, job->wcfg.channels, job->wcfg.rate, limit);
  if (st != SG_OK) {
    free(m);
    return sg_diag_fail(d, st, "master: the pass meter rejected %u channels at %u Hz",
                        job->wcfg.channels, job->wcfg.rate);
  }
  st = limit ? limit_pass(c, gain_db, m, o, max_gr, d) : bus_pass(c, m, d);
  if (st == SG_OK)
    sg__pass_meter_get(m, lufs, tp);
  sg__pass_meter_free(m);
  free(m);
  return st;
}

/* The written master: the last limited pass's frames, in the same blocks it produced them. */
static sg_status write_master(master_ctx *c, sg__out *o, sg_diag *d) {
  const sg_master_job *job = c->job;
  sg_status st = temp_rewind(c->limf, "limited", d);
  const int64_t lat = c->lat_bus + c->lat_lim + c->lat_guard;
  for (int64_t b = 0; st == SG_OK && b < c->blocks; ++b) {
    size_t skip, m;
    song_range(b * SG_MIX_BLOCK, lat, job->frames, SG_MIX_BLOCK, &skip, &m);
    if (m == 0)
      continue;
    const float *il = c->il;
    if (fread(c->il, 2 * sizeof(float), m, c->limf) != m)
      return sg_diag_fail(d, SG_E_IO, "master: the temporary limited file ended early");
    for (size_t k = 0; k < m; ++k) {
      c->acc.L[k] = il[2 * k];
      c->acc.R[k] = il[2 * k + 1];
    }
    st = sg__out_write(o, c->acc.L, c->acc.R, m, d);
  }
  return st;
}

sg_status sg_mix_master(const sg_master_job *job, sg_meter *meter, sg_master_report *rep,
                        sg_diag *d) {
  if (!job || !job->out_path || job->n_stems <= 0 || job->frames <= 0)
    return sg_diag_fail(d, SG_E_INVAL, "mix: bad arguments to master");
  sg_master_report local;
  rep = rep ? rep : &local;
  memset(rep, 0, sizeof *rep);
  master_ctx *c = calloc(1, sizeof *c);
  sg__out *o = calloc(1, sizeof *o);
  sg_status st = SG_OK;
  int opened = 0, writing = 0;
  if (!c || !o || !(c->in = calloc((size_t)job->n_stems, sizeof *c->in))) {
    st = sg_diag_fail(d, SG_E_NOMEM, "mix: out of memory");
    goto done;
  }
  c->job = job;
  if ((st = sg_fx_chain_create(job->bus_fx, job->n_bus_fx, job->wcfg.rate, job->bpm, job->spec_file,
                               &c->bus, d)) != SG_OK)
    goto done;
  if (job->tempo_at && (st = sg_fx_chain_follow_tempo(c->bus, job->tempo_min_bpm, d)) != SG_OK)
    goto done;
  {
    /* The limiter's and the guard's delays depend on the rate alone (not gain or ceiling). */
    sg_limiter_config lc;
    sg_limiter_config_init(&lc);
    if ((st = sg_limiter_init(&c->lim, &lc, job->wcfg.rate)) != SG_OK) {
      st = sg_diag_fail(d, st, "master: limiter rejected its settings");
      goto done;
    }
    c->lim_ready = 1;
    c->lat_lim = (int64_t)sg_limiter_latency(&c->lim);
    if ((st = sg_tp_guard_init(&c->guard, -1.0, job->wcfg.rate)) != SG_OK) {
      st = sg_diag_fail(d, st, "master: the true-peak guard rejected a rate of %u Hz",
                        job->wcfg.rate);
      goto done;
    }
    c->guard_ready = 1;
    c->lat_guard = (int64_t)sg_tp_guard_latency(&c->guard);
  }
  c->lat_bus = (int64_t)sg_fx_chain_latency_frames(c->bus);
  c->blocks =
      (job->frames + c->lat_bus + c->lat_lim + c->lat_guard + SG_MIX_BLOCK - 1) / SG_MIX_BLOCK;
  c->track_gr = job->section_bounds && job->n_sections > 0 && job->n_sections <= SG_MAX_SECTIONS;
  double lufs = 0;
  c->ceiling = job->ceiling_dbtp;
  sg__pred_init(&c->pred, job->wcfg.rate, job->wcfg.channels);
  rep->bus_reused = job->bus_path && job->bus_reuse && bus_load(c, job->bus_path, &lufs);
  if (!rep->bus_reused && job->bus_path) { /* kept: written beside, renamed once complete */
    if ((size_t)snprintf(c->bus_path, sizeof c->bus_path, "%s.partial", job->bus_path) >=
        sizeof c->bus_path) {
      st = sg_diag_fail(d, SG_E_RANGE, "master: path too long: '%s'", job->bus_path);
      goto done;
    }
    if (!(c->busf = fopen(c->bus_path, "w+b"))) {
      st = sg_diag_fail(d, SG_E_IO, "master: cannot create '%s': %s", c->bus_path, strerror(errno));
      c->bus_path[0] = '\0';
      goto done;
    }
    if ((st = sg_sha256_init(&c->sha)) != SG_OK) {
      st = sg_diag_fail(d, st, "master: cannot hash the bus file");
      goto done;
    }
    c->sha_open = 1;
  } else if (!rep->bus_reused && (st = temp_open(job->out_path, "bus", &c->busf, c->bus_path,
                                                 sizeof c->bus_path, d)) != SG_OK)
    goto done;
  if ((st = temp_open(job->out_path, "lim", &c->limf, c->lim_path, sizeof c->lim_path, d)) != SG_OK)
    goto done;

  /* Pass 1: the bus as it is (unless kept from an earlier master with the same bus). The tap
   * sees the bus effects once, on the one pass that runs them (bus_pass installs it). */
  if (!rep->bus_reused) {
    for (; opened < job->n_stems; ++opened)
      if ((st = sg__in_open(&c->in[opened], job->stem_paths[opened], d)) != SG_OK)
        goto done;
    if ((st = measure_pass(c, -1000, NULL, &lufs, NULL, NULL, d)) != SG_OK)
      goto done;
    if (c->sha_open) {
      if ((st = bus_trailer_write(c, lufs, rep->bus_sha256, d)) != SG_OK)
        goto done;
      if (sg__replace_file(c->bus_path, job->bus_path) != 0) {
        st = sg_diag_fail(d, SG_E_IO, "master: cannot rename '%s': %s", c->bus_path,
                          strerror(errno));
        goto done;
      }
      c->bus_path[0] = '\0'; /* complete: stays */
    }
  }
  rep->bus_lufs = lufs;
  rep->passes = 1;
  if (lufs <= -70.0) {
    st = sg_diag_fail(d, SG_E_GATE, "master: the mix is silent (%.1f LUFS); nothing to master",
                      lufs);
    goto done;
  }
  /* Passes 2..: the limiter costs loudness on loud material, so correct the drive until the
   * limited output lands within a quarter of the tolerance. The true peak is measured with the
   * same meter the master gate uses (BS.1770-4 Annex 2). Its interpolator can read an
   * inter-sample peak a few tenths of a dB above the limiter's own (full-band noise near
   * Nyquist); the guard after the limiter, keyed by that same interpolator, takes those points
   * down in the same pass. Should the meter still read above the ceiling, the limiter's ceiling
   * is lowered by the difference and the pass repeated. The pass that ends the search
   * is the one written; should the search run out with new settings unmeasured, one more pass
   * renders them.
   * The first drive is the one at which the limiter's loudness cost, predicted from the bus
   * pass (sg__pred: a chunk-rate model of its gain computer over the bus's peaks and energy),
   * brings the limited output to the target: on the bundled songs it landed within 0.06 LU at
   * costs of 0.01 to 3.7 LU, so the first limited pass is the master. With a restart the
   * caller allows, a pass whose drive the prediction set streams to the writer as it is
   * measured: accepted, it is the master and nothing is rendered again; else its file is
   * dropped, the caller's taps restarted, and the search goes on as if the pass had been
   * measured alone. The same rule on the same measurement decides either way (measure_pass:
   * each limited pass judged on its frames as the writer would write them, the end fade applied,
   * whoever meters them), so the written bytes do not depend on it. Without a prediction (the bus's
   * peaks beyond the model's grid, or job->no_prediction) the first drive is the target less the
   * bus's loudness, and it streams only when at most SPEC_MAX_OVER of the song's frames go over the
   * limiter's threshold there (a dropped pass costs the writer's whole measurement: features,
   * trace). */
  double gain = job->target_lufs - lufs, out_lufs = lufs, tp = 0, gr = 0, prev = -1000;
  const double tp_margin = 0.02;
  int measured = 0; /* the limited file holds the pass with (gain, c->ceiling) */
  int written = 0;  /* a pass was streamed to the writer and accepted */
  double prev_gain = gain, prev_ceiling = -1000;
  const int model = !job->no_prediction && predict_drive(c, lufs, job->target_lufs, &gain);
  for (int k = 0; k < 8; ++k) {
    const int spec =
        job->restart && !meter && (model || (k == 0 && over_fraction(c, gain) <= SPEC_MAX_OVER));
    if (spec) {
      if ((st = sg__out_open(o, job->out_path, &job->wcfg, job->frames, NULL, d)) != SG_OK)
        goto done;
      writing = 1;
    }
    if ((st = measure_pass(c, gain, spec ? o : NULL, &out_lufs, &tp, &gr, d)) != SG_OK)
      goto done;
    rep->passes++;
    measured = !spec;
    double err = job->target_lufs - out_lufs;
    int tp_ok = tp <= job->ceiling_dbtp - tp_margin;
    if (spec) {
      if (tp_ok && fabs(err) <= job->tolerance_lu * 0.25) {
        written = rep->streamed = 1;
        break;
      }
      rep->streamed = -1;
      sg__out_abort(o); /* not the master: its file goes, the search goes on */
      writing = 0;
      if ((st = job->restart(job->restart_user, d)) != SG_OK)
        goto done;
    }
    if (!tp_ok) {
      c->ceiling -= tp - (job->ceiling_dbtp - tp_margin) + 0.03;
      measured = 0;
      continue;
    }
    if (fabs(err) <= job->tolerance_lu * 0.25)
      break;
    /* More drive no longer makes it louder: the ceiling caps the loudness. The master gate
     * will report the target as out of reach. */
    if (err > 0 && out_lufs - prev < 0.05)
      break;
    /* The next drive: a secant step on the loudness the last two passes at this ceiling
     * measured (deep limiting turns 1 dB of drive into much less loudness, so a plain err
     * step crawls; the slope held to [0.2, 1]); before there are two, the prediction's with
     * its error at this pass taken off the target (the model's shape, the measurement's
     * level); else err itself. */
    double next = gain + err, cost;
    if (prev_ceiling == c->ceiling && gain != prev_gain) {
      double slope = (out_lufs - prev) / (gain - prev_gain);
      slope = slope < 0.2 ? 0.2 : slope > 1.0 ? 1.0 : slope;
      next = gain + err / slope;
    } else if (model && sg__pred_cost(&c->pred, gain - threshold_db(c), &cost)) {
      const double bias = out_lufs - (lufs + gain + SG__PRED_SCALE * cost);
      if (!predict_drive(c, lufs, job->target_lufs - bias, &next))
        next = gain + err;
    }
    prev = out_lufs;
    prev_gain = gain;
    prev_ceiling = c->ceiling;
    gain = next > 36.0 ? 36.0 : next;
    measured = 0;
  }
  if (!measured && !written) {
    if ((st = limit_pass(c, gain, NULL, NULL, &gr, d)) != SG_OK)
      goto done;
    rep->passes++;
  }
  rep->ceiling_dbtp = c->ceiling;
  rep->gain_db = gain;
  rep->limiter_max_gr_db = gr;
  rep->guard_dbtp = guard_dbtp(c);
  rep->guard_max_gr_db = c->guard.gr_db_max;
  if (c->track_gr) {
    double sum = 0;
    int64_t cnt = 0;
    for (int i = 0; i < job->n_sections; ++i) {
      rep->section_gr_db[i] = c->gr_n[i] ? c->gr_sum[i] / (double)c->gr_n[i] : 0.0;
      sum += c->gr_sum[i];
      cnt += c->gr_n[i];
    }
    rep->limiter_mean_gr_db = cnt ? sum / (double)cnt : 0.0;
  }
  /* Written and metered by the caller's meter and taps as it streams (unless the first pass
   * already streamed there). */
  if (!written) {
    if ((st = sg__out_open(o, job->out_path, &job->wcfg, job->frames, meter, d)) != SG_OK)
      goto done;
    writing = 1;
    if ((st = write_master(c, o, d)) != SG_OK)
      goto done;
  }
  writing = 0;
  if ((st = sg__out_close(o, d)) != SG_OK)
    goto done;
  {
    char bus[1800];
    sg_fx_chain_describe(c->bus, bus, sizeof bus);
    snprintf(rep->chain, sizeof rep->chain,
             "%sheadroom %.1f dB, true-peak limiter (ceiling %.2f dBTP, drive %+.2f dB), DC "
             "blocker (5 Hz), BS.1770 true-peak guard (%.2f dBTP, up to %.2f dB)",
             bus, job->headroom_db, c->ceiling, gain, rep->guard_dbtp, rep->guard_max_gr_db);
  }
done:
  if (writing)
    sg__out_abort(o);
  if (c) {
    temp_close(&c->busf, c->bus_path);
    temp_close(&c->limf, c->lim_path);
    if (c->sha_open)
      sg_sha256_free(&c->sha);
    for (int i = 0; i < opened; ++i)
      sg__in_close(&c->in[i]);
    if (c->lim_ready)
      sg_limiter_free(&c->lim);
    if (c->guard_ready)
      sg_tp_guard_free(&c->guard);
    sg_fx_chain_destroy(c->bus);
    free(c->in);
  }
  free(c);
  free(o);
  return st;
}
