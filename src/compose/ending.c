/* The final hit of `ending: ring`: on the downbeat after the last bar the band lands together on
 * the tonic of the last section's key and lets it ring (timing.h owns how long the files run
 * on): drums crash and kick, the bass on the tonic root, comping, pads and arps on the tonic
 * triad above E3, a lead on the tonic. A user's drum pattern keeps to the pieces it names
 * (kick, crash, open hat; none named: no drum hit). Notes from a MIDI file or a written
 * `melody:` are the user's line, played as written, and get no hit. */
#include "compose_internal.h"

#include <string.h>

enum { KICK = 36, OPEN_HAT = 46, CRASH = 49 };

static void hit(sg__ctx *c, int key, float vel, int group) {
  if (c->status != SG_OK || key < 0 || key > 127)
    return;
  sg_note n;
  memset(&n, 0, sizeof n);
  n.start = c->tl->total_frames;
  n.length = c->tl->hold_frames > 0 ? c->tl->hold_frames : 1;
  n.key = key;
  n.velocity = vel;
  n.group = group;
  c->status = sg_notes_push(c->out, &n);
}

/* The pitch of pitch class pc in [lo, lo + 11]. */
static int in_octave(int pc, int lo) {
  int k = lo + ((pc - lo) % 12 + 12) % 12;
  return k;
}

static int user_names(const sg__ctx *c, int key) {
  for (int l = 0; l < c->drum_user.n_lanes; ++l)
    if (c->drum_user.lanes[l].key == key || (key == KICK && c->drum_user.lanes[l].key == 35))
      return 1;
  return 0;
}

void sg__ending_hit(sg__ctx *c) {
  const sg_timeline *tl = c->tl;
  const int last = tl->n_sections - 1;
  if (tl->ending != SG_ENDING_RING || last < 0)
    return;
  int plays = c->stem ? sg_stem_plays_in(c->song, c->stem, last) : sg_drums_play_in(c->song, last);
  if (!plays || (c->stem && c->stem->melody.s[0]))
    return;
  if (c->role == SG_ROLE_DRUMS || !c->stem) {
    /* A user's pattern (with or without fills) keeps to the pieces it names. */
    const int keys[3] = {KICK, CRASH, OPEN_HAT};
    const float vel[3] = {0.95f, 0.9f, 0.75f};
    for (int i = 0; i < 3; ++i)
      if (!c->has_user || user_names(c, keys[i]))
        hit(c, keys[i], vel[i], 0);
    return;
  }
  const sg_key *k = &c->keys[last];
  int pcs[7];
  sg_key_scale(k, pcs);
  const int o = 12 * c->octave, g = ++c->group;
  switch (c->role) {
  case SG_ROLE_BASS:
    hit(c, in_octave(pcs[0], 28) + o, 0.9f, 0); /* E1..D#2 */
    break;
  case SG_ROLE_LEAD:
    hit(c, in_octave(pcs[0], 67) + o, 0.8f, 0);
    break;
  default: { /* comp, pad, arp: the tonic triad from E3 up, root doubled on top */
    int root = in_octave(pcs[0], 52) + o;
    hit(c, root, 0.8f, g);
    hit(c, in_octave(pcs[2], root), 0.75f, g);
    hit(c, in_octave(pcs[4], root), 0.75f, g);
    hit(c, root + 12, 0.7f, g);
    break;
  }
  }
}
