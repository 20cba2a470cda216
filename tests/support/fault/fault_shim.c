/* LD_PRELOAD fault injection for the file system calls a render makes under one folder.
 *
 * Configured by the environment (read once, at load):
 *   SG_FAULT_DIR=/abs/dir      only files and names under this folder are affected
 *   SG_FAULT_ERRNO=ENOSPC|EIO|EROFS|EACCES   the error a failing call returns (default ENOSPC)
 *   SG_FAULT_OPS=write,fsync,rename          which calls count (write = write, pwrite, fwrite,
 *                                            copy_file_range into the file)
 *   SG_FAULT_AFTER_BYTES=N     the write that takes the bytes written under dir past N fails
 *   SG_FAULT_CALL=N            the N-th counted call fails
 *   SG_FAULT_ACTION=fail|remove   remove: instead of failing, the N-th call (or the one past N
 *                              bytes) removes the whole folder and goes on (a user deleting it)
 *   SG_FAULT_READONLY=1        every open for writing, mkdir, symlink, link, rename under dir
 *                              fails with EROFS (a read-only file system, which root cannot
 *                              get from chmod)
 *   SG_FAULT_NAME=text         only calls on files whose name holds text count (".current")
 *   SG_FAULT_LOG=1             each injected failure is reported on stderr with its file
 * Once a call has failed, every later counted call fails too (a full disk stays full).
 * Files are matched by name (open paths, /proc/self/fd links for descriptors), so a relative
 * SG_FAULT_DIR is not supported. The calls reach the real ones through dlsym(RTLD_NEXT). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OP_WRITE = 1, OP_FSYNC = 2, OP_RENAME = 4 };

static char g_dir[4096], g_name[256];
static size_t g_dirlen;
static int g_errno = ENOSPC, g_remove, g_readonly, g_tripped, g_removed, g_log;
static unsigned g_ops = OP_WRITE | OP_FSYNC | OP_RENAME;
static long long g_after = -1, g_bytes;
static long g_nth, g_calls;

__attribute__((constructor)) static void init(void) {
  const char *d = getenv("SG_FAULT_DIR");
  if (!d || d[0] != '/')
    return;
  snprintf(g_dir, sizeof g_dir, "%s", d);
  g_dirlen = strlen(g_dir);
  while (g_dirlen > 1 && g_dir[g_dirlen - 1] == '/')
    g_dir[--g_dirlen] = '\0';
  const char *e = getenv("SG_FAULT_ERRNO");
  if (e && !strcmp(e, "EIO"))
    g_errno = EIO;
  else if (e && !strcmp(e, "EROFS"))
    g_errno = EROFS;
  else if (e && !strcmp(e, "EACCES"))
    g_errno = EACCES;
  const char *ops = getenv("SG_FAULT_OPS");
  if (ops)
    g_ops = (strstr(ops, "write") ? OP_WRITE : 0) | (strstr(ops, "fsync") ? OP_FSYNC : 0) |
            (strstr(ops, "rename") ? OP_RENAME : 0);
  if ((e = getenv("SG_FAULT_AFTER_BYTES")))
    g_after = atoll(e);
  if ((e = getenv("SG_FAULT_CALL")))
    g_nth = atol(e);
  g_remove = (e = getenv("SG_FAULT_ACTION")) && !strcmp(e, "remove");
  g_readonly = (e = getenv("SG_FAULT_READONLY")) && e[0] == '1';
  g_log = (e = getenv("SG_FAULT_LOG")) && e[0] == '1';
  if ((e = getenv("SG_FAULT_NAME")))
    snprintf(g_name, sizeof g_name, "%s", e);
}

static int under(const char *path) {
  if (!g_dirlen || !path)
    return 0;
  char abs[8192];
  if (path[0] != '/') {
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
      return 0;
    snprintf(abs, sizeof abs, "%s/%s", cwd, path);
    path = abs;
  }
  return !strncmp(path, g_dir, g_dirlen) && (path[g_dirlen] == '/' || path[g_dirlen] == '\0');
}

static int fd_under(int fd) {
  if (!g_dirlen || fd < 0)
    return 0;
  char link[64], target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0)
    return 0;
  target[n] = '\0';
  return under(target);
}

/* Removes the folder as a user would (rm -rf), without the shim in the way. */
static void remove_dir(void) {
  g_removed = 1;
  char cmd[8300];
  snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", g_dir);
  unsetenv("LD_PRELOAD");
  if (system(cmd) != 0)
    fprintf(stderr, "fault shim: could not remove %s\n", g_dir);
}

/* Whether this counted call (of n bytes) fails; sets errno when it does. */
static int fails_at(unsigned op, size_t n, const char *name) {
  if (!(g_ops & op) || g_removed || (g_name[0] && !strstr(name, g_name)))
    return 0;
  if (g_tripped && !g_remove) {
    errno = g_errno;
    return 1;
  }
  ++g_calls;
  g_bytes += (long long)n;
  if ((g_nth > 0 && g_calls == g_nth) || (g_after >= 0 && g_bytes > g_after)) {
    g_tripped = 1;
    if (g_remove) {
      if (g_log)
        fprintf(stderr, "fault shim: call %ld removes %s (at %s)\n", g_calls, g_dir, name);
      remove_dir();
      return 0;
    }
    if (g_log)
      fprintf(stderr, "fault shim: call %ld (%lld bytes so far) fails: %s\n", g_calls, g_bytes,
              name);
    errno = g_errno;
    return 1;
  }
  return 0;
}

static int fails_fd(unsigned op, size_t n, int fd) {
  char link[64], target[4096] = "";
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t k = readlink(link, target, sizeof target - 1);
  target[k > 0 ? k : 0] = '\0';
  return fails_at(op, n, target);
}

#define REAL(name, ret, args)                                                                      \
  static ret(*real_##name) args;                                                                   \
  if (!real_##name)                                                                                \
  *(void **)&real_##name = dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t n) {
  REAL(write, ssize_t, (int, const void *, size_t));
  if (fd > 2 && fd_under(fd) && fails_fd(OP_WRITE, n, fd))
    return -1;
  return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  REAL(pwrite, ssize_t, (int, const void *, size_t, off_t));
  if (fd > 2 && fd_under(fd) && fails_fd(OP_WRITE, n, fd))
    return -1;
  return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
  REAL(pwrite64, ssize_t, (int, const void *, size_t, off_t));
  if (fd > 2 && fd_under(fd) && fails_fd(OP_WRITE, n, fd))
    return -1;
  return real_pwrite64(fd, buf, n, off);
}

/* The zip writer's kernel-side copies (zip_write.c): counted as writes into fd_out. */
ssize_t copy_file_range(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t n,
                        unsigned flags) {
  REAL(copy_file_range, ssize_t, (int, loff_t *, int, loff_t *, size_t, unsigned));
  if (fd_out > 2 && fd_under(fd_out) && fails_fd(OP_WRITE, n, fd_out))
    return -1;
  return real_copy_file_range(fd_in, off_in, fd_out, off_out, n, flags);
}

/* stdio writes through glibc's internal write, which no preload sees: fwrite is caught here. */
size_t fwrite(const void *buf, size_t size, size_t count, FILE *f) {
  REAL(fwrite, size_t, (const void *, size_t, size_t, FILE *));
  if (fileno(f) > 2 && fd_under(fileno(f)) && fails_fd(OP_WRITE, size * count, fileno(f)))
    return 0;
  return real_fwrite(buf, size, count, f);
}

int fsync(int fd) {
  REAL(fsync, int, (int));
  if (fd_under(fd) && fails_fd(OP_FSYNC, 0, fd))
    return -1;
  return real_fsync(fd);
}

int fdatasync(int fd) {
  REAL(fdatasync, int, (int));
  if (fd_under(fd) && fails_fd(OP_FSYNC, 0, fd))
    return -1;
  return real_fdatasync(fd);
}

int rename(const char *a, const char *b) {
  REAL(rename, int, (const char *, const char *));
  if (under(a) || under(b)) {
    if (g_readonly) {
      errno = EROFS;
      return -1;
    }
    if (fails_at(OP_RENAME, 0, a))
      return -1;
  }
  return real_rename(a, b);
}

/* ---- read-only mode --------------------------------------------------------------------- */

static int ro(const char *path) {
  if (g_readonly && under(path)) {
    errno = EROFS;
    return 1;
  }
  return 0;
}

int open(const char *path, int flags, ...) {
  REAL(open, int, (const char *, int, ...));
  mode_t mode = 0;
  if (flags & O_CREAT) {
    va_list ap;
    va_start(ap, flags);
    mode = (mode_t)va_arg(ap, int);
    va_end(ap);
  }
  if ((flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) && ro(path))
    return -1;
  return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...) {
  REAL(open64, int, (const char *, int, ...));
  mode_t mode = 0;
  if (flags & O_CREAT) {
    va_list ap;
    va_start(ap, flags);
    mode = (mode_t)va_arg(ap, int);
    va_end(ap);
  }
  if ((flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) && ro(path))
    return -1;
  return real_open64(path, flags, mode);
}

FILE *fopen(const char *path, const char *mode) {
  REAL(fopen, FILE *, (const char *, const char *));
  if (mode && strpbrk(mode, "wa+") && ro(path))
    return NULL;
  return real_fopen(path, mode);
}

FILE *fopen64(const char *path, const char *mode) {
  REAL(fopen64, FILE *, (const char *, const char *));
  if (mode && strpbrk(mode, "wa+") && ro(path))
    return NULL;
  return real_fopen64(path, mode);
}

int mkdir(const char *path, mode_t mode) {
  REAL(mkdir, int, (const char *, mode_t));
  struct stat sb;
  if (g_readonly && under(path) && stat(path, &sb) == 0) {
    errno = EEXIST; /* as the kernel says first, read-only or not */
    return -1;
  }
  if (ro(path))
    return -1;
  return real_mkdir(path, mode);
}

int symlink(const char *target, const char *path) {
  REAL(symlink, int, (const char *, const char *));
  if (ro(path))
    return -1;
  return real_symlink(target, path);
}

int link(const char *a, const char *b) {
  REAL(link, int, (const char *, const char *));
  if (ro(b))
    return -1;
  return real_link(a, b);
}
