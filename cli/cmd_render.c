/* stemgate render SPEC: the seven gated steps, one printed line per gate. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_line(void *user, const char *line) {
  (void)user;
  puts(line);
  fflush(stdout);
}

int sg_cli_render(int argc, char **argv, const sg_cli_command *self) {
  sg_render_options opt;
  sg_render_options_init(&opt);
  opt.log = print_line;
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
      opt.log = NULL;
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
    printf("done: %s (%.1f s song; %d stems rendered, %d from the cache; %zu checks, %zu "
           "warnings)\n",
           res.zip_path, res.seconds, res.stems_rendered, res.stems_cached, res.gates.n, warn);
  } else {
    sg_cli_print_diag(&d);
    if (st == SG_E_GATE)
      fprintf(stderr, "stemgate: stopped at the first failed gate; files written before it are "
                      "complete and valid\n");
  }
  sg_render_result_free(&res);
  return sg_exit_code(st);
}
