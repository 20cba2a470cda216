/* stemgate pipeline: the seven gated steps from spec to verified package.
 *
 *   1 timing     the exact grid and section table, before any audio
 *   2 reference  the client's reference track verified, conformed, the grid aligned to it
 *   3 stems      each stem composed, rendered dry and verified right away
 *   4 drums      from the reference, or synthesized; verified
 *   5 fx         each stem's effect chain (sidechains included), gain and pan; verified
 *   6 master     sum with headroom, bus processing, loudness normalisation, true-peak limiting;
 *                verified
 *   7 package    zip + manifest + notes, re-read from the archive and verified again
 *
 * The run stops at the first required gate that fails. Every file is written to a temporary
 * name and renamed when complete, so what exists after a failure is valid. One render writes an
 * output folder at a time (an flock on DIR/.stemgate.lock); the delivered files (zip, master,
 * stems) are assembled in DIR/.sets/<pid>-<n> and shown as one set by flipping the link
 * DIR/current, so a failed or killed render leaves the previous set whole. DIR/work holds the
 * intermediate files and the cache. The cache covers every node (each stem's dry render and
 * effects, the master, the package, the final verification): a node whose key (its inputs'
 * keys, its spec part, its gate limits, the engine version) and output hashes match is not run
 * again and reports its recorded gate rows. Messages go to a caller-supplied log function. */
#ifndef STEMGATE_PIPELINE_H
#define STEMGATE_PIPELINE_H

#include "stemgate/core.h"
#include "stemgate/gate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Exit codes of the stemgate command, shared by render and verify. */
enum {
  SG_EXIT_OK = 0,    /* done, every required gate holds     */
  SG_EXIT_GATE = 1,  /* a gate failed                       */
  SG_EXIT_USAGE = 2, /* usage or spec error                 */
  SG_EXIT_IO = 3     /* input/output error, unreadable file */
};
/* Maps a status to the exit code above. */
int sg_exit_code(sg_status st);

typedef void (*sg_log_fn)(void *user, const char *line);
/* Called with each gate row as it is judged (the row is only valid during the call). */
typedef void (*sg_row_fn)(void *user, const sg_gate_result *row);
/* Called as audio is written: the step ("stems", "drums", "effects", "master"), the stem, and
 * the fraction (0..1) of this run's audio written so far (every dry render, effect chain and the
 * master that is not reused from the cache, counted in frames). Calls come from worker threads
 * but never at once (the runner serializes them); the library never prints. */
typedef void (*sg_progress_fn)(void *user, const char *step, const char *stem, double fraction);

typedef struct sg_render_options {
  const char *spec_path;
  const char *out_dir;     /* default "out/<slug>" */
  const char *reference;   /* overrides drums.reference in the spec; NULL: the spec's */
  int force;               /* 1: ignore the cache */
  int jobs;                /* stems produced at once; 0: one per core (at most 8). The files
                              and the report are identical for any value. */
  int wait;                /* 1: wait for another render holding the output folder's lock;
                              0: fail at once (SG_E_IO, exit 3) naming its PID */
  sg_log_fn log;           /* optional: one line per step and, without on_row, per gate row */
  void *log_user;          /* passed to log and on_row */
  sg_row_fn on_row;        /* optional: each gate row as it is judged, instead of a log line */
  sg_progress_fn progress; /* optional: how much audio is written (log_user is its user) */
  /* Auditions (either or both): only this stem (with its effects; the master and package are
   * not made) and/or only this section's frames, written to DIR/audition/ and never delivered
   * (no zip, DIR/current untouched). An unknown name is SG_E_USAGE with a did-you-mean. */
  const char *audition_stem;
  const char *audition_section;
  /* "flac" or "mp3": the master also as a compressed preview, DIR/preview/<slug>.<ext>, outside
   * the package (SG_E_UNSUPPORTED when the installed libsndfile cannot encode it). */
  const char *preview;
  /* A spec with a variations: block renders one variant, named as sg_song_variants names it;
   * without one such a spec is refused (SG_E_USAGE-like SG_E_INVAL naming the variants). */
  const char *variant;
  /* A content-addressed node cache shared between songs (dry and effects nodes of the stems,
   * keyed by the node key): a node another song rendered is linked in instead of rendered,
   * after its files hash to its record; a node rendered here is published. NULL: none. */
  const char *cache_dir;
} sg_render_options;

void sg_render_options_init(sg_render_options *o);

/* One node of the render graph and what this run did with it. */
typedef struct sg_render_node {
  char name[80]; /* "dry Bass", "fx Bass", "master", "package", "verify" */
  int reused;    /* 1: up to date (key and output hashes matched), its recorded rows reported */
  int shared;    /* 1: taken from the shared cache (opt.cache_dir) this run: "shared cache hit" */
} sg_render_node;

#define SG_RENDER_MAX_NODES 80

typedef struct sg_render_result {
  sg_gate_report gates; /* every gate verdict, in order */
  char zip_path[1024];
  char out_dir[1024];
  char report_path[1024]; /* report.html: DIR/current/report.html after a delivery,
                             DIR/work/report.html (marked failed) after a failed run; "" when
                             the run stopped before its output folder existed */
  int stems_rendered;     /* dry renders run this run */
  int stems_cached;       /* dry renders taken from the cache */
  double seconds;         /* song length */
  /* Every node reached, in report order: run again or reused. */
  sg_render_node nodes[SG_RENDER_MAX_NODES];
  int n_nodes;
  int nodes_run, nodes_reused;
  int nodes_shared;         /* of nodes_reused: taken from the shared cache this run */
  double first_failure_s;   /* SG_E_GATE: seconds from the start of the run to the first failure */
  char audition_path[1024]; /* the audition's file ("" when not an audition) */
  char preview_path[1024];  /* the preview ("" when none was asked for) */
} sg_render_result;

/* Runs the pipeline. Returns SG_OK, SG_E_GATE (a gate failed: d names step, stem, check, value,
 * limit), SG_E_SPEC (d has file:line:col), SG_E_IO, ... Free the result with
 * sg_render_result_free whatever the status. */
sg_status sg_render(const sg_render_options *opt, sg_render_result *res, sg_diag *d);
void sg_render_result_free(sg_render_result *res);

#ifdef __cplusplus
}
#endif
#endif
