/* Reference tracks, step 2: read, conform, measure (tempo, first downbeat, drift, tempo map) and
 * lock the song's grid to the reference. The measurements are the analysis module's; this file
 * holds the policy around them. See include/stemgate/reference.h. */
#include "reference_internal.h"

#include "stemgate/analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------ helpers --- */

void sg_reference_config_init(sg_reference_config *c) {
  if (!c)
    return;
  c->trim_fade_ms = 20;
  c->pad_fade_ms = 20;
  c->loop_xfade_ms = 10;
  c->loop_bars = 0;
  c->tempo_prior_octaves = 0.5;
  c->min_downbeat_confidence = sg_check_get(SG_CHECK_DOWNBEAT_CONFIDENCE)->limit;
  c->sync_max_lag_beats = 0.2;
  c->sync_min_onsets = 8;
  c->sync_min_similarity = 0.2;
}

static double clampd(double x, double lo, double hi, double def) {
  if (!isfinite(x))
    return def;
  return x < lo ? lo : x > hi ? hi : x;
}

void sg__ref_config_resolve(const sg_reference_config *in, sg_reference_config *out) {
  sg_reference_config def;
  sg_reference_config_init(&def);
  *out = in ? *in : def;
  out->trim_fade_ms = clampd(out->trim_fade_ms, 1, 500, def.trim_fade_ms);
  out->pad_fade_ms = clampd(out->pad_fade_ms, 1, 500, def.pad_fade_ms);
  out->loop_xfade_ms = clampd(out->loop_xfade_ms, 1, 100, def.loop_xfade_ms);
  if (out->loop_bars < 0 || out->loop_bars > 64)
    out->loop_bars = 0;
  out->min_downbeat_confidence =
      clampd(out->min_downbeat_confidence, 0, 1, def.min_downbeat_confidence);
  out->tempo_prior_octaves = clampd(out->tempo_prior_octaves, 0.05, 4, def.tempo_prior_octaves);
  out->sync_max_lag_beats = clampd(out->sync_max_lag_beats, 0.02, 0.49, def.sync_max_lag_beats);
  if (out->sync_min_onsets < 4)
    out->sync_min_onsets = 4;
  out->sync_min_similarity = clampd(out->sync_min_similarity, 0, 1, def.sync_min_similarity);
}

double sg__ref_sync_limit_ms(const sg_song *song) {
  return song && song->limits.sync_ms > 0 ? song->limits.sync_ms : 10.0;
}

double sg__ref_tempo_tolerance(const sg_song *song) {
  return song && song->drums.tempo_tolerance_bpm > 0 ? song->drums.tempo_tolerance_bpm : 1.0;
}

sg_status sg__ref_check(sg_gate_report *r, sg_check_id id, const char *step, const char *stem,
                        double measured, double limit, double target, const char *detail,
                        sg_severity sev, sg_diag *d) {
  sg_status st = sg_gate_row(r, id, step, stem, measured, limit, target, detail, sev, d);
  if (st == SG_E_GATE && d)
    sg_diag_value(d, measured, isnan(limit) ? sg_check_get(id)->limit : limit,
                  sg_check_get(id)->unit);
  return st;
}

const char *sg__ref_name(const char *stem) { return stem && stem[0] ? stem : "reference"; }

const char *sg_reference_fit_name(sg_reference_fit f) {
  switch (f) {
  case SG_REF_FIT_EXACT:
    return "exact";
  case SG_REF_FIT_TRIM:
    return "trim";
  case SG_REF_FIT_FADE:
    return "fade";
  case SG_REF_FIT_LOOP:
    return "loop";
  default:
    return "none";
  }
}

void sg_reference_free(sg_reference *ref) {
  if (!ref)
    return;
  free(ref->tempo_map);
  ref->tempo_map = NULL;
  free(ref->onset_times);
  ref->onset_times = NULL;
  ref->n_onset_times = 0;
  ref->n_tempo_map = 0;
  ref->follows_tempo_map = 0;
}

/* "44100 Hz pcm16 mono". */
static void format_desc(const sg_audio_info *i, char *out, size_t cap) {
  char fmt[24], ch[16];
  if (i->is_float)
    snprintf(fmt, sizeof fmt, "float%d", i->bits ? i->bits : 32);
  else if (i->bits)
    snprintf(fmt, sizeof fmt, "pcm%d", i->bits);
  else
    snprintf(fmt, sizeof fmt, "compressed");
  if (i->channels == 1)
    snprintf(ch, sizeof ch, "mono");
  else if (i->channels == 2)
    snprintf(ch, sizeof ch, "stereo");
  else
    snprintf(ch, sizeof ch, "%u ch", i->channels);
  snprintf(out, cap, "%u Hz %s %s", i->rate, fmt, ch);
}

/* The tempo as an exact decimal with two decimals (132.004 -> 13200/100). */
static sg_decimal tempo_decimal(double bpm) {
  sg_decimal t;
  memset(&t, 0, sizeof t);
  t.num = (int64_t)llround(bpm * 100.0);
  t.den = 100;
  return t;
}

/* Beats per bar for the downbeat search: the bar in quarter notes when whole (4/4 -> 4, 6/8 ->
 * 3), else the meter's numerator (5/8 -> 5). */
static int beats_per_bar(const sg_song *song) {
  int q4 = song->meter_num * 4, den = song->meter_den > 0 ? song->meter_den : 4;
  int b = q4 % den == 0 ? q4 / den : song->meter_num;
  return b < 1 ? 4 : b > 32 ? 32 : b;
}

/* Directory part of path into out ("" when none). */
static void dir_of(const char *path, char *out, size_t cap) {
  snprintf(out, cap, "%s", path);
  char *s = strrchr(out, '/');
  if (s && s != out)
    *s = '\0';
  else if (s)
    s[1] = '\0';
  else
    out[0] = '\0';
}

/* ------------------------------------------------------------------------------ prepare --- */

/* Measures tempo, downbeat, drift and the tempo map on the conformed file. Appends the tempo
 * gate. Returns SG_OK, SG_E_GATE, SG_E_NOMEM or an analysis error. */
static sg_status measure(const sg_song *song, const sg_reference_config *cfg, sg_reference *ref,
                         sg_gate_report *gates, sg_diag *d) {
  const char *step = SG_REFERENCE_STEP, *stem = "reference";
  sg_features_config fc;
  sg_features_config_init(&fc);
  fc.flags = SG_FEAT_ONSET | SG_FEAT_ENERGY;
  sg_features *f = NULL;
  sg_onset_list on;
  memset(&on, 0, sizeof on);
  sg_status st = sg_features_from_file(&f, ref->work_path, &fc, d);
  if (st != SG_OK)
    return st;
  if ((st = sg_onsets_pick(f, NULL, &on)) != SG_OK)
    goto done;
  ref->onsets = on.n;
  if (on.n) {
    ref->onset_times = malloc(on.n * sizeof *ref->onset_times);
    if (!ref->onset_times) {
      st = sg_diag_fail(d, SG_E_NOMEM, "reference: out of memory for %zu onsets", on.n);
      goto done;
    }
    memcpy(ref->onset_times, on.time, on.n * sizeof *on.time);
    ref->n_onset_times = on.n;
  }

  /* Tempo: the spec's tempo is prior knowledge. It settles the octave (70 vs 140 BPM with hats
   * on the eighths is genuinely ambiguous: sg_tempo_config.hint_bpm) and centres the prior,
   * which stays wide enough that a real difference (132 vs 140 BPM, a tenth of an octave)
   * shows in full. */
  double spec_bpm = song->tempo.den > 0 ? (double)song->tempo.num / (double)song->tempo.den : 0;
  sg_tempo_config tc;
  sg_tempo_config_init(&tc);
  if (!song->tempo_auto && spec_bpm > 0) {
    tc.hint_bpm = spec_bpm;
    tc.prior_bpm = spec_bpm;
    tc.prior_octaves = cfg->tempo_prior_octaves;
    if (tc.min_bpm > spec_bpm * 0.7) /* a spec outside the default range stays reachable */
      tc.min_bpm = spec_bpm * 0.7;
    if (tc.max_bpm < spec_bpm * 1.4)
      tc.max_bpm = spec_bpm * 1.4;
  }
  sg_tempo_result tr;
  sg_status tst = sg_tempo_estimate(f, &on, &tc, &tr);
  if (tst == SG_E_NOMEM) {
    st = sg_diag_fail(d, SG_E_NOMEM, "reference: out of memory estimating the tempo");
    goto done;
  }
  if (tst != SG_OK || !(tr.bpm > 0)) {
    char det[160];
    snprintf(det, sizeof det, "no periodic onsets found (%zu onsets): not a rhythmic reference",
             on.n);
    /* NaN never passes: a failed measurement is a failed gate, with or without tempo: auto. */
    st = sg__ref_check(gates, SG_CHECK_REFERENCE_TEMPO, step, stem, NAN,
                       sg__ref_tempo_tolerance(song), spec_bpm, det, SG_SEV_FAIL, d);
    sg_diag_fail(d, SG_E_GATE, "reference '%s': %s", ref->source_path, det);
    goto done;
  }
  ref->tempo_bpm = tr.bpm;
  ref->tempo_bpm_acf = tr.bpm_acf;
  ref->tempo_confidence = tr.confidence;
  ref->tempo_measured = tempo_decimal(tr.bpm);
  if (song->tempo_auto || !(spec_bpm > 0))
    ref->tempo_grid = ref->tempo_measured;
  else
    ref->tempo_grid = song->tempo;
  ref->tempo_grid_bpm = (double)ref->tempo_grid.num / (double)ref->tempo_grid.den;
  char det[256];
  if (song->tempo_auto) {
    snprintf(det, sizeof det, "tempo: auto -> %.2f BPM (measured %.4f, %zu onsets on the grid fit)",
             (double)ref->tempo_measured.num / 100.0, tr.bpm, tr.onsets_used);
    st = sg__ref_check(gates, SG_CHECK_REFERENCE_TEMPO, step, stem, tr.bpm, 0, 0, det, SG_SEV_INFO,
                       d);
  } else {
    snprintf(det, sizeof det, "measured %.2f BPM against the spec's %.2f BPM (tolerance %.2f)",
             tr.bpm, spec_bpm, sg__ref_tempo_tolerance(song));
    st = sg__ref_check(gates, SG_CHECK_REFERENCE_TEMPO, step, stem, tr.bpm,
                       sg__ref_tempo_tolerance(song), spec_bpm, det, SG_SEV_FAIL, d);
    if (st != SG_OK)
      sg_diag_fail(d, SG_E_GATE,
                   "the reference '%s' plays at %.2f BPM but the spec says %.2f BPM (allowed "
                   "difference %.2f BPM): fix the spec's tempo or set tempo: auto",
                   ref->source_path, tr.bpm, spec_bpm, sg__ref_tempo_tolerance(song));
  }
  if (st != SG_OK)
    goto done;
  sg_gate_row(gates, SG_CHECK_REFERENCE_TEMPO_CONFIDENCE, step, stem, tr.confidence, 0, 0, NULL,
              SG_SEV_INFO, NULL);

  /* Beats and first downbeat: a smooth tempo curve through the onsets on beats, from the
   * measured tempo and phase, then the bar position (sg_beat_track_onsets). The plain
   * bar-accent estimate on one global grid stays as the fallback for material too sparse for
   * a curve. */
  sg_beat_track bt;
  sg_beat_track_config bc;
  sg_beat_track_config_init(&bc);
  bc.beats_per_bar = beats_per_bar(song);
  double dur = sg_features_duration(f);
  sg_downbeat_result db;
  memset(&db, 0, sizeof db);
  sg_status bst = sg_beat_track_onsets(f, &on, tr.bpm, tr.phase_s, dur, &bc, &bt);
  if (bst == SG_E_NOMEM) {
    st = sg_diag_fail(d, SG_E_NOMEM, "reference: out of memory tracking the beats");
    goto done;
  }
  if (bst == SG_OK) {
    db.first_downbeat_s = bt.first_downbeat_s;
    db.confidence = bt.confidence;
    db.bar_position = bt.bar_position;
  } else if (sg_downbeat_estimate(&on, tr.bpm, beats_per_bar(song), &db) != SG_OK) {
    st = sg__ref_check(gates, SG_CHECK_FIRST_DOWNBEAT, step, stem, NAN, 0, 0, "no downbeat found",
                       SG_SEV_FAIL, d);
    goto done;
  }
  unsigned rate = ref->work.rate;
  ref->first_downbeat_s = db.first_downbeat_s;
  ref->downbeat_confidence = db.confidence;
  int64_t origin = (int64_t)llround(db.first_downbeat_s * rate);
  if (origin < 0) /* a downbeat a hair before the file's first sample: start the grid at 0 */
    origin = 0;
  ref->origin_frame = song->drums.align ? origin : 0;
  ref->offset_ms = 1000.0 * (double)ref->origin_frame / rate;

  /* Drift of the reference's beats against the grid it will be given, from the downbeat. */
  sg_drift_result dr;
  if (sg_drift_estimate(&on, ref->tempo_grid_bpm, db.first_downbeat_s, &dr) == SG_OK) {
    ref->drift_ms = 1000.0 * dr.drift_s;
    ref->tempo_ratio = dr.tempo_ratio;
    ref->beat_residual_ms = 1000.0 * dr.residual_s;
    /* The span between the first and last matched beats, from the fitted line's slope. */
    /* drift = (period - grid period) * beats = span * (1 - ratio). */
    ref->drift_span_s = fabs(dr.tempo_ratio - 1) > 1e-9 ? fabs(dr.drift_s / (1.0 - dr.tempo_ratio))
                                                        : sg_features_duration(f);
  } else {
    ref->tempo_ratio = 1;
  }

  /* Tempo map: the tracked quarter notes from the first downbeat through the end of the file. */
  if (bst == SG_OK && bt.n >= 2) {
    ref->tempo_map = malloc(bt.n * sizeof *ref->tempo_map);
    if (!ref->tempo_map) {
      sg_beat_track_free(&bt);
      st = sg_diag_fail(d, SG_E_NOMEM, "reference: out of memory for the tempo map");
      goto done;
    }
    for (size_t i = 0; i < bt.n; ++i) {
      int64_t fr = (int64_t)llround(bt.time[i] * rate);
      if (ref->n_tempo_map && fr <= ref->tempo_map[ref->n_tempo_map - 1])
        fr = ref->tempo_map[ref->n_tempo_map - 1] + 1; /* strictly increasing */
      ref->tempo_map[ref->n_tempo_map++] = fr;
    }
  }
  sg_beat_track_free(&bt);

  snprintf(det, sizeof det, "first downbeat at %.2f ms (confidence %.2f); grid origin frame %lld",
           1000.0 * db.first_downbeat_s, db.confidence, (long long)ref->origin_frame);
  sg_gate_row(gates, SG_CHECK_FIRST_DOWNBEAT, step, stem, 1000.0 * db.first_downbeat_s, 0, 0, det,
              SG_SEV_INFO, NULL);
  /* Advisory: a weak bar accent means the grid may start a beat or two off the client's bar
   * line (kick and snare alike); the producer should listen to the first bar. */
  sg_gate_row(gates, SG_CHECK_DOWNBEAT_CONFIDENCE, step, stem, db.confidence,
              cfg->min_downbeat_confidence, 0,
              db.confidence >= cfg->min_downbeat_confidence
                  ? "bar accent clear"
                  : "weak bar accent: check that the grid starts on the client's bar line",
              SG_SEV_WARN, NULL);
  snprintf(det, sizeof det,
           "beats %s by %.2f ms over %.1f s against %.2f BPM (tempo ratio %.6f, residual %.2f ms)",
           ref->drift_ms >= 0 ? "late" : "early", fabs(ref->drift_ms), ref->drift_span_s,
           ref->tempo_grid_bpm, ref->tempo_ratio, ref->beat_residual_ms);
  sg_gate_row(gates, SG_CHECK_REFERENCE_DRIFT, step, stem, ref->drift_ms, 0, 0, det, SG_SEV_INFO,
              NULL);
  st = SG_OK;
done:
  sg_onset_list_free(&on);
  sg_features_free(f);
  return st;
}

sg_status sg_reference_prepare(const sg_song *song, const char *source_path,
                               const sg_reference_config *cfg_in, const char *work_path,
                               sg_reference *ref, sg_gate_report *gates, sg_diag *d) {
  if (!ref)
    return sg_diag_fail(d, SG_E_INVAL, "reference: NULL result");
  memset(ref, 0, sizeof *ref);
  if (!song || !work_path || !gates)
    return sg_diag_fail(d, SG_E_INVAL, "reference: song, work path and gate report are required");
  if (song->sample_rate == 0 || song->channels < 1 || song->channels > 2)
    return sg_diag_fail(d, SG_E_INVAL,
                        "reference: the song needs a sample rate and 1 or 2 channels (got %u Hz, "
                        "%u channels)",
                        song->sample_rate, song->channels);
  sg_reference_config cfg;
  sg__ref_config_resolve(cfg_in, &cfg);
  const char *step = SG_REFERENCE_STEP, *stem = "reference";
  if (source_path && source_path[0])
    snprintf(ref->source_path, sizeof ref->source_path, "%s", source_path);
  else if (song->drums.reference[0])
    sg_song_resolve_path(song, song->drums.reference, ref->source_path, sizeof ref->source_path);
  else
    return sg_diag_fail(d, SG_E_INVAL, "reference: no reference file (drums.reference is empty)");
  snprintf(ref->work_path, sizeof ref->work_path, "%s", work_path);

  /* Readable: the whole file decodes (a truncated or corrupt file fails here, not halfway
   * through the conversion), holds only finite samples and is not digital silence. */
  sg_audio_reader *rd = NULL;
  sg_diag rdiag;
  sg_diag_clear(&rdiag);
  sg_status st = sg_audio_reader_open(&rd, ref->source_path, &ref->input, &rdiag);
  if (st == SG_OK && ref->input.frames <= 0)
    st =
        sg_diag_fail(&rdiag, SG_E_FORMAT, "reference '%s' holds no audio frames", ref->source_path);
  if (st == SG_OK) /* rate, codec and length that can serve (the rule verify applies too) */
    st = sg_audio_check_reference(&ref->input, sg_song_bar_seconds(song), ref->source_path, &rdiag);
  if (st == SG_OK) {
    enum { BLK = 8192 };
    float *buf = malloc((size_t)BLK * ref->input.channels * sizeof *buf);
    float peak = 0;
    int64_t at = 0;
    if (!buf)
      st = sg_diag_fail(&rdiag, SG_E_NOMEM, "reference: out of memory");
    for (size_t got = 1; st == SG_OK && got; at += (int64_t)got) {
      st = sg_audio_reader_read(rd, buf, BLK, &got, &rdiag);
      if (st == SG_OK)
        st = sg_audio_check_finite(buf, got, ref->input.channels, at, ref->source_path, &rdiag);
      for (size_t i = 0; st == SG_OK && i < got * ref->input.channels; ++i)
        if (fabsf(buf[i]) > peak)
          peak = fabsf(buf[i]);
    }
    free(buf);
    if (st == SG_OK && peak == 0)
      st = sg_diag_fail(&rdiag, SG_E_FORMAT, "reference '%s' is digital silence", ref->source_path);
  }
  sg_audio_reader_close(rd);
  if (st != SG_OK) {
    sg_gate_row_text(gates, SG_CHECK_REFERENCE_READABLE, step, stem, rdiag.message,
                     "a file libsndfile decodes", 0, SG_SEV_FAIL, NULL);
    if (d) {
      *d = rdiag;
      sg_diag_where(d, step, stem, sg_check_get(SG_CHECK_REFERENCE_READABLE)->name);
    }
    return st;
  }
  char fmt_in[64], fmt_out[64];
  format_desc(&ref->input, fmt_in, sizeof fmt_in);
  snprintf(ref->input_desc, sizeof ref->input_desc, "%s %s, %.3f s", ref->input.container, fmt_in,
           (double)ref->input.frames / ref->input.rate);
  sg_gate_row_text(gates, SG_CHECK_REFERENCE_READABLE, step, stem, ref->input_desc,
                   "a file libsndfile decodes", 1, SG_SEV_FAIL, NULL);

  /* Conform: rate and channels of the project, float32, by libsamplerate SINC_BEST. */
  char dir[SG_MAX_PATH];
  dir_of(work_path, dir, sizeof dir);
  if (dir[0] && (st = sg_mkdirs(dir, d)) != SG_OK)
    return st;
  if ((st = sg_audio_convert_file(ref->source_path, work_path, song->sample_rate, song->channels,
                                  d)) != SG_OK) {
    sg_gate_row_text(gates, SG_CHECK_REFERENCE_CONFORM, step, stem,
                     d ? d->message : "conversion failed", "conformed work file", 0, SG_SEV_FAIL,
                     NULL);
    return st;
  }
  if ((st = sg_audio_reader_open(&rd, work_path, &ref->work, d)) != SG_OK)
    return st;
  sg_audio_reader_close(rd);
  format_desc(&ref->work, fmt_out, sizeof fmt_out);
  const char *how;
  if (ref->input.rate != ref->work.rate)
    how = "libsamplerate SINC_BEST";
  else if (ref->input.channels != ref->work.channels)
    how = "same rate, channels mapped, no resampling";
  else
    how = "same rate and channels, copied as float32";
  snprintf(ref->conversion, sizeof ref->conversion, "%s -> %s, %s", fmt_in, fmt_out, how);
  sg_gate_row_text(gates, SG_CHECK_REFERENCE_CONFORM, step, stem, ref->conversion,
                   "song rate and channels", 1, SG_SEV_FAIL, NULL);

  return measure(song, &cfg, ref, gates, d);
}

/* -------------------------------------------------------------------------------- align --- */

sg_status sg_reference_align(sg_reference *ref, const sg_song *song, sg_timeline *tl,
                             const sg_reference_config *cfg_in, sg_gate_report *gates, sg_diag *d) {
  if (!ref || !song || !tl || !gates)
    return sg_diag_fail(d, SG_E_INVAL, "reference align: NULL argument");
  if (tl->rate != ref->work.rate || ref->work.frames <= 0)
    return sg_diag_fail(d, SG_E_INVAL,
                        "reference align: the timeline runs at %u Hz but the conformed reference "
                        "at %u Hz (prepare it first)",
                        tl->rate, ref->work.rate);
  sg_reference_config cfg;
  sg__ref_config_resolve(cfg_in, &cfg);
  const char *step = SG_REFERENCE_STEP, *stem = "reference";
  char det[256];
  double limit = sg__ref_sync_limit_ms(song);
  unsigned rate = tl->rate;

  sg_timeline_set_origin(tl, ref->origin_frame);
  ref->follows_tempo_map = 0;
  if (song->drums.follow_tempo_map && ref->n_tempo_map >= 2) {
    /* The timeline extrapolates past the map with its last interval alone, whose ~1 ms onset
     * jitter would grow by that much per beat over a long extension. Extend the map to the song
     * end here with the least-squares period of its last 16 beats instead. */
    double qpb = sg_timeline_quarters_per_bar(tl);
    size_t need = (size_t)ceil((double)tl->total_bars * qpb) + 2;
    if (ref->n_tempo_map < need) {
      int64_t *m = realloc(ref->tempo_map, need * sizeof *m);
      if (!m)
        return sg_diag_fail(d, SG_E_NOMEM, "reference align: out of memory for the tempo map");
      ref->tempo_map = m;
      size_t n = ref->n_tempo_map, k = n < 16 ? n : 16;
      double sx = 0, sy = 0, sxx = 0, sxy = 0;
      for (size_t i = n - k; i < n; ++i) {
        double x = (double)(i - (n - k)), y = (double)(m[i] - m[n - k]);
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
      }
      double den = (double)k * sxx - sx * sx;
      double period = den > 0 ? ((double)k * sxy - sx * sy) / den : (double)(m[n - 1] - m[n - 2]);
      for (size_t i = n; i < need; ++i)
        m[i] = m[n - 1] + (int64_t)llround(period * (double)(i - (n - 1)));
      ref->n_tempo_map = need;
    }
    /* The map's quarter 0 is the measured first beat: the grid starts there. */
    ref->origin_frame = ref->tempo_map[0];
    ref->offset_ms = 1000.0 * (double)ref->origin_frame / rate;
    sg_timeline_set_origin(tl, ref->origin_frame);
    sg_timeline_set_tempo_map(tl, ref->tempo_map, ref->n_tempo_map);
    ref->follows_tempo_map = 1;
  }
  snprintf(det, sizeof det, "grid origin at frame %lld (%.2f ms)%s", (long long)ref->origin_frame,
           ref->offset_ms, ref->follows_tempo_map ? ", following the measured tempo map" : "");
  sg_gate_row(gates, SG_CHECK_REFERENCE_ORIGIN, step, stem, ref->offset_ms, 0, 0, det, SG_SEV_INFO,
              NULL);

  /* Length and fit policy. */
  int64_t ref_frames = ref->work.frames, total = tl->total_frames;
  ref->song_frames = total;
  sg_status st = SG_OK;
  if (ref_frames == total) {
    ref->fit = SG_REF_FIT_EXACT;
    snprintf(ref->fit_desc, sizeof ref->fit_desc, "exact: the reference is the song's length");
  } else if (ref_frames > total) {
    ref->fit = SG_REF_FIT_TRIM;
    ref->fit_fade_ms = cfg.trim_fade_ms;
    ref->fit_cut_frame = total;
    snprintf(ref->fit_desc, sizeof ref->fit_desc,
             "trim: %.3f s longer than the song; cut at the song end (%.3f s) after a %.0f ms "
             "raised-cosine fade",
             (double)(ref_frames - total) / rate, (double)total / rate, ref->fit_fade_ms);
  } else {
    /* Whole bars of the reference after the first downbeat. */
    int64_t whole = 0;
    while (whole < tl->total_bars && sg_timeline_bar_frame(tl, whole + 1) <= ref_frames)
      whole++;
    if (song->drums.fit == SG_FIT_LOOP) {
      int k = cfg.loop_bars;
      if (k <= 0)
        k = whole >= 4 ? 4 : whole >= 2 ? 2 : 1;
      if (k > whole)
        k = (int)whole;
      ref->fit = SG_REF_FIT_LOOP;
      ref->loop_bars = k;
      ref->loop_xfade_ms = cfg.loop_xfade_ms;
      ref->fit_fade_ms = cfg.trim_fade_ms;
      ref->fit_cut_frame = sg_timeline_bar_frame(tl, whole);
      ref->loop_src_frame = sg_timeline_bar_frame(tl, whole - k);
      char tbuf[32];
      snprintf(ref->fit_desc, sizeof ref->fit_desc,
               "loop: %.3f s short; bars %lld-%lld of the reference repeated from bar %lld (%s) "
               "with %.0f ms equal-power crossfades ending on each loop's bar line",
               (double)(total - ref_frames) / rate, (long long)(whole - k + 1), (long long)whole,
               (long long)whole + 1,
               sg_format_time((double)ref->fit_cut_frame / rate, tbuf, sizeof tbuf),
               ref->loop_xfade_ms);
    } else {
      int64_t b = whole; /* the last bar line inside the reference */
      ref->fit = SG_REF_FIT_FADE;
      ref->fit_fade_ms = cfg.pad_fade_ms;
      ref->fit_cut_frame = sg_timeline_bar_frame(tl, b);
      snprintf(ref->fit_desc, sizeof ref->fit_desc,
               "fade: %.3f s short; %.0f ms raised-cosine fade ending on bar line %lld (%.3f s), "
               "silence to the song end",
               (double)(total - ref_frames) / rate, ref->fit_fade_ms, (long long)b + 1,
               (double)ref->fit_cut_frame / rate);
    }
  }
  if (ref->fit == SG_REF_FIT_LOOP) {
    snprintf(det, sizeof det, "%s", ref->fit_desc);
    st = sg__ref_check(gates, SG_CHECK_REFERENCE_LOOP_BARS, step, stem, (double)ref->loop_bars, 1,
                       0, det, SG_SEV_FAIL, d);
    if (st != SG_OK && d)
      snprintf(d->message, sizeof d->message,
               "the reference is shorter than the song and holds no whole bar after its first "
               "downbeat to loop; use fit: fade or a longer reference");
  } else {
    snprintf(det, sizeof det, "%s", ref->fit_desc);
    st = sg__ref_check(gates, SG_CHECK_REFERENCE_LENGTH, step, stem, (double)ref_frames,
                       (double)total, 0, det,
                       ref->fit == SG_REF_FIT_FADE ? SG_SEV_INFO : SG_SEV_FAIL, d);
  }
  if (st != SG_OK)
    return st;

  /* Drift over the part of the song the reference plays (looped bars are re-anchored to the
   * grid at every loop, so only the reference's own span counts). */
  int64_t played = (ref_frames < total ? ref_frames : total) - ref->origin_frame;
  if (played < 0)
    played = 0;
  double ratio = ref->tempo_ratio > 0 ? ref->tempo_ratio : 1;
  ref->projected_drift_ms = 1000.0 * (1.0 / ratio - 1.0) * (double)played / rate;
  if (ref->follows_tempo_map) {
    snprintf(det, sizeof det,
             "the grid follows the measured beats (%zu quarter notes); unfollowed the drift would "
             "be %.2f ms",
             ref->n_tempo_map, ref->projected_drift_ms);
    sg_gate_row(gates, SG_CHECK_DRIFT_OVER_SONG, step, stem, ref->projected_drift_ms, 0, 0, det,
                SG_SEV_INFO, NULL);
  } else {
    snprintf(det, sizeof det,
             "reference beats drift %.2f ms against the %.2f BPM grid over %.1f s (tempo ratio "
             "%.6f)",
             ref->projected_drift_ms, ref->tempo_grid_bpm, (double)played / rate, ratio);
    st = sg__ref_check(gates, SG_CHECK_DRIFT_OVER_SONG, step, stem, ref->projected_drift_ms, limit,
                       0, det, SG_SEV_FAIL, d);
    if (st != SG_OK && d)
      snprintf(d->message, sizeof d->message,
               "the reference's beats drift %.2f ms against the %.2f BPM grid over the song "
               "(limit %.2f ms): set drums.follow_tempo_map: true, or tempo: auto",
               ref->projected_drift_ms, ref->tempo_grid_bpm, limit);
  }
  return st;
}

/* ----------------------------------------------------------------------------- describe --- */

char *sg_reference_describe(const sg_reference *ref, char *out, size_t cap) {
  if (!out || !cap)
    return out;
  out[0] = '\0';
  if (!ref)
    return out;
  snprintf(out, cap,
           "Reference: %s (%s)\n"
           "Conformed: %s\n"
           "Tempo: measured %.2f BPM (confidence %.2f, %zu onsets); grid %.2f BPM\n"
           "First downbeat: %.2f ms (confidence %.2f); grid offset %.2f ms%s\n"
           "Drift: %.2f ms over %.1f s (tempo ratio %.6f); over the song %.2f ms\n"
           "Length: %s\n",
           ref->source_path, ref->input_desc, ref->conversion, ref->tempo_bpm,
           ref->tempo_confidence, ref->onsets, ref->tempo_grid_bpm, 1000.0 * ref->first_downbeat_s,
           ref->downbeat_confidence, ref->offset_ms,
           ref->follows_tempo_map ? ", following the measured tempo map" : "", ref->drift_ms,
           ref->drift_span_s, ref->tempo_ratio, ref->projected_drift_ms,
           ref->fit_desc[0] ? ref->fit_desc : sg_reference_fit_name(ref->fit));
  return out;
}
