/* report.html of a render: the data gathered from what the run measured (the writers' taps, the
 * master's features, the timeline, the reference, the gate rows), the page drawn by the report
 * module. A node reused from the cache streamed nothing this run, so its file is read once. */
#include "pipeline_internal.h"

#include "stemgate/compose.h"
#include "stemgate/theory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The estimate agrees with the spec's key by the key gate's rules (analysis.h,
 * sg_key_check_region): the same key or its relative; for a mode, its tonic or the parent major
 * scale (or that scale's relative minor). */
static int key_agrees(const sg_keyfit *e, const sg_key *k) {
  if (e->tonic < 0)
    return 0;
  int t = k->tonic;
  switch (k->mode) {
  case SG_MODE_MAJOR:
    return e->tonic == (e->minor ? (t + 9) % 12 : t);
  case SG_MODE_MINOR:
  case SG_MODE_HARMONIC_MINOR:
    return e->tonic == (e->minor ? t : (t + 3) % 12);
  default: {
    static const int off[8] = {0, 2, 4, 5, 7, 9, 11, 9}; /* degree of the mode in its parent */
    int parent = (t - off[k->mode % 8] + 12) % 12;
    return e->tonic == t || e->tonic == (e->minor ? (parent + 9) % 12 : parent);
  }
  }
}

static int section_at(const sg_timeline *tl, double sec) {
  for (int i = 0; i < tl->n_sections; ++i)
    if (sec < tl->sections[i].end_sec)
      return i;
  return tl->n_sections - 1;
}

static sg_status gather_keys(sg__run *r, sg_report *rep) {
  sg_key_track tmp;
  const sg_key_track *kt = r->has_key_track ? &r->key_track : NULL;
  int own = 0;
  if (!kt && r->master_uptodate) { /* the master was reused: its chroma read once */
    sg_features_config fc;
    sg_features_config_init(&fc);
    fc.flags = SG_FEAT_CHROMA;
    sg_features *f = NULL;
    sg_key_track_config kc;
    sg_key_track_config_init(&kc);
    if (sg_features_from_file(&f, r->master_path, &fc, NULL) == SG_OK &&
        sg_key_track_compute(f, &kc, &tmp) == SG_OK) {
      kt = &tmp;
      own = 1;
    }
    sg_features_free(f);
  }
  if (!kt || kt->n == 0 || r->tl.n_sections == 0) {
    if (own)
      sg_key_track_free(&tmp);
    return SG_OK;
  }
  rep->keys = calloc(kt->n, sizeof *rep->keys);
  if (!rep->keys) {
    if (own)
      sg_key_track_free(&tmp);
    return SG_E_NOMEM;
  }
  rep->n_keys = kt->n;
  for (size_t i = 0; i < kt->n; ++i) {
    sg_report_keywin *w = &rep->keys[i];
    double c = kt->center_s[i];
    double prev = i > 0 ? kt->center_s[i - 1] : c - (kt->n > 1 ? kt->center_s[1] - c : 1);
    double next = i + 1 < kt->n ? kt->center_s[i + 1] : c + (c - prev);
    w->t0 = (prev + c) / 2;
    w->t1 = (c + next) / 2;
    snprintf(w->est, sizeof w->est, "%s", sg_keyfit_name(kt->key[i].tonic, kt->key[i].minor));
    int si = section_at(&r->tl, c);
    sg__section_key(r->song, si, w->expected, sizeof w->expected);
    sg_key k;
    sg_progression prog;
    w->agrees =
        sg_section_harmony(r->song, si, &k, &prog, NULL) == SG_OK && key_agrees(&kt->key[i], &k);
  }
  if (own)
    sg_key_track_free(&tmp);
  return SG_OK;
}

/* The nearest reference onset to each downbeat, within 100 ms. */
static sg_status gather_reference(sg__run *r, sg_report *rep) {
  if (!r->has_ref || rep->n_bars == 0)
    return SG_OK;
  rep->has_reference = 1;
  snprintf(rep->reference, sizeof rep->reference, "%s", r->ref.source_path);
  rep->ref_tempo_bpm = r->ref.tempo_bpm;
  rep->ref_drift_ms = r->ref.drift_ms;
  rep->ref_residual_ms = r->ref.beat_residual_ms;
  rep->bar_offset_ms = malloc((size_t)rep->n_bars * sizeof *rep->bar_offset_ms);
  if (!rep->bar_offset_ms)
    return SG_E_NOMEM;
  const double *on = r->ref.onset_times;
  size_t n = r->ref.n_onset_times, j = 0;
  for (int b = 0; b < rep->n_bars; ++b) {
    double t = rep->bar_s[b];
    while (j + 1 < n && on[j + 1] <= t)
      ++j;
    double best = NAN;
    for (size_t k = j; k < n && k <= j + 1; ++k)
      if (isnan(best) || fabs(on[k] - t) < fabs(best))
        best = on[k] - t;
    rep->bar_offset_ms[b] = !isnan(best) && fabs(best) <= 0.1 ? best * 1000.0 : NAN;
  }
  return SG_OK;
}

static sg_status gather_stem(sg__run *r, const sg__stem *ss, sg_report_stem *rs) {
  snprintf(rs->name, sizeof rs->name, "%s", ss->name);
  snprintf(rs->instrument, sizeof rs->instrument, "%s",
           ss->source == SG__SRC_REFERENCE ? "reference"
           : ss->instrument[0]             ? ss->instrument
                                           : ss->spec->instrument.s);
  rs->drums = ss->is_drums;
  sg_status st = SG_OK;
  if (ss->trace) {
    st = sg_report_wave_from(&rs->wave, ss->trace);
  } else if (ss->fx_uptodate) { /* reused: the delivered file as it is */
    sg_trace *t = NULL;
    if (sg_trace_file(ss->final, 0, &t, NULL) == SG_OK)
      st = sg_report_wave_from(&rs->wave, t);
    sg_trace_free(t);
  }
  if (st != SG_OK || !ss->composed || !ss->midi[0])
    return st;
  sg_note_list nl;
  sg_notes_init(&nl);
  if (sg_midi_read(ss->midi, &r->tl, SG_MIDI_MAP_GRID, &nl, NULL, NULL) == SG_OK && nl.n > 0) {
    rs->notes = malloc(nl.n * sizeof *rs->notes);
    if (!rs->notes)
      st = SG_E_NOMEM;
    for (size_t i = 0; rs->notes && i < nl.n; ++i) {
      rs->notes[i].start_s = (double)nl.v[i].start / r->tl.rate;
      rs->notes[i].length_s = (double)nl.v[i].length / r->tl.rate;
      rs->notes[i].key = nl.v[i].key;
      rs->notes[i].velocity = nl.v[i].velocity;
    }
    if (rs->notes)
      rs->n_notes = nl.n;
  }
  sg_notes_free(&nl);
  return st;
}

static sg_status gather(sg__run *r, sg_report *rep) {
  const sg_song *s = r->song;
  snprintf(rep->title, sizeof rep->title, "%s", s->title);
  snprintf(rep->source, sizeof rep->source, "%s", s->path);
  rep->bpm = r->bpm > 0 ? r->bpm : (double)s->tempo.num / (double)s->tempo.den;
  rep->meter_num = s->meter_num;
  rep->meter_den = s->meter_den;
  rep->rate = s->sample_rate;
  rep->lufs_target = s->master.loudness_lufs;
  rep->lufs_tolerance = s->master.loudness_tolerance;
  rep->tp_ceiling_dbtp = s->master.true_peak_dbtp;
  const sg_timeline *tl = &r->tl;
  rep->duration_s = tl->rate ? (double)tl->total_frames / tl->rate : 0;
  for (int i = 0; i < tl->n_sections; ++i) {
    sg_report_section *rs = &rep->sections[rep->n_sections++];
    snprintf(rs->name, sizeof rs->name, "%s", tl->sections[i].name);
    sg__section_key(s, i, rs->key, sizeof rs->key);
    rs->start_bar = (int)tl->sections[i].start_bar + 1;
    rs->end_bar = (int)(tl->sections[i].start_bar + tl->sections[i].bars);
    rs->start_s = tl->sections[i].start_sec;
    rs->end_s = tl->sections[i].end_sec;
  }
  if (tl->total_bars > 0 && tl->rate) {
    rep->bar_s = malloc((size_t)(tl->total_bars + 1) * sizeof *rep->bar_s);
    if (!rep->bar_s)
      return SG_E_NOMEM;
    rep->n_bars = (int)tl->total_bars;
    for (int b = 0; b <= rep->n_bars; ++b)
      rep->bar_s[b] = (double)sg_timeline_bar_frame(tl, b) / tl->rate;
  }
  sg_status st = SG_OK;
  for (int k = 0; k < r->n_stems && st == SG_OK; ++k)
    st = gather_stem(r, &r->stems[k], &rep->stems[rep->n_stems++]);
  if (st == SG_OK && r->master_trace) {
    st = sg_report_wave_from(&rep->master, r->master_trace);
  } else if (st == SG_OK && r->master_uptodate) {
    sg_trace *t = NULL;
    if (sg_trace_file(r->master_path, 1, &t, NULL) == SG_OK)
      st = sg_report_wave_from(&rep->master, t);
    sg_trace_free(t);
  }
  if (st == SG_OK)
    st = gather_keys(r, rep);
  if (st == SG_OK)
    st = gather_reference(r, rep);
  if (st == SG_OK)
    st = sg_gate_report_append(&rep->gates, &r->res->gates);
  return st;
}

sg_status sg__report_write(sg__run *r, sg_status run_st, const sg_diag *why, int deliver,
                           sg_diag *d) {
  sg_report *rep = malloc(sizeof *rep);
  if (!rep)
    return sg_diag_fail(d, SG_E_NOMEM, "report: out of memory");
  sg_report_init(rep);
  sg_status st = gather(r, rep);
  if (st != SG_OK) {
    sg_report_free(rep);
    free(rep);
    return sg_diag_fail(d, st, "report: out of memory gathering report.html");
  }
  if (run_st != SG_OK) {
    rep->failed = 1;
    char msg[sizeof rep->failure];
    if (why && why->message[0])
      sg_diag_format(why, msg, sizeof msg);
    else
      snprintf(msg, sizeof msg, "%s", sg_status_message(run_st));
    snprintf(rep->failure, sizeof rep->failure, "%s", msg);
  }
  char path[SG_MAX_PATH + 32];
  sg__join(path, sizeof path, r->work, "report.html");
  st = sg_report_write_html(rep, path, d);
  sg_report_free(rep);
  free(rep);
  if (st == SG_OK && deliver) {
    st = sg__outset_add(r, path, "report.html", d);
    snprintf(r->res->report_path, sizeof r->res->report_path, "%s/current/report.html",
             r->res->out_dir);
  } else if (st == SG_OK) {
    snprintf(r->res->report_path, sizeof r->res->report_path, "%s", path);
  }
  return st;
}
