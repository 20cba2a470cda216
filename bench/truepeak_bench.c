/* True-peak throughput: sg_truepeak (stemgate/dsp.h, block mode, the meter's BS.1770 filter)
 * against libebur128's EBUR128_MODE_TRUE_PEAK on the same buffer, in the same run (not part
 * of the tests).
 *
 * Build and run (from the repository root, after building sg_dsp in build-dsp, any name):
 *   cmake --build build-dsp --target sg_dsp -j2
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude bench/truepeak_bench.c \
 *      build-dsp/libsg_dsp.a build-dsp/libsg_core.a \
 *      $(pkg-config --libs libebur128 libcrypto) -lm -o /tmp/truepeak_bench \
 *      && /tmp/truepeak_bench [seconds] [rounds]
 *
 * Runs A B A B ... (rounds of each, default 5), interleaved so machine load affects both
 * alike, and prints each run's multiple of real time, the medians and the speed ratio. Both
 * read the same interleaved stereo 48 kHz float blocks of 4096 frames, as the meter feeds
 * them; the two readings are printed to show they agree. */
#include "stemgate/dsp.h"

#include <ebur128.h>
#include <stdio.h>
#include <stdlib.h>
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

int main(int argc, char **argv) {
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
