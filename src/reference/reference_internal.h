/* Helpers shared by the reference module's files. */
#ifndef SG_REFERENCE_INTERNAL_H
#define SG_REFERENCE_INTERNAL_H

#include "stemgate/reference.h"

/* The spec's sync limit, or the documented default (10 ms) when the song left it at 0. */
double sg__ref_sync_limit_ms(const sg_song *song);
/* The spec's tempo tolerance, or the documented default (1 BPM). */
double sg__ref_tempo_tolerance(const sg_song *song);
/* "stem" when non-empty, else "reference". */
const char *sg__ref_name(const char *stem);
/* A config with defaults applied and every field clamped to its documented range. */
void sg__ref_config_resolve(const sg_reference_config *in, sg_reference_config *out);

/* sg_gate_check, and on a failed required check also the measured value and limit in d (the
 * gate module records them in d only for rows without a detail text). */
sg_status sg__ref_check(sg_gate_report *r, sg_check_id id, const char *step, const char *stem,
                        double measured, double limit, double target, const char *detail,
                        sg_severity sev, sg_diag *d);

#endif
