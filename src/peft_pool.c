/*
 * peft_pool.c - size-class allocator for the executable's Lua state (see
 * peft_pool.h).
 */
#include "peft_pool.h"

#include <stdlib.h>
#include <string.h>

#define NCLASS (PEFT_POOL_MAX_SMALL / PEFT_POOL_GRAIN + 1) /* class 0 unused */

typedef struct slab {
  struct slab *next;
} slab;

/* the first block of a slab starts one grain in, keeping blocks aligned */
_Static_assert(sizeof(slab) <= PEFT_POOL_GRAIN, "slab header must fit in one grain");
_Static_assert(PEFT_POOL_GRAIN >= sizeof(void *), "a free block must hold a pointer");

struct peft_pool {
  void *free[NCLASS]; /* per class: free blocks, linked through their first word */
  char *bump, *end;   /* the unused rest of the newest slab */
  slab *slabs;
  size_t nslabs;
};

static size_t class_of(size_t n) { return (n + PEFT_POOL_GRAIN - 1) / PEFT_POOL_GRAIN; }

peft_pool *peft_pool_new(void) { return calloc(1, sizeof(peft_pool)); }

void peft_pool_delete(peft_pool *pool) {
  if (pool == NULL) return;
  slab *s = pool->slabs;
  while (s) {
    slab *next = s->next;
    free(s);
    s = next;
  }
  free(pool);
}

size_t peft_pool_slabs(const peft_pool *pool) { return pool->nslabs; }

/* a block of at least n bytes (n > 0), or NULL */
static void *get(peft_pool *pool, size_t n) {
  if (n > PEFT_POOL_MAX_SMALL) return malloc(n);
  size_t c = class_of(n);
  void *b = pool->free[c];
  if (b) {
    void *next;
    memcpy(&next, b, sizeof next);
    pool->free[c] = next;
    return b;
  }
  size_t size = c * PEFT_POOL_GRAIN;
  if ((size_t)(pool->end - pool->bump) < size) {
    /* the rest of the old slab (less than one block) is left unused */
    slab *s = malloc(PEFT_POOL_SLAB);
    if (s == NULL) return NULL;
    s->next = pool->slabs;
    pool->slabs = s;
    pool->nslabs++;
    pool->bump = (char *)s + PEFT_POOL_GRAIN;
    pool->end = (char *)s + PEFT_POOL_SLAB;
  }
  b = pool->bump;
  pool->bump += size;
  return b;
}

/* gives back a block that get(n) returned */
static void put(peft_pool *pool, void *b, size_t n) {
  if (n > PEFT_POOL_MAX_SMALL) {
    free(b);
    return;
  }
  size_t c = class_of(n);
  memcpy(b, &pool->free[c], sizeof(void *));
  pool->free[c] = b;
}

void *peft_pool_lalloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  peft_pool *pool = ud;
  if (nsize == 0) {
    if (ptr) put(pool, ptr, osize);
    return NULL;
  }
  if (ptr == NULL) return get(pool, nsize); /* osize is a type tag here */
  if (osize > PEFT_POOL_MAX_SMALL && nsize > PEFT_POOL_MAX_SMALL) return realloc(ptr, nsize);
  if (osize <= PEFT_POOL_MAX_SMALL && nsize <= PEFT_POOL_MAX_SMALL && class_of(osize) == class_of(nsize))
    return ptr;
  /* moves between classes, or between the pool and malloc */
  void *nb = get(pool, nsize);
  if (nb == NULL) return NULL;
  memcpy(nb, ptr, osize < nsize ? osize : nsize);
  put(pool, ptr, osize);
  return nb;
}
