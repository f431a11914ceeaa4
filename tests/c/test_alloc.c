/*
 * test_alloc.c - fails the K-th allocation, for every K until a run
 * completes, around start-up, config loading and saving, and registration.
 * Every failure must come back as a clean out-of-memory error (never a
 * crash), and the registry must be left consistent and unchanged by a
 * failed registration.
 *
 * Allocations counted: the Lua state's (a custom lua_Alloc) and the C
 * core's (malloc/calloc/realloc/strdup wrapped at link time with
 * -Wl,--wrap=...).
 *
 *   test_alloc [STEP [OFFSET]]   test K = OFFSET, OFFSET+STEP, ... (default
 *                       step 1, or PEFT_ALLOC_STEP from the environment;
 *                       offset PEFT_ALLOC_OFFSET, else chosen from the
 *                       process id and printed, so that successive sampled
 *                       runs cover different allocations and any one can be
 *                       repeated)
 * Prints "# test_alloc: N passed, M failed" like the other C tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peft.h"

#include "fail_alloc.h"

static const char *CONFIG =
    "{\"peft_type\": \"LORA\", \"r\": 16, \"lora_alpha\": 32, \"target_modules\": [\"q_proj\", \"v_proj\"],"
    " \"task_type\": \"CAUSAL_LM\", \"init_lora_weights\": \"eva\", \"merge_weights\": true}";

static char dir[64];

/* One run; returns 0 when everything succeeded, 1 when an injected failure
 * was reported cleanly, -1 on a wrong outcome. */
static int scenario(void *unused) {
  (void)unused;
  peft_error err;
  peft_runtime *rt = peft_open_with(lalloc, NULL, &err);
  if (rt == NULL) return err.status == PEFT_ENOMEM ? 1 : (fprintf(stderr, "open: %s\n", err.message), -1);
  int rc = 0;
  peft_config *cfg = peft_config_load_buffer(rt, CONFIG, strlen(CONFIG), "mem", 0, &err);
  if (cfg == NULL) {
    rc = err.status == PEFT_ENOMEM ? 1 : (fprintf(stderr, "load: %s\n", err.message), -1);
    goto done;
  }
  char *json = peft_config_to_json(cfg, &err);
  if (json == NULL) {
    rc = err.status == PEFT_ENOMEM ? 1 : (fprintf(stderr, "to_json: %s\n", err.message), -1);
    goto done;
  }
  free(json);
  if (peft_config_save(cfg, dir, &err) != 0) {
    rc = err.status == PEFT_ENOMEM ? 1 : (fprintf(stderr, "save: %s\n", err.message), -1);
    goto done;
  }
  /* registration through the C core directly: a failure changes nothing */
  peft_registry *reg = (peft_registry *)peft_runtime_registry(rt);
  size_t types = peft_type_count(reg), methods = peft_method_count(reg);
  if (peft_add_peft_type(reg, "OOM_TEST", 8, &err) != PEFT_OK) {
    if (err.status != PEFT_ENOMEM || peft_type_count(reg) != types) rc = -1;
    else rc = 1;
    goto done;
  }
  peft_method_spec spec = {.name = "oom_test", .prefix = "oom_test_"};
  if (peft_register_method(reg, &spec, &err) < 0) {
    if (err.status != PEFT_ENOMEM || peft_method_count(reg) != methods || peft_method_by_name(reg, "oom_test", 8) >= 0)
      rc = -1;
    else
      rc = 1;
    goto done;
  }
  if (peft_method_by_prefix(reg, "oom_test_", 9) < 0) rc = -1;
done:
  peft_config_free(cfg);
  peft_close(rt);
  return rc;
}

int main(int argc, char **argv) {
  long step = alloc_step(argc, argv);
  const char *off_env = getenv("PEFT_ALLOC_OFFSET");
  long offset = argc > 2 ? atol(argv[2]) : off_env ? atol(off_env) : 1 + (long)getpid() % step;
  if (offset < 1 || offset > step) offset = 1;
  snprintf(dir, sizeof dir, "/tmp/peft-oom-%ld", (long)getpid());
  /* a clean run first: how many allocations there are */
  counter = 0;
  fail_at = 0;
  if (scenario(NULL) != 0) {
    printf("not ok - the scenario fails without injected failures\n# test_alloc: 0 passed, 1 failed\n");
    return 1;
  }
  long total = counter, checked;
  long bad = fail_in_turn(scenario, NULL, offset, step, total, &checked);
  char cmd[96];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) bad++;
  printf("%s - %ld allocations, each failed in turn (step %ld, offset %ld): %ld runs, out-of-memory reported "
         "cleanly\n", bad ? "not ok" : "ok", total, step, offset, checked);
  printf("# test_alloc: %d passed, %d failed\n", bad ? 0 : 1, bad ? 1 : 0);
  return bad ? 1 : 0;
}
