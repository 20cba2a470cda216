/* Note lists: a growable array with a stable sort (equal keys keep the order the composer wrote
 * them in, so renders stay deterministic). */
#include "stemgate/notes.h"

#include <stdlib.h>
#include <string.h>

void sg_notes_init(sg_note_list *l) { memset(l, 0, sizeof *l); }

sg_status sg_notes_push(sg_note_list *l, const sg_note *n) {
  if (!l || !n)
    return SG_E_INVAL;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 256;
    if (cap > SIZE_MAX / sizeof(sg_note))
      return SG_E_NOMEM;
    sg_note *v = realloc(l->v, cap * sizeof *v);
    if (!v)
      return SG_E_NOMEM;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = *n;
  return SG_OK;
}

static int note_before(const sg_note *a, const sg_note *b) {
  if (a->start != b->start)
    return a->start < b->start;
  return a->key < b->key;
}

static void swap_notes(sg_note *v, size_t i, size_t j) {
  sg_note t = v[i];
  v[i] = v[j];
  v[j] = t;
}

static void swap_range(sg_note *v, size_t a, size_t b, size_t n) {
  for (size_t i = 0; i < n; ++i)
    swap_notes(v, a + i, b + i);
}

/* [a, m) [m, b) -> [m, b) [a, m) by block swaps. */
static void rotate(sg_note *v, size_t a, size_t m, size_t b) {
  size_t i = m - a, j = b - m;
  while (i != j) {
    if (i > j) {
      swap_range(v, m - i, m, j);
      i -= j;
    } else {
      swap_range(v, m - i, m + j - i, i);
      j -= i;
    }
  }
  swap_range(v, m - i, m, i);
}

/* Stable merge of the sorted runs [a, m) and [m, b) without a buffer (SymMerge, Kim and
 * Kutzner 2004, as Go's sort.Stable): binary searches and rotations. */
static void sym_merge(sg_note *v, size_t a, size_t m, size_t b) {
  if (m - a == 1) { /* one element into [m, b): after every element not before it */
    size_t i = m, j = b;
    while (i < j) {
      size_t h = i + (j - i) / 2;
      if (note_before(&v[h], &v[a]))
        i = h + 1;
      else
        j = h;
    }
    for (size_t k = a; k + 1 < i; ++k)
      swap_notes(v, k, k + 1);
    return;
  }
  if (b - m == 1) { /* one element into [a, m): before the first element after it */
    size_t i = a, j = m;
    while (i < j) {
      size_t h = i + (j - i) / 2;
      if (!note_before(&v[m], &v[h]))
        i = h + 1;
      else
        j = h;
    }
    for (size_t k = m; k > i; --k)
      swap_notes(v, k, k - 1);
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
    if (!note_before(&v[p - c], &v[c]))
      start = c + 1;
    else
      r = c;
  }
  size_t end = n - start;
  if (start < m && m < end)
    rotate(v, start, m, end);
  if (a < start && start < mid)
    sym_merge(v, a, start, mid);
  if (mid < end && end < b)
    sym_merge(v, mid, end, b);
}

static void insertion_sort(sg_note *v, size_t a, size_t b) {
  for (size_t i = a + 1; i < b; ++i)
    for (size_t j = i; j > a && note_before(&v[j], &v[j - 1]); --j)
      swap_notes(v, j, j - 1);
}

/* In place (an hour's notes are ~1 MB a stem; a merge buffer would double them): insertion sort
 * of blocks of 20, then stable merges of doubling width. A stable sort has one result, so this
 * order is the buffered merge sort's it replaces. */
void sg_notes_sort(sg_note_list *l) {
  if (!l || l->n < 2)
    return;
  sg_note *v = l->v;
  size_t n = l->n, block = 20, a = 0;
  for (; n - a > block; a += block)
    insertion_sort(v, a, a + block);
  insertion_sort(v, a, n);
  for (; block < n; block *= 2) {
    for (a = 0; n - a >= 2 * block; a += 2 * block)
      sym_merge(v, a, a + block, a + 2 * block);
    if (n - a > block)
      sym_merge(v, a, a + block, n);
  }
}

void sg_notes_trim(sg_note_list *l) {
  if (!l || l->n == l->cap)
    return;
  if (l->n == 0) {
    free(l->v);
    l->v = NULL;
    l->cap = 0;
    return;
  }
  sg_note *v = realloc(l->v, l->n * sizeof *v);
  if (v) { /* a failed shrink keeps the larger block */
    l->v = v;
    l->cap = l->n;
  }
}

void sg_notes_clear(sg_note_list *l) {
  if (l)
    l->n = 0;
}

void sg_notes_free(sg_note_list *l) {
  if (!l)
    return;
  free(l->v);
  memset(l, 0, sizeof *l);
}
