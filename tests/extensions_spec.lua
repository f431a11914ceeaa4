-- User extensions: load_extension, roll-back of a failing script, PEFT_PATH.
local peft = require "peft"
local helpers = require "helpers"

local GOOD = [[
peft.add_peft_type("MY_EXT")
local MyExtConfig = peft.declare_config {
  name = "MyExtConfig",
  peft_type = peft.PeftType.MY_EXT,
  doc = "An extension method.",
  fields = {
    { "rank", "int", 4, "Rank of the update." },
  },
}
local MyExtModel = peft.declare_model { name = "MyExtModel", prefix = "my_ext_" }
peft.register_peft_method { name = "my_ext", config_cls = MyExtConfig, model_cls = MyExtModel }
]]

-- adds a member, classes, an enum and methods, then fails on its line 9
local BAD = [[
peft.add_peft_type("HALF_DONE") peft.config.declare_enum("HalfDoneInit", { "A", "B" })
local C = peft.declare_config { name = "HalfDoneConfig", peft_type = "HALF_DONE", fields = {} }
local M = peft.declare_model { name = "HalfDoneModel", prefix = "half_done_" }
peft.register_peft_method { name = "half_done", config_cls = C, model_cls = M }
peft.add_peft_type("ALSO_ADDED")
local C2 = peft.declare_config { name = "AlsoAddedConfig", peft_type = "ALSO_ADDED", fields = {} }
peft.register_peft_method { name = "also_added", config_cls = C2,
                            model_cls = peft.declare_model { name = "X", prefix = "also_added_" } }
peft.register_peft_method { name = "lora", config_cls = C, model_cls = M }
]]

local function state()
  local s = {}
  for i, t in ipairs(peft.PeftType) do s[i] = t end
  s.methods = #peft.methods()
  s.classes = #peft.config.order
  local enums = {}
  for name in pairs(peft.registry.enums) do enums[#enums + 1] = name end
  table.sort(enums)
  s.enums = table.concat(enums, ",")
  return s
end

describe("load_extension", function()
  local dir
  before_each(function() dir = helpers.tmpdir() end)
  after_each(helpers.cleanup)

  it("runs a script that adds a member, a class and a method", function()
    local path = helpers.write(dir .. "/good.lua", GOOD)
    assert.is_true(peft.load_extension(path))
    assert.are.equal("MY_EXT", peft.PeftType.MY_EXT)
    assert.are.equal(peft.MyExtConfig, peft.PEFT_TYPE_TO_CONFIG_MAPPING.MY_EXT)
    assert.are.equal("my_ext_", peft.PEFT_TYPE_TO_PREFIX_MAPPING.MY_EXT)
    local cfg = peft.MyExtConfig { rank = 8 }
    assert.are.equal(8, cfg.rank)
    assert.are.equal("MY_EXT", cfg.peft_type)
  end)

  it("rolls everything back when the script raises, and names script and line", function()
    local before = state()
    local path = helpers.write(dir .. "/bad.lua", BAD)
    local err = helpers.error_of(peft.load_extension, path)
    assert.are.equal("ExtensionError", err.kind)
    assert.are.equal("extension " .. path .. " failed (registry rolled back): " .. path
      .. ":9: KeyError: There is already PEFT method called 'lora'", err.message)
    assert.are.equal("KeyError", err.cause.kind)
    assert.are.same(before, state())
    assert.is_nil(peft.PeftType("HALF_DONE"))
    assert.is_nil(peft.PeftType("ALSO_ADDED"))
    assert.is_nil(peft.PEFT_TYPE_TO_PREFIX_MAPPING.HALF_DONE)
    assert.is_nil(peft.HalfDoneConfig)
    assert.is_nil(peft.AlsoAddedConfig)
    -- and the same names can be used again afterwards
    peft.add_peft_type("HALF_DONE")
    assert.are.equal("HALF_DONE", peft.PeftType.HALF_DONE)
  end)

  it("rolls back after a plain Lua error too, keeping Lua's file:line", function()
    local before = state()
    local path = helpers.write(dir .. "/oops.lua", 'peft.add_peft_type("OOPS")\nlocal x = nil\nreturn x.y\n')
    local err = helpers.error_of(peft.load_extension, path)
    assert.are.equal("ExtensionError", err.kind)
    assert.truthy(err.message:find(path .. ":3: attempt to index a nil value", 1, true), err.message)
    assert.are.same(before, state())
  end)

  it("reports a syntax error and a missing file", function()
    local path = helpers.write(dir .. "/syntax.lua", "peft.add_peft_type(\n")
    local err = helpers.error_of(peft.load_extension, path)
    assert.are.equal("ExtensionError", err.kind)
    assert.truthy(err.message:find(path .. ":2:", 1, true), err.message)
    err = helpers.error_of(peft.load_extension, dir .. "/missing.lua")
    assert.are.equal("ExtensionError", err.kind)
    assert.truthy(err.message:find("cannot open", 1, true), err.message)
  end)

  it("has a non-raising form", function()
    local ok, err = peft.load_extension_safe(helpers.write(dir .. "/bad.lua", BAD))
    assert.is_nil(ok)
    assert.are.equal("ExtensionError", err.kind)
  end)
end)

describe("PEFT_PATH", function()
  local dir
  before_each(function() dir = helpers.tmpdir() end)
  after_each(helpers.cleanup)

  it("lists *.lua files per directory, in name order", function()
    os.execute("mkdir -p " .. helpers.q(dir .. "/a") .. " " .. helpers.q(dir .. "/b"))
    helpers.write(dir .. "/a/20-second.lua", "")
    helpers.write(dir .. "/a/10-first.lua", "")
    helpers.write(dir .. "/a/notes.txt", "")
    helpers.write(dir .. "/b/00-third.lua", "")
    local files = peft.extension_files(dir .. "/a:" .. dir .. "/missing:" .. dir .. "/b")
    assert.are.same({ dir .. "/a/10-first.lua", dir .. "/a/20-second.lua", dir .. "/b/00-third.lua" }, files)
  end)

  it("loads the good scripts and reports the bad ones at start-up", function()
    helpers.write(dir .. "/10-bad.lua", BAD)
    helpers.write(dir .. "/20-good.lua", GOOD)
    local r = helpers.run({ "-e", "print(peft.PeftType('HALF_DONE'), peft.PEFT_TYPE_TO_PREFIX_MAPPING.MY_EXT)" },
      { env = { PEFT_PATH = dir } })
    assert.are.equal(0, r.code)
    assert.are.equal("nil\tmy_ext_\n", r.out)
    assert.truthy(r.err:find("10-bad.lua:9: KeyError: There is already PEFT method called 'lora'", 1, true), r.err)
  end)

  it("is loaded by require 'peft' in a stock lua5.4 as well", function()
    helpers.write(dir .. "/ext.lua", GOOD)
    local r = helpers.run({ "-e", "local peft = require 'peft'; print(peft.PEFT_TYPE_TO_PREFIX_MAPPING.MY_EXT)" },
      { cmd = "lua5.4", env = { PEFT_PATH = dir, LUA_PATH = "lua/?.lua;lua/?/init.lua;;",
                                LUA_CPATH = helpers.CORE_DIR .. "/?.so;;" } })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("my_ext_\n", r.out)
  end)
end)
