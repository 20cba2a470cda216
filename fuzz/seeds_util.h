/* Seed helpers shared by the targets (header-only, each target is one program). */
#ifndef SG_FUZZ_SEEDS_UTIL_H
#define SG_FUZZ_SEEDS_UTIL_H

#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void sg_fuzz_add_text(sg_fuzz_add_fn add, void *user, const char *text) {
  add(user, (const uint8_t *)text, strlen(text));
}

/* Adds the contents of a file; returns 0 when it was read. */
static inline int sg_fuzz_add_file(sg_fuzz_add_fn add, void *user, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = n > 0 ? malloc((size_t)n) : NULL;
  int ok = b && fread(b, 1, (size_t)n, f) == (size_t)n;
  fclose(f);
  if (ok)
    add(user, b, (size_t)n);
  free(b);
  return ok ? 0 : -1;
}

/* Adds every file of $SG_SOURCE_DIR/sub ending in ext (the bundled examples). */
static inline void sg_fuzz_add_dir(sg_fuzz_add_fn add, void *user, const char *sub,
                                   const char *ext) {
  const char *src = getenv("SG_SOURCE_DIR");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/%s", src && src[0] ? src : ".", sub);
  DIR *dh = opendir(dir);
  struct dirent *de;
  while (dh && (de = readdir(dh)) != NULL) {
    size_t L = strlen(de->d_name), E = strlen(ext);
    if (L > E && !strcmp(de->d_name + L - E, ext)) {
      char p[8192];
      snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
      sg_fuzz_add_file(add, user, p);
    }
  }
  if (dh)
    closedir(dh);
}

/* A private temporary file name (the process id keeps parallel runs apart). */
static inline void sg_fuzz_tmp(char *out, size_t n, const char *what) {
  const char *dir = getenv("TMPDIR");
  snprintf(out, n, "%s/sg_fuzz_%s_%ld", dir && dir[0] ? dir : "/tmp", what, (long)getpid());
}

#endif
