/* Melodic roles: comp (guitar or keys), pad, arp, lead and bass, per style and energy.
 *
 * Every role reads the bar context (chord segments in ticks, the next chord, section edges)
 * and writes notes through sg__emit. Rhythms derive from the bar: a 4/4 bar uses the style's
 * hand-written figures; other meters use the same ideas placed on their own beats (beat starts,
 * "and"s, 16th anticipations), so nothing assumes sixteen steps. */
#include "compose_internal.h"

#include <stdlib.h>
#include <string.h>

#define T16 12 /* ticks of a 16th */
#define T8 24  /* ticks of an 8th */

static int is_44(const sg__ctx *c) {
  return !c->compound && c->beat_ticks == 48 && c->n_beats == 4;
}

static int same_chord(const sg_chord *a, const sg_chord *b) {
  return a && b && a->root == b->root && a->pcs == b->pcs && a->bass == b->bass;
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

int sg__user_hits(const sg__ctx *c, const sg_step_pattern *p, const sg__bar *b, sg__hit *out,
                  int cap) {
  if (!p || p->n_steps <= 0 || p->steps_per_whole <= 0)
    return 0;
  int step_ticks = 4 * SG__TPQ / p->steps_per_whole;
  int64_t period = (int64_t)p->n_steps * step_ticks;
  int64_t bar0 = (int64_t)b->bar_in_sec * c->bar_ticks; /* ticks since section start */
  int64_t bar1 = bar0 + c->bar_ticks;
  int n = 0;
  for (int64_t k = bar0 / period; k * period < bar1 && n < cap; ++k)
    for (int h = 0; h < p->n_hits && n < cap; ++h) {
      int64_t t = k * period + (int64_t)p->hits[h].pos * step_ticks;
      if (t < bar0 || t >= bar1)
        continue;
      out[n].tick = (int)(t - bar0);
      out[n].len = p->hits[h].len * step_ticks;
      out[n].vel = p->hits[h].velocity;
      out[n].flags = p->hits[h].flags;
      ++n;
    }
  /* Sort by tick (insertion; n is small). */
  for (int i = 1; i < n; ++i) {
    sg__hit x = out[i];
    int j = i;
    while (j > 0 && out[j - 1].tick > x.tick) {
      out[j] = out[j - 1];
      --j;
    }
    out[j] = x;
  }
  return n;
}

/* ---- comp ---------------------------------------------------------------------------------- */

enum { HIT_CHORD = 0, HIT_THUMB, HIT_UP, HIT_MUTE };

typedef struct chit {
  int tick, len;
  float vel;
  int type;
} chit;

static int add_hit(chit *h, int n, int cap, int tick, int len, float vel, int type) {
  if (n >= cap)
    return n;
  h[n].tick = tick;
  h[n].len = len;
  h[n].vel = vel;
  h[n].type = type;
  return n + 1;
}

/* The style's comping figure for this bar (ticks), before pickups. */
static int comp_figure(const sg__ctx *c, const sg__bar *b, chit *h, int cap) {
  int n = 0;
  int bt = c->bar_ticks;
  sg_energy e = c->energy;
  if (c->style == SG_STYLE_BOSSA || c->style == SG_STYLE_SAMBA) {
    int partido = c->style == SG_STYLE_SAMBA || e == SG_ENERGY_FULL;
    /* Thumb: root on 1 and fifth on 3 (quarters in partido alto). */
    if (c->compound) {
      for (int k = 0; k < c->n_beats; ++k)
        n = add_hit(h, n, cap, k * c->beat_ticks, c->beat_ticks - 4, 0.55f, HIT_THUMB);
    } else {
      int every = partido ? c->beat_ticks : 2 * c->beat_ticks;
      for (int t = 0; t < bt; t += every)
        n = add_hit(h, n, cap, t, every - 4, t == 0 ? 0.6f : 0.5f, HIT_THUMB);
    }
    if (is_44(c)) {
      static const int a[] = {0, 3, 6, 10, 12}, bb[] = {2, 6, 8, 11, 14};
      static const int sa[] = {0, 6, 10}, sb[] = {2, 8, 14};
      static const int pa[] = {0, 3, 5, 7, 9, 10, 12, 14}; /* partido alto in 16ths */
      const int *f;
      int nf;
      int second = b->bar_in_sec % 2;
      if (partido) {
        f = pa;
        nf = 8;
      } else if (e == SG_ENERGY_SPARSE) {
        f = second ? sb : sa;
        nf = 3;
      } else {
        f = second ? bb : a;
        nf = 5;
      }
      for (int i = 0; i < nf; ++i)
        n = add_hit(h, n, cap, f[i] * T16, 0, (f[i] % 4 == 0) ? 0.72f : 0.64f, HIT_CHORD);
    } else if (c->compound) {
      for (int k = 0; k < c->n_beats; ++k) {
        int s = k * c->beat_ticks;
        if (k % 2 == 0 || e != SG_ENERGY_SPARSE)
          n = add_hit(h, n, cap, s + (k % 2 ? T8 : 0), 0, 0.68f, HIT_CHORD);
        if (e != SG_ENERGY_SPARSE)
          n = add_hit(h, n, cap, s + 2 * T8, 0, 0.62f, HIT_CHORD);
      }
    } else {
      /* Other simple meters: the bossa figure cut to the bar, extra beats on their "and". */
      static const int a[] = {0, 3, 6, 10, 12, 14};
      for (int i = 0; i < 6; ++i)
        if (a[i] * T16 < bt && (e != SG_ENERGY_SPARSE || i % 2 == 0))
          n = add_hit(h, n, cap, a[i] * T16, 0, a[i] % 4 ? 0.64f : 0.72f, HIT_CHORD);
      for (int k = 4; k < c->n_beats; ++k)
        n = add_hit(h, n, cap, k * c->beat_ticks + c->sub_ticks, 0, 0.64f, HIT_CHORD);
    }
  } else if (c->style == SG_STYLE_HOUSE) {
    /* Off-beat stabs; full energy adds the 16th push before beats 2 and 4. */
    for (int k = 0; k < c->n_beats; ++k) {
      int off = k * c->beat_ticks + c->beat_ticks / 2;
      if (e == SG_ENERGY_SPARSE && k % 2 == 0)
        continue;
      n = add_hit(h, n, cap, off, T16 + 4, 0.7f, HIT_CHORD);
      if (e == SG_ENERGY_FULL && k % 2 == 0 && off + 2 * T16 < bt)
        n = add_hit(h, n, cap, off + 2 * T16 - T16 / 1, T16, 0.55f, HIT_CHORD);
    }
  } else { /* pop / rock strumming */
    if (e == SG_ENERGY_SPARSE) {
      for (int i = 0; i < b->nseg; ++i)
        n = add_hit(h, n, cap, b->seg[i].start, b->seg[i].end - b->seg[i].start, 0.62f, HIT_CHORD);
    } else if (c->compound) {
      for (int t = 0; t < bt; t += T8) {
        int on = t % c->beat_ticks == 0;
        n = add_hit(h, n, cap, t, 0, on ? 0.74f : 0.5f, (t / T8) % 3 == 2 ? HIT_UP : HIT_CHORD);
      }
    } else if (e == SG_ENERGY_FULL) {
      for (int t = 0; t < bt; t += T16) {
        int beat = t / c->beat_ticks;
        int on8 = t % T8 == 0;
        int backbeat = beat % 2 == 1 && t % c->beat_ticks == 0;
        int type = on8 ? HIT_CHORD : HIT_UP;
        if (!on8 && beat % 2 == 1)
          type = HIT_MUTE;
        n = add_hit(h, n, cap, t, 0, backbeat ? 0.85f : on8 ? 0.66f : 0.42f, type);
      }
    } else if (is_44(c)) {
      /* D . D U . U D U */
      static const int t8[] = {0, 2, 3, 5, 6, 7};
      static const int ty[] = {HIT_CHORD, HIT_CHORD, HIT_UP, HIT_UP, HIT_CHORD, HIT_UP};
      for (int i = 0; i < 6; ++i)
        n = add_hit(h, n, cap, t8[i] * T8, 0, ty[i] == HIT_UP ? 0.5f : 0.7f, ty[i]);
    } else {
      for (int k = 0; k < c->n_beats; ++k) {
        int s = k * c->beat_ticks;
        n = add_hit(h, n, cap, s, 0, k == 0 ? 0.74f : 0.62f, HIT_CHORD);
        if (k > 0)
          n = add_hit(h, n, cap, s + c->sub_ticks, 0, 0.48f, HIT_UP);
      }
    }
  }
  return n;
}

static int cmp_hit(const void *a, const void *b) {
  const chit *x = a, *y = b;
  if (x->tick != y->tick)
    return x->tick - y->tick;
  return x->type - y->type;
}

/* Voices a chord for keys (non-guitar comp): four voices around middle C. */
static sg_pad_voicing keys_voicing(sg__ctx *c, const sg_chord *ch, int voices) {
  sg_pad_voicing v;
  if (sg_voice_pad(ch, c->pad_prev.n ? &c->pad_prev : NULL, voices, 53, 79, &v) != SG_OK) {
    memset(&v, 0, sizeof v);
    return v;
  }
  c->pad_prev = v;
  return v;
}

static void play_guitar(sg__ctx *c, const sg__bar *b, const chit *h, const sg_chord *ch) {
  sg_guitar_voicing v;
  if (sg_voice_guitar(ch, c->gtr_prev.n ? &c->gtr_prev : NULL, &v) != SG_OK)
    return;
  c->gtr_prev = v;
  int o = 12 * c->octave;
  int group = ++c->group;
  if (h->type == HIT_THUMB) {
    /* Thumb: the bass string on the root, the fifth on later thumbs when one is in the shape. */
    int key = v.key[0];
    if (h->tick > 0) {
      for (int i = 1; i < v.n; ++i)
        if (v.string[i] <= 2 && (v.key[i] - v.key[0]) % 12 == 7) {
          key = v.key[i];
          break;
        }
    }
    sg__emit(c, b->bar, h->tick, h->len, key + o, h->vel, 0, group, 0, 0.0);
    return;
  }
  int bossa = c->style == SG_STYLE_BOSSA || c->style == SG_STYLE_SAMBA;
  int first = 0, last = v.n - 1;
  if (bossa) /* fingers pluck the upper strings together; the thumb owns the bass */
    first = v.n > 4 ? v.n - 4 : 1;
  if (h->type == HIT_UP) /* upstrokes catch the top strings only */
    first = v.n > 3 ? v.n - 3 : 0;
  unsigned flags = h->type == HIT_UP ? SG_NOTE_STRUM_UP : 0;
  if (h->type == HIT_MUTE)
    flags |= SG_NOTE_MUTED;
  if (h->vel >= 0.8f)
    flags |= SG_NOTE_ACCENT;
  double spread = bossa ? 2.0 : h->type == HIT_UP ? 7.0 : 11.0; /* ms between strings */
  int count = last - first + 1;
  for (int i = first; i <= last; ++i) {
    int idx = h->type == HIT_UP ? last - i : i - first;
    float vel = h->vel * (1.0f - 0.04f * (float)idx);
    sg__emit(c, b->bar, h->tick, h->len, v.key[i] + o, vel, flags, group, idx,
             spread * idx * (6.0 / (count + 2.0)));
  }
}

static void play_keys(sg__ctx *c, const sg__bar *b, const chit *h, const sg_chord *ch) {
  int o = 12 * c->octave;
  int group = ++c->group;
  if (h->type == HIT_THUMB) { /* left hand: root (or fifth) under the voicing */
    int root = sg_note_in_range(ch->bass, 40, 52, 45);
    if (h->tick > 0 && !ch->has_slash && ch->fifth >= 0)
      root = sg_note_in_range((ch->root + ch->fifth) % 12, 40, 55, root);
    sg__emit(c, b->bar, h->tick, h->len, root + o, h->vel, 0, group, 0, 0.0);
    return;
  }
  sg_pad_voicing v = keys_voicing(c, ch, 4);
  for (int i = 0; i < v.n; ++i)
    sg__emit(c, b->bar, h->tick, h->len, v.key[i] + o, h->vel * (h->type == HIT_MUTE ? 0.6f : 1.0f),
             h->type == HIT_MUTE ? SG_NOTE_GHOST : 0, group, i, 0.0);
}

void sg__role_comp(sg__ctx *c, const sg__bar *b) {
  chit h[96];
  int n = 0;
  if (c->has_user) {
    sg__hit u[96];
    int nu = sg__user_hits(c, &c->user, b, u, 96);
    for (int i = 0; i < nu; ++i)
      n = add_hit(h, n, 96, u[i].tick, u[i].len, u[i].vel, HIT_CHORD);
  } else {
    n = comp_figure(c, b, h, 96);
  }
  int bt = c->bar_ticks;
  int pickup = b->section_change && b->next_plays && b->next && c->energy != SG_ENERGY_SPARSE &&
               !c->has_user;
  if (pickup) { /* a pickup into the next section: drop the last 8th and play two 16ths */
    int w = 0;
    for (int i = 0; i < n; ++i)
      if (h[i].tick < bt - T8)
        h[w++] = h[i];
    n = w;
    n = add_hit(h, n, 96, bt - T8, T16, 0.6f, HIT_CHORD);
    n = add_hit(h, n, 96, bt - T16, T16, 0.78f, HIT_UP);
  }
  qsort(h, (size_t)n, sizeof h[0], cmp_hit);
  /* Lengths: a hit rings until the next chord hit (capped), thumbs keep theirs. */
  for (int i = 0; i < n; ++i) {
    if (h[i].len > 0 && (h[i].type == HIT_THUMB || c->has_user))
      continue;
    int nxt = bt;
    for (int j = i + 1; j < n; ++j)
      if (h[j].type != HIT_THUMB && h[j].tick > h[i].tick) {
        nxt = h[j].tick;
        break;
      }
    int cap = c->style == SG_STYLE_HOUSE ? T16 + 4 : 2 * c->beat_ticks;
    int len = h[i].len > 0 ? h[i].len : nxt - h[i].tick - 2;
    h[i].len = clampi(len, 6, cap);
  }
  int latin = c->style == SG_STYLE_BOSSA || c->style == SG_STYLE_SAMBA;
  for (int i = 0; i < n; ++i) {
    const sg_chord *ch = sg__chord_at(b, h[i].tick);
    /* Anticipation: a hit on the last 8th belongs to the next bar's chord (bossa, pickups). */
    if (h[i].tick >= bt - T8 && b->next && b->next_plays && (latin || pickup) &&
        !same_chord(ch, b->next) && h[i].type != HIT_THUMB)
      ch = b->next;
    if (c->is_guitar)
      play_guitar(c, b, &h[i], ch);
    else
      play_keys(c, b, &h[i], ch);
  }
}

/* ---- pad ----------------------------------------------------------------------------------- */

static int pad_voices(const sg__ctx *c) {
  return c->energy == SG_ENERGY_SPARSE ? 3 : c->energy == SG_ENERGY_FULL ? 5 : 4;
}

void sg__role_pad(sg__ctx *c, const sg__bar *b) {
  int o = 12 * c->octave;
  if (c->has_user) {
    sg__hit u[96];
    int nu = sg__user_hits(c, &c->user, b, u, 96);
    for (int i = 0; i < nu; ++i) {
      const sg_chord *ch = sg__chord_at(b, u[i].tick);
      sg_pad_voicing v;
      if (sg_voice_pad(ch, c->pad_prev.n ? &c->pad_prev : NULL, pad_voices(c), 48, 79, &v) != SG_OK)
        continue;
      c->pad_prev = v;
      int g = ++c->group;
      for (int k = 0; k < v.n; ++k)
        sg__emit(c, b->bar, u[i].tick, u[i].len, v.key[k] + o, 0.55f * u[i].vel / 0.78f, 0, g, k,
                 0.0);
    }
    return;
  }
  for (int i = 0; i < b->nseg; ++i) {
    const sg__seg *s = &b->seg[i];
    sg_pad_voicing v;
    if (sg_voice_pad(s->chord, c->pad_prev.n ? &c->pad_prev : NULL, pad_voices(c), 48, 79, &v) !=
        SG_OK)
      continue;
    c->pad_prev = v;
    /* Hold through following bars with the same chord (no re-attack), except that full energy
     * re-strikes every second bar for motion. */
    int len = s->end - s->start;
    if (i == b->nseg - 1) {
      /* Look ahead: tie into the next bar while the chord stays (up to 4 bars). */
      const sg_progression *p = &c->progs[b->si];
      for (int k = 1; k <= 3; ++k) {
        int nb = b->bar_in_sec + k;
        if (nb >= b->sec_bars || c->energy == SG_ENERGY_FULL)
          break;
        int pb = nb % (p->bars > 0 ? p->bars : 1);
        int nch = 0, same = 1;
        for (int j = 0; j < p->n; ++j)
          if (p->v[j].bar == pb) {
            ++nch;
            if (!same_chord(&p->v[j].chord, s->chord))
              same = 0;
          }
        if (!nch || !same)
          break;
        len += c->bar_ticks;
      }
    }
    /* Skip bars already covered by a tie from an earlier bar. */
    if (i == 0 && s->start == 0 && b->bar_in_sec > 0 && c->energy != SG_ENERGY_FULL) {
      const sg_progression *p = &c->progs[b->si];
      int pb = (b->bar_in_sec - 1) % (p->bars > 0 ? p->bars : 1);
      const sg_chord *last = NULL;
      int nch = 0;
      for (int j = 0; j < p->n; ++j)
        if (p->v[j].bar == pb) {
          last = &p->v[j].chord;
          ++nch;
        }
      /* The previous bar tied over only when it was a single same chord; count the tie span. */
      if (nch == 1 && same_chord(last, s->chord) && b->nseg == 1) {
        int run = 1; /* bars of this chord before the current one, within the section */
        for (int k = 2; k <= 4 && b->bar_in_sec - k >= 0; ++k) {
          int qb = (b->bar_in_sec - k) % (p->bars > 0 ? p->bars : 1);
          int cnt = 0, same = 1;
          for (int j = 0; j < p->n; ++j)
            if (p->v[j].bar == qb) {
              ++cnt;
              if (!same_chord(&p->v[j].chord, s->chord))
                same = 0;
            }
          if (cnt != 1 || !same)
            break;
          ++run;
        }
        if (run % 4 != 0)
          continue; /* covered by the tie started up to three bars ago */
      }
    }
    int g = ++c->group;
    float vel = c->energy == SG_ENERGY_SPARSE ? 0.5f : c->energy == SG_ENERGY_FULL ? 0.68f : 0.58f;
    for (int k = 0; k < v.n; ++k)
      sg__emit(c, b->bar, s->start, len - 2, v.key[k] + o, vel, 0, g, k, 0.0);
  }
}

/* ---- arp ----------------------------------------------------------------------------------- */

void sg__role_arp(sg__ctx *c, const sg__bar *b) {
  int o = 12 * c->octave;
  int step = c->compound ? T8 : T16;
  if (c->energy == SG_ENERGY_SPARSE ||
      (c->style == SG_STYLE_BOSSA && c->energy == SG_ENERGY_NORMAL))
    step *= 2;
  if (c->compound && c->energy == SG_ENERGY_FULL)
    step = T16;
  double gate = c->style == SG_STYLE_HOUSE ? 0.5 : 0.9;
  sg__hit u[96];
  int nu = c->has_user ? sg__user_hits(c, &c->user, b, u, 96) : 0;
  int ticks[192], lens[192];
  float vels[192];
  int n = 0;
  if (c->has_user) {
    for (int i = 0; i < nu; ++i) {
      ticks[n] = u[i].tick;
      lens[n] = u[i].len;
      vels[n] = u[i].vel;
      ++n;
    }
  } else {
    for (int t = 0; t < c->bar_ticks && n < 192; t += step) {
      ticks[n] = t;
      lens[n] = (int)(step * gate);
      vels[n] = t % c->beat_ticks == 0 ? 0.7f : 0.55f;
      ++n;
    }
  }
  const sg_chord *cur = NULL;
  int seq[12], ns = 0, phase = 0;
  for (int i = 0; i < n; ++i) {
    const sg_chord *ch = sg__chord_at(b, ticks[i]);
    if (ch != cur) {
      sg_pad_voicing v;
      if (sg_voice_pad(ch, c->pad_prev.n ? &c->pad_prev : NULL, 4, 55, 79, &v) != SG_OK)
        return;
      c->pad_prev = v;
      ns = 0;
      for (int k = 0; k < v.n; ++k)
        seq[ns++] = v.key[k];
      seq[ns++] = v.key[0] + 12;
      if (c->style == SG_STYLE_BOSSA || c->style == SG_STYLE_SAMBA) /* up and down */
        for (int k = v.n - 1; k >= 1; --k)
          seq[ns++] = v.key[k];
      cur = ch;
      phase = 0;
    }
    int key = seq[phase % ns];
    ++phase;
    sg__emit(c, b->bar, ticks[i], lens[i] > 1 ? lens[i] : 1, key + o, vels[i], 0, 0, 0, 0.0);
  }
}

/* ---- lead ---------------------------------------------------------------------------------- */

static const int lead_cells_pop[][6] = {{0, 4, 6, 8, 12, -1},
                                        {0, 6, 10, -1},
                                        {2, 4, 8, 14, -1},
                                        {0, 3, 6, 8, -1},
                                        {4, 6, 8, 10, 12, -1}};
static const int lead_cells_bossa[][6] = {
    {0, 3, 6, 10, -1}, {2, 6, 8, 11, 14, -1}, {0, 6, 8, -1}, {3, 6, 10, 12, -1}};
static const int lead_cells_house[][6] = {
    {2, 6, 10, 14, -1}, {0, 3, 6, 10, 12, -1}, {0, 2, 6, 8, 14, -1}, {3, 6, 11, -1}};

static void choose_motif(sg__ctx *c) {
  const int(*cells)[6];
  int ncells;
  if (c->style == SG_STYLE_BOSSA || c->style == SG_STYLE_SAMBA) {
    cells = lead_cells_bossa;
    ncells = 4;
  } else if (c->style == SG_STYLE_HOUSE) {
    cells = lead_cells_house;
    ncells = 4;
  } else {
    cells = lead_cells_pop;
    ncells = 5;
  }
  for (int h = 0; h < 2; ++h) {
    int pick = (int)(sg_rng_u32(&c->rng) % (uint32_t)ncells);
    c->motif_n[h] = 0;
    for (int k = 0; k < 6 && cells[pick][k] >= 0; ++k)
      c->motif[h][c->motif_n[h]++] = cells[pick][k];
  }
}

/* Next scale note from key k above (dir > 0) or below. */
static int scale_step(const sg_key *k, int note, int dir) {
  for (int d = 1; d <= 3; ++d) {
    int cand = note + dir * d;
    if (sg_key_contains(k, ((cand % 12) + 12) % 12))
      return cand;
  }
  return note + dir * 2;
}

static int nearest_chord_tone(const sg_chord *ch, int near, int lo, int hi, int avoid) {
  int best = -1;
  for (int k = lo; k <= hi; ++k) {
    if (!((ch->pcs >> (k % 12)) & 1) || k == avoid)
      continue;
    if (best < 0 || abs(k - near) < abs(best - near))
      best = k;
  }
  return best < 0 ? near : best;
}

void sg__role_lead(sg__ctx *c, const sg__bar *b) {
  int o = 12 * c->octave;
  int lo = 67, hi = 88;
  if (c->motif_section != b->si) {
    choose_motif(c);
    c->motif_section = b->si;
  }
  int ticks[64], lens[64], n = 0;
  float vels[64];
  if (c->has_user) {
    sg__hit u[64];
    int nu = sg__user_hits(c, &c->user, b, u, 64);
    for (int i = 0; i < nu; ++i) {
      ticks[n] = u[i].tick;
      lens[n] = u[i].len;
      vels[n] = u[i].vel;
      ++n;
    }
  } else {
    int half = b->bar_in_sec % 2;
    int steps = c->bar_ticks / T16;
    for (int k = 0; k < c->motif_n[half]; ++k) {
      int st = c->motif[half][k];
      if (c->compound) /* place the cell on the 8th grid of compound bars */
        st = (st / 2) * 2;
      if (st >= steps)
        continue;
      if (c->energy == SG_ENERGY_SPARSE && k % 2 == 1)
        continue;
      ticks[n] = st * T16;
      vels[n] = st % 4 == 0 ? 0.72f : 0.62f;
      lens[n] = 0;
      ++n;
    }
    /* Lengths: to the next note; the phrase end (every second bar) rings to the bar end. */
    for (int i = 0; i < n; ++i) {
      int nxt = i + 1 < n ? ticks[i + 1] : c->bar_ticks;
      lens[i] = nxt - ticks[i] - 3;
      if (i + 1 < n && lens[i] > 2 * c->beat_ticks)
        lens[i] = 2 * c->beat_ticks;
      if (lens[i] < 6)
        lens[i] = 6;
    }
  }
  if (c->lead_prev < 0)
    c->lead_prev = 76;
  for (int i = 0; i < n; ++i) {
    const sg_chord *ch = sg__chord_at(b, ticks[i]);
    int strong = ticks[i] % c->beat_ticks == 0 || i == n - 1;
    int note;
    if (strong) {
      int avoid = (sg_rng_u32(&c->rng) % 3 == 0) ? -1 : c->lead_prev; /* some repeated notes */
      note =
          nearest_chord_tone(ch, c->lead_prev + (int)(sg_rng_u32(&c->rng) % 5) - 2, lo, hi, avoid);
    } else {
      int dir = (sg_rng_u32(&c->rng) & 1) ? 1 : -1;
      if (c->lead_prev > hi - 4)
        dir = -1;
      if (c->lead_prev < lo + 4)
        dir = 1;
      note = scale_step(c->key, c->lead_prev, dir);
      if (sg_rng_u32(&c->rng) % 4 == 0)
        note = scale_step(c->key, note, dir);
    }
    note = clampi(note, lo, hi);
    c->lead_prev = note;
    sg__emit(c, b->bar, ticks[i], lens[i], note + o, vels[i], 0, 0, 0, 0.0);
  }
}

/* ---- bass ---------------------------------------------------------------------------------- */

static int bass_note(sg__ctx *c, int pc) {
  int near = c->bass_prev >= 0 ? c->bass_prev : 40;
  /* Keep the line between B0 and D3 and drift back toward E2 when it wanders. */
  near = (near * 3 + 40) / 4;
  return sg_note_in_range(pc, 31, 50, near);
}

static int fifth_of(const sg_chord *ch) {
  int f = ch->fifth >= 0 ? ch->fifth : 7;
  return (ch->root + f) % 12;
}

void sg__role_bass(sg__ctx *c, const sg__bar *b) {
  int o = 12 * c->octave;
  int bt = c->bar_ticks;
  int latin = c->style == SG_STYLE_BOSSA || c->style == SG_STYLE_SAMBA;
  int into_next = b->next && b->next_plays;
  if (c->has_user) {
    sg__hit u[96];
    int nu = sg__user_hits(c, &c->user, b, u, 96);
    for (int i = 0; i < nu; ++i) {
      const sg_chord *ch = sg__chord_at(b, u[i].tick);
      int k = bass_note(c, ch->bass); /* the pattern is the rhythm; the chord gives the note */
      c->bass_prev = k;
      sg__emit(c, b->bar, u[i].tick, u[i].len, k + o, u[i].vel, u[i].flags, 0, 0, 0.0);
    }
    return;
  }
  int skip_downbeat = c->anticipated;
  c->anticipated = 0;
  if (c->style == SG_STYLE_HOUSE) {
    for (int k = 0; k < c->n_beats; ++k) {
      if (c->energy == SG_ENERGY_SPARSE && k % 2 == 0)
        continue;
      int t = k * c->beat_ticks + c->beat_ticks / 2;
      const sg_chord *ch = sg__chord_at(b, t);
      int key = bass_note(c, ch->bass);
      c->bass_prev = key;
      sg__emit(c, b->bar, t, c->beat_ticks / 2 - 4, key + o, 0.8f, 0, 0, 0, 0.0);
      if (c->energy == SG_ENERGY_FULL && t + T16 < bt)
        sg__emit(c, b->bar, t + T16, T16 - 2, key + 12 + o, 0.55f, SG_NOTE_GHOST, 0, 0, 0.0);
    }
    if (b->section_change && into_next && c->energy != SG_ENERGY_SPARSE) {
      int target = bass_note(c, b->next->bass);
      sg__emit(c, b->bar, bt - T16, T16 - 2,
               sg_bass_approach(target, SG_APPROACH_CHROMATIC_BELOW, c->key) + o, 0.7f,
               SG_NOTE_SLIDE, 0, 0, 0.0);
    }
    return;
  }
  for (int i = 0; i < b->nseg; ++i) {
    const sg__seg *s = &b->seg[i];
    const sg_chord *ch = s->chord;
    int len = s->end - s->start;
    /* Units: whole bar halves in even meters (beats 1 and 3 of 4/4, the two dotted beats of
     * 6/8), else the whole segment. */
    int units = (len == bt && c->n_beats % 2 == 0 && (len / 2) % T8 == 0) ? 2 : 1;
    int ulen = len / units;
    for (int u = 0; u < units; ++u) {
      int us = s->start + u * ulen;
      int ue = us + ulen;
      int last_unit = u == units - 1;
      const sg_chord *target = NULL;
      if (last_unit && s->end < bt)
        target = b->seg[i + 1].chord;
      else if (last_unit && s->end == bt && into_next)
        target = b->next;
      /* Strong note: root, or fifth on the second unit of a latin bar. */
      int pc = (u == 1 && latin) ? fifth_of(ch) : ch->bass;
      int key = bass_note(c, pc);
      int pickup_at = ue - T8;
      if (c->style == SG_STYLE_POP && c->energy != SG_ENERGY_SPARSE && !c->compound) {
        /* Straight 8ths on the root, octave pops on the "and" of 2 and 4 at full energy. */
        for (int t = us; t < ue; t += T8) {
          if (t == 0 && skip_downbeat)
            continue;
          int k = key;
          if (c->energy == SG_ENERGY_FULL && (t % c->beat_ticks) && ((t / c->beat_ticks) % 2 == 1))
            k = key + 12;
          if (t == pickup_at && target && !same_chord(target, ch))
            break; /* the approach note below takes the last 8th */
          sg__emit(c, b->bar, t, T8 - 3, k + o, t % c->beat_ticks ? 0.62f : 0.78f, 0, 0, 0, 0.0);
        }
        c->bass_prev = key;
      } else {
        if (!(us == 0 && skip_downbeat)) {
          int changes = target && !same_chord(target, ch);
          int slen = (latin || changes) ? ulen - T8 : ulen;
          if (!latin && c->energy == SG_ENERGY_SPARSE)
            slen = ulen;
          sg__emit(c, b->bar, us, slen - 2, key + o, 0.8f, 0, 0, 0, 0.0);
        }
        c->bass_prev = key;
      }
      if (!latin && c->energy == SG_ENERGY_SPARSE)
        continue; /* sparse pop: whole notes */
      if (c->style == SG_STYLE_POP && !c->compound && !(target && !same_chord(target, ch)))
        continue; /* 8ths already cover the unit */
      /* The last 8th of the unit: anticipation, approach, or the bossa pickup. */
      if (target && !same_chord(target, ch) && last_unit && s->end == bt && latin &&
          b->next_plays) {
        /* Anticipate the next bar's root on the "and of 4" and tie over the bar line. */
        int nk = bass_note(c, target->bass);
        int tie = c->beat_ticks + c->sub_ticks; /* held into the next bar */
        sg__emit(c, b->bar, pickup_at, T8 + tie - 4, nk + o, 0.82f, SG_NOTE_ACCENT, 0, 0, 0.0);
        c->bass_prev = nk;
        c->anticipated = 1;
      } else if (target && !same_chord(target, ch)) {
        int nk = bass_note(c, target->bass);
        sg_approach kind = c->energy == SG_ENERGY_FULL ? SG_APPROACH_CHROMATIC_BELOW
                                                       : (nk > key ? SG_APPROACH_DIATONIC_BELOW
                                                                   : SG_APPROACH_DIATONIC_ABOVE);
        int ak = sg_bass_approach(nk, kind, c->key);
        sg__emit(c, b->bar, pickup_at, T8 - 3, ak + o, 0.66f, 0, 0, 0, 0.0);
      } else if (latin) {
        /* Same chord continues: the bossa pickup repeats the coming strong note. */
        int npc = (u == 0 && units == 2) ? fifth_of(ch) : ch->bass;
        sg__emit(c, b->bar, pickup_at, T8 - 3, bass_note(c, npc) + o, 0.6f, 0, 0, 0, 0.0);
      }
    }
  }
  /* Section pickup for non-latin styles: two 16ths walking into the next section's root. */
  if (b->section_change && into_next && !latin && c->energy != SG_ENERGY_SPARSE) {
    int nk = bass_note(c, b->next->bass);
    /* Replace whatever sits in the last 8th of this bar. */
    int64_t from = sg__tick_frame(c, b->bar * bt + bt - T8);
    while (c->out->n > 0 && c->out->v[c->out->n - 1].start >= from)
      c->out->n--;
    sg__emit(c, b->bar, bt - T8, T16 - 2, nk - 2 + o, 0.62f, 0, 0, 0, 0.0);
    sg__emit(c, b->bar, bt - T16, T16 - 2, nk - 1 + o, 0.7f, 0, 0, 0, 0.0);
  }
}
