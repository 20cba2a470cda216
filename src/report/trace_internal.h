/* A trace fed beside a meter (internal to stemgate): the short-term loudness and the true peak
 * per column read from the meter's K-weighting and true-peak detectors instead of a second
 * pass of each over the same samples. */
#ifndef SG_REPORT_TRACE_INTERNAL_H
#define SG_REPORT_TRACE_INTERNAL_H

#include "analysis/loudness.h"
#include "stemgate/report.h"

#include <stddef.h>

/* Feeds m and then t the same frames (any number; m is fed up to each column's end at a time),
 * so t reads its short-term loudness from m's K-weighting (when m has one) and, when t measures
 * loudness and m true peak, its columns' true peaks from m's detectors (sg__meter_columns, set
 * at the first frame): the same bits as the trace's own, one interpolation instead of two. m must
 * have been fed exactly what t was, always through this call (t then refuses sg_trace_add);
 * SG_E_INVAL otherwise, or for another channel count. */
sg_status sg__trace_add_metered(sg_trace *t, sg_meter *m, const float *x, size_t frames);

#endif
