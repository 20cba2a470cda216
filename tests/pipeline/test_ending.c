/* Endings and dynamics by section on short renders, measured on the delivered files:
 *  - ending: ring — every file (master and stems) has one length, runs past the last bar, and
 *    the tail has decayed below -60 dBFS (peak) before the last 50 ms of every file;
 *  - ending: fade / cut — the files end at the last bar; a fade is quiet over its last bar;
 *  - a full chorus is at least 2 dB louder (RMS of the master, per section) than a sparse verse;
 *  - the limiter's gain reduction is reported per section, and a gates.limiter_gr_db under what
 *    a -10 LUFS master measures fails that row;
 *  - no denormal sample in any delivered file. */
#include "sg_test.h"

#include "stemgate/io.h"
#include "stemgate/pipeline.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2 bars sparse verse + 2 bars full chorus at 120 BPM (4 s each), a reverb that rings. */
#define SONG_HEAD                                                                                  \
  "title: Ending Test\n"                                                                           \
  "tempo: 120\n"                                                                                   \
  "key: A minor\n"                                                                                 \
  "seed: 11\n"                                                                                     \
  "sections:\n"                                                                                    \
  "  - {name: verse, bars: 2, progression: i-VI-III-VII, energy: sparse}\n"                        \
  "  - {name: chorus, bars: 2, progression: i-VI-III-VII, energy: full}\n"                         \
  "stems:\n"                                                                                       \
  "  - name: Keys\n"                                                                               \
  "    instrument: dx7\n"                                                                          \
  "    effects:\n"                                                                                 \
  "      - reverb: {rt60: 1.5, mix: 0.25}\n"                                                       \
  "  - {name: Bass, instrument: moog_bass}\n"                                                      \
  "drums: {source: synth}\n"

static void quiet(void *u, const char *line) {
  (void)u;
  (void)line;
}

static sg_status render(const char *name, const char *text, sg_render_result *res, sg_diag *d) {
  char file[64], out[64];
  snprintf(file, sizeof file, "%s.yaml", name);
  snprintf(out, sizeof out, "out-%s", name);
  const char *spec = sg_test_path(file);
  assert_int_equal(sg_test_write_text(spec, text), 0);
  sg_render_options o;
  sg_render_options_init(&o);
  o.spec_path = spec;
  o.out_dir = sg_test_path(out);
  o.log = getenv("SG_TEST_VERBOSE") ? NULL : quiet;
  sg_diag_clear(d);
  sg_status st = sg_render(&o, res, d);
  char msg[1200];
  if (st != SG_OK)
    printf("render %s: %s\n", name, sg_diag_format(d, msg, sizeof msg));
  return st;
}

static const sg_gate_result *find_gate(const sg_render_result *r, const char *step,
                                       const char *stem, const char *check) {
  for (size_t i = 0; i < r->gates.n; ++i)
    if (!strcmp(r->gates.v[i].step, step) && !strcmp(r->gates.v[i].stem, stem) &&
        !strcmp(r->gates.v[i].check, check))
      return &r->gates.v[i];
  return NULL;
}

typedef struct wav {
  float *x; /* interleaved */
  int64_t frames;
  unsigned ch, rate;
} wav;

static void wav_read(const char *path, wav *w) {
  sg_audio_reader *r = NULL;
  sg_audio_info info;
  assert_int_equal(sg_audio_reader_open(&r, path, &info, NULL), SG_OK);
  w->frames = info.frames;
  w->ch = info.channels;
  w->rate = info.rate;
  w->x = malloc((size_t)info.frames * info.channels * sizeof *w->x);
  assert_non_null(w->x);
  size_t got = 0;
  assert_int_equal(sg_audio_reader_read(r, w->x, (size_t)info.frames, &got, NULL), SG_OK);
  assert_int_equal((int64_t)got, info.frames);
  sg_audio_reader_close(r);
}

/* Last frame whose peak over channels reaches lin, -1 when none. */
static int64_t last_above(const wav *w, float lin) {
  for (int64_t f = w->frames - 1; f >= 0; --f)
    for (unsigned c = 0; c < w->ch; ++c)
      if (fabsf(w->x[f * w->ch + c]) >= lin)
        return f;
  return -1;
}

static double rms_db(const wav *w, double t0, double t1) {
  int64_t a = (int64_t)(t0 * w->rate), b = (int64_t)(t1 * w->rate);
  double s = 0;
  for (int64_t f = a; f < b && f < w->frames; ++f)
    for (unsigned c = 0; c < w->ch; ++c)
      s += (double)w->x[f * w->ch + c] * w->x[f * w->ch + c];
  return 10.0 * log10(s / ((double)(b - a) * w->ch) + 1e-30);
}

static size_t denormals(const wav *w) {
  size_t n = 0;
  for (int64_t i = 0; i < w->frames * (int64_t)w->ch; ++i)
    n += fpclassify(w->x[i]) == FP_SUBNORMAL;
  return n;
}

/* Every delivered WAV of out/current: the master first. */
static int delivered(const char *out, char paths[][512], int cap) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/current", out);
  DIR *dd = opendir(dir);
  assert_non_null(dd);
  int n = 1;
  paths[0][0] = 0;
  struct dirent *e;
  while ((e = readdir(dd)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len < 5 || strcmp(e->d_name + len - 4, ".wav") != 0)
      continue;
    int master = strstr(e->d_name, "Master") != NULL;
    int k = master ? 0 : n++;
    assert_true(k < cap);
    snprintf(paths[k], 512, "%s/%s", dir, e->d_name);
  }
  closedir(dd);
  assert_true(paths[0][0] != 0);
  return n;
}

static void ring_rings_out_in_every_file(void **st) {
  (void)st;
  sg_render_result res;
  sg_diag d;
  assert_int_equal(render("ring", SONG_HEAD, &res, &d), SG_OK);
  const double song_s = 8.0;
  char paths[8][512];
  int n = delivered(res.out_dir, paths, 8);
  assert_int_equal(n, 4); /* master, Keys, Bass, Drums */
  int64_t len = -1;
  for (int i = 0; i < n; ++i) {
    wav w;
    wav_read(paths[i], &w);
    if (len < 0)
      len = w.frames;
    assert_int_equal(w.frames, len); /* one length, to the frame */
    /* The tail is kept: the files run at least the final hit's hold (one bar, 2 s) past the
     * last bar, and the final hit sounds there (the master is not silent after the bar line). */
    assert_true(w.frames >= (int64_t)((song_s + 2.0) * w.rate));
    /* Rung out: the last sample at or above -60 dBFS comes at least 50 ms before the end. */
    int64_t last = last_above(&w, 1e-3f);
    printf("%s: %.3f s long, last sample >= -60 dBFS at %.3f s\n", strrchr(paths[i], '/') + 1,
           (double)w.frames / w.rate, (double)last / w.rate);
    assert_true(last < w.frames - (int64_t)(0.05 * w.rate));
    if (i == 0) {
      assert_true(last > (int64_t)((song_s + 0.1) * w.rate)); /* the final hit rang */
      /* Dynamics by section on the master: the full chorus over the sparse verse (RMS over
       * the section, from its second beat so the verse's pickup and the hit do not count). */
      double verse = rms_db(&w, 0.5, 4.0), chorus = rms_db(&w, 4.5, 8.0);
      printf("master RMS: verse (sparse) %.2f dBFS, chorus (full) %.2f dBFS: %+.2f dB\n", verse,
             chorus, chorus - verse);
      assert_true(chorus - verse >= 2.0);
    }
    assert_int_equal(denormals(&w), 0);
    free(w.x);
  }
  /* Rows: the ring-out judged on each file, loudness and limiting per section, the contrast. */
  const sg_gate_result *g = find_gate(&res, "master", "Master", "ending_decay");
  assert_non_null(g);
  assert_true(g->pass);
  assert_non_null(find_gate(&res, "fx", "Keys", "ending_decay"));
  assert_non_null(find_gate(&res, "master", "verse", "section_loudness"));
  assert_non_null(find_gate(&res, "master", "chorus", "limiter_gr"));
  g = find_gate(&res, "master", "full-sparse", "section_contrast");
  assert_non_null(g);
  printf("section contrast full-sparse %.2f dB\n", g->measured);
  assert_true(g->measured >= 2.0);
  sg_render_result_free(&res);
}

static void fade_and_cut_end_at_the_last_bar(void **st) {
  (void)st;
  const char *modes[2] = {"fade", "cut"};
  for (int m = 0; m < 2; ++m) {
    char text[2048];
    snprintf(text, sizeof text, "%sending: %s\nending_fade_bars: 1\n", SONG_HEAD, modes[m]);
    sg_render_result res;
    sg_diag d;
    assert_int_equal(render(modes[m], text, &res, &d), SG_OK);
    char paths[8][512];
    int n = delivered(res.out_dir, paths, 8);
    for (int i = 0; i < n; ++i) {
      wav w;
      wav_read(paths[i], &w);
      assert_int_equal(w.frames, 8 * (int64_t)w.rate); /* 4 bars at 120 BPM, exactly */
      if (m == 0 && i == 0) {
        /* The fade: the last bar's second half is well under its first (raised cosine: -6 dB
         * at the middle, silence at the end). */
        double a = rms_db(&w, 6.0, 6.5), b = rms_db(&w, 7.5, 8.0);
        printf("fade: %.2f -> %.2f dBFS\n", a, b);
        assert_true(b < a - 10.0);
      }
      free(w.x);
    }
    assert_null(find_gate(&res, "master", "Master", "ending_decay")); /* ring only */
    sg_render_result_free(&res);
  }
}

static void limiter_reduction_reported_and_gated(void **st) {
  (void)st;
  char text[2048];
  snprintf(text, sizeof text, "%smaster: {loudness_lufs: -10}\n", SONG_HEAD);
  sg_render_result res;
  sg_diag d;
  assert_int_equal(render("loud", text, &res, &d), SG_OK);
  const sg_gate_result *v = find_gate(&res, "master", "verse", "limiter_gr");
  const sg_gate_result *c = find_gate(&res, "master", "chorus", "limiter_gr");
  const sg_gate_result *mean = find_gate(&res, "master", "Master", "limiter_gr_mean");
  assert_non_null(v);
  assert_non_null(c);
  assert_non_null(mean);
  printf("-10 LUFS: limiter gain reduction verse %.2f dB, chorus %.2f dB, mean %.2f dB\n",
         v->measured, c->measured, mean->measured);
  assert_true(c->measured > 0.1); /* a -10 LUFS master is limited */
  double lim = c->measured * 0.5;
  sg_render_result_free(&res);
  /* A limit under what the chorus measures fails that row and stops the render. */
  snprintf(text, sizeof text, "%smaster: {loudness_lufs: -10}\ngates: {limiter_gr_db: %.3f}\n",
           SONG_HEAD, lim);
  assert_int_equal(render("loud-gated", text, &res, &d), SG_E_GATE);
  c = find_gate(&res, "master", "chorus", "limiter_gr");
  assert_non_null(c);
  assert_false(c->pass);
  assert_non_null(strstr(d.message, "limiter_gr"));
  sg_render_result_free(&res);
}

static void drums_sit_out_a_section(void **st) {
  (void)st;
  char text[2048];
  snprintf(text, sizeof text, "%s", SONG_HEAD);
  /* drums: {source: synth, tacet: [verse]} */
  char *p = strstr(text, "drums: {source: synth}");
  assert_non_null(p);
  snprintf(p, sizeof text - (size_t)(p - text), "drums: {source: synth, tacet: [verse]}\n");
  sg_render_result res;
  sg_diag d;
  assert_int_equal(render("tacet", text, &res, &d), SG_OK);
  char paths[8][512];
  int n = delivered(res.out_dir, paths, 8);
  int seen = 0;
  for (int i = 1; i < n; ++i) {
    if (!strstr(paths[i], "Drums"))
      continue;
    wav w;
    wav_read(paths[i], &w);
    double verse = rms_db(&w, 0.0, 3.9), chorus = rms_db(&w, 4.0, 8.0);
    printf("drums tacet in the verse: verse %.1f dBFS, chorus %.1f dBFS\n", verse, chorus);
    assert_true(verse < -90.0);
    assert_true(chorus > -40.0);
    free(w.x);
    seen = 1;
  }
  assert_true(seen);
  sg_render_result_free(&res);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ring_rings_out_in_every_file),
      cmocka_unit_test(fade_and_cut_end_at_the_last_bar),
      cmocka_unit_test(limiter_reduction_reported_and_gated),
      cmocka_unit_test(drums_sit_out_a_section),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
