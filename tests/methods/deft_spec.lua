-- DeftConfig: fields, sets, decomposition_method and the layer-selection rules.
local peft = require "peft"
local helpers = require "helpers"

describe("DeftConfig", function()

  it("keeps target_modules and exclude_modules given as lists as sorted sets", function()
    local cfg = peft.DeftConfig { target_modules = { "v", "q", "v" }, exclude_modules = { "o", "k", "o" } }
    assert.are.same({ "q", "v" }, cfg.target_modules)
    assert.are.same({ "k", "o" }, cfg.exclude_modules)
  end)

  it("keeps regex strings for the module fields", function()
    local cfg = peft.DeftConfig { target_modules = ".*q$", exclude_modules = ".*k$" }
    assert.are.equal(".*q$", cfg.target_modules)
    assert.are.equal(".*k$", cfg.exclude_modules)
  end)

  it("accepts only 'relu' and 'qr' for decomposition_method", function()
    local err = helpers.error_of(peft.DeftConfig, { decomposition_method = "svd" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("DeftConfig.decomposition_method: expected one of 'relu', 'qr', got \"svd\"", err.message)
    assert.are.equal("qr", peft.DeftConfig { decomposition_method = "qr" }.decomposition_method)
  end)

  it("takes any number as alpha, or null (PEFT only divides by it)", function()
    assert.are.equal(16, peft.DeftConfig { alpha = 16 }.alpha)
    assert.are.equal(1.5, peft.DeftConfig { alpha = 1.5 }.alpha)
    assert.is_nil(peft.DeftConfig { alpha = peft.null }.alpha)
    local err = helpers.error_of(peft.DeftConfig, { alpha = "16" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('DeftConfig.alpha: expected a number or null, got "16"', err.message)
  end)

  it("rejects layers_to_transform with a regex target_modules", function()
    local err = helpers.error_of(peft.DeftConfig, { target_modules = ".*q", layers_to_transform = { 1 } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal(
      'DeftConfig.layers_to_transform: must be null when target_modules is a regular expression (".*q"), got [1]',
      err.message)
    local cfg = peft.DeftConfig { target_modules = { "q" }, layers_to_transform = 3 }
    assert.are.equal(3, cfg.layers_to_transform)
  end)

  it("rejects layers_pattern with a regex target_modules", function()
    local err = helpers.error_of(peft.DeftConfig, { target_modules = ".*q", layers_pattern = "h" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal(
      'DeftConfig.layers_pattern: must be null when target_modules is a regular expression (".*q"), got "h"',
      err.message)
  end)

  it("needs layers_to_transform when layers_pattern is given", function()
    local err = helpers.error_of(peft.DeftConfig, { layers_pattern = { "layers" } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal(
      'DeftConfig.layers_pattern: needs layers_to_transform to be set as well, got ["layers"]',
      err.message)
    local cfg = peft.DeftConfig { target_modules = { "q" }, layers_pattern = "layers", layers_to_transform = 0 }
    assert.are.equal("layers", cfg.layers_pattern)
  end)

  it("lets an empty layers_pattern pass without layers_to_transform, as PEFT does", function()
    assert.are.equal("", peft.DeftConfig { layers_pattern = "" }.layers_pattern)
    assert.are.same({}, peft.DeftConfig { layers_pattern = {} }.layers_pattern)
  end)
end)
