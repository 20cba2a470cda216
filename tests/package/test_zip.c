/* Zip writer and reader: round trip of stored and deflated entries, bit-identical rebuilds,
 * atomic output, audio read in place, extraction, and hostile archives (path traversal,
 * absolute names, zip bombs, too many entries, truncation) refused with clear errors. */
#include "sg_test.h"

#include "pkg_fixtures.h"
#include "stemgate/package.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

static const char *NOTES = "Song: Test\nAll stems start at 0 and are 2.0 s long.\n";

/* A zip with one stored WAV, one deflated WAV and a deflated text entry. */
static void build(const char *zip_path, const char *wav, const sg_zip_writer_config *cfg) {
  sg_zip_writer *w = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_zip_writer_open(&w, zip_path, cfg, &d), SG_OK);
  assert_int_equal(sg_zip_writer_add_file(w, "stems/Bass.wav", wav, 0, &d), SG_OK);
  assert_int_equal(sg_zip_writer_add_file(w, "stems/Keys deflated.wav", wav, 1, &d), SG_OK);
  assert_int_equal(sg_zip_writer_add_text(w, "NOTES.txt", NOTES, &d), SG_OK);
  /* A partial file exists only while writing; nothing at the final path yet. */
  assert_int_equal(access(zip_path, F_OK), -1);
  assert_int_equal(sg_zip_writer_close(w, &d), SG_OK);
  char partial[1024];
  snprintf(partial, sizeof partial, "%s.partial", zip_path);
  assert_int_equal(access(partial, F_OK), -1);
  assert_int_equal(access(zip_path, F_OK), 0);
}

static const char *make_wav(const char *name, long frames) {
  const char *p = sg_test_path(name);
  assert_int_equal(fx_write_wav(p, 48000, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, frames, 440, 0.5), 0);
  return p;
}

static void round_trip_stored_and_deflated(void **state) {
  (void)state;
  const char *wav = make_wav("rt.wav", 24000);
  const char *zp = sg_test_path("rt.zip");
  build(zp, wav, NULL);
  char want[65], got[65];
  assert_int_equal(sg_sha256_file(wav, want, NULL), SG_OK);

  sg_zip_reader *r = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_zip_reader_open(&r, zp, NULL, &d), SG_OK);
  assert_int_equal(sg_zip_reader_count(r), 3);
  const sg_zip_entry *a = sg_zip_reader_find(r, "stems/Bass.wav");
  const sg_zip_entry *b = sg_zip_reader_find(r, "stems/Keys deflated.wav");
  const sg_zip_entry *t = sg_zip_reader_find(r, "NOTES.txt");
  assert_non_null(a);
  assert_non_null(b);
  assert_non_null(t);
  assert_int_equal(a->deflated, 0);
  assert_int_equal(a->size, a->comp_size);
  assert_int_equal(b->deflated, 1);
  assert_int_equal(t->deflated, 1);
  uint64_t bytes = 0;
  assert_int_equal(sg_zip_reader_sha256(r, a, got, &bytes, &d), SG_OK);
  assert_string_equal(got, want);
  assert_int_equal(bytes, a->size);
  assert_int_equal(sg_zip_reader_sha256(r, b, got, NULL, &d), SG_OK);
  assert_string_equal(got, want);
  char *text = NULL;
  size_t n = 0;
  assert_int_equal(sg_zip_reader_read_all(r, t, 4096, &text, &n, &d), SG_OK);
  assert_string_equal(text, NOTES);
  free(text);
  assert_int_equal(sg_zip_reader_read_all(r, t, 10, &text, &n, &d), SG_E_LIMIT);

  /* Fixed mtime and attributes: 1980-01-01 00:00:00, mode 0644. */
  zip_t *za = zip_open(zp, ZIP_RDONLY, NULL);
  assert_non_null(za);
  zip_stat_t zs;
  assert_int_equal(zip_stat_index(za, a->index, 0, &zs), 0);
  struct tm tm;
  time_t mt = zs.mtime;
  localtime_r(&mt, &tm);
  assert_int_equal(tm.tm_year + 1900, 1980);
  assert_int_equal(tm.tm_mon, 0);
  assert_int_equal(tm.tm_mday, 1);
  zip_uint8_t os;
  zip_uint32_t attr;
  assert_int_equal(zip_file_get_external_attributes(za, a->index, 0, &os, &attr), 0);
  assert_int_equal(os, ZIP_OPSYS_UNIX);
  assert_int_equal(attr >> 16, 0100644);
  zip_discard(za);
  sg_zip_reader_close(r);
}

static void rebuild_is_bit_identical(void **state) {
  (void)state;
  const char *wav = make_wav("det.wav", 48000);
  const char *z1 = sg_test_path("det1.zip");
  const char *z2 = sg_test_path("det2.zip");
  const char *z3 = sg_test_path("det3.zip");
  build(z1, wav, NULL);
  /* Touch the source: its own mtime must not leak into the archive. */
  struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
  assert_int_equal(utimensat(AT_FDCWD, wav, ts, 0), 0);
  build(z2, wav, NULL);
  /* libzip's own file I/O (io_block = 0) writes the same bytes as the large-block path. */
  sg_zip_writer_config c;
  sg_zip_writer_config_init(&c);
  c.io_block = 0;
  build(z3, wav, &c);
  char h1[65], h2[65], h3[65];
  assert_int_equal(sg_sha256_file(z1, h1, NULL), SG_OK);
  assert_int_equal(sg_sha256_file(z2, h2, NULL), SG_OK);
  assert_int_equal(sg_sha256_file(z3, h3, NULL), SG_OK);
  assert_string_equal(h1, h2);
  assert_string_equal(h1, h3);
  /* A different timestamp gives different bytes (the time is really written). */
  const char *z4 = sg_test_path("det4.zip");
  sg_zip_writer_config_init(&c);
  c.year = 2026;
  build(z4, wav, &c);
  assert_int_equal(sg_sha256_file(z4, h3, NULL), SG_OK);
  assert_string_not_equal(h1, h3);
}

static void small_io_blocks_still_correct(void **state) {
  (void)state;
  /* Block sizes that do not divide libzip's chunks or the file size exercise every refill and
   * flush boundary of the large-block sources. */
  const char *wav = make_wav("blk.wav", 10007);
  char want[65], got[65];
  assert_int_equal(sg_sha256_file(wav, want, NULL), SG_OK);
  const size_t blocks[] = {1, 7, 4093, 8192, 65537};
  for (size_t i = 0; i < sizeof blocks / sizeof *blocks; ++i) {
    sg_zip_writer_config c;
    sg_zip_writer_config_init(&c);
    c.io_block = blocks[i];
    char name[64];
    snprintf(name, sizeof name, "blk%zu.zip", i);
    const char *zp = sg_test_path(name);
    build(zp, wav, &c);
    sg_zip_reader *r = NULL;
    assert_int_equal(sg_zip_reader_open(&r, zp, NULL, NULL), SG_OK);
    assert_int_equal(
        sg_zip_reader_sha256(r, sg_zip_reader_find(r, "stems/Bass.wav"), got, NULL, NULL), SG_OK);
    assert_string_equal(got, want);
    assert_int_equal(
        sg_zip_reader_sha256(r, sg_zip_reader_find(r, "stems/Keys deflated.wav"), got, NULL, NULL),
        SG_OK);
    assert_string_equal(got, want);
    sg_zip_reader_close(r);
  }
}

/* The archive's hash taken beside the writing (hash_sha256) is the hash of the file as written,
 * whatever the block size (each flush and header rewrite boundary) and with libzip's own I/O
 * (no writer thread: hashed from the file). */
static void hash_beside_writing_is_the_file_hash(void **state) {
  (void)state;
  const char *big = make_wav("hb_big.wav", 300007); /* 2.4 MB: hashed while the rest is written */
  const char *small = make_wav("hb_small.wav", 10007);
  const size_t blocks[] = {(size_t)1 << 20, 4093, 65537, 0};
  for (size_t i = 0; i < sizeof blocks / sizeof *blocks; ++i) {
    sg_zip_writer_config c;
    sg_zip_writer_config_init(&c);
    c.io_block = blocks[i];
    c.hash_sha256 = 1;
    char name[64];
    snprintf(name, sizeof name, "hb%zu.zip", i);
    const char *zp = sg_test_path(name);
    sg_zip_writer *w = NULL;
    sg_diag d;
    sg_diag_clear(&d);
    assert_int_equal(sg_zip_writer_open(&w, zp, &c, &d), SG_OK);
    assert_int_equal(sg_zip_writer_add_file(w, "a.wav", big, 0, &d), SG_OK);
    assert_int_equal(sg_zip_writer_add_file(w, "b.wav", small, 0, &d), SG_OK);
    assert_int_equal(sg_zip_writer_add_text(w, "NOTES.txt", NOTES, &d), SG_OK);
    assert_int_equal(sg_zip_writer_add_file(w, "c.wav", big, 0, &d), SG_OK);
    assert_int_equal(sg_zip_writer_add_file(w, "d.wav", small, 1, &d), SG_OK);
    char got[65], want[65];
    assert_int_equal(sg_zip_writer_close_sha256(w, got, &d), SG_OK);
    assert_int_equal(sg_sha256_file(zp, want, NULL), SG_OK);
    assert_string_equal(got, want);
  }
}

static void writer_refuses_bad_names_and_missing_files(void **state) {
  (void)state;
  sg_zip_writer *w = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  const char *zp = sg_test_path("refuse.zip");
  assert_int_equal(sg_zip_writer_open(&w, zp, NULL, &d), SG_OK);
  assert_int_equal(sg_zip_writer_add_text(w, "../evil.txt", "x", &d), SG_E_FORMAT);
  assert_non_null(strstr(d.message, "'..'"));
  assert_int_equal(sg_zip_writer_add_file(w, "a.wav", sg_test_path("nope.wav"), 0, &d), SG_E_IO);
  assert_non_null(strstr(d.message, "nope.wav"));
  assert_int_equal(sg_zip_writer_add_text(w, "a.txt", "x", &d), SG_OK);
  assert_int_equal(sg_zip_writer_add_text(w, "a.txt", "y", &d), SG_E_INVAL);
  sg_zip_writer_abort(w);
  assert_int_equal(access(zp, F_OK), -1);
  char partial[1024];
  snprintf(partial, sizeof partial, "%s.partial", zp);
  assert_int_equal(access(partial, F_OK), -1);
  /* Empty archives are refused rather than silently not written. */
  assert_int_equal(sg_zip_writer_open(&w, zp, NULL, &d), SG_OK);
  assert_int_equal(sg_zip_writer_close(w, &d), SG_E_INVAL);
  /* An unwritable destination fails at close and leaves nothing behind. */
  assert_int_equal(sg_zip_writer_open(&w, sg_test_path("no/such/dir/x.zip"), NULL, &d), SG_OK);
  assert_int_equal(sg_zip_writer_add_text(w, "a.txt", "x", &d), SG_OK);
  assert_int_equal(sg_zip_writer_close(w, &d), SG_E_IO);
  assert_true(strlen(d.message) > 10);
}

static void name_check_table(void **state) {
  (void)state;
  const char *good[] = {
      "master.wav", "stems/Bass.wav", "midi/Keys.mid", "a/b/c/", "D\xC3\xA9j\xC3\xA0 vu.wav", "..a",
      "a..",        ".hidden"};
  const char *bad[] = {"",          "../evil.wav", "/abs.wav",     "a/../../b",
                       "a\\b.wav",  "C:evil.wav",  "c:/x",         "a//b",
                       "./a",       "a/./b",       "a/..",         "..",
                       "tab\tname", "del\x7f",     "\xC0\xAF.wav", "\xFF"};
  for (size_t i = 0; i < sizeof good / sizeof *good; ++i)
    if (sg_zip_name_check(good[i], NULL) != SG_OK)
      fail_msg("refused a safe name: '%s'", good[i]);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
    sg_diag d;
    sg_diag_clear(&d);
    if (sg_zip_name_check(bad[i], &d) != SG_E_FORMAT)
      fail_msg("accepted an unsafe name #%zu", i);
    assert_non_null(strstr(d.message, "unsafe archive entry"));
  }
  char longname[300];
  memset(longname, 'a', 299);
  longname[299] = '\0';
  assert_int_equal(sg_zip_name_check(longname, NULL), SG_E_FORMAT);
}

/* Writes a zip with raw libzip (no name checks) holding entries name[i] = text. */
static void raw_zip(const char *path, const char *const *names, size_t n) {
  int err = 0;
  zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
  assert_non_null(za);
  for (size_t i = 0; i < n; ++i) {
    zip_source_t *s = zip_source_buffer(za, "evil", 4, 0);
    assert_non_null(s);
    assert_true(zip_file_add(za, names[i], s, 0) >= 0);
  }
  assert_int_equal(zip_close(za), 0);
}

static void expect_reject(const char *path, const sg_zip_limits *lim, sg_status want,
                          const char *msg_part) {
  sg_zip_reader *r = (sg_zip_reader *)1;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_zip_reader_open(&r, path, lim, &d);
  if (st != want)
    fail_msg("%s: expected %s, got %s (%s)", path, sg_status_name(want), sg_status_name(st),
             d.message);
  assert_null(r);
  if (msg_part && !strstr(d.message, msg_part))
    fail_msg("message '%s' lacks '%s'", d.message, msg_part);
}

static void hostile_names_rejected(void **state) {
  (void)state;
  const char *cases[][2] = {{"../evil.wav", "'..'"},       {"/abs.wav", "absolute"},
                            {"a/../../b", "'..'"},         {"C:evil.wav", "drive letter"},
                            {"a\\..\\b.wav", "backslash"}, {"ok/\x01.wav", "control"}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
    char name[64];
    snprintf(name, sizeof name, "hostile%zu.zip", i);
    const char *zp = sg_test_path(name);
    const char *names[] = {"fine.wav", cases[i][0]};
    raw_zip(zp, names, 2);
    expect_reject(zp, NULL, SG_E_FORMAT, cases[i][1]);
  }
}

static void nul_in_name_rejected(void **state) {
  (void)state;
  /* libzip turns a NUL inside a stored name into a space; the reader must still refuse it. */
  const char *zp = sg_test_path("nul.zip");
  const char *names[] = {"fine.wav", "evil.wavQ.txt"};
  raw_zip(zp, names, 2);
  size_t n = 0;
  unsigned char *b = fx_slurp(zp, &n);
  assert_non_null(b);
  int patched = 0;
  for (size_t i = 0; i + 13 <= n; ++i)
    if (memcmp(b + i, "evil.wavQ.txt", 13) == 0) {
      b[i + 8] = 0;
      patched++;
    }
  assert_int_equal(patched, 2); /* local header and central directory */
  assert_int_equal(fx_spit(zp, b, n), 0);
  free(b);
  expect_reject(zp, NULL, SG_E_FORMAT, "NUL byte");
}

static void zip_bomb_and_sizes_rejected(void **state) {
  (void)state;
  /* 50 MB of zeros deflates to ~50 KB: a 1000x ratio. */
  size_t n = (size_t)50 << 20;
  void *zeros = calloc(1, n);
  assert_non_null(zeros);
  const char *zp = sg_test_path("bomb.zip");
  int err = 0;
  zip_t *za = zip_open(zp, ZIP_CREATE | ZIP_TRUNCATE, &err);
  zip_source_t *s = zip_source_buffer(za, zeros, n, 0);
  zip_int64_t idx = zip_file_add(za, "zeros.wav", s, 0);
  assert_true(idx >= 0);
  zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 9);
  assert_int_equal(zip_close(za), 0);
  free(zeros);
  expect_reject(zp, NULL, SG_E_LIMIT, "zip bomb");
  /* The same entry under a 10 MB per-entry limit: refused for its declared size. */
  sg_zip_limits lim;
  sg_zip_limits_init(&lim);
  lim.max_ratio = 1e9;
  lim.max_entry_bytes = 10u << 20;
  expect_reject(zp, &lim, SG_E_LIMIT, "declares 52428800 bytes");
  lim.max_entry_bytes = (uint64_t)1 << 32;
  lim.max_total_bytes = 1u << 20;
  expect_reject(zp, &lim, SG_E_LIMIT, "in total");
}

static void forged_huge_declared_size_rejected(void **state) {
  (void)state;
  /* A small deflated entry whose headers (local and central) claim 4 GiB - 16 bytes. */
  const char *zp = sg_test_path("forged.zip");
  int err = 0;
  zip_t *za = zip_open(zp, ZIP_CREATE | ZIP_TRUNCATE, &err);
  static const char text[] = "hello hello hello hello hello hello hello hello";
  zip_int64_t idx = zip_file_add(za, "big.wav", zip_source_buffer(za, text, sizeof text - 1, 0), 0);
  assert_true(idx >= 0);
  zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 9);
  assert_int_equal(zip_close(za), 0);
  size_t n = 0;
  unsigned char *b = fx_slurp(zp, &n);
  assert_non_null(b);
  long lh = fx_find(b, n, "PK\x03\x04", 4), ch = fx_find(b, n, "PK\x01\x02", 4);
  assert_true(lh >= 0 && ch > lh);
  const unsigned char huge[4] = {0xF0, 0xFF, 0xFF, 0xFF};
  memcpy(b + lh + 22, huge, 4);
  memcpy(b + ch + 24, huge, 4);
  assert_int_equal(fx_spit(zp, b, n), 0);
  free(b);
  expect_reject(zp, NULL, SG_E_LIMIT, "zip bomb");
  /* And if the ratio limit is lifted, streaming stops at the real end with a clear error. */
  sg_zip_limits lim;
  sg_zip_limits_init(&lim);
  lim.max_ratio = 1e12;
  sg_zip_reader *r = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_zip_reader_open(&r, zp, &lim, &d), SG_OK);
  char hex[65];
  assert_int_equal(sg_zip_reader_sha256(r, sg_zip_reader_entry(r, 0), hex, NULL, &d), SG_E_FORMAT);
  assert_non_null(strstr(d.message, "big.wav"));
  char *data = NULL;
  assert_int_equal(sg_zip_reader_read_all(r, sg_zip_reader_entry(r, 0), 1 << 20, &data, NULL, &d),
                   SG_E_LIMIT);
  sg_zip_reader_close(r);
}

static void too_many_entries_rejected(void **state) {
  (void)state;
  const char *zp = sg_test_path("many.zip");
  int err = 0;
  zip_t *za = zip_open(zp, ZIP_CREATE | ZIP_TRUNCATE, &err);
  assert_non_null(za);
  for (int i = 0; i < 5000; ++i) {
    char name[32];
    snprintf(name, sizeof name, "f%04d.txt", i);
    zip_source_t *s = zip_source_buffer(za, "x", 1, 0);
    assert_true(zip_file_add(za, name, s, 0) >= 0);
  }
  assert_int_equal(zip_close(za), 0);
  sg_diag d;
  sg_diag_clear(&d);
  sg_zip_reader *r = NULL;
  assert_int_equal(sg_zip_reader_open(&r, zp, NULL, &d), SG_E_LIMIT);
  assert_non_null(strstr(d.message, "5000 entries"));
  assert_true(d.has_value && d.measured == 5000 && d.limit == 1000);
}

static void truncated_and_garbage_archives(void **state) {
  (void)state;
  const char *wav = make_wav("tr.wav", 4800);
  const char *zp = sg_test_path("full.zip");
  build(zp, wav, NULL);
  size_t n = 0;
  unsigned char *b = fx_slurp(zp, &n);
  assert_non_null(b);
  /* Cut at several places: inside the central directory, inside data, at one byte. */
  const size_t cuts[] = {n - 10, n - 100, n / 2, 100, 1};
  for (size_t i = 0; i < sizeof cuts / sizeof *cuts; ++i) {
    const char *tp = sg_test_path("trunc.zip");
    assert_int_equal(fx_spit(tp, b, cuts[i]), 0);
    sg_diag d;
    sg_diag_clear(&d);
    sg_zip_reader *r = NULL;
    sg_status st = sg_zip_reader_open(&r, tp, NULL, &d);
    assert_int_equal(st, SG_E_FORMAT);
    assert_non_null(strstr(d.message, "not a readable zip"));
  }
  /* Garbage and an empty file. */
  const char *gp = sg_test_path("garbage.zip");
  static const char garbage[] = "PK\x05\x06 this is not a zip at all";
  assert_int_equal(fx_spit(gp, garbage, sizeof garbage - 1), 0);
  expect_reject(gp, NULL, SG_E_FORMAT, "not a readable zip");
  assert_int_equal(fx_spit(gp, "", 0), 0);
  sg_zip_reader *r = NULL;
  assert_true(sg_zip_reader_open(&r, gp, NULL, NULL) != SG_OK);
  expect_reject(sg_test_path("missing.zip"), NULL, SG_E_IO, "cannot open");
  free(b);
}

/* Two entries of one name: libzip refuses the archive ("File already exists"); the message says
 * what is wrong instead of "truncated or damaged?". */
static void duplicate_names_named(void **state) {
  (void)state;
  const char *zp = sg_test_path("dup.zip");
  sg_zip_writer *w = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_zip_writer_open(&w, zp, NULL, &d), SG_OK);
  assert_int_equal(sg_zip_writer_add_text(w, "a.txt", "one", &d), SG_OK);
  assert_int_equal(sg_zip_writer_add_text(w, "b.txt", "two", &d), SG_OK);
  assert_int_equal(sg_zip_writer_close(w, &d), SG_OK);
  size_t n = 0;
  unsigned char *b = fx_slurp(zp, &n);
  assert_non_null(b);
  int renamed = 0; /* "b.txt" -> "a.txt" in the local and the central header */
  for (size_t i = 0; i + 5 <= n; ++i)
    if (!memcmp(b + i, "b.txt", 5)) {
      b[i] = 'a';
      ++renamed;
    }
  assert_int_equal(renamed, 2);
  assert_int_equal(fx_spit(zp, b, n), 0);
  free(b);
  expect_reject(zp, NULL, SG_E_FORMAT, "holds two entries with the same name 'a.txt'");
}

static void audio_read_in_place(void **state) {
  (void)state;
  const long frames = 30000;
  const char *wav = make_wav("inplace.wav", frames);
  const char *zp = sg_test_path("inplace.zip");
  build(zp, wav, NULL);
  float *want = NULL;
  sg_audio_info wi;
  assert_int_equal(sg_audio_read_all(wav, frames + 10, &want, &wi, NULL), SG_OK);
  sg_zip_reader *r = NULL;
  assert_int_equal(sg_zip_reader_open(&r, zp, NULL, NULL), SG_OK);
  const char *names[] = {"stems/Bass.wav", "stems/Keys deflated.wav"};
  float *got = malloc((size_t)frames * 2 * sizeof *got);
  for (int k = 0; k < 2; ++k) {
    sg_zip_audio *a = NULL;
    sg_audio_info info;
    sg_diag d;
    sg_diag_clear(&d);
    assert_int_equal(sg_zip_audio_open(&a, r, sg_zip_reader_find(r, names[k]), &info, &d), SG_OK);
    assert_int_equal(info.frames, frames);
    assert_int_equal(info.rate, 48000);
    assert_int_equal(info.channels, 2);
    assert_int_equal(info.format, SG_FMT_FLOAT32);
    sg_audio_reader *ar = sg_zip_audio_reader(a);
    size_t total = 0, g = 0;
    do {
      assert_int_equal(
          sg_audio_reader_read(ar, got + total * 2,
                               4096 < frames - (long)total ? 4096 : (size_t)(frames - (long)total),
                               &g, &d),
          SG_OK);
      total += g;
    } while (g > 0 && total < (size_t)frames);
    assert_int_equal(total, frames);
    /* float32 in, float32 out: bit exact (tolerance 0). */
    assert_memory_equal(got, want, (size_t)frames * 2 * sizeof *got);
    /* Seek back into the middle and read again. */
    assert_int_equal(sg_audio_reader_seek(ar, 12345, &d), SG_OK);
    assert_int_equal(sg_audio_reader_read(ar, got, 100, &g, &d), SG_OK);
    assert_int_equal(g, 100);
    assert_memory_equal(got, want + 12345 * 2, 200 * sizeof *got);
    sg_zip_audio_close(a);
  }
  /* A text entry is not audio: a clear error, no crash. */
  sg_zip_audio *a = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_zip_audio_open(&a, r, sg_zip_reader_find(r, "NOTES.txt"), NULL, &d),
                   SG_E_FORMAT);
  assert_null(a);
  free(got);
  free(want);
  sg_zip_reader_close(r);
}

/* The hash taken while the decoder reads an entry equals the entry's own SHA-256 (streamed on
 * its own), stored or deflated, whether the audio was read whole, in part, with a seek back, or
 * not at all (the rest is read when the hash is asked for). */
static void audio_hash_along_equals_entry_hash(void **state) {
  (void)state;
  const long frames = 30000;
  const char *wav = make_wav("hashalong.wav", frames);
  const char *zp = sg_test_path("hashalong.zip");
  build(zp, wav, NULL);
  sg_zip_reader *r = NULL;
  assert_int_equal(sg_zip_reader_open(&r, zp, NULL, NULL), SG_OK);
  const char *names[] = {"stems/Bass.wav", "stems/Keys deflated.wav"};
  float *buf = malloc((size_t)frames * 2 * sizeof *buf);
  for (int k = 0; k < 2; ++k) {
    const sg_zip_entry *e = sg_zip_reader_find(r, names[k]);
    char want[65];
    assert_int_equal(sg_zip_reader_sha256(r, e, want, NULL, NULL), SG_OK);
    for (int mode = 0; mode < 3; ++mode) { /* 0 whole, 1 a part and a seek back, 2 nothing */
      sg_zip_audio *a = NULL;
      sg_audio_info info;
      sg_diag d;
      sg_diag_clear(&d);
      assert_int_equal(sg_zip_audio_open_sha256(&a, r, e, &info, &d), SG_OK);
      sg_audio_reader *ar = sg_zip_audio_reader(a);
      size_t g = 0;
      if (mode == 0) {
        assert_int_equal(sg_audio_reader_read(ar, buf, (size_t)frames, &g, &d), SG_OK);
        assert_int_equal(g, frames);
      } else if (mode == 1) {
        assert_int_equal(sg_audio_reader_read(ar, buf, 1000, &g, &d), SG_OK);
        assert_int_equal(sg_audio_reader_seek(ar, 20000, &d), SG_OK);
        assert_int_equal(sg_audio_reader_read(ar, buf, 100, &g, &d), SG_OK);
        assert_int_equal(sg_audio_reader_seek(ar, 10, &d), SG_OK);
        assert_int_equal(sg_audio_reader_read(ar, buf, 100, &g, &d), SG_OK);
      }
      char got[65];
      assert_int_equal(sg_zip_audio_sha256(a, got, &d), SG_OK);
      assert_string_equal(got, want);
      sg_zip_audio_close(a);
    }
    /* Opened without the hash: asking for it is an error, not a wrong answer. */
    sg_zip_audio *a = NULL;
    assert_int_equal(sg_zip_audio_open(&a, r, e, NULL, NULL), SG_OK);
    char got[65];
    assert_int_equal(sg_zip_audio_sha256(a, got, NULL), SG_E_INVAL);
    sg_zip_audio_close(a);
  }
  free(buf);
  sg_zip_reader_close(r);
}

static void put16(unsigned char *p, unsigned v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}
static void put32(unsigned char *p, uint32_t v) {
  put16(p, v & 0xFFFFu);
  put16(p + 2, v >> 16);
}
static uint32_t crc32_of(const unsigned char *p, size_t n) { /* bitwise CRC-32 (APPNOTE 4.4.7) */
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k)
      c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

/* A stored entry is read straight from the archive at the end of its local header (the
 * reader's own offsets, not libzip's stream): written here by hand with an extra field in the
 * local header (its data starts past it) and the local header's offset given in a Zip64 extra
 * of the central entry (0xFFFFFFFF in the 32-bit field, as a package over 4 GB has it). The
 * samples and the hash read along must be the file's. */
static void stored_entry_read_at_its_data(void **state) {
  (void)state;
  const long frames = 3000;
  const char *wav = make_wav("direct.wav", frames);
  FILE *f = fopen(wav, "rb");
  assert_non_null(f);
  unsigned char *data = malloc(1 << 20);
  size_t n = fread(data, 1, 1 << 20, f);
  fclose(f);
  assert_true(n > 1000 && n < (1 << 20));
  const char *name = "stems/Bass.wav";
  const size_t nl = strlen(name);
  const uint32_t crc = crc32_of(data, n);
  unsigned char lh[30], lx[8] = {0xFE, 0xCA, 4, 0, 1, 2, 3, 4}, ch[46], cx[12], eo[22];
  memset(lh, 0, sizeof lh);
  put32(lh, 0x04034b50u);
  put16(lh + 4, 45);
  put32(lh + 14, crc);
  put32(lh + 18, (uint32_t)n);
  put32(lh + 22, (uint32_t)n);
  put16(lh + 26, (unsigned)nl);
  put16(lh + 28, sizeof lx);
  memset(ch, 0, sizeof ch);
  put32(ch, 0x02014b50u);
  put16(ch + 4, 45);
  put16(ch + 6, 45);
  put32(ch + 16, crc);
  put32(ch + 20, (uint32_t)n);
  put32(ch + 24, (uint32_t)n);
  put16(ch + 28, (unsigned)nl);
  put16(ch + 30, sizeof cx);
  put32(ch + 42, 0xFFFFFFFFu); /* the offset is in the Zip64 extra */
  memset(cx, 0, sizeof cx);
  put16(cx, 0x0001);
  put16(cx + 2, 8); /* the local header's offset, 0, as 8 bytes */
  const size_t cd_off = sizeof lh + nl + sizeof lx + n, cd_size = sizeof ch + nl + sizeof cx;
  memset(eo, 0, sizeof eo);
  put32(eo, 0x06054b50u);
  put16(eo + 8, 1);
  put16(eo + 10, 1);
  put32(eo + 12, (uint32_t)cd_size);
  put32(eo + 16, (uint32_t)cd_off);
  const char *zp = sg_test_path("direct.zip");
  f = fopen(zp, "wb");
  assert_non_null(f);
  fwrite(lh, 1, sizeof lh, f);
  fwrite(name, 1, nl, f);
  fwrite(lx, 1, sizeof lx, f);
  fwrite(data, 1, n, f);
  fwrite(ch, 1, sizeof ch, f);
  fwrite(name, 1, nl, f);
  fwrite(cx, 1, sizeof cx, f);
  fwrite(eo, 1, sizeof eo, f);
  assert_int_equal(fclose(f), 0);

  sg_zip_reader *r = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_zip_reader_open(&r, zp, NULL, &d), SG_OK);
  const sg_zip_entry *e = sg_zip_reader_find(r, name);
  assert_non_null(e);
  assert_int_equal(e->deflated, 0);
  char want[65], got[65];
  assert_int_equal(sg_zip_reader_sha256(r, e, want, NULL, NULL), SG_OK); /* through libzip */
  sg_audio_reader *fr = NULL;
  assert_int_equal(sg_audio_reader_open(&fr, wav, NULL, &d), SG_OK);
  float *a = malloc((size_t)frames * 2 * sizeof *a), *b = malloc((size_t)frames * 2 * sizeof *b);
  size_t ga = 0, gb = 0;
  assert_int_equal(sg_audio_reader_read(fr, a, (size_t)frames, &ga, &d), SG_OK);
  sg_audio_reader_close(fr);
  sg_zip_audio *za = NULL;
  sg_audio_info info;
  assert_int_equal(sg_zip_audio_open_sha256(&za, r, e, &info, &d), SG_OK);
  assert_int_equal(info.frames, frames);
  assert_int_equal(sg_audio_reader_read(sg_zip_audio_reader(za), b, (size_t)frames, &gb, &d),
                   SG_OK);
  assert_int_equal(ga, frames);
  assert_int_equal(gb, frames);
  assert_memory_equal(a, b, (size_t)frames * 2 * sizeof *a);
  assert_int_equal(sg_zip_audio_sha256(za, got, &d), SG_OK);
  assert_string_equal(got, want);
  sg_zip_audio_close(za);
  sg_zip_reader_close(r);
  free(a);
  free(b);
  free(data);
}

static void extract_writes_files_and_refuses_symlinks(void **state) {
  (void)state;
  const char *wav = make_wav("ex.wav", 4800);
  const char *zp = sg_test_path("ex.zip");
  build(zp, wav, NULL);
  sg_zip_reader *r = NULL;
  assert_int_equal(sg_zip_reader_open(&r, zp, NULL, NULL), SG_OK);
  const char *dir = sg_test_path("out");
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_zip_reader_extract(r, dir, &d), SG_OK);
  char p[1024], h1[65], h2[65];
  snprintf(p, sizeof p, "%s/stems/Keys deflated.wav", dir);
  assert_int_equal(sg_sha256_file(p, h1, NULL), SG_OK);
  assert_int_equal(sg_sha256_file(wav, h2, NULL), SG_OK);
  assert_string_equal(h1, h2);
  /* Extracting again over existing files replaces them. */
  assert_int_equal(sg_zip_reader_extract(r, dir, &d), SG_OK);
  /* A planted symlink "stems" -> elsewhere must not be followed. */
  const char *dir2 = sg_test_path("out2");
  const char *elsewhere = sg_test_path("elsewhere");
  assert_int_equal(mkdir(dir2, 0755), 0);
  assert_int_equal(mkdir(elsewhere, 0755), 0);
  snprintf(p, sizeof p, "%s/stems", dir2);
  assert_int_equal(symlink(elsewhere, p), 0);
  assert_int_equal(sg_zip_reader_extract(r, dir2, &d), SG_E_IO);
  assert_non_null(strstr(d.message, "not a plain directory"));
  snprintf(p, sizeof p, "%s/Bass.wav", elsewhere);
  assert_int_equal(access(p, F_OK), -1);
  sg_zip_reader_close(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(round_trip_stored_and_deflated),
      cmocka_unit_test(rebuild_is_bit_identical),
      cmocka_unit_test(small_io_blocks_still_correct),
      cmocka_unit_test(hash_beside_writing_is_the_file_hash),
      cmocka_unit_test(writer_refuses_bad_names_and_missing_files),
      cmocka_unit_test(name_check_table),
      cmocka_unit_test(hostile_names_rejected),
      cmocka_unit_test(nul_in_name_rejected),
      cmocka_unit_test(zip_bomb_and_sizes_rejected),
      cmocka_unit_test(forged_huge_declared_size_rejected),
      cmocka_unit_test(too_many_entries_rejected),
      cmocka_unit_test(truncated_and_garbage_archives),
      cmocka_unit_test(duplicate_names_named),
      cmocka_unit_test(audio_read_in_place),
      cmocka_unit_test(audio_hash_along_equals_entry_hash),
      cmocka_unit_test(stored_entry_read_at_its_data),
      cmocka_unit_test(extract_writes_files_and_refuses_symlinks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
