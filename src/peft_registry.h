/*
 * peft_registry.h - the C core: the PeftType enum (built-in members plus the
 * ones extensions add), the TaskType enum, and the method registry behind
 * PEFT's four mappings (config, tuner, prefix, mixed).
 *
 * No Lua here. Every function that can fail returns a status and, when given a
 * peft_error, fills it with the error kind and a message naming the offending
 * value. A failed call changes nothing. A NULL registry is a TypeError for the
 * functions that report errors, and an empty answer (0, -1, NULL) for the
 * others.
 *
 * Strings: look-ups take a name and its length and compare both, so that a
 * name holding a NUL matches nothing; the strings a registration is given
 * are NUL-terminated (a caller holding lengths, like the Lua binding, refuses
 * a NUL first).
 *
 * Ownership: the registry copies every string it is given. Strings it returns
 * belong to the registry and stay valid until the entry is rolled back or the
 * registry is freed.
 *
 * Thread safety: none. Use one registry per thread, or lock around it.
 */
#ifndef PEFT_REGISTRY_H
#define PEFT_REGISTRY_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest name, PeftType member or prefix the registry accepts, in bytes. */
#define PEFT_NAME_MAX 128
/* Size of the message buffer in peft_error (enough for two PEFT_NAME_MAX
 * names and the surrounding text). */
#define PEFT_ERROR_MAX 512

typedef enum peft_status {
  PEFT_OK = 0,
  PEFT_EVALUE, /* ValueError: a bad name, an unknown type, inconsistent data */
  PEFT_EKEY,   /* KeyError: a duplicate method or prefix */
  PEFT_ETYPE,  /* TypeError: a required argument is missing */
  PEFT_ENOMEM, /* MemoryError: an allocation failed */
  PEFT_EOS,    /* OSError: a file could not be read or written (also
                  FileNotFoundError, NotADirectoryError) */
  PEFT_EJSON,  /* JSONDecodeError: malformed JSON */
  PEFT_EOTHER, /* any other error (err.kind names it) */
  PEFT_ENOTFOUND /* FileNotFoundError: a path that does not exist */
} peft_status;

/* Longest error kind kept in peft_error.kind, with its NUL. */
#define PEFT_KIND_MAX 48

typedef struct peft_error {
  peft_status status;
  char message[PEFT_ERROR_MAX];
  /* The exact kind, as Python names the exception and as the peft command
   * prints it: "ValueError", "FileNotFoundError", "AttributeError",
   * "ExtensionError", ... (status groups them: AttributeError is a
   * PEFT_ETYPE, NotADirectoryError a PEFT_EOS). */
  char kind[PEFT_KIND_MAX];
} peft_error;

/* "ValueError", "KeyError", "TypeError", "MemoryError", "OSError",
 * "JSONDecodeError", "FileNotFoundError", "Error", or "OK". */
const char *peft_status_kind(peft_status status);

/* Fills err (when not NULL) with a status and a printf-style message;
 * returns the status. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
peft_status peft_error_set(peft_error *err, peft_status status, const char *fmt, ...);
/* The same with a va_list (for wrappers). */
peft_status peft_error_vset(peft_error *err, peft_status status, const char *fmt, va_list ap);

typedef struct peft_registry peft_registry;

/* A new registry holding the built-in PeftType members and no methods, or NULL
 * when out of memory. */
peft_registry *peft_registry_new(void);
void peft_registry_free(peft_registry *reg);

/* --- PeftType ---------------------------------------------------------- */

size_t peft_type_count(const peft_registry *reg);
/* The i-th member (0-based, declaration order), or NULL when out of range. */
const char *peft_type_name(const peft_registry *reg, size_t i);
/* Index of the member name[0..len), or -1 when it is not a member (or name
 * is NULL). Names are compared with their length: "LORA\0X" is not LORA. */
long peft_type_index(const peft_registry *reg, const char *name, size_t len);
/* Adds the member name[0..len). ValueError when it is not an upper-case
 * identifier (a NUL included), is too long, or is already a member. Returns
 * PEFT_OK or the error status. */
peft_status peft_add_peft_type(peft_registry *reg, const char *name, size_t len, peft_error *err);

/* --- TaskType (fixed) -------------------------------------------------- */

size_t peft_task_count(void);
const char *peft_task_name(size_t i);
long peft_task_index(const char *name, size_t len);

/* --- Methods ----------------------------------------------------------- */

typedef struct peft_method_spec {
  const char *name;               /* required: lower-case method name */
  const char *prefix;             /* NULL: name followed by "_" */
  int is_mixed_compatible;        /* non-zero: also goes in the mixed mapping */
  const char *shares_prefix_with; /* NULL, or the method whose prefix this one
                                     deliberately reuses (AdaLoRA: "lora") */
  const char *model_prefix;       /* the model class's own prefix, or NULL */
  const char *config_peft_type;   /* the config class's peft_type, or NULL */
} peft_method_spec;

typedef struct peft_method_info {
  const char *name;
  const char *peft_type;
  const char *prefix;
  int is_mixed_compatible;
  const char *shares_prefix_with; /* NULL when the prefix is its own */
} peft_method_info;

/* Registers a method under the PeftType name.upper(). Checks, in this order:
 *   name ends with '_'                       ValueError
 *   name not lower-case                      ValueError
 *   name.upper() not a PeftType member       ValueError
 *   a method already registered for the type KeyError
 *   prefix taken, and not declared shared    KeyError
 *   shares_prefix_with names no method, or
 *     a method with another prefix           ValueError
 *   model_prefix set and different           ValueError
 *   config_peft_type set and different       ValueError
 * Returns the new method's index (>= 0), or -1 with err filled. */
long peft_register_method(peft_registry *reg, const peft_method_spec *spec, peft_error *err);

size_t peft_method_count(const peft_registry *reg);
/* Fills out for the i-th registered method (registration order). Returns 0 on
 * success, -1 when i is out of range. */
int peft_method_at(const peft_registry *reg, size_t i, peft_method_info *out);
/* Index of the method registered for a PeftType member / with a method name /
 * first registered with a prefix (each given with its length), or -1. */
long peft_method_by_type(const peft_registry *reg, const char *peft_type, size_t len);
long peft_method_by_name(const peft_registry *reg, const char *name, size_t len);
long peft_method_by_prefix(const peft_registry *reg, const char *prefix, size_t len);

/* --- Transactions ------------------------------------------------------ */

/* A point to roll back to: everything added after it (members and methods)
 * can be removed, restoring the registry exactly. */
typedef struct peft_registry_mark {
  size_t types;
  size_t methods;
} peft_registry_mark;

peft_registry_mark peft_registry_mark_now(const peft_registry *reg);
void peft_registry_rollback(peft_registry *reg, peft_registry_mark mark);

/* --- Suggestions ------------------------------------------------------- */

/* Edit distance (Damerau: insert, delete, substitute, swap of neighbours),
 * case-insensitive. Stops early and returns limit + 1 once the distance is
 * known to exceed limit. */
size_t peft_edit_distance(const char *a, const char *b, size_t limit);

/* Writes into out (at most k entries) the indexes of the names closest to
 * query, best first, keeping only reasonable candidates (distance at most a
 * third of the longer name, at least 1, or a case-insensitive prefix match).
 * Returns the number written. */
size_t peft_closest(const char *query, const char *const *names, size_t n, size_t *out, size_t k);

#ifdef __cplusplus
}
#endif

#endif
