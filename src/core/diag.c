/* Diagnostics: context a caller prints, never printed from inside the library. */
#include "stemgate/core.h"

#include <stdio.h>
#include <string.h>

static void copy_field(char *dst, size_t cap, const char *src) {
  if (!src)
    return;
  snprintf(dst, cap, "%s", src);
}

void sg_diag_clear(sg_diag *d) {
  if (d)
    memset(d, 0, sizeof *d);
}

sg_status sg_diag_fail(sg_diag *d, sg_status st, const char *fmt, ...) {
  if (!d)
    return st;
  d->status = st;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->message, sizeof d->message, fmt, ap);
  va_end(ap);
  return st;
}

void sg_diag_at(sg_diag *d, const char *file, int line, int col) {
  if (!d)
    return;
  copy_field(d->file, sizeof d->file, file);
  d->line = line;
  d->col = col;
}

void sg_diag_where(sg_diag *d, const char *step, const char *stem, const char *check) {
  if (!d)
    return;
  copy_field(d->step, sizeof d->step, step);
  copy_field(d->stem, sizeof d->stem, stem);
  copy_field(d->check, sizeof d->check, check);
}

void sg_diag_value(sg_diag *d, double measured, double limit, const char *unit) {
  if (!d)
    return;
  d->has_value = 1;
  d->measured = measured;
  d->limit = limit;
  copy_field(d->unit, sizeof d->unit, unit ? unit : "");
}

/* Appends to out[*n..cap) and keeps it terminated; silently stops at the end. */
static void append(char *out, size_t cap, size_t *n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static void append(char *out, size_t cap, size_t *n, const char *fmt, ...) {
  if (*n + 1 >= cap)
    return;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(out + *n, cap - *n, fmt, ap);
  va_end(ap);
  if (k > 0)
    *n += (size_t)k < cap - *n ? (size_t)k : cap - *n - 1;
}

char *sg_diag_format(const sg_diag *d, char *out, size_t cap) {
  if (!out || cap == 0)
    return out;
  out[0] = '\0';
  if (!d)
    return out;
  size_t n = 0;
  if (d->file[0]) {
    append(out, cap, &n, "%s", d->file);
    if (d->line > 0)
      append(out, cap, &n, ":%d:%d", d->line, d->col > 0 ? d->col : 1);
    append(out, cap, &n, ": ");
  }
  if (d->step[0] || d->stem[0] || d->check[0])
    append(out, cap, &n, "%s%s%s%s%s: ", d->step, d->stem[0] ? "/" : "", d->stem,
           d->check[0] ? "/" : "", d->check);
  append(out, cap, &n, "%s", d->message[0] ? d->message : sg_status_message(d->status));
  if (d->has_value) {
    const char *sp = d->unit[0] ? " " : "";
    append(out, cap, &n, " (measured %.6g%s%s, limit %.6g%s%s)", d->measured, sp, d->unit, d->limit,
           sp, d->unit);
  }
  return out;
}
