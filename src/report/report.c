/* The report's data: ownership of what the gatherer filled in (see report.h). */
#include "stemgate/report.h"

#include "stemgate/compose.h"
#include "stemgate/theory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sg_report_init(sg_report *r) {
  memset(r, 0, sizeof *r);
  sg_gate_report_init(&r->gates);
}

static void wave_free(sg_report_wave *w) {
  free(w->lo);
  free(w->hi);
  free(w->st_lufs);
  free(w->tp_dbtp);
  memset(w, 0, sizeof *w);
}

void sg_report_free(sg_report *r) {
  if (!r)
    return;
  for (int i = 0; i < r->n_stems; ++i) {
    wave_free(&r->stems[i].wave);
    free(r->stems[i].notes);
  }
  wave_free(&r->master);
  free(r->bar_s);
  free(r->keys);
  free(r->bar_offset_ms);
  sg_gate_report_free(&r->gates);
  memset(r, 0, sizeof *r);
}

int sg_report_key_agrees(int et, int em, int t, int mode) {
  if (et < 0 || t < 0)
    return 0;
  switch (mode) {
  case SG_MODE_MAJOR:
    return et == (em ? (t + 9) % 12 : t);
  case SG_MODE_MINOR:
  case SG_MODE_HARMONIC_MINOR:
    return et == (em ? t : (t + 3) % 12);
  default: {
    static const int off[8] = {0, 2, 4, 5, 7, 9, 11, 9}; /* the mode's degree in its parent */
    int parent = (t - off[mode & 7] + 12) % 12;
    return et == t || et == (em ? (parent + 9) % 12 : parent);
  }
  }
}

sg_status sg_report_from_song(sg_report *r, const sg_song *s, const sg_timeline *tl, double bpm) {
  snprintf(r->title, sizeof r->title, "%s", s->title);
  snprintf(r->source, sizeof r->source, "%s", s->path);
  r->bpm = bpm > 0 ? bpm : (double)s->tempo.num / (double)s->tempo.den;
  sg_timeline_tempo_text(tl, r->tempo_map, sizeof r->tempo_map);
  r->meter_num = s->meter_num;
  r->meter_den = s->meter_den;
  r->rate = s->sample_rate;
  r->lufs_target = s->master.loudness_lufs;
  r->lufs_tolerance = s->master.loudness_tolerance;
  r->tp_ceiling_dbtp = s->master.true_peak_dbtp;
  r->duration_s = tl->rate ? (double)tl->total_frames / tl->rate : 0;
  r->n_sections = 0;
  for (int i = 0; i < tl->n_sections; ++i) {
    sg_report_section *rs = &r->sections[r->n_sections++];
    snprintf(rs->name, sizeof rs->name, "%s", tl->sections[i].name);
    sg_key k;
    rs->tonic = -1;
    if (sg_section_key_name(s, i, &k, rs->key, sizeof rs->key)) {
      rs->tonic = k.tonic;
      rs->mode = (int)k.mode;
    }
    rs->start_bar = (int)tl->sections[i].start_bar + 1;
    rs->end_bar = (int)(tl->sections[i].start_bar + tl->sections[i].bars);
    rs->start_s = tl->sections[i].start_sec;
    rs->end_s = tl->sections[i].end_sec;
  }
  free(r->bar_s);
  r->bar_s = NULL;
  r->n_bars = 0;
  if (tl->total_bars > 0 && tl->rate) {
    r->bar_s = malloc((size_t)(tl->total_bars + 1) * sizeof *r->bar_s);
    if (!r->bar_s)
      return SG_E_NOMEM;
    r->n_bars = (int)tl->total_bars;
    for (int b = 0; b <= r->n_bars; ++b)
      r->bar_s[b] = (double)sg_timeline_bar_frame(tl, b) / tl->rate;
  }
  return SG_OK;
}

sg_status sg_report_set_keys(sg_report *r, const sg_key_track *kt) {
  free(r->keys);
  r->keys = NULL;
  r->n_keys = 0;
  if (!kt || kt->n == 0 || r->n_sections == 0)
    return SG_OK;
  r->keys = calloc(kt->n, sizeof *r->keys);
  if (!r->keys)
    return SG_E_NOMEM;
  r->n_keys = kt->n;
  for (size_t i = 0; i < kt->n; ++i) {
    sg_report_keywin *w = &r->keys[i];
    double c = kt->center_s[i];
    /* each window drawn over the half-way points to its neighbours' centres */
    double prev = i > 0 ? kt->center_s[i - 1] : c - (kt->n > 1 ? kt->center_s[1] - c : 1);
    double next = i + 1 < kt->n ? kt->center_s[i + 1] : c + (c - prev);
    w->t0 = (prev + c) / 2;
    w->t1 = (c + next) / 2;
    snprintf(w->est, sizeof w->est, "%s", sg_keyfit_name(kt->key[i].tonic, kt->key[i].minor));
    int si = r->n_sections - 1;
    for (int k = 0; k < r->n_sections; ++k)
      if (c < r->sections[k].end_s) {
        si = k;
        break;
      }
    const sg_report_section *sec = &r->sections[si];
    snprintf(w->expected, sizeof w->expected, "%s", sec->key);
    w->agrees = sg_report_key_agrees(kt->key[i].tonic, kt->key[i].minor, sec->tonic, sec->mode);
  }
  return SG_OK;
}

sg_status sg_report_set_notes(sg_report_stem *rs, const sg_note_list *nl, unsigned rate) {
  free(rs->notes);
  rs->notes = NULL;
  rs->n_notes = 0;
  if (!nl || nl->n == 0 || !rate)
    return SG_OK;
  rs->notes = malloc(nl->n * sizeof *rs->notes);
  if (!rs->notes)
    return SG_E_NOMEM;
  for (size_t i = 0; i < nl->n; ++i) {
    rs->notes[i].start_s = (double)nl->v[i].start / rate;
    rs->notes[i].length_s = (double)nl->v[i].length / rate;
    rs->notes[i].key = nl->v[i].key;
    rs->notes[i].velocity = nl->v[i].velocity;
  }
  rs->n_notes = nl->n;
  return SG_OK;
}
