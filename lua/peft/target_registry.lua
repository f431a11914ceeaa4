-- peft.target_registry: the places an adapter is loaded (`peft check`'s targets), filled by start-up
-- scripts (lua/peft/targets/*.lua, then PEFT_PATH extensions) through peft.register_target. The
-- built-in scripts run when the registry is first used (required), not at peft's own start-up.
--
--   register(spec) -> the entries added      list() -> every entry, in registration order
--   get(name) -> entry | nil
--
-- Two kinds of target:
--   kind = "peft":   releases of the PEFT library; spec.releases lists them as PEFT spells them ("0.6.2"),
--                    each becomes the target "peft 0.6.2". spec.loading says how those releases read a file:
--                    "none" (no from_pretrained), "setattr" (unknown keys dropped silently, __post_init__ never
--                    sees loaded values), "kwargs" (an unknown key is a TypeError), "drop" (unknown keys
--                    dropped with a warning). A release unknown to peft.history needs spec.based_on (a known
--                    release whose fields it has).
--   kind = "engine": a serving engine (or any loader): spec.name, lowercase ("vllm"), spec.title ("vLLM"),
--                    spec.knobs (option name -> { default =, values =, flag =, help = }).
-- Both may declare spec.rules: a list of rules, or a function returning one, run on first use (so that
-- start-up builds no rule tables). peft.check (lua/peft/check.lua) reads the rest of the spec.
--
-- register checks everything before it adds anything: a failure raises a ValueError, KeyError or
-- TypeError and leaves the registry as it was. What a script adds is undone with the rest of what it
-- added when it fails (peft.registry's journal, see peft.extensions).
local errors = require "peft.errors"
local registry = require "peft.registry"

local M = { gen = 0 } -- gen: changes whenever the registry does (for caches built over it; see generation)

local entries = {} -- in registration order
local by_name = {} -- name -> entry

local KINDS = { peft = true, engine = true }
local LOADING = { none = true, setattr = true, kwargs = true, drop = true }
local S, T = { string = true }, { table = true }
local SPEC_KEYS = { -- entry -> the types it may have
  kind = S, name = S, title = S, doc = S, releases = T, loading = S, based_on = S, knobs = T,
  rules = { table = true, ["function"] = true }, source = S,
}

local function fail(kind, fmt, ...)
  errors.raise(kind, string.format(fmt, ...), nil, 3)
end

local function check_spec(spec)
  if type(spec) ~= "table" then fail("TypeError", "register_target expects a table, got %s", type(spec)) end
  for k, v in pairs(spec) do
    local want = SPEC_KEYS[k]
    if not want then
      local names = {}
      for n in pairs(SPEC_KEYS) do names[#names + 1] = n end
      table.sort(names)
      fail("TypeError", "register_target: unknown entry '%s'%s", tostring(k),
        type(k) == "string" and require("peft.config").suggest(k, names) or "")
    end
    if not want[type(v)] then
      local names = {}
      for t in pairs(want) do names[#names + 1] = t end
      table.sort(names)
      fail("TypeError", "register_target: %s must be a %s, got %s", k, table.concat(names, " or "), type(v))
    end
  end
  if not KINDS[spec.kind or ""] then
    fail("ValueError", "register_target: kind must be 'peft' or 'engine', got %s", tostring(spec.kind))
  end
end

local VERSION = "^%d+%.%d+%.%d+[%w%.]*$"

--- register(spec) -> list of the entries added (one per release for kind "peft")
function M.register(spec)
  check_spec(spec)
  local new = {}
  if spec.kind == "peft" then
    if type(spec.releases) ~= "table" or #spec.releases == 0 then
      fail("ValueError", "register_target: a peft target lists its releases (releases = { \"0.6.2\", ... })")
    end
    if not LOADING[spec.loading or ""] then
      fail("ValueError", "register_target: loading must be 'none', 'setattr', 'kwargs' or 'drop', got %s",
        tostring(spec.loading))
    end
    -- the built-in scripts are trusted: their releases are looked up in peft.history on first use, so
    -- that start-up does not load it
    local index, base
    if not M.lazy then
      index = M.release_index()
      if spec.based_on then
        base = index[spec.based_on]
        if not base then
          fail("ValueError", "register_target: based_on names an unknown PEFT release '%s'", spec.based_on)
        end
      end
    end
    local seen = {}
    for _, r in ipairs(spec.releases) do
      if type(r) ~= "string" or (not M.lazy and not r:match(VERSION)) then
        fail("ValueError", "register_target: a release is written as PEFT spells it (\"0.6.2\"), got %s",
          tostring(r))
      end
      local at = index and (index[r] or base)
      if index and not at then
        fail("ValueError", "register_target: PEFT %s is not a release peft.history knows; give based_on", r)
      end
      local name = "peft " .. r
      if by_name[name] or seen[name] then fail("KeyError", "There is already a target called '%s'", name) end
      seen[name] = true
      new[#new + 1] = { name = name, kind = "peft", version = r, index = at, spec = spec }
    end
  else
    local name = spec.name
    if type(name) ~= "string" or not name:match("^[%l%d][%l%d%.%-_]*$") then
      fail("ValueError", "register_target: an engine's name is lowercase letters, digits, '.', '-' or '_', got %s",
        tostring(name))
    end
    if name:match("^peft ") or by_name[name] then fail("KeyError", "There is already a target called '%s'", name) end
    for k, knob in pairs(spec.knobs or {}) do
      if type(k) ~= "string" or type(knob) ~= "table" then
        fail("TypeError", "register_target: knobs maps an option name to { default =, values =, flag = }")
      end
    end
    new[1] = { name = name, kind = "engine", title = spec.title or name, spec = spec }
  end
  for _, e in ipairs(new) do
    entries[#entries + 1] = e
    by_name[e.name] = e
  end
  M.gen = M.gen + 1
  registry.record(function()
    for _, e in ipairs(new) do
      by_name[e.name] = nil
      for i = #entries, 1, -1 do
        if entries[i] == e then table.remove(entries, i) break end
      end
    end
    M.gen = M.gen + 1
  end)
  return new
end

-- a target's spec may wait for its rules (peft.define, from the second part of a target script)
registry.lookups[#registry.lookups + 1] = function(name)
  local e = by_name[name]
  return e and e.spec
end

--- define(name, parts): the rules of a target registered before (parts.rules: a list, or a
-- function returning one), for every entry its script registered.
function M.define(name, parts)
  local e = by_name[name]
  for k in pairs(parts) do
    if k ~= "rules" then
      fail("TypeError", "define %s: unknown entry '%s' (a target defines its rules)", name, tostring(k))
    end
  end
  local rules = parts.rules
  if type(rules) ~= "table" and type(rules) ~= "function" then
    fail("TypeError", "define %s: rules must be a list or a function returning one, got %s", name, type(rules))
  end
  if rawget(e.spec, "rules") ~= nil then fail("ValueError", "the target %s already has its rules", name) end
  rawset(e.spec, "rules", rules)
  rawset(e.spec, registry.PENDING, false)
  return e
end

--- release_index() -> { ["0.6.2"] = 10, ... }: each release's index in peft.history
local release_index
function M.release_index()
  if not release_index then
    release_index = {}
    for i, r in ipairs(require("peft.history").releases) do release_index[r] = i end
  end
  return release_index
end

--- index_of(entry) -> the peft.history index of a peft target's release (the one it is based on)
function M.index_of(e)
  if e.index == nil then
    local idx = M.release_index()
    e.index = idx[e.version] or (e.spec.based_on and idx[e.spec.based_on]) or false
  end
  return e.index or nil
end

function M.list()
  local out = {}
  for i, e in ipairs(entries) do out[i] = e end
  return out
end

--- generation() -> a number that changes whenever an entry is added or removed; M.gen holds it (read
-- as a field where caches built over the registry test it often)
function M.generation() return M.gen end

function M.get(name) return by_name[name] end

function M.count() return #entries end

-- the built-in targets, registered now that the module is in use: trusted (their releases are looked
-- up in peft.history on first use) and kept whatever happens to an extension that caused the loading
package.loaded["peft.target_registry"] = M
M.lazy = true
registry.unrecorded(registry.run_startup, "peft.targets")
M.lazy = false

return M
