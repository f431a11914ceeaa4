/*
 * peft_json.h - JSON for adapter_config.json, as Python's json module reads
 * and writes it.
 *
 * Decoding keeps the kind of every number (an integer literal becomes a Lua
 * integer, anything with a fraction or exponent a float), decodes null as the
 * light userdata NULL (the same value as cjson.null), and gives every array
 * the metatable registered as PEFT_JSON_ARRAY_MT so that an empty array stays
 * an array. NaN, Infinity and -Infinity are accepted, as Python accepts them.
 *
 * Encoding writes what json.dumps(value, indent=N, sort_keys=True) writes:
 * keys sorted by code point, floats in Python's repr (0.0, 1e-05, 1e+16),
 * non-ASCII escaped as \uXXXX, NaN/Infinity spelled as Python spells them.
 */
#ifndef PEFT_JSON_H
#define PEFT_JSON_H

#include <lua.h>

#define PEFT_JSON_ARRAY_MT "peft.json.array"
/* Deepest nesting of arrays and objects accepted when reading or writing. */
#define PEFT_JSON_MAX_DEPTH 512
/* Longest string (or key) accepted when reading, in bytes once decoded. */
#define PEFT_JSON_MAX_STRING (1024 * 1024)

/* Creates the array metatable in the registry (idempotent). */
void peft_json_init(lua_State *L);

/* decode(text) -> value [, members] | nil, message, line, column
 * members: when the document is an object, how many members it has (a
 * repeated key counted each time), which spares the loader a count.
 * A malformed document is an expected failure: it returns nil and a message
 * ("line 3, column 7: expected ',' or '}' after an object member"). */
int peft_json_l_decode(lua_State *L);

/* encode(value [, indent]) -> string
 * indent: a non-negative integer (pretty, one item per line) or nil (one line,
 * Python's default separators ", " and ": "). Values that JSON cannot hold
 * (functions, mixed-key tables, invalid UTF-8, too deep) raise an error. */
int peft_json_l_encode(lua_State *L);

/* Python's repr() of a float into buf (at least 32 bytes); returns length. */
int peft_json_format_double(double x, char *buf, size_t size);

#endif
