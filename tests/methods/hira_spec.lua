-- HiraConfig: fields, sets, init_weights, regex/layers rules.
local peft = require "peft"
local helpers = require "helpers"

describe("HiraConfig", function()

  it("keeps target_modules and exclude_modules as sorted sets", function()
    local cfg = peft.HiraConfig { target_modules = { "v", "q", "v" }, exclude_modules = { "b", "a" } }
    assert.are.same({ "q", "v" }, cfg.target_modules)
    assert.are.same({ "a", "b" }, cfg.exclude_modules)
  end)

  it("accepts init_weights true, false, 'gaussian' or null", function()
    assert.are.equal("gaussian", peft.HiraConfig { init_weights = "gaussian" }.init_weights)
    assert.is_false(peft.HiraConfig { init_weights = false }.init_weights)
    local cfg = peft.HiraConfig { init_weights = peft.null }
    assert.is_nil(cfg.init_weights)
    assert.is_truthy(cfg:to_json():find('"init_weights": null', 1, true))
    local err = helpers.error_of(peft.HiraConfig, { init_weights = "pissa" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal([[HiraConfig.init_weights: expected a boolean, 'gaussian' or null, got "pissa"]], err.message)
  end)

  it("rejects layers_to_transform with a regex target_modules", function()
    local err = helpers.error_of(peft.HiraConfig, { target_modules = ".*q$", layers_to_transform = 3 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('HiraConfig.layers_to_transform: must be null when target_modules is a regular expression '
      .. '(".*q$"), got 3', err.message)
  end)

  it("rejects layers_pattern with a regex target_modules", function()
    local err = helpers.error_of(peft.HiraConfig, { target_modules = ".*q$", layers_pattern = "h" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('HiraConfig.layers_pattern: must be null when target_modules is a regular expression '
      .. '(".*q$"), got "h"', err.message)
  end)

  it("accepts the layer selection with a list target_modules", function()
    local cfg = peft.HiraConfig { target_modules = { "q" }, layers_to_transform = { 1 }, layers_pattern = "h" }
    assert.are.equal("h", cfg.layers_pattern)
    -- and a regex target_modules on its own
    assert.are.equal(".*q$", peft.HiraConfig { target_modules = ".*q$" }.target_modules)
  end)
end)
