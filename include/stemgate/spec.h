/* stemgate song spec: the YAML a producer writes, parsed into an immutable sg_song.
 *
 * Parsing is strict: unknown keys are errors with a did-you-mean, every error carries
 * file:line:col, what is wrong and what is allowed. The song keeps the position of every value
 * that later steps interpret (keys, chord symbols, patterns, effect parameters), so an error
 * found by the theory or fx module still points into the spec.
 *
 * Sizes are bounded (SG_MAX_*): a spec beyond them is an error, never a silent truncation.
 * See docs/spec.md for the reference of every key. */
#ifndef STEMGATE_SPEC_H
#define STEMGATE_SPEC_H

#include "stemgate/core.h"
#include "stemgate/io.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SG_MAX_SECTIONS 128
#define SG_MAX_STEMS 32
#define SG_MAX_EFFECTS 16
#define SG_MAX_TEXT 2048
#define SG_MAX_PATH 1024

/* sg_pos, sg_param, sg_param_set and sg_params_find live in core.h (the parameter schema). */

/* A string value with the position it came from. */
typedef struct sg_text {
  char s[SG_MAX_TEXT];
  sg_pos pos;
  int quoted;    /* 1: the scalar was quoted, its text starts at pos.col + 1 (patterns only) */
  int multiline; /* 1: it spans lines; positions inside it are not kept (patterns only) */
} sg_text;

typedef struct sg_name {
  char s[SG_MAX_NAME];
  sg_pos pos;
} sg_name;

/* An exact decimal, e.g. tempo 97.3 = 973/10. den is a power of ten (up to 10^6). */
typedef struct sg_decimal {
  int64_t num, den;
  sg_pos pos;
} sg_decimal;

/* Number value of key, or def when absent. SG_E_SPEC (with the position) when present but not a
 * number or outside [lo, hi]. */
sg_status sg_params_num(const sg_param_set *ps, const char *key, double def, double lo, double hi,
                        double *out, const char *file, sg_diag *d);

typedef struct sg_effect_spec {
  sg_name type; /* eq, compressor, delay, reverb, chorus, phaser, flanger, saturation, width, ... */
  sg_param_set params;
  sg_pos pos;
} sg_effect_spec;

/* Shape of a tempo_change (accelerando / ritardando): how the tempo moves from the tempo in
 * effect to `to`, as a function of the quarter notes x elapsed in the ramp. */
typedef enum sg_tempo_curve {
  SG_CURVE_LINEAR = 0, /* T(x) = T0 + (T1 - T0) x / L: equal BPM steps per beat */
  SG_CURVE_EXPONENTIAL /* T(x) = T0 (T1 / T0)^(x / L): equal tempo ratios per beat */
} sg_tempo_curve;

typedef struct sg_section_spec {
  sg_name name;
  int bars; /* > 0 when given; 0 when derived from start/end */
  sg_pos bars_pos;
  /* Target times in seconds ("1:22" = 82 s) or -1 when not given; snapped to the nearest bar. */
  double start_sec, end_sec;
  sg_pos start_pos, end_pos;
  sg_name key;         /* "G major", "Ab", "F# minor", "D dorian"; empty: the song's key */
  sg_text chords;      /* "Gmaj7 Em7 | Am7 D7 | ..." one bar per '|' group; empty: key default */
  sg_name progression; /* named progression when chords are not given ("I-vi-IV-V", ...) */
  sg_name energy;      /* "sparse", "normal", "full": per-section arrangement density */
  /* Tempo from the section's first downbeat, quarter notes per minute (converted from `beat`
   * like the song's); num == 0: the tempo the previous section ended at carries on. */
  sg_decimal tempo;
  /* tempo_change: the last ramp_bars bars of the section move from the tempo in effect to
   * ramp_to (quarter notes per minute); the next section starts at ramp_to unless it sets its own
   * tempo. ramp_to.num == 0: no change. ramp_bars 0: the whole section. */
  sg_decimal ramp_to;
  int ramp_bars;
  sg_pos ramp_pos, ramp_bars_pos;
  sg_tempo_curve ramp_curve;
  sg_pos pos;
} sg_section_spec;

typedef enum sg_drums_source {
  SG_DRUMS_NONE = 0,
  SG_DRUMS_SYNTH,
  SG_DRUMS_REFERENCE
} sg_drums_source;
typedef enum sg_fit_policy { SG_FIT_FADE = 0, SG_FIT_LOOP } sg_fit_policy;

typedef struct sg_stem_spec {
  sg_name name;           /* "Guitars" */
  sg_name instrument;     /* moog_bass, prophet_poly, dx7, guitar, drums, soundfont, reference */
  sg_name patch;          /* named patch of the instrument: "nylon", "epiano", ... */
  sg_param_set overrides; /* patch parameter overrides */
  sg_name style;          /* bossa, pop, house, ... (defaults to the song's style) */
  sg_name role;           /* comp, pad, arp, bass, lead, drums (defaults from instrument) */
  sg_text pattern;        /* user step pattern "x..x..x...x.x..." (optional) */
  sg_text melody; /* a user's line "E4/4 G4/8 A4/8 ..." (sg_melody_parse; role lead; optional) */
  sg_name sections[SG_MAX_SECTIONS]; /* sections it plays in; n_sections == 0: all */
  int n_sections;
  int tacet;                   /* 1: `sections` lists the sections it sits out (`tacet:`) */
  double gain_db;              /* default 0 */
  double pan;                  /* -1 (left) .. +1 (right), default 0 */
  int octave;                  /* transposition in octaves, default 0 */
  char midi_file[SG_MAX_PATH]; /* drive the stem from a user's Standard MIDI File */
  char soundfont[SG_MAX_PATH]; /* .sf2 for instrument: soundfont */
  int program;                 /* GM program for soundfont (0-127), bank 0 */
  char sidechain[SG_MAX_NAME]; /* stem whose signal keys this stem's compressor */
  sg_effect_spec effects[SG_MAX_EFFECTS];
  int n_effects;
  sg_pos pos;
  sg_pos sidechain_pos; /* where the sidechain was given (stem key or compressor param) */
  sg_pos midi_file_pos, soundfont_pos; /* where those paths were given */
} sg_stem_spec;

typedef struct sg_drums_spec {
  sg_drums_source source;
  char reference[SG_MAX_PATH]; /* reference file (relative to the spec's folder) */
  sg_pos reference_pos;
  sg_fit_policy fit;          /* how a short/long reference meets the song length */
  int align;                  /* 1: start the grid at the reference's first downbeat (default) */
  int follow_tempo_map;       /* 1: the grid follows the reference's measured beats */
  double tempo_tolerance_bpm; /* fail beyond this difference (default 1.0) */
  sg_name style;              /* synthesized drums style (defaults to the song's style) */
  sg_text pattern;            /* optional user step patterns, "kick: x...x... snare: ....x..." */
  int fills;                  /* fills and section accents: 0 unset (on for the style's grooves,
                                 off for a user's pattern, which plays as written), 1 on, -1 off */
  double gain_db;
  sg_effect_spec effects[SG_MAX_EFFECTS];
  int n_effects;
  sg_pos pos;
  sg_name patch; /* drum synth patch ("808", "909"); empty: the synth's default */
  sg_name sections[SG_MAX_SECTIONS]; /* as a stem's: sections the kit plays in (or sits out) */
  int n_sections;
  int tacet;     /* 1: `sections` lists the sections it sits out (`tacet:`) */
  uint64_t seed; /* the drums' own seed (`drums: seed:`), used when has_seed; a variations axis */
  int has_seed;
} sg_drums_spec;

typedef struct sg_master_spec {
  double loudness_lufs;                   /* integrated target, default -14 */
  double loudness_tolerance;              /* LU, default 0.5 */
  double true_peak_dbtp;                  /* ceiling, default -1.0 */
  double headroom_db;                     /* mix bus headroom before the master chain, default 6 */
  sg_effect_spec effects[SG_MAX_EFFECTS]; /* bus processing before the limiter */
  int n_effects;
  sg_pos pos;
} sg_master_spec;

typedef struct sg_deliverable_spec {
  char zip[SG_MAX_PATH];    /* archive name; default "<slug>.zip" */
  char naming[SG_MAX_PATH]; /* file template; {song} {stem} {index} {rate} {format}; empty:
                               SG_NAMING_DEFAULT (include/stemgate/package.h) */
  int deflate;              /* 1: deflate audio too (default 0: stored) */
  int midi;                 /* 1: include each stem's MIDI file (default 1) */
} sg_deliverable_spec;

/* Release and effect tails allowed after a stem's sections before silent_outside_sections
 * judges, s (gates.tail_s). */
#define SG_TAIL_S_DEFAULT 2.5

typedef struct sg_gate_limits {
  double sync_ms;             /* stem/master vs reference offset and drift, default 10 */
  double length_tolerance_ms; /* verify: stem length vs master, default 50 */
  double dc_offset;           /* |mean| limit, default 0.001 (-60 dBFS) */
  double silence_dbfs;        /* a stem quieter than this is "silent", default -60 */
  double key_window_sec;      /* key change location tolerance, default 10 */
  double tail_s;              /* release/effect tail allowed after a stem's last section */
  double limiter_gr_db;       /* mean master limiter gain reduction per section, default 6 */
} sg_gate_limits;

/* How the song ends (`ending:`): ring — the last section resolves on a final hit on the
 * tonic at the downbeat after the last bar and every file runs on until it has rung out;
 * fade — the last ending_fade_bars bars fade to silence; cut — the files stop at the last bar
 * line with a 20 ms fade. The file length rule lives in the timing module (timing.h). */
typedef enum sg_ending { SG_ENDING_RING = 0, SG_ENDING_FADE, SG_ENDING_CUT } sg_ending;
#define SG_ENDING_MAX_S_DEFAULT 12.0 /* longest ring-out after the last bar, s */
#define SG_ENDING_FADE_BARS_DEFAULT 2

/* What a delivery may be (the spec's or a criteria file's `delivery:` block), as against what the
 * spec renders: verify and render's final verification judge files by it; render still makes
 * exactly what the spec says. Every list is empty (n_* = 0) or a flag is 0 when the key is
 * absent, and then the spec's own value applies (sample_rate, format, channels, master loudness
 * and tolerance, true-peak ceiling, every stem and Drums, the song length). */
#define SG_DELIVERY_MAX_LIST 8
typedef enum sg_manifest_rule {
  SG_MANIFEST_DEFAULT =
      0,                /* a zip must carry manifest.json (stemgate's package); a folder need not */
  SG_MANIFEST_REQUIRED, /* every package must carry one */
  SG_MANIFEST_OPTIONAL  /* reported when absent, never failed */
} sg_manifest_rule;

typedef struct sg_delivery_spec {
  int given;              /* 1: a delivery block was read */
  char file[SG_MAX_PATH]; /* where it was read (the spec or a criteria file), for diagnostics */
  unsigned rates[SG_DELIVERY_MAX_LIST];
  int n_rates;
  sg_sample_format formats[SG_DELIVERY_MAX_LIST];
  int n_formats;
  unsigned channels[SG_DELIVERY_MAX_LIST];
  int n_channels;
  int has_length, has_loudness, has_true_peak;
  double length_s[2];      /* master length range, s */
  double loudness_lufs[2]; /* master integrated loudness range, LUFS */
  double true_peak_dbtp;   /* master ceiling, dBTP */
  int has_stems;           /* 1: stems below are the required ones (others optional) */
  sg_name stems[SG_MAX_STEMS + 1];
  int n_stems;
  sg_manifest_rule manifest;
  sg_pos pos;
} sg_delivery_spec;

/* The note value `tempo` counts (the spec's `beat:`): a 6/8 ballad is written `tempo: 72, beat:
 * dotted-quarter`. The loader converts once (sg_beat_quarters) into sg_song.tempo, which every
 * module reads as quarter notes per minute; the written value stays in tempo_written. */
typedef enum sg_beat {
  SG_BEAT_QUARTER = 0,
  SG_BEAT_DOTTED_QUARTER,
  SG_BEAT_EIGHTH,
  SG_BEAT_HALF,
  SG_BEAT_COUNT_
} sg_beat;

/* Quarter notes in one beat as num/den (dotted quarter 3/2, eighth 1/2, half 2/1). */
void sg_beat_quarters(sg_beat b, int *num, int *den);
/* "quarter", "dotted-quarter", "eighth", "half"; "?" outside the enum. */
const char *sg_beat_name(sg_beat b);

typedef struct sg_song {
  char path[SG_MAX_PATH]; /* spec file as given; errors point here */
  char dir[SG_MAX_PATH];  /* its folder; relative paths in the spec resolve against it */
  char title[SG_MAX_NAME * 2];
  char slug[SG_MAX_NAME];   /* file-safe title: "deja-vu" */
  sg_decimal tempo;         /* quarter notes per minute (converted from `beat` at load) */
  sg_decimal tempo_written; /* the spec's tempo in `beat` units per minute */
  sg_beat beat;             /* the note value the spec's tempo counts (default quarter) */
  int tempo_auto;           /* tempo: auto — take the reference's measured tempo */
  int meter_num, meter_den; /* 4/4, 3/4, 6/8: bar = meter_num * 4 / meter_den quarters */
  unsigned sample_rate;
  sg_sample_format format;
  unsigned channels;
  sg_name key;   /* song key, default for sections */
  sg_name style; /* default style for stems */
  uint64_t seed;
  double swing;             /* 0..0.5 (fraction of a 16th), default 0 */
  double humanize_ms;       /* timing humanisation bound, default 8 */
  double humanize_velocity; /* velocity humanisation (0..1 fraction), default 0.08 */
  sg_ending ending;         /* default ring */
  sg_pos ending_pos;
  double ending_max_s;  /* cap of the ring-out, s (default SG_ENDING_MAX_S_DEFAULT) */
  int ending_fade_bars; /* bars of the fade ending (default SG_ENDING_FADE_BARS_DEFAULT) */
  sg_section_spec sections[SG_MAX_SECTIONS];
  int n_sections;
  sg_stem_spec stems[SG_MAX_STEMS];
  int n_stems;
  sg_drums_spec drums;
  sg_master_spec master;
  sg_deliverable_spec deliverable;
  sg_gate_limits limits;
  sg_delivery_spec delivery; /* what a delivery may be (delivery: block); see above */
  char spec_sha256[65];      /* hash of the spec file's bytes */
  /* variations: (see sg_song_variants): the block's position (line 0 when the spec has none),
   * and which variant this song is ("" for the song as written). */
  sg_pos variations_pos;
  char variant[SG_MAX_NAME * 2];
} sg_song;

/* Parses a spec file and validates everything a render would meet later, before any audio:
 * effect types and parameters (the fx module's table), instruments, patches and params overrides
 * (the synth's tables), styles, step and drum patterns, sidechains, and that every midi_file and
 * soundfont exists and is readable with the right header. On success *out is a new song (free
 * with sg_song_free). On failure returns SG_E_SPEC (or SG_E_IO / SG_E_NOMEM) with d holding
 * file:line:col of the offending value and a message naming what is allowed. */
sg_status sg_song_load(const char *path, sg_song **out, sg_diag *d);
/* Same from a string (tests); name is used as the file name in diagnostics. Everything but the
 * files is checked (a string has no folder to resolve midi_file / soundfont against). */
sg_status sg_song_parse(const char *text, size_t len, const char *name, sg_song **out, sg_diag *d);
void sg_song_free(sg_song *s);

/* ---- variations ------------------------------------------------------------------------------
 * A spec's `variations:` block makes several songs of one spec, each the spec with some keys
 * replaced: seed, tempo, key, style (top level), energy (every section's), drums.seed and
 * drums.style. Either a mapping of axis -> list of values, whose cartesian product is taken (the
 * first axis varies slowest), or a list of mappings, one variant each (optional `name:`). Each
 * variant is the spec's YAML with the value nodes put in place, read by the same parser, so a
 * bad value fails exactly as it would at its own key, at the variation value's line:col. A
 * variant's name is its values joined ("seed2-key_D_minor", names may be given in the list form);
 * the title, and so the file names inside the package, stay the spec's. */
#define SG_MAX_VARIANTS 4096
typedef struct sg_variant_list {
  size_t n;
  char (*names)[SG_MAX_NAME * 2]; /* in the block's order */
} sg_variant_list;
/* Reads the spec at path, expands its variations block and loads every variant (all the checks of
 * sg_song_load) before returning. A spec without the block gives n == 0. SG_E_SPEC with
 * file:line:col, SG_E_IO, SG_E_NOMEM. Free with sg_variant_list_free. */
sg_status sg_song_variants(const char *path, sg_variant_list *out, sg_diag *d);
void sg_variant_list_free(sg_variant_list *l);
/* Loads one variant by name (as sg_song_variants gives it) after checking every variant (a bad
 * sibling fails it too); SG_E_NOTFOUND for an unknown name
 * (the message lists the names). */
sg_status sg_song_load_variant(const char *path, const char *variant, sg_song **out, sg_diag *d);

/* Finds a section / stem by name (case-insensitive); -1 when absent. */
int sg_song_section_index(const sg_song *s, const char *name);
int sg_song_stem_index(const sg_song *s, const char *name);
/* 1 when the stem plays in section index si. */
int sg_stem_plays_in(const sg_song *s, const sg_stem_spec *st, int si);
/* 1 when the song-level drum kit plays in section si (its `sections:` / `tacet:`). */
int sg_drums_play_in(const sg_song *s, int si);
/* "ring", "fade", "cut". */
const char *sg_ending_name(sg_ending e);

/* The parameter reference of docs/spec.md, generated from the tables the loader checks against
 * (every effect's, every instrument's, the styles): Markdown in a new heap string (*out, free()
 * it). `stemgate check --schema` prints it; tests/spec/test_schema.c compares it with the
 * committed docs. SG_E_NOMEM. */
sg_status sg_spec_reference_markdown(char **out);

/* Reads a criteria file (YAML whose root holds one `delivery:` block, the same keys as the
 * spec's) into song->delivery, replacing the spec's own block, and checks it against the song
 * (stem names). SG_E_SPEC with file:line:col of the offending value, SG_E_IO, SG_E_NOMEM. */
sg_status sg_delivery_load(const char *path, sg_song *song, sg_diag *d);

/* 1 when the delivery allows this sample rate / format / channel count (the spec's own value
 * when the delivery block does not list any). */
int sg_delivery_rate_ok(const sg_song *s, unsigned rate);
int sg_delivery_format_ok(const sg_song *s, sg_sample_format f);
int sg_delivery_channels_ok(const sg_song *s, unsigned channels);
/* The allowed values as text for a report's limit column ("48000|44100", "pcm24|float32"). */
void sg_delivery_rates_text(const sg_song *s, char *out, size_t cap);
void sg_delivery_formats_text(const sg_song *s, char *out, size_t cap);
void sg_delivery_channels_text(const sg_song *s, char *out, size_t cap);
/* 1 when the stem (a spec stem or "Drums") must be delivered. */
int sg_delivery_requires(const sg_song *s, const char *stem);

/* Resolves a path from the spec against the spec's folder into out. */
void sg_song_resolve_path(const sg_song *s, const char *rel, char *out, size_t cap);

/* sg_edit_distance (Levenshtein, for did-you-mean) is declared in core.h. */

#ifdef __cplusplus
}
#endif
#endif
