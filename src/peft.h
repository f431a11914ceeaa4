/*
 * peft.h - the C API of the peft runtime.
 *
 * A runtime is a private Lua state with the peft module loaded: the C core,
 * every built-in method, and the extensions in PEFT_PATH. Through it a C host
 * lists the PeftType / TaskType members and the registered methods, loads
 * adapter configs from a path or a buffer, reads their fields as C values,
 * validates them, collects every warning and error as text, and saves them.
 *
 *   peft_error err;
 *   peft_runtime *rt = peft_open(&err);
 *   if (!rt) { fprintf(stderr, "%s\n", err.message); return 1; }
 *   peft_config *cfg = peft_config_load(rt, "adapter_dir", 0, &err);
 *   if (!cfg) fprintf(stderr, "%s: %s\n", peft_status_kind(err.status), err.message);
 *   ...
 *   peft_config_free(cfg);
 *   peft_close(rt);
 *
 * Error policy: no function aborts the host, exits, or longjmps through it.
 * Functions that can fail return NULL or -1 and fill the caller's peft_error
 * (kind in err.status, text in err.message; a message longer than the buffer
 * is cut; err may be NULL). Out of memory is reported as PEFT_ENOMEM. A NULL
 * handle or output pointer is a PEFT_ETYPE error naming the function ("...:
 * config is NULL"); the functions without a peft_error give NULL or 0 for it.
 * Messages and warnings are text for people: the control characters they
 * hold (from a file's keys or values) are escaped, as Python's repr does.
 *
 * Ownership: objects returned by peft_open / peft_config_load* belong to the
 * caller and are released with peft_close / peft_config_free (configs must
 * be freed before their runtime). Strings returned as `const char *` belong
 * to the object they come from and stay valid until the next call on that
 * object or its release; strings returned as `char *` are the caller's, to
 * release with free().
 *
 * Threads: a runtime is not thread-safe. Use one runtime per thread, or
 * serialise every call on a runtime (and on its configs) with a lock.
 */
#ifndef PEFT_H
#define PEFT_H

#include <stddef.h>

#include "peft_registry.h"

#ifdef __cplusplus
extern "C" {
#endif

struct lua_State;

typedef struct peft_runtime peft_runtime;
typedef struct peft_config peft_config;

/* 2: the registry look-ups take a length; peft_value carries one. */
#define PEFT_API_VERSION 2

/* Flags for the loaders. */
#define PEFT_LOAD_STRICT 1 /* unknown keys are an error, not a warning */

/* The largest adapter config a runtime loads unless told otherwise
 * (peft_set_config_limit): a file or a buffer, in bytes. */
#define PEFT_CONFIG_MAX_DEFAULT (16u * 1024 * 1024)

/* --- runtime ----------------------------------------------------------- */

/* Opens a runtime (built-ins, then PEFT_PATH extensions; an extension that
 * fails is reported as a warning, see peft_runtime_warning). NULL on failure. */
peft_runtime *peft_open(peft_error *err);
/* The same with a custom allocator for the Lua state (the lua_Alloc
 * signature); the C core allocates with malloc. */
peft_runtime *peft_open_with(void *(*alloc)(void *ud, void *ptr, size_t osize, size_t nsize), void *ud,
                             peft_error *err);
void peft_close(peft_runtime *rt);

/* Warnings the runtime emitted outside any config (failing extensions). */
size_t peft_runtime_warning_count(const peft_runtime *rt);
const char *peft_runtime_warning(const peft_runtime *rt, size_t i);

/* The runtime's registry, for the functions of peft_registry.h (list the
 * PeftType members and the methods with their prefix and mixed flag). Valid
 * until peft_close. */
const peft_registry *peft_runtime_registry(const peft_runtime *rt);

/* Loads an extension script into the runtime (rolled back if it fails). */
int peft_load_extension(peft_runtime *rt, const char *path, peft_error *err);

/* Sets the largest adapter config the runtime loads, from a file or a buffer
 * (PEFT_CONFIG_MAX_DEFAULT at first): a larger one is refused before it is
 * read or copied. */
int peft_set_config_limit(peft_runtime *rt, size_t max_bytes, peft_error *err);

/* The runtime's Lua state, for hosts that want to go further (do not close
 * it; do not leave values on its stack). */
struct lua_State *peft_runtime_lua(peft_runtime *rt);

/* Makes `require "peft"` work in a host's own Lua state from the sources
 * compiled into the library (and preloads peft.core), then requires it and
 * leaves the module on the stack. Returns 0, or -1 with err filled (the
 * stack unchanged). */
int peft_attach(struct lua_State *L, peft_error *err);

/* --- configs ----------------------------------------------------------- */

/* path: an adapter directory or the adapter_config.json itself. */
peft_config *peft_config_load(peft_runtime *rt, const char *path, int flags, peft_error *err);
/* data: the text of an adapter_config.json (len bytes, at most the limit of
 * peft_set_config_limit); name: used in messages (may be NULL). */
peft_config *peft_config_load_buffer(peft_runtime *rt, const char *data, size_t len, const char *name, int flags,
                                     peft_error *err);
void peft_config_free(peft_config *cfg);

const char *peft_config_class(const peft_config *cfg);     /* "LoraConfig" */
const char *peft_config_peft_type(const peft_config *cfg); /* "LORA" */
const char *peft_config_task_type(const peft_config *cfg); /* NULL when null */

typedef enum peft_value_type {
  PEFT_VALUE_NULL,
  PEFT_VALUE_BOOL,
  PEFT_VALUE_INT,
  PEFT_VALUE_FLOAT,
  PEFT_VALUE_STRING,
  PEFT_VALUE_JSON /* a list or an object, as JSON text */
} peft_value_type;

typedef struct peft_value {
  peft_value_type type;
  int boolean;
  long long integer;
  double number;
  const char *string; /* STRING and JSON; owned by the config; NUL-terminated */
  size_t length;      /* of string (a string value may hold a NUL); 0 for the other types */
} peft_value;

/* Reads a field (an unknown key kept from the file reads too). -1 with a
 * TypeError naming the closest field when there is no such field. */
int peft_config_get(peft_config *cfg, const char *field, peft_value *out, peft_error *err);
/* Sets a field from JSON text ("16", "[\"q_proj\"]", "null", "\"text\"");
 * the value is type-checked. */
int peft_config_set_json(peft_config *cfg, const char *field, const char *json, peft_error *err);
/* Runs every check again; -1 with the first error. */
int peft_config_validate(peft_config *cfg, peft_error *err);

size_t peft_config_warning_count(const peft_config *cfg);
const char *peft_config_warning(const peft_config *cfg, size_t i);

/* The JSON PEFT would write (caller frees), or NULL. */
char *peft_config_to_json(peft_config *cfg, peft_error *err);
/* Writes dir/adapter_config.json atomically. */
int peft_config_save(peft_config *cfg, const char *dir, peft_error *err);

/* --- where an adapter works ------------------------------------------- */

/* What `peft check PATH --json` prints for one adapter (a directory or its adapter_config.json) and the
 * targets named (as the command line spells them: "peft 0.6.2", "0.6.2", "vllm", "vllm:max_lora_rank=64";
 * ntargets 0: every PEFT release, summarised, and every engine): the JSON text, the caller's to free(), or
 * NULL with err filled (a missing file, an unknown target or option). */
char *peft_check(peft_runtime *rt, const char *path, const char *const *targets, size_t ntargets, peft_error *err);

#ifdef __cplusplus
}
#endif

#endif
