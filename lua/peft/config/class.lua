-- peft.config.class: config classes: declare{...}, the class metatable
-- (inheritance, class methods), the look-up of object methods along the class
-- chain (cached), and finish(), the heavy part of a declaration.
local core = require "peft.core"
local errors = require "peft.errors"
local registry = require "peft.registry"
local common = require "peft.config.common"
-- peft.config.field (finishing a class) and peft.config.methods (what classes and objects
-- can do) are loaded on first use, not at start-up
local field_module
local function field()
  field_module = field_module or require "peft.config.field"
  return field_module
end
local methods_loaded = false
local function load_methods()
  if not methods_loaded then
    methods_loaded = true -- (first: the module uses classes)
    local ok, err = pcall(require, "peft.config.methods")
    if not ok then
      methods_loaded = false -- (out of memory, say: the next use loads it again)
      error(err, 0)
    end
  end
end
-- peft.types is not needed at start-up: it is loaded on first use
local types_module
local function types()
  types_module = types_module or require "peft.types"
  return types_module
end

local M = {}

-- counts the changes to any class or to Base (a key added or replaced): what
-- others keep of a class's entries is stale when it moves
M.generation = 0

local LAZY = setmetatable({}, { __name = "peft.config.lazy" }) -- private key: raw field specs

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

local PENDING = registry.PENDING

class_mt.__index = function(cls, k)
  if rawget(cls, PENDING) then
    registry.load_pending(cls)
    return cls[k]
  end
  if LAZY_FIELDS[k] and rawget(cls, LAZY) then
    M.finish(cls)
    return rawget(cls, k)
  end
  local p = rawget(cls, "parent")
  while p do
    if rawget(p, PENDING) then registry.load_pending(p) end
    local v = rawget(p, k)
    if v ~= nil then return v end
    p = rawget(p, "parent")
  end
  if classmethods[k] then return bind(cls, classmethods[k]) end
  load_methods()
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
  M.generation = M.generation + 1
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
    verb or "has no field", tostring(k), type(k) == "string" and common.suggest(k, field_names(cls)) or ""),
    { class = cls.name, field = type(k) == "string" and k or nil })
end


local FILL_NULLABLE = core.FILL.NULLABLE -- null passes
local FILL_EMPTY_DICT = core.FILL.EMPTY_DICT -- {} for a nested config kept as a dict passes

-- The heavy part of a declaration: the field list (the parent's, in order,
-- with redeclared ones replaced in place), the field map and the metatable
-- of objects. Built-in classes do it on first use (M.lazy is set while the
-- start-up scripts run), so that start-up only records what registration
-- needs; classes declared later (extensions) do it at once, so that a
-- mistake in a declaration is reported where it is made.

function M.finish(cls)
  local specs = rawget(cls, LAZY)
  if not specs then return cls end
  load_methods() -- a finished class makes objects: they need their methods
  local name, parent = cls.name, rawget(cls, "parent")
  -- (made before the class changes, and the class changed inside the protected call: when memory
  -- runs out, a raise outside it finds the class as it was)
  local ok, err = pcall(function()
    rawset(cls, LAZY, false) -- (not re-entered; the slot stays: putting specs back allocates nothing)
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
      error(name .. ": fields must be a list of field declarations, got " .. types().kind(list), 0)
    end
    for i, fs in ipairs(list) do
      local f = field().normalise(cls, fs, i)
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
    local values_mt, object_mt = require("peft.config.object").instance_kit(cls, fields, map)
    rawset(cls, "values_mt", values_mt)
    rawset(cls, "object_mt", object_mt)
    -- the constructor's field pass (core.config_filler): values that the
    -- field's type passes through unchanged, and that no further rule looks
    -- at, are taken in C, which also puts in the defaults; a table default
    -- holding a config object is deep-copied per object by the constructor
    local names, codes, defaults, literals, table_defaults, index = {}, {}, {}, {}, {}, {}
    for i, f in ipairs(fields) do
      names[i] = f.name
      index[f.name] = i
      local code = 0
      if not (f.min or f.max or f.gt or f.lt or f.check or f.nested) then
        code, literals[i] = types().accepted_as_is(f.node, f.set)
      elseif field().empty_ok(f) then
        code = FILL_EMPTY_DICT
      end
      if f.allows_none then code = code | FILL_NULLABLE end
      codes[i] = code
      if type(f.default) ~= "table" or common.is_plain(f.default) then
        defaults[i] = f.default -- (a table is deep-copied for each object by the field pass)
      elseif not field().lazy_default(f) then
        table_defaults[#table_defaults + 1] = i
      end
    end
    rawset(cls, "field_index", index)
    rawset(cls, "fill", core.config_filler(names, codes, defaults, literals))
    rawset(cls, "table_defaults", table_defaults)
  end)
  if not ok then
    -- leave it as it was (allocating nothing: memory may have run out)
    for k in next, LAZY_FIELDS do rawset(cls, k, nil) end
    rawset(cls, LAZY, specs)
    error(err, 0)
  end
  return cls
end

--- declare{ name=, parent=, kind=, peft_type=, doc=, fields=, post_init=,
--           is_prompt_learning=, is_adaption_prompt= } -> class
-- kind: "config" (a PEFT config class) or "helper" (a nested config such as
-- EvaConfig). Raises when the name is taken.
function M.declare(spec)
  assert(type(spec) == "table", "declare expects a table")
  local name = spec.name
  -- (the built-in start-up scripts, trusted, spare themselves the pattern)
  if type(name) ~= "string" or (not M.lazy and not name:match("^[%a_][%w_]*$")) then
    errors.raise("ValueError", "a config class needs a name that is an identifier, got " .. types().repr(name))
  end
  if registry.classes[name] then
    errors.raise("KeyError", "There is already a class called '" .. name .. "'")
  end
  local fields = spec.fields
  if fields ~= nil and type(fields) ~= "table" and type(fields) ~= "function" then
    errors.raise("TypeError", name .. ": fields must be a list of field declarations (or a function returning"
      .. " one), got " .. types().kind(fields))
  end
  local parent = spec.parent
  if parent ~= nil and (type(parent) ~= "table" or getmetatable(parent) ~= class_mt) then
    errors.raise("TypeError", name .. ": parent must be a config class, got " .. types().repr(parent))
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
    peft_type = spec.peft_type or (parent and rawget(parent, "peft_type")), -- (a nil is not looked up)
    is_prompt_learning = prompt and true or false,
    is_adaption_prompt = adaption and true or false,
    post_init = spec.post_init,
    inherit_post_init = spec.inherit_post_init ~= false,
    new = false,
    [LAZY] = fields or {},
    [PENDING] = false, -- (a slot for registry.pending)
  }, class_mt)
  if spec.methods then
    for k, v in pairs(spec.methods) do rawset(cls, k, v) end
  end
  rawset(cls, "new", function(args, opts) return require("peft.config.object").new(cls, args, opts) end)
  if not M.lazy then M.finish(cls) end

  registry.add_class(cls)
  return cls
end


--- define(cls, parts): the definitions of a declared class: parts.fields (a list, or a
-- function returning one), post_init, inherit_post_init, check_kwargs, methods.
local DEFINABLE = { fields = true, post_init = true, inherit_post_init = true, check_kwargs = true, methods = true }

function M.define(cls, parts)
  for k in pairs(parts) do
    if not DEFINABLE[k] then
      errors.raise("TypeError", string.format("define %s: unknown entry '%s'%s", cls.name, tostring(k),
        type(k) == "string" and common.suggest(k, common.sorted_keys(DEFINABLE)) or ""))
    end
  end
  if rawget(cls, "fields") then
    errors.raise("ValueError", cls.name .. " is already defined")
  end
  local fields = parts.fields
  if fields ~= nil and type(fields) ~= "table" and type(fields) ~= "function" then
    errors.raise("TypeError", cls.name .. ": fields must be a list of field declarations (or a function returning"
      .. " one), got " .. types().kind(fields))
  end
  rawset(cls, LAZY, fields or {})
  if parts.post_init ~= nil then rawset(cls, "post_init", parts.post_init) end
  if parts.inherit_post_init ~= nil then rawset(cls, "inherit_post_init", parts.inherit_post_init) end
  if parts.check_kwargs ~= nil then rawset(cls, "check_kwargs", parts.check_kwargs) end
  for k, v in pairs(parts.methods or {}) do rawset(cls, k, v) end
  rawset(cls, registry.PENDING, false)
  forget_methods()
  if not M.lazy then M.finish(cls) end
  return cls
end

M.Base = Base
M.class_mt = class_mt
M.find_method = find_method
M.unknown_field = unknown_field

function M.is_class(v)
  return type(v) == "table" and getmetatable(v) == class_mt
end

return M
