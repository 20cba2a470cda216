/* Audio I/O: round trips of every sample format, atomic writes, truncation detection, the tap,
 * strict-reader acceptance (sox/ffprobe when installed) and rate/channel conversion. */
#include "sg_test.h"

#include <glob.h>
#include <unistd.h>

#include "core/filehash.h"
#include "stemgate/io.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int exists(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0;
}

static float *sine(size_t frames, unsigned ch, double hz, double amp, unsigned rate) {
  float *x = malloc(frames * ch * sizeof *x);
  for (size_t i = 0; i < frames; ++i)
    for (unsigned c = 0; c < ch; ++c)
      x[i * ch + c] = (float)(amp * sin(2 * SG_PI * hz * (double)i / rate + c));
  return x;
}

static void round_trip(sg_sample_format fmt, double tol) {
  const size_t frames = 48000 + 17;
  float *x = sine(frames, 2, 997, 0.7, 48000);
  x[10] = 1.5f; /* over full scale: PCM clips, float keeps */
  /* Float files hold no subnormals: flushed to +0; -0 and the smallest normal are kept. */
  const float special[4] = {FLT_MIN / 2, -FLT_MIN / 1024, -0.0f, -FLT_MIN};
  memcpy(x + 20, special, sizeof special);
  sg_audio_writer_config cfg;
  sg_audio_writer_config_init(&cfg);
  cfg.format = fmt;
  cfg.dither_seed = 7;
  sg_bext bext = {.description = "stemgate test", .originator = "stemgate"};
  cfg.bext = &bext;
  const char *p = sg_test_path(sg_sample_format_name(fmt));
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_audio_write_all(p, x, (int64_t)frames, &cfg, &d), SG_OK);
  float *y = NULL;
  sg_audio_info info;
  assert_int_equal(sg_audio_read_all(p, 1 << 22, &y, &info, &d), SG_OK);
  assert_int_equal(info.frames, (int64_t)frames);
  assert_int_equal(info.rate, 48000);
  assert_int_equal(info.channels, 2);
  assert_int_equal(info.format, fmt);
  assert_string_equal(info.container, "wav");
  double maxerr = 0;
  for (size_t i = 0; i < frames * 2; ++i) {
    if (i == 10 || (i >= 20 && i < 24))
      continue;
    double e = fabs((double)y[i] - x[i]);
    maxerr = e > maxerr ? e : maxerr;
  }
  printf("%s: max error %.3g (limit %.3g)\n", sg_sample_format_name(fmt), maxerr, tol);
  assert_true(maxerr <= tol);
  if (fmt == SG_FMT_FLOAT32) {
    assert_float_equal(y[10], 1.5, 0);
    const float want[4] = {0.0f, 0.0f, -0.0f, -FLT_MIN};
    assert_memory_equal(y + 20, want, sizeof want); /* the bits: +0 for the flushed ones */
  } else
    assert_true(y[10] <= 1.0f && y[10] > 0.999f);
  /* Same input and seed: identical bytes (dither is deterministic). */
  const char *p2 = sg_test_path("again.wav");
  assert_int_equal(sg_audio_write_all(p2, x, (int64_t)frames, &cfg, &d), SG_OK);
  char h1[65], h2[65];
  assert_int_equal(sg_sha256_file(p, h1, NULL), SG_OK);
  assert_int_equal(sg_sha256_file(p2, h2, NULL), SG_OK);
  assert_string_equal(h1, h2);
  free(x);
  free(y);
}

static void float32_round_trip(void **s) {
  (void)s;
  round_trip(SG_FMT_FLOAT32, 0.0);
}
static void pcm24_round_trip(void **s) {
  (void)s;
  round_trip(SG_FMT_PCM24, 0.6 / 8388608.0);
}
static void pcm16_round_trip_with_dither(void **s) {
  (void)s;
  /* TPDF dither adds at most 1 LSB, rounding half an LSB. */
  round_trip(SG_FMT_PCM16, 1.51 / 32768.0);
}

static void pcm16_dither_decorrelates_quiet_signal(void **s) {
  (void)s;
  /* A sine at 0.3 LSB vanishes without dither; with TPDF dither it survives on average. */
  const size_t n = 48000;
  float *x = sine(n, 1, 1000, 0.3 / 32768.0, 48000);
  sg_audio_writer_config cfg;
  sg_audio_writer_config_init(&cfg);
  cfg.channels = 1;
  cfg.format = SG_FMT_PCM16;
  const char *p = sg_test_path("quiet16.wav");
  assert_int_equal(sg_audio_write_all(p, x, (int64_t)n, &cfg, NULL), SG_OK);
  float *y;
  assert_int_equal(sg_audio_read_all(p, n, &y, NULL, NULL), SG_OK);
  double corr = 0, ex = 0;
  for (size_t i = 0; i < n; ++i)
    corr += (double)x[i] * y[i], ex += (double)x[i] * x[i];
  double gain = corr / ex; /* ~1 when the signal survives in the dithered output */
  printf("quiet sine gain through dithered pcm16: %.3f\n", gain);
  assert_true(gain > 0.8 && gain < 1.2);
  free(x);
  free(y);
}

static int tap_calls;
static int64_t tap_frames;
static sg_status tap(void *u, const float *x, size_t n) {
  (void)x;
  (void)u;
  tap_calls++;
  tap_frames += (int64_t)n;
  return tap_calls > 3 ? SG_E_GATE : SG_OK;
}

static void writer_is_atomic_and_tapped(void **s) {
  (void)s;
  float buf[2 * 1024] = {0};
  sg_audio_writer_config cfg;
  sg_audio_writer_config_init(&cfg);
  cfg.tap = tap;
  const char *p = sg_test_path("atomic.wav");
  sg_audio_writer *w;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_audio_writer_open(&w, p, &cfg, &d), SG_OK);
  for (int i = 0; i < 3; ++i)
    assert_int_equal(sg_audio_writer_write(w, buf, 1024, &d), SG_OK);
  assert_false(exists(p)); /* only the .partial exists while writing */
  /* Its name is unique to this process and writer: <path>.<pid>.<n>.partial. */
  char pattern[1100], partial[1100];
  snprintf(pattern, sizeof pattern, "%s.%ld.*.partial", p, (long)getpid());
  glob_t g;
  assert_int_equal(glob(pattern, 0, NULL, &g), 0);
  assert_int_equal(g.gl_pathc, 1);
  snprintf(partial, sizeof partial, "%s", g.gl_pathv[0]);
  globfree(&g);
  assert_true(exists(partial));
  /* The fourth block is refused by the tap (a gate failing mid-stream). */
  assert_int_equal(sg_audio_writer_write(w, buf, 1024, &d), SG_E_GATE);
  assert_int_equal(tap_frames, 4 * 1024);
  sg_audio_writer_abort(w);
  assert_false(exists(p));
  assert_false(exists(partial));
}

/* fold_identical: a stereo stream whose channels are equal is stored as one channel (the tap
 * still sees both); one differing frame, past the first block, gives the very bytes of the
 * plain 2-channel file. */
static double fold_tap_sum;
static int64_t fold_tap_frames;
static sg_status fold_tap(void *u, const float *x, size_t n) {
  (void)u;
  for (size_t i = 0; i < 2 * n; ++i)
    fold_tap_sum += (double)x[i] * (double)(i & 1 ? 3 : 1); /* L and R weighed apart */
  fold_tap_frames += (int64_t)n;
  return SG_OK;
}

static void write_in_pieces(const char *p, const sg_audio_writer_config *cfg, const float *x,
                            size_t n) {
  sg_audio_writer *w;
  assert_int_equal(sg_audio_writer_open(&w, p, cfg, NULL), SG_OK);
  for (size_t at = 0; at < n;) { /* uneven pieces, some past the writer's block */
    size_t k = n - at < 150001 ? n - at : 150001;
    assert_int_equal(sg_audio_writer_write(w, x + 2 * at, k, NULL), SG_OK);
    at += k;
  }
  assert_int_equal(sg_audio_writer_close(w, NULL), SG_OK);
}

static void fold_identical_channels(void **s) {
  (void)s;
  const size_t n = 400003;
  float *x = sine(n, 1, 441, 0.6, 48000), *st = malloc(2 * n * sizeof *st);
  x[7] = FLT_MIN / 4; /* a subnormal: flushed alike in both layouts */
  for (size_t i = 0; i < n; ++i)
    st[2 * i] = st[2 * i + 1] = x[i];
  sg_audio_writer_config cfg;
  sg_audio_writer_config_init(&cfg);
  sg_bext bext = {.description = "fold"};
  cfg.bext = &bext;
  cfg.tap = fold_tap;
  const char *plain = sg_test_path("fold_plain.wav"), *folded = sg_test_path("fold_one.wav");
  fold_tap_sum = 0, fold_tap_frames = 0;
  write_in_pieces(plain, &cfg, st, n);
  double want_sum = fold_tap_sum;
  cfg.fold_identical = 1;
  fold_tap_sum = 0, fold_tap_frames = 0;
  write_in_pieces(folded, &cfg, st, n);
  assert_int_equal(fold_tap_frames, (int64_t)n);
  assert_true(fold_tap_sum == want_sum);
  float *y = NULL;
  sg_audio_info info;
  assert_int_equal(sg_audio_read_all(folded, 1 << 20, &y, &info, NULL), SG_OK);
  assert_int_equal(info.channels, 1);
  assert_int_equal(info.frames, (int64_t)n);
  x[7] = 0.0f;
  assert_memory_equal(y, x, n * sizeof *x);
  free(y);
  /* Channels differ from frame 300000 on (the third block): the file becomes the plain one. */
  st[2 * 300000 + 1] = -st[2 * 300000 + 1] + 0.25f;
  write_in_pieces(plain,
                  &(sg_audio_writer_config){
                      .rate = 48000, .channels = 2, .format = SG_FMT_FLOAT32, .bext = &bext},
                  st, n);
  fold_tap_sum = 0, fold_tap_frames = 0;
  write_in_pieces(folded, &cfg, st, n);
  assert_int_equal(fold_tap_frames, (int64_t)n);
  sg_test_assert_files_equal(plain, folded);
  /* No temporary file is left behind by the switch. */
  char pattern[1100];
  snprintf(pattern, sizeof pattern, "%s.*.partial", folded);
  glob_t g;
  assert_int_equal(glob(pattern, 0, NULL, &g), GLOB_NOMATCH);
  free(x);
  free(st);
}

/* The streamed digest: the SHA-256 and CRC-32 the writer took of what it wrote are those of the
 * finished file as read back, in every format (pcm24 mono with an odd frame count ends in a pad
 * byte), folded or unfolded mid-stream; when the promise cannot hold (another frame count, a
 * bext_final rewriting the header) it says so and the caller reads the file. */
static void crc_block(void *user, const unsigned char *p, size_t n) {
  uint32_t *c = user;
  *c = sg__crc32(*c, p, n);
}

static void bext_fill(void *user, sg_bext *b) {
  (void)user;
  b->has_loudness = 1;
  b->loudness_lufs = -20.0;
}

static void write_digested(const char *p, const sg_audio_writer_config *cfg, const float *x,
                           size_t n, int64_t promised, sg_audio_digest *dg) {
  sg_audio_writer_config c = *cfg;
  memset(dg, 0xa5, sizeof *dg); /* what the writer leaves unset shows */
  dg->frames = promised;
  c.digest = dg;
  sg_audio_writer *w;
  assert_int_equal(sg_audio_writer_open(&w, p, &c, NULL), SG_OK);
  for (size_t at = 0; at < n;) { /* uneven pieces, some past the writer's block */
    size_t k = n - at < 150001 ? n - at : 150001;
    assert_int_equal(sg_audio_writer_write(w, x + c.channels * at, k, NULL), SG_OK);
    at += k;
  }
  assert_int_equal(sg_audio_writer_close(w, NULL), SG_OK);
}

static void assert_digest_is_files(const char *p, const sg_audio_digest *dg) {
  char hex[65];
  uint32_t crc = 0;
  assert_int_equal(sg__sha256_file_also(p, hex, crc_block, &crc, NULL), SG_OK);
  assert_int_equal(dg->ok, 1);
  assert_string_equal(dg->sha256, hex);
  assert_int_equal(dg->crc32, crc);
  struct stat sb;
  assert_int_equal(stat(p, &sb), 0);
  assert_int_equal(dg->size, (long long)sb.st_size);
  assert_int_equal(dg->mtime_s, (long long)sb.st_mtim.tv_sec);
  assert_int_equal(dg->mtime_ns, (long long)sb.st_mtim.tv_nsec);
  assert_int_equal(dg->ino, (long long)sb.st_ino);
}

static void streamed_digest_is_the_files(void **s) {
  (void)s;
  const size_t n = 300001;
  float *x = sine(n, 2, 441, 0.8, 48000);
  sg_bext bext = {.description = "digest"};
  memset(bext.coding_history, 'h', sizeof bext.coding_history); /* the longest header */
  const struct {
    sg_sample_format f;
    unsigned ch;
  } cases[] = {{SG_FMT_FLOAT32, 2}, {SG_FMT_PCM24, 1}, {SG_FMT_PCM24, 2}, {SG_FMT_PCM16, 2}};
  const char *p = sg_test_path("digest.wav");
  sg_audio_digest dg;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    sg_audio_writer_config cfg;
    sg_audio_writer_config_init(&cfg);
    cfg.format = cases[i].f;
    cfg.channels = cases[i].ch;
    cfg.dither_seed = 3;
    cfg.bext = i & 1 ? &bext : NULL;
    write_digested(p, &cfg, x, n, (int64_t)n, &dg);
    assert_digest_is_files(p, &dg);
    /* Frames other than promised: no digest (the file itself is as ever). */
    write_digested(p, &cfg, x, n, (int64_t)n + 1, &dg);
    assert_int_equal(dg.ok, 0);
    write_digested(p, &cfg, x, n, (int64_t)n - 1, &dg);
    assert_int_equal(dg.ok, 0);
    sg_audio_info info;
    sg_audio_reader *r;
    assert_int_equal(sg_audio_reader_open(&r, p, &info, NULL), SG_OK);
    sg_audio_reader_close(r);
    assert_int_equal(info.frames, (int64_t)n);
  }
  /* Folded throughout, and unfolded at frame 200000 (the file rewritten, hashed again). */
  sg_audio_writer_config cfg;
  sg_audio_writer_config_init(&cfg);
  cfg.fold_identical = 1;
  cfg.bext = &bext;
  for (size_t i = 0; i < n; ++i)
    x[2 * i + 1] = x[2 * i];
  write_digested(p, &cfg, x, n, (int64_t)n, &dg);
  sg_audio_info info;
  sg_audio_reader *r;
  assert_int_equal(sg_audio_reader_open(&r, p, &info, NULL), SG_OK);
  sg_audio_reader_close(r);
  assert_int_equal(info.channels, 1);
  assert_digest_is_files(p, &dg);
  x[2 * 200000 + 1] += 0.25f;
  write_digested(p, &cfg, x, n, (int64_t)n, &dg);
  assert_int_equal(sg_audio_reader_open(&r, p, &info, NULL), SG_OK);
  sg_audio_reader_close(r);
  assert_int_equal(info.channels, 2);
  assert_digest_is_files(p, &dg);
  /* A bext_final rewrites the header at close: not hashed as it streams. */
  cfg.bext_final = bext_fill;
  write_digested(p, &cfg, x, n, (int64_t)n, &dg);
  assert_int_equal(dg.ok, 0);
  free(x);
}

static void truncated_file_is_reported(void **s) {
  (void)s;
  const size_t n = 10000;
  float *x = sine(n, 2, 440, 0.5, 48000);
  sg_audio_writer_config cfg;
  sg_audio_writer_config_init(&cfg);
  cfg.format = SG_FMT_PCM24;
  const char *p = sg_test_path("trunc.wav");
  assert_int_equal(sg_audio_write_all(p, x, (int64_t)n, &cfg, NULL), SG_OK);
  struct stat sb;
  assert_int_equal(stat(p, &sb), 0);
  assert_int_equal(truncate(p, sb.st_size - 3000), 0);
  float *y = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  /* libsndfile alone would shorten the file silently; the reader must say "truncated". */
  assert_int_equal(sg_audio_read_all(p, n, &y, NULL, &d), SG_E_FORMAT);
  assert_non_null(strstr(d.message, "truncated"));
  assert_null(y);
  /* Garbage is a format error with the file name. */
  const char *g = sg_test_path("garbage.wav");
  assert_int_equal(sg_test_write_text(g, "RIFF\x10\x00\x00\x00WAVEjunkjunkjunk"), 0);
  sg_diag_clear(&d);
  assert_int_equal(sg_audio_read_all(g, n, &y, NULL, &d), SG_E_FORMAT);
  assert_non_null(strstr(d.message, "garbage.wav"));
  sg_diag_clear(&d);
  assert_int_equal(sg_audio_read_all(sg_test_path("nope.wav"), n, &y, NULL, &d), SG_E_IO);
  free(x);
}

static int run_quiet(const char *cmd, char *out, size_t cap) {
  FILE *f = popen(cmd, "r");
  if (!f)
    return -1;
  size_t n = fread(out, 1, cap - 1, f);
  out[n] = 0;
  return pclose(f);
}

static void strict_readers_accept_float_wav(void **s) {
  (void)s;
  if (system("command -v sox >/dev/null 2>&1") != 0) {
    printf("SKIP: sox not installed\n");
    return;
  }
  float *x = sine(4800, 2, 440, 0.5, 48000);
  sg_audio_writer_config cfg;
  sg_audio_writer_config_init(&cfg);
  sg_bext bext = {.description = "strict"};
  cfg.bext = &bext;
  const char *p = sg_test_path("strict.wav");
  assert_int_equal(sg_audio_write_all(p, x, 4800, &cfg, NULL), SG_OK);
  char cmd[1200], out[4096];
  snprintf(cmd, sizeof cmd, "sox --i '%s' 2>&1 >/dev/null", p);
  assert_int_equal(run_quiet(cmd, out, sizeof out), 0);
  printf("sox warnings: '%s'\n", out);
  assert_int_equal(strlen(out), 0);
  if (system("command -v ffprobe >/dev/null 2>&1") == 0) {
    snprintf(cmd, sizeof cmd, "ffprobe -v warning '%s' 2>&1", p);
    assert_int_equal(run_quiet(cmd, out, sizeof out), 0);
    printf("ffprobe warnings: '%s'\n", out);
    assert_int_equal(strlen(out), 0);
  }
  free(x);
}

static void convert_rate_and_channels(void **s) {
  (void)s;
  const size_t n = 44100 * 2;
  float *x = sine(n, 1, 1000, 0.5, 44100);
  sg_audio_writer_config cfg;
  sg_audio_writer_config_init(&cfg);
  cfg.rate = 44100;
  cfg.channels = 1;
  cfg.format = SG_FMT_PCM16;
  const char *in = sg_test_path("in441.wav");
  const char *out = sg_test_path("out48.wav");
  assert_int_equal(sg_audio_write_all(in, x, (int64_t)n, &cfg, NULL), SG_OK);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_audio_convert_file(in, out, 48000, 2, &d), SG_OK);
  float *y;
  sg_audio_info info;
  assert_int_equal(sg_audio_read_all(out, 1 << 20, &y, &info, &d), SG_OK);
  assert_int_equal(info.rate, 48000);
  assert_int_equal(info.channels, 2);
  assert_true(llabs(info.frames - 96000) <= 1);
  /* The 1 kHz tone keeps its frequency: count zero crossings in the middle second. */
  int zc = 0;
  for (size_t i = 24000; i < 72000; ++i)
    zc += (y[2 * i] >= 0) != (y[2 * i + 2] >= 0);
  assert_true(abs(zc - 2000) <= 2);
  assert_float_equal(y[2 * 30000], y[2 * 30000 + 1], 0);
  free(x);
  free(y);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(float32_round_trip),
      cmocka_unit_test(pcm24_round_trip),
      cmocka_unit_test(pcm16_round_trip_with_dither),
      cmocka_unit_test(pcm16_dither_decorrelates_quiet_signal),
      cmocka_unit_test(writer_is_atomic_and_tapped),
      cmocka_unit_test(fold_identical_channels),
      cmocka_unit_test(streamed_digest_is_the_files),
      cmocka_unit_test(truncated_file_is_reported),
      cmocka_unit_test(strict_readers_accept_float_wav),
      cmocka_unit_test(convert_rate_and_channels),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
