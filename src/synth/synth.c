/* The renderer over every instrument: note cursor, pending note-offs, sample-accurate block
 * splitting, patch overrides by name, and a safety soft clip on the output. */
#include "synth_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PENDING 1024 /* sounding notes awaiting their note-off */

typedef struct pending_off {
  int64_t frame;
  uint32_t id;
} pending_off;

struct sg_synth {
  sg_synth_kind kind;
  void *st;
  const sg__inst_vt *vt;
  double rate;
  size_t cursor;     /* next note of the list to start */
  int64_t next_frame; /* frame the next contiguous render starts at */
  int started;
  uint32_t next_id;
  pending_off pend[MAX_PENDING];
  size_t npend;
  float lim_env, lim_rel; /* output limiter state */
};

static const char *const kind_names[SG_SYNTH_KIND_COUNT_] = {
    "moog_bass", "prophet_poly", "dx7", "guitar", "drums", "soundfont"};

static int name_eq(const char *a, const char *b) {
  for (; *a && *b; ++a, ++b)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return 0;
  return *a == *b;
}

sg_status sg_synth_kind_from_name(const char *name, sg_synth_kind *out) {
  static const struct {
    const char *n;
    sg_synth_kind k;
  } alias[] = {{"bass", SG_SYNTH_MOOG_BASS}, {"poly", SG_SYNTH_PROPHET_POLY},
               {"fm", SG_SYNTH_DX7},         {"sf2", SG_SYNTH_SOUNDFONT}};
  if (!name || !out)
    return SG_E_INVAL;
  for (int k = 0; k < SG_SYNTH_KIND_COUNT_; ++k)
    if (name_eq(name, kind_names[k])) {
      *out = (sg_synth_kind)k;
      return SG_OK;
    }
  for (size_t i = 0; i < sizeof alias / sizeof alias[0]; ++i)
    if (name_eq(name, alias[i].n)) {
      *out = alias[i].k;
      return SG_OK;
    }
  return SG_E_NOTFOUND;
}

const char *sg_synth_kind_name(sg_synth_kind k) {
  return (k >= 0 && k < SG_SYNTH_KIND_COUNT_) ? kind_names[k] : "unknown";
}

const char *const *sg_synth_patch_names(sg_synth_kind k) {
  static const char *const none[] = {NULL};
  switch (k) {
  case SG_SYNTH_MOOG_BASS: return sg__mono_patches;
  case SG_SYNTH_PROPHET_POLY: return sg__poly_patches;
  case SG_SYNTH_DX7: return sg__fm_patches;
  case SG_SYNTH_GUITAR: return sg__pluck_patches;
  case SG_SYNTH_DRUMS: return sg__drums_patches;
  default: return none;
  }
}

int sg__patch_index(const char *const *names, const char *name, const char *kind, sg_diag *d) {
  if (!name || !*name)
    return 0;
  for (int i = 0; names[i]; ++i)
    if (name_eq(names[i], name))
      return i;
  char known[256] = "";
  for (int i = 0; names[i]; ++i) {
    if (i)
      strncat(known, ", ", sizeof known - strlen(known) - 1);
    strncat(known, names[i], sizeof known - strlen(known) - 1);
  }
  sg_diag_fail(d, SG_E_NOTFOUND, "unknown patch '%s' for instrument %s (known: %s)", name, kind,
               known);
  return -1;
}

sg_status sg__apply_overrides(void *patch, const sg__param_def *defs, size_t ndefs,
                              const sg_param_set *ov, const char *kind, sg_diag *d) {
  if (!ov)
    return SG_OK;
  for (int i = 0; i < ov->n && i < SG_MAX_PARAMS; ++i) {
    const sg_param *pa = &ov->v[i];
    const sg__param_def *def = NULL;
    for (size_t j = 0; j < ndefs; ++j)
      if (name_eq(defs[j].name, pa->key)) {
        def = &defs[j];
        break;
      }
    if (!def) {
      /* "program"/"bank" belong to the soundfont front end; accept them silently elsewhere? No:
       * an unknown name is a spec error, with the closest known name as a hint. */
      const char *best = NULL;
      size_t bestlen = 0;
      for (size_t j = 0; j < ndefs; ++j) {
        size_t m = 0;
        while (defs[j].name[m] && pa->key[m] &&
               tolower((unsigned char)defs[j].name[m]) == tolower((unsigned char)pa->key[m]))
          ++m;
        if (m > bestlen) {
          bestlen = m;
          best = defs[j].name;
        }
      }
      sg_diag_at(d, NULL, pa->pos.line, pa->pos.col);
      return sg_diag_fail(d, SG_E_SPEC, "unknown parameter '%s' for instrument %s%s%s%s",
                          pa->key, kind, best ? " (did you mean '" : "", best ? best : "",
                          best ? "'?)" : "");
    }
    if (!pa->is_num || !isfinite(pa->num) || pa->num < def->lo || pa->num > def->hi) {
      sg_diag_at(d, NULL, pa->pos.line, pa->pos.col);
      if (d)
        sg_diag_value(d, pa->is_num ? pa->num : NAN, pa->num < def->lo ? def->lo : def->hi,
                      def->unit);
      return sg_diag_fail(d, SG_E_SPEC, "parameter '%s' of %s is '%s'; allowed %g..%g%s%s",
                          def->name, kind, pa->text, def->lo, def->hi, *def->unit ? " " : "",
                          def->unit);
    }
    *(double *)((char *)patch + def->offset) = pa->num;
  }
  return SG_OK;
}

static sg_status finish_create(sg_synth_kind kind, double rate, void *st,
                               const sg__inst_vt *vt, sg_synth **out, sg_diag *d) {
  sg_synth *s = calloc(1, sizeof *s);
  if (!s) {
    vt->destroy(st);
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory creating a synth");
  }
  s->kind = kind;
  s->st = st;
  s->vt = vt;
  s->rate = rate;
  s->lim_rel = (float)exp(-1.0 / (0.080 * rate));
  *out = s;
  return SG_OK;
}

sg_status sg_synth_create(sg_synth_kind kind, const char *patch, const sg_param_set *overrides,
                          double rate, uint64_t seed, sg_synth **out, sg_diag *d) {
  if (!out)
    return SG_E_INVAL;
  *out = NULL;
  if (!(rate >= 8000 && rate <= 384000))
    return sg_diag_fail(d, SG_E_RANGE, "sample rate %g Hz is outside 8000..384000", rate);
  void *st = NULL;
  const sg__inst_vt *vt = NULL;
  sg_status s;
  switch (kind) {
  case SG_SYNTH_MOOG_BASS: s = sg__mono_create(patch, overrides, rate, seed, &st, &vt, d); break;
  case SG_SYNTH_PROPHET_POLY: s = sg__poly_create(patch, overrides, rate, seed, &st, &vt, d); break;
  case SG_SYNTH_DX7: s = sg__fm_create(patch, overrides, rate, seed, &st, &vt, d); break;
  case SG_SYNTH_GUITAR: s = sg__pluck_create(patch, overrides, rate, seed, &st, &vt, d); break;
  case SG_SYNTH_DRUMS: s = sg__drums_create(patch, overrides, rate, seed, &st, &vt, d); break;
  case SG_SYNTH_SOUNDFONT:
    return sg_diag_fail(d, SG_E_INVAL,
                        "a soundfont instrument needs a .sf2 file: use sg_synth_create_soundfont");
  default:
    return sg_diag_fail(d, SG_E_INVAL, "unknown instrument kind %d", (int)kind);
  }
  if (s != SG_OK)
    return s;
  return finish_create(kind, rate, st, vt, out, d);
}

sg_status sg_synth_create_soundfont(const char *sf2_path, int bank, int program,
                                    const sg_param_set *overrides, double rate, uint64_t seed,
                                    sg_synth **out, sg_diag *d) {
  (void)seed; /* fluidsynth is deterministic without chorus/reverb; nothing to seed */
  if (!out || !sf2_path)
    return SG_E_INVAL;
  *out = NULL;
  if (!(rate >= 8000 && rate <= 384000))
    return sg_diag_fail(d, SG_E_RANGE, "sample rate %g Hz is outside 8000..384000", rate);
  void *st = NULL;
  const sg__inst_vt *vt = NULL;
  sg_status s = sg__sf2_create(sf2_path, bank, program, overrides, rate, &st, &vt, d);
  if (s != SG_OK)
    return s;
  return finish_create(SG_SYNTH_SOUNDFONT, rate, st, vt, out, d);
}

void sg_synth_reset(sg_synth *s) {
  if (!s)
    return;
  s->vt->reset(s->st);
  s->cursor = 0;
  s->npend = 0;
  s->started = 0;
  s->next_frame = 0;
  s->lim_env = 0;
}

void sg_synth_destroy(sg_synth *s) {
  if (!s)
    return;
  s->vt->destroy(s->st);
  free(s);
}

int64_t sg_synth_tail_frames(const sg_synth *s) { return s ? s->vt->tail(s->st) : 0; }

/* Output safety: an instant-attack peak limiter at -1 dBFS with an 80 ms release (linked
 * stereo). Single notes of every patch peak at -6..-3 dBFS and pass untouched; a dense chord at
 * full velocity is turned down rather than clipped. The envelope follower jumps to every new
 * peak, so |out| <= threshold holds for every sample (no lookahead needed for that bound; the
 * price is a little gain-riding distortion on the onset of very dense chords only). */
#define LIMIT_THRESHOLD 0.8912509f /* -1 dBFS */

static void limit(sg_synth *s, float *l, float *r, size_t n) {
  float env = s->lim_env, rel = s->lim_rel;
  for (size_t i = 0; i < n; ++i) {
    float a = fabsf(l[i]), b = fabsf(r[i]);
    if (b > a)
      a = b;
    env = a > env ? a : a + (env - a) * rel;
    if (env > LIMIT_THRESHOLD) {
      float g = LIMIT_THRESHOLD / env;
      l[i] *= g;
      r[i] *= g;
    }
  }
  s->lim_env = env;
}

static void fire_off(sg_synth *s, size_t i) {
  s->vt->note_off(s->st, s->pend[i].id);
  s->pend[i] = s->pend[--s->npend];
}

sg_status sg_synth_render(sg_synth *s, const sg_note_list *notes, int64_t frame0, float *left,
                          float *right, size_t n) {
  if (!s || !left || !right)
    return SG_E_INVAL;
  if (!s->started || frame0 != s->next_frame) {
    if (s->started) {
      s->vt->reset(s->st);
      s->lim_env = 0;
    }
    s->npend = 0;
    s->cursor = 0;
    while (notes && s->cursor < notes->n && notes->v[s->cursor].start < frame0)
      ++s->cursor;
    s->started = 1;
  }
  int64_t pos = frame0, end = frame0 + (int64_t)n;
  while (pos < end) {
    /* Events at pos: note-offs first, so a note restarting on the same frame is not cut. */
    for (size_t i = 0; i < s->npend;) {
      if (s->pend[i].frame <= pos)
        fire_off(s, i);
      else
        ++i;
    }
    while (notes && s->cursor < notes->n && notes->v[s->cursor].start <= pos) {
      const sg_note *nt = &notes->v[s->cursor++];
      if (nt->key < 0 || nt->key > 127 || !(nt->velocity > 0))
        continue;
      if (s->npend == MAX_PENDING) { /* release the note due first to make room */
        size_t first = 0;
        for (size_t i = 1; i < s->npend; ++i)
          if (s->pend[i].frame < s->pend[first].frame)
            first = i;
        fire_off(s, first);
      }
      uint32_t id = ++s->next_id;
      sg_note tmp = *nt;
      if (tmp.velocity > 1)
        tmp.velocity = 1;
      s->vt->note_on(s->st, &tmp, id);
      int64_t len = nt->length > 0 ? nt->length : 1;
      s->pend[s->npend++] = (pending_off){nt->start + len, id};
    }
    int64_t next = end;
    for (size_t i = 0; i < s->npend; ++i)
      if (s->pend[i].frame < next)
        next = s->pend[i].frame;
    if (notes && s->cursor < notes->n && notes->v[s->cursor].start < next)
      next = notes->v[s->cursor].start;
    if (next <= pos)
      next = pos + 1;
    size_t off = (size_t)(pos - frame0), len = (size_t)(next - pos);
    s->vt->render(s->st, left + off, right + off, len);
    pos = next;
  }
  limit(s, left, right, n);
  s->next_frame = end;
  return SG_OK;
}
