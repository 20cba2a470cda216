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

#define SPAN_FRAMES 256 /* chroma frames read at a time (the chroma may be spooled to a file) */

/* Sums frames [i0, i1) of the chroma (bass 0) or the bass chroma (bass 1), in frame order. */
static sg_status chroma_sum(const sg_features *f, int bass, size_t i0, size_t i1, double out[12]) {
  memset(out, 0, 12 * sizeof *out);
  float buf[SPAN_FRAMES * 12];
  for (size_t j = i0; j < i1; j += SPAN_FRAMES) {
    size_t k = i1 - j < SPAN_FRAMES ? i1 - j : SPAN_FRAMES;
    sg_status st = sg_features_chroma_read(f, bass, j, k, buf);
    if (st != SG_OK)
      return st;
    for (size_t i = 0; i < k; ++i)
      for (int p = 0; p < 12; ++p)
        out[p] += buf[i * 12 + (size_t)p];
  }
  return SG_OK;
}

sg_status sg_key_estimate(const sg_features *f, double t0, double t1, sg_key_profile profile,
                          sg_keyfit *out) {
  if (!f || !out)
    return SG_E_INVAL;
  double rate;
  const size_t n = sg_features_chroma_frames(f, 0, &rate);
  if (!n)
    return SG_E_INVAL;
  if (t1 <= 0)
    t1 = (double)n / rate + 1;
  long i0 = (long)floor(t0 * rate), i1 = (long)ceil(t1 * rate);
  if (i0 < 0)
    i0 = 0;
  if (i1 > (long)n)
    i1 = (long)n;
  double v[12] = {0};
  if (i1 > i0) {
    sg_status st = chroma_sum(f, 0, (size_t)i0, (size_t)i1, v);
    if (st != SG_OK)
      return st;
  }
  *out = sg_key_from_chroma(v, profile);
  return SG_OK;
}

/* ---- tonic and mode ------------------------------------------------------------------------
 * Evidence weights and the source of each: see include/stemgate/analysis.h. */
#define W_PROFILE 0.15
#define W_BASS 0.30
#define W_ROOTS 0.35
#define W_CADENCE 0.20
#define PROFILE_SOFT 0.15   /* r difference that costs a factor e in the profile evidence */
#define BASS_FLOOR 0.1      /* frames with less bass than this share of the mean cast no vote */
#define ROOT_BASS_W 0.7     /* weight of a bar's bass note against its triad's chroma share */
#define WEAK_BAR_W 0.6      /* a phrase's 2nd, 4th... bar against its 1st, 3rd...        */
#define DEGREE_RATIO 2.0    /* the other form of a degree must have this much more chroma */
#define DEGREE_PRESENCE 0.3 /* ... and this share of a scale note's mean                  */

static void norm12(double v[12]) {
  double t = 0;
  for (int i = 0; i < 12; ++i)
    t += v[i] > 0 ? v[i] : 0;
  for (int i = 0; i < 12; ++i)
    v[i] = t > 0 && v[i] > 0 ? v[i] / t : 0;
}

/* Chroma and (with bass) bass chroma summed over [t0, t1) s of n frames. */
static sg_status sum_span(const sg_features *f, int bass, size_t n, double rate, double t0,
                          double t1, double v[12], double b[12]) {
  memset(v, 0, 12 * sizeof *v);
  memset(b, 0, 12 * sizeof *b);
  long i0 = (long)floor(t0 * rate), i1 = (long)ceil(t1 * rate);
  if (i0 < 0)
    i0 = 0;
  if (i1 > (long)n)
    i1 = (long)n;
  if (i1 <= i0)
    return SG_OK;
  sg_status st = chroma_sum(f, 0, (size_t)i0, (size_t)i1, v);
  if (st == SG_OK && bass)
    st = chroma_sum(f, 1, (size_t)i0, (size_t)i1, b);
  return st;
}

/* The chord of a span: the major or minor triad whose notes hold the largest share of the
 * chroma, plus its root's share of the bass (so Em7 reads as Em, not G). Returns the root or -1
 * when the span is silent; *minor its quality. */
static int span_chord(const sg_features *f, int bass, size_t n, double rate, double t0, double t1,
                      int *minor) {
  double v[12], b[12];
  if (sum_span(f, bass, n, rate, t0, t1, v, b) != SG_OK)
    return -1;
  norm12(v);
  norm12(b);
  double best = 0;
  int root = -1;
  for (int q = 0; q < 2; ++q)
    for (int r = 0; r < 12; ++r) {
      double sc = v[r] + v[(r + (q ? 3 : 4)) % 12] + v[(r + 7) % 12] + ROOT_BASS_W * b[r];
      if (sc > best) {
        best = sc;
        root = r;
        *minor = q;
      }
    }
  return root;
}

/* The scale on tonic t holding the most chroma (ties: the more common mode first). */
static int best_mode(const double v[12], int t) {
  static const sg_mode order[SG_MODE_COUNT_] = {
      SG_MODE_MAJOR,  SG_MODE_MINOR,    SG_MODE_DORIAN,         SG_MODE_MIXOLYDIAN,
      SG_MODE_LYDIAN, SG_MODE_PHRYGIAN, SG_MODE_HARMONIC_MINOR, SG_MODE_LOCRIAN};
  int bm = SG_MODE_MAJOR;
  double bs = -1;
  for (int i = 0; i < SG_MODE_COUNT_; ++i) {
    sg_key k = {t, 0, order[i]};
    int pcs[7];
    sg_key_scale(&k, pcs);
    double in = 0;
    for (int j = 0; j < 7; ++j)
      in += v[pcs[j]];
    if (in > bs + 1e-9) {
      bs = in;
      bm = (int)order[i];
    }
  }
  return bm;
}

sg_status sg_key_evidence_measure(const sg_features *f, const sg_key_grid *g,
                                  sg_key_evidence *out) {
  if (!f || !g || !out || !g->bar_s || g->n_bars < 1 || (g->n_phrases > 0 && !g->phrase_bar))
    return SG_E_INVAL;
  memset(out, 0, sizeof *out);
  out->tonic = out->second = out->final_root = -1;
  double rate;
  const size_t n = sg_features_chroma_frames(f, 0, &rate);
  if (!n || !(rate > 0))
    return SG_E_INVAL;
  const int bass = sg_features_chroma_frames(f, 1, NULL) == n;
  const double t0 = g->bar_s[0], t1 = g->bar_s[g->n_bars], len = t1 - t0;
  if (!(len > 0))
    return SG_E_INVAL;
  double v[12], b[12];
  sg_status st =
      sum_span(f, bass, n, rate, t0 + 0.05 * len + fmin(1.0, 0.1 * len), t1 - 0.02 * len, v, b);
  if (st != SG_OK)
    return st;
  out->fit = sg_key_from_chroma(v, SG_KEY_TEMPERLEY);
  if (out->fit.tonic < 0)
    return SG_OK;
  memcpy(out->pc, v, sizeof v);
  norm12(out->pc);
  (void)b;
  /* Bass: a histogram of each frame's strongest bass note, so a low note is not outweighed by
   * a higher one whose partials the chord above reinforces (a major triad in root position is
   * harmonics 4-6 of its bass). */
  if (bass) {
    double i0 = floor(t0 * rate), i1 = fmin(ceil(t1 * rate), (double)n), mean = 0;
    const size_t ia = (size_t)fmax(i0, 0), ib = i1 > fmax(i0, 0) ? (size_t)i1 : ia;
    float buf[SPAN_FRAMES * 12];
    for (int pass = 0; pass < 2; ++pass) { /* the mean, then the histogram */
      for (size_t j = ia; j < ib; j += SPAN_FRAMES) {
        size_t k = ib - j < SPAN_FRAMES ? ib - j : SPAN_FRAMES;
        if ((st = sg_features_chroma_read(f, 1, j, k, buf)) != SG_OK)
          return st;
        for (size_t i = 0; i < k; ++i) {
          const float *fr = buf + i * 12;
          if (!pass) {
            for (int p = 0; p < 12; ++p)
              mean += fr[p];
            continue;
          }
          int top = 0;
          double tot = 0;
          for (int p = 0; p < 12; ++p) {
            tot += fr[p];
            if (fr[p] > fr[top])
              top = p;
          }
          if (tot > 0 && tot >= BASS_FLOOR * mean)
            out->bass[top] += 1;
        }
      }
      if (!pass)
        mean /= fmax(1, i1 - fmax(i0, 0));
    }
    norm12(out->bass);
  }
  /* Profile: the better of major and minor on each tonic, softened. */
  double r[12], rmax = -2;
  for (int t = 0; t < 12; ++t) {
    r[t] = fmax(pearson(v, tp_major, t), pearson(v, tp_minor, t));
    rmax = fmax(rmax, r[t]);
  }
  for (int t = 0; t < 12; ++t)
    out->profile[t] = exp((r[t] - rmax) / PROFILE_SOFT);
  norm12(out->profile);
  /* Strong beats and phrase ends. */
  int one = 0;
  const int *ph = g->n_phrases > 0 ? g->phrase_bar : &one;
  int np = g->n_phrases > 0 ? g->n_phrases : 1;
  for (int p = 0; p < np; ++p) {
    int a = ph[p], e = p + 1 < np ? ph[p + 1] : g->n_bars;
    if (a < 0 || e > g->n_bars || e <= a)
      return SG_E_INVAL;
    for (int k = a; k < e; ++k) {
      double bs = g->bar_s[k], bl = g->bar_s[k + 1] - bs;
      int mi = 0;
      int root = span_chord(f, bass, n, rate, bs + 0.05 * bl, bs + 0.5 * bl, &mi);
      if (root < 0)
        continue;
      out->roots[root] += (k - a) % 2 ? WEAK_BAR_W : 1.0;
      if (k == a)
        out->cadence[root] += 1.0;
    }
    double bs = g->bar_s[e - 1], bl = g->bar_s[e] - bs;
    int mi = 0;
    int root = span_chord(f, bass, n, rate, bs + 0.5 * bl, bs + 0.95 * bl, &mi);
    if (root >= 0) {
      out->cadence[root] += 1.0;
      if (!mi) /* a half cadence: V of the root a fifth below */
        out->cadence[(root + 5) % 12] += 0.5;
      out->final_root = root;
      out->final_minor = mi;
    }
  }
  norm12(out->roots);
  norm12(out->cadence);
  double best = -1, second = -1;
  for (int t = 0; t < 12; ++t) {
    out->score[t] = W_PROFILE * out->profile[t] + W_BASS * out->bass[t] + W_ROOTS * out->roots[t] +
                    W_CADENCE * out->cadence[t];
    if (out->score[t] > best) {
      second = best;
      out->second = out->tonic;
      best = out->score[t];
      out->tonic = t;
    } else if (out->score[t] > second) {
      second = out->score[t];
      out->second = t;
    }
  }
  norm12(out->score);
  out->margin = best > 0 ? (best - second) / best : 0;
  out->mode = best_mode(out->pc, out->tonic);
  return SG_OK;
}

static const char *const pc_sharp[12] = {"C",  "C#", "D",  "D#", "E",  "F",
                                         "F#", "G",  "G#", "A",  "A#", "B"};
static const char *const degree_name[7] = {"1st", "2nd", "3rd", "4th", "5th", "6th", "7th"};

/* The two forms each degree 2..7 takes in theory's scales, in semitones above the tonic. */
static const int degree_forms[7][2] = {{0, 0}, {1, 2}, {3, 4}, {5, 6}, {6, 7}, {8, 9}, {10, 11}};

/* Name of pitch class pc as degree j (0-based) of key k: the degree's letter with the accidental
 * that reaches pc (the 4th of F is Bb or B, never A#); sharps when k has no letter. */
static const char *spell_degree(const sg_key *k, int j, int pc, char buf[8]) {
  static const int natural[7] = {0, 2, 4, 5, 7, 9, 11};
  if (k->tonic_letter < 0 || k->tonic_letter > 6)
    return pc_sharp[pc];
  int letter = (k->tonic_letter + j) % 7, d = ((pc - natural[letter]) % 12 + 12) % 12;
  if (d > 6)
    d -= 12;
  if (d < -1 || d > 1) /* a double accidental reads worse than the plain name */
    return pc_sharp[pc];
  snprintf(buf, 8, "%c%s", "CDEFGAB"[letter], d == -1 ? "b" : d == 1 ? "#" : "");
  return buf;
}

sg_status sg_key_check_grid(const sg_features *f, const sg_key_grid *g, const sg_key *want,
                            sg_key_check *out) {
  if (!f || !g || !want || !out || want->tonic < 0 || want->tonic > 11 ||
      (unsigned)want->mode >= SG_MODE_COUNT_)
    return SG_E_INVAL;
  memset(out, 0, sizeof *out);
  out->verdict = -1;
  out->ev.tonic = -1;
  if (!g->bar_s || g->n_bars < 1)
    return SG_E_INVAL;
  if (g->bar_s[g->n_bars] - g->bar_s[0] < 6.0)
    return SG_E_RANGE;
  sg_status st = sg_key_evidence_measure(f, g, &out->ev);
  if (st != SG_OK)
    return st;
  const sg_key_evidence *e = &out->ev;
  if (e->tonic < 0) {
    snprintf(out->text, sizeof out->text, "no pitched content");
    return SG_OK;
  }
  const int t = want->tonic;
  /* Degrees of the expected key that the chroma contradicts. */
  int pcs[7];
  sg_key_scale(want, pcs);
  double mean = 0;
  {
    sg_key mk = {e->tonic, -1, (sg_mode)e->mode};
    int m[7];
    sg_key_scale(&mk, m);
    for (int j = 0; j < 7; ++j)
      mean += e->pc[m[j]] / 7;
  }
  char deg[160] = "";
  size_t dl = 0;
  for (int j = 1; j < 7; ++j) {
    int expect = (pcs[j] - t + 12) % 12;
    int other = degree_forms[j][0] == expect ? degree_forms[j][1] : degree_forms[j][0];
    int opc = (t + other) % 12;
    if (sg_key_contains(want, opc))
      continue; /* the other form is another degree of the scale (lydian #4 against 5) */
    if (want->mode == SG_MODE_MINOR &&
        (j == 6 || (j == 5 && e->pc[(t + 11) % 12] >= e->pc[(t + 10) % 12])))
      continue; /* minor: the leading tone, and the raised 6th that leads to it */
    double ve = e->pc[pcs[j]], vo = e->pc[opc];
    if (vo >= DEGREE_RATIO * ve && vo >= DEGREE_PRESENCE * mean) {
      char b1[8], b2[8];
      out->n_degrees++;
      if (dl < sizeof deg)
        dl += (size_t)snprintf(deg + dl, sizeof deg - dl, "; %s degree %s not %s (x%.0f)",
                               degree_name[j], spell_degree(want, j, opc, b1),
                               spell_degree(want, j, pcs[j], b2), fmin(99, vo / fmax(ve, 1e-9)));
    }
  }
  out->tonic_ok = e->tonic == t;
  char tb[8], fb[8], fc[12] = "none";
  const char *tn = out->tonic_ok ? spell_degree(want, 0, e->tonic, tb) : pc_sharp[e->tonic];
  if (e->final_root >= 0)
    snprintf(fc, sizeof fc, "%s%s",
             sg_key_contains(want, e->final_root) && want->tonic_letter >= 0
                 ? sg_key_spell(want, e->final_root, fb)
                 : pc_sharp[e->final_root],
             e->final_minor ? "m" : "");
  snprintf(out->text, sizeof out->text,
           "%s %s (tonic %s: bass %.2f, roots %.2f, final chord %s, margin %.2f over %s; r %.2f%s)",
           tn, sg_mode_name((sg_mode)e->mode), tn, e->bass[e->tonic], e->roots[e->tonic], fc,
           e->margin, pc_sharp[e->second], e->fit.r, deg);
  /* A wrong tonic fails only when no evidence that sees function (bass, strong-beat roots,
   * phrase ends) puts the expected tonic first: profiles alone cannot tell a relative key. */
  int leads = 0;
  const double *src[3] = {e->bass, e->roots, e->cadence};
  for (int k = 0; k < 3; ++k) {
    double top = 0;
    for (int p = 0; p < 12; ++p)
      top = fmax(top, src[k][p]);
    leads |= top > 0 && src[k][t] >= top - 1e-9; /* a tie counts: Am-F-C-G opens on A, ends on G */
  }
  if (e->fit.r < 0.5) /* the chroma fits no key well: the estimate means nothing */
    out->verdict = -1;
  else if (out->n_degrees > 0 || (!out->tonic_ok && e->margin >= SG_KEY_TONIC_MARGIN && !leads))
    out->verdict = 0;
  else if (!out->tonic_ok)
    out->verdict = -1;
  else
    out->verdict = 1;
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
  double rate;
  const size_t n = sg_features_chroma_frames(f, 0, &rate);
  if (!n)
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
    if (chroma_sum(f, 0, a, b, v) != SG_OK) {
      free(lab);
      sg_key_track_free(out);
      return SG_E_IO;
    }
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
