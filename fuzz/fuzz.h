/* What every fuzz target provides and what the two drivers around it need.
 *
 * A target is one file fuzz/fuzz_<name>.c with the libFuzzer entry point and its seed inputs,
 * made in code (nothing binary is committed): under clang it links libFuzzer (make fuzz), under
 * any compiler it links fuzz/driver.c, a standalone driver that replays the seeds and a bounded
 * number of deterministic mutations, or fails the n-th allocation (the smoke run in ctest).
 * A finding is a crash, a sanitizer report or an abort() from the target's own invariants. */
#ifndef SG_FUZZ_H
#define SG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Called once per seed input by sg_fuzz_seeds. */
typedef void (*sg_fuzz_add_fn)(void *user, const uint8_t *data, size_t size);
/* Makes the target's seed inputs. */
void sg_fuzz_seeds(sg_fuzz_add_fn add, void *user);

#endif
