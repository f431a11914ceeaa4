/*
 * fail_alloc.h - the failing allocations of the allocation tests
 * (test_alloc, test_alloc_capi): the C core's malloc, calloc, realloc and
 * strdup (wrapped at link time with -Wl,--wrap=...) and a lua_Alloc for the
 * Lua state all count; once the count reaches fail_at (0: never), each of
 * them fails and failed_once is set. Frees always succeed, and shrinking
 * never fails.
 */
#ifndef FAIL_ALLOC_H
#define FAIL_ALLOC_H

#include <stdio.h>
#include <stdlib.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

static long counter = 0, fail_at = 0; /* 0: never fail */
static int failed_once = 0;

static int should_fail(void) {
  counter++;
  if (fail_at > 0 && counter >= fail_at) {
    failed_once = 1;
    return 1;
  }
  return 0;
}

void *__wrap_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t m) { return should_fail() ? NULL : __real_calloc(n, m); }
void *__wrap_realloc(void *p, size_t n) { return should_fail() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return should_fail() ? NULL : __real_strdup(s); }

/* the Lua allocator */
static void *lalloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  if (ptr != NULL && nsize <= osize) return __real_realloc(ptr, nsize);
  if (should_fail()) return NULL;
  return __real_realloc(ptr, nsize);
}

/* The step of the sampling: argv[1], else PEFT_ALLOC_STEP, else 1. */
static long alloc_step(int argc, char **argv) {
  const char *env = getenv("PEFT_ALLOC_STEP");
  long step = argc > 1 ? atol(argv[1]) : env ? atol(env) : 1;
  return step < 1 ? 1 : step;
}

/* Runs scenario(arg) with the K-th allocation failing, for K = first,
 * first + step, ... until a run completes (every allocation was tried).
 * scenario returns 0 (it worked), 1 (the failure was reported cleanly) or
 * -1 (a wrong outcome, printed as "not ok" with total, the allocations of a
 * clean run). Returns the wrong outcomes; *runs: the runs made. */
static long fail_in_turn(int (*scenario)(void *), void *arg, long first, long step, long total, long *runs) {
  long bad = 0;
  *runs = 0;
  for (long k = first;; k += step) {
    counter = 0;
    fail_at = k;
    failed_once = 0;
    int r = scenario(arg);
    fail_at = 0;
    ++*runs;
    if (r < 0) {
      bad++;
      printf("not ok - failing allocation %ld of %ld gave a wrong outcome\n", k, total);
    }
    if (!failed_once) break;
  }
  return bad;
}

#endif
