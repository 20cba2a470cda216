/* Fine onset alignment (sg_align_onsets): known offsets of synthetic onset lists recovered to
 * 1e-9 s when exact and to 0.1 ms when quantised to 1 ms blocks, outliers (extra, missing and
 * late onsets) rejected, the window respected, too few matches -> SG_E_NOTFOUND, empty or bad
 * input -> SG_E_INVAL. */
#include "sg_test.h"

#include "stemgate/analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define SEED 20261124u
#define CAP 512

/* Irregular ascending onset times from 0.3 s up to secs (gaps 80..330 ms, like test_align). */
static size_t onset_times(double secs, uint64_t seed, double *t, size_t cap) {
  sg_rng g;
  sg_rng_seed(&g, seed, 7);
  size_t k = 0;
  double now = 0.3;
  while (now < secs && k < cap) {
    t[k++] = now;
    now += 0.08 + sg_rng_range(&g, 0, 0.25);
  }
  return k;
}

static void known_offsets(void **state) {
  (void)state;
  printf("seed %u\n", SEED);
  static double a[CAP], b[CAP];
  size_t n = onset_times(30, SEED, a, CAP);
  assert_true(n > 50);
  const double offsets[] = {0.0123, -0.0087, 0.0, 0.00025};
  for (size_t o = 0; o < sizeof offsets / sizeof *offsets; ++o) {
    for (size_t i = 0; i < n; ++i)
      b[i] = a[i] + offsets[o];
    /* The coarse lag is a few ms off, as sg_align_files' envelope peak can be. */
    double coarse = offsets[o] + 0.004, off = 1e9;
    size_t m = 0;
    assert_int_equal(sg_align_onsets(a, n, b, n, coarse, -1, 100, 0.030, 4, &off, &m, NULL), SG_OK);
    printf("offset %.4f ms: measured %.6f ms, %zu matched\n", 1000 * offsets[o], 1000 * off, m);
    assert_int_equal(m, n);
    assert_true(fabs(off - offsets[o]) < 1e-9);
  }
}

/* Refined onsets are quantised to ~1 ms blocks: the mean around the median resolves a 0.4 ms
 * offset that any single difference (0 or 1 ms) cannot. Tolerance 0.1 ms. */
static void quantised_offset_resolved(void **state) {
  (void)state;
  printf("seed %u\n", SEED + 1);
  static double a[CAP], b[CAP];
  size_t n = onset_times(60, SEED + 1, a, CAP);
  /* True attack times u = a[i] at random phases of the block; each file reads its block. */
  for (size_t i = 0; i < n; ++i) {
    double u = a[i];
    a[i] = floor(u * 1000) / 1000;
    b[i] = floor((u + 0.0004) * 1000) / 1000;
  }
  double off = 0;
  size_t m = 0;
  assert_int_equal(sg_align_onsets(a, n, b, n, 0, 0, 100, 0.030, 4, &off, &m, NULL), SG_OK);
  printf("quantised: measured %.4f ms (expect 0.40 +- 0.10), %zu matched\n", 1000 * off, m);
  assert_int_equal(m, n);
  assert_true(fabs(off - 0.0004) < 0.0001);
}

/* b = a + 5 ms, plus: every 7th b onset 10 ms late (inside the 30 ms tolerance, outside 2 ms
 * of the median: matched but not averaged), every 11th a onset missing from b, and extra b
 * onsets 60 ms after some a onsets (no a onset within tolerance: not matched). */
static void outliers_rejected(void **state) {
  (void)state;
  printf("seed %u\n", SEED + 2);
  static double a[CAP], b[2 * CAP];
  size_t n = onset_times(30, SEED + 2, a, CAP), nb = 0, late = 0, kept = 0;
  for (size_t i = 0; i < n; ++i) {
    if (i % 11 == 5)
      continue; /* missing in b */
    double t = a[i] + 0.005;
    if (i % 7 == 3) {
      t += 0.010;
      late++;
    }
    b[nb++] = t;
    kept++;
    /* Extra onset 60 ms later, only where the next a onset is > 100 ms away (so it stays
     * unmatched) and keeping b ascending. */
    if (i % 5 == 0 && i + 1 < n && a[i + 1] - a[i] > 0.1 + 0.015)
      b[nb++] = a[i] + 0.060;
  }
  assert_true(nb > kept);
  double off = 0;
  size_t m = 0;
  assert_int_equal(sg_align_onsets(a, n, b, nb, 0.003, 0, 100, 0.030, 4, &off, &m, NULL), SG_OK);
  printf("outliers: %zu b onsets, %zu matched (%zu late), measured %.6f ms\n", nb, m, late,
         1000 * off);
  assert_int_equal(m, kept);
  assert_true(late > 0);
  assert_true(fabs(off - 0.005) < 1e-9);
}

/* Only b onsets in [t0, t1) count. */
static void window_respected(void **state) {
  (void)state;
  static double a[CAP], b[CAP];
  size_t n = onset_times(30, SEED + 3, a, CAP), inside = 0;
  for (size_t i = 0; i < n; ++i) {
    b[i] = a[i] + 0.002;
    if (b[i] >= 10 && b[i] < 20)
      inside++;
  }
  double off = 0;
  size_t m = 0;
  assert_int_equal(sg_align_onsets(a, n, b, n, 0.002, 10, 20, 0.030, 4, &off, &m, NULL), SG_OK);
  assert_int_equal(m, inside);
  assert_true(fabs(off - 0.002) < 1e-9);
}

/* Fewer than min_matched pairs: SG_E_NOTFOUND, the count is reported, the offset untouched. */
static void too_few_matches(void **state) {
  (void)state;
  const double a[] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0};
  const double b[] = {1.01, 2.01, 3.01, 4.2, 5.2, 6.2}; /* 3 within 30 ms of a + 10 ms */
  double off = 42;
  size_t m = 99;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_align_onsets(a, 6, b, 6, 0.010, 0, 10, 0.030, 4, &off, &m, &d),
                   SG_E_NOTFOUND);
  assert_int_equal(m, 3);
  assert_true(off == 42);
  assert_int_equal(d.status, SG_E_NOTFOUND);
  /* No pair at all (lag far off) is too few even with min_matched 0. */
  assert_int_equal(sg_align_onsets(a, 6, b, 6, 0.5, 0, 10, 0.030, 0, &off, &m, NULL),
                   SG_E_NOTFOUND);
  assert_int_equal(m, 0);
  /* Three are enough when three are asked for. */
  assert_int_equal(sg_align_onsets(a, 6, b, 6, 0.010, 0, 10, 0.030, 3, &off, &m, NULL), SG_OK);
  assert_int_equal(m, 3);
  assert_true(fabs(off - 0.010) < 1e-9);
}

static void bad_input(void **state) {
  (void)state;
  const double a[] = {1.0, 2.0, 3.0};
  double off = 0;
  size_t m = 7;
  assert_int_equal(sg_align_onsets(a, 0, a, 3, 0, 0, 10, 0.03, 1, &off, &m, NULL), SG_E_INVAL);
  assert_int_equal(m, 0);
  assert_int_equal(sg_align_onsets(a, 3, a, 0, 0, 0, 10, 0.03, 1, &off, &m, NULL), SG_E_INVAL);
  assert_int_equal(sg_align_onsets(NULL, 3, a, 3, 0, 0, 10, 0.03, 1, &off, &m, NULL), SG_E_INVAL);
  assert_int_equal(sg_align_onsets(a, 3, NULL, 3, 0, 0, 10, 0.03, 1, &off, &m, NULL), SG_E_INVAL);
  assert_int_equal(sg_align_onsets(a, 3, a, 3, 0, 0, 10, 0.03, 1, NULL, &m, NULL), SG_E_INVAL);
  assert_int_equal(sg_align_onsets(a, 3, a, 3, 0, 10, 0, 0.03, 1, &off, &m, NULL), SG_E_INVAL);
  assert_int_equal(sg_align_onsets(a, 3, a, 3, 0, 0, 10, -0.03, 1, &off, &m, NULL), SG_E_INVAL);
  assert_int_equal(sg_align_onsets(a, 3, a, 3, NAN, 0, 10, 0.03, 1, &off, &m, NULL), SG_E_INVAL);
  /* matched is optional. */
  assert_int_equal(sg_align_onsets(a, 3, a, 3, 0, 0, 10, 0.03, 1, &off, NULL, NULL), SG_OK);
  assert_true(fabs(off) < 1e-12);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(known_offsets),     cmocka_unit_test(quantised_offset_resolved),
      cmocka_unit_test(outliers_rejected), cmocka_unit_test(window_respected),
      cmocka_unit_test(too_few_matches),   cmocka_unit_test(bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
