/* Timing: exact grid arithmetic (fractional tempi, odd meters, long songs), snapping of target
 * times to bars with the error reported, spec errors with positions, tempo maps. */
#include "sg_test.h"

#include "stemgate/timing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sg_song *song_new(int64_t tnum, int64_t tden, int mnum, int mden, unsigned rate) {
  sg_song *s = calloc(1, sizeof *s);
  snprintf(s->path, sizeof s->path, "t.yaml");
  s->tempo.num = tnum;
  s->tempo.den = tden;
  s->meter_num = mnum;
  s->meter_den = mden;
  s->sample_rate = rate;
  return s;
}

static sg_section_spec *add(sg_song *s, const char *name, int bars, double start, double end) {
  sg_section_spec *x = &s->sections[s->n_sections++];
  snprintf(x->name.s, sizeof x->name.s, "%s", name);
  x->bars = bars;
  x->start_sec = start;
  x->end_sec = end;
  x->pos.line = s->n_sections + 1;
  x->pos.col = 5;
  x->start_pos = (sg_pos){s->n_sections + 1, 12};
  x->end_pos = (sg_pos){s->n_sections + 1, 20};
  return x;
}

static sg_song *parse_or_null(const char *yaml, sg_diag *d) {
  sg_song *s = NULL;
  sg_diag_clear(d);
  if (sg_song_parse(yaml, strlen(yaml), "beat.yaml", &s, d) != SG_OK)
    return NULL;
  return s;
}

/* beat: a 6/8 ballad at 72 dotted quarters per minute is the grid of 108 quarter notes per
 * minute, frame for frame; 72.5 dotted quarters = 108.75 quarters exactly; eighth and half
 * beats; a bad beat name or an out-of-range result is refused at its line:col. */
static void beat_unit_converts_once(void **st) {
  (void)st;
  static const char *const fmt = "title: B\ntempo: %s\n%smeter: 6/8\nsample_rate: 44100\n"
                                 "sections:\n  - {name: a, bars: 7}\n  - {name: b, bars: 13}\n"
                                 "drums: {source: synth}\n";
  char y1[512], y2[512];
  snprintf(y1, sizeof y1, fmt, "72", "beat: dotted-quarter\n");
  snprintf(y2, sizeof y2, fmt, "108", "");
  sg_diag d;
  sg_song *a = parse_or_null(y1, &d), *b = parse_or_null(y2, &d);
  assert_non_null(a);
  assert_non_null(b);
  sg_timeline ta, tb;
  assert_int_equal(sg_timeline_build(a, &ta, &d), SG_OK);
  assert_int_equal(sg_timeline_build(b, &tb, &d), SG_OK);
  assert_int_equal(ta.tempo_num, 108);
  assert_int_equal(ta.tempo_den, 1);
  assert_int_equal(ta.beat, SG_BEAT_DOTTED_QUARTER);
  assert_int_equal(ta.beat_tempo_num, 72);
  assert_int_equal(ta.beat_tempo_den, 1);
  assert_int_equal(tb.beat_tempo_num, 108);
  assert_int_equal(ta.total_frames, tb.total_frames);
  for (int i = 0; i < ta.n_sections; ++i) {
    assert_int_equal(ta.sections[i].start_frame, tb.sections[i].start_frame);
    assert_int_equal(ta.sections[i].end_frame, tb.sections[i].end_frame);
  }
  for (int64_t q = 0; q <= 60; ++q)
    assert_int_equal(sg_timeline_frame_at(&ta, q, 2), sg_timeline_frame_at(&tb, q, 2));
  /* 20 bars of 6/8 at 108 quarters: 20 * 3 * 60 / 108 s = 33.333 s */
  printf("6/8 at 72 dotted-quarter: %lld frames, at 108 quarter: %lld frames\n",
         (long long)ta.total_frames, (long long)tb.total_frames);
  assert_int_equal(ta.total_frames, 1470000);
  sg_song_free(a);
  sg_song_free(b);

  snprintf(y1, sizeof y1, fmt, "72.5", "beat: dotted-quarter\n");
  a = parse_or_null(y1, &d);
  assert_non_null(a);
  assert_int_equal(a->tempo.num * 100, 10875 * a->tempo.den);
  assert_int_equal(a->tempo_written.num * 10, 725 * a->tempo_written.den);
  sg_song_free(a);
  snprintf(y1, sizeof y1, fmt, "150", "beat: eighth\n");
  a = parse_or_null(y1, &d);
  assert_non_null(a);
  assert_int_equal(a->tempo.num, 75 * a->tempo.den);
  sg_song_free(a);
  snprintf(y1, sizeof y1, fmt, "60", "beat: half\n");
  a = parse_or_null(y1, &d);
  assert_non_null(a);
  assert_int_equal(a->tempo.num, 120 * a->tempo.den);
  sg_song_free(a);

  snprintf(y1, sizeof y1, fmt, "72", "beat: dotted\n");
  assert_null(parse_or_null(y1, &d));
  printf("%s\n", d.message);
  assert_int_equal(d.line, 3);
  assert_int_equal(d.col, 7);
  assert_non_null(strstr(d.message, "dotted-quarter"));
  snprintf(y1, sizeof y1, fmt, "300", "beat: half\n");
  assert_null(parse_or_null(y1, &d));
  printf("%s\n", d.message);
  assert_int_equal(d.line, 2);
  assert_int_equal(d.col, 8);
  assert_non_null(strstr(d.message, "600 quarter notes"));
  /* tempo: auto is the reference's quarter notes: another beat is refused at the beat. */
  snprintf(y1, sizeof y1, fmt, "auto", "beat: half\n");
  assert_null(parse_or_null(y1, &d));
  printf("%s\n", d.message);
  assert_int_equal(d.line, 3);
  assert_non_null(strstr(d.message, "needs a numeric tempo"));
}

static void deja_vu_grid(void **st) {
  (void)st;
  sg_song *s = song_new(140, 1, 4, 4, 48000);
  add(s, "intro", 8, -1, -1);
  add(s, "verse", 16, -1, -1);
  add(s, "chorus", 16, -1, -1);
  add(s, "verse2", 8, -1, -1);
  add(s, "bridge", 0, 82, 109); /* "1:22"-"1:49" */
  add(s, "chorus2", 16, -1, -1);
  sg_timeline tl;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_timeline_build(s, &tl, &d), SG_OK);
  const sg_section_time *b = &tl.sections[4];
  assert_int_equal(b->start_bar, 48); /* bar 49, 1-based */
  assert_int_equal(b->bars, 16);      /* bars 49-64 */
  /* 48 bars * 4 quarters * 60/140 s * 48000 = 3949714.2857 -> 3949714 */
  assert_int_equal(b->start_frame, 3949714);
  assert_int_equal(b->end_frame, 5266286); /* 64 bars: 5266285.714 */
  assert_float_equal(b->snap_error_start_sec, 48 * 240.0 / 140 - 82, 1e-9);
  assert_float_equal(b->snap_error_end_sec, 64 * 240.0 / 140 - 109, 1e-9);
  assert_true(b->snapped_start && b->snapped_end);
  assert_int_equal(tl.total_bars, 80);
  assert_int_equal(tl.total_frames, 6582857); /* 137.142857 s */
  for (int i = 1; i < tl.n_sections; ++i)
    assert_int_equal(tl.sections[i].start_frame, tl.sections[i - 1].end_frame);
  free(s);
}

static void fractional_tempo_has_no_drift(void **st) {
  (void)st;
  /* 97.3 BPM, ~10 minutes (243 bars): bar 200 computed directly equals the sum of section
   * lengths, and equals the exact rational value rounded once. */
  sg_song *s = song_new(973, 10, 4, 4, 48000);
  int lens[] = {7, 13, 11, 17, 19, 23, 29, 31, 37, 13, 43};
  int total = 0;
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; ++i) {
    char name[16];
    snprintf(name, sizeof name, "s%zu", i);
    add(s, name, lens[i], -1, -1);
    total += lens[i];
  }
  assert_int_equal(total, 243);
  sg_timeline tl;
  assert_int_equal(sg_timeline_build(s, &tl, NULL), SG_OK);
  int64_t sum = 0;
  int64_t bar = 0;
  for (int i = 0; i < tl.n_sections && bar < 200; ++i) {
    sum += tl.sections[i].end_frame - tl.sections[i].start_frame;
    bar += tl.sections[i].bars;
  }
  assert_int_equal(bar, 200);
  int64_t direct = sg_timeline_bar_frame(&tl, 200);
  assert_int_equal(sum, direct);
  /* 200 bars * 4 q * 60 s * 48000 * 10 / 973 = 23679342.24... */
  assert_int_equal(direct, 23679342);
  /* A float accumulation per beat would drift; the grid does not: every beat frame equals the
   * independently computed rounding. */
  for (int64_t q = 0; q <= 972; q += 1) {
    long double exact = (long double)q * 60.0L * 48000.0L * 10.0L / 973.0L;
    assert_int_equal(sg_timeline_frame_at(&tl, q, 1), (int64_t)llroundl(exact));
  }
  assert_float_equal(sg_timeline_frames_per_quarter(&tl), 48000.0 * 600 / 973, 1e-9);
  free(s);
}

static void odd_meters(void **st) {
  (void)st;
  sg_song *s = song_new(120, 1, 6, 8, 44100);
  add(s, "a", 4, -1, -1);
  sg_timeline tl;
  assert_int_equal(sg_timeline_build(s, &tl, NULL), SG_OK);
  assert_int_equal(tl.bar_q_num, 3); /* 6/8 = 3 quarters */
  assert_int_equal(tl.bar_q_den, 1);
  assert_int_equal(tl.total_frames, 4 * 3 * 22050); /* 1.5 s a bar */
  s->meter_num = 7;
  s->meter_den = 8;
  assert_int_equal(sg_timeline_build(s, &tl, NULL), SG_OK);
  assert_int_equal(tl.bar_q_num, 7);
  assert_int_equal(tl.bar_q_den, 2);
  assert_int_equal(sg_timeline_bar_frame(&tl, 1), 77175); /* 3.5 q * 0.5 s * 44100 */
  s->meter_num = 3;
  s->meter_den = 4;
  s->tempo.num = 1001; /* 100.1 BPM */
  s->tempo.den = 10;
  s->sample_rate = 96000;
  assert_int_equal(sg_timeline_build(s, &tl, NULL), SG_OK);
  assert_int_equal(tl.total_frames, llround(12 * 60.0 * 96000 * 10 / 1001));
  assert_int_equal(sg_timeline_section_at(&tl, 0), 0);
  assert_int_equal(sg_timeline_section_at(&tl, tl.total_frames), -1);
  free(s);
}

static void placement_errors_name_the_section(void **st) {
  (void)st;
  sg_diag d;
  sg_timeline tl;
  /* Start target contradicting the bars before it. */
  sg_song *s = song_new(140, 1, 4, 4, 48000);
  add(s, "intro", 8, -1, -1);
  add(s, "bridge", 16, 30, -1); /* 30 s snaps to bar 17, intro ends at bar 9 */
  sg_diag_clear(&d);
  assert_int_equal(sg_timeline_build(s, &tl, &d), SG_E_SPEC);
  assert_int_equal(d.line, 3);
  assert_int_equal(d.col, 12);
  assert_non_null(strstr(d.message, "bridge"));
  assert_non_null(strstr(d.message, "bar 19"));
  free(s);
  /* A section that snaps to nothing. */
  s = song_new(140, 1, 4, 4, 48000);
  add(s, "intro", 8, -1, -1);
  add(s, "blip", 0, -1, 13.8); /* 13.8 s snaps to bar 8: empty */
  sg_diag_clear(&d);
  assert_int_equal(sg_timeline_build(s, &tl, &d), SG_E_SPEC);
  assert_non_null(strstr(d.message, "empty"));
  assert_int_equal(d.col, 20);
  free(s);
  /* Last section without length. */
  s = song_new(140, 1, 4, 4, 48000);
  add(s, "intro", 8, -1, -1);
  add(s, "outro", 0, -1, -1);
  sg_diag_clear(&d);
  assert_int_equal(sg_timeline_build(s, &tl, &d), SG_E_SPEC);
  assert_non_null(strstr(d.message, "outro"));
  free(s);
  /* Gap-filling: a section with no bars takes its length from the next start. */
  s = song_new(120, 1, 4, 4, 48000);
  add(s, "intro", 0, -1, -1);
  add(s, "verse", 4, 16.1, -1); /* 16.1 s -> bar 8 (2 s a bar) */
  sg_diag_clear(&d);
  assert_int_equal(sg_timeline_build(s, &tl, &d), SG_OK);
  assert_int_equal(tl.sections[0].bars, 8);
  assert_float_equal(tl.sections[1].snap_error_start_sec, -0.1, 1e-9);
  /* First section cannot start later. */
  s->sections[0].start_sec = 4.0;
  sg_diag_clear(&d);
  assert_int_equal(sg_timeline_build(s, &tl, &d), SG_E_SPEC);
  assert_non_null(strstr(d.message, "first section"));
  free(s);
}

static void time_strings(void **st) {
  (void)st;
  double t;
  assert_int_equal(sg_parse_time("1:22", &t), SG_OK);
  assert_float_equal(t, 82, 0);
  assert_int_equal(sg_parse_time("1:49.5", &t), SG_OK);
  assert_float_equal(t, 109.5, 1e-12);
  assert_int_equal(sg_parse_time("82.25", &t), SG_OK);
  assert_float_equal(t, 82.25, 0);
  assert_int_equal(sg_parse_time("82s", &t), SG_OK);
  assert_int_equal(sg_parse_time("1:75", &t), SG_E_PARSE);
  assert_int_equal(sg_parse_time("1:5", &t), SG_E_PARSE);
  assert_int_equal(sg_parse_time("-3", &t), SG_E_PARSE);
  assert_int_equal(sg_parse_time("abc", &t), SG_E_PARSE);
  assert_int_equal(sg_parse_time("1.5:00", &t), SG_E_PARSE);
  char buf[32];
  assert_string_equal(sg_format_time(82.2857, buf, sizeof buf), "1:22.286");
  assert_string_equal(sg_format_time(0.0, buf, sizeof buf), "0:00.000");
}

static void tempo_map_interpolates(void **st) {
  (void)st;
  sg_song *s = song_new(120, 1, 4, 4, 48000);
  add(s, "a", 2, -1, -1);
  sg_timeline tl;
  assert_int_equal(sg_timeline_build(s, &tl, NULL), SG_OK);
  int64_t map[] = {1000, 25000, 49100, 73000}; /* a slightly uneven measured grid */
  tl.quarter_frames = map;
  tl.n_quarter_frames = 4;
  assert_int_equal(sg_timeline_frame_at(&tl, 0, 1), 1000);
  assert_int_equal(sg_timeline_frame_at(&tl, 2, 1), 49100);
  assert_int_equal(sg_timeline_frame_at(&tl, 3, 2), 25000 + 12050);
  /* Beyond the map: the last interval extends. */
  assert_int_equal(sg_timeline_frame_at(&tl, 4, 1), 73000 + 23900);
  /* Setting the map through the API moves the sections too. */
  sg_timeline_set_tempo_map(&tl, map, 4);
  assert_int_equal(tl.sections[0].start_frame, 1000);
  assert_int_equal(tl.total_frames, 73000 + 5 * 23900);
  sg_timeline_set_tempo_map(&tl, NULL, 0);
  sg_timeline_set_origin(&tl, 1776); /* 37 ms of leading silence at 48 kHz */
  assert_int_equal(tl.sections[0].start_frame, 1776);
  assert_int_equal(tl.total_frames, 1776 + 8 * 24000);
  free(s);
}

/* 120 BPM for 2 bars, 100 from bar 3, a 4-bar linear ritardando 100 -> 80 (bars 5-8), 80 after:
 * frames at 48 kHz computed by hand from the closed forms (timing.h):
 *   bar 2 = 8 q * 0.5 s = 192000; bar 4 = 192000 + 8 q * 0.6 s = 422400;
 *   ramp (16 q): t(x) = 60 * 16 / (80 - 100) * ln(T(x) / 100), T(x) = 100 - 20 x / 16;
 *   bar 8 = 422400 + round(48 ln(1.25) * 48000) = 422400 + 514123 = 936523;
 *   bar 10 = 936523 + 8 q * 0.75 s = 1224523. */
static sg_song *rit_song(void) {
  sg_song *s = song_new(120, 1, 4, 4, 48000);
  add(s, "a", 2, -1, -1);
  sg_section_spec *b = add(s, "b", 2, -1, -1);
  b->tempo = (sg_decimal){100, 1, {3, 5}};
  sg_section_spec *c = add(s, "c", 4, -1, -1);
  c->ramp_to = (sg_decimal){80, 1, {4, 5}};
  c->ramp_bars = 4;
  add(s, "d", 2, -1, -1);
  return s;
}

static void tempo_map_two_tempos_and_ritardando(void **st) {
  (void)st;
  sg_song *s = rit_song();
  sg_timeline tl;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_timeline_build(s, &tl, &d), SG_OK);
  assert_int_equal(tl.tempo_varies, 1);
  assert_int_equal(tl.n_tempo, 4);
  assert_int_equal(sg_timeline_bar_frame(&tl, 2), 192000);
  assert_int_equal(sg_timeline_bar_frame(&tl, 4), 422400);
  assert_int_equal(sg_timeline_bar_frame(&tl, 8), 936523);
  assert_int_equal(tl.total_frames, 1224523);
  assert_int_equal(tl.sections[3].start_frame, 936523);
  /* One bar into the ramp (T = 95): 48 ln(100/95) s = 118179.75 frames. */
  assert_int_equal(sg_timeline_frame_at(&tl, 20, 1), 422400 + 118180);
  /* A sixteenth into the ramp is integrated, not interpolated between quarters: T(1/4) =
   * 99.6875, 48 ln(100/99.6875) s = 7211.27 frames (a quarter's interpolation gives 7245). */
  assert_int_equal(sg_timeline_frame_at(&tl, 16 * 4 + 1, 4), 422400 + 7211);
  /* The local tempo and the inverse. */
  assert_float_equal(sg_timeline_tempo_at(&tl, 100), 120.0, 1e-9);
  assert_float_equal(sg_timeline_tempo_at(&tl, 300000), 100.0, 1e-9);
  assert_float_equal(sg_timeline_tempo_at(&tl, 422400 + 118180), 95.0, 1e-3);
  assert_float_equal(sg_timeline_tempo_at(&tl, 1000000), 80.0, 1e-9);
  assert_float_equal(sg_timeline_quarter_at(&tl, 422400 + 118180), 20.0, 1e-4);
  assert_int_equal(sg_timeline_ticks_at(&tl, 422400, 480), 16 * 480);
  assert_int_equal(sg_timeline_ticks_at(&tl, 936523 + 36000, 480), 32 * 480 + 480);
  /* Every bar, quarter and sixteenth strictly after the one before; each quarter of the ramp
   * longer than the one before (the tempo falls). */
  int64_t prev = -1, prev_len = 0;
  for (int64_t q16 = 0; q16 <= 40 * 4; ++q16) {
    int64_t f = sg_timeline_frame_at(&tl, q16, 4);
    assert_true(f > prev);
    prev = f;
  }
  for (int64_t q = 16; q < 32; ++q) {
    int64_t len = sg_timeline_frame_at(&tl, q + 1, 1) - sg_timeline_frame_at(&tl, q, 1);
    assert_true(len > prev_len);
    prev_len = len;
  }
  for (int64_t bar = 0; bar < tl.total_bars; ++bar)
    assert_true(sg_timeline_bar_frame(&tl, bar + 1) > sg_timeline_bar_frame(&tl, bar));
  /* The same map with an origin moves every frame by it. */
  sg_timeline_set_origin(&tl, 777);
  assert_int_equal(sg_timeline_bar_frame(&tl, 8), 936523 + 777);
  assert_int_equal(tl.total_frames, 1224523 + 777);
  /* Target times snap to bars of the map: d ends at "0:26" instead of 2 bars. Bar 8 is at
   * 19.5109 s, a bar of 80 BPM lasts 3 s: 6.489 s is 2.16 bars -> 2, error 25.5109 - 26. */
  s->sections[3].bars = 0;
  s->sections[3].end_sec = 26.0;
  assert_int_equal(sg_timeline_build(s, &tl, &d), SG_OK);
  assert_int_equal(tl.total_bars, 10);
  assert_float_equal(tl.sections[3].snap_error_end_sec, 1224523.0 / 48000 - 26.0, 1e-5);
  /* c without bars takes its length from d's start (19.3 s -> bar 9, the end of the ramp over
   * 4 bars); a start inconsistent with the bars before is refused at its position. */
  s->sections[2].bars = 0;
  s->sections[3].start_sec = 19.3;
  assert_int_equal(sg_timeline_build(s, &tl, &d), SG_OK);
  assert_int_equal(tl.sections[2].bars, 4);
  assert_float_equal(tl.sections[3].snap_error_start_sec, 936523.0 / 48000 - 19.3, 1e-5);
  s->sections[2].bars = 4;
  s->sections[3].start_sec = 23.0;
  sg_diag_clear(&d);
  assert_int_equal(sg_timeline_build(s, &tl, &d), SG_E_SPEC);
  assert_int_equal(d.line, 5);
  assert_int_equal(d.col, 12);
  /* over_bars longer than the section. */
  s->sections[3].start_sec = -1;
  s->sections[2].ramp_bars = 5;
  s->sections[2].ramp_bars_pos = (sg_pos){4, 30};
  sg_diag_clear(&d);
  assert_int_equal(sg_timeline_build(s, &tl, &d), SG_E_SPEC);
  assert_int_equal(d.col, 30);
  assert_non_null(strstr(d.message, "over_bars"));
  free(s);
}

/* An exponential accelerando over a whole section: equal tempo ratios per beat, so the quarter
 * lengths fall geometrically; closed form t(x) = 60 L / (T0 ln r) (1 - r^(-x/L)). */
static void tempo_map_exponential(void **st) {
  (void)st;
  sg_song *s = song_new(90, 1, 3, 4, 44100);
  sg_section_spec *a = add(s, "a", 2, -1, -1);
  a->ramp_to = (sg_decimal){135, 1, {2, 5}};
  a->ramp_curve = SG_CURVE_EXPONENTIAL;
  add(s, "b", 1, -1, -1);
  sg_timeline tl;
  assert_int_equal(sg_timeline_build(s, &tl, NULL), SG_OK);
  double L = 6, r = 1.5, T0 = 90;
  for (int q = 0; q <= 6; ++q) {
    double t = 60 * L / (T0 * log(r)) * (1 - pow(r, -q / L));
    assert_int_equal(sg_timeline_frame_at(&tl, q, 1), llround(t * 44100));
  }
  double l1 = (double)(sg_timeline_frame_at(&tl, 1, 1) - sg_timeline_frame_at(&tl, 0, 1));
  double l2 = (double)(sg_timeline_frame_at(&tl, 2, 1) - sg_timeline_frame_at(&tl, 1, 1));
  assert_float_equal(l1 / l2, pow(r, 1 / L), 1e-4);
  /* b runs at 135 */
  assert_int_equal(tl.total_frames - sg_timeline_bar_frame(&tl, 2),
                   llround(3 * 60.0 / 135 * 44100));
  free(s);
}

/* The spec keys: per-section tempo in `beat` units, tempo_change with its defaults, errors at
 * the offending line:col. */
static void tempo_keys_parse(void **st) {
  (void)st;
  static const char *const ok =
      "title: T\ntempo: 60\nbeat: half\nmeter: 4/4\nsample_rate: 44100\n"
      "sections:\n  - {name: a, bars: 2}\n  - {name: b, bars: 2, tempo: 50}\n"
      "  - name: c\n    bars: 4\n    tempo_change: {to: 40, over_bars: 2}\n"
      "drums: {source: synth}\n";
  sg_diag d;
  sg_song *s = parse_or_null(ok, &d);
  assert_non_null(s);
  assert_int_equal(s->sections[1].tempo.num, 100); /* 50 half notes = 100 quarters */
  assert_int_equal(s->sections[2].ramp_to.num, 80);
  assert_int_equal(s->sections[2].ramp_bars, 2);
  assert_int_equal(s->sections[2].ramp_curve, SG_CURVE_LINEAR);
  sg_song_free(s);
  static const char *const bad[][2] = {
      {"  - name: c\n    bars: 4\n    tempo_change: {to: 40, over: 2}\n", "11:28"},
      {"  - name: c\n    bars: 4\n    tempo_change: {to: 40, over_bars: 5}\n", "11:39"},
      {"  - name: c\n    bars: 4\n    tempo_change: {over_bars: 2}\n", "11:19"},
      {"  - name: c\n    bars: 4\n    tempo_change: {to: 5}\n", "11:24"},
      {"  - name: c\n    bars: 4\n    tempo: fast\n", "11:12"},
      {"  - name: c\n    bars: 4\n    tempo_change: {to: 50, curve: cubic}\n", "11:35"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    char y[600];
    snprintf(y, sizeof y,
             "title: T\ntempo: 60\nbeat: half\nmeter: 4/4\nsample_rate: 44100\n"
             "sections:\n  - {name: a, bars: 2}\n  - {name: b, bars: 2, tempo: 50}\n%s"
             "drums: {source: synth}\n",
             bad[i][0]);
    assert_null(parse_or_null(y, &d));
    char at[16];
    snprintf(at, sizeof at, "%d:%d", d.line, d.col);
    printf("%s -> %s: %s\n", bad[i][1], at, d.message);
    assert_string_equal(at, bad[i][1]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(deja_vu_grid),
      cmocka_unit_test(beat_unit_converts_once),
      cmocka_unit_test(fractional_tempo_has_no_drift),
      cmocka_unit_test(odd_meters),
      cmocka_unit_test(placement_errors_name_the_section),
      cmocka_unit_test(time_strings),
      cmocka_unit_test(tempo_map_interpolates),
      cmocka_unit_test(tempo_map_two_tempos_and_ritardando),
      cmocka_unit_test(tempo_map_exponential),
      cmocka_unit_test(tempo_keys_parse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
