/* stemgate compose: the song's chords and styles turned into note events per stem, plus
 * Standard MIDI Files in and out.
 *
 * What it is for: every rendered stem starts as an sg_note_list with absolute sample frames on
 * the exact grid (sg_timeline_frame_at). The compose step decides what each stem plays:
 * comping rhythms, voice-led pads, arpeggios, a lead line, a bass line with anticipations and
 * approach notes, and a drum kit, per section and energy, then humanises timing and velocity
 * deterministically.
 *
 * Methods and sources:
 *  - Rhythm is computed in ticks of 1/48 quarter note (16ths = 12, 8th triplets = 16), so 4/4,
 *    3/4, 6/8, 12/8 ... are all whole numbers of ticks per bar; patterns derive from the bar
 *    length and the beat grouping (compound meters group 8ths in threes), never from "16 steps".
 *  - Bossa nova: guitar comping after the João Gilberto right hand (thumb on 1 and 3, fingers on
 *    a two-bar syncopated figure anticipating the next chord on the "and of 4"); samba/full
 *    energy uses the partido-alto figure (two-bar Latin-jazz form compressed into 16ths of one
 *    bar, as taught by e.g. J. Larsen, "Bossa Nova Guitar Patterns 2 - Partido Alto"); bass
 *    root-fifth in dotted-quarter/eighth rhythm with the next root anticipated on the last 8th;
 *    drums: surdo-like kick (dotted 8th + 16th), cross-stick on the bossa clave, 8th/16th hats.
 *  - Pop/rock: straight 8ths, backbeat on 2 and 4, down-up strum patterns, 8th-note root bass
 *    with diatonic/chromatic approach notes into chord changes.
 *  - House: four-on-the-floor kick, clap on 2 and 4, off-beat hats and bass, chord stabs.
 *  - Ballad, funk, swing, drum-and-bass, reggae: drums, bass and comping placed on the bar's
 *    strong and back beats derived from its groupings (so every meter gets them): the 6/8
 *    ballad's kick/cross-stick on the dotted beats, funk's 16th kick on the 'a' and ghost notes,
 *    swing's ride 'ding ding-a' with swung 8ths and a walking bass (E. Friedland, "Building
 *    Walking Bass Lines", 1995), the two-step break, reggae's one drop and skank.
 *  - Lead: a user's `melody:` note for note, or a generated period (motif, varied repetition,
 *    arch contour, chord tones on the pulses, passing/neighbour tones, breaths; src/compose/lead.c
 *    cites the sources).
 *  - Humanisation: per-note Gaussian timing offset (sigma = bound / 2.5) clipped to
 *    +-song.humanize_ms, Gaussian velocity scaling by song.humanize_velocity; all drawn from
 *    sg_rng seeded with song.seed + sg_hash64(stem name), so the same spec gives the same notes.
 *  - MIDI: Standard MIDI File 1.0 (MIDI Manufacturers Association, 1996 / RP-001), format 1,
 *    480 PPQ, set-tempo, time- and key-signature and track-name meta events.
 */
#ifndef STEMGATE_COMPOSE_H
#define STEMGATE_COMPOSE_H

#include "stemgate/core.h"
#include "stemgate/notes.h"
#include "stemgate/spec.h"
#include "stemgate/theory.h"
#include "stemgate/timing.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Step patterns (sg_pattern_parse, sg_drum_pattern_parse) and the style, role and energy names
 * are declared in theory.h: the spec loader checks them before any audio, and spec sits below
 * compose in the module order, so they live in theory (which depends only on core). */

/* ---- harmony of a section ----------------------------------------------------------------- */

/* The key and chord chart of section si: the section's key (or the song's, or C major), its
 * chords, else its named progression, else the key's default progression. Errors are SG_E_SPEC
 * with the spec file, line and column of the offending character. */
sg_status sg_section_harmony(const sg_song *song, int si, sg_key *key, sg_progression *prog,
                             sg_diag *d);

/* The name of section si's key as every delivered file gives it (NOTES.txt, manifest, report):
 * theory's name of the key the composer used, else the spec's own text. Returns 1 with *key set
 * (key may be NULL) when the section's harmony parsed, else 0. */
int sg_section_key_name(const sg_song *song, int si, sg_key *key, char *out, size_t cap);

/* ---- composing ---------------------------------------------------------------------------- */

#define SG_COMPOSE_CHORDS_TEXT 160

typedef struct sg_compose_report {
  size_t notes;         /* notes in the output list */
  double max_offset_ms; /* largest |timing humanisation| actually applied */
  double bound_ms;      /* the bound it had to respect (song.humanize_ms) */
  sg_style style;
  sg_role role;
  int from_midi; /* 1: notes came from the stem's MIDI file */
  int n_sections;
  size_t section_notes[SG_MAX_SECTIONS];                        /* notes starting in each section */
  char section_chords[SG_MAX_SECTIONS][SG_COMPOSE_CHORDS_TEXT]; /* the chart used, one line */
} sg_compose_report;

/* Composes stem stem_index of song on the grid tl into out (cleared first; sorted by start).
 *
 * The stem plays only in the sections sg_stem_plays_in names; every note starts and ends inside
 * a run of consecutive sections the stem plays in (humanisation included), so a stem listed for
 * the bridge only has notes inside the bridge. Notes never start before frame 0 or end after
 * tl->total_frames. A stem with midi_file is read from that file (sg_midi_read, grid mapping)
 * and filtered by its sections, not humanised. A stem whose role is drums composes drums with
 * its own style, pattern and sections.
 * rep (optional) receives the counts and chords; d the reason of a failure (SG_E_SPEC with
 * file:line:col for bad chords, keys, styles and patterns). Deterministic. */
sg_status sg_compose_stem(const sg_song *song, const sg_timeline *tl, int stem_index,
                          sg_note_list *out, sg_compose_report *rep, sg_diag *d);

/* Composes the synthesized drum kit of song.drums (style, optional user pattern) over all
 * sections, with fills into every section change. GM percussion keys (see notes.h). Seeded
 * with song.seed + sg_hash64("drums"). */
sg_status sg_compose_drums(const sg_song *song, const sg_timeline *tl, sg_note_list *out,
                           sg_compose_report *rep, sg_diag *d);

/* ---- Standard MIDI Files ---------------------------------------------------------------- */

#define SG_MIDI_PPQ 480
#define SG_MIDI_MAX_BYTES (64u << 20) /* refuse files larger than 64 MiB */
#define SG_MIDI_MAX_NOTES 1000000

typedef struct sg_midi_info {
  int format; /* 0, 1 */
  int n_tracks;
  int division;     /* ticks per quarter */
  double first_bpm; /* tempo of the first set-tempo event (120 when none) */
  int n_tempo_events;
  int meter_num, meter_den; /* first time signature (4/4 when none) */
  char track_name[64];      /* first track name found */
  size_t n_notes;
  int64_t lead_ticks; /* ticks before the grid (this writer's lead-in), 0 when none */
} sg_midi_info;

/* One track of a song file. */
typedef struct sg_midi_track {
  const sg_note_list *notes;
  const char *name; /* FF 03 track name: the stem's name */
  int channel;      /* 0-15; 9 (GM channel 10) for drums */
  int program;      /* General MIDI program 0-127 sent at tick 0, -1 none */
} sg_midi_track;

/* A format-1 SMF of n_tracks note tracks after a conductor track (track 0). Tick 0 is the
 * audio's frame 0: when the grid starts later (tl->origin_frame or the tempo map's first
 * quarter > 0) the file opens with a lead-in of whole bars in the song's meter, marked
 * "lead-in" (FF 06), whose tempo makes it last exactly that long, so no note is shifted. The
 * conductor holds the title, the time signature, the tempo (one event, or one per measured
 * quarter), a marker (FF 06) at every section start and a key signature (FF 59) at the first
 * section and wherever section_keys (tl->n_sections keys, or NULL) changes; a mode is written
 * as its parent major scale's signature with a text event (FF 01) "key: <tonic> <mode>". Each
 * note track has its name (FF 03), its program change when program >= 0 (not on channel 9),
 * then the notes. */
sg_status sg_midi_encode_song(const sg_timeline *tl, const char *title, const sg_key *section_keys,
                              const sg_midi_track *tracks, int n_tracks, uint8_t **buf, size_t *len,
                              sg_diag *d);
sg_status sg_midi_write_song(const char *path, const sg_timeline *tl, const char *title,
                             const sg_key *section_keys, const sg_midi_track *tracks, int n_tracks,
                             sg_diag *d);

/* A meta event or program change read back from a file (notes are sg_midi_decode's). */
typedef struct sg_midi_event {
  int track; /* MTrk index, 0-based */
  int64_t tick;
  int kind;    /* meta type (0x01 text, 0x03 name, 0x06 marker, 0x51 tempo, 0x58 time signature,
                  0x59 key signature) or 0xC0 for a program change */
  int channel; /* program change channel, -1 for meta events */
  uint8_t data[64]; /* the event's bytes (NUL-terminated, truncated to 63) */
  size_t len;
} sg_midi_event;

/* Lists every meta event and program change of an SMF in file order into a new heap array
 * (*events, free() it), with the same bounds checks as sg_midi_decode. info is optional. */
sg_status sg_midi_events(const uint8_t *buf, size_t len, sg_midi_event **events, size_t *n,
                         sg_midi_info *info, sg_diag *d);
/* One format-1 song file at out from stem files written by sg_midi_write_song with one track
 * each and the same conductor: the conductor once, then every stem's track in order. A file
 * of another shape or with another conductor is SG_E_FORMAT naming it; out is never left
 * half-written. */
sg_status sg_midi_merge(const char *const *paths, int n, const char *out, sg_diag *d);

/* One stem as a format-1 SMF into a new heap buffer (*buf, free() it): sg_midi_encode_song with
 * key (or NULL) for every section and one track of notes on `channel` named track_name, no
 * program. Frames become ticks through the timeline (exact inverse of sg_timeline_frame_at,
 * rounded to the nearest tick). */
sg_status sg_midi_encode(const sg_note_list *notes, const sg_timeline *tl, const char *title,
                         const char *track_name, int channel, const sg_key *key, uint8_t **buf,
                         size_t *len, sg_diag *d);
sg_status sg_midi_write(const char *path, const sg_note_list *notes, const sg_timeline *tl,
                        const char *title, const char *track_name, int channel, const sg_key *key,
                        sg_diag *d);

typedef enum sg_midi_map {
  /* Ticks are quarter-note positions on the song's grid: tick / division quarters ->
   * sg_timeline_frame_at. A file made at the song's tempo lines up exactly, and a file whose
   * tempo differs still follows the song's bars (the usual DAW "follow project tempo"). */
  SG_MIDI_MAP_GRID = 0,
  /* Ticks become seconds through the file's own tempo events, then frames at tl->rate, offset
   * by tl->origin_frame: the performance keeps its recorded timing. */
  SG_MIDI_MAP_FILE_TEMPO
} sg_midi_map;

/* Reads a format 0 or 1 SMF from memory into notes (appended; sorted at the end). Every length
 * and offset is bounds-checked: truncated or hostile files return SG_E_FORMAT with a message
 * (and byte offset), SMPTE time division SG_E_UNSUPPORTED, more than SG_MIDI_MAX_NOTES
 * SG_E_LIMIT. Note-on with velocity 0 is a note-off; overlapping notes on one key pair first-in
 * first-out; notes still sounding at the end of a track end there. info is optional. */
sg_status sg_midi_decode(const uint8_t *buf, size_t len, const sg_timeline *tl, sg_midi_map map,
                         sg_note_list *out, sg_midi_info *info, sg_diag *d);
sg_status sg_midi_read(const char *path, const sg_timeline *tl, sg_midi_map map, sg_note_list *out,
                       sg_midi_info *info, sg_diag *d);

#ifdef __cplusplus
}
#endif
#endif
