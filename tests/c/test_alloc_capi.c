/*
 * test_alloc_capi.c - fails the K-th allocation, for every K until a run
 * completes, inside what issue 14 added to the C API: a config from JSON
 * fields, items of a list and a dict, the field list, a base model, a plan,
 * tensor names. Each failure must come back as a clean MemoryError, nothing
 * may leak (the leak checkers see it), and the runtime must still work
 * afterwards. Two passes: warm, one runtime for every run (opened before
 * counting starts: test_alloc covers start-up), its first clean run having
 * loaded what the calls load on first use; and cold, a fresh runtime for
 * each run, so that the failures also meet those first loads (the C API's
 * Lua side, the definitions of the classes, the model side), sampled seven
 * times more sparsely (a run opens a runtime).
 *
 * Allocations counted: the Lua state's (a custom lua_Alloc) and the C
 * core's (malloc/calloc/realloc/strdup wrapped at link time).
 *   test_alloc_capi [STEP]   (default 1, or PEFT_ALLOC_STEP)
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "peft.h"

#include "fail_alloc.h"
#include "st_file.h"

static char dir[] = "/tmp/peft-oom-capi-XXXXXX";
static char model_dir[96];

static void write_model(void) {
  char path[160];
  snprintf(model_dir, sizeof model_dir, "%s/model", dir);
  mkdir(model_dir, 0755);
  snprintf(path, sizeof path, "%s/model.safetensors", model_dir);
  write_st_file(path,
                "{\"model.layers.0.self_attn.q_proj.weight\": {\"dtype\": \"F32\", \"shape\": [16, 16], \"data_offsets\": "
                "[0, 1024]}, \"model.layers.0.self_attn.v_proj.weight\": {\"dtype\": \"F32\", \"shape\": [8, 16], "
                "\"data_offsets\": [1024, 1536]}}",
                1536);
}

/* an outcome: 0 the step worked, 1 it failed with a clean MemoryError, -1 anything else */
static int outcome(int ok, const peft_error *err, const char *what) {
  if (ok) return 0;
  if (err->status == PEFT_ENOMEM && strcmp(err->kind, "MemoryError") == 0) return 1;
  fprintf(stderr, "%s: %s: %s\n", what, err->kind, err->message);
  return -1;
}

static int scenario(void *arg) {
  peft_runtime *rt = arg;
  peft_error err;
  peft_config *cfg = NULL;
  peft_model *model = NULL;
  peft_plan *plan = NULL;
  peft_tensor_map *map = NULL;
  int rc;
  cfg = peft_config_new(rt, "lora",
                        "{\"r\": 4, \"target_modules\": [\"q_proj\", \"v_proj\"], \"rank_pattern\": {\"v_proj\": 2}}",
                        &err);
  if ((rc = outcome(cfg != NULL, &err, "new")) != 0) goto done;
  peft_value v;
  size_t at = 1;
  if ((rc = outcome(peft_config_item(cfg, "target_modules", &at, 1, &v, &err) == 0, &err, "item")) != 0) goto done;
  if (strcmp(v.string, "v_proj") != 0) return -1;
  at = 0;
  if ((rc = outcome(peft_config_item(cfg, "rank_pattern", &at, 1, &v, &err) == 0, &err, "item")) != 0) goto done;
  if (v.key == NULL || strcmp(v.key, "v_proj") != 0 || v.integer != 2) return -1;
  const peft_field_info *f;
  size_t n;
  if ((rc = outcome(peft_config_fields(cfg, &f, &n, &err) == 0, &err, "fields")) != 0) goto done;
  model = peft_model_describe(rt, model_dir, &err);
  if ((rc = outcome(model != NULL, &err, "describe")) != 0) goto done;
  plan = peft_plan_new(model, cfg, "a", &err);
  if ((rc = outcome(plan != NULL, &err, "plan")) != 0) goto done;
  if (peft_plan_trainable_params(plan) != 4 * 16 + 16 * 4 + 2 * 16 + 8 * 2) rc = -1;
  const char *names[] = {"base_model.model.x.q_proj.lora_A.weight", "y.hada_w1_a.b"};
  map = peft_tensor_map_names(rt, names, 2, NULL, NULL, &err);
  if ((rc = outcome(map != NULL, &err, "tensor map")) != 0) goto done;
  if (strcmp(peft_tensor_map_at(map, 1)->method, "loha") != 0) rc = -1;
done:
  peft_tensor_map_free(map);
  peft_plan_free(plan);
  peft_model_free(model);
  peft_config_free(cfg);
  return rc;
}

/* scenario on a fresh runtime (opened with no failure), then again with no
 * failure on the same runtime, which must still work */
static int cold_scenario(void *arg) {
  (void)arg;
  long k = fail_at;
  fail_at = 0;
  peft_error err;
  peft_runtime *rt = peft_open_with(lalloc, NULL, &err);
  if (rt == NULL) return -1;
  counter = 0;
  fail_at = k;
  failed_once = 0;
  int rc = scenario(rt);
  fail_at = 0;
  if (rc >= 0 && scenario(rt) != 0) {
    printf("# the runtime no longer works after failing allocation %ld\n", k);
    rc = -1;
  }
  peft_close(rt);
  return rc;
}

int main(int argc, char **argv) {
  long step = alloc_step(argc, argv);
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  write_model();
  peft_error err;
  peft_runtime *rt = peft_open_with(lalloc, NULL, &err);
  if (rt == NULL) {
    printf("not ok - peft_open: %s\n# test_alloc_capi: 0 passed, 1 failed\n", err.message);
    return 1;
  }
  counter = 0;
  fail_at = 0;
  if (scenario(rt) != 0) {
    printf("not ok - the scenario fails without injected failures\n# test_alloc_capi: 0 passed, 1 failed\n");
    return 1;
  }
  long total = counter, checked;
  long bad = fail_in_turn(scenario, rt, 1, step, total, &checked);
  /* the runtime still works */
  if (scenario(rt) != 0) {
    bad++;
    printf("not ok - the runtime no longer works after the failures\n");
  }
  peft_close(rt);
  /* cold: the allocations of a first run on a fresh runtime */
  rt = peft_open_with(lalloc, NULL, &err);
  if (rt == NULL) {
    printf("not ok - peft_open: %s\n# test_alloc_capi: 0 passed, 1 failed\n", err.message);
    return 1;
  }
  counter = 0;
  int cold_clean = scenario(rt);
  long cold_total = counter, cold_checked;
  peft_close(rt);
  long cold_bad = cold_clean != 0;
  if (cold_bad) printf("not ok - the scenario fails on a fresh runtime without injected failures\n");
  else cold_bad = fail_in_turn(cold_scenario, NULL, 1, 7 * step, cold_total, &cold_checked);
  char cmd[96];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) bad++;
  printf("%s - %ld allocations in the new API calls on a warm runtime, each failed in turn (step %ld): %ld runs\n",
         bad ? "not ok" : "ok", total, step, checked);
  if (!cold_clean)
    printf("%s - %ld allocations in their first calls on a fresh runtime, failed in turn (step %ld): %ld runs\n",
           cold_bad ? "not ok" : "ok", cold_total, 7 * step, cold_checked);
  int failed = (bad != 0) + (cold_bad != 0);
  printf("# test_alloc_capi: %d passed, %d failed\n", 2 - failed, failed);
  return failed ? 1 : 0;
}
