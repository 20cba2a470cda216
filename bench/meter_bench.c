/* sg_meter throughput on one core, in memory (no decoding): levels only, + loudness, + true peak,
 * on a stereo 48 kHz drum-and-chords buffer fed in 4096-frame blocks as the writers' taps feed
 * it. CPU time (clock()), so a loaded machine slows it less than wall time; still, compare two
 * builds only in one paired run (A B A B). Not part of the tests.
 *
 * Build and run against any build of sg_analysis (see bench/analysis_README.md):
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude bench/meter_bench.c \
 *      B/libsg_analysis.a B/libsg_theory.a B/libsg_io.a B/libsg_dsp.a B/libsg_core.a \
 *      $(pkg-config --libs kissfft-float sndfile samplerate libcrypto) [-lebur128] -lm \
 *      -o /tmp/meter_bench && /tmp/meter_bench [seconds] [rounds]
 * Prints each configuration's best round as a multiple of real time, and I / TP / LRA so two
 * builds can be seen to agree. */
#include "stemgate/analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RATE 48000
#define BLOCK 4096

static float *fixture(size_t n) {
  float *x = malloc(2 * n * sizeof *x);
  if (!x)
    return NULL;
  const double beat = 60.0 / 124.0;
  uint32_t s = 1;
  for (size_t i = 0; i < n; ++i) {
    double t = (double)i / RATE, tb = fmod(t, beat), te = fmod(t, beat / 2);
    s = s * 1664525u + 1013904223u;
    double nz = (double)(s >> 8) / 8388608.0 - 1.0;
    double kick = 0.6 * exp(-tb / 0.08) * sin(2 * SG_PI * (50 + 80 * exp(-tb / 0.02)) * tb);
    double hat = 0.15 * exp(-te / 0.01) * nz;
    double pad = 0.08 * (sin(2 * SG_PI * 220.0 * t) + sin(2 * SG_PI * 261.6 * t) +
                         sin(2 * SG_PI * 329.6 * t));
    x[2 * i] = (float)(kick + hat + pad);
    x[2 * i + 1] = (float)(kick + 0.8 * hat + pad);
  }
  return x;
}

static double run(const float *x, size_t n, unsigned flags, sg_meter_result *r) {
  sg_meter *m = NULL;
  if (sg_meter_create(&m, 2, RATE, flags, NULL) != SG_OK)
    exit(1);
  clock_t t0 = clock();
  for (size_t i = 0; i < n; i += BLOCK)
    sg_meter_add(m, x + 2 * i, n - i < BLOCK ? n - i : BLOCK);
  sg_meter_result_get(m, r);
  double dt = (double)(clock() - t0) / CLOCKS_PER_SEC;
  sg_meter_free(m);
  return dt;
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 120;
  int rounds = argc > 2 ? atoi(argv[2]) : 3;
  size_t n = (size_t)(secs * RATE);
  float *x = fixture(n);
  if (!x)
    return 1;
  static const struct {
    const char *name;
    unsigned flags;
  } cfg[] = {{"levels only", 0},
             {"+ loudness (I, M, S, LRA)", SG_METER_LOUDNESS},
             {"+ loudness + true peak", SG_METER_ALL}};
  for (int c = 0; c < 3; ++c) {
    double best = HUGE_VAL;
    sg_meter_result r;
    for (int k = 0; k < rounds; ++k) {
      double dt = run(x, n, cfg[c].flags, &r);
      if (dt < best)
        best = dt;
    }
    printf("meter %-26s %7.3f s CPU for %.0f s  %8.1fx real time", cfg[c].name, best, secs,
           secs / best);
    if (cfg[c].flags & SG_METER_LOUDNESS)
      printf("  (I %.4f LUFS, M %.4f, S %.4f, LRA %.4f LU", r.integrated_lufs, r.momentary_max_lufs,
             r.short_term_max_lufs, r.loudness_range_lu);
    if (cfg[c].flags & SG_METER_TRUE_PEAK)
      printf(", TP %.4f dBTP", r.true_peak_dbtp);
    if (cfg[c].flags & SG_METER_LOUDNESS)
      printf(")");
    printf("  peak %.6f rms %.6f dc_win %.3e\n", r.sample_peak_dbfs, r.rms_dbfs, r.dc_window);
  }
  free(x);
  return 0;
}
