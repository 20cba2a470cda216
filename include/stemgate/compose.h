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
} sg_midi_info;

/* Writes notes as a format-1 SMF into a new heap buffer (*buf, free() it): track 0 holds the
 * tempo map (one set-tempo event, or one per quarter when tl has a measured tempo map), the time
 * signature, the key signature when key != NULL and the song title; track 1 holds the notes on
 * `channel` (0-15; 9 for drums) named track_name. Frames become ticks through the timeline
 * (exact inverse of sg_timeline_frame_at, rounded to the nearest tick). */
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
