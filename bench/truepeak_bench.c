/* True-peak throughput: sg_truepeak (stemgate/dsp.h, block mode, the meter's BS.1770 filter)
 * against libebur128's EBUR128_MODE_TRUE_PEAK on the same buffer, in the same run; and, on real
 * files, the meter's true peak and the master limiter (sg_limiter, whose 8x detector and gain
 * computer are stemgate/dsp.h's) in CPU time (not part of the tests).
 *
 * Build and run (from the repository root, after building sg_fx in build-dsp, any name):
 *   cmake --build build-dsp --target sg_fx -j2
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude bench/truepeak_bench.c \
 *      build-dsp/libsg_fx.a build-dsp/libsg_dsp.a build-dsp/libsg_core.a \
 *      $(pkg-config --libs libebur128 sndfile libcrypto) -lm -o /tmp/truepeak_bench
 *   /tmp/truepeak_bench [seconds] [rounds]          synthetic, against libebur128
 *   /tmp/truepeak_bench -f FILE.wav [rounds] [dB]   a stereo file: meter true peak and limiter
 *
 * Synthetic mode runs A B A B ... (rounds of each, default 5), interleaved so machine load
 * affects both alike, and prints each run's multiple of real time, the medians and the speed
 * ratio. Both read the same interleaved stereo 48 kHz float blocks of 4096 frames, as the
 * meter feeds them; the two readings are printed to show they agree.
 *
 * File mode times, on one core in CPU time (median of the rounds), (a) the meter's true peak
 * of both channels fed in 4096-frame interleaved blocks and (b) the master's limiter at its
 * defaults (ceiling -1 dBTP) driven by dB (default +1.5) in 4096-frame blocks, and prints both
 * readings and a hash of the limiter's output, so two builds (before / after) run alternately
 * on the same file show both their speed and that their results are bit-identical. */
#include "stemgate/dsp.h"
#include "stemgate/fx.h"

#include <ebur128.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RATE 48000
#define CHUNK 4096

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double run_ebu(const float *x, size_t n, double *tp) {
  double t0 = now();
  ebur128_state *e = ebur128_init(2, RATE, EBUR128_MODE_TRUE_PEAK);
  for (size_t i = 0; i < n; i += CHUNK)
    ebur128_add_frames_float(e, x + 2 * i, n - i < CHUNK ? n - i : CHUNK);
  double a, b;
  ebur128_true_peak(e, 0, &a);
  ebur128_true_peak(e, 1, &b);
  ebur128_destroy(&e);
  *tp = a > b ? a : b;
  return now() - t0;
}

static double run_sg(const float *x, size_t n, double *tp) {
  double t0 = now();
  sg_truepeak_config c;
  sg_truepeak_config_init(&c);
  static sg_truepeak d[2];
  for (int ch = 0; ch < 2; ++ch) {
    sg_truepeak_init(&d[ch], &c, RATE);
    sg_truepeak_reset(&d[ch]);
  }
  for (size_t i = 0; i < n; i += CHUNK) {
    size_t k = n - i < CHUNK ? n - i : CHUNK;
    for (int ch = 0; ch < 2; ++ch)
      sg_truepeak_process(&d[ch], x + 2 * i + ch, 2, k);
  }
  double a = sg_truepeak_value(&d[0]), b = sg_truepeak_value(&d[1]);
  *tp = a > b ? a : b;
  return now() - t0;
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int file_mode(const char *path, int rounds, double drive_db) {
  SF_INFO si;
  memset(&si, 0, sizeof si);
  SNDFILE *f = sf_open(path, SFM_READ, &si);
  if (!f || si.channels != 2) {
    fprintf(stderr, "%s: not a readable stereo file\n", path);
    return 2;
  }
  size_t n = (size_t)si.frames;
  float *x = malloc(2 * n * sizeof *x), *L = malloc(n * sizeof *L), *R = malloc(n * sizeof *R);
  if (!x || !L || !R || sf_readf_float(f, x, si.frames) != si.frames)
    return 1;
  sf_close(f);
  double secs = (double)n / si.samplerate, *tt = malloc((size_t)rounds * sizeof *tt),
         *tl = malloc((size_t)rounds * sizeof *tl), tp = 0;
  uint64_t hash = 0;
  for (int r = 0; r < rounds; ++r) {
    double t0 = cpu_now();
    sg_truepeak_config c;
    sg_truepeak_config_init(&c);
    static sg_truepeak d[2];
    for (int ch = 0; ch < 2; ++ch) {
      sg_truepeak_init(&d[ch], &c, si.samplerate);
      sg_truepeak_reset(&d[ch]);
    }
    for (size_t i = 0; i < n; i += CHUNK)
      for (int ch = 0; ch < 2; ++ch)
        sg_truepeak_process(&d[ch], x + 2 * i + ch, 2, n - i < CHUNK ? n - i : CHUNK);
    tp = fmax(sg_truepeak_value(&d[0]), sg_truepeak_value(&d[1]));
    tt[r] = cpu_now() - t0;

    for (size_t i = 0; i < n; ++i)
      L[i] = x[2 * i], R[i] = x[2 * i + 1];
    t0 = cpu_now();
    sg_limiter_config lc;
    sg_limiter_config_init(&lc);
    lc.gain_db = drive_db;
    static sg_limiter lim;
    if (sg_limiter_init(&lim, &lc, si.samplerate) != SG_OK)
      return 1;
    for (size_t i = 0; i < n; i += CHUNK)
      sg_limiter_process(&lim, L + i, R + i, n - i < CHUNK ? n - i : CHUNK);
    tl[r] = cpu_now() - t0;
    hash = 1469598103934665603ull; /* FNV-1a over the output's bytes */
    for (size_t i = 0; i < n; ++i) {
      unsigned char b[8];
      memcpy(b, L + i, 4);
      memcpy(b + 4, R + i, 4);
      for (int j = 0; j < 8; ++j)
        hash = (hash ^ b[j]) * 1099511628211ull;
    }
    printf("round %d: true peak %8.1fx real time   limiter %7.1fx real time\n", r + 1, secs / tt[r],
           secs / tl[r]);
    if (r + 1 == rounds)
      printf("limiter max gain reduction %.3f dB, mean %.4f dB\n",
             sg_limiter_max_gain_reduction_db(&lim), sg_limiter_mean_gain_reduction_db(&lim));
    sg_limiter_free(&lim);
  }
  qsort(tt, (size_t)rounds, sizeof *tt, cmp);
  qsort(tl, (size_t)rounds, sizeof *tl, cmp);
  printf("%s (%.1f s, stereo): true peak %.1fx real time (%.6f dBTP), limiter %.1fx real time "
         "(drive %+.1f dB, output hash %016llx) [CPU medians of %d]\n",
         path, secs, secs / tt[rounds / 2], 20 * log10(tp), secs / tl[rounds / 2], drive_db,
         (unsigned long long)hash, rounds);
  free(tt);
  free(tl);
  free(x);
  free(L);
  free(R);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 2 && !strcmp(argv[1], "-f")) {
    int rounds = argc > 3 ? atoi(argv[3]) : 3;
    return file_mode(argv[2], rounds < 1 || rounds > 50 ? 3 : rounds,
                     argc > 4 ? atof(argv[4]) : 1.5);
  }
  double secs = argc > 1 ? atof(argv[1]) : 120.0;
  int rounds = argc > 2 ? atoi(argv[2]) : 5;
  if (!(secs > 0) || rounds < 1 || rounds > 50)
    return 2;
  size_t n = (size_t)(secs * RATE);
  float *x = malloc(2 * n * sizeof *x);
  if (!x)
    return 1;
  /* Chords plus quiet noise (a mix-like signal; the cost does not depend on the content). */
  uint32_t s = 12345;
  for (size_t i = 0; i < n; ++i) {
    double t = (double)i / RATE;
    double v = 0.2 * sin(2 * SG_PI * 220 * t) + 0.15 * sin(2 * SG_PI * 277.18 * t) +
               0.15 * sin(2 * SG_PI * 329.63 * t);
    s = s * 1664525u + 1013904223u;
    double nz = ((double)(s >> 8) / 16777216.0 - 0.5) * 0.1;
    x[2 * i] = (float)(v + nz);
    x[2 * i + 1] = (float)(0.9 * v - nz);
  }
  double *ta = malloc((size_t)rounds * sizeof *ta), *tb = malloc((size_t)rounds * sizeof *tb);
  double pa = 0, pb = 0;
  for (int r = 0; r < rounds; ++r) {
    ta[r] = run_ebu(x, n, &pa);
    tb[r] = run_sg(x, n, &pb);
    printf("round %d: libebur128 %8.1fx realtime   sg_truepeak %8.1fx realtime\n", r + 1,
           secs / ta[r], secs / tb[r]);
  }
  qsort(ta, (size_t)rounds, sizeof *ta, cmp);
  qsort(tb, (size_t)rounds, sizeof *tb, cmp);
  double ma = ta[rounds / 2], mb = tb[rounds / 2];
  printf("median: libebur128 %.3f s (%.1fx realtime), sg_truepeak %.3f s (%.1fx realtime)\n", ma,
         secs / ma, mb, secs / mb);
  printf("speed ratio sg_truepeak / libebur128: %.1fx   (true peak %.6f vs %.6f dBTP)\n", ma / mb,
         20 * log10(pb), 20 * log10(pa));
  free(ta);
  free(tb);
  free(x);
  return 0;
}
