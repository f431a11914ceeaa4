-- peft for Lua 5.1, 5.2, 5.3 and LuaJIT: the API of peft under Lua 5.4 (lua/peft/init.lua) for what it
-- covers, over the C API of libpeft, which runs its own Lua 5.4 inside (the host's Lua and it never
-- meet). Under LuaJIT the C API is reached through the FFI (peft.ffi), under the others through the C
-- module peft.cmod; this file is the same for both.
--
--   local peft = require "peft"
--   peft.PeftType.LORA, peft.TaskType.CAUSAL_LM          -- members are plain strings
--   peft.methods(), peft.method("lora"), peft.PEFT_TYPE_TO_CONFIG_MAPPING.LORA (and the three others)
--   local cfg = peft.from_pretrained("adapter_dir" [, { strict = true, lenient = true }])
--   cfg.r, cfg.target_modules; cfg.r = 32                 -- checked by the runtime
--   cfg:to_dict(), cfg:to_json(), cfg:save_pretrained(dir), cfg:validate(), cfg:warnings(), cfg:extra()
--   peft.LoraConfig{ r = 16, target_modules = { "q_proj" } }, peft.LoraConfig.from_pretrained(path)
--   peft.from_json(text), peft.get_peft_config(tbl), peft.check(path [, targets])
--   peft.describe_model(dir), peft.get_peft_model(model, cfg [, adapter]), peft.tensor_owners(path_or_names)
--
-- Errors are raised as values { kind = "ValueError" | "FileNotFoundError" | ..., message = "..." } whose
-- tostring is "kind: message", as under Lua 5.4; look-ups that miss return nil (and a message).
-- Written in the subset of Lua that 5.1 to 5.4 and LuaJIT share.
local B
if type(jit) == "table" and pcall(require, "ffi") then
  B = require "peft.ffi"
else
  B = require "peft.cmod"
end

local M = {}

M.backend = B.backend
M.CONFIG_NAME = "adapter_config.json"

-- null and JSON ---------------------------------------------------------------

--- peft.null: JSON's null inside lists and dicts (a field that is null reads as nil)
local null = setmetatable({}, { __tostring = function() return "null" end, __name = "peft.null" })
M.null = null

local math_type = math.type -- (5.3 and later)

local function is_array(t)
  local n = #t
  if n == 0 then return next(t) == nil end
  local count = 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k > n or k % 1 ~= 0 then return false end
    count = count + 1
  end
  return count == n
end

local ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r",
                  ["\t"] = "\\t" }

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESCAPES[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local encode

local function encode_number(v)
  if v ~= v or v == math.huge or v == -math.huge then
    error({ kind = "ValueError", message = "cannot write " .. tostring(v) .. " as JSON" }, 0)
  end
  if math_type then
    if math_type(v) == "integer" then return string.format("%d", v) end
    local s = string.format("%.17g", v)
    if not s:find("[%.eEn]") then s = s .. ".0" end
    return s
  end
  if v % 1 == 0 and v > -2 ^ 53 and v < 2 ^ 53 then return string.format("%.0f", v) end
  return string.format("%.17g", v)
end

-- hint "dict": an empty table is {} (else [])
function encode(v, hint, depth)
  depth = depth or 0
  if depth > 100 then error({ kind = "ValueError", message = "cannot write JSON nested deeper than 100" }, 0) end
  local t = type(v)
  if v == nil or v == null then return "null" end
  if t == "boolean" then return v and "true" or "false" end
  if t == "number" then return encode_number(v) end
  if t == "string" then return encode_string(v) end
  if t == "table" then
    local mt = getmetatable(v)
    if mt and mt.__peft_config then v = v:to_dict() end
    if next(v) == nil then return hint == "dict" and "{}" or "[]" end
    local out = {}
    if is_array(v) then
      for i = 1, #v do out[i] = encode(v[i], nil, depth + 1) end
      return "[" .. table.concat(out, ", ") .. "]"
    end
    local keys = {}
    for k in pairs(v) do
      if type(k) ~= "string" then
        error({ kind = "TypeError", message = "a JSON object has string keys, got a " .. type(k) .. " key" }, 0)
      end
      keys[#keys + 1] = k
    end
    table.sort(keys)
    for i, k in ipairs(keys) do out[i] = encode_string(k) .. ": " .. encode(v[k], nil, depth + 1) end
    return "{" .. table.concat(out, ", ") .. "}"
  end
  error({ kind = "TypeError", message = "cannot write a " .. t .. " value as JSON" }, 0)
end

local function utf8_char(c)
  if c < 0x80 then return string.char(c) end
  if c < 0x800 then return string.char(0xC0 + math.floor(c / 0x40), 0x80 + c % 0x40) end
  if c < 0x10000 then
    return string.char(0xE0 + math.floor(c / 0x1000), 0x80 + math.floor(c / 0x40) % 0x40, 0x80 + c % 0x40)
  end
  return string.char(0xF0 + math.floor(c / 0x40000), 0x80 + math.floor(c / 0x1000) % 0x40,
    0x80 + math.floor(c / 0x40) % 0x40, 0x80 + c % 0x40)
end

local UNESCAPES = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

-- decodes the JSON text libpeft writes (valid by construction); null inside containers is peft.null
local function decode(s)
  local pos = 1
  local value
  local function ws() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
  local function bad() error({ kind = "JSONDecodeError", message = "invalid JSON at character " .. pos }, 0) end
  local function str()
    local out = {}
    pos = pos + 1
    while true do
      local a, b = s:find('["\\]', pos)
      if not a then bad() end
      out[#out + 1] = s:sub(pos, a - 1)
      if s:sub(a, a) == '"' then
        pos = a + 1
        return table.concat(out)
      end
      local e = s:sub(a + 1, a + 1)
      if e == "u" then
        local c = tonumber(s:sub(a + 2, a + 5), 16) or bad()
        pos = a + 6
        if c >= 0xD800 and c < 0xDC00 and s:sub(pos, pos + 1) == "\\u" then
          local lo = tonumber(s:sub(pos + 2, pos + 5), 16)
          if lo and lo >= 0xDC00 and lo < 0xE000 then
            c = 0x10000 + (c - 0xD800) * 0x400 + (lo - 0xDC00)
            pos = pos + 6
          end
        end
        out[#out + 1] = utf8_char(c)
      else
        out[#out + 1] = UNESCAPES[e] or e
        pos = b + 2
      end
    end
  end
  function value()
    ws()
    local c = s:sub(pos, pos)
    if c == "{" then
      local t = {}
      pos = pos + 1
      ws()
      if s:sub(pos, pos) == "}" then
        pos = pos + 1
        return t
      end
      while true do
        ws()
        if s:sub(pos, pos) ~= '"' then bad() end
        local k = str()
        ws()
        if s:sub(pos, pos) ~= ":" then bad() end
        pos = pos + 1
        t[k] = value()
        ws()
        local d = s:sub(pos, pos)
        pos = pos + 1
        if d == "}" then return t end
        if d ~= "," then bad() end
      end
    elseif c == "[" then
      local t = {}
      pos = pos + 1
      ws()
      if s:sub(pos, pos) == "]" then
        pos = pos + 1
        return t
      end
      while true do
        t[#t + 1] = value()
        ws()
        local d = s:sub(pos, pos)
        pos = pos + 1
        if d == "]" then return t end
        if d ~= "," then bad() end
      end
    elseif c == '"' then
      return str()
    elseif s:sub(pos, pos + 3) == "true" then
      pos = pos + 4
      return true
    elseif s:sub(pos, pos + 4) == "false" then
      pos = pos + 5
      return false
    elseif s:sub(pos, pos + 3) == "null" then
      pos = pos + 4
      return null
    end
    local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
    if not num or num == "" then bad() end
    pos = pos + #num
    local n = tonumber(num)
    if math_type and not num:find("[%.eE]") and math.tointeger(n) then n = math.tointeger(n) end
    return n
  end
  local v = value()
  ws()
  if pos <= #s then bad() end
  return v
end

M.json = { encode = function(v) return encode(v) end, decode = decode }

-- errors -----------------------------------------------------------------------

local error_mt = {
  __tostring = function(e) return tostring(e.kind) .. ": " .. tostring(e.message) end,
  __name = "peft.Error",
}

local function new_error(kind, message, extra)
  local e = setmetatable({ kind = kind, message = message }, error_mt)
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

-- the kind of a value, as the runtime words it in messages ("a string", "null", ...)
local function kind_of(v)
  if v == nil or v == null then return "null" end
  local t = type(v)
  if t == "number" then
    if math_type then return math_type(v) == "integer" and "an integer" or "a float" end
    return v % 1 == 0 and "an integer" or "a float"
  end
  if t == "table" then
    if next(v) == nil then return "an empty table" end
    return is_array(v) and "a list" or "an object"
  end
  if t == "string" then return "a string" end
  if t == "boolean" then return "a boolean" end
  return "a " .. t
end

local function raise(kind, message, level)
  error(new_error(kind, message), level and level + 1 or 3)
end

--- peft.errors.is_error(v), peft.errors.message(v) (as under 5.4)
M.errors = {
  new = new_error,
  is_error = function(v) return getmetatable(v) == error_mt end,
  message = function(v) return tostring(v) end,
}

-- a backend result: the values, or a raised error value
local function check(v, kind, message, ...)
  if v == nil and kind then error(new_error(kind, message), 3) end
  return v, kind, message, ...
end

-- the runtime --------------------------------------------------------------------

local rt = check(B.open())
M.runtime = rt
M.extension_failures = B.runtime_warnings(rt)

-- suggestions ("did you mean"), as the runtime words them
local function distance(a, b)
  a, b = a:lower(), b:lower()
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

local function suggest(name, names)
  local best, bd
  for _, n in ipairs(names) do
    local d = distance(name, n)
    if not bd or d < bd then best, bd = n, d end
  end
  if best and bd <= math.max(1, math.floor(math.max(#name, #best) / 3)) then
    return " (did you mean '" .. best .. "'?)"
  end
  return ""
end

-- enums --------------------------------------------------------------------------

local function enum(title, list)
  local set = {}
  for _, m in ipairs(list) do set[m] = true end
  local function unknown(k)
    return "unknown " .. title .. " member '" .. tostring(k) .. "'" .. (type(k) == "string" and suggest(k, list) or "")
  end
  local e = {}
  for i, m in ipairs(list) do e[i] = m end -- (# and ipairs: declaration order)
  return setmetatable(e, {
    __index = function(_, k)
      if set[k] then return k end
      error(new_error("AttributeError", unknown(k)), 2)
    end,
    __newindex = function() error(new_error("TypeError", title .. " is read-only"), 2) end,
    -- PeftType("X") -> "X" | nil, message
    __call = function(_, k)
      if set[k] then return k end
      return nil, unknown(k)
    end,
    __tostring = function() return title end,
    __name = title,
  })
end

M.PeftType = enum("PeftType", B.types(rt))
M.TaskType = enum("TaskType", B.tasks())

-- classes ------------------------------------------------------------------------

local classes, model_classes = {}, {}
local method_list = B.methods(rt)
local by_key = {}

local config_mt = { __peft_config = true }
local class_mt = {}

local function new_class(name, peft_type)
  local cls = setmetatable({ name = name, peft_type = peft_type }, class_mt)
  classes[name] = cls
  return cls
end

local PeftConfig = new_class("PeftConfig")
M.PeftConfig = PeftConfig

for _, m in ipairs(method_list) do
  m.config_cls = m.config_cls and (classes[m.config_cls] or new_class(m.config_cls, m.peft_type)) or nil
  if m.model_cls then
    local mc = model_classes[m.model_cls] or setmetatable({ name = m.model_cls, prefix = m.prefix, kind = "model" },
      { __tostring = function(x) return "model class " .. x.name end })
    model_classes[m.model_cls] = mc
    m.model_cls = mc
  end
  by_key[m.name], by_key[m.peft_type] = m, m
  if m.config_cls then by_key[m.config_cls.name] = by_key[m.config_cls.name] or m end
end

local function copy_method(m)
  local c = {}
  for k, v in pairs(m) do c[k] = v end
  return c
end

--- methods() -> list of { name, peft_type, prefix, is_mixed_compatible, shares_prefix_with, config_cls,
-- model_cls }, in registration order
function M.methods()
  local out = {}
  for i, m in ipairs(method_list) do out[i] = copy_method(m) end
  return out
end

--- method(key) -> info | nil: by PeftType member, method name or config class name
function M.method(key)
  local m = type(key) == "string" and by_key[key]
  return m and copy_method(m) or nil
end

local function mapping(title, get)
  return setmetatable({}, {
    __index = function(_, k)
      local m = by_key[k]
      if m and m.peft_type == k then return get(m) end
      return nil
    end,
    __newindex = function(_, k)
      error(new_error("TypeError", title .. " is read-only (cannot set " .. tostring(k)
        .. "); use peft.register_peft_method"), 2)
    end,
    __tostring = function() return title end,
    __name = title,
  })
end

M.PEFT_TYPE_TO_CONFIG_MAPPING = mapping("PEFT_TYPE_TO_CONFIG_MAPPING", function(m) return m.config_cls end)
M.PEFT_TYPE_TO_TUNER_MAPPING = mapping("PEFT_TYPE_TO_TUNER_MAPPING", function(m) return m.model_cls end)
M.PEFT_TYPE_TO_PREFIX_MAPPING = mapping("PEFT_TYPE_TO_PREFIX_MAPPING", function(m) return m.prefix end)
M.PEFT_TYPE_TO_MIXED_MODEL_MAPPING = mapping("PEFT_TYPE_TO_MIXED_MODEL_MAPPING", function(m)
  return m.is_mixed_compatible and m.model_cls or nil
end)

-- config objects ------------------------------------------------------------------

local HANDLE, FIELDS = {}, {} -- private keys
local methods = {}

local function handle(obj)
  local h = type(obj) == "table" and rawget(obj, HANDLE)
  if not h then raise("TypeError", "expected a config object, got " .. kind_of(obj)) end
  return h
end

local function wrap(h)
  local cls_name = B.describe(h)
  local obj = setmetatable({ [HANDLE] = h }, config_mt)
  rawset(obj, "__class", classes[cls_name] or new_class(cls_name))
  return obj
end

-- the value of a field as a Lua value: lists and dicts as tables (null inside them as peft.null)
local function read(h, name)
  local tag, v = check(B.item(h, name))
  if tag == "null" then return nil end
  if tag == "list" or tag == "dict" then return decode(v) end
  return v
end

local function field_list(obj)
  local fs = rawget(obj, FIELDS)
  if not fs then
    fs = check(B.fields(handle(obj)))
    rawset(obj, FIELDS, fs)
  end
  return fs
end

local function field_named(obj, name)
  for _, f in ipairs(field_list(obj)) do
    if f.name == name then return f end
  end
end

config_mt.__index = function(obj, k)
  local m = methods[k]
  if m then return m end
  if k == "peft_type" or k == "task_type" then
    local _, pt, tt = B.describe(handle(obj))
    if k == "peft_type" then return pt end
    return tt
  end
  return read(handle(obj), k)
end

config_mt.__newindex = function(obj, k, v)
  local f = field_named(obj, k)
  local hint = f and f.type and f.type:find("dict") and not f.type:find("list") and "dict" or nil
  check(B.set_json(handle(obj), k, encode(v, hint)))
  rawset(obj, FIELDS, nil)
end

config_mt.__tostring = function(obj)
  return rawget(obj, "__class").name .. "(peft_type=" .. tostring(obj.peft_type) .. ")"
end
config_mt.__name = "peft.Config"

function methods.get_class(obj) return rawget(obj, "__class") end

--- cfg:fields() -> { name, type (PEFT's annotation), default (a Lua value), help, given }, the class's
-- fields in order, then the unknown keys kept from the file (type nil)
function methods.fields(obj)
  local out = {}
  for i, f in ipairs(field_list(obj)) do
    local d = f.default_json and decode(f.default_json) or nil
    if d == null then d = nil end
    out[i] = { name = f.name, type = f.type, default = d, help = f.help, given = f.given }
  end
  return out
end

function methods.was_given(obj, name)
  local f = field_named(obj, name)
  return f ~= nil and f.given
end

--- cfg:to_dict(): what PEFT writes, as a table (None as peft.null)
function methods.to_dict(obj) return decode(methods.to_json(obj)) end

function methods.to_json(obj) return (check(B.to_json(handle(obj)))) end

function methods.save_pretrained(obj, dir)
  if type(dir) ~= "string" then raise("TypeError", "save_pretrained expects a directory, got " .. kind_of(dir)) end
  check(B.save(handle(obj), dir))
  return obj
end

function methods.validate(obj)
  check(B.validate(handle(obj)))
  rawset(obj, FIELDS, nil)
  return obj
end

function methods.warnings(obj) return B.warnings(handle(obj)) end

--- cfg:extra(): the keys the class does not know, kept from the file
function methods.extra(obj)
  local out = {}
  for _, f in ipairs(field_list(obj)) do
    if not f.type then
      local v = read(handle(obj), f.name)
      if v == nil then v = null end
      out[f.name] = v
    end
  end
  return out
end

--- cfg:replace(changes): a new config with some fields changed, checked as a new one
function methods.replace(obj, changes)
  local d = methods.to_dict(obj)
  for k, v in pairs(changes or {}) do d[k] = v end
  return wrap(check(B.load_buffer(rt, encode(d), nil, 0)))
end

function methods.copy(obj) return methods.replace(obj, {}) end

-- loading --------------------------------------------------------------------------

local function flags(opts)
  if opts ~= nil and type(opts) ~= "table" then
    raise("TypeError", "options must be a table, got " .. kind_of(opts), 2)
  end
  opts = opts or {}
  local f = 0
  if opts.strict then f = f + B.STRICT end
  if opts.lenient then f = f + B.LENIENT end
  return f
end

-- a config of the class called on (or a subclass of it): another method's file is refused
local function expect_class(cls, obj, where)
  if cls ~= PeftConfig and not B.is_a(handle(obj), cls.name) then
    raise("ValueError", (where and (where .. ": ") or "") .. "peft_type " .. tostring(obj.peft_type) .. " is a "
      .. rawget(obj, "__class").name .. ", not a " .. cls.name, 3)
  end
  return obj
end

-- warnings: to a handler (stderr by default, as under Lua 5.4), unless opts.quiet; cfg:warnings() has them
local function default_handler(message) io.stderr:write("peft: warning: ", tostring(message), "\n") end
local warning_handler = default_handler

--- set_warning_handler(fn) -> the previous handler (nil restores the default)
function M.set_warning_handler(fn)
  if fn ~= nil and type(fn) ~= "function" then raise("TypeError", "warning handler must be a function or nil") end
  local old = warning_handler
  warning_handler = fn or default_handler
  return old
end

local function loaded(obj, opts, where)
  if not (opts and opts.quiet) then
    for _, w in ipairs(B.warnings(handle(obj))) do warning_handler((where and (where .. ": ") or "") .. w) end
  end
  return obj
end

-- the file a path names (for messages)
local function config_file(path)
  if path:match("%.json$") then return path end
  return (path:gsub("/+$", "")) .. "/" .. M.CONFIG_NAME
end

--- from_pretrained(path [, opts]) -> config; opts.strict: unknown keys are an error; opts.lenient: checks
-- PEFT added in later releases warn (see the README); opts.quiet: warnings only in cfg:warnings()
function M.from_pretrained(path, opts)
  if type(path) ~= "string" then raise("TypeError", "from_pretrained expects a path, got " .. kind_of(path)) end
  return loaded(wrap(check(B.load(rt, path, flags(opts)))), opts, config_file(path))
end

--- from_json(text [, opts]) -> config; opts.path names the text in messages
function M.from_json(text, opts)
  if type(text) ~= "string" then raise("TypeError", "from_json expects a string, got " .. kind_of(text)) end
  return loaded(wrap(check(B.load_buffer(rt, text, opts and opts.path, flags(opts)))), opts, opts and opts.path)
end

--- get_peft_config(tbl) -> config: PEFT's get_peft_config (the class from tbl.peft_type, a key that is
-- not a field is a TypeError)
function M.get_peft_config(tbl, opts)
  if type(tbl) ~= "table" then raise("TypeError", "get_peft_config expects a table, got " .. kind_of(tbl)) end
  return loaded(wrap(check(B.new(rt, nil, encode(tbl, "dict")))), opts)
end

M.is_config = function(v) return type(v) == "table" and getmetatable(v) == config_mt end
M.is_class = function(v) return type(v) == "table" and getmetatable(v) == class_mt end

-- LoraConfig{ ... }, LoraConfig.from_pretrained(path), LoraConfig:from_pretrained(path)
local class_methods = {}
class_methods.from_pretrained = function(cls, path, opts)
  return expect_class(cls, M.from_pretrained(path, opts), type(path) == "string" and config_file(path) or nil)
end
class_methods.from_json = function(cls, text, opts)
  return expect_class(cls, M.from_json(text, opts), opts and opts.path)
end
class_methods.from_peft_type = function(cls, tbl, opts)
  local t = {}
  for k, v in pairs(tbl or {}) do t[k] = v end
  if t.peft_type == nil and cls.peft_type then t.peft_type = cls.peft_type end
  return expect_class(cls, M.get_peft_config(t, opts))
end

class_mt.__index = function(cls, k)
  local fn = class_methods[k]
  if not fn then return nil end
  -- both LoraConfig.from_pretrained(path) and LoraConfig:from_pretrained(path)
  return function(a, ...)
    if a == cls then return fn(cls, ...) end
    return fn(cls, a, ...)
  end
end
class_mt.__call = function(cls, fields)
  if cls == PeftConfig then raise("TypeError", "PeftConfig is abstract: use a method's class (LoraConfig{...})") end
  if fields ~= nil and type(fields) ~= "table" then
    raise("TypeError", cls.name .. " expects a table of fields, got " .. kind_of(fields))
  end
  return wrap(check(B.new(rt, cls.name, encode(fields or {}, "dict"))))
end
class_mt.__tostring = function(cls) return "class " .. cls.name end
class_mt.__name = "peft.Class"

-- where an adapter works ----------------------------------------------------------

--- check(path [, targets]) -> what `peft check --json` prints, as a table
function M.check(path, targets)
  if type(path) ~= "string" then raise("TypeError", "check expects a path, got " .. kind_of(path)) end
  if type(targets) == "string" then targets = { targets } end
  return decode(check(B.check(rt, path, targets)))
end

-- the model side ---------------------------------------------------------------------

local model_mt = { __name = "peft.Model" }
model_mt.__index = model_mt

--- describe_model(path) -> { model_type, modules = { { name, kind, in_features, out_features,
-- layer_index } ... }, total_params }
function M.describe_model(path)
  if type(path) ~= "string" then raise("TypeError", "describe_model expects a path, got " .. kind_of(path)) end
  local h, model_type, modules, total = check(B.model(rt, path))
  return setmetatable({ [HANDLE] = h, model_type = model_type, modules = modules, total_params = total }, model_mt)
end

local plan_mt = { __name = "peft.PeftModel" }
plan_mt.__index = plan_mt

function plan_mt.trainable_parameters(p) return p.plan.trainable, p.plan.all end
function plan_mt.trainable_parameters_line(p) return p.plan.summary end
function plan_mt.print_trainable_parameters(p) io.stdout:write(p.plan.summary, "\n") end
function plan_mt.adapter_parameters(p) return p.plan.params end
function plan_mt.saved_tensors(p) return p.plan.saved end
function plan_mt.saved_keys(p)
  local out = {}
  for i, s in ipairs(p.plan.saved) do out[i] = s.key end
  return out
end

--- get_peft_model(model, cfg [, adapter]) -> what get_peft_model builds: class_name, modules (the ones
-- adapted), :adapter_parameters(), :saved_tensors(), :saved_keys(), :trainable_parameters()
function M.get_peft_model(model, cfg, adapter)
  local mh = type(model) == "table" and getmetatable(model) == model_mt and rawget(model, HANDLE)
  if not mh then raise("TypeError", "get_peft_model expects a model from peft.describe_model") end
  local plan = check(B.plan(mh, handle(cfg), adapter))
  return setmetatable({ class_name = plan.class_name, modules = plan.modules, plan = plan }, plan_mt)
end

--- tensor_owners(path | names [, opts]) -> { { name, method, module, layer, adapter, param }, ... }: which
-- method, base module and adapter each tensor belongs to; path: an adapter directory or a .safetensors
-- file; opts.method: the method to prefer where layer names are shared; opts.adapter: the name saved
-- keys belong to ("default")
function M.tensor_owners(src, opts)
  opts = opts or {}
  if type(src) == "string" then return check(B.tensors_file(rt, src, opts.adapter)) end
  if type(src) ~= "table" then raise("TypeError", "tensor_owners expects a path or a list of names") end
  return check(B.tensors_names(rt, src, opts.method, opts.adapter))
end

-- classes by name: peft.LoraConfig
setmetatable(M, {
  __index = function(_, k) return classes[k] end,
  __name = "peft",
})

return M
