-- peft.ffi: the C API of libpeft (src/peft.h) through LuaJIT's FFI, with the same functions and
-- conventions as the C module peft.cmod (src/lpeft_host.c) that Lua 5.1 and 5.3 use; lua/host/peft.lua
-- builds the public API on either. Not for direct use.
--
-- libpeft.so is looked for as peft/libpeft.so on package.cpath (make install and the rockspec put it
-- there), then as PEFT_LIBRARY, then by the dynamic linker's own search (libpeft.so.0).
local ffi = require "ffi"

ffi.cdef [[
typedef struct peft_error { int status; char message[512]; char kind[48]; } peft_error;
typedef struct peft_runtime peft_runtime;
typedef struct peft_config peft_config;
typedef struct peft_model peft_model;
typedef struct peft_plan peft_plan;
typedef struct peft_tensor_map peft_tensor_map;
typedef struct peft_registry peft_registry;
typedef struct peft_method_info {
  const char *name; const char *peft_type; const char *prefix; int is_mixed_compatible;
  const char *shares_prefix_with;
} peft_method_info;
typedef struct peft_value {
  int type; int boolean; long long integer; double number; const char *string; size_t length; size_t count;
  const char *key; size_t key_length;
} peft_value;
typedef struct peft_field_info {
  const char *name; const char *annotation; const char *default_json; const char *help; int given;
} peft_field_info;
typedef struct peft_module_info {
  const char *name; const char *kind; long long in_features; long long out_features; long long layer; long long r;
  double alpha;
} peft_module_info;
typedef struct peft_tensor_info {
  const char *name; const char *module; size_t ndim; long long shape[16]; long long numel; int trainable;
} peft_tensor_info;
typedef struct peft_tensor_owner {
  const char *name; const char *method; const char *module; const char *layer; const char *adapter;
  const char *param;
} peft_tensor_owner;

int peft_api_version(void);
void peft_free(void *p);
peft_runtime *peft_open(peft_error *err);
void peft_close(peft_runtime *rt);
size_t peft_runtime_warning_count(const peft_runtime *rt);
const char *peft_runtime_warning(const peft_runtime *rt, size_t i);
const peft_registry *peft_runtime_registry(const peft_runtime *rt);
const char *peft_method_config_class(peft_runtime *rt, const char *key);
const char *peft_method_model_class(peft_runtime *rt, const char *key);
size_t peft_type_count(const peft_registry *reg);
const char *peft_type_name(const peft_registry *reg, size_t i);
size_t peft_task_count(void);
const char *peft_task_name(size_t i);
size_t peft_method_count(const peft_registry *reg);
int peft_method_at(const peft_registry *reg, size_t i, peft_method_info *out);

peft_config *peft_config_load(peft_runtime *rt, const char *path, int flags, peft_error *err);
peft_config *peft_config_load_buffer(peft_runtime *rt, const char *data, size_t len, const char *name, int flags,
                                     peft_error *err);
peft_config *peft_config_new(peft_runtime *rt, const char *method, const char *fields_json, peft_error *err);
void peft_config_free(peft_config *cfg);
const char *peft_config_class(const peft_config *cfg);
int peft_config_is_a(peft_config *cfg, const char *class_name);
const char *peft_config_peft_type(const peft_config *cfg);
const char *peft_config_task_type(const peft_config *cfg);
int peft_config_item(peft_config *cfg, const char *field, const size_t *path, size_t depth, peft_value *out,
                     peft_error *err);
int peft_config_fields(peft_config *cfg, const peft_field_info **fields, size_t *count, peft_error *err);
int peft_config_set_json(peft_config *cfg, const char *field, const char *json, peft_error *err);
int peft_config_validate(peft_config *cfg, peft_error *err);
size_t peft_config_warning_count(const peft_config *cfg);
const char *peft_config_warning(const peft_config *cfg, size_t i);
char *peft_config_to_json(peft_config *cfg, peft_error *err);
int peft_config_save(peft_config *cfg, const char *dir, peft_error *err);
char *peft_check(peft_runtime *rt, const char *path, const char *const *targets, size_t ntargets, peft_error *err);

peft_model *peft_model_describe(peft_runtime *rt, const char *path, peft_error *err);
void peft_model_free(peft_model *model);
const char *peft_model_type(const peft_model *model);
size_t peft_model_module_count(const peft_model *model);
long long peft_model_parameter_count(const peft_model *model);
const peft_module_info *peft_model_module(const peft_model *model, size_t i);
peft_plan *peft_plan_new(peft_model *model, peft_config *cfg, const char *adapter, peft_error *err);
void peft_plan_free(peft_plan *plan);
const char *peft_plan_class(const peft_plan *plan);
const char *peft_plan_summary(const peft_plan *plan);
long long peft_plan_trainable_params(const peft_plan *plan);
long long peft_plan_all_params(const peft_plan *plan);
size_t peft_plan_module_count(const peft_plan *plan);
const peft_module_info *peft_plan_module(const peft_plan *plan, size_t i);
size_t peft_plan_param_count(const peft_plan *plan);
const peft_tensor_info *peft_plan_param(const peft_plan *plan, size_t i);
size_t peft_plan_saved_count(const peft_plan *plan);
const peft_tensor_info *peft_plan_saved(const peft_plan *plan, size_t i);
peft_tensor_map *peft_tensor_map_file(peft_runtime *rt, const char *path, const char *adapter, peft_error *err);
peft_tensor_map *peft_tensor_map_names(peft_runtime *rt, const char *const *names, size_t count,
                                       const char *method, const char *adapter, peft_error *err);
void peft_tensor_map_free(peft_tensor_map *map);
size_t peft_tensor_map_count(const peft_tensor_map *map);
const peft_tensor_owner *peft_tensor_map_at(const peft_tensor_map *map, size_t i);
]]

local function find_library()
  local tried = {}
  local path = package.searchpath and package.searchpath("peft.libpeft", package.cpath)
  for _, candidate in ipairs { path or false, os.getenv("PEFT_LIBRARY") or false, "libpeft.so.0" } do
    if candidate then
      local ok, lib = pcall(ffi.load, candidate)
      if ok then return lib end
      tried[#tried + 1] = tostring(lib)
    end
  end
  error("peft: cannot load libpeft (looked for peft/libpeft.so on package.cpath, PEFT_LIBRARY and libpeft.so.0):\n\t"
    .. table.concat(tried, "\n\t"), 0)
end

local C = find_library()

-- the declarations above are API version 3's (peft_error's layout among them)
local API_VERSION = 3
if C.peft_api_version() ~= API_VERSION then
  error(string.format("peft: libpeft has C API version %d, this binding speaks version %d", C.peft_api_version(),
    API_VERSION), 0)
end

local M = { backend = "ffi", API_VERSION = API_VERSION, STRICT = 1, LENIENT = 2 }

local function str(p)
  if p == nil then return nil end
  return ffi.string(p)
end

local function fail(err)
  return nil, ffi.string(err.kind), ffi.string(err.message)
end

-- handles: a cdata with a finalizer (the C API keeps a runtime alive while its configs and models are)
function M.open()
  local err = ffi.new("peft_error")
  local rt = C.peft_open(err)
  if rt == nil then return fail(err) end
  return ffi.gc(rt, C.peft_close)
end

function M.types(rt)
  local reg = C.peft_runtime_registry(rt)
  local out = {}
  for i = 0, tonumber(C.peft_type_count(reg)) - 1 do out[#out + 1] = str(C.peft_type_name(reg, i)) end
  return out
end

function M.tasks()
  local out = {}
  for i = 0, tonumber(C.peft_task_count()) - 1 do out[#out + 1] = str(C.peft_task_name(i)) end
  return out
end

function M.methods(rt)
  local reg = C.peft_runtime_registry(rt)
  local info = ffi.new("peft_method_info")
  local out = {}
  for i = 0, tonumber(C.peft_method_count(reg)) - 1 do
    if C.peft_method_at(reg, i, info) ~= 0 then break end
    local name = str(info.name)
    out[#out + 1] = { name = name, peft_type = str(info.peft_type), prefix = str(info.prefix),
                      is_mixed_compatible = info.is_mixed_compatible ~= 0,
                      shares_prefix_with = str(info.shares_prefix_with),
                      config_cls = str(C.peft_method_config_class(rt, name)),
                      model_cls = str(C.peft_method_model_class(rt, name)) }
  end
  return out
end

function M.runtime_warnings(rt)
  local out = {}
  for i = 0, tonumber(C.peft_runtime_warning_count(rt)) - 1 do out[#out + 1] = str(C.peft_runtime_warning(rt, i)) end
  return out
end

local function config(cfg, err)
  if cfg == nil then return fail(err) end
  return ffi.gc(cfg, C.peft_config_free)
end

function M.load(rt, path, flags)
  local err = ffi.new("peft_error")
  return config(C.peft_config_load(rt, path, flags or 0, err), err)
end

function M.load_buffer(rt, text, name, flags)
  local err = ffi.new("peft_error")
  return config(C.peft_config_load_buffer(rt, text, #text, name, flags or 0, err), err)
end

function M.new(rt, method, json)
  local err = ffi.new("peft_error")
  return config(C.peft_config_new(rt, method, json, err), err)
end

function M.describe(cfg)
  return str(C.peft_config_class(cfg)), str(C.peft_config_peft_type(cfg)), str(C.peft_config_task_type(cfg))
end

function M.is_a(cfg, name) return C.peft_config_is_a(cfg, name) ~= 0 end

local TAGS = { [0] = "null", "bool", "int", "float", "string", "list", "dict" }

function M.item(cfg, field, path)
  local depth = path and #path or 0
  local p = ffi.new("size_t[?]", depth + 1)
  for i = 1, depth do p[i - 1] = path[i] end
  local v = ffi.new("peft_value")
  local err = ffi.new("peft_error")
  if C.peft_config_item(cfg, field, p, depth, v, err) ~= 0 then return fail(err) end
  local tag = TAGS[v.type]
  local key = v.key ~= nil and ffi.string(v.key, v.key_length) or nil
  if tag == "bool" then return tag, v.boolean ~= 0, nil, key end
  if tag == "int" then return tag, tonumber(v.integer), nil, key end
  if tag == "float" then return tag, v.number, nil, key end
  if tag == "string" then return tag, ffi.string(v.string, v.length), nil, key end
  if tag == "list" or tag == "dict" then return tag, ffi.string(v.string, v.length), tonumber(v.count), key end
  return tag, nil, nil, key
end

function M.fields(cfg)
  local fields = ffi.new("const peft_field_info *[1]")
  local n = ffi.new("size_t[1]")
  local err = ffi.new("peft_error")
  if C.peft_config_fields(cfg, fields, n, err) ~= 0 then return fail(err) end
  local out = {}
  for i = 0, tonumber(n[0]) - 1 do
    local f = fields[0][i]
    out[#out + 1] = { name = str(f.name), type = str(f.annotation), default_json = str(f.default_json),
                      help = str(f.help), given = f.given ~= 0 }
  end
  return out
end

local function status(rc, err)
  if rc ~= 0 then return fail(err) end
  return true
end

function M.set_json(cfg, field, json)
  local err = ffi.new("peft_error")
  return status(C.peft_config_set_json(cfg, field, json, err), err)
end

function M.validate(cfg)
  local err = ffi.new("peft_error")
  return status(C.peft_config_validate(cfg, err), err)
end

function M.warnings(cfg)
  local out = {}
  for i = 0, tonumber(C.peft_config_warning_count(cfg)) - 1 do out[#out + 1] = str(C.peft_config_warning(cfg, i)) end
  return out
end

local function text(p, err)
  if p == nil then return fail(err) end
  local s = ffi.string(p)
  C.peft_free(p)
  return s
end

function M.to_json(cfg)
  local err = ffi.new("peft_error")
  return text(C.peft_config_to_json(cfg, err), err)
end

function M.save(cfg, dir)
  local err = ffi.new("peft_error")
  return status(C.peft_config_save(cfg, dir, err), err)
end

function M.check(rt, path, targets)
  local n = targets and #targets or 0
  local t = ffi.new("const char *[?]", n + 1)
  for i = 1, n do t[i - 1] = targets[i] end -- (targets keeps the strings alive)
  local err = ffi.new("peft_error")
  return text(C.peft_check(rt, path, t, n, err), err)
end

-- the model side ------------------------------------------------------------

local function module_record(m)
  local r = { name = str(m.name), kind = str(m.kind) }
  if m.in_features >= 0 then r.in_features = tonumber(m.in_features) end
  if m.out_features >= 0 then r.out_features = tonumber(m.out_features) end
  if m.layer >= 0 then r.layer_index = tonumber(m.layer) end
  if m.r >= 0 then r.r, r.alpha = tonumber(m.r), m.alpha end
  return r
end

local function tensor_record(t, namekey)
  local shape = {}
  for d = 0, tonumber(t.ndim) - 1 do shape[#shape + 1] = tonumber(t.shape[d]) end
  return { [namekey] = str(t.name), module = str(t.module), shape = shape, numel = tonumber(t.numel),
           trainable = t.trainable ~= 0 }
end

function M.model(rt, path)
  local err = ffi.new("peft_error")
  local m = C.peft_model_describe(rt, path, err)
  if m == nil then return fail(err) end
  m = ffi.gc(m, C.peft_model_free)
  local mods = {}
  for i = 0, tonumber(C.peft_model_module_count(m)) - 1 do
    mods[#mods + 1] = module_record(C.peft_model_module(m, i))
  end
  return m, str(C.peft_model_type(m)), mods, tonumber(C.peft_model_parameter_count(m))
end

function M.plan(model, cfg, adapter)
  local err = ffi.new("peft_error")
  local p = C.peft_plan_new(model, cfg, adapter, err)
  if p == nil then return fail(err) end
  p = ffi.gc(p, C.peft_plan_free)
  local out = { class_name = str(C.peft_plan_class(p)), summary = str(C.peft_plan_summary(p)),
                trainable = tonumber(C.peft_plan_trainable_params(p)), all = tonumber(C.peft_plan_all_params(p)),
                modules = {}, params = {}, saved = {} }
  for i = 0, tonumber(C.peft_plan_module_count(p)) - 1 do
    out.modules[i + 1] = module_record(C.peft_plan_module(p, i))
  end
  for i = 0, tonumber(C.peft_plan_param_count(p)) - 1 do
    out.params[i + 1] = tensor_record(C.peft_plan_param(p, i), "name")
  end
  for i = 0, tonumber(C.peft_plan_saved_count(p)) - 1 do
    out.saved[i + 1] = tensor_record(C.peft_plan_saved(p, i), "key")
  end
  C.peft_plan_free(ffi.gc(p, nil))
  return out
end

local function owners(map, err)
  if map == nil then return fail(err) end
  map = ffi.gc(map, C.peft_tensor_map_free)
  local out = {}
  for i = 0, tonumber(C.peft_tensor_map_count(map)) - 1 do
    local o = C.peft_tensor_map_at(map, i)
    out[#out + 1] = { name = str(o.name), method = str(o.method), module = str(o.module), layer = str(o.layer),
                      adapter = str(o.adapter), param = str(o.param) }
  end
  C.peft_tensor_map_free(ffi.gc(map, nil))
  return out
end

function M.tensors_file(rt, path, adapter)
  local err = ffi.new("peft_error")
  return owners(C.peft_tensor_map_file(rt, path, adapter, err), err)
end

function M.tensors_names(rt, names, method, adapter)
  local n = #names
  local t = ffi.new("const char *[?]", n + 1)
  for i = 1, n do t[i - 1] = names[i] end
  local err = ffi.new("peft_error")
  return owners(C.peft_tensor_map_names(rt, t, n, method, adapter, err), err)
end

return M
