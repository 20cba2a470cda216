/* stemgate render SPEC: the seven gated steps, one printed line per gate. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How much a render prints: QUIET only warnings, failures and the result; NORMAL the steps,
 * the stems, every warning and failure and the numbers that matter (loudness, true peak,
 * tempo, keys, sync); VERBOSE every row. */
typedef enum verbosity { QUIET = 0, NORMAL, VERBOSE } verbosity;

typedef struct out_state {
  verbosity v;
  int colour; /* stdout is a terminal and NO_COLOR is unset */
  struct timespec t0;
  size_t rows, shown;
} out_state;

static double elapsed(const out_state *o) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - o->t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - o->t0.tv_nsec);
}

/* Step and stem lines from the pipeline; steps carry the time since the start. */
static void print_line(void *user, const char *line) {
  out_state *o = user;
  if (o->v == QUIET)
    return;
  if (line[0] == '[')
    printf("%6.1fs %s\n", elapsed(o), line);
  else
    printf("        %s\n", line);
  fflush(stdout);
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

static void print_row(void *user, const sg_gate_result *g) {
  out_state *o = user;
  ++o->rows;
  int bad = !g->pass;
  if (!(o->v == VERBOSE || bad || (o->v == NORMAL && matters(g))))
    return;
  ++o->shown;
  char line[600];
  sg_gate_result_format(g, line, sizeof line);
  const char *c = !o->colour ? ""
                  : !g->pass ? (g->required ? "\033[1;31m" : "\033[33m")
                             : "\033[32m";
  /* The verdict word in colour on a terminal; the rest as it is. */
  printf("        %s%.4s%s%s\n", c, line, o->colour ? "\033[0m" : "", line + 4);
  fflush(stdout);
}

int sg_cli_render(int argc, char **argv, const sg_cli_command *self) {
  sg_render_options opt;
  sg_render_options_init(&opt);
  out_state o;
  memset(&o, 0, sizeof o);
  o.v = NORMAL;
  o.colour = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
  clock_gettime(CLOCK_MONOTONIC, &o.t0);
  opt.log = print_line;
  opt.on_row = print_row;
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
    } else if (!strcmp(a, "--jobs") || !strcmp(a, "-j")) {
      char *end = NULL;
      if (++i >= argc || (opt.jobs = (int)strtol(argv[i], &end, 10), *end) || opt.jobs < 1 ||
          opt.jobs > 64)
        return sg_cli_usage_error(self, "--jobs takes a number of threads 1..64, got",
                                  i < argc ? argv[i] : "nothing");
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
  sg_render_result res;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_render(&opt, &res, &d);
  if (st == SG_OK) {
    size_t warn = 0;
    for (size_t i = 0; i < res.gates.n; ++i)
      warn += !res.gates.v[i].pass;
    char warns[64] = "";
    if (warn)
      snprintf(warns, sizeof warns, ", %zu warning%s (shown above)", warn, warn == 1 ? "" : "s");
    printf("done in %.1f s: %s (%.1f s song; %d stems rendered, %d from the cache; %zu checks "
           "passed%s)\n",
           elapsed(&o), res.zip_path, res.seconds, res.stems_rendered, res.stems_cached,
           res.gates.n - warn, warns);
  } else {
    sg_cli_print_diag(&d);
    if (st == SG_E_GATE)
      fprintf(stderr, "stemgate: stopped at the first failed gate; files written before it are "
                      "complete and valid\n");
  }
  sg_render_result_free(&res);
  return sg_exit_code(st);
}
