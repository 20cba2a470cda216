/* stemgate verify on packages built here: a 25.7 s song (140 BPM 4/4, 48 kHz float stereo;
 * sections A in G major, B in Ab major, A2 in G major; stems Keys, Bass, Bridge (B only) and
 * Drums from a reference). The stems are additive-harmonic chord tones in the right keys and a
 * kick/snare/hat pattern on the grid; the master is their sum normalised to -14 LUFS.
 *
 * The good package passes every check; each broken variant fails exactly the checks named in
 * the test, no others. Tolerances are the spec's (sync 10 ms, length 50 ms, loudness +-0.5 LU,
 * true peak -1 dBTP, silence -60 dBFS, key window 10 s, tempo +-1 BPM). */
#include "sg_test.h"

#include "package/json.h"
#include "stemgate/analysis.h"
#include "stemgate/package.h"
#include "stemgate/spec.h"
#include "stemgate/timing.h"
#include "stemgate/verify.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zip.h>

#define RATE 48000
#define CH 2

static const char *SPEC =
    "title: Verify Test\n"
    "tempo: 140\n"
    "meter: 4/4\n"
    "sample_rate: 48000\n"
    "format: float32\n"
    "channels: 2\n"
    "key: G major\n"
    "sections:\n"
    "  - {name: A, bars: 5}\n"
    "  - {name: B, bars: 5, key: Ab major}\n"
    "  - {name: A2, bars: 5}\n"
    "stems:\n"
    "  - {name: Keys, instrument: prophet_poly}\n"
    "  - {name: Bass, instrument: moog_bass}\n"
    "  - {name: Bridge, instrument: dx7, sections: [B]}\n"
    "drums:\n"
    "  source: reference\n"
    "  reference: ref.wav\n"
    "master: {loudness_lufs: -14, loudness_tolerance: 0.5, true_peak_dbtp: -1.0}\n";

enum { KEYS = 0, BASS, BRIDGE, DRUMS, MASTER, NPARTS };
static const char *part_name[NPARTS] = {"Keys", "Bass", "Bridge", "Drums", "Master"};

typedef struct song_audio {
  unsigned rate;
  size_t frames;
  float *part[NPARTS]; /* interleaved stereo */
} song_audio;

static sg_song *song;
static sg_timeline tl;
static song_audio good;

/* ---- synthesis ------------------------------------------------------------------------------ */

/* Diatonic triads I, IV, V, vi of a major key, one per bar, as semitones above the tonic. */
static const int triads[4][3] = {{0, 4, 7}, {5, 9, 12}, {7, 11, 14}, {9, 12, 16}};

/* A tone of 6 harmonics (amplitudes 1/k) with a 10 ms attack and 30 ms release inside [t0, t1). */
static void add_tone(float *x, size_t frames, unsigned rate, double midi, double t0, double t1,
                     double amp, double pan) {
  double f0 = 440.0 * pow(2.0, (midi - 69.0) / 12.0);
  size_t a = (size_t)(t0 * rate), b = (size_t)(t1 * rate);
  if (b > frames)
    b = frames;
  double gl = amp * sqrt(0.5 * (1 - pan)), gr = amp * sqrt(0.5 * (1 + pan));
  for (size_t i = a; i < b; ++i) {
    double t = (double)(i - a) / rate, rem = (double)(b - i) / rate;
    double env = fmin(1.0, t / 0.01) * fmin(1.0, rem / 0.03) * exp(-0.6 * t);
    double s = 0;
    for (int k = 1; k <= 6; ++k)
      if (k * f0 < 0.45 * rate)
        s += sin(2 * SG_PI * k * f0 * t) / k;
    s *= env;
    x[2 * i] += (float)(gl * s);
    x[2 * i + 1] += (float)(gr * s);
  }
}

static void add_drum(float *x, size_t frames, unsigned rate, int kind, double t0, sg_rng *rng,
                     double amp) {
  size_t a = (size_t)(t0 * rate);
  size_t len = (size_t)((kind == 0 ? 0.18 : kind == 1 ? 0.14 : 0.04) * rate);
  double ph = 0, prev = 0;
  for (size_t i = 0; i < len && a + i < frames; ++i) {
    double t = (double)i / rate, s;
    if (kind == 0) { /* kick: 110 -> 50 Hz sweep */
      double f = 50 + 60 * exp(-t / 0.03);
      ph += 2 * SG_PI * f / rate;
      s = sin(ph) * exp(-t / 0.06);
    } else if (kind == 1) { /* snare: noise + 190 Hz body */
      s = (0.7 * sg_rng_normal(rng) * 0.5 + 0.5 * sin(2 * SG_PI * 190 * t)) * exp(-t / 0.035);
    } else { /* hat: differentiated noise */
      double n = sg_rng_normal(rng);
      s = 0.5 * (n - prev) * exp(-t / 0.008);
      prev = n;
    }
    x[2 * (a + i)] += (float)(amp * s);
    x[2 * (a + i) + 1] += (float)(amp * s);
  }
}

/* Renders every part at rate. bridge_tonic: the B section's tonic (8 = Ab; 9 = A for the broken
 * variant); the keys follow it in B. */
static void render(song_audio *sa, unsigned rate, int bridge_tonic) {
  memset(sa, 0, sizeof *sa);
  sa->rate = rate;
  double song_s = (double)tl.total_frames / tl.rate;
  sa->frames = (size_t)llround(song_s * rate);
  for (int p = 0; p < NPARTS; ++p)
    sa->part[p] = calloc(sa->frames * CH, sizeof(float));
  double bar = 4 * 60.0 / 140.0, beat = 60.0 / 140.0;
  for (int s = 0; s < tl.n_sections; ++s) {
    int tonic = s == 1 ? bridge_tonic : 7; /* G = 7 */
    for (int64_t b = 0; b < tl.sections[s].bars; ++b) {
      double t0 = tl.sections[s].start_sec + (double)b * bar, t1 = t0 + bar;
      const int *tr = triads[b % 4];
      for (int k = 0; k < 3; ++k) /* keys: triad around middle C, two hits per bar */
        for (int h = 0; h < 2; ++h)
          add_tone(sa->part[KEYS], sa->frames, rate, 60 + tonic + tr[k] - (tonic > 5 ? 12 : 0),
                   t0 + h * bar / 2, t0 + (h + 1) * bar / 2, 0.12, -0.2);
      for (int q = 0; q < 4; ++q) /* bass: root on every beat */
        add_tone(sa->part[BASS], sa->frames, rate, 36 + tonic + tr[0], t0 + q * beat,
                 t0 + (q + 1) * beat, 0.25, 0.0);
      if (s == 1) /* bridge: broken-chord eighths an octave up, B only */
        for (int e = 0; e < 8; ++e)
          add_tone(sa->part[BRIDGE], sa->frames, rate, 72 + tonic + tr[e % 3] - 12,
                   t0 + e * beat / 2, t0 + (e + 1) * beat / 2, 0.08, 0.3);
      (void)t1;
    }
  }
  /* Drums: kick 1 and 3 and the "and" of 3, snare 2 and 4, hats on eighths. */
  sg_rng rng;
  sg_rng_seed(&rng, 42, 7);
  int64_t beats = tl.total_bars * 4;
  for (int64_t q = 0; q < beats; ++q) {
    double t = (double)q * beat;
    if (q % 4 == 0 || q % 4 == 2)
      add_drum(sa->part[DRUMS], sa->frames, rate, 0, t, &rng, 0.5);
    if (q % 4 == 2)
      add_drum(sa->part[DRUMS], sa->frames, rate, 0, t + beat / 2, &rng, 0.35);
    if (q % 4 == 1 || q % 4 == 3)
      add_drum(sa->part[DRUMS], sa->frames, rate, 1, t, &rng, 0.4);
    add_drum(sa->part[DRUMS], sa->frames, rate, 2, t, &rng, 0.25);
    add_drum(sa->part[DRUMS], sa->frames, rate, 2, t + beat / 2, &rng, 0.15);
  }
  /* A decaying sine kick starting at phase 0 has a positive mean; remove it (the dc_offset
   * check allows |mean| <= 0.001). */
  for (int c = 0; c < CH; ++c) {
    double mean = 0;
    for (size_t i = 0; i < sa->frames; ++i)
      mean += sa->part[DRUMS][i * CH + c];
    mean /= (double)sa->frames;
    for (size_t i = 0; i < sa->frames; ++i)
      sa->part[DRUMS][i * CH + c] -= (float)mean;
  }
  for (size_t i = 0; i < sa->frames * CH; ++i)
    for (int p = 0; p < MASTER; ++p)
      sa->part[MASTER][i] += sa->part[p][i];
  /* Normalise everything by the gain that puts the master at -14 LUFS (stems keep summing to
   * the master). */
  sg_meter *m = NULL;
  assert_int_equal(sg_meter_create(&m, CH, rate, SG_METER_ALL, NULL), SG_OK);
  assert_int_equal(sg_meter_add(m, sa->part[MASTER], sa->frames), SG_OK);
  sg_meter_result r;
  sg_meter_result_get(m, &r);
  sg_meter_free(m);
  double g = pow(10.0, (-14.0 - r.integrated_lufs) / 20.0);
  for (int p = 0; p < NPARTS; ++p)
    for (size_t i = 0; i < sa->frames * CH; ++i)
      sa->part[p][i] *= (float)g;
}

static void audio_free(song_audio *sa) {
  for (int p = 0; p < NPARTS; ++p)
    free(sa->part[p]);
  memset(sa, 0, sizeof *sa);
}

static void write_wav(const char *path, const float *x, size_t frames, unsigned rate,
                      sg_sample_format fmt) {
  sg_audio_writer_config c;
  sg_audio_writer_config_init(&c);
  c.rate = rate;
  c.channels = CH;
  c.format = fmt;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_audio_write_all(path, x, (int64_t)frames, &c, &d);
  if (st != SG_OK)
    fprintf(stderr, "write %s: %s\n", path, d.message);
  assert_int_equal(st, SG_OK);
}

/* What a variant changes: a replaced part (NULL keeps good's), its rate/format, a missing part. */
typedef struct variant {
  const float *part[NPARTS];
  size_t frames[NPARTS];
  unsigned rate[NPARTS];
  sg_sample_format fmt[NPARTS];
  int missing[NPARTS];
  int denormals[NPARTS]; /* subnormal samples patched into the written float file */
} variant;

static void variant_init(variant *v) {
  memset(v, 0, sizeof *v);
  for (int p = 0; p < NPARTS; ++p) {
    v->part[p] = good.part[p];
    v->frames[p] = good.frames;
    v->rate[p] = RATE;
    v->fmt[p] = SG_FMT_FLOAT32;
  }
}

/* Replaces n samples of a float WAV, spread over its data, with subnormal values (the writer
 * flushes them, so they are patched into the file's bytes). */
static void patch_denormals(const char *wav, int n) {
  FILE *f = fopen(wav, "r+b");
  assert_non_null(f);
  unsigned char h[8];
  long pos = 12, data = -1, size = 0;
  while (fseek(f, pos, SEEK_SET) == 0 && fread(h, 1, 8, f) == 8) {
    long len = (long)h[4] | (long)h[5] << 8 | (long)h[6] << 16 | (long)h[7] << 24;
    if (!memcmp(h, "data", 4)) {
      data = pos + 8;
      size = len;
      break;
    }
    pos += 8 + len + (len & 1);
  }
  assert_true(data > 0 && size / 4 > 10 * n);
  long step = size / 4 / n;
  for (int k = 0; k < n; ++k) {
    float v = (k & 1 ? -1.0f : 1.0f) * FLT_MIN / (float)(2 + k % 1000); /* subnormal, non-zero */
    unsigned char b[4];
    uint32_t u;
    memcpy(&u, &v, 4);
    for (int j = 0; j < 4; ++j)
      b[j] = (unsigned char)(u >> (8 * j));
    assert_int_equal(fseek(f, data + 4 * (long)k * step, SEEK_SET), 0);
    assert_int_equal(fwrite(b, 1, 4, f), 4);
  }
  fclose(f);
}

/* Writes the variant's WAVs under name/ and zips them (package writer) into name.zip. */
static const char *make_zip(const char *name, const variant *v) {
  static char zip[1024];
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", sg_test_path(name));
  mkdir(dir, 0700);
  snprintf(zip, sizeof zip, "%s.zip", dir);
  sg_package *pk = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_package_begin(&pk, zip, NULL, &d), SG_OK);
  for (int p = 0; p < NPARTS; ++p) {
    if (v->missing[p])
      continue;
    char wav[1200], entry[128];
    snprintf(entry, sizeof entry, "verify-test_%s.wav", part_name[p]);
    snprintf(wav, sizeof wav, "%s/%s", dir, entry);
    write_wav(wav, v->part[p], v->frames[p], v->rate[p], v->fmt[p]);
    if (v->denormals[p])
      patch_denormals(wav, v->denormals[p]);
    sg_status st = sg_package_add_audio(pk, wav, entry, p == MASTER ? SG_ROLE_MASTER : SG_ROLE_STEM,
                                        part_name[p], NULL, &d);
    assert_int_equal(st, SG_OK);
  }
  assert_int_equal(sg_package_finish(pk, &d), SG_OK);
  return zip;
}

/* ---- checking verdicts ------------------------------------------------------------------------
 */

static void dump(const sg_verify_result *r) {
  char *t = NULL;
  if (sg_verify_to_table(r, &t) == SG_OK)
    fputs(t, stderr);
  free(t);
}

/* Runs verify and asserts that the failed required checks are exactly "stem/check" in want
 * (NULL-terminated), in any order. */
static sg_status verify_expect_song(const sg_song *sg, const char *pkg, const char *const *want,
                                    sg_verify_result *keep) {
  sg_verify_options o;
  sg_verify_options_init(&o);
  o.package = pkg;
  sg_verify_result r;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_verify_package(sg, &o, &r, &d);
  int nwant = 0;
  while (want[nwant])
    ++nwant;
  int ok = 1, *seen = calloc((size_t)nwant + 1, sizeof *seen);
  for (size_t i = 0; i < r.report.n; ++i) {
    const sg_gate_result *g = &r.report.v[i];
    if (g->pass || !g->required)
      continue;
    char key[160];
    snprintf(key, sizeof key, "%s/%s", g->stem, g->check);
    int found = 0;
    for (int k = 0; k < nwant; ++k)
      if (!strcmp(key, want[k])) {
        seen[k] = found = 1;
      }
    if (!found) {
      fprintf(stderr, "unexpected failure: %s\n", key);
      ok = 0;
    }
  }
  for (int k = 0; k < nwant; ++k)
    if (!seen[k]) {
      fprintf(stderr, "expected failure did not happen: %s\n", want[k]);
      ok = 0;
    }
  free(seen);
  if (!ok || getenv("SG_VERIFY_DUMP"))
    dump(&r);
  if (keep)
    *keep = r;
  else
    sg_verify_result_free(&r);
  assert_true(ok);
  return st;
}

static sg_status verify_expect(const char *pkg, const char *const *want, sg_verify_result *keep) {
  return verify_expect_song(song, pkg, want, keep);
}

/* A zip as another tool makes it: the variant's WAVs and no manifest.json (libzip directly). */
static const char *make_plain_zip(const char *name, const variant *v) {
  static char zp[1024];
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", sg_test_path(name));
  mkdir(dir, 0700);
  snprintf(zp, sizeof zp, "%s.zip", dir);
  int err = 0;
  zip_t *za = zip_open(zp, ZIP_CREATE | ZIP_TRUNCATE, &err);
  assert_non_null(za);
  for (int p = 0; p < NPARTS; ++p) {
    if (v->missing[p])
      continue;
    char wav[1200], entry[128];
    snprintf(entry, sizeof entry, "verify-test_%s.wav", part_name[p]);
    snprintf(wav, sizeof wav, "%s/%s", dir, entry);
    write_wav(wav, v->part[p], v->frames[p], v->rate[p], v->fmt[p]);
    zip_source_t *src = zip_source_file(za, wav, 0, -1);
    assert_non_null(src);
    assert_true(zip_file_add(za, entry, src, ZIP_FL_ENC_UTF_8) >= 0);
  }
  assert_int_equal(zip_close(za), 0);
  return zp;
}

/* The test song with text appended (a delivery block), loaded from a file next to ref.wav. */
static sg_song *song_with(const char *file, const char *extra) {
  char text[4096];
  snprintf(text, sizeof text, "%s%s", SPEC, extra);
  const char *path = sg_test_path(file);
  assert_int_equal(sg_test_write_text(path, text), 0);
  sg_song *s2 = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_song_load(path, &s2, &d);
  if (st != SG_OK)
    fprintf(stderr, "%s:%d:%d: %s\n", d.file, d.line, d.col, d.message);
  assert_int_equal(st, SG_OK);
  return s2;
}

/* ---- fixtures ----------------------------------------------------------------------------------
 */

static int setup(void **state) {
  (void)state;
  sg_diag d;
  sg_diag_clear(&d);
  const char *spec = sg_test_path("song.yaml");
  if (sg_test_write_text(spec, SPEC) != 0)
    return -1;
  if (sg_song_load(spec, &song, &d) != SG_OK) {
    fprintf(stderr, "spec: %s\n", d.message);
    return -1;
  }
  if (sg_timeline_build(song, &tl, &d) != SG_OK)
    return -1;
  render(&good, RATE, 8);
  /* The reference is the drum part as delivered: the master must line up with it. */
  write_wav(sg_test_path("ref.wav"), good.part[DRUMS], good.frames, RATE, SG_FMT_FLOAT32);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  audio_free(&good);
  sg_song_free(song);
  return 0;
}

/* ---- tests -------------------------------------------------------------------------------------
 */

static const char *const none[] = {NULL};
static int traversal_zip(void);

static void good_package_passes(void **state) {
  (void)state;
  variant v;
  variant_init(&v);
  sg_verify_result r;
  sg_status st = verify_expect(make_zip("good", &v), none, &r);
  assert_int_equal(st, SG_OK);
  /* Every kind of check ran: the table is complete, not vacuously green. */
  const char *checks[] = {"package",
                          "present",
                          "readable",
                          "sample_rate",
                          "format",
                          "channels",
                          "clipping",
                          "non_finite",
                          "dc_offset",
                          "silence",
                          "duration",
                          "loudness",
                          "true_peak",
                          "section_presence",
                          "tempo",
                          "key",
                          "key_change",
                          "sync_offset",
                          "sync_drift",
                          "drum_similarity",
                          "length",
                          "active_in_sections",
                          "silent_outside_sections"};
  for (size_t c = 0; c < sizeof checks / sizeof checks[0]; ++c) {
    int n = 0;
    for (size_t i = 0; i < r.report.n; ++i)
      n += !strcmp(r.report.v[i].check, checks[c]);
    if (!n)
      fprintf(stderr, "no row for %s\n", checks[c]);
    assert_true(n > 0);
  }
  for (int f = 0; f < r.n_files; ++f)
    assert_int_equal(r.files[f].match, SG_MATCH_NAMING);
  assert_int_equal(r.n_files, 5);
  sg_verify_result_free(&r);
}

static void brief_conforming_delivery_passes(void **state) {
  (void)state;
  /* A client's brief: 48 kHz, 24-bit PCM or float, master -16..-8 LUFS, true peak <= -0.1 dBTP,
   * stems Keys/Bass/Bridge; the client supplied the drums, so no Drums stem comes back; another
   * tool made the zip, so there is no manifest. The master (with the client's drums) is 1 dB
   * hotter than the spec's -14 LUFS and every file is pcm24: all within the brief. */
  sg_song *s2 = song_with("song_brief.yaml", "delivery:\n"
                                             "  sample_rates: [48000]\n"
                                             "  formats: [pcm24, float32]\n"
                                             "  loudness_lufs: [-16, -8]\n"
                                             "  true_peak_dbtp: -0.1\n"
                                             "  stems: [Keys, Bass, Bridge]\n"
                                             "  manifest: optional\n");
  const float g = (float)pow(10.0, 1.0 / 20.0);
  float *parts[NPARTS];
  variant v;
  variant_init(&v);
  for (int p = 0; p < NPARTS; ++p) {
    parts[p] = malloc(good.frames * CH * sizeof(float));
    for (size_t i = 0; i < good.frames * CH; ++i)
      parts[p][i] = good.part[p][i] * g;
    v.part[p] = parts[p];
    v.fmt[p] = SG_FMT_PCM24;
  }
  v.missing[DRUMS] = 1;
  const char *zp = make_plain_zip("brief", &v);
  sg_verify_result r;
  assert_int_equal(verify_expect_song(s2, zp, none, &r), SG_OK);
  int drums_info = 0, loud = 0, manifest_warn = 0;
  for (size_t i = 0; i < r.report.n; ++i) {
    const sg_gate_result *x = &r.report.v[i];
    if (!strcmp(x->check, "present") && !strcmp(x->stem, "Drums"))
      drums_info = x->severity == SG_SEV_INFO;
    if (!strcmp(x->check, "loudness")) {
      loud = x->pass && fabs(x->measured + 13.0) < 0.3 && strstr(x->detail, "-16..-8") != NULL;
      fprintf(stderr, "brief: master %.2f LUFS against %s\n", x->measured, x->detail);
    }
    if (!strcmp(x->check, "manifest"))
      manifest_warn = x->severity == SG_SEV_WARN;
  }
  assert_true(drums_info);
  assert_true(loud);
  assert_true(manifest_warn);
  sg_verify_result_free(&r);
  /* The same zip against the spec alone: the spec renders float32 at -14 +- 0.5 LUFS under
   * -1 dBTP, every stem and Drums, in a stemgate zip with a manifest. */
  const char *want[] = {"package/manifest", "Drums/present", "Master/loudness",
                        "Master/true_peak", "Master/format", "Keys/format",
                        "Bass/format",      "Bridge/format", NULL};
  assert_int_equal(verify_expect(zp, want, NULL), SG_E_GATE);
  /* manifest: required fails the same zip on that row alone. */
  sg_song *s3 = song_with("song_brief_req.yaml", "delivery:\n"
                                                 "  formats: [pcm24]\n"
                                                 "  loudness_lufs: [-16, -8]\n"
                                                 "  true_peak_dbtp: -0.1\n"
                                                 "  stems: [Keys, Bass, Bridge]\n"
                                                 "  manifest: required\n");
  const char *want3[] = {"package/manifest", NULL};
  assert_int_equal(verify_expect_song(s3, zp, want3, NULL), SG_E_GATE);
  /* A criteria file replaces the spec's block: a brief that asks for float32 only fails pcm24. */
  const char *crit = sg_test_path("criteria.yaml");
  assert_int_equal(sg_test_write_text(crit, "delivery:\n"
                                            "  formats: [float32]\n"
                                            "  loudness_lufs: [-16, -8]\n"
                                            "  true_peak_dbtp: -0.1\n"
                                            "  stems: [Keys, Bass, Bridge]\n"
                                            "  manifest: optional\n"),
                   0);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_delivery_load(crit, s3, &d), SG_OK);
  const char *want4[] = {"Master/format", "Keys/format", "Bass/format", "Bridge/format", NULL};
  assert_int_equal(verify_expect_song(s3, zp, want4, NULL), SG_E_GATE);
  /* A criteria file naming a stem the song does not have: file:line:col at the name. */
  assert_int_equal(sg_test_write_text(crit, "delivery:\n  stems: [Keys, Basss]\n"), 0);
  assert_int_equal(sg_delivery_load(crit, s3, &d), SG_E_SPEC);
  assert_int_equal(d.line, 2);
  assert_int_equal(d.col, 17);
  assert_non_null(strstr(d.message, "did you mean 'Bass'"));
  for (int p = 0; p < NPARTS; ++p)
    free(parts[p]);
  sg_song_free(s2);
  sg_song_free(s3);
}

static void auto_tempo_takes_the_reference_tempo(void **state) {
  (void)state;
  /* The same song with "tempo: auto": verify measures the reference (140 BPM) and checks the
   * master against that. */
  char text[2048];
  const char *t = strstr(SPEC, "tempo: 140\n");
  assert_non_null(t);
  snprintf(text, sizeof text, "%.*stempo: auto%s", (int)(t - SPEC), SPEC, t + 10);
  const char *path = sg_test_path("song_auto.yaml");
  assert_int_equal(sg_test_write_text(path, text), 0);
  sg_song *s2 = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_song_load(path, &s2, &d), SG_OK);
  assert_true(s2->tempo_auto);
  variant v;
  variant_init(&v);
  sg_verify_options o;
  sg_verify_options_init(&o);
  o.package = make_zip("auto", &v);
  sg_verify_result r;
  sg_status st = sg_verify_package(s2, &o, &r, &d);
  if (st != SG_OK)
    dump(&r);
  assert_int_equal(st, SG_OK);
  int seen = 0;
  for (size_t i = 0; i < r.report.n; ++i)
    if (!strcmp(r.report.v[i].check, "tempo")) {
      seen = 1;
      assert_true(fabs(r.report.v[i].target - 140.0) < 0.5); /* the measured reference tempo */
      assert_non_null(strstr(r.report.v[i].detail, "auto"));
    }
  assert_true(seen);
  sg_verify_result_free(&r);
  /* Without a reference there is nothing to take the tempo from: a spec error. */
  s2->drums.source = SG_DRUMS_NONE;
  s2->drums.reference[0] = 0;
  assert_int_equal(sg_verify_package(s2, &o, &r, &d), SG_E_SPEC);
  assert_non_null(strstr(d.message, "auto"));
  sg_verify_result_free(&r);
  sg_song_free(s2);
}

static void stem_at_44k_fails_sample_rate(void **state) {
  (void)state;
  song_audio lo;
  render(&lo, 44100, 8);
  variant v;
  variant_init(&v);
  v.part[BASS] = lo.part[BASS];
  v.frames[BASS] = lo.frames;
  v.rate[BASS] = 44100;
  const char *want[] = {"Bass/sample_rate", NULL};
  assert_int_equal(verify_expect(make_zip("rate", &v), want, NULL), SG_E_GATE);
  audio_free(&lo);
}

static void pcm16_stem_fails_format(void **state) {
  (void)state;
  variant v;
  variant_init(&v);
  v.fmt[KEYS] = SG_FMT_PCM16;
  const char *want[] = {"Keys/format", NULL};
  assert_int_equal(verify_expect(make_zip("pcm16", &v), want, NULL), SG_E_GATE);
}

static void master_shifted_30ms_fails_sync_offset(void **state) {
  (void)state;
  size_t sh = (size_t)(0.030 * RATE);
  float *x = calloc(good.frames * CH, sizeof *x);
  memcpy(x + sh * CH, good.part[MASTER], (good.frames - sh) * CH * sizeof *x);
  variant v;
  variant_init(&v);
  v.part[MASTER] = x;
  const char *want[] = {"Master/sync_offset", NULL};
  assert_int_equal(verify_expect(make_zip("shift", &v), want, NULL), SG_E_GATE);
  free(x);
}

static void master_stretched_fails_sync_drift(void **state) {
  (void)state;
  /* 0.2 % slower about 3.2 s (so the first bars still sit within the 10 ms sync limit: the
   * offset in the first quarter of the song stays under 7 ms while the end is ~37 ms late), then
   * conformed back to the same frame count. */
  float *x = calloc(good.frames * CH, sizeof *x);
  const double c0 = 3.2 * RATE;
  for (size_t i = 0; i < good.frames; ++i) {
    double src = c0 + ((double)i - c0) / 1.002;
    if (src < 0)
      continue;
    size_t k = (size_t)src;
    double fr = src - (double)k;
    for (int c = 0; c < CH; ++c) {
      float a = good.part[MASTER][k * CH + c];
      float b = k + 1 < good.frames ? good.part[MASTER][(k + 1) * CH + c] : 0.0f;
      x[i * CH + c] = (float)(a + fr * (b - a));
    }
  }
  variant v;
  variant_init(&v);
  v.part[MASTER] = x;
  const char *want[] = {"Master/sync_drift", NULL};
  assert_int_equal(verify_expect(make_zip("stretch", &v), want, NULL), SG_E_GATE);
  free(x);
}

/* x delayed by sh frames (zeros in front), the same length. */
static float *delayed(const float *x, size_t sh) {
  float *y = calloc(good.frames * CH, sizeof *y);
  memcpy(y + sh * CH, x, (good.frames - sh) * CH * sizeof *y);
  return y;
}

/* x played rate times slower from the start (linear interpolation), the same length. */
static float *slowed(const float *x, double rate) {
  float *y = calloc(good.frames * CH, sizeof *y);
  for (size_t i = 0; i < good.frames; ++i) {
    double src = (double)i / rate;
    size_t k = (size_t)src;
    double fr = src - (double)k;
    for (int c = 0; c < CH; ++c) {
      float a = x[k * CH + c], b = k + 1 < good.frames ? x[(k + 1) * CH + c] : 0.0f;
      y[i * CH + c] = (float)(a + fr * (b - a));
    }
  }
  return y;
}

static double row_value(const sg_verify_result *r, const char *stem, const char *check) {
  for (size_t i = 0; i < r->report.n; ++i)
    if (!strcmp(r->report.v[i].stem, stem) && !strcmp(r->report.v[i].check, check))
      return r->report.v[i].measured;
  return NAN;
}

static void bass_shifted_or_slow_fails_its_sync(void **state) {
  (void)state;
  /* The Bass stem 30 ms late, or 0.5% slow (128 ms over the song), master untouched: the stem
   * fails its own sync rows against the master (no reference) or the reference (through the
   * master), and nothing else fails. */
  sg_song *noref = song_with("song_noref.yaml", "");
  noref->drums.source = SG_DRUMS_SYNTH; /* the same song, drums synthesized: no reference */
  noref->drums.reference[0] = 0;
  float *late = delayed(good.part[BASS], (size_t)(0.030 * RATE));
  float *slow = slowed(good.part[BASS], 1.005);
  variant v;
  variant_init(&v);
  v.part[BASS] = late;
  const char *zl = make_zip("bass_late", &v);
  const char *want_off[] = {"Bass/sync_offset", NULL};
  sg_verify_result r;
  for (int with_ref = 1; with_ref >= 0; --with_ref) {
    assert_int_equal(verify_expect_song(with_ref ? song : noref, zl, want_off, &r), SG_E_GATE);
    double off = row_value(&r, "Bass", "sync_offset");
    fprintf(stderr, "bass 30 ms late (%s): sync_offset %.2f ms\n",
            with_ref ? "reference" : "master", off);
    assert_true(fabs(off - 30.0) < 2.0);
    sg_verify_result_free(&r);
  }
  variant_init(&v);
  v.part[BASS] = slow;
  const char *zs = make_zip("bass_slow", &v);
  for (int with_ref = 1; with_ref >= 0; --with_ref) {
    sg_verify_options o;
    sg_verify_options_init(&o);
    o.package = zs;
    assert_int_equal(sg_verify_package(with_ref ? song : noref, &o, &r, NULL), SG_E_GATE);
    double drift = row_value(&r, "Bass", "sync_drift");
    fprintf(stderr, "bass 0.5%% slow (%s): sync_drift %.1f ms\n", with_ref ? "reference" : "master",
            drift);
    /* 0.5% of the span between the first and last measured windows (~20 s): ~100 ms. */
    assert_true(drift > 60.0 && drift < 140.0);
    for (size_t i = 0; i < r.report.n; ++i) {
      const sg_gate_result *g = &r.report.v[i];
      if (!g->pass && g->required)
        assert_string_equal(g->stem, "Bass"); /* only the Bass fails */
    }
    sg_verify_result_free(&r);
  }
  free(late);
  free(slow);
  sg_song_free(noref);
}

static void master_without_drums_fails_drum_similarity(void **state) {
  (void)state;
  /* Keys + Bass + Bridge only, brought back to -14 LUFS. */
  float *x = calloc(good.frames * CH, sizeof *x);
  for (size_t i = 0; i < good.frames * CH; ++i)
    x[i] = good.part[KEYS][i] + good.part[BASS][i] + good.part[BRIDGE][i];
  sg_meter *m = NULL;
  assert_int_equal(sg_meter_create(&m, CH, RATE, SG_METER_LOUDNESS, NULL), SG_OK);
  assert_int_equal(sg_meter_add(m, x, good.frames), SG_OK);
  sg_meter_result mr;
  sg_meter_result_get(m, &mr);
  sg_meter_free(m);
  float g = (float)pow(10.0, (-14.0 - mr.integrated_lufs) / 20.0);
  for (size_t i = 0; i < good.frames * CH; ++i)
    x[i] *= g;
  /* The Drums stem, when delivered, is what must match the reference (the master's own
   * correlation is lowered by every other stem and is advisory): here it lacks them too. */
  variant v;
  variant_init(&v);
  v.part[MASTER] = x;
  v.part[DRUMS] = x;
  const char *want[] = {"Drums/drum_similarity", NULL};
  sg_verify_result r;
  assert_int_equal(verify_expect(make_zip("nodrums", &v), want, &r), SG_E_GATE);
  for (size_t i = 0; i < r.report.n; ++i)
    if (!strcmp(r.report.v[i].check, "drum_similarity"))
      fprintf(stderr, "drum similarity without drums: %.3f\n", r.report.v[i].measured);
  sg_verify_result_free(&r);
  free(x);
}

static void bridge_in_a_major_fails_key(void **state) {
  (void)state;
  song_audio a;
  render(&a, RATE, 9);
  variant v;
  variant_init(&v);
  for (int p = 0; p < NPARTS; ++p)
    v.part[p] = a.part[p];
  const char *want[] = {"B/key", NULL};
  assert_int_equal(verify_expect(make_zip("akey", &v), want, NULL), SG_E_GATE);
  audio_free(&a);
}

static void clipped_master_fails_clipping_and_true_peak(void **state) {
  (void)state;
  float *x = malloc(good.frames * CH * sizeof *x);
  memcpy(x, good.part[MASTER], good.frames * CH * sizeof *x);
  for (int k = 0; k < 8; ++k) { /* eight flat tops of 4 samples in the left channel */
    size_t at = good.frames / 10 * (size_t)(k + 1);
    for (size_t i = 0; i < 4; ++i)
      x[(at + i) * CH] = k & 1 ? -1.0f : 1.0f;
  }
  variant v;
  variant_init(&v);
  v.part[MASTER] = x;
  const char *want[] = {"Master/clipping", "Master/sample_peak", "Master/true_peak", NULL};
  assert_int_equal(verify_expect(make_zip("clip", &v), want, NULL), SG_E_GATE);
  free(x);
}

static void nan_and_dc_fail_their_checks(void **state) {
  (void)state;
  float *x = malloc(good.frames * CH * sizeof *x);
  memcpy(x, good.part[BASS], good.frames * CH * sizeof *x);
  x[1000] = NAN;
  x[2001] = INFINITY;
  x[3000] = NAN;
  variant v;
  variant_init(&v);
  v.part[BASS] = x;
  const char *want[] = {"Bass/non_finite", NULL};
  assert_int_equal(verify_expect(make_zip("nan", &v), want, NULL), SG_E_GATE);
  /* +0.005 DC on the keys (limit 0.001). */
  float *y = malloc(good.frames * CH * sizeof *y);
  for (size_t i = 0; i < good.frames * CH; ++i)
    y[i] = good.part[KEYS][i] + 0.005f;
  variant_init(&v);
  v.part[KEYS] = y;
  const char *want2[] = {"Keys/dc_offset", NULL};
  assert_int_equal(verify_expect(make_zip("dc", &v), want2, NULL), SG_E_GATE);
  free(x);
  free(y);
}

/* A reference that cannot serve is refused by verify with the words render's reference step
 * uses (one function, sg_audio_check_finite / sg_audio_check_reference): a NaN with its
 * position, not zeroed; 8 kHz; shorter than a bar. */
static void reference_that_cannot_serve_is_refused(void **state) {
  (void)state;
  variant v;
  variant_init(&v);
  char pkg[1024];
  snprintf(pkg, sizeof pkg, "%s", make_zip("refcheck", &v));
  float *x = malloc(good.frames * CH * sizeof *x);
  memcpy(x, good.part[DRUMS], good.frames * CH * sizeof *x);
  x[2 * 5000 + 1] = NAN; /* frame 5000, channel 2 */
  struct {
    const char *name;
    unsigned rate;
    size_t frames;
    const char *why;
  } cases[] = {
      {"ref_nan.wav", RATE, good.frames, "non-finite sample (NaN) at frame 5000, channel 2"},
      {"ref_8k.wav", 8000, good.frames, "8000 Hz; a reference needs at least 22050 Hz"},
      {"ref_short.wav", RATE, RATE / 2, "shorter than one bar"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c) {
    char p[1024];
    snprintf(p, sizeof p, "%s", sg_test_path(cases[c].name));
    write_wav(p, x, cases[c].frames, cases[c].rate, SG_FMT_FLOAT32);
    sg_verify_options o;
    sg_verify_options_init(&o);
    o.package = pkg;
    o.reference = p;
    sg_verify_result r;
    sg_diag d;
    sg_diag_clear(&d);
    sg_status st = sg_verify_package(song, &o, &r, &d);
    const sg_gate_result *row = NULL;
    for (size_t i = 0; i < r.report.n; ++i)
      if ((strstr(r.report.v[i].check, "reference") || !strcmp(r.report.v[i].stem, "reference")) &&
          !r.report.v[i].pass)
        row = &r.report.v[i];
    printf("%s: %s\n", cases[c].name, row ? row->detail : "(no failed reference row)");
    assert_int_not_equal(st, SG_OK);
    assert_non_null(row);
    assert_non_null(strstr(row->detail, p));
    assert_non_null(strstr(row->detail, cases[c].why));
    sg_verify_result_free(&r);
  }
  free(x);
}

static const sg_gate_result *find_row(const sg_verify_result *r, const char *stem,
                                      const char *check) {
  for (size_t i = 0; i < r->report.n; ++i)
    if (!strcmp(r->report.v[i].stem, stem) && !strcmp(r->report.v[i].check, check))
      return &r->report.v[i];
  return NULL;
}

/* The Bridge plays section B only (8.6 s to 17.1 s); 2e-3 of DC added there alone averages
 * 6.7e-4 over the whole file, under the 1e-3 limit a whole-file mean would judge. The 1-s
 * windows where it plays read the 2e-3 and name where. */
static void dc_while_playing_fails_dc_offset(void **state) {
  (void)state;
  const double b0 = tl.sections[1].start_sec, b1 = tl.sections[1].end_sec;
  float *x = malloc(good.frames * CH * sizeof *x);
  memcpy(x, good.part[BRIDGE], good.frames * CH * sizeof *x);
  double sum = 0;
  for (size_t i = (size_t)(b0 * RATE); i < (size_t)(b1 * RATE) && i < good.frames; ++i)
    for (int c = 0; c < CH; ++c)
      x[i * CH + c] += 2e-3f;
  for (size_t i = 0; i < good.frames; ++i)
    sum += x[i * CH];
  double whole = fabs(sum / (double)good.frames);
  fprintf(stderr, "whole-file mean %.2g (limit 1e-3)\n", whole);
  assert_true(whole < 1e-3);
  variant v;
  variant_init(&v);
  v.part[BRIDGE] = x;
  const char *want[] = {"Bridge/dc_offset", NULL};
  sg_verify_result r;
  assert_int_equal(verify_expect(make_zip("dc_window", &v), want, &r), SG_E_GATE);
  const sg_gate_result *g = find_row(&r, "Bridge", "dc_offset");
  assert_non_null(g);
  fprintf(stderr, "Bridge dc_offset %.4g: %s\n", g->measured, g->detail);
  assert_true(fabs(g->measured - 2e-3) < 2e-4);
  const char *at = strstr(g->detail, "windows from ");
  assert_non_null(at);
  double t = atof(at + strlen("windows from "));
  assert_true(t >= b0 - 0.5 && t + 1.5 <= b1 + 0.5);
  /* The clean stems read far under the limit. */
  const sg_gate_result *k = find_row(&r, "Keys", "dc_offset");
  assert_non_null(k);
  assert_true(k->pass && k->measured < 2e-4);
  sg_verify_result_free(&r);
  free(x);
}

/* Subnormal samples in a float stem: counted and failed (limit 0); the clean files read 0. */
static void float_denormals_fail_denormals(void **state) {
  (void)state;
  variant v;
  variant_init(&v);
  v.denormals[KEYS] = 1234;
  const char *want[] = {"Keys/denormals", NULL};
  sg_verify_result r;
  assert_int_equal(verify_expect(make_zip("denormals", &v), want, &r), SG_E_GATE);
  const sg_gate_result *g = find_row(&r, "Keys", "denormals");
  assert_non_null(g);
  assert_int_equal((int)g->measured, 1234);
  g = find_row(&r, "Bass", "denormals");
  assert_non_null(g);
  assert_true(g->pass && g->measured == 0);
  sg_verify_result_free(&r);
}

/* The float writer flushes subnormals: what it writes (and its tap meters) has none. */
static void writer_flushes_denormals(void **state) {
  (void)state;
  float x[2 * 4800];
  for (int i = 0; i < 2 * 4800; ++i)
    x[i] = i % 3 ? FLT_MIN / 8.0f : 0.25f * (float)sin(i * 0.01);
  const char *wav = sg_test_path("flushed.wav");
  write_wav(wav, x, 4800, RATE, SG_FMT_FLOAT32);
  sg_meter_result mr;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_meter_file(wav, 0, &mr, NULL, &d), SG_OK);
  assert_int_equal((int)mr.denormal_count, 0);
}

/* Without a spec a package is judged by its own manifest; without a manifest there is nothing
 * to judge it by: SG_E_INVAL saying what is needed (the command's exit 2). */
static void manifest_only_verify(void **state) {
  (void)state;
  variant v;
  variant_init(&v);
  sg_verify_options o;
  sg_verify_options_init(&o);
  o.package = make_zip("own", &v);
  sg_verify_result r;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_verify_manifest(&o, NULL, &r, &d);
  if (st != SG_OK || getenv("SG_VERIFY_DUMP"))
    dump(&r);
  assert_int_equal(st, SG_OK);
  for (int p = 0; p < NPARTS; ++p) {
    const char *stem = p == MASTER ? "Master" : part_name[p];
    assert_non_null(find_row(&r, stem, "readable"));
    assert_non_null(find_row(&r, stem, "dc_offset"));
    assert_non_null(find_row(&r, stem, "denormals"));
    assert_non_null(find_row(&r, stem, "sample_rate"));
  }
  assert_non_null(find_row(&r, "verify-test_Bass.wav", "sha256"));
  sg_verify_result_free(&r);
  /* A stem with denormals fails by name here too. */
  v.denormals[BASS] = 10;
  o.package = make_zip("own_denormals", &v);
  sg_diag_clear(&d);
  assert_int_equal(sg_verify_manifest(&o, NULL, &r, &d), SG_E_GATE);
  const sg_gate_result *g = find_row(&r, "Bass", "denormals");
  assert_non_null(g);
  assert_false(g->pass);
  assert_non_null(strstr(d.message, "denormals"));
  sg_verify_result_free(&r);
  /* Another tool's zip: no manifest. */
  variant_init(&v);
  o.package = make_plain_zip("plain_nospec", &v);
  sg_diag_clear(&d);
  assert_int_equal(sg_verify_manifest(&o, NULL, &r, &d), SG_E_INVAL);
  fprintf(stderr, "%s\n", d.message);
  assert_non_null(strstr(d.message, "--spec"));
  assert_non_null(strstr(d.message, "--criteria"));
  sg_verify_result_free(&r);
  /* A hostile zip: unreadable (exit 3), the entry named, nothing written beside it. */
  assert_true(traversal_zip());
  o.package = sg_test_path("evil.zip");
  sg_diag_clear(&d);
  assert_int_equal(sg_verify_manifest(&o, NULL, &r, &d), SG_E_FORMAT);
  assert_int_equal(r.package_readable, 0);
  assert_non_null(strstr(r.report.v[0].detail, "../verify-test_Master.wav"));
  sg_verify_result_free(&r);
}

static void missing_stem_fails_present(void **state) {
  (void)state;
  variant v;
  variant_init(&v);
  v.missing[BASS] = 1;
  const char *want[] = {"Bass/present", NULL};
  assert_int_equal(verify_expect(make_zip("missing", &v), want, NULL), SG_E_GATE);
}

static void silent_stem_fails_silence(void **state) {
  (void)state;
  float *x = calloc(good.frames * CH, sizeof *x);
  variant v;
  variant_init(&v);
  v.part[KEYS] = x;
  const char *want[] = {"Keys/silence", NULL};
  assert_int_equal(verify_expect(make_zip("silent", &v), want, NULL), SG_E_GATE);
  free(x);
}

static void bridge_playing_everywhere_fails_silent_outside(void **state) {
  (void)state;
  /* The bridge part copied into A2 as well. */
  float *x = malloc(good.frames * CH * sizeof *x);
  memcpy(x, good.part[BRIDGE], good.frames * CH * sizeof *x);
  size_t b0 = (size_t)tl.sections[1].start_frame, a2 = (size_t)tl.sections[2].start_frame;
  size_t len = a2 - b0;
  for (size_t i = 0; i < len && a2 + i < good.frames; ++i)
    for (int c = 0; c < CH; ++c)
      x[(a2 + i) * CH + c] = good.part[BRIDGE][(b0 + i) * CH + c];
  variant v;
  variant_init(&v);
  v.part[BRIDGE] = x;
  const char *want[] = {"Bridge/silent_outside_sections", NULL};
  assert_int_equal(verify_expect(make_zip("bridge_everywhere", &v), want, NULL), SG_E_GATE);
  free(x);
}

/* A zip whose one entry climbs out of the folder: "../verify-test_Master.wav". */
static int traversal_zip(void) {
  int err = 0;
  zip_t *za = zip_open(sg_test_path("evil.zip"), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (!za)
    return 0;
  zip_source_t *s = zip_source_buffer(za, "RIFF", 4, 0);
  if (zip_file_add(za, "../verify-test_Master.wav", s, ZIP_FL_ENC_UTF_8) < 0) {
    zip_source_free(s);
    zip_discard(za);
    return 0;
  }
  return zip_close(za) == 0;
}

static void traversal_entry_is_unreadable_package(void **state) {
  (void)state;
  assert_true(traversal_zip());
  const char *zp = sg_test_path("evil.zip");
  sg_verify_options o;
  sg_verify_options_init(&o);
  o.package = zp;
  sg_verify_result r;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_verify_package(song, &o, &r, &d);
  assert_int_equal(st, SG_E_FORMAT); /* the CLI maps it to exit 3 */
  assert_int_equal(r.package_readable, 0);
  assert_int_equal(r.report.n, 1);
  assert_string_equal(r.report.v[0].check, "package");
  assert_false(r.report.v[0].pass);
  assert_non_null(strstr(r.report.v[0].detail, ".."));
  sg_verify_result_free(&r);
  /* Read in place: nothing was written where the entry points (beside the test's folder). */
  char beside[1200];
  snprintf(beside, sizeof beside, "%s/../verify-test_Master.wav", sg_test_tmpdir());
  assert_int_not_equal(access(beside, F_OK), 0);
}

/* A folder package with the good files, then fn applied to the Bass. */
static const char *folder_with_bad_bass(const char *name, void (*fn)(const char *wav)) {
  const char *dir = sg_test_path(name);
  mkdir(dir, 0700);
  for (int p = 0; p < NPARTS; ++p) {
    char wav[1200];
    snprintf(wav, sizeof wav, "%s/verify-test_%s.wav", dir, part_name[p]);
    write_wav(wav, good.part[p], good.frames, RATE, SG_FMT_FLOAT32);
    if (p == BASS)
      fn(wav);
  }
  return dir;
}

static void cut_file(const char *wav) { assert_int_equal(truncate(wav, 100000), 0); }

static void truncated_wav_is_unreadable(void **state) {
  (void)state;
  /* The reader compares the data chunk's declared size with the file (libsndfile alone would
   * clamp it and hand back a shorter, valid-looking stem): the damage is named as such. */
  const char *want[] = {"Bass/readable", NULL};
  sg_verify_result r;
  sg_status st = verify_expect(folder_with_bad_bass("trunc", cut_file), want, &r);
  assert_int_equal(st, SG_E_FORMAT); /* exit 3: a file of the package cannot be read */
  int named = 0;
  for (size_t i = 0; i < r.report.n; ++i)
    if (!strcmp(r.report.v[i].check, "readable") && !strcmp(r.report.v[i].stem, "Bass"))
      named = strstr(r.report.v[i].detail, "truncated") != NULL;
  assert_true(named);
  sg_verify_result_free(&r);
}

/* The fmt chunk's format tag (bytes 20-21 of a canonical header) set to an unknown codec. */
static void lie_in_header(const char *wav) {
  FILE *f = fopen(wav, "r+b");
  assert_non_null(f);
  unsigned char hdr[64];
  assert_int_equal(fread(hdr, 1, sizeof hdr, f), sizeof hdr);
  long fmt = -1;
  for (long i = 12; i + 4 <= (long)sizeof hdr; ++i)
    if (!memcmp(hdr + i, "fmt ", 4)) {
      fmt = i;
      break;
    }
  assert_true(fmt > 0);
  fseek(f, fmt + 8, SEEK_SET);
  const unsigned char bogus[2] = {0x99, 0x79};
  assert_int_equal(fwrite(bogus, 1, 2, f), 2);
  fclose(f);
}

static void lying_header_is_unreadable(void **state) {
  (void)state;
  const char *want[] = {"Bass/readable", NULL};
  sg_verify_result r;
  sg_status st = verify_expect(folder_with_bad_bass("lie", lie_in_header), want, &r);
  assert_int_equal(st, SG_E_FORMAT); /* the CLI maps it to exit 3 */
  assert_true(r.file_unreadable);
  for (size_t i = 0; i < r.report.n; ++i)
    if (!strcmp(r.report.v[i].check, "readable") && !strcmp(r.report.v[i].stem, "Bass"))
      assert_true(strlen(r.report.v[i].detail) > 10); /* says why */
  sg_verify_result_free(&r);
}

static void tampered_entry_fails_integrity(void **state) {
  (void)state;
  /* One byte of the Keys audio flipped inside the zip after packaging. */
  variant v;
  variant_init(&v);
  const char *zp = make_zip("tamper", &v);
  FILE *f = fopen(zp, "r+b");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  unsigned char *b = malloc((size_t)n);
  fseek(f, 0, SEEK_SET);
  assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
  const char *name = "verify-test_Keys.wav";
  long at = -1;
  for (long i = 0; i + 30 + 20 < n && at < 0; ++i)
    if (!memcmp(b + i, "PK\x03\x04", 4) && !memcmp(b + i + 30, name, strlen(name)))
      at = i + 30 + (b[i + 26] | b[i + 27] << 8) + (b[i + 28] | b[i + 29] << 8);
  assert_true(at > 0);
  at += 200000; /* well inside the sample data */
  b[at] ^= 0x01;
  fseek(f, at, SEEK_SET);
  assert_int_equal(fwrite(b + at, 1, 1, f), 1);
  fclose(f);
  free(b);
  /* The manifest's SHA-256 no longer matches. (The audio itself still decodes: a stored entry
   * is read with seeking, where libzip does not check the CRC, and one changed sample breaks no
   * audio check.) */
  const char *want[] = {"verify-test_Keys.wav/sha256", NULL};
  sg_verify_result r;
  assert_int_equal(verify_expect(zp, want, &r), SG_E_GATE);
  sg_verify_result_free(&r);
}

static void empty_master_and_symlinked_stem(void **state) {
  (void)state;
  /* A folder whose master has no frames and whose Keys is a symbolic link (to a good file
   * elsewhere): no crash, the link is not followed, the empty master fails its own checks. */
  const char *dir = sg_test_path("odd");
  mkdir(dir, 0700);
  for (int p = 0; p < NPARTS; ++p) {
    char wav[1200];
    snprintf(wav, sizeof wav, "%s/verify-test_%s.wav", dir, part_name[p]);
    if (p == KEYS) {
      char target[1200];
      snprintf(target, sizeof target, "%s/good/verify-test_Keys.wav", sg_test_tmpdir());
      assert_int_equal(symlink(target, wav), 0);
      continue;
    }
    write_wav(wav, good.part[p], p == MASTER ? 0 : good.frames, RATE, SG_FMT_FLOAT32);
  }
  sg_verify_options o;
  sg_verify_options_init(&o);
  o.package = dir;
  sg_verify_result r;
  sg_status st = sg_verify_package(song, &o, &r, NULL);
  assert_int_equal(st, SG_E_GATE);
  int keys_missing = 0, master_short = 0, note = 0;
  for (size_t i = 0; i < r.report.n; ++i) {
    const sg_gate_result *g = &r.report.v[i];
    if (!strcmp(g->check, "present") && !strcmp(g->stem, "Keys"))
      keys_missing = !g->pass;
    if (!strcmp(g->check, "duration") && !strcmp(g->stem, "Master"))
      master_short = !g->pass && g->measured == 0.0;
    if (!strcmp(g->check, "package"))
      note = strstr(g->detail, "symbolic links ignored") != NULL;
  }
  assert_true(keys_missing);
  assert_true(master_short);
  assert_true(note);
  sg_verify_result_free(&r);
}

static void one_package_per_folder(void **state) {
  (void)state;
  variant v;
  variant_init(&v);
  const char *zp = make_zip("single", &v);
  char dir[1200], cmd[4096];
  sg_verify_options o;
  sg_verify_options_init(&o);
  sg_verify_result r;
  /* A folder holding just the zip: verified as that zip. */
  snprintf(dir, sizeof dir, "%s", sg_test_path("one_zip"));
  mkdir(dir, 0700);
  snprintf(cmd, sizeof cmd, "cp '%s' '%s/a.zip'", zp, dir);
  assert_int_equal(system(cmd), 0);
  o.package = dir;
  assert_int_equal(sg_verify_package(song, &o, &r, NULL), SG_OK);
  assert_non_null(strstr(r.report.v[0].detail, "the one zip in the folder"));
  sg_verify_result_free(&r);
  /* Two zips and no audio: which one? The "package" check fails (2 packages), nothing else. */
  snprintf(cmd, sizeof cmd, "cp '%s' '%s/b.zip'", zp, dir);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(sg_verify_package(song, &o, &r, NULL), SG_E_GATE);
  assert_int_equal(r.report.n, 1);
  assert_string_equal(r.report.v[0].check, "package");
  assert_true(r.report.v[0].measured == 2.0);
  sg_verify_result_free(&r);
  /* More entries than a delivery has any reason to hold: refused before reading. */
  snprintf(dir, sizeof dir, "%s", sg_test_path("crowd"));
  mkdir(dir, 0700);
  for (int i = 0; i <= SG_VERIFY_MAX_DIR_ENTRIES; ++i) {
    char f[1300];
    snprintf(f, sizeof f, "%s/f%04d.txt", dir, i);
    assert_int_equal(sg_test_write_text(f, ""), 0);
  }
  o.package = dir;
  assert_int_equal(sg_verify_package(song, &o, &r, NULL), SG_E_LIMIT);
  assert_false(r.package_readable);
  sg_verify_result_free(&r);
}

static void folder_with_common_names_passes(void **state) {
  (void)state;
  const char *dir = sg_test_path("common");
  mkdir(dir, 0700);
  const char *names[NPARTS] = {"01 KEYS.wav", "bass-stem.wav", "Bridge.WAV", "drum.wav",
                               "Verify Test - MIX.wav"};
  for (int p = 0; p < NPARTS; ++p) {
    char wav[1200];
    snprintf(wav, sizeof wav, "%s/%s", dir, names[p]);
    write_wav(wav, good.part[p], good.frames, RATE, SG_FMT_FLOAT32);
  }
  sg_verify_result r;
  assert_int_equal(verify_expect(dir, none, &r), SG_OK);
  for (int f = 0; f < r.n_files; ++f)
    assert_int_equal(r.files[f].match, SG_MATCH_COMMON);
  sg_verify_result_free(&r);
}

static void json_and_junit_hold_every_row(void **state) {
  (void)state;
  variant v;
  variant_init(&v);
  v.fmt[KEYS] = SG_FMT_PCM16;
  sg_verify_result r;
  const char *want[] = {"Keys/format", NULL};
  verify_expect(make_zip("reports", &v), want, &r);

  char *js = NULL;
  assert_int_equal(sg_verify_to_json(&r, &js), SG_OK);
  sg_json_doc *doc = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_json_parse(js, strlen(js), &doc, &d), SG_OK);
  const sg_json_value *root = sg_json_root(doc);
  assert_string_equal(sg_json_get_str(root, "schema", ""), "stemgate.verify/1");
  assert_int_equal(sg_json_get_bool(root, "ok", 1), 0);
  const sg_json_value *checks = sg_json_get(root, "checks");
  assert_non_null(checks);
  assert_int_equal(checks->n, r.report.n);
  size_t fails = 0;
  for (size_t i = 0; i < checks->n; ++i) {
    const sg_json_value *c = sg_json_at(checks, i);
    if (!strcmp(sg_json_get_str(c, "verdict", ""), "fail")) {
      ++fails;
      assert_string_equal(sg_json_get_str(c, "stem", ""), "Keys");
      assert_string_equal(sg_json_get_str(c, "check", ""), "format");
      assert_non_null(strstr(sg_json_get_str(c, "detail", ""), "pcm16"));
    }
  }
  assert_int_equal(fails, 1);
  assert_int_equal(sg_json_get(root, "files")->n, 5);
  sg_json_doc_free(doc);
  free(js);

  char *x = NULL;
  assert_int_equal(sg_verify_to_junit(&r, &x), SG_OK);
  size_t cases = 0, failures = 0;
  for (const char *p = x; (p = strstr(p, "<testcase ")) != NULL; ++p)
    ++cases;
  for (const char *p = x; (p = strstr(p, "<failure ")) != NULL; ++p)
    ++failures;
  assert_int_equal(cases, r.report.n);
  assert_int_equal(failures, 1);
  assert_non_null(strstr(x, "classname=\"verify.Keys\" name=\"format\">"));
  assert_non_null(strstr(x, "failures=\"1\""));
  assert_null(strstr(x, "< ")); /* the "<=" of limits is escaped */
  char line[64];
  snprintf(line, sizeof line, "tests=\"%zu\"", r.report.n);
  assert_non_null(strstr(x, line));
  free(x);

  /* Written through a temp name; the file holds the same text. */
  const char *jp = sg_test_path("report.json");
  assert_int_equal(sg_verify_to_json(&r, &js), SG_OK);
  assert_int_equal(sg_verify_write_text(jp, js, NULL), SG_OK);
  FILE *f = fopen(jp, "rb");
  assert_non_null(f);
  char head[32] = "";
  assert_true(fread(head, 1, 1, f) == 1);
  fclose(f);
  assert_int_equal(head[0], '{');
  free(js);
  sg_verify_result_free(&r);
}

/* The stemgate command's exit codes (when the binary was built: $SG_STEMGATE, set by CTest). */
static int run_cli(const char *args) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "'%s' verify %s >/dev/null 2>&1", getenv("SG_STEMGATE"), args);
  int rc = system(cmd);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void cli_exit_codes(void **state) {
  (void)state;
  const char *exe = getenv("SG_STEMGATE");
  struct stat sb;
  if (!exe || stat(exe, &sb) != 0) {
    fprintf(stderr, "stemgate binary not built; skipping the command-line test\n");
    skip();
  }
  char a[3000];
  variant v;
  variant_init(&v);
  const char *spec = sg_test_path("song.yaml");
  const char *jp = sg_test_path("cli.json"), *xp = sg_test_path("cli.xml");
  snprintf(a, sizeof a, "'%s' --spec '%s' --json '%s' --junit '%s'", make_zip("cli_good", &v), spec,
           jp, xp);
  assert_int_equal(run_cli(a), 0);
  struct stat js, xs;
  assert_int_equal(stat(jp, &js), 0);
  assert_int_equal(stat(xp, &xs), 0);
  assert_true(js.st_size > 1000 && xs.st_size > 1000);
  v.missing[BASS] = 1;
  snprintf(a, sizeof a, "'%s' --spec '%s'", make_zip("cli_missing", &v), spec);
  assert_int_equal(run_cli(a), 1);
  snprintf(a, sizeof a, "'%s' --spec '%s'", sg_test_path("evil.zip"), spec);
  assert_int_equal(run_cli(a), traversal_zip() ? 3 : -1);
  snprintf(a, sizeof a, "'%s'", sg_test_path("cli_good.zip"));
  assert_int_equal(run_cli(a), 0); /* no --spec: its own manifest */
  snprintf(a, sizeof a, "'%s'", make_plain_zip("cli_plain", &v));
  assert_int_equal(run_cli(a), 2); /* no --spec and no manifest */
  snprintf(a, sizeof a, "'%s'", sg_test_path("evil.zip"));
  assert_int_equal(run_cli(a), 3); /* no --spec, hostile */
  snprintf(a, sizeof a, "a.zip b.zip --spec '%s'", spec);
  assert_int_equal(run_cli(a), 2); /* two packages */
  snprintf(a, sizeof a, "'%s' --spec '%s' --frobnicate", sg_test_path("cli_good.zip"), spec);
  assert_int_equal(run_cli(a), 2);
}

static void xml_escaping(void **state) {
  (void)state;
  sg_verify_result r;
  sg_verify_result_init(&r);
  snprintf(r.package, sizeof r.package, "a&b<\"c\">\x01\xff.zip");
  sg_gate_row_text(&r.report, SG_CHECK_FORMAT, "verify", "K<&>", "x\"y'", "z", 0, SG_SEV_FAIL,
                   NULL);
  char *x = NULL;
  assert_int_equal(sg_verify_to_junit(&r, &x), SG_OK);
  assert_non_null(strstr(x, "package=\"a&amp;b&lt;&quot;c&quot;&gt;??.zip\""));
  assert_non_null(strstr(x, "classname=\"verify.K&lt;&amp;&gt;\""));
  assert_non_null(strstr(x, "x&quot;y&apos;"));
  free(x);
  sg_verify_result_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(good_package_passes),
      cmocka_unit_test(brief_conforming_delivery_passes),
      cmocka_unit_test(auto_tempo_takes_the_reference_tempo),
      cmocka_unit_test(stem_at_44k_fails_sample_rate),
      cmocka_unit_test(pcm16_stem_fails_format),
      cmocka_unit_test(master_shifted_30ms_fails_sync_offset),
      cmocka_unit_test(master_stretched_fails_sync_drift),
      cmocka_unit_test(bass_shifted_or_slow_fails_its_sync),
      cmocka_unit_test(master_without_drums_fails_drum_similarity),
      cmocka_unit_test(bridge_in_a_major_fails_key),
      cmocka_unit_test(clipped_master_fails_clipping_and_true_peak),
      cmocka_unit_test(nan_and_dc_fail_their_checks),
      cmocka_unit_test(reference_that_cannot_serve_is_refused),
      cmocka_unit_test(dc_while_playing_fails_dc_offset),
      cmocka_unit_test(float_denormals_fail_denormals),
      cmocka_unit_test(writer_flushes_denormals),
      cmocka_unit_test(manifest_only_verify),
      cmocka_unit_test(missing_stem_fails_present),
      cmocka_unit_test(silent_stem_fails_silence),
      cmocka_unit_test(bridge_playing_everywhere_fails_silent_outside),
      cmocka_unit_test(traversal_entry_is_unreadable_package),
      cmocka_unit_test(truncated_wav_is_unreadable),
      cmocka_unit_test(lying_header_is_unreadable),
      cmocka_unit_test(tampered_entry_fails_integrity),
      cmocka_unit_test(empty_master_and_symlinked_stem),
      cmocka_unit_test(one_package_per_folder),
      cmocka_unit_test(folder_with_common_names_passes),
      cmocka_unit_test(json_and_junit_hold_every_row),
      cmocka_unit_test(xml_escaping),
      cmocka_unit_test(cli_exit_codes),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
