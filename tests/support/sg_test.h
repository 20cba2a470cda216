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

/* A fresh empty directory under $TMPDIR (or /tmp) for this test; path stays valid until exit. */
const char *sg_test_tmpdir(void);
/* Joins the test tmpdir and name into a static buffer rotating over 8 slots. */
const char *sg_test_path(const char *name);
/* Path under the source tree ($SG_SOURCE_DIR), e.g. "examples/deja-vu.yaml". */
const char *sg_test_source(const char *rel);
/* Writes text to a file; returns 0 on success. */
int sg_test_write_text(const char *path, const char *text);

#endif
