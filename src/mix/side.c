/* The master pass's second core: a thread beside the one that mixes and limits takes every block
 * in order, meters it and streams it to the pass's temporary file. A ring of SIDE_Q blocks sits
 * between them; the meter sees the same blocks, in the same order and under the same
 * floating-point mode as if it ran inline, so its result is the same bits. Without a thread
 * (pthread_create failed) the work runs inline. */
#include "mix_internal.h"

#include "stemgate/dsp.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SIDE_Q 4

typedef struct side_slot {
  float L[SG_MIX_BLOCK], R[SG_MIX_BLOCK];
  size_t n, skip, m;
} side_slot;

struct sg__side {
  sg_meter *meter;
  FILE *f;
  int mode;
  unsigned channels;
  unsigned fp_mode;
  side_slot q[SIDE_Q];
  long head, tail;
  int closed, threaded;
  sg_status st;
  int err_io; /* errno of a failed write, 0 when the meter failed */
  pthread_mutex_t lock;
  pthread_cond_t cond;
  pthread_t th;
  float il[2 * SG_MIX_BLOCK], mono[SG_MIX_BLOCK];
};

/* What the thread does with one block. */
static sg_status side_work(sg__side *s, const side_slot *b) {
  if (s->f && s->mode == SG__SIDE_PLANAR &&
      (fwrite(b->L, sizeof(float), b->n, s->f) != b->n ||
       fwrite(b->R, sizeof(float), b->n, s->f) != b->n)) {
    s->err_io = errno ? errno : EIO;
    return SG_E_IO;
  }
  if (b->m == 0)
    return SG_OK;
  const float *L = b->L + b->skip, *R = b->R + b->skip;
  for (size_t k = 0; k < b->m; ++k) {
    s->il[2 * k] = L[k];
    s->il[2 * k + 1] = R[k];
  }
  if (s->f && s->mode == SG__SIDE_INTERLEAVED &&
      fwrite(s->il, 2 * sizeof(float), b->m, s->f) != b->m) {
    s->err_io = errno ? errno : EIO;
    return SG_E_IO;
  }
  if (!s->meter)
    return SG_OK;
  if (s->channels == 2)
    return sg_meter_add(s->meter, s->il, b->m);
  for (size_t k = 0; k < b->m; ++k)
    s->mono[k] = 0.5f * (L[k] + R[k]);
  return sg_meter_add(s->meter, s->mono, b->m);
}

static void *side_thread(void *arg) {
  sg__side *s = arg;
  sg_dsp_denormals_restore(s->fp_mode);
  for (;;) {
    pthread_mutex_lock(&s->lock);
    while (s->tail == s->head && !s->closed)
      pthread_cond_wait(&s->cond, &s->lock);
    if (s->tail == s->head) {
      pthread_mutex_unlock(&s->lock);
      return NULL;
    }
    const side_slot *b = &s->q[s->tail % SIDE_Q];
    const int failed = s->st != SG_OK;
    pthread_mutex_unlock(&s->lock);
    sg_status st = failed ? SG_OK : side_work(s, b);
    pthread_mutex_lock(&s->lock);
    if (st != SG_OK && s->st == SG_OK)
      s->st = st;
    s->tail++;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
  }
}

sg_status sg__side_start(sg__side **out, sg_meter *meter, FILE *f, int mode, unsigned channels,
                         sg_diag *d) {
  sg__side *s = calloc(1, sizeof *s);
  if (!s)
    return sg_diag_fail(d, SG_E_NOMEM, "master: out of memory");
  s->meter = meter;
  s->f = f;
  s->mode = mode;
  s->channels = channels;
  s->fp_mode = sg_dsp_denormals_off(); /* the caller's mode, for the thread */
  sg_dsp_denormals_restore(s->fp_mode);
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->cond, NULL);
  s->threaded = pthread_create(&s->th, NULL, side_thread, s) == 0;
  *out = s;
  return SG_OK;
}

sg_status sg__side_push(sg__side *s, const float *L, const float *R, size_t n, size_t skip,
                        size_t m) {
  side_slot *b;
  if (s->threaded) {
    pthread_mutex_lock(&s->lock);
    while (s->st == SG_OK && s->head - s->tail >= SIDE_Q)
      pthread_cond_wait(&s->cond, &s->lock);
    sg_status st = s->st;
    pthread_mutex_unlock(&s->lock);
    if (st != SG_OK)
      return st;
    b = &s->q[s->head % SIDE_Q]; /* the thread is done with this slot */
  } else {
    b = &s->q[0];
  }
  memcpy(b->L, L, n * sizeof *L);
  memcpy(b->R, R, n * sizeof *R);
  b->n = n;
  b->skip = skip;
  b->m = m;
  if (!s->threaded)
    return s->st = side_work(s, b);
  pthread_mutex_lock(&s->lock);
  s->head++;
  pthread_cond_broadcast(&s->cond);
  pthread_mutex_unlock(&s->lock);
  return SG_OK;
}

sg_status sg__side_finish(sg__side *s, sg_diag *d) {
  if (!s)
    return SG_OK;
  if (s->threaded) {
    pthread_mutex_lock(&s->lock);
    s->closed = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->th, NULL);
    s->threaded = 0;
  }
  sg_status st = s->st;
  if (st == SG_OK && s->f && fflush(s->f) != 0) {
    s->err_io = errno ? errno : EIO;
    st = s->st = SG_E_IO;
  }
  if (st == SG_E_IO && s->err_io)
    return sg_diag_fail(d, st, "master: writing the temporary bus file failed: %s",
                        strerror(s->err_io));
  if (st != SG_OK)
    return sg_diag_fail(d, st, "master: metering failed");
  return SG_OK;
}

void sg__side_free(sg__side *s) {
  if (!s)
    return;
  if (s->threaded) {
    pthread_mutex_lock(&s->lock);
    s->closed = 1;
    s->st = s->st == SG_OK ? SG_E_INTERNAL : s->st; /* drop what is queued */
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->th, NULL);
  }
  pthread_cond_destroy(&s->cond);
  pthread_mutex_destroy(&s->lock);
  free(s);
}
