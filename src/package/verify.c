/* Final verification of a package against its own manifest: every listed entry present, every
 * entry's SHA-256 recomputed from the archive, every WAV header re-read from inside the archive
 * (no extraction), nothing unlisted. One gate result per check, step "package". */
#include "package_internal.h"

#include "stemgate/analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vstate {
  sg_gate_report *rep;
  sg_diag *d;
  int failed;
} vstate;

/* Records a text check; keeps the first failure in v->d. */
static void check(vstate *v, const char *stem, sg_check_id id, const char *measured,
                  const char *expected, int pass) {
  sg_diag tmp;
  sg_diag_clear(&tmp);
  sg_status st =
      sg_gate_row_text(v->rep, id, "package", stem, measured, expected, pass, SG_SEV_FAIL, &tmp);
  if (st != SG_OK && !v->failed) {
    v->failed = 1;
    if (v->d)
      *v->d = tmp;
  }
}

static void describe_audio(char *out, size_t cap, unsigned rate, unsigned ch, sg_sample_format fmt,
                           int64_t frames) {
  snprintf(out, cap, "%u Hz, %u ch, %s, %lld frames", rate, ch, sg_sample_format_name(fmt),
           (long long)frames);
}

static const sg_package_entry_pass *known_entry(const sg_package_entry_pass *k, size_t n,
                                                const char *name) {
  for (size_t i = 0; k && i < n; ++i)
    if (!strcmp(k[i].name, name))
      return &k[i];
  return NULL;
}

sg_status sg_package_verify(const char *zip_path, const sg_zip_limits *lim, sg_gate_report *report,
                            sg_diag *d) {
  return sg_package_verify_passed(zip_path, lim, NULL, 0, report, d);
}

sg_status sg_package_verify_passed(const char *zip_path, const sg_zip_limits *lim,
                                   const sg_package_entry_pass *known, size_t n_known,
                                   sg_gate_report *report, sg_diag *d) {
  if (!zip_path || !report)
    return sg_diag_fail(d, SG_E_INVAL, "verify: NULL argument");
  vstate v = {report, d, 0};
  sg_diag ld;
  sg_diag_clear(&ld);
  sg_zip_reader *r = NULL;
  sg_status st = sg_zip_reader_open(&r, zip_path, lim, &ld);
  if (st != SG_OK) {
    check(&v, "", SG_CHECK_ARCHIVE, ld.message, "a readable zip within the safety limits", 0);
    if (d)
      *d = ld;
    return st;
  }
  check(&v, "", SG_CHECK_ARCHIVE, "readable", "a readable zip within the safety limits", 1);

  const sg_zip_entry *me = sg_zip_reader_find(r, SG_MANIFEST_NAME);
  char *text = NULL;
  size_t len = 0;
  sg_manifest m;
  if (!me) {
    st = sg_diag_fail(&ld, SG_E_NOTFOUND, "'%s' has no %s", zip_path, SG_MANIFEST_NAME);
  } else if ((st = sg_zip_reader_read_all(r, me, SG_MANIFEST_MAX_BYTES, &text, &len, &ld)) ==
             SG_OK) {
    st = sg_manifest_parse(text, len, &m, &ld);
    free(text);
    if (st != SG_OK) { /* name the file the parser's line:col is in */
      char msg[SG_DIAG_TEXT];
      snprintf(msg, sizeof msg, "%s", ld.message);
      sg_diag_fail(&ld, st, "%s in '%s': %s", SG_MANIFEST_NAME, zip_path, msg);
    }
  }
  if (st != SG_OK) {
    check(&v, "", SG_CHECK_MANIFEST, ld.message, "a valid " SG_MANIFEST_SCHEMA, 0);
    if (d)
      *d = ld;
    sg_zip_reader_close(r);
    return st;
  }
  char buf[160], exp[160];
  snprintf(buf, sizeof buf, "%zu files listed", m.n_files);
  check(&v, "", SG_CHECK_MANIFEST, buf, "a valid " SG_MANIFEST_SCHEMA, 1);

  for (size_t i = 0; i < m.n_files; ++i) {
    const sg_manifest_file *f = &m.files[i];
    const sg_zip_entry *e = sg_zip_reader_find(r, f->archive_name);
    check(&v, f->archive_name, SG_CHECK_ENTRY_PRESENT, e ? "present" : "missing", "present",
          e != NULL);
    if (!e)
      continue;
    char hex[65];
    sg_diag_clear(&ld);
    const sg_package_entry_pass *k = known_entry(known, n_known, f->archive_name);
    if (k && !k->hashed)
      k = NULL;
    if (k && k->sha_status != SG_OK) {
      st = k->sha_status;
      snprintf(ld.message, sizeof ld.message, "%s", k->error);
    } else if (k) {
      st = SG_OK;
      memcpy(hex, k->sha256, sizeof hex);
    } else {
      st = sg_zip_reader_sha256(r, e, hex, NULL, &ld);
    }
    if (st != SG_OK)
      check(&v, f->archive_name, SG_CHECK_SHA256, ld.message, f->sha256, 0);
    else
      check(&v, f->archive_name, SG_CHECK_SHA256, hex, f->sha256, strcmp(hex, f->sha256) == 0);
    if (!f->is_audio)
      continue;
    describe_audio(exp, sizeof exp, f->rate, f->channels, f->format, f->frames);
    sg_zip_audio *za = NULL;
    sg_audio_info info;
    sg_diag_clear(&ld);
    st = sg_zip_audio_open(&za, r, e, &info, &ld);
    if (st != SG_OK) {
      check(&v, f->archive_name, SG_CHECK_WAV_HEADER, ld.message, exp, 0);
      continue;
    }
    sg_zip_audio_close(za);
    describe_audio(buf, sizeof buf, info.rate, info.channels, info.format, info.frames);
    check(&v, f->archive_name, SG_CHECK_WAV_HEADER, buf, exp, strcmp(buf, exp) == 0);
  }

  for (size_t i = 0; i < sg_zip_reader_count(r); ++i) {
    const sg_zip_entry *e = sg_zip_reader_entry(r, i);
    if (e->is_dir || strcmp(e->name, SG_MANIFEST_NAME) == 0)
      continue;
    int listed = sg_manifest_find_file(&m, e->name) != NULL;
    check(&v, e->name, SG_CHECK_ENTRY_LISTED, listed ? "listed" : "not in the manifest",
          "listed in the manifest", listed);
  }
  sg_manifest_free(&m);
  sg_zip_reader_close(r);
  return v.failed ? SG_E_GATE : SG_OK;
}

/* ---- loudness re-measurement ---------------------------------------------------------------- */

static sg_status meter_entry(sg_zip_reader *r, const sg_zip_entry *e, sg_meter_result *res,
                             sg_diag *d) {
  sg_zip_audio *za = NULL;
  sg_audio_info info;
  sg_status st = sg_zip_audio_open(&za, r, e, &info, d);
  if (st != SG_OK)
    return st;
  sg_meter *m = NULL;
  float *buf = NULL;
  const size_t block = 16384;
  if ((st = sg_meter_create(&m, info.channels, info.rate, SG_METER_ALL, d)) != SG_OK)
    goto out;
  buf = malloc(block * info.channels * sizeof *buf);
  if (!buf) {
    st = sg_diag_fail(d, SG_E_NOMEM, "verify: out of memory");
    goto out;
  }
  for (;;) {
    size_t got = 0;
    if ((st = sg_audio_reader_read(sg_zip_audio_reader(za), buf, block, &got, d)) != SG_OK)
      goto out;
    if (got == 0)
      break;
    if ((st = sg_meter_add(m, buf, got)) != SG_OK) {
      sg_diag_fail(d, st, "verify: metering '%s' failed", e->name);
      goto out;
    }
  }
  st = sg_meter_result_get(m, res);
out:
  free(buf);
  sg_meter_free(m);
  sg_zip_audio_close(za);
  return st;
}

static sg_status value_check(sg_gate_report *r, const char *step, const char *stem, sg_check_id id,
                             double measured, double expected, double tol, sg_status prev,
                             sg_diag *d) {
  if (isnan(expected))
    return prev; /* not recorded in the manifest */
  sg_diag tmp;
  sg_diag_clear(&tmp);
  sg_status st = sg_gate_row(r, id, step, stem, measured, tol, expected, NULL, SG_SEV_FAIL, &tmp);
  if (prev != SG_OK || st == SG_OK)
    return prev;
  if (d && st == SG_E_GATE)
    *d = tmp;
  return st;
}

sg_status sg_package_compare_loudness(sg_gate_report *report, const char *step, const char *stem,
                                      const sg_manifest_file *f, const sg_meter_result *mr,
                                      double tol_lu, double tol_db, sg_diag *d) {
  if (!report || !f || !mr)
    return sg_diag_fail(d, SG_E_INVAL, "verify: NULL argument");
  if (!f->loudness.valid)
    return SG_OK;
  sg_status st = SG_OK;
  st = value_check(report, step, stem, SG_CHECK_MANIFEST_LOUDNESS, mr->integrated_lufs,
                   f->loudness.integrated_lufs, tol_lu, st, d);
  st = value_check(report, step, stem, SG_CHECK_MANIFEST_TRUE_PEAK, mr->true_peak_dbtp,
                   f->loudness.true_peak_dbtp, tol_db, st, d);
  st = value_check(report, step, stem, SG_CHECK_MANIFEST_SAMPLE_PEAK, mr->sample_peak_dbfs,
                   f->loudness.sample_peak_dbfs, tol_db, st, d);
  return st;
}

sg_status sg_package_verify_loudness(const char *zip_path, const sg_zip_limits *lim, double tol_lu,
                                     double tol_db, sg_gate_report *report, sg_diag *d) {
  return sg_package_verify_loudness_passed(zip_path, lim, NULL, 0, tol_lu, tol_db, report, d);
}

sg_status sg_package_verify_loudness_passed(const char *zip_path, const sg_zip_limits *lim,
                                            const sg_package_entry_pass *known, size_t n_known,
                                            double tol_lu, double tol_db, sg_gate_report *report,
                                            sg_diag *d) {
  if (!zip_path || !report || !(tol_lu >= 0) || !(tol_db >= 0))
    return sg_diag_fail(d, SG_E_INVAL, "verify: NULL argument or negative tolerance");
  vstate v = {report, d, 0};
  sg_zip_reader *r = NULL;
  sg_status st = sg_zip_reader_open(&r, zip_path, lim, d);
  if (st != SG_OK)
    return st;
  const sg_zip_entry *me = sg_zip_reader_find(r, SG_MANIFEST_NAME);
  char *text = NULL;
  size_t len = 0;
  sg_manifest m;
  if (!me)
    st = sg_diag_fail(d, SG_E_NOTFOUND, "'%s' has no %s", zip_path, SG_MANIFEST_NAME);
  else if ((st = sg_zip_reader_read_all(r, me, SG_MANIFEST_MAX_BYTES, &text, &len, d)) == SG_OK) {
    st = sg_manifest_parse(text, len, &m, d);
    free(text);
  }
  if (st != SG_OK) {
    sg_zip_reader_close(r);
    return st;
  }
  for (size_t i = 0; i < m.n_files && st == SG_OK; ++i) {
    const sg_manifest_file *f = &m.files[i];
    if (!f->is_audio || !f->loudness.valid)
      continue;
    const sg_zip_entry *e = sg_zip_reader_find(r, f->archive_name);
    if (!e)
      continue; /* sg_package_verify reports missing entries */
    sg_meter_result res;
    sg_diag ld;
    sg_diag_clear(&ld);
    const sg_package_entry_pass *k = known_entry(known, n_known, f->archive_name);
    sg_status ms;
    if (k && k->metered) {
      ms = k->meter_status;
      if (ms == SG_OK)
        res = k->mr;
      else
        snprintf(ld.message, sizeof ld.message, "%s", k->meter_error);
    } else {
      ms = meter_entry(r, e, &res, &ld);
    }
    if (ms != SG_OK) {
      check(&v, f->archive_name, SG_CHECK_MANIFEST_LOUDNESS, ld.message, "a decodable WAV", 0);
      continue;
    }
    sg_diag cd;
    sg_diag_clear(&cd);
    sg_status cs = sg_package_compare_loudness(report, "package", f->archive_name, f, &res, tol_lu,
                                               tol_db, &cd);
    if (cs == SG_E_NOMEM) {
      st = cs;
    } else if (cs != SG_OK && !v.failed) {
      v.failed = 1;
      if (d)
        *d = cd;
    }
  }
  sg_manifest_free(&m);
  sg_zip_reader_close(r);
  if (st != SG_OK)
    return st;
  return v.failed ? SG_E_GATE : SG_OK;
}
