/*
 * fuzz_safetensors.c - libFuzzer target: the safetensors header reader on
 * arbitrary bytes (the input is the whole file). A header that parses must
 * describe tensors inside the data region, in order and without overlap.
 */
#include <stdio.h>
#include <stdlib.h>

#include "peft_safetensors.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  peft_st_header h;
  peft_error err;
  if (peft_st_parse(data, size, size, &h, &err) != 0) return 0;
  uint64_t covered = 0;
  for (size_t i = 0; i < h.ntensors; i++) {
    const peft_st_tensor *t = &h.tensors[i];
    if (t->end > h.data_size || t->begin > t->end) abort();
    covered += t->end - t->begin;
  }
  if (covered != h.data_size) abort();
  peft_st_free(&h);
  return 0;
}
