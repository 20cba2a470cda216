/* report.html's envelope of a node's audio file kept beside the node's record
 * (work/nodes/<node>.trace, report.h sg_trace_save): a later run that reuses the node draws the
 * file from it instead of decoding the whole file again. Keyed by the SHA-256 the record holds of
 * the file (checked against the file when the run planned its nodes) and the trace's version, so
 * a trace of other bytes, or measured another way, is never drawn; a missing, stale or damaged
 * one costs one read of the file, after which it is saved again. */
#include "pipeline_internal.h"

#include <stdio.h>
#include <string.h>

static void trace_path(const sg__run *r, const char *node, char *out, size_t cap) {
  sg__node_record_path(r, node, out, cap);
  char *dot = strrchr(out, '.');
  if (dot && (size_t)(dot - out) + sizeof ".trace" <= cap)
    memcpy(dot, ".trace", sizeof ".trace"); /* <node>.json -> <node>.trace */
}

/* The hash of the node's one file, or NULL. */
static const char *file_sha(const sg__node *n) {
  return n->nf >= 1 && strlen(n->fsha[0]) == 64 ? n->fsha[0] : NULL;
}

void sg__trace_keep(const sg__run *r, const char *node, const sg__node *n, const sg_trace *t) {
  const char *sha = file_sha(n);
  if (!t || !sha)
    return;
  char path[SG_MAX_PATH + 64];
  trace_path(r, node, path, sizeof path);
  (void)sg_trace_save(t, sha, path, NULL); /* without it the next run reads the file */
}

sg_trace *sg__trace_take(const sg__run *r, const char *node, const sg__node *n, const char *file,
                         int loudness) {
  const char *sha = file_sha(n);
  char path[SG_MAX_PATH + 64];
  trace_path(r, node, path, sizeof path);
  sg_trace *t = NULL;
  if (sha && sg_trace_load(path, sha, loudness, &t) == SG_OK)
    return t;
  if (sg_trace_file(file, loudness, &t, NULL) != SG_OK)
    return NULL;
  /* The file was checked against sha when this run planned its nodes. */
  sg__trace_keep(r, node, n, t);
  return t;
}
