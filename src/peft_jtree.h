/*
 * peft_jtree.h - a small JSON reader that builds a tree in C memory, for the
 * parts of the core that must not depend on Lua (the safetensors header and
 * its sharded index). Numbers without a fraction or exponent are kept as
 * 64-bit integers when they fit. Duplicate object keys are all kept, in
 * order (callers that must refuse them check; pj_get finds the first).
 */
#ifndef PEFT_JTREE_H
#define PEFT_JTREE_H

#include <stddef.h>

#define PJ_MAX_DEPTH 64
/* Longest string (or key), in bytes as written. */
#define PJ_MAX_STRING (1024 * 1024)

typedef enum pj_type { PJ_NULL, PJ_BOOL, PJ_INT, PJ_FLOAT, PJ_STRING, PJ_ARRAY, PJ_OBJECT } pj_type;

typedef struct pj_value pj_value;

typedef struct pj_member {
  char *key; /* NUL-terminated (keys with NUL are refused) */
  pj_value *value;
} pj_member;

struct pj_value {
  pj_type type;
  union {
    int boolean;
    long long integer;
    double number;
    struct {
      char *s; /* NUL-terminated; len excludes the NUL */
      size_t len;
    } string;
    struct {
      pj_value **items;
      size_t n;
    } array;
    struct {
      pj_member *members;
      size_t n;
    } object;
  } u;
};

/* Parses text[0..len). On success returns 0 and sets *out (free with
 * pj_free). On failure returns -1 and writes "offset N: problem" into err
 * (errsize bytes), or returns -2 when out of memory. */
int pj_parse(const char *text, size_t len, pj_value **out, char *err, size_t errsize);
void pj_free(pj_value *v);
/* The member of an object, or NULL. */
const pj_value *pj_get(const pj_value *obj, const char *key);
const char *pj_type_name(pj_type t);

#endif
