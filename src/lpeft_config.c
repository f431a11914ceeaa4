/*
 * lpeft_config.c - the field pass of peft.config's constructor, which runs
 * for every config built or loaded: take each field's value from the
 * arguments, accept the ones of a plain type (a string, a number, an
 * integer, a boolean, or null where the field allows it) and hand the rest
 * back to Lua for the full check.
 *
 *   fill = config_filler(names, codes, defaults, literals)
 *   values, given, nfound, nkeys, rest = fill(args [, nkeys [, adopt]])
 *
 * names: the class's field names in order; codes: per field, the FILL_*
 * bits of what it accepts as it is (lpeft_config.h); defaults: field index
 * -> default, for the fields whose default is a plain value (a table default
 * needs a deep copy per object, which the Lua side makes); literals: field
 * index -> set of strings, for the fields with FILL_LITERAL. Misuse raises in
 * lauxlib's words ("bad argument #2 to 'config_filler' (one code per name)").
 *
 * values: every accepted value, and the default of each field not given
 * (a null given for a nullable field leaves the field nil); given: a string
 * of one bit per field, set for the fields args holds (field i is bit
 * (i-1) % 8 of byte (i-1) // 8 + 1); nfound: how many fields args holds;
 * nkeys: how many keys args holds (more than nfound: args has a key that is
 * not a field); rest: nil, or the indices, in field order, of the given
 * fields left for Lua to check (their entry in values is empty).
 *
 * adopt: args (a table without a metatable that the caller owns, such as
 * one just decoded) becomes values: its fields' values are left in it (a
 * set's sorted copy put in, a null for a nullable field taken out), the
 * defaults put in; its keys that are not fields stay (for the caller to take
 * out), and so do the values of the fields in rest until Lua checks them.
 *
 * args is read raw unless it has a metatable. nkeys, when the caller knows it (the JSON decoder counts an object's members), spares counting
 * the keys; it must not be less than the true count (more only makes the
 * caller look for keys that are not fields and find none).
 */
#include "lpeft_config.h"

#include <string.h>

#include <lauxlib.h>

#include "lpeft_json.h"
#include "lpeft_udata.h"

#define FILLER_MT "peft.config.filler"

/* user values of a filler */
enum { UV_NAMES = 1, UV_DEFAULTS, UV_LITERALS, UV_ARRAY_MT, UV_COUNT = UV_ARRAY_MT };

typedef struct filler {
  lua_Integer n;         /* fields */
  lua_Integer ndefaults; /* fields with a default */
  /* code[n]: what each field accepts as it is; then, aligned, the ndefaults
   * indices (0-based) of the fields with a default, as lua_Integers */
  unsigned short code[];
} filler;

/* The bytes code[] takes, rounded up so that the indices after it are aligned. */
static size_t codes_size(lua_Integer n) {
  return ((size_t)n * sizeof(unsigned short) + sizeof(lua_Integer) - 1) / sizeof(lua_Integer) * sizeof(lua_Integer);
}

static lua_Integer *defaults_of(const filler *fl) {
  return (lua_Integer *)(void *)((char *)fl->code + codes_size(fl->n));
}

/* The longest set the field pass sorts itself; a longer one goes to the Lua side. */
#define SET_SORT_MAX 64

/* Replaces the list at idx (the top), n strings, by a copy sorted as Lua's < orders
 * them, without repeats: how a set field keeps what PEFT writes in no order. */
static void sort_string_set(lua_State *L, int idx, lua_Unsigned n, int array_mt) {
  luaL_checkstack(L, (int)n + 2, "sorting a set");
  int base = lua_gettop(L);
  for (lua_Unsigned i = 1; i <= n; i++) lua_rawgeti(L, idx, (lua_Integer)i);
  for (int i = 2; i <= (int)n; i++) { /* insertion sort on the stack (n is small) */
    for (int j = base + i; j > base + 1 && lua_compare(L, j, j - 1, LUA_OPLT); j--) {
      lua_pushvalue(L, j);
      lua_copy(L, j - 1, j);
      lua_copy(L, -1, j - 1);
      lua_pop(L, 1);
    }
  }
  int unique = n > 0 ? 1 : 0;
  for (int i = 2; i <= (int)n; i++)
    if (!lua_rawequal(L, base + i, base + i - 1)) unique++;
  lua_createtable(L, unique, 0);
  lua_pushvalue(L, array_mt);
  lua_setmetatable(L, -2);
  lua_Integer k = 0;
  for (int i = 1; i <= (int)n; i++) {
    if (i > 1 && lua_rawequal(L, base + i, base + i - 1)) continue;
    lua_pushvalue(L, base + i);
    lua_rawseti(L, -2, ++k);
  }
  lua_replace(L, idx);
  lua_settop(L, base);
}

/* Whether the table at idx (the top) is a JSON array of strings. With sorted (a set
 * field), one that is not strictly ascending is replaced by its sorted copy without
 * repeats, when it is short enough (else not accepted: the Lua side does it). */
static int string_list_ok(lua_State *L, int idx, int sorted, int array_mt) {
  if (!lua_getmetatable(L, idx)) return 0;
  int is_array = lua_rawequal(L, -1, array_mt);
  lua_pop(L, 1);
  if (!is_array) return 0;
  lua_Unsigned n = lua_rawlen(L, idx);
  int ascending = 1;
  for (lua_Unsigned i = 1; i <= n; i++) {
    if (lua_rawgeti(L, idx, (lua_Integer)i) != LUA_TSTRING) {
      lua_pop(L, i > 1 ? 2 : 1);
      return 0;
    }
    if (i > 1) {
      if (ascending && sorted && !lua_compare(L, -2, -1, LUA_OPLT)) ascending = 0; /* two strings: never raises */
      lua_remove(L, -2);
    }
  }
  if (n > 0) lua_pop(L, 1);
  if (!ascending) {
    if (n > SET_SORT_MAX) return 0;
    sort_string_set(L, idx, n, array_mt);
  }
  return 1;
}

/* Whether the table at idx has no metatable and only string keys. */
static int dict_ok(lua_State *L, int idx) {
  if (lua_getmetatable(L, idx)) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      lua_pop(L, 2);
      return 0;
    }
    lua_pop(L, 1);
  }
  return 1;
}

/* The most deeply nested table default copied (deeper ones are refused when
 * the filler is made). */
#define COPY_DEPTH_MAX 16

/* Pushes a deep copy of the table at idx: tables without a metatable, or with
 * the JSON array one (kept), holding anything but userdata and functions
 * (config_filler has checked), keys and values as they are. depth: how deep
 * it is; a default changed since it was checked (made deeper, or to refer to
 * itself) raises rather than recursing without end. */
static void copy_table(lua_State *L, int idx, int depth) {
  if (depth > COPY_DEPTH_MAX) luaL_error(L, "a table default is nested too deep (or holds itself)");
  luaL_checkstack(L, 4, "copying a default");
  idx = lua_absindex(L, idx);
  lua_Unsigned n = lua_rawlen(L, idx);
  lua_createtable(L, n > 0x7fff ? 0x7fff : (int)n, 0);
  int copy = lua_gettop(L);
  if (lua_getmetatable(L, idx)) lua_setmetatable(L, copy);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -1) == LUA_TTABLE) {
      copy_table(L, -1, depth + 1);
      lua_replace(L, -2);
    }
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, copy);
  }
}

/* Whether the table at idx can be copied by copy_table (depth: how deep it is). */
static int copyable(lua_State *L, int idx, int array_mt, int depth) {
  if (depth > COPY_DEPTH_MAX) return 0;
  luaL_checkstack(L, 4, "checking a default");
  idx = lua_absindex(L, idx);
  if (lua_getmetatable(L, idx)) {
    int ok = lua_rawequal(L, -1, array_mt);
    lua_pop(L, 1);
    if (!ok) return 0;
  }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int t = lua_type(L, -1), kt = lua_type(L, -2);
    int ok = (kt == LUA_TSTRING || kt == LUA_TNUMBER) &&
             (t == LUA_TSTRING || t == LUA_TNUMBER || t == LUA_TBOOLEAN ||
              (t == LUA_TLIGHTUSERDATA && lua_touserdata(L, -1) == NULL) ||
              (t == LUA_TTABLE && copyable(L, -1, array_mt, depth + 1)));
    lua_pop(L, 1);
    if (!ok) {
      lua_pop(L, 1);
      return 0;
    }
  }
  return 1;
}

/* Whether the value at the top is what code accepts as it is (field i). */
static int plain_ok(lua_State *L, int code, lua_Integer i, int literals, int array_mt) {
  int top = lua_gettop(L);
  switch (lua_type(L, top)) {
    case LUA_TSTRING:
      if (code & FILL_STR) return 1;
      if (code & FILL_LITERAL) {
        lua_rawgeti(L, literals, i);
        lua_pushvalue(L, top);
        int in = lua_rawget(L, -2) != LUA_TNIL;
        lua_pop(L, 2);
        return in;
      }
      return 0;
    case LUA_TNUMBER:
      return (code & FILL_NUMBER) || ((code & FILL_INT) && lua_isinteger(L, top));
    case LUA_TBOOLEAN:
      return (code & FILL_BOOL) != 0;
    case LUA_TTABLE:
      if (code & FILL_STR_LIST) return string_list_ok(L, top, code & FILL_SORTED, array_mt);
      if (code & FILL_DICT) return dict_ok(L, top);
      if (code & FILL_EMPTY_DICT) {
        if (lua_getmetatable(L, top)) {
          lua_pop(L, 1);
          return 0;
        }
        lua_pushnil(L);
        if (lua_next(L, top)) {
          lua_pop(L, 2);
          return 0;
        }
        return 1;
      }
      return 0;
    default:
      return 0;
  }
}

/* Takes the value at the top for field i (0-based; its name is just below
 * it), or leaves the field to the Lua side (bit i of rest). Pops both. */
static void take(lua_State *L, const filler *fl, lua_Integer i, unsigned char *rest, int literals, int array_mt,
                 int values, int adopt) {
  int code = fl->code[i];
  if (plain_ok(L, code, i + 1, literals, array_mt)) {
    lua_rawset(L, values); /* (adopted: the same value, or a set's sorted copy) */
  } else if ((code & FILL_NULLABLE) && lua_islightuserdata(L, -1) && lua_touserdata(L, -1) == NULL) {
    /* null for a nullable field: None, and no default */
    if (adopt) {
      lua_pop(L, 1);
      lua_pushnil(L);
      lua_rawset(L, values);
    } else {
      lua_pop(L, 2);
    }
  } else {
    lua_pop(L, 2);
    rest[i / 8] |= (unsigned char)(1u << (i % 8));
  }
}

static int fill(lua_State *L) {
  const filler *fl = lua_touserdata(L, lua_upvalueindex(1));
  luaL_checktype(L, 1, LUA_TTABLE);
  int known = lua_isinteger(L, 2);
  lua_Integer nkeys = known ? lua_tointeger(L, 2) : 0;
  int adopt = lua_toboolean(L, 3);
  lua_settop(L, 1);
  int raw = !lua_getmetatable(L, 1);
  if (!raw) lua_pop(L, 1);
  luaL_argcheck(L, raw || !adopt, 1, "a table with a metatable cannot be adopted");
  for (int uv = 1; uv <= UV_COUNT; uv++) lua_getiuservalue(L, lua_upvalueindex(1), uv); /* 2..5 */
  enum { NAMES = 2, DEFAULTS, LITERALS, ARRAY_MT, VALUES, BITS };
  /* values: args itself when adopted, else a new table pre-sized for every field */
  if (adopt) lua_pushvalue(L, 1);
  else lua_createtable(L, 0, fl->n > 0x7fff ? 0x7fff : (int)fl->n);
  /* given and rest: one bit per field each, in a buffer on the C stack (or,
   * for a class with very many fields, a userdata meanwhile) */
  size_t nbytes = ((size_t)fl->n + 7) / 8;
  unsigned char small[256], *bits = small;
  if (2 * nbytes > sizeof small) bits = lua_newuserdatauv(L, 2 * nbytes, 0);
  else lua_pushnil(L);
  memset(bits, 0, 2 * nbytes);
  unsigned char *given = bits, *rest = bits + nbytes;
  lua_Integer nfound = 0;
  if (!known) {
    lua_pushnil(L);
    while (lua_next(L, 1)) {
      lua_pop(L, 1);
      nkeys++;
    }
  }
  /* each field asked for in turn (a file gives most of its class's fields,
   * as a rule: cheaper than walking its keys and looking each up), until
   * every key of a raw args has been found a field */
  for (lua_Integer i = 0; i < fl->n && !(raw && nfound == nkeys); i++) {
    lua_rawgeti(L, NAMES, i + 1);
    lua_pushvalue(L, -1);
    if (raw) lua_rawget(L, 1);
    else lua_gettable(L, 1); /* may raise: nothing to clean up */
    if (lua_isnil(L, -1)) {
      lua_pop(L, 2);
      continue;
    }
    nfound++;
    given[i / 8] |= (unsigned char)(1u << (i % 8));
    take(L, fl, i, rest, LITERALS, ARRAY_MT, VALUES, adopt);
  }
  /* the defaults of the fields not given (a table: each object its own copy) */
  const lua_Integer *def = defaults_of(fl);
  for (lua_Integer j = 0; j < fl->ndefaults; j++) {
    lua_Integer i = def[j];
    if (given[i / 8] & (1u << (i % 8))) continue;
    lua_rawgeti(L, NAMES, i + 1);
    if (lua_rawgeti(L, DEFAULTS, i + 1) == LUA_TTABLE) {
      copy_table(L, -1, 1);
      lua_replace(L, -2);
    }
    lua_rawset(L, VALUES);
  }
  lua_pushvalue(L, VALUES);
  lua_pushlstring(L, (const char *)given, nbytes);
  lua_pushinteger(L, nfound);
  lua_pushinteger(L, nkeys);
  /* rest: the indices of the fields left to Lua, in field order */
  lua_Integer nrest = 0;
  for (size_t b = 0; b < nbytes; b++) {
    if (rest[b] == 0) continue;
    for (int k = 0; k < 8; k++) {
      if (!(rest[b] & (1u << k))) continue;
      if (nrest == 0) lua_newtable(L);
      lua_pushinteger(L, (lua_Integer)(b * 8 + (size_t)k) + 1);
      lua_rawseti(L, -2, ++nrest);
    }
  }
  if (nrest == 0) lua_pushnil(L);
  return 5;
}

int lpeft_config_filler(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  luaL_checktype(L, 4, LUA_TTABLE);
  lua_settop(L, 4);
  lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
  luaL_argcheck(L, (lua_Integer)lua_rawlen(L, 2) == n, 2, "one code per name");
  luaL_argcheck(L, (lua_Unsigned)n <= (((size_t)-1) / 4 - sizeof(filler)) / sizeof(lua_Integer), 1, "too many fields");
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_rawgeti(L, 1, i) != LUA_TSTRING) return luaL_argerror(L, 1, "every name must be a string");
    lua_rawgeti(L, 2, i);
    int isnum;
    lua_Integer c = lua_tointegerx(L, -1, &isnum);
    if (!isnum || c < 0 || c > FILL_ALL) return luaL_argerror(L, 2, "every code must be a set of FILL_* bits");
    if ((c & FILL_LITERAL) && lua_rawgeti(L, 4, i) != LUA_TTABLE)
      return luaL_argerror(L, 4, "a field with FILL_LITERAL needs its set of literals");
    lua_settop(L, 4);
  }
  luaL_getmetatable(L, LPEFT_JSON_ARRAY_MT); /* 5 */
  lua_pushnil(L);
  while (lua_next(L, 3)) {
    if (lua_type(L, -1) == LUA_TTABLE && !copyable(L, -1, 5, 1))
      return luaL_argerror(L, 3, "a table default must hold only plain values and such tables");
    if (lua_type(L, -1) == LUA_TUSERDATA || lua_type(L, -1) == LUA_TFUNCTION || lua_type(L, -1) == LUA_TTHREAD)
      return luaL_argerror(L, 3, "a default must be a plain value or a table of them");
    lua_pop(L, 1);
  }
  lua_settop(L, 4);
  /* which fields have a default */
  lua_Integer ndefaults = 0;
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_rawgeti(L, 3, i) != LUA_TNIL) ndefaults++;
    lua_pop(L, 1);
  }
  filler *fl = lpeft_udata_new(L, sizeof *fl + codes_size(n) + (size_t)ndefaults * sizeof(lua_Integer), UV_COUNT,
                               FILLER_MT, NULL, 0);
  fl->n = n;
  fl->ndefaults = ndefaults;
  lua_Integer *def = defaults_of(fl);
  for (lua_Integer i = 0, j = 0; i < n; i++) {
    lua_rawgeti(L, 2, i + 1);
    fl->code[i] = (unsigned short)lua_tointeger(L, -1);
    if (lua_rawgeti(L, 3, i + 1) != LUA_TNIL) def[j++] = i;
    lua_pop(L, 2);
  }
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, UV_NAMES);
  lua_pushvalue(L, 3);
  lua_setiuservalue(L, -2, UV_DEFAULTS);
  lua_pushvalue(L, 4);
  lua_setiuservalue(L, -2, UV_LITERALS);
  luaL_getmetatable(L, LPEFT_JSON_ARRAY_MT);
  lua_setiuservalue(L, -2, UV_ARRAY_MT);
  lua_pushcclosure(L, fill, 1);
  return 1;
}
