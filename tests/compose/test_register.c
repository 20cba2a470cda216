/* Voicing and register (issue #15, item 6): over a bass stem, keys comping and pads stay at or
 * above E3 (MIDI 52); without one the keys' left hand may go lower. */
#include "compose_fixture.h"

static int lowest(const sg_note_list *l) {
  int lo = 128;
  for (size_t i = 0; i < l->n; ++i)
    if (l->v[i].key < lo)
      lo = l->v[i].key;
  return lo;
}

static void comping_stays_above_the_bass(void **state) {
  (void)state;
  static const char *const styles[] = {"bossa", "pop", "house", "samba"};
  static const char *const meters[] = {"4/4", "3/4", "6/8"};
  for (int m = 0; m < 3; ++m)
    for (int s = 0; s < 4; ++s) {
      fixture f;
      fixture_load(&f, meters[m], styles[s]); /* Bass plays in every section */
      sg_note_list l;
      sg_notes_init(&l);
      sg_compose_report rep;
      static const char *const keys_stems[] = {"Bridge", "Pad", "Arp"};
      for (int k = 0; k < 3; ++k) {
        compose_or_fail(&f, sg_song_stem_index(f.song, keys_stems[k]), &l, &rep);
        int lo = lowest(&l);
        if (lo < 52)
          fail_msg("%s %s %s: lowest note %d under E3 (52) over a bass", meters[m], styles[s],
                   keys_stems[k], lo);
      }
      sg_notes_free(&l);
      fixture_free(&f);
    }
  /* Without a bass stem the bossa keys' left hand plays the root under the voicing. */
  fixture f;
  fixture_load(&f, "4/4", "bossa");
  snprintf(f.song->stems[1].role.s, sizeof f.song->stems[1].role.s, "pad");
  sg_note_list l;
  sg_notes_init(&l);
  sg_compose_report rep;
  compose_or_fail(&f, sg_song_stem_index(f.song, "Bridge"), &l, &rep);
  print_message("bossa keys without a bass: lowest note %d\n", lowest(&l));
  assert_true(lowest(&l) < 52);
  sg_notes_free(&l);
  fixture_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(comping_stays_above_the_bass),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
