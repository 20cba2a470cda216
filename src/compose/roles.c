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

/* Comping of ballad, funk, swing, drum-and-bass and reggae, from the bar's strong and back beats
 * (sg__strong_back) and pulses, so every meter gets it. */
static int groove_comp(const sg__ctx *c, chit *h, int cap) {
  int n = 0, bt = c->bar_ticks;
  sg_energy e = c->energy;
  int strong[SG__MAX_PULSE], back[SG__MAX_PULSE], ns = 0;
  int nb = sg__strong_back(c, strong, &ns, back);
  switch (c->style) {
  case SG_STYLE_BALLAD: /* chords on the groups, an upstroke (or 8ths at full) before the next */
    for (int u = 0; u < c->n_units; ++u) {
      int s = c->unit_start[u], len = c->unit_len[u];
      n = add_hit(h, n, cap, s, 0, u == 0 ? 0.66f : 0.58f, HIT_CHORD);
      for (int t = s + T8; t < s + len && e != SG_ENERGY_SPARSE; t += T8)
        if (e == SG_ENERGY_FULL || t == s + len - T8)
          n = add_hit(h, n, cap, t, 0, 0.42f, HIT_UP);
    }
    break;
  case SG_STYLE_FUNK: /* chops on the backbeats, muted 16th scratches around them */
    for (int i = 0; i < nb; ++i) {
      n = add_hit(h, n, cap, back[i], T16 - 2, 0.8f, HIT_CHORD);
      if (e != SG_ENERGY_SPARSE && back[i] + T8 < bt)
        n = add_hit(h, n, cap, back[i] + T8, T16 - 2, 0.55f, HIT_UP);
    }
    for (int i = 0; i < ns && e != SG_ENERGY_SPARSE; ++i)
      n = add_hit(h, n, cap, strong[i] + T16, T16 - 2, 0.6f, HIT_CHORD);
    if (e == SG_ENERGY_FULL)
      for (int t = T16; t < bt; t += 2 * T16)
        n = add_hit(h, n, cap, t, T16 - 4, 0.35f, HIT_MUTE);
    break;
  case SG_STYLE_SWING: /* Charleston: 1 and the swung 'and' of 2; full: every beat short */
    if (e == SG_ENERGY_FULL) {
      for (int k = 0; k < c->n_pulses; ++k)
        n = add_hit(h, n, cap, c->pulse_start[k], c->pulse_len[k] / 2, k % 2 ? 0.62f : 0.55f,
                    HIT_CHORD);
    } else {
      n = add_hit(h, n, cap, 0, e == SG_ENERGY_SPARSE ? bt - 4 : c->pulse_len[0] - 6, 0.62f,
                  HIT_CHORD);
      if (e != SG_ENERGY_SPARSE && c->n_pulses >= 2)
        n = add_hit(h, n, cap, c->pulse_start[1] + c->pulse_len[1] - T8, T8, 0.58f, HIT_CHORD);
    }
    break;
  case SG_STYLE_DNB: /* a held chord on 1, an off-beat stab before the bar line */
    n = add_hit(h, n, cap, 0, c->unit_len[0] - 6, 0.6f, HIT_CHORD);
    if (e != SG_ENERGY_SPARSE)
      n = add_hit(h, n, cap, bt - T8, T16 + 4, 0.58f, HIT_CHORD);
    for (int i = 0; i < nb && e == SG_ENERGY_FULL; ++i)
      if (back[i] + T8 < bt - T8)
        n = add_hit(h, n, cap, back[i] + T8, T16 + 4, 0.52f, HIT_CHORD);
    break;
  case SG_STYLE_REGGAE: /* the skank on the backbeats; full adds the organ bubble's off-8ths */
  default:
    for (int i = 0; i < nb; ++i)
      n = add_hit(h, n, cap, back[i], T16 + 2, 0.7f, HIT_CHORD);
    if (nb == 0)
      n = add_hit(h, n, cap, c->pulse_len[0] / 2, T16 + 2, 0.7f, HIT_CHORD);
    if (e == SG_ENERGY_FULL)
      for (int t = T8; t < bt; t += 2 * T8)
        n = add_hit(h, n, cap, t, T16, 0.4f, HIT_MUTE);
    break;
  }
  return n;
}

/* The style's comping figure for this bar (ticks), before pickups. */
static int comp_figure(const sg__ctx *c, const sg__bar *b, chit *h, int cap) {
  int n = 0;
  int bt = c->bar_ticks;
  sg_energy e = c->energy;
  if (sg__groove_style(c->style))
    return groove_comp(c, h, cap);
  if (c->odd) {
    /* Odd meters: the figure follows the pulses (the groups of 2+2+3, the quarters of 5/4):
     * latin thumb on the group starts and fingers on each later pulse's second 8th; house stabs
     * on each pulse's "and"; pop strums down on the pulses and up on their last 8th. */
    int latin = c->style == SG_STYLE_BOSSA || c->style == SG_STYLE_SAMBA;
    for (int u = 0; u < c->n_units && latin; ++u)
      n = add_hit(h, n, cap, c->unit_start[u], c->unit_len[u] - 4, u == 0 ? 0.6f : 0.5f, HIT_THUMB);
    for (int k = 0; k < c->n_pulses; ++k) {
      int s = c->pulse_start[k], len = c->pulse_len[k];
      int at_unit = 0;
      for (int u = 0; u < c->n_units; ++u)
        at_unit |= c->unit_start[u] == s;
      if (latin) {
        if (k == 0)
          n = add_hit(h, n, cap, 0, 0, 0.72f, HIT_CHORD);
        else if (e != SG_ENERGY_SPARSE || k % 2 == 1)
          n = add_hit(h, n, cap, s + (len > T8 ? T8 : 0), 0, 0.64f, HIT_CHORD);
      } else if (c->style == SG_STYLE_HOUSE) {
        if (e != SG_ENERGY_SPARSE || k % 2 == 1)
          n = add_hit(h, n, cap, s + (len > T8 ? T8 : len / 2), T16 + 4, 0.7f, HIT_CHORD);
      } else if (e == SG_ENERGY_SPARSE) {
        if (at_unit)
          n = add_hit(h, n, cap, s, 0, 0.62f, HIT_CHORD);
      } else {
        n = add_hit(h, n, cap, s, 0, at_unit ? 0.74f : 0.64f, HIT_CHORD);
        for (int t = s + T8; t < s + len; t += T8)
          if (e == SG_ENERGY_FULL || t == s + len - T8)
            n = add_hit(h, n, cap, t, 0, 0.48f, HIT_UP);
      }
    }
    return n;
  }
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
  if (h->type == HIT_THUMB && c->bass_mute_low)
    return; /* a bass stem owns the root: the left hand would only muddy it */
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

/* Register rules (documented in docs/spec.md, stems): over a bass stem, keys comping voices sit
 * in F3-G5 (53-79) with no left hand, pads in E3-G5 (52-79); arps in G3-G5. Without a bass the
 * pad may reach C3 (48) and the keys' left hand plays the root from E2. A guitar keeps its
 * shapes (its lowest string is part of the instrument's sound). */
#define SG__REGISTER_LOW 52 /* E3 */
static int pad_lo(const sg__ctx *c) { return c->bass_mute_low ? SG__REGISTER_LOW : 48; }

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
      if (sg_voice_pad(ch, c->pad_prev.n ? &c->pad_prev : NULL, pad_voices(c), pad_lo(c), 79, &v) !=
          SG_OK)
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
    if (sg_voice_pad(s->chord, c->pad_prev.n ? &c->pad_prev : NULL, pad_voices(c), pad_lo(c), 79,
                     &v) != SG_OK)
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

/* ---- bass ---------------------------------------------------------------------------------- */

/* A bass line is built per unit of the bar (sg__groupings: the halves of 4/4, the dotted beats
 * of 6/8, the 2+2+3 of 7/8), the way a player thinks of it: the strong note at the unit's start
 * (the chord's bass note on the first unit and on every chord change, the fifth or the root
 * later), inner notes from a rhythm cell (the section's riff) filled with chord tones (root,
 * octave, fifth, third), an approach note (chromatic, diatonic or the target's fifth) on the last
 * note before a chord change, an anticipation of the next root once per four-bar phrase in the
 * latin styles (tied over the bar line), and a fill into every phrase end (a scale walk or an
 * arpeggio with a chromatic approach, alternating by phrase). The riff is drawn once per section
 * and varies in every second phrase, so a section's consecutive 4-bar phrases differ while the
 * line still repeats like a player's. */

typedef struct bcell {
  int n;
  int s16[6]; /* onsets in 16ths from the unit's start */
} bcell;

/* Cells per unit length in 8ths (2, 3, 4, 6); index 0 is the plainest. */
static const bcell pop2[] = {{1, {0}}, {2, {0, 2}}, {2, {0, 3}}};
static const bcell pop3[] = {{2, {0, 4}}, {3, {0, 3, 4}}, {3, {0, 2, 4}}};
static const bcell pop4[] = {{3, {0, 4, 6}}, {4, {0, 3, 4, 6}}, {4, {0, 2, 4, 6}}, {3, {0, 3, 6}}};
static const bcell pop6[] = {{3, {0, 4, 8}}, {4, {0, 4, 8, 10}}, {3, {0, 6, 8}}, {4, {0, 3, 6, 8}}};
static const bcell lat2[] = {{1, {0}}, {2, {0, 3}}};
static const bcell lat3[] = {{2, {0, 4}}, {2, {0, 3}}};
static const bcell lat4[] = {{2, {0, 6}}, {3, {0, 3, 6}}};
static const bcell lat6[] = {{2, {0, 6}}, {3, {0, 6, 10}}};
/* Funk: 16th syncopation (the 'a' of the first beat, octave pops); drum-and-bass: long sub notes
 * with a displaced restrike; reggae: the root, then an answer off the beat; ballad: the root held,
 * a fifth or passing note before the next group. */
static const bcell fnk2[] = {{2, {0, 3}}, {2, {0, 2}}};
static const bcell fnk3[] = {{3, {0, 3, 4}}, {2, {0, 3}}};
static const bcell fnk4[] = {{4, {0, 3, 6, 7}}, {3, {0, 3, 6}}, {4, {0, 2, 3, 6}}};
static const bcell fnk6[] = {{4, {0, 3, 6, 10}}, {5, {0, 3, 6, 9, 10}}};
static const bcell dnb2[] = {{1, {0}}};
static const bcell dnb3[] = {{1, {0}}, {2, {0, 4}}};
static const bcell dnb4[] = {{2, {0, 6}}, {1, {0}}};
static const bcell dnb6[] = {{2, {0, 6}}, {2, {0, 10}}};
static const bcell reg2[] = {{2, {0, 3}}, {1, {0}}};
static const bcell reg3[] = {{2, {0, 4}}, {3, {0, 3, 4}}};
static const bcell reg4[] = {{3, {0, 3, 6}}, {2, {0, 6}}, {3, {0, 2, 6}}};
static const bcell reg6[] = {{3, {0, 4, 8}}, {2, {0, 8}}};
static const bcell bal2[] = {{1, {0}}};
static const bcell bal3[] = {{1, {0}}, {2, {0, 4}}};
static const bcell bal4[] = {{1, {0}}, {2, {0, 6}}};
static const bcell bal6[] = {{2, {0, 8}}, {1, {0}}, {3, {0, 6, 10}}};

static int bass_note(sg__ctx *c, int pc) {
  int near = c->bass_prev >= 0 ? c->bass_prev : 40;
  /* Keep the line between G1 and D3 and drift back toward E2 when it wanders. */
  near = (near * 3 + 40) / 4;
  return sg_note_in_range(pc, 31, 50, near);
}

static int fifth_of(const sg_chord *ch) {
  int f = ch->fifth >= 0 ? ch->fifth : 7;
  return (ch->root + f) % 12;
}

static int third_of(const sg_chord *ch) {
  int t = ch->third >= 0 ? ch->third : 7;
  return (ch->root + t) % 12;
}

static int octave_of(int key) { return key + 12 <= 55 ? key + 12 : key - 12; }

/* The cell table of a unit len ticks long for the stem's style and energy; NULL for whole-unit
 * notes (sparse) or straight 8ths (pop at full energy). */
static const bcell *bass_cells(const sg__ctx *c, int len, int *count) {
  int latin = c->style == SG_STYLE_BOSSA || c->style == SG_STYLE_SAMBA;
  int e8 = len / T8;
  *count = 0;
  if (len % T8)
    return NULL;
#define PICK(tab)                                                                                  \
  do {                                                                                             \
    *count = (int)(sizeof tab / sizeof tab[0]);                                                    \
    return tab;                                                                                    \
  } while (0)
#define PICK4(a, b, cc, dd)                                                                        \
  do {                                                                                             \
    if (e8 == 2)                                                                                   \
      PICK(a);                                                                                     \
    if (e8 == 3)                                                                                   \
      PICK(b);                                                                                     \
    if (e8 == 4)                                                                                   \
      PICK(cc);                                                                                    \
    if (e8 == 6)                                                                                   \
      PICK(dd);                                                                                    \
    return NULL;                                                                                   \
  } while (0)
  if (c->style == SG_STYLE_FUNK)
    PICK4(fnk2, fnk3, fnk4, fnk6);
  if (c->style == SG_STYLE_DNB)
    PICK4(dnb2, dnb3, dnb4, dnb6);
  if (c->style == SG_STYLE_REGGAE)
    PICK4(reg2, reg3, reg4, reg6);
  if (c->style == SG_STYLE_BALLAD)
    PICK4(bal2, bal3, bal4, bal6);
#undef PICK4
  if (latin) {
    if (e8 == 2)
      PICK(lat2);
    if (e8 == 3)
      PICK(lat3);
    if (e8 == 4)
      PICK(lat4);
    if (e8 == 6)
      PICK(lat6);
  } else {
    if (e8 == 2)
      PICK(pop2);
    if (e8 == 3)
      PICK(pop3);
    if (e8 == 4)
      PICK(pop4);
    if (e8 == 6)
      PICK(pop6);
  }
#undef PICK
  return NULL;
}

/* Onsets of unit u in this bar: ticks relative to the bar. */
static int bass_unit_onsets(sg__ctx *c, int u, int variant, int bar_in_phrase, int *ticks,
                            int cap) {
  int us = c->unit_start[u], ul = c->unit_len[u];
  int n = 0;
  int latin = c->style == SG_STYLE_BOSSA || c->style == SG_STYLE_SAMBA;
  if (c->energy == SG_ENERGY_SPARSE && !latin) {
    ticks[n++] = us;
    return n;
  }
  if (c->energy == SG_ENERGY_FULL && c->style == SG_STYLE_POP) {
    for (int t = 0; t < ul && n < cap; t += T8)
      ticks[n++] = us + t;
    return n;
  }
  int nc = 0;
  const bcell *cells = bass_cells(c, ul, &nc);
  if (!cells || nc == 0) {
    for (int t = 0; t < ul && n < cap; t += c->beat_ticks) /* any other length: on its beats */
      ticks[n++] = us + t;
    return n;
  }
  int ci = c->bass_cell[u] % nc;
  if (c->style == SG_STYLE_SAMBA)
    ci = nc - 1; /* the surdo's busier figure */
  if (c->energy == SG_ENERGY_SPARSE)
    ci = 0;
  else if (variant && bar_in_phrase == 1 && u == c->n_units - 1)
    ci = (ci + 1) % nc; /* the second phrase answers the first */
  for (int k = 0; k < cells[ci].n && n < cap; ++k)
    ticks[n++] = us + cells[ci].s16[k] * T16;
  return n;
}

/* Fill into the next phrase over the last unit after its first note: a diatonic walk into the
 * target (variant 0) or fifth-octave and a chromatic approach (variant 1). */
static void bass_fill(sg__ctx *c, const sg__bar *b, int from, int cur, int target, int variant) {
  int o = 12 * c->octave;
  int bt = c->bar_ticks;
  int step = c->energy == SG_ENERGY_FULL && bt - from >= 4 * T16 && variant ? T16 : T8;
  int m = (bt - from) / step;
  if (m <= 0)
    return;
  if (m > 8)
    m = 8;
  int notes[8];
  if (variant == 0) {
    /* Walk: the last note a scale step from the target on the side the line comes from, each
     * earlier one a further step away. */
    int below = target > cur || target - 4 < 31;
    notes[m - 1] = sg_bass_approach(
        target, below ? SG_APPROACH_DIATONIC_BELOW : SG_APPROACH_DIATONIC_ABOVE, c->key);
    for (int j = m - 2; j >= 0; --j)
      notes[j] = sg_bass_approach(
          notes[j + 1], below ? SG_APPROACH_DIATONIC_BELOW : SG_APPROACH_DIATONIC_ABOVE, c->key);
  } else {
    const sg_chord *ch = sg__chord_at(b, from);
    int seq[8], ns = 0;
    int root = cur;
    int fifth = sg_note_in_range(fifth_of(ch), root, root + 11, root + 7);
    seq[ns++] = root;
    seq[ns++] = fifth;
    seq[ns++] = root + 12 <= 57 ? root + 12 : fifth;
    seq[ns++] = target + (target + 1 <= 52 && (c->group & 1) ? 1 : -1);
    for (int j = 0; j < m; ++j)
      notes[j] = m - j <= ns ? seq[ns - (m - j)] : root;
  }
  for (int j = 0; j < m; ++j) {
    int k = clampi(notes[j], 28, 57);
    sg__emit(c, b->bar, from + j * step, step - 3, k + o, j == m - 1 ? 0.74f : 0.64f, 0, 0, 0, 0.0);
    c->bass_prev = k;
  }
}

static void bass_house(sg__ctx *c, const sg__bar *b, int variant) {
  int o = 12 * c->octave;
  int bt = c->bar_ticks;
  int into_next = b->next && b->next_plays;
  for (int k = 0; k < c->n_pulses; ++k) {
    if (c->energy == SG_ENERGY_SPARSE && k % 2 == 0)
      continue;
    int t = c->pulse_start[k] + (c->pulse_len[k] >= 2 * T8 ? T8 : c->pulse_len[k] / 2);
    int len = c->pulse_start[k] + c->pulse_len[k] - t;
    const sg_chord *ch = sg__chord_at(b, t);
    int key = bass_note(c, ch->bass);
    /* The second phrase moves every other off-beat up an octave. */
    if (variant && k % 2 == 1 && c->energy != SG_ENERGY_SPARSE)
      key = octave_of(key);
    c->bass_prev = key;
    sg__emit(c, b->bar, t, len - 4, key + o, 0.8f, 0, 0, 0, 0.0);
    if (c->energy == SG_ENERGY_FULL && t + T16 < c->pulse_start[k] + c->pulse_len[k])
      sg__emit(c, b->bar, t + T16, T16 - 2, octave_of(key) + o, 0.55f, SG_NOTE_GHOST, 0, 0, 0.0);
  }
  int phrase_end = (b->bar_in_sec % 4 == 3) || b->last_of_section;
  if (phrase_end && into_next && c->energy != SG_ENERGY_SPARSE) {
    int target = bass_note(c, b->next->bass);
    sg__emit(c, b->bar, bt - T16, T16 - 2,
             sg_bass_approach(target,
                              variant ? SG_APPROACH_CHROMATIC_ABOVE : SG_APPROACH_CHROMATIC_BELOW,
                              c->key) +
                 o,
             0.7f, SG_NOTE_SLIDE, 0, 0, 0.0);
  }
}

/* Walking bass (swing): a quarter on every pulse, the way a jazz bassist builds it (e.g. E.
 * Friedland, "Building Walking Bass Lines", 1995): the chord's bass note on its first beat, an
 * approach note (chromatic from either side, or the scale step) on the beat before the next
 * chord, chord tones or scale steps heading toward it in between. Sparse energy plays the "two
 * feel" (the groups' first beats, held). */
static void bass_walk(sg__ctx *c, const sg__bar *b, sg_rng *br) {
  int o = 12 * c->octave;
  int into_next = b->next && b->next_plays;
  if (c->energy == SG_ENERGY_SPARSE) {
    for (int u = 0; u < c->n_units; ++u) {
      const sg_chord *ch = sg__chord_at(b, c->unit_start[u]);
      int k = bass_note(c, u == 0 || ch->has_slash ? ch->bass : fifth_of(ch));
      sg__emit(c, b->bar, c->unit_start[u], c->unit_len[u] - 4, k + o, 0.74f, 0, 0, 0, 0.0);
      c->bass_prev = k;
    }
    return;
  }
  for (int p = 0; p < c->n_pulses; ++p) {
    int t = c->pulse_start[p], len = c->pulse_len[p];
    const sg_chord *ch = sg__chord_at(b, t);
    const sg_chord *nxt = p + 1 < c->n_pulses ? sg__chord_at(b, c->pulse_start[p + 1])
                          : into_next         ? b->next
                                              : NULL;
    int chord_start = p == 0 || ch != sg__chord_at(b, c->pulse_start[p - 1]);
    int key;
    float vel = 0.7f;
    if (chord_start) {
      key = bass_note(c, ch->bass);
      vel = p == 0 ? 0.8f : 0.74f;
    } else if (nxt && (nxt != ch || p + 1 == c->n_pulses)) {
      int target = bass_note(c, nxt->bass);
      static const sg_approach kinds[] = {SG_APPROACH_CHROMATIC_BELOW, SG_APPROACH_CHROMATIC_ABOVE,
                                          SG_APPROACH_DIATONIC_BELOW, SG_APPROACH_DIATONIC_ABOVE,
                                          SG_APPROACH_FIFTH};
      key = sg_bass_approach(target, kinds[sg_rng_u32(br) % 5u], c->key);
    } else {
      /* A chord tone above the last note while the line is low, below it while high. */
      int prev = c->bass_prev >= 0 ? c->bass_prev : bass_note(c, ch->bass);
      int up = prev < 40 || (prev < 47 && (sg_rng_u32(br) & 1));
      int pcs[3] = {third_of(ch), fifth_of(ch), ch->root};
      int best = -1;
      for (int i = 0; i < 3; ++i) {
        int k = up ? sg_note_in_range(pcs[i], prev + 1, prev + 12, prev + 3)
                   : sg_note_in_range(pcs[i], prev - 12, prev - 1, prev - 3);
        if (best < 0 || abs(k - prev) < abs(best - prev))
          best = k;
      }
      key = best;
    }
    key = clampi(key, 28, 55);
    /* Full energy: a swung skip (ghosted repeat) on the last 8th of every second pulse. */
    int skip = c->energy == SG_ENERGY_FULL && p % 2 == 1 && len >= 2 * T8;
    sg__emit(c, b->bar, t, (skip ? len - T8 : len) - 3, key + o, vel, 0, 0, 0, 0.0);
    c->bass_prev = key;
    if (skip)
      sg__emit(c, b->bar, t + len - T8, T8 - 3, key + o, 0.4f, SG_NOTE_GHOST, 0, 0, 0.0);
  }
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
  int phrase = b->bar_in_sec / 4, bar_in_phrase = b->bar_in_sec % 4;
  int variant = phrase % 2;
  if (c->bass_section != b->si) { /* a new section draws its riff */
    c->bass_section = b->si;
    for (int u = 0; u < SG__MAX_PULSE; ++u)
      c->bass_cell[u] = (int)(sg_rng_u32(&c->rng) % 4u);
  }
  /* Note choices come from a stream fixed per (section, phrase parity, bar of the phrase), so
   * phrases 1 and 3 repeat the riff and 2 and 4 answer it. */
  sg_rng br;
  sg_rng_seed(&br, c->seed + 0x9E3779B97F4A7C15ULL * (uint64_t)(b->si + 1),
              (uint64_t)(variant * 8 + bar_in_phrase));
  if (c->style == SG_STYLE_HOUSE) {
    c->anticipated = 0;
    bass_house(c, b, variant);
    return;
  }
  if (c->style == SG_STYLE_SWING) {
    c->anticipated = 0;
    bass_walk(c, b, &br);
    return;
  }
  int skip_downbeat = c->anticipated;
  c->anticipated = 0;
  int phrase_end =
      (bar_in_phrase == 3 || b->last_of_section) && into_next && c->energy != SG_ENERGY_SPARSE;
  /* Anticipate the next bar's root once per phrase (latin styles, into the phrase's last bar). */
  int anticipate = latin && bar_in_phrase == 2 && !b->last_of_section && into_next &&
                   !same_chord(sg__chord_at(b, bt - 1), b->next);
  int ticks[64], n = 0;
  for (int u = 0; u < c->n_units; ++u) {
    int t[16];
    int k = bass_unit_onsets(c, u, variant, bar_in_phrase, t, 16);
    for (int j = 0; j < k && n < 64; ++j)
      ticks[n++] = t[j];
  }
  /* Chord changes inside the bar get their own strong note. */
  for (int i = 1; i < b->nseg && n < 64; ++i) {
    int have = 0;
    for (int j = 0; j < n; ++j)
      if (ticks[j] == b->seg[i].start)
        have = 1;
    if (!have)
      ticks[n++] = b->seg[i].start;
  }
  /* Sort, drop onsets that fall into the phrase fill or the anticipation. */
  for (int i = 1; i < n; ++i) {
    int x = ticks[i], j = i;
    while (j > 0 && ticks[j - 1] > x) {
      ticks[j] = ticks[j - 1];
      --j;
    }
    ticks[j] = x;
  }
  int last_u = c->n_units - 1;
  int fill_from = bt;
  if (phrase_end) {
    /* The fill takes the last unit after its first 8th (the last 8th alone in short units). */
    fill_from = c->unit_start[last_u] + (c->unit_len[last_u] >= 3 * T8 ? T8 : 0);
    if (c->unit_len[last_u] < 3 * T8)
      fill_from = bt - T8;
    if (b->nseg > 1 && b->seg[b->nseg - 1].start > fill_from)
      fill_from = bt - T8;
  }
  int antic_at = anticipate ? bt - T8 : bt;
  int w = 0;
  for (int i = 0; i < n; ++i)
    if (ticks[i] < fill_from && ticks[i] < antic_at)
      ticks[w++] = ticks[i];
  n = w;
  for (int i = 0; i < n; ++i) {
    int t = ticks[i];
    if (t == 0 && skip_downbeat)
      continue;
    int end = i + 1 < n ? ticks[i + 1] : (fill_from < antic_at ? fill_from : antic_at);
    const sg_chord *ch = sg__chord_at(b, t);
    int seg_start = 0;
    for (int s = 0; s < b->nseg; ++s)
      if (b->seg[s].start <= t)
        seg_start = b->seg[s].start;
    int unit_start = 0, ui = 0;
    for (int u = 0; u < c->n_units; ++u)
      if (c->unit_start[u] <= t) {
        unit_start = c->unit_start[u];
        ui = u;
      }
    /* The chord after this note (for an approach note on the last note before a change). */
    const sg_chord *after = i + 1 < n                           ? sg__chord_at(b, ticks[i + 1])
                            : (fill_from < bt || antic_at < bt) ? NULL
                            : into_next                         ? b->next
                                                                : NULL;
    int key;
    float vel = 0.62f;
    unsigned flags = 0;
    int root = bass_note(c, ch->bass);
    if (t == seg_start) {
      key = root;
      vel = 0.8f;
    } else if (t == unit_start) {
      /* A later strong unit: the fifth in the latin styles and in every other bar of pop, else
       * the root. */
      int fifth = latin || ((b->bar_in_sec + ui) % 2 == 1 && sg_rng_u32(&br) % 2);
      key = fifth && !ch->has_slash ? bass_note(c, fifth_of(ch)) : root;
      vel = 0.74f;
    } else if (after && !same_chord(after, ch)) {
      int target = bass_note(c, after->bass);
      static const sg_approach kinds[] = {SG_APPROACH_CHROMATIC_BELOW, SG_APPROACH_DIATONIC_BELOW,
                                          SG_APPROACH_CHROMATIC_ABOVE, SG_APPROACH_FIFTH,
                                          SG_APPROACH_DIATONIC_ABOVE};
      sg_approach kind = kinds[sg_rng_u32(&br) % 5u];
      if (c->energy == SG_ENERGY_FULL && kind != SG_APPROACH_FIFTH)
        kind = target > root ? SG_APPROACH_CHROMATIC_BELOW : SG_APPROACH_CHROMATIC_ABOVE;
      key = sg_bass_approach(target, kind, c->key);
      vel = 0.66f;
    } else {
      uint32_t r = sg_rng_u32(&br) % 10u;
      if (latin) /* the bossa pickup repeats the coming strong note or leans on the fifth */
        key = r < 6 ? bass_note(c, ui + 1 < c->n_units ? fifth_of(ch) : ch->bass)
                    : bass_note(c, fifth_of(ch));
      else if (r < 4)
        key = root;
      else if (r < 7)
        key = octave_of(root);
      else if (r < 9)
        key = sg_note_in_range(fifth_of(ch), root, root + 11, root + 7);
      else
        key = sg_note_in_range(third_of(ch), root, root + 11, root + 4);
      if (c->energy == SG_ENERGY_FULL && !latin && (t % c->beat_ticks) && r < 5)
        key = octave_of(root); /* full pop: octave pops on the off-beats */
    }
    int len = end - t - 3;
    if (c->energy == SG_ENERGY_SPARSE && !latin)
      len = end - t - 2; /* sparse: held */
    else if (latin && t == unit_start && len > c->unit_len[ui] - T8)
      len = c->unit_len[ui] - T8 - 2;
    if (len < 6)
      len = 6;
    key = clampi(key, 28, 57);
    sg__emit(c, b->bar, t, len, key + o, vel, flags, 0, 0, 0.0);
    c->bass_prev = key == octave_of(root) ? root : key;
  }
  if (anticipate) {
    int nk = bass_note(c, b->next->bass);
    int tie = c->n_units > 0 ? c->unit_len[0] - T8 : T8; /* held into the next bar */
    if (tie < T8)
      tie = T8;
    sg__emit(c, b->bar, bt - T8, T8 + tie - 4, nk + o, 0.82f, SG_NOTE_ACCENT, 0, 0, 0.0);
    c->bass_prev = nk;
    c->anticipated = 1;
  } else if (phrase_end) {
    const sg_chord *ch = sg__chord_at(b, fill_from > 0 ? fill_from - 1 : 0);
    int cur = c->bass_prev >= 0 ? c->bass_prev : bass_note(c, ch->bass);
    int target = bass_note(c, b->next->bass);
    ++c->group; /* alternates the chromatic side of the arpeggio fill */
    /* The fill type alternates by phrase (from a side drawn per section), so consecutive phrases
     * never end alike. */
    bass_fill(c, b, fill_from, cur, target, (phrase + c->bass_cell[SG__MAX_PULSE - 1]) % 2);
  }
}
