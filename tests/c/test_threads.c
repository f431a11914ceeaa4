/* test_threads.c - N threads with a runtime each, all at once: open, load,
 * read (items too), change, validate, save, plan on a base model, check,
 * close. Each thread checks its own results; tests/threads_spec.lua runs it
 * again under Valgrind's Helgrind, which must find no data race (runtimes
 * share nothing). PEFT_THREADS sets N (8). */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctest.h"
#include "st_file.h"
#include "peft.h"

static char dir[] = "/tmp/peft-threads-XXXXXX";

typedef struct job {
  int id;
  int failures;
  char first_failure[256];
} job;

#define EXPECT(j, cond)                                                                    \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      if ((j)->failures++ == 0)                                                            \
        snprintf((j)->first_failure, sizeof (j)->first_failure, "line %d: %s", __LINE__, #cond); \
    }                                                                                      \
  } while (0)

static void *work(void *arg) {
  job *j = arg;
  peft_error err;
  peft_runtime *rt = peft_open(&err);
  EXPECT(j, rt != NULL);
  if (rt == NULL) return NULL;
  char text[256], path[512];
  for (int round = 0; round < 3; round++) {
    int r = 4 * (j->id + 1) + round;
    snprintf(text, sizeof text,
             "{\"peft_type\": \"LORA\", \"r\": %d, \"target_modules\": [\"v_proj\", \"q_proj\"],"
             " \"task_type\": \"CAUSAL_LM\", \"rank_pattern\": {\"q_proj\": %d}}",
             r, 2 * r);
    peft_config *cfg = peft_config_load_buffer(rt, text, strlen(text), "thread.json", 0, &err);
    EXPECT(j, cfg != NULL);
    if (cfg == NULL) break;
    peft_value v;
    EXPECT(j, peft_config_get(cfg, "r", &v, &err) == 0 && v.integer == r);
    size_t at = 0;
    EXPECT(j, peft_config_item(cfg, "rank_pattern", &at, 1, &v, &err) == 0 && v.integer == 2 * r);
    EXPECT(j, peft_config_set_json(cfg, "lora_alpha", "64", &err) == 0);
    EXPECT(j, peft_config_validate(cfg, &err) == 0);
    snprintf(path, sizeof path, "%s/t%d", dir, j->id);
    EXPECT(j, peft_config_save(cfg, path, &err) == 0);
    peft_config *back = peft_config_load(rt, path, 0, &err);
    EXPECT(j, back != NULL && peft_config_get(back, "lora_alpha", &v, &err) == 0 && v.integer == 64);
    peft_config_free(back);
    /* a plan on the shared base model (read only) */
    snprintf(path, sizeof path, "%s/model", dir);
    peft_model *model = peft_model_describe(rt, path, &err);
    EXPECT(j, model != NULL);
    if (model) {
      peft_config_set_json(cfg, "rank_pattern", "{}", &err);
      peft_plan *plan = peft_plan_new(model, cfg, NULL, &err);
      EXPECT(j, plan != NULL);
      /* q: r x 64 + 64 x r; v: r x 64 + 32 x r */
      EXPECT(j, plan && peft_plan_trainable_params(plan) == (long long)r * (64 + 64 + 64 + 32));
      peft_plan_free(plan);
      peft_model_free(model);
    }
    const peft_field_info *f;
    size_t n;
    EXPECT(j, peft_config_fields(cfg, &f, &n, &err) == 0 && n > 30);
    char *json = peft_config_to_json(cfg, &err);
    EXPECT(j, json != NULL && strstr(json, "\"lora_alpha\": 64") != NULL);
    peft_free(json);
    peft_config_free(cfg);
  }
  /* errors too */
  EXPECT(j, peft_config_load(rt, "/nonexistent", 0, &err) == NULL && strcmp(err.kind, "FileNotFoundError") == 0);
  peft_close(rt);
  return NULL;
}

static void write_model(void) {
  char path[600];
  snprintf(path, sizeof path, "%s/model", dir);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/model/model.safetensors", dir);
  write_st_file(path,
                "{\"model.layers.0.self_attn.q_proj.weight\": {\"dtype\": \"F32\", \"shape\": [64, 64], \"data_offsets\": "
                "[0, 16384]}, \"model.layers.0.self_attn.v_proj.weight\": {\"dtype\": \"F32\", \"shape\": [32, 64], "
                "\"data_offsets\": [16384, 24576]}}",
                24576);
}

TEST(threads_with_a_runtime_each) {
  int n = getenv("PEFT_THREADS") ? atoi(getenv("PEFT_THREADS")) : 8;
  if (n < 1 || n > 64) n = 8;
  pthread_t tid[64];
  job jobs[64];
  for (int i = 0; i < n; i++) {
    memset(&jobs[i], 0, sizeof jobs[i]);
    jobs[i].id = i;
    CHECK(pthread_create(&tid[i], NULL, work, &jobs[i]) == 0);
  }
  for (int i = 0; i < n; i++) {
    pthread_join(tid[i], NULL);
    if (jobs[i].failures) fprintf(stderr, "  thread %d: %s\n", i, jobs[i].first_failure);
    CHECK_INT(jobs[i].failures, 0);
  }
}

int main(void) {
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  write_model();
  RUN(threads_with_a_runtime_each);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return ctest_summary("test_threads");
}
