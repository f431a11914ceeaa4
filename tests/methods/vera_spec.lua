-- VeraConfig: fields, target_modules set, layers_pattern rule, save_projection warning.
local peft = require "peft"
local helpers = require "helpers"

describe("VeraConfig", function()

  it("keeps target_modules as a sorted set", function()
    assert.are.same({ "q", "v" }, peft.VeraConfig { target_modules = { "v", "q", "v" } }.target_modules)
  end)

  it("rejects layers_pattern without layers_to_transform", function()
    local err = helpers.error_of(peft.VeraConfig, { layers_pattern = "h" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('VeraConfig.layers_pattern: needs layers_to_transform to be set as well, got "h"',
      err.message)
  end)

  it("accepts layers_pattern with layers_to_transform, and an empty pattern alone", function()
    local cfg = peft.VeraConfig { layers_pattern = { "h" }, layers_to_transform = { 1, 2 } }
    assert.are.same({ "h" }, cfg.layers_pattern)
    assert.are.equal("", peft.VeraConfig { layers_pattern = "" }.layers_pattern)
  end)

  it("warns when the projections are not saved", function()
    local warnings, ok, cfg = peft.capture_warnings(function()
      return peft.VeraConfig { save_projection = false }
    end)
    assert.is_true(ok)
    assert.is_false(cfg.save_projection)
    assert.are.same({ "VeraConfig: save_projection is false: vera_A and vera_B are left out of the checkpoint and "
      .. "rebuilt from projection_prng_key (0) on load, which may differ across systems; set save_projection = true "
      .. "to be safe" }, warnings)
  end)

  it("does not warn by default", function()
    local warnings = peft.capture_warnings(function() return peft.VeraConfig {} end)
    assert.are.same({}, warnings)
  end)

  it("rejects a non-integer projection_prng_key", function()
    local err = helpers.error_of(peft.VeraConfig, { projection_prng_key = 1.5 })
    assert.are.equal("TypeError", err.kind)
    assert.are.equal("VeraConfig.projection_prng_key: expected an integer, got 1.5 (PEFT reads the file, but its model code needs an integer here: a size, a count or a seed)", err.message)
  end)
end)
