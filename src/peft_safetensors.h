/*
 * peft_safetensors.h - reads the header of a .safetensors file, never its
 * tensor data, and validates all of it:
 *   - an 8-byte little-endian header length that fits in the file and under
 *     PEFT_ST_MAX_HEADER;
 *   - a JSON object: tensor name -> { dtype, shape, data_offsets }, plus an
 *     optional "__metadata__" object of strings;
 *   - known dtypes, shapes of non-negative integers whose element count fits
 *     in 64 bits, data_offsets [begin, end] inside the data region, end -
 *     begin equal to the element count times the dtype size, and the tensors
 *     covering the data region exactly (in order, no overlap, no gap);
 *   - every tensor named once.
 * Also the sharded layout: a model.safetensors.index.json whose weight_map
 * names the shard of every tensor, each shard read and cross-checked.
 *
 * No Lua here. Functions return 0 on success, or -1 with err filled
 * (ValueError for a bad file, OSError-like messages for I/O, MemoryError).
 * Messages do not name the file read (the caller knows it, and names it once);
 * those about a shard start with "shard NAME: ". A file that is not a regular
 * one (a FIFO, a device) is refused without waiting on it.
 * Free what they fill with peft_st_free.
 */
#ifndef PEFT_SAFETENSORS_H
#define PEFT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "peft_registry.h" /* peft_error */

#ifdef __cplusplus
extern "C" {
#endif

/* The largest header accepted (the limit of the reference implementation). */
#define PEFT_ST_MAX_HEADER 100000000ULL
/* The most dimensions a tensor may have. */
#define PEFT_ST_MAX_DIMS 16
/* The deepest nesting of the header's JSON (and of an index). */
#define PEFT_ST_MAX_DEPTH 64

typedef struct peft_st_tensor {
  char *name;
  const char *dtype;   /* static string, e.g. "BF16" */
  unsigned dtype_bits; /* bits per element */
  size_t ndim;
  uint64_t shape[PEFT_ST_MAX_DIMS];
  uint64_t nelems;
  uint64_t begin, end; /* relative to the data region */
  const char *shard;   /* file name of its shard (sharded layout), else NULL */
} peft_st_tensor;

typedef struct peft_st_meta {
  char *key;
  char *value;
} peft_st_meta;

typedef struct peft_st_header {
  peft_st_tensor *tensors; /* in the order of the header */
  size_t ntensors;
  peft_st_meta *meta;
  size_t nmeta;
  uint64_t header_size; /* the JSON length */
  uint64_t file_size;
  uint64_t data_size;
  char **shards; /* sharded layout: the shard file names, else NULL */
  size_t nshards;
} peft_st_header;

/* Bits per element of a safetensors dtype name, or 0 when unknown. */
unsigned peft_st_dtype_bits(const char *dtype);

/* Parses a header from memory: buf holds at least the 8 length bytes and
 * the JSON (buflen bytes in all); file_size is the size of the whole file
 * (for the data-region checks). */
int peft_st_parse(const unsigned char *buf, size_t buflen, uint64_t file_size, peft_st_header *out,
                  peft_error *err);

/* Reads and parses the header of a file (only the first 8 + N bytes). */
int peft_st_read_file(const char *path, peft_st_header *out, peft_error *err);

/* Reads a model.safetensors.index.json and every shard it names (relative
 * to the index's directory), and merges them: each tensor records its shard.
 * Checks that the weight map and the shards name the same tensors. */
int peft_st_read_index(const char *index_path, peft_st_header *out, peft_error *err);

void peft_st_free(peft_st_header *h);

#ifdef __cplusplus
}
#endif

#endif
