/* The lead role: a user's written line (`melody:`) played note for note, or a melody written
 * from the key and the chords.
 *
 * The generated melody follows the textbook construction of a period (e.g. A. Schoenberg,
 * "Fundamentals of Musical Composition", 1967, ch. V-VIII; the phrase-contour and chord-tone
 * rules of pop/jazz melody writing as in J. Perricone, "Melody in Songwriting", 2000):
 *  - a two-bar motif (a rhythm cell per pulse of the bar, from the meter's groupings, so 7/8
 *    and 6/8 get melodies of their own) drawn once per section from the seed;
 *  - four-bar phrases: motif, its second bar, the motif repeated with a varied cell and its
 *    interval shape sequenced to a new pitch level, then a cadence bar (a long note, then a
 *    rest at the phrase end: the singer's breath);
 *  - an arch contour over the phrase (rising to a peak in its third bar, falling to the
 *    cadence), placed a little higher in every second phrase, whose cadence also changes
 *    (antecedent on the third or fifth, consequent on the root), so consecutive phrases differ;
 *  - chord tones (preferring the key's own) on every pulse; passing tones (scale steps toward
 *    the next strong note) or neighbour tones (a step away) between them, always in the key;
 *  - a range per instrument (a tessitura of about an octave and a half) and the stem's octave.
 */
#include "compose_internal.h"

#include <stdlib.h>
#include <string.h>

#define T8 24

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Range of a lead line per instrument (MIDI, before the stem's octave). */
static void lead_range(const sg__ctx *c, int *lo, int *hi) {
  const char *inst = c->stem ? c->stem->instrument.s : "";
  if (!strcmp(inst, "guitar")) {
    *lo = 55; /* G3-A5: the singing register of a guitar lead */
    *hi = 81;
  } else if (!strcmp(inst, "moog_bass")) {
    *lo = 48; /* C3-C5: a mono-synth lead */
    *hi = 72;
  } else if (!strcmp(inst, "prophet_poly")) {
    *lo = 60;
    *hi = 84;
  } else { /* dx7 bells and e-piano, SoundFont voices: C4-D6 */
    *lo = 62;
    *hi = 86;
  }
}

/* ---- a user's line ------------------------------------------------------------------------ */

static void play_melody(sg__ctx *c, const sg__bar *b) {
  const sg_melody *m = c->melody;
  if (m->length <= 0)
    return;
  int o = 12 * c->octave;
  int64_t bar0 = (int64_t)b->bar_in_sec * c->bar_ticks, bar1 = bar0 + c->bar_ticks;
  for (int64_t k = bar0 / m->length; k * m->length < bar1; ++k)
    for (int i = 0; i < m->n; ++i) {
      int64_t t = k * m->length + m->v[i].start;
      if (t < bar0 || t >= bar1)
        continue;
      float vel = (m->v[i].flags & SG_NOTE_ACCENT) ? 0.9f : 0.72f;
      sg__emit(c, b->bar, (int)(t - bar0), m->v[i].len, m->v[i].key + o, vel, m->v[i].flags, 0, 0,
               0.0);
    }
}

/* ---- the generated melody ----------------------------------------------------------------- */

enum { CELL_HELD = 0, CELL_LAST8, CELL_EIGHTHS, CELL_DOTTED, CELL_SYNC, CELL_COUNT };

/* Onsets of a cell over a pulse of len ticks, relative to the pulse. */
static int cell_onsets(int cell, int len, int *t) {
  int n = 0;
  switch (cell) {
  case CELL_LAST8:
    t[n++] = 0;
    if (len >= 2 * T8)
      t[n++] = len - T8;
    break;
  case CELL_EIGHTHS:
    for (int x = 0; x < len && n < 8; x += T8)
      t[n++] = x;
    break;
  case CELL_DOTTED:
    t[n++] = 0;
    if (len >= 2 * T8)
      t[n++] = len * 3 / 4 - (len * 3 / 4) % 12;
    break;
  case CELL_SYNC: /* the pulse's first 8th rests, a push on its second */
    t[n++] = len >= 2 * T8 ? T8 : 0;
    break;
  default:
    t[n++] = 0;
  }
  return n;
}

static void choose_motif(sg__ctx *c) {
  /* Sparse: held notes and pickups; normal: any but the syncopation on the first pulse;
   * full: busier cells. */
  for (int h = 0; h < 2; ++h)
    for (int p = 0; p < SG__MAX_PULSE; ++p) {
      uint32_t r = sg_rng_u32(&c->rng);
      int cell;
      if (c->energy == SG_ENERGY_SPARSE)
        cell = (int)(r % 2u);
      else if (c->energy == SG_ENERGY_FULL)
        cell = 1 + (int)(r % 4u);
      else
        cell = (int)(r % 4u);
      if (p == 0 && cell == CELL_SYNC)
        cell = CELL_LAST8;
      c->motif[h][p] = cell;
    }
  c->motif_n[0] = c->motif_n[1] = 0;
}

/* Next note of the key from note, dir > 0 up. */
static int scale_step(const sg_key *k, int note, int dir) {
  for (int d = 1; d <= 3; ++d) {
    int cand = note + dir * d;
    if (sg_key_contains(k, ((cand % 12) + 12) % 12))
      return cand;
  }
  return note + dir * 2;
}

/* The chord tone in [lo, hi] nearest to `near`, a tone of the key when the chord has one
 * within a fourth of it. `want` (a pitch class or -1) restricts the choice when in range. */
static int chord_tone(const sg_key *key, const sg_chord *ch, int near, int lo, int hi, int want) {
  int best = -1, best_key = -1;
  for (int k = lo; k <= hi; ++k) {
    int pc = k % 12;
    if (!((ch->pcs >> pc) & 1))
      continue;
    if (want >= 0 && pc != want)
      continue;
    if (best < 0 || abs(k - near) < abs(best - near))
      best = k;
    if (sg_key_contains(key, pc) && (best_key < 0 || abs(k - near) < abs(best_key - near)))
      best_key = k;
  }
  if (best_key >= 0 && abs(best_key - near) <= abs(best - near) + 5)
    return best_key;
  if (best < 0 && want >= 0)
    return chord_tone(key, ch, near, lo, hi, -1);
  return best < 0 ? near : best;
}

/* Scale-degree distance from a to b (signed; counts key notes). */
static int scale_dist(const sg_key *k, int a, int b) {
  int n = 0, dir = b > a ? 1 : -1;
  for (int x = a; x != b && abs(n) < 24; x = scale_step(k, x, dir))
    n += dir;
  return n;
}

void sg__role_lead(sg__ctx *c, const sg__bar *b) {
  if (c->melody) {
    play_melody(c, b);
    return;
  }
  int o = 12 * c->octave;
  int lo, hi;
  lead_range(c, &lo, &hi);
  if (c->motif_section != b->si) {
    choose_motif(c);
    c->motif_section = b->si;
  }
  int phrase = b->bar_in_sec / 4, bip = b->bar_in_sec % 4;
  /* A section whose length is not a multiple of four ends its last phrase on its last bar. */
  int cadence = bip == 3 || b->last_of_section;
  int half = bip % 2;
  /* Varied repetition: bar 3 of the phrase repeats bar 1's cells with one pulse changed. */
  sg_rng vr;
  sg_rng_seed(&vr, c->seed ^ 0x6c656164ULL, (uint64_t)(b->si * 64 + phrase));
  int vary = bip == 2 ? (int)(sg_rng_u32(&vr) % (uint32_t)c->n_pulses) : -1;

  int ticks[64], strong[64], n = 0;
  for (int p = 0; p < c->n_pulses && n < 56; ++p) {
    int ps = c->pulse_start[p], pl = c->pulse_len[p];
    int cell = c->motif[half][p % SG__MAX_PULSE];
    if (p == vary)
      cell = (cell + 1 + (int)(sg_rng_u32(&vr) % (CELL_COUNT - 1))) % CELL_COUNT;
    if (cadence) {
      /* The cadence: the first pulse holds, the last pulse (or two in long bars) breathes. */
      if (p == 0)
        cell = CELL_HELD;
      else if (p >= c->n_pulses - (c->n_pulses >= 4 ? 2 : 1))
        continue;
      else
        cell = CELL_HELD;
    }
    int t[8];
    int k = cell_onsets(cell, pl, t);
    for (int j = 0; j < k && n < 56; ++j) {
      ticks[n] = ps + t[j];
      strong[n] = t[j] == 0;
      ++n;
    }
  }
  if (n == 0)
    return;
  /* The arch: 0 at the phrase start, peak near the start of bar 3, back down at the cadence;
   * every second phrase sits a third higher. */
  double span = hi - lo;
  double base = lo + 0.25 * span + (phrase % 2 ? 0.12 * span : 0.0);
  double amp = 0.45 * span;
  int phrase_ticks = 4 * c->bar_ticks;
  int notes[64];
  if (c->lead_prev < 0)
    c->lead_prev = (int)(base + 0.5);
  /* Pass 1: strong notes on chord tones near the contour (and near the line so far). */
  int prev = c->lead_prev;
  for (int i = 0; i < n; ++i) {
    notes[i] = -1;
    if (!strong[i])
      continue;
    double pos = (double)(bip * c->bar_ticks + ticks[i]) / phrase_ticks;
    double target = base + amp * (pos < 0.6 ? pos / 0.6 : (1.0 - pos) / 0.4);
    int near = (int)((2.0 * target + prev) / 3.0 + 0.5);
    const sg_chord *ch = sg__chord_at(b, ticks[i]);
    int want = -1;
    if (cadence && i == 0) {
      /* Antecedent ends open (third or fifth), consequent closed (root). */
      want = phrase % 2 ? ch->root : (ch->root + (ch->third >= 0 ? ch->third : 7)) % 12;
    }
    notes[i] = chord_tone(c->key, ch, clampi(near, lo, hi), lo, hi, want);
    prev = notes[i];
  }
  /* Pass 2: weak notes between strong ones: passing tones when the gap allows, else neighbours. */
  prev = c->lead_prev;
  for (int i = 0; i < n; ++i) {
    if (notes[i] >= 0) {
      prev = notes[i];
      continue;
    }
    int next = -1;
    for (int j = i + 1; j < n; ++j)
      if (notes[j] >= 0) {
        next = notes[j];
        break;
      }
    int note;
    if (next >= 0 && abs(scale_dist(c->key, prev, next)) >= 2) {
      note = scale_step(c->key, prev, next > prev ? 1 : -1); /* passing */
    } else {
      int dir = (next >= 0 ? next >= prev : sg_rng_u32(&vr) & 1) ? 1 : -1; /* neighbour */
      if (prev + 3 > hi)
        dir = -1;
      if (prev - 3 < lo)
        dir = 1;
      note = scale_step(c->key, prev, dir);
    }
    if (note < lo || note > hi)
      note = scale_step(c->key, prev, note > hi ? -1 : 1);
    notes[i] = note;
    prev = note;
  }
  /* Lengths: legato to the next note; the cadence note rings to the breath. */
  int end = c->bar_ticks;
  if (cadence && c->n_pulses >= 2)
    end = c->pulse_start[c->n_pulses - (c->n_pulses >= 4 ? 2 : 1)];
  for (int i = 0; i < n; ++i) {
    int nxt = i + 1 < n ? ticks[i + 1] : end;
    int len = nxt - ticks[i] - 3;
    if (len < 6)
      len = 6;
    float vel = strong[i] ? (ticks[i] == 0 ? 0.78f : 0.72f) : 0.6f;
    sg__emit(c, b->bar, ticks[i], len, notes[i] + o, vel, 0, 0, 0, 0.0);
    c->lead_prev = notes[i];
  }
}
