/* test_api.c - the C API of peft.h, as a host uses it. */
#define _DEFAULT_SOURCE /* mkstemps */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "ctest.h"
#include "peft.h"

static peft_runtime *rt;
static peft_error err;

static const char *LORA =
    "{\"peft_type\": \"LORA\", \"r\": 16, \"lora_alpha\": 32, \"lora_dropout\": 0.05,"
    " \"target_modules\": [\"v_proj\", \"q_proj\"], \"task_type\": \"CAUSAL_LM\", \"merge_weights\": false}";

TEST(open_and_list) {
  CHECK(rt != NULL);
  const peft_registry *reg = peft_runtime_registry(rt);
  CHECK(reg != NULL);
  CHECK_INT(peft_type_count(reg), 45);
  CHECK_INT(peft_method_count(reg), 45);
  long i = peft_method_by_name(reg, "loha", 4);
  CHECK(i >= 0);
  peft_method_info info;
  CHECK_INT(peft_method_at(reg, (size_t)i, &info), 0);
  CHECK_STR(info.prefix, "hada_");
  CHECK_INT(info.is_mixed_compatible, 1);
  CHECK_STR(peft_task_name(2), "CAUSAL_LM");
  CHECK_INT(peft_runtime_warning_count(rt), 0);
}

TEST(load_buffer_and_read_fields) {
  peft_config *cfg = peft_config_load_buffer(rt, LORA, strlen(LORA), "mem.json", 0, &err);
  CHECK(cfg != NULL);
  if (!cfg) return;
  CHECK_STR(peft_config_class(cfg), "LoraConfig");
  CHECK_STR(peft_config_peft_type(cfg), "LORA");
  CHECK_STR(peft_config_task_type(cfg), "CAUSAL_LM");
  peft_value v;
  CHECK_INT(peft_config_get(cfg, "r", &v, &err), 0);
  CHECK_INT(v.type, PEFT_VALUE_INT);
  CHECK_INT(v.integer, 16);
  CHECK_INT(peft_config_get(cfg, "lora_dropout", &v, &err), 0);
  CHECK_INT(v.type, PEFT_VALUE_FLOAT);
  CHECK(v.number == 0.05);
  CHECK_INT(peft_config_get(cfg, "bias", &v, &err), 0);
  CHECK_INT(v.type, PEFT_VALUE_STRING);
  CHECK_STR(v.string, "none");
  CHECK_INT(peft_config_get(cfg, "target_modules", &v, &err), 0);
  CHECK_INT(v.type, PEFT_VALUE_LIST);
  CHECK_INT(v.count, 2);
  CHECK_STR(v.string, "[\"q_proj\", \"v_proj\"]");
  CHECK_INT(peft_config_get(cfg, "layers_pattern", &v, &err), 0);
  CHECK_INT(v.type, PEFT_VALUE_NULL);
  CHECK_INT(peft_config_get(cfg, "use_dora", &v, &err), 0);
  CHECK_INT(v.type, PEFT_VALUE_BOOL);
  CHECK_INT(v.boolean, 0);
  /* an unknown key kept from the file */
  CHECK_INT(peft_config_get(cfg, "merge_weights", &v, &err), 0);
  CHECK_INT(v.type, PEFT_VALUE_BOOL);
  /* a field that does not exist */
  CHECK_INT(peft_config_get(cfg, "lora_alfa", &v, &err), -1);
  CHECK_INT(err.status, PEFT_ETYPE);
  CHECK_STR(err.message, "LoraConfig has no field 'lora_alfa' (did you mean 'lora_alpha'?)");
  /* one warning: the unknown key */
  CHECK_INT(peft_config_warning_count(cfg), 1);
  CHECK(strstr(peft_config_warning(cfg, 0), "'merge_weights'") != NULL);
  CHECK(peft_config_warning(cfg, 1) == NULL);
  peft_config_free(cfg);
}

TEST(errors_come_back_as_text) {
  const char *bad = "{\"peft_type\": \"LORA\", \"r\": \"16\"}";
  CHECK(peft_config_load_buffer(rt, bad, strlen(bad), "bad.json", 0, &err) == NULL);
  CHECK_INT(err.status, PEFT_ETYPE);
  CHECK_STR(err.message, "bad.json: LoraConfig.r: expected an integer, got \"16\" (PEFT reads the file, but its "
            "model code needs an integer here: a size, a count or a seed)");
  const char *broken = "{\"peft_type\": \"LORA\",";
  CHECK(peft_config_load_buffer(rt, broken, strlen(broken), NULL, 0, &err) == NULL);
  CHECK_INT(err.status, PEFT_EJSON);
  CHECK(strstr(err.message, "invalid JSON at line 1") != NULL);
  CHECK(peft_config_load(rt, "/nonexistent/dir", 0, &err) == NULL);
  CHECK_INT(err.status, PEFT_ENOTFOUND);
  CHECK_STR(err.kind, "FileNotFoundError"); /* as the peft command says it */
  CHECK_STR(err.message, "/nonexistent/dir: no such file or directory");
  /* strict mode */
  CHECK(peft_config_load_buffer(rt, LORA, strlen(LORA), NULL, PEFT_LOAD_STRICT, &err) == NULL);
  CHECK_INT(err.status, PEFT_EVALUE);
  CHECK(strstr(err.message, "unknown to LoraConfig") != NULL);
  /* binary garbage */
  const char garbage[] = {'\xff', '\0', '{', '"'};
  CHECK(peft_config_load_buffer(rt, garbage, sizeof garbage, NULL, 0, &err) == NULL);
  CHECK_INT(err.status, PEFT_EJSON);
}

TEST(set_validate_save) {
  peft_config *cfg = peft_config_load_buffer(rt, LORA, strlen(LORA), NULL, 0, &err);
  CHECK(cfg != NULL);
  if (!cfg) return;
  CHECK_INT(peft_config_set_json(cfg, "r", "8", &err), 0);
  CHECK_INT(peft_config_set_json(cfg, "r", "\"eight\"", &err), -1);
  CHECK_STR(err.message, "LoraConfig.r: expected an integer, got \"eight\"");
  CHECK_INT(peft_config_set_json(cfg, "r", "{", &err), -1);
  CHECK_INT(err.status, PEFT_EJSON);
  CHECK_INT(peft_config_set_json(cfg, "layers_pattern", "\"layers\"", &err), 0);
  CHECK_INT(peft_config_validate(cfg, &err), -1);
  CHECK_STR(err.message, "LoraConfig.layers_pattern: needs layers_to_transform to be set as well, got \"layers\"");
  CHECK_INT(peft_config_set_json(cfg, "layers_pattern", "null", &err), 0);
  CHECK_INT(peft_config_validate(cfg, &err), 0);
  char *json = peft_config_to_json(cfg, &err);
  CHECK(json != NULL && strstr(json, "\"r\": 8,\n") != NULL);
  CHECK(json != NULL && strstr(json, "\"merge_weights\": false,\n") != NULL);
  char dir[] = "/tmp/peft-api-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  CHECK_INT(peft_config_save(cfg, dir, &err), 0);
  peft_config *again = peft_config_load(rt, dir, 0, &err);
  CHECK(again != NULL);
  if (again) {
    char *json2 = peft_config_to_json(again, &err);
    CHECK_STR(json2, json);
    free(json2);
    peft_config_free(again);
  }
  char file[64];
  snprintf(file, sizeof file, "%s/adapter_config.json", dir);
  CHECK_INT(peft_config_save(cfg, file, &err), -1);
  CHECK_INT(err.status, PEFT_EOS);
  unlink(file);
  rmdir(dir);
  free(json);
  peft_config_free(cfg);
}

TEST(extensions) {
  char path[] = "/tmp/peft-ext-XXXXXX.lua";
  int fd = mkstemps(path, 4);
  CHECK(fd >= 0);
  const char *script = "peft.add_peft_type('C_HOST')\nerror('stop here')\n";
  CHECK(write(fd, script, strlen(script)) == (ssize_t)strlen(script));
  close(fd);
  CHECK_INT(peft_load_extension(rt, path, &err), -1);
  CHECK_INT(err.status, PEFT_EOTHER);
  CHECK_STR(err.kind, "ExtensionError");
  CHECK(strstr(err.message, "extension ") == err.message);
  CHECK(strstr(err.message, ":2: stop here") != NULL);
  CHECK_INT(peft_type_index(peft_runtime_registry(rt), "C_HOST", 6), -1); /* rolled back */
  unlink(path);
}

/* peft_check: the JSON of `peft check --json`, the named targets or every one; errors as text */
TEST(check_where_an_adapter_works) {
  char dir[] = "/tmp/peft-check-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char file[64];
  snprintf(file, sizeof file, "%s/adapter_config.json", dir);
  FILE *f = fopen(file, "w");
  CHECK(f != NULL);
  if (!f) return;
  fputs("{\"peft_type\": \"LORA\", \"r\": 64, \"lora_alpha\": 16, \"use_dora\": true,"
        " \"target_modules\": [\"q_proj\"], \"peft_version\": \"0.18.0\"}", f);
  fclose(f);
  const char *targets[] = {"peft 0.6.2", "vllm:max_lora_rank=64", "0.14.0"};
  char *json = peft_check(rt, dir, targets, 3, &err);
  CHECK(json != NULL);
  if (json) {
    CHECK(strstr(json, "\"adapters\": [") != NULL);
    CHECK(strstr(json, "\"target\": \"peft 0.6.2\"") != NULL);
    CHECK(strstr(json, "got an unexpected keyword argument 'use_dora'") != NULL); /* the first unknown key, in the file's order */
    CHECK(strstr(json, "\"message\": \"vLLM does not yet support DoRA.\"") != NULL);
    CHECK(strstr(json, "\"target\": \"peft 0.14.0\"") != NULL);
    CHECK(strstr(json, "\"verdict\": \"ok\"") != NULL); /* 0.14.0 drops peft_version with a warning */
    free(json);
  }
  json = peft_check(rt, file, NULL, 0, &err); /* every release, summarised, and every engine */
  CHECK(json != NULL);
  if (json) {
    CHECK(strstr(json, "\"oldest_release\": \"0.14.0\"") != NULL);
    CHECK(strstr(json, "\"target\": \"ollama\"") != NULL);
    free(json);
  }
  const char *bad[] = {"vllm:max_lora_rank=17"};
  CHECK(peft_check(rt, dir, bad, 1, &err) == NULL);
  CHECK_INT(err.status, PEFT_EVALUE);
  CHECK(strstr(err.message, "vLLM option max_lora_rank must be one of 1, 8, 16") != NULL);
  const char *unknown[] = {"vlm"};
  CHECK(peft_check(rt, dir, unknown, 1, &err) == NULL);
  CHECK(strstr(err.message, "unknown target 'vlm' (did you mean 'vllm'?)") != NULL);
  CHECK(peft_check(rt, "/nonexistent/adapter", NULL, 0, &err) == NULL);
  CHECK_INT(err.status, PEFT_ENOTFOUND);
  CHECK(peft_check(rt, NULL, NULL, 0, &err) == NULL);
  CHECK_INT(err.status, PEFT_ETYPE);
  CHECK(peft_check(rt, dir, NULL, 2, &err) == NULL);
  CHECK_INT(err.status, PEFT_ETYPE);
  unlink(file);
  rmdir(dir);
}

TEST(attach_to_a_host_state) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  CHECK_INT(peft_attach(L, &err), 0);
  CHECK_INT(lua_gettop(L), 1);
  lua_getfield(L, 1, "PEFT_TYPE_TO_PREFIX_MAPPING");
  lua_getfield(L, -1, "LOKR");
  CHECK_STR(lua_tostring(L, -1), "lokr_");
  lua_close(L);
}

/* Issue 13, item 8: every entry point takes a NULL handle or output pointer
 * as peft_config_load does: a TypeError naming the function, or an empty
 * answer where there is no error to fill. */
TEST(null_handles_are_refused) {
  peft_value v;
  CHECK_INT(peft_config_get(NULL, "r", &v, &err), -1);
  CHECK_STR(err.message, "peft_config_get: config is NULL");
  CHECK_INT(err.status, PEFT_ETYPE);
  peft_config *cfg = peft_config_load_buffer(rt, LORA, strlen(LORA), NULL, 0, &err);
  CHECK(cfg != NULL);
  CHECK_INT(peft_config_get(cfg, "r", NULL, &err), -1);
  CHECK_STR(err.message, "peft_config_get: out is NULL");
  CHECK_INT(peft_config_get(cfg, NULL, &v, &err), -1);
  CHECK_STR(err.message, "peft_config_get: field is NULL");
  CHECK_INT(peft_config_get(cfg, "r", &v, NULL), 0); /* err may be NULL */
  peft_config_free(cfg);
  CHECK_INT(peft_config_set_json(NULL, "r", "8", &err), -1);
  CHECK_STR(err.message, "peft_config_set_json: config is NULL");
  CHECK_INT(peft_config_validate(NULL, &err), -1);
  CHECK_STR(err.message, "peft_config_validate: config is NULL");
  CHECK(peft_config_to_json(NULL, &err) == NULL);
  CHECK_STR(err.message, "peft_config_to_json: config is NULL");
  CHECK_INT(peft_config_save(NULL, "/tmp", &err), -1);
  CHECK_STR(err.message, "peft_config_save: config is NULL");
  CHECK(peft_config_class(NULL) == NULL);
  CHECK(peft_config_peft_type(NULL) == NULL);
  CHECK(peft_config_task_type(NULL) == NULL);
  CHECK_INT(peft_config_warning_count(NULL), 0);
  CHECK(peft_config_warning(NULL, 0) == NULL);
  CHECK_INT(peft_load_extension(NULL, "x.lua", &err), -1);
  CHECK_STR(err.message, "peft_load_extension: runtime is NULL");
  CHECK_INT(peft_runtime_warning_count(NULL), 0);
  CHECK(peft_runtime_warning(NULL, 0) == NULL);
  CHECK(peft_runtime_registry(NULL) == NULL);
  CHECK(peft_runtime_lua(NULL) == NULL);
  CHECK_INT(peft_attach(NULL, &err), -1);
  CHECK_STR(err.message, "peft_attach: the Lua state is NULL");
  CHECK(peft_config_load_buffer(NULL, LORA, strlen(LORA), NULL, 0, &err) == NULL);
  CHECK_STR(err.message, "peft_config_load_buffer: runtime is NULL");
  CHECK_INT(peft_set_config_limit(NULL, 10, &err), -1);
  CHECK_STR(err.message, "peft_set_config_limit: runtime is NULL");
  /* the registry's functions */
  peft_method_info info;
  CHECK(peft_type_name(NULL, 0) == NULL);
  CHECK_INT(peft_type_count(NULL), 0);
  CHECK_INT(peft_type_index(NULL, "LORA", 4), -1);
  CHECK_INT(peft_method_count(NULL), 0);
  CHECK_INT(peft_method_at(NULL, 0, &info), -1);
  CHECK_INT(peft_method_at(peft_runtime_registry(rt), 0, NULL), -1);
  CHECK_INT(peft_method_by_type(NULL, "LORA", 4), -1);
  CHECK_INT(peft_method_by_name(NULL, "lora", 4), -1);
  CHECK_INT(peft_method_by_prefix(NULL, "lora_", 5), -1);
  CHECK_INT(peft_add_peft_type(NULL, "X", 1, &err), PEFT_ETYPE);
  CHECK_STR(err.message, "peft_add_peft_type: registry is NULL");
  peft_method_spec spec = {0};
  spec.name = "x";
  CHECK_INT(peft_register_method(NULL, &spec, &err), -1);
  CHECK_STR(err.message, "register_peft_method: registry is NULL");
  peft_registry_mark m = peft_registry_mark_now(NULL);
  CHECK_INT(m.types, 0);
  peft_registry_rollback(NULL, m);
  size_t out[1];
  CHECK_INT(peft_closest("lora", NULL, 3, out, 1), 0);
}

/* Issue 13, item 5: strings read from a config carry their length (a NUL
 * inside one is kept). */
TEST(values_carry_their_length) {
  const char *text = "{\"peft_type\": \"LORA\", \"base_model_name_or_path\": \"a\\u0000b\"}";
  peft_config *cfg = peft_config_load_buffer(rt, text, strlen(text), NULL, 0, &err);
  CHECK(cfg != NULL);
  if (!cfg) return;
  peft_value v;
  CHECK_INT(peft_config_get(cfg, "base_model_name_or_path", &v, &err), 0);
  CHECK_INT(v.type, PEFT_VALUE_STRING);
  CHECK_INT(v.length, 3);
  CHECK(memcmp(v.string, "a\0b", 4) == 0);
  CHECK_INT(peft_config_get(cfg, "target_modules", &v, &err), 0);
  CHECK_INT(v.type, PEFT_VALUE_NULL);
  CHECK_INT(v.length, 0);
  peft_config_free(cfg);
  /* a peft_type with a NUL is no PeftType */
  text = "{\"peft_type\": \"LORA\\u0000X\"}";
  CHECK(peft_config_load_buffer(rt, text, strlen(text), NULL, 0, &err) == NULL);
  CHECK_INT(err.status, PEFT_EVALUE);
  CHECK(strstr(err.message, "unknown 'peft_type' \"LORA\\0X\"") != NULL);
}

/* Issue 13, item 9: a buffer is held to the file limit (settable), before it
 * reaches Lua. */
TEST(buffers_have_the_file_limit) {
  size_t big = 16 * 1024 * 1024 + 1;
  char *buf = malloc(big);
  CHECK(buf != NULL);
  if (!buf) return;
  memset(buf, ' ', big);
  memcpy(buf, "{\"peft_type\": \"IA3\"}", 20);
  CHECK(peft_config_load_buffer(rt, buf, big, "big.json", 0, &err) == NULL);
  CHECK_INT(err.status, PEFT_EVALUE);
  CHECK_STR(err.message, "big.json: the config has 16777217 bytes, more than the limit of 16777216");
  peft_config *cfg = peft_config_load_buffer(rt, buf, big - 1, "big.json", 0, &err);
  CHECK(cfg != NULL);
  peft_config_free(cfg);
  free(buf);
  CHECK_INT(peft_set_config_limit(rt, 20, &err), 0);
  const char *ia3 = "{\"peft_type\": \"IA3\"}";
  cfg = peft_config_load_buffer(rt, ia3, 20, NULL, 0, &err);
  CHECK(cfg != NULL);
  peft_config_free(cfg);
  CHECK(peft_config_load_buffer(rt, "{\"peft_type\": \"IA3\" }", 21, NULL, 0, &err) == NULL);
  CHECK_STR(err.message, "the config has 21 bytes, more than the limit of 20");
  /* files too */
  char path[] = "/tmp/peft-test-limit-XXXXXX";
  CHECK(mkdtemp(path) != NULL);
  char file[64];
  snprintf(file, sizeof file, "%s/adapter_config.json", path);
  FILE *f = fopen(file, "w");
  fputs("{\"peft_type\": \"IA3\" }", f);
  fclose(f);
  CHECK(peft_config_load(rt, path, 0, &err) == NULL);
  CHECK(strstr(err.message, "the file has 21 bytes, more than the limit of 20") != NULL);
  CHECK_INT(peft_set_config_limit(rt, 16 * 1024 * 1024, &err), 0);
  cfg = peft_config_load(rt, path, 0, &err);
  CHECK(cfg != NULL);
  peft_config_free(cfg);
  remove(file);
  rmdir(path);
}

int main(void) {
  rt = peft_open(&err);
  RUN(open_and_list);
  if (rt) {
    RUN(load_buffer_and_read_fields);
    RUN(errors_come_back_as_text);
    RUN(set_validate_save);
    RUN(extensions);
    RUN(null_handles_are_refused);
    RUN(values_carry_their_length);
    RUN(buffers_have_the_file_limit);
    RUN(check_where_an_adapter_works);
  }
  RUN(attach_to_a_host_state);
  peft_close(rt);
  return ctest_summary("test_api");
}
