/*
 * lpeft_re.c - regular expressions with Python's semantics for target
 * matching (part of peft.core), on PCRE2:
 *
 *   re_match(pattern, subject [, mode]) -> true | false | nil, message
 *     mode "full"  (default) the whole subject must match (re.fullmatch)
 *          "start" a match at the start (re.match)
 *          "search" anywhere (re.search)
 *   re_group(pattern, subject, mode, n) -> the n-th group's text | false
 *
 * Patterns compile with UTF and UCP (so \d, \w and \s mean what they mean for
 * Python str patterns) and are cached per module instance. A bad pattern is
 * an expected failure (nil, message naming the offset); a match that runs
 * past the backtracking limit is reported the same way instead of hanging.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lpeft_re.h"
#include "lpeft_udata.h"

#define RE_MT "peft.re"
#define MATCH_LIMIT 1000000

typedef struct re_box {
  pcre2_code *code;
} re_box;

static int re_gc(lua_State *L) {
  re_box *b = luaL_checkudata(L, 1, RE_MT);
  if (b->code) pcre2_code_free(b->code);
  b->code = NULL;
  return 0;
}

/* Pushes the compiled pattern (from the cache, upvalue 1) or nil, message. */
static pcre2_code *compile(lua_State *L, int pidx) {
  size_t plen;
  const char *pat = luaL_checklstring(L, pidx, &plen);
  lua_pushvalue(L, pidx);
  if (lua_rawget(L, lua_upvalueindex(1)) == LUA_TUSERDATA) {
    re_box *b = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return b->code;
  }
  lua_pop(L, 1);
  re_box *b = lpeft_udata_new(L, sizeof *b, 0, RE_MT, re_gc, 0);
  int errcode;
  PCRE2_SIZE erroff;
  b->code = pcre2_compile((PCRE2_SPTR)pat, plen, PCRE2_UTF | PCRE2_UCP, &errcode, &erroff, NULL);
  if (b->code == NULL) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(errcode, msg, sizeof msg);
    lua_pop(L, 1);
    lua_pushfstring(L, "invalid regular expression at offset %d: %s", (int)erroff, (const char *)msg);
    return NULL;
  }
  lua_pushvalue(L, pidx);
  lua_pushvalue(L, -2);
  lua_rawset(L, lua_upvalueindex(1));
  lua_pop(L, 1);
  return b->code;
}

static uint32_t mode_options(lua_State *L, int idx) {
  static const char *const modes[] = {"full", "start", "search", NULL};
  switch (luaL_checkoption(L, idx, "full", modes)) {
    case 0: return PCRE2_ANCHORED | PCRE2_ENDANCHORED;
    case 1: return PCRE2_ANCHORED;
    default: return 0;
  }
}

/* Runs the match; returns the match count (> 0), 0 for no match, or -1 with
 * the message pushed. The match data is returned through md (caller frees). */
static int run(lua_State *L, pcre2_code *code, const char *subj, size_t slen, uint32_t opts,
               pcre2_match_data **md) {
  *md = pcre2_match_data_create_from_pattern(code, NULL);
  pcre2_match_context *mc = pcre2_match_context_create(NULL);
  if (*md == NULL || mc == NULL) {
    pcre2_match_context_free(mc);
    pcre2_match_data_free(*md);
    *md = NULL;
    luaL_error(L, "not enough memory");
    return -1;
  }
  pcre2_set_match_limit(mc, MATCH_LIMIT);
  int rc = pcre2_match(code, (PCRE2_SPTR)subj, slen, 0, opts, *md, mc);
  pcre2_match_context_free(mc);
  if (rc >= 0) return rc == 0 ? 1 : rc;
  if (rc == PCRE2_ERROR_NOMATCH) return 0;
  pcre2_match_data_free(*md);
  *md = NULL;
  PCRE2_UCHAR msg[256];
  pcre2_get_error_message(rc, msg, sizeof msg);
  lua_pushfstring(L, "regular expression match failed: %s", (const char *)msg);
  return -1;
}

/* Compiles argument 1 and matches argument 2 in the mode of argument 3.
 * Returns the match count (0: no match) with *md set, or -1 with nil and the
 * message pushed (a bad pattern or a match over the limit). */
static int match_args(lua_State *L, const char **subj, size_t *slen, pcre2_match_data **md) {
  *subj = luaL_checklstring(L, 2, slen);
  uint32_t opts = mode_options(L, 3);
  *md = NULL;
  pcre2_code *code = compile(L, 1);
  int rc = code ? run(L, code, *subj, *slen, opts, md) : -1;
  if (rc < 0) {
    lua_pushnil(L);
    lua_insert(L, -2);
  }
  return rc;
}

int lpeft_re_match(lua_State *L) {
  const char *subj;
  size_t slen;
  pcre2_match_data *md;
  int rc = match_args(L, &subj, &slen, &md);
  if (rc < 0) return 2;
  pcre2_match_data_free(md);
  lua_pushboolean(L, rc > 0);
  return 1;
}

int lpeft_re_group(lua_State *L) {
  lua_Integer g = luaL_checkinteger(L, 4);
  const char *subj;
  size_t slen;
  pcre2_match_data *md;
  int rc = match_args(L, &subj, &slen, &md);
  if (rc < 0) return 2;
  size_t b = PCRE2_UNSET, e = 0;
  if (rc > 0 && g >= 0 && g < rc) {
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    b = ov[2 * g];
    e = ov[2 * g + 1];
  }
  pcre2_match_data_free(md);
  if (b == PCRE2_UNSET) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_pushlstring(L, subj + b, e - b);
  return 1;
}
