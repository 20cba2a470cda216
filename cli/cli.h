/* Internal to the stemgate command: one function per command. */
#ifndef STEMGATE_CLI_H
#define STEMGATE_CLI_H

#include "stemgate/stemgate.h"

typedef struct sg_cli_command sg_cli_command;
struct sg_cli_command {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv, const sg_cli_command *self);
  const char *help;
};

int sg_cli_render(int argc, char **argv, const sg_cli_command *self);
int sg_cli_verify(int argc, char **argv, const sg_cli_command *self);
int sg_cli_timing(int argc, char **argv, const sg_cli_command *self);
int sg_cli_analyze(int argc, char **argv, const sg_cli_command *self);
int sg_cli_checks(int argc, char **argv, const sg_cli_command *self);
int sg_cli_list(int argc, char **argv, const sg_cli_command *self);
int sg_cli_check(int argc, char **argv, const sg_cli_command *self);
int sg_cli_init(int argc, char **argv, const sg_cli_command *self);
int sg_cli_batch(int argc, char **argv, const sg_cli_command *self);

/* Loads and validates spec and builds its grid; on failure prints the located diagnostic and
 * returns the exit code (2 for a spec error), with *song NULL. Nothing is written. */
int sg_cli_load_and_time(const char *spec, sg_song **song, sg_timeline *tl);
/* The section table of `stemgate timing` (also printed by check and render --dry-run). */
void sg_cli_print_timing(const sg_song *song, const sg_timeline *tl);

/* --json-events: the fields of a gate row's event (check, step, stem, measured, limit, unit,
 * verdict, required, detail), shared by render and verify. */
struct sg_json_writer;
void sg_cli_event_row_fields(struct sg_json_writer *w, const sg_gate_result *g);

/* Prints a diagnostic to stderr as "stemgate: <formatted diag>". */
void sg_cli_print_diag(const sg_diag *d);
/* Usage error: prints the message and the command's usage line; returns SG_EXIT_USAGE. */
int sg_cli_usage_error(const sg_cli_command *self, const char *msg, const char *arg);

#endif
