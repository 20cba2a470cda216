/* Modulation: chorus, flanger and phaser move their spectral notches (a steady sine's level
 * swings as notches sweep past it; without modulation it stays constant), the phaser's notch
 * sits where the allpass cascade's phase reaches 180 degrees, stereo spread, and the usual
 * denormal / reset checks. */
#include "sg_test.h"

#include "fx/fx_internal.h"
#include "fx_test_util.h"
#include "stemgate/fx.h"

#include <stdio.h>

#define RATE 48000.0

/* Range in dB of the 10 ms RMS envelope of the processed channel over [skip, n). */
static double envelope_range_db(const float *x, size_t n, size_t skip) {
  double lo = 1e9, hi = 0;
  for (size_t i = skip; i + 480 <= n; i += 480) {
    double r = fxt_rms(x + i, 480);
    lo = fmin(lo, r), hi = fmax(hi, r);
  }
  return 20 * log10(hi / fmax(lo, 1e-12));
}

static double chorus_range(const sg_chorus_config *c, double f, float *Rout_range) {
  sg_chorus st;
  assert_int_equal(sg_chorus_init(&st, c, RATE), SG_OK);
  size_t n = (size_t)(4 * RATE);
  float *L = fxt_alloc(n), *R = fxt_alloc(n);
  fxt_sine(L, n, 0.5, f, RATE, 0);
  memcpy(R, L, n * sizeof(float));
  sg_chorus_process(&st, L, R, n);
  assert_true(fxt_all_finite(L, n) && fxt_all_finite(R, n));
  double r = envelope_range_db(L, n, 4800);
  if (Rout_range) {
    double d = 0;
    for (size_t i = 0; i < n; ++i)
      d = fmax(d, fabs(L[i] - R[i]));
    *Rout_range = (float)d;
  }
  sg_chorus_free(&st);
  free(L), free(R);
  return r;
}

static void chorus_and_flanger_modulate(void **state) {
  (void)state;
  sg_chorus_config c;
  sg_chorus_config_init(&c);
  c.voices = 1, c.rate_hz = 1.0, c.depth_ms = 2.0, c.mix = 0.5;
  float lr;
  double moving = chorus_range(&c, 1000, &lr);
  c.depth_ms = 0;
  double fixed = chorus_range(&c, 1000, NULL);
  printf("chorus: 1 kHz level swing %.1f dB with depth 2 ms, %.3f dB with depth 0; L-R %.3f\n",
         moving, fixed, lr);
  assert_true(moving > 10.0);
  assert_true(fixed < 0.1);
  assert_true(lr > 0.1); /* spread: the right LFO is 90 degrees apart */
  sg_flanger_config_init(&c);
  c.rate_hz = 0.5;
  double fl = chorus_range(&c, 3000, NULL);
  printf("flanger: 3 kHz level swing %.1f dB\n", fl);
  assert_true(fl > 10.0);
  /* Several voices still sweep but, being averaged, swing less deeply. */
  sg_chorus_config_init(&c);
  c.voices = 3;
  double v3 = chorus_range(&c, 1000, NULL);
  assert_true(v3 > 1.0);
}

static void phaser_notch_moves(void **state) {
  (void)state;
  sg_phaser_config c;
  sg_phaser_config_init(&c);
  c.rate_hz = 0.5, c.feedback = 0, c.mix = 0.5, c.stages = 4, c.min_hz = 300, c.max_hz = 3000;
  size_t n = (size_t)(4 * RATE);
  float *L = fxt_alloc(n), *R = fxt_alloc(n);
  fxt_sine(L, n, 0.5, 1000, RATE, 0);
  memcpy(R, L, n * sizeof(float));
  sg_phaser st;
  assert_int_equal(sg_phaser_init(&st, &c, RATE), SG_OK);
  sg_phaser_process(&st, L, R, n);
  double moving = envelope_range_db(L, n, 4800);
  /* Static: a first-order allpass with break frequency f_b has phase
   * -2 atan(tan(pi f/fs) / tan(pi f_b/fs)); four of them reach -180 degrees (the notch, with
   * mix 0.5) where each gives -45 degrees: tan(pi f/fs) / tan(pi f_b/fs) = tan(pi/8). Placing
   * f_b there must cancel the 1 kHz sine. */
  double fb = RATE / SG_PI * atan(tan(SG_PI * 1000 / RATE) / tan(SG_PI / 8));
  c.min_hz = c.max_hz = fb;
  assert_int_equal(sg_phaser_init(&st, &c, RATE), SG_OK);
  fxt_sine(L, n, 0.5, 1000, RATE, 0);
  memcpy(R, L, n * sizeof(float));
  sg_phaser_process(&st, L, R, n);
  double fixed = envelope_range_db(L, n, 4800);
  double notch = 20 * log10(fxt_rms(L + n / 2, 48000) / (0.5 / sqrt(2.0)));
  printf("phaser: level swing %.1f dB sweeping, %.3f dB fixed; 1 kHz level with the notch tuned to "
         "it %.1f dB\n",
         moving, fixed, notch);
  assert_true(moving > 20.0);
  assert_true(fixed < 0.1);
  assert_true(notch < -40.0);
  free(L), free(R);
}

/* |Y(f)/X(f)| of one Hann-windowed frame (the phaser is nearly time-invariant over a frame). */
static double frame_gain(const float *x, const float *y, size_t n, double f) {
  double xr = 0, xi = 0, yr = 0, yi = 0;
  for (size_t i = 0; i < n; ++i) {
    double w = 0.5 - 0.5 * cos(2 * SG_PI * (double)i / (double)(n - 1));
    double a = 2 * SG_PI * f * (double)i / RATE, c = cos(a), s = sin(a);
    xr += w * x[i] * c, xi += w * x[i] * s, yr += w * y[i] * c, yi += w * y[i] * s;
  }
  return sqrt((yr * yr + yi * yi) / (xr * xr + xi * xi + 1e-30));
}

/* Frequency of the smallest |Y/X| on a fine log grid within [lo, hi]. */
static double find_notch(const float *x, const float *y, size_t n, double lo, double hi) {
  double best = 1e9, bf = lo;
  for (double f = lo; f <= hi; f *= 1.01) {
    double g = frame_gain(x, y, n, f);
    if (g < best)
      best = g, bf = f;
  }
  return bf;
}

static void phaser_notch_follows_lfo(void **state) {
  (void)state;
  /* White noise through a 4-stage phaser (mix 0.5, no feedback). The lower notch sits where
   * each allpass gives -45 degrees: f = fs/pi atan(tan(pi f_b/fs) tan(pi/8)), with the break
   * frequency f_b = min (max/min)^(0.5 + 0.5 sin(2 pi phase)) following the LFO. */
  sg_phaser_config c;
  sg_phaser_config_init(&c);
  c.rate_hz = 0.2, c.feedback = 0, c.mix = 0.5, c.stages = 4, c.min_hz = 300, c.max_hz = 3000;
  sg_phaser st;
  assert_int_equal(sg_phaser_init(&st, &c, RATE), SG_OK);
  size_t n = (size_t)(4 * RATE), fr = 8192;
  float *x = fxt_alloc(n), *y = fxt_alloc(n);
  sg_rng rng;
  sg_rng_seed(&rng, 31337, 4);
  for (size_t i = 0; i < n; ++i)
    x[i] = y[i] = (float)sg_rng_range(&rng, -0.5, 0.5);
  sg_phaser_process(&st, y, NULL, n);
  const double at[2] = {1.25, 3.75}; /* LFO phase 0.25 (top) and 0.75 (bottom) */
  double measured[2];
  for (int k = 0; k < 2; ++k) {
    size_t c0 = (size_t)(at[k] * RATE) - fr / 2;
    double lfo = 0.5 + 0.5 * sin(2 * SG_PI * c.rate_hz * at[k]);
    double fb = c.min_hz * pow(c.max_hz / c.min_hz, lfo);
    double want = RATE / SG_PI * atan(tan(SG_PI * fb / RATE) * tan(SG_PI / 8));
    measured[k] = find_notch(x + c0, y + c0, fr, 0.25 * fb, 0.7 * fb);
    printf("phaser at %.2f s: break %.0f Hz, lower notch %.1f Hz (theory %.1f)\n", at[k], fb,
           measured[k], want);
    assert_true(fabs(measured[k] / want - 1) < 0.1);
  }
  assert_true(measured[0] / measured[1] > 5.0); /* the notch moved with the LFO */
  free(x), free(y);
}

static void silence_after_loud_and_reset(void **state) {
  (void)state;
  size_t n = 48000;
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *L2 = fxt_alloc(n), *R2 = fxt_alloc(n);
  sg_rng rng;
  sg_rng_seed(&rng, 77, 1);
  for (size_t i = 0; i < 4800; ++i)
    L[i] = (float)sg_rng_range(&rng, -1, 1), R[i] = (float)sg_rng_range(&rng, -1, 1);
  L[20000] = 1e-40f;
  memcpy(L2, L, n * sizeof(float));
  memcpy(R2, R, n * sizeof(float));
  sg_chorus_config cc;
  sg_flanger_config_init(&cc);
  cc.feedback = 0.9;
  sg_chorus ch;
  assert_int_equal(sg_chorus_init(&ch, &cc, RATE), SG_OK);
  sg_phaser_config pc;
  sg_phaser_config_init(&pc);
  pc.feedback = 0.9;
  sg_phaser ph;
  assert_int_equal(sg_phaser_init(&ph, &pc, RATE), SG_OK);
  sg_chorus_process(&ch, L, R, n);
  sg_phaser_process(&ph, L, R, n);
  assert_true(fxt_all_finite(L, n) && fxt_all_finite(R, n));
  sg_chorus_reset(&ch);
  sg_phaser_reset(&ph);
  /* Same input in different block sizes: bit-identical (control blocks count from reset). */
  sg_chorus_process(&ch, L2, R2, 1001);
  sg_chorus_process(&ch, L2 + 1001, R2 + 1001, n - 1001);
  sg_phaser_process(&ph, L2, R2, 1001);
  sg_phaser_process(&ph, L2 + 1001, R2 + 1001, n - 1001);
  assert_memory_equal(L, L2, n * sizeof(float));
  assert_memory_equal(R, R2, n * sizeof(float));
  sg_chorus_free(&ch);
  free(L), free(R), free(L2), free(R2);
}

/* The chorus frame by frame as the plain recursion (write, then each voice's cubic read, in
 * voice order), on the state of a second, identically initialised unit. */

static void ref_chorus(sg_chorus *st, float *L, float *R, size_t n) {
  const sg_chorus_config *c = &st->cfg;
  const size_t mask = st->cap - 1;
  const int V = c->voices;
  const double base = c->delay_ms * 1e-3 * st->rate, depth = c->depth_ms * 1e-3 * st->rate;
  for (size_t t = 0; t < n; ++t) {
    const double lc = st->lfo_c, ls = st->lfo_s;
    double nc = lc * st->rot_c - ls * st->rot_s;
    st->lfo_s = lc * st->rot_s + ls * st->rot_c;
    st->lfo_c = nc;
    if ((++st->count & 1023u) == 0) {
      double g = sqrt(st->lfo_c * st->lfo_c + st->lfo_s * st->lfo_s);
      st->lfo_c /= g, st->lfo_s /= g;
    }
    for (int ch = 0; ch < 2; ++ch) {
      float *x = ch ? R : L;
      const double in = x[t];
      st->buf[ch][st->pos] = (float)(in + c->feedback * st->fb_state[ch]);
      double wet = 0;
      for (int v = 0; v < V; ++v) {
        double ph = 2 * SG_PI * ((double)v / V + (ch ? 0.25 * c->spread : 0.0));
        double d = base + depth * (ls * cos(ph) + lc * sin(ph));
        double y = sg__read_frac(st->buf[ch], mask, st->pos, d < 1.0 ? 1.0 : d);
        if (v == 0)
          st->fb_state[ch] = sg_dsp_flush(y);
        wet += y;
      }
      wet = wet / V;
      x[t] = (float)((1 - st->mix_target) * in + st->mix_target * wet);
    }
    st->pos = (st->pos + 1) & mask;
  }
}

/* Long delays (every read of a run before the run: reads first, then writes) and a flanger's
 * short ones (frame by frame) give the plain recursion's bits, with feedback, 2 to 4 voices. */
static void chorus_equals_recursion(void **state) {
  (void)state;
  const size_t n = 30000;
  float *L = fxt_alloc(n), *R = fxt_alloc(n), *L2 = fxt_alloc(n), *R2 = fxt_alloc(n);
  for (int cfg = 0; cfg < 3; ++cfg) {
    sg_chorus_config c;
    if (cfg == 2)
      sg_flanger_config_init(&c);
    else
      sg_chorus_config_init(&c);
    c.voices = cfg == 0 ? 4 : cfg == 1 ? 3 : 1;
    c.feedback = cfg == 1 ? 0.4 : c.feedback;
    c.depth_ms = cfg == 0 ? 3 : c.depth_ms;
    sg_rng rng;
    sg_rng_seed(&rng, 13, (uint64_t)cfg);
    for (size_t i = 0; i < n; ++i)
      L[i] = L2[i] = (float)sg_rng_range(&rng, -1, 1), R[i] = R2[i] = L[i] * -0.5f;
    sg_chorus a, b;
    assert_int_equal(sg_chorus_init(&a, &c, 48000), SG_OK);
    assert_int_equal(sg_chorus_init(&b, &c, 48000), SG_OK);
    for (size_t i = 0, m = 1000; i < n; i += m)
      sg_chorus_process(&a, L + i, R + i, n - i < m ? n - i : m);
    ref_chorus(&b, L2, R2, n);
    assert_memory_equal(L, L2, n * sizeof(float));
    assert_memory_equal(R, R2, n * sizeof(float));
    sg_chorus_free(&a);
    sg_chorus_free(&b);
  }
  free(L), free(R), free(L2), free(R2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(chorus_and_flanger_modulate), cmocka_unit_test(phaser_notch_moves),
      cmocka_unit_test(phaser_notch_follows_lfo),    cmocka_unit_test(silence_after_loud_and_reset),
      cmocka_unit_test(chorus_equals_recursion),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
