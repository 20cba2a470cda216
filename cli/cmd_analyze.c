/* stemgate analyze FILE: the analysis library on one file, for a quick look at any audio. */
#include "cli.h"

#include "package/json.h"
#include "stemgate/analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sg_cli_analyze(int argc, char **argv, const sg_cli_command *self) {
  const char *path = NULL;
  double bpm_hint = 120;
  int json = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--json")) {
      json = 1;
    } else if (!strcmp(argv[i], "--bpm")) {
      if (++i >= argc)
        return sg_cli_usage_error(self, "missing value after", "--bpm");
      bpm_hint = atof(argv[i]);
      if (bpm_hint < 20 || bpm_hint > 400)
        return sg_cli_usage_error(self, "--bpm must be 20..400, got", argv[i]);
    } else if (argv[i][0] == '-') {
      return sg_cli_usage_error(self, "unknown option", argv[i]);
    } else if (!path) {
      path = argv[i];
    } else {
      return sg_cli_usage_error(self, "expects one file, got another:", argv[i]);
    }
  }
  if (!path)
    return sg_cli_usage_error(self, "no file given", NULL);
  sg_diag d;
  sg_diag_clear(&d);
  sg_audio_reader *rd = NULL;
  sg_audio_info info;
  sg_status st = sg_audio_reader_open(&rd, path, &info, &d);
  if (st != SG_OK) {
    sg_cli_print_diag(&d);
    return sg_exit_code(st);
  }
  sg_audio_reader_close(rd);
  sg_meter_result m;
  st = sg_meter_file(path, SG_METER_ALL, &m, NULL, &d);
  sg_features *f = NULL;
  if (st == SG_OK)
    st = sg_features_from_file(&f, path, NULL, &d);
  if (st != SG_OK) {
    sg_cli_print_diag(&d);
    return sg_exit_code(st);
  }
  /* Every measurement first, then one printer: text or JSON. */
  sg_tempo_config tc;
  sg_tempo_config_init(&tc);
  tc.prior_bpm = bpm_hint;
  sg_tempo_result tr;
  int have_tempo = sg_tempo_estimate(f, NULL, &tc, &tr) == SG_OK;
  sg_downbeat_result db;
  int have_db = 0;
  if (have_tempo) {
    sg_onset_list on;
    memset(&on, 0, sizeof on);
    /* The reference step's tracker (a smooth tempo curve, then the bar position), with the
     * one-grid estimate as its fallback for sparse material, as in src/reference. */
    if (sg_onsets_pick(f, NULL, &on) == SG_OK) {
      sg_beat_track bt;
      sg_beat_track_config bc;
      sg_beat_track_config_init(&bc);
      if (sg_beat_track_onsets(f, &on, tr.bpm, tr.phase_s, sg_features_duration(f), &bc, &bt) ==
          SG_OK) {
        memset(&db, 0, sizeof db);
        db.first_downbeat_s = bt.first_downbeat_s;
        db.confidence = bt.confidence;
        db.bar_position = bt.bar_position;
        have_db = 1;
        sg_beat_track_free(&bt);
      } else {
        have_db = sg_downbeat_estimate(&on, tr.bpm, 4, &db) == SG_OK;
      }
    }
    sg_onset_list_free(&on);
  }
  sg_key_track_config kc;
  sg_key_track_config_init(&kc);
  sg_key_track kt;
  memset(&kt, 0, sizeof kt);
  sg_keyfit whole;
  int have_key = sg_key_estimate(f, 0, 0, SG_KEY_KRUMHANSL, &whole) == SG_OK && whole.tonic >= 0;
  int have_track = have_key && sg_key_track_compute(f, &kc, &kt) == SG_OK;
  if (json) {
    sg_json_writer w;
    sg_json_writer_init(&w, 1);
    sg_json_begin_object(&w);
    sg_json_kv_string(&w, "schema", "stemgate.analyze/1");
    sg_json_kv_string(&w, "file", path);
    sg_json_kv_string(&w, "container", info.container);
    sg_json_kv_int(&w, "sample_rate", info.rate);
    sg_json_kv_string(&w, "format", sg_sample_format_name(info.format));
    sg_json_kv_int(&w, "bits", info.bits);
    sg_json_kv_bool(&w, "float", info.is_float);
    sg_json_kv_int(&w, "channels", info.channels);
    sg_json_kv_int(&w, "frames", info.frames);
    sg_json_kv_number(&w, "seconds", (double)info.frames / info.rate);
    sg_json_kv_number(&w, "loudness_lufs", m.integrated_lufs);
    sg_json_kv_number(&w, "loudness_range_lu", m.loudness_range_lu);
    sg_json_kv_number(&w, "short_term_max_lufs", m.short_term_max_lufs);
    sg_json_kv_number(&w, "momentary_max_lufs", m.momentary_max_lufs);
    sg_json_kv_number(&w, "sample_peak_dbfs", m.sample_peak_dbfs);
    sg_json_kv_number(&w, "true_peak_dbtp", m.true_peak_dbtp);
    sg_json_kv_number(&w, "rms_dbfs", m.rms_dbfs);
    sg_json_kv_number(&w, "dc", m.dc[0]);
    sg_json_kv_int(&w, "clip_runs", (int64_t)m.clip_runs);
    sg_json_kv_int(&w, "non_finite", (int64_t)(m.nan_count + m.inf_count));
    sg_json_key(&w, "tempo");
    if (have_tempo) {
      sg_json_begin_object(&w);
      sg_json_kv_number(&w, "bpm", tr.bpm);
      sg_json_kv_number(&w, "confidence", tr.confidence);
      if (have_db) {
        sg_json_kv_number(&w, "first_downbeat_s", db.first_downbeat_s);
        sg_json_kv_number(&w, "downbeat_confidence", db.confidence);
      }
      sg_json_end_object(&w);
    } else {
      sg_json_null(&w);
    }
    sg_json_key(&w, "key");
    if (have_key) {
      sg_json_begin_object(&w);
      sg_json_kv_string(&w, "name", sg_keyfit_name(whole.tonic, whole.minor));
      sg_json_kv_number(&w, "r", whole.r);
      sg_json_key(&w, "changes");
      sg_json_begin_array(&w);
      for (size_t i = 0; have_track && i < kt.n_changes; ++i) {
        sg_json_begin_object(&w);
        sg_json_kv_number(&w, "time_s", kt.change[i].time_s);
        sg_json_kv_string(&w, "from",
                          sg_keyfit_name(kt.change[i].from.tonic, kt.change[i].from.minor));
        sg_json_kv_string(&w, "to", sg_keyfit_name(kt.change[i].to.tonic, kt.change[i].to.minor));
        sg_json_end_object(&w);
      }
      sg_json_end_array(&w);
      sg_json_end_object(&w);
    } else {
      sg_json_null(&w);
    }
    sg_json_end_object(&w);
    const char *t = sg_json_writer_text(&w, NULL);
    if (t)
      printf("%s\n", t);
    sg_json_writer_free(&w);
  } else {
    printf("%s\n  %s, %u Hz, %s (%d bit%s), %u ch, %lld frames (%.3f s)\n", path, info.container,
           info.rate, sg_sample_format_name(info.format), info.bits, info.is_float ? " float" : "",
           info.channels, (long long)info.frames, (double)info.frames / info.rate);
    printf("  loudness %.2f LUFS, LRA %.1f LU, short-term max %.2f LUFS\n", m.integrated_lufs,
           m.loudness_range_lu, m.short_term_max_lufs);
    printf("  peak %.2f dBFS, true peak %.2f dBTP, RMS %.2f dBFS, DC %.2g, clip runs %llu, "
           "non-finite %llu\n",
           m.sample_peak_dbfs, m.true_peak_dbtp, m.rms_dbfs, m.dc[0],
           (unsigned long long)m.clip_runs, (unsigned long long)(m.nan_count + m.inf_count));
    if (have_tempo) {
      printf("  tempo %.2f BPM (confidence %.2f)\n", tr.bpm, tr.confidence);
      if (have_db)
        printf("  first downbeat %.3f s (4/4 assumed, confidence %.2f)\n", db.first_downbeat_s,
               db.confidence);
    } else {
      printf("  tempo: no periodic onsets\n");
    }
    if (have_key) {
      printf("  key %s (r %.2f)\n", sg_keyfit_name(whole.tonic, whole.minor), whole.r);
      for (size_t i = 0; have_track && i < kt.n_changes; ++i)
        printf("    %.1f s: %s -> %s\n", kt.change[i].time_s,
               sg_keyfit_name(kt.change[i].from.tonic, kt.change[i].from.minor),
               sg_keyfit_name(kt.change[i].to.tonic, kt.change[i].to.minor));
    }
  }
  if (have_track)
    sg_key_track_free(&kt);
  sg_features_free(f);
  return SG_EXIT_OK;
}
