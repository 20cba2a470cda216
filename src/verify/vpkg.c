/* Package access for verify: a zip (through the package module's hostile-safe reader) or a folder
 * of files, seen the same way, and the rules that match files to the spec's stems. */
#include "verify_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int ends_with_ci(const char *s, const char *suf) {
  size_t n = strlen(s), k = strlen(suf);
  if (k > n)
    return 0;
  for (size_t i = 0; i < k; ++i)
    if (tolower((unsigned char)s[n - k + i]) != tolower((unsigned char)suf[i]))
      return 0;
  return 1;
}

int sg__is_audio_name(const char *name) {
  return ends_with_ci(name, ".wav") || ends_with_ci(name, ".wave") || ends_with_ci(name, ".bwf") ||
         ends_with_ci(name, ".rf64");
}

static sg_status push_name(sg__vpkg *p, const char *name, sg_diag *d) {
  if (p->n >= SG_VERIFY_MAX_DIR_ENTRIES)
    return sg_diag_fail(d, SG_E_LIMIT, "'%s' holds more than %d entries; refusing to read it",
                        p->path, SG_VERIFY_MAX_DIR_ENTRIES);
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 32;
    char **v = realloc(p->names, cap * sizeof *v);
    if (!v)
      return sg_diag_fail(d, SG_E_NOMEM, "out of memory listing '%s'", p->path);
    p->names = v;
    p->cap = cap;
  }
  size_t len = strlen(name);
  char *c = malloc(len + 1);
  if (!c)
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory listing '%s'", p->path);
  memcpy(c, name, len + 1);
  p->names[p->n++] = c;
  return SG_OK;
}

static sg_status open_zip(sg__vpkg *p, const char *path, sg_diag *d) {
  p->is_zip = 1;
  snprintf(p->path, sizeof p->path, "%s", path);
  sg_status st = sg_zip_reader_open(&p->zip, path, NULL, d);
  if (st != SG_OK)
    return st;
  size_t n = sg_zip_reader_count(p->zip);
  for (size_t i = 0; i < n; ++i) {
    const sg_zip_entry *e = sg_zip_reader_entry(p->zip, i);
    /* Directory entries carry no data; keep the index mapping 1:1 with the reader anyway. */
    st = push_name(p, e && !e->is_dir ? e->name : "", d);
    if (st != SG_OK)
      return st;
  }
  return SG_OK;
}

sg_status sg__vpkg_open(sg__vpkg *p, const char *path, sg_diag *d) {
  memset(p, 0, sizeof *p);
  if (!path || !path[0])
    return sg_diag_fail(d, SG_E_INVAL, "no package given");
  struct stat sb;
  if (stat(path, &sb) != 0)
    return sg_diag_fail(d, SG_E_IO, "package '%s' does not exist or cannot be read", path);
  if (!S_ISDIR(sb.st_mode)) {
    snprintf(p->note, sizeof p->note, "zip");
    return open_zip(p, path, d);
  }
  /* A render's output folder delivers through DIR/current (a link flipped to each new set of
   * files): verify that set. The folder is resolved once, so a render switching sets while
   * verify reads cannot hand it files of two sets. */
  char cur[SG_MAX_PATH + 300], lock[SG_MAX_PATH + 300], real[PATH_MAX];
  snprintf(cur, sizeof cur, "%s/current", path);
  snprintf(lock, sizeof lock, "%s/.stemgate.lock", path);
  struct stat cs;
  const int render_dir = lstat(cur, &cs) == 0 && S_ISLNK(cs.st_mode) && stat(lock, &sb) == 0;
  if (!realpath(render_dir ? cur : path, real))
    return sg_diag_fail(d, SG_E_IO, "package '%s' does not exist or cannot be read", path);
  if (render_dir) {
    if (stat(real, &sb) != 0 || !S_ISDIR(sb.st_mode))
      return sg_diag_fail(d, SG_E_IO, "'%s' does not name a folder of delivered files", cur);
  }
  snprintf(p->dir, sizeof p->dir, "%s", real);
  snprintf(p->path, sizeof p->path, "%s", render_dir ? cur : path);
  path = p->dir;
  DIR *dh = opendir(path);
  if (!dh)
    return sg_diag_fail(d, SG_E_IO, "cannot list folder '%s'", path);
  sg_status st = SG_OK;
  size_t n_zip = 0, n_audio = 0, n_links = 0;
  char zip_name[SG_MAX_PATH + 300] = "";
  struct dirent *de;
  while (st == SG_OK && (de = readdir(dh)) != NULL) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
      continue;
    char full[SG_MAX_PATH + 300];
    snprintf(full, sizeof full, "%s/%s", path, de->d_name);
    struct stat es;
    if (lstat(full, &es) != 0)
      continue;
    if (S_ISLNK(es.st_mode)) { /* a link could point anywhere: not part of a delivery */
      ++n_links;
      continue;
    }
    if (!S_ISREG(es.st_mode))
      continue;
    if (sg_zip_name_check(de->d_name, NULL) != SG_OK)
      continue;
    if (ends_with_ci(de->d_name, ".zip")) {
      if (++n_zip == 1)
        snprintf(zip_name, sizeof zip_name, "%s", full);
    }
    if (sg__is_audio_name(de->d_name))
      ++n_audio;
    st = push_name(p, de->d_name, d);
  }
  closedir(dh);
  if (st != SG_OK)
    return st;
  if (n_audio == 0 && n_zip == 1) {
    for (size_t i = 0; i < p->n; ++i)
      free(p->names[i]);
    p->n = 0;
    p->dir[0] = 0;
    snprintf(p->note, sizeof p->note, "the one zip in the folder");
    return open_zip(p, zip_name, d);
  }
  if (n_audio == 0 && n_zip > 1) {
    p->n_packages = n_zip;
    return sg_diag_fail(d, SG_E_INVAL,
                        "folder '%s' holds %zu zip files and no audio: give exactly one package",
                        path, n_zip);
  }
  /* Sorted names: the same folder gives the same report on every file system. */
  for (size_t i = 1; i < p->n; ++i)
    for (size_t j = i; j > 0 && strcmp(p->names[j - 1], p->names[j]) > 0; --j) {
      char *t = p->names[j];
      p->names[j] = p->names[j - 1];
      p->names[j - 1] = t;
    }
  snprintf(p->note, sizeof p->note, "folder%s", n_links ? " (symbolic links ignored)" : "");
  return SG_OK;
}

void sg__vpkg_close(sg__vpkg *p) {
  if (!p)
    return;
  sg_zip_reader_close(p->zip);
  for (size_t i = 0; i < p->n; ++i)
    free(p->names[i]);
  free(p->names);
  memset(p, 0, sizeof *p);
}

sg_status sg__vpkg_open_audio(sg__vpkg *p, size_t i, sg__vaudio *a, sg_audio_info *info,
                              sg_diag *d) {
  return sg__vpkg_open_audio_in(p, NULL, i, 0, a, info, d);
}

sg_status sg__vaudio_sha256(sg__vaudio *a, char hex[65], sg_diag *d) {
  return sg_zip_audio_sha256(a->za, hex, d);
}

sg_status sg__vpkg_open_audio_in(sg__vpkg *p, sg_zip_reader *zr, size_t i, int hash, sg__vaudio *a,
                                 sg_audio_info *info, sg_diag *d) {
  memset(a, 0, sizeof *a);
  if (i >= p->n)
    return sg_diag_fail(d, SG_E_INVAL, "no entry %zu", i);
  if (p->is_zip) {
    zr = zr ? zr : p->zip;
    const sg_zip_entry *e = sg_zip_reader_entry(zr, i);
    if (!e)
      return sg_diag_fail(d, SG_E_INVAL, "no entry %zu", i);
    sg_status st = hash ? sg_zip_audio_open_sha256(&a->za, zr, e, info, d)
                        : sg_zip_audio_open(&a->za, zr, e, info, d);
    if (st == SG_OK)
      a->ar = sg_zip_audio_reader(a->za);
    return st;
  }
  char full[SG_MAX_PATH + 300];
  snprintf(full, sizeof full, "%s/%s", p->dir, p->names[i]);
  return sg_audio_reader_open(&a->ar, full, info, d);
}

sg_audio_reader *sg__vaudio_reader(sg__vaudio *a) { return a->ar; }

void sg__vaudio_close(sg__vaudio *a) {
  if (a->za)
    sg_zip_audio_close(a->za);
  else if (a->ar)
    sg_audio_reader_close(a->ar);
  memset(a, 0, sizeof *a);
}

/* ---- matching -------------------------------------------------------------------------------- */

/* Matches pattern (0x01 = one or more digits) at name, case-insensitively, to the end. */
static int match_here(const char *p, const char *n) {
  for (;;) {
    if (!*p)
      return !*n;
    if (*p == '\x01') {
      if (!isdigit((unsigned char)*n))
        return 0;
      while (isdigit((unsigned char)*n)) {
        ++n;
        if (match_here(p + 1, n))
          return 1;
      }
      return 0;
    }
    if (tolower((unsigned char)*p) != tolower((unsigned char)*n))
      return 0;
    ++p;
    ++n;
  }
}

int sg__name_match(const char *pattern, const char *name) {
  if (match_here(pattern, name))
    return 1;
  for (const char *s = strchr(name, '/'); s; s = strchr(s + 1, '/'))
    if (match_here(pattern, s + 1))
      return 1;
  return 0;
}

/* Lowercase letters and digits only: "Deja-Vu_GUITARS 01" -> "dejavuguitars01". */
static void squash(const char *s, char *out, size_t cap) {
  size_t k = 0;
  for (; *s && k + 1 < cap; ++s)
    if (isalnum((unsigned char)*s))
      out[k++] = (char)tolower((unsigned char)*s);
  out[k] = 0;
}

static void strip_prefix(char *s, const char *pre) {
  size_t k = strlen(pre);
  if (k && !strncmp(s, pre, k) && s[k])
    memmove(s, s + k, strlen(s + k) + 1);
}

static void strip_suffix(char *s, const char *suf) {
  size_t n = strlen(s), k = strlen(suf);
  if (k && n > k && !strcmp(s + n - k, suf))
    s[n - k] = 0;
}

/* Families of names people give the same part. The first word of each is only a label. */
static const char *const families[][8] = {
    {"master", "mix", "main", "mixdown", "fullmix", "stereomix", "mastered", NULL},
    {"guitar", "guitars", "gtr", "gtrs", "gt", NULL},
    {"bass", "basses", "bassgtr", "subbass", NULL},
    {"synth", "synths", "synthesizer", "synthesizers", "syn", NULL},
    {"drums", "drum", "drumkit", "kit", "drm", NULL},
    {"keys", "key", "keyboard", "keyboards", "piano", "epiano", "rhodes", NULL},
    {"pad", "pads", NULL},
    {"vocals", "vocal", "vox", "voice", "leadvocal", NULL},
    {"percussion", "perc", "percs", NULL},
    {"strings", "string", "str", NULL},
    {"bridge", "bridges", NULL},
};

static int in_family(const char *word, const char *cand) {
  if (!strcmp(word, cand))
    return 1;
  /* Plurals: "guitars" ~ "guitar". */
  size_t a = strlen(word), b = strlen(cand);
  if (a + 1 == b && cand[b - 1] == 's' && !strncmp(word, cand, a))
    return 1;
  if (b + 1 == a && word[a - 1] == 's' && !strncmp(word, cand, b))
    return 1;
  for (size_t f = 0; f < sizeof families / sizeof families[0]; ++f) {
    int w = 0, c = 0;
    for (int i = 0; families[f][i]; ++i) {
      w |= !strcmp(families[f][i], word);
      c |= !strcmp(families[f][i], cand);
    }
    if (w && c)
      return 1;
  }
  return 0;
}

int sg__common_match(const char *stem, int is_master, const char *slug, const char *name) {
  const char *base = strrchr(name, '/');
  base = base ? base + 1 : name;
  if (!sg__is_audio_name(base))
    return 0;
  char file[256], tmp[256], word[128], sl[128];
  snprintf(tmp, sizeof tmp, "%s", base);
  char *dot = strrchr(tmp, '.');
  if (dot)
    *dot = 0;
  squash(tmp, file, sizeof file);
  squash(slug ? slug : "", sl, sizeof sl);
  squash(is_master ? "master" : stem, word, sizeof word);
  /* Drop what decorates a part name: the song, "stem", "track", a numbering. */
  strip_prefix(file, sl);
  strip_suffix(file, sl);
  strip_suffix(file, "stem");
  strip_prefix(file, "stem");
  strip_prefix(file, "track");
  while (isdigit((unsigned char)file[0]) && file[1])
    memmove(file, file + 1, strlen(file));
  while (strlen(file) > 1 && isdigit((unsigned char)file[strlen(file) - 1]))
    file[strlen(file) - 1] = 0;
  if (!file[0])
    return 0;
  return in_family(word, file);
}
