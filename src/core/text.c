/* A growable printf string (see text.h): vsnprintf into the free space, doubling on overflow;
 * with a sink, drained to it once SG__TEXT_FLUSH bytes are held. */
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void sg__text_printf(sg__text *t, const char *fmt, ...) {
  if (t->oom)
    return;
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
    va_end(ap);
    if (k < 0) {
      t->oom = 1;
      return;
    }
    if (t->s && t->n + (size_t)k < t->cap) {
      t->n += (size_t)k;
      if (t->sink && t->n >= SG__TEXT_FLUSH)
        sg__text_flush(t);
      return;
    }
    size_t cap = (t->cap + (size_t)k + 1) * 2;
    char *p = realloc(t->s, cap);
    if (!p) {
      t->oom = 1;
      return;
    }
    t->s = p;
    t->cap = cap;
  }
}

void sg__text_flush(sg__text *t) {
  if (t->oom || !t->sink || t->n == 0)
    return;
  if (fwrite(t->s, 1, t->n, t->sink) != t->n) {
    t->oom = 1;
    return;
  }
  t->n = 0;
  t->s[0] = '\0';
}
