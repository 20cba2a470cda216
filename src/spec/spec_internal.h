/* Internal helpers of the spec module: strict scalar grammars shared by the YAML walker
 * (spec_parse.c) and the public lookups (spec_util.c). Not part of the public API. */
#ifndef SG_SPEC_INTERNAL_H
#define SG_SPEC_INTERNAL_H

#include "stemgate/spec.h"

#include <stddef.h>
#include <stdint.h>

/* Strict decimal number: [+-]? digits [. digits] [e[+-]digits], or [+-]? . digits. No hex, no
 * inf/nan, no surrounding space. Returns 1 and sets *out when s is such a number and finite. */
int sg__parse_number(const char *s, double *out);

/* Strict integer: [+-]? digits. Returns 1 and sets *out when it fits in long long. */
int sg__parse_integer(const char *s, long long *out);

/* Exact decimal "97.3" -> 973/10 with at most max_decimals digits after the point; trailing zeros
 * after the point are dropped ("140.0" -> 140/1) so den is the smallest power of ten that holds
 * the value exactly. Returns 0 on success, -1 when s is not a plain decimal, -2 when it has
 * more than max_decimals decimals, -3 when the integer part is too large (> 10^12). */
int sg__parse_decimal(const char *s, int max_decimals, int64_t *num, int64_t *den);

/* Song time "m:ss", "m:ss.sss" or plain seconds ("82", "82.5", "82.5s"). Returns 1 on success;
 * on failure returns 0 and points *why at a short explanation. */
int sg__parse_time(const char *s, double *sec, const char **why);

/* Checks of a parsed song against the fx, synth and theory tables (spec_check.c): effects,
 * instruments, patches, params, styles, patterns. SG_E_SPEC at the offending value. */
sg_status sg__song_check(const sg_song *s, sg_diag *d);
/* Checks that every midi_file and soundfont exists, is readable and has its format's header
 * (sg_song_load only: a spec parsed from a string has no folder). */
sg_status sg__song_check_files(const sg_song *s, sg_diag *d);

/* The delivery: block (spec_delivery.c): parses the mapping v of doc into *out (file names the
 * source in diagnostics), and checks a parsed song's block against its stems. SG_E_SPEC at the
 * offending value. */
struct yaml_document_s;
struct yaml_node_s;
sg_status sg__parse_delivery(struct yaml_document_s *doc, struct yaml_node_s *v, const char *file,
                             sg_delivery_spec *out, sg_diag *d);
sg_status sg__delivery_check(const sg_song *s, sg_diag *d);

/* ASCII case-insensitive equality. */
int sg__ieq(const char *a, const char *b);

/* Diagnostics shared by the spec's YAML readers (spec_parse.c, spec_delivery.c). */
#include <stdarg.h>
struct yaml_node_s;
/* 1-based line and column of a YAML node; {0, 0} for NULL. */
sg_pos sg__yaml_pos(const struct yaml_node_s *n);
/* SG_E_SPEC with d (optional) at file:line:col (positions below 1 read as 1) and the message. */
sg_status sg__spec_vfail(sg_diag *d, const char *file, sg_pos p, const char *fmt, va_list ap);

#endif
