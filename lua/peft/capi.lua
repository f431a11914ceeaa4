-- peft.capi: the Lua side of the C API (src/peft_api.c), loaded on first use by the functions that
-- need it: items of list and dict fields, the fields of a config, configs built from JSON, and the
-- model side (base models, plans, tensor names) as plain records the C side copies into its structs.
-- Not a public module: its functions may change with the C API.
local core = require "peft.core"
local errors = require "peft.errors"
local peft = require "peft"

local M = {}

local array_mt = core.json_array_mt
local null = core.null

-- containers --------------------------------------------------------------

-- the value of a field (or an unknown key kept from the file) as plain data: a nested config as its
-- to_dict; nil for a missing key
local function field_value(obj, name)
  local extra = obj:extra()
  local v = extra[name]
  if v == nil then v = obj[name] end -- raises for an unknown field
  if peft.is_config(v) then v = v:to_dict() end
  return v
end

-- a list: marked as one by the JSON reader, or keys 1..n and nothing else (an empty table is a dict)
local function is_list(t)
  if getmetatable(t) == array_mt then return true end
  local n = rawlen(t)
  if n == 0 then return false end
  local count = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
    count = count + 1
  end
  return count == n
end

-- per config object: field -> { value, json, keys of every dict met (by table) }; made again when the
-- config changes (forget)
local cache = setmetatable({}, { __mode = "k" })

function M.forget(obj) cache[obj] = nil end

local function entry(obj, name)
  local c = cache[obj]
  if not c then
    c = {}
    cache[obj] = c
  end
  local e = c[name]
  if not e then
    local v = field_value(obj, name)
    if type(v) == "table" then
      -- one round trip through JSON: lists marked as lists, dicts as plain tables, sets sorted
      local text = core.json_encode(v)
      v = core.json_decode(text)
    end
    e = { value = v, keys = setmetatable({}, { __mode = "k" }) }
    c[name] = e
  end
  return e
end

local function sorted_keys(e, t)
  local keys = e.keys[t]
  if not keys then
    keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys)
    e.keys[t] = keys
  end
  return keys
end

--- describe(v) -> "list" | "dict" | nil, count, json text: what the C side reports for a table
function M.describe(v)
  if type(v) ~= "table" then return nil end
  if peft.is_config(v) then v = v:to_dict() end
  local text = core.json_encode(v)
  if is_list(v) then return "list", rawlen(v), text end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  return "dict", n, text
end

--- item(obj, field, path) -> value, key: the element at the positions of path (0-based) inside the
-- field's value; key is the entry's key when the last step was into a dict. An IndexError otherwise.
function M.item(obj, name, path)
  local e = entry(obj, name)
  local v, key = e.value, nil
  local where = name
  for i = 1, #path do
    local pos = path[i]
    if type(v) ~= "table" then
      errors.raise("IndexError", string.format("%s: %s is not a list or a dict (%s), cannot take item %d", name,
        where, v == nil and "null" or type(v) == "string" and "a string" or type(v), pos))
    end
    if is_list(v) then
      local n = rawlen(v)
      if pos >= n then
        errors.raise("IndexError", string.format("%s: item %d of %s is out of range (a list of %d)", name, pos, where,
          n))
      end
      v, key = v[pos + 1], nil
      where = string.format("%s[%d]", where, pos)
    else
      local keys = sorted_keys(e, v)
      if pos >= #keys then
        errors.raise("IndexError", string.format("%s: item %d of %s is out of range (a dict of %d keys)", name, pos,
          where, #keys))
      end
      key = keys[pos + 1]
      v = v[key]
      where = string.format("%s[%q]", where, key)
    end
  end
  if v == null then v = nil end
  return v, key
end

-- fields ------------------------------------------------------------------

--- fields(obj) -> list of { name, annotation, default (JSON text), help, given }: the class's fields in
-- declaration order, then the unknown keys kept from the file (no annotation)
function M.fields(obj)
  local cls = obj:get_class()
  local out = {}
  for _, f in ipairs(cls.fields) do
    local d = f.default
    if peft.is_config(d) then d = d:to_dict() end
    out[#out + 1] = { f.name, f.type, core.json_encode(d == nil and null or d), f.help or "",
                      obj:was_given(f.name) }
  end
  local extra = {}
  for k in pairs(obj:extra()) do extra[#extra + 1] = k end
  table.sort(extra)
  for _, k in ipairs(extra) do out[#out + 1] = { k, false, false, false, true } end
  return out
end

-- configs -----------------------------------------------------------------

--- is_a(obj, class name) -> whether obj's class is that class or a subclass of it
function M.is_a(obj, name)
  local cls = require("peft.config").classes[name]
  if not cls then return false end
  local own = obj:get_class()
  return own == cls or own:is_subclass_of(cls)
end

--- class_of(key [, which]) -> the config class (which: "config_cls", the default) or the model
-- class ("model_cls") of a method (by name, PeftType or config class name), or nil
function M.class_of(key, which)
  local m = peft.method(key)
  return m and m[which or "config_cls"] or nil
end

-- the JSON object in text; a JSONDecodeError "invalid JSON for <what>: ..." or a TypeError "<expects>, got
-- <kind>" otherwise
local function json_object(text, what, expects)
  local v, msg = core.json_decode(text)
  if v == nil then errors.raise("JSONDecodeError", "invalid JSON for " .. what .. ": " .. msg) end
  if type(v) ~= "table" or getmetatable(v) == array_mt then
    errors.raise("TypeError", expects .. ", got " .. require("peft.types").kind(v))
  end
  return v
end

--- new(method, fields_json) -> config: the constructor on the fields; method nil: PEFT's
-- get_peft_config (the class from the fields' peft_type)
function M.new(key, text)
  if key == nil then
    return peft.get_peft_config(json_object(text or "{}", "get_peft_config", "get_peft_config expects a JSON object"))
  end
  local cls = M.class_of(key)
  if not cls then
    local names = {}
    for _, m in ipairs(peft.methods()) do names[#names + 1] = m.name end
    errors.raise("KeyError", "no method called '" .. tostring(key) .. "'"
      .. require("peft.config").suggest(key, names))
  end
  local fields = {}
  if text ~= nil then
    local v = json_object(text, "the fields of " .. cls.name, cls.name .. " expects a JSON object of fields")
    for k, x in pairs(v) do
      if x ~= null then fields[k] = x end
    end
  end
  return cls(fields)
end

-- the model side ------------------------------------------------------------

local function int_or(v, d) return math.type(v) == "integer" and v or d end

local function module_record(m, r, alpha)
  local fin, fout = m.in_features, m.out_features
  if m.kind == "embedding" then fin, fout = m.num_embeddings, m.embedding_dim end
  return { m.name, m.kind or "other", int_or(fin, -1), int_or(fout, -1), int_or(m.layer_index, -1),
           int_or(r, -1), type(alpha) == "number" and alpha + 0.0 or 0.0 }
end

--- describe_model(path) -> model, model_type, module records, total parameters
function M.describe_model(path)
  local model = peft.model.describe(path)
  local mods = {}
  for i, m in ipairs(model.modules) do mods[i] = module_record(m) end
  return model, model.model_type, mods, model.total_params
end

local function tensor_record(name, module, shape, numel, trainable)
  local s = {}
  for i, d in ipairs(shape or {}) do s[i] = d end
  if numel == nil then
    numel = 1
    for _, d in ipairs(s) do numel = numel * d end
  end
  return { name, module or false, s, numel, trainable and true or false }
end

--- plan(model, cfg, adapter) -> class, summary, trainable, all, module records, parameter records,
-- saved records (what `peft plan --json` reports, as records)
function M.plan(model, cfg, adapter)
  adapter = adapter or "default"
  local pm = peft.peft_model.get_peft_model(model, cfg, adapter)
  local entry_ = pm.adapters[adapter]
  local params = pm:adapter_parameters(adapter)
  local saved = pm:saved_tensors(adapter)
  local trainable, all = pm:trainable_parameters()
  local mods, seen = {}, {}
  for _, t in ipairs(entry_.modules or {}) do
    local m = t.module
    if not seen[m.name] then
      seen[m.name] = true
      mods[#mods + 1] = module_record(m, t.r, t.alpha)
    end
  end
  for _, p in ipairs(params) do
    if p.module and not seen[p.module] then -- parameters targeted by name
      seen[p.module] = true
      local m = pm:record(p.module) or { name = p.module, kind = "other" }
      mods[#mods + 1] = module_record(m)
    end
  end
  local ps, sv = {}, {}
  for i, p in ipairs(params) do ps[i] = tensor_record(p.name, p.module, p.shape, p.numel, p.trainable) end
  for i, s in ipairs(saved) do sv[i] = tensor_record(s.key, s.module, s.shape, nil, false) end
  return pm.class_name, pm:trainable_parameters_line(), trainable, all, mods, ps, sv
end

-- tensor names ----------------------------------------------------------------

local function owner_records(names, prefer, adapter)
  local iso = peft.isolation
  local out = {}
  for i, name in ipairs(names) do
    local e = iso.parse(name, { prefer = prefer })
    if e then
      out[i] = { name, e.method, e.module ~= "" and e.module or false, e.layer, e.adapter or adapter,
                 e.param or false }
    else
      out[i] = { name, false, false, false, adapter, false }
    end
  end
  return out
end

--- tensor_map_names(names, method, adapter) -> records { name, method, module, layer, adapter, param }
function M.tensor_map_names(names, method, adapter)
  return owner_records(names, method, adapter or "default")
end

--- tensor_map_file(path, adapter) -> records: the tensors of adapter_model.safetensors (a directory or
-- the file), the method of the adapter_config.json beside it preferred
function M.tensor_map_file(path, adapter)
  local file, dir = path, nil
  local kind = core.stat(path)
  if not kind then
    errors.raise("FileNotFoundError", path .. ": no such file or directory", { path = path })
  end
  if kind == "directory" then
    dir = path:gsub("/+$", "")
    file = dir .. "/adapter_model.safetensors"
    if not core.lstat(file) then
      errors.raise("FileNotFoundError", path .. ": the directory has no adapter_model.safetensors", { path = path })
    end
  else
    dir = path:match("^(.*)/[^/]*$") or "."
  end
  local h, msg = peft.safetensors.read_header(file)
  if not h then errors.raise("ValueError", file .. ": " .. msg, { path = file }) end
  local prefer
  local cfg_file = dir .. "/" .. peft.CONFIG_NAME
  if core.lstat(cfg_file) then
    local ok, cfg = pcall(peft.from_pretrained, cfg_file, { quiet = true })
    if ok then
      local m = peft.method(cfg.peft_type)
      prefer = m and m.name or nil
    end
  end
  local names = {}
  for i, t in ipairs(h.tensors) do names[i] = t.name end
  return owner_records(names, prefer, adapter or "default")
end

return M
