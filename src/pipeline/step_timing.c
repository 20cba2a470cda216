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

static double run_tempo_at(const void *tl, int64_t frame) {
  return sg_timeline_tempo_at((const sg_timeline *)tl, frame);
}

void sg__tempo_follow(const sg__run *r, double (**fn)(const void *, int64_t), const void **user,
                      double *min_bpm) {
  *fn = NULL;
  *user = NULL;
  *min_bpm = 0;
  if (!r->tl.tempo_varies)
    return;
  double lo = 1e9;
  for (int k = 0; k < r->tl.n_tempo; ++k) {
    const sg_tempo_segment *g = &r->tl.tempo[k];
    lo = fmin(lo, fmin((double)g->tempo_num / (double)g->tempo_den,
                       (double)g->to_num / (double)g->to_den));
  }
  *fn = run_tempo_at;
  *user = &r->tl;
  *min_bpm = lo;
}

sg_status sg__timing_gates(sg__run *r, sg_diag *d) {
  sg_status st;
  r->bpm = (double)r->tl.tempo_num / (double)r->tl.tempo_den;
  /* Re-derive every boundary independently in extended precision: the grid must be exact. With
   * a tempo map, walked from the spec (not the timeline's segments): a steady stretch in long
   * double from its anchor, a ramp by Simpson's rule on 60 / T (not the closed form), each
   * change of tempo anchored at its rounded frame as the grid anchors it. */
  long double qpb = (long double)r->tl.bar_q_num / (long double)r->tl.bar_q_den;
  double worst = 0;
  const sg_song *song = r->song;
  long double T = (long double)r->tl.tempo_num / (long double)r->tl.tempo_den;
  long double since = 0; /* quarters since the anchor */
  int64_t anchor = r->tl.origin_frame;
  const long double rate = r->tl.rate;
  for (int i = 0; i < r->tl.n_sections; ++i) {
    const sg_section_time *t = &r->tl.sections[i];
    const sg_section_spec *sp = i < song->n_sections ? &song->sections[i] : NULL;
    if (sp && sp->tempo.num > 0 && (long double)sp->tempo.num / (long double)sp->tempo.den != T) {
      anchor += llroundl(since * 60.0L / T * rate);
      since = 0;
      T = (long double)sp->tempo.num / (long double)sp->tempo.den;
    }
    int64_t exact = anchor + llroundl(since * 60.0L / T * rate);
    worst = fmax(worst, fabs((double)(t->start_frame - exact)));
    if (i > 0 && t->start_frame != r->tl.sections[i - 1].end_frame)
      worst = fmax(worst, 1e9);
    int64_t rb = 0;
    if (sp && sp->ramp_to.num > 0)
      rb = sp->ramp_bars > 0 && sp->ramp_bars < t->bars ? sp->ramp_bars : t->bars;
    long double to = rb ? (long double)sp->ramp_to.num / (long double)sp->ramp_to.den : T;
    if (rb && to != T) {
      since += (long double)(t->bars - rb) * qpb;
      anchor += llroundl(since * 60.0L / T * rate);
      since = 0;
      long double L = (long double)rb * qpb, sum = 0;
      const int n = 512 * (int)rb; /* Simpson, even */
      for (int k = 0; k <= n; ++k) {
        long double x = L * k / n;
        long double tx =
            sp->ramp_curve == SG_CURVE_EXPONENTIAL ? T * powl(to / T, x / L) : T + (to - T) * x / L;
        sum += (k == 0 || k == n ? 1 : k % 2 ? 4 : 2) * 60.0L / tx;
      }
      anchor += llroundl(sum * L / (3.0L * n) * rate);
      T = to;
    } else {
      since += (long double)t->bars * qpb;
    }
  }
  if (!(r->tl.quarter_frames && r->tl.n_quarter_frames >= 2))
    worst = fmax(
        worst, fabs((double)(r->tl.total_frames - (anchor + llroundl(since * 60.0L / T * rate)))));
  for (int i = 0; i < r->tl.n_sections; ++i) {
    const sg_section_time *t = &r->tl.sections[i];
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
    double (*follow)(const void *, int64_t);
    const void *fuser;
    double min_bpm;
    sg__tempo_follow(r, &follow, &fuser, &min_bpm);
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
      if (st == SG_OK && follow) /* a following delay rings as long as at its slowest */
        st = sg_fx_chain_follow_tempo(ch, min_bpm, d);
      if (st != SG_OK) {
        sg_fx_chain_destroy(ch);
        return st;
      }
      t += (int64_t)(RING_MARGIN * (double)sg_fx_chain_tail_frames(ch));
      sg_fx_chain_destroy(ch);
      worst = t > worst ? t : worst;
    }
    sg_fx_chain *bus = NULL;
    sg_status st = sg_fx_chain_create(s->master.effects, s->master.n_effects, tl->rate, r->bpm,
                                      s->path, &bus, d);
    if (st == SG_OK && follow)
      st = sg_fx_chain_follow_tempo(bus, min_bpm, d);
    if (st != SG_OK) {
      sg_fx_chain_destroy(bus);
      return st;
    }
    worst += (int64_t)(RING_MARGIN * (double)sg_fx_chain_tail_frames(bus));
    sg_fx_chain_destroy(bus);
    sg_timeline_set_ring(tl, worst);
  }
  r->res->seconds = (double)tl->file_frames / tl->rate;
  return SG_OK;
}
