/* The MIDI of a song following a drummer's tempo map (issue 13, drums.follow_tempo_map): a
 * reference that speeds up by 0.6 % over 30 s, 120 ms of leading silence, +-3 ms humanised
 * (tests/support/drum_gen.h), prepared and aligned as step 2 does; a note on every beat of the
 * aligned grid encoded as the compose step encodes a stem. Read back through the file's own
 * tempo events (the way a DAW plays it), every note lands within 2 ms of the drummer's beat,
 * and the tempo events change by under 0.2 % from one quarter note to the next (the map is
 * the drummer's smooth tempo, not his hit-to-hit timing). */
#include "sg_test.h"

#include "stemgate/compose.h"
#include "stemgate/reference.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drum_gen.h"

static void ramping_reference_midi_follows_the_beats(void **state) {
  (void)state;
  const dg_case c = {"ramp_midi", 97.3, 0.006, 97.3, 0.12, 0, 1, 3, 30, 9};
  size_t n;
  double t0, nb;
  float *x = dg_generate(&c, &n, &t0, &nb);
  char src[1024], work[1024];
  snprintf(src, sizeof src, "%s", sg_test_path("ramp_midi.wav"));
  snprintf(work, sizeof work, "%s", sg_test_path("ramp_midi_work.wav"));
  sg_audio_writer_config wc;
  sg_audio_writer_config_init(&wc);
  wc.rate = DG_RATE;
  wc.channels = 1;
  wc.format = SG_FMT_FLOAT32;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_audio_write_all(src, x, (int64_t)n, &wc, &d), SG_OK);
  free(x);

  sg_song *song = calloc(1, sizeof *song);
  snprintf(song->path, sizeof song->path, "test.yaml");
  song->tempo.num = 9730;
  song->tempo.den = 100;
  song->meter_num = song->meter_den = 4;
  song->sample_rate = DG_RATE;
  song->channels = 1;
  song->format = SG_FMT_FLOAT32;
  sg_section_spec *s = &song->sections[song->n_sections++];
  snprintf(s->name.s, sizeof s->name.s, "verse");
  s->bars = 11; /* 44 beats, inside the 30 s reference */
  s->start_sec = s->end_sec = -1;
  song->drums.source = SG_DRUMS_REFERENCE;
  song->drums.fit = SG_FIT_FADE;
  song->drums.align = 1;
  song->drums.follow_tempo_map = 1;
  song->drums.tempo_tolerance_bpm = 1.0;
  song->limits.sync_ms = 10;

  sg_reference ref;
  sg_gate_report gates;
  sg_gate_report_init(&gates);
  char msg[1024];
  sg_status st = sg_reference_prepare(song, src, NULL, work, &ref, &gates, &d);
  if (st != SG_OK)
    printf("%s\n", sg_diag_format(&d, msg, sizeof msg));
  assert_int_equal(st, SG_OK);
  sg_timeline tl;
  assert_int_equal(sg_timeline_build(song, &tl, &d), SG_OK);
  assert_int_equal(sg_reference_align(&ref, song, &tl, NULL, &gates, &d), SG_OK);
  assert_true(ref.follows_tempo_map);

  sg_note_list notes, got;
  sg_notes_init(&notes);
  sg_notes_init(&got);
  const long beats = (long)tl.total_bars * 4;
  for (long k = 0; k < beats; ++k) {
    sg_note nt;
    memset(&nt, 0, sizeof nt);
    nt.start = sg_timeline_frame_at(&tl, k, 1);
    nt.length = DG_RATE / 10;
    nt.key = 60;
    nt.velocity = 0.8f;
    assert_int_equal(sg_notes_push(&notes, &nt), SG_OK);
  }
  uint8_t *buf = NULL;
  size_t len = 0;
  assert_int_equal(sg_midi_encode(&notes, &tl, "ramp", "Beats", 0, NULL, &buf, &len, &d), SG_OK);

  /* The notes through the file's tempo events against the drummer's beats. */
  sg_midi_info info;
  assert_int_equal(sg_midi_decode(buf, len, &tl, SG_MIDI_MAP_FILE_TEMPO, &got, &info, &d), SG_OK);
  assert_int_equal(got.n, notes.n);
  assert_true(info.lead_ticks > 0); /* the grid starts 120 ms in: a lead-in */
  double worst = 0;
  for (size_t i = 0; i < got.n; ++i) {
    double truth = dg_beat_time(&c, t0, nb, (long)i);
    double e = fabs((double)got.v[i].start / DG_RATE - truth) * 1000.0;
    worst = e > worst ? e : worst;
  }
  /* The tempo events from the first beat on: one per quarter note, smooth. */
  sg_midi_event *ev = NULL;
  size_t nev = 0;
  assert_int_equal(sg_midi_events(buf, len, &ev, &nev, NULL, &d), SG_OK);
  double prev = 0, jump = 0, first_bpm = 0, last_bpm = 0;
  size_t ntempo = 0;
  for (size_t i = 0; i < nev; ++i) {
    if (ev[i].kind != 0x51 || ev[i].len != 3 || ev[i].tick < info.lead_ticks)
      continue;
    double us = (double)((ev[i].data[0] << 16) | (ev[i].data[1] << 8) | ev[i].data[2]);
    double bpm = 60e6 / us;
    if (prev > 0 && ntempo < (size_t)beats) {
      double j = 100.0 * fabs(bpm / prev - 1);
      jump = j > jump ? j : jump;
    }
    if (!ntempo)
      first_bpm = bpm;
    if (ntempo < (size_t)beats)
      last_bpm = bpm;
    prev = bpm;
    ntempo++;
  }
  printf("ramping reference: %zu notes, worst MIDI-vs-beat %.3f ms; %zu tempo events, %.3f -> "
         "%.3f BPM, max change %.4f %% per quarter\n",
         got.n, worst, ntempo, first_bpm, last_bpm, jump);
  assert_true(worst <= 2.0);
  assert_true(ntempo >= (size_t)beats);
  assert_true(jump < 0.2);
  assert_true(last_bpm > first_bpm); /* the ramp is in the map */
  free(ev);
  free(buf);
  sg_notes_free(&notes);
  sg_notes_free(&got);
  sg_reference_free(&ref);
  sg_gate_report_free(&gates);
  free(song);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ramping_reference_midi_follows_the_beats),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
