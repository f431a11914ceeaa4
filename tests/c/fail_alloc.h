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

#endif
