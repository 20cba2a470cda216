/* Note lists: a growable array with a stable sort (merge sort, so equal keys keep the order the
 * composer wrote them in and renders stay deterministic). */
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

void sg_notes_sort(sg_note_list *l) {
  if (!l || l->n < 2)
    return;
  sg_note *tmp = malloc(l->n * sizeof *tmp);
  if (!tmp) { /* fall back to insertion sort: still stable, only slower */
    for (size_t i = 1; i < l->n; ++i) {
      sg_note x = l->v[i];
      size_t j = i;
      while (j > 0 && note_before(&x, &l->v[j - 1])) {
        l->v[j] = l->v[j - 1];
        --j;
      }
      l->v[j] = x;
    }
    return;
  }
  for (size_t width = 1; width < l->n; width *= 2) {
    for (size_t lo = 0; lo < l->n; lo += 2 * width) {
      size_t mid = lo + width < l->n ? lo + width : l->n;
      size_t hi = lo + 2 * width < l->n ? lo + 2 * width : l->n;
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi)
        tmp[k++] = note_before(&l->v[j], &l->v[i]) ? l->v[j++] : l->v[i++];
      while (i < mid)
        tmp[k++] = l->v[i++];
      while (j < hi)
        tmp[k++] = l->v[j++];
    }
    memcpy(l->v, tmp, l->n * sizeof *tmp);
  }
  free(tmp);
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
