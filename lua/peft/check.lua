-- peft.check: where an adapter works. For an adapter (a directory, its adapter_config.json, or a config
-- object) and a list of targets (PEFT releases and serving engines, from peft.target_registry), one
-- verdict per target:
--   "ok"       the target loads the adapter and behaves as the file says (as this runtime reads it);
--   "changed"  it loads it but behaves differently: each reason names a setting dropped or ignored, and
--              its effect;
--   "refused"  it refuses the adapter, with the target's own error text.
-- Every "changed" or "refused" reason carries a fix.
--
--   peft.check(cfg_or_path [, targets [, opts]]) -> { adapters = { { path =, targets = { ... } } } }
--     targets: nil (every PEFT release, summarised, and every engine), or a list of names: "peft 0.6.2",
--     "0.6.2", "vllm", "vllm:max_lora_rank=64", or { name =, knobs = { max_lora_rank = 64 } }.
--
-- What a PEFT release does is decided from facts about it (peft.history: the PeftType members and config
-- fields of every release, and default changes) and from the rules its target script declares (its
-- __post_init__ checks, with the release each appeared in). The reading it is compared with is this
-- runtime's (PEFT at the commit it follows): a setting is lost when the release drops a key whose value is
-- not this runtime's default, or reads a value (given or defaulted) differently.
local core = require "peft.core"
local errors = require "peft.errors"
local config = require "peft.config"
local registry = require "peft.target_registry"
local definitions = require "peft.registry" -- (what waits for its definitions)

local M = {}

local null = core.null
local array_mt = core.json_array_mt
local function arr(t) return setmetatable(t or {}, array_mt) end

-- t[k] made an empty table (weak-keyed with weak) and returned: `t[k] or made(t, k)` is the table a cache
-- keeps per key, made on first use
local WEAK_KEYS = { __mode = "k" }
local function made(t, k, weak)
  local c = weak and setmetatable({}, WEAK_KEYS) or {}
  t[k] = c
  return c
end

-- an empty list shared by whatever would otherwise make an empty one of its own: never added to (an error
-- names what it stands for)
local function shared_empty(what)
  return setmetatable({}, { __newindex = function() error("peft.check: the empty " .. what .. " is shared", 2) end })
end

local history
local function H()
  history = history or require "peft.history"
  return history
end

-- METADATA keys never count as settings: they do not change what the adapter computes
local METADATA = { peft_version = true, base_model_name_or_path = true, revision = true, auto_mapping = true,
                   peft_type = true, task_type = true, inference_mode = true }
M.METADATA = METADATA

-- values ----------------------------------------------------------------------------------------------

-- Python truthiness of a JSON value
local function truthy(v)
  if v == nil or v == null or v == false or v == 0 or v == "" then return false end
  if type(v) == "table" then return config.is_config(v) or next(v) ~= nil end
  return true
end
M.truthy = truthy

local canon
-- canonical text of a value: numbers by value (8 and 8.0 are the same), objects by sorted keys
local function canon_item(v)
  if v == nil or v == null then return "null" end
  local t = type(v)
  if t == "number" then
    local i = math.tointeger(v)
    return i and tostring(i) or string.format("%.17g", v)
  end
  if t == "string" then return string.format("%q", v) end
  if t == "boolean" then return tostring(v) end
  if t == "table" then
    if config.is_config(v) then v = v:to_dict() end
    if getmetatable(v) == array_mt then
      local parts = {}
      for i, x in ipairs(v) do parts[i] = canon_item(x) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    local parts = {}
    for i, k in ipairs(keys) do parts[i] = string.format("%q", k) .. ":" .. canon_item(v[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return tostring(v)
end

-- a top-level list is compared as a set (PEFT keeps target_modules and the like as sets)
function canon(v)
  if type(v) == "table" and getmetatable(v) == array_mt then
    local seen, items = {}, {}
    for _, x in ipairs(v) do
      local c = canon_item(x)
      if not seen[c] then
        seen[c] = true
        items[#items + 1] = c
      end
    end
    table.sort(items)
    return "[" .. table.concat(items, ",") .. "]"
  end
  return canon_item(v)
end

-- whether two tables hold the same plain values in the same places (a quick test: true means that their
-- canonical texts are equal; false that they must be compared by them)
local function equal_plain(a, b, depth)
  local ma = getmetatable(a)
  if ma ~= getmetatable(b) or (ma ~= nil and ma ~= array_mt) or depth > 8 then return false end
  local n = 0
  for k, x in next, a do
    local y = rawget(b, k)
    if not rawequal(x, y) then
      local tx = type(x)
      if tx ~= type(y) or (tx == "number" and x ~= y) or (tx == "table" and not equal_plain(x, y, depth + 1))
         or (tx ~= "number" and tx ~= "table") then
        return false
      end
    end
    n = n + 1
  end
  for _ in next, b do
    n = n - 1
    if n < 0 then return false end
  end
  return n == 0
end

local function same(a, b)
  if a == b then return true end
  local ta, tb = type(a), type(b)
  if ta ~= "table" or tb ~= "table" then
    if (a == nil or a == null) and (b == nil or b == null) then return true end
    return false -- numbers: 8 == 8.0 already; other kinds differ
  end
  if next(a) == nil and next(b) == nil then
    local ma, mb = getmetatable(a), getmetatable(b)
    if (ma == nil or ma == array_mt) and (mb == nil or mb == array_mt) then return true end -- two empty containers
  end
  if equal_plain(a, b, 0) then return true end
  -- two lists of names (target_modules, ...): compared as sets, as canon does, without their texts (one
  -- table: a name of a is true until b has it too, then false)
  if getmetatable(a) == array_mt and getmetatable(b) == array_mt then
    local set, distinct = {}, 0
    for n = 1, #a do
      local x = a[n]
      if type(x) ~= "string" then return canon(a) == canon(b) end
      if not set[x] then
        set[x] = true
        distinct = distinct + 1
      end
    end
    for n = 1, #b do
      local y = b[n]
      if type(y) ~= "string" then return canon(a) == canon(b) end
      local s = set[y]
      if s == nil then return false end
      if s then
        set[y] = false
        distinct = distinct - 1
      end
    end
    return distinct == 0
  end
  return canon(a) == canon(b)
end
M.same = same

local function repr(v)
  if v == nil or v == null then return "null" end
  if type(v) == "table" and config.is_config(v) then v = v:to_dict() end
  local ok, s = pcall(core.json_encode, v)
  return ok and s or tostring(v)
end
M.repr = repr

-- a number as Python prints a float, at most two decimals: 2 -> "2.0", 5.656 -> "5.66"
local function num(x)
  local s = string.format("%.2f", x):gsub("0+$", "")
  if s:sub(-1) == "." then s = s .. "0" end
  return s
end
M.num = num

-- a value as Python's str() prints it (None, True, 8, 0.5, -1.0, text)
local function pystr(v)
  if v == nil or v == null then return "None" end
  if v == true then return "True" elseif v == false then return "False" end
  if type(v) == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    local s = string.format("%.17g", v)
    for prec = 1, 17 do
      local t = string.format("%." .. prec .. "g", v)
      if tonumber(t) == v then s = t break end
    end
    if not s:find("[%.eEn]") then s = s .. ".0" end
    return s
  end
  if type(v) == "table" then return repr(v) end
  return tostring(v)
end
M.pystr = pystr

M.parse_version = config.parse_version
M.version_cmp = config.version_cmp

-- The top-level keys of a JSON object text, in the order they are written (PEFT passes them to the
-- config class in that order, so the first unknown one is the one its TypeError names).
local function key_order(text)
  local keys = {}
  local find, sub, byte = string.find, string.sub, string.byte
  local escapes = find(text, "\\", 1, true) ~= nil -- (without them, a string ends at the next quote)
  local i, depth = 1, 0
  while true do
    local p, _, c = find(text, '(["{}%[%]])', i)
    if not p then break end
    if c == '"' then -- a string: find its end, skipping escapes
      local j
      local escaped = false
      if not escapes then
        j = find(text, '"', p + 1, true)
        if not j then return keys end
      else
        j = p + 1
        while true do
          local q = find(text, '["\\]', j)
          if not q then return keys end
          if byte(text, q) == 92 then
            escaped = true
            j = q + 2
          else
            j = q
            break
          end
        end
      end
      if depth == 1 and (byte(text, j + 1) == 58 or find(text, "^%s*:", j + 1)) then
        local raw = sub(text, p + 1, j - 1)
        if escaped then
          local ok, str = pcall(core.json_decode, '"' .. raw .. '"')
          if ok and type(str) == "string" then raw = str end
        end
        keys[#keys + 1] = raw
      end
      i = j + 1
    else
      if c == "{" or c == "[" then depth = depth + 1 else depth = depth - 1 end
      i = p + 1
    end
  end
  return keys
end
M.key_order = key_order

-- history ---------------------------------------------------------------------------------------------

-- whether release i lies in spans (an index, or { {first, until_excluded|false}, ... })
local function in_spans(s, i)
  if s == nil then return false end
  if type(s) == "number" then return i >= s end
  for _, sp in ipairs(s) do
    if i >= sp[1] and (not sp[2] or i < sp[2]) then return true end
  end
  return false
end
M.in_spans = in_spans

local function first_of(s)
  if type(s) == "number" then return s end
  return s and s[1] and s[1][1]
end

local function release_name(i) return (history or H()).releases[i] end

local function release_index(v)
  local idx = registry.release_index()[v]
  if not idx then error("peft.check: unknown PEFT release '" .. tostring(v) .. "' in a target's rules", 0) end
  return idx
end

-- The default of field f of class cname in release i: from peft.history when it changed, else fallback.
local function release_default(cname, f, i, fallback)
  local hc = H().classes[cname]
  local list = hc and hc.defaults and hc.defaults[f]
  if not list then return fallback end
  local v = fallback
  for _, d in ipairs(list) do
    if i >= d[1] then v = d[2] end
  end
  return v
end

-- per config class of peft.history: field -> the first release with it, for the fields never removed (cached)
local simple_cache = {}
local function simple_spans(cname)
  local simple = simple_cache[cname]
  if simple then return simple end
  local hc = H().classes[cname]
  simple = {}
  for k, sp in pairs(hc and hc.fields or {}) do
    if type(sp) == "number" then simple[k] = sp end
  end
  simple_cache[cname] = simple
  return simple
end

-- the adapter ----------------------------------------------------------------------------------------

local getters = {}
local Adapter = {
  __index = function(A, k)
    local g = getters[k]
    if not g then return nil end
    local v = g(A)
    if v == nil then v = false end
    rawset(A, k, v)
    return v
  end,
}

-- the class this runtime reads the file with (nil when it does not know the peft_type)
function getters.cls(A)
  if A.cfg then return A.cfg:get_class() end
  local pt = A.pt
  if not pt then return nil end
  return core.mapping_get("config", pt)
end

--- field_level_error(err) -> true when this runtime refused a value on its own (a type, a Literal, a
-- nested helper's bounds) where PEFT's dataclass takes it as it is: PEFT reads such a file.
-- (fields whose type PEFT's __post_init__ checks itself are not among them)
local POST_INIT_TYPE_CHECKS = { target_parameters = true, velora_config = true, kasa_config = true }
function M.field_level_error(err)
  if type(err) ~= "table" or (err.kind ~= "ValueError" and err.kind ~= "TypeError") then return false end
  if POST_INIT_TYPE_CHECKS[err.field] then return false end
  local msg = tostring(err.message or ""):gsub("^.-adapter_config%.json: ", "")
  return msg:match("^[%w_]+%.[%w_]+: expected ") ~= nil or msg:match("^[%w_]+%.[%w_]+: [%w_]+%.[%w_]+: ") ~= nil
end

-- HEAD's reading: { values = field -> value, defaults = field -> default, names = the fields in order
-- [, nondefault = the fields away from their defaults, in order] }
-- per class (weak: a rolled-back class goes): the fields to_dict writes, in order (names), their defaults
-- (defaults: to_dict's text of a config-object default), order (field -> its place), kind (field -> SETTING,
-- METADATA_FIELD, or TABLE_SETTING: a setting whose default is a table, which `same` may find alike with
-- another), filled_mt (the metatable of a reading whose missing fields read their defaults, when they are
-- not None) and keys (per history class, see key_info)
local SETTING, METADATA_FIELD, TABLE_SETTING = 1, 2, 3
local class_info = setmetatable({}, { __mode = "k" })
local function info_of(cls)
  local ci = class_info[cls]
  if ci then return ci end
  ci = { names = {}, defaults = {}, order = {}, kind = {}, filled_mt = nil, keys = {} }
  local names, defaults, order, kind = ci.names, ci.defaults, ci.order, ci.kind
  local filled_defaults = {} -- (the defaults that are not None)
  for _, f in ipairs(cls.fields) do
    if f.to_dict ~= false then
      local name, def = f.name, f.default
      if config.is_config(def) then def = def:to_dict() end
      local n = #names + 1
      names[n] = name
      defaults[name] = def
      order[name] = n
      kind[name] = METADATA[name] and METADATA_FIELD or type(def) == "table" and TABLE_SETTING or SETTING
      if def ~= nil and def ~= null then filled_defaults[name] = def end
    end
  end
  ci.filled_mt = { __index = filled_defaults }
  class_info[cls] = ci
  return ci
end

-- per this runtime's class and history class cname: key -> one number for what the pass over a file's keys
-- asks (file_view_of): 2 * the first release whose class has it (0 when some release removed it, NOWHERE
-- when no release has it), + 1 when it is one of this runtime's settings (a field to_dict writes, not
-- metadata). A key in neither is not there.
local NOWHERE = 1 << 40
-- (for the lists most adapters leave empty: never handed out)
local NO_KEYS = shared_empty("key list")
local NO_CLASS = { keys = {} }
local function key_info(ci, cname)
  ci = ci or NO_CLASS
  local keys = ci.keys[cname]
  if keys then return keys end
  keys = {}
  local hc = H().classes[cname]
  for k, sp in pairs(hc and hc.fields or {}) do
    keys[k] = type(sp) == "number" and 2 * sp or 0
  end
  for k, kd in pairs(ci.kind or {}) do
    if kd ~= METADATA_FIELD then keys[k] = (keys[k] or 2 * NOWHERE) + 1 end
  end
  ci.keys[cname] = keys
  return keys
end

function getters.head(A)
  local cls = A.cls
  if not cls then return { values = {}, defaults = {}, names = {} } end
  local ci = info_of(cls)
  local defaults = ci.defaults
  if A.cfg then
    -- the object's values (None is nil); a field it does not hold (None, or a config-object default not read
    -- yet) reads as the class's default (to_dict's text of it: the same value). The settings away from their
    -- defaults are found on the way (a field the object does not hold is at its default).
    local held = rawget(A.cfg, config.STATE).values
    local kind = ci.kind
    local values, nondefault, held_null = {}, nil, nil
    for k, v in next, held do
      local kd = kind[k]
      if kd then
        if v == null then
          held_null = held_null or {}
          held_null[k] = true
          v = nil
        else
          values[k] = v
        end
        local dv = defaults[k]
        -- (a value differs from its default unless both are tables that same finds alike)
        if kd ~= METADATA_FIELD and v ~= dv and not (kd == TABLE_SETTING and type(v) == "table" and same(v, dv)) then
          nondefault = nondefault or {}
          nondefault[#nondefault + 1] = k
        end
      end
    end
    -- the fields the object does not hold read their defaults (but those it holds as None): through the
    -- class's metatable, unless it holds as None one whose default is not None
    local filled_mt = ci.filled_mt
    local filled_defaults = filled_mt.__index
    local shadowed = false
    if held_null then
      for k in next, held_null do
        if filled_defaults[k] ~= nil then shadowed = true end
      end
    end
    if shadowed then
      for k, dv in next, filled_defaults do
        if values[k] == nil and not held_null[k] then values[k] = dv end
      end
    else
      setmetatable(values, filled_mt)
    end
    if nondefault then
      -- (in field order: an insertion sort, the list is short)
      local order = ci.order
      for j = 2, #nondefault do
        local k = nondefault[j]
        local o = order[k]
        local m = j - 1
        while m >= 1 and order[nondefault[m]] > o do
          nondefault[m + 1] = nondefault[m]
          m = m - 1
        end
        nondefault[m + 1] = k
      end
    end
    return { values = values, defaults = defaults, names = ci.names,
             nondefault = nondefault or {}, order = ci.order }
  end
  -- when this runtime cannot read the file, only the keys the file gives count as its settings (unless
  -- it refused only a value's type, which PEFT takes as it is)
  local full = M.field_level_error(A.load_error)
  local d = A.dict or {}
  local values, names = {}, {}
  for _, name in ipairs(ci.names) do
    local v = d[name]
    if full or v ~= nil then
      names[#names + 1] = name
      if v == nil then v = defaults[name] end
      if v == null then v = nil end
      values[name] = v
    else
      values[name] = defaults[name]
    end
  end
  return { values = values, defaults = defaults, names = names }
end

function getters.order(A)
  return A.text and key_order(A.text) or {}
end

-- the weights beside the config: { path, kind = "safetensors" | "bin", tensors = {...}, error }
-- (with A.run, a table the adapters of one run share, what lies beside the configs of one directory is looked
-- up once in the run: see M.adapter)
local function beside(A, what, find)
  local run = A.run
  if not run then return find(A) end
  local per = run[what] or made(run, what)
  local v = per[A.dir]
  if v == nil then
    v = find(A) or false
    per[A.dir] = v
  end
  return v or nil
end

local function find_weights(A)
  if not A.path then return nil end
  local weights = require "peft.weights"
  local path, kind = weights.find(A.path)
  if not path then return nil end
  local w = { path = path, kind = kind, tensors = {}, names = {} }
  if kind == "safetensors" then
    local h, err = core.st_read_header(path)
    if not h then
      w.error = err
    else
      w.tensors = h.tensors
      for _, t in ipairs(h.tensors) do w.names[#w.names + 1] = t.name end
    end
  end
  return w
end
function getters.weights(A) return beside(A, "weights", find_weights) end

-- added tokens: from added_tokens.json beside the adapter, or trained embedding rows
local function find_added_tokens(A)
  if not A.dir then return nil end
  local p = A.dir .. "/added_tokens.json"
  if core.stat(p) ~= "file" then return nil end
  local text = core.read_file(p, 16 * 1024 * 1024)
  local t = text and core.json_decode(text)
  if type(t) ~= "table" then return nil end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  if n == 0 then return nil end
  return { count = n, path = p }
end
function getters.added_tokens(A) return beside(A, "added_tokens", find_added_tokens) end

-- facts engines look at ----------------------------------------------------------------------------------
-- The facts of an adapter (A.facts): its settings as this runtime reads them (peft_type, r, alpha,
-- rank_pattern, alpha_pattern, use_rslora, use_dora, modules_to_save, target_modules, bias, lora_bias,
-- layers_to_transform, layer_replication, init, trainable_token_indices, alora, use_qalora, use_bdlora,
-- target_parameters, megatron, arrow, monteclora, ensure_weight_tying), what its weights hold (weights_kind,
-- magnitudes, full_tensors, bias_tensors, other_tensors, tensor_rank, embedding_rows; rank: the largest of
-- the config's and the weights'; dora: use_dora or magnitude vectors), added_tokens, and what several engines
-- test, made once (a rule may name them as its fact or guard): not_lora (peft_type is not LORA),
-- not_lora_type (then the peft_type, or "(none)"), target_string (target_modules is a string),
-- has_rank_pattern, has_alpha_pattern, selects_layers (layers_to_transform given), replicates_layers,
-- init_base (init_changes_base), bias_config (bias or lora_bias), any_bias (those or bias tensors),
-- adds_tokens (added tokens or trainable_token_indices), saves_modules (modules_to_save or saved copies),
-- targets_heads (lm_head or the embeddings among the targets).

local function module_of_tensor(name)
  return (name:gsub("^base_model%.model%.", ""))
end

local ADAPTER_TENSOR = { lora_A = true, lora_B = true, lora_embedding_A = true, lora_embedding_B = true,
                         lora_magnitude_vector = true }

local PISSA_LIKE = { olora = true, corda = true, loftq = true, lora_ga = true }
local function init_changes_base_of(init)
  if type(init) ~= "string" then return nil end
  if init:match("^pissa") or PISSA_LIKE[init] then return init end
  return nil
end
local function init_changes_base(f) return init_changes_base_of(f.init) end

-- target module name -> whether it is an embedding or the output layer (ends in lm_head, embed_tokens, wte,
-- embed_out or output), found once per name (the adapters of a run name few modules)
local byte, find = string.byte, string.find
local head_target = setmetatable({}, { __index = function(known, t)
  local b = byte(t, -1)
  local v = false
  if b == 100 then v = find(t, "lm_head", -7, true) ~= nil -- d
  elseif b == 115 then v = find(t, "embed_tokens", -12, true) ~= nil -- s
  elseif b == 101 then v = find(t, "wte", -3, true) ~= nil -- e
  elseif b == 116 then v = find(t, "embed_out", -9, true) ~= nil or find(t, "output", -6, true) ~= nil -- t
  end
  known[t] = v
  return v
end })

-- the tensors of the weights by kind: { magnitudes, full_tensors, bias_tensors, other_tensors (names),
-- tensor_rank, embedding_rows }
local function weight_facts(w)
  local out = { magnitudes = {}, full_tensors = {}, bias_tensors = {}, other_tensors = {}, tensor_rank = nil,
                embedding_rows = nil }
  for _, t in ipairs(w.tensors) do
    local name = module_of_tensor(t.name)
    local parts = {}
    for s in name:gmatch("[^%.]+") do parts[#parts + 1] = s end
    local layer, last = parts[#parts - 1], parts[#parts]
    if name:find("lora_magnitude_vector", 1, true) then
      out.magnitudes[#out.magnitudes + 1] = t.name
    elseif last == "lora_A" or layer == "lora_A" then
      local tr = t.shape[1]
      if tr and tr > (out.tensor_rank or 0) then out.tensor_rank = tr end
    elseif last == "lora_embedding_A" then
      local tr = t.shape[1]
      if tr and tr > (out.tensor_rank or 0) then out.tensor_rank = tr end
      out.embedding_rows = t.shape[2]
    elseif (layer == "lora_A" or layer == "lora_B") and last == "bias" then
      out.bias_tensors[#out.bias_tensors + 1] = t.name
    elseif not (ADAPTER_TENSOR[last] or ADAPTER_TENSOR[layer or ""]) then
      out.other_tensors[#out.other_tensors + 1] = t.name
      if name:find("modules_to_save", 1, true) or name:match("lm_head%.weight$")
         or name:match("embed_tokens%.weight$") or name:match("wte%.weight$") then
        out.full_tensors[#out.full_tensors + 1] = t.name
        if #t.shape == 2 and (name:find("embed", 1, true) or name:find("wte", 1, true)) then
          out.embedding_rows = t.shape[1]
        end
      elseif name:match("%.bias$") then
        out.bias_tensors[#out.bias_tensors + 1] = t.name
      end
    end
  end
  return out
end

function getters.facts(A)
  local hv = A.head.values
  local pt = A.pt
  local r = hv.r
  r = math.tointeger(r) or r
  local rank_pattern, alpha_pattern = hv.rank_pattern, hv.alpha_pattern
  if type(rank_pattern) ~= "table" then rank_pattern = {} end
  if type(alpha_pattern) ~= "table" then alpha_pattern = {} end
  local max = type(r) == "number" and r or 0
  for _, v in next, rank_pattern do
    if type(v) == "number" and v > max then max = v end
  end
  local tm = hv.target_modules
  local tm_string = type(tm) == "string"
  local all_linear = tm_string and tm:lower() == "all-linear"
  local mts = hv.modules_to_save
  if not (type(mts) == "table" and #mts > 0) then mts = nil end
  local bias = hv.bias
  if not (type(bias) == "string" and bias ~= "none") then bias = nil end
  local lora_bias = hv.lora_bias == true
  local use_dora = hv.use_dora == true
  local init = hv.init_lora_weights
  -- (truthy is called only for the values given)
  local tti, tp, lr = hv.trainable_token_indices, hv.target_parameters, hv.layer_replication
  if tti ~= nil and not truthy(tti) then tti = nil end
  if tp ~= nil and not truthy(tp) then tp = nil end
  local alora, bdlora, megatron = hv.alora_invocation_tokens, hv.use_bdlora, hv.megatron_config
  local arrow, monteclora = hv.arrow_config, hv.monteclora_config
  -- targets that are embeddings or the output layer
  local targets_head = {}
  if type(tm) == "table" then
    for n = 1, #tm do
      local t = tm[n]
      if type(t) == "string" and head_target[t] then targets_head[#targets_head + 1] = t end
    end
  end
  -- the weights: tables of their tensor names by kind (one empty table for them all when there are none)
  local w = A.weights
  local magnitudes, full_tensors, bias_tensors, other_tensors, tensor_ranks, tensor_rank, embedding_rows
  if w then
    local wf = weight_facts(w)
    magnitudes, full_tensors, bias_tensors, other_tensors = wf.magnitudes, wf.full_tensors, wf.bias_tensors,
      wf.other_tensors
    tensor_ranks, tensor_rank, embedding_rows = {}, wf.tensor_rank, wf.embedding_rows
  else
    local none = {}
    magnitudes, full_tensors, bias_tensors, other_tensors, tensor_ranks = none, none, none, none, none
  end
  local tr = tensor_rank or 0
  local rank = max
  if tr > max then rank = tr end -- (math.max: the first on a tie)
  local added = A.added_tokens
  local added_tokens = added and added.count or nil
  local bias_config = bias ~= nil or lora_bias
  return {
    peft_type = pt, lora = pt == "LORA", r = r, alpha = hv.lora_alpha, rank_pattern = rank_pattern,
    alpha_pattern = alpha_pattern, config_rank = max, use_rslora = hv.use_rslora == true, use_dora = use_dora,
    modules_to_save = mts, target_modules = tm, target_regex = tm_string and not all_linear,
    all_linear = all_linear, bias = bias, lora_bias = lora_bias, layers_to_transform = hv.layers_to_transform,
    layer_replication = lr, init = init, trainable_token_indices = tti,
    alora = alora ~= nil and truthy(alora), use_qalora = hv.use_qalora == true,
    use_bdlora = bdlora ~= nil and truthy(bdlora), target_parameters = tp,
    megatron = megatron ~= nil and truthy(megatron), arrow = arrow ~= nil and truthy(arrow),
    monteclora = monteclora ~= nil and truthy(monteclora), ensure_weight_tying = hv.ensure_weight_tying == true,
    targets_head = targets_head, weights_kind = w and w.kind or nil, tensor_ranks = tensor_ranks,
    magnitudes = magnitudes, full_tensors = full_tensors, bias_tensors = bias_tensors,
    other_tensors = other_tensors, embedding_rows = embedding_rows, tensor_rank = tensor_rank, rank = rank,
    dora = use_dora or #magnitudes > 0, added_tokens = added_tokens,
    -- what several engines test, once
    not_lora = pt ~= "LORA", not_lora_type = pt ~= "LORA" and (pt or "(none)"), target_string = tm_string,
    has_rank_pattern = next(rank_pattern) ~= nil, has_alpha_pattern = next(alpha_pattern) ~= nil,
    selects_layers = hv.layers_to_transform ~= nil, replicates_layers = lr ~= nil and truthy(lr),
    init_base = init_changes_base_of(init), bias_config = bias_config,
    any_bias = bias_config or #bias_tensors > 0, adds_tokens = added_tokens ~= nil or tti ~= nil,
    saves_modules = mts ~= nil or #full_tensors > 0, targets_heads = #targets_head > 0,
  }
end

local function dir_of(path) return path:match("^(.*)/[^/]*$") or "." end

-- the adapter view of a config's text; file: the path it was read from (for messages and the weights
-- beside it), or nil
local function new_view()
  -- (every field it gets named, so that its table is made at its size; the tables keyed by target are made
  -- with room for the built-in ones likewise: a constructor's named fields size it, their nil values are
  -- not stored)
  return setmetatable({
    fams = { f1 = nil, f2 = nil, f3 = nil, f4 = nil }, plan = nil,
    results = { r1 = nil, r2 = nil, r3 = nil, r4 = nil },
    engine_results = { e1 = nil, e2 = nil, e3 = nil, e4 = nil, e5 = nil, e6 = nil, e7 = nil, e8 = nil, e9 = nil },
    path = nil, dir = nil, run = nil, label = nil, text = nil, dict = nil, json_error = nil, json_line = nil,
    json_col = nil,
    is_object = nil, cfg = nil, load_error = nil, pt = nil,
    cls = nil, head = nil, order = nil, weights = nil, added_tokens = nil, facts = nil, nondefault = nil,
    file_view = nil, base_verdicts = nil, oldest_from = nil,
  }, Adapter)
end

local function from_text(A, text, file)
  local loader = require "peft.loader"
  A.text = text
  -- set, so that reading them does not go through the getters
  A.json_error, A.is_object, A.cfg, A.load_error, A.pt = false, false, false, false, false
  local value, nkeys, line, col = core.json_decode_counted(text)
  if value == nil then
    local msg = nkeys
    A.json_error = "JSONDecodeError: " .. msg
    A.json_line, A.json_col = line, col
    A.dict = false
  else
    A.dict = value
    A.is_object = type(value) == "table" and getmetatable(value) ~= array_mt
    if A.is_object and type(value.peft_type) == "string" then A.pt = value.peft_type end
    -- this runtime's reading (quiet: warnings are recorded on the config, never emitted)
    local ok, res = pcall(loader.from_dict, value, { path = file, quiet = true }, nil, nkeys)
    if ok then A.cfg = res else A.load_error = res end
  end
  return A
end

--- adapter(src [, not_dir [, run]]) -> the adapter view: src is a path (a directory or the config file), or a
-- config object; not_dir: the caller found src is there and is not a directory (its file is src itself); run: a
-- table the caller hands every adapter of one run (the weights and added tokens beside the configs of a
-- directory are then looked for once)
function M.adapter(src, not_dir, run)
  local A = new_view()
  A.run = run or false
  if config.is_config(src) then
    A.cfg = src
    A.path = src:source() or false
    A.dir = A.path and dir_of(A.path) or false
    A.text = src:to_json()
    A.dict = src:to_dict()
    A.is_object = true
    A.pt = src.peft_type
    A.label = A.path or "(config)"
    return A
  end
  if type(src) ~= "string" then
    errors.raise("TypeError", "peft.check expects a config or a path, got " .. type(src))
  end
  local file = not_dir and src or require("peft.loader").config_path(src) -- raises FileNotFoundError
  A.path, A.dir, A.label = file, dir_of(file), file
  local text, err = core.read_file(file, config.MAX_CONFIG_BYTES)
  if not text then errors.raise("OSError", err, { path = file }) end
  return from_text(A, text, file)
end

--- adapter_from_text(text [, label]) -> the adapter view of a config's text (no weights beside it)
function M.adapter_from_text(text, label)
  local A = new_view()
  A.path, A.dir, A.label = false, false, label or "(text)"
  return from_text(A, text, nil)
end

-- reasons -------------------------------------------------------------------------------------------

local function reason(rule, message, fix, extra)
  local r = { rule = rule, message = message, fix = fix or null }
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end
M.reason = reason

-- PEFT releases ------------------------------------------------------------------------------------

-- What a lost setting does, where there is more to say than "lost".
local EFFECTS = {
  use_dora = function() return "DoRA is off: the adapter runs as plain LoRA and its magnitude vectors are unused" end,
  use_rslora = function(A)
    local hv = A.head.values
    local r, a = hv.r, hv.lora_alpha
    if type(r) == "number" and r > 0 and type(a) == "number" then
      return string.format("scale lora_alpha/r = %s instead of lora_alpha/sqrt(r) = %s", num(a / r),
        num(a / math.sqrt(r)))
    end
    return "the scale is lora_alpha/r instead of lora_alpha/sqrt(r)"
  end,
  rank_pattern = function(A) return "every module takes r = " .. repr(A.head.values.r) end,
  alpha_pattern = function(A) return "every module takes lora_alpha = " .. repr(A.head.values.lora_alpha) end,
  modules_to_save = function()
    return "the saved copies of those modules are not loaded: they keep the base weights"
  end,
  layers_to_transform = function() return "every layer is adapted, not only the ones listed" end,
  layers_pattern = function() return "layers_to_transform is matched against the default layer names" end,
  layer_replication = function()
    return "the layers are not replicated: the adapter expects more layers than it gets"
  end,
  lora_bias = function() return "the trained lora_B biases are not loaded" end,
  trainable_token_indices = function() return "the trained token embeddings are not loaded" end,
  exclude_modules = function() return "the modules it excludes are adapted too" end,
  target_parameters = function() return "the parameters it names are not adapted" end,
  alora_invocation_tokens = function()
    return "the adapter is active on every token, not only after its invocation tokens"
  end,
  use_qalora = function() return "the quantisation-aware (QALoRA) pooling is not applied" end,
  init_lora_weights = function() return "the initialisation it names is not used (it matters when training)" end,
}

local function effect(A, k)
  local e = EFFECTS[k]
  return e and e(A) or nil
end

-- the registered PEFT targets in release order (cached until the registry changes)
local entries_cache, entries_gen
local function peft_entries()
  local gen = registry.gen
  if entries_cache and entries_gen == gen then return entries_cache end
  local out = {}
  for _, e in ipairs(registry.list()) do
    if e.kind == "peft" and registry.index_of(e) then out[#out + 1] = e end
  end
  table.sort(out, function(a, b)
    local ia, ib = registry.index_of(a), registry.index_of(b)
    if ia ~= ib then return ia < ib end
    return a.name < b.name
  end)
  -- the releases not based on another: entries, their specs and indices, in release order
  -- and groups: the spans of consecutive ones of one family { spec, first, last }
  local base = { entries = {}, specs = {}, index = {}, groups = {} }
  for _, e in ipairs(out) do
    if e.spec.based_on == nil then
      local n = #base.entries + 1
      base.entries[n], base.specs[n], base.index[n] = e, e.spec, registry.index_of(e)
      local g = base.groups[#base.groups]
      if g and g.spec == e.spec then
        g.last = n
      else
        base.groups[#base.groups + 1] = { spec = e.spec, first = n, last = n }
      end
    end
  end
  -- per group: at[i] = the first of its places whose release is i or later (for every release index i)
  local nreleases = #H().releases
  for _, g in ipairs(base.groups) do
    local at = {}
    local p = g.first
    for i = 1, nreleases + 1 do
      while p <= g.last and base.index[p] < i do p = p + 1 end
      at[i] = p
    end
    g.at = at
  end
  out.base = base
  entries_cache, entries_gen = out, gen
  return out
end

-- the rules of a target's spec (a list, or a function run once)
local rules_cache = setmetatable({}, { __mode = "k" })
local function spec_rules(spec)
  local r = rules_cache[spec]
  if r then return r end
  definitions.load_pending(spec) -- (the second part of a built-in target script)
  r = spec.rules
  if type(r) == "function" then r = r(M) end
  r = r or {}
  rules_cache[spec] = r
  return r
end
M.spec_rules = spec_rules

-- the rules of a release family that apply to config class cname, since/until as indices (cached). The
-- family's rules are indexed by class once (again if its list grows): each class's list is then a merge.
local prepared = setmetatable({}, { __mode = "k" })
local function release_rules(spec, cname)
  local p = prepared[spec]
  if not p then
    p = { lists = {}, index = nil }
    prepared[spec] = p
  end
  local list = p.lists[cname]
  if list then return list end
  local rules = spec_rules(spec)
  local idx = p.index
  if not idx or idx.n ~= #rules then
    -- any: the places of the rules for every class; by_class: class -> the places of its own; prepared: place ->
    -- the rule with its indices (made when a class first needs it)
    idx = { n = #rules, any = {}, by_class = {}, prepared = {} }
    for pos, rule in ipairs(rules) do
      local classes = rule.classes
      if not classes then
        idx.any[#idx.any + 1] = pos
      else
        for _, c in ipairs(classes) do
          local l = idx.by_class[c] or made(idx.by_class, c)
          if l[#l] ~= pos then l[#l + 1] = pos end -- (a class named twice: once)
        end
      end
    end
    p.index = idx
  end
  list = {}
  local any, own, ready = idx.any, idx.by_class[cname] or {}, idx.prepared
  local a, b = 1, 1
  while a <= #any or b <= #own do
    local pos
    if b > #own or (a <= #any and any[a] < own[b]) then
      pos = any[a]
      a = a + 1
    else
      pos = own[b]
      b = b + 1
    end
    local q = ready[pos]
    if not q then
      local rule = rules[pos]
      q = {}
      for k, v in pairs(rule) do q[k] = v end
      q.since_i = rule.since and release_index(rule.since) or 1
      q.until_i = rule["until"] and release_index(rule["until"]) or math.huge
      ready[pos] = q
    end
    list[#list + 1] = q
  end
  p.lists[cname] = list
  return list
end

-- values as release i sees them: the file's, else that release's default (nil for a field it lacks); a
-- value read once is kept in the view
local function release_view(A, cname, i)
  local hc = H().classes[cname]
  local fields = hc and hc.fields
  local dict = A.dict
  local head_defaults = A.head.defaults
  return setmetatable({}, {
    __index = function(t, k)
      local v = dict[k]
      if v ~= nil then
        if v == null then return nil end
        rawset(t, k, v)
        return v
      end
      if not (fields and in_spans(fields[k], i)) then return nil end
      v = release_default(cname, k, i, head_defaults[k])
      if v == null or v == nil then return nil end
      rawset(t, k, v)
      return v
    end,
  })
end

-- the first release that peft.history says has field k of class cname
local function field_since(cname, k)
  local hc = H().classes[cname]
  return hc and first_of(hc.fields[k])
end

-- Reasons are made when a result is evaluated, their text when it is read (most results of a run over
-- every release are never printed): a reason holds its rule, its setting and what its text needs.
local render = {}
local lazy_reason_mt = {
  __index = function(r, k)
    if k ~= "message" and k ~= "fix" and k ~= "keys" and k ~= "key" then return nil end
    if rawget(r, "message") then return nil end
    local fn = render[r.rule]
    local msg, fix = fn(r)
    fix = fix or null
    r.message, r.fix = msg, fix -- (no __newindex: plain fields from now on)
    if k == "message" then return msg elseif k == "fix" then return fix end
    return rawget(r, k)
  end,
}

local evaluate_release

local verdict_at, family_eval

-- the verdicts of the releases found so far, by their place in base (release_runs keeps them)
local function base_verdicts(A, base)
  local verdicts = A.base_verdicts
  if not verdicts or verdicts.base ~= base then
    verdicts = { base = base }
    A.base_verdicts = verdicts
  end
  return verdicts
end

-- (oldest_ok_from's search, release by release)
local function oldest_ok_from0(A, i, base)
  local entries, index = base.entries, base.index
  local verdicts = base_verdicts(A, base)
  for n = 1, #entries do
    if index[n] >= i then
      local v = verdicts[n]
      if not v then
        v = verdict_at(A, family_eval(A, entries[n].spec), index[n])
        verdicts[n] = v
      end
      if v == "ok" then return entries[n] end
    end
  end
  return nil
end

-- the oldest registered release at or after index i that loads the adapter unchanged: its entry, or nil
local function oldest_ok_from(A, i)
  local base = peft_entries().base
  local memo = A.oldest_from
  if memo and memo.base == base then
    local e = memo[i]
    if e ~= nil then return e or nil end
  else
    memo = { base = base }
    A.oldest_from = memo
  end
  local e = oldest_ok_from0(A, i, base)
  memo[i] = e or false
  return e
end

local function use_release_fix(A, i, what)
  local e = oldest_ok_from(A, i + 1)
  if e then return string.format("use PEFT %s or later%s", e.version, what and (" (" .. what .. ")") or "") end
  return nil
end

local FIX_PEFT_TYPE = "add \"peft_type\" (the method, e.g. \"LORA\"): every release picks the config class from it"

function render.no_from_pretrained(r)
  return "AttributeError: type object 'PeftModel' has no attribute 'from_pretrained' (PEFT " .. r.version
    .. " cannot load a saved adapter)", use_release_fix(r.A, r.i)
end
render["no-from-pretrained"] = render.no_from_pretrained

render["invalid-json"] = function(r) return r.A.json_error, "fix the JSON text (PEFT reads it with json.load)" end

render["not-an-object"] = function(r)
  local msg = r.i < release_index("0.4.0") and "AttributeError: 'list' object has no attribute 'items'"
    or "TypeError: list indices must be integers or slices, not str"
  if type(r.A.dict) ~= "table" then msg = "TypeError: an adapter config must be a JSON object" end
  return msg, "an adapter_config.json holds one JSON object"
end

render["missing-peft-type"] = function(r)
  local pt = r.A.dict.peft_type
  if pt == nil and r.i >= release_index("0.4.0") then return "KeyError: 'peft_type'", FIX_PEFT_TYPE end
  return "KeyError: None", FIX_PEFT_TYPE
end

render["unknown-peft-type"] = function(r)
  local pt, i = r.A.dict.peft_type, r.i
  if type(pt) ~= "string" then return "KeyError: " .. repr(pt), FIX_PEFT_TYPE end
  local t = H().types[pt]
  local fix
  if t then
    local first = first_of(t[1])
    if i < first then
      fix = string.format("use PEFT %s or later (%s appeared in %s)", release_name(first), pt, release_name(first))
    elseif pt == "BONE" then
      fix = "migrate the adapter to MiSS (peft migrate PATH --write), which this release loads"
    else
      fix = string.format("%s was removed from PEFT; use a release that has it", pt)
    end
  else
    local up = pt:upper()
    if up ~= pt and H().types[up] then
      fix = string.format("write peft_type as \"%s\" (PeftType members are upper-case)", up)
    else
      fix = string.format("%s is not a method of any PEFT release", pt)
    end
  end
  return "KeyError: '" .. pt .. "'", fix
end

-- every key of the file release i's class does not know, in the file's order
local function unknown_keys(A, cname, i)
  local hc = H().classes[cname]
  local out = {}
  for _, k in ipairs(A.order) do
    if not in_spans(hc.fields[k], i) then out[#out + 1] = k end
  end
  return out
end

render["unexpected-keyword"] = function(r)
  local A, i, v, cname = r.A, r.i, r.version, r.cname
  local unknown = unknown_keys(A, cname, i)
  rawset(r, "keys", arr(unknown))
  rawset(r, "key", unknown[1])
  local lost = {}
  for _, u in ipairs(unknown) do
    if not METADATA[u] and A.cls and A.cls.field_map[u] and not same(A.dict[u], A.head.defaults[u]) then
      lost[#lost + 1] = u
    end
  end
  local fix
  if #lost == 0 then
    fix = string.format("peft migrate PATH --to-peft %s (drops %s, which hold their defaults)", v,
      #unknown == 1 and ("'" .. r.key .. "'") or (#unknown .. " keys"))
  else
    local what = string.format("%s %s PEFT %s does not have", table.concat(lost, ", "),
      #lost == 1 and "is a setting" or "are settings", v)
    local use = use_release_fix(A, i)
    fix = use and (use .. ": " .. what) or ("no release loads it unchanged: " .. what)
  end
  return string.format("TypeError: %s.__init__() got an unexpected keyword argument '%s'", cname, r.key), fix
end

render["dropped-setting"] = function(r)
  local A, k = r.A, r.setting
  local since = field_since(r.cname, k)
  local what = effect(A, k)
  local msg = string.format("%s = %s dropped: PEFT %s has no such setting%s%s", k, repr(A.head.values[k]), r.version,
    since and (" (it appeared in " .. release_name(since) .. ")") or "", what and ("; " .. what) or "")
  local fix = use_release_fix(A, r.i, since and string.format("%s appeared in %s", k, release_name(since)))
  return msg, fix or ("no release loads it unchanged; remove " .. k)
end

render["default-changed"] = function(r)
  local k = r.setting
  return string.format("%s is not in the file: PEFT %s's default is %s, this runtime's is %s", k, r.version,
    repr(r.release_value), repr(r.A.head.values[k])),
    string.format("write %s explicitly: peft migrate PATH --to-peft %s", k, r.version)
end

render["read-differently"] = function(r)
  local k = r.setting
  return string.format("%s: PEFT %s reads %s where this runtime reads %s", k, r.version, repr(r.release_value),
    repr(r.A.head.values[k])), nil
end

-- The registered releases of one family (spec), in release order, with their indices (cached)
local members_cache = setmetatable({}, { __mode = "k" })
local function family_members(spec)
  local gen = registry.gen
  local m = members_cache[spec]
  if m and m.gen == gen then return m end
  m = { gen = gen }
  if spec.based_on ~= nil then
    for _, x in ipairs(registry.list()) do
      if x.spec == spec then m[#m + 1] = x end
    end
  else
    for _, x in ipairs(peft_entries()) do
      if x.spec == spec then m[#m + 1] = x end
    end
  end
  for j, x in ipairs(m) do m[j] = { entry = x, i = registry.index_of(x) } end
  members_cache[spec] = m
  return m
end

-- Epochs: the releases of one family between which nothing the check looks at changes for config class
-- cname (a field, a default, the method itself, a rule's range). A rule whose outcome may depend on the
-- release is run once per epoch. Cached per family and class: { [index] = the epoch's first index }.
local epoch_cache = setmetatable({}, { __mode = "k" })
local function epochs(spec, cname)
  local members = family_members(spec)
  local per = epoch_cache[spec]
  if not per or per.members ~= members then
    per = { members = members }
    epoch_cache[spec] = per
  end
  local ep = per[cname]
  if ep then return ep end
  local cuts = {}
  local function cut_spans(s)
    if type(s) == "number" then cuts[s] = true
    elseif type(s) == "table" then
      for _, sp in ipairs(s) do
        cuts[sp[1]] = true
        if sp[2] then cuts[sp[2]] = true end
      end
    end
  end
  local hc = H().classes[cname]
  local per_release = false
  if hc then
    cut_spans(hc.since)
    cut_spans(H().types[hc.peft_type] and H().types[hc.peft_type][1])
    for _, s in pairs(hc.fields) do cut_spans(s) end
    for _, list in pairs(hc.defaults or {}) do
      for _, dch in ipairs(list) do cuts[dch[1]] = true end
    end
    if spec.loading ~= "setattr" and spec.loading ~= "none" then
      for _, rule in ipairs(release_rules(spec, cname)) do
        cuts[rule.since_i] = true
        if rule.until_i ~= math.huge then cuts[rule.until_i] = true end
        if rule.per_release then per_release = true end
      end
    end
  end
  ep = {}
  local current, prev
  for _, m in ipairs(members) do
    local i = m.i
    local new = not current or per_release
    if not new then
      for j = prev + 1, i do
        if cuts[j] then new = true end
      end
    end
    if new then current = i end
    ep[i] = current
    prev = i
  end
  per[cname] = ep
  return ep
end

-- What release family `spec` does with the adapter, for all its registered releases at once: which are
-- refused and why, which rules hit where. Settings lost are found per release when asked (lost_settings).
-- Nothing here makes text but the refusals of the release's own checks: a result's reasons are made when
-- the result is asked for (evaluate_release), their text when it is read.
local evaluate_shape
local UNKNOWN_TYPE = { rule = "unknown-peft-type" }
local NO_HITS = shared_empty("hit list")
-- (per family, its members list holds per spans of a method (peft.history's types) the releases that have it
-- and those that do not)
-- per family: per config class: per field, the releases where a file that lacks it reads this runtime's
-- default there (the same for every adapter)
local alike_cache = setmetatable({}, { __mode = "k" })
-- per config class: the unexpected-keyword refusal (the same for every release and adapter)
local kwargs_refusal = {}
-- per list of releases that have the method: per newest key's release, those that know every key
local kw_live_cache = setmetatable({}, { __mode = "k" })
-- per list of live releases: per list of rules, the rules that apply and their releases (evaluate_shape)
local steps_cache = setmetatable({}, { __mode = "k" })

-- the settings of the adapter away from this runtime's defaults, in field order (once per adapter)
local function nondefault_of(A)
  local nd = rawget(A, "nondefault")
  if nd then return nd end
  local head = A.head
  nd = head.nondefault
  if nd then
    A.nondefault = nd
    return nd
  end
  nd = {}
  local names, values, defaults = head.names, head.values, head.defaults
  for n = 1, #names do
    local k = names[n]
    if not METADATA[k] then
      local hv, dv = values[k], defaults[k]
      if hv ~= dv and not same(hv, dv) then nd[#nd + 1] = k end
    end
  end
  A.nondefault = nd
  return nd
end

-- what lost_settings needs, once per adapter and class: nondefault (see above); defaults: keys the file
-- lacks whose default changed in some release; order: field -> its place; setattr (made when first asked
-- for, see plan_setattr: only releases that set attributes need it)
local function plan_of(A, cname, hc, d)
  local plan = A.plan
  if plan and plan.cname == cname then return plan end
  local head = A.head
  local names = head.names
  local order = head.order
  if not order then
    order = {}
    for n = 1, #names do order[names[n]] = n end
    head.order = order
  end
  -- (the fields whose default changed are few: in field order)
  local changed_defaults = NO_KEYS
  local hdef = hc.defaults
  if hdef then
    for k in next, hdef do
      if order[k] and d[k] == nil and not METADATA[k] then
        if changed_defaults == NO_KEYS then changed_defaults = {} end
        changed_defaults[#changed_defaults + 1] = k
      end
    end
    if #changed_defaults > 1 then table.sort(changed_defaults, function(a, b) return order[a] < order[b] end) end
  end
  plan = { cname = cname, nondefault = nondefault_of(A), defaults = changed_defaults, order = order, setattr = nil,
           simple_min = nil, slow = nil }
  A.plan = plan
  return plan
end

-- keys the file gives that this runtime reads otherwise, and keys it lacks but reads away from the
-- default (what releases that set attributes lose), once per adapter
-- per history class and this runtime's defaults: whether every release reads a field as this runtime's
-- default when a file lacks it (it has the field, with the same default, or lacks it while the default is
-- None), found for each field when first asked
local alike_fields = setmetatable({}, { __mode = "k" })
local function always_alike(cname, head_defaults)
  local per = alike_fields[head_defaults] or made(alike_fields, head_defaults)
  local set = per[cname]
  if set then return set end
  local hc = H().classes[cname]
  local fields = hc and hc.fields or {}
  local nreleases = #H().releases
  set = setmetatable({}, { __index = function(t, k)
    local hd = head_defaults[k]
    local changes = hc and hc.defaults and hc.defaults[k]
    local s = fields[k]
    local all
    if not changes and (hd == nil or hd == null) then
      all = true
    elseif not changes and type(s) == "number" then
      all = s <= 1
    else
      all = true
      for i = 1, nreleases do
        local known
        if type(s) == "number" then known = i >= s else known = in_spans(s, i) end
        if changes then
          local v
          if known then v = release_default(cname, k, i, hd) end
          if not same(v, hd) then all = false break end
        elseif not known then
          all = false
          break
        end
      end
    end
    rawset(t, k, all)
    return all
  end })
  per[cname] = set
  return set
end

local file_view_of
local function plan_setattr(A, plan)
  local list = plan.setattr
  if list then return list end
  local d = A.dict
  local order = plan.order
  -- keys the file gives (this runtime's fields, not metadata) that it reads otherwise (found by the pass
  -- of file_view_of), then keys it lacks that this runtime reads away from the default (most files have
  -- neither: one shared empty list)
  list = NO_KEYS
  local given = file_view_of(A, plan.cname).read_otherwise
  if given then
    list = {}
    for n = 1, #given do list[n] = given[n] end
  end
  local nondefault = plan.nondefault
  for n = 1, #nondefault do
    local k = nondefault[n]
    if d[k] == nil then
      if list == NO_KEYS then list = {} end
      list[#list + 1] = k
    end
  end
  if #list > 1 then table.sort(list, function(a, b) return order[a] < order[b] end) end
  plan.setattr = list
  return list
end

function family_eval(A, spec, members)
  local fams = A.fams
  local F = fams[spec]
  if F then return F end
  members = members or family_members(spec)
  local early
  local d = A.dict
  local pt
  if spec.loading == "none" then
    early = "no-from-pretrained"
  elseif A.json_error then
    early = "invalid-json"
  elseif not A.is_object then
    early = "not-an-object"
  else
    pt = d.peft_type
    if pt == nil or pt == null then
      early = "missing-peft-type"
    elseif type(pt) ~= "string" then
      early = "unknown-peft-type"
    end
  end
  if early then
    -- (the same for every adapter: one per family and reason)
    local shared = members.early or made(members, "early")
    F = shared[early]
    if not F then
      F = { members = members, hits = NO_HITS, loading = spec.loading, early = early }
      shared[early] = F
    end
    fams[spec] = F
    return F
  end
  local h = history or H()
  local t = h.types[pt]
  -- which of the family's releases have the method (the same for every method with the same releases: by
  -- its spans, false for an unknown one)
  local per = members.splits or made(members, "splits")
  local ts = t and t[1] or false
  local split = per[ts]
  if not split then
    split = { live = {}, unknown = {} }
    local prefix = true -- (the unknown ones all come before the live ones)
    for _, m in ipairs(members) do
      local i = m.i
      local known
      if type(ts) == "number" then known = i >= ts else known = ts and in_spans(ts, i) end
      if known then
        split.live[#split.live + 1] = i
      else
        split.unknown[i] = true
        if #split.live > 0 then prefix = false end
      end
    end
    if prefix then split.first_live = split.live[1] or math.huge end
    per[ts] = split
  end
  local live = split.live
  if live[1] == nil then
    F = { members = members, hits = NO_HITS, loading = spec.loading, type_unknown = split.unknown,
          first_live = split.first_live }
    fams[spec] = F
    return F
  end
  local cname = t[2]
  local hc = h.classes[cname]
  local fields = hc.fields
  local plan = plan_of(A, cname, hc, d)
  -- kwargs: a key the release's class does not know is a TypeError (naming the first such key in the
  -- file's order: found when the text is made, see render["unexpected-keyword"])
  local kw_desc, kw_newest, kw_refused
  if spec.loading == "kwargs" then
    kw_desc = kwargs_refusal[cname]
    if not kw_desc then
      kw_desc = { rule = "unexpected-keyword", cname = cname }
      kwargs_refusal[cname] = kw_desc
    end
    local fv = file_view_of(A, cname)
    local newest, complex = fv.newest, fv.complex
    if newest == math.huge then complex = false end -- (every release refuses it)
    kw_newest = newest
    local still
    if complex then
      kw_refused = {}
      still = {}
      for n = 1, #live do
        local i = live[n]
        local unknown = i < newest
        if not unknown then
          for k in next, d do
            if not in_spans(fields[k], i) then
              unknown = true
              break
            end
          end
        end
        if unknown then kw_refused[i] = true else still[#still + 1] = i end
      end
    else
      -- the releases left: the same list for every adapter whose newest key is the same
      local per_live = kw_live_cache[live] or made(kw_live_cache, live)
      still = per_live[newest]
      if not still then
        still = {}
        for n = 1, #live do
          if live[n] >= newest then still[#still + 1] = live[n] end
        end
        per_live[newest] = still
      end
    end
    live = still
  end
  -- what decides the verdict of a release the checks leave alone: one below the largest since of a
  -- setting away from its default loses it (simple_min); the rest is found per release (slow)
  local max = plan.simple_min
  if not max then
    local slow = false
    max = 0
    local nondefault = plan.nondefault
    local simple = simple_spans(cname)
    for n = 1, #nondefault do
      local sp = simple[nondefault[n]]
      if sp then
        if sp > max then max = sp end
      else
        slow = true
      end
    end
    plan.simple_min, plan.slow = max, slow or plan.defaults[1] ~= nil
  end
  local loading = spec.loading
  F = { members = members, hits = NO_HITS, loading = loading, cname = cname, plan = plan,
        type_unknown = split.unknown, first_live = split.first_live, kw_desc = kw_desc, kw_newest = kw_newest,
        kw_refused = kw_refused, simple_min = max,
        slow = plan.slow or (loading == "setattr" and plan_setattr(A, plan)[1] ~= nil) }
  fams[spec] = F
  if live[1] ~= nil then evaluate_shape(A, spec, F, live, cname, hc, fields) end
  return F
end

-- the refusal of release i by family F (nil when it does not refuse it): the method unknown there, then
-- a key unknown there (kwargs), then the first of the release's own checks that refuses it
local function refused_at(F, i)
  local tu = F.type_unknown
  if tu and tu[i] then return UNKNOWN_TYPE end
  local desc = F.kw_desc
  if desc and (i < F.kw_newest or (F.kw_refused and F.kw_refused[i])) then return desc end
  local rr = F.rule_refused
  return rr and rr[i] or nil
end

-- The file as the release's checks see it (the same in every release of a family for the keys the file
-- gives): the file's values, read in place, and for the keys it lacks this runtime's defaults. Once per
-- adapter: { view, absent, keys, newest, complex, read_otherwise }, the view's metatable too (one table
-- fewer), which records the keys read that the file lacks (absent: whether a check read one since it was
-- reset; keys: which, made when first needed).
--   In the same pass over the file's keys: the keys of this runtime's fields (not metadata) whose value it
-- reads otherwise (read_otherwise, for releases that set attributes; nil when none); the newest of the
-- releases that first have them (kwargs releases below it refuse the file; math.huge when a key is in no
-- release), and whether one of them was removed in some release (complex), for the file's class cname (the
-- same for every family).
function file_view_of(A, cname)
  local fv = rawget(A, "file_view")
  if fv then return fv end
  local d = A.dict
  local head = A.head
  local head_defaults, values = head.defaults, head.values
  local view = {}
  local keys = key_info(A.cls and info_of(A.cls), cname)
  local newest, complex = 0, false
  local read_otherwise
  for k, v in next, d do
    local c = keys[k]
    if c == nil then
      newest = NOWHERE
    else
      local since = c >> 1
      if since == 0 then
        complex = true
      elseif since > newest then
        newest = since
      end
      if c & 1 == 1 and v ~= null then
        local hv = values[k]
        if v ~= hv and (type(v) ~= "table" or not same(v, hv)) then
          read_otherwise = read_otherwise or {}
          read_otherwise[#read_otherwise + 1] = k
        end
      end
    end
  end
  if newest == NOWHERE then newest = math.huge end
  -- (a key every release reads as this runtime's default when the file lacks it is not recorded: the
  -- view is right for every release there)
  local alike = always_alike(cname, head_defaults)
  fv = { __index = nil, view = view, absent = false, keys = nil, newest = newest, complex = complex,
         read_otherwise = read_otherwise }
  fv.__index = function(_, k)
    local v = d[k]
    if v ~= nil then
      if v == null then return nil end
      return v
    end
    v = head_defaults[k]
    if not alike[k] then
      local keys = fv.keys
      if not fv.absent then
        fv.absent = true
        if keys then
          for j = #keys, 1, -1 do keys[j] = nil end
        else
          keys = {}
          fv.keys = keys
        end
      end
      keys[#keys + 1] = k
    end
    if v == null then return nil end
    return v
  end
  setmetatable(view, fv)
  A.file_view = fv
  return fv
end

-- for a key the file lacks: the releases of the family where it takes this runtime's default (over every
-- release of the family: the answer depends on the class alone)
local function alike_set(cache, k, hd, hc, cname, fields, members)
  local set = cache[k]
  if set then return set end
  set = {}
  local changes = hc.defaults and hc.defaults[k]
  local s = fields[k]
  for _, m in ipairs(members) do
    local i = m.i
    local known
    if type(s) == "number" then known = i >= s else known = in_spans(s, i) end
    if changes then
      local v
      if known then v = release_default(cname, k, i, hd) end
      if same(v, hd) then set[i] = true end
    elseif known or hd == nil or hd == null then
      set[i] = true
    end
  end
  cache[k] = set
  return set
end

local function hit_reason(rule, view, A, i, hit)
  local msg = rule.error
  if type(msg) == "function" then msg = msg(view, A, i) end
  if type(hit) == "string" then msg = hit end
  local fix = rule.fix
  if type(fix) == "function" then fix = fix(view, A, i) end
  local r = reason(rule.id, msg, fix)
  if rule.verdict == "changed" then r.setting = rule.setting end
  return r
end

-- records a rule's hit over the releases of set; returns whether it refuses them
local function record(F, rule, set, r)
  local verdict = rule.verdict
  if verdict == "note" or verdict == "changed" then
    local hits = F.hits
    if hits == NO_HITS then
      hits = {}
      F.hits = hits
    end
    hits[#hits + 1] = { verdict = verdict, reason = r, set = set }
    if verdict == "changed" then F.changed_hits = true end
    return false
  end
  local refused = F.rule_refused or made(F, "rule_refused")
  local x = { rule = rule.id, reason = r }
  for i in pairs(set) do
    if not refused[i] then refused[i] = x end
  end
  return true
end

local function set_of(list)
  local set = {}
  for n = 1, #list do set[list[n]] = true end
  return set
end

-- the part of family_eval that depends on the adapter's shape (see there)
function evaluate_shape(A, spec, F, live, cname, hc, fields)
  -- (live: the releases that have the method, and with kwargs know every key; see family_eval)
  -- the release's own checks (__post_init__ sees the loaded values from 0.6.0 on). A rule that reads only
  -- keys the file gives sees the same values in every release: it runs once for all of them; else once
  -- per epoch.
  if spec.loading == "setattr" then return end
  local rules = release_rules(spec, cname)
  local nrules = #rules
  if nrules == 0 then return end
  local fv = file_view_of(A, cname)
  local file_view, flag = fv.view, fv -- (fv records the keys a check read that the file lacks)
  local ep, views, cache
  local any_refused = false
  local head_defaults = A.head.defaults
  -- the rules whose range meets live, each with the releases of live in its range: { rule, range, ... }
  -- (the same for every adapter with these releases live)
  local per_live = steps_cache[live] or made(steps_cache, live, true)
  local steps = per_live[rules]
  if not steps then
    steps = {}
    local lo, hi = live[1], live[#live]
    for rn = 1, nrules do
      local rule = rules[rn]
      local since_i, until_i = rule.since_i, rule.until_i
      local range
      if since_i <= lo and until_i > hi then
        range = live
      elseif since_i <= hi and until_i > lo then
        range = {}
        for n = 1, #live do
          local i = live[n]
          if i >= since_i and i < until_i then range[#range + 1] = i end
        end
      end
      if range and #range > 0 then
        steps[#steps + 1] = rule
        steps[#steps + 1] = range
      end
    end
    per_live[rules] = steps
  end
  for sn = 1, #steps, 2 do
    local rule, in_range = steps[sn], steps[sn + 1]
    local per_release = rule.per_release
    local quick = not any_refused and not per_release
    local once_hit
    if quick then
      -- (most rules: run once on the file, they find nothing and read only keys it gives)
      flag.absent = false
      once_hit = rule.when(file_view, A, in_range[1])
      if not once_hit and not flag.absent then goto next_rule end
    end
    if any_refused then
      -- (those a check refused are left out)
      local refused, all = F.rule_refused, in_range
      in_range = {}
      for n = 1, #all do
        local i = all[n]
        if not refused[i] then in_range[#in_range + 1] = i end
      end
    end
    if #in_range > 0 then
      local since_i = rule.since_i
      if not per_release and not quick then
        flag.absent = false
        once_hit = rule.when(file_view, A, in_range[1])
      end
      if not per_release and flag.absent then
        -- it read keys the file lacks: the releases where each of them takes this runtime's default see
        -- what the file view saw
        if not cache then
          local per_family = alike_cache[F.members] or made(alike_cache, F.members, true)
          local per_defaults = per_family[head_defaults] or made(per_family, head_defaults)
          cache = per_defaults[cname]
          if not cache then
            cache = { sets = {}, splits = setmetatable({}, { __mode = "k" }) }
            per_defaults[cname] = cache
          end
        end
        -- the split of the releases in range by those keys (the same for every adapter that reads them)
        local keys = flag.keys
        local key = #keys == 1 and keys[1] or table.concat(keys, "\0")
        local by_key = cache.splits[in_range] or made(cache.splits, in_range)
        local split = by_key[key]
        if not split then
          local same_list, rest_list = {}, {}
          local sets = {}
          for j = 1, #keys do
            local k = keys[j]
            sets[j] = alike_set(cache.sets, k, head_defaults[k], hc, cname, fields, F.members)
          end
          local nsets = #sets
          for n = 1, #in_range do
            local i = in_range[n]
            local alike = true
            for j = 1, nsets do
              if not sets[j][i] then alike = false break end
            end
            if alike then same_list[#same_list + 1] = i else rest_list[#rest_list + 1] = i end
          end
          split = { same_list, rest_list }
          by_key[key] = split
        end
        local same_set, rest = split[1], split[2]
        if once_hit and #same_set > 0 then
          if record(F, rule, set_of(same_set), hit_reason(rule, file_view, A, same_set[1], once_hit)) then
            any_refused = true
          end
        end
        in_range = rest
      end
      if not per_release and not flag.absent then
        if once_hit then
          if record(F, rule, set_of(in_range), hit_reason(rule, file_view, A, in_range[1], once_hit)) then
            any_refused = true
          end
        end
      elseif #in_range > 0 then
        ep = ep or epochs(spec, cname)
        views = views or {}
        local by_epoch, order = {}, {}
        for n = 1, #in_range do
          local i = in_range[n]
          local rep = ep[i] or i
          if rep < since_i then rep = i end
          local g = by_epoch[rep]
          if not g then
            g = { set = {} }
            by_epoch[rep] = g
            order[#order + 1] = g
            local view = views[i]
            if not view then
              view = release_view(A, cname, i)
              views[i] = view
            end
            g.view, g.i = view, i
            g.hit = rule.when(view, A, i)
          end
          g.set[i] = true
        end
        for n = 1, #order do
          local g = order[n]
          if g.hit and record(F, rule, g.set, hit_reason(rule, g.view, A, g.i, g.hit)) then any_refused = true end
        end
      end
    end
    ::next_rule::
  end
end

-- The settings release i of family F loses: a list of { key, rule, release_value }, in field order
-- (cached per release), or false.
local function lost_settings(A, F, i)
  local cache = F.lost or made(F, "lost")
  local l = cache[i]
  if l ~= nil then return l end
  local plan, cname = F.plan, F.cname
  local fields = H().classes[cname].fields
  local head, d = A.head, A.dict
  local keys, what
  local nondefault = plan.nondefault
  local simple = simple_spans(cname)
  for n = 1, #nondefault do
    local k = nondefault[n]
    local s = simple[k]
    local known
    if s then known = i >= s else known = in_spans(fields[k], i) end
    if not known then
      if not keys then keys, what = {}, {} end
      keys[#keys + 1] = k
      what[k] = "dropped-setting"
    end
  end
  local defaults = plan.defaults
  for n = 1, #defaults do
    local k = defaults[n]
    if not (what and what[k]) and in_spans(fields[k], i) then
      local rv = release_default(cname, k, i, head.defaults[k])
      if rv == null then rv = nil end
      if F.loading ~= "setattr" and same(rv, head.defaults[k]) then rv = head.values[k] end
      if not same(rv, head.values[k]) then
        if not keys then keys, what = {}, {} end
        keys[#keys + 1] = k
        what[k] = { "default-changed", rv }
      end
    end
  end
  if F.loading == "setattr" then
    local setattr = plan_setattr(A, plan)
    for n = 1, #setattr do
      local k = setattr[n]
      if not (what and what[k]) and in_spans(fields[k], i) then
        local given = d[k]
        local rv = given
        if rv == nil then rv = release_default(cname, k, i, head.defaults[k]) end
        if rv == null then rv = nil end
        if not same(rv, head.values[k]) then
          if not keys then keys, what = {}, {} end
          keys[#keys + 1] = k
          what[k] = { given == nil and "default-changed" or "read-differently", rv }
        end
      end
    end
  end
  if not keys then
    cache[i] = false
    return false
  end
  if #keys > 1 then
    local order = plan.order
    table.sort(keys, function(a, b) return order[a] < order[b] end)
  end
  keys.what = what
  cache[i] = keys
  return keys
end

-- The verdicts of every release of family F, and the keys that group releases into runs, in one pass
-- with no table per release: F.verdicts[i], F.keys[i].
local family_id = setmetatable({}, { __mode = "k" })
local next_family_id = 0
-- the verdict of release i: no text, and lost_settings only where nothing else decided
function verdict_at(A, F, i)
  if F.early or refused_at(F, i) then return "refused" end
  if i < F.simple_min then return "changed" end
  local hits = F.hits
  for n = 1, #hits do
    local h = hits[n]
    if h.verdict == "changed" and h.set[i] then return "changed" end
  end
  if F.slow and lost_settings(A, F, i) then return "changed" end
  return "ok"
end

local function fid_of(spec)
  local fid = family_id[spec]
  if not fid then
    next_family_id = next_family_id + 1
    fid = tostring(next_family_id)
    family_id[spec] = fid
  end
  return fid
end

local function family_keys(A, F, spec)
  if F.keys then return end
  local verdicts, keys = {}, {}
  F.verdicts, F.keys = verdicts, keys
  local fid = fid_of(spec)
  if F.early then
    for _, m in ipairs(F.members) do
      verdicts[m.i], keys[m.i] = "refused", "refused|" .. F.early
    end
    return
  end
  local plan = F.plan
  local simple, complex = {}, {}
  local fields = F.cname and H().classes[F.cname].fields
  if plan then
    for _, k in ipairs(plan.nondefault) do
      local sp = fields[k]
      if type(sp) == "number" then simple[#simple + 1] = sp else complex[#complex + 1] = k end
    end
  end
  -- what the count of simple keys does not tell: removed fields, defaults that changed, values read
  -- differently with setattr (the rules of lost_settings, for the releases they touch)
  local extra = {}
  if plan then
    local cname, head, d = F.cname, A.head, A.dict
    local added = {}
    local function add(i, k)
      local a = added[i] or made(added, i)
      if not a[k] then
        a[k] = true
        extra[i] = (extra[i] or "") .. k .. ";"
      end
    end
    for _, k in ipairs(complex) do
      for _, m in ipairs(F.members) do
        if not in_spans(fields[k], m.i) then add(m.i, k) end
      end
    end
    for _, k in ipairs(plan.defaults) do
      for _, m in ipairs(F.members) do
        local i = m.i
        if in_spans(fields[k], i) then
          local rv = release_default(cname, k, i, head.defaults[k])
          if rv == null then rv = nil end
          if F.loading ~= "setattr" and same(rv, head.defaults[k]) then rv = head.values[k] end
          if not same(rv, head.values[k]) then add(i, k) end
        end
      end
    end
    if F.loading == "setattr" then
      for _, k in ipairs(plan_setattr(A, plan)) do
        for _, m in ipairs(F.members) do
          local i = m.i
          if in_spans(fields[k], i) then
            local rv = d[k]
            if rv == nil then rv = release_default(cname, k, i, head.defaults[k]) end
            if rv == null then rv = nil end
            if not same(rv, head.values[k]) then add(i, k) end
          end
        end
      end
    end
  end
  for _, m in ipairs(F.members) do
    local i = m.i
    local x = refused_at(F, i)
    if x then
      verdicts[i] = "refused"
      keys[i] = "refused|" .. x.rule .. ":" .. (x.reason and x.reason.message or "")
    else
      local sig
      for _, h in ipairs(F.hits) do
        if h.verdict == "changed" and h.set[i] then
          sig = (sig or "") .. h.reason.rule .. ":" .. tostring(h.reason.setting) .. ";"
        end
      end
      local n = 0
      for j = 1, #simple do
        if simple[j] > i then n = n + 1 end
      end
      if n > 0 then sig = (sig or "") .. "#" .. n end
      if extra[i] then sig = (sig or "") .. "+" .. extra[i] end
      if sig then
        verdicts[i], keys[i] = "changed", "changed|" .. fid .. "|" .. sig
      else
        verdicts[i], keys[i] = "ok", "ok"
      end
    end
  end
end

-- the verdict of release i (no result made) and the reasons' key by which runs of releases are grouped
local function family_verdict(A, F, i, with_key)
  if F.early then return "refused", with_key and ("refused|" .. F.early) end
  local x = refused_at(F, i)
  if x then
    return "refused", with_key and ("refused|" .. x.rule .. ":" .. (x.reason and x.reason.message or ""))
  end
  local changed = false
  local parts = with_key and {}
  for _, h in ipairs(F.hits) do
    if h.verdict == "changed" and h.set[i] then
      changed = true
      if parts then parts[#parts + 1] = h.reason.rule .. ":" .. tostring(h.reason.setting) end
    end
  end
  local l = lost_settings(A, F, i)
  if l then
    changed = true
    if parts then
      for _, k in ipairs(l) do parts[#parts + 1] = k end
    end
  end
  if not changed then return "ok", "ok" end
  return "changed", parts and ("changed|" .. table.concat(parts, ";"))
end

-- per entry: its result when it loads the adapter unchanged with nothing to note (the same for every adapter)
local ok_results = setmetatable({}, { __mode = "k" })

local function materialize(A, F, e, i)
  local version = e.version
  if F.early then
    return { target = e.name, kind = "peft", version = version, verdict = "refused", index = i, notes = nil,
             reasons = arr { setmetatable({ rule = F.early, A = A, i = i, version = version }, lazy_reason_mt) } }
  end
  local hits = F.hits
  local nh = #hits
  local notes
  for n = 1, nh do
    local h = hits[n]
    if h.verdict == "note" and h.set[i] then
      notes = notes or arr()
      notes[#notes + 1] = h.reason
    end
  end
  local x = refused_at(F, i)
  if x then
    return { target = e.name, kind = "peft", version = version, verdict = "refused", index = i, notes = notes,
             reasons = arr { x.reason or setmetatable({ rule = x.rule, key = x.key, cname = x.cname, A = A, i = i,
                                                        version = version }, lazy_reason_mt) } }
  end
  local reasons, noted
  for n = 1, nh do
    local h = hits[n]
    if h.verdict == "changed" and h.set[i] then
      reasons = reasons or arr()
      reasons[#reasons + 1] = h.reason
      local setting = h.reason.setting
      if setting then
        noted = noted or {}
        noted[setting] = true
      end
    end
  end
  -- (no setting is lost where verdict_at finds none without looking)
  local l = (F.slow or i < F.simple_min) and lost_settings(A, F, i)
  if l then
    local what, cname = l.what, F.cname
    for n = 1, #l do
      local k = l[n]
      if not (noted and noted[k]) then
        local w = what[k]
        local rule_id, rv = w, nil
        if type(w) == "table" then rule_id, rv = w[1], w[2] end
        reasons = reasons or arr()
        reasons[#reasons + 1] = setmetatable({ rule = rule_id, setting = k, cname = cname, release_value = rv, A = A,
                                               i = i, version = version }, lazy_reason_mt)
      end
    end
  end
  if reasons or notes then
    return { target = e.name, kind = "peft", version = version, verdict = reasons and "changed" or "ok", index = i,
             notes = notes, reasons = reasons or arr() }
  end
  local res = ok_results[e]
  if not res then
    res = { target = e.name, kind = "peft", version = version, verdict = "ok", reasons = arr(), index = i, notes = nil }
    ok_results[e] = res
  end
  return res
end

--- evaluate_release(A, entry) -> { target, version, verdict, reasons [, notes] }
function evaluate_release(A, e)
  local results = A.results
  local res = results[e]
  if res then return res end
  local F = family_eval(A, e.spec)
  res = materialize(A, F, e, registry.index_of(e))
  results[e] = res
  return res
end

--- release_verdict(A, entry [, with_key]) -> the verdict of a release (no result made), and with_key the
-- key that groups releases into runs
function M.release_verdict(A, e, with_key)
  local F = family_eval(A, e.spec)
  if not with_key then return verdict_at(A, F, e.index or registry.index_of(e)) end
  if e.spec.based_on == nil then
    family_keys(A, F, e.spec)
    local i = registry.index_of(e)
    return F.verdicts[i], F.keys[i]
  end
  return family_verdict(A, F, registry.index_of(e), with_key)
end

M.evaluate_release = evaluate_release

-- engines ------------------------------------------------------------------------------------------

local function fill(s, vars)
  if not s:find("{", 1, true) then return s end
  return (s:gsub("{([%w_]+)}", function(k)
    local x = vars[k]
    if x == nil then return "{" .. k .. "}" end
    if type(x) == "number" then return math.tointeger(x) and tostring(math.tointeger(x)) or num(x) end
    return tostring(x)
  end))
end
M.fill = fill

-- A text with {name} places, split once (by the pattern fill uses): { text, name, text, ..., text }.
local function template(s)
  local parts = {}
  local i, at = 1, 1
  while true do
    -- (each '{' found by a plain search, the pattern tried there: unanchored, it would be tried at every byte)
    local a = find(s, "{", at, true)
    if not a then break end
    local _, b, name = find(s, "^{([%w_]+)}", a)
    if b then
      parts[#parts + 1] = s:sub(i, a - 1)
      parts[#parts + 1] = name
      i = b + 1
      at = i
    else
      at = a + 1
    end
  end
  parts[#parts + 1] = s:sub(i)
  return parts
end

local function shown_var(k, x)
  if x == nil then return "{" .. k .. "}" end
  if type(x) == "number" then
    local ix = math.tointeger(x)
    return ix and tostring(ix) or num(x)
  end
  return tostring(x)
end

-- expand(parts, get, ...) -> the text of a template, each {name} replaced as fill does by get(name, ...)
local function expand(parts, get, a, b, c, d)
  local n = #parts
  if n == 1 then return parts[1] end
  if n == 3 then
    local k = parts[2]
    return parts[1] .. shown_var(k, get(k, a, b, c, d)) .. parts[3]
  end
  local out = { parts[1] }
  for j = 2, n, 2 do
    local k = parts[j]
    out[j] = shown_var(k, get(k, a, b, c, d))
    out[j + 1] = parts[j + 1]
  end
  return table.concat(out)
end

-- getters for expand: a table's value; an engine rule's value (its knobs, then {title}, then {what} (the
-- text its test returned), then the facts)
local function from_table(k, t) return t[k] end
local NO_KNOBS = {}
local function from_facts(k, knobs, title, what, f)
  local x = knobs[k]
  if x ~= nil then return x end
  if k == "title" then return title end
  if k == "what" and what ~= nil then return what end
  return f[k]
end

-- the knobs of an engine: its defaults, then the ones given (checked against the allowed values)
local function engine_knobs(e, given)
  local knobs = {}
  local spec = e.spec
  for k, knob in pairs(spec.knobs or {}) do knobs[k] = knob.default end
  for k, v in pairs(given or {}) do
    local knob = (spec.knobs or {})[k]
    if not knob then
      local names = {}
      for n in pairs(spec.knobs or {}) do names[#names + 1] = n end
      table.sort(names)
      errors.raise("ValueError", string.format("%s has no option '%s'%s%s", e.title, k, config.suggest(k, names),
        #names > 0 and ("; its options: " .. table.concat(names, ", ")) or " (it takes none)"))
    end
    if knob.type == "integer" or type(knob.default) == "number" then
      local n = math.tointeger(tonumber(v))
      if not n then errors.raise("ValueError", string.format("%s option %s expects an integer, got %s", e.title, k,
        tostring(v))) end
      v = n
    end
    if knob.values then
      local okv = false
      for _, a in ipairs(knob.values) do
        if a == v then okv = true end
      end
      if not okv then
        local parts = {}
        for i, a in ipairs(knob.values) do parts[i] = tostring(a) end
        errors.raise("ValueError", string.format("%s option %s must be one of %s, got %s", e.title, k,
          table.concat(parts, ", "), tostring(v)))
      end
    end
    knobs[k] = v
  end
  return knobs
end

-- rule constructors for engine scripts ------------------------------------------------------------------
-- An engine rule is { id =, check = function(facts, ctx, A) -> nil | finding | { finding, ... } } where a
-- finding is { verdict = "refused" | "changed" | "note", message =, fix = }. ctx.knobs holds the engine's
-- options (its defaults, then the ones given), ctx.title its name, ctx.target its entry (one ctx serves
-- every adapter: the facts and the adapter view are the check's own arguments). These build the common
-- ones from data.
-- A rule may also say what its check needs, so that an adapter that lacks it costs nothing: guard = "name"
-- (a field of the facts: the check runs only when it is true, or any value but false and nil; it must find
-- nothing otherwise), and a rule.setting or rule.ignored may be a fact alone (fact = "name": it applies when
-- that field is true).
local rule = {}
M.rule = rule

local function finding(verdict, message, fix) return { verdict = verdict, message = message, fix = fix } end
M.finding = finding

-- a finding whose text is made when it is read: rule.render(fd) -> message, fix. It is its own reason.
local deferred_reason_mt = {
  __index = function(r, k)
    if k ~= "message" and k ~= "fix" then return nil end
    local msg, fix = r.deferred.render(r)
    if fix == nil then fix = null end
    r.message, r.fix = msg, fix -- (no __newindex: plain fields from now on)
    if k == "message" then return msg end
    return fix
  end,
}
local function deferred(verdict, rule_tbl, f, ctx, A, hit)
  return setmetatable({ verdict = verdict, rule = rule_tbl.id, deferred = rule_tbl, f = f, ctx = ctx, A = A,
                        hit = hit }, deferred_reason_mt)
end

--- rule.peft_type{ accept = { "LORA" }, error = "... {peft_type} ...", fix =, verdict = "refused" }
function rule.peft_type(spec)
  local accept = {}
  for _, t in ipairs(spec.accept or { "LORA" }) do accept[t] = true end
  local r = { id = spec.id or "peft-type", verdict = spec.verdict or "refused", pass_hit = false }
  function r.when(f)
    local pt = f.peft_type
    return not (pt and accept[pt])
  end
  local only_lora = accept.LORA
  for t in pairs(accept) do
    if t ~= "LORA" then only_lora = false end
  end
  if only_lora then r.fact = "not_lora" end
  function r.check(f, ctx, A)
    if not r.when(f) then return nil end
    return deferred(r.verdict, r, f, ctx, A)
  end
  local error_text = template(spec.error or "{title} loads only LoRA adapters, not {peft_type}")
  local fix_text = spec.fix and template(spec.fix)
  r.texts = setmetatable({}, { __mode = "k" })
  function r.text_key(f) return f.peft_type or "(none)" end
  function r.render(fd)
    local vars = { peft_type = fd.f.peft_type or "(none)", title = fd.ctx.title }
    return expand(error_text, from_table, vars),
      fix_text and expand(fix_text, from_table, vars)
        or "merge the adapter into the base model and serve the merged model"
  end
  return r
end

-- a test that is a field of the facts (fact = "dora": the rule applies when facts.dora is true, or any value
-- but false and nil): the evaluation reads the field, with no call
local function fact_test(fact)
  if type(fact) ~= "string" then
    errors.raise("TypeError", "a rule's fact is the name of a field of the facts, got " .. type(fact))
  end
  return function(f) return f[fact] end
end

--- rule.setting{ id =, when = function(f, ctx, A) -> bool | text (or fact = "name"), verdict =, error = text | fn,
-- fix = text | fn }: error and fix may use {title} and the facts' fields ({r}, {rank}, ...); a test that
-- returns text adds it as {what}.
local function guarded(when, guard)
  if guard == nil then return when end
  if type(guard) ~= "string" then
    errors.raise("TypeError", "a rule's guard is the name of a field of the facts, got " .. type(guard))
  end
  return function(f, ctx, A)
    if not f[guard] then return nil end
    return when(f, ctx, A)
  end
end

function rule.setting(spec)
  local verdict = spec.verdict or "refused"
  local when = spec.fact ~= nil and fact_test(spec.fact) or guarded(spec.when, spec.guard)
  local r = { id = spec.id, when = when, fact = spec.fact, guard = spec.guard, test = spec.when, verdict = verdict,
              pass_hit = true }
  function r.check(f, ctx, A)
    local hit = when(f, ctx, A)
    if not hit then return nil end
    return deferred(verdict, r, f, ctx, A, hit)
  end
  local plain_error = type(spec.error) == "string" and not spec.error:find("{", 1, true)
  local plain_fix = spec.fix == nil or (type(spec.fix) == "string" and not spec.fix:find("{", 1, true))
  -- (text that needs nothing: one reason for every adapter it applies to)
  if plain_error and plain_fix then
    r.reason = { verdict = verdict, rule = r.id, message = spec.error, fix = spec.fix == nil and null or spec.fix }
  end
  local error_fn = type(spec.error) == "function" and spec.error
  local error_text = not error_fn and spec.error ~= nil and template(spec.error)
  local fix_fn = type(spec.fix) == "function" and spec.fix
  local fix_text = not fix_fn and spec.fix and template(spec.fix)
  -- texts that use only {what} and {title}: made once per text the test returns (and per engine)
  if not r.reason and error_text and not fix_fn then
    local only = true
    for _, parts in ipairs { error_text, fix_text or {} } do
      for j = 2, #parts, 2 do
        if parts[j] ~= "what" and parts[j] ~= "title" then only = false end
      end
    end
    if only then
      r.texts = setmetatable({}, { __mode = "k" })
      r.text_key = function(_, hit) return type(hit) == "string" and hit or "" end
    end
  end
  function r.render(fd)
    if plain_error and plain_fix then return spec.error, spec.fix end
    local f, ctx, A, hit = fd.f, fd.ctx, fd.A, fd.hit
    local what = type(hit) == "string" and hit or nil
    local msg
    if error_fn then msg = error_fn(f, ctx, A, hit) end
    if not msg then msg = expand(error_text, from_facts, ctx.knobs, ctx.title, what, f) end
    local fix
    if fix_fn then fix = fix_fn(f, ctx, A, hit) elseif fix_text then
      fix = expand(fix_text, from_facts, ctx.knobs, ctx.title, what, f)
    end
    return msg, fix
  end
  return r
end

--- rule.rank{ knob = "max_lora_rank", values = { ... } (the allowed knob values), error =, fix = }:
-- refuses a rank above the knob ({r}: the adapter's largest rank, {max}: the knob, {next}: the smallest
-- allowed value that fits, {flag}: the knob's command-line flag). Its test returns the rank, and its text
-- depends on nothing else but the engine: made once per rank and engine (see found).
function rule.rank(spec)
  local error_text = template(spec.error)
  local fix_text = template(spec.fix or "start {title} with {flag} {next}")
  local fix_none_text = template(spec.fix_none or "no {flag} value allows rank {r}: retrain at a lower rank")
  local r = { id = spec.id or "rank-limit", verdict = "refused", pass_hit = true }
  function r.when(f, ctx)
    local max = ctx.knobs[spec.knob]
    local rank = f.rank
    if type(max) ~= "number" or type(rank) ~= "number" or rank <= max then return nil end
    return rank
  end
  function r.check(f, ctx, A)
    local hit = r.when(f, ctx)
    if not hit then return nil end
    return deferred(r.verdict, r, f, ctx, A, hit)
  end
  r.texts = setmetatable({}, { __mode = "k" })
  -- (a rank that is NaN cannot be a key: its text is "nan")
  function r.text_key(_, rank) return rank == rank and rank or "nan" end
  function r.render(fd)
    local ctx, rank = fd.ctx, fd.hit
    local knob = (ctx.target.spec.knobs or {})[spec.knob] or {}
    local nxt
    for _, v in ipairs(knob.values or {}) do
      if v >= rank and (not nxt or v < nxt) then nxt = v end
    end
    if not knob.values then nxt = rank end
    local vars = { r = rank, max = ctx.knobs[spec.knob], next = nxt, flag = knob.flag or spec.knob,
                   title = ctx.title }
    return expand(error_text, from_table, vars), expand(nxt and fix_text or fix_none_text, from_table, vars)
  end
  return r
end

--- rule.tensors{ allow = { "lora_A.weight", ... }, error = "{name} ...", fix = }: every tensor of the
-- weights must end in an allowed layer name (the adapter name removed, as PEFT saves)
function rule.tensors(spec)
  local allow = spec.allow
  return { id = spec.id or "tensor-names", guard = "weights_kind", check = function(_, ctx, A)
    local w = A.weights
    if not w or w.kind ~= "safetensors" then return nil end
    local bad = {}
    for _, name in ipairs(w.names) do
      local okn = false
      for _, suffix in ipairs(allow) do
        if name:sub(-#suffix - 1) == "." .. suffix then okn = true break end
      end
      if not okn then bad[#bad + 1] = name end
    end
    if #bad == 0 then return nil end
    local vars = { name = bad[1], count = #bad, title = ctx.title }
    local msg = fill(spec.error, vars)
    if #bad > 1 then msg = msg .. string.format(" (and %d more tensors like it)", #bad - 1) end
    return finding(spec.verdict or "refused", msg, spec.fix and fill(spec.fix, vars)
      or "save the adapter without them, or merge it into the base model")
  end }
end

--- rule.scale(formula): what scale the engine applies; "alpha/r" ignores use_rslora (a change)
function rule.scale(formula)
  return { id = "scale", guard = "use_rslora", check = function(f)
    if formula ~= "alpha/r" or not f.use_rslora then return nil end
    local r, a = f.r, f.alpha
    local msg, fix = "use_rslora ignored: the scale is lora_alpha/r instead of lora_alpha/sqrt(r)", nil
    if type(r) == "number" and r > 0 and type(a) == "number" then
      msg = string.format("use_rslora ignored: scale lora_alpha/r = %s instead of lora_alpha/sqrt(r) = %s",
        num(a / r), num(a / math.sqrt(r)))
      fix = string.format("set lora_alpha to %s and use_rslora to false: lora_alpha/r then gives the same scale",
        num(a * math.sqrt(r)))
      if next(f.rank_pattern) then
        fix = fix .. " (modules with their own rank in rank_pattern need their own alpha)"
      end
    end
    return finding("changed", msg, fix)
  end }
end

--- rule.ignored{ id =, setting =, when = function(f) -> bool (or fact = "name"), effect = text }: a setting
-- read by PEFT that the engine does not read (a change)
function rule.ignored(spec)
  local when = spec.fact ~= nil and fact_test(spec.fact) or guarded(spec.when, spec.guard)
  local r = { id = spec.id or (spec.setting .. "-ignored"), when = when, fact = spec.fact, guard = spec.guard,
              test = spec.when, verdict = spec.verdict or "changed", pass_hit = false }
  function r.check(f, ctx, A)
    if not when(f, ctx, A) then return nil end
    return deferred(r.verdict, r, f, ctx, A)
  end
  local message_text = template(spec.setting .. " ignored: " .. spec.effect)
  local fix_text = spec.fix and template(spec.fix)
  if #message_text == 1 and (not fix_text or #fix_text == 1) then
    r.reason = { verdict = r.verdict, rule = r.id, message = message_text[1], fix = fix_text and fix_text[1] or null }
  end
  function r.render(fd)
    local title, f = fd.ctx.title, fd.f
    return expand(message_text, from_facts, NO_KNOBS, title, nil, f),
      fix_text and expand(fix_text, from_facts, NO_KNOBS, title, nil, f) or null
  end
  return r
end

--- rule.weights_format{ allow = { safetensors = true, bin = false }, error =, fix = }
function rule.weights_format(spec)
  return { id = spec.id or "weights-format", guard = "weights_kind", check = function(f, ctx)
    local kind = f.weights_kind
    if not kind or spec.allow[kind] then return nil end
    local vars = { kind = kind, title = ctx.title }
    return finding("refused", fill(spec.error, vars), spec.fix and fill(spec.fix, vars)
      or "convert adapter_model.bin to adapter_model.safetensors")
  end }
end

-- facts every engine script may test ------------------------------------------------------------------

--- init_changes_base(f) -> the init name when the adapter was trained against modified base weights
-- (PiSSA, OLoRA, CorDA, LoftQ, LoRA-GA: an engine that ignores init_lora_weights serves it on the
-- original ones); facts.init_base holds it
M.init_changes_base = init_changes_base

--- release_reading(A, version) -> the verdict of PEFT `version` on the adapter (for engines that read the
-- config with a pinned PEFT: LoRAX with 0.4.0, TGI with 0.15.2)
function M.release_reading(A, version)
  local e = registry.get("peft " .. version)
  if not e then return nil end
  return evaluate_release(A, e)
end

--- rule.pinned_peft{ version =, title = }: the settings the engine's pinned PEFT drops or reads differently
function rule.pinned_peft(spec)
  local rl = { id = spec.id or "pinned-peft" }
  local name = "peft " .. spec.version
  function rl.check(_, ctx, A)
    local e = registry.get(name)
    if not e or M.release_verdict(A, e) == "ok" then return nil end
    local r = evaluate_release(A, e)
    local out = {}
    for _, x in ipairs(r.reasons) do
      if r.verdict == "refused" or rawget(x, "setting") then
        local verdict = r.verdict == "refused" and (spec.refused or "changed") or "changed"
        out[#out + 1] = deferred(verdict, rl, nil, ctx, A, x)
      end
    end
    return out
  end
  local pattern = "PEFT " .. spec.version:gsub("%.", "%%.") .. " has"
  local replacement = {}
  function rl.render(fd)
    local x = fd.hit
    if x.setting then
      local title = fd.ctx.title
      local repl = replacement[title]
      if not repl then
        repl = title .. "'s PEFT " .. spec.version .. " has"
        replacement[title] = repl
      end
      local msg = x.message:gsub(pattern, repl)
      return msg, spec.fix or null
    end
    return string.format("%s reads the config with PEFT %s, which refuses it: %s", fd.ctx.title, spec.version,
      x.message), x.fix
  end
  return rl
end

M.HEADS = { score = true, classifier = true, ["classifier.out_proj"] = true, ["classifier.dense"] = true }

local function refuse(res, r)
  res.verdict = "refused"
  res.reasons = arr { r }
  return res
end

local knob_defaults = setmetatable({}, { __mode = "k" })

-- adds a finding (or reason) r to an engine's result: a refusal replaces the changes found so far (only
-- what stops the load is listed first; the changes go to also), notes go apart
local function add_finding(res, r, rr)
  local v = r.verdict
  if v == "refused" then
    if res.verdict ~= "refused" then
      res.verdict = "refused"
      local keep = res.reasons
      res.reasons = setmetatable({ rr }, array_mt)
      res.also = keep
    else
      local reasons = res.reasons
      reasons[#reasons + 1] = rr
    end
  elseif v == "changed" then
    if res.verdict == "ok" then res.verdict = "changed" end
    if res.verdict == "refused" then
      local also = res.also
      if not also then
        also = setmetatable({}, array_mt)
        res.also = also
      end
      also[#also + 1] = rr
    else
      local reasons = res.reasons
      reasons[#reasons + 1] = rr
    end
  elseif v == "note" then
    local notes = res.notes
    if not notes then
      notes = setmetatable({}, array_mt)
      res.notes = notes
    end
    notes[#notes + 1] = rr
  end
end

-- an engine's result, made when its rules find something (ctx: the evaluation's)
local function new_result(ctx)
  local e = ctx.target
  return { target = e.name, kind = "engine", title = e.title, verdict = "ok", reasons = setmetatable({}, array_mt),
           knobs = ctx.knobs, also = nil, notes = nil }
end

-- Results shared by adapters: an engine's result with its own options whose findings are all reasons shared
-- by adapters (their text the same for every adapter they apply to) depends on those reasons alone, so it is
-- made once per list of them: ctx.singles holds those of one finding (reason -> result), ctx.shared each one's
-- extensions by one more shared reason (result -> reason -> result). (Kept as long as the engine's state: a
-- weak table would be traversed again and again, its results leading to its other keys.) A shared result is
-- copied before a finding of an adapter's own is added to it.
local function own_result(res, ctx)
  local shared = ctx.shared
  if not (shared and shared[res]) then return res end
  local function copy(list) return list and setmetatable({ table.unpack(list) }, array_mt) end
  return { target = res.target, kind = res.kind, title = res.title, verdict = res.verdict, reasons = copy(res.reasons),
           knobs = res.knobs, also = copy(res.also), notes = copy(res.notes) }
end

-- res (nil: no finding yet) with the finding d added, d its own reason (shared: the same for every adapter it
-- applies to); returns the result
local function with_reason(res, d, ctx, shared)
  local ext
  if shared then
    if res then
      local by_result = ctx.shared
      ext = by_result and by_result[res]
    else
      ext = ctx.singles
    end
    if ext then
      local kept = ext[d]
      if kept then return kept end
    end
  end
  if res then
    res = own_result(res, ctx)
    add_finding(res, d, d)
  else
    local e = ctx.target
    local v = d.verdict
    res = { target = e.name, kind = "engine", title = e.title, verdict = "ok", reasons = nil, knobs = ctx.knobs }
    if v == "refused" or v == "changed" then
      res.verdict, res.reasons = v, setmetatable({ d }, array_mt)
    else
      res.reasons = setmetatable({}, array_mt)
      add_finding(res, d, d)
    end
  end
  if ext then
    ext[d] = res
    ctx.shared[res] = {}
  end
  return res
end

-- a test that hit (rules with when or fact): one finding whose text is made when it is read; returns the
-- result (made now if it is the first finding)
local function found(res, rl, f, ctx, A, hit)
  -- (text that needs nothing: the rule's own reason, the same for every adapter)
  local d = rl.reason
  local shared = true
  if d == nil then
    if not rl.pass_hit then hit = nil end
    if rl.text_key then
      -- (text that depends on one value and the engine: the reason made once per value)
      local per = rl.texts[ctx] or made(rl.texts, ctx)
      local key = rl.text_key(f, hit)
      d = per[key]
      if not d then
        local msg, fix = rl.render({ f = f, ctx = ctx, A = A, hit = hit })
        d = { verdict = rl.verdict, rule = rl.id, message = msg, fix = fix == nil and null or fix }
        per[key] = d
      end
    else
      d = setmetatable({ verdict = rl.verdict, rule = rl.id, deferred = rl, f = f, ctx = ctx, A = A, hit = hit },
        deferred_reason_mt)
      shared = false
    end
  end
  return with_reason(res, d, ctx, shared)
end

-- what a check returned (a finding or a list of them); returns the result
local function found_out(res, rl, out, ctx)
  if out.verdict then out = { out } end
  if rl.shared_out then
    for oi = 1, #out do res = with_reason(res, out[oi], ctx, true) end
    return res
  end
  if out[1] then res = res and own_result(res, ctx) or new_result(ctx) end
  for oi = 1, #out do
    local r = out[oi]
    local rr
    if rawget(r, "deferred") then
      rr = r
    else
      rr = reason(rl.id, r.message, r.fix, r.extra)
    end
    add_finding(res, r, rr)
  end
  return res
end

-- The rules of an engine as one function run(f, ctx, A) -> its result, or nil when they find nothing, made
-- once per list of rules (the text of a function, loaded): a rule with a fact reads that field, one with a
-- test (when) calls it (after its guard, if any), any other its check, in the rules' order; no loop, and no
-- call for a fact. (A long list is run by a loop.)
local runners = setmetatable({}, { __mode = "k" })
local function runner_of(rules)
  local n = #rules
  local cached = runners[rules]
  if cached and cached.n == n then return cached.run end
  local run
  if n <= 60 then
    -- (a rule is read from R where it hit, not made a local: less text to compile)
    local head, body = { "local R, found, found_out = ...\n" }, {}
    for k = 1, n do
      local rl = rules[k]
      local guard = type(rl.guard) == "string" and rl.guard
      if type(rl.fact) == "string" then
        body[#body + 1] = string.format("  h = f[%q] if h then res = found(res, R[%d], f, ctx, A, h) end\n",
          rl.fact, k)
      elseif rl.when then
        -- (with a guard, the test without it: the guard is read here)
        head[#head + 1] = string.format("local w%d = R[%d].%s\n", k, k, guard and rl.test and "test" or "when")
        local call = string.format("h = w%d(f, ctx, A) if h then res = found(res, R[%d], f, ctx, A, h) end", k, k)
        body[#body + 1] = guard and string.format("  if f[%q] then %s end\n", guard, call) or ("  " .. call .. "\n")
      else
        head[#head + 1] = string.format("local c%d = R[%d].check\n", k, k)
        local call = string.format("h = c%d(f, ctx, A) if h then res = found_out(res, R[%d], h, ctx) end", k, k)
        body[#body + 1] = guard and string.format("  if f[%q] then %s end\n", guard, call) or ("  " .. call .. "\n")
      end
    end
    local src = table.concat(head) .. "return function(f, ctx, A)\n  local h, res\n" .. table.concat(body)
      .. "  return res\nend\n"
    run = assert(load(src, "=(peft check: an engine's rules)", "t"))(rules, found, found_out)
  else
    run = function(f, ctx, A)
      local res
      for k = 1, n do
        local rl = rules[k]
        local when = rl.when
        if when then
          local hit = when(f, ctx, A)
          if hit then res = found(res, rl, f, ctx, A, hit) end
        else
          local out = rl.check(f, ctx, A)
          if out then res = found_out(res, rl, out, ctx) end
        end
      end
      return res
    end
  end
  runners[rules] = { n = n, run = run }
  return run
end

--- evaluate_engine(A, entry [, knobs]) -> { target, verdict, reasons }
local evaluate_engine0
local function evaluate_engine(A, e, given)
  if given ~= nil then return evaluate_engine0(A, e, given) end
  local cache = A.engine_results
  local res = cache[e]
  if not res then
    res = evaluate_engine0(A, e)
    cache[e] = res
  end
  return res
end

-- per engine entry: its default options, the function that runs its rules and the list it was made from,
-- and its ok result with the default options (cached; remade when its list of rules changes)
local engine_state = setmetatable({}, { __mode = "k" })
local function state_of(e)
  local st = engine_state[e]
  local rules = rules_cache[e.spec] or spec_rules(e.spec)
  if st and st.rules == rules and st.n == #rules then return st end
  local knobs = knob_defaults[e] or engine_knobs(e)
  -- ctx: what a rule is told about the engine (the same for every adapter: the adapter and its facts are
  -- the rule's own arguments); singles, shared: the results shared by adapters (see own_result)
  st = { knobs = knobs, rules = rules, n = #rules, run = runner_of(rules), ok = nil,
         ctx = { knobs = knobs, title = e.title, target = e, singles = {}, shared = {} } }
  knob_defaults[e] = knobs
  engine_state[e] = st
  return st
end

-- nothing found: the engine's ok result, the same for every adapter (with the default options)
local function ok_result(st)
  local res = new_result(st.ctx)
  st.ok = res
  return res
end

function evaluate_engine0(A, e, given)
  local st = state_of(e)
  local knobs
  if given == nil then knobs = st.knobs else knobs = engine_knobs(e, given) end
  if A.json_error or not A.is_object then
    local res = { target = e.name, kind = "engine", title = e.title, verdict = "ok",
                  reasons = setmetatable({}, array_mt), knobs = knobs }
    if A.json_error then return refuse(res, reason("invalid-json", A.json_error, "fix the JSON text")) end
    return refuse(res, reason("not-an-object", "an adapter config must be a JSON object",
      "an adapter_config.json holds one JSON object"))
  end
  if given == nil then return st.run(A.facts, st.ctx, A) or st.ok or ok_result(st) end
  local ctx = { knobs = knobs, title = e.title, target = e }
  return st.run(A.facts, ctx, A) or new_result(ctx)
end
M.evaluate_engine = evaluate_engine

--- rule.engine{ name = "llama.cpp" }: everything another engine says about the adapter (Ollama applies
-- adapters with llama.cpp)
-- Its findings are made once per result of the other engine (and options of this one): a result shared by
-- adapters gives the same list, whose findings found_out adds as shared reasons (shared_out).
function rule.engine(spec)
  local r = { id = spec.id or spec.name, shared_out = true }
  local outs = setmetatable({}, { __mode = "k" }) -- ctx -> the other engine's result -> the findings
  function r.check(_, ctx, A)
    local e = registry.get(spec.name)
    if not e then return nil end
    local res = evaluate_engine(A, e)
    if res.verdict == "ok" then return nil end
    local per = outs[ctx] or made(outs, ctx, true)
    local out = per[res]
    if out then return out end
    out = {}
    for _, x in ipairs(res.reasons) do
      local dx = deferred(res.verdict, r, nil, ctx, nil, x)
      dx.rule = spec.name .. ":" .. x.rule
      out[#out + 1] = dx
    end
    per[res] = out
    return out
  end
  function r.render(fd) return fd.hit.message, fd.hit.fix end
  return r
end

-- targets ------------------------------------------------------------------------------------------

--- parse_target(text) -> entry, knobs  ("vllm:max_lora_rank=64,max_loras=4", "peft 0.6.2", "0.6.2")
function M.parse_target(t)
  if type(t) == "table" then
    local e = registry.get(t.name) or registry.get("peft " .. tostring(t.name))
    if not e then errors.raise("ValueError", "unknown target '" .. tostring(t.name) .. "'") end
    return e, t.knobs
  end
  if type(t) ~= "string" then errors.raise("TypeError", "a target is a name, got " .. type(t)) end
  local name, rest = t:match("^([^:]+):(.*)$")
  name = name or t
  local knobs
  if rest then
    knobs = {}
    for item in rest:gmatch("[^,]+") do
      local k, val = item:match("^%s*([%w_%-]+)%s*=%s*(.-)%s*$")
      if not k then
        errors.raise("ValueError", "bad option '" .. item .. "' in target '" .. t .. "' (NAME:option=value,...)")
      end
      knobs[k:gsub("%-", "_")] = val
    end
  end
  local e = registry.get(name) or registry.get("peft " .. name) or registry.get(name:lower())
  if not e and name:match("^v%d") then e = registry.get("peft " .. name:sub(2)) end
  if not e then
    local names = {}
    for _, x in ipairs(registry.list()) do names[#names + 1] = x.kind == "peft" and x.version or x.name end
    local hint = config.suggest(name, names)
    if name:match("^%d+%.%d+") then
      hint = " (PEFT releases: " .. names[1] .. " ... " .. (function()
        local last
        for _, x in ipairs(registry.list()) do if x.kind == "peft" then last = x.version end end
        return last
      end)() .. "; 'peft targets' lists them)"
    end
    errors.raise("ValueError", "unknown target '" .. name .. "'" .. hint)
  end
  if knobs and e.kind == "peft" then
    errors.raise("ValueError", "a PEFT release takes no options: '" .. t .. "'")
  end
  return e, knobs
end

-- the reasons of a result as --json writes them (a reason's text is made when read: message first, then the
-- fields its making may set are plain)
local function reasons_json(reasons)
  local out = arr()
  for i = 1, #reasons do
    local x = reasons[i]
    local message = x.message
    local fix = x.fix
    local rr = { rule = x.rule, message = message, fix = fix == nil and null or fix, setting = nil, keys = nil }
    local setting, keys = rawget(x, "setting"), rawget(x, "keys")
    if setting then rr.setting = setting end
    if keys then rr.keys = keys end
    out[i] = rr
  end
  return out
end

local function result_json(r)
  local out = { target = r.target, verdict = r.verdict, reasons = reasons_json(r.reasons) }
  if r.kind == "engine" then
    out.engine = r.title
    local knobs = {}
    for k, v in pairs(r.knobs or {}) do knobs[k] = v end
    out.knobs = knobs
    if r.also and #r.also > 0 then
      out.also = arr()
      for i, x in ipairs(r.also) do out.also[i] = { rule = x.rule, message = x.message, fix = x.fix or null } end
    end
  else
    out.peft_version = r.version
  end
  if r.notes then
    out.notes = arr()
    for i, x in ipairs(r.notes) do out.notes[i] = { rule = x.rule, message = x.message, fix = x.fix or null } end
  end
  return out
end

-- a run of releases from efrom to eto with this key and verdict: the last run made longer, or a new one
local function push_run(runs, cur, key, verdict, efrom, eto)
  if cur and cur.key == key then
    cur.to = eto
    return cur
  end
  cur = { key = key, from = efrom, to = eto, verdict = verdict }
  runs[#runs + 1] = cur
  return cur
end

-- the first place of group grp whose release is index t or later
local function place_at(grp, t)
  if t <= 1 then return grp.first end
  return grp.at[t] or grp.last + 1
end

-- the registered releases (not those based on another) summarised as runs of the same verdict and
-- reasons: { from, to, verdict, reasons (of the first) }; and the oldest that loads the adapter unchanged
-- runs of releases by verdict alone (what the text report shows): a family whose verdicts are refused below
-- one release, changed below another and ok from there (most) is done by those two places
local function runs_by_verdict(A)
  local runs, cur, oldest = {}, nil, nil
  local base = peft_entries().base
  local entries, index, groups = base.entries, base.index, base.groups
  local verdicts -- (those found release by release, kept for oldest_ok_from)
  for g = 1, #groups do
    local grp = groups[g]
    local F = family_eval(A, grp.spec)
    local p, last = grp.first, grp.last
    if F.early then
      cur = push_run(runs, cur, "refused", "refused", entries[p], entries[last])
    elseif F.first_live and not (F.kw_refused or F.rule_refused or F.changed_hits or F.slow) then
      -- refused below the first release that has the method (and with kwargs knows every key), changed below
      -- the newest first release of the settings it holds away from their defaults
      local t = F.first_live
      if F.kw_desc and F.kw_newest > t then t = F.kw_newest end
      local q = place_at(grp, t)
      if q > p then
        cur = push_run(runs, cur, "refused", "refused", entries[p], entries[q - 1])
        p = q
      end
      q = place_at(grp, F.simple_min or math.huge)
      if q > p then
        cur = push_run(runs, cur, "changed", "changed", entries[p], entries[q - 1])
        p = q
      end
      if p <= last then
        if not oldest then oldest = entries[p] end
        cur = push_run(runs, cur, "ok", "ok", entries[p], entries[last])
      end
    else
      verdicts = verdicts or base_verdicts(A, base)
      for m = p, last do
        local verdict = verdict_at(A, F, index[m])
        verdicts[m] = verdict
        local e = entries[m]
        if not oldest and verdict == "ok" then oldest = e end
        cur = push_run(runs, cur, verdict, verdict, e, e)
      end
    end
  end
  return runs, oldest
end

-- runs of releases by verdict and reasons (what --json shows). A family whose verdicts are refused below one
-- release and otherwise follow the settings it lacks (most) is done by its thresholds; else release by
-- release, with family_keys.
local function release_runs(A, by_verdict)
  if by_verdict then return runs_by_verdict(A) end
  local runs, cur, oldest = {}, nil, nil
  local base = peft_entries().base
  local entries, index, groups = base.entries, base.index, base.groups
  for g = 1, #groups do
    local grp = groups[g]
    local spec = grp.spec
    local F = family_eval(A, spec)
    local p, last = grp.first, grp.last
    if F.early then
      cur = push_run(runs, cur, "refused|" .. F.early, "refused", entries[p], entries[last])
    elseif F.first_live and not (F.kw_refused or F.rule_refused or F.changed_hits or F.slow) then
      -- refused where the method is unknown, then where a key is (kwargs)
      local q = place_at(grp, F.first_live)
      if q > p then
        cur = push_run(runs, cur, "refused|" .. UNKNOWN_TYPE.rule .. ":", "refused", entries[p], entries[q - 1])
        p = q
      end
      if F.kw_desc then
        q = place_at(grp, F.kw_newest)
        if q > p then
          cur = push_run(runs, cur, "refused|" .. F.kw_desc.rule .. ":", "refused", entries[p], entries[q - 1])
          p = q
        end
      end
      -- then changed while it lacks some of its settings (the key counts them), ok from there
      local sinces = p <= last and F.plan.sinces
      if p <= last and not sinces then
        sinces = {}
        local simple = simple_spans(F.cname)
        local nondefault = F.plan.nondefault
        for n = 1, #nondefault do sinces[n] = simple[nondefault[n]] end
        table.sort(sinces)
        F.plan.sinces = sinces
      end
      local nsinces = sinces and #sinces or 0
      local j = 1
      local fid
      while p <= last do
        local i = index[p]
        while j <= nsinces and sinces[j] <= i do j = j + 1 end
        local count = nsinces - j + 1
        q = j <= nsinces and place_at(grp, sinces[j]) or last + 1
        if count > 0 then
          fid = fid or fid_of(spec)
          cur = push_run(runs, cur, "changed|" .. fid .. "|#" .. count, "changed", entries[p], entries[q - 1])
        else
          if not oldest then oldest = entries[p] end
          cur = push_run(runs, cur, "ok", "ok", entries[p], entries[q - 1])
        end
        p = q
      end
    else
      family_keys(A, F, spec)
      local verdicts, keys = F.verdicts, F.keys
      for m = p, last do
        local i = index[m]
        local verdict = verdicts[i]
        local e = entries[m]
        if not oldest and verdict == "ok" then oldest = e end
        cur = push_run(runs, cur, keys[i], verdict, e, e)
      end
    end
  end
  return runs, oldest
end

-- the registered engines, in registration order, and their states (state_of, filled as they are first run)
-- (cached until the registry changes)
local engines_cache, engines_states, engines_gen
local function engine_entries()
  local gen = registry.gen
  if engines_cache and engines_gen == gen then return engines_cache, engines_states end
  local out = {}
  for _, e in ipairs(registry.list()) do
    if e.kind == "engine" then out[#out + 1] = e end
  end
  engines_cache, engines_states, engines_gen = out, {}, gen
  return out, engines_states
end

--- check_adapter(A, targets [, opts]) -> one adapter's results, not yet JSON (entry_json makes that):
-- { path, config_class, load_error, peft_type, results = { result... } [, runs, oldest] }. With no
-- targets, runs groups the releases by verdict and reasons (opts.runs_by_verdict: by verdict alone).
function M.check_adapter(A, targets, opts)
  local entry = { path = A.label, results = {}, adapter = A, config_class = nil, load_error = nil, peft_type = nil,
                  runs = nil, oldest = nil }
  if A.cfg then
    entry.config_class = A.cls.name
  elseif A.load_error then
    entry.load_error = errors.message(A.load_error)
  end
  if A.pt then entry.peft_type = A.pt end
  local results = entry.results
  if targets == nil then
    -- every release, summarised; the oldest that loads it unchanged; every engine
    local runs, oldest = release_runs(A, opts and opts.runs_by_verdict)
    entry.runs, entry.oldest = runs, oldest
    if oldest then
      results[#results + 1] = evaluate_release(A, oldest)
    else
      local base = peft_entries().base.entries
      local last = base[#base]
      if last then results[#results + 1] = evaluate_release(A, last) end
    end
    -- (evaluate_engine0 inline, with the engines' states kept beside their list)
    local engines, states = engine_entries()
    local cache = A.engine_results
    local valid = not A.json_error and A.is_object
    local facts
    for n = 1, #engines do
      local e = engines[n]
      local res = cache[e]
      if not res then
        if valid then
          local st = states[n]
          if not st or st.n ~= #st.rules then
            st = state_of(e)
            states[n] = st
          end
          facts = facts or A.facts
          res = st.run(facts, st.ctx, A) or st.ok or ok_result(st)
        else
          res = evaluate_engine0(A, e)
        end
        cache[e] = res
      end
      results[#results + 1] = res
    end
    return entry
  end
  for _, t in ipairs(targets) do
    local e, knobs = t.entry, t.knobs
    if e.kind == "peft" then
      results[#results + 1] = evaluate_release(A, e)
    else
      results[#results + 1] = evaluate_engine(A, e, knobs)
    end
  end
  return entry
end

--- entry_json(entry) -> the entry as `peft check --json` prints it
function M.entry_json(entry)
  local out = { path = entry.path, targets = arr() }
  out.config_class = entry.config_class
  out.load_error = entry.load_error
  out.peft_type = entry.peft_type
  for i, r in ipairs(entry.results) do out.targets[i] = result_json(r) end
  if entry.runs then
    out.releases = arr()
    for i, c in ipairs(entry.runs) do
      out.releases[i] = { from = c.from.version, to = c.to.version, verdict = c.verdict,
                          reasons = reasons_json(evaluate_release(entry.adapter, c.from).reasons) }
    end
    out.oldest_release = entry.oldest and entry.oldest.version or null
  end
  return out
end

--- resolve_targets(list) -> { { entry =, knobs = } ... } (raises a ValueError naming a bad one)
function M.resolve_targets(list)
  if list == nil then return nil end
  if type(list) ~= "table" then list = { list } end
  local out = {}
  for i, t in ipairs(list) do
    local e, knobs = M.parse_target(t)
    if knobs and e.kind == "engine" then engine_knobs(e, knobs) end -- check them now
    out[i] = { entry = e, knobs = knobs }
  end
  return out
end

--- check(cfg_or_path | list of them, targets) -> { adapters = { ... } }, as `peft check --json` prints it
function M.check(src, targets)
  local resolved = M.resolve_targets(targets)
  local srcs = (type(src) == "table" and not config.is_config(src)) and src or { src }
  local out = { adapters = arr() }
  for _, s in ipairs(srcs) do
    local A = M.adapter(s)
    out.adapters[#out.adapters + 1] = M.entry_json(M.check_adapter(A, resolved))
  end
  return out
end

--- targets() -> { { name, kind, title, releases | knobs, doc } ... } in registration order
function M.targets()
  local out = arr()
  for _, e in ipairs(registry.list()) do
    local t = { name = e.name, kind = e.kind, title = e.title or e.name, doc = e.spec.doc or null }
    if e.kind == "peft" then
      t.version = e.version
      t.loading = e.spec.loading
    else
      local knobs = {}
      for k, knob in pairs(e.spec.knobs or {}) do
        knobs[k] = { default = knob.default == nil and null or knob.default, flag = knob.flag or null,
                     help = knob.help or null }
      end
      t.knobs = knobs
    end
    out[#out + 1] = t
  end
  return out
end

return M
