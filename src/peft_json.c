/* peft_json.c - the JSON lexer and parser (see peft_json.h). */
#include "peft_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char OOM[] = "out of memory"; /* a failed allocation: err->oom */

typedef struct parser {
  const char *start, *p, *end;
  unsigned flags;
  int max_depth, depth;
  const peft_json_handler *h;
  void *ud;
  const char *problem; /* set on failure: static text, or dyn */
  char dyn[96];
} parser;

static int fail(parser *ps, const char *msg) {
  if (ps->problem == NULL) ps->problem = msg;
  return 0;
}

/* Calls a handler (when there is one); its message stops the parse. */
#define CALL(fn, ...)                                         \
  do {                                                        \
    if (ps->h->fn) {                                          \
      const char *m_ = ps->h->fn(ps->ud, __VA_ARGS__);        \
      if (m_) return fail(ps, m_);                            \
    }                                                         \
  } while (0)

static void skip_ws(parser *ps) {
  const char *p = ps->p, *end = ps->end;
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  ps->p = p;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Four hex digits at q (the caller made sure they are there). */
static int hex4(const char *q, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval((unsigned char)q[i]);
    if (h < 0) return 0;
    v = v * 16 + (unsigned)h;
  }
  *out = v;
  return 1;
}

static size_t utf8_size(unsigned cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

static size_t put_utf8(char *d, unsigned cp) {
  if (cp < 0x80) {
    d[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    d[0] = (char)(0xC0 | (cp >> 6));
    d[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    d[0] = (char)(0xE0 | (cp >> 12));
    d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    d[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  d[0] = (char)(0xF0 | (cp >> 18));
  d[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  d[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  d[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

int peft_json_utf8_len(const unsigned char *p, const unsigned char *end, unsigned *cp, int surrogates) {
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
  if (!surrogates && c >= 0xD800 && c <= 0xDFFF) return 0;
  *cp = c;
  return n;
}

/* The code point of the \u escape whose four digits start at q, combined
 * with a following low-surrogate escape when q is a high surrogate and one
 * follows (before end). *used: the bytes taken after q's four digits. */
static unsigned escape_cp(const char *q, const char *end, size_t *used) {
  unsigned cp, lo;
  hex4(q, &cp);
  *used = 0;
  if (cp >= 0xD800 && cp <= 0xDBFF && end - (q + 4) >= 6 && q[4] == '\\' && q[5] == 'u' && hex4(q + 6, &lo) &&
      lo >= 0xDC00 && lo <= 0xDFFF) {
    *used = 6;
    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
  }
  return cp;
}

/* The bytes a string cannot simply contain: control characters, '"', '\\'
 * and every non-ASCII byte (checked as UTF-8). */
static const unsigned char special[256] = {
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  ['"'] = 1, ['\\'] = 1,
  [0x80] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* Scans a string whose opening quote has been read: checks it, measures
 * its decoded length, and leaves ps->p after the closing quote. */
static int scan_string(parser *ps, peft_json_string *s) {
  const char *start = ps->p, *q = start, *end = ps->end;
  size_t len = 0;
  int escaped = 0;
  for (;;) {
    const char *run = q;
    while (q < end && !special[(unsigned char)*q]) q++;
    len += (size_t)(q - run);
    if (q >= end) {
      ps->p = q;
      return fail(ps, "unterminated string");
    }
    unsigned char c = (unsigned char)*q;
    if (c == '"') break;
    if (c < 0x20) {
      ps->p = q;
      return fail(ps, "control character in string (must be escaped)");
    }
    if (c == '\\') {
      escaped = 1;
      if (end - q < 2) {
        ps->p = end;
        return fail(ps, "unterminated string");
      }
      switch (q[1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
          len++;
          q += 2;
          break;
        case 'u': {
          q += 2;
          unsigned cp;
          if (end - q < 4) {
            ps->p = q;
            return fail(ps, "truncated \\u escape");
          }
          if (!hex4(q, &cp)) {
            ps->p = q;
            return fail(ps, "invalid \\u escape (expected 4 hex digits)");
          }
          size_t used;
          cp = escape_cp(q, end, &used);
          if (cp >= 0xD800 && cp <= 0xDFFF && (ps->flags & PEFT_JSON_STRICT_UNICODE)) {
            ps->p = q - 2;
            return fail(ps, "a \\u escape of a surrogate without its pair");
          }
          if (cp == 0 && (ps->flags & PEFT_JSON_NO_NUL)) {
            ps->p = q - 2;
            return fail(ps, "\\u0000 in a string is not accepted");
          }
          len += utf8_size(cp);
          q += 4 + used;
          break;
        }
        default:
          ps->p = q;
          return fail(ps, "invalid escape in string");
      }
      continue;
    }
    unsigned cp;
    int n = peft_json_utf8_len((const unsigned char *)q, (const unsigned char *)end, &cp, 0);
    if (n == 0) {
      ps->p = q;
      return fail(ps, "invalid UTF-8 in string");
    }
    q += n;
    len += (size_t)n;
  }
  if (len > PEFT_JSON_MAX_STRING) {
    ps->p = start;
    return fail(ps, "string longer than the limit of 1048576 bytes");
  }
  s->raw = start;
  s->raw_len = (size_t)(q - start);
  s->len = len;
  s->escaped = escaped;
  ps->p = q + 1;
  return 1;
}

void peft_json_unescape(const peft_json_string *s, char *out) {
  const char *q = s->raw, *end = s->raw + s->raw_len;
  while (q < end) {
    const char *bs = memchr(q, '\\', (size_t)(end - q));
    if (bs == NULL) bs = end;
    memcpy(out, q, (size_t)(bs - q));
    out += bs - q;
    q = bs;
    if (q >= end) break;
    char e = q[1];
    q += 2;
    switch (e) {
      case 'b': *out++ = '\b'; break;
      case 'f': *out++ = '\f'; break;
      case 'n': *out++ = '\n'; break;
      case 'r': *out++ = '\r'; break;
      case 't': *out++ = '\t'; break;
      case 'u': {
        size_t used;
        unsigned cp = escape_cp(q, end, &used);
        out += put_utf8(out, cp);
        q += 4 + used;
        break;
      }
      default: *out++ = e; /* " \ / */
    }
  }
}

static int word(parser *ps, const char *w, size_t n) {
  if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, w, n) == 0) {
    ps->p += n;
    return 1;
  }
  return 0;
}

static int is_digit(const char *q, const char *end) { return q < end && *q >= '0' && *q <= '9'; }

static int parse_number(parser *ps) {
  const char *s = ps->p, *q = s, *end = ps->end;
  peft_json_number num = {PEFT_JSON_FLOAT, 0, 0.0, s, 0};
  int neg = 0;
  if (q < end && *q == '-') {
    neg = 1;
    q++;
  }
  if (q < end && *q == 'I' && (ps->flags & PEFT_JSON_PYTHON)) {
    ps->p = q;
    if (!word(ps, "Infinity", 8)) {
      ps->p = s;
      return fail(ps, "expected a value");
    }
    num.number = neg ? -HUGE_VAL : HUGE_VAL;
    num.text_len = (size_t)(ps->p - s);
    CALL(number, &num);
    return 1;
  }
  if (!is_digit(q, end)) return fail(ps, "expected a value");
  int is_float = 0;
  if (*q == '0') {
    q++;
    if (is_digit(q, end)) {
      ps->p = q;
      return fail(ps, "leading zero in number");
    }
  } else {
    while (is_digit(q, end)) q++;
  }
  const char *int_end = q;
  if (q < end && *q == '.') {
    is_float = 1;
    q++;
    if (!is_digit(q, end)) {
      ps->p = q;
      return fail(ps, "expected a digit after the decimal point");
    }
    while (is_digit(q, end)) q++;
  }
  if (q < end && (*q == 'e' || *q == 'E')) {
    is_float = 1;
    q++;
    if (q < end && (*q == '+' || *q == '-')) q++;
    if (!is_digit(q, end)) {
      ps->p = q;
      return fail(ps, "expected a digit in the exponent");
    }
    while (is_digit(q, end)) q++;
  }
  num.text_len = (size_t)(q - s);
  if (!is_float) {
    /* digits into an unsigned magnitude, watching for more than 64 bits */
    unsigned long long mag = 0, limit = neg ? 9223372036854775808ULL : 9223372036854775807ULL;
    int big = 0;
    for (const char *d = s + neg; d < int_end && !big; d++) {
      unsigned digit = (unsigned)(*d - '0');
      if (mag > (limit - digit) / 10) big = 1;
      else mag = mag * 10 + digit;
    }
    if (!big) {
      num.kind = PEFT_JSON_INT;
      num.integer = neg ? (long long)(0 - mag) : (long long)mag;
      ps->p = q;
      CALL(number, &num);
      return 1;
    }
    num.kind = PEFT_JSON_BIGINT;
  }
  /* strtod wants a terminated string: short literals are copied to the C
   * stack, long ones to the heap (nothing else is held meanwhile) */
  char small[64], *buf = small;
  if (num.text_len >= sizeof small) {
    buf = malloc(num.text_len + 1);
    if (buf == NULL) return fail(ps, OOM);
  }
  memcpy(buf, s, num.text_len);
  buf[num.text_len] = '\0';
  num.number = strtod(buf, NULL);
  if (buf != small) free(buf);
  ps->p = q;
  CALL(number, &num);
  return 1;
}

static int parse_value(parser *ps);

static int too_deep(parser *ps) {
  snprintf(ps->dyn, sizeof ps->dyn, "nesting too deep (more than %d levels)", ps->max_depth);
  return fail(ps, ps->dyn);
}

static int parse_array(parser *ps) {
  if (++ps->depth > ps->max_depth) return too_deep(ps);
  CALL(begin, 0);
  skip_ws(ps);
  size_t n = 0;
  if (ps->p < ps->end && *ps->p == ']') {
    ps->p++;
  } else {
    for (;;) {
      if (!parse_value(ps)) return 0;
      CALL(member, 0, ++n);
      skip_ws(ps);
      if (ps->p >= ps->end) return fail(ps, "unterminated array (expected ',' or ']')");
      if (*ps->p == ',') {
        ps->p++;
        continue;
      }
      if (*ps->p == ']') {
        ps->p++;
        break;
      }
      return fail(ps, "expected ',' or ']' after an array item");
    }
  }
  CALL(end, 0, n);
  ps->depth--;
  return 1;
}

static int parse_object(parser *ps) {
  if (++ps->depth > ps->max_depth) return too_deep(ps);
  CALL(begin, 1);
  skip_ws(ps);
  size_t n = 0;
  if (ps->p < ps->end && *ps->p == '}') {
    ps->p++;
  } else {
    for (;;) {
      skip_ws(ps);
      if (ps->p >= ps->end) return fail(ps, "unterminated object (expected a key)");
      if (*ps->p != '"') return fail(ps, "expected a string key in double quotes");
      ps->p++;
      peft_json_string key;
      if (!scan_string(ps, &key)) return 0;
      CALL(string, &key, 1);
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') return fail(ps, "expected ':' after an object key");
      ps->p++;
      if (!parse_value(ps)) return 0;
      CALL(member, 1, ++n);
      skip_ws(ps);
      if (ps->p >= ps->end) return fail(ps, "unterminated object (expected ',' or '}')");
      if (*ps->p == ',') {
        ps->p++;
        continue;
      }
      if (*ps->p == '}') {
        ps->p++;
        break;
      }
      return fail(ps, "expected ',' or '}' after an object member");
    }
  }
  CALL(end, 1, n);
  ps->depth--;
  return 1;
}

static int parse_value(parser *ps) {
  skip_ws(ps);
  if (ps->p >= ps->end) return fail(ps, "expected a value, got the end of the input");
  switch (*ps->p) {
    case '{': ps->p++; return parse_object(ps);
    case '[': ps->p++; return parse_array(ps);
    case '"': {
      ps->p++;
      peft_json_string s;
      if (!scan_string(ps, &s)) return 0;
      CALL(string, &s, 0);
      return 1;
    }
    case 't':
      if (word(ps, "true", 4)) {
        CALL(literal, PEFT_JSON_TRUE);
        return 1;
      }
      break;
    case 'f':
      if (word(ps, "false", 5)) {
        CALL(literal, PEFT_JSON_FALSE);
        return 1;
      }
      break;
    case 'n':
      if (word(ps, "null", 4)) {
        CALL(literal, PEFT_JSON_NULL);
        return 1;
      }
      break;
    case 'N':
      if ((ps->flags & PEFT_JSON_PYTHON) && word(ps, "NaN", 3)) {
        peft_json_number num = {PEFT_JSON_FLOAT, 0, (double)NAN, ps->p - 3, 3};
        CALL(number, &num);
        return 1;
      }
      break;
    default:
      if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9') || (*ps->p == 'I' && (ps->flags & PEFT_JSON_PYTHON)))
        return parse_number(ps);
  }
  if (ps->end - ps->p >= 3 && memcmp(ps->p, "\xEF\xBB\xBF", 3) == 0)
    return fail(ps, "unexpected UTF-8 byte order mark");
  return fail(ps, "expected a value");
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

int peft_json_parse(const char *text, size_t len, unsigned flags, int max_depth, const peft_json_handler *h,
                    void *ud, peft_json_error *err) {
  parser ps;
  ps.start = ps.p = text;
  ps.end = text + len;
  ps.flags = flags;
  ps.max_depth = max_depth;
  ps.depth = 0;
  ps.h = h;
  ps.ud = ud;
  ps.problem = NULL;
  int ok = parse_value(&ps);
  if (ok) {
    skip_ws(&ps);
    if (ps.p < ps.end) ok = fail(&ps, "extra data after the JSON value");
  }
  if (ok) return 0;
  if (err != NULL) {
    position(text, ps.p, &err->line, &err->column);
    err->offset = (size_t)(ps.p - text);
    err->oom = ps.problem == OOM;
    snprintf(err->problem, sizeof err->problem, "%s", ps.problem);
    snprintf(err->message, sizeof err->message, "line %ld, column %ld: %s", err->line, err->column, ps.problem);
  }
  return -1;
}

/* --- Python's float repr ------------------------------------------------- */

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
