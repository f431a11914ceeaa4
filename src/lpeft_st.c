/*
 * lpeft_st.c - the safetensors reader for Lua (part of peft.core).
 *
 *   st_read_header(path) -> header | nil, message
 *   st_read_index(path)  -> header | nil, message   (sharded layout)
 *   st_parse_header(bytes [, file_size]) -> header | nil, message
 *
 * header = { tensors = { { name=, dtype=, shape={...}, data_offsets={b, e},
 *            nelems=, nbytes=, shard= }, ... } (header order),
 *            metadata = { key = value }, header_size=, file_size=,
 *            data_size=, shards = { ... } }
 * A bad file is an expected failure (nil, message); misuse raises.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lpeft_st.h"
#include "lpeft_udata.h"
#include "peft_safetensors.h"

/* The parsed header lives in a userdata until it has been copied into Lua
 * tables, so that an out-of-memory error while copying frees it. */
static int header_gc(lua_State *L) {
  peft_st_header *h = luaL_checkudata(L, 1, "peft.st.header");
  peft_st_free(h);
  return 0;
}

static peft_st_header *new_header(lua_State *L) {
  return lpeft_udata_new(L, sizeof(peft_st_header), 0, "peft.st.header", header_gc, 0);
}

static void push_u64(lua_State *L, uint64_t v) {
  if (v <= (uint64_t)LUA_MAXINTEGER) lua_pushinteger(L, (lua_Integer)v);
  else lua_pushnumber(L, (lua_Number)v);
}

static int push_header(lua_State *L, peft_st_header *h) {
  lua_createtable(L, 0, 7);
  lua_createtable(L, (int)h->ntensors, 0);
  for (size_t i = 0; i < h->ntensors; i++) {
    const peft_st_tensor *t = &h->tensors[i];
    lua_createtable(L, 0, 7);
    lua_pushstring(L, t->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, t->dtype);
    lua_setfield(L, -2, "dtype");
    lua_createtable(L, (int)t->ndim, 0);
    for (size_t d = 0; d < t->ndim; d++) {
      push_u64(L, t->shape[d]);
      lua_rawseti(L, -2, (lua_Integer)d + 1);
    }
    lua_setfield(L, -2, "shape");
    lua_createtable(L, 2, 0);
    push_u64(L, t->begin);
    lua_rawseti(L, -2, 1);
    push_u64(L, t->end);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -2, "data_offsets");
    push_u64(L, t->nelems);
    lua_setfield(L, -2, "nelems");
    push_u64(L, t->end - t->begin);
    lua_setfield(L, -2, "nbytes");
    if (t->shard) {
      lua_pushstring(L, t->shard);
      lua_setfield(L, -2, "shard");
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "tensors");
  lua_createtable(L, 0, (int)h->nmeta);
  for (size_t i = 0; i < h->nmeta; i++) {
    lua_pushstring(L, h->meta[i].value);
    lua_setfield(L, -2, h->meta[i].key);
  }
  lua_setfield(L, -2, "metadata");
  lua_createtable(L, (int)h->nshards, 0);
  for (size_t i = 0; i < h->nshards; i++) {
    lua_pushstring(L, h->shards[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "shards");
  push_u64(L, h->header_size);
  lua_setfield(L, -2, "header_size");
  push_u64(L, h->file_size);
  lua_setfield(L, -2, "file_size");
  push_u64(L, h->data_size);
  lua_setfield(L, -2, "data_size");
  return 1;
}

static int finish(lua_State *L, peft_st_header *h, int rc, const peft_error *err, const char *path) {
  if (rc != 0) {
    if (err->status == PEFT_ENOMEM) return luaL_error(L, "not enough memory");
    lua_pushnil(L);
    if (path) lua_pushfstring(L, "%s: %s", path, err->message);
    else lua_pushstring(L, err->message);
    return 2;
  }
  push_header(L, h);
  peft_st_free(h); /* the userdata stays, empty */
  return 1;
}

int lpeft_st_read_header(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  peft_st_header *h = new_header(L);
  peft_error err;
  int rc = peft_st_read_file(path, h, &err);
  return finish(L, h, rc, &err, path);
}

int lpeft_st_read_index(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  peft_st_header *h = new_header(L);
  peft_error err;
  int rc = peft_st_read_index(path, h, &err);
  return finish(L, h, rc, &err, path);
}

int lpeft_st_parse_header(lua_State *L) {
  size_t len;
  const char *bytes = luaL_checklstring(L, 1, &len);
  lua_Integer fsize = luaL_optinteger(L, 2, (lua_Integer)len);
  luaL_argcheck(L, fsize >= 0, 2, "file size must be non-negative");
  peft_st_header *h = new_header(L);
  peft_error err;
  int rc = peft_st_parse((const unsigned char *)bytes, len, (uint64_t)fsize, h, &err);
  return finish(L, h, rc, &err, NULL);
}
