/* `stemgate verify PKG` without a spec on stemgate's own package: a short render (6 s, a DX7
 * e-piano, a bass and synth drums) passes against its own manifest.json; the same zip with a
 * stem replaced by an altered WAV fails that entry's sha256 and the stem's recorded loudness,
 * and with the manifest's loudness figure edited fails the master's manifest_loudness. */
#include "sg_test.h"

#include "stemgate/package.h"
#include "stemgate/pipeline.h"
#include "stemgate/verify.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

static const char *SONG = "title: Own Package\n"
                          "tempo: 120\n"
                          "key: A minor\n"
                          "seed: 3\n"
                          "sections:\n"
                          "  - {name: a, bars: 3, chords: \"Am | F | G\"}\n"
                          "stems:\n"
                          "  - {name: Keys, instrument: dx7, patch: epiano}\n"
                          "  - {name: Bass, instrument: moog_bass, gain_db: -3}\n"
                          "drums: {source: synth, style: pop}\n"
                          "master: {loudness_lufs: -14, true_peak_dbtp: -1.0}\n";

static void quiet(void *u, const char *line) {
  (void)u;
  (void)line;
}

static char g_zip[1024];

static int setup(void **state) {
  (void)state;
  const char *spec = sg_test_path("own.yaml");
  if (sg_test_write_text(spec, SONG) != 0)
    return -1;
  sg_render_options o;
  sg_render_options_init(&o);
  o.spec_path = spec;
  o.out_dir = sg_test_path("out");
  o.log = quiet;
  sg_render_result res;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_render(&o, &res, &d);
  if (st != SG_OK)
    fprintf(stderr, "render: %s\n", d.message);
  snprintf(g_zip, sizeof g_zip, "%s", res.zip_path);
  sg_render_result_free(&res);
  return st == SG_OK ? 0 : -1;
}

/* Verifies zip without a spec; asserts the failed required rows are exactly "stem/check" in want
 * (NULL-terminated). */
static sg_status verify_expect(const char *zip, const char *const *want) {
  sg_verify_options o;
  sg_verify_options_init(&o);
  o.package = zip;
  sg_verify_result r;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_verify_manifest(&o, NULL, &r, &d);
  int n = 0, ok = 1;
  while (want[n])
    ++n;
  int seen[8] = {0};
  for (size_t i = 0; i < r.report.n; ++i) {
    const sg_gate_result *g = &r.report.v[i];
    if (g->pass || !g->required)
      continue;
    char key[200];
    snprintf(key, sizeof key, "%s/%s", g->stem, g->check);
    int found = 0;
    for (int k = 0; k < n; ++k)
      if (!strcmp(key, want[k]))
        seen[k] = found = 1;
    if (!found) {
      fprintf(stderr, "unexpected failure: %s\n", key);
      ok = 0;
    } else {
      char line[600];
      fprintf(stderr, "%s\n", sg_gate_result_format(g, line, sizeof line));
    }
  }
  for (int k = 0; k < n; ++k)
    if (!seen[k]) {
      fprintf(stderr, "expected failure did not happen: %s\n", want[k]);
      ok = 0;
    }
  if (!ok) {
    char *t = NULL;
    if (sg_verify_to_table(&r, &t) == SG_OK)
      fputs(t, stderr);
    free(t);
  }
  sg_verify_result_free(&r);
  assert_true(ok);
  return st;
}

/* A copy of the package with entry name's bytes replaced by fn's (fn edits buf in place). */
static const char *altered(const char *copy_name, const char *suffix,
                           void (*fn)(unsigned char *buf, size_t len), char *entry,
                           size_t entry_cap) {
  static char out[1200];
  snprintf(out, sizeof out, "%s", sg_test_path(copy_name));
  assert_int_equal(sg_test_copy_file(g_zip, out), 0);
  int err = 0;
  zip_t *z = zip_open(out, 0, &err);
  assert_non_null(z);
  zip_int64_t idx = -1;
  for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); ++i) {
    const char *nm = zip_get_name(z, (zip_uint64_t)i, 0);
    size_t ln = strlen(nm), ls = strlen(suffix);
    if (ln >= ls && !strcmp(nm + ln - ls, suffix)) {
      idx = i;
      snprintf(entry, entry_cap, "%s", nm);
    }
  }
  assert_true(idx >= 0);
  zip_stat_t zs;
  assert_int_equal(zip_stat_index(z, (zip_uint64_t)idx, 0, &zs), 0);
  unsigned char *buf = malloc(zs.size + 1);
  zip_file_t *zf = zip_fopen_index(z, (zip_uint64_t)idx, 0);
  assert_non_null(zf);
  assert_int_equal(zip_fread(zf, buf, zs.size), (zip_int64_t)zs.size);
  zip_fclose(zf);
  buf[zs.size] = 0;
  fn(buf, (size_t)zs.size);
  zip_source_t *src = zip_source_buffer(z, buf, zs.size, 1); /* libzip frees buf */
  assert_non_null(src);
  assert_int_equal(zip_file_replace(z, (zip_uint64_t)idx, src, 0), 0);
  assert_int_equal(zip_close(z), 0);
  return out;
}

/* Halves every float sample of a float32 WAV (-6 dB): the header stays, the audio changes. */
static void halve_wav(unsigned char *buf, size_t len) {
  size_t pos = 12, data = 0, size = 0;
  while (pos + 8 <= len) {
    size_t n = (size_t)buf[pos + 4] | (size_t)buf[pos + 5] << 8 | (size_t)buf[pos + 6] << 16 |
               (size_t)buf[pos + 7] << 24;
    if (!memcmp(buf + pos, "data", 4)) {
      data = pos + 8;
      size = n;
      break;
    }
    pos += 8 + n + (n & 1);
  }
  assert_true(data > 0 && data + size <= len);
  for (size_t i = data; i + 4 <= data + size; i += 4) {
    float v;
    memcpy(&v, buf + i, 4); /* little-endian host, as the CI machine */
    v *= 0.5f;
    memcpy(buf + i, &v, 4);
  }
}

/* Moves the master's recorded integrated loudness by 1 LU, keeping the text's length: the units
 * digit changes (-14.06 -> -15.06). */
static void edit_loudness(unsigned char *buf, size_t len) {
  (void)len;
  char *m = strstr((char *)buf, "\"role\": \"master\"");
  assert_non_null(m);
  char *p = strstr(m, "\"integrated_lufs\"");
  assert_non_null(p);
  char *dot = strchr(p, '.');
  assert_non_null(dot);
  char *u = dot - 1;
  assert_true(*u >= '0' && *u <= '9');
  *u = *u == '9' ? '8' : (char)(*u + 1);
}

static void own_package_passes(void **state) {
  (void)state;
  const char *const none[] = {NULL};
  assert_int_equal(verify_expect(g_zip, none), SG_OK);
}

static void altered_stem_fails_its_rows(void **state) {
  (void)state;
  char entry[300], want_sha[400];
  const char *z = altered("stem.zip", "_Keys.wav", halve_wav, entry, sizeof entry);
  snprintf(want_sha, sizeof want_sha, "%s/sha256", entry);
  const char *want[] = {want_sha, "Keys/manifest_loudness", "Keys/manifest_true_peak",
                        "Keys/manifest_sample_peak", NULL};
  assert_int_equal(verify_expect(z, want), SG_E_GATE);
}

static void edited_manifest_loudness_fails(void **state) {
  (void)state;
  char entry[300];
  const char *z = altered("manifest.zip", "manifest.json", edit_loudness, entry, sizeof entry);
  const char *want[] = {"Master/manifest_loudness", NULL};
  assert_int_equal(verify_expect(z, want), SG_E_GATE);
}

static void break_json(unsigned char *buf, size_t len) {
  assert_true(len > 2);
  buf[0] = 'x'; /* no longer JSON */
}

/* A manifest that does not parse: the package cannot be judged (exit 3), the manifest row says
 * why. */
static void broken_manifest_is_unreadable(void **state) {
  (void)state;
  char entry[300];
  sg_verify_options o;
  sg_verify_options_init(&o);
  o.package = altered("broken.zip", "manifest.json", break_json, entry, sizeof entry);
  sg_verify_result r;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_verify_manifest(&o, NULL, &r, &d), SG_E_FORMAT);
  int found = 0;
  for (size_t i = 0; i < r.report.n; ++i)
    if (!strcmp(r.report.v[i].check, "manifest")) {
      found = 1;
      assert_false(r.report.v[i].pass);
      fprintf(stderr, "manifest row: %s\n", r.report.v[i].detail);
    }
  assert_true(found);
  sg_verify_result_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(own_package_passes),
      cmocka_unit_test(altered_stem_fails_its_rows),
      cmocka_unit_test(edited_manifest_loudness_fails),
      cmocka_unit_test(broken_manifest_is_unreadable),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
