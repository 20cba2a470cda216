/* Zip writer over libzip: deterministic, atomic, large-block I/O.
 *
 * Determinism: every entry gets the same DOS modification time (from the config, default the
 * DOS epoch 1980-01-01 00:00:00), Unix host system and mode 0644 external attributes, and
 * UTF-8 names; libzip writes no other time-dependent field, so the same inputs give the same
 * bytes.
 *
 * Atomicity: the archive is written to "<path>.partial" and renamed to path only after libzip
 * has written the central directory and the data is flushed to disk (fsync), so a crash or an
 * error never leaves a file at path that looks complete.
 *
 * Throughput: libzip's copy loop moves entry data in 8 KiB pieces, and its stdio-based file
 * sources turn each piece into its own read(2) and write(2). For a 300 MB package that is
 * ~75,000 system calls and several times slower than a plain copy. libzip's API lets the
 * caller supply both ends as zip_source_function callbacks, so here the input files are read
 * with io_block-sized read(2) calls into a buffer that serves libzip's small reads, and the
 * archive itself is a writable source that gathers libzip's small writes into io_block-sized
 * pwrite(2) calls (the header rewrites libzip does after each entry are seeks, which flush the
 * gathered block first). libzip still does all archive formatting and CRC computation.
 * io_block = 0 selects libzip's own file sources (kept for the benchmark's comparison).
 *
 * The archive's SHA-256 (hash_sha256) is taken beside the writing, by a thread that reads back
 * the bytes that are final: libzip writes each entry's local header, its data, then seeks back
 * to rewrite that header and returns to the end, so everything before the end is final once it
 * has returned there (and been flushed). The thread hashes up to that mark while the next entry
 * is written; a write below the mark (a libzip that wrote otherwise) makes the hash be taken
 * again from the finished file, so it is always the hash of the bytes on disk.
 *
 * Stored archives written directly: libzip computes every stored entry's CRC-32 itself, so each
 * byte of a 300 MB package went read(2) -> copy -> CRC -> copy -> write(2) in user space. When
 * the archive is the plain kind a package is (ASCII names, file entries stored, texts deflated,
 * under the 4 GiB limits of a zip without Zip64), the writer lays it out itself, field for field
 * as libzip does (APPNOTE.TXT 4.3: local header, data, central directory, end record; the same
 * versions, flags, times, attributes and raw deflate parameters; tests/package/test_zip_direct.c
 * compares the two byte for byte), and moves each file's bytes with copy_file_range(2): one
 * copy inside the kernel, none through user space. A file's CRC-32 is the caller's when it
 * knows it (a node records it with the file's SHA-256, sg_package_file_digest), else read once
 * for it. Anything else (Zip64, deflated files, other names) goes through libzip as before.
 *
 * The entry digest (sg_zip_writer_close_digest) of a direct archive is taken from the bytes as
 * they are laid out, each stored file counted by the SHA-256 its caller gave (or, when it is read
 * for its CRC-32, by the SHA-256 of that read): no byte of the archive is read back. With a
 * copied file's hash unknown, or through libzip, it is read from the finished file. */
#if defined(__linux__)
#define _GNU_SOURCE /* copy_file_range */
#endif
#include "package_internal.h"

#include "core/writeback.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>
#include <zlib.h>

/* The hash beside the writing (see the header comment); owned by the writer. */
typedef struct zip_hasher {
  pthread_t th;
  int started;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int fd;        /* the thread's own read descriptor of the .partial */
  int64_t avail; /* [0, avail) is final and on file: the thread may hash it */
  int64_t done;  /* hashed so far */
  int closing;   /* nothing more comes: hash up to avail and end */
  int64_t total; /* the archive's size, once committed; -1 before */
  int broken;    /* a write landed below avail, or a read failed: hash the file again */
  sg_sha256 sha;
  char hex[65];
} zip_hasher;

/* An entry as added, for the direct writer (see the header comment). */
typedef struct pending {
  char name[256];
  char *path;          /* a file entry, or NULL */
  unsigned char *data; /* a text entry's bytes (owned), n of them */
  size_t n;
  int compress;
  uint64_t size; /* a file's size when added */
  int has_crc;
  uint32_t crc;
  char sha[65];     /* a file's SHA-256 as the caller knows it, or "" */
  unsigned char *z; /* a text's raw deflate stream (owned), zn bytes, made at close */
  size_t zn;
  int64_t lho;          /* where its local header went (the direct writer) */
  unsigned char lh[30]; /* that header, whose fields the central directory repeats */
} pending;

/* Entries written by a thread of their own while the caller adds more (write_ahead). */
typedef struct ahead ahead;

struct sg_zip_writer {
  zip_t *za;
  char path[SG__PATH_MAX];
  char partial[SG__PATH_MAX + 16];
  sg_zip_writer_config cfg;
  time_t mtime;
  struct out_sink *sink; /* owned by the zip_source once the archive is open */
  zip_hasher *hasher;    /* hash_sha256 */
  pending *q;            /* every entry added, in order */
  size_t nq, capq;
  int q_lost; /* an entry could not be queued (no memory): libzip writes the archive */
  ahead *ahead;
};

static void *hasher_run(void *arg) {
  zip_hasher *h = arg;
  const size_t cap = (size_t)1 << 20;
  unsigned char *buf = malloc(cap);
  pthread_mutex_lock(&h->lock);
  if (!buf)
    h->broken = 1;
  for (;;) {
    while (!h->broken && h->done == h->avail && !h->closing)
      pthread_cond_wait(&h->cond, &h->lock);
    if (h->broken || h->done == h->avail)
      break; /* broken, or closing with everything hashed */
    int64_t at = h->done, n = h->avail - h->done;
    pthread_mutex_unlock(&h->lock);
    size_t k = n < (int64_t)cap ? (size_t)n : cap;
    ssize_t got = pread(h->fd, buf, k, (off_t)at);
    int bad = got <= 0 || sg_sha256_update(&h->sha, buf, (size_t)got) != SG_OK;
    pthread_mutex_lock(&h->lock);
    if (bad && !(got < 0 && errno == EINTR))
      h->broken = 1;
    else if (!bad)
      h->done += got;
  }
  pthread_mutex_unlock(&h->lock);
  free(buf);
  return NULL;
}

/* Starts the thread on the .partial just created (at the archive's first write). */
static void hasher_start(zip_hasher *h, const char *partial) {
  if (h->started || h->broken)
    return;
  h->fd = open(partial, O_RDONLY | O_CLOEXEC);
  if (h->fd < 0 || sg_sha256_init(&h->sha) != SG_OK) {
    h->broken = 1;
    return;
  }
  h->started = pthread_create(&h->th, NULL, hasher_run, h) == 0;
  if (!h->started)
    h->broken = 1;
}

/* [0, mark) is final and on file. */
static void hasher_offer(zip_hasher *h, int64_t mark, int closing) {
  if (!h || !h->started)
    return;
  pthread_mutex_lock(&h->lock);
  if (mark > h->avail)
    h->avail = mark;
  if (closing) {
    h->closing = 1;
    h->total = mark;
  }
  pthread_cond_broadcast(&h->cond);
  pthread_mutex_unlock(&h->lock);
}

/* A write below what the thread may already have hashed: the hash is taken again at the end. */
static void hasher_break(zip_hasher *h) {
  pthread_mutex_lock(&h->lock);
  h->broken = 1;
  pthread_cond_broadcast(&h->cond);
  pthread_mutex_unlock(&h->lock);
}

static zip_hasher *hasher_new(void) {
  zip_hasher *h = calloc(1, sizeof *h);
  if (!h)
    return NULL;
  h->fd = -1;
  h->total = -1;
  pthread_mutex_init(&h->lock, NULL);
  pthread_cond_init(&h->cond, NULL);
  return h;
}

/* Ends the thread; h->hex holds the hash when the whole committed archive went through it,
 * "" otherwise. */
static void hasher_stop(zip_hasher *h) {
  h->hex[0] = 0;
  if (h->started) {
    pthread_mutex_lock(&h->lock);
    h->closing = 1;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->th, NULL);
    h->started = 0;
    if (!h->broken && h->total >= 0 && h->done == h->total)
      sg_sha256_final(&h->sha, h->hex); /* frees the context; "" stays on failure */
  }
  sg_sha256_free(&h->sha);
  if (h->fd >= 0)
    close(h->fd);
  h->fd = -1;
}

static void hasher_free(zip_hasher *h) {
  if (!h)
    return;
  hasher_stop(h);
  pthread_mutex_destroy(&h->lock);
  pthread_cond_destroy(&h->cond);
  free(h);
}

/* ---- writable archive sink ------------------------------------------------------------------ */

typedef struct out_sink {
  char path[SG__PATH_MAX + 16]; /* the .partial file */
  int fd;
  unsigned char *buf;
  size_t cap, len; /* gathered bytes start at file offset buf_off */
  int64_t buf_off;
  int64_t pos; /* current write position */
  int64_t end; /* file length so far */
  zip_error_t err;
  int committed;
  int do_fsync;
  zip_hasher *hasher; /* the writer's, or NULL */
  int64_t final_mark; /* [0, final_mark) will not be written again */
  int64_t offered;    /* the hasher may read [0, offered) */
} out_sink;

/* What the hasher may read: the final part, as far as it is flushed. */
static void sink_offer(out_sink *s, int closing) {
  int64_t mark = s->final_mark;
  if (s->len && s->buf_off < mark)
    mark = s->buf_off;
  if (mark > s->offered)
    s->offered = mark;
  hasher_offer(s->hasher, mark, closing);
}

static int sink_flush(out_sink *s) {
  size_t done = 0;
  while (done < s->len) {
    ssize_t n = pwrite(s->fd, s->buf + done, s->len - done, (off_t)(s->buf_off + (int64_t)done));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      zip_error_set(&s->err, ZIP_ER_WRITE, errno);
      return -1;
    }
    done += (size_t)n;
  }
  /* The fsync at commit then waits only for the tail (core/writeback.h). */
  sg__start_writeback(s->fd, s->buf_off, (int64_t)s->len);
  s->buf_off += (int64_t)s->len;
  s->len = 0;
  sink_offer(s, 0);
  return 0;
}

static zip_int64_t sink_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd) {
  out_sink *s = ud;
  switch (cmd) {
  case ZIP_SOURCE_STAT:
    /* The archive does not exist yet: libzip then starts a new one. */
    zip_error_set(&s->err, ZIP_ER_READ, ENOENT);
    return -1;
  case ZIP_SOURCE_BEGIN_WRITE:
    s->fd = open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->fd < 0) {
      zip_error_set(&s->err, ZIP_ER_OPEN, errno);
      return -1;
    }
    s->len = 0;
    s->buf_off = s->pos = s->end = s->final_mark = s->offered = 0;
    if (s->hasher)
      hasher_start(s->hasher, s->path);
    return 0;
  case ZIP_SOURCE_WRITE: {
    const unsigned char *p = data;
    zip_uint64_t left = len;
    if (s->hasher && s->pos < s->offered)
      hasher_break(s->hasher);
    if (s->pos != s->buf_off + (int64_t)s->len) { /* after a seek: start a new block there */
      if (sink_flush(s) < 0)
        return -1;
      s->buf_off = s->pos;
    }
    while (left) {
      size_t room = s->cap - s->len;
      size_t k = left < room ? (size_t)left : room;
      memcpy(s->buf + s->len, p, k);
      s->len += k;
      p += k;
      left -= k;
      if (s->len == s->cap && sink_flush(s) < 0)
        return -1;
    }
    s->pos += (int64_t)len;
    if (s->pos > s->end)
      s->end = s->pos;
    return (zip_int64_t)len;
  }
  case ZIP_SOURCE_SEEK_WRITE: {
    zip_source_args_seek_t *a = ZIP_SOURCE_GET_ARGS(zip_source_args_seek_t, data, len, &s->err);
    if (!a)
      return -1;
    int64_t base = a->whence == SEEK_SET ? 0 : a->whence == SEEK_CUR ? s->pos : s->end;
    int64_t np = base + a->offset;
    if ((a->whence != SEEK_SET && a->whence != SEEK_CUR && a->whence != SEEK_END) || np < 0) {
      zip_error_set(&s->err, ZIP_ER_INVAL, 0);
      return -1;
    }
    if (np == s->end && s->pos < s->end) { /* back at the end after a header rewrite */
      s->final_mark = s->end;
      sink_offer(s, 0);
    }
    s->pos = np;
    return 0;
  }
  case ZIP_SOURCE_TELL_WRITE:
    return s->pos;
  case ZIP_SOURCE_COMMIT_WRITE:
    if (sink_flush(s) < 0)
      return -1;
    s->final_mark = s->end; /* written whole: the hash goes on beside the fsync */
    sink_offer(s, 1);
    if ((s->do_fsync && fsync(s->fd) != 0) || close(s->fd) != 0) {
      zip_error_set(&s->err, ZIP_ER_WRITE, errno);
      s->fd = -1;
      return -1;
    }
    s->fd = -1;
    s->committed = 1;
    return 0;
  case ZIP_SOURCE_ROLLBACK_WRITE:
    if (s->fd >= 0)
      close(s->fd);
    s->fd = -1;
    s->len = 0;
    unlink(s->path);
    return 0;
  case ZIP_SOURCE_REMOVE:
    unlink(s->path);
    return 0;
  case ZIP_SOURCE_ERROR:
    return zip_error_to_data(&s->err, data, len);
  case ZIP_SOURCE_FREE:
    if (s->fd >= 0) {
      close(s->fd);
      unlink(s->path);
    }
    zip_error_fini(&s->err);
    free(s->buf);
    free(s);
    return 0;
  case ZIP_SOURCE_SUPPORTS:
    /* libzip treats a source without the read commands as read-only; a new archive is never
     * read back, so they are declared but refuse (see default). */
    return zip_source_make_command_bitmap(
        ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_SEEK, ZIP_SOURCE_TELL,
        ZIP_SOURCE_STAT, ZIP_SOURCE_BEGIN_WRITE, ZIP_SOURCE_WRITE, ZIP_SOURCE_SEEK_WRITE,
        ZIP_SOURCE_TELL_WRITE, ZIP_SOURCE_COMMIT_WRITE, ZIP_SOURCE_ROLLBACK_WRITE,
        ZIP_SOURCE_REMOVE, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, ZIP_SOURCE_SUPPORTS, -1);
  default:
    zip_error_set(&s->err, ZIP_ER_OPNOTSUPP, 0);
    return -1;
  }
}

/* ---- input file source with large reads ------------------------------------------------------ */

typedef struct in_file {
  char path[SG__PATH_MAX];
  int fd;
  uint64_t size;
  time_t mtime;
  unsigned char *buf;
  size_t cap, len, off; /* buffered bytes [off, len) */
  uint64_t given;       /* bytes handed to libzip */
  zip_error_t err;
} in_file;

static zip_int64_t in_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd) {
  in_file *f = ud;
  switch (cmd) {
  case ZIP_SOURCE_OPEN:
    f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
      zip_error_set(&f->err, ZIP_ER_OPEN, errno);
      return -1;
    }
    if (!f->buf && !(f->buf = malloc(f->cap))) {
      zip_error_set(&f->err, ZIP_ER_MEMORY, 0);
      return -1;
    }
    f->len = f->off = 0;
    f->given = 0;
    return 0;
  case ZIP_SOURCE_READ: {
    unsigned char *o = data;
    zip_uint64_t want = len, got = 0;
    /* Never hand out more than the size declared in STAT: a file growing meanwhile would
     * otherwise make the entry disagree with its header. */
    if (want > f->size - f->given)
      want = f->size - f->given;
    while (got < want) {
      if (f->off == f->len) {
        ssize_t n = read(f->fd, f->buf, f->cap);
        if (n < 0) {
          if (errno == EINTR)
            continue;
          zip_error_set(&f->err, ZIP_ER_READ, errno);
          return -1;
        }
        if (n == 0)
          break;
        f->len = (size_t)n;
        f->off = 0;
      }
      size_t k = f->len - f->off;
      if (k > want - got)
        k = (size_t)(want - got);
      memcpy(o + got, f->buf + f->off, k);
      f->off += k;
      got += k;
    }
    f->given += got;
    if (got == 0 && f->given < f->size) { /* file shrank after it was added */
      zip_error_set(&f->err, ZIP_ER_READ, EIO);
      return -1;
    }
    return (zip_int64_t)got;
  }
  case ZIP_SOURCE_CLOSE:
    if (f->fd >= 0)
      close(f->fd);
    f->fd = -1;
    free(f->buf); /* one buffer alive at a time, whatever the entry count */
    f->buf = NULL;
    return 0;
  case ZIP_SOURCE_STAT: {
    zip_stat_t *st = ZIP_SOURCE_GET_ARGS(zip_stat_t, data, len, &f->err);
    if (!st)
      return -1;
    zip_stat_init(st);
    st->size = f->size;
    st->mtime = f->mtime;
    st->valid |= ZIP_STAT_SIZE | ZIP_STAT_MTIME;
    return sizeof *st;
  }
  case ZIP_SOURCE_ERROR:
    return zip_error_to_data(&f->err, data, len);
  case ZIP_SOURCE_FREE:
    if (f->fd >= 0)
      close(f->fd);
    free(f->buf);
    zip_error_fini(&f->err);
    free(f);
    return 0;
  case ZIP_SOURCE_SUPPORTS:
    return ZIP_SOURCE_SUPPORTS_READABLE;
  default:
    zip_error_set(&f->err, ZIP_ER_OPNOTSUPP, 0);
    return -1;
  }
}

/* ---- the entries as added ---------------------------------------------------------------------
 */

static pending *queue_push(sg_zip_writer *w, const char *name) {
  if (w->q_lost)
    return NULL;
  if (w->nq == w->capq) {
    size_t cap = w->capq ? 2 * w->capq : 16;
    pending *q = realloc(w->q, cap * sizeof *q);
    if (!q) {
      w->q_lost = 1;
      return NULL;
    }
    w->q = q;
    w->capq = cap;
  }
  pending *e = &w->q[w->nq];
  memset(e, 0, sizeof *e);
  if (strlen(name) >= sizeof e->name) {
    w->q_lost = 1;
    return NULL;
  }
  snprintf(e->name, sizeof e->name, "%s", name);
  ++w->nq;
  return e;
}

static void queue_free(sg_zip_writer *w) {
  for (size_t i = 0; i < w->nq; ++i) {
    free(w->q[i].path);
    free(w->q[i].data);
    free(w->q[i].z);
  }
  free(w->q);
  w->q = NULL;
  w->nq = w->capq = 0;
}

/* ---- public API ------------------------------------------------------------------------------ */

void sg_zip_writer_config_init(sg_zip_writer_config *c) {
  memset(c, 0, sizeof *c);
  c->year = 1980;
  c->month = 1;
  c->day = 1;
  c->deflate_level = 6;
  c->io_block = (size_t)1 << 20;
  c->fsync_on_close = 1;
}

sg_status sg_zip_writer_open(sg_zip_writer **out, const char *path, const sg_zip_writer_config *cfg,
                             sg_diag *d) {
  if (!out || !path || !path[0])
    return sg_diag_fail(d, SG_E_INVAL, "zip writer: NULL or empty path");
  *out = NULL;
  if (strlen(path) >= SG__PATH_MAX)
    return sg_diag_fail(d, SG_E_RANGE, "zip writer: path too long");
  sg_zip_writer *w = calloc(1, sizeof *w);
  if (!w)
    return sg_diag_fail(d, SG_E_NOMEM, "zip writer: out of memory");
  if (cfg)
    w->cfg = *cfg;
  else
    sg_zip_writer_config_init(&w->cfg);
  const sg_zip_writer_config *c = &w->cfg;
  if (c->year < 1980 || c->year > 2107 || c->month < 1 || c->month > 12 || c->day < 1 ||
      c->day > 31 || c->hour < 0 || c->hour > 23 || c->minute < 0 || c->minute > 59 ||
      c->second < 0 || c->second > 59 || c->deflate_level < 1 || c->deflate_level > 9) {
    free(w);
    return sg_diag_fail(d, SG_E_RANGE,
                        "zip writer: timestamp must be 1980..2107 and deflate level 1..9");
  }
  /* DOS time has no zone: libzip converts time_t with localtime(), so build the time_t with
   * mktime() from the same local fields and the written fields equal the config's in every
   * time zone. */
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  tm.tm_year = c->year - 1900;
  tm.tm_mon = c->month - 1;
  tm.tm_mday = c->day;
  tm.tm_hour = c->hour;
  tm.tm_min = c->minute;
  tm.tm_sec = c->second;
  tm.tm_isdst = -1;
  w->mtime = mktime(&tm);
  snprintf(w->path, sizeof w->path, "%s", path);
  snprintf(w->partial, sizeof w->partial, "%s.partial", path);

  zip_error_t ze;
  zip_error_init(&ze);
  if (c->io_block == 0) {
    int zerr = 0;
    w->za = zip_open(w->partial, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!w->za) {
      zip_error_init_with_code(&ze, zerr);
      sg_diag_fail(d, SG_E_IO, "cannot create '%s': %s", w->partial, zip_error_strerror(&ze));
      zip_error_fini(&ze);
      free(w);
      return SG_E_IO;
    }
    zip_error_fini(&ze);
    *out = w;
    return SG_OK;
  }
  out_sink *s = calloc(1, sizeof *s);
  if (s)
    s->buf = malloc(c->io_block);
  if (!s || !s->buf) {
    if (s)
      free(s->buf);
    free(s);
    free(w);
    return sg_diag_fail(d, SG_E_NOMEM, "zip writer: out of memory");
  }
  snprintf(s->path, sizeof s->path, "%s", w->partial);
  s->fd = -1;
  s->cap = c->io_block;
  s->do_fsync = c->fsync_on_close;
  zip_error_init(&s->err);
  zip_source_t *src = zip_source_function_create(sink_cb, s, &ze);
  if (!src) {
    zip_error_fini(&s->err);
    free(s->buf);
    free(s);
    free(w);
    zip_error_fini(&ze);
    return sg_diag_fail(d, SG_E_NOMEM, "zip writer: out of memory");
  }
  /* Without it (no memory) the hash is taken from the finished file. */
  if (c->hash_sha256)
    s->hasher = w->hasher = hasher_new();
  w->za = zip_open_from_source(src, ZIP_CREATE | ZIP_TRUNCATE, &ze);
  if (!w->za) {
    sg_diag_fail(d, SG_E_IO, "cannot create '%s': %s", w->partial, zip_error_strerror(&ze));
    zip_source_free(src);
    zip_error_fini(&ze);
    hasher_free(w->hasher);
    free(w);
    return SG_E_IO;
  }
  zip_error_fini(&ze);
  w->sink = s;
  *out = w;
  return SG_OK;
}

/* Fixed attributes and compression for a freshly added entry. */
static sg_status finish_entry(sg_zip_writer *w, zip_int64_t idx, const char *name, int compress,
                              sg_diag *d) {
  zip_uint64_t i = (zip_uint64_t)idx;
  if (zip_set_file_compression(w->za, i, compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE,
                               compress ? (zip_uint32_t)w->cfg.deflate_level : 0) != 0 ||
      zip_file_set_mtime(w->za, i, w->mtime, 0) != 0 ||
      zip_file_set_external_attributes(w->za, i, 0, ZIP_OPSYS_UNIX, (zip_uint32_t)0100644 << 16) !=
          0)
    return sg_diag_fail(d, SG_E_IO, "zip: cannot set attributes of '%s': %s", name,
                        zip_strerror(w->za));
  return SG_OK;
}

static sg_status add_source(sg_zip_writer *w, const char *name, zip_source_t *src, int compress,
                            sg_diag *d) {
  zip_int64_t idx = zip_file_add(w->za, name, src, ZIP_FL_ENC_UTF_8);
  if (idx < 0) {
    zip_source_free(src);
    zip_error_t *e = zip_get_error(w->za);
    if (zip_error_code_zip(e) == ZIP_ER_EXISTS)
      return sg_diag_fail(d, SG_E_INVAL, "zip: entry '%s' added twice", name);
    return sg_diag_fail(d, SG_E_IO, "zip: cannot add '%s': %s", name, zip_strerror(w->za));
  }
  return finish_entry(w, idx, name, compress, d);
}

static sg_status add_file(sg_zip_writer *w, const char *archive_name, const char *src_path,
                          int compress, const uint32_t *crc, sg_diag *d);

sg_status sg_zip_writer_add_file(sg_zip_writer *w, const char *archive_name, const char *src_path,
                                 int compress, sg_diag *d) {
  return add_file(w, archive_name, src_path, compress, NULL, d);
}

sg_status sg__zip_writer_add_file_crc(sg_zip_writer *w, const char *archive_name,
                                      const char *src_path, int compress, const uint32_t *crc32,
                                      const char *sha256, sg_diag *d) {
  sg_status st = add_file(w, archive_name, src_path, compress, crc32, d);
  if (st == SG_OK && sha256 && strlen(sha256) == 64 && w->nq && !w->q_lost &&
      !strcmp(w->q[w->nq - 1].name, archive_name))
    memcpy(w->q[w->nq - 1].sha, sha256, 65);
  return st;
}

static sg_status add_file(sg_zip_writer *w, const char *archive_name, const char *src_path,
                          int compress, const uint32_t *crc, sg_diag *d) {
  if (!w || !archive_name || !src_path)
    return sg_diag_fail(d, SG_E_INVAL, "zip writer: NULL argument");
  sg_status st = sg_zip_name_check(archive_name, d);
  if (st != SG_OK)
    return st;
  struct stat sb;
  if (stat(src_path, &sb) != 0 || !S_ISREG(sb.st_mode))
    return sg_diag_fail(d, SG_E_IO, "zip: cannot add '%s': '%s' is not a readable file",
                        archive_name, src_path);
  zip_source_t *src;
  if (w->cfg.io_block == 0) {
    src = zip_source_file(w->za, src_path, 0, -1);
  } else {
    if (strlen(src_path) >= SG__PATH_MAX)
      return sg_diag_fail(d, SG_E_RANGE, "zip: path too long: '%s'", src_path);
    in_file *f = calloc(1, sizeof *f);
    if (!f)
      return sg_diag_fail(d, SG_E_NOMEM, "zip writer: out of memory");
    snprintf(f->path, sizeof f->path, "%s", src_path);
    f->fd = -1;
    f->size = (uint64_t)sb.st_size;
    f->mtime = w->mtime;
    f->cap = w->cfg.io_block;
    zip_error_init(&f->err);
    src = zip_source_function(w->za, in_cb, f);
    if (!src) {
      zip_error_fini(&f->err);
      free(f);
    }
  }
  if (!src)
    return sg_diag_fail(d, SG_E_IO, "zip: cannot add '%s': %s", archive_name, zip_strerror(w->za));
  st = add_source(w, archive_name, src, compress, d);
  pending *e = st == SG_OK ? queue_push(w, archive_name) : NULL;
  if (e) {
    e->path = strdup(src_path);
    if (!e->path)
      w->q_lost = 1;
    e->compress = compress;
    e->size = (uint64_t)sb.st_size;
    e->has_crc = crc != NULL;
    e->crc = crc ? *crc : 0;
  }
  return st;
}

static sg_status add_buffer(sg_zip_writer *w, const char *archive_name, const void *data, size_t n,
                            int compress, sg_diag *d) {
  if (!w || !archive_name || (!data && n))
    return sg_diag_fail(d, SG_E_INVAL, "zip writer: NULL argument");
  sg_status st = sg_zip_name_check(archive_name, d);
  if (st != SG_OK)
    return st;
  void *copy = malloc(n ? n : 1);
  if (!copy)
    return sg_diag_fail(d, SG_E_NOMEM, "zip writer: out of memory");
  if (n)
    memcpy(copy, data, n);
  zip_source_t *src = zip_source_buffer(w->za, copy, n, 1);
  if (!src) {
    free(copy);
    return sg_diag_fail(d, SG_E_NOMEM, "zip writer: out of memory");
  }
  st = add_source(w, archive_name, src, compress, d);
  pending *e = st == SG_OK ? queue_push(w, archive_name) : NULL;
  if (e) {
    e->data = malloc(n ? n : 1);
    if (!e->data)
      w->q_lost = 1;
    else if (n)
      memcpy(e->data, data, n);
    e->n = n;
    e->compress = compress;
  }
  return st;
}

sg_status sg_zip_writer_add_text(sg_zip_writer *w, const char *archive_name, const char *text,
                                 sg_diag *d) {
  if (!text)
    return sg_diag_fail(d, SG_E_INVAL, "zip writer: NULL text");
  return add_buffer(w, archive_name, text, strlen(text), 1, d);
}

/* ---- the direct writer (see the header comment) --------------------------------------------- */

#define DIRECT_CHUNK ((size_t)8 << 20) /* bytes per copy_file_range call */

static void put16(unsigned char *p, unsigned v) {
  p[0] = (unsigned char)(v & 0xff);
  p[1] = (unsigned char)((v >> 8) & 0xff);
}

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = (unsigned char)(v >> (8 * i));
}

/* Printable ASCII: libzip then sets no UTF-8 flag and writes no extra field. */
static int name_plain(const char *s) {
  for (; *s; ++s)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
      return 0;
  return 1;
}

/* A text's raw deflate stream as libzip makes it (zip_algorithm_deflate.c: raw, 32 KiB window,
 * memory level 9, default strategy); 0 on failure. */
static int deflate_text(pending *e, int level) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (e->n > 0x7fffffffu ||
      deflateInit2(&z, level, Z_DEFLATED, -MAX_WBITS, MAX_MEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
    return 0;
  uLong cap = deflateBound(&z, (uLong)e->n);
  e->z = malloc(cap ? cap : 1);
  int rc = Z_MEM_ERROR;
  if (e->z) {
    z.next_in = e->data;
    z.avail_in = (uInt)e->n;
    z.next_out = e->z;
    z.avail_out = (uInt)cap;
    rc = deflate(&z, Z_FINISH);
    e->zn = (size_t)z.total_out;
  }
  deflateEnd(&z);
  return rc == Z_STREAM_END;
}

/* The archive is the plain kind the direct writer lays out as libzip would. */
static int direct_ok(sg_zip_writer *w) {
  if (!w->sink || w->q_lost || w->nq == 0 || w->nq >= 0xffff ||
      zip_get_num_entries(w->za, 0) != (zip_int64_t)w->nq)
    return 0;
  uint64_t total = 22;
  for (size_t i = 0; i < w->nq; ++i) {
    pending *e = &w->q[i];
    if (!name_plain(e->name))
      return 0;
    uint64_t csize;
    if (e->path) {
      if (e->compress || e->size >= 0xffffffffu)
        return 0;
      csize = e->size;
    } else {
      if (!e->compress || e->n == 0)
        return 0;
      if (!e->z && !deflate_text(e, w->cfg.deflate_level))
        return 0;
      if (e->zn >= e->n) /* how libzip stores what deflate does not shrink is not assumed */
        return 0;
      csize = e->zn;
    }
    total += 30 + 46 + 2 * (uint64_t)strlen(e->name) + csize;
  }
  return total < 0xffffffffu;
}

typedef struct direct {
  int fd;
  int64_t pos;   /* where the next byte goes */
  int64_t final; /* [0, final) will not be written again */
  zip_hasher *h; /* or NULL */
  unsigned char *buf;
  size_t cap;
  int err;          /* errno of the failure */
  const char *what; /* the file being read, for the message */
  sg_sha256 dg;     /* the entry digest (sg_zip_digest_file), when dg_on */
  int dg_on;
} direct;

static void dg_put(direct *o, const void *p, size_t n) {
  if (o->dg_on && sg_sha256_update(&o->dg, p, n) != SG_OK)
    o->dg_on = 0;
}

static int direct_pwrite(direct *o, const void *p, size_t n, int64_t at) {
  const unsigned char *b = p;
  while (n) {
    ssize_t k = pwrite(o->fd, b, n, (off_t)at);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0) {
      o->err = k < 0 ? errno : EIO;
      return -1;
    }
    b += k;
    n -= (size_t)k;
    at += k;
  }
  return 0;
}

static void direct_final(direct *o, int64_t mark) {
  o->final = mark;
  hasher_offer(o->h, mark, 0);
}

/* dos time and date fields of the config's broken-down time */
static void dos_time(const sg_zip_writer_config *c, unsigned *t, unsigned *dt) {
  *t = (unsigned)((c->hour << 11) | (c->minute << 5) | (c->second / 2));
  *dt = (unsigned)(((c->year - 1980) << 9) | (c->month << 5) | c->day);
}

static void local_header(unsigned char h[30], const sg_zip_writer_config *c, int deflated,
                         uint32_t crc, uint64_t csize, uint64_t usize, size_t nl) {
  unsigned t, dt;
  dos_time(c, &t, &dt);
  put32(h, 0x04034b50u);
  put16(h + 4, deflated ? 20 : 10); /* version needed: 2.0 for deflate, 1.0 stored */
  put16(h + 6, deflated ? (c->deflate_level < 3   ? 2u << 1
                           : c->deflate_level > 7 ? 1u << 1
                                                  : 0)
                        : 0); /* deflate's option bits, as libzip sets them */
  put16(h + 8, deflated ? 8 : 0);
  put16(h + 10, t);
  put16(h + 12, dt);
  put32(h + 14, crc);
  put32(h + 18, (uint32_t)csize);
  put32(h + 22, (uint32_t)usize);
  put16(h + 26, (unsigned)nl);
  put16(h + 28, 0);
}

/* A file's bytes at o->pos: copy_file_range, or read and write where the kernel cannot (other
 * file systems, old kernels). With crc NULL they are read into user space, CRC'd and written
 * from that one read, so the CRC is of the very bytes written. */
static int direct_copy(direct *o, const pending *e, uint32_t *crc, sg_sha256 *inner) {
  const int offer = crc == NULL; /* the header before these bytes is final: hash along */
  int in = open(e->path, O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    o->err = errno;
    return -1;
  }
  int use_cfr = crc == NULL;
  uint32_t c = 0;
  uint64_t left = e->size;
  int64_t ioff = 0, from = o->pos;
  int rc = 0;
  while (left && rc == 0) {
    size_t k = left < DIRECT_CHUNK ? (size_t)left : DIRECT_CHUNK;
    ssize_t n = -1;
#if defined(__linux__)
    if (use_cfr) {
      loff_t io = (loff_t)ioff, oo = (loff_t)o->pos;
      n = copy_file_range(in, &io, o->fd, &oo, k, 0);
      if (n < 0 && errno != EINTR && errno != EIO && errno != ENOSPC && errno != EDQUOT) {
        use_cfr = 0; /* not between these files here: read and write */
        continue;
      }
    }
#else
    use_cfr = 0;
#endif
    if (!use_cfr) {
      if (!o->buf && !(o->buf = malloc(o->cap))) {
        o->err = ENOMEM;
        rc = -1;
        break;
      }
      n = pread(in, o->buf, k < o->cap ? k : o->cap, (off_t)ioff);
      if (n > 0) {
        if (crc)
          c = sg__crc32(c, o->buf, (size_t)n);
        if (inner && sg_sha256_update(inner, o->buf, (size_t)n) != SG_OK)
          o->dg_on = 0;
        if (direct_pwrite(o, o->buf, (size_t)n, o->pos) < 0) {
          rc = -1;
          break;
        }
      }
    }
    if (n < 0) {
      if (errno == EINTR)
        continue;
      o->err = errno;
      rc = -1;
    } else if (n == 0) { /* the file shrank after it was added */
      o->err = EIO;
      rc = -1;
    } else {
      ioff += n;
      o->pos += n;
      left -= (uint64_t)n;
      if (offer)
        direct_final(o, o->pos);
    }
  }
  close(in);
  if (rc == 0) {
    sg__start_writeback(o->fd, from, o->pos - from);
    if (crc)
      *crc = (uint32_t)c;
  }
  return rc;
}

/* The archive's file opened for the direct writer (truncated). 0, or -1 with o->err. */
static int direct_open_file(sg_zip_writer *w, direct *o) {
  o->fd = open(w->partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (o->fd < 0) {
    o->err = errno;
    return -1;
  }
  o->h = w->hasher;
  if (o->h)
    hasher_start(o->h, w->partial);
  o->cap = w->cfg.io_block;
  return 0;
}

/* One entry at o->pos: its local header and bytes; e->lho and e->lh keep what the central
 * directory repeats. 0, or -1 with o->err. */
static int direct_entry(const sg_zip_writer_config *c, direct *o, pending *e) {
  const size_t nl = strlen(e->name);
  const int64_t lho = o->pos;
  const int deflated = e->path == NULL;
  uint32_t crc = e->has_crc ? e->crc : 0;
  uint64_t csize = deflated ? e->zn : e->size, usize = deflated ? e->n : e->size;
  unsigned char *lh = e->lh;
  int rc;
  o->what = e->path ? e->path : e->name;
  e->lho = lho;
  if (deflated) {
    crc = sg__crc32(0, e->data, e->n);
    local_header(lh, c, 1, crc, csize, usize, nl);
    rc = direct_pwrite(o, lh, 30, lho) || direct_pwrite(o, e->name, nl, lho + 30) ||
         direct_pwrite(o, e->z, e->zn, lho + 30 + (int64_t)nl);
    o->pos = lho + 30 + (int64_t)nl + (int64_t)e->zn;
    dg_put(o, lh, 30);
    dg_put(o, e->name, nl);
    dg_put(o, e->z, e->zn);
  } else if (e->has_crc) { /* the header first, then the bytes by the kernel alone */
    local_header(lh, c, 0, crc, csize, usize, nl);
    rc = direct_pwrite(o, lh, 30, lho) || direct_pwrite(o, e->name, nl, lho + 30);
    o->pos = lho + 30 + (int64_t)nl;
    rc = rc || direct_copy(o, e, NULL, NULL);
    dg_put(o, lh, 30);
    dg_put(o, e->name, nl);
    if (!e->sha[0])
      o->dg_on = 0; /* bytes copied unseen: the digest is taken from the file */
    dg_put(o, e->sha, 64);
  } else { /* the bytes and their CRC from one read, then the header before them */
    o->pos = lho + 30 + (int64_t)nl;
    sg_sha256 inner;
    char ih[65] = "";
    int in_ok = o->dg_on && sg_sha256_init(&inner) == SG_OK;
    o->dg_on = in_ok;
    rc = direct_copy(o, e, &crc, in_ok ? &inner : NULL);
    if (in_ok && sg_sha256_final(&inner, ih) != SG_OK)
      o->dg_on = 0;
    local_header(lh, c, 0, crc, csize, usize, nl);
    rc = rc || direct_pwrite(o, lh, 30, lho) || direct_pwrite(o, e->name, nl, lho + 30);
    dg_put(o, lh, 30);
    dg_put(o, e->name, nl);
    dg_put(o, ih, 64);
  }
  if (rc == 0)
    direct_final(o, o->pos);
  return rc ? -1 : 0;
}

/* After the entries: the central directory and the end record; then committed (fsync as
 * configured) and closed. 0, or -1 with o->err. */
static int direct_end(sg_zip_writer *w, direct *o) {
  size_t cdn = 0;
  for (size_t i = 0; i < w->nq; ++i)
    cdn += 46 + strlen(w->q[i].name);
  unsigned char *cd = malloc(cdn + 22), *cp = cd;
  if (!cd) {
    o->err = ENOMEM;
    return -1;
  }
  for (size_t i = 0; i < w->nq; ++i) {
    const pending *e = &w->q[i];
    const size_t nl = strlen(e->name);
    put32(cp, 0x02014b50u);
    put16(cp + 4, 0x033f);         /* made by: Unix, version 6.3 (libzip's) */
    memcpy(cp + 6, e->lh + 4, 26); /* needed, flags, method, time, date, crc, sizes, name length */
    put16(cp + 32, 0);             /* comment length */
    put16(cp + 34, 0);             /* disk */
    put16(cp + 36, 0);             /* internal attributes */
    put32(cp + 38, (uint32_t)0100644 << 16);
    put32(cp + 42, (uint32_t)e->lho);
    memcpy(cp + 46, e->name, nl);
    cp += 46 + nl;
  }
  unsigned char *end = cp;
  put32(end, 0x06054b50u);
  put16(end + 4, 0);
  put16(end + 6, 0);
  put16(end + 8, (unsigned)w->nq);
  put16(end + 10, (unsigned)w->nq);
  put32(end + 12, (uint32_t)cdn);
  put32(end + 16, (uint32_t)o->pos);
  put16(end + 20, 0);
  int rc = direct_pwrite(o, cd, cdn + 22, o->pos);
  dg_put(o, cd, cdn + 22);
  if (rc == 0) {
    o->pos += (int64_t)(cdn + 22);
    hasher_offer(o->h, o->pos, 1);
    if (w->cfg.fsync_on_close && fsync(o->fd) != 0) {
      o->err = errno;
      rc = -1;
    }
  }
  free(cd);
  return rc;
}

/* The archive, directly, from entry `from` on (the entries before it are on file already:
 * sg__zip_writer_write_ahead); 0 when written, committed and closed. */
static int direct_write(sg_zip_writer *w, direct *o, size_t from) {
  int rc = from == 0 ? direct_open_file(w, o) : 0;
  for (size_t i = from; i < w->nq && rc == 0; ++i)
    rc = direct_entry(&w->cfg, o, &w->q[i]);
  if (rc == 0)
    rc = direct_end(w, o);
  if (o->fd >= 0 && close(o->fd) != 0 && rc == 0) {
    o->err = errno;
    rc = -1;
  }
  o->fd = -1;
  return rc;
}

/* ---- writing ahead (sg__zip_writer_write_ahead) ---------------------------------------------
 * The first n entries are laid out by a thread while the caller prepares the rest (a render
 * writes its stems into the archive while it masters). The thread works on copies of those
 * entries, since adding more may move the queue; their strings stay the queue's, which frees
 * them only after the thread has ended. close joins it and goes on from where it stopped, in the
 * same order and with the same digest state, so the archive's bytes are those of one pass. */
struct ahead {
  pthread_t th;
  const sg_zip_writer *w; /* read only: its path and config */
  pending *q;             /* copies of entries [0, n) */
  size_t n;
  direct o;
  int rc;
};

static void *ahead_run(void *arg) {
  ahead *a = arg;
  a->rc = direct_open_file((sg_zip_writer *)a->w, &a->o);
  for (size_t i = 0; i < a->n && a->rc == 0; ++i)
    a->rc = direct_entry(&a->w->cfg, &a->o, &a->q[i]);
  return NULL;
}

/* Joins the thread; its entries' header fields go back into the queue. */
static ahead *ahead_join(sg_zip_writer *w) {
  ahead *a = w->ahead;
  if (!a)
    return NULL;
  pthread_join(a->th, NULL);
  for (size_t i = 0; i < a->n && i < w->nq; ++i) {
    w->q[i].lho = a->q[i].lho;
    memcpy(w->q[i].lh, a->q[i].lh, sizeof w->q[i].lh);
  }
  return a;
}

static void ahead_free(sg_zip_writer *w) {
  ahead *a = w->ahead;
  if (!a)
    return;
  if (a->o.fd >= 0)
    close(a->o.fd);
  free(a->o.buf);
  sg_sha256_free(&a->o.dg);
  free(a->q);
  free(a);
  w->ahead = NULL;
}

/* Whether entries [0, n) are of the kind the direct writer lays out (direct_ok's rules, texts
 * deflated here), so the thread may start on them. */
static int ahead_ok(sg_zip_writer *w, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    pending *e = &w->q[i];
    if (!name_plain(e->name))
      return 0;
    if (e->path ? e->compress || e->size >= 0xffffffffu
                : !e->compress || e->n == 0 || (!e->z && !deflate_text(e, w->cfg.deflate_level)) ||
                      e->zn >= e->n)
      return 0;
  }
  return 1;
}

sg_status sg__zip_writer_write_ahead(sg_zip_writer *w, sg_diag *d) {
  if (!w)
    return sg_diag_fail(d, SG_E_INVAL, "zip writer: NULL");
  /* Only the direct writer writes ahead; the archive's hash beside the writing reads what
   * libzip or close has written, so with it everything is written at close as before. */
  if (w->ahead || !w->sink || w->hasher || w->q_lost || w->nq == 0 || !ahead_ok(w, w->nq))
    return SG_OK;
  ahead *a = calloc(1, sizeof *a);
  pending *q = a ? malloc(w->nq * sizeof *q) : NULL;
  if (!q) {
    free(a);
    return SG_OK; /* written at close */
  }
  memcpy(q, w->q, w->nq * sizeof *q);
  a->w = w;
  a->q = q;
  a->n = w->nq;
  a->o.fd = -1;
  a->o.dg_on = sg_sha256_init(&a->o.dg) == SG_OK; /* used if close asks for the digest */
  if (pthread_create(&a->th, NULL, ahead_run, a) != 0) {
    sg_sha256_free(&a->o.dg);
    free(q);
    free(a);
    return SG_OK;
  }
  w->ahead = a;
  return SG_OK;
}

static int fsync_path(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

/* hex NULL: nothing; digest 0: the archive's SHA-256; 1: its entry digest (sg_zip_digest_file). */
static sg_status writer_close(sg_zip_writer *w, char *hex, int digest, sg_diag *d) {
  if (!w)
    return sg_diag_fail(d, SG_E_INVAL, "zip writer: NULL");
  sg_status st = SG_OK;
  if (zip_get_num_entries(w->za, 0) == 0) {
    /* libzip would delete rather than write an empty archive. */
    zip_discard(w->za);
    unlink(w->partial);
    hasher_free(w->hasher);
    queue_free(w);
    free(w);
    return sg_diag_fail(d, SG_E_INVAL, "zip writer: refusing to write an empty archive");
  }
  ahead *a = ahead_join(w);
  if (a && a->rc != 0 && direct_ok(w)) {
    st = sg_diag_fail(d, SG_E_IO, "cannot write '%s'%s%s: %s", w->partial,
                      a->o.what ? " from " : "", a->o.what ? a->o.what : "", strerror(a->o.err));
    zip_discard(w->za);
    ahead_free(w);
    unlink(w->partial);
  } else if (direct_ok(w)) {
    zip_discard(w->za); /* nothing was written through it */
    direct o;
    memset(&o, 0, sizeof o);
    o.fd = -1;
    size_t from = 0;
    if (a) { /* go on from where the thread stopped */
      o = a->o;
      from = a->n;
      a->o.fd = -1;
      a->o.buf = NULL;
      memset(&a->o.dg, 0, sizeof a->o.dg);
      if (!(hex && digest) && o.dg_on) {
        sg_sha256_free(&o.dg);
        o.dg_on = 0;
      }
      ahead_free(w);
    } else {
      o.dg_on = hex && digest && sg_sha256_init(&o.dg) == SG_OK;
    }
    if (direct_write(w, &o, from) != 0) {
      st = sg_diag_fail(d, SG_E_IO, "cannot write '%s'%s%s: %s", w->partial, o.what ? " from " : "",
                        o.what ? o.what : "", strerror(o.err));
      unlink(w->partial);
    } else if (rename(w->partial, w->path) != 0) {
      st = sg_diag_fail(d, SG_E_IO, "cannot rename '%s' to '%s': %s", w->partial, w->path,
                        strerror(errno));
      unlink(w->partial);
    }
    free(o.buf);
    if (o.dg_on && st == SG_OK && sg_sha256_final(&o.dg, hex) != SG_OK)
      hex[0] = 0;
    sg_sha256_free(&o.dg); /* after final: nothing left to free (idempotent) */
  } else if ((ahead_free(w), zip_close(w->za) != 0)) { /* libzip rewrites the .partial whole */
    st = sg_diag_fail(d, SG_E_IO, "cannot write '%s': %s", w->path, zip_strerror(w->za));
    zip_discard(w->za);
    unlink(w->partial);
  } else if (w->cfg.io_block == 0 && w->cfg.fsync_on_close && fsync_path(w->partial) != 0) {
    st = sg_diag_fail(d, SG_E_IO, "cannot flush '%s': %s", w->partial, strerror(errno));
    unlink(w->partial);
  } else if (rename(w->partial, w->path) != 0) {
    st = sg_diag_fail(d, SG_E_IO, "cannot rename '%s' to '%s': %s", w->partial, w->path,
                      strerror(errno));
    unlink(w->partial);
  }
  if (w->hasher)
    hasher_stop(w->hasher);
  if (st == SG_OK && hex && digest) {
    if (!hex[0]) /* not taken as written (libzip wrote it, or an entry's hash was unknown) */
      st = sg_zip_digest_file(w->path, hex, d);
  } else if (st == SG_OK && hex) {
    if (w->hasher && w->hasher->hex[0])
      memcpy(hex, w->hasher->hex, 65);
    else /* not hashed beside the writing: from the file */
      st = sg_sha256_file(w->path, hex, d);
  }
  hasher_free(w->hasher);
  queue_free(w);
  free(w);
  return st;
}

sg_status sg_zip_writer_close(sg_zip_writer *w, sg_diag *d) { return writer_close(w, NULL, 0, d); }

/* writer_close with a result into hex (digest as there); a NULL hex aborts the archive. */
static sg_status close_into(sg_zip_writer *w, char *hex, int digest, sg_diag *d) {
  if (!hex) {
    sg_zip_writer_abort(w);
    return sg_diag_fail(d, SG_E_INVAL, "zip writer: NULL %s", digest ? "digest" : "hash");
  }
  hex[0] = 0;
  return writer_close(w, hex, digest, d);
}

sg_status sg_zip_writer_close_sha256(sg_zip_writer *w, char hex[65], sg_diag *d) {
  return close_into(w, hex, 0, d);
}

sg_status sg_zip_writer_close_digest(sg_zip_writer *w, char hex[65], sg_diag *d) {
  return close_into(w, hex, 1, d);
}

static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* n bytes of f into h (raw), or into a SHA-256 of their own whose 64 hex digits go into h. */
static int digest_span(FILE *f, sg_sha256 *h, uint64_t n, int inner, unsigned char *buf,
                       size_t cap) {
  sg_sha256 in;
  sg_sha256 *t = h;
  if (inner) {
    if (sg_sha256_init(&in) != SG_OK)
      return 0;
    t = &in;
  }
  int ok = 1;
  while (ok && n) {
    size_t k = n < cap ? (size_t)n : cap;
    ok = fread(buf, 1, k, f) == k && sg_sha256_update(t, buf, k) == SG_OK;
    n -= k;
  }
  char hex[65];
  if (inner) {
    ok = sg_sha256_final(&in, hex) == SG_OK && ok && sg_sha256_update(h, hex, 64) == SG_OK;
    sg_sha256_free(&in);
  }
  return ok;
}

sg_status sg_zip_digest_file(const char *path, char hex[65], sg_diag *d) {
  if (!path || !hex)
    return sg_diag_fail(d, SG_E_INVAL, "zip digest: NULL argument");
  hex[0] = 0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return sg_diag_fail(d, SG_E_IO, "cannot open '%s' for hashing: %s", path, strerror(errno));
  const size_t cap = (size_t)1 << 20;
  unsigned char *buf = malloc(cap), lh[30];
  sg_sha256 h = {0};
  int ok = buf && sg_sha256_init(&h) == SG_OK;
  /* Local headers in order: each hashed as it is, a stored entry's data as its SHA-256. A data
   * descriptor or Zip64 sizes end the walk: the rest is hashed as it is. */
  for (size_t got; ok && (got = fread(lh, 1, 30, f)) > 0;) {
    uint32_t csize = got == 30 ? get32(lh + 18) : 0;
    unsigned method = lh[8] | (unsigned)lh[9] << 8, flags = lh[6] | (unsigned)lh[7] << 8;
    uint64_t names = (uint64_t)(lh[26] | lh[27] << 8) + (uint64_t)(lh[28] | lh[29] << 8);
    if (got < 30 || get32(lh) != 0x04034b50u || (flags & 8) || csize == 0xffffffffu) {
      ok = sg_sha256_update(&h, lh, got) == SG_OK;
      break;
    }
    ok = sg_sha256_update(&h, lh, 30) == SG_OK && digest_span(f, &h, names, 0, buf, cap) &&
         digest_span(f, &h, csize, method == 0, buf, cap);
  }
  for (size_t k; ok && (k = fread(buf, 1, cap, f)) > 0;)
    ok = sg_sha256_update(&h, buf, k) == SG_OK;
  ok = ok && !ferror(f);
  fclose(f);
  free(buf);
  if (ok)
    return sg_sha256_final(&h, hex);
  sg_sha256_free(&h);
  return sg_diag_fail(d, SG_E_IO, "cannot hash '%s': read error or not a zip", path);
}

void sg_zip_writer_abort(sg_zip_writer *w) {
  if (!w)
    return;
  ahead_join(w);
  ahead_free(w);
  zip_discard(w->za);
  unlink(w->partial);
  hasher_free(w->hasher);
  queue_free(w);
  free(w);
}
