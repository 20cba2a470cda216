/* A trace fed beside a meter (internal to stemgate): the short-term loudness and the true peak
 * per column read from the meter's K-weighting and true-peak detectors instead of a second
 * pass of each over the same samples. */
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
/* Feeds m and then t the same frames (any number; m is fed up to each column's end at a time),
 * so t reads its short-term loudness from m's K-weighting (when m has one) and, when t measures
 * loudness and m true peak, its columns' true peaks from m's detectors (sg__meter_columns, set
 * at the first frame): the same bits as the trace's own, one interpolation instead of two. m must
 * have been fed exactly what t was, always through this call (t then refuses sg_trace_add and
 * sg__trace_add_shared); SG_E_INVAL otherwise, or for another channel count. */
sg_status sg__trace_add_metered(sg_trace *t, sg_meter *m, const float *x, size_t frames);

#endif
