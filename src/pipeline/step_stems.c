/* Steps 3 and 4, stems and drums, dry: each stem composed from its spec (or read from its MIDI
 * file), rendered by its instrument model, measured while it streams to disk, and judged at
 * once. The drums are a stem like any other here; only their source differs when the client's
 * reference supplies them. Produce phases run on the worker pool; judging walks the stems in
 * order, so the report and the files are the same for any number of threads. */
#include "pipeline_internal.h"

#include "stemgate/package.h"
#include "stemgate/synth.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Creating a SoundFont instrument sets libfluidsynth's process-wide log handlers, so instrument
 * creation is serialised; rendering runs in parallel. */
static pthread_mutex_t synth_create_lock = PTHREAD_MUTEX_INITIALIZER;

static sg_status create_synth_locked(const sg__run *r, const sg__stem *ss, sg_synth **out,
                                     char *desc, size_t cap, sg_diag *d) {
  const sg_song *s = r->song;
  const sg_stem_spec *sp = ss->spec;
  uint64_t seed = (ss->is_drums && s->drums.has_seed ? s->drums.seed : s->seed) ^
                  sg_hash64(ss->name); /* the drums' own seed, when given */
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
  if (st != SG_OK && d && !d->line)
    sg_diag_at(d, s->path, sp->pos.line, sp->pos.col);
  return st;
}

static sg_status create_synth(const sg__run *r, const sg__stem *ss, sg_synth **out, char *desc,
                              size_t cap, sg_diag *d) {
  pthread_mutex_lock(&synth_create_lock);
  sg_status st = create_synth_locked(r, ss, out, desc, cap, d);
  pthread_mutex_unlock(&synth_create_lock);
  return st;
}

sg_status sg__create_synth(const sg__run *r, const sg__stem *ss, sg_synth **out, sg_diag *d) {
  char desc[SG_MAX_PATH + 64];
  return create_synth(r, ss, out, desc, sizeof desc, d);
}

static int has_delay(const sg_stem_spec *sp) {
  for (int i = 0; i < sp->n_effects; ++i)
    if (!strcmp(sp->effects[i].type.s, "delay"))
      return 1;
  return 0;
}

/* What later steps read from a dry node (the notes: composition and instrument; the package:
 * the MIDI file), saved with its record and restored when it is reused. */
static void save_dry_values(const sg__run *r, sg__stem *ss) {
  sg__node *n = &ss->dry_node;
  const sg_compose_report *c = &ss->comp;
  sg__node_num(n, "cut_db", ss->dry_cut_db);
  sg__node_num(n, "notes", (double)c->notes);
  sg__node_num(n, "max_offset_ms", c->max_offset_ms);
  sg__node_num(n, "bound_ms", c->bound_ms);
  sg__node_num(n, "style", (double)c->style);
  sg__node_num(n, "role", (double)c->role);
  sg__node_num(n, "from_midi", c->from_midi);
  sg__node_num(n, "n_sections", c->n_sections);
  sg__node_text(n, "instrument", ss->instrument);
  /* Relative to the work folder, so records (like the audio) do not depend on where it is. */
  size_t wl = strlen(r->work);
  sg__node_text(n, "midi",
                !strncmp(ss->midi, r->work, wl) && ss->midi[wl] == '/' ? ss->midi + wl + 1 : "");
  for (int i = 0; i < c->n_sections && i < SG_MAX_SECTIONS; ++i) {
    char name[24];
    snprintf(name, sizeof name, "chords%d", i);
    sg__node_text(n, name, c->section_chords[i]);
  }
}

static void restore_dry_values(const sg__run *r, sg__stem *ss) {
  const sg__node *n = &ss->dry_node;
  sg_compose_report *c = &ss->comp;
  memset(c, 0, sizeof *c);
  ss->dry_cut_db = sg__node_get_num(n, "cut_db", -300);
  c->notes = (size_t)sg__node_get_num(n, "notes", 0);
  c->max_offset_ms = sg__node_get_num(n, "max_offset_ms", 0);
  c->bound_ms = sg__node_get_num(n, "bound_ms", 0);
  c->style = (sg_style)(int)sg__node_get_num(n, "style", 0);
  c->role = (sg_role)(int)sg__node_get_num(n, "role", 0);
  c->from_midi = (int)sg__node_get_num(n, "from_midi", 0);
  c->n_sections = (int)sg__node_get_num(n, "n_sections", 0);
  for (int i = 0; i < c->n_sections && i < SG_MAX_SECTIONS; ++i) {
    char name[24];
    snprintf(name, sizeof name, "chords%d", i);
    snprintf(c->section_chords[i], sizeof c->section_chords[i], "%s",
             sg__node_get_text(n, name, ""));
  }
  snprintf(ss->instrument, sizeof ss->instrument, "%s", sg__node_get_text(n, "instrument", ""));
  const char *midi = sg__node_get_text(n, "midi", "");
  ss->midi[0] = 0;
  if (midi[0])
    sg__join(ss->midi, sizeof ss->midi, r->work, midi);
}

/* Reuses the dry node when its record holds: nothing composed, synthesized or (unless an
 * effects node that must run again needs its features) decoded. 0 when it must run. */
static int reuse_dry(sg__run *r, sg__stem *ss, sg_diag *d) {
  if (r->opt->force || !ss->dry_rec)
    return 0;
  sg__node *n = &ss->dry_node;
  char midi[SG_MAX_PATH + 64] = "";
  if (sg__node_get_text(n, "midi", "")[0])
    sg__join(midi, sizeof midi, r->work, sg__node_get_text(n, "midi", ""));
  const char *files[2] = {ss->dry, midi};
  int ok;
  if (ss->dry_uptodate) /* its effects node holds: only the MIDI the package takes is checked */
    ok = n->nf == (midi[0] ? 2 : 1);
  else
    ok = sg__node_files_hold(n, files, midi[0] ? 2 : 1);
  if (ok && ss->dry_uptodate && midi[0])
    ok = sg__node_file_holds(n, 1, midi);
  if (!ok)
    return 0;
  restore_dry_values(r, ss);
  ss->composed = 1;
  ss->cached_dry = 1;
  ss->produced = SG_OK;
  if (!ss->fx_uptodate && has_delay(ss->spec)) {
    /* The delay gates compare the wet stem's echo with the dry one's. */
    sg__probe p;
    memset(&p, 0, sizeof p);
    ss->produced = sg__probe_file(&p, ss->dry, 0, SG_FEAT_ENERGY, d);
    if (ss->produced == SG_OK)
      ss->produced = sg_features_finish(p.feat);
    ss->feat = p.feat;
    sg_meter_free(p.meter);
  }
  return 1;
}

/* Produce phase of a dry stem (any thread): compose, write MIDI, render or take from the cache,
 * measuring as it writes. Touches only ss and files of its own; never logs or gates. */
static void produce_dry(sg__run *r, sg__stem *ss) {
  const sg_song *s = r->song;
  const sg_stem_spec *sp = ss->spec;
  sg_diag *d = &ss->produce_diag;
  sg_diag_clear(d);
  sg_notes_init(&ss->notes);
  if (reuse_dry(r, ss, d))
    return;
  sg__node_free(&ss->dry_node);
  sg__node_init(&ss->dry_node, ss->dry_key);
  ss->dry_rec = ss->dry_uptodate = ss->dry_shared = 0;
  sg_status st = ss->is_drums
                     ? sg_compose_drums(s, &r->tl, &ss->notes, &ss->comp, d)
                     : sg_compose_stem(s, &r->tl, (int)(sp - s->stems), &ss->notes, &ss->comp, d);
  ss->composed = st == SG_OK;
  if (st != SG_OK || ss->notes.n == 0)
    goto done;
  /* MIDI beside the audio, for the package. */
  if (s->deliverable.midi) {
    char file[SG_MAX_NAME + 8], safe[SG_MAX_NAME];
    sg_package_safe_name(ss->name, safe, sizeof safe);
    snprintf(file, sizeof file, "midi/%s.mid", safe);
    sg__join(ss->midi, sizeof ss->midi, r->work, file);
    /* Every section's key, for a key signature at each modulation (a section whose chart does
     * not resolve keeps the key before it). */
    static const sg_key c_major = {0, 0, SG_MODE_MAJOR};
    sg_key keys[SG_MAX_SECTIONS];
    for (int i = 0; i < r->tl.n_sections && i < SG_MAX_SECTIONS; ++i) {
      sg_progression prog;
      if (sg_section_harmony(s, i, &keys[i], &prog, NULL) != SG_OK)
        keys[i] = i ? keys[i - 1] : c_major;
    }
    sg_synth_kind kind;
    int program = -1;
    if (!ss->is_drums && sg_synth_kind_from_name(sp->instrument.s, &kind) == SG_OK)
      program = kind == SG_SYNTH_SOUNDFONT ? sp->program : sg_synth_gm_program(kind, sp->patch.s);
    sg_midi_track tr = {&ss->notes, ss->name, ss->is_drums ? 9 : 0, program};
    if ((st = sg_midi_write_song(ss->midi, &r->tl, s->title, keys, &tr, 1, d)) != SG_OK)
      goto done;
  }
  sg__probe p;
  memset(&p, 0, sizeof p);
  sg_synth *syn = NULL;
  st = create_synth(r, ss, &syn, ss->instrument, sizeof ss->instrument, d);
  ss->attack_s = sg_synth_attack_s(syn);
  if (st == SG_OK)
    sg_synth_set_ahead(syn, ss->alone);
  /* The energy envelope alone (1 kHz: the timing gate, and the delay gates' dry reference);
   * no onset STFT, which no row of a stem reads. */
  if (st == SG_OK && (st = sg__probe_open(&p, s, 0, SG_FEAT_ENERGY, d)) == SG_OK) {
    p.cancel = &r->cancel;
    sg__probe_progress(&p, r, ss->is_drums ? "drums" : "stems", ss->name);
    sg_audio_writer_config wc;
    sg__writer_config(r, ss->name, &wc, NULL);
    /* Dry stems stay float: they are intermediate, quantisation happens once, at the end. */
    wc.format = SG_FMT_FLOAT32;
    /* A mono instrument (L == R until the fx pan it) is stored as one channel: half the bytes
     * written, hashed and read again by its fx node; the fx step reads it back on both. */
    wc.fold_identical = 1;
    wc.tap = sg__probe_tap;
    wc.tap_user = &p;
    /* Hashed as it is written, on this thread (the instrument renders on its own when alone):
     * no read back of the file after it, with one core idle. */
    sg_audio_digest dg = {.frames = r->tl.dry_frames};
    wc.digest = &dg;
    /* Alone: its effects run beside it, fed what the tap sees (fuse.c); without a queue or a
     * thread they read the file later, as for any stem. Only with a second worker: the effects
     * wait for the other stems' first phases, which this render would otherwise hold up while
     * it waits for the effects to take its blocks. */
    sg__ring *ring = NULL;
    sg__ring_tap_ctx rt = {&p, NULL};
    if (ss->fuse && sg__run_workers(r) >= 2 && sg__ring_create(&ring, wc.channels) == SG_OK) {
      if (sg__fx_fused_start(r, ss, ring) == SG_OK) {
        rt.ring = ring;
        wc.tap = sg__ring_tap;
        wc.tap_user = &rt;
      } else {
        sg__ring_free(ring);
        ring = NULL;
      }
    }
    st = sg_mix_render_dry(syn, &ss->notes, r->tl.dry_frames, ss->dry, &wc, NULL, &ss->dry_cut_db,
                           d);
    if (ring)
      sg__ring_close(ring, st);
    const char *files[2] = {ss->dry, ss->midi};
    if (st == SG_OK)
      st = sg__node_hash(&ss->dry_node, files, ss->midi[0] ? 2 : 1, &dg, d);
  }
  sg_synth_destroy(syn);
  st = sg__probe_hand_over(&p, ss, st);
done:
  ss->produced = st;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* After the dry judge: the envelope (1 kHz, 14 MB an hour) is kept only for a stem whose effects
 * run again with a delay (the delay gates compare the wet echo with the dry one). */
static void keep_dry_features(sg__stem *ss) {
  if (!ss->fx_uptodate && has_delay(ss->spec))
    ss->dry_feat = ss->feat;
  else
    sg_features_free(ss->feat);
  ss->feat = NULL;
}

/* note_timing: does the audio start its notes where the composer put them? The rise of the
 * stem's ~1 ms log-energy envelope is correlated with the note-event starts over lags of +-50
 * ms; the lag of the peak is the stem's offset from its own notes (a synth or chain latency
 * would show here). Notes within 30 ms of each other (a strum, a chord) count as one event. */
static sg_status timing_gate(sg__run *r, const char *step, const sg__stem *ss, sg_diag *d) {
  enum { MAXLAG = 50 };
  double fr = 0;
  const size_t n = sg_features_energy_frames(ss->feat, &fr);
  const double rate = r->song->sample_rate;
  const int sampled = !strcmp(ss->spec->instrument.s, "soundfont");
  double score[2 * MAXLAG + 1] = {0};
  size_t events = 0;
  int64_t last = INT64_MIN;
  float w[2 * MAXLAG +
          2]; /* blocks idx - MAXLAG - 1 .. idx + MAXLAG (the envelope may be in a file) */
  for (size_t k = 0; n && k < ss->notes.n; ++k) {
    int64_t s0 = ss->notes.v[k].start;
    if (last != INT64_MIN && (double)(s0 - last) < 0.030 * rate)
      continue;
    last = s0;
    long idx = lround((double)s0 / rate * fr);
    if (idx - MAXLAG < 1 || idx + MAXLAG >= (long)n)
      continue;
    if (sg_features_energy_read(ss->feat, (size_t)(idx - MAXLAG - 1), 2 * MAXLAG + 2, w) != SG_OK)
      break;
    ++events;
    for (int lag = -MAXLAG; lag <= MAXLAG; ++lag) {
      long i = lag + MAXLAG + 1; /* block idx + lag */
      double rise = log10(w[i] + 1e-12) - log10(w[i - 1] + 1e-12);
      score[lag + MAXLAG] += rise > 0 ? rise : 0;
    }
  }
  if (events < 4) {
    char detail[96];
    snprintf(detail, sizeof detail, "%zu events: too few to measure timing", events);
    return sg__gate(r, SG_CHECK_NOTE_TIMING, step, ss->name, NAN, SG_LIMIT_DEFAULT, 0, detail,
                    SG_SEV_INFO, d);
  }
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
   * clear peak and the lag means nothing. Judge only a peak that stands out, and only for an
   * instrument whose amplitude reaches full level faster than the limit it is held to (a 600 ms
   * pad swell read -20 ms at a prominence of 0.66: a timing a 10 ms gate cannot judge). */
  const double judged = 0.5;
  const int soft = ss->attack_s > 0.025;
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
  char why[64] = "";
  if (soft)
    snprintf(why, sizeof why, " (a %.0f ms attack: not judged)", ss->attack_s * 1000.0);
  else if (prominence < judged)
    snprintf(why, sizeof why, " (soft attacks: not judged)");
  snprintf(detail, sizeof detail, "%zu events, peak prominence %.2f%s%s", events, prominence, why,
           sampled ? "; sampled instrument: its own attack times" : "");
  return sg__gate(r, SG_CHECK_NOTE_TIMING, step, ss->name, off * 1000.0 / fr, limit, 0, detail,
                  why[0] ? SG_SEV_INFO : SG_SEV_FAIL, d);
}

/* Judge phase of a dry stem (in stem order, on the main thread): every gate of the stem. */
static sg_status judge_dry_rows(sg__run *r, sg__stem *ss, const char *step, sg_diag *d) {
  const sg_song *s = r->song;
  sg_status st;
  if (!ss->composed) {
    *d = ss->produce_diag;
    return ss->produced;
  }
  if ((st = sg__gate(r, SG_CHECK_NOTES, step, ss->name, (double)ss->notes.n, SG_LIMIT_DEFAULT, 0,
                     NULL, SG_SEV_FAIL, d)) != SG_OK)
    return st;
  if ((st = sg__gate(r, SG_CHECK_HUMANIZE_OFFSET, step, ss->name, ss->comp.max_offset_ms,
                     ss->comp.bound_ms + 1e-9, 0, NULL, SG_SEV_FAIL, d)) != SG_OK)
    return st;
  if (ss->produced != SG_OK) {
    *d = ss->produce_diag;
    return ss->produced;
  }
  sg_meter_result m;
  sg_meter_result_get(ss->meter, &m);
  if ((st = sg__gate(r, SG_CHECK_LENGTH_FRAMES, step, ss->name, (double)m.frames,
                     (double)r->tl.dry_frames, 0, NULL, SG_SEV_FAIL, d)) != SG_OK)
    return st;
  st = sg_check_file_content(&r->res->gates, step, ss->name, s, ss->meter, 1, d);
  sg__flush(r);
  if (st != SG_OK)
    return st;
  if (ss->dry_cut_db > -200)
    sg__gate(r, SG_CHECK_TAIL_CUT, step, ss->name, ss->dry_cut_db, 0, 0, NULL, SG_SEV_INFO, NULL);
  st = sg_check_stem_activity(&r->res->gates, step, ss->name, s, &r->tl,
                              ss->is_drums ? NULL : ss->spec, ss->meter, s->sample_rate, m.frames,
                              d);
  sg__flush(r);
  if (st != SG_OK)
    return st;
  st = timing_gate(r, step, ss, d);
  /* The meter is done with; the features stay for the fx step's delay gates, if any. */
  sg_meter_free(ss->meter);
  ss->meter = NULL;
  keep_dry_features(ss);
  sg_notes_free(&ss->notes);
  return st;
}

/* Judge phase of a dry stem: a reused node reports its recorded rows; a node run now is judged
 * and, when it passes, recorded with its rows. */
static sg_status judge_dry(sg__run *r, sg__stem *ss, sg_diag *d) {
  const char *step = ss->is_drums ? "drums" : "stem";
  if (ss->is_drums)
    sg__log(r, "[4/7] drums");
  sg__log(r, "  %s%s", ss->name, ss->is_drums ? " (synthesized)" : "");
  char node[SG_MAX_NAME + 8];
  snprintf(node, sizeof node, "dry %s", ss->name);
  if (ss->produced == SG_OK && ss->cached_dry) {
    r->res->stems_cached++;
    sg__node_report(r, node, ss->dry_shared ? 2 : 1);
    sg_status st = sg_gate_report_append(&r->res->gates, &ss->dry_node.rows);
    sg__flush(r);
    keep_dry_features(ss);
    return st == SG_OK ? SG_OK : sg_diag_fail(d, st, "render: out of memory");
  }
  r->res->stems_rendered++;
  sg__node_report(r, node, 0);
  size_t n0 = r->res->gates.n;
  sg_status st = judge_dry_rows(r, ss, step, d);
  if (st == SG_OK && ss->produced == SG_OK) {
    char rec[SG_MAX_PATH + 64];
    sg__node_record_path(r, node, rec, sizeof rec);
    save_dry_values(r, ss);
    if ((st = sg__node_rows_from(&ss->dry_node, &r->res->gates, n0)) == SG_OK &&
        (st = sg__node_write(rec, &ss->dry_node, d)) == SG_OK) {
      const char *files[2] = {ss->dry, ss->midi};
      sg__shared_publish(r, ss->dry_key, rec, files, ss->midi[0] ? 2 : 1);
    }
  }
  return st;
}

/* The drums from the client's reference: fitted to the song and written as the dry stem. */
static sg_status reference_drums(sg__run *r, sg__stem *ss, sg_diag *d) {
  snprintf(ss->instrument, sizeof ss->instrument, "reference track");
  sg_audio_writer_config wc;
  sg__writer_config(r, ss->name, &wc, NULL);
  wc.format = SG_FMT_FLOAT32;
  sg_status st =
      sg_reference_write_drums(&r->ref, r->song, &r->tl, &wc, ss->dry, ss->name, &r->res->gates, d);
  sg__flush(r);
  /* Its key (the reference file's hash and fit) was computed by the node plan. */
  return st;
}

static sg_status reference_step(sg__run *r, sg_diag *d);

sg_status sg__step_stems(sg__run *r, sg_diag *d) {
  int todo[SG_MAX_STEMS + 1], n = 0;
  /* Judged in report order, the stems then the drums; produced longest first. */
  for (int pass = 0; pass < 2; ++pass)
    for (int k = 0; k < r->n_stems; ++k)
      if (r->stems[k].source == SG__SRC_SPEC && r->stems[k].is_drums == pass)
        todo[n++] = k;
  sg__log(r, "[3/7] stems");
  /* One stem alone to render (its notes, instrument or effects changed; the rest reused): its
   * dry stem and its effects run one after the other and a second core would idle, so its
   * instrument renders ahead and its effects' taps measure on threads of their own (same
   * bits). */
  int busy = 0;
  for (int k = 0; k < r->n_stems; ++k)
    busy += !r->stems[k].fx_uptodate;
  const int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
  int refs = 0;
  for (int k = 0; k < r->n_stems; ++k)
    refs += r->stems[k].source == SG__SRC_REFERENCE;
  for (int k = 0; k < r->n_stems; ++k) {
    sg__stem *ss = &r->stems[k];
    ss->alone = busy == 1 && !ss->fx_uptodate && r->opt->jobs != 1 && cores >= 2;
    /* Its effects beside its dry render, unless a reference is fitted between the two. */
    ss->fuse = ss->alone && !refs && ss->source == SG__SRC_SPEC;
  }
  /* Steps 3 to 5 produce together: every stem and synthesized drums are independent, and a
   * stem's effects start once its dry stem is judged (step_fx.c). */
  int all[SG_MAX_STEMS + 1];
  for (int k = 0; k < r->n_stems; ++k)
    all[k] = k;
  const sg__phase dry = {produce_dry, judge_dry, todo, n, NULL};
  const sg__phase fx = {sg__fx_produce, sg__fx_judged, all, r->n_stems, sg__fx_needs_all_dry};
  return sg__run_two_phases(r, &dry, &fx, reference_step, d);
}

/* Between the dry stems and the effects: the drums from a reference, then the effects' header. */
static sg_status reference_step(sg__run *r, sg_diag *d) {
  sg_status st = SG_OK;
  for (int k = 0; st == SG_OK && k < r->n_stems; ++k) {
    sg__stem *ss = &r->stems[k];
    if (ss->source != SG__SRC_REFERENCE)
      continue;
    sg__log(r, "[4/7] drums");
    char node[SG_MAX_NAME + 8];
    snprintf(node, sizeof node, "dry %s", ss->name);
    sg__node_report(r, node, 0); /* the reference is fitted again on every run */
    st = reference_drums(r, ss, d);
    r->res->stems_rendered++;
  }
  if (st == SG_OK)
    sg__log(r, "[5/7] effects");
  return st;
}
