/* Drummer-like drum references synthesised in C for the beat and downbeat tests (issue 13):
 * a pop groove played the way a drummer would: hats on the eighths with accented beats and
 * varied velocities; kick on 1 and 3 with a pattern that changes from bar to bar (3&, 2&, 4&
 * pushes, so the kick is not periodic per beat or per half bar); snare backbeats on 2 and 4
 * with ghost notes; a snare-and-tom fill over beats 3-4 of every eighth bar; a crash on the
 * downbeat after each fill (and on bar 1 when asked); an optional pickup (anacrusis) before the
 * first downbeat; every position humanised by a uniform timing error of +-jitter (the limbs
 * playing it together, each with its own +-1 ms flam) and every hit by a velocity error. The
 * tempo can run fast against a spec or ramp linearly over the file. The truth is the
 * drummer's intended beat times (dg_beat_time), not the humanised hits. Mono, 48 kHz. */
#ifndef SG_DRUM_GEN_H
#define SG_DRUM_GEN_H

#include "stemgate/core.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { DG_RATE = 48000 };

typedef struct dg_case {
  const char *name;
  double bpm;       /* tempo at the first downbeat                                        */
  double ramp;      /* tempo change over the file as a fraction (0.006: 0.6 % faster)      */
  double spec_bpm;  /* the spec's tempo (the grid's)                                       */
  double lead_s;    /* silence before the first hit (the pickup's first hit, if any)      */
  int pickup;       /* beats of pickup before the first downbeat, 0..3                    */
  int crash_first;  /* crash on bar 1's downbeat                                          */
  double jitter_ms; /* humanised timing, uniform +-                                       */
  double dur_s;
  unsigned seed;
} dg_case;

/* ------------------------------------------------------------------------------- sounds --- */

static inline void dg_kick(float *x, size_t n, size_t at, double amp, sg_rng *r) {
  double ph = 0;
  for (size_t i = 0; at + i < n && i < (size_t)(0.3 * DG_RATE); ++i) {
    double t = (double)i / DG_RATE, f = 48 + 100 * exp(-t / 0.025);
    ph += 2 * SG_PI * f / DG_RATE;
    double click = t < 0.003 ? 0.25 * (sg_rng_uniform(r) * 2 - 1) * (1 - t / 0.003) : 0;
    x[at + i] += (float)(amp * (exp(-t / 0.11) * sin(ph) + click));
  }
}

static inline void dg_snare(float *x, size_t n, size_t at, double amp, sg_rng *r) {
  double prev = 0;
  for (size_t i = 0; at + i < n && i < (size_t)(0.25 * DG_RATE); ++i) {
    double t = (double)i / DG_RATE, w = sg_rng_uniform(r) * 2 - 1;
    double v =
        0.5 * (w - prev) * exp(-t / 0.055) + 0.35 * sin(2 * SG_PI * 185 * t) * exp(-t / 0.07);
    prev = w;
    x[at + i] += (float)(amp * v);
  }
}

static inline void dg_tom(float *x, size_t n, size_t at, double amp, double hz) {
  double ph = 0;
  for (size_t i = 0; at + i < n && i < (size_t)(0.3 * DG_RATE); ++i) {
    double t = (double)i / DG_RATE;
    ph += 2 * SG_PI * hz * (1 + 0.4 * exp(-t / 0.02)) / DG_RATE;
    x[at + i] += (float)(amp * 0.6 * exp(-t / 0.13) * sin(ph));
  }
}

static inline void dg_hat(float *x, size_t n, size_t at, double amp, sg_rng *r) {
  double prev = 0;
  for (size_t i = 0; at + i < n && i < (size_t)(0.06 * DG_RATE); ++i) {
    double t = (double)i / DG_RATE, w = sg_rng_uniform(r) * 2 - 1;
    x[at + i] += (float)(amp * 0.5 * (w - prev) * exp(-t / 0.015));
    prev = w;
  }
}

static inline void dg_crash(float *x, size_t n, size_t at, double amp, sg_rng *r) {
  double prev = 0;
  for (size_t i = 0; at + i < n && i < (size_t)(1.5 * DG_RATE); ++i) {
    double t = (double)i / DG_RATE, w = sg_rng_uniform(r) * 2 - 1;
    x[at + i] += (float)(amp * 0.45 * (w - prev) * exp(-t / 0.6));
    prev = w;
  }
}

/* ---------------------------------------------------------------------------- generator --- */

/* Intended time of beat k (k = 0 is the first downbeat; negative: the pickup, at the first
 * tempo). The tempo rises linearly with the beat number to bpm * (1 + ramp) at beat nb. */
static inline double dg_beat_time(const dg_case *c, double t0, double nb, long k) {
  double P0 = 60.0 / c->bpm;
  if (k <= 0)
    return t0 + (double)k * P0;
  double t = t0;
  for (long j = 0; j < k; ++j)
    t += P0 / (1 + c->ramp * (double)j / nb);
  return t;
}

typedef struct dg_gen {
  const dg_case *c;
  float *x;
  size_t n;
  sg_rng r;
  double t0, nb; /* first downbeat, beats in the file */
} dg_gen;

/* Position s sixteenths into beat k, humanised: the drummer's timing error at that position
 * (uniform +-jitter, shared by the limbs that play it) plus each limb's own flam (+-1 ms when
 * jitter is on). */
static inline size_t dg_hit_at(dg_gen *g, long k, int s) {
  double a = dg_beat_time(g->c, g->t0, g->nb, k), b = dg_beat_time(g->c, g->t0, g->nb, k + 1);
  sg_rng pr;
  sg_rng_seed(&pr, g->c->seed, (uint64_t)(k + 64) * 4 + (uint64_t)s);
  double j = g->c->jitter_ms * (2 * sg_rng_uniform(&pr) - 1);
  if (g->c->jitter_ms > 0)
    j += 2 * sg_rng_uniform(&g->r) - 1;
  double t = a + (b - a) * s / 4.0 + 1e-3 * j;
  return t < 0 ? 0 : (size_t)llround(t * DG_RATE);
}

static inline double dg_vel(dg_gen *g, double v) { return v * (0.9 + 0.2 * sg_rng_uniform(&g->r)); }

static inline float *dg_generate(const dg_case *c, size_t *n_out, double *t0_out, double *nb_out) {
  dg_gen g;
  memset(&g, 0, sizeof g);
  g.c = c;
  g.n = (size_t)llround(c->dur_s * DG_RATE);
  g.x = calloc(g.n, sizeof *g.x);
  sg_rng_seed(&g.r, c->seed, 13);
  double P0 = 60.0 / c->bpm;
  g.t0 = c->lead_s + c->pickup * P0;
  g.nb = (c->dur_s - g.t0) / P0;
  /* Pickup: snare eighths rising into the downbeat, a tom on the last one. */
  for (long k = -c->pickup; k < 0; ++k)
    for (int s = 0; s < 4; s += 2) {
      size_t at = dg_hit_at(&g, k, s);
      if (k == -1 && s == 2)
        dg_tom(g.x, g.n, at, dg_vel(&g, 0.7), 110);
      else
        dg_snare(g.x, g.n, at, dg_vel(&g, 0.35 + 0.1 * (double)(k + c->pickup)), &g.r);
    }
  /* Kick patterns in sixteenths of the bar, chosen per bar: never the same on 1 and 3. */
  static const int kicks[4][4] = {{0, 8, 10, -1}, {0, 6, 8, -1}, {0, 8, 14, -1}, {0, 3, 8, 10}};
  for (long bar = 0;; ++bar) {
    long k0 = bar * 4;
    if (dg_beat_time(c, g.t0, g.nb, k0) >= c->dur_s)
      break;
    int fill = bar % 8 == 7, crash = (bar == 0 && c->crash_first) || (bar > 0 && bar % 8 == 0);
    for (int s = 0; s < 16; ++s) {
      long k = k0 + s / 4;
      int sb = s % 4;
      if (dg_beat_time(c, g.t0, g.nb, k) >= c->dur_s)
        break;
      if (fill && s >= 8) { /* beats 3-4: sixteenth snares and toms, rising */
        size_t at = dg_hit_at(&g, k, sb);
        double v = 0.45 + 0.04 * (s - 8);
        if (s >= 12)
          dg_tom(g.x, g.n, at, dg_vel(&g, v), s >= 14 ? 95 : 140);
        else
          dg_snare(g.x, g.n, at, dg_vel(&g, v), &g.r);
        continue;
      }
      if (s % 2 == 0) { /* hats: beats accented, off-beats lighter */
        size_t at = dg_hit_at(&g, k, sb);
        if (!(s == 0 && crash))
          dg_hat(g.x, g.n, at, dg_vel(&g, sb == 0 ? 0.55 : 0.35), &g.r);
      }
      for (int i = 0; i < 4; ++i)
        if (kicks[bar % 4][i] == s) {
          size_t at = dg_hit_at(&g, k, sb);
          dg_kick(g.x, g.n, at, dg_vel(&g, s == 0 ? 0.9 : 0.72), &g.r);
        }
      if (s == 4 || s == 12)
        dg_snare(g.x, g.n, dg_hit_at(&g, k, sb), dg_vel(&g, 0.8), &g.r);
      if ((s == 7 && bar % 2) || (s == 15 && bar % 3 == 1)) /* ghost notes */
        dg_snare(g.x, g.n, dg_hit_at(&g, k, sb), dg_vel(&g, 0.12), &g.r);
      if (s == 0 && crash)
        dg_crash(g.x, g.n, dg_hit_at(&g, k, 0), dg_vel(&g, 0.8), &g.r);
    }
  }
  for (size_t i = 0; i < g.n; ++i)
    g.x[i] *= 0.5f;
  *n_out = g.n;
  *t0_out = g.t0;
  *nb_out = g.nb;
  return g.x;
}

#endif
