/* Drums (issue #15, items 4 and 7): a user's pattern is played note for note in every section
 * (energy changes its velocity, not its notes; no piece it does not name is added unless
 * fills: true), and odd meters get grooves from their groupings (at most 4 kicks in 7/8). */
#include "compose_fixture.h"

static const char *const DRUM_YAML = "title: Drums\n"
                                     "tempo: 120\n"
                                     "meter: %s\n"
                                     "sample_rate: 48000\n"
                                     "key: A minor\n"
                                     "style: %s\n"
                                     "seed: 5\n"
                                     "humanize: {timing_ms: 0, velocity: 0}\n"
                                     "sections:\n"
                                     "  - {name: a, bars: 4, energy: sparse}\n"
                                     "  - {name: b, bars: 4}\n"
                                     "  - {name: c, bars: 4, energy: full}\n"
                                     "  - {name: d, bars: 4, energy: sparse}\n"
                                     "stems:\n"
                                     "  - {name: Keys, instrument: dx7}\n"
                                     "drums:\n"
                                     "  source: synth\n"
                                     "%s";

static void load(fixture *f, const char *meter, const char *style, const char *extra) {
  char text[4096];
  snprintf(text, sizeof text, DRUM_YAML, meter, style, extra);
  fixture_from_text(f, text);
}

static void user_pattern_is_played_as_written(void **state) {
  (void)state;
  /* Hats only, with a ghost note: 16 bars over sparse, normal, full and sparse sections. */
  fixture f;
  load(&f, "4/4", "pop", "  pattern: \"hat: x.o.x.x.x.o.x.x.\"\n");
  sg_note_list l;
  sg_notes_init(&l);
  sg_compose_report rep;
  compose_or_fail(&f, -1, &l, &rep);
  static const int steps[] = {0, 2, 4, 6, 8, 10, 12, 14};
  print_message("hats-only pattern: %zu notes over 16 bars (want %d)\n", l.n, 16 * 8);
  assert_int_equal(l.n, 16 * 8);
  for (size_t i = 0; i < l.n; ++i) {
    assert_int_equal(l.v[i].key, 42); /* no kick, snare, clap or open hat added */
    int64_t bar = (int64_t)i / 8;
    assert_int_equal(l.v[i].start, sg_timeline_frame_at(&f.tl, bar * 16 + steps[i % 8], 4));
  }
  /* Energy changes the velocity only: the full section's hits are louder than the sparse
   * section's, step for step. */
  for (int k = 0; k < 8; ++k)
    assert_true(l.v[8 * 8 + k].velocity > l.v[0 * 8 + k].velocity);
  fixture_free(&f);
  /* fills: true adds fills and section accents, but only with the pieces the pattern names. */
  load(&f, "4/4", "pop",
       "  pattern: \"hat: x.x.x.x.x.x.x.x. snare: ....x.......x...\"\n  fills: true\n");
  compose_or_fail(&f, -1, &l, &rep);
  int snares = 0;
  for (size_t i = 0; i < l.n; ++i) {
    assert_true(l.v[i].key == 42 || l.v[i].key == 38);
    snares += l.v[i].key == 38;
  }
  print_message("with fills: %d snares (the pattern alone has %d)\n", snares, 16 * 2);
  assert_true(snares > 16 * 2); /* the fills roll on the snare */
  fixture_free(&f);
  /* fills: false on a style groove leaves every section change plain: bars 3 and 4 of the first
   * section are alike. */
  load(&f, "4/4", "pop", "  fills: false\n");
  compose_or_fail(&f, -1, &l, &rep);
  int64_t b2 = sg_timeline_bar_frame(&f.tl, 2), b3 = sg_timeline_bar_frame(&f.tl, 3),
          b4 = sg_timeline_bar_frame(&f.tl, 4);
  int n2 = 0, n3 = 0;
  for (size_t i = 0; i < l.n; ++i) {
    n2 += l.v[i].start >= b2 && l.v[i].start < b3;
    n3 += l.v[i].start >= b3 && l.v[i].start < b4;
  }
  assert_int_equal(n2, n3);
  sg_notes_free(&l);
  fixture_free(&f);
}

static void odd_meters_groove_on_their_groupings(void **state) {
  (void)state;
  static const char *const styles[] = {"pop",  "bossa", "samba", "house", "ballad",
                                       "funk", "swing", "dnb",   "reggae"};
  static const char *const meters[] = {"7/8", "5/8", "5/4"};
  for (int m = 0; m < 3; ++m)
    for (int s = 0; s < 9; ++s) {
      fixture f;
      load(&f, meters[m], styles[s], "");
      sg_note_list l;
      sg_notes_init(&l);
      sg_compose_report rep;
      compose_or_fail(&f, -1, &l, &rep);
      int most = 0, least = 1000;
      for (int64_t b = 0; b < 16; ++b) {
        int64_t b0 = sg_timeline_bar_frame(&f.tl, b), b1 = sg_timeline_bar_frame(&f.tl, b + 1);
        int kicks = 0, down = 0;
        for (size_t i = 0; i < l.n; ++i)
          if (l.v[i].key == 36 && l.v[i].start >= b0 && l.v[i].start < b1) {
            ++kicks;
            down |= l.v[i].start == b0;
          }
        if (kicks > most)
          most = kicks;
        if (kicks < least)
          least = kicks;
        /* (the reggae one drop leaves beat 1 empty by design) */
        if (!down && strcmp(styles[s], "reggae") != 0)
          fail_msg("%s %s bar %lld: no kick on the downbeat", meters[m], styles[s], (long long)b);
      }
      print_message("%s %-5s: %d to %d kicks a bar\n", meters[m], styles[s], least, most);
      /* 7/8 and 5/8 (limit 4 kicks a bar); 5/4 has five quarters (house plays all five). */
      int limit = m == 2 ? 5 : 4;
      if (most > limit)
        fail_msg("%s %s: %d kicks in a bar (limit %d)", meters[m], styles[s], most, limit);
      sg_notes_free(&l);
      fixture_free(&f);
    }
  /* 7/8 pop as 2+2+3: kick on 1, snare on the second group (2 8ths in), kick on the third (4
   * 8ths in). */
  fixture f;
  load(&f, "7/8", "pop", "");
  sg_note_list l;
  sg_notes_init(&l);
  sg_compose_report rep;
  compose_or_fail(&f, -1, &l, &rep);
  int64_t bar = 5; /* inside section b (normal energy), no fill */
  int64_t e8 = sg_timeline_frame_at(&f.tl, bar * 7 + 2, 2),
          e8k = sg_timeline_frame_at(&f.tl, bar * 7 + 4, 2);
  int snare = 0, kick = 0;
  for (size_t i = 0; i < l.n; ++i) {
    snare |= l.v[i].key == 38 && l.v[i].start == e8;
    kick |= l.v[i].key == 36 && l.v[i].start == e8k;
  }
  assert_true(snare && kick);
  sg_notes_free(&l);
  fixture_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(user_pattern_is_played_as_written),
      cmocka_unit_test(odd_meters_groove_on_their_groupings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
