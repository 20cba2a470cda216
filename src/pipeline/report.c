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
  sg_status st = sg_report_set_keys(rep, kt);
  if (own)
    sg_key_track_free(&tmp);
  return st;
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
  } else if (ss->fx_uptodate) { /* reused: its kept trace, or the delivered file as it is */
    char node[SG_MAX_NAME + 8];
    snprintf(node, sizeof node, "fx %s", ss->name);
    sg_trace *t = sg__trace_take(r, node, &ss->fx_node, ss->final, 0);
    if (t)
      st = sg_report_wave_from(&rs->wave, t);
    sg_trace_free(t);
  }
  if (st != SG_OK || !ss->composed || !ss->midi[0])
    return st;
  sg_note_list nl;
  sg_notes_init(&nl);
  if (sg_midi_read(ss->midi, &r->tl, SG_MIDI_MAP_GRID, &nl, NULL, NULL) == SG_OK)
    st = sg_report_set_notes(rs, &nl, r->tl.rate);
  sg_notes_free(&nl);
  return st;
}

static sg_status gather(sg__run *r, sg_report *rep) {
  sg_status st = sg_report_from_song(rep, r->song, &r->tl, r->bpm);
  if (st != SG_OK)
    return st;
  for (int k = 0; k < r->n_stems && st == SG_OK; ++k)
    st = gather_stem(r, &r->stems[k], &rep->stems[rep->n_stems++]);
  if (st == SG_OK && r->master_trace) {
    st = sg_report_wave_from(&rep->master, r->master_trace);
  } else if (st == SG_OK && r->master_uptodate) {
    sg_trace *t = sg__trace_take(r, "master", &r->master_node, r->master_path, 1);
    if (t)
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
    sg__log(r, "report: %s", r->res->report_path);
  } else if (st == SG_OK) {
    snprintf(r->res->report_path, sizeof r->res->report_path, "%s", path);
  }
  return st;
}
