/* The node plan: before any step runs, every node's key is computed from the spec alone and
 * its record (work/nodes/) is looked up, the delivered files hashed against it on the worker
 * pool. The steps then know which nodes are up to date: a stem whose effects node holds needs
 * neither its dry file checked nor any audio decoded; a stem whose effects must run again gets
 * its dry file verified (hash) before it is read. */
#include "pipeline_internal.h"

#include "stemgate/fx.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void sg__node_report(sg__run *r, const char *node, int reused) {
  sg_render_result *res = r->res;
  sg_render_node spare, *n = &spare;
  if (res->n_nodes < SG_RENDER_MAX_NODES)
    n = &res->nodes[res->n_nodes++];
  memset(n, 0, sizeof *n);
  snprintf(n->name, sizeof n->name, "%s", node);
  n->reused = reused != 0;
  if (reused == 2) { /* taken from the shared cache this run */
    n->shared = 1;
    res->nodes_reused++;
    res->nodes_shared++;
    sg__log(r, "  %s: shared cache hit", node);
  } else if (reused) {
    res->nodes_reused++;
    sg__log(r, "  %s: up to date", node);
  } else {
    res->nodes_run++;
  }
}

/* The relative cost of the effects of a stem: the chain's weights over the whole song (its
 * writer, meters and taps 0.1 of a bar each, a reverb 1.5, any other effect 0.3). Only the order
 * the stems are produced in depends on these costs, never a byte of output. */
static double fx_cost(const sg__run *r, const sg__stem *ss) {
  double all = 0, w = 0.1;
  for (int i = 0; i < r->tl.n_sections; ++i)
    all += (double)r->tl.sections[i].bars;
  for (int i = 0; i < ss->spec->n_effects; ++i)
    w += !strcmp(ss->spec->effects[i].type.s, "reverb") ? 1.5 : 0.3;
  return all * w;
}

/* The cost of a stem's dry render and effects, so the longest starts first: the bars it plays
 * times its instrument's CPU per bar, in the units of fx_cost (bench/stems_cpu.c on deja-vu and
 * seed-equivalent, 2026-12-07 19:45 UTC: dx7 ~25 ms a bar played, prophet_poly ~14, drums ~5,
 * moog_bass and guitar ~3, against ~8 ms a bar for a chain with a reverb), plus its effects. */
static double stem_cost(const sg__run *r, const sg__stem *ss) {
  static const struct {
    const char *name;
    double w;
  } per_bar[] = {{"dx7", 8.5},   {"prophet_poly", 4.7}, {"soundfont", 3.0},
                 {"drums", 1.8}, {"moog_bass", 1.1},    {"guitar", 1.1}};
  const sg_stem_spec *sp = ss->spec;
  double bars = 0, w = 1.5; /* an instrument not in the table */
  for (size_t i = 0; i < sizeof per_bar / sizeof per_bar[0]; ++i)
    if (!strcmp(sp->instrument.s, per_bar[i].name))
      w = per_bar[i].w;
  for (int i = 0; i < r->tl.n_sections; ++i) {
    if (ss->is_drums || sp->n_sections == 0)
      bars += (double)r->tl.sections[i].bars;
    else
      for (int k = 0; k < sp->n_sections; ++k)
        if (!strcmp(sp->sections[k].s, r->song->sections[i].name.s))
          bars += (double)r->tl.sections[i].bars;
  }
  return bars * w + fx_cost(r, ss);
}

static void check_stem(sg__run *r, sg__stem *ss) {
  char rec[SG_MAX_PATH + 64], node[SG_MAX_NAME + 8];
  snprintf(node, sizeof node, "fx %s", ss->name);
  sg__node_record_path(r, node, rec, sizeof rec);
  const char *files[1] = {ss->final};
  ss->fx_uptodate = sg__node_load(rec, ss->final_key, files, 1, &ss->fx_node);
  /* Not in this folder: another song may have rendered the same node (shared_cache.c). */
  if (!ss->fx_uptodate && sg__shared_fetch(r, ss->final_key, rec, ss->final))
    ss->fx_uptodate = ss->fx_shared = sg__node_load(rec, ss->final_key, files, 1, &ss->fx_node);
  if (ss->source == SG__SRC_SPEC) {
    snprintf(node, sizeof node, "dry %s", ss->name);
    sg__node_record_path(r, node, rec, sizeof rec);
    ss->dry_rec = sg__node_load(rec, ss->dry_key, NULL, 0, &ss->dry_node);
    if (!ss->dry_rec && sg__shared_fetch(r, ss->dry_key, rec, ss->dry))
      ss->dry_rec = ss->dry_shared = sg__node_load(rec, ss->dry_key, NULL, 0, &ss->dry_node);
  }
}

/* The delivered files as DIR/current shows them: the zip, the master, every stem. */
static void delivered(const sg__run *r, const char *zip, char (*paths)[SG_MAX_PATH + 64],
                      const char **files, int *n) {
  int k = 0;
  snprintf(paths[k], sizeof paths[k], "%s", zip);
  files[k] = paths[k];
  ++k;
  snprintf(paths[k], sizeof paths[k], "%s/current/%s", r->res->out_dir, r->master_archive);
  files[k] = paths[k];
  ++k;
  for (int i = 0; i < r->n_stems; ++i, ++k) {
    snprintf(paths[k], sizeof paths[k], "%s/current/%s", r->res->out_dir, r->stems[i].archive);
    files[k] = paths[k];
  }
  *n = k;
}

static void *check_tail(void *arg) {
  sg__run *r = arg;
  char rec[SG_MAX_PATH + 64];
  sg__node_record_path(r, "master", rec, sizeof rec);
  const char *files[1] = {r->master_path};
  r->master_uptodate = sg__node_load(rec, r->master_key, files, 1, &r->master_node);
  /* The package's key depends on every row before it: only its files are checked here. */
  sg__node_record_path(r, "package", rec, sizeof rec);
  char zip[SG_MAX_PATH + 64];
  sg__package_zip_path(r, zip, sizeof zip);
  char paths[SG_MAX_STEMS + 3][SG_MAX_PATH + 64]; /* about 40 KB of this thread's stack */
  const char *dfiles[SG_MAX_STEMS + 3];
  int n = 0;
  delivered(r, zip, paths, dfiles, &n);
  r->pkg_rec = sg__node_load(rec, NULL, dfiles, n, &r->pkg_node);
  return NULL;
}

sg_status sg__plan_nodes(sg__run *r, sg_diag *d) {
  const sg_song *s = r->song;
  sg_status st = SG_OK;
  if (r->has_ref && (st = sg_sha256_file(r->ref.source_path, r->ref_sha, d)) != SG_OK)
    return st;
  for (int k = 0; k < r->n_stems && st == SG_OK; ++k) {
    sg__stem *ss = &r->stems[k];
    char extra[SG_MAX_PATH + 160] = "";
    if (ss->source == SG__SRC_REFERENCE) {
      snprintf(extra, sizeof extra, "reference %s %s %s", r->ref.source_path, r->ref_sha,
               sg_reference_fit_name(r->ref.fit));
    } else if (ss->spec->midi_file[0]) {
      char path[SG_MAX_PATH];
      sg_song_resolve_path(s, ss->spec->midi_file, path, sizeof path);
      st = sg_sha256_file(path, extra, d);
    }
    if (st == SG_OK && ss->is_drums && s->drums.has_seed) /* only the drums read their seed */
      snprintf(extra + strlen(extra), sizeof extra - strlen(extra), " drums-seed %llu",
               (unsigned long long)s->drums.seed);
    if (st == SG_OK)
      st = sg__cache_key_dry(s, &r->tl, ss->spec, extra, ss->dry_key);
    ss->cost = stem_cost(r, ss);
    ss->fx_cost = fx_cost(r, ss);
  }
  for (int k = 0; k < r->n_stems && st == SG_OK; ++k) {
    sg__stem *ss = &r->stems[k];
    int bad = 0;
    const sg__stem *side = sg__sidechain_source(r, ss, &bad);
    st = sg__cache_key_final(ss->dry_key, ss->spec, side ? side->dry_key : NULL, r->bpm,
                             r->tl.file_frames, ss->final_key);
  }
  if (st == SG_OK)
    st = sg__cache_key_master(r, r->master_key);
  if (st != SG_OK || r->opt->force)
    return st;
  /* Hash the delivered files against their records: the stems on the pool, the master and the
   * zip beside it. */
  pthread_t th;
  int tail = pthread_create(&th, NULL, check_tail, r) == 0;
  int todo[SG_MAX_STEMS + 1];
  for (int k = 0; k < r->n_stems; ++k)
    todo[k] = k;
  sg__run_pool(r, check_stem, todo, r->n_stems);
  if (tail)
    pthread_join(th, NULL);
  else
    check_tail(r);
  /* A dry node is reused without reading its file when every effects node that reads it (its
   * own and any sidechained to it) holds; otherwise the step checks its hash before use. */
  for (int k = 0; k < r->n_stems; ++k) {
    sg__stem *ss = &r->stems[k];
    ss->dry_uptodate = ss->dry_rec && ss->fx_uptodate;
    for (int j = 0; ss->dry_uptodate && j < r->n_stems; ++j) {
      int bad = 0;
      if (sg__sidechain_source(r, &r->stems[j], &bad) == ss && !r->stems[j].fx_uptodate)
        ss->dry_uptodate = 0;
    }
  }
  return SG_OK;
}

/* ---- effects nodes --------------------------------------------------------------------------- */

int sg__fx_reuse(sg__run *r, sg__stem *ss) {
  if (r->opt->force || !ss->fx_uptodate)
    return 0;
  const sg__node *n = &ss->fx_node;
  ss->fx.tail_cut_db = sg__node_get_num(n, "tail_cut_db", -300);
  snprintf(ss->fx.chain, sizeof ss->fx.chain, "%s", sg__node_get_text(n, "chain", ""));
  sg_meter_result *m = &ss->final_meter;
  memset(m, 0, sizeof *m);
  m->frames = (int64_t)sg__node_get_num(n, "frames", 0);
  m->integrated_lufs = sg__node_get_num(n, "integrated_lufs", SG_SILENCE_DB);
  m->true_peak_dbtp = sg__node_get_num(n, "true_peak_dbtp", SG_SILENCE_DB);
  m->sample_peak_dbfs = sg__node_get_num(n, "sample_peak_dbfs", SG_SILENCE_DB);
  memset(&ss->final_info, 0, sizeof ss->final_info);
  ss->final_info.frames = (int64_t)sg__node_get_num(n, "info_frames", 0);
  ss->final_info.rate = (unsigned)sg__node_get_num(n, "info_rate", 0);
  ss->final_info.channels = (unsigned)sg__node_get_num(n, "info_channels", 0);
  ss->cached_final = 1;
  ss->produced = SG_OK;
  return 1;
}

sg_status sg__fx_hash(sg__stem *ss, sg_diag *d) {
  sg__node_free(&ss->fx_node);
  sg__node_init(&ss->fx_node, ss->final_key);
  /* The file's hash (its BWF loudness is written at close, before the samples: no digest while
   * writing) runs beside the judge and the master; what needs it waits in sg__fx_settle. */
  if (ss->fx_uptodate) /* only then: beside a dry render, its judge reads the flag */
    ss->fx_uptodate = 0;
  return sg__node_hash_crc_start(&ss->fx_node, ss->final, &ss->fx_hash, d);
}

/* The effects node's record and what goes with it, once its file's hash is known. */
static sg_status fx_record(sg__run *r, sg__stem *ss, sg_diag *d) {
  char node[SG_MAX_NAME + 8], rec[SG_MAX_PATH + 64];
  snprintf(node, sizeof node, "fx %s", ss->name);
  sg__node_record_path(r, node, rec, sizeof rec);
  sg__node *n = &ss->fx_node;
  sg_status st = sg__node_write(rec, n, d);
  if (st == SG_OK) {
    const char *files[1] = {ss->final};
    sg__shared_publish(r, ss->final_key, rec, files, 1);
    sg__trace_keep(r, node, n, ss->trace);
  }
  return st;
}

sg_status sg__fx_settle(sg__run *r, sg_diag *d) {
  sg_status st = SG_OK;
  for (int k = 0; k < r->n_stems; ++k) {
    sg__stem *ss = &r->stems[k];
    if (!ss->fx_hash)
      continue;
    sg_status h = sg__node_hash_join(ss->fx_hash, st == SG_OK ? d : NULL);
    ss->fx_hash = NULL;
    if (h == SG_OK && ss->fx_rec)
      h = fx_record(r, ss, st == SG_OK ? d : NULL);
    ss->fx_rec = 0;
    if (h == SG_OK && ss->fx_lend)
      sg__fx_lend(r, ss, 1);
    st = st == SG_OK ? h : st;
  }
  return st;
}

sg_status sg__fx_node_judge(sg__run *r, sg__stem *ss,
                            sg_status (*judge)(sg__run *, sg__stem *, sg_diag *), sg_diag *d) {
  char node[SG_MAX_NAME + 8];
  snprintf(node, sizeof node, "fx %s", ss->name);
  if (ss->produced == SG_OK && ss->cached_final) {
    sg__log(r, "  %s", ss->name);
    sg__node_report(r, node, ss->fx_shared ? 2 : 1);
    sg_status st = sg_gate_report_append(&r->res->gates, &ss->fx_node.rows);
    sg__flush(r);
    return st == SG_OK ? SG_OK : sg_diag_fail(d, st, "render: out of memory");
  }
  sg__node_report(r, node, 0);
  size_t n0 = r->res->gates.n;
  sg_status st = judge(r, ss, d);
  if (st != SG_OK)
    return st;
  sg__node *n = &ss->fx_node;
  sg__node_num(n, "tail_cut_db", ss->fx.tail_cut_db);
  sg__node_text(n, "chain", ss->fx.chain);
  sg__node_num(n, "frames", (double)ss->final_meter.frames);
  sg__node_num(n, "integrated_lufs", ss->final_meter.integrated_lufs);
  sg__node_num(n, "true_peak_dbtp", ss->final_meter.true_peak_dbtp);
  sg__node_num(n, "sample_peak_dbfs", ss->final_meter.sample_peak_dbfs);
  sg__node_num(n, "info_frames", (double)ss->final_info.frames);
  sg__node_num(n, "info_rate", ss->final_info.rate);
  sg__node_num(n, "info_channels", ss->final_info.channels);
  if ((st = sg__node_rows_from(n, &r->res->gates, n0)) != SG_OK)
    return st;
  if (ss->fx_hash) { /* its file still being hashed: the record waits (sg__fx_settle) */
    ss->fx_rec = 1;
    return SG_OK;
  }
  return fx_record(r, ss, d);
}

/* ---- master, package, verification ------------------------------------------------------------
 */

static sg_status reuse_rows(sg__run *r, const sg__node *n, sg_diag *d) {
  sg_status st = sg_gate_report_append(&r->res->gates, &n->rows);
  sg__flush(r);
  return st == SG_OK ? SG_OK : sg_diag_fail(d, st, "render: out of memory");
}

sg_status sg__step_master(sg__run *r, sg_diag *d) {
  sg__node *n = &r->master_node;
  if (!r->opt->force && r->master_uptodate) {
    sg__log(r, "[6/7] master");
    sg_meter_result *m = &r->master_meter;
    memset(m, 0, sizeof *m);
    m->frames = (int64_t)sg__node_get_num(n, "frames", 0);
    m->integrated_lufs = sg__node_get_num(n, "integrated_lufs", SG_SILENCE_DB);
    m->true_peak_dbtp = sg__node_get_num(n, "true_peak_dbtp", SG_SILENCE_DB);
    m->sample_peak_dbfs = sg__node_get_num(n, "sample_peak_dbfs", SG_SILENCE_DB);
    m->loudness_range_lu = sg__node_get_num(n, "loudness_range_lu", 0);
    sg_master_report *p = &r->master_rep;
    memset(p, 0, sizeof *p);
    p->bus_lufs = sg__node_get_num(n, "bus_lufs", 0);
    p->gain_db = sg__node_get_num(n, "gain_db", 0);
    p->limiter_max_gr_db = sg__node_get_num(n, "limiter_max_gr_db", 0);
    p->ceiling_dbtp = sg__node_get_num(n, "ceiling_dbtp", 0);
    p->passes = (int)sg__node_get_num(n, "passes", 0);
    p->streamed = (int)sg__node_get_num(n, "streamed", 0);
    p->limiter_mean_gr_db = sg__node_get_num(n, "limiter_mean_gr_db", 0);
    for (int i = 0; i < r->tl.n_sections && i < SG_MAX_SECTIONS; ++i) {
      char k[48];
      snprintf(k, sizeof k, "section_gr_db_%d", i);
      p->section_gr_db[i] = sg__node_get_num(n, k, 0);
      snprintf(k, sizeof k, "section_lufs_%d", i);
      r->sec_lufs[i] = sg__node_get_num(n, k, SG_SILENCE_DB);
      snprintf(k, sizeof k, "section_rms_db_%d", i);
      r->sec_rms_db[i] = sg__node_get_num(n, k, SG_SILENCE_DB);
    }
    snprintf(p->chain, sizeof p->chain, "%s", sg__node_get_text(n, "chain", ""));
    sg__node_report(r, "master", 1);
    return reuse_rows(r, n, d);
  }
  sg__node_free(n);
  sg__node_init(n, r->master_key);
  r->master_uptodate = 0;
  size_t n0 = r->res->gates.n;
  if (!r->opt->audition_stem && !r->opt->audition_section)
    sg__package_start(r); /* the stems zipped on another thread while the master renders */
  sg_status st = sg__master_run(r, d);
  const sg_status hst = sg__node_hash_join(r->master_hash, st == SG_OK ? d : NULL);
  r->master_hash = NULL;
  st = st == SG_OK ? hst : st;
  sg__node_report(r, "master", 0);
  if (st != SG_OK)
    return st;
  const char *files[1] = {r->master_path};
  if (n->nf == 0 && (st = sg__node_hash_crc(n, files, 1, NULL, d)) != SG_OK) /* not hashed beside */
    return st;
  const sg_meter_result *m = &r->master_meter;
  sg__node_num(n, "frames", (double)m->frames);
  sg__node_num(n, "integrated_lufs", m->integrated_lufs);
  sg__node_num(n, "true_peak_dbtp", m->true_peak_dbtp);
  sg__node_num(n, "sample_peak_dbfs", m->sample_peak_dbfs);
  sg__node_num(n, "loudness_range_lu", m->loudness_range_lu);
  const sg_master_report *p = &r->master_rep;
  sg__node_num(n, "bus_lufs", p->bus_lufs);
  sg__node_num(n, "gain_db", p->gain_db);
  sg__node_num(n, "limiter_max_gr_db", p->limiter_max_gr_db);
  sg__node_num(n, "ceiling_dbtp", p->ceiling_dbtp);
  sg__node_num(n, "passes", p->passes);
  sg__node_num(n, "streamed", p->streamed);
  sg__node_num(n, "limiter_mean_gr_db", p->limiter_mean_gr_db);
  for (int i = 0; i < r->tl.n_sections && i < SG_MAX_SECTIONS; ++i) {
    char k[48];
    snprintf(k, sizeof k, "section_gr_db_%d", i);
    sg__node_num(n, k, p->section_gr_db[i]);
    snprintf(k, sizeof k, "section_lufs_%d", i);
    sg__node_num(n, k, r->sec_lufs[i]);
    snprintf(k, sizeof k, "section_rms_db_%d", i);
    sg__node_num(n, k, r->sec_rms_db[i]);
  }
  sg__node_text(n, "chain", p->chain);
  char rec[SG_MAX_PATH + 64];
  sg__node_record_path(r, "master", rec, sizeof rec);
  if ((st = sg__node_rows_from(n, &r->res->gates, n0)) == SG_OK &&
      (st = sg__node_write(rec, n, d)) == SG_OK)
    sg__trace_keep(r, "master", n, r->master_trace);
  return st;
}

/* The package and its final verification, delivered as one set (output_set.c).
 *
 * The package depends on every row before it (they go into its manifest), the master and every
 * stem's file, the MIDI files and the spec's own hash; the verification on the zip's hash and
 * the reference. The record lists the delivered files as DIR/current shows them (zip, master,
 * stems): a node whose key matches and whose delivered files still hash to the record is not
 * run again and DIR/current is left as it is. Otherwise the zip is written into a new set,
 * verified there (as the archive and as a client would see it), the master and stems are added
 * beside it and DIR/current is flipped to the set; a package that fails is never switched in. */
static sg_status verify_node(sg__run *r, const char *zip, const char *zip_sha, sg_diag *d) {
  char vkey[65], rec[SG_MAX_PATH + 64];
  sg__log(r, "[7/7] verify the package as a client would");
  sg_status st = sg__cache_key_text("verify", zip_sha, r->has_ref ? r->ref_sha : "", NULL, vkey);
  sg__node vn;
  sg__node_record_path(r, "verify", rec, sizeof rec);
  if (st == SG_OK && !r->opt->force && sg__node_load(rec, vkey, NULL, 0, &vn)) {
    sg__node_report(r, "verify", 1);
    st = reuse_rows(r, &vn, d);
  } else if (st == SG_OK) {
    sg__node_init(&vn, vkey);
    size_t n0 = r->res->gates.n;
    st = sg__package_verify_client(r, zip, d);
    sg__node_report(r, "verify", 0);
    if (st == SG_OK && (st = sg__node_rows_from(&vn, &r->res->gates, n0)) == SG_OK)
      st = sg__node_write(rec, &vn, d);
    if (st != SG_OK)
      remove(rec);
  }
  sg__node_free(&vn);
  return st;
}

/* Same file (a hard link of it): the delivered set links the work files (output_set.c). */
static int same_file(const char *a, const char *b) {
  struct stat x, y;
  return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* The package record's hashes of the delivered files without reading them again: the zip's
 * entry digest was taken as it was written, and the master and each stem are links to work files
 * whose nodes hold their hashes (taken this run when written, or checked against the record when
 * planned). A delivered file that is a copy instead (no links on that file system) is hashed. */
static sg_status hash_delivered(sg__run *r, sg__node *pn, const char *zsha,
                                const char *const *files, int nf, sg_diag *d) {
  pn->nf = 0;
  for (int i = 0; i < nf && i < SG__NODE_FILES; ++i) {
    const sg__node *src = i == 1 ? &r->master_node : i >= 2 ? &r->stems[i - 2].fx_node : NULL;
    const char *work = i == 1 ? r->master_path : i >= 2 ? r->stems[i - 2].final : NULL;
    sg_status st = SG_OK;
    if (i == 0 && zsha[0]) {
      snprintf(pn->fsha[i], sizeof pn->fsha[i], "%s", zsha);
      sg__node_stat_note(pn, i, files[i]); /* its digest taken as written, this run */
    } else if (src && src->nf >= 1 && src->fsha[0][0] && same_file(files[i], work)) {
      snprintf(pn->fsha[i], sizeof pn->fsha[i], "%s", src->fsha[0]);
      pn->fst[i] = src->fst[0]; /* the same inode: the stat it was hashed with */
    } else {
      sg__node_stat_note(pn, i, files[i]);
      st = sg__record_hash(files[i], pn->fsha[i], d);
    }
    if (st != SG_OK)
      return st;
    pn->nf = i + 1;
  }
  return SG_OK;
}

sg_status sg__step_package(sg__run *r, sg_diag *d) {
  const sg_song *s = r->song;
  char zip[SG_MAX_PATH + 64], name[SG_MAX_PATH], a[4096 + 65 * (SG_MAX_STEMS + 1) * 2], pkey[65];
  sg_status st = sg__package_settle(r, d); /* the stems' hashes, the package begun beside */
  if (st != SG_OK)
    return st;
  sg__package_zip_path(r, zip, sizeof zip);
  sg__package_zip_name(r, name, sizeof name);
  int len = snprintf(a, sizeof a, "%s|%s|%s|%d|%d|%s", s->spec_sha256, r->master_key,
                     s->deliverable.zip, s->deliverable.deflate, s->deliverable.midi, name);
  for (int k = 0; k < r->n_stems && len > 0 && (size_t)len < sizeof a; ++k)
    len += snprintf(a + len, sizeof a - (size_t)len, "|%s|%s", r->stems[k].final_key,
                    r->stems[k].dry_node.nf > 1 ? r->stems[k].dry_node.fsha[1] : "");
  st = sg__cache_key_text("package", a, NULL, &r->res->gates, pkey);
  if (st != SG_OK)
    return st;
  sg__node *pn = &r->pkg_node;
  char rec[SG_MAX_PATH + 64];
  sg__node_record_path(r, "package", rec, sizeof rec);
  sg__log(r, "[7/7] package");
  char paths[SG_MAX_STEMS + 3][SG_MAX_PATH + 64];
  const char *files[SG_MAX_STEMS + 3];
  int nfiles = 0;
  delivered(r, zip, paths, files, &nfiles);
  if (!r->opt->force && r->pkg_rec && !strcmp(pn->key, pkey)) {
    sg__package_drop(r); /* begun for a master that came out as it was */
    sg__node_report(r, "package", 1);
    if ((st = reuse_rows(r, pn, d)) == SG_OK)
      st = verify_node(r, zip, pn->fsha[0], d);
  } else {
    r->pkg_rec = 0;
    sg__node_free(pn);
    sg__node_init(pn, pkey);
    remove(rec); /* until the new set is switched in, no record describes DIR/current */
    char newzip[SG_MAX_PATH * 2 + 64];
    size_t n0 = r->res->gates.n;
    st = sg__outset_path(r, name, newzip, sizeof newzip, d);
    char zsha[65] = "";
    sg__outset_sweep(r); /* the sets nobody is shown, removed beside the zip writing */
    if (st == SG_OK)
      st = sg__package_build(r, newzip, zsha, d);
    sg__node_report(r, "package", 0);
    /* The package's rows end here; the verification's follow and are its own node's. */
    size_t n1 = r->res->gates.n;
    if (st == SG_OK)
      st = verify_node(r, newzip, zsha, d);
    if (st == SG_OK) /* report.html goes into the set with the package it describes */
      st = sg__report_write(r, SG_OK, NULL, 1, d);
    if (st == SG_OK)
      st = sg__package_switch(r, d);
    if (st == SG_OK && (st = hash_delivered(r, pn, zsha, files, nfiles, d)) == SG_OK) {
      sg_gate_report rows;
      sg_gate_report_init(&rows);
      rows.v = r->res->gates.v + n0; /* a view of the package's rows, not a copy */
      rows.n = rows.cap = n1 - n0;
      st = sg__node_rows_from(pn, &rows, 0);
      if (st == SG_OK)
        st = sg__node_write(rec, pn, d);
    }
    if (st != SG_OK)
      return st; /* the new set is never switched in; output_set.c removes it */
  }
  if (st != SG_OK)
    return st;
  snprintf(r->res->zip_path, sizeof r->res->zip_path, "%s", zip);
  /* A reused set keeps the report written with it. */
  char rep[SG_MAX_PATH + 64];
  snprintf(rep, sizeof rep, "%s/current/report.html", r->res->out_dir);
  FILE *f = fopen(rep, "rb");
  if (f) {
    fclose(f);
    snprintf(r->res->report_path, sizeof r->res->report_path, "%s", rep);
  }
  return SG_OK;
}

/* The stat cache of every node with files, saved once the set is delivered (the links into it
 * moved the ctimes of the work files it shares), so that the next run reads none of them. */
void sg__nodes_stat_save(sg__run *r) {
  char rec[SG_MAX_PATH + 64], node[SG_MAX_NAME + 8];
  for (int k = 0; k < r->n_stems; ++k) {
    sg__stem *ss = &r->stems[k];
    const char *dfiles[2] = {ss->dry, ss->midi}, *ffiles[1] = {ss->final};
    if (ss->dry_node.nf > 0) {
      snprintf(node, sizeof node, "dry %s", ss->name);
      sg__node_record_path(r, node, rec, sizeof rec);
      sg__node_stat_save(rec, &ss->dry_node, dfiles, ss->midi[0] ? 2 : 1);
    }
    if (ss->fx_node.nf > 0) {
      snprintf(node, sizeof node, "fx %s", ss->name);
      sg__node_record_path(r, node, rec, sizeof rec);
      sg__node_stat_save(rec, &ss->fx_node, ffiles, 1);
    }
  }
  const char *mfiles[1] = {r->master_path};
  sg__node_record_path(r, "master", rec, sizeof rec);
  if (r->master_node.nf > 0)
    sg__node_stat_save(rec, &r->master_node, mfiles, 1);
  const char *bfiles[1] = {r->bus_path};
  sg__node_record_path(r, "bus", rec, sizeof rec);
  if (r->bus_node.nf > 0)
    sg__node_stat_save(rec, &r->bus_node, bfiles, 1);
  char zip[SG_MAX_PATH + 64], paths[SG_MAX_STEMS + 3][SG_MAX_PATH + 64];
  const char *files[SG_MAX_STEMS + 3];
  int n = 0;
  sg__package_zip_path(r, zip, sizeof zip);
  delivered(r, zip, paths, files, &n);
  sg__node_record_path(r, "package", rec, sizeof rec);
  if (r->pkg_node.nf > 0)
    sg__node_stat_save(rec, &r->pkg_node, files, n);
}
