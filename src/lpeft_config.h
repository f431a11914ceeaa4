/* lpeft_config.h - the config constructor's field pass in C (see
 * lpeft_config.c). */
#ifndef LPEFT_CONFIG_H
#define LPEFT_CONFIG_H

#include <lua.h>

/* What a filler accepts as it is, per field (bits may be combined); every
 * other value is handed back to Lua for the full check. */
enum {
  FILL_STR = 1,        /* any string */
  FILL_NUMBER = 2,     /* any number */
  FILL_INT = 4,        /* an integer */
  FILL_BOOL = 8,       /* a boolean */
  FILL_NULLABLE = 16,  /* null (the JSON null), which removes the default */
  FILL_STR_LIST = 32,  /* a JSON array (the array metatable) of strings */
  FILL_SORTED = 64,    /* ... kept as a set: one not strictly ascending is sorted, repeats dropped */
  FILL_DICT = 128,     /* a table without metatable whose keys are strings */
  FILL_LITERAL = 256,  /* a string in the field's set of literals */
  FILL_EMPTY_DICT = 512, /* an empty table without metatable (a nested config's defaults, kept as a dict) */
  FILL_ALL = 1023
};

int lpeft_config_filler(lua_State *L); /* config_filler(names, codes, defaults, literals) -> fill */

#endif
