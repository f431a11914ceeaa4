/*
 * validate_adapters.c - an example C host of the peft runtime: validates the
 * adapter directories (or adapter_config.json files) named on the command
 * line and prints one line per argument.
 *
 *   cc validate_adapters.c $(pkg-config --cflags --libs peft) -o validate_adapters
 *   ./validate_adapters adapters/*
 *
 * Exit status: 0 when every config is valid, 1 otherwise, 2 when the
 * runtime cannot start.
 */
#include <stdio.h>
#include <stdlib.h>

#include "peft.h"

int main(int argc, char **argv) {
  peft_error err;
  peft_runtime *rt = peft_open(&err);
  if (rt == NULL) {
    fprintf(stderr, "cannot start the peft runtime: %s\n", err.message);
    return 2;
  }
  int failures = 0;
  for (int i = 1; i < argc; i++) {
    peft_config *cfg = peft_config_load(rt, argv[i], 0, &err);
    if (cfg == NULL) {
      printf("INVALID %s: %s: %s\n", argv[i], err.kind, err.message);
      failures++;
      continue;
    }
    peft_value r;
    const char *task = peft_config_task_type(cfg);
    printf("OK      %s: %s (%s)", argv[i], peft_config_class(cfg), task ? task : "no task type");
    if (peft_config_get(cfg, "r", &r, &err) == 0 && r.type == PEFT_VALUE_INT) printf(" r=%lld", r.integer);
    size_t nw = peft_config_warning_count(cfg);
    if (nw > 0) printf(", %zu warning%s: %s", nw, nw == 1 ? "" : "s", peft_config_warning(cfg, 0));
    printf("\n");
    peft_config_free(cfg);
  }
  peft_close(rt);
  return failures ? 1 : 0;
}
