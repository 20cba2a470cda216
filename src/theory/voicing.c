/* Voicings: guitar shapes, voice-led pads and bass approach notes.
 *
 * Guitar: exhaustive depth-first search of the fretboard, one hand window at a time (open
 * strings plus four frets), pruned by "the lowest string played must sound the bass". Each
 * complete shape is checked for playability (four fingers, a barre on the lowest fret counts as
 * one) and scored; the cheapest wins, ties going to the first found (deterministic).
 *
 * Pads: every placement of the chosen chord tones inside the register is enumerated (at most
 * 3^5 = 243 for five voices), and the one with least total semitone motion from the previous
 * voicing wins - parsimonious voice leading in the sense of Tymoczko, "A Geometry of Music"
 * (2011), ch. 2, with voices matched in sorted order (no crossing). */
#include "stemgate/theory.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

const int sg_guitar_tuning[SG_GUITAR_STRINGS] = {40, 45, 50, 55, 59, 64};

#define MAX_FRET 15

typedef struct gsearch {
  const sg_chord *c;
  const sg_guitar_voicing *prev;
  int base;                    /* lowest fret of the window (>= 1) */
  int fret[SG_GUITAR_STRINGS]; /* -1 muted */
  sg_guitar_voicing best;
  double best_score;
  int found;
  int need_third, need_seventh;  /* pitch classes that must sound, or -1 */
  int color[SG_CHORD_MAX_TONES]; /* colour tones (extensions/alterations) */
  int n_color;
} gsearch;

static int pc_of(int key) { return ((key % 12) + 12) % 12; }

static int in_chord(const sg_chord *c, int pc) { return (c->pcs >> pc) & 1; }

static void score_shape(gsearch *g) {
  const sg_chord *c = g->c;
  int keys[SG_GUITAR_STRINGS], strs[SG_GUITAR_STRINGS], frets[SG_GUITAR_STRINGS];
  int n = 0;
  for (int s = 0; s < SG_GUITAR_STRINGS; ++s)
    if (g->fret[s] >= 0) {
      keys[n] = sg_guitar_tuning[s] + g->fret[s];
      strs[n] = s;
      frets[n] = g->fret[s];
      ++n;
    }
  if (n < 4)
    return;
  if (pc_of(keys[0]) != c->bass)
    return;
  for (int i = 0; i < n; ++i) /* unisons on two strings add nothing */
    for (int j = i + 1; j < n; ++j)
      if (keys[i] == keys[j])
        return;
  /* Pitch-class coverage. */
  uint16_t have = 0;
  for (int i = 0; i < n; ++i)
    have |= (uint16_t)(1u << pc_of(keys[i]));
  if (g->need_third >= 0 && !(have & (1u << g->need_third)))
    return;
  if (g->need_seventh >= 0 && !(have & (1u << g->need_seventh)))
    return;
  /* Playability: span and fingers. */
  int fmin = INT_MAX, fmax = 0, fretted = 0;
  for (int i = 0; i < n; ++i)
    if (frets[i] > 0) {
      ++fretted;
      if (frets[i] < fmin)
        fmin = frets[i];
      if (frets[i] > fmax)
        fmax = frets[i];
    }
  if (!fretted)
    fmin = fmax = 0;
  if (fmax - fmin > 3)
    return;
  int fingers = fretted;
  if (fretted) {
    int at_min = 0, first = -1, last = -1;
    for (int i = 0; i < n; ++i)
      if (frets[i] == fmin) {
        ++at_min;
        if (first < 0)
          first = strs[i];
        last = strs[i];
      }
    if (at_min >= 2) {
      /* A barre needs every played string under it to be fretted at or above it. */
      int ok = 1;
      for (int i = 0; i < n; ++i)
        if (strs[i] > first && strs[i] < last && frets[i] == 0)
          ok = 0;
      if (ok)
        fingers = 1 + (fretted - at_min);
    }
  }
  if (fingers > 4)
    return;
  double score = 0;
  for (int k = 0; k < g->n_color; ++k)
    if (!(have & (1u << g->color[k])))
      score += 6.0;
  if (!(have & (1u << c->root)))
    score += 3.0;
  if (c->fifth >= 0 && !(have & (1u << ((c->root + c->fifth) % 12))) && !(c->alt & SG_ALT_ALT))
    score += 0.5 + (c->n_tones <= 3 ? 3.0 : 0.0);
  score += (6 - n) * 1.2;
  /* Muted strings inside the shape are harder to play cleanly. */
  for (int s = strs[0] + 1; s < strs[n - 1]; ++s)
    if (g->fret[s] < 0)
      score += 2.5;
  /* Register mud: seconds and minor thirds under C3, any third under G2 (the low interval
   * limits of orchestration texts, e.g. Piston "Orchestration" ch. 20). */
  for (int i = 1; i < n; ++i) {
    int iv = keys[i] - keys[i - 1];
    if (iv > 0 && ((keys[i - 1] < 48 && iv <= 3) || (keys[i - 1] < 43 && iv < 5)))
      score += 3.0;
  }
  /* Open strings ringing against a high position are a stretch few players reach for. */
  for (int i = 0; i < n; ++i)
    if (frets[i] == 0 && fmax > 5)
      score += 1.5;
  /* Doubled thirds sound heavy. */
  int thirds = 0;
  for (int i = 0; i < n; ++i)
    if (c->third >= 0 && pc_of(keys[i]) == (c->root + c->third) % 12)
      ++thirds;
  if (thirds > 1)
    score += 1.0 * (thirds - 1);
  if (fingers == 4)
    score += 0.8;
  double center = fretted ? (fmin + fmax) * 0.5 : 0.0;
  if (g->prev && g->prev->n > 0) {
    double pc = (g->prev->min_fret + g->prev->max_fret) * 0.5;
    double dist = center - pc;
    score += 0.6 * (dist < 0 ? -dist : dist);
  } else {
    score += 0.25 * center; /* lower positions first, as a guitarist reaches for them */
  }
  if (!g->found || score < g->best_score) {
    g->found = 1;
    g->best_score = score;
    sg_guitar_voicing *v = &g->best;
    memset(v, 0, sizeof *v);
    v->n = n;
    for (int i = 0; i < n; ++i) {
      v->key[i] = keys[i];
      v->string[i] = strs[i];
      v->fret[i] = frets[i];
    }
    v->min_fret = fretted ? fmin : 0;
    v->max_fret = fretted ? fmax : 0;
  }
}

static void dfs(gsearch *g, int s, int any_played) {
  if (s == SG_GUITAR_STRINGS) {
    score_shape(g);
    return;
  }
  /* Muted. */
  g->fret[s] = -1;
  dfs(g, s + 1, any_played);
  for (int f = 0; f <= g->base + 3 && f <= MAX_FRET; ++f) {
    if (f > 0 && f < g->base)
      continue;
    int pc = pc_of(sg_guitar_tuning[s] + f);
    if (!in_chord(g->c, pc))
      continue;
    if (!any_played && pc != g->c->bass)
      continue; /* the lowest string played carries the bass */
    g->fret[s] = f;
    dfs(g, s + 1, 1);
  }
  g->fret[s] = -1;
}

sg_status sg_voice_guitar(const sg_chord *c, const sg_guitar_voicing *prev,
                          sg_guitar_voicing *out) {
  if (!c || !out)
    return SG_E_INVAL;
  gsearch g;
  memset(&g, 0, sizeof g);
  g.c = c;
  g.prev = prev;
  g.need_third = c->third >= 0 ? (c->root + c->third) % 12 : -1;
  g.need_seventh = c->seventh >= 0 ? (c->root + c->seventh) % 12
                   : c->sixth      ? (c->root + 9) % 12
                                   : -1;
  /* Colour tones: extensions and alterations, and the fifth when it defines the quality. */
  for (int t = 0; t < c->n_tones; ++t)
    if (c->tones[t] > 12 && g.n_color < SG_CHORD_MAX_TONES)
      g.color[g.n_color++] = (c->root + c->tones[t]) % 12;
  if (c->fifth >= 0 && g.n_color < SG_CHORD_MAX_TONES &&
      (c->quality == SG_CHORD_DIMINISHED || c->quality == SG_CHORD_HALF_DIM ||
       c->quality == SG_CHORD_AUGMENTED || (c->alt & (SG_ALT_B5 | SG_ALT_S5))))
    g.color[g.n_color++] = (c->root + c->fifth) % 12;
  for (int pass = 0; pass < 2 && !g.found; ++pass) {
    for (int base = 1; base <= MAX_FRET - 3; ++base) {
      g.base = base;
      dfs(&g, 0, 0);
    }
    /* A chord whose guide tones cannot all sound in one hand: keep the third, drop the 7th. */
    g.need_seventh = -1;
  }
  if (!g.found)
    return SG_E_NOTFOUND;
  *out = g.best;
  return SG_OK;
}

/* ---- pads ---------------------------------------------------------------------------------- */

int sg_voice_movement(const sg_pad_voicing *a, const sg_pad_voicing *b) {
  if (!a || !b || a->n == 0 || b->n == 0)
    return 0;
  int total = 0;
  if (a->n == b->n) {
    for (int i = 0; i < a->n; ++i)
      total += abs(a->key[i] - b->key[i]);
    return total;
  }
  for (int i = 0; i < b->n; ++i) {
    int best = INT_MAX;
    for (int j = 0; j < a->n; ++j)
      if (abs(b->key[i] - a->key[j]) < best)
        best = abs(b->key[i] - a->key[j]);
    total += best;
  }
  return total;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

sg_status sg_voice_pad(const sg_chord *c, const sg_pad_voicing *prev, int voices, int lo, int hi,
                       sg_pad_voicing *out) {
  if (!c || !out || voices < 3 || voices > SG_PAD_MAX_VOICES || hi - lo < 12 || lo < 0 || hi > 127)
    return SG_E_INVAL;
  int pri[SG_CHORD_MAX_TONES + 1];
  int np = sg_chord_priority(c, pri);
  int want[SG_PAD_MAX_VOICES];
  int nw = 0;
  for (int i = 0; i < np && nw < voices; ++i)
    want[nw++] = pri[i];
  int distinct = nw;
  /* Small chords: the extra voices double any chord tone but the third (a doubled third is
   * the classic thick-sounding doubling); the search picks the doubling that moves least. */
  uint16_t dbl = c->pcs;
  if (c->third >= 0)
    dbl &= (uint16_t) ~(1u << ((c->root + c->third) % 12));
  if (!dbl)
    dbl = c->pcs;
  while (nw < voices)
    want[nw++] = -1;
  int cand[SG_PAD_MAX_VOICES][48];
  int nc[SG_PAD_MAX_VOICES];
  for (int v = 0; v < nw; ++v) {
    nc[v] = 0;
    for (int k = lo; k <= hi && nc[v] < 48; ++k)
      if (v < distinct ? pc_of(k) == want[v] : ((dbl >> pc_of(k)) & 1))
        cand[v][nc[v]++] = k;
    if (!nc[v])
      return SG_E_NOTFOUND;
  }
  int idx[SG_PAD_MAX_VOICES] = {0};
  long best_cost = LONG_MAX;
  sg_pad_voicing best;
  memset(&best, 0, sizeof best);
  double mid = (lo + hi) * 0.5;
  for (;;) {
    sg_pad_voicing t;
    t.n = nw;
    for (int v = 0; v < nw; ++v)
      t.key[v] = cand[v][idx[v]];
    qsort(t.key, (size_t)nw, sizeof t.key[0], cmp_int);
    int ok = 1;
    for (int v = 1; v < nw && ok; ++v) {
      int gap = t.key[v] - t.key[v - 1];
      if (gap == 0)
        ok = 0;
      else if (gap > (v == 1 ? 19 : 12))
        ok = 0;
      else if (gap == 1 && t.key[v - 1] < 55)
        ok = 0;
    }
    if (ok && t.key[nw - 1] - t.key[0] > 26)
      ok = 0;
    if (ok) {
      long cost;
      if (prev && prev->n > 0) {
        cost = 100L * sg_voice_movement(prev, &t);
        if (prev->n != t.n) {
          sg_pad_voicing r = t;
          cost += 100L * sg_voice_movement(&r, prev);
        }
        /* Tie-break toward the middle of the register so voicings do not creep to an edge. */
        double centre = 0;
        for (int v = 0; v < nw; ++v)
          centre += t.key[v];
        centre /= nw;
        cost += (long)(2.0 * (centre > mid ? centre - mid : mid - centre));
      } else {
        double dev = 0;
        for (int v = 0; v < nw; ++v)
          dev += t.key[v] > mid ? t.key[v] - mid : mid - t.key[v];
        cost = (long)(100.0 * dev);
      }
      if (cost < best_cost) {
        best_cost = cost;
        best = t;
      }
    }
    int v = 0;
    while (v < nw && ++idx[v] >= nc[v]) {
      idx[v] = 0;
      ++v;
    }
    if (v == nw)
      break;
  }
  if (best_cost == LONG_MAX)
    return SG_E_NOTFOUND;
  *out = best;
  return SG_OK;
}

int sg_note_in_range(int pc, int lo, int hi, int near) {
  pc = pc_of(pc);
  if (near < 0)
    near = (lo + hi) / 2;
  int best = -1;
  for (int k = lo; k <= hi; ++k)
    if (pc_of(k) == pc && (best < 0 || abs(k - near) < abs(best - near)))
      best = k;
  if (best < 0) { /* range narrower than an octave: nearest note of that class above lo */
    best = lo + pc_of(pc - lo);
  }
  return best;
}

int sg_bass_approach(int target, sg_approach kind, const sg_key *key) {
  sg_key k;
  if (key)
    k = *key;
  else {
    k.tonic = pc_of(target);
    k.tonic_letter = 0;
    k.mode = SG_MODE_MAJOR;
  }
  switch (kind) {
  case SG_APPROACH_CHROMATIC_BELOW:
    return target - 1;
  case SG_APPROACH_CHROMATIC_ABOVE:
    return target + 1;
  case SG_APPROACH_DIATONIC_BELOW:
    for (int d = 1; d <= 2; ++d)
      if (sg_key_contains(&k, target - d))
        return target - d;
    return target - 2;
  case SG_APPROACH_DIATONIC_ABOVE:
    for (int d = 1; d <= 2; ++d)
      if (sg_key_contains(&k, target + d))
        return target + d;
    return target + 2;
  case SG_APPROACH_FIFTH:
  default:
    return target - 5;
  }
}
