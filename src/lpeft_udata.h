/* lpeft_udata.h - the one way the C modules make a userdata that owns
 * memory outside Lua: zeroed, with a metatable named tname whose __gc (and,
 * when closable, __close) is gc, so that the memory goes with the userdata
 * whatever happens to the code that made it. */
#ifndef LPEFT_UDATA_H
#define LPEFT_UDATA_H

#include <string.h>

#include <lauxlib.h>
#include <lua.h>

static inline void *peft_gc_udata(lua_State *L, size_t size, const char *tname, lua_CFunction gc,
                                  int closable) {
  void *p = lua_newuserdatauv(L, size, 0);
  memset(p, 0, size);
  if (luaL_newmetatable(L, tname)) {
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
