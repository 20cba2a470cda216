/* Internal to the io module: the container size check every audio reader runs (container.c). */
#ifndef SG_IO_INTERNAL_H
#define SG_IO_INTERNAL_H

#include "stemgate/io.h"

#include <stddef.h>
#include <stdint.h>

/* A byte source of known size: a file or a zip entry. read_at returns 0 when all n bytes at
 * offset at were read. */
typedef struct sg__bytes {
  int (*read_at)(void *user, uint64_t at, void *buf, size_t n);
  void *user;
  uint64_t size;
} sg__bytes;

/* SG_E_FORMAT naming the file when the container's declared sample-data size is larger than
 * the bytes that follow it (RIFF, RF64, BW64, W64, AIFF, AIFC); SG_OK otherwise. */
sg_status sg__container_check(const sg__bytes *b, const char *name, sg_diag *d);

#endif
