-- TinyLoraConfig: fields, sets, bounds, the save_projection warning and layers_pattern.
local peft = require "peft"
local helpers = require "helpers"

describe("TinyLoraConfig", function()

  it("keeps target_modules given as a list as a sorted set", function()
    assert.are.same({ "q", "v" }, peft.TinyLoraConfig { target_modules = { "v", "q", "v" } }.target_modules)
  end)

  it("takes a boolean or a string for init_weights", function()
    assert.are.equal("uniform", peft.TinyLoraConfig { init_weights = "uniform" }.init_weights)
    assert.is_false(peft.TinyLoraConfig { init_weights = false }.init_weights)
    local err = helpers.error_of(peft.TinyLoraConfig, { init_weights = 1 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("TinyLoraConfig.init_weights: expected a boolean or a string, got 1", err.message)
  end)

  it("rejects a non-positive r", function()
    local err = helpers.error_of(peft.TinyLoraConfig, { r = 0 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("TinyLoraConfig.r: must be a positive integer, got 0", err.message)
    assert.are.equal(1, peft.TinyLoraConfig { r = 1 }.r)
  end)

  it("rejects a non-positive u", function()
    local err = helpers.error_of(peft.TinyLoraConfig, { u = -3 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("TinyLoraConfig.u: must be a positive integer, got -3", err.message)
    assert.are.equal(1, peft.TinyLoraConfig { u = 1 }.u)
  end)

  it("rejects weight_tying outside [0, 1]", function()
    local err = helpers.error_of(peft.TinyLoraConfig, { weight_tying = 1.25 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("TinyLoraConfig.weight_tying: must be between 0.0 and 1.0, got 1.25", err.message)
    err = helpers.error_of(peft.TinyLoraConfig, { weight_tying = -0.5 })
    assert.are.equal("TinyLoraConfig.weight_tying: must be between 0.0 and 1.0, got -0.5", err.message)
    assert.are.equal(1, peft.TinyLoraConfig { weight_tying = 1 }.weight_tying)
    assert.are.equal(0.5, peft.TinyLoraConfig { weight_tying = 0.5 }.weight_tying)
  end)

  it("needs layers_to_transform when layers_pattern is given", function()
    local err = helpers.error_of(peft.TinyLoraConfig, { layers_pattern = "layers" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal(
      'TinyLoraConfig.layers_pattern: needs layers_to_transform to be set as well, got "layers"',
      err.message)
    local cfg = peft.TinyLoraConfig { layers_pattern = "layers", layers_to_transform = 1 }
    assert.are.equal(1, cfg.layers_to_transform)
  end)

  it("allows layers_to_transform with a regex target_modules, as PEFT does", function()
    local cfg = peft.TinyLoraConfig { target_modules = ".*q", layers_to_transform = 0 }
    assert.are.equal(".*q", cfg.target_modules)
  end)

  it("warns when the projections are not saved", function()
    local warnings, ok, cfg = peft.capture_warnings(function()
      return peft.TinyLoraConfig { save_projection = false, projection_seed = 7 }
    end)
    assert.is_true(ok)
    assert.is_false(cfg.save_projection)
    assert.are.same({
      "TinyLoraConfig: save_projection is false: the projections P are left out of the checkpoint and rebuilt "
        .. "from projection_seed (7) on load, which may differ across systems; set save_projection = true to be safe",
    }, warnings)
  end)

  it("does not warn when the projections are saved", function()
    local warnings, ok = peft.capture_warnings(function() return peft.TinyLoraConfig {} end)
    assert.is_true(ok)
    assert.are.same({}, warnings)
  end)
end)
