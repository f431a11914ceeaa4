-- peft.model: base models described from their weights (and config.json), and
-- PEFT's target matching.
--
--   local m = peft.model.describe("path/to/model_dir")   -- or a file, a
--       safetensors header, or a list of { name, shape [, dtype] }
--   m.modules            -- modules with parameters, in order: name, kind,
--                        -- params, in/out features, layer index
--   m.paths              -- every module path, containers included, outer first
--   m.config, m.model_type   -- from config.json beside the weights
--
-- Module kinds come from parameter shapes and names: a 2-D weight is a linear
-- layer (weight [out, in]) unless the module's name says embedding (embed_tokens,
-- wte, wpe, shared, word_embeddings, ...) or it is a GPT-2 style Conv1D (c_attn,
-- c_proj, c_fc: weight [in, out]); 4-D is conv2d; a 1-D weight is a norm; a
-- module that only holds other modules is a container.
local core = require "peft.core"
local errors = require "peft.errors"
local types = require "peft.types"

local M = {}

local null = core.null

M.COMMON_LAYERS_PATTERN = { "layers", "h", "block", "blocks", "layer" }

local EMBEDDING_NAMES = { embed_tokens = true, wte = true, wpe = true, shared = true, word_embeddings = true,
                          position_embeddings = true, token_type_embeddings = true, tok_embeddings = true,
                          embed_positions = true, embeddings = true, embedding = true, embed_in = true }
-- the input embeddings (get_input_embeddings), in order of preference
local INPUT_EMBEDDING_NAMES = { "embed_tokens", "wte", "word_embeddings", "tok_embeddings", "embed_in", "shared" }
local CONV1D_NAMES = { c_attn = true, c_proj = true, c_fc = true, q_attn = true }
-- the output layer a language model predicts tokens with (get_output_embeddings)
local OUTPUT_NAMES = { "lm_head", "embed_out", "output" }

local function last_segment(name) return name:match("([^%.]+)$") end
M.last_segment = last_segment

local numel = require("peft.tuner").numel
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

-- A base model's config.json: nil when there is none; one that cannot be
-- read (a FIFO, no permission) or is not a JSON object is an error, not a
-- silent gap.
local ENOENT, ENOTDIR = 2, 20
local function read_json(path)
  local text, err, errno = core.read_file(path, 16 * 1024 * 1024)
  if not text then
    if errno == ENOENT or errno == ENOTDIR then return nil end
    errors.raise("OSError", err, { path = path })
  end
  local v, msg = core.json_decode(text)
  if v == nil then errors.raise("JSONDecodeError", path .. ": invalid JSON at " .. msg, { path = path }) end
  if type(v) ~= "table" or getmetatable(v) == core.json_array_mt then
    errors.raise("ValueError", path .. ": a model's config.json must be a JSON object, got " .. types.kind(v),
      { path = path })
  end
  return v
end

local function tensors_of(source, opts)
  if type(source) == "string" then
    local kind = core.stat(source)
    if not kind then errors.raise("FileNotFoundError", source .. ": no such file or directory", { path = source }) end
    local file, dir = source, nil
    if kind == "directory" then
      dir = source:gsub("/+$", "")
      if core.stat(dir .. "/model.safetensors.index.json") == "file" then
        file = dir .. "/model.safetensors.index.json"
      elseif core.stat(dir .. "/model.safetensors") == "file" then
        file = dir .. "/model.safetensors"
      else
        errors.raise("FileNotFoundError", source .. ": no model.safetensors or model.safetensors.index.json in the"
          .. " directory", { path = source })
      end
    else
      dir = source:match("^(.*)/[^/]*$") or "."
    end
    local h, err
    if file:match("%.json$") then h, err = core.st_read_index(file) else h, err = core.st_read_header(file) end
    if not h then errors.raise("ValueError", err, { path = file }) end
    local cfg = opts.config
    if cfg == nil then cfg = read_json(dir .. "/config.json") end
    return h.tensors, file, cfg
  elseif type(source) == "table" and source.tensors then
    return source.tensors, opts.origin, opts.config
  elseif type(source) == "table" then
    local tensors = {}
    for i, t in ipairs(source) do
      if type(t) == "string" then
        tensors[i] = { name = t, shape = {} }
      elseif type(t) == "table" then
        tensors[i] = { name = t.name or t[1], shape = t.shape or t[2] or {}, dtype = t.dtype or t[3] }
      end
      if type(tensors[i]) ~= "table" or type(tensors[i].name) ~= "string" then
        errors.raise("TypeError", "describe: entry " .. i .. " needs a name")
      end
    end
    return tensors, opts.origin, opts.config
  end
  errors.raise("TypeError", "describe expects a path, a safetensors header or a list, got " .. types.kind(source))
end

-- config.json values under the names PEFT reads (with GPT-2's aliases)
local CONFIG_ALIASES = { hidden_size = { "hidden_size", "n_embd", "d_model" },
                         num_hidden_layers = { "num_hidden_layers", "num_layers", "n_layer" },
                         num_attention_heads = { "num_attention_heads", "n_head", "num_heads", "encoder_attention_heads" },
                         vocab_size = { "vocab_size" } }

local function config_value(cfg, key)
  if type(cfg) ~= "table" then return nil end
  local text = cfg.text_config
  if type(text) == "table" then cfg = text end
  for _, k in ipairs(CONFIG_ALIASES[key] or { key }) do
    local v = cfg[k]
    if v ~= nil and v ~= null then return v end
  end
  return nil
end
M.config_value = config_value

--- describe(source [, opts]) -> model
-- source: a directory (model.safetensors, or model.safetensors.index.json, and
-- config.json when present), a .safetensors file, an index file, a header table
-- from peft.safetensors.read_header, or a list of { name, shape }.
-- opts.config: the model's config.json as a table (read from the directory
-- otherwise); opts.origin: a name for messages.
function M.describe(source, opts)
  opts = opts or {}
  local tensors, origin, mcfg = tensors_of(source, opts)
  if mcfg ~= nil and type(mcfg) ~= "table" then
    errors.raise("TypeError", "describe: opts.config must be a table, got " .. types.kind(mcfg))
  end
  local self = setmetatable({ modules = {}, by_name = {}, params = {}, origin = origin, dtypes = {},
                              config = mcfg or {}, paths = {}, path_set = {}, children = {} }, Model)
  self.model_type = type(self.config.model_type) == "string" and self.config.model_type or nil
  local total = 0
  for _, t in ipairs(tensors) do
    local mod, pname = t.name:match("^(.*)%.([^%.]+)$")
    if not mod then mod, pname = "", t.name end
    local m = self.by_name[mod]
    if not m then
      m = { name = mod, params = {}, param_order = {}, layer_index = layer_index(mod) }
      self.by_name[mod] = m
      self.modules[#self.modules + 1] = m
      -- the containers on the way, outer first
      local acc
      for seg in mod:gmatch("[^%.]+") do
        local parent = acc or ""
        acc = acc and (acc .. "." .. seg) or seg
        if not self.path_set[acc] then
          self.path_set[acc] = true
          self.paths[#self.paths + 1] = acc
          local ch = self.children[parent]
          if not ch then ch = {}; self.children[parent] = ch end
          ch[#ch + 1] = acc
        end
      end
    end
    m.params[pname] = { shape = t.shape, dtype = t.dtype }
    m.param_order[#m.param_order + 1] = pname
    local n = numel(t.shape)
    self.params[#self.params + 1] = { name = t.name, module = mod, param = pname, shape = t.shape, dtype = t.dtype,
                                      numel = n }
    total = total + n
    if t.dtype then self.dtypes[t.dtype] = (self.dtypes[t.dtype] or 0) + n end
  end
  self.total_params = total
  -- kinds and features
  local hidden, vocab, input
  for _, m in ipairs(self.modules) do
    local w = m.params.weight
    local last = last_segment(m.name) or ""
    m.has_bias = m.params.bias ~= nil
    if w and #w.shape == 2 then
      if EMBEDDING_NAMES[last] then
        m.kind = "embedding"
        m.num_embeddings, m.embedding_dim = w.shape[1], w.shape[2]
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
      m.normalized_shape = w.shape[1]
    else
      m.kind = "other"
    end
  end
  for _, want in ipairs(INPUT_EMBEDDING_NAMES) do
    for _, m in ipairs(self.modules) do
      if m.kind == "embedding" and last_segment(m.name) == want then
        input = m
        break
      end
    end
    if input then break end
  end
  if input then
    self.input_embeddings = input.name
    hidden, vocab = input.embedding_dim, input.num_embeddings
  end
  for _, want in ipairs(OUTPUT_NAMES) do
    local m = self.by_name[want]
    if m and (m.kind == "linear" or m.kind == "embedding") then
      self.output_embeddings = m.name
      break
    end
  end
  local layers = {}
  for _, m in ipairs(self.modules) do
    if m.layer_index then layers[m.layer_index] = true end
  end
  local nl = 0
  for _ in pairs(layers) do nl = nl + 1 end
  self.num_layers = config_value(self.config, "num_hidden_layers") or (nl > 0 and nl or nil)
  self.hidden_size = config_value(self.config, "hidden_size") or hidden
  self.vocab_size = config_value(self.config, "vocab_size") or vocab
  self.num_attention_heads = config_value(self.config, "num_attention_heads")
  self.tie_word_embeddings = self.config.tie_word_embeddings == true
  return self
end

function M.is_model(v) return getmetatable(v) == Model end

function Model:module(name) return self.by_name[name] end

--- kind_of(path) -> the module's kind ("container" for a module holding only
-- other modules), or nil when there is no such module.
function Model:kind_of(path)
  local m = self.by_name[path]
  if m then return m.kind end
  if self.path_set[path] then return "container" end
  return nil
end

--- The module record of a path (a container gets a record of its own).
function Model:record(path)
  local m = self.by_name[path]
  if m then return m end
  if not self.path_set[path] then return nil end
  return { name = path, kind = "container", params = {}, param_order = {}, layer_index = layer_index(path) }
end

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
M.fullmatch = fullmatch

local function field_of(cfg, name)
  local fm = cfg:get_class().field_map
  if not fm[name] then return nil end
  local v = cfg[name]
  if v == null then return nil end
  return v
end
M.field_of = field_of

--- The index of the layer a module belongs to, as PEFT finds it for
-- layers_to_transform (the first numbered segment after a layers_pattern).
function M.layer_index_of(key, layers_pattern)
  if layers_pattern == nil or layers_pattern == null or (type(layers_pattern) == "string" and layers_pattern == "")
     or (type(layers_pattern) == "table" and #layers_pattern == 0) then
    local idx = core.re_group(".*?\\.[^.]*\\.(\\d+)\\.", key, "start", 1)
    return idx and tonumber(idx) or nil
  end
  local patterns = type(layers_pattern) == "string" and { layers_pattern } or layers_pattern
  for _, p in ipairs(patterns) do
    local idx, err = core.re_group(".*?\\." .. p .. "\\.(\\d+)\\.", key, "start", 1)
    if idx == nil and err then errors.raise("ValueError", "layers_pattern " .. types.repr(p) .. ": " .. err) end
    if idx then return tonumber(idx) end
  end
  return nil
end

--- Whether a module name lies inside one of modules_to_save (PEFT's
-- re.match(rf"(^|.*\.){m}($|\..*)", key)).
function M.in_modules_to_save(key, mts)
  if type(mts) ~= "table" then return false end
  for _, m in ipairs(mts) do
    if core.re_match("(^|.*\\.)" .. m .. "($|\\..*)", key, "start") then return true end
  end
  return false
end

--- matches(cfg, key [, target_modules [, opts]]) -> true | false [, "excluded"]
-- PEFT's check_target_module_exists: exclude_modules first, then modules
-- inside modules_to_save, then target_modules (a regex matched in full, an
-- exact name, or a suffix after '.'), then layers_to_transform.
-- opts.modules_to_save: the list to use instead of the config's.
function M.matches(cfg, key, target_modules, opts)
  local excl = field_of(cfg, "exclude_modules")
  if excl ~= nil and excl ~= "" and not (type(excl) == "table" and #excl == 0) then
    if type(excl) == "string" then
      if fullmatch(excl, key, "exclude_modules") then return false, "excluded" end
    elseif in_list(key, excl) then
      return false, "excluded"
    end
  end
  local mts = opts and opts.modules_to_save
  if mts == nil then mts = field_of(cfg, "modules_to_save") end
  if M.in_modules_to_save(key, mts) then return false, "excluded" end
  local tm = target_modules
  if tm == nil then return false end
  if type(tm) == "string" then return fullmatch(tm, key, "target_modules") and true or false end
  for _, t in ipairs(tm) do
    if t == key then return true end
  end
  if not in_list(key, tm) then return false end
  local lt = field_of(cfg, "layers_to_transform")
  if lt == nil or (type(lt) == "table" and #lt == 0) then return true end
  local idx = M.layer_index_of(key, field_of(cfg, "layers_pattern"))
  if idx == nil then return false end
  if type(lt) == "number" then return idx == lt end
  for _, l in ipairs(lt) do
    if l == idx then return true end
  end
  return false
end

--- PEFT's get_pattern_key: the first pattern (in sorted order, which is the
-- order of a file PEFT wrote) matching the end of the key after a '.'.
M.pattern_value = require("peft.tuner").pattern_value

--- The target list after 'all-linear' is expanded: every linear or Conv1D
-- module except the output layer (or, when there is none and the task is
-- SEQ_CLS, the classifier head).
function M.expand_all_linear(cfg, model, tm)
  if tm == nil then tm = field_of(cfg, "target_modules") end
  if type(tm) ~= "string" or tm:lower() ~= "all-linear" then return tm end
  local names = {}
  local exclude = model.output_embeddings
  if not exclude and field_of(cfg, "task_type") == "SEQ_CLS" then
    for _, head in ipairs { "score", "classifier" } do
      if model.by_name[head] then exclude = head; break end
    end
  end
  for _, m in ipairs(model:linear_modules()) do
    if m.name ~= exclude then names[#names + 1] = m.name end
  end
  return names
end

--- The default target_modules of a method for the model's type (PEFT's
-- TRANSFORMERS_MODELS_TO_..._TARGET_MODULES_MAPPING), or nil.
function M.default_targets(model_cls, model)
  local t = model_cls and model_cls.targets
  if t == nil or model.model_type == nil then return nil end
  if type(t) == "string" then t = require("peft.model_types").table(t) end
  local v = t[model.model_type]
  if type(v) == "table" then
    local copy = {}
    for i, x in ipairs(v) do copy[i] = x end
    return copy
  end
  return v
end

--- The module names closest to each wanted target, for "not found" messages.
function M.closest_names(model, wanted, n)
  local names, seen = {}, {}
  for _, p in ipairs(model.paths) do
    for _, c in ipairs { p, last_segment(p) } do
      if c and c ~= "" and not seen[c] then
        seen[c] = true
        names[#names + 1] = c
      end
    end
  end
  local out = {}
  for _, w in ipairs(wanted) do
    out[#out + 1] = { target = w, closest = core.closest(tostring(w), names, n or 3) }
  end
  return out
end

--- targets(cfg, model) -> list of { module=, r=, alpha= }: the modules a
-- config's target_modules select (after all-linear and the model type's
-- defaults), with rank_pattern / alpha_pattern resolved; raises a ValueError
-- naming the closest module names when nothing matches.
function M.targets(cfg, model)
  local tm = field_of(cfg, "target_modules")
  if tm == nil then
    local method = require("peft").method(cfg.peft_type)
    tm = M.default_targets(method and method.model_cls, model)
  end
  tm = M.expand_all_linear(cfg, model, tm)
  local out = {}
  local r = field_of(cfg, "r")
  local alpha_field = cfg:get_class().field_map.lora_alpha and "lora_alpha" or
    (cfg:get_class().field_map.alpha and "alpha") or nil
  for _, path in ipairs(model.paths) do
    if M.matches(cfg, path, tm) then
      local entry = { module = model:record(path) }
      if r ~= nil then entry.r = M.pattern_value(field_of(cfg, "rank_pattern"), path, r) end
      if alpha_field then
        entry.alpha = M.pattern_value(field_of(cfg, "alpha_pattern"), path, cfg[alpha_field])
      end
      out[#out + 1] = entry
    end
  end
  if #out == 0 and tm ~= nil then
    local wanted = type(tm) == "table" and tm or { tostring(tm) }
    local hints, hinted = {}, {}
    for _, c in ipairs(M.closest_names(model, wanted)) do
      for _, name in ipairs(c.closest) do
        if not hinted[name] then
          hinted[name] = true
          hints[#hints + 1] = "'" .. name .. "'"
        end
      end
    end
    errors.raise("ValueError", string.format("Target modules %s not found in the base model%s", types.repr(tm),
      #hints > 0 and ("; closest module names: " .. table.concat(hints, ", ")) or ""), { field = "target_modules" })
  end
  return out
end

return M
