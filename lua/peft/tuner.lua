-- peft.tuner: what a method's model class declares about the model side, and
-- the helpers its declaration uses.
--
-- A method's model class (peft.declare_model) says what get_peft_model builds
-- for it, in the method's own file:
--
--   peft.declare_model {
--     name = "LoraModel", prefix = "lora_",
--     layer_names = { "lora_A", "lora_B", ... },  -- PEFT's adapter_layer_names
--     targets = "lora",            -- default target_modules per model_type (a
--                                  -- table name of peft.model_types, or a table)
--     kinds = { linear = true, conv1d = true, ... },  -- layer kinds it adapts
--     prepare = function(plan, cfg, ctx) end,     -- before matching (checks,
--                                                 -- layer replication)
--     layer = function(cfg, module, ctx) return { tensors } end,  -- per target
--                                                 -- (nil: the module stays as it is)
--     model = function(cfg, ctx) return { tensors } end,  -- tensors held by the
--                                                 -- tuner itself (vera_A)
--     saved = function(key, adapter, cfg) return key end,  -- key renames on save
--     state_dict = function(entries, cfg, ctx) end,         -- what is saved
--   }
--
-- A tensor is made by one of the constructors below, named as PEFT names it in
-- memory (lora_A.default.weight, ia3_l.default, adaption_prompt). Layer
-- functions raise with refuse(...) where PEFT raises (the message says what
-- PEFT refuses and why) and with not_computed(...) where this runtime cannot
-- say what PEFT builds.
local errors = require "peft.errors"

local M = {}

local null
do
  local ok, core = pcall(require, "peft.core")
  if ok and type(core) == "table" then null = core.null end
end

-- tensors -------------------------------------------------------------------

local function numel(shape)
  local n = 1
  for _, d in ipairs(shape) do n = n * d end
  return n
end
M.numel = numel

local function tensor(name, shape, opts)
  local t = { name = name, shape = shape, numel = numel(shape), trainable = true }
  if opts then
    for k, v in pairs(opts) do t[k] = v end
  end
  return t
end

--- An entry of a ModuleDict keyed by adapter: ATTR.ADAPTER.PARAM (lora_A.default.weight).
function M.module(attr, adapter, param, shape, opts)
  return tensor(attr .. "." .. adapter .. "." .. param, shape, opts)
end

--- An entry of a ParameterDict keyed by adapter: ATTR.ADAPTER (ia3_l.default).
function M.param(attr, adapter, shape, opts)
  return tensor(attr .. "." .. adapter, shape, opts)
end

--- A buffer keyed by adapter (BufferDict): ATTR.ADAPTER; persistent buffers are saved.
function M.buffer(attr, adapter, shape, persistent, opts)
  local t = tensor(adapter and (attr .. "." .. adapter) or attr, shape, opts)
  t.buffer = true
  t.persistent = persistent and true or false
  t.trainable = false
  return t
end

--- A tensor with a name of its own (adaption_prompt, prompt_encoder.default.embedding.weight).
function M.plain(name, shape, opts)
  return tensor(name, shape, opts)
end

-- errors --------------------------------------------------------------------

local REFUSE = setmetatable({}, { __name = "peft.tuner.refusal" })

--- refuse(kind, fmt, ...): PEFT raises here; kind is PEFT's exception class.
function M.refuse(kind, fmt, ...)
  local msg = select("#", ...) > 0 and string.format(fmt, ...) or fmt
  error(errors.new(kind, msg, { refusal = true }), 0)
end

--- not_computed(fmt, ...): what PEFT builds here is not known to this runtime.
function M.not_computed(fmt, ...)
  local msg = select("#", ...) > 0 and string.format(fmt, ...) or fmt
  error(errors.new("NotImplementedError", msg), 0)
end
M.REFUSE = REFUSE

--- check_shape(shape, who): torch refuses to create a tensor with a negative size.
function M.check_shape(shape, who)
  for _, d in ipairs(shape) do
    if d < 0 then
      local parts = {}
      for i, x in ipairs(shape) do parts[i] = tostring(x) end
      M.refuse("RuntimeError", "%s: Trying to create tensor with negative dimension %d: [%s]", who, d,
        table.concat(parts, ", "))
    end
  end
  return shape
end

-- values --------------------------------------------------------------------

--- cfg[key], with PEFT's None (nil or peft.null) as nil.
function M.get(cfg, key)
  local v = cfg[key]
  if v == null then return nil end
  return v
end

function M.truthy(v)
  if v == nil or v == false or v == null or v == 0 or v == "" then return false end
  if type(v) == "table" and next(v) == nil and getmetatable(v) ~= nil then return false end
  if type(v) == "table" and next(v) == nil then return false end
  return true
end

--- An integer value (floats with an integral value count), or nil.
function M.int(v)
  if math.type(v) == "integer" then return v end
  if math.type(v) == "float" then return math.tointeger(v) end
  return nil
end

--- An integer field the shapes depend on: a float or a string there is what
-- PEFT reads but cannot build with (torch refuses a float size).
function M.int_field(cfg, key, who)
  local v = M.get(cfg, key)
  if v == nil then M.refuse("TypeError", "%s: %s is null in the config, and the layer shapes need an integer", who, key) end
  if math.type(v) == "integer" then return v end
  M.refuse("TypeError", "%s: %s must be an integer to build the layers, got %s (PEFT loads the file, then "
    .. "fails when it builds the model)", who, key, require("peft.types").repr(v))
end

--- A number field (int or float), as PEFT's arithmetic takes it.
function M.number_field(cfg, key, who)
  local v = M.get(cfg, key)
  if type(v) == "number" then return v end
  M.refuse("TypeError", "%s: %s must be a number to build the layers, got %s", who, key,
    require("peft.types").repr(v))
end

--- check_dims(shape): torch refuses to create a tensor with a negative dimension (RuntimeError).
function M.check_dims(shape)
  for _, d in ipairs(shape) do
    if d < 0 then
      local parts = {}
      for i, x in ipairs(shape) do parts[i] = tostring(x) end
      M.refuse("RuntimeError", "Trying to create tensor with negative dimension %d: [%s]", d, table.concat(parts, ", "))
    end
  end
  return shape
end

--- in_features, out_features of a linear-like module (Conv1D: its own layout).
function M.dims(module)
  return module.in_features, module.out_features
end

--- kernel (kh, kw) of a conv2d module.
function M.kernel(module)
  local k = module.kernel_size or { 1, 1 }
  return k[1], k[2]
end

--- dropout(cfg, field): torch's nn.Dropout(p) refuses p outside [0, 1]; PEFT builds one when
-- p > 0 (a negative p gets an identity instead).
function M.dropout(cfg, field)
  local p = M.get(cfg, field)
  if type(p) == "number" and p > 1 then
    M.refuse("ValueError", "%s: dropout probability has to be between 0 and 1, but got %s", field, tostring(p))
  end
end

function M.ceil_div(a, b) return (a + b - 1) // b end

--- PEFT's get_pattern_key: the first key (in the dict's order, sorted in a
-- file PEFT wrote) matching the end of the module name after a '.'; the value
-- for it, or default.
function M.pattern_value(patterns, name, default)
  if type(patterns) ~= "table" then return default end
  local core = require "peft.core"
  local keys = {}
  for k in pairs(patterns) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local ok = core.re_match("(.*\\.)?(" .. k .. ")$", name, "start")
    if ok then return patterns[k], k end
  end
  return default
end

--- The pattern lookup of FourierFT, C3A and WaveFT: re.match(rf".*\.{k}$", name)
-- over the keys, then the exact name, else default.
function M.suffix_pattern_value(patterns, name, default)
  if type(patterns) ~= "table" or next(patterns) == nil then return default end
  local core = require "peft.core"
  local keys = {}
  for k in pairs(patterns) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    if core.re_match(".*\\." .. k .. "$", name, "start") then return patterns[k] end
  end
  if patterns[name] ~= nil then return patterns[name] end
  return default
end

--- config_targets(plan, cfg, ctx) -> the modules (with parameters, in module order) that PEFT's
-- check_target_module_exists accepts for cfg after the model type's default targets and 'all-linear':
-- what the pre-injection hooks walk before inject_adapter matches anything (VeRA's _find_dim, FRoD's
-- _init_frod_projections, TinyLoRA's _build_target_key_mapping). Call it from a `prepare` function.
function M.config_targets(plan, cfg, ctx)
  local model_lib = require "peft.model"
  local tm = model_lib.expand_all_linear(cfg, plan, ctx.target_modules)
  local mts = require("peft.peft_model").with_heads(plan, cfg, M.get(cfg, "modules_to_save"))
  local out = {}
  for _, m in ipairs(plan.modules) do
    if model_lib.matches(cfg, m.name, tm, { modules_to_save = mts }) then out[#out + 1] = m end
  end
  return out
end

--- largest_linear(plan, cfg, ctx, display [, message]) -> max_in, max_out: the largest
-- in/out features over the Linear and Conv1D modules the config matches, which size the
-- projections VeRA, PVeRA and RandLoRA share (their _find_dim, run before any layer is
-- built); none at all is PEFT's ValueError.
function M.largest_linear(plan, cfg, ctx, display)
  local max_in, max_out
  for _, m in ipairs(M.config_targets(plan, cfg, ctx)) do
    if m.kind == "linear" or m.kind == "conv1d" then
      max_in, max_out = math.max(max_in or 0, m.in_features), math.max(max_out or 0, m.out_features)
    end
  end
  if not max_in then
    M.refuse("ValueError", "No layers types compatible with %s were found (%s adapts torch.nn.Linear and "
      .. "transformers' Conv1D). Please check `peft_config.target_modules`.", display, display)
  end
  return max_in, max_out
end

--- check_frequency(display, module, n): the checks FourierFT and WaveFT make on a layer's
-- n_frequency (a Linear or Conv1D, a positive count at most in_features * out_features).
function M.check_frequency(display, m, n)
  if m.kind ~= "linear" and m.kind ~= "conv1d" then
    M.refuse_kind(display, m, "only torch.nn.Linear and transformers' Conv1D", "TypeError")
  end
  if type(n) ~= "number" then
    M.refuse("TypeError", "%s: n_frequency of %s must be an integer, got %s", display, m.name,
      require("peft.types").repr(n))
  end
  if n <= 0 then
    M.refuse("ValueError", "`n_frequency` should be a positive integer value but the value passed is %s", tostring(n))
  end
  local size = m.in_features * m.out_features
  if n > size then
    M.refuse("ValueError", "%s: n_frequency (%s) of %s must be at most in_features * out_features (%d)", display,
      tostring(n), m.name, size)
  end
end

--- A description of a module for messages: "model.layers.0.mlp (a container)".
function M.describe(module)
  local what = ({ linear = "torch.nn.Linear", conv1d = "transformers' Conv1D", conv2d = "torch.nn.Conv2d",
                  embedding = "torch.nn.Embedding", norm = "a normalisation layer", container = "a container module",
                  other = "a module of another kind" })[module.kind] or module.kind
  return string.format("%s (%s)", module.name, what)
end

--- refuse_kind(who, module, supported): the TypeError/ValueError PEFT raises for a
-- module type its method has no layer for.
function M.refuse_kind(who, module, supported, kind)
  M.refuse(kind or "TypeError", "Target module %s is not supported by %s; it supports %s", M.describe(module), who,
    supported)
end

return M
