/* CPU of a render's effects phase without the writer and meters: every stem's chain (and the
 * drums') on its dry file from a finished render, with the in-situ measurement of each effect
 * fed by the chain's tap as src/pipeline/step_fx.c does (the keyed compressor's sidechain and
 * candidate keys read alongside). Prints, per stem, the thread CPU of the chain (tap excluded)
 * and of the taps, a hash of the processed audio and the in-situ figures, so two builds can be
 * compared (paired A B A B). Not built by CMake; see bench/fx_README.md.
 *
 *   fx_phase_bench SPEC WORKDIR [REPS]   (WORKDIR: a render's DIR/work, holding dry/<stem>.wav) */
#include "pipeline_internal.h" /* sg__fxv_insitu_config; build with -Isrc/pipeline */
#include "stemgate/analysis.h"
#include "stemgate/fx.h"
#include "stemgate/io.h"
#include "stemgate/mix.h"
#include "stemgate/package.h"
#include "stemgate/spec.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAXK 8

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct bench_stem {
  sg_insitu *acc[SG_MAX_EFFECTS];
  int n_fx, keyed[SG_MAX_EFFECTS];
  const float *keys[2 * MAXK];
  int n_keys;
  double tap_cpu, eff_cpu[SG_MAX_EFFECTS];
} bench_stem;

static void tap(void *user, int effect, const float *inL, const float *inR, const float *outL,
                const float *outR, const float *sideL, const float *sideR, size_t n) {
  bench_stem *b = user;
  double t0 = cpu_now();
  if (b->acc[effect])
    sg_insitu_add_keyed(b->acc[effect], inL, inR, outL, outR, sideL, sideR,
                        b->keyed[effect] ? b->keys : NULL, b->keyed[effect] ? b->n_keys : 0, n);
  const double dt = cpu_now() - t0;
  b->tap_cpu += dt, b->eff_cpu[effect] += dt;
}

/* The pipeline's own in-situ configuration (step_fx.c), without probe results: the wet gains a
 * probe would measure stay 0 dB, which changes the figures, not the work. */
static void insitu_config(const sg_fx_design *ds, double rate, sg_insitu_config *c) {
  static const sg_fx_probe_result no_probe;
  sg__fxv_insitu_config(ds, &no_probe, rate, c);
}

typedef struct stereo {
  float *L, *R;
  size_t n;
} stereo;

static int load(const char *work, const char *name, stereo *out) {
  char safe[256], path[1024];
  sg_package_safe_name(name, safe, sizeof safe);
  snprintf(path, sizeof path, "%s/dry/%s.wav", work, safe);
  sg_audio_reader *rd = NULL;
  sg_audio_info info;
  if (sg_audio_reader_open(&rd, path, &info, NULL) != SG_OK) {
    fprintf(stderr, "cannot open %s\n", path);
    return 0;
  }
  size_t n = (size_t)info.frames, ch = info.channels;
  float *ib = malloc(4096 * ch * sizeof(float));
  out->L = malloc(n * sizeof(float)), out->R = malloc(n * sizeof(float)), out->n = n;
  size_t at = 0, got = 0;
  while (at < n && sg_audio_reader_read(rd, ib, 4096, &got, NULL) == SG_OK && got) {
    for (size_t k = 0; k < got && at + k < n; ++k)
      out->L[at + k] = ib[k * ch], out->R[at + k] = ib[k * ch + (ch > 1)];
    at += got;
  }
  sg_audio_reader_close(rd);
  free(ib);
  return 1;
}

static uint64_t fnv(uint64_t h, const float *x, size_t n) {
  const unsigned char *p = (const unsigned char *)x;
  for (size_t i = 0; i < n * sizeof(float); ++i)
    h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s SPEC WORKDIR [REPS]\n", argv[0]);
    return 2;
  }
  int reps = argc > 3 ? atoi(argv[3]) : 1;
  sg_song *s = NULL;
  sg_diag d;
  memset(&d, 0, sizeof d);
  if (sg_song_load(argv[1], &s, &d) != SG_OK) {
    fprintf(stderr, "spec: %s\n", d.message);
    return 1;
  }
  sg_dsp_denormals_off();
  const double rate = s->sample_rate;
  const double bpm = (double)s->tempo.num / (double)s->tempo.den;
  const int ns = s->n_stems + 1;
  double tot_chain = 0, tot_tap = 0;
  for (int si = 0; si < ns; ++si) {
    const int drums = si == s->n_stems;
    const char *name = drums ? "Drums" : s->stems[si].name.s;
    const sg_effect_spec *fx = drums ? s->drums.effects : s->stems[si].effects;
    const int nfx = drums ? s->drums.n_effects : s->stems[si].n_effects;
    if (!nfx)
      continue;
    stereo dry, side = {0}, keys[MAXK];
    if (!load(argv[2], name, &dry))
      return 1;
    bench_stem b;
    memset(&b, 0, sizeof b);
    const char *side_name = NULL;
    sg_fx_design ds[SG_MAX_EFFECTS];
    for (int i = 0; i < nfx; ++i) {
      sg_fx_design_get(&fx[i], rate, bpm, &ds[i], NULL);
      if (ds[i].sidechain[0])
        side_name = ds[i].sidechain;
    }
    if (side_name) {
      load(argv[2], side_name, &side);
      for (int j = 0; j <= s->n_stems && b.n_keys < MAXK; ++j) {
        const char *o = j == s->n_stems ? "Drums" : s->stems[j].name.s;
        if (!strcasecmp(o, side_name) || !strcasecmp(o, name))
          continue;
        if (load(argv[2], o, &keys[b.n_keys])) {
          b.n_keys++;
        }
      }
    }
    double chain_cpu = 0, tap_cpu = 0;
    uint64_t h = 1469598103934665603ull;
    sg_insitu_result res[SG_MAX_EFFECTS];
    float *L = malloc(dry.n * sizeof(float)), *R = malloc(dry.n * sizeof(float));
    for (int rep = 0; rep < reps; ++rep) {
      sg_fx_chain *c = NULL;
      if (sg_fx_chain_create(fx, nfx, rate, bpm, argv[1], &c, &d) != SG_OK ||
          sg_fx_chain_set_tap(c, tap, &b, SG_MIX_BLOCK, &d) != SG_OK) {
        fprintf(stderr, "chain: %s\n", d.message);
        return 1;
      }
      for (int i = 0; i < nfx; ++i) {
        sg_insitu_config ic;
        insitu_config(&ds[i], rate, &ic);
        b.keyed[i] = ic.kind == SG_INSITU_DYNAMICS && ds[i].sidechain[0];
        if (b.keyed[i])
          ic.n_keys = b.n_keys;
        sg_insitu_create(&b.acc[i], &ic);
      }
      memcpy(L, dry.L, dry.n * sizeof(float));
      memcpy(R, dry.R, dry.n * sizeof(float));
      b.tap_cpu = 0;
      double t0 = cpu_now();
      for (size_t at = 0; at < dry.n; at += SG_MIX_BLOCK) {
        size_t m = dry.n - at < SG_MIX_BLOCK ? dry.n - at : SG_MIX_BLOCK;
        for (int j = 0; j < b.n_keys; ++j)
          b.keys[2 * j] = keys[j].L + at, b.keys[2 * j + 1] = keys[j].R + at;
        sg_fx_chain_process(c, L + at, R + at, side.L ? side.L + at : NULL,
                            side.R ? side.R + at : NULL, m);
      }
      double dt = cpu_now() - t0;
      chain_cpu += dt - b.tap_cpu, tap_cpu += b.tap_cpu;
      if (rep == 0) {
        h = fnv(h, L, dry.n);
        h = fnv(h, R, dry.n);
      }
      for (int i = 0; i < nfx; ++i) {
        sg_insitu_result_get(b.acc[i], &res[i]);
        sg_insitu_free(b.acc[i]);
        b.acc[i] = NULL;
      }
      sg_fx_chain_destroy(c);
    }
    printf("%-8s chain %7.3f s  insitu %7.3f s  out %016llx\n", name, chain_cpu / reps,
           tap_cpu / reps, (unsigned long long)h);
    for (int i = 0; i < nfx; ++i) {
      const sg_insitu_result *r = &res[i];
      printf("   %-10s insitu %6.3f s", ds[i].type, b.eff_cpu[i] / reps);
      if (!strcmp(ds[i].type, "compressor"))
        printf(" gr_err %.4f mean %.4f max %.4f own %.4f side %.4f blocks %zu", r->gr_err_rms_db,
               r->gr_mean_db, r->gr_max_db, r->corr_own, r->corr_side, r->blocks);
      else if (!strcmp(ds[i].type, "eq"))
        printf(" mag %.4f %.4f coh %.4f", r->mag_db[0], r->mag_db[1], r->coherence[0]);
      else
        printf(" wet_mix %.5f dry_coef %.5f", r->wet_mix, r->dry_coef);
      printf("\n");
    }
    tot_chain += chain_cpu / reps, tot_tap += tap_cpu / reps;
    free(L), free(R), free(dry.L), free(dry.R), free(side.L), free(side.R);
    for (int j = 0; j < b.n_keys; ++j)
      free(keys[j].L), free(keys[j].R);
  }
  printf("total    chain %7.3f s  insitu %7.3f s  sum %7.3f s\n", tot_chain, tot_tap,
         tot_chain + tot_tap);
  sg_song_free(s);
  return 0;
}
