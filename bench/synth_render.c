/* Renders a short phrase with every instrument patch to WAV (listen / inspect with sox) and
 * prints peak level, render speed (x real time) and a per-note peak at velocity 1.
 *
 *   cmake --build build --target sg_synth
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude bench/synth_render.c \
 *      build/libsg_synth.a build/libsg_core.a -lfluidsynth -lsndfile -lcrypto -lm -o synth_render
 *   ./synth_render OUTDIR          # then: sox OUTDIR/guitar_nylon.wav -n stats spectrogram */
#include "stemgate/synth.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RATE 48000

static void add(sg_note_list *l, double t, double len, int key, float vel, unsigned flags,
                int group, int idx) {
  sg_note n = {(int64_t)(t * RATE), (int64_t)(len * RATE), key, vel, flags, group, idx};
  sg_notes_push(l, &n);
}

static void phrase(sg_synth_kind k, sg_note_list *l) {
  static const int chord_c[] = {48, 52, 55, 60, 64}, chord_am[] = {45, 52, 57, 60, 64};
  static const int chord_f[] = {41, 48, 53, 57, 60, 65}, chord_g[] = {43, 47, 50, 55, 59, 67};
  switch (k) {
  case SG_SYNTH_MOOG_BASS: {
    static const int bl[] = {36, 36, 48, 36, 43, 46, 36, 39, 41, 41, 53, 41, 43, 43, 55, 31};
    for (int i = 0; i < 16; ++i)
      add(l, i * 0.25, 0.2, bl[i], i % 4 == 0 ? 1.0f : 0.75f, i == 7 ? SG_NOTE_SLIDE : 0, 0, 0);
    break;
  }
  case SG_SYNTH_DRUMS:
    for (int i = 0; i < 32; ++i) {
      double t = i * 0.125;
      if (i % 8 == 0 || i % 8 == 5)
        add(l, t, 0.1, 36, 1.0f, 0, 0, 0);
      if (i % 8 == 4)
        add(l, t, 0.1, i == 28 ? 39 : 38, 0.9f, 0, 0, 0);
      add(l, t, 0.05, i % 8 == 6 ? 46 : 42, i % 2 ? 0.5f : 0.8f, 0, 0, 0);
      if (i % 4 == 2)
        add(l, t, 0.05, 70, 0.5f, 0, 0, 0);
      if (i == 15)
        add(l, t, 0.05, 37, 0.8f, 0, 0, 0);
    }
    break;
  case SG_SYNTH_GUITAR: {
    const int *ch[4] = {chord_c, chord_am, chord_f, chord_g};
    const int nn[4] = {5, 5, 6, 6};
    for (int b = 0; b < 4; ++b)
      for (int s = 0; s < 2; ++s) {
        int up = s == 1;
        for (int j = 0; j < nn[b]; ++j) {
          int idx = up ? nn[b] - 1 - j : j;
          add(l, b * 1.0 + s * 0.5 + j * 0.012, 0.45, ch[b][idx], up ? 0.7f : 0.95f,
              up ? SG_NOTE_STRUM_UP : 0, b * 2 + s + 1, j);
        }
      }
    add(l, 4.0, 1.5, 69, 1.0f, 0, 0, 0);
    break;
  }
  default: {
    const int *ch[4] = {chord_c, chord_am, chord_f, chord_g};
    for (int b = 0; b < 4; ++b)
      for (int j = 1; j < 5; ++j)
        add(l, b * 1.0, 0.9, ch[b][j] + 12, 0.9f, 0, b + 1, 0);
    for (int i = 0; i < 8; ++i)
      add(l, 4.0 + i * 0.125, 0.1, 72 + (i * 5) % 12, 0.8f, 0, 0, 0);
    break;
  }
  }
  sg_notes_sort(l);
}

static int render(sg_synth_kind k, const char *patch, const char *dir) {
  sg_synth *s = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = k == SG_SYNTH_SOUNDFONT
                     ? sg_synth_create_soundfont("/usr/share/sounds/sf2/TimGM6mb.sf2", 0, 0, NULL,
                                                 RATE, 1, &s, &d)
                     : sg_synth_create(k, patch, NULL, RATE, 1, &s, &d);
  if (st != SG_OK) {
    fprintf(stderr, "%s/%s: %s\n", sg_synth_kind_name(k), patch, d.message);
    return 1;
  }
  sg_note_list l;
  sg_notes_init(&l);
  phrase(k, &l);
  size_t n = (size_t)(6.5 * RATE);
  float *L = malloc(n * sizeof *L), *R = malloc(n * sizeof *R), *I = malloc(2 * n * sizeof *I);
  clock_t c0 = clock();
  for (size_t off = 0; off < n; off += 512) {
    size_t m = n - off < 512 ? n - off : 512;
    sg_synth_render(s, &l, (int64_t)off, L + off, R + off, m);
  }
  double secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
  double peak = 0;
  for (size_t i = 0; i < n; ++i) {
    I[2 * i] = L[i];
    I[2 * i + 1] = R[i];
    if (fabs(L[i]) > peak)
      peak = fabs(L[i]);
  }
  char path[512];
  snprintf(path, sizeof path, "%s/%s_%s.wav", dir, sg_synth_kind_name(k), patch);
  SF_INFO info = {0};
  info.samplerate = RATE;
  info.channels = 2;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SNDFILE *f = sf_open(path, SFM_WRITE, &info);
  if (f) {
    sf_writef_float(f, I, (sf_count_t)n);
    sf_close(f);
  }
  /* One note at velocity 1 for the level target. */
  sg_note_list one;
  sg_notes_init(&one);
  int key = k == SG_SYNTH_MOOG_BASS ? 36 : (k == SG_SYNTH_DRUMS ? 36 : 60);
  sg_note nt = {0, RATE, key, 1.0f, 0, 0, 0};
  sg_notes_push(&one, &nt);
  sg_synth_reset(s);
  size_t m1 = 2 * RATE;
  sg_synth_render(s, &one, 0, L, R, m1);
  double p1 = 0;
  for (size_t i = 0; i < m1; ++i)
    if (fabs(L[i]) > p1)
      p1 = fabs(L[i]);
  printf("%-13s %-10s phrase peak %6.1f dBFS  one-note peak %6.1f dBFS  %6.1fx real time\n",
         sg_synth_kind_name(k), patch, 20 * log10(peak + 1e-12), 20 * log10(p1 + 1e-12),
         6.5 / (secs + 1e-9));
  sg_notes_free(&l);
  sg_notes_free(&one);
  free(L);
  free(R);
  free(I);
  sg_synth_destroy(s);
  return 0;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : ".";
  int bad = 0;
  for (int k = 0; k < SG_SYNTH_SOUNDFONT; ++k)
    for (const char *const *p = sg_synth_patch_names((sg_synth_kind)k); *p; ++p)
      bad |= render((sg_synth_kind)k, *p, dir);
  bad |= render(SG_SYNTH_SOUNDFONT, "piano", dir);
  return bad;
}
