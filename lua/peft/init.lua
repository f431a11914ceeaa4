-- peft: the public module.
--
--   local peft = require "peft"
--
-- Loads the C core (peft.core), declares the base config classes, runs the
-- start-up script of every built-in method (lua/peft/methods/*.lua), then the
-- user extensions found in PEFT_PATH, and returns this table. Every config
-- class is reachable as peft.<ClassName>.
local core = require "peft.core"
local errors = require "peft.errors"
local enum = require "peft.enum"
local config = require "peft.config"

local M = {}

M._VERSION = core.VERSION
M.PEFT_VERSION = config.PEFT_VERSION
M.CONFIG_NAME = config.CONFIG_NAME
M.null = core.null
M.core = core

-- enums -----------------------------------------------------------------

M.PeftType = enum.new {
  name = "PeftType", core = core,
  count = core.type_count, at = core.type_at, index = core.type_index, list = core.types,
}

M.TaskType = enum.new {
  name = "TaskType", core = core,
  count = core.task_count, at = core.task_at, index = core.task_index, list = core.tasks,
}

--- add_peft_type(name) -> name
-- Adds a PeftType member (an upper-case identifier not already taken), so an
-- extension can register a new method without any change to the C core.
-- Raises a ValueError otherwise.
function M.add_peft_type(name)
  if type(name) ~= "string" then
    errors.raise("TypeError", "add_peft_type expects a string, got " .. require("peft.types").kind(name))
  end
  return core.add_peft_type(name)
end

-- mappings --------------------------------------------------------------

local function mapping_view(which, title)
  local mt = { __name = title, __metatable = false }
  mt.__index = function(_, key) return core.mapping_get(which, key) end
  mt.__newindex = function(_, key)
    errors.raise("TypeError", string.format("%s is read-only (cannot set %s); use peft.register_peft_method",
      title, tostring(key)))
  end
  local function iter()
    local i = 0
    return function()
      while true do
        i = i + 1
        local m = core.method_at(i)
        if not m then return nil end
        local v = core.mapping_get(which, m.peft_type)
        if v ~= nil then return m.peft_type, v end
      end
    end
  end
  mt.__pairs = function() return iter(), nil, nil end
  mt.__len = function()
    local n = 0
    for _ in iter() do n = n + 1 end
    return n
  end
  mt.__tostring = function() return title end
  return setmetatable({}, mt)
end

M.PEFT_TYPE_TO_CONFIG_MAPPING = mapping_view("config", "PEFT_TYPE_TO_CONFIG_MAPPING")
M.PEFT_TYPE_TO_TUNER_MAPPING = mapping_view("tuner", "PEFT_TYPE_TO_TUNER_MAPPING")
M.PEFT_TYPE_TO_PREFIX_MAPPING = mapping_view("prefix", "PEFT_TYPE_TO_PREFIX_MAPPING")
M.PEFT_TYPE_TO_MIXED_MODEL_MAPPING = mapping_view("mixed", "PEFT_TYPE_TO_MIXED_MODEL_MAPPING")

--- register_peft_method{ name=, config_cls=, model_cls=, prefix=,
--                        is_mixed_compatible=, shares_prefix_with= }
-- The C core checks every rule before writing anything; a failure raises an
-- error value whose kind is "ValueError" or "KeyError" and changes nothing.
local REGISTER_ARGS = { name = true, config_cls = true, model_cls = true, prefix = true,
                        is_mixed_compatible = true, shares_prefix_with = true }

function M.register_peft_method(spec)
  if type(spec) ~= "table" then
    errors.raise("TypeError", "register_peft_method expects a table, got " .. require("peft.types").kind(spec))
  end
  if config.lazy then return core.register(spec) end -- (the built-in start-up scripts: trusted)
  local known = REGISTER_ARGS
  for k in pairs(spec) do
    if not known[k] then
      errors.raise("TypeError", "register_peft_method got an unknown argument '" .. tostring(k) .. "'"
        .. (type(k) == "string" and config.suggest(k, config.sorted_keys(known)) or ""))
    end
  end
  local ok, err = pcall(core.register, spec)
  if not ok then error(err, 2) end
  return err
end

--- methods() -> list of { name, peft_type, prefix, is_mixed_compatible,
-- shares_prefix_with, config_cls, model_cls }, in registration order.
function M.methods()
  local out = {}
  for i = 1, core.method_count() do out[i] = core.method_at(i) end
  return out
end

--- method(key) -> info | nil: by PeftType member, method name, or config
-- class name.
function M.method(key)
  if type(key) ~= "string" then return nil end
  local m = core.method(key, "type") or core.method(key, "name")
  if m then return m end
  for i = 1, core.method_count() do
    local info = core.method_at(i)
    if info.config_cls and info.config_cls.name == key then return info end
  end
  return nil
end

-- config classes --------------------------------------------------------

M.config = config
M.errors = errors
M.warn = errors.warn
M.set_warning_handler = errors.set_warning_handler
M.capture_warnings = errors.capture_warnings
M.is_config = config.is_config
M.is_class = config.is_class

--- declare_config{ name=, parent=, peft_type=, fields=, post_init=, doc= }
-- Declares a config class (see peft.config for the field format).
function M.declare_config(spec)
  if type(spec) == "table" and spec.parent == nil and spec.kind ~= "helper" then
    spec.parent = config.classes.PeftConfig
  end
  return config.declare(spec)
end

--- declare_helper{ name=, fields=, post_init= }: a nested config (EvaConfig).
function M.declare_helper(spec)
  spec.kind = "helper"
  return config.declare(spec)
end

local registry = require "peft.registry"

local model_mt = {
  __name = "peft.ModelClass",
  __tostring = function(m) return "model class " .. m.name end,
  -- a model class waiting for its definitions loads them on first use
  __index = function(m, k)
    if rawget(m, registry.PENDING) then
      registry.load_pending(m)
      return m[k]
    end
    if k == "layer_name_set" then -- the layer names as a set, made on first use
      local set = {}
      for _, n in ipairs(rawget(m, "layer_names") or {}) do set[n] = true end
      rawset(m, k, set)
      return set
    end
  end,
}

-- what a model class may declare (see peft.tuner), and the types each entry may have
local STRING, TABLE, FUNCTION = { string = true }, { table = true }, { ["function"] = true }
local MODEL_SPEC = {
  name = STRING, prefix = STRING, doc = STRING, display = STRING, supported = STRING, kind_error = STRING,
  layer_names = TABLE, kinds = TABLE, targets = { string = true, table = true }, needs_targets = { boolean = true },
  prepare = FUNCTION, layer = FUNCTION, parameter = FUNCTION, model = FUNCTION, after = FUNCTION, saved = FUNCTION,
  state_dict = FUNCTION, encoder = FUNCTION, saved_prompt = FUNCTION, build = FUNCTION, rank_of = FUNCTION,
  expected_rank = FUNCTION, check_weights = FUNCTION,
}

local function type_names(set)
  local names = {}
  for t in pairs(set) do names[#names + 1] = t end
  table.sort(names)
  return table.concat(names, " or ")
end

--- declare_model{ name=, prefix=, doc=, ... } -> model class
-- Besides its name and prefix, a model class declares what get_peft_model
-- builds for the method (layer_names, targets, kinds, layer, model, saved,
-- ...: see peft.tuner); a method without them registers but cannot be planned.
local function check_model_spec(spec, what)
  for k, v in pairs(spec) do
    local want = MODEL_SPEC[k]
    if not want then
      errors.raise("TypeError", what .. ": unknown entry '" .. tostring(k) .. "'"
        .. (type(k) == "string" and config.suggest(k, config.sorted_keys(MODEL_SPEC)) or ""))
    end
    if not want[type(v)] then
      errors.raise("TypeError", string.format("%s: %s must be a %s, got %s", what, k, type_names(want),
        require("peft.types").kind(v)))
    end
  end
end

function M.declare_model(spec)
  if type(spec) ~= "table" or type(spec.name) ~= "string" then
    errors.raise("TypeError", "declare_model expects { name = string, prefix = string }")
  end
  if not config.lazy then check_model_spec(spec, "declare_model") end -- (built-ins are trusted)
  local m = { kind = "model", name = spec.name, prefix = spec.prefix, [registry.PENDING] = false }
  for k, v in pairs(spec) do m[k] = v end
  setmetatable(m, model_mt)
  registry.add_model(m)
  return m
end

--- define(name, parts): the definitions of a class declared earlier (the second part of a
-- method file): for a config or helper class, its fields and rules (fields, post_init,
-- check_kwargs, methods); for a model class, its model side (what declare_model takes).
function M.define(name, parts)
  if type(name) ~= "string" or type(parts) ~= "table" then
    errors.raise("TypeError", "define expects a class name and a table of definitions")
  end
  local cls = config.classes[name]
  if cls then return require("peft.config.class").define(cls, parts) end
  local m = registry.models[name]
  if not m then
    -- (the targets of peft check, once their registry is in use)
    local targets = package.loaded["peft.target_registry"]
    if targets and targets.get(name) then return targets.define(name, parts) end
    errors.raise("KeyError", "define: no class or target called '" .. name .. "' was declared"
      .. config.suggest(name, config.sorted_keys(config.classes)))
  end
  check_model_spec(parts, "define " .. name)
  for k, v in pairs(parts) do rawset(m, k, v) end
  rawset(m, "layer_name_set", nil)
  rawset(m, registry.PENDING, false)
  return m
end

--- pending_definitions(module, names): what the embedded build says of a method file
-- split in two: the classes named get their definitions from module, on first use.
M.pending_definitions = registry.pending

function M.is_model_class(v)
  return type(v) == "table" and getmetatable(v) == model_mt
end

--- from_json_value(text) -> the value JSON text denotes (null as nil);
-- raises a JSONDecodeError (used by the C API's peft_config_set_json).
function M.from_json_value(text)
  local v, msg = core.json_decode(text)
  if v == nil and msg then errors.raise("JSONDecodeError", "invalid JSON value " .. require("peft.types").repr(text) .. ": " .. msg) end
  if v == core.null then return nil end
  return v
end

-- weights and models ----------------------------------------------------

--- peft.safetensors.read_header(path) / read_index(path) /
-- parse_header(bytes [, file_size]) -> header | nil, message
-- (see src/lpeft_st.c for the header table).
M.safetensors = {
  read_header = core.st_read_header,
  read_index = core.st_read_index,
  parse_header = core.st_parse_header,
}

--- get_peft_model(model, config [, adapter_name [, { mixed = true }]])
function M.get_peft_model(...)
  return require("peft.peft_model").get_peft_model(...)
end

--- describe_model(path | header | list) -> the base model's module tree
function M.describe_model(...)
  return require("peft.model").describe(...)
end

-- targets of `peft check` ---------------------------------------------

--- register_target(spec): a place adapters are loaded (a PEFT release range or a serving engine); see
-- peft.target_registry for the spec. Checked before anything is added; rolled back with a failing
-- extension.
function M.register_target(spec)
  return require("peft.target_registry").register(spec)
end

--- check(cfg_or_path, targets) -> the structure `peft check --json` prints (see peft.check)
function M.check(src, targets)
  return require("peft.check").check(src, targets)
end

--- targets() -> every registered target: name, kind, title, version or knobs
function M.targets()
  return require("peft.check").targets()
end

-- modules loaded on first use (keeps start-up light)
local lazy = { types = "peft.types", model = "peft.model", isolation = "peft.isolation", tuner = "peft.tuner",
               peft_model = "peft.peft_model", schema = "peft.schema", repl = "peft.repl", cli = "peft.cli",
               model_types = "peft.model_types", weights = "peft.weights", registry = "peft.registry" }

-- Classes are reachable as peft.LoraConfig etc. (looked up, so a rolled-back
-- extension's classes disappear with it).
setmetatable(M, {
  __index = function(_, k)
    local cls = config.classes[k]
    if cls then return cls end
    if lazy[k] then return require(lazy[k]) end
    return nil
  end,
  __name = "peft",
})

-- extensions (peft.extensions, loaded on first use) ---------------------

--- load_extension(path): runs the script; raises an ExtensionError naming
-- the script and line when it fails (and the registry is as it was).
function M.load_extension(path) return require("peft.extensions").load(path) end

--- load_extension_safe(path) -> true | nil, error value
function M.load_extension_safe(path) return require("peft.extensions").run(path) end

--- The *.lua files of the PEFT_PATH directories, in path order then name order.
function M.extension_files(peft_path) return require("peft.extensions").files(peft_path) end

--- Loads every extension of PEFT_PATH; a failing one is reported through
-- the warning channel and the others still load. Returns the list of
-- failures (error values).
function M.load_path_extensions(peft_path)
  peft_path = peft_path or os.getenv("PEFT_PATH")
  if not peft_path or peft_path == "" then return {} end
  return require("peft.extensions").load_path(peft_path)
end

-- start-up --------------------------------------------------------------

-- the built-in classes finish their declarations on first use (start-up
-- only records what registration needs)
config.lazy = true
local base = require "peft.base"
M.PeftConfig = base.PeftConfig
M.PromptLearningConfig = base.PromptLearningConfig

-- Make the module reachable while the method scripts run (they require it).
package.loaded["peft"] = M

-- The loaders, on PeftConfig (so every class has them) and on peft. peft.loader
-- itself is required on first use: start-up does not need it.
do
  local function load_fn(name)
    return function(...) return require("peft.loader")[name](...) end
  end
  local from_pretrained, from_json, from_dict = load_fn("from_pretrained"), load_fn("from_json"), load_fn("from_dict")
  local PeftConfig = config.classes.PeftConfig
  -- class methods: LoraConfig.from_pretrained(path) and
  -- LoraConfig:from_pretrained(path) both know they were called on LoraConfig
  -- (and refuse a file of another method); PeftConfig accepts any.
  local function classfn(fn, mode)
    return function(cls, arg, opts)
      return fn(arg, opts, { cls = cls ~= PeftConfig and cls or nil, called_on = cls, mode = mode })
    end
  end
  config.add_classmethod("from_pretrained", classfn(from_pretrained))
  config.add_classmethod("from_json", classfn(from_json))
  config.add_classmethod("from_peft_type", classfn(from_dict, "peft_type"))
  config.add_classmethod("from_dict", classfn(from_dict, "peft_type"))
  M.get_peft_config = function(tbl, opts) return from_dict(tbl, opts, { mode = "get_peft_config" }) end
  M.from_pretrained = function(path, opts) return from_pretrained(path, opts) end
  M.from_json = function(text, opts) return from_json(text, opts) end
  M.config_path = load_fn("config_path")
end

-- (no collection while they run: they only add)
local collecting = collectgarbage("isrunning")
collectgarbage("stop")
registry.run_startup("peft.methods")
config.lazy = false

if collecting then collectgarbage("restart") end

M.extension_failures = M.load_path_extensions()

return M
