/* A render's final verification lends every entry's analysis by content hash (lend.c,
 * sg_verify_lender): the master's meter and features from the master step, each stem's meter
 * and onset envelope from the sidecar its fx step wrote from the writer's tap.
 *  - every file of the package is lent, and the verification rows are bit for bit those of a
 *    full analysis of the same zip without lending (so the tap's meter and onset features equal
 *    verify's own from the decoded entries: 24-bit, stereo, a delay stem with energy features);
 *  - a stem's onset features from the fx step's tap equal those of verify's mono copy;
 *  - an entry whose bytes changed is analysed in full (a decoy lent with its old hash changes
 *    nothing), while the same decoy lent for an intact entry is used;
 *  - a render with one effect changed (the other stems and their sidecars from the cache) lends
 *    every file and gives the rows of a clean render of the same spec;
 *  - an entry vouched for by its CRC-32 (sg_verify_lender.vouch: the bytes the lender hashed)
 *    is lent without being hashed; one whose bytes differ (in place, against the archive's
 *    directory, or rewritten with a consistent directory) is not, and is judged in full;
 *  - a deflated package lends nothing (its rows are a client's);
 *  - a damaged sidecar lends nothing, and the rows of a render with the master settings changed
 *    stay a clean render's. */
#include "sg_test.h"

#include "pipeline/pipeline_internal.h" /* sg__lend_read: the sidecar as the lender reads it */

#include "stemgate/analysis.h"
#include "stemgate/io.h"
#include "stemgate/package.h"
#include "stemgate/pipeline.h"
#include "stemgate/spec.h"
#include "stemgate/verify.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

static const char *SONG = "title: Lend\n"
                          "tempo: 112\n"
                          "key: D minor\n"
                          "seed: 11\n"
                          "sections:\n"
                          "  - {name: a, bars: 2, chords: \"Dm | Bb\"}\n"
                          "  - {name: b, bars: 2, chords: \"F | C\"}\n"
                          "stems:\n"
                          "  - name: Keys\n"
                          "    instrument: dx7\n"
                          "    patch: epiano\n"
                          "    effects:\n"
                          "      - delay: {time: 1/8, feedback: 0.3, mix: 0.25}\n"
                          "  - name: Bass\n"
                          "    instrument: moog_bass\n"
                          "    gain_db: -3\n"
                          "    effects:\n"
                          "      - reverb: {rt60: 1.2, mix: 0.18}\n"
                          "drums: {source: synth, style: pop}\n"
                          "master: {loudness_lufs: -14, true_peak_dbtp: -1.0}\n";

static char g_spec[1024], g_edit[1024], g_master[1024], g_dir[1024];
static sg_song *g_song;

typedef struct run_out {
  sg_gate_report rows; /* the render's rows of step "verify" */
  sg_gate_report pkg;  /* its manifest_loudness, manifest_true_peak, manifest_sample_peak rows */
  char zip[1024];
  int lent, files, vouched; /* from the log line */
} run_out;

static void on_log(void *u, const char *line) {
  run_out *o = u;
  const char *p = strstr(line, "verify: ");
  int a, b;
  int c;
  if (p && sscanf(p, "verify: %d of %d files measured as they were written (%d", &a, &b, &c) == 3) {
    o->lent = a;
    o->files = b;
    o->vouched = c;
  }
}

static sg_status render(const char *spec, const char *dir, int force, run_out *o) {
  memset(o, 0, sizeof *o);
  sg_gate_report_init(&o->rows);
  sg_gate_report_init(&o->pkg);
  sg_render_options ro;
  sg_render_options_init(&ro);
  ro.spec_path = spec;
  ro.out_dir = dir;
  ro.force = force;
  ro.log = on_log;
  ro.log_user = o;
  sg_render_result res;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_render(&ro, &res, &d);
  if (st != SG_OK)
    fprintf(stderr, "render: %s\n", d.message);
  snprintf(o->zip, sizeof o->zip, "%s", res.zip_path);
  for (size_t i = 0; i < res.gates.n; ++i) {
    const sg_gate_result *g = &res.gates.v[i];
    sg_gate_report one = {&res.gates.v[i], 1, 1, 0};
    if (!strcmp(g->step, SG_VERIFY_STEP))
      sg_gate_report_append(&o->rows, &one);
    else if (g->id == SG_CHECK_MANIFEST_LOUDNESS || g->id == SG_CHECK_MANIFEST_TRUE_PEAK ||
             g->id == SG_CHECK_MANIFEST_SAMPLE_PEAK)
      sg_gate_report_append(&o->pkg, &one);
  }
  sg_render_result_free(&res);
  return st;
}

static void run_out_free(run_out *o) {
  sg_gate_report_free(&o->rows);
  sg_gate_report_free(&o->pkg);
}

static int setup(void **state) {
  (void)state;
  snprintf(g_spec, sizeof g_spec, "%s", sg_test_path("lend.yaml"));
  snprintf(g_edit, sizeof g_edit, "%s", sg_test_path("edit.yaml"));
  snprintf(g_master, sizeof g_master, "%s", sg_test_path("master.yaml"));
  snprintf(g_dir, sizeof g_dir, "%s", sg_test_path("out"));
  char *edit = strdup(SONG), *at = strstr(edit, "mix: 0.18");
  if (!at)
    return -1;
  at[8] = '9'; /* the Bass reverb's mix 0.18 -> 0.19 */
  int bad = sg_test_write_text(g_spec, SONG) || sg_test_write_text(g_edit, edit);
  char *lufs = strstr(edit, "loudness_lufs: -14,");
  if (!lufs)
    return -1;
  memcpy(lufs, "loudness_lufs: -15,", 19); /* the master settings changed */
  bad = bad || sg_test_write_text(g_master, edit);
  free(edit);
  sg_diag d;
  sg_diag_clear(&d);
  return bad || sg_song_load(g_spec, &g_song, &d) != SG_OK ? -1 : 0;
}

static int teardown(void **state) {
  (void)state;
  sg_song_free(g_song);
  return 0;
}

static sg_status verify_full(const sg_song *song, const char *zip, const sg_verify_lender *l,
                             sg_verify_result *r) {
  sg_verify_options o;
  sg_verify_options_init(&o);
  o.package = zip;
  o.measure_all = 1;
  o.lender = l;
  sg_diag d;
  sg_diag_clear(&d);
  return sg_verify_package(song, &o, r, &d);
}

static int same_number(double a, double b) {
  return (isnan(a) && isnan(b)) || !memcmp(&a, &b, sizeof a);
}

/* Rows equal in order: check, stem, measured (bit for bit), limit, verdict and detail. */
static int same_rows(const sg_gate_report *a, const sg_gate_report *b) {
  if (a->n != b->n) {
    fprintf(stderr, "%zu rows against %zu\n", a->n, b->n);
    return 0;
  }
  for (size_t i = 0; i < a->n; ++i) {
    const sg_gate_result *x = &a->v[i], *y = &b->v[i];
    if (strcmp(x->check, y->check) || strcmp(x->stem, y->stem) ||
        !same_number(x->measured, y->measured) || !same_number(x->limit, y->limit) ||
        x->pass != y->pass || strcmp(x->detail, y->detail)) {
      char l1[600], l2[600];
      fprintf(stderr, "row %zu differs:\n  %s\n  %s\n", i, sg_gate_result_format(x, l1, sizeof l1),
              sg_gate_result_format(y, l2, sizeof l2));
      return 0;
    }
  }
  return 1;
}

static int count_id(const sg_gate_report *r, sg_check_id id) {
  int n = 0;
  for (size_t i = 0; i < r->n; ++i)
    n += r->v[i].id == id;
  return n;
}

/* The rows of step "verify" of r. */
static void verify_rows(const sg_gate_report *r, sg_gate_report *out) {
  sg_gate_report_init(out);
  for (size_t i = 0; i < r->n; ++i)
    if (!strcmp(r->v[i].step, SG_VERIFY_STEP)) {
      sg_gate_report one = {&r->v[i], 1, 1, 0};
      assert_int_equal(sg_gate_report_append(out, &one), SG_OK);
    }
}

/* Lent rows == full rows on the render's own zip: the render's verify rows (every file lent)
 * against verify's own analysis of the same zip, and the package's rows from each entry's meter
 * (manifest_loudness, true and sample peak: the lent meter's result) against the full pass's. */
static void lent_rows_are_the_full_analysis_rows(void **state) {
  (void)state;
  run_out o;
  assert_int_equal(render(g_spec, g_dir, 1, &o), SG_OK);
  assert_int_equal(o.lent, 4);    /* master, Keys, Bass, Drums */
  assert_int_equal(o.vouched, 4); /* each proved by its CRC-32, none hashed again */
  assert_int_equal(o.files, 4);
  /* The rows hold what the sync, loudness and content checks measured from the lent analysis. */
  assert_true(count_id(&o.rows, SG_CHECK_SYNC_OFFSET) >= 3);
  assert_int_equal(count_id(&o.rows, SG_CHECK_LOUDNESS), 1);
  sg_verify_result full;
  assert_int_equal(verify_full(g_song, o.zip, NULL, &full), SG_OK);
  assert_int_equal(full.n_lent, 0);
  sg_gate_report mine;
  verify_rows(&full.report, &mine);
  assert_true(same_rows(&o.rows, &mine));
  assert_true(same_rows(&o.pkg, &o.pkg) && o.pkg.n >= 12);
  sg_gate_report pkg;
  sg_gate_report_init(&pkg);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_package_verify_loudness_passed(o.zip, NULL, full.passes,
                                                     (size_t)full.n_passes, 0.1, 0.1, &pkg, &d),
                   SG_OK);
  assert_true(same_rows(&o.pkg, &pkg));
  sg_gate_report_free(&pkg);
  sg_gate_report_free(&mine);
  run_out_free(&o);
  sg_verify_result_free(&full);
}

/* The stem sidecars' onset envelope (the fx step's tap, two channels) is bit for bit the one
 * verify computes on its mono copy of the decoded entry (mean of the channels in double). */

static void tap_onsets_are_the_mono_copy_onsets(void **state) {
  (void)state;
  const char *stems[] = {"Keys", "Bass", "Drums"};
  for (int k = 0; k < 3; ++k) {
    char wav[1200], side[1200], sha[65];
    snprintf(wav, sizeof wav, "%s/current/lend_%s.wav", g_dir, stems[k]);
    snprintf(side, sizeof side, "%s/work/nodes/fx_%s.lend", g_dir, stems[k]);
    sg_diag d;
    sg_diag_clear(&d);
    assert_int_equal(sg_sha256_file(wav, sha, &d), SG_OK);
    sg_meter *m = NULL;
    sg_features *lent = NULL;
    assert_true(sg__lend_read(side, sha, &m, &lent));
    sg_audio_reader *ar = NULL;
    sg_audio_info info;
    assert_int_equal(sg_audio_reader_open(&ar, wav, &info, &d), SG_OK);
    assert_int_equal(info.channels, 2);
    float *x = malloc((size_t)info.frames * 2 * sizeof *x),
          *mono = malloc((size_t)info.frames * sizeof *mono);
    size_t got = 0;
    assert_int_equal(sg_audio_reader_read(ar, x, (size_t)info.frames, &got, &d), SG_OK);
    assert_int_equal((int64_t)got, info.frames);
    sg_audio_reader_close(ar);
    for (size_t i = 0; i < got; ++i)
      mono[i] = (float)((0.0 + (double)x[2 * i] + (double)x[2 * i + 1]) / 2);
    sg_features_config fc;
    sg_features_config_init(&fc);
    fc.flags = SG_FEAT_ONSET;
    sg_features *own = NULL;
    assert_int_equal(sg_features_from_mono(&own, mono, got, info.rate, &fc, &d), SG_OK);
    size_t na = 0, nb = 0;
    double ra = 0, rb = 0;
    const float *ea = sg_features_onset_env(lent, &na, &ra),
                *eb = sg_features_onset_env(own, &nb, &rb);
    assert_true(na > 100);
    assert_int_equal(na, nb);
    assert_true(ra == rb);
    assert_int_equal(memcmp(ea, eb, na * sizeof *ea), 0);
    assert_int_equal(sg_features_frames(lent), info.frames);
    /* and the meter is the decoded file's */
    sg_meter_result a, b;
    assert_int_equal(sg_meter_result_get(m, &a), SG_OK);
    assert_int_equal(sg_meter_file(wav, SG_METER_ALL, &b, NULL, &d), SG_OK);
    assert_int_equal(memcmp(&a, &b, sizeof a), 0);
    free(x);
    free(mono);
    sg_features_free(own);
    sg_features_free(lent);
    sg_meter_free(m);
  }
}

/* Lends the analysis of decoy (meter and features of another file of the same length) for the
 * bytes hashing to sha. */
typedef struct decoy_loan {
  char sha[65];
  sg_meter *meter;
  sg_features *feat;
  int asked;
  uint32_t crc; /* of the file whose sha this is (decoy_vouch) */
  uint64_t size;
  int vouched;
} decoy_loan;

static int decoy_borrow(void *user, const char *sha256, sg_verify_loan *loan) {
  decoy_loan *l = user;
  l->asked++;
  if (strcmp(sha256, l->sha))
    return 0;
  loan->meter = l->meter;
  loan->features = l->feat;
  return 1;
}

static void decoy_open(decoy_loan *l, const char *wav_for_sha, const char *decoy) {
  memset(l, 0, sizeof *l);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_sha256_file(wav_for_sha, l->sha, &d), SG_OK);
  sg_meter_result mr;
  assert_int_equal(sg_meter_file(decoy, SG_METER_ALL, &mr, &l->meter, &d), SG_OK);
  assert_int_equal(sg_features_from_file(&l->feat, decoy, NULL, &d), SG_OK);
}

/* Vouches for the bytes of the file decoy_open hashed: its CRC-32 and size. */
static int decoy_vouch(void *user, const char *entry, uint32_t crc, uint64_t bytes, char sha[65]) {
  decoy_loan *l = user;
  if (crc != l->crc || bytes != l->size || !strstr(entry, "_Keys.wav"))
    return 0;
  l->vouched++;
  memcpy(sha, l->sha, 65);
  return 1;
}

static void decoy_close(decoy_loan *l) {
  sg_meter_free(l->meter);
  sg_features_free(l->feat);
}

/* Copies the zip with one byte of the entry whose name ends in suffix changed mid-file. */
static const char *with_byte_changed(const char *zip, const char *suffix) {
  static char out[1200];
  snprintf(out, sizeof out, "%s", sg_test_path("changed.zip"));
  assert_int_equal(sg_test_copy_file(zip, out), 0);
  int err = 0;
  zip_t *z = zip_open(out, 0, &err);
  assert_non_null(z);
  zip_int64_t idx = -1;
  for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); ++i)
    if (strstr(zip_get_name(z, (zip_uint64_t)i, 0), suffix))
      idx = i;
  assert_true(idx >= 0);
  zip_stat_t zs;
  assert_int_equal(zip_stat_index(z, (zip_uint64_t)idx, 0, &zs), 0);
  unsigned char *buf = malloc(zs.size);
  assert_non_null(buf);
  zip_file_t *zf = zip_fopen_index(z, (zip_uint64_t)idx, 0);
  assert_non_null(zf);
  assert_int_equal(zip_fread(zf, buf, zs.size), (zip_int64_t)zs.size);
  zip_fclose(zf);
  buf[zs.size / 2] ^= 0x40;
  zip_source_t *src = zip_source_buffer(z, buf, zs.size, 1);
  assert_non_null(src);
  assert_int_equal(zip_file_replace(z, (zip_uint64_t)idx, src, ZIP_FL_ENC_GUESS), 0);
  zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
  assert_int_equal(zip_close(z), 0);
  return out;
}

static void changed_entry_is_judged_on_its_own_bytes(void **state) {
  (void)state;
  char keys[1200], bass[1200], zip[1200];
  snprintf(keys, sizeof keys, "%s/current/lend_Keys.wav", g_dir);
  snprintf(bass, sizeof bass, "%s/current/lend_Bass.wav", g_dir);
  snprintf(zip, sizeof zip, "%s/current/lend.zip", g_dir);
  decoy_loan l;
  decoy_open(&l, keys, bass); /* Bass's analysis lent for Keys' bytes */
  sg_verify_lender lender = {decoy_borrow, NULL, &l, NULL};
  /* Intact: the decoy is taken (Keys' rows then describe Bass: the lent analysis is used). */
  sg_verify_result full, lent;
  verify_full(g_song, zip, NULL, &full);
  verify_full(g_song, zip, &lender, &lent);
  assert_int_equal(lent.n_lent, 1);
  assert_true(l.asked >= 4);
  assert_false(same_rows(&full.report, &lent.report));
  sg_verify_result_free(&full);
  sg_verify_result_free(&lent);
  /* Keys changed by one byte: not lent, analysed in full, the same rows as without a lender
   * (its sha256 row fails: the manifest's hash is the intact file's). */
  const char *changed = with_byte_changed(zip, "_Keys.wav");
  sg_status a = verify_full(g_song, changed, NULL, &full);
  sg_status b = verify_full(g_song, changed, &lender, &lent);
  assert_int_equal(a, SG_E_GATE);
  assert_int_equal(b, a);
  assert_int_equal(lent.n_lent, 0);
  assert_true(same_rows(&full.report, &lent.report));
  sg_verify_result_free(&full);
  sg_verify_result_free(&lent);
  decoy_close(&l);
}

/* The offset of the first n bytes of file `part` inside file `whole` (-1: not found). */
static long offset_of(const char *whole, const char *part, size_t at, size_t n) {
  size_t wn = 0, pn = 0;
  char *w = sg_test_read_file(whole, &wn), *p = sg_test_read_file(part, &pn);
  long off = -1;
  for (size_t i = 0; w && p && at + n <= pn && i + n <= wn && off < 0; ++i)
    if (!memcmp(w + i, p + at, n))
      off = (long)i;
  free(w);
  free(p);
  return off < 0 ? -1 : off - (long)at;
}

/* zip verified with and without the vouching lender: nothing vouched or lent, the same status
 * and rows (a client's); returns that status. */
static sg_status judged_in_full(const char *zip, const sg_verify_lender *lender, decoy_loan *l) {
  sg_verify_result full, lent;
  l->vouched = 0;
  const sg_status a = verify_full(g_song, zip, NULL, &full);
  const sg_status b = verify_full(g_song, zip, lender, &lent);
  assert_int_equal(b, a);
  assert_int_equal(l->vouched, 0);
  assert_int_equal(lent.n_lent, 0);
  assert_true(same_rows(&full.report, &lent.report));
  sg_verify_result_free(&full);
  sg_verify_result_free(&lent);
  return a;
}

static void vouched_entry_is_proved_by_its_crc(void **state) {
  (void)state;
  char keys[1200], bass[1200], zip[1200], copy[1200];
  snprintf(keys, sizeof keys, "%s/current/lend_Keys.wav", g_dir);
  snprintf(bass, sizeof bass, "%s/current/lend_Bass.wav", g_dir);
  snprintf(zip, sizeof zip, "%s/current/lend.zip", g_dir);
  decoy_loan l;
  decoy_open(&l, keys, bass); /* Bass's analysis lent for Keys' bytes */
  char sha[65];
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_package_file_digest(keys, sha, &l.crc, &d), SG_OK);
  assert_string_equal(sha, l.sha);
  size_t kn = 0;
  free(sg_test_read_file(keys, &kn));
  l.size = kn;
  sg_verify_lender lender = {decoy_borrow, NULL, &l, decoy_vouch};
  /* Intact: Keys vouched for by its CRC-32 and lent (its rows then describe Bass). */
  sg_verify_result full, lent;
  verify_full(g_song, zip, NULL, &full);
  verify_full(g_song, zip, &lender, &lent);
  assert_int_equal(lent.n_lent, 1);
  assert_int_equal(l.vouched, 1);
  assert_false(same_rows(&full.report, &lent.report));
  sg_verify_result_free(&full);
  sg_verify_result_free(&lent);
  /* One byte of Keys' samples changed in place (the directory's CRC-32 left as it was): its
   * CRC-32 is not the directory's, nothing is vouched or lent, the rows are a client's. */
  snprintf(copy, sizeof copy, "%s", sg_test_path("inplace.zip"));
  assert_int_equal(sg_test_copy_file(zip, copy), 0);
  const long at = offset_of(copy, keys, 4096, 64);
  assert_true(at > 0);
  sg_test_flip_byte(copy, at + (long)kn / 2, 0x40);
  assert_int_equal(judged_in_full(copy, &lender, &l), SG_E_GATE);
  /* Changed with a consistent directory (rewritten by libzip): the CRC-32 is not the lender's. */
  assert_int_equal(judged_in_full(with_byte_changed(zip, "_Keys.wav"), &lender, &l), SG_E_GATE);
  decoy_close(&l);
}

/* One effect changed: Keys and Drums (and their sidecars) come from the cache, Bass and the
 * master are rendered again; every file is lent and the rows are a clean render's. */
static void cached_render_rows_are_a_clean_renders(void **state) {
  (void)state;
  run_out inc, clean;
  assert_int_equal(render(g_edit, g_dir, 0, &inc), SG_OK);
  assert_int_equal(inc.lent, 4);
  assert_int_equal(inc.vouched, 4);
  char dir2[1200];
  snprintf(dir2, sizeof dir2, "%s", sg_test_path("clean"));
  assert_int_equal(render(g_edit, dir2, 1, &clean), SG_OK);
  assert_true(same_rows(&inc.rows, &clean.rows));
  assert_true(same_rows(&inc.pkg, &clean.pkg));
  run_out_free(&inc);
  run_out_free(&clean);
}

/* A damaged sidecar lends nothing: the master settings changed (the master and the package run
 * again, every stem from the cache), Keys' sidecar has one byte changed, so Keys is analysed in
 * full and the rows are still a clean render's. */
static void damaged_sidecar_lends_nothing(void **state) {
  (void)state;
  char side[1200], wav[1200], sha[65];
  snprintf(side, sizeof side, "%s/work/nodes/fx_Keys.lend", g_dir);
  snprintf(wav, sizeof wav, "%s/current/lend_Keys.wav", g_dir);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_sha256_file(wav, sha, &d), SG_OK);
  sg_meter *m = NULL;
  sg_features *feat = NULL;
  assert_true(sg__lend_read(side, sha, &m, &feat)); /* intact */
  sg_meter_free(m);
  sg_features_free(feat);
  sg_test_flip_byte(side, 400, 0x10);
  assert_false(sg__lend_read(side, sha, &m, &feat));
  assert_null(m);
  assert_null(feat);
  run_out inc, clean;
  assert_int_equal(render(g_master, g_dir, 0, &inc), SG_OK);
  assert_int_equal(inc.lent, 3);    /* the master, Bass and Drums */
  assert_int_equal(inc.vouched, 4); /* Keys too: its bytes are the file's, analysed in full */
  char dir2[1200];
  snprintf(dir2, sizeof dir2, "%s", sg_test_path("clean2"));
  assert_int_equal(render(g_master, dir2, 1, &clean), SG_OK);
  assert_int_equal(clean.lent, 4);
  assert_true(same_rows(&inc.rows, &clean.rows));
  assert_true(same_rows(&inc.pkg, &clean.pkg));
  run_out_free(&inc);
  run_out_free(&clean);
}

/* A deflated package lends nothing (the entry's bytes are not the file's): every file decoded
 * and measured in full, the rows those of a client's verify. */
static void deflated_package_lends_nothing(void **state) {
  (void)state;
  char spec[1200], dir[1200], text[4096];
  snprintf(spec, sizeof spec, "%s", sg_test_path("deflate.yaml"));
  snprintf(dir, sizeof dir, "%s", sg_test_path("deflate"));
  snprintf(text, sizeof text, "%sdeliverable: {deflate: true}\n", SONG);
  assert_int_equal(sg_test_write_text(spec, text), 0);
  run_out o;
  assert_int_equal(render(spec, dir, 1, &o), SG_OK);
  assert_int_equal(o.lent, 0);
  sg_verify_result full;
  assert_int_equal(verify_full(g_song, o.zip, NULL, &full), SG_OK);
  sg_gate_report mine;
  verify_rows(&full.report, &mine);
  assert_true(same_rows(&o.rows, &mine));
  sg_gate_report_free(&mine);
  sg_verify_result_free(&full);
  run_out_free(&o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lent_rows_are_the_full_analysis_rows),
      cmocka_unit_test(tap_onsets_are_the_mono_copy_onsets),
      cmocka_unit_test(changed_entry_is_judged_on_its_own_bytes),
      cmocka_unit_test(vouched_entry_is_proved_by_its_crc),
      cmocka_unit_test(cached_render_rows_are_a_clean_renders),
      cmocka_unit_test(damaged_sidecar_lends_nothing),
      cmocka_unit_test(deflated_package_lends_nothing),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
