/* stemgate list instruments|patches|styles|effects [NAME] [--json]: what a spec may name, read
 * from the tables the code uses (the parameter schema of each effect and instrument, the patch
 * lists, the style table), never from a copy. */
#include "cli.h"
#include "package/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *kind_name(sg_param_kind k) {
  static const char *const names[] = {"number",           "integer",   "choice", "bool",
                                      "note value or ms", "stem name", "path"};
  return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

/* The default as a person reads it: the number, the choice, "patch" for patch presets. */
static void default_text(const sg_param_def *p, char *out, size_t cap) {
  if (isnan(p->def)) {
    snprintf(out, cap, "from the patch");
  } else if (p->kind == SG_PARAM_ENUM && p->choices) {
    const char *c = p->choices;
    for (int i = 0; i < (int)p->def && strchr(c, '|'); ++i)
      c = strchr(c, '|') + 1;
    const char *e = strchr(c, '|');
    snprintf(out, cap, "%.*s", e ? (int)(e - c) : (int)strlen(c), c);
  } else if (p->kind == SG_PARAM_BOOL) {
    snprintf(out, cap, "%s", p->def != 0 ? "true" : "false");
  } else if (p->kind == SG_PARAM_NUMBER || p->kind == SG_PARAM_INTEGER) {
    snprintf(out, cap, "%.6g", p->def);
  } else {
    snprintf(out, cap, "%s", p->choices ? p->choices : "");
  }
}

static void range_text(const sg_param_def *p, char *out, size_t cap) {
  if (p->kind == SG_PARAM_NUMBER || p->kind == SG_PARAM_INTEGER) {
    if (p->choices && p->choices[0])
      snprintf(out, cap, "%s", p->choices);
    else
      snprintf(out, cap, "%.6g..%.6g%s%s", p->lo, p->hi, p->unit[0] ? " " : "", p->unit);
  } else if (p->kind == SG_PARAM_ENUM) {
    snprintf(out, cap, "%s", p->choices ? p->choices : "");
  } else {
    snprintf(out, cap, "%s", kind_name(p->kind));
  }
}

static void print_params(const sg_param_def *defs, int n) {
  for (int i = 0; i < n; ++i) {
    char def[64], range[160];
    default_text(&defs[i], def, sizeof def);
    range_text(&defs[i], range, sizeof range);
    printf("    %-16s %-28s default %-14s %s\n", defs[i].name, range, def,
           defs[i].doc ? defs[i].doc : "");
  }
}

static void json_params(sg_json_writer *w, const sg_param_def *defs, int n) {
  sg_json_key(w, "params");
  sg_json_begin_array(w);
  for (int i = 0; i < n; ++i) {
    char def[64];
    default_text(&defs[i], def, sizeof def);
    sg_json_begin_object(w);
    sg_json_kv_string(w, "name", defs[i].name);
    sg_json_kv_string(w, "kind", kind_name(defs[i].kind));
    sg_json_kv_string(w, "unit", defs[i].unit);
    if (defs[i].kind == SG_PARAM_NUMBER || defs[i].kind == SG_PARAM_INTEGER) {
      sg_json_kv_number(w, "min", defs[i].lo);
      sg_json_kv_number(w, "max", defs[i].hi);
    }
    if (defs[i].choices && defs[i].choices[0] && defs[i].kind != SG_PARAM_NUMBER)
      sg_json_kv_string(w, "choices", defs[i].choices);
    sg_json_kv_string(w, "default", def);
    sg_json_kv_string(w, "doc", defs[i].doc ? defs[i].doc : "");
    sg_json_end_object(w);
  }
  sg_json_end_array(w);
}

/* What a row is called: instrument kinds and effect types by name, styles by name. */
typedef enum what { W_INSTRUMENTS, W_PATCHES, W_STYLES, W_EFFECTS } what;

static int list(what wt, const char *only, int json) {
  sg_json_writer w;
  sg_json_writer_init(&w, 1);
  sg_json_begin_array(&w);
  int shown = 0;
  if (wt == W_INSTRUMENTS || wt == W_PATCHES) {
    for (int k = 0; k < SG_SYNTH_KIND_COUNT_; ++k) {
      const char *name = sg_synth_kind_name((sg_synth_kind)k);
      if (only && strcasecmp(only, name))
        continue;
      ++shown;
      const sg_param_def *defs = NULL;
      int n = 0;
      sg_synth_param_schema((sg_synth_kind)k, &defs, &n);
      const char *const *patches = sg_synth_patch_names((sg_synth_kind)k);
      if (json) {
        sg_json_begin_object(&w);
        sg_json_kv_string(&w, "instrument", name);
        sg_json_key(&w, "patches");
        sg_json_begin_array(&w);
        for (int p = 0; patches && patches[p]; ++p)
          sg_json_string(&w, patches[p]);
        sg_json_end_array(&w);
        if (wt == W_INSTRUMENTS)
          json_params(&w, defs, n);
        sg_json_end_object(&w);
        continue;
      }
      printf("%s\n  patches:", name);
      for (int p = 0; patches && patches[p]; ++p)
        printf(" %s%s", patches[p], p == 0 ? " (default)" : "");
      printf("%s\n", patches && patches[0] ? "" : " (a General MIDI program of the SoundFont)");
      if (wt == W_INSTRUMENTS && n) {
        printf("  params:\n");
        print_params(defs, n);
      }
    }
  } else if (wt == W_EFFECTS) {
    for (int i = 0; i < sg_fx_type_count(); ++i) {
      const char *name = NULL, *doc = NULL;
      const sg_param_def *defs = NULL;
      int n = 0;
      if (sg_fx_type_schema(i, &name, &doc, &defs, &n) != SG_OK || (only && strcasecmp(only, name)))
        continue;
      ++shown;
      if (json) {
        sg_json_begin_object(&w);
        sg_json_kv_string(&w, "effect", name);
        sg_json_kv_string(&w, "doc", doc ? doc : "");
        json_params(&w, defs, n);
        sg_json_end_object(&w);
        continue;
      }
      printf("%s: %s\n", name, doc ? doc : "");
      print_params(defs, n);
    }
  } else {
    for (int i = 0; i < SG_STYLE_COUNT_; ++i) {
      const char *name = sg_style_name((sg_style)i);
      if (only && strcasecmp(only, name))
        continue;
      ++shown;
      if (json)
        sg_json_string(&w, name);
      else
        printf("%s\n", name);
    }
  }
  sg_json_end_array(&w);
  int rc = SG_EXIT_OK;
  if (only && !shown) {
    fprintf(stderr, "stemgate: no such name: %s\n", only);
    rc = SG_EXIT_USAGE;
  } else if (json) {
    if (sg_json_writer_status(&w) != SG_OK) {
      fprintf(stderr, "stemgate: out of memory\n");
      rc = SG_EXIT_IO;
    } else {
      printf("%s\n", sg_json_writer_text(&w, NULL));
    }
  }
  sg_json_writer_free(&w);
  return rc;
}

int sg_cli_list(int argc, char **argv, const sg_cli_command *self) {
  static const char *const names[] = {"instruments", "patches", "styles", "effects"};
  int json = 0, wi = -1;
  const char *only = NULL;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--json")) {
      json = 1;
    } else if (wi < 0) {
      for (int k = 0; k < 4; ++k)
        if (!strcmp(argv[i], names[k]))
          wi = k;
      if (wi < 0)
        return sg_cli_usage_error(self, "list what? instruments, patches, styles or effects",
                                  argv[i]);
    } else if (!only) {
      only = argv[i];
    } else {
      return sg_cli_usage_error(self, "unexpected argument", argv[i]);
    }
  }
  if (wi < 0)
    return sg_cli_usage_error(self, "list what? instruments, patches, styles or effects", NULL);
  return list((what)wi, only, json);
}
