/* The styles of issue #15 item 8 (ballad, funk, swing, drum-and-bass, reggae) beside pop, bossa,
 * samba and house: each has drums, bass and comping in every meter (notes in every bar), and
 * each keeps its signature: swing's ride and walking bass on every beat with the off-8ths
 * delayed by the swing ratio, reggae's one drop (nothing on 1, kick and cross-stick on 3), funk's
 * 16th kick syncopation, drum-and-bass's displaced second kick, the ballad's 6/8 feel. */
#include "compose_fixture.h"

#include <math.h>

static const char *const STYLE_YAML = "title: Styles\n"
                                      "tempo: 100\n"
                                      "meter: %s\n"
                                      "sample_rate: 48000\n"
                                      "key: D minor\n"
                                      "style: %s\n"
                                      "seed: 21\n"
                                      "humanize: {timing_ms: 0, velocity: 0}\n"
                                      "sections:\n"
                                      "  - {name: a, bars: 4, chords: \"Dm7 | G7 | Cmaj7 | A7\"}\n"
                                      "  - {name: b, bars: 4, energy: full}\n"
                                      "stems:\n"
                                      "  - {name: Bass, instrument: moog_bass, role: bass}\n"
                                      "  - {name: Keys, instrument: dx7, role: comp}\n"
                                      "  - {name: Gtr, instrument: guitar, role: comp}\n"
                                      "drums: {source: synth}\n";

static int64_t q_frame(const fixture *f, double q) {
  return sg_timeline_frame_at(&f->tl, (int64_t)llround(q * 48), 48);
}

static int has_note(const sg_note_list *l, int key, int64_t at) {
  for (size_t i = 0; i < l->n; ++i)
    if (l->v[i].start == at && (key < 0 || l->v[i].key == key))
      return 1;
  return 0;
}

static void every_style_plays_in_every_meter(void **state) {
  (void)state;
  static const char *const meters[] = {"4/4", "3/4", "6/8", "7/8", "5/4", "12/8"};
  for (int s = 0; s < SG_STYLE_COUNT_; ++s)
    for (int m = 0; m < 6; ++m) {
      char text[4096];
      snprintf(text, sizeof text, STYLE_YAML, meters[m], sg_style_name((sg_style)s));
      fixture f;
      fixture_from_text(&f, text);
      int empty = 0;
      for (int stem = -1; stem < 3; ++stem) {
        sg_note_list l;
        sg_notes_init(&l);
        compose_or_fail(&f, stem, &l, NULL);
        for (int64_t b = 0; b < f.tl.total_bars; ++b) {
          int64_t b0 = sg_timeline_bar_frame(&f.tl, b), b1 = sg_timeline_bar_frame(&f.tl, b + 1);
          int n = 0;
          for (size_t i = 0; i < l.n; ++i)
            n += l.v[i].start >= b0 && l.v[i].start < b1;
          if (n == 0 && !(stem == 0 && b > 0)) /* (a bass tied over the bar line is playing) */
            ++empty;
        }
        sg_notes_free(&l);
      }
      if (empty)
        fail_msg("%s %s: %d empty bars", sg_style_name((sg_style)s), meters[m], empty);
      fixture_free(&f);
    }
}

static void style_signatures(void **state) {
  (void)state;
  char text[4096];
  fixture f;
  sg_note_list dr, bass;
  sg_notes_init(&dr);
  sg_notes_init(&bass);

  /* Swing 4/4: ride on every beat of bar 2, the skip note at 2/3 of beat 2 (triplet feel, the
   * default ratio 1/3 of an 8th late), walking bass on every beat of the normal section. */
  snprintf(text, sizeof text, STYLE_YAML, "4/4", "swing");
  fixture_from_text(&f, text);
  compose_or_fail(&f, -1, &dr, NULL);
  compose_or_fail(&f, 0, &bass, NULL);
  for (int k = 0; k < 4; ++k)
    assert_true(has_note(&dr, 51, q_frame(&f, 4 + k)));
  int64_t skip = q_frame(&f, 5.5) + (int64_t)llround((q_frame(&f, 6) - q_frame(&f, 5.5)) / 3.0);
  print_message("swing skip note expected at frame %lld (straight %lld)\n", (long long)skip,
                (long long)q_frame(&f, 5.5));
  assert_true(has_note(&dr, 51, skip));
  assert_false(has_note(&dr, 51, q_frame(&f, 5.5)));
  int beats = 0;
  for (int q = 0; q < 16; ++q)
    beats += has_note(&bass, -1, q_frame(&f, q));
  print_message("walking bass: %d of 16 beats\n", beats);
  assert_int_equal(beats, 16);
  sg_notes_clear(&dr);
  sg_notes_clear(&bass);
  fixture_free(&f);

  /* Reggae 4/4: the one drop, bars 2-3 (no fill, no section accent): kick and cross-stick on 3,
   * no kick on 1; the bass still plays 1. */
  snprintf(text, sizeof text, STYLE_YAML, "4/4", "reggae");
  fixture_from_text(&f, text);
  compose_or_fail(&f, -1, &dr, NULL);
  compose_or_fail(&f, 0, &bass, NULL);
  for (int b = 1; b < 3; ++b) {
    assert_false(has_note(&dr, 36, q_frame(&f, 4 * b)));
    assert_true(has_note(&dr, 36, q_frame(&f, 4 * b + 2)));
    assert_true(has_note(&dr, 37, q_frame(&f, 4 * b + 2)));
    assert_true(has_note(&bass, -1, q_frame(&f, 4 * b)));
  }
  sg_notes_clear(&dr);
  sg_notes_clear(&bass);
  fixture_free(&f);

  /* Funk 4/4: kick on 1 and on its 'a' (a 16th syncopation), 16th hats. */
  snprintf(text, sizeof text, STYLE_YAML, "4/4", "funk");
  fixture_from_text(&f, text);
  compose_or_fail(&f, -1, &dr, NULL);
  assert_true(has_note(&dr, 36, q_frame(&f, 4)));
  assert_true(has_note(&dr, 36, q_frame(&f, 4.75)));
  assert_true(has_note(&dr, 42, q_frame(&f, 4.25)));
  sg_notes_clear(&dr);
  fixture_free(&f);

  /* Drum-and-bass 4/4: kick on 1 and the 'and' of 3, snare on 2 and 4. */
  snprintf(text, sizeof text, STYLE_YAML, "4/4", "dnb");
  fixture_from_text(&f, text);
  compose_or_fail(&f, -1, &dr, NULL);
  assert_true(has_note(&dr, 36, q_frame(&f, 4)));
  assert_true(has_note(&dr, 36, q_frame(&f, 6.5)));
  assert_false(has_note(&dr, 36, q_frame(&f, 6)));
  assert_true(has_note(&dr, 38, q_frame(&f, 5)) && has_note(&dr, 38, q_frame(&f, 7)));
  sg_notes_clear(&dr);
  fixture_free(&f);

  /* Ballad 6/8: kick on the first dotted beat, cross-stick... snare on the second (the "4" of
   * six); bass on every downbeat. */
  snprintf(text, sizeof text, STYLE_YAML, "6/8", "ballad");
  fixture_from_text(&f, text);
  compose_or_fail(&f, -1, &dr, NULL);
  compose_or_fail(&f, 0, &bass, NULL);
  assert_true(has_note(&dr, 36, q_frame(&f, 3)));
  assert_true(has_note(&dr, 38, q_frame(&f, 4.5)));
  for (int b = 0; b < 8; ++b)
    assert_true(has_note(&bass, -1, q_frame(&f, 3 * b)));
  sg_notes_free(&dr);
  sg_notes_free(&bass);
  fixture_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_style_plays_in_every_meter),
      cmocka_unit_test(style_signatures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
