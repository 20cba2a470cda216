/* stemgate timing SPEC: the section table, exact to the sample. The table printer is shared with
 * `stemgate check` and `stemgate render --dry-run`, so the three show the same thing. */
#include "cli.h"

#include "package/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int time_with_reference(sg_song *song, const char *ref_path, sg_timeline *tl,
                               sg_reference *ref, int json);

int sg_cli_load_and_time(const char *spec, sg_song **song, sg_timeline *tl) {
  sg_diag d;
  sg_diag_clear(&d);
  *song = NULL;
  /* sg_song_load validates the whole spec (effects, instruments, styles, patterns, files). */
  sg_status st = sg_song_load(spec, song, &d);
  if (st == SG_OK && (*song)->tempo_auto) {
    /* The grid needs the reference's tempo: measured as render's step 2 does. A followed tempo
     * map is kept for the life of the process (the timeline points into it). */
    static sg_reference ref;
    sg_reference_free(&ref);
    memset(&ref, 0, sizeof ref);
    int rc = time_with_reference(*song, NULL, tl, &ref, 0);
    if (rc != SG_EXIT_OK) {
      sg_reference_free(&ref);
      sg_song_free(*song);
      *song = NULL;
    }
    return rc;
  }
  if (st == SG_OK)
    st = sg_timeline_build(*song, tl, &d);
  if (st != SG_OK) {
    sg_cli_print_diag(&d);
    sg_song_free(*song);
    *song = NULL;
  }
  return sg_exit_code(st);
}

void sg_cli_print_timing(const sg_song *song, const sg_timeline *tl) {
  char t0[32], t1[32];
  printf("%s: %.6g BPM (%lld/%lld), %d/%d, %u Hz, %s, %u ch\n", song->title,
         (double)tl->tempo_num / (double)tl->tempo_den, (long long)tl->tempo_num,
         (long long)tl->tempo_den, tl->meter_num, tl->meter_den, tl->rate,
         sg_sample_format_name(song->format), song->channels);
  if (tl->beat != SG_BEAT_QUARTER)
    printf("tempo: %.6g %s beats per minute = %.6g quarter notes per minute\n",
           (double)tl->beat_tempo_num / (double)tl->beat_tempo_den, sg_beat_name(tl->beat),
           (double)tl->tempo_num / (double)tl->tempo_den);
  printf("%-12s %-9s %5s %9s %-10s %-10s %10s %10s %8s %-12s %s\n", "section", "bars", "n", "beats",
         "start", "end", "frame", "end frame", "tempo", "key", "snap");
  double beats_per_bar = (double)tl->meter_num; /* beats in the meter's own unit */
  for (int i = 0; i < tl->n_sections; ++i) {
    const sg_section_time *s = &tl->sections[i];
    char bars[24], snap[96] = "";
    snprintf(bars, sizeof bars, "%lld-%lld", (long long)s->start_bar + 1,
             (long long)(s->start_bar + s->bars));
    if (s->target_start_sec >= 0)
      snprintf(snap, sizeof snap, "start %+.3f s", s->snap_error_start_sec);
    if (s->target_end_sec >= 0) {
      size_t n = strlen(snap);
      snprintf(snap + n, sizeof snap - n, "%send %+.3f s", n ? ", " : "", s->snap_error_end_sec);
    }
    const char *key = song->sections[i].key.s[0] ? song->sections[i].key.s : song->key.s;
    printf("%-12s %-9s %5lld %9.0f %-10s %-10s %10lld %10lld %8.6g %-12s %s\n", s->name, bars,
           (long long)s->bars, (double)s->start_bar * beats_per_bar,
           sg_format_time(s->start_sec, t0, sizeof t0), sg_format_time(s->end_sec, t1, sizeof t1),
           (long long)s->start_frame, (long long)s->end_frame,
           sg_timeline_tempo_at(tl, s->start_frame), key, snap);
  }
  if (tl->tempo_varies && !(tl->quarter_frames && tl->n_quarter_frames >= 2)) {
    printf("tempo map (quarter notes per minute):\n");
    for (int k = 0; k < tl->n_tempo; ++k) {
      const sg_tempo_segment *g = &tl->tempo[k];
      int64_t end = k + 1 < tl->n_tempo ? tl->tempo[k + 1].start_bar : tl->total_bars;
      if (end <= g->start_bar)
        continue; /* the constant tail after a closing ramp */
      int64_t f0 = sg_timeline_bar_frame(tl, g->start_bar), f1 = sg_timeline_bar_frame(tl, end);
      double a = (double)g->tempo_num / (double)g->tempo_den;
      double b = (double)g->to_num / (double)g->to_den;
      if (g->ramp_bars)
        printf("  bars %lld-%lld (%s): %s %.6g -> %.6g, %s, frames %lld-%lld, %s-%s\n",
               (long long)g->start_bar + 1, (long long)end, tl->sections[g->section].name,
               b < a ? "ritardando" : "accelerando", a, b,
               g->curve == SG_CURVE_EXPONENTIAL ? "exponential" : "linear", (long long)f0,
               (long long)f1, sg_format_time((double)f0 / tl->rate, t0, sizeof t0),
               sg_format_time((double)f1 / tl->rate, t1, sizeof t1));
      else
        printf("  bars %lld-%lld (from %s): %.6g, frames %lld-%lld, %s-%s\n",
               (long long)g->start_bar + 1, (long long)end, tl->sections[g->section].name, a,
               (long long)f0, (long long)f1, sg_format_time((double)f0 / tl->rate, t0, sizeof t0),
               sg_format_time((double)f1 / tl->rate, t1, sizeof t1));
    }
  }
  printf("total: %lld bars, %s, %lld frames\n", (long long)tl->total_bars,
         sg_format_time((double)tl->total_frames / tl->rate, t0, sizeof t0),
         (long long)tl->total_frames);
}

/* The same table as JSON: bars are 1-based and inclusive (as NOTES and the manifest show them),
 * frames are [start, end). */
static int print_timing_json(const sg_song *song, const sg_timeline *tl) {
  sg_json_writer w;
  sg_json_writer_init(&w, 1);
  sg_json_begin_object(&w);
  sg_json_kv_string(&w, "schema", "stemgate.timing/1");
  sg_json_kv_string(&w, "title", song->title);
  sg_json_kv_number(&w, "bpm", (double)tl->tempo_num / (double)tl->tempo_den);
  sg_json_kv_int(&w, "tempo_num", tl->tempo_num);
  sg_json_kv_int(&w, "tempo_den", tl->tempo_den);
  sg_json_kv_int(&w, "meter_num", tl->meter_num);
  sg_json_kv_int(&w, "meter_den", tl->meter_den);
  sg_json_kv_int(&w, "sample_rate", tl->rate);
  sg_json_kv_string(&w, "format", sg_sample_format_name(song->format));
  sg_json_kv_int(&w, "channels", song->channels);
  sg_json_key(&w, "sections");
  sg_json_begin_array(&w);
  for (int i = 0; i < tl->n_sections; ++i) {
    const sg_section_time *s = &tl->sections[i];
    sg_json_begin_object(&w);
    sg_json_kv_string(&w, "name", s->name);
    sg_json_kv_int(&w, "start_bar", s->start_bar + 1);
    sg_json_kv_int(&w, "end_bar", s->start_bar + s->bars);
    sg_json_kv_int(&w, "bars", s->bars);
    sg_json_kv_number(&w, "start_s", s->start_sec);
    sg_json_kv_number(&w, "end_s", s->end_sec);
    sg_json_kv_int(&w, "start_frame", s->start_frame);
    sg_json_kv_int(&w, "end_frame", s->end_frame);
    sg_json_kv_string(&w, "key",
                      song->sections[i].key.s[0] ? song->sections[i].key.s : song->key.s);
    sg_json_kv_number(&w, "tempo_bpm", sg_timeline_tempo_at(tl, s->start_frame));
    if (s->target_start_sec >= 0)
      sg_json_kv_number(&w, "snap_start_s", s->snap_error_start_sec);
    if (s->target_end_sec >= 0)
      sg_json_kv_number(&w, "snap_end_s", s->snap_error_end_sec);
    sg_json_end_object(&w);
  }
  sg_json_end_array(&w);
  /* The spec's tempo map: one entry per constant stretch or ramp, bars 1-based inclusive. */
  sg_json_key(&w, "tempo_map");
  sg_json_begin_array(&w);
  for (int k = 0; k < tl->n_tempo; ++k) {
    const sg_tempo_segment *g = &tl->tempo[k];
    int64_t end = k + 1 < tl->n_tempo ? tl->tempo[k + 1].start_bar : tl->total_bars;
    if (end <= g->start_bar)
      continue;
    sg_json_begin_object(&w);
    sg_json_kv_int(&w, "start_bar", g->start_bar + 1);
    sg_json_kv_int(&w, "end_bar", end);
    sg_json_kv_string(&w, "section", tl->sections[g->section].name);
    sg_json_kv_int(&w, "start_frame", sg_timeline_bar_frame(tl, g->start_bar));
    sg_json_kv_int(&w, "end_frame", sg_timeline_bar_frame(tl, end));
    sg_json_kv_number(&w, "bpm", (double)g->tempo_num / (double)g->tempo_den);
    sg_json_kv_number(&w, "to_bpm", (double)g->to_num / (double)g->to_den);
    sg_json_kv_string(&w, "curve",
                      !g->ramp_bars                      ? "constant"
                      : g->curve == SG_CURVE_EXPONENTIAL ? "exponential"
                                                         : "linear");
    sg_json_end_object(&w);
  }
  sg_json_end_array(&w);
  sg_json_kv_int(&w, "total_bars", tl->total_bars);
  sg_json_kv_int(&w, "total_frames", tl->total_frames);
  sg_json_kv_number(&w, "total_s", (double)tl->total_frames / tl->rate);
  sg_json_end_object(&w);
  const char *t = sg_json_writer_text(&w, NULL);
  if (t)
    printf("%s\n", t);
  sg_json_writer_free(&w);
  return t ? SG_EXIT_OK : SG_EXIT_IO;
}

/* With a reference (--reference, or tempo: auto which measures the spec's drum reference): the
 * reference is measured as render's step 2 does, the grid built on its tempo when tempo: auto
 * and aligned to its first downbeat, and the measured values printed above the table. */
static int time_with_reference(sg_song *song, const char *ref_path, sg_timeline *tl,
                               sg_reference *ref, int json) {
  sg_diag d;
  sg_diag_clear(&d);
  char dir[] = "/tmp/stemgate-timing-XXXXXX";
  if (!mkdtemp(dir)) {
    fprintf(stderr, "stemgate timing: cannot create a temporary folder\n");
    return SG_EXIT_IO;
  }
  char work[sizeof dir + 32];
  snprintf(work, sizeof work, "%s/reference.wav", dir);
  sg_gate_report gates;
  sg_gate_report_init(&gates);
  sg_status st = sg_reference_prepare(song, ref_path, NULL, work, ref, &gates, &d);
  if (st == SG_OK && song->tempo_auto)
    song->tempo = ref->tempo_grid;
  if (st == SG_OK)
    st = sg_timeline_build(song, tl, &d);
  if (st == SG_OK)
    st = sg_reference_align(ref, song, tl, NULL, &gates, &d);
  remove(work);
  rmdir(dir);
  sg_gate_report_free(&gates);
  if (st != SG_OK) {
    sg_cli_print_diag(&d);
    return sg_exit_code(st);
  }
  if (!json)
    printf("reference: %s\n  measured tempo %.4f BPM (grid %.2f BPM%s), first downbeat %.2f ms, "
           "grid origin frame %lld\n",
           ref->source_path, ref->tempo_bpm, ref->tempo_grid_bpm,
           song->tempo_auto ? ", tempo: auto" : ", the spec's", ref->offset_ms,
           (long long)tl->origin_frame);
  return SG_EXIT_OK;
}

int sg_cli_timing(int argc, char **argv, const sg_cli_command *self) {
  const char *spec = NULL, *reference = NULL;
  int json = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--json"))
      json = 1;
    else if (!strcmp(argv[i], "--reference")) {
      if (i + 1 >= argc)
        return sg_cli_usage_error(self, "--reference needs a file", NULL);
      reference = argv[++i];
    } else if (argv[i][0] == '-' && argv[i][1])
      return sg_cli_usage_error(self, "unknown option", argv[i]);
    else if (!spec)
      spec = argv[i];
    else
      return sg_cli_usage_error(self, "expects exactly one spec file, got another:", argv[i]);
  }
  if (!spec)
    return sg_cli_usage_error(self, "expects exactly one spec file", NULL);
  sg_song *song = NULL;
  sg_timeline tl;
  int rc;
  sg_reference ref;
  memset(&ref, 0, sizeof ref);
  int measured = 0;
  sg_diag d;
  sg_diag_clear(&d);
  sg_status lst = sg_song_load(spec, &song, &d);
  if (lst != SG_OK) {
    sg_cli_print_diag(&d);
    return sg_exit_code(lst);
  }
  if (reference || song->tempo_auto) {
    rc = time_with_reference(song, reference, &tl, &ref, json);
    measured = 1;
  } else {
    sg_song_free(song);
    rc = sg_cli_load_and_time(spec, &song, &tl);
  }
  if (rc == SG_EXIT_OK) {
    if (json)
      rc = print_timing_json(song, &tl);
    else
      sg_cli_print_timing(song, &tl);
  }
  if (measured)
    sg_reference_free(&ref);
  sg_song_free(song);
  return rc;
}
