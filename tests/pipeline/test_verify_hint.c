/* The master's analysis lent to verify by content hash (sg_verify_options.lender): a render's
 * final verification takes the master step's meter and features when the zip's master entry
 * hashes as the master it analysed, and the rows are then the ones a full analysis gives
 * (16-bit, dithered: the tap saw the samples the file holds); features lent with the entry's
 * hash are the ones used (a decoy changes the tempo and key rows); a master entry with one
 * changed byte is analysed in full, so even decoy features lent with the original hash change
 * nothing in its report. */
#include "sg_test.h"

#include "stemgate/analysis.h"
#include "stemgate/pipeline.h"
#include "stemgate/spec.h"
#include "stemgate/verify.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

static const char *SONG = "title: Hint\n"
                          "tempo: 120\n"
                          "key: A minor\n"
                          "seed: 5\n"
                          "format: pcm16\n"
                          "sections:\n"
                          "  - {name: a, bars: 3, chords: \"Am | F | G\"}\n"
                          "stems:\n"
                          "  - {name: Keys, instrument: dx7, patch: epiano}\n"
                          "  - {name: Bass, instrument: moog_bass, gain_db: -3}\n"
                          "drums: {source: synth, style: pop}\n"
                          "master: {loudness_lufs: -14, true_peak_dbtp: -1.0}\n";

static char g_zip[1024], g_dir[1024], g_spec[1024];
static int g_lent_logged;
static sg_song *g_song;

static void on_log(void *u, const char *line) {
  (void)u;
  if (strstr(line, "4 of 4 files measured as they were written"))
    g_lent_logged = 1;
}

/* Lends one analysis (meter of the file at meter_path, features feat) for the bytes hashing to
 * sha; counts the loans taken. */
typedef struct one_loan {
  const char *sha;
  sg_meter *meter;
  const sg_features *feat;
  int taken;
} one_loan;

static int borrow(void *user, const char *sha256, sg_verify_loan *loan) {
  one_loan *l = user;
  if (strcmp(sha256, l->sha))
    return 0;
  loan->meter = l->meter;
  loan->features = l->feat;
  l->taken++;
  return 1;
}

static int is_master_lent(const sg_verify_result *r) {
  for (int f = 0; f < r->n_files; ++f)
    if (r->files[f].is_master)
      return r->files[f].lent;
  return 0;
}

static int setup(void **state) {
  (void)state;
  snprintf(g_spec, sizeof g_spec, "%s", sg_test_path("hint.yaml"));
  if (sg_test_write_text(g_spec, SONG) != 0)
    return -1;
  sg_render_options o;
  sg_render_options_init(&o);
  o.spec_path = g_spec;
  snprintf(g_dir, sizeof g_dir, "%s", sg_test_path("out"));
  o.out_dir = g_dir;
  o.log = on_log;
  sg_render_result res;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_render(&o, &res, &d);
  if (st != SG_OK)
    fprintf(stderr, "render: %s\n", d.message);
  snprintf(g_zip, sizeof g_zip, "%s", res.zip_path);
  sg_render_result_free(&res);
  if (st != SG_OK)
    return -1;
  sg_diag_clear(&d);
  return sg_song_load(g_spec, &g_song, &d) == SG_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sg_song_free(g_song);
  return 0;
}

static char g_master[1200]; /* the delivered master (its meter is the one lent) */

/* Verifies zip against the song, lending the master's meter and feat with sha when given. */
static sg_status verify(const char *zip, const sg_features *feat, const char *sha,
                        sg_verify_result *r) {
  sg_verify_options o;
  sg_verify_options_init(&o);
  o.package = zip;
  o.measure_all = 1;
  one_loan l = {sha, NULL, feat, 0};
  sg_verify_lender lender = {borrow, NULL, &l, NULL};
  sg_diag d;
  sg_diag_clear(&d);
  if (feat) {
    sg_meter_result mr;
    assert_int_equal(sg_meter_file(g_master, SG_METER_ALL, &mr, &l.meter, &d), SG_OK);
    o.lender = &lender;
  }
  sg_status st = sg_verify_package(g_song, &o, r, &d);
  sg_meter_free(l.meter);
  return st;
}

static int same_number(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

/* Rows equal in order: check, stem, measured (bit for bit), verdict and detail. */
static int same_rows(const sg_gate_report *a, const sg_gate_report *b) {
  if (a->n != b->n) {
    fprintf(stderr, "%zu rows against %zu\n", a->n, b->n);
    return 0;
  }
  for (size_t i = 0; i < a->n; ++i) {
    const sg_gate_result *x = &a->v[i], *y = &b->v[i];
    if (strcmp(x->check, y->check) || strcmp(x->stem, y->stem) ||
        !same_number(x->measured, y->measured) || x->pass != y->pass ||
        strcmp(x->detail, y->detail)) {
      char l1[600], l2[600];
      fprintf(stderr, "row %zu differs:\n  %s\n  %s\n", i, sg_gate_result_format(x, l1, sizeof l1),
              sg_gate_result_format(y, l2, sizeof l2));
      return 0;
    }
  }
  return 1;
}

/* Rows of the master's tempo and keys that differ between a and b (same row order). */
static int tempo_key_rows_differing(const sg_gate_report *a, const sg_gate_report *b) {
  int n = 0;
  for (size_t i = 0; i < a->n && i < b->n; ++i) {
    const sg_gate_result *x = &a->v[i], *y = &b->v[i];
    if (x->id != SG_CHECK_TEMPO && x->id != SG_CHECK_KEY)
      continue;
    n += !same_number(x->measured, y->measured) || strcmp(x->detail, y->detail);
  }
  return n;
}

/* The delivered file of the package entry whose name ends in suffix. */
static void delivered(const char *suffix, char *out, size_t cap) {
  sg_verify_result r;
  assert_int_equal(verify(g_zip, NULL, NULL, &r), SG_OK);
  out[0] = 0;
  for (int f = 0; f < r.n_files; ++f) {
    size_t n = strlen(r.files[f].entry), k = strlen(suffix);
    if (n >= k && !strcmp(r.files[f].entry + n - k, suffix))
      snprintf(out, cap, "%s/current/%s", g_dir, r.files[f].entry);
  }
  sg_verify_result_free(&r);
  assert_true(out[0] != 0);
}

static sg_features *features_of(const char *path) {
  sg_features *f = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_features_from_file(&f, path, NULL, &d), SG_OK);
  return f;
}

static void render_lends_its_master_features(void **state) {
  (void)state;
  assert_true(g_lent_logged);
}

static void matching_hash_gives_the_full_analysis_rows(void **state) {
  (void)state;
  char master[1200], sha[65];
  delivered("_Master.wav", master, sizeof master);
  snprintf(g_master, sizeof g_master, "%s", master);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_sha256_file(master, sha, &d), SG_OK);
  sg_features *feat = features_of(master);
  sg_verify_result full, lent;
  assert_int_equal(verify(g_zip, NULL, NULL, &full), SG_OK);
  assert_int_equal(verify(g_zip, feat, sha, &lent), SG_OK);
  assert_false(is_master_lent(&full));
  assert_true(is_master_lent(&lent));
  assert_int_equal(lent.n_lent, 1);
  assert_true(same_rows(&full.report, &lent.report));
  sg_verify_result_free(&full);
  sg_verify_result_free(&lent);
  sg_features_free(feat);
}

static void lent_features_are_the_ones_used(void **state) {
  (void)state;
  char master[1200], keys[1200], sha[65];
  delivered("_Master.wav", master, sizeof master);
  delivered("_Keys.wav", keys, sizeof keys);
  snprintf(g_master, sizeof g_master, "%s", master);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_sha256_file(master, sha, &d), SG_OK);
  sg_features *decoy = features_of(keys); /* the master's length, other content */
  sg_verify_result full, lent;
  verify(g_zip, NULL, NULL, &full);
  verify(g_zip, decoy, sha, &lent);
  assert_true(is_master_lent(&lent));
  assert_true(tempo_key_rows_differing(&full.report, &lent.report) > 0);
  sg_verify_result_free(&full);
  sg_verify_result_free(&lent);
  sg_features_free(decoy);
}

/* Adds 1 to one byte of the master's audio (past a 4 KiB header allowance: a sample changes). */
static const char *with_master_byte_changed(void) {
  static char out[1200];
  snprintf(out, sizeof out, "%s", sg_test_path("changed.zip"));
  assert_int_equal(sg_test_copy_file(g_zip, out), 0);
  int err = 0;
  zip_t *z = zip_open(out, 0, &err);
  assert_non_null(z);
  zip_int64_t idx = -1;
  for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); ++i) {
    const char *nm = zip_get_name(z, (zip_uint64_t)i, 0);
    if (strstr(nm, "_Master.wav"))
      idx = i;
  }
  assert_true(idx >= 0);
  zip_stat_t zs;
  assert_int_equal(zip_stat_index(z, (zip_uint64_t)idx, 0, &zs), 0);
  assert_true(zs.size > 8192);
  unsigned char *buf = malloc(zs.size);
  assert_non_null(buf);
  zip_file_t *zf = zip_fopen_index(z, (zip_uint64_t)idx, 0);
  assert_non_null(zf);
  assert_int_equal(zip_fread(zf, buf, zs.size), (zip_int64_t)zs.size);
  zip_fclose(zf);
  buf[zs.size / 2] ^= 0x40; /* a sample's upper bits, mid-song */
  zip_source_t *src = zip_source_buffer(z, buf, zs.size, 1);
  assert_non_null(src);
  assert_int_equal(zip_file_replace(z, (zip_uint64_t)idx, src, 0), 0);
  assert_int_equal(zip_close(z), 0);
  return out;
}

static void changed_master_is_analysed_in_full(void **state) {
  (void)state;
  char master[1200], keys[1200], sha[65];
  delivered("_Master.wav", master, sizeof master);
  delivered("_Keys.wav", keys, sizeof keys);
  snprintf(g_master, sizeof g_master, "%s", master);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_sha256_file(master, sha, &d), SG_OK);
  sg_features *decoy = features_of(keys);
  const char *zip = with_master_byte_changed();
  sg_verify_result full, lent;
  sg_status a = verify(zip, NULL, NULL, &full);
  sg_status b = verify(zip, decoy, sha, &lent);
  assert_int_equal(a, SG_E_GATE); /* the entry no longer hashes as its manifest says */
  assert_int_equal(b, a);
  assert_false(is_master_lent(&lent));
  assert_int_equal(lent.n_lent, 0);
  assert_true(same_rows(&full.report, &lent.report));
  sg_verify_result_free(&full);
  sg_verify_result_free(&lent);
  sg_features_free(decoy);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(render_lends_its_master_features),
      cmocka_unit_test(matching_hash_gives_the_full_analysis_rows),
      cmocka_unit_test(lent_features_are_the_ones_used),
      cmocka_unit_test(changed_master_is_analysed_in_full),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
