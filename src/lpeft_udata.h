/* lpeft_udata.h - the one way the Lua bindings make a userdata with a
 * metatable: zeroed memory (so that a __gc run on a half-built object finds
 * NULL pointers and zero counts), nuv user values, and the metatable named
 * tname (made at the first use, with __name set by luaL_newmetatable and,
 * when gc is not NULL, __gc and, for closable objects, __close set to gc),
 * so that memory owned outside Lua goes with the userdata whatever happens
 * to the code that made it. */
#ifndef LPEFT_UDATA_H
#define LPEFT_UDATA_H

#include <string.h>

#include <lauxlib.h>
#include <lua.h>

static inline void *lpeft_udata_new(lua_State *L, size_t size, int nuv, const char *tname, lua_CFunction gc,
                                    int closable) {
  void *p = lua_newuserdatauv(L, size, nuv);
  memset(p, 0, size);
  if (luaL_newmetatable(L, tname) && gc != NULL) {
    lua_pushcfunction(L, gc);
    lua_setfield(L, -2, "__gc");
    if (closable) {
      lua_pushcfunction(L, gc);
      lua_setfield(L, -2, "__close");
    }
  }
  lua_setmetatable(L, -2);
  return p;
}

#endif
