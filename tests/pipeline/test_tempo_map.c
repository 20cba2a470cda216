/* A song whose spec changes tempo, through the whole pipeline: 140 BPM, a 4-bar linear
 * ritardando to 105, 105 after. It renders with every gate passing (the tempo gate judges each
 * steady stretch against its own tempo, no false FAIL), verify passes it against the spec, every
 * drum hit of the delivered stem sits where the delivered MIDI file puts it (its ticks turned
 * into seconds through the file's own tempo events) within 2 ms and on the frame the timeline
 * computes for its beat, and the tempo-synced delay's echo spacing, measured in the audio,
 * is a dotted eighth of the local tempo before and after the ramp. */
#include "sg_test.h"

#include "stemgate/compose.h"
#include "stemgate/io.h"
#include "stemgate/pipeline.h"
#include "stemgate/spec.h"
#include "stemgate/timing.h"
#include "stemgate/verify.h"
#include "stemgate/zip.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A rim shot on every quarter (a short, sharp attack to time), a dotted-eighth delay on the
 * kit (its echo falls between the hits), a bass so the master has harmony. */
static const char *SONG = "title: Rit\n"
                          "tempo: 140\n"
                          "meter: 4/4\n"
                          "sample_rate: 48000\n"
                          "key: C major\n"
                          "seed: 5\n"
                          "humanize: {timing_ms: 0, velocity: 0}\n"
                          "ending: cut\n"
                          "sections:\n"
                          "  - {name: a, bars: 4}\n"
                          "  - name: r\n"
                          "    bars: 4\n"
                          "    tempo_change: {to: 105, over_bars: 4, curve: linear}\n"
                          "  - {name: b, bars: 4}\n"
                          "stems:\n"
                          "  - {name: Bass, instrument: moog_bass, role: bass, gain_db: -6}\n"
                          "drums:\n"
                          "  source: synth\n"
                          "  pattern: \"rim: x...x...x...x...\"\n"
                          "  effects:\n"
                          "    - delay: {time: \"3/16\", feedback: 0, mix: 0.35}\n";

static void quiet(void *u, const char *line) {
  (void)u;
  (void)line;
}

static uint8_t *zip_entry(const char *zip, const char *name, size_t *len) {
  sg_zip_reader *z = NULL;
  assert_int_equal(sg_zip_reader_open(&z, zip, NULL, NULL), SG_OK);
  const sg_zip_entry *e = sg_zip_reader_find(z, name);
  if (!e)
    fail_msg("the package has no %s", name);
  char *buf = NULL;
  assert_int_equal(sg_zip_reader_read_all(z, e, 1u << 24, &buf, len, NULL), SG_OK);
  sg_zip_reader_close(z);
  return (uint8_t *)buf;
}

/* First frame in [c - w, c + w] where |x| reaches 30 % of the peak of [c - w, c + 3w]: the
 * attack of a hit expected near c. */
static int64_t attack_near(const float *x, int64_t n, int64_t c, int64_t w) {
  int64_t a = c - w < 0 ? 0 : c - w, b = c + 3 * w > n ? n : c + 3 * w;
  float peak = 0;
  for (int64_t i = a; i < b; ++i)
    peak = fabsf(x[i]) > peak ? fabsf(x[i]) : peak;
  for (int64_t i = a; i < b && i <= c + w; ++i)
    if (fabsf(x[i]) >= 0.3f * peak)
      return i;
  return -1;
}

/* Lag in [lo, hi] frames after the hit at h where the signal best matches the hit's first
 * 10 ms (normalised cross-correlation): the echo of a feedback-free delay. */
static int64_t echo_lag(const float *x, int64_t n, int64_t h, int64_t lo, int64_t hi, int64_t len) {
  double best = -2, e0 = 0;
  int64_t arg = -1;
  for (int64_t k = 0; k < len; ++k)
    e0 += (double)x[h + k] * x[h + k];
  for (int64_t l = lo; l <= hi && h + l + len < n; ++l) {
    double s = 0, e1 = 0;
    for (int64_t k = 0; k < len; ++k) {
      s += (double)x[h + k] * x[h + l + k];
      e1 += (double)x[h + l + k] * x[h + l + k];
    }
    double r = e1 > 0 ? s / sqrt(e0 * e1) : 0;
    if (r > best) {
      best = r;
      arg = l;
    }
  }
  return arg;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static void ritardando_renders_on_its_frames(void **st) {
  (void)st;
  const char *spec = sg_test_path("rit.yaml");
  assert_int_equal(sg_test_write_text(spec, SONG), 0);
  sg_render_options o;
  sg_render_options_init(&o);
  o.spec_path = spec;
  o.out_dir = sg_test_path("rit-out");
  o.log = getenv("SG_TEST_VERBOSE") ? NULL : quiet;
  sg_render_result res;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status rs = sg_render(&o, &res, &d);
  if (rs != SG_OK) {
    char msg[700];
    fail_msg("render: %s", sg_diag_format(&d, msg, sizeof msg));
  }
  /* (d) The tempo rows: one per steady stretch, each passing against its own tempo. */
  int tempo_rows = 0;
  for (size_t i = 0; i < res.gates.n; ++i) {
    const sg_gate_result *g = &res.gates.v[i];
    assert_true(g->pass || g->severity != SG_SEV_FAIL);
    if (!strcmp(g->check, "tempo") && !strcmp(g->step, "master")) {
      ++tempo_rows;
      printf("%s %s: %.3f (target %.3f) %s\n", g->stem, g->check, g->measured, g->target,
             g->detail);
      assert_true(g->pass);
    }
  }
  assert_int_equal(tempo_rows, 2); /* bars 1-4 at 140, bars 9-12 at 105; none for the ramp */

  /* The grid, from the same spec. */
  sg_song *song = NULL;
  assert_int_equal(sg_song_load(spec, &song, &d), SG_OK);
  sg_timeline tl;
  assert_int_equal(sg_timeline_build(song, &tl, &d), SG_OK);
  assert_int_equal(tl.n_tempo, 3);

  /* (b) The delivered drum stem against the delivered MIDI file. */
  size_t len = 0;
  uint8_t *mid = zip_entry(res.zip_path, "midi/Drums.mid", &len);
  sg_note_list notes;
  sg_notes_init(&notes);
  assert_int_equal(sg_midi_decode(mid, len, &tl, SG_MIDI_MAP_FILE_TEMPO, &notes, NULL, &d), SG_OK);
  free(mid);
  char wav[1200];
  snprintf(wav, sizeof wav, "%s/current/rit_Drums.wav", o.out_dir);
  float *x = NULL;
  sg_audio_info info;
  assert_int_equal(sg_audio_read_all(wav, 48000 * 60, &x, &info, &d), SG_OK);
  assert_int_equal(info.rate, 48000);
  int64_t n = info.frames;
  float *m = malloc((size_t)n * sizeof *m);
  for (int64_t i = 0; i < n; ++i)
    m[i] = 0.5f * (x[i * info.channels] + x[i * info.channels + info.channels - 1]);
  free(x);
  assert_int_equal(notes.n, 48); /* 12 bars of quarters */
  const int64_t w = 48 * 20;     /* search +-20 ms around each hit */
  double worst = 0, worst_grid = 0;
  int64_t lag_a[24], lag_b[24];
  int na = 0, nb = 0;
  for (size_t k = 0; k < notes.n; ++k) {
    int64_t f = notes.v[k].start; /* the MIDI file's time, in frames */
    int64_t on = attack_near(m, n, f, w);
    assert_true(on >= 0);
    double e = fabs((double)(on - f)) / 48.0;
    worst = e > worst ? e : worst;
    /* And the frame the timeline computes for quarter k (the ramp integrated exactly). */
    double eg = fabs((double)(on - sg_timeline_frame_at(&tl, (int64_t)k, 1))) / 48.0;
    worst_grid = eg > worst_grid ? eg : worst_grid;
    /* Echo of a hit before the ramp (quarters 0..14) and after it (quarters 33..46). */
    if (k + 1 < notes.n && (k <= 14 || (k >= 33 && k <= 46))) {
      int64_t q =
          sg_timeline_frame_at(&tl, (int64_t)k + 1, 1) - sg_timeline_frame_at(&tl, (int64_t)k, 1);
      int64_t l = echo_lag(m, n, on, 48 * 60, q - 48 * 30, 48 * 10);
      if (k <= 14)
        lag_a[na++] = l;
      else
        lag_b[nb++] = l;
    }
  }
  printf("%zu hits: worst audio onset vs MIDI time %.3f ms, vs the timeline's frame %.3f ms\n",
         notes.n, worst, worst_grid);
  assert_true(worst <= 2.0);
  assert_true(worst_grid <= 2.0);
  qsort(lag_a, (size_t)na, sizeof *lag_a, cmp_i64);
  qsort(lag_b, (size_t)nb, sizeof *lag_b, cmp_i64);
  double la = lag_a[na / 2] / 48.0, lb = lag_b[nb / 2] / 48.0;
  /* 3/16 = 0.75 quarter: 321.43 ms at 140 BPM, 428.57 ms at 105. */
  printf("echo spacing: %.2f ms before the ramp (140 BPM, want 321.43), %.2f ms after (105 BPM, "
         "want 428.57)\n",
         la, lb);
  assert_float_equal(la, 0.75 * 60000.0 / 140, 2.0);
  assert_float_equal(lb, 0.75 * 60000.0 / 105, 2.0);
  free(m);
  sg_notes_free(&notes);

  /* (c') report.html names the map, not only the first tempo. */
  char html[1200], page[65536];
  snprintf(html, sizeof html, "%s/current/report.html", o.out_dir);
  FILE *hf = fopen(html, "rb");
  assert_non_null(hf);
  size_t hn = fread(page, 1, sizeof page - 1, hf);
  page[hn] = '\0';
  fclose(hf);
  char *tm = strstr(page, "<p>Tempo map: 140 BPM");
  if (!tm || !strstr(tm, "ritardando 140 -&gt; 105 BPM"))
    fail_msg("report.html does not give the tempo map");

  /* (d) verify against the spec passes. */
  sg_verify_options vo;
  sg_verify_options_init(&vo);
  vo.package = res.zip_path;
  sg_verify_result vr;
  sg_diag_clear(&d);
  sg_status vs = sg_verify_package(song, &vo, &vr, &d);
  if (vs != SG_OK) {
    char msg[700];
    fail_msg("verify: %s", sg_diag_format(&d, msg, sizeof msg));
  }
  sg_verify_result_free(&vr);
  sg_song_free(song);
  sg_render_result_free(&res);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ritardando_renders_on_its_frames),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
