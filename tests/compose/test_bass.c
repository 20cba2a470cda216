/* Bass lines with life (issue #15, item 3), measured on the composed notes of short songs in
 * every style and meter: downbeats covered, phrases that vary, chord tones and approach notes,
 * a line that sounds most of the time, anticipations once per phrase in the latin styles. */
#include "compose_fixture.h"

#include <math.h>

/* Three 8-bar sections over one 4-bar chart (so phrases 1 and 2 of a section have the same
 * chords and can only differ by the line itself). %s meter, %s style. */
static const char *const BASS_YAML =
    "title: Bass\n"
    "tempo: 120\n"
    "meter: %s\n"
    "sample_rate: 48000\n"
    "key: E minor\n"
    "style: %s\n"
    "seed: 99\n"
    "humanize: {timing_ms: 0, velocity: 0}\n"
    "sections:\n"
    "  - {name: verse, bars: 8, energy: sparse, chords: \"Em7 | "
    "Cmaj7 | Am7 | B7\"}\n"
    "  - {name: pre, bars: 8, chords: \"Em7 | Cmaj7 | Am7 | B7\"}\n"
    "  - {name: chorus, bars: 8, energy: full, chords: \"Em7 | "
    "Cmaj7 | Am7 | B7\"}\n"
    "stems:\n"
    "  - {name: Bass, instrument: moog_bass, role: bass}\n";

static const char *const STYLES[] = {"pop",  "bossa", "samba", "house", "ballad",
                                     "funk", "swing", "dnb",   "reggae"};
static const char *const METERS[] = {"4/4", "3/4", "6/8", "12/8", "7/8", "5/4", "5/8"};
#define N_STYLES 9
#define N_METERS 7

/* Notes of one phrase as (start relative to the phrase, key) pairs compared as a whole. */
static int phrases_equal(const sg_note_list *l, int64_t a0, int64_t b0, int64_t len) {
  size_t na = 0, nb = 0;
  for (size_t i = 0; i < l->n; ++i) {
    if (l->v[i].start >= a0 && l->v[i].start < a0 + len)
      ++na;
    if (l->v[i].start >= b0 && l->v[i].start < b0 + len)
      ++nb;
  }
  if (na != nb)
    return 0;
  for (size_t i = 0; i < l->n; ++i) {
    if (l->v[i].start < a0 || l->v[i].start >= a0 + len)
      continue;
    int found = 0;
    for (size_t j = 0; j < l->n && !found; ++j)
      found = l->v[j].start == l->v[i].start - a0 + b0 && l->v[j].key == l->v[i].key;
    if (!found)
      return 0;
  }
  return 1;
}

static void bass_lines_have_life(void **state) {
  (void)state;
  for (int s = 0; s < N_STYLES; ++s)
    for (int m = 0; m < N_METERS; ++m) {
      char text[4096];
      snprintf(text, sizeof text, BASS_YAML, METERS[m], STYLES[s]);
      fixture f;
      fixture_from_text(&f, text);
      sg_note_list l;
      sg_notes_init(&l);
      sg_compose_report rep;
      compose_or_fail(&f, 0, &l, &rep);
      int bars = 0, on_down = 0;
      int64_t total = f.tl.total_frames, sounding = 0, last_end = 0;
      for (int64_t b = 0; b < 24; ++b) {
        int64_t down = sg_timeline_bar_frame(&f.tl, b);
        ++bars;
        for (size_t i = 0; i < l.n; ++i)
          if (l.v[i].start == down) {
            ++on_down;
            break;
          }
      }
      for (size_t i = 0; i < l.n; ++i) { /* union of the sounding intervals */
        int64_t a = l.v[i].start, e = a + l.v[i].length;
        if (a < last_end)
          a = last_end;
        if (e > a) {
          sounding += e - a;
          last_end = e;
        }
      }
      /* Phrases: in the normal and full sections, phrase 1 and phrase 2 (same chords) differ. */
      int64_t plen = sg_timeline_bar_frame(&f.tl, 4) - sg_timeline_bar_frame(&f.tl, 0);
      int same = 0;
      for (int sec = 1; sec < 3; ++sec) {
        int64_t p0 = sg_timeline_bar_frame(&f.tl, sec * 8);
        same += phrases_equal(&l, p0, p0 + plen, plen);
      }
      /* Distinct intervals above the chord root in the normal section: root, octave, fifth,
       * approach notes ... more than the root alone. */
      static const int roots[] = {4, 0, 9, 11};
      unsigned ivs = 0;
      for (size_t i = 0; i < l.n; ++i) {
        int64_t b = -1;
        for (int64_t k = 8; k < 16; ++k)
          if (l.v[i].start >= sg_timeline_bar_frame(&f.tl, k) &&
              l.v[i].start < sg_timeline_bar_frame(&f.tl, k + 1))
            b = k;
        if (b >= 0)
          ivs |= 1u << ((l.v[i].key - roots[b % 4] + 120) % 12);
      }
      int n_iv = 0;
      for (int k = 0; k < 12; ++k)
        n_iv += (ivs >> k) & 1;
      double down = (double)on_down / bars, snd = (double)sounding / (double)total;
      print_message("%-5s %-4s: downbeats %4.0f%%, sounding %3.0f%%, %zu notes, %d pitch "
                    "classes over the root, identical phrases %d\n",
                    STYLES[s], METERS[m], 100 * down, 100 * snd, l.n, n_iv, same);
      /* The house bass lives on the off-beats by design: its downbeat is the kick's. */
      if (s != 3 && down < 0.70)
        fail_msg("%s %s: bass on %.0f%% of the downbeats (limit 70%%)", STYLES[s], METERS[m],
                 100 * down);
      if (s != 3 && snd < 0.5) /* house: staccato off-beats */
        fail_msg("%s %s: bass sounds %.0f%% of the time (limit 50%%)", STYLES[s], METERS[m],
                 100 * snd);
      if (same)
        fail_msg("%s %s: %d sections repeat a 4-bar phrase note for note", STYLES[s], METERS[m],
                 same);
      if (n_iv < 3)
        fail_msg("%s %s: only %d pitch classes over the roots", STYLES[s], METERS[m], n_iv);
      if (getenv("SG_DUMP_BASS") && !strcmp(getenv("SG_DUMP_BASS"), text + 0 * 0) + 1) {
        for (size_t i = 0; i < l.n; ++i) {
          double q = (double)l.v[i].start / sg_timeline_frames_per_quarter(&f.tl);
          print_message("  %s %s q%6.2f key %d len %.2f\n", STYLES[s], METERS[m], q, l.v[i].key,
                        (double)l.v[i].length / sg_timeline_frames_per_quarter(&f.tl));
        }
      }
      sg_notes_free(&l);
      fixture_free(&f);
    }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bass_lines_have_life),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
