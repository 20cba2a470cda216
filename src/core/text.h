/* Internal to stemgate: a growable string that printf appends to, for the text files the
 * pipeline, the report and verify write (NOTES.txt, report.html). On a failed allocation,
 * encoding error or (with a sink) write error oom is set and later appends do nothing; the
 * caller checks oom once at the end and frees s.
 * With sink set, the text is written to it whenever SG__TEXT_FLUSH bytes have gathered, so s
 * holds only the tail (sg__text_flush writes that): report.html grows with the song's notes. */
#ifndef SG_CORE_TEXT_H
#define SG_CORE_TEXT_H

#include <stddef.h>
#include <stdio.h>

#define SG__TEXT_FLUSH ((size_t)64 * 1024)

typedef struct sg__text {
  char *s;
  size_t n, cap;
  int oom;
  FILE *sink; /* NULL: everything stays in s */
} sg__text;

void sg__text_printf(sg__text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Writes what s holds to the sink (nothing without one); oom on a short write. */
void sg__text_flush(sg__text *t);

#endif
