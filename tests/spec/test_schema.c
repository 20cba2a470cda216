/* The loader validates everything a render would meet, before any audio: every case of
 * tests/support/schema_cases.h fails sg_song_load with SG_E_SPEC at the offending value's
 * line:col, with what is allowed and a did-you-mean; the tables are consistent; the generated
 * parameter reference in docs/spec.md matches the tables. */
#include "sg_test.h"

#include "schema_cases.h"
#include "stemgate/fx.h"
#include "stemgate/spec.h"
#include "stemgate/synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void write_bytes(const char *path, const char *b, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(b, 1, n, f), n);
  fclose(f);
}

static void every_case_fails_at_its_value(void **state) {
  (void)state;
  write_bytes(sg_test_path("ok.mid"), SCHEMA_OK_MID, sizeof SCHEMA_OK_MID - 1);
  write_bytes(sg_test_path("ok.sf2"), SCHEMA_OK_SF2, sizeof SCHEMA_OK_SF2 - 1);
  char path[1200];
  snprintf(path, sizeof path, "%s", sg_test_path("case.yaml"));
  int bad = 0;
  for (int i = 0; i < N_SCHEMA_CASES; ++i) {
    const schema_case *c = &k_schema_cases[i];
    assert_int_equal(sg_test_write_text(path, c->yaml), 0);
    sg_song *s = (sg_song *)1;
    sg_diag d;
    sg_status st = sg_song_load(path, &s, &d);
    char buf[800];
    sg_diag_format(&d, buf, sizeof buf);
    printf("  %-32s %s\n", c->name, strstr(buf, "case.yaml") ? strstr(buf, "case.yaml") : buf);
    if (st != SG_E_SPEC || s || d.line != c->line || d.col != c->col ||
        !strstr(d.message, c->phrase)) {
      print_error("case '%s': expected case.yaml:%d:%d: ...%s...\n", c->name, c->line, c->col,
                  c->phrase);
      ++bad;
    }
    if (st == SG_OK)
      sg_song_free(s);
  }
  assert_int_equal(bad, 0);
}

static void the_same_spec_with_good_values_loads(void **state) {
  (void)state;
  write_bytes(sg_test_path("ok.mid"), SCHEMA_OK_MID, sizeof SCHEMA_OK_MID - 1);
  write_bytes(sg_test_path("ok.sf2"), SCHEMA_OK_SF2, sizeof SCHEMA_OK_SF2 - 1);
  const char *yaml = SCHEMA_BASE "    patch: acid\n    style: bossa nova\n"
                                 "    params: {cutoff: 900}\n    pattern: \"x..x..x.\"\n"
                                 "    midi_file: ok.mid\n"
                                 "    effects:\n      - reverb: {rt60: 1.4, mix: 0.18}\n"
                                 "      - compressor: {sidechain: Drums}\n"
                                 "  - {name: Keys, instrument: soundfont, soundfont: ok.sf2}\n"
                                 "drums: {patch: \"909\", pattern: \"kick: x... hat: x.x.\"}\n";
  const char *path = sg_test_path("good.yaml");
  assert_int_equal(sg_test_write_text(path, yaml), 0);
  sg_song *s = NULL;
  sg_diag d;
  sg_status st = sg_song_load(path, &s, &d);
  if (st != SG_OK) {
    char buf[800];
    print_error("%s\n", sg_diag_format(&d, buf, sizeof buf));
  }
  assert_int_equal(st, SG_OK);
  assert_string_equal(s->stems[0].sidechain, "Drums");
  sg_song_free(s);
}

static void parse_from_text_checks_all_but_files(void **state) {
  (void)state;
  /* A string has no folder: the tables are checked, the files are not. */
  const char *yaml = SCHEMA_BASE "    midi_file: missing.mid\n";
  sg_song *s = NULL;
  sg_diag d;
  assert_int_equal(sg_song_parse(yaml, strlen(yaml), "t.yaml", &s, &d), SG_OK);
  sg_song_free(s);
  const char *typo = SCHEMA_BASE "    params: {cutof: 900}\n";
  assert_int_equal(sg_song_parse(typo, strlen(typo), "t.yaml", &s, &d), SG_E_SPEC);
  assert_int_equal(d.line, 9);
  assert_int_equal(d.col, 14);
}

static void tables_are_well_formed(void **state) {
  (void)state;
  /* Every default lies in its range (or choices), names are unique: the table is the contract. */
  for (int t = 0; t < sg_fx_type_count(); ++t) {
    const char *name;
    const sg_param_def *p;
    int n;
    assert_int_equal(sg_fx_type_schema(t, &name, NULL, &p, &n), SG_OK);
    for (int k = 0; k < n; ++k) {
      assert_non_null(p[k].doc);
      if (p[k].kind == SG_PARAM_NUMBER || p[k].kind == SG_PARAM_INTEGER) {
        /* rt60_low's 0 means "same as rt60": the one default outside its range. */
        if (strcmp(p[k].name, "rt60_low") != 0)
          assert_true(p[k].def >= p[k].lo && p[k].def <= p[k].hi);
      }
      if (p[k].kind == SG_PARAM_ENUM)
        assert_true(p[k].def >= 0 && p[k].def < sg_param_choice_count(p[k].choices));
      for (int j = 0; j < k; ++j)
        assert_string_not_equal(p[j].name, p[k].name);
    }
  }
  for (int kind = 0; kind < SG_SYNTH_KIND_COUNT_; ++kind) {
    const sg_param_def *p;
    int n;
    assert_int_equal(sg_synth_param_schema((sg_synth_kind)kind, &p, &n), SG_OK);
    assert_true(n > 0);
    for (int k = 0; k < n; ++k)
      assert_true(p[k].lo <= p[k].hi);
  }
}

static void docs_match_the_tables(void **state) {
  (void)state;
  /* docs/spec.md embeds the reference generated from the tables; regenerate it with
   * `stemgate check --schema` when a table changes. */
  FILE *f = fopen(sg_test_source("docs/spec.md"), "rb");
  assert_non_null(f);
  static char doc[1 << 18];
  size_t n = fread(doc, 1, sizeof doc - 1, f);
  fclose(f);
  doc[n] = '\0';
  const char *begin_mark = "<!-- schema:begin -->\n", *end_mark = "<!-- schema:end -->";
  char *b = strstr(doc, begin_mark), *e = strstr(doc, end_mark);
  assert_non_null(b);
  assert_non_null(e);
  b += strlen(begin_mark);
  *e = '\0';
  char *gen = NULL;
  assert_int_equal(sg_spec_reference_markdown(&gen), SG_OK);
  if (strcmp(b, gen) != 0)
    print_error("docs/spec.md differs from the parameter tables: paste the output of "
                "`stemgate check --schema` between the schema markers\n");
  assert_string_equal(b, gen);
  free(gen);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_case_fails_at_its_value),
      cmocka_unit_test(the_same_spec_with_good_values_loads),
      cmocka_unit_test(parse_from_text_checks_all_but_files),
      cmocka_unit_test(tables_are_well_formed),
      cmocka_unit_test(docs_match_the_tables),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
