/* stemgate command line: a thin layer over the library. Every command maps library statuses to
 * the documented exit codes: 0 done, 1 a gate failed, 2 usage or spec error, 3 I/O error. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const sg_cli_command commands[] = {
    {"render", "render a song spec into a verified delivery package", sg_cli_render,
     "usage: stemgate render SPEC [-o DIR] [--reference FILE] [--force] [--jobs N] [--quiet]\n"
     "                            [--wait] [--dry-run]\n"
     "\n"
     "Runs the seven gated steps (timing, reference, stems, drums, fx, master, package) and\n"
     "prints one line per gate: verdict, step, stem, check, measured value and limit. Stops at\n"
     "the first failed gate.\n"
     "\n"
     "  -o DIR            output folder (default out/<song-slug>)\n"
     "  --reference FILE  reference drum track (overrides drums.reference in the spec)\n"
     "  --force           ignore the incremental cache and render everything\n"
     "  --jobs N          render N stems at once (default: one per core); the files are\n"
     "                    identical for any N\n"
     "  --quiet, -q       print only warnings, failures and the result\n"
     "  --verbose, -v     print every gate row (default: steps, stems, the numbers that matter\n"
     "                    and every warning and failure; colour on a terminal unless NO_COLOR)\n"
     "  --wait            when another render is writing DIR, wait for it (default: exit 3\n"
     "                    at once, naming its process id)\n"
     "  --dry-run         validate the spec and print the timing table, then stop: no audio,\n"
     "                    no folder, no file is written\n"
     "\n"
     "DIR/current is the delivered set (zip, master and stems), replaced as a whole when a\n"
     "render passes: a failed or killed render leaves the previous set. DIR/work keeps the dry\n"
     "stems, MIDI files and cache records: a second render re-renders only the stems whose\n"
     "inputs changed.\n"
     "\n"
     "exit codes: 0 done, 1 a gate failed, 2 usage or spec error, 3 I/O error\n"},
    {"verify", "check any delivery package (zip or folder) against a spec", sg_cli_verify,
     "usage: stemgate verify PACKAGE.zip|DIR [--spec SPEC] [--reference REF] [--json FILE]\n"
     "                      [--junit FILE] [--criteria FILE] [--quiet]\n"
     "\n"
     "Independent QC of a stem package: files present, rate, format, channels, lengths, sync\n"
     "of the master to the reference and of every stem to the master, tempo, key per section,\n"
     "loudness, true peak, clipping, silence and where each stem plays. Prints a table (--quiet:\n"
     "only warnings and failures); --json and --junit write reports for CI (FILE - is standard\n"
     "output; the table then goes to stderr). --criteria FILE reads a client's acceptance\n"
     "criteria (a YAML file holding one `delivery:` block, see docs/spec.md) in place of the\n"
     "spec's. Without --spec, a stemgate zip is checked against its own manifest.json: every\n"
     "entry's hash and header, every audio file re-measured (loudness, peaks, DC, format,\n"
     "lengths) against the figures and limits it records; a package without one needs --spec.\n"
     "\n"
     "exit codes: 0 every required check holds, 1 a check failed, 2 usage error,\n"
     "            3 the package cannot be read\n"},
    {"check", "validate a spec completely and print its timing table (no audio)", sg_cli_check,
     "usage: stemgate check SPEC | --schema\n"
     "\n"
     "Loads the spec with every check a render would meet (keys, effects and their parameters,\n"
     "instruments, patches and params, styles, patterns, sidechains, MIDI and SoundFont files)\n"
     "and prints the section table. Writes nothing; takes milliseconds. --schema prints the\n"
     "parameter reference generated from the tables (docs/spec.md embeds it).\n"
     "\n"
     "exit codes: 0 valid, 2 usage or spec error (file:line:col: message), 3 I/O error\n"},
    {"timing", "print the section table of a spec (bars, beats, seconds, frames)", sg_cli_timing,
     "usage: stemgate timing SPEC\n"
     "\n"
     "Computes the exact grid: each section's start and end in bars, beats, seconds and sample\n"
     "frames, the total length, and how far target times (\"1:22\") moved when snapped to bars.\n"},
    {"analyze", "measure one audio file (loudness, peaks, tempo, key)", sg_cli_analyze,
     "usage: stemgate analyze FILE [--bpm BPM]\n"
     "\n"
     "Prints format, length, sample and true peak, loudness, DC, clipping, tempo estimate,\n"
     "first downbeat and the key track of any file libsndfile reads.\n"},
    {"list", "list instruments, patches, styles or effects with every parameter", sg_cli_list,
     "usage: stemgate list instruments|patches|styles|effects [NAME] [--json]\n"
     "\n"
     "What a spec may name, read from the tables the code uses: each instrument's patches and\n"
     "parameters, each effect's parameters (unit, range, default, what it does), the styles.\n"
     "NAME shows one; --json prints the same as JSON.\n"},
    {"checks", "list every check render and verify report (name, step, severity)", sg_cli_checks,
     "usage: stemgate checks [--markdown]\n"
     "\n"
     "Lists the one table of checks: name, step, severity and what each measures. --markdown\n"
     "prints the full table (limits, spec keys, how to fix) as docs/gates.md.\n"},
};
static const size_t n_commands = sizeof commands / sizeof commands[0];

static void usage(FILE *f) {
  fprintf(f, "stemgate %s - incremental, verified audio production\n\n", sg_version());
  fprintf(f, "usage: stemgate COMMAND [ARGS]\n\ncommands:\n");
  for (size_t i = 0; i < n_commands; ++i)
    fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "  %-8s %s\n", "help", "show help for a command: stemgate help render");
  fprintf(f, "\nexit codes: 0 done, 1 a gate failed, 2 usage or spec error, 3 I/O error\n");
}

static const sg_cli_command *find(const char *name) {
  for (size_t i = 0; i < n_commands; ++i)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return SG_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
    usage(stdout);
    return SG_EXIT_OK;
  }
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "-v") ||
      !strcmp(cmd, "version")) {
    printf("stemgate %s\n", sg_version());
    return SG_EXIT_OK;
  }
  if (!strcmp(cmd, "help")) {
    if (argc < 3) {
      usage(stdout);
      return SG_EXIT_OK;
    }
    const sg_cli_command *c = find(argv[2]);
    if (!c) {
      fprintf(stderr, "stemgate: no command '%s'\n", argv[2]);
      return SG_EXIT_USAGE;
    }
    fputs(c->help, stdout);
    return SG_EXIT_OK;
  }
  const sg_cli_command *c = find(cmd);
  if (!c) {
    fprintf(stderr, "stemgate: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return SG_EXIT_USAGE;
  }
  for (int i = 2; i < argc; ++i)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(c->help, stdout);
      return SG_EXIT_OK;
    }
  return c->run(argc - 1, argv + 1, c);
}
