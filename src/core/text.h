/* Internal to stemgate: a growable string that printf appends to, for the text files the
 * pipeline, the report and verify write (NOTES.txt, report.html). On a failed allocation or
 * encoding error oom is set and later appends do nothing; the caller checks oom once at the end
 * and frees s. */
#ifndef SG_CORE_TEXT_H
#define SG_CORE_TEXT_H

#include <stddef.h>

typedef struct sg__text {
  char *s;
  size_t n, cap;
  int oom;
} sg__text;

void sg__text_printf(sg__text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
