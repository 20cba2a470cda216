/* See writeback.h. */
#if defined(__linux__)
#define _GNU_SOURCE /* sync_file_range */
#include <fcntl.h>
#endif

#include "writeback.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sg__start_writeback(int fd, int64_t off, int64_t len) {
#if defined(__linux__)
  if (fd >= 0 && off >= 0 && len >= 0)
    (void)sync_file_range(fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE);
#else
  (void)fd;
  (void)off;
  (void)len;
#endif
}

static pthread_mutex_t reap_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reap_cv = PTHREAD_COND_INITIALIZER;
static int reap_busy;
static pthread_once_t reap_once = PTHREAD_ONCE_INIT;

void sg__replace_wait(void) {
  pthread_mutex_lock(&reap_mu);
  while (reap_busy)
    pthread_cond_wait(&reap_cv, &reap_mu);
  pthread_mutex_unlock(&reap_mu);
}

static void reap_init(void) { atexit(sg__replace_wait); }

static void reap_done(void) {
  pthread_mutex_lock(&reap_mu);
  reap_busy--;
  pthread_cond_broadcast(&reap_cv);
  pthread_mutex_unlock(&reap_mu);
}

static void *reap_run(void *arg) {
  (void)unlink((char *)arg);
  free(arg);
  reap_done();
  return NULL;
}

int sg__replace_file(const char *from, const char *to) {
  static atomic_uint seq;
  struct stat sb;
  char *old = NULL;
  if (lstat(to, &sb) == 0 && S_ISREG(sb.st_mode) && (old = malloc(strlen(to) + 64)) != NULL) {
    snprintf(old, strlen(to) + 64, "%s.%ld.%u.old", to, (long)getpid(), atomic_fetch_add(&seq, 1));
    if (rename(to, old) != 0) {
      free(old);
      old = NULL;
    }
  }
  const int rc = rename(from, to), err = errno;
  if (!old)
    return rc;
  if (rc != 0) { /* the old file back where it was */
    (void)rename(old, to);
    free(old);
    errno = err;
    return rc;
  }
  if (sb.st_nlink > 1 || sb.st_size < (1 << 20)) { /* nothing to free, or little: at once */
    (void)unlink(old);
    free(old);
    return rc;
  }
  pthread_once(&reap_once, reap_init);
  pthread_mutex_lock(&reap_mu);
  reap_busy++;
  pthread_mutex_unlock(&reap_mu);
  pthread_attr_t at;
  pthread_t th;
  int started = pthread_attr_init(&at) == 0;
  if (started) {
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    started = pthread_create(&th, &at, reap_run, old) == 0;
    pthread_attr_destroy(&at);
  }
  if (!started) /* freed here, as a plain rename would have */
    reap_run(old);
  errno = err;
  return rc;
}
