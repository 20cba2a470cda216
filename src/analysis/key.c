/* Key estimation from HPSS chroma by key-profile correlation, key names and a key track.
 * See include/stemgate/analysis.h for the methods and their references. */
#include "analysis_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Krumhansl & Kessler (1982) probe-tone ratings, tonic first. */
static const double kk_major[12] = {6.35, 2.23, 3.48, 2.33, 4.38, 4.09,
                                    2.52, 5.19, 2.39, 3.66, 2.29, 2.88};
static const double kk_minor[12] = {6.33, 2.68, 3.52, 5.38, 2.60, 3.53,
                                    2.54, 4.75, 3.98, 2.69, 3.34, 3.17};
/* Temperley (2007, "Music and Probability"): pitch-class frequencies in the Kostka-Payne corpus. */
static const double tp_major[12] = {0.748, 0.060, 0.488, 0.082, 0.670, 0.460,
                                    0.096, 0.715, 0.104, 0.366, 0.057, 0.400};
static const double tp_minor[12] = {0.712, 0.084, 0.474, 0.618, 0.049, 0.460,
                                    0.105, 0.747, 0.404, 0.067, 0.133, 0.330};

static const char *const major_names[12] = {"C major",  "Db major", "D major",  "Eb major",
                                            "E major",  "F major",  "F# major", "G major",
                                            "Ab major", "A major",  "Bb major", "B major"};
static const char *const minor_names[12] = {"C minor",  "C# minor", "D minor",  "Eb minor",
                                            "E minor",  "F minor",  "F# minor", "G minor",
                                            "G# minor", "A minor",  "Bb minor", "B minor"};

const char *sg_keyfit_name(int tonic, int minor) {
  if (tonic < 0 || tonic > 11)
    return "none";
  return minor ? minor_names[tonic] : major_names[tonic];
}

sg_status sg_keyfit_parse(const char *s, int *tonic, int *minor) {
  if (!s || !tonic || !minor)
    return SG_E_INVAL;
  while (isspace((unsigned char)*s))
    s++;
  static const int base[7] = {9, 11, 0, 2, 4, 5, 7}; /* A..G */
  int L = toupper((unsigned char)*s);
  if (L < 'A' || L > 'G')
    return SG_E_PARSE;
  int pc = base[L - 'A'];
  s++;
  while (*s == '#' || *s == 'b') {
    pc += *s == '#' ? 1 : -1;
    s++;
  }
  while (isspace((unsigned char)*s))
    s++;
  int mi = 0;
  if (*s == 'm' && (s[1] == 0 || strncmp(s, "min", 3) == 0))
    mi = 1;
  else if (strncmp(s, "minor", 5) == 0 || strncmp(s, "Minor", 5) == 0)
    mi = 1;
  else if (*s && strncmp(s, "maj", 3) != 0 && strncmp(s, "Maj", 3) != 0 && *s != 'M')
    return SG_E_PARSE;
  *tonic = ((pc % 12) + 12) % 12;
  *minor = mi;
  return SG_OK;
}

static double pearson(const double *x, const double *p, int rot) {
  double mx = 0, mp = 0;
  for (int i = 0; i < 12; ++i) {
    mx += x[i];
    mp += p[i];
  }
  mx /= 12;
  mp /= 12;
  double sxy = 0, sxx = 0, spp = 0;
  for (int i = 0; i < 12; ++i) {
    double a = x[(i + rot) % 12] - mx, b = p[i] - mp;
    sxy += a * b;
    sxx += a * a;
    spp += b * b;
  }
  return sxx > 0 && spp > 0 ? sxy / sqrt(sxx * spp) : 0;
}

sg_keyfit sg_key_from_chroma(const double chroma[12], sg_key_profile profile) {
  sg_keyfit k = {-1, 0, 0, 0, 0};
  double tot = 0;
  for (int i = 0; i < 12; ++i)
    tot += chroma[i] > 0 ? chroma[i] : 0;
  if (!(tot > 0))
    return k;
  const double *maj = profile == SG_KEY_TEMPERLEY ? tp_major : kk_major;
  const double *min = profile == SG_KEY_TEMPERLEY ? tp_minor : kk_minor;
  double b1 = -2, b2 = -2;
  for (int m = 0; m < 2; ++m)
    for (int t = 0; t < 12; ++t) {
      double r = pearson(chroma, m ? min : maj, t);
      if (r > b1) {
        b2 = b1;
        b1 = r;
        k.tonic = t;
        k.minor = m;
      } else if (r > b2) {
        b2 = r;
      }
    }
  k.r = b1;
  k.confidence = b1 - b2;
  k.r_relative =
      k.minor ? pearson(chroma, maj, (k.tonic + 3) % 12) : pearson(chroma, min, (k.tonic + 9) % 12);
  return k;
}

/* Sums chroma frames [i0, i1). */
static void chroma_sum(const float *c, size_t i0, size_t i1, double out[12]) {
  memset(out, 0, 12 * sizeof *out);
  for (size_t i = i0; i < i1; ++i)
    for (int p = 0; p < 12; ++p)
      out[p] += c[i * 12 + p];
}

sg_status sg_key_estimate(const sg_features *f, double t0, double t1, sg_key_profile profile,
                          sg_keyfit *out) {
  if (!f || !out)
    return SG_E_INVAL;
  size_t n;
  double rate;
  const float *c = sg_features_chroma(f, &n, &rate);
  if (!c)
    return SG_E_INVAL;
  if (t1 <= 0)
    t1 = (double)n / rate + 1;
  long i0 = (long)floor(t0 * rate), i1 = (long)ceil(t1 * rate);
  if (i0 < 0)
    i0 = 0;
  if (i1 > (long)n)
    i1 = (long)n;
  double v[12] = {0};
  if (i1 > i0)
    chroma_sum(c, (size_t)i0, (size_t)i1, v);
  *out = sg_key_from_chroma(v, profile);
  return SG_OK;
}

/* Pitch-class offset of each mode's tonic above its parent major scale's tonic. */
static const int parent_offset[8] = {0, 2, 4, 5, 7, 9, 11, 9};

static int keyfit_agrees(int et, int em, int tonic, int mode, int *tonic_only) {
  const int minor_third = mode == 1 || mode == 2 || mode == 5 || mode == 6 || mode == 7;
  if (et == tonic && em == minor_third)
    return 1;
  if (mode == 0 || mode == 5 || mode == 7)
    return 0;
  int parent = (tonic - parent_offset[mode] + 12) % 12;
  if (et == tonic || (!em && et == parent) || (em && et == (parent + 9) % 12)) {
    *tonic_only = 1;
    return 1;
  }
  return 0;
}

sg_status sg_key_check_region(const sg_features *f, double t0, double t1, int tonic, int mode,
                              sg_key_check *out) {
  if (!f || !out || tonic < 0 || tonic > 11 || mode < 0 || mode > 7)
    return SG_E_INVAL;
  memset(out, 0, sizeof *out);
  out->est.tonic = -1;
  double len = t1 - t0;
  if (len < 6.0)
    return SG_E_RANGE;
  sg_status st =
      sg_key_estimate(f, t0 + 0.05 * len + 1.0, t1 - 0.02 * len, SG_KEY_TEMPERLEY, &out->est);
  if (st != SG_OK)
    return st;
  const sg_keyfit *k = &out->est;
  if (k->tonic >= 0) {
    out->pass = keyfit_agrees(k->tonic, k->minor, tonic, mode, &out->tonic_only);
    if (!out->pass) { /* the relative key: same pitches, other emphasis */
      int rt = (k->tonic + (k->minor ? 3 : 9)) % 12;
      out->relative = out->pass = keyfit_agrees(rt, !k->minor, tonic, mode, &out->tonic_only);
    }
  }
  if (!out->pass && k->tonic >= 0) { /* a fifth up or down, directly or through the relative */
    int unused = 0;
    for (int up = 0; up < 2 && !out->fifth; ++up) {
      int t = (k->tonic + (up ? 7 : 5)) % 12;
      int rt = (t + (k->minor ? 3 : 9)) % 12;
      out->fifth = keyfit_agrees(t, k->minor, tonic, mode, &unused) ||
                   keyfit_agrees(rt, !k->minor, tonic, mode, &unused);
    }
  }
  snprintf(out->text, sizeof out->text, "%s (r %.2f)%s", sg_keyfit_name(k->tonic, k->minor), k->r,
           out->relative ? ", its relative key"
                         : (out->fifth ? ", a fifth away: likely an estimator error" : ""));
  return SG_OK;
}

void sg_key_track_config_init(sg_key_track_config *c) {
  c->window_s = 8;
  c->hop_s = 1;
  c->min_segment_s = 6;
  c->profile = SG_KEY_KRUMHANSL;
}

void sg_key_track_free(sg_key_track *t) {
  if (!t)
    return;
  free(t->center_s);
  free(t->key);
  free(t->change);
  memset(t, 0, sizeof *t);
}

static int same_key(sg_keyfit a, sg_keyfit b) { return a.tonic == b.tonic && a.minor == b.minor; }

sg_status sg_key_track_compute(const sg_features *f, const sg_key_track_config *cfg,
                               sg_key_track *out) {
  if (!f || !out)
    return SG_E_INVAL;
  memset(out, 0, sizeof *out);
  sg_key_track_config c;
  if (cfg)
    c = *cfg;
  else
    sg_key_track_config_init(&c);
  if (!(c.window_s > 0) || !(c.hop_s > 0) || c.min_segment_s < 0)
    return SG_E_INVAL;
  size_t n;
  double rate;
  const float *ch = sg_features_chroma(f, &n, &rate);
  if (!ch)
    return SG_E_INVAL;
  double dur = (double)n / rate;
  double w = c.window_s < dur ? c.window_s : dur;
  size_t nw = dur > 0 ? (size_t)floor((dur - w) / c.hop_s + 1e-9) + 1 : 0;
  if (!nw)
    return SG_OK;
  out->center_s = malloc(nw * sizeof *out->center_s);
  out->key = malloc(nw * sizeof *out->key);
  int *lab = malloc(nw * sizeof *lab);
  if (!out->center_s || !out->key || !lab) {
    free(lab);
    sg_key_track_free(out);
    return SG_E_NOMEM;
  }
  for (size_t i = 0; i < nw; ++i) {
    double t0 = (double)i * c.hop_s;
    size_t a = (size_t)floor(t0 * rate), b = (size_t)floor((t0 + w) * rate);
    if (b > n)
      b = n;
    double v[12];
    chroma_sum(ch, a, b, v);
    out->key[i] = sg_key_from_chroma(v, c.profile);
    out->center_s[i] = t0 + w / 2;
    lab[i] = out->key[i].tonic < 0 ? -1 : out->key[i].tonic + 12 * out->key[i].minor;
  }
  out->n = nw;
  /* Merge runs shorter than min_segment_s into the longer neighbour, shortest first, until
   * every run is long enough (or one run remains). */
  size_t minrun = (size_t)ceil(c.min_segment_s / c.hop_s);
  for (;;) {
    size_t bs = 0, bl = (size_t)-1, s = 0;
    while (s < nw) {
      size_t e = s;
      while (e < nw && lab[e] == lab[s])
        e++;
      if (e - s < minrun && !(s == 0 && e == nw) && e - s < bl) {
        bl = e - s;
        bs = s;
      }
      s = e;
    }
    if (bl == (size_t)-1)
      break;
    size_t be = bs + bl;
    size_t left = 0, right = 0;
    for (size_t j = bs; j-- > 0 && lab[j] == lab[bs - 1];)
      left++;
    for (size_t j = be; j < nw && lab[j] == lab[be]; ++j)
      right++;
    int to = (bs > 0 && (be >= nw || left >= right)) ? lab[bs - 1] : lab[be];
    for (size_t j = bs; j < be; ++j)
      lab[j] = to;
  }
  size_t nc = 0;
  for (size_t i = 1; i < nw; ++i)
    nc += lab[i] != lab[i - 1];
  if (nc) {
    out->change = malloc(nc * sizeof *out->change);
    if (!out->change) {
      free(lab);
      sg_key_track_free(out);
      return SG_E_NOMEM;
    }
    /* The boundary: halfway between the last window centre of the old key and the first of the
     * new one. Representative keys are the window keys of each label nearest the change. */
    for (size_t i = 1; i < nw; ++i)
      if (lab[i] != lab[i - 1]) {
        sg_key_change *k = &out->change[out->n_changes++];
        k->time_s = 0.5 * (out->center_s[i - 1] + out->center_s[i]);
        k->from = (sg_keyfit){lab[i - 1] < 0 ? -1 : lab[i - 1] % 12, lab[i - 1] >= 12, 0, 0, 0};
        k->to = (sg_keyfit){lab[i] < 0 ? -1 : lab[i] % 12, lab[i] >= 12, 0, 0, 0};
        for (size_t j = i; j-- > 0 && lab[j] == lab[i - 1];)
          if (same_key(out->key[j], k->from)) {
            k->from = out->key[j];
            break;
          }
        for (size_t j = i; j < nw && lab[j] == lab[i]; ++j)
          if (same_key(out->key[j], k->to)) {
            k->to = out->key[j];
            break;
          }
      }
  }
  free(lab);
  return SG_OK;
}
