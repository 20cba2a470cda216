/* SoundFont instrument over libfluidsynth, rendered offline.
 *
 * No audio driver is created: samples are pulled with fluid_synth_write_float. Reverb and chorus
 * are switched off (they belong to the mix, and fluidsynth's chorus modulation would be state we
 * do not control); with one rendering thread the output is a pure function of the notes, which
 * the tests check byte for byte. fluidsynth applies events at its internal 64-frame block
 * boundaries, so a note starts up to 63 frames after its frame: documented, and tested with
 * that tolerance. fluidsynth's own log output is silenced (the library never prints); failures
 * come back as sg_diag messages. */
#include "synth_internal.h"

#include <fluidsynth.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ID_RING 1024

typedef struct sf2_params {
  double bank, program, gain;
} sf2_params;

const sg_param_def sg__sf2_params[] = {
    SG__PARAM("bank", "", 0, 128, "SoundFont bank", offsetof(sf2_params, bank)),
    SG__PARAM("program", "", 0, 127, "General MIDI program", offsetof(sf2_params, program)),
    SG__PARAM("gain", "dB", -24, 12, "output trim", offsetof(sf2_params, gain)),
};
const size_t sg__sf2_nparams = sizeof sg__sf2_params / sizeof sg__sf2_params[0];

typedef struct sg__sf2 {
  fluid_settings_t *settings;
  fluid_synth_t *synth;
  int sfid, bank, program;
  float gain;
  double rate;
  struct {
    uint32_t id;
    int key;
  } ids[ID_RING];
} sg__sf2;

static void quiet_log(int level, const char *message, void *data) {
  (void)level;
  (void)message;
  (void)data;
}

static void sf2_note_on(void *st, const sg_note *n, uint32_t id) {
  sg__sf2 *s = st;
  int vel = (int)lround(n->velocity * 127.0);
  if (vel < 1)
    vel = 1;
  if (vel > 127)
    vel = 127;
  fluid_synth_noteon(s->synth, 0, n->key, vel);
  s->ids[id % ID_RING].id = id;
  s->ids[id % ID_RING].key = n->key;
}

static void sf2_note_off(void *st, uint32_t id) {
  sg__sf2 *s = st;
  if (s->ids[id % ID_RING].id == id)
    fluid_synth_noteoff(s->synth, 0, s->ids[id % ID_RING].key);
}

static void sf2_render(void *st, float *l, float *r, size_t n) {
  sg__sf2 *s = st;
  size_t done = 0;
  while (done < n) {
    int chunk = (int)((n - done) > 4096 ? 4096 : (n - done));
    fluid_synth_write_float(s->synth, chunk, l + done, 0, 1, r + done, 0, 1);
    done += (size_t)chunk;
  }
  if (s->gain != 1.0f)
    for (size_t i = 0; i < n; ++i) {
      l[i] *= s->gain;
      r[i] *= s->gain;
    }
}

static void sf2_reset(void *st) {
  sg__sf2 *s = st;
  fluid_synth_all_sounds_off(s->synth, -1);
  fluid_synth_program_select(s->synth, 0, s->sfid, s->bank, s->program);
  memset(s->ids, 0, sizeof s->ids);
}

static void sf2_destroy(void *st) {
  sg__sf2 *s = st;
  if (s->synth)
    delete_fluid_synth(s->synth);
  if (s->settings)
    delete_fluid_settings(s->settings);
  free(s);
}

static int64_t sf2_tail(const void *st) {
  const sg__sf2 *s = st;
  return (int64_t)(2.0 * s->rate); /* release of typical GM presets stays under 2 s */
}

/* A sampled instrument brings the attack of its recording: not known here. */
static double sf2_attack(const void *st) {
  (void)st;
  return NAN;
}

static const sg__inst_vt sf2_vt = {sf2_note_on, sf2_note_off, sf2_render, sf2_reset,
                                   sf2_destroy, sf2_tail,     sf2_attack};

sg_status sg__sf2_create(const char *path, int bank, int program, const sg_param_set *ov,
                         double rate, void **st, const sg__inst_vt **vt, sg_diag *d) {
  for (int lv = 0; lv < LAST_LOG_LEVEL; ++lv)
    fluid_set_log_function(lv, quiet_log, NULL);
  sf2_params pp = {bank, program, 6};
  sg_status stt = sg__apply_overrides(&pp, sg__sf2_params, sg__sf2_nparams, ov, "soundfont", d);
  if (stt != SG_OK)
    return stt;
  if (pp.bank < 0 || pp.bank > 128 || pp.program < 0 || pp.program > 127)
    return sg_diag_fail(d, SG_E_RANGE, "soundfont bank %g / program %g outside 0..128 / 0..127",
                        pp.bank, pp.program);
  sg__sf2 *s = calloc(1, sizeof *s);
  if (!s)
    return sg_diag_fail(d, SG_E_NOMEM, "out of memory creating the soundfont instrument");
  s->rate = rate;
  s->bank = (int)pp.bank;
  s->program = (int)pp.program;
  s->gain = (float)pow(10.0, pp.gain / 20.0);
  s->settings = new_fluid_settings();
  if (!s->settings) {
    sf2_destroy(s);
    return sg_diag_fail(d, SG_E_NOMEM, "fluidsynth: cannot create settings");
  }
  fluid_settings_setnum(s->settings, "synth.sample-rate", rate);
  fluid_settings_setint(s->settings, "synth.reverb.active", 0);
  fluid_settings_setint(s->settings, "synth.chorus.active", 0);
  fluid_settings_setint(s->settings, "synth.cpu-cores", 1);
  fluid_settings_setint(s->settings, "synth.polyphony", 256);
  fluid_settings_setint(s->settings, "synth.threadsafe-api", 0);
  /* fluidsynth's default master gain (0.2) leaves a GM piano near -28 dBFS; 1.0 plus the +6 dB
   * default trim brings a single note near -8 dBFS. */
  fluid_settings_setnum(s->settings, "synth.gain", 1.0);
  s->synth = new_fluid_synth(s->settings);
  if (!s->synth) {
    sf2_destroy(s);
    return sg_diag_fail(d, SG_E_NOMEM, "fluidsynth: cannot create the synthesizer");
  }
  s->sfid = fluid_synth_sfload(s->synth, path, 1);
  if (s->sfid == FLUID_FAILED) {
    sf2_destroy(s);
    sg_diag_at(d, path, 0, 0);
    return sg_diag_fail(d, SG_E_IO, "cannot load SoundFont '%s' (missing or not an .sf2 file)",
                        path);
  }
  if (fluid_synth_program_select(s->synth, 0, s->sfid, s->bank, s->program) != FLUID_OK) {
    sf2_destroy(s);
    return sg_diag_fail(d, SG_E_NOTFOUND, "SoundFont '%s' has no preset bank %d program %d", path,
                        (int)pp.bank, (int)pp.program);
  }
  *st = s;
  *vt = &sf2_vt;
  return SG_OK;
}
