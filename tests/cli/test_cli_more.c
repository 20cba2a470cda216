/* The stemgate command's everyday side (issue 17): the live progress line in a pseudo-terminal
 * and nothing of it (and no escape byte) when piped or with NO_COLOR; --json-events; the report
 * a failed render leaves (report.json, junit.xml); init; auditions (--only, --section) exact to
 * the timeline's frames; timing and analyze --json; the FLAC/MP3 preview; the bext chunk (date
 * from SOURCE_DATE_EPOCH, BWF v2 loudness, coding history). Runs the built binary. */
#include "sg_test.h"

#include "package/json.h"
#include "stemgate/io.h"

#include <dirent.h>
#include <math.h>
#include <pty.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char out[1 << 20];
static size_t out_n;

/* Runs "stemgate ARGS" (with env, a prefix like "NO_COLOR=1") piped; stdout+stderr in out. */
static int run_env(const char *env, const char *args) {
  const char *bin = getenv("SG_STEMGATE");
  assert_non_null(bin);
  char cmd[4096];
  /* stderr joins stdout unless args redirect it themselves */
  snprintf(cmd, sizeof cmd, "%s '%s' %s%s", env ? env : "", bin, args,
           strstr(args, "2>") ? "" : " 2>&1");
  FILE *f = popen(cmd, "r");
  assert_non_null(f);
  out_n = fread(out, 1, sizeof out - 1, f);
  out[out_n] = '\0';
  int status = pclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
static int run(const char *args) { return run_env(NULL, args); }

/* Runs "stemgate ARGS" on a pseudo-terminal (stdout and stderr are its slave side), as a user at
 * a terminal would; everything it wrote is in out. */
static int run_pty(int no_color, const char *const *argv) {
  int master = -1;
  pid_t pid = forkpty(&master, NULL, NULL, NULL);
  assert_true(pid >= 0);
  if (pid == 0) {
    if (no_color)
      setenv("NO_COLOR", "1", 1);
    else
      unsetenv("NO_COLOR");
    execv(getenv("SG_STEMGATE"), (char *const *)argv);
    _exit(127);
  }
  out_n = 0;
  for (;;) {
    ssize_t k = read(master, out + out_n, sizeof out - 1 - out_n);
    if (k <= 0) /* EIO once the child has closed the slave side */
      break;
    out_n += (size_t)k;
  }
  out[out_n] = '\0';
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char k_tiny[] = "title: Tiny\n"
                             "tempo: 120\n"
                             "key: C major\n"
                             "format: pcm24\n"
                             "sections:\n"
                             "  - {name: verse, bars: 2, chords: \"C | Am\"}\n"
                             "  - {name: chorus, bars: 2, chords: \"F | G\"}\n"
                             "stems:\n"
                             "  - {name: Keys, instrument: dx7}\n"
                             "drums: {source: synth}\n";

static const char *tiny_spec(void) {
  const char *spec = sg_test_path("tiny.yaml");
  static int written;
  if (!written++)
    assert_int_equal(sg_test_write_text(spec, k_tiny), 0);
  return spec;
}

static int has_escape(void) { return memchr(out, 0x1b, out_n) != NULL; }

static void progress_only_on_a_terminal(void **st) {
  (void)st;
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", sg_test_path("prog"));
  const char *argv[] = {"stemgate", "render", tiny_spec(), "-o", dir,
                        "--jobs",   "1",      "--force",   NULL};
  assert_int_equal(run_pty(0, argv), 0);
  /* The live line: redrawn with \r, a percent, elapsed and time left, erased before the
   * result line. */
  const char *p = strstr(out, "% ");
  assert_non_null(p);
  assert_non_null(strstr(out, " elapsed, ~"));
  assert_non_null(strchr(out, '\r'));
  assert_non_null(strstr(out, "\r\033[K"));
  assert_non_null(strstr(out, "done in "));
  /* NO_COLOR on a terminal: the progress line is still there, but not one escape byte. */
  assert_int_equal(run_pty(1, argv), 0);
  assert_non_null(strstr(out, " elapsed, ~"));
  assert_false(has_escape());
  /* Piped: no progress line, no carriage return, no escape byte. */
  char args[2200];
  snprintf(args, sizeof args, "render '%s' -o '%s' --jobs 1 --force", tiny_spec(), dir);
  assert_int_equal(run(args), 0);
  assert_null(strstr(out, "elapsed, ~"));
  assert_null(strchr(out, '\r'));
  assert_false(has_escape());
  assert_non_null(strstr(out, "done in "));
}

/* --json-events: every line of stdout is one JSON object; gate rows carry their fields; the
 * stream ends with the summary. */
static void json_events_parse(void **st) {
  (void)st;
  char args[2200];
  snprintf(args, sizeof args, "render '%s' -o '%s' --jobs 1 --json-events 2>/dev/null", tiny_spec(),
           sg_test_path("ev"));
  assert_int_equal(run(args), 0);
  size_t lines = 0, gates = 0, starts = 0, ends = 0;
  int summary = 0;
  for (char *l = out, *e; *l; l = e + 1) {
    e = strchr(l, '\n');
    assert_non_null(e);
    *e = '\0';
    sg_json_doc *doc = NULL;
    if (sg_json_parse(l, strlen(l), &doc, NULL) != SG_OK)
      fail_msg("not one JSON object: %s", l);
    const sg_json_value *v = sg_json_root(doc);
    assert_int_equal(v->type, SG_JSON_OBJECT);
    const char *ev = sg_json_get_str(v, "event", "");
    assert_false(summary); /* nothing after the summary */
    if (!strcmp(ev, "gate")) {
      ++gates;
      static const char *const keys[] = {"check", "step",    "stem",     "measured", "limit",
                                         "unit",  "verdict", "required", "detail"};
      for (size_t k = 0; k < sizeof keys / sizeof *keys; ++k)
        assert_non_null(sg_json_get(v, keys[k]));
      const char *vd = sg_json_get_str(v, "verdict", "");
      assert_true(!strcmp(vd, "pass") || !strcmp(vd, "warn") || !strcmp(vd, "info"));
    } else if (!strcmp(ev, "step_start")) {
      ++starts;
    } else if (!strcmp(ev, "step_end")) {
      ++ends;
    } else if (!strcmp(ev, "summary")) {
      summary = 1;
      assert_true(sg_json_get_bool(v, "ok", 0));
      assert_int_equal((int)sg_json_get_num(v, "exit_code", -1), 0);
      assert_true(sg_json_get_num(v, "checks_total", 0) == (double)gates);
    } else {
      assert_string_equal(ev, "stem");
    }
    sg_json_doc_free(doc);
    ++lines;
  }
  printf("json events: %zu lines, %zu gate rows, %zu steps\n", lines, gates, starts);
  assert_true(summary);
  assert_true(gates > 50);
  assert_true(starts >= 7);
  assert_int_equal(starts, ends);

  /* verify streams the same gate events and a summary. */
  snprintf(args, sizeof args, "verify '%s/current/tiny.zip' --spec '%s' --json-events 2>/dev/null",
           sg_test_path("ev"), tiny_spec());
  assert_int_equal(run(args), 0);
  size_t vgates = 0;
  int vsummary = 0;
  for (char *l = out, *e; *l; l = e + 1) {
    e = strchr(l, '\n');
    assert_non_null(e);
    *e = '\0';
    sg_json_doc *doc = NULL;
    if (sg_json_parse(l, strlen(l), &doc, NULL) != SG_OK)
      fail_msg("verify: not one JSON object: %s", l);
    const char *ev = sg_json_get_str(sg_json_root(doc), "event", "");
    vgates += !strcmp(ev, "gate");
    if (!strcmp(ev, "summary")) {
      vsummary = 1;
      assert_true(sg_json_get_bool(sg_json_root(doc), "ok", 0));
    }
    sg_json_doc_free(doc);
  }
  assert_true(vsummary);
  assert_true(vgates > 20);
}

static int count_files(const char *dir, const char *suffix) {
  DIR *dp = opendir(dir);
  if (!dp)
    return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(dp)) != NULL) {
    size_t a = strlen(e->d_name), b = strlen(suffix);
    n += e->d_name[0] != '.' && a > b && !strcmp(e->d_name + a - b, suffix);
  }
  closedir(dp);
  return n;
}

/* A render whose master cannot reach its loudness target under its true-peak ceiling fails in
 * the master step and still leaves report.json and junit.xml; no package is delivered. */
static void failed_render_writes_its_report(void **st) {
  (void)st;
  const char *spec = sg_test_path("loud.yaml");
  char text[2048];
  snprintf(text, sizeof text,
           "%smaster: {loudness_lufs: -5, loudness_tolerance: 0.1, "
           "true_peak_dbtp: -9}\n",
           k_tiny);
  assert_int_equal(sg_test_write_text(spec, text), 0);
  char dir[1024], args[2400], path[1200];
  snprintf(dir, sizeof dir, "%s", sg_test_path("loud-out"));
  snprintf(args, sizeof args, "render '%s' -o '%s' --jobs 1", spec, dir);
  assert_int_equal(run(args), 1);
  assert_non_null(strstr(out, "report.json"));
  snprintf(path, sizeof path, "%s/current", dir);
  assert_int_equal(count_files(path, ".zip"), 0);
  snprintf(path, sizeof path, "%s/report.json", dir);
  size_t n = 0;
  char *rep = sg_test_read_file(path, &n);
  assert_non_null(rep);
  sg_json_doc *doc = NULL;
  assert_int_equal(sg_json_parse(rep, n, &doc, NULL), SG_OK);
  const sg_json_value *v = sg_json_root(doc);
  assert_false(sg_json_get_bool(v, "ok", 1));
  assert_int_equal((int)sg_json_get_num(v, "exit_code", 0), 1);
  assert_string_equal(sg_json_get_str(v, "step", ""), "master");
  const sg_json_value *fail = sg_json_get(v, "failure");
  assert_non_null(fail);
  assert_int_equal(fail->type, SG_JSON_OBJECT);
  printf("failing row: %s %s measured %g limit %g\n", sg_json_get_str(fail, "step", ""),
         sg_json_get_str(fail, "check", ""), sg_json_get_num(fail, "measured", 0),
         sg_json_get_num(fail, "limit", 0));
  assert_string_equal(sg_json_get_str(fail, "verdict", ""), "fail");
  const sg_json_value *checks = sg_json_get(v, "checks");
  assert_non_null(checks);
  assert_true(checks->n > 10);
  assert_true(sg_json_get_num(v, "checks_total", 0) == (double)checks->n);
  const size_t n_checks = checks->n;
  sg_json_doc_free(doc);
  free(rep);
  snprintf(path, sizeof path, "%s/junit.xml", dir);
  char *xml = sg_test_read_file(path, &n);
  assert_non_null(xml);
  assert_non_null(strstr(xml, "<failure message=\""));
  size_t cases = 0;
  for (const char *p = xml; (p = strstr(p, "<testcase ")); ++p)
    ++cases;
  assert_int_equal(cases, n_checks);
  free(xml);
}

/* init writes a template that renders as it is, and never overwrites. */
static void init_template_renders(void **st) {
  (void)st;
  const char *spec = sg_test_path("init.yaml");
  char args[2400];
  snprintf(args, sizeof args, "init '%s'", spec);
  assert_int_equal(run(args), 0);
  size_t n = 0;
  char *text = sg_test_read_file(spec, &n);
  assert_non_null(text);
  static const char *const keys[] = {
      "\ntitle:", "\ntempo:",  "\nmeter:",       "\nsample_rate:", "\nformat:",   "\nkey:",
      "\nstyle:", "\nseed:",   "\nswing:",       "\nhumanize:",    "\nsections:", "\nstems:",
      "\ndrums:", "\nmaster:", "\ndeliverable:", "\ngates:",       "\nchannels:"};
  for (size_t k = 0; k < sizeof keys / sizeof *keys; ++k) {
    const char *p = strstr(text, keys[k]);
    assert_non_null(p);
    ++p;
    /* the line before each top-level key is a comment */
    assert_true(p > text + 2 && p[-1] == '\n');
    const char *prev = p - 2;
    while (prev > text && prev[-1] != '\n')
      --prev;
    assert_int_equal(*prev, '#');
  }
  assert_int_equal(run(args), 2); /* exists: not overwritten */
  assert_non_null(strstr(out, "not overwriting"));
  char *again = sg_test_read_file(spec, &n);
  assert_string_equal(again, text);
  free(again);
  free(text);
  snprintf(args, sizeof args, "render '%s' -o '%s' --quiet", spec, sg_test_path("init-out"));
  int rc = run(args);
  if (rc != 0)
    print_error("%s\n", out);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(out, "done in "));
}

static int64_t file_frames(const char *path, unsigned *rate) {
  sg_audio_reader *rd = NULL;
  sg_audio_info info;
  if (sg_audio_reader_open(&rd, path, &info, NULL) != SG_OK)
    return -1;
  sg_audio_reader_close(rd);
  if (rate)
    *rate = info.rate;
  return info.frames;
}

/* Auditions: a section's file has exactly the section's frames from `timing --json`; --only
 * writes one file; neither makes a package; unknown names exit 2 with a did-you-mean. */
static void auditions_and_timing_json(void **st) {
  (void)st;
  char args[2400], dir[1024], path[1200];
  snprintf(args, sizeof args, "timing '%s' --json", tiny_spec());
  assert_int_equal(run(args), 0);
  sg_json_doc *doc = NULL;
  assert_int_equal(sg_json_parse(out, out_n, &doc, NULL), SG_OK);
  const sg_json_value *secs = sg_json_get(sg_json_root(doc), "sections");
  assert_non_null(secs);
  assert_int_equal(secs->n, 2);
  const sg_json_value *chorus = sg_json_at(secs, 1);
  assert_string_equal(sg_json_get_str(chorus, "name", ""), "chorus");
  int64_t a = (int64_t)sg_json_get_num(chorus, "start_frame", -1);
  int64_t b = (int64_t)sg_json_get_num(chorus, "end_frame", -1);
  assert_int_equal((int)sg_json_get_num(chorus, "start_bar", 0), 3);
  assert_int_equal((int)sg_json_get_num(chorus, "end_bar", 0), 4);
  assert_int_equal(a, 192000);
  assert_int_equal(b, 384000);
  assert_int_equal((int64_t)sg_json_get_num(sg_json_root(doc), "total_frames", 0), 384000);
  sg_json_doc_free(doc);

  snprintf(dir, sizeof dir, "%s", sg_test_path("aud"));
  snprintf(args, sizeof args, "render '%s' -o '%s' --jobs 1 --section chorus", tiny_spec(), dir);
  assert_int_equal(run(args), 0);
  assert_non_null(strstr(out, "audition"));
  snprintf(path, sizeof path, "%s/audition/Master-chorus.wav", dir);
  assert_int_equal(file_frames(path, NULL), b - a);
  snprintf(path, sizeof path, "%s/current", dir);
  assert_int_equal(count_files(path, ".zip"), 0);
  assert_int_equal(count_files(path, ".wav"), 0);

  snprintf(dir, sizeof dir, "%s", sg_test_path("aud-only"));
  snprintf(args, sizeof args, "render '%s' -o '%s' --jobs 1 --only Keys", tiny_spec(), dir);
  assert_int_equal(run(args), 0);
  snprintf(path, sizeof path, "%s/audition", dir);
  assert_int_equal(count_files(path, ".wav"), 1);
  snprintf(path, sizeof path, "%s/audition/Keys.wav", dir);
  assert_int_equal(file_frames(path, NULL), b);
  assert_null(strstr(out, "[6/7] master"));
  snprintf(path, sizeof path, "%s/current", dir);
  assert_int_equal(count_files(path, ".zip"), 0);

  snprintf(args, sizeof args, "render '%s' -o '%s' --only Kyes", tiny_spec(), dir);
  assert_int_equal(run(args), 2);
  assert_non_null(strstr(out, "did you mean 'Keys'"));
  snprintf(args, sizeof args, "render '%s' -o '%s' --section chrous", tiny_spec(), dir);
  assert_int_equal(run(args), 2);
  assert_non_null(strstr(out, "did you mean 'chorus'"));
}

static void analyze_json(void **st) {
  (void)st;
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
  snprintf(args, sizeof args, "analyze '%s' --json", p);
  assert_int_equal(run(args), 0);
  sg_json_doc *doc = NULL;
  assert_int_equal(sg_json_parse(out, out_n, &doc, NULL), SG_OK);
  const sg_json_value *v = sg_json_root(doc);
  assert_int_equal((int)sg_json_get_num(v, "sample_rate", 0), 48000);
  assert_int_equal((int)sg_json_get_num(v, "frames", 0), 96000);
  assert_true(fabs(sg_json_get_num(v, "sample_peak_dbfs", 0) - -6.02) < 0.01);
  assert_non_null(sg_json_get(v, "tempo"));
  sg_json_doc_free(doc);
}

/* --preview: the master as FLAC (and MP3 where libsndfile encodes it) outside the package, read
 * back with libsndfile: same rate, the FLAC sample-exact, the MP3 within a frame or two of
 * codec delay. The delivered master's bext: date from SOURCE_DATE_EPOCH, version 2 loudness
 * equal to the master's gate row, coding history. */
static void preview_and_bext(void **st) {
  (void)st;
  char dir[1024], args[2600], path[1200];
  snprintf(dir, sizeof dir, "%s", sg_test_path("pv"));
  snprintf(args, sizeof args, "render '%s' -o '%s' --jobs 1 --preview flac --quiet", tiny_spec(),
           dir);
  assert_int_equal(run_env("SOURCE_DATE_EPOCH=1700000000", args), 0);
  assert_non_null(strstr(out, "preview: "));
  /* As long as the delivered master (the song plus its ring-out). */
  snprintf(path, sizeof path, "%s/current/tiny_Master.wav", dir);
  unsigned rate = 0;
  int64_t master_frames = file_frames(path, &rate);
  assert_true(master_frames >= 384000);
  snprintf(path, sizeof path, "%s/preview/tiny.flac", dir);
  assert_int_equal(file_frames(path, &rate), master_frames);
  assert_int_equal(rate, 48000);
  snprintf(path, sizeof path, "%s/current", dir);
  assert_int_equal(count_files(path, ".flac"), 0);

  /* bext of the delivered master */
  snprintf(path, sizeof path, "%s/current/tiny_Master.wav", dir);
  SF_INFO si;
  memset(&si, 0, sizeof si);
  SNDFILE *sf = sf_open(path, SFM_READ, &si);
  assert_non_null(sf);
  SF_BROADCAST_INFO bi;
  memset(&bi, 0, sizeof bi);
  assert_int_equal(sf_command(sf, SFC_GET_BROADCAST_INFO, &bi, sizeof bi), SF_TRUE);
  sf_close(sf);
  printf("bext: %.10s %.8s v%d loudness %d range %d tp %d mom %d st %d history %s",
         bi.origination_date, bi.origination_time, bi.version, bi.loudness_value, bi.loudness_range,
         bi.max_true_peak_level, bi.max_momentary_loudness, bi.max_shortterm_loudness,
         bi.coding_history);
  assert_memory_equal(bi.origination_date, "2023-11-14", 10); /* 1700000000 = 22:13:20 UTC */
  assert_memory_equal(bi.origination_time, "22:13:20", 8);
  assert_int_equal(bi.version, 2);
  assert_non_null(strstr(bi.coding_history, "A=PCM,F=48000,W=24,M=stereo,T=stemgate"));
  /* The manifest's master loudness row, rounded to 0.01 LU as bext stores it. */
  snprintf(path, sizeof path, "%s/report.json", dir);
  size_t n = 0;
  char *rep = sg_test_read_file(path, &n);
  assert_non_null(rep);
  sg_json_doc *doc = NULL;
  assert_int_equal(sg_json_parse(rep, n, &doc, NULL), SG_OK);
  double lufs = NAN, tp = NAN;
  for (const sg_json_value *r = sg_json_get(sg_json_root(doc), "checks")->child; r; r = r->next)
    if (!strcmp(sg_json_get_str(r, "step", ""), "master") &&
        !strcmp(sg_json_get_str(r, "stem", ""), "Master")) {
      if (!strcmp(sg_json_get_str(r, "check", ""), "loudness"))
        lufs = sg_json_get_num(r, "measured", NAN);
      if (!strcmp(sg_json_get_str(r, "check", ""), "true_peak"))
        tp = sg_json_get_num(r, "measured", NAN);
    }
  sg_json_doc_free(doc);
  free(rep);
  assert_true(isfinite(lufs) && isfinite(tp));
  assert_int_equal(bi.loudness_value, (int)floor(lufs * 100 + 0.5));
  assert_int_equal(bi.max_true_peak_level, (int)floor(tp * 100 + 0.5));
  assert_true(bi.max_momentary_loudness >= bi.max_shortterm_loudness - 1);
  assert_true(bi.max_shortterm_loudness >= bi.loudness_value - 1);
  assert_true(bi.loudness_range >= 0 && bi.loudness_range < 2000);

  /* MP3: libsndfile >= 1.1 with LAME encodes it; otherwise a clear error, exit 2. */
  snprintf(args, sizeof args, "render '%s' -o '%s' --jobs 1 --preview mp3 --quiet", tiny_spec(),
           dir);
  int rc = run_env("SOURCE_DATE_EPOCH=1700000000", args);
  if (rc == 0) {
    snprintf(path, sizeof path, "%s/preview/tiny.mp3", dir);
    int64_t fr = file_frames(path, &rate);
    printf("mp3 preview: %lld frames at %u Hz\n", (long long)fr, rate);
    assert_int_equal(rate, 48000);
    assert_true(fr >= master_frames - 1152 && fr <= master_frames + 3 * 1152);
  } else {
    printf("mp3 preview unsupported here: %s\n", out);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(out, "mp3"));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(progress_only_on_a_terminal),
      cmocka_unit_test(json_events_parse),
      cmocka_unit_test(failed_render_writes_its_report),
      cmocka_unit_test(auditions_and_timing_json),
      cmocka_unit_test(analyze_json),
      cmocka_unit_test(preview_and_bext),
      cmocka_unit_test(init_template_renders),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
