/* Step 6, master: the stems summed with headroom, bus processing, loudness normalisation and a
 * true-peak limiter (src/mix), written and measured on the way to disk, then judged by the same
 * master checks verify runs (include/stemgate/gate.h): level, tempo, keys, and each stem's
 * length against the master. */
#include "pipeline_internal.h"

#include <stdio.h>
#include <string.h>

sg_status sg__master_run(sg__run *r, sg_diag *d) {
  const sg_song *s = r->song;
  sg__log(r, "[6/7] master");
  const char *paths[SG_MAX_STEMS + 1];
  for (int i = 0; i < r->n_stems; ++i)
    paths[i] = r->stems[i].final;
  sg_master_job job;
  memset(&job, 0, sizeof job);
  job.stem_paths = paths;
  job.n_stems = r->n_stems;
  job.out_path = r->master_path;
  job.bus_fx = s->master.effects;
  job.n_bus_fx = s->master.n_effects;
  job.spec_file = s->path;
  job.target_lufs = s->master.loudness_lufs;
  job.tolerance_lu = s->master.loudness_tolerance;
  job.ceiling_dbtp = s->master.true_peak_dbtp;
  job.headroom_db = s->master.headroom_db;
  job.bpm = r->bpm;
  job.frames = r->tl.total_frames;
  sg_bext bext;
  sg__writer_config(r, SG__MASTER_NAME, &job.wcfg, &bext);
  sg__probe p;
  sg__fxv *fxv = NULL;
  sg_status st = sg__probe_open(&p, s, SG_METER_ALL, SG_FEAT_ALL, d);
  if (st == SG_OK)
    st = sg__fxv_open(r, NULL, s->master.effects, s->master.n_effects, &fxv, d);
  sg_trace_config tc = {s->channels, s->sample_rate, r->tl.total_frames, 0, 1};
  if (st == SG_OK)
    st = sg_trace_create(&p.trace, &tc, d);
  if (st == SG_OK) {
    sg__probe_progress(&p, r, "master", SG__MASTER_NAME);
    job.wcfg.tap = sg__probe_tap;
    job.wcfg.tap_user = &p;
    job.fx_tap = sg__fxv_tap; /* the bus effects' own input and output, final pass */
    job.fx_tap_user = fxv;
    st = sg_mix_master(&job, NULL, &r->master_rep, d);
    sg__fxv_finish(fxv);
  }
  if (st != SG_OK) {
    sg__fxv_free(fxv);
    sg__probe_close(&p);
    return st;
  }
  sg_features_finish(p.feat);
  sg_meter_result_get(p.meter, &r->master_meter);
  /* What report.html draws of the master: kept from the tap, nothing decoded again. */
  sg_trace_free(r->master_trace);
  r->master_trace = p.trace;
  p.trace = NULL;
  sg_key_track_config kc;
  sg_key_track_config_init(&kc);
  if (!r->has_key_track && sg_key_track_compute(p.feat, &kc, &r->key_track) == SG_OK)
    r->has_key_track = 1;
  const char *M = SG__MASTER_NAME;
  sg_gate_report *g = &r->res->gates;
  sg__gate(r, SG_CHECK_BUS_LOUDNESS, "master", M, r->master_rep.bus_lufs, 0, 0, NULL, SG_SEV_INFO,
           NULL);
  sg__gate(r, SG_CHECK_LIMITER_GAIN_REDUCTION, "master", M, r->master_rep.limiter_max_gr_db, 0, 0,
           NULL, SG_SEV_INFO, NULL);
  sg__gate(r, SG_CHECK_LIMITER_CEILING, "master", M, r->master_rep.ceiling_dbtp, 0, 0, NULL,
           SG_SEV_INFO, NULL);
  sg_audio_info info;
  sg_audio_reader *rd = NULL;
  if ((st = sg_audio_reader_open(&rd, r->master_path, &info, d)) != SG_OK)
    goto out;
  sg_audio_reader_close(rd);
  if ((st = sg_check_file_format(g, "master", M, s, &info, d)) != SG_OK)
    goto out;
  sg__flush(r);
  if ((st = sg__gate(r, SG_CHECK_LENGTH_FRAMES, "master", M, (double)r->master_meter.frames,
                     (double)r->tl.total_frames, 0, NULL, SG_SEV_FAIL, d)) != SG_OK)
    goto out;
  if ((st = sg_check_file_content(g, "master", M, s, p.meter, 0, d)) != SG_OK)
    goto out;
  /* Each stem against the master and the master against the song, as verify measures them. */
  st = sg_check_master_duration(g, "master", s, &r->tl, info.frames, info.rate,
                                sg_check_get(SG_CHECK_DURATION)->limit, d);
  for (int k = 0; st == SG_OK && k < r->n_stems; ++k)
    st = sg_check_stem_length(g, "master", r->stems[k].name, s, r->stems[k].final_info.frames,
                              r->stems[k].final_info.rate, info.frames, info.rate, d);
  if (st == SG_OK)
    st = sg_check_master_level(g, "master", s, &r->tl, p.meter, info.rate, d);
  sg__flush(r);
  if (st != SG_OK)
    goto out;
  sg__gate(r, SG_CHECK_LOUDNESS_RANGE, "master", M, r->master_meter.loudness_range_lu, 0, 0, NULL,
           SG_SEV_INFO, NULL);
  /* Tempo, as a listener's beat tracker hears it, and the key of every key region. */
  st = sg_check_master_tempo(g, "master", s, p.feat, r->bpm, d);
  sg__flush(r);
  if (st != SG_OK)
    goto out;
  st = sg_check_master_keys(g, "master", s, &r->tl, p.feat, d);
  sg__flush(r);
  if (st != SG_OK)
    goto out;
  /* Effects are audible on the master: a measurable decay tail at the end. */
  sg_decay_config dc;
  sg_decay_config_init(&dc);
  sg_decay_result dr;
  if (sg_decay_tail(p.feat, &dc, &dr) == SG_OK)
    sg__gate(r, SG_CHECK_DECAY_TAIL, "master", M, dr.rt60_s, 0, 0, NULL, SG_SEV_INFO, NULL);
  /* The bus effects against their designs: probes and in situ (only these rows are fx's). */
  if ((st = sg__fxv_rows(r, "master", M, s->master.effects, fxv, d)) != SG_OK)
    goto out;
  if (r->has_ref) {
    sg_reference_sync sync;
    st = sg_reference_sync_check(&r->ref, s, r->master_path, M, 1, NULL, &sync, g, "master", d);
    sg__flush(r);
  }
out:
  sg__fxv_free(fxv);
  sg__flush(r);
  sg__probe_close(&p);
  return st;
}
