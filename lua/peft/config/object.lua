-- peft.config.object: config objects: their metatables (a field read is a
-- plain table read; an assignment is checked), the constructor (the field
-- pass in C, the rest checked in field order, then the post_init chain with
-- its chk helpers).
local core = require "peft.core"
local errors = require "peft.errors"
local common = require "peft.config.common"
local field = require "peft.config.field"
local class = require "peft.config.class"
local types = require "peft.types"

local M = {}

local array_mt = core.json_array_mt
local STATE = common.STATE
local NO_WARNINGS, NO_EXTRA = common.NO_WARNINGS, common.NO_EXTRA
local deepcopy, given_bit, fmt = common.deepcopy, common.given_bit, common.fmt
local find_method, unknown_field = class.find_method, class.unknown_field
local check_field, value_error, warn_on = field.check, field.value_error, field.warn_on
local lazy_default = field.lazy_default

-- Objects: a table that holds only [STATE] = st, with a metatable of its
-- own whose __index is st.values, so that reading a field is a plain table
-- read. The values table's metatable (one per class) answers for fields
-- that are None, for methods and for mistakes. The object never holds a
-- field itself, so every assignment goes through __newindex and is checked.
function M.instance_kit(cls, fields, map)
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
function M.instantiate(cls, st)
  local values = setmetatable(st.values, cls.values_mt)
  return setmetatable({ [STATE] = st }, cls.object_mt(values))
end

-- building objects ------------------------------------------------------

-- cls's post_init functions, root first
local function post_init_chain(cls)
  local chain = {}
  local c = cls
  while c do
    local pi = rawget(c, "post_init")
    if pi then table.insert(chain, 1, pi) end
    if not rawget(c, "inherit_post_init") then break end
    c = rawget(c, "parent")
  end
  return chain
end

local function run_chain(chain, obj, chk)
  for i = 1, #chain do chain[i](obj, chk) end
end

-- The chk handed to post_init. Its functions are called with a dot
-- (chk.fail(field, ...)). There is one chk per class, made on first use: its
-- functions read the state of the object whose post_init is running (box.st,
-- set by construct and put back after, so that a post_init that builds
-- another object of its class finds its own again). A chk is for use while
-- post_init runs, not to be kept.
local function chk_functions(cls, box)
  -- chk.fail_later and chk.fail_value_later (see below)
  local function later(with_value)
    return function(since, fname, message, ...)
      local st = box.st
      local text = fmt(message, ...)
      if not st.lenient then error(value_error(cls, fname, text, with_value, st.values[fname]), 0) end
      if with_value then text = text .. ", got " .. types.repr(st.values[fname]) end
      warn_on(cls, st, string.format("%s: %s (a check PEFT added in %s; loaded leniently)", fname, text, since))
    end
  end
  return {
    --- Raises a ValueError naming the class and field.
    fail = function(fname, message, ...)
      error(value_error(cls, fname, fmt(message, ...)), 0)
    end,
    --- The same, followed by ", got <the field's current value>".
    fail_value = function(fname, message, ...)
      error(value_error(cls, fname, fmt(message, ...), true, box.st.values[fname]), 0)
    end,
    --- fail_later(since, field, message, ...): a check PEFT added in release `since`, which a file
    -- written before it may fail: fail's error, or, when the object is loaded leniently, a warning
    -- (post_init goes on: the caller skips what depends on the value). fail_value_later: the same
    -- with fail_value's error.
    fail_later = later(false),
    fail_value_later = later(true),
    --- Raises a TypeError naming the class and field.
    type_error = function(fname, message, ...)
      local where = fname and (cls.name .. "." .. fname) or cls.name
      error(errors.new("TypeError", where .. ": " .. fmt(message, ...), { class = cls.name, field = fname }), 0)
    end,
    --- Records a warning on the object and emits it (unless quiet).
    warn = function(message, ...) warn_on(cls, box.st, fmt(message, ...)) end,
    --- Whether the caller gave the field (as opposed to the default).
    given = function(fname)
      local i = cls.field_index[fname]
      return i ~= nil and given_bit(box.st.given, i)
    end,
    --- Sets a derived value without the field checks, normalising lists so
    -- that an empty one is still written as [].
    set = function(fname, v)
      local f = cls.field_map[fname]
      if f and type(v) == "table" and not common.is_config(v) then
        local ok, nv = types.check(f.node, v, field.resolve)
        if ok then v = nv end
      end
      box.st.values[fname] = v
    end,
  }
end

local KITS = setmetatable({}, { __mode = "k" }) -- class -> { chk, box, chain }

-- Runs cls's post_init chain on obj (state st) with the class's chk.
local function post_init(cls, obj, st)
  local kit = KITS[cls]
  if not kit then
    local box = {}
    -- loading: whether the object is being loaded from a file; values: the field values as
    -- they stand; class: the object's class
    kit = { chk = chk_functions(cls, box), box = box, chain = post_init_chain(cls) }
    kit.chk.class = cls
    KITS[cls] = kit
  end
  local chk, box = kit.chk, kit.box
  local outer_st, outer_values, outer_loading = box.st, chk.values, chk.loading
  box.st, chk.values, chk.loading = st, st.values, st.loading == true
  local ok, err = pcall(run_chain, kit.chain, obj, chk)
  box.st, chk.values, chk.loading = outer_st, outer_values, outer_loading
  if not ok then error(err, 0) end
end

--- construct(cls, args, how) -> object: the constructor itself, for peft's
-- own callers. how.quiet: record warnings on the object without emitting
-- them; how.extra: unknown keys to keep (written back by to_dict);
-- how.keep_unknown: called with the list of keys of args that are not fields
-- and how, instead of raising (the loader's, which puts them in how.extra);
-- how.nkeys: how many keys args holds, when the caller knows (see
-- core.config_filler); how.adopt: args (a plain table the caller owns and
-- gives up, such as one just decoded) becomes the object's values table; how.checked: the caller has left out every key that
-- is not a field; how.loading: the values come from a file; how.lenient:
-- the checks post_init makes with chk.fail_later warn instead (kept by the
-- object, for validate).
local function construct(cls, args, opts)
  if args == nil then args = {} end
  local amt = type(args) == "table" and (getmetatable(args) or true)
  if not amt or amt == array_mt then
    errors.raise("TypeError", cls.name .. " expects a table of fields, got " .. types.kind(args), nil, 3)
  end
  if amt ~= true and common.is_config(args) then args = args:to_dict() end
  -- the plain fields are taken and checked in C; the rest (lists, dicts,
  -- enums, bounded numbers, nested configs, values of the wrong type) are
  -- checked here in field order, so the first bad field is the one reported
  local adopt = opts.adopt and amt == true
  local values, given, nfound, nkeys, rest = cls.fill(args, opts.nkeys, adopt)
  if nkeys ~= nfound and not opts.checked then -- (checked: the loader has sorted the keys)
    local map = cls.field_map
    local keep = opts.keep_unknown
    if keep then -- the loader: keys that are not fields are kept (keep may raise)
      local unknown = {}
      for k in pairs(args) do
        if not map[k] then unknown[#unknown + 1] = k end
      end
      keep(unknown, opts)
      if adopt then -- (args is values: only fields stay)
        for i = 1, #unknown do args[unknown[i]] = nil end
      end
    else
      for k in pairs(args) do
        if not map[k] then error(unknown_field(cls, k, "got an unknown field"), 3) end
      end
    end
  end
  local st = { values = values, given = given, warnings = NO_WARNINGS, extra = opts.extra or NO_EXTRA, quiet = opts.quiet,
               loading = opts.loading, lenient = opts.lenient }
  local obj = M.instantiate(cls, st)
  local fields = cls.fields
  local table_defaults = cls.table_defaults -- (those the field pass does not copy)
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
  post_init(cls, obj, st)
  return obj
end

M.construct = construct

--- cls.new(args [, opts]) -> object; opts.quiet: record warnings on the
-- object without emitting them (cfg:warnings()).
function M.new(cls, args, opts)
  return construct(cls, args, { quiet = opts and opts.quiet })
end

-- Every class gets new() through the class chain.
class.Base.new = function(args, opts)
  error("call new on a class: LoraConfig.new{...} or LoraConfig{...}", 2)
end


return M
