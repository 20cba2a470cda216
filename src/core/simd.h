/* Internal to stemgate: function multiversioning for the hot analysis kernels (the STFTs' FFT,
 * the meter's sums, verify's cross-correlation). SG__CLONES on a function makes GCC compile it
 * twice, for baseline x86-64 (SSE2) and for AVX2, and pick one at load time (an ifunc), so the
 * binary still runs on any x86-64. The clones compute the same bits: only the vector width
 * differs, GCC never reassociates floating-point sums without -ffast-math, and ISO C mode keeps
 * -ffp-contract=off, so no FMA is formed (the "avx2" target does not enable FMA anyway).
 * SG__INLINE forces a helper into its caller, so it is compiled for each clone's target. */
#ifndef SG_CORE_SIMD_H
#define SG_CORE_SIMD_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) &&       \
    !defined(SG_NO_CLONES)
#define SG__CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SG__CLONES
#endif

#if defined(__GNUC__)
#define SG__INLINE inline __attribute__((always_inline))
#else
#define SG__INLINE inline
#endif

#endif
