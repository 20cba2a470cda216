/* PCG32 random numbers (M. E. O'Neill, "PCG: A Family of Simple Fast Space-Efficient
 * Statistically Good Algorithms for Random Number Generation", 2014), seeded from the spec so
 * every render is reproducible bit for bit. */
#include "stemgate/core.h"

#include <math.h>

void sg_rng_seed(sg_rng *r, uint64_t seed, uint64_t stream) {
  r->state = 0u;
  r->inc = (stream << 1u) | 1u;
  (void)sg_rng_u32(r);
  r->state += seed;
  (void)sg_rng_u32(r);
}

uint32_t sg_rng_u32(sg_rng *r) {
  uint64_t old = r->state;
  r->state = old * 6364136223846793005ULL + r->inc;
  uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
  uint32_t rot = (uint32_t)(old >> 59u);
  return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

double sg_rng_uniform(sg_rng *r) { return sg_rng_u32(r) * (1.0 / 4294967296.0); }

double sg_rng_range(sg_rng *r, double lo, double hi) { return lo + (hi - lo) * sg_rng_uniform(r); }

float sg_rng_tpdf(sg_rng *r) { return (float)(sg_rng_uniform(r) - sg_rng_uniform(r)); }

double sg_rng_normal(sg_rng *r) {
  double u1 = sg_rng_uniform(r);
  double u2 = sg_rng_uniform(r);
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(2.0 * SG_PI * u2);
}

uint64_t sg_hash64(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; s && *s; ++s) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ULL;
  }
  return h;
}
