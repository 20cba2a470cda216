/* NOTES.txt: what a producer opening the package wants to know first (tempo, sections with
 * their keys and chords, the reference, each stem's instrument and chain, the master). */
#include "pipeline_internal.h"

#include "core/text.h"

#include "stemgate/synth.h"
#include "stemgate/theory.h"

#include <stdarg.h>
#include <stdio.h>

#include <stdlib.h>
#include <string.h>

/* NOTES.txt: what a producer opening the package wants to know first. */
/* Each line of a multi-line block (an effect chain's description), indented. */
static void indented(sg__text *t, const char *block, const char *indent) {
  while (*block) {
    const char *nl = strchr(block, '\n');
    int len = nl ? (int)(nl - block) : (int)strlen(block);
    if (len)
      sg__text_printf(t, "%s%.*s\n", indent, len, block);
    block += len + (nl ? 1 : 0);
  }
}

char *sg__notes_text(const sg__run *r) {
  const sg_song *s = r->song;
  sg__text t = {0};
  char t0[32], t1[32], key[48];
  sg__text_printf(&t, "%s\n", s->title);
  sg__text_printf(&t, "Rendered by stemgate %s from a spec with SHA-256 %s\n\n", sg_version(),
                  s->spec_sha256);
  sg__text_printf(&t, "Tempo %.6g BPM, meter %d/%d, %u Hz, %s, %u channel%s, %s (%lld frames)\n\n",
                  r->bpm, s->meter_num, s->meter_den, s->sample_rate,
                  sg_sample_format_name(s->format), s->channels, s->channels == 1 ? "" : "s",
                  sg_format_time((double)r->tl.total_frames / s->sample_rate, t0, sizeof t0),
                  (long long)r->tl.total_frames);
  if (r->tl.tempo_varies) {
    char map[1024];
    sg__text_printf(&t, "Tempo map (the tempo above is the first): %s\n\n",
                    sg_timeline_tempo_text(&r->tl, map, sizeof map));
  }
  if (r->tl.ending == SG_ENDING_RING)
    sg__text_printf(
        &t,
        "Ending: ring. The last section resolves on a final hit on the tonic at %s and rings "
        "out; every file runs %.3f s past the last bar (%s, %lld frames).\n\n",
        sg_format_time((double)r->tl.total_frames / s->sample_rate, t0, sizeof t0),
        (double)r->tl.ring_frames / s->sample_rate,
        sg_format_time((double)r->tl.file_frames / s->sample_rate, t1, sizeof t1),
        (long long)r->tl.file_frames);
  else if (r->tl.ending == SG_ENDING_FADE)
    sg__text_printf(&t, "Ending: fade over the last %d bar%s, from %s.\n\n", s->ending_fade_bars,
                    s->ending_fade_bars == 1 ? "" : "s",
                    sg_format_time((double)r->tl.fade_start_frame / s->sample_rate, t0, sizeof t0));
  else
    sg__text_printf(&t, "Ending: cut at the last bar line (20 ms fade).\n\n");
  sg__text_printf(
      &t, "SECTIONS (energy; the master's loudness, RMS and limiter gain reduction there)\n");
  for (int i = 0; i < r->tl.n_sections; ++i) {
    const sg_section_time *st = &r->tl.sections[i];
    sg_section_key_name(s, i, NULL, key, sizeof key);
    sg__text_printf(&t, "  %-12s bars %3lld-%-3lld  %s - %s  %s\n", st->name,
                    (long long)st->start_bar + 1, (long long)(st->start_bar + st->bars),
                    sg_format_time(st->start_sec, t0, sizeof t0),
                    sg_format_time(st->end_sec, t1, sizeof t1), key);
    sg__text_printf(&t, "               energy %s; %.1f LUFS, RMS %.1f dBFS, limiter %.1f dB\n",
                    s->sections[i].energy.s[0] ? s->sections[i].energy.s : "normal", r->sec_lufs[i],
                    r->sec_rms_db[i], r->master_rep.section_gr_db[i]);
    for (int k = 0; k < r->n_stems; ++k)
      if (!r->stems[k].is_drums && r->stems[k].comp.section_chords[i][0]) {
        sg__text_printf(&t, "               chords: %s\n", r->stems[k].comp.section_chords[i]);
        break;
      }
    if (st->snapped_start || st->snapped_end)
      sg__text_printf(&t, "               snapped to bars: start %+.3f s, end %+.3f s\n",
                      st->snap_error_start_sec, st->snap_error_end_sec);
  }
  if (r->has_ref) {
    char desc[1024];
    sg__text_printf(&t, "\nREFERENCE\n%s\n", sg_reference_describe(&r->ref, desc, sizeof desc));
  }
  sg__text_printf(&t, "\nSTEMS\n");
  for (int k = 0; k < r->n_stems; ++k) {
    const sg__stem *ss = &r->stems[k];
    const sg_stem_spec *sp = ss->is_drums ? NULL : ss->spec;
    sg__text_printf(&t, "  %s  (%s)\n", ss->name, ss->archive);
    if (ss->source == SG__SRC_REFERENCE)
      sg__text_printf(&t, "    source: the reference track (%s)\n", r->ref.fit_desc);
    else
      sg__text_printf(&t, "    instrument: %s; style %s, role %s, %zu notes%s\n", ss->instrument,
                      sg_style_name(ss->comp.style), sg_role_name(ss->comp.role), ss->comp.notes,
                      ss->comp.from_midi ? " (from the stem's MIDI file)" : "");
    if (ss->source != SG__SRC_REFERENCE && !ss->comp.from_midi) {
      sg_synth_kind kind;
      const char *w = sg_synth_kind_from_name(ss->spec->instrument.s, &kind) == SG_OK
                          ? sg_synth_words(kind, ss->spec->patch.s)
                          : "";
      if (w[0])
        sg__text_printf(&t, "    %s\n", w);
    }
    const sg_stem_spec *pl = ss->is_drums ? ss->spec : sp;
    if (pl && pl->n_sections) {
      sg__text_printf(&t, "    %s:", pl->tacet ? "sits out" : "plays in");
      for (int i = 0; i < pl->n_sections; ++i)
        sg__text_printf(&t, " %s", pl->sections[i].s);
      sg__text_printf(&t, "\n");
    }
    sg__text_printf(&t, "    gain %+.1f dB, pan %+.2f; loudness %.1f LUFS, true peak %.1f dBTP\n",
                    ss->spec->gain_db, ss->spec->pan, ss->final_meter.integrated_lufs,
                    ss->final_meter.true_peak_dbtp);
    if (ss->fx.chain[0]) {
      sg__text_printf(&t, "    effects:\n");
      indented(&t, ss->fx.chain, "      ");
    } else {
      sg__text_printf(&t, "    effects: none\n");
    }
    if (ss->fx.tail_cut_db > -200)
      sg__text_printf(&t, "    effect tail at the song end (peak %.1f dBFS) faded over %d ms\n",
                      ss->fx.tail_cut_db, SG_MIX_END_FADE_MS);
    if (ss->midi[0])
      sg__text_printf(&t, "    MIDI: midi/%s\n",
                      strrchr(ss->midi, '/') ? strrchr(ss->midi, '/') + 1 : ss->midi);
  }
  sg__text_printf(&t, "\nMASTER  (%s)\n", r->master_archive);
  indented(&t, r->master_rep.chain, "    ");
  sg__text_printf(
      &t,
      "    loudness %.2f LUFS (target %.1f +- %.1f), true peak %.2f dBTP (ceiling %.1f), "
      "LRA %.1f LU\n",
      r->master_meter.integrated_lufs, s->master.loudness_lufs, s->master.loudness_tolerance,
      r->master_meter.true_peak_dbtp, s->master.true_peak_dbtp, r->master_meter.loudness_range_lu);
  sg__text_printf(&t, "    limiter gain reduction: %.1f dB on average, %.1f dB at most\n",
                  r->master_rep.limiter_mean_gr_db, r->master_rep.limiter_max_gr_db);
  sg__text_printf(&t,
                  "    stems sum to the master's input; the master adds bus processing, loudness\n"
                  "    normalisation and true-peak limiting.\n");
  size_t fails = 0;
  for (size_t i = 0; i < r->res->gates.n; ++i)
    fails += !r->res->gates.v[i].pass && r->res->gates.v[i].required;
  sg__text_printf(&t, "\nGATES\n    %zu checks, %zu failed; every row is in manifest.json.\n",
                  r->res->gates.n, fails);
  if (t.oom) {
    free(t.s);
    return NULL;
  }
  return t.s;
}
