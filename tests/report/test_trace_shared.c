/* The master's trace fed beside its meter (sg__trace_add_shared): the short-term loudness read
 * from the meter's K-weighting is bit for bit the trace's own, whatever the pieces, with a NaN
 * and an Inf in the stream; a piece across a column's end, or a loudness of another channel
 * count, is refused. */
#include "sg_test.h"

#include "report/trace_internal.h"
#include "stemgate/analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { RATE = 48000, CH = 2 };

static void test_shared_equals_own(void **state) {
  (void)state;
  const int64_t frames = (int64_t)RATE * 5 + 1234; /* not a whole number of columns */
  float *x = malloc((size_t)frames * CH * sizeof *x);
  assert_non_null(x);
  for (int64_t i = 0; i < frames; ++i)
    for (unsigned k = 0; k < CH; ++k)
      x[i * CH + k] = (float)(0.6 * sin(0.013 * (double)i * (k + 1)) *
                              (0.2 + 0.8 * fabs(sin((double)i / (double)RATE))));
  x[RATE * CH + 1] = NAN;
  x[2 * RATE * CH] = INFINITY;
  sg_trace_config c = {CH, RATE, frames, 0, 1};
  sg_trace *own = NULL, *sh = NULL;
  sg_meter *m = NULL;
  assert_int_equal(sg_trace_create(&own, &c, NULL), SG_OK);
  assert_int_equal(sg_trace_create(&sh, &c, NULL), SG_OK);
  assert_int_equal(sg_meter_create(&m, CH, RATE, SG_METER_ALL, NULL), SG_OK);
  assert_int_equal(sg_trace_add(own, x, (size_t)frames), SG_OK);
  const sg__loud *lm = sg__meter_loud(m);
  assert_non_null(lm);
  size_t piece = 777, off = 0;
  while (off < (size_t)frames) {
    size_t k = (size_t)frames - off < piece ? (size_t)frames - off : piece;
    size_t room = sg__trace_room(sh);
    if (room > 0 && room < k && room != SIZE_MAX) {
      /* across the column's end: refused, nothing fed */
      assert_int_equal(sg__trace_add_shared(sh, x + off * CH, room + 1, lm), SG_E_INVAL);
      k = room;
    }
    assert_int_equal(sg_meter_add(m, x + off * CH, k), SG_OK);
    assert_int_equal(sg__trace_add_shared(sh, x + off * CH, k, lm), SG_OK);
    off += k;
    piece = piece * 5 % 9001 + 1; /* pieces of every size */
  }
  sg_report_wave a, b;
  assert_int_equal(sg_report_wave_from(&a, own), SG_OK);
  assert_int_equal(sg_report_wave_from(&b, sh), SG_OK);
  assert_int_equal(a.n, b.n);
  assert_true(a.st_lufs[a.n / 2] > -40.0f); /* measured, not silence */
  assert_memory_equal(a.st_lufs, b.st_lufs, (size_t)a.n * sizeof(float));
  assert_memory_equal(a.tp_dbtp, b.tp_dbtp, (size_t)a.n * sizeof(float));
  assert_memory_equal(a.lo, b.lo, (size_t)a.n * sizeof(float));
  assert_memory_equal(a.hi, b.hi, (size_t)a.n * sizeof(float));
  free(a.lo), free(a.hi), free(a.st_lufs), free(a.tp_dbtp);
  free(b.lo), free(b.hi), free(b.st_lufs), free(b.tp_dbtp);
  /* a loudness of another channel count */
  sg_meter *mono = NULL;
  sg_trace *t2 = NULL;
  assert_int_equal(sg_meter_create(&mono, 1, RATE, SG_METER_LOUDNESS, NULL), SG_OK);
  assert_int_equal(sg_trace_create(&t2, &c, NULL), SG_OK);
  assert_int_equal(sg__trace_add_shared(t2, x, 10, sg__meter_loud(mono)), SG_E_INVAL);
  /* a meter without loudness has none to share */
  sg_meter *tp_only = NULL;
  assert_int_equal(sg_meter_create(&tp_only, CH, RATE, SG_METER_TRUE_PEAK, NULL), SG_OK);
  assert_null(sg__meter_loud(tp_only));
  sg_meter_free(tp_only);
  sg_meter_free(mono);
  sg_trace_free(t2);
  sg_meter_free(m);
  sg_trace_free(own);
  sg_trace_free(sh);
  free(x);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shared_equals_own),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
