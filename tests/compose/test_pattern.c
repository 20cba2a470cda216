/* Step patterns and drum lane patterns: positions, velocities, holds, resolutions, and the
 * column of every error. */
#include "sg_test.h"

#include "stemgate/compose.h"

#include <string.h>

static void steps_velocities_and_holds(void **state) {
  (void)state;
  sg_step_pattern p;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_pattern_parse("X..x|o.5-|-..9 ....", 0, &p, &d), SG_OK);
  assert_int_equal(p.steps_per_whole, 16);
  assert_int_equal(p.n_steps, 16);
  assert_int_equal(p.n_hits, 5);
  assert_int_equal(p.hits[0].pos, 0);
  assert_true(p.hits[0].flags & SG_NOTE_ACCENT);
  assert_float_equal(p.hits[0].velocity, 1.0, 1e-6);
  assert_int_equal(p.hits[1].pos, 3);
  assert_float_equal(p.hits[1].velocity, 0.78, 1e-6);
  assert_int_equal(p.hits[2].pos, 4);
  assert_true(p.hits[2].flags & SG_NOTE_GHOST);
  assert_int_equal(p.hits[3].pos, 6);
  assert_float_equal(p.hits[3].velocity, 5.0 / 9.0, 1e-6);
  assert_int_equal(p.hits[3].len, 3); /* "5--" across a bar mark */
  assert_int_equal(p.hits[4].pos, 11);
  assert_float_equal(p.hits[4].velocity, 1.0, 1e-6);
  /* Resolution prefix. */
  assert_int_equal(sg_pattern_parse("@8 x.x.x.x.", 0, &p, &d), SG_OK);
  assert_int_equal(p.steps_per_whole, 8);
  assert_int_equal(p.n_steps, 8);
  assert_int_equal(sg_pattern_parse("@12 x..x..x..x..", 0, &p, &d), SG_OK);
  assert_int_equal(p.steps_per_whole, 12);
  assert_int_equal(p.n_hits, 4);
}

typedef struct bad {
  const char *s;
  int col;
} bad;

static void pattern_errors_have_columns(void **state) {
  (void)state;
  static const bad cases[] = {
      {"x..q", 4},    /* unknown character */
      {"-x..", 1},    /* hold with nothing to hold */
      {"x.-.", 3},    /* hold after a rest */
      {"@7 x...", 1}, /* bad resolution */
      {"", 1},        /* empty */
      {"  | |", 1},   /* only separators */
      {"x..\x01", 4}, /* control character */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    sg_step_pattern p;
    sg_diag d;
    sg_diag_clear(&d);
    sg_status st = sg_pattern_parse(cases[i].s, 0, &p, &d);
    if (st != SG_E_PARSE || d.col != cases[i].col)
      fail_msg("'%s': status %d col %d (%s), expected SG_E_PARSE at %d", cases[i].s, st, d.col,
               d.message, cases[i].col);
  }
  /* Column offset for positions inside a spec value. */
  sg_step_pattern p;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_pattern_parse("x..y", 20, &p, &d), SG_E_PARSE);
  assert_int_equal(d.col, 24);
  /* Too long. */
  char big[400];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  assert_int_equal(sg_pattern_parse(big, 0, &p, &d), SG_E_LIMIT);
}

static void drum_lanes(void **state) {
  (void)state;
  sg_drum_pattern p;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_drum_pattern_parse("kick: x...x...x...x... snare: ....X.......X...\n"
                                         "hat: @8 xxxxxxxx  44: ..x.\n oh:..x.",
                                         0, &p, &d),
                   SG_OK);
  assert_int_equal(p.n_lanes, 5);
  assert_int_equal(p.lanes[0].key, 36);
  assert_int_equal(p.lanes[0].pattern.n_hits, 4);
  assert_int_equal(p.lanes[1].key, 38);
  assert_int_equal(p.lanes[1].pattern.hits[0].pos, 4);
  assert_true(p.lanes[1].pattern.hits[1].flags & SG_NOTE_ACCENT);
  assert_int_equal(p.lanes[2].key, 42);
  assert_int_equal(p.lanes[2].pattern.steps_per_whole, 8);
  assert_int_equal(p.lanes[2].pattern.n_hits, 8);
  assert_int_equal(p.lanes[3].key, 44);
  assert_int_equal(p.lanes[4].key, 46);
  assert_int_equal(p.lanes[4].pattern.hits[0].pos, 2);
  static const bad cases[] = {
      {"cowbell: x...", 1},          /* unknown lane */
      {"kick: x... kick: x...", 12}, /* twice */
      {"x... kick: x...", 1},        /* steps before a lane name */
      {"kick: x..z", 10},            /* bad step */
      {"kick: x... snare:", 12},     /* lane without steps */
      {"", 1},                       /* nothing */
      {"200: x...", 1},              /* not a MIDI note */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    sg_diag_clear(&d);
    sg_status st = sg_drum_pattern_parse(cases[i].s, 0, &p, &d);
    if (st != SG_E_PARSE || d.col != cases[i].col)
      fail_msg("'%s': status %d col %d (%s), expected SG_E_PARSE at %d", cases[i].s, st, d.col,
               d.message, cases[i].col);
  }
}

static void names(void **state) {
  (void)state;
  sg_style s;
  sg_role r;
  sg_energy e;
  assert_int_equal(sg_style_from_name("Bossa Nova", &s), SG_OK);
  assert_int_equal(s, SG_STYLE_BOSSA);
  assert_int_equal(sg_style_from_name("rock", &s), SG_OK);
  assert_int_equal(s, SG_STYLE_POP);
  assert_int_equal(sg_style_from_name("house", &s), SG_OK);
  assert_int_equal(s, SG_STYLE_HOUSE);
  assert_int_equal(sg_style_from_name("polka", &s), SG_E_NOTFOUND);
  assert_int_equal(sg_role_from_name("bell", &r), SG_OK);
  assert_int_equal(r, SG_ROLE_LEAD);
  assert_int_equal(sg_role_from_name("bass", &r), SG_OK);
  assert_int_equal(r, SG_ROLE_BASS);
  assert_int_equal(sg_energy_from_name("", &e), SG_OK);
  assert_int_equal(e, SG_ENERGY_NORMAL);
  assert_int_equal(sg_energy_from_name("Full", &e), SG_OK);
  assert_int_equal(e, SG_ENERGY_FULL);
  assert_int_equal(sg_energy_from_name("loud", &e), SG_E_NOTFOUND);
  assert_string_equal(sg_style_name(SG_STYLE_SAMBA), "samba");
  assert_string_equal(sg_role_name(SG_ROLE_ARP), "arp");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(steps_velocities_and_holds),
      cmocka_unit_test(pattern_errors_have_columns),
      cmocka_unit_test(drum_lanes),
      cmocka_unit_test(names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
