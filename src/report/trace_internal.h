/* The master's trace fed beside its meter (internal to stemgate): the short-term loudness per
 * column read from the meter's K-weighting instead of a second one over the same samples. */
#ifndef SG_REPORT_TRACE_INTERNAL_H
#define SG_REPORT_TRACE_INTERNAL_H

#include "analysis/loudness.h"
#include "stemgate/report.h"

#include <stddef.h>

/* Frames the trace takes before its current column ends (SIZE_MAX in the last column). */
size_t sg__trace_room(const sg_trace *t);
/* sg_trace_add, but the short-term loudness at a column's end is read from lm, which its owner
 * has fed exactly the frames this trace was fed (the same samples, non-finite ones as 0): the
 * same bits as the trace's own K-weighting. frames must not cross a column's end
 * (sg__trace_room); SG_E_INVAL otherwise. */
sg_status sg__trace_add_shared(sg_trace *t, const float *x, size_t frames, const sg__loud *lm);

#endif
