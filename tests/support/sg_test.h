/* Test support: cmocka includes in the right order, temp dirs, signal generators. */
#ifndef SG_TEST_H
#define SG_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the four headers above first. */
#include <cmocka.h>

#include "stemgate/core.h"
#include "stemgate/io.h"

/* Repetition counts for trial tests: the release build runs the full count; the sanitizer
 * build (3-5x slower) runs a quarter of it, at least 4, which still crosses every code path the
 * sanitizers watch. SG_TEST_FULL_TRIALS=1 forces the full count. */
#if defined(__SANITIZE_ADDRESS__)
#define SG_TEST_SANITIZED 1
#else
#define SG_TEST_SANITIZED 0
#endif
int sg_test_trials(int full);

/* A fresh empty directory under $TMPDIR (or /tmp) for this test; path stays valid until exit. */
const char *sg_test_tmpdir(void);
/* Joins the test tmpdir and name into a static buffer rotating over 8 slots. */
const char *sg_test_path(const char *name);
/* Path under the source tree ($SG_SOURCE_DIR), e.g. "examples/deja-vu.yaml". */
const char *sg_test_source(const char *rel);
/* Writes text to a file; returns 0 on success. */
int sg_test_write_text(const char *path, const char *text);
/* Copies a file byte for byte; returns 0 on success. */
int sg_test_copy_file(const char *from, const char *to);
/* A whole file in a malloc'd buffer with a NUL after its bytes (*len: their count, when len is
 * not NULL); NULL when it cannot be read. */
char *sg_test_read_file(const char *path, size_t *len);
/* A writer configuration: the defaults (float32) at rate with channels. */
sg_audio_writer_config sg_test_writer_config(unsigned rate, unsigned channels);
/* Asserts that two files hold the same bytes (both readable, same length, same content). */
void sg_test_assert_files_equal(const char *a, const char *b);
/* Corrupts one byte in place: the byte at offset at XOR mask (the file keeps its size). */
void sg_test_flip_byte(const char *path, long at, int mask);

/* The delivered set of a render's output folder as a reader sees it: DIR/current resolved
 * once, its files (sorted by name, hidden ones skipped) and their SHA-256. */
#define SG_TEST_SET_MAX 16
typedef struct sg_test_set {
  int n;
  char name[SG_TEST_SET_MAX][256];
  char sha[SG_TEST_SET_MAX][65];
} sg_test_set;
/* 1 when DIR/current resolves to a set (read into s), 0 when there is none, -1 on an error. */
int sg_test_set_read(const char *out, sg_test_set *s);
/* 1 when both sets hold the same names with the same hashes. */
int sg_test_set_equal(const sg_test_set *a, const sg_test_set *b);

/* Runs argv[0] (a path) with the extra environment entries env ("NAME=VALUE", NULL-ended; may
 * be NULL), its stderr appended to err_path (may be NULL); returns its exit status, or 128 +
 * the signal that ended it. */
int sg_test_run(char *const argv[], char *const env[], const char *err_path);

#endif
