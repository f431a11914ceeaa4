/*
 * peft_api.c - the C API (see peft.h) and the module loader shared with the
 * executable.
 *
 * Every call into Lua runs under lua_pcall with a small C function and a
 * context struct, so a Lua error (a bad config, out of memory) becomes a
 * filled peft_error and never a longjmp into the host. Configs are Lua
 * objects kept in the registry (luaL_ref); the C struct caches the strings
 * handed out.
 */
#include "peft.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "peft_embedded.h"
#include "peft_internal.h"
#include "peft_text.h"

int luaopen_peft_core(lua_State *L);

/* --- module loading (shared with the executable) ----------------------- */

/* The modules are sorted by name (scripts/embed-lua): a binary search. */
static const peft_embedded_module *find_embedded(const char *name) {
  size_t lo = 0, hi = peft_embedded_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(name, peft_embedded_modules[mid].name);
    if (c == 0) return &peft_embedded_modules[mid];
    if (c < 0) hi = mid;
    else lo = mid + 1;
  }
  return NULL;
}

static int embedded_searcher(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  const peft_embedded_module *m = find_embedded(name);
  if (!m) {
    lua_pushfstring(L, "no built-in module '%s'", name);
    return 1;
  }
  const char *chunkname = lua_pushfstring(L, "@%s", m->filename);
  if (luaL_loadbuffer(L, m->source, m->length, chunkname) != LUA_OK)
    return luaL_error(L, "error loading built-in module '%s':\n\t%s", name, lua_tostring(L, -1));
  lua_pushstring(L, m->filename);
  return 2;
}

int peft_has_embedded(const char *name) { return find_embedded(name) != NULL; }

/* Preloads peft.core and puts the built-in searcher right after
 * package.preload's. Raises on error (call it protected). */
int peft_install_modules(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_peft_core);
  lua_setfield(L, -2, "peft.core");
  lua_pop(L, 1);
  if (lua_getglobal(L, "package") != LUA_TTABLE) return luaL_error(L, "the package library is not open");
  if (lua_getfield(L, -1, "searchers") != LUA_TTABLE) return luaL_error(L, "package.searchers is missing");
  lua_Integer n = luaL_len(L, -1);
  for (lua_Integer i = n; i >= 2; i--) {
    lua_rawgeti(L, -1, i);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushcfunction(L, embedded_searcher);
  lua_rawseti(L, -2, 2);
  lua_pop(L, 2);
  return 0;
}

/* --- errors ------------------------------------------------------------ */

static peft_status status_of_kind(const char *kind) {
  static const struct {
    const char *kind;
    peft_status status;
  } map[] = {
    {"ValueError", PEFT_EVALUE}, {"KeyError", PEFT_EKEY}, {"TypeError", PEFT_ETYPE},
    {"AttributeError", PEFT_ETYPE}, {"MemoryError", PEFT_ENOMEM}, {"OSError", PEFT_EOS},
    {"FileNotFoundError", PEFT_EOS}, {"NotADirectoryError", PEFT_EOS}, {"JSONDecodeError", PEFT_EJSON},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(map[i].kind, kind) == 0) return map[i].status;
  return PEFT_EOTHER;
}

/* Sets err to "[prefix: ]msg" with the control characters of msg escaped:
 * the message is text for people, and may hold text from a file. */
static void set_message(peft_error *err, peft_status status, const char *prefix, const char *msg, size_t len) {
  size_t n = prefix ? (size_t)snprintf(err->message, sizeof err->message, "%s: ", prefix) : 0;
  if (n >= sizeof err->message) n = sizeof err->message - 1;
  err->status = status;
  peft_printable_into(msg, len, err->message + n, sizeof err->message - n, 0);
}

/* Fills err from the error value on top of the stack (a peft.Error, a
 * string or anything else) and pops it. */
static void take_error(lua_State *L, int status, peft_error *err) {
  if (err == NULL) {
    lua_pop(L, 1);
    return;
  }
  if (status == LUA_ERRMEM) {
    peft_error_set(err, PEFT_ENOMEM, "out of memory");
    lua_pop(L, 1);
    return;
  }
  const char *kind = NULL, *msg = NULL;
  size_t len = 0;
  if (lua_type(L, -1) == LUA_TTABLE) {
    lua_getfield(L, -1, "kind");
    lua_getfield(L, -2, "message");
    kind = lua_tostring(L, -2);
    msg = lua_tolstring(L, -1, &len);
  }
  if (kind && msg) {
    peft_status st = status_of_kind(kind);
    set_message(err, st, st == PEFT_EOTHER ? kind : NULL, msg, len);
    lua_pop(L, 2);
  } else {
    if (lua_type(L, -1) == LUA_TTABLE) lua_pop(L, 2);
    const char *s = lua_tolstring(L, -1, &len);
    if (s && strstr(s, "not enough memory")) peft_error_set(err, PEFT_ENOMEM, "out of memory");
    else if (s) set_message(err, PEFT_EOTHER, NULL, s, len);
    else peft_error_set(err, PEFT_EOTHER, "(error object is not a string)");
  }
  lua_pop(L, 1);
}

/* Runs fn(ud) protected; on failure fills err. Leaves the stack as found. */
static int protect(lua_State *L, lua_CFunction fn, void *ud, peft_error *err) {
  int top = lua_gettop(L);
  if (!lua_checkstack(L, 4)) {
    peft_error_set(err, PEFT_ENOMEM, "out of memory (Lua stack)");
    return -1;
  }
  lua_pushcfunction(L, fn);
  lua_pushlightuserdata(L, ud);
  int status = lua_pcall(L, 1, 0, 0);
  if (status != LUA_OK) {
    take_error(L, status, err);
    lua_settop(L, top);
    return -1;
  }
  lua_settop(L, top);
  return 0;
}

static char *dupstr(const char *s) {
  if (s == NULL) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static void free_strings(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

/* A malloc'd copy of the string at idx with its control characters
 * escaped (text for people), or NULL when out of memory. */
static char *dup_printable(lua_State *L, int idx) {
  size_t len;
  const char *s = lua_tolstring(L, idx, &len);
  if (s == NULL) s = "", len = 0;
  size_t n = peft_printable(s, len, NULL, 0);
  char *d = malloc(n + 1);
  if (d != NULL) {
    peft_printable(s, len, d, 0);
    d[n] = '\0';
  }
  return d;
}

/* Copies a Lua list of strings (at idx) into malloc'd memory, escaped for
 * people (they are warnings); raises on out of memory after freeing what it
 * took. */
static int copy_strings(lua_State *L, int idx, char ***out, size_t *n) {
  idx = lua_absindex(L, idx);
  size_t len = (size_t)luaL_len(L, idx);
  *out = NULL;
  *n = 0;
  if (len == 0) return 0;
  char **v = calloc(len, sizeof *v);
  if (v == NULL) return luaL_error(L, "not enough memory");
  for (size_t i = 0; i < len; i++) {
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    v[i] = dup_printable(L, -1);
    lua_pop(L, 1);
    if (v[i] == NULL) {
      free_strings(v, i);
      return luaL_error(L, "not enough memory");
    }
  }
  *out = v;
  *n = len;
  return 0;
}

/* --- runtime ----------------------------------------------------------- */

struct peft_runtime {
  lua_State *L;
  int peft_ref; /* the module table */
  const peft_registry *reg;
  char **warnings;
  size_t nwarnings;
  size_t max_config; /* bytes: the largest config loaded */
};

/* The checks every entry point makes on its handles: a TypeError naming the
 * function, as peft_config_load has always reported a NULL runtime. */
#define NEED(cond, fn, what, ret)                                   \
  do {                                                              \
    if (!(cond)) {                                                  \
      peft_error_set(err, PEFT_ETYPE, "%s: %s is NULL", fn, what);  \
      return ret;                                                   \
    }                                                               \
  } while (0)

static int open_runtime(lua_State *L) {
  peft_runtime *rt = lua_touserdata(L, 1);
  luaL_openlibs(L);
  peft_install_modules(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "peft");
  lua_call(L, 1, 1);
  lua_pushvalue(L, -1);
  rt->peft_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  /* failures of PEFT_PATH extensions, as text */
  lua_getfield(L, -1, "extension_failures");
  lua_newtable(L);
  lua_Integer n = lua_istable(L, -2) ? luaL_len(L, -2) : 0;
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, -2, i);
    luaL_tolstring(L, -1, NULL);
    lua_rawseti(L, -3, i);
    lua_pop(L, 1);
  }
  copy_strings(L, -1, &rt->warnings, &rt->nwarnings);
  lua_pop(L, 2);
  /* the registry pointer, from the core module */
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "peft.core");
  lua_getfield(L, -1, "registry_pointer");
  lua_call(L, 0, 1);
  rt->reg = lua_touserdata(L, -1);
  return 0;
}

peft_runtime *peft_open_with(lua_Alloc alloc, void *ud, peft_error *err) {
  peft_runtime *rt = calloc(1, sizeof *rt);
  if (rt == NULL) {
    peft_error_set(err, PEFT_ENOMEM, "out of memory");
    return NULL;
  }
  rt->peft_ref = LUA_NOREF;
  rt->max_config = PEFT_CONFIG_MAX_DEFAULT;
  rt->L = alloc ? lua_newstate(alloc, ud) : luaL_newstate();
  if (rt->L == NULL) {
    free(rt);
    peft_error_set(err, PEFT_ENOMEM, "out of memory (cannot create the Lua state)");
    return NULL;
  }
  if (protect(rt->L, open_runtime, rt, err) != 0) {
    peft_close(rt);
    return NULL;
  }
  return rt;
}

peft_runtime *peft_open(peft_error *err) { return peft_open_with(NULL, NULL, err); }

void peft_close(peft_runtime *rt) {
  if (rt == NULL) return;
  if (rt->L) lua_close(rt->L);
  free_strings(rt->warnings, rt->nwarnings);
  free(rt);
}

size_t peft_runtime_warning_count(const peft_runtime *rt) { return rt ? rt->nwarnings : 0; }

const char *peft_runtime_warning(const peft_runtime *rt, size_t i) {
  return rt && i < rt->nwarnings ? rt->warnings[i] : NULL;
}

const peft_registry *peft_runtime_registry(const peft_runtime *rt) { return rt ? rt->reg : NULL; }

struct lua_State *peft_runtime_lua(peft_runtime *rt) { return rt ? rt->L : NULL; }

int peft_set_config_limit(peft_runtime *rt, size_t max_bytes, peft_error *err) {
  NEED(rt, "peft_set_config_limit", "runtime", -1);
  if (max_bytes == 0 || max_bytes > (size_t)LUA_MAXINTEGER) {
    peft_error_set(err, PEFT_EVALUE, "peft_set_config_limit: the limit must be between 1 and %lld bytes",
                   (long long)LUA_MAXINTEGER);
    return -1;
  }
  rt->max_config = max_bytes;
  return 0;
}

typedef struct ext_call {
  peft_runtime *rt;
  const char *path;
} ext_call;

static int load_ext(lua_State *L) {
  ext_call *c = lua_touserdata(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->rt->peft_ref);
  lua_getfield(L, -1, "load_extension");
  lua_pushstring(L, c->path);
  lua_call(L, 1, 0);
  return 0;
}

int peft_load_extension(peft_runtime *rt, const char *path, peft_error *err) {
  NEED(rt, "peft_load_extension", "runtime", -1);
  NEED(path, "peft_load_extension", "path", -1);
  ext_call c = {rt, path};
  return protect(rt->L, load_ext, &c, err);
}

static int attach(lua_State *L) {
  peft_install_modules(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "peft");
  lua_call(L, 1, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "peft.attached");
  return 0;
}

int peft_attach(lua_State *L, peft_error *err) {
  NEED(L, "peft_attach", "the Lua state", -1);
  if (protect(L, attach, NULL, err) != 0) return -1;
  lua_getfield(L, LUA_REGISTRYINDEX, "peft.attached");
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "peft.attached");
  return 0;
}

/* --- configs ----------------------------------------------------------- */

struct peft_config {
  peft_runtime *rt;
  int ref;
  char *cls, *peft_type, *task_type;
  char **warnings;
  size_t nwarnings;
  char *scratch; /* the last string handed out by peft_config_get */
};

typedef struct load_call {
  peft_config *cfg;
  const char *path;
  const char *data;
  size_t len;
  const char *name;
  int flags;
} load_call;

/* Caches class, types and warnings of the config on top of the stack. */
static void cache_config(lua_State *L, peft_config *cfg) {
  int obj = lua_gettop(L);
  free(cfg->cls);
  free(cfg->peft_type);
  free(cfg->task_type);
  cfg->cls = cfg->peft_type = cfg->task_type = NULL;
  lua_getfield(L, obj, "get_class");
  lua_pushvalue(L, obj);
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "name");
  cfg->cls = dupstr(lua_tostring(L, -1));
  lua_pop(L, 2);
  lua_getfield(L, obj, "peft_type");
  cfg->peft_type = dupstr(lua_tostring(L, -1));
  lua_pop(L, 1);
  lua_getfield(L, obj, "task_type");
  cfg->task_type = lua_type(L, -1) == LUA_TSTRING ? dupstr(lua_tostring(L, -1)) : NULL;
  int task_missing = lua_type(L, -1) == LUA_TSTRING && cfg->task_type == NULL;
  lua_pop(L, 1);
  if (cfg->cls == NULL || cfg->peft_type == NULL || task_missing) luaL_error(L, "not enough memory");
  lua_getfield(L, obj, "warnings");
  lua_pushvalue(L, obj);
  lua_call(L, 1, 1);
  free_strings(cfg->warnings, cfg->nwarnings);
  copy_strings(L, -1, &cfg->warnings, &cfg->nwarnings);
  lua_pop(L, 1);
}

static int load_config(lua_State *L) {
  load_call *c = lua_touserdata(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->cfg->rt->peft_ref);
  lua_getfield(L, -1, c->path ? "from_pretrained" : "from_json");
  if (c->path) lua_pushstring(L, c->path);
  else lua_pushlstring(L, c->data, c->len);
  lua_createtable(L, 0, 4);
  lua_pushboolean(L, (c->flags & PEFT_LOAD_STRICT) != 0);
  lua_setfield(L, -2, "strict");
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "quiet");
  lua_pushinteger(L, (lua_Integer)c->cfg->rt->max_config);
  lua_setfield(L, -2, "max_bytes");
  if (!c->path && c->name) {
    lua_pushstring(L, c->name);
    lua_setfield(L, -2, "path");
  }
  lua_call(L, 2, 1);
  cache_config(L, c->cfg);
  c->cfg->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return 0;
}

static peft_config *load(peft_runtime *rt, load_call *c, peft_error *err) {
  peft_config *cfg = calloc(1, sizeof *cfg);
  if (cfg == NULL) {
    peft_error_set(err, PEFT_ENOMEM, "out of memory");
    return NULL;
  }
  cfg->rt = rt;
  cfg->ref = LUA_NOREF;
  c->cfg = cfg;
  if (protect(rt->L, load_config, c, err) != 0) {
    peft_config_free(cfg);
    return NULL;
  }
  return cfg;
}

peft_config *peft_config_load(peft_runtime *rt, const char *path, int flags, peft_error *err) {
  NEED(rt, "peft_config_load", "runtime", NULL);
  NEED(path, "peft_config_load", "path", NULL);
  load_call c = {NULL, path, NULL, 0, NULL, flags};
  return load(rt, &c, err);
}

peft_config *peft_config_load_buffer(peft_runtime *rt, const char *data, size_t len, const char *name, int flags,
                                     peft_error *err) {
  NEED(rt, "peft_config_load_buffer", "runtime", NULL);
  NEED(data != NULL || len == 0, "peft_config_load_buffer", "data", NULL);
  if (len > rt->max_config) { /* refused before a copy is made */
    peft_error_set(err, PEFT_EVALUE, "%s%sthe config has %zu bytes, more than the limit of %zu", name ? name : "",
                   name ? ": " : "", len, rt->max_config);
    return NULL;
  }
  load_call c = {NULL, NULL, data ? data : "", len, name, flags};
  return load(rt, &c, err);
}

void peft_config_free(peft_config *cfg) {
  if (cfg == NULL) return;
  if (cfg->ref != LUA_NOREF && cfg->rt && cfg->rt->L) luaL_unref(cfg->rt->L, LUA_REGISTRYINDEX, cfg->ref);
  free(cfg->cls);
  free(cfg->peft_type);
  free(cfg->task_type);
  free_strings(cfg->warnings, cfg->nwarnings);
  free(cfg->scratch);
  free(cfg);
}

const char *peft_config_class(const peft_config *cfg) { return cfg ? cfg->cls : NULL; }
const char *peft_config_peft_type(const peft_config *cfg) { return cfg ? cfg->peft_type : NULL; }
const char *peft_config_task_type(const peft_config *cfg) { return cfg ? cfg->task_type : NULL; }
size_t peft_config_warning_count(const peft_config *cfg) { return cfg ? cfg->nwarnings : 0; }

const char *peft_config_warning(const peft_config *cfg, size_t i) {
  return cfg && i < cfg->nwarnings ? cfg->warnings[i] : NULL;
}

typedef struct field_call {
  peft_config *cfg;
  const char *field;
  const char *json;
  peft_value *out;
  const char *dir;
  char *text;
} field_call;

/* Pushes the config object and the json encoder. */
static void push_obj(lua_State *L, peft_config *cfg) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, cfg->ref);
}

/* Keeps a copy of the string at idx (its length too: a NUL inside stays)
 * as the config's last string handed out. */
static void set_scratch(lua_State *L, peft_config *cfg, int idx, peft_value *out) {
  size_t len;
  const char *s = lua_tolstring(L, idx, &len);
  char *copy = malloc(len + 1);
  if (copy == NULL) luaL_error(L, "not enough memory");
  memcpy(copy, s, len + 1);
  free(cfg->scratch);
  cfg->scratch = copy;
  out->string = copy;
  out->length = len;
}

static int get_field(lua_State *L) {
  field_call *c = lua_touserdata(L, 1);
  push_obj(L, c->cfg); /* 2 */
  /* unknown keys kept from the file read first, then fields */
  lua_getfield(L, 2, "extra");
  lua_pushvalue(L, 2);
  lua_call(L, 1, 1);
  if (lua_getfield(L, -1, c->field) == LUA_TNIL) {
    lua_pop(L, 2);
    lua_getfield(L, 2, c->field); /* raises for an unknown field */
  } else {
    lua_remove(L, -2);
  }
  peft_value *out = c->out;
  memset(out, 0, sizeof *out);
  switch (lua_type(L, -1)) {
    case LUA_TNIL:
    case LUA_TLIGHTUSERDATA: out->type = PEFT_VALUE_NULL; break;
    case LUA_TBOOLEAN:
      out->type = PEFT_VALUE_BOOL;
      out->boolean = lua_toboolean(L, -1);
      break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, -1)) {
        out->type = PEFT_VALUE_INT;
        out->integer = (long long)lua_tointeger(L, -1);
        out->number = (double)out->integer;
      } else {
        out->type = PEFT_VALUE_FLOAT;
        out->number = (double)lua_tonumber(L, -1);
      }
      break;
    case LUA_TSTRING:
      out->type = PEFT_VALUE_STRING;
      set_scratch(L, c->cfg, -1, out);
      break;
    default: {
      /* a list, an object or a nested config: as JSON */
      lua_rawgeti(L, LUA_REGISTRYINDEX, c->cfg->rt->peft_ref);
      lua_getfield(L, -1, "is_config");
      lua_pushvalue(L, -3);
      lua_call(L, 1, 1);
      int nested = lua_toboolean(L, -1);
      lua_pop(L, 1);
      lua_getfield(L, -1, "core");
      lua_getfield(L, -1, "json_encode");
      if (nested) {
        lua_getfield(L, -4, "to_dict");
        lua_pushvalue(L, -5);
        lua_call(L, 1, 1);
      } else {
        lua_pushvalue(L, -4);
      }
      lua_call(L, 1, 1);
      out->type = PEFT_VALUE_JSON;
      set_scratch(L, c->cfg, -1, out);
    }
  }
  return 0;
}

int peft_config_get(peft_config *cfg, const char *field, peft_value *out, peft_error *err) {
  NEED(cfg, "peft_config_get", "config", -1);
  NEED(field, "peft_config_get", "field", -1);
  NEED(out, "peft_config_get", "out", -1);
  field_call c = {cfg, field, NULL, out, NULL, NULL};
  return protect(cfg->rt->L, get_field, &c, err);
}

static int set_field(lua_State *L) {
  field_call *c = lua_touserdata(L, 1);
  push_obj(L, c->cfg); /* 2 */
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->cfg->rt->peft_ref);
  lua_getfield(L, -1, "from_json_value");
  lua_pushstring(L, c->json);
  lua_call(L, 1, 1);
  lua_setfield(L, 2, c->field); /* type-checked; raises */
  lua_settop(L, 2);
  cache_config(L, c->cfg);
  return 0;
}

int peft_config_set_json(peft_config *cfg, const char *field, const char *json, peft_error *err) {
  NEED(cfg, "peft_config_set_json", "config", -1);
  NEED(field, "peft_config_set_json", "field", -1);
  NEED(json, "peft_config_set_json", "json", -1);
  field_call c = {cfg, field, json, NULL, NULL, NULL};
  return protect(cfg->rt->L, set_field, &c, err);
}

static int validate(lua_State *L) {
  field_call *c = lua_touserdata(L, 1);
  push_obj(L, c->cfg);
  lua_getfield(L, -1, "validate");
  lua_insert(L, -2);
  lua_call(L, 1, 0);
  push_obj(L, c->cfg);
  cache_config(L, c->cfg);
  return 0;
}

int peft_config_validate(peft_config *cfg, peft_error *err) {
  NEED(cfg, "peft_config_validate", "config", -1);
  field_call c = {cfg, NULL, NULL, NULL, NULL, NULL};
  return protect(cfg->rt->L, validate, &c, err);
}

static int to_json(lua_State *L) {
  field_call *c = lua_touserdata(L, 1);
  push_obj(L, c->cfg);
  lua_getfield(L, -1, "to_json");
  lua_insert(L, -2);
  lua_call(L, 1, 1);
  size_t len;
  const char *s = lua_tolstring(L, -1, &len);
  c->text = malloc(len + 1);
  if (c->text == NULL) return luaL_error(L, "not enough memory");
  memcpy(c->text, s, len + 1);
  return 0;
}

char *peft_config_to_json(peft_config *cfg, peft_error *err) {
  NEED(cfg, "peft_config_to_json", "config", NULL);
  field_call c = {cfg, NULL, NULL, NULL, NULL, NULL};
  if (protect(cfg->rt->L, to_json, &c, err) != 0) {
    free(c.text);
    return NULL;
  }
  return c.text;
}

static int save(lua_State *L) {
  field_call *c = lua_touserdata(L, 1);
  push_obj(L, c->cfg);
  lua_getfield(L, -1, "save_pretrained");
  lua_insert(L, -2);
  lua_pushstring(L, c->dir);
  lua_call(L, 2, 0);
  return 0;
}

int peft_config_save(peft_config *cfg, const char *dir, peft_error *err) {
  NEED(cfg, "peft_config_save", "config", -1);
  NEED(dir, "peft_config_save", "dir", -1);
  field_call c = {cfg, NULL, NULL, NULL, dir, NULL};
  return protect(cfg->rt->L, save, &c, err);
}

/* --- where an adapter works (peft check) ------------------------------- */

typedef struct check_call {
  peft_runtime *rt;
  const char *path;
  const char *const *targets;
  size_t ntargets;
  char *text;
} check_call;

/* peft.check(path, targets) encoded as `peft check --json` prints it */
static int check_adapter(lua_State *L) {
  check_call *c = lua_touserdata(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->rt->peft_ref);
  lua_getfield(L, -1, "check");
  lua_pushstring(L, c->path);
  if (c->ntargets > 0) {
    lua_createtable(L, (int)c->ntargets, 0);
    for (size_t i = 0; i < c->ntargets; i++) {
      if (c->targets[i] == NULL) return luaL_error(L, "peft_check: target %d is NULL", (int)i + 1);
      lua_pushstring(L, c->targets[i]);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
  } else {
    lua_pushnil(L);
  }
  lua_call(L, 2, 1);
  lua_getfield(L, -2, "core");
  lua_getfield(L, -1, "json_encode");
  lua_pushvalue(L, -3);
  lua_pushinteger(L, 2);
  lua_call(L, 2, 1);
  size_t len;
  const char *s = lua_tolstring(L, -1, &len);
  if (s == NULL) return luaL_error(L, "peft_check: the result did not encode");
  c->text = malloc(len + 1);
  if (c->text == NULL) return luaL_error(L, "not enough memory");
  memcpy(c->text, s, len + 1);
  return 0;
}

char *peft_check(peft_runtime *rt, const char *path, const char *const *targets, size_t ntargets, peft_error *err) {
  if (rt == NULL || path == NULL) {
    peft_error_set(err, PEFT_ETYPE, "peft_check: %s is NULL", rt == NULL ? "rt" : "path");
    return NULL;
  }
  if (ntargets > 0 && targets == NULL) {
    peft_error_set(err, PEFT_ETYPE, "peft_check: targets is NULL");
    return NULL;
  }
  check_call c = {rt, path, targets, ntargets, NULL};
  if (protect(rt->L, check_adapter, &c, err) != 0) {
    free(c.text);
    return NULL;
  }
  return c.text;
}

