/* Internal to stemgate: a stable sort in place with an 8 KiB scratch on the stack (notes, MIDI
 * events: lists proportional to the song's length, so a merge buffer of their size would double
 * them at their peak). */
#ifndef SG_CORE_SORT_H
#define SG_CORE_SORT_H

#include <stddef.h>

/* Sorts n elements of size bytes (at most SG__SORT_MAX_SIZE) so that less(a, b) never holds
 * for a later a; equal elements keep their order. A stable sort has one result, so this is the
 * order of any stable merge sort with the same comparison (glibc's qsort, for one). */
#define SG__SORT_MAX_SIZE 64
void sg__stable_sort(void *base, size_t n, size_t size, int (*less)(const void *, const void *));

#endif
