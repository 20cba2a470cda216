/* stemgate verify: every file of a package streamed once through the analysis module, then one
 * gate row per check (see include/stemgate/verify.h for the list and the methods). */
#include "verify_internal.h"

#include "stemgate/analysis.h"
#include "stemgate/theory.h"
#include "stemgate/timing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_FRAMES 65536
/* Sound allowed just before a section a stem plays in (pickup notes, early attacks), s. */
#define SG_VERIFY_LEAD_IN_S 0.1
/* More channels than this in one file is refused (the meter measures up to 8; a channel
 * count is also what sizes the read buffer). */
#define SG_VERIFY_MAX_CHANNELS 64

void sg_verify_options_init(sg_verify_options *o) {
  memset(o, 0, sizeof *o);
  o->duration_tolerance_s = 1.0;
  o->drum_similarity_min = 0.8;
  o->tail_allowance_s = 2.0;
  o->max_seconds = 3600.0;
}

const char *sg_verify_match_name(sg_verify_match m) {
  switch (m) {
  case SG_MATCH_NAMING:
    return "naming";
  case SG_MATCH_COMMON:
    return "common name";
  default:
    return "missing";
  }
}

void sg_verify_result_init(sg_verify_result *r) {
  memset(r, 0, sizeof *r);
  sg_gate_report_init(&r->report);
}

void sg_verify_result_free(sg_verify_result *r) {
  if (!r)
    return;
  sg_gate_report_free(&r->report);
  memset(r, 0, sizeof *r);
}

/* ---- rows ------------------------------------------------------------------------------------ */

/* Appends rows and remembers the first failure for the caller's diagnostic. */
typedef struct rows {
  sg_gate_report *rep;
  sg_diag first;
  int have_first;
  sg_status err; /* first allocation failure */
} rows;

static void row(rows *w, const char *stem, const char *check, double measured, sg_cmp cmp,
                double limit, double target, const char *unit, const char *detail, int required) {
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_gate_check(w->rep, SG_VERIFY_STEP, stem, check, measured, cmp, limit, target,
                               unit, detail, required, &d);
  if (st == SG_E_GATE && !w->have_first) {
    w->first = d;
    w->have_first = 1;
  } else if (st != SG_OK && st != SG_E_GATE && w->err == SG_OK) {
    w->err = st;
  }
}

static void row_text(rows *w, const char *stem, const char *check, const char *measured,
                     const char *expected, int pass, int required) {
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = sg_gate_check_text(w->rep, SG_VERIFY_STEP, stem, check, measured, expected, pass,
                                    required, &d);
  if (st == SG_E_GATE && !w->have_first) {
    w->first = d;
    w->have_first = 1;
  } else if (st != SG_OK && st != SG_E_GATE && w->err == SG_OK) {
    w->err = st;
  }
}

/* ---- one streaming pass per file ------------------------------------------------------------- */

typedef struct analysed {
  int ok;        /* decoded completely */
  sg_status err; /* why not            */
  char why[SG_DIAG_TEXT];
  sg_audio_info info;
  sg_meter *meter; /* NULL when the channel count is beyond the meter                  */
  sg_meter_result mr;
  sg_features *feat; /* master only                                                       */
  float *mono;       /* master only, when a reference is compared: mean of the channels  */
  size_t n_mono;
} analysed;

static void analysed_free(analysed *a) {
  sg_meter_free(a->meter);
  sg_features_free(a->feat);
  free(a->mono);
  memset(a, 0, sizeof *a);
}

static void fail_read(analysed *a, sg_status st, const sg_diag *d, const char *fallback) {
  a->ok = 0;
  a->err = st;
  snprintf(a->why, sizeof a->why, "%s", d && d->message[0] ? d->message : fallback);
}

/* Streams entry i once: meter (true peak and loudness only when master), features and the mono
 * copy when asked. */
static void analyse(sg__vpkg *p, size_t i, int master, int want_mono, double max_seconds,
                    analysed *a) {
  memset(a, 0, sizeof *a);
  sg_diag d;
  sg_diag_clear(&d);
  sg__vaudio va;
  sg_status st = sg__vpkg_open_audio(p, i, &va, &a->info, &d);
  if (st != SG_OK) {
    fail_read(a, st, &d, "cannot open audio");
    return;
  }
  sg_audio_reader *ar = sg__vaudio_reader(&va);
  const sg_audio_info *in = &a->info;
  float *buf = NULL;
  if (in->channels == 0 || in->rate == 0) {
    fail_read(a, SG_E_FORMAT, NULL, "header declares no channels or no sample rate");
    goto done;
  }
  if (in->channels > SG_VERIFY_MAX_CHANNELS) { /* bounds the read buffer of a lying header */
    char msg[160];
    snprintf(msg, sizeof msg, "header declares %u channels; at most %d are analysed", in->channels,
             SG_VERIFY_MAX_CHANNELS);
    fail_read(a, SG_E_LIMIT, NULL, msg);
    goto done;
  }
  if ((double)in->frames > max_seconds * (double)in->rate) {
    char msg[160];
    snprintf(msg, sizeof msg, "header declares %.1f s, more than the %.0f s analysed",
             (double)in->frames / in->rate, max_seconds);
    fail_read(a, SG_E_LIMIT, NULL, msg);
    goto done;
  }
  if (in->channels <= SG_METER_MAX_CHANNELS) {
    unsigned flags = master ? SG_METER_ALL : 0;
    st = sg_meter_create(&a->meter, in->channels, in->rate, flags, &d);
    if (st != SG_OK) {
      fail_read(a, st, &d, "cannot create meter");
      goto done;
    }
  }
  if (master) {
    st = sg_features_create(&a->feat, in->channels, in->rate, NULL, &d);
    if (st != SG_OK) {
      fail_read(a, st, &d, "cannot create feature extractor");
      goto done;
    }
    if (want_mono && in->frames > 0) {
      a->mono = malloc((size_t)in->frames * sizeof *a->mono);
      if (!a->mono) {
        fail_read(a, SG_E_NOMEM, NULL, "out of memory for the alignment copy");
        goto done;
      }
    }
  }
  buf = malloc((size_t)BLOCK_FRAMES * in->channels * sizeof *buf);
  if (!buf) {
    fail_read(a, SG_E_NOMEM, NULL, "out of memory");
    goto done;
  }
  int64_t total = 0;
  for (;;) {
    size_t got = 0;
    st = sg_audio_reader_read(ar, buf, BLOCK_FRAMES, &got, &d);
    if (st != SG_OK) {
      fail_read(a, st, &d, "read error");
      goto done;
    }
    if (got == 0)
      break;
    if (total + (int64_t)got > in->frames) { /* more data than declared: stop at the header */
      got = (size_t)(in->frames - total);
      if (got == 0)
        break;
    }
    if (a->meter && (st = sg_meter_add(a->meter, buf, got)) != SG_OK) {
      fail_read(a, st, NULL, "meter failed");
      goto done;
    }
    if (a->feat && (st = sg_features_add(a->feat, buf, got)) != SG_OK) {
      fail_read(a, st, NULL, "feature extraction failed");
      goto done;
    }
    if (a->mono) {
      for (size_t k = 0; k < got; ++k) {
        double s = 0;
        for (unsigned c = 0; c < in->channels; ++c) {
          float x = buf[k * in->channels + c];
          s += isfinite(x) ? x : 0.0f;
        }
        a->mono[a->n_mono++] = (float)(s / in->channels);
      }
    }
    total += (int64_t)got;
  }
  if (total != in->frames) {
    char msg[200];
    snprintf(msg, sizeof msg, "truncated: the header declares %lld frames, the data holds %lld",
             (long long)in->frames, (long long)total);
    fail_read(a, SG_E_FORMAT, NULL, msg);
    goto done;
  }
  if (a->feat && (st = sg_features_finish(a->feat)) != SG_OK) {
    fail_read(a, st, NULL, "feature extraction failed");
    goto done;
  }
  if (a->meter)
    sg_meter_result_get(a->meter, &a->mr);
  a->ok = 1;
done:
  free(buf);
  sg__vaudio_close(&va);
}

/* Loudest activity window over frames [f0, f1), dB; SG_SILENCE_DB when none. whole = 0: every
 * window that overlaps the range (is anything playing?); whole = 1: only windows entirely inside
 * it (is it quiet here?), so a neighbouring section's first or last 50 ms cannot leak in. */
static double loudest(const sg_meter *m, int64_t f0, int64_t f1, int whole) {
  size_t wf = sg_meter_window_frames(m), nw = sg_meter_window_count(m);
  if (f0 < 0)
    f0 = 0;
  if (!wf || f1 <= f0)
    return SG_SILENCE_DB;
  size_t w0 = (size_t)f0 / wf;
  if (whole && (int64_t)(w0 * wf) < f0)
    ++w0;
  double best = SG_SILENCE_DB;
  for (size_t w = w0; w < nw && (int64_t)(w * wf) < f1; ++w) {
    if (whole && (int64_t)((w + 1) * wf) > f1)
      break;
    double v = sg_meter_window_db(m, w);
    if (v > best)
      best = v;
  }
  return best;
}

/* ---- the reference -----------------------------------------------------------------------------
 */

/* Reads the reference as mono at rate (resampled when it differs). */
static sg_status read_reference(const char *path, unsigned rate, double max_seconds, float **out,
                                size_t *n, sg_diag *d) {
  *out = NULL;
  *n = 0;
  sg_audio_info info;
  sg_audio_reader *ar = NULL;
  sg_status st = sg_audio_reader_open(&ar, path, &info, d);
  if (st != SG_OK)
    return st;
  if (info.channels == 0 || info.rate == 0 || (double)info.frames > max_seconds * info.rate) {
    sg_audio_reader_close(ar);
    return sg_diag_fail(d, SG_E_LIMIT, "reference '%s': no channels or longer than %.0f s", path,
                        max_seconds);
  }
  sg_resampler *rs = NULL;
  if (info.rate != rate && (st = sg_resampler_create(&rs, 1, info.rate, rate, d)) != SG_OK) {
    sg_audio_reader_close(ar);
    return st;
  }
  size_t cap = (size_t)((double)info.frames * rate / info.rate) + 4096;
  float *mono = malloc(cap * sizeof *mono);
  float *buf = malloc((size_t)BLOCK_FRAMES * info.channels * sizeof *buf);
  float *m1 = malloc((size_t)BLOCK_FRAMES * sizeof *m1);
  size_t len = 0;
  if (!mono || !buf || !m1) {
    st = sg_diag_fail(d, SG_E_NOMEM, "out of memory reading the reference");
    goto done;
  }
  for (;;) {
    size_t got = 0;
    if ((st = sg_audio_reader_read(ar, buf, BLOCK_FRAMES, &got, d)) != SG_OK)
      goto done;
    int last = got == 0;
    for (size_t k = 0; k < got; ++k) {
      double s = 0;
      for (unsigned c = 0; c < info.channels; ++c) {
        float x = buf[k * info.channels + c];
        s += isfinite(x) ? x : 0.0f;
      }
      m1[k] = (float)(s / info.channels);
    }
    if (!rs) {
      size_t take = got < cap - len ? got : cap - len;
      memcpy(mono + len, m1, take * sizeof *mono);
      len += take;
    } else {
      /* Feed the block; at the end, flush the filter until it gives nothing more. */
      size_t off = 0;
      while (len < cap) {
        size_t used = 0, produced = 0;
        if ((st = sg_resampler_process(rs, m1 + off, got - off, mono + len, cap - len, last, &used,
                                       &produced, d)) != SG_OK)
          goto done;
        off += used;
        len += produced;
        if (off >= got && (!last || produced == 0))
          break;
      }
    }
    if (last || len >= cap)
      break;
  }
  *out = mono;
  *n = len;
  mono = NULL;
done:
  free(mono);
  free(buf);
  free(m1);
  sg_resampler_destroy(rs);
  sg_audio_reader_close(ar);
  return st;
}

/* ---- file matching -----------------------------------------------------------------------------
 */

static void add_required(sg_verify_result *res, const char *stem, int master) {
  if (res->n_files >= SG_VERIFY_MAX_FILES)
    return;
  for (int i = 0; i < res->n_files; ++i)
    if (!strcmp(res->files[i].stem, stem))
      return;
  sg_verify_file *f = &res->files[res->n_files++];
  memset(f, 0, sizeof *f);
  snprintf(f->stem, sizeof f->stem, "%s", stem);
  f->is_master = master;
}

/* Fills res->files with the required list and entry indices in idx (SIZE_MAX: missing). */
static void match_files(const sg_song *s, const sg__vpkg *p, sg_verify_result *res, size_t *idx) {
  add_required(res, "Master", 1);
  for (int i = 0; i < s->n_stems; ++i)
    add_required(res, s->stems[i].name.s, 0);
  if (s->drums.source != SG_DRUMS_NONE)
    add_required(res, "Drums", 0);
  unsigned char *used = calloc(p->n ? p->n : 1, 1);
  for (int f = 0; f < res->n_files; ++f)
    idx[f] = SIZE_MAX;
  /* Pass 1: the spec's naming template. */
  for (int f = 0; f < res->n_files; ++f) {
    char pat[SG_MAX_PATH];
    sg__naming_expand(s, res->files[f].stem, pat, sizeof pat);
    for (size_t e = 0; e < p->n; ++e)
      if (p->names[e][0] && !(used && used[e]) && sg__name_match(pat, p->names[e])) {
        idx[f] = e;
        res->files[f].match = SG_MATCH_NAMING;
        if (used)
          used[e] = 1;
        break;
      }
  }
  /* Pass 2: common names, for what the template did not find. */
  for (int f = 0; f < res->n_files; ++f) {
    if (idx[f] != SIZE_MAX)
      continue;
    for (size_t e = 0; e < p->n; ++e)
      if (p->names[e][0] && !(used && used[e]) &&
          sg__common_match(res->files[f].stem, res->files[f].is_master, s->slug, p->names[e])) {
        idx[f] = e;
        res->files[f].match = SG_MATCH_COMMON;
        if (used)
          used[e] = 1;
        break;
      }
  }
  for (int f = 0; f < res->n_files; ++f)
    if (idx[f] != SIZE_MAX)
      snprintf(res->files[f].entry, sizeof res->files[f].entry, "%s", p->names[idx[f]]);
  free(used);
}

/* ---- checks ------------------------------------------------------------------------------------
 */

static const sg_stem_spec *stem_spec(const sg_song *s, const char *name) {
  int i = sg_song_stem_index(s, name);
  return i >= 0 ? &s->stems[i] : NULL;
}

static void check_file_basics(rows *w, const sg_song *s, const sg_verify_file *f,
                              const analysed *a) {
  char m[64], e[64];
  snprintf(m, sizeof m, "%u Hz", a->info.rate);
  row(w, f->stem, "sample_rate", a->info.rate, SG_CMP_EQ, s->sample_rate, 0, "Hz", NULL, 1);
  snprintf(m, sizeof m, "%s (%d-bit%s)", sg_sample_format_name(a->info.format), a->info.bits,
           a->info.is_float ? " float" : "");
  snprintf(e, sizeof e, "%s", sg_sample_format_name(s->format));
  row_text(w, f->stem, "format", m, e, a->info.format == s->format, 1);
  row(w, f->stem, "channels", a->info.channels, SG_CMP_EQ, s->channels, 0, "ch", NULL, 1);
  if (!a->meter)
    return;
  row(w, f->stem, "clipping", (double)a->mr.clip_runs, SG_CMP_LE, 0, 0, "runs", NULL, 1);
  /* A float file can carry NaN or infinity, which a DAW turns into a full-scale burst. */
  row(w, f->stem, "non_finite", (double)(a->mr.nan_count + a->mr.inf_count), SG_CMP_LE, 0, 0,
      "samples", NULL, 1);
  double dc = 0;
  for (unsigned c = 0; c < a->mr.channels && c < SG_METER_MAX_CHANNELS; ++c)
    dc = fmax(dc, fabs(a->mr.dc[c]));
  row(w, f->stem, "dc_offset", dc, SG_CMP_LE, s->limits.dc_offset, 0, "",
      "largest |mean| of a channel", 1);
  double peak_win = loudest(a->meter, 0, a->info.frames, 0);
  row(w, f->stem, "silence", peak_win, SG_CMP_GE, s->limits.silence_dbfs, 0, "dBFS",
      "loudest 50 ms window", 1);
}

/* The key a section asks for: its own, else the song's (theory's parser: modes included). */
static int section_key(const sg_song *s, int i, sg_key *k) {
  const char *want = s->sections[i].key.s[0] ? s->sections[i].key.s : s->key.s;
  return want[0] && sg_key_parse(want, k, NULL) == SG_OK;
}

/* Key rows: one per key region (consecutive sections in one key), judged by the same check the
 * render gates use (sg_key_check_region), then the location of each key change. */
static void check_keys(rows *w, const sg_song *s, const sg_timeline *tl, const analysed *m) {
  for (int i = 0; i < tl->n_sections;) {
    sg_key want, next;
    if (!section_key(s, i, &want)) {
      char msg[160];
      snprintf(msg, sizeof msg, "spec key '%s' is not a key: not checked",
               s->sections[i].key.s[0] ? s->sections[i].key.s : s->key.s);
      row(w, tl->sections[i].name, "key", NAN, SG_CMP_INFO, 0, 0, "", msg, 0);
      ++i;
      continue;
    }
    int j = i + 1;
    while (j < tl->n_sections && section_key(s, j, &next) && next.tonic == want.tonic &&
           next.mode == want.mode)
      ++j;
    char region[160];
    if (j - i == 1)
      snprintf(region, sizeof region, "%s", tl->sections[i].name);
    else
      snprintf(region, sizeof region, "%s..%s", tl->sections[i].name, tl->sections[j - 1].name);
    char exp[48];
    sg_key_name(&want, exp, sizeof exp);
    sg_key_check kc;
    sg_status st =
        sg_key_check_region(m->feat, tl->sections[i].start_sec, tl->sections[j - 1].end_sec,
                            want.tonic, (int)want.mode, &kc);
    if (st == SG_E_RANGE)
      row(w, region, "key", NAN, SG_CMP_INFO, 0, 0, "", "shorter than 6 s: not judged", 0);
    else if (st != SG_OK)
      row_text(w, region, "key", sg_status_name(st), exp, 0, 1);
    else
      row_text(w, region, "key", kc.text, exp, kc.pass, !kc.fifth);
    i = j;
  }
  /* Key changes: where the spec changes key, the key track must change near the boundary. */
  int any = 0;
  double shortest = 1e9;
  for (int i = 0; i < tl->n_sections; ++i)
    shortest = fmin(shortest, tl->sections[i].end_sec - tl->sections[i].start_sec);
  for (int i = 1; i < tl->n_sections; ++i) {
    const char *a = s->sections[i - 1].key.s[0] ? s->sections[i - 1].key.s : s->key.s;
    const char *b = s->sections[i].key.s[0] ? s->sections[i].key.s : s->key.s;
    int at, am, bt, bm;
    if (sg_keyfit_parse(a, &at, &am) == SG_OK && sg_keyfit_parse(b, &bt, &bm) == SG_OK &&
        (at != bt || am != bm))
      any = 1;
  }
  if (!any)
    return;
  sg_key_track_config kc;
  sg_key_track_config_init(&kc);
  kc.profile = SG_KEY_TEMPERLEY; /* as the key rows: closer to pop harmony than Krumhansl's */
  /* Windows short enough to see the shortest section on its own, segments shorter still so a
   * last section is not merged away (the track's windows stop half a window before the end). */
  kc.window_s = fmin(kc.window_s, fmax(2.0, shortest * 0.5));
  kc.hop_s = fmin(kc.hop_s, 0.5);
  kc.min_segment_s = fmin(kc.min_segment_s, fmax(1.0, shortest * 0.35));
  sg_key_track tr;
  memset(&tr, 0, sizeof tr);
  sg_status tst = sg_key_track_compute(m->feat, &kc, &tr);
  unsigned char used_change[64] = {0};
  for (int i = 1; i < tl->n_sections; ++i) {
    const char *a = s->sections[i - 1].key.s[0] ? s->sections[i - 1].key.s : s->key.s;
    const char *b = s->sections[i].key.s[0] ? s->sections[i].key.s : s->key.s;
    int at, am, bt, bm;
    if (sg_keyfit_parse(a, &at, &am) != SG_OK || sg_keyfit_parse(b, &bt, &bm) != SG_OK ||
        (at == bt && am == bm))
      continue;
    double boundary = tl->sections[i].start_sec, best = NAN;
    size_t pick = SIZE_MAX;
    char detail[200];
    snprintf(detail, sizeof detail, "no change from %s or to %s found near %.2f s",
             sg_keyfit_name(at, am), sg_keyfit_name(bt, bm), boundary);
    /* The nearest change not used by an earlier boundary that leaves the earlier section's key
     * or reaches the later one's (a wrong key in between is the "key" row's business; a
     * passing-through key such as a relative minor during the modulation is allowed). */
    if (tst == SG_OK)
      for (size_t c = 0; c < tr.n_changes && c < 64; ++c) {
        const sg_key_change *ch = &tr.change[c];
        if (used_change[c])
          continue;
        int from_ok = ch->from.tonic == at && ch->from.minor == am;
        int to_ok = ch->to.tonic == bt && ch->to.minor == bm;
        double dt = ch->time_s - boundary;
        if ((from_ok || to_ok) && (isnan(best) || fabs(dt) < fabs(best))) {
          best = dt;
          pick = c;
          snprintf(detail, sizeof detail, "%s -> %s at %.2f s (section boundary %.2f s)",
                   sg_keyfit_name(ch->from.tonic, ch->from.minor),
                   sg_keyfit_name(ch->to.tonic, ch->to.minor), ch->time_s, boundary);
        }
      }
    if (pick != SIZE_MAX && fabs(best) <= s->limits.key_window_sec)
      used_change[pick] = 1;
    row(w, tl->sections[i].name, "key_change", best, SG_CMP_ABS_LE, s->limits.key_window_sec, 0,
        "s", detail, 1);
  }
  sg_key_track_free(&tr);
}

static void check_tempo(rows *w, const sg_song *s, const analysed *m) {
  double want = (double)s->tempo.num / (double)s->tempo.den;
  double tol = s->drums.tempo_tolerance_bpm > 0 ? s->drums.tempo_tolerance_bpm : 1.0;
  sg_tempo_check t;
  if (sg_tempo_check_against(m->feat, want, &t) != SG_OK) {
    row(w, "Master", "tempo", NAN, SG_CMP_WITHIN, tol, want, "BPM",
        "no periodic onsets to estimate a tempo from", 1);
    return;
  }
  char detail[160];
  snprintf(detail, sizeof detail, "estimate %.2f BPM, confidence %.2f%s%s%s", t.est.bpm,
           t.est.confidence, t.level != 1.0 ? ", heard at " : "", t.level_name,
           s->tempo_auto ? "; spec tempo auto: the reference's measured tempo" : "");
  row(w, "Master", "tempo", t.folded_bpm, SG_CMP_WITHIN, tol, want, "BPM", detail, 1);
}

static void check_reference(rows *w, const sg_song *s, const sg_verify_options *o, const char *ref,
                            const analysed *m, sg_status *fatal) {
  float *r = NULL;
  size_t nr = 0;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = read_reference(ref, m->info.rate, o->max_seconds, &r, &nr, &d);
  if (st != SG_OK) {
    char msg[SG_DIAG_TEXT + 64];
    snprintf(msg, sizeof msg, "cannot read the reference: %s", d.message);
    row(w, "reference", "reference", NAN, SG_CMP_EQ, 1, 0, "", msg, 1);
    if (*fatal == SG_OK)
      *fatal = st == SG_E_NOMEM ? st : SG_E_IO;
    return;
  }
  sg_align_config ac;
  sg_align_config_init(&ac);
  double dur = (double)m->n_mono / m->info.rate;
  /* Start and end windows must not overlap, or the drift has no baseline. */
  ac.window_s = fmin(ac.window_s, fmax(2.0, dur / 4.0));
  /* Master and reference share the spec's grid: search less than half a beat either way.
   * Onset envelopes of a steady groove correlate almost as well one beat off as on time, so a
   * wider search can lock to the wrong beat; an offset of whole beats is therefore outside what
   * this check can see (drum_similarity and the section checks still look at the content). */
  if (s->tempo.num > 0 && s->tempo.den > 0)
    ac.max_lag_s = fmin(ac.max_lag_s, 0.45 * 60.0 * (double)s->tempo.den / (double)s->tempo.num);
  sg_align_result al;
  sg_diag_clear(&d);
  st = sg_align_signals(r, nr, m->mono, m->n_mono, m->info.rate, &ac, &al, &d);
  free(r);
  double lim = s->limits.sync_ms;
  if (st != SG_OK) {
    char msg[SG_DIAG_TEXT + 64];
    snprintf(msg, sizeof msg, "no alignment: %s", d.message[0] ? d.message : sg_status_name(st));
    row(w, "Master", "sync_offset", NAN, SG_CMP_ABS_LE, lim, 0, "ms", msg, 1);
    row(w, "Master", "sync_drift", NAN, SG_CMP_ABS_LE, lim, 0, "ms", msg, 1);
    row(w, "Master", "drum_similarity", NAN, SG_CMP_GE, o->drum_similarity_min, 0, "", msg, 1);
    return;
  }
  /* When the master does not hold the reference's drums, an offset is not meaningful: the
   * sync rows are then advisory so the one real failure (drum_similarity) stands alone. */
  int same = al.similarity >= o->drum_similarity_min;
  const char *why = same ? "" : "; not meaningful: the master does not match the reference";
  char detail[300];
  snprintf(detail, sizeof detail, "at %.1f s; master later when > 0%s", al.start_time_s, why);
  row(w, "Master", "sync_offset", al.offset_s * 1000.0, SG_CMP_ABS_LE, lim, 0, "ms", detail, same);
  if (al.has_end)
    snprintf(detail, sizeof detail, "%.1f s -> %.1f s, ratio %.5f%%%s", al.start_time_s,
             al.end_time_s, al.drift_ratio * 100.0, why);
  else
    snprintf(detail, sizeof detail, "too short for a separate end window%s", why);
  row(w, "Master", "sync_drift", al.drift_s * 1000.0, SG_CMP_ABS_LE, lim, 0, "ms", detail, same);
  snprintf(detail, sizeof detail, "onset-envelope correlation with the reference");
  row(w, "Master", "drum_similarity", al.similarity, SG_CMP_GE, o->drum_similarity_min, 0, "",
      detail, 1);
}

static void check_master(rows *w, const sg_song *s, const sg_timeline *tl,
                         const sg_verify_options *o, const char *ref, analysed *m,
                         sg_status *fatal) {
  double song_s = (double)tl->total_frames / tl->rate;
  double dur = (double)m->info.frames / m->info.rate;
  row(w, "Master", "duration", dur, SG_CMP_WITHIN, o->duration_tolerance_s, song_s, "s",
      "song length from the timeline", 1);
  if (m->meter) {
    row(w, "Master", "loudness", m->mr.integrated_lufs, SG_CMP_WITHIN, s->master.loudness_tolerance,
        s->master.loudness_lufs, "LUFS", NULL, 1);
    row(w, "Master", "true_peak", m->mr.true_peak_dbtp, SG_CMP_LE, s->master.true_peak_dbtp, 0,
        "dBTP", NULL, 1);
    for (int i = 0; i < tl->n_sections; ++i) {
      const sg_section_time *sec = &tl->sections[i];
      double r = (double)m->info.rate / tl->rate;
      double lv =
          loudest(m->meter, (int64_t)(sec->start_frame * r), (int64_t)(sec->end_frame * r), 0);
      row(w, sec->name, "section_presence", lv, SG_CMP_GE, s->limits.silence_dbfs, 0, "dBFS",
          "loudest 50 ms window of the master in the section", 1);
    }
  }
  check_tempo(w, s, m);
  check_keys(w, s, tl, m);
  if (ref)
    check_reference(w, s, o, ref, m, fatal);
}

/* Stem rows that need the master or the timeline. */
static void check_stem(rows *w, const sg_song *s, const sg_timeline *tl, const sg_verify_options *o,
                       const sg_verify_file *f, const analysed *a, const analysed *m) {
  double dur = (double)a->info.frames / a->info.rate;
  if (m && m->ok) {
    double md = (double)m->info.frames / m->info.rate;
    row(w, f->stem, "length", (dur - md) * 1000.0, SG_CMP_ABS_LE, s->limits.length_tolerance_ms, 0,
        "ms", "stem minus master", 1);
  }
  const sg_stem_spec *ss = stem_spec(s, f->stem);
  if (!ss || ss->n_sections == 0 || !a->meter)
    return;
  double r = (double)a->info.rate / tl->rate;
  double tail = o->tail_allowance_s * a->info.rate;
  double quiet_in = 1e9, loud_out = SG_SILENCE_DB;
  char quiet_name[SG_MAX_NAME] = "", loud_at[96] = "";
  for (int i = 0; i < tl->n_sections; ++i) {
    const sg_section_time *sec = &tl->sections[i];
    int64_t a0 = (int64_t)(sec->start_frame * r), a1 = (int64_t)(sec->end_frame * r);
    if (sg_stem_plays_in(s, ss, i)) {
      double lv = loudest(a->meter, a0, a1, 0);
      if (lv < quiet_in) {
        quiet_in = lv;
        snprintf(quiet_name, sizeof quiet_name, "%s", sec->name);
      }
    } else {
      /* Outside: skip the tail after a section the stem played in just before. */
      if (i > 0 && sg_stem_plays_in(s, ss, i - 1))
        a0 += (int64_t)tail;
      /* ... and a short lead-in before one it plays in next (pickups, early attacks). */
      if (i + 1 < tl->n_sections && sg_stem_plays_in(s, ss, i + 1))
        a1 -= (int64_t)(SG_VERIFY_LEAD_IN_S * a->info.rate);
      double lv = loudest(a->meter, a0, a1, 1);
      if (lv > loud_out) {
        loud_out = lv;
        snprintf(loud_at, sizeof loud_at, "loudest outside: section %s", sec->name);
      }
    }
  }
  /* After the song end (a long file): also outside, after the tail of the last section. */
  int64_t end = (int64_t)(tl->total_frames * r);
  if (a->info.frames > end) {
    int64_t a0 = end + (sg_stem_plays_in(s, ss, tl->n_sections - 1) ? (int64_t)tail : 0);
    double lv = loudest(a->meter, a0, a->info.frames, 1);
    if (lv > loud_out) {
      loud_out = lv;
      snprintf(loud_at, sizeof loud_at, "loudest outside: after the song end");
    }
  }
  char detail[160];
  snprintf(detail, sizeof detail, "quietest listed section: %s", quiet_name);
  row(w, f->stem, "active_in_sections", quiet_in, SG_CMP_GE, s->limits.silence_dbfs, 0, "dBFS",
      detail, 1);
  snprintf(detail, sizeof detail, "%s (tails of %.1f s allowed)",
           loud_at[0] ? loud_at : "nothing outside", o->tail_allowance_s);
  row(w, f->stem, "silent_outside_sections", loud_out, SG_CMP_LE, s->limits.silence_dbfs, 0, "dBFS",
      detail, 1);
}

static sg_status verify_song(const sg_song *song, const sg_verify_options *opt, const char *ref,
                             sg_verify_result *res, sg_diag *d) {
  sg_timeline tl;
  sg_status st = sg_timeline_build(song, &tl, d);
  if (st != SG_OK)
    return st;
  rows w;
  memset(&w, 0, sizeof w);
  w.rep = &res->report;

  sg__vpkg p;
  sg_diag pd;
  sg_diag_clear(&pd);
  st = sg__vpkg_open(&p, opt->package, &pd);
  if (st != SG_OK) {
    char msg[SG_DIAG_TEXT + 32];
    size_t n = p.n_packages;
    snprintf(msg, sizeof msg, "%s%s", n ? "" : "unreadable: ", pd.message);
    row(&w, "package", "package", (double)n, SG_CMP_EQ, 1, 0, "packages", msg, 1);
    sg__vpkg_close(&p);
    if (d) {
      *d = pd;
      sg_diag_where(d, SG_VERIFY_STEP, "package", "package");
    }
    if (n) /* several packages: the check failed, nothing was unreadable */
      return SG_E_GATE;
    return st == SG_E_NOMEM || st == SG_E_LIMIT || st == SG_E_FORMAT ? st : SG_E_IO;
  }
  res->package_readable = 1;
  {
    char msg[300];
    snprintf(msg, sizeof msg, "%s, %zu entries", p.note, p.n);
    row(&w, "package", "package", 1, SG_CMP_EQ, 1, 0, "packages", msg, 1);
  }

  size_t idx[SG_VERIFY_MAX_FILES];
  match_files(song, &p, res, idx);
  for (int f = 0; f < res->n_files; ++f) {
    char detail[400];
    if (idx[f] == SIZE_MAX)
      snprintf(detail, sizeof detail, "no file by the naming template or a common name");
    else
      snprintf(detail, sizeof detail, "%s (found by %s)", res->files[f].entry,
               sg_verify_match_name(res->files[f].match));
    row(&w, res->files[f].stem, "present", idx[f] != SIZE_MAX, SG_CMP_EQ, 1, 0, "", detail, 1);
  }

  /* A stemgate package carries its own proof: every entry's SHA-256 and header in
   * manifest.json. Check it when present (rows of step "package"); other packages have none. */
  if (p.is_zip && sg_zip_reader_find(p.zip, SG_MANIFEST_NAME)) {
    sg_diag md;
    sg_diag_clear(&md);
    sg_status mst = sg_package_verify(p.path, NULL, &res->report, &md);
    if (mst == SG_E_GATE && !w.have_first) {
      w.first = md;
      w.have_first = 1;
    }
  } else {
    row(&w, "package", "manifest", NAN, SG_CMP_INFO, 0, 0, "",
        "no manifest.json: integrity (SHA-256 per entry) not checked", 0);
  }

  /* The master first (stems compare to it); each file is analysed once and freed right after
   * its rows, so memory holds one stem's activity map at a time plus the master. */
  analysed master;
  memset(&master, 0, sizeof master);
  sg_status fatal = SG_OK;
  for (int f = 0; f < res->n_files; ++f) {
    if (idx[f] == SIZE_MAX)
      continue;
    sg_verify_file *vf = &res->files[f];
    analysed local, *a = vf->is_master ? &master : &local;
    analyse(&p, idx[f], vf->is_master, vf->is_master && ref, opt->max_seconds, a);
    vf->readable = a->ok;
    vf->rate = a->info.rate;
    vf->channels = a->info.channels;
    vf->bits = a->info.bits;
    vf->is_float = a->info.is_float;
    vf->frames = a->info.frames;
    char msg[SG_DIAG_TEXT + 32];
    snprintf(msg, sizeof msg, "%s", a->ok ? "decoded completely" : a->why);
    row(&w, vf->stem, "readable", a->ok, SG_CMP_EQ, 1, 0, "", msg, 1);
    if (!a->ok) {
      res->file_unreadable = 1;
      if (fatal == SG_OK)
        fatal = a->err == SG_E_NOMEM || a->err == SG_E_LIMIT ? a->err : SG_E_FORMAT;
      if (!vf->is_master)
        analysed_free(a);
      continue;
    }
    check_file_basics(&w, song, vf, a);
    if (vf->is_master) {
      res->seconds = (double)a->info.frames / a->info.rate;
      check_master(&w, song, &tl, opt, ref, a, &fatal);
      free(a->mono); /* the alignment copy is the biggest buffer: not needed any more */
      a->mono = NULL;
    } else {
      check_stem(&w, song, &tl, opt, vf, a, master.ok ? &master : NULL);
      analysed_free(a);
    }
  }
  analysed_free(&master);
  sg__vpkg_close(&p);

  if (w.err != SG_OK)
    return sg_diag_fail(d, w.err, "verify: out of memory recording results");
  if (fatal != SG_OK) {
    if (d && w.have_first)
      *d = w.first;
    if (d)
      d->status = fatal;
    return fatal;
  }
  if (res->report.failed) {
    if (d && w.have_first)
      *d = w.first;
    return SG_E_GATE;
  }
  return SG_OK;
}

/* tempo: auto means "the reference's tempo": measure it (Ellis 2007 via sg_tempo_estimate, the
 * same estimate the render's reference step uses) and verify against a copy of the song with
 * that tempo, to 0.01 BPM. */
static sg_status resolve_auto_tempo(const sg_song *song, const char *ref, sg_song **copy,
                                    sg_diag *d) {
  *copy = NULL;
  if (!ref)
    return sg_diag_fail(d, SG_E_SPEC,
                        "%s: tempo is 'auto' but there is no drum reference to take it from; "
                        "give --reference FILE",
                        song->path);
  sg_features_config fc;
  sg_features_config_init(&fc);
  fc.flags = SG_FEAT_ONSET | SG_FEAT_ENERGY;
  sg_features *f = NULL;
  sg_status st = sg_features_from_file(&f, ref, &fc, d);
  if (st != SG_OK)
    return st == SG_E_NOMEM ? st : SG_E_IO;
  sg_tempo_result t;
  st = sg_tempo_estimate(f, NULL, NULL, &t);
  sg_features_free(f);
  if (st != SG_OK || !(t.bpm > 0))
    return sg_diag_fail(d, SG_E_NOTFOUND,
                        "tempo is 'auto' but no tempo could be measured in the reference '%s'",
                        ref);
  sg_song *c = malloc(sizeof *c);
  if (!c)
    return sg_diag_fail(d, SG_E_NOMEM, "verify: out of memory");
  memcpy(c, song, sizeof *c);
  c->tempo.num = llround(t.bpm * 100.0);
  c->tempo.den = 100;
  *copy = c;
  return SG_OK;
}

sg_status sg_verify_package(const sg_song *song, const sg_verify_options *opt,
                            sg_verify_result *res, sg_diag *d) {
  if (!song || !opt || !res)
    return sg_diag_fail(d, SG_E_INVAL, "verify: NULL argument");
  sg_verify_result_init(res);
  snprintf(res->package, sizeof res->package, "%s", opt->package ? opt->package : "");
  char ref[SG_MAX_PATH] = "";
  if (opt->reference && opt->reference[0])
    snprintf(ref, sizeof ref, "%s", opt->reference);
  else if (song->drums.source == SG_DRUMS_REFERENCE && song->drums.reference[0])
    sg_song_resolve_path(song, song->drums.reference, ref, sizeof ref);
  sg_song *copy = NULL;
  if (song->tempo_auto) {
    sg_status st = resolve_auto_tempo(song, ref[0] ? ref : NULL, &copy, d);
    if (st != SG_OK)
      return st;
  }
  sg_status st = verify_song(copy ? copy : song, opt, ref[0] ? ref : NULL, res, d);
  free(copy);
  return st;
}
