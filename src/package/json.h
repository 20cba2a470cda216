/* JSON for manifest.json and verify's reports (internal to package and verify): a streaming
 * writer (RFC 8259 escaping, invalid UTF-8 replaced by U+FFFD, shortest round-trip numbers,
 * NaN/Inf written as null) and a bounded DOM reader for hostile input. */
#ifndef SG_PACKAGE_JSON_H
#define SG_PACKAGE_JSON_H

#include "stemgate/core.h"
#include "stemgate/gate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== JSON writer ============================================================================ */

#define SG_JSON_MAX_DEPTH 64

/* Streams JSON text into a growable buffer. Errors are sticky: after the first failure
 * (out of memory, nesting deeper than SG_JSON_MAX_DEPTH, a value where a key is required) every
 * call is a no-op and sg_json_writer_status reports it, so callers check once at the end. */
typedef struct sg_json_writer {
  char *buf;
  size_t len, cap;
  int depth;
  unsigned char count[SG_JSON_MAX_DEPTH + 1]; /* values written at each level (saturating) */
  unsigned char is_obj[SG_JSON_MAX_DEPTH + 1];
  int after_key;
  int pretty; /* 1: two-space indentation and newlines; 0: compact */
  sg_status err;
} sg_json_writer;

void sg_json_writer_init(sg_json_writer *w, int pretty);
void sg_json_writer_free(sg_json_writer *w);
void sg_json_begin_object(sg_json_writer *w);
void sg_json_end_object(sg_json_writer *w);
void sg_json_begin_array(sg_json_writer *w);
void sg_json_end_array(sg_json_writer *w);
/* Member name inside an object; the next call must write its value. */
void sg_json_key(sg_json_writer *w, const char *key);
/* NUL-terminated UTF-8 string; NULL writes null. Escapes '"', '\\' and every control character
 * (U+0000..U+001F, U+007F); bytes that are not valid UTF-8 become U+FFFD. */
void sg_json_string(sg_json_writer *w, const char *s);
/* The same for n bytes that may contain NUL (written as \u0000). */
void sg_json_string_n(sg_json_writer *w, const char *s, size_t n);
/* Shortest decimal that reads back to the same double (tries %.15g, %.16g, %.17g); NaN and
 * infinities have no JSON form and are written as null. */
void sg_json_number(sg_json_writer *w, double x);
void sg_json_int(sg_json_writer *w, int64_t x);
void sg_json_bool(sg_json_writer *w, int b);
void sg_json_null(sg_json_writer *w);
/* Convenience: key + value. */
void sg_json_kv_string(sg_json_writer *w, const char *key, const char *s);
void sg_json_kv_number(sg_json_writer *w, const char *key, double x);
void sg_json_kv_int(sg_json_writer *w, const char *key, int64_t x);
void sg_json_kv_bool(sg_json_writer *w, const char *key, int b);
/* SG_OK, or the first error; also SG_E_INVAL when objects/arrays are still open. */
sg_status sg_json_writer_status(const sg_json_writer *w);
/* The text so far (NUL-terminated, owned by w); *len optional. NULL after an error. */
const char *sg_json_writer_text(const sg_json_writer *w, size_t *len);
/* Hands the buffer to the caller (free() it) and resets w. NULL after an error. */
char *sg_json_writer_take(sg_json_writer *w, size_t *len);

/* ==== JSON reader ============================================================================ */

typedef enum sg_json_type {
  SG_JSON_NULL = 0,
  SG_JSON_BOOL,
  SG_JSON_NUMBER,
  SG_JSON_STRING,
  SG_JSON_ARRAY,
  SG_JSON_OBJECT
} sg_json_type;

/* One parsed value. Children of arrays and objects form a singly linked list (child, next);
 * members of an object carry their name in key. Strings are NUL-terminated with their byte
 * length in len (they may contain NUL when the text had \u0000). */
typedef struct sg_json_value {
  sg_json_type type;
  int boolean;
  double number;
  const char *str;
  size_t len;
  const char *key;
  size_t key_len;
  struct sg_json_value *child, *next;
  size_t n; /* number of children */
} sg_json_value;

typedef struct sg_json_doc sg_json_doc;

#define SG_JSON_PARSE_MAX_DEPTH 64

/* Parses exactly one JSON value (RFC 8259, strict: no comments, no trailing commas, no leading
 * zeros, UTF-8 validated, surrogate pairs combined, lone surrogates rejected) followed only by
 * whitespace. Nesting is bounded by SG_JSON_PARSE_MAX_DEPTH; memory is bounded by a small
 * multiple of len. On failure d gets "line:col" in its position fields and a message. */
sg_status sg_json_parse(const char *text, size_t len, sg_json_doc **out, sg_diag *d);
const sg_json_value *sg_json_root(const sg_json_doc *doc);
void sg_json_doc_free(sg_json_doc *doc);
/* Member of an object by name (first match); NULL when v is not an object or has no such key. */
const sg_json_value *sg_json_get(const sg_json_value *obj, const char *key);
/* i-th element of an array (or member of an object); NULL when out of range. */
const sg_json_value *sg_json_at(const sg_json_value *v, size_t i);
/* Typed accessors with a default for missing or mistyped values. */
const char *sg_json_get_str(const sg_json_value *obj, const char *key, const char *def);
double sg_json_get_num(const sg_json_value *obj, const char *key, double def);
int sg_json_get_bool(const sg_json_value *obj, const char *key, int def);

/* One gate row as a JSON object — step, stem, check, verdict ("pass", "fail", "warn"), pass,
 * required, measured (null for text checks), cmp ("le", "ge", "eq", "abs_le", "within",
 * "info"), limit, target (for "within"), unit, detail — the form manifest.json and
 * `stemgate verify --json` share. */
void sg_json_gate_row(sg_json_writer *w, const sg_gate_result *g);

#ifdef __cplusplus
}
#endif
#endif
