/* The key rows render and verify share (sg_check_master_keys), on short specs whose chord charts
 * are synthesised in C at the spec's own bar times (tests/support/chord_gen.h): a section
 * labelled dorian that is aeolian and a section labelled F major whose chords stay in D minor
 * fail with their evidence, the correctly labelled versions pass, a modulation at a section
 * boundary is located within gates.key_window_sec, and a key change inside a section is
 * reported with its time. */
#include "chord_gen.h"
#include "sg_test.h"

#include "stemgate/gate.h"
#include "stemgate/spec.h"
#include "stemgate/timing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 22050u

typedef struct sect {
  const char *name, *key, *chords; /* chords: one symbol per bar, 2 s bars (120 BPM, 4/4) */
} sect;

/* Writes and loads the spec, renders the charts, runs the key checks into r. */
static sg_status run(const sect *s, int ns, sg_gate_report *r) {
  char yaml[4096];
  size_t o = (size_t)snprintf(yaml, sizeof yaml, "title: Keys\ntempo: 120\nsections:\n");
  for (int i = 0; i < ns; ++i) {
    int bars = 1;
    for (const char *p = s[i].chords; *p; ++p)
      bars += *p == '|';
    o += (size_t)snprintf(yaml + o, sizeof yaml - o,
                          "  - {name: %s, bars: %d, key: %s, chords: \"%s\"}\n", s[i].name, bars,
                          s[i].key, s[i].chords);
  }
  snprintf(yaml + o, sizeof yaml - o, "stems:\n  - name: Keys\n    instrument: dx7\n");
  const char *path = sg_test_path("keys.yaml");
  assert_int_equal(sg_test_write_text(path, yaml), 0);
  sg_song *song = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_song_load(path, &song, &d), SG_OK);
  sg_timeline tl;
  assert_int_equal(sg_timeline_build(song, &tl, &d), SG_OK);
  double secs = tl.sections[tl.n_sections - 1].end_sec;
  size_t n = (size_t)(secs * RATE);
  float *x = calloc(n, sizeof *x);
  assert_non_null(x);
  for (int i = 0; i < ns; ++i)
    assert_true(cg_chart(x, n, RATE, tl.sections[i].start_sec, 2.0, s[i].chords) > 0);
  sg_features *f = NULL;
  assert_int_equal(sg_features_from_mono(&f, x, n, RATE, NULL, NULL), SG_OK);
  sg_status st = sg_check_master_keys(r, "verify", song, &tl, f, &d);
  for (size_t i = 0; i < r->n; ++i)
    printf("  %-8s %-10s %s %s\n", r->v[i].stem, r->v[i].check, r->v[i].pass ? "PASS" : "FAIL",
           r->v[i].detail);
  sg_features_free(f);
  free(x);
  sg_song_free(song);
  return st;
}

/* The row of check for stem (a section name), or fails the test. */
static const sg_gate_result *row_of(const sg_gate_report *r, const char *check, const char *stem) {
  for (size_t i = 0; i < r->n; ++i)
    if (!strcmp(r->v[i].check, check) && !strcmp(r->v[i].stem, stem))
      return &r->v[i];
  fail_msg("no %s row for %s", check, stem);
  return NULL;
}

static void expect(const char *key, const char *chords, int pass, const char *evidence) {
  sect s = {"A", key, chords};
  sg_gate_report r;
  sg_gate_report_init(&r);
  sg_status st = run(&s, 1, &r);
  const sg_gate_result *k = row_of(&r, "key", "A");
  assert_int_equal(k->pass, pass);
  assert_int_equal(st, pass ? SG_OK : SG_E_GATE);
  if (evidence)
    assert_non_null(strstr(k->detail, evidence));
  sg_gate_report_free(&r);
}

static void dorian_label_on_aeolian_fails(void **state) {
  (void)state;
  const char *aeolian = "Em7 | C | Em7 | C | Am | D | Em7 | Em7";
  expect("E dorian", aeolian, 0, "6th degree C not C#");
  expect("E minor", aeolian, 1, "E minor (tonic E");
  const char *dorian = "Em7 | A | Em7 | A | Em7 | A | D | Em7";
  expect("E dorian", dorian, 1, "E dorian (tonic E");
  expect("E minor", dorian, 0, "6th degree C# not C");
}

static void relative_label_fails(void **state) {
  (void)state;
  const char *dminor = "Dm | Gm | A7 | Dm | Bb | Gm | A7 | Dm";
  expect("F major", dminor, 0, "harmonic minor (tonic D");
  expect("D minor", dminor, 1, "(tonic D");
  const char *fmajor = "F | Bb | C | F | Dm | Bb | C7 | F";
  expect("F major", fmajor, 1, "F major (tonic F");
  expect("D minor", fmajor, 0, "F major (tonic F");
}

/* C major to Eb major at the section boundary (16 s): the key rows pass and the key track's
 * change lies within gates.key_window_sec of the boundary. */
static void modulation_located(void **state) {
  (void)state;
  sect s[2] = {{"A", "C major", "C | F | G | C | Am | F | G | C"},
               {"B", "Eb major", "Eb | Ab | Bb | Eb | Cm | Ab | Bb | Eb"}};
  sg_gate_report r;
  sg_gate_report_init(&r);
  assert_int_equal(run(s, 2, &r), SG_OK);
  assert_true(row_of(&r, "key", "A")->pass);
  assert_true(row_of(&r, "key", "B")->pass);
  const sg_gate_result *m = row_of(&r, "key_change", "B");
  printf("modulation located %.2f s from the boundary (window %.0f s)\n", m->measured, m->limit);
  assert_true(m->pass);
  assert_true(fabs(m->measured) <= m->limit);
  sg_gate_report_free(&r);
}

/* A 16-bar section labelled C major that moves to E major halfway (bar 9, 16 s): the key row
 * fails and says where the music leaves the key. */
static void key_change_inside_a_section(void **state) {
  (void)state;
  sect s = {"A", "C major", "C | F | G | C | Am | F | G | C | E | A | B | E | C#m | A | B | E"};
  sg_gate_report r;
  sg_gate_report_init(&r);
  assert_int_equal(run(&s, 1, &r), SG_E_GATE);
  const sg_gate_result *k = row_of(&r, "key", "A");
  assert_false(k->pass);
  const char *at = strstr(k->detail, "leaves C major at ");
  assert_non_null(at);
  double t = atof(at + strlen("leaves C major at "));
  printf("key change inside the section reported at %.2f s (true 16 s)\n", t);
  assert_true(fabs(t - 16.0) <= 10.0); /* gates.key_window_sec's default */
  sg_gate_report_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(dorian_label_on_aeolian_fails),
      cmocka_unit_test(relative_label_fails),
      cmocka_unit_test(modulation_located),
      cmocka_unit_test(key_change_inside_a_section),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
