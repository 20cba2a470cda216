/* Sync gates: a rendered file (stem or master) against the conformed reference.
 *
 * Coarse: sg_align_files (onset-envelope cross-correlation at the start and at the end of the
 * material, see analysis.h) finds the lag without ambiguity inside the search range. Its
 * envelope is sampled every ~5 ms and its peak sits where the spectral flux of a frame is
 * largest, which depends on the instrument: a pluck against a kick reads a few ms off even
 * when both start on the same sample. So the offset is then measured on the attacks:
 *
 * Fine: the rendered file's onsets (sg_onsets_pick, refined to the start of the attack on the
 * ~1 ms energy envelope) are matched to the reference's within +-min(30 ms, 0.2 beat) of the
 * coarse lag by sg_align_onsets (robust mean of the differences around their median), in the
 * start window and in the end window; their difference is the drift. When the file contains
 * the reference itself (the master, the Drums stem), sg_align's sample-domain refinement is
 * exact and is kept.
 *
 * Honesty around the measurement:
 *  - The search range is under half a beat of the grid tempo. Drum material is periodic, so a
 *    wider search finds the neighbouring beat's peak about as high as the true one; a sync gate
 *    exists to see milliseconds, not to tell beat 1 from beat 2.
 *  - A file with too few onsets, or onsets only at one end, or an onset envelope that does not
 *    correlate with the reference's (a sustained pad), cannot be measured: the gate says so as
 *    an advisory row with the reason instead of inventing a pass or a fail. Only a file that
 *    contains the reference (must_measure) is required to be measurable. */
#include "reference_internal.h"

#include "stemgate/analysis.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Alignment windows: 20 s (the analysis default) on long material; on short material a quarter
 * of it, at least 4 s, so start and end are measured on separate stretches. */
static double window_for(double dur) {
  double w = dur / 4;
  return w > 20 ? 20 : w < 4 ? 4 : w;
}

sg_status sg_reference_sync_check(const sg_reference *ref, const sg_song *song,
                                  const char *rendered_path, const char *stem_name,
                                  int must_measure, const sg_reference_config *cfg_in,
                                  sg_reference_sync *res_out, sg_gate_report *gates,
                                  const char *step, sg_diag *d) {
  sg_reference_sync local, *res = res_out ? res_out : &local;
  memset(res, 0, sizeof *res);
  if (!ref || !song || !rendered_path || !gates)
    return sg_diag_fail(d, SG_E_INVAL, "sync: NULL argument");
  if (!ref->work_path[0] || ref->work.rate == 0)
    return sg_diag_fail(d, SG_E_INVAL, "sync: the reference has not been prepared");
  sg_reference_config cfg;
  sg__ref_config_resolve(cfg_in, &cfg);
  const char *stem = sg__ref_name(stem_name);
  if (!step)
    step = SG_REFERENCE_STEP;
  double limit = sg__ref_sync_limit_ms(song);
  char det[256];

  /* Onsets of the rendered file: is there rhythm to measure, at both ends? */
  sg_features_config fc;
  sg_features_config_init(&fc);
  fc.flags = SG_FEAT_ONSET | SG_FEAT_ENERGY;
  sg_features *f = NULL;
  sg_status st = sg_features_from_file(&f, rendered_path, &fc, d);
  if (st != SG_OK)
    return st;
  if (sg_features_rate(f) != ref->work.rate) {
    unsigned r = sg_features_rate(f);
    sg_features_free(f);
    return sg_diag_fail(d, SG_E_UNSUPPORTED,
                        "sync: '%s' runs at %u Hz but the reference at %u Hz (conform first)",
                        rendered_path, r, ref->work.rate);
  }
  /* Start and end windows on the span both files cover. */
  double dur = sg_features_duration(f), ref_dur = (double)ref->work.frames / ref->work.rate;
  double span = dur < ref_dur ? dur : ref_dur, w = window_for(span);
  sg_onset_list on;
  st = sg_onsets_pick(f, NULL, &on);
  sg_features_free(f);
  if (st != SG_OK)
    return sg_diag_fail(d, st, "sync: onset picking failed on '%s'", rendered_path);
  res->onsets = on.n;
  for (size_t i = 0; i < on.n; ++i) {
    if (on.time[i] < w)
      res->onsets_start++;
    if (on.time[i] >= span - w && on.time[i] < span)
      res->onsets_end++;
  }
  size_t need_end = (size_t)(cfg.sync_min_onsets + 3) / 4;
  if (res->onsets < (size_t)cfg.sync_min_onsets)
    snprintf(res->reason, sizeof res->reason,
             "not enough rhythmic content to measure: %zu onsets in %.1f s (needs %d)", res->onsets,
             dur, cfg.sync_min_onsets);
  else if (res->onsets_start < need_end || res->onsets_end < need_end)
    snprintf(res->reason, sizeof res->reason,
             "not enough rhythmic content at both ends: %zu onsets in the first %.1f s, %zu in "
             "the last (needs %zu each)",
             res->onsets_start, w, res->onsets_end, need_end);

  double beat_s = ref->tempo_grid_bpm > 0 ? 60.0 / ref->tempo_grid_bpm : 0.5;
  if (!res->reason[0]) {
    sg_align_config ac;
    sg_align_config_init(&ac);
    ac.window_s = w;
    ac.max_lag_s = cfg.sync_max_lag_beats * beat_s;
    if (!must_measure)
      ac.refine_s = 0; /* different waveforms: the sample-domain refinement would be noise */
    sg_align_result ar;
    sg_diag ad;
    sg_diag_clear(&ad);
    /* sg_align_files places its start and end windows on the first file's duration, so the
     * shorter of the two goes first (a song trimmed from a longer reference, or a reference
     * extended by fade/loop) and both windows fall where both files hold material. */
    int swap = dur < ref_dur;
    st = swap ? sg_align_files(rendered_path, ref->work_path, &ac, &ar, &ad)
              : sg_align_files(ref->work_path, rendered_path, &ac, &ar, &ad);
    if (st == SG_OK && swap) { /* b(t) = a(t - x) with a, b exchanged: negate */
      ar.offset_s = -ar.offset_s;
      ar.end_offset_s = -ar.end_offset_s;
      ar.drift_s = -ar.drift_s;
      ar.drift_ratio = -ar.drift_ratio;
    }
    if (st == SG_E_NOTFOUND) {
      st = SG_OK;
      snprintf(res->reason, sizeof res->reason,
               "not enough rhythmic content to measure: the alignment found no onsets to "
               "correlate (%.100s)",
               ad.message);
    } else if (st != SG_OK) {
      if (d)
        *d = ad;
      goto done;
    } else {
      res->offset_ms = 1000.0 * ar.offset_s;
      res->end_offset_ms = 1000.0 * ar.end_offset_s;
      res->similarity = ar.similarity;
      snprintf(res->method, sizeof res->method, "envelope");
      if (!(ar.similarity >= cfg.sync_min_similarity)) {
        snprintf(res->reason, sizeof res->reason,
                 "not enough rhythmic content to measure: its onsets do not follow the "
                 "reference's (onset-envelope correlation %.2f at the best lag, needs %.2f)",
                 ar.similarity, cfg.sync_min_similarity);
      } else if (fabs(ar.offset_s) >= 0.98 * ac.max_lag_s ||
                 fabs(ar.end_offset_s) >= 0.98 * ac.max_lag_s) {
        snprintf(res->reason, sizeof res->reason,
                 "the correlation peak lies at the edge of the +-%.0f ms search (%.1f ms start, "
                 "%.1f ms end): the offset is larger than this gate can see",
                 1000.0 * ac.max_lag_s, res->offset_ms, res->end_offset_ms);
      } else if (must_measure && ar.fine_similarity > 0.5) {
        snprintf(res->method, sizeof res->method, "waveform");
      } else {
        /* Fine: matched attacks, start and end windows. */
        double tol = 0.2 * beat_s < 0.030 ? 0.2 * beat_s : 0.030, ms = 0, me = 0;
        size_t need_match = need_end > 4 ? need_end : 4;
        sg_status m1 = SG_E_NOTFOUND, m2 = SG_E_NOTFOUND; /* no onsets: nothing matches */
        if (ref->n_onset_times && on.n) {
          m1 = sg_align_onsets(ref->onset_times, ref->n_onset_times, on.time, on.n, ar.offset_s, 0,
                               w, tol, need_match, &ms, &res->matched_start, NULL);
          m2 = sg_align_onsets(ref->onset_times, ref->n_onset_times, on.time, on.n, ar.end_offset_s,
                               span - w, span, tol, need_match, &me, &res->matched_end, NULL);
        }
        if ((m1 != SG_OK && m1 != SG_E_NOTFOUND) || (m2 != SG_OK && m2 != SG_E_NOTFOUND)) {
          st = sg_diag_fail(d, m1 != SG_OK && m1 != SG_E_NOTFOUND ? m1 : m2,
                            "sync: onset matching failed on '%s'", rendered_path);
          goto done;
        }
        if (m1 == SG_OK && m2 == SG_OK) { /* both windows hold >= need_match pairs */
          res->offset_ms = 1000.0 * ms;
          res->end_offset_ms = 1000.0 * me;
          snprintf(res->method, sizeof res->method, "onset match");
        }
      }
      res->drift_ms = res->end_offset_ms - res->offset_ms;
      double dt = ar.end_time_s - ar.start_time_s;
      res->drift_ratio = dt > 0 ? 1e-3 * res->drift_ms / dt : 0;
    }
  }

  if (res->reason[0]) {
    /* The master (it contains the drums) must always be measurable: then this fails. */
    res->measurable = 0;
    st = sg_gate_row_text(gates, SG_CHECK_SYNC, step, stem, res->reason, "measurable rhythm", 0,
                          (must_measure) ? SG_SEV_FAIL : SG_SEV_WARN, d);
    goto done;
  }
  res->measurable = 1;
  snprintf(det, sizeof det, "start offset %.2f ms by %s (%zu matched onsets, correlation %.2f)",
           res->offset_ms, res->method, res->matched_start, res->similarity);
  sg_status s1 = sg__ref_check(gates, SG_CHECK_SYNC_OFFSET, step, stem, res->offset_ms, limit, 0,
                               det, SG_SEV_FAIL, d);
  snprintf(det, sizeof det, "end offset %.2f ms, drift %.2f ms (%.4f %%) by %s", res->end_offset_ms,
           res->drift_ms, 100.0 * res->drift_ratio, res->method);
  sg_status s2 = sg__ref_check(gates, SG_CHECK_SYNC_DRIFT, step, stem, res->drift_ms, limit, 0, det,
                               SG_SEV_FAIL, s1 == SG_OK ? d : NULL);
  st = s1 != SG_OK ? s1 : s2;
done:
  sg_onset_list_free(&on);
  return st;
}
