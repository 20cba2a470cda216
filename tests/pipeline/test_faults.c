/* Faults under a render, injected by tests/support/fault/fault_shim.c (LD_PRELOAD into the
 * stemgate command): ENOSPC and EIO from write, fsync and rename, a read-only output folder,
 * the output folder removed mid-render. Each render goes over a folder holding an earlier
 * package; each must exit 3 with a message naming a file or folder under it, leave no crash,
 * and leave DIR/current on the earlier set, every file's hash unchanged. A clean render then
 * delivers. Also: verify of a package whose manifest does not parse names the manifest. Songs
 * are 2 bars long. */
#include "sg_test.h"

#include <zip.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *SONG = "title: Fault Song\n"
                          "tempo: 120\n"
                          "meter: 4/4\n"
                          "key: C major\n"
                          "style: pop\n"
                          "seed: %d\n"
                          "sections:\n"
                          "  - {name: a, bars: 2, chords: \"%s\"}\n"
                          "stems:\n"
                          "  - {name: Bass, instrument: moog_bass}\n"
                          "drums: {source: synth, style: pop}\n"
                          "master: {loudness_lufs: -14, true_peak_dbtp: -1.0}\n";

static char g_spec[2][1100], g_out[1100], g_err[1100];
static int g_seed = 10;   /* each faulty render renders a song no cache holds */
static sg_test_set g_old; /* the package the folder holds before each faulty render */
static long long g_bytes; /* bytes of that package */

/* stemgate render spec -o out, with the shim configured by env (NULL: no shim); which 0 or 1
 * is song A or B, 2 a new song (a seed not rendered before, so the cache serves nothing). */
static int render_cli(int which, const char *out, const char *const *env) {
  if (which == 2) {
    char text[2048];
    snprintf(text, sizeof text, SONG, ++g_seed, "Dm | G");
    snprintf(g_spec[1], sizeof g_spec[1], "%s", sg_test_path("fault_new.yaml"));
    assert_int_equal(sg_test_write_text(g_spec[1], text), 0);
    which = 1;
  }
  const char *exe = getenv("SG_STEMGATE");
  assert_non_null(exe);
  char *argv[] = {(char *)exe, "render", g_spec[which], "-o", (char *)out,
                  "--jobs",    "1",      "--quiet",     NULL};
  static char e[16][1200];
  char *envp[17];
  int n = 0;
  if (env) {
    const char *shim = getenv("SG_FAULT_SHIM");
    assert_non_null(shim);
    const char *asan = getenv("ASAN_OPTIONS");
    snprintf(e[n], sizeof e[n], "LD_PRELOAD=%s", shim);
    envp[n] = e[n], ++n;
    /* the shim comes before the sanitizer runtime in a sanitizer build */
    snprintf(e[n], sizeof e[n], "ASAN_OPTIONS=%s%sverify_asan_link_order=0", asan ? asan : "",
             asan ? ":" : "");
    envp[n] = e[n], ++n;
    snprintf(e[n], sizeof e[n], "SG_FAULT_DIR=%s", out);
    envp[n] = e[n], ++n;
    snprintf(e[n], sizeof e[n], "SG_FAULT_LOG=1");
    envp[n] = e[n], ++n;
    for (int i = 0; env[i] && n < 15; ++i) {
      snprintf(e[n], sizeof e[n], "%s", env[i]);
      envp[n] = e[n], ++n;
    }
  }
  envp[n] = NULL;
  remove(g_err);
  return sg_test_run(argv, envp, g_err);
}

static void read_err(char *buf, size_t cap) {
  FILE *f = fopen(g_err, "r");
  size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
  buf[n] = '\0';
  if (f)
    fclose(f);
}

static long long set_bytes(const char *out, const sg_test_set *s) {
  long long sum = 0;
  for (int i = 0; i < s->n; ++i) {
    char p[1500];
    struct stat sb;
    snprintf(p, sizeof p, "%s/current/%s", out, s->name[i]);
    if (stat(p, &sb) == 0)
      sum += (long long)sb.st_size;
  }
  return sum;
}

static int setup(void **st) {
  (void)st;
  char text[2048];
  for (int k = 0; k < 2; ++k) {
    snprintf(g_spec[k], sizeof g_spec[k], "%s", sg_test_path(k ? "fault_b.yaml" : "fault_a.yaml"));
    snprintf(text, sizeof text, SONG, k ? 2 : 1, k ? "Am | F" : "C | G");
    assert_int_equal(sg_test_write_text(g_spec[k], text), 0);
  }
  snprintf(g_out, sizeof g_out, "%s", sg_test_path("out"));
  snprintf(g_err, sizeof g_err, "%s", sg_test_path("stderr.txt"));
  assert_int_equal(render_cli(0, g_out, NULL), 0);
  assert_int_equal(sg_test_set_read(g_out, &g_old), 1);
  assert_true(g_old.n >= 4);
  g_bytes = set_bytes(g_out, &g_old);
  printf("earlier package: %d files, %lld bytes\n", g_old.n, g_bytes);
  return 0;
}

/* One faulty render of the other song over the earlier package. want: words the message must
 * hold besides a path under the folder. */
static void faulty_render(const char *what, const char *const *env, const char *want) {
  int code = render_cli(2, g_out, env);
  char err[4096];
  read_err(err, sizeof err);
  printf("%s: exit %d: %s", what, code, err);
  assert_non_null(strstr(err, "fault shim: call")); /* the fault did happen */
  assert_int_equal(code, 3);
  char under[1200];
  snprintf(under, sizeof under, "%s", g_out);
  if (!strstr(err, under))
    fail_msg("%s: the message names nothing under %s", what, g_out);
  if (want && !strstr(err, want))
    fail_msg("%s: the message lacks '%s'", what, want);
  sg_test_set now;
  assert_int_equal(sg_test_set_read(g_out, &now), 1);
  if (!sg_test_set_equal(&now, &g_old))
    fail_msg("%s: the delivered set changed", what);
}

static void disk_full_and_io_errors_keep_the_previous_set(void **st) {
  (void)st;
  char early[64], late[64];
  snprintf(early, sizeof early, "SG_FAULT_AFTER_BYTES=%lld", g_bytes / 20);
  snprintf(late, sizeof late, "SG_FAULT_AFTER_BYTES=%lld", g_bytes * 9 / 10);
  const char *enospc_early[] = {"SG_FAULT_ERRNO=ENOSPC", "SG_FAULT_OPS=write", early, NULL};
  faulty_render("ENOSPC after 5% of a package", enospc_early, "No space left on device");
  const char *enospc_late[] = {"SG_FAULT_ERRNO=ENOSPC", "SG_FAULT_OPS=write", late, NULL};
  faulty_render("ENOSPC after 90% of a package", enospc_late, "No space left on device");
  const char *eio_write[] = {"SG_FAULT_ERRNO=EIO", "SG_FAULT_OPS=write", "SG_FAULT_CALL=40", NULL};
  faulty_render("EIO on the 40th write", eio_write, "Input/output error");
  /* inside the zip: its 3rd write is the kernel's copy of the master (header, name, data) */
  const char *enospc_zip[] = {"SG_FAULT_ERRNO=ENOSPC", "SG_FAULT_OPS=write", "SG_FAULT_CALL=3",
                              "SG_FAULT_NAME=.zip.partial", NULL};
  faulty_render("ENOSPC copying into the zip", enospc_zip, "No space left on device");
  const char *eio_fsync[] = {"SG_FAULT_ERRNO=EIO", "SG_FAULT_OPS=fsync", "SG_FAULT_CALL=1", NULL};
  faulty_render("EIO on the first fsync", eio_fsync, "Input/output error");
  const char *eio_rename[] = {"SG_FAULT_ERRNO=EIO", "SG_FAULT_OPS=rename", "SG_FAULT_CALL=2", NULL};
  faulty_render("EIO on the second rename", eio_rename, "Input/output error");
  /* The last step: DIR/current flipped to the new set by rename of a new link over it. */
  const char *eio_flip[] = {"SG_FAULT_ERRNO=EIO", "SG_FAULT_OPS=rename", "SG_FAULT_CALL=1",
                            "SG_FAULT_NAME=/.current.", NULL};
  faulty_render("EIO on the flip of DIR/current", eio_flip, "Input/output error");
  /* The folder is still usable: a clean render delivers the new song. */
  assert_int_equal(render_cli(2, g_out, NULL), 0);
  sg_test_set now;
  assert_int_equal(sg_test_set_read(g_out, &now), 1);
  assert_false(sg_test_set_equal(&now, &g_old));
  g_old = now;
  g_bytes = set_bytes(g_out, &g_old);
}

static void read_only_folder_exits_3_at_once(void **st) {
  (void)st;
  /* chmod does not stop root, so the shim makes the file system read-only as well. */
  assert_int_equal(chmod(g_out, 0555), 0);
  const char *ro[] = {"SG_FAULT_READONLY=1", NULL};
  int code = render_cli(0, g_out, ro);
  assert_int_equal(chmod(g_out, 0755), 0);
  char err[4096];
  read_err(err, sizeof err);
  printf("read-only: exit %d: %s", code, err);
  assert_int_equal(code, 3);
  assert_non_null(strstr(err, g_out));
  assert_true(strstr(err, "Read-only file system") || strstr(err, "Permission denied"));
  sg_test_set now;
  assert_int_equal(sg_test_set_read(g_out, &now), 1);
  assert_true(sg_test_set_equal(&now, &g_old));
}

static void folder_removed_mid_render_exits_3(void **st) {
  (void)st;
  const char *calls[] = {"SG_FAULT_CALL=5", "SG_FAULT_CALL=60", NULL};
  for (int i = 0; calls[i]; ++i) {
    const char *rm[] = {"SG_FAULT_ACTION=remove", "SG_FAULT_OPS=write", calls[i], NULL};
    int code = render_cli(2, g_out, rm);
    char err[4096];
    read_err(err, sizeof err);
    printf("folder removed at the %s: exit %d: %s", calls[i], code, err);
    assert_non_null(strstr(err, "fault shim: call"));
    assert_int_equal(code, 3);
    assert_non_null(strstr(err, g_out));
    struct stat sb;
    if (stat(g_out, &sb) == 0) { /* whatever is there is no delivered set */
      sg_test_set now;
      assert_int_equal(sg_test_set_read(g_out, &now), 0);
    }
  }
  assert_int_equal(render_cli(0, g_out, NULL), 0); /* and a render afterwards delivers */
  sg_test_set now;
  assert_int_equal(sg_test_set_read(g_out, &now), 1);
}

/* verify of a zip whose manifest.json does not parse: exit 1 naming the manifest, never
 * "success". */
static void unparsable_manifest_is_named(void **st) {
  (void)st;
  char zp[1500];
  snprintf(zp, sizeof zp, "%s/current/fault-song.zip", g_out); /* the last song rendered */
  char bad[1100];
  snprintf(bad, sizeof bad, "%s", sg_test_path("bad_manifest.zip"));
  FILE *in = fopen(zp, "rb"), *o = fopen(bad, "wb");
  assert_non_null(in);
  assert_non_null(o);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    assert_int_equal(fwrite(buf, 1, n, o), n);
  fclose(in);
  fclose(o);
  int err = 0;
  zip_t *z = zip_open(bad, 0, &err);
  assert_non_null(z);
  static const char cut[] = "{\"schema\": \"stemgate.manifest/1\", \"title\": ";
  zip_source_t *s = zip_source_buffer(z, cut, sizeof cut - 1, 0);
  assert_true(zip_file_add(z, "manifest.json", s, ZIP_FL_OVERWRITE) >= 0);
  assert_int_equal(zip_close(z), 0);
  const char *exe = getenv("SG_STEMGATE");
  char *argv[] = {(char *)exe, "verify", bad, "--spec", g_spec[1], "--quiet", NULL};
  remove(g_err);
  int code = sg_test_run(argv, NULL, g_err);
  char text[4096];
  read_err(text, sizeof text);
  printf("verify: exit %d: %s", code, text);
  assert_int_equal(code, 1);
  assert_null(strstr(text, "success"));
  assert_non_null(strstr(text, "manifest.json"));
  assert_non_null(strstr(text, "bad_manifest.zip"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(disk_full_and_io_errors_keep_the_previous_set),
      cmocka_unit_test(read_only_folder_exits_3_at_once),
      cmocka_unit_test(unparsable_manifest_is_named),
      cmocka_unit_test(folder_removed_mid_render_exits_3),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
