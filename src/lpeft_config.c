/*
 * lpeft_config.c - the field pass of peft.config's constructor, which runs
 * for every config built or loaded: take each field's value from the
 * arguments, accept the ones of a plain type (a string, a number, an
 * integer, a boolean, or null where the field allows it) and hand the rest
 * back to Lua for the full check.
 *
 *   fill = config_filler(names, codes, defaults, literals)
 *   values, given, nfound, nkeys, rest = fill(args [, nkeys])
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
 * args is read raw unless it has a metatable. nkeys, when the caller knows
 * it (the JSON decoder counts an object's members), spares counting the
 * keys; it must not be less than the true count (more only makes the
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
  lua_Integer n;
  unsigned short code[]; /* one per field */
} filler;

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
      return 0;
    default:
      return 0;
  }
}

static int fill(lua_State *L) {
  const filler *fl = lua_touserdata(L, lua_upvalueindex(1));
  luaL_checktype(L, 1, LUA_TTABLE);
  int known = lua_isinteger(L, 2);
  lua_Integer nkeys = known ? lua_tointeger(L, 2) : 0;
  lua_settop(L, 1);
  int raw = !lua_getmetatable(L, 1);
  if (!raw) lua_pop(L, 1);
  for (int uv = 1; uv <= UV_COUNT; uv++) lua_getiuservalue(L, lua_upvalueindex(1), uv); /* 2..5 */
  enum { NAMES = 2, DEFAULTS, LITERALS, ARRAY_MT, VALUES, GIVEN, REST };
  /* values, pre-sized for every field */
  lua_createtable(L, 0, fl->n > 0x7fff ? 0x7fff : (int)fl->n);
  if (!known) {
    lua_pushnil(L);
    while (lua_next(L, 1)) {
      lua_pop(L, 1);
      nkeys++;
    }
  }
  /* given: one bit per field, in a buffer on the C stack (or, for a class
   * with very many fields, a userdata in the given slot meanwhile) */
  size_t nbytes = ((size_t)fl->n + 7) / 8;
  unsigned char small[128], *bits = small;
  if (nbytes > sizeof small) bits = lua_newuserdatauv(L, nbytes, 0);
  else lua_pushnil(L);
  memset(bits, 0, nbytes);
  lua_pushnil(L); /* rest */
  lua_Integer nfound = 0, nrest = 0;
  for (lua_Integer i = 0; i < fl->n; i++) {
    lua_rawgeti(L, NAMES, i + 1); /* name */
    lua_pushvalue(L, -1);
    if (raw) lua_rawget(L, 1);
    else lua_gettable(L, 1); /* may raise: nothing to clean up */
    if (lua_isnil(L, -1)) { /* not given: the default, if it has one */
      lua_pop(L, 1);
      if (lua_rawgeti(L, DEFAULTS, i + 1) == LUA_TNIL) lua_pop(L, 2);
      else lua_rawset(L, VALUES);
      continue;
    }
    nfound++;
    bits[i / 8] |= (unsigned char)(1u << (i % 8));
    int code = fl->code[i];
    if (plain_ok(L, code, i + 1, LITERALS, ARRAY_MT)) {
      lua_rawset(L, VALUES);
    } else if ((code & FILL_NULLABLE) && lua_islightuserdata(L, -1) && lua_touserdata(L, -1) == NULL) {
      lua_pop(L, 1);
      lua_pushnil(L);
      lua_rawset(L, VALUES);
    } else {
      lua_pop(L, 2);
      if (lua_isnil(L, REST)) {
        lua_newtable(L);
        lua_replace(L, REST);
      }
      lua_pushinteger(L, i + 1);
      lua_rawseti(L, REST, ++nrest);
    }
  }
  lua_pushvalue(L, VALUES);
  lua_pushlstring(L, (const char *)bits, nbytes);
  lua_pushinteger(L, nfound);
  lua_pushinteger(L, nkeys);
  lua_pushvalue(L, REST);
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
  luaL_argcheck(L, (lua_Unsigned)n <= (((size_t)-1) - sizeof(filler)) / sizeof(unsigned short), 1, "too many fields");
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
  filler *fl = lpeft_udata_new(L, sizeof *fl + (size_t)n * sizeof fl->code[0], UV_COUNT, FILLER_MT, NULL, 0);
  fl->n = n;
  for (lua_Integer i = 0; i < n; i++) {
    lua_rawgeti(L, 2, i + 1);
    fl->code[i] = (unsigned short)lua_tointeger(L, -1);
    lua_pop(L, 1);
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
