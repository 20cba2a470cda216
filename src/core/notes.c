/* Note lists: a growable array with a stable sort (equal keys keep the order the composer wrote
 * them in, so renders stay deterministic). */
#include "stemgate/notes.h"

#include "sort.h"

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

static int note_less(const void *a, const void *b) { return note_before(a, b); }

/* In place (an hour's notes are ~1.7 MB a stem; a merge buffer would double them). */
void sg_notes_sort(sg_note_list *l) {
  if (l && l->n > 1)
    sg__stable_sort(l->v, l->n, sizeof *l->v, note_less);
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
