/* Analysis throughput on a 10-minute stereo 48 kHz float file (not part of the tests).
 *
 * Build and run (from the repository root, after building sg_analysis in build-analysis):
 *   cmake --build build-analysis --target sg_analysis -j2
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude bench/analysis_bench.c \
 *      build-analysis/libsg_analysis.a build-analysis/libsg_io.a build-analysis/libsg_core.a \
 *      $(pkg-config --libs kissfft-float sndfile samplerate libcrypto) -lm \
 *      -o /tmp/analysis_bench && /tmp/analysis_bench [seconds]
 *
 * Prints each stage's wall time and its speed as a multiple of real time (higher is faster). */
#include "stemgate/analysis.h"
#include "stemgate/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void report(const char *what, double t0, double secs) {
  double dt = now() - t0;
  printf("%-34s %8.2f s  %8.1fx realtime\n", what, dt, secs / dt);
}

/* A drum-and-chords stand-in: kick on beats, hats on eighths, A minor / F / C / G chords. */
static int write_fixture(const char *path, double secs, unsigned rate) {
  sg_audio_writer_config wc;
  sg_audio_writer_config_init(&wc);
  wc.rate = rate;
  wc.channels = 2;
  sg_audio_writer *w = NULL;
  if (sg_audio_writer_open(&w, path, &wc, NULL) != SG_OK)
    return -1;
  static const int chords[4][3] = {{57, 60, 64}, {53, 57, 60}, {48, 52, 55}, {55, 59, 62}};
  const double bpm = 124, beat = 60 / bpm;
  const size_t B = 4096;
  float *buf = malloc(2 * B * sizeof *buf);
  sg_rng g;
  sg_rng_seed(&g, 1, 1);
  int64_t total = (int64_t)(secs * rate), done = 0;
  while (done < total) {
    size_t k = (size_t)(total - done < (int64_t)B ? total - done : (int64_t)B);
    for (size_t i = 0; i < k; ++i) {
      double t = (double)(done + (int64_t)i) / rate;
      double tb = fmod(t, beat), te = fmod(t, beat / 2);
      double kick = 0.6 * exp(-tb / 0.08) * sin(2 * SG_PI * (50 + 80 * exp(-tb / 0.02)) * tb);
      double hat = 0.08 * exp(-te / 0.01) * sg_rng_normal(&g);
      const int *c = chords[(int)(t / (4 * beat)) % 4];
      double pad = 0;
      for (int v = 0; v < 3; ++v)
        pad += 0.08 * sin(2 * SG_PI * sg_midi_to_hz(c[v]) * t);
      buf[2 * i] = (float)(kick + hat + pad);
      buf[2 * i + 1] = (float)(kick + 0.8 * hat + pad);
    }
    if (sg_audio_writer_write(w, buf, k, NULL) != SG_OK)
      return -1;
    done += (int64_t)k;
  }
  free(buf);
  return sg_audio_writer_close(w, NULL) == SG_OK ? 0 : -1;
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 600;
  const unsigned rate = 48000;
  char path[256];
  snprintf(path, sizeof path, "/tmp/sg_analysis_bench_%ld.wav", (long)time(NULL));
  double t0 = now();
  if (write_fixture(path, secs, rate)) {
    fprintf(stderr, "cannot write %s\n", path);
    return 1;
  }
  report("write fixture", t0, secs);

  sg_meter_result r;
  t0 = now();
  sg_meter_file(path, 0, &r, NULL, NULL);
  report("meter: levels only", t0, secs);
  t0 = now();
  sg_meter_file(path, SG_METER_LOUDNESS, &r, NULL, NULL);
  report("meter: + loudness/LRA", t0, secs);
  t0 = now();
  sg_meter_file(path, SG_METER_ALL, &r, NULL, NULL);
  report("meter: + true peak", t0, secs);
  printf("  I %.2f LUFS, TP %.2f dBTP, LRA %.2f LU\n", r.integrated_lufs, r.true_peak_dbtp,
         r.loudness_range_lu);

  sg_features *f = NULL;
  t0 = now();
  if (sg_features_from_file(&f, path, NULL, NULL) != SG_OK)
    return 1;
  report("features (onset+energy+chroma)", t0, secs);
  sg_onset_list on;
  sg_tempo_result tr;
  t0 = now();
  sg_onsets_pick(f, NULL, &on);
  sg_tempo_estimate(f, &on, NULL, &tr);
  report("onsets + tempo", t0, secs);
  printf("  %zu onsets, %.3f BPM (conf %.2f)\n", on.n, tr.bpm, tr.confidence);
  sg_key_track kt;
  t0 = now();
  sg_key_track_compute(f, NULL, &kt);
  report("key track", t0, secs);
  sg_keyfit k;
  sg_key_estimate(f, 0, 0, SG_KEY_KRUMHANSL, &k);
  printf("  key %s, %zu changes\n", sg_keyfit_name(k.tonic, k.minor), kt.n_changes);
  sg_echo_result er;
  t0 = now();
  sg_echo_at_lag(f, 0.75 * 60 / 124.0, 0.1, &er);
  report("echo at dotted eighth", t0, secs);
  sg_key_track_free(&kt);
  sg_onset_list_free(&on);
  sg_features_free(f);

  sg_align_result ar;
  t0 = now();
  sg_align_files(path, path, NULL, &ar, NULL);
  report("align file with itself", t0, secs);
  printf("  offset %.4f ms, drift %.4f ms\n", ar.offset_s * 1e3, ar.drift_s * 1e3);
  remove(path);
  return 0;
}
