/* Manifest model and package verification: the manifest holds what was added and parses back;
 * a good package verifies; a flipped byte, a missing entry, a lying header or an unlisted entry
 * each fail with the right check. */
#include "sg_test.h"

#include "pkg_fixtures.h"
#include "stemgate/analysis.h"
#include "stemgate/package.h"

#include <math.h>
#include <unistd.h>

static void fill_manifest(sg_manifest *m) {
  snprintf(m->title, sizeof m->title, "D\xC3\xA9j\xC3\xA0 \"Vu\"");
  snprintf(m->slug, sizeof m->slug, "deja-vu");
  snprintf(m->spec_sha256, sizeof m->spec_sha256, "%064d", 7);
  m->tempo_bpm = 97.3;
  m->meter_num = 6;
  m->meter_den = 8;
  snprintf(m->key, sizeof m->key, "G major");
  sg_manifest_section s;
  memset(&s, 0, sizeof s);
  snprintf(s.name, sizeof s.name, "intro");
  s.start_bar = 1;
  s.end_bar = 9;
  s.start_frame = 0;
  s.end_frame = 947584;
  s.end_sec = 19.74133333;
  assert_int_equal(sg_manifest_add_section(m, &s), SG_OK);
  snprintf(s.name, sizeof s.name, "verse");
  snprintf(s.key, sizeof s.key, "E minor");
  s.start_bar = 9;
  s.end_bar = 25;
  s.start_frame = 947584;
  s.end_frame = 2842752;
  assert_int_equal(sg_manifest_add_section(m, &s), SG_OK);
  sg_manifest_reference ref;
  memset(&ref, 0, sizeof ref);
  ref.present = 1;
  snprintf(ref.path, sizeof ref.path, "refs/drums.wav");
  ref.measured_tempo_bpm = 97.28;
  ref.offset_ms = -3.5;
  ref.drift_ms = 0.8;
  snprintf(ref.conversion, sizeof ref.conversion, "44100 Hz -> 48000 Hz");
  sg_manifest_set_reference(m, &ref);
}

static void manifest_json_round_trip(void **state) {
  (void)state;
  sg_manifest m;
  sg_manifest_init(&m);
  fill_manifest(&m);
  sg_manifest_file f;
  memset(&f, 0, sizeof f);
  snprintf(f.archive_name, sizeof f.archive_name, "stems/Bass.wav");
  f.role = SG_ROLE_STEM;
  snprintf(f.stem, sizeof f.stem, "Bass");
  f.is_audio = 1;
  f.format = SG_FMT_PCM24;
  f.rate = 48000;
  f.channels = 2;
  f.bits = 24;
  f.frames = 2842752;
  f.duration_sec = 59.224;
  f.bytes = 17056556;
  snprintf(f.sha256, sizeof f.sha256, "%064x", 0xabc);
  f.loudness.valid = 1;
  f.loudness.integrated_lufs = -23.04;
  f.loudness.true_peak_dbtp = -1.2;
  f.loudness.sample_peak_dbfs = NAN; /* not measured: written as null */
  assert_int_equal(sg_manifest_add_file(&m, &f), SG_OK);
  assert_int_equal(sg_manifest_add_file(&m, &f), SG_E_INVAL); /* duplicate name */
  sg_manifest_file midi;
  memset(&midi, 0, sizeof midi);
  snprintf(midi.archive_name, sizeof midi.archive_name, "midi/Bass.mid");
  midi.role = SG_ROLE_MIDI;
  snprintf(midi.sha256, sizeof midi.sha256, "%064x", 0xdef);
  assert_int_equal(sg_manifest_add_file(&m, &midi), SG_OK);

  sg_gate_report rep;
  sg_gate_report_init(&rep);
  sg_gate_row(&rep, SG_CHECK_TRUE_PEAK, "master", "master", -1.2, -1.0, 0, NULL, SG_SEV_FAIL, NULL);
  sg_gate_row(&rep, SG_CHECK_LOUDNESS, "master", "master", -23.04, 0.5, -23.0, NULL, SG_SEV_FAIL,
              NULL);
  sg_gate_row_text(&rep, SG_CHECK_FORMAT, "stem", "Bass", "pcm24", "pcm24", 1, SG_SEV_FAIL, NULL);
  assert_int_equal(sg_manifest_attach_gates(&m, &rep), SG_OK);
  sg_gate_report_free(&rep);

  char *json = NULL, *json2 = NULL;
  size_t len = 0, len2 = 0;
  assert_int_equal(sg_manifest_to_json(&m, &json, &len, NULL), SG_OK);
  assert_int_equal(json[len - 1], '\n');
  assert_non_null(strstr(json, "\"schema\": \"stemgate.manifest/1\""));
  assert_non_null(strstr(json, "\"title\": \"D\xC3\xA9j\xC3\xA0 \\\"Vu\\\"\""));
  assert_non_null(strstr(json, "\"tempo_bpm\": 97.3,"));
  assert_non_null(strstr(json, "\"sample_peak_dbfs\": null"));
  assert_non_null(strstr(json, "\"frames\": 2842752"));
  assert_non_null(strstr(json, "\"timestamp\": \"1980-01-01T00:00:00Z\""));
  assert_non_null(strstr(json, "\"version\": \"" SG_VERSION "\""));
  /* Deterministic: the same model renders the same bytes. */
  assert_int_equal(sg_manifest_to_json(&m, &json2, &len2, NULL), SG_OK);
  assert_int_equal(len, len2);
  assert_memory_equal(json, json2, len);
  free(json2);

  sg_manifest p;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_manifest_parse(json, len, &p, &d), SG_OK);
  assert_string_equal(p.title, m.title);
  assert_string_equal(p.slug, "deja-vu");
  assert_string_equal(p.tool_version, sg_version());
  assert_true(p.tempo_bpm == 97.3);
  assert_int_equal(p.meter_num, 6);
  assert_int_equal(p.meter_den, 8);
  assert_int_equal(p.n_sections, 2);
  assert_string_equal(p.sections[1].key, "E minor");
  assert_int_equal(p.sections[1].end_frame, 2842752);
  assert_true(p.sections[0].end_sec == 19.74133333);
  assert_int_equal(p.reference.present, 1);
  assert_true(p.reference.offset_ms == -3.5);
  assert_int_equal(p.n_files, 2);
  const sg_manifest_file *pf = &p.files[0];
  assert_string_equal(pf->archive_name, "stems/Bass.wav");
  assert_int_equal(pf->role, SG_ROLE_STEM);
  assert_string_equal(pf->stem, "Bass");
  assert_int_equal(pf->is_audio, 1);
  assert_int_equal(pf->format, SG_FMT_PCM24);
  assert_int_equal(pf->frames, 2842752);
  assert_int_equal(pf->bits, 24);
  assert_int_equal(pf->bytes, 17056556);
  assert_string_equal(pf->sha256, f.sha256);
  assert_true(pf->loudness.valid && pf->loudness.integrated_lufs == -23.04);
  assert_int_equal(p.files[1].role, SG_ROLE_MIDI);
  assert_int_equal(p.files[1].is_audio, 0);
  assert_int_equal(p.n_gates, 3);
  assert_string_equal(p.gates[1].check, "loudness");
  assert_int_equal(p.gates[1].cmp, SG_CMP_WITHIN);
  assert_true(p.gates[1].target == -23.0);
  assert_int_equal(p.gates[2].pass, 1);
  /* Re-rendering the parsed model gives the same text: nothing is lost on the way. */
  assert_int_equal(sg_manifest_to_json(&p, &json2, &len2, NULL), SG_OK);
  assert_string_equal(json2, json);
  free(json2);
  sg_manifest_free(&p);

  /* Wrong schema and a row without a hash are format errors. */
  const char *bad1 = "{\"schema\": \"other/1\", \"files\": []}";
  assert_int_equal(sg_manifest_parse(bad1, strlen(bad1), &p, &d), SG_E_FORMAT);
  assert_non_null(strstr(d.message, "schema"));
  const char *bad2 =
      "{\"schema\": \"stemgate.manifest/1\", \"files\": [{\"archive_name\": \"a\"}]}";
  assert_int_equal(sg_manifest_parse(bad2, strlen(bad2), &p, &d), SG_E_FORMAT);
  assert_non_null(strstr(d.message, "files[0]"));
  free(json);
  sg_manifest_free(&m);
}

/* ---- packages ---------------------------------------------------------------------------- */

static const char *wav_master, *wav_bass, *wav_keys, *midi_path;

static int setup_files(void **state) {
  (void)state;
  wav_master = strdup(sg_test_path("master.wav"));
  wav_bass = strdup(sg_test_path("bass.wav"));
  wav_keys = strdup(sg_test_path("keys.wav"));
  midi_path = strdup(sg_test_path("bass.mid"));
  if (fx_write_wav(wav_master, 48000, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 24000, 220, 0.5) ||
      fx_write_wav(wav_bass, 48000, 2, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 24000, 55, 0.4) ||
      fx_write_wav(wav_keys, 48000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 24000, 440, 0.3))
    return -1;
  /* A minimal Standard MIDI File: header + one empty track. */
  static const unsigned char mid[] = {'M',  'T', 'h', 'd', 0,   0, 0, 6, 0, 0, 0,    1,    1,
                                      0xE0, 'M', 'T', 'r', 'k', 0, 0, 0, 4, 0, 0xFF, 0x2F, 0};
  return fx_spit(midi_path, mid, sizeof mid);
}

static int teardown_files(void **state) {
  (void)state;
  free((void *)wav_master);
  free((void *)wav_bass);
  free((void *)wav_keys);
  free((void *)midi_path);
  return 0;
}

static void build_good(const char *zp) {
  sg_package *p = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_package_begin(&p, zp, NULL, &d), SG_OK);
  fill_manifest(sg_package_manifest(p));
  sg_pkg_loudness ld = {1, -14.2, -1.1, -1.9};
  assert_int_equal(
      sg_package_add_audio(p, wav_master, "deja-vu_master.wav", SG_ROLE_MASTER, "", &ld, &d),
      SG_OK);
  assert_int_equal(
      sg_package_add_audio(p, wav_bass, "stems/Bass.wav", SG_ROLE_STEM, "Bass", NULL, &d), SG_OK);
  assert_int_equal(
      sg_package_add_audio(p, wav_keys, "stems/Keys.wav", SG_ROLE_STEM, "Keys", NULL, &d), SG_OK);
  assert_int_equal(sg_package_add_file(p, midi_path, "midi/Bass.mid", SG_ROLE_MIDI, "Bass", 0, &d),
                   SG_OK);
  assert_int_equal(
      sg_package_add_text(p, "NOTES.txt", "Deja Vu\n97.3 BPM, 6/8\n", SG_ROLE_NOTES, &d), SG_OK);
  /* Misuse is refused without spoiling the package. */
  assert_int_equal(sg_package_add_text(p, "NOTES.txt", "again", SG_ROLE_NOTES, &d), SG_E_INVAL);
  assert_int_equal(sg_package_add_audio(p, midi_path, "x.wav", SG_ROLE_STEM, "X", NULL, &d),
                   SG_E_FORMAT);
  sg_gate_report rep;
  sg_gate_report_init(&rep);
  sg_gate_row(&rep, SG_CHECK_TRUE_PEAK, "master", "master", -1.1, -1.0, 0, NULL, SG_SEV_FAIL, NULL);
  assert_int_equal(sg_manifest_attach_gates(sg_package_manifest(p), &rep), SG_OK);
  sg_gate_report_free(&rep);
  assert_int_equal(sg_package_finish(p, &d), SG_OK);
}

static size_t count_failed(const sg_gate_report *r, const char *check, const char *stem) {
  size_t n = 0;
  for (size_t i = 0; i < r->n; ++i)
    if (!r->v[i].pass && (!check || strcmp(r->v[i].check, check) == 0) &&
        (!stem || strcmp(r->v[i].stem, stem) == 0))
      n++;
  return n;
}

static void good_package_verifies(void **state) {
  (void)state;
  const char *zp = sg_test_path("good.zip");
  build_good(zp);
  sg_gate_report rep;
  sg_gate_report_init(&rep);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_package_verify(zp, NULL, &rep, &d), SG_OK);
  assert_int_equal(rep.failed, 0);
  assert_int_equal(count_failed(&rep, NULL, NULL), 0);
  /* archive + manifest + 5 rows x (present + sha) + 3 wav headers + 5 listed. */
  assert_int_equal(rep.n, 2 + 5 * 2 + 3 + 5);
  for (size_t i = 0; i < rep.n; ++i)
    assert_string_equal(rep.v[i].step, "package");
  sg_gate_report_free(&rep);

  /* The manifest inside records what the files are. */
  sg_zip_reader *r = NULL;
  assert_int_equal(sg_zip_reader_open(&r, zp, NULL, NULL), SG_OK);
  char *text = NULL;
  size_t n = 0;
  assert_int_equal(
      sg_zip_reader_read_all(r, sg_zip_reader_find(r, SG_MANIFEST_NAME), 1 << 20, &text, &n, NULL),
      SG_OK);
  sg_manifest m;
  assert_int_equal(sg_manifest_parse(text, n, &m, NULL), SG_OK);
  sg_manifest_file *keys = sg_manifest_find_file(&m, "stems/Keys.wav");
  assert_non_null(keys);
  assert_int_equal(keys->format, SG_FMT_PCM16);
  assert_int_equal(keys->channels, 1);
  assert_int_equal(keys->frames, 24000);
  assert_true(fabs(keys->duration_sec - 0.5) < 1e-12);
  sg_manifest_file *master = sg_manifest_find_file(&m, "deja-vu_master.wav");
  assert_true(master->loudness.valid && master->loudness.integrated_lufs == -14.2);
  assert_int_equal(master->compressed, 0);
  assert_int_equal(sg_manifest_find_file(&m, "NOTES.txt")->compressed, 1);
  assert_int_equal(m.n_gates, 1);
  char h[65];
  assert_int_equal(sg_sha256_file(wav_bass, h, NULL), SG_OK);
  assert_string_equal(sg_manifest_find_file(&m, "stems/Bass.wav")->sha256, h);
  sg_manifest_free(&m);
  free(text);
  sg_zip_reader_close(r);

  /* Two builds of the same inputs are bit-identical. */
  const char *zp2 = sg_test_path("good2.zip");
  build_good(zp2);
  char h1[65], h2[65];
  assert_int_equal(sg_sha256_file(zp, h1, NULL), SG_OK);
  assert_int_equal(sg_sha256_file(zp2, h2, NULL), SG_OK);
  assert_string_equal(h1, h2);
}

static void flipped_byte_fails_sha256(void **state) {
  (void)state;
  const char *zp = sg_test_path("flip.zip");
  build_good(zp);
  size_t n = 0, wn = 0;
  unsigned char *z = fx_slurp(zp, &n);
  unsigned char *w = fx_slurp(wav_bass, &wn);
  assert_non_null(z);
  assert_non_null(w);
  /* The stored WAV appears verbatim in the zip: find its samples and flip one byte. */
  long off = fx_find(z, n, w + 200, 64);
  assert_true(off > 0);
  z[off + 1000] ^= 0x01;
  assert_int_equal(fx_spit(zp, z, n), 0);
  free(z);
  free(w);
  sg_gate_report rep;
  sg_gate_report_init(&rep);
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_package_verify(zp, NULL, &rep, &d), SG_E_GATE);
  assert_int_equal(count_failed(&rep, "sha256", "stems/Bass.wav"), 1);
  assert_int_equal(count_failed(&rep, NULL, NULL), 1); /* nothing else */
  assert_int_equal(rep.failed, 1);
  assert_string_equal(d.check, "sha256");
  assert_string_equal(d.stem, "stems/Bass.wav");
  sg_gate_report_free(&rep);
}

/* A package assembled by hand from manifest rows that may lie, and entries that may be absent
 * or extra. */
static void build_custom(const char *zp, int drop_keys, int lie_frames, int extra_entry,
                         int deflate_bass) {
  sg_manifest m;
  sg_manifest_init(&m);
  sg_manifest_file f;
  sg_diag d;
  sg_diag_clear(&d);
  sg_zip_writer *w = NULL;
  assert_int_equal(sg_zip_writer_open(&w, zp, NULL, &d), SG_OK);
  assert_int_equal(
      sg_manifest_file_describe(&f, wav_bass, "stems/Bass.wav", SG_ROLE_STEM, "Bass", &d), SG_OK);
  if (lie_frames)
    f.frames += 1;
  f.compressed = deflate_bass;
  assert_int_equal(sg_manifest_add_file(&m, &f), SG_OK);
  assert_int_equal(sg_zip_writer_add_file(w, "stems/Bass.wav", wav_bass, deflate_bass, &d), SG_OK);
  assert_int_equal(
      sg_manifest_file_describe(&f, wav_keys, "stems/Keys.wav", SG_ROLE_STEM, "Keys", &d), SG_OK);
  assert_int_equal(sg_manifest_add_file(&m, &f), SG_OK);
  if (!drop_keys)
    assert_int_equal(sg_zip_writer_add_file(w, "stems/Keys.wav", wav_keys, 0, &d), SG_OK);
  if (extra_entry)
    assert_int_equal(sg_zip_writer_add_text(w, "stowaway.txt", "hello", &d), SG_OK);
  char *json = NULL;
  assert_int_equal(sg_manifest_to_json(&m, &json, NULL, &d), SG_OK);
  assert_int_equal(sg_zip_writer_add_text(w, SG_MANIFEST_NAME, json, &d), SG_OK);
  free(json);
  assert_int_equal(sg_zip_writer_close(w, &d), SG_OK);
  sg_manifest_free(&m);
}

static void missing_lying_and_unlisted_entries_fail(void **state) {
  (void)state;
  sg_gate_report rep;
  sg_diag d;
  const char *zp = sg_test_path("custom.zip");

  /* The manifest carries the zip's entry time. */
  sg_zip_writer_config c;
  sg_zip_writer_config_init(&c);
  c.year = 2026;
  c.month = 11;
  c.day = 24;
  c.hour = 3;
  sg_package *p = NULL;
  assert_int_equal(sg_package_begin(&p, zp, &c, NULL), SG_OK);
  assert_string_equal(sg_package_manifest(p)->timestamp, "2026-11-24T03:00:00Z");
  sg_package_abort(p);
  assert_int_equal(access(zp, F_OK), -1);

  build_custom(zp, 0, 0, 0, 1); /* control: correct, with a deflated WAV read via memory */
  sg_gate_report_init(&rep);
  assert_int_equal(sg_package_verify(zp, NULL, &rep, &d), SG_OK);
  sg_gate_report_free(&rep);

  build_custom(zp, 1, 0, 0, 0);
  sg_gate_report_init(&rep);
  sg_diag_clear(&d);
  assert_int_equal(sg_package_verify(zp, NULL, &rep, &d), SG_E_GATE);
  assert_int_equal(count_failed(&rep, "entry_present", "stems/Keys.wav"), 1);
  assert_int_equal(count_failed(&rep, NULL, NULL), 1);
  assert_string_equal(d.check, "entry_present");
  sg_gate_report_free(&rep);

  build_custom(zp, 0, 1, 0, 0);
  sg_gate_report_init(&rep);
  sg_diag_clear(&d);
  assert_int_equal(sg_package_verify(zp, NULL, &rep, &d), SG_E_GATE);
  assert_int_equal(count_failed(&rep, "wav_header", "stems/Bass.wav"), 1);
  assert_int_equal(count_failed(&rep, NULL, NULL), 1);
  assert_non_null(strstr(d.message, "24000 frames"));
  assert_non_null(strstr(d.message, "24001 frames"));
  sg_gate_report_free(&rep);

  build_custom(zp, 0, 0, 1, 0);
  sg_gate_report_init(&rep);
  sg_diag_clear(&d);
  assert_int_equal(sg_package_verify(zp, NULL, &rep, &d), SG_E_GATE);
  assert_int_equal(count_failed(&rep, "entry_listed", "stowaway.txt"), 1);
  assert_int_equal(count_failed(&rep, NULL, NULL), 1);
  sg_gate_report_free(&rep);
}

static void unreadable_packages_report_archive_or_manifest(void **state) {
  (void)state;
  sg_gate_report rep;
  sg_diag d;
  /* Not a zip. */
  const char *zp = sg_test_path("notzip.zip");
  assert_int_equal(fx_spit(zp, "hello", 5), 0);
  sg_gate_report_init(&rep);
  sg_diag_clear(&d);
  assert_int_equal(sg_package_verify(zp, NULL, &rep, &d), SG_E_FORMAT);
  assert_int_equal(count_failed(&rep, "archive", NULL), 1);
  sg_gate_report_free(&rep);
  /* A zip without a manifest. */
  sg_zip_writer *w = NULL;
  assert_int_equal(sg_zip_writer_open(&w, zp, NULL, NULL), SG_OK);
  assert_int_equal(sg_zip_writer_add_text(w, "NOTES.txt", "x", NULL), SG_OK);
  assert_int_equal(sg_zip_writer_close(w, NULL), SG_OK);
  sg_gate_report_init(&rep);
  assert_int_equal(sg_package_verify(zp, NULL, &rep, &d), SG_E_NOTFOUND);
  assert_int_equal(count_failed(&rep, "manifest", NULL), 1);
  sg_gate_report_free(&rep);
  /* A manifest that is not JSON. */
  assert_int_equal(sg_zip_writer_open(&w, zp, NULL, NULL), SG_OK);
  assert_int_equal(sg_zip_writer_add_text(w, SG_MANIFEST_NAME, "{\"schema\": ", NULL), SG_OK);
  assert_int_equal(sg_zip_writer_close(w, NULL), SG_OK);
  sg_gate_report_init(&rep);
  assert_int_equal(sg_package_verify(zp, NULL, &rep, &d), SG_E_PARSE);
  assert_int_equal(count_failed(&rep, "manifest", NULL), 1);
  sg_gate_report_free(&rep);
}

/* deflate_audio: audio entries deflated (the spec's deliverable.deflate), still verifiable and
 * readable as audio from inside the archive. */
static void deflated_audio_verifies(void **state) {
  (void)state;
  const char *zp = sg_test_path("deflated.zip");
  sg_zip_writer_config zc;
  sg_zip_writer_config_init(&zc);
  zc.deflate_audio = 1;
  sg_package *p = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  assert_int_equal(sg_package_begin(&p, zp, &zc, &d), SG_OK);
  fill_manifest(sg_package_manifest(p));
  assert_int_equal(sg_package_add_audio(p, wav_master, "master.wav", SG_ROLE_MASTER, "", NULL, &d),
                   SG_OK);
  assert_int_equal(sg_package_finish(p, &d), SG_OK);
  sg_zip_reader *r = NULL;
  assert_int_equal(sg_zip_reader_open(&r, zp, NULL, &d), SG_OK);
  const sg_zip_entry *e = sg_zip_reader_find(r, "master.wav");
  assert_non_null(e);
  assert_int_equal(e->deflated, 1);
  sg_zip_reader_close(r);
  sg_gate_report rep;
  sg_gate_report_init(&rep);
  assert_int_equal(sg_package_verify(zp, NULL, &rep, &d), SG_OK);
  assert_int_equal(rep.failed, 0);
  sg_gate_report_free(&rep);
}

static void loudness_is_remeasured_from_the_archive(void **state) {
  (void)state;
  sg_meter_result mr, kr;
  assert_int_equal(sg_meter_file(wav_master, SG_METER_ALL, &mr, NULL, NULL), SG_OK);
  assert_int_equal(sg_meter_file(wav_keys, SG_METER_ALL, &kr, NULL, NULL), SG_OK);
  for (int lie = 0; lie < 2; ++lie) {
    const char *zp = sg_test_path(lie ? "loud_lie.zip" : "loud.zip");
    sg_package *p = NULL;
    assert_int_equal(sg_package_begin(&p, zp, NULL, NULL), SG_OK);
    /* A lying manifest claims the master is 3 LU quieter than it is. */
    sg_pkg_loudness ml = {1, mr.integrated_lufs - (lie ? 3.0 : 0.0), mr.true_peak_dbtp,
                          mr.sample_peak_dbfs};
    sg_pkg_loudness kl = {1, kr.integrated_lufs, kr.true_peak_dbtp, NAN}; /* NaN: skipped */
    assert_int_equal(
        sg_package_add_audio(p, wav_master, "master.wav", SG_ROLE_MASTER, "", &ml, NULL), SG_OK);
    assert_int_equal(
        sg_package_add_audio(p, wav_keys, "stems/Keys.wav", SG_ROLE_STEM, "Keys", &kl, NULL),
        SG_OK);
    assert_int_equal(
        sg_package_add_audio(p, wav_bass, "stems/Bass.wav", SG_ROLE_STEM, "Bass", NULL, NULL),
        SG_OK); /* no loudness recorded: not re-measured */
    assert_int_equal(sg_package_finish(p, NULL), SG_OK);
    sg_gate_report rep;
    sg_gate_report_init(&rep);
    sg_diag d;
    sg_diag_clear(&d);
    /* Tolerances 0.1 LU and 0.1 dB: the archive holds the very bytes measured above. */
    sg_status st = sg_package_verify_loudness(zp, NULL, 0.1, 0.1, &rep, &d);
    assert_int_equal(rep.n, 3 + 2); /* master: 3 checks; keys: 2 (sample peak skipped) */
    if (!lie) {
      assert_int_equal(st, SG_OK);
      assert_int_equal(count_failed(&rep, NULL, NULL), 0);
    } else {
      assert_int_equal(st, SG_E_GATE);
      assert_int_equal(count_failed(&rep, "manifest_loudness", "master.wav"), 1);
      assert_int_equal(count_failed(&rep, NULL, NULL), 1);
      assert_string_equal(d.check, "manifest_loudness");
      assert_true(fabs(d.measured - mr.integrated_lufs) < 1e-9);
    }
    sg_gate_report_free(&rep);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(manifest_json_round_trip),
      cmocka_unit_test(good_package_verifies),
      cmocka_unit_test(flipped_byte_fails_sha256),
      cmocka_unit_test(missing_lying_and_unlisted_entries_fail),
      cmocka_unit_test(unreadable_packages_report_archive_or_manifest),
      cmocka_unit_test(loudness_is_remeasured_from_the_archive),
      cmocka_unit_test(deflated_audio_verifies),
  };
  return cmocka_run_group_tests(tests, setup_files, teardown_files);
}
