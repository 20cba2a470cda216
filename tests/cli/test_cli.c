/* The stemgate command: help texts, exit codes (0 done, 1 gate failed, 2 usage or spec error,
 * 3 I/O error), diagnostics with file:line:col, the timing table. Runs the built binary. */
#include "sg_test.h"

#include "package/json.h"

#include "schema_cases.h"
#include "stemgate/check.h"
#include "stemgate/fx.h"
#include "stemgate/io.h"
#include "stemgate/zip.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char out[1 << 16];

/* Runs "stemgate ARGS" with stdout+stderr captured into out; returns the exit code. */
static int run(const char *args) {
  const char *bin = getenv("SG_STEMGATE");
  assert_non_null(bin);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", bin, args);
  FILE *f = popen(cmd, "r");
  assert_non_null(f);
  size_t n = fread(out, 1, sizeof out - 1, f);
  out[n] = '\0';
  int status = pclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void help_and_usage(void **st) {
  (void)st;
  assert_int_equal(run("--help"), 0);
  assert_non_null(strstr(out, "render"));
  assert_non_null(strstr(out, "verify"));
  assert_non_null(strstr(out, "exit codes"));
  assert_int_equal(run("help render"), 0);
  assert_non_null(strstr(out, "usage: stemgate render SPEC"));
  assert_non_null(strstr(out, "3 I/O error"));
  assert_int_equal(run("help verify"), 0);
  assert_non_null(strstr(out, "--junit"));
  assert_int_equal(run("render --help"), 0);
  assert_int_equal(run("--version"), 0);
  assert_non_null(strstr(out, "stemgate 0."));
  assert_int_equal(run(""), 2);
  assert_int_equal(run("frobnicate"), 2);
  assert_non_null(strstr(out, "unknown command"));
  assert_int_equal(run("render"), 2);
  assert_int_equal(run("render a.yaml --bogus"), 2);
  assert_non_null(strstr(out, "--bogus"));
  assert_int_equal(run("help nope"), 2);
}

static void spec_errors_point_into_the_file(void **st) {
  (void)st;
  const char *p = sg_test_path("typo.yaml");
  assert_int_equal(sg_test_write_text(p, "title: T\ntempo: 120\ntmepo: 3\nsections:\n"
                                         "  - {name: a, bars: 4}\n"),
                   0);
  char args[1200];
  snprintf(args, sizeof args, "render '%s' -o '%s'", p, sg_test_path("o"));
  assert_int_equal(run(args), 2);
  assert_non_null(strstr(out, "typo.yaml:3:1:"));
  assert_non_null(strstr(out, "did you mean 'tempo'"));
  snprintf(args, sizeof args, "timing '%s'", p);
  assert_int_equal(run(args), 2);
  snprintf(args, sizeof args, "render '%s'", sg_test_path("absent.yaml"));
  assert_int_equal(run(args), 3);
}

static void timing_table(void **st) {
  (void)st;
  char args[1200];
  snprintf(args, sizeof args, "timing '%s'", sg_test_source("examples/deja-vu.yaml"));
  assert_int_equal(run(args), 0);
  /* The bridge: bars 49-64, snapped from 1:22-1:49, first frame 3949714 at 48 kHz. */
  const char *b = strstr(out, "bridge");
  assert_non_null(b);
  assert_non_null(strstr(b, "49-64"));
  assert_non_null(strstr(b, "3949714"));
  assert_non_null(strstr(b, "start +0.286 s"));
  assert_non_null(strstr(out, "total: 80 bars, 2:17.143, 6582857 frames"));
}

/* A tempo map: the table's tempo column per section, the map with its ritardando, and the same
 * in --json (examples/last-chorus.yaml: 112, a bridge at 84, back to 112, 112 -> 96 over bars
 * 21-24, the chorus at 96). */
static void timing_tempo_map(void **st) {
  (void)st;
  char args[1200];
  snprintf(args, sizeof args, "timing '%s'", sg_test_source("examples/last-chorus.yaml"));
  assert_int_equal(run(args), 0);
  const char *b = strstr(out, "\nbridge");
  assert_non_null(b);
  assert_non_null(strstr(b, "1234286")); /* 12 bars at 112 BPM, 48 kHz */
  assert_non_null(strstr(b, "      84 "));
  const char *c = strstr(out, "\nchorus");
  assert_non_null(c);
  assert_non_null(strstr(c, "      96 "));
  assert_non_null(strstr(out, "bars 13-16 (from bridge): 84"));
  assert_non_null(strstr(out, "bars 21-24 (verse 2): ritardando 112 -> 96, linear, frames "
                              "2194286-2638240"));
  snprintf(args, sizeof args, "timing '%s' --json", sg_test_source("examples/last-chorus.yaml"));
  assert_int_equal(run(args), 0);
  assert_non_null(strstr(out, "\"tempo_map\""));
  assert_non_null(strstr(out, "\"curve\": \"linear\""));
  assert_non_null(strstr(out, "\"tempo_bpm\": 84"));
}

static void analyze_a_file(void **st) {
  (void)st;
  /* A 2 s 440 Hz tone at -6 dBFS written by the test. */
  const char *p = sg_test_path("tone.wav");
  sg_audio_writer_config c;
  sg_audio_writer_config_init(&c);
  c.channels = 1;
  float *x = malloc(96000 * sizeof *x);
  for (int i = 0; i < 96000; ++i)
    x[i] = 0.5f * (float)sin(2 * SG_PI * 440 * i / 48000.0);
  assert_int_equal(sg_audio_write_all(p, x, 96000, &c, NULL), SG_OK);
  free(x);
  char args[1200];
  snprintf(args, sizeof args, "analyze '%s'", p);
  assert_int_equal(run(args), 0);
  assert_non_null(strstr(out, "48000 Hz"));
  assert_non_null(strstr(out, "peak -6.02 dBFS"));
  snprintf(args, sizeof args, "analyze '%s'", sg_test_path("nothing.wav"));
  assert_int_equal(run(args), 3);
}

/* .wav files under dir and its subfolders (0 when dir does not exist). */
static int count_wavs(const char *dir) {
  DIR *dp = opendir(dir);
  if (!dp)
    return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(dp)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    char sub[1200];
    snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
    size_t len = strlen(e->d_name);
    if (len > 4 && strcmp(e->d_name + len - 4, ".wav") == 0)
      ++n;
    else
      n += count_wavs(sub);
  }
  closedir(dp);
  return n;
}

static void write_bytes(const char *path, const char *b, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(b, 1, n, f), n);
  fclose(f);
}

/* Every schema case: check, timing, render and render --dry-run exit 2 with the located
 * diagnostic, and no audio is written. */
static void schema_errors_stop_every_command(void **st) {
  (void)st;
  write_bytes(sg_test_path("ok.mid"), SCHEMA_OK_MID, sizeof SCHEMA_OK_MID - 1);
  write_bytes(sg_test_path("ok.sf2"), SCHEMA_OK_SF2, sizeof SCHEMA_OK_SF2 - 1);
  char spec[1200], outdir[1200], args[2600], where[64];
  snprintf(spec, sizeof spec, "%s", sg_test_path("case.yaml"));
  snprintf(outdir, sizeof outdir, "%s", sg_test_path("case-out"));
  static const char *const cmds[] = {"check '%s'", "timing '%s'", "render '%s' -o '%s' --jobs 1",
                                     "render '%s' -o '%s' --dry-run"};
  for (int i = 0; i < N_SCHEMA_CASES; ++i) {
    const schema_case *c = &k_schema_cases[i];
    assert_int_equal(sg_test_write_text(spec, c->yaml), 0);
    snprintf(where, sizeof where, "case.yaml:%d:%d: ", c->line, c->col);
    for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; ++k) {
      snprintf(args, sizeof args, cmds[k], spec, outdir);
      int rc = run(args);
      if (rc != 2 || !strstr(out, where) || !strstr(out, c->phrase))
        print_error("case '%s', stemgate %s: exit %d, want 2 and %s...%s...\n%s", c->name, args, rc,
                    where, c->phrase, out);
      assert_int_equal(rc, 2);
      assert_non_null(strstr(out, where));
      assert_non_null(strstr(out, c->phrase));
      assert_int_equal(count_wavs(outdir), 0);
    }
  }
}

/* The case: a typo in an effect of the bundled song fails in the first step. */
static void deja_vu_typo_fails_before_any_audio(void **st) {
  (void)st;
  FILE *f = fopen(sg_test_source("examples/deja-vu.yaml"), "rb");
  assert_non_null(f);
  static char text[1 << 16];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  char *p = strstr(text, "mix: 0.18}");
  assert_non_null(p);
  memmove(p + 1, p + 2, strlen(p + 2) + 1); /* "mix" -> "mx" */
  const char *spec = sg_test_path("deja-typo.yaml");
  assert_int_equal(sg_test_write_text(spec, text), 0);
  char outdir[1200], args[2600];
  snprintf(outdir, sizeof outdir, "%s", sg_test_path("deja-out"));
  snprintf(args, sizeof args, "render '%s' -o '%s' --jobs 1", spec, outdir);
  assert_int_equal(run(args), 2);
  assert_non_null(strstr(out, "deja-typo.yaml:70:46: effect 4 (reverb) of stem 'Guitars': "
                              "unknown parameter 'mx'; did you mean 'mix'?"));
  assert_int_equal(count_wavs(outdir), 0);
  snprintf(args, sizeof args, "check '%s'", spec);
  assert_int_equal(run(args), 2);
}

static void examples_pass_check_and_dry_run(void **st) {
  (void)st;
  static const char *const ex[] = {"deja-vu",   "minimal",     "night-drive", "waltz",
                                   "ballad-68", "seven-eight", "last-chorus"};
  char args[2600], outdir[1200];
  snprintf(outdir, sizeof outdir, "%s", sg_test_path("dry-out"));
  for (size_t i = 0; i < sizeof ex / sizeof ex[0]; ++i) {
    char rel[64];
    snprintf(rel, sizeof rel, "examples/%s.yaml", ex[i]);
    snprintf(args, sizeof args, "check '%s'", sg_test_source(rel));
    int rc = run(args);
    if (rc != 0)
      print_error("%s\n", out);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "is valid"));
    assert_non_null(strstr(out, "total: "));
    snprintf(args, sizeof args, "render '%s' -o '%s' --dry-run", sg_test_source(rel), outdir);
    assert_int_equal(run(args), 0);
    assert_non_null(strstr(out, "total: "));
    assert_non_null(strstr(out, "nothing rendered or written"));
    /* Not even the folder. */
    DIR *dp = opendir(outdir);
    assert_null(dp);
  }
  /* The dry run prints exactly the timing table. */
  snprintf(args, sizeof args, "timing '%s'", sg_test_source("examples/deja-vu.yaml"));
  assert_int_equal(run(args), 0);
  static char timing[1 << 16];
  snprintf(timing, sizeof timing, "%s", out);
  snprintf(args, sizeof args, "render '%s' --dry-run", sg_test_source("examples/deja-vu.yaml"));
  assert_int_equal(run(args), 0);
  assert_memory_equal(out, timing, strlen(timing));
  assert_int_equal(run("check"), 2);
  assert_int_equal(run("help check"), 0);
  assert_non_null(strstr(out, "usage: stemgate check SPEC"));
}

/* The everyday listing commands read the tables the code uses: every parameter of every effect
 * and instrument is shown with its range and default, JSON parses as JSON, and the check table
 * lists every check. */
static void list_commands(void **st) {
  (void)st;
  assert_int_equal(run("list effects reverb"), 0);
  assert_non_null(strstr(out, "rt60"));
  assert_non_null(strstr(out, "0.1..30 s"));
  assert_non_null(strstr(out, "default 2 "));
  assert_int_equal(run("list effects"), 0);
  for (int i = 0; i < sg_fx_type_count(); ++i) {
    const char *name = NULL, *doc = NULL;
    const sg_param_def *defs = NULL;
    int n = 0;
    assert_int_equal(sg_fx_type_schema(i, &name, &doc, &defs, &n), SG_OK);
    char head[64];
    snprintf(head, sizeof head, "%s:", name);
    assert_non_null(strstr(out, head));
    for (int k = 0; k < n; ++k)
      assert_non_null(strstr(out, defs[k].name));
  }
  assert_int_equal(run("list patches"), 0);
  assert_non_null(strstr(out, "epiano (default)"));
  assert_int_equal(run("list instruments moog_bass"), 0);
  assert_non_null(strstr(out, "cutoff"));
  assert_null(strstr(out, "dx7"));
  assert_int_equal(run("list styles --json"), 0);
  sg_json_doc *doc = NULL;
  assert_int_equal(sg_json_parse(out, strlen(out), &doc, NULL), SG_OK);
  assert_int_equal(sg_json_root(doc)->type, SG_JSON_ARRAY);
  assert_non_null(strstr(out, "\"bossa\""));
  sg_json_doc_free(doc);
  assert_int_equal(run("list styles"), 0); /* every style of the table, the five of #15 too */
  for (const char *sn = "pop\0bossa\0samba\0house\0ballad\0funk\0swing\0dnb\0reggae\0"; *sn;
       sn += strlen(sn) + 1)
    assert_non_null(strstr(out, sn));
  assert_int_equal(run("list effects eq --json"), 0);
  assert_int_equal(sg_json_parse(out, strlen(out), &doc, NULL), SG_OK);
  sg_json_doc_free(doc);
  assert_int_equal(run("list effects nosuch"), 2);
  assert_int_equal(run("list"), 2);
  assert_int_equal(run("list fruit"), 2);
  assert_int_equal(run("checks"), 0);
  for (int i = 0; i < SG_CHECK_COUNT; ++i)
    assert_non_null(strstr(out, sg_check_get((sg_check_id)i)->name));
  assert_int_equal(run("checks --markdown"), 0);
  assert_non_null(strstr(out, "| `true_peak` |"));
  for (const char *v = "-V\0-v\0version\0"; *v; v += strlen(v) + 1) {
    assert_int_equal(run(v), 0);
    assert_non_null(strstr(out, "stemgate 0."));
  }
}

/* Render output by verbosity: the default shows steps, stems, the numbers that matter and every
 * warning; -v every row; --quiet no PASS row at all. Piped output carries no escape bytes. */
static void render_output_levels(void **st) {
  (void)st;
  const char *spec = sg_test_path("tiny.yaml");
  assert_int_equal(sg_test_write_text(spec, "title: Tiny\n"
                                            "tempo: 120\n"
                                            "key: C major\n"
                                            "sections:\n"
                                            "  - {name: a, bars: 4, chords: \"C | Am | F | G\"}\n"
                                            "stems:\n"
                                            "  - {name: Keys, instrument: dx7}\n"
                                            "drums: {source: synth}\n"),
                   0);
  char args[1024];
  size_t lines[3];
  const char *flags[3] = {"--quiet", "", "-v"};
  for (int k = 0; k < 3; ++k) {
    snprintf(args, sizeof args, "render '%s' -o '%s' --jobs 1 %s", spec, sg_test_path("tinyout"),
             flags[k]);
    assert_int_equal(run(args), 0);
    assert_null(strchr(out, '\033')); /* piped: no colour */
    assert_non_null(strstr(out, "done in "));
    lines[k] = 0;
    for (const char *p = out; (p = strstr(p, "PASS  ")); ++p)
      ++lines[k];
    if (k == 1) {
      assert_non_null(strstr(out, "[7/7] package"));
      assert_non_null(strstr(out, " true_peak "));
    }
  }
  printf("PASS rows printed: quiet %zu, default %zu, verbose %zu\n", lines[0], lines[1], lines[2]);
  assert_int_equal(lines[0], 0);
  assert_true(lines[1] > 0 && lines[1] * 4 < lines[2]);

  /* NOTES.txt keeps the master block indented, and bars are inclusive in NOTES and manifest. */
  char zip[1024];
  snprintf(zip, sizeof zip, "%s/current/tiny.zip", sg_test_path("tinyout"));
  sg_zip_reader *zr = NULL;
  assert_int_equal(sg_zip_reader_open(&zr, zip, NULL, NULL), SG_OK);
  char *notes = NULL, *manifest = NULL;
  size_t n = 0;
  assert_int_equal(
      sg_zip_reader_read_all(zr, sg_zip_reader_find(zr, "NOTES.txt"), 1 << 20, &notes, &n, NULL),
      SG_OK);
  assert_int_equal(sg_zip_reader_read_all(zr, sg_zip_reader_find(zr, "manifest.json"), 1 << 22,
                                          &manifest, &n, NULL),
                   SG_OK);
  const char *m = strstr(notes, "\nMASTER");
  assert_non_null(m);
  for (const char *l = strchr(m + 1, '\n') + 1; *l && *l != '\n'; l = strchr(l, '\n') + 1)
    assert_memory_equal(l, "    ", 4);
  assert_non_null(strstr(notes, "bars   1-4 "));
  assert_non_null(strstr(manifest, "\"end_bar\": 4"));
  free(notes);
  free(manifest);
  sg_zip_reader_close(zr);

  /* verify --json - writes the report to standard output, not to a file named "-". */
  snprintf(args, sizeof args, "verify '%s' --spec '%s' --json - --quiet", zip, spec);
  int rc = run(args);
  assert_non_null(strstr(out, "\"schema\": \"stemgate.verify/1\""));
  assert_int_equal(rc, 0);
}

/* The first spec in README.md and in docs/spec.md is valid as printed. */
static void documented_specs_are_valid(void **st) {
  (void)st;
  static const char *const docs[] = {"README.md", "docs/spec.md"};
  for (int i = 0; i < 2; ++i) {
    FILE *f = fopen(sg_test_source(docs[i]), "rb");
    assert_non_null(f);
    static char text[1 << 18];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *a = strstr(text, "```yaml\n");
    assert_non_null(a);
    a += 8;
    char *b = strstr(a, "```");
    assert_non_null(b);
    *b = '\0';
    const char *spec = sg_test_path(i ? "doc-spec.yaml" : "doc-readme.yaml");
    assert_int_equal(sg_test_write_text(spec, a), 0);
    char args[1024];
    snprintf(args, sizeof args, "check '%s'", spec);
    if (run(args) != 0)
      fail_msg("the first spec of %s does not pass check:\n%s", docs[i], out);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(render_output_levels),
      cmocka_unit_test(documented_specs_are_valid),
      cmocka_unit_test(list_commands),
      cmocka_unit_test(help_and_usage),
      cmocka_unit_test(spec_errors_point_into_the_file),
      cmocka_unit_test(timing_table),
      cmocka_unit_test(timing_tempo_map),
      cmocka_unit_test(analyze_a_file),
      cmocka_unit_test(schema_errors_stop_every_command),
      cmocka_unit_test(deja_vu_typo_fails_before_any_audio),
      cmocka_unit_test(examples_pass_check_and_dry_run),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
