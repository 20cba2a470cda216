/* Step 7, package: the zip (audio stored unless deliverable.deflate), manifest.json with every
 * gate row, NOTES.txt and MIDI; then the package is verified as a client would: the archive is
 * re-read against its manifest (hashes, headers, loudness and true peak as delivered) and
 * `stemgate verify`'s own code runs on the zip against the spec. A package verify would fail is
 * removed, so nothing that looks complete is left behind. */
#include "pipeline_internal.h"

#include "stemgate/dsp.h"
#include "stemgate/package.h"
#include "stemgate/verify.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sg_pkg_loudness loudness_of(const sg_meter_result *m) {
  sg_pkg_loudness l = {1, m->integrated_lufs, m->true_peak_dbtp, m->sample_peak_dbfs};
  return l;
}

/* The archive name of the song's MIDI file: the one naming rule with "song" as the stem and
 * ".mid" for the rule's extension, in midi/ beside the stems' files. */
static void song_midi_name(const sg_song *s, char *out, size_t cap) {
  char base[SG_MAX_PATH];
  sg_package_file_name(s, "song", 0, base, sizeof base);
  char *dot = strrchr(base, '.');
  if (dot && !strchr(dot, '/'))
    *dot = 0;
  snprintf(out, cap, "midi/%s.mid", base);
}

/* song.mid: every stem's MIDI file as one track of a type-1 file under one conductor track, made
 * from the stem files themselves (so a stem taken from the cache is in it too). */
static sg_status add_song_midi(sg__run *r, sg_package *pk, sg_diag *d) {
  const char *paths[SG_MAX_STEMS + 1];
  int n = 0;
  for (int k = 0; k < r->n_stems && n <= SG_MAX_STEMS; ++k)
    if (r->stems[k].midi[0])
      paths[n++] = r->stems[k].midi;
  if (!n)
    return SG_OK;
  char path[SG_MAX_PATH + 16], an[SG_MAX_PATH + 16];
  sg__join(path, sizeof path, r->work, "song.mid"); /* outside midi/: a stem may be "song" */
  sg_status st = sg_midi_merge(paths, n, path, d);
  if (st != SG_OK)
    return st;
  song_midi_name(r->song, an, sizeof an);
  return sg_package_add_file(pk, path, an, SG_ROLE_MIDI, "", 0, d);
}

/* The SHA-256 a node's record holds of its one file (hashed this run when written, or checked
 * against the record through the stat cache when planned), or NULL. */
static const char *node_sha(const sg__node *n) {
  return n->nf >= 1 && n->fsha[0][0] ? n->fsha[0] : NULL;
}

/* The CRC-32 the record holds of that file, taken from the same read as its SHA-256 (so the
 * final verification's hash of the entry vouches for it too), or NULL. */
static const uint32_t *node_crc(const sg__node *n) {
  return node_sha(n) && n->fcrc_ok[0] ? &n->fcrc[0] : NULL;
}

/* The zip written, and its entry digest (the verification node's key and the package record's
 * hash of it, sg__record_hash) into zsha: taken from the bytes as they are written, with each
 * audio entry counted by the SHA-256 its node recorded, so the 300 MB copied into the archive
 * are not read back to hash them a second time; the final verification hashes every entry from
 * the archive against those same hashes (the manifest's), which vouches for the digest. */
/* The package begun at zip with every stem's entries: each stem's audio, then its MIDI file. The
 * manifest's hashes of the audio files are their nodes' (no second read of 300 MB before the zip
 * is written): the final verification hashes every entry from the archive against them, so a
 * file changed since its node hashed it fails there instead of being delivered with a manifest
 * made to match it. */
static sg_status begin_with_stems(sg__run *r, const char *zip, sg_package **out, sg_diag *d) {
  sg_zip_writer_config zc;
  sg_zip_writer_config_init(&zc);
  zc.deflate_audio = r->song->deliverable.deflate; /* stored unless the spec asks */
  /* No fsync before the rename: the zip is written into the new set, which nobody is shown
   * until sg__outset_switch has fsync'ed every file in it (output_set.c), so a crash before that
   * leaves only a set the next run removes. That one fsync comes after the verification, by
   * which time the writeback started as the zip was written (core/writeback.h) has finished,
   * instead of the render waiting here with a core idle for the disk. */
  zc.fsync_on_close = 0;
  sg_package *pk = NULL;
  sg_status st = sg_package_begin(&pk, zip, &zc, d);
  for (int k = 0; k < r->n_stems && st == SG_OK; ++k) {
    sg__stem *ss = &r->stems[k];
    sg_pkg_loudness l = loudness_of(&ss->final_meter);
    st = sg_package_add_audio_digest(pk, ss->final, ss->archive, SG_ROLE_STEM, ss->name, &l,
                                     node_sha(&ss->fx_node), node_crc(&ss->fx_node), d);
    if (st == SG_OK && ss->midi[0]) {
      char an[SG_MAX_PATH + 8];
      snprintf(an, sizeof an, "midi/%s", strrchr(ss->midi, '/') + 1);
      st = sg_package_add_file(pk, ss->midi, an, SG_ROLE_MIDI, ss->name, 0, d);
    }
  }
  if (st != SG_OK) {
    sg_package_abort(pk);
    return st;
  }
  *out = pk;
  return SG_OK;
}

/* The package begun on a thread of its own while the master renders: first the effects files'
 * hashes that ran beside the judges and their records (sg__fx_settle), then the stems' entries,
 * written ahead. Touches only the stems' effects nodes and the package's own fields; the master
 * step touches neither. */
static void *package_begin(void *arg) {
  sg__run *r = arg;
  sg_diag d;
  sg_diag_clear(&d);
  sg_diag_clear(&r->pkg_settle_d);
  if ((r->pkg_settle = sg__fx_settle(r, &r->pkg_settle_d)) != SG_OK)
    return NULL;
  char name[SG_MAX_PATH];
  sg__package_zip_name(r, name, sizeof name);
  if (sg__outset_path(r, name, r->pkg_zip, sizeof r->pkg_zip, &d) != SG_OK ||
      begin_with_stems(r, r->pkg_zip, &r->pkg_early, &d) != SG_OK)
    return NULL;
  sg__outset_sweep(r); /* the sets nobody is shown, removed beside it too */
  sg_package_write_ahead(r->pkg_early, &d);
  return NULL;
}

void sg__package_start(sg__run *r) {
  sg__package_drop(r);
  r->pkg_settle = SG_OK;
  r->pkg_th_on = pthread_create(&r->pkg_th, NULL, package_begin, r) == 0;
  if (!r->pkg_th_on)
    package_begin(r);
}

/* Waits for package_begin; its failure to settle the effects nodes is the run's. */
static sg_status package_join(sg__run *r, sg_diag *d) {
  if (r->pkg_th_on)
    pthread_join(r->pkg_th, NULL);
  r->pkg_th_on = 0;
  const sg_status st = r->pkg_settle;
  if (st != SG_OK && d)
    *d = r->pkg_settle_d;
  r->pkg_settle = SG_OK;
  return st;
}

sg_status sg__package_settle(sg__run *r, sg_diag *d) {
  sg_status st = package_join(r, d);
  sg_status s2 = sg__fx_settle(r, st == SG_OK ? d : NULL); /* any the thread did not do */
  return st == SG_OK ? s2 : st;
}

void sg__package_drop(sg__run *r) {
  package_join(r, NULL);
  sg_package_abort(r->pkg_early);
  r->pkg_early = NULL;
}

static sg_status write_zip(sg__run *r, const char *zip, char zsha[65], sg_diag *d) {
  const sg_song *s = r->song;
  sg_package *pk = NULL;
  sg_status st = SG_OK;
  if (r->pkg_early && !strcmp(zip, r->pkg_zip)) { /* begun while the master rendered */
    pk = r->pkg_early;
    r->pkg_early = NULL;
  } else {
    sg__package_drop(r);
    if ((st = begin_with_stems(r, zip, &pk, d)) != SG_OK)
      return st;
  }
  sg_manifest *m = sg_package_manifest(pk);
  snprintf(m->title, sizeof m->title, "%s", s->title);
  snprintf(m->slug, sizeof m->slug, "%s", s->slug);
  snprintf(m->spec_sha256, sizeof m->spec_sha256, "%s", s->spec_sha256);
  m->rate = s->sample_rate;
  m->channels = s->channels;
  m->format = s->format;
  m->tempo_bpm = r->bpm;
  sg_timeline_tempo_text(&r->tl, m->tempo_map, sizeof m->tempo_map);
  m->meter_num = s->meter_num;
  m->meter_den = s->meter_den;
  snprintf(m->key, sizeof m->key, "%s", s->key.s);
  snprintf(m->ending, sizeof m->ending, "%s", sg_ending_name(s->ending));
  m->song_sec = (double)r->tl.total_frames / r->tl.rate;
  for (int i = 0; i < r->tl.n_sections && st == SG_OK; ++i) {
    const sg_section_time *t = &r->tl.sections[i];
    sg_manifest_section ms;
    memset(&ms, 0, sizeof ms);
    snprintf(ms.name, sizeof ms.name, "%s", t->name);
    sg_section_key_name(s, i, NULL, ms.key, sizeof ms.key);
    ms.start_bar = (int)t->start_bar + 1;
    ms.end_bar = (int)(t->start_bar + t->bars); /* the last bar, inclusive, as NOTES.txt says */
    ms.start_frame = t->start_frame;
    ms.end_frame = t->end_frame;
    ms.start_sec = t->start_sec;
    ms.end_sec = t->end_sec;
    snprintf(ms.energy, sizeof ms.energy, "%s", s->sections[i].energy.s);
    ms.lufs = r->sec_lufs[i];
    ms.rms_dbfs = r->sec_rms_db[i];
    ms.limiter_gr_db = r->master_rep.section_gr_db[i];
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
  if (st == SG_OK) /* after the stems, which were written while it rendered */
    st = sg_package_add_audio_digest(pk, r->master_path, r->master_archive, SG_ROLE_MASTER,
                                     SG__MASTER_NAME, &ml, node_sha(&r->master_node),
                                     node_crc(&r->master_node), d);
  if (st == SG_OK)
    st = add_song_midi(r, pk, d);
  char *notes = st == SG_OK ? sg__notes_text(r) : NULL;
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
  return sg_package_finish_digest(pk, zsha, d);
}

/* Verify's code on the finished zip against the spec, as a client would run it: every entry
 * decoded once (the files side by side on the worker threads), hashed and metered on that read;
 * measure_all keeps each entry's pass for the package's own rows. */
struct sg__client {
  char zip[SG_MAX_PATH * 2 + 64];
  sg_verify_result vr;
  sg_status st;
  sg_diag d;
};

static sg_status run_client(sg__run *r, const char *zip, int measure_all, struct sg__client **out,
                            sg_diag *d) {
  struct sg__client *c = calloc(1, sizeof *c);
  *out = c;
  if (!c)
    return sg_diag_fail(d, SG_E_NOMEM, "render: out of memory");
  snprintf(c->zip, sizeof c->zip, "%s", zip);
  sg_verify_options vo;
  sg_verify_options_init(&vo);
  vo.package = zip;
  vo.reference = r->has_ref ? r->ref.source_path : NULL;
  vo.measure_all = measure_all;
  vo.jobs = r->opt->jobs;
  /* The final verification: what the master and fx steps measured on the files they wrote,
   * lent by the files' hashes (lend.c). verify takes a loan only for an entry whose bytes are
   * those files' (their CRC-32 read back, vouched for by the SHA-256 and CRC-32 taken on the
   * same read of the file; otherwise it hashes and analyses the entry in full), so the rows
   * still judge the delivered bytes. */
  sg_verify_lender lender;
  sg__lender_init(r, &lender);
  if (measure_all)
    vo.lender = &lender;
  sg_diag_clear(&c->d);
  c->st = sg_verify_package(r->song, &vo, &c->vr, &c->d);
  if (c->vr.n_lent)
    sg__log(r,
            "  verify: %d of %d files measured as they were written (%d read back from the "
            "archive for their CRC-32, the one taken with the SHA-256 of the file the render "
            "wrote)",
            c->vr.n_lent, c->vr.n_files, c->vr.n_vouched);
  return SG_OK;
}

void sg__package_client_free(sg__run *r) {
  if (r->client) {
    sg_verify_result_free(&r->client->vr);
    free(r->client);
    r->client = NULL;
  }
}

/* Appends the client's rows: the rows of both are made by the same check functions, so a
 * package that passed the render's gates and fails here means the delivered bytes differ from
 * what was measured. */
static sg_status verify_as_client(sg__run *r, const char *zip, sg_diag *d) {
  if (!r->client || strcmp(r->client->zip, zip)) {
    sg__package_client_free(r);
    struct sg__client *c = NULL;
    sg_status st = run_client(r, zip, 0, &c, d);
    r->client = c;
    if (st != SG_OK)
      return st;
  }
  struct sg__client *c = r->client;
  sg_status st = c->st;
  if (st != SG_OK && d)
    *d = c->d;
  if (sg_gate_report_append(&r->res->gates, &c->vr.report) != SG_OK)
    st = sg_diag_fail(d, SG_E_NOMEM, "render: out of memory");
  sg__package_client_free(r);
  sg__flush(r);
  return st;
}

void sg__package_zip_name(const sg__run *r, char *out, size_t cap) {
  const sg_song *s = r->song;
  if (s->deliverable.zip[0])
    snprintf(out, cap, "%s", s->deliverable.zip);
  else
    snprintf(out, cap, "%s.zip", s->slug);
}

void sg__package_zip_path(const sg__run *r, char *out, size_t cap) {
  char name[SG_MAX_PATH];
  sg__package_zip_name(r, name, sizeof name);
  /* The zip as delivered: in the set DIR/current shows (output_set.c). */
  snprintf(out, cap, "%s/current/%s", r->res->out_dir, name);
}

sg_status sg__package_switch(sg__run *r, sg_diag *d) {
  /* The loose files beside the zip, then the switch: DIR/current shows the whole new set. */
  sg_status st = sg__outset_add(r, r->master_path, r->master_archive, d);
  for (int k = 0; k < r->n_stems && st == SG_OK; ++k)
    st = sg__outset_add(r, r->stems[k].final, r->stems[k].archive, d);
  if (st == SG_OK)
    st = sg__outset_switch(r, d);
  return st;
}

sg_status sg__package_verify_client(sg__run *r, const char *zip, sg_diag *d) {
  return verify_as_client(r, zip, d);
}

/* The zip written, then verified from the archive: one pass per entry. */
/* report.html's envelopes of the files taken from the cache (they streamed nothing this run):
 * the traces kept beside their nodes when they were written (trace_cache.c), or, for a node
 * without one, the file read beside the zip writing, on the core the writer leaves mostly idle.
 * The same measurement of the same bytes: the same page as a clean render's. */
typedef struct trace_fetch {
  sg__run *r;
  unsigned fp_mode; /* the run's floating-point mode (sg_trace_add measures under it) */
  pthread_t th;
  int started;
} trace_fetch;

static void *trace_fetch_run(void *arg) {
  trace_fetch *tf = arg;
  sg__run *r = tf->r;
  sg_dsp_denormals_restore(tf->fp_mode);
  for (int k = 0; k < r->n_stems; ++k) {
    sg__stem *ss = &r->stems[k];
    char node[SG_MAX_NAME + 8];
    snprintf(node, sizeof node, "fx %s", ss->name);
    if (!ss->trace && ss->fx_uptodate) /* NULL: report.c tries again */
      ss->trace = sg__trace_take(r, node, &ss->fx_node, ss->final, 0);
  }
  if (!r->master_trace && r->master_uptodate)
    r->master_trace = sg__trace_take(r, "master", &r->master_node, r->master_path, 1);
  return NULL;
}

static void trace_fetch_start(trace_fetch *tf, sg__run *r) {
  tf->r = r;
  tf->fp_mode = sg_dsp_denormals_off();
  sg_dsp_denormals_restore(tf->fp_mode);
  tf->started = pthread_create(&tf->th, NULL, trace_fetch_run, tf) == 0;
}

static void trace_fetch_join(trace_fetch *tf) {
  if (tf->started)
    pthread_join(tf->th, NULL);
  tf->started = 0;
}

/* The set's files put on disk on a thread of their own while the render computes: the switch
 * (output_set.c) fsyncs every file of the set before DIR/current shows it, and on Linux the
 * first fsync of a run also waits for the journal commit (and, on a file system mounted with
 * discard, the previous set's freed blocks). Started early, that wait overlaps the zip writing
 * and the verification instead of stalling the render at the switch. Advisory only: an error
 * here is found again by the switch's own fsync, which decides. */
typedef struct bg_sync {
  char path[SG_MAX_PATH * 2 + 64];
  pthread_t th;
  int started;
} bg_sync;

static void *bg_sync_run(void *arg) {
  bg_sync *b = arg;
  int fd = open(b->path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
  return NULL;
}

static void bg_sync_start(bg_sync *b, const char *path) {
  snprintf(b->path, sizeof b->path, "%s", path);
  b->started = pthread_create(&b->th, NULL, bg_sync_run, b) == 0;
}

static void bg_sync_join(bg_sync *b) {
  if (b->started)
    pthread_join(b->th, NULL);
  b->started = 0;
}

sg_status sg__package_build(sg__run *r, const char *zip, char zsha[65], sg_diag *d) {
  const sg_song *s = r->song;
  trace_fetch tf;
  trace_fetch_start(&tf, r);
  bg_sync ms, zs;
  memset(&zs, 0, sizeof zs);
  bg_sync_start(&ms, r->master_path);
  sg_status st = write_zip(r, zip, zsha, d);
  if (st != SG_OK) {
    bg_sync_join(&ms);
    trace_fetch_join(&tf);
    return st;
  }
  bg_sync_start(&zs, zip);
  /* Final verification: every entry of the archive decoded once by verify's code (the client's
   * rows kept for the verification node), its bytes hashed and its loudness and true peak
   * measured on that read; the package's rows (hashes, headers, loudness and true peak as
   * delivered, after quantisation and dither, against the manifest and, for the master, the
   * ceiling) come from that pass. */
  sg__package_client_free(r);
  struct sg__client *c = NULL;
  st = run_client(r, zip, 1, &c, d);
  r->client = c;
  sg_features_free(r->master_feat); /* lent to that verification only */
  sg_meter_free(r->master_meter_live);
  r->master_feat = NULL;
  r->master_meter_live = NULL;
  const sg_package_entry_pass *pass = c ? c->vr.passes : NULL;
  const size_t npass = c ? (size_t)c->vr.n_passes : 0;
  if (st == SG_OK)
    st = sg_package_verify_passed(zip, NULL, pass, npass, &r->res->gates, d);
  if (st == SG_OK)
    st = sg_package_verify_loudness_passed(zip, NULL, pass, npass, 0.1, 0.1, &r->res->gates, d);
  sg__flush(r);
  for (size_t i = 0; st == SG_OK && i < r->res->gates.n; ++i) {
    const sg_gate_result *g = &r->res->gates.v[i];
    if (!strcmp(g->step, "package") && !strcmp(g->stem, r->master_archive) &&
        g->id == SG_CHECK_MANIFEST_TRUE_PEAK) {
      st = sg__gate(r, SG_CHECK_TRUE_PEAK_AS_WRITTEN, "package", SG__MASTER_NAME, g->measured,
                    s->master.true_peak_dbtp, 0, NULL, SG_SEV_FAIL, d);
      break;
    }
  }
  bg_sync_join(&zs);
  bg_sync_join(&ms);
  trace_fetch_join(&tf);
  return st;
}
