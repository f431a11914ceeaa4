/* test_json.c - the JSON codec: Python's float repr, number kinds, the
 * exact text json.dumps(indent=2, sort_keys=True) writes, and errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "ctest.h"
#include "lpeft_json.h"
#include "peft_json.h"

static lua_State *L;

static const char *fmt_double(double x) {
  static char buf[64];
  peft_json_format_double(x, buf, sizeof buf);
  return buf;
}

TEST(python_float_repr) {
  CHECK_STR(fmt_double(0.0), "0.0");
  CHECK_STR(fmt_double(-0.0), "-0.0");
  CHECK_STR(fmt_double(1.0), "1.0");
  CHECK_STR(fmt_double(0.1), "0.1");
  CHECK_STR(fmt_double(0.05), "0.05");
  CHECK_STR(fmt_double(1e-05), "1e-05");
  CHECK_STR(fmt_double(0.0001), "0.0001");
  CHECK_STR(fmt_double(2e-4), "0.0002");
  CHECK_STR(fmt_double(1.5e-07), "1.5e-07");
  CHECK_STR(fmt_double(1e16), "1e+16");
  CHECK_STR(fmt_double(1e15), "1000000000000000.0");
  CHECK_STR(fmt_double(123.456), "123.456");
  CHECK_STR(fmt_double(1.0 / 3.0), "0.3333333333333333");
  CHECK_STR(fmt_double(2.0 / 3.0), "0.6666666666666666");
  CHECK_STR(fmt_double(1e100), "1e+100");
  CHECK_STR(fmt_double(5e-324), "5e-324");
  CHECK_STR(fmt_double(1.7976931348623157e308), "1.7976931348623157e+308");
  CHECK_STR(fmt_double(NAN), "NaN");
  CHECK_STR(fmt_double(INFINITY), "Infinity");
  CHECK_STR(fmt_double(-INFINITY), "-Infinity");
  CHECK_STR(fmt_double(32.0), "32.0");
  CHECK_STR(fmt_double(0.99), "0.99");
}

/* call(fn, text) leaves what fn returns on the stack; returns how many */
static int call(lua_CFunction fn, const char *text) {
  lua_settop(L, 0);
  lua_pushcfunction(L, fn);
  lua_pushstring(L, text);
  if (lua_pcall(L, 1, LUA_MULTRET, 0) != LUA_OK) return -1;
  return lua_gettop(L);
}

/* json_decode: the value, or nil, message, line, column */
static int decode(const char *text) { return call(lpeft_json_decode, text); }

/* json_decode_counted: the value and an object's member count, or the same failure */
static int decode_counted(const char *text) { return call(lpeft_json_decode_counted, text); }

static const char *encode_top(int indent) {
  lua_pushcfunction(L, lpeft_json_encode);
  lua_pushvalue(L, 1);
  if (indent >= 0) lua_pushinteger(L, indent);
  else lua_pushnil(L);
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) return lua_tostring(L, -1);
  return lua_tostring(L, -1);
}

TEST(number_kinds_survive) {
  CHECK_INT(decode("[8, 8.0, -3, 1e-05, 0.0, 12345678901234]"), 1);
  lua_rawgeti(L, 1, 1);
  CHECK(lua_isinteger(L, -1));
  lua_rawgeti(L, 1, 2);
  CHECK(!lua_isinteger(L, -1));
  CHECK(lua_tonumber(L, -1) == 8.0);
  lua_rawgeti(L, 1, 6);
  CHECK(lua_isinteger(L, -1));
  lua_settop(L, 1);
  CHECK_STR(encode_top(-1), "[8, 8.0, -3, 1e-05, 0.0, 12345678901234]");
}

TEST(python_layout) {
  CHECK_INT(decode_counted("{\"b\": [1, 2], \"a\": {}, \"c\": [], \"d\": {\"y\": null, \"x\": true}}"), 2);
  CHECK_INT((int)lua_tointeger(L, 2), 4); /* an object comes with its number of members */
  CHECK_INT(decode_counted("[1, 2]"), 2);
  CHECK(lua_isnil(L, 2)); /* another value has no count */
  CHECK_INT(decode("{\"b\": [1, 2], \"a\": {}, \"c\": [], \"d\": {\"y\": null, \"x\": true}}"), 1);
  CHECK_STR(encode_top(2),
            "{\n"
            "  \"a\": {},\n"
            "  \"b\": [\n"
            "    1,\n"
            "    2\n"
            "  ],\n"
            "  \"c\": [],\n"
            "  \"d\": {\n"
            "    \"x\": true,\n"
            "    \"y\": null\n"
            "  }\n"
            "}");
}

TEST(strings_escape_like_python) {
  CHECK_INT(decode("[\"caf\\u00e9\", \"a\\\"b\\\\c\\n\\t\", \"\\ud83d\\ude00\", \"/x\", \"\\u0001\"]"), 1);
  CHECK_STR(encode_top(-1),
            "[\"caf\\u00e9\", \"a\\\"b\\\\c\\n\\t\", \"\\ud83d\\ude00\", \"/x\", \"\\u0001\"]");
  /* raw UTF-8 input is escaped on output */
  CHECK_INT(decode("[\"na\xc3\xafve\"]"), 1);
  CHECK_STR(encode_top(-1), "[\"na\\u00efve\"]");
  /* a lone surrogate survives a round trip */
  CHECK_INT(decode("[\"\\udc80\"]"), 1);
  CHECK_STR(encode_top(-1), "[\"\\udc80\"]");
}

TEST(nan_and_infinity) {
  CHECK_INT(decode("[NaN, Infinity, -Infinity]"), 1);
  CHECK_STR(encode_top(-1), "[NaN, Infinity, -Infinity]");
}

static void expect_decode_error(const char *text, const char *message) {
  int n = decode(text);
  CHECK_INT(n, 4);
  CHECK(lua_isnil(L, 1));
  CHECK_STR(lua_tostring(L, 2), message);
}

TEST(decode_errors_name_the_position) {
  expect_decode_error("", "line 1, column 1: expected a value, got the end of the input");
  expect_decode_error("{\"a\": 1,\n \"b\": }", "line 2, column 7: expected a value");
  expect_decode_error("{\"a\": 1", "line 1, column 8: unterminated object (expected ',' or '}')");
  expect_decode_error("{\"a\": None}", "line 1, column 7: expected a value");
  expect_decode_error("[1, 2] x", "line 1, column 8: extra data after the JSON value");
  expect_decode_error("{\"a\" 1}", "line 1, column 6: expected ':' after an object key");
  expect_decode_error("[01]", "line 1, column 3: leading zero in number");
  expect_decode_error("[\"a\nb\"]", "line 1, column 4: control character in string (must be escaped)");
  expect_decode_error("[\"\\x\"]", "line 1, column 3: invalid escape in string");
  expect_decode_error("[\"\xff\"]", "line 1, column 3: invalid UTF-8 in string");
  expect_decode_error("\xef\xbb\xbf{}", "line 1, column 1: unexpected UTF-8 byte order mark");
  expect_decode_error("{1: 2}", "line 1, column 2: expected a string key in double quotes");
}

TEST(depth_limit) {
  char *deep = malloc(2 * LPEFT_JSON_MAX_DEPTH + 3);
  size_t n = 0;
  for (int i = 0; i < LPEFT_JSON_MAX_DEPTH; i++) deep[n++] = '[';
  for (int i = 0; i < LPEFT_JSON_MAX_DEPTH; i++) deep[n++] = ']';
  deep[n] = '\0';
  CHECK_INT(decode(deep), 1); /* exactly at the limit */
  n = 0;
  for (int i = 0; i <= LPEFT_JSON_MAX_DEPTH; i++) deep[n++] = '[';
  for (int i = 0; i <= LPEFT_JSON_MAX_DEPTH; i++) deep[n++] = ']';
  deep[n] = '\0';
  CHECK_INT(decode(deep), 4); /* one over */
  CHECK(strstr(lua_tostring(L, 2), "nesting too deep") != NULL);
  free(deep);
}

/* Objects are built in batches of members: sizes around the batch, a key
 * repeated across batches (the last value wins, as in Python), nesting at
 * the limit, and errors after a batch was set. */
TEST(objects_of_every_size) {
  char buf[8192];
  for (int n = 0; n <= 70; n++) {
    size_t len = 0;
    buf[len++] = '{';
    for (int i = 0; i < n; i++) len += (size_t)snprintf(buf + len, sizeof buf - len, "%s\"k%d\": %d", i ? "," : "", i, i);
    buf[len++] = '}';
    buf[len] = '\0';
    CHECK_INT(decode_counted(buf), 2);
    CHECK_INT((int)lua_tointeger(L, 2), n);
    lua_settop(L, 1);
    int count = 0;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
      char key[16];
      snprintf(key, sizeof key, "k%d", (int)lua_tointeger(L, -1));
      CHECK_STR(lua_tostring(L, -2), key);
      lua_pop(L, 1);
      count++;
    }
    CHECK_INT(count, n);
  }
  CHECK_INT(decode_counted("{\"a\": 1, \"b\": 2, \"a\": 3}"), 2);
  CHECK_INT((int)lua_tointeger(L, 2), 3); /* members, a repeated key counted each time */
  CHECK_INT(lua_getfield(L, 1, "a"), LUA_TNUMBER);
  CHECK_INT((int)lua_tointeger(L, -1), 3);
  /* "a" first, then 40 other keys, then "a" again: across a batch */
  size_t len = (size_t)snprintf(buf, sizeof buf, "{\"a\": 1");
  for (int i = 0; i < 40; i++) len += (size_t)snprintf(buf + len, sizeof buf - len, ", \"x%d\": {\"y\": [%d]}", i, i);
  snprintf(buf + len, sizeof buf - len, ", \"a\": 2}");
  CHECK_INT(decode_counted(buf), 2);
  CHECK_INT((int)lua_tointeger(L, 2), 42);
  CHECK_INT(lua_getfield(L, 1, "a"), LUA_TNUMBER);
  CHECK_INT((int)lua_tointeger(L, -1), 2);
  CHECK_INT(lua_getfield(L, 1, "x39"), LUA_TTABLE);
  CHECK_INT(lua_getfield(L, -1, "y"), LUA_TTABLE);
  CHECK_INT(lua_rawgeti(L, -1, 1), LUA_TNUMBER);
  CHECK_INT((int)lua_tointeger(L, -1), 39);
  /* an error after the first batch was set */
  len = 0;
  buf[len++] = '{';
  for (int i = 0; i < 40; i++) len += (size_t)snprintf(buf + len, sizeof buf - len, "\"k%d\": %d, ", i, i);
  snprintf(buf + len, sizeof buf - len, "\"z\": }");
  CHECK_INT(decode(buf), 4);
  CHECK(strstr(lua_tostring(L, 2), "expected a value") != NULL);
  /* objects nested to the limit, and one over */
  char *deep = malloc(8 * LPEFT_JSON_MAX_DEPTH + 16);
  len = 0;
  for (int i = 0; i < LPEFT_JSON_MAX_DEPTH; i++) len += (size_t)sprintf(deep + len, "{\"a\":");
  deep[len++] = '1';
  for (int i = 0; i < LPEFT_JSON_MAX_DEPTH; i++) deep[len++] = '}';
  deep[len] = '\0';
  CHECK_INT(decode_counted(deep), 2);
  CHECK_INT((int)lua_tointeger(L, 2), 1); /* the outermost object's members only */
  len = 0;
  for (int i = 0; i <= LPEFT_JSON_MAX_DEPTH; i++) len += (size_t)sprintf(deep + len, "{\"a\":");
  deep[len++] = '1';
  for (int i = 0; i <= LPEFT_JSON_MAX_DEPTH; i++) deep[len++] = '}';
  deep[len] = '\0';
  CHECK_INT(decode(deep), 4);
  CHECK(strstr(lua_tostring(L, 2), "nesting too deep") != NULL);
  free(deep);
}

TEST(encode_rejects_what_json_cannot_hold) {
  lua_settop(L, 0);
  lua_newtable(L);
  lua_pushinteger(L, 1);
  lua_rawseti(L, 1, 1);
  lua_pushinteger(L, 2);
  lua_setfield(L, 1, "x");
  CHECK_STR(encode_top(-1), "cannot encode a table that mixes string and integer keys");
  lua_settop(L, 0);
  lua_newtable(L);
  lua_pushinteger(L, 1);
  lua_rawseti(L, 1, 3);
  CHECK_STR(encode_top(-1), "cannot encode a sparse array (holes before index 3)");
  lua_settop(L, 0);
  lua_newtable(L); /* a cycle */
  lua_pushvalue(L, 1);
  lua_setfield(L, 1, "self");
  CHECK(strstr(encode_top(-1), "nesting deeper") != NULL);
  lua_settop(L, 0);
  lua_pushlstring(L, "\xff", 1);
  CHECK_STR(encode_top(-1), "cannot encode a string that is not valid UTF-8");
}

/* Issue 13, item 4: encoded surrogates are not UTF-8 (Python refuses the
 * file), an escaped lone surrogate is a string Python keeps and writes back;
 * the writer escapes stray bytes as \udcXX only when asked. */
TEST(surrogates_and_stray_bytes) {
  expect_decode_error("[\"\xed\xa0\x80\"]", "line 1, column 3: invalid UTF-8 in string");
  expect_decode_error("[\"ok\xed\xbf\xbf\"]", "line 1, column 5: invalid UTF-8 in string");
  CHECK_INT(decode("[\"\\ud800x\", \"\\udbff\\udfff\"]"), 1);
  lua_rawgeti(L, 1, 1);
  CHECK_STR(lua_tostring(L, -1), "\xed\xa0\x80x");
  lua_rawgeti(L, 1, 2);
  CHECK_STR(lua_tostring(L, -1), "\xf4\x8f\xbf\xbf");
  lua_settop(L, 1);
  CHECK_STR(encode_top(-1), "[\"\\ud800x\", \"\\udbff\\udfff\"]");
  lua_settop(L, 0);
  lua_pushlstring(L, "caf\xe9/\xff", 6);
  lua_pushcfunction(L, lpeft_json_encode);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  lua_pushboolean(L, 1);
  CHECK_INT(lua_pcall(L, 3, 1, 0), LUA_OK);
  CHECK_STR(lua_tostring(L, -1), "\"caf\\udce9/\\udcff\"");
}

/* Issue 13, item 6: an integer beyond 64 bits keeps its digits. */
TEST(big_integers_keep_their_digits) {
  CHECK_INT(decode("[9223372036854775807, -9223372036854775808, 9223372036854775808, -9223372036854775809, "
                   "123456789012345678901234567890]"), 1);
  lua_rawgeti(L, 1, 1);
  CHECK(lua_isinteger(L, -1) && lua_tointeger(L, -1) == LUA_MAXINTEGER);
  lua_rawgeti(L, 1, 2);
  CHECK(lua_isinteger(L, -1) && lua_tointeger(L, -1) == LUA_MININTEGER);
  lua_rawgeti(L, 1, 3);
  CHECK(lua_type(L, -1) == LUA_TUSERDATA);
  CHECK_STR(luaL_tolstring(L, -1, NULL), "9223372036854775808");
  lua_settop(L, 1);
  CHECK_STR(encode_top(2), "[\n  9223372036854775807,\n  -9223372036854775808,\n  9223372036854775808,\n"
                           "  -9223372036854775809,\n  123456789012345678901234567890\n]");
}

int main(void) {
  L = luaL_newstate();
  luaL_openlibs(L);
  lpeft_json_open(L);
  RUN(python_float_repr);
  RUN(number_kinds_survive);
  RUN(python_layout);
  RUN(strings_escape_like_python);
  RUN(nan_and_infinity);
  RUN(decode_errors_name_the_position);
  RUN(depth_limit);
  RUN(objects_of_every_size);
  RUN(encode_rejects_what_json_cannot_hold);
  RUN(surrogates_and_stray_bytes);
  RUN(big_integers_keep_their_digits);
  lua_close(L);
  return ctest_summary("test_json");
}
