/*
 * lpeft_host.c - peft.cmod: the C API (peft.h) as a module for Lua 5.1, 5.2
 * and 5.3 (built against their headers; LuaJIT uses lua/host/peft/ffi.lua
 * instead). The public module is lua/host/peft.lua, which builds the same
 * API as under Lua 5.4 on these functions.
 *
 * The runtime inside is libpeft's own Lua 5.4, linked in with every Lua
 * symbol local (see the Makefile): the lua_* calls here are the host's.
 *
 * Conventions (the same as peft/ffi.lua's):
 *   - handles are userdata with a __gc (runtime, config, model): the C API
 *     keeps a runtime alive while its configs and models are, so they may be
 *     collected in any order;
 *   - failures return nil, kind, message (kind: "FileNotFoundError", ...);
 *     misuse (a wrong argument type) raises;
 *   - item(cfg, field, path) returns tag, value, count, key: tag is "null",
 *     "bool", "int", "float", "string", "list" or "dict"; a list or dict gives
 *     its JSON text as value and its count; key is the entry's key when the
 *     last step went into a dict.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "peft.h"

#if LUA_VERSION_NUM < 502
#define lpeft_rawlen(L, i) lua_objlen(L, i)
static void lpeft_setfuncs(lua_State *L, const luaL_Reg *l) {
  for (; l->name; l++) {
    lua_pushcfunction(L, l->func);
    lua_setfield(L, -2, l->name);
  }
}
#else
#define lpeft_rawlen(L, i) lua_rawlen(L, i)
#define lpeft_setfuncs(L, l) luaL_setfuncs(L, l, 0)
#endif

#define RUNTIME "peft.cmod.runtime"
#define CONFIG "peft.cmod.config"
#define MODEL "peft.cmod.model"

typedef struct box {
  void *p;
} box;

/* Memory the C API hands over (a text, a plan, a tensor map), held by a
 * userdata while it is copied into Lua values: when a push raises (out of
 * memory), the collector frees it. The holder is made before the call that
 * hands the memory over, as new_box is, so that no raise finds it unheld. */
#define OWNED "peft.cmod.owned"
typedef struct owned {
  void *p;
  void (*release)(void *);
} owned;

static int owned_gc(lua_State *L) {
  owned *o = luaL_checkudata(L, 1, OWNED);
  if (o->p) o->release(o->p);
  o->p = NULL;
  return 0;
}

/* Pushes an empty holder (p set by the caller, released by release). */
static owned *hold(lua_State *L, void (*release)(void *)) {
  owned *o = lua_newuserdata(L, sizeof *o);
  o->p = NULL;
  o->release = release;
  luaL_getmetatable(L, OWNED);
  lua_setmetatable(L, -2);
  return o;
}

/* Releases what o holds and removes it from the stack at idx. */
static void release_held(lua_State *L, owned *o, int idx) {
  if (o->p) o->release(o->p);
  o->p = NULL;
  lua_remove(L, idx);
}

static void release_plan(void *p) { peft_plan_free(p); }
static void release_map(void *p) { peft_tensor_map_free(p); }

static void *check_handle(lua_State *L, int i, const char *type) {
  box *b = luaL_checkudata(L, i, type);
  if (b->p == NULL) luaL_argerror(L, i, "the handle is closed");
  return b->p;
}

/* A new box of the type on the stack (p set by the caller once made). */
static box *new_box(lua_State *L, const char *type) {
  box *b = lua_newuserdata(L, sizeof *b);
  b->p = NULL;
  luaL_getmetatable(L, type);
  lua_setmetatable(L, -2);
  return b;
}

static int fail(lua_State *L, const peft_error *err) {
  lua_pushnil(L);
  lua_pushstring(L, err->kind);
  lua_pushstring(L, err->message);
  return 3;
}

static void push_opt_string(lua_State *L, const char *s) {
  if (s) lua_pushstring(L, s);
  else lua_pushnil(L);
}

/* Reads the n entries of the list at idx into out as strings (a number is
 * converted, as lua_tostring does), raising argerror(idx, msg) at any other
 * value. Pushes a table of the strings, which keeps them alive: a number's
 * string is held by nothing else. */
static void check_strings(lua_State *L, int idx, const char **out, size_t n, const char *msg) {
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, idx, (int)i + 1);
    out[i] = lua_tostring(L, -1);
    if (out[i] == NULL) luaL_argerror(L, idx, msg);
    lua_rawseti(L, -2, (int)i + 1);
  }
}

/* --- runtime ----------------------------------------------------------- */

static int l_open(lua_State *L) {
  peft_error err;
  box *b = new_box(L, RUNTIME);
  b->p = peft_open(&err);
  if (b->p == NULL) return fail(L, &err);
  return 1;
}

static int rt_gc(lua_State *L) {
  box *b = luaL_checkudata(L, 1, RUNTIME);
  peft_close(b->p);
  b->p = NULL;
  return 0;
}

static int l_types(lua_State *L) {
  const peft_registry *reg = peft_runtime_registry(check_handle(L, 1, RUNTIME));
  size_t n = peft_type_count(reg);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring(L, peft_type_name(reg, i));
    lua_rawseti(L, -2, (int)i + 1);
  }
  return 1;
}

static int l_tasks(lua_State *L) {
  size_t n = peft_task_count();
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring(L, peft_task_name(i));
    lua_rawseti(L, -2, (int)i + 1);
  }
  return 1;
}

/* methods(rt) -> list of { name, peft_type, prefix, is_mixed_compatible, shares_prefix_with,
 * config_cls = name, model_cls = name } */
static int l_methods(lua_State *L) {
  peft_runtime *rt = check_handle(L, 1, RUNTIME);
  const peft_registry *reg = peft_runtime_registry(rt);
  size_t n = peft_method_count(reg);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    peft_method_info m;
    if (peft_method_at(reg, i, &m) != 0) break;
    lua_createtable(L, 0, 7);
    lua_pushstring(L, m.name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, m.peft_type);
    lua_setfield(L, -2, "peft_type");
    lua_pushstring(L, m.prefix);
    lua_setfield(L, -2, "prefix");
    lua_pushboolean(L, m.is_mixed_compatible);
    lua_setfield(L, -2, "is_mixed_compatible");
    push_opt_string(L, m.shares_prefix_with);
    lua_setfield(L, -2, "shares_prefix_with");
    push_opt_string(L, peft_method_config_class(rt, m.name));
    lua_setfield(L, -2, "config_cls");
    push_opt_string(L, peft_method_model_class(rt, m.name));
    lua_setfield(L, -2, "model_cls");
    lua_rawseti(L, -2, (int)i + 1);
  }
  return 1;
}

static int l_runtime_warnings(lua_State *L) {
  peft_runtime *rt = check_handle(L, 1, RUNTIME);
  size_t n = peft_runtime_warning_count(rt);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring(L, peft_runtime_warning(rt, i));
    lua_rawseti(L, -2, (int)i + 1);
  }
  return 1;
}

/* --- configs ----------------------------------------------------------- */

static int push_config(lua_State *L, box *b, const peft_error *err) {
  if (b->p == NULL) return fail(L, err);
  return 1;
}

/* load(rt, path, flags) */
static int l_load(lua_State *L) {
  peft_runtime *rt = check_handle(L, 1, RUNTIME);
  const char *path = luaL_checkstring(L, 2);
  int flags = (int)luaL_optinteger(L, 3, 0);
  peft_error err;
  box *b = new_box(L, CONFIG);
  b->p = peft_config_load(rt, path, flags, &err);
  return push_config(L, b, &err);
}

/* load_buffer(rt, text, name, flags) */
static int l_load_buffer(lua_State *L) {
  peft_runtime *rt = check_handle(L, 1, RUNTIME);
  size_t len;
  const char *data = luaL_checklstring(L, 2, &len);
  const char *name = luaL_optstring(L, 3, NULL);
  int flags = (int)luaL_optinteger(L, 4, 0);
  peft_error err;
  box *b = new_box(L, CONFIG);
  b->p = peft_config_load_buffer(rt, data, len, name, flags, &err);
  return push_config(L, b, &err);
}

/* new(rt, method or nil, fields_json) */
static int l_new(lua_State *L) {
  peft_runtime *rt = check_handle(L, 1, RUNTIME);
  const char *method = luaL_optstring(L, 2, NULL);
  const char *json = luaL_optstring(L, 3, NULL);
  peft_error err;
  box *b = new_box(L, CONFIG);
  b->p = peft_config_new(rt, method, json, &err);
  return push_config(L, b, &err);
}

static int cfg_gc(lua_State *L) {
  box *b = luaL_checkudata(L, 1, CONFIG);
  peft_config_free(b->p);
  b->p = NULL;
  return 0;
}

/* is_a(cfg, class name) -> boolean */
static int l_is_a(lua_State *L) {
  peft_config *cfg = check_handle(L, 1, CONFIG);
  lua_pushboolean(L, peft_config_is_a(cfg, luaL_checkstring(L, 2)));
  return 1;
}

/* describe(cfg) -> class, peft_type, task_type */
static int l_describe(lua_State *L) {
  peft_config *cfg = check_handle(L, 1, CONFIG);
  lua_pushstring(L, peft_config_class(cfg));
  lua_pushstring(L, peft_config_peft_type(cfg));
  push_opt_string(L, peft_config_task_type(cfg));
  return 3;
}

static int push_value(lua_State *L, const peft_value *v) {
  switch (v->type) {
    case PEFT_VALUE_NULL: lua_pushliteral(L, "null"); return 1;
    case PEFT_VALUE_BOOL:
      lua_pushliteral(L, "bool");
      lua_pushboolean(L, v->boolean);
      return 2;
    case PEFT_VALUE_INT:
      lua_pushliteral(L, "int");
#if LUA_VERSION_NUM >= 503
      lua_pushinteger(L, (lua_Integer)v->integer);
#else
      lua_pushnumber(L, (lua_Number)v->integer);
#endif
      return 2;
    case PEFT_VALUE_FLOAT:
      lua_pushliteral(L, "float");
      lua_pushnumber(L, (lua_Number)v->number);
      return 2;
    case PEFT_VALUE_STRING:
      lua_pushliteral(L, "string");
      lua_pushlstring(L, v->string, v->length);
      return 2;
    case PEFT_VALUE_LIST:
    case PEFT_VALUE_DICT:
      if (v->type == PEFT_VALUE_LIST) lua_pushliteral(L, "list");
      else lua_pushliteral(L, "dict");
      lua_pushlstring(L, v->string, v->length);
      lua_pushnumber(L, (lua_Number)v->count);
      return 3;
  }
  return 0;
}

/* item(cfg, field [, path]) -> tag, value, count, key */
static int l_item(lua_State *L) {
  peft_config *cfg = check_handle(L, 1, CONFIG);
  const char *field = luaL_checkstring(L, 2);
  size_t path[64];
  size_t depth = 0;
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    depth = lpeft_rawlen(L, 3);
    if (depth > 64) return luaL_argerror(L, 3, "more than 64 positions");
    for (size_t i = 0; i < depth; i++) {
      lua_rawgeti(L, 3, (int)i + 1);
      lua_Number n = lua_tonumber(L, -1);
      lua_pop(L, 1);
      if (!(n >= 0 && n < 1e15)) return luaL_argerror(L, 3, "positions are integers >= 0");
      path[i] = (size_t)n;
    }
  }
  peft_value v;
  peft_error err;
  if (peft_config_item(cfg, field, path, depth, &v, &err) != 0) return fail(L, &err);
  int n = push_value(L, &v);
  while (n < 3) {
    lua_pushnil(L);
    n++;
  }
  if (v.key) lua_pushlstring(L, v.key, v.key_length);
  else lua_pushnil(L);
  return 4;
}

/* fields(cfg) -> list of { name, annotation, default, help, given } */
static int l_fields(lua_State *L) {
  peft_config *cfg = check_handle(L, 1, CONFIG);
  const peft_field_info *f;
  size_t n;
  peft_error err;
  if (peft_config_fields(cfg, &f, &n, &err) != 0) return fail(L, &err);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_createtable(L, 0, 5);
    lua_pushstring(L, f[i].name);
    lua_setfield(L, -2, "name");
    push_opt_string(L, f[i].annotation);
    lua_setfield(L, -2, "type");
    push_opt_string(L, f[i].default_json);
    lua_setfield(L, -2, "default_json");
    push_opt_string(L, f[i].help);
    lua_setfield(L, -2, "help");
    lua_pushboolean(L, f[i].given);
    lua_setfield(L, -2, "given");
    lua_rawseti(L, -2, (int)i + 1);
  }
  return 1;
}

static int l_set_json(lua_State *L) {
  peft_config *cfg = check_handle(L, 1, CONFIG);
  const char *field = luaL_checkstring(L, 2);
  const char *json = luaL_checkstring(L, 3);
  peft_error err;
  if (peft_config_set_json(cfg, field, json, &err) != 0) return fail(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_validate(lua_State *L) {
  peft_config *cfg = check_handle(L, 1, CONFIG);
  peft_error err;
  if (peft_config_validate(cfg, &err) != 0) return fail(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_warnings(lua_State *L) {
  peft_config *cfg = check_handle(L, 1, CONFIG);
  size_t n = peft_config_warning_count(cfg);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring(L, peft_config_warning(cfg, i));
    lua_rawseti(L, -2, (int)i + 1);
  }
  return 1;
}

/* Pushes the malloc'd text o holds (and frees it), or fails. */
static int push_text(lua_State *L, owned *o, const peft_error *err) {
  if (o->p == NULL) return fail(L, err);
  lua_pushstring(L, o->p);
  release_held(L, o, -2);
  return 1;
}

static int l_to_json(lua_State *L) {
  peft_config *cfg = check_handle(L, 1, CONFIG);
  peft_error err;
  owned *o = hold(L, peft_free);
  o->p = peft_config_to_json(cfg, &err);
  return push_text(L, o, &err);
}

static int l_save(lua_State *L) {
  peft_config *cfg = check_handle(L, 1, CONFIG);
  const char *dir = luaL_checkstring(L, 2);
  peft_error err;
  if (peft_config_save(cfg, dir, &err) != 0) return fail(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/* check(rt, path [, targets]) -> JSON text */
static int l_check(lua_State *L) {
  peft_runtime *rt = check_handle(L, 1, RUNTIME);
  const char *path = luaL_checkstring(L, 2);
  const char *targets[64];
  size_t n = 0;
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    n = lpeft_rawlen(L, 3);
    if (n > 64) return luaL_argerror(L, 3, "more than 64 targets");
    check_strings(L, 3, targets, n, "targets are strings");
  }
  peft_error err;
  owned *o = hold(L, peft_free);
  o->p = peft_check(rt, path, targets, n, &err);
  return push_text(L, o, &err);
}

/* --- the model side ------------------------------------------------------- */

static void set_int(lua_State *L, const char *k, long long v) {
  lua_pushnumber(L, (lua_Number)v);
  lua_setfield(L, -2, k);
}

static void push_module(lua_State *L, const peft_module_info *m) {
  lua_createtable(L, 0, 7);
  lua_pushstring(L, m->name);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, m->kind);
  lua_setfield(L, -2, "kind");
  if (m->in_features >= 0) set_int(L, "in_features", m->in_features);
  if (m->out_features >= 0) set_int(L, "out_features", m->out_features);
  if (m->layer >= 0) set_int(L, "layer_index", m->layer);
  if (m->r >= 0) set_int(L, "r", m->r);
  if (m->r >= 0) {
    lua_pushnumber(L, m->alpha);
    lua_setfield(L, -2, "alpha");
  }
}

static void push_tensor(lua_State *L, const peft_tensor_info *t, const char *namekey) {
  lua_createtable(L, 0, 5);
  lua_pushstring(L, t->name);
  lua_setfield(L, -2, namekey);
  push_opt_string(L, t->module);
  lua_setfield(L, -2, "module");
  lua_createtable(L, (int)t->ndim, 0);
  for (size_t d = 0; d < t->ndim; d++) {
    lua_pushnumber(L, (lua_Number)t->shape[d]);
    lua_rawseti(L, -2, (int)d + 1);
  }
  lua_setfield(L, -2, "shape");
  set_int(L, "numel", t->numel);
  lua_pushboolean(L, t->trainable);
  lua_setfield(L, -2, "trainable");
}

/* model(rt, path) -> model handle, model_type, modules, total */
static int l_model(lua_State *L) {
  peft_runtime *rt = check_handle(L, 1, RUNTIME);
  const char *path = luaL_checkstring(L, 2);
  peft_error err;
  box *b = new_box(L, MODEL);
  b->p = peft_model_describe(rt, path, &err);
  if (b->p == NULL) return fail(L, &err);
  push_opt_string(L, peft_model_type(b->p));
  size_t n = peft_model_module_count(b->p);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    push_module(L, peft_model_module(b->p, i));
    lua_rawseti(L, -2, (int)i + 1);
  }
  lua_pushnumber(L, (lua_Number)peft_model_parameter_count(b->p));
  return 4;
}

static int model_gc(lua_State *L) {
  box *b = luaL_checkudata(L, 1, MODEL);
  peft_model_free(b->p);
  b->p = NULL;
  return 0;
}

/* plan(model, cfg [, adapter]) -> { class_name, summary, trainable, all, modules, params, saved } */
static int l_plan(lua_State *L) {
  peft_model *m = check_handle(L, 1, MODEL);
  peft_config *cfg = check_handle(L, 2, CONFIG);
  const char *adapter = luaL_optstring(L, 3, NULL);
  peft_error err;
  owned *o = hold(L, release_plan);
  peft_plan *p = o->p = peft_plan_new(m, cfg, adapter, &err);
  if (p == NULL) return fail(L, &err);
  lua_newtable(L);
  lua_pushstring(L, peft_plan_class(p));
  lua_setfield(L, -2, "class_name");
  lua_pushstring(L, peft_plan_summary(p));
  lua_setfield(L, -2, "summary");
  set_int(L, "trainable", peft_plan_trainable_params(p));
  set_int(L, "all", peft_plan_all_params(p));
  lua_createtable(L, (int)peft_plan_module_count(p), 0);
  for (size_t i = 0; i < peft_plan_module_count(p); i++) {
    push_module(L, peft_plan_module(p, i));
    lua_rawseti(L, -2, (int)i + 1);
  }
  lua_setfield(L, -2, "modules");
  lua_createtable(L, (int)peft_plan_param_count(p), 0);
  for (size_t i = 0; i < peft_plan_param_count(p); i++) {
    push_tensor(L, peft_plan_param(p, i), "name");
    lua_rawseti(L, -2, (int)i + 1);
  }
  lua_setfield(L, -2, "params");
  lua_createtable(L, (int)peft_plan_saved_count(p), 0);
  for (size_t i = 0; i < peft_plan_saved_count(p); i++) {
    push_tensor(L, peft_plan_saved(p, i), "key");
    lua_rawseti(L, -2, (int)i + 1);
  }
  lua_setfield(L, -2, "saved");
  release_held(L, o, -2);
  return 1;
}

/* Pushes the owners listed in the tensor map held holds (and frees it), or fails. */
static int push_owners(lua_State *L, owned *held, const peft_error *err) {
  peft_tensor_map *map = held->p;
  if (map == NULL) return fail(L, err);
  size_t n = peft_tensor_map_count(map);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    const peft_tensor_owner *o = peft_tensor_map_at(map, i);
    lua_createtable(L, 0, 6);
    lua_pushstring(L, o->name);
    lua_setfield(L, -2, "name");
    push_opt_string(L, o->method);
    lua_setfield(L, -2, "method");
    push_opt_string(L, o->module);
    lua_setfield(L, -2, "module");
    push_opt_string(L, o->layer);
    lua_setfield(L, -2, "layer");
    push_opt_string(L, o->adapter);
    lua_setfield(L, -2, "adapter");
    push_opt_string(L, o->param);
    lua_setfield(L, -2, "param");
    lua_rawseti(L, -2, (int)i + 1);
  }
  release_held(L, held, -2);
  return 1;
}

/* tensors_file(rt, path [, adapter]) */
static int l_tensors_file(lua_State *L) {
  peft_runtime *rt = check_handle(L, 1, RUNTIME);
  const char *path = luaL_checkstring(L, 2);
  const char *adapter = luaL_optstring(L, 3, NULL);
  peft_error err;
  owned *o = hold(L, release_map);
  o->p = peft_tensor_map_file(rt, path, adapter, &err);
  return push_owners(L, o, &err);
}

/* tensors_names(rt, names [, method [, adapter]]) */
static int l_tensors_names(lua_State *L) {
  peft_runtime *rt = check_handle(L, 1, RUNTIME);
  luaL_checktype(L, 2, LUA_TTABLE);
  const char *method = luaL_optstring(L, 3, NULL);
  const char *adapter = luaL_optstring(L, 4, NULL);
  size_t n = lpeft_rawlen(L, 2);
  const char **names = lua_newuserdata(L, (n ? n : 1) * sizeof *names);
  check_strings(L, 2, names, n, "names are strings");
  peft_error err;
  owned *o = hold(L, release_map);
  o->p = peft_tensor_map_names(rt, names, n, method, adapter, &err);
  return push_owners(L, o, &err);
}

static const luaL_Reg funcs[] = {
  {"open", l_open},
  {"types", l_types},
  {"tasks", l_tasks},
  {"methods", l_methods},
  {"runtime_warnings", l_runtime_warnings},
  {"load", l_load},
  {"load_buffer", l_load_buffer},
  {"new", l_new},
  {"describe", l_describe},
  {"is_a", l_is_a},
  {"item", l_item},
  {"fields", l_fields},
  {"set_json", l_set_json},
  {"validate", l_validate},
  {"warnings", l_warnings},
  {"to_json", l_to_json},
  {"save", l_save},
  {"check", l_check},
  {"model", l_model},
  {"plan", l_plan},
  {"tensors_file", l_tensors_file},
  {"tensors_names", l_tensors_names},
  {NULL, NULL},
};

static void new_type(lua_State *L, const char *name, lua_CFunction gc) {
  luaL_newmetatable(L, name);
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  lua_pushstring(L, name);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
}

int luaopen_peft_cmod(lua_State *L);

int luaopen_peft_cmod(lua_State *L) {
  new_type(L, RUNTIME, rt_gc);
  new_type(L, CONFIG, cfg_gc);
  new_type(L, MODEL, model_gc);
  new_type(L, OWNED, owned_gc);
  lua_newtable(L);
  lpeft_setfuncs(L, funcs);
  lua_pushnumber(L, PEFT_API_VERSION);
  lua_setfield(L, -2, "API_VERSION");
  lua_pushinteger(L, PEFT_LOAD_STRICT);
  lua_setfield(L, -2, "STRICT");
  lua_pushinteger(L, PEFT_LOAD_LENIENT);
  lua_setfield(L, -2, "LENIENT");
  lua_pushliteral(L, "cmod");
  lua_setfield(L, -2, "backend");
  return 1;
}
