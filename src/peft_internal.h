/* peft_internal.h - shared by the library (peft_api.c) and the executable;
 * not installed. */
#ifndef PEFT_INTERNAL_H
#define PEFT_INTERNAL_H

#include <lua.h>

/* Preloads peft.core and adds the searcher for the Lua sources compiled
 * into the binary. Raises on error: call it protected. */
int peft_install_modules(lua_State *L);
/* Whether a module is compiled in. */
int peft_has_embedded(const char *name);

#endif
