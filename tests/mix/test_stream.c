/* The mix module's block streams: a stem added into the bus (sg__in_add) gives the same bits as
 * read (sg__in_read) and summed; a master pass's own meter, with the end fade, reads exactly what
 * the float32 writer's tap meters of the written frames (the master's acceptance rule is the
 * same whether a pass streams to the writer or not). */
#include "sg_test.h"

#include "mix/mix_internal.h"
#include "stemgate/analysis.h"
#include "stemgate/core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000

/* Noise with exact zeros of both signs now and then. */
static float *stem_samples(int64_t frames, unsigned ch, uint64_t seed) {
  float *x = malloc((size_t)frames * ch * sizeof *x);
  sg_rng r;
  sg_rng_seed(&r, seed, 1);
  for (int64_t i = 0; i < frames * (int64_t)ch; ++i) {
    const double u = sg_rng_uniform(&r);
    x[i] = u < 0.02 ? -0.0f : u < 0.04 ? 0.0f : (float)(0.8 * (2 * sg_rng_uniform(&r) - 1));
  }
  return x;
}

static int same_bits(const float *a, const float *b, size_t n) {
  return memcmp(a, b, n * sizeof *a) == 0;
}

/* Mono and stereo stems of odd lengths, read in whole blocks past their end, into a bus that
 * holds -0 (which a 0 read past the end turns into +0): the same bits either way. */
static void in_add_is_read_then_sum(void **st) {
  (void)st;
  const int64_t lens[3] = {1, SG_MIX_BLOCK - 3, 2 * SG_MIX_BLOCK + 777};
  for (unsigned ch = 1; ch <= 2; ++ch)
    for (int li = 0; li < 3; ++li) {
      const int64_t n = lens[li];
      char path[1024];
      snprintf(path, sizeof path, "%s", sg_test_path("in_add.wav"));
      float *x = stem_samples(n, ch, 11 + ch);
      sg_audio_writer_config c = sg_test_writer_config(RATE, ch);
      assert_int_equal(sg_audio_write_all(path, x, n, &c, NULL), SG_OK);
      free(x);
      sg__in *a = malloc(sizeof *a), *b = malloc(sizeof *b);
      assert_int_equal(sg__in_open(a, path, NULL), SG_OK);
      assert_int_equal(sg__in_open(b, path, NULL), SG_OK);
      float *L0 = malloc(SG_MIX_BLOCK * sizeof(float)), *R0 = malloc(SG_MIX_BLOCK * sizeof(float));
      float *L1 = malloc(SG_MIX_BLOCK * sizeof(float)), *R1 = malloc(SG_MIX_BLOCK * sizeof(float));
      float *tL = malloc(SG_MIX_BLOCK * sizeof(float)), *tR = malloc(SG_MIX_BLOCK * sizeof(float));
      float *bus = stem_samples(SG_MIX_BLOCK, 2, 99);
      for (int64_t pos = 0; pos < n + SG_MIX_BLOCK; pos += SG_MIX_BLOCK) {
        for (size_t k = 0; k < SG_MIX_BLOCK; ++k) {
          L0[k] = L1[k] = bus[2 * k];
          R0[k] = R1[k] = bus[2 * k + 1];
        }
        assert_int_equal(sg__in_read(a, tL, tR, SG_MIX_BLOCK, NULL), SG_OK);
        for (size_t k = 0; k < SG_MIX_BLOCK; ++k) {
          L0[k] += tL[k];
          R0[k] += tR[k];
        }
        assert_int_equal(sg__in_add(b, L1, R1, SG_MIX_BLOCK, NULL), SG_OK);
        assert_true(same_bits(L0, L1, SG_MIX_BLOCK));
        assert_true(same_bits(R0, R1, SG_MIX_BLOCK));
        for (size_t k = 0; pos >= n && k < SG_MIX_BLOCK; ++k) { /* wholly past the end */
          if (bus[2 * k] == 0.0f)
            assert_false(signbit(L1[k])); /* -0 + 0 is +0, as the zeros read */
          else
            assert_true(L1[k] == bus[2 * k]);
        }
      }
      sg__in_close(a);
      sg__in_close(b);
      free(a), free(b), free(L0), free(R0), free(L1), free(R1), free(tL), free(tR), free(bus);
    }
}

/* One pass's frames (planar blocks) metered by the side with the end fade, and the same frames
 * written through sg__out to a float32 writer whose tap is an sg_meter: the integrated loudness
 * and true peak agree to the bit. The song ends on a whole 100 ms step, so the fade moves the
 * loudness (checked: without it the side reads otherwise), and its last 20 ms hold the peak. */
static void pass_meter_reads_what_the_writer_taps(void **st) {
  (void)st;
  const int64_t frames = 3 * RATE;
  for (unsigned ch = 1; ch <= 2; ++ch) {
    float *L = malloc((size_t)frames * sizeof *L), *R = malloc((size_t)frames * sizeof *R);
    sg_rng r;
    sg_rng_seed(&r, 5, ch);
    for (int64_t i = 0; i < frames; ++i) {
      const double env = i > frames - RATE / 100 ? 1.0 : 0.3;
      L[i] = (float)(env * (2 * sg_rng_uniform(&r) - 1));
      R[i] = (float)(env * sin(2 * SG_PI * 440 * (double)i / RATE));
    }
    double lufs[2], tp[2];
    for (int fade = 0; fade < 2; ++fade) {
      sg__pass_meter *m = malloc(sizeof *m);
      assert_int_equal(sg__pass_meter_init(m, ch, RATE, 1), SG_OK);
      sg__side *s = NULL;
      assert_int_equal(sg__side_start(&s, m, NULL, SG__SIDE_INTERLEAVED, ch, NULL), SG_OK);
      if (fade)
        sg__side_set_fade(s, frames, sg__end_fade_len(frames, RATE));
      for (int64_t pos = 0; pos < frames; pos += SG_MIX_BLOCK) {
        const size_t n = (size_t)(frames - pos < SG_MIX_BLOCK ? frames - pos : SG_MIX_BLOCK);
        assert_int_equal(sg__side_push(s, L + pos, R + pos, n, 0, n), SG_OK);
      }
      assert_int_equal(sg__side_finish(s, NULL), SG_OK);
      sg__side_free(s);
      sg__pass_meter_get(m, &lufs[fade], &tp[fade]);
      sg__pass_meter_free(m);
      free(m);
    }
    sg_meter *meter;
    assert_int_equal(sg_meter_create(&meter, ch, RATE, SG_METER_ALL, NULL), SG_OK);
    sg__out *o = malloc(sizeof *o);
    sg_audio_writer_config c = sg_test_writer_config(RATE, ch);
    assert_int_equal(sg__out_open(o, sg_test_path("pass.wav"), &c, frames, meter, NULL), SG_OK);
    for (int64_t pos = 0; pos < frames; pos += 1000) /* other blocks than the pass's */
      assert_int_equal(sg__out_write(o, L + pos, R + pos, 1000, NULL), SG_OK);
    assert_int_equal(sg__out_close(o, NULL), SG_OK);
    sg_meter_result res;
    assert_int_equal(sg_meter_result_get(meter, &res), SG_OK);
    printf("%u ch: pass %.9f LUFS %.6f dBTP (without the fade %.9f, %.6f), tap %.9f, %.6f\n", ch,
           lufs[1], tp[1], lufs[0], tp[0], res.integrated_lufs, res.true_peak_dbtp);
    assert_true(lufs[1] == res.integrated_lufs);
    assert_true(tp[1] == res.true_peak_dbtp);
    assert_true(lufs[0] != lufs[1] && tp[0] != tp[1]);
    sg_meter_free(meter);
    free(o), free(L), free(R);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(in_add_is_read_then_sum),
      cmocka_unit_test(pass_meter_reads_what_the_writer_taps),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
