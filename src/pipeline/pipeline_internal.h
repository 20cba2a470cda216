/* Internal to the pipeline module: the per-run state every step reads and writes, and the small
 * helpers the step files share. The parsed song is never written: what a run decides (the
 * tempo taken from a reference, the drums' source) lives here. */
#ifndef SG_PIPELINE_INTERNAL_H
#define SG_PIPELINE_INTERNAL_H

#include "stemgate/analysis.h"
#include "stemgate/compose.h"
#include "stemgate/gate.h"
#include "stemgate/mix.h"
#include "stemgate/pipeline.h"
#include "stemgate/reference.h"
#include "stemgate/report.h"
#include "stemgate/spec.h"
#include "stemgate/timing.h"
#include "stemgate/verify.h"

#include <pthread.h>

#define SG__DRUMS_NAME "Drums"
#define SG__MASTER_NAME "Master"
/* The engine's output epoch: every cache key (nodes, fx probes) carries it. Bump it on any change
 * to the bytes a node writes or the rows it reports for the same inputs. */
#define SG__CACHE_EPOCH "cache 10"

/* Where a stem's dry audio comes from. */
typedef enum sg__source {
  SG__SRC_SPEC = 0, /* composed and synthesized from its spec (the drums included)  */
  SG__SRC_REFERENCE /* the drums: the client's reference track, fitted to the song  */
} sg__source;

/* Effect verification of one chain (step_fx.c): each effect's design, probe and in-situ result. */
typedef struct sg__fxv {
  int n;
  sg_fx_design design[SG_MAX_EFFECTS];
  sg_fx_probe_result probe[SG_MAX_EFFECTS];
  int probe_cached[SG_MAX_EFFECTS];
  sg_insitu_result insitu[SG_MAX_EFFECTS];
  int has_insitu[SG_MAX_EFFECTS];
  /* while the chain runs: the accumulators and the sidechain stems as the spec names them */
  sg_insitu *acc[SG_MAX_EFFECTS];
  sg_audio_reader *side[SG_MAX_EFFECTS];
  unsigned side_ch[SG_MAX_EFFECTS];
  float *side_buf; /* interleaved read buffer, then planar L, R */
  /* a keyed compressor's candidate keys: every other stem's dry file, read alongside */
  int n_keys[SG_MAX_EFFECTS];
  sg_audio_reader *key[SG_MAX_EFFECTS][SG_INSITU_MAX_KEYS];
  unsigned key_ch[SG_MAX_EFFECTS][SG_INSITU_MAX_KEYS];
  const char *key_name[SG_MAX_EFFECTS][SG_INSITU_MAX_KEYS];
  float *key_buf[SG_MAX_EFFECTS]; /* planar L, R per key */
} sg__fxv;
/* A node's record (cache.c): key, hashes of the files it wrote, the values and texts later
 * steps read, and its gate rows. */
#define SG__NODE_VALS 32
#define SG__NODE_TEXTS 24
#define SG__NODE_FILES (SG_MAX_STEMS + 3) /* the package: zip, master, every stem */
/* What stat(2) said of a file when it was hashed (cache.c: the stat cache). */
typedef struct sg__fstat {
  int have, checked; /* checked: hashed or matched this run (else as loaded from the cache) */
  long long size, mt_s, mt_ns, ct_s, ct_ns, ino, dev;
} sg__fstat;
typedef struct sg__node {
  char key[65];
  int nf;
  char fsha[SG__NODE_FILES][65];
  /* Each file's CRC-32, taken with its SHA-256 from the same read (sg__node_hash_crc), for the
   * zip entry of a delivered file; fcrc_ok 0: not known (a record without it). */
  uint32_t fcrc[SG__NODE_FILES];
  unsigned char fcrc_ok[SG__NODE_FILES];
  /* The stat cache (work/nodes/.stat/, machine state kept apart from the deterministic record):
   * each file's stat when it last hashed to fsha, and the stat file's own mtime (racy rule). */
  sg__fstat fst[SG__NODE_FILES];
  long long fst_s, fst_ns;
  int nv;
  char vname[SG__NODE_VALS][24];
  double val[SG__NODE_VALS];
  int nt;
  char tname[SG__NODE_TEXTS][24];
  char *text[SG__NODE_TEXTS];
  sg_gate_report rows;
} sg__node;

/* What the pipeline knows about one stem as it moves through the steps. */
typedef struct sg__stem {
  char name[SG_MAX_NAME];
  const sg_stem_spec *spec; /* the song's stem, or the run's drums spec: never NULL */
  int is_drums;             /* composed by the drum composer, synthesized by the drum kit */
  sg__source source;
  char dry[SG_MAX_PATH];   /* work/dry/<name>.wav */
  char final[SG_MAX_PATH]; /* <out>/<naming> */
  char archive[SG_MAX_PATH];
  char midi[SG_MAX_PATH]; /* work/midi/<name>.mid ("" when none) */
  char dry_key[65], final_key[65];
  int cached_dry, cached_final;
  sg_compose_report comp;
  double dry_cut_db;
  sg_features *dry_feat; /* the dry stem's features, kept for the effect-evidence gates */
  /* Results of a produce phase (run on worker threads), judged in order afterwards. */
  sg_note_list notes;
  int composed;    /* compose succeeded: the note gates can be judged */
  sg_meter *meter; /* what the writer's tap (or a re-read of a cached file) measured */
  sg_features *feat;
  sg_status produced; /* status of the produce phase */
  sg_diag produce_diag;
  sg_stem_fx_report fx;
  sg__fxv *fxv; /* effect verification (step_fx.c), NULL before the fx step */
  sg_meter_result final_meter;
  sg_audio_info final_info;
  sg_trace *trace; /* the delivered stem's envelope for report.html, taken while it was written */
  char instrument[160];
  double attack_s; /* the instrument's amplitude attack (NAN: unknown), for note_timing */
  /* Node state (cache.c): the records found for this stem's dry and fx nodes. */
  int dry_rec;               /* the dry record's key matches (its file not yet checked) */
  int fx_uptodate;           /* the fx record's key matches and the delivered file hashes to it */
  int dry_uptodate;          /* the dry node is reused with its rows (no audio decoded) */
  int dry_shared, fx_shared; /* the record came from the shared cache this run */
  sg__node dry_node, fx_node;
  double cost;    /* estimated cost of the dry stem and its effects: longest first */
  double fx_cost; /* of its effects alone */
  int alone;      /* the only stem steps 3-5 work on: its instrument and taps use the second core */
  int fuse;       /* alone, and its effects may run beside its dry render (fuse.c) */
  struct sg__fused *fused; /* those effects' thread, until the effects' produce phase joins it */
  int fused_done;          /* its effects were rendered so (said in the log) */
  /* The effects file's hash running beside the later steps (sg__fx_hash), and what waits for it:
   * the node's record (fx_rec) and the lent envelope (fx_lend); sg__fx_settle does them. */
  struct sg__hash_job *fx_hash;
  int fx_rec, fx_lend;
  int tail;   /* its effects are the last work of steps 3-5: their taps use the other core */
  int judged; /* fail fast: set by the judge when this stem passed its dry gates */
} sg__stem;

/* The output folder's lock and the set of delivered files being assembled (output_set.c). */
typedef struct sg__outset {
  int lock_fd;
  int locked;                 /* lock_fd holds the folder's flock */
  int made;                   /* dir was created by this run */
  int switched;               /* DIR/current names dir */
  char name[64];              /* <pid>-<n> */
  char dir[SG_MAX_PATH + 64]; /* DIR/.sets/<name> */
  struct sg__sweep *sweep;    /* the stale sets being removed beside the package step */
} sg__outset;

typedef struct sg__run {
  const sg_render_options *opt;
  sg_render_result *res;
  const sg_song *song; /* the song as the run sees it (song_copy when the run decided a tempo) */
  sg_song *loaded;     /* as parsed */
  sg_song *song_copy;  /* tempo: auto: the loaded song with the reference's tempo */
  sg_stem_spec drums;  /* the song's drums block as a stem spec */
  sg_timeline tl;
  sg_reference ref;
  int has_ref;
  char work[SG_MAX_PATH];
  sg__stem stems[SG_MAX_STEMS + 1];
  int n_stems;
  char master_path[SG_MAX_PATH];
  char master_archive[SG_MAX_PATH];
  sg_meter_result master_meter;
  sg_master_report master_rep;
  sg_trace *master_trace; /* the master's envelope, loudness and true peak for report.html */
  sg_key_track key_track; /* the master's key per window, for report.html */
  /* The master step's features of the master it wrote (the tap's, finished), lent to the final
   * verification with the master's hash (its node record's): verify takes them instead of
   * analysing the master again only when the zip's master entry hashes the same. NULL when the
   * master was taken from the cache; freed once the package is verified. */
  sg_features *master_feat;
  sg_meter *master_meter_live; /* the master writer's meter, kept and freed with master_feat */
  int has_key_track;
  /* The master per section (step_master.c, kept in the master's node record): integrated
   * loudness (LUFS) and RMS (dBFS), for the rows, NOTES.txt and the manifest. */
  double sec_lufs[SG_MAX_SECTIONS], sec_rms_db[SG_MAX_SECTIONS];
  double bpm;
  size_t logged; /* gate rows already printed */
  char ref_sha[65];
  char master_key[65];
  int master_uptodate;
  sg__node master_node;
  /* The master's bus before its loudness normalisation (step_master.c): kept in work/master.bus
   * with its node (the bus effects' verification rows), so a change of the master's loudness or
   * ceiling alone runs only the limited passes. */
  char bus_path[SG_MAX_PATH];
  sg__node bus_node;
  int pkg_rec; /* the package record was found and the zip still hashes to it */
  sg__node pkg_node;
  struct sg__client *client; /* the package's verification as a client, kept for its node */
  /* The package begun while the master renders (sg__package_start): the stems' entries are
   * written into pkg_zip on the zip writer's thread meanwhile; sg__package_build finishes it. */
  struct sg_package *pkg_early;
  pthread_t pkg_th; /* sg__package_start's thread, while pkg_th_on */
  int pkg_th_on;
  sg_status pkg_settle; /* its sg__fx_settle, and the message */
  sg_diag pkg_settle_d;
  void *pool;                       /* the two-phase pool while it runs (run.c) */
  struct sg__hash_job *master_hash; /* the master's file hashed beside its gates (nodes.c) */
  char pkg_zip[SG_MAX_PATH * 2 + 64];
  _Atomic int cancel; /* set when a gate failed: workers stop at their next block */
  double t0;          /* monotonic start of the run, for the time to the first failure */
  sg__outset outset;
  /* progress (opt->progress): frames written so far of prog_total, calls serialized */
  _Atomic long long prog_done;
  long long prog_total;
  pthread_mutex_t prog_lock;
} sg__run;

/* ---- helpers (run.c) ---- */
void sg__log(sg__run *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prints the gate rows added since the last call. */
void sg__flush(sg__run *r);
/* A row of the check table, printed at once. */
sg_status sg__gate(sg__run *r, sg_check_id id, const char *step, const char *stem, double m,
                   double limit, double target, const char *detail, sg_severity sev, sg_diag *d);
sg_status sg__gate_text(sg__run *r, sg_check_id id, const char *step, const char *stem,
                        const char *measured, const char *expected, int pass, sg_diag *d);
/* Runs work on the stems listed in todo[0..n) on up to opt->jobs threads. */
void sg__run_pool(sg__run *r, void (*work)(sg__run *, sg__stem *), const int *todo, int n);
/* One phase of sg__run_two_phases: work on the stems todo[0..n) (judge order), and whether a
 * stem's work in the second phase reads other stems' first-phase files (it then waits for
 * every first phase and the between step). */
typedef struct sg__phase {
  void (*work)(sg__run *, sg__stem *);
  sg_status (*judge)(sg__run *, sg__stem *, sg_diag *);
  const int *todo;
  int n;
  int (*needs_all)(const sg__run *, const sg__stem *);
} sg__phase;
/* The dry stems and their effects on one pool (run.c): a stem's second phase is produced as
 * soon as its first is judged; judged in report order (a's, between, b's); the first failure
 * cancels the work in flight and is returned after the workers stopped. */
sg_status sg__run_two_phases(sg__run *r, const sg__phase *a, const sg__phase *b,
                             sg_status (*between)(sg__run *, sg_diag *), sg_diag *d);
/* Inside sg__run_two_phases: waits until every first phase but except's is done (produced, not
 * necessarily judged); 0 when the run was cancelled meanwhile. 1 at once outside it. */
int sg__run_wait_dry(sg__run *r, const sg__stem *except);
/* The worker threads sg__run_two_phases started (0 outside it). */
int sg__run_workers(sg__run *r);
/* Seconds on a monotonic clock. */
double sg__now(void);
/* Records a node as run (0) or reused (1; 2: from the shared cache) in the result, and logs
 * "up to date" or "shared cache hit" for a reused one. */
void sg__node_report(sg__run *r, const char *node, int reused);
void sg__join(char *out, size_t cap, const char *a, const char *b);
/* The bext date and time: from SOURCE_DATE_EPOCH, or empty (the writer's fixed date). */
void sg__bext_date(char date[11], char time_[9]);
/* Writer settings for a delivered or intermediate file of a stem (bext: optional BWF, its
 * loudness filled at close from the sg__probe the caller sets as tap_user). */
void sg__writer_config(const sg__run *r, const char *stem, sg_audio_writer_config *c,
                       sg_bext *bext);

/* Meter and features together, fed by a writer's tap. */
typedef struct sg__probe {
  sg_meter *meter;
  sg_features *feat;
  sg_trace *trace;     /* optional: the envelope report.html draws */
  _Atomic int *cancel; /* optional: the tap fails as soon as it is set (fail fast) */
  sg__run *run;        /* optional: progress of step/stem reported through run->opt->progress */
  const char *step, *stem;
} sg__probe;
/* bext_final of the writers the probe taps: the loudness of what was written. */
void sg__probe_bext(void *user, sg_bext *b);
/* Progress reporting for the writes the probe taps (see sg_progress_fn). */
void sg__probe_progress(sg__probe *p, sg__run *r, const char *step, const char *stem);
sg_status sg__probe_tap(void *user, const float *x, size_t n);
sg_status sg__probe_open(sg__probe *p, const sg_song *s, unsigned meter_flags, unsigned feat_flags,
                         sg_diag *d);
/* A cached file is not re-rendered but is measured again (a gate measures what is there now). */
sg_status sg__probe_file(sg__probe *p, const char *path, unsigned meter_flags, unsigned feat_flags,
                         sg_diag *d);
void sg__probe_close(sg__probe *p);
/* After a produce phase: with st SG_OK the features are finished and the meter and features
 * move to the stem; otherwise they are freed. Returns the final status. */
sg_status sg__probe_hand_over(sg__probe *p, sg__stem *ss, sg_status st);

/* ---- the steps, one file each ---- */
sg_status sg__step_timing(sg__run *r, sg_diag *d); /* step_timing.c    */
/* The timing step's grid and length gates on r->tl (step 2 runs them with tempo: auto). */
/* A song whose spec changes tempo: the mix's tempo callback (sg_timeline_tempo_at on the run's
 * grid) and the slowest tempo, so tempo-synced delays follow the map; *fn NULL otherwise. */
void sg__tempo_follow(const sg__run *r, double (**fn)(const void *, int64_t), const void **user,
                      double *min_bpm);
sg_status sg__timing_gates(sg__run *r, sg_diag *d);
sg_status sg__step_reference(sg__run *r, sg_diag *d); /* step_reference.c */
/* The ring-out of `ending: ring`: how long the stems' instruments and effects and the bus ring
 * after the final hit, handed to the timeline's length rule (step_timing.c). */
sg_status sg__plan_ending(sg__run *r, sg_diag *d);
/* A stem's instrument as the stems step builds it (step_stems.c); desc may be NULL. */
sg_status sg__create_synth(const sg__run *r, const sg__stem *ss, sg_synth **out, sg_diag *d);
/* step_stems.c: stems and drums, dry, and their effects (step_fx.c) on one pool */
sg_status sg__step_stems(sg__run *r, sg_diag *d);
/* step_fx.c: a stem's effects produced (any thread), and whether they read other stems' dry
 * files (a sidechain, a keyed compressor's candidate keys). */
void sg__fx_produce(sg__run *r, sg__stem *ss);
/* The effects of ss started beside its dry render, fed by ring (fuse.c; the stem's fused
 * thread then owns ring). sg__fx_produce takes their results; sg__fx_fused_join with keep 0
 * drops them (a run that stopped first). Safe without a thread. */
typedef struct sg__fused sg__fused;
typedef struct sg__ring sg__ring;
sg_status sg__fx_fused_start(sg__run *r, sg__stem *ss, sg__ring *ring);
void sg__fx_fused_join(sg__stem *ss, int keep);
/* fuse.c: the dry samples from the dry writer's tap to the effects, as a bounded queue. */
sg_status sg__ring_create(sg__ring **out, unsigned channels);
void sg__ring_free(sg__ring *q);
/* Producer: n interleaved frames; blocks while the queue is full; dropped once abandoned. */
sg_status sg__ring_push(sg__ring *q, const float *x, size_t n);
/* Producer done: st SG_OK (then zeros follow the frames) or its failure (passed to the reader). */
void sg__ring_close(sg__ring *q, sg_status st);
/* Consumer done: the producer no longer waits for it. */
void sg__ring_abandon(sg__ring *q);
/* sg_stem_fx_job.dry_read over a ring (user). */
sg_status sg__ring_read(void *user, float *L, float *R, size_t n, sg_diag *d);
/* The dry writer's tap while effects read along: the probe's tap, then the queue. */
typedef struct sg__ring_tap_ctx {
  sg__probe *probe;
  sg__ring *ring;
} sg__ring_tap_ctx;
sg_status sg__ring_tap(void *user, const float *x, size_t n);
int sg__fx_needs_all_dry(const sg__run *r, const sg__stem *ss);
sg_status sg__step_master(sg__run *r, sg_diag *d);  /* step_master.c    */
sg_status sg__step_package(sg__run *r, sg_diag *d); /* step_package.c   */
/* Effect verification (step_fx.c): designs and probes (cached by effect configuration) and the
 * in-situ accumulators of a chain; self names the stem (its sidechain cannot be itself). */
sg_status sg__fxv_open(sg__run *r, const char *self, const sg_effect_spec *fx, int n, sg__fxv **out,
                       sg_diag *d);
/* tap_relay.c: a stem's writer and effects taps run on a thread of their own, in order. */
typedef struct sg__relay sg__relay;
sg_status sg__relay_start(sg__relay **out, sg_audio_tap_fn wfn, void *wuser,
                          void (*bfn)(void *, sg_bext *), unsigned channels, sg_fx_tap_fn ffn,
                          void *fuser);
/* The writer's bext_final through the relay: waits for the queued blocks, then calls bfn. */
void sg__relay_bext_final(void *user, sg_bext *b);
sg_status sg__relay_writer_tap(void *user, const float *x, size_t frames);
void sg__relay_fx_tap(void *user, int effect, const float *inL, const float *inR, const float *outL,
                      const float *outR, const float *sideL, const float *sideR, size_t n);
/* Runs what is queued, stops the thread; the writer tap's first error, if any. */
sg_status sg__relay_finish(sg__relay *r);

void sg__fxv_tap(void *user, int effect, const float *inL, const float *inR, const float *outL,
                 const float *outR, const float *sideL, const float *sideR, size_t n);
/* Results out of the accumulators (which are freed); the sidechain readers are closed. */
void sg__fxv_finish(sg__fxv *v);
void sg__fxv_free(sg__fxv *v);
/* The probe and in-situ rows of every effect of a chain (step: "fx" or "master"). */
/* The rows of one effect, built apart from a run so tests judge them as render does: the probe's
 * (sg__fxv_probe_rows) and the in-situ measurement's (sg__fxv_insitu_rows; key_names: the
 * candidate keys of a keyed compressor, may be NULL). Each returns the rows written (<= cap). */
typedef struct sg__fxv_row {
  sg_check_id id;
  double measured, limit, target; /* limit SG_LIMIT_DEFAULT: the table's */
  sg_severity sev;
  char detail[320];
} sg__fxv_row;
int sg__fxv_probe_rows(const sg_fx_probe_result *p, const char *at, sg__fxv_row *rows, int cap);
int sg__fxv_insitu_rows(const sg_fx_design *ds, const sg_insitu_result *q, double rate,
                        const char *at, const char *const *key_names, sg__fxv_row *rows, int cap);
/* The in-situ measurement's configuration for an effect's design (keys aside). */
void sg__fxv_insitu_config(const sg_fx_design *ds, const sg_fx_probe_result *p, double rate,
                           sg_insitu_config *c);
sg_status sg__fxv_rows(sg__run *r, const char *step, const char *stem, const sg_effect_spec *fx,
                       const sg__fxv *v, sg_diag *d);

sg_status sg__step_master(sg__run *r, sg_diag *d); /* nodes.c + step_master.c  */
/* The master bus's key (cache.c): the final stems, the bus effects, the headroom, the grid and
 * the limits the bus effects' rows are judged by; not the loudness target or the ceiling. */
sg_status sg__cache_key_bus(const sg__run *r, char hex[65]);
sg_status sg__step_package(sg__run *r, sg_diag *d); /* nodes.c + step_package.c */
/* After the set is delivered: the stat cache of every node with files (nodes.c). */
void sg__nodes_stat_save(sg__run *r);
/* Keys of every node and the state of their records, before any step runs (nodes.c). */
sg_status sg__plan_nodes(sg__run *r, sg_diag *d);
/* The sidechain source of a stem (step_fx.c): NULL when none; *bad set when it names no other
 * stem of the song. */
const sg__stem *sg__sidechain_source(const sg__run *r, const sg__stem *ss, int *bad);
/* Effects nodes (nodes.c): reuse a record (1) in the produce phase, hash a fresh file, and
 * judge with the record around the step's own judge. */
int sg__fx_reuse(sg__run *r, sg__stem *ss);
sg_status sg__fx_hash(sg__stem *ss, sg_diag *d);
/* Joins every effects file hash still running and writes what waited for it (the records, the
 * shared cache entries, the kept traces, the lent envelopes). Before anything reads an effects
 * node's file hash: the package's stems, the report, the stat cache. */
sg_status sg__fx_settle(sg__run *r, sg_diag *d);
/* The fx stem's onset envelope lent by its file's hash (lend.c); then, once its judge is done
 * (judged), its meter and features freed, else its features unless a delay gate reads them. */
void sg__fx_lend(sg__run *r, sg__stem *ss, int judged);
sg_status sg__fx_node_judge(sg__run *r, sg__stem *ss,
                            sg_status (*judge)(sg__run *, sg__stem *, sg_diag *), sg_diag *d);
sg_status sg__fx_judged(sg__run *r, sg__stem *ss, sg_diag *d); /* step_fx.c */
/* The master run and judged (step_master.c); sg__step_master (nodes.c) reuses its record. */
sg_status sg__master_run(sg__run *r, sg_diag *d);
/* step_package.c: where the zip goes; the zip written and re-verified from the archive; verify's
 * own code run on it. sg__step_package (nodes.c) reuses their records. */
/* The zip's name inside the delivered set (deliverable.zip or <slug>.zip). */
void sg__package_zip_name(const sg__run *r, char *out, size_t cap);
/* The master and stems added beside the zip in this run's new set, then DIR/current flipped to
 * it (output_set.c). */
sg_status sg__package_switch(sg__run *r, sg_diag *d);
void sg__package_zip_path(const sg__run *r, char *out, size_t cap);
/* The zip written, then verified from the archive in one pass per entry: verify's own code (as a
 * client would run it) decodes every entry once on the worker threads, hashing and metering
 * it, and the package's rows are made from that pass; the zip's entry digest (zsha,
 * sg_zip_digest_file) is taken as it is written, from the entries' known hashes. The verification's
 * result is kept in r->client for sg__package_verify_client, which appends its rows (or runs verify
 * when none is kept). */
sg_status sg__package_build(sg__run *r, const char *zip, char zsha[65], sg_diag *d);
/* Before the master renders, when the package will be written anew: the zip begun in the new
 * set with every stem's entries (the stems are final and hashed by now), written on the zip
 * writer's thread while the master takes the caller's (the stems' copy into the archive was
 * most of the package step). Any failure only leaves the zip to sg__package_build. */
void sg__package_start(sg__run *r);
/* The begun package dropped (its .partial removed), when the run ends without building it. */
void sg__package_drop(sg__run *r);
/* Joins sg__package_start's thread and settles the effects nodes (sg__fx_settle): before the
 * package step reads their hashes, and before a run that stopped writes its report. */
sg_status sg__package_settle(sg__run *r, sg_diag *d);
sg_status sg__package_verify_client(sg__run *r, const char *zip, sg_diag *d);
void sg__package_client_free(sg__run *r);
/* NOTES.txt (notes.c); NULL when out of memory. */
char *sg__notes_text(const sg__run *r);

/* ---- report.c: report.html ---- */
/* The report of this run as far as it got: from the taps' traces, the master's key track, the
 * written MIDI files, the timeline, the reference and every gate row; files a reused node did
 * not stream are read once. Written to DIR/work/report.html (marked failed when st is not
 * SG_OK, with d's message); with deliver it is also added to the new set as report.html. */
sg_status sg__report_write(sg__run *r, sg_status run_st, const sg_diag *why, int deliver,
                           sg_diag *d);

/* ---- trace_cache.c: report.html's envelopes kept beside their nodes ---- */
/* Saves t, the trace of node's one file as written this run, keyed by the file's hash in n
 * (work/nodes/<node>.trace); failures only cost a read of the file next time. */
void sg__trace_keep(const sg__run *r, const char *node, const sg__node *n, const sg_trace *t);
/* The trace of node's file (up to date: its hash in n holds): the one kept for that hash, else
 * the file read through sg_trace_file (and kept). NULL when neither works. */
sg_trace *sg__trace_take(const sg__run *r, const char *node, const sg__node *n, const char *file,
                         int loudness);

/* Copies the file src to dst (created or truncated); SG_E_IO naming the file. */
sg_status sg__copy_file(const char *src, const char *dst, sg_diag *d);

/* ---- shared_cache.c: the content-addressed node cache shared between songs ---- */
/* With opt->cache_dir: when the entry of key holds (its record's hashes match its files), its
 * files are copied to dest0 (and a MIDI file to work/<the record's "midi">) and its record to
 * rec, each through a temporary name and a rename; 1 when done. A corrupted entry is moved
 * aside and removed (0: the caller renders, and publishes a good entry). */
int sg__shared_fetch(const sg__run *r, const char key[65], const char *rec, const char *dest0);
/* Publishes a node just recorded at rec with its files: copied into a private temporary folder,
 * fsynced, and renamed to the entry's content address (lock-free: when another writer got
 * there first, the rename fails and this copy is dropped). Failures only skip the publication. */
void sg__shared_publish(const sg__run *r, const char key[65], const char *rec,
                        const char *const *files, int nf);

/* ---- output_set.c: one writer per folder, delivered files switched as one set ---- */
/* Creates the output folder, takes its lock (waits with opt->wait, else SG_E_IO naming the
 * holder's PID), removes what killed runs left, and makes this run's empty set folder. */
sg_status sg__outset_lock(sg__run *r, sg_diag *d);
/* out = the path of relative name inside the new set, its folders created. */
sg_status sg__outset_path(sg__run *r, const char *name, char *out, size_t cap, sg_diag *d);
/* Adds the finished file src to the set as name (hard link, or a copy). */
sg_status sg__outset_add(sg__run *r, const char *src, const char *name, sg_diag *d);
/* fsyncs the set and flips DIR/current to it. The previous set is left to the next run that
 * builds a package (sg__outset_sweep). */
sg_status sg__outset_switch(sg__run *r, sg_diag *d);
/* Starts removing, on a thread of its own, every set but the one DIR/current shows and this
 * run's: the set an earlier run replaced and those of killed runs. Called as a package starts
 * to be built, so the removal (its unlinks wait on the journal and on the device's discards)
 * overlaps the zip writing instead of holding up the end of a render; joined by
 * sg__outset_release, under the lock. Without a thread, nothing is removed this run. */
void sg__outset_sweep(sg__run *r);
/* Removes an unswitched set and drops the lock (always called, also after a failure). */
void sg__outset_release(sg__run *r);

/* ---- cache.c ---- */
/* Cache key of a stem's dry render; extra carries hashes of input files it reads. */
sg_status sg__cache_key_dry(const sg_song *s, const sg_timeline *tl, const sg_stem_spec *st,
                            const char *extra, char hex[65]);
/* Cache key of a stem after effects, gain and pan (side_key: the sidechain source's key). */
sg_status sg__cache_key_final(const char dry_key[65], const sg_stem_spec *st, const char *side_key,
                              double bpm, int64_t file_frames, char hex[65]);
/* 1 when file exists, its record holds key, and its bytes still hash to what was stored; value
 * (optional) receives the number stored with it. */
void sg__node_init(sg__node *n, const char key[65]);
void sg__node_free(sg__node *n);
void sg__node_num(sg__node *n, const char *name, double v);
double sg__node_get_num(const sg__node *n, const char *name, double def);
void sg__node_text(sg__node *n, const char *name, const char *s);
const char *sg__node_get_text(const sg__node *n, const char *name, const char *def);
/* Hashes the node's output files into n (worker threads may call it). first (optional): the
 * first file's digest as its writer streamed it, taken instead of reading the file when it held
 * and the file is still what was written. */
sg_status sg__node_hash(sg__node *n, const char *const *files, int nf, const sg_audio_digest *first,
                        sg_diag *d);
/* The same, each file's CRC-32 taken from the same read (files delivered in the zip). */
sg_status sg__node_hash_crc(sg__node *n, const char *const *files, int nf,
                            const sg_audio_digest *first, sg_diag *d);
/* sg__node_hash_crc of one file on a thread of its own while the caller goes on (the master's
 * file hashed while its gates are judged). Until sg__node_hash_join returns, n's file fields
 * (nf, fst, fsha, fcrc) are the thread's; path must outlive it. Without a thread it is hashed at
 * once: *job NULL, the hash's status returned. join: waits and returns the hash's status (its
 * message in d); a NULL job returns SG_OK. */
typedef struct sg__hash_job sg__hash_job;
sg_status sg__node_hash_crc_start(sg__node *n, const char *path, sg__hash_job **job, sg_diag *d);
sg_status sg__node_hash_join(sg__hash_job *job, sg_diag *d);
/* Copies the report's rows [from, g->n) into the node. */
sg_status sg__node_rows_from(sg__node *n, const sg_gate_report *g, size_t from);
sg_status sg__node_write(const char *record, const sg__node *n, sg_diag *d);
/* 1 when record holds key (any key when NULL) and each of files[0..nf) still hashes to what was
 * recorded (not checked when files is NULL): n then holds the record (free it); 0 otherwise
 * (n empty). */
int sg__node_load(const char *record, const char key[65], const char *const *files, int nf,
                  sg__node *n);
/* 1 when files[0..nf) hold what n recorded: a file whose stat (size, mtime and ctime in ns,
 * inode, device) equals the one cached when it last hashed to its recorded SHA-256, and whose
 * mtime is older than that cache entry (racy rule), is not read; any other is hashed, and on a
 * match its stat is cached in n. */
int sg__node_files_hold(sg__node *n, const char *const *files, int nf);
/* 1 when the file i of n holds (as sg__node_files_hold, for one file). */
int sg__node_file_holds(sg__node *n, int i, const char *path);
/* A file's hash as node records hold it: for a zip (its first bytes a local header) the entry
 * digest (sg_zip_digest_file), which the package writer takes without reading the archive back;
 * for any other file its SHA-256. */
sg_status sg__record_hash(const char *path, char hex[65], sg_diag *d);
/* Saves the stat cache of the node recorded at record: for each of files[0..nf) that was hashed
 * or checked this run (its stat noted then), its stat now, provided size, mtime, inode and device
 * are still those noted (the ctime moves when the delivered set links the file); a file not
 * hashed or checked this run (a dry stem reused unread) keeps no entry. Called at
 * the end of a run that delivered; failures only cost a hash next run. */
void sg__node_stat_save(const char *record, sg__node *n, const char *const *files, int nf);
/* Notes the stat of file i of n, just hashed by the caller (this run, under the folder's lock). */
void sg__node_stat_note(sg__node *n, int i, const char *path);
/* work/nodes/<node>.json */
void sg__node_record_path(const sg__run *r, const char *node, char *out, size_t cap);
sg_status sg__cache_key_master(const sg__run *r, char hex[65]);
/* Key of the package or verification node: a, b and the gate rows so far. */
sg_status sg__cache_key_text(const char *kind, const char *a, const char *b,
                             const sg_gate_report *g, char hex[65]);

/* ---- lend.c: the render's own analysis lent to its final verification by content hash ---- */
/* work/nodes/<fx node>.lend: a stem's sidecar. */
void sg__lend_path(const sg__run *r, const sg__stem *ss, char *out, size_t cap);
/* Writes (atomically) the sidecar of the file hashing to sha: m (SG_METER_ALL, finished) and
 * the onset envelope of f. Errors only cost the lending (SG_E_IO, SG_E_NOMEM, SG_E_INVAL). */
sg_status sg__lend_write(const char *path, const char sha[65], const sg_meter *m,
                         const sg_features *f);
/* 1 with a frozen meter and onset-only features (the caller frees both) when path is an intact
 * sidecar of this version for the file hashing to sha; 0 otherwise. */
int sg__lend_read(const char *path, const char sha[65], sg_meter **m, sg_features **f);
/* The lender of a run: the master from memory (master_meter_live, master_feat), the stems from
 * their sidecars. Valid while r is. */
void sg__lender_init(sg__run *r, sg_verify_lender *l);

#endif
