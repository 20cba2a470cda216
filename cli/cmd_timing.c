/* stemgate timing SPEC: the section table, exact to the sample. The table printer is shared with
 * `stemgate check` and `stemgate render --dry-run`, so the three show the same thing. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int sg_cli_load_and_time(const char *spec, sg_song **song, sg_timeline *tl) {
  sg_diag d;
  sg_diag_clear(&d);
  *song = NULL;
  /* sg_song_load validates the whole spec (effects, instruments, styles, patterns, files). */
  sg_status st = sg_song_load(spec, song, &d);
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
  printf("%-12s %-9s %5s %9s %-10s %-10s %10s %10s %-12s %s\n", "section", "bars", "n", "beats",
         "start", "end", "frame", "end frame", "key", "snap");
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
    printf("%-12s %-9s %5lld %9.0f %-10s %-10s %10lld %10lld %-12s %s\n", s->name, bars,
           (long long)s->bars, (double)s->start_bar * beats_per_bar,
           sg_format_time(s->start_sec, t0, sizeof t0), sg_format_time(s->end_sec, t1, sizeof t1),
           (long long)s->start_frame, (long long)s->end_frame, key, snap);
  }
  printf("total: %lld bars, %s, %lld frames\n", (long long)tl->total_bars,
         sg_format_time((double)tl->total_frames / tl->rate, t0, sizeof t0),
         (long long)tl->total_frames);
}

int sg_cli_timing(int argc, char **argv, const sg_cli_command *self) {
  if (argc != 2)
    return sg_cli_usage_error(self, "expects exactly one spec file", NULL);
  sg_song *song = NULL;
  sg_timeline tl;
  int rc = sg_cli_load_and_time(argv[1], &song, &tl);
  if (rc != SG_EXIT_OK)
    return rc;
  sg_cli_print_timing(song, &tl);
  sg_song_free(song);
  return SG_EXIT_OK;
}
