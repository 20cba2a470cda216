/* Variations: a spec's variations: block expands into named variants (the cartesian product in
 * the block's order, or an explicit list), each read by the same parser with its values at their
 * keys: the values land where the same key at top level (or every section's energy, or the
 * drums' block) would put them, the rest of the song stays as written, and a bad value fails
 * with the line:col of the value and the message of its own key. */
#include "sg_test.h"

#include "stemgate/spec.h"

#include <stdio.h>
#include <string.h>

#define BASE                                                                                       \
  "title: V\n"                                                                                     \
  "tempo: 120\n"                                                                                   \
  "seed: 5\n"                                                                                      \
  "sections:\n"                                                                                    \
  "  - name: a\n"                                                                                  \
  "    bars: 2\n"                                                                                  \
  "  - name: b\n"                                                                                  \
  "    bars: 2\n"                                                                                  \
  "    energy: sparse\n"                                                                           \
  "stems:\n"                                                                                       \
  "  - name: Bass\n"                                                                               \
  "    instrument: moog_bass\n"                                                                    \
  "drums:\n"                                                                                       \
  "  source: synth\n"
/* BASE is 14 lines: a variations block starts at line 15. */

static const char *spec_file(const char *name, const char *text) {
  const char *p = sg_test_path(name);
  assert_int_equal(sg_test_write_text(p, text), 0);
  return p;
}

static sg_song *variant(const char *path, const char *name) {
  sg_song *s = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_song_load_variant(path, name, &s, &d);
  if (st != SG_OK) {
    char buf[700];
    print_error("%s: %s\n", name, sg_diag_format(&d, buf, sizeof buf));
  }
  assert_int_equal(st, SG_OK);
  assert_string_equal(s->variant, name);
  return s;
}

static void product_names_order_and_values(void **state) {
  (void)state;
  const char *p = spec_file("prod.yaml", BASE "variations:\n"
                                              "  key: [C major, 'F# minor']\n"
                                              "  tempo: [96, 104.5]\n"
                                              "  energy: full\n");
  sg_variant_list vl;
  sg_diag d;
  assert_int_equal(sg_song_variants(p, &vl, &d), SG_OK);
  assert_int_equal(vl.n, 4);
  /* The first axis varies slowest; values name the variant. */
  assert_string_equal(vl.names[0], "key_C_major-tempo96-energy_full");
  assert_string_equal(vl.names[1], "key_C_major-tempo104.5-energy_full");
  assert_string_equal(vl.names[2], "key_Fsharp_minor-tempo96-energy_full");
  assert_string_equal(vl.names[3], "key_Fsharp_minor-tempo104.5-energy_full");
  sg_song *s = variant(p, vl.names[3]);
  assert_string_equal(s->key.s, "F# minor");
  assert_int_equal(s->tempo.num, 1045); /* the tempo parser's exact decimal */
  assert_int_equal(s->tempo.den, 10);
  /* energy replaces every section's, also one given in the section. */
  assert_string_equal(s->sections[0].energy.s, "full");
  assert_string_equal(s->sections[1].energy.s, "full");
  assert_int_equal(s->seed, 5); /* untouched keys stay as written */
  assert_int_equal(s->variations_pos.line, 15);
  sg_song_free(s);
  sg_variant_list_free(&vl);
  /* The spec as written is the base song, which knows it has variations. */
  sg_song *base = NULL;
  assert_int_equal(sg_song_load(p, &base, &d), SG_OK);
  assert_string_equal(base->variant, "");
  assert_string_equal(base->key.s, "C major");
  assert_int_equal(base->variations_pos.line, 15);
  sg_song_free(base);
}

static void list_form_names_and_drum_seed(void **state) {
  (void)state;
  const char *p = spec_file("list.yaml", BASE "variations:\n"
                                              "  - {drums.seed: 9}\n"
                                              "  - {name: Loud-2, style: house, seed: 3}\n");
  sg_variant_list vl;
  sg_diag d;
  assert_int_equal(sg_song_variants(p, &vl, &d), SG_OK);
  assert_int_equal(vl.n, 2);
  assert_string_equal(vl.names[0], "drums_seed9");
  assert_string_equal(vl.names[1], "Loud-2");
  sg_song *a = variant(p, "drums_seed9");
  assert_int_equal(a->drums.has_seed, 1);
  assert_int_equal(a->drums.seed, 9);
  assert_int_equal(a->seed, 5); /* the song's seed is not the drums' */
  sg_song_free(a);
  sg_song *b = variant(p, "Loud-2");
  assert_int_equal(b->drums.has_seed, 0);
  assert_int_equal(b->seed, 3);
  assert_string_equal(b->style.s, "house");
  sg_song_free(b);
  sg_song *none = NULL;
  assert_int_equal(sg_song_load_variant(p, "nope", &none, &d), SG_E_NOTFOUND);
  assert_null(none);
  assert_non_null(strstr(d.message, "drums_seed9, Loud-2"));
  sg_variant_list_free(&vl);
  /* A spec without the block has no variants. */
  const char *q = spec_file("plain.yaml", BASE);
  assert_int_equal(sg_song_variants(q, &vl, &d), SG_OK);
  assert_int_equal(vl.n, 0);
}

/* Each bad block fails at line:col with a phrase of its message. */
static void expect_bad(const char *block, int line, int col, const char *phrase) {
  char text[2048];
  snprintf(text, sizeof text, "%svariations:\n%s", BASE, block);
  const char *p = spec_file("bad.yaml", text);
  sg_variant_list vl;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_song_variants(p, &vl, &d);
  char buf[800];
  sg_diag_format(&d, buf, sizeof buf);
  if (st != SG_E_SPEC || d.line != line || d.col != col || !strstr(d.message, phrase))
    print_error("expected :%d:%d: ...%s...\n     got %s\n", line, col, phrase, buf);
  assert_int_equal(st, SG_E_SPEC);
  assert_int_equal(d.line, line);
  assert_int_equal(d.col, col);
  assert_non_null(strstr(d.message, phrase));
  assert_int_equal(vl.n, 0);
}

static void bad_values_at_their_line_and_column(void **state) {
  (void)state;
  /* The value's own key's checks, at the value. */
  expect_bad("  tempo: [100, fast]\n", 16, 16, "tempo");
  expect_bad("  energy: [full, loud]\n", 16, 18, "'energy' must be one of sparse, normal, full");
  expect_bad("  - {seed: 1}\n  - {seed: x}\n", 17, 12, "'seed' must be a whole number");
  expect_bad("  drums.seed: [1, -1]\n", 16, 19, "'seed' must be a whole number");
  expect_bad("  style: [pop, polka]\n", 16, 16, "polka");
  /* The block's own shape. */
  expect_bad("  tmpo: [1]\n", 16, 3, "did you mean 'tempo'");
  expect_bad("  seed: []\n", 16, 9, "has no values");
  expect_bad("  - {name: a b, seed: 1}\n", 16, 12, "a variant's name");
  expect_bad("  - {seed: 1}\n  - {seed: 1}\n", 17, 12, "both named 'seed1'");
  expect_bad("  - {name: only}\n", 16, 5, "changes nothing");
  expect_bad("  42\n", 16, 3, "'variations' must be a mapping");
}

static void drums_axis_needs_a_drums_block(void **state) {
  (void)state;
  const char *p = spec_file("nodrums.yaml", "title: V\ntempo: 120\nsections:\n"
                                            "  - name: a\n    bars: 2\n"
                                            "stems:\n  - {name: Keys, instrument: dx7}\n"
                                            "variations:\n  drums.style: [pop, house]\n");
  sg_variant_list vl;
  sg_diag d;
  assert_int_equal(sg_song_variants(p, &vl, &d), SG_E_SPEC);
  assert_int_equal(d.line, 9);
  assert_int_equal(d.col, 17);
  assert_non_null(strstr(d.message, "no 'drums' block"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(product_names_order_and_values),
      cmocka_unit_test(list_form_names_and_drum_seed),
      cmocka_unit_test(bad_values_at_their_line_and_column),
      cmocka_unit_test(drums_axis_needs_a_drums_block),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
