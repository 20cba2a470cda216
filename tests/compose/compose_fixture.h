/* Shared fixture for the compose tests: a small song parsed from YAML text, and its grid. */
#ifndef COMPOSE_FIXTURE_H
#define COMPOSE_FIXTURE_H

#include "sg_test.h"

#include "stemgate/compose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Four sections (sparse intro, verse, bridge in Eb by roman numerals, full outro) and one stem
 * per role; the Bridge stem plays only in the bridge. %s: meter, %s: style. */
static const char *const FIXTURE_YAML =
    "title: Fixture\n"
    "tempo: 120\n"
    "meter: %s\n"
    "sample_rate: 48000\n"
    "key: C major\n"
    "style: %s\n"
    "seed: 1234\n"
    "humanize: {timing_ms: 8, velocity: 0.1}\n"
    "sections:\n"
    "  - name: intro\n"
    "    bars: 2\n"
    "    energy: sparse\n"
    "    chords: \"Cmaj7 | A7\"\n"
    "  - name: verse\n"
    "    bars: 4\n"
    "    chords: \"Dm7 | G7 | Cmaj7 | A7(b9)\"\n"
    "  - name: bridge\n"
    "    bars: 4\n"
    "    key: Eb major\n"
    "    progression: ii-V-I\n"
    "  - name: outro\n"
    "    bars: 2\n"
    "    energy: full\n"
    "stems:\n"
    "  - {name: Guitars, instrument: guitar, role: comp}\n"
    "  - {name: Bass, instrument: moog_bass, role: bass}\n"
    "  - {name: Bridge, instrument: dx7, role: comp, sections: [bridge]}\n"
    "  - {name: Pad, instrument: prophet_poly, role: pad}\n"
    "  - {name: Arp, instrument: prophet_poly, role: arp}\n"
    "  - {name: Lead, instrument: dx7, role: lead}\n"
    "drums: {source: synth}\n";

typedef struct fixture {
  sg_song *song;
  sg_timeline tl;
} fixture;

static inline void fixture_from_text(fixture *f, const char *text) {
  sg_diag d;
  sg_diag_clear(&d);
  memset(f, 0, sizeof *f);
  if (sg_song_parse(text, strlen(text), "fixture.yaml", &f->song, &d) != SG_OK) {
    char buf[700];
    fail_msg("fixture spec: %s", sg_diag_format(&d, buf, sizeof buf));
  }
  if (sg_timeline_build(f->song, &f->tl, &d) != SG_OK) {
    char buf[700];
    fail_msg("fixture timeline: %s", sg_diag_format(&d, buf, sizeof buf));
  }
}

static inline void fixture_load(fixture *f, const char *meter, const char *style) {
  char text[4096];
  snprintf(text, sizeof text, FIXTURE_YAML, meter, style);
  fixture_from_text(f, text);
}

static inline void fixture_free(fixture *f) {
  sg_song_free(f->song);
  f->song = NULL;
}

/* Composes stem i (or the drums when i < 0); fails the test on error. */
static inline void compose_or_fail(const fixture *f, int i, sg_note_list *l,
                                   sg_compose_report *rep) {
  sg_diag d;
  sg_diag_clear(&d);
  sg_status st = i < 0 ? sg_compose_drums(f->song, &f->tl, l, rep, &d)
                       : sg_compose_stem(f->song, &f->tl, i, l, rep, &d);
  if (st != SG_OK) {
    char buf[700];
    fail_msg("compose %d: %s", i, sg_diag_format(&d, buf, sizeof buf));
  }
}

#endif
