/* The meter's true peak (sg_truepeak, BS.1770-4 Annex 2, 4x polyphase) against libebur128's
 * true-peak mode on the same buffers: sines (with phase offsets that put the crests between
 * samples, near fs/4 and towards fs/2), squares, noise bursts, clipped sines; 44.1 and 48 kHz;
 * mono and stereo. Limit 0.1 dB, except where libebur128's own short interpolator departs from
 * the analytic true peak (printed), where the meter is held to the analytic value instead. */
#include "sg_test.h"

#include "stemgate/analysis.h"

#include <ebur128.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define SECS 1.0
#define SEED 0x7e57ab1eu

typedef enum { SINE, SQUARE, NOISE, CLIPPED } sig_kind;

static uint64_t rng_state;
static double urand(void) {
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(rng_state >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

/* Interleaved test signal; *analytic = its true peak when known in closed form, else -1. */
static float *make(sig_kind k, unsigned rate, unsigned ch, double f, double phase, size_t *nout,
                   double *analytic) {
  size_t n = (size_t)(SECS * rate);
  float *x = malloc(n * ch * sizeof *x);
  assert_non_null(x);
  *analytic = -1;
  for (size_t i = 0; i < n; ++i) {
    /* A raised-cosine fade-in (1000 frames): an abrupt start would ring (Gibbs) above the
     * steady-state peak in any band-limited reconstruction. */
    double fade = i < 1000 ? 0.5 - 0.5 * cos(SG_PI * (double)i / 1000.0) : 1.0;
    for (unsigned c = 0; c < ch; ++c) {
      double t = (double)i / rate, ph = phase + 0.7 * c, v;
      switch (k) {
      case SINE:
        v = 0.5 * sin(2 * SG_PI * f * t + ph);
        *analytic = 0.5;
        break;
      case SQUARE: /* naive (aliased) square: Gibbs overshoot between samples */
        v = 0.4 * (fmod(f * t + ph / (2 * SG_PI), 1.0) < 0.5 ? 1.0 : -1.0);
        break;
      case NOISE: /* 50 ms bursts of full-band noise every 200 ms */
        v = (i % (rate / 5)) < rate / 20 ? 0.6 * urand() : 0.0;
        fade = 1.0;
        break;
      case CLIPPED:
      default: /* a 0 dBFS sine hard-clipped at 0.6 */
        v = sin(2 * SG_PI * f * t + ph);
        v = v > 0.6 ? 0.6 : (v < -0.6 ? -0.6 : v);
        break;
      }
      x[i * ch + c] = (float)(v * fade);
    }
  }
  *nout = n;
  return x;
}

static double ebu_tp(const float *x, size_t n, unsigned ch, unsigned rate) {
  ebur128_state *e = ebur128_init(ch, rate, EBUR128_MODE_TRUE_PEAK);
  assert_non_null(e);
  assert_int_equal(ebur128_add_frames_float(e, x, n), EBUR128_SUCCESS);
  double m = 0;
  for (unsigned c = 0; c < ch; ++c) {
    double v;
    assert_int_equal(ebur128_true_peak(e, c, &v), EBUR128_SUCCESS);
    m = fmax(m, v);
  }
  ebur128_destroy(&e);
  return m;
}

static double meter_tp(const float *x, size_t n, unsigned ch, unsigned rate) {
  sg_meter *m = NULL;
  assert_int_equal(sg_meter_create(&m, ch, rate, SG_METER_TRUE_PEAK, NULL), SG_OK);
  size_t done = 0, blk = 1000; /* uneven blocks: the result must not depend on the cut */
  while (done < n) {
    size_t k = n - done < blk ? n - done : blk;
    assert_int_equal(sg_meter_add(m, x + done * ch, k), SG_OK);
    done += k;
    blk = blk == 1000 ? 333 : 1000;
  }
  sg_meter_result r;
  assert_int_equal(sg_meter_result_get(m, &r), SG_OK);
  sg_meter_free(m);
  double mx = 0;
  for (unsigned c = 0; c < ch; ++c)
    mx = fmax(mx, r.true_peak[c]);
  assert_true(fabs(20 * log10(mx) - r.true_peak_dbtp) < 1e-9);
  return mx;
}

static int failures;

static void check(const char *what, sig_kind k, unsigned rate, unsigned ch, double f,
                  double phase) {
  size_t n;
  double analytic;
  float *x = make(k, rate, ch, f, phase, &n, &analytic);
  double a = 20 * log10(meter_tp(x, n, ch, rate)), b = 20 * log10(ebu_tp(x, n, ch, rate));
  double diff = a - b, ref = b;
  const char *against = "libebur128";
  /* Where libebur128's 12-tap phases under-read a known peak by more than the limit, the
   * analytic value is the reference (the meter must not inherit that error). */
  if (analytic > 0 && fabs(b - 20 * log10(analytic)) > 0.1) {
    ref = 20 * log10(analytic);
    diff = a - ref;
    against = "analytic";
  }
  int ok = fabs(diff) <= 0.1;
  printf("%-8s %6u Hz %u ch f=%7.1f ph=%.2f: meter %+7.3f dBTP, libebur128 %+7.3f, vs %s %+.6f "
         "dB (limit 0.1) %s\n",
         what, rate, ch, f, phase, a, b, against, diff, ok ? "ok" : "FAIL");
  (void)ref;
  failures += !ok;
  free(x);
}

static void meter_true_peak_matches_libebur128(void **state) {
  (void)state;
  rng_state = SEED;
  printf("seed %#x\n", SEED);
  failures = 0;
  static const unsigned rates[] = {44100, 48000};
  for (int ri = 0; ri < 2; ++ri) {
    unsigned R = rates[ri];
    for (unsigned ch = 1; ch <= 2; ++ch) {
      static const double rel[] = {997.0 / 48000, 0.25, 0.25, 0.3, 0.4, 0.45};
      static const double phs[] = {0.3, SG_PI / 4, 1.1, 0.5, 0.2, 0.9};
      for (int i = 0; i < 6; ++i)
        check("sine", SINE, R, ch, rel[i] * R, phs[i]);
      check("square", SQUARE, R, ch, 1000, 0.1);
      check("square", SQUARE, R, ch, 3001, 0.4);
      check("noise", NOISE, R, ch, 0, 0);
      check("clipped", CLIPPED, R, ch, 440, 0.2);
      check("clipped", CLIPPED, R, ch, 5000, 0.6);
    }
  }
  assert_int_equal(failures, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(meter_true_peak_matches_libebur128),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
