/* Fuzz target: the chord and pattern parsers of src/theory (chord symbols, chord charts with
 * roman numerals, named progressions, keys, step patterns, drum patterns), the strings a spec
 * hands them. Every parser gets the whole input as one NUL-terminated string.
 *
 * Invariants: a rejection carries a message; an accepted chart has 1..SG_PROG_MAX chords, an
 * accepted pattern no more steps than it can hold. Seeds: symbols and patterns of every kind
 * the spec documents. */
#include "fuzz.h"
#include "seeds_util.h"
#include "stemgate/theory.h"

static void explained(sg_status st, const sg_diag *d) {
  if (st != SG_OK && !d->message[0])
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096)
    return 0; /* the spec bounds these strings far below this */
  char s[4097];
  memcpy(s, data, size);
  s[size] = '\0';
  sg_diag d;
  sg_chord c;
  sg_diag_clear(&d);
  explained(sg_chord_parse(s, &c, &d), &d);
  sg_key key;
  sg_diag_clear(&d);
  if (sg_key_parse(s, &key, &d) != SG_OK) {
    explained(SG_E_PARSE, &d);
    sg_key_parse("C major", &key, NULL);
  }
  static sg_progression p; /* large: not on the stack */
  sg_diag_clear(&d);
  sg_status st = sg_progression_parse(s, &key, 0, &p, &d);
  explained(st, &d);
  if (st == SG_OK && (p.n < 1 || p.n > SG_PROG_MAX))
    abort();
  sg_diag_clear(&d);
  explained(sg_progression_named(s, &key, 0, &p, &d), &d);
  static sg_step_pattern sp;
  sg_diag_clear(&d);
  st = sg_pattern_parse(s, 0, &sp, &d);
  explained(st, &d);
  if (st == SG_OK && (sp.n_steps < 0 || sp.n_steps > SG_PATTERN_MAX_STEPS || sp.n_hits < 0 ||
                      sp.n_hits > SG_PATTERN_MAX_STEPS))
    abort();
  static sg_drum_pattern dp;
  sg_diag_clear(&d);
  st = sg_drum_pattern_parse(s, 0, &dp, &d);
  explained(st, &d);
  if (st == SG_OK && (dp.n_lanes < 0 || dp.n_lanes > SG_DRUM_MAX_LANES))
    abort();
  return 0;
}

void sg_fuzz_seeds(sg_fuzz_add_fn add, void *user) {
  static const char *const SEEDS[] = {
      "Cmaj7",
      "Am7b5/G",
      "F#m7(b9,#11)",
      "Bbsus4add9",
      "E7#9",
      "C2alt2alt2alt2", /* the shape of the first finding (an add past four slots) */
      "C | G | Am | F",
      "Gmaj7 Em7 | Am7 D7 |",
      "C - - G | % | Dm7 % G7 -",
      "I vi | ii V",
      "i-VI-III-VII",
      "ii-V-I",
      "blues",
      "andalusian",
      "D major",
      "F# dorian",
      "x... x... x.x. x...",
      "x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.",
      "x-x-|x--x",
      "kick: x...x... snare: ....x... hat: x.x.x.x.",
      "kick: x..x..x. snare: ..x...x. ride: xxxxxxxx",
  };
  for (size_t i = 0; i < sizeof SEEDS / sizeof *SEEDS; ++i)
    sg_fuzz_add_text(add, user, SEEDS[i]);
}
