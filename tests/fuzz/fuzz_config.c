/*
 * fuzz_config.c - libFuzzer target: an adapter config from bytes, through
 * the path from_pretrained takes after reading the file (the C API's
 * peft_config_load_buffer -> peft.from_json). A config that loads must save,
 * and what it saves must load back to the same text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peft.h"

static peft_runtime *rt;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void close_runtime(void) { peft_close(rt); }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  peft_error err;
  rt = peft_open(&err);
  if (rt == NULL) {
    fprintf(stderr, "fuzz_config: %s\n", err.message);
    abort();
  }
  atexit(close_runtime);
  return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  peft_error err;
  peft_config *cfg = peft_config_load_buffer(rt, (const char *)data, size, "fuzz", 0, &err);
  if (cfg == NULL) {
    if (err.status == PEFT_ENOMEM) abort(); /* not expected at these sizes */
    return 0;
  }
  char *json = peft_config_to_json(cfg, &err);
  if (json == NULL) abort(); /* a loaded config must save */
  peft_config *again = peft_config_load_buffer(rt, json, strlen(json), "fuzz-again", 0, &err);
  if (again == NULL) {
    fprintf(stderr, "saved JSON does not load back: %s\n%s\n", err.message, json);
    abort();
  }
  char *json2 = peft_config_to_json(again, &err);
  if (json2 == NULL || strcmp(json, json2) != 0) {
    fprintf(stderr, "round trip changed the text:\n%s\n---\n%s\n", json, json2 ? json2 : "(null)");
    abort();
  }
  free(json2);
  free(json);
  peft_config_free(again);
  peft_config_free(cfg);
  return 0;
}
