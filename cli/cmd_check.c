/* stemgate check SPEC: validate the whole spec and show its grid, without rendering anything.
 * The checks are the library's (sg_song_load validates effects, instruments, patches, params,
 * styles, patterns, sidechains and the MIDI/SoundFont files), so check, timing and render can
 * never disagree about what a valid spec is. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sg_cli_check(int argc, char **argv, const sg_cli_command *self) {
  if (argc == 2 && !strcmp(argv[1], "--schema")) {
    /* The generated parameter reference (docs/spec.md embeds it). */
    char *md = NULL;
    sg_status st = sg_spec_reference_markdown(&md);
    if (st != SG_OK)
      return sg_exit_code(st);
    fputs(md, stdout);
    free(md);
    return SG_EXIT_OK;
  }
  if (argc != 2)
    return sg_cli_usage_error(self, "expects exactly one spec file", NULL);
  sg_song *song = NULL;
  sg_timeline tl;
  int rc = sg_cli_load_and_time(argv[1], &song, &tl);
  if (rc != SG_EXIT_OK)
    return rc;
  if (song->variations_pos.line) { /* every variant is loaded with every check too */
    sg_variant_list vl;
    sg_diag d;
    sg_diag_clear(&d);
    if (sg_song_variants(argv[1], &vl, &d) != SG_OK) {
      sg_song_free(song);
      sg_cli_print_diag(&d);
      return sg_exit_code(d.status ? d.status : SG_E_SPEC);
    }
    printf("variations: %zu variants:", vl.n);
    for (size_t i = 0; i < vl.n; ++i)
      printf(" %s", vl.names[i]);
    printf("\n");
    sg_variant_list_free(&vl);
  }
  sg_cli_print_timing(song, &tl);
  int n_fx = song->drums.n_effects + song->master.n_effects;
  for (int i = 0; i < song->n_stems; ++i)
    n_fx += song->stems[i].n_effects;
  printf("ok: %s is valid (%d stems%s, %d effects)\n", argv[1], song->n_stems,
         song->drums.source != SG_DRUMS_NONE ? " + drums" : "", n_fx);
  sg_song_free(song);
  return SG_EXIT_OK;
}
