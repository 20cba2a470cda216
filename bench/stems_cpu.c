/* CPU of the stems phase, one instrument at a time: composes every stem of a spec (and its
 * drums) as the pipeline does, renders each dry through sg_synth_render in SG_MIX_BLOCK blocks
 * (no file, no meter) and prints the thread CPU seconds, peak, RMS and a hash of the samples.
 * Run it from two builds in alternation (A B A B) to compare instrument code; write the stems
 * with OUTDIR to listen or compare them (sox OUTDIR/<stem>.wav -n stats).
 *
 *   cmake --build build --target sg_pipeline
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude bench/stems_cpu.c \
 *      build/libsg_compose.a build/libsg_synth.a build/libsg_timing.a build/libsg_spec.a \
 *      build/libsg_fx.a build/libsg_theory.a build/libsg_dsp.a build/libsg_core.a \
 *      $(pkg-config --libs fluidsynth yaml-0.1 sndfile) -lcrypto -lm -o /tmp/stems_cpu
 *   /tmp/stems_cpu examples/deja-vu.yaml [OUTDIR]                                            */
#include "stemgate/compose.h"
#include "stemgate/mix.h"
#include "stemgate/spec.h"
#include "stemgate/synth.h"
#include "stemgate/timing.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int one(const sg_song *s, const sg_timeline *tl, int si, const char *outdir) {
  const int drums = si < 0;
  const char *name = drums ? "Drums" : s->stems[si].name.s;
  const char *inst = drums ? "drums" : s->stems[si].instrument.s;
  const char *patch = drums ? s->drums.patch.s : s->stems[si].patch.s;
  sg_synth_kind kind;
  if (sg_synth_kind_from_name(inst, &kind) != SG_OK || kind == SG_SYNTH_SOUNDFONT)
    return 0;
  const char *only = getenv("STEM"); /* STEM=Bass: just that stem */
  if (only && *only && strcmp(only, name))
    return 0;
  sg_note_list notes;
  sg_notes_init(&notes);
  sg_compose_report rep;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = drums ? sg_compose_drums(s, tl, &notes, &rep, &d)
                       : sg_compose_stem(s, tl, si, &notes, &rep, &d);
  if (st != SG_OK) {
    fprintf(stderr, "%s: %s\n", name, d.message);
    return 1;
  }
  uint64_t seed = (drums && s->drums.has_seed ? s->drums.seed : s->seed) ^ sg_hash64(name);
  sg_synth *syn = NULL;
  if (!patch[0])
    patch = sg_synth_patch_names(kind)[0];
  st = sg_synth_create(kind, patch, drums ? NULL : &s->stems[si].overrides, s->sample_rate, seed,
                       &syn, &d);
  if (st != SG_OK) {
    fprintf(stderr, "%s: %s\n", name, d.message);
    return 1;
  }
  static float L[SG_MIX_BLOCK], R[SG_MIX_BLOCK], I[2 * SG_MIX_BLOCK];
  SNDFILE *f = NULL;
  if (outdir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.wav", outdir, name);
    SF_INFO info = {0, (int)s->sample_rate, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0, 0};
    f = sf_open(path, SFM_WRITE, &info);
  }
  double peak = 0, sum = 0, cpu = 0;
  uint64_t h = 1469598103934665603ull;
  for (int64_t pos = 0; pos < tl->dry_frames; pos += SG_MIX_BLOCK) {
    size_t n = (size_t)(tl->dry_frames - pos < SG_MIX_BLOCK ? tl->dry_frames - pos : SG_MIX_BLOCK);
    double t0 = cpu_now();
    sg_synth_render(syn, &notes, pos, L, R, n);
    cpu += cpu_now() - t0;
    for (size_t i = 0; i < n; ++i) {
      double a = fabs(L[i]) > fabs(R[i]) ? fabs(L[i]) : fabs(R[i]);
      peak = a > peak ? a : peak;
      sum += (double)L[i] * L[i] + (double)R[i] * R[i];
      uint32_t b[2];
      memcpy(&b[0], &L[i], 4);
      memcpy(&b[1], &R[i], 4);
      h = (h ^ b[0]) * 1099511628211ull;
      h = (h ^ b[1]) * 1099511628211ull;
      I[2 * i] = L[i];
      I[2 * i + 1] = R[i];
    }
    if (f)
      sf_writef_float(f, I, (sf_count_t)n);
  }
  if (f)
    sf_close(f);
  double secs = (double)tl->dry_frames / s->sample_rate;
  printf("%-14s %-12s %-9s notes %6zu  cpu %7.3f s  (%5.0fx rt)  peak %6.2f dB  rms %7.2f dB  "
         "hash %016llx\n",
         name, inst, patch, notes.n, cpu, secs / cpu, 20 * log10(peak + 1e-30),
         10 * log10(sum / (2.0 * (double)tl->dry_frames) + 1e-30), (unsigned long long)h);
  sg_synth_destroy(syn);
  sg_notes_free(&notes);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s SPEC [OUTDIR]\n", argv[0]);
    return 2;
  }
  unsigned mx = sg_dsp_denormals_off();
  (void)mx;
  sg_song *s = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  if (sg_song_load(argv[1], &s, &d) != SG_OK) {
    fprintf(stderr, "%s\n", d.message);
    return 1;
  }
  sg_timeline tl;
  if (sg_timeline_build(s, &tl, &d) != SG_OK) {
    fprintf(stderr, "%s\n", d.message);
    return 1;
  }
  int rc = 0;
  for (int i = 0; i < s->n_stems; ++i)
    rc |= one(s, &tl, i, argc > 2 ? argv[2] : NULL);
  if (s->drums.source == SG_DRUMS_SYNTH)
    rc |= one(s, &tl, -1, argc > 2 ? argv[2] : NULL);
  sg_song_free(s);
  return rc;
}
