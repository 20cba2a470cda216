/* stemgate timing SPEC: the section table, exact to the sample. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int sg_cli_timing(int argc, char **argv, const sg_cli_command *self) {
  if (argc != 2)
    return sg_cli_usage_error(self, "expects exactly one spec file", NULL);
  sg_diag d;
  sg_diag_clear(&d);
  sg_song *song = NULL;
  sg_status st = sg_song_load(argv[1], &song, &d);
  sg_timeline tl;
  if (st == SG_OK)
    st = sg_timeline_build(song, &tl, &d);
  if (st != SG_OK) {
    sg_cli_print_diag(&d);
    sg_song_free(song);
    return sg_exit_code(st);
  }
  char t0[32], t1[32];
  printf("%s: %.6g BPM (%lld/%lld), %d/%d, %u Hz, %s, %u ch\n", song->title,
         (double)tl.tempo_num / (double)tl.tempo_den, (long long)tl.tempo_num,
         (long long)tl.tempo_den, tl.meter_num, tl.meter_den, tl.rate,
         sg_sample_format_name(song->format), song->channels);
  printf("%-12s %-9s %5s %9s %-10s %-10s %10s %10s %-12s %s\n", "section", "bars", "n", "beats",
         "start", "end", "frame", "end frame", "key", "snap");
  double beats_per_bar = (double)tl.meter_num; /* beats in the meter's own unit */
  for (int i = 0; i < tl.n_sections; ++i) {
    const sg_section_time *s = &tl.sections[i];
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
  printf("total: %lld bars, %s, %lld frames\n", (long long)tl.total_bars,
         sg_format_time((double)tl.total_frames / tl.rate, t0, sizeof t0),
         (long long)tl.total_frames);
  sg_song_free(song);
  return SG_EXIT_OK;
}
