/*
 * peft.h - the C API of the peft runtime (C and C++).
 *
 * A runtime is a private Lua 5.4 state with the peft module loaded: the C
 * core, every built-in method, and the extensions in PEFT_PATH. Through it a
 * C host lists the PeftType / TaskType members and the registered methods,
 * loads adapter configs from a path or a buffer (or builds one), reads their
 * fields as C values (lists and dicts element by element), enumerates their
 * fields, validates them, collects every warning and error as text, and saves
 * them; on the model side it describes a base model from its safetensors
 * files, plans an adapter on it (what get_peft_model builds and save_pretrained
 * writes) and maps an adapter file's tensor names to modules, methods and
 * adapter names.
 *
 *   peft_error err;
 *   peft_runtime *rt = peft_open(&err);
 *   if (!rt) { fprintf(stderr, "%s: %s\n", err.kind, err.message); return 1; }
 *   peft_config *cfg = peft_config_load(rt, "adapter_dir", 0, &err);
 *   if (!cfg) fprintf(stderr, "%s: %s\n", err.kind, err.message);
 *   ...
 *   peft_config_free(cfg);
 *   peft_close(rt);
 *
 * Error policy: no function aborts the host, exits, or longjmps through it.
 * Functions that can fail return NULL or -1 and fill the caller's peft_error
 * (err.kind: the exact kind, as the peft command prints it, e.g.
 * "FileNotFoundError" for a missing path; err.status: its group; err.message:
 * the text, cut when longer than the buffer; err may be NULL). Out of memory
 * is reported as PEFT_ENOMEM. A NULL handle or output pointer is a PEFT_ETYPE
 * error naming the function ("...: config is NULL"); the functions without a
 * peft_error give NULL or 0 for it. Messages and warnings are text for people:
 * the control characters they hold (from a file's keys or values) are
 * escaped, as Python's repr does.
 *
 * Ownership: objects returned by peft_open, peft_config_load*,
 * peft_config_new, peft_model_describe, peft_plan_new and peft_tensor_map_*
 * belong to the caller and are released with the matching _free (peft_close
 * for a runtime). Closing a runtime while some of its configs or models are
 * still alive is allowed: the runtime goes when the last of them is freed.
 * Strings returned as `const char *` belong to the object they come from and
 * stay valid until the next call on that object or its release (those of
 * plans, models and tensor maps until their release); strings returned as
 * `char *` are the caller's, to release with peft_free() (or free()).
 *
 * Threads: a runtime is not thread-safe. Use one runtime per thread (they
 * share nothing: tested under Helgrind), or serialise every call on a
 * runtime and on its configs and models with a lock. Opening a runtime costs
 * about 0.6 ms (see the README's measurements).
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
typedef struct peft_model peft_model;
typedef struct peft_plan peft_plan;
typedef struct peft_tensor_map peft_tensor_map;

/* 2: the registry look-ups take a length; peft_value carries one.
 * 3: peft_error.kind; PEFT_ENOTFOUND; lists and dicts are PEFT_VALUE_LIST /
 *    PEFT_VALUE_DICT with a count (PEFT_VALUE_JSON is gone: their JSON text
 *    is still in .string); items, field enumeration, the model side,
 *    PEFT_LOAD_LENIENT, peft_config_new, peft_free. */
#define PEFT_API_VERSION 3

/* Flags for the loaders. */
#define PEFT_LOAD_STRICT 1 /* unknown keys are an error, not a warning */
/* Checks that PEFT added in a later release than the one the file may come
 * from (AdaLoRA's total_step > 0 and its schedule, from PEFT 0.15; IA3's
 * feedforward_modules subset, from 0.6.1) become warnings instead of errors,
 * so that a server can still read old adapters. The config keeps the flag:
 * peft_config_validate runs the same checks the same way. Every other check
 * stays an error. See the README ("Lenient loading"). */
#define PEFT_LOAD_LENIENT 2

/* The largest adapter config a runtime loads unless told otherwise
 * (peft_set_config_limit): a file or a buffer, in bytes. */
#define PEFT_CONFIG_MAX_DEFAULT (16u * 1024 * 1024)

/* The PEFT_API_VERSION the library was built with (for bindings that do not
 * see this header at build time, as LuaJIT's FFI binding). */
int peft_api_version(void);

/* Releases a `char *` this API returned (the same as the C library's free,
 * for hosts whose free is another allocator's). NULL is fine. */
void peft_free(void *p);

/* --- runtime ----------------------------------------------------------- */

/* Opens a runtime (built-ins, then PEFT_PATH extensions; an extension that
 * fails is reported as a warning, see peft_runtime_warning). NULL on failure. */
peft_runtime *peft_open(peft_error *err);
/* The same with a custom allocator for the Lua state (the lua_Alloc
 * signature); the C core allocates with malloc. */
peft_runtime *peft_open_with(void *(*alloc)(void *ud, void *ptr, size_t osize, size_t nsize), void *ud,
                             peft_error *err);
/* Closes the runtime; when configs or models of it are still alive, it goes
 * when the last of them is freed (they stay usable until then). */
void peft_close(peft_runtime *rt);

/* Warnings the runtime emitted outside any config (failing extensions). */
size_t peft_runtime_warning_count(const peft_runtime *rt);
const char *peft_runtime_warning(const peft_runtime *rt, size_t i);

/* The runtime's registry, for the functions of peft_registry.h (list the
 * PeftType members and the methods with their prefix and mixed flag). Valid
 * until peft_close. */
const peft_registry *peft_runtime_registry(const peft_runtime *rt);

/* The config class of a registered method (by method name "lora", PeftType
 * "LORA" or class name "LoraConfig"), e.g. "LoraConfig"; NULL when there is
 * none. Valid until the next call on the runtime. */
const char *peft_method_config_class(peft_runtime *rt, const char *key);
/* The same for its model class ("LoraModel"). */
const char *peft_method_model_class(peft_runtime *rt, const char *key);

/* Loads an extension script into the runtime (rolled back if it fails). */
int peft_load_extension(peft_runtime *rt, const char *path, peft_error *err);

/* Sets the largest adapter config the runtime loads, from a file or a buffer
 * (PEFT_CONFIG_MAX_DEFAULT at first): a larger one is refused before it is
 * read or copied. */
int peft_set_config_limit(peft_runtime *rt, size_t max_bytes, peft_error *err);

/* The runtime's Lua state, for hosts that want to go further (do not close
 * it; do not leave values on its stack). */
struct lua_State *peft_runtime_lua(peft_runtime *rt);

/* Makes `require "peft"` work in a host's own Lua 5.4 state from the sources
 * compiled into the library (and preloads peft.core), then requires it and
 * leaves the module on the stack. Returns 0, or -1 with err filled (the
 * stack unchanged). The host and the library must share one Lua 5.4: link
 * libpeft.a with the host's Lua (libpeft.so carries a private Lua of its own,
 * hidden, and cannot run a state made by another copy of Lua). */
int peft_attach(struct lua_State *L, peft_error *err);

/* --- configs ----------------------------------------------------------- */

/* path: an adapter directory or the adapter_config.json itself. */
peft_config *peft_config_load(peft_runtime *rt, const char *path, int flags, peft_error *err);
/* data: the text of an adapter_config.json (len bytes, at most the limit of
 * peft_set_config_limit); name: used in messages (may be NULL). */
peft_config *peft_config_load_buffer(peft_runtime *rt, const char *data, size_t len, const char *name, int flags,
                                     peft_error *err);
/* A new config of a method ("lora", "LORA" or "LoraConfig") from the JSON
 * text of an object of fields ({"r": 16, "target_modules": ["q_proj"]}; NULL
 * or "{}" for the defaults), checked as PEFT's constructor checks it: an
 * unknown field is a TypeError. method NULL: PEFT's get_peft_config, the
 * class named by the fields' peft_type. */
peft_config *peft_config_new(peft_runtime *rt, const char *method, const char *fields_json, peft_error *err);
void peft_config_free(peft_config *cfg);

const char *peft_config_class(const peft_config *cfg);     /* "LoraConfig" */
/* 1 when the config's class is the class named or a subclass of it (an AdaLoraConfig is a
 * LoraConfig; every config is a PeftConfig), else 0 (also for a name that is no class). */
int peft_config_is_a(peft_config *cfg, const char *class_name);
const char *peft_config_peft_type(const peft_config *cfg); /* "LORA" */
const char *peft_config_task_type(const peft_config *cfg); /* NULL when null */

typedef enum peft_value_type {
  PEFT_VALUE_NULL,
  PEFT_VALUE_BOOL,
  PEFT_VALUE_INT,
  PEFT_VALUE_FLOAT,
  PEFT_VALUE_STRING,
  PEFT_VALUE_LIST, /* count elements; .string holds the list as JSON text */
  PEFT_VALUE_DICT  /* count keys; .string holds the object as JSON text (a nested config: its to_dict) */
} peft_value_type;

typedef struct peft_value {
  peft_value_type type;
  int boolean;
  long long integer;
  double number;
  const char *string; /* STRING, LIST and DICT; owned by the config; NUL-terminated */
  size_t length;      /* of string (a string value may hold a NUL); 0 for the other types */
  size_t count;       /* LIST: the number of elements; DICT: of keys; 0 otherwise */
  const char *key;    /* from peft_config_item on a dict: the entry's key; NULL otherwise */
  size_t key_length;
} peft_value;

/* Reads a field (an unknown key kept from the file reads too). -1 with a
 * TypeError naming the closest field when there is no such field. */
int peft_config_get(peft_config *cfg, const char *field, peft_value *out, peft_error *err);
/* Reads one element inside a list or dict field: path[0] is a position in
 * the field's value (0-based; a dict's entries in sorted key order, the key
 * in out->key), path[1] a position in that element, and so on (depth
 * positions; depth 0 reads the field itself). An IndexError when a position
 * is out of range or the value there is not a list or dict. Walking a field
 * element by element costs one look-up each (the sorted keys are kept until
 * the config changes). */
int peft_config_item(peft_config *cfg, const char *field, const size_t *path, size_t depth, peft_value *out,
                     peft_error *err);

typedef struct peft_field_info {
  const char *name;
  const char *annotation;   /* PEFT's type annotation ("Optional[Union[list[str], str]]"); NULL for a key
                               the class does not know, kept from the file */
  const char *default_json; /* the default as JSON text ("8", "null", "[]"); NULL for an unknown key */
  const char *help;         /* one line; NULL for an unknown key */
  int given;                /* the file (or the constructor's fields) gave it */
} peft_field_info;

/* Every field of the config's class in declaration order, then the keys the
 * class does not know that the file held (sorted). *fields belongs to the
 * config (valid until the next call on it). */
int peft_config_fields(peft_config *cfg, const peft_field_info **fields, size_t *count, peft_error *err);

/* Sets a field from JSON text ("16", "[\"q_proj\"]", "null", "\"text\"");
 * the value is type-checked. */
int peft_config_set_json(peft_config *cfg, const char *field, const char *json, peft_error *err);
/* Runs every check again; -1 with the first error. */
int peft_config_validate(peft_config *cfg, peft_error *err);

size_t peft_config_warning_count(const peft_config *cfg);
const char *peft_config_warning(const peft_config *cfg, size_t i);

/* The JSON PEFT would write (the caller's, to peft_free), or NULL. */
char *peft_config_to_json(peft_config *cfg, peft_error *err);
/* Writes dir/adapter_config.json atomically. */
int peft_config_save(peft_config *cfg, const char *dir, peft_error *err);

/* --- the model side ----------------------------------------------------- */

/* The most dimensions a tensor shape has here. */
#define PEFT_MAX_DIMS 16

typedef struct peft_module_info {
  const char *name;       /* "model.layers.0.self_attn.q_proj" */
  const char *kind;       /* "linear", "embedding", "conv1d", "conv2d", "norm", ... */
  long long in_features;  /* -1 when the kind has none */
  long long out_features; /* -1 when the kind has none */
  long long layer;        /* the layer index it sits in, -1 when none */
  long long r;            /* in a plan: the rank PEFT gives it (rank_pattern applied), else -1 */
  double alpha;           /* in a plan: its alpha (alpha_pattern applied), else 0 */
} peft_module_info;

typedef struct peft_tensor_info {
  const char *name;   /* in a plan's parameters: the in-memory name; in saved tensors: the key */
  const char *module; /* the module it belongs to, or NULL */
  size_t ndim;
  long long shape[PEFT_MAX_DIMS];
  long long numel;
  int trainable; /* parameters: PEFT trains it; saved tensors: 0 */
} peft_tensor_info;

/* Describes a base model from its weights: a directory (model.safetensors or
 * model.safetensors.index.json, and config.json when present), a .safetensors
 * file or an index. Only headers are read. */
peft_model *peft_model_describe(peft_runtime *rt, const char *path, peft_error *err);
void peft_model_free(peft_model *model);
const char *peft_model_type(const peft_model *model); /* config.json's model_type, or NULL */
size_t peft_model_module_count(const peft_model *model);
/* Every parameter of the model, counted as PEFT's "all params" counts the base. */
long long peft_model_parameter_count(const peft_model *model);
/* The i-th module with parameters, in the order of the weights; NULL when out of range. */
const peft_module_info *peft_model_module(const peft_model *model, size_t i);

/* What get_peft_model builds for the config on the model (adapter: NULL for
 * "default") and what save_pretrained writes; where PEFT refuses, NULL with
 * PEFT's error kind. The plan does not need the runtime once made. */
peft_plan *peft_plan_new(peft_model *model, peft_config *cfg, const char *adapter, peft_error *err);
void peft_plan_free(peft_plan *plan);
const char *peft_plan_class(const peft_plan *plan);   /* "PeftModelForCausalLM" */
const char *peft_plan_summary(const peft_plan *plan); /* PEFT's "trainable params: ... || all params: ..." */
long long peft_plan_trainable_params(const peft_plan *plan);
long long peft_plan_all_params(const peft_plan *plan);
size_t peft_plan_module_count(const peft_plan *plan); /* the modules adapted */
const peft_module_info *peft_plan_module(const peft_plan *plan, size_t i);
size_t peft_plan_param_count(const peft_plan *plan); /* every tensor the adapter adds */
const peft_tensor_info *peft_plan_param(const peft_plan *plan, size_t i);
size_t peft_plan_saved_count(const peft_plan *plan); /* what save_pretrained writes */
const peft_tensor_info *peft_plan_saved(const peft_plan *plan, size_t i);

typedef struct peft_tensor_owner {
  const char *name;    /* the tensor's name, as in the file */
  const char *method;  /* "lora", ...; NULL when no method's layer holds it (a modules_to_save copy) */
  const char *module;  /* the base model's module ("model.layers.0.self_attn.q_proj"), or NULL */
  const char *layer;   /* the adapter layer ("lora_A"), or NULL */
  const char *adapter; /* the adapter name: the one in the name (in-memory names), else the one given */
  const char *param;   /* "weight", "bias", or NULL */
} peft_tensor_owner;

/* The tensors of an adapter: a directory (its adapter_model.safetensors; the
 * adapter_config.json beside it picks between methods that share layer
 * names, as LoRA and AdaLoRA do) or a .safetensors file. adapter: the name
 * saved keys belong to (NULL: "default"; PEFT saves the adapter name out). */
peft_tensor_map *peft_tensor_map_file(peft_runtime *rt, const char *path, const char *adapter, peft_error *err);
/* The same for a list of names (saved or in-memory); method: the method to
 * prefer where layer names are shared, or NULL. */
peft_tensor_map *peft_tensor_map_names(peft_runtime *rt, const char *const *names, size_t count,
                                       const char *method, const char *adapter, peft_error *err);
void peft_tensor_map_free(peft_tensor_map *map);
size_t peft_tensor_map_count(const peft_tensor_map *map);
const peft_tensor_owner *peft_tensor_map_at(const peft_tensor_map *map, size_t i);

/* --- where an adapter works ------------------------------------------- */

/* What `peft check PATH --json` prints for one adapter (a directory or its adapter_config.json) and the
 * targets named (as the command line spells them: "peft 0.6.2", "0.6.2", "vllm", "vllm:max_lora_rank=64";
 * ntargets 0: every PEFT release, summarised, and every engine): the JSON text, the caller's to peft_free(),
 * or NULL with err filled (a missing file, an unknown target or option). */
char *peft_check(peft_runtime *rt, const char *path, const char *const *targets, size_t ntargets, peft_error *err);

#ifdef __cplusplus
}
#endif

#endif
