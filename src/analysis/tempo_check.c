/* The tempo check shared by the render gates and `stemgate verify` (see analysis.h). */
#include "stemgate/analysis.h"

#include <math.h>
#include <string.h>

sg_status sg_tempo_check_against(const sg_features *f, double expected_bpm, sg_tempo_check *out) {
  if (!f || !out || !(expected_bpm > 0))
    return SG_E_INVAL;
  memset(out, 0, sizeof *out);
  out->level = 1.0;
  out->level_name = "";
  sg_tempo_config tc;
  sg_tempo_config_init(&tc);
  tc.prior_bpm = expected_bpm; /* no hint: its octave moves would fight the folding below */
  sg_status st = sg_tempo_estimate(f, NULL, &tc, &out->est);
  if (st != SG_OK || !(out->est.bpm > 0))
    return st != SG_OK ? st : SG_E_NOTFOUND;
  static const double level[] = {1.0, 2.0, 0.5, 1.5, 2.0 / 3.0, 0.75, 4.0 / 3.0, 3.0, 1.0 / 3.0};
  static const char *const name[] = {"",
                                     "double time",
                                     "half time",
                                     "dotted beats",
                                     "triplets",
                                     "dotted half time",
                                     "triplet half time",
                                     "triple time",
                                     "a third of the tempo"};
  int best = 0;
  for (int i = 1; i < 9; ++i)
    if (fabs(out->est.bpm / level[i] - expected_bpm) <
        fabs(out->est.bpm / level[best] - expected_bpm))
      best = i;
  out->level = level[best];
  out->level_name = name[best];
  out->folded_bpm = out->est.bpm / level[best];
  return SG_OK;
}

sg_status sg_tempo_check_range(const sg_features *f, double t0, double t1, double expected_bpm,
                               sg_tempo_check *out) {
  if (!f || !out || !(t1 > t0))
    return SG_E_INVAL;
  sg_features *g = NULL;
  sg_status st = sg_features_slice(f, t0, t1, &g);
  if (st == SG_OK)
    st = sg_tempo_check_against(g, expected_bpm, out);
  sg_features_free(g);
  return st;
}
