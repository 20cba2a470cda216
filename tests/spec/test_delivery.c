/* Spec: the delivery: block (src/spec/spec_delivery.c). A brief parses into lists and ranges;
 * every malformed value fails with SG_E_SPEC at its exact line:col and says what is allowed;
 * absent keys keep the spec's own values (the queries answer with sample_rate, format, ...). */
#include "sg_test.h"

#include "stemgate/spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SPEC                                                                                   \
  "title: T\n"                                                                                     \
  "tempo: 120\n"                                                                                   \
  "sample_rate: 48000\n"                                                                           \
  "format: float32\n"                                                                              \
  "sections:\n"                                                                                    \
  "  - name: a\n"                                                                                  \
  "    bars: 4\n"                                                                                  \
  "stems:\n"                                                                                       \
  "  - name: Bass\n"                                                                               \
  "    instrument: moog_bass\n"                                                                    \
  "  - name: Guitars\n"                                                                            \
  "    instrument: guitar\n"

static void expect_fail(const char *yaml, int line, int col, const char *phrase) {
  sg_song *s = NULL;
  sg_diag d;
  sg_status st = sg_song_parse(yaml, strlen(yaml), "song.yaml", &s, &d);
  char buf[700];
  sg_diag_format(&d, buf, sizeof buf);
  if (st != SG_E_SPEC || d.line != line || d.col != col || !strstr(d.message, phrase))
    print_error("expected song.yaml:%d:%d: ...%s...\n     got %s [%s]\n", line, col, phrase, buf,
                sg_status_name(st));
  assert_int_equal(st, SG_E_SPEC);
  assert_int_equal(d.line, line);
  assert_int_equal(d.col, col);
  assert_non_null(strstr(d.message, phrase));
  sg_song_free(s);
}

static void brief_parses(void **state) {
  (void)state;
  const char *y = MIN_SPEC "delivery:\n"
                           "  sample_rates: [48000, 44100]\n"
                           "  formats: [pcm24, float32]\n"
                           "  channels: [2]\n"
                           "  length_s: [10, 12]\n"
                           "  loudness_lufs: [-16, -8]\n"
                           "  true_peak_dbtp: -0.1\n"
                           "  stems: [Guitars]\n"
                           "  manifest: optional\n";
  sg_song *s = NULL;
  sg_diag d;
  assert_int_equal(sg_song_parse(y, strlen(y), "song.yaml", &s, &d), SG_OK);
  const sg_delivery_spec *dl = &s->delivery;
  assert_true(dl->given);
  assert_int_equal(dl->n_rates, 2);
  assert_true(sg_delivery_rate_ok(s, 44100) && !sg_delivery_rate_ok(s, 96000));
  assert_true(sg_delivery_format_ok(s, SG_FMT_PCM24) && !sg_delivery_format_ok(s, SG_FMT_PCM16));
  assert_true(sg_delivery_channels_ok(s, 2) && !sg_delivery_channels_ok(s, 1));
  assert_true(dl->has_loudness && dl->loudness_lufs[0] == -16 && dl->loudness_lufs[1] == -8);
  assert_true(dl->has_true_peak && dl->true_peak_dbtp == -0.1);
  assert_true(dl->has_length && dl->length_s[1] == 12);
  assert_true(sg_delivery_requires(s, "guitars") && !sg_delivery_requires(s, "Bass"));
  assert_int_equal(dl->manifest, SG_MANIFEST_OPTIONAL);
  char t[64];
  sg_delivery_formats_text(s, t, sizeof t);
  assert_string_equal(t, "pcm24|float32");
  sg_song_free(s);
  /* Without the block: the spec's own values. */
  assert_int_equal(sg_song_parse(MIN_SPEC, strlen(MIN_SPEC), "song.yaml", &s, &d), SG_OK);
  assert_false(s->delivery.given);
  assert_true(sg_delivery_rate_ok(s, 48000) && !sg_delivery_rate_ok(s, 44100));
  assert_true(sg_delivery_format_ok(s, SG_FMT_FLOAT32) && !sg_delivery_format_ok(s, SG_FMT_PCM24));
  assert_true(sg_delivery_requires(s, "Bass"));
  assert_int_equal(s->delivery.manifest, SG_MANIFEST_DEFAULT);
  sg_delivery_rates_text(s, t, sizeof t);
  assert_string_equal(t, "48000");
  sg_song_free(s);
}

static void malformed_delivery(void **state) {
  (void)state;
  /* line 13 is "delivery:", its keys start at line 14 column 3. */
  expect_fail(MIN_SPEC "delivery:\n  format: [pcm24]\n", 14, 3, "did you mean 'formats'");
  expect_fail(MIN_SPEC "delivery:\n  formats: [pcm42]\n", 14, 13, "did you mean 'pcm24'");
  expect_fail(MIN_SPEC "delivery:\n  formats: pcm24\n", 14, 12, "must be a list");
  expect_fail(MIN_SPEC "delivery:\n  sample_rates: [48000, 4]\n", 14, 25, "not a sample rate");
  expect_fail(MIN_SPEC "delivery:\n  loudness_lufs: [-8, -16]\n", 14, 18, "minimum is above");
  expect_fail(MIN_SPEC "delivery:\n  loudness_lufs: -14\n", 14, 18, "range [min, max]");
  expect_fail(MIN_SPEC "delivery:\n  true_peak_dbtp: loud\n", 14, 19, "must be a number");
  expect_fail(MIN_SPEC "delivery:\n  stems: [Guitars, Drums]\n", 14, 20, "not a stem");
  expect_fail(MIN_SPEC "delivery:\n  stems: [Gutars]\n", 14, 11, "did you mean 'Guitars'");
  expect_fail(MIN_SPEC "delivery:\n  stems: [Bass, bass]\n", 14, 17, "listed twice");
  expect_fail(MIN_SPEC "delivery:\n  manifest: requird\n", 14, 13, "did you mean 'required'");
  expect_fail(MIN_SPEC "delivery:\n  manifest: optional\n  manifest: required\n", 15, 3,
              "given twice");
  expect_fail(MIN_SPEC "delivery: yes\n", 13, 11, "must be a mapping");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(brief_parses),
      cmocka_unit_test(malformed_delivery),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
