/* The check table (include/stemgate/check.h): lookups and the Markdown page generated from it. */
#include "stemgate/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sg_check_def TABLE[SG_CHECK_COUNT] = {
#define SG__CHECK_DEF(id, name, step, unit, cmp, lim, key, sev, what, fix)                         \
  {SG_CHECK_##id, name, step, unit, cmp, lim, key, sev, what, fix},
    SG_CHECK_LIST(SG__CHECK_DEF)
#undef SG__CHECK_DEF
};

const sg_check_def *sg_check_get(sg_check_id id) {
  return (unsigned)id < SG_CHECK_COUNT ? &TABLE[id] : NULL;
}

const sg_check_def *sg_check_find(const char *name) {
  for (int i = 0; name && i < SG_CHECK_COUNT; ++i)
    if (!strcmp(TABLE[i].name, name))
      return &TABLE[i];
  return NULL;
}

const char *sg_cmp_symbol(sg_cmp c) {
  switch (c) {
  case SG_CMP_LE:
    return "<=";
  case SG_CMP_GE:
    return ">=";
  case SG_CMP_EQ:
    return "==";
  case SG_CMP_ABS_LE:
    return "|x|<=";
  case SG_CMP_WITHIN:
    return "within";
  case SG_CMP_TEXT:
    return "is";
  default:
    return "info";
  }
}

const char *sg_severity_name(sg_severity s) {
  return s == SG_SEV_FAIL ? "fail" : (s == SG_SEV_WARN ? "warn" : "info");
}

/* Grows *buf as needed; 0 on out of memory. */
static int append(char **buf, size_t *len, size_t *cap, const char *s) {
  size_t n = strlen(s);
  if (*len + n + 1 > *cap) {
    size_t c = (*cap + n + 1) * 2;
    char *p = realloc(*buf, c);
    if (!p)
      return 0;
    *buf = p;
    *cap = c;
  }
  memcpy(*buf + *len, s, n + 1);
  *len += n;
  return 1;
}

static const char *limit_text(const sg_check_def *c, char *out, size_t cap) {
  if (c->cmp == SG_CMP_INFO)
    snprintf(out, cap, "info");
  else if (c->cmp == SG_CMP_TEXT)
    snprintf(out, cap, "as expected");
  else if (c->cmp == SG_CMP_WITHIN)
    snprintf(out, cap, "target ± %.6g%s%s", c->limit, c->unit[0] ? " " : "", c->unit);
  else
    snprintf(out, cap, "%s %.6g%s%s", sg_cmp_symbol(c->cmp), c->limit, c->unit[0] ? " " : "",
             c->unit);
  return out;
}

sg_status sg_check_table_markdown(char **out) {
  if (!out)
    return SG_E_INVAL;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  int ok = append(&buf, &len, &cap,
                  "# Checks\n\n"
                  "<!-- Generated from SG_CHECK_LIST in include/stemgate/check.h by "
                  "`stemgate checks --markdown`; do not edit by hand (a test compares). -->\n\n"
                  "Every row that `stemgate render` or `stemgate verify` reports is one of these "
                  "checks: the same name, unit, comparison and verdict in both, computed by the "
                  "same function. **fail** rows stop a render and fail verify; **warn** rows are "
                  "judged and reported but do not fail; **info** rows are measurements. A spec "
                  "key, where given, sets the limit (the default is shown). Step `any`: every "
                  "audio file render writes and verify reads.\n\n"
                  "| check | step | measures | limit (default) | spec key | severity | how to fix "
                  "|\n|---|---|---|---|---|---|---|\n");
  for (int i = 0; ok && i < SG_CHECK_COUNT; ++i) {
    const sg_check_def *c = &TABLE[i];
    char lim[96], line[1024];
    const char *q = c->spec_key[0] && c->spec_key[0] != '(' ? "`" : ""; /* a key, not a remark */
    snprintf(line, sizeof line, "| `%s` | %s | %s | %s | %s%s%s | %s | %s |\n", c->name, c->step,
             c->measures, limit_text(c, lim, sizeof lim), q, c->spec_key, q,
             sg_severity_name(c->severity), c->fix);
    ok = append(&buf, &len, &cap, line);
  }
  if (!ok) {
    free(buf);
    return SG_E_NOMEM;
  }
  *out = buf;
  return SG_OK;
}
