/* peft_text.c - text for a terminal (see peft_text.h). */
#include "peft_text.h"

#include <stdio.h>
#include <string.h>

#include "peft_json.h"

static int is_format_char(unsigned cp) {
  return (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2069) ||
         cp == 0xFEFF;
}

/* How the byte sequence at p is shown: 0 as it is (*n bytes), else the
 * escape written into esc (NUL-terminated) for *n bytes of input. */
static int escape_at(const unsigned char *p, const unsigned char *end, int keep_lines, size_t *n, char esc[8]) {
  unsigned c = *p;
  *n = 1;
  if (c < 0x20 || c == 0x7F) {
    if (keep_lines && (c == '\n' || c == '\t')) return 0;
    if (c == '\n') snprintf(esc, 8, "\\n");
    else if (c == '\r') snprintf(esc, 8, "\\r");
    else if (c == '\t') snprintf(esc, 8, "\\t");
    else snprintf(esc, 8, "\\x%02x", c);
    return 1;
  }
  if (c < 0x80) return 0;
  unsigned cp;
  int k = peft_json_utf8_len(p, end, &cp, 0);
  if (k == 0) {
    snprintf(esc, 8, "\\x%02x", c);
    return 1;
  }
  *n = (size_t)k;
  if (cp <= 0x9F) {
    snprintf(esc, 8, "\\x%02x", cp);
    return 1;
  }
  if (is_format_char(cp)) {
    snprintf(esc, 8, "\\u%04x", cp & 0xFFFF);
    return 1;
  }
  return 0;
}

size_t peft_printable(const char *s, size_t len, char *out, int keep_lines) {
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  size_t o = 0;
  while (p < end) {
    size_t n;
    char esc[8];
    if (escape_at(p, end, keep_lines, &n, esc)) {
      for (const char *e = esc; *e; e++) {
        if (out) out[o] = *e;
        o++;
      }
    } else {
      for (size_t i = 0; i < n; i++) {
        if (out) out[o] = (char)p[i];
        o++;
      }
    }
    p += n;
  }
  return o;
}

size_t peft_printable_into(const char *s, size_t len, char *out, size_t size, int keep_lines) {
  if (size == 0) return 0;
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  size_t o = 0;
  while (p < end) {
    size_t n;
    char esc[8];
    const char *piece = (const char *)p;
    size_t plen;
    if (escape_at(p, end, keep_lines, &n, esc)) {
      piece = esc;
      plen = strlen(esc);
    } else {
      plen = n;
    }
    if (o + plen >= size) break;
    memcpy(out + o, piece, plen);
    o += plen;
    p += n;
  }
  out[o] = '\0';
  return o;
}

int peft_is_printable(const char *s, size_t len, int keep_lines) {
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  while (p < end) {
    if (*p >= 0x20 && *p < 0x7F) {
      p++;
      continue;
    }
    size_t n;
    char esc[8];
    if (escape_at(p, end, keep_lines, &n, esc)) return 0;
    p += n;
  }
  return 1;
}
