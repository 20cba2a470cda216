/* The zip writer's direct path (zip_write.c: a plain archive laid out by the writer itself, each
 * file copied by copy_file_range) against libzip writing the same entries (io_block = 0, libzip's
 * own sources): byte for byte the same archive for stored files (empty, small, several MiB),
 * deflated texts at levels 1, 6 and 9, other dates; a file's CRC-32 given by the caller is
 * taken as it is (a wrong one lands in the archive: nothing recomputes it), and a right one
 * gives the same archive; the SHA-256 taken beside the writing is the file's; the archive reads
 * back through the reader (libzip with ZIP_CHECKCONS) with every entry intact; a name libzip
 * flags as UTF-8 goes through libzip; a stored audio entry whose directory CRC-32 is wrong is
 * refused by the reader's direct path (the one verify hashes through), its bytes intact; entries
 * written ahead (sg__zip_writer_write_ahead) make the same archive. */
#include "sg_test.h"

#include "package/package_internal.h"
#include "stemgate/package.h"
#include "stemgate/zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *g_big;
static const size_t BIG = (size_t)3 << 20;

static void write_file(const char *path, const unsigned char *p, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(p, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static int setup(void **state) {
  (void)state;
  g_big = malloc(BIG);
  if (!g_big)
    return -1;
  unsigned x = 12345u; /* seed printed for the record: fixed */
  printf("seed %u\n", x);
  for (size_t i = 0; i < BIG; ++i) {
    x = x * 1664525u + 1013904223u;
    g_big[i] = (unsigned char)(x >> 24);
  }
  write_file(sg_test_path("big.wav"), g_big, BIG);
  write_file(sg_test_path("small.mid"), g_big + 7, 100000);
  write_file(sg_test_path("empty.bin"), g_big, 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(g_big);
  return 0;
}

static const char *NOTES = "NOTES\n=====\nA song in A minor at 120 BPM.\nSections: intro, verse, "
                           "chorus, verse, chorus, outro.\nEvery stem passed its gates.\n";

/* Writes the test archive to out; io_block 0 selects libzip's own sources (never direct). */
static void write_zip(const char *out, size_t io_block, int level, int year, const char *odd_name,
                      char sha[65]) {
  sg_zip_writer_config c;
  sg_zip_writer_config_init(&c);
  c.io_block = io_block;
  c.deflate_level = level;
  c.year = year;
  c.month = 7;
  c.day = 14;
  c.hour = 13;
  c.minute = 37;
  c.second = 42;
  c.hash_sha256 = sha != NULL;
  sg_package *p = NULL;
  sg_diag d;
  memset(&d, 0, sizeof d);
  assert_int_equal(sg_package_begin(&p, out, &c, &d), SG_OK);
  char text[8192];
  size_t len = 0;
  for (int i = 0; i < 40; ++i) /* a few KB of text, compressible */
    len += (size_t)snprintf(text + len, sizeof text - len, "%s", NOTES);
  assert_int_equal(sg_package_add_file(p, sg_test_path("small.mid"), "midi/small.mid", SG_ROLE_MIDI,
                                       "Keys", 0, &d),
                   SG_OK);
  assert_int_equal(
      sg_package_add_file(p, sg_test_path("empty.bin"), "empty.bin", SG_ROLE_MIDI, "", 0, &d),
      SG_OK);
  /* the big file as a plain stored entry (a MIDI role: the manifest does not parse it) */
  assert_int_equal(
      sg_package_add_file(p, sg_test_path("big.wav"), "data/big.bin", SG_ROLE_MIDI, "", 0, &d),
      SG_OK);
  sg_manifest *m = sg_package_manifest(p);
  snprintf(m->title, sizeof m->title, "Direct");
  assert_int_equal(sg_package_add_text(p, "NOTES.txt", text, SG_ROLE_NOTES, &d), SG_OK);
  if (odd_name)
    assert_int_equal(sg_package_add_text(p, odd_name, "x", SG_ROLE_NOTES, &d), SG_OK);
  if (sha)
    assert_int_equal(sg_package_finish_sha256(p, sha, &d), SG_OK);
  else
    assert_int_equal(sg_package_finish(p, &d), SG_OK);
}

static void same_bytes_as_libzip(void **state) {
  (void)state;
  const int levels[] = {1, 6, 9};
  for (int i = 0; i < 3; ++i) {
    for (int year = 1980; year <= 2024; year += 44) {
      char sha[65];
      write_zip(sg_test_path("lib.zip"), 0, levels[i], year, NULL, NULL);
      write_zip(sg_test_path("direct.zip"), (size_t)1 << 20, levels[i], year, NULL, sha);
      sg_test_assert_files_equal(sg_test_path("lib.zip"), sg_test_path("direct.zip"));
      char want[65];
      assert_int_equal(sg_sha256_file(sg_test_path("direct.zip"), want, NULL), SG_OK);
      assert_string_equal(sha, want);
    }
  }
  /* a name outside printable ASCII: libzip writes it (flags it UTF-8), the same either way */
  write_zip(sg_test_path("lib.zip"), 0, 6, 1980, "caf\xc3\xa9.txt", NULL);
  write_zip(sg_test_path("direct.zip"), (size_t)1 << 20, 6, 1980, "caf\xc3\xa9.txt", NULL);
  sg_test_assert_files_equal(sg_test_path("lib.zip"), sg_test_path("direct.zip"));
}

/* The test archive's entries through the zip writer, the big file's CRC-32 given (crc) or not. */
static void write_known(const char *out, size_t io_block, const uint32_t *crc) {
  sg_zip_writer_config c;
  sg_zip_writer_config_init(&c);
  c.io_block = io_block;
  sg_zip_writer *w = NULL;
  assert_int_equal(sg_zip_writer_open(&w, out, &c, NULL), SG_OK);
  assert_int_equal(sg_zip_writer_add_file(w, "midi/small.mid", sg_test_path("small.mid"), 0, NULL),
                   SG_OK);
  assert_int_equal(
      sg__zip_writer_add_file_crc(w, "data/big.bin", sg_test_path("big.wav"), 0, crc, NULL, NULL),
      SG_OK);
  assert_int_equal(sg_zip_writer_add_text(w, "NOTES.txt", NOTES, NULL), SG_OK);
  assert_int_equal(sg_zip_writer_close(w, NULL), SG_OK);
}

static void known_crc_taken_as_given(void **state) {
  (void)state;
  char sha[65], want[65];
  uint32_t crc = 0;
  assert_int_equal(sg_package_file_digest(sg_test_path("big.wav"), sha, &crc, NULL), SG_OK);
  assert_int_equal(sg_sha256_file(sg_test_path("big.wav"), want, NULL), SG_OK);
  assert_string_equal(sha, want);
  write_known(sg_test_path("k_lib.zip"), 0, NULL);
  /* the right CRC given: libzip's archive, byte for byte */
  write_known(sg_test_path("k_direct.zip"), (size_t)1 << 20, &crc);
  sg_test_assert_files_equal(sg_test_path("k_lib.zip"), sg_test_path("k_direct.zip"));
  /* a wrong one is written as given (so it must come with the file's hash, from one read) */
  uint32_t bad = crc ^ 0x80000001u;
  write_known(sg_test_path("k_bad.zip"), (size_t)1 << 20, &bad);
  size_t na = 0, nb = 0;
  unsigned char *a = (unsigned char *)sg_test_read_file(sg_test_path("k_lib.zip"), &na),
                *b = (unsigned char *)sg_test_read_file(sg_test_path("k_bad.zip"), &nb);
  assert_int_equal(na, nb);
  size_t diff = 0;
  for (size_t i = 0; i < na; ++i)
    diff += a[i] != b[i];
  assert_int_equal(diff, 4); /* the CRC field, local and central: 2 bytes each differ */
  free(a);
  free(b);
  /* every entry reads back whole through the reader */
  sg_zip_reader *zr = NULL;
  assert_int_equal(sg_zip_reader_open(&zr, sg_test_path("k_direct.zip"), NULL, NULL), SG_OK);
  const sg_zip_entry *e = sg_zip_reader_find(zr, "NOTES.txt");
  assert_non_null(e);
  char *txt = NULL;
  size_t tn = 0;
  assert_int_equal(sg_zip_reader_read_all(zr, e, 1 << 20, &txt, &tn, NULL), SG_OK);
  assert_int_equal(tn, strlen(NOTES));
  assert_memory_equal(txt, NOTES, tn);
  free(txt);
  e = sg_zip_reader_find(zr, "data/big.bin");
  assert_non_null(e);
  assert_int_equal(sg_zip_reader_read_all(zr, e, 1 << 23, &txt, &tn, NULL), SG_OK);
  assert_int_equal(tn, BIG);
  assert_memory_equal(txt, g_big, BIG);
  free(txt);
  sg_zip_reader_close(zr);
}

/* A 16-bit mono WAV of n frames (a canonical 44-byte header), bytes from g_big. */
static void write_wav(const char *path, uint32_t n) {
  unsigned char h[44];
  uint32_t data = n * 2;
  memcpy(h, "RIFF", 4);
  for (int k = 0; k < 4; ++k) {
    h[4 + k] = (unsigned char)((36 + data) >> (8 * k));
    h[40 + k] = (unsigned char)(data >> (8 * k));
  }
  memcpy(h + 8, "WAVEfmt ", 8);
  const unsigned char fmt[20] = {16, 0, 0, 0,    1, 0, 1, 0, 0x80, 0xbb,
                                 0,  0, 0, 0x77, 1, 0, 2, 0, 16,   0};
  memcpy(h + 16, fmt, 20);
  memcpy(h + 36, "data", 4);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(h, 1, 44, f), 44);
  assert_int_equal(fwrite(g_big, 1, data, f), data);
  assert_int_equal(fclose(f), 0);
}

/* Opens the archive's one audio entry through the direct path, decodes it, returns the status
 * of its SHA-256 (which also checks its CRC-32). */
static sg_status read_entry(const char *zip, char sha[65]) {
  sg_zip_reader *zr = NULL;
  assert_int_equal(sg_zip_reader_open(&zr, zip, NULL, NULL), SG_OK);
  const sg_zip_entry *e = sg_zip_reader_find(zr, "tone.wav");
  assert_non_null(e);
  sg_zip_audio *a = NULL;
  sg_audio_info info;
  assert_int_equal(sg_zip_audio_open_sha256(&a, zr, e, &info, NULL), SG_OK);
  assert_int_equal(info.frames, 100000);
  float buf[4096];
  size_t got = 0, total = 0;
  do {
    assert_int_equal(sg_audio_reader_read(sg_zip_audio_reader(a), buf, 4096, &got, NULL), SG_OK);
    total += got;
  } while (got);
  assert_int_equal(total, 100000);
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_zip_audio_sha256(a, sha, &d);
  if (st != SG_OK) {
    printf("%s\n", d.message);
    assert_non_null(strstr(d.message, "CRC-32"));
  }
  sg_zip_audio_close(a);
  sg_zip_reader_close(zr);
  return st;
}

static void wrong_directory_crc_refused(void **state) {
  (void)state;
  write_wav(sg_test_path("tone.wav"), 100000);
  char sha[65], want[65];
  uint32_t crc = 0;
  assert_int_equal(sg_package_file_digest(sg_test_path("tone.wav"), want, &crc, NULL), SG_OK);
  const uint32_t crcs[2] = {crc, crc ^ 0x00010000u};
  for (int k = 0; k < 2; ++k) {
    sg_zip_writer_config c;
    sg_zip_writer_config_init(&c);
    c.io_block = (size_t)1 << 20;
    sg_zip_writer *w = NULL;
    assert_int_equal(sg_zip_writer_open(&w, sg_test_path("crc.zip"), &c, NULL), SG_OK);
    assert_int_equal(sg__zip_writer_add_file_crc(w, "tone.wav", sg_test_path("tone.wav"), 0,
                                                 &crcs[k], NULL, NULL),
                     SG_OK);
    assert_int_equal(sg_zip_writer_close(w, NULL), SG_OK);
    sg_status st = read_entry(sg_test_path("crc.zip"), sha);
    if (k == 0) {
      assert_int_equal(st, SG_OK);
      assert_string_equal(sha, want);
    } else {
      assert_int_equal(st, SG_E_FORMAT); /* the bytes (and so their SHA-256) are intact */
    }
  }
}

/* The entry digest (sg_zip_writer_close_digest) taken as the archive is written, from the
 * entries' known SHA-256 and the bytes the writer lays out, is the one sg_zip_digest_file takes
 * from the file: for the direct path, for an entry whose hash the caller did not give (read for
 * its CRC-32), and for libzip's path; a byte changed in a stored entry or in a header changes
 * it, and it is not the file's plain SHA-256. */
static void write_entries(const char *out, size_t io_block, int give_sha, int ahead,
                          const char *odd_name, char hex[65]) {
  char sha[65];
  uint32_t crc = 0;
  assert_int_equal(sg_package_file_digest(sg_test_path("big.wav"), sha, &crc, NULL), SG_OK);
  sg_zip_writer_config c;
  sg_zip_writer_config_init(&c);
  c.io_block = io_block;
  sg_zip_writer *w = NULL;
  assert_int_equal(sg_zip_writer_open(&w, out, &c, NULL), SG_OK);
  int added = 0;
#define AHEAD()                                                                                    \
  if (++added == ahead)                                                                            \
  assert_int_equal(sg__zip_writer_write_ahead(w, NULL), SG_OK)
  assert_int_equal(sg__zip_writer_add_file_crc(w, "data/big.bin", sg_test_path("big.wav"), 0, &crc,
                                               give_sha ? sha : NULL, NULL),
                   SG_OK);
  AHEAD();
  assert_int_equal(sg_zip_writer_add_file(w, "midi/small.mid", sg_test_path("small.mid"), 0, NULL),
                   SG_OK);
  AHEAD();
  assert_int_equal(sg_zip_writer_add_file(w, "empty.bin", sg_test_path("empty.bin"), 0, NULL),
                   SG_OK);
  AHEAD();
  assert_int_equal(sg_zip_writer_add_text(w, "NOTES.txt", NOTES, NULL), SG_OK);
  AHEAD();
#undef AHEAD
  if (odd_name)
    assert_int_equal(sg_zip_writer_add_text(w, odd_name, "x", NULL), SG_OK);
  if (!hex) {
    assert_int_equal(sg_zip_writer_close(w, NULL), SG_OK);
    return;
  }
  assert_int_equal(sg_zip_writer_close_digest(w, hex, NULL), SG_OK);
  assert_int_equal(strlen(hex), 64);
}

static void write_digest_zip(const char *out, size_t io_block, int give_sha, char hex[65]) {
  write_entries(out, io_block, give_sha, 0, NULL, hex);
}

static void entry_digest_as_written(void **state) {
  (void)state;
  char as_written[65], from_file[65], other[65], plain[65];
  const char *z = sg_test_path("digest.zip");
  write_digest_zip(z, (size_t)1 << 20, 1, as_written);
  assert_int_equal(sg_zip_digest_file(z, from_file, NULL), SG_OK);
  assert_string_equal(as_written, from_file);
  assert_int_equal(sg_sha256_file(z, plain, NULL), SG_OK);
  assert_string_not_equal(as_written, plain);
  write_digest_zip(z, (size_t)1 << 20, 0, other); /* no hash given: taken from the file */
  assert_string_equal(other, as_written);
  write_digest_zip(z, 0, 1, other); /* libzip's own sources: from the file */
  assert_string_equal(other, as_written);
  sg_test_flip_byte(z, 30 + 12 + 1000, 0x20); /* a byte of the stored big entry */
  assert_int_equal(sg_zip_digest_file(z, other, NULL), SG_OK);
  assert_string_not_equal(other, as_written);
  write_digest_zip(z, (size_t)1 << 20, 1, other);
  sg_test_flip_byte(z, 10, 0x20); /* the first local header's time */
  assert_int_equal(sg_zip_digest_file(z, other, NULL), SG_OK);
  assert_string_not_equal(other, as_written);
}

/* Entries written ahead (after the first 1..4 are added, the rest while they are written) give
 * the archive and the entry digest of one pass at close, whether the big file's hash was given or
 * read for its CRC-32; an entry added after that the direct writer does not lay out (a UTF-8
 * name) leaves the whole archive to libzip, as without; an abort after it leaves no file. */
static void written_ahead_same_archive(void **state) {
  (void)state;
  char one[65], ahead[65], a[4200], b[4200], z[4200], partial[4300];
  snprintf(a, sizeof a, "%s", sg_test_path("once.zip")); /* sg_test_path's buffer is reused */
  snprintf(b, sizeof b, "%s", sg_test_path("ahead.zip"));
  snprintf(z, sizeof z, "%s", sg_test_path("dropped.zip"));
  for (int give = 0; give <= 1; ++give) {
    write_entries(a, (size_t)1 << 20, give, 0, NULL, one);
    for (int k = 1; k <= 4; ++k) {
      write_entries(b, (size_t)1 << 20, give, k, NULL, ahead);
      sg_test_assert_files_equal(a, b);
      assert_string_equal(one, ahead);
    }
  }
  write_entries(a, 0, 1, 0, "caf\xc3\xa9.txt", NULL); /* libzip's own sources */
  write_entries(b, (size_t)1 << 20, 1, 2, "caf\xc3\xa9.txt", NULL);
  sg_test_assert_files_equal(a, b);
  sg_zip_writer *w = NULL;
  assert_int_equal(sg_zip_writer_open(&w, z, NULL, NULL), SG_OK);
  assert_int_equal(sg_zip_writer_add_file(w, "data/big.bin", sg_test_path("big.wav"), 0, NULL),
                   SG_OK);
  assert_int_equal(sg__zip_writer_write_ahead(w, NULL), SG_OK);
  sg_zip_writer_abort(w);
  snprintf(partial, sizeof partial, "%s.partial", z);
  assert_null(fopen(z, "rb"));
  assert_null(fopen(partial, "rb"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(written_ahead_same_archive), cmocka_unit_test(same_bytes_as_libzip),
      cmocka_unit_test(known_crc_taken_as_given),   cmocka_unit_test(wrong_directory_crc_refused),
      cmocka_unit_test(entry_digest_as_written),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
