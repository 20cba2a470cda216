/* The meter's loudness (src/analysis/loudness.c: ITU-R BS.1770-4, EBU R128) against libebur128,
 * the reference it replaced, on varied material (sines from 20 Hz to 18 kHz at several levels,
 * noise, material gated by silences, a crescendo; mono, stereo, 5.1; 44.1, 48 and 96 kHz; 0.2,
 * 2.9 and 30 s), and the EBU Tech 3341 / 3342 cases that can be synthesised.
 *
 * Limits: integrated, momentary maximum and short-term maximum within 0.01 LU of libebur128
 * read the way the meter reads it (every 100 ms once the window is full; material under 3 s:
 * its one short-term window). LRA within 0.05 LU of the Tech 3342 (2016) computation on
 * libebur128's short-term values read at 10 Hz; libebur128's own LRA takes them at 1 Hz (the
 * 2011 text), so against it the limit holds only for steady material (printed for the rest). */
#include "sg_test.h"

#include "analysis/loudness.h"
#include "stemgate/analysis.h"

#include <ebur128.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ref {
  double i, m_max, s_max, lra10, lra_lib;
} ref;

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* libebur128, fed in 100 ms pieces and read as the meter reads. */
static void reference(const float *x, size_t n, unsigned ch, unsigned rate, ref *r) {
  ebur128_state *e = ebur128_init(ch, rate, EBUR128_MODE_I | EBUR128_MODE_S | EBUR128_MODE_LRA);
  assert_non_null(e);
  size_t step = (rate + 5) / 10, fed = 0, nst = 0;
  double *st = malloc((n / step + 1) * sizeof *st);
  assert_non_null(st);
  r->m_max = r->s_max = -HUGE_VAL;
  while (fed < n) {
    size_t k = n - fed < step ? n - fed : step;
    assert_int_equal(ebur128_add_frames_float(e, x + fed * ch, k), EBUR128_SUCCESS);
    fed += k;
    if (k < step)
      break;
    double v;
    if (fed >= 4 * step && ebur128_loudness_momentary(e, &v) == EBUR128_SUCCESS && v > r->m_max)
      r->m_max = v;
    if (fed >= 30 * step && ebur128_loudness_shortterm(e, &v) == EBUR128_SUCCESS) {
      if (v > r->s_max)
        r->s_max = v;
      if (v >= -70.0)
        st[nst++] = pow(10.0, (v + 0.691) / 10.0);
    }
  }
  double v;
  if (n < 30 * step && ebur128_loudness_shortterm(e, &v) == EBUR128_SUCCESS && v > r->s_max)
    r->s_max = v;
  assert_int_equal(ebur128_loudness_global(e, &r->i), EBUR128_SUCCESS);
  assert_int_equal(ebur128_loudness_range(e, &r->lra_lib), EBUR128_SUCCESS);
  /* Tech 3342 on the 10 Hz short-term values */
  r->lra10 = 0;
  double sum = 0;
  for (size_t i = 0; i < nst; ++i)
    sum += st[i];
  size_t m = 0;
  for (size_t i = 0; i < nst; ++i)
    if (st[i] >= sum / (double)nst * 0.01)
      st[m++] = st[i];
  if (m) {
    qsort(st, m, sizeof *st, cmp_d);
    r->lra10 = 10.0 * log10(st[(size_t)((double)(m - 1) * 0.95 + 0.5)] /
                            st[(size_t)((double)(m - 1) * 0.10 + 0.5)]);
  }
  free(st);
  ebur128_destroy(&e);
}

static void meter(const float *x, size_t n, unsigned ch, unsigned rate, sg_meter_result *r) {
  sg_meter *m = NULL;
  assert_int_equal(sg_meter_create(&m, ch, rate, SG_METER_LOUDNESS, NULL), SG_OK);
  size_t done = 0, blk = 1237; /* blocks that do not line up with 100 ms */
  while (done < n) {
    size_t k = n - done < blk ? n - done : blk;
    assert_int_equal(sg_meter_add(m, x + done * ch, k), SG_OK);
    done += k;
    blk = blk == 1237 ? 4096 : 1237;
  }
  assert_int_equal(sg_meter_result_get(m, r), SG_OK);
  sg_meter_free(m);
}

/* -inf (libebur128) and SG_SILENCE_DB (the meter) both mean "nothing". */
static double clampv(double v) { return v > SG_SILENCE_DB ? v : SG_SILENCE_DB; }

static uint32_t rng = 12345;
static double noise(void) {
  rng = rng * 1664525u + 1013904223u;
  return (double)(rng >> 8) / 8388608.0 - 1.0;
}

enum { SINE, NOISE, GATED, CRESCENDO };

/* Channel c gets a slightly different level and phase, so weights and channels both count. */
static float *make(int kind, unsigned ch, unsigned rate, double secs, double hz, double db,
                   size_t *n) {
  *n = (size_t)(secs * rate);
  float *x = malloc(*n * ch * sizeof *x);
  assert_non_null(x);
  double amp = pow(10.0, db / 20.0);
  for (size_t i = 0; i < *n; ++i) {
    double t = (double)i / rate;
    for (unsigned c = 0; c < ch; ++c) {
      double a = amp * (1.0 - 0.07 * c);
      double v = 0;
      switch (kind) {
      case SINE:
        v = a * sin(2 * SG_PI * hz * t + 0.4 * c);
        break;
      case NOISE:
        v = a * noise();
        break;
      case GATED: /* 1.3 s on, 0.9 s of silence, louder bursts every third */
        v = fmod(t, 2.2) < 1.3 ? a * sin(2 * SG_PI * hz * t) * (fmod(t, 6.6) < 2.2 ? 2.0 : 0.5)
                               : 0.0;
        break;
      default: /* crescendo: 40 dB over the length */
        v = a * pow(10.0, (-40.0 + 40.0 * t / secs) / 20.0) *
            (0.6 * sin(2 * SG_PI * hz * t) + 0.4 * noise());
      }
      x[i * ch + c] = (float)v;
    }
  }
  return x;
}

static int failures;
static double worst_lu, worst_lra; /* largest differences seen */

static void check(const char *what, double got, double want, double lim) {
  got = clampv(got);
  want = clampv(want);
  double *w = lim > 0.01 ? &worst_lra : &worst_lu;
  if (fabs(got - want) > *w)
    *w = fabs(got - want);
  int ok = fabs(got - want) <= lim;
  if (!ok) {
    printf("  FAIL %s: meter %.4f reference %.4f (limit %.3f)\n", what, got, want, lim);
    failures++;
  }
}

static void one(int kind, unsigned ch, unsigned rate, double secs, double hz, double db) {
  size_t n;
  float *x = make(kind, ch, rate, secs, hz, db, &n);
  ref r;
  reference(x, n, ch, rate, &r);
  sg_meter_result m;
  meter(x, n, ch, rate, &m);
  static const char *kn[] = {"sine", "noise", "gated", "crescendo"};
  printf("%-9s %u ch %5u Hz %4.1f s %6.0f Hz %4.0f dB: I %8.3f/%8.3f M %8.3f/%8.3f S %8.3f/%8.3f "
         "LRA %.3f/%.3f (lib 1 Hz %.3f)\n",
         kn[kind], ch, rate, secs, hz, db, m.integrated_lufs, clampv(r.i), m.momentary_max_lufs,
         clampv(r.m_max), m.short_term_max_lufs, clampv(r.s_max), m.loudness_range_lu, r.lra10,
         r.lra_lib);
  check("integrated", m.integrated_lufs, r.i, 0.01);
  check("momentary max", m.momentary_max_lufs, r.m_max, 0.01);
  check("short-term max", m.short_term_max_lufs, r.s_max, 0.01);
  check("LRA (10 Hz)", m.loudness_range_lu, r.lra10, 0.05);
  if (kind == SINE || kind == NOISE)
    check("LRA (libebur128)", m.loudness_range_lu, r.lra_lib, 0.05);
  free(x);
}

static void matches_libebur128(void **state) {
  (void)state;
  static const unsigned rates[] = {44100, 48000, 96000};
  static const unsigned chans[] = {1, 2, 6};
  static const double lens[] = {0.2, 2.9, 30.0};
  failures = 0;
  for (int ri = 0; ri < 3; ++ri)
    for (int ci = 0; ci < 3; ++ci)
      for (int li = 0; li < 3; ++li) {
        unsigned rate = rates[ri], ch = chans[ci];
        double secs = lens[li];
        if (li == 2 && ci != 1)
          continue; /* 30 s: stereo here, mono and 5.1 below (seconds of test, not minutes) */
        one(SINE, ch, rate, secs, 997, -18);
        one(NOISE, ch, rate, secs, 0, -30);
        if (li == 2) {
          one(SINE, ch, rate, secs, 20, -6);
          one(SINE, ch, rate, secs, 18000, -40);
        }
        if (li == 2 && rate == 48000) {
          one(SINE, ch, rate, secs, 100, -65);
          one(GATED, ch, rate, secs, 440, -20);
          one(CRESCENDO, ch, rate, secs, 220, -3);
        }
      }
  one(GATED, 1, 48000, 30, 3000, -24);
  one(CRESCENDO, 6, 48000, 30, 60, -10);
  one(SINE, 2, 48000, 30, 1000, -75); /* under the absolute gate: nothing integrated */
  printf("largest difference: I/M/S %.2e LU, LRA %.2e LU\n", worst_lu, worst_lra);
  assert_int_equal(failures, 0);
}

/* EBU Tech 3341 (2016) cases 1-5 and Tech 3342 cases 1-4: stereo 1 kHz sines, amplitude in
 * dBFS per channel, as segments (level, seconds). */
typedef struct seg {
  double db, secs;
} seg;

static void ebu_case(const seg *s, int nseg, unsigned rate, double want_i, double want_lra,
                     double want_m, double want_s) {
  size_t n = 0;
  for (int k = 0; k < nseg; ++k)
    n += (size_t)llround(s[k].secs * rate);
  float *x = malloc(2 * n * sizeof *x);
  assert_non_null(x);
  size_t i = 0;
  for (int k = 0; k < nseg; ++k) {
    size_t m = (size_t)llround(s[k].secs * rate);
    double a = pow(10.0, s[k].db / 20.0);
    for (size_t j = 0; j < m; ++j, ++i)
      x[2 * i] = x[2 * i + 1] = (float)(a * sin(2 * SG_PI * 1000.0 * (double)i / rate));
  }
  sg_meter_result r;
  meter(x, n, 2, rate, &r);
  printf("EBU case (%d segments, %u Hz): I %.3f LUFS LRA %.3f LU M max %.3f S max %.3f\n", nseg,
         rate, r.integrated_lufs, r.loudness_range_lu, r.momentary_max_lufs, r.short_term_max_lufs);
  if (!isnan(want_i))
    assert_true(fabs(r.integrated_lufs - want_i) <= 0.1);
  if (!isnan(want_lra))
    assert_true(fabs(r.loudness_range_lu - want_lra) <= 1.0); /* Tech 3342: +-1 LU */
  if (!isnan(want_m))
    assert_true(fabs(r.momentary_max_lufs - want_m) <= 0.1);
  if (!isnan(want_s))
    assert_true(fabs(r.short_term_max_lufs - want_s) <= 0.1);
  free(x);
}

static void ebu_tech_3341_3342(void **state) {
  (void)state;
  const double no = NAN;
  for (unsigned rate = 44100; rate <= 48000; rate += 3900) {
    seg c1[] = {{-23, 20}};
    ebu_case(c1, 1, rate, -23.0, no, -23.0, -23.0);
    seg c2[] = {{-33, 20}};
    ebu_case(c2, 1, rate, -33.0, no, -33.0, -33.0);
    seg c3[] = {{-36, 10}, {-23, 60}, {-36, 10}};
    ebu_case(c3, 3, rate, -23.0, no, no, -23.0);
    seg c4[] = {{-72, 10}, {-36, 10}, {-23, 60}, {-36, 10}, {-72, 10}};
    ebu_case(c4, 5, rate, -23.0, no, no, -23.0);
    seg c5[] = {{-26, 20}, {-20, 20.1}, {-26, 20}};
    ebu_case(c5, 3, rate, -23.0, no, -20.0, -20.0);
    seg l1[] = {{-20, 20}, {-30, 20}};
    ebu_case(l1, 2, rate, no, 10.0, no, no);
    seg l2[] = {{-20, 20}, {-15, 20}};
    ebu_case(l2, 2, rate, no, 5.0, no, no);
    seg l3[] = {{-40, 20}, {-20, 20}};
    ebu_case(l3, 2, rate, no, 20.0, no, no);
    seg l4[] = {{-50, 20}, {-35, 20}, {-20, 20}, {-35, 20}, {-50, 20}};
    ebu_case(l4, 5, rate, no, 15.0, no, no);
  }
}

/* Silence, a sub-block, and the K-weighting at 48 kHz: BS.1770-4 Table 1 and 2. */
static void edges_and_coefficients(void **state) {
  (void)state;
  sg__loud l;
  sg__loud_init(&l, 2, 48000);
  assert_true(fabs(l.b0[0] - 1.53512485958697) < 1e-8);
  assert_true(fabs(l.b0[1] + 2.69169618940638) < 1e-8);
  assert_true(fabs(l.b0[2] - 1.19839281085285) < 1e-8);
  assert_true(fabs(l.a0[0] + 1.69065929318241) < 1e-8);
  assert_true(fabs(l.a0[1] - 0.73248077421585) < 1e-8);
  assert_true(fabs(l.a1[0] + 1.99004745483398) < 1e-8);
  assert_true(fabs(l.a1[1] - 0.99007225036621) < 1e-8);
  float z[2 * 4800] = {0};
  const float *chp[2] = {z, z + 1};
  assert_int_equal(sg__loud_add(&l, chp, 2, 4800), SG_OK);
  assert_true(sg__loud_integrated(&l) == SG_SILENCE_DB);
  double lra = -1;
  assert_int_equal(sg__loud_range(&l, &lra), SG_OK);
  assert_true(lra == 0);
  sg__loud_free(&l);
  /* 5.1: the surrounds weigh 1.41 (+1.49 dB), the LFE nothing */
  sg__loud_init(&l, 6, 48000);
  assert_true(l.w[0] == 1.0 && l.w[2] == 1.0 && l.w[3] == 0.0 && l.w[4] == 1.41);
  sg__loud_free(&l);
  sg__loud_init(&l, 1, 44100);
  assert_true(l.w[0] == 1.0 && l.sub == 4410);
  sg__loud_free(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(edges_and_coefficients),
      cmocka_unit_test(ebu_tech_3341_3342),
      cmocka_unit_test(matches_libebur128),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
