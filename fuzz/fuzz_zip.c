/* Fuzz target: the archive reader and the manifest (src/package: zip_read.c, manifest.c,
 * json_read.c), without verify's analysis (meters and features are slow and are the
 * analysis module's, not the reader's).
 *
 * Each input is parsed as a manifest directly (a manifest inside a zip is usually deflated, so
 * a mutated zip rarely reaches the JSON parser), then written to a temporary file (in /dev/shm
 * when there is one: libzip reads archives from paths) and opened as a zip: every entry is
 * hashed, WAV entries are opened as audio through the one reading path and read to the end,
 * manifest.json is parsed. Every rejection must carry a message. Seeds: a manifest made by
 * sg_manifest_to_json, and zips made with libzip holding it and a short WAV, stored and
 * deflated. */
#include "fuzz.h"
#include "seeds_util.h"
#include "stemgate/manifest.h"
#include "stemgate/zip.h"

#include <math.h>
#include <sndfile.h>
#include <zip.h>

static void must_explain(sg_status st, const sg_diag *d) {
  if (st != SG_OK && d->message[0] == '\0')
    abort(); /* a rejection without a message */
}

static void tmp_path(char *out, size_t n, const char *what) {
  if (access("/dev/shm", W_OK) == 0)
    snprintf(out, n, "/dev/shm/sg_fuzz_%s_%ld", what, (long)getpid());
  else
    sg_fuzz_tmp(out, n, what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sg_diag d;
  sg_manifest m;
  sg_diag_clear(&d);
  sg_status st = sg_manifest_parse((const char *)data, size, &m, &d);
  must_explain(st, &d);
  if (st == SG_OK)
    sg_manifest_free(&m);

  char path[4200];
  tmp_path(path, sizeof path, "zip");
  FILE *f = fopen(path, "wb");
  if (!f)
    return 0;
  int ok = fwrite(data, 1, size, f) == size;
  if (fclose(f) != 0 || !ok) {
    remove(path);
    return 0;
  }
  sg_zip_limits lim;
  sg_zip_limits_init(&lim);
  lim.max_memory_entry = 4u << 20; /* keep each run small */
  lim.max_entry_bytes = 16u << 20;
  lim.max_total_bytes = 64u << 20;
  sg_zip_reader *r = NULL;
  sg_diag_clear(&d);
  st = sg_zip_reader_open(&r, path, &lim, &d);
  must_explain(st, &d);
  if (st == SG_OK) {
    for (size_t i = 0; i < sg_zip_reader_count(r); ++i) {
      const sg_zip_entry *e = sg_zip_reader_entry(r, i);
      char hex[65];
      sg_diag_clear(&d);
      must_explain(sg_zip_reader_sha256(r, e, hex, NULL, &d), &d);
      size_t L = strlen(e->name);
      if (L > 4 && strcmp(e->name + L - 4, ".wav") == 0) {
        sg_zip_audio *a = NULL;
        sg_audio_info info;
        sg_diag_clear(&d);
        st = sg_zip_audio_open(&a, r, e, &info, &d);
        must_explain(st, &d);
        if (st == SG_OK) {
          float buf[4096];
          size_t got = 0;
          size_t per = info.channels ? 4096 / info.channels : 0;
          int64_t total = 0;
          while (per && total < (int64_t)1 << 20 &&
                 sg_audio_reader_read(sg_zip_audio_reader(a), buf, per, &got, NULL) == SG_OK &&
                 got > 0)
            total += (int64_t)got;
          sg_zip_audio_close(a);
        }
      }
      if (strcmp(e->name, SG_MANIFEST_NAME) == 0) {
        char *text = NULL;
        size_t n = 0;
        sg_diag_clear(&d);
        st = sg_zip_reader_read_all(r, e, 1u << 20, &text, &n, &d);
        must_explain(st, &d);
        if (st == SG_OK) {
          if (sg_manifest_parse(text, n, &m, NULL) == SG_OK)
            sg_manifest_free(&m);
          free(text);
        }
      }
    }
    sg_zip_reader_close(r);
  }
  remove(path);
  return 0;
}

/* ---- seeds -------------------------------------------------------------------------------- */

static char *make_manifest(size_t *n) {
  sg_manifest m;
  sg_manifest_init(&m);
  snprintf(m.title, sizeof m.title, "Fuzz Song");
  snprintf(m.slug, sizeof m.slug, "fuzz-song");
  m.rate = 48000, m.channels = 2, m.tempo_bpm = 120, m.meter_num = 4, m.meter_den = 4;
  snprintf(m.key, sizeof m.key, "C major");
  sg_manifest_section s = {
      .name = "a", .start_bar = 1, .end_bar = 2, .end_frame = 192000, .end_sec = 4.0};
  sg_manifest_add_section(&m, &s);
  sg_manifest_file fl = {.archive_name = "fuzz-song/fuzz-song_master.wav",
                         .role = SG_ROLE_MASTER,
                         .is_audio = 1,
                         .rate = 48000,
                         .channels = 2,
                         .bits = 16,
                         .frames = 64,
                         .bytes = 300,
                         .sha256 = "00"};
  sg_manifest_add_file(&m, &fl);
  char *text = NULL;
  if (sg_manifest_to_json(&m, &text, n, NULL) != SG_OK)
    text = NULL;
  sg_manifest_free(&m);
  return text;
}

static size_t make_wav(uint8_t *out, size_t cap) {
  char path[4200];
  sg_fuzz_tmp(path, sizeof path, "zip_wav");
  SF_INFO si = {.samplerate = 48000, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
  SNDFILE *sf = sf_open(path, SFM_WRITE, &si);
  if (!sf)
    return 0;
  float x[2 * 64];
  for (int i = 0; i < 64; ++i)
    x[2 * i] = x[2 * i + 1] = 0.5f * (float)sin(0.1 * i);
  sf_writef_float(sf, x, 64);
  sf_close(sf);
  FILE *f = fopen(path, "rb");
  size_t n = f ? fread(out, 1, cap, f) : 0;
  if (f)
    fclose(f);
  remove(path);
  return n;
}

static void add_zip(sg_fuzz_add_fn add, void *user, const char *manifest, size_t mn,
                    const uint8_t *wav, size_t wn, int deflate) {
  char path[4200];
  sg_fuzz_tmp(path, sizeof path, "zip_seed");
  int err = 0;
  zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (!z)
    return;
  zip_source_t *a = zip_source_buffer(z, manifest, mn, 0);
  zip_int64_t ia = a ? zip_file_add(z, SG_MANIFEST_NAME, a, 0) : -1;
  zip_source_t *b = zip_source_buffer(z, wav, wn, 0);
  zip_int64_t ib = b ? zip_file_add(z, "fuzz-song/fuzz-song_master.wav", b, 0) : -1;
  if (ia >= 0)
    zip_set_file_compression(z, (zip_uint64_t)ia, deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  if (ib >= 0)
    zip_set_file_compression(z, (zip_uint64_t)ib, deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  if (zip_close(z) != 0) {
    zip_discard(z);
    return;
  }
  sg_fuzz_add_file(add, user, path);
  remove(path);
}

void sg_fuzz_seeds(sg_fuzz_add_fn add, void *user) {
  size_t mn = 0;
  char *manifest = make_manifest(&mn);
  uint8_t wav[4096];
  size_t wn = make_wav(wav, sizeof wav);
  if (manifest) {
    add(user, (const uint8_t *)manifest, mn);
    add_zip(add, user, manifest, mn, wav, wn, 0);
    add_zip(add, user, manifest, mn, wav, wn, 1);
  }
  free(manifest);
}
