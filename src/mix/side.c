/* The master pass's second core: a thread beside the one that mixes and limits takes every block
 * in order, meters it and streams it to the pass's temporary file; on the bus pass it also runs
 * the bus effects' observer (the fx verification's in-situ measurements) on copies of what each
 * effect saw. A ring of SIDE_Q blocks sits between them; the meter and the observer see the same
 * blocks, in the same order and under the same floating-point mode as if they ran inline, so
 * their results are the same bits. Without a thread (pthread_create failed) the work runs
 * inline. */
#include "mix_internal.h"

#include "stemgate/dsp.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SIDE_Q 4
/* Wake-ups in pairs: the thread is woken when two blocks wait for it, the processing thread (when
 * the ring was full) when two slots are free; either one still takes or fills every slot it
 * can without sleeping. Half the hand-overs (each a futex wake and a context switch) for the same
 * work in the same order. */
#define SIDE_WAKE 2

/* One observer call captured on the processing thread: effect, frames, where its copies start
 * in the slot's capture buffer, whether it had a sidechain. */
typedef struct fx_rec {
  int effect, side;
  size_t n, off;
} fx_rec;

typedef struct side_slot {
  float L[SG_MIX_BLOCK], R[SG_MIX_BLOCK];
  size_t n, skip, m;
  float *cap; /* the observer's copies: inL inR outL outR [sideL sideR] per call */
  size_t cap_used;
  fx_rec *rec;
  int n_rec;
} side_slot;

struct sg__side {
  sg__pass_meter *meter;
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
  float il[2 * SG_MIX_BLOCK], mono[SG_MIX_BLOCK], faded[2][SG_MIX_BLOCK];
  int64_t fade_frames, fade_len; /* sg__side_set_fade; fade_frames 0: none */
  int64_t metered;               /* song frames metered so far */
  /* the deferred fx observer (sg__side_defer_fx) */
  sg_fx_tap_fn fx_tap;
  void *fx_user;
  size_t cap_floats;
  int max_rec;
  int reserved;   /* the head slot is reserved for the block being processed */
  sg__out *out;   /* the written master, when the pass streams to it (sg__side_set_out) */
  uint32_t *hist; /* sg__side_set_hist */
  sg__pred *pred; /* sg__side_set_pred */
  sg_diag out_diag;
  int out_failed;
};

/* Capture capacity per slot: every effect sees each block's frames once (in slices of at least
 * SG_MIX_TEMPO_SLICE frames when a chain follows a tempo map), six streams per call at most. */
#define SIDE_MAX_SLICES (SG_MIX_BLOCK / SG_MIX_TEMPO_SLICE + 1)

static void replay_fx(sg__side *s, const side_slot *b) {
  for (int i = 0; i < b->n_rec; ++i) {
    const fx_rec *r = &b->rec[i];
    const float *c = b->cap + r->off;
    const size_t n = r->n;
    s->fx_tap(s->fx_user, r->effect, c, c + n, c + 2 * n, c + 3 * n, r->side ? c + 4 * n : NULL,
              r->side ? c + 5 * n : NULL, n);
  }
}

/* What the thread does with one block. */
static sg_status side_work(sg__side *s, const side_slot *b) {
  if (s->fx_tap)
    replay_fx(s, b);
  if (s->f && s->mode == SG__SIDE_PLANAR &&
      (fwrite(b->L, sizeof(float), b->n, s->f) != b->n ||
       fwrite(b->R, sizeof(float), b->n, s->f) != b->n)) {
    s->err_io = errno ? errno : EIO;
    return SG_E_IO;
  }
  if (s->pred)
    sg__pred_block(s->pred, b->L, b->R, b->n);
  if (b->m == 0)
    return SG_OK;
  const float *L = b->L + b->skip, *R = b->R + b->skip;
  if (s->f && s->mode == SG__SIDE_INTERLEAVED) {
    for (size_t k = 0; k < b->m; ++k) {
      s->il[2 * k] = L[k];
      s->il[2 * k + 1] = R[k];
    }
    if (fwrite(s->il, 2 * sizeof(float), b->m, s->f) != b->m) {
      s->err_io = errno ? errno : EIO;
      return SG_E_IO;
    }
  }
  sg_status st = SG_OK;
  if (s->pred)
    sg__pred_add(s->pred, L, R, b->m);
  if (s->hist)
    for (size_t k = 0; k < b->m; ++k) {
      float a = fabsf(L[k]), c = fabsf(R[k]);
      a = a > c ? a : c;
      uint32_t u;
      memcpy(&u, &a, sizeof u);
      s->hist[(u >> 18) & (SG__PEAK_BINS - 1)]++;
    }
  if (s->meter) {
    /* Within the end fade the meter takes the frames as the writer fades them (sg__out_write:
     * the same gains, the same products); before it, as they are. */
    const int fade = s->fade_frames && s->metered + (int64_t)b->m > s->fade_frames - s->fade_len;
    const float *ch[2] = {L, R};
    if (fade && s->channels == 2) {
      for (size_t k = 0; k < b->m; ++k) {
        const float g = sg__end_fade_gain(s->fade_frames, s->fade_len, s->metered + (int64_t)k);
        s->faded[0][k] = L[k] * g;
        s->faded[1][k] = R[k] * g;
      }
      ch[0] = s->faded[0], ch[1] = s->faded[1];
    } else if (s->channels != 2) {
      for (size_t k = 0; k < b->m; ++k)
        s->mono[k] = sg__out_mono(
            L[k], R[k],
            fade ? sg__end_fade_gain(s->fade_frames, s->fade_len, s->metered + (int64_t)k) : 1.0f);
      ch[0] = s->mono;
    }
    st = sg__pass_meter_add(s->meter, ch, b->m);
  }
  s->metered += (int64_t)b->m;
  if (st == SG_OK && s->out && (st = sg__out_write(s->out, L, R, b->m, &s->out_diag)) != SG_OK)
    s->out_failed = 1;
  return st;
}

void sg__side_set_out(sg__side *s, sg__out *o) { s->out = o; }
void sg__side_set_hist(sg__side *s, uint32_t *hist) { s->hist = hist; }
void sg__side_set_fade(sg__side *s, int64_t frames, int64_t len) {
  s->fade_frames = frames;
  s->fade_len = len;
}
void sg__side_set_pred(sg__side *s, sg__pred *p) { s->pred = p; }

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
    if (s->st != SG_OK || s->head - s->tail <= SIDE_Q - SIDE_WAKE)
      pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
  }
}

sg_status sg__side_start(sg__side **out, sg__pass_meter *meter, FILE *f, int mode,
                         unsigned channels, sg_diag *d) {
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

sg_status sg__side_defer_fx(sg__side *s, sg_fx_tap_fn fn, void *user, int n_fx, sg_diag *d) {
  if (!fn || n_fx <= 0)
    return SG_OK;
  s->cap_floats = (size_t)n_fx * 6 * SG_MIX_BLOCK;
  s->max_rec = n_fx * SIDE_MAX_SLICES;
  for (int k = 0; k < SIDE_Q; ++k) {
    side_slot *b = &s->q[k];
    b->cap = malloc(s->cap_floats * sizeof *b->cap);
    b->rec = malloc((size_t)s->max_rec * sizeof *b->rec);
    if (!b->cap || !b->rec)
      return sg_diag_fail(d, SG_E_NOMEM, "master: out of memory");
  }
  s->fx_tap = fn;
  s->fx_user = user;
  return SG_OK;
}

/* The slot the next block goes to, once the thread is done with it. */
static sg_status reserve(sg__side *s, side_slot **out) {
  if (!s->threaded) {
    *out = &s->q[0];
    return s->st;
  }
  if (!s->reserved) {
    pthread_mutex_lock(&s->lock);
    while (s->st == SG_OK && s->head - s->tail >= SIDE_Q)
      pthread_cond_wait(&s->cond, &s->lock);
    sg_status st = s->st;
    pthread_mutex_unlock(&s->lock);
    if (st != SG_OK)
      return st;
    s->reserved = 1;
    s->q[s->head % SIDE_Q].n_rec = 0;
    s->q[s->head % SIDE_Q].cap_used = 0;
  }
  *out = &s->q[s->head % SIDE_Q];
  return SG_OK;
}

sg_status sg__side_reserve(sg__side *s) {
  side_slot *b;
  return reserve(s, &b);
}

void sg__side_fx_tap(void *user, int effect, const float *inL, const float *inR, const float *outL,
                     const float *outR, const float *sideL, const float *sideR, size_t n) {
  sg__side *s = user;
  if (!s->threaded) { /* inline: observed at once, as without the side */
    s->fx_tap(s->fx_user, effect, inL, inR, outL, outR, sideL, sideR, n);
    return;
  }
  side_slot *b;
  if (reserve(s, &b) != SG_OK)
    return;
  const int side = sideL && sideR;
  const size_t need = (size_t)(side ? 6 : 4) * n;
  if (b->n_rec >= s->max_rec || b->cap_used + need > s->cap_floats) {
    pthread_mutex_lock(&s->lock); /* cannot happen (see SIDE_MAX_SLICES); never silently */
    if (s->st == SG_OK)
      s->st = SG_E_INTERNAL;
    pthread_mutex_unlock(&s->lock);
    return;
  }
  float *c = b->cap + b->cap_used;
  const float *src[6] = {inL, inR, outL, outR, sideL, sideR};
  for (int j = 0; j < (side ? 6 : 4); ++j)
    memcpy(c + (size_t)j * n, src[j], n * sizeof *c);
  b->rec[b->n_rec++] = (fx_rec){effect, side, n, b->cap_used};
  b->cap_used += need;
}

sg_status sg__side_push(sg__side *s, const float *L, const float *R, size_t n, size_t skip,
                        size_t m) {
  side_slot *b;
  sg_status rs = reserve(s, &b);
  if (rs != SG_OK)
    return rs;
  memcpy(b->L, L, n * sizeof *L);
  memcpy(b->R, R, n * sizeof *R);
  b->n = n;
  b->skip = skip;
  b->m = m;
  if (!s->threaded) {
    b->n_rec = 0; /* observed inline already */
    return s->st = side_work(s, b);
  }
  pthread_mutex_lock(&s->lock);
  s->reserved = 0;
  s->head++;
  if (s->head - s->tail >= SIDE_WAKE)
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
  if (s->out_failed) { /* the writer's own description: its file, its tap */
    if (d)
      *d = s->out_diag;
    return st;
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
  for (int k = 0; k < SIDE_Q; ++k) {
    free(s->q[k].cap);
    free(s->q[k].rec);
  }
  free(s);
}

/* ---- the pass meter ---------------------------------------------------------------------- */

sg_status sg__pass_meter_init(sg__pass_meter *m, unsigned channels, unsigned rate, int true_peak) {
  if (channels < 1 || channels > 2)
    return SG_E_INVAL;
  m->channels = channels;
  m->tp_on = true_peak;
  sg__loud_init(&m->loud, channels, rate);
  if (true_peak) {
    sg_truepeak_config tc;
    sg_truepeak_config_init(&tc); /* sg_meter's: 4x below 96 kHz, 2x below 192 kHz */
    for (unsigned c = 0; c < channels; ++c) {
      sg_status st = sg_truepeak_init(&m->tp[c], &tc, rate);
      if (st != SG_OK) {
        sg__loud_free(&m->loud);
        return st;
      }
      sg_truepeak_reset(&m->tp[c]);
    }
  }
  return SG_OK;
}

/* Whether any of x[0..n) is not finite (exponent bits all set; a bit test that vectorises). */
static int any_nonfinite(const float *x, size_t n) {
  uint32_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t b;
    memcpy(&b, &x[i], sizeof b);
    bad |= (uint32_t)((b & 0x7f800000u) == 0x7f800000u);
  }
  return bad != 0;
}

sg_status sg__pass_meter_add(sg__pass_meter *m, const float *const *ch, size_t n) {
  const float *p[2] = {ch[0], m->channels > 1 ? ch[1] : NULL};
  for (size_t off = 0; off < n;) {
    size_t k = n - off < SG_MIX_BLOCK ? n - off : SG_MIX_BLOCK;
    const float *q[2];
    for (unsigned c = 0; c < m->channels; ++c) {
      q[c] = p[c] + off;
      if (any_nonfinite(q[c], k)) {
        for (size_t i = 0; i < k; ++i)
          m->zero[c][i] = isfinite(q[c][i]) ? q[c][i] : 0.0f;
        q[c] = m->zero[c];
      }
    }
    if (m->tp_on)
      for (unsigned c = 0; c < m->channels; ++c)
        sg_truepeak_process(&m->tp[c], q[c], 1, k);
    if (sg__loud_add(&m->loud, q, 1, k) != SG_OK)
      return SG_E_NOMEM;
    off += k;
  }
  return SG_OK;
}

void sg__pass_meter_get(const sg__pass_meter *m, double *lufs, double *tp_dbtp) {
  *lufs = sg__loud_integrated(&m->loud);
  double tp = 0;
  for (unsigned c = 0; m->tp_on && c < m->channels; ++c) {
    double v = sg_truepeak_value(&m->tp[c]);
    tp = v > tp ? v : tp;
  }
  if (tp_dbtp)
    *tp_dbtp = m->tp_on && tp > 0 ? 20.0 * log10(tp) : SG_SILENCE_DB;
}

void sg__pass_meter_free(sg__pass_meter *m) {
  if (m)
    sg__loud_free(&m->loud);
}
