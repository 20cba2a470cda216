/* Step 5, effects: each stem's chain (EQ, dynamics with sidechain, tempo-synced delay, reverb,
 * ...), gain and pan, written as the delivered stem and judged by the shared file checks
 * (include/stemgate/gate.h) on what the writer's tap measured, plus the effect evidence and,
 * with a reference, the sync against it. */
#include "pipeline_internal.h"

#include "stemgate/fx.h"

#include <math.h>
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
  job.frames = r->tl.file_frames;
  job.fade_frames = r->tl.file_frames - r->tl.fade_start_frame; /* the fade ending, if any */
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
  if (st == SG_OK)
    st = sg__fxv_open(r, sp->effects, sp->n_effects, &ss->fxv, d);
  if (st == SG_OK && (st = sg__probe_open(&p, s, mflags, fflags, d)) == SG_OK) {
    p.cancel = &r->cancel;
    job.wcfg.tap = sg__probe_tap;
    job.wcfg.tap_user = &p;
    job.fx_tap = sg__fxv_tap;
    job.fx_tap_user = ss->fxv;
    st = sg_mix_stem_fx(&job, NULL, &ss->fx, d);
    sg__fxv_finish(ss->fxv);
    if (st == SG_OK)
      st = sg__fx_hash(ss, d);
  }
  st = sg__probe_hand_over(&p, ss, st);
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
    sg__fxv_free(ss->fxv);
    ss->fxv = NULL;
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
                  (double)r->tl.file_frames, 0, NULL, SG_SEV_FAIL, d);
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
  if (st == SG_OK)
    st = sg__fxv_rows(r, "fx", ss->name, ss->spec->effects, ss->fxv, d);
  sg__fxv_free(ss->fxv);
  ss->fxv = NULL;
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

/* ---- effect verification: probes and in-situ rows ------------------------------------------
 * Every effect of a chain (each stem, the drums, the master bus) gets probe rows (the configured
 * unit on known signals, src/fx/fx_probe.c) and in-situ rows (its own input and output in the
 * chain, through the chain's tap, src/analysis/insitu.c). Probes are a pure function of (effect,
 * rate, tempo) and are cached in work/fxprobe/<sha256 of those>.bin; the in-situ results of a
 * cached stem are kept next to them under the stem's final cache key. */

#define FXV_VERSION "fxprobe 1"

static void fxv_path(const sg__run *r, const char *name, char *out, size_t cap) {
  char dir[SG_MAX_PATH];
  sg__join(dir, sizeof dir, r->work, "fxprobe");
  sg__join(out, cap, dir, name);
}

static int blob_load(const char *path, void *p, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  int ok = fread(p, 1, n, f) == n && fgetc(f) == EOF;
  fclose(f);
  return ok;
}

/* Written under a temporary name and renamed: two stems with the same effect may race. */
static void blob_store(const char *path, const void *p, size_t n) {
  char tmp[SG_MAX_PATH + 32];
  snprintf(tmp, sizeof tmp, "%s.%p.tmp", path, (const void *)&tmp);
  FILE *f = fopen(tmp, "wb");
  if (!f)
    return;
  int ok = fwrite(p, 1, n, f) == n;
  ok = fclose(f) == 0 && ok;
  if (!ok || rename(tmp, path) != 0)
    remove(tmp);
}

static sg_status probe_cached(sg__run *r, const sg_effect_spec *e, sg_fx_probe_result *out,
                              int *cached, sg_diag *d) {
  const sg_song *s = r->song;
  sg_sha256 h;
  char hex[65], line[SG_MAX_NAME * 4];
  sg_sha256_init(&h);
  int l = snprintf(line, sizeof line, "%s|%s|%u|%.17g|%s\n", FXV_VERSION, sg_version(),
                   s->sample_rate, r->bpm, e->type.s);
  sg_sha256_update(&h, line, (size_t)l);
  for (int i = 0; i < e->params.n; ++i) {
    l = snprintf(line, sizeof line, "%s:%s\n", e->params.v[i].key, e->params.v[i].text);
    sg_sha256_update(&h, line, (size_t)l);
  }
  sg_sha256_final(&h, hex);
  char name[80], path[SG_MAX_PATH];
  snprintf(name, sizeof name, "%s.bin", hex);
  fxv_path(r, name, path, sizeof path);
  *cached = !r->opt->force && blob_load(path, out, sizeof *out);
  if (*cached)
    return SG_OK;
  sg_status st = sg_fx_probe(e, s->sample_rate, r->bpm, out, d);
  if (st == SG_OK)
    blob_store(path, out, sizeof *out);
  return st;
}

sg_status sg__fxv_open(sg__run *r, const sg_effect_spec *fx, int n, sg__fxv **out, sg_diag *d) {
  const sg_song *s = r->song;
  *out = NULL;
  sg__fxv *v = calloc(1, sizeof *v);
  if (!v || !(v->side_buf = malloc(4 * SG_MIX_BLOCK * sizeof(float)))) {
    free(v);
    return sg_diag_fail(d, SG_E_NOMEM, "fx verification: out of memory");
  }
  char dir[SG_MAX_PATH];
  sg__join(dir, sizeof dir, r->work, "fxprobe");
  sg_status st = sg_mkdirs(dir, d);
  v->n = n;
  for (int i = 0; st == SG_OK && i < n; ++i) {
    sg_fx_design *ds = &v->design[i];
    if ((st = sg_fx_design_get(&fx[i], s->sample_rate, r->bpm, ds, d)) != SG_OK ||
        (st = probe_cached(r, &fx[i], &v->probe[i], &v->probe_cached[i], d)) != SG_OK)
      break;
    sg_insitu_config c;
    memset(&c, 0, sizeof c);
    c.rate = s->sample_rate;
    c.mix = ds->mix;
    const char *t = ds->type;
    if (!strcmp(t, "eq")) {
      c.kind = SG_INSITU_TRANSFER;
      c.n_freqs = ds->n_probe_hz;
      memcpy(c.freqs, ds->probe_hz, sizeof ds->probe_hz);
    } else if (!strcmp(t, "compressor")) {
      c.kind = SG_INSITU_DYNAMICS;
      c.threshold_db = ds->comp.threshold_db, c.ratio = ds->comp.ratio;
      c.knee_db = ds->comp.knee_db, c.attack_ms = ds->comp.attack_ms;
      c.release_ms = ds->comp.release_ms, c.makeup_db = ds->comp.makeup_db;
      c.rms = ds->comp.detector == SG_DETECT_RMS, c.rms_ms = ds->comp.rms_ms;
      /* The sidechain as the spec names it, read here on its own: the reference the wiring is
       * judged against, not whatever the chain was fed. */
      const sg__stem *side = ds->sidechain[0] ? find_stem(r, ds->sidechain) : NULL;
      sg_audio_info info;
      if (side && (st = sg_audio_reader_open(&v->side[i], side->dry, &info, d)) != SG_OK)
        break;
      v->side_ch[i] = side ? info.channels : 0;
    } else if (!strcmp(t, "saturation")) {
      c.kind = SG_INSITU_SHAPER;
      c.drive_db = ds->sat.drive_db, c.asym = ds->sat.asym, c.output_db = ds->sat.output_db;
    } else if (!strcmp(t, "width") || !strcmp(t, "pan") || !strcmp(t, "gain")) {
      c.kind = SG_INSITU_LEVEL;
    } else if (!strcmp(t, "limiter")) {
      c.kind = SG_INSITU_PEAK;
    } else {
      c.kind = SG_INSITU_WET;
    }
    if ((st = sg_insitu_create(&v->acc[i], &c)) != SG_OK)
      sg_diag_fail(d, st, "fx verification: in-situ measurement of effect %d: %s", i + 1,
                   sg_status_message(st));
  }
  if (st != SG_OK) {
    sg__fxv_free(v);
    return st;
  }
  *out = v;
  return SG_OK;
}

void sg__fxv_tap(void *user, int effect, const float *inL, const float *inR, const float *outL,
                 const float *outR, const float *sideL, const float *sideR, size_t n) {
  sg__fxv *v = user;
  (void)sideL, (void)sideR;
  if (effect < 0 || effect >= v->n || !v->acc[effect])
    return;
  const float *sl = NULL, *sr = NULL;
  if (v->side[effect] && n <= SG_MIX_BLOCK) {
    size_t got = 0;
    unsigned ch = v->side_ch[effect];
    float *ib = v->side_buf, *L = v->side_buf + 2 * SG_MIX_BLOCK, *R = L + SG_MIX_BLOCK;
    if (sg_audio_reader_read(v->side[effect], ib, n, &got, NULL) != SG_OK)
      got = 0;
    for (size_t k = 0; k < n; ++k) {
      L[k] = k < got ? ib[k * ch] : 0.0f;
      R[k] = k < got ? ib[k * ch + (ch > 1)] : 0.0f;
    }
    sl = L, sr = R;
  }
  sg_insitu_add(v->acc[effect], inL, inR, outL, outR, sl, sr, n);
}

void sg__fxv_finish(sg__fxv *v) {
  for (int i = 0; v && i < v->n; ++i) {
    if (v->acc[i]) {
      v->has_insitu[i] = sg_insitu_result_get(v->acc[i], &v->insitu[i]) == SG_OK;
      sg_insitu_free(v->acc[i]);
      v->acc[i] = NULL;
    }
    sg_audio_reader_close(v->side[i]);
    v->side[i] = NULL;
  }
}

void sg__fxv_free(sg__fxv *v) {
  if (!v)
    return;
  for (int i = 0; i < v->n; ++i) {
    sg_insitu_free(v->acc[i]);
    sg_audio_reader_close(v->side[i]);
  }
  free(v->side_buf);
  free(v);
}

static const sg_check_id k_probe_check[SG_FXQ_COUNT_] = {
    [SG_FXQ_RESPONSE] = SG_CHECK_FX_EQ_RESPONSE,
    [SG_FXQ_COMP_CURVE] = SG_CHECK_FX_COMP_CURVE,
    [SG_FXQ_COMP_TIME] = SG_CHECK_FX_COMP_TIME,
    [SG_FXQ_RT60] = SG_CHECK_FX_REVERB_RT60,
    [SG_FXQ_PREDELAY] = SG_CHECK_FX_REVERB_PREDELAY,
    [SG_FXQ_LAG] = SG_CHECK_FX_DELAY_LAG,
    [SG_FXQ_FEEDBACK] = SG_CHECK_FX_DELAY_FEEDBACK,
    [SG_FXQ_MOD_RATE] = SG_CHECK_FX_MOD_RATE,
    [SG_FXQ_THD] = SG_CHECK_FX_SAT_THD,
    [SG_FXQ_LEVEL] = SG_CHECK_FX_LEVEL,
    [SG_FXQ_CEILING] = SG_CHECK_FX_LIMITER_CEILING,
    [SG_FXQ_WET_GAIN] = SG_CHECK_FX_WET_GAIN,
};

static const char *k_probe_unit[SG_FXQ_COUNT_] = {"dB", "dB", "ms", "s",  "ms",   "frames",
                                                  "dB", "Hz", "dB", "dB", "dBTP", "dB"};

static double wet_gain_of(const sg_fx_probe_result *p) {
  for (int k = 0; k < p->n; ++k)
    if (p->m[k].q == SG_FXQ_WET_GAIN)
      return p->m[k].measured;
  return 0;
}

sg_status sg__fxv_rows(sg__run *r, const char *step, const char *stem, const sg_effect_spec *fx,
                       const sg__fxv *v, sg_diag *d) {
  if (!v)
    return SG_OK;
  const double rate = r->song->sample_rate;
  sg_status st = SG_OK;
  char det[256], at[64];
  for (int i = 0; i < v->n; ++i) {
    const sg_fx_design *ds = &v->design[i];
    snprintf(at, sizeof at, "effect %d (%s, line %d)", i + 1, ds->type, fx[i].pos.line);
    /* Probe: the unit against its design. */
    for (int k = 0; k < v->probe[i].n; ++k) {
      const sg_fx_measure *m = &v->probe[i].m[k];
      const sg_check_id id = k_probe_check[m->q];
      const char *u = k_probe_unit[m->q];
      const int rel = m->q == SG_FXQ_COMP_TIME || m->q == SG_FXQ_RT60 || m->q == SG_FXQ_MOD_RATE;
      /* Whether the probe came from the cache is not said: a package must not depend on it. */
      snprintf(det, sizeof det, "probe %s %s: measured %.4g %s, design %.4g %s", at, m->what,
               m->measured, u, m->expected, u);
      sg_status s2;
      if (m->q == SG_FXQ_WET_GAIN)
        s2 = sg__gate(r, id, step, stem, m->measured, 0, 0, det, SG_SEV_INFO, d);
      else if (m->q == SG_FXQ_CEILING)
        s2 = sg__gate(r, id, step, stem, m->measured, m->expected, 0, det, SG_SEV_FAIL, d);
      else if (rel)
        s2 = sg__gate(r, id, step, stem,
                      m->measured > 0 ? 100.0 * (m->measured - m->expected) / m->expected : -100,
                      SG_LIMIT_DEFAULT, 0, det, SG_SEV_FAIL, d);
      else
        s2 = sg__gate(r, id, step, stem, m->measured, SG_LIMIT_DEFAULT, m->expected, det,
                      SG_SEV_FAIL, d);
      if (st == SG_OK)
        st = s2;
    }
    /* In situ: the effect's own input and output in the chain, on the music. */
    const sg_insitu_result *q = &v->insitu[i];
    sg_status s2 = SG_OK;
    if (!v->has_insitu[i]) {
      snprintf(det, sizeof det, "in situ %s: not measured (cached stem without its record)", at);
      sg__gate(r, SG_CHECK_FX_INSITU_WET, step, stem, 0, 0, 0, det, SG_SEV_INFO, NULL);
      continue;
    }
    if (q->in_energy <= 0) {
      snprintf(det, sizeof det, "in situ %s: the effect's input is silent", at);
      sg__gate(r, SG_CHECK_FX_INSITU_WET, step, stem, 0, 0, 0, det, SG_SEV_INFO, NULL);
      continue;
    }
    if (!strcmp(ds->type, "eq")) {
      for (int k = 0; k < ds->n_probe_hz; ++k) {
        double want = fmax(sg_eq_magnitude_db(&ds->eq, rate, ds->probe_hz[k]), -80);
        int judged = q->coherence[k] >= 0.9 && q->in_db[k] > -100;
        snprintf(det, sizeof det,
                 "in situ %s at %.4g Hz: transfer %.3f dB, design %.3f dB, coherence %.3f, input "
                 "%.0f dB%s",
                 at, ds->probe_hz[k], q->mag_db[k], want, q->coherence[k], q->in_db[k],
                 judged ? "" : " (not judged: coherence < 0.9 or no input there)");
        s2 = sg__gate(r, SG_CHECK_FX_INSITU_TRANSFER, step, stem, fmax(q->mag_db[k], -80),
                      SG_LIMIT_DEFAULT, want, det, judged ? SG_SEV_FAIL : SG_SEV_INFO, d);
        if (st == SG_OK)
          st = s2;
      }
    } else if (!strcmp(ds->type, "compressor")) {
      snprintf(det, sizeof det,
               "in situ %s: measured vs design gain reduction over %zu blocks (mean %.2f dB, "
               "max %.2f dB)%s%s",
               at, q->blocks, q->gr_mean_db, q->gr_max_db, ds->sidechain[0] ? ", keyed by " : "",
               ds->sidechain);
      st = st == SG_OK ? sg__gate(r, SG_CHECK_FX_INSITU_DYNAMICS, step, stem, q->gr_err_rms_db,
                                  SG_LIMIT_DEFAULT, 0, det, SG_SEV_FAIL, d)
                       : st;
      if (ds->sidechain[0]) {
        snprintf(det, sizeof det,
                 "in situ %s: gain reduction correlates %.3f with %s's envelope, %.3f with its "
                 "own input's",
                 at, q->corr_side, ds->sidechain, q->corr_own);
        s2 = sg__gate(r, SG_CHECK_FX_INSITU_SIDECHAIN, step, stem, q->corr_side - q->corr_own,
                      SG_LIMIT_DEFAULT, 0, det, SG_SEV_FAIL, d);
        if (st == SG_OK)
          st = s2;
      }
    } else if (!strcmp(ds->type, "saturation")) {
      snprintf(det, sizeof det, "in situ %s: output level against the drive curve on the input",
               at);
      s2 = sg__gate(r, SG_CHECK_FX_INSITU_SHAPER, step, stem, q->shaper_db, SG_LIMIT_DEFAULT, 0,
                    det, SG_SEV_FAIL, d);
    } else if (!strcmp(ds->type, "limiter")) {
      snprintf(det, sizeof det, "in situ %s: true peak of the limiter's output", at);
      s2 = sg__gate(r, SG_CHECK_FX_INSITU_PEAK, step, stem, q->true_peak_dbtp, ds->ceiling_dbtp, 0,
                    det, SG_SEV_FAIL, d);
    } else if (!strcmp(ds->type, "width")) {
      snprintf(det, sizeof det, "in situ %s: side level change (mid %.3f dB)", at, q->mid_db);
      s2 = sg__gate(r, SG_CHECK_FX_INSITU_LEVEL, step, stem, q->side_db, SG_LIMIT_DEFAULT,
                    20 * log10(fmax(ds->width, 1e-6)), det, SG_SEV_FAIL, d);
    } else if (!strcmp(ds->type, "pan") || !strcmp(ds->type, "gain")) {
      snprintf(det, sizeof det, "in situ %s: left channel level change (right %.3f dB)", at,
               q->right_db);
      s2 = sg__gate(r, SG_CHECK_FX_INSITU_LEVEL, step, stem, q->left_db, SG_LIMIT_DEFAULT,
                    20 * log10(ds->gain_l), det, SG_SEV_FAIL, d);
      if (s2 == SG_OK) {
        snprintf(det, sizeof det, "in situ %s: right channel level change", at);
        s2 = sg__gate(r, SG_CHECK_FX_INSITU_LEVEL, step, stem, q->right_db, SG_LIMIT_DEFAULT,
                      20 * log10(ds->gain_r), det, SG_SEV_FAIL, d);
      }
    } else {
      const double m = ds->mix;
      const int judged = m > 1e-3 && m < 0.999;
      const double want = judged ? 20 * log10(m / (1 - m)) + wet_gain_of(&v->probe[i]) : 0;
      snprintf(
          det, sizeof det,
          "in situ %s: wet/dry energy %.2f dB, expected %.2f dB (mix %.3g, wet gain %.2f dB)%s", at,
          q->wet_dry_db, want, m, wet_gain_of(&v->probe[i]),
          judged ? "" : " (not judged: mix 0 or 1)");
      s2 = sg__gate(r, SG_CHECK_FX_INSITU_WET, step, stem, q->wet_dry_db, SG_LIMIT_DEFAULT, want,
                    det, judged ? SG_SEV_FAIL : SG_SEV_INFO, d);
    }
    if (st == SG_OK)
      st = s2;
  }
  sg__flush(r);
  return st;
}
