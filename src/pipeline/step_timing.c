/* Step 1, timing: the exact grid, every boundary re-derived independently (must agree to the
 * frame), target times snapped to bars with the snap reported. */
#include "pipeline_internal.h"

#include "stemgate/fx.h"
#include "stemgate/synth.h"

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

/* How far past the final hit a tail must run: a -60 dB decay time (RT60, a release to
 * silence) is stretched by half again, so the tail is ~90 dB down from its peak: the master's
 * normalisation gain and the limiter's reduction on the hit (up to ~30 dB together) still leave
 * it under -60 dBFS. */
#define RING_MARGIN 1.5

sg_status sg__plan_ending(sg__run *r, sg_diag *d) {
  const sg_song *s = r->song;
  sg_timeline *tl = &r->tl;
  if (tl->ending == SG_ENDING_RING) {
    const int last = tl->n_sections - 1;
    int64_t worst = 0;
    for (int k = 0; k < r->n_stems; ++k) {
      const sg__stem *ss = &r->stems[k];
      int plays = ss->is_drums ? sg_drums_play_in(s, last) : sg_stem_plays_in(s, ss->spec, last);
      int64_t t = 0;
      if (ss->source == SG__SRC_REFERENCE) {
        /* The reference's own final hit rings as recorded: keep all of it. */
        if (r->has_ref && r->ref.work.frames > tl->total_frames)
          t = r->ref.work.frames - tl->total_frames;
      } else if (plays) {
        sg_synth *syn = NULL;
        sg_status st = sg__create_synth(r, ss, &syn, d);
        if (st != SG_OK)
          return st;
        t = (int64_t)(RING_MARGIN * (double)sg_synth_tail_frames(syn));
        sg_synth_destroy(syn);
      } else {
        continue;
      }
      sg_fx_chain *ch = NULL;
      sg_status st = sg_fx_chain_create(ss->spec->effects, ss->spec->n_effects, tl->rate, r->bpm,
                                        s->path, &ch, d);
      if (st != SG_OK)
        return st;
      t += (int64_t)(RING_MARGIN * (double)sg_fx_chain_tail_frames(ch));
      sg_fx_chain_destroy(ch);
      worst = t > worst ? t : worst;
    }
    sg_fx_chain *bus = NULL;
    sg_status st = sg_fx_chain_create(s->master.effects, s->master.n_effects, tl->rate, r->bpm,
                                      s->path, &bus, d);
    if (st != SG_OK)
      return st;
    worst += (int64_t)(RING_MARGIN * (double)sg_fx_chain_tail_frames(bus));
    sg_fx_chain_destroy(bus);
    sg_timeline_set_ring(tl, worst);
  }
  r->res->seconds = (double)tl->file_frames / tl->rate;
  return SG_OK;
}
