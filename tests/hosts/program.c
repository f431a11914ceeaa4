/*
 * program.c - issue 14's "done when" program in C, through the installed
 * peft.h: the same output as tests/hosts/program.lua under every Lua host.
 *
 *   cc program.c $(pkg-config --cflags --libs peft) -o program
 *   ./program FIXTURES WORK
 *
 * FIXTURES: tests/fixtures/hosts (configs.txt names the 20 adapter
 * directories under configs/); WORK: an empty directory to save into.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peft.h"

static peft_runtime *rt;
static peft_error err;

static void die(const char *what) {
  fprintf(stderr, "program: %s: %s: %s\n", what, err.kind, err.message);
  exit(1);
}

/* a list field joined with commas, a string as re:TEXT, null as null; "-"
 * when the class has no such field */
static void print_list(peft_config *cfg, const char *field) {
  peft_value v;
  if (peft_config_get(cfg, field, &v, &err) != 0) {
    printf("-");
    return;
  }
  if (v.type == PEFT_VALUE_NULL) {
    printf("null");
  } else if (v.type == PEFT_VALUE_STRING) {
    printf("re:%s", v.string);
  } else if (v.type == PEFT_VALUE_LIST) {
    size_t n = v.count;
    for (size_t i = 0; i < n; i++) {
      peft_value item;
      if (peft_config_item(cfg, field, &i, 1, &item, &err) != 0) die("item");
      printf("%s%s", i ? "," : "", item.string);
    }
  }
}

static void print_int(peft_config *cfg, const char *field) {
  peft_value v;
  if (peft_config_get(cfg, field, &v, &err) != 0) printf("-");
  else if (v.type == PEFT_VALUE_NULL) printf("null");
  else printf("%lld", v.integer);
}

/* a method by name, PeftType or config class name, or -1 */
static long find_method(const char *key) {
  const peft_registry *reg = peft_runtime_registry(rt);
  long i = peft_method_by_name(reg, key, strlen(key));
  if (i < 0) i = peft_method_by_type(reg, key, strlen(key));
  for (size_t j = 0; i < 0 && j < peft_method_count(reg); j++) {
    peft_method_info m;
    peft_method_at(reg, j, &m);
    const char *cls = peft_method_config_class(rt, m.name);
    if (cls && strcmp(cls, key) == 0) i = (long)j;
  }
  return i;
}

/* "LABEL: CLASS r=.. lora_alpha=.. target_modules=.." (no newline) */
static void print_lora(const char *label, peft_config *cfg) {
  printf("%s: %s r=", label, peft_config_class(cfg));
  print_int(cfg, "r");
  printf(" lora_alpha=");
  print_int(cfg, "lora_alpha");
  printf(" target_modules=");
  print_list(cfg, "target_modules");
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: program FIXTURES WORK\n");
    return 2;
  }
  const char *fixtures = argv[1], *work = argv[2];
  rt = peft_open(&err);
  if (rt == NULL) die("peft_open");
  const peft_registry *reg = peft_runtime_registry(rt);
  printf("PeftType members: %zu, TaskType members: %zu, methods: %zu\n", peft_type_count(reg), peft_task_count(),
         peft_method_count(reg));

  /* 20 real configs */
  char path[4096], name[256];
  snprintf(path, sizeof path, "%s/configs.txt", fixtures);
  FILE *index = fopen(path, "r");
  if (index == NULL) {
    perror(path);
    return 1;
  }
  int n = 0;
  while (fgets(name, sizeof name, index)) {
    name[strcspn(name, "\n")] = '\0';
    n++;
    snprintf(path, sizeof path, "%s/configs/%s", fixtures, name);
    peft_config *cfg = peft_config_load(rt, path, 0, &err);
    if (cfg == NULL) die(path);
    const char *task = peft_config_task_type(cfg);
    printf("%s: %s %s task=%s r=", name, peft_config_class(cfg), peft_config_peft_type(cfg), task ? task : "null");
    print_int(cfg, "r");
    printf(" target_modules=");
    print_list(cfg, "target_modules");
    printf(" warnings=%zu\n", peft_config_warning_count(cfg));
    peft_config_free(cfg);
  }
  fclose(index);
  printf("configs loaded: %d\n", n);

  /* a LoRA config built, saved, loaded back */
  peft_config *built = peft_config_new(
      rt, "LoraConfig",
      "{\"r\": 8, \"lora_alpha\": 16, \"target_modules\": [\"v_proj\", \"q_proj\"],"
      " \"task_type\": \"CAUSAL_LM\"}",
      &err);
  if (built == NULL) die("peft_config_new");
  print_lora("built", built);
  printf("\n");
  snprintf(path, sizeof path, "%s/built", work);
  if (peft_config_save(built, path, &err) != 0) die("peft_config_save");
  peft_config *back = peft_config_load(rt, path, 0, &err);
  if (back == NULL) die("peft_config_load");
  print_lora("loaded back", back);
  char *a = peft_config_to_json(built, &err), *b = peft_config_to_json(back, &err);
  if (a == NULL || b == NULL) die("peft_config_to_json");
  printf(" task=%s same_json=%s\n", peft_config_task_type(back), strcmp(a, b) == 0 ? "true" : "false");
  peft_free(a);
  peft_free(b);
  peft_config_free(back);
  peft_config_free(built);

  /* the registry */
  const char *keys[] = {"lora", "LOHA", "IA3Config"};
  for (size_t k = 0; k < 3; k++) {
    peft_method_info m;
    if (peft_method_at(reg, (size_t)find_method(keys[k]), &m) != 0) die("peft_method_at");
    printf("method %s: name=%s peft_type=%s prefix=%s mixed=%s config=%s", keys[k], m.name, m.peft_type, m.prefix,
           m.is_mixed_compatible ? "true" : "false", peft_method_config_class(rt, m.name));
    printf(" model=%s\n", peft_method_model_class(rt, m.name));
  }
  printf("method nope: %s\n", find_method("nope") < 0 ? "nil" : "found");
  peft_method_info lokr;
  peft_method_at(reg, (size_t)peft_method_by_type(reg, "LOKR", 4), &lokr);
  printf("prefix of LOKR: %s\n", lokr.prefix);
  printf("PeftType('LORAA'): %s\n", peft_type_index(reg, "LORAA", 5) < 0 ? "nil" : "LORAA");

  /* errors as values */
  snprintf(path, sizeof path, "%s/missing", work);
  printf("missing: %s %s\n", peft_config_load(rt, path, 0, &err) ? "true" : "false", err.kind);
  const char *bad = "{\"peft_type\": \"LORA\", \"r\": \"16\"}";
  printf("bad r: %s %s\n", peft_config_load_buffer(rt, bad, strlen(bad), NULL, 0, &err) ? "true" : "false", err.kind);
  peft_close(rt);
  return 0;
}
