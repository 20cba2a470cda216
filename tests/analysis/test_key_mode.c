/* Tonic and mode: chord charts synthesised in C (tests/support/chord_gen.h), 8 bars of 2 s,
 * judged by sg_key_check_grid against their own key and against the key a profile cannot tell
 * them from: the relative major/minor and the parallel mode sharing the tonic. Each case prints
 * the measured evidence and tonic margin, so the margins stated in the check's documentation
 * can be read from the test log. */
#include "analysis_gen.h"
#include "chord_gen.h"
#include "sg_test.h"

#include "stemgate/analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 22050u
#define BAR_S 2.0

typedef struct kcase {
  const char *chart; /* 8 bars */
  const char *key;   /* the key it is written in: passes */
  const char *wrong; /* the relative or parallel key: fails */
  const char *why;   /* what the failing row must say ("6th degree", "tonic") */
} kcase;

static const kcase cases[] = {
    /* dorian against aeolian, both ways */
    {"Em7 | A | Em7 | A | Em7 | A | D | Em7", "E dorian", "E minor", "6th degree C# not C"},
    {"Em7 | C | Em7 | C | Am | D | Em7 | Em7", "E minor", "E dorian", "6th degree C not C#"},
    /* a relative-labelled section: minor chords under a major label and the reverse */
    {"Dm | Gm | A7 | Dm | Bb | Gm | A7 | Dm", "D minor", "F major", "tonic D"},
    {"F | Bb | C | F | Dm | Bb | C7 | F", "F major", "D minor", "tonic F"},
    {"Em7 | C | Em7 | C | Am | D | Em7 | Em7", "E minor", "G major", "tonic E"},
    /* mixolydian, lydian, phrygian against their parallel major/minor, both ways */
    {"G | F | C | G | G | F | Dm | G", "G mixolydian", "G major", "7th degree F not F#"},
    {"G | C | D | G | Em | C | D | G", "G major", "G mixolydian", "7th degree F# not F"},
    {"F | G | F | G | Am | G | F | F", "F lydian", "F major", "4th degree B not Bb"},
    {"F | Bb | F | C | F | Bb | C | F", "F major", "F lydian", "4th degree Bb not B"},
    {"Em | F | Em | F | Dm | F | Em | Em", "E phrygian", "E minor", "2nd degree F not F#"},
    {"Em | Am | Bm | Em | C | D | Bm | Em", "E minor", "E phrygian", "2nd degree F# not F"},
};

static double bars[9];

static sg_features *render(const char *chart) {
  const size_t n = (size_t)(8 * BAR_S * RATE);
  float *x = calloc(n, sizeof *x);
  assert_non_null(x);
  assert_int_equal(cg_chart(x, n, RATE, 0, BAR_S, chart), 8);
  sg_features *f = NULL;
  assert_int_equal(sg_features_from_mono(&f, x, n, RATE, NULL, NULL), SG_OK);
  free(x);
  return f;
}

static void judge(sg_features *f, const char *key, sg_key_check *kc) {
  sg_key want;
  assert_int_equal(sg_key_parse(key, &want, NULL), SG_OK);
  sg_key_grid g = {bars, 8, NULL, 0};
  assert_int_equal(sg_key_check_grid(f, &g, &want, kc), SG_OK);
}

/* Every chart passes in its own key and fails in the other, naming the evidence. */
static void modes_and_relatives(void **state) {
  (void)state;
  for (int i = 0; i <= 8; ++i)
    bars[i] = i * BAR_S;
  double min_margin = 1;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
    sg_features *f = render(cases[c].chart);
    sg_key_check ok, bad;
    judge(f, cases[c].key, &ok);
    judge(f, cases[c].wrong, &bad);
    printf("%-40s as %-13s: %s -> %d\n", cases[c].chart, cases[c].key, ok.text, ok.verdict);
    printf("%-40s as %-13s: %s -> %d\n", "", cases[c].wrong, bad.text, bad.verdict);
    assert_int_equal(ok.verdict, 1);
    assert_int_equal(bad.verdict, 0);
    assert_non_null(strstr(bad.text, cases[c].why) ? bad.text : NULL);
    if (ok.ev.margin < min_margin)
      min_margin = ok.ev.margin;
    sg_features_free(f);
  }
  printf("smallest tonic margin of a correct chart: %.3f (fail threshold %.2f)\n", min_margin,
         SG_KEY_TONIC_MARGIN);
}

/* The phrase structure decides an i-IV vamp: bars 1, 3, 5, 7 and the first chord on Dm make
 * D the tonic (dorian), though the pitch-class set is G major's. */
static void dorian_vamp(void **state) {
  (void)state;
  for (int i = 0; i <= 8; ++i)
    bars[i] = i * BAR_S;
  sg_features *f = render("Dm | G | Dm | G | Dm | G | Dm | G");
  sg_key_check kc;
  judge(f, "D dorian", &kc);
  printf("i-IV vamp as D dorian: %s -> %d\n", kc.text, kc.verdict);
  assert_int_equal(kc.ev.tonic, 2);
  assert_int_equal(kc.ev.mode, SG_MODE_DORIAN);
  assert_int_equal(kc.verdict, 1);
  judge(f, "G major", &kc);
  printf("i-IV vamp as G major: %s -> %d\n", kc.text, kc.verdict);
  assert_int_not_equal(kc.verdict, 1);
  sg_features_free(f);
}

/* Weak evidence is not a failure: silence, drums alone and the aeolian loop Am-F-C-G under
 * either label are never failed, and a region under 6 s is not judged at all. */
static void weak_evidence_is_not_judged(void **state) {
  (void)state;
  for (int i = 0; i <= 8; ++i)
    bars[i] = i * BAR_S;
  const size_t n = (size_t)(8 * BAR_S * RATE);
  float *x = calloc(n, sizeof *x);
  assert_non_null(x);
  sg_features *f = NULL;
  assert_int_equal(sg_features_from_mono(&f, x, n, RATE, NULL, NULL), SG_OK);
  sg_key_check kc;
  judge(f, "C major", &kc); /* silence */
  assert_int_equal(kc.verdict, -1);
  sg_features_free(f);
  /* Drums only: kick- and hat-like noise bursts on every half second (seed printed). */
  sg_rng rng;
  sg_rng_seed(&rng, 11, 0);
  printf("drum seed 11\n");
  for (double t = 0; t < 8 * BAR_S; t += 0.5) {
    gen_burst(x, n, RATE, t, 0.4, 0.03, 0.15, &rng);
    gen_burst(x, n, RATE, t + 0.25, 0.15, 0.01, 0.05, &rng);
  }
  assert_int_equal(sg_features_from_mono(&f, x, n, RATE, NULL, NULL), SG_OK);
  for (int k = 0; k < 2; ++k) {
    judge(f, k ? "F# dorian" : "C major", &kc);
    printf("drums only as %s: %s -> %d\n", k ? "F# dorian" : "C major", kc.text, kc.verdict);
    assert_int_not_equal(kc.verdict, 0);
  }
  sg_features_free(f);
  free(x);
  /* The aeolian loop (vi-IV-I-V in its relative major) is heard either way: never failed. */
  f = render("Am | F | C | G | Am | F | C | G");
  for (int k = 0; k < 2; ++k) {
    judge(f, k ? "C major" : "A minor", &kc);
    printf("Am-F-C-G as %s: %s -> %d\n", k ? "C major" : "A minor", kc.text, kc.verdict);
    assert_int_not_equal(kc.verdict, 0);
  }
  sg_features_free(f);
  sg_key want;
  assert_int_equal(sg_key_parse("C major", &want, NULL), SG_OK);
  sg_key_grid g = {bars, 2, NULL, 0}; /* 4 s: too short */
  f = render("C | Am | C | Am | C | Am | C | Am");
  assert_int_equal(sg_key_check_grid(f, &g, &want, &kc), SG_E_RANGE);
  sg_features_free(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(modes_and_relatives),
      cmocka_unit_test(dorian_vamp),
      cmocka_unit_test(weak_evidence_is_not_judged),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
