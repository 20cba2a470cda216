/* Probes: the exact configured instance of one effect (built by sg_fx_chain_create from the same
 * spec entry, rate and tempo, fresh state) fed a known signal and measured against its design.
 * See include/stemgate/fx.h for the list. Methods:
 *   - magnitude at a frequency: DFT of the impulse response at that frequency;
 *   - decay: Schroeder backward integration of the squared, octave-filtered impulse response
 *     (M. R. Schroeder, "New method of measuring reverberation time", JASA 37, 1965; ISO 3382-1
 *     T30: least-squares line through the energy decay curve from -5 to -35 dB, times 2);
 *   - tone amplitude in a window: least-squares fit of a sine and a cosine at the known
 *     frequency (an exact projection, no window leakage to correct);
 *   - modulation period: complex demodulation of the response to a steady sine, then the first
 *     normalised-autocorrelation peak within 0.9 of the largest (the usual guard against octave
 *     errors of a period detector), refined by a parabola;
 *   - true peak: the 8x polyphase detector of src/dsp.
 * The expectations come from the design's parameters through formulas that do not share code with
 * the units (the analog EQ prototype, the static curve, one-pole magnitudes, the tanh curve
 * sampled 16x), so a probe can tell a unit that drifted from its design. */
#include "stemgate/fx.h"
#include "stemgate/spec.h"

#include "fx/fx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 4096

typedef struct buf2 {
  float *L, *R;
  size_t n;
} buf2;

static sg_status buf_alloc(buf2 *b, size_t n) {
  b->L = calloc(n ? n : 1, sizeof(float));
  b->R = calloc(n ? n : 1, sizeof(float));
  b->n = n;
  return b->L && b->R ? SG_OK : SG_E_NOMEM;
}

static void buf_free(buf2 *b) {
  free(b->L);
  free(b->R);
  b->L = b->R = NULL;
}

static void run(sg_fx_chain *c, buf2 *b, size_t from, size_t n) {
  for (size_t o = from; o < from + n; o += BLOCK) {
    size_t m = from + n - o < BLOCK ? from + n - o : BLOCK;
    sg_fx_chain_process(c, b->L + o, b->R + o, NULL, NULL, m);
  }
}

static void add(sg_fx_probe_result *r, sg_fx_quantity q, const char *what, double measured,
                double expected) {
  if (r->n >= SG_FX_PROBE_MAX)
    return;
  sg_fx_measure *m = &r->m[r->n++];
  m->q = q;
  snprintf(m->what, sizeof m->what, "%s", what);
  m->measured = measured;
  m->expected = expected;
}

static double db20(double x) { return 20.0 * log10(x > 1e-12 ? x : 1e-12); }

/* |DFT| of x[0..n) at f. */
static double dft_mag(const float *x, size_t n, double f, double rate) {
  double w = 2 * SG_PI * f / rate, re = 0, im = 0;
  for (size_t k = 0; k < n; ++k) {
    re += x[k] * cos(w * (double)k);
    im -= x[k] * sin(w * (double)k);
  }
  return sqrt(re * re + im * im);
}

/* Amplitude of a sine at f in x[a..b) by least squares on sin and cos. */
static double tone_amp(const float *x, size_t a, size_t b, double f, double rate) {
  double w = 2 * SG_PI * f / rate, ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
  for (size_t k = a; k < b; ++k) {
    double s = sin(w * (double)k), c = cos(w * (double)k);
    ss += s * s, cc += c * c, sc += s * c, xs += x[k] * s, xc += x[k] * c;
  }
  double det = ss * cc - sc * sc;
  if (fabs(det) < 1e-20)
    return 0;
  double A = (xs * cc - xc * sc) / det, B = (xc * ss - xs * sc) / det;
  return sqrt(A * A + B * B);
}

/* ---- eq ------------------------------------------------------------------------------------ */

static void design_eq(const double *v, sg_eq_config *c) {
  sg_eq_config_init(c);
  c->type = (sg_eq_type)(int)v[0], c->freq_hz = v[1], c->q = v[2], c->gain_db = v[3];
  c->order = (int)v[4];
}

static int eq_freqs(const sg_eq_config *c, double rate, double *f) {
  const double f0 = c->freq_hz < 0.49 * rate ? c->freq_hz : 0.49 * rate;
  const double cand[3] = {f0 / 2, f0, 2 * f0};
  int n = 0;
  for (int i = 0; i < 3; ++i)
    if (cand[i] >= 5.0 && cand[i] < 0.45 * rate)
      f[n++] = cand[i];
  return n;
}

static sg_status probe_eq(sg_fx_chain *c, const double *dv, double rate, sg_fx_probe_result *r) {
  sg_eq_config dc;
  design_eq(dv, &dc);
  /* The impulse response rings for the chain's tail estimate: take twice that and a quarter
   * second, at most 8 s (a 10 Hz, 8th-order filter). */
  size_t n = 2 * sg_fx_chain_tail_frames(c) + (size_t)(0.25 * rate);
  if (n > (size_t)(8 * rate))
    n = (size_t)(8 * rate);
  buf2 b = {0};
  if (buf_alloc(&b, n) != SG_OK) {
    buf_free(&b);
    return SG_E_NOMEM;
  }
  b.L[0] = b.R[0] = 1.0f;
  run(c, &b, 0, n);
  double f[3];
  int nf = eq_freqs(&dc, rate, f);
  for (int i = 0; i < nf; ++i) {
    char what[40];
    snprintf(what, sizeof what, "at %.4g Hz", f[i]);
    /* Below -80 dB (a notch's centre) both read -80: float rounding, not the design, sets how
     * deep the measured null is. */
    add(r, SG_FXQ_RESPONSE, what, fmax(db20(dft_mag(b.L, n, f[i], rate)), -80),
        fmax(sg_eq_magnitude_db(&dc, rate, f[i]), -80));
  }
  buf_free(&b);
  return SG_OK;
}

/* ---- compressor ----------------------------------------------------------------------------- */

static void design_comp(const double *v, sg_compressor_config *c) {
  sg_compressor_config_init(c);
  c->threshold_db = v[0], c->ratio = v[1], c->knee_db = v[2], c->attack_ms = v[3];
  c->release_ms = v[4], c->makeup_db = v[5];
  c->detector = v[6] > 0 ? SG_DETECT_RMS : SG_DETECT_PEAK;
  c->rms_ms = v[7];
}

/* Time for the gain reduction trace g[from..n) to cross level (rising or falling), interpolated;
 * -1 when it never does. */
static double crossing(const double *g, size_t from, size_t n, double level, int rising) {
  for (size_t k = from + 1; k < n; ++k) {
    int hit = rising ? (g[k] >= level && g[k - 1] < level) : (g[k] <= level && g[k - 1] > level);
    if (hit)
      return (double)(k - 1 - from) + (level - g[k - 1]) / (g[k] - g[k - 1]);
  }
  return -1;
}

static sg_status probe_comp(sg_fx_chain *c, const double *uv, const double *dv, double rate,
                            sg_fx_probe_result *r) {
  sg_compressor_config dc;
  design_comp(dv, &dc);
  /* The unit's own time constants decide how long to settle (a design with other ones must not
   * make the probe cut the unit short): ten of each, and ten RMS windows. */
  const double settle_s = 10e-3 * (uv[3] + uv[4] + (uv[6] > 0 ? uv[7] : 0)) + 0.05;
  const size_t ns = (size_t)(settle_s * rate);
  buf2 b = {0};
  if (buf_alloc(&b, 2 * ns) != SG_OK) {
    buf_free(&b);
    return SG_E_NOMEM;
  }
  /* Static curve: a steady level (DC: the peak and RMS detectors both read it exactly). */
  const double offs[3] = {6, 12, 24};
  for (int i = 0; i < 3; ++i) {
    double in_db = dc.threshold_db + offs[i], x = sg_db_to_lin(in_db);
    sg_fx_chain_reset(c);
    for (size_t k = 0; k < ns; ++k)
      b.L[k] = b.R[k] = (float)x;
    run(c, &b, 0, ns);
    double gr = in_db + dc.makeup_db - db20(fabs(b.L[ns - 1]));
    char what[40];
    snprintf(what, sizeof what, "threshold%+g dB", offs[i]);
    add(r, SG_FXQ_COMP_CURVE, what, gr, in_db + dc.makeup_db - sg_compressor_static_db(&dc, in_db));
  }
  /* Ballistics (peak detector: the smoothed gain reduction follows a level step exponentially,
   * Giannoulis et al. sec. 3): a step up to threshold + 24 dB from silence, then down to 40 dB
   * below the threshold; the 1 - 1/e and 1/e crossings of the reduction give the constants. */
  if (dv[6] <= 0) {
    double hi = sg_db_to_lin(dc.threshold_db + 24), lo_db = dc.threshold_db - 40;
    double lo = sg_db_to_lin(lo_db);
    double *g = malloc(2 * ns * sizeof *g);
    if (!g) {
      buf_free(&b);
      return SG_E_NOMEM;
    }
    sg_fx_chain_reset(c);
    for (size_t k = 0; k < 2 * ns; ++k)
      b.L[k] = b.R[k] = (float)(k < ns ? hi : lo);
    run(c, &b, 0, 2 * ns);
    for (size_t k = 0; k < 2 * ns; ++k)
      g[k] = (k < ns ? dc.threshold_db + 24 : lo_db) + dc.makeup_db - db20(fabs(b.L[k]));
    double g_hi = g[ns - 1];
    double ta = crossing(g, 0, ns, g_hi * (1 - exp(-1.0)), 1);
    double tr = crossing(g, ns - 1, 2 * ns, g_hi * exp(-1.0), 0);
    add(r, SG_FXQ_COMP_TIME, "attack", ta < 0 ? -1 : ta / rate * 1e3, dc.attack_ms);
    add(r, SG_FXQ_COMP_TIME, "release", tr < 0 ? -1 : tr / rate * 1e3, dc.release_ms);
    free(g);
  }
  buf_free(&b);
  return SG_OK;
}

/* ---- wet gain on pink noise (time-based effects) -------------------------------------------- */

/* Pink noise from white by P. Kellet's economy filter (3 first-order sections, +-0.5 dB of 1/f
 * above 40 Hz at 48 kHz): closer to music's spectrum than white, so the wet gain it gives is what
 * a stem sees. */
static void pink(sg_rng *rng, float *x, size_t n) {
  double b0 = 0, b1 = 0, b2 = 0;
  for (size_t k = 0; k < n; ++k) {
    double w = sg_rng_normal(rng) * 0.05;
    b0 = 0.99765 * b0 + w * 0.0990460;
    b1 = 0.96300 * b1 + w * 0.2965164;
    b2 = 0.57000 * b2 + w * 1.0526913;
    x[k] = (float)(b0 + b1 + b2 + w * 0.1848);
  }
}

/* Energy of (out - (1 - mix) in) over the last second of a noise run long enough to fill the
 * effect (settle_s), relative to the energy of mix x in: 0 dB = the wet path passes noise at
 * unity. The dry path of these units is undelayed. Twice: with independent channels and with
 * the same noise in both (a mono source): a wet path that mixes the channels (ping-pong, a
 * reverb's network) passes the two differently, and a stem lies in between (the in-situ
 * measurement interpolates by its inter-channel correlation). */
static sg_status wet_gain(sg_fx_chain *c, double mix, double settle_s, double rate,
                          sg_fx_probe_result *r) {
  if (mix <= 1e-6)
    return SG_OK;
  size_t n1 = (size_t)rate, n = (size_t)(settle_s * rate) + n1;
  buf2 b = {0}, x = {0};
  sg_status st = SG_OK;
  if (buf_alloc(&b, n) != SG_OK || buf_alloc(&x, n) != SG_OK) {
    st = SG_E_NOMEM;
    goto out;
  }
  for (int mono = 0; mono < 2; ++mono) {
    sg_rng rng;
    sg_rng_seed(&rng, 0x57e4ea7e, 16);
    pink(&rng, x.L, n);
    if (mono)
      memcpy(x.R, x.L, n * sizeof(float));
    else
      pink(&rng, x.R, n);
    memcpy(b.L, x.L, n * sizeof(float));
    memcpy(b.R, x.R, n * sizeof(float));
    sg_fx_chain_reset(c);
    run(c, &b, 0, n);
    double ew = 0, ed = 0;
    for (size_t k = n - n1; k < n; ++k) {
      double wl = b.L[k] - (1 - mix) * x.L[k], wr = b.R[k] - (1 - mix) * x.R[k];
      ew += wl * wl + wr * wr;
      ed += mix * mix * ((double)x.L[k] * x.L[k] + (double)x.R[k] * x.R[k]);
    }
    add(r, SG_FXQ_WET_GAIN, mono ? "pink noise, mono" : "pink noise, independent channels",
        10 * log10((ew + 1e-30) / (ed + 1e-30)), 0);
  }
out:
  buf_free(&b);
  buf_free(&x);
  return st;
}

/* ---- delay ---------------------------------------------------------------------------------- */

static double onepole_lp_mag(double a, double w) {
  return (1 - a) / sqrt(1 - 2 * a * cos(w) + a * a);
}
static double onepole_hp_mag(double a, double w) {
  return a * sqrt(2 - 2 * cos(w)) / sqrt(1 - 2 * a * cos(w) + a * a);
}

static double delay_lag_exact(const char *time, double bpm, double rate) {
  int num, den;
  if (sg_note_value_parse(time, &num, &den) == SG_OK)
    return sg_note_value_frames(num, den, bpm > 0 ? bpm : 120, rate);
  return strtod(time, NULL) * 1e-3 * rate;
}

static sg_status probe_delay(sg_fx_chain *c, const double *dv, const char *dtime, double rate,
                             double bpm, sg_fx_probe_result *r) {
  const double lag_x = delay_lag_exact(dtime, bpm, rate);
  const size_t lag_want = (size_t)floor(lag_x + 0.5);
  /* Impulse: the first echo is the input delayed (the loop filters act on the repeats), so its
   * peak is at the lag exactly. Search up to twice the longest lag a spec may give (8 s). */
  size_t n = (size_t)(2.5 * (lag_x > 0 ? lag_x : rate)) + 16;
  if (n > (size_t)(17 * rate))
    n = (size_t)(17 * rate);
  buf2 b = {0};
  if (buf_alloc(&b, n) != SG_OK) {
    buf_free(&b);
    return SG_E_NOMEM;
  }
  b.L[0] = b.R[0] = 1.0f;
  sg_fx_chain_reset(c);
  run(c, &b, 0, n);
  size_t best = 0;
  double bv = 0;
  for (size_t k = 1; k < n; ++k) {
    double v = fabs(b.L[k]) + fabs(b.R[k]);
    if (v > bv)
      bv = v, best = k;
  }
  add(r, SG_FXQ_LAG, "first echo", (double)best, (double)lag_want);
  /* Repeats: a tone burst half a lag long at the geometric centre of the loop filters; the
   * middle half of each echo against the previous one. */
  const double fb = dv[1], mix = dv[2];
  if (fb >= 0.01 && mix > 1e-6 && best > 64) {
    size_t lag = best, B = lag / 2;
    double f = sqrt(dv[3] * dv[4]);
    if (f > 0.4 * rate)
      f = 0.4 * rate;
    memset(b.L, 0, n * sizeof(float));
    memset(b.R, 0, n * sizeof(float));
    for (size_t k = 0; k < B; ++k)
      b.L[k] = b.R[k] = (float)(0.5 * sin(2 * SG_PI * f * (double)k / rate));
    sg_fx_chain_reset(c);
    run(c, &b, 0, n);
    double a[2];
    for (int e = 0; e < 2; ++e) {
      size_t s0 = (size_t)(e + 1) * lag + B / 4, s1 = (size_t)(e + 1) * lag + 3 * B / 4;
      double al = tone_amp(b.L, s0, s1, f, rate), ar = tone_amp(b.R, s0, s1, f, rate);
      a[e] = sqrt(al * al + ar * ar);
    }
    double w = 2 * SG_PI * f / rate;
    double loop = fb * onepole_hp_mag(sg_onepole_coef_hz(dv[3], rate), w) *
                  onepole_lp_mag(sg_onepole_coef_hz(dv[4], rate), w);
    char what[40];
    snprintf(what, sizeof what, "per repeat at %.0f Hz", f);
    add(r, SG_FXQ_FEEDBACK, what, db20(a[1]) - db20(a[0]), db20(loop));
  }
  buf_free(&b);
  return SG_OK;
}

/* ---- reverb --------------------------------------------------------------------------------- */

/* T30 of x[0..n) in an octave band around fc (RBJ band-pass, constant 0 dB peak, Q = sqrt 2 for
 * one octave): Schroeder's backward integral of the squared band signal, a least-squares line
 * through its -5..-35 dB part, extrapolated to 60 dB. -1 when the curve does not reach -35 dB. */
static double t30(const float *x, size_t n, double fc, double rate) {
  sg_biquad_coefs bc;
  if (sg_biquad_design(SG_BIQUAD_BANDPASS, fc, sqrt(2.0), 0, rate, &bc) != SG_OK)
    return -1;
  double *e = malloc(n * sizeof *e);
  float *y = malloc(n * sizeof *y);
  if (!e || !y) {
    free(e);
    free(y);
    return -1;
  }
  double z[2] = {0, 0};
  sg_biquad_run(&bc, z, x, y, n);
  double acc = 0;
  for (size_t k = n; k-- > 0;) {
    acc += (double)y[k] * y[k];
    e[k] = acc;
  }
  double sx = 0, sy = 0, sxx = 0, sxy = 0, cnt = 0, top = e[0];
  int reached = 0;
  for (size_t k = 0; k < n && top > 0; ++k) {
    double l = 10 * log10(e[k] / top + 1e-300);
    if (l < -35) {
      reached = 1;
      break;
    }
    if (l <= -5) {
      double t = (double)k / rate;
      sx += t, sy += l, sxx += t * t, sxy += t * l, cnt += 1;
    }
  }
  free(e);
  free(y);
  double den = cnt * sxx - sx * sx;
  if (!reached || cnt < 10 || den <= 0)
    return -1;
  double slope = (cnt * sxy - sx * sy) / den; /* dB per second, negative */
  return slope < 0 ? -60.0 / slope : -1;
}

/* First frame of the wet response above 1e-4 of its peak (-80 dB). */
static size_t onset(const float *L, const float *R, size_t n) {
  double pk = 0;
  for (size_t k = 1; k < n; ++k)
    pk = fmax(pk, fmax(fabs(L[k]), fabs(R[k])));
  for (size_t k = 1; k < n; ++k)
    if (fmax(fabs(L[k]), fabs(R[k])) > 1e-4 * pk)
      return k;
  return 0;
}

static sg_status probe_reverb(sg_fx_chain *c, const sg_effect_spec *ue, const double *uv,
                              const double *dv, double rate, double bpm, sg_fx_probe_result *r) {
  const double mix = uv[4];
  const double t_mid = dv[0], t_low = dv[1] > 0 ? dv[1] : dv[0];
  /* 1.5 x the slowest decay of the unit: the integration limit is then 90 dB down, far below the
   * -35 dB end of the fit, so truncation does not bend the curve. */
  double longest = fmax(uv[0], uv[1]);
  size_t n = (size_t)((1.5 * longest + uv[2] * 1e-3 + 0.1) * rate);
  buf2 b = {0};
  sg_status st = SG_OK;
  if (buf_alloc(&b, n) != SG_OK) {
    st = SG_E_NOMEM;
    goto out;
  }
  if (mix > 1e-6) {
    b.L[0] = b.R[0] = 1.0f;
    sg_fx_chain_reset(c);
    run(c, &b, 0, n);
    b.L[0] -= (float)(1 - mix), b.R[0] -= (float)(1 - mix); /* the dry impulse */
    add(r, SG_FXQ_RT60, "1 kHz band", t30(b.L, n, 1000, rate), t_mid);
    add(r, SG_FXQ_RT60, "63 Hz band", t30(b.L, n, 63, rate), t_low);
    /* Pre-delay: the onset against a twin with no pre-delay (same network, so the difference is
     * the pre-delay alone, whatever the network's first reflection). */
    size_t on = onset(b.L, b.R, n);
    sg_effect_spec *twin = malloc(sizeof *twin);
    sg_fx_chain *c0 = NULL;
    if (!twin) {
      st = SG_E_NOMEM;
      goto out;
    }
    *twin = *ue;
    sg_param *pd = NULL;
    for (int i = 0; i < twin->params.n; ++i)
      if (!strcmp(twin->params.v[i].key, "predelay_ms"))
        pd = &twin->params.v[i];
    if (!pd && twin->params.n < SG_MAX_PARAMS) {
      pd = &twin->params.v[twin->params.n++];
      memset(pd, 0, sizeof *pd);
      snprintf(pd->key, sizeof pd->key, "predelay_ms");
    }
    if (pd) {
      pd->num = 0, pd->is_num = 1;
      snprintf(pd->text, sizeof pd->text, "0");
      size_t n0 = (size_t)(0.3 * rate) < n ? (size_t)(0.3 * rate) : n;
      if (sg_fx_chain_create(twin, 1, rate, bpm, "", &c0, NULL) == SG_OK) {
        memset(b.L, 0, n0 * sizeof(float));
        memset(b.R, 0, n0 * sizeof(float));
        b.L[0] = b.R[0] = 1.0f;
        run(c0, &b, 0, n0);
        b.L[0] -= (float)(1 - mix), b.R[0] -= (float)(1 - mix);
        size_t on0 = onset(b.L, b.R, n0);
        add(r, SG_FXQ_PREDELAY, "onset shift", ((double)on - (double)on0) / rate * 1e3, dv[2]);
      }
      sg_fx_chain_destroy(c0);
    }
    free(twin);
  }
out:
  buf_free(&b);
  return st;
}

/* ---- chorus, flanger, phaser ---------------------------------------------------------------- */

static sg_status probe_mod(sg_fx_chain *c, sg__fxkind kind, const double *uv, const double *dv,
                           double rate, sg_fx_probe_result *r) {
  /* The period the design says the response repeats with: 1 / (voices rate) for a chorus whose
   * voices sit evenly around the LFO cycle, 1 / rate for a flanger (one voice) and a phaser. */
  const double d_rate = dv[0];
  const int d_voices = kind == SG__FX_CHORUS ? (int)dv[3] : 1;
  const int u_voices = kind == SG__FX_CHORUS ? (int)uv[3] : 1;
  const double p_want = 1.0 / (d_voices * d_rate);
  /* Long enough for the lag search to reach 2.5 expected periods or 2.5 of the unit's own. */
  double p_max = fmax(p_want, 1.0 / (u_voices * uv[0]));
  if (p_max * 3.5 > 60) { /* a very slow LFO: a minute of audio is the most a probe spends */
    add(r, SG_FXQ_MOD_RATE, "period over 17 s: not probed", d_rate, d_rate);
    return wet_gain(c, kind == SG__FX_PHASER ? uv[6] : uv[5], 0.5, rate, r);
  }
  /* A steady sine where the modulation moves the response most: about a quarter cycle of phase
   * across the delay swing (chorus, flanger), the sweep's geometric centre (phaser); its period
   * a whole number of frames so a hop of whole periods demodulates without leakage. */
  double f0 = kind == SG__FX_PHASER ? sqrt(uv[2] * uv[3]) : 1.0 / (4 * fmax(uv[1], 0.05) * 1e-3);
  if (f0 > 0.2 * rate)
    f0 = 0.2 * rate;
  double per = floor(rate / f0 + 0.5);
  double f = rate / per;
  size_t hop = (size_t)per * (size_t)ceil(0.005 * rate / per);
  size_t skip = (size_t)(0.1 * rate);
  size_t nh = (size_t)ceil(3.5 * p_max * rate / (double)hop) + 1;
  size_t n = skip + nh * hop;
  buf2 b = {0};
  double *zr = malloc(nh * sizeof *zr), *zi = malloc(nh * sizeof *zi);
  sg_status st = SG_OK;
  if (buf_alloc(&b, n) != SG_OK || !zr || !zi) {
    st = SG_E_NOMEM;
    goto out;
  }
  for (size_t k = 0; k < n; ++k)
    b.L[k] = b.R[k] = (float)(0.5 * sin(2 * SG_PI * f * (double)k / rate));
  sg_fx_chain_reset(c);
  run(c, &b, 0, n);
  double mr = 0, mi = 0;
  for (size_t h = 0; h < nh; ++h) {
    double re = 0, im = 0;
    for (size_t k = skip + h * hop; k < skip + (h + 1) * hop; ++k) {
      double ph = 2 * SG_PI * f * (double)k / rate;
      re += b.L[k] * cos(ph), im -= b.L[k] * sin(ph);
    }
    zr[h] = re, zi[h] = im, mr += re, mi += im;
  }
  mr /= (double)nh, mi /= (double)nh;
  double e0 = 0;
  for (size_t h = 0; h < nh; ++h) {
    zr[h] -= mr, zi[h] -= mi;
    e0 += zr[h] * zr[h] + zi[h] * zi[h];
  }
  const double hop_s = (double)hop / rate;
  size_t lo = (size_t)(0.3 * p_want / hop_s), hi = (size_t)(2.5 * p_max / hop_s);
  if (lo < 2)
    lo = 2;
  if (hi > nh - 2)
    hi = nh - 2;
  double *ac = calloc(hi + 2, sizeof *ac);
  if (!ac) {
    st = SG_E_NOMEM;
    goto out;
  }
  double best = 0;
  for (size_t L = lo - 1; L <= hi + 1; ++L) {
    double s = 0, ea = 0, eb = 0;
    for (size_t h = 0; h + L < nh; ++h) {
      s += zr[h] * zr[h + L] + zi[h] * zi[h + L];
      ea += zr[h] * zr[h] + zi[h] * zi[h];
      eb += zr[h + L] * zr[h + L] + zi[h + L] * zi[h + L];
    }
    ac[L] = s / sqrt(ea * eb + 1e-300);
    if (L >= lo && L <= hi && ac[L] > best)
      best = ac[L];
  }
  double period = -1;
  for (size_t L = lo; L <= hi && e0 > 0; ++L)
    if (ac[L] >= 0.9 * best && ac[L] >= ac[L - 1] && ac[L] >= ac[L + 1]) {
      double den = ac[L - 1] - 2 * ac[L] + ac[L + 1];
      double dl = fabs(den) > 1e-12 ? 0.5 * (ac[L - 1] - ac[L + 1]) / den : 0;
      period = ((double)L + dl) * hop_s;
      break;
    }
  free(ac);
  add(r, SG_FXQ_MOD_RATE, "LFO", period > 0 ? 1.0 / (d_voices * period) : -1, d_rate);
  st = wet_gain(c, kind == SG__FX_PHASER ? uv[6] : uv[5], 0.5, rate, r);
out:
  buf_free(&b);
  free(zr);
  free(zi);
  return st;
}

/* ---- saturation ----------------------------------------------------------------------------- */

/* Harmonic amplitudes 1..K of the design's curve driven by a sine of amplitude A, from one
 * period sampled os_n times (16 per frame when the unit oversamples: alias-free to the harmonics
 * that matter; the base rate when it does not, as the unit itself then aliases). */
static void curve_harmonics(const double *dv, double A, int period, int os_n, int K, double *h) {
  const double g = sg_db_to_lin(dv[0]), bias = 0.5 * dv[1], out = sg_db_to_lin(dv[2]), m = dv[3];
  const int N = period * os_n;
  for (int k = 1; k <= K; ++k) {
    double re = 0, im = 0;
    for (int i = 0; i < N; ++i) {
      double ph = 2 * SG_PI * i / N, x = A * sin(ph);
      double y = (1 - m) * x + m * out * (tanh(g * x + bias) - tanh(bias));
      re += y * cos(k * ph), im -= y * sin(k * ph);
    }
    h[k] = 2 * sqrt(re * re + im * im) / N;
  }
}

static sg_status probe_sat(sg_fx_chain *c, const double *dv, double rate, sg_fx_probe_result *r) {
  const int period = (int)floor(rate / 1000.0 + 0.5);
  const double f = rate / period, A = 0.5;
  int K = (int)(0.4 * rate / f);
  if (K > 20)
    K = 20;
  const size_t skip = (size_t)(0.2 * rate) / (size_t)period * (size_t)period;
  const size_t n = skip + (size_t)period * 100;
  buf2 b = {0};
  if (buf_alloc(&b, n) != SG_OK) {
    buf_free(&b);
    return SG_E_NOMEM;
  }
  for (size_t k = 0; k < n; ++k)
    b.L[k] = b.R[k] = (float)(A * sin(2 * SG_PI * (double)(k % (size_t)period) / period));
  sg_fx_chain_reset(c);
  run(c, &b, 0, n);
  double hm[21], hd[21], em = 0, ed = 0;
  for (int k = 1; k <= K; ++k)
    hm[k] = tone_amp(b.L, skip, n, k * f, rate);
  curve_harmonics(dv, A, period, dv[4] > 1 ? 16 : 1, K, hd);
  for (int k = 2; k <= K; ++k)
    em += hm[k] * hm[k], ed += hd[k] * hd[k];
  char what[40];
  snprintf(what, sizeof what, "THD of %.0f Hz at -6 dBFS", f);
  add(r, SG_FXQ_THD, what, 10 * log10(em / (hm[1] * hm[1]) + 1e-30),
      10 * log10(ed / (hd[1] * hd[1]) + 1e-30));
  add(r, SG_FXQ_LEVEL, "fundamental gain", db20(hm[1] / A), db20(hd[1] / A));
  buf_free(&b);
  return SG_OK;
}

/* ---- width, pan, gain, limiter --------------------------------------------------------------- */

static sg_status probe_level(sg_fx_chain *c, sg__fxkind kind, const double *dv,
                             sg_fx_probe_result *r) {
  /* DC in: L = 1, R = 0.5 (mid 0.75, side 0.25), 64 frames (the units have no memory but their
   * smoothers, which start at the target). */
  buf2 b = {0};
  if (buf_alloc(&b, 64) != SG_OK) {
    buf_free(&b);
    return SG_E_NOMEM;
  }
  for (size_t k = 0; k < 64; ++k)
    b.L[k] = 1.0f, b.R[k] = 0.5f;
  sg_fx_chain_reset(c);
  run(c, &b, 0, 64);
  double l = b.L[63], rr = b.R[63];
  if (kind == SG__FX_WIDTH) {
    add(r, SG_FXQ_LEVEL, "side", db20(fabs(0.5 * (l - rr)) / 0.25), db20(dv[0]));
    add(r, SG_FXQ_LEVEL, "mid", db20(fabs(0.5 * (l + rr)) / 0.75), 0);
  } else if (kind == SG__FX_PAN) {
    double th = (fmin(fmax(dv[0], -1), 1) + 1) * SG_PI / 4;
    add(r, SG_FXQ_LEVEL, "left", db20(fabs(l)), db20(cos(th)));
    add(r, SG_FXQ_LEVEL, "right", db20(fabs(rr) / 0.5), db20(sin(th)));
  } else {
    add(r, SG_FXQ_LEVEL, "left", db20(fabs(l)), dv[0]);
    add(r, SG_FXQ_LEVEL, "right", db20(fabs(rr) / 0.5), dv[0]);
  }
  buf_free(&b);
  return SG_OK;
}

static sg_status probe_limiter(sg_fx_chain *c, const double *dv, double rate,
                               sg_fx_probe_result *r) {
  /* A quarter-rate sine at 45 degrees: its samples sit 3 dB below its true peak, which is put
   * 12 dB over the ceiling, plus a 997 Hz sine for changing peaks. Half a second and the
   * latency. */
  size_t n = (size_t)(0.5 * rate) + sg_fx_chain_latency_frames(c);
  buf2 b = {0};
  if (buf_alloc(&b, n) != SG_OK) {
    buf_free(&b);
    return SG_E_NOMEM;
  }
  double a = sg_db_to_lin(dv[0] + 12);
  for (size_t k = 0; k < n; ++k) {
    double t = (double)k;
    b.L[k] = b.R[k] = (float)(0.5 * a * sin(SG_PI / 2 * t + SG_PI / 4) +
                              0.5 * a * sin(2 * SG_PI * 997 * t / rate));
  }
  sg_fx_chain_reset(c);
  run(c, &b, 0, n);
  sg_truepeak_config tc;
  sg_truepeak_config_init(&tc);
  sg_truepeak tp;
  double pk = 0;
  if (sg_truepeak_init(&tp, &tc, rate) == SG_OK) {
    sg_truepeak_process(&tp, b.L, 1, n);
    pk = sg_truepeak_value(&tp);
  }
  add(r, SG_FXQ_CEILING, "over-driven by 12 dB", db20(pk), dv[0]);
  buf_free(&b);
  return SG_OK;
}

/* ---- dispatch ------------------------------------------------------------------------------- */

sg_status sg_fx_probe_against(const sg_effect_spec *unit, const sg_effect_spec *design, double rate,
                              double bpm, sg_fx_probe_result *out, sg_diag *d) {
  if (!unit || !design || !out)
    return sg_diag_fail(d, SG_E_INVAL, "fx probe: invalid arguments");
  memset(out, 0, sizeof *out);
  sg_fx_chain *cu = NULL, *cd = NULL;
  sg_status st = sg_fx_chain_create(unit, 1, rate, bpm, "", &cu, d);
  if (st == SG_OK)
    st = sg_fx_chain_create(design, 1, rate, bpm, "", &cd, d);
  if (st == SG_OK && sg__fx_node_kind(cu, 0) != sg__fx_node_kind(cd, 0))
    st = sg_diag_fail(d, SG_E_INVAL, "fx probe: unit '%s' against a '%s' design",
                      sg_fx_chain_type(cu, 0), sg_fx_chain_type(cd, 0));
  if (st != SG_OK)
    goto out;
  const sg__fxkind kind = sg__fx_node_kind(cu, 0);
  const double *uv = sg__fx_node_values(cu, 0), *dv = sg__fx_node_values(cd, 0);
  switch (kind) {
  case SG__FX_EQ:
    st = probe_eq(cu, dv, rate, out);
    break;
  case SG__FX_COMP:
    st = probe_comp(cu, uv, dv, rate, out);
    break;
  case SG__FX_DELAY:
    st = probe_delay(cu, dv, sg__fx_node_text(cd, 0, 0), rate, bpm, out);
    break;
  case SG__FX_REVERB:
    st = probe_reverb(cu, unit, uv, dv, rate, bpm, out);
    break;
  case SG__FX_CHORUS:
  case SG__FX_FLANGER:
  case SG__FX_PHASER:
    st = probe_mod(cu, kind, uv, dv, rate, out);
    break;
  case SG__FX_SAT:
    st = probe_sat(cu, dv, rate, out);
    break;
  case SG__FX_WIDTH:
  case SG__FX_PAN:
  case SG__FX_GAIN:
    st = probe_level(cu, kind, dv, out);
    break;
  case SG__FX_LIMITER:
    st = probe_limiter(cu, dv, rate, out);
    break;
  default:
    st = SG_E_INTERNAL;
  }
  if (st != SG_OK)
    sg_diag_fail(d, st, "fx probe of '%s' failed: %s", sg_fx_chain_type(cu, 0),
                 sg_status_message(st));
out:
  sg_fx_chain_destroy(cu);
  sg_fx_chain_destroy(cd);
  return st;
}

sg_status sg_fx_probe(const sg_effect_spec *e, double rate, double bpm, sg_fx_probe_result *out,
                      sg_diag *d) {
  return sg_fx_probe_against(e, e, rate, bpm, out, d);
}

sg_status sg_fx_design_get(const sg_effect_spec *e, double rate, double bpm, sg_fx_design *out,
                           sg_diag *d) {
  if (!e || !out)
    return sg_diag_fail(d, SG_E_INVAL, "fx design: invalid arguments");
  memset(out, 0, sizeof *out);
  sg_fx_chain *c = NULL;
  sg_status st = sg_fx_chain_create(e, 1, rate, bpm, "", &c, d);
  if (st != SG_OK)
    return st;
  const sg__fxkind kind = sg__fx_node_kind(c, 0);
  const double *v = sg__fx_node_values(c, 0);
  out->kind = (int)kind;
  snprintf(out->type, sizeof out->type, "%s", sg_fx_chain_type(c, 0));
  out->mix = 1;
  out->gain_l = out->gain_r = 1;
  out->width = 1;
  switch (kind) {
  case SG__FX_EQ:
    design_eq(v, &out->eq);
    out->n_probe_hz = eq_freqs(&out->eq, rate, out->probe_hz);
    break;
  case SG__FX_COMP:
    design_comp(v, &out->comp);
    snprintf(out->sidechain, sizeof out->sidechain, "%s", sg__fx_node_text(c, 0, 8));
    break;
  case SG__FX_DELAY:
    out->mix = v[2];
    break;
  case SG__FX_REVERB:
    out->mix = v[4];
    break;
  case SG__FX_CHORUS:
  case SG__FX_FLANGER:
    out->mix = v[5];
    break;
  case SG__FX_PHASER:
    out->mix = v[6];
    break;
  case SG__FX_SAT:
    sg_saturation_config_init(&out->sat);
    out->sat.drive_db = v[0], out->sat.asym = v[1], out->sat.output_db = v[2];
    out->sat.mix = v[3], out->sat.oversample = (int)v[4];
    out->mix = v[3];
    break;
  case SG__FX_WIDTH:
    out->width = v[0];
    break;
  case SG__FX_PAN:
    sg_pan_gains(v[0], &out->gain_l, &out->gain_r);
    break;
  case SG__FX_GAIN:
    out->gain_l = out->gain_r = sg_db_to_lin(v[0]);
    break;
  case SG__FX_LIMITER:
    out->ceiling_dbtp = v[0];
    break;
  default:
    break;
  }
  sg_fx_chain_destroy(c);
  return SG_OK;
}
