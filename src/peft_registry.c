/*
 * peft_registry.c - enums and method registry (see peft_registry.h).
 *
 * Members and methods live in append-only arrays, so a mark is a pair of
 * lengths and a roll-back truncates. Look-ups by name and by prefix go through
 * open-addressing hash indexes over those arrays; they are rebuilt after a
 * roll-back. Every allocation a change needs is made before the change is
 * written, so an out-of-memory failure leaves the registry untouched.
 */
#include "peft_registry.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peft_types.h"

/* --- string index ------------------------------------------------------ */

/* The key of entry i, and its length in *len. */
typedef const char *(*key_fn)(const peft_registry *reg, size_t i, size_t *len);

typedef struct strindex {
  size_t *slots; /* entry index + 1; 0 marks an empty slot */
  size_t cap;    /* power of two, or 0 */
  size_t count;
  key_fn key;
} strindex;

typedef struct method_rec {
  char *name;
  char *prefix;
  size_t name_len, prefix_len;
  char *shares;      /* NULL or a copy of shares_prefix_with */
  size_t type;       /* index into types */
  int mixed;
} method_rec;

struct peft_registry {
  char **types; /* member names; built-ins point at static strings */
  size_t *type_lens;
  size_t ntypes, captypes;
  method_rec *methods;
  size_t nmethods, capmethods;
  long *method_of_type; /* per member: method index or -1; captypes long */
  strindex type_index;
  strindex prefix_index;
};

static uint64_t hash_str(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ULL;
  }
  return h;
}

/* Keys are compared with their length: a key holding a NUL ("LORA\0X")
 * matches no entry (no entry holds one). */
static long index_find(const peft_registry *reg, const strindex *ix, const char *key, size_t len) {
  if (ix->cap == 0) return -1;
  size_t mask = ix->cap - 1;
  for (size_t p = (size_t)hash_str(key, len) & mask;; p = (p + 1) & mask) {
    size_t v = ix->slots[p];
    if (v == 0) return -1;
    size_t klen;
    const char *k = ix->key(reg, v - 1, &klen);
    if (klen == len && memcmp(k, key, len) == 0) return (long)(v - 1);
  }
}

/* Inserts without growing; the caller made room with index_reserve. */
static void index_put(const peft_registry *reg, strindex *ix, size_t entry) {
  size_t mask = ix->cap - 1;
  size_t klen;
  const char *k = ix->key(reg, entry, &klen);
  size_t p = (size_t)hash_str(k, klen) & mask;
  while (ix->slots[p] != 0) p = (p + 1) & mask;
  ix->slots[p] = entry + 1;
  ix->count++;
}

/* Makes room for `want` entries at a load factor of at most 1/2. On failure
 * the index is unchanged. Existing entries are those listed by `entries`. */
static int index_reserve(const peft_registry *reg, strindex *ix, size_t want,
                         const size_t *entries, size_t nentries) {
  if (want * 2 <= ix->cap) return 0;
  size_t cap = ix->cap ? ix->cap : 16;
  while (cap < want * 2) cap *= 2;
  size_t *slots = calloc(cap, sizeof *slots);
  if (slots == NULL) return -1;
  free(ix->slots);
  ix->slots = slots;
  ix->cap = cap;
  ix->count = 0;
  for (size_t i = 0; i < nentries; i++) index_put(reg, ix, entries[i]);
  return 0;
}

static const char *type_key(const peft_registry *reg, size_t i, size_t *len) {
  *len = reg->type_lens[i];
  return reg->types[i];
}

static const char *prefix_key(const peft_registry *reg, size_t i, size_t *len) {
  *len = reg->methods[i].prefix_len;
  return reg->methods[i].prefix;
}

/* Rebuilds both indexes in place (capacity only shrinks in use, so no
 * allocation is needed). */
static void rebuild_indexes(peft_registry *reg) {
  memset(reg->type_index.slots, 0, reg->type_index.cap * sizeof(size_t));
  reg->type_index.count = 0;
  for (size_t i = 0; i < reg->ntypes; i++) index_put(reg, &reg->type_index, i);
  if (reg->prefix_index.cap) {
    memset(reg->prefix_index.slots, 0, reg->prefix_index.cap * sizeof(size_t));
    reg->prefix_index.count = 0;
    for (size_t i = 0; i < reg->nmethods; i++)
      if (index_find(reg, &reg->prefix_index, reg->methods[i].prefix, reg->methods[i].prefix_len) < 0)
        index_put(reg, &reg->prefix_index, i);
  }
}

/* --- errors ------------------------------------------------------------ */

const char *peft_status_kind(peft_status status) {
  switch (status) {
    case PEFT_OK: return "OK";
    case PEFT_EVALUE: return "ValueError";
    case PEFT_EKEY: return "KeyError";
    case PEFT_ETYPE: return "TypeError";
    case PEFT_ENOMEM: return "MemoryError";
    case PEFT_EOS: return "OSError";
    case PEFT_EJSON: return "JSONDecodeError";
    case PEFT_EOTHER: return "Error";
    case PEFT_ENOTFOUND: return "FileNotFoundError";
  }
  return "Error";
}

peft_status peft_error_vset(peft_error *err, peft_status status, const char *fmt, va_list ap) {
  if (err != NULL) {
    err->status = status;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    snprintf(err->kind, sizeof err->kind, "%s", peft_status_kind(status));
  }
  return status;
}

peft_status peft_error_set(peft_error *err, peft_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  peft_error_vset(err, status, fmt, ap);
  va_end(ap);
  return status;
}

#define fail peft_error_set

static peft_status fail_nomem(peft_error *err) {
  return fail(err, PEFT_ENOMEM, "out of memory");
}

static void clear_error(peft_error *err) {
  if (err != NULL) {
    err->status = PEFT_OK;
    err->message[0] = '\0';
    snprintf(err->kind, sizeof err->kind, "OK");
  }
}

static char *dupstr(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d != NULL) memcpy(d, s, n);
  return d;
}

static int is_builtin_name(const peft_registry *reg, size_t i) {
  return i < PEFT_TYPE_BUILTIN_COUNT && reg->types[i] == peft_builtin_type_names[i];
}

/* --- life cycle -------------------------------------------------------- */

static int grow_types(peft_registry *reg, size_t want) {
  if (want <= reg->captypes) return 0;
  size_t cap = reg->captypes ? reg->captypes : 64;
  while (cap < want) cap *= 2;
  char **types = realloc(reg->types, cap * sizeof *types);
  if (types == NULL) return -1;
  reg->types = types;
  size_t *lens = realloc(reg->type_lens, cap * sizeof *lens);
  if (lens == NULL) return -1; /* types grew, harmlessly: capacity only */
  reg->type_lens = lens;
  long *mot = realloc(reg->method_of_type, cap * sizeof *mot);
  if (mot == NULL) return -1;
  reg->method_of_type = mot;
  reg->captypes = cap;
  return 0;
}

peft_registry *peft_registry_new(void) {
  peft_registry *reg = calloc(1, sizeof *reg);
  if (reg == NULL) return NULL;
  reg->type_index.key = type_key;
  reg->prefix_index.key = prefix_key;
  if (grow_types(reg, PEFT_TYPE_BUILTIN_COUNT) != 0 ||
      index_reserve(reg, &reg->type_index, PEFT_TYPE_BUILTIN_COUNT, NULL, 0) != 0) {
    peft_registry_free(reg);
    return NULL;
  }
  for (size_t i = 0; i < PEFT_TYPE_BUILTIN_COUNT; i++) {
    reg->types[i] = (char *)peft_builtin_type_names[i];
    reg->type_lens[i] = strlen(peft_builtin_type_names[i]);
    reg->method_of_type[i] = -1;
    reg->ntypes++;
    index_put(reg, &reg->type_index, i);
  }
  return reg;
}

static void free_method(method_rec *m) {
  free(m->name);
  free(m->prefix);
  free(m->shares);
}

void peft_registry_free(peft_registry *reg) {
  if (reg == NULL) return;
  for (size_t i = 0; i < reg->nmethods; i++) free_method(&reg->methods[i]);
  for (size_t i = 0; i < reg->ntypes; i++)
    if (!is_builtin_name(reg, i)) free(reg->types[i]);
  free(reg->types);
  free(reg->type_lens);
  free(reg->method_of_type);
  free(reg->methods);
  free(reg->type_index.slots);
  free(reg->prefix_index.slots);
  free(reg);
}

/* --- PeftType ---------------------------------------------------------- */

size_t peft_type_count(const peft_registry *reg) { return reg ? reg->ntypes : 0; }

const char *peft_type_name(const peft_registry *reg, size_t i) {
  return reg && i < reg->ntypes ? reg->types[i] : NULL;
}

long peft_type_index(const peft_registry *reg, const char *name, size_t len) {
  if (reg == NULL || name == NULL) return -1;
  return index_find(reg, &reg->type_index, name, len);
}

/* Reserves the type index for one more member, rebuilding from all members. */
static int reserve_type_index(peft_registry *reg, size_t want) {
  if (want * 2 <= reg->type_index.cap) return 0;
  size_t cap = reg->type_index.cap ? reg->type_index.cap : 16;
  while (cap < want * 2) cap *= 2;
  size_t *slots = calloc(cap, sizeof *slots);
  if (slots == NULL) return -1;
  free(reg->type_index.slots);
  reg->type_index.slots = slots;
  reg->type_index.cap = cap;
  reg->type_index.count = 0;
  for (size_t i = 0; i < reg->ntypes; i++) index_put(reg, &reg->type_index, i);
  return 0;
}

/* name[0..len) for a message, a NUL shown as \0, cut at max bytes. */
static const char *shown(const char *name, size_t len, char *buf, size_t size, size_t max) {
  size_t o = 0;
  for (size_t i = 0; i < len && i < max && o + 3 < size; i++) {
    if (name[i] == '\0') {
      buf[o++] = '\\';
      buf[o++] = '0';
    } else {
      buf[o++] = name[i];
    }
  }
  buf[o] = '\0';
  return buf;
}

peft_status peft_add_peft_type(peft_registry *reg, const char *name, size_t len, peft_error *err) {
  clear_error(err);
  char buf[2 * PEFT_NAME_MAX + 4];
  if (reg == NULL) return fail(err, PEFT_ETYPE, "peft_add_peft_type: registry is NULL");
  if (name == NULL) return fail(err, PEFT_ETYPE, "PeftType member name must be a string");
  if (len > PEFT_NAME_MAX)
    return fail(err, PEFT_EVALUE, "PeftType member name is longer than %d bytes: '%s...'", PEFT_NAME_MAX,
                shown(name, len, buf, sizeof buf, 40));
  if (!peft_is_upper_identifier(name, len))
    return fail(err, PEFT_EVALUE,
                "PeftType member must be an upper-case identifier ([A-Z][A-Z0-9_]*), got '%s'",
                shown(name, len, buf, sizeof buf, PEFT_NAME_MAX));
  if (peft_type_index(reg, name, len) >= 0)
    return fail(err, PEFT_EVALUE, "PeftType already has a member '%s'", name);
  if (grow_types(reg, reg->ntypes + 1) != 0 || reserve_type_index(reg, reg->ntypes + 1) != 0)
    return fail_nomem(err);
  char *copy = dupstr(name);
  if (copy == NULL) return fail_nomem(err);
  size_t i = reg->ntypes++;
  reg->types[i] = copy;
  reg->type_lens[i] = len;
  reg->method_of_type[i] = -1;
  index_put(reg, &reg->type_index, i);
  return PEFT_OK;
}

/* --- TaskType ---------------------------------------------------------- */

size_t peft_task_count(void) { return PEFT_TASK_TYPE_COUNT; }

const char *peft_task_name(size_t i) {
  return i < PEFT_TASK_TYPE_COUNT ? peft_task_type_names[i] : NULL;
}

long peft_task_index(const char *name, size_t len) { return peft_task_type_index(name, len); }

/* --- methods ----------------------------------------------------------- */

/* Python's str.islower() over ASCII: at least one cased character and no
 * upper-case one. Bytes >= 0x80 count as uncased. */
static int is_lower_name(const char *s) {
  int cased = 0;
  for (; *s; s++) {
    if (*s >= 'A' && *s <= 'Z') return 0;
    if (*s >= 'a' && *s <= 'z') cased = 1;
  }
  return cased;
}

long peft_register_method(peft_registry *reg, const peft_method_spec *spec, peft_error *err) {
  clear_error(err);
  if (reg == NULL) {
    fail(err, PEFT_ETYPE, "register_peft_method: registry is NULL");
    return -1;
  }
  if (spec == NULL || spec->name == NULL) {
    fail(err, PEFT_ETYPE, "register_peft_method: 'name' is required");
    return -1;
  }
  const char *name = spec->name;
  size_t len = strlen(name);
  if (len > PEFT_NAME_MAX) {
    fail(err, PEFT_EVALUE, "Name is longer than %d bytes, got '%.40s...'", PEFT_NAME_MAX, name);
    return -1;
  }
  if (len > 0 && name[len - 1] == '_') {
    fail(err, PEFT_EVALUE, "Name cannot end with '_', got %s", name);
    return -1;
  }
  if (!is_lower_name(name)) {
    fail(err, PEFT_EVALUE, "Name must be lowercase, got %s", name);
    return -1;
  }
  char upper[PEFT_NAME_MAX + 1];
  for (size_t i = 0; i <= len; i++) upper[i] = (char)toupper((unsigned char)name[i]);
  long type = peft_type_index(reg, upper, len);
  if (type < 0) {
    fail(err, PEFT_EVALUE, "Unknown PEFT type %s, add to PeftType enum first", upper);
    return -1;
  }
  if (reg->method_of_type[type] >= 0) {
    fail(err, PEFT_EKEY, "There is already PEFT method called '%s'", name);
    return -1;
  }

  char defprefix[PEFT_NAME_MAX + 2];
  const char *prefix = spec->prefix;
  if (prefix == NULL) {
    memcpy(defprefix, name, len);
    defprefix[len] = '_';
    defprefix[len + 1] = '\0';
    prefix = defprefix;
  } else if (strlen(prefix) > PEFT_NAME_MAX) {
    fail(err, PEFT_EVALUE, "Prefix is longer than %d bytes, got '%.40s...'", PEFT_NAME_MAX, prefix);
    return -1;
  } else if (prefix[0] == '\0') {
    fail(err, PEFT_EVALUE, "Prefix cannot be empty (method '%s')", name);
    return -1;
  }

  size_t prefix_len = strlen(prefix);
  long owner = peft_method_by_prefix(reg, prefix, prefix_len);
  if (spec->shares_prefix_with != NULL) {
    long base = peft_method_by_name(reg, spec->shares_prefix_with, strlen(spec->shares_prefix_with));
    if (base < 0) {
      fail(err, PEFT_EVALUE,
           "Method '%s' declares that it shares the prefix of '%s', which is not registered",
           name, spec->shares_prefix_with);
      return -1;
    }
    if (strcmp(reg->methods[base].prefix, prefix) != 0) {
      fail(err, PEFT_EVALUE,
           "Method '%s' declares that it shares the prefix of '%s', but '%s' uses '%s', not '%s'",
           name, spec->shares_prefix_with, spec->shares_prefix_with, reg->methods[base].prefix,
           prefix);
      return -1;
    }
  } else if (owner >= 0) {
    fail(err, PEFT_EKEY, "There is already a prefix called '%s'", prefix);
    return -1;
  }
  if (spec->model_prefix != NULL && strcmp(spec->model_prefix, prefix) != 0) {
    fail(err, PEFT_EVALUE, "Inconsistent prefixes: '%s' vs '%s'", prefix, spec->model_prefix);
    return -1;
  }
  if (spec->config_peft_type != NULL && strcmp(spec->config_peft_type, upper) != 0) {
    fail(err, PEFT_EVALUE, "Inconsistent peft_type: method '%s' is %s but its config class is %s",
         name, upper, spec->config_peft_type);
    return -1;
  }

  /* Every check passed: allocate everything, then commit. */
  size_t n = reg->nmethods;
  if (n == reg->capmethods) {
    size_t cap = reg->capmethods ? reg->capmethods * 2 : 64;
    method_rec *m = realloc(reg->methods, cap * sizeof *m);
    if (m == NULL) {
      fail_nomem(err);
      return -1;
    }
    reg->methods = m;
    reg->capmethods = cap;
  }
  if (reg->prefix_index.cap < (n + 1) * 2) {
    size_t *entries = malloc((n ? n : 1) * sizeof *entries);
    if (entries == NULL) {
      fail_nomem(err);
      return -1;
    }
    size_t ne = 0;
    for (size_t i = 0; i < n; i++)
      if (peft_method_by_prefix(reg, reg->methods[i].prefix, reg->methods[i].prefix_len) == (long)i)
        entries[ne++] = i;
    int rc = index_reserve(reg, &reg->prefix_index, n + 1, entries, ne);
    free(entries);
    if (rc != 0) {
      fail_nomem(err);
      return -1;
    }
  }
  method_rec rec = {0};
  rec.name = dupstr(name);
  rec.prefix = dupstr(prefix);
  rec.shares = spec->shares_prefix_with ? dupstr(spec->shares_prefix_with) : NULL;
  if (rec.name == NULL || rec.prefix == NULL || (spec->shares_prefix_with && rec.shares == NULL)) {
    free_method(&rec);
    fail_nomem(err);
    return -1;
  }
  rec.name_len = len;
  rec.prefix_len = prefix_len;
  rec.type = (size_t)type;
  rec.mixed = spec->is_mixed_compatible != 0;
  reg->methods[n] = rec;
  reg->nmethods = n + 1;
  reg->method_of_type[type] = (long)n;
  if (owner < 0) index_put(reg, &reg->prefix_index, n);
  return (long)n;
}

size_t peft_method_count(const peft_registry *reg) { return reg ? reg->nmethods : 0; }

int peft_method_at(const peft_registry *reg, size_t i, peft_method_info *out) {
  if (reg == NULL || out == NULL || i >= reg->nmethods) return -1;
  const method_rec *m = &reg->methods[i];
  out->name = m->name;
  out->peft_type = reg->types[m->type];
  out->prefix = m->prefix;
  out->is_mixed_compatible = m->mixed;
  out->shares_prefix_with = m->shares;
  return 0;
}

long peft_method_by_type(const peft_registry *reg, const char *peft_type, size_t len) {
  if (reg == NULL) return -1;
  long t = peft_type_index(reg, peft_type, len);
  return t < 0 ? -1 : reg->method_of_type[t];
}

long peft_method_by_name(const peft_registry *reg, const char *name, size_t len) {
  if (reg == NULL || name == NULL || len == 0 || len > PEFT_NAME_MAX) return -1;
  char upper[PEFT_NAME_MAX];
  for (size_t i = 0; i < len; i++) upper[i] = (char)toupper((unsigned char)name[i]);
  long m = peft_method_by_type(reg, upper, len);
  if (m < 0 || reg->methods[m].name_len != len || memcmp(reg->methods[m].name, name, len) != 0) return -1;
  return m;
}

long peft_method_by_prefix(const peft_registry *reg, const char *prefix, size_t len) {
  if (reg == NULL || prefix == NULL) return -1;
  return index_find(reg, &reg->prefix_index, prefix, len);
}

/* --- transactions ------------------------------------------------------ */

peft_registry_mark peft_registry_mark_now(const peft_registry *reg) {
  peft_registry_mark mark = {reg ? reg->ntypes : 0, reg ? reg->nmethods : 0};
  return mark;
}

void peft_registry_rollback(peft_registry *reg, peft_registry_mark mark) {
  if (reg == NULL) return;
  if (mark.methods > reg->nmethods || mark.types > reg->ntypes) return;
  if (mark.methods == reg->nmethods && mark.types == reg->ntypes) return;
  while (reg->nmethods > mark.methods) {
    method_rec *m = &reg->methods[--reg->nmethods];
    reg->method_of_type[m->type] = -1;
    free_method(m);
  }
  while (reg->ntypes > mark.types) {
    size_t i = --reg->ntypes;
    if (!is_builtin_name(reg, i)) free(reg->types[i]);
  }
  rebuild_indexes(reg);
}

/* --- suggestions ------------------------------------------------------- */

size_t peft_edit_distance(const char *a, const char *b, size_t limit) {
  if (a == NULL || b == NULL) return limit + 1;
  size_t la = strlen(a), lb = strlen(b);
  if (la > 256 || lb > 256) return limit + 1;
  if ((la > lb ? la - lb : lb - la) > limit) return limit + 1;
  /* three rolling rows of the Damerau-Levenshtein (optimal string alignment)
   * matrix */
  size_t rows[3][257];
  size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
  for (size_t j = 0; j <= lb; j++) prev[j] = j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = i;
    size_t best = cur[0];
    int ca = tolower((unsigned char)a[i - 1]);
    for (size_t j = 1; j <= lb; j++) {
      int cb = tolower((unsigned char)b[j - 1]);
      size_t cost = ca == cb ? 0 : 1;
      size_t v = prev[j] + 1;
      if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
      if (prev[j - 1] + cost < v) v = prev[j - 1] + cost;
      if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
          tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < v)
        v = prev2[j - 2] + 1;
      cur[j] = v;
      if (v < best) best = v;
    }
    if (best > limit) return limit + 1;
    size_t *t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  return prev[lb] > limit ? limit + 1 : prev[lb];
}

static int has_prefix_ci(const char *s, const char *p) {
  for (; *p; s++, p++)
    if (tolower((unsigned char)*s) != tolower((unsigned char)*p)) return 0;
  return 1;
}

size_t peft_closest(const char *query, const char *const *names, size_t n, size_t *out, size_t k) {
  if (k == 0 || query == NULL || names == NULL || out == NULL) return 0;
  size_t found = 0;
  size_t dist[16];
  if (k > 16) k = 16;
  size_t qlen = strlen(query);
  for (size_t i = 0; i < n; i++) {
    if (names[i] == NULL) continue;
    size_t nlen = strlen(names[i]);
    size_t longer = qlen > nlen ? qlen : nlen;
    size_t limit = longer / 3 ? longer / 3 : 1;
    size_t d = peft_edit_distance(query, names[i], limit);
    if (d > limit) {
      if (qlen >= 2 && has_prefix_ci(names[i], query))
        d = limit + 1; /* a prefix match ranks after every close spelling */
      else
        continue;
    }
    /* insertion into the sorted top-k */
    size_t pos = found;
    while (pos > 0 && dist[pos - 1] > d) pos--;
    if (pos >= k) continue;
    size_t last = found < k ? found : k - 1;
    for (size_t j = last; j > pos; j--) {
      dist[j] = dist[j - 1];
      out[j] = out[j - 1];
    }
    dist[pos] = d;
    out[pos] = i;
    if (found < k) found++;
  }
  return found;
}
