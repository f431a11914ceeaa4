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
    {"ValueError", PEFT_EVALUE},  {"KeyError", PEFT_EKEY},         {"TypeError", PEFT_ETYPE},
    {"AttributeError", PEFT_ETYPE}, {"MemoryError", PEFT_ENOMEM}, {"OSError", PEFT_EOS},
    {"FileNotFoundError", PEFT_ENOTFOUND}, {"NotADirectoryError", PEFT_EOS}, {"JSONDecodeError", PEFT_EJSON},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(map[i].kind, kind) == 0) return map[i].status;
  return PEFT_EOTHER;
}

/* Sets err to msg with the control characters of msg escaped (the message
 * is text for people, and may hold text from a file), and its kind: an
 * identifier of at most PEFT_KIND_MAX - 1 characters, else the status's. */
static void set_message(peft_error *err, peft_status status, const char *kind, const char *msg, size_t len) {
  err->status = status;
  peft_printable_into(msg, len, err->message, sizeof err->message, 0);
  size_t n = kind ? strlen(kind) : 0;
  int ok = n > 0 && n < sizeof err->kind;
  for (size_t i = 0; ok && i < n; i++) {
    char c = kind[i];
    ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  }
  snprintf(err->kind, sizeof err->kind, "%s", ok ? kind : peft_status_kind(status));
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
    kind = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    msg = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
  }
  if (kind && msg) {
    set_message(err, status_of_kind(kind), kind, msg, len);
    lua_pop(L, 2);
  } else {
    if (lua_type(L, -1) == LUA_TTABLE) lua_pop(L, 2);
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
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

/* --- strings kept by an object ------------------------------------------- */

/* The strings a model, plan, tensor map or field list hands out live in
 * blocks freed together with the object. */
typedef struct arena_block {
  struct arena_block *next;
  size_t used, cap;
  char data[];
} arena_block;

typedef struct arena {
  arena_block *head;
} arena;

static void arena_free(arena *a) {
  arena_block *b = a->head;
  while (b) {
    arena_block *next = b->next;
    free(b);
    b = next;
  }
  a->head = NULL;
}

/* n bytes from the arena, or NULL when out of memory. */
static char *arena_alloc(arena *a, size_t n) {
  arena_block *b = a->head;
  if (b == NULL || b->cap - b->used < n) {
    size_t cap = n > 4000 ? n : 4000;
    b = malloc(sizeof *b + cap);
    if (b == NULL) return NULL;
    b->next = a->head;
    b->used = 0;
    b->cap = cap;
    a->head = b;
  }
  char *p = b->data + b->used;
  b->used += n;
  return p;
}

/* A copy of the string at idx in the arena; NULL for false or nil. Raises
 * on out of memory (what the arena holds belongs to an object its caller
 * frees). */
static const char *arena_str(lua_State *L, arena *a, int idx) {
  if (lua_type(L, idx) != LUA_TSTRING) return NULL;
  size_t len;
  const char *s = lua_tolstring(L, idx, &len);
  char *d = arena_alloc(a, len + 1);
  if (d == NULL) luaL_error(L, "not enough memory");
  memcpy(d, s, len + 1);
  return d;
}

/* Calls peft.capi's function fname with the n values on top of the stack
 * (protected by the caller), leaving nres results. */
static void call_capi(lua_State *L, const char *fname, int n, int nres) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "peft.capi");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, fname);
  lua_remove(L, -2);
  lua_insert(L, -(n + 1));
  lua_call(L, n, nres);
}

/* An array of n records from the Lua list at idx, each made by fill (which
 * may raise: the array is stored in *out first, so its owner frees it). */
static void copy_records(lua_State *L, int idx, size_t size, void **out, size_t *n,
                          void (*fill)(lua_State *L, arena *a, void *rec), arena *a) {
  idx = lua_absindex(L, idx);
  size_t len = (size_t)luaL_len(L, idx);
  *out = NULL;
  *n = 0;
  if (len == 0) return;
  char *v = calloc(len, size);
  if (v == NULL) luaL_error(L, "not enough memory");
  *out = v;
  for (size_t i = 0; i < len; i++) {
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    fill(L, a, v + i * size);
    lua_pop(L, 1);
    *n = i + 1;
  }
}

static long long rec_int(lua_State *L, int t, int i) {
  lua_rawgeti(L, t, i);
  long long v = lua_isinteger(L, -1) ? (long long)lua_tointeger(L, -1) : (long long)lua_tonumber(L, -1);
  lua_pop(L, 1);
  return v;
}

static const char *rec_str(lua_State *L, arena *a, int t, int i) {
  lua_rawgeti(L, t, i);
  const char *s = arena_str(L, a, -1);
  lua_pop(L, 1);
  return s;
}

static int rec_bool(lua_State *L, int t, int i) {
  lua_rawgeti(L, t, i);
  int b = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return b;
}

/* { name, kind, in, out, layer, r, alpha } */
static void fill_module(lua_State *L, arena *a, void *rec) {
  peft_module_info *m = rec;
  int t = lua_gettop(L);
  m->name = rec_str(L, a, t, 1);
  m->kind = rec_str(L, a, t, 2);
  m->in_features = rec_int(L, t, 3);
  m->out_features = rec_int(L, t, 4);
  m->layer = rec_int(L, t, 5);
  m->r = rec_int(L, t, 6);
  lua_rawgeti(L, t, 7);
  m->alpha = (double)lua_tonumber(L, -1);
  lua_pop(L, 1);
}

/* { name, module, shape, numel, trainable } */
static void fill_tensor(lua_State *L, arena *a, void *rec) {
  peft_tensor_info *ti = rec;
  int t = lua_gettop(L);
  ti->name = rec_str(L, a, t, 1);
  ti->module = rec_str(L, a, t, 2);
  lua_rawgeti(L, t, 3);
  size_t nd = (size_t)luaL_len(L, -1);
  if (nd > PEFT_MAX_DIMS) luaL_error(L, "tensor %s has %d dimensions, more than %d", ti->name, (int)nd, PEFT_MAX_DIMS);
  ti->ndim = nd;
  for (size_t d = 0; d < nd; d++) ti->shape[d] = rec_int(L, -1, (int)d + 1);
  lua_pop(L, 1);
  ti->numel = rec_int(L, t, 4);
  ti->trainable = rec_bool(L, t, 5);
}

/* { name, method, module, layer, adapter, param } */
static void fill_owner(lua_State *L, arena *a, void *rec) {
  peft_tensor_owner *o = rec;
  int t = lua_gettop(L);
  o->name = rec_str(L, a, t, 1);
  o->method = rec_str(L, a, t, 2);
  o->module = rec_str(L, a, t, 3);
  o->layer = rec_str(L, a, t, 4);
  o->adapter = rec_str(L, a, t, 5);
  o->param = rec_str(L, a, t, 6);
}

/* { name, annotation, default, help, given } */
static void fill_field(lua_State *L, arena *a, void *rec) {
  peft_field_info *f = rec;
  int t = lua_gettop(L);
  f->name = rec_str(L, a, t, 1);
  f->annotation = rec_str(L, a, t, 2);
  f->default_json = rec_str(L, a, t, 3);
  f->help = rec_str(L, a, t, 4);
  f->given = rec_bool(L, t, 5);
}

/* --- runtime ----------------------------------------------------------- */

struct peft_runtime {
  lua_State *L;
  int peft_ref; /* the module table */
  const peft_registry *reg;
  char **warnings;
  size_t nwarnings;
  size_t max_config; /* bytes: the largest config loaded */
  size_t live;       /* configs and models not yet freed */
  int closed;        /* peft_close was called: goes with the last of them */
  char *scratch;     /* the last string handed out by the runtime */
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

void peft_free(void *p) { free(p); }

int peft_api_version(void) { return PEFT_API_VERSION; }

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

static void destroy_runtime(peft_runtime *rt) {
  if (rt->L) lua_close(rt->L);
  free_strings(rt->warnings, rt->nwarnings);
  free(rt->scratch);
  free(rt);
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
  /* generational from the start, as the executable: start-up builds what stays */
  lua_gc(rt->L, LUA_GCGEN, 0, 0);
  if (protect(rt->L, open_runtime, rt, err) != 0) {
    destroy_runtime(rt);
    return NULL;
  }
  return rt;
}

peft_runtime *peft_open(peft_error *err) { return peft_open_with(NULL, NULL, err); }

void peft_close(peft_runtime *rt) {
  if (rt == NULL) return;
  rt->closed = 1;
  if (rt->live == 0) destroy_runtime(rt);
}

/* An object of the runtime is gone: the runtime too, when it was closed and
 * that was the last one. */
static void release_runtime(peft_runtime *rt) {
  if (rt == NULL) return;
  rt->live--;
  if (rt->live == 0 && rt->closed) destroy_runtime(rt);
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

typedef struct class_call {
  peft_runtime *rt;
  const char *key;
  const char *which; /* "config_cls" or "model_cls" */
} class_call;

static int class_of(lua_State *L) {
  class_call *c = lua_touserdata(L, 1);
  lua_pushstring(L, c->key);
  lua_pushstring(L, c->which);
  call_capi(L, "class_of", 2, 1);
  if (lua_type(L, -1) != LUA_TTABLE) return 0;
  lua_getfield(L, -1, "name");
  if (lua_type(L, -1) != LUA_TSTRING) return 0;
  char *name = dupstr(lua_tostring(L, -1));
  if (name == NULL) return luaL_error(L, "not enough memory");
  free(c->rt->scratch);
  c->rt->scratch = name;
  return 0;
}

static const char *method_class(peft_runtime *rt, const char *key, const char *which) {
  if (rt == NULL || key == NULL) return NULL;
  free(rt->scratch);
  rt->scratch = NULL;
  class_call c = {rt, key, which};
  if (protect(rt->L, class_of, &c, NULL) != 0) return NULL;
  return rt->scratch;
}

const char *peft_method_config_class(peft_runtime *rt, const char *key) {
  return method_class(rt, key, "config_cls");
}

const char *peft_method_model_class(peft_runtime *rt, const char *key) { return method_class(rt, key, "model_cls"); }

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
  char *scratch;     /* the last string handed out by peft_config_get / _item */
  char *key_scratch; /* the last key handed out by peft_config_item */
  arena fields_arena; /* the strings of the last peft_config_fields */
  void *fields; /* peft_field_info[nfields] */
  size_t nfields;
};

/* Pushes the config's Lua object. */
static void push_obj(lua_State *L, peft_config *cfg) { lua_rawgeti(L, LUA_REGISTRYINDEX, cfg->ref); }

typedef struct load_call {
  peft_config *cfg;
  const char *path;
  const char *data;
  size_t len;
  const char *name;
  int flags;
  const char *method; /* NULL: PEFT's get_peft_config */
  int is_new;         /* peft_config_new: method and data, either may be NULL */
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
  cfg->warnings = NULL;
  cfg->nwarnings = 0;
  copy_strings(L, -1, &cfg->warnings, &cfg->nwarnings);
  lua_pop(L, 1);
}

static int load_config(lua_State *L) {
  load_call *c = lua_touserdata(L, 1);
  if (c->is_new) {
    lua_pushstring(L, c->method); /* NULL pushes nil */
    lua_pushstring(L, c->data);
    call_capi(L, "new", 2, 1);
  } else {
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->cfg->rt->peft_ref);
    lua_getfield(L, -1, c->path ? "from_pretrained" : "from_json");
    if (c->path) lua_pushstring(L, c->path);
    else lua_pushlstring(L, c->data, c->len);
    lua_createtable(L, 0, 5);
    lua_pushboolean(L, (c->flags & PEFT_LOAD_STRICT) != 0);
    lua_setfield(L, -2, "strict");
    lua_pushboolean(L, (c->flags & PEFT_LOAD_LENIENT) != 0);
    lua_setfield(L, -2, "lenient");
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "quiet");
    lua_pushinteger(L, (lua_Integer)c->cfg->rt->max_config);
    lua_setfield(L, -2, "max_bytes");
    if (!c->path && c->name) {
      lua_pushstring(L, c->name);
      lua_setfield(L, -2, "path");
    }
    lua_call(L, 2, 1);
  }
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
  rt->live++;
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
  load_call c = {.path = path, .flags = flags};
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
  load_call c = {.data = data ? data : "", .len = len, .name = name, .flags = flags};
  return load(rt, &c, err);
}

peft_config *peft_config_new(peft_runtime *rt, const char *method, const char *fields_json, peft_error *err) {
  NEED(rt, "peft_config_new", "runtime", NULL);
  load_call c = {.data = fields_json, .method = method, .is_new = 1};
  return load(rt, &c, err);
}

static void forget_fields(peft_config *cfg) {
  arena_free(&cfg->fields_arena);
  free(cfg->fields);
  cfg->fields = NULL;
  cfg->nfields = 0;
}

void peft_config_free(peft_config *cfg) {
  if (cfg == NULL) return;
  if (cfg->ref != LUA_NOREF && cfg->rt && cfg->rt->L) luaL_unref(cfg->rt->L, LUA_REGISTRYINDEX, cfg->ref);
  free(cfg->cls);
  free(cfg->peft_type);
  free(cfg->task_type);
  free_strings(cfg->warnings, cfg->nwarnings);
  free(cfg->scratch);
  free(cfg->key_scratch);
  forget_fields(cfg);
  peft_runtime *rt = cfg->rt;
  free(cfg);
  release_runtime(rt);
}

const char *peft_config_class(const peft_config *cfg) { return cfg ? cfg->cls : NULL; }
const char *peft_config_peft_type(const peft_config *cfg) { return cfg ? cfg->peft_type : NULL; }
const char *peft_config_task_type(const peft_config *cfg) { return cfg ? cfg->task_type : NULL; }
size_t peft_config_warning_count(const peft_config *cfg) { return cfg ? cfg->nwarnings : 0; }

const char *peft_config_warning(const peft_config *cfg, size_t i) {
  return cfg && i < cfg->nwarnings ? cfg->warnings[i] : NULL;
}

typedef struct is_a_call {
  peft_config *cfg;
  const char *name;
  int yes;
} is_a_call;

static int config_is_a(lua_State *L) {
  is_a_call *c = lua_touserdata(L, 1);
  push_obj(L, c->cfg);
  lua_pushstring(L, c->name);
  call_capi(L, "is_a", 2, 1);
  c->yes = lua_toboolean(L, -1);
  return 0;
}

int peft_config_is_a(peft_config *cfg, const char *class_name) {
  if (cfg == NULL || class_name == NULL) return 0;
  is_a_call c = {cfg, class_name, 0};
  if (protect(cfg->rt->L, config_is_a, &c, NULL) != 0) return 0;
  return c.yes;
}

typedef struct field_call {
  peft_config *cfg;
  const char *field;
  const char *json;
  peft_value *out;
  const char *dir;
  char *text;
  const size_t *path;
  size_t depth;
} field_call;

/* A copy of the string at idx (its length too: a NUL inside stays) in *slot,
 * freeing what was there. Raises when out of memory (the slot is the
 * config's, nothing leaks). */
static const char *keep_string(lua_State *L, char **slot, int idx, size_t *lenp) {
  size_t len;
  const char *s = lua_tolstring(L, idx, &len);
  char *copy = malloc(len + 1);
  if (copy == NULL) luaL_error(L, "not enough memory");
  memcpy(copy, s, len + 1);
  free(*slot);
  *slot = copy;
  *lenp = len;
  return copy;
}

/* Fills out from the value at idx: a scalar as itself, a list or dict (or a
 * nested config) with its count and its JSON text, a big integer as a float
 * with its digits. */
static void to_value(lua_State *L, int idx, peft_config *cfg, peft_value *out) {
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
    case LUA_TNIL:
    case LUA_TLIGHTUSERDATA: out->type = PEFT_VALUE_NULL; break;
    case LUA_TBOOLEAN:
      out->type = PEFT_VALUE_BOOL;
      out->boolean = lua_toboolean(L, idx);
      break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        out->type = PEFT_VALUE_INT;
        out->integer = (long long)lua_tointeger(L, idx);
        out->number = (double)out->integer;
      } else {
        out->type = PEFT_VALUE_FLOAT;
        out->number = (double)lua_tonumber(L, idx);
      }
      break;
    case LUA_TSTRING:
      out->type = PEFT_VALUE_STRING;
      out->string = keep_string(L, &cfg->scratch, idx, &out->length);
      break;
    case LUA_TTABLE: {
      lua_pushvalue(L, idx);
      call_capi(L, "describe", 1, 3);
      out->type = strcmp(lua_tostring(L, -3), "list") == 0 ? PEFT_VALUE_LIST : PEFT_VALUE_DICT;
      out->count = (size_t)lua_tointeger(L, -2);
      out->string = keep_string(L, &cfg->scratch, -1, &out->length);
      lua_pop(L, 3);
      break;
    }
    default: {
      /* a big integer (its digits), or anything else JSON can hold */
      lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
      lua_getfield(L, -1, "peft.core");
      lua_getfield(L, -1, "json_encode");
      lua_pushvalue(L, idx);
      lua_call(L, 1, 1);
      out->type = PEFT_VALUE_FLOAT;
      out->string = keep_string(L, &cfg->scratch, -1, &out->length);
      out->number = strtod(out->string, NULL);
      lua_pop(L, 3);
    }
  }
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
  memset(c->out, 0, sizeof *c->out);
  to_value(L, -1, c->cfg, c->out);
  return 0;
}

int peft_config_get(peft_config *cfg, const char *field, peft_value *out, peft_error *err) {
  NEED(cfg, "peft_config_get", "config", -1);
  NEED(field, "peft_config_get", "field", -1);
  NEED(out, "peft_config_get", "out", -1);
  field_call c = {.cfg = cfg, .field = field, .out = out};
  return protect(cfg->rt->L, get_field, &c, err);
}

static int get_item(lua_State *L) {
  field_call *c = lua_touserdata(L, 1);
  push_obj(L, c->cfg);
  lua_pushstring(L, c->field);
  lua_createtable(L, c->depth > 64 ? 64 : (int)c->depth, 0);
  for (size_t i = 0; i < c->depth; i++) {
    lua_pushinteger(L, c->path[i] > (size_t)LUA_MAXINTEGER ? LUA_MAXINTEGER : (lua_Integer)c->path[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  call_capi(L, "item", 3, 2);
  memset(c->out, 0, sizeof *c->out);
  if (lua_type(L, -1) == LUA_TSTRING) c->out->key = keep_string(L, &c->cfg->key_scratch, -1, &c->out->key_length);
  to_value(L, -2, c->cfg, c->out);
  return 0;
}

int peft_config_item(peft_config *cfg, const char *field, const size_t *path, size_t depth, peft_value *out,
                     peft_error *err) {
  NEED(cfg, "peft_config_item", "config", -1);
  NEED(field, "peft_config_item", "field", -1);
  NEED(out, "peft_config_item", "out", -1);
  NEED(path != NULL || depth == 0, "peft_config_item", "path", -1);
  field_call c = {.cfg = cfg, .field = field, .out = out, .path = path, .depth = depth};
  return protect(cfg->rt->L, get_item, &c, err);
}

static int get_fields(lua_State *L) {
  field_call *c = lua_touserdata(L, 1);
  push_obj(L, c->cfg);
  call_capi(L, "fields", 1, 1);
  forget_fields(c->cfg);
  copy_records(L, -1, sizeof(peft_field_info), &c->cfg->fields, &c->cfg->nfields, fill_field,
               &c->cfg->fields_arena);
  return 0;
}

int peft_config_fields(peft_config *cfg, const peft_field_info **fields, size_t *count, peft_error *err) {
  NEED(cfg, "peft_config_fields", "config", -1);
  NEED(fields, "peft_config_fields", "fields", -1);
  NEED(count, "peft_config_fields", "count", -1);
  field_call c = {.cfg = cfg};
  if (protect(cfg->rt->L, get_fields, &c, err) != 0) {
    forget_fields(cfg);
    *fields = NULL;
    *count = 0;
    return -1;
  }
  *fields = (const peft_field_info *)cfg->fields;
  *count = cfg->nfields;
  return 0;
}

/* The config changed: what peft.capi keeps of its values goes. */
static void forget_items(lua_State *L, peft_config *cfg) {
  push_obj(L, cfg);
  call_capi(L, "forget", 1, 0);
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
  forget_items(L, c->cfg);
  cache_config(L, c->cfg);
  return 0;
}

int peft_config_set_json(peft_config *cfg, const char *field, const char *json, peft_error *err) {
  NEED(cfg, "peft_config_set_json", "config", -1);
  NEED(field, "peft_config_set_json", "field", -1);
  NEED(json, "peft_config_set_json", "json", -1);
  field_call c = {.cfg = cfg, .field = field, .json = json};
  return protect(cfg->rt->L, set_field, &c, err);
}

static int validate(lua_State *L) {
  field_call *c = lua_touserdata(L, 1);
  push_obj(L, c->cfg);
  lua_getfield(L, -1, "validate");
  lua_insert(L, -2);
  lua_call(L, 1, 0);
  forget_items(L, c->cfg);
  push_obj(L, c->cfg);
  cache_config(L, c->cfg);
  return 0;
}

int peft_config_validate(peft_config *cfg, peft_error *err) {
  NEED(cfg, "peft_config_validate", "config", -1);
  field_call c = {.cfg = cfg};
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
  field_call c = {.cfg = cfg};
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
  field_call c = {.cfg = cfg, .dir = dir};
  return protect(cfg->rt->L, save, &c, err);
}

/* --- the model side ------------------------------------------------------- */

struct peft_model {
  peft_runtime *rt;
  int ref; /* the described model (peft.model) */
  const char *model_type;
  void *modules; /* peft_module_info[nmodules] */
  size_t nmodules;
  long long total;
  arena strings;
};

typedef struct model_call {
  peft_runtime *rt;
  const char *path;
  peft_model *model;
} model_call;

static int describe_model(lua_State *L) {
  model_call *c = lua_touserdata(L, 1);
  lua_pushstring(L, c->path);
  call_capi(L, "describe_model", 1, 4);
  peft_model *m = c->model;
  m->model_type = arena_str(L, &m->strings, -3);
  m->total = (long long)lua_tointeger(L, -1);
  copy_records(L, -2, sizeof(peft_module_info), &m->modules, &m->nmodules, fill_module, &m->strings);
  lua_pushvalue(L, -4);
  m->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return 0;
}

peft_model *peft_model_describe(peft_runtime *rt, const char *path, peft_error *err) {
  NEED(rt, "peft_model_describe", "runtime", NULL);
  NEED(path, "peft_model_describe", "path", NULL);
  peft_model *m = calloc(1, sizeof *m);
  if (m == NULL) {
    peft_error_set(err, PEFT_ENOMEM, "out of memory");
    return NULL;
  }
  m->rt = rt;
  m->ref = LUA_NOREF;
  rt->live++;
  model_call c = {rt, path, m};
  if (protect(rt->L, describe_model, &c, err) != 0) {
    peft_model_free(m);
    return NULL;
  }
  return m;
}

void peft_model_free(peft_model *m) {
  if (m == NULL) return;
  if (m->ref != LUA_NOREF) luaL_unref(m->rt->L, LUA_REGISTRYINDEX, m->ref);
  free(m->modules);
  arena_free(&m->strings);
  peft_runtime *rt = m->rt;
  free(m);
  release_runtime(rt);
}

const char *peft_model_type(const peft_model *m) { return m ? m->model_type : NULL; }
size_t peft_model_module_count(const peft_model *m) { return m ? m->nmodules : 0; }
long long peft_model_parameter_count(const peft_model *m) { return m ? m->total : 0; }

const peft_module_info *peft_model_module(const peft_model *m, size_t i) {
  return m && i < m->nmodules ? (const peft_module_info *)m->modules + i : NULL;
}

struct peft_plan {
  const char *cls, *summary;
  long long trainable, all;
  void *modules; /* peft_module_info[nmodules] */
  size_t nmodules;
  void *params; /* peft_tensor_info[nparams] */
  size_t nparams;
  void *saved; /* peft_tensor_info[nsaved] */
  size_t nsaved;
  arena strings;
};

typedef struct plan_call {
  peft_model *model;
  peft_config *cfg;
  const char *adapter;
  peft_plan *plan;
} plan_call;

static int make_plan(lua_State *L) {
  plan_call *c = lua_touserdata(L, 1);
  peft_plan *p = c->plan;
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->model->ref);
  push_obj(L, c->cfg);
  lua_pushstring(L, c->adapter); /* NULL pushes nil */
  call_capi(L, "plan", 3, 7);
  int base = lua_gettop(L) - 6;
  p->cls = arena_str(L, &p->strings, base);
  p->summary = arena_str(L, &p->strings, base + 1);
  p->trainable = (long long)lua_tointeger(L, base + 2);
  p->all = (long long)lua_tointeger(L, base + 3);
  copy_records(L, base + 4, sizeof(peft_module_info), &p->modules, &p->nmodules, fill_module, &p->strings);
  copy_records(L, base + 5, sizeof(peft_tensor_info), &p->params, &p->nparams, fill_tensor, &p->strings);
  copy_records(L, base + 6, sizeof(peft_tensor_info), &p->saved, &p->nsaved, fill_tensor, &p->strings);
  return 0;
}

peft_plan *peft_plan_new(peft_model *model, peft_config *cfg, const char *adapter, peft_error *err) {
  NEED(model, "peft_plan_new", "model", NULL);
  NEED(cfg, "peft_plan_new", "config", NULL);
  if (model->rt != cfg->rt) {
    peft_error_set(err, PEFT_EVALUE, "peft_plan_new: the model and the config belong to different runtimes");
    return NULL;
  }
  peft_plan *p = calloc(1, sizeof *p);
  if (p == NULL) {
    peft_error_set(err, PEFT_ENOMEM, "out of memory");
    return NULL;
  }
  plan_call c = {model, cfg, adapter, p};
  if (protect(model->rt->L, make_plan, &c, err) != 0) {
    peft_plan_free(p);
    return NULL;
  }
  return p;
}

void peft_plan_free(peft_plan *p) {
  if (p == NULL) return;
  free(p->modules);
  free(p->params);
  free(p->saved);
  arena_free(&p->strings);
  free(p);
}

const char *peft_plan_class(const peft_plan *p) { return p ? p->cls : NULL; }
const char *peft_plan_summary(const peft_plan *p) { return p ? p->summary : NULL; }
long long peft_plan_trainable_params(const peft_plan *p) { return p ? p->trainable : 0; }
long long peft_plan_all_params(const peft_plan *p) { return p ? p->all : 0; }
size_t peft_plan_module_count(const peft_plan *p) { return p ? p->nmodules : 0; }
size_t peft_plan_param_count(const peft_plan *p) { return p ? p->nparams : 0; }
size_t peft_plan_saved_count(const peft_plan *p) { return p ? p->nsaved : 0; }

const peft_module_info *peft_plan_module(const peft_plan *p, size_t i) {
  return p && i < p->nmodules ? (const peft_module_info *)p->modules + i : NULL;
}

const peft_tensor_info *peft_plan_param(const peft_plan *p, size_t i) {
  return p && i < p->nparams ? (const peft_tensor_info *)p->params + i : NULL;
}

const peft_tensor_info *peft_plan_saved(const peft_plan *p, size_t i) {
  return p && i < p->nsaved ? (const peft_tensor_info *)p->saved + i : NULL;
}

struct peft_tensor_map {
  void *owners; /* peft_tensor_owner[n] */
  size_t n;
  arena strings;
};

typedef struct map_call {
  const char *path;
  const char *const *names;
  size_t count;
  const char *method, *adapter;
  peft_tensor_map *map;
} map_call;

static int map_tensors(lua_State *L) {
  map_call *c = lua_touserdata(L, 1);
  if (c->path) {
    lua_pushstring(L, c->path);
    lua_pushstring(L, c->adapter); /* NULL pushes nil */
    call_capi(L, "tensor_map_file", 2, 1);
  } else {
    lua_createtable(L, c->count > 1000000 ? 1000000 : (int)c->count, 0);
    for (size_t i = 0; i < c->count; i++) {
      if (c->names[i] == NULL) return luaL_error(L, "peft_tensor_map_names: name %d is NULL", (int)i);
      lua_pushstring(L, c->names[i]);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_pushstring(L, c->method); /* NULL pushes nil */
    lua_pushstring(L, c->adapter);
    call_capi(L, "tensor_map_names", 3, 1);
  }
  copy_records(L, -1, sizeof(peft_tensor_owner), &c->map->owners, &c->map->n, fill_owner, &c->map->strings);
  return 0;
}

static peft_tensor_map *tensor_map(peft_runtime *rt, map_call *c, peft_error *err) {
  c->map = calloc(1, sizeof *c->map);
  if (c->map == NULL) {
    peft_error_set(err, PEFT_ENOMEM, "out of memory");
    return NULL;
  }
  if (protect(rt->L, map_tensors, c, err) != 0) {
    peft_tensor_map_free(c->map);
    return NULL;
  }
  return c->map;
}

peft_tensor_map *peft_tensor_map_file(peft_runtime *rt, const char *path, const char *adapter, peft_error *err) {
  NEED(rt, "peft_tensor_map_file", "runtime", NULL);
  NEED(path, "peft_tensor_map_file", "path", NULL);
  map_call c = {.path = path, .adapter = adapter};
  return tensor_map(rt, &c, err);
}

peft_tensor_map *peft_tensor_map_names(peft_runtime *rt, const char *const *names, size_t count, const char *method,
                                       const char *adapter, peft_error *err) {
  NEED(rt, "peft_tensor_map_names", "runtime", NULL);
  NEED(names != NULL || count == 0, "peft_tensor_map_names", "names", NULL);
  map_call c = {.names = names, .count = count, .method = method, .adapter = adapter};
  return tensor_map(rt, &c, err);
}

void peft_tensor_map_free(peft_tensor_map *m) {
  if (m == NULL) return;
  free(m->owners);
  arena_free(&m->strings);
  free(m);
}

size_t peft_tensor_map_count(const peft_tensor_map *m) { return m ? m->n : 0; }

const peft_tensor_owner *peft_tensor_map_at(const peft_tensor_map *m, size_t i) {
  return m && i < m->n ? (const peft_tensor_owner *)m->owners + i : NULL;
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

