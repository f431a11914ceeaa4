-- peft.peft_model: what get_peft_model builds and what save_pretrained writes,
-- without tensors.
--
--   local pm = peft.get_peft_model(base, cfg [, "default" [, { mixed = true }]])
--   pm.class_name                       --> "PeftModelForCausalLM"
--   pm:trainable_parameters()           --> trainable, all   (PEFT's counts)
--   pm:adapter_parameters([name])       --> the tensors the adapter added
--   pm:saved_keys([name]), pm:saved_tensors([name])   --> what save_pretrained writes
--
-- The plan follows PEFT's own steps: the PeftModel class from the task type;
-- for tuner methods BaseTuner.inject_adapter (the default target_modules of
-- the model type, the method's preparation, 'all-linear', the match of every
-- module, one tuner layer per match, the checks on what matched, which
-- parameters are trainable), then the auxiliary wrappers (modules_to_save
-- copies, trainable tokens); for prompt-learning methods the prompt encoder.
-- What one method builds is declared on its model class (see peft.tuner).
--
-- Every tensor is kept under the name it has in the PeftModel's state_dict
-- (base_model.model.<module>.lora_A.default.weight); names shown to users
-- are relative to the base model, as PEFT prints them. save_pretrained's keys
-- come from the same walk get_peft_model_state_dict makes over that state.
local core = require "peft.core"
local errors = require "peft.errors"
local config = require "peft.config"
local types = require "peft.types"
local model_lib = require "peft.model"
local tuner = require "peft.tuner"

local M = {}

local null = core.null
local numel = tuner.numel

local TASK_CLASSES = {
  SEQ_CLS = "PeftModelForSequenceClassification",
  SEQ_2_SEQ_LM = "PeftModelForSeq2SeqLM",
  CAUSAL_LM = "PeftModelForCausalLM",
  TOKEN_CLS = "PeftModelForTokenClassification",
  QUESTION_ANS = "PeftModelForQuestionAnswering",
  FEATURE_EXTRACTION = "PeftModelForFeatureExtraction",
}
M.TASK_CLASSES = TASK_CLASSES

-- the heads PeftModelFor<task> adds to modules_to_save: before the adapter is
-- injected (so that no adapter lands on them) or after it
local HEADS_BEFORE = { SEQ_CLS = { "classifier", "score" } }
local HEADS_AFTER = { TOKEN_CLS = { "classifier", "score" }, QUESTION_ANS = { "qa_outputs" } }

-- EMBEDDING_LAYER_NAMES of PEFT's save code
local EMBEDDING_LAYER_NAMES = { "embed_tokens", "lm_head" }

--- 1234567 -> "1,234,567" (Python's {:,d})
local function commas(n)
  local s = string.format("%d", n)
  local neg = s:sub(1, 1) == "-"
  if neg then s = s:sub(2) end
  s = s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return (neg and "-" or "") .. s
end
M.commas = commas

local function get(cfg, name) return model_lib.field_of(cfg, name) end

local function starts_with_path(name, path)
  return path == "" or name == path or name:sub(1, #path + 1) == path .. "."
end

local function ends_with(s, suffix) return suffix == "" or s:sub(-#suffix) == suffix end

local function peft_module() return require "peft" end

local function method_for(cfg)
  local m = peft_module().method(cfg.peft_type)
  if not m then errors.raise("ValueError", "PeftType " .. tostring(cfg.peft_type) .. " has no registered method") end
  return m
end

local PeftModel = {}
PeftModel.__index = PeftModel
PeftModel.__name = "peft.PeftModel"
PeftModel.__tostring = function(self)
  return string.format("%s(%s; adapters %s)", self.class_name, self.base.origin or "model",
    table.concat(self.adapter_order, ", "))
end

-- the structure ---------------------------------------------------------------

-- The module tree the plan works on: the base model's modules, after layer
-- replication when a method asks for it. Each module record: name, kind,
-- params (name -> { shape, id }), param_order, features.
local function copy_modules(base)
  local mods, by_name = {}, {}
  for i, m in ipairs(base.modules) do
    local params = {}
    for pn, p in pairs(m.params) do params[pn] = { shape = p.shape, dtype = p.dtype, id = m.name .. "." .. pn } end
    local r = setmetatable({ params = params }, { __index = m })
    mods[i] = r
    by_name[m.name] = r
  end
  return mods, by_name
end

-- The paths of the tree (containers included, outer first) for the current modules.
local function module_paths(self)
  if self.paths then return self.paths end
  local seen, out = {}, {}
  for _, m in ipairs(self.modules) do
    local acc
    for seg in m.name:gmatch("[^%.]+") do
      acc = acc and (acc .. "." .. seg) or seg
      if not seen[acc] then
        seen[acc] = true
        out[#out + 1] = acc
      end
    end
  end
  self.paths, self.path_set = out, seen
  return out
end

--- Every module path (containers included, outer first), as named_modules lists them.
function PeftModel:module_paths() return module_paths(self) end

function PeftModel:linear_modules()
  local out = {}
  for _, m in ipairs(self.modules) do
    if m.kind == "linear" or m.kind == "conv1d" then out[#out + 1] = m end
  end
  return out
end

function PeftModel:record(path)
  local m = self.by_name[path]
  if m then return m end
  module_paths(self)
  if not self.path_set[path] then return nil end
  return { name = path, kind = "container", params = {}, param_order = {}, layer_index = nil }
end

--- replicate_layers(layer_map): PEFT's layer replication for LoRA's
-- layer_replication: the layer list at model[(.model)*].layers (or
-- encoder.layer, or h) is rebuilt from [start, end) ranges, the copies sharing
-- their parameters with the originals.
function PeftModel:replicate_layers(layer_map)
  module_paths(self)
  local root = ""
  while self.path_set[root .. "model"] do root = root .. "model." end
  if self.path_set[root .. "bert"] then root = root .. "bert." end
  local prefix
  for _, c in ipairs { "layers", "encoder.layer", "h" } do
    if self.path_set[root .. c] then prefix = root .. c; break end
  end
  if not prefix then
    tuner.refuse("ValueError", "Could not locate the layers attribute in the model (layer_replication looks for "
      .. "model[.model...].layers, .encoder.layer or .h: Llama, BERT or Falcon style)")
  end
  local layers, n = {}, 0
  for _, m in ipairs(self.modules) do
    local idx, rest = m.name:match("^" .. prefix:gsub("%.", "%%.") .. "%.(%d+)%.(.*)$")
    if idx then
      idx = tonumber(idx)
      layers[idx] = layers[idx] or {}
      table.insert(layers[idx], { m = m, rest = rest })
      n = math.max(n, idx + 1)
    end
  end
  local new_modules, new_by = {}, {}
  local inserted = false
  local function emit(m) new_modules[#new_modules + 1] = m; new_by[m.name] = m end
  for _, m in ipairs(self.modules) do
    if m.name:match("^" .. prefix:gsub("%.", "%%.") .. "%.%d+%.") then
      if not inserted then
        inserted = true
        local pos = 0
        for _, range in ipairs(layer_map) do
          for i = range[1], range[2] - 1 do
            if not layers[i] then
              tuner.refuse("IndexError", "layer_replication: layer %d does not exist (the model has %d)", i, n)
            end
            for _, item in ipairs(layers[i]) do
              local params = {}
              for pn, p in pairs(item.m.params) do params[pn] = { shape = p.shape, dtype = p.dtype, id = p.id } end
              local name = prefix .. "." .. pos .. "." .. item.rest
              emit(setmetatable({ name = name, params = params, layer_index = pos }, { __index = item.m }))
            end
            pos = pos + 1
          end
        end
      end
    else
      emit(m)
    end
  end
  self.modules, self.by_name, self.paths, self.path_set = new_modules, new_by, nil, nil
  self.replicated = true
end

-- tuner adapters ----------------------------------------------------------------

local function is_active(self, name)
  for _, a in ipairs(self.active_adapters) do
    if a == name then return true end
  end
  return false
end

-- modules_to_save with the heads PeftModelForSequenceClassification adds before
-- the adapter is injected (only where the config has the field)
local function with_heads(self, cfg, mts)
  local heads = not self.mixed and HEADS_BEFORE[cfg.task_type] or nil
  if not heads or not cfg:get_class().field_map.modules_to_save then return mts end
  local all = {}
  for _, m in ipairs(mts or {}) do all[#all + 1] = m end
  for _, h in ipairs(heads) do all[#all + 1] = h end
  return all
end
M.with_heads = with_heads

local function model_info(self, cfg)
  return { hidden_size = self.base.hidden_size, vocab_size = self.base.vocab_size, num_layers = self.base.num_layers,
           config = self.base.config, model_type = self.base.model_type }
end

-- ctx handed to a method's functions
local function context(self, cfg, adapter, extra)
  local ctx = { adapter = adapter, plan = self, base = self.base, info = model_info(self, cfg),
                boft_fbd_cuda = self.opts.boft_fbd_cuda }
  if extra then for k, v in pairs(extra) do ctx[k] = v end end
  return ctx
end

local function call(fn, ...)
  local ok, res = pcall(fn, ...)
  if ok then return res end
  error(res, 0)
end

-- PEFT's message when nothing was adapted (inject_adapter's checks).
local function nothing_matched(cfg, tm, excluded, unmatched)
  local lt, lp = get(cfg, "layers_to_transform"), get(cfg, "layers_pattern")
  local note = ""
  if lt ~= nil then note = note .. " Note: you specified layers_to_transform " .. types.repr(lt) .. "." end
  if lp ~= nil then note = note .. " You also specified layers_pattern " .. types.repr(lp) .. "." end
  if excluded > 0 and unmatched == 0 then
    tuner.refuse("ValueError", "All modules were excluded (NoMatchingPeftModuleError). Check target_modules, "
      .. "exclude_modules and modules_to_save.")
  elseif excluded == 0 and (tm == nil or (type(tm) == "table" and #tm == 0)) then
    tuner.refuse("ValueError", "No target_modules passed and no target_parameters found (NoMatchingPeftModuleError)")
  elseif excluded == 0 then
    tuner.refuse("ValueError", "Target modules %s not found in the base model (NoMatchingPeftModuleError).%s",
      types.repr(tm), note)
  else
    tuner.refuse("ValueError", "No modules were targeted for adaptation (NoMatchingPeftModuleError): the modules "
      .. "target_modules matches are excluded by exclude_modules or modules_to_save.%s", note)
  end
end

-- The modules a tuner config adapts, in module order: { record, key } ...
local function match_modules(self, cfg, mcls, tm, mts)
  local matched, excluded, unmatched = {}, 0, 0
  local existing = {}
  for path in pairs(self.layers) do existing[#existing + 1] = path .. "." end
  for _, path in ipairs(module_paths(self)) do
    local inside = false
    for _, p in ipairs(existing) do
      if path:sub(1, #p) == p then inside = true; break end
    end
    if not inside then
      local ok, why = model_lib.matches(cfg, path, tm, { modules_to_save = mts })
      if why == "excluded" then
        excluded = excluded + 1
      elseif not ok then
        unmatched = unmatched + 1
      else
        matched[#matched + 1] = self:record(path)
      end
    end
  end
  return matched, excluded, unmatched
end

--- add_layer(module, tensors, adapter, method, mcls): the tuner layer on a
-- module gets the tensors of one adapter (PEFT's _create_and_replace).
function PeftModel:add_layer(m, ts, adapter, method, mcls)
  local layer = self.layers[m.name]
  if not layer then
    layer = { module = m, tensors = {}, method = method.name, cls = mcls }
    self.layers[m.name] = layer
    self.layer_order[#self.layer_order + 1] = m.name
  end
  for _, t in ipairs(ts) do
    t.adapter = t.adapter == nil and adapter or t.adapter
    layer.tensors[#layer.tensors + 1] = t
  end
  self._state = nil
  return layer
end

function PeftModel:add_tuner_adapter(name, cfg, method, mcls)
  local tm = get(cfg, "target_modules")
  local tp = get(cfg, "target_parameters")
  if tp ~= nil and #tp == 0 then tp = nil end
  local defaults
  if tm == nil then
    tm = model_lib.default_targets(mcls, self.base)
    defaults = tm
  end
  if tm == nil and mcls.needs_targets ~= false and not tp then
    tuner.refuse("ValueError", "Please specify target_modules in the config: PEFT has no default targets for %s "
      .. "on model type %s", method.name, self.base.model_type and types.repr(self.base.model_type) or "(unknown: "
      .. "no config.json beside the weights)")
  end
  local ctx = context(self, cfg, name, { target_modules = tm, default_targets = defaults })
  if mcls.prepare then call(mcls.prepare, self, cfg, ctx) end
  tm = ctx.target_modules
  tm = model_lib.expand_all_linear(cfg, self, tm)
  ctx.target_modules = tm
  local mts = ctx.modules_to_save
  if mts == nil then mts = get(cfg, "modules_to_save") end
  mts = with_heads(self, cfg, mts)
  ctx.modules_to_save = mts
  local matched, excluded, unmatched = match_modules(self, cfg, mcls, tm, mts)
  local entry = self.adapters[name]
  local tied = ctx.tied_targets or {}
  local targets = {}
  for _, m in ipairs(matched) do
    if not tied[m.name] then targets[#targets + 1] = m end
  end
  for _, m in ipairs(matched) do
    if tied[m.name] then targets[#targets + 1] = m end
  end
  ctx.targets = targets
  for _, m in ipairs(targets) do
    if mcls.kinds and not mcls.kinds[m.kind] then
      tuner.refuse(mcls.kind_error or "TypeError", "Target module %s is not supported by %s; it supports %s",
        tuner.describe(m), mcls.display or method.name, mcls.supported or "other layer kinds")
    end
  end
  local adapted = 0
  for _, m in ipairs(targets) do
    ctx.key = m.name
    ctx.tied = tied[m.name] or false
    local ts = call(mcls.layer, cfg, m, ctx)
    -- nil: the method leaves this matched module as it is (PEFT's _create_and_replace returning
    -- without a new module); it still counts as matched
    if ts then
      self:add_layer(m, ts, name, method, mcls)
      entry.modules[#entry.modules + 1] = { module = m, r = ctx.r, alpha = ctx.alpha, feedforward = ctx.feedforward,
                                            notes = ts.notes }
    end
    adapted = adapted + 1
    ctx.r, ctx.alpha, ctx.feedforward = nil, nil, nil
  end
  ctx.key, ctx.tied = nil, nil
  -- parameters targeted by name (LoRA's target_parameters)
  if tp and mcls.parameter then
    adapted = adapted + call(mcls.parameter, self, cfg, ctx, tp, method, mcls)
  end
  if adapted == 0 and not ctx.allow_empty then nothing_matched(cfg, tm, excluded, unmatched) end
  if mcls.model then
    for _, t in ipairs(call(mcls.model, cfg, ctx)) do
      t.adapter = t.adapter == nil and name or t.adapter
      t.owner = "tuner"
      self.tuner_tensors[#self.tuner_tensors + 1] = t
    end
  end
  if mcls.after then call(mcls.after, self, cfg, ctx) end
  entry.ctx = ctx
  entry.modules_to_save = mts
end

-- auxiliary wrappers ------------------------------------------------------------

-- PEFT's _set_trainable: every module whose name ends with one of names (a
-- plain suffix) gets a wrapper; a module inside one already wrapped is left.
function PeftModel:wrap(names, adapter, kind, opts)
  local found = false
  for _, path in ipairs(module_paths(self)) do
    local matches = false
    for _, n in ipairs(names) do
      if ends_with(path, n) then matches = true; break end
    end
    if matches then
      local inside
      for wpath in pairs(self.aux) do
        if wpath ~= path and starts_with_path(path, wpath) then inside = wpath end
      end
      if not inside then
        found = true
        local w = self.aux[path]
        if not w then
          w = { path = path, kind = kind, adapters = {}, order = {} }
          self.aux[path] = w
          self.aux_order[#self.aux_order + 1] = path
        end
        if w.kind ~= kind then
          tuner.refuse("ValueError", "%s is wrapped for %s and cannot also be wrapped for %s", path, w.kind, kind)
        end
        if not w.adapters[adapter] then
          w.adapters[adapter] = opts or {}
          w.order[#w.order + 1] = adapter
        end
      end
    end
  end
  return found
end

-- The trainable tokens of LoRA's trainable_token_indices (PEFT's
-- set_additional_trainable_modules).
function PeftModel:add_token_wrappers(adapter, cfg, indices, mts)
  local layers = {}
  if type(indices) == "table" and getmetatable(indices) ~= core.json_array_mt and #indices == 0 and next(indices) then
    for k, v in pairs(indices) do layers[#layers + 1] = { name = k, indices = v } end
    table.sort(layers, function(a, b) return a.name < b.name end)
  else
    layers[1] = { name = self.base.input_embeddings and model_lib.last_segment(self.base.input_embeddings)
                  or "embed_tokens", indices = indices, full = self.base.input_embeddings or "embed_tokens" }
  end
  for _, l in ipairs(layers) do
    if type(mts) == "table" then
      for _, m in ipairs(mts) do
        if m == l.name or m == l.full then
          tuner.refuse("ValueError", "The embedding layer is already marked to be trained fully, either specify "
            .. "modules_to_save=[..., \"%s\", ...] or trainable_tokens={'%s': x} but not both.", m, m)
        end
      end
    end
  end
  for _, l in ipairs(layers) do
    local name = l.full or l.name
    local emb = self.by_name[name]
    if not emb then
      for _, m in ipairs(self.modules) do
        if ends_with(m.name, name) then emb = m; break end
      end
    end
    local rows = emb and (emb.num_embeddings or emb.out_features)
    if rows then
      for _, i in ipairs(l.indices) do
        if math.type(i) ~= "integer" or i >= rows or i < -rows then
          tuner.refuse("IndexError", "trainable_token_indices: index %s is out of bounds for %s (%d rows)",
            tostring(i), emb.name, rows)
        end
      end
    end
    if not self:wrap({ name }, adapter, "trainable_tokens", { indices = l.indices }) then
      tuner.refuse("ValueError", "Target modules {'%s'} not found in the base model (trainable_token_indices).", name)
    end
  end
end

-- the state -----------------------------------------------------------------------

-- The PeftModel's state: every parameter and buffer under its state_dict key.
-- Each entry: key, shape, numel, param (false for a buffer), persistent,
-- trainable, id (shared tensors share it), group (base, tuner, copy, tokens,
-- prompt), adapter, path (its module), rel (the name relative to the base model).
function PeftModel:state()
  if self._state then return self._state end
  local P = self.prompt_learning and "base_model." or "base_model.model."
  local out = {}
  local function add(e)
    e.numel = e.numel or numel(e.shape)
    if e.param == nil then e.param = true end
    out[#out + 1] = e
  end
  local wrapper_of = {}
  for _, path in ipairs(self.aux_order) do wrapper_of[path] = self.aux[path] end
  local function wrapper_above(name)
    local best
    for path, w in pairs(wrapper_of) do
      if starts_with_path(name, path) and (not best or #path > #best.path) then best = w end
    end
    return best
  end
  -- base parameters, renamed where a layer or a wrapper now holds them
  for _, m in ipairs(self.modules) do
    -- the tuner layer holding the module: on it, or on a container above it (LN tuning)
    local lpath = m.name
    while lpath and not self.layers[lpath] do lpath = lpath:match("^(.*)%.[^%.]+$") end
    local layer = lpath and self.layers[lpath]
    local w = wrapper_above(m.name)
    for _, pn in ipairs(m.param_order) do
      local p = m.params[pn]
      local rel
      if layer then
        rel = lpath .. "." .. (layer.base_attr or "base_layer") .. "."
          .. (lpath == m.name and pn or (m.name:sub(#lpath + 2) .. "." .. pn))
      elseif w and w.kind == "modules_to_save" then
        local rest = m.name == w.path and pn or (m.name:sub(#w.path + 2) .. "." .. pn)
        rel = w.path .. ".original_module." .. rest
      elseif w and w.kind == "trainable_tokens" then
        local rest = m.name == w.path and pn or (m.name:sub(#w.path + 2) .. "." .. pn)
        rel = w.path .. ".token_adapter.base_layer." .. rest
      else
        rel = m.name .. "." .. pn
      end
      add({ key = P .. rel, rel = rel, shape = p.shape, trainable = false, id = "base:" .. p.id, group = "base",
            path = m.name, pname = pn })
    end
  end
  -- tuner layers
  for _, path in ipairs(self.layer_order) do
    local layer = self.layers[path]
    for _, t in ipairs(layer.tensors) do
      local rel = path .. "." .. t.name
      add({ key = P .. rel, rel = rel, shape = t.shape, numel = t.numel, param = not t.buffer,
            persistent = t.persistent, trainable = t.trainable, id = t.shared and ("shared:" .. t.shared) or ("t:" .. rel),
            group = "tuner", adapter = t.adapter, path = path, tensor = t, attr = t.name:match("^[^%.]+") })
    end
  end
  -- tensors of the tuner itself (vera_A, vblora_vector_bank)
  for _, t in ipairs(self.tuner_tensors) do
    local key = "base_model." .. t.name
    add({ key = key, rel = key, shape = t.shape, numel = t.numel, param = not t.buffer, persistent = t.persistent,
          trainable = t.trainable, id = t.shared and ("shared:" .. t.shared) or ("t:" .. key), group = "tuner",
          adapter = t.adapter, path = "", tensor = t, attr = t.name:match("^[^%.]+"), model_level = true })
  end
  -- wrappers' own tensors
  for _, path in ipairs(self.aux_order) do
    local w = self.aux[path]
    for _, a in ipairs(w.order) do
      if w.kind == "modules_to_save" then
        local tr = not w.adapters[a].frozen
        for _, m in ipairs(self.modules) do
          if starts_with_path(m.name, path) then
            for _, pn in ipairs(m.param_order) do
              local rest = m.name == path and pn or (m.name:sub(#path + 2) .. "." .. pn)
              local rel = path .. ".modules_to_save." .. a .. "." .. rest
              add({ key = P .. rel, rel = rel, shape = m.params[pn].shape, trainable = tr, id = "copy:" .. rel,
                    group = "copy", adapter = a, path = path, rest = rest })
            end
          end
        end
      else
        local opts = w.adapters[a]
        local m = self.by_name[path]
        local width = m and (m.embedding_dim or m.in_features)
        if opts.tied_to then
          -- a layer tied to the input embedding shares its delta
        elseif width then
          local rel = path .. ".token_adapter.trainable_tokens_delta." .. a
          add({ key = P .. rel, rel = rel, shape = { #opts.indices, width }, trainable = not opts.frozen,
                id = "tokens:" .. path .. ":" .. a, group = "tokens", adapter = a, path = path })
        end
      end
    end
  end
  -- the prompt encoder
  for _, t in ipairs(self.prompt) do
    local key = "prompt_encoder." .. t.adapter .. "." .. t.name
    add({ key = key, rel = key, shape = t.shape, numel = t.numel, param = not t.buffer, persistent = t.persistent,
          trainable = t.trainable, id = "p:" .. key, group = "prompt", adapter = t.adapter, tensor = t })
  end
  -- a tuner that holds the base model elsewhere (X-LoRA: base_model.lora_model.model.): the
  -- names PEFT prints keep that prefix
  if self.key_prefix then
    for _, e in ipairs(out) do
      if e.key:sub(1, #P) == P then
        e.key = self.key_prefix .. e.key:sub(#P + 1)
        e.rel = e.key
      end
    end
  end
  self._state = out
  return out
end

--- trainable_parameters() -> trainable, all (PEFT's get_nb_trainable_parameters:
-- every parameter of the adapted model once, shared ones counted once).
function PeftModel:trainable_parameters()
  local seen, trainable, all = {}, 0, 0
  for _, e in ipairs(self:state()) do
    if e.param and not seen[e.id] then
      seen[e.id] = true
      all = all + e.numel
      if e.trainable then trainable = trainable + e.numel end
    end
  end
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

--- The tensors an adapter added: { name (relative to the base model), shape,
-- numel, trainable, counted (false for a buffer), module, origin } in order.
function PeftModel:adapter_parameters(name)
  name = name or self.active_adapter
  local a = self.adapters[name]
  if not a then return nil, "no adapter called '" .. tostring(name) .. "'" end
  local out, seen = {}, {}
  for _, e in ipairs(self:state()) do
    if e.group ~= "base" and (e.adapter == name or e.adapter == false) and (e.param or e.persistent ~= nil) then
      local dup = e.param and seen[e.id]
      if not dup then
        seen[e.id] = true
        out[#out + 1] = { name = e.rel, shape = e.shape, numel = e.numel, trainable = e.trainable, counted = e.param,
                          module = (e.group == "tuner" and not e.model_level) and e.path or nil,
                          origin = (e.group == "copy" and "modules_to_save") or (e.group == "tokens" and "trainable_tokens")
                            or (e.group == "prompt" and "prompt_encoder") or "adapter",
                          persistent = e.persistent, key = e.key }
      end
    end
  end
  return out
end

-- saving ------------------------------------------------------------------------

-- PEFT's _remove_adapter_name_from_state_dict_key.
local function remove_adapter_name(key, adapter)
  if not key:find(".", 1, true) then return key end
  if ends_with(key, "." .. adapter) then return key:sub(1, #key - #adapter - 1) end
  local head, suffix = key:match("^(.*)%.([^%.]*)$")
  if ends_with(head, "." .. adapter) then head = head:sub(1, #head - #adapter - 1) end
  return head .. "." .. suffix
end
M.remove_adapter_name = remove_adapter_name

local function has_adapter_name(key, names)
  for _, n in ipairs(names) do
    if key:find("." .. n .. ".", 1, true) or ends_with(key, "." .. n) then return true end
  end
  return false
end

--- saved_tensors(name) -> list of { key, shape }: the entries of
-- get_peft_model_state_dict, i.e. what save_pretrained writes.
function PeftModel:saved_tensors(name)
  name = name or self.active_adapter
  local entry = self.adapters[name]
  if not entry then errors.raise("KeyError", "no adapter called '" .. tostring(name) .. "'") end
  local cfg = entry.config
  local mcls = entry.method.model_cls or {}
  -- the state_dict: parameters and persistent buffers, every name (shared ones too)
  local state = {}
  for _, e in ipairs(self:state()) do
    if e.param or e.persistent then state[#state + 1] = e end
  end
  local unwanted = {}
  for _, a in ipairs(self.adapter_order) do
    if a ~= name then unwanted[#unwanted + 1] = a end
  end
  if not cfg.is_prompt_learning and #unwanted > 0 then
    local filtered = {}
    for _, e in ipairs(state) do
      if not has_adapter_name(e.key, unwanted) then filtered[#filtered + 1] = e end
    end
    if #filtered > 0 then state = filtered end
  end
  -- the selection: { key = in-memory key, shape, entry }, in order
  local sel = {}
  local function take(key, e, shape) sel[#sel + 1] = { key = key, shape = shape or e.shape, entry = e } end
  if cfg.is_prompt_learning then
    for _, t in ipairs(call(mcls.saved_prompt or function() return {} end, cfg, entry.ctx, self)) do
      take(t.key, nil, t.shape)
    end
  else
    -- the tuner's tensors (tuner layers outside wrappers, and the tuner itself)
    for _, e in ipairs(state) do
      if e.group == "tuner" then take(e.key, e) end
    end
    local bias = get(cfg, "bias")
    if type(bias) == "string" and bias ~= "none" then
      if bias == "all" then
        for _, e in ipairs(state) do
          if e.key:match("%.bias$") then take(e.key, e) end
        end
      elseif bias:match("_only$") then
        for _, e in ipairs(state) do
          if e.group == "base" and self.layers[e.path] and e.pname == "bias" then take(e.key, e) end
        end
      end
    end
    -- a method may change the selection (PEFT's _get_adapter_state_dict overrides)
    if mcls.state_dict then sel = call(mcls.state_dict, sel, cfg, entry.ctx, self, state) end
  end
  -- wrappers: modules_to_save copies and trainable tokens
  local P = self.prompt_learning and "base_model." or "base_model.model."
  local present = {}
  for _, e in ipairs(state) do present[e.key] = e end
  for _, path in ipairs(self.aux_order) do
    local w = self.aux[path]
    local opts = w.adapters[name]
    if opts then
      if w.kind == "modules_to_save" then
        for _, e in ipairs(state) do
          if e.group == "copy" and e.path == path and e.adapter == name then take(P .. path .. "." .. e.rest, e) end
        end
      elseif not opts.tied_to then
        local k = P .. path .. ".token_adapter.trainable_tokens_delta." .. name
        if present[k] then take(P .. path .. ".token_adapter.trainable_tokens_delta", present[k]) end
      end
    end
  end
  -- embedding layers PEFT saves with the adapter when target_modules names them
  if not cfg.is_prompt_learning then
    local tm = get(cfg, "target_modules")
    if entry.ctx and entry.ctx.target_modules_saved ~= nil then tm = entry.ctx.target_modules_saved end
    local targeted = false
    if type(tm) == "string" and tm:lower() ~= "all-linear" then
      for _, p in ipairs(module_paths(self)) do
        for _, e in ipairs(EMBEDDING_LAYER_NAMES) do
          if core.re_match("(.*\\.)?" .. e .. "$", p, "start") and model_lib.fullmatch(tm, p, "target_modules") then
            targeted = true
          end
        end
      end
    elseif type(tm) == "table" then
      for _, t in ipairs(tm) do
        for _, e in ipairs(EMBEDDING_LAYER_NAMES) do
          if t == e then targeted = true end
        end
      end
    end
    local tokens = cfg.peft_type == "TRAINABLE_TOKENS" or get(cfg, "trainable_token_indices") ~= nil
    if targeted and not tokens then
      for _, emb in ipairs { self.base.input_embeddings, self.base.output_embeddings } do
        local layer = emb and self.layers[emb]
        local m = emb and self.by_name[emb]
        if layer and m and (m.kind == "linear" or m.kind == "embedding") then
          local prefix = P .. emb .. ".base_layer."
          for _, e in ipairs(state) do
            if e.key:sub(1, #prefix) == prefix then take(e.key, e) end
          end
        end
      end
    end
  end
  -- the adapter name goes (a dict: a later entry under the same key wins)
  local renamed = mcls.saved or function(key, adapter) return remove_adapter_name(key, adapter) end
  local out, at = {}, {}
  for _, c in ipairs(sel) do
    local key = c.entry and call(renamed, c.key, name, cfg) or c.key
    if at[key] then
      out[at[key]].shape = c.shape
    else
      out[#out + 1] = { key = key, shape = c.shape }
      at[key] = #out
    end
  end
  return out
end

--- The keys PEFT's save_pretrained writes for an adapter.
function PeftModel:saved_keys(name)
  local out = {}
  for i, t in ipairs(self:saved_tensors(name)) do out[i] = t.key end
  return out
end

-- adding adapters ---------------------------------------------------------------------

local function compatible_mixed()
  local out = {}
  for k in pairs(peft_module().PEFT_TYPE_TO_MIXED_MODEL_MAPPING) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- which parameters train after an adapter is added: PEFT's set_adapter (the
-- tensors of adapter layers train for active adapters unless inference_mode
-- or the method freezes them), _mark_only_adapters_as_trainable (bias), and
-- the inference-mode freeze of every parameter whose name holds the adapter name.
local function settle_trainable(self, name, cfg)
  local active = {}
  for _, a in ipairs(self.active_adapters) do active[a] = true end
  local function settle(t, layer_names)
    if t.buffer or not t.adapter then return end
    local attr = t.name:match("^[^%.]+")
    if layer_names[attr] then
      local acfg = self.peft_config[t.adapter]
      t.trainable = active[t.adapter] and not (acfg and acfg.inference_mode == true) and not t.frozen or false
    end
  end
  for _, path in ipairs(self.layer_order) do
    local layer = self.layers[path]
    local names = layer.cls and layer.cls.layer_name_set or {}
    for _, t in ipairs(layer.tensors) do settle(t, names) end
  end
  local bias = get(cfg, "bias")
  self.base_trainable = self.base_trainable or {}
  if type(bias) == "string" and bias ~= "none" then
    for _, m in ipairs(self.modules) do
      if m.params.bias and (bias == "all" or (bias:match("_only$") and self.layers[m.name])) then
        self.base_trainable[m.name .. ".bias"] = true
      end
    end
  end
  if cfg.inference_mode == true then
    for _, path in ipairs(self.layer_order) do
      for _, t in ipairs(self.layers[path].tensors) do
        if (path .. "." .. t.name):find(name, 1, true) then t.trainable = false end
      end
    end
    for _, t in ipairs(self.tuner_tensors) do
      if t.name:find(name, 1, true) then t.trainable = false end
    end
  end
  self._state = nil
end

function PeftModel:apply_base_trainable()
  if not self.base_trainable then return end
  for _, e in ipairs(self:state()) do
    if e.group == "base" and self.base_trainable[e.path .. "." .. e.pname] then e.trainable = true end
    if e.group == "copy" and self.bias_all and e.rest:match("bias$") then e.trainable = true end
  end
end

--- add_adapter(name, cfg): adds an adapter; in a mixed model only methods of
-- the mixed mapping are accepted, in a PeftModel only the method already there.
function PeftModel:add_adapter(name, cfg)
  if type(name) ~= "string" or name == "" then
    errors.raise("TypeError", "add_adapter expects an adapter name, got " .. types.kind(name))
  end
  if not config.is_config(cfg) then
    errors.raise("TypeError", "add_adapter expects a config object, got " .. types.kind(cfg))
  end
  if self.adapters[name] then
    errors.raise("ValueError", "Adapter with name '" .. name .. "' already exists.")
  end
  local method = method_for(cfg)
  local mcls = method.model_cls
  if self.mixed then
    if cfg.is_prompt_learning or not peft_module().PEFT_TYPE_TO_MIXED_MODEL_MAPPING[cfg.peft_type] then
      errors.raise("ValueError", string.format("The provided peft_type '%s' is not compatible with the"
        .. " PeftMixedModel; compatible methods: %s", cfg.peft_type, table.concat(compatible_mixed(), ", ")))
    end
  elseif self.peft_type and cfg.peft_type ~= self.peft_type then
    errors.raise("ValueError", string.format("Cannot combine adapters with different peft types. Found %s and %s.",
      self.peft_type, cfg.peft_type))
  end
  if type(mcls) ~= "table" or not (mcls.layer or mcls.encoder or mcls.build) then
    tuner.not_computed("%s: what get_peft_model builds is not declared for this method (its model class %s has no "
      .. "layer, encoder or build function)", method.name, type(mcls) == "table" and tostring(mcls.name) or "is missing")
  end
  -- a failed addition leaves the model as it was
  local snapshot = { layers = {}, layer_order = { table.unpack(self.layer_order) },
                     tuner_tensors = { table.unpack(self.tuner_tensors) }, aux = {}, aux_order = { table.unpack(self.aux_order) },
                     prompt = { table.unpack(self.prompt) }, modules = self.modules, by_name = self.by_name,
                     base_trainable = self.base_trainable }
  for k, v in pairs(self.layers) do snapshot.layers[k] = { module = v.module, tensors = { table.unpack(v.tensors) },
                                                           method = v.method, cls = v.cls } end
  for k, v in pairs(self.aux) do
    local ad = {}
    for a, o in pairs(v.adapters) do ad[a] = o end
    snapshot.aux[k] = { path = v.path, kind = v.kind, adapters = ad, order = { table.unpack(v.order) } }
  end
  local entry = { name = name, config = cfg, method = method, modules = {} }
  self.adapters[name] = entry
  self.peft_config[name] = cfg
  local first = #self.adapter_order == 0
  if first then
    self.active_adapter = name
    self.active_adapters = { name }
  end
  local ok, err = pcall(function()
    if mcls.build then
      mcls.build(self, cfg, context(self, cfg, name))
    elseif cfg.is_prompt_learning then
      self:add_prompt_adapter(name, cfg, method, mcls)
    else
      self:add_tuner_adapter(name, cfg, method, mcls)
    end
    settle_trainable(self, name, cfg)
    -- the wrappers the config asks for (set_additional_trainable_modules)
    local infer = cfg.inference_mode == true
    local wopts = { frozen = infer or not is_active(self, name) }
    local mts = entry.modules_to_save
    if mts == nil then mts = get(cfg, "modules_to_save") end
    if type(mts) == "table" and #mts > 0 then self:wrap(mts, name, "modules_to_save", wopts) end
    local tti = get(cfg, "trainable_token_indices")
    if tti ~= nil then self:add_token_wrappers(name, cfg, tti, mts) end
    -- the heads PeftModelForTokenClassification / ForQuestionAnswering add afterwards
    local heads = not self.mixed and HEADS_AFTER[cfg.task_type] or nil
    if heads then
      if not cfg:get_class().field_map.modules_to_save then
        tuner.refuse("TypeError", "%s adds its heads to modules_to_save, which %s does not have ('NoneType' "
          .. "object is not iterable)", self.class_name, cfg:get_class().name)
      end
      self:wrap(heads, name, "modules_to_save", { frozen = infer })
    end
  end)
  if not ok then
    self.adapters[name], self.peft_config[name] = nil, nil
    if first then self.active_adapter, self.active_adapters = nil, {} end
    for k, v in pairs(snapshot) do self[k] = v end
    self.paths, self.path_set, self._state = nil, nil, nil
    if type(err) == "table" and err.refusal then
      err = errors.new(err.kind, err.message, { refusal = true })
    end
    error(err, 0)
  end
  self.adapter_order[#self.adapter_order + 1] = name
  self.peft_type = self.peft_type or cfg.peft_type
  self.bias_all = self.bias_all or get(cfg, "bias") == "all"
  self._state = nil
  self:apply_base_trainable()
  return entry
end

-- prompt learning ---------------------------------------------------------------------

-- PEFT's _prepare_prompt_learning_config: the dimensions a prompt encoder is
-- built with, from the config or the base model's config.json.
local function prompt_dims(self, cfg)
  local mc = self.base.config or {}
  if type(mc.text_config) == "table" then mc = mc.text_config end
  local function pick(...)
    for _, k in ipairs { ... } do
      local v = mc[k]
      if v ~= nil and v ~= null then return v end
    end
    return nil
  end
  -- a base described without its config.json: what its weights say (PEFT always has the
  -- model's config; this runtime may be given bare weights)
  local bare = next(self.base.config or {}) == nil
  local d = {}
  d.num_layers = get(cfg, "num_layers") or pick("num_hidden_layers", "num_layers", "n_layer")
    or (bare and self.base.num_layers or nil)
  if d.num_layers == nil then tuner.refuse("ValueError", "Please specify `num_layers` in `peft_config` (the base "
    .. "model's config.json gives none)") end
  d.token_dim = get(cfg, "token_dim") or pick("hidden_size", "n_embd", "d_model")
    or (bare and self.base.hidden_size or nil)
  if d.token_dim == nil then tuner.refuse("ValueError", "Please specify `token_dim` in `peft_config` (the base "
    .. "model's config.json gives none)") end
  d.num_attention_heads = get(cfg, "num_attention_heads")
    or pick("num_attention_heads", "n_head", "num_heads", "encoder_attention_heads")
  if d.num_attention_heads == nil and not bare then tuner.refuse("ValueError", "Please specify "
    .. "`num_attention_heads` in `peft_config` (the base model's config.json gives none)") end
  if (cfg.peft_type == "PREFIX_TUNING" or cfg.peft_type == "CARTRIDGE") and mc.num_key_value_heads ~= nil then
    local head_dim, kv
    if mc.global_head_dim ~= nil and mc.global_head_dim ~= null then
      head_dim, kv = mc.global_head_dim, mc.num_global_key_value_heads or mc.num_key_value_heads
    elseif mc.head_dim ~= nil and mc.head_dim ~= null then
      head_dim, kv = mc.head_dim, mc.num_key_value_heads
    else
      head_dim, kv = d.token_dim // d.num_attention_heads, mc.num_key_value_heads
    end
    d.token_dim = head_dim * kv
    d.num_attention_heads = kv
  end
  d.encoder_hidden_size = get(cfg, "encoder_hidden_size")
  if d.encoder_hidden_size == nil then d.encoder_hidden_size = d.token_dim end
  d.num_virtual_tokens = get(cfg, "num_virtual_tokens")
  d.num_transformer_submodules = get(cfg, "num_transformer_submodules")
  if d.num_transformer_submodules == nil then
    d.num_transformer_submodules = cfg.task_type == "SEQ_2_SEQ_LM" and 2 or 1
  end
  return d
end
M.prompt_dims = prompt_dims

-- The module the prompt encoders take their initial embeddings from (PEFT's
-- _setup_prompt_encoder): embeddings.word_embeddings, else the module of the
-- first parameter whose first dimension is the vocabulary size.
function PeftModel:word_embeddings()
  local m = self.by_name["embeddings.word_embeddings"]
  if m and m.params.weight then return { name = m.name, shape = m.params.weight.shape, module = m } end
  local vocab = self.base.vocab_size
  if vocab == nil then return nil end
  for _, mod in ipairs(self.modules) do
    for _, pn in ipairs(mod.param_order) do
      local shape = mod.params[pn].shape
      if shape[1] == vocab then return { name = mod.name, shape = shape, module = mod } end
    end
  end
  return nil
end

function PeftModel:add_prompt_adapter(name, cfg, method, mcls)
  local ctx = context(self, cfg, name)
  ctx.dims = prompt_dims(self, cfg)
  -- the word embeddings: embeddings.word_embeddings, else the first parameter
  -- with vocab_size rows (PEFT's _setup_prompt_encoder); { name, shape } or nil
  ctx.word_embeddings = self:word_embeddings()
  for _, t in ipairs(call(mcls.encoder, cfg, ctx)) do
    t.adapter = name
    self.prompt[#self.prompt + 1] = t
  end
  self.adapters[name].ctx = ctx
  self.adapters[name].modules_to_save = with_heads(self, cfg, get(cfg, "modules_to_save"))
end

-- get_peft_model ------------------------------------------------------------------------

function M.is_peft_model(v) return getmetatable(v) == PeftModel end

--- get_peft_model(model, config [, adapter_name [, opts]]) -> PeftModel
-- model: a description from peft.model.describe, or anything describe
-- accepts. opts.mixed: build a PeftMixedModel; opts.boft_fbd_cuda: act as if
-- BOFT's CUDA extension were available (it is not on a CPU-only host).
function M.get_peft_model(model, cfg, adapter_name, opts)
  opts = opts or {}
  if not model_lib.is_model(model) then model = model_lib.describe(model) end
  if not config.is_config(cfg) then
    errors.raise("TypeError", "get_peft_model expects a config object, got " .. types.kind(cfg))
  end
  local class_name
  if opts.mixed then
    class_name = "PeftMixedModel"
  elseif cfg.is_prompt_learning then
    class_name = TASK_CLASSES[cfg.task_type]
    if not class_name then
      tuner.refuse("KeyError", "%s needs a task_type (PEFT picks the PeftModel class for prompt learning from it), "
        .. "got %s", cfg:get_class().name, types.repr(cfg.task_type))
    end
  else
    class_name = TASK_CLASSES[cfg.task_type] or "PeftModel"
  end
  local mods, by_name = copy_modules(model)
  local self = setmetatable({ class_name = class_name, base = model, adapters = {}, adapter_order = {},
                              peft_config = {}, mixed = opts.mixed and true or false, opts = opts,
                              modules = mods, by_name = by_name, layers = {}, layer_order = {}, tuner_tensors = {},
                              aux = {}, aux_order = {}, prompt = {}, active_adapters = {},
                              prompt_learning = cfg.is_prompt_learning and true or false,
                              input_embeddings = model.input_embeddings, output_embeddings = model.output_embeddings },
    PeftModel)
  self:add_adapter(adapter_name or "default", cfg)
  return self
end

M.PeftModel = PeftModel
return M
