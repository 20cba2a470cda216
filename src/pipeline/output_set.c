/* One writer per output folder, and the delivered files replaced as one set.
 *
 * Method: an exclusive advisory lock (flock(2)) on DIR/.stemgate.lock, held from before the
 * first byte is written until the run ends; the kernel drops it when the process dies, so a
 * killed render never leaves a stale lock. The delivered files (the loose master and stems and
 * the zip) are assembled in a fresh folder DIR/.sets/<pid>-<n> (hard links to the files in
 * DIR/work, a copy where the file system has no links), every file and folder is fsync'ed, and
 * then DIR/current, a symbolic link, is flipped to the new folder by rename(2) of a new link over
 * it: the release-folder scheme of deployment tools, relying on rename being atomic (POSIX).
 * A reader that resolves DIR/current once sees one complete set; a run killed at any moment
 * leaves DIR/current on the previous complete set (or absent before the first one). Half-made
 * links of killed runs are removed by the next run as it takes the lock. Sets nobody is shown
 * any more (the one the last switch replaced, those of killed runs) are removed by the next run
 * that builds a package, on a thread beside its zip writing and under the lock: on ext4 the
 * unlink of a 300 MB zip waits ~0.15 s for journal commits and, mounted with discard, for the
 * device to discard the freed blocks; the render need not wait for it at its end. A run stopped
 * during that removal leaves a partly removed set, which the next such run removes. So between
 * renders the folder holds the current set and at most the one it replaced (and those of runs
 * killed since). */
#include "pipeline_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOCK_NAME ".stemgate.lock"
#define SETS_NAME ".sets"
#define CURRENT_NAME "current"

/* Removes a tree below dirfd/name without following symbolic links. */
static int rm_tree_at(int at, const char *name, int depth) {
  struct stat sb;
  if (fstatat(at, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? 0 : -1;
  if (!S_ISDIR(sb.st_mode))
    return unlinkat(at, name, 0);
  if (depth > 32) /* nothing this module makes is that deep */
    return -1;
  int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  DIR *dh = fdopendir(fd);
  if (!dh) {
    close(fd);
    return -1;
  }
  int rc = 0;
  struct dirent *de;
  while ((de = readdir(dh)) != NULL)
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
      rc |= rm_tree_at(dirfd(dh), de->d_name, depth + 1);
  closedir(dh);
  return rc | unlinkat(at, name, AT_REMOVEDIR);
}

/* fsync every file and folder below path (the new set), then path itself: the data and the
 * names must be on disk before the link that makes them visible is. */
static int sync_tree(const char *path, int depth) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return -1;
  struct stat sb;
  int rc = fstat(fd, &sb);
  if (rc == 0 && S_ISDIR(sb.st_mode) && depth < 32) {
    DIR *dh = opendir(path);
    struct dirent *de;
    while (dh && (de = readdir(dh)) != NULL) {
      if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
        continue;
      char sub[SG_MAX_PATH * 2 + 8];
      snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
      rc |= sync_tree(sub, depth + 1);
    }
    if (dh)
      closedir(dh);
    else
      rc = -1;
  }
  if (rc == 0 && fsync(fd) != 0)
    rc = -1;
  close(fd);
  return rc;
}

static int sync_dir(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

/* Removes every set but the one DIR/current names and keep2 (NULL: none). Not fsync'ed: a
 * journal commit forced here would also wait for the zip being written (data=ordered); the
 * switch's fsyncs commit the removal with the new set. */
static void remove_stale_sets(const char *out, const char *sets, const char *keep2) {
  char cur[SG_MAX_PATH + 32], target[SG_MAX_PATH] = "";
  snprintf(cur, sizeof cur, "%s/%s", out, CURRENT_NAME);
  ssize_t n = readlink(cur, target, sizeof target - 1);
  target[n > 0 ? n : 0] = '\0';
  const char *keep = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
  int fd = open(sets, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dh = fd >= 0 ? fdopendir(fd) : NULL;
  if (!dh && fd >= 0)
    close(fd);
  struct dirent *de;
  while (dh && (de = readdir(dh)) != NULL)
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, keep) &&
        (!keep2 || strcmp(de->d_name, keep2)))
      rm_tree_at(dirfd(dh), de->d_name, 0);
  if (dh)
    closedir(dh);
}

/* Removes the links left by killed runs (DIR/.current.*). */
static void remove_stale_links(const char *out) {
  struct dirent *de;
  DIR *dh = opendir(out);
  while (dh && (de = readdir(dh)) != NULL)
    if (!strncmp(de->d_name, ".current.", 9)) {
      char p[SG_MAX_PATH * 2 + 8];
      snprintf(p, sizeof p, "%s/%s", out, de->d_name);
      unlink(p);
    }
  if (dh)
    closedir(dh);
}

/* The holder's PID as the lock file states it (0 when it has not written it yet). */
static long holder_pid(int fd) {
  char buf[32] = "";
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  buf[n > 0 ? n : 0] = '\0';
  return strtol(buf, NULL, 10);
}

sg_status sg__outset_lock(sg__run *r, sg_diag *d) {
  sg__outset *o = &r->outset;
  const char *out = r->res->out_dir;
  sg_status st = sg_mkdirs(out, d);
  if (st != SG_OK)
    return st;
  char p[SG_MAX_PATH + 32];
  snprintf(p, sizeof p, "%s/%s", out, LOCK_NAME);
  int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return sg_diag_fail(d, SG_E_IO, "cannot open the lock file '%s': %s", p, strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) {
      int e = errno;
      close(fd);
      return sg_diag_fail(d, SG_E_IO, "cannot lock '%s': %s", p, strerror(e));
    }
    /* The holder writes its PID just after taking the lock: give it a moment to appear. */
    long pid = holder_pid(fd);
    for (int k = 0; pid <= 0 && k < 50; ++k) {
      nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
      pid = holder_pid(fd);
    }
    if (!r->opt->wait) {
      close(fd);
      return sg_diag_fail(d, SG_E_IO,
                          "output folder '%s' is being written by another render (pid %ld); "
                          "wait for it, choose another folder, or pass --wait",
                          out, pid);
    }
    sg__log(r, "waiting for the render writing '%s' (pid %ld)", out, pid);
    int rc;
    while ((rc = flock(fd, LOCK_EX)) != 0 && errno == EINTR)
      ;
    if (rc != 0) {
      int e = errno;
      close(fd);
      return sg_diag_fail(d, SG_E_IO, "cannot lock '%s': %s", p, strerror(e));
    }
  }
  o->lock_fd = fd;
  o->locked = 1;
  /* The PID is for the message a second render prints; the lock itself is the flock. */
  char pid[32];
  int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len)
    return sg_diag_fail(d, SG_E_IO, "cannot write the lock file '%s': %s", p, strerror(errno));

  char sets[SG_MAX_PATH + 32];
  snprintf(sets, sizeof sets, "%s/%s", out, SETS_NAME);
  if ((st = sg_mkdirs(sets, d)) != SG_OK)
    return st;
  remove_stale_links(out);
  /* A name unique to this process and this call: a set is never reused. */
  static unsigned seq;
  snprintf(o->name, sizeof o->name, "%ld-%u", (long)getpid(), ++seq);
  snprintf(o->dir, sizeof o->dir, "%s/%s", sets, o->name);
  if (mkdir(o->dir, 0755) != 0)
    return sg_diag_fail(d, SG_E_IO, "cannot create '%s': %s", o->dir, strerror(errno));
  o->made = 1;
  return SG_OK;
}

/* Creates the folders of a relative name inside the set. */
static sg_status make_parents(const char *dir, const char *name, sg_diag *d) {
  const char *slash = strrchr(name, '/');
  if (!slash)
    return SG_OK;
  char p[SG_MAX_PATH * 2 + 8];
  snprintf(p, sizeof p, "%s/%.*s", dir, (int)(slash - name), name);
  return sg_mkdirs(p, d);
}

sg_status sg__outset_path(sg__run *r, const char *name, char *out, size_t cap, sg_diag *d) {
  snprintf(out, cap, "%s/%s", r->outset.dir, name);
  return make_parents(r->outset.dir, name, d);
}

sg_status sg__copy_file(const char *src, const char *dst, sg_diag *d) {
  FILE *in = fopen(src, "rb");
  if (!in)
    return sg_diag_fail(d, SG_E_IO, "cannot read '%s': %s", src, strerror(errno));
  FILE *o = fopen(dst, "wb");
  if (!o) {
    fclose(in);
    return sg_diag_fail(d, SG_E_IO, "cannot create '%s': %s", dst, strerror(errno));
  }
  char buf[1 << 16];
  size_t n;
  int ok = 1;
  while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
    ok = fwrite(buf, 1, n, o) == n;
  ok &= !ferror(in);
  fclose(in);
  ok &= fclose(o) == 0;
  if (!ok) {
    remove(dst);
    return sg_diag_fail(d, SG_E_IO, "cannot write '%s' (disk full?)", dst);
  }
  return SG_OK;
}

sg_status sg__outset_add(sg__run *r, const char *src, const char *name, sg_diag *d) {
  char dst[SG_MAX_PATH * 2 + 8];
  sg_status st = sg__outset_path(r, name, dst, sizeof dst, d);
  if (st != SG_OK)
    return st;
  /* A hard link costs no copy; the work file is only ever replaced by rename, never rewritten
   * in place, so the set keeps the bytes it was given. */
  if (link(src, dst) == 0)
    return SG_OK;
  if (errno == EEXIST)
    return sg_diag_fail(d, SG_E_IO, "two delivered files are both named '%s'", name);
  return sg__copy_file(src, dst, d);
}

sg_status sg__outset_switch(sg__run *r, sg_diag *d) {
  sg__outset *o = &r->outset;
  const char *out = r->res->out_dir;
  if (sync_tree(o->dir, 0) != 0)
    return sg_diag_fail(d, SG_E_IO, "cannot sync '%s' to disk: %s", o->dir, strerror(errno));
  char sets[SG_MAX_PATH + 32], tmp[SG_MAX_PATH + 64], cur[SG_MAX_PATH + 32], target[128];
  snprintf(sets, sizeof sets, "%s/%s", out, SETS_NAME);
  if (sync_dir(sets) != 0)
    return sg_diag_fail(d, SG_E_IO, "cannot sync '%s' to disk: %s", sets, strerror(errno));
  snprintf(tmp, sizeof tmp, "%s/.current.%s", out, o->name);
  snprintf(cur, sizeof cur, "%s/%s", out, CURRENT_NAME);
  snprintf(target, sizeof target, "%s/%s", SETS_NAME, o->name); /* relative: the folder moves */
  unlink(tmp);
  if (symlink(target, tmp) != 0)
    return sg_diag_fail(d, SG_E_IO, "cannot create the link '%s': %s", tmp, strerror(errno));
  if (rename(tmp, cur) != 0) {
    int e = errno;
    unlink(tmp);
    return sg_diag_fail(d, SG_E_IO, "cannot switch '%s' to the new files: %s", cur, strerror(e));
  }
  o->switched = 1;
  if (sync_dir(out) != 0)
    return sg_diag_fail(d, SG_E_IO, "cannot sync '%s' to disk: %s", out, strerror(errno));
  /* The previous set, which nobody is shown any more, is left to the next package's sweep. */
  return SG_OK;
}

struct sg__sweep {
  pthread_t th;
  char out[SG_MAX_PATH];
  char sets[SG_MAX_PATH + 32];
  char keep[64]; /* this run's set */
};

static void *sweep_run(void *arg) {
  struct sg__sweep *w = arg;
  remove_stale_sets(w->out, w->sets, w->keep);
  return NULL;
}

void sg__outset_sweep(sg__run *r) {
  sg__outset *o = &r->outset;
  if (!o->locked || !o->made || o->sweep)
    return;
  struct sg__sweep *w = calloc(1, sizeof *w);
  if (!w)
    return;
  snprintf(w->out, sizeof w->out, "%s", r->res->out_dir);
  snprintf(w->sets, sizeof w->sets, "%s/%s", r->res->out_dir, SETS_NAME);
  snprintf(w->keep, sizeof w->keep, "%s", o->name);
  if (pthread_create(&w->th, NULL, sweep_run, w) != 0) {
    free(w);
    return;
  }
  o->sweep = w;
}

void sg__outset_release(sg__run *r) {
  sg__outset *o = &r->outset;
  if (o->sweep) { /* no thread works in the folder once the lock is dropped */
    pthread_join(o->sweep->th, NULL);
    free(o->sweep);
    o->sweep = NULL;
  }
  if (o->made && !o->switched) { /* a failed run delivers nothing; the previous set stays */
    char sets[SG_MAX_PATH + 32];
    snprintf(sets, sizeof sets, "%s/%s", r->res->out_dir, SETS_NAME);
    int sfd = open(sets, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd >= 0) {
      rm_tree_at(sfd, o->name, 0);
      close(sfd);
    }
  }
  if (o->locked)
    close(o->lock_fd); /* drops the flock */
  o->locked = 0;
  o->made = 0;
}
