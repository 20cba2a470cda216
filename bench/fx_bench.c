/* Throughput of each fx unit on 10 s of stereo noise at 48 kHz, in multiples of real time.
 * Not part of the test suite (no timing assertions there). Build and run: see bench/fx_README.md.
 */
#include "stemgate/fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RATE 48000.0
#define SECONDS 10
#define BLOCK 512

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef void (*run_fn)(void *st, float *L, float *R, size_t n);

static void run_eq(void *st, float *L, float *R, size_t n) { sg_eq_process(st, L, R, n); }
static void run_comp(void *st, float *L, float *R, size_t n) {
  sg_compressor_process(st, L, R, NULL, NULL, n);
}
static void run_delay(void *st, float *L, float *R, size_t n) { sg_delay_process(st, L, R, n); }
static void run_reverb(void *st, float *L, float *R, size_t n) { sg_reverb_process(st, L, R, n); }
static void run_chorus(void *st, float *L, float *R, size_t n) { sg_chorus_process(st, L, R, n); }
static void run_phaser(void *st, float *L, float *R, size_t n) { sg_phaser_process(st, L, R, n); }
static void run_sat(void *st, float *L, float *R, size_t n) { sg_saturation_process(st, L, R, n); }
static void run_lim(void *st, float *L, float *R, size_t n) { sg_limiter_process(st, L, R, n); }

static void bench(const char *name, run_fn fn, void *st, const float *srcL, const float *srcR,
                  size_t n) {
  float *L = malloc(n * sizeof(float)), *R = malloc(n * sizeof(float));
  if (!L || !R)
    exit(1);
  memcpy(L, srcL, n * sizeof(float));
  memcpy(R, srcR, n * sizeof(float));
  double t0 = now();
  for (size_t i = 0; i < n; i += BLOCK)
    fn(st, L + i, R + i, n - i < BLOCK ? n - i : BLOCK);
  double dt = now() - t0;
  printf("%-12s %8.1f x real time (%.3f s for %d s stereo)\n", name, SECONDS / dt, dt, SECONDS);
  free(L);
  free(R);
}

int main(void) {
  size_t n = (size_t)(SECONDS * RATE);
  float *L = malloc(n * sizeof(float)), *R = malloc(n * sizeof(float));
  if (!L || !R)
    return 1;
  sg_rng rng;
  sg_rng_seed(&rng, 1, 1);
  for (size_t i = 0; i < n; ++i)
    L[i] = (float)(0.5 * sg_rng_normal(&rng)), R[i] = (float)(0.5 * sg_rng_normal(&rng));

  sg_eq_config ec;
  sg_eq_config_init(&ec);
  ec.type = SG_EQ_LOWPASS, ec.order = 8;
  sg_eq eq;
  sg_eq_init(&eq, &ec, RATE);
  bench("eq (8th)", run_eq, &eq, L, R, n);

  sg_compressor_config cc;
  sg_compressor_config_init(&cc);
  sg_compressor comp;
  sg_compressor_init(&comp, &cc, RATE);
  bench("compressor", run_comp, &comp, L, R, n);

  sg_delay_config dc;
  sg_delay_config_init(&dc);
  sg_delay dl;
  sg_delay_init(&dl, &dc, RATE);
  bench("delay", run_delay, &dl, L, R, n);
  sg_delay_free(&dl);

  sg_reverb_config rc;
  sg_reverb_config_init(&rc);
  sg_reverb rv;
  sg_reverb_init(&rv, &rc, RATE);
  bench("reverb (16)", run_reverb, &rv, L, R, n);
  sg_reverb_free(&rv);

  sg_chorus_config chc;
  sg_chorus_config_init(&chc);
  chc.voices = 4;
  sg_chorus ch;
  sg_chorus_init(&ch, &chc, RATE);
  bench("chorus (4v)", run_chorus, &ch, L, R, n);
  sg_chorus_free(&ch);

  sg_phaser_config pc;
  sg_phaser_config_init(&pc);
  sg_phaser ph;
  sg_phaser_init(&ph, &pc, RATE);
  bench("phaser", run_phaser, &ph, L, R, n);

  sg_saturation_config sc;
  sg_saturation_config_init(&sc);
  sg_saturation sat;
  sg_saturation_init(&sat, &sc, RATE);
  bench("saturation", run_sat, &sat, L, R, n);

  sg_limiter_config lc;
  sg_limiter_config_init(&lc);
  lc.gain_db = 6;
  sg_limiter lim;
  sg_limiter_init(&lim, &lc, RATE);
  bench("limiter", run_lim, &lim, L, R, n);
  sg_limiter_free(&lim);

  free(L);
  free(R);
  return 0;
}
