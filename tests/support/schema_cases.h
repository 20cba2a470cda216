/* Malformed specs that only the parameter schema catches (effects, instrument params, patches,
 * styles, patterns, sidechains, missing MIDI and SoundFont files), shared by the loader test
 * (tests/spec/test_schema.c) and the command test (tests/cli/test_cli.c), which must agree. Each
 * case is a whole spec, the 1-based line and column of the offending value (the key for an
 * unknown name) and a phrase of the message. Files named by the specs are resolved against the
 * spec's folder; "ok.mid" and "ok.sf2" are written by the tests, every other file is absent. */
#ifndef SG_SCHEMA_CASES_H
#define SG_SCHEMA_CASES_H

#define SCHEMA_BASE                                                                                \
  "title: T\n"                                                                                     \
  "tempo: 120\n"                                                                                   \
  "sections:\n"                                                                                    \
  "  - name: a\n"                                                                                  \
  "    bars: 2\n"                                                                                  \
  "stems:\n"                                                                                       \
  "  - name: Bass\n"                                                                               \
  "    instrument: moog_bass\n"

typedef struct schema_case {
  const char *name;
  const char *yaml;
  int line, col;
  const char *phrase;
} schema_case;

static const schema_case k_schema_cases[] = {
    {"effect parameter typo", SCHEMA_BASE "    effects:\n      - reverb: {rt60: 1.4, mx: 0.18}\n",
     10, 29, "effect 1 (reverb) of stem 'Bass': unknown parameter 'mx'; did you mean 'mix'?"},
    {"effect parameter out of range", SCHEMA_BASE "    effects:\n      - reverb: {rt60: 99}\n", 10,
     24, "'rt60' is 99 s, outside the allowed range 0.1 to 30 s"},
    {"effect type typo", SCHEMA_BASE "    effects:\n      - revreb: {rt60: 2}\n", 10, 9,
     "unknown effect type 'revreb'; did you mean 'reverb'?"},
    {"master effect enum", SCHEMA_BASE "master:\n  effects:\n    - eq: {type: lowpas}\n", 11, 18,
     "effect 1 (eq) of master: 'type' must be one of lowpass, highpass"},
    {"instrument params typo", SCHEMA_BASE "    params: {cutof: 900}\n", 9, 14,
     "params of stem 'Bass' (moog_bass): unknown parameter 'cutof'; did you mean 'cutoff'?"},
    {"instrument params out of range", SCHEMA_BASE "    params: {cutoff: 90000}\n", 9, 22,
     "'cutoff' is 90000 Hz, outside the allowed range 20 to 18000 Hz"},
    {"patch typo", SCHEMA_BASE "    patch: acidd\n", 9, 12,
     "stem 'Bass': unknown patch 'acidd' for moog_bass; did you mean 'acid'?"},
    {"drums patch", SCHEMA_BASE "drums: {source: synth, patch: \"8080\"}\n", 9, 31,
     "drums: unknown patch '8080' for drums; did you mean '808'?"},
    {"stem style typo", SCHEMA_BASE "    style: bosa\n", 9, 12,
     "stem 'Bass': unknown style 'bosa'; did you mean 'bossa'?"},
    {"song style typo",
     "title: T\ntempo: 120\nstyle: huose\nsections: [{name: a, bars: 2}]\n"
     "stems: [{name: Bass, instrument: moog_bass}]\n",
     3, 8, "song: unknown style 'huose'; did you mean 'house'?"},
    {"step pattern", SCHEMA_BASE "    pattern: \"x..x..q.\"\n", 9, 21,
     "stem 'Bass': step pattern: unexpected 'q' in step pattern"},
    {"drum pattern lane", SCHEMA_BASE "drums:\n  pattern: \"kick: x... cowbell: x...\"\n", 10, 24,
     "drums: drum pattern: unknown drum lane 'cowbell'"},
    {"sidechain",
     SCHEMA_BASE "    effects:\n      - compressor: {sidechain: Keyz}\n"
                 "  - {name: Keys, instrument: dx7}\n",
     10, 33, "stem 'Bass' sidechains from unknown stem 'Keyz'; did you mean 'Keys'?"},
    {"missing MIDI file", SCHEMA_BASE "    midi_file: missing.mid\n", 9, 16,
     "stem 'Bass': midi_file 'missing.mid' cannot be opened"},
    {"not a MIDI file", SCHEMA_BASE "    midi_file: ok.sf2\n", 9, 16,
     "midi_file 'ok.sf2' is not a Standard MIDI File"},
    {"missing SoundFont",
     SCHEMA_BASE "  - name: Keys\n    instrument: soundfont\n"
                 "    soundfont: missing.sf2\n",
     11, 16, "stem 'Keys': soundfont 'missing.sf2' cannot be opened"},
    {"soundfont params",
     SCHEMA_BASE "  - name: Keys\n    instrument: soundfont\n"
                 "    soundfont: ok.sf2\n    params: {program: 300}\n",
     12, 23, "'program' is 300, outside the allowed range 0 to 127"},
};

#define N_SCHEMA_CASES ((int)(sizeof k_schema_cases / sizeof k_schema_cases[0]))

/* Minimal headers: the loader reads only the first bytes of these files. */
#define SCHEMA_OK_MID "MThd\0\0\0\6\0\0\0\1\1\xe0"
#define SCHEMA_OK_SF2 "RIFF\0\0\0\0sfbkLIST"

#endif
