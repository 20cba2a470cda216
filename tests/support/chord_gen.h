/* Chord-chart songs synthesised in C for the key tests: one chord symbol per bar (theory's
 * parser), each chord's tones as additive-harmonic notes around middle C for the whole bar and
 * its root in the bass register (C2..B2, 65-123 Hz) on every half bar, so the pitch classes,
 * the bass and the strong-beat roots are those of the chart and nothing else. */
#ifndef SG_CHORD_GEN_H
#define SG_CHORD_GEN_H

#include "stemgate/theory.h"

#include <math.h>
#include <string.h>

#define CG_CHORD_AMP 0.08 /* each chord note (6 partials at 1/h)  */
#define CG_BASS_AMP 0.16  /* the bass note (6 partials at 1/h)     */

/* Adds an additive tone (6 partials at 1/h, 10 ms ramps) at midi from t0 for dur seconds. */
static inline void cg_tone(float *x, size_t n, unsigned rate, double t0, double dur, double midi,
                           double amp) {
  double hz = 440.0 * pow(2.0, (midi - 69.0) / 12.0);
  long s0 = lround(t0 * rate), len = lround(dur * rate), ramp = (long)(0.01 * rate);
  for (long i = 0; i < len; ++i) {
    long j = s0 + i;
    if (j < 0 || j >= (long)n)
      continue;
    double env = i < ramp ? (double)i / ramp : len - i < ramp ? (double)(len - i) / ramp : 1;
    double u = (double)i / rate, v = 0;
    for (int h = 1; h <= 6; ++h)
      if (hz * h < 0.45 * rate)
        v += sin(2 * 3.14159265358979323846 * hz * h * u) / h;
    x[j] += (float)(amp * env * v);
  }
}

/* Adds the chart "Em7 | A | ..." (bars separated by '|') from t0, bar_s seconds a bar. Returns
 * the number of bars, -1 when a symbol does not parse. */
static inline int cg_chart(float *x, size_t n, unsigned rate, double t0, double bar_s,
                           const char *chart) {
  int bars = 0;
  const char *p = chart;
  while (*p) {
    const char *e = strchr(p, '|');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    sg_chord c;
    if (sg_chord_parse_n(p, len, 0, &c, NULL) != SG_OK)
      return -1;
    double t = t0 + bars * bar_s;
    for (int k = 0; k < c.n_tones; ++k)
      cg_tone(x, n, rate, t, bar_s - 0.02, 60 + (c.root + c.tones[k]) % 12, CG_CHORD_AMP);
    for (int h = 0; h < 2; ++h)
      cg_tone(x, n, rate, t + h * bar_s / 2, bar_s / 2 - 0.02, 36 + c.bass, CG_BASS_AMP);
    bars++;
    if (!e)
      break;
    p = e + 1;
  }
  return bars;
}

#endif
