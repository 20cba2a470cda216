/* Incremental cache keys: a SHA-256 over a canonical text of everything that decides a file's
 * audio — and nothing else. Positions in the spec, comments and the order of unrelated stems do
 * not enter, so editing one stem re-renders that stem only. The tool version enters every key:
 * a new stemgate never trusts an old render. */
#include "pipeline_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
  put(h, "tool", "stemgate %s cache 2", sg_version()); /* bump on any change to file bytes */
  put(h, "title", "%s|%s", s->title, s->slug);
  put(h, "tempo", "%lld/%lld", (long long)tl->tempo_num, (long long)tl->tempo_den);
  put(h, "meter", "%d/%d", s->meter_num, s->meter_den);
  put(h, "rate", "%u", s->sample_rate);
  put(h, "format", "%s", sg_sample_format_name(s->format));
  put(h, "channels", "%u", s->channels);
  put(h, "origin", "%lld", (long long)tl->origin_frame);
  put(h, "map", "%zu", tl->n_quarter_frames);
  if (tl->quarter_frames && tl->n_quarter_frames)
    sg_sha256_update(h, tl->quarter_frames, tl->n_quarter_frames * sizeof(int64_t));
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

sg_status sg__cache_key_dry(const sg_song *s, const sg_timeline *tl, const sg_stem_spec *st,
                            const char *extra, char hex[65]) {
  sg_sha256 h;
  sg_status rc = sg_sha256_init(&h);
  if (rc != SG_OK)
    return rc;
  put_song(&h, s, tl);
  put(&h, "stem", "%s", st->name.s);
  put(&h, "instrument", "%s|%s|%s|%s", st->instrument.s, st->patch.s, st->style.s, st->role.s);
  put_params(&h, "override", &st->overrides);
  put(&h, "pattern", "%s", st->pattern.s);
  for (int i = 0; i < st->n_sections; ++i)
    put(&h, "plays", "%s", st->sections[i].s);
  put(&h, "octave", "%d", st->octave);
  put(&h, "midi", "%s", st->midi_file);
  put(&h, "soundfont", "%s|%d", st->soundfont, st->program);
  put(&h, "extra", "%s", extra ? extra : ""); /* hashes of input files (MIDI, SoundFont) */
  return sg_sha256_final(&h, hex);
}

sg_status sg__cache_key_final(const char dry_key[65], const sg_stem_spec *st, const char *side_key,
                              double bpm, char hex[65]) {
  sg_sha256 h;
  sg_status rc = sg_sha256_init(&h);
  if (rc != SG_OK)
    return rc;
  put(&h, "dry", "%s", dry_key);
  put(&h, "gain", "%.17g|%.17g", st->gain_db, st->pan);
  put(&h, "bpm", "%.17g", bpm);
  put_effects(&h, st->effects, st->n_effects);
  put(&h, "sidechain", "%s|%s", st->sidechain, side_key ? side_key : "");
  return sg_sha256_final(&h, hex);
}

/* The cache record beside each output: "<key>\n<sha256 of the file>\n<value>\n", where value
 * is the one measurement that cannot be taken from the file again (what the end fade cut). */
static void record_path(const char *file, char *out, size_t cap) {
  snprintf(out, cap, "%s.sgcache", file);
}

int sg__cache_hit(const char *file, const char key[65], double *value) {
  char rec[1100], k[80] = "", sha[80] = "", now[65];
  record_path(file, rec, sizeof rec);
  FILE *f = fopen(rec, "r");
  if (!f)
    return 0;
  double v = 0;
  int ok = fscanf(f, "%70s %70s %lf", k, sha, &v) == 3;
  if (ok && value)
    *value = v;
  fclose(f);
  if (!ok || strcmp(k, key) != 0)
    return 0;
  /* The file must still be what was rendered: a hand-edited output is rendered again. */
  return sg_sha256_file(file, now, NULL) == SG_OK && strcmp(now, sha) == 0;
}

sg_status sg__cache_store(const char *file, const char key[65], double value, sg_diag *d) {
  char rec[1100], tmp[1120], sha[65];
  sg_status st = sg_sha256_file(file, sha, d);
  if (st != SG_OK)
    return st;
  record_path(file, rec, sizeof rec);
  snprintf(tmp, sizeof tmp, "%s.partial", rec);
  FILE *f = fopen(tmp, "w");
  if (!f)
    return sg_diag_fail(d, SG_E_IO, "cannot write cache record '%s'", tmp);
  int ok = fprintf(f, "%s\n%s\n%.17g\n", key, sha, value) > 0;
  ok &= fclose(f) == 0;
  if (!ok || rename(tmp, rec) != 0) {
    remove(tmp);
    return sg_diag_fail(d, SG_E_IO, "cannot write cache record '%s'", rec);
  }
  return SG_OK;
}
