/* A trace fed beside its meter (sg__trace_add_metered): the short-term loudness and the columns'
 * true peaks read from the meter are bit for bit the trace's own, and the meter's results its own
 * alone, whatever the pieces, with a NaN and an Inf in the stream; a meter fed otherwise, or of
 * another channel count, is refused. */
#include "sg_test.h"

#include "report/trace_internal.h"
#include "stemgate/analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { RATE = 48000, CH = 2 };

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
      cmocka_unit_test(test_metered_equals_own),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
