/* Step 5, effects: each stem's chain (EQ, dynamics with sidechain, tempo-synced delay, reverb,
 * ...), gain and pan, written as the delivered stem and judged by the shared file checks
 * (include/stemgate/gate.h) on what the writer's tap measured, plus the effect evidence and,
 * with a reference, the sync against it. */
#include "pipeline_internal.h"

#include "stemgate/dsp.h"
#include "stemgate/fx.h"

#include <math.h>
#include <pthread.h>
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

static int has_delay_fx(const sg_stem_spec *sp) {
  for (int i = 0; i < sp->n_effects; ++i)
    if (!strcmp(sp->effects[i].type.s, "delay"))
      return 1;
  return 0;
}

/* The chain, gain and pan of a stem written as its delivered file, measured by the probe p as it
 * is written (p is left for fx_finish); the dry stem from its file, or from ring as it is
 * rendered. Touches ss's effects fields only (fxv, fx, fx_node), never what its dry judge reads. */
static sg_status fx_render(sg__run *r, sg__stem *ss, sg__probe *p, sg__ring *ring, sg_diag *d) {
  const sg_song *s = r->song;
  const sg_stem_spec *sp = ss->spec;
  memset(p, 0, sizeof *p);
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
  sg__tempo_follow(r, &job.tempo_at, &job.tempo_user, &job.tempo_min_bpm);
  job.frames = r->tl.file_frames;
  job.fade_frames = r->tl.file_frames - r->tl.fade_start_frame; /* the fade ending, if any */
  sg_bext bext;
  sg__writer_config(r, ss->name, &job.wcfg, &bext);
  const char *side_name = sidechain_of(ss);
  const sg__stem *side = side_name ? find_stem(r, side_name) : NULL;
  if (side_name && (!side || side == ss)) {
    sg_diag_at(d, s->path, sp->pos.line, sp->pos.col);
    return sg_diag_fail(d, SG_E_SPEC, "stem '%s': sidechain '%s' is not another stem of this song",
                        ss->name, side_name);
  }
  job.side_path = side ? side->dry : NULL;
  if (ring) {
    job.dry_read = sg__ring_read;
    job.dry_user = ring;
  }
  /* The key was computed by the node plan (nodes.c). */
  sg_status st = SG_OK;
  const unsigned mflags = SG_METER_LOUDNESS | SG_METER_TRUE_PEAK;
  /* The onset envelope for the final verification's sync rows (lent by the file's hash from
   * its sidecar, lend.c: the mean of the two channels the tap's features derive is bit for bit
   * the alignment copy verify would make); the energy envelope for the delay gates. */
  const unsigned fflags = SG_FEAT_ONSET | (has_delay_fx(sp) ? SG_FEAT_ENERGY : 0);
  if (st == SG_OK)
    st = sg__fxv_open(r, ss->name, sp->effects, sp->n_effects, &ss->fxv, d);
  sg_trace_config tc = {s->channels, s->sample_rate, r->tl.file_frames, 0, 0};
  if (st == SG_OK && (st = sg__probe_open(p, s, mflags, fflags, d)) == SG_OK &&
      (st = sg_trace_create(&p->trace, &tc, d)) == SG_OK) {
    p->cancel = &r->cancel;
    sg__probe_progress(p, r, "effects", ss->name);
    job.wcfg.tap = sg__probe_tap;
    job.wcfg.tap_user = p;
    job.fx_tap = sg__fxv_tap;
    job.fx_tap_user = ss->fxv;
    sg__relay *relay = NULL; /* the taps on the idle core (tap_relay.c) */
    if ((ss->alone || ss->tail) &&
        sg__relay_start(&relay, job.wcfg.tap, job.wcfg.tap_user, job.wcfg.bext_final,
                        job.wcfg.channels, job.fx_tap, job.fx_tap_user) == SG_OK) {
      job.wcfg.tap = sg__relay_writer_tap;
      if (job.wcfg.bext_final)
        job.wcfg.bext_final = sg__relay_bext_final;
      job.fx_tap = sg__relay_fx_tap;
      job.wcfg.tap_user = job.fx_tap_user = relay;
    }
    st = sg_mix_stem_fx(&job, NULL, &ss->fx, d);
    sg_status rst = sg__relay_finish(relay);
    if (st == SG_OK && rst != SG_OK)
      st = sg_diag_fail(d, rst, "effects of '%s': measuring the written stem failed", ss->name);
    sg__fxv_finish(ss->fxv);
    if (st == SG_OK)
      st = sg__fx_hash(ss, d);
  }
  return st;
}

/* After fx_render, on the stem once its dry judge is done: the probe's measurements handed
 * over, the onset envelope lent, the status the judge reads. */
static void fx_finish(sg__run *r, sg__stem *ss, sg__probe *p, sg_status st) {
  st = sg__probe_hand_over(p, ss, st);
  ss->produced = st;
  if (st != SG_OK)
    return;
  if (ss->fx_hash) /* lent once the file's hash is known (sg__fx_settle) */
    ss->fx_lend = 1;
  else
    sg__fx_lend(r, ss, 0);
}

void sg__fx_lend(sg__run *r, sg__stem *ss, int judged) {
  ss->fx_lend = 0;
  if (ss->fx_node.nf >= 1) {
    /* Written now, so the envelope does not wait in memory for the package step; a stem taken
     * from the cache next run lends it too. A failure only costs the lending. */
    char lp[SG_MAX_PATH + 64];
    sg__lend_path(r, ss, lp, sizeof lp);
    if (sg__lend_write(lp, ss->fx_node.fsha[0], ss->meter, ss->feat) != SG_OK)
      remove(lp);
  }
  if (judged) { /* its judge is done: nothing reads them any more */
    sg_meter_free(ss->meter);
    ss->meter = NULL;
  }
  if (judged || !has_delay_fx(ss->spec)) { /* else its delay gates read them */
    sg_features_free(ss->feat);
    ss->feat = NULL;
  }
}

/* A stem's effects rendered beside its dry stem (fuse.c): the thread, what it measured, and its
 * status and message until the effects' produce phase takes them. */
struct sg__fused {
  pthread_t th;
  sg__run *r;
  sg__stem *ss;
  sg__ring *ring;
  sg__probe p;
  sg_status st;
  sg_diag d;
};

static void *fused_run(void *arg) {
  sg__fused *f = arg;
  sg_dsp_denormals_off();
  /* The other stems' dry files it reads (its sidechain, the keys its verification tries) are
   * checked or rendered by their own first phases: read only once those are done. */
  f->st = sg__run_wait_dry(f->r, f->ss)
              ? fx_render(f->r, f->ss, &f->p, f->ring, &f->d)
              : sg_diag_fail(&f->d, SG_E_INTERNAL, "effects of '%s': cancelled", f->ss->name);
  sg__ring_abandon(f->ring); /* a dry render still writing no longer waits for it */
  return NULL;
}

sg_status sg__fx_fused_start(sg__run *r, sg__stem *ss, sg__ring *ring) {
  sg__fused *f = calloc(1, sizeof *f);
  if (!f)
    return SG_E_NOMEM;
  f->r = r;
  f->ss = ss;
  f->ring = ring;
  sg_diag_clear(&f->d);
  if (pthread_create(&f->th, NULL, fused_run, f) != 0) {
    free(f);
    return SG_E_INTERNAL;
  }
  ss->fused = f;
  return SG_OK;
}

void sg__fx_fused_join(sg__stem *ss, int keep) {
  sg__fused *f = ss->fused;
  if (!f)
    return;
  pthread_join(f->th, NULL);
  ss->fused = NULL;
  if (keep) {
    ss->produce_diag = f->d;
    fx_finish(f->r, ss, &f->p, f->st);
  } else {
    sg__probe_close(&f->p);
  }
  sg__ring_free(f->ring);
  free(f);
}

/* Produce phase of a stem's effects (any thread): chain, gain and pan, or the cached file,
 * measured as it is written; or, rendered beside its dry stem, what that thread made. */
void sg__fx_produce(sg__run *r, sg__stem *ss) {
  sg_diag *d = &ss->produce_diag;
  if (ss->fused) { /* the log is the caller's: the judge's thread says it (sg__fx_judged) */
    sg__fx_fused_join(ss, 1);
    ss->fused_done = 1;
    return;
  }
  sg_diag_clear(d);
  if (sg__fx_reuse(r, ss)) /* cache.c: up to date, nothing decoded */
    return;
  sg__probe p;
  const sg_status st = fx_render(r, ss, &p, NULL, d);
  fx_finish(r, ss, &p, st);
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
    int num = 1, den = 8, synced = !(t && t->is_num);
    if (t && !t->is_num && sg_note_value_parse(t->text, &num, &den) != SG_OK)
      num = 1, den = 8;
    double lag_s = synced ? sg_note_value_frames(num, den, r->bpm, s->sample_rate) / s->sample_rate
                          : t->num / 1000.0;
    sg_echo_result wet, dry;
    int have = ss->dry_feat && sg_echo_at_lag(ss->feat, lag_s, 0.02, &wet) == SG_OK &&
               sg_echo_at_lag(ss->dry_feat, lag_s, 0.02, &dry) == SG_OK;
    char where[80] = "";
    if (synced && r->tl.tempo_varies && ss->dry_feat) {
      /* A tempo map: the delay follows it, so its echo is looked for in each steady stretch of
       * 6 s or more at that stretch's lag; the clearest one is the row (a stem may sit out some).
       */
      int whole = have;
      have = 0;
      for (int k = 0; k < r->tl.n_tempo; ++k) {
        const sg_tempo_segment *g = &r->tl.tempo[k];
        int64_t end = k + 1 < r->tl.n_tempo ? r->tl.tempo[k + 1].start_bar : r->tl.total_bars;
        double t0 = (double)sg_timeline_bar_frame(&r->tl, g->start_bar) / s->sample_rate;
        double t1 = (double)sg_timeline_bar_frame(&r->tl, end) / s->sample_rate;
        if (g->ramp_bars || t1 - t0 < 6.0)
          continue;
        double bpm = (double)g->tempo_num / (double)g->tempo_den, l;
        l = sg_note_value_frames(num, den, bpm, s->sample_rate) / s->sample_rate;
        sg_features *fw = NULL, *fd = NULL;
        sg_echo_result a, b;
        if (sg_features_slice(ss->feat, t0, t1, &fw) == SG_OK &&
            sg_features_slice(ss->dry_feat, t0, t1, &fd) == SG_OK &&
            sg_echo_at_lag(fw, l, 0.02, &a) == SG_OK && sg_echo_at_lag(fd, l, 0.02, &b) == SG_OK &&
            (!have || a.prominence - b.prominence > wet.prominence - dry.prominence)) {
          wet = a, dry = b, lag_s = l, have = 1;
          snprintf(where, sizeof where, " (bars %lld-%lld at %.6g BPM)",
                   (long long)g->start_bar + 1, (long long)end, bpm);
        }
        sg_features_free(fw);
        sg_features_free(fd);
      }
      if (!have && whole) /* no steady stretch long enough: the whole stem at the first tempo */
        have = sg_echo_at_lag(ss->feat, lag_s, 0.02, &wet) == SG_OK &&
               sg_echo_at_lag(ss->dry_feat, lag_s, 0.02, &dry) == SG_OK;
    }
    if (have) {
      int audible = !mx || mx->num >= 0.15;
      char detail[160];
      snprintf(detail, sizeof detail, "lag %.1f ms%s: dry %.3f -> wet %.3f", lag_s * 1000, where,
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
  if (!ss->fx_lend) { /* else lent first, then freed (sg__fx_settle) */
    sg_meter_free(ss->meter);
    sg_features_free(ss->feat);
    ss->meter = NULL;
    ss->feat = NULL;
  }
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
  if (ss->fused_done)
    sg__log(r, "  fx %s: rendered beside its dry stem", ss->name);
  return sg__fx_node_judge(r, ss, judge_fx_sync, d);
}

int sg__fx_needs_all_dry(const sg__run *r, const sg__stem *ss) {
  (void)r;
  return ss->source == SG__SRC_REFERENCE || sidechain_of(ss) != NULL;
}

/* ---- effect verification: probes and in-situ rows ------------------------------------------
 * Every effect of a chain (each stem, the drums, the master bus) gets probe rows (the configured
 * unit on known signals, src/fx/fx_probe.c) and in-situ rows (its own input and output in the
 * chain, through the chain's tap, src/analysis/insitu.c). Probes are a pure function of (effect,
 * rate, tempo) and are cached in work/fxprobe/<sha256 of those>.bin; the in-situ results of a
 * cached stem are kept next to them under the stem's final cache key. */

#define FXV_VERSION "fxprobe 2 " SG__CACHE_EPOCH

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

/* The probe's wet gain: the first (independent channels) or the second (mono) measurement. */
static double wet_gain_of(const sg_fx_probe_result *p, int mono) {
  for (int k = 0; k < p->n; ++k)
    if (p->m[k].q == SG_FXQ_WET_GAIN && mono-- == 0)
      return p->m[k].measured;
  return 0;
}

void sg__fxv_insitu_config(const sg_fx_design *ds, const sg_fx_probe_result *p, double rate,
                           sg_insitu_config *c) {
  memset(c, 0, sizeof *c);
  c->rate = rate;
  c->mix = ds->mix;
  const char *t = ds->type;
  if (!strcmp(t, "eq")) {
    c->kind = SG_INSITU_TRANSFER;
    c->n_freqs = ds->n_probe_hz;
    memcpy(c->freqs, ds->probe_hz, sizeof ds->probe_hz);
  } else if (!strcmp(t, "compressor")) {
    c->kind = SG_INSITU_DYNAMICS;
    c->threshold_db = ds->comp.threshold_db, c->ratio = ds->comp.ratio;
    c->knee_db = ds->comp.knee_db, c->attack_ms = ds->comp.attack_ms;
    c->release_ms = ds->comp.release_ms, c->makeup_db = ds->comp.makeup_db;
    c->rms = ds->comp.detector == SG_DETECT_RMS, c->rms_ms = ds->comp.rms_ms;
  } else if (!strcmp(t, "saturation")) {
    c->kind = SG_INSITU_SHAPER;
    c->drive_db = ds->sat.drive_db, c->asym = ds->sat.asym, c->output_db = ds->sat.output_db;
    c->dc_hz = SG_SATURATION_DC_HZ;
  } else if (!strcmp(t, "width") || !strcmp(t, "pan") || !strcmp(t, "gain")) {
    c->kind = SG_INSITU_LEVEL;
  } else if (!strcmp(t, "limiter")) {
    c->kind = SG_INSITU_PEAK;
  } else {
    c->kind = SG_INSITU_WET;
    c->wet_gain_db = wet_gain_of(p, 0);
    c->wet_gain_mono_db = wet_gain_of(p, 1);
    c->uncorrelated = !strcmp(t, "delay") || !strcmp(t, "reverb");
  }
}

/* Bench only (bench/README.md, #16): SG_BENCH_NO_FXVERIFY=1 leaves the effect verification out
 * so bench/loop.sh can time what it adds. Not a user option: a render without it reports fewer
 * rows, and its node records say so (use a fresh output folder or --force when comparing). */
static int fxv_disabled(void) {
  const char *e = getenv("SG_BENCH_NO_FXVERIFY");
  return e && *e && strcmp(e, "0") != 0;
}

/* A keyed compressor's candidate keys: the dry file of every stem but the keyed one and the
 * named sidechain, read alongside the chain like the sidechain itself. */
static sg_status open_keys(sg__run *r, sg__fxv *v, int i, const char *self, const sg__stem *side,
                           sg_diag *d) {
  int k = 0;
  for (int j = 0; j < r->n_stems && k < SG_INSITU_MAX_KEYS; ++j) {
    const sg__stem *o = &r->stems[j];
    if (o == side || (self && !strcasecmp(o->name, self)))
      continue;
    sg_audio_info info;
    sg_status st = sg_audio_reader_open(&v->key[i][k], o->dry, &info, d);
    if (st != SG_OK)
      return st;
    v->key_ch[i][k] = info.channels;
    v->key_name[i][k] = o->name;
    v->n_keys[i] = ++k;
  }
  if (k && !(v->key_buf[i] = malloc((size_t)k * 2 * SG_MIX_BLOCK * sizeof(float))))
    return sg_diag_fail(d, SG_E_NOMEM, "fx verification: out of memory");
  return SG_OK;
}

sg_status sg__fxv_open(sg__run *r, const char *self, const sg_effect_spec *fx, int n, sg__fxv **out,
                       sg_diag *d) {
  const sg_song *s = r->song;
  *out = NULL;
  if (fxv_disabled())
    return SG_OK;
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
    sg__fxv_insitu_config(ds, &v->probe[i], s->sample_rate, &c);
    if (c.kind == SG_INSITU_DYNAMICS && ds->sidechain[0]) {
      /* The sidechain as the spec names it, read here on its own: the reference the wiring is
       * judged against, not whatever the chain was fed; and the other stems it could have been. */
      const sg__stem *side = find_stem(r, ds->sidechain);
      sg_audio_info info;
      if (side && (st = sg_audio_reader_open(&v->side[i], side->dry, &info, d)) != SG_OK)
        break;
      v->side_ch[i] = side ? info.channels : 0;
      if (side && (st = open_keys(r, v, i, self, side, d)) != SG_OK)
        break;
      c.n_keys = v->n_keys[i];
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

/* n frames of a stem's dry file as planar L, R (zeros past its end or on a read error). */
static void read_planar(sg_audio_reader *rd, unsigned ch, float *ib, float *L, float *R, size_t n) {
  size_t got = 0;
  if (sg_audio_reader_read(rd, ib, n, &got, NULL) != SG_OK)
    got = 0;
  got = got < n ? got : n;
  const size_t r = ch > 1;
  for (size_t k = 0; k < got; ++k) {
    L[k] = ib[k * ch];
    R[k] = ib[k * ch + r];
  }
  for (size_t k = got; k < n; ++k)
    L[k] = R[k] = 0.0f;
}

void sg__fxv_tap(void *user, int effect, const float *inL, const float *inR, const float *outL,
                 const float *outR, const float *sideL, const float *sideR, size_t n) {
  sg__fxv *v = user;
  (void)sideL, (void)sideR;
  if (!v || effect < 0 || effect >= v->n || !v->acc[effect])
    return;
  const float *sl = NULL, *sr = NULL;
  const float *keys[2 * SG_INSITU_MAX_KEYS];
  int nk = 0;
  if (v->side[effect] && n <= SG_MIX_BLOCK) {
    float *ib = v->side_buf, *L = v->side_buf + 2 * SG_MIX_BLOCK, *R = L + SG_MIX_BLOCK;
    read_planar(v->side[effect], v->side_ch[effect], ib, L, R, n);
    sl = L, sr = R;
    nk = v->n_keys[effect];
    for (int j = 0; j < nk; ++j) {
      float *kL = v->key_buf[effect] + (size_t)j * 2 * SG_MIX_BLOCK, *kR = kL + SG_MIX_BLOCK;
      read_planar(v->key[effect][j], v->key_ch[effect][j], ib, kL, kR, n);
      keys[2 * j] = kL, keys[2 * j + 1] = kR;
    }
  }
  sg_insitu_add_keyed(v->acc[effect], inL, inR, outL, outR, sl, sr, keys, nk, n);
}

static void close_keys(sg__fxv *v, int i) {
  for (int j = 0; j < v->n_keys[i]; ++j) {
    sg_audio_reader_close(v->key[i][j]);
    v->key[i][j] = NULL;
  }
  free(v->key_buf[i]);
  v->key_buf[i] = NULL;
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
    close_keys(v, i);
  }
}

void sg__fxv_free(sg__fxv *v) {
  if (!v)
    return;
  for (int i = 0; i < v->n; ++i) {
    sg_insitu_free(v->acc[i]);
    sg_audio_reader_close(v->side[i]);
    close_keys(v, i);
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

/* One row: check, measured, limit (SG_LIMIT_DEFAULT: the table's), target, severity, detail. */
static sg__fxv_row *row_add(sg__fxv_row *rows, int *n, int cap, sg_check_id id, double m,
                            double limit, double target, sg_severity sev) {
  if (*n >= cap)
    return NULL;
  sg__fxv_row *w = &rows[(*n)++];
  w->id = id, w->measured = m, w->limit = limit, w->target = target, w->sev = sev;
  w->detail[0] = 0;
  return w;
}

int sg__fxv_probe_rows(const sg_fx_probe_result *p, const char *at, sg__fxv_row *rows, int cap) {
  int n = 0;
  for (int k = 0; k < p->n; ++k) {
    const sg_fx_measure *m = &p->m[k];
    const sg_check_id id = k_probe_check[m->q];
    const char *u = k_probe_unit[m->q];
    const int rel = m->q == SG_FXQ_COMP_TIME || m->q == SG_FXQ_RT60 || m->q == SG_FXQ_MOD_RATE;
    sg__fxv_row *w;
    if (m->q == SG_FXQ_WET_GAIN)
      w = row_add(rows, &n, cap, id, m->measured, 0, 0, SG_SEV_INFO);
    else if (m->q == SG_FXQ_CEILING)
      w = row_add(rows, &n, cap, id, m->measured, m->expected, 0, SG_SEV_FAIL);
    else if (rel)
      w = row_add(rows, &n, cap, id,
                  m->measured > 0 ? 100.0 * (m->measured - m->expected) / m->expected : -100,
                  SG_LIMIT_DEFAULT, 0, SG_SEV_FAIL);
    else
      w = row_add(rows, &n, cap, id, m->measured, SG_LIMIT_DEFAULT, m->expected, SG_SEV_FAIL);
    /* Whether the probe came from the cache is not said: a package must not depend on it. */
    if (w)
      snprintf(w->detail, sizeof w->detail, "probe %s %s: measured %.4g %s, design %.4g %s", at,
               m->what, m->measured, u, m->expected, u);
  }
  return n;
}

int sg__fxv_insitu_rows(const sg_fx_design *ds, const sg_insitu_result *q, double rate,
                        const char *at, const char *const *key_names, sg__fxv_row *rows, int cap) {
  int n = 0;
  sg__fxv_row *w;
  if (q->in_energy <= 0) {
    if ((w = row_add(rows, &n, cap, SG_CHECK_FX_INSITU_WET, 0, 0, 0, SG_SEV_INFO)))
      snprintf(w->detail, sizeof w->detail, "in situ %s: the effect's input is silent", at);
    return n;
  }
  if (!strcmp(ds->type, "eq")) {
    for (int k = 0; k < ds->n_probe_hz; ++k) {
      double want = fmax(sg_eq_magnitude_db(&ds->eq, rate, ds->probe_hz[k]), -80);
      int judged = q->coherence[k] >= 0.9 && q->in_db[k] > -100;
      if ((w = row_add(rows, &n, cap, SG_CHECK_FX_INSITU_TRANSFER, fmax(q->mag_db[k], -80),
                       SG_LIMIT_DEFAULT, want, judged ? SG_SEV_FAIL : SG_SEV_INFO)))
        snprintf(w->detail, sizeof w->detail,
                 "in situ %s at %.4g Hz: transfer %.3f dB, design %.3f dB, coherence %.3f, input "
                 "%.0f dB%s",
                 at, ds->probe_hz[k], q->mag_db[k], want, q->coherence[k], q->in_db[k],
                 judged ? "" : " (not judged: coherence < 0.9 or no input there)");
    }
  } else if (!strcmp(ds->type, "compressor")) {
    if ((w = row_add(rows, &n, cap, SG_CHECK_FX_INSITU_DYNAMICS, q->gr_err_rms_db, SG_LIMIT_DEFAULT,
                     0, SG_SEV_FAIL)))
      snprintf(w->detail, sizeof w->detail,
               "in situ %s: measured vs design gain reduction over %zu blocks (mean %.2f dB, "
               "max %.2f dB)%s%s",
               at, q->blocks, q->gr_mean_db, q->gr_max_db, ds->sidechain[0] ? ", keyed by " : "",
               ds->sidechain);
    if (ds->sidechain[0]) {
      /* The reduction must follow the key the spec names better than any other signal it could
       * have been fed: the own input, every other stem. */
      double other = q->corr_own;
      if (q->key_best >= 0 && q->corr_key[q->key_best] > other)
        other = q->corr_key[q->key_best];
      double cs = isnan(q->corr_side) ? 0 : q->corr_side;
      if ((w = row_add(rows, &n, cap, SG_CHECK_FX_INSITU_SIDECHAIN, cs - other, SG_LIMIT_DEFAULT, 0,
                       SG_SEV_FAIL)))
        snprintf(w->detail, sizeof w->detail,
                 "in situ %s: gain reduction correlates %.3f with the reduction %s predicts, "
                 "%.3f with its own input's, %.3f with the best other stem's (%s)",
                 at, cs, ds->sidechain, q->corr_own,
                 q->key_best >= 0 ? q->corr_key[q->key_best] : 0.0,
                 q->key_best >= 0 && key_names ? key_names[q->key_best] : "none");
    }
  } else if (!strcmp(ds->type, "saturation")) {
    if ((w = row_add(rows, &n, cap, SG_CHECK_FX_INSITU_SHAPER, q->shaper_db, SG_LIMIT_DEFAULT, 0,
                     SG_SEV_FAIL)))
      snprintf(w->detail, sizeof w->detail,
               "in situ %s: output level against the drive curve and DC blocker on the input", at);
  } else if (!strcmp(ds->type, "limiter")) {
    if ((w = row_add(rows, &n, cap, SG_CHECK_FX_INSITU_PEAK, q->true_peak_dbtp, ds->ceiling_dbtp, 0,
                     SG_SEV_FAIL)))
      snprintf(w->detail, sizeof w->detail, "in situ %s: true peak of the limiter's output", at);
  } else if (!strcmp(ds->type, "width")) {
    if ((w = row_add(rows, &n, cap, SG_CHECK_FX_INSITU_LEVEL, q->side_db, SG_LIMIT_DEFAULT,
                     20 * log10(fmax(ds->width, 1e-6)), SG_SEV_FAIL)))
      snprintf(w->detail, sizeof w->detail, "in situ %s: side level change (mid %.3f dB)", at,
               q->mid_db);
  } else if (!strcmp(ds->type, "pan") || !strcmp(ds->type, "gain")) {
    if ((w = row_add(rows, &n, cap, SG_CHECK_FX_INSITU_LEVEL, q->left_db, SG_LIMIT_DEFAULT,
                     20 * log10(ds->gain_l), SG_SEV_FAIL)))
      snprintf(w->detail, sizeof w->detail, "in situ %s: left channel level change", at);
    if ((w = row_add(rows, &n, cap, SG_CHECK_FX_INSITU_LEVEL, q->right_db, SG_LIMIT_DEFAULT,
                     20 * log10(ds->gain_r), SG_SEV_FAIL)))
      snprintf(w->detail, sizeof w->detail, "in situ %s: right channel level change", at);
  } else {
    const double m = ds->mix;
    const int judged = m > 1e-3 && m < 0.999;
    const double got = isnan(q->wet_mix) ? -1 : q->wet_mix;
    if ((w = row_add(rows, &n, cap, SG_CHECK_FX_INSITU_WET, got, SG_LIMIT_DEFAULT, m,
                     judged ? SG_SEV_FAIL : SG_SEV_INFO)))
      snprintf(w->detail, sizeof w->detail,
               "in situ %s: mix %.3f (wet/dry %.2f dB, dry coefficient %.3f%s), design mix %.3g "
               "(wet/dry %.2f dB)%s",
               at, got, q->wet_dry_db, q->dry_coef,
               strcmp(ds->type, "delay") && strcmp(ds->type, "reverb") ? ", with the wet gain" : "",
               m, judged ? 20 * log10(m / (1 - m)) : 0.0,
               judged ? "" : " (not judged: mix 0 or 1)");
  }
  return n;
}

sg_status sg__fxv_rows(sg__run *r, const char *step, const char *stem, const sg_effect_spec *fx,
                       const sg__fxv *v, sg_diag *d) {
  if (!v)
    return SG_OK;
  const double rate = r->song->sample_rate;
  sg_status st = SG_OK;
  char at[64];
  sg__fxv_row rows[SG_FX_PROBE_MAX + 8];
  for (int i = 0; i < v->n; ++i) {
    const sg_fx_design *ds = &v->design[i];
    snprintf(at, sizeof at, "effect %d (%s, line %d)", i + 1, ds->type, fx[i].pos.line);
    /* Probe: the unit against its design; in situ: the effect's own input and output in the
     * chain, on the music. */
    int n = sg__fxv_probe_rows(&v->probe[i], at, rows, SG_FX_PROBE_MAX + 8);
    if (v->has_insitu[i])
      n += sg__fxv_insitu_rows(ds, &v->insitu[i], rate, at, v->key_name[i], rows + n,
                               SG_FX_PROBE_MAX + 8 - n);
    else if (n < SG_FX_PROBE_MAX + 8) {
      sg__fxv_row *w =
          row_add(rows, &n, SG_FX_PROBE_MAX + 8, SG_CHECK_FX_INSITU_WET, 0, 0, 0, SG_SEV_INFO);
      snprintf(w->detail, sizeof w->detail,
               "in situ %s: not measured (cached stem without its record)", at);
    }
    for (int k = 0; k < n; ++k) {
      const sg__fxv_row *w = &rows[k];
      sg_status s2 = sg__gate(r, w->id, step, stem, w->measured, w->limit, w->target, w->detail,
                              w->sev, w->sev == SG_SEV_INFO ? NULL : d);
      if (st == SG_OK)
        st = s2;
    }
  }
  sg__flush(r);
  return st;
}
