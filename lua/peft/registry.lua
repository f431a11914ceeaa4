-- peft.registry: everything the start-up and extension scripts declare, in one place, and
-- the one roll-back that undoes a script that fails.
--
-- The C core (peft.core) owns the PeftType members and the methods (with their config and
-- model classes, which make PEFT's four mappings); this module owns the rest of what scripts
-- add: the class namespace (config, helper and base classes by name, in declaration order)
-- and the string enums that field annotations name. Whatever else a script may add (the
-- targets of `peft check`) records how to undo itself here too.
--
--   local mark = registry.mark()
--   ... run a script ...
--   registry.rollback(mark)   -- on failure: types, methods, classes, enums, ... as they were
--   registry.commit(mark)     -- on success
local core = require "peft.core"

local M = {}

M.classes = {} -- name -> class (configs, helper configs, base classes)
M.order = {}   -- class names in declaration order
M.models = {}  -- name -> model class
M.enums = {}   -- name -> list of members
-- bumped by every addition and roll-back: what caches a look-up of the names above
-- (peft.config.field's resolved annotation names) starts again when it changes
M.generation = 0

-- The definitions of a class (a config's fields and rules, a model class's model side) may
-- come after its declaration, from a module loaded when the class is first used: the
-- built-in method files are embedded as a declaration part, run at start-up, and a
-- definitions part (see scripts/embed-lua). A class waiting for its definitions holds the
-- module's name under this key.
M.PENDING = setmetatable({}, { __name = "peft.registry.pending" })

-- While a mark is open, each addition records how to undo itself (built-in start-up
-- scripts run without a mark and record nothing).
local journal, open = {}, 0

--- record(undo): remembers how to undo an addition, when a script's roll-back may need it.
function M.record(undo)
  if open > 0 then journal[#journal + 1] = undo end
end

--- mark() -> a mark to roll back to (marks nest: a script may load another)
function M.mark()
  open = open + 1
  local types, methods = core.mark()
  return { n = #journal, types = types, methods = methods }
end

local function close()
  open = open - 1
  if open == 0 then journal = {} end
end

--- commit(mark): the script succeeded; what it added stays.
function M.commit(mark)
  assert(mark and mark.n, "commit expects a mark")
  close()
end

--- rollback(mark): undoes every addition since the mark, newest first, then the PeftType
-- members and methods the C core recorded.
function M.rollback(mark)
  assert(mark and mark.n, "rollback expects a mark")
  for i = #journal, mark.n + 1, -1 do
    local undo = journal[i]
    journal[i] = nil
    undo()
  end
  core.rollback(mark.types, mark.methods)
  M.generation = M.generation + 1
  close()
end

--- add_class(cls): a new class in the namespace (the caller checks the name is free).
function M.add_class(cls)
  local name = cls.name
  M.generation = M.generation + 1
  M.classes[name] = cls
  M.order[#M.order + 1] = name
  if open == 0 then return end
  M.record(function()
    M.classes[name] = nil
    for i = #M.order, 1, -1 do
      if M.order[i] == name then table.remove(M.order, i) break end
    end
  end)
end

--- add_model(model): a new model class.
function M.add_model(model)
  local name = model.name
  M.models[name] = model
  if open > 0 then M.record(function() M.models[name] = nil end) end
end

-- what else may wait for definitions, found by name (peft.target_registry adds its targets)
M.lookups = {}

local function definable(name)
  local found = M.classes[name] or M.models[name]
  for i = 1, #M.lookups do
    if found then break end
    found = M.lookups[i](name)
  end
  return found
end

--- pending(module, names): the classes (model classes, targets) named are defined by module,
-- loaded when one of them is first used.
local waiting = {} -- module -> the classes (model classes, targets) it defines
function M.pending(module, names)
  local list = waiting[module] or {}
  waiting[module] = list
  for _, name in ipairs(names) do
    local cls = definable(name)
    if not cls then error("pending definitions for an undeclared class " .. tostring(name), 2) end
    rawset(cls, M.PENDING, module)
    list[#list + 1] = cls
  end
end

--- load_pending(cls): loads the definitions a class waits for (a no-op for one that has them).
-- Loading definitions makes long-lived objects (classes, their fields and annotations) among
-- much garbage, and the generational collector, fed this mix, lets the heap grow to about twice
-- its steady size before its first major collection. A full collection after every few
-- definitions modules (a fraction of a millisecond each) keeps the peak near the steady size.
local LOADS_PER_COLLECTION = 16
local loads = 0

-- A definitions module that fails part-way (out of memory, say) leaves no class half defined:
-- the classes it defines get back what they held before (define keeps the slots it empties,
-- PENDING among them, so that putting them back allocates nothing when memory has run out),
-- and the next use loads it again. (A definitions part only defines: see scripts/embed-lua.)
local function contents(t)
  local copy = {}
  for k, v in next, t do copy[k] = v end
  return copy
end

local function restore(t, copy)
  local k = next(t)
  while k ~= nil do
    local after = next(t, k)
    if copy[k] == nil then rawset(t, k, nil) end
    k = after
  end
  for k2, v in next, copy do rawset(t, k2, v) end
end

function M.load_pending(cls)
  local module = rawget(cls, M.PENDING)
  if not module then return end
  local defined = waiting[module] or { cls }
  local before = {}
  for i, c in ipairs(defined) do before[i] = contents(c) end
  local ok, err = pcall(require, module)
  if ok and rawget(cls, M.PENDING) then
    ok, err = false, string.format("%s: the definitions module %s does not define it", tostring(cls.name), module)
    package.loaded[module] = nil
  end
  if not ok then
    for i, c in ipairs(defined) do restore(c, before[i]) end
    error(err, 0)
  end
  waiting[module] = nil
  loads = loads + 1
  if loads % LOADS_PER_COLLECTION == 0 then collectgarbage() end
end

--- unrecorded(fn, ...): runs fn with no mark open: what it adds stays, whatever happens to the
-- script that caused it (a registry filled on first use, during an extension)
function M.unrecorded(fn, ...)
  local saved_open, saved_journal = open, journal
  open, journal = 0, {}
  local ok, err = pcall(fn, ...)
  open, journal = saved_open, saved_journal
  if not ok then error(err, 0) end
end

-- The start-up scripts of dir (peft.methods, peft.targets), in the order dir's list gives. The
-- executable has their first parts (what start-up needs) as one module, dir@startup: see
-- scripts/embed-lua; from source, each file is required.
local function find_module(name)
  for _, searcher in ipairs(package.searchers) do
    local loader, where = searcher(name)
    if type(loader) == "function" then return loader, where end
  end
end

--- run_startup(dir): runs the start-up scripts of dir.
function M.run_startup(dir)
  local startup, where = find_module(dir .. "@startup")
  if startup then
    startup(dir .. "@startup", where)
    package.loaded[dir .. "@startup"] = true
  else
    for _, name in ipairs(require(dir)) do
      require(dir .. "." .. name)
    end
  end
end

--- add_enum(name, members): a string enum that field annotations may name.
function M.add_enum(name, members)
  local old = M.enums[name]
  M.generation = M.generation + 1
  M.enums[name] = members
  if open > 0 then M.record(function() M.enums[name] = old end) end
end

return M
