/* Stable in-place sort (see sort.h): insertion sort of blocks of 20, then merges of doubling
 * width by SymMerge (Kim and Kutzner 2004, as Go's sort.Stable): binary searches and rotations,
 * O(n log n) comparisons, O(n log^2 n) swaps, no allocation. */
#include "sort.h"

#include <assert.h>
#include <string.h>

typedef struct sorter {
  unsigned char *v;
  size_t size;
  int (*less)(const void *, const void *);
} sorter;

static int less_at(const sorter *s, size_t i, size_t j) {
  return s->less(s->v + i * s->size, s->v + j * s->size);
}

static void swap_at(const sorter *s, size_t i, size_t j) {
  unsigned char t[SG__SORT_MAX_SIZE];
  memcpy(t, s->v + i * s->size, s->size);
  memcpy(s->v + i * s->size, s->v + j * s->size, s->size);
  memcpy(s->v + j * s->size, t, s->size);
}

static void swap_range(const sorter *s, size_t a, size_t b, size_t n) {
  for (size_t i = 0; i < n; ++i)
    swap_at(s, a + i, b + i);
}

/* [a, m) [m, b) -> [m, b) [a, m) by block swaps. */
static void rotate(const sorter *s, size_t a, size_t m, size_t b) {
  size_t i = m - a, j = b - m;
  while (i != j) {
    if (i > j) {
      swap_range(s, m - i, m, j);
      i -= j;
    } else {
      swap_range(s, m - i, m + j - i, i);
      j -= i;
    }
  }
  swap_range(s, m - i, m, i);
}

/* Stable merge of the sorted runs [a, m) and [m, b). */
static void sym_merge(const sorter *s, size_t a, size_t m, size_t b) {
  if (m - a == 1) { /* one element into [m, b): after every element not after it */
    size_t i = m, j = b;
    while (i < j) {
      size_t h = i + (j - i) / 2;
      if (less_at(s, h, a))
        i = h + 1;
      else
        j = h;
    }
    for (size_t k = a; k + 1 < i; ++k)
      swap_at(s, k, k + 1);
    return;
  }
  if (b - m == 1) { /* one element into [a, m): before the first element after it */
    size_t i = a, j = m;
    while (i < j) {
      size_t h = i + (j - i) / 2;
      if (!less_at(s, m, h))
        i = h + 1;
      else
        j = h;
    }
    for (size_t k = m; k > i; --k)
      swap_at(s, k, k - 1);
    return;
  }
  size_t mid = a + (b - a) / 2, n = mid + m, start, r;
  if (m > mid) {
    start = n - b;
    r = mid;
  } else {
    start = a;
    r = m;
  }
  size_t p = n - 1;
  while (start < r) {
    size_t c = start + (r - start) / 2;
    if (!less_at(s, p - c, c))
      start = c + 1;
    else
      r = c;
  }
  size_t end = n - start;
  if (start < m && m < end)
    rotate(s, start, m, end);
  if (a < start && start < mid)
    sym_merge(s, a, start, mid);
  if (mid < end && end < b)
    sym_merge(s, mid, end, b);
}

static void insertion_sort(const sorter *s, size_t a, size_t b) {
  for (size_t i = a + 1; i < b; ++i)
    for (size_t j = i; j > a && less_at(s, j, j - 1); --j)
      swap_at(s, j, j - 1);
}

void sg__stable_sort(void *base, size_t n, size_t size, int (*less)(const void *, const void *)) {
  assert(size <= SG__SORT_MAX_SIZE);
  if (n < 2 || size == 0 || size > SG__SORT_MAX_SIZE)
    return;
  const sorter s = {base, size, less};
  size_t block = 20, a = 0;
  for (; n - a > block; a += block)
    insertion_sort(&s, a, a + block);
  insertion_sort(&s, a, n);
  for (; block < n; block *= 2) {
    for (a = 0; n - a >= 2 * block; a += 2 * block)
      sym_merge(&s, a, a + block, a + 2 * block);
    if (n - a > block)
      sym_merge(&s, a, a + block, n);
  }
}
