/* Fuzz target: the Standard MIDI File decoder (src/compose/midi.c, sg_midi_decode) that reads
 * a stem's `midi:` file, with both mappings (the song's grid and the file's own tempo map).
 *
 * Invariants: a rejection carries a message; an accepted file's notes have a key 0..127 and a
 * positive length. Seeds: files made by sg_midi_encode from a short phrase (format 1, the
 * writer's), and a hand-made format 0 file with running status and a tempo event. */
#include "fuzz.h"
#include "seeds_util.h"
#include "stemgate/compose.h"
#include "stemgate/spec.h"
#include "stemgate/timing.h"

static sg_timeline g_tl;
static int g_ready;

static const char SONG[] = "title: M\ntempo: 120\nmeter: 4/4\nkey: C major\n"
                           "sections:\n  - {name: a, bars: 4, chords: \"C | G | Am | F\"}\n"
                           "stems:\n  - {name: Keys, instrument: dx7}\n";

static void ready(void) {
  if (g_ready)
    return;
  sg_song *s = NULL;
  sg_diag d;
  if (sg_song_parse(SONG, sizeof SONG - 1, "midi.yaml", &s, &d) != SG_OK ||
      sg_timeline_build(s, &g_tl, &d) != SG_OK) {
    fprintf(stderr, "fuzz_midi: %s\n", d.message);
    abort();
  }
  sg_song_free(s);
  g_ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ready();
  for (int map = 0; map < 2; ++map) {
    sg_note_list l;
    sg_notes_init(&l);
    sg_diag d;
    sg_diag_clear(&d);
    sg_midi_info info;
    sg_status st = sg_midi_decode(data, size, &g_tl,
                                  map ? SG_MIDI_MAP_FILE_TEMPO : SG_MIDI_MAP_GRID, &l, &info, &d);
    if (st != SG_OK && !d.message[0])
      abort();
    for (size_t i = 0; st == SG_OK && i < l.n; ++i)
      if (l.v[i].key < 0 || l.v[i].key > 127 || l.v[i].length <= 0)
        abort();
    sg_notes_free(&l);
  }
  return 0;
}

static const uint8_t FORMAT0[] = {
    'M', 'T', 'h',  'd', 0,  0,    0,    6,    0,    0,    0,    1,    0,    96,   'M',  'T',  'r',
    'k', 0,   0,    0,   28, 0x00, 0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40, 0x00, 0x90, 60,   100,  0x00,
    64,  90,  0x60, 60,  0,  0x00, 64,   0,    0x30, 0x80, 67,   64,   0x00, 0xFF, 0x2F, 0x00,
};

void sg_fuzz_seeds(sg_fuzz_add_fn add, void *user) {
  ready();
  add(user, FORMAT0, sizeof FORMAT0);
  sg_note_list l;
  sg_notes_init(&l);
  for (int i = 0; i < 8; ++i) {
    sg_note n = {.start = i * 12000,
                 .length = 9000 + 1000 * (i % 3),
                 .key = 48 + 3 * i,
                 .velocity = 0.4f + 0.05f * (float)i};
    sg_notes_push(&l, &n);
  }
  uint8_t *buf = NULL;
  size_t len = 0;
  if (sg_midi_encode(&l, &g_tl, "Fuzz", "Keys", 0, NULL, &buf, &len, NULL) == SG_OK) {
    add(user, buf, len);
    free(buf);
  }
  sg_notes_free(&l);
}
