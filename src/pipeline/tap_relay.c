/* A relay that runs a stem's measuring taps on a thread of their own: the writer's tap (the
 * meters, trace and features of the probe) and the effects chain's tap (the in-situ effect
 * verification). When one stem alone is rendered its effects run on one worker while the second
 * core idles; with the relay the worker only reads, processes and writes, and the taps follow
 * on the other core. Each tap gets copies of the blocks it would have seen, in the same order,
 * on a thread in the same FP mode, so every measurement is the same bits as a direct call: a
 * bounded single-producer single-consumer queue (the producer waits when it is full). */
#include "pipeline_internal.h"

#include "stemgate/mix.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RELAY_SLOTS 8
#define RELAY_CAP (6 * SG_MIX_BLOCK) /* floats per slot: an fx tap's six channels of a block */

typedef struct slot {
  int fx; /* 1: the chain's tap, 0: the writer's */
  int effect, side;
  size_t n;
  float *buf;
} slot;

struct sg__relay {
  sg_audio_tap_fn wfn;
  void *wuser;
  void (*bfn)(void *, sg_bext *); /* the writer's bext_final, called on what was measured */
  sg_fx_tap_fn ffn;
  void *fuser;
  unsigned channels;
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  slot q[RELAY_SLOTS];
  int head, count, done;
  sg_status wst; /* the writer tap's first error, returned to the writer on its next block */
};

static void run_slot(sg__relay *r, const slot *s) {
  const float *b = s->buf;
  const size_t n = s->n;
  if (s->fx) {
    r->ffn(r->fuser, s->effect, b, b + n, b + 2 * n, b + 3 * n, s->side ? b + 4 * n : NULL,
           s->side ? b + 5 * n : NULL, n);
    return;
  }
  sg_status st = r->wfn(r->wuser, b, n);
  if (st != SG_OK) {
    pthread_mutex_lock(&r->mu);
    if (r->wst == SG_OK)
      r->wst = st;
    pthread_mutex_unlock(&r->mu);
  }
}

static void *relay_main(void *arg) {
  sg__relay *r = arg;
  sg_dsp_denormals_off(); /* the worker's FP mode: the taps' sums keep their bits */
  pthread_mutex_lock(&r->mu);
  for (;;) {
    while (!r->count && !r->done)
      pthread_cond_wait(&r->cv, &r->mu);
    if (!r->count)
      break;
    const slot *s = &r->q[(r->head - r->count + RELAY_SLOTS) % RELAY_SLOTS];
    pthread_mutex_unlock(&r->mu);
    run_slot(r, s);
    pthread_mutex_lock(&r->mu);
    r->count--;
    pthread_cond_broadcast(&r->cv);
  }
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

sg_status sg__relay_start(sg__relay **out, sg_audio_tap_fn wfn, void *wuser,
                          void (*bfn)(void *, sg_bext *), unsigned channels, sg_fx_tap_fn ffn,
                          void *fuser) {
  *out = NULL;
  sg__relay *r = calloc(1, sizeof *r);
  if (!r)
    return SG_E_NOMEM;
  for (int i = 0; i < RELAY_SLOTS; ++i)
    if (!(r->q[i].buf = malloc(RELAY_CAP * sizeof(float)))) {
      for (int j = 0; j < i; ++j)
        free(r->q[j].buf);
      free(r);
      return SG_E_NOMEM;
    }
  r->wfn = wfn;
  r->wuser = wuser;
  r->bfn = bfn;
  r->ffn = ffn;
  r->fuser = fuser;
  r->channels = channels;
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  if (pthread_create(&r->th, NULL, relay_main, r) != 0) {
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    for (int i = 0; i < RELAY_SLOTS; ++i)
      free(r->q[i].buf);
    free(r);
    return SG_E_NOMEM;
  }
  *out = r;
  return SG_OK;
}

/* The next free slot (waiting while the queue is full), or NULL when the block does not fit a
 * slot: then every queued block is run first and the caller runs this one itself. */
static slot *claim(sg__relay *r, size_t floats) {
  pthread_mutex_lock(&r->mu);
  const int fits = floats <= RELAY_CAP;
  while (fits ? r->count == RELAY_SLOTS : r->count > 0)
    pthread_cond_wait(&r->cv, &r->mu);
  pthread_mutex_unlock(&r->mu);
  return fits ? &r->q[r->head] : NULL;
}

static void post(sg__relay *r) {
  pthread_mutex_lock(&r->mu);
  r->head = (r->head + 1) % RELAY_SLOTS;
  r->count++;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

sg_status sg__relay_writer_tap(void *user, const float *x, size_t frames) {
  sg__relay *r = user;
  const size_t floats = frames * r->channels;
  slot *s = claim(r, floats);
  if (!s) {
    sg_status st = r->wfn(r->wuser, x, frames);
    if (st != SG_OK)
      return st;
  } else {
    s->fx = 0;
    s->n = frames;
    memcpy(s->buf, x, floats * sizeof *x);
    post(r);
  }
  pthread_mutex_lock(&r->mu);
  sg_status st = r->wst;
  pthread_mutex_unlock(&r->mu);
  return st;
}

void sg__relay_fx_tap(void *user, int effect, const float *inL, const float *inR, const float *outL,
                      const float *outR, const float *sideL, const float *sideR, size_t n) {
  sg__relay *r = user;
  const int side = sideL && sideR;
  slot *s = claim(r, (side ? 6 : 4) * n);
  if (!s) {
    r->ffn(r->fuser, effect, inL, inR, outL, outR, sideL, sideR, n);
    return;
  }
  s->fx = 1;
  s->effect = effect;
  s->side = side;
  s->n = n;
  const float *src[6] = {inL, inR, outL, outR, sideL, sideR};
  for (int c = 0; c < (side ? 6 : 4); ++c)
    memcpy(s->buf + (size_t)c * n, src[c], n * sizeof(float));
  post(r);
}

void sg__relay_bext_final(void *user, sg_bext *b) {
  sg__relay *r = user;
  pthread_mutex_lock(&r->mu); /* the writer closes: every queued block measured first */
  while (r->count)
    pthread_cond_wait(&r->cv, &r->mu);
  pthread_mutex_unlock(&r->mu);
  if (r->bfn)
    r->bfn(r->wuser, b);
}

sg_status sg__relay_finish(sg__relay *r) {
  if (!r)
    return SG_OK;
  pthread_mutex_lock(&r->mu);
  r->done = 1;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  pthread_join(r->th, NULL);
  sg_status st = r->wst;
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->mu);
  for (int i = 0; i < RELAY_SLOTS; ++i)
    free(r->q[i].buf);
  free(r);
  return st;
}
