/* Stable sort in place with a fixed scratch (see sort.h): runs of 16 by insertion sort, then
 * bottom-up merges of doubling width. A merge whose left run fits the scratch copies that run
 * out and merges forward. A longer one is divided (the recursive in-place merge of Dudzinski and
 * Dydek, 1981): the middle element of the longer run, its bound in the other run by binary
 * search (lower bound in the right run, upper bound in the left, so equal elements keep their
 * order), the two inner pieces exchanged by a rotation (three reversals), then each half merged
 * the same way. O(n log n) comparisons, O(n log^2 n) moves at worst; an already ordered pair of
 * runs costs one comparison. */
#include "sort.h"

#include <string.h>

enum { SCRATCH = 8192, RUN = 16 };

typedef struct sorter {
  unsigned char *v;
  size_t w;
  int (*less)(const void *, const void *);
} sorter;

static unsigned char *at(const sorter *s, size_t i) { return s->v + i * s->w; }

static void reverse(const sorter *s, size_t a, size_t b) { /* [a, b) */
  unsigned char t[SG__SORT_MAX_SIZE];
  for (; b > a + 1; ++a) {
    --b;
    memcpy(t, at(s, a), s->w);
    memcpy(at(s, a), at(s, b), s->w);
    memcpy(at(s, b), t, s->w);
  }
}

/* [a, m) [m, b) -> [m, b) [a, m). */
static void rotate(const sorter *s, size_t a, size_t m, size_t b) {
  reverse(s, a, m);
  reverse(s, m, b);
  reverse(s, a, b);
}

/* The first index of [a, b) whose element is not before x. */
static size_t lower(const sorter *s, size_t a, size_t b, const void *x) {
  while (a < b) {
    size_t h = a + (b - a) / 2;
    if (s->less(at(s, h), x))
      a = h + 1;
    else
      b = h;
  }
  return a;
}

/* The first index of [a, b) whose element is after x. */
static size_t upper(const sorter *s, size_t a, size_t b, const void *x) {
  while (a < b) {
    size_t h = a + (b - a) / 2;
    if (!s->less(x, at(s, h)))
      a = h + 1;
    else
      b = h;
  }
  return a;
}

/* Stable merge of the sorted runs [a, m) and [m, b); tmp holds cap elements. */
static void merge(const sorter *s, size_t a, size_t m, size_t b, unsigned char *tmp, size_t cap) {
  if (a == m || m == b || !s->less(at(s, m), at(s, m - 1)))
    return;
  if (m - a <= cap) { /* the writes (at k) never pass the right run's reads (at j) */
    size_t nl = m - a, i = 0, j = m, k = a;
    memcpy(tmp, at(s, a), nl * s->w);
    for (; i < nl && j < b; ++k) {
      if (s->less(at(s, j), tmp + i * s->w))
        memcpy(at(s, k), at(s, j++), s->w);
      else
        memcpy(at(s, k), tmp + i++ * s->w, s->w);
    }
    memcpy(at(s, k), tmp + i * s->w, (nl - i) * s->w);
    return;
  }
  size_t c1, c2;
  if (m - a >= b - m) {
    c1 = a + (m - a) / 2;
    c2 = lower(s, m, b, at(s, c1));
  } else {
    c2 = m + (b - m) / 2;
    c1 = upper(s, a, m, at(s, c2));
  }
  rotate(s, c1, m, c2);
  size_t mid = c1 + (c2 - m);
  merge(s, a, c1, mid, tmp, cap);
  merge(s, mid, c2, b, tmp, cap);
}

static void insertion(const sorter *s, size_t a, size_t b) {
  unsigned char t[SG__SORT_MAX_SIZE];
  for (size_t i = a + 1; i < b; ++i) {
    size_t j = i;
    while (j > a && s->less(at(s, i), at(s, j - 1)))
      --j;
    if (j < i) {
      memcpy(t, at(s, i), s->w);
      memmove(at(s, j + 1), at(s, j), (i - j) * s->w);
      memcpy(at(s, j), t, s->w);
    }
  }
}

void sg__stable_sort(void *base, size_t n, size_t size, int (*less)(const void *, const void *)) {
  if (n < 2 || size == 0 || size > SG__SORT_MAX_SIZE)
    return;
  const sorter s = {base, size, less};
  unsigned char tmp[SCRATCH];
  for (size_t a = 0; a < n; a += RUN)
    insertion(&s, a, n - a > RUN ? a + RUN : n);
  for (size_t w = RUN; w < n; w *= 2)
    for (size_t a = 0; a < n && n - a > w; a += 2 * w)
      merge(&s, a, a + w, n - a - w > w ? a + 2 * w : n, tmp, SCRATCH / size);
}
