/* stemgate core: status codes, diagnostics, deterministic randomness, small numeric helpers.
 *
 * Every public sg_ function returns an sg_status. Functions that can fail for a reason a user
 * must see also take an optional sg_diag* that they fill with context (file:line:col for specs;
 * step, stem, check, measured value and limit for gates). The library never prints; the caller
 * decides how to show a diagnostic (sg_diag_format).
 *
 * The status list is one X-macro (after libuv): it generates the enum, the names and the
 * messages, so the three can never disagree. */
#ifndef STEMGATE_CORE_H
#define STEMGATE_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, message) */
#define SG_STATUS_LIST(X)                                                                          \
  X(SG_OK, 0, "success")                                                                           \
  X(SG_E_INVAL, 1, "invalid argument")                                                             \
  X(SG_E_NOMEM, 2, "out of memory")                                                                \
  X(SG_E_IO, 3, "input/output error (see the diagnostic for file and reason)")                     \
  X(SG_E_FORMAT, 4, "unsupported or malformed file format")                                        \
  X(SG_E_SPEC, 5, "the song spec is invalid (see file:line:col)")                                  \
  X(SG_E_GATE, 6, "a verification gate failed (see step, check, value, limit)")                    \
  X(SG_E_RANGE, 7, "a value is outside its allowed range")                                         \
  X(SG_E_PARSE, 8, "text could not be parsed (see the position)")                                  \
  X(SG_E_NOTFOUND, 9, "a required item was not found")                                             \
  X(SG_E_UNSUPPORTED, 10, "not supported by this build or this input")                             \
  X(SG_E_LIMIT, 11, "a safety limit was exceeded (size, count or length)")                         \
  X(SG_E_INTERNAL, 12, "internal error: an invariant did not hold; please report it")

typedef enum sg_status {
#define SG__ENUM(name, val, msg) name = val,
  SG_STATUS_LIST(SG__ENUM)
#undef SG__ENUM
      SG_STATUS_COUNT_
} sg_status;

/* Symbolic name ("SG_E_IO") and human message for a status. Never NULL. */
const char *sg_status_name(sg_status st);
const char *sg_status_message(sg_status st);

/* Library version string, e.g. "0.1.0". */
const char *sg_version(void);

/* ---- diagnostics ------------------------------------------------------------------------- */

#define SG_DIAG_TEXT 512
#define SG_DIAG_NAME 128

/* Context for one failure or one gate verdict. Owned by the caller; plain data, copyable.
 * Unused fields are empty strings / zero; has_value tells whether measured/limit are set. */
typedef struct sg_diag {
  sg_status status;
  char file[SG_DIAG_NAME * 2]; /* spec or audio file the problem is in                   */
  int line, col;               /* 1-based position in a text file; 0 when not applicable */
  char step[32];               /* pipeline step: "timing", "reference", "stem", ...       */
  char stem[SG_DIAG_NAME];     /* stem name, or "master"                                 */
  char check[64];              /* gate check: "sample_rate", "true_peak", ...            */
  int has_value;
  double measured, limit;
  char unit[16];              /* unit of measured/limit: "dBTP", "LUFS", "frames", ...   */
  char message[SG_DIAG_TEXT]; /* whole sentence: what is wrong and what is allowed       */
} sg_diag;

/* Reset every field. Safe with NULL. */
void sg_diag_clear(sg_diag *d);
/* Set status and a printf-style message; returns st so callers can `return sg_diag_fail(...)`.
 * Safe with d == NULL (then only returns st). */
sg_status sg_diag_fail(sg_diag *d, sg_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Set the position fields (file may be NULL to keep the current one). */
void sg_diag_at(sg_diag *d, const char *file, int line, int col);
/* Set step/stem/check (NULL keeps the current value). */
void sg_diag_where(sg_diag *d, const char *step, const char *stem, const char *check);
/* Record a measurement and its limit. */
void sg_diag_value(sg_diag *d, double measured, double limit, const char *unit);
/* One line for a terminal: "file:line:col: message" or "step/stem/check: message (measured X
 * unit, limit Y unit)". Writes at most cap bytes, always NUL-terminated; returns out. */
char *sg_diag_format(const sg_diag *d, char *out, size_t cap);

/* ---- parameter schema --------------------------------------------------------------------
 *
 * Every user-settable parameter (effect parameters, instrument patch parameters) is described
 * once, in a table of sg_param_def next to the code that uses it (src/fx/fx_chain.c,
 * src/synth/). The same table validates a spec (sg_params_check, called by the spec loader
 * before any audio) and supplies the defaults and ranges the code builds with, so a name, range
 * or default is never restated. The validator lives in core because core is the one module both
 * the spec loader and the DSP modules depend on. */

#define SG_MAX_NAME 64
#define SG_MAX_PARAMS 24

typedef struct sg_pos {
  int line, col; /* 1-based; 0 when the value was not given (a default) */
} sg_pos;

/* One key: value pair of a generic parameter block (effects, instrument overrides). The value
 * is kept as text and as a number when it parses as one ("1/8." stays text). */
typedef struct sg_param {
  char key[SG_MAX_NAME];
  char text[SG_MAX_NAME * 2];
  double num;
  int is_num;
  sg_pos pos;     /* the value */
  sg_pos key_pos; /* the key (0 when built by hand: then pos is used) */
} sg_param;

typedef struct sg_param_set {
  sg_param v[SG_MAX_PARAMS];
  int n;
} sg_param_set;

typedef enum sg_param_kind {
  SG_PARAM_NUMBER = 0, /* a real number in [lo, hi] (unit in `unit`) */
  SG_PARAM_INTEGER,    /* a whole number in [lo, hi]; `choices` may list the allowed values */
  SG_PARAM_ENUM,       /* one of `choices` ("a|b|c", case-insensitive); value = its index */
  SG_PARAM_BOOL,       /* true/false, yes/no, on/off, 1/0; value 1 or 0 */
  SG_PARAM_NOTE_TIME,  /* note value ("1/8.", "1/4T") or milliseconds; checked by its owner */
  SG_PARAM_STEM,       /* name of another stem or Drums; checked by the spec against the song */
  SG_PARAM_PATH        /* a file relative to the spec's folder; checked by the spec */
} sg_param_kind;

/* One parameter. Tables are static const arrays; the strings are literals. */
typedef struct sg_param_def {
  const char *name; /* a-z, 0-9, '_' */
  sg_param_kind kind;
  const char *unit; /* "Hz", "dB", "ms", "s", ...; "" when unitless */
  double lo, hi;    /* NUMBER/INTEGER range (inclusive) */
  /* NUMBER/INTEGER/BOOL: the default value; ENUM: index of the default choice; NAN: set by the
   * selected patch (instrument parameters, whose defaults are the patch presets). */
  double def;
  /* ENUM: "a|b|c". INTEGER: optional set of allowed values ("8|16"). Text kinds: default text. */
  const char *choices;
  const char *doc; /* one line: what the parameter does */
  /* Tables that fill a struct of doubles (synth patches): offset of the double it sets. */
  size_t offset;
} sg_param_def;

/* Looks a parameter up by key; NULL when absent (also with ps or key NULL). */
const sg_param *sg_params_find(const sg_param_set *ps, const char *key);
/* Index of name in defs[0..n), case-insensitive; -1 when absent. */
int sg_param_def_find(const sg_param_def *defs, int n, const char *name);

/* Validates ps against defs[0..n): unknown names (with a did-you-mean and the allowed names),
 * duplicates, kinds, ranges, allowed values. label names the owner in messages ("effect 2
 * (reverb) of stem 'Guitars'"); file is the spec file for the position. On success, values
 * (optional, n long) receives every parameter's value in table order: the given one or the
 * default (ENUM: choice index; BOOL: 0/1; text kinds: 0, read the text with sg_params_find).
 * SG_E_SPEC with d at the offending value (the key for unknown names). */
sg_status sg_params_check(const sg_param_set *ps, const sg_param_def *defs, int n,
                          const char *label, const char *file, double *values, sg_diag *d);

/* Choice i of "a|b|c" into out (""; returns 0 when there is no such choice), and the count. */
int sg_param_choice(const char *choices, int i, char *out, size_t cap);
int sg_param_choice_count(const char *choices);

/* Allowed values and default in words, for messages and the generated reference:
 * "0 to 1 s (default 2)", "lowpass, highpass, ... (default peak)". Returns out. */
char *sg_param_describe(const sg_param_def *p, char *out, size_t cap);

/* Levenshtein distance (Wagner-Fischer, two rows), case-sensitive; NULL is "". The one edit
 * distance of the tree: every did-you-mean goes through sg_suggest below. */
int sg_edit_distance(const char *a, const char *b);
/* Index of the candidate nearest to word (case-insensitive) when it is a plausible typo
 * (distance at most 1 for words up to 3 letters, 2 up to 6, 3 beyond; a clipped prefix of a
 * candidate also counts), else -1. NULL candidates are skipped. */
int sg_suggest(const char *word, const char *const *cands, int n);

/* ---- deterministic randomness ------------------------------------------------------------ */

/* PCG32 (O'Neill 2014, "PCG: A Family of Simple Fast Space-Efficient Statistically Good
 * Algorithms for Random Number Generation"). State lives in the caller's struct: the same seed
 * and stream give the same sequence on every machine and thread count. */
typedef struct sg_rng {
  uint64_t state, inc;
} sg_rng;

void sg_rng_seed(sg_rng *r, uint64_t seed, uint64_t stream);
uint32_t sg_rng_u32(sg_rng *r);
/* Uniform in [0, 1). */
double sg_rng_uniform(sg_rng *r);
/* Uniform in [lo, hi). */
double sg_rng_range(sg_rng *r, double lo, double hi);
/* Triangular (TPDF) in (-1, 1): the sum of two uniforms, as used for dither. */
float sg_rng_tpdf(sg_rng *r);
/* Standard normal (Box–Muller). */
double sg_rng_normal(sg_rng *r);
/* Stable 64-bit hash of a string (FNV-1a) to derive per-stem seeds from names. */
uint64_t sg_hash64(const char *s);

/* ---- hashing ------------------------------------------------------------------------------ */

/* Incremental SHA-256 (FIPS 180-4) over OpenSSL libcrypto. */
typedef struct sg_sha256 {
  void *ctx; /* EVP_MD_CTX*, owned */
} sg_sha256;

sg_status sg_sha256_init(sg_sha256 *h);
sg_status sg_sha256_update(sg_sha256 *h, const void *data, size_t n);
/* Writes 64 lowercase hex digits and a NUL to hex[65]; frees the context. */
sg_status sg_sha256_final(sg_sha256 *h, char hex[65]);
/* Frees the context without a result (error paths). Safe to call twice. */
void sg_sha256_free(sg_sha256 *h);
/* Hash a whole file. */
sg_status sg_sha256_file(const char *path, char hex[65], sg_diag *d);

/* ---- numeric helpers ---------------------------------------------------------------------- */

#define SG_PI 3.14159265358979323846

double sg_db_to_lin(double db);
double sg_lin_to_db(double lin); /* -inf safe: returns -200 for 0 */

/* MIDI note number to frequency, A4 = 69 = 440 Hz, equal temperament. */
double sg_midi_to_hz(double note);
/* Frequency to (fractional) MIDI note number. */
double sg_hz_to_midi(double hz);

#ifdef __cplusplus
}
#endif
#endif
