/* Standalone driver for a fuzz target, for compilers without libFuzzer (the smoke run that
 * ctest does on every build, gcc or clang, with or without the sanitizers).
 *
 *   fuzz_X                       the seeds, then 2000 mutations (seed 1), at most 10 s
 *   fuzz_X --runs N --seed S --seconds T
 *   fuzz_X --alloc-fail K        each seed again with allocation n failing, n = 1..K (or up to
 *                                the number of allocations the seed makes, whichever is lower)
 *   fuzz_X --write-seeds DIR     writes the seeds as files (a corpus for libFuzzer)
 *   fuzz_X FILE...               replays files (a crash or a libFuzzer corpus); with
 *                                --alloc-fail K, each file under the allocation sweep
 *
 * Mutations are the usual byte-level ones (flip, set to an interesting value, insert, delete,
 * duplicate a block, splice two seeds, truncate) from a PCG32 stream, so a run is repeatable
 * from its seed; the seed is printed.
 *
 * The allocation-failure mode replaces malloc, calloc and realloc for the whole process (glibc
 * allows it; the real allocator is reached through __libc_malloc and friends) and fails the
 * n-th call after the input starts, as libebur128's fuzzer does with its allocator hook. Only
 * calls made from the program's own code (stemgate's, linked statically into the target) are
 * counted, not those from the shared libraries underneath: libsndfile 1.2.0 dereferences a
 * failed allocation inside sf_open_virtual (a crash in its code, reported in fuzz/README.md),
 * which would stop every sweep there. SG_FUZZ_ALLOC_ALL=1 counts every caller. AddressSanitizer
 * owns malloc, so under it the mode is off and says so. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__)
#define SG_FUZZ_HOOK 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SG_FUZZ_HOOK 0
#endif
#endif
#ifndef SG_FUZZ_HOOK
#define SG_FUZZ_HOOK 1
#endif

static long g_alloc_count; /* allocations since the input started */
static long g_fail_at;     /* 0: never fail; n: fail the n-th */
static int g_counting;

#if SG_FUZZ_HOOK
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);

/* The program's own code, as the GNU linker marks it. */
extern char __executable_start, etext;
static int g_all_callers;

static int fail_now(const void *caller) {
  if (!g_counting)
    return 0;
  if (!g_all_callers &&
      ((const char *)caller < &__executable_start || (const char *)caller >= &etext))
    return 0;
  return ++g_alloc_count == g_fail_at;
}
void *malloc(size_t n) { return fail_now(__builtin_return_address(0)) ? NULL : __libc_malloc(n); }
void *calloc(size_t n, size_t m) {
  return fail_now(__builtin_return_address(0)) ? NULL : __libc_calloc(n, m);
}
void *realloc(void *p, size_t n) {
  return fail_now(__builtin_return_address(0)) ? NULL : __libc_realloc(p, n);
}
#endif

/* ---- inputs ----------------------------------------------------------------------------- */

typedef struct input {
  uint8_t *data;
  size_t size;
} input;

typedef struct inputs {
  input *v;
  int n, cap;
} inputs;

static void add_input(void *user, const uint8_t *data, size_t size) {
  inputs *in = user;
  if (in->n == in->cap) {
    in->cap = in->cap ? in->cap * 2 : 16;
    in->v = realloc(in->v, (size_t)in->cap * sizeof *in->v);
    if (!in->v)
      abort();
  }
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy)
    abort();
  if (size)
    memcpy(copy, data, size);
  in->v[in->n++] = (input){copy, size};
}

static int read_file(const char *path, inputs *in) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  uint8_t *b = NULL;
  size_t n = 0, cap = 0, got;
  do {
    if (n == cap && !(b = realloc(b, cap = cap ? cap * 2 : 65536)))
      abort();
    got = fread(b + n, 1, cap - n, f);
    n += got;
  } while (got > 0);
  fclose(f);
  add_input(in, b, n);
  free(b);
  return 0;
}

/* ---- mutations -------------------------------------------------------------------------- */

static uint64_t g_rng = 0x853c49e6748fea9bULL;

static uint32_t rnd(void) { /* PCG32 (O'Neill 2014), XSH RR */
  uint64_t old = g_rng;
  g_rng = old * 6364136223846793005ULL + 1442695040888963407ULL;
  uint32_t x = (uint32_t)(((old >> 18u) ^ old) >> 27u), r = (uint32_t)(old >> 59u);
  return (x >> r) | (x << ((-r) & 31));
}

static uint32_t below(uint32_t n) { return n ? rnd() % n : 0; }

static const int64_t INTERESTING[] = {0,     1,          -1,         0x7f,       0x80,
                                      0xff,  0x7fff,     0x8000,     0xffff,     0x7fffffff,
                                      65536, 0x80000000, 0xffffffff, 0x10000000, 44100};

/* Mutates buf (size *n, capacity cap) in place. */
static void mutate(uint8_t *buf, size_t *n, size_t cap, const inputs *seeds) {
  int k = 1 + (int)below(6);
  for (int i = 0; i < k; ++i) {
    size_t at = below((uint32_t)(*n ? *n : 1));
    switch (below(8)) {
    case 0: /* flip a bit */
      if (*n)
        buf[at] ^= (uint8_t)(1u << below(8));
      break;
    case 1: /* a random byte */
      if (*n)
        buf[at] = (uint8_t)rnd();
      break;
    case 2: { /* an interesting value, 1/2/4 bytes, either endianness */
      int64_t v = INTERESTING[below(sizeof INTERESTING / sizeof *INTERESTING)];
      size_t w = (size_t)1 << below(3);
      int be = (int)below(2);
      for (size_t j = 0; j < w && at + j < *n; ++j)
        buf[at + j] = (uint8_t)(v >> (8 * (be ? w - 1 - j : j)));
      break;
    }
    case 3: { /* insert random bytes */
      size_t m = 1 + below(16);
      if (*n + m <= cap) {
        memmove(buf + at + m, buf + at, *n - at);
        for (size_t j = 0; j < m; ++j)
          buf[at + j] = (uint8_t)rnd();
        *n += m;
      }
      break;
    }
    case 4: { /* delete a block */
      size_t m = 1 + below(64);
      if (at + m <= *n) {
        memmove(buf + at, buf + at + m, *n - at - m);
        *n -= m;
      }
      break;
    }
    case 5: { /* copy a block over another place */
      size_t m = 1 + below(32), from = below((uint32_t)(*n ? *n : 1));
      if (from + m <= *n && at + m <= *n)
        memmove(buf + at, buf + from, m);
      break;
    }
    case 6: { /* splice: the tail of another seed */
      const input *o = &seeds->v[below((uint32_t)seeds->n)];
      size_t from = below((uint32_t)(o->size ? o->size : 1));
      size_t m = o->size - (from < o->size ? from : o->size);
      if (at + m > cap)
        m = cap - at;
      memcpy(buf + at, o->data + from, m);
      *n = at + m;
      break;
    }
    default: /* truncate */
      *n = at;
      break;
    }
  }
}

/* ---- runs ------------------------------------------------------------------------------- */

static void run_one(const uint8_t *data, size_t size) {
  /* A private copy of exactly size bytes, so a read past the end is a sanitizer report. */
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy)
    abort();
  if (size)
    memcpy(copy, data, size);
  LLVMFuzzerTestOneInput(copy, size);
  free(copy);
}

/* Runs one input with allocation n failing for n = 1..max (or as many as it makes). */
static long alloc_sweep(const input *in, long max) {
  g_fail_at = 0;
  g_alloc_count = 0;
  g_counting = 1;
  run_one(in->data, in->size);
  g_counting = 0;
  long total = g_alloc_count - 1; /* the driver's copy of the input is not the target's */
  if (total < 1)
    total = 1;
  long upto = total < max ? total : max, runs = 0;
  for (long n = 1; n <= upto; ++n) {
    g_alloc_count = 0;
    g_fail_at = n + 1; /* + 1: the driver's own copy is the first allocation */
    g_counting = 1;
    run_one(in->data, in->size);
    g_counting = 0;
    ++runs;
  }
  g_fail_at = 0;
  return runs;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  long runs = 2000, alloc_max = 0;
  unsigned long long seed = 1;
  double seconds = 10;
  const char *write_dir = NULL;
  inputs files = {0};
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--runs") && i + 1 < argc)
      runs = atol(argv[++i]);
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
      seed = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
      seconds = atof(argv[++i]);
    else if (!strcmp(argv[i], "--alloc-fail") && i + 1 < argc)
      alloc_max = atol(argv[++i]);
    else if (!strcmp(argv[i], "--write-seeds") && i + 1 < argc)
      write_dir = argv[++i];
    else if (argv[i][0] == '-') {
      fprintf(stderr,
              "usage: %s [--runs N] [--seed S] [--seconds T] [--alloc-fail K] "
              "[--write-seeds DIR] [FILE...]\n",
              argv[0]);
      return 2;
    } else if (read_file(argv[i], &files) != 0) {
      fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
      return 2;
    }
  }
  inputs seeds = {0};
  sg_fuzz_seeds(add_input, &seeds);
  if (seeds.n == 0) {
    fprintf(stderr, "%s: the target made no seeds\n", argv[0]);
    return 1;
  }
  if (write_dir) {
    for (int i = 0; i < seeds.n; ++i) {
      char path[4096];
      snprintf(path, sizeof path, "%s/seed-%03d", write_dir, i);
      FILE *f = fopen(path, "wb");
      if (!f || fwrite(seeds.v[i].data, 1, seeds.v[i].size, f) != seeds.v[i].size) {
        fprintf(stderr, "%s: cannot write %s\n", argv[0], path);
        return 2;
      }
      fclose(f);
    }
    printf("%d seeds written to %s\n", seeds.n, write_dir);
    return 0;
  }
  const inputs *base = files.n ? &files : &seeds;
  double t0 = now();
  for (int i = 0; i < base->n; ++i)
    run_one(base->v[i].data, base->v[i].size);
  printf("%s: %d %s replayed\n", argv[0], base->n, files.n ? "files" : "seeds");
  if (alloc_max > 0) {
#if SG_FUZZ_HOOK
    g_all_callers = getenv("SG_FUZZ_ALLOC_ALL") != NULL;
#endif
    if (!SG_FUZZ_HOOK) {
      printf("%s: allocation-failure mode is off under AddressSanitizer\n", argv[0]);
    } else {
      long total = 0;
      for (int i = 0; i < base->n; ++i)
        total += alloc_sweep(&base->v[i], alloc_max);
      printf("%s: %ld runs with one allocation failing (up to the %ld-th per input)\n", argv[0],
             total, alloc_max);
    }
  }
  if (!files.n && runs > 0) {
    g_rng = seed * 0x9e3779b97f4a7c15ULL + 1;
    size_t cap = 0;
    for (int i = 0; i < seeds.n; ++i)
      cap = seeds.v[i].size > cap ? seeds.v[i].size : cap;
    cap = cap * 2 + 256;
    uint8_t *buf = malloc(cap);
    if (!buf)
      abort();
    long done = 0;
    double t1 = now();
    for (; done < runs && now() - t1 < seconds; ++done) {
      const input *s = &seeds.v[below((uint32_t)seeds.n)];
      size_t n = s->size;
      memcpy(buf, s->data, n);
      mutate(buf, &n, cap, &seeds);
      run_one(buf, n);
    }
    double dt = now() - t1;
    printf("%s: %ld mutations (seed %llu) in %.2f s, %.0f exec/s\n", argv[0], done, seed, dt,
           dt > 0 ? done / dt : 0.0);
    free(buf);
  }
  printf("%s: done in %.2f s, no finding\n", argv[0], now() - t0);
  for (int i = 0; i < seeds.n; ++i)
    free(seeds.v[i].data);
  free(seeds.v);
  for (int i = 0; i < files.n; ++i)
    free(files.v[i].data);
  free(files.v);
  return 0;
}
