/* Internal to sg_compose: the bar context handed to each role, and the composer state. */
#ifndef STEMGATE_COMPOSE_INTERNAL_H
#define STEMGATE_COMPOSE_INTERNAL_H

#include "stemgate/compose.h"

#define SG__MAX_SEG 16
#define SG__TPQ 48 /* ticks per quarter note */
#define SG__MAX_PULSE 16

typedef struct sg__seg {
  int start, end; /* ticks within the bar */
  const sg_chord *chord;
} sg__seg;

typedef struct sg__bar {
  int64_t bar; /* absolute bar index */
  int bar_in_sec, sec_bars, si;
  int first_of_section, last_of_section;
  int section_change;   /* the next bar starts another section */
  int next_plays;       /* the stem plays in the next bar */
  const sg_chord *next; /* first chord of the next bar; NULL at the song end */
  sg__seg seg[SG__MAX_SEG];
  int nseg;
} sg__bar;

typedef struct sg__ctx sg__ctx;
typedef void (*sg__role_fn)(sg__ctx *c, const sg__bar *b);

/* One user-pattern hit inside a bar. */
typedef struct sg__hit {
  int tick, len;
  float vel;
  unsigned flags;
} sg__hit;

struct sg__ctx {
  const sg_song *song;
  const sg_timeline *tl;
  const sg_stem_spec *stem; /* NULL for the song's drum kit */
  sg_note_list *out;
  sg_status status;
  /* grid */
  int bar_ticks, beat_ticks, sub_ticks, n_beats, steps, compound;
  /* Beat groupings (sg__groupings): units are the felt groups of the bar (the halves of 4/4, the
   * dotted beats of 6/8, 2+2+3 of 7/8, 3+2 of 5/4); pulses are the beats a player counts (the
   * quarters of x/4, the groups of x/8). odd: a meter whose grooves come from the groupings
   * (5/4, 7/4, 5/8, 7/8, ...) rather than from the hand-written 2, 3, 4 and compound figures. */
  int n_units, unit_start[SG__MAX_PULSE], unit_len[SG__MAX_PULSE];
  int n_pulses, pulse_start[SG__MAX_PULSE], pulse_len[SG__MAX_PULSE];
  int odd;
  double swing;
  /* what to play */
  sg_style style;
  sg_role role;
  sg_energy energy;
  float energy_gain;
  int octave, is_guitar;
  uint64_t seed;
  sg_rng rng; /* composition choices (not humanisation) */
  sg__role_fn role_fn;
  const sg_key *key;
  sg_key keys[SG_MAX_SECTIONS];
  sg_progression *progs; /* n_sections charts */
  int has_user;
  sg_step_pattern user;
  sg_drum_pattern drum_user;
  /* running state */
  sg_pad_voicing pad_prev;
  sg_guitar_voicing gtr_prev;
  int bass_prev, lead_prev;
  int bass_section;             /* section whose riff bass_cell holds (-1: none) */
  int bass_cell[SG__MAX_PULSE]; /* the section's bass riff: a rhythm cell per unit */
  int bass_mute_low;            /* a bass stem plays in this section: comp stays high */
  int fills;                    /* drums: fills and section accents (0 for a user's
                                 * pattern unless drums.fills is true) */
  int anticipated;              /* the bass/comp already played this bar's downbeat chord early */
  int group;
  int motif[2][SG__MAX_PULSE]; /* lead: the motif's rhythm cell per pulse, for its two bars */
  int motif_n[2];
  sg_melody *melody; /* the stem's written line (melody:), owned; NULL: generated */
  int motif_section;
};

/* Splits a bar of num/den into groups of 2 and 3 denominator units (groups[] in units of
 * 1/den, returns the count): 6/8, 9/8, 12/8 in threes; 5/x as 3+2; 7/x as 2+2+3; 4/4 as 2+2;
 * 3/4 as 3; other even counts in twos, other odd counts twos then a three. */
int sg__groupings(int num, int den, int groups[SG__MAX_PULSE]);

/* The strong beats (kick, bass root) and backbeats (snare, skank) of the bar from its groupings
 * (ticks; returns the backbeat count, *ns the strong count): in x/4 each group opens strong and
 * has its backbeat on its second pulse; where groups are pulses (6/8, 7/8) they alternate. */
int sg__strong_back(const sg__ctx *c, int *strong, int *ns, int *back);
/* 1 for the styles whose grooves come from sg__strong_back in every meter (ballad, funk, swing,
 * drum-and-bass, reggae). */
int sg__groove_style(sg_style s);

int64_t sg__tick_frame(const sg__ctx *c, int64_t tick);
/* Writes one note: bar + tick (may be negative or past the bar), length in ticks. */
void sg__emit(sg__ctx *c, int64_t bar, int tick, int len, int key, float vel, unsigned flags,
              int group, int strum_index, double strum_ms);
const sg_chord *sg__chord_at(const sg__bar *b, int tick);
/* Hits of the user pattern that start inside this bar; returns the count (<= cap). */
int sg__user_hits(const sg__ctx *c, const sg_step_pattern *p, const sg__bar *b, sg__hit *out,
                  int cap);

void sg__role_comp(sg__ctx *c, const sg__bar *b);
void sg__role_pad(sg__ctx *c, const sg__bar *b);
void sg__role_arp(sg__ctx *c, const sg__bar *b);
void sg__role_lead(sg__ctx *c, const sg__bar *b);
void sg__role_bass(sg__ctx *c, const sg__bar *b);
void sg__role_drums(sg__ctx *c, const sg__bar *b);

/* ending.c: the final hit of `ending: ring` after the last bar (appended to c->out). */
void sg__ending_hit(sg__ctx *c);

#endif
