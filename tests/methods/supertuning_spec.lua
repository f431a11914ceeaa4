-- SupertuningConfig: sparsity and dropout ranges, the Supra (r) rules, the
-- derived lora_alpha, and the save_precomputed_indices warning.
local peft = require "peft"
local helpers = require "helpers"

describe("SupertuningConfig", function()

  it("keeps target_modules as a sorted set", function()
    assert.are.same({ "k", "q" }, peft.SupertuningConfig { target_modules = { "q", "k" } }.target_modules)
  end)

  it("rejects a sparsity outside [0, 1)", function()
    local err = helpers.error_of(peft.SupertuningConfig, { sparsity = 1.0 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("SupertuningConfig.sparsity: must be in [0.0, 1.0), got 1.0", err.message)
    err = helpers.error_of(peft.SupertuningConfig, { sparsity = -0.5 })
    assert.are.equal("SupertuningConfig.sparsity: must be in [0.0, 1.0), got -0.5", err.message)
  end)

  it("accepts a sparsity in [0, 1)", function()
    assert.are.equal(0.0, peft.SupertuningConfig { sparsity = 0.0 }.sparsity)
    assert.are.equal(0, peft.SupertuningConfig { sparsity = 0 }.sparsity)
    assert.are.equal(0.5, peft.SupertuningConfig { sparsity = 0.5 }.sparsity)
  end)

  it("rejects an r that is not positive", function()
    local err = helpers.error_of(peft.SupertuningConfig, { r = 0 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("SupertuningConfig.r: must be a positive integer or null, got 0", err.message)
    err = helpers.error_of(peft.SupertuningConfig, { r = -4 })
    assert.are.equal("SupertuningConfig.r: must be a positive integer or null, got -4", err.message)
  end)

  it("derives lora_alpha = 2 * r when r is set without it (an integer, as PEFT writes)", function()
    local cfg = peft.SupertuningConfig { r = 8 }
    assert.are.equal(16, cfg.lora_alpha)
    assert.are.equal("integer", math.type(cfg.lora_alpha))
    assert.is_truthy(cfg:to_json():find('"lora_alpha": 16,', 1, true))
  end)

  it("keeps a given lora_alpha when r is set", function()
    assert.are.equal(4.5, peft.SupertuningConfig { r = 8, lora_alpha = 4.5 }.lora_alpha)
  end)

  it("rejects lora_alpha without r", function()
    local err = helpers.error_of(peft.SupertuningConfig, { lora_alpha = 32 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("SupertuningConfig.lora_alpha: must be null when r is null "
      .. "(the low-rank branch needs an explicit r), got 32", err.message)
  end)

  it("rejects a lora_dropout outside [0, 1)", function()
    local err = helpers.error_of(peft.SupertuningConfig, { lora_dropout = 1 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("SupertuningConfig.lora_dropout: must be in [0.0, 1.0), got 1", err.message)
    err = helpers.error_of(peft.SupertuningConfig, { lora_dropout = -0.1 })
    assert.are.equal("SupertuningConfig.lora_dropout: must be in [0.0, 1.0), got -0.1", err.message)
  end)

  it("accepts a lora_dropout in [0, 1)", function()
    assert.are.equal(0.1, peft.SupertuningConfig { r = 4, lora_dropout = 0.1 }.lora_dropout)
  end)

  it("warns when the selected indices are not saved", function()
    local warnings, ok, cfg = peft.capture_warnings(function()
      return peft.SupertuningConfig { save_precomputed_indices = false }
    end)
    assert.is_true(ok)
    assert.is_false(cfg.save_precomputed_indices)
    assert.are.same({ "SupertuningConfig: save_precomputed_indices is false: the selected entries will be "
      .. "recomputed from the base weights on load, which only gives the same selection if those weights "
      .. "are unchanged" }, warnings)
  end)

  it("does not warn by default", function()
    local warnings, ok = peft.capture_warnings(function() return peft.SupertuningConfig {} end)
    assert.is_true(ok)
    assert.are.same({}, warnings)
  end)
end)
