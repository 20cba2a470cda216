/* The iteration loop on a short song: every node (dry stem, effects, master, package, final
 * verification) is reused when nothing changed, exactly the nodes downstream of a change run
 * again, a corrupted output is rebuilt, a failing stem stops the run before later stems are
 * judged, and the files are the same bytes for any number of threads. */
#include "sg_test.h"

#include "stemgate/pipeline.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *SONG = "title: Loop Song\n"
                          "tempo: 128\n"
                          "meter: 4/4\n"
                          "key: D major\n"
                          "style: pop\n"
                          "seed: 11\n"
                          "sections:\n"
                          "  - {name: a, bars: 4, chords: \"Dmaj7 | Bm7 | Gmaj7 | A7\"}\n"
                          "  - {name: b, bars: 4, chords: \"Dmaj7 | Bm7 | Gmaj7 | A7\"}\n"
                          "stems:\n"
                          "  - name: Keys\n"
                          "    instrument: dx7\n"
                          "    patch: epiano\n"
                          "    effects:\n"
                          "      - reverb: {rt60: 1.2, mix: 0.2}\n"
                          "  - {name: Bass, instrument: moog_bass, gain_db: -2}\n"
                          "drums: {source: synth, style: pop}\n"
                          "master: {loudness_lufs: -14, true_peak_dbtp: -1.0}\n";

static void quiet(void *u, const char *line) {
  (void)u;
  (void)line;
}

/* A render of spec into out on jobs threads, its log lines to log (NULL: quiet, or stdout with
 * SG_TEST_VERBOSE). */
static sg_status render_to(const char *spec, const char *out, int jobs,
                           void (*log)(void *, const char *), void *log_user, sg_render_result *res,
                           sg_diag *d) {
  sg_render_options o;
  sg_render_options_init(&o);
  o.jobs = jobs;
  o.spec_path = spec;
  o.out_dir = out;
  o.log = log ? log : getenv("SG_TEST_VERBOSE") ? NULL : quiet;
  o.log_user = log_user;
  sg_diag_clear(d);
  sg_status st = sg_render(&o, res, d);
  char msg[1200];
  if (st != SG_OK)
    printf("render: %s\n", sg_diag_format(d, msg, sizeof msg));
  return st;
}

static sg_status render(const char *spec, const char *out, int jobs, sg_render_result *res,
                        sg_diag *d) {
  return render_to(spec, out, jobs, NULL, NULL, res, d);
}

/* The nodes this run ran again, as "a,b,c". */
static void ran(const sg_render_result *r, char *out, size_t cap) {
  out[0] = 0;
  for (int i = 0; i < r->n_nodes; ++i)
    if (!r->nodes[i].reused) {
      strncat(out, r->nodes[i].name, cap - strlen(out) - 2);
      strncat(out, ",", cap - strlen(out) - 1);
    }
  printf("ran: %s\n", out);
}

/* SHA-256 of every regular file under dir (recursively), as "path=hash\n" lines, sorted. Names
 * starting with a dot are left out: work/nodes/.stat/ is the stat cache (inodes and times of
 * this machine's files, as git's index), not output. */
static void tree_hashes(const char *dir, const char *rel, char *out, size_t cap) {
  DIR *dp = opendir(dir);
  assert_non_null(dp);
  char names[64][256];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(dp)) && n < 64)
    if (e->d_name[0] != '.')
      snprintf(names[n++], sizeof names[0], "%s", e->d_name);
  closedir(dp);
  qsort(names, (size_t)n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
  for (int i = 0; i < n; ++i) {
    char path[2048], sub[1024];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    snprintf(sub, sizeof sub, "%s%s", rel, names[i]);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    /* The effect probes' content-addressed cache keeps the entries of earlier configurations,
     * as any build cache does: it is not output, so it is not compared. */
    if (S_ISDIR(sb.st_mode) && !strcmp(sub, "work/fxprobe"))
      continue;
    if (S_ISDIR(sb.st_mode)) {
      char r2[1100];
      snprintf(r2, sizeof r2, "%s/", sub);
      tree_hashes(path, r2, out, cap);
    } else {
      char h[65];
      assert_int_equal(sg_sha256_file(path, h, NULL), SG_OK);
      size_t len = strlen(out);
      snprintf(out + len, cap - len, "%s=%s\n", sub, h);
    }
  }
}

/* The files under dir and the rows of the render b there are those of the clean render c made
 * in clean: the same SHA-256 for every file, the same measured value in every row. */
static void same_as_clean(const char *dir, const sg_render_result *b, const char *clean,
                          const sg_render_result *c) {
  static char ha[1 << 15], hb[1 << 15];
  ha[0] = hb[0] = 0;
  tree_hashes(dir, "", ha, sizeof ha);
  tree_hashes(clean, "", hb, sizeof hb);
  assert_string_equal(ha, hb);
  assert_int_equal(b->gates.n, c->gates.n);
  for (size_t i = 0; i < b->gates.n; ++i)
    assert_memory_equal(&b->gates.v[i].measured, &c->gates.v[i].measured, sizeof(double));
}

static void iteration_loop_redoes_only_what_changed(void **st) {
  (void)st;
  char spec[1024]; /* sg_test_path's slots are reused */
  snprintf(spec, sizeof spec, "%s", sg_test_path("loop.yaml"));
  assert_int_equal(sg_test_write_text(spec, SONG), 0);
  sg_render_result a, b;
  sg_diag d;
  char names[2048];
  /* --jobs 1 and --jobs 2, fresh: every file (deliverables, intermediates, node records) has the
   * same SHA-256. */
  assert_int_equal(render(spec, sg_test_path("j1"), 1, &a, &d), SG_OK);
  assert_int_equal(render(spec, sg_test_path("j2"), 2, &b, &d), SG_OK);
  static char ha[1 << 15], hb[1 << 15];
  ha[0] = hb[0] = 0;
  tree_hashes(sg_test_path("j1"), "", ha, sizeof ha);
  tree_hashes(sg_test_path("j2"), "", hb, sizeof hb);
  printf("%s", ha);
  assert_string_equal(ha, hb);
  assert_true(strstr(ha, "loop-song.zip=") != NULL);
  assert_int_equal(a.nodes_reused, 0);
  assert_int_equal(a.nodes_run, 9); /* 3 dry, 3 fx, master, package, verify */
  sg_render_result_free(&b);

  /* Nothing changed: no node runs, the rows are the recorded ones, the files are untouched. */
  assert_int_equal(render(spec, sg_test_path("j1"), 2, &b, &d), SG_OK);
  ran(&b, names, sizeof names);
  assert_string_equal(names, "");
  assert_int_equal(b.nodes_reused, 9);
  assert_int_equal(b.gates.n, a.gates.n);
  for (size_t i = 0; i < a.gates.n; ++i) {
    assert_string_equal(a.gates.v[i].check, b.gates.v[i].check);
    assert_memory_equal(&a.gates.v[i].measured, &b.gates.v[i].measured, sizeof(double));
  }
  hb[0] = 0;
  tree_hashes(sg_test_path("j1"), "", hb, sizeof hb);
  assert_string_equal(ha, hb);
  sg_render_result_free(&b);

  /* A corrupted delivered stem is detected by its hash and rebuilt, to the same bytes; the
   * master does not run again (its inputs' keys did not change), the delivered set is written
   * again around the same zip (whose verification is reused: the same bytes). */
  char bass[1200];
  snprintf(bass, sizeof bass, "%s/current/loop-song_Bass.wav", sg_test_path("j1"));
  sg_test_flip_byte(bass, 5000, 0x55);
  assert_int_equal(render(spec, sg_test_path("j1"), 2, &b, &d), SG_OK);
  ran(&b, names, sizeof names);
  assert_string_equal(names, "fx Bass,package,");
  hb[0] = 0;
  tree_hashes(sg_test_path("j1"), "", hb, sizeof hb);
  assert_string_equal(ha, hb);
  sg_render_result_free(&b);
  /* A corrupted zip: the package is written again (and verified, since it is new bytes). */
  sg_test_flip_byte(a.zip_path, 100, 0x55);
  assert_int_equal(render(spec, sg_test_path("j1"), 2, &b, &d), SG_OK);
  ran(&b, names, sizeof names);
  assert_string_equal(names, "package,");
  hb[0] = 0;
  tree_hashes(sg_test_path("j1"), "", hb, sizeof hb);
  assert_string_equal(ha, hb);
  sg_render_result_free(&b);

  /* A deliberate corruption that keeps the size and sets the mtime back: the stat cache still
   * sees it (the ctime moved; no process sets it back), so the file is hashed and rebuilt. */
  char keys[1200];
  snprintf(keys, sizeof keys, "%s/current/loop-song_Keys.wav", sg_test_path("j1"));
  struct stat before;
  assert_int_equal(stat(keys, &before), 0);
  sg_test_flip_byte(keys, 6000, 0x55);
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  assert_int_equal(utimensat(AT_FDCWD, keys, times, 0), 0);
  struct stat after;
  assert_int_equal(stat(keys, &after), 0);
  assert_int_equal(after.st_size, before.st_size);
  assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  assert_int_equal(render(spec, sg_test_path("j1"), 2, &b, &d), SG_OK);
  ran(&b, names, sizeof names);
  assert_string_equal(names, "fx Keys,package,");
  hb[0] = 0;
  tree_hashes(sg_test_path("j1"), "", hb, sizeof hb);
  assert_string_equal(ha, hb);
  sg_render_result_free(&b);

  /* One stem's effect changed: exactly its fx node, the master, the package and its
   * verification run again, and the result is the same bytes as a clean render. */
  char *edited = malloc(strlen(SONG) + 1);
  strcpy(edited, SONG);
  char *p = strstr(edited, "mix: 0.2}");
  assert_non_null(p);
  memcpy(p, "mix: 0.3}", 9);
  assert_int_equal(sg_test_write_text(spec, edited), 0);
  free(edited);
  assert_int_equal(render(spec, sg_test_path("j1"), 2, &b, &d), SG_OK);
  ran(&b, names, sizeof names);
  assert_string_equal(names, "fx Keys,master,package,verify,");
  sg_render_result c;
  assert_int_equal(render(spec, sg_test_path("clean"), 2, &c, &d), SG_OK);
  ha[0] = hb[0] = 0;
  tree_hashes(sg_test_path("j1"), "", ha, sizeof ha);
  tree_hashes(sg_test_path("clean"), "", hb, sizeof hb);
  assert_string_equal(ha, hb);
  sg_render_result_free(&b);
  sg_render_result_free(&c);

  /* The master's loudness target changed: the master reads its kept bus (work/master.bus, its
   * node "master bus" reused) and runs only its limited passes; the same bytes as a clean
   * render. Then the kept bus corrupted: its hash no longer holds, the bus is rendered again. */
  const char *targets[2] = {"loudness_lufs: -14.5", "loudness_lufs: -14.2"};
  for (int k = 0; k < 2; ++k) {
    char *m = malloc(strlen(SONG) + 16);
    strcpy(m, SONG);
    char *q = strstr(m, "mix: 0.2}");
    memcpy(q, "mix: 0.3}", 9);
    q = strstr(m, "loudness_lufs: -14");
    memmove(q + strlen(targets[k]), q + 18, strlen(q + 18) + 1);
    memcpy(q, targets[k], strlen(targets[k]));
    assert_int_equal(sg_test_write_text(spec, m), 0);
    free(m);
    if (k == 1) {
      char bus[1200];
      snprintf(bus, sizeof bus, "%s/work/master.bus", sg_test_path("j1"));
      sg_test_flip_byte(bus, 4000, 0x55);
    }
    assert_int_equal(render(spec, sg_test_path("j1"), 2, &b, &d), SG_OK);
    ran(&b, names, sizeof names);
    assert_string_equal(names, "master,package,verify,");
    int bus_reused = 0;
    for (int i = 0; i < b.n_nodes; ++i)
      bus_reused += b.nodes[i].reused && !strcmp(b.nodes[i].name, "master bus");
    assert_int_equal(bus_reused, k == 0);
    assert_int_equal(b.gates.n, a.gates.n);
    char clean[64];
    snprintf(clean, sizeof clean, "clean-master%d", k);
    assert_int_equal(render(spec, sg_test_path(clean), 2, &c, &d), SG_OK);
    ha[0] = hb[0] = 0;
    tree_hashes(sg_test_path("j1"), "", ha, sizeof ha);
    tree_hashes(sg_test_path(clean), "", hb, sizeof hb);
    assert_string_equal(ha, hb);
    sg_render_result_free(&b);
    sg_render_result_free(&c);
  }

  /* One stem's notes changed: its dry and fx nodes run again, alone, so its instrument renders
   * ahead and its effects' taps measure on threads of their own (with two or more cores); the
   * files and the rows are those of a clean render. */
  const char *bass_at = strstr(SONG, "gain_db: -2}");
  assert_non_null(bass_at);
  edited = malloc(strlen(SONG) + 32);
  snprintf(edited, strlen(SONG) + 32, "%.*sgain_db: -2, octave: -1}%s", (int)(bass_at - SONG), SONG,
           bass_at + strlen("gain_db: -2}"));
  p = strstr(edited, "mix: 0.2}");
  assert_non_null(p);
  memcpy(p, "mix: 0.3}", 9); /* the effect change above stays */
  assert_int_equal(sg_test_write_text(spec, edited), 0);
  free(edited);
  assert_int_equal(render(spec, sg_test_path("j1"), 2, &b, &d), SG_OK);
  ran(&b, names, sizeof names);
  assert_string_equal(names, "dry Bass,fx Bass,master,package,verify,");
  assert_int_equal(render(spec, sg_test_path("clean2"), 1, &c, &d), SG_OK);
  same_as_clean(sg_test_path("j1"), &b, sg_test_path("clean2"), &c);
  sg_render_result_free(&b);
  sg_render_result_free(&c);
  sg_render_result_free(&a);
}

static int exists(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0;
}

static void failing_stem_stops_the_run(void **st) {
  (void)st;
  /* A first stem that plays only in section a while no release tail is allowed past it: its
   * silent_outside_sections gate fails; the stems after it are not judged. */
  char *text = malloc(strlen(SONG) + 256);
  strcpy(text, SONG);
  char *s = strstr(text, "stems:\n");
  assert_non_null(s);
  const char *ins = "gates: {tail_s: 0}\nstems:\n"
                    "  - {name: Pad, instrument: prophet_poly, patch: pad, sections: [a]}\n";
  memmove(s + strlen(ins), s + 7, strlen(s + 7) + 1);
  memcpy(s, ins, strlen(ins));
  const char *spec = sg_test_path("fail.yaml");
  assert_int_equal(sg_test_write_text(spec, text), 0);
  free(text);
  sg_render_result r;
  sg_diag d;
  const char *out = sg_test_path("fail");
  assert_int_equal(render(spec, out, 2, &r, &d), SG_E_GATE);
  printf("failed: %s/%s/%s after %.2f s\n", d.step, d.stem, d.check, r.first_failure_s);
  assert_string_equal(d.stem, "Pad");
  assert_string_equal(d.check, "silent_outside_sections");
  assert_true(r.first_failure_s > 0);
  /* Stopped at the failing stem: no stem after it was judged, nothing mastered or packaged. */
  int failing = -1;
  for (int i = 0; i < r.n_nodes; ++i)
    if (!strncmp(r.nodes[i].name, "dry ", 4) && !strcmp(r.nodes[i].name + 4, d.stem))
      failing = i;
  assert_true(failing >= 0);
  assert_int_equal(failing, r.n_nodes - 1);
  for (size_t i = 0; i < r.gates.n; ++i) {
    const sg_gate_result *g = &r.gates.v[i];
    assert_true(!strcmp(g->step, "timing") || !strcmp(g->step, "reference") ||
                (!strcmp(g->step, "stem") && !strcmp(g->stem, "Pad")));
  }
  char path[1200];
  snprintf(path, sizeof path, "%s/loop-song_Keys.wav", out);
  assert_false(exists(path));
  snprintf(path, sizeof path, "%s/loop-song.zip", out);
  assert_false(exists(path));
  snprintf(path, sizeof path, "%s/loop-song_Master.wav", out);
  assert_false(exists(path));
  sg_render_result_free(&r);
}

/* The log lines of a render, for the test that reads what it says. */
static void collect(void *u, const char *line) {
  char *buf = u;
  size_t len = strlen(buf);
  snprintf(buf + len, 8192 - len, "%s\n", line);
}

static sg_status render_logged(const char *spec, const char *out, sg_render_result *res,
                               char log[8192], sg_diag *d) {
  log[0] = 0;
  return render_to(spec, out, 2, collect, log, res, d);
}

/* A stem changed alone: its effects run beside its dry render, fed its samples as they are
 * written (a sidechain and a delay in its chain: the other stems' files and the dry features
 * are waited for); the files are those of a clean render with one thread. And a stem that fails
 * its dry gate while its effects run beside it stops the run: nothing hangs, no package is made,
 * DIR/current stays on the last one delivered. */
static void stem_alone_effects_beside_its_dry_render(void **st) {
  (void)st;
  static const char *SIDE = "title: Side Song\n"
                            "tempo: 120\n"
                            "meter: 4/4\n"
                            "key: A minor\n"
                            "style: pop\n"
                            "seed: 5\n"
                            "gates: {tail_s: 0}\n"
                            "sections:\n"
                            "  - {name: a, bars: 4, chords: \"Am | F | C | G\"}\n"
                            "  - {name: b, bars: 4, chords: \"Am | F | C | G\"}\n"
                            "stems:\n"
                            "  - name: Bass\n"
                            "    instrument: moog_bass\n"
                            "    octave: 0\n"
                            "    effects:\n"
                            "      - compressor: {threshold_db: -24, ratio: 4, sidechain: Drums}\n"
                            "      - delay: {time: \"1/8\", feedback: 0.3, mix: 0.2}\n"
                            "  - {name: Keys, instrument: dx7, patch: epiano}\n"
                            "drums: {source: synth, style: pop}\n"
                            "master: {loudness_lufs: -14, true_peak_dbtp: -1.0}\n";
  char spec[1024], text[2048], log[8192];
  snprintf(spec, sizeof spec, "%s", sg_test_path("side.yaml"));
  assert_int_equal(sg_test_write_text(spec, SIDE), 0);
  sg_render_result a, b;
  sg_diag d;
  const char *out = sg_test_path("side");
  assert_int_equal(render_logged(spec, out, &a, log, &d), SG_OK);
  assert_null(strstr(log, "beside its dry stem")); /* every stem to render: no stem alone */
  /* The bass an octave down. */
  snprintf(text, sizeof text, "%s", SIDE);
  char *o = strstr(text, "octave: 0");
  assert_non_null(o);
  memcpy(o, "octave: 1", 9);
  assert_int_equal(sg_test_write_text(spec, text), 0);
  assert_int_equal(render_logged(spec, out, &b, log, &d), SG_OK);
  char names[2048];
  ran(&b, names, sizeof names);
  assert_string_equal(names, "dry Bass,fx Bass,master,package,verify,");
  printf("%s", log);
  if (sysconf(_SC_NPROCESSORS_ONLN) >= 2)
    assert_non_null(strstr(log, "fx Bass: rendered beside its dry stem"));
  sg_render_result c;
  assert_int_equal(render(spec, sg_test_path("side-clean"), 1, &c, &d), SG_OK);
  same_as_clean(out, &b, sg_test_path("side-clean"), &c);
  sg_render_result_free(&a);
  sg_render_result_free(&b);
  sg_render_result_free(&c);

  /* The bass now plays only in section a, its release tail past it not allowed (tail_s: 0):
   * its dry gate fails while its effects are running beside it. */
  char zip[1200], before[65], after[65];
  snprintf(zip, sizeof zip, "%s/current/side-song.zip", out);
  assert_int_equal(sg_sha256_file(zip, before, NULL), SG_OK);
  static const char *only_a = "octave: 1\n    sections: [a]";
  o = strstr(text, "octave: 1");
  memmove(o + strlen(only_a), o + 9, strlen(o + 9) + 1);
  memcpy(o, only_a, strlen(only_a));
  assert_int_equal(sg_test_write_text(spec, text), 0);
  assert_int_equal(render_logged(spec, out, &b, log, &d), SG_E_GATE);
  printf("failed: %s/%s/%s\n", d.step, d.stem, d.check);
  assert_string_equal(d.stem, "Bass");
  assert_null(strstr(log, "fx Bass: rendered beside its dry stem"));
  assert_int_equal(sg_sha256_file(zip, after, NULL), SG_OK);
  assert_string_equal(before, after);
  sg_render_result_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(iteration_loop_redoes_only_what_changed),
      cmocka_unit_test(failing_stem_stops_the_run),
      cmocka_unit_test(stem_alone_effects_beside_its_dry_render),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
