/* stemgate theory: pitch classes, keys and modes, chord symbols, progressions and voicings.
 *
 * What it is for: the compose step needs to know, for every bar of every section, which chord
 * sounds and how an instrument should voice it. This module turns the text a producer writes
 * ("F# minor", "Gmaj7 Em7 | Am7 D7", "ii-V-I", "B7(b9)") into numbers, with the column of any
 * character it cannot read.
 *
 * Methods:
 *  - Spelling follows common-practice key signatures (circle of fifths): a key's scale uses each
 *    letter once, so F# major spells E#, not F; chromatic notes take the key signature's
 *    direction (sharps in sharp keys, flats in flat keys).
 *  - Chord symbols follow the jazz/lead-sheet conventions of Levine, "The Jazz Theory Book"
 *    (1995), ch. 2-3, and the Berklee chord-symbol usage: 7 = dominant seventh, maj7/M7/Δ =
 *    major seventh, m/min/- = minor, dim/°/o, ø = m7b5, aug/+, sus2/sus4, 6, 6/9, add9,
 *    extensions 9/11/13 imply the lower ones, (b9 #9 #11 b13 b5 #5) alterations, alt =
 *    b9 #9 #11 b13 over 1 3 b7 (the fifth is omitted), slash chords name the bass.
 *    On a dominant or major 13 chord the natural 11 is left out (it clashes with the third);
 *    on m11/m13 it stays.
 *  - Roman numerals are relative to the key's own scale (so in A minor, III is C and VII is G);
 *    b/# move the degree's root a semitone; case gives the triad (upper major, lower minor).
 *  - Guitar voicings are found by exhaustive search of the fretboard (standard tuning E A D G B
 *    E, frets 0-15) within a four-fret hand window, scored on chord-tone coverage, finger count
 *    (a barre counts as one finger), register mud and distance from the previous shape.
 *  - Pad voicings minimise total semitone movement from the previous voicing (the "parsimonious
 *    voice leading" of Cohn 1996 / Tymoczko 2011, computed by exhaustive search of octave
 *    placements, matching voices in sorted order).
 */
#ifndef STEMGATE_THEORY_H
#define STEMGATE_THEORY_H

#include "stemgate/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- pitch classes ------------------------------------------------------------------------ */

/* Parses a note name at s: letter A-G (either case for the letter) followed by any number of
 * '#' or 'b' (also the UTF-8 signs ♯ ♭). Writes the pitch class 0..11 (C = 0), the letter index
 * 0..6 (C D E F G A B) and the bytes consumed. Returns SG_E_PARSE when s does not start with a
 * note name. letter and consumed may be NULL. */
sg_status sg_pc_parse(const char *s, int *pc, int *letter, size_t *consumed);

/* Name of a pitch class with sharps ("C#") or flats ("Db"). Static string, never NULL. */
const char *sg_pc_name(int pc, int prefer_flats);

/* Spells letter index + pitch class, e.g. (letter 4 = G, pc 8) -> "G#", (letter 2 = E, pc 3)
 * -> "Eb", (letter 0, pc 11) -> "Cb". Writes at most 8 bytes into out; returns out. */
char *sg_spell(int letter, int pc, char out[8]);

/* ---- keys and modes ----------------------------------------------------------------------- */

typedef enum sg_mode {
  SG_MODE_MAJOR = 0, /* ionian */
  SG_MODE_DORIAN,
  SG_MODE_PHRYGIAN,
  SG_MODE_LYDIAN,
  SG_MODE_MIXOLYDIAN,
  SG_MODE_MINOR, /* natural minor = aeolian */
  SG_MODE_LOCRIAN,
  SG_MODE_HARMONIC_MINOR,
  SG_MODE_COUNT_
} sg_mode;

typedef struct sg_key {
  int tonic;        /* pitch class 0..11 */
  int tonic_letter; /* 0..6 = C D E F G A B */
  sg_mode mode;
} sg_key;

/* Parses "G major", "G", "Ab", "F# minor", "F#m", "Em", "E min", "D dorian", "Bb mixolydian",
 * "C harmonic minor", "A aeolian", "F ionian", ... (mode words case-insensitive). Errors are
 * SG_E_PARSE with d->col at the offending character (1-based). */
sg_status sg_key_parse(const char *s, sg_key *k, sg_diag *d);
/* "G major", "F# minor", "D dorian". Returns out. */
char *sg_key_name(const sg_key *k, char *out, size_t cap);
/* The 7 scale pitch classes from the tonic upward. */
void sg_key_scale(const sg_key *k, int pcs[7]);
/* Key signature as fifths: +n sharps, -n flats (the MIDI key-signature convention). The
 * signature of a mode is that of its parent major scale; harmonic minor uses the natural
 * minor's signature. Values beyond +-7 are possible for theoretical keys (G# major = +8). */
int sg_key_signature(const sg_key *k);
/* 1 when pc belongs to the key's scale. */
int sg_key_contains(const sg_key *k, int pc);
/* Key-aware spelling of a pitch class: scale notes get their scale letter (E# in F# major),
 * others follow the signature's direction. Returns out (8 bytes). */
char *sg_key_spell(const sg_key *k, int pc, char out[8]);
/* Name of a mode ("dorian"). */
const char *sg_mode_name(sg_mode m);

/* ---- chord symbols ------------------------------------------------------------------------ */

typedef enum sg_chord_quality {
  SG_CHORD_MAJOR = 0,
  SG_CHORD_MINOR,
  SG_CHORD_DOMINANT,   /* major triad + minor seventh */
  SG_CHORD_DIMINISHED, /* dim triad or dim7 */
  SG_CHORD_HALF_DIM,   /* m7b5 */
  SG_CHORD_AUGMENTED,
  SG_CHORD_SUS,        /* sus2 / sus4 (with or without a seventh) */
  SG_CHORD_POWER,      /* root + fifth */
  SG_CHORD_MINOR_MAJOR /* m(maj7) */
} sg_chord_quality;

/* Alteration flags. */
enum {
  SG_ALT_B5 = 1u << 0,
  SG_ALT_S5 = 1u << 1,
  SG_ALT_B9 = 1u << 2,
  SG_ALT_S9 = 1u << 3,
  SG_ALT_S11 = 1u << 4,
  SG_ALT_B13 = 1u << 5,
  SG_ALT_ALT = 1u << 6
};

#define SG_CHORD_MAX_TONES 8

/* A parsed chord symbol. tones[] are semitones above the root in stacking order (root, third,
 * fifth, seventh, then 9/11/13 as 14/17/21 and their alterations), so a voicer knows which
 * tone is the third or the seventh. */
typedef struct sg_chord {
  int root, root_letter; /* pitch class, letter index */
  int bass, bass_letter; /* slash bass, or the root when there is none */
  int has_slash;
  sg_chord_quality quality;
  int third;    /* semitones of the third (3, 4), sus tone (2, 5) or -1 (power) */
  int fifth;    /* 6, 7, 8 or -1 when omitted */
  int seventh;  /* 9 (dim7), 10, 11, or -1 (none). A sixth chord has seventh -1 */
  int sixth;    /* 1 when the chord has an added 6 (C6, Cm6, C6/9) */
  int ext;      /* highest natural extension 9, 11, 13 or 0 */
  unsigned alt; /* SG_ALT_* */
  int tones[SG_CHORD_MAX_TONES];
  int n_tones;
  uint16_t pcs;    /* absolute pitch classes sounding (bit pc), including the bass */
  char symbol[40]; /* the symbol as written (trimmed) */
} sg_chord;

/* Parses one chord symbol, the whole string (surrounding spaces allowed). On error returns
 * SG_E_PARSE with d->col = col0 + 1-based column of the offending character and a message
 * naming it ("unknown chord quality 'q' at column 3"). col0 lets a caller report columns in a
 * longer string (pass 0 for a lone symbol). */
sg_status sg_chord_parse(const char *s, sg_chord *c, sg_diag *d);
sg_status sg_chord_parse_n(const char *s, size_t len, int col0, sg_chord *c, sg_diag *d);
/* Pitch classes of the chord in voicing priority order (third/sus, seventh or sixth,
 * alterations and top extension, root, fifth, remaining extensions); returns the count. */
int sg_chord_priority(const sg_chord *c, int pcs[SG_CHORD_MAX_TONES + 1]);

/* ---- progressions ------------------------------------------------------------------------- */

#define SG_PROG_MAX 256

typedef struct sg_prog_chord {
  sg_chord chord;
  int bar;           /* 0-based bar within the progression */
  int slot, n_slots; /* the chord fills [slot, slot+1) / n_slots of its bar */
  int col;           /* 1-based column in the source text (plus col0) */
} sg_prog_chord;

typedef struct sg_progression {
  sg_prog_chord v[SG_PROG_MAX];
  int n;
  int bars;
} sg_progression;

/* Parses a chord chart: bars separated by '|' (leading and trailing bars optional), chords in
 * a bar split the bar evenly ("Gmaj7 Em7 | Am7 D7 |" = two chords per bar). Inside a bar '-'
 * or '%' stands for the previous chord (a held slot: "C - - G" = C for 3/4 of the bar); a bar
 * made only of '%' repeats the whole previous bar. When key is given, roman numerals may
 * stand for chords ("I vi | ii V"). SG_E_PARSE with d->col (col0 + 1-based) on error. */
sg_status sg_progression_parse(const char *s, const sg_key *key, int col0, sg_progression *p,
                               sg_diag *d);
/* A named progression relative to key: roman numerals separated by '-', spaces or '|' with
 * one chord per bar ("I-vi-IV-V", "ii7-V7-Imaj7", "i-VI-III-VII", "I-bVII-IV"), or one of the
 * names "blues" (12-bar), "minor-blues", "andalusian", "canon", "doo-wop", "axis", "turnaround",
 * "ii-V-I" (= ii7-V7-Imaj7). A three-chord progression holds its last chord two bars so
 * phrases stay four bars long. */
sg_status sg_progression_named(const char *name, const sg_key *key, int col0, sg_progression *p,
                               sg_diag *d);
/* The default progression of a key when a section gives neither chords nor a progression:
 * major I-vi-IV-V, minor i-VI-III-VII, dorian i7-IV7, mixolydian I-VII-IV-I, lydian I-II,
 * phrygian i-II-i-vii, locrian i°-II-iii-II, harmonic minor i-iv-V7-i (numerals are relative
 * to the mode's own scale, so mixolydian VII is the flat seventh). */
sg_status sg_progression_default(const sg_key *key, sg_progression *p);
/* Parses one roman-numeral chord ("bVII", "ii7", "V7(b9)", "viiø7") relative to key. */
sg_status sg_roman_parse(const char *s, size_t len, const sg_key *key, int col0, sg_chord *c,
                         sg_diag *d);

/* ---- voicings ----------------------------------------------------------------------------- */

#define SG_GUITAR_STRINGS 6
/* Standard tuning E2 A2 D3 G3 B3 E4 as MIDI notes, string 0 = low E. */
extern const int sg_guitar_tuning[SG_GUITAR_STRINGS];

typedef struct sg_guitar_voicing {
  int n;                         /* 4..6 notes */
  int key[SG_GUITAR_STRINGS];    /* MIDI notes, low to high */
  int string[SG_GUITAR_STRINGS]; /* string index of each note (0 = low E) */
  int fret[SG_GUITAR_STRINGS];   /* fret of each note (0 = open) */
  int min_fret, max_fret;        /* over fretted (non-open) notes; 0 when all open */
} sg_guitar_voicing;

/* Finds a playable shape: 4-6 notes, no two on one string, fretted notes within a four-fret
 * window (max - min <= 3), at most four fingers (one barre across the lowest fret counts as
 * one), the lowest note the root (or the slash bass), the third (or sus tone) and the seventh
 * or sixth present when the chord has them. prev (optional) pulls the shape towards the previous
 * one's position. SG_E_NOTFOUND when no shape exists (not for any chord this parser makes). */
sg_status sg_voice_guitar(const sg_chord *c, const sg_guitar_voicing *prev, sg_guitar_voicing *out);

#define SG_PAD_MAX_VOICES 5

typedef struct sg_pad_voicing {
  int n;
  int key[SG_PAD_MAX_VOICES]; /* ascending MIDI notes */
} sg_pad_voicing;

/* Voices c with `voices` notes (3..5) inside [lo, hi] (MIDI, hi - lo >= 12), choosing the
 * placement with the least total semitone movement from prev (sorted-order matching; when the
 * voice counts differ each note moves to its nearest partner). Without prev the voicing sits
 * closest to the middle of the range. Adjacent voices are at most an octave apart except the
 * lowest pair, and no minor second sounds below MIDI 55 (register mud). */
sg_status sg_voice_pad(const sg_chord *c, const sg_pad_voicing *prev, int voices, int lo, int hi,
                       sg_pad_voicing *out);
/* Total semitone movement between two voicings as used by sg_voice_pad. */
int sg_voice_movement(const sg_pad_voicing *a, const sg_pad_voicing *b);

/* The MIDI note of pitch class pc in [lo, hi] closest to `near` (or to the middle when near < 0).
 */
int sg_note_in_range(int pc, int lo, int hi, int near);

typedef enum sg_approach {
  SG_APPROACH_CHROMATIC_BELOW = 0, /* a semitone under the target */
  SG_APPROACH_CHROMATIC_ABOVE,     /* a semitone over the target */
  SG_APPROACH_DIATONIC_BELOW,      /* the scale step under the target */
  SG_APPROACH_DIATONIC_ABOVE,      /* the scale step over the target */
  SG_APPROACH_FIFTH                /* the target's dominant (fifth above = fourth below) */
} sg_approach;

/* An approach note leading into the MIDI note `target` (the next chord's root). key may be
 * NULL for the diatonic kinds (then the major scale of the target is used). */
int sg_bass_approach(int target, sg_approach kind, const sg_key *key);

/* ---- step patterns and styles (read by spec and compose) ----------------------------------
 * They live here, below spec in the module order, so sg_song_load can check them before any
 * audio; compose.h includes this header, so its users see no change. */

/* ---- step patterns ------------------------------------------------------------------------
 *
 * A user pattern is one character per step:
 *     X   accented hit (velocity 1.0, SG_NOTE_ACCENT)
 *     x   normal hit (velocity 0.78)
 *     o   ghost note (velocity 0.35, SG_NOTE_GHOST)
 *     1-9 hit with velocity n/9
 *     -   hold: the previous hit lasts one more step
 *     .   rest
 *     spaces and '|' are ignored (use them to mark beats and bars).
 * Steps are 16ths unless the pattern starts with a resolution "@N" = N steps per whole note:
 * @4 quarters, @8 eighths, @12 eighth triplets, @16 sixteenths (default), @24 sixteenth
 * triplets, @32 thirty-seconds. Example (bossa clave, 4/4): "X..x..x...x..x..".
 * The pattern loops from the start of every section the stem plays in; write one bar's worth
 * (12 sixteenths in 3/4 and 6/8) to keep it locked to the bar. A user pattern replaces the
 * style's rhythm: comp and pad strike the current chord on each hit, bass plays the chord's bass
 * note, arp steps through the voicing, lead places its melody on the hits.
 *
 * Drum patterns name a lane before its steps:
 *     kick: x...x...x...x...  snare: ....X.......X...  hat: x.x.x.x.x.x.x.x.
 * Lane names: kick/bd (36), rim/rimshot/sidestick (37), snare/sd (38), clap/cp (39),
 * hat/hh/chh/closed (42), ohat/oh/open (46), shaker/maracas (70), or a GM note number
 * ("44:"). Whitespace or newlines separate lanes; each lane may carry its own "@N". A name may
 * appear once. */

#define SG_PATTERN_MAX_STEPS 256

typedef struct sg_step {
  int pos;        /* step index within the pattern */
  int len;        /* length in steps (>= 1; '-' extends it) */
  float velocity; /* 0..1 */
  unsigned flags; /* SG_NOTE_ACCENT / SG_NOTE_GHOST */
} sg_step;

typedef struct sg_step_pattern {
  int steps_per_whole; /* 4, 8, 12, 16, 24, 32 */
  int n_steps;         /* pattern length in steps */
  sg_step hits[SG_PATTERN_MAX_STEPS];
  int n_hits;
} sg_step_pattern;

/* Parses a step pattern. On error SG_E_PARSE with d->col = col0 + 1-based column. */
sg_status sg_pattern_parse(const char *s, int col0, sg_step_pattern *p, sg_diag *d);

#define SG_DRUM_MAX_LANES 12

typedef struct sg_drum_lane {
  int key; /* GM percussion note */
  char name[16];
  sg_step_pattern pattern;
} sg_drum_lane;

typedef struct sg_drum_pattern {
  sg_drum_lane lanes[SG_DRUM_MAX_LANES];
  int n_lanes;
} sg_drum_pattern;

/* Parses "kick: x... snare: ....x..." (see above). SG_E_PARSE with d->col on error. */
sg_status sg_drum_pattern_parse(const char *s, int col0, sg_drum_pattern *p, sg_diag *d);

/* ---- melodies ------------------------------------------------------------------------------
 *
 * A user's own line (the spec's `melody:`), one token per note or rest, separated by spaces:
 *     E4/4      a note: name (sg_pc_parse: letter, then # or b), octave (scientific pitch, C4 =
 *               middle C = MIDI 60; B#3 is C4), '/' and a duration
 *     r/8       a rest
 *     /N        1 whole, 2 half, 4 quarter, 8 eighth, 16, 32, 64; then '.' per dot ("/4." =
 *               dotted quarter, "/4.." double dotted) and 't' for a triplet ("/8t")
 *     /2+8      values added: a half tied to an eighth
 *     G4        no duration: the previous one (a quarter at the start)
 *     A4/8!     '!' after the duration: accented
 *     |  ,      ignored (bar lines and grouping for the reader)
 * Example: "E4/4 G4/8 A4/8 B4/2 | r/4 A4/8 G4/8 E4/2". Durations are in ticks of 1/48 quarter
 * (SG_MELODY_TPQ), the compose grid. The line loops from the start of every section the stem
 * plays in, like a step pattern; write a section's length to play it once. */

#define SG_MELODY_MAX 1024
#define SG_MELODY_TPQ 48

typedef struct sg_melody_note {
  int key;        /* MIDI note */
  int start, len; /* ticks (SG_MELODY_TPQ per quarter) from the line's start */
  unsigned flags; /* SG_NOTE_ACCENT */
  int col;        /* 1-based column of the note in the text (plus col0) */
} sg_melody_note;

typedef struct sg_melody {
  sg_melody_note v[SG_MELODY_MAX];
  int n;
  int length; /* ticks of the whole line, rests included */
} sg_melody;

/* Parses a melody line. On error SG_E_PARSE (SG_E_LIMIT past SG_MELODY_MAX notes) with
 * d->col = col0 + 1-based column and the offending token named. */
sg_status sg_melody_parse(const char *s, int col0, sg_melody *m, sg_diag *d);

/* ---- styles and roles ------------------------------------------------------------------- */

typedef enum sg_style {
  SG_STYLE_POP = 0,
  SG_STYLE_BOSSA,
  SG_STYLE_SAMBA,
  SG_STYLE_HOUSE,
  SG_STYLE_BALLAD,
  SG_STYLE_FUNK,
  SG_STYLE_SWING,
  SG_STYLE_DNB,
  SG_STYLE_REGGAE,
  SG_STYLE_COUNT_
} sg_style;
typedef enum sg_role {
  SG_ROLE_COMP = 0,
  SG_ROLE_PAD,
  SG_ROLE_ARP,
  SG_ROLE_LEAD,
  SG_ROLE_BASS,
  SG_ROLE_DRUMS,
  SG_ROLE_COUNT_
} sg_role;
typedef enum sg_energy { SG_ENERGY_SPARSE = 0, SG_ENERGY_NORMAL, SG_ENERGY_FULL } sg_energy;

/* Names: style "pop" (also "rock", "pop/rock"), "bossa" ("bossa nova", "latin"), "samba"
 * ("partido alto"), "house" ("dance", "edm"), "ballad" ("slow"), "funk", "swing" ("jazz"),
 * "dnb" ("drum and bass", "drum-and-bass", "breakbeat", "jungle"), "reggae" ("one drop",
 * "one-drop"); role as in the spec; energy "sparse", "normal",
 * "full". Case-insensitive. SG_E_NOTFOUND when unknown. The style table (src/theory/style.c) is
 * the one list of style names: the spec loader, compose and docs/spec.md read it. */
sg_status sg_style_from_name(const char *s, sg_style *out);
sg_status sg_role_from_name(const char *s, sg_role *out);
sg_status sg_energy_from_name(const char *s, sg_energy *out);
const char *sg_style_name(sg_style s);
const char *sg_role_name(sg_role r);

/* Every accepted style name, aliases included, for did-you-mean and docs: i in
 * [0, sg_style_name_count()); NULL outside. */
int sg_style_name_count(void);
const char *sg_style_name_at(int i);
/* One line describing style s ("bossa nova: Gilberto comping, ..."). */
const char *sg_style_doc(sg_style s);

#ifdef __cplusplus
}
#endif
#endif
