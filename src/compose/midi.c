/* Standard MIDI Files (SMF 1.0, MMA 1996): a format-1 writer and a bounds-checked reader.
 *
 * Writing: frames -> ticks is the exact inverse of the timeline's rational frame formula,
 *     tick = round((frame - origin) * PPQ * tempo_num / (60 * rate * tempo_den)),
 * per constant tempo segment, computed in 128-bit integers, so a note written and read back
 * through the same grid lands on its original frame to within half a tick; inside a tempo ramp
 * the ramp's closed-form inverse (sg_timeline_ticks_at) and one tempo event per sixteenth. Reading
 * never trusts a length: every chunk, variable -length quantity and event is checked against the
 * bytes that remain. */
#include "core/sort.h"
#include "stemgate/compose.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef __int128 sg_i128;

/* ---- byte buffer ----------------------------------------------------------------------------- */

typedef struct bbuf {
  uint8_t *p;
  size_t n, cap;
  int oom;
} bbuf;

static void put(bbuf *b, const void *src, size_t n) {
  if (b->oom)
    return;
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->n + n)
      cap *= 2;
    uint8_t *q = realloc(b->p, cap);
    if (!q) {
      b->oom = 1;
      return;
    }
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, src, n);
  b->n += n;
}

static void put8(bbuf *b, unsigned v) {
  uint8_t x = (uint8_t)v;
  put(b, &x, 1);
}

static void put_be(bbuf *b, uint32_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    put8(b, (v >> (8 * i)) & 0xff);
}

static void put_var(bbuf *b, uint32_t v) {
  uint8_t tmp[5];
  int n = 0;
  tmp[n++] = v & 0x7f;
  while ((v >>= 7) && n < 5)
    tmp[n++] = (uint8_t)(0x80 | (v & 0x7f));
  while (n)
    put8(b, tmp[--n]);
}

static void put_meta_text(bbuf *b, uint32_t delta, int type, const char *s) {
  size_t len = s ? strlen(s) : 0;
  if (len > 127)
    len = 127;
  put_var(b, delta);
  put8(b, 0xFF);
  put8(b, (unsigned)type);
  put_var(b, (uint32_t)len);
  put(b, s, len);
}

/* ---- frames <-> ticks ------------------------------------------------------------------------ */

static int64_t div_round(sg_i128 num, sg_i128 den) {
  if (num >= 0)
    return (int64_t)((num + den / 2) / den);
  return -(int64_t)((-num + den / 2) / den);
}

/* Where the grid sits in the file. Tick 0 is the audio's frame 0: when the grid starts later
 * (a reference's first downbeat at 120 ms), that stretch is a lead-in of whole bars in the
 * song's meter with a tempo of its own, so every tick after it is the grid's tick plus
 * lead_ticks and a DAW plays the notes at the audio's times without any shift. */
typedef struct geom {
  int64_t grid0;      /* frame of grid tick 0 */
  int64_t lead_ticks; /* 0: no lead-in */
  uint32_t lead_us;   /* microseconds per quarter in the lead-in */
  int64_t bar_ticks;
} geom;

static geom geometry(const sg_timeline *tl) {
  geom g = {0, 0, 0, 0};
  int num = tl->meter_num > 0 ? tl->meter_num : 4, den = tl->meter_den > 0 ? tl->meter_den : 4;
  g.bar_ticks = (int64_t)num * 4 * SG_MIDI_PPQ / den;
  if (g.bar_ticks <= 0 || ((int64_t)num * 4 * SG_MIDI_PPQ) % den)
    g.bar_ticks = 4 * SG_MIDI_PPQ;
  g.grid0 =
      tl->quarter_frames && tl->n_quarter_frames >= 2 ? tl->quarter_frames[0] : tl->origin_frame;
  if (g.grid0 <= 0 || tl->rate == 0)
    return g;
  double us = (double)g.grid0 * 1e6 / tl->rate;
  int64_t bars = 1;
  while (us * SG_MIDI_PPQ / (double)(bars * g.bar_ticks) > 0xFFFFFF)
    ++bars;
  g.lead_ticks = bars * g.bar_ticks;
  g.lead_us = (uint32_t)llround(us * SG_MIDI_PPQ / (double)g.lead_ticks);
  if (g.lead_us < 1)
    g.lead_us = 1;
  return g;
}

static int64_t frame_to_tick(const sg_timeline *tl, const geom *g, int64_t frame) {
  if (g->lead_ticks && frame < g->grid0) {
    int64_t t = div_round((sg_i128)(frame < 0 ? 0 : frame) * g->lead_ticks, g->grid0);
    return t;
  }
  /* The grid's own inverse: exact where the tempo is constant or measured quarter by quarter,
   * the ramp's inverse inside one. */
  int64_t t = sg_timeline_ticks_at(tl, frame, SG_MIDI_PPQ);
  return g->lead_ticks + (t < 0 ? 0 : t);
}

/* ---- writer ---------------------------------------------------------------------------------- */

typedef struct mev { /* 16 bytes: an hour's track holds ~90000 */
  int64_t tick;
  uint8_t on; /* 1 note on, 0 note off */
  uint8_t key, vel;
} mev;

/* Stable (sg__stable_sort): equal events keep the notes' order, as glibc's qsort kept them. */
static int mev_less(const void *a, const void *b) {
  const mev *x = a, *y = b;
  if (x->tick != y->tick)
    return x->tick < y->tick;
  if (x->on != y->on)
    return x->on < y->on; /* offs first, so a repeated note re-attacks cleanly */
  return x->key < y->key;
}

static uint32_t clamp_delta(int64_t d) {
  if (d < 0)
    return 0;
  if (d > 0x0FFFFFFF)
    return 0x0FFFFFFF;
  return (uint32_t)d;
}

/* Conductor events are gathered, then written in tick order (file order within a tick). */
typedef struct cev {
  int64_t tick;
  size_t seq;
  int type;
  uint8_t data[128];
  size_t len;
} cev;

typedef struct clist {
  cev *v;
  size_t n, cap;
  int oom;
} clist;

static void cput(clist *c, int64_t tick, int type, const void *data, size_t len) {
  if (c->oom)
    return;
  if (c->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 64;
    cev *q = realloc(c->v, cap * sizeof *q);
    if (!q) {
      c->oom = 1;
      return;
    }
    c->v = q;
    c->cap = cap;
  }
  cev *e = &c->v[c->n];
  e->tick = tick;
  e->seq = c->n++;
  e->type = type;
  e->len = len > sizeof e->data ? sizeof e->data : len;
  if (e->len)
    memcpy(e->data, data, e->len);
}

static void cput_tempo(clist *c, int64_t tick, double us) {
  uint32_t v = (uint32_t)(us < 1 ? 1 : us > 0xFFFFFF ? 0xFFFFFF : llround(us));
  uint8_t b[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
  cput(c, tick, 0x51, b, 3);
}

static void cput_text(clist *c, int64_t tick, int type, const char *s) {
  cput(c, tick, type, s ? s : "", s ? strlen(s) : 0);
}

static int cmp_cev(const void *a, const void *b) {
  const cev *x = a, *y = b;
  if (x->tick != y->tick)
    return x->tick < y->tick ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int key_is_plain(const sg_key *k) {
  return k->mode == SG_MODE_MAJOR || k->mode == SG_MODE_MINOR || k->mode == SG_MODE_HARMONIC_MINOR;
}

/* The spec's tempo map: one event per constant stretch; along a ramp one per sixteenth, each
 * the exact length of that sixteenth in the audio (frames of the grid), so a DAW's grid, which
 * holds the tempo constant between events, meets every sixteenth of the ramp on its frame. */
static void spec_tempo_map(clist *c, const sg_timeline *tl, const geom *g) {
  int64_t bq = g->bar_ticks; /* ticks per bar */
  for (int k = 0; k < tl->n_tempo && k < SG_MAX_TEMPO_SEGMENTS; ++k) {
    const sg_tempo_segment *s = &tl->tempo[k];
    int64_t t0 = s->start_bar * bq;
    if (!s->ramp_bars) {
      cput_tempo(c, g->lead_ticks + t0, 60e6 * (double)s->tempo_den / (double)s->tempo_num);
      continue;
    }
    const int64_t step = SG_MIDI_PPQ / 4, q = 4; /* a sixteenth, in ticks and per quarter */
    for (int64_t t = t0; t < t0 + s->ramp_bars * bq; t += step) {
      int64_t k16 = t / step;
      int64_t f0 = sg_timeline_frame_at(tl, k16, q), f1 = sg_timeline_frame_at(tl, k16 + 1, q);
      cput_tempo(c, g->lead_ticks + t, (double)(f1 - f0) * 1e6 * q / tl->rate);
    }
  }
}

/* Track 0: title, time signature, tempo (lead-in, then the song's tempo or one event per
 * measured quarter), a marker at every section start and a key signature wherever the key
 * changes. MIDI key signatures know only major and minor: a mode is written as its parent
 * major scale's signature (the notes a DAW should spell) with mi = 0, and a text event at the
 * same tick names the mode and its tonic ("key: D dorian"). */
static void conductor(bbuf *t0, const sg_timeline *tl, const geom *g, const char *title,
                      const sg_key *keys) {
  clist c = {0};
  cput_text(&c, 0, 0x03, title ? title : "");
  int dd = 0;
  for (int den = tl->meter_den > 0 ? tl->meter_den : 4; den > 1; den >>= 1)
    ++dd;
  uint8_t ts[4] = {(uint8_t)(tl->meter_num > 0 ? tl->meter_num : 4), (uint8_t)dd, 24, 8};
  cput(&c, 0, 0x58, ts, 4);
  if (g->lead_ticks) {
    cput_text(&c, 0, 0x06, "lead-in");
    cput_tempo(&c, 0, g->lead_us);
  }
  if (tl->quarter_frames && tl->n_quarter_frames >= 2) {
    for (size_t i = 0; i + 1 < tl->n_quarter_frames; ++i)
      cput_tempo(&c, g->lead_ticks + (int64_t)i * SG_MIDI_PPQ,
                 (double)(tl->quarter_frames[i + 1] - tl->quarter_frames[i]) * 1e6 / tl->rate);
  } else {
    spec_tempo_map(&c, tl, g);
  }
  int n_sec = tl->n_sections > 0 ? tl->n_sections : (keys ? 1 : 0);
  int prev_sf = 99, prev_mi = -1, prev_mode = -1;
  for (int i = 0; i < n_sec; ++i) {
    int64_t tick =
        g->lead_ticks + (tl->n_sections > 0 ? tl->sections[i].start_bar : 0) * g->bar_ticks;
    if (tl->n_sections > 0)
      cput_text(&c, tick, 0x06, tl->sections[i].name);
    if (!keys)
      continue;
    const sg_key *k = &keys[i];
    int sf = sg_key_signature(k);
    int mi = k->mode == SG_MODE_MINOR || k->mode == SG_MODE_HARMONIC_MINOR;
    if (sf < -7 || sf > 7)
      continue; /* a theoretical key (G# major) has no MIDI signature */
    if (sf == prev_sf && mi == prev_mi && (int)k->mode == prev_mode)
      continue;
    uint8_t ks[2] = {(uint8_t)(sf & 0xff), (uint8_t)mi};
    cput(&c, tick, 0x59, ks, 2);
    if (!key_is_plain(k)) {
      char name[64], text[80];
      snprintf(text, sizeof text, "key: %s", sg_key_name(k, name, sizeof name));
      cput_text(&c, tick, 0x01, text);
    }
    prev_sf = sf;
    prev_mi = mi;
    prev_mode = (int)k->mode;
  }
  if (c.oom) {
    t0->oom = 1;
    free(c.v);
    return;
  }
  qsort(c.v, c.n, sizeof *c.v, cmp_cev);
  int64_t last = 0;
  for (size_t i = 0; i < c.n; ++i) {
    put_var(t0, clamp_delta(c.v[i].tick - last));
    last = c.v[i].tick;
    put8(t0, 0xFF);
    put8(t0, (unsigned)c.v[i].type);
    put_var(t0, (uint32_t)c.v[i].len);
    put(t0, c.v[i].data, c.v[i].len);
  }
  put_var(t0, 0);
  put8(t0, 0xFF);
  put8(t0, 0x2F);
  put8(t0, 0);
  free(c.v);
}

static sg_status note_track(bbuf *t1, const sg_midi_track *tr, const sg_timeline *tl, const geom *g,
                            sg_diag *d) {
  const sg_note_list *notes = tr->notes;
  mev *ev = NULL;
  size_t nn = notes ? notes->n : 0;
  if (nn) {
    if (nn > SIZE_MAX / (2 * sizeof *ev))
      return sg_diag_fail(d, SG_E_NOMEM, "midi: too many notes");
    ev = malloc(2 * nn * sizeof *ev);
    if (!ev)
      return sg_diag_fail(d, SG_E_NOMEM, "midi: out of memory");
  }
  size_t ne = 0;
  for (size_t i = 0; i < nn; ++i) {
    const sg_note *n = &notes->v[i];
    if (n->key < 0 || n->key > 127)
      continue;
    int64_t on = frame_to_tick(tl, g, n->start);
    int64_t off = frame_to_tick(tl, g, n->start + (n->length > 0 ? n->length : 1));
    if (off <= on)
      off = on + 1;
    int vel = (int)lround(n->velocity * 127.0);
    vel = vel < 1 ? 1 : vel > 127 ? 127 : vel;
    ev[ne++] = (mev){on, 1, (uint8_t)n->key, (uint8_t)vel};
    ev[ne++] = (mev){off, 0, (uint8_t)n->key, 0};
  }
  sg__stable_sort(ev, ne, sizeof *ev, mev_less);
  put_meta_text(t1, 0, 0x03, tr->name ? tr->name : "");
  if (tr->program >= 0 && tr->program <= 127 && tr->channel != 9) {
    put_var(t1, 0);
    put8(t1, (unsigned)(0xC0 | tr->channel));
    put8(t1, (unsigned)tr->program);
  }
  int64_t last = 0;
  for (size_t i = 0; i < ne; ++i) {
    put_var(t1, clamp_delta(ev[i].tick - last));
    last = ev[i].tick;
    put8(t1, (unsigned)((ev[i].on ? 0x90 : 0x80) | tr->channel));
    put8(t1, (unsigned)ev[i].key);
    put8(t1, (unsigned)(ev[i].on ? ev[i].vel : 64));
  }
  put_var(t1, 0);
  put8(t1, 0xFF);
  put8(t1, 0x2F);
  put8(t1, 0);
  free(ev);
  return SG_OK;
}

static void put_chunk(bbuf *b, const bbuf *t) {
  put(b, "MTrk", 4);
  put_be(b, (uint32_t)t->n, 4);
  put(b, t->p, t->n);
}

sg_status sg_midi_encode_song(const sg_timeline *tl, const char *title, const sg_key *section_keys,
                              const sg_midi_track *tracks, int n_tracks, uint8_t **buf, size_t *len,
                              sg_diag *d) {
  if (!tl || !buf || !len || n_tracks < 0 || n_tracks > 64 || (n_tracks && !tracks) ||
      tl->rate == 0 || tl->tempo_num <= 0 || tl->tempo_den <= 0)
    return sg_diag_fail(d, SG_E_INVAL, "midi: bad arguments");
  for (int i = 0; i < n_tracks; ++i)
    if (tracks[i].channel < 0 || tracks[i].channel > 15)
      return sg_diag_fail(d, SG_E_INVAL, "midi: track %d has channel %d (0-15)", i,
                          tracks[i].channel);
  *buf = NULL;
  *len = 0;
  geom g = geometry(tl);
  bbuf b = {0}, t = {0};
  put(&b, "MThd", 4);
  put_be(&b, 6, 4);
  put_be(&b, 1, 2);
  put_be(&b, (uint32_t)(n_tracks + 1), 2);
  put_be(&b, SG_MIDI_PPQ, 2);
  conductor(&t, tl, &g, title, section_keys);
  put_chunk(&b, &t);
  sg_status st = SG_OK;
  for (int i = 0; i < n_tracks && st == SG_OK && !t.oom; ++i) {
    t.n = 0;
    if ((st = note_track(&t, &tracks[i], tl, &g, d)) == SG_OK)
      put_chunk(&b, &t);
  }
  int oom = b.oom || t.oom;
  free(t.p);
  if (st != SG_OK || oom) {
    free(b.p);
    return st != SG_OK ? st : sg_diag_fail(d, SG_E_NOMEM, "midi: out of memory");
  }
  *buf = b.p;
  *len = b.n;
  return SG_OK;
}

static sg_status write_bytes(const char *path, uint8_t *buf, size_t len, sg_diag *d) {
  FILE *f = fopen(path, "wb");
  if (!f) {
    free(buf);
    sg_diag_at(d, path, 0, 0);
    return sg_diag_fail(d, SG_E_IO, "cannot create MIDI file '%s': %s", path, strerror(errno));
  }
  size_t w = fwrite(buf, 1, len, f);
  int err = w != len ? errno : 0; /* what the failed write said (fclose may change errno) */
  int cl = fclose(f);
  if (!err && cl != 0)
    err = errno;
  free(buf);
  if (w != len || cl != 0) {
    remove(path); /* never leave a half-written file that looks complete */
    sg_diag_at(d, path, 0, 0);
    return sg_diag_fail(d, SG_E_IO, "cannot write MIDI file '%s': %s", path,
                        strerror(err ? err : EIO));
  }
  return SG_OK;
}

sg_status sg_midi_write_song(const char *path, const sg_timeline *tl, const char *title,
                             const sg_key *section_keys, const sg_midi_track *tracks, int n_tracks,
                             sg_diag *d) {
  if (!path)
    return sg_diag_fail(d, SG_E_INVAL, "midi: no path");
  uint8_t *buf;
  size_t len;
  sg_status st = sg_midi_encode_song(tl, title, section_keys, tracks, n_tracks, &buf, &len, d);
  return st == SG_OK ? write_bytes(path, buf, len, d) : st;
}

sg_status sg_midi_encode(const sg_note_list *notes, const sg_timeline *tl, const char *title,
                         const char *track_name, int channel, const sg_key *key, uint8_t **buf,
                         size_t *len, sg_diag *d) {
  if (!notes || !tl)
    return sg_diag_fail(d, SG_E_INVAL, "midi: bad arguments");
  sg_midi_track tr = {notes, track_name, channel, -1};
  sg_key keys[SG_MAX_SECTIONS];
  if (key)
    for (int i = 0; i < SG_MAX_SECTIONS; ++i)
      keys[i] = *key;
  return sg_midi_encode_song(tl, title, key ? keys : NULL, &tr, 1, buf, len, d);
}

sg_status sg_midi_write(const char *path, const sg_note_list *notes, const sg_timeline *tl,
                        const char *title, const char *track_name, int channel, const sg_key *key,
                        sg_diag *d) {
  if (!path)
    return sg_diag_fail(d, SG_E_INVAL, "midi: no path");
  uint8_t *buf;
  size_t len;
  sg_status st = sg_midi_encode(notes, tl, title, track_name, channel, key, &buf, &len, d);
  return st == SG_OK ? write_bytes(path, buf, len, d) : st;
}

/* ---- reader ---------------------------------------------------------------------------------- */

typedef struct rd {
  const uint8_t *p;
  size_t n, i;
} rd;

static int rd_u8(rd *r, unsigned *v) {
  if (r->i >= r->n)
    return 0;
  *v = r->p[r->i++];
  return 1;
}

static int rd_be(rd *r, int bytes, uint32_t *v) {
  if (r->n - r->i < (size_t)bytes)
    return 0;
  uint32_t x = 0;
  for (int k = 0; k < bytes; ++k)
    x = (x << 8) | r->p[r->i++];
  *v = x;
  return 1;
}

/* Variable-length quantity: at most 4 bytes (28 bits) per the standard. */
static int rd_var(rd *r, uint32_t *v) {
  uint32_t x = 0;
  for (int k = 0; k < 4; ++k) {
    unsigned b;
    if (!rd_u8(r, &b))
      return 0;
    x = (x << 7) | (b & 0x7f);
    if (!(b & 0x80)) {
      *v = x;
      return 1;
    }
  }
  return 0;
}

typedef struct tnote {
  int64_t on, off;
  int key, vel;
} tnote;

typedef struct ttempo {
  int64_t tick;
  uint32_t us;
} ttempo;

typedef struct parse_state {
  tnote *notes;
  size_t n, cap;
  ttempo *tempos;
  size_t nt, tcap;
  /* pending note-ons per channel and key, first-in first-out */
  int64_t pend_tick[16][128][4];
  int pend_vel[16][128][4];
  int pend_n[16][128];
  int track;           /* MTrk index being read */
  int lead_marker;     /* a "lead-in" marker at tick 0 (this writer's lead-in) */
  int64_t first_tempo; /* tick of the first set-tempo after tick 0, -1 when none */
  sg_midi_event *ev;   /* meta events and program changes, when listed */
  size_t nev, evcap;
  int list;
} parse_state;

static int push_event(parse_state *s, int64_t tick, int kind, int channel, const uint8_t *m,
                      size_t len) {
  if (!s->list)
    return 0;
  if (s->nev >= 1000000)
    return -1;
  if (s->nev == s->evcap) {
    size_t cap = s->evcap ? s->evcap * 2 : 64;
    sg_midi_event *q = realloc(s->ev, cap * sizeof *q);
    if (!q)
      return -2;
    s->ev = q;
    s->evcap = cap;
  }
  sg_midi_event *e = &s->ev[s->nev++];
  memset(e, 0, sizeof *e);
  e->track = s->track;
  e->tick = tick;
  e->kind = kind;
  e->channel = channel;
  e->len = len < sizeof e->data - 1 ? len : sizeof e->data - 1;
  if (e->len)
    memcpy(e->data, m, e->len);
  return 0;
}

static int push_note(parse_state *s, int64_t on, int64_t off, int key, int vel) {
  if (s->n >= SG_MIDI_MAX_NOTES)
    return -1;
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 256;
    tnote *q = realloc(s->notes, cap * sizeof *q);
    if (!q)
      return -2;
    s->notes = q;
    s->cap = cap;
  }
  s->notes[s->n++] = (tnote){on, off > on ? off : on + 1, key, vel};
  return 0;
}

static int push_tempo(parse_state *s, int64_t tick, uint32_t us) {
  if (s->nt >= 100000)
    return -1;
  if (s->nt == s->tcap) {
    size_t cap = s->tcap ? s->tcap * 2 : 16;
    ttempo *q = realloc(s->tempos, cap * sizeof *q);
    if (!q)
      return -2;
    s->tempos = q;
    s->tcap = cap;
  }
  s->tempos[s->nt++] = (ttempo){tick, us ? us : 1};
  return 0;
}

static sg_status bad(sg_diag *d, size_t at, const char *what) {
  return sg_diag_fail(d, SG_E_FORMAT, "malformed MIDI file: %s at byte %zu", what, at);
}

static sg_status note_off(parse_state *s, int ch, int key, int64_t tick, sg_diag *d) {
  int n = s->pend_n[ch][key];
  if (!n)
    return SG_OK; /* stray note-off: ignore, as sequencers do */
  int64_t on = s->pend_tick[ch][key][0];
  int vel = s->pend_vel[ch][key][0];
  for (int k = 1; k < n; ++k) {
    s->pend_tick[ch][key][k - 1] = s->pend_tick[ch][key][k];
    s->pend_vel[ch][key][k - 1] = s->pend_vel[ch][key][k];
  }
  s->pend_n[ch][key] = n - 1;
  int r = push_note(s, on, tick, key, vel);
  if (r == -1)
    return sg_diag_fail(d, SG_E_LIMIT, "MIDI file has more than %d notes", SG_MIDI_MAX_NOTES);
  if (r == -2)
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory reading MIDI");
  return SG_OK;
}

static sg_status parse_track(parse_state *s, rd *r, size_t base, sg_midi_info *info, sg_diag *d) {
  int64_t tick = 0;
  unsigned running = 0;
  while (r->i < r->n) {
    uint32_t delta;
    if (!rd_var(r, &delta))
      return bad(d, base + r->i, "bad or truncated delta time");
    tick += delta;
    if (tick > ((int64_t)1 << 40))
      return bad(d, base + r->i, "track longer than 2^40 ticks");
    unsigned st;
    if (!rd_u8(r, &st))
      return bad(d, base + r->i, "truncated event");
    if (st < 0x80) {
      if (!running)
        return bad(d, base + r->i - 1, "data byte without a running status");
      r->i--; /* the byte is data: reuse the running status */
      st = running;
    }
    if (st == 0xFF) {
      unsigned type;
      uint32_t len;
      if (!rd_u8(r, &type) || !rd_var(r, &len))
        return bad(d, base + r->i, "truncated meta event");
      if (len > r->n - r->i)
        return bad(d, base + r->i, "meta event longer than its track");
      const uint8_t *m = r->p + r->i;
      if (type == 0x06 && tick == 0 && len == 7 && !memcmp(m, "lead-in", 7))
        s->lead_marker = 1;
      if (type == 0x51 && tick > 0 && (s->first_tempo < 0 || tick < s->first_tempo))
        s->first_tempo = tick;
      if (type != 0x2F) {
        int e = push_event(s, tick, (int)type, -1, m, len);
        if (e == -1)
          return sg_diag_fail(d, SG_E_LIMIT, "too many meta events in MIDI file");
        if (e == -2)
          return sg_diag_fail(d, SG_E_NOMEM, "out of memory reading MIDI");
      }
      if (type == 0x51 && len >= 3) {
        uint32_t us = ((uint32_t)m[0] << 16) | ((uint32_t)m[1] << 8) | m[2];
        if (push_tempo(s, tick, us) != 0)
          return sg_diag_fail(d, SG_E_LIMIT, "too many tempo events in MIDI file");
        if (info && info->n_tempo_events++ == 0)
          info->first_bpm = 60e6 / (us ? us : 1);
      } else if (type == 0x58 && len >= 2 && info && info->meter_num == 0) {
        info->meter_num = m[0];
        info->meter_den = m[1] < 8 ? 1 << m[1] : 0;
      } else if (type == 0x03 && info && !info->track_name[0]) {
        size_t k = len < sizeof info->track_name - 1 ? len : sizeof info->track_name - 1;
        memcpy(info->track_name, m, k);
        info->track_name[k] = 0;
      }
      r->i += len;
      running = 0; /* meta events cancel running status (SMF 1.0) */
      if (type == 0x2F)
        break;
      continue;
    }
    if (st == 0xF0 || st == 0xF7) {
      uint32_t len;
      if (!rd_var(r, &len) || len > r->n - r->i)
        return bad(d, base + r->i, "truncated system-exclusive event");
      r->i += len;
      running = 0;
      continue;
    }
    if (st >= 0xF1) {
      return bad(d, base + r->i - 1, "system message not allowed in a MIDI file");
    }
    running = st;
    unsigned kind = st & 0xF0, ch = st & 0x0F, a = 0, b = 0;
    int two = !(kind == 0xC0 || kind == 0xD0);
    if (!rd_u8(r, &a) || (two && !rd_u8(r, &b)))
      return bad(d, base + r->i, "truncated channel event");
    if (a > 127 || b > 127)
      return bad(d, base + r->i - 1, "data byte above 127");
    if (kind == 0xC0) {
      uint8_t pg = (uint8_t)a;
      int e = push_event(s, tick, 0xC0, (int)ch, &pg, 1);
      if (e == -1)
        return sg_diag_fail(d, SG_E_LIMIT, "too many events in MIDI file");
      if (e == -2)
        return sg_diag_fail(d, SG_E_NOMEM, "out of memory reading MIDI");
    }
    if (kind == 0x90 && b > 0) {
      int n = s->pend_n[ch][a];
      if (n == 4) { /* too many overlapping copies: end the oldest here */
        sg_status e = note_off(s, (int)ch, (int)a, tick, d);
        if (e != SG_OK)
          return e;
        n = s->pend_n[ch][a];
      }
      s->pend_tick[ch][a][n] = tick;
      s->pend_vel[ch][a][n] = (int)b;
      s->pend_n[ch][a] = n + 1;
    } else if (kind == 0x80 || kind == 0x90) {
      sg_status e = note_off(s, (int)ch, (int)a, tick, d);
      if (e != SG_OK)
        return e;
    }
  }
  /* Notes still sounding end with the track. */
  for (int ch = 0; ch < 16; ++ch)
    for (int k = 0; k < 128; ++k)
      while (s->pend_n[ch][k]) {
        sg_status e = note_off(s, ch, k, tick, d);
        if (e != SG_OK)
          return e;
      }
  return SG_OK;
}

static int cmp_tempo(const void *a, const void *b) {
  const ttempo *x = a, *y = b;
  return x->tick < y->tick ? -1 : x->tick > y->tick;
}

/* Seconds at a tick through the file's tempo map (120 BPM before the first event). */
static double tick_seconds(const parse_state *s, int64_t tick, int division) {
  double sec = 0;
  int64_t at = 0;
  double us = 500000.0;
  for (size_t i = 0; i < s->nt && s->tempos[i].tick < tick; ++i) {
    sec += (double)(s->tempos[i].tick - at) * us * 1e-6 / division;
    at = s->tempos[i].tick;
    us = s->tempos[i].us;
  }
  return sec + (double)(tick - at) * us * 1e-6 / division;
}

static sg_status decode(const uint8_t *buf, size_t len, const sg_timeline *tl, sg_midi_map map,
                        sg_note_list *out, sg_midi_info *info, sg_midi_event **events,
                        size_t *n_events, sg_diag *d) {
  if (len > SG_MIDI_MAX_BYTES)
    return sg_diag_fail(d, SG_E_LIMIT, "MIDI file larger than %u bytes", SG_MIDI_MAX_BYTES);
  sg_midi_info tmp;
  if (!info)
    info = &tmp;
  memset(info, 0, sizeof *info);
  rd r = {buf, len, 0};
  uint32_t hlen = 0, fmt = 0, ntr = 0, div = 0;
  if (len < 14 || memcmp(buf, "MThd", 4) != 0)
    return bad(d, 0, "no MThd header");
  r.i = 4;
  if (!rd_be(&r, 4, &hlen) || hlen < 6 || hlen > len - 8)
    return bad(d, 4, "bad header length");
  rd_be(&r, 2, &fmt);
  rd_be(&r, 2, &ntr);
  rd_be(&r, 2, &div);
  r.i = 8 + hlen;
  if (fmt > 1)
    return sg_diag_fail(d, SG_E_UNSUPPORTED, "MIDI format %u is not supported (0 or 1)", fmt);
  if (div & 0x8000)
    return sg_diag_fail(d, SG_E_UNSUPPORTED, "SMPTE time division is not supported");
  if (div == 0)
    return bad(d, 12, "division of zero ticks per quarter");
  info->format = (int)fmt;
  info->division = (int)div;
  info->first_bpm = 120.0;
  parse_state *s = calloc(1, sizeof *s);
  if (!s)
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory reading MIDI");
  s->first_tempo = -1;
  s->list = events != NULL;
  sg_status st = SG_OK;
  int tracks = 0;
  while (r.i < len && st == SG_OK) {
    if (len - r.i < 8) {
      st = bad(d, r.i, "truncated chunk header");
      break;
    }
    const uint8_t *id = buf + r.i;
    r.i += 4;
    uint32_t clen = 0;
    rd_be(&r, 4, &clen);
    if (clen > len - r.i) {
      st = bad(d, r.i - 4, "chunk longer than the file");
      break;
    }
    if (memcmp(id, "MTrk", 4) == 0) {
      rd tr = {buf + r.i, clen, 0};
      s->track = tracks;
      st = parse_track(s, &tr, r.i, info, d);
      ++tracks;
    }
    r.i += clen;
  }
  if (st == SG_OK && tracks == 0)
    st = bad(d, 14, "no MTrk chunk");
  if (st == SG_OK) {
    info->n_tracks = tracks;
    if (!info->meter_num) {
      info->meter_num = 4;
      info->meter_den = 4;
    }
    if (s->nt > 1)
      qsort(s->tempos, s->nt, sizeof *s->tempos, cmp_tempo);
    int64_t lead = s->lead_marker && s->first_tempo > 0 ? s->first_tempo : 0;
    info->lead_ticks = lead;
    for (size_t i = 0; i < s->n && st == SG_OK && out; ++i) {
      sg_note n;
      memset(&n, 0, sizeof n);
      int64_t f0, f1;
      /* A file with a lead-in starts at the audio's frame 0; one without starts at the grid. */
      int64_t at0 = lead ? 0 : tl->origin_frame;
      if (map == SG_MIDI_MAP_FILE_TEMPO || s->notes[i].on < lead) {
        f0 = at0 + (int64_t)llround(tick_seconds(s, s->notes[i].on, (int)div) * tl->rate);
        f1 = at0 + (int64_t)llround(tick_seconds(s, s->notes[i].off, (int)div) * tl->rate);
      } else {
        f0 = sg_timeline_frame_at(tl, s->notes[i].on - lead, div);
        f1 = sg_timeline_frame_at(tl, s->notes[i].off - lead, div);
      }
      n.start = f0;
      n.length = f1 > f0 ? f1 - f0 : 1;
      n.key = s->notes[i].key;
      n.velocity = (float)s->notes[i].vel / 127.0f;
      if ((st = sg_notes_push(out, &n)) != SG_OK)
        st = sg_diag_fail(d, st, "out of memory for the notes of a MIDI file (%zu notes)", s->n);
    }
    info->n_notes = s->n;
    if (out) {
      sg_notes_sort(out);
      sg_notes_trim(out);
    }
  }
  if (st == SG_OK && events) {
    *events = s->ev;
    *n_events = s->nev;
    s->ev = NULL;
  }
  free(s->ev);
  free(s->notes);
  free(s->tempos);
  free(s);
  return st;
}

sg_status sg_midi_decode(const uint8_t *buf, size_t len, const sg_timeline *tl, sg_midi_map map,
                         sg_note_list *out, sg_midi_info *info, sg_diag *d) {
  if (!buf || !tl || !out)
    return sg_diag_fail(d, SG_E_INVAL, "midi: bad arguments");
  return decode(buf, len, tl, map, out, info, NULL, NULL, d);
}

sg_status sg_midi_events(const uint8_t *buf, size_t len, sg_midi_event **events, size_t *n,
                         sg_midi_info *info, sg_diag *d) {
  if (!buf || !events || !n)
    return sg_diag_fail(d, SG_E_INVAL, "midi: bad arguments");
  *events = NULL;
  *n = 0;
  sg_timeline tl;
  memset(&tl, 0, sizeof tl);
  tl.rate = 48000;
  return decode(buf, len, &tl, SG_MIDI_MAP_FILE_TEMPO, NULL, info, events, n, d);
}

static sg_status slurp(const char *path, uint8_t **out, size_t *out_len, sg_diag *d) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    sg_diag_at(d, path, 0, 0);
    return sg_diag_fail(d, SG_E_IO, "cannot open MIDI file '%s': %s", path, strerror(errno));
  }
  uint8_t *buf = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (n == cap) {
      if (cap >= SG_MIDI_MAX_BYTES + 1) {
        free(buf);
        fclose(f);
        sg_diag_at(d, path, 0, 0);
        return sg_diag_fail(d, SG_E_LIMIT, "MIDI file '%s' is larger than %u bytes", path,
                            SG_MIDI_MAX_BYTES);
      }
      cap = cap ? cap * 2 : 65536;
      uint8_t *q = realloc(buf, cap);
      if (!q) {
        free(buf);
        fclose(f);
        return sg_diag_fail(d, SG_E_NOMEM, "out of memory reading '%s'", path);
      }
      buf = q;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0)
      break;
  }
  int err = ferror(f);
  fclose(f);
  if (err) {
    free(buf);
    sg_diag_at(d, path, 0, 0);
    return sg_diag_fail(d, SG_E_IO, "cannot read MIDI file '%s'", path);
  }
  *out = buf;
  *out_len = n;
  return SG_OK;
}

sg_status sg_midi_read(const char *path, const sg_timeline *tl, sg_midi_map map, sg_note_list *out,
                       sg_midi_info *info, sg_diag *d) {
  if (!path)
    return sg_diag_fail(d, SG_E_INVAL, "midi: no path");
  uint8_t *buf = NULL;
  size_t n = 0;
  sg_status st = slurp(path, &buf, &n, d);
  if (st != SG_OK)
    return st;
  st = sg_midi_decode(buf, n, tl, map, out, info, d);
  if (st != SG_OK)
    sg_diag_at(d, path, 0, 0);
  free(buf);
  return st;
}

/* ---- one song file from the stems' files ------------------------------------------------------
 */

/* Splits a file written by this writer (format 1, conductor + one note track) into its two
 * track chunks (header included). */
static int two_tracks(const uint8_t *b, size_t n, size_t *c0, size_t *l0, size_t *c1, size_t *l1) {
  if (n < 14 || memcmp(b, "MThd", 4) || b[8] != 0 || b[9] != 1 || b[10] != 0 || b[11] != 2)
    return 0;
  size_t at = 14;
  size_t *cs[2] = {c0, c1}, *ls[2] = {l0, l1};
  for (int k = 0; k < 2; ++k) {
    if (n - at < 8 || memcmp(b + at, "MTrk", 4))
      return 0;
    size_t cl = ((size_t)b[at + 4] << 24) | ((size_t)b[at + 5] << 16) | ((size_t)b[at + 6] << 8) |
                b[at + 7];
    if (cl > n - at - 8)
      return 0;
    *cs[k] = at;
    *ls[k] = cl + 8;
    at += cl + 8;
  }
  return 1;
}

sg_status sg_midi_merge(const char *const *paths, int n, const char *out, sg_diag *d) {
  if (!paths || n < 1 || n > 0xFFFE || !out)
    return sg_diag_fail(d, SG_E_INVAL, "midi merge: bad arguments");
  bbuf b = {0};
  uint8_t *first = NULL;
  size_t first_len = 0, c0 = 0, l0 = 0;
  sg_status st = SG_OK;
  for (int i = 0; i < n && st == SG_OK; ++i) {
    uint8_t *buf;
    size_t len, a0, al0, a1, al1;
    if ((st = slurp(paths[i], &buf, &len, d)) != SG_OK)
      break;
    if (!two_tracks(buf, len, &a0, &al0, &a1, &al1)) {
      free(buf);
      sg_diag_at(d, paths[i], 0, 0);
      st = sg_diag_fail(d, SG_E_FORMAT, "'%s' is not a stem MIDI file of this writer", paths[i]);
      break;
    }
    if (i == 0) {
      put(&b, buf, 10);
      put_be(&b, (uint32_t)(n + 1), 2);
      put(&b, buf + 12, 2);
      put(&b, buf + a0, al0);
      first = buf;
      first_len = len;
      c0 = a0;
      l0 = al0;
    } else if (al0 != l0 || memcmp(buf + a0, first + c0, l0)) {
      free(buf);
      sg_diag_at(d, paths[i], 0, 0);
      st = sg_diag_fail(d, SG_E_FORMAT, "'%s' has another conductor track than '%s'", paths[i],
                        paths[0]);
      break;
    }
    put(&b, buf + a1, al1);
    if (i)
      free(buf);
  }
  (void)first_len;
  free(first);
  if (st == SG_OK && b.oom)
    st = sg_diag_fail(d, SG_E_NOMEM, "midi merge: out of memory");
  if (st != SG_OK) {
    free(b.p);
    return st;
  }
  return write_bytes(out, b.p, b.n, d);
}
