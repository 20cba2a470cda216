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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(deja_vu_grid),
      cmocka_unit_test(beat_unit_converts_once),
      cmocka_unit_test(fractional_tempo_has_no_drift),
      cmocka_unit_test(odd_meters),
      cmocka_unit_test(placement_errors_name_the_section),
      cmocka_unit_test(time_strings),
      cmocka_unit_test(tempo_map_interpolates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
