/* Spec module: the checks that need another module's knowledge, run by the loader after the
 * YAML walk so that a typo anywhere in a song fails in milliseconds, not minutes into a render.
 *
 * Nothing here restates a table: effect types and parameters are checked by the fx module's own
 * table (sg_fx_check), instruments, patches and params by the synth's (sg_synth_check), styles
 * and patterns by theory (sg_style_from_name, sg_pattern_parse, sg_drum_pattern_parse). Those
 * modules depend only on core, so spec may call them without a cycle; the pattern parser and the
 * style table moved from compose to theory for exactly this reason (compose depends on spec).
 * The same calls run again when the render builds the chains and instruments, so the two can
 * never disagree. */
#include "spec_internal.h"

#include "stemgate/fx.h"
#include "stemgate/synth.h"
#include "stemgate/theory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sg_status fail_at(const sg_song *s, sg_diag *d, sg_pos p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static sg_status fail_at(const sg_song *s, sg_diag *d, sg_pos p, const char *fmt, ...) {
  if (!d)
    return SG_E_SPEC;
  char msg[SG_DIAG_TEXT];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sg_diag_at(d, s->path, p.line > 0 ? p.line : 1, p.col > 0 ? p.col : 1);
  return sg_diag_fail(d, SG_E_SPEC, "%s", msg);
}

static sg_status check_style(const sg_song *s, const sg_name *style, const char *owner,
                             sg_diag *d) {
  sg_style st;
  if (!style->s[0] || sg_style_from_name(style->s, &st) == SG_OK)
    return SG_OK;
  const char *names[32];
  int n = sg_style_name_count();
  if (n > 32)
    n = 32;
  char list[400] = "", hint[96] = "";
  for (int i = 0; i < n; ++i) {
    names[i] = sg_style_name_at(i);
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
  }
  int h = sg_suggest(style->s, names, n);
  if (h >= 0)
    snprintf(hint, sizeof hint, "; did you mean '%s'?", names[h]);
  return fail_at(s, d, style->pos, "%s: unknown style '%s'%s Allowed: %s", owner, style->s,
                 hint[0] ? hint : ".", list);
}

/* A key name parsed by theory at load, so `key: H minor` costs parsing, not a render up to
 * compose (which parses it again with the same function). */
static sg_status check_key(const sg_song *s, const sg_name *key, const char *owner, sg_diag *d) {
  if (!key->s[0])
    return SG_OK;
  sg_key k;
  sg_diag kd;
  sg_diag_clear(&kd);
  if (sg_key_parse(key->s, &k, &kd) == SG_OK)
    return SG_OK;
  return fail_at(s, d, key->pos, "%s: %s", owner, kd.message);
}

/* Parses a step pattern (drum lanes when drums) and moves a parse error onto the spec: the
 * value's line, and the column of the offending character when the value sits on one line. */
static sg_status check_pattern(const sg_song *s, const sg_text *pat, int drums, const char *owner,
                               sg_diag *d) {
  if (!pat->s[0])
    return SG_OK;
  int col0 = pat->pos.col > 0 ? pat->pos.col - 1 + pat->quoted : 0;
  sg_diag pd;
  sg_diag_clear(&pd);
  sg_status st;
  if (drums) {
    sg_drum_pattern *dp = malloc(sizeof *dp); /* 12 lanes x 256 steps: ~50 KB, not for a stack */
    if (!dp)
      return sg_diag_fail(d, SG_E_NOMEM, "out of memory checking a drum pattern");
    st = sg_drum_pattern_parse(pat->s, col0, dp, &pd);
    free(dp);
  } else {
    sg_step_pattern sp;
    st = sg_pattern_parse(pat->s, col0, &sp, &pd);
  }
  if (st == SG_OK)
    return SG_OK;
  sg_pos at = pat->pos;
  if (!pat->multiline && pd.col > 0)
    at.col = pd.col;
  return fail_at(s, d, at, "%s: %s pattern: %s", owner, drums ? "drum" : "step", pd.message);
}

/* Parses a stem's melody and moves a parse error onto the spec, as check_pattern does. */
static sg_status check_melody(const sg_song *s, const sg_text *mel, const char *owner, sg_diag *d) {
  if (!mel->s[0])
    return SG_OK;
  int col0 = mel->pos.col > 0 ? mel->pos.col - 1 + mel->quoted : 0;
  sg_diag pd;
  sg_diag_clear(&pd);
  sg_melody *m = malloc(sizeof *m); /* 1024 notes: ~20 KB, not for a stack */
  if (!m)
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory checking a melody");
  sg_status st = sg_melody_parse(mel->s, col0, m, &pd);
  free(m);
  if (st == SG_OK)
    return SG_OK;
  sg_pos at = mel->pos;
  if (!mel->multiline && pd.col > 0)
    at.col = pd.col;
  return fail_at(s, d, at, "%s: melody: %s", owner, pd.message);
}

/* The tempo a delay's note value is checked at: the slowest the song reaches (its tempo, a
 * section's, a tempo_change's end), where a note value lasts longest. tempo: auto is only known
 * after the reference is measured: the fx module then checks delay lengths at its 120 BPM
 * default here and again at the measured tempo during the render. */
static double song_bpm(const sg_song *s) {
  if (s->tempo_auto || s->tempo.den <= 0)
    return 0;
  double bpm = (double)s->tempo.num / (double)s->tempo.den;
  for (int i = 0; i < s->n_sections; ++i) {
    const sg_section_spec *x = &s->sections[i];
    if (x->tempo.num > 0)
      bpm = fmin(bpm, (double)x->tempo.num / (double)x->tempo.den);
    if (x->ramp_to.num > 0)
      bpm = fmin(bpm, (double)x->ramp_to.num / (double)x->ramp_to.den);
  }
  return bpm;
}

sg_status sg__song_check(const sg_song *s, sg_diag *d) {
  const double bpm = song_bpm(s), rate = s->sample_rate;
  sg_status st;
  if ((st = check_style(s, &s->style, "song", d)))
    return st;
  if ((st = check_key(s, &s->key, "song", d)))
    return st;
  for (int i = 0; i < s->n_sections; ++i) {
    char owner[SG_MAX_NAME + 16];
    snprintf(owner, sizeof owner, "section '%s'", s->sections[i].name.s);
    if ((st = check_key(s, &s->sections[i].key, owner, d)))
      return st;
  }
  for (int i = 0; i < s->n_stems; ++i) {
    const sg_stem_spec *sp = &s->stems[i];
    char owner[SG_MAX_NAME + 16];
    snprintf(owner, sizeof owner, "stem '%s'", sp->name.s);
    sg_synth_kind kind;
    if (sg_synth_kind_from_name(sp->instrument.s, &kind) != SG_OK)
      return fail_at(s, d, sp->instrument.pos, "%s: unknown instrument '%s'", owner,
                     sp->instrument.s);
    /* A SoundFont's presets are chosen by program, not by patch name. */
    const char *patch = kind == SG_SYNTH_SOUNDFONT ? NULL : sp->patch.s;
    if ((st = sg_synth_check(kind, patch, sp->patch.pos, &sp->overrides, owner, s->path, d)))
      return st;
    if ((st = sg_fx_check(sp->effects, sp->n_effects, rate, bpm, owner, s->path, d)))
      return st;
    /* A stem without its own style took the song's (checked above); pos 0 marks that. */
    if (sp->style.pos.line > 0 && (st = check_style(s, &sp->style, owner, d)))
      return st;
    if ((st = check_pattern(s, &sp->pattern, sg__ieq(sp->role.s, "drums"), owner, d)))
      return st;
    if ((st = check_melody(s, &sp->melody, owner, d)))
      return st;
  }
  if (s->drums.source != SG_DRUMS_NONE) {
    const sg_drums_spec *dr = &s->drums;
    if ((st =
             sg_synth_check(SG_SYNTH_DRUMS, dr->patch.s, dr->patch.pos, NULL, "drums", s->path, d)))
      return st;
    if (dr->style.pos.line > 0 && (st = check_style(s, &dr->style, "drums", d)))
      return st;
    if ((st = check_pattern(s, &dr->pattern, 1, "drums", d)))
      return st;
    if ((st = sg_fx_check(dr->effects, dr->n_effects, rate, bpm, "drums", s->path, d)))
      return st;
  }
  return sg_fx_check(s->master.effects, s->master.n_effects, rate, bpm, "master", s->path, d);
}

/* Opens a file the spec names and compares its first bytes with the format's magic. */
static sg_status check_file(const sg_song *s, const char *rel, sg_pos pos, const char *owner,
                            const char *key, const char *magic, size_t magic_at, const char *format,
                            sg_diag *d) {
  char path[SG_MAX_PATH];
  sg_song_resolve_path(s, rel, path, sizeof path);
  FILE *f = fopen(path, "rb");
  if (!f)
    return fail_at(s, d, pos,
                   "%s: %s '%s' cannot be opened (looked for %s); paths are relative "
                   "to the spec's folder",
                   owner, key, rel, path);
  unsigned char head[16] = {0};
  size_t n = fread(head, 1, sizeof head, f);
  fclose(f);
  size_t m = strlen(magic);
  if (n < magic_at + m || memcmp(head + magic_at, magic, m) != 0)
    return fail_at(s, d, pos, "%s: %s '%s' is not a %s (no '%s' header)", owner, key, rel, format,
                   magic);
  return SG_OK;
}

sg_status sg__song_check_files(const sg_song *s, sg_diag *d) {
  for (int i = 0; i < s->n_stems; ++i) {
    const sg_stem_spec *sp = &s->stems[i];
    char owner[SG_MAX_NAME + 16];
    snprintf(owner, sizeof owner, "stem '%s'", sp->name.s);
    sg_status st;
    /* Only the header is read: decoding is compose's, above spec, and runs before any audio. */
    if (sp->midi_file[0] && (st = check_file(s, sp->midi_file, sp->midi_file_pos, owner,
                                             "midi_file", "MThd", 0, "Standard MIDI File", d)))
      return st;
    if (sp->soundfont[0] && (st = check_file(s, sp->soundfont, sp->soundfont_pos, owner,
                                             "soundfont", "sfbk", 8, "SoundFont 2 file", d)))
      return st;
  }
  return SG_OK;
}

/* ---- the generated reference ---------------------------------------------------------------- */

typedef struct mdbuf {
  char *s;
  size_t n, cap;
  int oom;
} mdbuf;

static void md(mdbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void md(mdbuf *b, const char *fmt, ...) {
  if (b->oom)
    return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (w < 0) {
      b->oom = 1;
      return;
    }
    if ((size_t)w < b->cap - b->n) {
      b->n += (size_t)w;
      return;
    }
    size_t cap = (b->cap + (size_t)w + 1) * 2;
    char *ns = realloc(b->s, cap);
    if (!ns) {
      b->oom = 1;
      return;
    }
    b->s = ns;
    b->cap = cap;
  }
}

static const char *kind_word(sg_param_kind k) {
  switch (k) {
  case SG_PARAM_NUMBER:
    return "number";
  case SG_PARAM_INTEGER:
    return "whole number";
  case SG_PARAM_ENUM:
    return "name";
  case SG_PARAM_BOOL:
    return "bool";
  case SG_PARAM_NOTE_TIME:
    return "note value or ms";
  case SG_PARAM_STEM:
    return "stem name";
  case SG_PARAM_PATH:
  default:
    return "path";
  }
}

static void md_table(mdbuf *b, const sg_param_def *p, int n) {
  md(b, "| parameter | kind | allowed (default) | what |\n|---|---|---|---|\n");
  for (int k = 0; k < n; ++k) {
    char allowed[320];
    sg_param_describe(&p[k], allowed, sizeof allowed);
    md(b, "| `%s` | %s | %s | %s |\n", p[k].name, kind_word(p[k].kind), allowed,
       p[k].doc ? p[k].doc : "");
  }
}

sg_status sg_spec_reference_markdown(char **out) {
  if (!out)
    return SG_E_INVAL;
  *out = NULL;
  mdbuf b = {malloc(16384), 0, 16384, 0};
  if (!b.s)
    return SG_E_NOMEM;
  b.s[0] = '\0';
  md(&b, "### Effect parameters\n\n");
  for (int t = 0; t < sg_fx_type_count(); ++t) {
    const char *name, *doc;
    const sg_param_def *p;
    int n;
    sg_fx_type_schema(t, &name, &doc, &p, &n);
    md(&b, "#### `%s`: %s\n\n", name, doc);
    md_table(&b, p, n);
    md(&b, "\n");
  }
  md(&b, "### Instrument parameters (`params`)\n\n"
         "Defaults come from the selected patch (the first patch listed is the instrument's "
         "default).\n\n");
  for (int k = 0; k < SG_SYNTH_KIND_COUNT_; ++k) {
    const sg_param_def *p;
    int n;
    sg_synth_param_schema((sg_synth_kind)k, &p, &n);
    const char *const *patches = sg_synth_patch_names((sg_synth_kind)k);
    md(&b, "#### `%s`", sg_synth_kind_name((sg_synth_kind)k));
    if (patches[0]) {
      md(&b, " (patches:");
      for (int i = 0; patches[i]; ++i)
        md(&b, "%s `%s`", i ? "," : "", patches[i]);
      md(&b, ")");
    }
    md(&b, "\n\n");
    md_table(&b, p, n);
    md(&b, "\n");
  }
  md(&b, "### Styles\n\n| style | what |\n|---|---|\n");
  for (int s = 0; s < SG_STYLE_COUNT_; ++s)
    md(&b, "| `%s` | %s |\n", sg_style_name((sg_style)s), sg_style_doc((sg_style)s));
  if (b.oom) {
    free(b.s);
    return SG_E_NOMEM;
  }
  *out = b.s;
  return SG_OK;
}
