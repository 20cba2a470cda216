/* The style, role and energy names: the one table of styles, read by the spec loader (a typo
 * fails before any audio, with a did-you-mean), by compose (which plays them) and by the
 * generated reference in docs/spec.md. In theory rather than compose because spec sits below
 * compose in the module order and may only call modules that depend on core alone. */
#include "stemgate/theory.h"

#include <ctype.h>
#include <stddef.h>

static int ieq(const char *a, const char *b) {
  for (; *a && *b; ++a, ++b)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return 0;
  return *a == *b;
}

static const struct {
  const char *name;
  sg_style style;
} style_names[] = {
    {"pop", SG_STYLE_POP},
    {"rock", SG_STYLE_POP},
    {"pop/rock", SG_STYLE_POP},
    {"bossa", SG_STYLE_BOSSA},
    {"bossa nova", SG_STYLE_BOSSA},
    {"bossanova", SG_STYLE_BOSSA},
    {"latin", SG_STYLE_BOSSA},
    {"samba", SG_STYLE_SAMBA},
    {"partido alto", SG_STYLE_SAMBA},
    {"house", SG_STYLE_HOUSE},
    {"dance", SG_STYLE_HOUSE},
    {"edm", SG_STYLE_HOUSE},
    {"ballad", SG_STYLE_BALLAD},
    {"slow", SG_STYLE_BALLAD},
    {"funk", SG_STYLE_FUNK},
    {"swing", SG_STYLE_SWING},
    {"jazz", SG_STYLE_SWING},
    {"dnb", SG_STYLE_DNB},
    {"drum and bass", SG_STYLE_DNB},
    {"drum-and-bass", SG_STYLE_DNB},
    {"breakbeat", SG_STYLE_DNB},
    {"jungle", SG_STYLE_DNB},
    {"reggae", SG_STYLE_REGGAE},
    {"one drop", SG_STYLE_REGGAE},
    {"one-drop", SG_STYLE_REGGAE},
};
#define N_STYLE_NAMES ((int)(sizeof style_names / sizeof style_names[0]))

sg_status sg_style_from_name(const char *s, sg_style *out) {
  if (!s || !out)
    return SG_E_INVAL;
  for (int i = 0; i < N_STYLE_NAMES; ++i)
    if (ieq(s, style_names[i].name)) {
      *out = style_names[i].style;
      return SG_OK;
    }
  return SG_E_NOTFOUND;
}

int sg_style_name_count(void) { return N_STYLE_NAMES; }

const char *sg_style_name_at(int i) {
  return i >= 0 && i < N_STYLE_NAMES ? style_names[i].name : NULL;
}

const char *sg_style_name(sg_style s) {
  static const char *n[SG_STYLE_COUNT_] = {"pop",  "bossa", "samba", "house", "ballad",
                                           "funk", "swing", "dnb",   "reggae"};
  return (unsigned)s < SG_STYLE_COUNT_ ? n[s] : "?";
}

const char *sg_style_doc(sg_style s) {
  static const char *doc[SG_STYLE_COUNT_] = {
      "straight 8ths, backbeat on 2 and 4, root-note bass with approach notes (aliases rock, "
      "pop/rock)",
      "Joao Gilberto guitar comping, root-fifth bass, surdo kick and cross-stick clave (aliases "
      "bossa nova, bossanova, latin)",
      "partido-alto comping and a busier kit (alias partido alto)",
      "four-on-the-floor kick, off-beat hats and bass, chord stabs (aliases dance, edm)",
      "slow 6/8 (or half-time) feel: kick on the first group, snare or cross-stick on the second, "
      "soft 8th hats, held bass roots, chords on the groups with an upstroke before the next "
      "(alias slow)",
      "16th syncopation: kick on the group starts and their 'a', backbeat with ghost notes, 16th "
      "hats, syncopated root-octave bass, muted 16th chops",
      "swung 8ths (the song's swing as the fraction of an 8th, default 1/3 = triplet feel): ride "
      "'ding ding-a', hat foot on the backbeats, feathered kick, walking bass on every beat, "
      "Charleston comping (alias jazz)",
      "two-step break: kick on 1 and the displaced 'and', snare on the backbeats, 8th/16th hats, "
      "long sub-bass notes, sparse stabs (aliases drum and bass, drum-and-bass, breakbeat, "
      "jungle)",
      "one drop: kick and cross-stick together on the bar's middle beat (nothing on 1), skank "
      "chops on the backbeats, bass on 1 with a syncopated answer (aliases one drop, one-drop)"};
  return (unsigned)s < SG_STYLE_COUNT_ ? doc[s] : "";
}

static const char *role_names[SG_ROLE_COUNT_] = {"comp", "pad", "arp", "lead", "bass", "drums"};

sg_status sg_role_from_name(const char *s, sg_role *out) {
  if (!s || !out)
    return SG_E_INVAL;
  for (int i = 0; i < SG_ROLE_COUNT_; ++i)
    if (ieq(s, role_names[i])) {
      *out = (sg_role)i;
      return SG_OK;
    }
  if (ieq(s, "bell")) {
    *out = SG_ROLE_LEAD;
    return SG_OK;
  }
  return SG_E_NOTFOUND;
}

const char *sg_role_name(sg_role r) { return (unsigned)r < SG_ROLE_COUNT_ ? role_names[r] : "?"; }

sg_status sg_energy_from_name(const char *s, sg_energy *out) {
  if (!s || !out)
    return SG_E_INVAL;
  if (!s[0] || ieq(s, "normal"))
    *out = SG_ENERGY_NORMAL;
  else if (ieq(s, "sparse"))
    *out = SG_ENERGY_SPARSE;
  else if (ieq(s, "full"))
    *out = SG_ENERGY_FULL;
  else
    return SG_E_NOTFOUND;
  return SG_OK;
}
