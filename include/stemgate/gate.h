/* stemgate gates: a gate is a measurement, a limit and a verdict.
 *
 * One table of checks drives the render pipeline's gates, `stemgate verify` and the unit tests,
 * so a check that passes in one place cannot quietly mean something else in another. Results
 * collect in an sg_gate_report (step, stem, check, measured, limit, unit, verdict), which the
 * CLI prints one line each and the package writes into manifest.json. */
#ifndef STEMGATE_GATE_H
#define STEMGATE_GATE_H

#include "stemgate/analysis.h"
#include "stemgate/check.h"
#include "stemgate/core.h"
#include "stemgate/io.h"
#include "stemgate/spec.h"
#include "stemgate/timing.h"

#include <math.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sg_gate_result {
  sg_check_id id; /* the check (include/stemgate/check.h); check[] is its name */
  char step[32];
  char stem[64];
  char check[64];
  double measured;
  double limit;
  double target; /* for SG_CMP_WITHIN */
  sg_cmp cmp;
  char unit[16];
  int pass;             /* verdict */
  int required;         /* 0: advisory (reported, does not fail the run) */
  sg_severity severity; /* the table's, or this row's downgrade of it */
  char detail[256];     /* measured value as text when it is not a number ("float32", "G major") */
} sg_gate_result;

typedef struct sg_gate_report {
  sg_gate_result *v;
  size_t n, cap;
  size_t failed; /* required checks that failed */
} sg_gate_report;

void sg_gate_report_init(sg_gate_report *r);
void sg_gate_report_free(sg_gate_report *r);
/* Appends every row of src to dst (failed counts too); SG_E_NOMEM leaves dst as it was. */
sg_status sg_gate_report_append(sg_gate_report *dst, const sg_gate_report *src);

/* Use the check table's default limit. */
#define SG_LIMIT_DEFAULT NAN

/* Appends a row of check id: measured against limit (SG_LIMIT_DEFAULT: the table's default) with
 * the table's comparison, unit and severity; target for SG_CMP_WITHIN. sev may lower the
 * table's severity for this row (SG_SEV_WARN: judged but advisory; SG_SEV_INFO: reported
 * without a verdict), never raise it; pass SG_SEV_FAIL to keep the table's. detail may be NULL.
 * Returns SG_OK when the row holds or is advisory, SG_E_GATE when a required row fails (then d,
 * optional, names step, stem, check, measured value and limit), SG_E_NOMEM. */
sg_status sg_gate_row(sg_gate_report *r, sg_check_id id, const char *step, const char *stem,
                      double measured, double limit, double target, const char *detail,
                      sg_severity sev, sg_diag *d);
/* A row whose measurement is text (a format name, a key): pass is decided by the caller. */
sg_status sg_gate_row_text(sg_gate_report *r, sg_check_id id, const char *step, const char *stem,
                           const char *measured, const char *expected, int pass, sg_severity sev,
                           sg_diag *d);
/* The first required row that failed at or after index from, or NULL. */
const sg_gate_result *sg_gate_first_failure(const sg_gate_report *r, size_t from);

/* One human-readable line for a result, e.g.
 * "PASS  master  master  true_peak  -1.02 dBTP  <= -1.00 dBTP". */
char *sg_gate_result_format(const sg_gate_result *g, char *out, size_t cap);

/* ---- the checks render and verify share ---------------------------------------------------
 * Pure functions from measurements to rows: render calls them on what its writer taps measured,
 * verify on what it reads back, so the same file gets the same rows from both. Each appends its
 * rows (all of them, also after a failure) and returns SG_E_GATE when a required one failed (d,
 * optional, then names the first), SG_E_NOMEM, or SG_OK. step is the report's step column. */

/* sample_rate, format, channels: a file's header against the song (its delivery block's lists
 * when given: the rows are then text rows, "48000 Hz" against "48000|44100"). */
sg_status sg_check_file_format(sg_gate_report *r, const char *step, const char *stem,
                               const sg_song *s, const sg_audio_info *info, sg_diag *d);
/* non_finite, sample_peak, clipping, dc_offset (1-s windows where it plays), denormals, silence:
 * a file's content from its meter. intermediate = 1 (a dry stem that is not delivered):
 * clipping, dc_offset and denormals are left to the delivered file (the chain removes DC;
 * sample_peak already catches full scale). */
sg_status sg_check_file_content(sg_gate_report *r, const char *step, const char *stem,
                                const sg_song *s, const sg_meter *m, int intermediate, sg_diag *d);
/* active_in_sections and silent_outside_sections of a stem that plays only some sections
 * (nothing for a stem that plays them all). rate: the file's sample rate (the timeline's frames
 * are scaled to it); frames: its length. */
sg_status sg_check_stem_activity(sg_gate_report *r, const char *step, const char *stem,
                                 const sg_song *s, const sg_timeline *tl, const sg_stem_spec *sp,
                                 const sg_meter *m, unsigned rate, int64_t frames, sg_diag *d);
/* loudness, true_peak and section_presence of a master (a meter with SG_METER_ALL). A delivery
 * block's loudness range [lo, hi] is judged as target (lo + hi) / 2 within (hi - lo) / 2, its
 * true-peak ceiling replaces master.true_peak_dbtp. */
sg_status sg_check_master_level(sg_gate_report *r, const char *step, const sg_song *s,
                                const sg_timeline *tl, const sg_meter *m, unsigned rate,
                                sg_diag *d);
/* tempo of a master (features with onsets) against bpm, the tolerance from the spec. When the
 * spec's tempo map changes tempo (tl->tempo_varies), one row per steady stretch against its own
 * tempo (item "Master bars A-B"; under 6 s: not judged) and none for a ramp. */
sg_status sg_check_master_tempo(sg_gate_report *r, const char *step, const sg_song *s,
                                const sg_features *f, double bpm, const sg_timeline *tl,
                                sg_diag *d);
/* key per key region (consecutive sections in one key) and key_change at each modulation, from
 * the master's chroma (features with SG_FEAT_CHROMA). */
sg_status sg_check_master_keys(sg_gate_report *r, const char *step, const sg_song *s,
                               const sg_timeline *tl, const sg_features *f, sg_diag *d);
/* length of each stem against the master (ms) and duration of the master against the song. */
sg_status sg_check_stem_length(sg_gate_report *r, const char *step, const char *stem,
                               const sg_song *s, int64_t stem_frames, unsigned stem_rate,
                               int64_t master_frames, unsigned master_rate, sg_diag *d);
/* duration: a delivery block's length_s range replaces song length +- tolerance_s. */
sg_status sg_check_master_duration(sg_gate_report *r, const char *step, const sg_song *s,
                                   const sg_timeline *tl, int64_t frames, unsigned rate,
                                   double tolerance_s, sg_diag *d);

#ifdef __cplusplus
}
#endif
#endif
