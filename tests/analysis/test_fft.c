/* The features' real FFT (fft.c) against KissFFT's kiss_fftr, which the STFTs used before:
 * power spectra of windowed noise plus sines at every power-of-two size the features use (and
 * small ones), agreeing within 2e-6 of the frame's peak magnitude per bin, the AVX path bit for
 * bit with the portable one. And the block-wise
 * feature front end (mono mix, ~1 ms energy, chroma decimator) against its per-sample form:
 * the same stereo signal fed one frame at a time, in odd blocks and in large ones gives
 * bit-identical features, and a block holding NaN, infinite and huge samples gives exactly the
 * features of the signal with those read as 0 and clamped to +-1e4. */
#include "analysis_gen.h"
#include "sg_test.h"

#include "analysis/analysis_internal.h"
#include "stemgate/analysis.h"

#include <kiss_fftr.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_size(size_t n, uint64_t seed) {
  sg__rfft p;
  assert_int_equal(sg__rfft_init(&p, n), 0);
  kiss_fftr_cfg cfg = kiss_fftr_alloc((int)n, 0, NULL, NULL);
  assert_non_null(cfg);
  float *x = malloc(n * sizeof *x), *w = malloc(n * sizeof *w), *xw = malloc(n * sizeof *xw);
  float *pw = malloc((n / 2 + 1) * sizeof *pw), *pw2 = malloc((n / 2 + 1) * sizeof *pw2);
  kiss_fft_cpx *ref = malloc((n / 2 + 1) * sizeof *ref);
  assert_true(x && w && xw && pw && pw2 && ref);
  sg_rng g;
  sg_rng_seed(&g, seed, 7);
  for (int trial = 0; trial < 4; ++trial) {
    for (size_t i = 0; i < n; ++i) {
      w[i] = (float)(0.5 - 0.5 * cos(2 * SG_PI * (double)i / (double)n));
      x[i] = (float)(0.1 * sg_rng_normal(&g) + sin(0.37 * (double)i * (trial + 1)) +
                     0.01 * cos(2 * SG_PI * (double)(n / 4 + 3) * (double)i / (double)n));
      xw[i] = x[i] * w[i];
    }
    kiss_fftr(cfg, xw, ref);
    /* all bins, then fewer (the chroma STFT keeps the bins below its top frequency) */
    const size_t nb = trial == 0 ? n / 2 + 1 : trial == 1 ? n / 4 : trial == 2 ? n / 4 + 1 : n / 3;
    for (size_t k = 0; k <= n / 2; ++k)
      pw[k] = -1;
    sg__rfft_split_window(w, n, xw); /* xw is free again */
    sg__rfft_power(&p, x, xw, pw, nb);
    double peak = 0, err = 0;
    for (size_t k = 0; k <= n / 2; ++k)
      peak = fmax(peak, hypot(ref[k].r, ref[k].i));
    for (size_t k = 0; k < nb; ++k)
      err = fmax(err, fabs(sqrt(pw[k]) - hypot(ref[k].r, ref[k].i)));
    for (size_t k = nb; k <= n / 2; ++k) /* nothing written past nb */
      assert_true(pw[k] == -1);
    /* The portable path (what a CPU without AVX runs) gives the same bits as the one taken. */
    const int simd = p.simd;
    p.simd = 0;
    sg__rfft_power(&p, x, xw, pw2, nb);
    p.simd = simd;
    if (memcmp(pw, pw2, nb * sizeof *pw) != 0)
      fprintf(stderr, "n %zu trial %d nb %zu: the AVX path (%d) differs from the portable one\n", n,
              trial, nb, simd);
    assert_memory_equal(pw, pw2, nb * sizeof *pw);
    if (!(err <= 2e-6 * peak))
      fprintf(stderr, "n %zu trial %d seed %llu: max |diff| %.3g, peak %.3g\n", n, trial,
              (unsigned long long)seed, err, peak);
    assert_true(err <= 2e-6 * peak);
  }
  free(x);
  free(w);
  free(xw);
  free(pw);
  free(pw2);
  free(ref);
  kiss_fftr_free(cfg);
  sg__rfft_free(&p);
}

static void test_rfft_matches_kissfft(void **state) {
  (void)state;
  for (size_t n = 8; n <= 16384; n *= 2)
    check_size(n, 20261207u + n);
}

static void test_rfft_rejects_bad_sizes(void **state) {
  (void)state;
  sg__rfft p;
  assert_int_equal(sg__rfft_init(&p, 6), -1);
  sg__rfft_free(&p);
  assert_int_equal(sg__rfft_init(&p, 2), -1);
  sg__rfft_free(&p);
  assert_int_equal(sg__rfft_init(&p, 3000), -1);
  sg__rfft_free(&p);
}

#define RATE 44100u /* decimation 4 with a phase that does not divide the blocks */

static float *stereo_music(size_t n) {
  float *m = calloc(n, sizeof *m), *x = malloc(2 * n * sizeof *x);
  assert_true(m && x);
  sg_rng g;
  sg_rng_seed(&g, 42, 3);
  for (int b = 0; b < 8; ++b) {
    gen_burst(m, n, RATE, 0.25 * b, 0.3, 0.02, 0.1, &g);
    gen_tone(m, n, RATE, 0.25 * b, 0.24, 45 + 3 * (b % 4), 0.2);
    gen_tone(m, n, RATE, 0.25 * b, 0.24, 64 + (b % 3), 0.1);
  }
  for (size_t i = 0; i < n; ++i) {
    x[2 * i] = m[i];
    x[2 * i + 1] = 0.7f * m[i] + 0.01f * (float)sg_rng_normal(&g);
  }
  free(m);
  return x;
}

static sg_features *feed(const float *x, size_t n, size_t block) {
  sg_features *f = NULL;
  assert_int_equal(sg_features_create(&f, 2, RATE, NULL, NULL), SG_OK);
  for (size_t i = 0; i < n; i += block)
    assert_int_equal(sg_features_add(f, x + 2 * i, n - i < block ? n - i : block), SG_OK);
  assert_int_equal(sg_features_finish(f), SG_OK);
  return f;
}

static void assert_same_features(const sg_features *a, const sg_features *b) {
  const float *(*get[])(const sg_features *, size_t *,
                        double *) = {sg_features_onset_env, sg_features_low_env, sg_features_energy,
                                     sg_features_chroma, sg_features_bass_chroma};
  const size_t width[] = {1, 1, 1, 12, 12};
  for (size_t g = 0; g < 5; ++g) {
    size_t na = 0, nb = 0;
    const float *va = get[g](a, &na, NULL), *vb = get[g](b, &nb, NULL);
    assert_int_equal(na, nb);
    assert_true(na > 0);
    assert_memory_equal(va, vb, na * width[g] * sizeof *va);
  }
  assert_true(sg_features_tuning_cents(a) == sg_features_tuning_cents(b));
}

static void test_blocks_do_not_change_features(void **state) {
  (void)state;
  const size_t n = 2 * RATE;
  float *x = stereo_music(n);
  sg_features *one = feed(x, n, 1), *odd = feed(x, n, 1237), *big = feed(x, n, 10000);
  assert_same_features(one, odd);
  assert_same_features(one, big);
  sg_features_free(one);
  sg_features_free(odd);
  sg_features_free(big);
  free(x);
}

/* The AVX paths (FFT, salience of eight candidates at once, the median windows' replacement)
 * against the portable ones: a bass line from A0 up through the salience's candidates under
 * chords, every feature bit for bit. */
static void test_avx_paths_match_portable(void **state) {
  (void)state;
  const unsigned rate = 48000;
  const size_t n = 6 * rate;
  float *m = calloc(n, sizeof *m), *x = malloc(2 * n * sizeof *x);
  assert_true(m && x);
  sg_rng g;
  sg_rng_seed(&g, 7, 11);
  for (int b = 0; b < 24; ++b) {
    gen_tone(m, n, rate, 0.25 * b, 0.26, 21 + 1.4 * b, 0.3);
    gen_tone(m, n, rate, 0.5 * (b / 2), 0.5, 60 + (b % 5), 0.08);
    gen_tone(m, n, rate, 0.5 * (b / 2), 0.5, 64 + (b % 3), 0.08);
    gen_burst(m, n, rate, 0.25 * b + 0.125, 0.2, 0.03, 0.1, &g);
  }
  for (size_t i = 0; i < n; ++i) {
    x[2 * i] = m[i];
    x[2 * i + 1] = 0.8f * m[i] + 0.003f * (float)sg_rng_normal(&g);
  }
  sg_features *f[2] = {NULL, NULL};
  for (int k = 0; k < 2; ++k) {
    assert_int_equal(sg_features_create(&f[k], 2, rate, NULL, NULL), SG_OK);
    if (k)
      sg__features_portable(f[k]);
    assert_int_equal(sg_features_add(f[k], x, n), SG_OK);
    assert_int_equal(sg_features_finish(f[k]), SG_OK);
  }
  size_t nc = 0;
  const float *bc = sg_features_bass_chroma(f[0], &nc, NULL);
  double bass = 0;
  for (size_t i = 0; i < 12 * nc; ++i)
    bass += bc[i];
  assert_true(bass > 0); /* the salience found notes */
  assert_same_features(f[0], f[1]);
  sg_features_free(f[0]);
  sg_features_free(f[1]);
  free(m);
  free(x);
}

static void test_hostile_samples_read_as_clamped(void **state) {
  (void)state;
  const size_t n = 2 * RATE;
  float *x = stereo_music(n), *y = malloc(2 * n * sizeof *y);
  assert_non_null(y);
  memcpy(y, x, 2 * n * sizeof *x);
  x[2 * 5000] = NAN, y[2 * 5000] = 0;
  x[2 * 9000 + 1] = INFINITY, y[2 * 9000 + 1] = 0;
  x[2 * 30000] = 3e6f, y[2 * 30000] = 1e4f;
  x[2 * 30001 + 1] = -2e5f, y[2 * 30001 + 1] = -1e4f;
  sg_features *a = feed(x, n, 4096), *b = feed(y, n, 4096);
  assert_same_features(a, b);
  sg_features_free(a);
  sg_features_free(b);
  free(x);
  free(y);
}

/* sg_features_release (verify drops what its rows have read): the named arrays read NULL and 0,
 * the onset envelope a later alignment needs stays bit for bit, and release before finish does
 * nothing. */
static void test_release_keeps_the_onset_envelope(void **state) {
  (void)state;
  const size_t n = 2 * RATE;
  float *x = stereo_music(n);
  sg_features *a = feed(x, n, 4096), *b = feed(x, n, 4096);
  sg_features_release(a, SG_FEAT_ONSET | SG_FEAT_ENERGY | SG_FEAT_CHROMA);
  size_t k = 1;
  assert_null(sg_features_low_env(a, &k, NULL));
  assert_int_equal(k, 0);
  k = 1;
  assert_null(sg_features_energy(a, &k, NULL));
  assert_int_equal(k, 0);
  k = 1;
  assert_null(sg_features_chroma(a, &k, NULL));
  assert_int_equal(k, 0);
  size_t na = 0, nb = 0;
  const float *oa = sg_features_onset_env(a, &na, NULL), *ob = sg_features_onset_env(b, &nb, NULL);
  assert_true(na > 0 && na == nb);
  assert_memory_equal(oa, ob, na * sizeof *oa);
  sg_features *c = NULL;
  assert_int_equal(sg_features_create(&c, 2, RATE, NULL, NULL), SG_OK);
  assert_int_equal(sg_features_add(c, x, n), SG_OK);
  sg_features_release(c, SG_FEAT_ENERGY); /* not finished: nothing happens */
  assert_int_equal(sg_features_finish(c), SG_OK);
  assert_same_features(b, c);
  sg_features_free(a);
  sg_features_free(b);
  sg_features_free(c);
  free(x);
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* sg__quantile selects on the floats' bits without a copy: the element of rank round(q (n-1))
 * of the sorted values, for signed values, ties, denormals and tiny inputs. */
static void test_quantile_is_the_order_statistic(void **state) {
  (void)state;
  sg_rng g;
  sg_rng_seed(&g, 77, 3);
  static const size_t lens[] = {1, 2, 3, 17, 1000, 50001};
  static const double qs[] = {0, 0.01, 0.5, 0.9, 0.99, 1};
  for (size_t li = 0; li < sizeof lens / sizeof *lens; ++li) {
    size_t n = lens[li];
    float *x = malloc(n * sizeof *x), *s = malloc(n * sizeof *s);
    assert_non_null(x);
    assert_non_null(s);
    for (size_t i = 0; i < n; ++i) {
      unsigned r = sg_rng_u32(&g) % 8;
      x[i] = r == 0   ? 0.0f
             : r == 1 ? (float)(sg_rng_u32(&g) % 5) /* ties */
             : r == 2
                 ? 1e-40f * (float)(sg_rng_u32(&g) % 7) /* denormals */
                 : (float)sg_rng_range(&g, -3, 3) * powf(10.0f, (float)(sg_rng_u32(&g) % 9) - 4);
    }
    memcpy(s, x, n * sizeof *x);
    qsort(s, n, sizeof *s, cmp_float);
    for (size_t qi = 0; qi < sizeof qs / sizeof *qs; ++qi) {
      size_t k = (size_t)(qs[qi] * (double)(n - 1) + 0.5);
      assert_true(sg__quantile(x, n, qs[qi]) == s[k]);
    }
    free(x);
    free(s);
  }
  assert_true(sg__quantile(NULL, 0, 0.5) == 0.0f);
}

/* The onset and energy features of x with TMPDIR usable (f[0]: arrays past their in-memory
 * frames spooled) and not (f[1]: nothing spooled). */
static void spooled_and_in_memory(const float *x, size_t n, unsigned rate, sg_features *f[2]) {
  sg_features_config fc;
  sg_features_config_init(&fc);
  fc.flags = SG_FEAT_ONSET | SG_FEAT_ENERGY;
  const char *old = getenv("TMPDIR");
  char *keep = old ? strdup(old) : NULL;
  assert_int_equal(sg_features_from_mono(&f[0], x, n, rate, &fc, NULL), SG_OK);
  assert_int_equal(setenv("TMPDIR", "/nonexistent/stemgate-test", 1), 0);
  assert_int_equal(sg_features_from_mono(&f[1], x, n, rate, &fc, NULL), SG_OK);
  if (keep)
    setenv("TMPDIR", keep, 1);
  else
    unsetenv("TMPDIR");
  free(keep);
}

/* A stream past the energy and low-band frames kept in memory (~16 and ~22 s): read back from
 * their temporary files, whole and by window, the envelopes hold the same floats as when no
 * temporary file can be made (TMPDIR unusable: it stays in memory), and the analyses that read it
 * by window (onsets, decay tail, echo, a slice) give the same results. */
static void test_spooled_energy_reads_the_same(void **state) {
  (void)state;
  const unsigned rate = 16000;
  const size_t n = 40 * rate;
  float *x = calloc(n, sizeof *x);
  assert_non_null(x);
  sg_rng g;
  sg_rng_seed(&g, 9, 1);
  for (double t = 0.1; t < 36; t += 0.5) {
    gen_burst(x, n, rate, t, 0.3, 0.02, 0.1, &g);
    gen_burst(x, n, rate, t + 0.375, 0.12, 0.02, 0.1, &g); /* an echo */
  }
  gen_burst(x, n, rate, 36.2, 0.3, 0.4, 3.5, &g); /* a decaying tail */
  sg_features *f[2] = {NULL, NULL};
  spooled_and_in_memory(x, n, rate, f);
  double re = 0;
  size_t ne = sg_features_energy_frames(f[0], &re);
  assert_true(ne > (size_t)(30 * re));
  assert_int_equal(sg_features_energy_frames(f[1], NULL), ne);
  size_t na = 0, nb = 0;
  const float *ea = sg_features_energy(f[0], &na, NULL), *eb = sg_features_energy(f[1], &nb, NULL);
  assert_int_equal(na, ne);
  assert_int_equal(nb, ne);
  assert_memory_equal(ea, eb, ne * sizeof *ea);
  float w[3000];
  assert_int_equal(sg_features_energy_read(f[0], ne - 2000, 3000, w), SG_OK);
  assert_memory_equal(w, eb + ne - 2000, 2000 * sizeof *w);
  assert_true(w[2000] == 0.0f && w[2999] == 0.0f); /* past the end */
  const float *la = sg_features_low_env(f[0], &na, NULL),
              *lb = sg_features_low_env(f[1], &nb, NULL);
  assert_true(na > 30 * 150 && na == nb && na == sg_features_low_frames(f[0]));
  assert_memory_equal(la, lb, na * sizeof *la);
  assert_int_equal(sg_features_low_read(f[0], na - 10, 20, w), SG_OK);
  assert_memory_equal(w, lb + na - 10, 10 * sizeof *w);
  assert_true(w[10] == 0.0f);
  sg_onset_list oa, ob;
  assert_int_equal(sg_onsets_pick(f[0], NULL, &oa), SG_OK);
  assert_int_equal(sg_onsets_pick(f[1], NULL, &ob), SG_OK);
  assert_true(oa.n > 100);
  assert_int_equal(oa.n, ob.n);
  assert_memory_equal(oa.time, ob.time, oa.n * sizeof *oa.time);
  assert_memory_equal(oa.low, ob.low, oa.n * sizeof *oa.low);
  sg_onset_list_free(&oa);
  sg_onset_list_free(&ob);
  sg_decay_result da, db;
  assert_int_equal(sg_decay_tail(f[0], NULL, &da), SG_OK);
  assert_int_equal(sg_decay_tail(f[1], NULL, &db), SG_OK);
  assert_true(da.rt60_s > 0 && da.rt60_s == db.rt60_s && da.start_s == db.start_s);
  sg_echo_result xa, xb;
  assert_int_equal(sg_echo_at_lag(f[0], 0.375, 0.02, &xa), SG_OK);
  assert_int_equal(sg_echo_at_lag(f[1], 0.375, 0.02, &xb), SG_OK);
  assert_true(xa.detected && xa.acf == xb.acf && xa.lag_s == xb.lag_s);
  sg_features *sa = NULL, *sb = NULL;
  assert_int_equal(sg_features_slice(f[0], 5, 35, &sa), SG_OK);
  assert_int_equal(sg_features_slice(f[1], 5, 35, &sb), SG_OK);
  ea = sg_features_energy(sa, &na, NULL);
  eb = sg_features_energy(sb, &nb, NULL);
  assert_true(na > (size_t)(29 * re));
  assert_int_equal(na, nb);
  assert_memory_equal(ea, eb, na * sizeof *ea);
  sg_features_free(sa);
  sg_features_free(sb);
  sg_features_free(f[0]);
  sg_features_free(f[1]);
  free(x);
}

/* Reads frames of a mono array for sg_align_inputs (zero outside). */
typedef struct arr_src {
  const float *x;
  size_t n;
} arr_src;

static sg_status arr_read(void *user, int64_t start, size_t len, float *out, sg_diag *d) {
  (void)d;
  const arr_src *a = user;
  for (size_t i = 0; i < len; ++i) {
    const int64_t j = start + (int64_t)i;
    out[i] = j >= 0 && j < (int64_t)a->n ? a->x[j] : 0.0f;
  }
  return SG_OK;
}

/* With TMPDIR usable (index 0) or not (1, nothing spooled), or given by window through
 * sg_features_from_onset + sg_features_onset_append (2). */
static void onset_three_ways(const float *x, size_t n, unsigned rate, sg_features *f[3]) {
  spooled_and_in_memory(x, n, rate, f);
  double R = 0;
  const size_t ne = sg_features_onset_frames(f[0], &R);
  assert_int_equal(sg_features_from_onset(&f[2], rate, (int64_t)n, NULL, 0, R), SG_OK);
  float w[777];
  for (size_t j = 0; j < ne; j += 777) {
    const size_t k = ne - j < 777 ? ne - j : 777;
    assert_int_equal(sg_features_onset_read(f[0], j, k, w), SG_OK);
    assert_int_equal(sg_features_onset_append(f[2], w, k), SG_OK);
  }
}

/* The onset envelope past the frames kept in memory (~22 s) lives in a temporary file: whole
 * and by window it holds the same floats as when it stays in memory (no temporary file) and as
 * when it is given a window at a time (a render's lent envelope), and every analysis that now
 * reads it by window gives bit for bit the same results on all three: onsets, tempo, the beat
 * track, and the alignment and drift track of a delayed, slightly stretched copy (windows near
 * both ends and across the ~22 s boundary). */
static void test_spooled_onset_envelope_reads_the_same(void **state) {
  (void)state;
  const unsigned rate = 16000;
  const size_t n = 70 * rate;
  float *x = calloc(n, sizeof *x), *y = calloc(n, sizeof *y);
  assert_true(x && y);
  sg_rng g;
  sg_rng_seed(&g, 21, 3);
  for (double t = 0.3; t < 68; t += 0.5) {
    gen_burst(x, n, rate, t, t - floor(t) < 0.4 ? 0.4 : 0.2, 0.02, 0.1, &g);
    if (fmod(t, 2.0) < 0.5)
      gen_burst(x, n, rate, t + 0.25, 0.15, 0.01, 0.05, &g);
  }
  for (size_t i = 0; i < n; ++i) { /* 12 ms later, 0.05 % slower */
    double j = ((double)i - 0.012 * rate) / 1.0005;
    long k = (long)floor(j);
    y[i] = k >= 0 && (size_t)k + 1 < n ? (float)(x[k] + (j - k) * (x[k + 1] - x[k])) : 0.0f;
  }
  sg_features *fx[3], *fy[3];
  onset_three_ways(x, n, rate, fx);
  onset_three_ways(y, n, rate, fy);
  double R = 0;
  const size_t ne = sg_features_onset_frames(fx[0], &R);
  assert_true(ne > (size_t)(60 * R));
  const float *e[3];
  for (int k = 0; k < 3; ++k) {
    size_t nk = 0;
    assert_int_equal(sg_features_onset_frames(fx[k], NULL), ne);
    e[k] = sg_features_onset_env(fx[k], &nk, NULL);
    assert_int_equal(nk, ne);
  }
  assert_memory_equal(e[0], e[1], ne * sizeof *e[0]);
  assert_memory_equal(e[2], e[1], ne * sizeof *e[0]);
  float w[3000];
  assert_int_equal(sg_features_onset_read(fx[0], ne - 2000, 3000, w), SG_OK);
  assert_memory_equal(w, e[1] + ne - 2000, 2000 * sizeof *w);
  assert_true(w[2000] == 0.0f && w[2999] == 0.0f); /* past the end */
  sg_onset_list on[2];
  sg_tempo_result tr[2];
  sg_beat_track bt[2];
  sg_align_result al[3];
  sg_align_track tk[3];
  arr_src sx = {x, n}, sy = {y, n};
  for (int k = 0; k < 3; ++k) {
    if (k < 2) {
      assert_int_equal(sg_onsets_pick(fx[k], NULL, &on[k]), SG_OK);
      assert_int_equal(sg_tempo_estimate(fx[k], &on[k], NULL, &tr[k]), SG_OK);
      assert_int_equal(
          sg_beat_track_onsets(fx[k], &on[k], tr[k].bpm, tr[k].phase_s, 70.0, NULL, &bt[k]), SG_OK);
    }
    sg_align_input ia = {fx[k], (int64_t)n, arr_read, &sx}, ib = {fy[k], (int64_t)n, arr_read, &sy};
    assert_int_equal(sg_align_inputs(&ia, &ib, NULL, 4.0, &al[k], &tk[k], NULL), SG_OK);
  }
  assert_true(on[0].n > 100 && on[0].n == on[1].n);
  assert_memory_equal(on[0].time, on[1].time, on[0].n * sizeof *on[0].time);
  assert_memory_equal(on[0].strength, on[1].strength, on[0].n * sizeof *on[0].strength);
  assert_memory_equal(&tr[0], &tr[1], sizeof tr[0]);
  assert_true(tr[0].bpm > 0);
  assert_true(bt[0].n > 8 && bt[0].n == bt[1].n);
  assert_memory_equal(bt[0].time, bt[1].time, bt[0].n * sizeof *bt[0].time);
  assert_true(bt[0].bar_position == bt[1].bar_position && bt[0].confidence == bt[1].confidence);
  /* y(t) = x((t - 0.012) / 1.0005): 12 ms late at 0, 0.5 ms more a second */
  assert_true(al[0].has_end && fabs(al[0].drift_ratio - 0.0005) < 0.0001);
  assert_true(fabs(al[0].offset_s - (0.012 + 0.0005 * al[0].start_time_s)) < 0.002);
  assert_true(tk[0].n_used >= 10 && fabs(tk[0].ratio - 0.0005) < 0.0001);
  for (int k = 1; k < 3; ++k) {
    assert_memory_equal(&al[0], &al[k], sizeof al[0]);
    assert_memory_equal(&tk[0], &tk[k], sizeof tk[0]);
  }
  for (int k = 0; k < 2; ++k) {
    sg_onset_list_free(&on[k]);
    sg_beat_track_free(&bt[k]);
  }
  for (int k = 0; k < 3; ++k) {
    sg_features_free(fx[k]);
    sg_features_free(fy[k]);
  }
  free(x);
  free(y);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfft_matches_kissfft),
      cmocka_unit_test(test_rfft_rejects_bad_sizes),
      cmocka_unit_test(test_avx_paths_match_portable),
      cmocka_unit_test(test_blocks_do_not_change_features),
      cmocka_unit_test(test_hostile_samples_read_as_clamped),
      cmocka_unit_test(test_release_keeps_the_onset_envelope),
      cmocka_unit_test(test_quantile_is_the_order_statistic),
      cmocka_unit_test(test_spooled_energy_reads_the_same),
      cmocka_unit_test(test_spooled_onset_envelope_reads_the_same),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
