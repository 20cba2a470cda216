/* stemgate command line: a thin layer over the library. Every command maps library statuses to
 * the documented exit codes: 0 done, 1 a gate failed, 2 usage or spec error, 3 I/O error. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

static const sg_cli_command commands[] = {
    {"render", "render a song spec into a verified delivery package", sg_cli_render,
     "usage: stemgate render SPEC [-o DIR] [--reference FILE] [--force] [--jobs N] [--quiet]\n"
     "                            [--verbose] [--json-events] [--wait] [--dry-run]\n"
     "                            [--only STEM] [--section NAME] [--preview flac|mp3]\n"
     "                            [--date now|EPOCH] [--variant NAME] [--cache DIR]\n"
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
     "  --json-events     one JSON object per line on stdout: step_start, stem, gate (check,\n"
     "                    step, stem, measured, limit, unit, verdict, detail), step_end and a\n"
     "                    final summary; nothing else is printed there\n"
     "  --only STEM       audition: render only STEM with its effects (and a sidechain's\n"
     "                    source) into DIR/audition/; no master, no package\n"
     "  --section NAME    audition: only the frames of section NAME (the master, or STEM with\n"
     "                    --only), into DIR/audition/; never delivered\n"
     "  --preview CODEC   also write the master as flac or mp3 to DIR/preview/ (not in the zip)\n"
     "  --date now|EPOCH  the render date in the files' bext chunk (sets SOURCE_DATE_EPOCH);\n"
     "                    default: SOURCE_DATE_EPOCH, else 2000-01-01, so the same spec gives\n"
     "                    the same bytes\n"
     "  --variant NAME    a spec with a variations: block is several songs: render the one\n"
     "                    named NAME (stemgate batch renders them all; without --variant such\n"
     "                    a spec is refused, naming its variants)\n"
     "  --cache DIR       a node cache shared between songs (see stemgate batch --cache)\n"
     "\n"
     "On a terminal a progress line (step, stem, percent, elapsed, time left) is redrawn in\n"
     "place; nothing of it when the output is piped. Every render that reaches DIR writes\n"
     "DIR/report.json (the gate rows, the failing row, step and exit code) and DIR/junit.xml,\n"
     "whether it passed or failed.\n"
     "\n"
     "DIR/current is the delivered set (zip, master, stems, report.html), replaced as a whole\n"
     "when a render passes: a failed or killed render leaves the previous set and writes\n"
     "DIR/work/report.html, marked failed. DIR/work keeps the dry\n"
     "stems, MIDI files and cache records: a second render re-renders only the stems whose\n"
     "inputs changed.\n"
     "\n"
     "exit codes: 0 done, 1 a gate failed, 2 usage or spec error, 3 I/O error\n"},
    {"batch", "render many specs into one output root (sharded for Slurm/Kubernetes)", sg_cli_batch,
     "usage: stemgate batch SPEC_DIR|LIST.txt|SPEC.yaml -o ROOT [--jobs N] [--shard K/N]\n"
     "                      [--cache DIR | --no-cache]\n"
     "       stemgate batch --merge ROOT\n"
     "\n"
     "Renders every spec (SPEC_DIR: its *.yaml and *.yml files; LIST.txt: one spec path a line,\n"
     "'#' comments and blank lines skipped) as `stemgate render SPEC -o ROOT/<name>` would,\n"
     "where <name> is the spec's file name without .yaml, lowercased. Each folder is a normal\n"
     "output folder (its own lock, cache and current/ set). A failed song does not stop the\n"
     "others. A song whose package is unchanged is reported \"up to date\" (every node reused\n"
     "from its cache after its hashes were checked). ROOT/index.jsonl gets one line per spec,\n"
     "sorted by spec path: spec, spec_sha256, folder, verdict (pass, fail, error), exit_code,\n"
     "checks_passed, checks_failed, warnings, error, package (relative to ROOT) and files (each\n"
     "delivered file's name and SHA-256 from the manifest); written to a temporary name and\n"
     "renamed.\n"
     "\n"
     "A spec with a variations: block (seed, tempo, key, style, energy, drums.seed,\n"
     "drums.style: a mapping of lists, every combination, or a list of variants) is one song a\n"
     "variant, in ROOT/<name>-<variant> (e.g. song-seed2-key_D_minor); every variant is loaded\n"
     "and checked before anything renders. Nodes (a stem's dry render and effects) whose key\n"
     "another song already rendered are copied from the shared cache, after their hashes are\n"
     "checked, and printed as \"shared cache hit\".\n"
     "\n"
     "  -o ROOT        the output root (created when missing)\n"
     "  --cache DIR    the node cache shared between songs (default ROOT/.cache); shards and\n"
     "                 concurrent batches may share it (lock-free, atomic renames)\n"
     "  --no-cache     no shared cache: every song renders all of its nodes\n"
     "  --jobs N       stems rendered at once within a song (default: one per core)\n"
     "  --shard K/N    0-based: render only the specs whose position in the path-sorted list\n"
     "                 is K modulo N, and write ROOT/index.K-of-N.jsonl (Slurm:\n"
     "                 $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=0-(N-1);\n"
     "                 Kubernetes: $JOB_COMPLETION_INDEX/N). Shards never share a folder.\n"
     "  --merge ROOT   join ROOT/index.K-of-N.jsonl (all K of one N) into ROOT/index.jsonl\n"
     "\n"
     "exit codes: 0 every song delivered, 1 one or more songs failed (the count is printed and\n"
     "            each has its index line), 2 usage error, 3 the list or an index cannot be\n"
     "            read or written\n"},
    {"verify", "check any delivery package (zip or folder) against a spec", sg_cli_verify,
     "usage: stemgate verify PACKAGE.zip|DIR [--spec SPEC] [--reference REF] [--json FILE]\n"
     "                      [--junit FILE] [--report FILE.html] [--criteria FILE] [--quiet]\n"
     "                      [--json-events]\n"
     "\n"
     "Independent QC of a stem package: files present, rate, format, channels, lengths, sync\n"
     "of the master to the reference and of every stem to the master, tempo, key per section,\n"
     "loudness, true peak, clipping, silence and where each stem plays. Prints a table (--quiet:\n"
     "only warnings and failures); --json and --junit write reports for CI (FILE - is standard\n"
     "output; the table then goes to stderr). --json-events prints one JSON object per check\n"
     "and a summary on stdout, as render does (the table goes to stderr). --criteria FILE reads a "
     "client's acceptance\n"
     "criteria (a YAML file holding one `delivery:` block, see docs/spec.md) in place of the\n"
     "spec's. Without --spec, a stemgate zip is checked against its own manifest.json: every\n"
     "entry's hash and header, every audio file re-measured (loudness, peaks, DC, format,\n"
     "lengths) against the figures and limits it records; a package without one needs --spec.\n"
     "spec's. --report writes a self-contained report.html (waveforms over the sections,\n"
     "loudness, key, piano roll, every row with failures first).\n"
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
    {"init", "write a commented spec template that renders as it is", sg_cli_init,
     "usage: stemgate init [FILE]\n"
     "\n"
     "Writes a short song spec (default song.yaml; - prints it) with a comment on every\n"
     "top-level key; it renders and verifies unchanged. Never overwrites an existing file.\n"
     "\n"
     "exit codes: 0 written, 2 usage error or FILE exists, 3 I/O error\n"},
    {"timing", "print the section table of a spec (bars, beats, seconds, frames)", sg_cli_timing,
     "usage: stemgate timing SPEC [--json] [--reference FILE]\n"
     "\n"
     "Computes the exact grid: each section's start and end in bars, beats, seconds and sample\n"
     "frames, the total length, and how far target times (\"1:22\") moved when snapped to bars.\n"
     "--json prints the same as one JSON object (bars 1-based and inclusive, frames [start, "
     "end)).\n"
     "--reference FILE measures a drum reference as render does (tempo: auto measures the\n"
     "spec's drum reference without it): the measured tempo and first downbeat are printed and\n"
     "the grid is built on that tempo (tempo: auto) and starts at that downbeat.\n"},
    {"analyze", "measure one audio file (loudness, peaks, tempo, key)", sg_cli_analyze,
     "usage: stemgate analyze FILE [--bpm BPM] [--json]\n"
     "\n"
     "Prints format, length, sample and true peak, loudness, DC, clipping, tempo estimate,\n"
     "first downbeat and the key track of any file libsndfile reads. --json prints the same as\n"
     "one JSON object.\n"},
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
#ifdef __GLIBC__
  /* glibc raises its mmap threshold to the size of each large block freed (up to 32 MB), so the
   * analysis arrays that grow with the song (feature envelopes, alignment windows) then land in
   * the heap arenas of the worker threads, which fragment and are not given back: peak RSS grew
   * ~2 MB a minute of song. A fixed threshold keeps every block over 128 KiB in its own mapping
   * (returned on free, grown by mremap without a copy): 62 -> 42 MB for a 10-minute song
   * (bench/memory.sh, bench/README.md). */
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
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
