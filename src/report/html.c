/* report.html from an sg_report: one self-contained page of inline SVG and CSS (no script, no
 * network, no font files). It draws only what it is given; every text that reaches the page
 * passes through esc(). Layout: every time chart shares one x axis (a gutter for labels, then
 * seconds scaled to the plot width), so a section, a bar or a failure lines up down the page. */
#include "core/text.h"
#include "stemgate/check.h"
#include "stemgate/report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include <stdlib.h>
#include <string.h>

#define W 1200.0 /* svg width, px */
#define GL 150.0 /* left gutter: row labels */
#define GR 20.0  /* right margin */
#define PW (W - GL - GR)

/* Text as HTML character data or an attribute value: the five characters that can end either. */
static void esc(sg__text *t, const char *s) {
  for (; s && *s; ++s) {
    switch (*s) {
    case '&':
      sg__text_printf(t, "&amp;");
      break;
    case '<':
      sg__text_printf(t, "&lt;");
      break;
    case '>':
      sg__text_printf(t, "&gt;");
      break;
    case '"':
      sg__text_printf(t, "&quot;");
      break;
    case '\'':
      sg__text_printf(t, "&#39;");
      break;
    default:
      sg__text_printf(t, "%c", *s);
    }
  }
}

static double xof(const sg_report *r, double sec) {
  double dur = r->duration_s > 0 ? r->duration_s : 1;
  if (sec < 0)
    sec = 0;
  if (sec > dur)
    sec = dur;
  return GL + sec / dur * PW;
}

static const char *band_colour(int i) {
  static const char *c[] = {"#dbe9f6", "#fde2c8", "#d9f0d3", "#eadcf1",
                            "#fbe3e8", "#e0f3f1", "#f6efc6", "#e3e3e3"};
  return c[i % 8];
}

/* A step from 1-2-5 series giving at most max ticks over span. */
static double nice_step(double span, int max) {
  static const double s[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600};
  for (size_t i = 0; i < sizeof s / sizeof *s; ++i)
    if (span / s[i] <= max)
      return s[i];
  return 600;
}

static int nice_bar_step(int bars, int max) {
  static const int s[] = {1, 2, 4, 8, 16, 32, 64, 128};
  for (size_t i = 0; i < sizeof s / sizeof *s; ++i)
    if (bars / s[i] <= max)
      return s[i];
  return 256;
}

/* The sections as faint bands behind a chart from y0, h high. */
static void bands(sg__text *t, const sg_report *r, double y0, double h, double opacity) {
  for (int i = 0; i < r->n_sections; ++i) {
    const sg_report_section *s = &r->sections[i];
    double a = xof(r, s->start_s), b = xof(r, s->end_s);
    sg__text_printf(
        t,
        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" opacity=\"%.2f\"/>",
        a, y0, b - a, h, band_colour(i), opacity);
  }
}

/* Vertical lines at every bar line (light) and section boundary (darker), from y0, h high. */
static void gridlines(sg__text *t, const sg_report *r, double y0, double h) {
  int step = nice_bar_step(r->n_bars, 64);
  for (int b = 0; b <= r->n_bars && r->bar_s; b += step) {
    double x = xof(r, r->bar_s[b]);
    sg__text_printf(t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"bar\"/>", x,
                    y0, x, y0 + h);
  }
}

/* A time axis: seconds below, bar numbers above the line at y. */
static void time_axis(sg__text *t, const sg_report *r, double y) {
  sg__text_printf(t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>", GL,
                  y, GL + PW, y);
  double st = nice_step(r->duration_s, 20);
  for (double s = 0; s <= r->duration_s + 1e-9; s += st) {
    double x = xof(r, s);
    sg__text_printf(t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>", x,
                    y, x, y + 5);
    sg__text_printf(t,
                    "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">%.0f</text>",
                    x, y + 17, s);
  }
  sg__text_printf(t,
                  "<text x=\"%.1f\" y=\"%.1f\" class=\"lab\" text-anchor=\"end\">time (s)</text>",
                  GL - 8, y + 17);
  if (r->bar_s && r->n_bars > 0) {
    int bs = nice_bar_step(r->n_bars, 32);
    for (int b = 0; b < r->n_bars; b += bs) {
      double x = xof(r, r->bar_s[b]);
      sg__text_printf(t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>",
                      x, y - 5, x, y);
      sg__text_printf(t,
                      "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">%d</text>",
                      x, y - 8, b + 1);
    }
    sg__text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" class=\"lab\" text-anchor=\"end\">bar</text>",
                    GL - 8, y - 8);
  }
}

static void svg_open(sg__text *t, const char *cls, const char *stem, double h) {
  sg__text_printf(t, "<svg class=\"%s\"", cls);
  if (stem) {
    sg__text_printf(t, " data-stem=\"");
    esc(t, stem);
    sg__text_printf(t, "\"");
  }
  sg__text_printf(
      t,
      " xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f "
      "%.0f\">",
      W, h, W, h);
}

static void section_map(sg__text *t, const sg_report *r) {
  const double h = 78;
  svg_open(t, "sections", NULL, h);
  sg__text_printf(t, "<text x=\"%.1f\" y=\"30\" class=\"row\" text-anchor=\"end\">sections</text>",
                  GL - 8);
  for (int i = 0; i < r->n_sections; ++i) {
    const sg_report_section *s = &r->sections[i];
    double a = xof(r, s->start_s), b = xof(r, s->end_s);
    sg__text_printf(
        t,
        "<rect x=\"%.1f\" y=\"4\" width=\"%.1f\" height=\"44\" fill=\"%s\" stroke=\"#888\" "
        "stroke-width=\"0.5\"/>",
        a, b - a, band_colour(i));
    sg__text_printf(t, "<text x=\"%.1f\" y=\"22\" class=\"sec\">", a + 4);
    esc(t, s->name);
    sg__text_printf(t, "</text><text x=\"%.1f\" y=\"38\" class=\"tick\">bars %d-%d</text>", a + 4,
                    s->start_bar, s->end_bar);
  }
  time_axis(t, r, h - 18);
  sg__text_printf(t, "</svg>\n");
}

static void wave_row(sg__text *t, const sg_report *r, const char *name, const char *sub,
                     const sg_report_wave *w, int master) {
  const double h = master ? 90 : 66, mid = h / 2, amp = h / 2 - 4;
  svg_open(t, master ? "wave master" : "wave", name, h);
  bands(t, r, 0, h, 0.55);
  gridlines(t, r, 0, h);
  sg__text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" class=\"row\" text-anchor=\"end\">", GL - 8,
                  mid - 2);
  esc(t, name);
  sg__text_printf(t, "</text>");
  if (sub && *sub) {
    /* the gutter holds about 26 characters: longer names are cut (whole UTF-8 characters) */
    char cut[32];
    size_t n = strlen(sub);
    if (n > 26) {
      n = 24;
      while (n > 0 && ((unsigned char)sub[n] & 0xC0) == 0x80)
        --n;
    }
    snprintf(cut, sizeof cut, "%.*s", (int)n, sub);
    sg__text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\"><title>",
                    GL - 8, mid + 12);
    esc(t, sub);
    sg__text_printf(t, "</title>");
    esc(t, cut);
    sg__text_printf(t, "%s</text>", n < strlen(sub) ? "&#8230;" : "");
  }
  sg__text_printf(t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"zero\"/>", GL,
                  mid, GL + PW, mid);
  if (w->n > 0) {
    sg__text_printf(t, "<path class=\"%s\" d=\"M", master ? "env master" : "env");
    for (int i = 0; i < w->n; ++i) {
      double hi = w->hi[i] < w->lo[i] ? 0 : w->hi[i];
      hi = hi > 1 ? 1 : hi < -1 ? -1 : hi;
      sg__text_printf(t, "%s%.1f %.1f", i ? "L" : "", xof(r, (i + 0.5) * w->col_s), mid - hi * amp);
    }
    for (int i = w->n - 1; i >= 0; --i) {
      double lo = w->hi[i] < w->lo[i] ? 0 : w->lo[i];
      lo = lo > 1 ? 1 : lo < -1 ? -1 : lo;
      sg__text_printf(t, "L%.1f %.1f", xof(r, (i + 0.5) * w->col_s), mid - lo * amp);
    }
    sg__text_printf(t, "Z\"/>");
  } else {
    sg__text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" class=\"note\">not rendered</text>", GL + 8,
                    mid + 4);
  }
  sg__text_printf(t, "</svg>\n");
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

static void loudness_chart(sg__text *t, const sg_report *r) {
  const sg_report_wave *w = &r->master;
  const double h = 272, top = 12, ph = 200, dbmax = 3, dbmin = -42;
#define YDB(v) (top + (dbmax - clampd((v), dbmin, dbmax)) / (dbmax - dbmin) * ph)
  svg_open(t, "loudness", NULL, h);
  bands(t, r, top, ph, 0.45);
  gridlines(t, r, top, ph);
  for (int db = 0; db >= (int)dbmin; db -= 6) {
    double y = YDB(db);
    sg__text_printf(t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"hgrid\"/>",
                    GL, y, GL + PW, y);
    sg__text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%d</text>",
                    GL - 6, y + 4, db);
  }
  sg__text_printf(
      t,
      "<text x=\"%.1f\" y=\"%.1f\" class=\"lab\" text-anchor=\"middle\" transform=\"rotate(-90 "
      "%.1f %.1f)\">LUFS / dBTP</text>",
      GL - 44, top + ph / 2, GL - 44, top + ph / 2);
  /* targets: the loudness window and the true-peak ceiling */
  double y1 = YDB(r->lufs_target + r->lufs_tolerance), y2 = YDB(r->lufs_target - r->lufs_tolerance);
  sg__text_printf(t,
                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"tolband\"/>",
                  GL, y1, PW, y2 - y1 > 1 ? y2 - y1 : 1);
  sg__text_printf(t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"target\"/>", GL,
                  YDB(r->lufs_target), GL + PW, YDB(r->lufs_target));
  sg__text_printf(t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"ceiling\"/>",
                  GL, YDB(r->tp_ceiling_dbtp), GL + PW, YDB(r->tp_ceiling_dbtp));
  if (w->n > 0 && w->st_lufs) {
    sg__text_printf(t, "<polyline class=\"tp\" points=\"");
    for (int i = 0; i < w->n; ++i)
      sg__text_printf(t, "%.1f,%.1f ", xof(r, (i + 0.5) * w->col_s), YDB(w->tp_dbtp[i]));
    sg__text_printf(t, "\"/><polyline class=\"st\" points=\"");
    for (int i = 0; i < w->n; ++i)
      sg__text_printf(t, "%.1f,%.1f ", xof(r, (i + 1) * w->col_s), YDB(w->st_lufs[i]));
    sg__text_printf(t, "\"/>");
  } else {
    sg__text_printf(
        t,
        "<text x=\"%.1f\" y=\"%.1f\" class=\"note\">no master: the render stopped before it</text>",
        GL + 8, top + ph / 2);
  }
  time_axis(t, r, top + ph + 26);
  /* legend */
  double lx = GL + PW - 560, ly = top + 14;
  sg__text_printf(t, "<rect x=\"%.1f\" y=\"%.1f\" width=\"560\" height=\"22\" class=\"legend\"/>",
                  lx, ly - 14);
  sg__text_printf(
      t,
      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"st\"/><text x=\"%.1f\" "
      "y=\"%.1f\" class=\"tick\">short-term loudness (3 s)</text>",
      lx + 8, ly - 3, lx + 28, ly - 3, lx + 32, ly + 1);
  sg__text_printf(
      t,
      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"tp\"/><text x=\"%.1f\" "
      "y=\"%.1f\" class=\"tick\">true peak</text>",
      lx + 190, ly - 3, lx + 210, ly - 3, lx + 214, ly + 1);
  sg__text_printf(
      t,
      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"target\"/><text x=\"%.1f\" "
      "y=\"%.1f\" class=\"tick\">target %.1f LUFS &#177;%.1f</text>",
      lx + 280, ly - 3, lx + 300, ly - 3, lx + 304, ly + 1, r->lufs_target, r->lufs_tolerance);
  sg__text_printf(
      t,
      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"ceiling\"/><text x=\"%.1f\" "
      "y=\"%.1f\" class=\"tick\">ceiling %.1f dBTP</text>",
      lx + 430, ly - 3, lx + 450, ly - 3, lx + 454, ly + 1, r->tp_ceiling_dbtp);
  sg__text_printf(t, "</svg>\n");
#undef YDB
}

static void key_chart(sg__text *t, const sg_report *r) {
  const double h = 132;
  svg_open(t, "keys", NULL, h);
  sg__text_printf(t, "<text x=\"%.1f\" y=\"26\" class=\"row\" text-anchor=\"end\">spec key</text>",
                  GL - 8);
  sg__text_printf(t, "<text x=\"%.1f\" y=\"62\" class=\"row\" text-anchor=\"end\">measured</text>",
                  GL - 8);
  for (int i = 0; i < r->n_sections; ++i) {
    const sg_report_section *s = &r->sections[i];
    double a = xof(r, s->start_s), b = xof(r, s->end_s);
    sg__text_printf(
        t,
        "<rect x=\"%.1f\" y=\"8\" width=\"%.1f\" height=\"28\" fill=\"%s\" stroke=\"#888\" "
        "stroke-width=\"0.5\"/>",
        a, b - a, band_colour(i));
    sg__text_printf(t, "<text x=\"%.1f\" y=\"27\" class=\"tick\">", a + 4);
    esc(t, s->key);
    sg__text_printf(t, "</text>");
  }
  for (size_t i = 0; i < r->n_keys; ++i) {
    const sg_report_keywin *k = &r->keys[i];
    double a = xof(r, k->t0), b = xof(r, k->t1);
    sg__text_printf(t,
                    "<rect x=\"%.1f\" y=\"44\" width=\"%.1f\" height=\"28\" class=\"%s\"><title>",
                    a, b - a > 0.5 ? b - a : 0.5, k->agrees ? "kok" : "kbad");
    esc(t, k->est);
    sg__text_printf(t, " (spec: ");
    esc(t, k->expected);
    sg__text_printf(t, ")</title></rect>");
  }
  /* a label where the estimate changes, when there is room for it */
  double last_x = -1e9;
  for (size_t i = 0; i < r->n_keys; ++i) {
    const sg_report_keywin *k = &r->keys[i];
    if (i > 0 && !strcmp(k->est, r->keys[i - 1].est))
      continue;
    double a = xof(r, k->t0);
    if (a - last_x < 70)
      continue;
    sg__text_printf(t, "<text x=\"%.1f\" y=\"63\" class=\"tick\">", a + 3);
    esc(t, k->est);
    sg__text_printf(t, "</text>");
    last_x = a;
  }
  if (r->n_keys == 0)
    sg__text_printf(
        t,
        "<text x=\"%.1f\" y=\"63\" class=\"note\">no key estimate (no master, or no pitched "
        "content)</text>",
        GL + 8);
  time_axis(t, r, 92);
  double lx = GL + PW - 330;
  sg__text_printf(
      t,
      "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"10\" class=\"kok\"/><text x=\"%.1f\" "
      "y=\"%.1f\" class=\"tick\">agrees with the spec</text>",
      lx, h - 12.0, lx + 16, h - 3.0);
  sg__text_printf(
      t,
      "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"10\" class=\"kbad\"/><text x=\"%.1f\" "
      "y=\"%.1f\" class=\"tick\">differs (8 s windows, 1 s hop)</text>",
      lx + 150, h - 12.0, lx + 166, h - 3.0);
  sg__text_printf(t, "</svg>\n");
}

static void grid_chart(sg__text *t, const sg_report *r) {
  if (r->grid_note[0]) {
    sg__text_printf(t, "<p class=\"note\">");
    esc(t, r->grid_note);
    sg__text_printf(t, "</p>\n");
    return;
  }
  if (!r->has_reference || !r->bar_offset_ms) {
    sg__text_printf(
        t,
        "<p class=\"note\">No reference track was used: the grid is the spec's tempo (%.6g BPM, "
        "%d/%d).</p>\n",
        r->bpm, r->meter_num, r->meter_den);
    return;
  }
  sg__text_printf(t, "<p>Reference <code>");
  esc(t, r->reference);
  sg__text_printf(t, "</code>: measured %.3f BPM, drift %.2f ms, onset residual %.2f ms.</p>\n",
                  r->ref_tempo_bpm, r->ref_drift_ms, r->ref_residual_ms);
  const double h = 212, top = 10, ph = 150, lim = 50;
#define YMS(v) (top + (lim - clampd((v), -lim, lim)) / (2 * lim) * ph)
  svg_open(t, "grid", NULL, h);
  bands(t, r, top, ph, 0.45);
  for (int ms = -40; ms <= 40; ms += 20) {
    sg__text_printf(t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"%s\"/>", GL,
                    YMS(ms), GL + PW, YMS(ms), ms ? "hgrid" : "axis");
    sg__text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s%d</text>",
                    GL - 6, YMS(ms) + 4, ms > 0 ? "+" : "", ms);
  }
  sg__text_printf(
      t,
      "<text x=\"%.1f\" y=\"%.1f\" class=\"lab\" text-anchor=\"middle\" transform=\"rotate(-90 "
      "%.1f %.1f)\">onset - downbeat (ms)</text>",
      GL - 44, top + ph / 2, GL - 44, top + ph / 2);
  int shown = 0;
  for (int b = 0; b < r->n_bars; ++b) {
    double v = r->bar_offset_ms[b];
    if (isnan(v))
      continue;
    ++shown;
    sg__text_printf(t,
                    "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" class=\"dot\"><title>bar %d: %+.1f "
                    "ms</title></circle>",
                    xof(r, r->bar_s[b]), YMS(v), b + 1, v);
  }
  if (!shown)
    sg__text_printf(
        t,
        "<text x=\"%.1f\" y=\"%.1f\" class=\"note\">no reference onset within 100 ms of a "
        "downbeat</text>",
        GL + 8, top + ph / 2);
  time_axis(t, r, top + ph + 26);
  sg__text_printf(t, "</svg>\n");
#undef YMS
}

static void note_name(int key, char *out, size_t cap) {
  static const char *n[] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
  snprintf(out, cap, "%s%d", n[((key % 12) + 12) % 12], key / 12 - 1);
}

static void piano_roll(sg__text *t, const sg_report *r, const sg_report_stem *s) {
  int lo = 127, hi = 0;
  for (size_t i = 0; i < s->n_notes; ++i) {
    lo = s->notes[i].key < lo ? s->notes[i].key : lo;
    hi = s->notes[i].key > hi ? s->notes[i].key : hi;
  }
  if (s->n_notes == 0)
    lo = hi = 60;
  double row = clampd(120.0 / (hi - lo + 1), 2, 8);
  const double top = 6, ph = row * (hi - lo + 1), h = ph + top * 2;
  svg_open(t, "roll", s->name, h < 40 ? 40 : h);
  bands(t, r, top, ph, 0.45);
  gridlines(t, r, top, ph);
  sg__text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" class=\"row\" text-anchor=\"end\">", GL - 50,
                  top + ph / 2 + 4);
  esc(t, s->name);
  sg__text_printf(t, "</text>");
  char a[8], b[8];
  if (s->drums) {
    snprintf(a, sizeof a, "%d", lo);
    snprintf(b, sizeof b, "%d", hi);
  } else {
    note_name(lo, a, sizeof a);
    note_name(hi, b, sizeof b);
  }
  sg__text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>",
                  GL - 6, top + 8, b);
  sg__text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>",
                  GL - 6, top + ph, a);
  if (s->n_notes == 0)
    sg__text_printf(t, "<text x=\"%.1f\" y=\"%.1f\" class=\"note\">no note events</text>", GL + 8,
                    top + 14);
  for (size_t i = 0; i < s->n_notes; ++i) {
    const sg_report_note *n = &s->notes[i];
    double x0 = xof(r, n->start_s), x1 = xof(r, n->start_s + n->length_s);
    double y = top + (hi - n->key) * row;
    sg__text_printf(t,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"nt\" "
                    "fill-opacity=\"%.2f\"/>",
                    x0, y, x1 - x0 > 1 ? x1 - x0 : 1, row, 0.35 + 0.65 * clampd(n->velocity, 0, 1));
  }
  sg__text_printf(t, "</svg>\n");
}

static const char *verdict(const sg_gate_result *g) {
  return g->pass ? "PASS" : (g->required ? "FAIL" : "WARN");
}

static void num(sg__text *t, double v, const char *unit) {
  if (isnan(v))
    sg__text_printf(t, "-");
  else if (isinf(v))
    sg__text_printf(t, "%s", v > 0 ? "inf" : "-inf");
  else
    sg__text_printf(t, "%.6g", v);
  if (unit && *unit) {
    sg__text_printf(t, " ");
    esc(t, unit);
  }
}

static void gate_table(sg__text *t, const sg_report *r) {
  size_t nf = 0, nw = 0, np = 0;
  for (size_t i = 0; i < r->gates.n; ++i) {
    const char *v = verdict(&r->gates.v[i]);
    nf += v[0] == 'F';
    nw += v[0] == 'W';
    np += v[0] == 'P';
  }
  sg__text_printf(
      t,
      "<p>%zu rows: <span class=\"vfail\">%zu FAIL</span>, <span class=\"vwarn\">%zu WARN</span>, "
      "<span class=\"vpass\">%zu PASS</span> (failures first, then warnings, then passes; each "
      "group in the order judged).</p>\n",
      r->gates.n, nf, nw, np);
  sg__text_printf(t,
                  "<table "
                  "class=\"gates\"><thead><tr><th>verdict</th><th>step</th><th>check</th><th>stem</"
                  "th><th>measured</th><th>limit</th><th>detail</th></tr></thead><tbody>\n");
  static const char order[3] = {'F', 'W', 'P'};
  for (int o = 0; o < 3; ++o)
    for (size_t i = 0; i < r->gates.n; ++i) {
      const sg_gate_result *g = &r->gates.v[i];
      const char *v = verdict(g);
      if (v[0] != order[o])
        continue;
      sg__text_printf(t, "<tr class=\"%s\"><td>%s</td><td>",
                      o == 0   ? "fail"
                      : o == 1 ? "warn"
                               : "pass",
                      v);
      esc(t, g->step);
      sg__text_printf(t, "</td><td>");
      esc(t, g->check);
      sg__text_printf(t, "</td><td>");
      esc(t, g->stem);
      sg__text_printf(t, "</td><td class=\"%s\">", isnan(g->measured) ? "txt" : "num");
      if (isnan(g->measured))
        esc(t, g->detail);
      else
        num(t, g->measured, g->unit);
      sg__text_printf(t, "</td><td class=\"num\">");
      if (g->cmp == SG_CMP_INFO) {
        sg__text_printf(t, "-");
      } else if (g->cmp == SG_CMP_WITHIN) {
        num(t, g->target, NULL);
        sg__text_printf(t, " &#177; ");
        num(t, g->limit, g->unit);
      } else {
        esc(t, sg_cmp_symbol(g->cmp));
        sg__text_printf(t, " ");
        num(t, g->limit, isnan(g->measured) ? NULL : g->unit);
      }
      sg__text_printf(t, "</td><td class=\"txt\">");
      if (!isnan(g->measured))
        esc(t, g->detail);
      sg__text_printf(t, "</td></tr>\n");
    }
  sg__text_printf(t, "</tbody></table>\n");
}

static const char *CSS =
    "body{font-family:sans-serif;margin:16px 24px;color:#222;background:#fff;max-width:1220px}"
    "h1{font-size:22px;margin:4px 0}h2{font-size:17px;margin:22px 0 6px;border-bottom:1px solid "
    "#ccc;padding-bottom:3px}p{margin:4px 0;font-size:13px}svg{display:block}"
    ".banner{padding:8px 12px;font-weight:bold;font-size:15px;border-radius:3px;margin:8px 0}"
    ".banner.pass{background:#d7f0d2;color:#1d5e17}.banner.fail{background:#f8d0cc;color:#8a1308}"
    "text{font-family:sans-serif}.row{font-size:12px;font-weight:bold;fill:#333}"
    ".tick{font-size:10px;fill:#444}.lab{font-size:11px;fill:#555;font-style:italic}"
    ".sec{font-size:12px;font-weight:bold;fill:#222}.note{font-size:12px;fill:#777;color:#777}"
    ".axis{stroke:#555;stroke-width:1}.bar{stroke:#999;stroke-width:0.4;opacity:.6}"
    ".hgrid{stroke:#bbb;stroke-width:0.5;stroke-dasharray:2 3}.zero{stroke:#999;stroke-width:0.5}"
    ".env{fill:#2b5d8a;stroke:#2b5d8a;stroke-width:0.4}.env.master{fill:#3b3b3b;stroke:#3b3b3b}"
    ".st{fill:none;stroke:#1f5fbf;stroke-width:1.6}.tp{fill:none;stroke:#e08a1e;stroke-width:1}"
    ".target{stroke:#1f5fbf;stroke-width:1.2;stroke-dasharray:6 4}"
    ".ceiling{stroke:#c0281b;stroke-width:1.2;stroke-dasharray:6 4}"
    ".tolband{fill:#1f5fbf;opacity:.12}.legend{fill:#fff;opacity:.85;stroke:#ccc}"
    ".kok{fill:#7cc576}.kbad{fill:#f0a040}.dot{fill:#c0281b}.nt{fill:#2b5d8a}"
    "table.gates{border-collapse:collapse;font-size:12px;width:100%}"
    ".gates th,.gates td{border:1px solid #ddd;padding:2px 6px;text-align:left}"
    ".gates td{white-space:nowrap}.gates td.txt{white-space:normal;overflow-wrap:anywhere}"
    ".gates th{background:#eee}.gates "
    "td.num{text-align:right;white-space:nowrap}"
    "tr.fail td{background:#f8d0cc}tr.warn td{background:#fbeac4}tr.pass td:first-child{color:"
    "#1d5e17}.vfail{color:#8a1308;font-weight:bold}.vwarn{color:#8a5a00;font-weight:bold}"
    ".vpass{color:#1d5e17}code{font-size:12px}";

/* The whole page into t (held, or drained to t's sink as it grows). */
static void page(sg__text *t, const sg_report *r) {
  sg__text_printf(t, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>%s",
                  r->failed ? "FAILED: " : "");
  esc(t, r->title);
  sg__text_printf(t, " - stemgate report</title>\n<style>%s</style></head>\n<body>\n<h1>", CSS);
  esc(t, r->title);
  sg__text_printf(t, "</h1>\n<p>Spec <code>");
  esc(t, r->source);
  sg__text_printf(t,
                  "</code>: %.2f s, %.6g BPM, %d/%d, %d bars, %d sections, %d stems, %u Hz.</p>\n",
                  r->duration_s, r->bpm, r->meter_num, r->meter_den, r->n_bars, r->n_sections,
                  r->n_stems, r->rate);
  if (r->tempo_map[0]) { /* a song whose tempo changes: the first tempo alone would mislead */
    sg__text_printf(t, "<p>Tempo map: ");
    esc(t, r->tempo_map);
    sg__text_printf(t, ".</p>\n");
  }
  if (r->failed) {
    sg__text_printf(t, "<div class=\"banner fail\">RENDER FAILED - nothing was delivered. ");
    esc(t, r->failure);
    sg__text_printf(t, "</div>\n");
  } else {
    sg__text_printf(
        t, "<div class=\"banner pass\">PASSED: every required gate holds (%zu rows).</div>\n",
        r->gates.n);
  }
  sg__text_printf(
      t,
      "<h2>Sections and waveforms</h2>\n<p>Min/max envelope of each delivered stem and of the "
      "master (%d columns), over the section map.</p>\n",
      r->master.n > 0 ? r->master.n : SG_REPORT_COLS);
  section_map(t, r);
  for (int i = 0; i < r->n_stems; ++i)
    wave_row(t, r, r->stems[i].name, r->stems[i].instrument, &r->stems[i].wave, 0);
  wave_row(t, r, "Master", "", &r->master, 1);
  sg__text_printf(
      t,
      "<h2>Master loudness and true peak</h2>\n<p>Short-term loudness (EBU R128, 3 s window) and "
      "true peak (ITU-R BS.1770-4) over time, against the spec's target and ceiling.</p>\n");
  loudness_chart(t, r);
  sg__text_printf(
      t, "<h2>Key</h2>\n<p>The master's key per analysis window (Temperley profile) against the "
         "spec's key of each section.</p>\n");
  key_chart(t, r);
  sg__text_printf(t, "<h2>Tempo and beat grid</h2>\n");
  grid_chart(t, r);
  sg__text_printf(
      t, "<h2>MIDI piano roll</h2>\n<p>The note events each stem was rendered from (the written "
         "MIDI files).</p>\n");
  for (int i = 0; i < r->n_stems; ++i)
    piano_roll(t, r, &r->stems[i]);
  sg__text_printf(t, "<h2>Gates</h2>\n");
  gate_table(t, r);
  sg__text_printf(t, "<p class=\"note\">Written by stemgate %s.</p>\n</body></html>\n",
                  sg_version());
}

char *sg_report_html(const sg_report *r) {
  sg__text t = {0};
  page(&t, r);
  if (t.oom) {
    free(t.s);
    return NULL;
  }
  return t.s;
}

sg_status sg_report_write_html(const sg_report *r, const char *path, sg_diag *d) {
  char tmp[SG_MAX_PATH + 16];
  snprintf(tmp, sizeof tmp, "%s.partial", path);
  FILE *f = fopen(tmp, "wb");
  if (!f)
    return sg_diag_fail(d, SG_E_IO, "cannot create '%s': %s", tmp, strerror(errno));
  /* Streamed: the page grows with the song's notes (~6 MB for an hour), the buffer does not. */
  sg__text t = {0};
  t.sink = f;
  page(&t, r);
  sg__text_flush(&t);
  int ok = !t.oom;
  free(t.s);
  ok &= fclose(f) == 0;
  if (!ok || rename(tmp, path) != 0) {
    remove(tmp);
    return sg_diag_fail(d, SG_E_IO, "cannot write '%s' (out of memory or disk full?)", path);
  }
  return SG_OK;
}
