-- HRAConfig: module sets and the layers_to_transform / layers_pattern rules.
local peft = require "peft"
local helpers = require "helpers"

describe("HRAConfig", function()

  it("keeps target_modules and exclude_modules lists as sorted sets", function()
    local cfg = peft.HRAConfig { target_modules = { "v_proj", "q_proj", "q_proj" }, exclude_modules = { "b", "a" } }
    assert.are.same({ "q_proj", "v_proj" }, cfg.target_modules)
    assert.are.same({ "a", "b" }, cfg.exclude_modules)
  end)

  describe("with a regex target_modules", function()
    it("refuses layers_to_transform", function()
      local err = helpers.error_of(peft.HRAConfig, { target_modules = ".*q_proj", layers_to_transform = { 0, 1 } })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal('HRAConfig.layers_to_transform: must be null when target_modules is a regular expression (".*q_proj"), got [0, 1]',
        err.message)
    end)

    it("refuses layers_pattern", function()
      local err = helpers.error_of(peft.HRAConfig, { target_modules = ".*q_proj", layers_pattern = "layers" })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal('HRAConfig.layers_pattern: must be null when target_modules is a regular expression (".*q_proj"), got "layers"',
        err.message)
    end)

    it("is fine on its own", function()
      assert.are.equal(".*q_proj", peft.HRAConfig { target_modules = ".*q_proj" }.target_modules)
    end)
  end)

  it("refuses layers_pattern without layers_to_transform", function()
    local err = helpers.error_of(peft.HRAConfig, { target_modules = { "q_proj" }, layers_pattern = { "layers" } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('HRAConfig.layers_pattern: needs layers_to_transform to be set as well, got ["layers"]', err.message)
  end)

  it("ignores an empty layers_pattern, as PEFT does", function()
    local cfg = peft.HRAConfig { layers_pattern = "" }
    assert.are.equal("", cfg.layers_pattern)
    assert.are.same({}, peft.HRAConfig { layers_pattern = {} }.layers_pattern)
  end)

  it("accepts layers_to_transform with or without layers_pattern", function()
    local cfg = peft.HRAConfig { target_modules = { "q_proj" }, layers_to_transform = 3, layers_pattern = "layers" }
    assert.are.equal(3, cfg.layers_to_transform)
    assert.are.same({ 0, 2 }, peft.HRAConfig { target_modules = { "q_proj" }, layers_to_transform = { 0, 2 } }.layers_to_transform)
  end)

  it("rejects a non-integer r", function()
    local err = helpers.error_of(peft.HRAConfig, { r = 8.0 })
    assert.are.equal("TypeError", err.kind)
    assert.are.equal("HRAConfig.r: expected an integer, got 8.0 (PEFT reads the file, but its model code needs an integer here: a size, a count or a seed)", err.message)
  end)
end)
