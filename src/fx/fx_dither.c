/* TPDF dither and quantisation to integer PCM. See include/stemgate/fx.h.
 *
 * Triangular-PDF dither of +-1 LSB peak (the sum of two independent uniform values) makes the
 * first and second moments of the quantisation error independent of the signal (Lipshitz,
 * Wannamaker & Vanderkooy, "Quantization and Dither: A Theoretical Survey", JAES 1992); the
 * total error power is then LSB^2/4 (LSB^2/12 rounding + LSB^2/6 dither). */
#include "stemgate/fx.h"

#include <math.h>

static size_t quantize(sg_rng *rng, const float *in, int32_t *iout, float *fout, size_t n,
                       int bits) {
  if (bits < 8)
    bits = 8;
  if (bits > 32)
    bits = 32;
  const double scale = ldexp(1.0, bits - 1);
  const double lo = -scale, hi = scale - 1;
  size_t clipped = 0;
  for (size_t i = 0; i < n; ++i) {
    double v = (double)in[i] * scale;
    if (rng)
      v += (double)sg_rng_tpdf(rng);
    v = floor(v + 0.5);
    if (v < lo) {
      v = lo;
      ++clipped;
    } else if (v > hi) {
      v = hi;
      ++clipped;
    }
    if (iout)
      iout[i] = (int32_t)v;
    else
      fout[i] = (float)(v / scale);
  }
  return clipped;
}

size_t sg_dither_to_int(sg_rng *rng, const float *in, int32_t *out, size_t n, int bits) {
  return quantize(rng, in, out, NULL, n, bits);
}

size_t sg_dither_quantize(sg_rng *rng, const float *in, float *out, size_t n, int bits) {
  return quantize(rng, in, NULL, out, n, bits);
}
