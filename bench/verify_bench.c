/* stemgate verify on a long package: how long does QC of an N-minute delivery take, and how
 * much memory does it hold? Writes a package of float32 stereo 48 kHz WAVs (master, Keys, Bass,
 * Bridge (middle third only), Drums: tones and clicks on a 120 BPM grid), zipped with the
 * package writer, then times sg_verify_package on the zip and on the folder, with and without
 * a drum reference (the alignment keeps a mono copy of master and reference).
 *
 * Build and run (after building sg_verify in build-verify):
 *   B=build-verify; cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude bench/verify_bench.c \
 *      $B/libsg_verify.a $B/libsg_package.a $B/libsg_gate.a $B/libsg_timing.a $B/libsg_spec.a \
 *      $B/libsg_analysis.a $B/libsg_io.a $B/libsg_core.a \
 *      $(pkg-config --libs libzip kissfft-float sndfile samplerate yaml-0.1 libcrypto) \
 *      -lm -o /tmp/verify_bench
 *   /tmp/verify_bench [dir] [minutes]     # default /tmp, 10 minutes (~1.2 GB of WAV + zip)
 * Reports wall time per case, the real-time factor of the whole package and the peak resident
 * memory of the process (getrusage). */
#include "stemgate/package.h"
#include "stemgate/spec.h"
#include "stemgate/verify.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, const sg_diag *d) {
  fprintf(stderr, "%s failed: %s\n", what, d ? d->message : "");
  exit(1);
}

static const char *parts[] = {"Master", "Keys", "Bass", "Bridge", "Drums"};

/* Streams one part to disk in 1 s blocks. */
static void write_part(const char *path, int p, double seconds, sg_rng *rng) {
  sg_audio_writer_config c;
  sg_audio_writer_config_init(&c);
  sg_audio_writer *w = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  if (sg_audio_writer_open(&w, path, &c, &d) != SG_OK)
    die("open", &d);
  const unsigned R = 48000;
  float *buf = malloc(2 * R * sizeof *buf);
  int64_t total = (int64_t)(seconds * R), t = 0;
  const double beat = 0.5, f[] = {0, 261.63, 98.0, 523.25, 0};
  while (t < total) {
    size_t n = (size_t)(total - t < (int64_t)R ? total - t : (int64_t)R);
    for (size_t i = 0; i < n; ++i, ++t) {
      double s = (double)t / R, x = 0, ph = fmod(s, beat);
      int in_bridge = s >= seconds / 3 && s < 2 * seconds / 3;
      if (p == 1 || p == 2 || (p == 3 && in_bridge))
        x = 0.1 * sin(2 * SG_PI * f[p] * s);
      if (p == 4 || p == 0) /* a click with a noise tail every beat */
        x += ph < 0.05 ? 0.3 * exp(-ph / 0.01) * sg_rng_normal(rng) * 0.5 : 0;
      if (p == 0)
        x += 0.1 * sin(2 * SG_PI * f[1] * s) + 0.1 * sin(2 * SG_PI * f[2] * s) +
             (in_bridge ? 0.1 * sin(2 * SG_PI * f[3] * s) : 0);
      buf[2 * i] = buf[2 * i + 1] = (float)x;
    }
    if (sg_audio_writer_write(w, buf, n, &d) != SG_OK)
      die("write", &d);
  }
  free(buf);
  if (sg_audio_writer_close(w, &d) != SG_OK)
    die("close", &d);
}

static void run(const char *label, const sg_song *song, const char *pkg, const char *ref,
                double seconds) {
  sg_verify_options o;
  sg_verify_options_init(&o);
  o.package = pkg;
  o.reference = ref;
  sg_verify_result r;
  double t0 = now();
  sg_status st = sg_verify_package(song, &o, &r, NULL);
  double dt = now() - t0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf(
      "%-28s %7.2f s  %6.0fx real time (5 files)  %zu checks, %zu failed (%s)  peak RSS %ld MB\n",
      label, dt, 5 * seconds / dt, r.report.n, r.report.failed, sg_status_name(st),
      ru.ru_maxrss / 1024);
  sg_verify_result_free(&r);
}

int main(int argc, char **argv) {
  const char *base = argc > 1 ? argv[1] : "/tmp";
  double minutes = argc > 2 ? atof(argv[2]) : 10.0;
  char dir[1024], spec[1200], zip[1200], path[1400];
  snprintf(dir, sizeof dir, "%s/verify_bench", base);
  mkdir(dir, 0700);
  int bars = (int)(minutes * 60 / 2 / 3); /* 120 BPM 4/4: 2 s a bar, three sections */
  double seconds = 3.0 * bars * 2.0;
  char text[1024];
  snprintf(text, sizeof text,
           "title: Bench\ntempo: 120\nkey: C major\nsections:\n  - {name: A, bars: %d}\n"
           "  - {name: B, bars: %d}\n  - {name: C, bars: %d}\nstems:\n"
           "  - {name: Keys, instrument: prophet_poly}\n  - {name: Bass, instrument: moog_bass}\n"
           "  - {name: Bridge, instrument: dx7, sections: [B]}\ndrums: {source: synth}\n",
           bars, bars, bars);
  snprintf(spec, sizeof spec, "%s/bench.yaml", dir);
  FILE *f = fopen(spec, "wb");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0)
    die("spec", NULL);
  sg_song *song = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  if (sg_song_load(spec, &song, &d) != SG_OK)
    die("spec", &d);
  sg_rng rng;
  sg_rng_seed(&rng, 1, 1);
  snprintf(zip, sizeof zip, "%s/bench.zip", base);
  sg_package *pk = NULL;
  if (sg_package_begin(&pk, zip, NULL, &d) != SG_OK)
    die("package", &d);
  printf("writing %.1f min x 5 files under %s ...\n", seconds / 60, dir);
  for (int p = 0; p < 5; ++p) {
    snprintf(path, sizeof path, "%s/bench_%s.wav", dir, parts[p]);
    write_part(path, p, seconds, &rng);
    char entry[64];
    snprintf(entry, sizeof entry, "bench_%s.wav", parts[p]);
    if (sg_package_add_audio(pk, path, entry, p ? SG_ROLE_STEM : SG_ROLE_MASTER, parts[p], NULL,
                             &d) != SG_OK)
      die("add", &d);
  }
  if (sg_package_finish(pk, &d) != SG_OK)
    die("finish", &d);
  snprintf(path, sizeof path, "%s/bench_Drums.wav", dir);
  run("folder", song, dir, NULL, seconds);
  run("zip (+ manifest SHA-256)", song, zip, NULL, seconds);
  run("zip + reference alignment", song, zip, path, seconds);
  sg_song_free(song);
  return 0;
}
