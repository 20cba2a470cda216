/* Package builder: the zip writer and the manifest filled together, so every entry the client
 * receives has a manifest row whose hash and header were taken from the very bytes zipped. */
#include "package_internal.h"

#include "core/filehash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sg_package {
  sg_zip_writer *zw;
  sg_manifest m;
  int deflate_audio;
};

sg_status sg_package_begin(sg_package **out, const char *zip_path, const sg_zip_writer_config *cfg,
                           sg_diag *d) {
  if (!out)
    return sg_diag_fail(d, SG_E_INVAL, "package: NULL argument");
  *out = NULL;
  sg_package *p = calloc(1, sizeof *p);
  if (!p)
    return sg_diag_fail(d, SG_E_NOMEM, "package: out of memory");
  sg_status st = sg_zip_writer_open(&p->zw, zip_path, cfg, d);
  if (st != SG_OK) {
    free(p);
    return st;
  }
  sg_manifest_init(&p->m);
  p->deflate_audio = cfg ? cfg->deflate_audio : 0;
  if (cfg) /* one time for the zip entries and the manifest unless the caller sets another */
    snprintf(p->m.timestamp, sizeof p->m.timestamp, "%04d-%02d-%02dT%02d:%02d:%02dZ", cfg->year,
             cfg->month, cfg->day, cfg->hour, cfg->minute, cfg->second);
  *out = p;
  return SG_OK;
}

sg_manifest *sg_package_manifest(sg_package *p) { return p ? &p->m : NULL; }

static sg_status add_row(sg_package *p, const sg_manifest_file *f, sg_diag *d) {
  sg_status st = sg_manifest_add_file(&p->m, f);
  if (st == SG_E_INVAL)
    return sg_diag_fail(d, st, "package: '%s' is already in the manifest", f->archive_name);
  if (st != SG_OK)
    return sg_diag_fail(d, st, "package: out of memory");
  return SG_OK;
}

static sg_status add_disk_file(sg_package *p, const char *src_path, const char *archive_name,
                               sg_pkg_role role, const char *stem, int compress,
                               const sg_pkg_loudness *ld, int need_audio, const char *sha256,
                               const uint32_t *crc32, sg_diag *d) {
  if (!p || !src_path || !archive_name)
    return sg_diag_fail(d, SG_E_INVAL, "package: NULL argument");
  if (sg_manifest_find_file(&p->m, archive_name))
    return sg_diag_fail(d, SG_E_INVAL, "package: '%s' is already in the package", archive_name);
  sg_manifest_file f;
  sg_status st = sg__manifest_file_describe(&f, src_path, archive_name, role, stem, sha256, d);
  if (st != SG_OK)
    return st;
  if (need_audio && !f.is_audio)
    return sg_diag_fail(d, SG_E_INVAL, "package: '%s' must be added with role master or stem",
                        archive_name);
  f.compressed = compress;
  if (ld)
    f.loudness = *ld;
  if ((st = sg__zip_writer_add_file_crc(p->zw, archive_name, src_path, compress, crc32, sha256,
                                        d)) != SG_OK)
    return st;
  return add_row(p, &f, d);
}

sg_status sg_package_add_audio(sg_package *p, const char *src_path, const char *archive_name,
                               sg_pkg_role role, const char *stem, const sg_pkg_loudness *ld,
                               sg_diag *d) {
  return add_disk_file(p, src_path, archive_name, role, stem, p ? p->deflate_audio : 0, ld, 1, NULL,
                       NULL, d);
}

sg_status sg_package_add_audio_digest(sg_package *p, const char *src_path, const char *archive_name,
                                      sg_pkg_role role, const char *stem, const sg_pkg_loudness *ld,
                                      const char *sha256, const uint32_t *crc32, sg_diag *d) {
  return add_disk_file(p, src_path, archive_name, role, stem, p ? p->deflate_audio : 0, ld, 1,
                       sha256, crc32, d);
}

static void crc_block(void *user, const unsigned char *p, size_t n) {
  uint32_t *c = user;
  *c = sg__crc32(*c, p, n);
}

sg_status sg_package_file_digest(const char *path, char sha256[65], uint32_t *crc32, sg_diag *d) {
  if (!path || !sha256 || !crc32)
    return sg_diag_fail(d, SG_E_INVAL, "package: NULL argument");
  sha256[0] = 0;
  uint32_t c = 0;
  sg_status st = sg__sha256_file_also(path, sha256, crc_block, &c, d);
  if (st == SG_OK)
    *crc32 = (uint32_t)c;
  return st;
}

sg_status sg_package_write_ahead(sg_package *p, sg_diag *d) {
  if (!p)
    return sg_diag_fail(d, SG_E_INVAL, "package: NULL argument");
  return sg__zip_writer_write_ahead(p->zw, d);
}

sg_status sg_package_add_file(sg_package *p, const char *src_path, const char *archive_name,
                              sg_pkg_role role, const char *stem, int compress, sg_diag *d) {
  if (role == SG_ROLE_MASTER || role == SG_ROLE_STEM)
    return sg_package_add_audio(p, src_path, archive_name, role, stem, NULL, d);
  return add_disk_file(p, src_path, archive_name, role, stem, compress, NULL, 0, NULL, NULL, d);
}

sg_status sg_package_add_text(sg_package *p, const char *archive_name, const char *text,
                              sg_pkg_role role, sg_diag *d) {
  if (!p || !archive_name || !text)
    return sg_diag_fail(d, SG_E_INVAL, "package: NULL argument");
  if (strcmp(archive_name, SG_MANIFEST_NAME) == 0)
    return sg_diag_fail(d, SG_E_INVAL, "package: '%s' is written by sg_package_finish",
                        SG_MANIFEST_NAME);
  if (sg_manifest_find_file(&p->m, archive_name))
    return sg_diag_fail(d, SG_E_INVAL, "package: '%s' is already in the package", archive_name);
  if (strlen(archive_name) >= SG_PKG_NAME)
    return sg_diag_fail(d, SG_E_RANGE, "package: archive name too long");
  sg_manifest_file f;
  memset(&f, 0, sizeof f);
  snprintf(f.archive_name, sizeof f.archive_name, "%s", archive_name);
  f.role = role;
  f.compressed = 1;
  f.bytes = strlen(text);
  sg_sha256 h;
  sg_status st = sg_sha256_init(&h);
  if (st == SG_OK && (st = sg_sha256_update(&h, text, (size_t)f.bytes)) == SG_OK)
    st = sg_sha256_final(&h, f.sha256);
  if (st != SG_OK) {
    sg_sha256_free(&h);
    return sg_diag_fail(d, st, "package: SHA-256 failed");
  }
  if ((st = sg_zip_writer_add_text(p->zw, archive_name, text, d)) != SG_OK)
    return st;
  return add_row(p, &f, d);
}

/* hex: the zip's SHA-256 (digest 0) or entry digest (1) into it; NULL for neither. */
static sg_status finish(sg_package *p, char *hex, int digest, sg_diag *d) {
  if (!p)
    return sg_diag_fail(d, SG_E_INVAL, "package: NULL");
  char *json = NULL;
  sg_status st = sg_manifest_to_json(&p->m, &json, NULL, d);
  if (st == SG_OK)
    st = sg_zip_writer_add_text(p->zw, SG_MANIFEST_NAME, json, d);
  free(json);
  if (st == SG_OK)
    st = !hex     ? sg_zip_writer_close(p->zw, d)
         : digest ? sg_zip_writer_close_digest(p->zw, hex, d)
                  : sg_zip_writer_close_sha256(p->zw, hex, d);
  else
    sg_zip_writer_abort(p->zw);
  sg_manifest_free(&p->m);
  free(p);
  return st;
}

sg_status sg_package_finish(sg_package *p, sg_diag *d) { return finish(p, NULL, 0, d); }

sg_status sg_package_finish_sha256(sg_package *p, char hex[65], sg_diag *d) {
  if (hex)
    hex[0] = 0;
  return finish(p, hex, 0, d);
}

sg_status sg_package_finish_digest(sg_package *p, char hex[65], sg_diag *d) {
  if (hex)
    hex[0] = 0;
  return finish(p, hex, 1, d);
}

void sg_package_abort(sg_package *p) {
  if (!p)
    return;
  sg_zip_writer_abort(p->zw);
  sg_manifest_free(&p->m);
  free(p);
}
