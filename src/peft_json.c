/* peft_json.c - JSON reader and Python-compatible writer (see peft_json.h). */
#include "peft_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

/* --- decoding ---------------------------------------------------------- */

typedef struct reader {
  lua_State *L;
  const char *start, *p, *end;
  int depth;
  const char *err;          /* static message, set on failure */
  lua_Integer top_members;  /* members of the outermost object, repeated keys included */
} reader;

static int rfail(reader *r, const char *msg) {
  if (r->err == NULL) r->err = msg;
  return 0;
}

static void skip_ws(reader *r) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
    r->p++;
}

static int decode_value(reader *r);

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int read_hex4(reader *r, unsigned *out) {
  if (r->end - r->p < 4) return rfail(r, "truncated \\u escape");
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval((unsigned char)r->p[i]);
    if (h < 0) return rfail(r, "invalid \\u escape (expected 4 hex digits)");
    v = v * 16 + (unsigned)h;
  }
  r->p += 4;
  *out = v;
  return 1;
}

static void add_utf8(luaL_Buffer *b, unsigned cp) {
  char s[4];
  int n;
  if (cp < 0x80) {
    s[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    s[0] = (char)(0xC0 | (cp >> 6));
    s[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    s[0] = (char)(0xE0 | (cp >> 12));
    s[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    s[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    s[0] = (char)(0xF0 | (cp >> 18));
    s[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    s[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    s[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  luaL_addlstring(b, s, (size_t)n);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0. Surrogate code
 * points encoded in three bytes are accepted, since a lone \ud800 escape
 * decodes to them and must survive a round trip. */
static int utf8_len(const unsigned char *p, const unsigned char *end, unsigned *cp) {
  unsigned c = p[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  int n;
  unsigned min;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    c &= 0x1F;
    min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    c &= 0x0F;
    min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    c &= 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (end - p < n) return 0;
  for (int i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    c = (c << 6) | (p[i] & 0x3F);
  }
  if (c < min || c > 0x10FFFF) return 0;
  *cp = c;
  return n;
}

/* Pushes the string starting after the opening quote. */
static int decode_string(reader *r) {
  const char *s = r->p;
  /* fast path: no escapes, all valid */
  const char *q = s;
  while (q < r->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20 &&
         (unsigned char)*q < 0x80)
    q++;
  if (q < r->end && *q == '"') {
    if ((size_t)(q - s) > PEFT_JSON_MAX_STRING) return rfail(r, "string longer than the limit of 1048576 bytes");
    lua_pushlstring(r->L, s, (size_t)(q - s));
    r->p = q + 1;
    return 1;
  }
  luaL_Buffer b;
  luaL_buffinit(r->L, &b);
  luaL_addlstring(&b, s, (size_t)(q - s));
  r->p = q;
  for (;;) {
    if (r->p >= r->end) return rfail(r, "unterminated string");
    if (luaL_bufflen(&b) > PEFT_JSON_MAX_STRING) return rfail(r, "string longer than the limit of 1048576 bytes");
    unsigned char c = (unsigned char)*r->p;
    if (c == '"') {
      r->p++;
      break;
    }
    if (c < 0x20) return rfail(r, "control character in string (must be escaped)");
    if (c == '\\') {
      r->p++;
      if (r->p >= r->end) return rfail(r, "unterminated string");
      char e = *r->p++;
      switch (e) {
        case '"': luaL_addchar(&b, '"'); break;
        case '\\': luaL_addchar(&b, '\\'); break;
        case '/': luaL_addchar(&b, '/'); break;
        case 'b': luaL_addchar(&b, '\b'); break;
        case 'f': luaL_addchar(&b, '\f'); break;
        case 'n': luaL_addchar(&b, '\n'); break;
        case 'r': luaL_addchar(&b, '\r'); break;
        case 't': luaL_addchar(&b, '\t'); break;
        case 'u': {
          unsigned cp;
          if (!read_hex4(r, &cp)) return 0;
          if (cp >= 0xD800 && cp <= 0xDBFF && r->end - r->p >= 6 && r->p[0] == '\\' &&
              r->p[1] == 'u') {
            const char *save = r->p;
            unsigned lo;
            r->p += 2;
            if (!read_hex4(r, &lo)) return 0;
            if (lo >= 0xDC00 && lo <= 0xDFFF)
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            else
              r->p = save; /* lone high surrogate; the next escape stands alone */
          }
          add_utf8(&b, cp);
          break;
        }
        default:
          r->p -= 2; /* point at the backslash */
          return rfail(r, "invalid escape in string");
      }
      continue;
    }
    unsigned cp;
    int n = utf8_len((const unsigned char *)r->p, (const unsigned char *)r->end, &cp);
    if (n == 0) return rfail(r, "invalid UTF-8 in string");
    luaL_addlstring(&b, r->p, (size_t)n);
    r->p += n;
  }
  luaL_pushresult(&b);
  return 1;
}

static int match_word(reader *r, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(r->end - r->p) >= n && memcmp(r->p, w, n) == 0) {
    r->p += n;
    return 1;
  }
  return 0;
}

static int decode_number(reader *r) {
  const char *s = r->p;
  const char *q = s;
  int is_float = 0;
  if (q < r->end && *q == '-') q++;
  if (q < r->end && *q == 'I') {
    r->p = q;
    if (!match_word(r, "Infinity")) return rfail(r, "expected a value");
    lua_pushnumber(r->L, *s == '-' ? -HUGE_VAL : HUGE_VAL);
    return 1;
  }
  if (q >= r->end || !(*q >= '0' && *q <= '9')) return rfail(r, "expected a value");
  if (*q == '0') {
    q++;
    if (q < r->end && *q >= '0' && *q <= '9') {
      r->p = q;
      return rfail(r, "leading zero in number");
    }
  } else {
    while (q < r->end && *q >= '0' && *q <= '9') q++;
  }
  if (q < r->end && *q == '.') {
    is_float = 1;
    q++;
    if (q >= r->end || !(*q >= '0' && *q <= '9')) {
      r->p = q;
      return rfail(r, "expected a digit after the decimal point");
    }
    while (q < r->end && *q >= '0' && *q <= '9') q++;
  }
  if (q < r->end && (*q == 'e' || *q == 'E')) {
    is_float = 1;
    q++;
    if (q < r->end && (*q == '+' || *q == '-')) q++;
    if (q >= r->end || !(*q >= '0' && *q <= '9')) {
      r->p = q;
      return rfail(r, "expected a digit in the exponent");
    }
    while (q < r->end && *q >= '0' && *q <= '9') q++;
  }
  char tmp[64];
  size_t len = (size_t)(q - s);
  char *buf = tmp;
  if (len >= sizeof tmp) {
    /* very long literal: copy into a Lua-managed buffer */
    buf = lua_newuserdatauv(r->L, len + 1, 0);
  }
  memcpy(buf, s, len);
  buf[len] = '\0';
  if (!is_float) {
    errno = 0;
    char *endp;
    long long v = strtoll(buf, &endp, 10);
    if (errno == 0 && *endp == '\0') {
      if (buf != tmp) lua_pop(r->L, 1);
      lua_pushinteger(r->L, (lua_Integer)v);
      r->p = q;
      return 1;
    }
    /* beyond 64 bits: kept as the nearest float */
  }
  double d = strtod(buf, NULL);
  if (buf != tmp) lua_pop(r->L, 1);
  lua_pushnumber(r->L, d);
  r->p = q;
  return 1;
}

static int decode_array(reader *r) {
  lua_State *L = r->L;
  if (++r->depth > PEFT_JSON_MAX_DEPTH) return rfail(r, "nesting too deep");
  if (!lua_checkstack(L, 4)) return rfail(r, "nesting too deep");
  lua_newtable(L);
  luaL_setmetatable(L, PEFT_JSON_ARRAY_MT);
  skip_ws(r);
  if (r->p < r->end && *r->p == ']') {
    r->p++;
    r->depth--;
    return 1;
  }
  lua_Integer i = 1;
  for (;;) {
    if (!decode_value(r)) return 0;
    lua_rawseti(L, -2, i++);
    skip_ws(r);
    if (r->p >= r->end) return rfail(r, "unterminated array (expected ',' or ']')");
    if (*r->p == ',') {
      r->p++;
      continue;
    }
    if (*r->p == ']') {
      r->p++;
      break;
    }
    return rfail(r, "expected ',' or ']' after an array item");
  }
  r->depth--;
  return 1;
}

/* Members are gathered on the stack, OBJECT_BATCH at a time, so that the
 * table is made at its final size (an adapter config has a few dozen keys;
 * growing the table one key at a time would rehash it at every power of
 * two). They are set in order, so a repeated key keeps its last value. */
#define OBJECT_BATCH 32

/* Sets the n key/value pairs above stack index t into the table at t, and
 * pops them. */
static void flush_members(lua_State *L, int t, int n) {
  for (int i = 0; i < n; i++) {
    lua_pushvalue(L, t + 1 + 2 * i);
    lua_pushvalue(L, t + 2 + 2 * i);
    lua_rawset(L, t);
  }
  lua_settop(L, t);
}

static int decode_object(reader *r) {
  lua_State *L = r->L;
  if (++r->depth > PEFT_JSON_MAX_DEPTH) return rfail(r, "nesting too deep");
  if (!lua_checkstack(L, 2 * OBJECT_BATCH + 4)) return rfail(r, "nesting too deep");
  skip_ws(r);
  if (r->p < r->end && *r->p == '}') {
    r->p++;
    if (r->depth == 1) r->top_members = 0;
    r->depth--;
    lua_newtable(L);
    return 1;
  }
  lua_pushnil(L); /* the table's slot: made at the first flush */
  int t = lua_gettop(L), n = 0, made = 0;
  lua_Integer members = 0;
  for (;;) {
    skip_ws(r);
    if (r->p >= r->end) return rfail(r, "unterminated object (expected a key)");
    if (*r->p != '"') return rfail(r, "expected a string key in double quotes");
    r->p++;
    if (!decode_string(r)) return 0;
    skip_ws(r);
    if (r->p >= r->end || *r->p != ':') return rfail(r, "expected ':' after an object key");
    r->p++;
    if (!decode_value(r)) return 0;
    members++;
    if (++n == OBJECT_BATCH) {
      if (!made) {
        lua_createtable(L, 0, 2 * OBJECT_BATCH);
        lua_replace(L, t);
        made = 1;
      }
      flush_members(L, t, n);
      n = 0;
    }
    skip_ws(r);
    if (r->p >= r->end) return rfail(r, "unterminated object (expected ',' or '}')");
    if (*r->p == ',') {
      r->p++;
      continue;
    }
    if (*r->p == '}') {
      r->p++;
      break;
    }
    return rfail(r, "expected ',' or '}' after an object member");
  }
  if (!made) {
    lua_createtable(L, 0, n);
    lua_replace(L, t);
  }
  flush_members(L, t, n);
  if (r->depth == 1) r->top_members = members;
  r->depth--;
  return 1;
}

static int decode_value(reader *r) {
  skip_ws(r);
  if (r->p >= r->end) return rfail(r, "expected a value, got the end of the input");
  switch (*r->p) {
    case '{': r->p++; return decode_object(r);
    case '[': r->p++; return decode_array(r);
    case '"': r->p++; return decode_string(r);
    case 't':
      if (match_word(r, "true")) { lua_pushboolean(r->L, 1); return 1; }
      break;
    case 'f':
      if (match_word(r, "false")) { lua_pushboolean(r->L, 0); return 1; }
      break;
    case 'n':
      if (match_word(r, "null")) { lua_pushlightuserdata(r->L, NULL); return 1; }
      break;
    case 'N':
      if (match_word(r, "NaN")) { lua_pushnumber(r->L, (lua_Number)NAN); return 1; }
      break;
    default:
      if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9') || *r->p == 'I') return decode_number(r);
  }
  if ((unsigned char)*r->p == 0xEF && r->end - r->p >= 3 && (unsigned char)r->p[1] == 0xBB &&
      (unsigned char)r->p[2] == 0xBF)
    return rfail(r, "unexpected UTF-8 byte order mark");
  return rfail(r, "expected a value");
}

/* 1-based line and column (in characters) of position p. */
static void position(const char *start, const char *p, long *line, long *col) {
  *line = 1;
  *col = 1;
  for (const char *q = start; q < p; q++) {
    if (*q == '\n') {
      (*line)++;
      *col = 1;
    } else if (((unsigned char)*q & 0xC0) != 0x80) {
      (*col)++;
    }
  }
}

int peft_json_l_decode(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  lua_settop(L, 1);
  reader r = {L, s, s, s + len, 0, NULL, -1};
  int ok = decode_value(&r);
  if (ok) {
    skip_ws(&r);
    if (r.p < r.end) ok = rfail(&r, "extra data after the JSON value");
  }
  if (!ok) {
    long line, col;
    position(s, r.p, &line, &col);
    lua_settop(L, 1);
    lua_pushnil(L);
    lua_pushfstring(L, "line %d, column %d: %s", (int)line, (int)col, r.err);
    lua_pushinteger(L, line);
    lua_pushinteger(L, col);
    return 4;
  }
  if (r.top_members < 0) return 1;
  lua_pushinteger(L, r.top_members);
  return 2;
}

/* --- encoding ---------------------------------------------------------- */

/* A growable output buffer living in a userdata, so that an error raised
 * mid-way (a bad value, out of memory) frees it through __gc. */
typedef struct outbuf {
  char *p;
  size_t n, cap;
} outbuf;

static int outbuf_gc(lua_State *L) {
  outbuf *b = lua_touserdata(L, 1);
  free(b->p);
  b->p = NULL;
  b->n = b->cap = 0;
  return 0;
}

static void out_reserve(lua_State *L, outbuf *b, size_t extra) {
  if (b->cap - b->n >= extra) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->n < extra) {
    if (cap > ((size_t)-1) / 2) luaL_error(L, "JSON output too large");
    cap *= 2;
  }
  char *p = realloc(b->p, cap);
  if (p == NULL) luaL_error(L, "not enough memory");
  b->p = p;
  b->cap = cap;
}

static void out_add(lua_State *L, outbuf *b, const char *s, size_t n) {
  out_reserve(L, b, n);
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

static void out_char(lua_State *L, outbuf *b, char c) {
  out_reserve(L, b, 1);
  b->p[b->n++] = c;
}

typedef struct writer {
  lua_State *L;
  outbuf *b;
  int indent; /* < 0: compact */
  int depth;
} writer;

int peft_json_format_double(double x, char *buf, size_t size) {
  if (isnan(x)) return snprintf(buf, size, "NaN");
  if (isinf(x)) return snprintf(buf, size, x < 0 ? "-Infinity" : "Infinity");
  char tmp[40];
  int prec;
  for (prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, x);
    if (strtod(tmp, NULL) == x) break;
  }
  if (prec > 17) snprintf(tmp, sizeof tmp, "%.16e", x);
  /* tmp is [-]d[.ddd]e(+|-)XX: collect the digits and the exponent */
  char digits[24];
  int nd = 0;
  const char *q = tmp;
  int neg = 0;
  if (*q == '-') {
    neg = 1;
    q++;
  }
  for (; *q && *q != 'e'; q++)
    if (*q >= '0' && *q <= '9') digits[nd++] = *q;
  int exp10 = atoi(q + 1);
  while (nd > 1 && digits[nd - 1] == '0') nd--;
  int decpt = exp10 + 1;
  char out[48];
  int o = 0;
  if (neg) out[o++] = '-';
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out[o++] = '0';
      out[o++] = '.';
      for (int i = 0; i < -decpt; i++) out[o++] = '0';
      for (int i = 0; i < nd; i++) out[o++] = digits[i];
    } else if (decpt >= nd) {
      for (int i = 0; i < nd; i++) out[o++] = digits[i];
      for (int i = nd; i < decpt; i++) out[o++] = '0';
      out[o++] = '.';
      out[o++] = '0';
    } else {
      for (int i = 0; i < decpt; i++) out[o++] = digits[i];
      out[o++] = '.';
      for (int i = decpt; i < nd; i++) out[o++] = digits[i];
    }
    out[o] = '\0';
  } else {
    out[o++] = digits[0];
    if (nd > 1) {
      out[o++] = '.';
      for (int i = 1; i < nd; i++) out[o++] = digits[i];
    }
    int e = decpt - 1;
    snprintf(out + o, sizeof out - (size_t)o, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
  }
  return snprintf(buf, size, "%s", out);
}

static void write_string(writer *w, const char *s, size_t len) {
  lua_State *L = w->L;
  outbuf *b = w->b;
  static const char hex[] = "0123456789abcdef";
  out_char(L, b, '"');
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  while (p < end) {
    unsigned c = *p;
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      const unsigned char *q = p;
      while (q < end && *q >= 0x20 && *q < 0x7F && *q != '"' && *q != '\\') q++;
      out_add(L, b, (const char *)p, (size_t)(q - p));
      p = q;
      continue;
    }
    char esc[12];
    size_t n = 0;
    switch (c) {
      case '"': esc[n++] = '\\'; esc[n++] = '"'; p++; break;
      case '\\': esc[n++] = '\\'; esc[n++] = '\\'; p++; break;
      case '\n': esc[n++] = '\\'; esc[n++] = 'n'; p++; break;
      case '\r': esc[n++] = '\\'; esc[n++] = 'r'; p++; break;
      case '\t': esc[n++] = '\\'; esc[n++] = 't'; p++; break;
      case '\b': esc[n++] = '\\'; esc[n++] = 'b'; p++; break;
      case '\f': esc[n++] = '\\'; esc[n++] = 'f'; p++; break;
      default: {
        unsigned cp;
        int k = utf8_len(p, end, &cp);
        if (k == 0) luaL_error(L, "cannot encode a string that is not valid UTF-8");
        p += k;
        if (cp >= 0x10000) {
          unsigned v = cp - 0x10000;
          unsigned hi = 0xD800 + (v >> 10), lo = 0xDC00 + (v & 0x3FF);
          esc[n++] = '\\'; esc[n++] = 'u';
          esc[n++] = hex[(hi >> 12) & 15]; esc[n++] = hex[(hi >> 8) & 15];
          esc[n++] = hex[(hi >> 4) & 15]; esc[n++] = hex[hi & 15];
          out_add(L, b, esc, n);
          n = 0;
          cp = lo;
        }
        esc[n++] = '\\'; esc[n++] = 'u';
        esc[n++] = hex[(cp >> 12) & 15]; esc[n++] = hex[(cp >> 8) & 15];
        esc[n++] = hex[(cp >> 4) & 15]; esc[n++] = hex[cp & 15];
      }
    }
    out_add(L, b, esc, n);
  }
  out_char(L, b, '"');
}

static void write_newline(writer *w) {
  out_char(w->L, w->b, '\n');
  size_t n = (size_t)w->indent * (size_t)w->depth;
  out_reserve(w->L, w->b, n);
  memset(w->b->p + w->b->n, ' ', n);
  w->b->n += n;
}

static void write_value(writer *w, int idx);

typedef struct keyref {
  const char *s;
  size_t len;
} keyref;

static int keycmp(const void *a, const void *b) {
  const keyref *x = a, *y = b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->s, y->s, n);
  if (c != 0) return c;
  return x->len < y->len ? -1 : x->len > y->len;
}

/* Classifies a table: 1 array of n items, 0 object with n string keys. */
static int table_kind(lua_State *L, int idx, size_t *n) {
  int has_mt = 0;
  if (lua_getmetatable(L, idx)) {
    luaL_getmetatable(L, PEFT_JSON_ARRAY_MT);
    has_mt = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  size_t strings = 0, ints = 0;
  lua_Integer maxi = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      strings++;
    } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1) {
      ints++;
      if (lua_tointeger(L, -1) > maxi) maxi = lua_tointeger(L, -1);
    } else {
      luaL_error(L, "cannot encode a table with a key of type %s", luaL_typename(L, -1));
    }
  }
  if (strings && ints) luaL_error(L, "cannot encode a table that mixes string and integer keys");
  if (ints) {
    if ((size_t)maxi != ints) luaL_error(L, "cannot encode a sparse array (holes before index %d)", (int)maxi);
    *n = ints;
    return 1;
  }
  *n = strings;
  return has_mt;
}

static void write_table(writer *w, int idx) {
  lua_State *L = w->L;
  outbuf *b = w->b;
  if (w->depth >= PEFT_JSON_MAX_DEPTH) luaL_error(L, "cannot encode: nesting deeper than %d (a cycle?)", PEFT_JSON_MAX_DEPTH);
  if (!lua_checkstack(L, 6)) luaL_error(L, "cannot encode: stack overflow");
  size_t n;
  int is_array = table_kind(L, idx, &n);
  if (n == 0) {
    out_add(L, b, is_array ? "[]" : "{}", 2);
    return;
  }
  out_char(L, b, is_array ? '[' : '{');
  w->depth++;
  if (is_array) {
    for (size_t i = 1; i <= n; i++) {
      if (i > 1) out_add(L, b, w->indent < 0 ? ", " : ",", w->indent < 0 ? 2 : 1);
      if (w->indent >= 0) write_newline(w);
      lua_rawgeti(L, idx, (lua_Integer)i);
      write_value(w, lua_gettop(L));
      lua_pop(L, 1);
    }
  } else {
    keyref *keys = lua_newuserdatauv(L, n * sizeof *keys, 0);
    int keys_idx = lua_gettop(L);
    size_t k = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
      lua_pop(L, 1);
      keys[k].s = lua_tolstring(L, -1, &keys[k].len); /* string keys only: no conversion */
      k++;
    }
    qsort(keys, n, sizeof *keys, keycmp);
    for (size_t i = 0; i < n; i++) {
      if (i > 0) out_add(L, b, w->indent < 0 ? ", " : ",", w->indent < 0 ? 2 : 1);
      if (w->indent >= 0) write_newline(w);
      write_string(w, keys[i].s, keys[i].len);
      out_add(L, b, ": ", 2);
      lua_pushlstring(L, keys[i].s, keys[i].len);
      lua_rawget(L, idx);
      write_value(w, lua_gettop(L));
      lua_pop(L, 1);
    }
    lua_remove(L, keys_idx);
  }
  w->depth--;
  if (w->indent >= 0) write_newline(w);
  out_char(L, b, is_array ? ']' : '}');
}

static void write_value(writer *w, int idx) {
  lua_State *L = w->L;
  char num[48];
  switch (lua_type(L, idx)) {
    case LUA_TNIL: out_add(L, w->b, "null", 4); break;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) != NULL) luaL_error(L, "cannot encode a light userdata");
      out_add(L, w->b, "null", 4);
      break;
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx)) out_add(L, w->b, "true", 4);
      else out_add(L, w->b, "false", 5);
      break;
    case LUA_TNUMBER: {
      int n;
      if (lua_isinteger(L, idx))
        n = snprintf(num, sizeof num, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, idx));
      else
        n = peft_json_format_double((double)lua_tonumber(L, idx), num, sizeof num);
      out_add(L, w->b, num, (size_t)n);
      break;
    }
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      write_string(w, s, len);
      break;
    }
    case LUA_TTABLE: write_table(w, idx); break;
    default: luaL_error(L, "cannot encode a value of type %s", luaL_typename(L, idx));
  }
}

int peft_json_l_encode(lua_State *L) {
  int indent = -1;
  if (!lua_isnoneornil(L, 2)) {
    lua_Integer i = luaL_checkinteger(L, 2);
    luaL_argcheck(L, i >= 0 && i <= 16, 2, "indent must be between 0 and 16");
    indent = (int)i;
  }
  lua_settop(L, 1);
  outbuf *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->p = NULL;
  b->n = b->cap = 0;
  luaL_setmetatable(L, "peft.json.outbuf");
  writer w = {L, b, indent, 0};
  write_value(&w, 1);
  lua_pushlstring(L, b->p ? b->p : "", b->n);
  free(b->p);
  b->p = NULL;
  b->n = b->cap = 0;
  return 1;
}

void peft_json_init(lua_State *L) {
  if (luaL_newmetatable(L, PEFT_JSON_ARRAY_MT)) {
    lua_pushliteral(L, "json array");
    lua_setfield(L, -2, "__name");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, "peft.json.outbuf")) {
    lua_pushcfunction(L, outbuf_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
}
