-- peft.model: base models described from their weights, PEFT's target
-- matching, and get_peft_model without tensors.
--
--   local m = peft.model.describe("path/to/model_dir")   -- or a file, a
--       safetensors header, or a list of { name, shape [, dtype] }
--   m.modules            -- leaf modules in order: name, kind, params, in/out
--   local pm = peft.get_peft_model(m, cfg [, "default" [, { mixed = true }]])
--   pm:trainable_parameters()   --> trainable, all
--   pm:print_trainable_parameters()
--
-- Module kinds come from parameter shapes and names: a 2-D weight is a
-- linear layer (weight [out, in]) unless the module's name says embedding
-- (embed, wte, wpe, shared, embeddings) or it is a GPT-2 style Conv1D (c_attn,
-- c_proj, c_fc: weight [in, out]); 4-D is conv2d; 1-D weights are norms.
local core = require "peft.core"
local errors = require "peft.errors"
local config = require "peft.config"
local types = require "peft.types"

local M = {}

local null = core.null

M.COMMON_LAYERS_PATTERN = { "layers", "h", "block", "blocks", "layer" }

local EMBEDDING_NAMES = { embed_tokens = true, wte = true, wpe = true, shared = true, word_embeddings = true,
                          position_embeddings = true, token_type_embeddings = true, tok_embeddings = true,
                          embed_positions = true, embeddings = true, embedding = true, embed_in = true }
local CONV1D_NAMES = { c_attn = true, c_proj = true, c_fc = true, q_attn = true }
-- the output layer a language model predicts tokens with: all-linear leaves it out
local OUTPUT_NAMES = { lm_head = true, embed_out = true, output = true }

local function last_segment(name) return name:match("([^%.]+)$") end

local function numel(shape)
  local n = 1
  for _, d in ipairs(shape) do n = n * d end
  return n
end
M.numel = numel

-- The layer a module sits in, for display: the number after the first of
-- PEFT's common layer-list names (layers, h, block, blocks, layer).
local function layer_index(name)
  for _, pat in ipairs(M.COMMON_LAYERS_PATTERN) do
    local idx = core.re_group("(?:.*?\\.)?" .. pat .. "\\.(\\d+)\\.", name .. ".", "start", 1)
    if idx then return tonumber(idx) end
  end
  return nil
end

local Model = {}
Model.__index = Model
Model.__name = "peft.BaseModel"

--- describe(source [, opts]) -> model
-- source: a directory (model.safetensors, or model.safetensors.index.json),
-- a .safetensors file, an index file, a header table from
-- peft.safetensors.read_header, or a list of { name, shape } (or names).
function M.describe(source, opts)
  opts = opts or {}
  local tensors, origin
  if type(source) == "string" then
    local kind = core.stat(source)
    if not kind then errors.raise("FileNotFoundError", source .. ": no such file or directory", { path = source }) end
    local file = source
    if kind == "directory" then
      local dir = source:gsub("/+$", "")
      if core.stat(dir .. "/model.safetensors.index.json") == "file" then
        file = dir .. "/model.safetensors.index.json"
      elseif core.stat(dir .. "/model.safetensors") == "file" then
        file = dir .. "/model.safetensors"
      else
        errors.raise("FileNotFoundError", source .. ": no model.safetensors or model.safetensors.index.json in the"
          .. " directory", { path = source })
      end
    end
    local h, err
    if file:match("%.json$") then h, err = core.st_read_index(file) else h, err = core.st_read_header(file) end
    if not h then errors.raise("ValueError", err, { path = file }) end
    tensors, origin = h.tensors, file
  elseif type(source) == "table" and source.tensors then
    tensors, origin = source.tensors, opts.origin
  elseif type(source) == "table" then
    tensors = {}
    for i, t in ipairs(source) do
      if type(t) == "string" then
        tensors[i] = { name = t, shape = {} }
      elseif type(t) == "table" then
        tensors[i] = { name = t.name or t[1], shape = t.shape or t[2] or {}, dtype = t.dtype or t[3] }
      end
      if type(tensors[i].name) ~= "string" then
        errors.raise("TypeError", "describe: entry " .. i .. " needs a name")
      end
    end
    origin = opts.origin
  else
    errors.raise("TypeError", "describe expects a path, a safetensors header or a list, got " .. types.kind(source))
  end
  local self = setmetatable({ modules = {}, by_name = {}, params = {}, origin = origin, dtypes = {} }, Model)
  local total = 0
  for _, t in ipairs(tensors) do
    local mod, pname = t.name:match("^(.*)%.([^%.]+)$")
    if not mod then mod, pname = "", t.name end
    local m = self.by_name[mod]
    if not m then
      m = { name = mod, params = {}, param_order = {}, layer_index = layer_index(mod) }
      self.by_name[mod] = m
      self.modules[#self.modules + 1] = m
    end
    m.params[pname] = { shape = t.shape, dtype = t.dtype }
    m.param_order[#m.param_order + 1] = pname
    local n = numel(t.shape)
    self.params[#self.params + 1] = { name = t.name, shape = t.shape, dtype = t.dtype, numel = n }
    total = total + n
    if t.dtype then self.dtypes[t.dtype] = (self.dtypes[t.dtype] or 0) + n end
  end
  self.total_params = total
  -- kinds and features
  local hidden, vocab
  for _, m in ipairs(self.modules) do
    local w = m.params.weight
    local last = last_segment(m.name) or ""
    m.has_bias = m.params.bias ~= nil
    if w and #w.shape == 2 then
      if EMBEDDING_NAMES[last] then
        m.kind = "embedding"
        m.num_embeddings, m.embedding_dim = w.shape[1], w.shape[2]
        if last == "embed_tokens" or last == "wte" or last == "word_embeddings" or last == "shared"
           or last == "tok_embeddings" or last == "embed_in" then
          hidden, vocab = hidden or w.shape[2], vocab or w.shape[1]
        end
      elseif CONV1D_NAMES[last] then
        m.kind = "conv1d"
        m.in_features, m.out_features = w.shape[1], w.shape[2]
      else
        m.kind = "linear"
        m.out_features, m.in_features = w.shape[1], w.shape[2]
      end
    elseif w and #w.shape == 4 then
      m.kind = "conv2d"
      m.out_features, m.in_features = w.shape[1], w.shape[2]
      m.kernel_size = { w.shape[3], w.shape[4] }
    elseif w and #w.shape == 1 then
      m.kind = "norm"
    else
      m.kind = "other"
    end
  end
  local layers = {}
  for _, m in ipairs(self.modules) do
    if m.layer_index then layers[m.layer_index] = true end
  end
  local nl = 0
  for _ in pairs(layers) do nl = nl + 1 end
  self.num_layers = nl > 0 and nl or nil
  self.hidden_size, self.vocab_size = hidden, vocab
  return self
end

function M.is_model(v) return getmetatable(v) == Model end

function Model:module(name) return self.by_name[name] end

function Model:linear_modules()
  local out = {}
  for _, m in ipairs(self.modules) do
    if m.kind == "linear" or m.kind == "conv1d" then out[#out + 1] = m end
  end
  return out
end

-- matching ----------------------------------------------------------------

local function ends_with_segment(key, target)
  return key == target or (#key > #target and key:sub(-#target - 1) == "." .. target)
end

local function in_list(key, list)
  for _, t in ipairs(list) do
    if ends_with_segment(key, t) then return true end
  end
  return false
end

local function fullmatch(pattern, key, field)
  local ok, err = core.re_match(pattern, key, "full")
  if ok == nil then
    errors.raise("ValueError", string.format("%s is not a valid regular expression (%s)", field, err), { field = field })
  end
  return ok
end

--- The index of the layer a module belongs to, as PEFT finds it for
-- layers_to_transform (the first numbered segment after a layers_pattern).
function M.layer_index_of(key, layers_pattern)
  local patterns
  if layers_pattern == nil or layers_pattern == null or (type(layers_pattern) == "string" and layers_pattern == "")
     or (type(layers_pattern) == "table" and #layers_pattern == 0) then
    local idx = core.re_group(".*?\\.[^.]*\\.(\\d+)\\.", key, "start", 1)
    return idx and tonumber(idx) or nil
  end
  patterns = type(layers_pattern) == "string" and { layers_pattern } or layers_pattern
  for _, p in ipairs(patterns) do
    local idx, err = core.re_group(".*?\\." .. p .. "\\.(\\d+)\\.", key, "start", 1)
    if idx == nil then errors.raise("ValueError", "layers_pattern " .. types.repr(p) .. ": " .. err) end
    if idx then return tonumber(idx) end
  end
  return nil
end

--- matches(cfg, key) -> true | false, "excluded" | "modules_to_save"
-- PEFT's check_target_module_exists: exclude_modules first, then modules
-- inside modules_to_save, then target_modules (a regex matched in full, an
-- exact name, or a suffix after '.'), then layers_to_transform.
function M.matches(cfg, key, target_modules)
  local excl = rawget(cfg:get_class(), "field_map").exclude_modules and cfg.exclude_modules
  if excl ~= nil and excl ~= "" and not (type(excl) == "table" and #excl == 0) then
    if type(excl) == "string" then
      if fullmatch(excl, key, "exclude_modules") then return false, "excluded" end
    elseif in_list(key, excl) then
      return false, "excluded"
    end
  end
  local mts = cfg:get_class().field_map.modules_to_save and cfg.modules_to_save
  if type(mts) == "table" then
    for _, m in ipairs(mts) do
      if core.re_match("(^|.*\\.)" .. m .. "($|\\..*)", key, "start") then return false, "modules_to_save" end
    end
  end
  local tm = target_modules
  if tm == nil then return false end
  if type(tm) == "string" then return fullmatch(tm, key, "target_modules") end
  for _, t in ipairs(tm) do
    if t == key then return true end
  end
  if not in_list(key, tm) then return false end
  local fm = cfg:get_class().field_map
  local lt = fm.layers_to_transform and cfg.layers_to_transform
  if lt == nil or (type(lt) == "table" and #lt == 0) then return true end
  local idx = M.layer_index_of(key, fm.layers_pattern and cfg.layers_pattern)
  if idx == nil then return false end
  if type(lt) == "number" then return idx == lt end
  for _, l in ipairs(lt) do
    if l == idx then return true end
  end
  return false
end

--- PEFT's get_pattern_key: the first pattern (in sorted order, which is the
-- order of a file PEFT wrote) matching the end of the key after a '.'.
function M.pattern_value(patterns, key, default)
  if type(patterns) ~= "table" then return default end
  for _, p in ipairs(config.sorted_keys(patterns)) do
    local ok = core.re_match("(.*\\.)?(" .. p .. ")$", key, "start")
    if ok then return patterns[p], p end
  end
  return default
end

--- The target list after 'all-linear' is expanded: every linear or Conv1D
-- module except the output layer (and, for SEQ_CLS, the classifier head).
function M.expand_all_linear(cfg, model)
  local tm = cfg.target_modules
  if type(tm) ~= "string" or tm:lower() ~= "all-linear" then return tm end
  local names = {}
  for _, m in ipairs(model:linear_modules()) do
    local last = last_segment(m.name)
    local excluded = OUTPUT_NAMES[last] and not m.name:find("%.")
    if cfg.task_type == "SEQ_CLS" and (last == "classifier" or last == "score") and not m.name:find("%.") then
      excluded = true
    end
    if not excluded then names[#names + 1] = m.name end
  end
  return names
end

--- targets(cfg, model) -> list of { module=, r=, alpha= }; raises a
-- ValueError naming the closest module names when nothing matches.
function M.targets(cfg, model)
  local tm = M.expand_all_linear(cfg, model)
  local out = {}
  local fm = cfg:get_class().field_map
  for _, m in ipairs(model.modules) do
    if m.name ~= "" and M.matches(cfg, m.name, tm) then
      local entry = { module = m }
      if fm.r then entry.r = M.pattern_value(fm.rank_pattern and cfg.rank_pattern, m.name, cfg.r) end
      local alpha_field = fm.lora_alpha and "lora_alpha" or (fm.alpha and "alpha") or nil
      if alpha_field then
        entry.alpha = M.pattern_value(fm.alpha_pattern and cfg.alpha_pattern, m.name, cfg[alpha_field])
      end
      out[#out + 1] = entry
    end
  end
  if #out == 0 and (tm ~= nil or not fm.target_modules) and fm.target_modules then
    local names, seen = {}, {}
    for _, m in ipairs(model.modules) do
      for _, n in ipairs { m.name, last_segment(m.name) } do
        if n and n ~= "" and not seen[n] then
          seen[n] = true
          names[#names + 1] = n
        end
      end
    end
    local wanted = type(tm) == "table" and tm or { tostring(tm) }
    local hints, hinted = {}, {}
    for _, w in ipairs(wanted) do
      for _, c in ipairs(core.closest(w, names, 3)) do
        if not hinted[c] then
          hinted[c] = true
          hints[#hints + 1] = "'" .. c .. "'"
        end
      end
    end
    errors.raise("ValueError", string.format("Target modules %s not found in the base model%s", types.repr(tm),
      #hints > 0 and ("; closest module names: " .. table.concat(hints, ", ")) or
      ("; its modules include " .. table.concat({ table.unpack(names, 1, math.min(8, #names)) }, ", "))),
      { field = "target_modules" })
  end
  return out
end

return M
