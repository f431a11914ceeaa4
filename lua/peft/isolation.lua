-- peft.isolation: which method, module and adapter each key of a state dict
-- belongs to, and the two ways PEFT names keys.
--
-- A key belongs to a method when one of its dotted segments is exactly one
-- of the method's adapter layer names (lora_A, hada_w1_a, ia3_l, ...): a
-- module that merely starts with a prefix (a head called lora_head kept
-- through modules_to_save) is not an adapter layer. In memory a key carries
-- the adapter name after the layer name (lora_A.default.weight); on save
-- PEFT removes it and puts base_model.model. in front.
local M = {}

M.PREFIX = "base_model.model."

local PARAM_NAMES = { weight = true, bias = true }

local function segments(key)
  local out = {}
  for s in key:gmatch("[^%.]+") do out[#out + 1] = s end
  return out
end

-- layer name -> list of method names using it (registration order)
local function layer_index()
  local peft = require "peft"
  local idx = {}
  for _, m in ipairs(peft.methods()) do
    local names = type(m.model_cls) == "table" and m.model_cls.layer_names or {}
    for _, ln in ipairs(names) do
      idx[ln] = idx[ln] or {}
      table.insert(idx[ln], m.name)
    end
  end
  return idx
end

--- parse(key [, opts]) -> { method=, methods=, module=, layer=, adapter=,
-- param=, saved= } for an adapter key, or nil for any other key.
-- opts.prefer: the method to pick when a layer name is shared (LoRA and
-- AdaLoRA share lora_A and lora_B); opts.index: a prebuilt layer index.
function M.parse(key, opts)
  opts = opts or {}
  local idx = opts.index or layer_index()
  local segs = segments(key)
  local start = 1
  if key:sub(1, #M.PREFIX) == M.PREFIX then start = 3 end
  for i = start, #segs do
    local owners = idx[segs[i]]
    if owners then
      local method = owners[1]
      if opts.prefer then
        for _, o in ipairs(owners) do
          if o == opts.prefer then method = o end
        end
      end
      local rest = { table.unpack(segs, i + 1) }
      local e = { method = method, methods = owners, layer = segs[i],
                  module = table.concat(segs, ".", start, i - 1) }
      if #rest == 0 then
        e.saved = true                      -- ia3_l / lora_magnitude_vector, saved
      elseif #rest == 1 and PARAM_NAMES[rest[1]] then
        e.saved, e.param = true, rest[1]    -- lora_A.weight, saved
      elseif #rest == 1 then
        e.adapter = rest[1]                 -- ia3_l.default, in memory
      else
        e.adapter = rest[1]                 -- lora_A.default.weight, in memory
        e.param = table.concat(rest, ".", 2)
      end
      return e
    end
  end
  return nil
end

--- isolate(keys [, opts]) -> result
-- result.methods[method] = { keys = {...}, modules = {...}, adapters = {...} }
-- result.other = keys no method claims (modules_to_save copies, trainable
-- base weights); result.entries[key] = parse(key).
function M.isolate(keys, opts)
  opts = opts or {}
  local idx = layer_index()
  local res = { methods = {}, other = {}, entries = {}, order = {} }
  for _, k in ipairs(keys) do
    local e = M.parse(k, { prefer = opts.prefer, index = idx })
    if e then
      res.entries[k] = e
      local g = res.methods[e.method]
      if not g then
        g = { keys = {}, modules = {}, module_set = {}, adapters = {}, adapter_set = {} }
        res.methods[e.method] = g
        res.order[#res.order + 1] = e.method
      end
      g.keys[#g.keys + 1] = k
      if not g.module_set[e.module] then
        g.module_set[e.module] = true
        g.modules[#g.modules + 1] = e.module
      end
      local a = e.adapter or "(saved: default)"
      if not g.adapter_set[a] then
        g.adapter_set[a] = true
        g.adapters[#g.adapters + 1] = a
      end
    else
      res.other[#res.other + 1] = k
    end
  end
  return res
end

--- to_saved(key, adapter): the in-memory name as PEFT saves it.
function M.to_saved(key, adapter)
  local e = M.parse(key)
  local segs = segments(key)
  local out = {}
  local skip_next = false
  for i, s in ipairs(segs) do
    if skip_next then
      skip_next = false
    elseif s == "modules_to_save" and segs[i + 1] == adapter then
      skip_next = true
    elseif e and s == adapter and segs[i - 1] == e.layer then
      -- the adapter name after the layer name goes
    else
      out[#out + 1] = s
    end
  end
  local saved = table.concat(out, ".")
  -- DoRA's magnitude is saved without its ".weight"
  saved = saved:gsub("%.lora_magnitude_vector%.weight$", ".lora_magnitude_vector")
  if saved:sub(1, #M.PREFIX) ~= M.PREFIX then saved = M.PREFIX .. saved end
  return saved
end

--- to_memory(key, adapter): a saved key as it is named in memory.
function M.to_memory(key, adapter)
  local e = M.parse(key)
  if key:sub(1, #M.PREFIX) ~= M.PREFIX then key = M.PREFIX .. key end
  if not e or not e.saved then return key end
  if e.layer == "lora_magnitude_vector" then
    return (key:gsub("%.lora_magnitude_vector$", ".lora_magnitude_vector." .. adapter .. ".weight"))
  end
  if e.param then
    return (key:gsub("%." .. e.layer .. "%." .. e.param .. "$", "." .. e.layer .. "." .. adapter .. "." .. e.param))
  end
  return key .. "." .. adapter
end

return M
