/* Synth building blocks against theory: oscillator aliasing, ladder slope / resonance /
 * self-oscillation, envelope timing. Tolerances are stated at each assertion. */
#include "synth_test_util.h"

#define RATE 48000.0

/* Aliased energy relative to harmonic energy, in dB, of an oscillator at f0. Harmonic bins are
 * those within +-6 bins (Blackman-Harris main lobe is +-4) of a multiple of f0; the rest of the
 * band from 20 Hz (optionally up to `top` Hz) counts as alias. */
static double alias_db(sg_wave wave, double f0, double top) {
  sg_osc o;
  sg_osc_config c;
  sg_osc_config_init(&c);
  c.wave = wave;
  c.freq = f0;
  assert_int_equal(sg_osc_init(&o, &c, RATE), SG_OK);
  enum { N = 16384 };
  float *x = malloc(N * sizeof *x);
  sg_osc_process(&o, x, 1000); /* settle */
  sg_osc_process(&o, x, N);
  double *p = tu_power(x, N, N);
  double harm = 0, alias = 0;
  for (size_t k = 7; k <= N / 2; ++k) {
    double hz = (double)k * RATE / N;
    if (hz > top)
      break;
    double h = hz / f0, dist = fabs(h - floor(h + 0.5)) * f0 / (RATE / N);
    if (dist <= 6.0)
      harm += p[k];
    else
      alias += p[k];
  }
  free(p);
  free(x);
  return 10 * log10(alias / harm);
}

static void saw_aliasing_vs_trivial_saw(void **state) {
  (void)state;
  double naive = alias_db(SG_WAVE_NAIVE_SAW, 1760, 24000);
  double blep = alias_db(SG_WAVE_SAW, 1760, 24000);
  double naive_lo = alias_db(SG_WAVE_NAIVE_SAW, 1760, 8000);
  double blep_lo = alias_db(SG_WAVE_SAW, 1760, 8000);
  printf("saw 1760 Hz @ 48 kHz, alias/harmonic energy: naive %.1f dB, BLEP %.1f dB; "
         "below 8 kHz: naive %.1f dB, BLEP %.1f dB\n",
         naive, blep, naive_lo, blep_lo);
  /* Limits: the trivial saw sits near -13 dB (-18 dB below 8 kHz). The four-point B-spline BLEP
   * (measured -38.6 / -85.8 dB) must be at least 20 dB cleaner over the whole band, where what
   * is left folds down from near Nyquist, and reach -75 dB below 8 kHz, where aliasing is most
   * audible. (Two-point PolyBLEP measured -28.9 / -56.8 dB here.) */
  assert_true(blep < naive - 20.0);
  assert_true(blep_lo < -75.0);
  /* Above 9.6 kHz the oscillator falls back to the two-point residual: still far cleaner than
   * the trivial saw, and bounded. */
  double hi_naive = alias_db(SG_WAVE_NAIVE_SAW, 11000, 24000);
  double hi_blep = alias_db(SG_WAVE_SAW, 11000, 24000);
  printf("saw 11 kHz: naive %.1f dB, two-point PolyBLEP %.1f dB\n", hi_naive, hi_blep);
  assert_true(hi_blep < hi_naive - 6.0);
}

static void square_and_triangle_are_band_limited(void **state) {
  (void)state;
  double sq = alias_db(SG_WAVE_SQUARE, 1760, 8000);
  double tri = alias_db(SG_WAVE_TRIANGLE, 1760, 8000);
  printf("below 8 kHz alias/harmonic: PolyBLEP square %.1f dB, PolyBLAMP triangle %.1f dB\n", sq,
         tri);
  assert_true(sq < -75.0);  /* limit -75 dB (measured -85.6) */
  assert_true(tri < -60.0); /* triangle harmonics fall 12 dB/oct: limit -60 dB */
  /* PWM square has no DC (mean removed): |mean| < 1e-3 at 20 % duty. */
  sg_osc o;
  sg_osc_config c;
  sg_osc_config_init(&c);
  c.wave = SG_WAVE_SQUARE;
  c.freq = 187.5; /* 256 samples per cycle: the mean over whole cycles is exact */
  c.pulse_width = 0.2;
  sg_osc_init(&o, &c, RATE);
  float x[256 * 8];
  sg_osc_process(&o, x, 256 * 8);
  double m = 0;
  for (int i = 0; i < 256 * 8; ++i)
    m += x[i];
  assert_true(fabs(m / (256 * 8)) < 1e-3);
}

/* Gain in dB of the linear ladder at f for cutoff fc, resonance k (sine through the filter). */
static double ladder_gain_db(double fc, double k, double f, int linear) {
  sg_ladder lf;
  sg_ladder_config c;
  sg_ladder_config_init(&c);
  c.cutoff = fc;
  c.resonance = k;
  c.linear = linear;
  assert_int_equal(sg_ladder_init(&lf, &c, RATE), SG_OK);
  enum { N = 24000 };
  float *x = malloc(N * sizeof *x);
  for (int i = 0; i < N; ++i)
    x[i] = (float)(0.01 * sin(2 * SG_PI * f * i / RATE)); /* -40 dBFS: linear region */
  sg_ladder_process(&lf, x, x, N);
  double a = tu_tone(x + N / 2, N / 2, f, RATE) / 0.01;
  free(x);
  return 20 * log10(a);
}

static void ladder_slope_is_24db_per_octave(void **state) {
  (void)state;
  double g2 = ladder_gain_db(500, 0, 2000, 0), g4 = ladder_gain_db(500, 0, 4000, 0);
  double g1 = ladder_gain_db(500, 0, 1000, 0);
  double dc = ladder_gain_db(500, 0, 50, 0), at_fc = ladder_gain_db(500, 0, 500, 0);
  printf("ladder fc 500 Hz, k 0: 50 Hz %.2f dB, 500 Hz %.2f dB, 1k %.2f, 2k %.2f, 4k %.2f dB; "
         "slope 2k->4k %.2f dB/oct\n",
         dc, at_fc, g1, g2, g4, g4 - g2);
  assert_true(fabs(dc) < 0.2);               /* passband 0 dB within 0.2 dB */
  assert_true(fabs(at_fc - (-12.04)) < 0.5); /* four poles each -3.01 dB at fc, within 0.5 dB */
  /* Asymptotic -24 dB/oct; bilinear warping steepens it slightly near Nyquist: allow
   * -24 +-1.5 dB between 2 and 4 kHz. */
  assert_true(fabs((g4 - g2) - (-24.0)) < 1.5);
  /* One octave above fc the slope is still bending in (-21.4 dB/oct for 4 poles). */
  assert_true(g2 - g1 < -20.0 && g2 - g1 > -24.0);
}

static void ladder_resonance_peaks_near_cutoff(void **state) {
  (void)state;
  double prev = -100;
  const double ks[4] = {0, 2.0, 3.0, 3.6};
  for (int i = 0; i < 4; ++i) {
    /* Peak gain relative to DC, searched over 0.7..1.3 fc (linear model). */
    double best = -200, best_f = 0;
    for (double f = 700; f <= 1300; f += 25) {
      double g = ladder_gain_db(1000, ks[i], f, 1);
      if (g > best) {
        best = g;
        best_f = f;
      }
    }
    double rel = best - ladder_gain_db(1000, ks[i], 50, 1);
    printf("ladder k %.1f: peak %.2f dB over DC at %.0f Hz\n", ks[i], rel, best_f);
    assert_true(rel > prev + 1.0); /* the peak rises with resonance, by > 1 dB a step */
    if (ks[i] >= 3.0)
      assert_true(fabs(best_f - 1000) <= 100); /* within 10 % of the cutoff */
    prev = rel;
  }
}

static void ladder_self_oscillates_at_cutoff(void **state) {
  (void)state;
  sg_ladder lf;
  sg_ladder_config c;
  sg_ladder_config_init(&c);
  c.cutoff = 880;
  c.resonance = 4.1;
  assert_int_equal(sg_ladder_init(&lf, &c, RATE), SG_OK);
  enum { N = 96000 };
  float *x = calloc(N, sizeof *x);
  x[0] = 0.1f; /* a kick, then silence */
  sg_ladder_process(&lf, x, x, N);
  double peak = 0;
  for (int i = N / 2; i < N; ++i)
    peak = fmax(peak, fabs(x[i]));
  enum { M = 32768 };
  double *p = tu_power(x + N - M, M, 4 * M);
  double f = tu_peak_hz(p, 4 * M, RATE, 100, 5000);
  printf("self-oscillation: %.2f Hz (cutoff 880), amplitude %.3f\n", f, peak);
  assert_true(peak > 0.05 && peak < 2.0);     /* sustained, bounded by the tanh */
  assert_true(fabs(tu_cents(f, 880)) < 25.0); /* at the cutoff within 25 cents */
  free(p);
  free(x);
}

static void ladder_drive_saturates(void **state) {
  (void)state;
  /* A full-scale 100 Hz sine, cutoff far above: with drive 1 the tanh stage adds some odd
   * harmonics; with drive 6 it clips hard (third harmonic far stronger); the linear model adds
   * none. Third-harmonic level relative to the fundamental: */
  double h3[3];
  const double drive[3] = {1, 6, 1};
  for (int i = 0; i < 3; ++i) {
    sg_ladder lf;
    sg_ladder_config c;
    sg_ladder_config_init(&c);
    c.cutoff = 15000;
    c.drive = drive[i];
    c.linear = i == 2;
    sg_ladder_init(&lf, &c, RATE);
    enum { N = 48000 };
    float *x = malloc(N * sizeof *x);
    for (int j = 0; j < N; ++j)
      x[j] = (float)sin(2 * SG_PI * 100 * j / RATE);
    sg_ladder_process(&lf, x, x, N);
    h3[i] = 20 * log10(tu_tone(x + N / 2, N / 2, 300, RATE) / tu_tone(x + N / 2, N / 2, 100, RATE));
    free(x);
  }
  printf("ladder third harmonic: drive 1 %.1f dB, drive 6 %.1f dB, linear %.1f dB\n", h3[0], h3[1],
         h3[2]);
  assert_true(h3[2] < -100.0);      /* linear: nothing */
  assert_true(h3[0] > -40.0);       /* drive 1: audible colour */
  assert_true(h3[1] > h3[0] + 6.0); /* more drive, more distortion */
}

static void adsr_timing(void **state) {
  (void)state;
  sg_adsr e;
  sg_adsr_config c = {0.010, 0.1, 0.5, 0.2};
  assert_int_equal(sg_adsr_init(&e, &c, RATE), SG_OK);
  sg_adsr_gate_on(&e);
  int reached = -1;
  for (int i = 0; i < 2000; ++i)
    if (sg_adsr_tick(&e) >= 1.0f && reached < 0)
      reached = i + 1;
  /* Attack reaches 1 after 10 ms = 480 samples, within 2 samples. */
  assert_true(abs(reached - 480) <= 2);
  for (int i = 0; i < 48000; ++i)
    sg_adsr_tick(&e);
  assert_true(fabs(sg_adsr_tick(&e) - 0.5) < 1e-6); /* sustain level */
  sg_adsr_gate_off(&e);
  int idle = -1;
  for (int i = 0; i < 48000 && idle < 0; ++i) {
    sg_adsr_tick(&e);
    if (!sg_adsr_active(&e))
      idle = i + 1;
  }
  /* Release is specified from full scale: 1 -> 0 in 200 ms (9600 samples) on an RC curve aimed
   * 1 % below zero. From sustain 0.5 it therefore ends after 9600 ln(51)/ln(101) samples. */
  double expect = 9600.0 * log(51.0) / log(101.0);
  printf("release from 0.5 ended after %d samples (expected %.1f)\n", idle, expect);
  assert_true(fabs(idle - expect) <= 2.0);
  /* Retrigger from a non-zero value continues from it (no jump to 0). */
  sg_adsr_reset(&e);
  sg_adsr_gate_on(&e);
  for (int i = 0; i < 100; ++i)
    sg_adsr_tick(&e);
  float v0 = (float)e.value;
  sg_adsr_gate_on(&e);
  assert_true(sg_adsr_tick(&e) >= v0);
}

static void dx_envelope_levels_and_rates(void **state) {
  (void)state;
  assert_true(fabs(sg_dx_level_db(99)) < 1e-12);
  assert_true(fabs(sg_dx_level_db(91) - (-6.0)) < 1e-9); /* 0.75 dB per step */
  assert_true(sg_dx_level_db(0) <= -96.0);
  assert_true(sg_dx_rate_dbps(99) > 1000 * sg_dx_rate_dbps(30)); /* rates span decades */
  sg_dxenv e;
  sg_dxenv_config c;
  sg_dxenv_config_init(&c);
  c.rate[0] = 99;
  c.rate[1] = 60;
  c.rate[2] = 40;
  c.rate[3] = 70;
  c.level[0] = 99;
  c.level[1] = 91;
  c.level[2] = 83;
  c.level[3] = 0;
  sg_dxenv_init(&e, &c, RATE);
  sg_dxenv_gate_on(&e);
  float *buf = malloc(48000 * sizeof *buf);
  sg_dxenv_process(&e, buf, 48000);
  float v = buf[47999];
  /* R1 = 99 attack: reaches full level within 1 ms (then R2 starts the decay). */
  float top = 0;
  for (int i = 0; i < 48; ++i)
    top = buf[i] > top ? buf[i] : top;
  assert_true(top > 0.999f);
  free(buf);
  /* Sustains at L3 = 83 -> -12 dB = 0.251, within 0.01. */
  assert_true(fabs(v - 0.2512) < 0.01);
  sg_dxenv_gate_off(&e);
  int n = 0;
  while (sg_dxenv_active(&e) && n < 480000) {
    sg_dxenv_tick(&e);
    ++n;
  }
  /* Release from -12 dB to -90 dB at rate 70's speed (within 5 %). */
  double expect = 78.0 / sg_dx_rate_dbps(70) * RATE;
  assert_true(fabs(n - expect) < 0.05 * expect);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(saw_aliasing_vs_trivial_saw),
      cmocka_unit_test(square_and_triangle_are_band_limited),
      cmocka_unit_test(ladder_slope_is_24db_per_octave),
      cmocka_unit_test(ladder_resonance_peaks_near_cutoff),
      cmocka_unit_test(ladder_self_oscillates_at_cutoff),
      cmocka_unit_test(ladder_drive_saturates),
      cmocka_unit_test(adsr_timing),
      cmocka_unit_test(dx_envelope_levels_and_rates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
