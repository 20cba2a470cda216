/* stemgate note events: what the compose step hands to the instruments.
 *
 * Times are absolute sample frames on the song grid (humanisation already applied), so an
 * instrument only has to start and stop voices at the given frames. Drum notes use General
 * MIDI percussion numbers (36 kick, 37 rim, 38 snare, 39 clap, 42 closed hat, 46 open hat,
 * 70 shaker/maracas). */
#ifndef STEMGATE_NOTES_H
#define STEMGATE_NOTES_H

#include "stemgate/core.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  SG_NOTE_ACCENT = 1u << 0,   /* accented hit / strum */
  SG_NOTE_GHOST = 1u << 1,    /* ghost note */
  SG_NOTE_SLIDE = 1u << 2,    /* glide into this note (mono synths) */
  SG_NOTE_STRUM_UP = 1u << 3, /* guitar: upstroke (strum order high to low) */
  SG_NOTE_MUTED = 1u << 4     /* guitar: palm-muted / dead note */
};

typedef struct sg_note {
  int64_t start;   /* first frame, absolute in the song */
  int64_t length;  /* frames until release (> 0) */
  int key;         /* MIDI note number 0..127 */
  float velocity;  /* 0..1 */
  unsigned flags;  /* SG_NOTE_* */
  int group;       /* notes of one chord/strum share a group id (guitar strums, voicings) */
  int strum_index; /* position inside the strum, 0 = first string struck */
} sg_note;

/* A growable list of notes. Owned by whoever created it; sg_notes_free releases it. */
typedef struct sg_note_list {
  sg_note *v;
  size_t n, cap;
} sg_note_list;

void sg_notes_init(sg_note_list *l);
sg_status sg_notes_push(sg_note_list *l, const sg_note *n);
/* Stable sort by start frame, then key: instruments consume notes in this order. */
void sg_notes_sort(sg_note_list *l);
/* Frees the growth slack (capacity down to n), once a list is complete. */
void sg_notes_trim(sg_note_list *l);
void sg_notes_clear(sg_note_list *l);
void sg_notes_free(sg_note_list *l);

#ifdef __cplusplus
}
#endif
#endif
