/* Package throughput: libzip's own stdio file I/O versus stemgate's large-block zip sources,
 * against a plain 1 MiB-block copy as the floor, for a stem package of about 320 MB of
 * float32 stereo WAV stored uncompressed; then the verification read (SHA-256 of every entry
 * streamed out of the archive).
 *
 * Build and run (after building sg_package in build-package):
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude bench/package_bench.c \
 *      build-package/libsg_package.a build-package/libsg_io.a build-package/libsg_core.a \
 *      $(pkg-config --libs libzip sndfile samplerate libcrypto) -lm -o /tmp/package_bench
 *   /tmp/package_bench [dir] [MB]      # default dir /tmp, 320 MB in 10 stems
 * Each case runs 3 times; the best wall time is reported (page cache warm, so this measures
 * the CPU and system-call cost, which is what the block size changes). */
#include "stemgate/package.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, const sg_diag *d) {
  fprintf(stderr, "%s failed: %s\n", what, d ? d->message : "");
  exit(1);
}

#define NSTEMS 10

static double plain_copy(char paths[][512], const char *out) {
  double t0 = now();
  int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  size_t cap = (size_t)1 << 20;
  char *buf = malloc(cap);
  for (int i = 0; i < NSTEMS; ++i) {
    int fi = open(paths[i], O_RDONLY);
    ssize_t n;
    while ((n = read(fi, buf, cap)) > 0)
      if (write(fo, buf, (size_t)n) != n)
        die("write", NULL);
    close(fi);
  }
  fsync(fo);
  close(fo);
  free(buf);
  return now() - t0;
}

static double zip_case(char paths[][512], const char *out, size_t io_block, int do_fsync) {
  sg_zip_writer_config c;
  sg_zip_writer_config_init(&c);
  c.io_block = io_block;
  c.fsync_on_close = do_fsync;
  sg_diag d;
  sg_diag_clear(&d);
  double t0 = now();
  sg_zip_writer *w = NULL;
  if (sg_zip_writer_open(&w, out, &c, &d) != SG_OK)
    die("open", &d);
  for (int i = 0; i < NSTEMS; ++i) {
    char name[64];
    snprintf(name, sizeof name, "stems/stem%02d.wav", i);
    if (sg_zip_writer_add_file(w, name, paths[i], 0, &d) != SG_OK)
      die("add", &d);
  }
  if (sg_zip_writer_add_text(w, "NOTES.txt", "bench\n", &d) != SG_OK)
    die("add text", &d);
  if (sg_zip_writer_close(w, &d) != SG_OK)
    die("close", &d);
  return now() - t0;
}

static double verify_read(const char *zip) {
  sg_diag d;
  sg_diag_clear(&d);
  double t0 = now();
  sg_zip_reader *r = NULL;
  if (sg_zip_reader_open(&r, zip, NULL, &d) != SG_OK)
    die("reader", &d);
  for (size_t i = 0; i < sg_zip_reader_count(r); ++i) {
    char hex[65];
    if (sg_zip_reader_sha256(r, sg_zip_reader_entry(r, i), hex, NULL, &d) != SG_OK)
      die("sha256", &d);
  }
  sg_zip_reader_close(r);
  return now() - t0;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/tmp";
  double mb = argc > 2 ? atof(argv[2]) : 320;
  char paths[NSTEMS][512];
  /* Stereo float32 at 48 kHz: 384000 bytes per second. */
  int64_t frames = (int64_t)(mb * 1e6 / NSTEMS / 8.0);
  float *buf = malloc((size_t)frames * 2 * sizeof *buf);
  sg_rng rng;
  sg_rng_seed(&rng, 1, 1);
  for (int64_t i = 0; i < frames * 2; ++i)
    buf[i] = 0.25f * sg_rng_tpdf(&rng); /* noise: incompressible, like a real mix */
  sg_audio_writer_config wc;
  sg_audio_writer_config_init(&wc);
  for (int i = 0; i < NSTEMS; ++i) {
    snprintf(paths[i], sizeof paths[i], "%s/sg_bench_stem%02d.wav", dir, i);
    sg_diag d;
    sg_diag_clear(&d);
    if (sg_audio_write_all(paths[i], buf, frames, &wc, &d) != SG_OK)
      die("wav", &d);
  }
  free(buf);
  struct stat sb;
  stat(paths[0], &sb);
  double total_mb = (double)sb.st_size * NSTEMS / 1e6;
  printf("package of %d stems, %.1f MB stored\n", NSTEMS, total_mb);
  char out[512];
  snprintf(out, sizeof out, "%s/sg_bench.zip", dir);
  struct {
    const char *name;
    int kind;
    size_t block;
    int fsync;
  } cases[] = {
      {"plain copy, 1 MiB blocks, fsync", 0, 0, 1},
      {"libzip stdio sources, no fsync", 1, 0, 0},
      {"libzip stdio sources, fsync", 1, 0, 1},
      {"large-block sources 64 KiB, fsync", 1, 64 << 10, 1},
      {"large-block sources 1 MiB, no fsync", 1, 1 << 20, 0},
      {"large-block sources 1 MiB, fsync", 1, 1 << 20, 1},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; ++k) {
    double best = 1e30;
    for (int rep = 0; rep < 3; ++rep) {
      double t = cases[k].kind == 0 ? plain_copy(paths, out)
                                    : zip_case(paths, out, cases[k].block, cases[k].fsync);
      if (t < best)
        best = t;
    }
    printf("%-40s %7.3f s  %7.1f MB/s\n", cases[k].name, best, total_mb / best);
  }
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    double t = verify_read(out);
    if (t < best)
      best = t;
  }
  printf("%-40s %7.3f s  %7.1f MB/s\n", "verify: SHA-256 of every entry", best, total_mb / best);
  for (int i = 0; i < NSTEMS; ++i)
    unlink(paths[i]);
  unlink(out);
  return 0;
}
