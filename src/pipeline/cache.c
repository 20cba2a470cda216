/* Incremental cache keys: a SHA-256 over a canonical text of everything that decides a file's
 * audio — and nothing else. Positions in the spec, comments and the order of unrelated stems do
 * not enter, so editing one stem re-renders that stem only. The tool version enters every key:
 * a new stemgate never trusts an old render. */
#include "pipeline_internal.h"

#include "package/json.h"

#include "stemgate/package.h"
#include "stemgate/zip.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void put(sg_sha256 *h, const char *tag, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void put(sg_sha256 *h, const char *tag, const char *fmt, ...) {
  char buf[SG_MAX_TEXT + 256];
  int n = snprintf(buf, sizeof buf, "%s=", tag);
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
  va_end(ap);
  size_t len = (size_t)n + (k > 0 ? (size_t)k : 0);
  if (len >= sizeof buf - 1)
    len = sizeof buf - 2;
  buf[len++] = '\n';
  sg_sha256_update(h, buf, len);
}

static void put_params(sg_sha256 *h, const char *tag, const sg_param_set *ps) {
  for (int i = 0; i < ps->n; ++i)
    put(h, tag, "%s:%s", ps->v[i].key, ps->v[i].text);
}

static void put_effects(sg_sha256 *h, const sg_effect_spec *fx, int n) {
  for (int i = 0; i < n; ++i) {
    put(h, "fx", "%s", fx[i].type.s);
    put_params(h, "fxp", &fx[i].params);
  }
}

/* Song-wide inputs every stem depends on: grid, harmony, randomness, format. */
static void put_song(sg_sha256 *h, const sg_song *s, const sg_timeline *tl) {
  put(h, "tool", "stemgate %s " SG__CACHE_EPOCH, sg_version());
  char date[11], tm[9];
  sg__bext_date(date, tm); /* delivered files carry it in bext */
  put(h, "date", "%s %s", date, tm);
  put(h, "title", "%s|%s", s->title, s->slug);
  put(h, "tempo", "%lld/%lld", (long long)tl->tempo_num, (long long)tl->tempo_den);
  put(h, "meter", "%d/%d", s->meter_num, s->meter_den);
  put(h, "rate", "%u", s->sample_rate);
  put(h, "format", "%s", sg_sample_format_name(s->format));
  put(h, "channels", "%u", s->channels);
  put(h, "origin", "%lld", (long long)tl->origin_frame);
  /* The dry renders' length, not the files': the ring-out estimate (effects) must not make
   * every dry stem render again. Final stems and the master add file_frames. */
  put(h, "ending", "%s|%lld|%lld", sg_ending_name(tl->ending), (long long)tl->dry_frames,
      (long long)tl->fade_start_frame);
  put(h, "map", "%zu", tl->n_quarter_frames);
  if (tl->quarter_frames && tl->n_quarter_frames)
    sg_sha256_update(h, tl->quarter_frames, tl->n_quarter_frames * sizeof(int64_t));
  for (int k = 0; tl->tempo_varies && k < tl->n_tempo; ++k) { /* the spec's tempo map */
    const sg_tempo_segment *g = &tl->tempo[k];
    put(h, "tempo_seg", "%lld|%lld|%lld/%lld|%lld/%lld|%lld|%d", (long long)g->start_bar,
        (long long)g->rel_frame, (long long)g->tempo_num, (long long)g->tempo_den,
        (long long)g->to_num, (long long)g->to_den, (long long)g->ramp_bars, (int)g->curve);
  }
  put(h, "key", "%s", s->key.s);
  put(h, "style", "%s", s->style.s);
  put(h, "seed", "%llu", (unsigned long long)s->seed);
  put(h, "swing", "%.17g", s->swing);
  put(h, "humanize", "%.17g/%.17g", s->humanize_ms, s->humanize_velocity);
  for (int i = 0; i < tl->n_sections; ++i) {
    const sg_section_spec *x = &s->sections[i];
    put(h, "section", "%s|%lld|%lld|%s|%s|%s|%s", x->name.s, (long long)tl->sections[i].start_bar,
        (long long)tl->sections[i].bars, x->key.s, x->chords.s, x->progression.s, x->energy.s);
  }
}

/* The spec's gate limits: a node's rows depend on them (the check table's own limits are the
 * engine's and enter with its version). */
static void put_limits(sg_sha256 *h, const sg_song *s) {
  const sg_gate_limits *l = &s->limits;
  put(h, "limits", "%.17g|%.17g|%.17g|%.17g|%.17g|%.17g|%.17g", l->sync_ms, l->length_tolerance_ms,
      l->dc_offset, l->silence_dbfs, l->key_window_sec, l->tail_s, l->limiter_gr_db);
}

sg_status sg__cache_key_dry(const sg_song *s, const sg_timeline *tl, const sg_stem_spec *st,
                            const char *extra, char hex[65]) {
  sg_sha256 h;
  sg_status rc = sg_sha256_init(&h);
  if (rc != SG_OK)
    return rc;
  put_song(&h, s, tl);
  put_limits(&h, s);
  put(&h, "stem", "%s", st->name.s);
  put(&h, "instrument", "%s|%s|%s|%s", st->instrument.s, st->patch.s, st->style.s, st->role.s);
  put_params(&h, "override", &st->overrides);
  put(&h, "pattern", "%s", st->pattern.s);
  for (int i = 0; i < st->n_sections; ++i)
    put(&h, "plays", "%s", st->sections[i].s);
  put(&h, "tacet", "%d", st->tacet);
  put(&h, "octave", "%d", st->octave);
  put(&h, "midi", "%s", st->midi_file);
  put(&h, "soundfont", "%s|%d", st->soundfont, st->program);
  put(&h, "extra", "%s", extra ? extra : ""); /* hashes of input files (MIDI, SoundFont) */
  return sg_sha256_final(&h, hex);
}

sg_status sg__cache_key_final(const char dry_key[65], const sg_stem_spec *st, const char *side_key,
                              double bpm, int64_t file_frames, char hex[65]) {
  sg_sha256 h;
  sg_status rc = sg_sha256_init(&h);
  if (rc != SG_OK)
    return rc;
  put(&h, "dry", "%s", dry_key);
  put(&h, "gain", "%.17g|%.17g", st->gain_db, st->pan);
  put(&h, "bpm", "%.17g", bpm);
  put(&h, "frames", "%lld", (long long)file_frames);
  put_effects(&h, st->effects, st->n_effects);
  put(&h, "sidechain", "%s|%s", st->sidechain, side_key ? side_key : "");
  return sg_sha256_final(&h, hex);
}

/* ---- node records ----------------------------------------------------------------------------
 *
 * Every node of the render (a stem's dry render, its effects, the master, the package, the final
 * verification) leaves a record in work/nodes/: its key, the SHA-256 of each file it wrote, the
 * numbers and texts later steps read from it (loudness for the manifest, the chain for the
 * notes) and its gate rows. A node whose key matches and whose files still hash to what was
 * recorded is not run again: its rows are reported as they were measured, so an unchanged song
 * decodes no audio. Numbers are stored as C99 hex floats ("%a") so they come back bit for bit
 * (the manifest carries them), and -inf and NaN survive, which JSON numbers cannot carry. */

void sg__node_init(sg__node *n, const char key[65]) {
  memset(n, 0, sizeof *n);
  if (key)
    snprintf(n->key, sizeof n->key, "%s", key);
  sg_gate_report_init(&n->rows);
}

void sg__node_free(sg__node *n) {
  sg_gate_report_free(&n->rows);
  for (int i = 0; i < n->nt; ++i)
    free(n->text[i]);
  n->nt = n->nv = n->nf = 0;
}

void sg__node_num(sg__node *n, const char *name, double v) {
  for (int i = 0; i < n->nv; ++i)
    if (!strcmp(n->vname[i], name)) {
      n->val[i] = v;
      return;
    }
  if (n->nv < SG__NODE_VALS) {
    snprintf(n->vname[n->nv], sizeof n->vname[0], "%s", name);
    n->val[n->nv++] = v;
  }
}

double sg__node_get_num(const sg__node *n, const char *name, double def) {
  for (int i = 0; i < n->nv; ++i)
    if (!strcmp(n->vname[i], name))
      return n->val[i];
  return def;
}

void sg__node_text(sg__node *n, const char *name, const char *s) {
  if (n->nt >= SG__NODE_TEXTS)
    return;
  char *c = malloc(strlen(s) + 1);
  if (!c)
    return;
  strcpy(c, s);
  snprintf(n->tname[n->nt], sizeof n->tname[0], "%s", name);
  n->text[n->nt++] = c;
}

const char *sg__node_get_text(const sg__node *n, const char *name, const char *def) {
  for (int i = 0; i < n->nt; ++i)
    if (!strcmp(n->tname[i], name))
      return n->text[i];
  return def;
}

/* ---- the stat cache ----------------------------------------------------------------------------
 *
 * Hashing every delivered file to learn that nothing changed costs more than the rest of an
 * unchanged re-render (630 MB of SHA-256 for deja-vu). As git's index does, a file's stat is
 * cached when it hashes to its recorded SHA-256; a later run trusts the hash without reading the
 * file while the stat is the same: size, mtime and ctime to the nanosecond, inode and device. An
 * edit, a truncation or a replacement changes the mtime or the inode; writing the same number of
 * bytes and setting the mtime back (utimensat) still moves the ctime, which no process sets back.
 * Racy rule: a file whose mtime is not older than the cache entry itself may have been written in
 * the same clock tick after it was taken, so it is hashed. The cache lives in work/nodes/.stat/,
 * apart from the records, which stay the same bytes for any --jobs and any machine; each entry
 * names the SHA-256 it vouches for, so a stale one never vouches for a different record. */

static int take_stat(const char *path, sg__fstat *o) {
  struct stat sb;
  memset(o, 0, sizeof *o);
  if (stat(path, &sb) != 0)
    return 0;
  o->have = o->checked = 1;
  o->size = (long long)sb.st_size;
  o->mt_s = (long long)sb.st_mtim.tv_sec;
  o->mt_ns = (long long)sb.st_mtim.tv_nsec;
  o->ct_s = (long long)sb.st_ctim.tv_sec;
  o->ct_ns = (long long)sb.st_ctim.tv_nsec;
  o->ino = (long long)sb.st_ino;
  o->dev = (long long)sb.st_dev;
  return 1;
}

/* The same file with the same bytes as far as stat can tell, ctime aside. */
static int same_content_stat(const sg__fstat *a, const sg__fstat *b) {
  return a->have && b->have && a->size == b->size && a->mt_s == b->mt_s && a->mt_ns == b->mt_ns &&
         a->ino == b->ino && a->dev == b->dev;
}

static void stat_path(const char *record, char *out, size_t cap) {
  const char *slash = strrchr(record, '/');
  size_t dir = slash ? (size_t)(slash - record) : 0;
  snprintf(out, cap, "%.*s%s.stat/%s", (int)dir, record, slash ? "/" : "",
           slash ? slash + 1 : record);
}

static void load_stats(const char *record, sg__node *n) {
  char path[SG_MAX_PATH + 96], line[256];
  stat_path(record, path, sizeof path);
  FILE *f = fopen(path, "rb");
  struct stat sb;
  if (!f)
    return;
  if (fstat(fileno(f), &sb) == 0) {
    n->fst_s = (long long)sb.st_mtim.tv_sec;
    n->fst_ns = (long long)sb.st_mtim.tv_nsec;
    while (fgets(line, sizeof line, f)) {
      int i = -1;
      char sha[65];
      sg__fstat x = {1, 0, 0, 0, 0, 0, 0, 0, 0};
      if (sscanf(line, "%d %64s %lld %lld %lld %lld %lld %lld %lld", &i, sha, &x.size, &x.mt_s,
                 &x.mt_ns, &x.ct_s, &x.ct_ns, &x.ino, &x.dev) == 9 &&
          i >= 0 && i < n->nf && !strcmp(sha, n->fsha[i]))
        n->fst[i] = x;
    }
  }
  fclose(f);
}

sg_status sg__record_hash(const char *path, char hex[65], sg_diag *d) {
  unsigned char sig[4] = {0};
  FILE *f = fopen(path, "rb");
  size_t got = f ? fread(sig, 1, 4, f) : 0;
  if (f)
    fclose(f);
  if (got == 4 && !memcmp(sig, "PK\x03\x04", 4))
    return sg_zip_digest_file(path, hex, d);
  return sg_sha256_file(path, hex, d);
}

int sg__node_file_holds(sg__node *n, int i, const char *path) {
  sg__fstat now;
  if (i < 0 || i >= n->nf || !take_stat(path, &now))
    return 0;
  const sg__fstat *c = &n->fst[i];
  int racy = now.mt_s > n->fst_s || (now.mt_s == n->fst_s && now.mt_ns >= n->fst_ns);
  if (same_content_stat(c, &now) && c->ct_s == now.ct_s && c->ct_ns == now.ct_ns && !racy) {
    n->fst[i].checked = 1;
    return 1;
  }
  char hex[65];
  int ok = sg__record_hash(path, hex, NULL) == SG_OK && !strcmp(hex, n->fsha[i]);
  n->fst[i] = now; /* taken before the hash: a write during it moves the mtime */
  n->fst[i].have = ok;
  return ok;
}

void sg__node_stat_save(const char *record, sg__node *n, const char *const *files, int nf) {
  char path[SG_MAX_PATH + 96], tmp[SG_MAX_PATH + 128], text[SG__NODE_FILES * 200];
  size_t len = 0;
  for (int i = 0; i < nf && i < n->nf; ++i) {
    sg__fstat now = n->fst[i]; /* not checked this run: the entry is kept as it was, */
    int racy = now.mt_s > n->fst_s || (now.mt_s == n->fst_s && now.mt_ns >= n->fst_ns);
    if (!now.have || (!now.checked && racy)) /* unless racy then (its file is hashed next) */
      continue;
    if (now.checked && (!take_stat(files[i], &now) || !same_content_stat(&n->fst[i], &now)))
      continue; /* changed since it was hashed: not vouched for */
    n->fst[i] = now;
    int k =
        snprintf(text + len, sizeof text - len, "%d %s %lld %lld %lld %lld %lld %lld %lld\n", i,
                 n->fsha[i], now.size, now.mt_s, now.mt_ns, now.ct_s, now.ct_ns, now.ino, now.dev);
    if (k < 0 || (size_t)k >= sizeof text - len)
      break;
    len += (size_t)k;
  }
  stat_path(record, path, sizeof path);
  char *slash = strrchr(path, '/');
  if (slash) {
    *slash = 0;
    mkdir(path, 0777);
    *slash = '/';
  }
  snprintf(tmp, sizeof tmp, "%s.partial", path);
  FILE *f = fopen(tmp, "wb");
  int ok = f && fwrite(text, 1, len, f) == len;
  if (f && fclose(f) != 0)
    ok = 0;
  if (!ok || rename(tmp, path) != 0)
    remove(tmp);
}

void sg__node_stat_note(sg__node *n, int i, const char *path) {
  if (i >= 0 && i < SG__NODE_FILES)
    take_stat(path, &n->fst[i]);
}

/* Whether the file whose stat is s is the one the writer hashed as it streamed: the same inode,
 * size and mtime as when it was complete (a later write moves the mtime). */
static int streamed_holds(const sg_audio_digest *dg, const sg__fstat *s) {
  return dg && dg->ok && s->have && s->size == dg->size && s->mt_s == dg->mtime_s &&
         s->mt_ns == dg->mtime_ns && s->ino == dg->ino && s->dev == dg->dev;
}

static sg_status node_hash(sg__node *n, const char *const *files, int nf, int crc,
                           const sg_audio_digest *first, sg_diag *d) {
  n->nf = 0;
  for (int i = 0; i < nf && i < SG__NODE_FILES; ++i) {
    take_stat(files[i], &n->fst[i]); /* before the hash: a write during it moves the mtime */
    n->fcrc_ok[i] = 0;
    sg_status st = SG_OK;
    if (i == 0 && streamed_holds(first, &n->fst[0])) { /* a WAV: its record hash is its SHA */
      memcpy(n->fsha[0], first->sha256, sizeof n->fsha[0]);
      n->fcrc[0] = first->crc32;
    } else
      st = crc ? sg_package_file_digest(files[i], n->fsha[i], &n->fcrc[i], d)
               : sg__record_hash(files[i], n->fsha[i], d);
    if (st != SG_OK)
      return st;
    n->fcrc_ok[i] = (unsigned char)(crc != 0);
    n->nf = i + 1;
  }
  return SG_OK;
}

struct sg__hash_job {
  pthread_t th;
  int threaded;
  sg__node *n;
  const char *path;
  sg_status st;
  sg_diag d;
};

static void *hash_job_run(void *arg) {
  sg__hash_job *j = arg;
  const char *files[1] = {j->path};
  j->st = node_hash(j->n, files, 1, 1, NULL, &j->d);
  return NULL;
}

sg_status sg__node_hash_crc_start(sg__node *n, const char *path, sg__hash_job **job, sg_diag *d) {
  sg__hash_job *j = calloc(1, sizeof *j);
  *job = j;
  if (!j) { /* no memory for the job: hashed here */
    const char *files[1] = {path};
    return node_hash(n, files, 1, 1, NULL, d);
  }
  j->n = n;
  j->path = path;
  sg_diag_clear(&j->d);
  j->threaded = pthread_create(&j->th, NULL, hash_job_run, j) == 0;
  if (!j->threaded)
    hash_job_run(j);
  return SG_OK;
}

sg_status sg__node_hash_join(sg__hash_job *j, sg_diag *d) {
  if (!j)
    return SG_OK;
  if (j->threaded)
    pthread_join(j->th, NULL);
  sg_status st = j->st;
  if (st != SG_OK && d)
    *d = j->d;
  free(j);
  return st;
}

sg_status sg__node_hash(sg__node *n, const char *const *files, int nf, const sg_audio_digest *first,
                        sg_diag *d) {
  return node_hash(n, files, nf, 0, first, d);
}

sg_status sg__node_hash_crc(sg__node *n, const char *const *files, int nf,
                            const sg_audio_digest *first, sg_diag *d) {
  return node_hash(n, files, nf, 1, first, d);
}

sg_status sg__node_rows_from(sg__node *n, const sg_gate_report *g, size_t from) {
  sg_gate_report part = *g;
  part.v = g->v + from;
  part.n = g->n - from;
  part.failed = 0;
  for (size_t i = 0; i < part.n; ++i)
    part.failed += part.v[i].required && !part.v[i].pass;
  return sg_gate_report_append(&n->rows, &part);
}

static void kv_hex(sg_json_writer *w, const char *key, double x) {
  char b[64];
  snprintf(b, sizeof b, "%a", x);
  sg_json_kv_string(w, key, b);
}

static double get_hex(const sg_json_value *o, const char *key) {
  const char *s = sg_json_get_str(o, key, "nan");
  return strtod(s, NULL);
}

static void get_copy(const sg_json_value *o, const char *key, char *out, size_t cap) {
  snprintf(out, cap, "%s", sg_json_get_str(o, key, ""));
}

sg_status sg__node_write(const char *record, const sg__node *n, sg_diag *d) {
  sg_json_writer w;
  sg_json_writer_init(&w, 1);
  sg_json_begin_object(&w);
  sg_json_kv_string(&w, "key", n->key);
  sg_json_key(&w, "files");
  sg_json_begin_array(&w);
  for (int i = 0; i < n->nf; ++i)
    sg_json_string(&w, n->fsha[i]);
  sg_json_end_array(&w);
  int crcs = n->nf > 0;
  for (int i = 0; i < n->nf; ++i)
    crcs = crcs && n->fcrc_ok[i];
  if (crcs) { /* the zip entries' CRC-32 of the same files */
    sg_json_key(&w, "crc32");
    sg_json_begin_array(&w);
    for (int i = 0; i < n->nf; ++i) {
      char hex[9];
      snprintf(hex, sizeof hex, "%08x", (unsigned)n->fcrc[i]);
      sg_json_string(&w, hex);
    }
    sg_json_end_array(&w);
  }
  sg_json_key(&w, "values");
  sg_json_begin_object(&w);
  for (int i = 0; i < n->nv; ++i)
    kv_hex(&w, n->vname[i], n->val[i]);
  sg_json_end_object(&w);
  sg_json_key(&w, "texts");
  sg_json_begin_object(&w);
  for (int i = 0; i < n->nt; ++i)
    sg_json_kv_string(&w, n->tname[i], n->text[i]);
  sg_json_end_object(&w);
  sg_json_key(&w, "rows");
  sg_json_begin_array(&w);
  for (size_t i = 0; i < n->rows.n; ++i) {
    const sg_gate_result *g = &n->rows.v[i];
    sg_json_begin_object(&w);
    sg_json_kv_string(&w, "step", g->step);
    sg_json_kv_string(&w, "stem", g->stem);
    sg_json_kv_string(&w, "check", g->check);
    kv_hex(&w, "measured", g->measured);
    kv_hex(&w, "limit", g->limit);
    kv_hex(&w, "target", g->target);
    sg_json_kv_int(&w, "cmp", (int64_t)g->cmp);
    sg_json_kv_string(&w, "unit", g->unit);
    sg_json_kv_bool(&w, "pass", g->pass);
    sg_json_kv_bool(&w, "required", g->required);
    sg_json_kv_int(&w, "severity", (int64_t)g->severity);
    sg_json_kv_string(&w, "detail", g->detail);
    sg_json_end_object(&w);
  }
  sg_json_end_array(&w);
  sg_json_end_object(&w);
  sg_status st = sg_json_writer_status(&w);
  size_t len = 0;
  const char *text = sg_json_writer_text(&w, &len);
  char tmp[SG_MAX_PATH + 16];
  snprintf(tmp, sizeof tmp, "%s.partial", record);
  FILE *f = st == SG_OK ? fopen(tmp, "wb") : NULL;
  int ok = f && fwrite(text, 1, len, f) == len, err = ok ? 0 : errno;
  if (f && fclose(f) != 0 && ok) {
    ok = 0;
    err = errno;
  }
  sg_json_writer_free(&w);
  if (st != SG_OK)
    return sg_diag_fail(d, st, "cannot format node record '%s'", record);
  if (ok && rename(tmp, record) != 0) {
    ok = 0;
    err = errno;
  }
  if (!ok) {
    remove(tmp);
    return sg_diag_fail(d, SG_E_IO, "cannot write node record '%s': %s", record,
                        err ? strerror(err) : "short write");
  }
  return SG_OK;
}

int sg__node_files_hold(sg__node *n, const char *const *files, int nf) {
  if (nf != n->nf)
    return 0;
  for (int i = 0; i < nf; ++i)
    if (!sg__node_file_holds(n, i, files[i]))
      return 0;
  return 1;
}

int sg__node_load(const char *record, const char key[65], const char *const *files, int nf,
                  sg__node *n) {
  sg__node_init(n, key);
  char *text = NULL;
  size_t len = 0;
  FILE *f = fopen(record, "rb");
  if (!f)
    return 0;
  if (fseek(f, 0, SEEK_END) == 0) {
    long sz = ftell(f);
    if (sz > 0 && sz < (64L << 20) && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)sz)))
      len = fread(text, 1, (size_t)sz, f);
  }
  fclose(f);
  sg_json_doc *doc = NULL;
  int ok = text && len && sg_json_parse(text, len, &doc, NULL) == SG_OK;
  free(text);
  const sg_json_value *root = ok ? sg_json_root(doc) : NULL;
  ok = root && (!key || !strcmp(sg_json_get_str(root, "key", ""), key));
  if (ok)
    snprintf(n->key, sizeof n->key, "%s", sg_json_get_str(root, "key", ""));
  const sg_json_value *fl = ok ? sg_json_get(root, "files") : NULL;
  ok = ok && fl && fl->type == SG_JSON_ARRAY && fl->n <= SG__NODE_FILES;
  for (size_t i = 0; ok && i < fl->n; ++i) {
    const sg_json_value *h = sg_json_at(fl, i);
    ok = h && h->type == SG_JSON_STRING;
    if (ok)
      snprintf(n->fsha[n->nf++], sizeof n->fsha[0], "%s", h->str);
  }
  const sg_json_value *cl = ok ? sg_json_get(root, "crc32") : NULL;
  if (cl && cl->type == SG_JSON_ARRAY && cl->n == (size_t)n->nf)
    for (size_t i = 0; i < cl->n; ++i) {
      const sg_json_value *h = sg_json_at(cl, i);
      char *end = NULL;
      unsigned long v =
          h && h->type == SG_JSON_STRING && strlen(h->str) == 8 ? strtoul(h->str, &end, 16) : 0;
      n->fcrc_ok[i] = end && *end == 0 && v <= 0xffffffffUL;
      n->fcrc[i] = (uint32_t)v;
    }
  if (ok)
    load_stats(record, n);
  /* Every file must still be what the node wrote: a corrupted or edited output is rebuilt. */
  ok = ok && (!files || sg__node_files_hold(n, files, nf));
  const sg_json_value *o = ok ? sg_json_get(root, "values") : NULL;
  for (const sg_json_value *v = o ? o->child : NULL; v; v = v->next)
    if (v->type == SG_JSON_STRING && v->key)
      sg__node_num(n, v->key, strtod(v->str, NULL));
  o = ok ? sg_json_get(root, "texts") : NULL;
  for (const sg_json_value *v = o ? o->child : NULL; v; v = v->next)
    if (v->type == SG_JSON_STRING && v->key)
      sg__node_text(n, v->key, v->str);
  o = ok ? sg_json_get(root, "rows") : NULL;
  for (const sg_json_value *g = o ? o->child : NULL; ok && g; g = g->next) {
    sg_gate_result row;
    memset(&row, 0, sizeof row);
    get_copy(g, "step", row.step, sizeof row.step);
    get_copy(g, "stem", row.stem, sizeof row.stem);
    get_copy(g, "check", row.check, sizeof row.check);
    get_copy(g, "unit", row.unit, sizeof row.unit);
    get_copy(g, "detail", row.detail, sizeof row.detail);
    row.measured = get_hex(g, "measured");
    row.limit = get_hex(g, "limit");
    row.target = get_hex(g, "target");
    row.cmp = (sg_cmp)(int)sg_json_get_num(g, "cmp", SG_CMP_INFO);
    row.pass = sg_json_get_bool(g, "pass", 0);
    row.required = sg_json_get_bool(g, "required", 0);
    row.severity = (sg_severity)(int)sg_json_get_num(g, "severity", SG_SEV_INFO);
    const sg_check_def *def = sg_check_find(row.check);
    row.id = def ? def->id : SG_CHECK_COUNT;
    sg_gate_report one = {&row, 1, 1, (size_t)(row.required && !row.pass)};
    ok = def && sg_gate_report_append(&n->rows, &one) == SG_OK;
  }
  sg_json_doc_free(doc);
  if (!ok)
    sg__node_free(n);
  return ok;
}

void sg__node_record_path(const sg__run *r, const char *node, char *out, size_t cap) {
  char safe[SG_MAX_NAME + 16];
  sg_package_safe_name(node, safe, sizeof safe);
  snprintf(out, cap, "%s/nodes/%s.json", r->work, safe);
}

/* The master's key is the bus's (everything the bus before the limiter depends on) and what the
 * limited passes and the delivered file add: names, loudness target, ceiling, the reference. */
sg_status sg__cache_key_master(const sg__run *r, char hex[65]) {
  const sg_song *s = r->song;
  char bus[65];
  sg_status rc = sg__cache_key_bus(r, bus);
  sg_sha256 h;
  if (rc != SG_OK || (rc = sg_sha256_init(&h)) != SG_OK)
    return rc;
  put(&h, "bus", "%s", bus);
  for (int k = 0; k < r->n_stems; ++k)
    put(&h, "stem", "%s", r->stems[k].archive);
  put(&h, "master", "%s|%.17g|%.17g|%.17g", r->master_archive, s->master.loudness_lufs,
      s->master.loudness_tolerance, s->master.true_peak_dbtp);
  put(&h, "reference", "%d|%s|%s", r->has_ref, r->has_ref ? r->ref.source_path : "", r->ref_sha);
  return sg_sha256_final(&h, hex);
}

sg_status sg__cache_key_bus(const sg__run *r, char hex[65]) {
  const sg_song *s = r->song;
  sg_sha256 h;
  sg_status rc = sg_sha256_init(&h);
  if (rc != SG_OK)
    return rc;
  put_song(&h, s, &r->tl);
  put_limits(&h, s);
  for (int k = 0; k < r->n_stems; ++k)
    put(&h, "stem", "%s|%s", r->stems[k].name, r->stems[k].final_key);
  put(&h, "bus", "%.17g", s->master.headroom_db);
  put_effects(&h, s->master.effects, s->master.n_effects);
  put(&h, "bpm", "%.17g", r->bpm);
  put(&h, "frames", "%lld", (long long)r->tl.file_frames);
  const char *nv = getenv("SG_BENCH_NO_FXVERIFY"); /* no verification rows (step_fx.c) */
  put(&h, "fxverify", "%s", nv ? nv : "");
  return sg_sha256_final(&h, hex);
}

sg_status sg__cache_key_text(const char *kind, const char *a, const char *b,
                             const sg_gate_report *g, char hex[65]) {
  sg_sha256 h;
  sg_status rc = sg_sha256_init(&h);
  if (rc != SG_OK)
    return rc;
  put(&h, "tool", "stemgate %s node %s", sg_version(), kind);
  put(&h, "a", "%s", a ? a : "");
  put(&h, "b", "%s", b ? b : "");
  /* The rows so far go into the manifest: the package depends on every one of them. */
  for (size_t i = 0; g && i < g->n; ++i) {
    const sg_gate_result *x = &g->v[i];
    put(&h, "row", "%s|%s|%s|%a|%a|%a|%d|%d|%s", x->step, x->stem, x->check, x->measured, x->limit,
        x->target, x->pass, x->required, x->detail);
  }
  return sg_sha256_final(&h, hex);
}
