/*
 * fuzz_registry.c - libFuzzer target: registration calls driven by the
 * input. Each input is a program of operations on a fresh registry (add a
 * PeftType member, register a method, mark, roll back, look up); after every
 * operation the registry's invariants are checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peft_registry.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

typedef struct reader {
  const unsigned char *p, *end;
} reader;

static int byte(reader *r) { return r->p < r->end ? *r->p++ : -1; }

/* A string of up to 140 bytes from the input (NUL-free), or NULL (byte 0). */
static const char *str(reader *r, char *buf, size_t cap) {
  int n = byte(r);
  if (n <= 0) return NULL;
  size_t len = (size_t)n % 141;
  if (len >= cap) len = cap - 1;
  size_t i = 0;
  while (i < len && r->p < r->end) {
    char c = (char)*r->p++;
    buf[i++] = c ? c : 'a';
  }
  buf[i] = '\0';
  return buf;
}

/* The same with NUL bytes kept: look-ups and new members take a length. */
static const char *strn(reader *r, char *buf, size_t cap, size_t *len) {
  int n = byte(r);
  *len = 0;
  if (n <= 0) return NULL;
  size_t want = (size_t)n % 141;
  if (want >= cap) want = cap - 1;
  while (*len < want && r->p < r->end) buf[(*len)++] = (char)*r->p++;
  buf[*len] = '\0';
  return buf;
}

static void check(const peft_registry *reg) {
  size_t nt = peft_type_count(reg), nm = peft_method_count(reg);
  if (nm > nt) abort();
  for (size_t i = 0; i < nt; i++) {
    const char *name = peft_type_name(reg, i);
    if (name == NULL || peft_type_index(reg, name, strlen(name)) != (long)i) abort();
  }
  for (size_t i = 0; i < nm; i++) {
    peft_method_info info;
    if (peft_method_at(reg, i, &info) != 0) abort();
    if (peft_method_by_type(reg, info.peft_type, strlen(info.peft_type)) != (long)i) abort();
    if (peft_method_by_name(reg, info.name, strlen(info.name)) != (long)i) abort();
    long owner = peft_method_by_prefix(reg, info.prefix, strlen(info.prefix));
    if (owner < 0 || (size_t)owner > i) abort();
    peft_method_info o;
    peft_method_at(reg, (size_t)owner, &o);
    if (strcmp(o.prefix, info.prefix) != 0) abort();
    if (owner != (long)i && info.shares_prefix_with == NULL) abort(); /* undeclared sharing */
  }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  reader r = {data, data + size};
  peft_registry *reg = peft_registry_new();
  if (reg == NULL) return 0;
  peft_registry_mark marks[8];
  int nmarks = 0;
  char a[160], b[160], c[160], d[160];
  int op;
  while ((op = byte(&r)) >= 0) {
    peft_error err;
    switch (op % 5) {
      case 0: {
        size_t len;
        const char *name = strn(&r, a, sizeof a, &len);
        size_t before = peft_type_count(reg);
        peft_status st = peft_add_peft_type(reg, name, len, &err);
        if ((st == PEFT_OK) != (peft_type_count(reg) == before + 1)) abort();
        if (st == PEFT_OK && (memchr(name, 0, len) != NULL || peft_type_index(reg, name, len) != (long)before)) abort();
        break;
      }
      case 1: {
        peft_method_spec spec = {0};
        spec.name = str(&r, a, sizeof a);
        spec.prefix = str(&r, b, sizeof b);
        spec.shares_prefix_with = str(&r, c, sizeof c);
        spec.model_prefix = str(&r, d, sizeof d);
        spec.is_mixed_compatible = byte(&r) & 1;
        size_t before = peft_method_count(reg);
        long idx = peft_register_method(reg, &spec, &err);
        if ((idx < 0) != (peft_method_count(reg) == before)) abort(); /* failure changes nothing */
        break;
      }
      case 2:
        if (nmarks < 8) marks[nmarks++] = peft_registry_mark_now(reg);
        break;
      case 3:
        if (nmarks > 0) peft_registry_rollback(reg, marks[--nmarks]);
        break;
      default: {
        size_t qlen;
        const char *q = strn(&r, a, sizeof a, &qlen);
        if (q) {
          /* a name holding a NUL matches nothing */
          int has_nul = memchr(q, 0, qlen) != NULL;
          if (peft_type_index(reg, q, qlen) >= 0 && has_nul) abort();
          if (peft_method_by_prefix(reg, q, qlen) >= 0 && has_nul) abort();
          if (peft_method_by_name(reg, q, qlen) >= 0 && has_nul) abort();
          const char *names[] = {"LORA", "LOHA", q};
          size_t out[3];
          peft_closest(q, names, 3, out, 3);
        }
      }
    }
    check(reg);
  }
  peft_registry_free(reg);
  return 0;
}
