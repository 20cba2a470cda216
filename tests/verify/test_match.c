/* File matching of stemgate verify: the spec's naming template (with {index} as a digit run and
 * extra leading folders), and the common-name fallback (case, separators, numbering, plurals,
 * families such as master/mix/main, drums/drum/kit). */
#include "sg_test.h"

#include "stemgate/package.h"

#include "stemgate/spec.h"
#include "verify/verify_internal.h"

#include <stdio.h>
#include <string.h>

static sg_song *load(const char *naming) {
  char text[1024];
  snprintf(text, sizeof text,
           "title: Deja Vu\ntempo: 140\nsections:\n  - {name: a, bars: 1}\n"
           "stems:\n  - {name: Bass, instrument: moog_bass}\n%s%s%s",
           naming ? "deliverable: {naming: \"" : "", naming ? naming : "", naming ? "\"}\n" : "");
  sg_song *s = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_song_parse(text, strlen(text), "t.yaml", &s, &d);
  if (st != SG_OK)
    fprintf(stderr, "%s\n", d.message);
  assert_int_equal(st, SG_OK);
  return s;
}

static void default_template(void **state) {
  (void)state;
  sg_song *s = load(NULL);
  char pat[256];
  sg_package_file_name(s, "Bass", -1, pat, sizeof pat);
  assert_string_equal(pat, "deja-vu_Bass.wav");
  assert_true(sg__name_match(pat, "deja-vu_Bass.wav"));
  assert_true(sg__name_match(pat, "DEJA-VU_bass.WAV"));         /* case-insensitive */
  assert_true(sg__name_match(pat, "deja-vu/deja-vu_Bass.wav")); /* a top folder */
  assert_false(sg__name_match(pat, "deja-vu_Bass.wav.bak"));
  assert_false(sg__name_match(pat, "xdeja-vu_Bass.wav"));
  assert_false(sg__name_match(pat, "deja-vu_Bass2.wav"));
  /* One rule for render and verify: a stem name with a space is found under the file-safe name
   * render gives it. */
  sg_package_file_name(s, "Lead Keys", -1, pat, sizeof pat);
  assert_string_equal(pat, "deja-vu_Lead_Keys.wav");
  char rendered[256];
  sg_package_file_name(s, "Lead Keys", 2, rendered, sizeof rendered);
  assert_true(sg__name_match(pat, rendered));
  sg_song_free(s);
}

static void template_fields(void **state) {
  (void)state;
  sg_song *s = load("stems/{index}-{song}-{stem}-{rate}-{format}.wav");
  char pat[256];
  sg_package_file_name(s, "Bass", -1, pat, sizeof pat);
  assert_true(sg__name_match(pat, "stems/03-deja-vu-Bass-48000-float32.wav"));
  assert_true(sg__name_match(pat, "stems/123-deja-vu-Bass-48000-float32.wav"));
  assert_false(sg__name_match(pat, "stems/-deja-vu-Bass-48000-float32.wav")); /* no digits */
  assert_false(sg__name_match(pat, "stems/0x-deja-vu-Bass-48000-float32.wav"));
  assert_false(sg__name_match(pat, "stems/03-deja-vu-Bass-44100-float32.wav"));
  sg_song_free(s);
}

static void common_names(void **state) {
  (void)state;
  struct {
    const char *stem;
    int master;
    const char *name;
    int want;
  } cases[] = {
      {"Master", 1, "master.wav", 1},
      {"Master", 1, "Deja Vu MIX.wav", 1},
      {"Master", 1, "deja-vu_main.WAV", 1},
      {"Master", 1, "pkg/Mixdown.wav", 1},
      {"Guitars", 0, "guitar.wav", 1},
      {"Guitars", 0, "GTR_stem.wav", 1},
      {"Guitar", 0, "Guitars.wav", 1},
      {"Synths", 0, "03 synth.wav", 1},
      {"Drums", 0, "drum.wav", 1},
      {"Drums", 0, "Drum Kit.wav", 1},
      {"Bridge", 0, "deja_vu-bridge.wav", 1},
      {"Bass", 0, "bass.wav", 1},
      {"Bass", 0, "synth bass.wav", 0},
      {"Bass", 0, "bass.txt", 0},
      {"Master", 1, "guitar.wav", 0},
      {"Drums", 0, "master.wav", 0},
      {"Bass", 0, "deja-vu.wav", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    int got = sg__common_match(cases[i].stem, cases[i].master, "deja-vu", cases[i].name);
    if (got != cases[i].want)
      fprintf(stderr, "%s vs '%s': got %d\n", cases[i].stem, cases[i].name, got);
    assert_int_equal(got, cases[i].want);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(default_template),
      cmocka_unit_test(template_fields),
      cmocka_unit_test(common_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
