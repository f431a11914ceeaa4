/* lpeft_re.h - Python-style regular expressions for Lua (see lpeft_re.c).
 * The functions take the pattern cache table as upvalue 1. */
#ifndef LPEFT_RE_H
#define LPEFT_RE_H

#include <lua.h>

int lpeft_re_match(lua_State *L);
int lpeft_re_group(lua_State *L);

#endif
