/* lpeft_st.h - the safetensors reader's Lua functions (see lpeft_st.c). */
#ifndef LPEFT_ST_H
#define LPEFT_ST_H

#include <lua.h>

int lpeft_st_read_header(lua_State *L);
int lpeft_st_read_index(lua_State *L);
int lpeft_st_parse_header(lua_State *L);

#endif
