/* lpeft_json.c - JSON for Lua (see lpeft_json.h). */
#include "lpeft_json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lpeft_udata.h"
#include "peft_json.h"

/* --- decoding ---------------------------------------------------------- */

/* Members are gathered on the stack, OBJECT_BATCH at a time, so that the
 * table is made at its final size (an adapter config has a few dozen keys;
 * growing the table one key at a time would rehash it at every power of
 * two). They are set in order, so a repeated key keeps its last value. */
#define OBJECT_BATCH 32

/* Short strings seen lately, per Lua state: the same keys ("peft_type",
 * "target_modules") and values ("LORA", "q_proj") come back file after file,
 * and pushing one from here skips the hashing and interning of
 * lua_pushlstring. A slot holds a string's bytes; the string itself is item
 * slot + 1 of the cache's user value (so the collector keeps it). */
#define SCACHE_SLOTS 256
#define SCACHE_LEN 24
#define SCACHE_MT "peft.json.strings"

typedef struct scache {
  unsigned char len[SCACHE_SLOTS]; /* 0: empty */
  char bytes[SCACHE_SLOTS][SCACHE_LEN];
} scache;

static const char SCACHE_KEY = 0; /* its registry key: the address */

typedef struct lreader {
  lua_State *L;
  int depth;
  lua_Integer top_members; /* members of the outermost object, repeated keys included; -1 otherwise */
  int room;                /* slots the outermost object gets besides its members */
  scache *sc;              /* the state's cache of short strings */
  int sc_strings;          /* the stack index of its strings */
} lreader;

/* The slot of a string of 1 to SCACHE_LEN bytes: its first and last eight
 * bytes (overlapping when shorter), mixed. */
static unsigned scache_slot(const char *p, size_t len) {
  uint64_t a = 0, b = 0;
  size_t n = len < 8 ? len : 8;
  memcpy(&a, p, n);
  memcpy(&b, p + len - n, n);
  uint64_t h = (a * 0x9E3779B97F4A7C15u) ^ (b * 0xC2B2AE3D27D4EB4Fu) ^ (uint64_t)len;
  return (unsigned)(h >> 56) % SCACHE_SLOTS;
}

/* Pushes the string p[0..len) (not escaped), from the cache when it holds it. */
static void push_short(lreader *r, const char *p, size_t len) {
  lua_State *L = r->L;
  scache *sc = r->sc;
  if (len == 0 || len > SCACHE_LEN) {
    lua_pushlstring(L, p, len);
    return;
  }
  unsigned i = scache_slot(p, len);
  if (sc->len[i] == len && memcmp(sc->bytes[i], p, len) == 0) {
    lua_rawgeti(L, r->sc_strings, (lua_Integer)i + 1);
    return;
  }
  lua_pushlstring(L, p, len);
  lua_pushvalue(L, -1);
  lua_rawseti(L, r->sc_strings, (lua_Integer)i + 1); /* (the table is made at full size: no allocation) */
  sc->len[i] = (unsigned char)len;
  memcpy(sc->bytes[i], p, len);
}

/* Pushes the state's string cache (made on first use) and its strings table;
 * returns the cache. */
static scache *push_scache(lua_State *L) {
  scache *sc;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &SCACHE_KEY) == LUA_TUSERDATA) {
    sc = lua_touserdata(L, -1);
  } else {
    lua_pop(L, 1);
    sc = lpeft_udata_new(L, sizeof *sc, 1, SCACHE_MT, NULL, 0);
    lua_createtable(L, SCACHE_SLOTS, 0);
    lua_setiuservalue(L, -2, 1);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &SCACHE_KEY);
  }
  lua_getiuservalue(L, -1, 1);
  return sc;
}

/* Array items are gathered the same way, so that an array (a list of target
 * modules) is made at its final size too. */
#define ARRAY_BATCH 32

/* Sets the n items above stack index t into the table at t as items
 * first..first+n-1, and pops them. */
static void flush_items(lua_State *L, int t, int n, lua_Integer first) {
  for (int i = 0; i < n; i++) {
    lua_pushvalue(L, t + 1 + i);
    lua_rawseti(L, t, first + i);
  }
  lua_settop(L, t);
}

/* Sets the n key/value pairs above stack index t into the table at t, and
 * pops them. */
static void flush_members(lua_State *L, int t, int n) {
  for (int i = 0; i < n; i++) {
    lua_pushvalue(L, t + 1 + 2 * i);
    lua_pushvalue(L, t + 2 + 2 * i);
    lua_rawset(L, t);
  }
  lua_settop(L, t);
}

static const char *on_begin(void *ud, int is_object) {
  lreader *r = ud;
  lua_State *L = r->L;
  if (!lua_checkstack(L, is_object ? 2 * OBJECT_BATCH + 4 : ARRAY_BATCH + 4)) return "nesting too deep";
  r->depth++;
  lua_pushnil(L); /* the table's slot: made at the first flush */
  return NULL;
}

static const char *on_member(void *ud, int is_object, size_t index) {
  lua_State *L = ((lreader *)ud)->L;
  if (!is_object) {
    if (index % ARRAY_BATCH == 0) {
      int t = lua_gettop(L) - ARRAY_BATCH;
      if (index == ARRAY_BATCH) {
        lua_createtable(L, 2 * ARRAY_BATCH, 0);
        luaL_setmetatable(L, LPEFT_JSON_ARRAY_MT);
        lua_replace(L, t);
      }
      flush_items(L, t, ARRAY_BATCH, (lua_Integer)(index - ARRAY_BATCH + 1));
    }
  } else if (index % OBJECT_BATCH == 0) {
    int t = lua_gettop(L) - 2 * OBJECT_BATCH;
    if (index == OBJECT_BATCH) {
      lua_createtable(L, 0, 2 * OBJECT_BATCH + (((lreader *)ud)->depth == 1 ? ((lreader *)ud)->room : 0));
      lua_replace(L, t);
    }
    flush_members(L, t, OBJECT_BATCH);
  }
  return NULL;
}

static const char *on_end(void *ud, int is_object, size_t count) {
  lreader *r = ud;
  lua_State *L = r->L;
  r->depth--;
  if (is_object) {
    int rest = (int)(count % OBJECT_BATCH);
    int t = lua_gettop(L) - 2 * rest;
    if (count < OBJECT_BATCH) {
      lua_createtable(L, 0, rest + (r->depth == 0 ? r->room : 0));
      lua_replace(L, t);
    }
    flush_members(L, t, rest);
    if (r->depth == 0) r->top_members = (lua_Integer)count;
  } else {
    int rest = (int)(count % ARRAY_BATCH);
    int t = lua_gettop(L) - rest;
    if (count < ARRAY_BATCH) {
      lua_createtable(L, rest, 0);
      luaL_setmetatable(L, LPEFT_JSON_ARRAY_MT);
      lua_replace(L, t);
    }
    flush_items(L, t, rest, (lua_Integer)(count - (size_t)rest + 1));
  }
  return NULL;
}

static const char *on_string(void *ud, const peft_json_string *s, int is_key) {
  lua_State *L = ((lreader *)ud)->L;
  (void)is_key;
  if (!s->escaped) {
    push_short(ud, s->raw, s->len);
  } else {
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, s->len);
    peft_json_unescape(s, p);
    luaL_pushresultsize(&b, s->len);
  }
  return NULL;
}

/* A big integer: a userdata holding its digits (as written), so that it
 * goes through copies as a value and is written back exactly (its metatable,
 * with __tostring and __eq, is made by lpeft_json_open). */
static void push_bigint(lua_State *L, const char *digits, size_t len) {
  char *p = lpeft_udata_new(L, len + 1, 0, LPEFT_JSON_BIGINT_MT, NULL, 0);
  memcpy(p, digits, len);
}

static const char *on_number(void *ud, const peft_json_number *n) {
  lua_State *L = ((lreader *)ud)->L;
  switch (n->kind) {
    case PEFT_JSON_INT: lua_pushinteger(L, (lua_Integer)n->integer); break;
    case PEFT_JSON_FLOAT: lua_pushnumber(L, (lua_Number)n->number); break;
    case PEFT_JSON_BIGINT: push_bigint(L, n->text, n->text_len); break;
  }
  return NULL;
}

static const char *on_literal(void *ud, peft_json_literal which) {
  lua_State *L = ((lreader *)ud)->L;
  if (which == PEFT_JSON_NULL) lua_pushlightuserdata(L, NULL);
  else lua_pushboolean(L, which == PEFT_JSON_TRUE);
  return NULL;
}

static const peft_json_handler lua_handler = {on_begin, on_end, on_member, on_string, on_number, on_literal};

/* json_decode(text) -> value | nil, message, line, column;
 * json_decode_counted(text [, room]) -> value, members (of a top-level object;
 * nil for another value) | nil, message, line, column: the loader's, which
 * hands the count to the constructor's field pass; room: slots the top-level
 * object is made with besides its members (the defaults the constructor adds
 * to it in place; at most 4096). */
static int decode(lua_State *L, int counted) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  lua_Integer room = counted ? luaL_optinteger(L, 2, 0) : 0;
  luaL_argcheck(L, room >= 0 && room <= 4096, 2, "room must be 0 to 4096");
  lua_settop(L, 1);
  lreader r = {L, 0, -1, (int)room, NULL, 3};
  r.sc = push_scache(L); /* 2, 3 */
  peft_json_error err;
  if (peft_json_parse(s, len, PEFT_JSON_PYTHON, LPEFT_JSON_MAX_DEPTH, &lua_handler, &r, &err) != 0) {
    if (err.oom) return luaL_error(L, "not enough memory");
    lua_settop(L, 1);
    lua_pushnil(L);
    lua_pushstring(L, err.message);
    lua_pushinteger(L, err.line);
    lua_pushinteger(L, err.column);
    return 4;
  }
  if (!counted) return 1;
  if (r.top_members < 0) lua_pushnil(L);
  else lua_pushinteger(L, r.top_members);
  return 2;
}

int lpeft_json_decode(lua_State *L) { return decode(L, 0); }

int lpeft_json_decode_counted(lua_State *L) { return decode(L, 1); }

/* The digits of a big integer, or NULL when the value is not one. */
static const char *bigint_digits(lua_State *L, int idx) {
  return luaL_testudata(L, idx, LPEFT_JSON_BIGINT_MT);
}

static int bigint_tostring(lua_State *L) {
  lua_pushstring(L, luaL_checkudata(L, 1, LPEFT_JSON_BIGINT_MT));
  return 1;
}

static int bigint_eq(lua_State *L) {
  const char *a = bigint_digits(L, 1), *b = bigint_digits(L, 2);
  lua_pushboolean(L, a && b && strcmp(a, b) == 0);
  return 1;
}

/* --- encoding ---------------------------------------------------------- */

/* A growable output buffer living in a userdata, so that an error raised
 * mid-way (a bad value, out of memory) frees it through __gc. */
typedef struct outbuf {
  char *p;
  size_t n, cap;
} outbuf;

#define OUTBUF_MT "peft.json.outbuf"

static int outbuf_gc(lua_State *L) {
  outbuf *b = luaL_checkudata(L, 1, OUTBUF_MT);
  free(b->p);
  b->p = NULL;
  b->n = b->cap = 0;
  return 0;
}

static void out_reserve(lua_State *L, outbuf *b, size_t extra) {
  if (b->cap - b->n >= extra) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->n < extra) {
    if (cap > ((size_t)-1) / 2) luaL_error(L, "JSON output too large");
    cap *= 2;
  }
  char *p = realloc(b->p, cap);
  if (p == NULL) luaL_error(L, "not enough memory");
  b->p = p;
  b->cap = cap;
}

static void out_add(lua_State *L, outbuf *b, const char *s, size_t n) {
  out_reserve(L, b, n);
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

static void out_char(lua_State *L, outbuf *b, char c) {
  out_reserve(L, b, 1);
  b->p[b->n++] = c;
}

typedef struct writer {
  lua_State *L;
  outbuf *b;
  int indent; /* < 0: compact */
  int depth;
  int escape_bytes; /* bytes that are not UTF-8 become \udcXX instead of an error */
} writer;

static void write_string(writer *w, const char *s, size_t len) {
  lua_State *L = w->L;
  outbuf *b = w->b;
  static const char hex[] = "0123456789abcdef";
  out_char(L, b, '"');
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  while (p < end) {
    unsigned c = *p;
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      const unsigned char *q = p;
      while (q < end && *q >= 0x20 && *q < 0x7F && *q != '"' && *q != '\\') q++;
      out_add(L, b, (const char *)p, (size_t)(q - p));
      p = q;
      continue;
    }
    char esc[12];
    size_t n = 0;
    switch (c) {
      case '"': esc[n++] = '\\'; esc[n++] = '"'; p++; break;
      case '\\': esc[n++] = '\\'; esc[n++] = '\\'; p++; break;
      case '\n': esc[n++] = '\\'; esc[n++] = 'n'; p++; break;
      case '\r': esc[n++] = '\\'; esc[n++] = 'r'; p++; break;
      case '\t': esc[n++] = '\\'; esc[n++] = 't'; p++; break;
      case '\b': esc[n++] = '\\'; esc[n++] = 'b'; p++; break;
      case '\f': esc[n++] = '\\'; esc[n++] = 'f'; p++; break;
      default: {
        unsigned cp;
        int k = peft_json_utf8_len(p, end, &cp, 1);
        if (k == 0 && !w->escape_bytes) luaL_error(L, "cannot encode a string that is not valid UTF-8");
        if (k == 0) { /* Python's surrogateescape: byte 0xNN is U+DCNN */
          cp = 0xDC00 + *p;
          k = 1;
        }
        p += k;
        if (cp >= 0x10000) {
          unsigned v = cp - 0x10000;
          unsigned hi = 0xD800 + (v >> 10), lo = 0xDC00 + (v & 0x3FF);
          esc[n++] = '\\'; esc[n++] = 'u';
          esc[n++] = hex[(hi >> 12) & 15]; esc[n++] = hex[(hi >> 8) & 15];
          esc[n++] = hex[(hi >> 4) & 15]; esc[n++] = hex[hi & 15];
          out_add(L, b, esc, n);
          n = 0;
          cp = lo;
        }
        esc[n++] = '\\'; esc[n++] = 'u';
        esc[n++] = hex[(cp >> 12) & 15]; esc[n++] = hex[(cp >> 8) & 15];
        esc[n++] = hex[(cp >> 4) & 15]; esc[n++] = hex[cp & 15];
      }
    }
    out_add(L, b, esc, n);
  }
  out_char(L, b, '"');
}

static void write_newline(writer *w) {
  out_char(w->L, w->b, '\n');
  size_t n = (size_t)w->indent * (size_t)w->depth;
  out_reserve(w->L, w->b, n);
  memset(w->b->p + w->b->n, ' ', n);
  w->b->n += n;
}

static void write_value(writer *w, int idx);

typedef struct keyref {
  const char *s;
  size_t len;
} keyref;

static int keycmp(const void *a, const void *b) {
  const keyref *x = a, *y = b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->s, y->s, n);
  if (c != 0) return c;
  return x->len < y->len ? -1 : x->len > y->len;
}

/* Classifies a table: 1 array of n items, 0 object with n string keys. */
static int table_kind(lua_State *L, int idx, size_t *n) {
  int has_mt = 0;
  if (lua_getmetatable(L, idx)) {
    luaL_getmetatable(L, LPEFT_JSON_ARRAY_MT);
    has_mt = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  size_t strings = 0, ints = 0;
  lua_Integer maxi = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      strings++;
    } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1) {
      ints++;
      if (lua_tointeger(L, -1) > maxi) maxi = lua_tointeger(L, -1);
    } else {
      luaL_error(L, "cannot encode a table with a key of type %s", luaL_typename(L, -1));
    }
  }
  if (strings && ints) luaL_error(L, "cannot encode a table that mixes string and integer keys");
  if (ints) {
    if ((size_t)maxi != ints) luaL_error(L, "cannot encode a sparse array (holes before index %d)", (int)maxi);
    *n = ints;
    return 1;
  }
  *n = strings;
  return has_mt;
}

static void write_table(writer *w, int idx) {
  lua_State *L = w->L;
  outbuf *b = w->b;
  if (w->depth >= LPEFT_JSON_MAX_DEPTH)
    luaL_error(L, "cannot encode: nesting deeper than %d (a cycle?)", LPEFT_JSON_MAX_DEPTH);
  if (!lua_checkstack(L, 6)) luaL_error(L, "cannot encode: stack overflow");
  size_t n;
  int is_array = table_kind(L, idx, &n);
  if (n == 0) {
    out_add(L, b, is_array ? "[]" : "{}", 2);
    return;
  }
  out_char(L, b, is_array ? '[' : '{');
  w->depth++;
  if (is_array) {
    for (size_t i = 1; i <= n; i++) {
      if (i > 1) out_add(L, b, w->indent < 0 ? ", " : ",", w->indent < 0 ? 2 : 1);
      if (w->indent >= 0) write_newline(w);
      lua_rawgeti(L, idx, (lua_Integer)i);
      write_value(w, lua_gettop(L));
      lua_pop(L, 1);
    }
  } else {
    keyref *keys = lua_newuserdatauv(L, n * sizeof *keys, 0);
    int keys_idx = lua_gettop(L);
    size_t k = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
      lua_pop(L, 1);
      keys[k].s = lua_tolstring(L, -1, &keys[k].len); /* string keys only: no conversion */
      k++;
    }
    qsort(keys, n, sizeof *keys, keycmp);
    for (size_t i = 0; i < n; i++) {
      if (i > 0) out_add(L, b, w->indent < 0 ? ", " : ",", w->indent < 0 ? 2 : 1);
      if (w->indent >= 0) write_newline(w);
      write_string(w, keys[i].s, keys[i].len);
      out_add(L, b, ": ", 2);
      lua_pushlstring(L, keys[i].s, keys[i].len);
      lua_rawget(L, idx);
      write_value(w, lua_gettop(L));
      lua_pop(L, 1);
    }
    lua_remove(L, keys_idx);
  }
  w->depth--;
  if (w->indent >= 0) write_newline(w);
  out_char(L, b, is_array ? ']' : '}');
}

static void write_value(writer *w, int idx) {
  lua_State *L = w->L;
  char num[48];
  switch (lua_type(L, idx)) {
    case LUA_TNIL: out_add(L, w->b, "null", 4); break;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) != NULL) luaL_error(L, "cannot encode a light userdata");
      out_add(L, w->b, "null", 4);
      break;
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx)) out_add(L, w->b, "true", 4);
      else out_add(L, w->b, "false", 5);
      break;
    case LUA_TNUMBER: {
      int n;
      if (lua_isinteger(L, idx))
        n = snprintf(num, sizeof num, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, idx));
      else
        n = peft_json_format_double((double)lua_tonumber(L, idx), num, sizeof num);
      out_add(L, w->b, num, (size_t)n);
      break;
    }
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      write_string(w, s, len);
      break;
    }
    case LUA_TTABLE: write_table(w, idx); break;
    case LUA_TUSERDATA: {
      const char *digits = bigint_digits(L, idx);
      if (digits == NULL) luaL_error(L, "cannot encode a value of type %s", luaL_typename(L, idx));
      out_add(L, w->b, digits, strlen(digits));
      break;
    }
    default: luaL_error(L, "cannot encode a value of type %s", luaL_typename(L, idx));
  }
}

int lpeft_json_encode(lua_State *L) {
  int indent = -1;
  if (!lua_isnoneornil(L, 2)) {
    lua_Integer i = luaL_checkinteger(L, 2);
    luaL_argcheck(L, i >= 0 && i <= 16, 2, "indent must be between 0 and 16");
    indent = (int)i;
  }
  int escape_bytes = lua_toboolean(L, 3);
  lua_settop(L, 1);
  outbuf *b = lpeft_udata_new(L, sizeof *b, 0, OUTBUF_MT, outbuf_gc, 0);
  writer w = {L, b, indent, 0, escape_bytes};
  write_value(&w, 1);
  lua_pushlstring(L, b->p ? b->p : "", b->n);
  free(b->p);
  b->p = NULL;
  b->n = b->cap = 0;
  return 1;
}

void lpeft_json_open(lua_State *L) {
  if (luaL_newmetatable(L, LPEFT_JSON_ARRAY_MT)) {
    lua_pushliteral(L, "json array");
    lua_setfield(L, -2, "__name");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, LPEFT_JSON_BIGINT_MT)) {
    lua_pushcfunction(L, bigint_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, bigint_eq);
    lua_setfield(L, -2, "__eq");
  }
  lua_pop(L, 1);
}
