/* A trace fed beside its meter (sg__trace_add_shared, sg__trace_add_metered): the short-term
 * loudness and the columns' true peaks read from the meter are bit for bit the trace's own, and
 * the meter's results its own alone, whatever the pieces, with a NaN and an Inf in the stream; a
 * piece across a column's end, or a meter of another channel count, is refused. */
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

/* n frames of ch channels: each channel loudest in its own stretch (so a column's loudest channel
 * is not every channel's loudest), inter-sample peaks near Nyquist, a NaN and an Inf. */
static float *signal(int64_t n, unsigned ch) {
  float *x = malloc((size_t)n * ch * sizeof *x);
  assert_non_null(x);
  for (int64_t i = 0; i < n; ++i)
    for (unsigned k = 0; k < ch; ++k) {
      const double env = 0.1 + 0.85 * fabs(sin((double)i / RATE * 0.7 + k));
      x[i * ch + k] = (float)(env * (0.5 * sin(1.5707963 * (double)i + 0.785 + k) +
                                     0.4 * sin(0.011 * (double)i * (k + 1))));
    }
  x[(n / 3) * ch] = NAN;
  x[(n / 2) * ch + ch - 1] = -INFINITY;
  return x;
}

/* sg__trace_add_metered: the columns' true peaks and loudness read from the meter are the
 * trace's own to the bit, and the meter's every result is that of a meter fed alone, for any
 * pieces and channel count; mixing the ways of feeding is refused. */
static void test_metered_equals_own(void **state) {
  (void)state;
  const unsigned chans[] = {1, 2, 3};
  for (int v = 0; v < 3; ++v) {
    const unsigned ch = chans[v];
    const int64_t frames = (int64_t)RATE * 4 + 999;
    float *x = signal(frames, ch);
    sg_trace_config c = {ch, RATE, frames, 0, 1};
    sg_trace *own = NULL, *mt = NULL;
    sg_meter *alone = NULL, *m = NULL;
    assert_int_equal(sg_trace_create(&own, &c, NULL), SG_OK);
    assert_int_equal(sg_trace_create(&mt, &c, NULL), SG_OK);
    assert_int_equal(sg_meter_create(&alone, ch, RATE, SG_METER_ALL, NULL), SG_OK);
    assert_int_equal(sg_meter_create(&m, ch, RATE, SG_METER_ALL, NULL), SG_OK);
    assert_int_equal(sg_trace_add(own, x, (size_t)frames), SG_OK);
    assert_int_equal(sg_meter_add(alone, x, (size_t)frames), SG_OK);
    size_t piece = 1 + v * 100, off = 0;
    while (off < (size_t)frames) {
      size_t k = (size_t)frames - off < piece ? (size_t)frames - off : piece;
      assert_int_equal(sg__trace_add_metered(mt, m, x + off * ch, k), SG_OK);
      off += k;
      piece = piece * 7 % 20011 + 1; /* across column ends too */
    }
    assert_int_equal(sg_trace_add(mt, x, 1), SG_E_INVAL); /* its meter would miss it */
    sg_report_wave a, b;
    assert_int_equal(sg_report_wave_from(&a, own), SG_OK);
    assert_int_equal(sg_report_wave_from(&b, mt), SG_OK);
    assert_int_equal(a.n, b.n);
    assert_true(a.tp_dbtp[a.n / 2] > -20.0f && a.tp_dbtp[a.n / 2] < 6.0f);
    assert_memory_equal(a.tp_dbtp, b.tp_dbtp, (size_t)a.n * sizeof(float));
    assert_memory_equal(a.st_lufs, b.st_lufs, (size_t)a.n * sizeof(float));
    assert_memory_equal(a.lo, b.lo, (size_t)a.n * sizeof(float));
    assert_memory_equal(a.hi, b.hi, (size_t)a.n * sizeof(float));
    sg_meter_result ra, rb;
    assert_int_equal(sg_meter_result_get(alone, &ra), SG_OK);
    assert_int_equal(sg_meter_result_get(m, &rb), SG_OK);
    assert_true(rb.flags & SG_METER_TRUE_PEAK);
    assert_true(ra.true_peak[0] > ra.sample_peak[0]); /* an inter-sample peak */
    assert_memory_equal(ra.true_peak, rb.true_peak, sizeof ra.true_peak);
    assert_true(ra.true_peak_dbtp == rb.true_peak_dbtp);
    assert_true(ra.integrated_lufs == rb.integrated_lufs);
    assert_true(ra.loudness_range_lu == rb.loudness_range_lu);
    assert_memory_equal(ra.rms, rb.rms, sizeof ra.rms);
    assert_true(ra.nan_count == 1 && rb.nan_count == 1 && rb.inf_count == 1);
    /* the largest column's true peak is the meter's, every channel */
    float top = -1000;
    for (int i = 0; i < b.n; ++i)
      top = b.tp_dbtp[i] > top ? b.tp_dbtp[i] : top;
    assert_true(top == (float)rb.true_peak_dbtp);
    free(a.lo), free(a.hi), free(a.st_lufs), free(a.tp_dbtp);
    free(b.lo), free(b.hi), free(b.st_lufs), free(b.tp_dbtp);
    sg_meter_free(alone);
    sg_meter_free(m);
    sg_trace_free(own);
    sg_trace_free(mt);
    free(x);
  }
  /* a meter fed what the trace was not, or of another channel count */
  float z[8] = {0};
  sg_trace_config c = {2, RATE, RATE, 0, 1};
  sg_trace *t = NULL;
  sg_meter *m = NULL, *mono = NULL;
  assert_int_equal(sg_trace_create(&t, &c, NULL), SG_OK);
  assert_int_equal(sg_meter_create(&m, 2, RATE, SG_METER_ALL, NULL), SG_OK);
  assert_int_equal(sg_meter_create(&mono, 1, RATE, SG_METER_ALL, NULL), SG_OK);
  assert_int_equal(sg__trace_add_metered(t, mono, z, 1), SG_E_INVAL);
  assert_int_equal(sg_meter_add(m, z, 1), SG_OK);
  assert_int_equal(sg__trace_add_metered(t, m, z, 1), SG_E_INVAL);
  assert_int_equal(sg__meter_columns(m, 100, 10), SG_E_INVAL); /* fed already */
  sg_meter_free(m);
  sg_meter_free(mono);
  sg_trace_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shared_equals_own),
      cmocka_unit_test(test_metered_equals_own),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
