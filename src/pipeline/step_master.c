/* Step 6, master: the stems summed with headroom, bus processing, loudness normalisation and a
 * true-peak limiter (src/mix), written and measured on the way to disk, then judged by the same
 * master checks verify runs (include/stemgate/gate.h): level, tempo, keys, and each stem's
 * length against the master. */
#include "pipeline_internal.h"

#include "report/trace_internal.h"
#include "stemgate/dsp.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each section of the written master measured on its own (BS.1770-4 integrated loudness and
 * RMS, stemgate's BS.1770 meter through sg_meter), on the writer's tap as the master streams to
 * disk: the sections are consecutive, so one section meter is alive at a time and nothing is read
 * back. */
/* The tap's work runs beside the writer: the writer's thread mixes, processes, limits and
 * writes, and two threads measure what it wrote (the meter, the trace and the sections; the
 * features), each taking every block in order, so every measurement sees the same samples in
 * the same order as a synchronous tap would and the results are the same bits (each of them is
 * block-size invariant). A queue of TQ slots between them; the writer's blocks are gathered into
 * a slot until it holds TQ_FRAMES, so the threads hand over a few hundred times a song, not
 * once per block (each hand-over is a wake-up and a context switch). */
#define TQ 4
#define TQ_FRAMES 16384
struct master_tap;
typedef struct measurer {
  struct master_tap *t;
  int c;
} measurer;

typedef struct master_tap {
  sg__probe p; /* first: sg__probe_bext reads the tap user as an sg__probe */
  sg__run *r;
  sg_meter *sec;
  int cur;     /* the section being metered */
  int64_t pos; /* frames tapped so far */
  unsigned channels;
  /* the queue */
  float *buf[TQ];
  size_t cap[TQ], n[TQ];
  size_t fill;        /* frames gathered in the head slot, not yet handed over */
  long head, tail[2]; /* blocks produced; blocks each measuring thread has taken */
  int closed, threads;
  sg_status st; /* the first measurement that failed */
  pthread_mutex_t lock;
  pthread_cond_t cond;
  pthread_t th[2];
  measurer m[2];
  unsigned fp_mode;
} master_tap;

static sg_status section_close(master_tap *t) {
  sg_meter_result mr;
  sg_status st = sg_meter_result_get(t->sec, &mr);
  if (st == SG_OK) {
    t->r->sec_lufs[t->cur] = mr.integrated_lufs;
    t->r->sec_rms_db[t->cur] = mr.rms_dbfs;
  }
  sg_meter_free(t->sec);
  t->sec = NULL;
  t->cur++;
  return st;
}

static sg_status sections_add(master_tap *t, const float *x, size_t n) {
  sg_status st = SG_OK;
  const sg_timeline *tl = &t->r->tl;
  while (st == SG_OK && n > 0 && t->cur < tl->n_sections) {
    const sg_section_time *sec = &tl->sections[t->cur];
    if (t->pos >= sec->end_frame) {
      st = t->sec ? section_close(t) : (t->cur++, SG_OK);
      continue;
    }
    size_t k = n;
    if (t->pos < sec->start_frame) { /* before the section (cannot happen: they are adjacent) */
      int64_t skip = sec->start_frame - t->pos;
      k = skip < (int64_t)n ? (size_t)skip : n;
    } else {
      if (!t->sec)
        st =
            sg_meter_create(&t->sec, t->channels, t->r->song->sample_rate, SG_METER_LOUDNESS, NULL);
      int64_t left = sec->end_frame - t->pos;
      if (left < (int64_t)k)
        k = (size_t)left;
      if (st == SG_OK)
        st = sg_meter_add(t->sec, x, k);
    }
    x += k * t->channels;
    n -= k;
    t->pos += (int64_t)k;
  }
  t->pos += (int64_t)n; /* the tail after the last section */
  return st;
}

/* What measuring thread c does with a block: 0 the meter (and the progress) and the trace, which
 * reads its short-term loudness and column true peaks from the meter's own K-weighting and
 * oversampling (sg__trace_add_metered: one pass over the master, not two), and the sections
 * (each section's meter K-weights from its own start, as verify would); 1 the features, the
 * larger share (on deja-vu ~340 ms of CPU against the rest's ~215 ms). */
static sg_status measure(master_tap *t, int c, const float *x, size_t n) {
  if (c == 0) {
    sg__probe m = t->p;
    m.feat = NULL;
    sg_status st = sg__probe_tap(&m, x, n);
    return st == SG_OK ? sections_add(t, x, n) : st;
  }
  return t->p.feat ? sg_features_add(t->p.feat, x, n) : SG_OK;
}

static void *measure_thread(void *arg) {
  measurer *m = arg;
  master_tap *t = m->t;
  const int c = m->c;
  sg_dsp_denormals_restore(t->fp_mode); /* measure under the writer's floating-point mode */
  for (;;) {
    pthread_mutex_lock(&t->lock);
    while (t->tail[c] == t->head && !t->closed)
      pthread_cond_wait(&t->cond, &t->lock);
    if (t->tail[c] == t->head) {
      pthread_mutex_unlock(&t->lock);
      return NULL;
    }
    const int k = (int)(t->tail[c] % TQ);
    const int failed = t->st != SG_OK;
    pthread_mutex_unlock(&t->lock);
    sg_status st = failed ? SG_OK : measure(t, c, t->buf[k], t->n[k]);
    pthread_mutex_lock(&t->lock);
    if (st != SG_OK && t->st == SG_OK)
      t->st = st;
    t->tail[c]++;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
  }
}

static void tap_start(master_tap *t) {
  pthread_mutex_init(&t->lock, NULL);
  pthread_cond_init(&t->cond, NULL);
  t->threads = 0;
  t->fp_mode = sg_dsp_denormals_off();
  sg_dsp_denormals_restore(t->fp_mode);
  for (int c = 0; c < 2; ++c) {
    t->m[c].t = t;
    t->m[c].c = c;
  }
  if (pthread_create(&t->th[0], NULL, measure_thread, &t->m[0]) != 0)
    return;
  if (pthread_create(&t->th[1], NULL, measure_thread, &t->m[1]) != 0) {
    t->closed = 1; /* both or none: the first ends on an empty queue */
    pthread_join(t->th[0], NULL);
    t->closed = 0;
    return;
  }
  t->threads = 2;
}

/* Waits until every block is measured and the threads have ended; safe to call twice. */
static sg_status tap_stop(master_tap *t) {
  if (t->threads) {
    pthread_mutex_lock(&t->lock);
    if (t->fill) { /* the last, partly filled slot */
      t->n[t->head % TQ] = t->fill;
      t->fill = 0;
      t->head++;
    }
    t->closed = 1;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
    for (int c = 0; c < t->threads; ++c)
      pthread_join(t->th[c], NULL);
    t->threads = 0;
  }
  return t->st;
}

static void tap_free(master_tap *t) {
  tap_stop(t);
  for (int k = 0; k < TQ; ++k)
    free(t->buf[k]);
  pthread_cond_destroy(&t->cond);
  pthread_mutex_destroy(&t->lock);
}

static sg_status master_tap_fn(void *user, const float *x, size_t n) {
  master_tap *t = user;
  if (!t->threads) { /* no threads could start: measure here */
    sg_status st = measure(t, 0, x, n);
    return st == SG_OK ? measure(t, 1, x, n) : st;
  }
  pthread_mutex_lock(&t->lock);
  while (t->st == SG_OK && !t->fill && (t->head - t->tail[0] >= TQ || t->head - t->tail[1] >= TQ))
    pthread_cond_wait(&t->cond, &t->lock);
  sg_status st = t->st;
  pthread_mutex_unlock(&t->lock);
  if (st != SG_OK)
    return st;
  const int k = (int)(t->head % TQ); /* both threads are done with this slot */
  const size_t at = t->fill * t->channels, len = n * t->channels;
  if (t->cap[k] < at + len) {
    size_t cap = at + len > TQ_FRAMES * t->channels ? at + len : TQ_FRAMES * t->channels;
    float *b = realloc(t->buf[k], (cap + SG_MIX_BLOCK * t->channels) * sizeof *b);
    if (!b)
      return SG_E_NOMEM;
    t->buf[k] = b;
    t->cap[k] = cap + SG_MIX_BLOCK * t->channels;
  }
  memcpy(t->buf[k] + at, x, len * sizeof *x);
  t->fill += n;
  if (t->fill < TQ_FRAMES)
    return SG_OK;
  pthread_mutex_lock(&t->lock);
  t->n[k] = t->fill;
  t->fill = 0;
  t->head++;
  pthread_cond_broadcast(&t->cond);
  pthread_mutex_unlock(&t->lock);
  return SG_OK;
}

/* What the master's writer measures, from nothing: the probe (meter, features, trace), the
 * sections and the queue, with its threads. */
static sg_status tap_open(master_tap *t, sg__run *r, sg_diag *d) {
  const sg_song *s = r->song;
  sg_status st = sg__probe_open(&t->p, s, SG_METER_ALL, SG_FEAT_ALL, d);
  memset((char *)t + sizeof t->p, 0, sizeof *t - sizeof t->p);
  t->r = r;
  t->channels = s->channels;
  tap_start(t);
  sg_trace_config tc = {s->channels, s->sample_rate, r->tl.file_frames, 0, 1};
  if (st == SG_OK)
    st = sg_trace_create(&t->p.trace, &tc, d);
  if (st == SG_OK)
    sg__probe_progress(&t->p, r, "master", SG__MASTER_NAME);
  return st;
}

static void tap_close(master_tap *t) {
  tap_free(t);
  sg_meter_free(t->sec);
  t->sec = NULL;
  sg__probe_close(&t->p);
}

/* sg_mix_master's restart: the first limited pass streamed to the writer was not accepted, its
 * file is gone; whatever the taps measured of it is dropped. */
static sg_status master_restart(void *user, sg_diag *d) {
  master_tap *t = user;
  sg__run *r = t->r;
  tap_close(t);
  sg_status st = tap_open(t, r, d);
  return st == SG_OK ? SG_OK : sg_diag_fail(d, st, "master: restarting the measurements failed");
}

/* sg_mix_master's measured: the tap's meter on the streamed pass, every block measured first. */
static sg_status master_measured(void *user, double *lufs, double *tp_dbtp, sg_diag *d) {
  master_tap *t = user;
  sg_meter_result mr;
  sg_status st = tap_stop(t);
  if (st == SG_OK)
    st = sg_meter_result_get(t->p.meter, &mr);
  if (st != SG_OK)
    return sg_diag_fail(d, st, "master: measuring the streamed pass failed");
  *lufs = mr.integrated_lufs;
  *tp_dbtp = mr.true_peak_dbtp;
  return SG_OK;
}

/* The bext chunk's loudness is written at close: every block measured first. */
static void master_bext(void *user, sg_bext *b) {
  master_tap *t = user;
  if (tap_stop(t) == SG_OK)
    sg__probe_bext(&t->p, b);
}

/* The sections still open when the master ends (the last one ends at the song's end). */
static sg_status sections_finish(master_tap *t, sg_diag *d) {
  const sg_timeline *tl = &t->r->tl;
  sg_status st = SG_OK;
  while (st == SG_OK && t->cur < tl->n_sections) {
    if (!t->sec && (st = sg_meter_create(&t->sec, t->channels, t->r->song->sample_rate,
                                         SG_METER_LOUDNESS, d)) != SG_OK)
      break;
    st = section_close(t);
  }
  return st == SG_OK ? SG_OK : sg_diag_fail(d, st, "master: section loudness failed");
}

/* Dynamics by section: each section's loudness and limiter gain reduction, the limiting over
 * the song, and the contrast between energies (the power mean of each energy's sections' RMS,
 * each energy against the next lower one present). */
static sg_status section_rows(sg__run *r, sg_diag *d) {
  const sg_song *s = r->song;
  const sg_timeline *tl = &r->tl;
  const char *M = SG__MASTER_NAME;
  sg_status st = SG_OK;
  double pw[3] = {0}, n[3] = {0};
  for (int i = 0; i < tl->n_sections; ++i) {
    char det[96];
    snprintf(det, sizeof det, "RMS %.2f dBFS", r->sec_rms_db[i]);
    sg__gate(r, SG_CHECK_SECTION_LOUDNESS, "master", tl->sections[i].name, r->sec_lufs[i], 0, 0,
             det, SG_SEV_INFO, NULL);
    if (st == SG_OK)
      st = sg__gate(r, SG_CHECK_LIMITER_GR, "master", tl->sections[i].name,
                    r->master_rep.section_gr_db[i], s->limits.limiter_gr_db, 0, NULL, SG_SEV_FAIL,
                    d);
    sg_energy e;
    if (sg_energy_from_name(s->sections[i].energy.s, &e) != SG_OK)
      e = SG_ENERGY_NORMAL;
    pw[e] += (double)(tl->sections[i].end_frame - tl->sections[i].start_frame) *
             pow(10.0, r->sec_rms_db[i] / 10.0);
    n[e] += (double)(tl->sections[i].end_frame - tl->sections[i].start_frame);
  }
  sg__gate(r, SG_CHECK_LIMITER_GR_MEAN, "master", M, r->master_rep.limiter_mean_gr_db,
           SG_LIMIT_DEFAULT, 0, NULL, SG_SEV_WARN, NULL);
  static const char *const names[3] = {"sparse", "normal", "full"};
  int lower = -1;
  for (int e = 0; e < 3; ++e) {
    if (n[e] <= 0)
      continue;
    if (lower >= 0) {
      double a = 10.0 * log10(pw[e] / n[e] + 1e-30), b = 10.0 * log10(pw[lower] / n[lower] + 1e-30);
      char who[64];
      snprintf(who, sizeof who, "%s-%s", names[e], names[lower]);
      sg__gate(r, SG_CHECK_SECTION_CONTRAST, "master", who, a - b, SG_LIMIT_DEFAULT, 0,
               "RMS of the higher energy's sections minus the lower's", SG_SEV_WARN, NULL);
    }
    lower = e;
  }
  return st;
}

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
  sg__tempo_follow(r, &job.tempo_at, &job.tempo_user, &job.tempo_min_bpm);
  job.frames = r->tl.file_frames;
  int64_t bounds[SG_MAX_SECTIONS + 1];
  for (int i = 0; i < r->tl.n_sections; ++i)
    bounds[i] = r->tl.sections[i].start_frame;
  bounds[r->tl.n_sections] = r->tl.total_frames;
  job.section_bounds = bounds;
  job.n_sections = r->tl.n_sections;
  sg_bext bext;
  sg__writer_config(r, SG__MASTER_NAME, &job.wcfg, &bext);
  /* The bus before the limiter, kept from an earlier master with the same key (the stems, the
   * bus effects and headroom, the grid, the limits): then only the limited passes run, and the
   * bus effects' rows are the ones its record holds, measured when it was rendered. */
  char bus_key[65], bus_rec[SG_MAX_PATH + 64];
  const char *bfiles[1] = {r->bus_path};
  sg__node_record_path(r, "bus", bus_rec, sizeof bus_rec);
  sg__node_free(&r->bus_node);
  sg__node_init(&r->bus_node, NULL);
  const int keep = sg__cache_key_bus(r, bus_key) == SG_OK;
  if (keep) {
    job.bus_path = r->bus_path;
    job.bus_reuse = !r->opt->force && sg__node_load(bus_rec, bus_key, bfiles, 1, &r->bus_node);
  }
  if (job.bus_reuse)
    sg__node_report(r, "master bus", 1); /* a part of the master's run: reported when reused */
  master_tap mt;
  sg__fxv *fxv = NULL;
  sg_status st = tap_open(&mt, r, d);
  sg__probe *const pp = &mt.p;
  if (st == SG_OK)
    st = sg__fxv_open(r, NULL, s->master.effects, s->master.n_effects, &fxv, d);
  if (st == SG_OK) {
    job.restart = master_restart; /* the first limited pass may stream to the writer */
    job.restart_user = &mt;
    job.measured = master_measured; /* and is then measured by the tap alone */
    job.wcfg.tap = master_tap_fn;
    job.wcfg.tap_user = &mt;
    job.wcfg.bext_final = master_bext;
    job.fx_tap = sg__fxv_tap; /* the bus effects' own input and output (the one bus pass) */
    job.fx_tap_user = fxv;
    st = sg_mix_master(&job, NULL, &r->master_rep, d);
    /* The written master hashed (SHA-256 and CRC-32: the node's, the manifest's and the zip
     * entry's) on a thread of its own while the gates below are judged. */
    if (st == SG_OK)
      st = sg__node_hash_crc_start(&r->master_node, r->master_path, &r->master_hash, d);
    sg__fxv_finish(fxv);
    if (st == SG_OK && !r->master_rep.bus_reused) { /* a new bus: its node, rows added below */
      sg__node_free(&r->bus_node);
      sg__node_init(&r->bus_node, bus_key);
      if (keep && r->master_rep.bus_sha256[0]) {
        snprintf(r->bus_node.fsha[0], sizeof r->bus_node.fsha[0], "%s", r->master_rep.bus_sha256);
        r->bus_node.nf = 1;
        sg__node_stat_note(&r->bus_node, 0, r->bus_path);
      }
    }
    sg_status mst = tap_stop(&mt);
    if (st == SG_OK && mst != SG_OK)
      st = sg_diag_fail(d, mst, "master: measuring the written master failed");
    if (st == SG_OK)
      st = sections_finish(&mt, d);
  }
  tap_free(&mt);
  sg_meter_free(mt.sec);
  if (st != SG_OK) {
    sg__fxv_free(fxv);
    sg__probe_close(pp);
    return st;
  }
  sg_features_finish(pp->feat);
  sg_meter_result_get(pp->meter, &r->master_meter);
  /* What report.html draws of the master: kept from the tap, nothing decoded again. */
  sg_trace_free(r->master_trace);
  r->master_trace = pp->trace;
  pp->trace = NULL;
  sg_key_track_config kc;
  sg_key_track_config_init(&kc);
  if (!r->has_key_track && sg_key_track_compute(pp->feat, &kc, &r->key_track) == SG_OK)
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
                     (double)r->tl.file_frames, 0, NULL, SG_SEV_FAIL, d)) != SG_OK)
    goto out;
  if ((st = sg_check_file_content(g, "master", M, s, pp->meter, 0, d)) != SG_OK)
    goto out;
  /* Each stem against the master and the master against the song, as verify measures them. */
  st = sg_check_master_duration(g, "master", s, &r->tl, info.frames, info.rate,
                                sg_check_get(SG_CHECK_DURATION)->limit, d);
  for (int k = 0; st == SG_OK && k < r->n_stems; ++k)
    st = sg_check_stem_length(g, "master", r->stems[k].name, s, r->stems[k].final_info.frames,
                              r->stems[k].final_info.rate, info.frames, info.rate, d);
  if (st == SG_OK)
    st = sg_check_master_level(g, "master", s, &r->tl, pp->meter, info.rate, d);
  sg__flush(r);
  if (st != SG_OK)
    goto out;
  sg__gate(r, SG_CHECK_LOUDNESS_RANGE, "master", M, r->master_meter.loudness_range_lu, 0, 0, NULL,
           SG_SEV_INFO, NULL);
  if ((st = section_rows(r, d)) != SG_OK)
    goto out;
  /* Tempo, as a listener's beat tracker hears it, and the key of every key region. */
  st = sg_check_master_tempo(g, "master", s, pp->feat, r->bpm, &r->tl, d);
  sg__flush(r);
  if (st != SG_OK)
    goto out;
  st = sg_check_master_keys(g, "master", s, &r->tl, pp->feat, d);
  sg__flush(r);
  if (st != SG_OK)
    goto out;
  /* Effects are audible on the master: a measurable decay tail at the end. */
  sg_decay_config dc;
  sg_decay_config_init(&dc);
  sg_decay_result dr;
  if (sg_decay_tail(pp->feat, &dc, &dr) == SG_OK)
    sg__gate(r, SG_CHECK_DECAY_TAIL, "master", M, dr.rt60_s, 0, 0, NULL, SG_SEV_INFO, NULL);
  /* The bus effects against their designs: probes and in situ (only these rows are fx's); a kept
   * bus's rows as its record holds them. */
  if (r->master_rep.bus_reused) {
    st = sg_gate_report_append(g, &r->bus_node.rows);
    sg__flush(r);
    if (st != SG_OK) {
      st = sg_diag_fail(d, st, "master: out of memory");
      goto out;
    }
  } else {
    const size_t n0 = g->n;
    if ((st = sg__fxv_rows(r, "master", M, s->master.effects, fxv, d)) != SG_OK)
      goto out;
    /* The record is a cache: when it cannot be written the next master renders its bus. */
    if (r->bus_node.nf != 1 || sg__node_rows_from(&r->bus_node, g, n0) != SG_OK ||
        sg__node_write(bus_rec, &r->bus_node, NULL) != SG_OK)
      r->bus_node.nf = 0;
  }
  if (r->has_ref) {
    sg_reference_sync sync;
    st = sg_reference_sync_check(&r->ref, s, r->master_path, M, 1, NULL, &sync, g, "master", d);
    sg__flush(r);
  }
out:
  sg__fxv_free(fxv);
  sg__flush(r);
  sg_features_free(r->master_feat);
  sg_meter_free(r->master_meter_live);
  r->master_feat = NULL;
  r->master_meter_live = NULL;
  if (st == SG_OK) { /* kept for the final verification (step_package.c, lend.c) */
    r->master_feat = pp->feat;
    r->master_meter_live = pp->meter;
    pp->feat = NULL;
    pp->meter = NULL;
  }
  sg__probe_close(pp);
  return st;
}
