/*
 * peft_json.h - the one JSON reader of the core (no Lua here).
 *
 * One lexer and parser serve every JSON the runtime reads: adapter configs
 * (through the Lua binding lpeft_json.c, which builds Lua values), and
 * safetensors headers and their sharded indexes (peft_safetensors.c, which
 * checks them as they are read and keeps only what they describe). The
 * parser reports what it reads as events to a handler, so that no caller
 * holds more than it needs; errors give the position as "line N, column M:
 * problem".
 *
 * What every document must be (RFC 8259, with Python's and serde_json's
 * choices where they differ): strings of valid UTF-8 (encoded surrogates,
 * such as the bytes ED A0 80, are refused, as Python's and Rust's UTF-8
 * decoders refuse them), no control characters in strings, escapes among
 * \" \\ \/ \b \f \n \r \t \uXXXX, numbers without leading zeros, nothing
 * after the value but white space. Limits: PEFT_JSON_MAX_STRING bytes per
 * string once decoded, and the nesting depth the caller gives.
 *
 * Numbers: a literal without fraction or exponent is an integer; one that
 * does not fit in 64 bits is a big integer, whose digits are handed over as
 * written (Python keeps them exactly); anything else is a float.
 */
#ifndef PEFT_JSON_H
#define PEFT_JSON_H

#include <stddef.h>

/* Longest string (or key) accepted, in bytes once decoded. */
#define PEFT_JSON_MAX_STRING (1024 * 1024)

/* Parser flags. */
enum {
  PEFT_JSON_PYTHON = 1,         /* NaN, Infinity and -Infinity are numbers (Python's json) */
  PEFT_JSON_STRICT_UNICODE = 2, /* an escaped surrogate without its pair (\ud800) is refused, as
                                   serde_json refuses it; otherwise it decodes to the three bytes
                                   of its code point (ED A0 80), as Python keeps it in a str */
  PEFT_JSON_NO_NUL = 4          /* \u0000 is refused (for C strings) */
};

typedef struct peft_json_string {
  const char *raw; /* between the quotes, as written */
  size_t raw_len;
  size_t len;  /* in bytes once decoded */
  int escaped; /* raw holds escapes: decode it with peft_json_unescape */
} peft_json_string;

typedef enum peft_json_number_kind { PEFT_JSON_INT, PEFT_JSON_BIGINT, PEFT_JSON_FLOAT } peft_json_number_kind;

typedef struct peft_json_number {
  peft_json_number_kind kind;
  long long integer; /* PEFT_JSON_INT */
  double number;     /* PEFT_JSON_FLOAT; for a big integer, the nearest double */
  const char *text;  /* the literal as written */
  size_t text_len;
} peft_json_number;

typedef enum peft_json_literal { PEFT_JSON_NULL, PEFT_JSON_TRUE, PEFT_JSON_FALSE } peft_json_literal;

/* What the parser reports, in document order. Each function returns NULL to
 * go on, or a message (a static string) that stops the parse with an error
 * at the current position. A member event follows each item of an array and
 * each key and value of an object (index counts from 1); end carries the
 * number of items or members. The parser holds no memory of its own while it
 * calls a handler, so a handler may longjmp out of it (a Lua error). */
typedef struct peft_json_handler {
  const char *(*begin)(void *ud, int is_object);
  const char *(*end)(void *ud, int is_object, size_t count);
  const char *(*member)(void *ud, int is_object, size_t index);
  const char *(*string)(void *ud, const peft_json_string *s, int is_key);
  const char *(*number)(void *ud, const peft_json_number *n);
  const char *(*literal)(void *ud, peft_json_literal which);
} peft_json_handler;

typedef struct peft_json_error {
  long line, column; /* 1-based; the column counts characters */
  size_t offset;     /* in bytes */
  int oom;           /* the problem is an allocation that failed */
  char problem[96];
  char message[128]; /* "line N, column M: problem" */
} peft_json_error;

/* Parses text[0..len) and reports it to h. Returns 0, or -1 with err
 * filled. */
int peft_json_parse(const char *text, size_t len, unsigned flags, int max_depth, const peft_json_handler *h,
                    void *ud, peft_json_error *err);

/* Writes the s->len decoded bytes of a string the parser reported. */
void peft_json_unescape(const peft_json_string *s, char *out);

/* Length (1 to 4) of the UTF-8 sequence at p, or 0 when it is not valid;
 * the code point in *cp. Encoded surrogates (ED A0 80 to ED BF BF) count as
 * valid only when surrogates is non-zero. */
int peft_json_utf8_len(const unsigned char *p, const unsigned char *end, unsigned *cp, int surrogates);

/* Python's repr() of a float into buf (at least 32 bytes); returns the
 * length. */
int peft_json_format_double(double x, char *buf, size_t size);

#endif
