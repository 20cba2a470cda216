/* libFuzzer entry point for the song spec parser (not built by default).
 *
 * Build and run (clang, from the repository root):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *     -D_POSIX_C_SOURCE=200809L -DSG_VERSION=\"0\" \
 *     fuzz/fuzz_spec.c src/spec/spec_parse.c src/spec/spec_util.c src/core/diag.c \
 *     src/core/status.c src/core/rng.c src/core/sha256.c src/core/numeric.c src/core/notes.c \
 *     $(pkg-config --libs yaml-0.1 libcrypto) -lm -o fuzz_spec
 *   mkdir -p corpus && cp examples/deja-vu.yaml corpus/ && ./fuzz_spec -max_len=16384 corpus
 *
 * Every input must give SG_OK or SG_E_SPEC with a 1-based position and a message; anything else
 * (a crash, a leak, a position-less error) is a finding. */
#include "stemgate/spec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    sg_song_free(s);
  } else {
    if (s || (st == SG_E_SPEC && (d.line < 1 || d.col < 1 || !d.message[0])))
      abort();
  }
  return 0;
}
