#define _XOPEN_SOURCE 700 /* nftw */
#include "sg_test.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[512];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(p);
}

/* Test files go away with the test unless SG_KEEP_TMP is set (to look at a render). */
static void cleanup(void) {
  const char *keep = getenv("SG_KEEP_TMP");
  if (dir[0] && !(keep && *keep))
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *sg_test_tmpdir(void) {
  if (dir[0])
    return dir;
  atexit(cleanup);
  const char *base = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/sgtest.XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    abort();
  }
  return dir;
}

const char *sg_test_path(const char *name) {
  static char slots[8][1024];
  static int k;
  char *p = slots[k++ & 7];
  snprintf(p, 1024, "%s/%s", sg_test_tmpdir(), name);
  return p;
}

const char *sg_test_source(const char *rel) {
  static char slots[4][1024];
  static int k;
  char *p = slots[k++ & 3];
  const char *root = getenv("SG_SOURCE_DIR");
  snprintf(p, 1024, "%s/%s", root && *root ? root : ".", rel);
  return p;
}

int sg_test_write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  size_t n = strlen(text);
  int ok = fwrite(text, 1, n, f) == n;
  return (fclose(f) == 0 && ok) ? 0 : -1;
}
