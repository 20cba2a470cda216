/* stemgate init [FILE]: a commented spec template that renders and verifies as it is. Every
 * top-level key appears with a comment saying what it does; the values are the documented
 * defaults or choices that pass their own gates (tests/cli/test_cli_more.c renders it). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char k_template[] =
    "# stemgate song spec (see docs/spec.md or `man stemgate-spec` for every key).\n"
    "# Render: stemgate render song.yaml   Check only: stemgate check song.yaml\n"
    "\n"
    "# Song title (required); the file-safe slug of the package names comes from it.\n"
    "title: My Song\n"
    "# Quarter notes per minute, 20-400 (required), or auto to take a drum reference's tempo.\n"
    "tempo: 120\n"
    "# Time signature N/D: 4/4, 3/4, 6/8, 7/8 ...\n"
    "meter: 4/4\n"
    "# Sample rate of every delivered file: 44100, 48000, 88200 or 96000 Hz.\n"
    "sample_rate: 48000\n"
    "# Sample format: float32, pcm24 or pcm16 (16-bit gets TPDF dither).\n"
    "format: pcm24\n"
    "# 1 (mono) or 2 (stereo).\n"
    "channels: 2\n"
    "# Song key, the default of every section (G major, F# minor, D dorian ...).\n"
    "key: C major\n"
    "# Default style of every stem and of the drums (`stemgate list styles`).\n"
    "style: pop\n"
    "# Every random choice derives from the seed: the same spec gives the same bytes.\n"
    "seed: 2\n"
    "# Delay of the off-beat 16th, 0-0.5 of a 16th.\n"
    "swing: 0\n"
    "# Random timing (ms) and velocity (fraction) bounds of each note.\n"
    "humanize: {timing_ms: 8, velocity: 0.08}\n"
    "\n"
    "# Sections in playing order: bars (or start/end times), chords or a named progression,\n"
    "# key, energy (sparse, normal, full).\n"
    "sections:\n"
    "  - {name: verse, bars: 4, chords: \"C | F | G | C\"}\n"
    "  - {name: chorus, bars: 4, progression: I-vi-IV-V, energy: full}\n"
    "\n"
    "# The stems: an instrument (`stemgate list instruments`), optional patch, params, role,\n"
    "# style, sections it plays, gain_db, pan and an effect chain (`stemgate list effects`).\n"
    "stems:\n"
    "  - name: Bass\n"
    "    instrument: moog_bass\n"
    "  - name: Keys\n"
    "    instrument: dx7\n"
    "    pan: -0.2\n"
    "    effects:\n"
    "      - eq: {type: highpass, freq: 120}\n"
    "      - reverb: {rt60: 1.5, mix: 0.2}\n"
    "\n"
    "# Drums: synthesized from the style (source: synth) or a client's reference recording\n"
    "# (source: reference, reference: loop.wav); the stem is named Drums. Remove for none.\n"
    "drums:\n"
    "  source: synth\n"
    "\n"
    "# Master bus: integrated loudness target and tolerance (LUFS, LU), true-peak ceiling\n"
    "# (dBTP), mix headroom (dB) and optional bus effects before the limiter.\n"
    "master:\n"
    "  loudness_lufs: -14\n"
    "  loudness_tolerance: 0.5\n"
    "  true_peak_dbtp: -1.0\n"
    "  headroom_db: 6\n"
    "\n"
    "# The package: zip name, file naming template ({song} {stem} {index} {rate} {format}),\n"
    "# whether audio is deflated and whether MIDI files are included.\n"
    "deliverable:\n"
    "  naming: \"{song}_{stem}.wav\"\n"
    "  deflate: false\n"
    "  midi: true\n"
    "\n"
    "# Gate limits the spec may tighten or relax (`stemgate checks` lists every check).\n"
    "gates:\n"
    "  dc_offset: 0.001\n"
    "\n"
    "# delivery: a client's acceptance criteria (sample_rates, formats, loudness range, stems);\n"
    "# absent, the spec's own values are the criteria. See docs/spec.md.\n";

int sg_cli_init(int argc, char **argv, const sg_cli_command *self) {
  const char *path = "song.yaml";
  if (argc > 2)
    return sg_cli_usage_error(self, "expects at most one file name, got another:", argv[2]);
  if (argc == 2) {
    if (argv[1][0] == '-' && argv[1][1])
      return sg_cli_usage_error(self, "unknown option", argv[1]);
    path = argv[1];
  }
  if (!strcmp(path, "-")) {
    fputs(k_template, stdout);
    return SG_EXIT_OK;
  }
  /* O_EXCL: never overwrite, not even a file created between a check and the write. */
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0) {
    if (errno == EEXIST) {
      fprintf(stderr, "stemgate init: %s exists; not overwriting it (give another name)\n", path);
      return SG_EXIT_USAGE;
    }
    fprintf(stderr, "stemgate init: cannot create %s: %s\n", path, strerror(errno));
    return SG_EXIT_IO;
  }
  size_t n = sizeof k_template - 1;
  ssize_t w = write(fd, k_template, n);
  if (close(fd) != 0 || w != (ssize_t)n) {
    fprintf(stderr, "stemgate init: writing %s failed\n", path);
    unlink(path);
    return SG_EXIT_IO;
  }
  printf("wrote %s: edit it, then `stemgate check %s` and `stemgate render %s`\n", path, path,
         path);
  return SG_EXIT_OK;
}
