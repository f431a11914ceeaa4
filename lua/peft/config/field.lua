-- peft.config.field: field declarations and values. A declaration
-- ({ name, annotation, default, help, options }) becomes a field descriptor
-- (normalise); a value given for a field is checked and normalised (check);
-- the named types annotations use (PeftType, TaskType, the enums methods
-- declare, nested helper configs) are resolved here.
local core = require "peft.core"
local errors = require "peft.errors"
local registry = require "peft.registry"
local common = require "peft.config.common"
local types = require "peft.types"

local M = {}

local null = core.null
local array_mt = core.json_array_mt
local classes = registry.classes

-- named-type resolution (enums and nested config classes) ---------------

local enums = registry.enums -- name -> { list of members }
-- resolved names, kept while the registry's generation stays the same (no class or enum
-- added or rolled back since)
local resolvers, generation = {}, registry.generation

local function enum_members(name)
  if name == "PeftType" then return core.types end
  if name == "TaskType" then return core.tasks() end
  return enums[name]
end
M.enum_members = enum_members

local function resolve(name)
  if generation ~= registry.generation then resolvers, generation = {}, registry.generation end
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
  elseif classes[name] and classes[name].kind == "helper" then
    local cls = classes[name]
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

local EMPTY_OK = setmetatable({}, { __mode = "k" }) -- helper class -> its defaults are valid

--- empty_ok(f) -> whether an empty dict given for field f is taken as it is: f holds a
-- nested helper config kept as a dict (PEFT's loftq_config = {}) whose class accepts its
-- defaults (found out now, once per class, if no value has shown it yet).
local function empty_ok(f)
  if not f.nested or f.convert or f.check or f.min or f.max or f.gt or f.lt then return false end
  local cls = classes[f.nested]
  if not cls then return false end
  if EMPTY_OK[cls] == nil then
    EMPTY_OK[cls] = pcall(cls.new, {}, { quiet = true })
  end
  return EMPTY_OK[cls]
end

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
  local cls = classes[f.nested]
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
  if st then
    local list = st.warnings
    if list == common.NO_WARNINGS then
      list = {}
      st.warnings = list
    end
    list[#list + 1] = m
  end
  if not (st and st.quiet) then errors.warn(m) end
end

-- Checks and normalises a value for field f of class cls. Raises ValueError.
-- st: the state of the object the value is for (its warnings).
local function check_field(cls, f, v, st)
  -- an empty dict for a nested config kept as a dict (PEFT's default
  -- loftq_config) whose class has been seen to accept it
  if f.nested and not f.convert and not f.check and type(v) == "table" and next(v) == nil and getmetatable(v) == nil
    and EMPTY_OK[classes[f.nested]] == true then
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
      local seen, out, strings = {}, setmetatable({}, array_mt), true
      for _, x in ipairs(v) do
        if not seen[x] then
          seen[x] = true
          out[#out + 1] = x
          if type(x) ~= "string" then strings = false end
        end
      end
      if strings then
        table.sort(out)
      else
        table.sort(out, function(a, b) return tostring(a) < tostring(b) end)
      end
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

-- A name in an annotation that is not one of the parser's forms must be an
-- enum or a helper config class declared before: a misspelt one ("integer",
-- "flaot") would otherwise switch the field's checking off.
local ANNOTATION_FORMS = { "int", "float", "str", "bool", "Any", "None", "list[...]", "set[...]", "tuple[...]",
                           "dict[...]", "Optional[...]", "Union[...]", "Literal[...]" }
-- other languages' names for them
local ANNOTATION_ALIASES = { integer = "int", long = "int", double = "float", number = "float", real = "float",
                             string = "str", text = "str", boolean = "bool", array = "list", map = "dict",
                             mapping = "dict", any = "Any", none = "None", null = "None", optional = "Optional",
                             union = "Union", literal = "Literal" }
local function check_annotation_names(cls, field, annotation, node)
  if node.k == "named" and not resolve(node.name) then
    local enums_known, helpers = { "PeftType", "TaskType" }, {}
    for name in pairs(enums) do enums_known[#enums_known + 1] = name end
    for _, name in ipairs(registry.order) do
      if classes[name].kind == "helper" then helpers[#helpers + 1] = name end
    end
    table.sort(enums_known)
    local candidates = { "int", "float", "str", "bool", "Any", "None", "list", "set", "tuple", "dict", "Optional",
                         "Union", "Literal" }
    for _, n in ipairs(enums_known) do candidates[#candidates + 1] = n end
    for _, n in ipairs(helpers) do candidates[#candidates + 1] = n end
    errors.raise("ValueError", string.format("%s.%s: unknown type '%s' in the annotation '%s'%s; an annotation is "
      .. "made of %s, an enum (%s) or a helper config class declared before (%s)", cls.name, field, node.name,
      annotation, ANNOTATION_ALIASES[node.name:lower()] and (" (did you mean '" .. ANNOTATION_ALIASES[node.name:lower()]
      .. "'?)") or common.suggest(node.name, candidates), table.concat(ANNOTATION_FORMS, ", "),
      table.concat(enums_known, ", "), #helpers > 0 and table.concat(helpers, ", ") or "none yet"),
      { field = field })
  end
  local alts, items = node.alts, node.items
  if alts then for i = 1, #alts do check_annotation_names(cls, field, annotation, alts[i]) end end
  if items then for i = 1, #items do check_annotation_names(cls, field, annotation, items[i]) end end
  if node.of then check_annotation_names(cls, field, annotation, node.of) end
  if node.key then check_annotation_names(cls, field, annotation, node.key) end
  if node.val then check_annotation_names(cls, field, annotation, node.val) end
end

-- (parsed annotations are shared: one found sound stays so while nothing is added or rolled back)
local sound, sound_generation = setmetatable({}, { __mode = "k" }), nil
local function check_annotation(cls, field, annotation, node)
  if sound_generation ~= registry.generation then
    sound, sound_generation = setmetatable({}, { __mode = "k" }), registry.generation
  end
  if sound[node] then return end
  check_annotation_names(cls, field, annotation, node)
  sound[node] = true
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
  if type(f.name) ~= "string" or not f.name:match("^[%a_][%w_]*$") then
    error(string.format("%s: field %d needs a name", cls.name, position), 0)
  end
  if type(f.type) ~= "string" then error(string.format("%s.%s: field needs a type annotation", cls.name, f.name), 0) end
  if type(f.help) ~= "string" or f.help == "" then
    error(string.format("%s.%s: field needs a help text", cls.name, f.name), 0)
  end
  local check_type = f.check_type
  if (f.number or f.whole) and not check_type then
    -- int -> float, Optional[int] -> Optional[float] (float takes integers too)
    check_type = f.type:gsub("%f[%w]int%f[^%w]", "float")
  end
  f.node = types.parse(check_type or f.type) -- (what values are checked against)
  local declared = check_type and types.parse(f.type) or f.node
  check_annotation(cls, f.name, f.type, declared)
  -- an integer size, count or seed: what PEFT's model code needs
  f.integer_only = not f.number and not f.whole and types.describe(declared):find("integer", 1, true) ~= nil
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
      if n.k == "named" and classes[n.name] and classes[n.name].kind == "helper" then return n.name end
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
  return type(f.default) == "table" and not f.allows_none and common.is_config(f.default)
end


M.value_error = value_error
M.warn_on = warn_on
M.check = check_field
M.normalise = normalise_field
M.lazy_default = lazy_default
M.empty_ok = empty_ok

return M
