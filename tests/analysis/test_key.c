/* Pitch: key names, key of I-IV-V-I cadences in all 24 keys (with drums on top, which HPSS
 * must keep out of the chroma), a key track finding G major -> Ab major -> G major, and
 * bass-heavy material whose low sawtooth partials used to pull the key a fifth away. */
#include "analysis_gen.h"
#include "chord_gen.h"
#include "sg_test.h"

#include "stemgate/analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 22050u
#define SAW_AMP 0.12   /* sawtooth bass peak ~0.19: its partials carry ~4x a chord note's */
#define CHORD_AMP 0.12 /* each chord note (6 partials at 1/h)                             */

/* One cadence (4 chords of 1 s) in key (tonic, minor) starting at t0: I-IV-V-I in major,
 * i-iv-V-i in minor (harmonic minor dominant). Bass on the root an octave down. */
static void cadence_tuned(float *x, size_t n, double t0, int tonic, int minor, double detune) {
  static const int maj[4][3] = {{0, 4, 7}, {5, 9, 0}, {7, 11, 2}, {0, 4, 7}};
  static const int min[4][3] = {{0, 3, 7}, {5, 8, 0}, {7, 11, 2}, {0, 3, 7}};
  for (int c = 0; c < 4; ++c) {
    const int *ch = minor ? min[c] : maj[c];
    double t = t0 + c;
    for (int v = 0; v < 3; ++v)
      gen_tone(x, n, RATE, t, 0.95, 60 + (tonic + ch[v]) % 12 + detune, 0.12);
    gen_tone(x, n, RATE, t, 0.95, 48 + (tonic + ch[0]) % 12 + detune, 0.15);
  }
}

static void cadence(float *x, size_t n, double t0, int tonic, int minor) {
  cadence_tuned(x, n, t0, tonic, minor, 0);
}

/* Kick-like and hat-like noise bursts on every half second (drums pollute raw chroma). */
static void drums(float *x, size_t n, double secs, sg_rng *g) {
  for (double t = 0; t < secs; t += 0.5) {
    gen_burst(x, n, RATE, t, 0.4, 0.03, 0.15, g);
    gen_burst(x, n, RATE, t + 0.25, 0.15, 0.01, 0.05, g);
  }
}

static void key_names(void **state) {
  (void)state;
  assert_string_equal(sg_keyfit_name(8, 0), "Ab major");
  assert_string_equal(sg_keyfit_name(8, 1), "G# minor");
  assert_string_equal(sg_keyfit_name(6, 0), "F# major");
  assert_string_equal(sg_keyfit_name(1, 0), "Db major");
  assert_string_equal(sg_keyfit_name(1, 1), "C# minor");
  assert_string_equal(sg_keyfit_name(3, 1), "Eb minor");
  assert_string_equal(sg_keyfit_name(10, 0), "Bb major");
  assert_string_equal(sg_keyfit_name(-1, 0), "none");
  int t, m;
  assert_int_equal(sg_keyfit_parse("G#", &t, &m), SG_OK);
  assert_true(t == 8 && m == 0);
  assert_int_equal(sg_keyfit_parse("Abm", &t, &m), SG_OK);
  assert_true(t == 8 && m == 1);
  assert_int_equal(sg_keyfit_parse("f# minor", &t, &m), SG_OK);
  assert_true(t == 6 && m == 1);
  assert_int_equal(sg_keyfit_parse("Cb major", &t, &m), SG_OK);
  assert_true(t == 11 && m == 0);
  assert_int_equal(sg_keyfit_parse("A min", &t, &m), SG_OK);
  assert_true(t == 9 && m == 1);
  assert_int_equal(sg_keyfit_parse("H", &t, &m), SG_E_PARSE);
  assert_int_equal(sg_keyfit_parse("C dorian", &t, &m), SG_E_PARSE);
  /* Every name parses back to itself. */
  for (int k = 0; k < 24; ++k) {
    assert_int_equal(sg_keyfit_parse(sg_keyfit_name(k % 12, k / 12), &t, &m), SG_OK);
    assert_true(t == k % 12 && m == k / 12);
  }
}

static void all_24_keys(void **state) {
  (void)state;
  const double secs = 8.0;
  const size_t n = (size_t)(secs * RATE);
  float *x = malloc(n * sizeof *x);
  assert_non_null(x);
  sg_rng g;
  sg_rng_seed(&g, 2024, 9);
  printf("drum seed 2024\n");
  int wrong[2] = {0, 0};
  for (int k = 0; k < 24; ++k) {
    int tonic = k % 12, minor = k / 12;
    memset(x, 0, n * sizeof *x);
    cadence(x, n, 0, tonic, minor);
    cadence(x, n, 4, tonic, minor);
    drums(x, n, secs, &g);
    sg_features *f = NULL;
    assert_int_equal(sg_features_from_mono(&f, x, n, RATE, NULL, NULL), SG_OK);
    for (int prof = 0; prof < 2; ++prof) {
      sg_keyfit key;
      assert_int_equal(sg_key_estimate(f, 0, 0, (sg_key_profile)prof, &key), SG_OK);
      if (key.tonic != tonic || key.minor != minor) {
        printf("%s: %s estimated %s (r %.3f, conf %.3f)\n", prof ? "Temperley" : "Krumhansl",
               sg_keyfit_name(tonic, minor), sg_keyfit_name(key.tonic, key.minor), key.r,
               key.confidence);
        wrong[prof]++;
      }
    }
    sg_features_free(f);
  }
  printf("wrong keys: Krumhansl %d/24, Temperley %d/24\n", wrong[0], wrong[1]);
  assert_int_equal(wrong[SG_KEY_KRUMHANSL], 0);
  assert_int_equal(wrong[SG_KEY_TEMPERLEY], 0);
  free(x);
}

static void detuned_material(void **state) {
  (void)state;
  /* A4 = 432 Hz (-31.8 cents): the tuning is measured (within 3 cents) and the chroma folded
   * around it, so 12 keys (alternating major and minor) still read right with
   * Krumhansl-Kessler. The 13th case is in tune and must read ~0 cents. */
  const double secs = 8.0, detune = 12 * log2(432.0 / 440.0);
  const size_t n = (size_t)(secs * RATE);
  float *x = malloc(n * sizeof *x);
  assert_non_null(x);
  sg_rng g;
  sg_rng_seed(&g, 4321, 9);
  int wrong = 0;
  for (int k = 0; k < 13; ++k) {
    int tonic = (k * 7) % 12, minor = k % 2;
    double dt = k < 12 ? detune : 0;
    memset(x, 0, n * sizeof *x);
    cadence_tuned(x, n, 0, tonic, minor, dt);
    cadence_tuned(x, n, 4, tonic, minor, dt);
    drums(x, n, secs, &g);
    sg_features *f = NULL;
    assert_int_equal(sg_features_from_mono(&f, x, n, RATE, NULL, NULL), SG_OK);
    double cents = sg_features_tuning_cents(f);
    assert_true(fabs(cents - 100 * dt) < 3); /* within 3 cents */
    sg_keyfit key;
    assert_int_equal(sg_key_estimate(f, 0, 0, SG_KEY_KRUMHANSL, &key), SG_OK);
    if (key.tonic != tonic || key.minor != minor) {
      printf("432 Hz: %s read as %s\n", sg_keyfit_name(tonic, minor),
             sg_keyfit_name(key.tonic, key.minor));
      wrong++;
    }
    if (k == 0 || k == 12)
      printf("tuning %.1f cents (expect %.1f)\n", cents, 100 * dt);
    sg_features_free(f);
  }
  assert_int_equal(wrong, 0);
  free(x);
}

static void key_track_finds_modulation(void **state) {
  (void)state;
  const double secs = 60.0;
  const size_t n = (size_t)(secs * RATE);
  float *x = calloc(n, sizeof *x);
  assert_non_null(x);
  for (int s = 0; s < 15; ++s)
    cadence(x, n, 4.0 * s, (s >= 5 && s < 10) ? 8 : 7, 0); /* G, Ab (20..40 s), G */
  sg_rng g;
  sg_rng_seed(&g, 77, 9);
  drums(x, n, secs, &g);
  sg_features *f = NULL;
  assert_int_equal(sg_features_from_mono(&f, x, n, RATE, NULL, NULL), SG_OK);
  sg_key_track tr;
  assert_int_equal(sg_key_track_compute(f, NULL, &tr), SG_OK);
  printf("windows %zu, changes %zu\n", tr.n, tr.n_changes);
  for (size_t i = 0; i < tr.n_changes; ++i)
    printf("  %.1f s: %s -> %s\n", tr.change[i].time_s,
           sg_keyfit_name(tr.change[i].from.tonic, tr.change[i].from.minor),
           sg_keyfit_name(tr.change[i].to.tonic, tr.change[i].to.minor));
  assert_int_equal(tr.n_changes, 2);
  assert_true(fabs(tr.change[0].time_s - 20) <= 5 && fabs(tr.change[1].time_s - 40) <= 5);
  assert_string_equal(sg_keyfit_name(tr.change[0].from.tonic, tr.change[0].from.minor), "G major");
  assert_string_equal(sg_keyfit_name(tr.change[0].to.tonic, tr.change[0].to.minor), "Ab major");
  assert_string_equal(sg_keyfit_name(tr.change[1].to.tonic, tr.change[1].to.minor), "G major");
  /* Whole-file key: G major (40 of 60 s). */
  sg_keyfit k;
  assert_int_equal(sg_key_estimate(f, 0, 0, SG_KEY_KRUMHANSL, &k), SG_OK);
  assert_string_equal(sg_keyfit_name(k.tonic, k.minor), "G major");
  assert_true(k.r > k.r_relative); /* E minor, the relative key, correlates less */
  sg_key_track_free(&tr);
  sg_features_free(f);
  free(x);
}

static void silence_has_no_key(void **state) {
  (void)state;
  float *x = calloc(RATE * 3, sizeof *x);
  assert_non_null(x);
  sg_features *f = NULL;
  assert_int_equal(sg_features_from_mono(&f, x, RATE * 3, RATE, NULL, NULL), SG_OK);
  sg_keyfit k;
  assert_int_equal(sg_key_estimate(f, 0, 0, SG_KEY_KRUMHANSL, &k), SG_OK);
  assert_int_equal(k.tonic, -1);
  sg_features_free(f);
  free(x);
}

/* The shared key check on I-IV-V-I cadences in G major (tests/support/chord_gen.h: 1 s bars,
 * bass in the bass register, 4-bar phrases): the
 * key passes; the relative minor, a key a fifth away (one degree off) and a wrong key fail; a
 * region shorter than 6 s is not judged. */
static void key_check_grid_rules(void **state) {
  (void)state;
  const size_t n = (size_t)(16.0 * RATE);
  float *x = calloc(n, sizeof *x);
  assert_int_equal(cg_chart(x, n, RATE, 0, 1.0, "G|C|D|G|G|C|D|G|G|C|D|G|G|C|D|G"), 16);
  sg_features *f;
  assert_int_equal(sg_features_from_mono(&f, x, n, RATE, NULL, NULL), SG_OK);
  double bar_s[17];
  for (int i = 0; i <= 16; ++i)
    bar_s[i] = i;
  const int phrase[4] = {0, 4, 8, 12};
  sg_key_grid g = {bar_s, 16, phrase, 4};
  static const struct {
    const char *key;
    int verdict;
  } want[] = {{"G major", 1}, {"E minor", 0},      {"Ab major", 0}, {"D major", 0}, {"C major", 0},
              {"A major", 0}, {"G mixolydian", 0}, {"C lydian", 0}, {"D dorian", 0}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; ++i) {
    sg_key k;
    sg_key_check kc;
    assert_int_equal(sg_key_parse(want[i].key, &k, NULL), SG_OK);
    assert_int_equal(sg_key_check_grid(f, &g, &k, &kc), SG_OK);
    printf("G major cadences as %s: %s -> %d\n", want[i].key, kc.text, kc.verdict);
    assert_int_equal(kc.verdict, want[i].verdict);
    assert_int_equal(kc.ev.tonic, 7);
  }
  sg_key k;
  sg_key_check kc;
  assert_int_equal(sg_key_parse("G major", &k, NULL), SG_OK);
  g.n_bars = 4; /* 4 s */
  g.n_phrases = 1;
  assert_int_equal(sg_key_check_grid(f, &g, &k, &kc), SG_E_RANGE);
  sg_features_free(f);
  free(x);
}

/* Adds a band-limited sawtooth (every partial below 0.45 * RATE, amplitude 1/h) at midi from t0
 * for dur seconds, 10 ms ramps; sin(h w) by the Chebyshev recurrence, one sin/cos per sample. */
static void gen_saw(float *x, size_t n, double t0, double dur, double midi, double amp) {
  double hz = sg_midi_to_hz(midi);
  int H = (int)floor(0.45 * RATE / hz);
  long s0 = lround(t0 * RATE), len = lround(dur * RATE), ramp = (long)(0.01 * RATE);
  for (long i = 0; i < len; ++i) {
    long j = s0 + i;
    if (j < 0 || j >= (long)n)
      continue;
    double env = i < ramp ? (double)i / ramp : len - i < ramp ? (double)(len - i) / ramp : 1;
    double ph = 2 * SG_PI * hz * (double)i / RATE, c2 = 2 * cos(ph);
    double sm1 = 0, s = sin(ph), v = 0; /* sin((h-1) ph), sin(h ph) */
    for (int h = 1; h <= H; ++h) {
      v += s / h;
      double nx = c2 * s - sm1;
      sm1 = s;
      s = nx;
    }
    x[j] += (float)(amp * env * v);
  }
}

/* Two bass-heavy progressions in a major key, 2 s per chord: I-vi-IV-V triads and
 * Imaj7-iiim7-IVmaj7-V7 (the README song's verse). A loud sawtooth bass plays the roots with
 * fundamentals of 35-65 Hz (E1..C2, the pitch classes above C an octave down), so its low
 * partials all land in the chroma band, the fundamental mostly below the old 60 Hz edge; a
 * quieter additive layer plays the chords around middle C. The chroma that folded every partial
 * read all 12 seventh-chord songs wrong with Krumhansl (7 a fifth up, e.g. C -> G major, 5 as
 * the mediant's minor, e.g. D major -> F# minor); the salience front end reads all 24 songs
 * right with both profiles. */
static const int prog_root[2][4] = {{0, 9, 5, 7}, {0, 4, 5, 7}};
static const int prog_chord[2][4][4] = {
    {{0, 4, 7, -1}, {0, 3, 7, -1}, {0, 4, 7, -1}, {0, 4, 7, -1}},
    {{0, 4, 7, 11}, {0, 3, 7, 10}, {0, 4, 7, 11}, {0, 4, 7, 10}}};

static void saw_bass_song(float *x, size_t n, int tonic, int prog) {
  for (int rep = 0; rep < 1; ++rep)
    for (int c = 0; c < 4; ++c) {
      double t = 8.0 * rep + 2.0 * c;
      int r = (tonic + prog_root[prog][c]) % 12;
      int bass = 28 + (r - 4 + 12) % 12; /* E1 = 28 */
      if (bass > 36)
        bass -= 12;
      for (int q = 0; q < 4; ++q) /* roots; in the seventh-chord song root and fifth below */
        gen_saw(x, n, t + 0.5 * q, 0.45, bass - (prog && q % 2 ? 5 : 0), SAW_AMP);
      for (int v = 0; v < 4; ++v)
        if (prog_chord[prog][c][v] >= 0)
          gen_tone(x, n, RATE, t, 1.95, 60 + (r + prog_chord[prog][c][v]) % 12, CHORD_AMP);
    }
}

static void saw_bass_keys(void **state) {
  (void)state;
  const double secs = 8.0;
  const size_t n = (size_t)(secs * RATE);
  float *x = malloc(n * sizeof *x);
  assert_non_null(x);
  int wrong[2] = {0, 0};
  for (int k = 0; k < 24; ++k) {
    int tonic = k % 12, prog = k / 12;
    memset(x, 0, n * sizeof *x);
    saw_bass_song(x, n, tonic, prog);
    sg_features *f = NULL;
    assert_int_equal(sg_features_from_mono(&f, x, n, RATE, NULL, NULL), SG_OK);
    for (int prof = 0; prof < 2; ++prof) {
      sg_keyfit key;
      assert_int_equal(sg_key_estimate(f, 0, 0, (sg_key_profile)prof, &key), SG_OK);
      if (key.tonic != tonic || key.minor) {
        printf("saw bass %d, %s: %s estimated %s (r %.3f)\n", prog,
               prof ? "Temperley" : "Krumhansl", sg_keyfit_name(tonic, 0),
               sg_keyfit_name(key.tonic, key.minor), key.r);
        wrong[prof]++;
      }
    }
    sg_features_free(f);
  }
  printf("saw bass, wrong keys: Krumhansl %d/24, Temperley %d/24\n", wrong[0], wrong[1]);
  assert_int_equal(wrong[SG_KEY_KRUMHANSL], 0);
  assert_int_equal(wrong[SG_KEY_TEMPERLEY], 0);
  free(x);
}

/* A file longer than the chroma frames kept in memory (~24 s of 1/5-semitone frames, ~47 s of
 * chroma here): they go to temporary files, the 1/5-semitone frames until finish folds them, the
 * chroma for the key analyses to read by span. The chroma must be the same floats as when no
 * temporary file can be made (TMPDIR unusable: they stay in memory), the key estimate and key
 * track the same, and the detuned key still read. */
static void long_chroma_spooled(void **state) {
  (void)state;
  const double secs = 60.0, detune = 12 * log2(432.0 / 440.0);
  const size_t n = (size_t)(secs * RATE);
  float *x = calloc(n, sizeof *x);
  assert_non_null(x);
  for (double t = 0; t + 4 <= secs; t += 4)
    cadence_tuned(x, n, t, 9, 1, detune);
  const char *old = getenv("TMPDIR");
  char *keep = old ? strdup(old) : NULL;
  sg_features *f[2] = {NULL, NULL};
  assert_int_equal(sg_features_from_mono(&f[0], x, n, RATE, NULL, NULL), SG_OK);
  assert_int_equal(setenv("TMPDIR", "/nonexistent/stemgate-test", 1), 0);
  assert_int_equal(sg_features_from_mono(&f[1], x, n, RATE, NULL, NULL), SG_OK);
  if (keep)
    setenv("TMPDIR", keep, 1);
  else
    unsetenv("TMPDIR");
  free(keep);
  size_t n0, n1, b0, b1;
  double r0, r1;
  const float *c0 = sg_features_chroma(f[0], &n0, &r0), *c1 = sg_features_chroma(f[1], &n1, &r1);
  const float *bc0 = sg_features_bass_chroma(f[0], &b0, NULL);
  const float *bc1 = sg_features_bass_chroma(f[1], &b1, NULL);
  assert_true(n0 > (size_t)(30 * r0)); /* well past the frames kept in memory */
  assert_int_equal(n0, n1);
  assert_int_equal(b0, n0);
  assert_int_equal(b1, n1);
  assert_memory_equal(c0, c1, n0 * 12 * sizeof *c0);
  assert_memory_equal(bc0, bc1, n0 * 12 * sizeof *bc0);
  assert_true(sg_features_tuning_cents(f[0]) == sg_features_tuning_cents(f[1]));
  sg_keyfit key, key1;
  assert_int_equal(sg_key_estimate(f[0], 0, 0, SG_KEY_KRUMHANSL, &key), SG_OK);
  assert_int_equal(sg_key_estimate(f[1], 0, 0, SG_KEY_KRUMHANSL, &key1), SG_OK);
  assert_int_equal(key.tonic, 9);
  assert_int_equal(key.minor, 1);
  assert_true(key.r == key1.r && key.confidence == key1.confidence);
  sg_key_track ta, tb;
  assert_int_equal(sg_key_track_compute(f[0], NULL, &ta), SG_OK);
  assert_int_equal(sg_key_track_compute(f[1], NULL, &tb), SG_OK);
  assert_true(ta.n > 0 && ta.n == tb.n);
  for (size_t i = 0; i < ta.n; ++i)
    assert_true(ta.key[i].tonic == tb.key[i].tonic && ta.key[i].r == tb.key[i].r);
  sg_key_track_free(&ta);
  sg_key_track_free(&tb);
  sg_features_free(f[0]);
  sg_features_free(f[1]);
  free(x);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(key_names),          cmocka_unit_test(all_24_keys),
      cmocka_unit_test(detuned_material),   cmocka_unit_test(key_track_finds_modulation),
      cmocka_unit_test(silence_has_no_key), cmocka_unit_test(key_check_grid_rules),
      cmocka_unit_test(saw_bass_keys),      cmocka_unit_test(long_chroma_spooled),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
