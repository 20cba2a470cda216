/* A finished trace saved and loaded (sg_trace_save / sg_trace_load): the same columns come
 * back bit for bit; a file saved for another key, another loudness flag, truncated, or with a
 * header that does not match its length is refused; a loaded trace cannot be fed. */
#include "sg_test.h"

#include "stemgate/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *KEY = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const char *OTHER = "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static sg_trace *made(int loud) {
  const unsigned rate = 48000, ch = 2;
  const int64_t frames = rate * 4;
  sg_trace_config c = {ch, rate, frames, 0, loud};
  sg_trace *t = NULL;
  assert_int_equal(sg_trace_create(&t, &c, NULL), SG_OK);
  float *x = malloc((size_t)frames * ch * sizeof *x);
  assert_non_null(x);
  for (int64_t i = 0; i < frames; ++i)
    for (unsigned k = 0; k < ch; ++k)
      x[i * ch + k] = (float)(0.5 * sin(0.01 * (double)i * (k + 1)) * (double)i / (double)frames);
  assert_int_equal(sg_trace_add(t, x, (size_t)frames), SG_OK);
  free(x);
  return t;
}

static void assert_same_wave(const sg_trace *a, const sg_trace *b, int loud) {
  sg_report_wave x, y;
  assert_int_equal(sg_report_wave_from(&x, a), SG_OK);
  assert_int_equal(sg_report_wave_from(&y, b), SG_OK);
  assert_int_equal(x.n, y.n);
  assert_true(x.n > 0);
  assert_true(x.col_s == y.col_s);
  assert_memory_equal(x.lo, y.lo, (size_t)x.n * sizeof(float));
  assert_memory_equal(x.hi, y.hi, (size_t)x.n * sizeof(float));
  if (loud) {
    assert_memory_equal(x.st_lufs, y.st_lufs, (size_t)x.n * sizeof(float));
    assert_memory_equal(x.tp_dbtp, y.tp_dbtp, (size_t)x.n * sizeof(float));
  } else {
    assert_null(y.st_lufs);
  }
  free(x.lo), free(x.hi), free(x.st_lufs), free(x.tp_dbtp);
  free(y.lo), free(y.hi), free(y.st_lufs), free(y.tp_dbtp);
}

static void test_round_trip(void **state) {
  (void)state;
  for (int loud = 0; loud <= 1; ++loud) {
    sg_trace *t = made(loud);
    const char *path = sg_test_path(loud ? "m.trace" : "s.trace");
    assert_int_equal(sg_trace_save(t, KEY, path, NULL), SG_OK);
    sg_trace *back = NULL;
    assert_int_equal(sg_trace_load(path, KEY, loud, &back), SG_OK);
    assert_same_wave(t, back, loud);
    float z[2] = {0, 0};
    assert_int_equal(sg_trace_add(back, z, 1), SG_E_INVAL); /* finished */
    sg_trace_free(back);
    /* another file's hash, or the other loudness flag: not this trace */
    assert_int_equal(sg_trace_load(path, OTHER, loud, &back), SG_E_NOTFOUND);
    assert_null(back);
    assert_int_equal(sg_trace_load(path, KEY, !loud, &back), SG_E_NOTFOUND);
    assert_int_equal(sg_trace_load(sg_test_path("absent.trace"), KEY, loud, &back), SG_E_NOTFOUND);
    /* cut short, or one byte too many */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char buf[20000];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    const char *cut = sg_test_path("cut.trace");
    for (int extra = -1; extra <= 1; extra += 2) {
      f = fopen(cut, "wb");
      assert_non_null(f);
      assert_int_equal(fwrite(buf, 1, n + (size_t)extra, f), n + (size_t)extra);
      fclose(f);
      assert_int_equal(sg_trace_load(cut, KEY, loud, &back), SG_E_NOTFOUND);
    }
    /* a bad key is refused before anything is written */
    assert_int_equal(sg_trace_save(t, "abc", path, NULL), SG_E_INVAL);
    sg_trace_free(t);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
