/* The checks render and verify share (include/stemgate/gate.h): pure functions from
 * measurements (a file's header, its sg_meter, the master's sg_features) to rows of the check
 * table. Render calls them on what its writers' taps measured on the way to disk, verify on
 * what it reads back from a package, so one file gets one set of numbers and verdicts. */
#include "stemgate/gate.h"
#include "stemgate/theory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sound allowed just before a section a stem plays in (pickup notes, early attacks), s. */
#define LEAD_IN_S 0.1

/* Collects the status of a group of rows: the first required failure wins d. */
typedef struct group {
  sg_status st;
  sg_diag *d;
} group;

static void take(group *g, sg_status st, const sg_diag *one) {
  if (st == SG_OK || g->st == SG_E_NOMEM)
    return;
  if (st == SG_E_GATE && g->st == SG_OK && g->d && one)
    *g->d = *one;
  if (st == SG_E_NOMEM || g->st == SG_OK)
    g->st = st;
}

static void row(group *g, sg_gate_report *r, sg_check_id id, const char *step, const char *stem,
                double m, double limit, double target, const char *detail, sg_severity sev) {
  sg_diag one;
  sg_diag_clear(&one);
  take(g, sg_gate_row(r, id, step, stem, m, limit, target, detail, sev, &one), &one);
}

static void row_text(group *g, sg_gate_report *r, sg_check_id id, const char *step,
                     const char *stem, const char *m, const char *want, int pass, sg_severity sev) {
  sg_diag one;
  sg_diag_clear(&one);
  take(g, sg_gate_row_text(r, id, step, stem, m, want, pass, sev, &one), &one);
}

/* Loudest 50 ms activity window of m over frames [f0, f1), dB (SG_SILENCE_DB when none).
 * whole = 0: every window that overlaps the range; 1: only windows entirely inside it. */
static double meter_loudest(const sg_meter *m, int64_t f0, int64_t f1, int whole) {
  size_t wf = m ? sg_meter_window_frames(m) : 0, nw = m ? sg_meter_window_count(m) : 0;
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

sg_status sg_check_file_format(sg_gate_report *r, const char *step, const char *stem,
                               const sg_song *s, const sg_audio_info *info, sg_diag *d) {
  group g = {SG_OK, d};
  char m[64], want[128];
  /* A delivery block lists what a client accepts; without one, the spec's own value. One row
   * per property either way, so the render and verify rows stay the same rows. */
  if (!s->delivery.n_rates) {
    row(&g, r, SG_CHECK_SAMPLE_RATE, step, stem, info->rate, s->sample_rate, 0, NULL, SG_SEV_FAIL);
  } else {
    sg_delivery_rates_text(s, want, sizeof want);
    snprintf(m, sizeof m, "%u Hz", info->rate);
    row_text(&g, r, SG_CHECK_SAMPLE_RATE, step, stem, m, want, sg_delivery_rate_ok(s, info->rate),
             SG_SEV_FAIL);
  }
  snprintf(m, sizeof m, "%s (%d-bit%s)", sg_sample_format_name(info->format), info->bits,
           info->is_float ? " float" : "");
  sg_delivery_formats_text(s, want, sizeof want);
  row_text(&g, r, SG_CHECK_FORMAT, step, stem, m, want, sg_delivery_format_ok(s, info->format),
           SG_SEV_FAIL);
  if (!s->delivery.n_channels) {
    row(&g, r, SG_CHECK_CHANNELS, step, stem, info->channels, s->channels, 0, NULL, SG_SEV_FAIL);
  } else {
    sg_delivery_channels_text(s, want, sizeof want);
    snprintf(m, sizeof m, "%u ch", info->channels);
    row_text(&g, r, SG_CHECK_CHANNELS, step, stem, m, want,
             sg_delivery_channels_ok(s, info->channels), SG_SEV_FAIL);
  }
  return g.st;
}

sg_status sg_check_file_content(sg_gate_report *r, const char *step, const char *stem,
                                const sg_song *s, const sg_meter *m, int intermediate, sg_diag *d) {
  group g = {SG_OK, d};
  sg_meter_result mr;
  sg_meter_result_get(m, &mr);
  row(&g, r, SG_CHECK_NON_FINITE, step, stem, (double)(mr.nan_count + mr.inf_count),
      SG_LIMIT_DEFAULT, 0, NULL, SG_SEV_FAIL);
  row(&g, r, SG_CHECK_SAMPLE_PEAK, step, stem, mr.sample_peak_dbfs, SG_LIMIT_DEFAULT, 0, NULL,
      SG_SEV_FAIL);
  if (!intermediate) {
    row(&g, r, SG_CHECK_CLIPPING, step, stem, (double)mr.clip_runs, SG_LIMIT_DEFAULT, 0, NULL,
        SG_SEV_FAIL);
    /* Where the file plays, 1-s windows (analysis.h): silence around a part would dilute its
     * offset. */
    double whole = 0;
    for (unsigned c = 0; c < mr.channels && c < SG_METER_MAX_CHANNELS; ++c)
      whole = fmax(whole, fabs(mr.dc[c]));
    char detail[160];
    if (mr.dc_window_frame >= 0)
      snprintf(detail, sizeof detail,
               "held over the 1 s windows from %.1f s and %.1f s, channel %u (whole-file |mean| "
               "%.2g)",
               (double)mr.dc_window_frame / mr.rate,
               (double)mr.dc_window_frame / mr.rate + 0.5 * SG_METER_DC_WINDOW_S,
               mr.dc_window_channel + 1, whole);
    else
      snprintf(detail, sizeof detail, "no window plays above %.0f dBFS", SG_METER_DC_FLOOR_DB);
    row(&g, r, SG_CHECK_DC_OFFSET, step, stem, mr.dc_window, s->limits.dc_offset, 0, detail,
        SG_SEV_FAIL);
    row(&g, r, SG_CHECK_DENORMALS, step, stem, (double)mr.denormal_count, SG_LIMIT_DEFAULT, 0, NULL,
        SG_SEV_FAIL);
  }
  row(&g, r, SG_CHECK_SILENCE, step, stem, meter_loudest(m, 0, mr.frames, 0),
      s->limits.silence_dbfs, 0, NULL, SG_SEV_FAIL);
  if (!intermediate && s->ending == SG_ENDING_RING && mr.rate) {
    /* The ring-out ended before the file did: its last 0.3 s are under -60 dBFS. */
    int64_t a = mr.frames - (int64_t)(0.3 * mr.rate);
    row(&g, r, SG_CHECK_ENDING_DECAY, step, stem, meter_loudest(m, a > 0 ? a : 0, mr.frames, 0),
        SG_LIMIT_DEFAULT, 0, "last 0.3 s", SG_SEV_WARN);
  }
  return g.st;
}

sg_status sg_check_stem_activity(sg_gate_report *r, const char *step, const char *stem,
                                 const sg_song *s, const sg_timeline *tl, const sg_stem_spec *sp,
                                 const sg_meter *m, unsigned rate, int64_t frames, sg_diag *d) {
  group g = {SG_OK, d};
  if (!sp || sp->n_sections == 0 || !m || !rate)
    return SG_OK;
  const double k = (double)rate / tl->rate;
  const int64_t tail = (int64_t)(s->limits.tail_s * rate);
  double quiet_in = 1e9, loud_out = SG_SILENCE_DB;
  char quiet_name[SG_MAX_NAME] = "", loud_at[96] = "";
  for (int i = 0; i < tl->n_sections; ++i) {
    const sg_section_time *sec = &tl->sections[i];
    int64_t a0 = (int64_t)(sec->start_frame * k), a1 = (int64_t)(sec->end_frame * k);
    if (sg_stem_plays_in(s, sp, i)) {
      double lv = meter_loudest(m, a0, a1, 0);
      if (lv < quiet_in) {
        quiet_in = lv;
        snprintf(quiet_name, sizeof quiet_name, "%s", sec->name);
      }
      continue;
    }
    /* Outside: skip the tail after a section the stem played in just before, and a short
     * lead-in before one it plays in next (pickups, early attacks). */
    if (i > 0 && sg_stem_plays_in(s, sp, i - 1))
      a0 += tail;
    if (i + 1 < tl->n_sections && sg_stem_plays_in(s, sp, i + 1))
      a1 -= (int64_t)(LEAD_IN_S * rate);
    double lv = meter_loudest(m, a0, a1, 1);
    if (lv > loud_out) {
      loud_out = lv;
      snprintf(loud_at, sizeof loud_at, "loudest outside: section %s", sec->name);
    }
  }
  /* After the song end (a long file): also outside, after the last section's tail; with ending:
   * ring a stem of the last section rings there (the final hit) until the file ends. */
  int64_t end = (int64_t)(tl->total_frames * k);
  if (frames > end) {
    int last_plays = sg_stem_plays_in(s, sp, tl->n_sections - 1);
    int64_t a0 = end + (last_plays ? tail : 0);
    if (last_plays && tl->ending == SG_ENDING_RING)
      a0 = frames;
    double lv = meter_loudest(m, a0, frames, 1);
    if (lv > loud_out) {
      loud_out = lv;
      snprintf(loud_at, sizeof loud_at, "loudest outside: after the song end");
    }
  }
  char detail[160];
  snprintf(detail, sizeof detail, "quietest listed section: %s", quiet_name);
  row(&g, r, SG_CHECK_ACTIVE_IN_SECTIONS, step, stem, quiet_in, s->limits.silence_dbfs, 0, detail,
      SG_SEV_FAIL);
  snprintf(detail, sizeof detail, "%s (tails of %.1f s allowed)",
           loud_at[0] ? loud_at : "nothing outside", s->limits.tail_s);
  row(&g, r, SG_CHECK_SILENT_OUTSIDE_SECTIONS, step, stem, loud_out, s->limits.silence_dbfs, 0,
      detail, SG_SEV_FAIL);
  return g.st;
}

sg_status sg_check_master_level(sg_gate_report *r, const char *step, const sg_song *s,
                                const sg_timeline *tl, const sg_meter *m, unsigned rate,
                                sg_diag *d) {
  group g = {SG_OK, d};
  sg_meter_result mr;
  sg_meter_result_get(m, &mr);
  const sg_delivery_spec *dl = &s->delivery;
  char detail[128];
  if (dl->has_loudness) { /* a range [lo, hi] is a target at its middle, half its width either way
                           */
    snprintf(detail, sizeof detail, "delivery range %g..%g LUFS", dl->loudness_lufs[0],
             dl->loudness_lufs[1]);
    row(&g, r, SG_CHECK_LOUDNESS, step, "Master", mr.integrated_lufs,
        0.5 * (dl->loudness_lufs[1] - dl->loudness_lufs[0]),
        0.5 * (dl->loudness_lufs[0] + dl->loudness_lufs[1]), detail, SG_SEV_FAIL);
  } else {
    row(&g, r, SG_CHECK_LOUDNESS, step, "Master", mr.integrated_lufs, s->master.loudness_tolerance,
        s->master.loudness_lufs, NULL, SG_SEV_FAIL);
  }
  row(&g, r, SG_CHECK_TRUE_PEAK, step, "Master", mr.true_peak_dbtp,
      dl->has_true_peak ? dl->true_peak_dbtp : s->master.true_peak_dbtp, 0,
      dl->has_true_peak ? "delivery ceiling" : NULL, SG_SEV_FAIL);
  const double k = (double)rate / tl->rate;
  for (int i = 0; i < tl->n_sections; ++i) {
    const sg_section_time *sec = &tl->sections[i];
    double lv = meter_loudest(m, (int64_t)(sec->start_frame * k), (int64_t)(sec->end_frame * k), 0);
    row(&g, r, SG_CHECK_SECTION_PRESENCE, step, sec->name, lv, s->limits.silence_dbfs, 0,
        "loudest 50 ms window of the master in the section", SG_SEV_FAIL);
  }
  return g.st;
}

/* Stretches shorter than this are not judged: an autocorrelation needs a few bars of beats. */
#define TEMPO_STRETCH_MIN_S 6.0

/* One tempo row: f over [t0, t1) seconds (t1 <= t0: the whole stream) against bpm. */
static void tempo_row(group *g, sg_gate_report *r, const char *step, const sg_song *s,
                      const sg_features *f, double t0, double t1, double bpm, const char *item,
                      const char *where) {
  double tol = s->drums.tempo_tolerance_bpm > 0 ? s->drums.tempo_tolerance_bpm : 1.0;
  sg_tempo_check t;
  sg_status st =
      t1 > t0 ? sg_tempo_check_range(f, t0, t1, bpm, &t) : sg_tempo_check_against(f, bpm, &t);
  if (st != SG_OK) {
    /* Without drums a song may have no rhythm to measure (a pad and a held bass): that is not a
     * wrong tempo, so it is not judged. With drums, a master without periodic onsets fails. */
    int drums = s->drums.source != SG_DRUMS_NONE;
    char detail[200];
    snprintf(detail, sizeof detail, "%s%s",
             drums ? "no periodic onsets to estimate a tempo from"
                   : "not judged: no periodic onsets, and the song has no drums",
             where);
    row(g, r, SG_CHECK_TEMPO, step, item, NAN, tol, bpm, detail, drums ? SG_SEV_FAIL : SG_SEV_INFO);
    return;
  }
  char detail[240];
  snprintf(detail, sizeof detail, "estimate %.2f BPM, confidence %.2f%s%s%s%s", t.est.bpm,
           t.est.confidence, t.level != 1.0 ? ", heard at " : "",
           t.level != 1.0 ? t.level_name : "",
           s->tempo_auto ? "; spec tempo auto: the reference's measured tempo" : "", where);
  row(g, r, SG_CHECK_TEMPO, step, item, t.folded_bpm, tol, bpm, detail, SG_SEV_FAIL);
}

sg_status sg_check_master_tempo(sg_gate_report *r, const char *step, const sg_song *s,
                                const sg_features *f, double bpm, const sg_timeline *tl,
                                sg_diag *d) {
  group g = {SG_OK, d};
  if (!tl || !tl->tempo_varies || (tl->quarter_frames && tl->n_quarter_frames >= 2) || !tl->rate) {
    tempo_row(&g, r, step, s, f, 0, 0, bpm, "Master", "");
    return g.st;
  }
  /* A tempo map: each steady stretch against its own tempo; a ramp has no one tempo to hear. */
  for (int k = 0; k < tl->n_tempo; ++k) {
    const sg_tempo_segment *sg = &tl->tempo[k];
    int64_t end = k + 1 < tl->n_tempo ? tl->tempo[k + 1].start_bar : tl->total_bars;
    if (sg->ramp_bars || end <= sg->start_bar)
      continue;
    double t0 = (double)sg_timeline_bar_frame(tl, sg->start_bar) / tl->rate;
    double t1 = (double)sg_timeline_bar_frame(tl, end) / tl->rate;
    double want = (double)sg->tempo_num / (double)sg->tempo_den;
    char item[SG_MAX_NAME + 48], where[96];
    snprintf(item, sizeof item, "Master bars %lld-%lld", (long long)sg->start_bar + 1,
             (long long)end);
    snprintf(where, sizeof where, "; bars %lld-%lld from section '%s', %.1f-%.1f s",
             (long long)sg->start_bar + 1, (long long)end, tl->sections[sg->section].name, t0, t1);
    if (t1 - t0 < TEMPO_STRETCH_MIN_S) {
      double tol = s->drums.tempo_tolerance_bpm > 0 ? s->drums.tempo_tolerance_bpm : 1.0;
      char detail[200];
      snprintf(detail, sizeof detail, "not judged: %.1f s of steady tempo, under %.0f s%s", t1 - t0,
               TEMPO_STRETCH_MIN_S, where);
      row(&g, r, SG_CHECK_TEMPO, step, item, NAN, tol, want, detail, SG_SEV_INFO);
      continue;
    }
    tempo_row(&g, r, step, s, f, t0, t1, want, item, where);
  }
  return g.st;
}

/* The key a section asks for: its own, else the song's (theory's parser: modes included). */
static int section_key(const sg_song *s, int i, sg_key *k) {
  const char *want = s->sections[i].key.s[0] ? s->sections[i].key.s : s->key.s;
  return want[0] && sg_key_parse(want, k, NULL) == SG_OK;
}

/* A key change inside a region that the spec keeps in one key: windows of KEY_WIN_BARS bars,
 * KEY_WIN_BARS / 2 apart, judged alone against the expected key; when one contradicts a scale
 * degree (its pitch-class set left the key; a tonic alone is too weak over 8 bars), the change is
 * the bar that best splits the region into a part inside the key and a part outside (the
 * largest rise of the per-bar chroma share outside the scale), and kc fails naming its time.
 * A region whose first window already fails is wrong from the start: kc says so as it is. */
#define KEY_WIN_BARS 8
static sg_status key_left(const sg_features *f, const double *bar_s, int nbars, const sg_key *want,
                          sg_key_check *kc) {
  if (nbars < KEY_WIN_BARS + KEY_WIN_BARS / 2)
    return SG_OK;
  sg_key_check sub;
  sg_key_grid g0 = {bar_s, KEY_WIN_BARS, NULL, 0};
  if (sg_key_check_grid(f, &g0, want, &sub) != SG_OK || sub.verdict == 0)
    return SG_OK;
  int hit = -1;
  for (int w0 = KEY_WIN_BARS / 2; hit < 0 && w0 + KEY_WIN_BARS <= nbars; w0 += KEY_WIN_BARS / 2) {
    if (w0 + KEY_WIN_BARS + KEY_WIN_BARS / 2 > nbars)
      w0 = nbars - KEY_WIN_BARS; /* the last window ends with the region */
    sg_key_grid g = {bar_s + w0, KEY_WIN_BARS, NULL, 0};
    if (sg_key_check_grid(f, &g, want, &sub) == SG_OK && sub.verdict == 0 && sub.n_degrees > 0)
      hit = w0;
    if (w0 == nbars - KEY_WIN_BARS)
      break;
  }
  if (hit < 0)
    return SG_OK;
  double *out = malloc((size_t)nbars * sizeof *out);
  if (!out)
    return SG_E_NOMEM;
  for (int k = 0; k < nbars; ++k) {
    sg_key_evidence ev;
    sg_key_grid g = {bar_s + k, 1, NULL, 0};
    out[k] = 0;
    if (sg_key_evidence_measure(f, &g, &ev) == SG_OK)
      for (int p = 0; p < 12; ++p)
        out[k] += sg_key_contains(want, p) ? 0 : ev.pc[p];
  }
  int best = hit > 0 ? hit : 1;
  double bd = -1;
  for (int b = 1; b < nbars; ++b) {
    double lo = 0, hi = 0;
    for (int k = 0; k < b; ++k)
      lo += out[k] / b;
    for (int k = b; k < nbars; ++k)
      hi += out[k] / (nbars - b);
    if (hi - lo > bd) {
      bd = hi - lo;
      best = b;
    }
  }
  free(out);
  char name[48], text[sizeof kc->text];
  sg_key_name(want, name, sizeof name);
  sg_key_grid g = {bar_s + best, nbars - best, NULL, 0};
  if (bar_s[nbars] - bar_s[best] < 6.0 || sg_key_check_grid(f, &g, want, &sub) != SG_OK)
    sub = *kc;
  snprintf(text, sizeof text, "leaves %s at %.2f s (bar %d of the region), then %s", name,
           bar_s[best], best + 1, sub.text);
  memcpy(kc->text, text, sizeof text);
  kc->verdict = 0;
  return SG_OK;
}

sg_status sg_check_master_keys(sg_gate_report *r, const char *step, const sg_song *s,
                               const sg_timeline *tl, const sg_features *f, sg_diag *d) {
  group g = {SG_OK, d};
  if (s->n_stems == 0) { /* drums alone: the chroma of noise has no key to judge */
    row_text(&g, r, SG_CHECK_KEY, step, "song", "not judged: the song has no pitched stem", "a key",
             1, SG_SEV_INFO);
    return g.st;
  }
  for (int i = 0; i < tl->n_sections;) {
    sg_key want, next;
    if (!section_key(s, i, &want)) {
      char msg[160];
      snprintf(msg, sizeof msg, "spec key '%s' is not a key: not checked",
               s->sections[i].key.s[0] ? s->sections[i].key.s : s->key.s);
      row_text(&g, r, SG_CHECK_KEY, step, tl->sections[i].name, msg, "a key", 1, SG_SEV_INFO);
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
    /* The region's bars and its phrases (each section one), for the tonic evidence. */
    int64_t b0 = tl->sections[i].start_bar,
            nbars = tl->sections[j - 1].start_bar + tl->sections[j - 1].bars - b0;
    double *bar_s = malloc((size_t)(nbars + 1) * sizeof *bar_s);
    int *phrase = malloc((size_t)(j - i) * sizeof *phrase);
    if (!bar_s || !phrase) {
      free(bar_s);
      free(phrase);
      take(&g, SG_E_NOMEM, NULL);
      return g.st;
    }
    for (int64_t k = 0; k <= nbars; ++k)
      bar_s[k] = (double)sg_timeline_bar_frame(tl, b0 + k) / tl->rate;
    for (int k = i; k < j; ++k)
      phrase[k - i] = (int)(tl->sections[k].start_bar - b0);
    sg_key_grid grid = {bar_s, (int)nbars, phrase, j - i};
    sg_key_check kc;
    sg_status st = sg_key_check_grid(f, &grid, &want, &kc);
    if (st == SG_OK && key_left(f, bar_s, (int)nbars, &want, &kc) == SG_E_NOMEM)
      st = SG_E_NOMEM;
    free(bar_s);
    free(phrase);
    if (st == SG_E_RANGE)
      row_text(&g, r, SG_CHECK_KEY, step, region, "shorter than 6 s: not judged", exp, 1,
               SG_SEV_INFO);
    else if (st != SG_OK)
      row_text(&g, r, SG_CHECK_KEY, step, region, sg_status_name(st), exp, 0, SG_SEV_FAIL);
    else if (kc.verdict < 0) {
      /* Weak evidence (no key in the chroma, or a tonic by a small margin): a warning, never a
       * failure of a song that may well be right. */
      char msg[256];
      snprintf(msg, sizeof msg, "not judged, weak evidence: %s", kc.text);
      row_text(&g, r, SG_CHECK_KEY, step, region, msg, exp, 0, SG_SEV_WARN);
    } else
      row_text(&g, r, SG_CHECK_KEY, step, region, kc.text, exp, kc.verdict, SG_SEV_FAIL);
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
    return g.st;
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
  sg_status tst = sg_key_track_compute(f, &kc, &tr);
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
     * or reaches the later one's (a wrong key in between is the key row's business; a key
     * passed through during the modulation, such as a relative minor, is allowed). */
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
    row(&g, r, SG_CHECK_KEY_CHANGE, step, tl->sections[i].name, best, s->limits.key_window_sec, 0,
        detail, SG_SEV_FAIL);
  }
  sg_key_track_free(&tr);
  return g.st;
}

sg_status sg_check_stem_length(sg_gate_report *r, const char *step, const char *stem,
                               const sg_song *s, int64_t stem_frames, unsigned stem_rate,
                               int64_t master_frames, unsigned master_rate, sg_diag *d) {
  group g = {SG_OK, d};
  double ms = ((double)stem_frames / stem_rate - (double)master_frames / master_rate) * 1000.0;
  row(&g, r, SG_CHECK_LENGTH, step, stem, ms, s->limits.length_tolerance_ms, 0, "stem minus master",
      SG_SEV_FAIL);
  return g.st;
}

sg_status sg_check_master_duration(sg_gate_report *r, const char *step, const sg_song *s,
                                   const sg_timeline *tl, int64_t frames, unsigned rate,
                                   double tolerance_s, sg_diag *d) {
  group g = {SG_OK, d};
  const sg_delivery_spec *dl = &s->delivery;
  if (dl->has_length) {
    char detail[96];
    snprintf(detail, sizeof detail, "delivery range %g..%g s", dl->length_s[0], dl->length_s[1]);
    row(&g, r, SG_CHECK_DURATION, step, "Master", (double)frames / rate,
        0.5 * (dl->length_s[1] - dl->length_s[0]), 0.5 * (dl->length_s[0] + dl->length_s[1]),
        detail, SG_SEV_FAIL);
    return g.st;
  }
  int64_t lo, hi;
  sg_timeline_length_range(tl, &lo, &hi);
  if (lo == hi) {
    row(&g, r, SG_CHECK_DURATION, step, "Master", (double)frames / rate, tolerance_s,
        (double)lo / tl->rate, "song length from the timeline", SG_SEV_FAIL);
  } else {
    char detail[128];
    snprintf(detail, sizeof detail, "ending: ring, %.3f..%.3f s (song to song plus ring-out cap)",
             (double)lo / tl->rate, (double)hi / tl->rate);
    row(&g, r, SG_CHECK_DURATION, step, "Master", (double)frames / rate,
        0.5 * (double)(hi - lo) / tl->rate + tolerance_s, 0.5 * (double)(lo + hi) / tl->rate,
        detail, SG_SEV_FAIL);
  }
  return g.st;
}
