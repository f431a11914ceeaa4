/* peft_jtree.c - JSON to a C tree (see peft_jtree.h). */
#include "peft_jtree.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
  const char *start, *p, *end;
  int depth;
  int oom;
  char *err;
  size_t errsize;
} parser;

static pj_value *fail(parser *ps, const char *fmt, ...) {
  if (ps->err && ps->err[0] == '\0') {
    int n = snprintf(ps->err, ps->errsize, "offset %ld: ", (long)(ps->p - ps->start));
    if (n > 0 && (size_t)n < ps->errsize) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(ps->err + n, ps->errsize - (size_t)n, fmt, ap);
      va_end(ap);
    }
  }
  return NULL;
}

static pj_value *nomem(parser *ps) {
  ps->oom = 1;
  return fail(ps, "out of memory");
}

static void ws(parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static pj_value *new_value(parser *ps, pj_type t) {
  pj_value *v = calloc(1, sizeof *v);
  if (v == NULL) return nomem(ps);
  v->type = t;
  return v;
}

static int hex4(const char *s, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return -1;
  }
  *out = v;
  return 0;
}

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

/* Parses a string (after the opening quote) into a new buffer. */
static char *parse_string(parser *ps, size_t *lenp) {
  const char *s = ps->p;
  /* the decoded text is never longer than the source */
  const char *q = s;
  while (q < ps->end && *q != '"') q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
  if (q >= ps->end) {
    fail(ps, "unterminated string");
    return NULL;
  }
  if ((size_t)(q - s) > PJ_MAX_STRING) {
    fail(ps, "string longer than the limit of %d bytes", PJ_MAX_STRING);
    return NULL;
  }
  char *buf = malloc((size_t)(q - s) + 1);
  if (buf == NULL) {
    nomem(ps);
    return NULL;
  }
  size_t n = 0;
  while (ps->p < q) {
    unsigned char c = (unsigned char)*ps->p;
    if (c < 0x20) {
      free(buf);
      fail(ps, "control character in string");
      return NULL;
    }
    if (c != '\\') {
      buf[n++] = (char)c;
      ps->p++;
      continue;
    }
    ps->p++;
    char e = *ps->p++;
    switch (e) {
      case '"': buf[n++] = '"'; break;
      case '\\': buf[n++] = '\\'; break;
      case '/': buf[n++] = '/'; break;
      case 'b': buf[n++] = '\b'; break;
      case 'f': buf[n++] = '\f'; break;
      case 'n': buf[n++] = '\n'; break;
      case 'r': buf[n++] = '\r'; break;
      case 't': buf[n++] = '\t'; break;
      case 'u': {
        unsigned cp;
        if (q - ps->p < 4 || hex4(ps->p, &cp) != 0) {
          free(buf);
          fail(ps, "invalid \\u escape");
          return NULL;
        }
        ps->p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && q - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
          unsigned lo;
          if (hex4(ps->p + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            ps->p += 6;
          }
        }
        if (cp == 0) {
          free(buf);
          fail(ps, "\\u0000 in a string is not accepted");
          return NULL;
        }
        /* a 6-byte escape never decodes to more than 4 bytes */
        n += put_utf8(buf + n, cp);
        break;
      }
      default:
        free(buf);
        fail(ps, "invalid escape in string");
        return NULL;
    }
  }
  ps->p = q + 1;
  buf[n] = '\0';
  *lenp = n;
  return buf;
}

static pj_value *parse_value(parser *ps);

static pj_value *parse_number(parser *ps) {
  const char *s = ps->p;
  int is_float = 0;
  if (ps->p < ps->end && *ps->p == '-') ps->p++;
  if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return fail(ps, "expected a value");
  if (*ps->p == '0' && ps->p + 1 < ps->end && ps->p[1] >= '0' && ps->p[1] <= '9')
    return fail(ps, "leading zero in number");
  while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  if (ps->p < ps->end && *ps->p == '.') {
    is_float = 1;
    ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return fail(ps, "expected a digit");
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
    is_float = 1;
    ps->p++;
    if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return fail(ps, "expected a digit");
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  }
  size_t len = (size_t)(ps->p - s);
  if (len > 64) return fail(ps, "number literal too long");
  char tmp[72];
  memcpy(tmp, s, len);
  tmp[len] = '\0';
  pj_value *v;
  if (!is_float) {
    errno = 0;
    long long i = strtoll(tmp, NULL, 10);
    if (errno == 0) {
      v = new_value(ps, PJ_INT);
      if (v) v->u.integer = i;
      return v;
    }
  }
  v = new_value(ps, PJ_FLOAT);
  if (v) v->u.number = strtod(tmp, NULL);
  return v;
}

static int push_item(parser *ps, pj_value *arr, pj_value *item, size_t *cap) {
  if (arr->u.array.n == *cap) {
    size_t nc = *cap ? *cap * 2 : 4;
    pj_value **items = realloc(arr->u.array.items, nc * sizeof *items);
    if (items == NULL) {
      nomem(ps);
      return -1;
    }
    arr->u.array.items = items;
    *cap = nc;
  }
  arr->u.array.items[arr->u.array.n++] = item;
  return 0;
}

static pj_value *parse_array(parser *ps) {
  pj_value *arr = new_value(ps, PJ_ARRAY);
  if (arr == NULL) return NULL;
  size_t cap = 0;
  ws(ps);
  if (ps->p < ps->end && *ps->p == ']') {
    ps->p++;
    return arr;
  }
  for (;;) {
    pj_value *item = parse_value(ps);
    if (item == NULL || push_item(ps, arr, item, &cap) != 0) {
      pj_free(item);
      pj_free(arr);
      return NULL;
    }
    ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == ']') {
      ps->p++;
      return arr;
    }
    pj_free(arr);
    return fail(ps, "expected ',' or ']'");
  }
}

static pj_value *parse_object(parser *ps) {
  pj_value *obj = new_value(ps, PJ_OBJECT);
  if (obj == NULL) return NULL;
  size_t cap = 0;
  ws(ps);
  if (ps->p < ps->end && *ps->p == '}') {
    ps->p++;
    return obj;
  }
  for (;;) {
    ws(ps);
    if (ps->p >= ps->end || *ps->p != '"') {
      pj_free(obj);
      return fail(ps, "expected a string key");
    }
    ps->p++;
    size_t klen;
    char *key = parse_string(ps, &klen);
    if (key == NULL) {
      pj_free(obj);
      return NULL;
    }
    if (strlen(key) != klen) {
      free(key);
      pj_free(obj);
      return fail(ps, "NUL character in a key");
    }
    ws(ps);
    if (ps->p >= ps->end || *ps->p != ':') {
      free(key);
      pj_free(obj);
      return fail(ps, "expected ':'");
    }
    ps->p++;
    pj_value *val = parse_value(ps);
    if (val == NULL) {
      free(key);
      pj_free(obj);
      return NULL;
    }
    if (obj->u.object.n == cap) {
      size_t nc = cap ? cap * 2 : 8;
      pj_member *m = realloc(obj->u.object.members, nc * sizeof *m);
      if (m == NULL) {
        free(key);
        pj_free(val);
        pj_free(obj);
        return nomem(ps);
      }
      obj->u.object.members = m;
      cap = nc;
    }
    obj->u.object.members[obj->u.object.n].key = key;
    obj->u.object.members[obj->u.object.n].value = val;
    obj->u.object.n++;
    ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == '}') {
      ps->p++;
      return obj;
    }
    pj_free(obj);
    return fail(ps, "expected ',' or '}'");
  }
}

static int word(parser *ps, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, w, n) == 0) {
    ps->p += n;
    return 1;
  }
  return 0;
}

static pj_value *parse_value(parser *ps) {
  ws(ps);
  if (ps->p >= ps->end) return fail(ps, "expected a value, got the end of the input");
  pj_value *v;
  switch (*ps->p) {
    case '{':
    case '[': {
      if (++ps->depth > PJ_MAX_DEPTH) return fail(ps, "nesting deeper than %d", PJ_MAX_DEPTH);
      char c = *ps->p++;
      v = c == '{' ? parse_object(ps) : parse_array(ps);
      ps->depth--;
      return v;
    }
    case '"': {
      ps->p++;
      size_t len;
      char *s = parse_string(ps, &len);
      if (s == NULL) return NULL;
      v = new_value(ps, PJ_STRING);
      if (v == NULL) {
        free(s);
        return NULL;
      }
      v->u.string.s = s;
      v->u.string.len = len;
      return v;
    }
    case 't':
      if (word(ps, "true")) {
        v = new_value(ps, PJ_BOOL);
        if (v) v->u.boolean = 1;
        return v;
      }
      break;
    case 'f':
      if (word(ps, "false")) return new_value(ps, PJ_BOOL);
      break;
    case 'n':
      if (word(ps, "null")) return new_value(ps, PJ_NULL);
      break;
    default:
      return parse_number(ps);
  }
  return fail(ps, "expected a value");
}

int pj_parse(const char *text, size_t len, pj_value **out, char *err, size_t errsize) {
  parser ps = {text, text, text + len, 0, 0, err, errsize};
  if (err && errsize) err[0] = '\0';
  *out = NULL;
  pj_value *v = parse_value(&ps);
  if (v != NULL) {
    ws(&ps);
    if (ps.p < ps.end) {
      pj_free(v);
      v = fail(&ps, "extra data after the JSON value");
    }
  }
  if (v == NULL) return ps.oom ? -2 : -1;
  *out = v;
  return 0;
}

void pj_free(pj_value *v) {
  if (v == NULL) return;
  switch (v->type) {
    case PJ_STRING: free(v->u.string.s); break;
    case PJ_ARRAY:
      for (size_t i = 0; i < v->u.array.n; i++) pj_free(v->u.array.items[i]);
      free(v->u.array.items);
      break;
    case PJ_OBJECT:
      for (size_t i = 0; i < v->u.object.n; i++) {
        free(v->u.object.members[i].key);
        pj_free(v->u.object.members[i].value);
      }
      free(v->u.object.members);
      break;
    default: break;
  }
  free(v);
}

const pj_value *pj_get(const pj_value *obj, const char *key) {
  if (obj == NULL || obj->type != PJ_OBJECT) return NULL;
  for (size_t i = 0; i < obj->u.object.n; i++)
    if (strcmp(obj->u.object.members[i].key, key) == 0) return obj->u.object.members[i].value;
  return NULL;
}

const char *pj_type_name(pj_type t) {
  switch (t) {
    case PJ_NULL: return "null";
    case PJ_BOOL: return "a boolean";
    case PJ_INT: return "an integer";
    case PJ_FLOAT: return "a float";
    case PJ_STRING: return "a string";
    case PJ_ARRAY: return "a list";
    case PJ_OBJECT: return "an object";
  }
  return "?";
}
