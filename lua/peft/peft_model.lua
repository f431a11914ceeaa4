-- peft.peft_model: what get_peft_model would build, without tensors: the
-- PeftModel class for the task, the adapter parameters with their names and
-- shapes, modules_to_save copies, and PEFT's parameter accounting.
local core = require "peft.core"
local errors = require "peft.errors"
local config = require "peft.config"
local types = require "peft.types"
local model_lib = require "peft.model"

local M = {}

local TASK_CLASSES = {
  SEQ_CLS = "PeftModelForSequenceClassification",
  SEQ_2_SEQ_LM = "PeftModelForSeq2SeqLM",
  CAUSAL_LM = "PeftModelForCausalLM",
  TOKEN_CLS = "PeftModelForTokenClassification",
  QUESTION_ANS = "PeftModelForQuestionAnswering",
  FEATURE_EXTRACTION = "PeftModelForFeatureExtraction",
}
M.TASK_CLASSES = TASK_CLASSES

-- heads PEFT adds to modules_to_save for these tasks
local TASK_HEADS = { SEQ_CLS = { "classifier", "score" }, TOKEN_CLS = { "classifier", "score" },
                     QUESTION_ANS = { "qa_outputs" } }

local numel = model_lib.numel

--- 1234567 -> "1,234,567" (Python's {:,d})
local function commas(n)
  local s = string.format("%d", n)
  local neg = s:sub(1, 1) == "-"
  if neg then s = s:sub(2) end
  s = s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return (neg and "-" or "") .. s
end
M.commas = commas

local PeftModel = {}
PeftModel.__index = PeftModel
PeftModel.__name = "peft.PeftModel"
PeftModel.__tostring = function(self)
  return string.format("%s(%s; adapters %s)", self.class_name, self.base.origin or "model",
    table.concat(self.adapter_order, ", "))
end

-- Every module path (containers included) of the base model, outer first.
local function module_paths(base)
  local seen, out = {}, {}
  for _, m in ipairs(base.modules) do
    local acc
    for seg in m.name:gmatch("[^%.]+") do
      acc = acc and (acc .. "." .. seg) or seg
      if not seen[acc] then
        seen[acc] = true
        out[#out + 1] = acc
      end
    end
  end
  return out
end

local function starts_with_path(name, path)
  return name == path or name:sub(1, #path + 1) == path .. "."
end

local function compatible_mixed()
  local out = {}
  for k in pairs(require("peft").PEFT_TYPE_TO_MIXED_MODEL_MAPPING) do out[#out + 1] = k end
  return out
end

local function method_for(cfg)
  local peft = require "peft"
  local m = peft.method(cfg.peft_type)
  if not m then errors.raise("ValueError", "PeftType " .. tostring(cfg.peft_type) .. " has no registered method") end
  return m
end

local function model_info(self, cfg, modules)
  local base = self.base
  local fm = cfg:get_class().field_map
  local function field(n) if fm[n] then return cfg[n] end end
  return {
    token_dim = field("token_dim") or base.hidden_size,
    num_layers = field("num_layers") or base.num_layers,
    num_attention_heads = field("num_attention_heads"),
    hidden_size = base.hidden_size,
    vocab_size = base.vocab_size,
    modules = modules,
  }
end

local function not_computed(msg)
  errors.raise("NotImplementedError", msg)
end

--- add_adapter(name, cfg): adds an adapter; in a mixed model only methods of
-- the mixed mapping are accepted, in a PeftModel only the method already
-- there.
function PeftModel:add_adapter(name, cfg)
  if type(name) ~= "string" or name == "" then
    errors.raise("TypeError", "add_adapter expects an adapter name, got " .. types.kind(name))
  end
  if not config.is_config(cfg) then
    errors.raise("TypeError", "add_adapter expects a config object, got " .. types.kind(cfg))
  end
  if self.adapters[name] then
    errors.raise("ValueError", "Adapter with name '" .. name .. "' already exists")
  end
  local method = method_for(cfg)
  if self.mixed then
    if cfg.is_prompt_learning or not require("peft").PEFT_TYPE_TO_MIXED_MODEL_MAPPING[cfg.peft_type] then
      local ok = compatible_mixed()
      table.sort(ok)
      errors.raise("ValueError", string.format("The provided peft_type '%s' is not compatible with the"
        .. " PeftMixedModel; compatible methods: %s", cfg.peft_type, table.concat(ok, ", ")))
    end
  elseif self.peft_type and cfg.peft_type ~= self.peft_type then
    errors.raise("ValueError", string.format("Cannot combine adapters with different peft types. Found %s and %s.",
      self.peft_type, cfg.peft_type))
  end
  local shapes = require "peft.shapes"
  local entry = { name = name, config = cfg, method = method, params = {}, modules = {}, copies = {} }
  local function add(p, module, origin)
    local n = numel(p.shape)
    entry.params[#entry.params + 1] = { name = p.name, shape = p.shape, numel = n, trainable = p.trainable ~= false,
      module = module, origin = origin or "adapter", counted = not p.buffer, saved = p.saved }
  end
  if cfg.is_prompt_learning then
    local ps, msg = shapes.shared(method.name, cfg, model_info(self, cfg, {}), name)
    if not ps then not_computed(msg) end
    for _, p in ipairs(ps) do add(p, nil) end
  else
    local targets = model_lib.targets(cfg, self.base)
    local fm = cfg:get_class().field_map
    local modules = {}
    for _, t in ipairs(targets) do
      local m = t.module
      modules[#modules + 1] = m
      local ff = false
      if fm.feedforward_modules and cfg.feedforward_modules ~= nil then
        ff = model_lib.matches(cfg, m.name, cfg.feedforward_modules) == true
      end
      local ps, msg = shapes.for_module(method.name, cfg, m,
        { adapter = name, r = t.r, alpha = t.alpha, is_feedforward = ff, layer_index = m.layer_index })
      if not ps then not_computed(msg) end
      for _, p in ipairs(ps) do
        add({ name = m.name .. "." .. p.name, shape = p.shape, trainable = p.trainable, buffer = p.buffer,
              saved = p.saved }, m.name)
      end
      entry.modules[#entry.modules + 1] = { module = m, r = t.r, alpha = t.alpha, feedforward = ff }
    end
    local shared, msg = shapes.shared(method.name, cfg, model_info(self, cfg, modules), name)
    if not shared then not_computed(msg) end
    for _, p in ipairs(shared) do add(p, nil) end
  end
  -- modules_to_save: a trainable copy of each matching module (PEFT matches
  -- module names that end with an entry, containers included)
  local mts = {}
  local fm = cfg:get_class().field_map
  if fm.modules_to_save and type(cfg.modules_to_save) == "table" then
    for _, m in ipairs(cfg.modules_to_save) do mts[#mts + 1] = m end
  end
  for _, m in ipairs(TASK_HEADS[cfg.task_type] or {}) do mts[#mts + 1] = m end
  if #mts > 0 then
    local wrapped = {}
    for _, path in ipairs(module_paths(self.base)) do
      local inside = false
      for _, w in ipairs(wrapped) do
        if starts_with_path(path, w) then inside = true end
      end
      if not inside then
        for _, m in ipairs(mts) do
          if path:sub(-#m) == m then
            wrapped[#wrapped + 1] = path
            break
          end
        end
      end
    end
    for _, path in ipairs(wrapped) do
      entry.copies[#entry.copies + 1] = path
      for _, bm in ipairs(self.base.modules) do
        if starts_with_path(bm.name, path) then
          local rest = bm.name == path and "" or bm.name:sub(#path + 2) .. "."
          for _, pn in ipairs(bm.param_order) do
            add({ name = path .. ".modules_to_save." .. name .. "." .. rest .. pn, shape = bm.params[pn].shape,
                  trainable = true }, path, "modules_to_save")
          end
        end
      end
    end
  end
  -- biases made trainable by the method's bias option
  entry.trainable_biases = {}
  local bias = fm.bias and cfg.bias
  if bias and bias ~= "none" then
    local targeted = {}
    for _, t in ipairs(entry.modules) do targeted[t.module.name] = true end
    for _, bm in ipairs(self.base.modules) do
      if bm.params.bias and (bias == "all" or targeted[bm.name]) then
        entry.trainable_biases[#entry.trainable_biases + 1] = { name = bm.name .. ".bias",
          numel = numel(bm.params.bias.shape) }
      end
    end
  end
  self.adapters[name] = entry
  self.adapter_order[#self.adapter_order + 1] = name
  self.peft_type = self.peft_type or cfg.peft_type
  self.peft_config[name] = cfg
  if not self.active_adapter then self.active_adapter = name end
  return entry
end

--- trainable_parameters() -> trainable, all (PEFT's get_nb_trainable_parameters:
-- every parameter of the adapted model, trainable ones being the adapters'
-- (and modules_to_save copies, and biases the config trains)).
function PeftModel:trainable_parameters()
  local all = self.base.total_params
  local trainable = 0
  local biases = {}
  for _, name in ipairs(self.adapter_order) do
    local a = self.adapters[name]
    for _, p in ipairs(a.params) do
      if p.counted then
        all = all + p.numel
        if p.trainable then trainable = trainable + p.numel end
      end
    end
    for _, b in ipairs(a.trainable_biases) do biases[b.name] = b.numel end
  end
  for _, n in pairs(biases) do trainable = trainable + n end
  return trainable, all
end

--- The line PEFT prints.
function PeftModel:trainable_parameters_line()
  local trainable, all = self:trainable_parameters()
  return string.format("trainable params: %s || all params: %s || trainable%%: %.4f", commas(trainable), commas(all),
    all > 0 and 100 * trainable / all or 0)
end

function PeftModel:print_trainable_parameters()
  io.stdout:write(self:trainable_parameters_line(), "\n")
end

--- The adapter's parameters: { name, shape, numel, trainable, module, origin }.
function PeftModel:adapter_parameters(name)
  local a = self.adapters[name or self.active_adapter]
  if not a then return nil, "no adapter called '" .. tostring(name) .. "'" end
  return a.params
end

--- The keys PEFT's save_pretrained writes for an adapter (the adapter name
-- removed, base_model.model. in front).
function PeftModel:saved_keys(name)
  name = name or self.active_adapter
  local isolation = require "peft.isolation"
  local out = {}
  for _, p in ipairs(self.adapters[name].params) do
    if p.saved ~= false then out[#out + 1] = isolation.to_saved(p.name, name) end
  end
  return out
end

function M.is_peft_model(v) return getmetatable(v) == PeftModel end

--- get_peft_model(model, config [, adapter_name [, opts]]) -> PeftModel
-- model: a description from peft.model.describe, or anything describe
-- accepts. opts.mixed: build a PeftMixedModel.
function M.get_peft_model(model, cfg, adapter_name, opts)
  opts = opts or {}
  if not model_lib.is_model(model) then model = model_lib.describe(model) end
  if not config.is_config(cfg) then
    errors.raise("TypeError", "get_peft_model expects a config object, got " .. types.kind(cfg))
  end
  local class_name = opts.mixed and "PeftMixedModel" or TASK_CLASSES[cfg.task_type] or "PeftModel"
  local self = setmetatable({ class_name = class_name, base = model, adapters = {}, adapter_order = {},
                              peft_config = {}, mixed = opts.mixed and true or false }, PeftModel)
  self:add_adapter(adapter_name or "default", cfg)
  return self
end

M.PeftModel = PeftModel
return M
