#define _XOPEN_SOURCE 700 /* nftw */
#include "sg_test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

int sg_test_copy_file(const char *from, const char *to) {
  FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
  int ok = a && b;
  char blk[65536];
  size_t k;
  while (ok && (k = fread(blk, 1, sizeof blk, a)) > 0)
    ok = fwrite(blk, 1, k, b) == k;
  ok = ok && !ferror(a);
  if (a)
    fclose(a);
  if (b && fclose(b) != 0)
    ok = 0;
  return ok ? 0 : -1;
}

char *sg_test_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *b = NULL;
  long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n + 1)) != NULL &&
      fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  if (b) {
    b[n] = '\0';
    if (len)
      *len = (size_t)n;
  }
  return b;
}

void sg_test_assert_files_equal(const char *a, const char *b) {
  size_t la = 0, lb = 0;
  char *x = sg_test_read_file(a, &la), *y = sg_test_read_file(b, &lb);
  assert_non_null(x);
  assert_non_null(y);
  assert_int_equal(la, lb);
  assert_memory_equal(x, y, la);
  free(x);
  free(y);
}

void sg_test_flip_byte(const char *path, long at, int mask) {
  FILE *f = fopen(path, "r+b");
  assert_non_null(f);
  assert_int_equal(fseek(f, at, SEEK_SET), 0);
  int c = fgetc(f);
  assert_true(c != EOF);
  assert_int_equal(fseek(f, at, SEEK_SET), 0);
  assert_int_equal(fputc(c ^ mask, f), c ^ mask);
  assert_int_equal(fclose(f), 0);
}

int sg_test_set_read(const char *out, sg_test_set *s) {
  char cur[1200], real[PATH_MAX];
  snprintf(cur, sizeof cur, "%s/current", out);
  memset(s, 0, sizeof *s);
  if (!realpath(cur, real))
    return 0;
  DIR *dh = opendir(real);
  if (!dh)
    return -1;
  struct dirent *de;
  int rc = 1;
  while ((de = readdir(dh)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    if (s->n == SG_TEST_SET_MAX) {
      rc = -1;
      break;
    }
    snprintf(s->name[s->n++], sizeof s->name[0], "%s", de->d_name);
  }
  closedir(dh);
  for (int i = 1; i < s->n; ++i) /* sorted: sets compare entry by entry */
    for (int j = i; j > 0 && strcmp(s->name[j - 1], s->name[j]) > 0; --j) {
      char t[256];
      memcpy(t, s->name[j], sizeof t);
      memcpy(s->name[j], s->name[j - 1], sizeof t);
      memcpy(s->name[j - 1], t, sizeof t);
    }
  for (int i = 0; rc == 1 && i < s->n; ++i) {
    char p[PATH_MAX + 300];
    snprintf(p, sizeof p, "%s/%s", real, s->name[i]);
    if (sg_sha256_file(p, s->sha[i], NULL) != SG_OK)
      rc = -1;
  }
  return rc;
}

int sg_test_set_equal(const sg_test_set *a, const sg_test_set *b) {
  if (a->n != b->n)
    return 0;
  for (int i = 0; i < a->n; ++i)
    if (strcmp(a->name[i], b->name[i]) || strcmp(a->sha[i], b->sha[i]))
      return 0;
  return 1;
}

int sg_test_run(char *const argv[], char *const env[], const char *err_path) {
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    for (int i = 0; env && env[i]; ++i)
      putenv(env[i]);
    if (err_path) {
      int fd = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0)
        dup2(fd, 2);
    }
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0)
      dup2(null, 1);
    execv(argv[0], argv);
    _exit(127);
  }
  int ws;
  while (waitpid(pid, &ws, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
}

int sg_test_trials(int full) {
  const char *e = getenv("SG_TEST_FULL_TRIALS");
  if (!SG_TEST_SANITIZED || (e && *e == '1'))
    return full;
  return full / 4 > 4 ? full / 4 : (full < 4 ? full : 4);
}

sg_audio_writer_config sg_test_writer_config(unsigned rate, unsigned channels) {
  sg_audio_writer_config c;
  sg_audio_writer_config_init(&c);
  c.rate = rate;
  c.channels = channels;
  return c;
}
