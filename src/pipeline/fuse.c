/* A stem rendered alone (its notes or instrument changed, everything else reused): its effects
 * run while its dry stem is rendered, fed the dry samples as the dry writer's tap sees them (the
 * file's own samples: float, denormals flushed) instead of reading the file once it is complete.
 * Between the two, a bounded single-producer single-consumer queue of interleaved frames
 * (mutex and condition variable: a block of SG_MIX_BLOCK frames per wake-up costs nothing next
 * to the synthesis and the chain), so memory stays flat whatever the song's length. The dry
 * stem is still judged before its effects are (the effects' results are handed over only after
 * that judge, step_fx.c); a failed or cancelled dry render closes the queue with its status and
 * the effects fail with it. */
#include "pipeline_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RING_FRAMES (32 * SG_MIX_BLOCK)

struct sg__ring {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  float *buf;          /* RING_FRAMES interleaved frames of ch channels */
  size_t ch;           /* 1 or 2 */
  uint64_t head, tail; /* frames written, frames read (head - tail are waiting) */
  int closed;          /* the producer is done: after the waiting frames, zeros */
  sg_status closed_st; /* ... or its failure */
  int abandoned;       /* the consumer is gone: frames pushed are dropped */
};

sg_status sg__ring_create(sg__ring **out, unsigned channels) {
  sg__ring *q = channels == 1 || channels == 2 ? calloc(1, sizeof *q) : NULL;
  if (q && !(q->buf = malloc(sizeof(float) * channels * RING_FRAMES))) {
    free(q);
    q = NULL;
  }
  *out = q;
  if (!q)
    return SG_E_NOMEM;
  q->ch = channels;
  pthread_mutex_init(&q->lock, NULL);
  pthread_cond_init(&q->cond, NULL);
  return SG_OK;
}

void sg__ring_free(sg__ring *q) {
  if (!q)
    return;
  pthread_cond_destroy(&q->cond);
  pthread_mutex_destroy(&q->lock);
  free(q->buf);
  free(q);
}

sg_status sg__ring_push(sg__ring *q, const float *x, size_t n) {
  pthread_mutex_lock(&q->lock);
  while (n > 0 && !q->abandoned) {
    while (q->head - q->tail == RING_FRAMES && !q->abandoned)
      pthread_cond_wait(&q->cond, &q->lock);
    if (q->abandoned)
      break;
    const size_t at = (size_t)(q->head % RING_FRAMES),
                 room = RING_FRAMES - (size_t)(q->head - q->tail);
    size_t k = n < room ? n : room;
    k = k < RING_FRAMES - at ? k : RING_FRAMES - at; /* up to the wrap */
    memcpy(q->buf + q->ch * at, x, sizeof(float) * q->ch * k);
    q->head += k;
    x += q->ch * k;
    n -= k;
    pthread_cond_broadcast(&q->cond);
  }
  pthread_mutex_unlock(&q->lock);
  return SG_OK;
}

void sg__ring_close(sg__ring *q, sg_status st) {
  pthread_mutex_lock(&q->lock);
  q->closed = 1;
  q->closed_st = st;
  pthread_cond_broadcast(&q->cond);
  pthread_mutex_unlock(&q->lock);
}

void sg__ring_abandon(sg__ring *q) {
  pthread_mutex_lock(&q->lock);
  q->abandoned = 1;
  pthread_cond_broadcast(&q->cond);
  pthread_mutex_unlock(&q->lock);
}

sg_status sg__ring_read(void *user, float *L, float *R, size_t n, sg_diag *d) {
  sg__ring *q = user;
  pthread_mutex_lock(&q->lock);
  size_t got = 0;
  while (got < n) {
    while (q->head == q->tail && !q->closed)
      pthread_cond_wait(&q->cond, &q->lock);
    if (q->closed && q->closed_st != SG_OK) {
      const sg_status st = q->closed_st;
      pthread_mutex_unlock(&q->lock);
      return sg_diag_fail(d, st, "effects: the dry stem they read failed as it was rendered");
    }
    if (q->head == q->tail) /* closed: past the dry stem's end */
      break;
    const size_t at = (size_t)(q->tail % RING_FRAMES), avail = (size_t)(q->head - q->tail);
    size_t k = n - got < avail ? n - got : avail;
    k = k < RING_FRAMES - at ? k : RING_FRAMES - at;
    const float *s = q->buf + q->ch * at;
    const size_t r = q->ch - 1; /* a mono stem on both sides, as a read of its file */
    for (size_t i = 0; i < k; ++i) {
      L[got + i] = s[q->ch * i];
      R[got + i] = s[q->ch * i + r];
    }
    q->tail += k;
    got += k;
    pthread_cond_broadcast(&q->cond);
  }
  pthread_mutex_unlock(&q->lock);
  for (size_t i = got; i < n; ++i)
    L[i] = R[i] = 0.0f;
  return SG_OK;
}

/* The dry writer's tap while the effects read along: the stem's own probe, then the queue. */
sg_status sg__ring_tap(void *user, const float *x, size_t n) {
  sg__ring_tap_ctx *t = user;
  sg_status st = sg__probe_tap(t->probe, x, n);
  if (st == SG_OK)
    st = sg__ring_push(t->ring, x, n);
  return st;
}
