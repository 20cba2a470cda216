/* The Drums stem from the reference: the conformed reference fitted to exactly the song's length.
 *
 *  trim  out[t] = ref[t] for t < T, a raised-cosine fade over the last trim_fade_ms.
 *  fade  ref up to the last whole bar line C inside the reference, a raised-cosine fade ending
 *        on C (so the downbeat at C is not half-played), silence from C to T.
 *  loop  ref up to the bar line D where its whole bars end; from D, iteration i of the last K
 *        whole bars starts exactly on the grid's bar line D + i*K bars (re-anchored at every
 *        iteration, so a tempo map or rounding never accumulates). Each splice is an
 *        equal-power crossfade (sin/cos, constant power for uncorrelated material) that ENDS
 *        on the bar line: the outgoing material's last X ms fade out while the incoming
 *        material's X ms pre-roll (the end of the bar before the looped bars) fades in, so the
 *        incoming downbeat's attack is played untouched, on the grid. The last iteration is cut
 *        at the song end after a trim fade.
 *
 * Streaming: the reference is read in blocks; only the looped bars (plus the pre-roll) are held
 * in memory. */
#include "reference_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCK = 8192 };

/* Raised-cosine fade-out gain for position u in [0, 1]: 1 at 0, 0 at 1. */
static float fade_out(double u) {
  if (u <= 0)
    return 1.0f;
  if (u >= 1)
    return 0.0f;
  return (float)(0.5 * (1.0 + cos(SG_PI * u)));
}

typedef struct loop_src {
  float *buf;  /* ref[src0 - pre, src0 + len), channels interleaved; zeros before frame 0 */
  int64_t pre; /* pre-roll frames (the crossfade length) */
  int64_t len; /* frames of the looped bars */
} loop_src;

/* Reads ref frames [a, a + n) into buf (interleaved), zero outside [0, frames). */
static sg_status read_span(sg_audio_reader *rd, int64_t frames, unsigned ch, int64_t a, int64_t n,
                           float *buf, sg_diag *d) {
  memset(buf, 0, (size_t)n * ch * sizeof *buf);
  int64_t lo = a < 0 ? 0 : a, hi = a + n > frames ? frames : a + n;
  if (hi <= lo)
    return SG_OK;
  sg_status st = sg_audio_reader_seek(rd, lo, d);
  if (st != SG_OK)
    return st;
  float *p = buf + (size_t)(lo - a) * ch;
  int64_t left = hi - lo;
  while (left > 0) {
    size_t got = 0;
    if ((st = sg_audio_reader_read(rd, p, (size_t)left, &got, d)) != SG_OK)
      return st;
    if (!got)
      break;
    p += got * ch;
    left -= (int64_t)got;
  }
  return SG_OK;
}

sg_status sg_reference_write_drums(sg_reference *ref, const sg_song *song, const sg_timeline *tl,
                                   const sg_audio_writer_config *wcfg_in, const char *out_path,
                                   const char *stem_name, sg_gate_report *gates, sg_diag *d) {
  if (!ref || !song || !tl || !out_path || !gates)
    return sg_diag_fail(d, SG_E_INVAL, "reference drums: NULL argument");
  if (ref->fit == SG_REF_FIT_NONE || ref->song_frames != tl->total_frames)
    return sg_diag_fail(d, SG_E_INVAL,
                        "reference drums: call sg_reference_align with this timeline first");
  const char *stem = sg__ref_name(stem_name), *step = SG_REFERENCE_STEP;
  unsigned ch = ref->work.channels, rate = ref->work.rate;
  sg_audio_writer_config wc;
  if (wcfg_in) {
    wc = *wcfg_in;
    if (wc.rate != rate || wc.channels != ch)
      return sg_diag_fail(d, SG_E_INVAL,
                          "reference drums: writer wants %u Hz %u ch but the conformed reference "
                          "is %u Hz %u ch",
                          wc.rate, wc.channels, rate, ch);
  } else {
    sg_audio_writer_config_init(&wc);
    wc.rate = rate;
    wc.channels = ch;
    wc.format = song->format;
    wc.dither_seed = song->seed ^ sg_hash64(stem);
  }

  /* The dry stem runs to the timeline's dry length: with ending: ring the reference's own final
   * hit past the last bar is kept (trim cuts there, not at the bar line). */
  const int64_t T = tl->dry_frames, R = ref->work.frames;
  sg_audio_reader *rd = NULL;
  sg_audio_writer *wr = NULL;
  float *blk = NULL;
  loop_src lp = {0};
  sg_audio_info info;
  sg_status st = sg_audio_reader_open(&rd, ref->work_path, &info, d);
  if (st != SG_OK)
    return st;
  blk = malloc((size_t)BLOCK * ch * sizeof *blk);
  if (!blk) {
    st = sg_diag_fail(d, SG_E_NOMEM, "reference drums: out of memory");
    goto done;
  }

  /* Where the reference is played straight through, and the fades. */
  int64_t direct_end = T < R ? T : R; /* frames copied as they are            */
  int64_t fade_len = 0, fade_end = T; /* a fade-out over [fade_end - len, fade_end) */
  int64_t xf = 0;                     /* loop crossfade, frames              */
  switch (ref->fit) {
  case SG_REF_FIT_TRIM:
    fade_len = (int64_t)llround(ref->fit_fade_ms * 1e-3 * rate);
    break;
  case SG_REF_FIT_FADE:
    direct_end = ref->fit_cut_frame;
    fade_end = ref->fit_cut_frame;
    fade_len = (int64_t)llround(ref->fit_fade_ms * 1e-3 * rate);
    break;
  case SG_REF_FIT_LOOP:
    direct_end = ref->fit_cut_frame;
    fade_len = (int64_t)llround(ref->fit_fade_ms * 1e-3 * rate);
    xf = (int64_t)llround(ref->loop_xfade_ms * 1e-3 * rate);
    if (xf < 1)
      xf = 1;
    fade_end = tl->total_frames < T ? tl->total_frames : T; /* a loop stops at the last bar */
    break;
  default:
    break;
  }
  if (fade_len > fade_end)
    fade_len = fade_end;

  /* Loop material: the last K whole bars and the crossfade pre-roll before them. */
  if (ref->fit == SG_REF_FIT_LOOP) {
    int64_t bars_end = ref->fit_cut_frame;
    lp.pre = xf;
    lp.len = bars_end - ref->loop_src_frame;
    if (lp.len <= 0) {
      st = sg_diag_fail(d, SG_E_INTERNAL, "reference drums: empty loop");
      goto done;
    }
    lp.buf = malloc((size_t)(lp.pre + lp.len) * ch * sizeof *lp.buf);
    if (!lp.buf) {
      st = sg_diag_fail(d, SG_E_NOMEM, "reference drums: out of memory for %lld loop frames",
                        (long long)lp.len);
      goto done;
    }
    if ((st = read_span(rd, R, ch, ref->loop_src_frame - lp.pre, lp.pre + lp.len, lp.buf, d)) !=
        SG_OK)
      goto done;
    if ((st = sg_audio_reader_seek(rd, 0, d)) != SG_OK)
      goto done;
  }
  int64_t loop_bars_total = ref->loop_bars > 0 ? ref->loop_bars : 1;
  int64_t first_loop_bar = 0;
  if (ref->fit == SG_REF_FIT_LOOP) {
    /* The bar whose line is fit_cut_frame. */
    while (first_loop_bar < tl->total_bars &&
           sg_timeline_bar_frame(tl, first_loop_bar) < ref->fit_cut_frame)
      first_loop_bar++;
  }

  if ((st = sg_audio_writer_open(&wr, out_path, &wc, d)) != SG_OK)
    goto done;
  int64_t it_start = direct_end, it_next = direct_end; /* current loop iteration [start, next) */
  int64_t it_index = -1;
  for (int64_t t0 = 0; t0 < T; t0 += BLOCK) {
    int64_t n = T - t0 < BLOCK ? T - t0 : BLOCK;
    memset(blk, 0, (size_t)n * ch * sizeof *blk);
    /* Straight part: the reader is sequential here. */
    if (t0 < direct_end) {
      int64_t m = direct_end - t0 < n ? direct_end - t0 : n, left = m;
      float *p = blk;
      while (left > 0) {
        size_t got = 0;
        if ((st = sg_audio_reader_read(rd, p, (size_t)left, &got, d)) != SG_OK)
          goto done;
        if (!got)
          break;
        p += got * ch;
        left -= (int64_t)got;
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      int64_t t = t0 + i;
      float *o = blk + (size_t)i * ch;
      if (ref->fit == SG_REF_FIT_LOOP) {
        /* Looped region: find this frame's iteration (iterations start on the grid). */
        if (t >= direct_end) {
          while (t >= it_next) {
            it_index++;
            it_start = it_next;
            it_next = sg_timeline_bar_frame(tl, first_loop_bar + (it_index + 1) * loop_bars_total);
            if (it_next <= it_start)
              it_next = it_start + lp.len;
          }
          int64_t k = t - it_start;
          const float *s = k < lp.len ? lp.buf + (size_t)(lp.pre + k) * ch : NULL;
          for (unsigned c = 0; c < ch; ++c)
            o[c] = s ? s[c] : 0.0f;
        }
        /* Equal-power crossfade ending on the next iteration's first bar line. */
        int64_t next_line = t < direct_end ? direct_end : it_next;
        if (next_line < T && t >= next_line - xf) {
          double u = (double)(t - (next_line - xf) + 1) / (double)xf; /* (0, 1] */
          float gout = (float)cos(0.5 * SG_PI * u), gin = (float)sin(0.5 * SG_PI * u);
          const float *s = lp.buf + (size_t)(t - (next_line - xf)) * ch;
          for (unsigned c = 0; c < ch; ++c)
            o[c] = gout * o[c] + gin * s[c];
        }
      }
      if (fade_len > 0 && t >= fade_end - fade_len && t < fade_end) {
        float g = fade_out((double)(t - (fade_end - fade_len) + 1) / (double)fade_len);
        for (unsigned c = 0; c < ch; ++c)
          o[c] *= g;
      } else if ((ref->fit == SG_REF_FIT_FADE || ref->fit == SG_REF_FIT_LOOP) && t >= fade_end) {
        for (unsigned c = 0; c < ch; ++c)
          o[c] = 0.0f;
      }
    }
    if ((st = sg_audio_writer_write(wr, blk, (size_t)n, d)) != SG_OK)
      goto done;
  }
  ref->drums_frames = sg_audio_writer_frames(wr);
  st = sg_audio_writer_close(wr, d);
  wr = NULL;
  if (st != SG_OK)
    goto done;

  sg_gate_row(gates, SG_CHECK_REFERENCE_FIT, step, stem, (double)ref->song_frames, 0, 0,
              ref->fit_desc, SG_SEV_INFO, NULL);
  char det[128];
  snprintf(det, sizeof det, "%lld frames written, song %lld frames", (long long)ref->drums_frames,
           (long long)T);
  st = sg__ref_check(gates, SG_CHECK_LENGTH_FRAMES, step, stem, (double)ref->drums_frames,
                     (double)T, 0, det, SG_SEV_FAIL, d);
done:
  sg_audio_writer_abort(wr);
  sg_audio_reader_close(rd);
  free(blk);
  free(lp.buf);
  return st;
}
