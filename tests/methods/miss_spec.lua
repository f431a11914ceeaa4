-- MissConfig: fields, sets, init_weights variants, regex/layers rules.
local peft = require "peft"
local helpers = require "helpers"

describe("MissConfig", function()

  it("keeps target_modules and exclude_modules as sorted sets", function()
    local cfg = peft.MissConfig { target_modules = { "v", "q", "v" }, exclude_modules = { "o", "k" } }
    assert.are.same({ "q", "v" }, cfg.target_modules)
    assert.are.same({ "k", "o" }, cfg.exclude_modules)
  end)

  it("accepts init_weights true, false, 'bat' or 'mini'", function()
    assert.are.equal("bat", peft.MissConfig { init_weights = "bat" }.init_weights)
    assert.are.equal("mini", peft.MissConfig { init_weights = "mini", mini_r = 4 }.init_weights)
    local err = helpers.error_of(peft.MissConfig, { init_weights = "bone" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal([[MissConfig.init_weights: expected a boolean or one of 'bat', 'mini', got "bone"]],
      err.message)
  end)

  it("rejects layers_to_transform with a regex target_modules", function()
    local err = helpers.error_of(peft.MissConfig, { target_modules = ".*q$", layers_to_transform = 1 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('MissConfig.layers_to_transform: must be null when target_modules is a regular expression '
      .. '(".*q$"), got 1', err.message)
  end)

  it("rejects layers_pattern with a regex target_modules", function()
    local err = helpers.error_of(peft.MissConfig, { target_modules = ".*q$", layers_pattern = "layers" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('MissConfig.layers_pattern: must be null when target_modules is a regular expression '
      .. '(".*q$"), got "layers"', err.message)
  end)

  it("accepts the layer selection with a list target_modules", function()
    local cfg = peft.MissConfig { target_modules = { "q" }, layers_to_transform = { 0 }, layers_pattern = "layers" }
    assert.are.same({ 0 }, cfg.layers_to_transform)
    assert.are.equal("layers", cfg.layers_pattern)
  end)
end)
