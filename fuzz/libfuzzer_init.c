/* libFuzzer side of a target: with SG_FUZZ_SEEDS=DIR in the environment the target first writes
 * its seed inputs into DIR (seed-000, seed-001, ...), which make fuzz passes as the corpus. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);

typedef struct seed_dir {
  const char *dir;
  int n;
} seed_dir;

static void write_seed(void *user, const uint8_t *data, size_t size) {
  seed_dir *s = user;
  char path[4096];
  snprintf(path, sizeof path, "%s/seed-%03d", s->dir, s->n++);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size) {
    fprintf(stderr, "fuzz: cannot write %s\n", path);
    exit(2);
  }
  fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *dir = getenv("SG_FUZZ_SEEDS");
  if (dir && dir[0]) {
    seed_dir s = {dir, 0};
    sg_fuzz_seeds(write_seed, &s);
    fprintf(stderr, "fuzz: wrote %d seeds to %s\n", s.n, dir);
  }
  return 0;
}
