/*
 * lpeft_json.h - JSON for Lua (part of peft.core), as Python's json module
 * reads and writes adapter_config.json; the reading is peft_json.c's.
 *
 * Decoding keeps the kind of every number (an integer literal becomes a Lua
 * integer, anything with a fraction or exponent a float, an integer beyond 64
 * bits a big-integer userdata that keeps its digits and is written back with
 * them), decodes null as the light userdata NULL (the same value as
 * cjson.null), and gives every array the metatable registered as
 * LPEFT_JSON_ARRAY_MT so that an empty array stays an array. NaN, Infinity
 * and -Infinity are accepted, as Python accepts them.
 *
 * Encoding writes what json.dumps(value, indent=N, sort_keys=True) writes:
 * keys sorted by code point, floats in Python's repr (0.0, 1e-05, 1e+16),
 * non-ASCII escaped as \uXXXX, NaN/Infinity spelled as Python spells them.
 */
#ifndef LPEFT_JSON_H
#define LPEFT_JSON_H

#include <lua.h>

#define LPEFT_JSON_ARRAY_MT "peft.json.array"
#define LPEFT_JSON_BIGINT_MT "peft.json.integer"
/* Deepest nesting of arrays and objects accepted when reading or writing. */
#define LPEFT_JSON_MAX_DEPTH 512

/* Creates the metatables in the registry (idempotent). */
void lpeft_json_open(lua_State *L);

/* json_decode(text) -> value | nil, message, line, column
 * A malformed document is an expected failure: it returns nil and a message
 * ("line 3, column 7: expected ',' or '}' after an object member").
 * json_decode_counted(text) -> value, members | nil, message, line, column
 * members: when the document is an object, how many members it has (a
 * repeated key counted each time; nil for another value), which spares the
 * loader a count. */
int lpeft_json_decode(lua_State *L);
int lpeft_json_decode_counted(lua_State *L);

/* encode(value [, indent [, escape_bytes]]) -> string
 * indent: a non-negative integer (pretty, one item per line) or nil (one line,
 * Python's default separators ", " and ": "). Values that JSON cannot hold
 * (functions, mixed-key tables, too deep) raise an error; so do strings that
 * are not UTF-8, unless escape_bytes is true: then each byte that is not part
 * of a UTF-8 sequence is written as \udcXX (U+DC80 to U+DCFF, as Python's
 * surrogateescape decodes a file name: os.fsencode gives the bytes back). */
int lpeft_json_encode(lua_State *L);

#endif
