/* Defaults that pass their own gates: every instrument with every patch at default settings, a
 * default band in every style and in odd meters, a song without drums and a song of drums alone
 * each render and pass every gate (a check that cannot judge a case says "not judged" instead
 * of failing). A new user who changed nothing must not get exit 1. */
#include "sg_test.h"

#include "stemgate/pipeline.h"
#include "stemgate/synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void quiet(void *u, const char *line) {
  (void)u;
  (void)line;
}

static int n_rendered;

static void render_ok(const char *tag, const char *spec_text) {
  char name[160];
  snprintf(name, sizeof name, "%s.yaml", tag);
  const char *spec = sg_test_path(name);
  assert_int_equal(sg_test_write_text(spec, spec_text), 0);
  sg_render_options o;
  sg_render_options_init(&o);
  o.spec_path = spec;
  snprintf(name, sizeof name, "out-%s", tag);
  o.out_dir = sg_test_path(name);
  o.jobs = 2;
  o.log = quiet;
  sg_render_result res;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_render(&o, &res, &d);
  if (st != SG_OK) {
    char msg[1200];
    printf("%s: %s\n%s", tag, sg_diag_format(&d, msg, sizeof msg), spec_text);
  }
  assert_int_equal(st, SG_OK);
  assert_int_equal(res.gates.failed, 0);
  ++n_rendered;
  sg_render_result_free(&res);
}

static void every_patch_at_its_defaults(void **st) {
  (void)st;
  for (int k = 0; k < SG_SYNTH_KIND_COUNT_; ++k) {
    const char *inst = sg_synth_kind_name((sg_synth_kind)k);
    if (!strcmp(inst, "drums") || !strcmp(inst, "soundfont"))
      continue; /* the drums below; the SoundFont in the GM test of test_render */
    const char *const *patches = sg_synth_patch_names((sg_synth_kind)k);
    for (int p = 0; patches && patches[p]; ++p) {
      char spec[1024], tag[96];
      snprintf(tag, sizeof tag, "%s-%s", inst, patches[p]);
      snprintf(spec, sizeof spec,
               "title: Default %s %s\n"
               "tempo: 110\n"
               "key: C major\n"
               "sections:\n"
               "  - {name: a, bars: 8, chords: \"C | Am | F | G\"}\n"
               "stems:\n"
               "  - {name: Part, instrument: %s, patch: \"%s\"}\n"
               "drums: {source: synth}\n",
               inst, patches[p], inst, patches[p]);
      render_ok(tag, spec);
    }
  }
}

static void default_band_in_every_style_and_odd_meters(void **st) {
  (void)st;
  static const char *const styles[] = {"pop", "bossa", "samba", "house"};
  static const char *const meters[] = {"4/4", "3/4", "7/8"};
  for (size_t i = 0; i < sizeof styles / sizeof *styles; ++i)
    for (size_t m = 0; m < sizeof meters / sizeof *meters; ++m) {
      if (m > 0 && i > 1)
        continue; /* odd meters in two styles keep the test short */
      char spec[1024], tag[64];
      snprintf(tag, sizeof tag, "%s-%c%c", styles[i], meters[m][0], meters[m][2]);
      snprintf(spec, sizeof spec,
               "title: Band %s\n"
               "tempo: 112\n"
               "meter: %s\n"
               "key: G major\n"
               "style: %s\n"
               "sections:\n"
               "  - {name: a, bars: 8, chords: \"G | Em | C | D\"}\n"
               "stems:\n"
               "  - {name: Keys, instrument: dx7}\n"
               "  - {name: Bass, instrument: moog_bass}\n"
               "drums: {source: synth}\n",
               tag, meters[m], styles[i]);
      render_ok(tag, spec);
    }
}

static void songs_without_drums_or_with_drums_alone(void **st) {
  (void)st;
  render_ok("pad-bass", "title: Pad Bass\n"
                        "tempo: 90\n"
                        "key: A minor\n"
                        "sections:\n"
                        "  - {name: a, bars: 8, chords: \"Am | F | C | G\"}\n"
                        "stems:\n"
                        "  - {name: Pad, instrument: prophet_poly, patch: pad}\n"
                        "  - {name: Bass, instrument: moog_bass}\n");
  render_ok("drums-only", "title: Drums Only\n"
                          "tempo: 120\n"
                          "sections:\n"
                          "  - {name: a, bars: 8}\n"
                          "drums: {source: synth}\n");
  printf("%d default renders passed every gate\n", n_rendered);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_patch_at_its_defaults),
      cmocka_unit_test(default_band_in_every_style_and_odd_meters),
      cmocka_unit_test(songs_without_drums_or_with_drums_alone),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
