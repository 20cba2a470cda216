/* Helpers shared by the stemgate commands. */
#include "cli.h"

#include "package/json.h"

#include <stdio.h>
#include <string.h>

void sg_cli_print_diag(const sg_diag *d) {
  char buf[1200];
  fprintf(stderr, "stemgate: %s\n", sg_diag_format(d, buf, sizeof buf));
}

int sg_cli_usage_error(const sg_cli_command *self, const char *msg, const char *arg) {
  fprintf(stderr, "stemgate %s: %s%s%s\n", self->name, msg, arg ? " " : "", arg ? arg : "");
  /* The usage block: the help text up to its first blank line. */
  const char *end = strstr(self->help, "\n\n");
  fprintf(stderr, "%.*s\n", end ? (int)(end - self->help) : (int)strlen(self->help), self->help);
  return SG_EXIT_USAGE;
}

static const char *verdict(const sg_gate_result *g) {
  return g->pass ? (g->severity == SG_SEV_INFO ? "info" : "pass") : g->required ? "fail" : "warn";
}

void sg_cli_event_row_fields(sg_json_writer *w, const sg_gate_result *g) {
  sg_json_kv_string(w, "check", g->check);
  sg_json_kv_string(w, "step", g->step);
  sg_json_kv_string(w, "stem", g->stem);
  if (g->cmp == SG_CMP_TEXT) { /* the measurement is text: it is in detail */
    sg_json_kv_string(w, "measured", g->detail);
    sg_json_kv_string(w, "limit", NULL);
  } else {
    sg_json_kv_number(w, "measured", g->measured);
    sg_json_kv_number(w, "limit", g->limit);
  }
  sg_json_kv_string(w, "unit", g->unit);
  sg_json_kv_string(w, "verdict", verdict(g));
  sg_json_kv_bool(w, "required", g->required);
  sg_json_kv_string(w, "detail", g->detail);
}
