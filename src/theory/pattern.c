/* Step patterns typed by producers ("x..x..x...x.x...") and per-lane drum patterns. The
 * syntax is documented in compose.h; every error names the character and its column. */
#include "stemgate/notes.h"
#include "stemgate/theory.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static sg_status perr(sg_diag *d, int col0, size_t i, const char *fmt, const char *what) {
  int col = col0 + (int)i + 1;
  sg_diag_at(d, NULL, d ? d->line : 0, col);
  return sg_diag_fail(d, SG_E_PARSE, fmt, what, col);
}

/* Parses steps of s[from, to) into p (resolution already set). */
static sg_status parse_steps(const char *s, size_t from, size_t to, int col0, sg_step_pattern *p,
                             sg_diag *d) {
  int last = -1; /* index of the hit that '-' extends */
  int held = 0;  /* '-' may only follow a hit or another '-' */
  for (size_t i = from; i < to; ++i) {
    char ch = s[i];
    if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '|')
      continue;
    if (p->n_steps >= SG_PATTERN_MAX_STEPS) {
      int col = col0 + (int)i + 1;
      sg_diag_at(d, NULL, d ? d->line : 0, col);
      return sg_diag_fail(d, SG_E_LIMIT, "pattern longer than %d steps at column %d",
                          SG_PATTERN_MAX_STEPS, col);
    }
    float vel = -1.0f;
    unsigned flags = 0;
    switch (ch) {
    case 'X':
      vel = 1.0f;
      flags = SG_NOTE_ACCENT;
      break;
    case 'x':
      vel = 0.78f;
      break;
    case 'o':
      vel = 0.35f;
      flags = SG_NOTE_GHOST;
      break;
    case '.':
      break;
    case '-':
      if (last < 0 || !held) {
        char w[2] = {ch, 0};
        return perr(d, col0, i, "'%s' at column %d holds a note, but no hit comes before it", w);
      }
      p->hits[last].len++;
      p->n_steps++;
      continue;
    default:
      if (ch >= '1' && ch <= '9') {
        vel = (float)(ch - '0') / 9.0f;
        if (ch == '9')
          flags = SG_NOTE_ACCENT;
        break;
      } else {
        char w[8];
        if ((unsigned char)ch < 32 || (unsigned char)ch >= 127)
          snprintf(w, sizeof w, "\\x%02x", (unsigned char)ch);
        else
          snprintf(w, sizeof w, "%c", ch);
        return perr(d, col0, i,
                    "unexpected '%s' in step pattern at column %d (allowed X x o 1-9 for hits, . "
                    "rest, - hold, spaces and |)",
                    w);
      }
    }
    if (vel >= 0) {
      sg_step *h = &p->hits[p->n_hits++];
      h->pos = p->n_steps;
      h->len = 1;
      h->velocity = vel;
      h->flags = flags;
      last = p->n_hits - 1;
      held = 1;
    } else {
      held = 0;
    }
    p->n_steps++;
  }
  return SG_OK;
}

/* Reads an optional "@N" at s[*i]; returns steps per whole or an error. */
static sg_status parse_res(const char *s, size_t *i, size_t to, int col0, int *res, sg_diag *d) {
  while (*i < to && isspace((unsigned char)s[*i]))
    ++*i;
  if (*i >= to || s[*i] != '@')
    return SG_OK;
  size_t at = *i;
  ++*i;
  int v = 0, k = 0;
  while (*i < to && isdigit((unsigned char)s[*i]) && k < 3) {
    v = v * 10 + (s[*i] - '0');
    ++*i;
    ++k;
  }
  if (!(v == 4 || v == 8 || v == 12 || v == 16 || v == 24 || v == 32))
    return perr(d, col0, at, "bad resolution '%s' at column %d (allowed @4 @8 @12 @16 @24 @32)",
                "@");
  *res = v;
  return SG_OK;
}

sg_status sg_pattern_parse(const char *s, int col0, sg_step_pattern *p, sg_diag *d) {
  if (!s || !p)
    return SG_E_INVAL;
  memset(p, 0, sizeof *p);
  p->steps_per_whole = 16;
  size_t n = strlen(s);
  size_t i = 0;
  sg_status st = parse_res(s, &i, n, col0, &p->steps_per_whole, d);
  if (st != SG_OK)
    return st;
  st = parse_steps(s, i, n, col0, p, d);
  if (st != SG_OK)
    return st;
  if (p->n_steps == 0)
    return perr(d, col0, 0, "empty step pattern%s at column %d", "");
  return SG_OK;
}

static const struct {
  const char *name;
  int key;
} lane_names[] = {
    {"kick", 36},      {"bd", 36},    {"bass", 36}, {"rim", 37},    {"rimshot", 37},
    {"sidestick", 37}, {"snare", 38}, {"sd", 38},   {"clap", 39},   {"cp", 39},
    {"hat", 42},       {"hh", 42},    {"chh", 42},  {"closed", 42}, {"hihat", 42},
    {"ohat", 46},      {"oh", 46},    {"open", 46}, {"shaker", 70}, {"maracas", 70},
};

static int lane_key(const char *w, size_t n) {
  for (size_t k = 0; k < sizeof lane_names / sizeof lane_names[0]; ++k) {
    if (strlen(lane_names[k].name) != n)
      continue;
    int eq = 1;
    for (size_t j = 0; j < n; ++j)
      if (tolower((unsigned char)w[j]) != lane_names[k].name[j])
        eq = 0;
    if (eq)
      return lane_names[k].key;
  }
  int v = 0;
  for (size_t j = 0; j < n; ++j) {
    if (!isdigit((unsigned char)w[j]) || j > 2)
      return -1;
    v = v * 10 + (w[j] - '0');
  }
  return n > 0 && v <= 127 ? v : -1;
}

/* Position of the next "name:" label at or after i (a word of letters/digits/_ directly
 * followed by ':'), or n. */
static size_t next_label(const char *s, size_t i, size_t n, size_t *word_start) {
  while (i < n) {
    if (isalnum((unsigned char)s[i]) || s[i] == '_') {
      size_t j = i;
      while (j < n && (isalnum((unsigned char)s[j]) || s[j] == '_'))
        ++j;
      if (j < n && s[j] == ':' && (i == 0 || !(isalnum((unsigned char)s[i - 1])))) {
        *word_start = i;
        return j;
      }
      i = j;
    } else {
      ++i;
    }
  }
  *word_start = n;
  return n;
}

sg_status sg_drum_pattern_parse(const char *s, int col0, sg_drum_pattern *p, sg_diag *d) {
  if (!s || !p)
    return SG_E_INVAL;
  memset(p, 0, sizeof *p);
  size_t n = strlen(s);
  size_t ws;
  size_t colon = next_label(s, 0, n, &ws);
  /* Anything but whitespace before the first label is an error. */
  for (size_t i = 0; i < ws; ++i)
    if (!isspace((unsigned char)s[i]))
      return perr(d, col0, i, "drum pattern must start with a lane name like 'kick:'%s (column %d)",
                  "");
  if (colon >= n)
    return perr(d, col0, 0, "no lane in drum pattern%s (column %d); write e.g. 'kick: x...x...'",
                "");
  while (colon < n) {
    char name[16];
    size_t wl = colon - ws;
    int key = lane_key(s + ws, wl);
    if (key < 0) {
      snprintf(name, sizeof name, "%.*s", (int)(wl < 15 ? wl : 15), s + ws);
      return perr(d, col0, ws,
                  "unknown drum lane '%s' at column %d (kick, rim, snare, clap, hat, ohat, shaker "
                  "or a GM note number)",
                  name);
    }
    for (int l = 0; l < p->n_lanes; ++l)
      if (p->lanes[l].key == key) {
        snprintf(name, sizeof name, "%.*s", (int)(wl < 15 ? wl : 15), s + ws);
        return perr(d, col0, ws, "drum lane '%s' at column %d is given twice", name);
      }
    if (p->n_lanes >= SG_DRUM_MAX_LANES)
      return perr(d, col0, ws, "more than 12 drum lanes%s at column %d", "");
    sg_drum_lane *lane = &p->lanes[p->n_lanes];
    memset(lane, 0, sizeof *lane);
    lane->key = key;
    snprintf(lane->name, sizeof lane->name, "%.*s", (int)(wl < 15 ? wl : 15), s + ws);
    lane->pattern.steps_per_whole = 16;
    size_t nws;
    size_t ncolon = next_label(s, colon + 1, n, &nws);
    size_t i = colon + 1;
    sg_status st = parse_res(s, &i, nws, col0, &lane->pattern.steps_per_whole, d);
    if (st != SG_OK)
      return st;
    st = parse_steps(s, i, nws, col0, &lane->pattern, d);
    if (st != SG_OK)
      return st;
    if (lane->pattern.n_steps == 0)
      return perr(d, col0, ws, "drum lane '%s' has no steps (column %d)", lane->name);
    p->n_lanes++;
    ws = nws;
    colon = ncolon;
  }
  return SG_OK;
}
