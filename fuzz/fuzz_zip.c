/* libFuzzer entry point for the archive reader and package verification (not built by default).
 *
 * Each input is written to a temporary file and opened as a zip: every entry is hashed, WAV
 * entries are opened as audio through the virtual I/O and read to the end, manifest.json is
 * parsed, and the whole package is verified. The same bytes are also parsed as JSON directly
 * (manifests inside a zip are deflated, so a mutated zip rarely reaches the JSON parser).
 *
 * Build and run (clang, from the repository root, after building sg_package and its
 * dependencies once with -DSG_SANITIZE=ON into build-fuzz):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude fuzz/fuzz_zip.c \
 *     build-fuzz/libsg_package.a build-fuzz/libsg_gate.a build-fuzz/libsg_io.a \
 *     build-fuzz/libsg_core.a $(pkg-config --libs libzip sndfile samplerate libcrypto) -lm \
 *     -o fuzz_zip
 *   mkdir -p corpus && cp some-package.zip corpus/ && ./fuzz_zip -max_len=262144 corpus
 *
 * Without libFuzzer, compile with -DSG_FUZZ_MAIN to get a main() that runs the files named on
 * the command line through the same function (corpus replay under gcc). Any crash, leak,
 * sanitizer report or abort() is a finding; every rejection must carry a message. */
#include "package/json.h"
#include "stemgate/package.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must_explain(sg_status st, const sg_diag *d) {
  if (st != SG_OK && st != SG_E_GATE && d->message[0] == '\0')
    abort(); /* a rejection without a message */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sg_json_doc *doc = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  if (sg_json_parse((const char *)data, size, &doc, &d) == SG_OK)
    sg_json_doc_free(doc);

  char path[] = "/tmp/sg_fuzz_zip_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0)
    return 0;
  if (write(fd, data, size) != (ssize_t)size) {
    close(fd);
    unlink(path);
    return 0;
  }
  close(fd);

  sg_zip_limits lim;
  sg_zip_limits_init(&lim);
  lim.max_memory_entry = 4u << 20; /* keep each run small */
  lim.max_entry_bytes = 16u << 20;
  lim.max_total_bytes = 64u << 20;
  sg_zip_reader *r = NULL;
  sg_diag_clear(&d);
  sg_status st = sg_zip_reader_open(&r, path, &lim, &d);
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
        if (sg_zip_reader_read_all(r, e, 1u << 20, &text, &n, NULL) == SG_OK) {
          sg_manifest m;
          if (sg_manifest_parse(text, n, &m, NULL) == SG_OK)
            sg_manifest_free(&m);
          free(text);
        }
      }
    }
    sg_zip_reader_close(r);
  }
  sg_gate_report rep;
  sg_gate_report_init(&rep);
  sg_diag_clear(&d);
  st = sg_package_verify(path, &lim, &rep, &d);
  must_explain(st, &d);
  if (st == SG_OK && rep.failed)
    abort(); /* verified although a required check failed */
  sg_gate_report_free(&rep);
  unlink(path);
  return 0;
}

#ifdef SG_FUZZ_MAIN
int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    FILE *f = fopen(argv[i], "rb");
    if (!f)
      continue;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) == (size_t)n)
      LLVMFuzzerTestOneInput(b, (size_t)n);
    free(b);
    fclose(f);
  }
  return 0;
}
#endif
