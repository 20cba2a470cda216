/* Step 1, timing: the exact grid, every boundary re-derived independently (must agree to the
 * frame), target times snapped to bars with the snap reported. */
#include "pipeline_internal.h"

#include <math.h>

sg_status sg__step_timing(sg__run *r, sg_diag *d) {
  if (r->song->tempo_auto) {
    /* The tempo is the reference's: the grid is built (and checked, sg__timing_gates) in step 2
     * once the reference is measured. */
    sg__log(r, "[1/7] timing: tempo: auto, the grid waits for the reference's measured tempo");
    return SG_OK;
  }
  sg__log(r, "[1/7] timing");
  sg_status st = sg_timeline_build(r->song, &r->tl, d);
  if (st != SG_OK)
    return st;
  return sg__timing_gates(r, d);
}

sg_status sg__timing_gates(sg__run *r, sg_diag *d) {
  sg_status st;
  r->bpm = (double)r->tl.tempo_num / (double)r->tl.tempo_den;
  /* Re-derive every boundary independently in extended precision: the grid must be exact. */
  long double fpq =
      60.0L * r->tl.rate * (long double)r->tl.tempo_den / (long double)r->tl.tempo_num;
  long double qpb = (long double)r->tl.bar_q_num / (long double)r->tl.bar_q_den;
  double worst = 0;
  for (int i = 0; i < r->tl.n_sections; ++i) {
    const sg_section_time *t = &r->tl.sections[i];
    long double exact = (long double)r->tl.origin_frame + (long double)t->start_bar * qpb * fpq;
    worst = fmax(worst, fabs((double)(t->start_frame - llroundl(exact))));
    if (i > 0 && t->start_frame != r->tl.sections[i - 1].end_frame)
      worst = fmax(worst, 1e9);
    if (t->snapped_start)
      sg__gate(r, SG_CHECK_SNAP_START, "timing", t->name, t->snap_error_start_sec * 1000, 0, 0,
               NULL, SG_SEV_INFO, NULL);
    if (t->snapped_end)
      sg__gate(r, SG_CHECK_SNAP_END, "timing", t->name, t->snap_error_end_sec * 1000, 0, 0, NULL,
               SG_SEV_INFO, NULL);
  }
  if ((st = sg__gate(r, SG_CHECK_GRID_ERROR, "timing", "song", worst, SG_LIMIT_DEFAULT, 0, NULL,
                     SG_SEV_FAIL, d)) != SG_OK)
    return st;
  r->res->seconds = (double)r->tl.total_frames / r->tl.rate;
  return sg__gate(r, SG_CHECK_SONG_LENGTH, "timing", "song", r->res->seconds, SG_LIMIT_DEFAULT, 0,
                  NULL, SG_SEV_FAIL, d);
}
