/* Streaming feature extraction: onset envelopes (log spectral flux), ~1 ms energy envelope and
 * HPSS chroma. See include/stemgate/analysis.h for the methods and their references. */
#include "analysis_internal.h"
#include "stemgate/io.h"

#include <kiss_fftr.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HPSS_LEN                                                                                   \
  17 /* median filter length (frames in time, bins in frequency), Fitzgerald 2010                  \
      */
#define HPSS_HALF (HPSS_LEN / 2)
#define LOG_GAMMA 1000.0f /* log(1 + gamma * |X|): compresses ~60 dB into a useful range */

/* One STFT front end: a linear buffer holding the current frame, filled hop samples at a time. */
typedef struct stft {
  size_t n, hop, fill;
  float *buf, *win, *tmp;
  kiss_fftr_cfg cfg;
  kiss_fft_cpx *spec;
  float norm; /* 2 / sum(window): a full-scale sine reads 1.0 */
} stft;

static int stft_init(stft *s, size_t n, size_t hop) {
  memset(s, 0, sizeof *s);
  s->n = n;
  s->hop = hop;
  s->fill = n / 2; /* frame m is centred on input sample m * hop */
  s->buf = calloc(n, sizeof *s->buf);
  s->win = malloc(n * sizeof *s->win);
  s->tmp = malloc(n * sizeof *s->tmp);
  s->spec = malloc((n / 2 + 1) * sizeof *s->spec);
  s->cfg = kiss_fftr_alloc((int)n, 0, NULL, NULL);
  if (!s->buf || !s->win || !s->tmp || !s->spec || !s->cfg)
    return -1;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    s->win[i] = (float)(0.5 - 0.5 * cos(2 * SG_PI * (double)i / (double)n)); /* periodic Hann */
    sum += s->win[i];
  }
  s->norm = (float)(2.0 / sum);
  return 0;
}

static void stft_free(stft *s) {
  free(s->buf);
  free(s->win);
  free(s->tmp);
  free(s->spec);
  kiss_fftr_free(s->cfg);
}

/* Transforms the current frame; leaves magnitudes of bins [0, nb) in mag and slides by hop. */
static void stft_frame(stft *s, float *mag, size_t nb) {
  for (size_t i = 0; i < s->n; ++i)
    s->tmp[i] = s->buf[i] * s->win[i];
  kiss_fftr(s->cfg, s->tmp, s->spec);
  for (size_t k = 0; k < nb; ++k)
    mag[k] = s->norm * sqrtf(s->spec[k].r * s->spec[k].r + s->spec[k].i * s->spec[k].i);
  memmove(s->buf, s->buf + s->hop, (s->n - s->hop) * sizeof *s->buf);
  s->fill = s->n - s->hop;
}

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
  sg__farr env, low;
  double env_rate;
  /* energy */
  size_t e_block, e_fill;
  double e_acc;
  sg__farr energy;
  double e_rate;
  /* chroma: decimator then STFT then HPSS */
  unsigned dec; /* decimation factor */
  size_t fir_len, dec_phase, hist_pos;
  float *fir, *hist; /* hist holds 2 * fir_len for a contiguous window */
  stft ch;
  size_t ch_bins, k0, k1; /* magnitudes kept for bins [0, ch_bins); chroma from [k0, k1] */
  float *ring;            /* HPSS_LEN frames of ch_bins */
  size_t ring_count;      /* frames pushed */
  short *fine_bin;        /* 1/5-semitone pitch bin (0..59 from C) per STFT bin, -1 outside */
  float *hm;              /* harmonic magnitudes of the current frame */
  sg__farr fine;          /* 60 bins per frame until finish folds them with the tuning */
  double tune_s, tune_c;  /* circular sums of the spectral peaks' deviation from 440 Hz ET */
  double tuning;          /* semitones, -0.5..0.5, set by finish */
  float *med;             /* median scratch */
  sg__farr chroma;
  double ch_rate;
};

void sg_features_config_init(sg_features_config *c) {
  c->flags = SG_FEAT_ALL;
  c->low_cut_hz = 150;
  c->chroma_fmin = 60;
  c->chroma_fmax = 2000;
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
  sg__farr_free(&f->env);
  sg__farr_free(&f->low);
  sg__farr_free(&f->energy);
  free(f->fir);
  free(f->hist);
  stft_free(&f->ch);
  free(f->ring);
  free(f->fine_bin);
  free(f->hm);
  sg__farr_free(&f->fine);
  free(f->med);
  sg__farr_free(&f->chroma);
  free(f);
}

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
    f->hist = calloc(2 * L, sizeof *f->hist);
    if (!f->fir || !f->hist)
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
  f->med = malloc(HPSS_LEN * sizeof *f->med);
  if (!f->ring || !f->fine_bin || !f->hm || !f->med)
    return -1;
  for (size_t k = 0; k < f->ch_bins; ++k) {
    int b = -1;
    if (k >= f->k0 && k <= f->k1) {
      long q = lround(5.0 * sg_hz_to_midi((double)k * bin_hz));
      b = (int)(((q % 60) + 60) % 60);
    }
    f->fine_bin[k] = (short)b;
  }
  return 0;
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

static sg_status onset_frame(sg_features *f) {
  stft_frame(&f->on, f->on_mag, f->on_bins);
  /* Full band: half-wave rectified rise of log band magnitudes (spectral flux). */
  double flux = 0;
  for (size_t b = 0; b < f->n_bands; ++b) {
    size_t k0 = f->band_lo[b], k1 = f->band_lo[b + 1];
    float m = 0;
    for (size_t k = k0; k < k1; ++k)
      m += f->on_mag[k];
    float l = logf(1.0f + LOG_GAMMA * m / (float)(k1 - k0));
    float dlt = f->on_have_prev ? l - f->on_prev[b] : 0.0f;
    if (dlt > 0)
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
  sg_status st = sg__farr_push(&f->env, (float)(flux / (double)f->n_bands));
  if (st == SG_OK)
    st = sg__farr_push(&f->low, lflux);
  return st;
}

/* HPSS on the centre frame of the ring, then fold the harmonic magnitudes into chroma. */
static sg_status chroma_emit(sg_features *f) {
  const size_t nb = f->ch_bins;
  size_t centre = (f->ring_count - 1 - HPSS_HALF) % HPSS_LEN;
  const float *x = f->ring + centre * nb;
  float c[60] = {0};
  float tmp[HPSS_LEN];
  for (size_t k = f->k0; k <= f->k1; ++k) {
    for (size_t j = 0; j < HPSS_LEN; ++j)
      tmp[j] = f->ring[j * nb + k];
    float h = sg__median(tmp, HPSS_LEN);
    size_t lo = k >= HPSS_HALF ? k - HPSS_HALF : 0;
    size_t cnt = 0;
    for (size_t j = lo; j <= k + HPSS_HALF; ++j)
      f->med[cnt++] = x[j];
    float p = sg__median(f->med, cnt);
    float h2 = h * h, p2 = p * p;
    float mask = h2 + p2 > 0 ? h2 / (h2 + p2) : 0.0f; /* soft Wiener mask, p = 2 */
    f->hm[k] = mask * x[k];
    if (f->fine_bin[k] >= 0)
      c[f->fine_bin[k]] += f->hm[k];
  }
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
  return sg__farr_pushn(&f->fine, c, 60);
}

static sg_status chroma_frame(sg_features *f) {
  float *slot = f->ring + (f->ring_count % HPSS_LEN) * f->ch_bins;
  stft_frame(&f->ch, slot, f->ch_bins);
  f->ring_count++;
  if (f->ring_count > HPSS_HALF)
    return chroma_emit(f);
  return SG_OK;
}

static sg_status chroma_sample(sg_features *f, float v) {
  if (f->dec == 1) {
    f->ch.buf[f->ch.fill++] = v;
  } else {
    const size_t L = f->fir_len;
    f->hist[f->hist_pos] = f->hist[f->hist_pos + L] = v;
    f->hist_pos = (f->hist_pos + 1) % L;
    if (++f->dec_phase < f->dec)
      return SG_OK;
    f->dec_phase = 0;
    const float *h = f->hist + f->hist_pos; /* oldest .. newest */
    float acc = 0;
    for (size_t i = 0; i < L; ++i)
      acc += f->fir[i] * h[i];
    f->ch.buf[f->ch.fill++] = acc;
  }
  if (f->ch.fill == f->ch.n)
    return chroma_frame(f);
  return SG_OK;
}

/* Each feature consumes the block in runs (memcpy up to the next STFT frame), not per sample. */
static sg_status process_mono(sg_features *f, const float *x, size_t n) {
  sg_status st = SG_OK;
  if (f->cfg.flags & SG_FEAT_ONSET) {
    for (size_t i = 0; i < n && st == SG_OK;) {
      size_t k = f->on.n - f->on.fill;
      if (k > n - i)
        k = n - i;
      memcpy(f->on.buf + f->on.fill, x + i, k * sizeof *x);
      f->on.fill += k;
      i += k;
      if (f->on.fill == f->on.n)
        st = onset_frame(f);
    }
  }
  if ((f->cfg.flags & SG_FEAT_ENERGY) && st == SG_OK) {
    for (size_t i = 0; i < n && st == SG_OK; ++i) {
      f->e_acc += (double)x[i] * x[i];
      if (++f->e_fill == f->e_block) {
        st = sg__farr_push(&f->energy, (float)(f->e_acc / (double)f->e_block));
        f->e_acc = 0;
        f->e_fill = 0;
      }
    }
  }
  if (f->cfg.flags & SG_FEAT_CHROMA)
    for (size_t i = 0; i < n && st == SG_OK; ++i)
      st = chroma_sample(f, x[i]);
  return st;
}

sg_status sg_features_add(sg_features *f, const float *x, size_t frames) {
  if (!f || (!x && frames) || f->finished)
    return SG_E_INVAL;
  const unsigned C = f->channels;
  while (frames) {
    size_t k = frames < 4096 ? frames : 4096;
    if (f->mono_cap < k) {
      free(f->mono);
      f->mono = malloc(4096 * sizeof *f->mono);
      if (!f->mono)
        return SG_E_NOMEM;
      f->mono_cap = 4096;
    }
    for (size_t i = 0; i < k; ++i) {
      float s = 0;
      for (unsigned c = 0; c < C; ++c) {
        float v = x[i * C + c];
        /* Non-finite samples read as 0 and absurd ones are clamped, so no feature overflows. */
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
      f->on.buf[f->on.fill++] = 0.0f;
      if (f->on.fill == f->on.n)
        st = onset_frame(f);
    }
  }
  if ((f->cfg.flags & SG_FEAT_ENERGY) && f->e_fill && st == SG_OK) {
    st = sg__farr_push(&f->energy, (float)(f->e_acc / (double)f->e_fill));
    f->e_fill = 0;
  }
  if ((f->cfg.flags & SG_FEAT_CHROMA) && st == SG_OK) {
    size_t pad = f->ch.n / 2 * f->dec + f->fir_len;
    int64_t want = (int64_t)ceil((double)f->frames / f->dec / (double)f->ch.hop) + 1;
    for (size_t i = 0; i < pad && st == SG_OK; ++i)
      st = chroma_sample(f, 0.0f);
    /* Flush the HPSS delay line with silent frames. */
    for (size_t i = 0; i < HPSS_HALF && st == SG_OK; ++i) {
      float *slot = f->ring + (f->ring_count % HPSS_LEN) * f->ch_bins;
      memset(slot, 0, f->ch_bins * sizeof *slot);
      f->ring_count++;
      st = chroma_emit(f);
    }
    if (st == SG_OK && (int64_t)(f->fine.n / 60) > want)
      f->fine.n = (size_t)want * 60;
    /* Fold the 1/5-semitone bins into pitch classes around the measured tuning. */
    f->tuning = (f->tune_s != 0 || f->tune_c != 0) ? atan2(f->tune_s, f->tune_c) / (2 * SG_PI) : 0;
    int pc_of[60];
    for (int b = 0; b < 60; ++b)
      pc_of[b] = (((int)floor(b / 5.0 - f->tuning + 0.5)) % 12 + 12) % 12;
    size_t nf = f->fine.n / 60;
    for (size_t j = 0; j < nf && st == SG_OK; ++j) {
      float c[12] = {0};
      for (int b = 0; b < 60; ++b)
        c[pc_of[b]] += f->fine.v[j * 60 + (size_t)b];
      st = sg__farr_pushn(&f->chroma, c, 12);
    }
    sg__farr_free(&f->fine);
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

sg_status sg_features_from_file(sg_features **out, const char *path,
                                const sg_features_config *cfg, sg_diag *d) {
  if (!out || !path)
    return sg_diag_fail(d, SG_E_INVAL, "features: NULL argument");
  return sg_analysis_file_pass(path, 0, NULL, NULL, cfg, out, d);
}

const float *sg_features_onset_env(const sg_features *f, size_t *n, double *frame_rate) {
  if (n)
    *n = f ? f->env.n : 0;
  if (frame_rate)
    *frame_rate = f ? f->env_rate : 0;
  return f ? f->env.v : NULL;
}

const float *sg_features_low_env(const sg_features *f, size_t *n, double *frame_rate) {
  if (n)
    *n = f ? f->low.n : 0;
  if (frame_rate)
    *frame_rate = f ? f->env_rate : 0;
  return f ? f->low.v : NULL;
}

const float *sg_features_energy(const sg_features *f, size_t *n, double *frame_rate) {
  if (n)
    *n = f ? f->energy.n : 0;
  if (frame_rate)
    *frame_rate = f ? f->e_rate : 0;
  return f ? f->energy.v : NULL;
}

const float *sg_features_chroma(const sg_features *f, size_t *n, double *frame_rate) {
  if (n)
    *n = f ? f->chroma.n / 12 : 0;
  if (frame_rate)
    *frame_rate = f ? f->ch_rate : 0;
  return f ? f->chroma.v : NULL;
}

double sg_features_tuning_cents(const sg_features *f) { return f ? 100.0 * f->tuning : 0; }

unsigned sg_features_rate(const sg_features *f) { return f ? f->rate : 0; }
int64_t sg_features_frames(const sg_features *f) { return f ? f->frames : 0; }
double sg_features_duration(const sg_features *f) {
  return f ? (double)f->frames / (double)f->rate : 0;
}
