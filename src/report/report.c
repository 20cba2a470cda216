/* The report's data: ownership of what the gatherer filled in (see report.h). */
#include "stemgate/report.h"

#include <stdlib.h>
#include <string.h>

void sg_report_init(sg_report *r) {
  memset(r, 0, sizeof *r);
  sg_gate_report_init(&r->gates);
}

static void wave_free(sg_report_wave *w) {
  free(w->lo);
  free(w->hi);
  free(w->st_lufs);
  free(w->tp_dbtp);
  memset(w, 0, sizeof *w);
}

void sg_report_free(sg_report *r) {
  if (!r)
    return;
  for (int i = 0; i < r->n_stems; ++i) {
    wave_free(&r->stems[i].wave);
    free(r->stems[i].notes);
  }
  wave_free(&r->master);
  free(r->bar_s);
  free(r->keys);
  free(r->bar_offset_ms);
  sg_gate_report_free(&r->gates);
  memset(r, 0, sizeof *r);
}
