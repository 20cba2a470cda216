/* The render pipeline: seven gated steps from a spec to a verified package (pipeline.h).
 *
 * Every audio file is metered by a tap while it streams to disk (sg_meter + sg_features), so
 * gates read measurements that were taken on the way out, not files read back. Each step
 * appends its verdicts to one sg_gate_report and the run stops at the first required check
 * that fails. Files go to temporary names and are renamed when complete. */
#include "pipeline_internal.h"

#include "stemgate/analysis.h"
#include "stemgate/compose.h"
#include "stemgate/fx.h"
#include "stemgate/mix.h"
#include "stemgate/package.h"
#include "stemgate/reference.h"
#include "stemgate/synth.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DRUMS_NAME "Drums"
#define MASTER_NAME "Master"
#define TAIL_ALLOW_S 2.5 /* release and effect tails allowed after a stem's last section */

/* What the pipeline knows about one stem as it moves through the steps. */
typedef struct stem_state {
  char name[SG_MAX_NAME];
  int spec_index;          /* index in song->stems; -1 for the drums */
  char dry[SG_MAX_PATH];   /* work/dry/<name>.wav */
  char final[SG_MAX_PATH]; /* <out>/<naming> */
  char archive[SG_MAX_PATH];
  char midi[SG_MAX_PATH]; /* work/midi/<name>.mid ("" when none) */
  char dry_key[65], final_key[65];
  int cached_dry, cached_final;
  sg_compose_report comp;
  double dry_cut_db;
  sg_features *dry_feat; /* the dry stem's features, kept for the effect-evidence gates */
  /* Results of the produce phase (run on worker threads), judged in order afterwards. */
  sg_note_list notes;
  int composed;    /* compose succeeded: the note gates can be judged */
  sg_meter *meter; /* what the writer's tap (or a re-read of a cached file) measured */
  sg_features *feat;
  sg_status produced; /* status of the produce phase */
  sg_diag produce_diag;
  sg_stem_fx_report fx;
  sg_meter_result final_meter;
  char instrument[160];
} stem_state;

typedef struct run {
  const sg_render_options *opt;
  sg_render_result *res;
  sg_song *song;
  sg_timeline tl;
  sg_reference ref;
  int has_ref;
  char work[SG_MAX_PATH];
  stem_state stems[SG_MAX_STEMS + 1];
  int n_stems;
  char master_path[SG_MAX_PATH];
  char master_archive[SG_MAX_PATH];
  sg_meter_result master_meter;
  sg_master_report master_rep;
  double bpm;
  size_t logged; /* gate rows already printed */
} run;

/* ---- logging ----------------------------------------------------------------------------- */

static void logf_(run *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void logf_(run *r, const char *fmt, ...) {
  if (!r->opt->log)
    return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  r->opt->log(r->opt->log_user, line);
}

/* Prints the gate rows added since the last call. */
static void flush_gates(run *r) {
  const sg_gate_report *g = &r->res->gates;
  for (; r->logged < g->n; ++r->logged) {
    char line[512];
    sg_gate_result_format(&g->v[r->logged], line, sizeof line);
    logf_(r, "  %s", line);
  }
}

/* A gate row with a detail text, printed as soon as it is judged. */
static sg_status gate_detail(run *r, const char *step, const char *stem, const char *check,
                             double m, sg_cmp cmp, double limit, double target, const char *unit,
                             const char *detail, int required, sg_diag *d) {
  sg_status st = sg_gate_check(&r->res->gates, step, stem, check, m, cmp, limit, target, unit,
                               detail, required, d);
  flush_gates(r);
  return st;
}

static sg_status gate(run *r, const char *step, const char *stem, const char *check, double m,
                      sg_cmp cmp, double limit, double target, const char *unit, int required,
                      sg_diag *d) {
  return gate_detail(r, step, stem, check, m, cmp, limit, target, unit, NULL, required, d);
}

static sg_status gate_text(run *r, const char *step, const char *stem, const char *check,
                           const char *measured, const char *expected, int pass, int required,
                           sg_diag *d) {
  sg_status st =
      sg_gate_check_text(&r->res->gates, step, stem, check, measured, expected, pass, required, d);
  flush_gates(r);
  return st;
}

/* ---- paths --------------------------------------------------------------------------------- */

static void join(char *out, size_t cap, const char *a, const char *b) {
  snprintf(out, cap, "%s/%s", a, b);
}

/* File-safe form of a stem name: letters, digits, '-', '_' kept; anything else '_'. */
static void safe_name(const char *in, char *out, size_t cap) {
  size_t i = 0;
  for (; in[i] && i + 1 < cap; ++i) {
    unsigned char c = (unsigned char)in[i];
    out[i] = (char)(isalnum(c) || c == '-' || c == '_' ? c : '_');
  }
  out[i] = '\0';
}

/* Expands the deliverable naming template: {song} {stem} {index} {rate} {format}. */
static void expand_name(const sg_song *s, const char *stem, int index, char *out, size_t cap) {
  const char *t = s->deliverable.naming[0] ? s->deliverable.naming : "{song}_{stem}.wav";
  char safe[SG_MAX_NAME];
  safe_name(stem, safe, sizeof safe);
  size_t n = 0;
  out[0] = '\0';
  while (*t && n + 1 < cap) {
    const char *val = NULL;
    char num[32];
    size_t skip = 0;
    if (!strncmp(t, "{song}", 6))
      val = s->slug, skip = 6;
    else if (!strncmp(t, "{stem}", 6))
      val = safe, skip = 6;
    else if (!strncmp(t, "{index}", 7))
      snprintf(num, sizeof num, "%02d", index), val = num, skip = 7;
    else if (!strncmp(t, "{rate}", 6))
      snprintf(num, sizeof num, "%u", s->sample_rate), val = num, skip = 6;
    else if (!strncmp(t, "{format}", 8))
      val = sg_sample_format_name(s->format), skip = 8;
    if (val) {
      n += (size_t)snprintf(out + n, cap - n, "%s", val);
      if (n >= cap)
        n = cap - 1;
      t += skip;
    } else {
      out[n++] = *t++;
      out[n] = '\0';
    }
  }
}

/* ---- measuring taps ------------------------------------------------------------------------- */

/* Meter and features together, fed by a writer's tap. */
typedef struct probe {
  sg_meter *meter;
  sg_features *feat;
} probe;

static sg_status probe_tap(void *user, const float *x, size_t n) {
  probe *p = user;
  sg_status st = sg_meter_add(p->meter, x, n);
  if (st == SG_OK && p->feat)
    st = sg_features_add(p->feat, x, n);
  return st;
}

static sg_status probe_open(probe *p, const sg_song *s, unsigned meter_flags, unsigned feat_flags,
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

static void probe_close(probe *p) {
  sg_meter_free(p->meter);
  sg_features_free(p->feat);
  memset(p, 0, sizeof *p);
}

/* A cached file is not re-rendered but is measured again (reading is cheap, and a gate must
 * measure what is there now): one decode feeds a fresh meter and feature set. */
static sg_status probe_file(probe *p, const char *path, unsigned meter_flags, unsigned feat_flags,
                            sg_diag *d) {
  probe_close(p);
  sg_features_config fc;
  sg_features_config_init(&fc);
  fc.flags = feat_flags;
  return sg_analysis_file_pass(path, meter_flags, NULL, &p->meter, &fc,
                               feat_flags ? &p->feat : NULL, d);
}

/* ---- the audio gates shared by every stem and the master ------------------------------------ */

static sg_status audio_gates(run *r, const char *step, const char *stem, const char *path,
                             const sg_meter_result *m, sg_diag *d) {
  const sg_song *s = r->song;
  sg_audio_info info;
  sg_audio_reader *rd = NULL;
  sg_status st = sg_audio_reader_open(&rd, path, &info, d);
  if (st != SG_OK)
    return st;
  sg_audio_reader_close(rd);
  /* Format, as the header on disk says. */
  if ((st = gate(r, step, stem, "sample_rate", info.rate, SG_CMP_EQ, s->sample_rate, 0, "Hz", 1,
                 d)) != SG_OK)
    return st;
  if ((st = gate_text(r, step, stem, "sample_format", sg_sample_format_name(info.format),
                      sg_sample_format_name(s->format), info.format == s->format, 1, d)) != SG_OK)
    return st;
  if ((st = gate(r, step, stem, "channels", info.channels, SG_CMP_EQ, s->channels, 0, "", 1, d)) !=
      SG_OK)
    return st;
  if ((st = gate(r, step, stem, "length_frames", (double)info.frames, SG_CMP_EQ,
                 (double)r->tl.total_frames, 0, "frames", 1, d)) != SG_OK)
    return st;
  /* Content, as the tap measured it on the way to disk. */
  if ((st = gate(r, step, stem, "length_metered", (double)m->frames, SG_CMP_EQ,
                 (double)r->tl.total_frames, 0, "frames", 1, d)) != SG_OK)
    return st;
  if ((st = gate(r, step, stem, "non_finite", (double)(m->nan_count + m->inf_count), SG_CMP_EQ, 0,
                 0, "samples", 1, d)) != SG_OK)
    return st;
  if ((st = gate(r, step, stem, "sample_peak", m->sample_peak_dbfs, SG_CMP_LE, -0.001, 0, "dBFS", 1,
                 d)) != SG_OK)
    return st;
  if ((st = gate(r, step, stem, "clip_runs", (double)m->clip_runs, SG_CMP_EQ, 0, 0, "", 1, d)) !=
      SG_OK)
    return st;
  if ((st = gate(r, step, stem, "not_silent", m->rms_dbfs, SG_CMP_GE, s->limits.silence_dbfs - 20,
                 0, "dBFS RMS", 1, d)) != SG_OK)
    return st;
  double dc = 0;
  for (unsigned c = 0; c < m->channels && c < SG_METER_MAX_CHANNELS; ++c)
    dc = fabs(m->dc[c]) > fabs(dc) ? m->dc[c] : dc;
  return gate(r, step, stem, "dc_offset", dc, SG_CMP_ABS_LE, s->limits.dc_offset, 0, "", 1, d);
}

/* Where a stem plays: active in each of its sections, silent outside them (tails allowed). */
static sg_status activity_gates(run *r, const char *step, const stem_state *ss, const sg_meter *m,
                                sg_diag *d) {
  const sg_song *s = r->song;
  if (ss->spec_index < 0)
    return SG_OK;
  const sg_stem_spec *sp = &s->stems[ss->spec_index];
  const double thr = s->limits.silence_dbfs;
  const int64_t allow = (int64_t)(TAIL_ALLOW_S * s->sample_rate);
  int inside_silent = 0, n_inside = 0;
  double loudest_outside = -200.0;
  int64_t w = (int64_t)sg_meter_window_frames(m);
  size_t nw = sg_meter_window_count(m);
  for (size_t i = 0; i < nw; ++i) {
    int64_t a = (int64_t)i * w, b = a + w;
    int covered = 0;
    for (int si = 0; si < r->tl.n_sections && !covered; ++si)
      if (sg_stem_plays_in(s, sp, si) && a < r->tl.sections[si].end_frame + allow &&
          b > r->tl.sections[si].start_frame)
        covered = 1;
    if (!covered)
      loudest_outside = fmax(loudest_outside, sg_meter_window_db(m, i));
  }
  for (int si = 0; si < r->tl.n_sections; ++si) {
    if (!sg_stem_plays_in(s, sp, si))
      continue;
    ++n_inside;
    if (!sg_meter_active(m, r->tl.sections[si].start_frame, r->tl.sections[si].end_frame, thr))
      ++inside_silent;
  }
  sg_status st = gate(r, step, ss->name, "silent_outside_sections", loudest_outside, SG_CMP_LE, thr,
                      0, "dBFS", 1, d);
  if (st != SG_OK)
    return st;
  return gate(r, step, ss->name, "silent_sections", inside_silent, SG_CMP_EQ, 0, 0, "sections", 1,
              d);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Timing: does the audio start its notes where the composer put them? The rise of the stem's
 * ~1 ms log-energy envelope is correlated with the note-event starts over lags of +-50 ms; the
 * lag of the peak is the stem's offset from its own notes (a synth or chain latency would show
 * here). Notes within 30 ms of each other (a strum, a chord) count as one event. */
static sg_status timing_gates(run *r, const char *step, const stem_state *ss, const sg_features *f,
                              const sg_note_list *notes, int sampled, sg_diag *d) {
  enum { MAXLAG = 50 };
  size_t n = 0;
  double fr = 0;
  const float *e = sg_features_energy(f, &n, &fr);
  const double rate = r->song->sample_rate;
  double score[2 * MAXLAG + 1] = {0};
  size_t events = 0;
  int64_t last = INT64_MIN;
  for (size_t k = 0; e && k < notes->n; ++k) {
    int64_t s0 = notes->v[k].start;
    if (last != INT64_MIN && (double)(s0 - last) < 0.030 * rate)
      continue;
    last = s0;
    long idx = lround((double)s0 / rate * fr);
    if (idx - MAXLAG < 1 || idx + MAXLAG >= (long)n)
      continue;
    ++events;
    for (int lag = -MAXLAG; lag <= MAXLAG; ++lag) {
      long i = idx + lag;
      double rise = log10(e[i] + 1e-12) - log10(e[i - 1] + 1e-12);
      score[lag + MAXLAG] += rise > 0 ? rise : 0;
    }
  }
  if (events < 4)
    return gate(r, step, ss->name, "note_timing", (double)events, SG_CMP_INFO, 0, 0,
                "events (too few to measure timing)", 0, d);
  int best = 0;
  for (int i = 1; i < 2 * MAXLAG + 1; ++i)
    if (score[i] > score[best])
      best = i;
  double off = best - MAXLAG;
  if (best > 0 && best < 2 * MAXLAG) { /* parabolic interpolation of the peak */
    double ym = score[best - 1], y0 = score[best], yp = score[best + 1];
    double den = ym - 2 * y0 + yp;
    if (den < 0)
      off += 0.5 * (ym - yp) / den;
  }
  /* A soft attack (pads, swells) spreads the rise over hundreds of ms: the correlation has no
   * clear peak and the lag means nothing. Judge only a peak that stands out. */
  double sorted[2 * MAXLAG + 1];
  memcpy(sorted, score, sizeof sorted);
  qsort(sorted, 2 * MAXLAG + 1, sizeof sorted[0], cmp_double);
  double median = sorted[MAXLAG];
  double prominence = score[best] > 0 ? (score[best] - median) / score[best] : 0;
  /* Our instrument models sound at the note frame; a sampled (SoundFont) instrument brings the
   * attack of its recording (a flute speaks ~40 ms late), so it is held only to a coarse limit
   * that still catches a misplaced part. */
  double limit = sampled ? fmax(r->song->limits.sync_ms, 60.0) : r->song->limits.sync_ms;
  char detail[128];
  snprintf(detail, sizeof detail, "%zu events, peak prominence %.2f%s%s", events, prominence,
           prominence < 0.5 ? " (soft attacks: not judged)" : "",
           sampled ? "; sampled instrument: its own attack times" : "");
  return gate_detail(r, step, ss->name, "note_timing", off * 1000.0 / fr,
                     prominence < 0.5 ? SG_CMP_INFO : SG_CMP_ABS_LE, limit, 0, "ms", detail,
                     prominence >= 0.5, d);
}

/* ---- step 1: timing ------------------------------------------------------------------------- */

static sg_status step_timing(run *r, sg_diag *d) {
  logf_(r, "[1/7] timing");
  sg_status st = sg_timeline_build(r->song, &r->tl, d);
  if (st != SG_OK)
    return st;
  r->bpm = (double)r->tl.tempo_num / (double)r->tl.tempo_den;
  /* Re-derive every boundary independently in extended precision: the grid must be exact. */
  long double fpq =
      60.0L * r->tl.rate * (long double)r->tl.tempo_den / (long double)r->tl.tempo_num;
  long double qpb = (long double)r->tl.bar_q_num / (long double)r->tl.bar_q_den;
  double worst = 0;
  for (int i = 0; i < r->tl.n_sections; ++i) {
    const sg_section_time *t = &r->tl.sections[i];
    long double exact = (long double)r->tl.origin_frame + (long double)t->start_bar * qpb * fpq;
    worst = fmax(worst, fabs((double)(t->start_frame - llroundl(exact))));
    if (i > 0 && t->start_frame != r->tl.sections[i - 1].end_frame)
      worst = fmax(worst, 1e9);
    if (t->snapped_start)
      gate(r, "timing", t->name, "snap_start", t->snap_error_start_sec * 1000, SG_CMP_INFO, 0, 0,
           "ms", 0, NULL);
    if (t->snapped_end)
      gate(r, "timing", t->name, "snap_end", t->snap_error_end_sec * 1000, SG_CMP_INFO, 0, 0, "ms",
           0, NULL);
  }
  if ((st = gate(r, "timing", "song", "grid_error", worst, SG_CMP_EQ, 0, 0, "frames", 1, d)) !=
      SG_OK)
    return st;
  r->res->seconds = (double)r->tl.total_frames / r->tl.rate;
  return gate(r, "timing", "song", "length", r->res->seconds, SG_CMP_GE, 1.0, 0, "s", 1, d);
}

/* ---- step 2: reference ---------------------------------------------------------------------- */

static sg_status step_reference(run *r, sg_diag *d) {
  const sg_song *s = r->song;
  const char *src = r->opt->reference;
  if (!src && s->drums.source != SG_DRUMS_REFERENCE) {
    logf_(r, "[2/7] reference: none given");
    return SG_OK;
  }
  logf_(r, "[2/7] reference");
  char work[SG_MAX_PATH + 32];
  join(work, sizeof work, r->work, "reference.wav");
  sg_status st = sg_reference_prepare(s, src, NULL, work, &r->ref, &r->res->gates, d);
  r->has_ref = 1;
  flush_gates(r);
  if (st != SG_OK)
    return st;
  if (s->tempo_auto) {
    r->song->tempo = r->ref.tempo_grid;
    if ((st = sg_timeline_build(r->song, &r->tl, d)) != SG_OK)
      return st;
    r->bpm = (double)r->tl.tempo_num / (double)r->tl.tempo_den;
  }
  st = sg_reference_align(&r->ref, s, &r->tl, NULL, &r->res->gates, d);
  flush_gates(r);
  r->res->seconds = (double)r->tl.total_frames / r->tl.rate;
  return st;
}

/* ---- step 3 and 4: stems and drums, rendered dry and verified ------------------------------ */

/* Broadcast Wave metadata (EBU Tech 3285) for every delivered file: what it is and who made it.
 * No wall-clock date and nothing from unrelated parts of the spec, so renders stay bit-identical
 * and the cache keys (which hash title, tempo and meter) cover every byte. */
static void bext_for(const run *r, const char *stem, sg_bext *b) {
  memset(b, 0, sizeof *b);
  snprintf(b->description, sizeof b->description, "%s - %s (%.6g BPM, %d/%d)", r->song->title, stem,
           r->bpm, r->song->meter_num, r->song->meter_den);
  snprintf(b->originator, sizeof b->originator, "stemgate %s", sg_version());
  snprintf(b->originator_ref, sizeof b->originator_ref, "%.31s", r->song->slug);
}

static void writer_config(const run *r, const char *stem, sg_audio_writer_config *c,
                          sg_bext *bext) {
  sg_audio_writer_config_init(c);
  c->rate = r->song->sample_rate;
  c->channels = r->song->channels;
  c->format = r->song->format;
  c->dither_seed = r->song->seed ^ sg_hash64(stem);
  if (bext) {
    bext_for(r, stem, bext);
    c->bext = bext;
  }
}

/* Creating a SoundFont instrument sets libfluidsynth's process-wide log handlers, so instrument
 * creation is serialised; rendering runs in parallel. */
static pthread_mutex_t synth_create_lock = PTHREAD_MUTEX_INITIALIZER;

static sg_status create_synth_locked(run *r, const sg_stem_spec *sp, const char *name,
                                     sg_synth **out, char *desc, size_t cap, sg_diag *d);

static sg_status create_synth(run *r, const sg_stem_spec *sp, const char *name, sg_synth **out,
                              char *desc, size_t cap, sg_diag *d) {
  pthread_mutex_lock(&synth_create_lock);
  sg_status st = create_synth_locked(r, sp, name, out, desc, cap, d);
  pthread_mutex_unlock(&synth_create_lock);
  return st;
}

static sg_status create_synth_locked(run *r, const sg_stem_spec *sp, const char *name,
                                     sg_synth **out, char *desc, size_t cap, sg_diag *d) {
  const sg_song *s = r->song;
  uint64_t seed = s->seed ^ sg_hash64(name);
  sg_synth_kind kind;
  const char *inst = sp->instrument.s;
  if (sg_synth_kind_from_name(inst, &kind) != SG_OK) {
    sg_diag_at(d, s->path, sp->instrument.pos.line, sp->instrument.pos.col);
    return sg_diag_fail(d, SG_E_SPEC,
                        "unknown instrument '%s'; allowed: moog_bass, prophet_poly, dx7, guitar, "
                        "drums, soundfont",
                        inst);
  }
  if (kind == SG_SYNTH_SOUNDFONT) {
    char sf2[SG_MAX_PATH];
    if (sp->soundfont[0])
      sg_song_resolve_path(s, sp->soundfont, sf2, sizeof sf2);
    else
      snprintf(sf2, sizeof sf2, "/usr/share/sounds/sf2/default-GM.sf2");
    snprintf(desc, cap, "soundfont %s, program %d", sf2, sp->program);
    return sg_synth_create_soundfont(sf2, 0, sp->program, &sp->overrides, s->sample_rate, seed, out,
                                     d);
  }
  const char *patch = sp->patch.s[0] ? sp->patch.s : sg_synth_patch_names(kind)[0];
  snprintf(desc, cap, "%s, patch %s", sg_synth_kind_name(kind), patch);
  sg_status st = sg_synth_create(kind, patch, &sp->overrides, s->sample_rate, seed, out, d);
  if (st != SG_OK && !d->line)
    sg_diag_at(d, s->path, sp->pos.line, sp->pos.col);
  return st;
}

/* The drums block seen as a stem spec (instrument, patch, style, pattern, gain, chain), so the
 * cache and the synth treat it like any stem. Heap-allocated: the struct is large. */
static sg_stem_spec *drums_as_stem(const sg_song *s) {
  sg_stem_spec *ds = calloc(1, sizeof *ds);
  if (!ds)
    return NULL;
  snprintf(ds->name.s, sizeof ds->name.s, "%s", DRUMS_NAME);
  snprintf(ds->instrument.s, sizeof ds->instrument.s, "drums");
  ds->patch = s->drums.patch;
  ds->style = s->drums.style;
  ds->pattern = s->drums.pattern;
  ds->gain_db = s->drums.gain_db;
  ds->n_effects = s->drums.n_effects;
  memcpy(ds->effects, s->drums.effects, sizeof ds->effects);
  ds->pos = s->drums.pos;
  return ds;
}

/* Produce phase of a dry stem (any thread): compose, write MIDI, render or take from the cache,
 * measuring as it writes. Touches only ss and files of its own; never logs or gates. */
static void produce_dry(run *r, stem_state *ss) {
  const sg_song *s = r->song;
  const sg_stem_spec *sp = ss->spec_index >= 0 ? &s->stems[ss->spec_index] : NULL;
  sg_diag *d = &ss->produce_diag;
  sg_diag_clear(d);
  sg_notes_init(&ss->notes);
  sg_status st = sp ? sg_compose_stem(s, &r->tl, ss->spec_index, &ss->notes, &ss->comp, d)
                    : sg_compose_drums(s, &r->tl, &ss->notes, &ss->comp, d);
  ss->composed = st == SG_OK;
  if (st != SG_OK || ss->notes.n == 0)
    goto done;
  /* MIDI beside the audio, for the package. */
  if (s->deliverable.midi) {
    char file[SG_MAX_NAME + 8], safe[SG_MAX_NAME];
    safe_name(ss->name, safe, sizeof safe);
    snprintf(file, sizeof file, "midi/%s.mid", safe);
    join(ss->midi, sizeof ss->midi, r->work, file);
    sg_key key;
    sg_progression prog;
    int have_key = sg_section_harmony(s, 0, &key, &prog, NULL) == SG_OK;
    if ((st = sg_midi_write(ss->midi, &ss->notes, &r->tl, s->title, ss->name, sp ? 0 : 9,
                            have_key ? &key : NULL, d)) != SG_OK)
      goto done;
  }
  char extra[200] = "";
  if (sp && sp->midi_file[0]) {
    char path[SG_MAX_PATH];
    sg_song_resolve_path(s, sp->midi_file, path, sizeof path);
    if ((st = sg_sha256_file(path, extra, d)) != SG_OK)
      goto done;
  }
  sg_stem_spec *ds = sp ? NULL : drums_as_stem(s);
  if (!sp && !ds) {
    st = sg_diag_fail(d, SG_E_NOMEM, "out of memory");
    goto done;
  }
  probe p;
  memset(&p, 0, sizeof p);
  sg_synth *syn = NULL;
  st = sg__cache_key_dry(s, &r->tl, sp ? sp : ds, extra, ss->dry_key);
  if (st == SG_OK)
    st = create_synth(r, sp ? sp : ds, ss->name, &syn, ss->instrument, sizeof ss->instrument, d);
  free(ds);
  if (st == SG_OK) {
    ss->cached_dry = !r->opt->force && sg__cache_hit(ss->dry, ss->dry_key, &ss->dry_cut_db);
    if (ss->cached_dry) {
      st = probe_file(&p, ss->dry, 0, SG_FEAT_ONSET | SG_FEAT_ENERGY, d);
    } else if ((st = probe_open(&p, s, 0, SG_FEAT_ONSET | SG_FEAT_ENERGY, d)) == SG_OK) {
      sg_audio_writer_config wc;
      writer_config(r, ss->name, &wc, NULL);
      /* Dry stems stay float: they are intermediate, quantisation happens once, at the end. */
      wc.format = SG_FMT_FLOAT32;
      wc.tap = probe_tap;
      wc.tap_user = &p;
      st = sg_mix_render_dry(syn, &ss->notes, r->tl.total_frames, ss->dry, &wc, NULL,
                             &ss->dry_cut_db, d);
      if (st == SG_OK)
        st = sg__cache_store(ss->dry, ss->dry_key, ss->dry_cut_db, d);
    }
  }
  sg_synth_destroy(syn);
  if (st == SG_OK)
    st = sg_features_finish(p.feat);
  if (st == SG_OK) {
    ss->meter = p.meter;
    ss->feat = p.feat;
  } else {
    probe_close(&p);
  }
done:
  ss->produced = st;
}

/* Judge phase of a dry stem (in stem order, on the main thread): every gate of the stem. */
static sg_status judge_dry(run *r, stem_state *ss, const char *step, sg_diag *d) {
  const sg_song *s = r->song;
  const sg_stem_spec *sp = ss->spec_index >= 0 ? &s->stems[ss->spec_index] : NULL;
  sg_status st;
  if (!ss->composed) {
    *d = ss->produce_diag;
    return ss->produced;
  }
  if ((st = gate(r, step, ss->name, "notes", (double)ss->notes.n, SG_CMP_GE, 1, 0, "", 1, d)) !=
      SG_OK)
    return st;
  if ((st = gate(r, step, ss->name, "humanize_offset", ss->comp.max_offset_ms, SG_CMP_LE,
                 ss->comp.bound_ms + 1e-9, 0, "ms", 1, d)) != SG_OK)
    return st;
  if (ss->produced != SG_OK) {
    *d = ss->produce_diag;
    return ss->produced;
  }
  if (ss->cached_dry)
    logf_(r, "  %s: dry render cached", ss->name);
  sg_meter_result m;
  sg_meter_result_get(ss->meter, &m);
  if ((st = gate(r, step, ss->name, "length_frames", (double)m.frames, SG_CMP_EQ,
                 (double)r->tl.total_frames, 0, "frames", 1, d)) != SG_OK)
    return st;
  if ((st = gate(r, step, ss->name, "non_finite", (double)(m.nan_count + m.inf_count), SG_CMP_EQ, 0,
                 0, "samples", 1, d)) != SG_OK)
    return st;
  if ((st = gate(r, step, ss->name, "sample_peak", m.sample_peak_dbfs, SG_CMP_LE, -0.001, 0, "dBFS",
                 1, d)) != SG_OK)
    return st;
  if ((st = gate(r, step, ss->name, "not_silent", m.rms_dbfs, SG_CMP_GE,
                 s->limits.silence_dbfs - 20, 0, "dBFS RMS", 1, d)) != SG_OK)
    return st;
  if (ss->dry_cut_db > -200)
    gate(r, step, ss->name, "tail_cut", ss->dry_cut_db, SG_CMP_INFO, 0, 0, "dBFS", 0, NULL);
  if ((st = activity_gates(r, step, ss, ss->meter, d)) != SG_OK)
    return st;
  st = timing_gates(r, step, ss, ss->feat, &ss->notes, sp && !strcmp(sp->instrument.s, "soundfont"),
                    d);
  /* The meter is done with; the features stay for the fx step's effect-evidence gates. */
  sg_meter_free(ss->meter);
  ss->meter = NULL;
  ss->dry_feat = ss->feat;
  ss->feat = NULL;
  sg_notes_free(&ss->notes);
  return st;
}

/* ---- step 5: effects, gain and pan ---------------------------------------------------------- */

static const stem_state *find_stem(const run *r, const char *name) {
  for (int i = 0; i < r->n_stems; ++i)
    if (!strcasecmp(r->stems[i].name, name))
      return &r->stems[i];
  return NULL;
}

/* The sidechain source of a stem: its own `sidechain`, else a compressor's `sidechain`. */
static const char *sidechain_of(const sg_song *s, const stem_state *ss) {
  const sg_stem_spec *sp = ss->spec_index >= 0 ? &s->stems[ss->spec_index] : NULL;
  const sg_effect_spec *fx = sp ? sp->effects : s->drums.effects;
  int n_fx = sp ? sp->n_effects : s->drums.n_effects;
  if (sp && sp->sidechain[0])
    return sp->sidechain;
  for (int i = 0; i < n_fx; ++i) {
    const sg_param *p = sg_params_find(&fx[i].params, "sidechain");
    if (p && p->text[0])
      return p->text;
  }
  return NULL;
}

/* Produce phase of a stem's effects (any thread): chain, gain and pan, or the cached file,
 * measured as it is written. */
static void produce_fx(run *r, stem_state *ss) {
  const sg_song *s = r->song;
  const sg_stem_spec *sp = ss->spec_index >= 0 ? &s->stems[ss->spec_index] : NULL;
  const sg_effect_spec *fx = sp ? sp->effects : s->drums.effects;
  int n_fx = sp ? sp->n_effects : s->drums.n_effects;
  sg_diag *d = &ss->produce_diag;
  sg_diag_clear(d);
  sg_stem_fx_job job;
  memset(&job, 0, sizeof job);
  job.dry_path = ss->dry;
  job.out_path = ss->final;
  job.fx = fx;
  job.n_fx = n_fx;
  job.spec_file = s->path;
  job.gain_db = sp ? sp->gain_db : s->drums.gain_db;
  job.pan = sp ? sp->pan : 0.0;
  job.bpm = r->bpm;
  job.frames = r->tl.total_frames;
  sg_bext bext;
  writer_config(r, ss->name, &job.wcfg, &bext);
  sg_status st = SG_OK;
  const char *side_name = sidechain_of(s, ss);
  const stem_state *side = side_name ? find_stem(r, side_name) : NULL;
  if (side_name && (!side || side == ss)) {
    if (sp)
      sg_diag_at(d, s->path, sp->pos.line, sp->pos.col);
    ss->produced =
        sg_diag_fail(d, SG_E_SPEC, "stem '%s': sidechain '%s' is not another stem of this song",
                     ss->name, side_name);
    return;
  }
  job.side_path = side ? side->dry : NULL;
  sg_stem_spec *ds = sp ? NULL : drums_as_stem(s); /* the drums: gain and chain in drums: */
  if (!sp && !ds) {
    ss->produced = sg_diag_fail(d, SG_E_NOMEM, "out of memory");
    return;
  }
  st = sg__cache_key_final(ss->dry_key, sp ? sp : ds, side ? side->dry_key : NULL, r->bpm,
                           ss->final_key);
  free(ds);
  probe p;
  memset(&p, 0, sizeof p);
  const unsigned mflags = SG_METER_LOUDNESS | SG_METER_TRUE_PEAK;
  const unsigned fflags = SG_FEAT_ONSET | SG_FEAT_ENERGY;
  if (st == SG_OK) {
    ss->cached_final =
        !r->opt->force && sg__cache_hit(ss->final, ss->final_key, &ss->fx.tail_cut_db);
    if (ss->cached_final) {
      st = probe_file(&p, ss->final, mflags, fflags, d);
      /* The chain's description is still wanted for the notes: build it without running. */
      sg_fx_chain *c = NULL;
      if (st == SG_OK &&
          (st = sg_fx_chain_create(fx, n_fx, s->sample_rate, r->bpm, s->path, &c, d)) == SG_OK)
        sg_fx_chain_describe(c, ss->fx.chain, sizeof ss->fx.chain);
      sg_fx_chain_destroy(c);
    } else if ((st = probe_open(&p, s, mflags, fflags, d)) == SG_OK) {
      job.wcfg.tap = probe_tap;
      job.wcfg.tap_user = &p;
      st = sg_mix_stem_fx(&job, NULL, &ss->fx, d);
      if (st == SG_OK)
        st = sg__cache_store(ss->final, ss->final_key, ss->fx.tail_cut_db, d);
    }
  }
  if (st == SG_OK)
    st = sg_features_finish(p.feat);
  if (st == SG_OK) {
    ss->meter = p.meter;
    ss->feat = p.feat;
  } else {
    probe_close(&p);
  }
  ss->produced = st;
}

/* Judge phase of a stem's effects (in stem order): the delivered stem's gates. */
static sg_status judge_fx(run *r, stem_state *ss, sg_diag *d) {
  const sg_song *s = r->song;
  const sg_stem_spec *sp = ss->spec_index >= 0 ? &s->stems[ss->spec_index] : NULL;
  const sg_effect_spec *fx = sp ? sp->effects : s->drums.effects;
  int n_fx = sp ? sp->n_effects : s->drums.n_effects;
  if (ss->produced != SG_OK) {
    *d = ss->produce_diag;
    return ss->produced;
  }
  if (ss->cached_final)
    logf_(r, "  %s: effects cached", ss->name);
  sg_meter_result_get(ss->meter, &ss->final_meter);
  sg_status st = audio_gates(r, "fx", ss->name, ss->final, &ss->final_meter, d);
  if (st == SG_OK && ss->fx.tail_cut_db > -200)
    gate(r, "fx", ss->name, "tail_cut", ss->fx.tail_cut_db, SG_CMP_INFO, 0, 0,
         "dBFS, faded at the song end", 0, NULL);
  if (st == SG_OK)
    gate(r, "fx", ss->name, "loudness", ss->final_meter.integrated_lufs, SG_CMP_INFO, 0, 0, "LUFS",
         0, NULL);
  if (st == SG_OK)
    st = activity_gates(r, "fx", ss, ss->meter, d);
  /* A tempo-synced delay must be heard: the effect adds self-similarity to the stem's
   * envelope at the delay's lag. Measured as the rise of the echo prominence from the dry stem
   * to the wet one, so the song's own rhythm (which also repeats at note-value lags) cancels. */
  for (int i = 0; st == SG_OK && i < n_fx; ++i) {
    if (strcmp(fx[i].type.s, "delay") != 0)
      continue;
    const sg_param *t = sg_params_find(&fx[i].params, "time");
    const sg_param *mx = sg_params_find(&fx[i].params, "mix");
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
      st =
          gate_detail(r, "fx", ss->name, "delay_echo", wet.prominence - dry.prominence,
                      audible ? SG_CMP_GE : SG_CMP_INFO, 0.01, 0, "prominence", detail, audible, d);
    }
  }
  sg_meter_free(ss->meter);
  sg_features_free(ss->feat);
  ss->meter = NULL;
  ss->feat = NULL;
  return st;
}

/* ---- step 6: master ------------------------------------------------------------------------- */

/* sg_key_check_region numbers modes as theory's sg_mode does. */
_Static_assert(SG_MODE_MAJOR == 0 && SG_MODE_DORIAN == 1 && SG_MODE_MINOR == 5 &&
                   SG_MODE_HARMONIC_MINOR == 7,
               "mode numbering shared with sg_key_check_region");

static sg_status step_master(run *r, sg_diag *d) {
  const sg_song *s = r->song;
  logf_(r, "[6/7] master");
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
  writer_config(r, MASTER_NAME, &job.wcfg, &bext);
  probe p;
  sg_status st = probe_open(&p, s, SG_METER_ALL, SG_FEAT_ALL, d);
  if (st == SG_OK) {
    job.wcfg.tap = probe_tap;
    job.wcfg.tap_user = &p;
    st = sg_mix_master(&job, NULL, &r->master_rep, d);
  }
  if (st != SG_OK) {
    probe_close(&p);
    return st;
  }
  sg_features_finish(p.feat);
  sg_meter_result_get(p.meter, &r->master_meter);
  const sg_meter_result *m = &r->master_meter;
  gate(r, "master", MASTER_NAME, "bus_loudness", r->master_rep.bus_lufs, SG_CMP_INFO, 0, 0, "LUFS",
       0, NULL);
  gate(r, "master", MASTER_NAME, "limiter_gain_reduction", r->master_rep.limiter_max_gr_db,
       SG_CMP_INFO, 0, 0, "dB", 0, NULL);
  gate(r, "master", MASTER_NAME, "limiter_ceiling", r->master_rep.ceiling_dbtp, SG_CMP_INFO, 0, 0,
       "dBTP", 0, NULL);
  if ((st = audio_gates(r, "master", MASTER_NAME, r->master_path, m, d)) != SG_OK)
    goto out;
  if ((st = gate(r, "master", MASTER_NAME, "loudness", m->integrated_lufs, SG_CMP_WITHIN,
                 s->master.loudness_tolerance, s->master.loudness_lufs, "LUFS", 1, d)) != SG_OK)
    goto out;
  if ((st = gate(r, "master", MASTER_NAME, "true_peak", m->true_peak_dbtp, SG_CMP_LE,
                 s->master.true_peak_dbtp, 0, "dBTP", 1, d)) != SG_OK)
    goto out;
  gate(r, "master", MASTER_NAME, "loudness_range", m->loudness_range_lu, SG_CMP_INFO, 0, 0, "LU", 0,
       NULL);
  /* Tempo, as a listener's beat tracker hears it (the check verify runs too). */
  sg_tempo_check tk;
  char detail[96] = "";
  if (sg_tempo_check_against(p.feat, r->bpm, &tk) != SG_OK)
    tk.folded_bpm = 0;
  else if (tk.level != 1.0)
    snprintf(detail, sizeof detail, "measured %.2f BPM (heard at %s)", tk.est.bpm, tk.level_name);
  st = gate_detail(r, "master", MASTER_NAME, "tempo", tk.folded_bpm, SG_CMP_WITHIN, 1.0, r->bpm,
                   "BPM", detail[0] ? detail : NULL, 1, d);
  if (st != SG_OK)
    goto out;
  /* Key per key region (consecutive sections in one key), estimated from the master's chroma
   * over the inner part of the region so the estimate is not smeared across a modulation. A
   * region is long enough for a key to mean something; a single section with secondary
   * dominants often is not. */
  for (int si = 0; si < r->tl.n_sections;) {
    sg_key want, next;
    sg_progression prog;
    if (sg_section_harmony(s, si, &want, &prog, NULL) != SG_OK) {
      ++si;
      continue;
    }
    int sj = si + 1;
    while (sj < r->tl.n_sections && sg_section_harmony(s, sj, &next, &prog, NULL) == SG_OK &&
           next.tonic == want.tonic && next.mode == want.mode)
      ++sj;
    double a = r->tl.sections[si].start_sec, b = r->tl.sections[sj - 1].end_sec;
    char check[64];
    if (sj - si == 1)
      snprintf(check, sizeof check, "key:%s", r->tl.sections[si].name);
    else
      snprintf(check, sizeof check, "key:%s..%s", r->tl.sections[si].name,
               r->tl.sections[sj - 1].name);
    si = sj;
    sg_key_check kc;
    if (sg_key_check_region(p.feat, a, b, want.tonic, (int)want.mode, &kc) != SG_OK)
      continue; /* too short for a key estimate to mean anything */
    char want_name[48];
    sg_key_name(&want, want_name, sizeof want_name);
    st = gate_text(r, "master", MASTER_NAME, check, kc.text, want_name, kc.pass, !kc.fifth, d);
    if (st != SG_OK)
      goto out;
  }
  /* Effects are audible on the master: a measurable decay tail at the end. */
  sg_decay_config dc;
  sg_decay_config_init(&dc);
  sg_decay_result dr;
  if (sg_decay_tail(p.feat, &dc, &dr) == SG_OK)
    gate(r, "master", MASTER_NAME, "decay_tail", dr.rt60_s, SG_CMP_INFO, 0, 0, "s RT60", 0, NULL);
out:
  probe_close(&p);
  return st;
}

/* ---- step 7: package ------------------------------------------------------------------------- */

/* Appends printf output to a growable string. */
typedef struct text {
  char *s;
  size_t n, cap;
  int oom;
} text;

static void tprintf(text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void tprintf(text *t, const char *fmt, ...) {
  if (t->oom)
    return;
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
    va_end(ap);
    if (k < 0) {
      t->oom = 1;
      return;
    }
    if (t->s && t->n + (size_t)k < t->cap) {
      t->n += (size_t)k;
      return;
    }
    size_t cap = (t->cap + (size_t)k + 1) * 2;
    char *p = realloc(t->s, cap);
    if (!p) {
      t->oom = 1;
      return;
    }
    t->s = p;
    t->cap = cap;
  }
}

static void section_key(const sg_song *s, int si, char *out, size_t cap) {
  sg_key k;
  sg_progression prog;
  if (sg_section_harmony(s, si, &k, &prog, NULL) == SG_OK)
    sg_key_name(&k, out, cap);
  else
    snprintf(out, cap, "%s", s->sections[si].key.s[0] ? s->sections[si].key.s : s->key.s);
}

/* NOTES.txt: what a producer opening the package wants to know first. */
static char *build_notes(run *r) {
  const sg_song *s = r->song;
  text t = {0};
  char t0[32], t1[32], key[48];
  tprintf(&t, "%s\n", s->title);
  tprintf(&t, "Rendered by stemgate %s from a spec with SHA-256 %s\n\n", sg_version(),
          s->spec_sha256);
  tprintf(&t, "Tempo %.6g BPM, meter %d/%d, %u Hz, %s, %u channel%s, %s (%lld frames)\n\n", r->bpm,
          s->meter_num, s->meter_den, s->sample_rate, sg_sample_format_name(s->format), s->channels,
          s->channels == 1 ? "" : "s",
          sg_format_time((double)r->tl.total_frames / s->sample_rate, t0, sizeof t0),
          (long long)r->tl.total_frames);
  tprintf(&t, "SECTIONS\n");
  for (int i = 0; i < r->tl.n_sections; ++i) {
    const sg_section_time *st = &r->tl.sections[i];
    section_key(s, i, key, sizeof key);
    tprintf(&t, "  %-12s bars %3lld-%-3lld  %s - %s  %s\n", st->name, (long long)st->start_bar + 1,
            (long long)(st->start_bar + st->bars), sg_format_time(st->start_sec, t0, sizeof t0),
            sg_format_time(st->end_sec, t1, sizeof t1), key);
    for (int k = 0; k < r->n_stems; ++k)
      if (r->stems[k].spec_index >= 0 && r->stems[k].comp.section_chords[i][0]) {
        tprintf(&t, "               chords: %s\n", r->stems[k].comp.section_chords[i]);
        break;
      }
    if (st->snapped_start || st->snapped_end)
      tprintf(&t, "               snapped to bars: start %+.3f s, end %+.3f s\n",
              st->snap_error_start_sec, st->snap_error_end_sec);
  }
  if (r->has_ref) {
    char desc[1024];
    tprintf(&t, "\nREFERENCE\n%s\n", sg_reference_describe(&r->ref, desc, sizeof desc));
  }
  tprintf(&t, "\nSTEMS\n");
  for (int k = 0; k < r->n_stems; ++k) {
    const stem_state *ss = &r->stems[k];
    const sg_stem_spec *sp = ss->spec_index >= 0 ? &s->stems[ss->spec_index] : NULL;
    tprintf(&t, "  %s  (%s)\n", ss->name, ss->archive);
    if (r->has_ref && !sp && s->drums.source == SG_DRUMS_REFERENCE)
      tprintf(&t, "    source: the reference track (%s)\n", r->ref.fit_desc);
    else
      tprintf(&t, "    instrument: %s; style %s, role %s, %zu notes%s\n", ss->instrument,
              sg_style_name(ss->comp.style), sg_role_name(ss->comp.role), ss->comp.notes,
              ss->comp.from_midi ? " (from the stem's MIDI file)" : "");
    if (sp && sp->n_sections) {
      tprintf(&t, "    plays in:");
      for (int i = 0; i < sp->n_sections; ++i)
        tprintf(&t, " %s", sp->sections[i].s);
      tprintf(&t, "\n");
    }
    tprintf(&t, "    gain %+.1f dB, pan %+.2f; loudness %.1f LUFS, true peak %.1f dBTP\n",
            sp ? sp->gain_db : s->drums.gain_db, sp ? sp->pan : 0.0,
            ss->final_meter.integrated_lufs, ss->final_meter.true_peak_dbtp);
    if (ss->fx.chain[0]) {
      tprintf(&t, "    effects:\n");
      const char *line = ss->fx.chain;
      while (*line) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        if (len)
          tprintf(&t, "      %.*s\n", len, line);
        line += len + (nl ? 1 : 0);
      }
    } else {
      tprintf(&t, "    effects: none\n");
    }
    if (ss->fx.tail_cut_db > -200)
      tprintf(&t, "    effect tail at the song end (peak %.1f dBFS) faded over %d ms\n",
              ss->fx.tail_cut_db, SG_MIX_END_FADE_MS);
    if (ss->midi[0])
      tprintf(&t, "    MIDI: midi/%s\n",
              strrchr(ss->midi, '/') ? strrchr(ss->midi, '/') + 1 : ss->midi);
  }
  tprintf(&t, "\nMASTER  (%s)\n", r->master_archive);
  tprintf(&t, "    %s\n", r->master_rep.chain);
  tprintf(&t,
          "    loudness %.2f LUFS (target %.1f +- %.1f), true peak %.2f dBTP (ceiling %.1f), "
          "LRA %.1f LU\n",
          r->master_meter.integrated_lufs, s->master.loudness_lufs, s->master.loudness_tolerance,
          r->master_meter.true_peak_dbtp, s->master.true_peak_dbtp,
          r->master_meter.loudness_range_lu);
  tprintf(&t, "    stems sum to the master's input; the master adds bus processing, loudness\n"
              "    normalisation and true-peak limiting.\n");
  size_t fails = 0;
  for (size_t i = 0; i < r->res->gates.n; ++i)
    fails += !r->res->gates.v[i].pass && r->res->gates.v[i].required;
  tprintf(&t, "\nGATES\n    %zu checks, %zu failed; every row is in manifest.json.\n",
          r->res->gates.n, fails);
  if (t.oom) {
    free(t.s);
    return NULL;
  }
  return t.s;
}

static sg_pkg_loudness loudness_of(const sg_meter_result *m) {
  sg_pkg_loudness l = {1, m->integrated_lufs, m->true_peak_dbtp, m->sample_peak_dbfs};
  return l;
}

static sg_status step_package(run *r, sg_diag *d) {
  const sg_song *s = r->song;
  logf_(r, "[7/7] package");
  char zip[SG_MAX_PATH + 64], name[SG_MAX_PATH];
  if (s->deliverable.zip[0])
    snprintf(name, sizeof name, "%s", s->deliverable.zip);
  else
    snprintf(name, sizeof name, "%s.zip", s->slug);
  join(zip, sizeof zip, r->res->out_dir, name);
  sg_zip_writer_config zc;
  sg_zip_writer_config_init(&zc);
  zc.deflate_audio = s->deliverable.deflate; /* stored unless the spec asks */
  sg_package *pk = NULL;
  sg_status st = sg_package_begin(&pk, zip, &zc, d);
  if (st != SG_OK)
    return st;
  sg_manifest *m = sg_package_manifest(pk);
  snprintf(m->title, sizeof m->title, "%s", s->title);
  snprintf(m->slug, sizeof m->slug, "%s", s->slug);
  snprintf(m->spec_sha256, sizeof m->spec_sha256, "%s", s->spec_sha256);
  m->rate = s->sample_rate;
  m->channels = s->channels;
  m->format = s->format;
  m->tempo_bpm = r->bpm;
  m->meter_num = s->meter_num;
  m->meter_den = s->meter_den;
  snprintf(m->key, sizeof m->key, "%s", s->key.s);
  for (int i = 0; i < r->tl.n_sections && st == SG_OK; ++i) {
    const sg_section_time *t = &r->tl.sections[i];
    sg_manifest_section ms;
    memset(&ms, 0, sizeof ms);
    snprintf(ms.name, sizeof ms.name, "%s", t->name);
    section_key(s, i, ms.key, sizeof ms.key);
    ms.start_bar = (int)t->start_bar + 1;
    ms.end_bar = (int)(t->start_bar + t->bars) + 1;
    ms.start_frame = t->start_frame;
    ms.end_frame = t->end_frame;
    ms.start_sec = t->start_sec;
    ms.end_sec = t->end_sec;
    st = sg_manifest_add_section(m, &ms);
  }
  if (r->has_ref) {
    sg_manifest_reference mr;
    memset(&mr, 0, sizeof mr);
    mr.present = 1;
    snprintf(mr.path, sizeof mr.path, "%s", r->ref.source_path);
    mr.measured_tempo_bpm = r->ref.tempo_bpm;
    mr.offset_ms = r->ref.offset_ms;
    mr.drift_ms = r->ref.drift_ms;
    snprintf(mr.conversion, sizeof mr.conversion, "%s", r->ref.conversion);
    sg_manifest_set_reference(m, &mr);
  }
  sg_pkg_loudness ml = loudness_of(&r->master_meter);
  if (st == SG_OK)
    st = sg_package_add_audio(pk, r->master_path, r->master_archive, SG_ROLE_MASTER, MASTER_NAME,
                              &ml, d);
  for (int k = 0; k < r->n_stems && st == SG_OK; ++k) {
    stem_state *ss = &r->stems[k];
    sg_pkg_loudness l = loudness_of(&ss->final_meter);
    st = sg_package_add_audio(pk, ss->final, ss->archive, SG_ROLE_STEM, ss->name, &l, d);
    if (st == SG_OK && ss->midi[0]) {
      char an[SG_MAX_PATH + 8];
      snprintf(an, sizeof an, "midi/%s", strrchr(ss->midi, '/') + 1);
      st = sg_package_add_file(pk, ss->midi, an, SG_ROLE_MIDI, ss->name, 0, d);
    }
  }
  char *notes = st == SG_OK ? build_notes(r) : NULL;
  if (st == SG_OK && !notes)
    st = sg_diag_fail(d, SG_E_NOMEM, "out of memory writing NOTES.txt");
  if (st == SG_OK)
    st = sg_package_add_text(pk, "NOTES.txt", notes, SG_ROLE_NOTES, d);
  free(notes);
  if (st == SG_OK)
    st = sg_manifest_attach_gates(m, &r->res->gates);
  if (st != SG_OK) {
    sg_package_abort(pk);
    return st;
  }
  if ((st = sg_package_finish(pk, d)) != SG_OK)
    return st;
  snprintf(r->res->zip_path, sizeof r->res->zip_path, "%s", zip);
  /* Final verification: re-open the archive, hash every entry, re-read every WAV header, and
   * measure loudness and true peak again on the bytes as delivered (after quantisation and
   * dither), against the manifest and, for the master, against the ceiling. */
  st = sg_package_verify(zip, NULL, &r->res->gates, d);
  if (st == SG_OK)
    st = sg_package_verify_loudness(zip, NULL, 0.1, 0.1, &r->res->gates, d);
  flush_gates(r);
  for (size_t i = 0; st == SG_OK && i < r->res->gates.n; ++i) {
    const sg_gate_result *g = &r->res->gates.v[i];
    if (!strcmp(g->step, "package") && !strcmp(g->stem, r->master_archive) &&
        !strcmp(g->check, "true_peak")) {
      st = gate(r, "package", MASTER_NAME, "true_peak_as_written", g->measured, SG_CMP_LE,
                s->master.true_peak_dbtp, 0, "dBTP", 1, d);
      break;
    }
  }
  return st;
}

/* ---- the driver ----------------------------------------------------------------------------- */

void sg_render_options_init(sg_render_options *o) { memset(o, 0, sizeof *o); }

void sg_render_result_free(sg_render_result *res) {
  if (res)
    sg_gate_report_free(&res->gates);
}

static sg_status setup_dirs(run *r, sg_diag *d) {
  const sg_song *s = r->song;
  if (r->opt->out_dir)
    snprintf(r->res->out_dir, sizeof r->res->out_dir, "%s", r->opt->out_dir);
  else
    snprintf(r->res->out_dir, sizeof r->res->out_dir, "out/%s", s->slug);
  join(r->work, sizeof r->work, r->res->out_dir, "work");
  char p[SG_MAX_PATH + 16];
  sg_status st = sg_mkdirs(r->res->out_dir, d);
  if (st == SG_OK)
    st = sg_mkdirs(r->work, d);
  join(p, sizeof p, r->work, "dry");
  if (st == SG_OK)
    st = sg_mkdirs(p, d);
  join(p, sizeof p, r->work, "midi");
  if (st == SG_OK)
    st = sg_mkdirs(p, d);
  return st;
}

static void plan_stems(run *r) {
  const sg_song *s = r->song;
  int n = 0;
  for (int i = 0; i < s->n_stems; ++i) {
    stem_state *ss = &r->stems[n++];
    memset(ss, 0, sizeof *ss);
    snprintf(ss->name, sizeof ss->name, "%s", s->stems[i].name.s);
    ss->spec_index = i;
  }
  if (s->drums.source != SG_DRUMS_NONE) {
    stem_state *ss = &r->stems[n++];
    memset(ss, 0, sizeof *ss);
    snprintf(ss->name, sizeof ss->name, "%s", DRUMS_NAME);
    ss->spec_index = -1;
  }
  r->n_stems = n;
  for (int k = 0; k < n; ++k) {
    stem_state *ss = &r->stems[k];
    char safe[SG_MAX_NAME], file[SG_MAX_NAME + 16];
    safe_name(ss->name, safe, sizeof safe);
    snprintf(file, sizeof file, "dry/%s.wav", safe);
    join(ss->dry, sizeof ss->dry, r->work, file);
    expand_name(s, ss->name, k + 1, ss->archive, sizeof ss->archive);
    join(ss->final, sizeof ss->final, r->res->out_dir, ss->archive);
  }
  expand_name(s, MASTER_NAME, 0, r->master_archive, sizeof r->master_archive);
  join(r->master_path, sizeof r->master_path, r->res->out_dir, r->master_archive);
}

/* ---- parallel produce phases -------------------------------------------------------------- */

/* A pool of worker threads runs the produce phase of independent stems; the judge phase then
 * walks the stems in order on the calling thread. Every random stream is seeded from the spec
 * and the stem's name and every stem writes only its own files, so the output is the same
 * bytes for any number of threads. */
typedef struct pool {
  run *r;
  void (*work)(run *, stem_state *);
  int todo[SG_MAX_STEMS + 1];
  int n, next;
  pthread_mutex_t lock;
} pool;

static void *pool_worker(void *arg) {
  pool *p = arg;
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

/* Runs work on the stems listed in todo[0..n), on up to jobs threads. */
static void run_pool(run *r, void (*work)(run *, stem_state *), const int *todo, int n) {
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

static sg_status run_steps(run *r, sg_diag *d) {
  sg_status st;
  if ((st = step_timing(r, d)) != SG_OK)
    return st;
  if ((st = setup_dirs(r, d)) != SG_OK)
    return st;
  if ((st = step_reference(r, d)) != SG_OK)
    return st;
  plan_stems(r);
  const int ref_drums = r->has_ref && r->song->drums.source == SG_DRUMS_REFERENCE;
  /* Steps 3 and 4 produce together: every stem and synthesized drums are independent. */
  int todo[SG_MAX_STEMS + 1], n = 0;
  for (int k = 0; k < r->n_stems; ++k)
    if (r->stems[k].spec_index >= 0 || !ref_drums)
      todo[n++] = k;
  run_pool(r, produce_dry, todo, n);
  logf_(r, "[3/7] stems");
  for (int k = 0; k < r->n_stems; ++k) {
    stem_state *ss = &r->stems[k];
    if (ss->spec_index < 0)
      continue;
    logf_(r, "  %s", ss->name);
    if ((st = judge_dry(r, ss, "stem", d)) != SG_OK)
      return st;
    if (ss->cached_dry)
      r->res->stems_cached++;
    else
      r->res->stems_rendered++;
  }
  logf_(r, "[4/7] drums");
  for (int k = 0; k < r->n_stems; ++k) {
    stem_state *ss = &r->stems[k];
    if (ss->spec_index >= 0)
      continue;
    if (ref_drums) {
      snprintf(ss->instrument, sizeof ss->instrument, "reference track");
      sg_audio_writer_config wc;
      writer_config(r, ss->name, &wc, NULL);
      wc.format = SG_FMT_FLOAT32;
      st = sg_reference_write_drums(&r->ref, r->song, &r->tl, &wc, ss->dry, ss->name,
                                    &r->res->gates, d);
      flush_gates(r);
      sg_stem_spec *ds = drums_as_stem(r->song);
      if (st == SG_OK && !ds)
        st = sg_diag_fail(d, SG_E_NOMEM, "out of memory");
      char extra[SG_MAX_PATH + 80];
      snprintf(extra, sizeof extra, "reference %s %s", r->ref.source_path,
               sg_reference_fit_name(r->ref.fit));
      if (st == SG_OK)
        st = sg__cache_key_dry(r->song, &r->tl, ds, extra, ss->dry_key);
      free(ds);
      r->res->stems_rendered++;
    } else {
      logf_(r, "  %s (synthesized)", ss->name);
      st = judge_dry(r, ss, "drums", d);
      if (ss->cached_dry)
        r->res->stems_cached++;
      else
        r->res->stems_rendered++;
    }
    if (st != SG_OK)
      return st;
  }
  /* Step 5: every dry stem (sidechain sources included) exists; the chains are independent. */
  for (int k = 0; k < r->n_stems; ++k)
    todo[k] = k;
  run_pool(r, produce_fx, todo, r->n_stems);
  logf_(r, "[5/7] effects");
  for (int k = 0; k < r->n_stems; ++k) {
    logf_(r, "  %s", r->stems[k].name);
    if ((st = judge_fx(r, &r->stems[k], d)) != SG_OK)
      return st;
    if (r->has_ref) {
      sg_reference_sync sync;
      st = sg_reference_sync_check(&r->ref, r->song, r->stems[k].final, r->stems[k].name, 0, NULL,
                                   &sync, &r->res->gates, "fx", d);
      flush_gates(r);
      if (st != SG_OK)
        return st;
    }
  }
  if ((st = step_master(r, d)) != SG_OK)
    return st;
  if (r->has_ref) {
    sg_reference_sync sync;
    st = sg_reference_sync_check(&r->ref, r->song, r->master_path, MASTER_NAME, 1, NULL, &sync,
                                 &r->res->gates, "master", d);
    flush_gates(r);
    if (st != SG_OK)
      return st;
  }
  return step_package(r, d);
}

sg_status sg_render(const sg_render_options *opt, sg_render_result *res, sg_diag *d) {
  if (!opt || !res || !opt->spec_path)
    return sg_diag_fail(d, SG_E_INVAL, "render: spec path missing");
  memset(res, 0, sizeof *res);
  sg_gate_report_init(&res->gates);
  run *r = calloc(1, sizeof *r);
  if (!r)
    return sg_diag_fail(d, SG_E_NOMEM, "render: out of memory");
  r->opt = opt;
  r->res = res;
  sg_status st = sg_song_load(opt->spec_path, &r->song, d);
  if (st == SG_OK && opt->reference) /* --reference: the client's drums replace any others */
    r->song->drums.source = SG_DRUMS_REFERENCE;
  if (st == SG_OK) {
    logf_(r, "stemgate %s: %s (%s)", sg_version(), r->song->title, opt->spec_path);
    st = run_steps(r, d);
  }
  flush_gates(r);
  for (int k = 0; k < r->n_stems; ++k) {
    stem_state *ss = &r->stems[k];
    sg_features_free(ss->dry_feat);
    sg_features_free(ss->feat);
    sg_meter_free(ss->meter);
    sg_notes_free(&ss->notes);
  }
  if (r->has_ref)
    sg_reference_free(&r->ref);
  sg_song_free(r->song);
  free(r);
  return st;
}
