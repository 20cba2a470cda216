/* Streaming feature extraction: onset envelopes (log spectral flux), ~1 ms energy envelope and
 * HPSS chroma. See include/stemgate/analysis.h for the methods and their references.
 *
 * Chroma and upper partials: folding every spectral partial into pitch classes puts the 3rd and
 * 6th partials of a note on its fifth, the 5th on its major third and the 7th near its minor
 * seventh; a loud bass (a sawtooth whose partials reach 2 kHz) then pulls the key a fifth away.
 * Before folding, each harmonic HPSS frame therefore goes through a pitch-salience front end
 * for the bass register: harmonic summation with iterative estimation and cancellation
 * (A. Klapuri, "Multiple fundamental frequency estimation by summing harmonic amplitudes",
 * ISMIR 2006). f0 candidates lie on a 1/5-semitone grid from 27.5 Hz (minus 40 cents of tuning)
 * to SAL_F0MAX; the salience of a candidate is sum_h g(f0, h) * max |Y| within +-SAL_TOL
 * semitones of h * f0, with Klapuri's weights g = (f0 + alpha) / (h f0 + beta). Up to SAL_ITER
 * times per frame the most salient candidate is taken as a note: its partial amplitudes are
 * limited by spectral smoothness (Klapuri 2003, "Multiple fundamental frequency estimation
 * based on harmonicity and spectral smoothness": at most the geometric mean of the adjacent
 * partials, or the smaller of those two away, so a chord tone that coincides with a bass
 * partial is only partly taken), and by a harmonic envelope (no partial above SAL_KAPPA times
 * the strongest lower one, so a subharmonic of a chord cannot collect the chord). Their sum goes
 * to the note's fundamental bin and they are removed from the residual (main lobe, in
 * proportion). The residual is folded as before (Fujishima 1999), so treble notes keep their
 * partials as they always did. Candidates stop at the bass register because there the problem
 * lies (fundamentals at or below the old 60 Hz edge, dozens of partials in band); above it, a
 * chord's notes are mostly each other's partials and attributing them is ambiguous. Cost:
 * ~170 candidates x <= 40 harmonics per ~85 ms frame, and in iterations 2..4 only the
 * candidates whose earlier salience can still win (~25 % of the features pass with chroma);
 * memory: ~55 KB of tables (~135 KB with the AVX path's groups).
 *
 * Cost of the whole pass (bench/features_bench.c, callgrind, 30 s of a stereo 48 kHz master):
 * onset + energy (the stem taps) 383 M instructions, chroma 406 M, all three 0.78 G. The STFTs
 * run on fft.c's vectorised real FFT (47 k instructions per 2048-point frame; KissFFT took
 * 157 k), the onset STFT's 187.5 frames/s being most of the onset cost. Where the CPU has AVX2
 * the salience runs eight candidates per vector (sal_group; the passes after the first ~40 %
 * of the candidates each, so the first pass was under half of it) and the median windows
 * replace a value without a branch or a memmove (replace17_avx): chroma of the deja-vu master
 * 0.19 -> 0.11 s on one core, the same bits (analysis.test_fft compares the two paths). */
#include "analysis_internal.h"
#include "stemgate/io.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#include <immintrin.h>
/* Eight bins at a time where the CPU has AVX (chosen at run time; the same IEEE square root
 * and product as the four-wide loop, so the same bits). Returns the bins done. */
__attribute__((target("avx"))) static size_t mag_avx(float *mag, size_t nb, float norm) {
  const __m256 g = _mm256_set1_ps(norm);
  size_t k = 0;
  for (; k + 8 <= nb; k += 8)
    _mm256_storeu_ps(mag + k, _mm256_mul_ps(g, _mm256_sqrt_ps(_mm256_loadu_ps(mag + k))));
  return k;
}
#define SG_MAG_AVX 1
#define SG_FEAT_AVX 1 /* sal_group, replace17_avx */
#endif

#define HPSS_LEN                                                                                   \
  17 /* median filter length (frames in time, bins in frequency), Fitzgerald 2010                  \
      */
#define HPSS_HALF (HPSS_LEN / 2)
/* Pitch salience (Klapuri 2006): f0 candidates from SAL_FMIN on a 1/5-semitone grid, at most
 * SAL_HMAX harmonics each within +-SAL_TOL semitones, weights g = (f0 + SAL_ALPHA) /
 * (h f0 + SAL_BETA) (the paper's values for ~93 ms frames), at most SAL_ITER notes per frame,
 * down to SAL_STOP of the first note's salience; candidates up to SAL_F0MAX (F#3, the bass
 * register); a partial at most SAL_KAPPA times the strongest lower one of its note. */
#define SAL_FMIN 27.5
#define SAL_HMAX 40
#define SAL_F0MAX 180.0
#define SAL_TOL 0.12
#define SAL_ALPHA 27.0
#define SAL_BETA 320.0
#define SAL_ITER 4
#define SAL_STOP 0.05f
#define SAL_KAPPA 2.0f
#define FEAT_BLOCK 4096   /* frames mixed to mono and decimated at a time */
#define LOG_GAMMA 1000.0f /* log(1 + gamma * |X|): compresses ~60 dB into a useful range */

/* One STFT front end: the current frame is buf[start, start + n), filled hop samples at a time
 * (`at` is where the next sample goes). The buffer holds two frames, so the unconsumed
 * n - hop samples move to its front once every n / hop frames, not after every frame. */
typedef struct stft {
  size_t n, hop, fill, start;
  size_t zrun; /* trailing zero samples in buf (kept by stft_feed and the end padding only) */
  float *buf, *at, *win; /* win: the window split (sg__rfft_split_window) */
  sg__rfft fft;
  float norm; /* 2 / sum(window): a full-scale sine reads 1.0 */
} stft;

static int stft_init(stft *s, size_t n, size_t hop) {
  memset(s, 0, sizeof *s);
  s->n = n;
  s->hop = hop;
  s->fill = n / 2; /* frame m is centred on input sample m * hop */
  s->zrun = s->fill;
  s->buf = calloc(2 * n, sizeof *s->buf);
  s->win = malloc(n * sizeof *s->win);
  if (sg__rfft_init(&s->fft, n) || !s->buf || !s->win)
    return -1;
  s->at = s->buf + s->fill;
  float *w = malloc(n * sizeof *w);
  if (!w)
    return -1;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    w[i] = (float)(0.5 - 0.5 * cos(2 * SG_PI * (double)i / (double)n)); /* periodic Hann */
    sum += w[i];
  }
  s->norm = (float)(2.0 / sum);
  sg__rfft_split_window(w, n, s->win); /* as the transform reads it */
  free(w);
  return 0;
}

static void stft_free(stft *s) {
  free(s->buf);
  free(s->win);
  sg__rfft_free(&s->fft);
}

/* Transforms the current frame; leaves magnitudes of bins [0, nb) in mag and slides by hop. */
static void stft_frame(stft *s, float *mag, size_t nb) {
  if (s->zrun >= s->n) {
    /* A frame of zeros (a stem's rests): every product, sum and square of the transform is a
     * zero, the power +0 and so each magnitude. Same bits, without the transform. */
    memset(mag, 0, nb * sizeof *mag);
  } else {
    sg__rfft_power(&s->fft, s->buf + s->start, s->win, mag, nb);
    size_t k = 0;
#if defined(SG_MAG_AVX)
    if (__builtin_cpu_supports("avx"))
      k = mag_avx(mag, nb, s->norm);
#endif
#if defined(__SSE2__)
    /* sqrtf keeps errno semantics and stays scalar (a branch per bin); the vector square root
     * is the same correctly rounded IEEE operation, four bins at a time. */
    const __m128 g = _mm_set1_ps(s->norm);
    for (; k + 4 <= nb; k += 4)
      _mm_storeu_ps(mag + k, _mm_mul_ps(g, _mm_sqrt_ps(_mm_loadu_ps(mag + k))));
#endif
    for (; k < nb; ++k)
      mag[k] = s->norm * sqrtf(mag[k]);
  }
  s->start += s->hop;
  s->fill = s->n - s->hop;
  if (s->start + s->n > 2 * s->n) {
    memmove(s->buf, s->buf + s->start, s->fill * sizeof *s->buf);
    s->start = 0;
  }
  s->at = s->buf + s->start + s->fill;
}

/* A spool: records of w floats appended in order. The first `block` records stay in memory;
 * past them, runs of `block` records go to an unlinked temporary file in $TMPDIR (or /tmp),
 * read back (same floats) by spool_read once spool_seal has put the rest there. Without a
 * temporary file the memory grows instead. Two feature arrays grow with the length and are
 * kept this way (the others are small: see analysis.h):
 *  - the 1/5-semitone chroma frames waiting for finish, which folds them around the tuning
 *    measured over the whole file: FINE_W floats (60 bins of all pitched content, then 60 of
 *    the bass register's notes), 480 bytes a frame, 20 MB an hour at 48 kHz;
 *  - the ~1 ms energy envelope, 14 MB an hour, read by window (sg_features_energy_read);
 *  - the onset and low-band onset envelopes, 2.7 MB an hour each, read by window
 *    (sg_features_onset_read, sg_features_low_read);
 *  - the chroma and bass chroma, 2 MB an hour each, read by span (sg_features_chroma_read). */
#define FINE_W 120
#define FINE_BLOCK 256     /* 22 s of chroma frames */
#define ENERGY_BLOCK 16384 /* 16 s of energy blocks */
#define LOW_BLOCK 4096     /* 22 s of the low-band envelope (and of the onset envelope) */
#define CHROMA_BLOCK 512   /* 44 s of chroma (and of bass chroma) frames */
typedef struct spool {
  size_t w, block; /* floats a record; records kept in memory */
  float *v;        /* records in memory, after the file's */
  size_t n, cap;   /* records in v, room */
  size_t spilled;  /* records in the file */
  FILE *file;
  int no_file; /* creating the file failed: grow in memory */
} spool;

struct sg_features {
  sg_features_config cfg;
  unsigned channels, rate;
  int64_t frames;
  int finished;
  float *mono; /* block scratch */
  size_t mono_cap;
  /* onsets */
  stft on;
  size_t on_bins, low_bins;
  size_t n_bands;  /* log-spaced bands, 6 per octave from 30 Hz */
  size_t *band_lo; /* first bin of band b; band b spans [band_lo[b], band_lo[b + 1]) */
  float *on_mag, *on_prev, *band;
  float low_prev; /* low-band energy of the previous frame */
  int on_have_prev;
  spool env;
  float *env_all; /* the whole onset envelope, loaded by sg_features_onset_env when spooled */
  size_t env_all_n;
  spool low;
  float *low_all; /* the whole low-band envelope, loaded by sg_features_low_env when spooled */
  size_t low_all_n;
  double env_rate;
  /* energy */
  size_t e_block, e_fill;
  double e_acc;
  spool energy;
  float *energy_all; /* the whole envelope, loaded by sg_features_energy when spooled */
  size_t energy_all_n;
  double e_rate;
  /* chroma: decimator then STFT then HPSS */
  unsigned dec; /* decimation factor */
  size_t fir_len, dec_phase;
  float *fir, *lin; /* lin: the last fir_len - 1 input samples, then the current block */
  stft ch;
  size_t ch_bins, k0, k1; /* magnitudes kept for bins [0, ch_bins); chroma from [k0, k1] */
  float *ring;            /* HPSS_LEN frames of ch_bins */
  size_t ring_count;      /* frames pushed */
  short *fine_bin;        /* 1/5-semitone pitch bin (0..59 from C) per STFT bin, -1 outside */
  float *hm;              /* harmonic magnitudes of the current frame */
  spool fine;             /* 1/5-semitone bins per frame until finish folds them (tuning) */
  double tune_s, tune_c;  /* circular sums of the spectral peaks' deviation from 440 Hz ET */
  double tuning;          /* semitones, -0.5..0.5, set by finish */
  float *med, *med_mem;   /* the sorted frequency window of the current bin (in med_mem) */
  float *tsort;           /* per bin [kb, k1]: its HPSS_LEN ring values, sorted (time medians) */
  float *old;             /* the ring slot's previous frame while it is overwritten */
  /* pitch salience (harmonic summation with iterative cancellation, Klapuri 2006) */
  size_t kb;                   /* lowest bin analysed (fundamentals down to SAL_FMIN) */
  size_t ncand;                /* f0 candidates on a 1/5-semitone grid */
  short *cand_fine;            /* their 1/5-semitone bin (0..59 from C) */
  unsigned char *cand_h;       /* harmonics below fmax, at most SAL_HMAX */
  unsigned short *h_lo, *h_hi; /* bin range of harmonic h of candidate c: [c * SAL_HMAX + h-1] */
  float *h_w;                  /* its weight g(f0, h) */
  float *res, *sal;            /* residual spectrum; salience per candidate */
  /* The salience eight candidates at a time (AVX, sal_group): per group and harmonic the
   * lanes' range maxima read from a sparse table of the residual (level l: maxima of 2^l bins,
   * tab + l * ch_bins; level 0 is res). */
  int simd;              /* the AVX paths (sal_group, replace17_avx) are taken */
  size_t ngrp, nlev;     /* groups of eight candidates; table levels */
  unsigned char *g_h;    /* harmonics of a group (its lanes' most) */
  int *g_i1, *g_i2;      /* per group, harmonic, lane: the two table entries covering its range */
  float *g_w;            /* and its weight (0 past the lane's harmonics and past the candidates) */
  float *tab;            /* nlev * ch_bins */
  unsigned char *taken;  /* candidates already explained in this frame */
  spool chroma, bchroma; /* 12 per frame: all pitched content; the bass register's notes */
  float *chroma_all, *bchroma_all; /* loaded by their accessors when spooled */
  size_t chroma_all_n, bchroma_all_n;
  double ch_rate;
};

void sg_features_config_init(sg_features_config *c) {
  c->flags = SG_FEAT_ALL;
  c->low_cut_hz = 150;
  c->chroma_fmin = 60;
  c->chroma_fmax = 2000;
}

static FILE *spool_file(void) {
  const char *dir = getenv("TMPDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/stemgate-chroma-XXXXXX", dir && *dir ? dir : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0)
    return NULL;
  unlink(path); /* gone with the descriptor, whatever happens to the process */
  FILE *fp = fdopen(fd, "w+b");
  if (!fp)
    close(fd);
  return fp;
}

static void spool_init(spool *s, size_t w, size_t block) {
  memset(s, 0, sizeof *s);
  s->w = w;
  s->block = block;
}

/* Appends one record of s->w floats. */
static sg_status spool_push(spool *s, const float *x) {
  if (s->n == s->cap && s->cap >= s->block && !s->no_file) {
    if (!s->file && !(s->file = spool_file()))
      s->no_file = 1;
    if (s->file) {
      if (fwrite(s->v, s->w * sizeof *s->v, s->n, s->file) != s->n)
        return SG_E_IO;
      s->spilled += s->n;
      s->n = 0;
    }
  }
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 16;
    float *p = realloc(s->v, cap * s->w * sizeof *p);
    if (!p)
      return SG_E_NOMEM;
    s->v = p;
    s->cap = cap;
  }
  memcpy(s->v + s->n * s->w, x, s->w * sizeof *x);
  s->n++;
  return SG_OK;
}

static size_t spool_count(const spool *s) { return s->spilled + s->n; }

/* After the last push: a spilled spool's records all go to the file (v stays as a buffer). */
static sg_status spool_seal(spool *s) {
  if (!s->file)
    return SG_OK;
  if (s->n && fwrite(s->v, s->w * sizeof *s->v, s->n, s->file) != s->n)
    return SG_E_IO;
  s->spilled += s->n;
  s->n = 0;
  return fflush(s->file) == 0 ? SG_OK : SG_E_IO;
}

/* Records [r0, r0 + nr) into out (from the file, then the memory); 0 past the end. */
static sg_status spool_read(const spool *s, size_t r0, size_t nr, float *out) {
  const size_t have = spool_count(s), w = s->w;
  size_t end = r0 < have ? (have - r0 < nr ? have : r0 + nr) : r0;
  memset(out + (end - r0) * w, 0, (r0 + nr - end) * w * sizeof *out);
  if (r0 < s->spilled) {
    const size_t b = end < s->spilled ? end : s->spilled;
    if (fflush(s->file) != 0)
      return SG_E_IO;
    char *p = (char *)out;
    size_t left = (b - r0) * w * sizeof *out;
    off_t at = (off_t)(r0 * w * sizeof *out);
    while (left) {
      ssize_t got = pread(fileno(s->file), p, left, at);
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        return SG_E_IO;
      p += got;
      at += got;
      left -= (size_t)got;
    }
  }
  const size_t a = r0 > s->spilled ? r0 : s->spilled;
  if (end > a)
    memcpy(out + (a - r0) * w, s->v + (a - s->spilled) * w, (end - a) * w * sizeof *out);
  return SG_OK;
}

static void spool_free(spool *s) {
  free(s->v);
  if (s->file)
    fclose(s->file);
  size_t w = s->w, block = s->block;
  spool_init(s, w, block);
}

/* Appends one chroma frame: c[60] (all pitched content) and bass[60]. */
static sg_status fine_push(spool *s, const float *c, const float *bass) {
  float fr[FINE_W];
  memcpy(fr, c, 60 * sizeof *c);
  memcpy(fr + 60, bass, 60 * sizeof *bass);
  return spool_push(s, fr);
}

static size_t pow2_near(double x) {
  size_t p = 256;
  while ((double)p * 1.414 < x)
    p *= 2;
  return p;
}

void sg_features_free(sg_features *f) {
  if (!f)
    return;
  free(f->mono);
  stft_free(&f->on);
  free(f->on_mag);
  free(f->on_prev);
  free(f->band);
  free(f->band_lo);
  spool_free(&f->env);
  free(f->env_all);
  spool_free(&f->low);
  free(f->low_all);
  spool_free(&f->energy);
  free(f->energy_all);
  free(f->fir);
  free(f->lin);
  stft_free(&f->ch);
  free(f->ring);
  free(f->fine_bin);
  free(f->hm);
  spool_free(&f->fine);
  free(f->med_mem);
  free(f->tsort);
  free(f->old);
  free(f->cand_fine);
  free(f->cand_h);
  free(f->h_lo);
  free(f->h_hi);
  free(f->h_w);
  if (f->tab)
    free(f->tab); /* res lies in it */
  else
    free(f->res);
  free(f->sal);
  free(f->g_h);
  free(f->g_i1);
  free(f->g_i2);
  free(f->g_w);
  free(f->taken);
  spool_free(&f->chroma);
  spool_free(&f->bchroma);
  free(f->chroma_all);
  free(f->bchroma_all);
  free(f);
}

void sg_features_release(sg_features *f, unsigned flags) {
  if (!f || !f->finished)
    return;
  if (flags & SG_FEAT_ONSET) {
    spool_free(&f->low);
    free(f->low_all);
    f->low_all = NULL;
    f->low_all_n = 0;
  }
  if (flags & SG_FEAT_ENERGY) {
    spool_free(&f->energy);
    free(f->energy_all);
    f->energy_all = NULL;
    f->energy_all_n = 0;
  }
  if (flags & SG_FEAT_CHROMA) {
    spool_free(&f->chroma);
    spool_free(&f->bchroma);
    free(f->chroma_all);
    free(f->bchroma_all);
    f->chroma_all = f->bchroma_all = NULL;
    f->chroma_all_n = f->bchroma_all_n = 0;
  }
}

#if defined(SG_FEAT_AVX)
/* The groups of eight candidates and the table of residual maxima for sal_group: a harmonic's
 * range [a, b] of w bins is covered by the two entries of level l = floor(log2 w) at a and at
 * b + 1 - 2^l. Lanes past a candidate's harmonics (and past the last candidate) read bin kb
 * with weight 0. */
static int sal_simd_init(sg_features *f) {
  const size_t nc = f->ncand, nb = f->ch_bins, G = (nc + 7) / 8;
  size_t maxw = 1;
  for (size_t c = 0; c < nc; ++c)
    for (unsigned h = 0; h < f->cand_h[c]; ++h) {
      const size_t w = (size_t)f->h_hi[c * SAL_HMAX + h] - f->h_lo[c * SAL_HMAX + h] + 1;
      maxw = w > maxw ? w : maxw;
    }
  size_t lev = 1;
  while (((size_t)1 << lev) <= maxw)
    ++lev;
  float *sal = calloc(G * 8, sizeof *sal);
  f->g_h = calloc(G, 1);
  f->g_i1 = malloc(G * SAL_HMAX * 8 * sizeof *f->g_i1);
  f->g_i2 = malloc(G * SAL_HMAX * 8 * sizeof *f->g_i2);
  f->g_w = malloc(G * SAL_HMAX * 8 * sizeof *f->g_w);
  f->tab = calloc(lev * nb, sizeof *f->tab);
  if (!sal || !f->g_h || !f->g_i1 || !f->g_i2 || !f->g_w || !f->tab) {
    free(sal);
    return -1;
  }
  free(f->sal);
  f->sal = sal;
  free(f->res);
  f->res = f->tab; /* level 0 */
  f->ngrp = G;
  f->nlev = lev;
  for (size_t g = 0; g < G; ++g)
    for (unsigned h = 0; h < SAL_HMAX; ++h)
      for (size_t j = 0; j < 8; ++j) {
        const size_t c = g * 8 + j, o = (g * SAL_HMAX + h) * 8 + j;
        f->g_i1[o] = f->g_i2[o] = (int)f->kb;
        f->g_w[o] = 0;
        if (c >= nc || h >= f->cand_h[c])
          continue;
        const size_t a = f->h_lo[c * SAL_HMAX + h], b = f->h_hi[c * SAL_HMAX + h];
        size_t l = 0;
        while (((size_t)2 << l) <= b - a + 1)
          ++l;
        f->g_i1[o] = (int)(l * nb + a);
        f->g_i2[o] = (int)(l * nb + b + 1 - ((size_t)1 << l));
        f->g_w[o] = f->h_w[c * SAL_HMAX + h];
        if (h + 1 > f->g_h[g])
          f->g_h[g] = (unsigned char)(h + 1);
      }
  return 0;
}

#endif

static int chroma_init(sg_features *f) {
  const double rate = f->rate;
  unsigned dec = (unsigned)lround(rate / 12000.0);
  f->dec = dec < 1 ? 1 : dec;
  double rd = rate / f->dec;
  double fmax = f->cfg.chroma_fmax;
  if (fmax > 0.4 * rd)
    fmax = 0.4 * rd;
  if (fmax < f->cfg.chroma_fmin * 2)
    fmax = f->cfg.chroma_fmin * 2;
  /* Anti-alias FIR (Blackman-windowed sinc, cutoff at the decimated Nyquist): only the band
   * up to fmax must stay clean, so the stopband begins at rd - 1.25 fmax and the filter is
   * short (transition width ~5.5 / length for Blackman). */
  if (f->dec > 1) {
    double tw = (rd - 2.5 * fmax) / rate;
    if (tw < 0.02)
      tw = 0.02;
    size_t L = (size_t)ceil(5.5 / tw) | 1u;
    f->fir_len = L;
    f->fir = malloc(L * sizeof *f->fir);
    f->lin = calloc(L - 1 + FEAT_BLOCK, sizeof *f->lin);
    if (!f->fir || !f->lin)
      return -1;
    double fc = 0.5 / f->dec, sum = 0;
    for (size_t i = 0; i < L; ++i) {
      double m = (double)i - (double)(L - 1) / 2;
      double sinc = m == 0 ? 2 * fc : sin(2 * SG_PI * fc * m) / (SG_PI * m);
      double w = 0.42 - 0.5 * cos(2 * SG_PI * i / (L - 1)) + 0.08 * cos(4 * SG_PI * i / (L - 1));
      f->fir[i] = (float)(sinc * w);
      sum += sinc * w;
    }
    for (size_t i = 0; i < L; ++i)
      f->fir[i] = (float)(f->fir[i] / sum);
  }
  size_t n = 4096;
  while ((double)n / rd < 0.3) /* keep ~3 Hz bins or finer whatever the rate */
    n *= 2;
  if (stft_init(&f->ch, n, n / 4))
    return -1;
  f->ch_rate = rd / (double)(n / 4);
  double bin_hz = rd / (double)n;
  f->k0 = (size_t)ceil(f->cfg.chroma_fmin / bin_hz);
  f->k1 = (size_t)floor(fmax / bin_hz);
  f->ch_bins = f->k1 + HPSS_HALF + 1;
  f->ring = calloc(HPSS_LEN * f->ch_bins, sizeof *f->ring);
  f->fine_bin = malloc(f->ch_bins * sizeof *f->fine_bin);
  f->hm = calloc(f->ch_bins, sizeof *f->hm);
  f->med_mem = calloc(HPSS_LEN + 2, sizeof *f->med); /* replace17 reads one either side */
  f->med = f->med_mem ? f->med_mem + 1 : NULL;
  f->tsort = calloc(HPSS_LEN * f->ch_bins, sizeof *f->tsort); /* the ring starts silent */
  f->old = malloc(f->ch_bins * sizeof *f->old);
  if (!f->ring || !f->fine_bin || !f->hm || !f->med || !f->tsort || !f->old)
    return -1;
  /* Salience front end: bins from just under SAL_FMIN (minus 40 cents of tuning) so the
   * fundamentals of low bass notes take part; candidates up to fmax. */
  const double fgrid0 = SAL_FMIN * pow(2.0, -0.4 / 12);
  f->kb = (size_t)floor(0.9 * fgrid0 / bin_hz);
  if (f->kb < 1)
    f->kb = 1;
  if (f->kb > f->k0)
    f->kb = f->k0;
  long q0 = (long)ceil(5.0 * sg_hz_to_midi(fgrid0)),
       q1 = (long)floor(5.0 * sg_hz_to_midi(SAL_F0MAX < fmax ? SAL_F0MAX : fmax));
  f->ncand = q1 >= q0 ? (size_t)(q1 - q0 + 1) : 0;
  f->cand_fine = malloc((f->ncand + 1) * sizeof *f->cand_fine);
  f->cand_h = malloc((f->ncand + 1) * sizeof *f->cand_h);
  f->h_lo = malloc((f->ncand * SAL_HMAX + 1) * sizeof *f->h_lo);
  f->h_hi = malloc((f->ncand * SAL_HMAX + 1) * sizeof *f->h_hi);
  f->h_w = malloc((f->ncand * SAL_HMAX + 1) * sizeof *f->h_w);
  f->res = calloc(f->ch_bins, sizeof *f->res);
  f->sal = calloc(f->ncand + 1, sizeof *f->sal);
  f->taken = calloc(f->ncand + 1, 1);
  if (!f->cand_fine || !f->cand_h || !f->h_lo || !f->h_hi || !f->h_w || !f->res || !f->sal ||
      !f->taken)
    return -1;
  const double tol = pow(2.0, SAL_TOL / 12);
  for (size_t c = 0; c < f->ncand; ++c) {
    long q = q0 + (long)c;
    double f0 = sg_midi_to_hz(q / 5.0);
    f->cand_fine[c] = (short)(((q % 60) + 60) % 60);
    unsigned H = 0;
    for (unsigned h = 1; h <= SAL_HMAX; ++h) {
      double lo = h * f0 / tol / bin_hz, hi = h * f0 * tol / bin_hz;
      if (hi > (double)f->k1)
        break;
      size_t a = (size_t)floor(lo + 0.5), b = (size_t)floor(hi + 0.5);
      if (a < f->kb)
        a = f->kb;
      if (b < a)
        b = a;
      f->h_lo[c * SAL_HMAX + h - 1] = (unsigned short)a;
      f->h_hi[c * SAL_HMAX + h - 1] = (unsigned short)b;
      f->h_w[c * SAL_HMAX + h - 1] = (float)((f0 + SAL_ALPHA) / (h * f0 + SAL_BETA));
      H = h;
    }
    f->cand_h[c] = (unsigned char)H;
  }
  for (size_t k = 0; k < f->ch_bins; ++k) {
    int b = -1;
    if (k >= f->k0 && k <= f->k1) {
      long q = lround(5.0 * sg_hz_to_midi((double)k * bin_hz));
      b = (int)(((q % 60) + 60) % 60);
    }
    f->fine_bin[k] = (short)b;
  }
#if defined(SG_FEAT_AVX)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")) {
    if (f->ncand && sal_simd_init(f))
      return -1;
    f->simd = 1;
  }
#endif
  return 0;
}

void sg__features_portable(sg_features *f) {
  f->simd = 0;
  f->on.fft.simd = 0;
  f->ch.fft.simd = 0;
}

sg_status sg_features_create(sg_features **out, unsigned channels, unsigned rate,
                             const sg_features_config *cfg, sg_diag *d) {
  if (!out)
    return sg_diag_fail(d, SG_E_INVAL, "features: NULL argument");
  *out = NULL;
  if (channels < 1 || rate < 8000 || rate > 768000)
    return sg_diag_fail(d, SG_E_INVAL, "features: %u channels at %u Hz not supported", channels,
                        rate);
  sg_features *f = calloc(1, sizeof *f);
  if (!f)
    return sg_diag_fail(d, SG_E_NOMEM, "features: out of memory");
  if (cfg)
    f->cfg = *cfg;
  else
    sg_features_config_init(&f->cfg);
  spool_init(&f->env, 1, LOW_BLOCK);
  spool_init(&f->energy, 1, ENERGY_BLOCK);
  spool_init(&f->low, 1, LOW_BLOCK);
  spool_init(&f->fine, FINE_W, FINE_BLOCK);
  spool_init(&f->chroma, 12, CHROMA_BLOCK);
  spool_init(&f->bchroma, 12, CHROMA_BLOCK);
  if (f->cfg.low_cut_hz < 40)
    f->cfg.low_cut_hz = 40;
  if (f->cfg.low_cut_hz > 1000)
    f->cfg.low_cut_hz = 1000;
  if (!(f->cfg.chroma_fmin > 20))
    f->cfg.chroma_fmin = 60;
  if (!(f->cfg.chroma_fmax > f->cfg.chroma_fmin))
    f->cfg.chroma_fmax = 2000;
  f->channels = channels;
  f->rate = rate;
  if (f->cfg.flags & SG_FEAT_ONSET) {
    size_t n = pow2_near(2048.0 * rate / 48000.0);
    if (stft_init(&f->on, n, n / 8))
      goto nomem;
    f->on_bins = n / 2 + 1;
    f->low_bins = (size_t)ceil(f->cfg.low_cut_hz * (double)n / rate);
    f->on_mag = malloc(f->on_bins * sizeof *f->on_mag);
    f->band_lo = malloc((f->on_bins + 1) * sizeof *f->band_lo);
    if (!f->on_mag || !f->band_lo)
      goto nomem;
    /* Log-frequency bands (6 per octave, 30 Hz up to 0.95 Nyquist), each at least one bin
     * wide: kick, snare and hats then weigh by octaves, not by bin counts (after the
     * logarithmic filterbank of Boeck et al. 2012). */
    double bin_hz = (double)rate / (double)n, edge = 30.0;
    size_t k = (size_t)ceil(edge / bin_hz), kend = (size_t)floor(0.95 * rate / 2 / bin_hz);
    f->n_bands = 0;
    while (k < kend) {
      f->band_lo[f->n_bands++] = k;
      edge *= pow(2.0, 1.0 / 6.0);
      size_t next = (size_t)ceil(edge / bin_hz);
      k = next > k ? next : k + 1;
    }
    f->band_lo[f->n_bands] = kend;
    f->band = malloc(f->n_bands * sizeof *f->band);
    f->on_prev = malloc(f->n_bands * sizeof *f->on_prev);
    if (!f->band || !f->on_prev || !f->n_bands)
      goto nomem;
    f->env_rate = (double)rate / (double)(n / 8);
  }
  if (f->cfg.flags & SG_FEAT_ENERGY) {
    f->e_block = (size_t)lround(rate / 1000.0);
    f->e_rate = (double)rate / (double)f->e_block;
  }
  if ((f->cfg.flags & SG_FEAT_CHROMA) && chroma_init(f))
    goto nomem;
  *out = f;
  return SG_OK;
nomem:
  sg_features_free(f);
  return sg_diag_fail(d, SG_E_NOMEM, "features: out of memory");
}

/* sum[b] = the magnitudes of band b summed in bin order. Each sum is a chain of dependent
 * additions; eight bands at a time keep eight chains in flight in registers (each still in its
 * own order, so the same bits as one band after another): the upper bands, tens of bins each,
 * are most of the work, and four chains left the adder waiting on its latency. */
static void band_sums(const float *restrict mag, const size_t *restrict lo, size_t nb,
                      float *restrict sum) {
  size_t b = 0;
  for (; b + 8 <= nb; b += 8) {
    const float *x0 = mag + lo[b], *x1 = mag + lo[b + 1], *x2 = mag + lo[b + 2],
                *x3 = mag + lo[b + 3], *x4 = mag + lo[b + 4], *x5 = mag + lo[b + 5],
                *x6 = mag + lo[b + 6], *x7 = mag + lo[b + 7];
    size_t c = lo[b + 1] - lo[b];
    for (int j = 1; j < 8; ++j)
      c = lo[b + j + 1] - lo[b + j] < c ? lo[b + j + 1] - lo[b + j] : c;
    float m0 = 0, m1 = 0, m2 = 0, m3 = 0, m4 = 0, m5 = 0, m6 = 0, m7 = 0;
    for (size_t i = 0; i < c; ++i) {
      m0 += x0[i];
      m1 += x1[i];
      m2 += x2[i];
      m3 += x3[i];
      m4 += x4[i];
      m5 += x5[i];
      m6 += x6[i];
      m7 += x7[i];
    }
    const float part[8] = {m0, m1, m2, m3, m4, m5, m6, m7};
    for (int j = 0; j < 8; ++j) { /* the longer bands' rest, each in order */
      float v = part[j];
      for (size_t k = lo[b + j] + c; k < lo[b + j + 1]; ++k)
        v += mag[k];
      sum[b + j] = v;
    }
  }
  for (; b < nb; ++b) {
    float m = 0;
    for (size_t k = lo[b]; k < lo[b + 1]; ++k)
      m += mag[k];
    sum[b] = m;
  }
}

static sg_status onset_frame(sg_features *f) {
  stft_frame(&f->on, f->on_mag, f->on_bins);
  /* Full band: half-wave rectified rise of log band magnitudes (spectral flux). The band sums,
   * then their logs (independent calls), then the flux in band order. */
  band_sums(f->on_mag, f->band_lo, f->n_bands, f->band);
  for (size_t b = 0; b < f->n_bands; ++b)
    f->band[b] = logf(1.0f + LOG_GAMMA * f->band[b] / (float)(f->band_lo[b + 1] - f->band_lo[b]));
  double flux = 0;
  for (size_t b = 0; b < f->n_bands; ++b) {
    float l = f->band[b];
    float dlt = f->on_have_prev ? l - f->on_prev[b] : 0.0f;
    /* The rise, or +0 (whose addition leaves the non-negative sum as it is), chosen by a bit
     * mask: the sign of a band's rise is a coin toss for a branch predictor. Same bits. */
    uint32_t bits;
    memcpy(&bits, &dlt, sizeof bits);
    bits &= 0u - (uint32_t)(dlt > 0);
    memcpy(&dlt, &bits, sizeof dlt);
    flux += dlt;
    f->on_prev[b] = l;
  }
  /* Low band: rise of linear energy, so a kick outweighs the low tail of a snare. */
  float le = 0;
  for (size_t k = 1; k < f->low_bins && k < f->on_bins; ++k)
    le += f->on_mag[k] * f->on_mag[k];
  float lflux = f->on_have_prev && le > f->low_prev ? le - f->low_prev : 0.0f;
  f->low_prev = le;
  f->on_have_prev = 1;
  const float v = (float)(flux / (double)f->n_bands);
  sg_status st = spool_push(&f->env, &v);
  if (st == SG_OK)
    st = spool_push(&f->low, &lflux);
  return st;
}

/* Max of the residual over harmonic h (1-based) of candidate c; *at receives the bin. */
static inline float harm_peak(const sg_features *f, size_t c, unsigned h, size_t *at) {
  size_t i = c * SAL_HMAX + h - 1, a = f->h_lo[i], b = f->h_hi[i];
  float m = f->res[a];
  *at = a;
  for (size_t k = a + 1; k <= b; ++k)
    if (f->res[k] > m) {
      m = f->res[k];
      *at = k;
    }
  return m;
}

/* Weighted harmonic sum of candidate c over the residual, each partial at most SAL_KAPPA times
 * the strongest lower one. */
static float salience_of(const sg_features *f, size_t c) {
  const float *w = f->h_w + c * SAL_HMAX;
  float sum = 0, env = 0;
  size_t at;
  for (unsigned h = 1; h <= f->cand_h[c]; ++h) {
    float a = harm_peak(f, c, h, &at);
    if (h > 1 && a > SAL_KAPPA * env)
      a = SAL_KAPPA * env;
    if (a > env)
      env = a;
    sum += w[h - 1] * a;
  }
  return sum;
}

#if defined(SG_FEAT_AVX)
/* The residual's table of maxima (level l from level l - 1) after res changed. */
__attribute__((target("avx"))) static void sal_table(sg_features *f) {
  const size_t nb = f->ch_bins;
  for (size_t l = 1; l < f->nlev; ++l) {
    const size_t half = (size_t)1 << (l - 1);
    const float *a = f->tab + (l - 1) * nb;
    float *t = f->tab + l * nb;
    size_t k = f->kb;
    for (; k + 2 * half + 7 <= f->k1; k += 8)
      _mm256_storeu_ps(t + k, _mm256_max_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(a + k + half)));
    for (; k + 2 * half <= f->k1 + 1; ++k)
      t[k] = a[k] > a[k + half] ? a[k] : a[k + half];
  }
}

/* The salience of group g's eight candidates into sal[8 g, 8 g + 8): salience_of's operations
 * lane by lane in the same order (no FMA), so the same bits. A harmonic's peak (a maximum:
 * exact in any order) is the larger of its two table entries; past its harmonics a lane adds
 * 0 x its peak, +0, which leaves its non-negative sum as it is. */
__attribute__((target("avx"))) static void sal_group(const sg_features *f, size_t g, float *sal) {
  const int *i1 = f->g_i1 + g * SAL_HMAX * 8, *i2 = f->g_i2 + g * SAL_HMAX * 8;
  const float *w = f->g_w + g * SAL_HMAX * 8, *tb = f->tab;
  float pk[SAL_HMAX * 8];
  for (size_t o = 0; o < (size_t)f->g_h[g] * 8; ++o) { /* loads: faster than gathers here */
    const float u = tb[i1[o]], v = tb[i2[o]];
    pk[o] = u > v ? u : v;
  }
  const __m256 kappa = _mm256_set1_ps(SAL_KAPPA);
  __m256 sum = _mm256_setzero_ps(), env = _mm256_setzero_ps();
  for (unsigned h = 0; h < f->g_h[g]; ++h) {
    __m256 a = _mm256_loadu_ps(pk + 8 * h);
    if (h > 0) /* a > SAL_KAPPA env ? SAL_KAPPA env : a */
      a = _mm256_min_ps(_mm256_mul_ps(kappa, env), a);
    env = _mm256_max_ps(a, env); /* a > env ? a : env */
    sum = _mm256_add_ps(sum, _mm256_mul_ps(_mm256_loadu_ps(w + 8 * h), a));
  }
  _mm256_storeu_ps(sal + 8 * g, sum);
}

/* sal_scan with the groups: in the first pass every group; after it, the candidate with the
 * largest bound first (as sal_scan), then only the groups holding an untaken candidate whose
 * bound reaches its salience. Every lane of a group evaluated is exact (and a bound for the
 * next pass), so the pick is sal_scan's: the first of the largest salience. */
static void sal_scan_groups(sg_features *f, int it, size_t *best, float *bs) {
  const size_t nc = f->ncand;
  float floor_s = 0;
  sal_table(f);
  if (it > 0) {
    size_t top = nc;
    for (size_t ci = 0; ci < nc; ++ci)
      if (!f->taken[ci] && (top == nc || f->sal[ci] > f->sal[top]))
        top = ci;
    if (top < nc)
      floor_s = f->sal[top] = salience_of(f, top);
  }
  for (size_t g = 0; g < f->ngrp; ++g) {
    const size_t c0 = 8 * g, c1 = c0 + 8 < nc ? c0 + 8 : nc;
    int need = it == 0;
    for (size_t ci = c0; ci < c1 && !need; ++ci)
      need = !f->taken[ci] && f->sal[ci] >= floor_s;
    if (!need)
      continue;
    sal_group(f, g, f->sal);
    for (size_t ci = c0; ci < c1; ++ci)
      if (!f->taken[ci] && f->sal[ci] > *bs) {
        *bs = f->sal[ci];
        *best = ci;
      }
  }
}
#endif

/* Pass it of salience_fold without the AVX path: the first untaken candidate of the largest
 * salience into *best, its salience into *bs (both left as they are when none exceeds *bs).
 * Cancelling only scales residual bins by factors in [0, 1], and a salience is monotone in them
 * (rounding included), so the one computed in an earlier pass (sal) bounds it. After the first
 * pass, the candidate with the largest bound is evaluated first; any whose bound is below that
 * value can be neither the best nor tie with it, and is skipped: the pick is the one a full
 * scan makes, at a fraction of the cost. */
static void sal_scan(sg_features *f, int it, size_t *best, float *bs) {
  const size_t nc = f->ncand;
  float floor_s = 0;
  if (it > 0) {
    size_t top = nc;
    for (size_t ci = 0; ci < nc; ++ci)
      if (!f->taken[ci] && (top == nc || f->sal[ci] > f->sal[top]))
        top = ci;
    if (top < nc)
      floor_s = f->sal[top] = salience_of(f, top);
  }
  for (size_t ci = 0; ci < nc; ++ci) {
    if (f->taken[ci] || (it > 0 && f->sal[ci] < floor_s))
      continue;
    float sum = salience_of(f, ci);
    f->sal[ci] = sum;
    if (sum > *bs) {
      *bs = sum;
      *best = ci;
    }
  }
}

/* Folds the harmonic spectrum hm into 1/5-semitone bins c[60] by fundamentals: pick the
 * candidate with the largest salience (weighted harmonic sum), give its fine bin the
 * magnitudes of its partials, cancel them from the residual, repeat (Klapuri 2006). Partial
 * amplitudes are limited by their neighbours' (spectral smoothness, Klapuri 2003), so a partial
 * shared with another note is only partly taken. What no note explains is folded at SAL_RESID. */
static void salience_fold(sg_features *f, float c[60], float bass[60]) {
  const size_t nc = f->ncand;
  memcpy(f->res + f->kb, f->hm + f->kb, (f->k1 + 1 - f->kb) * sizeof *f->res);
  memset(f->taken, 0, nc);
  float first = 0;
  for (int it = 0; it < SAL_ITER; ++it) {
    size_t best = nc;
    float bs = 0;
#if defined(SG_FEAT_AVX)
    if (f->simd && f->ngrp)
      sal_scan_groups(f, it, &best, &bs);
    else
#endif
      sal_scan(f, it, &best, &bs);
    if (best == nc || !(bs > 1e-9f) || bs < SAL_STOP * first)
      break;
    if (it == 0)
      first = bs;
    for (size_t j = best >= 1 ? best - 1 : 0; j <= best + 1 && j < nc; ++j)
      f->taken[j] = 1;
    const unsigned H = f->cand_h[best];
    float amp[SAL_HMAX + 2];
    size_t pos[SAL_HMAX + 2];
    float env = 0, raw[SAL_HMAX + 2];
    for (unsigned h = 1; h <= H; ++h) {
      amp[h] = raw[h] = harm_peak(f, best, h, &pos[h]);
      if (h > 1 && amp[h] > SAL_KAPPA * env)
        amp[h] = SAL_KAPPA * env;
      if (amp[h] > env)
        env = amp[h];
    }
    amp[0] = 0;
    amp[H + 1] = 0;
    float got = 0;
    for (unsigned h = 1; h <= H; ++h) {
      float a = amp[h];
      if (h > 1) {
        /* Spectral smoothness: at most the mean of the adjacent harmonics, or the smaller of
         * those two away (odd-harmonic spectra); past the last harmonic, mirrored. */
        float up1 = h + 1 <= H ? amp[h + 1] : amp[h - 1];
        float nb = sqrtf(amp[h - 1] * up1);
        if (h >= 3) {
          float up2 = h + 2 <= H ? amp[h + 2] : amp[h - 2];
          float m2 = amp[h - 2] < up2 ? amp[h - 2] : up2;
          if (m2 > nb)
            nb = m2;
        }
        if (a > nb)
          a = nb;
      }
      if (!(raw[h] > 0) || !(a > 0))
        continue;
      got += a;
      /* Cancel the partial's main lobe (Hann: +-2 bins) in proportion. */
      float keep = 1.0f - a / raw[h];
      size_t k = pos[h];
      for (size_t j = k >= f->kb + 2 ? k - 2 : f->kb; j <= k + 2 && j <= f->k1; ++j)
        f->res[j] *= keep;
    }
    c[f->cand_fine[best]] += got;
    bass[f->cand_fine[best]] += got;
  }
  for (size_t k = f->k0; k <= f->k1; ++k)
    if (f->fine_bin[k] >= 0)
      c[f->fine_bin[k]] += f->res[k];
}

/* In the sorted a[0..n), replaces one element equal to out by in, keeping a sorted. Where out
 * sits and where in goes are counted (compares without branches: the scans' exits were a
 * coin toss for the branch predictor), then the elements between move by one. The values are
 * finite magnitudes, so the sorted result is the one the scans gave, to the bit. */
static void sorted_replace(float *a, size_t n, float out, float in) {
  size_t lt_out = 0, lt_in = 0, le_in = 0;
  for (size_t i = 0; i < n; ++i) {
    lt_out += a[i] < out;
    lt_in += a[i] < in;
    le_in += a[i] <= in;
  }
  size_t p = lt_out < n ? lt_out : n - 1; /* the first element equal to out */
  if (in > out) { /* in goes after everything below it but out: a[p+1 .. lt_in-1] move down */
    size_t q = lt_in - 1;
    memmove(a + p, a + p + 1, (q - p) * sizeof *a);
    a[q] = in;
  } else { /* in goes after everything at or below it before p: those above it move up */
    size_t r = le_in < p ? le_in : p;
    memmove(a + r + 1, a + r, (p - r) * sizeof *a);
    a[r] = in;
  }
}

#if defined(SG_FEAT_AVX)
/* sorted_replace of HPSS_LEN (17) values with AVX: the same counts, then every element written
 * at once from a, a shifted by one either way, or in (a[-1] and a[17] are read, never used: the
 * caller's memory holds them). The same array as the scalar moves. */
__attribute__((target("avx2,popcnt"))) static void replace17_avx(float *a, float out, float in) {
  const __m256 a0 = _mm256_loadu_ps(a), a1 = _mm256_loadu_ps(a + 8);
  const __m256 vo = _mm256_set1_ps(out), vi = _mm256_set1_ps(in);
#define CNT(cmp, v)                                                                                \
  ((unsigned)__builtin_popcount((unsigned)_mm256_movemask_ps(_mm256_cmp_ps(a0, v, cmp))) +         \
   (unsigned)__builtin_popcount((unsigned)_mm256_movemask_ps(_mm256_cmp_ps(a1, v, cmp))))
  const unsigned lt_out = CNT(_CMP_LT_OQ, vo) + (a[16] < out);
  const unsigned lt_in = CNT(_CMP_LT_OQ, vi) + (a[16] < in);
  const unsigned le_in = CNT(_CMP_LE_OQ, vi) + (a[16] <= in);
#undef CNT
  const unsigned p = lt_out < HPSS_LEN ? lt_out : HPSS_LEN - 1;
  /* in lands at pos; [p, pos) take their right neighbour, (pos, p] their left one */
  const unsigned pos = in > out ? lt_in - 1 : (le_in < p ? le_in : p);
  const __m256 vp = _mm256_set1_ps((float)p), vpos = _mm256_set1_ps((float)pos);
  const __m256 idx0 = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7), eight = _mm256_set1_ps(8);
  __m256 r[2];
  for (int h = 0; h < 2; ++h) {
    const __m256 i = h ? _mm256_add_ps(idx0, eight) : idx0;
    const __m256 left =
        _mm256_and_ps(_mm256_cmp_ps(i, vp, _CMP_GE_OQ), _mm256_cmp_ps(i, vpos, _CMP_LT_OQ));
    const __m256 right =
        _mm256_and_ps(_mm256_cmp_ps(i, vpos, _CMP_GT_OQ), _mm256_cmp_ps(i, vp, _CMP_LE_OQ));
    __m256 v = h ? a1 : a0;
    v = _mm256_blendv_ps(v, _mm256_loadu_ps(a + 8 * h + 1), left);
    v = _mm256_blendv_ps(v, _mm256_loadu_ps(a + 8 * h - 1), right);
    r[h] = _mm256_blendv_ps(v, vi, _mm256_cmp_ps(i, vpos, _CMP_EQ_OQ));
  }
  const float last = pos == 16 ? in : pos < 16 && p == 16 ? a[15] : a[16];
  _mm256_storeu_ps(a, r[0]);
  _mm256_storeu_ps(a + 8, r[1]);
  a[16] = last;
}
#endif

/* Inserts v into the sorted a[0..n) (room for n + 1). */
static void sorted_insert(float *a, size_t n, float v) {
  size_t i = n;
  for (; i > 0 && a[i - 1] > v; --i)
    a[i] = a[i - 1];
  a[i] = v;
}

/* sorted_replace on HPSS_LEN values (a[-1] and a[HPSS_LEN] readable). */
static inline void replace17(const sg_features *f, float *a, float out, float in) {
#if defined(SG_FEAT_AVX)
  if (f->simd) {
    replace17_avx(a, out, in);
    return;
  }
#endif
  (void)f;
  sorted_replace(a, HPSS_LEN, out, in);
}

/* The ring slot was f->old and now holds a new frame: each bin's sorted time window follows. */
static void ring_sorted_update(sg_features *f, const float *slot) {
  for (size_t k = f->kb; k <= f->k1; ++k)
    if (f->old[k] != slot[k])
      replace17(f, f->tsort + k * HPSS_LEN, f->old[k], slot[k]);
}

/* HPSS on the centre frame of the ring, then fold the harmonic magnitudes into chroma. Both
 * median filters slide: each bin keeps its HPSS_LEN frames sorted (one value replaced per
 * frame) and the frequency window is kept sorted along the bins, so a median is a lookup; the
 * values are exactly those of a selection on the unsorted windows. */
static sg_status chroma_emit(sg_features *f) {
  const size_t nb = f->ch_bins;
  size_t centre = (f->ring_count - 1 - HPSS_HALF) % HPSS_LEN;
  const float *x = f->ring + centre * nb;
  float c[60] = {0}, bass[60] = {0};
  /* The frequency window of bin kb: [kb - HPSS_HALF, kb + HPSS_HALF], cut at bin 0. */
  size_t cnt = 0;
  for (size_t j = f->kb >= HPSS_HALF ? f->kb - HPSS_HALF : 0; j <= f->kb + HPSS_HALF; ++j)
    sorted_insert(f->med, cnt++, x[j]);
  for (size_t k = f->kb; k <= f->k1; ++k) {
    if (k > f->kb) { /* slide by one bin: x[k + HPSS_HALF] comes in, x[k - HPSS_HALF - 1] leaves */
      if (k >= HPSS_HALF + 1)
        replace17(f, f->med, x[k - HPSS_HALF - 1], x[k + HPSS_HALF]); /* cnt is 17 */
      else
        sorted_insert(f->med, cnt++, x[k + HPSS_HALF]);
    }
    float h = f->tsort[k * HPSS_LEN + HPSS_LEN / 2];
    float p = f->med[cnt / 2];
    float h2 = h * h, p2 = p * p;
    float mask = h2 + p2 > 0 ? h2 / (h2 + p2) : 0.0f; /* soft Wiener mask, p = 2 */
    f->hm[k] = mask * x[k];
  }
  salience_fold(f, c, bass);
  /* Tuning evidence: each harmonic spectral peak above 150 Hz (where a bin is under a quarter
   * of a semitone), its frequency by parabolic interpolation, its deviation from the nearest
   * equal-tempered pitch as an angle on the semitone circle, weighted by its magnitude. */
  const double bin_hz = f->rate / (double)f->dec / (double)f->ch.n;
  for (size_t k = f->k0 + 1; k < f->k1; ++k) {
    float v = f->hm[k];
    if (!(v > f->hm[k - 1] && v >= f->hm[k + 1]) || (double)k * bin_hz < 150)
      continue;
    double hz = ((double)k + sg__parabolic(f->hm[k - 1], v, f->hm[k + 1])) * bin_hz;
    double dev = sg_hz_to_midi(hz);
    dev -= floor(dev + 0.5);
    f->tune_s += v * sin(2 * SG_PI * dev);
    f->tune_c += v * cos(2 * SG_PI * dev);
  }
  return fine_push(&f->fine, c, bass);
}

static sg_status chroma_frame(sg_features *f) {
  float *slot = f->ring + (f->ring_count % HPSS_LEN) * f->ch_bins;
  memcpy(f->old, slot, f->ch_bins * sizeof *slot);
  stft_frame(&f->ch, slot, f->ch_bins);
  ring_sorted_update(f, slot);
  f->ring_count++;
  if (f->ring_count > HPSS_HALF)
    return chroma_emit(f);
  return SG_OK;
}

/* Copies x[0..n) into STFT s in runs up to each full frame, transforming it with frame(f). */
static sg_status stft_feed(sg_features *f, stft *s, const float *x, size_t n,
                           sg_status (*frame)(sg_features *)) {
  sg_status st = SG_OK;
  for (size_t i = 0; i < n && st == SG_OK;) {
    size_t k = s->n - s->fill;
    if (k > n - i)
      k = n - i;
    memcpy(s->at, x + i, k * sizeof *x);
    size_t z = 0; /* trailing zeros of the run */
    while (z < k && x[i + k - 1 - z] == 0.0f)
      ++z;
    s->zrun = z == k ? s->zrun + k : z;
    s->at += k;
    s->fill += k;
    i += k;
    if (s->fill == s->n)
      st = frame(f);
  }
  return st;
}

/* Decimates x[0..n) into the chroma STFT: a block at a time, the FIR evaluated only at the
 * kept samples (every dec-th input sample, over the fir_len samples ending there, oldest first,
 * so each output is the sum the per-sample decimator took). */
static sg_status chroma_block(sg_features *f, const float *x, size_t n) {
  sg_status st = SG_OK;
  if (f->dec == 1) {
    return stft_feed(f, &f->ch, x, n, chroma_frame);
  }
  const size_t L = f->fir_len, H = L - 1;
  while (n && st == SG_OK) {
    size_t m = n < FEAT_BLOCK ? n : FEAT_BLOCK;
    memcpy(f->lin + H, x, m * sizeof *x);
    /* Input sample j of the block is lin[H + j]; it completes a phase when
     * (dec_phase + j + 1) % dec == 0, and its window is lin[j, j + L). */
    const size_t D = f->dec;
    size_t j = D - 1 - f->dec_phase;
    while (j < m && st == SG_OK) {
      /* Up to four outputs at once, each summed in the same order as alone (independent
       * accumulators, not a reassociated sum), and no further than the next STFT frame. */
      size_t room = f->ch.n - f->ch.fill, k = (m - 1 - j) / D + 1;
      if (k > 4)
        k = 4;
      if (k > room)
        k = room;
      const float *h = f->lin + j;
      float acc[4] = {0, 0, 0, 0};
      if (k == 4) {
        for (size_t i = 0; i < L; ++i) {
          const float c = f->fir[i];
          acc[0] += c * h[i];
          acc[1] += c * h[D + i];
          acc[2] += c * h[2 * D + i];
          acc[3] += c * h[3 * D + i];
        }
      } else {
        for (size_t o = 0; o < k; ++o)
          for (size_t i = 0; i < L; ++i)
            acc[o] += f->fir[i] * h[o * D + i];
      }
      memcpy(f->ch.at, acc, k * sizeof *acc);
      f->ch.at += k;
      f->ch.fill += k;
      j += k * D;
      if (f->ch.fill == f->ch.n)
        st = chroma_frame(f);
    }
    f->dec_phase = (f->dec_phase + m) % f->dec;
    memmove(f->lin, f->lin + m, H * sizeof *f->lin);
    x += m;
    n -= m;
  }
  return st;
}

/* Each feature consumes the block in runs (memcpy up to the next STFT frame), not per sample. */
static sg_status process_mono(sg_features *f, const float *x, size_t n) {
  sg_status st = SG_OK;
  if (f->cfg.flags & SG_FEAT_ONSET) {
    st = stft_feed(f, &f->on, x, n, onset_frame);
  }
  if ((f->cfg.flags & SG_FEAT_ENERGY) && st == SG_OK) {
    for (size_t i = 0; i < n && st == SG_OK;) {
      size_t m = f->e_block - f->e_fill; /* up to the end of the current ~1 ms block */
      if (m > n - i)
        m = n - i;
      double acc = f->e_acc;
      for (size_t j = i; j < i + m; ++j)
        acc += (double)x[j] * x[j];
      f->e_acc = acc;
      f->e_fill += m;
      i += m;
      if (f->e_fill == f->e_block) {
        const float v = (float)(f->e_acc / (double)f->e_block);
        st = spool_push(&f->energy, &v);
        f->e_acc = 0;
        f->e_fill = 0;
      }
    }
  }
  if ((f->cfg.flags & SG_FEAT_CHROMA) && st == SG_OK)
    st = chroma_block(f, x, n);
  return st;
}

sg_status sg_features_add(sg_features *f, const float *x, size_t frames) {
  if (!f || (!x && frames) || f->finished)
    return SG_E_INVAL;
  const unsigned C = f->channels;
  while (frames) {
    size_t k = frames < FEAT_BLOCK ? frames : FEAT_BLOCK;
    if (f->mono_cap < k) {
      free(f->mono);
      f->mono = malloc(FEAT_BLOCK * sizeof *f->mono);
      if (!f->mono)
        return SG_E_NOMEM;
      f->mono_cap = FEAT_BLOCK;
    }
    /* Non-finite samples read as 0 and absurd ones are clamped, so no feature overflows. The
     * plain mix is taken first (no branch per sample); only a block with a sample outside
     * +-1e4 (NaN and infinities included) is mixed again with the clamp, which gives the same
     * sums as clamping every sample. */
    int plain = 1;
    if (C == 1) { /* 0 + v as the general loop sums (a -0 reads +0), without its inner loop */
      for (size_t i = 0; i < k; ++i) {
        float v = x[i];
        plain &= fabsf(v) <= 1e4f;
        f->mono[i] = 0.0f + v;
      }
    } else if (C == 2) {
      for (size_t i = 0; i < k; ++i) {
        float a = x[2 * i], b = x[2 * i + 1];
        plain &= (fabsf(a) <= 1e4f) & (fabsf(b) <= 1e4f);
        f->mono[i] = (a + b) / 2.0f;
      }
    } else {
      for (size_t i = 0; i < k; ++i) {
        float s = 0;
        for (unsigned c = 0; c < C; ++c) {
          float v = x[i * C + c];
          plain &= fabsf(v) <= 1e4f;
          s += v;
        }
        f->mono[i] = s / (float)C;
      }
    }
    for (size_t i = 0; i < k && !plain; ++i) {
      float s = 0;
      for (unsigned c = 0; c < C; ++c) {
        float v = x[i * C + c];
        s += isfinite(v) ? (v > 1e4f ? 1e4f : v < -1e4f ? -1e4f : v) : 0.0f;
      }
      f->mono[i] = s / (float)C;
    }
    sg_status st = process_mono(f, f->mono, k);
    if (st != SG_OK)
      return st;
    f->frames += (int64_t)k;
    x += k * C;
    frames -= k;
  }
  return SG_OK;
}

sg_status sg_features_finish(sg_features *f) {
  if (!f)
    return SG_E_INVAL;
  if (f->finished)
    return SG_OK;
  sg_status st = SG_OK;
  if (f->cfg.flags & SG_FEAT_ONSET) {
    /* Frames centred up to the last input sample: pad half a frame of zeros. */
    size_t pad = f->on.n / 2;
    for (size_t i = 0; i < pad && st == SG_OK; ++i) {
      *f->on.at++ = 0.0f;
      f->on.fill++;
      f->on.zrun++;
      if (f->on.fill == f->on.n)
        st = onset_frame(f);
    }
  }
  if ((f->cfg.flags & SG_FEAT_ENERGY) && f->e_fill && st == SG_OK) {
    const float v = (float)(f->e_acc / (double)f->e_fill);
    st = spool_push(&f->energy, &v);
    f->e_fill = 0;
  }
  if (st == SG_OK && ((f->energy.file && fflush(f->energy.file) != 0) ||
                      (f->low.file && fflush(f->low.file) != 0)))
    st = SG_E_IO;
  if ((f->cfg.flags & SG_FEAT_CHROMA) && st == SG_OK) {
    size_t pad = f->ch.n / 2 * f->dec + f->fir_len;
    int64_t want = (int64_t)ceil((double)f->frames / f->dec / (double)f->ch.hop) + 1;
    static const float zeros[1024];
    for (size_t i = 0; i < pad && st == SG_OK; i += 1024)
      st = chroma_block(f, zeros, pad - i < 1024 ? pad - i : 1024);
    /* Flush the HPSS delay line with silent frames. */
    for (size_t i = 0; i < HPSS_HALF && st == SG_OK; ++i) {
      float *slot = f->ring + (f->ring_count % HPSS_LEN) * f->ch_bins;
      memcpy(f->old, slot, f->ch_bins * sizeof *slot);
      memset(slot, 0, f->ch_bins * sizeof *slot);
      ring_sorted_update(f, slot);
      f->ring_count++;
      st = chroma_emit(f);
    }
    /* Fold the 1/5-semitone bins into pitch classes around the measured tuning. */
    f->tuning = (f->tune_s != 0 || f->tune_c != 0) ? atan2(f->tune_s, f->tune_c) / (2 * SG_PI) : 0;
    int pc_of[60];
    for (int b = 0; b < 60; ++b)
      pc_of[b] = (((int)floor(b / 5.0 - f->tuning + 0.5)) % 12 + 12) % 12;
    spool *fs = &f->fine;
    if (st == SG_OK)
      st = spool_seal(fs); /* a spilled spool is read back in order into its block */
    size_t nf = spool_count(fs);
    if (st == SG_OK && (int64_t)nf > want)
      nf = (size_t)want;
    for (size_t j = 0; j < nf && st == SG_OK;) {
      size_t k = nf - j;
      if (fs->file) {
        if (k > fs->cap)
          k = fs->cap;
        if ((st = spool_read(fs, j, k, fs->v)) != SG_OK)
          break;
      }
      for (size_t i = 0; i < k && st == SG_OK; ++i) {
        const float *fr = fs->v + i * FINE_W;
        float c[12] = {0}, bc[12] = {0};
        for (int b = 0; b < 60; ++b) {
          c[pc_of[b]] += fr[b];
          bc[pc_of[b]] += fr[60 + b];
        }
        st = spool_push(&f->chroma, c);
        if (st == SG_OK)
          st = spool_push(&f->bchroma, bc);
      }
      j += k;
    }
    spool_free(fs);
    if (st == SG_OK && ((f->chroma.file && fflush(f->chroma.file) != 0) ||
                        (f->bchroma.file && fflush(f->bchroma.file) != 0)))
      st = SG_E_IO;
  }
  f->finished = 1;
  return st;
}

sg_status sg_features_from_mono(sg_features **out, const float *x, size_t n, unsigned rate,
                                const sg_features_config *cfg, sg_diag *d) {
  sg_status st = sg_features_create(out, 1, rate, cfg, d);
  if (st != SG_OK)
    return st;
  st = sg_features_add(*out, x, n);
  if (st == SG_OK)
    st = sg_features_finish(*out);
  if (st != SG_OK) {
    sg_features_free(*out);
    *out = NULL;
    return sg_diag_fail(d, st, "features: analysis failed");
  }
  return SG_OK;
}

sg_status sg_features_from_file(sg_features **out, const char *path, const sg_features_config *cfg,
                                sg_diag *d) {
  if (!out || !path)
    return sg_diag_fail(d, SG_E_INVAL, "features: NULL argument");
  return sg_analysis_file_pass(path, 0, NULL, NULL, cfg, out, d);
}

/* Copies [t0, t1) s of a one-float spool into dst, a window at a time. */
static sg_status slice_spool(const spool *src, double rate, double t0, double t1, spool *dst) {
  size_t a = (size_t)(t0 > 0 ? floor(t0 * rate) : 0), b = (size_t)(t1 > 0 ? ceil(t1 * rate) : 0);
  if (b > spool_count(src))
    b = spool_count(src);
  float buf[1024];
  sg_status st = SG_OK;
  for (size_t j = a; j < b && st == SG_OK;) {
    size_t k = b - j < 1024 ? b - j : 1024;
    st = spool_read(src, j, k, buf);
    for (size_t i = 0; i < k && st == SG_OK; ++i)
      st = spool_push(dst, &buf[i]);
    j += k;
  }
  if (st == SG_OK && dst->file && fflush(dst->file) != 0)
    st = SG_E_IO;
  return st;
}

sg_status sg_features_slice(const sg_features *f, double t0, double t1, sg_features **out) {
  if (!f || !out)
    return SG_E_INVAL;
  *out = NULL;
  sg_features *g = calloc(1, sizeof *g);
  if (!g)
    return SG_E_NOMEM;
  g->cfg = f->cfg;
  g->channels = f->channels;
  g->rate = f->rate;
  g->finished = 1;
  g->env_rate = f->env_rate;
  g->e_rate = f->e_rate;
  g->frames = (int64_t)((t1 - t0) * f->rate);
  spool_init(&g->env, 1, LOW_BLOCK);
  spool_init(&g->energy, 1, ENERGY_BLOCK);
  spool_init(&g->low, 1, LOW_BLOCK);
  spool_init(&g->fine, FINE_W, FINE_BLOCK);
  spool_init(&g->chroma, 12, CHROMA_BLOCK);
  spool_init(&g->bchroma, 12, CHROMA_BLOCK);
  sg_status st = slice_spool(&f->env, f->env_rate, t0, t1, &g->env);
  if (st == SG_OK)
    st = slice_spool(&f->low, f->env_rate, t0, t1, &g->low);
  if (st == SG_OK)
    st = slice_spool(&f->energy, f->e_rate, t0, t1, &g->energy);
  if (st != SG_OK) {
    sg_features_free(g);
    return st;
  }
  *out = g;
  return SG_OK;
}

sg_status sg_features_from_onset(sg_features **out, unsigned rate, int64_t frames, const float *env,
                                 size_t n, double frame_rate) {
  if (!out || (n && !env) || rate < 8000 || frames < 0 || !(frame_rate > 0))
    return SG_E_INVAL;
  *out = NULL;
  sg_features *g = calloc(1, sizeof *g);
  if (!g)
    return SG_E_NOMEM;
  sg_features_config_init(&g->cfg);
  g->cfg.flags = SG_FEAT_ONSET;
  g->channels = 1;
  g->rate = rate;
  g->finished = 1;
  g->env_rate = frame_rate;
  g->frames = frames;
  spool_init(&g->env, 1, LOW_BLOCK);
  spool_init(&g->energy, 1, ENERGY_BLOCK);
  spool_init(&g->low, 1, LOW_BLOCK);
  spool_init(&g->fine, FINE_W, FINE_BLOCK);
  spool_init(&g->chroma, 12, CHROMA_BLOCK);
  spool_init(&g->bchroma, 12, CHROMA_BLOCK);
  sg_status st = sg_features_onset_append(g, env, n);
  if (st != SG_OK) {
    sg_features_free(g);
    return st;
  }
  *out = g;
  return SG_OK;
}

sg_status sg_features_onset_append(sg_features *f, const float *env, size_t n) {
  if (!f || (n && !env) || f->cfg.flags != SG_FEAT_ONSET || f->on.n)
    return SG_E_INVAL; /* only features made by sg_features_from_onset */
  sg_status st = SG_OK;
  for (size_t i = 0; i < n && st == SG_OK; ++i)
    st = spool_push(&f->env, env + i);
  return st;
}

/* The whole of a spool (*n records): its memory, or (spooled) a copy loaded once and again after
 * more input. The features are logically unchanged; the copy is a cache. */
static const float *spool_all(const spool *sp, float **cache, size_t *cache_n, size_t *n) {
  const size_t ne = spool_count(sp);
  if (n)
    *n = ne;
  if (!sp->file)
    return sp->v;
  if (!*cache || *cache_n != ne) {
    float *all = realloc(*cache, (ne ? ne * sp->w : 1) * sizeof *all);
    if (!all || spool_read(sp, 0, ne, all) != SG_OK) {
      free(all ? all : *cache);
      *cache = NULL;
      *cache_n = 0;
      if (n)
        *n = 0;
      return NULL;
    }
    *cache = all;
    *cache_n = ne;
  }
  return *cache;
}

const float *sg_features_onset_env(const sg_features *f, size_t *n, double *frame_rate) {
  if (frame_rate)
    *frame_rate = f ? f->env_rate : 0;
  if (!f) {
    if (n)
      *n = 0;
    return NULL;
  }
  sg_features *m = (sg_features *)f;
  return spool_all(&f->env, &m->env_all, &m->env_all_n, n);
}

size_t sg_features_onset_frames(const sg_features *f, double *frame_rate) {
  if (frame_rate)
    *frame_rate = f ? f->env_rate : 0;
  return f ? spool_count(&f->env) : 0;
}

sg_status sg_features_onset_read(const sg_features *f, size_t start, size_t n, float *out) {
  if (!f || (!out && n))
    return SG_E_INVAL;
  return n ? spool_read(&f->env, start, n, out) : SG_OK;
}

const float *sg_features_low_env(const sg_features *f, size_t *n, double *frame_rate) {
  if (frame_rate)
    *frame_rate = f ? f->env_rate : 0;
  if (!f) {
    if (n)
      *n = 0;
    return NULL;
  }
  sg_features *m = (sg_features *)f;
  return spool_all(&f->low, &m->low_all, &m->low_all_n, n);
}

size_t sg_features_low_frames(const sg_features *f) { return f ? spool_count(&f->low) : 0; }

sg_status sg_features_low_read(const sg_features *f, size_t start, size_t n, float *out) {
  if (!f || (!out && n))
    return SG_E_INVAL;
  return n ? spool_read(&f->low, start, n, out) : SG_OK;
}

const float *sg_features_energy(const sg_features *f, size_t *n, double *frame_rate) {
  if (frame_rate)
    *frame_rate = f ? f->e_rate : 0;
  if (!f) {
    if (n)
      *n = 0;
    return NULL;
  }
  sg_features *m = (sg_features *)f;
  return spool_all(&f->energy, &m->energy_all, &m->energy_all_n, n);
}

size_t sg_features_energy_frames(const sg_features *f, double *frame_rate) {
  if (frame_rate)
    *frame_rate = f ? f->e_rate : 0;
  return f ? spool_count(&f->energy) : 0;
}

sg_status sg_features_energy_read(const sg_features *f, size_t start, size_t n, float *out) {
  if (!f || (!out && n))
    return SG_E_INVAL;
  return n ? spool_read(&f->energy, start, n, out) : SG_OK;
}

const float *sg_features_chroma(const sg_features *f, size_t *n, double *frame_rate) {
  if (frame_rate)
    *frame_rate = f ? f->ch_rate : 0;
  if (!f) {
    if (n)
      *n = 0;
    return NULL;
  }
  sg_features *m = (sg_features *)f;
  return spool_all(&f->chroma, &m->chroma_all, &m->chroma_all_n, n);
}

const float *sg_features_bass_chroma(const sg_features *f, size_t *n, double *frame_rate) {
  if (frame_rate)
    *frame_rate = f ? f->ch_rate : 0;
  if (!f) {
    if (n)
      *n = 0;
    return NULL;
  }
  sg_features *m = (sg_features *)f;
  return spool_all(&f->bchroma, &m->bchroma_all, &m->bchroma_all_n, n);
}

size_t sg_features_chroma_frames(const sg_features *f, int bass, double *frame_rate) {
  if (frame_rate)
    *frame_rate = f ? f->ch_rate : 0;
  return f ? spool_count(bass ? &f->bchroma : &f->chroma) : 0;
}

sg_status sg_features_chroma_read(const sg_features *f, int bass, size_t start, size_t n,
                                  float *out) {
  if (!f || (!out && n))
    return SG_E_INVAL;
  return n ? spool_read(bass ? &f->bchroma : &f->chroma, start, n, out) : SG_OK;
}

double sg_features_tuning_cents(const sg_features *f) { return f ? 100.0 * f->tuning : 0; }

unsigned sg_features_rate(const sg_features *f) { return f ? f->rate : 0; }
int64_t sg_features_frames(const sg_features *f) { return f ? f->frames : 0; }
double sg_features_duration(const sg_features *f) {
  return f ? (double)f->frames / (double)f->rate : 0;
}
