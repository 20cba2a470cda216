/* Zip reader over libzip with hostile-archive safety.
 *
 * Everything an archive declares is checked before any entry is read (entry count, names,
 * declared sizes, their sum, compression ratio, method, encryption), and what is read is held
 * to what was declared (never more bytes than the declared size; libzip verifies the CRC-32 at
 * the end of a sequential read; an audio entry stored uncompressed is read straight from the
 * file by pread, its integrity the SHA-256 and the CRC-32 taken along, see direct_open). The ratio
 * bound is the classic zip-bomb defence (D. Fifield, "A better zip bomb", WOOT 2019: overlapping or
 * highly compressed entries inflate by 1000x and more, while deflate on real audio or text stays
 * well under 20x). libzip opens with ZIP_CHECKCONS, which also cross-checks every local header
 * against the central directory, the overlap trick of that paper included. */
#include "package_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

struct sg_zip_reader {
  zip_t *za;
  char path[SG__PATH_MAX];
  sg_zip_limits lim;
  sg_zip_entry *e;
  size_t n;
  /* Stored entries are read straight from the archive (see audio_open): its descriptor, size,
   * and each central entry's local header offset by libzip index (UINT64_MAX: unknown, read
   * through libzip). */
  int fd;
  uint64_t fsize;
  uint64_t *lho;
  size_t n_lho;
};

void sg_zip_limits_init(sg_zip_limits *l) {
  l->max_entries = 1000;
  l->max_entry_bytes = (uint64_t)4 << 30;
  l->max_total_bytes = (uint64_t)16 << 30;
  l->max_ratio = 200.0;
  l->ratio_min_bytes = (uint64_t)1 << 20;
  l->max_memory_entry = (size_t)256 << 20;
}

/* ---- names ---------------------------------------------------------------------------------- */

sg_status sg_zip_name_check(const char *name, sg_diag *d) {
  if (!name || !name[0])
    return sg_diag_fail(d, SG_E_FORMAT, "unsafe archive entry: empty name");
  size_t n = strlen(name);
  if (n > 255)
    return sg_diag_fail(d, SG_E_FORMAT,
                        "unsafe archive entry '%.64s...': name longer than 255 "
                        "bytes",
                        name);
  if (name[0] == '/')
    return sg_diag_fail(d, SG_E_FORMAT, "unsafe archive entry '%s': absolute path", name);
  if (n >= 2 && name[1] == ':' &&
      ((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
    return sg_diag_fail(d, SG_E_FORMAT, "unsafe archive entry '%s': drive letter", name);
  const unsigned char *s = (const unsigned char *)name;
  for (size_t i = 0; i < n;) {
    if (s[i] == '\\')
      return sg_diag_fail(d, SG_E_FORMAT, "unsafe archive entry '%s': backslash in name", name);
    if (s[i] < 0x20 || s[i] == 0x7F)
      return sg_diag_fail(d, SG_E_FORMAT, "unsafe archive entry: control character 0x%02x in name",
                          s[i]);
    size_t L = sg__utf8_seq(s + i, n - i);
    if (!L)
      return sg_diag_fail(d, SG_E_FORMAT, "unsafe archive entry: name is not valid UTF-8");
    i += L;
  }
  /* Components between '/': none may be empty (except after a final '/'), "." or "..". */
  const char *p = name;
  while (*p) {
    const char *q = strchr(p, '/');
    size_t len = q ? (size_t)(q - p) : strlen(p);
    if (len == 0)
      return sg_diag_fail(d, SG_E_FORMAT, "unsafe archive entry '%s': empty path component", name);
    if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
      return sg_diag_fail(d, SG_E_FORMAT, "unsafe archive entry '%s': '%.*s' path component", name,
                          (int)len, p);
    if (!q)
      break;
    p = q + 1;
  }
  return SG_OK;
}

/* ---- raw central directory scan ---------------------------------------------------------------
 */

static uint32_t rd16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const unsigned char *p) { return rd16(p) | rd16(p + 2) << 16; }
static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static int pread_all(int fd, void *buf, size_t n, uint64_t off) {
  size_t done = 0;
  while (done < n) {
    ssize_t k = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return -1;
    done += (size_t)k;
  }
  return 0;
}

typedef struct stored_name {
  const unsigned char *p;
  size_t n;
} stored_name;

static int cmp_name(const void *a, const void *b) {
  const stored_name *x = a, *y = b;
  int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
  return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* The first name (in byte order) that two central entries share, written into out ("" when
 * every name is unique). */
static void find_duplicate(stored_name *v, size_t n, char *out, size_t cap) {
  out[0] = '\0';
  qsort(v, n, sizeof *v, cmp_name);
  for (size_t i = 1; i < n; ++i)
    if (!cmp_name(&v[i - 1], &v[i])) {
      snprintf(out, cap, "%.*s", (int)(v[i].n < 255 ? v[i].n : 255), (const char *)v[i].p);
      return;
    }
}

/* libzip replaces a NUL byte inside an entry name with a space, so "evil.wav\0.txt" reaches the
 * caller as "evil.wav .txt". The brief for a hostile-safe reader is to refuse such names, which
 * needs the stored bytes: this walks the central directory (APPNOTE 4.3.12, 4.3.14-16, with the
 * Zip64 end record) of an archive libzip has already accepted and rejects NUL in any name.
 * With dup (an archive libzip refused for two entries of one name), it finds that name instead,
 * so the message can name the entry. */
static sg_status scan_names(const char *path, char *dup, size_t dup_cap, uint64_t *lho,
                            size_t n_lho, sg_diag *d) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return sg_diag_fail(d, SG_E_IO, "cannot open archive '%s': %s", path, strerror(errno));
  sg_status st = SG_OK;
  unsigned char *tail = NULL, *cd = NULL;
  stored_name *names = NULL;
  struct stat sb;
  if (fstat(fd, &sb) != 0 || sb.st_size < 22)
    goto out; /* libzip accepted it; nothing to scan */
  uint64_t fsize = (uint64_t)sb.st_size;
  size_t tl = fsize < 22 + 65535 ? (size_t)fsize : 22 + 65535;
  tail = malloc(tl);
  if (!tail || pread_all(fd, tail, tl, fsize - tl) != 0) {
    st = sg_diag_fail(d, SG_E_IO, "cannot read archive '%s'", path);
    goto out;
  }
  size_t eo = (size_t)-1;
  for (size_t i = tl - 22 + 1; i-- > 0;)
    if (rd32(tail + i) == 0x06054b50u && i + 22 + rd16(tail + i + 20) <= tl) {
      eo = i;
      break;
    }
  if (eo == (size_t)-1) {
    st = sg_diag_fail(d, SG_E_FORMAT, "archive '%s': no end of central directory record", path);
    goto out;
  }
  uint64_t n = rd16(tail + eo + 10), size = rd32(tail + eo + 12), off = rd32(tail + eo + 16);
  if (n == 0xFFFF || size == 0xFFFFFFFFu || off == 0xFFFFFFFFu) {
    unsigned char z[56];
    uint64_t eo_abs = fsize - tl + eo;
    if (eo_abs < 20 || pread_all(fd, z, 20, eo_abs - 20) != 0 || rd32(z) != 0x07064b50u) {
      st = sg_diag_fail(d, SG_E_FORMAT, "archive '%s': damaged Zip64 locator", path);
      goto out;
    }
    uint64_t z64 = rd64(z + 8);
    if (pread_all(fd, z, 56, z64) != 0 || rd32(z) != 0x06064b50u) {
      st = sg_diag_fail(d, SG_E_FORMAT, "archive '%s': damaged Zip64 end record", path);
      goto out;
    }
    n = rd64(z + 32);
    size = rd64(z + 40);
    off = rd64(z + 48);
  }
  if (size > ((uint64_t)256 << 20) || off > fsize || size > fsize - off) {
    st = sg_diag_fail(d, SG_E_LIMIT,
                      "archive '%s': central directory of %llu bytes at %llu is "
                      "out of bounds",
                      path, (unsigned long long)size, (unsigned long long)off);
    goto out;
  }
  cd = malloc(size ? (size_t)size : 1);
  if (!cd || pread_all(fd, cd, (size_t)size, off) != 0) {
    st = sg_diag_fail(d, SG_E_IO, "cannot read the central directory of '%s'", path);
    goto out;
  }
  if (dup && n > size / 46)
    goto out; /* more entries than the directory can hold: no name to find */
  if (dup && !(names = calloc(n ? (size_t)n : 1, sizeof *names))) {
    st = sg_diag_fail(d, SG_E_NOMEM, "out of memory scanning '%s'", path);
    goto out;
  }
  size_t p = 0;
  for (uint64_t k = 0; k < n; ++k) {
    if (size - p < 46 || rd32(cd + p) != 0x02014b50u) {
      st = sg_diag_fail(d, SG_E_FORMAT, "archive '%s': damaged central directory entry %llu", path,
                        (unsigned long long)k);
      goto out;
    }
    size_t nl = rd16(cd + p + 28), xl = rd16(cd + p + 30), cl = rd16(cd + p + 32);
    if (size - p - 46 < nl + xl + cl) {
      st = sg_diag_fail(d, SG_E_FORMAT, "archive '%s': damaged central directory entry %llu", path,
                        (unsigned long long)k);
      goto out;
    }
    if (lho && k < n_lho) { /* the local header offset, from the Zip64 extra when saturated */
      uint64_t o = rd32(cd + p + 42);
      if (o == 0xFFFFFFFFu) {
        o = UINT64_MAX;
        const unsigned char *x = cd + p + 46 + nl, *xe = x + xl;
        while (xe - x >= 4) {
          size_t id = rd16(x), len = rd16(x + 2);
          if ((size_t)(xe - x - 4) < len)
            break;
          if (id == 0x0001) { /* sizes first, each present only when its field saturated */
            size_t at =
                4 + 8 * ((rd32(cd + p + 24) == 0xFFFFFFFFu) + (rd32(cd + p + 20) == 0xFFFFFFFFu));
            if (at + 8 <= 4 + len)
              o = rd64(x + at);
            break;
          }
          x += 4 + len;
        }
      }
      lho[k] = o;
    }
    if (names) {
      names[k] = (stored_name){cd + p + 46, nl};
    } else if (memchr(cd + p + 46, 0, nl)) {
      st = sg_diag_fail(d, SG_E_FORMAT,
                        "unsafe archive entry %llu in '%s': NUL byte in its name (shown as "
                        "'%.*s')",
                        (unsigned long long)k, path, (int)strnlen((char *)cd + p + 46, nl),
                        (const char *)cd + p + 46);
      goto out;
    }
    p += 46 + nl + xl + cl;
  }
  if (names)
    find_duplicate(names, (size_t)n, dup, dup_cap);
out:
  free(names);
  free(tail);
  free(cd);
  close(fd);
  return st;
}

/* ---- open ----------------------------------------------------------------------------------- */

static const char *zip_errtext(int code, char *buf, size_t cap) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  snprintf(buf, cap, "%s", zip_error_strerror(&e));
  zip_error_fini(&e);
  return buf;
}

sg_status sg_zip_reader_open(sg_zip_reader **out, const char *path, const sg_zip_limits *lim,
                             sg_diag *d) {
  if (!out || !path)
    return sg_diag_fail(d, SG_E_INVAL, "zip reader: NULL argument");
  *out = NULL;
  if (strlen(path) >= SG__PATH_MAX)
    return sg_diag_fail(d, SG_E_RANGE, "zip reader: path too long");
  sg_zip_reader *r = calloc(1, sizeof *r);
  if (!r)
    return sg_diag_fail(d, SG_E_NOMEM, "zip reader: out of memory");
  snprintf(r->path, sizeof r->path, "%s", path);
  r->fd = -1;
  if (lim)
    r->lim = *lim;
  else
    sg_zip_limits_init(&r->lim);
  sg_status st = SG_OK;
  char eb[160];
  int zerr = 0;
  r->za = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
  if (!r->za) {
    if (zerr == ZIP_ER_NOENT || zerr == ZIP_ER_OPEN || zerr == ZIP_ER_READ)
      st = sg_diag_fail(d, SG_E_IO, "cannot open archive '%s': %s", path,
                        zip_errtext(zerr, eb, sizeof eb));
    else if (zerr == ZIP_ER_EXISTS) { /* libzip's word for two central entries of one name */
      char dup[256] = "";
      sg_diag sd;
      sg_diag_clear(&sd);
      if (scan_names(path, dup, sizeof dup, NULL, 0, &sd) != SG_OK)
        dup[0] = '\0';
      st = sg_diag_fail(d, SG_E_FORMAT,
                        "'%s' holds two entries with the same name%s%s%s: a package names each "
                        "file once (which one a tool would read is up to the tool)",
                        path, dup[0] ? " '" : "", dup, dup[0] ? "'" : "");
    } else
      st = sg_diag_fail(d, SG_E_FORMAT,
                        "'%s' is not a readable zip archive (%s): truncated or damaged?", path,
                        zip_errtext(zerr, eb, sizeof eb));
    free(r);
    return st;
  }
  zip_int64_t count = zip_get_num_entries(r->za, 0);
  if (count >= 0 && (uint64_t)count <= r->lim.max_entries) {
    r->n_lho = (size_t)count;
    if ((r->lho = malloc((r->n_lho ? r->n_lho : 1) * sizeof *r->lho)))
      for (size_t k = 0; k < r->n_lho; ++k)
        r->lho[k] = UINT64_MAX;
    if ((st = scan_names(path, NULL, 0, r->lho, r->lho ? r->n_lho : 0, d)) != SG_OK)
      goto fail;
  }
  if (count < 0 || (uint64_t)count > r->lim.max_entries) {
    st = sg_diag_fail(d, SG_E_LIMIT, "archive '%s' has %lld entries; at most %zu are allowed", path,
                      (long long)count, r->lim.max_entries);
    sg_diag_value(d, (double)count, (double)r->lim.max_entries, "entries");
    goto fail;
  }
  r->e = calloc(count ? (size_t)count : 1, sizeof *r->e);
  if (!r->e) {
    st = sg_diag_fail(d, SG_E_NOMEM, "zip reader: out of memory");
    goto fail;
  }
  uint64_t total = 0;
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t zs;
    zip_stat_init(&zs);
    if (zip_stat_index(r->za, (zip_uint64_t)i, 0, &zs) != 0 || !(zs.valid & ZIP_STAT_NAME) ||
        !(zs.valid & ZIP_STAT_SIZE) || !(zs.valid & ZIP_STAT_COMP_SIZE)) {
      st = sg_diag_fail(d, SG_E_FORMAT, "archive '%s': entry %lld is unreadable: %s", path,
                        (long long)i, zip_strerror(r->za));
      goto fail;
    }
    /* Check the bytes as stored as well as libzip's UTF-8 view: a name without the UTF-8 flag
     * is converted from CP437, which turns control bytes into printable symbols. */
    const char *raw = zip_get_name(r->za, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
    if ((st = sg_zip_name_check(raw ? raw : "", d)) != SG_OK ||
        (st = sg_zip_name_check(zs.name, d)) != SG_OK) {
      sg_diag_at(d, path, 0, 0);
      goto fail;
    }
    for (size_t k = 0; k < r->n; ++k)
      if (strcmp(r->e[k].name, zs.name) == 0) {
        st = sg_diag_fail(d, SG_E_FORMAT, "archive '%s': entry '%s' appears twice", path, zs.name);
        goto fail;
      }
    if ((zs.valid & ZIP_STAT_ENCRYPTION_METHOD) && zs.encryption_method != ZIP_EM_NONE) {
      st =
          sg_diag_fail(d, SG_E_UNSUPPORTED, "archive '%s': entry '%s' is encrypted", path, zs.name);
      goto fail;
    }
    if (!(zs.valid & ZIP_STAT_COMP_METHOD) ||
        (zs.comp_method != ZIP_CM_STORE && zs.comp_method != ZIP_CM_DEFLATE)) {
      st = sg_diag_fail(d, SG_E_UNSUPPORTED,
                        "archive '%s': entry '%s' uses compression method %u (only stored and "
                        "deflate are accepted)",
                        path, zs.name, (unsigned)zs.comp_method);
      goto fail;
    }
    if (zs.size > r->lim.max_entry_bytes) {
      st = sg_diag_fail(
          d, SG_E_LIMIT, "archive '%s': entry '%s' declares %llu bytes; at most %llu are allowed",
          path, zs.name, (unsigned long long)zs.size, (unsigned long long)r->lim.max_entry_bytes);
      sg_diag_value(d, (double)zs.size, (double)r->lim.max_entry_bytes, "bytes");
      goto fail;
    }
    if (zs.comp_method == ZIP_CM_STORE && zs.comp_size != zs.size) {
      st = sg_diag_fail(
          d, SG_E_FORMAT, "archive '%s': stored entry '%s' declares %llu bytes but occupies %llu",
          path, zs.name, (unsigned long long)zs.size, (unsigned long long)zs.comp_size);
      goto fail;
    }
    if (zs.size >= r->lim.ratio_min_bytes) {
      double ratio = zs.comp_size ? (double)zs.size / (double)zs.comp_size : 1e300;
      if (ratio > r->lim.max_ratio) {
        st = sg_diag_fail(d, SG_E_LIMIT,
                          "archive '%s': entry '%s' expands %.0fx (%llu -> %llu bytes): a zip "
                          "bomb? at most %.0fx is allowed",
                          path, zs.name, ratio, (unsigned long long)zs.comp_size,
                          (unsigned long long)zs.size, r->lim.max_ratio);
        sg_diag_value(d, ratio, r->lim.max_ratio, "ratio");
        goto fail;
      }
    }
    total += zs.size;
    if (total > r->lim.max_total_bytes) {
      st =
          sg_diag_fail(d, SG_E_LIMIT, "archive '%s': entries declare more than %llu bytes in total",
                       path, (unsigned long long)r->lim.max_total_bytes);
      goto fail;
    }
    sg_zip_entry *e = &r->e[r->n++];
    snprintf(e->name, sizeof e->name, "%s", zs.name);
    e->index = (uint64_t)i;
    e->size = zs.size;
    e->comp_size = zs.comp_size;
    e->deflated = zs.comp_method == ZIP_CM_DEFLATE;
    e->crc = (zs.valid & ZIP_STAT_CRC) ? zs.crc : 0;
    e->is_dir = e->name[strlen(e->name) - 1] == '/';
  }
  struct stat sb; /* the descriptor stored entries are read through; none: libzip reads them */
  if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0 && fstat(r->fd, &sb) == 0)
    r->fsize = (uint64_t)sb.st_size;
  *out = r;
  return SG_OK;
fail:
  sg_zip_reader_close(r);
  return st;
}

void sg_zip_reader_close(sg_zip_reader *r) {
  if (!r)
    return;
  if (r->za)
    zip_discard(r->za);
  if (r->fd >= 0)
    close(r->fd);
  free(r->lho);
  free(r->e);
  free(r);
}

size_t sg_zip_reader_count(const sg_zip_reader *r) { return r ? r->n : 0; }

const sg_zip_entry *sg_zip_reader_entry(const sg_zip_reader *r, size_t i) {
  return r && i < r->n ? &r->e[i] : NULL;
}

const sg_zip_entry *sg_zip_reader_find(const sg_zip_reader *r, const char *name) {
  if (!r || !name)
    return NULL;
  for (size_t i = 0; i < r->n; ++i)
    if (strcmp(r->e[i].name, name) == 0)
      return &r->e[i];
  return NULL;
}

/* ---- streaming ------------------------------------------------------------------------------ */

typedef sg_status (*chunk_fn)(void *user, const void *data, size_t n);

/* Reads an entry sequentially, handing chunks to fn; enforces the declared size exactly. */
static sg_status stream_entry(sg_zip_reader *r, const sg_zip_entry *e, chunk_fn fn, void *user,
                              uint64_t *bytes, sg_diag *d) {
  if (!r || !e)
    return sg_diag_fail(d, SG_E_INVAL, "zip reader: NULL argument");
  zip_file_t *zf = zip_fopen_index(r->za, e->index, 0);
  if (!zf)
    return sg_diag_fail(d, SG_E_FORMAT, "archive '%s': cannot open entry '%s': %s", r->path,
                        e->name, zip_strerror(r->za));
  /* Up to 1 MiB at a time, no more than the entry (and the one byte past it) needs: a manifest
   * or a short file is read with a small buffer, not a fresh mapping of a megabyte. */
  size_t cap = (size_t)1 << 20;
  if (e->size < cap)
    cap = (size_t)e->size + 1;
  unsigned char *buf = malloc(cap);
  if (!buf) {
    zip_fclose(zf);
    return sg_diag_fail(d, SG_E_NOMEM, "zip reader: out of memory");
  }
  sg_status st = SG_OK;
  uint64_t total = 0;
  for (;;) {
    /* Ask for one byte more than declared so an entry longer than its header is caught. */
    uint64_t left = e->size - total + 1;
    zip_int64_t n = zip_fread(zf, buf, left < cap ? left : cap);
    if (n < 0) {
      st = sg_diag_fail(d, SG_E_FORMAT, "archive '%s': entry '%s' is damaged: %s", r->path, e->name,
                        zip_file_strerror(zf));
      break;
    }
    if (n == 0)
      break;
    total += (uint64_t)n;
    if (total > e->size) {
      st = sg_diag_fail(d, SG_E_FORMAT,
                        "archive '%s': entry '%s' holds more than its "
                        "declared %llu bytes",
                        r->path, e->name, (unsigned long long)e->size);
      break;
    }
    if (fn && (st = fn(user, buf, (size_t)n)) != SG_OK)
      break;
  }
  if (st == SG_OK && total != e->size)
    st = sg_diag_fail(d, SG_E_FORMAT, "archive '%s': entry '%s' ends after %llu of %llu bytes",
                      r->path, e->name, (unsigned long long)total, (unsigned long long)e->size);
  free(buf);
  zip_fclose(zf);
  if (bytes)
    *bytes = total;
  return st;
}

static sg_status sha_chunk(void *user, const void *data, size_t n) {
  return sg_sha256_update(user, data, n);
}

sg_status sg_zip_reader_sha256(sg_zip_reader *r, const sg_zip_entry *e, char hex[65],
                               uint64_t *bytes, sg_diag *d) {
  if (!hex)
    return sg_diag_fail(d, SG_E_INVAL, "zip reader: NULL argument");
  sg_sha256 h;
  sg_status st = sg_sha256_init(&h);
  if (st != SG_OK)
    return sg_diag_fail(d, st, "SHA-256 unavailable");
  st = stream_entry(r, e, sha_chunk, &h, bytes, d);
  if (st != SG_OK) {
    sg_sha256_free(&h);
    return st;
  }
  return sg_sha256_final(&h, hex);
}

typedef struct mem_sink {
  char *p;
  size_t n, cap;
} mem_sink;

static sg_status mem_chunk(void *user, const void *data, size_t n) {
  mem_sink *m = user;
  if (m->n + n > m->cap)
    return SG_E_FORMAT; /* cannot happen: size enforced by stream_entry */
  memcpy(m->p + m->n, data, n);
  m->n += n;
  return SG_OK;
}

sg_status sg_zip_reader_read_all(sg_zip_reader *r, const sg_zip_entry *e, size_t max_bytes,
                                 char **data, size_t *n, sg_diag *d) {
  if (!r || !e || !data)
    return sg_diag_fail(d, SG_E_INVAL, "zip reader: NULL argument");
  *data = NULL;
  if (e->size > max_bytes)
    return sg_diag_fail(d, SG_E_LIMIT,
                        "archive '%s': entry '%s' is %llu bytes; at most %zu "
                        "are read into memory",
                        r->path, e->name, (unsigned long long)e->size, max_bytes);
  mem_sink m = {malloc((size_t)e->size + 1), 0, (size_t)e->size};
  if (!m.p)
    return sg_diag_fail(d, SG_E_NOMEM, "zip reader: out of memory");
  sg_status st = stream_entry(r, e, mem_chunk, &m, NULL, d);
  if (st != SG_OK) {
    free(m.p);
    return st;
  }
  m.p[m.n] = '\0';
  *data = m.p;
  if (n)
    *n = m.n;
  return SG_OK;
}

/* ---- audio entries through io's virtual I/O -------------------------------------------------- */

struct sg_zip_audio {
  int fd; /* stored, read directly: the archive, the entry's data at doff */
  uint64_t doff;
  zip_file_t *zf; /* stored, through libzip: seekable stream */
  char *mem;      /* deflated: inflated copy */
  int64_t size, pos;
  sg_audio_reader *ar;
  /* Hash along (sg_zip_audio_open_sha256): the entry's bytes [0, hashed) went through sha, in
   * order, each once, whatever the decoder's seeks. A forward seek past `hashed` hashes
   * nothing: libsndfile's open seeks past the data chunk to look for chunks after it, then
   * comes back and reads the data in order, which moves the watermark along; whatever the
   * decoder never read is read and hashed at the end (sg_zip_audio_sha256), so each byte is
   * read about once (filling at the seek read the whole entry twice). */
  int hashing, hash_err;
  sg_sha256 sha;
  int64_t hashed;
  /* A directly read entry's CRC-32 taken on the same bytes as the hash, checked against the
   * central directory's at the end: libzip's own check is bypassed there, and an unzip tool
   * refuses an entry whose CRC is wrong even when its SHA-256 matches the manifest. */
  int crc_on;
  uint32_t crc, want_crc;
};

/* Hashes the part of [at, at + n) (bytes in p) beyond the watermark. */
static void hash_along(sg_zip_audio *a, const void *p, int64_t at, int64_t n) {
  if (!a->hashing || a->hash_err || at > a->hashed || at + n <= a->hashed)
    return;
  int64_t skip = a->hashed - at;
  if (sg_sha256_update(&a->sha, (const char *)p + skip, (size_t)(n - skip)) != SG_OK)
    a->hash_err = 1;
  if (a->crc_on)
    a->crc = sg__crc32(a->crc, (const unsigned char *)p + skip, (size_t)(n - skip));
  a->hashed = at + n;
}

/* Up to n bytes of a directly read stored entry from its byte at: how many, -1 on error. */
static int64_t direct_read(sg_zip_audio *a, void *p, int64_t at, int64_t n) {
  for (;;) {
    ssize_t k = pread(a->fd, p, (size_t)n, (off_t)(a->doff + (uint64_t)at));
    if (k < 0 && errno == EINTR)
      continue;
    return k < 0 ? -1 : (int64_t)k;
  }
}

/* Reads and hashes a stored entry's bytes from the watermark up to `to` (leaves the stream
 * there). 0 on success. */
static int hash_fill(sg_zip_audio *a, int64_t to) {
  if (!a->hashing || a->hash_err || to <= a->hashed)
    return 0;
  if (a->fd < 0 && (!a->zf || zip_fseek(a->zf, a->hashed, SEEK_SET) != 0)) {
    a->hash_err = 1;
    return -1;
  }
  unsigned char buf[65536];
  while (a->hashed < to) {
    int64_t want = to - a->hashed < (int64_t)sizeof buf ? to - a->hashed : (int64_t)sizeof buf;
    int64_t n = a->fd >= 0 ? direct_read(a, buf, a->hashed, want)
                           : zip_fread(a->zf, buf, (zip_uint64_t)want);
    if (n <= 0) {
      a->hash_err = 1;
      return -1;
    }
    hash_along(a, buf, a->hashed, n);
  }
  return 0;
}

static int64_t va_len(void *u) { return ((sg_zip_audio *)u)->size; }

static int64_t va_seek(int64_t off, int whence, void *u) {
  sg_zip_audio *a = u;
  int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? a->pos : a->size;
  int64_t np = base + off;
  if (np < 0 || np > a->size)
    return -1;
  if (a->zf) {
    if (zip_fseek(a->zf, np, SEEK_SET) != 0)
      return -1;
  }
  a->pos = np;
  return np;
}

static int64_t va_read(void *ptr, int64_t count, void *u) {
  sg_zip_audio *a = u;
  if (count <= 0)
    return 0;
  if (count > a->size - a->pos)
    count = a->size - a->pos;
  if (count <= 0)
    return 0;
  if (a->mem) {
    memcpy(ptr, a->mem + a->pos, (size_t)count);
    a->pos += count;
    return count;
  }
  int64_t n =
      a->fd >= 0 ? direct_read(a, ptr, a->pos, count) : zip_fread(a->zf, ptr, (zip_uint64_t)count);
  if (n < 0)
    return 0;
  hash_along(a, ptr, a->pos, n);
  a->pos += n;
  return n;
}

static int64_t va_tell(void *u) { return ((sg_zip_audio *)u)->pos; }

/* Where a stored entry's bytes start in the archive (*doff), read in place: 1, or 0 when the
 * entry is left to libzip (not stored, encrypted, its local header not where expected). */
static int stored_at(const sg_zip_reader *r, const sg_zip_entry *e, uint64_t *doff) {
  unsigned char h[30];
  if (e->deflated || r->fd < 0 || !r->lho || e->index >= r->n_lho || r->lho[e->index] == UINT64_MAX)
    return 0;
  uint64_t at = r->lho[e->index];
  if (at > r->fsize || r->fsize - at < 30 || pread_all(r->fd, h, 30, at) != 0 ||
      rd32(h) != 0x04034b50u || rd16(h + 8) != 0 || (rd16(h + 6) & 1))
    return 0; /* not a local header, not stored, or encrypted */
  *doff = at + 30 + rd16(h + 26) + rd16(h + 28);
  return *doff <= r->fsize && r->fsize - *doff >= e->size;
}

/* A stored entry's bytes are the file's bytes at the end of its local header: read them with
 * pread, not through libzip's stream, whose CRC layer computed a CRC-32 of every byte that it
 * never checked (the decoder seeks; 4 % of a verify) and whose buffered layers copied them once
 * more. The offset comes from the central directory (libzip's ZIP_CHECKCONS has matched every
 * local header to it), the local header gives the data's start. Anything unexpected leaves the
 * entry to libzip (a->fd stays -1). Integrity stays the SHA-256 hashed along this read. */
static void direct_open(sg_zip_audio *a, const sg_zip_reader *r, const sg_zip_entry *e) {
  uint64_t doff = 0;
  if (!stored_at(r, e, &doff))
    return;
  a->fd = r->fd;
  a->doff = doff;
  a->crc_on = a->hashing;
  a->want_crc = e->crc;
}

sg_status sg_zip_reader_crc32(sg_zip_reader *r, const sg_zip_entry *e, uint32_t *crc, sg_diag *d) {
  if (!r || !e || !crc)
    return sg_diag_fail(d, SG_E_INVAL, "zip reader: NULL argument");
  uint64_t doff = 0;
  if (!stored_at(r, e, &doff))
    return sg_diag_fail(d, SG_E_UNSUPPORTED, "archive '%s': entry '%s' is not read in place",
                        r->path, e->name);
  enum { CHUNK = 1 << 18 }; /* 256 KiB: few calls, still in the cache the CRC reads it from */
  unsigned char *buf = malloc(CHUNK);
  if (!buf)
    return sg_diag_fail(d, SG_E_NOMEM, "zip reader: out of memory");
  uint32_t c = 0;
  uint64_t done = 0;
  while (done < e->size) {
    const size_t n = e->size - done < CHUNK ? (size_t)(e->size - done) : CHUNK;
    if (pread_all(r->fd, buf, n, doff + done) != 0)
      break;
    c = sg__crc32(c, buf, n);
    done += n;
  }
  free(buf);
  if (done != e->size)
    return sg_diag_fail(d, SG_E_FORMAT,
                        "archive '%s': entry '%s' is damaged: %llu of its %llu bytes could be read",
                        r->path, e->name, (unsigned long long)done, (unsigned long long)e->size);
  if (c != e->crc)
    return sg_diag_fail(d, SG_E_FORMAT,
                        "archive '%s': entry '%s' is damaged: its bytes' CRC-32 is %08x, the "
                        "archive's directory says %08x",
                        r->path, e->name, (unsigned)c, (unsigned)e->crc);
  *crc = c;
  return SG_OK;
}

static sg_status audio_open(sg_zip_audio **out, sg_zip_reader *r, const sg_zip_entry *e,
                            sg_audio_info *info, int hash, sg_diag *d) {
  if (!out || !r || !e)
    return sg_diag_fail(d, SG_E_INVAL, "zip reader: NULL argument");
  *out = NULL;
  sg_zip_audio *a = calloc(1, sizeof *a);
  if (!a)
    return sg_diag_fail(d, SG_E_NOMEM, "zip reader: out of memory");
  a->size = (int64_t)e->size;
  sg_status st = SG_OK;
  if (hash && sg_sha256_init(&a->sha) != SG_OK) {
    free(a);
    return sg_diag_fail(d, SG_E_INTERNAL, "SHA-256 unavailable");
  }
  a->hashing = hash;
  a->fd = -1;
  if (!e->deflated)
    direct_open(a, r, e);
  if (!e->deflated && a->fd < 0) {
    a->zf = zip_fopen_index(r->za, e->index, 0);
    /* A stored stream must seek (libsndfile seeks to parse chunks): probe it once. */
    if (a->zf && zip_fseek(a->zf, 0, SEEK_SET) != 0) {
      zip_fclose(a->zf);
      a->zf = NULL;
    }
  }
  if (!a->zf && a->fd < 0) {
    size_t n = 0;
    st = sg_zip_reader_read_all(r, e, r->lim.max_memory_entry, &a->mem, &n, d);
    if (st != SG_OK) {
      if (hash)
        sg_sha256_free(&a->sha);
      free(a);
      return st;
    }
    hash_along(a, a->mem, 0, (int64_t)n); /* the inflated copy, whole */
  }
  sg_vio vio = {va_len, va_seek, va_read, va_tell, a};
  char label[SG__PATH_MAX + SG_PKG_NAME + 4];
  snprintf(label, sizeof label, "%s:%s", r->path, e->name);
  st = sg_audio_reader_open_vio(&a->ar, &vio, label, info, d);
  if (st != SG_OK) {
    sg_zip_audio_close(a);
    return st;
  }
  *out = a;
  return SG_OK;
}

sg_status sg_zip_audio_open(sg_zip_audio **out, sg_zip_reader *r, const sg_zip_entry *e,
                            sg_audio_info *info, sg_diag *d) {
  return audio_open(out, r, e, info, 0, d);
}

sg_status sg_zip_audio_open_sha256(sg_zip_audio **out, sg_zip_reader *r, const sg_zip_entry *e,
                                   sg_audio_info *info, sg_diag *d) {
  return audio_open(out, r, e, info, 1, d);
}

sg_status sg_zip_audio_sha256(sg_zip_audio *a, char hex[65], sg_diag *d) {
  if (!a || !a->hashing || !hex)
    return sg_diag_fail(d, SG_E_INVAL, "zip reader: entry not opened with its hash");
  if (a->mem == NULL && a->hashed < a->size)
    hash_fill(a, a->size); /* what the decoder never read (chunks after the audio) */
  a->pos = a->size;        /* the stream is at the end: the decoder reads nothing more */
  if (a->hash_err || a->hashed != a->size)
    return sg_diag_fail(d, SG_E_FORMAT, "entry is damaged: %lld of its %lld bytes could be read",
                        (long long)a->hashed, (long long)a->size);
  a->hashing = 0;
  if (a->crc_on && a->crc != a->want_crc) {
    sg_sha256_free(&a->sha);
    return sg_diag_fail(d, SG_E_FORMAT,
                        "entry is damaged: its bytes' CRC-32 is %08x, the archive's directory says "
                        "%08x (an unzip tool refuses it)",
                        (unsigned)a->crc, (unsigned)a->want_crc);
  }
  return sg_sha256_final(&a->sha, hex);
}

sg_audio_reader *sg_zip_audio_reader(sg_zip_audio *a) { return a ? a->ar : NULL; }

void sg_zip_audio_close(sg_zip_audio *a) {
  if (!a)
    return;
  if (a->ar)
    sg_audio_reader_close(a->ar);
  if (a->zf)
    zip_fclose(a->zf);
  if (a->hashing)
    sg_sha256_free(&a->sha);
  free(a->mem);
  free(a);
}

/* ---- extraction ----------------------------------------------------------------------------- */

/* Creates dir/rel's parent directories one component at a time, refusing symbolic links (an
 * attacker who planted "dir/a -> /etc" must not get "a/passwd" written through it). */
static sg_status make_parents(const char *root, const char *rel, int last_is_dir, sg_diag *d) {
  char path[SG__PATH_MAX];
  size_t rl = strlen(root);
  if (rl + 1 + strlen(rel) + 32 >= sizeof path)
    return sg_diag_fail(d, SG_E_RANGE, "extract: path too long for '%s'", rel);
  memcpy(path, root, rl);
  const char *p = rel;
  size_t o = rl;
  for (;;) {
    const char *q = strchr(p, '/');
    if (!q && !last_is_dir)
      break;
    size_t len = q ? (size_t)(q - p) : strlen(p);
    if (len == 0)
      break;
    path[o++] = '/';
    memcpy(path + o, p, len);
    o += len;
    path[o] = '\0';
    struct stat sb;
    if (lstat(path, &sb) == 0) {
      if (S_ISLNK(sb.st_mode) || !S_ISDIR(sb.st_mode))
        return sg_diag_fail(d, SG_E_IO, "extract: '%s' exists and is not a plain directory", path);
    } else if (mkdir(path, 0755) != 0 && errno != EEXIST)
      return sg_diag_fail(d, SG_E_IO, "extract: cannot create '%s': %s", path, strerror(errno));
    if (!q)
      break;
    p = q + 1;
  }
  return SG_OK;
}

typedef struct fd_sink {
  int fd;
} fd_sink;

static sg_status fd_chunk(void *user, const void *data, size_t n) {
  fd_sink *s = user;
  const char *p = data;
  while (n) {
    ssize_t k = write(s->fd, p, n);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      return SG_E_IO;
    }
    p += k;
    n -= (size_t)k;
  }
  return SG_OK;
}

sg_status sg_zip_reader_extract(sg_zip_reader *r, const char *dir, sg_diag *d) {
  if (!r || !dir || !dir[0])
    return sg_diag_fail(d, SG_E_INVAL, "extract: NULL argument");
  sg_status st = sg_mkdirs(dir, d);
  if (st != SG_OK)
    return st;
  for (size_t i = 0; i < r->n; ++i) {
    const sg_zip_entry *e = &r->e[i];
    /* Re-check: the reader validated at open, but extraction is where a bad name does harm. */
    if ((st = sg_zip_name_check(e->name, d)) != SG_OK)
      return st;
    if ((st = make_parents(dir, e->name, e->is_dir, d)) != SG_OK)
      return st;
    if (e->is_dir)
      continue;
    char dest[SG__PATH_MAX], tmp[SG__PATH_MAX + 32];
    snprintf(dest, sizeof dest, "%s/%s", dir, e->name);
    snprintf(tmp, sizeof tmp, "%s.partial-XXXXXX", dest);
    int fd = mkstemp(tmp);
    if (fd < 0)
      return sg_diag_fail(d, SG_E_IO, "extract: cannot create a file next to '%s': %s", dest,
                          strerror(errno));
    fd_sink s = {fd};
    st = stream_entry(r, e, fd_chunk, &s, NULL, d);
    if (st == SG_E_IO)
      sg_diag_fail(d, SG_E_IO, "extract: cannot write '%s': %s", tmp, strerror(errno));
    if (st == SG_OK && (fchmod(fd, 0644) != 0 || fsync(fd) != 0))
      st = sg_diag_fail(d, SG_E_IO, "extract: cannot write '%s': %s", tmp, strerror(errno));
    if (close(fd) != 0 && st == SG_OK)
      st = sg_diag_fail(d, SG_E_IO, "extract: cannot write '%s': %s", tmp, strerror(errno));
    if (st == SG_OK) {
      /* rename() replaces a symbolic link at dest instead of following it. */
      struct stat sb;
      if (lstat(dest, &sb) == 0 && S_ISDIR(sb.st_mode))
        st = sg_diag_fail(d, SG_E_IO, "extract: '%s' is a directory", dest);
      else if (rename(tmp, dest) != 0)
        st =
            sg_diag_fail(d, SG_E_IO, "extract: cannot rename into '%s': %s", dest, strerror(errno));
    }
    if (st != SG_OK) {
      unlink(tmp);
      return st;
    }
  }
  return SG_OK;
}
