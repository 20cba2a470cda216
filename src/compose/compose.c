/* Styles and roles -> note events on the exact grid, then humanisation.
 *
 * Work happens bar by bar in ticks of 1/48 quarter note. A bar knows its chord segments, the
 * next bar's first chord (for anticipations and approach notes), whether it ends a section (for
 * fills and pickups), and the section's energy. Each role writes notes through emit(), which
 * converts ticks to frames with sg_timeline_frame_at (plus swing on off-16ths). After all bars
 * are written, notes outside the stem's sections are dropped, clipped to the run of sections
 * they live in, and humanised inside those bounds. */
#include "compose_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TPQ SG__TPQ

/* ---- names --------------------------------------------------------------------------------- */

static int ieq(const char *a, const char *b) {
  for (; *a && *b; ++a, ++b)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return 0;
  return *a == *b;
}

/* The style, role and energy names live in src/theory/style.c (the spec loader checks them). */

/* ---- spec errors ----------------------------------------------------------------------------- */

/* Whether the scalar at pos in the spec file starts with a quote, read back from the file
 * (errors only). -1 when the file cannot be read (a spec parsed from memory). */
static int scalar_quoted(const sg_song *song, sg_pos pos) {
  if (!song->path[0] || pos.line <= 0 || pos.col <= 0)
    return -1;
  FILE *f = fopen(song->path, "rb");
  if (!f)
    return -1;
  int line = 1, col = 1, ch, q = -1;
  while ((ch = fgetc(f)) != EOF) {
    if (line == pos.line && col == pos.col) {
      q = ch == '"' || ch == '\'';
      break;
    }
    if (ch == '\n') {
      if (++line > pos.line)
        break;
      col = 1;
    } else if ((ch & 0xC0) != 0x80) { /* count UTF-8 characters, as libyaml marks do */
      ++col;
    }
  }
  fclose(f);
  return q;
}

/* Column offset of a value's text: spec positions point at the scalar's first character, and a
 * quoted scalar's text starts one column later. Parsing assumes `quoted`; on error the spec file
 * is read back to correct the column when the assumption was wrong. */
static int value_col0(sg_pos pos, int quoted) { return pos.col > 0 ? pos.col - 1 + quoted : 0; }

/* Re-targets a parse diagnostic to the spec: file, the value's line, and its column plus the
 * offset inside the value. */
static sg_status to_spec(const sg_song *song, sg_diag *d, sg_pos pos, int assumed_quoted,
                         sg_status st) {
  if (st == SG_OK)
    return st;
  if (!d)
    return SG_E_SPEC;
  int q = scalar_quoted(song, pos);
  int col = d->col;
  if (q >= 0 && pos.col > 0)
    col += q - assumed_quoted;
  sg_diag_at(d, song->path, pos.line, col);
  d->status = SG_E_SPEC;
  return SG_E_SPEC;
}

sg_status sg_section_harmony(const sg_song *song, int si, sg_key *key, sg_progression *prog,
                             sg_diag *d) {
  if (!song || !key || !prog || si < 0 || si >= song->n_sections)
    return SG_E_INVAL;
  const sg_section_spec *sec = &song->sections[si];
  const sg_name *kn = sec->key.s[0] ? &sec->key : &song->key;
  if (kn->s[0]) {
    sg_status st = sg_key_parse(kn->s, key, d);
    if (st != SG_OK) {
      if (d)
        d->col = value_col0(kn->pos, 0) + d->col;
      return to_spec(song, d, kn->pos, 0, st);
    }
  } else {
    key->tonic = 0;
    key->tonic_letter = 0;
    key->mode = SG_MODE_MAJOR;
  }
  if (sec->chords.s[0]) {
    sg_status st =
        sg_progression_parse(sec->chords.s, key, value_col0(sec->chords.pos, 1), prog, d);
    return to_spec(song, d, sec->chords.pos, 1, st);
  }
  if (sec->progression.s[0]) {
    sg_status st =
        sg_progression_named(sec->progression.s, key, value_col0(sec->progression.pos, 0), prog, d);
    return to_spec(song, d, sec->progression.pos, 0, st);
  }
  return sg_progression_default(key, prog);
}

int sg_section_key_name(const sg_song *song, int si, sg_key *key, char *out, size_t cap) {
  sg_key k;
  sg_progression prog;
  if (sg_section_harmony(song, si, &k, &prog, NULL) == SG_OK) {
    sg_key_name(&k, out, cap);
    if (key)
      *key = k;
    return 1;
  }
  if (song && si >= 0 && si < song->n_sections)
    snprintf(out, cap, "%s", song->sections[si].key.s[0] ? song->sections[si].key.s : song->key.s);
  else if (cap)
    out[0] = '\0';
  return 0;
}

/* ---- emit ---------------------------------------------------------------------------------- */

int64_t sg__tick_frame(const sg__ctx *c, int64_t tick) {
  int64_t f = sg_timeline_frame_at(c->tl, tick, TPQ);
  /* The swing style swings 8ths: the off-8th of each quarter moves later by the song's swing as
   * a fraction of an 8th (default 1/3: the triplet feel, a 2:1 long-short ratio). */
  if (c->style == SG_STYLE_SWING && c->beat_ticks == TPQ && ((tick % TPQ) + TPQ) % TPQ == 24) {
    int64_t g = sg_timeline_frame_at(c->tl, tick + 24, TPQ);
    double r = c->swing > 0 ? c->swing : 1.0 / 3.0;
    return f + (int64_t)llround(r * (double)(g - f));
  }
  /* Swing delays the off-16ths ("e" and "a") by a fraction of a 16th, in simple meters. */
  if (c->swing > 0 && !c->compound && ((tick % 24) + 24) % 24 == 12) {
    int64_t g = sg_timeline_frame_at(c->tl, tick + 12, TPQ);
    f += (int64_t)llround(c->swing * (double)(g - f));
  }
  return f;
}

void sg__emit(sg__ctx *c, int64_t bar, int tick, int len, int key, float vel, unsigned flags,
              int group, int strum_index, double strum_ms) {
  if (len <= 0 || key < 0 || key > 127)
    return;
  if (c->status != SG_OK)
    return;
  int64_t t0 = bar * c->bar_ticks + tick;
  sg_note n;
  memset(&n, 0, sizeof n);
  n.start = sg__tick_frame(c, t0);
  int64_t end = sg_timeline_frame_at(c->tl, t0 + len, TPQ);
  n.start += (int64_t)llround(strum_ms * 1e-3 * c->tl->rate);
  n.length = end - n.start;
  if (n.length < 1)
    n.length = 1;
  n.key = key;
  if (vel > 1.0f)
    vel = 1.0f;
  if (vel < 0.02f)
    vel = 0.02f;
  n.velocity = vel * c->energy_gain;
  if (n.velocity > 1.0f)
    n.velocity = 1.0f;
  n.flags = flags;
  n.group = group;
  n.strum_index = strum_index;
  c->status = sg_notes_push(c->out, &n);
}

/* ---- bar loop ------------------------------------------------------------------------------ */

static int64_t gcd64(int64_t a, int64_t b) {
  while (b) {
    int64_t t = a % b;
    a = b;
    b = t;
  }
  return a < 0 ? -a : a;
}

int sg__groupings(int num, int den, int groups[SG__MAX_PULSE]) {
  int n = 0;
  if (num <= 0 || den <= 0)
    return 0;
  if (den >= 8 && num % 3 == 0 && num >= 6) {
    for (int k = 0; k < num / 3 && n < SG__MAX_PULSE; ++k)
      groups[n++] = 3;
    return n * 3 == num ? n : 0;
  }
  if (num <= 3) {
    groups[n++] = num;
    return n;
  }
  if (num == 5) {
    groups[0] = 3;
    groups[1] = 2;
    return 2;
  }
  int rest = num;
  while (rest > 3 && n < SG__MAX_PULSE) {
    if (rest == 5) { /* 2+3 at the end keeps the three last, as in 7 = 2+2+3 */
      groups[n++] = 2;
      rest -= 2;
      break;
    }
    groups[n++] = 2;
    rest -= 2;
  }
  if (rest > 0 && n < SG__MAX_PULSE)
    groups[n++] = rest;
  int sum = 0;
  for (int i = 0; i < n; ++i)
    sum += groups[i];
  return sum == num ? n : 0;
}

/* The strong and back beats of any meter, from its groupings: in x/4 meters each group opens
 * with a strong beat and has its backbeat on its second pulse (4/4 = 2+2: 1 and 3 strong, 2 and
 * 4 back; 5/4 = 3+2); where the groups are the pulses (6/8, 7/8 = 2+2+3) they alternate strong
 * and back, and a last strong group of three puts a backbeat on its last 8th. */
int sg__strong_back(const sg__ctx *c, int *strong, int *ns, int *back) {
  int nb = 0;
  *ns = 0;
  for (int u = 0; u < c->n_units; ++u) {
    int s = c->unit_start[u], len = c->unit_len[u];
    int pulses_in = 0;
    for (int k = 0; k < c->n_pulses; ++k)
      pulses_in += c->pulse_start[k] >= s && c->pulse_start[k] < s + len;
    if (pulses_in >= 2) {
      strong[(*ns)++] = s;
      for (int k = 0; k < c->n_pulses; ++k)
        if (c->pulse_start[k] > s && c->pulse_start[k] < s + len) {
          back[nb++] = c->pulse_start[k];
          break;
        }
    } else if (u % 2 == 0) {
      strong[(*ns)++] = s;
      if (u > 0 && u == c->n_units - 1 && len >= 3 * 24)
        back[nb++] = s + len - 24;
    } else {
      back[nb++] = s;
    }
  }
  return nb;
}

int sg__groove_style(sg_style s) {
  return s == SG_STYLE_BALLAD || s == SG_STYLE_FUNK || s == SG_STYLE_SWING || s == SG_STYLE_DNB ||
         s == SG_STYLE_REGGAE;
}

static sg_status setup_grid(sg__ctx *c, const sg_song *song, const sg_timeline *tl, sg_diag *d) {
  int64_t num = tl->bar_q_num, den = tl->bar_q_den;
  if (num <= 0 || den <= 0)
    return sg_diag_fail(d, SG_E_INVAL, "timeline has no bar length");
  if ((num * TPQ) % den)
    return sg_diag_fail(d, SG_E_UNSUPPORTED,
                        "meter %d/%d does not divide into 1/48-quarter ticks (use a denominator "
                        "of 2, 4, 8 or 16)",
                        tl->meter_num, tl->meter_den);
  c->bar_ticks = (int)(num * TPQ / den);
  (void)gcd64;
  int mn = tl->meter_num > 0 ? tl->meter_num : song->meter_num;
  int md = tl->meter_den > 0 ? tl->meter_den : song->meter_den;
  c->compound = md == 8 && mn % 3 == 0 && mn >= 6;
  if (c->compound) {
    c->beat_ticks = 3 * TPQ / 2; /* dotted quarter */
    c->sub_ticks = TPQ / 2;      /* 8th */
  } else {
    c->beat_ticks = md > 0 ? 4 * TPQ / md : TPQ;
    if (md == 8) /* 5/8, 7/8: count in 8ths, subdivide in 16ths */
      c->beat_ticks = TPQ / 2;
    c->sub_ticks = c->beat_ticks / 2;
  }
  c->n_beats = c->bar_ticks / c->beat_ticks;
  if (c->n_beats < 1)
    c->n_beats = 1;
  c->steps = c->bar_ticks / 12;
  /* Units and pulses from the groupings; a meter the table cannot split (a 16th denominator,
   * a bar longer than SG__MAX_PULSE groups) falls back to one unit per beat. */
  int g[SG__MAX_PULSE];
  int ng = sg__groupings(mn, md, g);
  int unit = md > 0 ? 4 * TPQ / md : TPQ;
  int t = 0;
  c->n_units = 0;
  for (int i = 0; i < ng && c->n_units < SG__MAX_PULSE; ++i) {
    c->unit_start[c->n_units] = t;
    c->unit_len[c->n_units++] = g[i] * unit;
    t += g[i] * unit;
  }
  if (ng == 0 || t != c->bar_ticks) {
    c->n_units = 0;
    for (int k = 0; k < c->n_beats && k < SG__MAX_PULSE; ++k) {
      c->unit_start[k] = k * c->beat_ticks;
      c->unit_len[k] = c->beat_ticks;
      c->n_units = k + 1;
    }
  }
  c->n_pulses = 0;
  if (md >= 8) { /* x/8: the groups are the beats a player feels */
    memcpy(c->pulse_start, c->unit_start, sizeof c->pulse_start);
    memcpy(c->pulse_len, c->unit_len, sizeof c->pulse_len);
    c->n_pulses = c->n_units;
  } else {
    for (int k = 0; k < c->n_beats && k < SG__MAX_PULSE; ++k) {
      c->pulse_start[k] = k * c->beat_ticks;
      c->pulse_len[k] = c->beat_ticks;
      c->n_pulses = k + 1;
    }
  }
  c->odd = !c->compound && !(md == 4 && (mn == 2 || mn == 3 || mn == 4)) && !(md == 2 && mn == 2);
  c->swing = song->swing;
  return SG_OK;
}

/* Chord at a tick of the current bar. */
const sg_chord *sg__chord_at(const sg__bar *b, int tick) {
  for (int i = b->nseg - 1; i >= 0; --i)
    if (tick >= b->seg[i].start)
      return b->seg[i].chord;
  return b->seg[0].chord;
}

static void fill_bar(const sg__ctx *c, const sg_progression *p, int bar_in_sec, sg__bar *b) {
  int pb = p->bars > 0 ? bar_in_sec % p->bars : 0;
  b->nseg = 0;
  for (int i = 0; i < p->n && b->nseg < SG__MAX_SEG; ++i) {
    if (p->v[i].bar != pb)
      continue;
    int ns = p->v[i].n_slots > 0 ? p->v[i].n_slots : 1;
    int start = (int)((int64_t)c->bar_ticks * p->v[i].slot / ns);
    /* Merge held slots ('-') into one segment. */
    if (b->nseg > 0 && b->seg[b->nseg - 1].chord->pcs == p->v[i].chord.pcs &&
        b->seg[b->nseg - 1].chord->root == p->v[i].chord.root &&
        b->seg[b->nseg - 1].chord->bass == p->v[i].chord.bass)
      continue;
    b->seg[b->nseg].start = start;
    b->seg[b->nseg].chord = &p->v[i].chord;
    b->nseg++;
  }
  if (b->nseg == 0) { /* defensive: a chart always covers its bars */
    b->seg[0].start = 0;
    b->seg[0].chord = &p->v[0].chord;
    b->nseg = 1;
  }
  for (int i = 0; i < b->nseg; ++i)
    b->seg[i].end = i + 1 < b->nseg ? b->seg[i + 1].start : c->bar_ticks;
}

static const sg_chord *first_chord_of_bar(const sg_progression *p, int bar_in_sec) {
  int pb = p->bars > 0 ? bar_in_sec % p->bars : 0;
  for (int i = 0; i < p->n; ++i)
    if (p->v[i].bar == pb)
      return &p->v[i].chord;
  return &p->v[0].chord;
}

static int stem_plays(const sg__ctx *c, int si) {
  if (si < 0 || si >= c->song->n_sections)
    return 0;
  if (!c->stem)
    return sg_drums_play_in(c->song, si);
  return sg_stem_plays_in(c->song, c->stem, si);
}

/* 1 when another stem with the bass role (given, or moog_bass by default) plays in section si:
 * then comping and pads leave the register under E3 to it. */
static int bass_plays(const sg__ctx *c, int si) {
  for (int i = 0; i < c->song->n_stems; ++i) {
    const sg_stem_spec *st = &c->song->stems[i];
    if (st == c->stem)
      continue;
    int bass = st->role.s[0] ? ieq(st->role.s, "bass")
                             : ieq(st->instrument.s, "moog_bass") && !st->role.s[0];
    if (bass && sg_stem_plays_in(c->song, st, si))
      return 1;
  }
  return 0;
}

static sg_status harmonies(sg__ctx *c, sg_diag *d) {
  for (int si = 0; si < c->tl->n_sections && si < c->song->n_sections; ++si) {
    sg_status st = sg_section_harmony(c->song, si, &c->keys[si], &c->progs[si], d);
    if (st != SG_OK)
      return st;
  }
  return SG_OK;
}

static sg_status energy_of(const sg__ctx *c, int si, sg_energy *e, sg_diag *d) {
  const sg_section_spec *sec = &c->song->sections[si];
  if (sg_energy_from_name(sec->energy.s, e) != SG_OK) {
    sg_diag_at(d, c->song->path, sec->energy.pos.line, sec->energy.pos.col);
    return sg_diag_fail(d, SG_E_SPEC, "unknown energy '%s' (allowed: sparse, normal, full)",
                        sec->energy.s);
  }
  return SG_OK;
}

static sg_status run_bars(sg__ctx *c, sg_diag *d) {
  const sg_timeline *tl = c->tl;
  for (int si = 0; si < tl->n_sections && si < c->song->n_sections; ++si) {
    if (!stem_plays(c, si))
      continue;
    sg_energy e;
    sg_status st = energy_of(c, si, &e, d);
    if (st != SG_OK)
      return st;
    c->energy = e;
    /* Energy scales every role's velocity, and with it level and (velocity-to-filter)
     * brightness: a sparse section ~3.5 dB under a full one before its thinner patterns, normal
     * ~1.5 dB under (tests/pipeline/test_ending.c measures the master). */
    c->energy_gain = e == SG_ENERGY_SPARSE ? 0.55f : e == SG_ENERGY_FULL ? 1.0f : 0.78f;
    c->key = &c->keys[si];
    c->bass_mute_low = bass_plays(c, si);
    const sg_section_time *sec = &tl->sections[si];
    if (si == 0 || !stem_plays(c, si - 1))
      c->anticipated = 0;
    for (int64_t b = 0; b < sec->bars; ++b) {
      sg__bar bar;
      memset(&bar, 0, sizeof bar);
      fill_bar(c, &c->progs[si], (int)b, &bar);
      bar.bar = sec->start_bar + b;
      bar.bar_in_sec = (int)b;
      bar.sec_bars = (int)sec->bars;
      bar.si = si;
      bar.last_of_section = b == sec->bars - 1;
      bar.first_of_section = b == 0;
      if (b + 1 < sec->bars) {
        bar.next = first_chord_of_bar(&c->progs[si], (int)b + 1);
        bar.next_plays = 1;
      } else if (si + 1 < tl->n_sections && si + 1 < c->song->n_sections) {
        bar.next = first_chord_of_bar(&c->progs[si + 1], 0);
        bar.next_plays = stem_plays(c, si + 1);
        bar.section_change = 1;
      }
      c->role_fn(c, &bar);
      if (c->status != SG_OK)
        return sg_diag_fail(d, c->status, "out of memory while composing");
    }
  }
  return SG_OK;
}

/* ---- bounds, humanisation, report -------------------------------------------------------- */

/* [start, end) of the run of consecutive played sections containing section si. */
static void run_bounds(const sg__ctx *c, int si, int64_t *lo, int64_t *hi) {
  int a = si, b = si;
  while (a > 0 && stem_plays(c, a - 1))
    --a;
  while (b + 1 < c->tl->n_sections && stem_plays(c, b + 1))
    ++b;
  *lo = c->tl->sections[a].start_frame;
  *hi = c->tl->sections[b].end_frame;
  if (*lo < 0)
    *lo = 0;
  if (*hi > c->tl->total_frames)
    *hi = c->tl->total_frames;
}

static double clipped_gauss(sg_rng *r, double sigma, double bound) {
  double g = sg_rng_normal(r) * sigma;
  if (g > bound)
    g = bound;
  if (g < -bound)
    g = -bound;
  return g;
}

/* One sounding note per key: a key struck again cuts the previous note (a string re-plucked,
 * a key re-pressed), which also keeps MIDI note-on/off pairing unambiguous. With drop_dupes,
 * a second strike at the very same frame is merged into the first (louder velocity wins).
 * The list must be sorted. */
static void one_note_per_key(sg_note_list *l, int drop_dupes) {
  size_t last[128];
  int have[128] = {0};
  size_t w = 0;
  for (size_t i = 0; i < l->n; ++i) {
    sg_note n = l->v[i];
    int k = n.key & 127;
    if (have[k]) {
      sg_note *p = &l->v[last[k]];
      if (drop_dupes && p->start == n.start) {
        if (n.velocity > p->velocity)
          p->velocity = n.velocity;
        if (n.length > p->length)
          p->length = n.length;
        continue;
      }
      if (p->start + p->length > n.start)
        p->length = n.start - p->start > 0 ? n.start - p->start : 1;
    }
    l->v[w] = n;
    last[k] = w;
    have[k] = 1;
    ++w;
  }
  l->n = w;
}

static sg_status finish(sg__ctx *c, int humanise, sg_compose_report *rep) {
  sg_note_list *l = c->out;
  const sg_timeline *tl = c->tl;
  double rate = tl->rate;
  double bound = humanise ? c->song->humanize_ms : 0.0;
  if (bound < 0)
    bound = 0;
  double hv = humanise ? c->song->humanize_velocity : 0.0;
  /* 1. Keep notes inside the stem's sections, ending inside their run of sections. */
  size_t w = 0;
  for (size_t i = 0; i < l->n; ++i) {
    sg_note n = l->v[i];
    int si = sg_timeline_section_at(tl, n.start);
    if (si < 0 || !stem_plays(c, si))
      continue;
    int64_t lo, hi;
    run_bounds(c, si, &lo, &hi);
    if (n.start + n.length > hi)
      n.length = hi - n.start;
    if (n.length < 1)
      continue;
    l->v[w++] = n;
  }
  l->n = w;
  sg_notes_sort(l);
  one_note_per_key(l, 1);
  /* 2. Humanise. A chord or strum (one group) moves as one, with an offset drawn from its own
   * stream so the result does not depend on note order; single notes draw in time order. */
  sg_rng hr;
  sg_rng_seed(&hr, c->seed, 0x68756d616eULL); /* "human" stream, separate from composition */
  int64_t bshift = (int64_t)floor(bound * 1e-3 * rate);
  double max_off = 0;
  w = 0;
  for (size_t i = 0; i < l->n; ++i) {
    sg_note n = l->v[i];
    int si = sg_timeline_section_at(tl, n.start);
    int64_t lo, hi;
    run_bounds(c, si, &lo, &hi);
    double off_ms = 0;
    if (bound > 0) {
      if (n.group > 0) {
        sg_rng gr;
        sg_rng_seed(&gr, c->seed ^ (0x9E3779B97F4A7C15ULL * (uint64_t)n.group), 0x67726f7570ULL);
        off_ms = clipped_gauss(&gr, bound / 2.5, bound);
      } else {
        off_ms = clipped_gauss(&hr, bound / 2.5, bound);
      }
    }
    int64_t shift = (int64_t)llround(off_ms * 1e-3 * rate);
    if (shift > bshift)
      shift = bshift;
    if (shift < -bshift)
      shift = -bshift;
    int64_t ns = n.start + shift, ne = n.start + n.length + shift;
    if (ns < lo)
      ns = lo;
    if (ns > hi - 1)
      ns = hi - 1;
    if (ne > hi)
      ne = hi;
    if (ne <= ns)
      ne = ns + 1;
    double applied = fabs((double)(ns - n.start)) * 1e3 / rate;
    if (applied > max_off)
      max_off = applied;
    n.start = ns;
    n.length = ne - ns;
    if (hv > 0) {
      double g = clipped_gauss(&hr, 1.0, 2.0);
      double v = n.velocity * (1.0 + hv * g);
      n.velocity = (float)(v < 0.02 ? 0.02 : v > 1.0 ? 1.0 : v);
    }
    l->v[w++] = n;
  }
  l->n = w;
  if (humanise)
    sg__ending_hit(c); /* after the clipping above: the hit sounds past the last bar */
  if (c->status != SG_OK)
    return c->status;
  sg_notes_sort(l);
  one_note_per_key(l, 0);
  sg_notes_trim(l); /* held whole until the stem is rendered: no growth slack */
  if (rep) {
    rep->notes = l->n;
    rep->max_offset_ms = max_off;
    rep->bound_ms = bound;
    rep->n_sections = tl->n_sections;
    for (int s = 0; s < tl->n_sections && s < SG_MAX_SECTIONS; ++s)
      rep->section_notes[s] = 0;
    for (size_t i = 0; i < l->n; ++i) {
      int si = sg_timeline_section_at(tl, l->v[i].start);
      if (si >= 0 && si < SG_MAX_SECTIONS)
        rep->section_notes[si]++;
    }
    for (int s = 0; s < tl->n_sections && s < c->song->n_sections; ++s) {
      char *o = rep->section_chords[s];
      size_t cap = SG_COMPOSE_CHORDS_TEXT, k = 0;
      o[0] = 0;
      const sg_progression *p = &c->progs[s];
      for (int i = 0; i < p->n && k + 1 < cap; ++i) {
        if (i > 0 && p->v[i].bar != p->v[i - 1].bar)
          k += (size_t)snprintf(o + k, cap - k, " |");
        if (k + 1 >= cap)
          break;
        k += (size_t)snprintf(o + k, cap - k, "%s%s", k ? " " : "", p->v[i].chord.symbol);
        if (k >= cap)
          k = cap - 1;
      }
    }
  }
  return SG_OK;
}

/* ---- public entry points ------------------------------------------------------------------- */

static sg_status resolve_style(const sg_song *song, const sg_name *nm, sg_style *out, sg_diag *d) {
  const sg_name *use = nm->s[0] ? nm : &song->style;
  if (!use->s[0]) {
    *out = SG_STYLE_POP;
    return SG_OK;
  }
  if (sg_style_from_name(use->s, out) == SG_OK)
    return SG_OK;
  sg_diag_at(d, song->path, use->pos.line, use->pos.col);
  return sg_diag_fail(d, SG_E_SPEC, "unknown style '%s' (stemgate list styles names them)", use->s);
}

static void ctx_free(sg__ctx *c) {
  if (c) {
    free(c->progs);
    free(c->melody);
    free(c);
  }
}

static sg__ctx *ctx_new(const sg_song *song, const sg_timeline *tl, sg_note_list *out, sg_diag *d,
                        sg_status *st) {
  sg__ctx *c = calloc(1, sizeof *c);
  if (!c) {
    *st = sg_diag_fail(d, SG_E_NOMEM, "out of memory");
    return NULL;
  }
  c->song = song;
  c->tl = tl;
  c->out = out;
  c->status = SG_OK;
  c->bass_prev = -1;
  c->lead_prev = -1;
  c->motif_section = -1;
  c->bass_section = -1;
  c->progs = calloc((size_t)(song->n_sections > 0 ? song->n_sections : 1), sizeof *c->progs);
  if (!c->progs) {
    free(c);
    *st = sg_diag_fail(d, SG_E_NOMEM, "out of memory");
    return NULL;
  }
  *st = setup_grid(c, song, tl, d);
  if (*st == SG_OK)
    *st = harmonies(c, d);
  if (*st != SG_OK) {
    free(c->progs);
    free(c);
    return NULL;
  }
  return c;
}

static sg_status check_args(const sg_song *song, const sg_timeline *tl, sg_note_list *out,
                            sg_diag *d) {
  if (!song || !tl || !out)
    return sg_diag_fail(d, SG_E_INVAL, "compose: song, timeline and output are required");
  if (tl->n_sections != song->n_sections)
    return sg_diag_fail(d, SG_E_INVAL, "compose: timeline has %d sections, song %d", tl->n_sections,
                        song->n_sections);
  if (tl->rate == 0 || tl->tempo_num <= 0 || tl->tempo_den <= 0)
    return sg_diag_fail(d, SG_E_INVAL, "compose: timeline has no rate or tempo");
  return SG_OK;
}

static sg_status compose_drums_common(sg__ctx *c, sg_style style, const sg_text *pattern, int fills,
                                      const char *seed_name, sg_compose_report *rep, sg_diag *d) {
  c->style = style;
  /* The drums block may have its own seed (a variations axis), so other stems stay the same. */
  uint64_t base = seed_name && !strcmp(seed_name, "drums") && c->song->drums.has_seed
                      ? c->song->drums.seed
                      : c->song->seed;
  c->seed = base + sg_hash64(seed_name);
  sg_rng_seed(&c->rng, c->seed, 0x636f6d706f7365ULL);
  c->has_user = 0;
  if (pattern && pattern->s[0]) {
    sg_status st = sg_drum_pattern_parse(pattern->s, value_col0(pattern->pos, 1), &c->drum_user, d);
    if (st != SG_OK)
      return to_spec(c->song, d, pattern->pos, 1, st);
    c->has_user = 1;
  }
  /* A user's pattern is played as written unless fills are asked for. */
  c->fills = fills == 0 ? !c->has_user : fills > 0;
  c->role_fn = sg__role_drums;
  sg_status st = run_bars(c, d);
  if (st != SG_OK)
    return st;
  if (rep) {
    rep->style = style;
    rep->role = SG_ROLE_DRUMS;
  }
  return finish(c, 1, rep);
}

sg_status sg_compose_drums(const sg_song *song, const sg_timeline *tl, sg_note_list *out,
                           sg_compose_report *rep, sg_diag *d) {
  sg_status st = check_args(song, tl, out, d);
  if (st != SG_OK)
    return st;
  sg_notes_clear(out);
  if (rep)
    memset(rep, 0, sizeof *rep);
  sg_style style;
  st = resolve_style(song, &song->drums.style, &style, d);
  if (st != SG_OK)
    return st;
  sg__ctx *c = ctx_new(song, tl, out, d, &st);
  if (!c)
    return st;
  st = compose_drums_common(c, style, &song->drums.pattern, song->drums.fills, "drums", rep, d);
  ctx_free(c);
  return st;
}

sg_status sg_compose_stem(const sg_song *song, const sg_timeline *tl, int stem_index,
                          sg_note_list *out, sg_compose_report *rep, sg_diag *d) {
  sg_status st = check_args(song, tl, out, d);
  if (st != SG_OK)
    return st;
  if (stem_index < 0 || stem_index >= song->n_stems)
    return sg_diag_fail(d, SG_E_INVAL, "compose: stem index %d out of range", stem_index);
  const sg_stem_spec *stem = &song->stems[stem_index];
  sg_diag_where(d, "compose", stem->name.s, NULL);
  sg_notes_clear(out);
  if (rep)
    memset(rep, 0, sizeof *rep);
  sg_role role = SG_ROLE_COMP;
  if (stem->role.s[0] && sg_role_from_name(stem->role.s, &role) != SG_OK) {
    sg_diag_at(d, song->path, stem->role.pos.line, stem->role.pos.col);
    return sg_diag_fail(d, SG_E_SPEC, "unknown role '%s' (comp, pad, arp, lead, bass, drums)",
                        stem->role.s);
  }
  if (!stem->role.s[0]) {
    if (ieq(stem->instrument.s, "moog_bass"))
      role = SG_ROLE_BASS;
    else if (ieq(stem->instrument.s, "prophet_poly"))
      role = SG_ROLE_PAD;
    else if (ieq(stem->instrument.s, "drums"))
      role = SG_ROLE_DRUMS;
  }
  sg_style style;
  st = resolve_style(song, &stem->style, &style, d);
  if (st != SG_OK)
    return st;
  sg__ctx *c = ctx_new(song, tl, out, d, &st);
  if (!c)
    return st;
  c->stem = stem;
  c->style = style;
  c->role = role;
  c->octave = stem->octave;
  c->is_guitar = ieq(stem->instrument.s, "guitar");
  c->seed = song->seed + sg_hash64(stem->name.s);
  sg_rng_seed(&c->rng, c->seed, 0x636f6d706f7365ULL);
  if (rep) {
    rep->style = style;
    rep->role = role;
  }

  if (stem->midi_file[0]) {
    char path[SG_MAX_PATH];
    sg_song_resolve_path(song, stem->midi_file, path, sizeof path);
    st = sg_midi_read(path, tl, SG_MIDI_MAP_GRID, out, NULL, d);
    if (st == SG_OK) {
      if (rep)
        rep->from_midi = 1;
      st = finish(c, 0, rep);
    }
    ctx_free(c);
    return st;
  }
  if (role == SG_ROLE_DRUMS) {
    st = compose_drums_common(c, style, &stem->pattern, 0, stem->name.s, rep, d);
    ctx_free(c);
    return st;
  }
  if (stem->pattern.s[0]) {
    st = sg_pattern_parse(stem->pattern.s, value_col0(stem->pattern.pos, 1), &c->user, d);
    if (st != SG_OK) {
      st = to_spec(song, d, stem->pattern.pos, 1, st);
      ctx_free(c);
      return st;
    }
    c->has_user = 1;
  }
  if (stem->melody.s[0]) { /* a written line: the lead plays it note for note */
    c->melody = malloc(sizeof *c->melody);
    st = c->melody ? sg_melody_parse(stem->melody.s, value_col0(stem->melody.pos, 1), c->melody, d)
                   : sg_diag_fail(d, SG_E_NOMEM, "out of memory");
    if (st != SG_OK) {
      st = to_spec(song, d, stem->melody.pos, 1, st);
      ctx_free(c);
      return st;
    }
    role = SG_ROLE_LEAD;
  }
  switch (role) {
  case SG_ROLE_PAD:
    c->role_fn = sg__role_pad;
    break;
  case SG_ROLE_ARP:
    c->role_fn = sg__role_arp;
    break;
  case SG_ROLE_LEAD:
    c->role_fn = sg__role_lead;
    break;
  case SG_ROLE_BASS:
    c->role_fn = sg__role_bass;
    break;
  case SG_ROLE_COMP:
  default:
    c->role_fn = sg__role_comp;
    break;
  }
  st = run_bars(c, d);
  if (st == SG_OK)
    st = finish(c, 1, rep);
  ctx_free(c);
  return st;
}
