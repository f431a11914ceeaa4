/* lpeft_re.h - Python-style regular expressions for Lua (see lpeft_re.c).
 * The functions take the pattern cache table as upvalue 1. */
#ifndef LPEFT_RE_H
#define LPEFT_RE_H

#include <lua.h>

int peft_re_l_match(lua_State *L);
int peft_re_l_group(lua_State *L);
/* Registers the compiled-pattern metatable. */
void peft_re_open(lua_State *L);

#endif
