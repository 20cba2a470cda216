/* Reference tracks: prepare (format, conform, tempo, downbeat, drift, tempo map), grid alignment,
 * the Drums stem fitted to the song (trim, fade, loop), and sync gates of rendered stems and
 * masters against the reference.
 *
 * Fixtures are synthesized here: a deterministic drum loop (sine-sweep kick on 1 and 3, the
 * downbeat accented; noise-burst snare on 2 and 4; differentiated-noise hats on the eighths),
 * written with sg_audio_write_all or libsndfile in the format each case needs. Every "rendered"
 * file is made in the test from the aligned sg_timeline (a synth layer with one note per eighth
 * on the grid frames), mixed with the Drums stem for a master.
 *
 * Tolerances: tempo +-0.05 BPM, first downbeat +-1 ms, sync offset and drift of renders placed
 * on the aligned grid +-2 ms (stemgate's own budget; the spec limit is 10 ms). */
#include "sg_test.h"

#include "stemgate/analysis.h"
#include "stemgate/reference.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------ fixtures --- */

typedef struct drum_spec {
  unsigned rate;
  double bpm;    /* actual tempo of the material                     */
  double lead_s; /* silence before the first downbeat                */
  double dur_s;  /* file length                                      */
  int pickup;    /* beats of snare pickup before the first downbeat (inside lead_s) */
} drum_spec;

static void add_kick(float *x, size_t n, size_t at, double amp, unsigned rate) {
  double ph = 0;
  for (size_t i = 0; at + i < n && i < (size_t)(0.35 * rate); ++i) {
    double t = (double)i / rate;
    double f = 50 + 110 * exp(-t / 0.03);
    ph += 2 * SG_PI * f / rate;
    x[at + i] += (float)(amp * exp(-t / 0.12) * sin(ph));
  }
}

static void add_snare(float *x, size_t n, size_t at, double amp, unsigned rate, sg_rng *r) {
  double prev = 0;
  for (size_t i = 0; at + i < n && i < (size_t)(0.25 * rate); ++i) {
    double t = (double)i / rate, w = sg_rng_uniform(r) * 2 - 1;
    /* Wires: differentiated (bright) noise; body: a 190 Hz tone. */
    double v =
        0.45 * (w - prev) * exp(-t / 0.06) + 0.35 * sin(2 * SG_PI * 190 * t) * exp(-t / 0.08);
    prev = w;
    x[at + i] += (float)(amp * v);
  }
}

static void add_hat(float *x, size_t n, size_t at, double amp, unsigned rate, sg_rng *r) {
  double prev = 0;
  for (size_t i = 0; at + i < n && i < (size_t)(0.08 * rate); ++i) {
    double t = (double)i / rate, w = sg_rng_uniform(r) * 2 - 1;
    x[at + i] += (float)(amp * (w - prev) * exp(-t / 0.018)); /* first difference: bright */
    prev = w;
  }
}

/* Mono drum loop; caller frees. Beat k sits at lead + k * 60 / bpm exactly (rounded once). */
static float *drums(const drum_spec *s, size_t *n_out) {
  size_t n = (size_t)llround(s->dur_s * s->rate);
  float *x = calloc(n, sizeof *x);
  sg_rng r;
  sg_rng_seed(&r, 140, 1);
  double P = 60.0 / s->bpm;
  for (long e = -2L * s->pickup;; ++e) { /* eighths */
    double t = s->lead_s + e * P / 2;
    size_t at = (size_t)llround(t * s->rate);
    if (at >= n)
      break;
    if (e < 0) { /* pickup: a snare on each beat, hats on the eighths */
      add_hat(x, n, at, 0.12, s->rate, &r);
      if (e % 2 == 0)
        add_snare(x, n, at, 0.5, s->rate, &r);
      continue;
    }
    add_hat(x, n, at, e % 2 ? 0.12 : 0.18, s->rate, &r);
    if (e % 2)
      continue;
    long beat = (e / 2) % 4;
    if (beat == 0)
      add_kick(x, n, at, 0.8, s->rate); /* the downbeat carries the accent */
    else if (beat == 2)
      add_kick(x, n, at, 0.45, s->rate);
    else
      add_snare(x, n, at, 0.5, s->rate, &r);
  }
  for (size_t i = 0; i < n; ++i) /* peaks stay under full scale (~-2 dBFS) in every format */
    x[i] *= 0.65f;
  *n_out = n;
  return x;
}

static float *dup_channels(const float *x, size_t n, unsigned ch) {
  float *y = malloc(n * ch * sizeof *y);
  for (size_t i = 0; i < n; ++i)
    for (unsigned c = 0; c < ch; ++c)
      y[i * ch + c] = x[i];
  return y;
}

static void write_wav(const char *path, const float *mono, size_t n, unsigned rate, unsigned ch,
                      sg_sample_format fmt) {
  float *y = dup_channels(mono, n, ch);
  sg_audio_writer_config c;
  sg_audio_writer_config_init(&c);
  c.rate = rate;
  c.channels = ch;
  c.format = fmt;
  c.dither_seed = 3;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_audio_write_all(path, y, (int64_t)n, &c, &d), SG_OK);
  free(y);
}

/* Any libsndfile container/subtype, mono, from float (libsndfile converts). Returns 0 when this
 * libsndfile build cannot write the format. */
static int write_sndfile(const char *path, const float *mono, size_t n, unsigned rate, int format) {
  SF_INFO si;
  memset(&si, 0, sizeof si);
  si.samplerate = (int)rate;
  si.channels = 1;
  si.format = format;
  if (!sf_format_check(&si))
    return 0;
  SNDFILE *f = sf_open(path, SFM_WRITE, &si);
  if (!f)
    return 0;
  sf_count_t done = 0;
  while (done < (sf_count_t)n) {
    sf_count_t chunk = (sf_count_t)n - done > 4096 ? 4096 : (sf_count_t)n - done;
    sf_count_t k = sf_writef_float(f, mono + done, chunk);
    assert_true(k > 0);
    done += k;
  }
  sf_close(f);
  return 1;
}

/* FLAC through libsndfile directly: the reader must take any format libsndfile decodes. */
static void write_flac(const char *path, const float *mono, size_t n, unsigned rate) {
  SF_INFO si;
  memset(&si, 0, sizeof si);
  si.samplerate = (int)rate;
  si.channels = 1;
  si.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
  SNDFILE *f = sf_open(path, SFM_WRITE, &si);
  assert_non_null(f);
  short *q = malloc(n * sizeof *q);
  for (size_t i = 0; i < n; ++i) {
    double v = mono[i] * 32767.0;
    q[i] = (short)lrint(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
  }
  assert_int_equal(sf_writef_short(f, q, (sf_count_t)n), (sf_count_t)n);
  free(q);
  sf_close(f);
}

static sg_song *song_new(int bars_a, int bars_b, sg_fit_policy fit) {
  sg_song *s = calloc(1, sizeof *s);
  snprintf(s->path, sizeof s->path, "test.yaml");
  s->tempo.num = 140;
  s->tempo.den = 1;
  s->meter_num = 4;
  s->meter_den = 4;
  s->sample_rate = 48000;
  s->channels = 2;
  s->format = SG_FMT_FLOAT32;
  s->seed = 7;
  sg_section_spec *a = &s->sections[s->n_sections++];
  snprintf(a->name.s, sizeof a->name.s, "verse");
  a->bars = bars_a;
  a->start_sec = a->end_sec = -1;
  sg_section_spec *b = &s->sections[s->n_sections++];
  snprintf(b->name.s, sizeof b->name.s, "chorus");
  b->bars = bars_b;
  b->start_sec = b->end_sec = -1;
  s->drums.source = SG_DRUMS_REFERENCE;
  s->drums.fit = fit;
  s->drums.align = 1;
  s->drums.tempo_tolerance_bpm = 1.0;
  s->limits.sync_ms = 10;
  return s;
}

/* A synth layer on the grid: one short pluck per eighth note at the timeline's frames. shift
 * moves every note by that many frames (a misaligned render). */
static float *grid_layer(const sg_timeline *tl, int64_t shift) {
  size_t n = (size_t)tl->total_frames;
  float *x = calloc(n, sizeof *x);
  unsigned rate = tl->rate;
  int64_t quarters = tl->total_bars * 4;
  for (int64_t e = 0; e < quarters * 2; ++e) {
    int64_t at = sg_timeline_frame_at(tl, e, 2) + shift;
    double hz = e % 4 == 0 ? 220 : e % 2 == 0 ? 330 : 440;
    for (int64_t i = 0; i < (int64_t)(0.12 * rate); ++i) {
      if (at + i < 0 || at + i >= (int64_t)n)
        continue;
      double t = (double)i / rate;
      x[at + i] += (float)(0.3 * exp(-t / 0.04) * sin(2 * SG_PI * hz * t));
    }
  }
  return x;
}

/* A sustained pad: three sines under a 3 s attack, no attacks to correlate. */
static float *pad_layer(size_t n, unsigned rate) {
  float *x = calloc(n, sizeof *x);
  for (size_t i = 0; i < n; ++i) {
    double t = (double)i / rate, env = t < 3 ? t / 3 : 1;
    x[i] = (float)(0.1 * env *
                   (sin(2 * SG_PI * 220 * t) + sin(2 * SG_PI * 277.18 * t) +
                    sin(2 * SG_PI * 329.63 * t)));
  }
  return x;
}

/* Reads a file into a mono buffer. */
static float *read_mono(const char *path, sg_audio_info *info) {
  float *x = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_audio_read_all(path, 48000 * 120, &x, info, &d), SG_OK);
  float *m = malloc((size_t)info->frames * sizeof *m);
  for (int64_t i = 0; i < info->frames; ++i) {
    double s = 0;
    for (unsigned c = 0; c < info->channels; ++c)
      s += x[i * info->channels + c];
    m[i] = (float)(s / info->channels);
  }
  free(x);
  return m;
}

static const sg_gate_result *find_row(const sg_gate_report *g, const char *stem,
                                      const char *check) {
  for (size_t i = g->n; i-- > 0;)
    if (strcmp(g->v[i].check, check) == 0 && (!stem || strcmp(g->v[i].stem, stem) == 0))
      return &g->v[i];
  return NULL;
}

static void print_report(const sg_gate_report *g) {
  char line[512];
  for (size_t i = 0; i < g->n; ++i)
    printf("  %s\n", sg_gate_result_format(&g->v[i], line, sizeof line));
}

/* ---------------------------------------------------------------- the whole reference path --- */

typedef struct case_result {
  sg_reference ref;
  sg_timeline tl;
  sg_gate_report gates;
  sg_reference_sync stem_sync, master_sync;
} case_result;

/* Prepare, align, write the Drums stem, render a grid layer and a master, and check both against
 * the reference. Asserts the common expectations; the caller checks case-specific values. */
static void run_case(sg_song *song, const char *ref_path, const char *tag, case_result *cr) {
  char work[1024], drums_p[1024], stem_p[1024], master_p[1024], name[64];
  snprintf(name, sizeof name, "%s_work/reference.wav", tag);
  snprintf(work, sizeof work, "%s", sg_test_path(name));
  snprintf(name, sizeof name, "%s_drums.wav", tag);
  snprintf(drums_p, sizeof drums_p, "%s", sg_test_path(name));
  snprintf(name, sizeof name, "%s_keys.wav", tag);
  snprintf(stem_p, sizeof stem_p, "%s", sg_test_path(name));
  snprintf(name, sizeof name, "%s_master.wav", tag);
  snprintf(master_p, sizeof master_p, "%s", sg_test_path(name));
  memset(cr, 0, sizeof *cr);
  sg_gate_report_init(&cr->gates);
  sg_diag d;
  sg_diag_clear(&d);
  char msg[1024];

  sg_status st = sg_reference_prepare(song, ref_path, NULL, work, &cr->ref, &cr->gates, &d);
  if (st != SG_OK)
    printf("%s: %s\n", tag, sg_diag_format(&d, msg, sizeof msg));
  assert_int_equal(st, SG_OK);
  if (song->tempo_auto)
    song->tempo = cr->ref.tempo_grid;
  assert_int_equal(sg_timeline_build(song, &cr->tl, &d), SG_OK);
  st = sg_reference_align(&cr->ref, song, &cr->tl, NULL, &cr->gates, &d);
  if (st != SG_OK)
    printf("%s: %s\n", tag, sg_diag_format(&d, msg, sizeof msg));
  assert_int_equal(st, SG_OK);
  assert_int_equal(
      sg_reference_write_drums(&cr->ref, song, &cr->tl, NULL, drums_p, "Drums", &cr->gates, &d),
      SG_OK);
  /* Exact length, read back. */
  sg_audio_info di;
  float *dm = read_mono(drums_p, &di);
  /* The dry drums run to the timeline's dry length (the song plus the ring-out allowance). */
  assert_int_equal(di.frames, cr->tl.dry_frames);
  assert_int_equal(cr->ref.drums_frames, cr->tl.dry_frames);

  /* A stem on the aligned grid, and a master: the Drums stem plus that layer. */
  size_t n = (size_t)cr->tl.total_frames;
  float *keys = grid_layer(&cr->tl, 0);
  write_wav(stem_p, keys, n, 48000, 2, SG_FMT_FLOAT32);
  for (size_t i = 0; i < n; ++i)
    keys[i] = 0.7f * dm[i] + 0.5f * keys[i];
  write_wav(master_p, keys, n, 48000, 2, SG_FMT_FLOAT32);
  free(keys);
  free(dm);

  st = sg_reference_sync_check(&cr->ref, song, stem_p, "Keys", 0, NULL, &cr->stem_sync, &cr->gates,
                               NULL, &d);
  assert_int_equal(st, SG_OK);
  st = sg_reference_sync_check(&cr->ref, song, master_p, "master", 1, NULL, &cr->master_sync,
                               &cr->gates, NULL, &d);
  assert_int_equal(st, SG_OK);
  char notes[2048];
  printf("%s\n%s", tag, sg_reference_describe(&cr->ref, notes, sizeof notes));
  printf("  sync Keys: offset %.3f ms, drift %.3f ms (sim %.2f, %zu onsets)\n",
         cr->stem_sync.offset_ms, cr->stem_sync.drift_ms, cr->stem_sync.similarity,
         cr->stem_sync.onsets);
  printf("  sync master: offset %.3f ms, drift %.3f ms (sim %.2f)\n", cr->master_sync.offset_ms,
         cr->master_sync.drift_ms, cr->master_sync.similarity);
  /* stemgate's own budget: 2 ms, well inside the spec's 10 ms. */
  assert_true(cr->stem_sync.measurable);
  assert_true(cr->master_sync.measurable);
  assert_true(fabs(cr->stem_sync.offset_ms) <= 2.0);
  assert_true(fabs(cr->stem_sync.drift_ms) <= 2.0);
  assert_true(fabs(cr->master_sync.offset_ms) <= 2.0);
  assert_true(fabs(cr->master_sync.drift_ms) <= 2.0);
  assert_int_equal(cr->gates.failed, 0);
}

static void case_free(case_result *cr) {
  sg_reference_free(&cr->ref);
  sg_gate_report_free(&cr->gates);
}

/* 140 BPM, 44.1 kHz 16-bit stereo WAV, 37 ms of silence before the first downbeat; longer than
 * the song, so trimmed with a fade. */
static void wav_44k_pcm16_lead_37ms(void **state) {
  (void)state;
  drum_spec ds = {44100, 140, 0.037, 30.0, 0};
  size_t n;
  float *x = drums(&ds, &n);
  char p[1024]; /* sg_test_path rotates static slots: keep a copy */
  snprintf(p, sizeof p, "%s", sg_test_path("ref_44k.wav"));
  write_wav(p, x, n, 44100, 2, SG_FMT_PCM16);
  free(x);
  sg_song *song = song_new(8, 8, SG_FIT_FADE); /* 16 bars = 27.43 s */
  case_result cr;
  run_case(song, p, "44k_pcm16", &cr);
  assert_string_equal(cr.ref.conversion,
                      "44100 Hz pcm16 stereo -> 48000 Hz float32 stereo, libsamplerate SINC_BEST");
  assert_true(strstr(cr.ref.input_desc, "wav 44100 Hz pcm16 stereo, 30.000 s") != NULL);
  assert_true(fabs(cr.ref.tempo_bpm - 140) <= 0.05);
  assert_int_equal(cr.ref.tempo_grid.num, 140);
  assert_true(fabs(cr.ref.first_downbeat_s - 0.037) <= 0.001);
  assert_true(llabs(cr.ref.origin_frame - 1776) <= 48); /* 37 ms at 48 kHz, +-1 ms */
  assert_int_equal(cr.tl.origin_frame, cr.ref.origin_frame);
  /* The timeline's song length includes the origin offset. */
  assert_int_equal(cr.tl.total_frames, cr.ref.origin_frame + 1316571); /* 16 bars at 140 */
  assert_int_equal(cr.ref.fit, SG_REF_FIT_TRIM);
  assert_true(fabs(cr.ref.drift_ms) <= 1.0);
  assert_true(fabs(cr.ref.tempo_ratio - 1) <= 1e-4);
  const sg_gate_result *g = find_row(&cr.gates, "Drums", "length_frames");
  assert_non_null(g);
  assert_true(g->pass && g->required && g->cmp == SG_CMP_EQ);
  /* Trimmed at the song end after a 20 ms raised-cosine fade: the stem equals the conformed
   * reference before the fade, is scaled by 0.5 (+-1e-3) at its middle, and ends on 0. */
  sg_audio_info di, wi;
  float *dm = read_mono(sg_test_path("44k_pcm16_drums.wav"), &di);
  float *wm = read_mono(cr.ref.work_path, &wi);
  int64_t T = di.frames, F = 960;
  assert_true(cr.ref.fit_fade_ms == 20);
  for (int64_t i = 0; i < T - F; i += 13)
    assert_true(dm[i] == wm[i]);
  int64_t mid = T - F + F / 2 - 1; /* u = (i - (T - F) + 1) / F = 0.5 */
  if (fabs(wm[mid]) > 1e-3)
    assert_true(fabs(dm[mid] / wm[mid] - 0.5) <= 1e-3);
  assert_true(dm[T - 1] == 0.0f);
  free(dm);
  free(wm);
  print_report(&cr.gates);
  case_free(&cr);
  free(song);
}

/* 48 kHz float, no leading silence: no conversion of the rate, the grid starts at frame ~0. */
static void wav_48k_float_no_lead(void **state) {
  (void)state;
  drum_spec ds = {48000, 140, 0.0, 29.0, 0};
  size_t n;
  float *x = drums(&ds, &n);
  char p[1024]; /* sg_test_path rotates static slots: keep a copy */
  snprintf(p, sizeof p, "%s", sg_test_path("ref_48k.wav"));
  write_wav(p, x, n, 48000, 2, SG_FMT_FLOAT32);
  free(x);
  sg_song *song = song_new(8, 8, SG_FIT_FADE);
  case_result cr;
  run_case(song, p, "48k_float", &cr);
  assert_string_equal(cr.ref.conversion,
                      "48000 Hz float32 stereo -> 48000 Hz float32 stereo, same rate and "
                      "channels, copied as float32");
  assert_true(fabs(cr.ref.tempo_bpm - 140) <= 0.05);
  assert_true(cr.ref.origin_frame <= 48);
  case_free(&cr);
  free(song);
}

/* A mono FLAC at 44.1 kHz: conformed to 48 kHz stereo. */
static void flac_mono(void **state) {
  (void)state;
  drum_spec ds = {44100, 140, 0.120, 30.0, 0};
  size_t n;
  float *x = drums(&ds, &n);
  char p[1024]; /* sg_test_path rotates static slots: keep a copy */
  snprintf(p, sizeof p, "%s", sg_test_path("ref_mono.flac"));
  write_flac(p, x, n, 44100);
  free(x);
  sg_song *song = song_new(8, 8, SG_FIT_FADE);
  case_result cr;
  run_case(song, p, "flac_mono", &cr);
  assert_string_equal(cr.ref.conversion,
                      "44100 Hz pcm16 mono -> 48000 Hz float32 stereo, libsamplerate SINC_BEST");
  assert_string_equal(cr.ref.input.container, "flac");
  assert_int_equal(cr.ref.work.channels, 2);
  assert_true(fabs(cr.ref.first_downbeat_s - 0.120) <= 0.001);
  case_free(&cr);
  free(song);
}

/* Material 0.1 % slower than its nominal 140 BPM: the drift is measured (~0.1 % of the span);
 * on the spec's fixed grid the song would drift out of sync (gate fails); with
 * follow_tempo_map the grid follows the measured beats and renders are in sync. */
static void slow_by_0_1_percent(void **state) {
  (void)state;
  drum_spec ds = {48000, 140 * 0.999, 0.050, 30.0, 0};
  size_t n;
  float *x = drums(&ds, &n);
  char p[1024]; /* sg_test_path rotates static slots: keep a copy */
  snprintf(p, sizeof p, "%s", sg_test_path("ref_slow.wav"));
  write_wav(p, x, n, 48000, 2, SG_FMT_PCM24);
  free(x);

  /* Fixed grid: the drift over the song exceeds the 10 ms limit. */
  sg_song *song = song_new(8, 8, SG_FIT_FADE);
  sg_reference ref;
  sg_gate_report gates;
  sg_gate_report_init(&gates);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(
      sg_reference_prepare(song, p, NULL, sg_test_path("slow_fixed/ref.wav"), &ref, &gates, &d),
      SG_OK);
  printf("slow: tempo %.4f, drift %.3f ms over %.2f s, ratio %.6f\n", ref.tempo_bpm, ref.drift_ms,
         ref.drift_span_s, ref.tempo_ratio);
  assert_true(fabs(ref.tempo_bpm - 139.86) <= 0.05);
  assert_true(fabs(ref.tempo_ratio - 0.999) <= 1e-4);
  /* Late by 0.1 % of the measured span (+-10 %). */
  double expect = 1000.0 * ref.drift_span_s * (1 / 0.999 - 1);
  assert_true(fabs(ref.drift_ms - expect) <= 0.1 * expect);
  assert_true(ref.drift_span_s > 25);
  sg_timeline tl;
  assert_int_equal(sg_timeline_build(song, &tl, &d), SG_OK);
  assert_int_equal(sg_reference_align(&ref, song, &tl, NULL, &gates, &d), SG_E_GATE);
  assert_string_equal(d.check, "drift_over_song");
  printf("slow, fixed grid: %s\n", d.message);
  assert_true(d.measured > 25 && d.measured < 30); /* 0.1 % of 27.4 s */
  assert_true(d.limit == 10.0);
  sg_reference_free(&ref);
  sg_gate_report_free(&gates);

  /* Following the tempo map: in sync. */
  song->drums.follow_tempo_map = 1;
  case_result cr;
  run_case(song, p, "slow_follow", &cr);
  assert_true(cr.ref.follows_tempo_map);
  assert_true(cr.tl.quarter_frames == cr.ref.tempo_map);
  /* The grid's bar 16 lands where the material's bar 16 is (0.05 s + 64 beats at 139.86). */
  double truth = (0.050 + 64 * 60.0 / (140 * 0.999)) * 48000;
  printf("slow: bar 16 at %lld, material %.1f\n", (long long)sg_timeline_bar_frame(&cr.tl, 16),
         truth);
  assert_true(fabs((double)sg_timeline_bar_frame(&cr.tl, 16) - truth) <= 96); /* 2 ms */
  case_free(&cr);
  free(song);
}

/* A reference shorter than the song: fade and loop both give the exact length; fade leaves
 * silence after the last bar line; loop continues the groove on the grid. */
static void too_short_fade_and_loop(void **state) {
  (void)state;
  drum_spec ds = {48000, 140, 0.037, 10.5 * 240.0 / 140 + 0.037, 0};
  size_t n;
  float *x = drums(&ds, &n);
  char p[1024]; /* sg_test_path rotates static slots: keep a copy */
  snprintf(p, sizeof p, "%s", sg_test_path("ref_short.wav"));
  write_wav(p, x, n, 48000, 2, SG_FMT_FLOAT32);
  free(x);

  /* fade */
  sg_song *song = song_new(8, 8, SG_FIT_FADE);
  case_result cr;
  run_case(song, p, "short_fade", &cr);
  assert_int_equal(cr.ref.fit, SG_REF_FIT_FADE);
  int64_t bar10 = sg_timeline_bar_frame(&cr.tl, 10);
  assert_int_equal(cr.ref.fit_cut_frame, bar10);
  sg_audio_info info;
  float *dm = read_mono(sg_test_path("short_fade_drums.wav"), &info);
  assert_int_equal(info.frames, cr.tl.dry_frames);
  double tail = 0;
  for (int64_t i = bar10; i < info.frames; ++i)
    tail = fmax(tail, fabs(dm[i]));
  assert_true(tail == 0.0);
  /* Before the fade the stem is the conformed reference, sample for sample. */
  sg_audio_info wi;
  float *wm = read_mono(cr.ref.work_path, &wi);
  for (int64_t i = 0; i < bar10 - 48000 / 20; i += 101)
    assert_true(dm[i] == wm[i]);
  free(dm);
  case_free(&cr);

  /* loop */
  song->drums.fit = SG_FIT_LOOP;
  run_case(song, p, "short_loop", &cr);
  assert_int_equal(cr.ref.fit, SG_REF_FIT_LOOP);
  assert_int_equal(cr.ref.loop_bars, 4);
  assert_int_equal(cr.ref.fit_cut_frame, bar10);
  assert_int_equal(cr.ref.loop_src_frame, sg_timeline_bar_frame(&cr.tl, 6));
  dm = read_mono(sg_test_path("short_loop_drums.wav"), &info);
  assert_int_equal(info.frames, cr.tl.dry_frames);
  /* The first loop iteration (bars 11-14) is bars 7-10 of the reference sample for sample,
   * up to the crossfade (10 ms) that ends on the next iteration's bar line. */
  int64_t src0 = cr.ref.loop_src_frame, it_end = sg_timeline_bar_frame(&cr.tl, 14);
  size_t bad = 0, checked = 0;
  for (int64_t k = 0; k < it_end - bar10 - 480; k += 7, ++checked)
    if (dm[bar10 + k] != wm[src0 + k])
      bad++;
  assert_true(checked > 1000);
  assert_int_equal(bad, 0);
  /* Beats stay on the grid: every quarter note of the looped part, through all iterations, has
   * an attack within 2 ms of its grid frame. */
  sg_features *f = NULL;
  assert_int_equal(sg_features_from_mono(&f, dm, (size_t)info.frames, 48000, NULL, NULL), SG_OK);
  sg_onset_list on;
  assert_int_equal(sg_onsets_pick(f, NULL, &on), SG_OK);
  int64_t beats = 0, hit = 0;
  double worst = 0;
  for (int64_t q = 40; q < cr.tl.total_bars * 4; ++q, ++beats) {
    double g = (double)sg_timeline_frame_at(&cr.tl, q, 1) / 48000, best = 1;
    for (size_t i = 0; i < on.n; ++i)
      best = fmin(best, fabs(on.time[i] - g));
    worst = fmax(worst, best);
    hit += best <= 0.002;
  }
  printf("loop: %lld of %lld beats within 2 ms of the grid (worst %.3f ms)\n", (long long)hit,
         (long long)beats, 1000 * worst);
  assert_int_equal(beats, 24);
  assert_int_equal(hit, beats);
  sg_onset_list_free(&on);
  sg_features_free(f);
  free(dm);
  free(wm);
  case_free(&cr);
  free(song);
}

/* 132 BPM material against a spec at 140: the tempo gate fails with the measured value and the
 * limit; with tempo: auto the measured ~132.00 builds the grid and everything is in sync. */
static void wrong_tempo_and_auto(void **state) {
  (void)state;
  drum_spec ds = {48000, 132, 0.080, 32.0, 0};
  size_t n;
  float *x = drums(&ds, &n);
  char p[1024]; /* sg_test_path rotates static slots: keep a copy */
  snprintf(p, sizeof p, "%s", sg_test_path("ref_132.wav"));
  write_wav(p, x, n, 48000, 2, SG_FMT_PCM24);
  free(x);
  sg_song *song = song_new(8, 8, SG_FIT_FADE);
  sg_reference ref;
  sg_gate_report gates;
  sg_gate_report_init(&gates);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(
      sg_reference_prepare(song, p, NULL, sg_test_path("w132/ref.wav"), &ref, &gates, &d),
      SG_E_GATE);
  char msg[1024];
  printf("%s\n", sg_diag_format(&d, msg, sizeof msg));
  assert_string_equal(d.step, "reference");
  assert_string_equal(d.check, "reference_tempo");
  assert_true(d.has_value);
  assert_true(fabs(d.measured - 132) <= 0.05);
  assert_true(d.limit == 1.0);
  assert_true(strstr(d.message, "tempo: auto") != NULL);
  const sg_gate_result *g = find_row(&gates, "reference", "reference_tempo");
  assert_non_null(g);
  assert_false(g->pass);
  assert_true(g->required);
  assert_true(g->target == 140);
  assert_int_equal(gates.failed, 1);
  sg_reference_free(&ref);
  sg_gate_report_free(&gates);

  song->tempo_auto = 1;
  case_result cr;
  run_case(song, p, "auto_132", &cr);
  assert_int_equal(cr.ref.tempo_measured.den, 100);
  assert_true(llabs(cr.ref.tempo_measured.num - 13200) <= 5); /* 132.00 +- 0.05 */
  assert_true(cr.ref.tempo_grid.num == cr.ref.tempo_measured.num);
  assert_true(fabs(cr.ref.first_downbeat_s - 0.080) <= 0.001);
  case_free(&cr);
  free(song);
}

/* Sync gates on their own: a render 15 ms late fails with the measured offset; a sustained pad
 * is reported as not measurable (advisory), but the master must always be measurable. */
static void sync_gates_fail_and_skip_honestly(void **state) {
  (void)state;
  drum_spec ds = {48000, 140, 0.037, 30.0, 0};
  size_t n;
  float *x = drums(&ds, &n);
  char p[1024]; /* sg_test_path rotates static slots: keep a copy */
  snprintf(p, sizeof p, "%s", sg_test_path("ref_sync.wav"));
  write_wav(p, x, n, 48000, 2, SG_FMT_FLOAT32);
  free(x);
  sg_song *song = song_new(8, 8, SG_FIT_FADE);
  sg_reference ref;
  sg_gate_report gates;
  sg_gate_report_init(&gates);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(
      sg_reference_prepare(song, p, NULL, sg_test_path("sync/ref.wav"), &ref, &gates, &d), SG_OK);
  sg_timeline tl;
  assert_int_equal(sg_timeline_build(song, &tl, &d), SG_OK);
  assert_int_equal(sg_reference_align(&ref, song, &tl, NULL, &gates, &d), SG_OK);
  size_t nf = (size_t)tl.total_frames;

  /* 15 ms late. */
  float *late = grid_layer(&tl, 720);
  const char *lp = sg_test_path("late.wav");
  write_wav(lp, late, nf, 48000, 2, SG_FMT_FLOAT32);
  sg_reference_sync rs;
  sg_diag_clear(&d);
  sg_status st = sg_reference_sync_check(&ref, song, lp, "Keys", 0, NULL, &rs, &gates, NULL, &d);
  printf("late: offset %.3f ms, drift %.3f ms by %s (%s)\n", rs.offset_ms, rs.drift_ms, rs.method,
         rs.reason);
  assert_int_equal(st, SG_E_GATE);
  assert_true(rs.measurable);
  assert_true(fabs(rs.offset_ms - 15) <= 2);
  assert_string_equal(d.check, "sync_offset");
  assert_string_equal(d.stem, "Keys");
  assert_true(fabs(d.measured - 15) <= 2 && d.limit == 10);
  free(late);

  /* A pad: advisory skip with the reason, not a pass and not a fail. */
  float *pad = pad_layer(nf, 48000);
  const char *pp = sg_test_path("pad.wav");
  write_wav(pp, pad, nf, 48000, 2, SG_FMT_FLOAT32);
  size_t failed = gates.failed;
  sg_diag_clear(&d);
  assert_int_equal(sg_reference_sync_check(&ref, song, pp, "Pad", 0, NULL, &rs, &gates, NULL, &d),
                   SG_OK);
  printf("pad: %s\n", rs.reason);
  assert_false(rs.measurable);
  assert_true(strstr(rs.reason, "not enough rhythmic content") != NULL);
  const sg_gate_result *g = find_row(&gates, "Pad", "sync");
  assert_non_null(g);
  assert_false(g->pass);
  assert_false(g->required);
  assert_null(find_row(&gates, "Pad", "sync_offset"));
  assert_int_equal(gates.failed, failed);
  /* The same file as a master: it must be measurable, so this is a failure. */
  assert_int_equal(
      sg_reference_sync_check(&ref, song, pp, "master", 1, NULL, &rs, &gates, NULL, &d), SG_E_GATE);
  assert_string_equal(d.check, "sync");
  assert_int_equal(gates.failed, failed + 1);
  free(pad);
  sg_reference_free(&ref);
  sg_gate_report_free(&gates);
  free(song);
}

/* Not audio, digital silence, a NaN: the readable gate fails with the reason; nothing is
 * conformed. */
static void unreadable_reference(void **state) {
  (void)state;
  char p[1024]; /* sg_test_path rotates static slots: keep a copy */
  snprintf(p, sizeof p, "%s", sg_test_path("not_audio.wav"));
  assert_int_equal(sg_test_write_text(p, "this is not a RIFF file\n"), 0);
  sg_song *song = song_new(8, 8, SG_FIT_FADE);
  sg_reference ref;
  sg_gate_report gates;
  sg_gate_report_init(&gates);
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_reference_prepare(song, p, NULL, sg_test_path("bad/ref.wav"), &ref, &gates, &d);
  assert_true(st == SG_E_FORMAT || st == SG_E_IO);
  assert_string_equal(d.check, "reference_readable");
  const sg_gate_result *g = find_row(&gates, "reference", "reference_readable");
  assert_non_null(g);
  assert_false(g->pass);
  assert_int_equal(gates.failed, 1);
  sg_reference_free(&ref);

  /* A float WAV holding a NaN, and one of digital silence: both refused as unreadable. */
  float *y = calloc(4 * 48000, sizeof *y); /* 4 s: longer than a bar */
  snprintf(p, sizeof p, "%s", sg_test_path("silent.wav"));
  write_wav(p, y, 4 * 48000, 48000, 1, SG_FMT_FLOAT32);
  sg_diag_clear(&d);
  assert_int_equal(
      sg_reference_prepare(song, p, NULL, sg_test_path("bad2/ref.wav"), &ref, &gates, &d),
      SG_E_FORMAT);
  assert_non_null(strstr(d.message, "digital silence"));
  sg_reference_free(&ref);
  y[100] = NAN;
  y[200] = 0.5f;
  snprintf(p, sizeof p, "%s", sg_test_path("nan.wav"));
  write_wav(p, y, 4 * 48000, 48000, 1, SG_FMT_FLOAT32);
  sg_diag_clear(&d);
  sg_status st2 =
      sg_reference_prepare(song, p, NULL, sg_test_path("bad3/ref.wav"), &ref, &gates, &d);
  printf("nan: %s\n", d.message);
  assert_int_equal(st2, SG_E_FORMAT);
  assert_non_null(strstr(d.message, "non-finite sample (NaN) at frame 100, channel 1"));
  assert_int_equal(gates.failed, 3);
  free(y);
  sg_reference_free(&ref);
  sg_gate_report_free(&gates);
  free(song);
}

/* A reference that cannot serve is refused before anything is made from it, naming the file:
 * below 22.05 kHz (too little bandwidth for the onsets), lossy (Ogg Vorbis: codec pre-echo
 * moves every attack a few ms earlier, measured ~2.6 ms here before this rule), shorter than a
 * bar of the song (no downbeat to find). */
static void references_that_cannot_serve(void **state) {
  (void)state;
  const struct {
    const char *name;
    unsigned rate;
    int format;
    double seconds;
    const char *why;
  } cases[] = {
      {"ref8k.wav", 8000, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8.0, "8000 Hz; a reference needs"},
      {"ref16k.flac", 16000, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 8.0, "16000 Hz"},
      {"ref.ogg", 44100, SF_FORMAT_OGG | SF_FORMAT_VORBIS, 8.0, "is lossy"},
      {"ref.opus", 48000, SF_FORMAT_OGG | SF_FORMAT_OPUS, 8.0, "is lossy"},
      {"ref_short.wav", 48000, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1.0, "shorter than one bar"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
    drum_spec ds = {cases[c].rate, 140, 0.061, cases[c].seconds, 0};
    size_t n;
    float *x = drums(&ds, &n);
    char p[1024], w[1024];
    snprintf(p, sizeof p, "%s", sg_test_path(cases[c].name));
    snprintf(w, sizeof w, "%s_work.wav", p);
    int ok = write_sndfile(p, x, n, cases[c].rate, cases[c].format);
    free(x);
    if (!ok) {
      printf("%s: this libsndfile cannot write the format; skipped\n", cases[c].name);
      continue;
    }
    sg_song *song = song_new(4, 4, SG_FIT_FADE); /* 140 BPM 4/4: a bar is 1.714 s */
    sg_reference ref;
    sg_gate_report gates;
    sg_gate_report_init(&gates);
    sg_diag d;
    sg_diag_clear(&d);
    sg_status st = sg_reference_prepare(song, p, NULL, w, &ref, &gates, &d);
    printf("%s: %s\n", cases[c].name, d.message);
    assert_int_equal(st, SG_E_FORMAT);
    assert_non_null(strstr(d.message, p));
    assert_non_null(strstr(d.message, cases[c].why));
    assert_string_equal(d.check, "reference_readable");
    sg_reference_free(&ref);
    sg_gate_report_free(&gates);
    free(song);
  }
}

/* align: false starts the grid at frame 0; a reference of exactly the song's length is used as
 * it is; the notes name every measurement; a render at another rate is refused, not guessed. */
static void exact_length_no_align_and_rate_mismatch(void **state) {
  (void)state;
  drum_spec ds = {48000, 140, 0.0, 1316571.0 / 48000, 0}; /* 16 bars at 140 BPM, to the frame */
  size_t n;
  float *x = drums(&ds, &n);
  assert_int_equal(n, 1316571);
  char p[1024];
  snprintf(p, sizeof p, "%s", sg_test_path("ref_exact.wav"));
  write_wav(p, x, n, 48000, 1, SG_FMT_PCM24);
  sg_song *song = song_new(8, 8, SG_FIT_LOOP);
  song->drums.align = 0;
  sg_reference ref;
  sg_gate_report gates;
  sg_gate_report_init(&gates);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(
      sg_reference_prepare(song, p, NULL, sg_test_path("exact/ref.wav"), &ref, &gates, &d), SG_OK);
  assert_int_equal(ref.origin_frame, 0);
  sg_timeline tl;
  assert_int_equal(sg_timeline_build(song, &tl, &d), SG_OK);
  assert_int_equal(sg_reference_align(&ref, song, &tl, NULL, &gates, &d), SG_OK);
  assert_int_equal(tl.origin_frame, 0);
  assert_int_equal(ref.fit, SG_REF_FIT_EXACT);
  char out[1024];
  snprintf(out, sizeof out, "%s", sg_test_path("exact_drums.wav"));
  assert_int_equal(sg_reference_write_drums(&ref, song, &tl, NULL, out, "Drums", &gates, &d),
                   SG_OK);
  sg_audio_info di;
  float *dm = read_mono(out, &di);
  assert_int_equal(di.frames, tl.dry_frames); /* 1316571, the song, plus the ring-out allowance */
  assert_int_equal(tl.total_frames, 1316571);
  size_t diff = 0;
  float peak = 0;
  for (size_t i = 0; i < n; ++i) { /* pcm24 round trip: within 2 LSB */
    diff += fabs(dm[i] - x[i]) > 2.0 / 8388608;
    peak = fmaxf(peak, fabsf(x[i]));
  }
  assert_true(peak < 1.0f);
  assert_int_equal(diff, 0);
  char notes[2048];
  sg_reference_describe(&ref, notes, sizeof notes);
  printf("%s", notes);
  assert_non_null(strstr(notes, "Tempo: measured 140.00 BPM"));
  assert_non_null(strstr(notes, "Length: exact"));
  assert_non_null(strstr(notes, "48000 Hz pcm24 mono -> 48000 Hz float32 stereo"));

  /* A render at 44.1 kHz: SG_E_UNSUPPORTED, no gate row invented. */
  snprintf(out, sizeof out, "%s", sg_test_path("render_44k.wav"));
  write_wav(out, x, 44100 * 10, 44100, 2, SG_FMT_FLOAT32);
  size_t rows = gates.n;
  sg_reference_sync rs;
  assert_int_equal(sg_reference_sync_check(&ref, song, out, "Bass", 0, NULL, &rs, &gates, NULL, &d),
                   SG_E_UNSUPPORTED);
  assert_int_equal(gates.n, rows);
  free(dm);
  free(x);
  sg_reference_free(&ref);
  sg_reference_free(&ref); /* twice is safe */
  sg_gate_report_free(&gates);
  free(song);
}

/* A one-beat snare pickup before bar 1: the grid starts at the downbeat after it, and the
 * Drums stem keeps the pickup before the grid's origin. */
static void pickup_before_first_downbeat(void **state) {
  (void)state;
  double P = 60.0 / 140;
  drum_spec ds = {48000, 140, 0.037 + P, 30.0, 1};
  size_t n;
  float *x = drums(&ds, &n);
  char p[1024];
  snprintf(p, sizeof p, "%s", sg_test_path("ref_pickup.wav"));
  write_wav(p, x, n, 48000, 2, SG_FMT_FLOAT32);
  sg_song *song = song_new(8, 8, SG_FIT_FADE);
  case_result cr;
  run_case(song, p, "pickup", &cr);
  assert_true(fabs(cr.ref.first_downbeat_s - (0.037 + P)) <= 0.001);
  /* The pickup is in the stem, before the origin. */
  sg_audio_info di;
  float *dm = read_mono(sg_test_path("pickup_drums.wav"), &di);
  double pk = 0;
  for (int64_t i = 1776; i < 1776 + 2400; ++i)
    pk = fmax(pk, fabs(dm[i]));
  assert_true(pk > 0.05);
  assert_true(cr.tl.origin_frame > 1776 + 20000);
  free(dm);
  free(x);
  case_free(&cr);
  free(song);
}

/* AIFF at 96 kHz 24-bit and Ogg Vorbis (lossy) at 44.1 kHz: both conformed to 48 kHz stereo;
 * tempo and first downbeat survive the conversion within the stated tolerances. */
static void aiff_96k_and_ogg_vorbis(void **state) {
  (void)state;
  static const struct {
    const char *name;
    unsigned rate;
    int format;
    const char *conv;
    double downbeat_tol_s;
  } cases[] = {
      {"ref96.aiff", 96000, SF_FORMAT_AIFF | SF_FORMAT_PCM_24,
       "96000 Hz pcm24 mono -> 48000 Hz float32 stereo, libsamplerate SINC_BEST", 0.001},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
    drum_spec ds = {cases[c].rate, 140, 0.061, 20.0, 0};
    size_t n;
    float *x = drums(&ds, &n);
    char p[1024], w[1024];
    snprintf(p, sizeof p, "%s", sg_test_path(cases[c].name));
    snprintf(w, sizeof w, "%s_work.wav", p);
    int ok = write_sndfile(p, x, n, cases[c].rate, cases[c].format);
    free(x);
    if (!ok) {
      printf("%s: this libsndfile cannot write the format; skipped\n", cases[c].name);
      continue;
    }
    sg_song *song = song_new(4, 4, SG_FIT_FADE);
    sg_reference ref;
    sg_gate_report gates;
    sg_gate_report_init(&gates);
    sg_diag d;
    sg_diag_clear(&d);
    assert_int_equal(sg_reference_prepare(song, p, NULL, w, &ref, &gates, &d), SG_OK);
    printf("%s: %s; %s; %.3f BPM; downbeat %.3f ms\n", cases[c].name, ref.input_desc,
           ref.conversion, ref.tempo_bpm, 1000 * ref.first_downbeat_s);
    assert_string_equal(ref.conversion, cases[c].conv);
    assert_true(fabs(ref.tempo_bpm - 140) <= 0.05);
    assert_true(fabs(ref.first_downbeat_s - 0.061) <= cases[c].downbeat_tol_s);
    assert_int_equal(ref.work.rate, 48000);
    /* Conformed length: the input's duration at 48 kHz, to within a frame. */
    assert_true(llabs(ref.work.frames - (int64_t)llround(20.0 * 48000)) <= 1);
    sg_reference_free(&ref);
    sg_gate_report_free(&gates);
    free(song);
  }
}

/* The slow reference, too short for the song, following its tempo map and looping: the map is
 * extended past the reference at the measured period, so the looped bars land where the
 * material's own tempo puts them (bar 16, 6 bars past the end of the reference, within 2 ms). */
static void slow_short_follow_and_loop(void **state) {
  (void)state;
  double P = 60.0 / (140 * 0.999);
  drum_spec ds = {48000, 140 * 0.999, 0.050, 0.050 + 10.5 * 4 * P, 0};
  size_t n;
  float *x = drums(&ds, &n);
  char p[1024];
  snprintf(p, sizeof p, "%s", sg_test_path("ref_slow_short.wav"));
  write_wav(p, x, n, 48000, 2, SG_FMT_FLOAT32);
  free(x);
  sg_song *song = song_new(8, 8, SG_FIT_LOOP);
  song->drums.follow_tempo_map = 1;
  case_result cr;
  run_case(song, p, "slow_loop", &cr);
  assert_int_equal(cr.ref.fit, SG_REF_FIT_LOOP);
  assert_true(cr.ref.n_tempo_map >= 16 * 4 + 1);
  double truth = (0.050 + 64 * P) * 48000;
  printf("slow loop: bar 16 at %lld, material's tempo puts it at %.1f\n",
         (long long)sg_timeline_bar_frame(&cr.tl, 16), truth);
  assert_true(fabs((double)sg_timeline_bar_frame(&cr.tl, 16) - truth) <= 96);
  case_free(&cr);
  free(song);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(wav_44k_pcm16_lead_37ms),
      cmocka_unit_test(wav_48k_float_no_lead),
      cmocka_unit_test(flac_mono),
      cmocka_unit_test(slow_by_0_1_percent),
      cmocka_unit_test(too_short_fade_and_loop),
      cmocka_unit_test(wrong_tempo_and_auto),
      cmocka_unit_test(sync_gates_fail_and_skip_honestly),
      cmocka_unit_test(unreadable_reference),
      cmocka_unit_test(references_that_cannot_serve),
      cmocka_unit_test(exact_length_no_align_and_rate_mismatch),
      cmocka_unit_test(pickup_before_first_downbeat),
      cmocka_unit_test(aiff_96k_and_ogg_vorbis),
      cmocka_unit_test(slow_short_follow_and_loop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
