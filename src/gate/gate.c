/* Gate reports: every check is a measurement, a limit and a verdict, kept in one table that the
 * CLI prints, the manifest stores and `stemgate verify` shares. */
#include "stemgate/gate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sg_gate_report_init(sg_gate_report *r) { memset(r, 0, sizeof *r); }

void sg_gate_report_free(sg_gate_report *r) {
  if (!r)
    return;
  free(r->v);
  memset(r, 0, sizeof *r);
}

sg_status sg_gate_report_append(sg_gate_report *dst, const sg_gate_report *src) {
  if (!dst || !src)
    return SG_E_INVAL;
  if (dst->n + src->n > dst->cap) {
    size_t cap = dst->n + src->n + 64;
    sg_gate_result *v = realloc(dst->v, cap * sizeof *v);
    if (!v)
      return SG_E_NOMEM;
    dst->v = v;
    dst->cap = cap;
  }
  if (src->n)
    memcpy(dst->v + dst->n, src->v, src->n * sizeof *src->v);
  dst->n += src->n;
  dst->failed += src->failed;
  return SG_OK;
}

static int holds(double m, sg_cmp cmp, double limit, double target) {
  if (cmp == SG_CMP_INFO)
    return 1;
  if (isnan(m)) /* a measurement that failed never passes */
    return 0;
  switch (cmp) {
  case SG_CMP_LE:
    return m <= limit;
  case SG_CMP_GE:
    return m >= limit;
  case SG_CMP_EQ:
    return m == limit;
  case SG_CMP_ABS_LE:
    return fabs(m) <= limit;
  case SG_CMP_WITHIN:
    return fabs(m - target) <= limit;
  default:
    return 0;
  }
}

/* Appends a zeroed row named step/stem/check; NULL when r is NULL or memory runs out. */
static sg_gate_result *push(sg_gate_report *r, const char *step, const char *stem,
                            const char *check) {
  if (!r)
    return NULL;
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 64;
    sg_gate_result *v = realloc(r->v, cap * sizeof *v);
    if (!v)
      return NULL;
    r->v = v;
    r->cap = cap;
  }
  sg_gate_result *g = &r->v[r->n++];
  memset(g, 0, sizeof *g);
  snprintf(g->step, sizeof g->step, "%s", step ? step : "");
  snprintf(g->stem, sizeof g->stem, "%s", stem ? stem : "");
  snprintf(g->check, sizeof g->check, "%s", check ? check : "");
  return g;
}

static sg_status verdict(sg_gate_report *r, const sg_gate_result *g, sg_diag *d) {
  if (g->pass || !g->required)
    return SG_OK;
  r->failed++;
  if (d) {
    sg_diag_where(d, g->step, g->stem, g->check);
    if (g->cmp != SG_CMP_INFO && g->cmp != SG_CMP_TEXT && !g->detail[0])
      sg_diag_value(d, g->measured, g->cmp == SG_CMP_WITHIN ? g->target : g->limit, g->unit);
    if (g->cmp == SG_CMP_WITHIN)
      sg_diag_fail(d, SG_E_GATE, "%s is %.6g %s, outside %.6g +- %.6g %s", g->check, g->measured,
                   g->unit, g->target, g->limit, g->unit);
    else if (g->detail[0])
      sg_diag_fail(d, SG_E_GATE, "%s failed: %s", g->check, g->detail);
    else
      sg_diag_fail(d, SG_E_GATE, "%s must be %s %.6g %s", g->check, sg_cmp_symbol(g->cmp), g->limit,
                   g->unit);
  }
  return SG_E_GATE;
}

static sg_severity effective(const sg_check_def *c, sg_severity sev) {
  return sev > c->severity ? sev : c->severity;
}

sg_status sg_gate_row(sg_gate_report *r, sg_check_id id, const char *step, const char *stem,
                      double measured, double limit, double target, const char *detail,
                      sg_severity sev, sg_diag *d) {
  const sg_check_def *c = sg_check_get(id);
  if (!c || c->cmp == SG_CMP_TEXT)
    return SG_E_INVAL;
  sg_gate_result *g = push(r, step, stem, c->name);
  if (!g)
    return r ? SG_E_NOMEM : SG_E_INVAL;
  g->id = id;
  g->severity = effective(c, sev);
  g->measured = measured;
  g->limit = isnan(limit) ? c->limit : limit;
  g->target = target;
  g->cmp = g->severity == SG_SEV_INFO ? SG_CMP_INFO : c->cmp;
  snprintf(g->unit, sizeof g->unit, "%s", c->unit);
  snprintf(g->detail, sizeof g->detail, "%s", detail ? detail : "");
  g->required = g->severity == SG_SEV_FAIL;
  g->pass = holds(measured, g->cmp, g->limit, target);
  return verdict(r, g, d);
}

sg_status sg_gate_row_text(sg_gate_report *r, sg_check_id id, const char *step, const char *stem,
                           const char *measured, const char *expected, int pass, sg_severity sev,
                           sg_diag *d) {
  const sg_check_def *c = sg_check_get(id);
  if (!c)
    return SG_E_INVAL;
  sg_gate_result *g = push(r, step, stem, c->name);
  if (!g)
    return r ? SG_E_NOMEM : SG_E_INVAL;
  g->id = id;
  g->severity = effective(c, sev);
  g->cmp = SG_CMP_TEXT;
  g->measured = NAN;
  g->limit = NAN;
  g->required = g->severity == SG_SEV_FAIL;
  g->pass = g->severity == SG_SEV_INFO ? 1 : pass;
  snprintf(g->detail, sizeof g->detail, "%s (expected %s)", measured ? measured : "?",
           expected ? expected : "?");
  return verdict(r, g, d);
}

const sg_gate_result *sg_gate_first_failure(const sg_gate_report *r, size_t from) {
  for (size_t i = from; r && i < r->n; ++i)
    if (!r->v[i].pass && r->v[i].required)
      return &r->v[i];
  return NULL;
}

/* A number as a person reads it: whole values (frames, rates, counts) in full, others with
 * six significant digits. */
static const char *num(double x, char *buf, size_t cap) {
  if (isfinite(x) && fabs(x) < 1e15 && x == floor(x))
    snprintf(buf, cap, "%.0f", x);
  else
    snprintf(buf, cap, "%.6g", x);
  return buf;
}

char *sg_gate_result_format(const sg_gate_result *g, char *out, size_t cap) {
  if (!out || !cap)
    return out;
  const char *v = g->pass ? "PASS" : (g->required ? "FAIL" : "WARN");
  char m[40], l[40], t[40];
  const char *sp = g->unit[0] ? " " : "";
  if (isnan(g->measured)) {
    snprintf(out, cap, "%-4s  %-7s %-14s %-24s %s", v, g->step, g->stem, g->check, g->detail);
  } else if (g->cmp == SG_CMP_INFO) {
    snprintf(out, cap, "%-4s  %-7s %-14s %-24s %s%s%s%s%s", v, g->step, g->stem, g->check,
             num(g->measured, m, sizeof m), sp, g->unit, g->detail[0] ? "  " : "", g->detail);
  } else if (g->cmp == SG_CMP_WITHIN) {
    snprintf(out, cap, "%-4s  %-7s %-14s %-24s %s%s%s  (%s +- %s)%s%s", v, g->step, g->stem,
             g->check, num(g->measured, m, sizeof m), sp, g->unit, num(g->target, t, sizeof t),
             num(g->limit, l, sizeof l), g->detail[0] ? "  " : "", g->detail);
  } else {
    snprintf(out, cap, "%-4s  %-7s %-14s %-24s %s%s%s  (%s %s)%s%s", v, g->step, g->stem, g->check,
             num(g->measured, m, sizeof m), sp, g->unit, sg_cmp_symbol(g->cmp),
             num(g->limit, l, sizeof l), g->detail[0] ? "  " : "", g->detail);
  }
  return out;
}
