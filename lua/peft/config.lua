-- peft.config: config classes declared as data.
--
-- A class is declared once with declare{...}: its name, parent, PeftType,
-- flags, a one-line doc, and a list of fields (or a function returning the
-- list, called when the class is first used: the built-in methods do so,
-- so that start-up does not build every field table), each
--   { "name", "annotation", default, "one-line help", [options] }
-- options: set = true        a list is kept as a set (deduplicated, sorted)
--          to_dict = false   never written (PEFT's runtime_config)
--          check = function(value) -> nil | "problem"  (per-field rule)
--          min, max, gt, lt   numeric bounds (inclusive / exclusive)
--          check_type = "annotation"  what values are accepted, when PEFT
--                            accepts more than its annotation says (shown
--                            type stays the annotation)
--          type_error = true   a value of the wrong type is a TypeError (as
--                            PEFT raises for some fields), not a ValueError
--          number = true      an int field that takes any number (a float
--                            too): PEFT's model code only does arithmetic
--                            with it (an alpha divided by r); the type shown
--                            stays the annotation
--          whole = true       an int field that also takes a float with an
--                            integral value (100.0): PEFT only counts training
--                            steps with it, never builds a tensor of that size
-- Any other int field needs an integer: PEFT's model code uses it as a size,
-- a count or a seed, and the error says so.
-- and a post_init(self, chk) function holding the cross-field rules that
-- PEFT's __post_init__ applies (chk.fail(field, fmt, ...) raises a
-- ValueError naming the class and field; chk.warn(fmt, ...) warns).
--
-- A class is called to build a config: LoraConfig{ r = 16 }. An unknown
-- field raises a TypeError naming the closest field. Fields read and write
-- like table fields (cfg.r, cfg.r = 32); an assignment is type-checked.
local core = require "peft.core"
local errors = require "peft.errors"
local types = require "peft.lazy" "peft.types"

local M = {}

local null = core.null
local array_mt = core.json_array_mt

M.PEFT_VERSION = "0.20.1.dev0@5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40"
M.CONFIG_NAME = "adapter_config.json"
-- Largest adapter_config.json read from disk (bytes).
M.MAX_CONFIG_BYTES = 16 * 1024 * 1024

M.classes = {} -- name -> class (configs, helper configs and model classes)
M.order = {}   -- names in declaration order

local STATE = setmetatable({}, { __name = "peft.config.state" }) -- private key
local LAZY = setmetatable({}, { __name = "peft.config.lazy" })   -- private key: raw field specs

-- helpers ---------------------------------------------------------------

local function deepcopy(v)
  if type(v) ~= "table" then return v end
  local mt = getmetatable(v)
  if mt and mt.__peft_instance then return v:copy() end
  local out = {}
  for k, x in pairs(v) do out[k] = deepcopy(x) end
  if mt == array_mt then setmetatable(out, array_mt) end
  return out
end
M.deepcopy = deepcopy

-- Whether field i is set in a bit string made by core.config_filler.
local function given_bit(given, i)
  local b = string.byte(given, (i - 1) // 8 + 1)
  return b ~= nil and (b >> ((i - 1) % 8)) & 1 == 1
end

local function fmt(s, ...)
  if select("#", ...) == 0 then return s end
  return string.format(s, ...)
end

-- The edit distance (optimal string alignment, case-insensitive) between a and b.
local function distance(a, b)
  a, b = a:lower(), b:lower()
  local la, lb = #a, #b
  local prev2, prev, cur = {}, {}, {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    cur[0] = i
    local ca = a:byte(i)
    for j = 1, lb do
      local cb = b:byte(j)
      local v = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca == cb and 0 or 1))
      if i > 1 and j > 1 and ca == b:byte(j - 1) and a:byte(i - 1) == cb then v = math.min(v, prev2[j - 2] + 1) end
      cur[j] = v
    end
    prev2, prev, cur = prev, cur, prev2
  end
  return prev[lb]
end
M.distance = distance

-- "did you mean" only for a small slip for the name's length: at most one edit per four characters
-- (one for a short name), or a name that starts with it (EWORA is not a typo of DELORA)
local function suggest(name, candidates)
  local close = core.closest(name, candidates, 3)
  local limit = math.max(1, #name // 4)
  local kept = {}
  for _, n in ipairs(close) do
    local prefix = #name >= 2 and n:lower():sub(1, #name) == name:lower()
    if prefix or distance(name, n) <= limit then kept[#kept + 1] = "'" .. n .. "'" end
  end
  if #kept == 0 then return "" end
  return " (did you mean " .. table.concat(kept, ", ") .. "?)"
end
M.suggest = suggest

-- Versions, compared as PEP 440 orders releases ("0.9.0" < "0.10.0", "0.20.1.dev0" < "0.20.1"); a local
-- part ("@commit", "+local") is ignored. parse_version(text) -> a list of numbers, or nil.
function M.parse_version(s)
  if type(s) ~= "string" then return nil end
  s = s:gsub("[@+].*$", "")
  local nums, rest = s:match("^v?(%d+[%.%d]*)(.*)$")
  if not nums then return nil end
  local parts = {}
  for n in nums:gmatch("%d+") do parts[#parts + 1] = tonumber(n) end
  while #parts < 3 do parts[#parts + 1] = 0 end
  -- dev < a < b < rc < (the release) < post
  local rank, extra = 4, 0
  local tag, n = rest:match("^[%.%-_]?(%a+)(%d*)")
  if tag then
    tag = tag:lower()
    extra = tonumber(n) or 0
    local ranks = { dev = 0, a = 1, alpha = 1, b = 2, beta = 2, rc = 3, c = 3, post = 5 }
    rank = ranks[tag]
    if not rank then return nil end
  elseif rest ~= "" then
    return nil
  end
  parts[#parts + 1] = rank
  parts[#parts + 1] = extra
  return parts
end

--- version_cmp(a, b) -> -1, 0 or 1, or nil when either is not a version
function M.version_cmp(a, b)
  local x, y = M.parse_version(a), M.parse_version(b)
  if not x or not y then return nil end
  for i = 1, math.max(#x, #y) do
    local p, q = x[i] or 0, y[i] or 0
    if p ~= q then return p < q and -1 or 1 end
  end
  return 0
end

--- newer_than_runtime(version) -> "saved by PEFT V, newer than R which this runtime follows" when a file's
-- peft_version is newer than the PEFT this runtime follows, else nil
function M.newer_than_runtime(v)
  if type(v) ~= "string" then return nil end
  local runtime = M.PEFT_VERSION:gsub("@.*$", "")
  if (M.version_cmp(v, runtime) or 0) <= 0 then return nil end
  -- the runtime is named by its release number, unless the file's is that same release
  local release = runtime:gsub("%.dev%d*$", "")
  local shown = M.version_cmp(v:gsub("[@+].*$", ""), release) == 0 and runtime or release
  return string.format("saved by PEFT %s, newer than %s which this runtime follows", v, shown)
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end
M.sorted_keys = sorted_keys

-- named-type resolution (enums and nested config classes) ---------------

local enums = {} -- name -> { list of members }

--- Declares a string enum usable in field annotations (PromptTuningInit...).
function M.declare_enum(name, members)
  enums[name] = members
end

local function enum_members(name)
  if name == "PeftType" then return core.types() end
  if name == "TaskType" then
    local out = {}
    for i = 1, core.task_count() do out[i] = core.task_at(i) end
    return out
  end
  return enums[name]
end
M.enum_members = enum_members

local resolvers = {}
local function resolve(name)
  local r = resolvers[name]
  if r then return r end
  local members = enum_members(name)
  if members then
    r = { check = function(v)
      for _, m in ipairs(enum_members(name)) do
        if v == m then return true, v end
      end
      return false
    end }
  elseif M.classes[name] and M.classes[name].kind == "helper" then
    local cls = M.classes[name]
    r = { check = function(v)
      if type(v) ~= "table" then return false end
      local mt = getmetatable(v)
      if mt and mt.__peft_instance then
        if v:get_class() == cls then return true, v end
        return false
      end
      if not types.is_object(v) then return false end
      return true, v -- converted by the owning field (see convert_nested)
    end }
  else
    return nil
  end
  if name ~= "PeftType" then resolvers[name] = r end
  return r
end
M.resolve = resolve

-- errors ----------------------------------------------------------------

local function value_error(cls, field, message, value_given, v)
  local where = field and (cls.name .. "." .. field) or cls.name
  local msg = where .. ": " .. message
  if value_given then msg = msg .. ", got " .. types.repr(v) end
  return errors.new("ValueError", msg, { class = cls.name, field = field })
end

-- class machinery -------------------------------------------------------

local Base = {} -- methods of every config object (looked up after fields)

local class_mt = {}
local classmethods = {} -- name -> fn(cls, ...)

--- Adds a class method to every class: LoraConfig.name(...) and
-- LoraConfig:name(...) both call fn(LoraConfig, ...).
function M.add_classmethod(name, fn)
  classmethods[name] = fn
end

local function bind(cls, fn)
  return function(first, ...)
    if first == cls then return fn(cls, ...) end
    return fn(cls, first, ...)
  end
end

local LAZY_FIELDS = { fields = true, field_map = true, values_mt = true, object_mt = true, fill = true,
                      table_defaults = true, field_index = true }

class_mt.__index = function(cls, k)
  if LAZY_FIELDS[k] and rawget(cls, LAZY) then
    M.finish(cls)
    return rawget(cls, k)
  end
  local p = rawget(cls, "parent")
  while p do
    local v = rawget(p, k)
    if v ~= nil then return v end
    p = rawget(p, "parent")
  end
  if classmethods[k] then return bind(cls, classmethods[k]) end
  return Base[k]
end
class_mt.__call = function(cls, args) return cls.new(args) end
class_mt.__tostring = function(cls) return "class " .. cls.name end
class_mt.__name = "peft.ConfigClass"

-- The methods of objects: a function found along the class chain, else
-- Base's entry. Found ones are cached per class with where they were found;
-- a cached entry stands while that table still holds the same function, and
-- adding a key to any class or to Base empties every cache (an override
-- lower in the chain is a new key).
local method_owner, method_fn = setmetatable({}, { __mode = "k" }), setmetatable({}, { __mode = "k" })

local function forget_methods()
  method_owner = setmetatable({}, { __mode = "k" })
  method_fn = setmetatable({}, { __mode = "k" })
end

class_mt.__newindex = function(cls, k, v)
  rawset(cls, k, v)
  forget_methods()
end
setmetatable(Base, { __newindex = function(t, k, v)
  rawset(t, k, v)
  forget_methods()
end })

local function find_method(cls, k)
  local owners, fns = method_owner[cls], method_fn[cls]
  if owners then
    local owner = owners[k]
    if owner then
      local fn = fns[k]
      if rawget(owner, k) == fn then return fn end
    end
  else
    owners, fns = {}, {}
    method_owner[cls], method_fn[cls] = owners, fns
  end
  local c = cls
  while c do
    local v = rawget(c, k)
    if type(v) == "function" then
      owners[k], fns[k] = c, v
      return v
    end
    c = rawget(c, "parent")
  end
  local v = rawget(Base, k)
  if v ~= nil then owners[k], fns[k] = Base, v end
  return v
end

local function field_names(cls)
  local names = {}
  for i, f in ipairs(cls.fields) do names[i] = f.name end
  return names
end

local function unknown_field(cls, k, verb)
  return errors.new("TypeError", string.format("%s %s '%s'%s", cls.name,
    verb or "has no field", tostring(k), type(k) == "string" and suggest(k, field_names(cls)) or ""),
    { class = cls.name, field = type(k) == "string" and k or nil })
end

local EMPTY_OK = setmetatable({}, { __mode = "k" }) -- helper class -> its defaults are valid

-- Converts a value given for a nested helper-config field: a table becomes
-- a checked object of that class when the field converts (PEFT builds the
-- dataclass), else it is checked and kept as a plain table.
local function convert_nested(f, v, warn)
  if f.nested == nil or type(v) ~= "table" then return v end
  local mt = getmetatable(v)
  if mt and mt.__peft_instance then
    if f.convert then return v end
    return v:to_dict()
  end
  local cls = M.classes[f.nested]
  if f.convert then return cls.new(v) end
  -- PEFT keeps this dict as given: validate the keys we know, keep the rest
  -- (an empty one is recorded as valid for the class: see check_field)
  local known, unknown = {}, {}
  for k, x in pairs(v) do
    if cls.field_map[k] then known[k] = x else unknown[#unknown + 1] = k end
  end
  cls.new(known, { quiet = true }) -- validates; raises on a bad value
  if next(v) == nil then EMPTY_OK[cls] = true end
  if #unknown > 0 then
    table.sort(unknown)
    warn(string.format("%s: keys unknown to %s kept as they are: %s", f.name, cls.name,
      table.concat(unknown, ", ")))
  end
  return v
end

-- Records a warning on an object's state (and emits it unless quiet);
-- without a state, only emits it.
local function warn_on(cls, st, message)
  local m = cls.name .. ": " .. message
  if st then st.warnings[#st.warnings + 1] = m end
  if not (st and st.quiet) then errors.warn(m) end
end

-- Checks and normalises a value for field f of class cls. Raises ValueError.
-- st: the state of the object the value is for (its warnings).
local function check_field(cls, f, v, st)
  -- an empty dict for a nested config kept as a dict (PEFT's default
  -- loftq_config) whose class has been seen to accept it
  if f.nested and not f.convert and not f.check and type(v) == "table" and next(v) == nil and getmetatable(v) == nil
    and EMPTY_OK[M.classes[f.nested]] then
    return v
  end
  if v == nil or v == null then
    if f.allows_none then return nil end
    local e = value_error(cls, f.name, "expected " .. f.expected, true, v)
    if f.type_error then e.kind = "TypeError" end
    error(e, 0)
  end
  local ok, nv = types.check(f.node, v, resolve)
  if not ok then
    local msg = "expected " .. f.expected
    if nv then msg = msg .. " (" .. nv .. ")" end
    local e = value_error(cls, f.name, msg, true, v)
    if f.integer_only and (math.type(v) == "float" or (type(v) == "string" and tonumber(v))) then
      -- PEFT's dataclass takes the value; its model code refuses it (torch's TypeError for a size)
      e.kind = "TypeError"
      e.message = e.message .. " (PEFT reads the file, but its model code needs an integer here: a size, a "
        .. "count or a seed)"
    end
    if f.type_error then e.kind = "TypeError" end
    error(e, 0)
  end
  v = nv
  if f.set and type(v) == "table" then
    -- already sorted and without repeats (what PEFT-written files hold):
    -- kept as it is; else a sorted, deduplicated copy
    local ordered = true
    for i = 2, #v do
      local a, b = v[i - 1], v[i]
      if type(a) ~= "string" or type(b) ~= "string" or not (a < b) then
        ordered = false
        break
      end
    end
    if not ordered then
      local seen, out = {}, setmetatable({}, array_mt)
      for _, x in ipairs(v) do
        if not seen[x] then
          seen[x] = true
          out[#out + 1] = x
        end
      end
      table.sort(out, function(a, b) return tostring(a) < tostring(b) end)
      v = out
    end
  end
  if type(v) == "number" then
    if f.min and v < f.min then error(value_error(cls, f.name, "must be >= " .. f.min, true, v), 0) end
    if f.max and v > f.max then error(value_error(cls, f.name, "must be <= " .. f.max, true, v), 0) end
    if f.gt and v <= f.gt then error(value_error(cls, f.name, "must be > " .. f.gt, true, v), 0) end
    if f.lt and v >= f.lt then error(value_error(cls, f.name, "must be < " .. f.lt, true, v), 0) end
  end
  if f.check then
    local problem = f.check(v)
    if problem then error(value_error(cls, f.name, problem, true, v), 0) end
  end
  if f.nested then
    local okc, res = pcall(convert_nested, f, v, function(message) warn_on(cls, st, message) end)
    if not okc then
      if errors.is_error(res) then
        res.message = cls.name .. "." .. f.name .. ": " .. res.message
        error(res, 0)
      end
      error(res, 0)
    end
    v = res
  end
  return v
end

local function normalise_field(cls, spec, position)
  local f = {}
  for k, v in pairs(spec) do
    if math.type(k) ~= "integer" then f[k] = v end
  end
  f.name = spec.name or spec[1]
  f.type = spec.type or spec[2]
  if spec.default ~= nil then f.default = spec.default else f.default = spec[3] end
  if f.default == null then f.default = nil end
  f.help = spec.help or spec[4]
  assert(type(f.name) == "string" and f.name:match("^[%a_][%w_]*$"),
    string.format("%s: field %d needs a name", cls.name, position))
  assert(type(f.type) == "string", string.format("%s.%s: field needs a type annotation", cls.name, f.name))
  assert(type(f.help) == "string" and f.help ~= "", string.format("%s.%s: field needs a help text", cls.name, f.name))
  local check_type = f.check_type
  if (f.number or f.whole) and not check_type then
    -- int -> float, Optional[int] -> Optional[float] (float takes integers too)
    check_type = f.type:gsub("%f[%w]int%f[^%w]", "float")
  end
  f.node = types.parse(check_type or f.type)
  -- an integer size, count or seed: what PEFT's model code needs
  f.integer_only = not f.number and not f.whole
    and types.describe(types.parse(f.type)):find("integer", 1, true) ~= nil
  if f.whole then
    local check = f.check
    f.check = function(v)
      if math.type(v) == "float" and not math.tointeger(v) then return "expected an integer" end
      if check then return check(v) end
    end
  end
  -- PEFT's dataclasses accept None for any field whose default is None
  f.allows_none = types.allows_none(f.node) or f.default == nil
  f.expected = types.describe(f.node)
  if f.default == nil and not types.allows_none(f.node) then f.expected = f.expected .. " or null" end
  f.choices = types.choices(f.node)
  if f.nested == nil then
    -- a nested config class named in the annotation
    local function find(n)
      if n.k == "named" and M.classes[n.name] and M.classes[n.name].kind == "helper" then return n.name end
      if n.k == "union" then
        for _, a in ipairs(n.alts) do
          local r = find(a)
          if r then return r end
        end
      end
    end
    f.nested = find(f.node)
  end
  f.declared_in = cls.name
  return f
end

-- A default that is a config object (LoraConfig's runtime_config) is copied
-- for an object when the field is first read, not when the object is made:
-- most objects never read it. Only for fields that cannot be None, so that
-- a missing value always means "not read yet".
local function lazy_default(f)
  return type(f.default) == "table" and not f.allows_none and M.is_config(f.default)
end

-- Objects: a table that holds only [STATE] = st, with a metatable of its
-- own whose __index is st.values, so that reading a field is a plain table
-- read. The values table's metatable (one per class) answers for fields
-- that are None, for methods and for mistakes. The object never holds a
-- field itself, so every assignment goes through __newindex and is checked.
local function make_instance_kit(cls, fields, map)
  local name = cls.name
  local lazy = {}
  for _, f in ipairs(fields) do
    if lazy_default(f) then lazy[f.name] = f end
  end
  local values_mt = { __index = function(values, k)
    if map[k] then
      local f = lazy[k]
      if f == nil then return nil end
      local v = deepcopy(f.default)
      rawset(values, k, v)
      return v
    end
    local m = find_method(cls, k)
    if m ~= nil then return m end
    if k == "is_prompt_learning" or k == "is_adaption_prompt" or k == "peft_type_of_class" then
      return cls[k]
    end
    error(unknown_field(cls, k), 2)
  end }
  local function newindex(obj, k, v)
    local f = map[k]
    if not f then error(unknown_field(cls, k), 2) end
    local st = rawget(obj, STATE)
    st.values[k] = check_field(cls, f, v, st)
  end
  local function iterate(obj)
    local values = rawget(obj, STATE).values
    local i = 0
    return function()
      i = i + 1
      local f = fields[i]
      if f then return f.name, values[f.name] end
    end, obj, nil
  end
  local function show(obj) return obj:repr() end
  local function eq(a, b)
    local ma, mb = getmetatable(a), getmetatable(b)
    if type(ma) ~= "table" or type(mb) ~= "table" or ma.__class ~= mb.__class then return false end
    return core.json_encode(a:to_dict()) == core.json_encode(b:to_dict())
  end
  --- object_mt(values) -> the metatable of a new object
  local function object_mt(values)
    return { __index = values, __newindex = newindex, __pairs = iterate, __tostring = show, __eq = eq,
             __name = name, __class = cls, __peft_instance = true }
  end
  return values_mt, object_mt
end

-- A new object of cls over the state st.
local function instantiate(cls, st)
  local values = setmetatable(st.values, cls.values_mt)
  return setmetatable({ [STATE] = st }, cls.object_mt(values))
end

local FILL_NULLABLE = 16 -- null passes (src/lpeft_config.h)

-- The heavy part of a declaration: the field list (the parent's, in order,
-- with redeclared ones replaced in place), the field map and the metatable
-- of objects. Built-in classes do it on first use (M.lazy is set while the
-- start-up scripts run), so that start-up only records what registration
-- needs; classes declared later (extensions) do it at once, so that a
-- mistake in a declaration is reported where it is made.

function M.finish(cls)
  local specs = rawget(cls, LAZY)
  if specs == nil then return cls end
  rawset(cls, LAZY, nil)
  local name, parent = cls.name, rawget(cls, "parent")
  local ok, err = pcall(function()
    local fields, map = {}, {}
    if parent then
      for i, f in ipairs(parent.fields) do
        fields[i] = f
        map[f.name] = f
      end
    end
    local own = {}
    local list = specs
    if type(list) == "function" then list = list() end
    if type(list) ~= "table" then
      error(name .. ": fields must be a list of field declarations, got " .. types.kind(list), 0)
    end
    for i, fs in ipairs(list) do
      local f = normalise_field(cls, fs, i)
      if own[f.name] then error(name .. ": field '" .. f.name .. "' declared twice", 0) end
      own[f.name] = f
      if map[f.name] then
        for j, g in ipairs(fields) do
          if g.name == f.name then fields[j] = f end
        end
      else
        fields[#fields + 1] = f
      end
      map[f.name] = f
    end
    rawset(cls, "fields", fields)
    rawset(cls, "field_map", map)
    local values_mt, object_mt = make_instance_kit(cls, fields, map)
    rawset(cls, "values_mt", values_mt)
    rawset(cls, "object_mt", object_mt)
    -- the constructor's field pass (core.config_filler): values that the
    -- field's type passes through unchanged, and that no further rule looks
    -- at, are taken in C; a table default is deep-copied per object here
    local names, codes, defaults, literals, table_defaults, index = {}, {}, {}, {}, {}, {}
    for i, f in ipairs(fields) do
      names[i] = f.name
      index[f.name] = i
      local code = 0
      if not (f.min or f.max or f.gt or f.lt or f.check or f.nested) then
        code, literals[i] = types.accepted_as_is(f.node, f.set)
      end
      if f.allows_none then code = code | FILL_NULLABLE end
      codes[i] = code
      if type(f.default) ~= "table" then
        defaults[i] = f.default
      elseif not lazy_default(f) then
        table_defaults[#table_defaults + 1] = i
      end
    end
    rawset(cls, "field_index", index)
    rawset(cls, "fill", core.config_filler(names, codes, defaults, literals))
    rawset(cls, "table_defaults", table_defaults)
  end)
  if not ok then
    rawset(cls, LAZY, specs) -- leave it as it was
    error(err, 0)
  end
  return cls
end

local new -- cls.new(args [, opts]), defined under "building objects"

--- declare{ name=, parent=, kind=, peft_type=, doc=, fields=, post_init=,
--           is_prompt_learning=, is_adaption_prompt= } -> class
-- kind: "config" (a PEFT config class) or "helper" (a nested config such as
-- EvaConfig). Raises when the name is taken.
function M.declare(spec)
  assert(type(spec) == "table", "declare expects a table")
  local name = spec.name
  if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
    errors.raise("ValueError", "a config class needs a name that is an identifier, got " .. types.repr(name))
  end
  if M.classes[name] then
    errors.raise("KeyError", "There is already a class called '" .. name .. "'")
  end
  local fields = spec.fields
  if fields ~= nil and type(fields) ~= "table" and type(fields) ~= "function" then
    errors.raise("TypeError", name .. ": fields must be a list of field declarations (or a function returning"
      .. " one), got " .. types.kind(fields))
  end
  local parent = spec.parent
  if parent ~= nil and (type(parent) ~= "table" or getmetatable(parent) ~= class_mt) then
    errors.raise("TypeError", name .. ": parent must be a config class, got " .. types.repr(parent))
  end
  local prompt, adaption = spec.is_prompt_learning, spec.is_adaption_prompt
  if prompt == nil then prompt = parent and parent.is_prompt_learning end
  if adaption == nil then adaption = parent and parent.is_adaption_prompt end
  -- one constructor sizes the table once (new and LAZY are filled in below)
  local cls = setmetatable({
    name = name,
    parent = parent,
    kind = spec.kind or (parent and parent.kind) or "config",
    doc = spec.doc or (parent and parent.doc) or "",
    peft_type = spec.peft_type or (parent and parent.peft_type),
    is_prompt_learning = prompt and true or false,
    is_adaption_prompt = adaption and true or false,
    post_init = spec.post_init,
    inherit_post_init = spec.inherit_post_init ~= false,
    new = false,
    [LAZY] = fields or {},
  }, class_mt)
  if spec.methods then
    for k, v in pairs(spec.methods) do rawset(cls, k, v) end
  end
  rawset(cls, "new", function(args, opts) return new(cls, args, opts) end)
  if not M.lazy then M.finish(cls) end

  M.classes[name] = cls
  M.order[#M.order + 1] = name
  return cls
end

--- Forgets every class declared after the n-th (extension roll-back).
function M.truncate(n)
  for i = #M.order, n + 1, -1 do
    M.classes[M.order[i]] = nil
    M.order[i] = nil
  end
  resolvers = {}
end

-- building objects ------------------------------------------------------

local POST_INIT_CHAIN = setmetatable({}, { __mode = "k" }) -- class -> its post_init functions, root first

local function run_post_init(cls, obj, chk)
  local chain = POST_INIT_CHAIN[cls]
  if not chain then
    chain = {}
    local c = cls
    while c do
      local pi = rawget(c, "post_init")
      if pi then table.insert(chain, 1, pi) end
      if not rawget(c, "inherit_post_init") then break end
      c = rawget(c, "parent")
    end
    POST_INIT_CHAIN[cls] = chain
  end
  for i = 1, #chain do chain[i](obj, chk) end
end

-- The chk handed to post_init. Its functions are called with a dot
-- (chk.fail(field, ...)), so each is a closure over the object's state; they
-- are made on first use, as most post_inits use one or two of them.
local chk_makers = {
  --- Raises a ValueError naming the class and field.
  fail = function(cls, st)
    return function(field, message, ...)
      error(value_error(cls, field, fmt(message, ...)), 0)
    end
  end,
  --- The same, followed by ", got <the field's current value>".
  fail_value = function(cls, st)
    return function(field, message, ...)
      error(value_error(cls, field, fmt(message, ...), true, st.values[field]), 0)
    end
  end,
  --- Raises a TypeError naming the class and field.
  type_error = function(cls, st)
    return function(field, message, ...)
      local where = field and (cls.name .. "." .. field) or cls.name
      error(errors.new("TypeError", where .. ": " .. fmt(message, ...), { class = cls.name, field = field }), 0)
    end
  end,
  --- Records a warning on the object and emits it (unless quiet).
  warn = function(cls, st)
    return function(message, ...) warn_on(cls, st, fmt(message, ...)) end
  end,
  --- Whether the caller gave the field (as opposed to the default).
  given = function(cls, st)
    return function(field)
      local i = cls.field_index[field]
      return i ~= nil and given_bit(st.given, i)
    end
  end,
  --- Sets a derived value without the field checks, normalising lists so
  -- that an empty one is still written as [].
  set = function(cls, st)
    return function(field, v)
      local f = cls.field_map[field]
      if f and type(v) == "table" and not M.is_config(v) then
        local ok, nv = types.check(f.node, v, resolve)
        if ok then v = nv end
      end
      st.values[field] = v
    end
  end,
}

local CHK_CLS, CHK_ST = {}, {} -- private keys
local chk_mt = {
  __index = function(chk, k)
    local maker = chk_makers[k]
    if not maker then return nil end
    local fn = maker(rawget(chk, CHK_CLS), rawget(chk, CHK_ST))
    rawset(chk, k, fn)
    return fn
  end,
}

local function make_chk(cls, obj, st)
  -- loading: whether the object is being loaded from a file; values: the
  -- field values as they stand; class: the object's class
  return setmetatable({ [CHK_CLS] = cls, [CHK_ST] = st, loading = st.loading == true, values = st.values,
                        class = cls }, chk_mt)
end

--- cls.new(args [, opts]) -> object
-- opts.extra: unknown keys to keep (written back by to_dict); opts.quiet:
-- record warnings on the object without emitting them; opts.keep_unknown:
-- called with the list of keys of args that are not fields, instead of
-- raising (the loader's, which puts them in opts.extra); opts.nkeys: how
-- many keys args holds, when the caller knows (see core.config_filler).
function new(cls, args, opts)
  opts = opts or {}
  if args == nil then args = {} end
  if type(args) ~= "table" or getmetatable(args) == array_mt then
    errors.raise("TypeError", cls.name .. " expects a table of fields, got " .. types.kind(args), nil, 3)
  end
  if M.is_config(args) then args = args:to_dict() end
  -- the plain fields are taken and checked in C; the rest (lists, dicts,
  -- enums, bounded numbers, nested configs, values of the wrong type) are
  -- checked here in field order, so the first bad field is the one reported
  local values, given, nfound, nkeys, rest = cls.fill(args, opts.nkeys)
  if nkeys ~= nfound and not opts.checked then -- (checked: the loader has sorted the keys)
    local map = cls.field_map
    local keep = opts.keep_unknown
    if keep then -- the loader: keys that are not fields are kept (keep may raise)
      local unknown = {}
      for k in pairs(args) do
        if not map[k] then unknown[#unknown + 1] = k end
      end
      keep(unknown)
    else
      for k in pairs(args) do
        if not map[k] then error(unknown_field(cls, k, "got an unknown field"), 3) end
      end
    end
  end
  local st = { values = values, given = given, warnings = {}, extra = opts.extra or {}, quiet = opts.quiet,
               loading = opts.loading }
  local obj = instantiate(cls, st)
  local fields = cls.fields
  local table_defaults = cls.table_defaults
  for j = 1, #table_defaults do
    local i = table_defaults[j]
    if not given_bit(given, i) then
      local f = fields[i]
      values[f.name] = deepcopy(f.default)
    end
  end
  if rest then
    for j = 1, #rest do
      local f = fields[rest[j]]
      local name = f.name
      values[name] = check_field(cls, f, args[name], st)
    end
  end
  run_post_init(cls, obj, make_chk(cls, obj, st))
  return obj
end

-- Every class gets new() through the class chain.
Base.new = function(args, opts)
  error("call new on a class: LoraConfig.new{...} or LoraConfig{...}", 2)
end

-- object methods --------------------------------------------------------

function Base.get_class(self) return getmetatable(self).__class end

--- A plain table of every field (None as JSON null, sets as sorted lists,
-- nested configs as tables) plus the unknown keys kept from a file.
function Base.to_dict(self)
  local cls = self:get_class()
  local st = rawget(self, STATE)
  local out = {}
  for k, v in pairs(st.extra) do out[k] = deepcopy(v) end
  for _, f in ipairs(cls.fields) do
    if f.to_dict ~= false then
      local v = st.values[f.name]
      if v == nil then
        out[f.name] = null
      elseif M.is_config(v) then
        out[f.name] = v:to_dict()
      else
        out[f.name] = deepcopy(v)
      end
    end
  end
  return out
end

--- The text PEFT's save_pretrained writes: json.dumps(indent=2, sort_keys).
function Base.to_json(self, indent)
  return core.json_encode(self:to_dict(), indent == nil and 2 or indent)
end

function Base.copy(self)
  local cls = getmetatable(self).__class
  local st = rawget(self, STATE)
  local nst = { values = deepcopy(st.values), given = st.given, warnings = {},
                extra = deepcopy(st.extra), quiet = st.quiet }
  for i, w in ipairs(st.warnings) do nst.warnings[i] = w end
  return instantiate(cls, nst)
end

--- A new object with some fields changed, validated like a fresh one.
function Base.replace(self, changes)
  local d = self:to_dict()
  local st = rawget(self, STATE)
  local cls = self:get_class()
  for k in pairs(st.extra) do d[k] = nil end
  for _, f in ipairs(cls.fields) do
    if f.to_dict == false then d[f.name] = rawget(st.values, f.name) end
  end
  for k, v in pairs(changes or {}) do d[k] = v end
  return new(cls, d, { extra = deepcopy(st.extra), quiet = st.quiet })
end

--- Re-runs every check on the current values; returns self or raises.
function Base.validate(self)
  local fresh = self:replace({})
  local values = rawget(fresh, STATE).values
  rawget(self, STATE).values = values
  getmetatable(self).__index = values
  return self
end

--- Warnings recorded while the object was built or loaded.
function Base.warnings(self)
  local out = {}
  for i, w in ipairs(rawget(self, STATE).warnings) do out[i] = w end
  return out
end

--- Whether a field was given (in the constructor's table or the file), as
-- opposed to taking its default.
function Base.was_given(self, name)
  local i = getmetatable(self).__class.field_index[name]
  return i ~= nil and given_bit(rawget(self, STATE).given, i)
end

--- The keys kept from a file that the class does not know.
function Base.extra(self)
  return deepcopy(rawget(self, STATE).extra)
end

--- Where the object was loaded from (a path), or nil.
function Base.source(self)
  return rawget(self, STATE).source
end

local function same(a, b)
  if a == b then return true end
  if (a == nil or a == null) and (b == nil or b == null) then return true end
  if type(a) ~= "table" or type(b) ~= "table" then
    return false
  end
  local ok1, ea = pcall(core.json_encode, a)
  local ok2, eb = pcall(core.json_encode, b)
  return ok1 and ok2 and ea == eb
end
M.same = same

--- The fields whose value differs from the class default, in field order:
-- a list of { name=, value=, default= }. peft_type and peft_version are left
-- out (they are always set).
function Base.diff(self)
  local cls = self:get_class()
  local st = rawget(self, STATE)
  local out = {}
  for _, f in ipairs(cls.fields) do
    if f.name ~= "peft_type" and f.name ~= "peft_version" and f.to_dict ~= false then
      local v = st.values[f.name]
      local cmpv = v
      if M.is_config(v) then cmpv = v:to_dict() end
      if not same(cmpv, f.default) then
        out[#out + 1] = { name = f.name, value = v, default = f.default }
      end
    end
  end
  return out
end

function Base.repr(self)
  local cls = self:get_class()
  local parts = {}
  for _, d in ipairs(self:diff()) do
    local v = d.value
    if M.is_config(v) then
      v = v:to_dict()
    end
    parts[#parts + 1] = d.name .. "=" .. types.repr(v)
  end
  return cls.name .. "(" .. table.concat(parts, ", ") .. ")"
end

--- cfg:save_pretrained(dir): writes dir/adapter_config.json atomically.
function Base.save_pretrained(self, dir)
  if type(dir) ~= "string" or dir == "" then
    errors.raise("TypeError", "save_pretrained expects a directory path, got " .. types.repr(dir))
  end
  local kind = core.stat(dir)
  if kind and kind ~= "directory" then
    errors.raise("NotADirectoryError",
      "Provided path (" .. dir .. ") should be a directory, not a file", { path = dir })
  end
  local text = self:to_json()
  if not kind then
    local ok, msg = core.mkdir_p(dir)
    if not ok then errors.raise("OSError", msg, { path = dir }) end
  end
  local path = dir:gsub("/+$", "") .. "/" .. M.CONFIG_NAME
  if dir == "/" then path = "/" .. M.CONFIG_NAME end
  local ok, msg = core.write_atomic(path, text)
  if not ok then errors.raise("OSError", msg .. " (the previous file, if any, is unchanged)", { path = path }) end
  return path
end

-- class-level helpers ----------------------------------------------------

--- cls:field(name) -> the field descriptor, or nil, message.
function Base.field(cls, name)
  local f = cls.field_map and cls.field_map[name]
  if f then return f end
  return nil, unknown_field(cls, name).message
end

--- cls:lineage() -> { cls, parent, ... } from the class up to its root.
function Base.lineage(cls)
  local out, c = {}, cls
  while c do
    out[#out + 1] = c
    c = rawget(c, "parent")
  end
  return out
end

--- cls:defaults() -> to_dict() of an object built with no arguments, or nil
-- and the error when the class needs arguments (AdaLoraConfig: total_step).
function Base.defaults(cls)
  local ok, obj = pcall(new, cls, {}, { quiet = true })
  if not ok then return nil, obj end
  return obj:to_dict()
end

function Base.is_subclass_of(cls, other)
  local c = cls
  while c do
    if c == other then return true end
    c = rawget(c, "parent")
  end
  return false
end

M.Base = Base
M.STATE = STATE
M.new = new
M.class_mt = class_mt
M.check_field = check_field
M.value_error = value_error

function M.is_class(v)
  return type(v) == "table" and getmetatable(v) == class_mt
end

function M.is_config(v)
  if type(v) ~= "table" then return false end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__peft_instance == true
end

return M
