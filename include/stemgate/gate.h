/* stemgate gates: a gate is a measurement, a limit and a verdict.
 *
 * One table of checks drives the render pipeline's gates, `stemgate verify` and the unit tests,
 * so a check that passes in one place cannot quietly mean something else in another. Results
 * collect in an sg_gate_report (step, stem, check, measured, limit, unit, verdict), which the
 * CLI prints one line each and the package writes into manifest.json. */
#ifndef STEMGATE_GATE_H
#define STEMGATE_GATE_H

#include "stemgate/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sg_cmp {
  SG_CMP_LE = 0, /* measured <= limit      */
  SG_CMP_GE,     /* measured >= limit      */
  SG_CMP_EQ,     /* measured == limit      */
  SG_CMP_ABS_LE, /* |measured| <= limit    */
  SG_CMP_WITHIN, /* |measured - target| <= limit (target in .target) */
  SG_CMP_INFO    /* reported, never fails  */
} sg_cmp;

typedef struct sg_gate_result {
  char step[32];
  char stem[64];
  char check[64];
  double measured;
  double limit;
  double target; /* for SG_CMP_WITHIN */
  sg_cmp cmp;
  char unit[16];
  int pass;         /* verdict */
  int required;     /* 0: advisory (reported, does not fail the run) */
  char detail[256]; /* measured value as text when it is not a number ("float32", "G major") */
} sg_gate_result;

typedef struct sg_gate_report {
  sg_gate_result *v;
  size_t n, cap;
  size_t failed; /* required checks that failed */
} sg_gate_report;

void sg_gate_report_init(sg_gate_report *r);
void sg_gate_report_free(sg_gate_report *r);

/* Evaluates measured against limit with cmp, appends the result and returns SG_OK when it holds
 * (or is advisory), SG_E_GATE when a required check fails; then d (optional) names step, stem,
 * check, measured value and limit. detail may be NULL. */
sg_status sg_gate_check(sg_gate_report *r, const char *step, const char *stem, const char *check,
                        double measured, sg_cmp cmp, double limit, double target, const char *unit,
                        const char *detail, int required, sg_diag *d);
/* A check whose measurement is text (format name, key name): pass is decided by the caller. */
sg_status sg_gate_check_text(sg_gate_report *r, const char *step, const char *stem,
                             const char *check, const char *measured, const char *expected,
                             int pass, int required, sg_diag *d);

/* One human-readable line for a result, e.g.
 * "PASS  master  master  true_peak  -1.02 dBTP  <= -1.00 dBTP". */
char *sg_gate_result_format(const sg_gate_result *g, char *out, size_t cap);
/* "<=", ">=", "==", "|x|<=", "within", "info". */
const char *sg_cmp_symbol(sg_cmp c);

#ifdef __cplusplus
}
#endif
#endif
