-- FourierFTConfig: fields, sets, n_frequency_pattern and the layer-selection rules.
local peft = require "peft"
local helpers = require "helpers"

describe("FourierFTConfig", function()

  it("gives every object its own n_frequency_pattern table", function()
    local a = peft.FourierFTConfig {}
    local b = peft.FourierFTConfig {}
    a.n_frequency_pattern["x"] = 10
    assert.are.same({}, b.n_frequency_pattern)
  end)

  it("keeps n_frequency_pattern as given and writes it", function()
    local cfg = peft.FourierFTConfig { n_frequency_pattern = { ["model.layers.0.q"] = 500 } }
    assert.are.same({ ["model.layers.0.q"] = 500 }, cfg.n_frequency_pattern)
    assert.truthy(cfg:to_json():find('"model.layers.0.q": 500', 1, true))
  end)

  it("accepts a null random_loc_seed", function()
    assert.is_nil(peft.FourierFTConfig { random_loc_seed = peft.null }.random_loc_seed)
  end)

  it("keeps target_modules and exclude_modules given as lists as sorted sets", function()
    local cfg = peft.FourierFTConfig { target_modules = { "v", "q", "q" }, exclude_modules = { "o", "k", "k" } }
    assert.are.same({ "q", "v" }, cfg.target_modules)
    assert.are.same({ "k", "o" }, cfg.exclude_modules)
  end)

  it("rejects layers_to_transform with a regex target_modules", function()
    local err = helpers.error_of(peft.FourierFTConfig, { target_modules = ".*q", layers_to_transform = 2 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal(
      'FourierFTConfig.layers_to_transform: must be null when target_modules is a regular expression (".*q"), got 2',
      err.message)
    assert.are.equal(2, peft.FourierFTConfig { target_modules = { "q" }, layers_to_transform = 2 }.layers_to_transform)
  end)

  it("rejects layers_pattern with a regex target_modules", function()
    local err = helpers.error_of(peft.FourierFTConfig, { target_modules = ".*q", layers_pattern = "h" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal(
      'FourierFTConfig.layers_pattern: must be null when target_modules is a regular expression (".*q"), got "h"',
      err.message)
  end)

  it("needs layers_to_transform when layers_pattern is given", function()
    local err = helpers.error_of(peft.FourierFTConfig, { layers_pattern = "h" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('FourierFTConfig.layers_pattern: needs layers_to_transform to be set as well, got "h"',
      err.message)
    local cfg = peft.FourierFTConfig { layers_pattern = "h", layers_to_transform = { 0, 2 } }
    assert.are.equal("h", cfg.layers_pattern)
  end)
end)
