/* sg__crc32 (package_internal.h, the zip reader's CRC-32 by carry-less multiplication) against
 * zlib's crc32_z: every length 0..1100 at every alignment 0..15, a few long buffers, chained
 * calls (a CRC continued over split buffers equals the whole one's), buffers of all zeros and
 * all ones (where a wrong fold constant or reduction is most visible). */
#include "sg_test.h"

#include "package/package_internal.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint32_t ref(uint32_t c, const unsigned char *p, size_t n) {
  return (uint32_t)crc32_z(c, p, (z_size_t)n);
}

static void fill(unsigned char *p, size_t n, unsigned seed) {
  uint32_t s = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    p[i] = (unsigned char)(s >> 24);
  }
}

static void every_length_and_alignment(void **state) {
  (void)state;
  unsigned char *b = malloc(1200);
  assert_non_null(b);
  fill(b, 1200, 1);
  for (size_t off = 0; off < 16; ++off)
    for (size_t n = 0; n + off <= 1116 && n <= 1100; ++n)
      assert_int_equal(sg__crc32(0, b + off, n), ref(0, b + off, n));
  free(b);
}

static void long_and_chained(void **state) {
  (void)state;
  const size_t N = (size_t)5 << 20;
  unsigned char *b = malloc(N);
  assert_non_null(b);
  fill(b, N, 7);
  const uint32_t whole = ref(0, b, N);
  assert_int_equal(sg__crc32(0, b, N), whole);
  /* Split at odd places: the running CRC carries across calls as zlib's does. */
  size_t cuts[] = {0, 1, 63, 64, 65, 1000, 65536 + 3, (size_t)1 << 20, N - 17, N};
  uint32_t c = 0;
  for (size_t i = 0; i + 1 < sizeof cuts / sizeof *cuts; ++i)
    c = sg__crc32(c, b + cuts[i], cuts[i + 1] - cuts[i]);
  assert_int_equal(c, whole);
  assert_int_equal(sg__crc32(0x12345678u, b + 5, N - 5), ref(0x12345678u, b + 5, N - 5));
  memset(b, 0, N);
  assert_int_equal(sg__crc32(0, b, N), ref(0, b, N));
  memset(b, 0xff, N);
  assert_int_equal(sg__crc32(0, b, 4096), ref(0, b, 4096));
  assert_int_equal(sg__crc32(0xffffffffu, b, 4099), ref(0xffffffffu, b, 4099));
  free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_length_and_alignment),
      cmocka_unit_test(long_and_chained),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
