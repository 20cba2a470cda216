/* Drum kit patterns per style and energy, user lane patterns, fills into section changes.
 *
 * Patterns are built on the bar's beats (beat starts, "and"s, the 16th before a beat), so 3/4,
 * 6/8 and 12/8 get grooves of their own: a backbeat falls on the odd beats of an even meter;
 * compound meters group 8ths in threes under dotted-quarter beats. */
#include "compose_internal.h"

#include <stdlib.h>
#include <string.h>

#define T16 12
#define T8 24

enum {
  KICK = 36,
  RIM = 37,
  SNARE = 38,
  CLAP = 39,
  CHH = 42,
  PEDAL = 44,
  OHH = 46,
  RIDE = 51,
  SHAKER = 70
};

typedef struct dhit {
  int tick, key, len;
  float vel;
  unsigned flags;
} dhit;

typedef struct dbuf {
  dhit v[512];
  int n;
} dbuf;

static void add(dbuf *b, int tick, int key, float vel, unsigned flags) {
  if (b->n >= 512 || vel <= 0)
    return;
  /* One hit per key and tick: keep the louder. */
  for (int i = 0; i < b->n; ++i)
    if (b->v[i].tick == tick && b->v[i].key == key) {
      if (vel > b->v[i].vel) {
        b->v[i].vel = vel;
        b->v[i].flags = flags;
      }
      return;
    }
  dhit *h = &b->v[b->n++];
  h->tick = tick;
  h->key = key;
  h->vel = vel;
  h->flags = flags;
  h->len = key == OHH ? T8 : T16;
}

/* Odd meters (5/4, 7/4, 5/8, 7/8, ...): grooves from the groupings rather than from every beat.
 * In x/8 the groups alternate kick and backbeat (7/8 = 2+2+3: kick, snare, kick, and a snare on
 * the three-group's last 8th); in x/4 each group opens with the kick and puts the backbeat on its
 * second quarter (5/4 = 3+2: kick snare . kick snare). The latin kit plays the surdo on the group
 * starts and one pickup before the bar line, house its four-on-the-floor on the group starts, so
 * a 7/8 bar never holds more than four kicks. */
static void odd_pattern(const sg__ctx *c, dbuf *d) {
  int bt = c->bar_ticks;
  sg_energy e = c->energy;
  int eighths = c->pulse_len[0] != c->beat_ticks || c->n_pulses == c->n_units; /* x/8 */
  int latin = c->style == SG_STYLE_BOSSA || c->style == SG_STYLE_SAMBA;
  for (int u = 0; u < c->n_units; ++u) {
    int s = c->unit_start[u], len = c->unit_len[u];
    if (c->style == SG_STYLE_HOUSE) {
      add(d, s, KICK, 0.95f, SG_NOTE_ACCENT);
      if (u % 2 == 1 && e != SG_ENERGY_SPARSE)
        add(d, s, CLAP, 0.85f, 0);
      for (int t = s + T8; t < s + len; t += 2 * T8)
        add(d, t, e == SG_ENERGY_FULL ? OHH : CHH, e == SG_ENERGY_SPARSE ? 0.5f : 0.66f, 0);
    } else if (latin) {
      if (e != SG_ENERGY_SPARSE || u == 0)
        add(d, s, KICK, u == 0 ? 0.78f : 0.62f, 0);
      add(d, s + (u == 0 ? 0 : T8), RIM, u == 0 ? 0.7f : 0.6f, 0);
    } else if (eighths) {
      if (u % 2 == 0)
        add(d, s, KICK, u == 0 ? 0.95f : 0.85f, u == 0 ? SG_NOTE_ACCENT : 0);
      else if (e != SG_ENERGY_SPARSE || u == c->n_units - 1)
        add(d, s, SNARE, 0.9f, SG_NOTE_ACCENT);
      if (u % 2 == 0 && u > 0 && len >= 3 * T8 && e != SG_ENERGY_SPARSE)
        add(d, s + len - T8, SNARE, 0.8f, 0);
    } else {
      add(d, s, KICK, u == 0 ? 0.95f : 0.85f, u == 0 ? SG_NOTE_ACCENT : 0);
      if (len > c->beat_ticks)
        add(d, s + c->beat_ticks, SNARE, 0.9f, SG_NOTE_ACCENT);
    }
  }
  if (latin && e != SG_ENERGY_SPARSE)
    add(d, bt - T16, KICK, 0.42f, 0); /* the surdo's pickup into the bar */
  /* Hats: the pulses when sparse, 8ths otherwise; full adds an open hat before the bar line. */
  if (c->style != SG_STYLE_HOUSE) {
    if (e == SG_ENERGY_SPARSE)
      for (int k = 0; k < c->n_pulses; ++k)
        add(d, c->pulse_start[k], CHH, 0.55f, 0);
    else
      for (int t = 0; t < bt; t += T8)
        add(d, t, CHH, t == 0 ? 0.6f : 0.42f, 0);
    if (e == SG_ENERGY_FULL && !latin)
      add(d, bt - T8, OHH, 0.55f, 0);
    if (latin && (c->style == SG_STYLE_SAMBA || e == SG_ENERGY_FULL))
      for (int t = 0; t < bt; t += T16)
        add(d, t, SHAKER, t % T8 ? 0.28f : 0.42f, 0);
  }
}

/* The grooves of ballad, funk, swing, drum-and-bass and reggae, built from sg__strong_back and the
 * pulses so every meter gets them (a 7/8 bar never holds more than four kicks). */
static void groove_pattern(const sg__ctx *c, dbuf *d) {
  int bt = c->bar_ticks;
  sg_energy e = c->energy;
  int strong[SG__MAX_PULSE], back[SG__MAX_PULSE], ns = 0;
  int nb = sg__strong_back(c, strong, &ns, back);
  switch (c->style) {
  case SG_STYLE_BALLAD:
    for (int i = 0; i < ns; ++i)
      add(d, strong[i], KICK, i == 0 ? 0.85f : 0.65f, i == 0 ? SG_NOTE_ACCENT : 0);
    for (int i = 0; i < nb; ++i)
      add(d, back[i], e == SG_ENERGY_SPARSE ? RIM : SNARE, e == SG_ENERGY_FULL ? 0.85f : 0.7f, 0);
    for (int t = 0; t < bt; t += e == SG_ENERGY_SPARSE ? c->pulse_len[0] : T8)
      add(d, t, e == SG_ENERGY_FULL ? RIDE : CHH, t == 0 ? 0.5f : 0.36f, 0);
    if (e == SG_ENERGY_FULL && ns > 0 && c->n_units >= 2)
      add(d, c->unit_start[1] - T8, KICK, 0.5f, 0); /* a push into the second group */
    break;
  case SG_STYLE_FUNK:
    for (int i = 0; i < ns; ++i) {
      add(d, strong[i], KICK, i == 0 ? 0.95f : 0.82f, i == 0 ? SG_NOTE_ACCENT : 0);
      /* the 'a' of the group's first pulse: the 16th syncopation */
      if (e != SG_ENERGY_SPARSE && (i == 0 || e == SG_ENERGY_FULL) && strong[i] + 3 * T16 < bt)
        add(d, strong[i] + 3 * T16, KICK, 0.66f, 0);
    }
    for (int i = 0; i < nb; ++i) {
      add(d, back[i], SNARE, 0.95f, SG_NOTE_ACCENT);
      if (e != SG_ENERGY_SPARSE) { /* ghost notes around the backbeat */
        if (back[i] - T16 > 0)
          add(d, back[i] - T16, SNARE, 0.25f, SG_NOTE_GHOST);
        if (back[i] + 3 * T16 < bt)
          add(d, back[i] + 3 * T16, SNARE, 0.22f, SG_NOTE_GHOST);
      }
    }
    for (int t = 0; t < bt; t += e == SG_ENERGY_SPARSE ? T8 : T16)
      add(d, t, CHH, t % T8 ? 0.32f : (t % c->pulse_len[0] ? 0.5f : 0.62f), 0);
    if (e == SG_ENERGY_FULL)
      add(d, bt - T8, OHH, 0.55f, 0);
    break;
  case SG_STYLE_SWING:
    /* Ride "ding ding-a": every pulse, and the swung last 8th of every second pulse. */
    for (int k = 0; k < c->n_pulses; ++k) {
      int s = c->pulse_start[k], len = c->pulse_len[k];
      add(d, s, RIDE, k % 2 ? 0.62f : 0.7f, 0);
      if (k % 2 == 1 && len >= 2 * T8 && e != SG_ENERGY_SPARSE)
        add(d, s + len - T8, RIDE, 0.5f, 0);
      add(d, s, KICK, 0.3f, SG_NOTE_GHOST); /* feathered */
    }
    for (int i = 0; i < nb; ++i)
      add(d, back[i], PEDAL, 0.6f, 0);
    if (e != SG_ENERGY_SPARSE && c->n_pulses >= 3) { /* comping snare on a swung 'and' */
      int k = c->n_pulses - 2;
      add(d, c->pulse_start[k] + c->pulse_len[k] - T8, SNARE, e == SG_ENERGY_FULL ? 0.55f : 0.3f,
          e == SG_ENERGY_FULL ? 0 : SG_NOTE_GHOST);
    }
    break;
  case SG_STYLE_DNB:
    /* Two-step: the first strong beat, the later ones displaced by an 8th. */
    for (int i = 0; i < ns; ++i)
      add(d, strong[i] + (i > 0 ? T8 : 0), KICK, i == 0 ? 0.95f : 0.85f,
          i == 0 ? SG_NOTE_ACCENT : 0);
    for (int i = 0; i < nb; ++i) {
      add(d, back[i], SNARE, 0.95f, SG_NOTE_ACCENT);
      if (e == SG_ENERGY_FULL && back[i] + 3 * T16 < bt)
        add(d, back[i] + 3 * T16, SNARE, 0.28f, SG_NOTE_GHOST);
    }
    for (int t = 0; t < bt; t += e == SG_ENERGY_FULL ? T16 : T8)
      add(d, t, CHH, t % T8 ? 0.3f : 0.5f, 0);
    if (e != SG_ENERGY_SPARSE)
      add(d, bt - T8, OHH, 0.45f, 0);
    break;
  case SG_STYLE_REGGAE:
  default: {
    /* One drop: kick and cross-stick together on the pulse nearest the bar's middle. */
    int drop = c->pulse_start[0];
    for (int k = 0; k < c->n_pulses; ++k)
      if (abs(2 * c->pulse_start[k] - bt) <= abs(2 * drop - bt))
        drop = c->pulse_start[k];
    if (drop == 0 && c->n_pulses > 1)
      drop = c->pulse_start[1];
    add(d, drop, KICK, 0.9f, SG_NOTE_ACCENT);
    add(d, drop, e == SG_ENERGY_FULL ? SNARE : RIM, 0.8f, 0);
    for (int t = 0; t < bt; t += T8) /* 8th hats with the off-8ths leaning */
      if (e != SG_ENERGY_SPARSE || t % c->pulse_len[0] == 0)
        add(d, t, CHH, t % T8 == 0 && (t / T8) % 2 ? 0.5f : 0.38f, 0);
    if (e == SG_ENERGY_FULL)
      for (int k = 0; k < c->n_pulses; ++k)
        add(d, c->pulse_start[k] + c->pulse_len[k] - T16, CHH, 0.26f, SG_NOTE_GHOST);
    break;
  }
  }
}

static void style_pattern(const sg__ctx *c, dbuf *d) {
  int bt = c->bar_ticks, beat = c->beat_ticks, nb = c->n_beats;
  if (sg__groove_style(c->style)) {
    groove_pattern(c, d);
    return;
  }
  if (c->odd) {
    odd_pattern(c, d);
    return;
  }
  sg_energy e = c->energy;
  int is44 = !c->compound && beat == 48 && nb == 4;
  switch (c->style) {
  case SG_STYLE_HOUSE:
    for (int k = 0; k < nb; ++k) {
      int s = k * beat, off = s + beat / 2;
      add(d, s, KICK, 0.95f, SG_NOTE_ACCENT);
      int backbeat = nb % 2 == 0 ? (k % 2 == 1) : (k > 0);
      if (backbeat && e != SG_ENERGY_SPARSE)
        add(d, s, CLAP, 0.85f, 0);
      if (e == SG_ENERGY_FULL) {
        add(d, off, OHH, 0.7f, 0);
        for (int t = s; t < s + beat; t += T16)
          if (t != off)
            add(d, t, CHH, 0.3f, SG_NOTE_GHOST);
        for (int t = s; t < s + beat; t += T16)
          add(d, t, SHAKER, t == off ? 0.45f : 0.25f, 0);
      } else {
        add(d, off, CHH, e == SG_ENERGY_SPARSE ? 0.5f : 0.68f, 0);
      }
    }
    break;
  case SG_STYLE_BOSSA:
  case SG_STYLE_SAMBA: {
    int samba = c->style == SG_STYLE_SAMBA;
    /* Surdo-like kick: each beat and the 16th before the next ("x..xx..x" in 4/4). */
    for (int k = 0; k < nb; ++k) {
      int s = k * beat;
      if (e == SG_ENERGY_SPARSE && k % 2)
        continue;
      add(d, s, KICK, k % 2 ? 0.62f : 0.78f, 0);
      if (e != SG_ENERGY_SPARSE)
        add(d, s + beat - (c->compound ? T8 : T16), KICK, 0.42f, 0);
    }
    /* Cross-stick on the bossa clave (4/4), else on beat 1, its "a" and each later "and". */
    if (is44) {
      static const int clave[] = {0, 3, 6, 10, 13};
      for (int i = 0; i < 5; ++i)
        if (e != SG_ENERGY_SPARSE || i < 3)
          add(d, clave[i] * T16, RIM, i == 0 ? 0.7f : 0.6f, 0);
    } else {
      add(d, 0, RIM, 0.7f, 0);
      if (!c->compound && 3 * T16 < bt)
        add(d, 3 * T16, RIM, 0.6f, 0);
      for (int k = 1; k < nb; ++k)
        add(d, k * beat + (c->compound ? T8 : c->sub_ticks), RIM, 0.6f, 0);
    }
    /* Hats and shaker. */
    int step = (e == SG_ENERGY_SPARSE) ? beat : (c->compound ? T8 : T8);
    for (int t = 0; t < bt; t += step)
      add(d, t, CHH, t % beat == 0 ? 0.45f : 0.35f, 0);
    if (samba || e == SG_ENERGY_FULL)
      for (int t = 0; t < bt; t += T16) {
        int pos = (t % beat) / T16;
        int last = (t % beat) == beat - T16; /* samba accents the "a" */
        add(d, t, SHAKER, last ? 0.55f : pos == 0 ? 0.42f : 0.28f, 0);
      }
    break;
  }
  case SG_STYLE_POP:
  default: {
    /* Kick. */
    add(d, 0, KICK, 0.95f, SG_NOTE_ACCENT);
    if (c->compound) {
      if (e != SG_ENERGY_SPARSE && nb >= 2)
        add(d, beat - T8, KICK, 0.6f, 0);
      for (int k = 2; k < nb; k += 2)
        add(d, k * beat, KICK, 0.85f, 0);
    } else if (nb % 2 == 0 && nb >= 4) {
      add(d, (nb / 2) * beat, KICK, 0.88f, 0);
      if (e != SG_ENERGY_SPARSE)
        add(d, (nb / 2) * beat + c->sub_ticks, KICK, 0.7f, 0);
      if (e == SG_ENERGY_FULL)
        add(d, beat + c->sub_ticks + T16, KICK, 0.6f, 0);
    }
    /* Snare backbeat. */
    for (int k = 1; k < nb; ++k) {
      int back = nb % 2 == 0 ? (k % 2 == 1) : 1;
      if (!back)
        continue;
      if (e == SG_ENERGY_SPARSE && nb % 2 == 0 && k != nb - 1)
        continue;
      float v = (nb % 2 == 1 && k > 1) ? 0.62f : 0.9f;
      add(d, k * beat, SNARE, v, v > 0.8f ? SG_NOTE_ACCENT : 0);
      if (e == SG_ENERGY_FULL && k * beat - T16 > 0)
        add(d, k * beat - T16, SNARE, 0.22f, SG_NOTE_GHOST);
    }
    /* Hats. */
    int step = e == SG_ENERGY_SPARSE ? beat : e == SG_ENERGY_FULL && !c->compound ? T16 : T8;
    for (int t = 0; t < bt; t += step) {
      int on = t % beat == 0, on8 = t % T8 == 0;
      add(d, t, CHH, on ? 0.62f : on8 ? 0.48f : 0.3f, 0);
    }
    if (e == SG_ENERGY_FULL)
      add(d, bt - T8, OHH, 0.55f, 0);
    break;
  }
  }
}

static void user_pattern(const sg__ctx *c, const sg__bar *b, dbuf *d) {
  for (int l = 0; l < c->drum_user.n_lanes; ++l) {
    sg__hit h[128];
    int n = sg__user_hits(c, &c->drum_user.lanes[l].pattern, b, h, 128);
    /* As written: energy scales the velocity (sg__emit), never adds or drops a note. */
    for (int i = 0; i < n; ++i)
      add(d, h[i].tick, c->drum_user.lanes[l].key, h[i].vel, h[i].flags);
  }
}

/* 1 when the kit may play key: always for a style's groove; for a user's pattern only the
 * pieces it names (fills: true never brings in a piece the user did not write). */
static int may_play(const sg__ctx *c, int key) {
  if (!c->has_user)
    return 1;
  for (int l = 0; l < c->drum_user.n_lanes; ++l)
    if (c->drum_user.lanes[l].key == key)
      return 1;
  return 0;
}

/* The piece a fill rolls on: the style's snare (clap, rim), or for a user's pattern the first
 * of snare, clap, rim, closed hat it names, else its first lane. */
static int fill_key(const sg__ctx *c, int wanted) {
  if (may_play(c, wanted))
    return wanted;
  static const int pref[] = {SNARE, CLAP, RIM, CHH};
  for (int i = 0; i < 4; ++i)
    if (may_play(c, pref[i]))
      return pref[i];
  return c->drum_user.n_lanes > 0 ? c->drum_user.lanes[0].key : wanted;
}

static void fill(const sg__ctx *c, dbuf *d) {
  int bt = c->bar_ticks, beat = c->beat_ticks;
  int flen = (c->energy == SG_ENERGY_FULL && c->n_beats >= 3) ? 2 * beat : beat;
  if (flen > bt)
    flen = bt;
  int fs = bt - flen;
  /* Clear the fill region except the kick that starts it. */
  int w = 0;
  for (int i = 0; i < d->n; ++i)
    if (d->v[i].tick < fs || (d->v[i].key == KICK && d->v[i].tick == fs))
      d->v[w++] = d->v[i];
  d->n = w;
  int step = c->energy == SG_ENERGY_SPARSE ? T8 : T16;
  int i = 0;
  for (int t = fs; t < bt; t += step, ++i) {
    float v = 0.4f + 0.55f * (float)(t - fs) / (float)flen;
    int key = SNARE;
    if (c->style == SG_STYLE_HOUSE)
      key = i % 2 ? SNARE : CLAP;
    else if (c->style == SG_STYLE_BOSSA || c->style == SG_STYLE_SAMBA)
      key = i % 3 == 2 ? RIM : SNARE, v *= 0.85f;
    add(d, t, fill_key(c, key), v, t + step >= bt ? SG_NOTE_ACCENT : 0);
  }
  if (may_play(c, KICK))
    add(d, fs, KICK, 0.8f, 0);
}

void sg__role_drums(sg__ctx *c, const sg__bar *b) {
  dbuf d;
  d.n = 0;
  if (c->has_user)
    user_pattern(c, b, &d);
  else
    style_pattern(c, &d);
  if (b->section_change && b->next_plays && c->fills)
    fill(c, &d);
  /* After a fill, mark the new section's downbeat (open hat in place of a crash). */
  if (b->first_of_section && b->si > 0 && c->energy != SG_ENERGY_SPARSE && c->fills) {
    if (may_play(c, KICK))
      add(&d, 0, KICK, 1.0f, SG_NOTE_ACCENT);
    if (may_play(c, OHH))
      add(&d, 0, OHH, 0.85f, SG_NOTE_ACCENT);
  }
  for (int i = 0; i < d.n; ++i)
    sg__emit(c, b->bar, d.v[i].tick, d.v[i].len, d.v[i].key, d.v[i].vel, d.v[i].flags, 0, 0, 0.0);
}
