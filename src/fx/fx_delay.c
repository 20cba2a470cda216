/* Tempo-synced delay: note values -> exact frames, integer lag, filtered feedback, ping-pong.
 * See include/stemgate/fx.h. */
#include "stemgate/fx.h"

#include "fx/fx_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static long gcdl(long a, long b) {
  while (b) {
    long t = a % b;
    a = b;
    b = t;
  }
  return a;
}

static int parse_uint(const char **p, long *out) {
  const char *s = *p;
  if (!isdigit((unsigned char)*s))
    return 0;
  long v = 0;
  while (isdigit((unsigned char)*s)) {
    v = v * 10 + (*s - '0');
    if (v > 100000)
      return 0;
    ++s;
  }
  *p = s;
  *out = v;
  return 1;
}

sg_status sg_note_value_parse(const char *s, int *num, int *den) {
  if (!s || !num || !den)
    return SG_E_INVAL;
  while (isspace((unsigned char)*s))
    ++s;
  long n, d;
  if (!parse_uint(&s, &n) || *s != '/')
    return SG_E_PARSE;
  ++s;
  if (!parse_uint(&s, &d))
    return SG_E_PARSE;
  if (n < 1 || n > 64 || d < 1 || d > 256)
    return SG_E_PARSE;
  int dots = 0, trip = 0;
  while (*s == '.') {
    ++dots;
    ++s;
  }
  if (*s == 'T' || *s == 't') {
    trip = 1;
    ++s;
  }
  while (isspace((unsigned char)*s))
    ++s;
  if (*s || dots > 2 || (dots && trip))
    return SG_E_PARSE;
  /* dotted: x (2^(k+1) - 1) / 2^k; triplet: x 2/3. */
  if (dots == 1)
    n *= 3, d *= 2;
  else if (dots == 2)
    n *= 7, d *= 4;
  if (trip)
    n *= 2, d *= 3;
  long g = gcdl(n, d);
  *num = (int)(n / g);
  *den = (int)(d / g);
  return SG_OK;
}

double sg_note_value_frames(int num, int den, double bpm, double rate) {
  /* A whole note is 4 quarter notes of 60/bpm seconds. */
  return (double)num / (double)den * 4.0 * 60.0 / bpm * rate;
}

void sg_delay_config_init(sg_delay_config *c) {
  memset(c, 0, sizeof *c);
  strcpy(c->time, "1/8");
  c->bpm = 120;
  c->feedback = 0.35;
  c->mix = 0.25;
  c->lowcut_hz = 100;
  c->highcut_hz = 8000;
  c->pingpong = 0;
  c->max_sec = 4;
}

/* Delay time in frames (exact) from a note value or milliseconds ("250", "250ms"). */
static sg_status time_frames(const char *t, double bpm, double rate, double *out) {
  int num, den;
  if (sg_note_value_parse(t, &num, &den) == SG_OK) {
    *out = sg_note_value_frames(num, den, bpm, rate);
    return SG_OK;
  }
  char *end;
  double ms = strtod(t, &end);
  if (end == t)
    return SG_E_PARSE;
  while (isspace((unsigned char)*end))
    ++end;
  if (*end && strcmp(end, "ms") != 0)
    return SG_E_PARSE;
  if (!(ms > 0))
    return SG_E_PARSE;
  *out = ms * 1e-3 * rate;
  return SG_OK;
}

sg_status sg_delay_init(sg_delay *st, const sg_delay_config *c, double rate) {
  if (!st || !c || !(rate >= 8000.0 && rate <= 384000.0))
    return SG_E_INVAL;
  memset(st, 0, sizeof *st);
  st->cfg = *c;
  st->cfg.time[sizeof st->cfg.time - 1] = 0;
  sg_delay_config *k = &st->cfg;
  k->bpm = sg__clamp(k->bpm, 20, 400);
  k->feedback = sg__clamp(k->feedback, 0, 0.95);
  k->mix = sg__clamp(k->mix, 0, 1);
  k->lowcut_hz = sg__clamp(k->lowcut_hz, 10, 5000);
  k->highcut_hz = sg__clamp(k->highcut_hz, 500, 0.45 * rate);
  k->max_sec = sg__clamp(k->max_sec, 0.01, 30);
  k->pingpong = k->pingpong ? 1 : 0;
  st->rate = rate;
  double fr;
  sg_status s = time_frames(k->time, k->bpm, rate, &fr);
  if (s != SG_OK)
    return s;
  st->lag_exact = fr;
  /* Documented rounding: nearest frame, halves up (15428.571 -> 15429). */
  double lag = floor(fr + 0.5);
  if (lag < 1)
    lag = 1;
  if (lag > k->max_sec * rate)
    lag = floor(k->max_sec * rate);
  st->lag = (size_t)lag;
  st->cap = st->lag;
  int num, den;
  if (k->follow_min_bpm > 0 && sg_note_value_parse(k->time, &num, &den) == SG_OK) {
    /* Memory for the slowest tempo followed (and the start's), +2 for the interpolated read. */
    double slow = sg_note_value_frames(num, den, sg__clamp(k->follow_min_bpm, 20, 400), rate);
    double need = ceil((slow > fr ? slow : fr)) + 2;
    if (need > k->max_sec * rate + 2)
      need = floor(k->max_sec * rate) + 2;
    st->follow = 1;
    st->note_num = num;
    st->note_den = den;
    st->lag_cur = st->lag_target = (double)st->lag;
    st->a_glide = sg_onepole_coef_tau(SG_DELAY_GLIDE_SEC, rate);
    st->cap = (size_t)need;
  }
  st->buf[0] = calloc(st->cap, sizeof(float));
  st->buf[1] = calloc(st->cap, sizeof(float));
  if (!st->buf[0] || !st->buf[1]) {
    sg_delay_free(st);
    return SG_E_NOMEM;
  }
  st->hp_a = sg_onepole_coef_hz(k->lowcut_hz, rate);
  st->lp_a = sg_onepole_coef_hz(k->highcut_hz, rate);
  st->a_smooth = sg_onepole_coef_tau(SG__SMOOTH_SEC, rate);
  st->fb_cur = st->fb_target = k->feedback;
  st->mix_cur = st->mix_target = k->mix;
  return SG_OK;
}

void sg_delay_reset(sg_delay *st) {
  if (st->buf[0])
    memset(st->buf[0], 0, st->cap * sizeof(float));
  if (st->buf[1])
    memset(st->buf[1], 0, st->cap * sizeof(float));
  st->pos = 0;
  memset(st->hp_x, 0, sizeof st->hp_x);
  memset(st->hp_y, 0, sizeof st->hp_y);
  memset(st->lp_y, 0, sizeof st->lp_y);
  st->fb_cur = st->fb_target;
  st->mix_cur = st->mix_target;
  st->lag_cur = st->lag_target = (double)st->lag;
}

void sg_delay_free(sg_delay *st) {
  if (!st)
    return;
  free(st->buf[0]);
  free(st->buf[1]);
  st->buf[0] = st->buf[1] = NULL;
}

void sg_delay_set_bpm(sg_delay *st, double bpm) {
  if (!st->follow || !(bpm > 0))
    return;
  double lag = sg_note_value_frames(st->note_num, st->note_den, sg__clamp(bpm, 20, 400), st->rate);
  if (lag < 1)
    lag = 1;
  if (lag > (double)st->cap - 2)
    lag = (double)st->cap - 2;
  st->lag_target = lag;
}

void sg_delay_set_mix(sg_delay *st, double feedback, double mix) {
  st->fb_target = sg__clamp(feedback, 0, 0.95);
  st->mix_target = sg__clamp(mix, 0, 1);
}

/* Loop filter: one-pole high-pass (low cut) then one-pole low-pass (high cut). */
static double loop_filter(sg_delay *st, int ch, double x) {
  double hp = sg_onepole_hp_tick(&st->hp_x[ch], &st->hp_y[ch], st->hp_a, x);
  return sg_onepole_lp_tick(&st->lp_y[ch], st->lp_a, hp);
}

/* One frame of both delays once the echoes dL, dR are read: the lines written at pos (input plus
 * filtered feedback; ping-pong crosses them) and the output mixed in place. */
static inline void echo_frame(sg_delay *st, float *bl, float *br, size_t pos, double fb, double mix,
                              double dL, double dR, float *L, float *R, size_t i) {
  double xl = L[i], xr = R ? R[i] : xl;
  if (st->cfg.pingpong) {
    /* Mono input enters the left line; each line feeds the other, so echoes alternate. */
    bl[pos] = (float)sg_dsp_flush(0.5 * (xl + xr) + fb * loop_filter(st, 1, dR));
    br[pos] = (float)sg_dsp_flush(fb * loop_filter(st, 0, dL));
  } else {
    /* Recirculating lines are flushed: a fading echo never reaches denormals. */
    bl[pos] = (float)sg_dsp_flush(xl + fb * loop_filter(st, 0, dL));
    br[pos] = (float)sg_dsp_flush(xr + fb * loop_filter(st, 1, dR));
  }
  L[i] = (float)((1 - mix) * xl + mix * dL);
  if (R)
    R[i] = (float)((1 - mix) * xr + mix * dR);
}

/* A following delay: the ring is longer than the lag; the read point trails the write point by
 * the gliding lag, linearly interpolated (exact at an integer lag). */
static void process_follow(sg_delay *st, float *L, float *R, size_t n) {
  const size_t cap = st->cap;
  const double aS = st->a_smooth, fbt = st->fb_target, mxt = st->mix_target;
  const double aG = st->a_glide, lt = st->lag_target;
  double fb = st->fb_cur, mix = st->mix_cur, lag = st->lag_cur;
  size_t pos = st->pos;
  float *bl = st->buf[0], *br = st->buf[1];
  for (size_t i = 0; i < n; ++i) {
    fb = sg_smooth_step(fb, fbt, aS);
    mix = sg_smooth_step(mix, mxt, aS);
    lag = sg_smooth_step(lag, lt, aG);
    double rp = (double)pos - lag;
    if (rp < 0)
      rp += (double)cap;
    size_t i0 = (size_t)rp;
    if (i0 >= cap)
      i0 -= cap;
    double fr = rp - floor(rp);
    size_t i1 = i0 + 1 == cap ? 0 : i0 + 1;
    double dL = bl[i0] + fr * (bl[i1] - bl[i0]), dR = br[i0] + fr * (br[i1] - br[i0]);
    echo_frame(st, bl, br, pos, fb, mix, dL, dR, L, R, i);
    if (++pos == cap)
      pos = 0;
  }
  st->pos = pos;
  st->fb_cur = fb;
  st->mix_cur = mix;
  st->lag_cur = lag;
}

/* Both lines and loop filters zero, feedback, mix and lag settled: an all-zero block gives zeros
 * and leaves them so (the echo and the dry part are zero), so it is skipped. */
static int at_rest(const sg_delay *st, const float *L, const float *R, size_t n) {
  if (st->fb_cur != st->fb_target || st->mix_cur != st->mix_target ||
      (st->follow && st->lag_cur != st->lag_target))
    return 0;
  for (int ch = 0; ch < 2; ++ch)
    if (st->hp_x[ch] != 0 || st->hp_y[ch] != 0 || st->lp_y[ch] != 0)
      return 0;
  return sg__all_zero(L, n) && (!R || sg__all_zero(R, n)) && sg__all_zero(st->buf[0], st->cap) &&
         sg__all_zero(st->buf[1], st->cap);
}

void sg_delay_process(sg_delay *st, float *L, float *R, size_t n) {
  if (at_rest(st, L, R, n)) {
    memset(L, 0, n * sizeof *L);
    if (R)
      memset(R, 0, n * sizeof *R);
    st->pos = (st->pos + n) % st->cap;
    return;
  }
  if (st->follow) {
    process_follow(st, L, R, n);
    return;
  }
  const size_t cap = st->cap;
  const double aS = st->a_smooth, fbt = st->fb_target, mxt = st->mix_target;
  double fb = st->fb_cur, mix = st->mix_cur;
  size_t pos = st->pos;
  float *bl = st->buf[0], *br = st->buf[1];
  for (size_t i = 0; i < n; ++i) {
    fb = sg_smooth_step(fb, fbt, aS);
    mix = sg_smooth_step(mix, mxt, aS);
    /* The ring holds cap = lag frames: the one at pos was written exactly lag frames ago and is
     read before it is overwritten. */
    echo_frame(st, bl, br, pos, fb, mix, bl[pos], br[pos], L, R, i);
    if (++pos == cap)
      pos = 0;
  }
  st->pos = pos;
  st->fb_cur = fb;
  st->mix_cur = mix;
}

double sg_delay_tail_frames(const sg_delay *st) {
  double fb = st->cfg.feedback;
  double lag = st->follow ? (double)st->cap - 2 : (double)st->lag; /* the slowest it may be */
  if (fb <= 1e-6)
    return lag;
  double echoes = ceil(log(1e-3) / log(fb)) + 1;
  return echoes * lag;
}
