/* A node's file hashes from the writer's streamed digest (cache.c): taken as they are when the
 * file is still what the writer wrote, read from the file when it was replaced or written to
 * since, so the cache never records a hash of bytes the file no longer holds. */
#include "sg_test.h"

#include "pipeline/pipeline_internal.h"
#include "stemgate/package.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char KEY[65] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void write_wav(const char *p, float level, sg_audio_digest *dg) {
  enum { N = 48000 };
  float *x = malloc(2 * N * sizeof *x);
  for (size_t i = 0; i < 2 * N; ++i)
    x[i] = level * (float)((i * 7919u) % 1000u) / 1000.0f;
  sg_audio_writer_config c;
  sg_audio_writer_config_init(&c);
  memset(dg, 0, sizeof *dg);
  dg->frames = N;
  c.digest = dg;
  assert_int_equal(sg_audio_write_all(p, x, N, &c, NULL), SG_OK);
  assert_int_equal(dg->ok, 1);
  free(x);
}

/* The node's hash and CRC of files[0] with the digest dg, against the file read back. */
static void assert_node_holds_file(const char *p, const sg_audio_digest *dg) {
  sg__node n;
  sg__node_init(&n, KEY);
  const char *files[1] = {p};
  assert_int_equal(sg__node_hash_crc(&n, files, 1, dg, NULL), SG_OK);
  char hex[65];
  uint32_t crc;
  assert_int_equal(sg_package_file_digest(p, hex, &crc, NULL), SG_OK);
  assert_int_equal(n.nf, 1);
  assert_string_equal(n.fsha[0], hex);
  assert_int_equal(n.fcrc[0], crc);
  assert_int_equal(n.fcrc_ok[0], 1);
  sg__node_free(&n);
}

static void streamed_digest_only_for_the_written_file(void **s) {
  (void)s;
  const char *p = sg_test_path("node.wav"), *other = sg_test_path("other.wav");
  sg_audio_digest dg, dg2;
  write_wav(p, 0.5f, &dg);
  assert_node_holds_file(p, &dg);
  /* Replaced by another file (another inode): read, not taken from the digest. */
  write_wav(other, 0.25f, &dg2);
  assert_int_equal(rename(other, p), 0);
  assert_string_not_equal(dg.sha256, dg2.sha256);
  assert_node_holds_file(p, &dg);
  /* Written to in place (its mtime moves): read. */
  write_wav(p, 0.5f, &dg);
  FILE *f = fopen(p, "r+b");
  assert_non_null(f);
  assert_int_equal(fseek(f, 1000, SEEK_SET), 0);
  assert_int_equal(fputc(0x5a, f), 0x5a);
  assert_int_equal(fclose(f), 0);
  struct timespec t[2] = {{0, UTIME_OMIT}, {(time_t)dg.mtime_s + 1, 0}}; /* a later tick */
  assert_int_equal(utimensat(AT_FDCWD, p, t, 0), 0);
  assert_node_holds_file(p, &dg);
  /* No digest, or one that did not hold: read. */
  assert_node_holds_file(p, NULL);
  dg.ok = 0;
  assert_node_holds_file(p, &dg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(streamed_digest_only_for_the_written_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
