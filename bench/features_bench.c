/* Feature extraction (sg_features) on one file, CPU time on one core (not part of the tests).
 *
 * Build (from the repository root, after `cmake --build build --target sg_analysis`):
 *   cc -O2 -g -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude bench/features_bench.c \
 *      build/libsg_analysis.a build/libsg_io.a build/libsg_dsp.a build/libsg_theory.a \
 *      build/libsg_core.a $(pkg-config --libs libebur128 kissfft-float sndfile samplerate \
 *      libcrypto) -lm -o /tmp/features_bench
 * Run:
 *   /tmp/features_bench FILE.wav [runs]       CPU per flag set, as x real time
 *   /tmp/features_bench FILE.wav 0 OUT.bin    writes every feature array (all flags) to OUT.bin
 *   /tmp/features_bench --diff A.bin B.bin    largest differences between two such dumps
 *   SG_FB_FLAGS=4 /tmp/features_bench FILE 1  one flag set only (SG_FEAT_*), e.g. under callgrind
 *
 * The file is decoded into memory first, so only sg_features_add/finish are timed. The dump
 * and the diff pin a change of the features' code against the previous build's numbers. */
#include "stemgate/analysis.h"
#include "stemgate/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float *load(const char *path, unsigned *ch, unsigned *rate, size_t *frames) {
  sg_audio_reader *r = NULL;
  sg_audio_info info;
  if (sg_audio_reader_open(&r, path, &info, NULL) != SG_OK)
    return NULL;
  *ch = info.channels;
  *rate = info.rate;
  float *x = malloc((size_t)info.frames * info.channels * sizeof *x);
  size_t got = 0, n = 0;
  while (x && n < (size_t)info.frames) {
    size_t want = (size_t)info.frames - n < 65536 ? (size_t)info.frames - n : 65536;
    if (sg_audio_reader_read(r, x + n * info.channels, want, &got, NULL) != SG_OK || !got)
      break;
    n += got;
  }
  sg_audio_reader_close(r);
  *frames = n;
  return x;
}

static sg_features *run(const float *x, size_t n, unsigned ch, unsigned rate, unsigned flags) {
  sg_features_config fc;
  sg_features_config_init(&fc);
  fc.flags = flags;
  sg_features *f = NULL;
  if (sg_features_create(&f, ch, rate, &fc, NULL) != SG_OK)
    return NULL;
  for (size_t i = 0; i < n; i += 4096) /* the taps' block size */
    sg_features_add(f, x + i * ch, n - i < 4096 ? n - i : 4096);
  sg_features_finish(f);
  return f;
}

typedef const float *(*getter)(const sg_features *, size_t *, double *);
static const getter GET[] = {sg_features_onset_env, sg_features_low_env, sg_features_energy,
                             sg_features_chroma, sg_features_bass_chroma};
static const char *const NAME[] = {"onset_env", "low_env", "energy", "chroma", "bass_chroma"};
static const size_t WIDTH[] = {1, 1, 1, 12, 12};

static int dump(const sg_features *f, const char *out) {
  FILE *fp = fopen(out, "wb");
  if (!fp)
    return 1;
  double tun = sg_features_tuning_cents(f);
  fwrite(&tun, sizeof tun, 1, fp);
  for (int a = 0; a < 5; ++a) {
    size_t n = 0;
    const float *v = GET[a](f, &n, NULL);
    n *= WIDTH[a];
    fwrite(&n, sizeof n, 1, fp);
    fwrite(v, sizeof *v, n, fp);
  }
  return fclose(fp) != 0;
}

static float *read_arr(FILE *fp, size_t *n) {
  if (fread(n, sizeof *n, 1, fp) != 1)
    return NULL;
  float *v = malloc((*n + 1) * sizeof *v);
  if (v && fread(v, sizeof *v, *n, fp) != *n) {
    free(v);
    return NULL;
  }
  return v;
}

/* Per array: length, the largest |a - b|, the largest |a - b| relative to the array's peak. */
static int diff(const char *pa, const char *pb) {
  FILE *a = fopen(pa, "rb"), *b = fopen(pb, "rb");
  double ta = 0, tb = 0;
  if (!a || !b || fread(&ta, sizeof ta, 1, a) != 1 || fread(&tb, sizeof tb, 1, b) != 1)
    return 1;
  printf("tuning_cents %.6f %.6f diff %.3g\n", ta, tb, fabs(ta - tb));
  for (int k = 0; k < 5; ++k) {
    size_t na = 0, nb = 0;
    float *va = read_arr(a, &na), *vb = read_arr(b, &nb);
    if (!va || !vb)
      return 1;
    double peak = 0, dmax = 0;
    size_t at = 0, n = na < nb ? na : nb;
    for (size_t i = 0; i < n; ++i) {
      peak = fmax(peak, fabs(va[i]));
      double dd = fabs((double)va[i] - vb[i]);
      if (dd > dmax)
        dmax = dd, at = i;
    }
    printf("%-12s n %zu/%zu  max|diff| %.3g at %zu  rel.peak %.3g\n", NAME[k], na, nb, dmax, at,
           peak > 0 ? dmax / peak : 0);
    free(va);
    free(vb);
  }
  fclose(a);
  fclose(b);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "--diff"))
    return diff(argv[2], argv[3]);
  if (argc < 2) {
    fprintf(stderr, "usage: features_bench FILE [runs [OUT.bin]] | --diff A B\n");
    return 2;
  }
  unsigned ch = 0, rate = 0;
  size_t n = 0;
  float *x = load(argv[1], &ch, &rate, &n);
  if (!x) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 1;
  }
  const double secs = (double)n / rate;
  int runs = argc > 2 ? atoi(argv[2]) : 3;
  if (argc > 3) {
    sg_features *f = run(x, n, ch, rate, SG_FEAT_ALL);
    int rc = !f || dump(f, argv[3]);
    sg_features_free(f);
    free(x);
    return rc;
  }
  static const struct {
    const char *what;
    unsigned flags;
  } sets[] = {{"onset+energy (stem taps)", SG_FEAT_ONSET | SG_FEAT_ENERGY},
              {"onset", SG_FEAT_ONSET},
              {"energy", SG_FEAT_ENERGY},
              {"chroma", SG_FEAT_CHROMA},
              {"all (master, verify)", SG_FEAT_ALL}};
  printf("%s: %.1f s, %u ch, %u Hz; best of %d runs, CPU time\n", argv[1], secs, ch, rate, runs);
  const char *only = getenv("SG_FB_FLAGS"); /* e.g. 4: chroma alone (for callgrind) */
  for (size_t s = 0; s < sizeof sets / sizeof *sets; ++s) {
    if (only && (unsigned)atoi(only) != sets[s].flags)
      continue;
    double best = 1e30;
    for (int r = 0; r < runs; ++r) {
      double t0 = cpu();
      sg_features *f = run(x, n, ch, rate, sets[s].flags);
      double dt = cpu() - t0;
      sg_features_free(f);
      if (dt < best)
        best = dt;
    }
    printf("%-26s %7.3f s  %7.1fx real time\n", sets[s].what, best, secs / best);
  }
  free(x);
  return 0;
}
