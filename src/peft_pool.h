/*
 * peft_pool.h - the Lua allocator of the peft executable: small blocks (up to
 * PEFT_POOL_MAX_SMALL bytes) come from free lists per size class, carved out
 * of 64 KiB slabs; larger ones go to malloc. Lua passes the old size of every
 * block it frees or resizes, so small blocks carry no header: start-up's heap
 * (about 7,000 blocks, mostly 16 to 128 bytes) is smaller and touches fewer
 * pages, and allocating or freeing one is a list push or pop.
 *
 * Memory in the free lists is kept for reuse by the same size class until
 * peft_pool_delete, which releases every slab (after lua_close).
 */
#ifndef PEFT_POOL_H
#define PEFT_POOL_H

#include <stddef.h>

#define PEFT_POOL_GRAIN 16      /* block sizes are multiples of this, and so are their addresses */
#define PEFT_POOL_MAX_SMALL 256 /* larger requests go to malloc */
#define PEFT_POOL_SLAB (64 * 1024)

typedef struct peft_pool peft_pool;

/* A new, empty pool; NULL when out of memory. */
peft_pool *peft_pool_new(void);

/* Releases every slab: every block the pool handed out is gone. Accepts NULL. */
void peft_pool_delete(peft_pool *pool);

/* The lua_Alloc function: ud is the pool. Follows the lua_Alloc contract: on
 * failure returns NULL and leaves ptr as it was. */
void *peft_pool_lalloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* Number of slabs the pool holds (for tests and measurements). */
size_t peft_pool_slabs(const peft_pool *pool);

#endif
