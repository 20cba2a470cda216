/* Verify reports: a table for the terminal, JSON (the package module's writer) and JUnit XML
 * for CI systems (the de-facto schema of Ant's JUnit report: testsuite/testcase/failure). */
#include "verify_internal.h"

#include "core/text.h"
#include "package/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Text is built in core's growable string; an allocation failure is checked once at the end. */
static void tb_putn(sg__text *b, const char *s, size_t n) { sg__text_printf(b, "%.*s", (int)n, s); }

static sg_status tb_take(sg__text *b, char **text) {
  if (b->oom || !b->s) {
    free(b->s);
    *text = NULL;
    return SG_E_NOMEM;
  }
  *text = b->s;
  return SG_OK;
}

static const char *verdict(const sg_gate_result *g) {
  return g->pass ? "PASS" : g->required ? "FAIL" : "WARN";
}

/* Whole numbers (rates, channels, counts) in full; others to 4 significant digits. */
static void num(double v, char *out, size_t cap) {
  if (v == floor(v) && fabs(v) < 1e12)
    snprintf(out, cap, "%.0f", v);
  else
    snprintf(out, cap, "%.4g", v);
}

/* Measured value as text: the number with its unit, or the detail for text checks. */
static void measured_text(const sg_gate_result *g, char *out, size_t cap) {
  if (isnan(g->measured)) {
    /* Text checks keep "value (expected X)"; show the value part. */
    const char *e = strstr(g->detail, " (expected ");
    if (g->cmp == SG_CMP_TEXT && e)
      snprintf(out, cap, "%.*s", (int)(e - g->detail), g->detail);
    else
      snprintf(out, cap, "n/a");
  } else {
    num(g->measured, out, cap);
    if (g->unit[0])
      snprintf(out + strlen(out), cap - strlen(out), " %s", g->unit);
  }
}

static void limit_text(const sg_gate_result *g, char *out, size_t cap) {
  if (g->cmp == SG_CMP_INFO) {
    snprintf(out, cap, "info");
  } else if (isnan(g->limit)) {
    const char *e = strstr(g->detail, " (expected ");
    if (e)
      snprintf(out, cap, "%.*s", (int)(strlen(e + 11) - 1), e + 11);
    else
      snprintf(out, cap, "-");
  } else if (g->cmp == SG_CMP_WITHIN) {
    char t[48], l[48];
    num(g->target, t, sizeof t);
    num(g->limit, l, sizeof l);
    snprintf(out, cap, "%s +- %s%s%s", t, l, g->unit[0] ? " " : "", g->unit);
  } else {
    char l[48];
    num(g->limit, l, sizeof l);
    snprintf(out, cap, "%s %s%s%s", sg_cmp_symbol(g->cmp), l, g->unit[0] ? " " : "", g->unit);
  }
}

/* The detail when it adds something beyond the measured value (text checks already show it). */
static const char *extra_detail(const sg_gate_result *g) {
  if (isnan(g->measured) && g->cmp == SG_CMP_TEXT && strstr(g->detail, " (expected "))
    return "";
  return g->detail;
}

/* Shortens text to width columns with a trailing ".." (table only; JSON and JUnit keep all). */
static void clip_text(char *s, size_t width) {
  if (strlen(s) > width && width > 2)
    memcpy(s + width - 2, "..", 3);
}

sg_status sg_verify_to_table(const sg_verify_result *r, char **text) {
  if (!r || !text)
    return SG_E_INVAL;
  sg__text b = {0};
  sg__text_printf(&b, "stemgate verify %s\n\n", r->package);
  sg__text_printf(&b, "%-4s  %-14s %-24s %-30s %-22s %s\n", "", "file/stem", "check", "measured",
                  "limit", "detail");
  for (size_t i = 0; i < r->report.n; ++i) {
    const sg_gate_result *g = &r->report.v[i];
    char m[128], l[128];
    measured_text(g, m, sizeof m);
    limit_text(g, l, sizeof l);
    clip_text(m, 30);
    clip_text(l, 22);
    sg__text_printf(&b, "%-4s  %-14s %-24s %-30s %-22s %s\n", verdict(g),
                    g->stem[0] ? g->stem : g->step, g->check, m, l, extra_detail(g));
  }
  if (r->n_files) {
    sg__text_printf(&b, "\nfiles:\n");
    for (int i = 0; i < r->n_files; ++i) {
      const sg_verify_file *f = &r->files[i];
      if (f->match == SG_MATCH_NONE)
        sg__text_printf(&b, "  %-14s missing\n", f->stem);
      else
        sg__text_printf(&b, "  %-14s %s (found by %s)\n", f->stem, f->entry,
                        sg_verify_match_name(f->match));
    }
  }
  size_t warned = 0;
  for (size_t i = 0; i < r->report.n; ++i)
    warned += !r->report.v[i].pass && !r->report.v[i].required;
  sg__text_printf(&b, "\n%zu checks, %zu failed, %zu warnings: %s\n", r->report.n, r->report.failed,
                  warned,
                  !r->package_readable ? "PACKAGE UNREADABLE"
                  : r->report.failed   ? "FAIL"
                                       : "PASS");
  return tb_take(&b, text);
}

sg_status sg_verify_to_json(const sg_verify_result *r, char **text) {
  if (!r || !text)
    return SG_E_INVAL;
  sg_json_writer w;
  sg_json_writer_init(&w, 1);
  sg_json_begin_object(&w);
  sg_json_kv_string(&w, "schema", "stemgate.verify/1");
  sg_json_kv_string(&w, "tool_version", sg_version());
  sg_json_kv_string(&w, "package", r->package);
  sg_json_kv_bool(&w, "package_readable", r->package_readable);
  sg_json_kv_bool(&w, "ok", r->package_readable && !r->file_unreadable && r->report.failed == 0);
  sg_json_kv_int(&w, "checks_total", (int64_t)r->report.n);
  sg_json_kv_int(&w, "checks_failed", (int64_t)r->report.failed);
  sg_json_kv_number(&w, "master_seconds", r->seconds);
  sg_json_key(&w, "files");
  sg_json_begin_array(&w);
  for (int i = 0; i < r->n_files; ++i) {
    const sg_verify_file *f = &r->files[i];
    sg_json_begin_object(&w);
    sg_json_kv_string(&w, "stem", f->stem);
    sg_json_kv_string(&w, "role", f->is_master ? "master" : "stem");
    sg_json_kv_string(&w, "entry", f->entry);
    sg_json_kv_string(&w, "found_by", sg_verify_match_name(f->match));
    sg_json_kv_bool(&w, "readable", f->readable);
    if (f->match != SG_MATCH_NONE) {
      sg_json_kv_int(&w, "rate", f->rate);
      sg_json_kv_int(&w, "channels", f->channels);
      sg_json_kv_int(&w, "bits", f->bits);
      sg_json_kv_bool(&w, "float", f->is_float);
      sg_json_kv_int(&w, "frames", f->frames);
    }
    sg_json_end_object(&w);
  }
  sg_json_end_array(&w);
  sg_json_key(&w, "checks");
  sg_json_begin_array(&w);
  for (size_t i = 0; i < r->report.n; ++i) {
    sg_json_gate_row(&w, &r->report.v[i]);
  }
  sg_json_end_array(&w);
  sg_json_end_object(&w);
  sg_status st = sg_json_writer_status(&w);
  if (st != SG_OK) {
    sg_json_writer_free(&w);
    *text = NULL;
    return st;
  }
  *text = sg_json_writer_take(&w, NULL);
  sg_json_writer_free(&w);
  return *text ? SG_OK : SG_E_NOMEM;
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t k = c < 0x80             ? 1
             : (c & 0xE0) == 0xC0 ? 2
             : (c & 0xF0) == 0xE0 ? 3
             : (c & 0xF8) == 0xF0 ? 4
                                  : 0;
  if (!k || k > n || (k == 2 && c < 0xC2) || (k == 4 && c > 0xF4))
    return 0;
  for (size_t i = 1; i < k; ++i)
    if ((s[i] & 0xC0) != 0x80)
      return 0;
  if (k == 3 && ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0)))
    return 0; /* overlong or surrogate */
  if (k == 4 && ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90)))
    return 0;
  return k;
}

/* XML 1.0 character data / attribute value: the five entities, '?' for characters XML 1.0 does
 * not allow (controls other than tab, LF, CR) and for invalid UTF-8. */
static void xml_escape(sg__text *b, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t n = strlen(s);
  while (n) {
    unsigned c = *p;
    switch (c) {
    case '&':
      tb_putn(b, "&amp;", 5);
      break;
    case '<':
      tb_putn(b, "&lt;", 4);
      break;
    case '>':
      tb_putn(b, "&gt;", 4);
      break;
    case '"':
      tb_putn(b, "&quot;", 6);
      break;
    case '\'':
      tb_putn(b, "&apos;", 6);
      break;
    case '\n':
      tb_putn(b, "&#10;", 5);
      break;
    case '\t':
      tb_putn(b, "&#9;", 4);
      break;
    case '\r':
      tb_putn(b, "&#13;", 5);
      break;
    default:
      if (c < 0x20 || c == 0x7F) {
        tb_putn(b, "?", 1);
      } else {
        size_t k = utf8_len(p, n);
        if (!k) {
          tb_putn(b, "?", 1);
        } else {
          tb_putn(b, (const char *)p, k);
          p += k;
          n -= k;
          continue;
        }
      }
    }
    ++p;
    --n;
  }
}

sg_status sg_verify_to_junit(const sg_verify_result *r, char **text) {
  if (!r || !text)
    return SG_E_INVAL;
  sg__text b = {0};
  size_t skipped = 0;
  for (size_t i = 0; i < r->report.n; ++i)
    skipped += !r->report.v[i].pass && !r->report.v[i].required;
  sg__text_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  sg__text_printf(&b, "<testsuites name=\"stemgate verify\" tests=\"%zu\" failures=\"%zu\">\n",
                  r->report.n, r->report.failed);
  sg__text_printf(&b,
                  "  <testsuite name=\"stemgate verify\" tests=\"%zu\" failures=\"%zu\" "
                  "errors=\"0\" skipped=\"%zu\" package=\"",
                  r->report.n, r->report.failed, skipped);
  xml_escape(&b, r->package);
  sg__text_printf(&b, "\">\n");
  for (size_t i = 0; i < r->report.n; ++i) {
    const sg_gate_result *g = &r->report.v[i];
    char line[1024], m[128], l[128];
    measured_text(g, m, sizeof m);
    limit_text(g, l, sizeof l);
    sg__text_printf(&b, "    <testcase classname=\"verify.");
    xml_escape(&b, g->stem);
    sg__text_printf(&b, "\" name=\"");
    xml_escape(&b, g->check);
    if (g->pass) {
      sg__text_printf(&b, "\"/>\n");
      continue;
    }
    snprintf(line, sizeof line, "%s %s: measured %s, limit %s%s%s", g->stem, g->check, m, l,
             extra_detail(g)[0] ? "; " : "", extra_detail(g));
    sg__text_printf(&b, "\">\n      <%s message=\"", g->required ? "failure" : "skipped");
    xml_escape(&b, line);
    if (g->required) {
      sg__text_printf(&b, "\" type=\"gate\">");
      sg_gate_result_format(g, line, sizeof line);
      xml_escape(&b, line);
      sg__text_printf(&b, "</failure>\n");
    } else {
      sg__text_printf(&b, "\"/>\n");
    }
    sg__text_printf(&b, "    </testcase>\n");
  }
  sg__text_printf(&b, "  </testsuite>\n</testsuites>\n");
  return tb_take(&b, text);
}

sg_status sg_verify_write_text(const char *path, const char *text, sg_diag *d) {
  if (!path || !text)
    return sg_diag_fail(d, SG_E_INVAL, "verify: NULL argument");
  if (!strcmp(path, "-")) { /* the Unix convention: standard output */
    size_t n = strlen(text);
    if (fwrite(text, 1, n, stdout) != n || fflush(stdout) != 0)
      return sg_diag_fail(d, SG_E_IO, "cannot write the report to standard output");
    return SG_OK;
  }
  char tmp[SG_MAX_PATH + 16];
  snprintf(tmp, sizeof tmp, "%s.partial", path);
  FILE *f = fopen(tmp, "wb");
  if (!f)
    return sg_diag_fail(d, SG_E_IO, "cannot write '%s'", tmp);
  size_t n = strlen(text);
  int ok = fwrite(text, 1, n, f) == n;
  ok &= fclose(f) == 0;
  if (!ok || rename(tmp, path) != 0) {
    unlink(tmp);
    return sg_diag_fail(d, SG_E_IO, "cannot write '%s'", path);
  }
  return SG_OK;
}
