/* Every reader as strict as the strictest (src/io/container.c): a file whose sample-data chunk
 * declares more bytes than it holds is refused naming the file, whether it is read from a path,
 * from a zip entry (stored or deflated) or from memory, in every container libsndfile reads
 * (RIFF WAV, RF64, W64, AIFF; FLAC by its declared sample count), whatever its name says. */
#include "sg_test.h"

#include "pkg_fixtures.h"
#include "stemgate/package.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FRAMES 12000L

static long file_size(const char *p) {
  FILE *f = fopen(p, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fclose(f);
  return n;
}

/* Reads the whole file at p (as the reader must see it) and expects status want. */
static void expect_read(const char *p, sg_status want, const char *phrase) {
  float *x = NULL;
  sg_audio_info info;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_audio_read_all(p, FRAMES * 2, &x, &info, &d);
  char msg[2048];
  printf("  %s: %s\n", p, st == SG_OK ? "ok" : sg_diag_format(&d, msg, sizeof msg));
  assert_int_equal(st, want);
  if (want == SG_OK)
    assert_int_equal(info.frames, FRAMES);
  else {
    assert_non_null(strstr(d.message, p)); /* the message names the file */
    if (phrase)
      assert_non_null(strstr(d.message, phrase));
  }
  free(x);
}

static void truncated_files_fail_in_every_container(void **st) {
  (void)st;
  static const struct {
    const char *name; /* all named .wav: the container is told by its bytes, not its name */
    int format;
  } cases[] = {
      {"c_riff.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16},
      {"c_rf64.wav", SF_FORMAT_RF64 | SF_FORMAT_PCM_24},
      {"c_w64.wav", SF_FORMAT_W64 | SF_FORMAT_PCM_16},
      {"c_aiff.wav", SF_FORMAT_AIFF | SF_FORMAT_PCM_16},
      {"c_flac.wav", SF_FORMAT_FLAC | SF_FORMAT_PCM_16},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; ++k) {
    const char *p = sg_test_path(cases[k].name);
    assert_int_equal(fx_write_wav(p, 48000, 2, cases[k].format, FRAMES, 440, 0.5), 0);
    expect_read(p, SG_OK, NULL); /* the whole file reads */
    long n = file_size(p);
    /* Cut the last third: the header still declares every frame. */
    assert_int_equal(truncate(p, n - n / 3), 0);
    expect_read(p, SG_E_FORMAT, "truncated");
  }
}

/* A RIFF WAV whose data chunk claims 4096 bytes more than the file holds (not cut: it lies). */
static const char *lying_wav(void) {
  const char *p = sg_test_path("lying.wav");
  assert_int_equal(fx_write_wav(p, 48000, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, FRAMES, 440, 0.5), 0);
  FILE *f = fopen(p, "r+b");
  assert_non_null(f);
  unsigned char buf[4096];
  size_t n = fread(buf, 1, sizeof buf, f);
  unsigned char *data = NULL;
  for (size_t i = 12; i + 8 <= n && !data; ++i)
    if (!memcmp(buf + i, "data", 4))
      data = buf + i;
  assert_non_null(data);
  uint32_t size = (uint32_t)data[4] | (uint32_t)data[5] << 8 | (uint32_t)data[6] << 16 |
                  (uint32_t)data[7] << 24;
  size += 4096;
  unsigned char le[4] = {(unsigned char)size, (unsigned char)(size >> 8),
                         (unsigned char)(size >> 16), (unsigned char)(size >> 24)};
  fseek(f, (long)(data - buf) + 4, SEEK_SET);
  assert_int_equal(fwrite(le, 1, 4, f), 4);
  fclose(f);
  return p;
}

static void lying_header_fails_in_a_folder_and_in_a_zip(void **st) {
  (void)st;
  const char *wav = lying_wav();
  expect_read(wav, SG_E_FORMAT, "data chunk declares");
  const char *zp = sg_test_path("lying.zip");
  sg_zip_writer *w = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_zip_writer_open(&w, zp, NULL, &d), SG_OK);
  assert_int_equal(sg_zip_writer_add_file(w, "stored.wav", wav, 0, &d), SG_OK);
  assert_int_equal(sg_zip_writer_add_file(w, "deflated.wav", wav, 1, &d), SG_OK);
  assert_int_equal(sg_zip_writer_close(w, &d), SG_OK);
  sg_zip_reader *r = NULL;
  assert_int_equal(sg_zip_reader_open(&r, zp, NULL, &d), SG_OK);
  const char *names[] = {"stored.wav", "deflated.wav"};
  for (int k = 0; k < 2; ++k) {
    sg_zip_audio *a = NULL;
    sg_diag_clear(&d);
    sg_status s = sg_zip_audio_open(&a, r, sg_zip_reader_find(r, names[k]), NULL, &d);
    char msg[2048];
    printf("  %s\n", sg_diag_format(&d, msg, sizeof msg));
    assert_int_equal(s, SG_E_FORMAT);
    assert_null(a);
    assert_non_null(strstr(d.message, names[k]));
    assert_non_null(strstr(d.message, "data chunk declares"));
  }
  sg_zip_reader_close(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(truncated_files_fail_in_every_container),
      cmocka_unit_test(lying_header_fails_in_a_folder_and_in_a_zip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
