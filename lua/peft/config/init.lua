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
--
-- The concerns live in modules of their own: peft.config.class (declaring
-- classes), peft.config.field (fields and their values), peft.config.object
-- (objects and the constructor), peft.config.methods (what objects can do),
-- peft.config.common (what they share). This module is their public face.
local core = require "peft.core"
local registry = require "peft.registry"
local common = require "peft.config.common"
local class = require "peft.config.class"

local M = {}

M.PEFT_VERSION = core.PEFT_VERSION -- the version (and commit) of PEFT this runtime follows
M.CONFIG_NAME = "adapter_config.json"
-- Largest adapter_config.json read from disk (bytes).
M.MAX_CONFIG_BYTES = 16 * 1024 * 1024

M.classes = registry.classes -- name -> class (configs, helper configs, base classes)
M.order = registry.order     -- names in declaration order

M.STATE = common.STATE
M.deepcopy = common.deepcopy
M.suggest = common.suggest
M.sorted_keys = common.sorted_keys
M.same = common.same
M.is_config = common.is_config
M.distance = common.distance
M.parse_version = common.parse_version
M.version_cmp = common.version_cmp
M.newer_than_runtime = common.newer_than_runtime

--- declare_enum(name, members): a string enum that field annotations may name
-- (PromptTuningInit...).
function M.declare_enum(name, members)
  registry.add_enum(name, members)
end

M.declare = class.declare
M.finish = class.finish
M.add_classmethod = class.add_classmethod
M.is_class = class.is_class
M.Base = class.Base
M.class_mt = class.class_mt

-- what the start-up scripts do not need is looked up on first use: the values of fields
-- (peft.config.field) and objects (peft.config.object)
local ON_USE = {
  enum_members = { "peft.config.field", "enum_members" },
  resolve = { "peft.config.field", "resolve" },
  check_field = { "peft.config.field", "check" },
  value_error = { "peft.config.field", "value_error" },
  construct = { "peft.config.object", "construct" },
  new = { "peft.config.object", "new" },
}

--- lazy: while true (the built-in start-up scripts), declarations are
-- finished on first use of the class
setmetatable(M, {
  __index = function(t, k)
    if k == "lazy" then return class.lazy end
    local where = ON_USE[k]
    if where then
      local v = require(where[1])[where[2]]
      rawset(t, k, v)
      return v
    end
  end,
  __newindex = function(t, k, v) if k == "lazy" then class.lazy = v else rawset(t, k, v) end end,
})

return M
