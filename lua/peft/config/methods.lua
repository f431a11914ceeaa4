-- peft.config.methods: what every config object (and class) can do: to_dict,
-- to_json, copy, replace, validate, diff, repr, save_pretrained, field,
-- lineage, defaults, ...
local core = require "peft.core"
local errors = require "peft.errors"
local common = require "peft.config.common"
local class = require "peft.config.class"
local object = require "peft.config.object"
local types = require "peft.types"

local null = core.null
local STATE = common.STATE
local deepcopy, given_bit, same = common.deepcopy, common.given_bit, common.same
local Base = class.Base
local CONFIG_NAME = "adapter_config.json"

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
      elseif common.is_config(v) then
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
                extra = deepcopy(st.extra), quiet = st.quiet, lenient = st.lenient }
  for i, w in ipairs(st.warnings) do nst.warnings[i] = w end
  return object.instantiate(cls, nst)
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
  return object.construct(cls, d, { extra = deepcopy(st.extra), quiet = st.quiet, lenient = st.lenient })
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
      if common.is_config(v) then cmpv = v:to_dict() end
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
    if common.is_config(v) then
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
  local path = dir:gsub("/+$", "") .. "/" .. CONFIG_NAME
  if dir == "/" then path = "/" .. CONFIG_NAME end
  local ok, msg = core.write_atomic(path, text)
  if not ok then errors.raise("OSError", msg .. " (the previous file, if any, is unchanged)", { path = path }) end
  return path
end

-- class-level helpers ----------------------------------------------------

--- cls:field(name) -> the field descriptor, or nil, message.
function Base.field(cls, name)
  local f = cls.field_map and cls.field_map[name]
  if f then return f end
  return nil, class.unknown_field(cls, name).message
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
  local ok, obj = pcall(object.new, cls, {}, { quiet = true })
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

