/* The render runner (include/stemgate/pipeline.h): loads the spec, plans the stems, runs the
 * seven steps in order and stops at the first required gate that fails. One file per step
 * (step_*.c); this file holds what they share: logging, gate rows, measuring taps, the worker
 * pool and the per-run state.
 *
 * Every audio file is metered by a tap while it streams to disk (sg_meter + sg_features), so
 * gates read measurements taken on the way out, not files read back. Files go to temporary
 * names and are renamed when complete; the output folder is locked for the whole run and its
 * delivered files are switched as one set at the end (output_set.c). */
#include "pipeline_internal.h"

#include "report/trace_internal.h"
#include "stemgate/dsp.h"
#include "stemgate/package.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- logging and rows ---------------------------------------------------------------------- */

void sg__log(sg__run *r, const char *fmt, ...) {
  if (!r->opt->log)
    return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  r->opt->log(r->opt->log_user, line);
}

void sg__flush(sg__run *r) {
  const sg_gate_report *g = &r->res->gates;
  for (; r->logged < g->n; ++r->logged) {
    if (r->opt->on_row) {
      r->opt->on_row(r->opt->log_user, &g->v[r->logged]);
      continue;
    }
    char line[512];
    sg_gate_result_format(&g->v[r->logged], line, sizeof line);
    sg__log(r, "  %s", line);
  }
}

sg_status sg__gate(sg__run *r, sg_check_id id, const char *step, const char *stem, double m,
                   double limit, double target, const char *detail, sg_severity sev, sg_diag *d) {
  sg_status st = sg_gate_row(&r->res->gates, id, step, stem, m, limit, target, detail, sev, d);
  sg__flush(r);
  return st;
}

sg_status sg__gate_text(sg__run *r, sg_check_id id, const char *step, const char *stem,
                        const char *measured, const char *expected, int pass, sg_diag *d) {
  sg_status st =
      sg_gate_row_text(&r->res->gates, id, step, stem, measured, expected, pass, SG_SEV_FAIL, d);
  sg__flush(r);
  return st;
}

void sg__join(char *out, size_t cap, const char *a, const char *b) {
  snprintf(out, cap, "%s/%s", a, b);
}

/* ---- measuring taps ---------------------------------------------------------------------------
 */

sg_status sg__probe_tap(void *user, const float *x, size_t n) {
  sg__probe *p = user;
  /* Fail fast: a gate failed elsewhere, so this render's result is not wanted. The writer stops
   * and removes its temporary file. */
  if (p->cancel && atomic_load(p->cancel))
    return SG_E_INTERNAL;
  /* With a trace, one pass over the meter's K-weighting and true peak serves both. */
  sg_status st =
      p->trace ? sg__trace_add_metered(p->trace, p->meter, x, n) : sg_meter_add(p->meter, x, n);
  if (st == SG_OK && p->feat)
    st = sg_features_add(p->feat, x, n);
  sg__run *r = p->run;
  if (r && r->opt->progress && r->prog_total > 0) {
    long long done = atomic_fetch_add(&r->prog_done, (long long)n) + (long long)n;
    double frac = (double)done / (double)r->prog_total;
    pthread_mutex_lock(&r->prog_lock);
    r->opt->progress(r->opt->log_user, p->step, p->stem, frac > 1 ? 1 : frac);
    pthread_mutex_unlock(&r->prog_lock);
  }
  return st;
}

void sg__probe_progress(sg__probe *p, sg__run *r, const char *step, const char *stem) {
  p->run = r;
  p->step = step;
  p->stem = stem;
}

sg_status sg__probe_open(sg__probe *p, const sg_song *s, unsigned meter_flags, unsigned feat_flags,
                         sg_diag *d) {
  memset(p, 0, sizeof *p);
  sg_status st = sg_meter_create(&p->meter, s->channels, s->sample_rate, meter_flags, d);
  if (st == SG_OK && feat_flags) {
    sg_features_config fc;
    sg_features_config_init(&fc);
    fc.flags = feat_flags;
    st = sg_features_create(&p->feat, s->channels, s->sample_rate, &fc, d);
  }
  return st;
}

sg_status sg__probe_hand_over(sg__probe *p, sg__stem *ss, sg_status st) {
  if (st == SG_OK && p->feat)
    st = sg_features_finish(p->feat);
  if (st == SG_OK) {
    ss->meter = p->meter;
    ss->feat = p->feat;
    if (p->trace) {
      sg_trace_free(ss->trace);
      ss->trace = p->trace;
    }
    memset(p, 0, sizeof *p);
  } else {
    sg__probe_close(p);
  }
  return st;
}

void sg__probe_close(sg__probe *p) {
  sg_meter_free(p->meter);
  sg_features_free(p->feat);
  sg_trace_free(p->trace);
  memset(p, 0, sizeof *p);
}

sg_status sg__probe_file(sg__probe *p, const char *path, unsigned meter_flags, unsigned feat_flags,
                         sg_diag *d) {
  sg__probe_close(p);
  sg_features_config fc;
  sg_features_config_init(&fc);
  fc.flags = feat_flags;
  return sg_analysis_file_pass(path, meter_flags, NULL, &p->meter, &fc,
                               feat_flags ? &p->feat : NULL, d);
}

/* ---- writer settings ------------------------------------------------------------------------- */

/* The bext date: SOURCE_DATE_EPOCH (reproducible-builds.org) when set, so a build system can
 * stamp the render date and still get the same bytes for the same input; otherwise the fixed
 * 2000-01-01 00:00:00, because the same spec and seed must give bit-identical files (a wall-clock
 * date would differ every run and between cached and fresh stems). `stemgate render --date now`
 * sets SOURCE_DATE_EPOCH to the current time. The date enters every cache key. */
void sg__bext_date(char date[11], char time_[9]) {
  date[0] = time_[0] = '\0';
  const char *e = getenv("SOURCE_DATE_EPOCH");
  char *end = NULL;
  long long t = e ? strtoll(e, &end, 10) : -1;
  if (!e || !*e || *end || t < 0 || t > 253402300799LL) /* up to 9999-12-31 */
    return;
  time_t tt = (time_t)t;
  struct tm tm;
  if (!gmtime_r(&tt, &tm))
    return;
  strftime(date, 11, "%Y-%m-%d", &tm);
  strftime(time_, 9, "%H:%M:%S", &tm);
}

/* Broadcast Wave metadata (EBU Tech 3285 v2) for every delivered file: what it is, who made it,
 * when (sg__bext_date), how it was coded (EBU R 98 coding history) and its loudness, filled at
 * close from the writer's tap (sg__probe_bext). Nothing from unrelated parts of the spec, so
 * renders stay bit-identical and the cache keys (which hash title, tempo and meter) cover every
 * byte. */
static void bext_for(const sg__run *r, const char *stem, sg_bext *b) {
  memset(b, 0, sizeof *b);
  snprintf(b->description, sizeof b->description, "%s - %s (%.6g BPM, %d/%d)", r->song->title, stem,
           r->bpm, r->song->meter_num, r->song->meter_den);
  snprintf(b->originator, sizeof b->originator, "stemgate %s", sg_version());
  snprintf(b->originator_ref, sizeof b->originator_ref, "%.31s", r->song->slug);
  sg__bext_date(b->date, b->time);
  const sg_sample_format f = r->song->format;
  const unsigned ch = r->song->channels;
  snprintf(b->coding_history, sizeof b->coding_history, "A=PCM,F=%u,W=%d,M=%s,T=stemgate %s%s\r\n",
           r->song->sample_rate,
           f == SG_FMT_PCM16   ? 16
           : f == SG_FMT_PCM24 ? 24
                               : 32,
           ch == 1   ? "mono"
           : ch == 2 ? "stereo"
                     : "multichannel",
           sg_version(),
           f == SG_FMT_FLOAT32 ? " float"
           : f == SG_FMT_PCM16 ? " TPDF dither"
                               : "");
}

void sg__probe_bext(void *user, sg_bext *b) {
  const sg__probe *p = user;
  sg_meter_result m;
  if (!p->meter || sg_meter_result_get(p->meter, &m) != SG_OK || !(m.flags & SG_METER_LOUDNESS))
    return;
  b->has_loudness = 1;
  b->loudness_lufs = m.integrated_lufs;
  b->loudness_range_lu = m.loudness_range_lu;
  b->true_peak_dbtp = (m.flags & SG_METER_TRUE_PEAK) ? m.true_peak_dbtp : NAN;
  b->momentary_max_lufs = m.momentary_max_lufs;
  b->short_term_max_lufs = m.short_term_max_lufs;
}

void sg__writer_config(const sg__run *r, const char *stem, sg_audio_writer_config *c,
                       sg_bext *bext) {
  sg_audio_writer_config_init(c);
  c->rate = r->song->sample_rate;
  c->channels = r->song->channels;
  c->format = r->song->format;
  c->dither_seed = r->song->seed ^ sg_hash64(stem);
  if (bext) {
    bext_for(r, stem, bext);
    c->bext = bext;
    c->bext_final = sg__probe_bext;
  }
}

/* ---- the worker pool ---------------------------------------------------------------------------
 */

/* Worker threads run the produce phase of independent stems; the judge phase then walks the
 * stems in order on the calling thread. Every random stream is seeded from the spec and the
 * stem's name and every stem writes only its own files, so the output is the same bytes for any
 * number of threads. */
typedef struct pool {
  sg__run *r;
  void (*work)(sg__run *, sg__stem *);
  int todo[SG_MAX_STEMS + 1];
  int n, next;
  pthread_mutex_t lock;
} pool;

static void *pool_worker(void *arg) {
  pool *p = arg;
  sg_dsp_denormals_off(); /* this thread's own FP mode (the caller's is set by sg_render) */
  for (;;) {
    pthread_mutex_lock(&p->lock);
    int i = p->next < p->n ? p->todo[p->next++] : -1;
    pthread_mutex_unlock(&p->lock);
    if (i < 0)
      return NULL;
    p->work(p->r, &p->r->stems[i]);
  }
}

static int default_jobs(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : (n > 8 ? 8 : (int)n);
}

void sg__run_pool(sg__run *r, void (*work)(sg__run *, sg__stem *), const int *todo, int n) {
  pool p = {.r = r, .work = work, .n = n, .next = 0};
  memcpy(p.todo, todo, (size_t)n * sizeof *todo);
  pthread_mutex_init(&p.lock, NULL);
  int jobs = r->opt->jobs > 0 ? r->opt->jobs : default_jobs();
  if (jobs > n)
    jobs = n;
  pthread_t th[SG_MAX_STEMS + 1];
  int started = 0;
  for (; started < jobs - 1; ++started) /* the calling thread is a worker too */
    if (pthread_create(&th[started], NULL, pool_worker, &p) != 0)
      break;
  pool_worker(&p);
  for (int i = 0; i < started; ++i)
    pthread_join(th[i], NULL);
  pthread_mutex_destroy(&p.lock);
}

double sg__now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Two phases on one pool (the dry stems, then their effects): a stem's second-phase work starts
 * as soon as its first phase is judged (and, when it reads other stems' files, every first phase
 * and the between step are done), so the cores stay busy across the step boundary instead of
 * waiting for the last dry stem. Workers prefer first-phase work (it unlocks the rest and the
 * judge), each phase longest first. The judges still run in report order on the calling thread:
 * every first phase, then between, then every second phase; the first failure cancels all. */
typedef struct two_pool {
  sg__run *r;
  const sg__phase *ph[2];
  int order[2][SG_MAX_STEMS + 1]; /* production order: descending cost */
  int n[2], next0;
  int taken1[SG_MAX_STEMS + 1], done[2][SG_MAX_STEMS + 1], judged0[SG_MAX_STEMS + 1];
  int in0[SG_MAX_STEMS + 1]; /* the stem has a first phase */
  int all0;                  /* every first phase judged and between done */
  int workers;               /* threads started */
  pthread_mutex_t lock;
  pthread_cond_t cond;
} two_pool;

static int two_ready(const two_pool *p, int i) {
  if (p->in0[i] && !p->judged0[i])
    return 0;
  return p->all0 || (p->in0[i] && !p->ph[1]->needs_all(p->r, &p->r->stems[i]));
}

static void *two_worker(void *arg) {
  two_pool *p = arg;
  sg_dsp_denormals_off();
  pthread_mutex_lock(&p->lock);
  for (;;) {
    if (atomic_load(&p->r->cancel))
      break;
    int ph = -1, i = -1, left = 0;
    if (p->next0 < p->n[0]) {
      ph = 0;
      i = p->order[0][p->next0++];
    } else {
      for (int k = 0; k < p->n[1] && i < 0; ++k) {
        int j = p->order[1][k];
        if (p->taken1[j])
          continue;
        ++left;
        if (two_ready(p, j))
          ph = 1, i = j;
      }
      if (i < 0 && !left)
        break;
      if (i < 0) {
        pthread_cond_wait(&p->cond, &p->lock);
        continue;
      }
      p->taken1[i] = 1;
      /* The last work handed out: the other cores have nothing left to take, so it may use
       * them (its effects' taps on threads of their own, as for a stem rendered alone). */
      int rest = 0;
      for (int k = 0; k < p->n[1]; ++k)
        rest += !p->taken1[p->order[1][k]];
      p->r->stems[i].tail = rest == 0 && p->workers >= 2;
    }
    pthread_mutex_unlock(&p->lock);
    p->ph[ph]->work(p->r, &p->r->stems[i]);
    pthread_mutex_lock(&p->lock);
    p->done[ph][i] = 1;
    pthread_cond_broadcast(&p->cond);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

static void sort_by_cost(const sg__run *r, int *order, int n, int fx) {
  for (int i = 1; i < n; ++i) /* stable: equal costs keep report order */
    for (int j = i; j > 0; --j) {
      const sg__stem *a = &r->stems[order[j]], *b = &r->stems[order[j - 1]];
      if ((fx ? a->fx_cost : a->cost) <= (fx ? b->fx_cost : b->cost))
        break;
      int t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
}

int sg__run_workers(sg__run *r) {
  two_pool *p = r->pool;
  if (!p)
    return 0;
  pthread_mutex_lock(&p->lock);
  const int n = p->workers;
  pthread_mutex_unlock(&p->lock);
  return n;
}

int sg__run_wait_dry(sg__run *r, const sg__stem *except) {
  two_pool *p = r->pool;
  if (!p)
    return 1;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    int all = 1;
    for (int k = 0; k < p->n[0] && all; ++k) {
      const int j = p->order[0][k];
      all = &r->stems[j] == except || p->done[0][j];
    }
    if (all || atomic_load(&r->cancel))
      break;
    pthread_cond_wait(&p->cond, &p->lock);
  }
  const int ok = !atomic_load(&r->cancel);
  pthread_mutex_unlock(&p->lock);
  return ok;
}

/* Waits for done[ph][i] (the lock held), then judges with the lock released. */
static sg_status two_judge(two_pool *p, int ph, int i, sg_diag *d) {
  pthread_mutex_lock(&p->lock);
  while (!p->done[ph][i])
    pthread_cond_wait(&p->cond, &p->lock);
  pthread_mutex_unlock(&p->lock);
  return p->ph[ph]->judge(p->r, &p->r->stems[i], d);
}

static void two_done(two_pool *p, int ph, int i) {
  pthread_mutex_lock(&p->lock);
  p->done[ph][i] = 1;
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->lock);
}

static void two_mark(two_pool *p, sg_status st, int i, int all) {
  pthread_mutex_lock(&p->lock);
  if (st != SG_OK)
    atomic_store(&p->r->cancel, 1);
  else if (i >= 0)
    p->judged0[i] = 1;
  if (all)
    p->all0 = 1;
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->lock);
}

sg_status sg__run_two_phases(sg__run *r, const sg__phase *a, const sg__phase *b,
                             sg_status (*between)(sg__run *, sg_diag *), sg_diag *d) {
  two_pool *p = calloc(1, sizeof *p);
  if (!p)
    return sg_diag_fail(d, SG_E_NOMEM, "render: out of memory");
  p->r = r;
  p->ph[0] = a;
  p->ph[1] = b;
  for (int h = 0; h < 2; ++h) {
    p->n[h] = h ? b->n : a->n;
    memcpy(p->order[h], h ? b->todo : a->todo, (size_t)p->n[h] * sizeof(int));
    sort_by_cost(r, p->order[h], p->n[h], h);
  }
  for (int k = 0; k < a->n; ++k)
    p->in0[a->todo[k]] = 1;
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->cond, NULL);
  r->pool = p;
  int jobs = r->opt->jobs > 0 ? r->opt->jobs : default_jobs();
  if (jobs > a->n + b->n)
    jobs = a->n + b->n;
  pthread_t th[SG_MAX_STEMS + 1];
  int started = 0;
  pthread_mutex_lock(&p->lock); /* workers is read under it */
  for (; started < jobs && started < SG_MAX_STEMS + 1; ++started)
    if (pthread_create(&th[started], NULL, two_worker, p) != 0)
      break;
  p->workers = started;
  pthread_mutex_unlock(&p->lock);
  sg_status st = SG_OK;
  for (int k = 0; k < a->n && st == SG_OK; ++k) {
    int i = a->todo[k];
    if (!started) { /* no thread could start: each stem produced here, then judged */
      a->work(r, &r->stems[i]);
      two_done(p, 0, i);
    }
    st = two_judge(p, 0, i, d);
    two_mark(p, st, i, 0);
  }
  if (st == SG_OK) {
    st = between(r, d);
    two_mark(p, st, -1, 1);
  }
  for (int k = 0; k < b->n && st == SG_OK; ++k) {
    int i = b->todo[k];
    if (!started) {
      b->work(r, &r->stems[i]);
      two_done(p, 1, i);
    }
    st = two_judge(p, 1, i, d);
    two_mark(p, st, -1, 0);
  }
  if (st != SG_OK)
    two_mark(p, st, -1, 1);
  for (int i = 0; i < started; ++i)
    pthread_join(th[i], NULL);
  for (int i = 0; i < r->n_stems; ++i) /* effects begun beside a dry render the run stopped */
    sg__fx_fused_join(&r->stems[i], 0);
  r->pool = NULL;
  pthread_cond_destroy(&p->cond);
  pthread_mutex_destroy(&p->lock);
  free(p);
  return st;
}

/* ---- plan ------------------------------------------------------------------------------------ */

static sg_status setup_dirs(sg__run *r, sg_diag *d) {
  if (r->opt->out_dir)
    snprintf(r->res->out_dir, sizeof r->res->out_dir, "%s", r->opt->out_dir);
  else
    snprintf(r->res->out_dir, sizeof r->res->out_dir, "out/%s%s%s", r->song->slug,
             r->song->variant[0] ? "-" : "", r->song->variant);
  sg__join(r->work, sizeof r->work, r->res->out_dir, "work");
  char p[SG_MAX_PATH + 16];
  /* The folder's lock before anything is written into it (output_set.c). */
  sg_status st = sg__outset_lock(r, d);
  if (st == SG_OK)
    st = sg_mkdirs(r->work, d);
  sg__join(p, sizeof p, r->work, "dry");
  if (st == SG_OK)
    st = sg_mkdirs(p, d);
  sg__join(p, sizeof p, r->work, "midi");
  if (st == SG_OK)
    st = sg_mkdirs(p, d);
  sg__join(p, sizeof p, r->work, "nodes");
  if (st == SG_OK)
    st = sg_mkdirs(p, d);
  sg__join(p, sizeof p, r->work, "final");
  if (st == SG_OK)
    st = sg_mkdirs(p, d);
  return st;
}

/* The drums block seen as a stem spec (instrument, patch, style, pattern, gain, chain): from
 * here on the drums are a stem like any other. */
static void drums_as_stem(const sg_song *s, sg_stem_spec *ds) {
  memset(ds, 0, sizeof *ds);
  snprintf(ds->name.s, sizeof ds->name.s, "%s", SG__DRUMS_NAME);
  snprintf(ds->instrument.s, sizeof ds->instrument.s, "drums");
  ds->patch = s->drums.patch;
  ds->style = s->drums.style;
  ds->pattern = s->drums.pattern;
  ds->gain_db = s->drums.gain_db;
  ds->n_effects = s->drums.n_effects;
  memcpy(ds->effects, s->drums.effects, sizeof ds->effects);
  ds->pos = s->drums.pos;
  ds->n_sections = s->drums.n_sections;
  ds->tacet = s->drums.tacet;
  memcpy(ds->sections, s->drums.sections, sizeof ds->sections);
}

static void plan_stems(sg__run *r) {
  const sg_song *s = r->song;
  int n = 0;
  for (int i = 0; i < s->n_stems; ++i) {
    sg__stem *ss = &r->stems[n++];
    memset(ss, 0, sizeof *ss);
    snprintf(ss->name, sizeof ss->name, "%s", s->stems[i].name.s);
    ss->spec = &s->stems[i];
  }
  const int ref_drums = r->opt->reference || s->drums.source == SG_DRUMS_REFERENCE;
  if (ref_drums || s->drums.source != SG_DRUMS_NONE) {
    drums_as_stem(s, &r->drums);
    sg__stem *ss = &r->stems[n++];
    memset(ss, 0, sizeof *ss);
    snprintf(ss->name, sizeof ss->name, "%s", SG__DRUMS_NAME);
    ss->spec = &r->drums;
    ss->is_drums = 1;
    ss->source = ref_drums ? SG__SRC_REFERENCE : SG__SRC_SPEC;
  }
  r->n_stems = n;
  for (int k = 0; k < n; ++k) {
    sg__stem *ss = &r->stems[k];
    char safe[SG_MAX_NAME], file[SG_MAX_NAME + 16];
    sg_package_safe_name(ss->name, safe, sizeof safe);
    snprintf(file, sizeof file, "dry/%s.wav", safe);
    sg__join(ss->dry, sizeof ss->dry, r->work, file);
    sg_package_file_name(s, ss->name, k + 1, ss->archive, sizeof ss->archive);
    /* Finished files are made in work/ (where the cache finds them) and delivered into the
     * output folder as one set by the package step. */
    snprintf(file, sizeof file, "final/%s.wav", safe);
    sg__join(ss->final, sizeof ss->final, r->work, file);
  }
  sg_package_file_name(s, SG__MASTER_NAME, 0, r->master_archive, sizeof r->master_archive);
  sg__join(r->master_path, sizeof r->master_path, r->work, "master.wav");
  sg__join(r->bus_path, sizeof r->bus_path, r->work, "master.bus");
}

/* ---- auditions and preview ------------------------------------------------------------------ */

/* An audition names a stem or section of the song; anything else is a usage error with the
 * nearest name. */
static sg_status audition_check(const sg__run *r, sg_diag *d) {
  const sg_song *s = r->song;
  const char *names[SG_MAX_STEMS + 1];
  if (r->opt->audition_stem) {
    int n = 0, found = 0;
    for (int i = 0; i < s->n_stems; ++i)
      names[n++] = s->stems[i].name.s;
    if (r->opt->reference || s->drums.source != SG_DRUMS_NONE)
      names[n++] = SG__DRUMS_NAME;
    for (int i = 0; i < n; ++i)
      found |= !strcmp(names[i], r->opt->audition_stem);
    if (!found) {
      int k = sg_suggest(r->opt->audition_stem, names, n);
      return sg_diag_fail(d, SG_E_NOTFOUND, "--only: no stem '%s' in %s%s%s%s",
                          r->opt->audition_stem, s->path, k >= 0 ? "; did you mean '" : "",
                          k >= 0 ? names[k] : "", k >= 0 ? "'?" : "");
    }
  }
  if (r->opt->audition_section) {
    const char *secs[SG_MAX_SECTIONS];
    int n = s->n_sections < SG_MAX_SECTIONS ? s->n_sections : SG_MAX_SECTIONS, found = 0;
    for (int i = 0; i < n; ++i) {
      secs[i] = s->sections[i].name.s;
      found |= !strcmp(secs[i], r->opt->audition_section);
    }
    if (!found) {
      int k = sg_suggest(r->opt->audition_section, secs, n);
      return sg_diag_fail(d, SG_E_NOTFOUND, "--section: no section '%s' in %s%s%s%s",
                          r->opt->audition_section, s->path, k >= 0 ? "; did you mean '" : "",
                          k >= 0 ? secs[k] : "", k >= 0 ? "'?" : "");
    }
  }
  return SG_OK;
}

/* --only: the named stem and the stem its sidechain listens to (rendered dry for the key
 * input, its chain too), nothing else. */
static void audition_stems(sg__run *r) {
  int keep[SG_MAX_STEMS + 1] = {0};
  for (int k = 0; k < r->n_stems; ++k)
    if (!strcmp(r->stems[k].name, r->opt->audition_stem)) {
      keep[k] = 1;
      int bad = 0;
      const sg__stem *side = sg__sidechain_source(r, &r->stems[k], &bad);
      if (side)
        keep[side - r->stems] = 1;
    }
  int n = 0;
  for (int k = 0; k < r->n_stems; ++k)
    if (keep[k]) {
      if (n != k)
        r->stems[n] = r->stems[k];
      ++n;
    }
  r->n_stems = n;
}

/* The audition's file: the stem after its effects (--only) or the master, cut to the section's
 * frames of the timeline (--section), in DIR/audition/; the delivered set is never touched. */
static sg_status audition_write(sg__run *r, sg_diag *d) {
  sg_status st = SG_OK;
  const char *src = r->master_path, *what = SG__MASTER_NAME;
  if (r->opt->audition_stem) {
    for (int k = 0; k < r->n_stems; ++k)
      if (!strcmp(r->stems[k].name, r->opt->audition_stem)) {
        src = r->stems[k].final;
        what = r->stems[k].name;
      }
  } else if ((st = sg__step_master(r, d)) != SG_OK) {
    return st;
  }
  int64_t a = 0, b = r->tl.total_frames;
  const char *sec = r->opt->audition_section;
  for (int i = 0; sec && i < r->tl.n_sections; ++i)
    if (!strcmp(r->tl.sections[i].name, sec)) {
      a = r->tl.sections[i].start_frame;
      b = r->tl.sections[i].end_frame;
    }
  char dir[SG_MAX_PATH + 16], safe[SG_MAX_NAME], name[2 * SG_MAX_NAME + 32];
  sg__join(dir, sizeof dir, r->res->out_dir, "audition");
  if ((st = sg_mkdirs(dir, d)) != SG_OK)
    return st;
  sg_package_safe_name(what, safe, sizeof safe);
  if (sec) {
    char ssafe[SG_MAX_NAME];
    sg_package_safe_name(sec, ssafe, sizeof ssafe);
    snprintf(name, sizeof name, "audition/%s-%s.wav", safe, ssafe);
  } else {
    snprintf(name, sizeof name, "audition/%s.wav", safe);
  }
  sg__join(r->res->audition_path, sizeof r->res->audition_path, r->res->out_dir, name);
  sg__log(r, "audition: %s, frames %lld..%lld (not a delivery)", r->res->audition_path,
          (long long)a, (long long)b);
  return sg_audio_copy_range(src, r->res->audition_path, a, b, d);
}

/* --preview: the delivered master as FLAC or MP3 in DIR/preview/, outside the package. */
static sg_status preview_write(sg__run *r, sg_diag *d) {
  char dir[SG_MAX_PATH + 16], name[SG_MAX_NAME + 32];
  sg__join(dir, sizeof dir, r->res->out_dir, "preview");
  sg_status st = sg_mkdirs(dir, d);
  snprintf(name, sizeof name, "preview/%s.%s", r->song->slug, r->opt->preview);
  sg__join(r->res->preview_path, sizeof r->res->preview_path, r->res->out_dir, name);
  if (st == SG_OK)
    st = sg_audio_encode(r->master_path, r->res->preview_path, r->opt->preview, d);
  if (st != SG_OK)
    r->res->preview_path[0] = '\0';
  else
    sg__log(r, "preview: %s", r->res->preview_path);
  return st;
}

static sg_status run_steps(sg__run *r, sg_diag *d) {
  sg_status st;
  if ((st = audition_check(r, d)) != SG_OK)
    return st;
  if ((st = sg__step_timing(r, d)) != SG_OK)
    return st;
  if ((st = setup_dirs(r, d)) != SG_OK)
    return st;
  if ((st = sg__step_reference(r, d)) != SG_OK)
    return st;
  plan_stems(r);
  if ((st = sg__plan_ending(r, d)) != SG_OK)
    return st;
  if (r->opt->audition_stem)
    audition_stems(r);
  if ((st = sg__plan_nodes(r, d)) != SG_OK)
    return st;
  /* The audio this run will write: every dry render, chain and master not reused. */
  long long units = (r->master_uptodate && !r->opt->force) || r->opt->audition_stem ? 0 : 1;
  for (int k = 0; k < r->n_stems; ++k)
    units +=
        (r->opt->force || !r->stems[k].dry_uptodate) + (r->opt->force || !r->stems[k].fx_uptodate);
  r->prog_total = units * r->tl.total_frames;
  if ((st = sg__step_stems(r, d)) != SG_OK) /* the dry stems and their effects */
    return st;
  if (r->opt->audition_stem || r->opt->audition_section)
    return audition_write(r, d);
  if ((st = sg__step_master(r, d)) != SG_OK)
    return st;
  if ((st = sg__step_package(r, d)) != SG_OK)
    return st;
  sg__nodes_stat_save(r);
  if (!r->opt->preview)
    return st;
  return preview_write(r, d);
}

/* ---- the entry point ------------------------------------------------------------------------- */

void sg_render_options_init(sg_render_options *o) { memset(o, 0, sizeof *o); }

void sg_render_result_free(sg_render_result *res) {
  if (res)
    sg_gate_report_free(&res->gates);
}

sg_status sg_render(const sg_render_options *opt, sg_render_result *res, sg_diag *d) {
  if (!opt || !res || !opt->spec_path)
    return sg_diag_fail(d, SG_E_INVAL, "render: spec path missing");
  memset(res, 0, sizeof *res);
  sg_gate_report_init(&res->gates);
  sg__run *r = calloc(1, sizeof *r);
  if (!r)
    return sg_diag_fail(d, SG_E_NOMEM, "render: out of memory");
  r->opt = opt;
  r->res = res;
  pthread_mutex_init(&r->prog_lock, NULL);
  /* FTZ/DAZ while the library renders on the caller's thread; restored on the way out. */
  const unsigned fp_prev = sg_dsp_denormals_off();
  sg_status st = opt->variant && opt->variant[0]
                     ? sg_song_load_variant(opt->spec_path, opt->variant, &r->loaded, d)
                     : sg_song_load(opt->spec_path, &r->loaded, d);
  if (st == SG_OK && r->loaded->variations_pos.line && !r->loaded->variant[0]) {
    /* Which of several songs is meant is not guessed: the spec's songs are its variants. */
    sg_variant_list vl;
    sg_diag vd;
    sg_diag_clear(&vd);
    char list[300] = "";
    if (sg_song_variants(opt->spec_path, &vl, &vd) == SG_OK) {
      for (size_t j = 0; j < vl.n && strlen(list) + strlen(vl.names[j]) + 8 < sizeof list; ++j)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "",
                 vl.names[j]);
      sg_variant_list_free(&vl);
    } else {
      *d = vd; /* a bad variation value: its file:line:col */
      st = vd.status ? vd.status : SG_E_SPEC;
    }
    if (st == SG_OK) {
      sg_diag_at(d, opt->spec_path, r->loaded->variations_pos.line, r->loaded->variations_pos.col);
      st = sg_diag_fail(d, SG_E_INVAL,
                        "this spec has a variations: block, so it is several songs; render them "
                        "all with 'stemgate batch %s -o ROOT', or one with --variant NAME (%s)",
                        opt->spec_path, list);
    }
  }
  r->song = r->loaded;
  r->t0 = sg__now();
  if (st == SG_OK) {
    sg__log(r, "stemgate %s: %s (%s)", sg_version(), r->song->title, opt->spec_path);
    st = run_steps(r, d);
    /* The effects nodes' records whose file hash ran beside later steps, whatever stopped the
     * run (the package step settles them itself). */
    const sg_status sst = sg__package_settle(r, st == SG_OK ? d : NULL);
    st = st == SG_OK ? sst : st;
    if (st == SG_E_GATE) {
      res->first_failure_s = sg__now() - r->t0;
      sg__flush(r);
      sg__log(r, "stopped at the first failed gate after %.2f s", res->first_failure_s);
    }
    /* A run that stopped still says what it measured, marked failed, in its work area. */
    if (st != SG_OK && r->work[0] && r->outset.locked &&
        sg__report_write(r, st, d, 0, NULL) == SG_OK)
      sg__log(r, "report (failed render): %s", res->report_path);
  }
  sg__flush(r);
  sg__package_drop(r); /* before the new set is removed, should it not be delivered */
  sg__outset_release(r);
  for (int k = 0; k < r->n_stems; ++k) {
    sg__stem *ss = &r->stems[k];
    sg_features_free(ss->dry_feat);
    sg__fxv_free(ss->fxv);
    sg_features_free(ss->feat);
    sg_meter_free(ss->meter);
    sg_trace_free(ss->trace);
    sg_notes_free(&ss->notes);
    sg__node_free(&ss->dry_node);
    sg__node_free(&ss->fx_node);
  }
  sg_trace_free(r->master_trace);
  sg_features_free(r->master_feat);
  sg_meter_free(r->master_meter_live);
  if (r->has_key_track)
    sg_key_track_free(&r->key_track);
  sg__node_free(&r->master_node);
  sg__node_free(&r->bus_node);
  sg__node_free(&r->pkg_node);
  sg__package_client_free(r);
  if (r->has_ref)
    sg_reference_free(&r->ref);
  sg_song_free(r->loaded);
  free(r->song_copy);
  pthread_mutex_destroy(&r->prog_lock);
  free(r);
  sg_dsp_denormals_restore(fp_prev);
  return st;
}
