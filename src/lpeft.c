/*
 * lpeft.c - the Lua module `peft.core`: the C registry, the JSON codec and the
 * file-system helpers, for lua/peft/init.lua to build the public API on.
 *
 * State: one peft_registry per module instance, owned by a userdata that is
 * upvalue 1 of every function (no C statics). The userdata's two user values
 * hold, per registered method (1-based, registration order), the config
 * class and the model class, which are Lua values the C core cannot hold.
 *
 * Error policy: registration and add_peft_type raise a peft.Error object
 * ({kind=, message=, where=}, tostring "script.lua:3: KeyError: ..."; where
 * is the caller's file and line, see push_error); look-ups return nil on a
 * miss; argument misuse raises in Lua's standard wording.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lpeft_config.h"
#include "lpeft_json.h"
#include "lpeft_os.h"
#include "lpeft_re.h"
#include "lpeft_st.h"
#include "lpeft_udata.h"
#include "peft_registry.h"
#include "peft_version.h"

#define ERROR_MT "peft.Error"
#define REG_MT "peft.Registry"

typedef struct reg_box {
  peft_registry *reg;
} reg_box;

int luaopen_peft_core(lua_State *L);

static peft_registry *get_reg(lua_State *L) {
  reg_box *b = lua_touserdata(L, lua_upvalueindex(1));
  return b->reg;
}

static int reg_gc(lua_State *L) {
  reg_box *b = luaL_checkudata(L, 1, REG_MT);
  peft_registry_free(b->reg);
  b->reg = NULL;
  return 0;
}

/* --- error objects ----------------------------------------------------- */

/* The registry key of the source prefix of peft's own Lua files ("@lua/peft/",
 * "@peft/" for the sources compiled in), set by peft.errors when it loads. */
#define INTERNAL_SOURCE "peft.internal_source"

/* Pushes where an error is being raised, as error(msg, 2) would name it at
 * the boundary of the API: "file:line" of the innermost Lua function that is
 * not part of peft (C functions and peft's own files are passed over), or
 * nil when there is none (a command of the CLI, run from C). */
static void push_where(lua_State *L) {
  size_t plen = 0;
  const char *prefix = NULL;
  if (lua_getfield(L, LUA_REGISTRYINDEX, INTERNAL_SOURCE) == LUA_TSTRING) prefix = lua_tolstring(L, -1, &plen);
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); level++) {
    if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0) continue; /* C, or no line information */
    if (prefix && strncmp(ar.source, prefix, plen) == 0) continue;
    lua_pop(L, 1);
    lua_pushfstring(L, "%s:%d", ar.short_src, ar.currentline);
    return;
  }
  lua_pop(L, 1);
  lua_pushnil(L);
}

/* Pushes a new error object {kind=kind, message=message, where=...}. */
static void push_error(lua_State *L, const char *kind, const char *message) {
  lua_createtable(L, 0, 3);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  lua_pushstring(L, message);
  lua_setfield(L, -2, "message");
  push_where(L);
  lua_setfield(L, -2, "where");
  luaL_setmetatable(L, ERROR_MT);
}

/* internal_source(prefix): the source prefix of peft's own files (see
 * push_where) */
static int l_internal_source(lua_State *L) {
  luaL_checkstring(L, 1);
  lua_settop(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, INTERNAL_SOURCE);
  return 0;
}

static int raise_status(lua_State *L, const peft_error *err) {
  if (err->status == PEFT_ENOMEM) return luaL_error(L, "not enough memory");
  push_error(L, peft_status_kind(err->status), err->message);
  return lua_error(L);
}

/* tostring(err) -> "where: kind: message" ("where: " when it is known) */
static int error_tostring(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "kind");
  lua_getfield(L, 1, "message");
  lua_getfield(L, 1, "where");
  const char *kind = lua_tostring(L, -3);
  const char *msg = lua_tostring(L, -2);
  const char *where = lua_tostring(L, -1);
  if (where) lua_pushfstring(L, "%s: ", where);
  else lua_pushliteral(L, "");
  lua_pushfstring(L, "%s%s: %s", lua_tostring(L, -1), kind ? kind : "Error", msg ? msg : "(no message)");
  return 1;
}

/* new_error(kind, message) -> error object */
static int l_new_error(lua_State *L) {
  const char *kind = luaL_checkstring(L, 1);
  const char *msg = luaL_checkstring(L, 2);
  push_error(L, kind, msg);
  return 1;
}

/* is_error(v) -> boolean */
static int l_is_error(lua_State *L) {
  int r = 0;
  if (lua_type(L, 1) == LUA_TTABLE && lua_getmetatable(L, 1)) {
    luaL_getmetatable(L, ERROR_MT);
    r = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  lua_pushboolean(L, r);
  return 1;
}

/* --- PeftType / TaskType ----------------------------------------------- */

static int l_type_count(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)peft_type_count(get_reg(L)));
  return 1;
}

/* type_at(i) -> name | nil  (1-based) */
static int l_type_at(lua_State *L) {
  lua_Integer i = luaL_checkinteger(L, 1);
  const char *name = i >= 1 ? peft_type_name(get_reg(L), (size_t)(i - 1)) : NULL;
  if (name == NULL) return 0;
  lua_pushstring(L, name);
  return 1;
}

/* type_index(name) -> i | nil  (1-based; nil for non-strings too; a name
 * is compared with its length, so "LORA\0X" is not LORA) */
static int l_type_index(lua_State *L) {
  if (lua_type(L, 1) != LUA_TSTRING) return 0;
  size_t len;
  const char *name = lua_tolstring(L, 1, &len);
  long i = peft_type_index(get_reg(L), name, len);
  if (i < 0) return 0;
  lua_pushinteger(L, i + 1);
  return 1;
}

static int l_types(lua_State *L) {
  peft_registry *reg = get_reg(L);
  size_t n = peft_type_count(reg);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring(L, peft_type_name(reg, i));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int l_add_peft_type(lua_State *L) {
  size_t len;
  const char *name = luaL_checklstring(L, 1, &len);
  peft_error err;
  if (peft_add_peft_type(get_reg(L), name, len, &err) != PEFT_OK) return raise_status(L, &err);
  lua_pushvalue(L, 1);
  return 1;
}

static int l_task_count(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)peft_task_count());
  return 1;
}

static int l_task_at(lua_State *L) {
  lua_Integer i = luaL_checkinteger(L, 1);
  const char *name = i >= 1 ? peft_task_name((size_t)(i - 1)) : NULL;
  if (name == NULL) return 0;
  lua_pushstring(L, name);
  return 1;
}

/* tasks() -> every TaskType member, in declaration order */
static int l_tasks(lua_State *L) {
  size_t n = peft_task_count();
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring(L, peft_task_name(i));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int l_task_index(lua_State *L) {
  if (lua_type(L, 1) != LUA_TSTRING) return 0;
  size_t len;
  const char *name = lua_tolstring(L, 1, &len);
  long i = peft_task_index(name, len);
  if (i < 0) return 0;
  lua_pushinteger(L, i + 1);
  return 1;
}

/* --- methods ----------------------------------------------------------- */

/* The C registry takes NUL-terminated names: one holding a NUL is refused
 * here (a ValueError naming the field). */
static void check_no_nul(lua_State *L, int idx, const char *field) {
  size_t len;
  const char *s = lua_tolstring(L, idx, &len);
  if (strlen(s) != len) {
    const char *msg = lua_pushfstring(L, "register_peft_method: '%s' must not hold a NUL byte", field);
    push_error(L, "ValueError", msg);
    lua_error(L);
  }
}

/* Reads an optional string field of the table at idx; raises a TypeError
 * object naming the field when it is present but not a string. */
static const char *opt_string_field(lua_State *L, int idx, const char *field, const char *what) {
  int t = lua_getfield(L, idx, field);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return NULL;
  }
  if (t != LUA_TSTRING) {
    const char *msg = lua_pushfstring(L, "%s '%s' must be a string, got %s", what, field,
                                      luaL_typename(L, -1));
    push_error(L, "TypeError", msg);
    lua_error(L);
  }
  check_no_nul(L, -1, field);
  const char *s = lua_tostring(L, -1);
  lua_pop(L, 1); /* still referenced by the table */
  return s;
}

/* Reads a string field of a class table if it is one (tables only; errors
 * from __index are not caught: a class that raises on access is a bug). */
static const char *class_string_field(lua_State *L, int idx, const char *field) {
  if (lua_type(L, idx) != LUA_TTABLE) return NULL;
  int t = lua_getfield(L, idx, field);
  if (t == LUA_TSTRING) check_no_nul(L, -1, field);
  const char *s = t == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  /* keep the string alive on the stack: the caller pops */
  return s;
}

/* register{name=, prefix=, is_mixed_compatible=, shares_prefix_with=,
 *          config_cls=, model_cls=} -> index (1-based) */
static int l_register(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  reg_box *rb = lua_touserdata(L, lua_upvalueindex(1));
  peft_method_spec spec = {0};
  int t = lua_getfield(L, 1, "name");
  if (t != LUA_TSTRING) {
    const char *msg = lua_pushfstring(L, "register_peft_method: 'name' must be a string, got %s",
                                      luaL_typename(L, -1));
    push_error(L, "TypeError", msg);
    return lua_error(L);
  }
  check_no_nul(L, -1, "name");
  spec.name = lua_tostring(L, -1); /* stack 2 */
  spec.prefix = opt_string_field(L, 1, "prefix", "register_peft_method:");
  spec.shares_prefix_with = opt_string_field(L, 1, "shares_prefix_with", "register_peft_method:");
  lua_getfield(L, 1, "is_mixed_compatible");
  spec.is_mixed_compatible = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "config_cls") == LUA_TNIL) { /* stack 3 */
    push_error(L, "TypeError", "register_peft_method: 'config_cls' is required");
    return lua_error(L);
  }
  lua_getfield(L, 1, "model_cls"); /* stack 4 */
  spec.model_prefix = class_string_field(L, 4, "prefix");   /* stack 5 (if table) */
  if (lua_gettop(L) == 4) lua_pushnil(L);                    /* keep slots fixed */
  spec.config_peft_type = class_string_field(L, 3, "peft_type"); /* stack 6 */
  if (lua_gettop(L) == 5) lua_pushnil(L);

  /* Store the Lua classes first (this can raise out of memory while the C
   * registry is still untouched), then register; undo the store on failure. */
  lua_Integer slot = (lua_Integer)peft_method_count(rb->reg) + 1;
  lua_getiuservalue(L, lua_upvalueindex(1), 1); /* configs: 7 */
  lua_getiuservalue(L, lua_upvalueindex(1), 2); /* models: 8 */
  lua_pushvalue(L, 3);
  lua_rawseti(L, 7, slot);
  lua_pushvalue(L, 4);
  lua_rawseti(L, 8, slot);
  peft_error err;
  long idx = peft_register_method(rb->reg, &spec, &err);
  if (idx < 0) {
    lua_pushnil(L);
    lua_rawseti(L, 7, slot);
    lua_pushnil(L);
    lua_rawseti(L, 8, slot);
    return raise_status(L, &err);
  }
  lua_pushinteger(L, idx + 1);
  return 1;
}

static int l_method_count(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)peft_method_count(get_reg(L)));
  return 1;
}

/* Pushes the info table of method i (0-based). */
static void push_method(lua_State *L, size_t i) {
  peft_method_info info;
  peft_method_at(get_reg(L), i, &info);
  lua_createtable(L, 0, 8);
  lua_pushstring(L, info.name);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, info.peft_type);
  lua_setfield(L, -2, "peft_type");
  lua_pushstring(L, info.prefix);
  lua_setfield(L, -2, "prefix");
  lua_pushboolean(L, info.is_mixed_compatible);
  lua_setfield(L, -2, "is_mixed_compatible");
  if (info.shares_prefix_with) {
    lua_pushstring(L, info.shares_prefix_with);
    lua_setfield(L, -2, "shares_prefix_with");
  }
  lua_getiuservalue(L, lua_upvalueindex(1), 1);
  lua_rawgeti(L, -1, (lua_Integer)i + 1);
  lua_setfield(L, -3, "config_cls");
  lua_pop(L, 1);
  lua_getiuservalue(L, lua_upvalueindex(1), 2);
  lua_rawgeti(L, -1, (lua_Integer)i + 1);
  lua_setfield(L, -3, "model_cls");
  lua_pop(L, 1);
  lua_pushinteger(L, (lua_Integer)i + 1);
  lua_setfield(L, -2, "index");
}

/* method_at(i) -> info | nil */
static int l_method_at(lua_State *L) {
  lua_Integer i = luaL_checkinteger(L, 1);
  if (i < 1 || (size_t)i > peft_method_count(get_reg(L))) return 0;
  push_method(L, (size_t)(i - 1));
  return 1;
}

/* method(key [, by]) -> info | nil; by = "type" (default), "name", "prefix" */
static int l_method(lua_State *L) {
  static const char *const bys[] = {"type", "name", "prefix", NULL};
  if (lua_type(L, 1) != LUA_TSTRING) return 0;
  size_t len;
  const char *key = lua_tolstring(L, 1, &len);
  int by = luaL_checkoption(L, 2, "type", bys);
  peft_registry *reg = get_reg(L);
  long i = by == 0 ? peft_method_by_type(reg, key, len)
         : by == 1 ? peft_method_by_name(reg, key, len)
                   : peft_method_by_prefix(reg, key, len);
  if (i < 0) return 0;
  push_method(L, (size_t)i);
  return 1;
}

/* mapping_get(which, peft_type) -> value | nil; the fast path behind the
 * four read-only mapping views. which: "config", "tuner", "prefix", "mixed" */
static int l_mapping_get(lua_State *L) {
  static const char *const whichs[] = {"config", "tuner", "prefix", "mixed", NULL};
  int which = luaL_checkoption(L, 1, NULL, whichs);
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  peft_registry *reg = get_reg(L);
  size_t len;
  const char *t = lua_tolstring(L, 2, &len);
  long i = peft_method_by_type(reg, t, len);
  if (i < 0) return 0;
  peft_method_info info;
  peft_method_at(reg, (size_t)i, &info);
  switch (which) {
    case 0:
      lua_getiuservalue(L, lua_upvalueindex(1), 1);
      lua_rawgeti(L, -1, i + 1);
      return 1;
    case 2:
      lua_pushstring(L, info.prefix);
      return 1;
    case 3:
      if (!info.is_mixed_compatible) return 0;
      /* fall through */
    default:
      lua_getiuservalue(L, lua_upvalueindex(1), 2);
      lua_rawgeti(L, -1, i + 1);
      return 1;
  }
}

/* mark() -> types, methods */
static int l_mark(lua_State *L) {
  peft_registry_mark m = peft_registry_mark_now(get_reg(L));
  lua_pushinteger(L, (lua_Integer)m.types);
  lua_pushinteger(L, (lua_Integer)m.methods);
  return 2;
}

/* rollback(types, methods): removes every member and method added since the
 * mark, in C and in the class tables. */
static int l_rollback(lua_State *L) {
  lua_Integer types = luaL_checkinteger(L, 1);
  lua_Integer methods = luaL_checkinteger(L, 2);
  peft_registry *reg = get_reg(L);
  luaL_argcheck(L, types >= 0 && (size_t)types <= peft_type_count(reg), 1, "not a valid mark");
  luaL_argcheck(L, methods >= 0 && (size_t)methods <= peft_method_count(reg), 2, "not a valid mark");
  size_t n = peft_method_count(reg);
  lua_getiuservalue(L, lua_upvalueindex(1), 1);
  lua_getiuservalue(L, lua_upvalueindex(1), 2);
  for (size_t i = (size_t)methods; i < n; i++) {
    lua_pushnil(L);
    lua_rawseti(L, -3, (lua_Integer)i + 1);
    lua_pushnil(L);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  peft_registry_mark m = {(size_t)types, (size_t)methods};
  peft_registry_rollback(reg, m);
  return 0;
}

/* registry_pointer() -> light userdata: the C registry, for the C API */
static int l_registry_pointer(lua_State *L) {
  lua_pushlightuserdata(L, get_reg(L));
  return 1;
}

/* closest(query, names [, k]) -> array of the closest names, best first */
static int l_closest(lua_State *L) {
  const char *query = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_Integer k = luaL_optinteger(L, 3, 3);
  luaL_argcheck(L, k >= 1 && k <= 16, 3, "k must be between 1 and 16");
  lua_Integer n = luaL_len(L, 2);
  luaL_argcheck(L, n >= 0 && n <= 1000000, 2, "too many names");
  const char **names = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *names, 0);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, 2, i);
    names[i - 1] = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1); /* the table keeps the string alive */
  }
  size_t out[16];
  size_t found = peft_closest(query, names, (size_t)n, out, (size_t)k);
  lua_createtable(L, (int)found, 0);
  for (size_t i = 0; i < found; i++) {
    lua_pushstring(L, names[out[i]]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static const luaL_Reg core_funcs[] = {
  {"new_error", l_new_error},
  {"internal_source", l_internal_source},
  {"is_error", l_is_error},
  {"type_count", l_type_count},
  {"type_at", l_type_at},
  {"type_index", l_type_index},
  {"types", l_types},
  {"add_peft_type", l_add_peft_type},
  {"task_count", l_task_count},
  {"task_at", l_task_at},
  {"task_index", l_task_index},
  {"tasks", l_tasks},
  {"register", l_register},
  {"method_count", l_method_count},
  {"method_at", l_method_at},
  {"method", l_method},
  {"mapping_get", l_mapping_get},
  {"mark", l_mark},
  {"rollback", l_rollback},
  {"closest", l_closest},
  {"registry_pointer", l_registry_pointer},
  {NULL, NULL}
};

static const luaL_Reg re_funcs[] = {
  {"re_match", lpeft_re_match},
  {"re_group", lpeft_re_group},
  {NULL, NULL}
};

static const luaL_Reg plain_funcs[] = {
  {"json_decode", lpeft_json_decode},
  {"json_decode_counted", lpeft_json_decode_counted},
  {"json_encode", lpeft_json_encode},
  {"stat", lpeft_os_stat},
  {"lstat", lpeft_os_lstat},
  {"realpath", lpeft_os_realpath},
  {"listdir", lpeft_os_listdir},
  {"read_file", lpeft_os_read_file},
  {"mkdir_p", lpeft_os_mkdir_p},
  {"write_atomic", lpeft_os_write_atomic},
  {"isatty", lpeft_os_isatty},
  {"printable", lpeft_os_printable},
  {"term_columns", lpeft_os_term_columns},
  {"walk_files", lpeft_os_walk_files},
  {"st_read_header", lpeft_st_read_header},
  {"st_read_index", lpeft_st_read_index},
  {"st_parse_header", lpeft_st_parse_header},
  {"config_filler", lpeft_config_filler},
  {NULL, NULL}
};

int luaopen_peft_core(lua_State *L) {
  lpeft_json_open(L);
  if (luaL_newmetatable(L, ERROR_MT)) {
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "peft.Error");
    lua_setfield(L, -2, "__name");
  }
  lua_pop(L, 1);

  luaL_newlibtable(L, core_funcs);
  /* the registry box: created half-built (reg NULL) so __gc is always safe */
  reg_box *rb = lpeft_udata_new(L, sizeof *rb, 2, REG_MT, reg_gc, 0);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 2);
  rb->reg = peft_registry_new();
  if (rb->reg == NULL) return luaL_error(L, "not enough memory");
  luaL_setfuncs(L, core_funcs, 1);
  luaL_setfuncs(L, plain_funcs, 0);
  /* regular expressions share a cache of compiled patterns (weak values) */
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  luaL_setfuncs(L, re_funcs, 1);
  luaL_getmetatable(L, ERROR_MT);
  lua_setfield(L, -2, "error_mt");
  luaL_getmetatable(L, LPEFT_JSON_ARRAY_MT);
  lua_setfield(L, -2, "json_array_mt");
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  lua_pushinteger(L, PEFT_NAME_MAX);
  lua_setfield(L, -2, "NAME_MAX");
  lua_pushinteger(L, LPEFT_JSON_MAX_DEPTH);
  lua_setfield(L, -2, "JSON_MAX_DEPTH");
  /* the field-pass codes of config_filler (lpeft_config.h), for the Lua side */
  static const struct { const char *name; int bit; } fill[] = {
    {"STR", FILL_STR}, {"NUMBER", FILL_NUMBER}, {"INT", FILL_INT}, {"BOOL", FILL_BOOL},
    {"NULLABLE", FILL_NULLABLE}, {"STR_LIST", FILL_STR_LIST}, {"SORTED", FILL_SORTED}, {"DICT", FILL_DICT},
    {"LITERAL", FILL_LITERAL}, {"EMPTY_DICT", FILL_EMPTY_DICT}};
  lua_createtable(L, 0, (int)(sizeof fill / sizeof fill[0]));
  for (size_t i = 0; i < sizeof fill / sizeof fill[0]; i++) {
    lua_pushinteger(L, fill[i].bit);
    lua_setfield(L, -2, fill[i].name);
  }
  lua_setfield(L, -2, "FILL");
  lua_pushliteral(L, PEFT_RELEASE);
  lua_setfield(L, -2, "VERSION");
  lua_pushliteral(L, PEFT_FOLLOWS "@" PEFT_FOLLOWS_COMMIT);
  lua_setfield(L, -2, "PEFT_VERSION");
  return 1;
}
