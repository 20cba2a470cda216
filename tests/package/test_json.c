/* JSON writer and reader: escaping, UTF-8 handling, number round trips, hostile input. */
#include "sg_test.h"

#include "package/json.h"
#include "stemgate/package.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *render_string(const char *s, size_t n) {
  sg_json_writer w;
  sg_json_writer_init(&w, 0);
  sg_json_string_n(&w, s, n);
  assert_int_equal(sg_json_writer_status(&w), SG_OK);
  char *t = sg_json_writer_take(&w, NULL);
  sg_json_writer_free(&w);
  return t;
}

static void escapes_control_and_quotes(void **state) {
  (void)state;
  const char in[] = "a\"b\\c\n\t\r\b\f\x01\x1f\x7f/";
  char *t = render_string(in, sizeof in - 1);
  assert_string_equal(t, "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\\u007f/\"");
  free(t);
  /* NUL inside a counted string. */
  t = render_string("x\0y", 3);
  assert_string_equal(t, "\"x\\u0000y\"");
  free(t);
}

static void utf8_passes_and_invalid_is_replaced(void **state) {
  (void)state;
  /* é (2 bytes), € (3), 𝄞 (4) pass unchanged. */
  const char *ok = "\xC3\xA9 \xE2\x82\xAC \xF0\x9D\x84\x9E";
  char *t = render_string(ok, strlen(ok));
  char want[64];
  snprintf(want, sizeof want, "\"%s\"", ok);
  assert_string_equal(t, want);
  free(t);
  /* Lone continuation byte, overlong '/', surrogate U+D800, truncated sequence. */
  const char bad[] = "\x80|\xC0\xAF|\xED\xA0\x80|\xE2\x82";
  t = render_string(bad, sizeof bad - 1);
  /* Every byte of an invalid sequence becomes U+FFFD: the output is valid UTF-8 JSON. */
  sg_json_doc *doc = NULL;
  assert_int_equal(sg_json_parse(t, strlen(t), &doc, NULL), SG_OK);
  const sg_json_value *v = sg_json_root(doc);
  assert_int_equal(v->type, SG_JSON_STRING);
#define R "\xEF\xBF\xBD"
  assert_string_equal(v->str, R "|" R R "|" R R R "|" R R);
#undef R
  sg_json_doc_free(doc);
  free(t);
}

static void numbers_round_trip_and_nonfinite_is_null(void **state) {
  (void)state;
  const double xs[] = {0.1,  1.0 / 3.0, -23.000000000000004, 1e-300, 6.02214076e23, 48000,
                       -0.0, 2.5e-7,    9007199254740993.0,  5e-324};
  sg_json_writer w;
  sg_json_writer_init(&w, 0);
  sg_json_begin_array(&w);
  for (size_t i = 0; i < sizeof xs / sizeof *xs; ++i)
    sg_json_number(&w, xs[i]);
  sg_json_number(&w, NAN);
  sg_json_number(&w, INFINITY);
  sg_json_number(&w, -INFINITY);
  sg_json_int(&w, INT64_C(-9007199254740991));
  sg_json_end_array(&w);
  assert_int_equal(sg_json_writer_status(&w), SG_OK);
  size_t len;
  const char *t = sg_json_writer_text(&w, &len);
  /* Shortest forms: 0.1 stays "0.1", not 0.10000000000000001. */
  assert_true(strncmp(t, "[0.1,0.3333333333333333,", 24) == 0);
  assert_non_null(strstr(t, ",null,null,null,-9007199254740991]"));
  sg_json_doc *doc = NULL;
  assert_int_equal(sg_json_parse(t, len, &doc, NULL), SG_OK);
  const sg_json_value *a = sg_json_root(doc);
  assert_int_equal(a->n, sizeof xs / sizeof *xs + 4);
  for (size_t i = 0; i < sizeof xs / sizeof *xs; ++i) {
    const sg_json_value *v = sg_json_at(a, i);
    assert_int_equal(v->type, SG_JSON_NUMBER);
    assert_true(v->number == xs[i]); /* bit-exact (tolerance 0) */
  }
  assert_int_equal(sg_json_at(a, sizeof xs / sizeof *xs)->type, SG_JSON_NULL);
  sg_json_doc_free(doc);
  sg_json_writer_free(&w);
}

static void writer_structure_and_misuse(void **state) {
  (void)state;
  sg_json_writer w;
  sg_json_writer_init(&w, 1);
  sg_json_begin_object(&w);
  sg_json_kv_string(&w, "name", "Déjà vu");
  sg_json_key(&w, "empty");
  sg_json_begin_array(&w);
  sg_json_end_array(&w);
  sg_json_kv_bool(&w, "ok", 1);
  sg_json_key(&w, "nothing");
  sg_json_string(&w, NULL);
  sg_json_end_object(&w);
  assert_int_equal(sg_json_writer_status(&w), SG_OK);
  assert_string_equal(sg_json_writer_text(&w, NULL),
                      "{\n  \"name\": \"D\xC3\xA9j\xC3\xA0 vu\",\n  \"empty\": [],\n  \"ok\": true,"
                      "\n  \"nothing\": null\n}");
  sg_json_writer_free(&w);

  /* A value without a key inside an object is an error, and errors are sticky. */
  sg_json_writer_init(&w, 0);
  sg_json_begin_object(&w);
  sg_json_int(&w, 1);
  sg_json_end_object(&w);
  assert_int_equal(sg_json_writer_status(&w), SG_E_INVAL);
  assert_null(sg_json_writer_text(&w, NULL));
  sg_json_writer_free(&w);
  /* Unclosed containers. */
  sg_json_writer_init(&w, 0);
  sg_json_begin_array(&w);
  assert_int_equal(sg_json_writer_status(&w), SG_E_INVAL);
  sg_json_writer_free(&w);
  /* Too deep. */
  sg_json_writer_init(&w, 0);
  for (int i = 0; i < SG_JSON_MAX_DEPTH + 1; ++i)
    sg_json_begin_array(&w);
  assert_int_equal(sg_json_writer_status(&w), SG_E_LIMIT);
  sg_json_writer_free(&w);
}

static void reader_parses_escapes_and_objects(void **state) {
  (void)state;
  const char *t =
      " {\"a\": [1, -2.5e3, true, false, null], \"s\": \"x\\u00e9\\ud834\\udd1e\\n\\/\","
      " \"o\": {}, \"a\": 7} ";
  sg_json_doc *doc = NULL;
  assert_int_equal(sg_json_parse(t, strlen(t), &doc, NULL), SG_OK);
  const sg_json_value *r = sg_json_root(doc);
  assert_int_equal(r->type, SG_JSON_OBJECT);
  assert_int_equal(r->n, 4);
  const sg_json_value *a = sg_json_get(r, "a"); /* first match */
  assert_int_equal(a->type, SG_JSON_ARRAY);
  assert_int_equal(a->n, 5);
  assert_true(sg_json_at(a, 1)->number == -2500.0);
  assert_int_equal(sg_json_at(a, 2)->boolean, 1);
  assert_int_equal(sg_json_at(a, 4)->type, SG_JSON_NULL);
  assert_null(sg_json_at(a, 5));
  assert_string_equal(sg_json_get_str(r, "s", ""), "x\xC3\xA9\xF0\x9D\x84\x9E\n/");
  assert_int_equal(sg_json_get(r, "o")->n, 0);
  assert_true(sg_json_get_num(r, "missing", 42) == 42);
  assert_string_equal(sg_json_get_str(r, "a", "def"), "def"); /* mistyped -> default */
  sg_json_doc_free(doc);
}

static void reader_rejects_hostile_input(void **state) {
  (void)state;
  const char *bad[] = {"",
                       "{",
                       "[1,]",
                       "{\"a\":1,}",
                       "01",
                       "1.",
                       "-",
                       "1e",
                       "\"abc",
                       "\"\\x\"",
                       "\"\\u12\"",
                       "\"\\ud800\"",
                       "\"\\udc00x\"",
                       "\"a\nb\"",
                       "tru",
                       "nul",
                       "[1] [2]",
                       "{\"a\" 1}",
                       "{1:2}",
                       "\"\xC0\xAF\"",
                       "\xEF\xBB\xBF{}",
                       "1e999",
                       "NaN",
                       "[-Infinity]",
                       "'a'"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
    sg_json_doc *doc = (sg_json_doc *)1;
    sg_diag d;
    sg_diag_clear(&d);
    sg_status st = sg_json_parse(bad[i], strlen(bad[i]), &doc, &d);
    if (st == SG_OK)
      fail_msg("accepted bad JSON #%zu: %s", i, bad[i]);
    assert_null(doc);
    assert_true(d.line >= 1 && d.col >= 1);
    assert_true(strlen(d.message) > 5);
  }
  /* Error position: line 2, column 6. */
  sg_diag d;
  sg_diag_clear(&d);
  sg_json_doc *doc = NULL;
  assert_int_equal(sg_json_parse("[1,\n  2, x]", 11, &doc, &d), SG_E_PARSE);
  assert_int_equal(d.line, 2);
  assert_int_equal(d.col, 6);
  /* Deep nesting is refused, not a stack overflow. */
  size_t n = 100000;
  char *deep = malloc(n);
  memset(deep, '[', n);
  assert_int_equal(sg_json_parse(deep, n, &doc, NULL), SG_E_LIMIT);
  memset(deep, '[', 64);
  memset(deep + 64, ']', 64);
  assert_int_equal(sg_json_parse(deep, 128, &doc, NULL), SG_OK);
  sg_json_doc_free(doc);
  memset(deep, '[', 65);
  memset(deep + 65, ']', 65);
  assert_int_equal(sg_json_parse(deep, 130, &doc, NULL), SG_E_LIMIT);
  free(deep);
}

static void reader_survives_random_mutations(void **state) {
  (void)state;
  const char *base =
      "{\"files\": [{\"archive_name\": \"stems/Bass.wav\", \"sha256\": \"ab\", "
      "\"audio\": {\"frames\": 96000, \"x\": [1.5e-3, true, null]}}], \"t\": \"\\u00e9\"}";
  size_t n = strlen(base);
  char *buf = malloc(n + 1);
  sg_rng rng;
  uint64_t seed = 20261124;
  print_message("mutation seed %llu\n", (unsigned long long)seed);
  sg_rng_seed(&rng, seed, 1);
  size_t accepted = 0;
  for (int it = 0; it < 20000; ++it) {
    memcpy(buf, base, n + 1);
    int flips = 1 + (int)(sg_rng_u32(&rng) % 4);
    for (int k = 0; k < flips; ++k)
      buf[sg_rng_u32(&rng) % n] = (char)(sg_rng_u32(&rng) & 0xFF);
    size_t len = sg_rng_u32(&rng) % 8 == 0 ? sg_rng_u32(&rng) % (n + 1) : n;
    sg_json_doc *doc = NULL;
    if (sg_json_parse(buf, len, &doc, NULL) == SG_OK) {
      assert_non_null(sg_json_root(doc));
      accepted++;
      sg_json_doc_free(doc);
    } else
      assert_null(doc);
  }
  /* Some mutations (inside strings) keep the text valid; most do not. */
  assert_true(accepted > 0 && accepted < 20000);
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(escapes_control_and_quotes),
      cmocka_unit_test(utf8_passes_and_invalid_is_replaced),
      cmocka_unit_test(numbers_round_trip_and_nonfinite_is_null),
      cmocka_unit_test(writer_structure_and_misuse),
      cmocka_unit_test(reader_parses_escapes_and_objects),
      cmocka_unit_test(reader_rejects_hostile_input),
      cmocka_unit_test(reader_survives_random_mutations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
