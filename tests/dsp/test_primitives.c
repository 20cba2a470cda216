/* DSP primitives against theory: biquad magnitude vs the analytic RBJ prototype, one-pole and
 * DC blocker vs their transfer functions, smoother time constant, limiter core never above its
 * threshold, true-peak detector on a known inter-sample peak; the detector's shortcuts (blocks
 * that cannot beat the running peak, frames proven below the limiter's threshold) give exactly
 * the full computation's values; the true-peak guard holds the meters' reading under its
 * threshold and is a pure delay below it. Tolerances at each assertion; failures print measured vs
 * limit. */
#include "sg_test.h"
#include "stemgate/dsp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000.0

/* Steady-state gain in dB of a per-sample filter on a sine at f: RMS of the output over the
 * last whole cycles after 2 s of settling, against the input RMS. */
typedef double (*tick_fn)(void *st, double x);

static double sine_gain_db(tick_fn fn, void *st, double f) {
  const int settle = (int)(2 * RATE), cycles = 50;
  int len = (int)(cycles * RATE / f + 0.5);
  double si = 0, so = 0;
  for (int i = 0; i < settle + len; ++i) {
    double x = sin(2 * SG_PI * f * i / RATE), y = fn(st, x);
    if (i >= settle)
      si += x * x, so += y * y;
  }
  return 10 * log10(so / si);
}

static double bq_tick(void *st, double x) { return sg_biquad_tick((sg_biquad *)st, x); }
static double dc_tick(void *st, double x) { return sg_dc_blocker_tick((sg_dc_blocker *)st, x); }

typedef struct {
  double a, y;
} lp_state;
static double lp_tick(void *st, double x) {
  lp_state *s = st;
  return sg_onepole_lp_tick(&s->y, s->a, x);
}

/* |H(jW)|^2 of H(s) = (n2 s^2 + n1 s + n0) / (d2 s^2 + d1 s + d0). */
static double proto_mag2(double n2, double n1, double n0, double d2, double d1, double d0,
                         double W) {
  double nr = n0 - n2 * W * W, ni = n1 * W, dr = d0 - d2 * W * W, di = d1 * W;
  return (nr * nr + ni * ni) / (dr * dr + di * di);
}

/* The cookbook's analog prototypes at the bilinear-warped frequency: an independent path from
 * the coefficient formulas. */
static double rbj_analytic_db(sg_biquad_type t, double f0, double q, double gain_db, double f) {
  double W = tan(SG_PI * f / RATE) / tan(SG_PI * f0 / RATE);
  double A = pow(10.0, gain_db / 40.0), sA = sqrt(A), m2;
  switch (t) {
  case SG_BIQUAD_LOWPASS:
    m2 = proto_mag2(0, 0, 1, 1, 1 / q, 1, W);
    break;
  case SG_BIQUAD_HIGHPASS:
    m2 = proto_mag2(1, 0, 0, 1, 1 / q, 1, W);
    break;
  case SG_BIQUAD_BANDPASS:
    m2 = proto_mag2(0, 1 / q, 0, 1, 1 / q, 1, W);
    break;
  case SG_BIQUAD_NOTCH:
    m2 = proto_mag2(1, 0, 1, 1, 1 / q, 1, W);
    break;
  case SG_BIQUAD_PEAK:
    m2 = proto_mag2(1, A / q, 1, 1, 1 / (A * q), 1, W);
    break;
  case SG_BIQUAD_LOWSHELF:
    m2 = A * A * proto_mag2(1, sA / q, A, A, sA / q, 1, W);
    break;
  default:
    m2 = A * A * proto_mag2(A, sA / q, 1, 1, sA / q, A, W);
    break;
  }
  return 10 * log10(m2 > 1e-30 ? m2 : 1e-30);
}

static void biquad_matches_rbj_analytic(void **state) {
  (void)state;
  static const double freqs[] = {50, 200, 1000, 3000, 8000, 15000};
  double worst_coef = 0, worst_run = 0;
  for (int t = 0; t < SG_BIQUAD_TYPE_COUNT_; ++t) {
    sg_biquad_coefs c;
    assert_int_equal(sg_biquad_design((sg_biquad_type)t, 1000, 1.2, 6, RATE, &c), SG_OK);
    for (size_t k = 0; k < sizeof freqs / sizeof *freqs; ++k) {
      double want = rbj_analytic_db((sg_biquad_type)t, 1000, 1.2, 6, freqs[k]);
      double got = sg_biquad_coefs_mag_db(&c, freqs[k], RATE);
      if (want > -60) /* deep stopband: both are tiny numbers, compare only above -60 dB */
        worst_coef = fmax(worst_coef, fabs(got - want));
      if (want > -40) { /* run the filter: float I/O limits the resolvable depth */
        sg_biquad b;
        sg_biquad_init(&b, &c);
        double run = sine_gain_db(bq_tick, &b, freqs[k]);
        worst_run = fmax(worst_run, fabs(run - want));
      }
    }
  }
  printf("biquad: |H| coefs vs analytic worst %.2e dB (limit 1e-6), filtered sine worst %.4f dB "
         "(limit 0.02)\n",
         worst_coef, worst_run);
  assert_true(worst_coef < 1e-6);
  assert_true(worst_run < 0.02);
}

static void first_order_is_3db_at_cutoff(void **state) {
  (void)state;
  sg_biquad_coefs lp, hp;
  sg_biquad_design_first_order(0, 2000, RATE, &lp);
  sg_biquad_design_first_order(1, 2000, RATE, &hp);
  double l = sg_biquad_coefs_mag_db(&lp, 2000, RATE), h = sg_biquad_coefs_mag_db(&hp, 2000, RATE);
  printf("first order at fc: lp %.4f hp %.4f dB (want -3.0103 +-0.001)\n", l, h);
  assert_true(fabs(l + 3.0103) < 1e-3 && fabs(h + 3.0103) < 1e-3);
}

static void biquad_process_equals_tick(void **state) {
  (void)state;
  sg_biquad_coefs c;
  sg_biquad_design(SG_BIQUAD_PEAK, 700, 2, -9, RATE, &c);
  sg_biquad a, b;
  sg_biquad_init(&a, &c);
  sg_biquad_init(&b, &c);
  float x[1000], y[1000];
  for (int i = 0; i < 1000; ++i)
    x[i] = (float)sin(i * 0.37) * 0.5f;
  sg_biquad_process(&a, x, y, 1000);
  for (int i = 0; i < 1000; ++i) /* block and per-sample paths: the same arithmetic, exactly */
    assert_true(y[i] == (float)sg_biquad_tick(&b, x[i]));
}

static void biquad_run2_equals_run_per_channel(void **state) {
  (void)state;
  sg_biquad_coefs c;
  sg_biquad_design(SG_BIQUAD_HIGHPASS, 90, 0.7, 0, RATE, &c);
  float l[1000], r[1000], l1[1000], r1[1000];
  for (int i = 0; i < 1000; ++i) {
    l[i] = l1[i] = (float)sin(i * 0.37) * 0.5f;
    r[i] = r1[i] = (float)cos(i * 0.11) * 0.3f;
  }
  double zl[2] = {0.01, -0.02}, zr[2] = {-0.03, 0.005}, zl1[2], zr1[2];
  memcpy(zl1, zl, sizeof zl);
  memcpy(zr1, zr, sizeof zr);
  sg_biquad_run2(&c, zl, zr, l, r, 1000);
  sg_biquad_run(&c, zl1, l1, l1, 1000);
  sg_biquad_run(&c, zr1, r1, r1, 1000);
  for (int i = 0; i < 1000; ++i) /* interleaved and one channel at a time: the same bits */
    assert_true(memcmp(&l[i], &l1[i], 4) == 0 && memcmp(&r[i], &r1[i], 4) == 0);
  assert_true(memcmp(zl, zl1, sizeof zl) == 0 && memcmp(zr, zr1, sizeof zr) == 0);
  assert_true(l[999] != r[999]); /* the channels were really different */
}

/* The cascaded pair kernels against the sections one after the other (in place, so the float
 * between them is in both): the same output and state bits, mono and stereo. */
static void biquad_pairs_equal_sections_in_turn(void **state) {
  (void)state;
  sg_biquad_coefs c[2];
  sg_biquad_design(SG_BIQUAD_LOWPASS, 8000, 0.54, 0, RATE, &c[0]);
  sg_biquad_design(SG_BIQUAD_LOWPASS, 8000, 1.31, 0, RATE, &c[1]);
  float l[1000], r[1000], l1[1000], r1[1000];
  for (int i = 0; i < 1000; ++i) {
    l[i] = l1[i] = (float)sin(i * 0.37) * 0.5f;
    r[i] = r1[i] = (float)cos(i * 0.11) * 0.3f;
  }
  double zl[2][2] = {{0.01, -0.02}, {0.003, 0.001}}, zr[2][2] = {{-0.03, 0.005}, {0.02, -0.01}};
  double zl1[2][2], zr1[2][2], zm[2][2];
  memcpy(zl1, zl, sizeof zl);
  memcpy(zr1, zr, sizeof zr);
  memcpy(zm, zl, sizeof zl);
  float m[1000];
  memcpy(m, l, sizeof m);
  sg_biquad_run2_pair(c, zl, zr, l, r, 1000);
  sg_biquad_run_pair(c, zm, m, 1000);
  for (int s = 0; s < 2; ++s) {
    sg_biquad_run(&c[s], zl1[s], l1, l1, 1000);
    sg_biquad_run(&c[s], zr1[s], r1, r1, 1000);
  }
  assert_true(memcmp(l, l1, sizeof l) == 0 && memcmp(r, r1, sizeof r) == 0);
  assert_true(memcmp(m, l1, sizeof m) == 0);
  assert_true(memcmp(zl, zl1, sizeof zl) == 0 && memcmp(zr, zr1, sizeof zr) == 0);
  assert_true(memcmp(zm, zl1, sizeof zm) == 0);
  assert_true(l[999] != r[999] && l[999] != (float)sin(999 * 0.37) * 0.5f); /* it filtered */
}

static void onepole_lowpass_matches_transfer_function(void **state) {
  (void)state;
  static const double freqs[] = {20, 300, 1000, 5000, 15000};
  double a = sg_onepole_coef_hz(1000, RATE), worst = 0;
  for (size_t k = 0; k < sizeof freqs / sizeof *freqs; ++k) {
    double w = 2 * SG_PI * freqs[k] / RATE;
    /* H = (1 - a) / (1 - a e^-jw) */
    double den = 1 - 2 * a * cos(w) + a * a, want = 10 * log10((1 - a) * (1 - a) / den);
    lp_state s = {a, 0};
    worst = fmax(worst, fabs(sine_gain_db(lp_tick, &s, freqs[k]) - want));
  }
  printf("one-pole LP vs transfer function: worst %.5f dB (limit 0.005)\n", worst);
  assert_true(worst < 0.005);
}

static void dc_blocker_removes_dc_and_passes_audio(void **state) {
  (void)state;
  sg_dc_blocker d;
  double r = sg_dc_blocker_pole(5.0, RATE);
  sg_dc_blocker_init(&d, r);
  /* DC: a unit step decays as r^n; after 2 s (~63 time constants at 5 Hz) it is gone. */
  double y = 0;
  for (int i = 0; i < (int)(2 * RATE); ++i)
    y = sg_dc_blocker_tick(&d, 1.0);
  printf("dc blocker: step residue after 2 s %.2e (limit 1e-20)\n", fabs(y));
  assert_true(fabs(y) < 1e-20);
  /* Passband: |H| = |1 - e^-jw| / |1 - r e^-jw| at 20 Hz, 100 Hz, 1 kHz. */
  static const double freqs[] = {20, 100, 1000};
  for (size_t k = 0; k < 3; ++k) {
    double w = 2 * SG_PI * freqs[k] / RATE;
    double want = 10 * log10((2 - 2 * cos(w)) / (1 - 2 * r * cos(w) + r * r));
    sg_dc_blocker_reset(&d);
    double got = sine_gain_db(dc_tick, &d, freqs[k]);
    printf("dc blocker at %g Hz: %.4f dB, theory %.4f (limit +-0.005)\n", freqs[k], got, want);
    assert_true(fabs(got - want) < 0.005);
  }
  assert_true(rbj_analytic_db(SG_BIQUAD_PEAK, 1000, 1, 0, 1000) == 0); /* sanity of helper */
}

static void smoother_time_constant(void **state) {
  (void)state;
  sg_smoother s;
  const double tau = 0.02;
  sg_smoother_init(&s, 0.0, tau, RATE);
  sg_smoother_set(&s, 1.0);
  int n = (int)(tau * RATE); /* 960 ticks = tau */
  double v = 0;
  for (int i = 0; i < n; ++i)
    v = sg_smoother_tick(&s);
  printf("smoother after tau: %.6f (theory 1 - 1/e = %.6f, limit 1e-9)\n", v, 1 - exp(-1.0));
  assert_true(fabs(v - (1 - exp(-1.0))) < 1e-9);
  sg_smoother_snap(&s);
  assert_true(s.cur == 1.0);
}

static void limiter_core_never_exceeds_threshold(void **state) {
  (void)state;
  uint64_t seed = 0x5eed1234u;
  printf("limiter core: seed %#llx\n", (unsigned long long)seed);
  sg_limiter_core c;
  const double thr = 0.5;
  assert_int_equal(sg_limiter_core_init(&c, 96, 12, sg_onepole_coef_tau(0.05, RATE), thr), SG_OK);
  size_t D = sg_limiter_core_delay(&c);
  enum { N = 200000 };
  float *pk = malloc(N * sizeof *pk);
  uint64_t s = seed;
  for (int i = 0; i < N; ++i) { /* bursts of peaks up to +20 dB over the threshold */
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    double u = (double)(s >> 11) / 9007199254740992.0;
    pk[i] = (float)(((i / 3000) % 2 ? 5.0 : 0.4) * u * u);
  }
  double worst = 0, gmin = 1;
  for (int i = 0; i < N; ++i) {
    double g = sg_limiter_core_tick(&c, pk[i]);
    gmin = fmin(gmin, g);
    if ((size_t)i >= D) { /* g applies to the frame whose peak entered D ticks ago */
      /* ... and is flat over +-hold frames around it */
      for (int h = -12; h <= 12; ++h) {
        long j = (long)i - (long)D + h;
        if (j >= 0 && j < N)
          worst = fmax(worst, g * pk[j] / thr);
      }
    }
  }
  printf("limiter core: worst output/threshold %.7f (limit 1 + 1e-6), min gain %.3f\n", worst,
         gmin);
  assert_true(worst <= 1.0 + 1e-6);
  assert_true(gmin < 0.2); /* it did limit */
  sg_limiter_core_free(&c);
  free(pk);
}

/* The gain computer written plainly (a sliding maximum over every peak, then release, box and
 * its periodic re-sum): the reference for sg_limiter_core's threshold-filtered wedge and its
 * idle fast path. */
typedef struct {
  sg_slidemax mx;
  float val[200];
  uint64_t idx[200];
  float box[96];
  size_t la, pos, refresh;
  double sum, rel, a_rel, thr;
} ref_core;

static void ref_core_init(ref_core *r, size_t la, size_t hold, double a_rel, double thr) {
  sg_slidemax_init(&r->mx, r->val, r->idx, la + 2 * hold + 2, la + 2 * hold);
  r->la = la, r->pos = r->refresh = 0, r->sum = (double)la, r->rel = 1.0;
  r->a_rel = a_rel, r->thr = thr;
  for (size_t i = 0; i < la; ++i)
    r->box[i] = 1.0f;
}

static double ref_core_tick(ref_core *r, float pk) {
  double m = sg_slidemax_push(&r->mx, pk);
  double a = m > r->thr ? (float)(r->thr / m) : 1.0f;
  double c = a < r->rel ? a : a + r->a_rel * (r->rel - a);
  r->rel = c;
  r->sum += (double)(float)c - r->box[r->pos];
  r->box[r->pos] = (float)c;
  r->pos = r->pos + 1 == r->la ? 0 : r->pos + 1;
  if (++r->refresh >= 4096) {
    double s = 0;
    for (size_t j = 0; j < r->la; ++j)
      s += r->box[j];
    r->sum = s, r->refresh = 0;
  }
  double g = r->sum / (double)r->la;
  return g > 1.0 ? 1.0 : g;
}

static void limiter_core_matches_plain_gain_computer(void **state) {
  (void)state;
  enum { N = 120000 };
  float *pk = malloc(N * sizeof *pk);
  double *g = malloc(N * sizeof *g);
  const double thr = 0.5;
  uint64_t s = 0x5eed4321u;
  for (int i = 0; i < N; ++i) { /* loud bursts, long quiet stretches, peaks at the threshold */
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    double u = (double)(s >> 11) / 9007199254740992.0;
    int seg = (i / 15000) % 4;
    pk[i] = (float)(seg == 0   ? 3.0 * u
                    : seg == 1 ? 0.45 * u
                    : seg == 2 ? (u < 0.01 ? 0.9 : 0.1)
                               : (i % 777 ? thr : 0.6));
  }
  sg_limiter_core c;
  /* a 5 ms release: the follower settles within the quiet stretches (the idle path runs) */
  assert_int_equal(sg_limiter_core_init(&c, 96, 12, sg_onepole_coef_tau(0.005, RATE), thr), SG_OK);
  ref_core r;
  ref_core_init(&r, 96, 12, c.a_rel, thr);
  int diff = 0, off = 0;
  for (int step = 1; off < N; off += step, step = step * 7 % 5003 + 1) {
    int k = off + step > N ? N - off : step;
    if (step % 4 == 0) /* mixed: some frames through tick */
      for (int i = 0; i < k; ++i)
        g[off + i] = sg_limiter_core_tick(&c, pk[off + i]);
    else
      sg_limiter_core_process(&c, pk + off, g + off, (size_t)k);
  }
  int limited = 0;
  for (int i = 0; i < N; ++i) {
    double gr = ref_core_tick(&r, pk[i]);
    diff += memcmp(&gr, g + i, sizeof gr) != 0;
    limited += gr < 1.0;
  }
  printf("limiter core: %d of %d gains differ from the plain computation (limit 0), %d below 1\n",
         diff, N, limited);
  assert_int_equal(diff, 0);
  assert_true(limited > 1000 && limited < N - 1000);
  sg_limiter_core_free(&c);
  free(pk);
  free(g);
}

static void truepeak_reads_known_intersample_peak(void **state) {
  (void)state;
  /* A sine at fs/4 sampled 45 degrees off its crests: every sample is 0.7071 A, the true peak
   * A (+3.01 dB over the sample peak); 4x points land on the crest. */
  sg_truepeak_config c;
  sg_truepeak_config_init(&c);
  c.design = SG_TPD_KAISER;
  sg_truepeak tp;
  assert_int_equal(sg_truepeak_init(&tp, &c, RATE), SG_OK);
  sg_truepeak_reset(&tp);
  enum { N = 48000 };
  float *x = malloc(N * sizeof *x);
  /* A 1000-frame raised-cosine fade-in: an abrupt start is a step, whose band-limited
   * reconstruction rings (Gibbs) above the sine's amplitude. */
  for (int i = 0; i < N; ++i)
    x[i] = (float)(0.5 * sin(SG_PI / 2 * i + SG_PI / 4) *
                   (i < 1000 ? 0.5 - 0.5 * cos(SG_PI * i / 1000.0) : 1.0));
  float v = sg_truepeak_process(&tp, x, 1, N);
  double err = 20 * log10(v / 0.5);
  printf("true peak of fs/4 at 45 deg: %.4f dB re A (sample peak %.2f dB), limit +-0.02 dB\n", err,
         20 * log10(fabs(x[N - 1]) / 0.5));
  assert_true(fabs(err) < 0.02);
  /* The same signal in uneven calls gives the same value; streaming mode agrees. */
  sg_truepeak_reset(&tp);
  size_t off = 0, step = 1;
  while (off < N) {
    size_t k = off + step > N ? N - off : step;
    sg_truepeak_process(&tp, x + off, 1, k);
    off += k;
    step = step * 3 + 1;
  }
  assert_true(sg_truepeak_value(&tp) == v);
  sg_truepeak st;
  sg_truepeak_init(&st, &c, RATE);
  sg_truepeak_reset(&st);
  double sp = 0;
  for (int i = 0; i < N; ++i)
    sp = fmax(sp, sg_truepeak_push(&st, x[i]));
  printf("streaming %.7f block %.7f (limit 1e-6 apart)\n", sp, (double)v);
  assert_true(fabs(sp - v) < 1e-6);
  free(x);
}

/* Varied material for the shortcut tests (mono, n frames): a fs/4 sine 45 degrees off its
 * crests, a naive clipped square, near-Nyquist tones, silence then a noise burst, a slow swell of
 * noise, alternating loud and quiet stretches, single clicks after silence; kinds 0..7. */
static void shortcut_material(int kind, float *x, int n) {
  uint64_t r = 0x5eed0000u + (uint64_t)kind;
  for (int i = 0; i < n; ++i) {
    r = r * 6364136223846793005ull + 1442695040888963407ull;
    double u = (double)(r >> 11) / 9007199254740992.0 * 2 - 1, v = 0;
    switch (kind) {
    case 0: /* inter-sample peaks: every sample 0.707 A, true peak A, rising */
      v = (0.3 + 0.6 * i / n) * sin(SG_PI / 2 * i + SG_PI / 4);
      break;
    case 1: /* clipped naive square with a level step */
      v = (i / 37) % 2 ? 1.2 : -1.2;
      v = (v > 0.8 ? 0.8 : (v < -0.8 ? -0.8 : v)) * (i < n / 2 ? 0.5 : 1.0);
      break;
    case 2: /* near-Nyquist tones, beating */
      v = 0.45 * sin(2 * SG_PI * 23900.0 / RATE * i) + 0.45 * sin(2 * SG_PI * 23100.0 / RATE * i);
      break;
    case 3: /* silence, then a burst */
      v = i < n / 3 ? 0.0 : (i < n / 3 + 2000 ? 0.9 * u : 0.05 * u);
      break;
    case 4: /* noise swelling from silence to full scale */
      v = u * i / n;
      break;
    case 5: /* loud and quiet stretches of 700 frames */
      v = ((i / 700) % 2 ? 0.95 : 0.2) * sin(2 * SG_PI * 997.0 / RATE * i + u * 0.3);
      break;
    case 6: /* single full-scale clicks after silence, alternating sign */
      v = i % 4999 == 4000 ? ((i / 4999) % 2 ? 1.0 : -1.0) : 0.0;
      break;
    default: /* a decaying chord that a later, louder chord overtakes */
      v = (i < n / 2 ? 0.7 * exp(-8.0 * i / n) : 0.9) *
          (0.5 * sin(2 * SG_PI * 220.0 / RATE * i) + 0.5 * sin(2 * SG_PI * 5000.0 / RATE * i));
      break;
    }
    x[i] = (float)v;
  }
}

static float full_truepeak_sample(const float *x, int n) {
  float m = 0;
  for (int i = 0; i < n; ++i)
    m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
  return m;
}

/* The block detector's value without any shortcut: every active phase's output at every frame,
 * summed tap by tap in the order of the block kernel, and the base samples. */
static float full_truepeak(const sg_truepeak *tp, const float *x, int n) {
  const int T = tp->taps;
  float *w = calloc((size_t)(n + T), sizeof *w);
  memcpy(w + T - 1, x, (size_t)n * sizeof *x);
  uint32_t m = 0;
  for (int i = 0; i < n; ++i) {
    float v = fabsf(x[i]);
    for (int a = 0; a < tp->nact; ++a) {
      const float *h = tp->ph[tp->act[a]] + tp->t0;
      float acc = 0;
      for (int t = 0; t < tp->tn; ++t)
        acc += h[t] * w[i + tp->t0 + t];
      v = fabsf(acc) > v ? fabsf(acc) : v;
    }
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    m = b > m ? b : m;
  }
  free(w);
  float f;
  memcpy(&f, &m, sizeof f);
  return f;
}

static void truepeak_shortcut_is_exact(void **state) {
  (void)state;
  enum { N = 24000 };
  float *x = malloc(N * sizeof *x);
  sg_truepeak_config c;
  sg_truepeak_config_init(&c);
  const double rates[2] = {48000.0, 96000.0};
  for (int ri = 0; ri < 2; ++ri)
    for (int kind = 0; kind < 8; ++kind) {
      shortcut_material(kind, x, N);
      sg_truepeak tp;
      assert_int_equal(sg_truepeak_init(&tp, &c, rates[ri]), SG_OK);
      sg_truepeak_reset(&tp);
      float full = full_truepeak(&tp, x, N);
      float one = sg_truepeak_process(&tp, x, 1, N);
      /* uneven calls, so blocks and groups fall everywhere */
      sg_truepeak_reset(&tp);
      for (int off = 0, step = 1; off < N; off += step, step = step * 5 % 1013 + 3)
        sg_truepeak_process(&tp, x + off, 1, (size_t)(off + step > N ? N - off : step));
      float split = sg_truepeak_value(&tp);
      printf("rate %.0f material %d: full %.9g shortcut %.9g split %.9g (sample peak x%.4f)\n",
             rates[ri], kind, (double)full, (double)one, (double)split,
             (double)full / (double)full_truepeak_sample(x, N));
      assert_true(one == full);
      assert_true(split == full);
    }
  free(x);
}

/* push_block against push: with no threshold every frame's value is push's exactly (calls of
 * both kinds mixed on one detector); with the limiter's threshold a value may only drop to the
 * base samples where the full value stays at or below the threshold. */
static void truepeak_push_block_matches_push(void **state) {
  (void)state;
  enum { N = 20000 };
  float *x = malloc(N * sizeof *x), *pb = malloc(N * sizeof *pb);
  sg_truepeak_config c;
  sg_truepeak_config_init(&c);
  c.design = SG_TPD_KAISER;
  c.oversample = 8;
  c.taps = 64;
  const int taps[3] = {64, 14, 6};
  for (int ti = 0; ti < 3; ++ti)
    for (int kind = 0; kind < 8; ++kind) {
      c.taps = taps[ti];
      shortcut_material(kind, x, N);
      sg_truepeak ref, blk;
      assert_int_equal(sg_truepeak_init(&ref, &c, RATE), SG_OK);
      assert_int_equal(sg_truepeak_init(&blk, &c, RATE), SG_OK);
      sg_truepeak_reset(&ref);
      sg_truepeak_reset(&blk);
      int mism = 0;
      for (int off = 0, step = 1; off < N; off += step, step = step * 7 % 601 + 1) {
        int k = off + step > N ? N - off : step;
        if (step % 3 == 0) /* mixed: some frames through push */
          for (int i = 0; i < k; ++i)
            pb[off + i] = (float)sg_truepeak_push(&blk, x[off + i]);
        else
          sg_truepeak_push_block(&blk, x + off, (size_t)k, pb + off);
      }
      for (int i = 0; i < N; ++i)
        mism += (float)sg_truepeak_push(&ref, x[i]) != pb[i];
      assert_int_equal(mism, 0);
      /* with a threshold (the limiter's default: -1.1 dBTP) */
      const double thr = pow(10.0, -1.1 / 20.0);
      sg_truepeak_reset(&ref);
      sg_truepeak_reset(&blk);
      sg_truepeak_set_quiet(&blk, thr);
      sg_truepeak_push_block(&blk, x, N, pb);
      int above = 0, bad = 0, skipped = 0;
      for (int i = 0; i < N; ++i) {
        float f = (float)sg_truepeak_push(&ref, x[i]);
        above += f > thr;
        skipped += pb[i] != f;
        bad += pb[i] > f || (f > thr && pb[i] != f);
      }
      printf("taps %d material %d: %d frames above the threshold, %d reported below theirs, "
             "%d wrong (limit 0)\n",
             taps[ti], kind, above, skipped, bad);
      assert_int_equal(bad, 0);
    }
  free(x);
  free(pb);
}

/* sg_fast_log2 and sg_fast_exp2 against libm over the ranges the level and gain conversions
 * use (1e-30 .. 1e30, and -300 .. 300 with the clamps), on a dense sweep and at powers of two
 * and the mantissa switch at sqrt(2). */
static void fast_log2_exp2_match_libm(void **state) {
  (void)state;
  double worst_l = 0, worst_e = 0;
  for (int i = 0; i <= 600000; ++i) {
    const double x = pow(10.0, -30 + 60.0 * i / 600000.0);
    worst_l = fmax(worst_l, fabs(sg_fast_log2(x) - log2(x)));
    const double y = -300 + 600.0 * i / 600000.0;
    worst_e = fmax(worst_e, fabs(sg_fast_exp2(y) / exp2(y) - 1));
  }
  for (int k = -60; k <= 60; ++k) {
    const double x = ldexp(1.0, k);
    assert_true(sg_fast_log2(x) == (double)k);
    worst_l =
        fmax(worst_l, fabs(sg_fast_log2(x * 1.4142135623730951) - log2(x * 1.4142135623730951)));
    worst_l = fmax(worst_l, fabs(sg_fast_log2(nextafter(x, 0)) - log2(nextafter(x, 0))));
    worst_e = fmax(worst_e, fabs(sg_fast_exp2(k) / exp2(k) - 1));
  }
  printf("fast log2: worst absolute error %.3g; fast exp2: worst relative error %.3g (limits "
         "1e-12, 1.2e-12)\n",
         worst_l, worst_e);
  assert_true(worst_l < 1e-12);
  assert_true(worst_e < 1.2e-12); /* the fit's bound, dsp.h */
  assert_true(sg_fast_exp2(-5000) == sg_fast_exp2(-1022) && sg_fast_exp2(-1022) > 0); /* clamped */
}

/* The true-peak guard: on material with inter-sample peaks well over its threshold the meters'
 * detector (the default BS.1770 sg_truepeak, block mode) reads the output at or under the
 * threshold (float rounding: 1e-4 dB); on material that stays under it, the output is the input
 * delayed by the guard's latency, bit for bit. Stereo: each channel its own material, linked. */
static void tp_guard_holds_the_meter_reading(void **state) {
  (void)state;
  const int n = 60000;
  const double thr_db = -1.05;
  float *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
  float *a0 = malloc((size_t)n * sizeof *a0), *b0 = malloc((size_t)n * sizeof *b0);
  for (int kind = 0; kind < 8; ++kind) {
    shortcut_material(kind, a, n);
    shortcut_material((kind + 2) % 8, b, n);
    for (int i = 0; i < n; ++i) { /* up to ~3 dB over the threshold */
      a[i] *= 1.25f;
      b[i] *= 1.25f;
    }
    memcpy(a0, a, (size_t)n * sizeof *a);
    memcpy(b0, b, (size_t)n * sizeof *b);
    sg_tp_guard g;
    assert_int_equal(sg_tp_guard_init(&g, thr_db, RATE), SG_OK);
    const int lat = (int)sg_tp_guard_latency(&g);
    for (int i = 0; i < n; i += 1000) /* odd block sizes */
      sg_tp_guard_process(&g, a + i, b + i, (size_t)(n - i < 1000 ? n - i : 1000));
    sg_truepeak_config tc;
    sg_truepeak_config_init(&tc);
    sg_truepeak m[2], m0[2];
    for (int c = 0; c < 2; ++c) {
      assert_int_equal(sg_truepeak_init(&m[c], &tc, RATE), SG_OK);
      assert_int_equal(sg_truepeak_init(&m0[c], &tc, RATE), SG_OK);
    }
    /* the output's frames that follow input frames (the first lat are the delay's zeros) */
    sg_truepeak_process(&m[0], a + lat, 1, (size_t)(n - lat));
    sg_truepeak_process(&m[1], b + lat, 1, (size_t)(n - lat));
    sg_truepeak_process(&m0[0], a0, 1, (size_t)(n - lat));
    sg_truepeak_process(&m0[1], b0, 1, (size_t)(n - lat));
    double in = 20 * log10(fmax(sg_truepeak_value(&m0[0]), sg_truepeak_value(&m0[1])));
    double out = 20 * log10(fmax(sg_truepeak_value(&m[0]), sg_truepeak_value(&m[1])));
    printf("material %d: in %.3f dBTP, out %.4f dBTP (threshold %.2f), guard %.3f dB\n", kind, in,
           out, thr_db, g.gr_db_max);
    assert_true(out <= thr_db + 1e-4);
    if (in <= thr_db) { /* nothing over: a pure delay */
      for (int i = lat; i < n; ++i)
        assert_true(a[i] == a0[i - lat] && b[i] == b0[i - lat]);
      assert_true(g.gr_db_max == 0.0);
    }
    sg_tp_guard_free(&g);
  }
  /* quiet material: the pure delay */
  for (int i = 0; i < n; ++i) {
    a[i] = a0[i] = (float)(0.5 * sin(2 * SG_PI * 440.0 / RATE * i));
    b[i] = b0[i] = (float)(0.4 * sin(2 * SG_PI * 17000.0 / RATE * i));
  }
  sg_tp_guard g;
  assert_int_equal(sg_tp_guard_init(&g, thr_db, RATE), SG_OK);
  const int lat = (int)sg_tp_guard_latency(&g);
  sg_tp_guard_process(&g, a, b, (size_t)n);
  for (int i = 0; i < lat; ++i)
    assert_true(a[i] == 0.0f && b[i] == 0.0f);
  for (int i = lat; i < n; ++i)
    assert_true(a[i] == a0[i - lat] && b[i] == b0[i - lat]);
  assert_true(g.gr_db_max == 0.0);
  sg_tp_guard_free(&g);
  assert_int_equal(sg_tp_guard_init(&g, 1.0, RATE), SG_E_INVAL); /* above full scale */
  free(a);
  free(b);
  free(a0);
  free(b0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(biquad_matches_rbj_analytic),
      cmocka_unit_test(first_order_is_3db_at_cutoff),
      cmocka_unit_test(biquad_process_equals_tick),
      cmocka_unit_test(biquad_run2_equals_run_per_channel),
      cmocka_unit_test(biquad_pairs_equal_sections_in_turn),
      cmocka_unit_test(onepole_lowpass_matches_transfer_function),
      cmocka_unit_test(dc_blocker_removes_dc_and_passes_audio),
      cmocka_unit_test(smoother_time_constant),
      cmocka_unit_test(limiter_core_never_exceeds_threshold),
      cmocka_unit_test(limiter_core_matches_plain_gain_computer),
      cmocka_unit_test(truepeak_reads_known_intersample_peak),
      cmocka_unit_test(truepeak_shortcut_is_exact),
      cmocka_unit_test(truepeak_push_block_matches_push),
      cmocka_unit_test(fast_log2_exp2_match_libm),
      cmocka_unit_test(tp_guard_holds_the_meter_reading),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
