/* stemgate checks: every check render and verify can report, from the one table
 * (include/stemgate/check.h); --markdown prints docs/gates.md. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sg_cli_checks(int argc, char **argv, const sg_cli_command *self) {
  int markdown = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--markdown"))
      markdown = 1;
    else
      return sg_cli_usage_error(self, "unknown argument", argv[i]);
  }
  if (markdown) {
    char *md = NULL;
    if (sg_check_table_markdown(&md) != SG_OK) {
      fprintf(stderr, "stemgate: out of memory\n");
      return SG_EXIT_IO;
    }
    fputs(md, stdout);
    free(md);
    return SG_EXIT_OK;
  }
  printf("%-28s %-9s %-5s %s\n", "check", "step", "sev", "measures");
  for (int i = 0; i < SG_CHECK_COUNT; ++i) {
    const sg_check_def *c = sg_check_get((sg_check_id)i);
    printf("%-28s %-9s %-5s %s\n", c->name, c->step, sg_severity_name(c->severity), c->measures);
  }
  return SG_EXIT_OK;
}
