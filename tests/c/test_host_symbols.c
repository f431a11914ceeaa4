/* test_host_symbols.c - a host that exports Lua API functions of its own (as
 * LuaJIT, Lua 5.1, nginx and Neovim do), all of which abort when called, then
 * loads libpeft.so with dlopen and uses it: libpeft's own Lua 5.4 must be the
 * one that runs (its symbols are local to the library). Built with -rdynamic
 * and PEFT_LIBRARY, the path of the library under test. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctest.h"
#include "peft.h"

/* the host's "Lua": every function aborts */
#define HOST_LUA(name)                                                     \
  void name(void);                                                         \
  void name(void) {                                                        \
    fprintf(stderr, "the host's own " #name " was called by libpeft\n"); \
    abort();                                                               \
  }
HOST_LUA(lua_newstate)
HOST_LUA(luaL_newstate)
HOST_LUA(luaL_openlibs)
HOST_LUA(lua_close)
HOST_LUA(lua_pcall)
HOST_LUA(lua_pcallk)
HOST_LUA(lua_callk)
HOST_LUA(lua_settop)
HOST_LUA(lua_gettop)
HOST_LUA(lua_pushstring)
HOST_LUA(lua_pushlstring)
HOST_LUA(lua_pushcclosure)
HOST_LUA(lua_getfield)
HOST_LUA(lua_setfield)
HOST_LUA(lua_rawgeti)
HOST_LUA(lua_tolstring)
HOST_LUA(lua_type)
HOST_LUA(lua_gc)
HOST_LUA(luaL_loadbufferx)
HOST_LUA(luaL_ref)
HOST_LUA(luaL_unref)
HOST_LUA(luaL_error)
HOST_LUA(luaL_checkversion_)
HOST_LUA(luaopen_base)
HOST_LUA(lua_newuserdatauv)
HOST_LUA(lua_getiuservalue)

TEST(libpeft_runs_its_own_lua) {
  void *lib = dlopen(PEFT_LIBRARY, RTLD_NOW | RTLD_GLOBAL);
  CHECK(lib != NULL);
  if (lib == NULL) {
    fprintf(stderr, "  %s\n", dlerror());
    return;
  }
  peft_runtime *(*open)(peft_error *) = (peft_runtime * (*)(peft_error *)) dlsym(lib, "peft_open");
  void (*close)(peft_runtime *) = (void (*)(peft_runtime *))dlsym(lib, "peft_close");
  peft_config *(*load)(peft_runtime *, const char *, size_t, const char *, int, peft_error *) =
      (peft_config * (*)(peft_runtime *, const char *, size_t, const char *, int, peft_error *))
          dlsym(lib, "peft_config_load_buffer");
  const char *(*cls)(const peft_config *) = (const char *(*)(const peft_config *))dlsym(lib, "peft_config_class");
  void (*cfg_free)(peft_config *) = (void (*)(peft_config *))dlsym(lib, "peft_config_free");
  CHECK(open && close && load && cls && cfg_free);
  /* the library's Lua is not visible from outside */
  CHECK(dlsym(lib, "lua_pcallk") == NULL);
  CHECK(dlsym(lib, "luaopen_peft_core") == NULL);
  if (!(open && close && load && cls && cfg_free)) return;
  peft_error err;
  peft_runtime *rt = open(&err);
  CHECK(rt != NULL);
  if (rt) {
    const char *text = "{\"peft_type\": \"LOHA\", \"r\": 4}";
    peft_config *cfg = load(rt, text, strlen(text), NULL, 0, &err);
    CHECK(cfg != NULL);
    if (cfg) CHECK_STR(cls(cfg), "LoHaConfig");
    cfg_free(cfg);
    close(rt);
  }
  dlclose(lib);
}

int main(void) {
  RUN(libpeft_runs_its_own_lua);
  return ctest_summary("test_host_symbols");
}
