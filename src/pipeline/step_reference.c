/* Step 2, reference: a client's drum track verified (format, length, tempo, downbeat, drift),
 * conformed to the song's rate and channels, and the grid locked to it. With tempo: auto the
 * run takes the reference's tempo into its own copy of the song (the parsed song stays as it
 * was loaded) and builds the timeline again. */
#include "pipeline_internal.h"

#include <stdlib.h>
#include <string.h>

sg_status sg__step_reference(sg__run *r, sg_diag *d) {
  const char *src = r->opt->reference;
  if (!src && r->song->drums.source != SG_DRUMS_REFERENCE) {
    sg__log(r, "[2/7] reference: none given");
    return SG_OK;
  }
  sg__log(r, "[2/7] reference");
  char work[SG_MAX_PATH + 32];
  sg__join(work, sizeof work, r->work, "reference.wav");
  sg_status st = sg_reference_prepare(r->song, src, NULL, work, &r->ref, &r->res->gates, d);
  r->has_ref = 1;
  sg__flush(r);
  if (st != SG_OK)
    return st;
  if (r->song->tempo_auto) {
    if (!(r->song_copy = malloc(sizeof *r->song_copy)))
      return sg_diag_fail(d, SG_E_NOMEM, "render: out of memory");
    memcpy(r->song_copy, r->song, sizeof *r->song_copy);
    r->song_copy->tempo = r->ref.tempo_grid;
    r->song = r->song_copy;
    if ((st = sg_timeline_build(r->song, &r->tl, d)) != SG_OK)
      return st;
    sg__log(r, "      tempo: auto, measured %.2f BPM from the reference; grid built on it",
            r->ref.tempo_grid_bpm);
    if ((st = sg__timing_gates(r, d)) != SG_OK)
      return st;
  }
  st = sg_reference_align(&r->ref, r->song, &r->tl, NULL, &r->res->gates, d);
  sg__flush(r);
  r->res->seconds = (double)r->tl.total_frames / r->tl.rate;
  return st;
}
