/* Manifest model, deterministic JSON rendering and parsing back (for verification). */
#include "json.h"
#include "package_internal.h"
#include "stemgate/package.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const role_names[] = {"master", "stem", "midi", "notes", "other"};
/* In sg_cmp order (include/stemgate/check.h). */
static const char *const cmp_names[] = {"le", "ge", "eq", "abs_le", "within", "info", "text"};
#define N_CMP ((int)(sizeof cmp_names / sizeof *cmp_names))

void sg_json_gate_row(sg_json_writer *w, const sg_gate_result *g) {
  sg_json_begin_object(w);
  sg_json_kv_string(w, "step", g->step);
  sg_json_kv_string(w, "stem", g->stem);
  sg_json_kv_string(w, "check", g->check);
  sg_json_kv_string(w, "verdict", g->pass ? "pass" : g->required ? "fail" : "warn");
  sg_json_kv_bool(w, "pass", g->pass);
  sg_json_kv_bool(w, "required", g->required);
  sg_json_kv_string(w, "severity", sg_severity_name(g->severity));
  sg_json_kv_number(w, "measured", g->measured); /* NaN (text checks) becomes null */
  sg_json_kv_string(w, "cmp", (int)g->cmp < N_CMP ? cmp_names[g->cmp] : "info");
  sg_json_kv_number(w, "limit", g->limit);
  if (g->cmp == SG_CMP_WITHIN)
    sg_json_kv_number(w, "target", g->target);
  sg_json_kv_string(w, "unit", g->unit);
  sg_json_kv_string(w, "detail", g->detail);
  sg_json_end_object(w);
}

static const char *role_name(sg_pkg_role r) {
  return (unsigned)r < sizeof role_names / sizeof *role_names ? role_names[r] : "other";
}

static sg_status role_parse(const char *s, sg_pkg_role *out) {
  if (!s || !out)
    return SG_E_INVAL;
  for (size_t i = 0; i < sizeof role_names / sizeof *role_names; ++i)
    if (strcmp(s, role_names[i]) == 0) {
      *out = (sg_pkg_role)i;
      return SG_OK;
    }
  return SG_E_PARSE;
}

static void copy(char *dst, size_t cap, const char *src) {
  snprintf(dst, cap, "%s", src ? src : "");
}

void sg_manifest_init(sg_manifest *m) {
  memset(m, 0, sizeof *m);
  copy(m->tool, sizeof m->tool, "stemgate");
  copy(m->tool_version, sizeof m->tool_version, sg_version());
  snprintf(m->created_by, sizeof m->created_by, "stemgate %s", sg_version());
  copy(m->timestamp, sizeof m->timestamp, "1980-01-01T00:00:00Z");
  m->rate = 48000;
  m->channels = 2;
  m->format = SG_FMT_FLOAT32;
  m->meter_num = 4;
  m->meter_den = 4;
}

void sg_manifest_free(sg_manifest *m) {
  if (!m)
    return;
  free(m->sections);
  free(m->files);
  free(m->gates);
  m->sections = NULL;
  m->files = NULL;
  m->gates = NULL;
  m->n_sections = m->cap_sections = m->n_files = m->cap_files = m->n_gates = 0;
}

static int grow(void **v, size_t *cap, size_t n, size_t elem) {
  if (n < *cap)
    return 1;
  size_t nc = *cap ? *cap * 2 : 8;
  if (nc > ((size_t)-1) / elem)
    return 0;
  void *p = realloc(*v, nc * elem);
  if (!p)
    return 0;
  *v = p;
  *cap = nc;
  return 1;
}

sg_status sg_manifest_add_section(sg_manifest *m, const sg_manifest_section *s) {
  if (!m || !s)
    return SG_E_INVAL;
  if (!grow((void **)&m->sections, &m->cap_sections, m->n_sections, sizeof *s))
    return SG_E_NOMEM;
  m->sections[m->n_sections++] = *s;
  return SG_OK;
}

sg_manifest_file *sg_manifest_find_file(sg_manifest *m, const char *archive_name) {
  if (!m || !archive_name)
    return NULL;
  for (size_t i = 0; i < m->n_files; ++i)
    if (strcmp(m->files[i].archive_name, archive_name) == 0)
      return &m->files[i];
  return NULL;
}

sg_status sg_manifest_add_file(sg_manifest *m, const sg_manifest_file *f) {
  if (!m || !f || !f->archive_name[0] || sg_manifest_find_file(m, f->archive_name))
    return SG_E_INVAL;
  if (!grow((void **)&m->files, &m->cap_files, m->n_files, sizeof *f))
    return SG_E_NOMEM;
  m->files[m->n_files++] = *f;
  return SG_OK;
}

void sg_manifest_set_reference(sg_manifest *m, const sg_manifest_reference *r) {
  if (!m)
    return;
  if (r)
    m->reference = *r;
  else
    memset(&m->reference, 0, sizeof m->reference);
}

sg_status sg_manifest_attach_gates(sg_manifest *m, const sg_gate_report *r) {
  if (!m || !r)
    return SG_E_INVAL;
  sg_gate_result *g = NULL;
  if (r->n) {
    g = malloc(r->n * sizeof *g);
    if (!g)
      return SG_E_NOMEM;
    memcpy(g, r->v, r->n * sizeof *g);
  }
  free(m->gates);
  m->gates = g;
  m->n_gates = r->n;
  return SG_OK;
}

/* ---- rendering ---------------------------------------------------------------------------- */

sg_status sg_manifest_to_json(const sg_manifest *m, char **text, size_t *len, sg_diag *d) {
  if (!m || !text)
    return sg_diag_fail(d, SG_E_INVAL, "manifest: NULL argument");
  *text = NULL;
  sg_json_writer w;
  sg_json_writer_init(&w, 1);
  sg_json_begin_object(&w);
  sg_json_kv_string(&w, "schema", SG_MANIFEST_SCHEMA);
  sg_json_key(&w, "tool");
  sg_json_begin_object(&w);
  sg_json_kv_string(&w, "name", m->tool);
  sg_json_kv_string(&w, "version", m->tool_version);
  sg_json_end_object(&w);
  sg_json_kv_string(&w, "created_by", m->created_by);
  sg_json_kv_string(&w, "timestamp", m->timestamp);

  sg_json_key(&w, "song");
  sg_json_begin_object(&w);
  sg_json_kv_string(&w, "title", m->title);
  sg_json_kv_string(&w, "slug", m->slug);
  sg_json_kv_string(&w, "spec_sha256", m->spec_sha256);
  sg_json_kv_int(&w, "sample_rate", m->rate);
  sg_json_kv_int(&w, "channels", m->channels);
  sg_json_kv_string(&w, "format", sg_sample_format_name(m->format));
  sg_json_kv_number(&w, "tempo_bpm", m->tempo_bpm);
  if (m->tempo_map[0])
    sg_json_kv_string(&w, "tempo_map", m->tempo_map);
  sg_json_kv_string(&w, "ending", m->ending);
  sg_json_kv_number(&w, "song_sec", m->song_sec);
  sg_json_key(&w, "meter");
  sg_json_begin_object(&w);
  sg_json_kv_int(&w, "numerator", m->meter_num);
  sg_json_kv_int(&w, "denominator", m->meter_den);
  sg_json_end_object(&w);
  sg_json_kv_string(&w, "key", m->key);
  sg_json_end_object(&w);

  sg_json_key(&w, "sections");
  sg_json_begin_array(&w);
  for (size_t i = 0; i < m->n_sections; ++i) {
    const sg_manifest_section *s = &m->sections[i];
    sg_json_begin_object(&w);
    sg_json_kv_string(&w, "name", s->name);
    sg_json_kv_string(&w, "key", s->key);
    sg_json_kv_int(&w, "start_bar", s->start_bar);
    sg_json_kv_int(&w, "end_bar", s->end_bar);
    sg_json_kv_int(&w, "start_frame", s->start_frame);
    sg_json_kv_int(&w, "end_frame", s->end_frame);
    sg_json_kv_number(&w, "start_sec", s->start_sec);
    sg_json_kv_number(&w, "end_sec", s->end_sec);
    sg_json_kv_string(&w, "energy", s->energy);
    sg_json_kv_number(&w, "lufs", s->lufs);
    sg_json_kv_number(&w, "rms_dbfs", s->rms_dbfs);
    sg_json_kv_number(&w, "limiter_gr_db", s->limiter_gr_db);
    sg_json_end_object(&w);
  }
  sg_json_end_array(&w);

  sg_json_key(&w, "reference");
  if (m->reference.present) {
    const sg_manifest_reference *r = &m->reference;
    sg_json_begin_object(&w);
    sg_json_kv_string(&w, "path", r->path);
    sg_json_kv_number(&w, "measured_tempo_bpm", r->measured_tempo_bpm);
    sg_json_kv_number(&w, "offset_ms", r->offset_ms);
    sg_json_kv_number(&w, "drift_ms", r->drift_ms);
    sg_json_kv_string(&w, "conversion", r->conversion);
    sg_json_end_object(&w);
  } else
    sg_json_null(&w);

  sg_json_key(&w, "files");
  sg_json_begin_array(&w);
  for (size_t i = 0; i < m->n_files; ++i) {
    const sg_manifest_file *f = &m->files[i];
    sg_json_begin_object(&w);
    sg_json_kv_string(&w, "archive_name", f->archive_name);
    sg_json_kv_string(&w, "role", role_name(f->role));
    sg_json_kv_string(&w, "stem", f->stem);
    sg_json_kv_int(&w, "bytes", (int64_t)f->bytes);
    sg_json_kv_string(&w, "sha256", f->sha256);
    sg_json_kv_bool(&w, "compressed", f->compressed);
    sg_json_key(&w, "audio");
    if (f->is_audio) {
      sg_json_begin_object(&w);
      sg_json_kv_string(&w, "format", sg_sample_format_name(f->format));
      sg_json_kv_int(&w, "sample_rate", f->rate);
      sg_json_kv_int(&w, "channels", f->channels);
      sg_json_kv_int(&w, "bits", f->bits);
      sg_json_kv_int(&w, "frames", f->frames);
      sg_json_kv_number(&w, "duration_sec", f->duration_sec);
      sg_json_end_object(&w);
    } else
      sg_json_null(&w);
    sg_json_key(&w, "loudness");
    if (f->loudness.valid) {
      sg_json_begin_object(&w);
      sg_json_kv_number(&w, "integrated_lufs", f->loudness.integrated_lufs);
      sg_json_kv_number(&w, "true_peak_dbtp", f->loudness.true_peak_dbtp);
      sg_json_kv_number(&w, "sample_peak_dbfs", f->loudness.sample_peak_dbfs);
      sg_json_end_object(&w);
    } else
      sg_json_null(&w);
    sg_json_end_object(&w);
  }
  sg_json_end_array(&w);

  sg_json_key(&w, "gates");
  sg_json_begin_array(&w);
  for (size_t i = 0; i < m->n_gates; ++i) {
    sg_json_gate_row(&w, &m->gates[i]);
  }
  sg_json_end_array(&w);
  sg_json_end_object(&w);

  sg_status st = sg_json_writer_status(&w);
  if (st != SG_OK) {
    sg_json_writer_free(&w);
    return sg_diag_fail(d, st, "manifest: JSON rendering failed (%s)", sg_status_message(st));
  }
  size_t n = 0;
  char *t = sg_json_writer_take(&w, &n);
  sg_json_writer_free(&w);
  if (!t)
    return sg_diag_fail(d, SG_E_NOMEM, "manifest: out of memory");
  /* A text file ends with a newline. */
  char *t2 = realloc(t, n + 2);
  if (!t2) {
    free(t);
    return sg_diag_fail(d, SG_E_NOMEM, "manifest: out of memory");
  }
  t2[n++] = '\n';
  t2[n] = '\0';
  *text = t2;
  if (len)
    *len = n;
  return SG_OK;
}

/* ---- parsing ------------------------------------------------------------------------------ */

/* Numbers that may be absent or null (not measured, text checks) read back as NaN, so a
 * parsed manifest renders to the same text. */
static void get_str(const sg_json_value *o, const char *key, char *dst, size_t cap) {
  copy(dst, cap, sg_json_get_str(o, key, ""));
}

static int64_t get_i64(const sg_json_value *o, const char *key) {
  double v = sg_json_get_num(o, key, 0);
  if (!(v > -9.2e18 && v < 9.2e18))
    return 0;
  return (int64_t)v;
}

static unsigned get_u(const sg_json_value *o, const char *key) {
  double v = sg_json_get_num(o, key, 0);
  return v >= 0 && v <= 4294967295.0 ? (unsigned)v : 0;
}

static int get_int(const sg_json_value *o, const char *key) {
  double v = sg_json_get_num(o, key, 0);
  return v >= -2147483648.0 && v <= 2147483647.0 ? (int)v : 0;
}

static int is_hex64(const char *s) {
  if (strlen(s) != 64)
    return 0;
  for (const char *c = s; *c; ++c)
    if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
      return 0;
  return 1;
}

sg_status sg_manifest_parse(const char *text, size_t len, sg_manifest *m, sg_diag *d) {
  if (!text || !m)
    return sg_diag_fail(d, SG_E_INVAL, "manifest: NULL argument");
  sg_manifest_init(m);
  sg_json_doc *doc = NULL;
  sg_status st = sg_json_parse(text, len, &doc, d);
  if (st != SG_OK)
    return st;
  const sg_json_value *root = sg_json_root(doc);
  st = SG_OK;
  const char *schema = sg_json_get_str(root, "schema", NULL);
  if (!root || root->type != SG_JSON_OBJECT || !schema || strcmp(schema, SG_MANIFEST_SCHEMA)) {
    st = sg_diag_fail(d, SG_E_FORMAT, "manifest: not a %s document (schema is '%s')",
                      SG_MANIFEST_SCHEMA, schema ? schema : "missing");
    goto done;
  }
  const sg_json_value *tool = sg_json_get(root, "tool");
  get_str(tool, "name", m->tool, sizeof m->tool);
  get_str(tool, "version", m->tool_version, sizeof m->tool_version);
  get_str(root, "created_by", m->created_by, sizeof m->created_by);
  get_str(root, "timestamp", m->timestamp, sizeof m->timestamp);
  const sg_json_value *song = sg_json_get(root, "song");
  get_str(song, "title", m->title, sizeof m->title);
  get_str(song, "slug", m->slug, sizeof m->slug);
  get_str(song, "spec_sha256", m->spec_sha256, sizeof m->spec_sha256);
  get_str(song, "key", m->key, sizeof m->key);
  m->rate = get_u(song, "sample_rate");
  m->channels = get_u(song, "channels");
  if (sg_sample_format_parse(sg_json_get_str(song, "format", ""), &m->format) != SG_OK)
    m->format = SG_FMT_OTHER;
  m->tempo_bpm = sg_json_get_num(song, "tempo_bpm", 0);
  copy(m->tempo_map, sizeof m->tempo_map, sg_json_get_str(song, "tempo_map", ""));
  get_str(song, "ending", m->ending, sizeof m->ending);
  m->song_sec = sg_json_get_num(song, "song_sec", 0);
  const sg_json_value *meter = sg_json_get(song, "meter");
  m->meter_num = get_int(meter, "numerator");
  m->meter_den = get_int(meter, "denominator");

  const sg_json_value *secs = sg_json_get(root, "sections");
  for (const sg_json_value *s = secs && secs->type == SG_JSON_ARRAY ? secs->child : NULL; s;
       s = s->next) {
    sg_manifest_section sec;
    memset(&sec, 0, sizeof sec);
    get_str(s, "name", sec.name, sizeof sec.name);
    get_str(s, "key", sec.key, sizeof sec.key);
    sec.start_bar = get_int(s, "start_bar");
    sec.end_bar = get_int(s, "end_bar");
    sec.start_frame = get_i64(s, "start_frame");
    sec.end_frame = get_i64(s, "end_frame");
    sec.start_sec = sg_json_get_num(s, "start_sec", 0);
    sec.end_sec = sg_json_get_num(s, "end_sec", 0);
    get_str(s, "energy", sec.energy, sizeof sec.energy);
    sec.lufs = sg_json_get_num(s, "lufs", 0);
    sec.rms_dbfs = sg_json_get_num(s, "rms_dbfs", 0);
    sec.limiter_gr_db = sg_json_get_num(s, "limiter_gr_db", 0);
    if ((st = sg_manifest_add_section(m, &sec)) != SG_OK) {
      sg_diag_fail(d, st, "manifest: out of memory");
      goto done;
    }
  }

  const sg_json_value *ref = sg_json_get(root, "reference");
  if (ref && ref->type == SG_JSON_OBJECT) {
    m->reference.present = 1;
    get_str(ref, "path", m->reference.path, sizeof m->reference.path);
    m->reference.measured_tempo_bpm = sg_json_get_num(ref, "measured_tempo_bpm", 0);
    m->reference.offset_ms = sg_json_get_num(ref, "offset_ms", 0);
    m->reference.drift_ms = sg_json_get_num(ref, "drift_ms", 0);
    get_str(ref, "conversion", m->reference.conversion, sizeof m->reference.conversion);
  }

  const sg_json_value *files = sg_json_get(root, "files");
  if (!files || files->type != SG_JSON_ARRAY) {
    st = sg_diag_fail(d, SG_E_FORMAT, "manifest: 'files' is missing or not an array");
    goto done;
  }
  size_t idx = 0;
  for (const sg_json_value *f = files->child; f; f = f->next, ++idx) {
    sg_manifest_file mf;
    memset(&mf, 0, sizeof mf);
    const char *name = sg_json_get_str(f, "archive_name", NULL);
    const char *sha = sg_json_get_str(f, "sha256", NULL);
    if (!name || !name[0] || strlen(name) >= sizeof mf.archive_name || !sha || !is_hex64(sha)) {
      st = sg_diag_fail(d, SG_E_FORMAT,
                        "manifest: files[%zu] needs an archive_name (< 256 bytes) and a "
                        "64-digit lowercase sha256",
                        idx);
      goto done;
    }
    copy(mf.archive_name, sizeof mf.archive_name, name);
    copy(mf.sha256, sizeof mf.sha256, sha);
    if (role_parse(sg_json_get_str(f, "role", ""), &mf.role) != SG_OK)
      mf.role = SG_ROLE_OTHER;
    get_str(f, "stem", mf.stem, sizeof mf.stem);
    double bytes = sg_json_get_num(f, "bytes", 0);
    mf.bytes = bytes >= 0 && bytes < 1.8e19 ? (uint64_t)bytes : 0;
    mf.compressed = sg_json_get_bool(f, "compressed", 0);
    const sg_json_value *a = sg_json_get(f, "audio");
    if (a && a->type == SG_JSON_OBJECT) {
      mf.is_audio = 1;
      if (sg_sample_format_parse(sg_json_get_str(a, "format", ""), &mf.format) != SG_OK)
        mf.format = SG_FMT_OTHER;
      mf.rate = get_u(a, "sample_rate");
      mf.channels = get_u(a, "channels");
      mf.bits = get_int(a, "bits");
      mf.frames = get_i64(a, "frames");
      mf.duration_sec = sg_json_get_num(a, "duration_sec", 0);
    }
    const sg_json_value *l = sg_json_get(f, "loudness");
    if (l && l->type == SG_JSON_OBJECT) {
      mf.loudness.valid = 1;
      mf.loudness.integrated_lufs = sg_json_get_num(l, "integrated_lufs", NAN);
      mf.loudness.true_peak_dbtp = sg_json_get_num(l, "true_peak_dbtp", NAN);
      mf.loudness.sample_peak_dbfs = sg_json_get_num(l, "sample_peak_dbfs", NAN);
    }
    st = sg_manifest_add_file(m, &mf);
    if (st != SG_OK) {
      sg_diag_fail(d, st == SG_E_INVAL ? SG_E_FORMAT : st,
                   "manifest: files[%zu] '%s' is listed twice", idx, mf.archive_name);
      st = st == SG_E_INVAL ? SG_E_FORMAT : st;
      goto done;
    }
  }

  const sg_json_value *gates = sg_json_get(root, "gates");
  if (gates && gates->type == SG_JSON_ARRAY && gates->n) {
    m->gates = calloc(gates->n, sizeof *m->gates);
    if (!m->gates) {
      st = sg_diag_fail(d, SG_E_NOMEM, "manifest: out of memory");
      goto done;
    }
    for (const sg_json_value *g = gates->child; g; g = g->next) {
      sg_gate_result *r = &m->gates[m->n_gates++];
      get_str(g, "step", r->step, sizeof r->step);
      get_str(g, "stem", r->stem, sizeof r->stem);
      get_str(g, "check", r->check, sizeof r->check);
      get_str(g, "unit", r->unit, sizeof r->unit);
      get_str(g, "detail", r->detail, sizeof r->detail);
      r->measured = sg_json_get_num(g, "measured", NAN);
      r->limit = sg_json_get_num(g, "limit", NAN);
      r->target = sg_json_get_num(g, "target", NAN);
      r->cmp = SG_CMP_INFO;
      const char *c = sg_json_get_str(g, "cmp", "info");
      for (int k = 0; k < N_CMP; ++k)
        if (strcmp(c, cmp_names[k]) == 0)
          r->cmp = (sg_cmp)k;
      r->pass = sg_json_get_bool(g, "pass", 0);
      r->required = sg_json_get_bool(g, "required", 0);
      const char *sev = sg_json_get_str(g, "severity", r->required ? "fail" : "warn");
      r->severity = !strcmp(sev, "fail")   ? SG_SEV_FAIL
                    : !strcmp(sev, "info") ? SG_SEV_INFO
                                           : SG_SEV_WARN;
      const sg_check_def *def = sg_check_find(r->check);
      r->id = def ? def->id : SG_CHECK_COUNT; /* a check this version does not know */
    }
  }

done:
  sg_json_doc_free(doc);
  if (st != SG_OK)
    sg_manifest_free(m);
  return st;
}

/* ---- describing a file on disk ------------------------------------------------------------- */

sg_status sg_manifest_file_describe(sg_manifest_file *f, const char *path, const char *archive_name,
                                    sg_pkg_role role, const char *stem, sg_diag *d) {
  return sg__manifest_file_describe(f, path, archive_name, role, stem, NULL, d);
}

sg_status sg__manifest_file_describe(sg_manifest_file *f, const char *path,
                                     const char *archive_name, sg_pkg_role role, const char *stem,
                                     const char *sha256, sg_diag *d) {
  if (!f || !path || !archive_name)
    return sg_diag_fail(d, SG_E_INVAL, "manifest: NULL argument");
  memset(f, 0, sizeof *f);
  if (strlen(archive_name) >= sizeof f->archive_name)
    return sg_diag_fail(d, SG_E_RANGE, "archive name '%s' is longer than 255 bytes", archive_name);
  copy(f->archive_name, sizeof f->archive_name, archive_name);
  f->role = role;
  copy(f->stem, sizeof f->stem, stem);
  struct stat sb;
  if (stat(path, &sb) != 0)
    return sg_diag_fail(d, SG_E_IO, "cannot stat '%s'", path);
  f->bytes = (uint64_t)sb.st_size;
  sg_status st = SG_OK;
  if (sha256 && strlen(sha256) == 64)
    copy(f->sha256, sizeof f->sha256, sha256);
  else
    st = sg_sha256_file(path, f->sha256, d);
  if (st != SG_OK)
    return st;
  if (role == SG_ROLE_MASTER || role == SG_ROLE_STEM) {
    sg_audio_reader *r = NULL;
    sg_audio_info info;
    st = sg_audio_reader_open(&r, path, &info, d);
    if (st != SG_OK)
      return st;
    sg_audio_reader_close(r);
    f->is_audio = 1;
    f->format = info.format;
    f->rate = info.rate;
    f->channels = info.channels;
    f->bits = info.bits;
    f->frames = info.frames;
    f->duration_sec = info.rate ? (double)info.frames / info.rate : 0;
  }
  return SG_OK;
}
