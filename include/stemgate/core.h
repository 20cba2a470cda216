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
