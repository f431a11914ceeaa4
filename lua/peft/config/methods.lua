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
                extra = deepcopy(st.extra), quiet = st.quiet, loading = st.loading, lenient = st.lenient }
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
  local obj = object.construct(cls, d, { extra = deepcopy(st.extra), quiet = st.quiet,
    lenient = st.lenient })
  -- given: what the original was given, and the changes (not every field of d)
  local bytes = {}
  for i, f in ipairs(cls.fields) do
    if given_bit(st.given, i) or (type(changes) == "table" and changes[f.name] ~= nil) then
      local at = (i - 1) // 8 + 1
      bytes[at] = (bytes[at] or 0) | (1 << ((i - 1) % 8))
    end
  end
  local n = (#cls.fields + 7) // 8
  for i = 1, n do bytes[i] = string.char(bytes[i] or 0) end
  local nst = rawget(obj, STATE)
  nst.given, nst.loading = table.concat(bytes, "", 1, n), st.loading
  return obj
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

-- a value as compared and shown: nested configs as their dict
local function plain(v)
  if common.is_config(v) then return v:to_dict() end
  return v
end

-- the fields of a class that a file holds (runtime-only ones are never written)
local function written_fields(cls)
  local out = {}
  for _, f in ipairs(cls.fields) do
    if f.to_dict ~= false then out[#out + 1] = f end
  end
  return out
end

--- cfg:diff() -> the fields whose value differs from the class default, in field
-- order: a list of { name=, value=, default= }. peft_type and peft_version are left
-- out (they are always set).
--- cfg:diff(other) -> what differs between two configs (of one class or two): a list
-- of { name=, value= (cfg's), other= (other's), default= } in field order (cfg's
-- fields, then those only other's class has), then the unknown keys kept from the
-- files ({ name=, value=, other=, unknown = true }). A field only one class has is
-- marked only = "self" or only = "other"; a different class gives peft_type first.
function Base.diff(self, other)
  local cls = self:get_class()
  local st = rawget(self, STATE)
  local out = {}
  if other == nil then
    for _, f in ipairs(cls.fields) do
      if f.name ~= "peft_type" and f.name ~= "peft_version" and f.to_dict ~= false then
        local v = st.values[f.name]
        if not same(plain(v), f.default) then
          out[#out + 1] = { name = f.name, value = v, default = f.default }
        end
      end
    end
    return out
  end
  if not common.is_config(other) then
    errors.raise("TypeError", "diff expects a config to compare with, got " .. types.kind(other))
  end
  local ocls = other:get_class()
  local ost = rawget(other, STATE)
  local owritten, ofields = written_fields(ocls), {}
  for _, f in ipairs(owritten) do ofields[f.name] = f end
  local seen = {}
  for _, f in ipairs(written_fields(cls)) do
    seen[f.name] = true
    local v = st.values[f.name]
    local of = ofields[f.name]
    if not of then
      out[#out + 1] = { name = f.name, value = v, default = f.default, only = "self" }
    else
      local ov = ost.values[f.name]
      if not same(plain(v), plain(ov)) then
        out[#out + 1] = { name = f.name, value = v, other = ov, default = f.default }
      end
    end
  end
  for _, f in ipairs(owritten) do
    if not seen[f.name] then
      out[#out + 1] = { name = f.name, other = ost.values[f.name], default = f.default, only = "other" }
    end
  end
  -- peft_type first when the classes differ
  for i, d in ipairs(out) do
    if d.name == "peft_type" and i > 1 then
      table.remove(out, i)
      table.insert(out, 1, d)
      break
    end
  end
  local keys = {}
  for k in pairs(st.extra) do keys[#keys + 1] = k end
  for k in pairs(ost.extra) do
    if st.extra[k] == nil then keys[#keys + 1] = k end
  end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v, ov = st.extra[k], ost.extra[k]
    if not same(v, ov) then out[#out + 1] = { name = k, value = v, other = ov, unknown = true } end
  end
  return out
end

--- cfg:shown_fields() -> { { name=, value= } ... }: what repr shows, in field order:
-- the fields given to the constructor and those whose value is not the default
-- (for a config loaded from a file, which names every field, the latter only);
-- peft_type and peft_version only when not what the class sets.
function Base.shown_fields(self)
  local cls = self:get_class()
  local st = rawget(self, STATE)
  local out = {}
  local from_file = st.loading
  for i, f in ipairs(cls.fields) do
    if f.to_dict ~= false then
      local v = st.values[f.name]
      local differs = not same(plain(v), f.default)
      local given = not from_file and given_bit(st.given, i)
      -- peft_type is the class's own; peft_version is this runtime's unless a file says otherwise
      if f.name == "peft_type" then differs, given = false, false end
      if f.name == "peft_version" then differs = false end
      if differs or given then out[#out + 1] = { name = f.name, value = v } end
    end
  end
  return out
end

function Base.repr(self)
  local cls = self:get_class()
  local parts = {}
  for _, d in ipairs(self:shown_fields()) do
    parts[#parts + 1] = d.name .. "=" .. types.repr(plain(d.value))
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

