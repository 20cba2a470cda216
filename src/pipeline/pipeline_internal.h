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
#include "stemgate/spec.h"
#include "stemgate/timing.h"

#define SG__DRUMS_NAME "Drums"
#define SG__MASTER_NAME "Master"

/* Where a stem's dry audio comes from. */
typedef enum sg__source {
  SG__SRC_SPEC = 0, /* composed and synthesized from its spec (the drums included)  */
  SG__SRC_REFERENCE /* the drums: the client's reference track, fitted to the song  */
} sg__source;

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
  sg_meter_result final_meter;
  sg_audio_info final_info;
  char instrument[160];
} sg__stem;

/* The output folder's lock and the set of delivered files being assembled (output_set.c). */
typedef struct sg__outset {
  int lock_fd;
  int locked;                 /* lock_fd holds the folder's flock */
  int made;                   /* dir was created by this run */
  int switched;               /* DIR/current names dir */
  char name[64];              /* <pid>-<n> */
  char dir[SG_MAX_PATH + 64]; /* DIR/.sets/<name> */
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
  double bpm;
  size_t logged; /* gate rows already printed */
  sg__outset outset;
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
void sg__join(char *out, size_t cap, const char *a, const char *b);
/* Writer settings for a delivered or intermediate file of a stem (bext: optional BWF). */
void sg__writer_config(const sg__run *r, const char *stem, sg_audio_writer_config *c,
                       sg_bext *bext);

/* Meter and features together, fed by a writer's tap. */
typedef struct sg__probe {
  sg_meter *meter;
  sg_features *feat;
} sg__probe;
sg_status sg__probe_tap(void *user, const float *x, size_t n);
sg_status sg__probe_open(sg__probe *p, const sg_song *s, unsigned meter_flags, unsigned feat_flags,
                         sg_diag *d);
/* A cached file is not re-rendered but is measured again (a gate measures what is there now). */
sg_status sg__probe_file(sg__probe *p, const char *path, unsigned meter_flags, unsigned feat_flags,
                         sg_diag *d);
void sg__probe_close(sg__probe *p);

/* ---- the steps, one file each ---- */
sg_status sg__step_timing(sg__run *r, sg_diag *d);    /* step_timing.c    */
sg_status sg__step_reference(sg__run *r, sg_diag *d); /* step_reference.c */
sg_status sg__step_stems(sg__run *r, sg_diag *d);     /* step_stems.c: stems and drums, dry */
sg_status sg__step_fx(sg__run *r, sg_diag *d);        /* step_fx.c        */
sg_status sg__step_master(sg__run *r, sg_diag *d);    /* step_master.c    */
sg_status sg__step_package(sg__run *r, sg_diag *d);   /* step_package.c   */
/* NOTES.txt (notes.c); NULL when out of memory. */
char *sg__notes_text(const sg__run *r);

/* ---- output_set.c: one writer per folder, delivered files switched as one set ---- */
/* Creates the output folder, takes its lock (waits with opt->wait, else SG_E_IO naming the
 * holder's PID), removes what killed runs left, and makes this run's empty set folder. */
sg_status sg__outset_lock(sg__run *r, sg_diag *d);
/* out = the path of relative name inside the new set, its folders created. */
sg_status sg__outset_path(sg__run *r, const char *name, char *out, size_t cap, sg_diag *d);
/* Adds the finished file src to the set as name (hard link, or a copy). */
sg_status sg__outset_add(sg__run *r, const char *src, const char *name, sg_diag *d);
/* fsyncs the set and flips DIR/current to it; the previous set is removed. */
sg_status sg__outset_switch(sg__run *r, sg_diag *d);
/* Removes an unswitched set and drops the lock (always called, also after a failure). */
void sg__outset_release(sg__run *r);

/* ---- cache.c ---- */
/* Cache key of a stem's dry render; extra carries hashes of input files it reads. */
sg_status sg__cache_key_dry(const sg_song *s, const sg_timeline *tl, const sg_stem_spec *st,
                            const char *extra, char hex[65]);
/* Cache key of a stem after effects, gain and pan (side_key: the sidechain source's key). */
sg_status sg__cache_key_final(const char dry_key[65], const sg_stem_spec *st, const char *side_key,
                              double bpm, char hex[65]);
/* 1 when file exists, its record holds key, and its bytes still hash to what was stored; value
 * (optional) receives the number stored with it. */
int sg__cache_hit(const char *file, const char key[65], double *value);
sg_status sg__cache_store(const char *file, const char key[65], double value, sg_diag *d);

#endif
