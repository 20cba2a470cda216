/* stemgate render SPEC: the seven gated steps, one printed line per gate. */
#include "cli.h"

#include "package/json.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How much a render prints: QUIET only warnings, failures and the result; NORMAL the steps,
 * the stems, every warning and failure and the numbers that matter (loudness, true peak,
 * tempo, keys, sync); VERBOSE every row. */
typedef enum verbosity { QUIET = 0, NORMAL, VERBOSE } verbosity;

typedef struct out_state {
  verbosity v;
  int colour;   /* stdout is a terminal and NO_COLOR is unset */
  int progress; /* stdout is a terminal: a live progress line, redrawn in place */
  int events;   /* --json-events: one JSON object per line on stdout, nothing else there */
  struct timespec t0;
  size_t rows, shown;
  pthread_mutex_t lock; /* progress comes from worker threads */
  int drawn;            /* width of the progress line on screen (0: none) */
  double last_draw;
  char step[64]; /* the step running ("stems", "master", ...), for events and the report */
  int step_no;
  double step_t0;
  size_t step_rows, step_failed;
} out_state;

static double elapsed(const out_state *o) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - o->t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - o->t0.tv_nsec);
}

/* Removes the progress line before a normal line is printed (lock held). Without colour no
 * escape sequence is written: the line is overwritten with spaces. */
static void erase_progress(out_state *o) {
  if (!o->drawn)
    return;
  if (o->colour)
    fputs("\r\033[K", stdout);
  else
    printf("\r%*s\r", o->drawn, "");
  o->drawn = 0;
}

static void mmss(double s, char *out, size_t cap) {
  long t = s < 0 ? 0 : (long)(s + 0.5);
  snprintf(out, cap, "%ld:%02ld", t / 60, t % 60);
}

/* The live line: step, stem, percent of the run's audio written, elapsed and estimated time
 * left; at most ten redraws a second. */
static void on_progress(void *user, const char *step, const char *stem, double f) {
  out_state *o = user;
  if (!o->progress)
    return;
  pthread_mutex_lock(&o->lock);
  double t = elapsed(o);
  if (t - o->last_draw >= 0.1 || o->last_draw == 0) {
    o->last_draw = t;
    char el[16], left[16] = "?";
    mmss(t, el, sizeof el);
    if (f > 0.02)
      mmss(t * (1 - f) / f, left, sizeof left);
    char line[160];
    int n = snprintf(line, sizeof line, "  %s %-.20s %3.0f%%  %s elapsed, ~%s left", step, stem,
                     100 * f, el, left);
    if (n > 79) /* one terminal line, or \r cannot go back to its start */
      n = 79;
    int old = o->drawn;
    printf("\r%.*s", n, line);
    if (old > n)
      printf("%*s\r%.*s", old - n, "", n, line);
    o->drawn = n;
    fflush(stdout);
  }
  pthread_mutex_unlock(&o->lock);
}

/* --json-events: one compact object per line. */
static void emit(sg_json_writer *w) {
  sg_json_end_object(w);
  const char *t = sg_json_writer_text(w, NULL);
  if (t)
    printf("%s\n", t);
  fflush(stdout);
  sg_json_writer_free(w);
}

static void event_begin(sg_json_writer *w, const out_state *o, const char *ev) {
  sg_json_writer_init(w, 0);
  sg_json_begin_object(w);
  sg_json_kv_string(w, "event", ev);
  sg_json_kv_number(w, "t", (double)(long long)(elapsed(o) * 1000) / 1000);
}

static void step_end_event(out_state *o) {
  if (!o->events || !o->step[0])
    return;
  sg_json_writer w;
  event_begin(&w, o, "step_end");
  sg_json_kv_string(&w, "step", o->step);
  sg_json_kv_number(&w, "seconds", (double)(long long)((elapsed(o) - o->step_t0) * 1000) / 1000);
  sg_json_kv_int(&w, "rows", (int64_t)o->step_rows);
  sg_json_kv_int(&w, "failed", (int64_t)o->step_failed);
  emit(&w);
}

/* Step and stem lines from the pipeline; steps carry the time since the start. */
static void print_line(void *user, const char *line) {
  out_state *o = user;
  pthread_mutex_lock(&o->lock);
  if (line[0] == '[') { /* "[3/7] stems", "[2/7] reference: none given" */
    step_end_event(o);
    const char *nm = strchr(line, ']');
    nm = nm ? nm + 1 + (nm[1] == ' ') : line;
    size_t len = strcspn(nm, ":");
    snprintf(o->step, sizeof o->step, "%.*s", (int)len, nm);
    o->step_no = atoi(line + 1);
    o->step_t0 = elapsed(o);
    o->step_rows = o->step_failed = 0;
    if (o->events) {
      sg_json_writer w;
      event_begin(&w, o, "step_start");
      sg_json_kv_string(&w, "step", o->step);
      sg_json_kv_int(&w, "index", o->step_no);
      sg_json_kv_string(&w, "line", line);
      emit(&w);
    }
  } else if (o->events && line[0] == ' ') {
    sg_json_writer w;
    event_begin(&w, o, "stem");
    sg_json_kv_string(&w, "step", o->step);
    sg_json_kv_string(&w, "stem", line + strspn(line, " "));
    emit(&w);
  }
  if (o->v != QUIET && !o->events) {
    erase_progress(o);
    if (line[0] == '[')
      printf("%6.1fs %s\n", elapsed(o), line);
    else
      printf("        %s\n", line);
    fflush(stdout);
  }
  pthread_mutex_unlock(&o->lock);
}

/* The checks whose numbers a producer reads on every render. */
static int matters(const sg_gate_result *g) {
  static const sg_check_id ids[] = {
      SG_CHECK_LOUDNESS,    SG_CHECK_TRUE_PEAK,  SG_CHECK_TEMPO,         SG_CHECK_KEY,
      SG_CHECK_SYNC_OFFSET, SG_CHECK_SYNC_DRIFT, SG_CHECK_STEM_LOUDNESS, SG_CHECK_REFERENCE_TEMPO};
  for (size_t i = 0; i < sizeof ids / sizeof *ids; ++i)
    if (g->id == ids[i])
      return strcmp(g->step, "verify") != 0; /* verify's rows repeat the render's */
  return 0;
}

static void row_event(out_state *o, const sg_gate_result *g) {
  sg_json_writer w;
  event_begin(&w, o, "gate");
  sg_cli_event_row_fields(&w, g);
  emit(&w);
}

static void print_row(void *user, const sg_gate_result *g) {
  out_state *o = user;
  pthread_mutex_lock(&o->lock);
  ++o->rows;
  ++o->step_rows;
  o->step_failed += !g->pass && g->required;
  if (o->events) {
    row_event(o, g);
    pthread_mutex_unlock(&o->lock);
    return;
  }
  int bad = !g->pass;
  if (!(o->v == VERBOSE || bad || (o->v == NORMAL && matters(g)))) {
    pthread_mutex_unlock(&o->lock);
    return;
  }
  ++o->shown;
  erase_progress(o);
  char line[600];
  sg_gate_result_format(g, line, sizeof line);
  const char *c = !o->colour ? ""
                  : !g->pass ? (g->required ? "\033[1;31m" : "\033[33m")
                             : "\033[32m";
  /* The verdict word in colour on a terminal; the rest as it is. */
  printf("        %s%.4s%s%s\n", c, line, o->colour ? "\033[0m" : "", line + 4);
  fflush(stdout);
  pthread_mutex_unlock(&o->lock);
}

/* DIR/report.json and DIR/junit.xml, after every render that reached its output folder (passed
 * or failed): the gate rows so far, the failing row, the step it stopped in and the exit code,
 * so CI has something to read when there is no package. */
static void write_reports(const out_state *o, const sg_render_options *opt,
                          const sg_render_result *res, sg_status st, const sg_diag *d) {
  struct stat sb;
  if (!res->out_dir[0] || stat(res->out_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return;
  const sg_gate_result *fail = sg_gate_first_failure(&res->gates, 0);
  char diag[1200] = "";
  if (st != SG_OK)
    sg_diag_format(d, diag, sizeof diag);
  sg_json_writer w;
  sg_json_writer_init(&w, 1);
  sg_json_begin_object(&w);
  sg_json_kv_string(&w, "schema", "stemgate.render/1");
  sg_json_kv_string(&w, "tool_version", sg_version());
  sg_json_kv_string(&w, "spec", opt->spec_path);
  sg_json_kv_bool(&w, "ok", st == SG_OK);
  sg_json_kv_int(&w, "exit_code", sg_exit_code(st));
  sg_json_kv_string(&w, "status", sg_status_name(st));
  sg_json_kv_string(&w, "step", fail ? fail->step : st == SG_OK ? NULL : o->step);
  sg_json_kv_string(&w, "error", st == SG_OK ? NULL : diag);
  sg_json_kv_string(&w, "package", st == SG_OK ? res->zip_path : NULL);
  sg_json_kv_int(&w, "checks_total", (int64_t)res->gates.n);
  sg_json_kv_int(&w, "checks_failed", (int64_t)res->gates.failed);
  sg_json_key(&w, "failure");
  if (fail)
    sg_json_gate_row(&w, fail);
  else
    sg_json_null(&w);
  sg_json_key(&w, "checks");
  sg_json_begin_array(&w);
  for (size_t i = 0; i < res->gates.n; ++i)
    sg_json_gate_row(&w, &res->gates.v[i]);
  sg_json_end_array(&w);
  sg_json_end_object(&w);
  char path[1200];
  sg_diag wd;
  sg_diag_clear(&wd);
  const char *text = sg_json_writer_text(&w, NULL);
  snprintf(path, sizeof path, "%s/report.json", res->out_dir);
  if (!text || sg_verify_write_text(path, text, &wd) != SG_OK)
    fprintf(stderr, "stemgate: cannot write %s\n", path);
  sg_json_writer_free(&w);
  /* JUnit through verify's writer: one testcase per row, failures as <failure message=...>. */
  sg_verify_result *vr = calloc(1, sizeof *vr);
  char *xml = NULL;
  if (vr) {
    vr->report = res->gates; /* borrowed, not freed */
    vr->package_readable = 1;
    snprintf(vr->package, sizeof vr->package, "%s", st == SG_OK ? res->zip_path : opt->spec_path);
    snprintf(path, sizeof path, "%s/junit.xml", res->out_dir);
    if (sg_verify_to_junit(vr, &xml) != SG_OK || sg_verify_write_text(path, xml, &wd) != SG_OK)
      fprintf(stderr, "stemgate: cannot write %s\n", path);
  }
  free(xml);
  free(vr);
}

int sg_cli_render(int argc, char **argv, const sg_cli_command *self) {
  sg_render_options opt;
  sg_render_options_init(&opt);
  out_state o;
  memset(&o, 0, sizeof o);
  pthread_mutex_init(&o.lock, NULL);
  o.v = NORMAL;
  o.colour = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
  o.progress = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
  clock_gettime(CLOCK_MONOTONIC, &o.t0);
  opt.log = print_line;
  opt.on_row = print_row;
  opt.progress = on_progress;
  opt.log_user = &o;
  int dry_run = 0;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (!strcmp(a, "-o") || !strcmp(a, "--out")) {
      if (++i >= argc)
        return sg_cli_usage_error(self, "missing folder after", a);
      opt.out_dir = argv[i];
    } else if (!strcmp(a, "--reference")) {
      if (++i >= argc)
        return sg_cli_usage_error(self, "missing file after", a);
      opt.reference = argv[i];
    } else if (!strcmp(a, "--only")) {
      if (++i >= argc)
        return sg_cli_usage_error(self, "missing stem name after", a);
      opt.audition_stem = argv[i];
    } else if (!strcmp(a, "--section")) {
      if (++i >= argc)
        return sg_cli_usage_error(self, "missing section name after", a);
      opt.audition_section = argv[i];
    } else if (!strcmp(a, "--preview")) {
      if (++i >= argc || (strcmp(argv[i], "flac") && strcmp(argv[i], "mp3")))
        return sg_cli_usage_error(self, "--preview takes flac or mp3, got",
                                  i < argc ? argv[i] : "nothing");
      opt.preview = argv[i];
    } else if (!strcmp(a, "--date")) {
      /* The bext date comes from SOURCE_DATE_EPOCH (reproducible builds); "now" stamps the
       * wall clock, which makes this render's files differ from any other's. */
      char *end = NULL;
      if (++i >= argc || (strcmp(argv[i], "now") && (strtoll(argv[i], &end, 10) < 0 || *end)))
        return sg_cli_usage_error(self, "--date takes now or seconds since 1970, got",
                                  i < argc ? argv[i] : "nothing");
      char epoch[32];
      snprintf(epoch, sizeof epoch, "%lld",
               strcmp(argv[i], "now") ? strtoll(argv[i], NULL, 10) : (long long)time(NULL));
      setenv("SOURCE_DATE_EPOCH", epoch, 1);
    } else if (!strcmp(a, "--jobs") || !strcmp(a, "-j")) {
      char *end = NULL;
      if (++i >= argc || (opt.jobs = (int)strtol(argv[i], &end, 10), *end) || opt.jobs < 1 ||
          opt.jobs > 64)
        return sg_cli_usage_error(self, "--jobs takes a number of threads 1..64, got",
                                  i < argc ? argv[i] : "nothing");
    } else if (!strcmp(a, "--variant")) {
      if (++i >= argc)
        return sg_cli_usage_error(self, "missing variant name after", a);
      opt.variant = argv[i];
    } else if (!strcmp(a, "--cache")) {
      if (++i >= argc)
        return sg_cli_usage_error(self, "missing folder after", a);
      opt.cache_dir = argv[i];
    } else if (!strcmp(a, "--force")) {
      opt.force = 1;
    } else if (!strcmp(a, "--wait")) {
      opt.wait = 1;
    } else if (!strcmp(a, "--dry-run") || !strcmp(a, "-n")) {
      dry_run = 1;
    } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
      o.v = QUIET;
    } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
      o.v = VERBOSE;
    } else if (!strcmp(a, "--json-events")) {
      o.events = 1;
    } else if (a[0] == '-') {
      return sg_cli_usage_error(self, "unknown option", a);
    } else if (!opt.spec_path) {
      opt.spec_path = a;
    } else {
      return sg_cli_usage_error(self, "more than one spec given:", a);
    }
  }
  if (!opt.spec_path)
    return sg_cli_usage_error(self, "no spec given", NULL);
  if (o.events)
    o.progress = o.colour = 0;
  if (dry_run) {
    /* The library's load (every check) and grid, as `stemgate timing`; the render itself, which
     * creates the output folder, never starts. */
    sg_song *song = NULL;
    sg_timeline tl;
    int rc = sg_cli_load_and_time(opt.spec_path, &song, &tl);
    if (rc != SG_EXIT_OK)
      return rc;
    sg_cli_print_timing(song, &tl);
    printf("dry run: %s is valid; nothing rendered or written\n", opt.spec_path);
    sg_song_free(song);
    return SG_EXIT_OK;
  }
  const int audition = opt.audition_stem || opt.audition_section;
  if (audition && !o.events)
    printf("audition: %s%s%s%s - written to DIR/audition/, not a delivery (no package)\n",
           opt.audition_stem ? "stem " : "", opt.audition_stem ? opt.audition_stem : "",
           opt.audition_stem && opt.audition_section ? ", " : "",
           opt.audition_section ? opt.audition_section : "");
  sg_render_result res;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_render(&opt, &res, &d);
  pthread_mutex_lock(&o.lock);
  erase_progress(&o);
  o.progress = 0;
  pthread_mutex_unlock(&o.lock);
  step_end_event(&o);
  if (!audition)
    write_reports(&o, &opt, &res, st, &d);
  size_t warn = 0;
  for (size_t i = 0; i < res.gates.n; ++i)
    warn += !res.gates.v[i].pass && !res.gates.v[i].required;
  if (o.events) {
    sg_json_writer w;
    char diag[1200] = "";
    if (st != SG_OK)
      sg_diag_format(&d, diag, sizeof diag);
    event_begin(&w, &o, "summary");
    sg_json_kv_bool(&w, "ok", st == SG_OK);
    sg_json_kv_int(&w, "exit_code", sg_exit_code(st));
    sg_json_kv_int(&w, "checks_total", (int64_t)res.gates.n);
    sg_json_kv_int(&w, "checks_failed", (int64_t)res.gates.failed);
    sg_json_kv_int(&w, "warnings", (int64_t)warn);
    sg_json_kv_string(&w, "step", o.step);
    sg_json_kv_string(&w, "error", st == SG_OK ? NULL : diag);
    sg_json_kv_string(&w, "package", st == SG_OK && !audition ? res.zip_path : NULL);
    sg_json_kv_string(&w, "audition", res.audition_path[0] ? res.audition_path : NULL);
    sg_json_kv_string(&w, "preview", res.preview_path[0] ? res.preview_path : NULL);
    sg_json_kv_number(&w, "seconds", (double)(long long)(elapsed(&o) * 1000) / 1000);
    emit(&w);
  }
  if (st == SG_OK && !o.events) {
    char warns[64] = "";
    if (warn)
      snprintf(warns, sizeof warns, ", %zu warning%s (shown above)", warn, warn == 1 ? "" : "s");
    if (audition)
      printf("audition done in %.1f s: %s (not a delivery; %zu checks passed%s)\n", elapsed(&o),
             res.audition_path, res.gates.n - warn, warns);
    else
      printf("done in %.1f s: %s (%.1f s song; %d stems rendered, %d from the cache; %zu checks "
             "passed%s)\n",
             elapsed(&o), res.zip_path, res.seconds, res.stems_rendered, res.stems_cached,
             res.gates.n - warn, warns);
    if (res.preview_path[0])
      printf("preview: %s (not part of the package)\n", res.preview_path);
  } else if (st != SG_OK) {
    sg_cli_print_diag(&d);
    if (st == SG_E_GATE)
      fprintf(stderr, "stemgate: stopped at the first failed gate; files written before it are "
                      "complete and valid\n");
    if (!audition && res.out_dir[0])
      fprintf(stderr, "stemgate: report: %s/report.json, %s/junit.xml\n", res.out_dir, res.out_dir);
  }
  sg_render_result_free(&res);
  pthread_mutex_destroy(&o.lock);
  return sg_exit_code(st);
}
