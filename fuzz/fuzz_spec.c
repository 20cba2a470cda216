/* Fuzz target: the song spec loader (YAML text -> sg_song, every validation that needs no file).
 *
 * Every input must give SG_OK or SG_E_SPEC/SG_E_LIMIT with a 1-based position and a message;
 * anything else (a crash, a leak, a position-less error) is a finding. Seeds: a few specs made
 * here and the bundled examples ($SG_SOURCE_DIR/examples). See fuzz/README.md. */
#include "fuzz.h"
#include "seeds_util.h"
#include "stemgate/spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A spec with a variations: block: its expansion (which reads a file) and a few variants. The
 * same invariants: every variant a song, every failure a message and, for a spec error, a
 * position. */
static void variations(const uint8_t *data, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/sg-fuzz-var-%ld.yaml", (long)getpid());
  FILE *f = fopen(path, "wb");
  if (!f)
    return;
  int ok = fwrite(data, 1, size, f) == size;
  if (fclose(f) != 0 || !ok) {
    remove(path);
    return;
  }
  sg_variant_list vl;
  sg_diag d;
  sg_status st = sg_song_variants(path, &vl, &d);
  if (st == SG_OK) {
    for (size_t i = 0; i < vl.n && i < 3; ++i) {
      sg_song *v = NULL;
      if (sg_song_load_variant(path, vl.names[i], &v, &d) == SG_OK) {
        if (!v || strcmp(v->variant, vl.names[i]))
          abort();
        sg_song_free(v);
      } else if (v || !d.message[0]) {
        abort(); /* only an allocation failure can fail what expanded */
      }
    }
    sg_variant_list_free(&vl);
  } else if (vl.n || !d.message[0] || (st == SG_E_SPEC && (d.line < 1 || d.col < 1))) {
    abort();
  }
  remove(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sg_song *s = NULL;
  sg_diag d;
  sg_status st = sg_song_parse((const char *)data, size, "fuzz.yaml", &s, &d);
  if (st == SG_OK) {
    if (!s || s->n_sections < 1 || s->n_sections > SG_MAX_SECTIONS || s->n_stems > SG_MAX_STEMS)
      abort();
    for (int i = 0; i < s->n_stems; ++i)
      for (int j = 0; j < s->n_sections; ++j)
        (void)sg_stem_plays_in(s, &s->stems[i], j);
    int has_variations = s->variations_pos.line > 0;
    sg_song_free(s);
    if (has_variations)
      variations(data, size);
  } else {
    if (s || !d.message[0] || (st == SG_E_SPEC && (d.line < 1 || d.col < 1)))
      abort();
  }
  return 0;
}

void sg_fuzz_seeds(sg_fuzz_add_fn add, void *user) {
  sg_fuzz_add_text(add, user,
                   "title: T\ntempo: 120\nmeter: 4/4\nkey: C major\nstyle: pop\nseed: 1\n"
                   "sections:\n  - {name: a, bars: 2, chords: \"C | G\"}\n"
                   "stems:\n  - {name: Bass, instrument: moog_bass}\n"
                   "drums: {source: synth, style: pop}\n"
                   "master: {loudness_lufs: -14, true_peak_dbtp: -1.0}\n");
  sg_fuzz_add_text(add, user,
                   "title: U\ntempo: 96\nmeter: 7/8\nkey: A minor\n"
                   "sections:\n  - name: v\n    bars: 4\n    progression: i-VI-III-VII\n"
                   "stems:\n  - name: Keys\n    instrument: dx7\n    patch: epiano\n"
                   "    pattern: \"x.x. ..x. x... ..x.\"\n"
                   "    effects:\n      - eq: {type: highpass, freq: 100}\n"
                   "      - reverb: {rt60: 1.5, mix: 0.2}\n"
                   "drums: {source: synth, pattern: \"kick: x...x... snare: ....x...\"}\n");
  sg_fuzz_add_text(add, user, "title: [a, {b: c}]\n&x a: *x\n? complex\n: key\n");
  sg_fuzz_add_text(add, user,
                   "title: V\ntempo: 120\nsections:\n  - {name: a, bars: 2}\n"
                   "stems:\n  - {name: Bass, instrument: moog_bass}\ndrums: {source: synth}\n"
                   "variations:\n  key: [C, D minor]\n  energy: [sparse, full]\n"
                   "  drums.seed: [1, 2]\n");
  sg_fuzz_add_text(add, user,
                   "title: W\ntempo: 90\nsections:\n  - {name: a, bars: 2}\n"
                   "stems:\n  - {name: Keys, instrument: dx7}\n"
                   "variations:\n  - {seed: 1, name: one}\n  - {tempo: 96, style: house}\n");
  sg_fuzz_add_dir(add, user, "examples", ".yaml");
}
