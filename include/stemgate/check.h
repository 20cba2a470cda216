/* stemgate checks: the one table of every check that render or verify can report.
 *
 * A check is a measurement, a comparison with a limit, and a verdict. This X-macro list (after
 * libuv's error list) is the only place a check is named and described: it generates the
 * sg_check_id enum, the names that appear in reports and manifest.json, the units, the
 * comparisons, the default limits, the spec keys that set them, the severities and the
 * one-line "how to fix" texts. docs/gates.md is generated from it (`stemgate checks
 * --markdown`; a test fails when the committed file is stale), the spec loader takes its
 * default limits from it, and the gate rows of render (include/stemgate/gate.h) and of
 * `stemgate verify` carry the id, so the same file gets the same name, number and verdict from
 * both.
 *
 * Severity: FAIL rows stop a render and fail verify; WARN rows are judged and reported but do
 * not fail; INFO rows are measurements without a verdict. A caller may downgrade one row (for a
 * stated reason in its detail), never upgrade it. */
#ifndef STEMGATE_CHECK_H
#define STEMGATE_CHECK_H

#include "stemgate/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sg_cmp {
  SG_CMP_LE = 0, /* measured <= limit      */
  SG_CMP_GE,     /* measured >= limit      */
  SG_CMP_EQ,     /* measured == limit      */
  SG_CMP_ABS_LE, /* |measured| <= limit    */
  SG_CMP_WITHIN, /* |measured - target| <= limit (target given per row) */
  SG_CMP_INFO,   /* reported, never fails  */
  SG_CMP_TEXT    /* measured is text; the verdict is decided by the check's function */
} sg_cmp;

typedef enum sg_severity { SG_SEV_FAIL = 0, SG_SEV_WARN, SG_SEV_INFO } sg_severity;

/* X(ID, name, step, unit, cmp, default limit, spec key, severity, what it measures, how to fix)
 * step: where render reports it ("verify" rows are verify's own; "any" rows are reported by
 * render on every file it writes and by verify on every file it reads). Limits given per row
 * (targets, the timeline's length) have a default of 0 and say so in the spec-key column. */
#define SG_CHECK_LIST(X)                                                                           \
  /* ---- timing ---- */                                                                           \
  X(GRID_ERROR, "grid_error", "timing", "frames", SG_CMP_EQ, 0, "", SG_SEV_FAIL,                   \
    "largest difference between a section boundary and an independent extended-precision "         \
    "computation of it",                                                                           \
    "an inexact grid is a bug in stemgate: report the spec")                                       \
  X(SONG_LENGTH, "song_length", "timing", "s", SG_CMP_GE, 1.0, "", SG_SEV_FAIL,                    \
    "song length from the timeline", "give the song at least one second of bars")                  \
  X(SNAP_START, "snap_start", "timing", "ms", SG_CMP_INFO, 0, "", SG_SEV_INFO,                     \
    "how far a target start time (\"1:22\") moved to its bar line",                                \
    "choose a time on a bar line, or accept the snap")                                             \
  X(SNAP_END, "snap_end", "timing", "ms", SG_CMP_INFO, 0, "", SG_SEV_INFO,                         \
    "how far a target end time moved to its bar line",                                             \
    "choose a time on a bar line, or accept the snap")                                             \
  /* ---- reference ---- */                                                                        \
  X(REFERENCE_READABLE, "reference_readable", "reference", "", SG_CMP_TEXT, 0, "", SG_SEV_FAIL,    \
    "the reference file decodes completely", "export the reference again as WAV, AIFF or FLAC")    \
  X(REFERENCE_CONFORM, "reference_conform", "reference", "", SG_CMP_TEXT, 0, "", SG_SEV_FAIL,      \
    "conversion of the reference to the song's rate and channels",                                 \
    "check the reference's format and the free disk space")                                        \
  X(REFERENCE_TEMPO, "reference_tempo", "reference", "BPM", SG_CMP_WITHIN, 1.0,                    \
    "drums.tempo_tolerance_bpm", SG_SEV_FAIL,                                                      \
    "tempo measured in the reference against the spec's tempo",                                    \
    "set the spec's tempo to the reference's, or tempo: auto")                                     \
  X(REFERENCE_TEMPO_CONFIDENCE, "reference_tempo_confidence", "reference", "", SG_CMP_INFO, 0, "", \
    SG_SEV_INFO, "how clearly the reference's beat periodicity stands out", "")                    \
  X(FIRST_DOWNBEAT, "first_downbeat", "reference", "ms", SG_CMP_GE, 0, "", SG_SEV_FAIL,            \
    "time of the reference's first downbeat", "give a reference with a clear beat")                \
  X(DOWNBEAT_CONFIDENCE, "downbeat_confidence", "reference", "", SG_CMP_GE, 0.1, "", SG_SEV_WARN,  \
    "strength of the bar accent that places the first downbeat",                                   \
    "listen to the first bar: the grid may start a beat off the client's bar line")                \
  X(REFERENCE_DRIFT, "reference_drift", "reference", "ms", SG_CMP_INFO, 0, "", SG_SEV_INFO,        \
    "beat drift of the reference against the grid over the file", "")                              \
  X(REFERENCE_ORIGIN, "reference_origin", "reference", "ms", SG_CMP_INFO, 0, "", SG_SEV_INFO,      \
    "where the grid starts in the reference", "")                                                  \
  X(REFERENCE_FIT, "reference_fit", "reference", "frames", SG_CMP_INFO, 0, "", SG_SEV_INFO,        \
    "how the reference is fitted to the song length (fade, loop, trim)", "")                       \
  X(REFERENCE_LENGTH, "reference_length", "reference", "frames", SG_CMP_GE, 0,                     \
    "(the song length)", SG_SEV_FAIL,                                                              \
    "the conformed reference covers the song (reported only with drums.fit: fade)",                \
    "give a longer reference or drums.fit: loop")                                                  \
  X(REFERENCE_LOOP_BARS, "reference_loop_bars", "reference", "bars", SG_CMP_GE, 1, "",             \
    SG_SEV_FAIL, "whole bars available to loop in a short reference",                              \
    "give a reference at least one bar long")                                                      \
  X(DRIFT_OVER_SONG, "drift_over_song", "reference", "ms", SG_CMP_ABS_LE, 10, "gates.sync_ms",     \
    SG_SEV_FAIL, "the reference's beat drift against the grid, projected over the song",           \
    "set the tempo to the reference's or drums.follow_tempo_map: true")                            \
  X(SYNC, "sync", "any", "", SG_CMP_TEXT, 0, "", SG_SEV_FAIL,                                      \
    "the file has rhythm enough to be aligned with the reference",                                 \
    "a master must hold the drums; a rhythmless stem is reported only")                            \
  X(SYNC_OFFSET, "sync_offset", "any", "ms", SG_CMP_ABS_LE, 10, "gates.sync_ms", SG_SEV_FAIL,      \
    "offset of the file against the reference (a stem: against the master, or the reference "      \
    "through the master) by onset and waveform alignment (later when > 0)",                        \
    "move the file by the offset; check the export's start time")                                  \
  X(SYNC_DRIFT, "sync_drift", "any", "ms", SG_CMP_ABS_LE, 10, "gates.sync_ms", SG_SEV_FAIL,        \
    "change of that offset over the file (ppm in the detail), followed over 4 s windows when "     \
    "it exceeds the end window's search",                                                          \
    "export at the reference's rate without time-stretching")                                      \
  X(DRUM_SIMILARITY, "drum_similarity", "verify", "", SG_CMP_GE, 0.8, "", SG_SEV_FAIL,             \
    "onset-envelope correlation of the master (or the Drums stem) with the reference, drift "      \
    "compensated",                                                                                 \
    "the master must hold the reference's drums: check the reference given")                       \
  /* ---- composition ---- */                                                                      \
  X(NOTES, "notes", "stem", "", SG_CMP_GE, 1, "", SG_SEV_FAIL, "note events composed",             \
    "give the stem sections, chords or a MIDI file with notes")                                    \
  X(HUMANIZE_OFFSET, "humanize_offset", "stem", "ms", SG_CMP_LE, 8, "humanize.timing_ms",          \
    SG_SEV_FAIL, "largest timing humanisation applied to a note",                                  \
    "a larger offset is a bug in the humaniser: report the spec")                                  \
  X(NOTE_TIMING, "note_timing", "stem", "ms", SG_CMP_ABS_LE, 10, "gates.sync_ms", SG_SEV_FAIL,     \
    "lag of the audio's energy rises behind the composed note starts",                             \
    "a synth or chain latency: check the patch's attack and the effects")                          \
  /* ---- every audio file ---- */                                                                 \
  X(SAMPLE_RATE, "sample_rate", "any", "Hz", SG_CMP_EQ, 0, "sample_rate", SG_SEV_FAIL,             \
    "sample rate in the file's header", "export at the spec's sample_rate")                        \
  X(FORMAT, "format", "any", "", SG_CMP_TEXT, 0, "format", SG_SEV_FAIL,                            \
    "sample format in the file's header", "export in the spec's format")                           \
  X(CHANNELS, "channels", "any", "ch", SG_CMP_EQ, 0, "channels", SG_SEV_FAIL,                      \
    "channel count in the file's header", "export with the spec's channel count")                  \
  X(LENGTH_FRAMES, "length_frames", "any", "frames", SG_CMP_EQ, 0, "(the song length)",            \
    SG_SEV_FAIL, "frames in the file", "every file of a render is exactly the song long")          \
  X(NON_FINITE, "non_finite", "any", "samples", SG_CMP_LE, 0, "", SG_SEV_FAIL,                     \
    "NaN and infinite samples (a DAW plays them as full-scale bursts)",                            \
    "find the effect or instrument that blew up")                                                  \
  X(SAMPLE_PEAK, "sample_peak", "any", "dBFS", SG_CMP_LE, -0.001, "", SG_SEV_FAIL,                 \
    "largest sample", "lower the gain: a sample at full scale clips once quantised")               \
  X(CLIPPING, "clipping", "any", "runs", SG_CMP_LE, 0, "", SG_SEV_FAIL,                            \
    "runs of consecutive full-scale samples", "lower the gain before the clipping stage")          \
  X(DC_OFFSET, "dc_offset", "any", "", SG_CMP_LE, 0.001, "gates.dc_offset", SG_SEV_FAIL,           \
    "largest offset of a channel held by two consecutive 1 s Hann windows (hop 0.5 s, same sign, " \
    "the smaller) where the file plays (windows under -60 dBFS skipped); the detail says where",   \
    "add a high-pass (eq: {type: highpass, freq: 20}) to the part carrying the offset")            \
  X(DENORMALS, "denormals", "any", "samples", SG_CMP_LE, 0, "", SG_SEV_FAIL,                       \
    "non-zero subnormal float samples (|x| < 1.2e-38): a DSP tail a renderer should have "         \
    "flushed, slow to process in a DAW",                                                           \
    "flush denormals to zero before writing the float file")                                       \
  X(SILENCE, "silence", "any", "dBFS", SG_CMP_GE, -60, "gates.silence_dbfs", SG_SEV_FAIL,          \
    "loudest 50 ms window: the file is not silent",                                                \
    "the stem plays nothing: check its sections, notes and gain")                                  \
  X(ACTIVE_IN_SECTIONS, "active_in_sections", "any", "dBFS", SG_CMP_GE, -60, "gates.silence_dbfs", \
    SG_SEV_FAIL, "the quietest of the stem's sections, by its loudest 50 ms window",               \
    "the stem is silent in a section it should play: check its notes there")                       \
  X(SILENT_OUTSIDE_SECTIONS, "silent_outside_sections", "any", "dBFS", SG_CMP_LE, -60,             \
    "gates.silence_dbfs", SG_SEV_FAIL,                                                             \
    "loudest 50 ms window outside the stem's sections (tails of gates.tail_s allowed after, "      \
    "100 ms before)",                                                                              \
    "shorten the release or effect tail, or list the section in the stem's sections")              \
  X(TAIL_CUT, "tail_cut", "any", "dBFS", SG_CMP_INFO, 0, "", SG_SEV_INFO,                          \
    "peak of the tail that the 20 ms end fade cut at the song end", "")                            \
  X(STEM_LOUDNESS, "stem_loudness", "fx", "LUFS", SG_CMP_INFO, 0, "", SG_SEV_INFO,                 \
    "integrated loudness of the stem (BS.1770-4)", "")                                             \
  X(DELAY_ECHO, "delay_echo", "fx", "prominence", SG_CMP_GE, 0.01, "", SG_SEV_FAIL,                \
    "echo prominence a delay adds at its lag over the dry stem (judged for mix >= 0.15)",          \
    "raise the delay's mix or feedback, or check its time")                                        \
  /* ---- each effect against its design (probe: the configured unit on a known signal, fresh      \
   * state; in situ: the effect's own input and output in the chain on the stem's music; the       \
   * master bus's effects are reported in step master). A probe failing means the unit is          \
   * wrong; an in-situ failure with a passing probe means the chain or its wiring is. ---- */      \
  X(FX_EQ_RESPONSE, "fx_eq_response", "fx", "dB", SG_CMP_WITHIN, 0.5, "(the designed response)",   \
    SG_SEV_FAIL, "probe: EQ magnitude at f0/2, f0, 2 f0 (impulse response) against the design",    \
    "the EQ unit does not realise its design: report the spec")                                    \
  X(FX_COMP_CURVE, "fx_comp_curve", "fx", "dB", SG_CMP_WITHIN, 1.0, "(the static curve)",          \
    SG_SEV_FAIL,                                                                                   \
    "probe: compressor gain reduction at threshold + 6/12/24 dB against threshold, ratio, knee",   \
    "the compressor does not follow its static curve: report the spec")                            \
  X(FX_COMP_TIME, "fx_comp_time", "fx", "%", SG_CMP_ABS_LE, 20, "", SG_SEV_FAIL,                   \
    "probe: compressor attack and release time constants against attack_ms, release_ms",           \
    "the compressor's ballistics differ from their parameters: report the spec")                   \
  X(FX_REVERB_RT60, "fx_reverb_rt60", "fx", "%", SG_CMP_ABS_LE, 10, "", SG_SEV_FAIL,               \
    "probe: reverb RT60 (Schroeder T30) at 1 kHz against rt60 and at 63 Hz against rt60_low",      \
    "the reverb decays at another rate than its rt60: report the spec")                            \
  X(FX_REVERB_PREDELAY, "fx_reverb_predelay", "fx", "ms", SG_CMP_WITHIN, 1.0, "(predelay_ms)",     \
    SG_SEV_FAIL, "probe: reverb onset shift against a zero-pre-delay twin, against predelay_ms",   \
    "the reverb's pre-delay is not its parameter: report the spec")                                \
  X(FX_DELAY_LAG, "fx_delay_lag", "fx", "frames", SG_CMP_WITHIN, 0, "(the tempo-synced time)",     \
    SG_SEV_FAIL, "probe: lag of a delay's first echo against its time at the song's tempo",        \
    "the delay is off the grid: report the spec")                                                  \
  X(FX_DELAY_FEEDBACK, "fx_delay_feedback", "fx", "dB", SG_CMP_WITHIN, 0.5,                        \
    "(feedback x loop filters)", SG_SEV_FAIL,                                                      \
    "probe: level change per repeat of a tone burst against feedback and the loop filters",        \
    "the delay's repeats decay at another rate than its feedback: report the spec")                \
  X(FX_MOD_RATE, "fx_mod_rate", "fx", "%", SG_CMP_ABS_LE, 5, "", SG_SEV_FAIL,                      \
    "probe: chorus/flanger/phaser modulation rate from the period of its response to a sine",      \
    "the modulation runs at another rate than rate_hz: report the spec")                           \
  X(FX_SAT_THD, "fx_sat_thd", "fx", "dB", SG_CMP_WITHIN, 1.0, "(the tanh curve)", SG_SEV_FAIL,     \
    "probe: harmonic distortion of a 1 kHz sine at -6 dBFS against the drive curve",               \
    "the saturation does not follow its drive curve: report the spec")                             \
  X(FX_LEVEL, "fx_level", "fx", "dB", SG_CMP_WITHIN, 0.1, "(the parameter)", SG_SEV_FAIL,          \
    "probe: level change of width (side, mid), pan and gain (channels), saturation (fundamental)", \
    "the level change differs from its parameter: report the spec")                                \
  X(FX_LIMITER_CEILING, "fx_limiter_ceiling", "fx", "dBTP", SG_CMP_LE, 0, "(ceiling_dbtp)",        \
    SG_SEV_FAIL,                                                                                   \
    "probe: true peak (8x) out of a limiter over-driven by 12 dB, against its ceiling",            \
    "the limiter lets true peaks over its ceiling: report the spec")                               \
  X(FX_WET_GAIN, "fx_wet_gain", "fx", "dB", SG_CMP_INFO, 0, "", SG_SEV_INFO,                       \
    "probe: energy gain of a chorus/flanger/phaser wet path on pink noise (fx_insitu_wet uses "    \
    "it)",                                                                                         \
    "")                                                                                            \
  X(FX_INSITU_TRANSFER, "fx_insitu_transfer", "fx", "dB", SG_CMP_WITHIN, 1.0,                      \
    "(the designed response)", SG_SEV_FAIL,                                                        \
    "in situ: an EQ's input-to-output transfer on the music (Welch, coherence >= 0.9) at the "     \
    "probe frequencies against the design",                                                        \
    "the EQ in the chain does not act as designed: check what feeds it")                           \
  X(FX_INSITU_DYNAMICS, "fx_insitu_dynamics", "fx", "dB", SG_CMP_ABS_LE, 1.0, "", SG_SEV_FAIL,     \
    "in situ: RMS difference (10 ms blocks) between the compressor's gain reduction and the "      \
    "design's (static curve and ballistics) on its detector signal",                               \
    "the compressor in the chain listens to another signal than the spec names: check sidechain")  \
  X(FX_INSITU_SIDECHAIN, "fx_insitu_sidechain", "fx", "", SG_CMP_GE, 0.3, "", SG_SEV_FAIL,         \
    "in situ: correlation of a keyed compressor's gain reduction with the reduction its design "   \
    "predicts from the sidechain stem, minus the best of the same from its own input and every "   \
    "other stem (10 ms blocks, silent input left out)",                                            \
    "the gain reduction does not follow the sidechain: check the sidechain wiring")                \
  X(FX_INSITU_WET, "fx_insitu_wet", "fx", "", SG_CMP_WITHIN, 0.1, "(mix)", SG_SEV_FAIL,            \
    "in situ: mix of a time-based effect estimated on the music (dry share = the output's "        \
    "regression on the input; chorus/flanger/phaser: with the energies and the probe's wet gain) " \
    "against mix (tolerance: the wet path's correlation with the music, up to 0.075 in tests)",    \
    "the effect's wet share differs from its mix: check the chain")                                \
  X(FX_INSITU_LEVEL, "fx_insitu_level", "fx", "dB", SG_CMP_WITHIN, 0.1, "(the parameter)",         \
    SG_SEV_FAIL, "in situ: channel/side level change of width, pan, gain on the music",            \
    "the level change in the chain differs from its parameter: check the chain")                   \
  X(FX_INSITU_SHAPER, "fx_insitu_shaper", "fx", "dB", SG_CMP_WITHIN, 0.5, "(the tanh curve)",      \
    SG_SEV_FAIL,                                                                                   \
    "in situ: saturation output level on the music against the drive curve applied "               \
    "to its input",                                                                                \
    "the saturation in the chain differs from its drive: check the chain")                         \
  X(FX_INSITU_PEAK, "fx_insitu_peak", "fx", "dBTP", SG_CMP_LE, 0, "(ceiling_dbtp)", SG_SEV_FAIL,   \
    "in situ: true peak (8x) of a limiter's output on the music against its ceiling",              \
    "the limiter in the chain lets peaks through: check the chain")                                \
  /* ---- the master ---- */                                                                       \
  X(BUS_LOUDNESS, "bus_loudness", "master", "LUFS", SG_CMP_INFO, 0, "", SG_SEV_INFO,               \
    "loudness of the summed stems before the master chain", "")                                    \
  X(LIMITER_GAIN_REDUCTION, "limiter_gain_reduction", "master", "dB", SG_CMP_INFO, 0, "",          \
    SG_SEV_INFO, "largest gain reduction of the master limiter", "")                               \
  X(LIMITER_GR, "limiter_gr", "master", "dB", SG_CMP_LE, 6, "gates.limiter_gr_db", SG_SEV_FAIL,    \
    "mean gain reduction of the master limiter over each section (dB, frame average)",             \
    "the master is driven too hard: lower master.loudness_lufs or the mix's peaks (drums, bus "    \
    "compression)")                                                                                \
  X(LIMITER_GR_MEAN, "limiter_gr_mean", "master", "dB", SG_CMP_LE, 3, "", SG_SEV_WARN,             \
    "mean gain reduction of the master limiter over the whole song",                               \
    "more than 3 dB of limiting flattens the dynamics: lower master.loudness_lufs")                \
  X(SECTION_LOUDNESS, "section_loudness", "master", "LUFS", SG_CMP_INFO, 0, "", SG_SEV_INFO,       \
    "integrated loudness (BS.1770-4) of the master in each section (RMS in the detail)", "")       \
  X(SECTION_CONTRAST, "section_contrast", "master", "dB", SG_CMP_GE, 1, "", SG_SEV_WARN,           \
    "RMS level of the master's sections of one energy minus that of the next lower energy "        \
    "(power mean over the sections of each energy)",                                               \
    "sections of different energy sound alike: thin the sparse ones or fill the full ones "        \
    "(stems' sections/tacet, patterns), or reduce the limiting")                                   \
  X(ENDING_DECAY, "ending_decay", "any", "dBFS", SG_CMP_LE, -60, "", SG_SEV_WARN,                  \
    "with ending: ring, the loudest 50 ms window of the file's last 0.3 s: the tail has rung "     \
    "out before the file ends",                                                                    \
    "raise ending_max_s, or shorten the reverb/delay/release that rings longer")                   \
  X(LIMITER_CEILING, "limiter_ceiling", "master", "dBTP", SG_CMP_INFO, 0, "", SG_SEV_INFO,         \
    "ceiling the limiter ran at after the loudness passes", "")                                    \
  X(LOUDNESS, "loudness", "master", "LUFS", SG_CMP_WITHIN, 0.5, "master.loudness_tolerance",       \
    SG_SEV_FAIL, "integrated loudness (BS.1770-4) against master.loudness_lufs",                   \
    "the master chain could not reach the target: lower it or reduce the limiting")                \
  X(TRUE_PEAK, "true_peak", "master", "dBTP", SG_CMP_LE, -1.0, "master.true_peak_dbtp",            \
    SG_SEV_FAIL, "4x oversampled true peak (BS.1770-4 Annex 2)",                                   \
    "lower the master level or the limiter ceiling")                                               \
  X(LOUDNESS_RANGE, "loudness_range", "master", "LU", SG_CMP_INFO, 0, "", SG_SEV_INFO,             \
    "loudness range (EBU Tech 3342)", "")                                                          \
  X(TEMPO, "tempo", "master", "BPM", SG_CMP_WITHIN, 1.0, "drums.tempo_tolerance_bpm", SG_SEV_FAIL, \
    "beat-tracker tempo, folded to the spec's metrical level",                                     \
    "the groove does not carry the spec's tempo: check the drums and the tempo")                   \
  X(KEY, "key", "master", "", SG_CMP_TEXT, 0, "sections[].key", SG_SEV_FAIL,                       \
    "tonic and mode of each key region from the master: tonic from the profile, bass chroma, "     \
    "strong-beat chord roots and phrase-final chords; each scale degree against the spec's mode "  \
    "(relative keys and modes fail; weak evidence warns); a key change inside the region fails "   \
    "with its time",                                                                               \
    "check the chords against the section's key: the tonic, its bass and cadences, the mode's "    \
    "degrees")                                                                                     \
  X(KEY_CHANGE, "key_change", "master", "s", SG_CMP_ABS_LE, 10, "gates.key_window_sec",            \
    SG_SEV_FAIL, "where the key track changes key, against the section boundary",                  \
    "make the modulation clear at the boundary (a cadence into the new key)")                      \
  X(SECTION_PRESENCE, "section_presence", "master", "dBFS", SG_CMP_GE, -60, "gates.silence_dbfs",  \
    SG_SEV_FAIL, "loudest 50 ms window of the master in each section",                             \
    "a section is silent: give it a stem that plays")                                              \
  X(DURATION, "duration", "master", "s", SG_CMP_WITHIN, 1.0, "(the song length)", SG_SEV_FAIL,     \
    "length of the master against the timeline's file length (with ending: ring, a range: the "    \
    "song up to the song plus ending_max_s)",                                                      \
    "export the whole song: from the first bar to the end of the last section")                    \
  X(LENGTH, "length", "master", "ms", SG_CMP_ABS_LE, 50, "gates.length_tolerance_ms", SG_SEV_FAIL, \
    "length of a stem minus the master's",                                                         \
    "export every stem from the same start to the same end")                                       \
  X(DECAY_TAIL, "decay_tail", "master", "s RT60", SG_CMP_INFO, 0, "", SG_SEV_INFO,                 \
    "decay time of the master's final tail", "")                                                   \
  /* ---- package ---- */                                                                          \
  X(ARCHIVE, "archive", "package", "", SG_CMP_TEXT, 0, "", SG_SEV_FAIL,                            \
    "the zip opens within the safety limits", "rebuild the zip")                                   \
  X(MANIFEST, "manifest", "package", "", SG_CMP_TEXT, 0, "", SG_SEV_FAIL,                          \
    "manifest.json parses as stemgate.manifest", "rebuild the package")                            \
  X(ENTRY_PRESENT, "entry_present", "package", "", SG_CMP_TEXT, 0, "", SG_SEV_FAIL,                \
    "every file the manifest lists is in the zip", "rebuild the package")                          \
  X(SHA256, "sha256", "package", "", SG_CMP_TEXT, 0, "", SG_SEV_FAIL,                              \
    "SHA-256 of each entry as read from the zip, against the manifest",                            \
    "the entry changed after packaging: rebuild the package")                                      \
  X(WAV_HEADER, "wav_header", "package", "", SG_CMP_TEXT, 0, "", SG_SEV_FAIL,                      \
    "each WAV header read from the zip, against the manifest", "rebuild the package")              \
  X(ENTRY_LISTED, "entry_listed", "package", "", SG_CMP_TEXT, 0, "", SG_SEV_FAIL,                  \
    "every entry of the zip is listed in the manifest", "remove the unlisted entry")               \
  X(MANIFEST_LOUDNESS, "manifest_loudness", "package", "LUFS", SG_CMP_WITHIN, 0.1, "",             \
    SG_SEV_FAIL, "loudness re-measured from the zip against the manifest",                         \
    "the audio changed after packaging: rebuild the package")                                      \
  X(MANIFEST_TRUE_PEAK, "manifest_true_peak", "package", "dBTP", SG_CMP_WITHIN, 0.1, "",           \
    SG_SEV_FAIL, "true peak re-measured from the zip against the manifest",                        \
    "the audio changed after packaging: rebuild the package")                                      \
  X(MANIFEST_SAMPLE_PEAK, "manifest_sample_peak", "package", "dBFS", SG_CMP_WITHIN, 0.1, "",       \
    SG_SEV_FAIL, "sample peak re-measured from the zip against the manifest",                      \
    "the audio changed after packaging: rebuild the package")                                      \
  X(TRUE_PEAK_AS_WRITTEN, "true_peak_as_written", "package", "dBTP", SG_CMP_LE, -1.0,              \
    "master.true_peak_dbtp", SG_SEV_FAIL,                                                          \
    "the master's true peak after quantisation and dither, from the zip",                          \
    "lower the limiter ceiling (the dither adds a little)")                                        \
  /* ---- verify ---- */                                                                           \
  X(PACKAGE, "package", "verify", "packages", SG_CMP_EQ, 1, "", SG_SEV_FAIL,                       \
    "exactly one package (zip or folder) was given and opens", "give one zip or one folder")       \
  X(PRESENT, "present", "verify", "", SG_CMP_EQ, 1, "deliverable.naming", SG_SEV_FAIL,             \
    "each file the spec requires is found (by the naming template, else a common name)",           \
    "name the file by deliverable.naming")                                                         \
  X(READABLE, "readable", "verify", "", SG_CMP_EQ, 1, "", SG_SEV_FAIL,                             \
    "the file's header and data decode completely", "export the file again")                       \
  X(REFERENCE, "reference", "verify", "", SG_CMP_EQ, 1, "", SG_SEV_FAIL,                           \
    "the drum reference given to verify decodes", "give a readable reference")

typedef enum sg_check_id {
#define SG__CHECK_ENUM(id, name, step, unit, cmp, lim, key, sev, what, fix) SG_CHECK_##id,
  SG_CHECK_LIST(SG__CHECK_ENUM)
#undef SG__CHECK_ENUM
      SG_CHECK_COUNT
} sg_check_id;

typedef struct sg_check_def {
  sg_check_id id;
  const char *name;     /* as in reports and manifest.json: "true_peak"          */
  const char *step;     /* where render reports it; "any" / "verify" (see above) */
  const char *unit;     /* "dBTP", "" when dimensionless                          */
  sg_cmp cmp;           /* how measured meets the limit                            */
  double limit;         /* default limit (the spec key, when any, overrides it)   */
  const char *spec_key; /* "master.true_peak_dbtp", "" when fixed                  */
  sg_severity severity; /* default severity                                        */
  const char *measures; /* one line: what is measured                              */
  const char *fix;      /* one line: how to fix a failure ("" for information)    */
} sg_check_def;

/* The definition of a check; NULL for an id out of range. */
const sg_check_def *sg_check_get(sg_check_id id);
/* Looks a check up by name; NULL when none. */
const sg_check_def *sg_check_find(const char *name);
/* "<=", ">=", "==", "|x|<=", "within", "info", "is". */
const char *sg_cmp_symbol(sg_cmp c);
const char *sg_severity_name(sg_severity s);
/* docs/gates.md: every check as a Markdown table (malloc'd; the caller frees). */
sg_status sg_check_table_markdown(char **out);

#ifdef __cplusplus
}
#endif
#endif
