/* stemgate verify PACKAGE [--spec SPEC]: independent QC of a delivery package, against a spec or,
 * without one, against the package's own manifest.json. */
#include "cli.h"

#include "package/json.h"
#include "stemgate/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_report(const char *path, sg_status (*render)(const sg_verify_result *, char **),
                        const sg_verify_result *res) {
  char *text = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = render(res, &text);
  if (st == SG_OK)
    st = sg_verify_write_text(path, text, &d);
  else
    sg_diag_fail(&d, st, "cannot render the report for '%s'", path);
  free(text);
  if (st != SG_OK) {
    sg_cli_print_diag(&d);
    return 0;
  }
  return 1;
}

int sg_cli_verify(int argc, char **argv, const sg_cli_command *self) {
  const char *package = NULL, *spec = NULL, *reference = NULL, *json = NULL, *junit = NULL,
             *criteria = NULL, *html = NULL;
  int quiet = 0, events = 0;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
      quiet = 1;
      continue;
    }
    if (!strcmp(a, "--json-events")) {
      events = 1;
      continue;
    }
    const char **slot = !strcmp(a, "--spec")        ? &spec
                        : !strcmp(a, "--reference") ? &reference
                        : !strcmp(a, "--json")      ? &json
                        : !strcmp(a, "--junit")     ? &junit
                        : !strcmp(a, "--criteria")  ? &criteria
                        : !strcmp(a, "--report")    ? &html
                                                    : NULL;
    if (slot) {
      if (i + 1 >= argc)
        return sg_cli_usage_error(self, "missing value after", a);
      *slot = argv[++i];
    } else if (a[0] == '-' && a[1]) {
      return sg_cli_usage_error(self, "unknown option", a);
    } else if (package) {
      return sg_cli_usage_error(self, "give exactly one package; also got", a);
    } else {
      package = a;
    }
  }
  if (!package)
    return sg_cli_usage_error(self, "no package given", NULL);
  sg_diag d;
  sg_diag_clear(&d);
  sg_verify_options opt;
  sg_verify_options_init(&opt);
  opt.package = package;
  opt.reference = reference;
  sg_verify_result res;
  sg_status st;
  int ok_html = 1;
  if (!spec) {
    /* No spec: the package is checked against its own manifest.json. */
    if (reference)
      return sg_cli_usage_error(self, "--reference needs --spec SPEC (the song's grid)", NULL);
    if (html)
      return sg_cli_usage_error(self, "--report needs --spec SPEC (the sections it draws)", NULL);
    st = sg_verify_manifest(&opt, criteria, &res, &d);
    if (st == SG_E_INVAL || st == SG_E_SPEC) {
      sg_cli_print_diag(&d);
      sg_verify_result_free(&res);
      return SG_EXIT_USAGE;
    }
  } else {
    sg_song *song = NULL;
    st = sg_song_load(spec, &song, &d);
    if (st != SG_OK) {
      sg_cli_print_diag(&d);
      return SG_EXIT_USAGE; /* a spec that cannot be used is a usage error, whatever the cause */
    }
    /* A client's acceptance criteria replace the spec's own delivery block. */
    if (criteria && (st = sg_delivery_load(criteria, song, &d)) != SG_OK) {
      sg_cli_print_diag(&d);
      sg_song_free(song);
      return SG_EXIT_USAGE;
    }
    sg_diag_clear(&d);
    st = sg_verify_package(song, &opt, &res, &d);
    if (html) {
      sg_diag hd;
      sg_diag_clear(&hd);
      if (sg_verify_to_html(song, &res, html, &hd) != SG_OK) {
        sg_cli_print_diag(&hd);
        ok_html = 0;
      }
    }
    sg_song_free(song);
  }

  /* A report written to standard output ("-") keeps stdout for itself: the table goes to stderr. */
  FILE *tty =
      events || (json && !strcmp(json, "-")) || (junit && !strcmp(junit, "-")) ? stderr : stdout;
  /* --json-events: one object per gate row, then the summary, as render streams them. */
  for (size_t i = 0; events && i <= res.report.n; ++i) {
    sg_json_writer w;
    sg_json_writer_init(&w, 0);
    sg_json_begin_object(&w);
    if (i < res.report.n) {
      sg_json_kv_string(&w, "event", "gate");
      sg_cli_event_row_fields(&w, &res.report.v[i]);
    } else {
      sg_json_kv_string(&w, "event", "summary");
      sg_json_kv_bool(&w, "ok", st == SG_OK);
      sg_json_kv_int(&w, "exit_code", sg_exit_code(st));
      sg_json_kv_int(&w, "checks_total", (int64_t)res.report.n);
      sg_json_kv_int(&w, "checks_failed", (int64_t)res.report.failed);
      sg_json_kv_string(&w, "package", package);
    }
    sg_json_end_object(&w);
    const char *t = sg_json_writer_text(&w, NULL);
    if (t)
      printf("%s\n", t);
    sg_json_writer_free(&w);
  }
  if (quiet) { /* only what needs attention, then the verdict */
    size_t bad = 0;
    for (size_t i = 0; i < res.report.n; ++i)
      if (!res.report.v[i].pass) {
        char line[600];
        fprintf(tty, "%s\n", sg_gate_result_format(&res.report.v[i], line, sizeof line));
        ++bad;
      }
    fprintf(tty, "%zu checks, %zu failed, %zu warnings: %s\n", res.report.n, res.report.failed,
            bad - res.report.failed, st == SG_OK ? "PASS" : "FAIL");
  } else {
    char *table = NULL;
    if (sg_verify_to_table(&res, &table) == SG_OK)
      fputs(table, tty);
    free(table);
  }
  fflush(tty);
  int ok_reports = ok_html;
  if (json)
    ok_reports &= write_report(json, sg_verify_to_json, &res);
  if (junit)
    ok_reports &= write_report(junit, sg_verify_to_junit, &res);
  int code;
  switch (st) {
  case SG_OK:
    code = SG_EXIT_OK;
    break;
  case SG_E_GATE:
    code = SG_EXIT_GATE;
    break;
  case SG_E_IO:
  case SG_E_FORMAT:
  case SG_E_LIMIT:
  case SG_E_NOMEM:
    code = SG_EXIT_IO;
    break;
  default:
    code = sg_exit_code(st);
  }
  if (st != SG_OK)
    sg_cli_print_diag(&d);
  sg_verify_result_free(&res);
  if (!ok_reports && code == SG_EXIT_OK)
    code = SG_EXIT_IO;
  return code;
}
