/* Core: status table, diagnostics formatting, PCG32 determinism, SHA-256 known answers. */
#include "sg_test.h"

#include "core/sort.h"
#include "stemgate/core.h"
#include "stemgate/notes.h"

#include <stdlib.h>
#include <string.h>

static void status_names_and_messages(void **state) {
  (void)state;
  assert_string_equal(sg_status_name(SG_OK), "SG_OK");
  assert_string_equal(sg_status_name(SG_E_GATE), "SG_E_GATE");
  assert_string_equal(sg_status_name((sg_status)999), "SG_E_UNKNOWN");
  for (int s = 0; s < SG_STATUS_COUNT_; ++s)
    assert_true(strlen(sg_status_message((sg_status)s)) > 3);
}

static void diag_formats_position_and_values(void **state) {
  (void)state;
  sg_diag d;
  sg_diag_clear(&d);
  sg_diag_at(&d, "song.yaml", 12, 7);
  assert_int_equal(sg_diag_fail(&d, SG_E_SPEC, "unknown key 'tmepo'"), SG_E_SPEC);
  char buf[600];
  assert_string_equal(sg_diag_format(&d, buf, sizeof buf), "song.yaml:12:7: unknown key 'tmepo'");
  sg_diag_clear(&d);
  sg_diag_where(&d, "master", "master", "true_peak");
  sg_diag_value(&d, -0.4, -1.0, "dBTP");
  sg_diag_fail(&d, SG_E_GATE, "true peak above the ceiling");
  assert_string_equal(sg_diag_format(&d, buf, sizeof buf),
                      "master/master/true_peak: true peak above the ceiling (measured -0.4 dBTP, "
                      "limit -1 dBTP)");
  /* Truncation never overflows and stays terminated. */
  char small[10];
  sg_diag_format(&d, small, sizeof small);
  assert_int_equal(strlen(small), 9);
}

static void rng_is_deterministic(void **state) {
  (void)state;
  sg_rng a, b;
  sg_rng_seed(&a, 42, 54);
  sg_rng_seed(&b, 42, 54);
  for (int i = 0; i < 1000; ++i)
    assert_int_equal(sg_rng_u32(&a), sg_rng_u32(&b));
  /* PCG32 reference output for seed 42, stream 54 (pcg32-demo). */
  sg_rng_seed(&a, 42, 54);
  assert_int_equal(sg_rng_u32(&a), 0xa15c02b7u);
  assert_int_equal(sg_rng_u32(&a), 0x7b47f409u);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    float t = sg_rng_tpdf(&a);
    assert_true(t > -1.0f && t < 1.0f);
    sum += t;
  }
  assert_true(sum / 100000 < 0.01 && sum / 100000 > -0.01);
}

static void sha256_known_answer(void **state) {
  (void)state;
  sg_sha256 h;
  char hex[65];
  assert_int_equal(sg_sha256_init(&h), SG_OK);
  assert_int_equal(sg_sha256_update(&h, "abc", 3), SG_OK);
  assert_int_equal(sg_sha256_final(&h, hex), SG_OK);
  assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *p = sg_test_path("abc.txt");
  assert_int_equal(sg_test_write_text(p, "abc"), 0);
  char hex2[65];
  assert_int_equal(sg_sha256_file(p, hex2, NULL), SG_OK);
  assert_string_equal(hex, hex2);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_sha256_file(sg_test_path("missing"), hex2, &d), SG_E_IO);
  assert_non_null(strstr(d.message, "missing"));
}

static void notes_sort_is_stable(void **state) {
  (void)state;
  sg_note_list l;
  sg_notes_init(&l);
  for (int i = 0; i < 1000; ++i) {
    sg_note n = {.start = (i * 7919) % 97, .length = 10, .key = 60, .velocity = 0.5f, .group = i};
    assert_int_equal(sg_notes_push(&l, &n), SG_OK);
  }
  sg_notes_sort(&l);
  for (size_t i = 1; i < l.n; ++i) {
    assert_true(l.v[i - 1].start <= l.v[i].start);
    if (l.v[i - 1].start == l.v[i].start)
      assert_true(l.v[i - 1].group < l.v[i].group);
  }
  sg_notes_free(&l);
}

/* The reference order: by start, then key, then first pushed (group holds the push index). */
static int ref_cmp(const void *pa, const void *pb) {
  const sg_note *a = pa, *b = pb;
  if (a->start != b->start)
    return a->start < b->start ? -1 : 1;
  if (a->key != b->key)
    return a->key < b->key ? -1 : 1;
  return (a->group > b->group) - (a->group < b->group);
}

/* The in-place sort gives the one stable order, ties included, for lengths around its block and
 * merge sizes and for sorted, reversed and tie-heavy lists; trim keeps the notes, drops the slack.
 */
static void notes_sort_in_place_matches_stable_order(void **state) {
  (void)state;
  sg_rng r;
  sg_rng_seed(&r, 7, 1);
  const size_t lens[] = {0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 205, 257, 1000, 4099, 20000};
  for (size_t li = 0; li < sizeof lens / sizeof *lens; ++li) {
    for (int kind = 0; kind < 4; ++kind) {
      size_t n = lens[li];
      sg_note_list l;
      sg_notes_init(&l);
      sg_note *ref = malloc((n ? n : 1) * sizeof *ref);
      assert_non_null(ref);
      for (size_t i = 0; i < n; ++i) {
        uint32_t u = sg_rng_u32(&r);
        int64_t start = kind == 0   ? (int64_t)(u % 50)      /* many ties */
                        : kind == 1 ? (int64_t)i             /* sorted */
                        : kind == 2 ? (int64_t)(n - i)       /* reversed */
                                    : (int64_t)(u % 100000); /* spread */
        sg_note x = {.start = start, .length = 1, .key = (int)((u >> 24) % 3), .group = (int)i};
        assert_int_equal(sg_notes_push(&l, &x), SG_OK);
        ref[i] = x;
      }
      qsort(ref, n, sizeof *ref, ref_cmp);
      sg_notes_sort(&l);
      sg_notes_trim(&l);
      assert_int_equal(l.n, n);
      assert_int_equal(l.cap, n);
      for (size_t i = 0; i < n; ++i) {
        assert_int_equal(l.v[i].start, ref[i].start);
        assert_int_equal(l.v[i].key, ref[i].key);
        assert_int_equal(l.v[i].group, ref[i].group);
      }
      free(ref);
      sg_notes_free(&l);
    }
  }
}

/* The widest elements (64 bytes: the scratch holds 128) through merges far longer than the
 * scratch, so the divided merge runs both ways (the longer run on the left, then on the right, in
 * its recursion) on few-valued, sorted, reversed and spread keys; equal keys keep their order. */
typedef struct wide {
  int key, seq;
  char pad[SG__SORT_MAX_SIZE - 2 * sizeof(int)];
} wide;
static int wide_less(const void *a, const void *b) {
  return ((const wide *)a)->key < ((const wide *)b)->key;
}
static int wide_cmp(const void *a, const void *b) {
  const wide *x = a, *y = b;
  return x->key != y->key ? (x->key > y->key) - (x->key < y->key)
                          : (x->seq > y->seq) - (x->seq < y->seq);
}
static void stable_sort_wide_elements(void **state) {
  (void)state;
  sg_rng r;
  sg_rng_seed(&r, 11, 3);
  const size_t lens[] = {129, 300, 1000, 5000};
  for (size_t li = 0; li < sizeof lens / sizeof *lens; ++li)
    for (int kind = 0; kind < 5; ++kind) {
      size_t n = lens[li];
      wide *v = calloc(n, sizeof *v), *ref = calloc(n, sizeof *ref);
      assert_non_null(v);
      assert_non_null(ref);
      for (size_t i = 0; i < n; ++i) {
        uint32_t u = sg_rng_u32(&r);
        v[i].key = kind == 0   ? (int)(u % 2)
                   : kind == 1 ? (int)(u % 50)
                   : kind == 2 ? (int)(i / 7)
                   : kind == 3 ? (int)((n - i) / 3)
                               : (int)(u % 100000);
        v[i].seq = (int)i;
        ref[i] = v[i];
      }
      qsort(ref, n, sizeof *ref, wide_cmp);
      sg__stable_sort(v, n, sizeof *v, wide_less);
      for (size_t i = 0; i < n; ++i) {
        assert_int_equal(v[i].key, ref[i].key);
        assert_int_equal(v[i].seq, ref[i].seq);
      }
      free(v);
      free(ref);
    }
}

static void levels_and_pitch(void **state) {
  (void)state;
  assert_float_equal(sg_db_to_lin(-6.0206), 0.5, 1e-4);
  assert_float_equal(sg_lin_to_db(0.1), -20.0, 1e-9);
  assert_float_equal(sg_lin_to_db(0.0), -200.0, 0);
  assert_float_equal(sg_midi_to_hz(69), 440.0, 1e-9);
  assert_float_equal(sg_hz_to_midi(261.6255653), 60.0, 1e-6);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(status_names_and_messages),
      cmocka_unit_test(diag_formats_position_and_values),
      cmocka_unit_test(rng_is_deterministic),
      cmocka_unit_test(sha256_known_answer),
      cmocka_unit_test(notes_sort_is_stable),
      cmocka_unit_test(notes_sort_in_place_matches_stable_order),
      cmocka_unit_test(stable_sort_wide_elements),
      cmocka_unit_test(levels_and_pitch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
