/* stemgate verify: every file of a package streamed once through the analysis module, then one
 * gate row per check (see include/stemgate/verify.h for the list and the methods). */
#include "verify_internal.h"

#include "stemgate/analysis.h"
#include "stemgate/dsp.h"
#include "stemgate/theory.h"
#include "stemgate/timing.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define BLOCK_FRAMES 65536
/* More channels than this in one file is refused (the meter measures up to 8; a channel
 * count is also what sizes the read buffer). */
#define SG_VERIFY_MAX_CHANNELS 64

void sg_verify_options_init(sg_verify_options *o) {
  memset(o, 0, sizeof *o);
  o->duration_tolerance_s = sg_check_get(SG_CHECK_DURATION)->limit;
  o->drum_similarity_min = sg_check_get(SG_CHECK_DRUM_SIMILARITY)->limit;
  o->max_seconds = 3600.0;
}

const char *sg_verify_match_name(sg_verify_match m) {
  switch (m) {
  case SG_MATCH_NAMING:
    return "naming";
  case SG_MATCH_COMMON:
    return "common name";
  default:
    return "missing";
  }
}

void sg_verify_result_init(sg_verify_result *r) {
  memset(r, 0, sizeof *r);
  sg_gate_report_init(&r->report);
}

void sg_verify_result_free(sg_verify_result *r) {
  if (!r)
    return;
  sg_gate_report_free(&r->report);
  memset(r, 0, sizeof *r);
}

/* ---- rows ------------------------------------------------------------------------------------ */

/* Appends rows and remembers the first failure for the caller's diagnostic. */
typedef struct rows {
  sg_gate_report *rep;
  sg_diag first;
  int have_first;
  sg_status err; /* first allocation failure */
} rows;

/* Keeps the first failure for the caller's diagnostic and the first allocation failure. */
static void note(rows *w, sg_status st, const sg_diag *d) {
  if (st == SG_E_GATE && !w->have_first) {
    w->first = *d;
    w->have_first = 1;
  } else if (st != SG_OK && st != SG_E_GATE && w->err == SG_OK) {
    w->err = st;
  }
}

static void row(rows *w, sg_check_id id, const char *stem, double measured, double limit,
                double target, const char *detail, sg_severity sev) {
  sg_diag d;
  sg_diag_clear(&d);
  note(w, sg_gate_row(w->rep, id, SG_VERIFY_STEP, stem, measured, limit, target, detail, sev, &d),
       &d);
}

/* A group of shared checks (include/stemgate/gate.h) is called through this. */
#define SHARED(w, call)                                                                            \
  do {                                                                                             \
    sg_diag d_;                                                                                    \
    sg_diag_clear(&d_);                                                                            \
    sg_status st_ = call;                                                                          \
    note(w, st_, &d_);                                                                             \
  } while (0)

/* ---- one streaming pass per file ------------------------------------------------------------- */

typedef struct analysed {
  int ok;        /* decoded completely */
  sg_status err; /* why not            */
  char why[SG_DIAG_TEXT];
  sg_audio_info info;
  const sg_meter *meter; /* own, or lent; NULL when the channel count is beyond the meter */
  sg_meter *own_meter;
  sg_meter_result mr;
  sg_features *feat; /* master only                                                       */
  sg__mono *mono;    /* mean of the channels for the alignments, when asked               */
  int feat_in_mono;  /* feat is mono->onset (computed on the alignment copy), not owned   */
  /* The caller's analysis of this entry's bytes (sg_verify_options.lender), proved by the
   * entry's SHA-256 before it was taken: meter and features are the loan's, the mono reads the
   * entry itself (sg__mono_open_entry). Given back by analysed_free. */
  const sg_features *lent;
  const sg_verify_lender *lender;
  sg_verify_loan loan;
  int has_loan;
} analysed;

/* The master's features: its own, or the lent ones. */
static const sg_features *feat_of(const analysed *a) { return a->lent ? a->lent : a->feat; }

static void analysed_free(analysed *a) {
  sg_meter_free(a->own_meter);
  if (!a->feat_in_mono)
    sg_features_free(a->feat);
  if (a->mono) {
    sg__mono_close(a->mono);
    free(a->mono);
  }
  if (a->has_loan && a->lender->give_back)
    a->lender->give_back(a->lender->user, &a->loan);
  memset(a, 0, sizeof *a);
}

static void fail_read(analysed *a, sg_status st, const sg_diag *d, const char *fallback) {
  a->ok = 0;
  a->err = st;
  snprintf(a->why, sizeof a->why, "%s", d && d->message[0] ? d->message : fallback);
}

static void keep_pass(sg__vpkg *p, size_t i, sg__vaudio *va, int hash, const char *known_sha,
                      unsigned meter_flags, const analysed *a, sg_package_entry_pass *pass) {
  if (!pass)
    return;
  memset(pass, 0, sizeof *pass);
  snprintf(pass->name, sizeof pass->name, "%s", p->names[i]);
  if (known_sha) { /* hashed before (lend_entry) */
    snprintf(pass->sha256, sizeof pass->sha256, "%s", known_sha);
    pass->sha_status = SG_OK;
    hash = 1;
  } else if (hash) {
    sg_diag hd;
    sg_diag_clear(&hd);
    pass->sha_status = sg__vaudio_sha256(va, pass->sha256, &hd);
    if (pass->sha_status != SG_OK) {
      pass->sha256[0] = 0;
      snprintf(pass->error, sizeof pass->error, "%s", hd.message);
    }
  } else {
    pass->sha_status = SG_E_NOTFOUND; /* not hashed: the package check reads it itself */
  }
  pass->hashed = hash;
  if ((meter_flags & SG_METER_ALL) == SG_METER_ALL && a->meter) {
    pass->metered = 1;
    pass->meter_status = a->ok ? SG_OK : a->err;
    if (a->ok)
      pass->mr = a->mr;
    else
      snprintf(pass->meter_error, sizeof pass->meter_error, "%s", a->why);
  }
}

/* Streams entry i once: the meter (meter_flags: true peak and loudness), the features (a
 * master's tempo and keys) and the mono copy when asked; with pass, a zip entry's bytes are
 * hashed on the same read (unless known_sha already holds its hash) and what was measured is
 * kept there (sg_package_entry_pass). zr: the calling thread's own reader of the zip (NULL:
 * p's). */
static void analyse_entry(sg__vpkg *p, sg_zip_reader *zr, size_t i, unsigned meter_flags,
                          int want_features, int want_mono, double max_seconds,
                          const char *known_sha, sg_package_entry_pass *pass, analysed *a) {
  memset(a, 0, sizeof *a);
  sg_diag d;
  sg_diag_clear(&d);
  sg__vaudio va;
  const int hash = pass && p->is_zip && !known_sha;
  sg_status st = sg__vpkg_open_audio_in(p, zr, i, hash, &va, &a->info, &d);
  if (st != SG_OK) {
    fail_read(a, st, &d, "cannot open audio");
    return;
  }
  sg_audio_reader *ar = sg__vaudio_reader(&va);
  const sg_audio_info *in = &a->info;
  float *buf = NULL, *mbuf = NULL;
  if (in->channels == 0 || in->rate == 0) {
    fail_read(a, SG_E_FORMAT, NULL, "header declares no channels or no sample rate");
    goto done;
  }
  if (in->channels > SG_VERIFY_MAX_CHANNELS) { /* bounds the read buffer of a lying header */
    char msg[160];
    snprintf(msg, sizeof msg, "header declares %u channels; at most %d are analysed", in->channels,
             SG_VERIFY_MAX_CHANNELS);
    fail_read(a, SG_E_LIMIT, NULL, msg);
    goto done;
  }
  if ((double)in->frames > max_seconds * (double)in->rate) {
    char msg[160];
    snprintf(msg, sizeof msg, "header declares %.1f s, more than the %.0f s analysed",
             (double)in->frames / in->rate, max_seconds);
    fail_read(a, SG_E_LIMIT, NULL, msg);
    goto done;
  }
  if (in->channels <= SG_METER_MAX_CHANNELS) {
    st = sg_meter_create(&a->own_meter, in->channels, in->rate, meter_flags, &d);
    if (st != SG_OK) {
      fail_read(a, st, &d, "cannot create meter");
      goto done;
    }
    a->meter = a->own_meter;
  }
  /* With a mono copy of one or two channels, the features are taken on it (the same signal
   * sg_features_add would derive, see verify_internal.h): one onset STFT instead of two. */
  const int share = want_features && want_mono && in->frames > 0 && in->channels <= 2;
  if (want_features && !share) {
    st = sg_features_create(&a->feat, in->channels, in->rate, NULL, &d);
    if (st != SG_OK) {
      fail_read(a, st, &d, "cannot create feature extractor");
      goto done;
    }
  }
  /* A stored zip entry is read again by window for the alignments (sg__mono_attach_entry), so
   * its mono needs no copy on disk. */
  const sg_zip_entry *ze = p->is_zip ? sg_zip_reader_entry(zr ? zr : p->zip, i) : NULL;
  const int from_entry = ze && !ze->deflated;
  if (want_mono && in->frames > 0) {
    if (!(a->mono = malloc(sizeof *a->mono)) || !(mbuf = malloc(BLOCK_FRAMES * sizeof *mbuf))) {
      free(a->mono);
      a->mono = NULL;
      fail_read(a, SG_E_NOMEM, NULL, "out of memory for the alignment copy");
      goto done;
    }
    const unsigned mf = share ? SG_FEAT_ALL : 0;
    if ((st = sg__mono_open(a->mono, in->rate, mf, !from_entry, &d)) != SG_OK) {
      free(a->mono);
      a->mono = NULL;
      fail_read(a, st, &d, "cannot create the alignment copy");
      goto done;
    }
  }
  buf = malloc((size_t)BLOCK_FRAMES * in->channels * sizeof *buf);
  if (!buf) {
    fail_read(a, SG_E_NOMEM, NULL, "out of memory");
    goto done;
  }
  int64_t total = 0;
  for (;;) {
    size_t got = 0;
    st = sg_audio_reader_read(ar, buf, BLOCK_FRAMES, &got, &d);
    if (st != SG_OK) {
      fail_read(a, st, &d, "read error");
      goto done;
    }
    if (got == 0)
      break;
    if (total + (int64_t)got > in->frames) { /* more data than declared: stop at the header */
      got = (size_t)(in->frames - total);
      if (got == 0)
        break;
    }
    if (a->own_meter && (st = sg_meter_add(a->own_meter, buf, got)) != SG_OK) {
      fail_read(a, st, NULL, "meter failed");
      goto done;
    }
    if (a->feat && (st = sg_features_add(a->feat, buf, got)) != SG_OK) {
      fail_read(a, st, NULL, "feature extraction failed");
      goto done;
    }
    if (a->mono) {
      sg__mix_mono(buf, got, in->channels, mbuf);
      if ((st = sg__mono_add(a->mono, mbuf, got, &d)) != SG_OK) {
        fail_read(a, st, &d, "cannot write the alignment copy");
        goto done;
      }
    }
    total += (int64_t)got;
  }
  if (total != in->frames) {
    char msg[200];
    snprintf(msg, sizeof msg, "truncated: the header declares %lld frames, the data holds %lld",
             (long long)in->frames, (long long)total);
    fail_read(a, SG_E_FORMAT, NULL, msg);
    goto done;
  }
  if (a->feat && (st = sg_features_finish(a->feat)) != SG_OK) {
    fail_read(a, st, NULL, "feature extraction failed");
    goto done;
  }
  if (a->mono && (st = sg__mono_finish(a->mono, &d)) != SG_OK) {
    fail_read(a, st, &d, "cannot write the alignment copy");
    goto done;
  }
  if (a->mono && from_entry &&
      (st = sg__mono_attach_entry(a->mono, p->path, i, in->channels, &d)) != SG_OK) {
    fail_read(a, st, &d, "cannot read the entry again for the alignments");
    goto done;
  }
  if (share) {
    a->feat = a->mono->onset;
    a->feat_in_mono = 1;
  } else if (a->mono) {
    /* A stem's copy serves only the alignments, which read the onset envelope: its low-band
     * envelope (2.7 MB an hour) need not wait with it for the rows. */
    sg_features_release(a->mono->onset, SG_FEAT_ONSET);
  }
  if (a->meter)
    sg_meter_result_get(a->meter, &a->mr);
  a->ok = 1;
done:
  free(buf);
  free(mbuf);
  keep_pass(p, i, &va, hash, known_sha, meter_flags, a, pass);
  sg__vaudio_close(&va);
}

/* ---- the reference -----------------------------------------------------------------------------
 */

/* Reads the reference as mono at rate (resampled when it differs) into *out (a new sg__mono). */
static sg_status read_reference(const char *path, unsigned rate, double max_seconds,
                                double bar_seconds, sg__mono **out, sg_diag *d) {
  *out = NULL;
  sg_audio_info info;
  sg_audio_reader *ar = NULL;
  sg_status st = sg_audio_reader_open(&ar, path, &info, d);
  if (st != SG_OK)
    return st;
  if (info.channels == 0 || info.rate == 0 || (double)info.frames > max_seconds * info.rate) {
    sg_audio_reader_close(ar);
    return sg_diag_fail(d, SG_E_LIMIT, "reference '%s': no channels or longer than %.0f s", path,
                        max_seconds);
  }
  /* The rules render's reference step applies: rate, codec, length, finite samples. */
  if ((st = sg_audio_check_reference(&info, bar_seconds, path, d)) != SG_OK) {
    sg_audio_reader_close(ar);
    return st;
  }
  sg_resampler *rs = NULL;
  if (info.rate != rate && (st = sg_resampler_create(&rs, 1, info.rate, rate, d)) != SG_OK) {
    sg_audio_reader_close(ar);
    return st;
  }
  size_t cap = (size_t)((double)info.frames * rate / info.rate) + 4096;
  sg__mono *mono = calloc(1, sizeof *mono);
  float *buf = malloc((size_t)BLOCK_FRAMES * info.channels * sizeof *buf);
  float *m1 = malloc((size_t)BLOCK_FRAMES * sizeof *m1);
  float *ob = malloc((size_t)BLOCK_FRAMES * sizeof *ob);
  size_t len = 0;
  int opened = 0;
  int64_t read_frames = 0;
  if (!mono || !buf || !m1 || !ob) {
    st = sg_diag_fail(d, SG_E_NOMEM, "out of memory reading the reference");
    goto done;
  }
  if ((st = sg__mono_open(mono, rate, 0, 1, d)) != SG_OK)
    goto done;
  opened = 1;
  for (;;) {
    size_t got = 0;
    if ((st = sg_audio_reader_read(ar, buf, BLOCK_FRAMES, &got, d)) != SG_OK ||
        (st = sg_audio_check_finite(buf, got, info.channels, read_frames, path, d)) != SG_OK)
      goto done;
    read_frames += (int64_t)got;
    int last = got == 0;
    for (size_t k = 0; k < got; ++k) {
      double s = 0;
      for (unsigned c = 0; c < info.channels; ++c)
        s += buf[k * info.channels + c];
      m1[k] = (float)(s / info.channels);
    }
    if (!rs) {
      size_t take = got < cap - len ? got : cap - len;
      if ((st = sg__mono_add(mono, m1, take, d)) != SG_OK)
        goto done;
      len += take;
    } else {
      /* Feed the block; at the end, flush the filter until it gives nothing more. */
      size_t off = 0;
      while (len < cap) {
        size_t used = 0, produced = 0, room = cap - len < BLOCK_FRAMES ? cap - len : BLOCK_FRAMES;
        if ((st = sg_resampler_process(rs, m1 + off, got - off, ob, room, last, &used, &produced,
                                       d)) != SG_OK ||
            (st = sg__mono_add(mono, ob, produced, d)) != SG_OK)
          goto done;
        off += used;
        len += produced;
        if (off >= got && (!last || produced == 0))
          break;
      }
    }
    if (last || len >= cap)
      break;
  }
  if ((st = sg__mono_finish(mono, d)) != SG_OK)
    goto done;
  *out = mono;
  mono = NULL;
done:
  if (mono && opened)
    sg__mono_close(mono);
  free(mono);
  free(buf);
  free(m1);
  free(ob);
  sg_resampler_destroy(rs);
  sg_audio_reader_close(ar);
  return st;
}

/* ---- file matching -----------------------------------------------------------------------------
 */

static void add_required(sg_verify_result *res, const char *stem, int master, int optional) {
  if (res->n_files >= SG_VERIFY_MAX_FILES)
    return;
  for (int i = 0; i < res->n_files; ++i)
    if (!strcmp(res->files[i].stem, stem))
      return;
  sg_verify_file *f = &res->files[res->n_files++];
  memset(f, 0, sizeof *f);
  snprintf(f->stem, sizeof f->stem, "%s", stem);
  f->is_master = master;
  f->optional = optional;
}

/* Fills res->files with the required list and entry indices in idx (SIZE_MAX: missing). */
static void match_files(const sg_song *s, const sg__vpkg *p, sg_verify_result *res, size_t *idx) {
  /* A delivery block's stems list says which files must be there; the others are looked for
   * and checked when delivered (a client who supplied the drums gets none back). */
  add_required(res, "Master", 1, 0);
  for (int i = 0; i < s->n_stems; ++i)
    add_required(res, s->stems[i].name.s, 0, !sg_delivery_requires(s, s->stems[i].name.s));
  if (s->drums.source != SG_DRUMS_NONE)
    add_required(res, "Drums", 0, !sg_delivery_requires(s, "Drums"));
  unsigned char *used = calloc(p->n ? p->n : 1, 1);
  for (int f = 0; f < res->n_files; ++f)
    idx[f] = SIZE_MAX;
  /* Pass 1: the spec's naming template. */
  for (int f = 0; f < res->n_files; ++f) {
    char pat[SG_MAX_PATH];
    sg_package_file_name(s, res->files[f].stem, -1, pat, sizeof pat);
    for (size_t e = 0; e < p->n; ++e)
      if (p->names[e][0] && !(used && used[e]) && sg__name_match(pat, p->names[e])) {
        idx[f] = e;
        res->files[f].match = SG_MATCH_NAMING;
        if (used)
          used[e] = 1;
        break;
      }
  }
  /* Pass 2: common names, for what the template did not find. */
  for (int f = 0; f < res->n_files; ++f) {
    if (idx[f] != SIZE_MAX)
      continue;
    for (size_t e = 0; e < p->n; ++e)
      if (p->names[e][0] && !(used && used[e]) &&
          sg__common_match(res->files[f].stem, res->files[f].is_master, s->slug, p->names[e])) {
        idx[f] = e;
        res->files[f].match = SG_MATCH_COMMON;
        if (used)
          used[e] = 1;
        break;
      }
  }
  for (int f = 0; f < res->n_files; ++f)
    if (idx[f] != SIZE_MAX)
      snprintf(res->files[f].entry, sizeof res->files[f].entry, "%s", p->names[idx[f]]);
  free(used);
}

/* ---- checks ------------------------------------------------------------------------------------
 */

static const sg_stem_spec *stem_spec(const sg_song *s, const char *name) {
  int i = sg_song_stem_index(s, name);
  return i >= 0 ? &s->stems[i] : NULL;
}

static void check_file_basics(rows *w, const sg_song *s, const sg_verify_file *f,
                              const analysed *a) {
  SHARED(w, sg_check_file_format(w->rep, SG_VERIFY_STEP, f->stem, s, &a->info, &d_));
  if (a->meter)
    SHARED(w, sg_check_file_content(w->rep, SG_VERIFY_STEP, f->stem, s, a->meter, 0, &d_));
}

/* Onset-envelope similarity of a file with the reference (NAN when it cannot be aligned). */
static double similarity_with(const sg_song *s, sg__mono *r, const analysed *a) {
  sg_align_config ac;
  sg_align_config_init(&ac);
  ac.window_s = fmin(ac.window_s, fmax(2.0, (double)a->mono->frames / a->info.rate / 4.0));
  if (s->tempo.num > 0 && s->tempo.den > 0)
    ac.max_lag_s = fmin(ac.max_lag_s, 0.45 * 60.0 * (double)s->tempo.den / (double)s->tempo.num);
  sg_align_result al;
  sg_align_input ir = sg__mono_input(r), ia = sg__mono_input(a->mono);
  return sg_align_inputs(&ir, &ia, &ac, 0, &al, NULL, NULL) == SG_OK ? al.similarity : NAN;
}

/* Offset and drift of b against a (b later when > 0), from both alignments of the analysis
 * module: the start/end windows with sample-domain refinement (precise, but the end window only
 * searches +-0.45 beat around 0) and the drift-following track (any drift, envelope
 * resolution). The precise drift is kept when the track agrees with it within half the limit;
 * otherwise the end window lost the file (a drift beyond its search, or a wrong beat) and the
 * track's line gives the drift. The similarity is the better of the global and the
 * drift-compensated correlation, so a stretched file is still recognised as holding a. */
typedef struct sync_fit {
  int ok;
  int tracked;     /* 1: drift from the track */
  double offset_s; /* at start_s */
  double drift_s;  /* over span_s */
  double ratio;    /* s per s */
  double start_s, span_s;
  double similarity;
  size_t windows;
  char why[SG_DIAG_TEXT];
} sync_fit;

static void measure_sync(const sg_song *s, sg__mono *a, sg__mono *b, unsigned rate, int refine,
                         sync_fit *f) {
  memset(f, 0, sizeof *f);
  sg_align_config ac;
  sg_align_config_init(&ac);
  double dur = (double)a->frames / rate;
  /* Start and end windows must not overlap, or the drift has no baseline. */
  ac.window_s = fmin(ac.window_s, fmax(2.0, dur / 4.0));
  /* Both files share the spec's grid: search less than half a beat either way. Onset envelopes
   * of a steady groove correlate almost as well one beat off as on time, so a wider search can
   * lock to the wrong beat; whole-beat offsets are outside what these rows see. */
  if (s->tempo.num > 0 && s->tempo.den > 0)
    ac.max_lag_s = fmin(ac.max_lag_s, 0.45 * 60.0 * (double)s->tempo.den / (double)s->tempo.num);
  if (!refine)
    ac.refine_s = 0;
  sg_align_result al;
  sg_align_track tr;
  sg_diag d;
  sg_diag_clear(&d);
  sg_align_input ia = sg__mono_input(a), ib = sg__mono_input(b);
  sg_status st = sg_align_inputs(&ia, &ib, &ac, 4.0, &al, &tr, &d);
  if (st != SG_OK && !(al.similarity > 0)) {
    snprintf(f->why, sizeof f->why, "%s", d.message[0] ? d.message : sg_status_name(st));
    return;
  }
  int track_ok = st == SG_OK;
  f->ok = 1;
  f->offset_s = al.offset_s;
  f->start_s = al.start_time_s;
  f->similarity = fmax(al.similarity, track_ok ? tr.similarity : 0);
  f->windows = tr.n_used;
  double span = al.end_time_s - al.start_time_s;
  int agree =
      al.has_end && track_ok && fabs(al.drift_s - tr.ratio * span) <= 0.5e-3 * s->limits.sync_ms;
  if (al.has_end && (agree || !track_ok)) {
    f->drift_s = al.drift_s;
    f->ratio = al.drift_ratio;
    f->span_s = span;
  } else if (track_ok) {
    f->tracked = 1;
    f->ratio = tr.ratio;
    f->span_s = tr.last_time_s - tr.first_time_s;
    f->drift_s = tr.drift_s;
  }
}

/* drums: the package's Drums stem decoded with a mono copy, or NULL. When there is one, the
 * drums' own similarity with the reference decides drum_similarity: the master also holds
 * every other stem, which lowers its correlation with the drums alone. *mr receives the
 * master's fit against the reference (ok = 0 when it does not hold the reference). */
static void check_reference(rows *w, const sg_song *s, const sg_verify_options *o, const char *ref,
                            const analysed *m, const analysed *drums, sync_fit *mr,
                            sg_status *fatal) {
  sg__mono *r = NULL;
  sg_diag d;
  sg_diag_clear(&d);
  memset(mr, 0, sizeof *mr);
  sg_status st = read_reference(ref, m->info.rate, o->max_seconds, sg_song_bar_seconds(s), &r, &d);
  if (st != SG_OK) {
    char msg[SG_DIAG_TEXT + 64];
    snprintf(msg, sizeof msg, "cannot read the reference: %s", d.message);
    row(w, SG_CHECK_REFERENCE, "reference", NAN, SG_LIMIT_DEFAULT, 0, msg, SG_SEV_FAIL);
    if (*fatal == SG_OK)
      *fatal = st == SG_E_NOMEM ? st : SG_E_IO;
    return;
  }
  sync_fit f;
  if (m->mono) {
    measure_sync(s, r, m->mono, m->info.rate, 1, &f);
  } else {
    memset(&f, 0, sizeof f);
    snprintf(f.why, sizeof f.why, "the master holds no samples");
  }
  double drum_sim = drums && drums->ok && drums->mono && drums->info.rate == m->info.rate
                        ? similarity_with(s, r, drums)
                        : NAN;
  sg__mono_close(r);
  free(r);
  double lim = s->limits.sync_ms;
  if (!f.ok) {
    char msg[SG_DIAG_TEXT + 64];
    snprintf(msg, sizeof msg, "no alignment: %s", f.why);
    row(w, SG_CHECK_SYNC_OFFSET, "Master", NAN, lim, 0, msg, SG_SEV_FAIL);
    row(w, SG_CHECK_SYNC_DRIFT, "Master", NAN, lim, 0, msg, SG_SEV_FAIL);
    row(w, SG_CHECK_DRUM_SIMILARITY, "Master", NAN, o->drum_similarity_min, 0, msg, SG_SEV_FAIL);
    return;
  }
  /* When the master does not hold the reference's drums, an offset is not meaningful: the
   * sync rows are then advisory so the one real failure (drum_similarity) stands alone.
   * The Drums stem, when delivered, says whether the package holds the reference (the mix's
   * correlation is lowered by every other stem: 0.67 for stemgate's own minimal example). */
  int same = (!isnan(drum_sim) ? drum_sim : f.similarity) >= o->drum_similarity_min;
  if (same)
    *mr = f;
  const char *why = same ? "" : "; not meaningful: the master does not match the reference";
  char detail[300];
  snprintf(detail, sizeof detail, "at %.1f s; master later when > 0%s", f.start_s, why);
  const sg_severity sev = same ? SG_SEV_FAIL : SG_SEV_WARN;
  row(w, SG_CHECK_SYNC_OFFSET, "Master", f.offset_s * 1000.0, lim, 0, detail, sev);
  if (f.span_s > 0)
    snprintf(detail, sizeof detail, "over %.1f s from %.1f s: %+.0f ppm%s%s", f.span_s, f.start_s,
             f.ratio * 1e6, f.tracked ? " (followed over windows of 4 s)" : "", why);
  else
    snprintf(detail, sizeof detail, "too short for a separate end window%s", why);
  row(w, SG_CHECK_SYNC_DRIFT, "Master", f.drift_s * 1000.0, lim, 0, detail, sev);
  if (!isnan(drum_sim)) {
    snprintf(detail, sizeof detail,
             "the Drums stem's onset-envelope correlation with the reference");
    row(w, SG_CHECK_DRUM_SIMILARITY, "Drums", drum_sim, o->drum_similarity_min, 0, detail,
        SG_SEV_FAIL);
    snprintf(detail, sizeof detail,
             "the whole mix, drift compensated (advisory: the other stems "
             "lower it)");
    row(w, SG_CHECK_DRUM_SIMILARITY, "Master", f.similarity, o->drum_similarity_min, 0, detail,
        SG_SEV_WARN);
  } else {
    snprintf(detail, sizeof detail,
             "onset-envelope correlation with the reference, drift compensated");
    row(w, SG_CHECK_DRUM_SIMILARITY, "Master", f.similarity, o->drum_similarity_min, 0, detail,
        SG_SEV_FAIL);
  }
}

/* A stem below this correlation with the master (after drift compensation) is not clearly
 * found in it (a pad without attacks, a stem the master chain hides): its sync rows are
 * information only. The tests measure >= 0.9 for stems of their own masters. */
#define STEM_SIMILARITY_MIN 0.5

/* Every stem in sync: a stem is part of the master, so its lag and drift against the master are
 * measurable by the same alignment. With a reference the master holds, the stem is judged
 * against the reference through the master (stem->master plus master->reference), so a master
 * that is itself late fails once, on its own rows. */
static void check_stem_sync(rows *w, const sg_song *s, const sg_verify_file *vf, const analysed *a,
                            const analysed *m, const sync_fit *mr) {
  if (!a->mono || !m->mono || a->info.rate != m->info.rate)
    return;
  sync_fit f;
  /* Onset-envelope resolution only (~1 ms after interpolation): the sample-domain refinement
   * compares the stem's waveform with the whole mix, whose amplitude envelope other stems
   * dominate, and then locks a tonal stem one period off (a 98 Hz bass: 10.2 ms). */
  measure_sync(s, a->mono, m->mono, a->info.rate, 0, &f);
  double lim = s->limits.sync_ms;
  char detail[300];
  if (!f.ok) {
    char msg[SG_DIAG_TEXT + 64];
    snprintf(msg, sizeof msg, "no onsets to align with the master (%s): not judged", f.why);
    sg_diag dd;
    sg_diag_clear(&dd);
    note(w,
         sg_gate_row_text(w->rep, SG_CHECK_SYNC, SG_VERIFY_STEP, vf->stem, msg,
                          "onsets shared with the master", 1, SG_SEV_INFO, &dd),
         &dd);
    return;
  }
  /* The offset where the stem is loudest, in the sample domain; the drift from the envelopes. */
  /* Only without drift: a waveform drifting by more than ~0.5 ms across the 2-s window smears
   * its correlation peak, and a tonal stem then locks a period off. */
  double at_s = 0;
  if (fabs(f.ratio) * 2.0 < 0.0005) {
    /* Two hypotheses: the envelopes' lag, and no lag at all (a stem of the same render); the
     * better waveform correlation wins. Echoes and long releases can pull the envelope
     * estimate a few ms off, beyond the +-8 ms searched around it. */
    double pk_c, pk_0, at_0;
    const unsigned rate = a->info.rate;
    const int64_t na = a->mono->frames, nb = m->mono->frames;
    int64_t win = sg__sync_window(a->meter, na, nb, rate, f.offset_s);
    double lag_c = sg__waveform_offset(a->mono, m->mono, rate, f.offset_s, win, &at_s, &pk_c);
    if (fabs(f.offset_s) > 0.004) {
      /* The same window when there is one (valid at any smaller lag). */
      int64_t win0 = win >= 0 ? win : sg__sync_window(a->meter, na, nb, rate, 0);
      double lag_0 = sg__waveform_offset(a->mono, m->mono, rate, 0, win0, &at_0, &pk_0);
      if (pk_0 > pk_c) {
        lag_c = lag_0;
        at_s = at_0;
      }
    }
    f.offset_s = lag_c;
  }
  if (at_s > 0)
    f.start_s = at_s;
  /* b = master, a = stem: the stem is later when the master is earlier. */
  double off = -f.offset_s, ratio = -f.ratio, drift = -f.drift_s;
  const char *against = "the master";
  char via[160] = "";
  if (mr && mr->ok) {
    /* The master's offset where the stem's was measured (the master may drift). */
    off += mr->offset_s + mr->ratio * (f.start_s - mr->start_s);
    ratio += mr->ratio;
    drift = ratio * f.span_s;
    against = "the reference";
    snprintf(via, sizeof via, " (stem->master %+.1f ms, master->reference %+.1f ms)",
             -f.offset_s * 1000.0, (mr->offset_s + mr->ratio * (f.start_s - mr->start_s)) * 1000.0);
  }
  int found = f.similarity >= STEM_SIMILARITY_MIN;
  /* A stem hardly found in the master (a pad, a flute under reverb) has no meaningful lag: the
   * rows are reported without a verdict rather than warning on every such render. */
  const sg_severity sev = found ? SG_SEV_FAIL : SG_SEV_INFO;
  snprintf(detail, sizeof detail, "against %s at %.1f s, stem later when > 0%s; correlation %.2f%s",
           against, f.start_s, via, f.similarity, found ? "" : ": weak, not judged");
  row(w, SG_CHECK_SYNC_OFFSET, vf->stem, off * 1000.0, lim, 0, detail, sev);
  if (f.span_s > 0)
    snprintf(detail, sizeof detail, "against %s over %.1f s: %+.0f ppm%s%s", against, f.span_s,
             ratio * 1e6, f.tracked ? " (followed over windows of 4 s)" : "",
             found ? "" : "; weak correlation, not judged");
  else
    snprintf(detail, sizeof detail, "against %s: too short for a separate end window", against);
  row(w, SG_CHECK_SYNC_DRIFT, vf->stem, drift * 1000.0, lim, 0, detail, sev);
}

static void check_master(rows *w, const sg_song *s, const sg_timeline *tl,
                         const sg_verify_options *o, const char *ref, analysed *m,
                         const analysed *drums, sync_fit *mr, sg_status *fatal) {
  SHARED(w, sg_check_master_duration(w->rep, SG_VERIFY_STEP, s, tl, m->info.frames, m->info.rate,
                                     o->duration_tolerance_s, &d_));
  if (m->meter)
    SHARED(w, sg_check_master_level(w->rep, SG_VERIFY_STEP, s, tl, m->meter, m->info.rate, &d_));
  double bpm = (double)s->tempo.num / (double)s->tempo.den;
  SHARED(w, sg_check_master_tempo(w->rep, SG_VERIFY_STEP, s, feat_of(m), bpm, tl, &d_));
  SHARED(w, sg_check_master_keys(w->rep, SG_VERIFY_STEP, s, tl, feat_of(m), &d_));
  if (ref)
    check_reference(w, s, o, ref, m, drums, mr, fatal);
}

/* Stem rows that need the master or the timeline. */
static void check_stem(rows *w, const sg_song *s, const sg_timeline *tl, const sg_verify_file *f,
                       const analysed *a, const analysed *m, const sync_fit *mr) {
  if (m && m->ok) {
    SHARED(w, sg_check_stem_length(w->rep, SG_VERIFY_STEP, f->stem, s, a->info.frames, a->info.rate,
                                   m->info.frames, m->info.rate, &d_));
    check_stem_sync(w, s, f, a, m, mr);
  }
  SHARED(w, sg_check_stem_activity(w->rep, SG_VERIFY_STEP, f->stem, s, tl, stem_spec(s, f->stem),
                                   a->meter, a->info.rate, a->info.frames, &d_));
}

/* Opens the package with its "package" row; on failure the status verify returns. */
static sg_status open_package(rows *w, const sg_verify_options *opt, sg__vpkg *p,
                              sg_verify_result *res, sg_diag *d) {
  sg_diag pd;
  sg_diag_clear(&pd);
  sg_status st = sg__vpkg_open(p, opt->package, &pd);
  if (st != SG_OK) {
    char msg[SG_DIAG_TEXT + 32];
    size_t n = p->n_packages;
    snprintf(msg, sizeof msg, "%s%s", n ? "" : "unreadable: ", pd.message);
    row(w, SG_CHECK_PACKAGE, "package", (double)n, SG_LIMIT_DEFAULT, 0, msg, SG_SEV_FAIL);
    sg__vpkg_close(p);
    if (d) {
      *d = pd;
      sg_diag_where(d, SG_VERIFY_STEP, "package", "package");
    }
    if (n) /* several packages: the check failed, nothing was unreadable */
      return SG_E_GATE;
    return st == SG_E_NOMEM || st == SG_E_LIMIT || st == SG_E_FORMAT ? st : SG_E_IO;
  }
  res->package_readable = 1;
  char msg[300];
  snprintf(msg, sizeof msg, "%s, %zu entries", p->note, p->n);
  row(w, SG_CHECK_PACKAGE, "package", 1, SG_LIMIT_DEFAULT, 0, msg, SG_SEV_FAIL);
  return SG_OK;
}

/* The verdict of a run: an allocation failure, an unreadable file, a failed row, or none. */
static sg_status finish(rows *w, sg_status fatal, const sg_verify_result *res, sg_diag *d) {
  if (w->err != SG_OK)
    return sg_diag_fail(d, w->err, "verify: out of memory recording results");
  if (fatal != SG_OK) {
    if (d && w->have_first)
      *d = w->first;
    if (d)
      d->status = fatal;
    return fatal;
  }
  if (res->report.failed) {
    if (d && w->have_first) {
      *d = w->first;
      d->status = SG_E_GATE;
    } else if (d) { /* a failed row that left no message: name the first one */
      for (size_t i = 0; i < res->report.n; ++i) {
        const sg_gate_result *g = &res->report.v[i];
        if (!g->pass && g->required) {
          sg_diag_fail(d, SG_E_GATE, "%s/%s failed: %s", g->stem, g->check,
                       g->detail[0] ? g->detail : "see the report");
          break;
        }
      }
      if (!d->message[0])
        sg_diag_fail(d, SG_E_GATE, "%zu checks failed", res->report.failed);
    }
    return SG_E_GATE;
  }
  return SG_OK;
}

/* ---- the files of a package, analysed side by side --------------------------------------------
 * Workers (each with its own reader of the zip: libzip's handles are not shared between threads)
 * take the files in report order, at most `window` ahead of the one whose rows are being made;
 * the calling thread makes every row, in order, so the report is the same for any job count. */
typedef struct vfiles {
  sg__vpkg *p;
  const sg_verify_options *opt;
  const sg_verify_result *res;
  const size_t *idx;
  int n, passes, master_present;
  unsigned stem_flags;
  analysed an[SG_VERIFY_MAX_FILES];
  sg_package_entry_pass pass[SG_VERIFY_MAX_FILES];
  rows w[SG_VERIFY_MAX_FILES];
  sg_gate_report rep[SG_VERIFY_MAX_FILES];
  int state[SG_VERIFY_MAX_FILES]; /* 0 waiting, 1 being analysed, 2 analysed */
  int next, released, window, stop, started;
  int lent[SG_VERIFY_MAX_FILES];    /* 1: the file's analysis was lent (lend_entry) */
  int vouched[SG_VERIFY_MAX_FILES]; /* 1: its SHA-256 vouched for by its CRC-32 (lend_entry) */
  unsigned fp_mode; /* the caller's floating-point mode (a render flushes denormals, the CLI does
                       not, and the meter counts them): the workers measure under the same */
  pthread_t th[8];
  pthread_mutex_t lock;
  pthread_cond_t cond;
} vfiles;

/* A render's final verification: entry i's bytes hashed (one pass over the stored entry, no
 * decoding), then the lender asked for its own analysis of the bytes with that hash. Returns 1
 * when the loan stands (a filled, pass kept: the meter's result, the SHA-256); 0 otherwise, with
 * sha (when the entry could be hashed) for the full analysis, which then need not hash again.
 * Lent only: a stored zip entry of one or two channels (the alignment copy and the caller's
 * features derive the same mono), whose loan matches its header (rate, channels, frames), with
 * features when the rows need them. */
static int lend_entry(vfiles *v, sg_zip_reader *zr, size_t i, int want_features, int want_mono,
                      char sha[65], int *vouched, analysed *a, sg_package_entry_pass *pass) {
  const sg_verify_lender *ln = v->opt->lender;
  sg__vpkg *p = v->p;
  sha[0] = 0;
  const sg_zip_entry *e = sg_zip_reader_entry(zr ? zr : p->zip, i);
  if (!e || e->deflated)
    return 0;
  sg__vaudio va;
  sg_audio_info info;
  /* Vouched for by CRC-32 (the header parsed, the bytes read once for their CRC), or hashed. */
  const int by_crc = ln->vouch != NULL;
  if (sg__vpkg_open_audio_in(p, zr, i, !by_crc, &va, &info, NULL) != SG_OK)
    return 0; /* the full analysis says why */
  const int fits = info.channels >= 1 && info.channels <= 2 && info.rate > 0 && info.frames > 0 &&
                   (double)info.frames <= v->opt->max_seconds * (double)info.rate;
  if (fits && by_crc) {
    uint32_t crc = 0;
    if (sg_zip_reader_crc32(zr ? zr : p->zip, e, &crc, NULL) != SG_OK ||
        !ln->vouch(ln->user, e->name, crc, e->size, sha) || strlen(sha) != 64)
      sha[0] = 0; /* not the caller's bytes (or damaged): the full analysis hashes and judges */
    *vouched = sha[0] != 0;
  } else if (fits && sg__vaudio_sha256(&va, sha, NULL) != SG_OK) {
    sha[0] = 0;
  }
  sg__vaudio_close(&va);
  sg_verify_loan loan;
  memset(&loan, 0, sizeof loan);
  if (!sha[0] || !ln->borrow(ln->user, sha, &loan))
    return 0;
  memset(a, 0, sizeof *a);
  a->lender = ln;
  a->loan = loan;
  a->has_loan = 1;
  sg_meter_result mr;
  const sg_features *f = loan.features;
  int ok = loan.meter && sg_meter_result_get(loan.meter, &mr) == SG_OK &&
           (mr.flags & SG_METER_ALL) == SG_METER_ALL && mr.channels == info.channels &&
           mr.rate == info.rate && mr.frames == info.frames;
  if (ok && (want_features || want_mono))
    ok = f && sg_features_rate(f) == info.rate && sg_features_frames(f) == info.frames;
  if (ok && want_mono) {
    ok = (a->mono = malloc(sizeof *a->mono)) &&
         sg__mono_open_entry(a->mono, p->path, i, info.channels, info.frames, f, NULL) == SG_OK;
    if (!ok) {
      free(a->mono);
      a->mono = NULL;
    }
  }
  if (!ok) {
    analysed_free(a);
    return 0;
  }
  a->ok = 1;
  a->info = info;
  a->meter = loan.meter;
  a->mr = mr;
  a->lent = want_features ? f : NULL;
  memset(pass, 0, sizeof *pass);
  snprintf(pass->name, sizeof pass->name, "%s", p->names[i]);
  snprintf(pass->sha256, sizeof pass->sha256, "%s", sha);
  pass->sha_status = SG_OK;
  pass->hashed = 1;
  pass->metered = 1;
  pass->meter_status = SG_OK;
  pass->mr = mr;
  return 1;
}

static void vfiles_run(vfiles *v, sg_zip_reader *zr, int f) {
  const sg_verify_file *vf = &v->res->files[f];
  const sg_verify_options *o = v->opt;
  analysed *a = &v->an[f];
  const int want_mono = vf->is_master || v->master_present;
  char sha[65] = "";
  /* With a lender (a render's own final verification, measure_all), the entry's hash decides
   * first: a loan proved by it leaves nothing to decode. */
  if (o->lender && o->lender->borrow && o->measure_all && v->p->is_zip) {
    if (lend_entry(v, zr, v->idx[f], vf->is_master, want_mono, sha, &v->vouched[f], a,
                   &v->pass[f])) {
      v->lent[f] = 1;
      return;
    }
  }
  analyse_entry(v->p, zr, v->idx[f], vf->is_master ? SG_METER_ALL : v->stem_flags, vf->is_master,
                want_mono, o->max_seconds, sha[0] ? sha : NULL, v->passes ? &v->pass[f] : NULL, a);
}

static void *vfiles_worker(void *arg) {
  vfiles *v = arg;
  sg_dsp_denormals_restore(v->fp_mode);
  sg_zip_reader *zr = NULL;
  if (v->p->is_zip && sg_zip_reader_open(&zr, v->p->path, NULL, NULL) != SG_OK)
    return NULL; /* the calling thread analyses what no worker takes */
  for (;;) {
    int f = -1;
    pthread_mutex_lock(&v->lock);
    while (!v->stop) {
      while (v->next < v->n && (v->idx[v->next] == SIZE_MAX || v->state[v->next] != 0))
        v->next++;
      if (v->next >= v->n)
        break;
      if (v->next >= v->released + v->window) {
        pthread_cond_wait(&v->cond, &v->lock);
        continue;
      }
      f = v->next++;
      v->state[f] = 1;
      break;
    }
    pthread_mutex_unlock(&v->lock);
    if (f < 0)
      break;
    vfiles_run(v, zr, f);
    pthread_mutex_lock(&v->lock);
    v->state[f] = 2;
    pthread_cond_broadcast(&v->cond);
    pthread_mutex_unlock(&v->lock);
  }
  sg_zip_reader_close(zr);
  return NULL;
}

static sg_status vfiles_start(vfiles **out, sg__vpkg *p, const sg_verify_options *opt,
                              const sg_verify_result *res, const size_t *idx, int has_manifest,
                              int master_present) {
  vfiles *v = calloc(1, sizeof *v);
  *out = v;
  if (!v)
    return SG_E_NOMEM;
  v->p = p;
  v->opt = opt;
  v->res = res;
  v->idx = idx;
  v->n = res->n_files;
  v->passes = has_manifest || opt->measure_all;
  v->master_present = master_present;
  v->stem_flags = opt->measure_all ? SG_METER_ALL : 0;
  for (int f = 0; f < v->n; ++f) {
    sg_gate_report_init(&v->rep[f]);
    v->w[f].rep = &v->rep[f];
  }
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int jobs = opt->jobs > 0 ? opt->jobs : (cores < 1 ? 1 : cores > 8 ? 8 : (int)cores);
  int todo = 0;
  for (int f = 0; f < v->n; ++f)
    todo += idx[f] != SIZE_MAX;
  if (jobs > todo)
    jobs = todo;
  if (jobs > 8)
    jobs = 8;
  v->window = jobs + 2;
  v->fp_mode = sg_dsp_denormals_off();
  sg_dsp_denormals_restore(v->fp_mode);
  pthread_mutex_init(&v->lock, NULL);
  pthread_cond_init(&v->cond, NULL);
  for (; jobs > 1 && v->started < jobs; ++v->started)
    if (pthread_create(&v->th[v->started], NULL, vfiles_worker, v) != 0)
      break;
  return SG_OK;
}

/* File f analysed (by a worker, or here when none took it). release: f is the file whose rows
 * are made next, so the workers' look-ahead window moves on to it; otherwise f is taken ahead of
 * it (the window is left as it is) and stays until vfiles_done(f). */
static analysed *vfiles_take(vfiles *v, int f, int release) {
  pthread_mutex_lock(&v->lock);
  if (release) {
    v->released = f;
    pthread_cond_broadcast(&v->cond);
  }
  while (v->state[f] == 1)
    pthread_cond_wait(&v->cond, &v->lock);
  const int mine = v->state[f] == 0;
  v->state[f] = 1;
  pthread_mutex_unlock(&v->lock);
  if (mine) {
    vfiles_run(v, NULL, f);
    pthread_mutex_lock(&v->lock);
    v->state[f] = 2;
    pthread_cond_broadcast(&v->cond);
    pthread_mutex_unlock(&v->lock);
  }
  return &v->an[f];
}

static analysed *vfiles_get(vfiles *v, int f) { return vfiles_take(v, f, 1); }

static const analysed *vfiles_get_ahead(vfiles *v, int f) { return vfiles_take(v, f, 0); }

static void vfiles_done(vfiles *v, int f) { analysed_free(&v->an[f]); }

static void vfiles_join(vfiles *v) {
  pthread_mutex_lock(&v->lock);
  v->stop = 1;
  pthread_cond_broadcast(&v->cond);
  pthread_mutex_unlock(&v->lock);
  for (int i = 0; i < v->started; ++i)
    pthread_join(v->th[i], NULL);
  v->started = 0;
}

static void vfiles_free(vfiles *v) {
  if (!v)
    return;
  vfiles_join(v);
  for (int f = 0; f < v->n; ++f) {
    analysed_free(&v->an[f]);
    sg_gate_report_free(&v->rep[f]);
  }
  pthread_mutex_destroy(&v->lock);
  pthread_cond_destroy(&v->cond);
  free(v);
}

static sg_status verify_song(const sg_song *song, const sg_verify_options *opt, const char *ref,
                             sg_verify_result *res, sg_diag *d) {
  sg_timeline tl;
  sg_status st = sg_timeline_build(song, &tl, d);
  if (st != SG_OK)
    return st;
  rows w;
  memset(&w, 0, sizeof w);
  w.rep = &res->report;

  sg__vpkg p;
  if ((st = open_package(&w, opt, &p, res, d)) != SG_OK)
    return st;

  size_t idx[SG_VERIFY_MAX_FILES];
  match_files(song, &p, res, idx);
  for (int f = 0; f < res->n_files; ++f) {
    char detail[400];
    int opt_missing = idx[f] == SIZE_MAX && res->files[f].optional;
    if (opt_missing)
      snprintf(detail, sizeof detail, "not delivered: optional (not in delivery.stems)");
    else if (idx[f] == SIZE_MAX)
      snprintf(detail, sizeof detail, "no file by the naming template or a common name");
    else
      snprintf(detail, sizeof detail, "%s (found by %s)", res->files[f].entry,
               sg_verify_match_name(res->files[f].match));
    row(&w, SG_CHECK_PRESENT, res->files[f].stem, idx[f] != SIZE_MAX, SG_LIMIT_DEFAULT, 0, detail,
        opt_missing ? SG_SEV_INFO : SG_SEV_FAIL);
  }

  /* Each file is decoded once, the files spread over the cores (analyse_files); a zip entry
   * with a manifest is hashed on that same read, and the integrity rows below take its hash
   * from there. Each file's rows are made in order as soon as it (and the master) are
   * analysed, into its own list, and the lists follow the integrity rows; a stem's analysis is
   * freed after its rows, so memory holds the master and the files in flight. */
  const int has_manifest = p.is_zip && sg_zip_reader_find(p.zip, SG_MANIFEST_NAME) != NULL;
  analysed master;
  memset(&master, 0, sizeof master);
  sg_status fatal = SG_OK;
  sync_fit mref;
  memset(&mref, 0, sizeof mref);
  int master_present = 0, master_f = -1, drums_f = -1;
  for (int f = 0; f < res->n_files; ++f) {
    if (idx[f] != SIZE_MAX && res->files[f].is_master && master_f < 0)
      master_f = f;
    if (idx[f] != SIZE_MAX && !strcmp(res->files[f].stem, "Drums"))
      drums_f = f;
  }
  master_present = master_f >= 0;
  vfiles *vj = NULL;
  sg_status st_j = vfiles_start(&vj, &p, opt, res, idx, has_manifest, master_present);
  if (st_j != SG_OK) {
    sg__vpkg_close(&p);
    return sg_diag_fail(d, st_j, "verify: out of memory");
  }
  /* With a reference, the Drums stem (when delivered) is what should match it: its analysis
   * (decoded once, with its mono copy) is taken ahead of the master's rows and freed after its
   * own, which follow the master's. */
  const analysed *drums = NULL;
  if (ref && master_present && drums_f > master_f)
    drums = vfiles_get_ahead(vj, drums_f);
  for (int f = 0; f < res->n_files; ++f) {
    if (idx[f] == SIZE_MAX)
      continue;
    sg_verify_file *vf = &res->files[f];
    analysed *a = vfiles_get(vj, f);
    if (vf->is_master) {
      master = *a;
      memset(a, 0, sizeof *a);
      a = &master;
    }
    rows *fw = &vj->w[f];
    vf->readable = a->ok;
    vf->rate = a->info.rate;
    vf->channels = a->info.channels;
    vf->bits = a->info.bits;
    vf->is_float = a->info.is_float;
    vf->frames = a->info.frames;
    char msg[SG_DIAG_TEXT + 32];
    snprintf(msg, sizeof msg, "%s", a->ok ? "decoded completely" : a->why);
    row(fw, SG_CHECK_READABLE, vf->stem, a->ok, SG_LIMIT_DEFAULT, 0, msg, SG_SEV_FAIL);
    if (!a->ok) {
      res->file_unreadable = 1;
      if (fatal == SG_OK)
        fatal = a->err == SG_E_NOMEM || a->err == SG_E_LIMIT ? a->err : SG_E_FORMAT;
      if (!vf->is_master)
        vfiles_done(vj, f);
      continue;
    }
    check_file_basics(fw, song, vf, a);
    if (vf->is_master) {
      res->seconds = (double)a->info.frames / a->info.rate;
      check_master(fw, song, &tl, opt, ref, a, drums && drums->ok ? drums : NULL, &mref, &fatal);
      /* The tempo and key rows are made: the stems' rows need only the master's onset envelope
       * (its alignment copy, 2.7 MB an hour), so its ~1 kHz energy envelope (14 MB an hour),
       * chroma (4 MB) and low-band envelope (2.7 MB) go now instead of staying through every
       * stem's rows. */
      if (a->feat_in_mono) { /* lent features (a->lent) are the lender's: left as they are */
        sg_features_release(a->feat, SG_FEAT_ALL);
      } else {
        sg_features_free(a->feat);
        a->feat = NULL;
      }
    } else {
      check_stem(fw, song, &tl, vf, a, master.ok ? &master : NULL, &mref);
      vfiles_done(vj, f);
    }
  }
  vfiles_join(vj);
  for (int f = 0; f < res->n_files; ++f) {
    if ((res->files[f].lent = vj->lent[f]))
      res->n_lent++;
    res->n_vouched += vj->vouched[f];
  }
  res->n_passes = 0;
  for (int f = 0; f < res->n_files; ++f)
    if (idx[f] != SIZE_MAX && vj->pass[f].name[0])
      res->passes[res->n_passes++] = vj->pass[f];
  /* A stemgate package carries its own proof: every entry's SHA-256 and header in
   * manifest.json. Check it when present (rows of step "package"). Without one: stemgate's
   * package is a zip with a manifest, so a zip without one fails unless the delivery block says
   * manifest: optional; a folder of files (another tool's delivery) fails only when the block
   * says manifest: required. */
  if (has_manifest) {
    sg_diag md;
    sg_diag_clear(&md);
    sg_status mst = sg_package_verify_passed(p.path, NULL, res->passes, (size_t)res->n_passes,
                                             &res->report, &md);
    /* An unreadable manifest is a failed row too, and its message the one to show. */
    if (mst != SG_OK && md.message[0] && !w.have_first) {
      w.first = md;
      w.have_first = 1;
    }
  } else {
    sg_manifest_rule rule = song->delivery.manifest;
    int in_folder = 0;
    for (size_t e = 0; !p.is_zip && e < p.n; ++e)
      in_folder |= !strcmp(p.names[e], SG_MANIFEST_NAME);
    int fail =
        !in_folder && (rule == SG_MANIFEST_REQUIRED || (rule == SG_MANIFEST_DEFAULT && p.is_zip));
    const char *want = rule == SG_MANIFEST_REQUIRED ? "manifest.json (delivery: manifest: required)"
                       : rule == SG_MANIFEST_OPTIONAL
                           ? "optional (delivery.manifest): integrity not checked"
                       : p.is_zip ? "manifest.json in a stemgate zip (delivery: manifest: optional "
                                    "accepts other zips)"
                                  : "none needed for a folder: integrity not checked";
    sg_diag md;
    sg_diag_clear(&md);
    note(
        &w,
        sg_gate_row_text(w.rep, SG_CHECK_MANIFEST, "package", "package",
                         in_folder ? "manifest.json in a folder: not verified" : "no manifest.json",
                         want, in_folder, fail ? SG_SEV_FAIL : SG_SEV_WARN, &md),
        &md);
  }

  for (int f = 0; f < res->n_files; ++f) {
    if (w.err == SG_OK && sg_gate_report_append(w.rep, vj->w[f].rep) != SG_OK)
      w.err = SG_E_NOMEM;
    if (!w.have_first && vj->w[f].have_first) {
      w.first = vj->w[f].first;
      w.have_first = 1;
    }
    if (w.err == SG_OK && vj->w[f].err != SG_OK)
      w.err = vj->w[f].err;
  }
  vfiles_free(vj);
  analysed_free(&master);
  sg__vpkg_close(&p);
  return finish(&w, fatal, res, d);
}

/* tempo: auto means "the reference's tempo": measure it (Ellis 2007 via sg_tempo_estimate, the
 * same estimate the render's reference step uses) and verify against a copy of the song with
 * that tempo, to 0.01 BPM. */
static sg_status resolve_auto_tempo(const sg_song *song, const char *ref, sg_song **copy,
                                    sg_diag *d) {
  *copy = NULL;
  if (!ref)
    return sg_diag_fail(d, SG_E_SPEC,
                        "%s: tempo is 'auto' but there is no drum reference to take it from; "
                        "give --reference FILE",
                        song->path);
  sg_features_config fc;
  sg_features_config_init(&fc);
  fc.flags = SG_FEAT_ONSET | SG_FEAT_ENERGY;
  sg_features *f = NULL;
  sg_status st = sg_features_from_file(&f, ref, &fc, d);
  if (st != SG_OK)
    return st == SG_E_NOMEM ? st : SG_E_IO;
  sg_tempo_result t;
  st = sg_tempo_estimate(f, NULL, NULL, &t);
  sg_features_free(f);
  if (st != SG_OK || !(t.bpm > 0))
    return sg_diag_fail(d, SG_E_NOTFOUND,
                        "tempo is 'auto' but no tempo could be measured in the reference '%s'",
                        ref);
  sg_song *c = malloc(sizeof *c);
  if (!c)
    return sg_diag_fail(d, SG_E_NOMEM, "verify: out of memory");
  memcpy(c, song, sizeof *c);
  c->tempo.num = llround(t.bpm * 100.0);
  c->tempo.den = 100;
  *copy = c;
  return SG_OK;
}

sg_status sg_verify_package(const sg_song *song, const sg_verify_options *opt,
                            sg_verify_result *res, sg_diag *d) {
  if (!song || !opt || !res)
    return sg_diag_fail(d, SG_E_INVAL, "verify: NULL argument");
  sg_verify_result_init(res);
  snprintf(res->package, sizeof res->package, "%s", opt->package ? opt->package : "");
  char ref[SG_MAX_PATH] = "";
  if (opt->reference && opt->reference[0])
    snprintf(ref, sizeof ref, "%s", opt->reference);
  else if (song->drums.source == SG_DRUMS_REFERENCE && song->drums.reference[0])
    sg_song_resolve_path(song, song->drums.reference, ref, sizeof ref);
  sg_song *copy = NULL;
  if (song->tempo_auto) {
    sg_status st = resolve_auto_tempo(song, ref[0] ? ref : NULL, &copy, d);
    if (st != SG_OK)
      return st;
  }
  sg_status st = verify_song(copy ? copy : song, opt, ref[0] ? ref : NULL, res, d);
  free(copy);
  return st;
}

/* ---- verify with only the package ------------------------------------------------------------
 * A stemgate package carries its own proof: manifest.json records every entry's hash and
 * header, each audio file's loudness and peaks, the song's sections and every gate row of the
 * render with its limit. Without a spec, that record is what the package is checked against:
 * the integrity rows of sg_package_verify, then each audio file decoded once and measured by the
 * same shared checks as above, judged by a song made from the manifest (its format, sections and
 * the limits its recorded rows carry; the table's defaults where it records none), and its
 * loudness and peaks compared with the recorded figures. */

/* The first row the manifest records for check id (and stem, when given) with a finite limit. */
static const sg_gate_result *recorded(const sg_manifest *m, sg_check_id id, const char *stem) {
  for (size_t i = 0; i < m->n_gates; ++i) {
    const sg_gate_result *g = &m->gates[i];
    if (g->id == id && (!stem || !strcasecmp(g->stem, stem)) && isfinite(g->limit))
      return g;
  }
  return NULL;
}

/* The song a manifest describes, as far as the file checks need one. *level: 1 when the master's
 * loudness target and true-peak ceiling are recorded. */
static sg_song *manifest_song(const sg_manifest *m, sg_timeline *tl, int *level) {
  sg_song *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  snprintf(s->title, sizeof s->title, "%s", m->title);
  snprintf(s->slug, sizeof s->slug, "%s", m->slug);
  s->sample_rate = m->rate;
  s->format = m->format;
  s->channels = m->channels;
  /* A manifest that records no song format: the master's header as recorded (else the first
   * audio file's). */
  const sg_manifest_file *first = NULL;
  for (size_t i = 0; i < m->n_files; ++i)
    if (m->files[i].is_audio && (!first || m->files[i].role == SG_ROLE_MASTER)) {
      first = &m->files[i];
      if (first->role == SG_ROLE_MASTER)
        break;
    }
  if (first && (!s->sample_rate || !s->channels)) {
    s->sample_rate = first->rate;
    s->format = first->format;
    s->channels = first->channels;
  }
  s->limits.sync_ms = sg_check_get(SG_CHECK_SYNC_OFFSET)->limit;
  s->limits.length_tolerance_ms = sg_check_get(SG_CHECK_LENGTH)->limit;
  s->limits.dc_offset = sg_check_get(SG_CHECK_DC_OFFSET)->limit;
  s->limits.silence_dbfs = sg_check_get(SG_CHECK_SILENCE)->limit;
  s->limits.key_window_sec = sg_check_get(SG_CHECK_KEY_CHANGE)->limit;
  s->master.loudness_tolerance = sg_check_get(SG_CHECK_LOUDNESS)->limit;
  s->master.true_peak_dbtp = sg_check_get(SG_CHECK_TRUE_PEAK)->limit;
  const sg_gate_result *g;
  if ((g = recorded(m, SG_CHECK_DC_OFFSET, NULL)))
    s->limits.dc_offset = g->limit;
  if ((g = recorded(m, SG_CHECK_SILENCE, NULL)))
    s->limits.silence_dbfs = g->limit;
  if ((g = recorded(m, SG_CHECK_LENGTH, NULL)))
    s->limits.length_tolerance_ms = g->limit;
  const sg_gate_result *lo = recorded(m, SG_CHECK_LOUDNESS, "Master");
  const sg_gate_result *tp = recorded(m, SG_CHECK_TRUE_PEAK, "Master");
  if (lo && isfinite(lo->target)) {
    s->master.loudness_lufs = lo->target;
    s->master.loudness_tolerance = lo->limit;
  }
  if (tp)
    s->master.true_peak_dbtp = tp->limit;
  *level = lo && isfinite(lo->target) && tp;
  /* Stem names (a criteria file's stems list is checked against them). */
  for (size_t i = 0; i < m->n_files && s->n_stems < SG_MAX_STEMS; ++i)
    if (m->files[i].role == SG_ROLE_STEM && m->files[i].stem[0])
      snprintf(s->stems[s->n_stems++].name.s, sizeof s->stems[0].name.s, "%s", m->files[i].stem);
  /* The sections' frames as recorded (at the song rate). */
  memset(tl, 0, sizeof *tl);
  tl->rate = m->rate;
  for (size_t i = 0; i < m->n_sections && tl->n_sections < SG_MAX_SECTIONS; ++i) {
    const sg_manifest_section *ms = &m->sections[i];
    if (ms->end_frame <= ms->start_frame || ms->start_frame < tl->total_frames)
      break; /* out of order: the sections are not used */
    sg_section_time *st = &tl->sections[tl->n_sections];
    snprintf(st->name, sizeof st->name, "%s", ms->name);
    st->index = tl->n_sections++;
    st->start_frame = ms->start_frame;
    st->end_frame = ms->end_frame;
    st->start_sec = ms->start_sec;
    st->end_sec = ms->end_sec;
    tl->total_frames = ms->end_frame;
  }
  /* The ending as recorded: with ring the files run on past the last bar, up to the master's
   * recorded length (the ring-out this render chose); manifests before endings were cut. */
  tl->file_frames = tl->total_frames;
  tl->ending = !strcmp(m->ending, "ring")   ? SG_ENDING_RING
               : !strcmp(m->ending, "fade") ? SG_ENDING_FADE
                                            : SG_ENDING_CUT;
  if (tl->ending == SG_ENDING_RING && first && first->role == SG_ROLE_MASTER && first->rate &&
      first->frames > tl->total_frames) {
    tl->ring_max_frames = first->frames - tl->total_frames;
    tl->file_frames = first->frames;
  }
  s->ending = tl->ending;
  return s;
}

/* Reads and parses the package's manifest.json. */
static sg_status read_manifest(sg__vpkg *p, sg_manifest *m, sg_diag *d) {
  const sg_zip_entry *e = sg_zip_reader_find(p->zip, SG_MANIFEST_NAME);
  char *text = NULL;
  size_t len = 0;
  sg_status st = sg_zip_reader_read_all(p->zip, e, SG_MANIFEST_MAX_BYTES, &text, &len, d);
  if (st != SG_OK)
    return st;
  st = sg_manifest_parse(text, len, m, d);
  free(text);
  return st;
}

static size_t entry_index(const sg__vpkg *p, const char *name) {
  for (size_t e = 0; e < p->n; ++e)
    if (!strcmp(p->names[e], name))
      return e;
  return SIZE_MAX;
}

/* Rows of one audio file listed in the manifest. */
static void check_manifest_file(rows *w, const sg_song *s, const sg_timeline *tl, int level,
                                const sg_manifest_file *mf, const char *stem, const analysed *a,
                                const analysed *master) {
  SHARED(w, sg_check_file_format(w->rep, SG_VERIFY_STEP, stem, s, &a->info, &d_));
  if (!a->meter)
    return;
  SHARED(w, sg_check_file_content(w->rep, SG_VERIFY_STEP, stem, s, a->meter, 0, &d_));
  SHARED(w, sg_package_compare_loudness(w->rep, SG_VERIFY_STEP, stem, mf, &a->mr, SG_LIMIT_DEFAULT,
                                        SG_LIMIT_DEFAULT, &d_));
  if (mf->role == SG_ROLE_MASTER) {
    if (tl->total_frames > 0 || s->delivery.has_length)
      SHARED(w,
             sg_check_master_duration(w->rep, SG_VERIFY_STEP, s, tl, a->info.frames, a->info.rate,
                                      sg_check_get(SG_CHECK_DURATION)->limit, &d_));
    if (level || s->delivery.has_loudness)
      SHARED(w, sg_check_master_level(w->rep, SG_VERIFY_STEP, s, tl, a->meter, a->info.rate, &d_));
  } else if (master && master->ok) {
    SHARED(w, sg_check_stem_length(w->rep, SG_VERIFY_STEP, stem, s, a->info.frames, a->info.rate,
                                   master->info.frames, master->info.rate, &d_));
  }
}

sg_status sg_verify_manifest(const sg_verify_options *opt, const char *criteria,
                             sg_verify_result *res, sg_diag *d) {
  if (!opt || !opt->package || !res)
    return sg_diag_fail(d, SG_E_INVAL, "verify: NULL argument");
  sg_verify_result_init(res);
  snprintf(res->package, sizeof res->package, "%s", opt->package);
  rows w;
  memset(&w, 0, sizeof w);
  w.rep = &res->report;
  sg__vpkg p;
  sg_status st = open_package(&w, opt, &p, res, d);
  if (st != SG_OK)
    return st;
  if (!p.is_zip || !sg_zip_reader_find(p.zip, SG_MANIFEST_NAME)) {
    sg__vpkg_close(&p);
    return sg_diag_fail(d, SG_E_INVAL,
                        "'%s' carries no manifest.json, so there is nothing to verify it "
                        "against: give --spec SPEC (what the package must hold; --criteria FILE "
                        "adds a client's delivery: block), or a stemgate zip with its "
                        "manifest.json (which --criteria FILE alone can judge)",
                        opt->package);
  }
  /* The manifest is read first: the files are decoded (and hashed on that read) before the
   * package's rows are made from the hashes. One that cannot be read is the package check's to
   * report: its rows say why. */
  sg_manifest m;
  sg_diag rd;
  sg_diag_clear(&rd);
  if ((st = read_manifest(&p, &m, &rd)) != SG_OK) {
    sg_diag md;
    sg_diag_clear(&md);
    sg_status pst = sg_package_verify(p.path, NULL, &res->report, &md);
    sg__vpkg_close(&p);
    if (pst == SG_OK || pst == SG_E_GATE) { /* read now after all: report the first failure */
      if (d)
        *d = rd;
      return st == SG_E_NOMEM ? st : SG_E_FORMAT;
    }
    if (d)
      *d = md;
    return pst == SG_E_NOMEM || pst == SG_E_LIMIT ? pst : SG_E_FORMAT;
  }
  sg_timeline tl;
  int level = 0;
  sg_song *s = manifest_song(&m, &tl, &level);
  sg_package_entry_pass *passes = calloc(m.n_files ? m.n_files : 1, sizeof *passes);
  if (!s || !passes) {
    free(s);
    free(passes);
    sg_manifest_free(&m);
    sg__vpkg_close(&p);
    return sg_diag_fail(d, SG_E_NOMEM, "verify: out of memory");
  }
  if (criteria && (st = sg_delivery_load(criteria, s, d)) != SG_OK) {
    free(s);
    free(passes);
    sg_manifest_free(&m);
    sg__vpkg_close(&p);
    return st;
  }

  /* Each audio file decoded once: hashed, measured and judged on that read, into rows of its
   * own that follow the package's. The master first: the stems' lengths compare with it. */
  sg_gate_report frep;
  sg_gate_report_init(&frep);
  rows fw;
  memset(&fw, 0, sizeof fw);
  fw.rep = &frep;
  analysed master;
  memset(&master, 0, sizeof master);
  sg_status fatal = SG_OK;
  size_t n_passes = 0;
  for (int pass = 0; pass < 2; ++pass)
    for (size_t i = 0; i < m.n_files; ++i) {
      const sg_manifest_file *mf = &m.files[i];
      int is_master = mf->role == SG_ROLE_MASTER;
      if (!mf->is_audio || is_master != (pass == 0))
        continue;
      size_t e = entry_index(&p, mf->archive_name);
      if (e == SIZE_MAX)
        continue; /* entry_present fails */
      const char *stem = is_master ? "Master" : mf->stem[0] ? mf->stem : mf->archive_name;
      analysed local, *a = is_master ? &master : &local;
      if (is_master && master.ok)
        continue; /* one master is judged; a second is only hashed */
      sg_package_entry_pass *ep = &passes[n_passes];
      memset(ep, 0, sizeof *ep); /* left so when the entry cannot be opened */
      analyse_entry(&p, NULL, e, SG_METER_ALL, 0, 0, opt->max_seconds, NULL, ep, a);
      /* A hash that failed on this read, or disagrees with the manifest, is taken again by the
       * package check, which words the damage its own way (a CRC error, say): a sound
       * package's entries are read once, a damaged one's rows are the same as ever. */
      if (ep->name[0] && ep->hashed && ep->sha_status == SG_OK && !strcmp(ep->sha256, mf->sha256))
        n_passes++;
      if (res->n_files < SG_VERIFY_MAX_FILES) {
        sg_verify_file *vf = &res->files[res->n_files++];
        memset(vf, 0, sizeof *vf);
        snprintf(vf->stem, sizeof vf->stem, "%s", stem);
        snprintf(vf->entry, sizeof vf->entry, "%s", mf->archive_name);
        vf->match = SG_MATCH_NAMING;
        vf->is_master = is_master;
        vf->readable = a->ok;
        vf->rate = a->info.rate;
        vf->channels = a->info.channels;
        vf->bits = a->info.bits;
        vf->is_float = a->info.is_float;
        vf->frames = a->info.frames;
      }
      char msg[SG_DIAG_TEXT + 32];
      snprintf(msg, sizeof msg, "%s", a->ok ? "decoded completely" : a->why);
      row(&fw, SG_CHECK_READABLE, stem, a->ok, SG_LIMIT_DEFAULT, 0, msg, SG_SEV_FAIL);
      if (!a->ok) {
        res->file_unreadable = 1;
        if (fatal == SG_OK)
          fatal = a->err == SG_E_NOMEM || a->err == SG_E_LIMIT ? a->err : SG_E_FORMAT;
      } else {
        if (is_master)
          res->seconds = (double)a->info.frames / a->info.rate;
        check_manifest_file(&fw, s, &tl, level, mf, stem, a, is_master ? NULL : &master);
      }
      if (!is_master)
        analysed_free(a);
    }

  /* The package's proof: archive, manifest, entry_present, sha256, wav_header, entry_listed,
   * the hashes taken from the reads above. */
  sg_diag md;
  sg_diag_clear(&md);
  st = sg_package_verify_passed(p.path, NULL, passes, n_passes, &res->report, &md);
  free(passes);
  if (st == SG_E_GATE) {
    note(&w, st, &md);
  } else if (st != SG_OK) { /* the archive or its manifest cannot be read: rows say so */
    analysed_free(&master);
    sg_gate_report_free(&frep);
    free(s);
    sg_manifest_free(&m);
    sg__vpkg_close(&p);
    if (d)
      *d = md;
    return st == SG_E_NOMEM || st == SG_E_LIMIT ? st : SG_E_FORMAT;
  }
  /* A criteria file's stems must be delivered. */
  for (int i = 0; s->delivery.has_stems && i < s->delivery.n_stems; ++i) {
    int found = 0;
    for (size_t k = 0; k < m.n_files && !found; ++k)
      found =
          m.files[k].role == SG_ROLE_STEM && !strcasecmp(m.files[k].stem, s->delivery.stems[i].s);
    row(&w, SG_CHECK_PRESENT, s->delivery.stems[i].s, found, SG_LIMIT_DEFAULT, 0,
        found ? "listed in the manifest" : "required by the criteria, not in the manifest",
        SG_SEV_FAIL);
  }
  if (w.err == SG_OK && sg_gate_report_append(w.rep, &frep) != SG_OK)
    w.err = SG_E_NOMEM;
  if (!w.have_first && fw.have_first) {
    w.first = fw.first;
    w.have_first = 1;
  }
  if (w.err == SG_OK && fw.err != SG_OK)
    w.err = fw.err;
  sg_gate_report_free(&frep);
  analysed_free(&master);
  free(s);
  sg_manifest_free(&m);
  sg__vpkg_close(&p);
  return finish(&w, fatal, res, d);
}
