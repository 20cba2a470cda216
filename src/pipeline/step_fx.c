/* Step 5, effects: each stem's chain (EQ, dynamics with sidechain, tempo-synced delay, reverb,
 * ...), gain and pan, written as the delivered stem and judged by the shared file checks
 * (include/stemgate/gate.h) on what the writer's tap measured, plus the effect evidence and,
 * with a reference, the sync against it. */
#include "pipeline_internal.h"

#include "stemgate/fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const sg__stem *find_stem(const sg__run *r, const char *name) {
  for (int i = 0; i < r->n_stems; ++i)
    if (!strcasecmp(r->stems[i].name, name))
      return &r->stems[i];
  return NULL;
}

/* The sidechain source of a stem: its own `sidechain`, else a compressor's `sidechain`. */
static const char *sidechain_of(const sg__stem *ss) {
  const sg_stem_spec *sp = ss->spec;
  if (sp->sidechain[0])
    return sp->sidechain;
  for (int i = 0; i < sp->n_effects; ++i) {
    const sg_param *p = sg_params_find(&sp->effects[i].params, "sidechain");
    if (p && p->text[0])
      return p->text;
  }
  return NULL;
}

const sg__stem *sg__sidechain_source(const sg__run *r, const sg__stem *ss, int *bad) {
  const char *name = sidechain_of(ss);
  const sg__stem *side = name ? find_stem(r, name) : NULL;
  *bad = name && (!side || side == ss);
  return *bad ? NULL : side;
}

/* Produce phase of a stem's effects (any thread): chain, gain and pan, or the cached file,
 * measured as it is written. */
static void produce_fx(sg__run *r, sg__stem *ss) {
  const sg_song *s = r->song;
  const sg_stem_spec *sp = ss->spec;
  sg_diag *d = &ss->produce_diag;
  sg_diag_clear(d);
  if (sg__fx_reuse(r, ss)) /* cache.c: up to date, nothing decoded */
    return;
  sg_stem_fx_job job;
  memset(&job, 0, sizeof job);
  job.dry_path = ss->dry;
  job.out_path = ss->final;
  job.fx = sp->effects;
  job.n_fx = sp->n_effects;
  job.spec_file = s->path;
  job.gain_db = sp->gain_db;
  job.pan = sp->pan;
  job.bpm = r->bpm;
  job.frames = r->tl.total_frames;
  sg_bext bext;
  sg__writer_config(r, ss->name, &job.wcfg, &bext);
  const char *side_name = sidechain_of(ss);
  const sg__stem *side = side_name ? find_stem(r, side_name) : NULL;
  if (side_name && (!side || side == ss)) {
    sg_diag_at(d, s->path, sp->pos.line, sp->pos.col);
    ss->produced =
        sg_diag_fail(d, SG_E_SPEC, "stem '%s': sidechain '%s' is not another stem of this song",
                     ss->name, side_name);
    return;
  }
  job.side_path = side ? side->dry : NULL;
  /* The key was computed by the node plan (nodes.c). */
  sg_status st = SG_OK;
  sg__probe p;
  memset(&p, 0, sizeof p);
  const unsigned mflags = SG_METER_LOUDNESS | SG_METER_TRUE_PEAK;
  const unsigned fflags = SG_FEAT_ONSET | SG_FEAT_ENERGY;
  if ((st = sg__probe_open(&p, s, mflags, fflags, d)) == SG_OK) {
    p.cancel = &r->cancel;
    job.wcfg.tap = sg__probe_tap;
    job.wcfg.tap_user = &p;
    st = sg_mix_stem_fx(&job, NULL, &ss->fx, d);
    if (st == SG_OK)
      st = sg__fx_hash(ss, d);
  }
  if (st == SG_OK)
    st = sg_features_finish(p.feat);
  if (st == SG_OK) {
    ss->meter = p.meter;
    ss->feat = p.feat;
  } else {
    sg__probe_close(&p);
  }
  ss->produced = st;
}

/* delay_echo: a tempo-synced delay must be heard. The effect adds self-similarity to the stem's
 * envelope at the delay's lag; measured as the rise of the echo prominence from the dry stem to
 * the wet one, so the song's own rhythm (which also repeats at note-value lags) cancels. */
static sg_status delay_gates(sg__run *r, const sg__stem *ss, sg_diag *d) {
  const sg_song *s = r->song;
  const sg_stem_spec *sp = ss->spec;
  sg_status st = SG_OK;
  for (int i = 0; st == SG_OK && i < sp->n_effects; ++i) {
    if (strcmp(sp->effects[i].type.s, "delay") != 0)
      continue;
    const sg_param *t = sg_params_find(&sp->effects[i].params, "time");
    const sg_param *mx = sg_params_find(&sp->effects[i].params, "mix");
    int num = 1, den = 8;
    double lag_s;
    if (t && !t->is_num && sg_note_value_parse(t->text, &num, &den) == SG_OK)
      lag_s = sg_note_value_frames(num, den, r->bpm, s->sample_rate) / s->sample_rate;
    else if (t && t->is_num)
      lag_s = t->num / 1000.0;
    else
      lag_s = sg_note_value_frames(1, 8, r->bpm, s->sample_rate) / s->sample_rate;
    sg_echo_result wet, dry;
    if (ss->dry_feat && sg_echo_at_lag(ss->feat, lag_s, 0.02, &wet) == SG_OK &&
        sg_echo_at_lag(ss->dry_feat, lag_s, 0.02, &dry) == SG_OK) {
      int audible = !mx || mx->num >= 0.15;
      char detail[96];
      snprintf(detail, sizeof detail, "lag %.1f ms: dry %.3f -> wet %.3f", lag_s * 1000,
               dry.prominence, wet.prominence);
      st = sg__gate(r, SG_CHECK_DELAY_ECHO, "fx", ss->name, wet.prominence - dry.prominence,
                    SG_LIMIT_DEFAULT, 0, detail, audible ? SG_SEV_FAIL : SG_SEV_INFO, d);
    }
  }
  return st;
}

/* Judge phase of a stem's effects (in stem order): the delivered stem's gates. */
static sg_status judge_fx(sg__run *r, sg__stem *ss, sg_diag *d) {
  sg__log(r, "  %s", ss->name);
  const sg_song *s = r->song;
  if (ss->produced != SG_OK) {
    *d = ss->produce_diag;
    return ss->produced;
  }
  sg_meter_result_get(ss->meter, &ss->final_meter);
  sg_audio_reader *rd = NULL;
  sg_status st = sg_audio_reader_open(&rd, ss->final, &ss->final_info, d);
  if (st != SG_OK)
    return st;
  sg_audio_reader_close(rd);
  sg_gate_report *g = &r->res->gates;
  /* Header as on disk, then content as the tap measured it on the way there. */
  st = sg_check_file_format(g, "fx", ss->name, s, &ss->final_info, d);
  sg__flush(r);
  if (st == SG_OK)
    st = sg__gate(r, SG_CHECK_LENGTH_FRAMES, "fx", ss->name, (double)ss->final_info.frames,
                  (double)r->tl.total_frames, 0, NULL, SG_SEV_FAIL, d);
  if (st == SG_OK && ss->final_meter.frames != ss->final_info.frames)
    st = sg__gate(r, SG_CHECK_LENGTH_FRAMES, "fx", ss->name, (double)ss->final_meter.frames,
                  (double)ss->final_info.frames, 0, "frames metered while written", SG_SEV_FAIL, d);
  if (st == SG_OK) {
    st = sg_check_file_content(g, "fx", ss->name, s, ss->meter, 0, d);
    sg__flush(r);
  }
  if (st == SG_OK && ss->fx.tail_cut_db > -200)
    sg__gate(r, SG_CHECK_TAIL_CUT, "fx", ss->name, ss->fx.tail_cut_db, 0, 0,
             "faded at the song end", SG_SEV_INFO, NULL);
  if (st == SG_OK)
    sg__gate(r, SG_CHECK_STEM_LOUDNESS, "fx", ss->name, ss->final_meter.integrated_lufs, 0, 0, NULL,
             SG_SEV_INFO, NULL);
  if (st == SG_OK) {
    st = sg_check_stem_activity(g, "fx", ss->name, s, &r->tl, ss->is_drums ? NULL : ss->spec,
                                ss->meter, ss->final_info.rate, ss->final_info.frames, d);
    sg__flush(r);
  }
  if (st == SG_OK)
    st = delay_gates(r, ss, d);
  sg_meter_free(ss->meter);
  sg_features_free(ss->feat);
  ss->meter = NULL;
  ss->feat = NULL;
  return st;
}

/* Judge phase of a stem's effects (in stem order), with the sync against a reference. */
static sg_status judge_fx_sync(sg__run *r, sg__stem *ss, sg_diag *d) {
  sg_status st = judge_fx(r, ss, d);
  if (st == SG_OK && r->has_ref) {
    sg_reference_sync sync;
    st = sg_reference_sync_check(&r->ref, r->song, ss->final, ss->name, 0, NULL, &sync,
                                 &r->res->gates, "fx", d);
    sg__flush(r);
  }
  return st;
}

/* The judge with node records around it (cache.c). */
sg_status sg__fx_judged(sg__run *r, sg__stem *ss, sg_diag *d) {
  return sg__fx_node_judge(r, ss, judge_fx_sync, d);
}

sg_status sg__step_fx(sg__run *r, sg_diag *d) {
  /* Every dry stem (sidechain sources included) exists; the chains are independent. */
  int todo[SG_MAX_STEMS + 1];
  for (int k = 0; k < r->n_stems; ++k)
    todo[k] = k;
  sg__log(r, "[5/7] effects");
  return sg__run_judged(r, produce_fx, sg__fx_judged, todo, r->n_stems, d);
}
