/* The BWF bext chunk of the WAV writer (EBU Tech 3285 version 2): description, date, the
 * loudness fields as value x 100 in 16 bits (0x7FFF when not measured), filled at close by
 * bext_final, and the coding history, read back through libsndfile. */
#include "sg_test.h"

#include "stemgate/io.h"

#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

static void fill(void *user, sg_bext *b) {
  int *calls = user;
  ++*calls;
  b->has_loudness = 1;
  b->loudness_lufs = -14.026;
  b->loudness_range_lu = 5.5;
  b->true_peak_dbtp = -1.004;
  b->momentary_max_lufs = -9.999;
  b->short_term_max_lufs = -12.5;
  snprintf(b->coding_history, sizeof b->coding_history, "changed"); /* ignored: fixed at open */
}

static int read_bext(const char *path, SF_BROADCAST_INFO *bi) {
  SF_INFO si;
  memset(&si, 0, sizeof si);
  SNDFILE *sf = sf_open(path, SFM_READ, &si);
  if (!sf)
    return 0;
  memset(bi, 0, sizeof *bi);
  int ok = sf_command(sf, SFC_GET_BROADCAST_INFO, bi, sizeof *bi) == SF_TRUE;
  sf_close(sf);
  return ok;
}

static void v2_loudness_and_history(void **st) {
  (void)st;
  static const sg_sample_format fmts[] = {SG_FMT_PCM24, SG_FMT_PCM16, SG_FMT_FLOAT32};
  for (size_t k = 0; k < 3; ++k) {
    const char *p = sg_test_path("bext.wav");
    sg_audio_writer_config c;
    sg_audio_writer_config_init(&c);
    c.format = fmts[k];
    sg_bext b;
    memset(&b, 0, sizeof b);
    snprintf(b.description, sizeof b.description, "test tone");
    snprintf(b.date, sizeof b.date, "2026-12-06");
    snprintf(b.time, sizeof b.time, "23:45:01");
    /* odd length: the chunk is padded to an even size */
    snprintf(b.coding_history, sizeof b.coding_history, "A=PCM,F=48000,W=24,M=stereo,T=x\r\n");
    int calls = 0;
    c.bext = &b;
    c.bext_final = fill;
    c.tap_user = &calls;
    float x[2 * 4800] = {0};
    sg_audio_writer *w = NULL;
    assert_int_equal(sg_audio_writer_open(&w, p, &c, NULL), SG_OK);
    assert_int_equal(sg_audio_writer_write(w, x, 4800, NULL), SG_OK);
    assert_int_equal(sg_audio_writer_close(w, NULL), SG_OK);
    assert_int_equal(calls, 1);
    SF_BROADCAST_INFO bi;
    assert_true(read_bext(p, &bi));
    assert_int_equal(bi.version, 2);
    assert_memory_equal(bi.origination_date, "2026-12-06", 10);
    assert_memory_equal(bi.origination_time, "23:45:01", 8);
    assert_int_equal(bi.loudness_value, -1403);
    assert_int_equal(bi.loudness_range, 550);
    assert_int_equal(bi.max_true_peak_level, -100);
    assert_int_equal(bi.max_momentary_loudness, -1000);
    assert_int_equal(bi.max_shortterm_loudness, -1250);
    assert_non_null(strstr(bi.coding_history, "A=PCM,F=48000,W=24,M=stereo,T=x"));
    /* the audio is intact after the header rewrite */
    sg_audio_reader *rd = NULL;
    sg_audio_info info;
    assert_int_equal(sg_audio_reader_open(&rd, p, &info, NULL), SG_OK);
    assert_int_equal(info.frames, 4800);
    sg_audio_reader_close(rd);
  }
  /* Without bext_final the loudness fields say "not measured". */
  const char *p = sg_test_path("bext2.wav");
  sg_audio_writer_config c;
  sg_audio_writer_config_init(&c);
  sg_bext b;
  memset(&b, 0, sizeof b);
  c.bext = &b;
  float x[2 * 100] = {0};
  assert_int_equal(sg_audio_write_all(p, x, 100, &c, NULL), SG_OK);
  SF_BROADCAST_INFO bi;
  assert_true(read_bext(p, &bi));
  assert_int_equal(bi.version, 2);
  assert_int_equal((uint16_t)bi.loudness_value, 0x7fff);
  assert_memory_equal(bi.origination_date, "2000-01-01", 10);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(v2_loudness_and_history)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
