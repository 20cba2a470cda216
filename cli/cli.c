/* Helpers shared by the stemgate commands. */
#include "cli.h"

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
