/* test_pool.c - the executable's Lua allocator (peft_pool): blocks keep their
 * contents and alignment through every kind of resize, never overlap, are
 * reused by their size class, slabs are counted and released, a failed
 * allocation leaves the old block intact, and a Lua state runs on it.
 * malloc and calloc are wrapped at link time (-Wl,--wrap=...) to make them fail. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "ctest.h"
#include "peft_pool.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);

static int malloc_fails = 0; /* while set, the pool's malloc and calloc calls fail */

void *__wrap_malloc(size_t n) { return malloc_fails ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t m) { return malloc_fails ? NULL : __real_calloc(n, m); }

static void *A(peft_pool *p, void *ptr, size_t osize, size_t nsize) {
  return peft_pool_lalloc(p, ptr, osize, nsize);
}

static unsigned char pattern(size_t id, size_t i) { return (unsigned char)(id * 131 + i * 7 + 1); }

static void fill(unsigned char *b, size_t id, size_t n) {
  for (size_t i = 0; i < n; i++) b[i] = pattern(id, i);
}

static int intact(const unsigned char *b, size_t id, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (b[i] != pattern(id, i)) return 0;
  return 1;
}

/* a small deterministic generator (xorshift) */
static uint32_t rng = 2463534242u;
static uint32_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

#define LIVE 4000

TEST(random_operations_keep_contents_and_alignment) {
  peft_pool *p = peft_pool_new();
  CHECK(p != NULL);
  static unsigned char *block[LIVE];
  static size_t size[LIVE], id[LIVE];
  size_t next_id = 1;
  int bad_align = 0, bad_content = 0;
  for (int step = 0; step < 200000; step++) {
    size_t k = next_rand() % LIVE;
    /* sizes straddle every class and the pool/malloc boundary */
    size_t n = 1 + next_rand() % (PEFT_POOL_MAX_SMALL + 200);
    if (block[k] == NULL) {
      block[k] = A(p, NULL, 5 /* a type tag, not a size */, n);
      size[k] = n;
      id[k] = next_id++;
      fill(block[k], id[k], n);
    } else if (next_rand() % 3 == 0) {
      if (!intact(block[k], id[k], size[k])) bad_content++;
      CHECK(A(p, block[k], size[k], 0) == NULL);
      block[k] = NULL;
    } else {
      if (!intact(block[k], id[k], size[k])) bad_content++;
      unsigned char *nb = A(p, block[k], size[k], n);
      size_t keep = n < size[k] ? n : size[k];
      if (!intact(nb, id[k], keep)) bad_content++;
      block[k] = nb;
      size[k] = n;
      id[k] = next_id++;
      fill(nb, id[k], n);
    }
    if (block[k] && (uintptr_t)block[k] % PEFT_POOL_GRAIN != 0) bad_align++;
  }
  for (size_t k = 0; k < LIVE; k++) {
    if (block[k]) {
      if (!intact(block[k], id[k], size[k])) bad_content++;
      A(p, block[k], size[k], 0);
      block[k] = NULL;
    }
  }
  CHECK_INT(bad_align, 0);
  CHECK_INT(bad_content, 0);
  peft_pool_delete(p);
}

TEST(size_classes_are_reused_and_resized_in_place) {
  peft_pool *p = peft_pool_new();
  void *a = A(p, NULL, 0, 32);
  CHECK(A(p, a, 32, 0) == NULL);
  CHECK(A(p, NULL, 0, 17) == a); /* 17 and 32 bytes share the 32-byte class */
  CHECK(A(p, a, 17, 30) == a);   /* same class: resized in place */
  void *b = A(p, a, 30, 40);     /* the next class: moved */
  CHECK(b != a);
  CHECK(A(p, NULL, 0, 32) == a); /* the old block went back to its class */
  void *big = A(p, NULL, 0, PEFT_POOL_MAX_SMALL + 1);
  CHECK(big != NULL);
  void *bigger = A(p, big, PEFT_POOL_MAX_SMALL + 1, 100000);
  CHECK(bigger != NULL);
  void *small = A(p, bigger, 100000, 8); /* from malloc back into the pool */
  CHECK(small != NULL);
  A(p, small, 8, 0);
  A(p, b, 40, 0);
  A(p, a, 32, 0);
  peft_pool_delete(p);
}

TEST(slabs_are_counted) {
  peft_pool *p = peft_pool_new();
  CHECK_INT(peft_pool_slabs(p), 0);
  void *big = A(p, NULL, 0, 10000); /* from malloc: no slab */
  CHECK_INT(peft_pool_slabs(p), 0);
  A(p, big, 10000, 0);
  /* a slab holds (64 KiB - one grain) / 16 = 4095 blocks of 16 bytes */
  size_t per_slab = (PEFT_POOL_SLAB - PEFT_POOL_GRAIN) / 16;
  for (size_t i = 0; i < per_slab; i++) A(p, NULL, 0, 16);
  CHECK_INT(peft_pool_slabs(p), 1);
  A(p, NULL, 0, 16);
  CHECK_INT(peft_pool_slabs(p), 2);
  peft_pool_delete(p); /* releases both slabs and every block in them */
}

TEST(failed_allocations_leave_the_old_block) {
  peft_pool *p = peft_pool_new();
  unsigned char *a = A(p, NULL, 0, 100);
  fill(a, 7, 100);
  malloc_fails = 1;
  CHECK(A(p, NULL, 0, 1000) == NULL);                   /* large: malloc fails */
  CHECK(A(p, a, 100, 1000) == NULL);                    /* small to large */
  CHECK(intact(a, 7, 100));
  CHECK(A(p, a, 100, 110) == a);                        /* same class needs nothing */
  /* the rest of the first slab serves other classes until it runs out */
  int failed = 0;
  for (int i = 0; i < 1000 && !failed; i++) failed = A(p, NULL, 0, 256) == NULL;
  CHECK(failed);
  CHECK(A(p, a, 110, 200) == NULL);                     /* to a class with no block left */
  CHECK(intact(a, 7, 100));
  malloc_fails = 0;
  unsigned char *b = A(p, a, 110, 200);
  CHECK(b != NULL && intact(b, 7, 100));
  A(p, b, 200, 0);
  peft_pool_delete(p);
  malloc_fails = 1;
  CHECK(peft_pool_new() == NULL);
  malloc_fails = 0;
}

TEST(a_lua_state_runs_on_the_pool) {
  peft_pool *p = peft_pool_new();
  lua_State *L = lua_newstate(peft_pool_lalloc, p);
  CHECK(L != NULL);
  luaL_openlibs(L);
  const char *code =
      "local t = {}\n"
      "for i = 1, 20000 do t[i] = { i, tostring(i) .. string.rep('x', i % 300) } end\n"
      "for i = 1, 20000, 2 do t[i] = nil end\n"
      "collectgarbage()\n"
      "local n = 0\n"
      "for i = 2, 20000, 2 do n = n + #t[i][2] + t[i][1] end\n"
      "return n";
  CHECK_INT(luaL_dostring(L, code), LUA_OK);
  long long expect = 0;
  for (long long i = 2; i <= 20000; i += 2) {
    int digits = i < 10 ? 1 : i < 100 ? 2 : i < 1000 ? 3 : i < 10000 ? 4 : 5;
    expect += digits + i % 300 + i;
  }
  CHECK_INT(lua_tointeger(L, -1), expect);
  lua_close(L);
  CHECK(peft_pool_slabs(p) > 0);
  peft_pool_delete(p);
}

int main(void) {
  RUN(random_operations_keep_contents_and_alignment);
  RUN(size_classes_are_reused_and_resized_in_place);
  RUN(slabs_are_counted);
  RUN(failed_allocations_leave_the_old_block);
  RUN(a_lua_state_runs_on_the_pool);
  return ctest_summary("test_pool");
}
