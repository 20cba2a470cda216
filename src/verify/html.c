/* report.html of a verified package (stemgate verify --report): the spec's grid and keys, the
 * files verify matched read once more through the report's envelope (the master also through
 * the key track's chroma), the MIDI files the package carries, and verify's own rows. Verify
 * has freed its decoders by then; this read is the report's price and happens only when asked. */
#include "verify_internal.h"

#include "stemgate/compose.h"
#include "stemgate/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 4096

/* One matched file streamed through a trace (and, for the master, the chroma features). */
static sg_status read_file(sg__vpkg *p, const char *entry, int master, sg_report_wave *w,
                           sg_features **feat, sg_diag *d) {
  size_t i = 0;
  while (i < p->n && strcmp(p->names[i], entry))
    ++i;
  if (i == p->n)
    return SG_OK;
  sg__vaudio a;
  sg_audio_info info;
  sg_status st = sg__vpkg_open_audio(p, i, &a, &info, d);
  if (st != SG_OK)
    return st;
  sg_trace_config tc = {info.channels, info.rate, info.frames, 0, master};
  sg_trace *t = NULL;
  float *buf = malloc((size_t)BLOCK * info.channels * sizeof *buf);
  if (!buf)
    st = SG_E_NOMEM;
  if (st == SG_OK)
    st = sg_trace_create(&t, &tc, d);
  if (st == SG_OK && master) {
    sg_features_config fc;
    sg_features_config_init(&fc);
    fc.flags = SG_FEAT_CHROMA;
    st = sg_features_create(feat, info.channels, info.rate, &fc, d);
  }
  size_t got = 1;
  while (st == SG_OK && got > 0) {
    st = sg_audio_reader_read(sg__vaudio_reader(&a), buf, BLOCK, &got, d);
    if (st == SG_OK && got > 0)
      st = sg_trace_add(t, buf, got);
    if (st == SG_OK && got > 0 && master)
      st = sg_features_add(*feat, buf, got);
  }
  if (st == SG_OK && master)
    st = sg_features_finish(*feat);
  if (st == SG_OK)
    st = sg_report_wave_from(w, t);
  sg_trace_free(t);
  free(buf);
  sg__vaudio_close(&a);
  return st;
}

/* The package's MIDI file of a stem ("midi/<anything>_<stem>.mid" or "<stem>.mid"). */
static void read_midi(sg__vpkg *p, const char *stem, const sg_timeline *tl, sg_report_stem *rs) {
  char safe[SG_MAX_NAME], tail[SG_MAX_NAME + 8];
  sg_package_safe_name(stem, safe, sizeof safe);
  snprintf(tail, sizeof tail, "%s.mid", safe);
  for (size_t i = 0; i < p->n; ++i) {
    const char *n = p->names[i];
    size_t ln = strlen(n), lt = strlen(tail);
    if (ln < lt || strcmp(n + ln - lt, tail) ||
        (ln > lt && n[ln - lt - 1] != '_' && n[ln - lt - 1] != '/'))
      continue;
    char *buf = NULL;
    size_t len = 0;
    sg_status st;
    if (p->is_zip) {
      st = sg_zip_reader_read_all(p->zip, sg_zip_reader_entry(p->zip, i), 1u << 24, &buf, &len,
                                  NULL);
    } else {
      char full[SG_MAX_PATH + 300];
      snprintf(full, sizeof full, "%s/%s", p->dir, n);
      FILE *f = fopen(full, "rb");
      st = SG_E_IO;
      if (f && (buf = malloc(1u << 24)) != NULL) {
        len = fread(buf, 1, 1u << 24, f);
        st = SG_OK;
      }
      if (f)
        fclose(f);
    }
    sg_note_list nl;
    sg_notes_init(&nl);
    if (st == SG_OK &&
        sg_midi_decode((const uint8_t *)buf, len, tl, SG_MIDI_MAP_GRID, &nl, NULL, NULL) == SG_OK)
      sg_report_set_notes(rs, &nl, tl->rate);
    sg_notes_free(&nl);
    free(buf);
    return;
  }
}

static sg_status gather(const sg_song *song, const sg_verify_result *vr, sg_report *rep,
                        sg_diag *d) {
  sg_timeline tl;
  sg_status st = sg_timeline_build(song, &tl, d);
  if (st != SG_OK)
    return st;
  if ((st = sg_report_from_song(rep, song, &tl, 0)) != SG_OK)
    return st;
  snprintf(rep->grid_note, sizeof rep->grid_note,
           "The grid against a reference is drawn per bar in a render's report; verify's sync "
           "and tempo rows are in the table below.");
  rep->failed = vr->report.failed > 0 || !vr->package_readable;
  if (rep->failed)
    snprintf(rep->failure, sizeof rep->failure, "verify: %zu required checks failed in '%s'",
             vr->report.failed, vr->package);
  if ((st = sg_gate_report_append(&rep->gates, &vr->report)) != SG_OK)
    return st;
  sg__vpkg p;
  memset(&p, 0, sizeof p);
  if (!vr->package_readable || sg__vpkg_open(&p, vr->package, NULL) != SG_OK)
    return SG_OK; /* nothing to draw but the rows */
  sg_features *feat = NULL;
  for (int k = 0; k < vr->n_files && st == SG_OK; ++k) {
    const sg_verify_file *f = &vr->files[k];
    if (!f->entry[0] || !f->readable)
      continue;
    if (f->is_master) {
      sg_features_free(feat);
      feat = NULL;
      st = read_file(&p, f->entry, 1, &rep->master, &feat, d);
      continue;
    }
    if (rep->n_stems >= SG_MAX_STEMS + 1)
      break;
    sg_report_stem *rs = &rep->stems[rep->n_stems++];
    snprintf(rs->name, sizeof rs->name, "%s", f->stem);
    snprintf(rs->instrument, sizeof rs->instrument, "%s", f->entry);
    rs->drums = !strcmp(f->stem, "Drums");
    st = read_file(&p, f->entry, 0, &rs->wave, NULL, d);
    read_midi(&p, f->stem, &tl, rs);
  }
  if (st == SG_OK && feat) {
    sg_key_track kt;
    sg_key_track_config kc;
    sg_key_track_config_init(&kc);
    if (sg_key_track_compute(feat, &kc, &kt) == SG_OK) {
      st = sg_report_set_keys(rep, &kt);
      sg_key_track_free(&kt);
    }
  }
  sg_features_free(feat);
  sg__vpkg_close(&p);
  return st;
}

sg_status sg_verify_to_html(const sg_song *song, const sg_verify_result *vr, const char *path,
                            sg_diag *d) {
  sg_report *rep = malloc(sizeof *rep);
  if (!rep)
    return sg_diag_fail(d, SG_E_NOMEM, "report: out of memory");
  sg_report_init(rep);
  sg_status st = gather(song, vr, rep, d);
  if (st == SG_OK)
    st = sg_report_write_html(rep, path, d);
  else if (st == SG_E_NOMEM)
    sg_diag_fail(d, st, "report: out of memory reading '%s'", vr->package);
  sg_report_free(rep);
  free(rep);
  return st;
}
