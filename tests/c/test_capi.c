/* test_capi.c - what issue 14 added to the C API: error kinds as the CLI
 * says them, configs from JSON fields, items of list and dict fields, field
 * enumeration, lenient loading, class look-ups, the model side (describe,
 * plan, tensor names) and runtimes that outlive peft_close. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctest.h"
#include "st_file.h"
#include "peft.h"

static peft_runtime *rt;
static peft_error err;
static char dir[] = "/tmp/peft-capi-XXXXXX";

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

/* a safetensors file of F32 tensors: the header, then the data region as
 * zeros (sparse) */
static void write_safetensors(const char *path, const char *const *names, const int (*shapes)[3], size_t n) {
  char header[8192];
  size_t at = 0;
  unsigned long long offset = 0;
  at += (size_t)snprintf(header + at, sizeof header - at, "{");
  for (size_t i = 0; i < n; i++) {
    unsigned long long elems = 1;
    char shape[64] = "";
    size_t s = 0;
    for (int d = 0; d < 3 && shapes[i][d] > 0; d++) {
      elems *= (unsigned long long)shapes[i][d];
      s += (size_t)snprintf(shape + s, sizeof shape - s, "%s%d", d ? ", " : "", shapes[i][d]);
    }
    at += (size_t)snprintf(header + at, sizeof header - at,
                           "%s\"%s\": {\"dtype\": \"F32\", \"shape\": [%s], \"data_offsets\": [%llu, %llu]}",
                           i ? ", " : "", names[i], shape, offset, offset + elems * 4);
    offset += elems * 4;
  }
  snprintf(header + at, sizeof header - at, "}");
  write_st_file(path, header, offset);
}

/* a one-layer Llama-style model: vocab 100, hidden 64, k/v 32, MLP 128 */
static void write_model(const char *mdir) {
  static const char *const names[] = {
    "model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
    "model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.o_proj.weight",
    "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight",
    "model.layers.0.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight", "model.norm.weight",
    "lm_head.weight"};
  static const int shapes[][3] = {{100, 64}, {64, 64}, {32, 64}, {32, 64}, {64, 64}, {128, 64},
                                  {128, 64}, {64, 128}, {64}, {64}, {64}, {100, 64}};
  char path[1024];
  mkdir(mdir, 0755);
  snprintf(path, sizeof path, "%s/model.safetensors", mdir);
  write_safetensors(path, names, shapes, sizeof names / sizeof names[0]);
  snprintf(path, sizeof path, "%s/config.json", mdir);
  write_file(path, "{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_hidden_layers\": 1, \"vocab_size\": 100,"
                   " \"num_attention_heads\": 8, \"num_key_value_heads\": 4}");
}

TEST(kinds_are_the_cli_kinds) {
  char path[512];
  CHECK(peft_config_load(rt, "/nonexistent/adapter", 0, &err) == NULL);
  CHECK_INT(err.status, PEFT_ENOTFOUND);
  CHECK_STR(err.kind, "FileNotFoundError");
  CHECK_STR(peft_status_kind(err.status), "FileNotFoundError");
  CHECK(peft_config_load(rt, dir, 0, &err) == NULL); /* a directory without a config */
  CHECK_STR(err.kind, "FileNotFoundError");
  CHECK(strstr(err.message, "the directory has no adapter_config.json") != NULL);
  peft_config *cfg = peft_config_new(rt, "lora", NULL, &err);
  CHECK(cfg != NULL);
  peft_value v;
  CHECK_INT(peft_config_get(cfg, "lora_alfa", &v, &err), -1);
  CHECK_STR(err.kind, "TypeError");
  snprintf(path, sizeof path, "%s/a-file", dir);
  write_file(path, "x");
  CHECK_INT(peft_config_save(cfg, path, &err), -1);
  CHECK_STR(err.kind, "NotADirectoryError");
  CHECK_INT(err.status, PEFT_EOS);
  CHECK(peft_config_load_buffer(rt, "{", 1, NULL, 0, &err) == NULL);
  CHECK_STR(err.kind, "JSONDecodeError");
  peft_config_free(cfg);
  /* peft_error_set fills the kind from the status */
  peft_error e;
  peft_error_set(&e, PEFT_EKEY, "x");
  CHECK_STR(e.kind, "KeyError");
}

TEST(configs_from_fields) {
  peft_config *cfg = peft_config_new(rt, "LORA", "{\"r\": 4, \"target_modules\": [\"v_proj\", \"q_proj\"]}", &err);
  CHECK(cfg != NULL);
  if (!cfg) return;
  CHECK_STR(peft_config_class(cfg), "LoraConfig");
  peft_value v;
  CHECK_INT(peft_config_get(cfg, "r", &v, &err), 0);
  CHECK_INT(v.integer, 4);
  peft_config_free(cfg);
  cfg = peft_config_new(rt, "LoraConfig", "{}", &err);
  CHECK(cfg != NULL);
  CHECK_INT(peft_config_get(cfg, "r", &v, &err), 0);
  CHECK_INT(v.integer, 8);
  peft_config_free(cfg);
  /* failures */
  CHECK(peft_config_new(rt, "lroa", NULL, &err) == NULL);
  CHECK_STR(err.kind, "KeyError");
  CHECK_STR(err.message, "no method called 'lroa' (did you mean 'lora'?)");
  CHECK(peft_config_new(rt, "lora", "{\"r\": 4, \"nope\": 1}", &err) == NULL);
  CHECK_STR(err.kind, "TypeError");
  CHECK_STR(err.message, "LoraConfig got an unknown field 'nope'");
  CHECK(peft_config_new(rt, "lora", "[1]", &err) == NULL);
  CHECK_STR(err.kind, "TypeError");
  CHECK_STR(err.message, "LoraConfig expects a JSON object of fields, got a list");
  CHECK(peft_config_new(rt, "lora", "{\"r\": ", &err) == NULL);
  CHECK_STR(err.kind, "JSONDecodeError");
  CHECK(peft_config_new(rt, "lora", "{\"r\": 0.5}", &err) == NULL);
  CHECK_STR(err.kind, "TypeError");
  /* no method: PEFT's get_peft_config */
  cfg = peft_config_new(rt, NULL, "{\"peft_type\": \"LOHA\", \"r\": 2}", &err);
  CHECK(cfg != NULL);
  CHECK_STR(peft_config_class(cfg), "LoHaConfig");
  peft_config_free(cfg);
  CHECK(peft_config_new(rt, NULL, "{\"peft_type\": \"LORA\", \"nope\": 1}", &err) == NULL);
  CHECK_STR(err.message, "LoraConfig got an unexpected keyword argument 'nope'");
  CHECK(peft_config_new(rt, NULL, "{\"r\": 1}", &err) == NULL);
  CHECK_STR(err.kind, "KeyError");
}

TEST(items_of_lists_and_dicts) {
  const char *text = "{\"peft_type\": \"LORA\", \"target_modules\": [\"v_proj\", \"q_proj\", \"k_proj\"],"
                     " \"rank_pattern\": {\"z.q_proj\": 4, \"a.v_proj\": 16},"
                     " \"layer_replication\": [[0, 2], [1, 3]], \"merge_weights\": [true, null]}";
  peft_config *cfg = peft_config_load_buffer(rt, text, strlen(text), "items.json", 0, &err);
  CHECK(cfg != NULL);
  if (!cfg) return;
  peft_value v;
  CHECK_INT(peft_config_get(cfg, "target_modules", &v, &err), 0);
  CHECK_INT(v.type, PEFT_VALUE_LIST);
  CHECK_INT(v.count, 3);
  CHECK_STR(v.string, "[\"k_proj\", \"q_proj\", \"v_proj\"]"); /* a set: sorted, as PEFT writes it */
  size_t path[2] = {1, 0};
  CHECK_INT(peft_config_item(cfg, "target_modules", path, 1, &v, &err), 0);
  CHECK_INT(v.type, PEFT_VALUE_STRING);
  CHECK_STR(v.string, "q_proj");
  CHECK(v.key == NULL);
  /* a dict: entries in sorted key order, with their keys */
  CHECK_INT(peft_config_get(cfg, "rank_pattern", &v, &err), 0);
  CHECK_INT(v.type, PEFT_VALUE_DICT);
  CHECK_INT(v.count, 2);
  path[0] = 0;
  CHECK_INT(peft_config_item(cfg, "rank_pattern", path, 1, &v, &err), 0);
  CHECK_STR(v.key, "a.v_proj");
  CHECK_INT(v.key_length, 8);
  CHECK_INT(v.type, PEFT_VALUE_INT);
  CHECK_INT(v.integer, 16);
  path[0] = 1;
  CHECK_INT(peft_config_item(cfg, "rank_pattern", path, 1, &v, &err), 0);
  CHECK_STR(v.key, "z.q_proj");
  CHECK_INT(v.integer, 4);
  /* nested: a list of lists */
  path[0] = 1;
  CHECK_INT(peft_config_item(cfg, "layer_replication", path, 1, &v, &err), 0);
  CHECK_INT(v.type, PEFT_VALUE_LIST);
  CHECK_INT(v.count, 2);
  CHECK_STR(v.string, "[1, 3]");
  path[1] = 1;
  CHECK_INT(peft_config_item(cfg, "layer_replication", path, 2, &v, &err), 0);
  CHECK_INT(v.integer, 3);
  /* an unknown key kept from the file, with a null inside */
  path[0] = 1;
  CHECK_INT(peft_config_item(cfg, "merge_weights", path, 1, &v, &err), 0);
  CHECK_INT(v.type, PEFT_VALUE_NULL);
  /* depth 0 reads the field */
  CHECK_INT(peft_config_item(cfg, "target_modules", NULL, 0, &v, &err), 0);
  CHECK_INT(v.count, 3);
  /* out of range, or into a value that is not a list or dict */
  path[0] = 3;
  CHECK_INT(peft_config_item(cfg, "target_modules", path, 1, &v, &err), -1);
  CHECK_STR(err.kind, "IndexError");
  CHECK_STR(err.message, "target_modules: item 3 of target_modules is out of range (a list of 3)");
  path[0] = 0;
  path[1] = 0;
  CHECK_INT(peft_config_item(cfg, "target_modules", path, 2, &v, &err), -1);
  CHECK_STR(err.message, "target_modules: target_modules[0] is not a list or a dict (a string), cannot take item 0");
  CHECK_INT(peft_config_item(cfg, "r", path, 1, &v, &err), -1);
  CHECK_STR(err.kind, "IndexError");
  CHECK_INT(peft_config_item(cfg, "nope", path, 1, &v, &err), -1);
  CHECK_STR(err.kind, "TypeError");
  /* a change is seen at once */
  CHECK_INT(peft_config_set_json(cfg, "target_modules", "[\"o_proj\"]", &err), 0);
  CHECK_INT(peft_config_item(cfg, "target_modules", path, 1, &v, &err), 0);
  CHECK_STR(v.string, "o_proj");
  CHECK_INT(peft_config_set_json(cfg, "rank_pattern", "{\"b\": 2}", &err), 0);
  CHECK_INT(peft_config_item(cfg, "rank_pattern", path, 1, &v, &err), 0);
  CHECK_STR(v.key, "b");
  peft_config_free(cfg);
  /* a nested config reads as a dict */
  text = "{\"peft_type\": \"LORA\", \"init_lora_weights\": \"loftq\", \"loftq_config\": {\"loftq_bits\": 4}}";
  cfg = peft_config_load_buffer(rt, text, strlen(text), NULL, 0, &err);
  CHECK(cfg != NULL);
  if (!cfg) return;
  CHECK_INT(peft_config_get(cfg, "loftq_config", &v, &err), 0);
  CHECK_INT(v.type, PEFT_VALUE_DICT);
  CHECK(v.count >= 1);
  peft_config_free(cfg);
}

TEST(fields_are_enumerated) {
  const char *text = "{\"peft_type\": \"LORA\", \"r\": 16, \"zz_unknown\": 1, \"aa_unknown\": 2}";
  peft_config *cfg = peft_config_load_buffer(rt, text, strlen(text), NULL, 0, &err);
  CHECK(cfg != NULL);
  if (!cfg) return;
  const peft_field_info *f;
  size_t n;
  CHECK_INT(peft_config_fields(cfg, &f, &n, &err), 0);
  CHECK(n > 30);
  int seen_r = 0, seen_dropout = 0, seen_tm = 0;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(f[i].name, "r") == 0) {
      seen_r = 1;
      CHECK_STR(f[i].annotation, "int");
      CHECK_STR(f[i].default_json, "8");
      CHECK_INT(f[i].given, 1);
      CHECK(f[i].help != NULL && f[i].help[0] != '\0');
    } else if (strcmp(f[i].name, "lora_dropout") == 0) {
      seen_dropout = 1;
      CHECK_STR(f[i].default_json, "0.0");
      CHECK_INT(f[i].given, 0);
    } else if (strcmp(f[i].name, "target_modules") == 0) {
      seen_tm = 1;
      CHECK_STR(f[i].annotation, "Optional[Union[list[str], str]]");
      CHECK_STR(f[i].default_json, "null");
    }
  }
  CHECK(seen_r && seen_dropout && seen_tm);
  /* the unknown keys last, sorted, without annotation */
  CHECK_STR(f[n - 2].name, "aa_unknown");
  CHECK(f[n - 2].annotation == NULL && f[n - 2].default_json == NULL && f[n - 2].help == NULL);
  CHECK_INT(f[n - 2].given, 1);
  CHECK_STR(f[n - 1].name, "zz_unknown");
  CHECK_INT(peft_config_fields(cfg, NULL, &n, &err), -1);
  CHECK_STR(err.message, "peft_config_fields: fields is NULL");
  peft_config_free(cfg);
}

TEST(lenient_loading) {
  const char *old = "{\"peft_type\": \"ADALORA\", \"target_modules\": [\"q_proj\"], \"tinit\": 0, \"tfinal\": 0}";
  CHECK(peft_config_load_buffer(rt, old, strlen(old), "old.json", 0, &err) == NULL);
  CHECK_STR(err.kind, "ValueError");
  CHECK(strstr(err.message, "AdaLoraConfig.total_step: must be an integer > 0") != NULL);
  peft_config *cfg = peft_config_load_buffer(rt, old, strlen(old), "old.json", PEFT_LOAD_LENIENT, &err);
  CHECK(cfg != NULL);
  if (!cfg) return;
  CHECK_INT(peft_config_warning_count(cfg), 1);
  CHECK_STR(peft_config_warning(cfg, 0),
            "AdaLoraConfig: total_step: must be an integer > 0 (the number of training steps AdaLoRA schedules), got"
            " null (a check PEFT added in 0.15.0; loaded leniently)");
  CHECK_INT(peft_config_validate(cfg, &err), 0); /* the config keeps the flag */
  peft_config_free(cfg);
  /* the schedule check too */
  const char *sched = "{\"peft_type\": \"ADALORA\", \"total_step\": 10, \"tinit\": 5, \"tfinal\": 5}";
  CHECK(peft_config_load_buffer(rt, sched, strlen(sched), NULL, 0, &err) == NULL);
  cfg = peft_config_load_buffer(rt, sched, strlen(sched), NULL, PEFT_LOAD_LENIENT, &err);
  CHECK(cfg != NULL);
  CHECK(cfg && strstr(peft_config_warning(cfg, 0), "leaves no budgeting phase") != NULL);
  peft_config_free(cfg);
  /* IA3's subset rule (0.6.1) */
  const char *ia3 = "{\"peft_type\": \"IA3\", \"target_modules\": [\"k\"], \"feedforward_modules\": [\"down\"]}";
  CHECK(peft_config_load_buffer(rt, ia3, strlen(ia3), NULL, 0, &err) == NULL);
  cfg = peft_config_load_buffer(rt, ia3, strlen(ia3), NULL, PEFT_LOAD_LENIENT, &err);
  CHECK(cfg && strstr(peft_config_warning(cfg, 0), "(a check PEFT added in 0.6.1; loaded leniently)") != NULL);
  peft_config_free(cfg);
  /* other checks stay errors */
  const char *bad = "{\"peft_type\": \"ADALORA\", \"total_step\": 10, \"use_dora\": true}";
  CHECK(peft_config_load_buffer(rt, bad, strlen(bad), NULL, PEFT_LOAD_LENIENT, &err) == NULL);
  CHECK(strstr(err.message, "AdaLoRA does not support DoRA") != NULL);
  /* lenient and strict together: unknown keys still refused */
  const char *unknown = "{\"peft_type\": \"ADALORA\", \"nope\": 1}";
  CHECK(peft_config_load_buffer(rt, unknown, strlen(unknown), NULL, PEFT_LOAD_LENIENT | PEFT_LOAD_STRICT, &err) ==
        NULL);
  CHECK(strstr(err.message, "(strict mode)") != NULL);
}

TEST(classes_by_name) {
  CHECK_STR(peft_method_config_class(rt, "lora"), "LoraConfig");
  CHECK_STR(peft_method_config_class(rt, "LOHA"), "LoHaConfig");
  CHECK_STR(peft_method_config_class(rt, "IA3Config"), "IA3Config");
  CHECK_STR(peft_method_model_class(rt, "adalora"), "AdaLoraModel");
  CHECK(peft_method_config_class(rt, "nope") == NULL);
  CHECK(peft_method_config_class(NULL, "lora") == NULL);
  CHECK(peft_method_model_class(rt, NULL) == NULL);
  const char *text = "{\"peft_type\": \"ADALORA\", \"total_step\": 10}";
  peft_config *cfg = peft_config_load_buffer(rt, text, strlen(text), NULL, 0, &err);
  CHECK(cfg != NULL);
  CHECK_INT(peft_config_is_a(cfg, "AdaLoraConfig"), 1);
  CHECK_INT(peft_config_is_a(cfg, "LoraConfig"), 1);
  CHECK_INT(peft_config_is_a(cfg, "PeftConfig"), 1);
  CHECK_INT(peft_config_is_a(cfg, "LoHaConfig"), 0);
  CHECK_INT(peft_config_is_a(cfg, "Nope"), 0);
  CHECK_INT(peft_config_is_a(NULL, "LoraConfig"), 0);
  peft_config_free(cfg);
}

TEST(the_model_side) {
  char mdir[512], path[600];
  snprintf(mdir, sizeof mdir, "%s/model", dir);
  write_model(mdir);
  peft_model *model = peft_model_describe(rt, mdir, &err);
  CHECK(model != NULL);
  if (!model) {
    fprintf(stderr, "  %s: %s\n", err.kind, err.message);
    return;
  }
  CHECK_STR(peft_model_type(model), "llama");
  CHECK_INT(peft_model_module_count(model), 12);
  CHECK_INT(peft_model_parameter_count(model), 6400 + 4096 + 2048 + 2048 + 4096 + 3 * 8192 + 3 * 64 + 6400);
  const peft_module_info *m = peft_model_module(model, 0);
  CHECK_STR(m->name, "model.embed_tokens");
  CHECK_STR(m->kind, "embedding");
  CHECK_INT(m->in_features, 100); /* an embedding: num_embeddings, embedding_dim */
  CHECK_INT(m->out_features, 64);
  m = peft_model_module(model, 2);
  CHECK_STR(m->name, "model.layers.0.self_attn.k_proj");
  CHECK_STR(m->kind, "linear");
  CHECK_INT(m->in_features, 64);
  CHECK_INT(m->out_features, 32);
  CHECK_INT(m->layer, 0);
  CHECK_INT(m->r, -1);
  CHECK(peft_model_module(model, 12) == NULL);

  peft_config *cfg = peft_config_new(rt, "lora",
                                     "{\"r\": 8, \"lora_alpha\": 16, \"target_modules\": [\"q_proj\", \"v_proj\"],"
                                     " \"task_type\": \"CAUSAL_LM\"}",
                                     &err);
  CHECK(cfg != NULL);
  peft_plan *plan = peft_plan_new(model, cfg, NULL, &err);
  CHECK(plan != NULL);
  if (plan) {
    CHECK_STR(peft_plan_class(plan), "PeftModelForCausalLM");
    /* q: A 8x64 + B 64x8; v: A 8x64 + B 32x8 */
    CHECK_INT(peft_plan_trainable_params(plan), 1024 + 768);
    CHECK_INT(peft_plan_all_params(plan), peft_model_parameter_count(model) + 1792);
    CHECK_STR(peft_plan_summary(plan), "trainable params: 1,792 || all params: 51,648 || trainable%: 3.4696");
    CHECK_INT(peft_plan_module_count(plan), 2);
    const peft_module_info *pm = peft_plan_module(plan, 1);
    CHECK_STR(pm->name, "model.layers.0.self_attn.v_proj");
    CHECK_INT(pm->r, 8);
    CHECK(pm->alpha == 16.0);
    CHECK_INT(peft_plan_param_count(plan), 4);
    const peft_tensor_info *t = peft_plan_param(plan, 3);
    CHECK_STR(t->name, "model.layers.0.self_attn.v_proj.lora_B.default.weight");
    CHECK_STR(t->module, "model.layers.0.self_attn.v_proj");
    CHECK_INT(t->ndim, 2);
    CHECK_INT(t->shape[0], 32);
    CHECK_INT(t->shape[1], 8);
    CHECK_INT(t->numel, 256);
    CHECK_INT(t->trainable, 1);
    CHECK_INT(peft_plan_saved_count(plan), 4);
    t = peft_plan_saved(plan, 0);
    CHECK_STR(t->name, "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
    CHECK_INT(t->shape[0], 8);
    CHECK(peft_plan_saved(plan, 4) == NULL);
  }
  /* the plan needs nothing else once made */
  peft_config_free(cfg);
  if (plan) CHECK_INT(peft_plan_trainable_params(plan), 1792);
  peft_plan_free(plan);
  /* where PEFT refuses, so does the plan */
  cfg = peft_config_new(rt, "lora", "{\"target_modules\": [\"nope_proj\"]}", &err);
  CHECK(peft_plan_new(model, cfg, NULL, &err) == NULL);
  CHECK_STR(err.kind, "ValueError");
  CHECK(strstr(err.message, "Target modules [\"nope_proj\"] not found in the base model") != NULL);
  peft_config_free(cfg);
  /* a model and a config of two runtimes */
  peft_runtime *other = peft_open(&err);
  cfg = peft_config_new(other, "lora", NULL, &err);
  CHECK(peft_plan_new(model, cfg, NULL, &err) == NULL);
  CHECK_STR(err.message, "peft_plan_new: the model and the config belong to different runtimes");
  peft_config_free(cfg);
  peft_close(other);
  CHECK(peft_plan_new(NULL, NULL, NULL, &err) == NULL);
  CHECK_STR(err.message, "peft_plan_new: model is NULL");
  peft_model_free(model);
  /* failures */
  snprintf(path, sizeof path, "%s/none", dir);
  CHECK(peft_model_describe(rt, path, &err) == NULL);
  CHECK_STR(err.kind, "FileNotFoundError");
  CHECK(peft_model_describe(rt, NULL, &err) == NULL);
  CHECK_STR(err.kind, "TypeError");
  CHECK(peft_model_type(NULL) == NULL);
  CHECK_INT(peft_model_module_count(NULL), 0);
  CHECK(peft_plan_class(NULL) == NULL);
}

TEST(tensor_names) {
  const char *names[] = {"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
                         "model.layers.1.mlp.up_proj.hada_w1_a.b2", "base_model.model.score.weight"};
  peft_tensor_map *map = peft_tensor_map_names(rt, names, 3, NULL, NULL, &err);
  CHECK(map != NULL);
  if (map) {
    CHECK_INT(peft_tensor_map_count(map), 3);
    const peft_tensor_owner *o = peft_tensor_map_at(map, 0);
    CHECK_STR(o->method, "lora");
    CHECK_STR(o->module, "model.layers.0.self_attn.q_proj");
    CHECK_STR(o->layer, "lora_A");
    CHECK_STR(o->adapter, "default");
    CHECK_STR(o->param, "weight");
    o = peft_tensor_map_at(map, 1);
    CHECK_STR(o->method, "loha");
    CHECK_STR(o->adapter, "b2");
    CHECK(o->param == NULL);
    o = peft_tensor_map_at(map, 2);
    CHECK(o->method == NULL && o->module == NULL && o->layer == NULL);
    CHECK(peft_tensor_map_at(map, 3) == NULL);
  }
  peft_tensor_map_free(map);
  /* the shared layer names of LoRA and AdaLoRA: the method asked for */
  map = peft_tensor_map_names(rt, names, 1, "adalora", "x", &err);
  CHECK(map && strcmp(peft_tensor_map_at(map, 0)->method, "adalora") == 0);
  CHECK(map && strcmp(peft_tensor_map_at(map, 0)->adapter, "x") == 0);
  peft_tensor_map_free(map);
  /* a file, with the config beside it deciding */
  char adir[512], path[600];
  snprintf(adir, sizeof adir, "%s/adapter", dir);
  mkdir(adir, 0755);
  static const char *const tnames[] = {"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
                                       "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"};
  static const int shapes[][3] = {{8, 64}, {64, 8}};
  snprintf(path, sizeof path, "%s/adapter_model.safetensors", adir);
  write_safetensors(path, tnames, shapes, 2);
  snprintf(path, sizeof path, "%s/adapter_config.json", adir);
  write_file(path, "{\"peft_type\": \"ADALORA\", \"total_step\": 100}");
  map = peft_tensor_map_file(rt, adir, NULL, &err);
  CHECK(map != NULL);
  if (map) {
    CHECK_INT(peft_tensor_map_count(map), 2);
    CHECK_STR(peft_tensor_map_at(map, 1)->method, "adalora");
    CHECK_STR(peft_tensor_map_at(map, 1)->layer, "lora_B");
  }
  peft_tensor_map_free(map);
  CHECK(peft_tensor_map_file(rt, dir, NULL, &err) == NULL);
  CHECK_STR(err.kind, "FileNotFoundError");
  CHECK(strstr(err.message, "the directory has no adapter_model.safetensors") != NULL);
  CHECK(peft_tensor_map_file(rt, path, NULL, &err) == NULL); /* the JSON is no safetensors file */
  CHECK_STR(err.kind, "ValueError");
  const char *nul[] = {NULL};
  CHECK(peft_tensor_map_names(rt, nul, 1, NULL, NULL, &err) == NULL);
  CHECK(strstr(err.message, "name 0 is NULL") != NULL);
  CHECK(peft_tensor_map_names(rt, NULL, 1, NULL, NULL, &err) == NULL);
  CHECK_STR(err.message, "peft_tensor_map_names: names is NULL");
  CHECK_INT(peft_tensor_map_count(NULL), 0);
}

/* a runtime closed while a config and a model of it live goes with the last of them */
TEST(runtimes_outlive_close) {
  peft_runtime *r = peft_open(&err);
  CHECK(r != NULL);
  if (!r) return;
  peft_config *cfg = peft_config_new(r, "lora", "{\"r\": 4}", &err);
  char mdir[512];
  snprintf(mdir, sizeof mdir, "%s/model", dir);
  peft_model *model = peft_model_describe(r, mdir, &err);
  CHECK(cfg != NULL && model != NULL);
  peft_close(r);
  peft_value v;
  CHECK_INT(peft_config_get(cfg, "r", &v, &err), 0);
  CHECK_INT(v.integer, 4);
  peft_config_free(cfg);
  CHECK_INT(peft_model_module_count(model), 12);
  peft_model_free(model); /* the runtime goes here (the leak checkers see it) */
  peft_free(NULL);
}

int main(void) {
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  rt = peft_open(&err);
  if (rt == NULL) {
    fprintf(stderr, "peft_open: %s\n", err.message);
    return 1;
  }
  RUN(kinds_are_the_cli_kinds);
  RUN(configs_from_fields);
  RUN(items_of_lists_and_dicts);
  RUN(fields_are_enumerated);
  RUN(lenient_loading);
  RUN(classes_by_name);
  RUN(the_model_side);
  RUN(tensor_names);
  RUN(runtimes_outlive_close);
  peft_close(rt);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return ctest_summary("test_capi");
}
