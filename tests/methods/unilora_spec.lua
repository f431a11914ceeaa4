-- UniLoraConfig: fields, sets, numeric bounds, bias and the regex-target rules.
local peft = require "peft"
local helpers = require "helpers"

describe("UniLoraConfig", function()

  it("keeps target_modules given as a list as a sorted set", function()
    local cfg = peft.UniLoraConfig { target_modules = { "v", "q", "v" } }
    assert.are.same({ "q", "v" }, cfg.target_modules)
  end)

  it("keeps a regex string for target_modules", function()
    local cfg = peft.UniLoraConfig { target_modules = ".*(q|v)$" }
    assert.are.equal(".*(q|v)$", cfg.target_modules)
  end)

  it("rejects a non-positive r", function()
    local err = helpers.error_of(peft.UniLoraConfig, { r = 0 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("UniLoraConfig.r: must be a positive integer, got 0", err.message)
    assert.are.equal(1, peft.UniLoraConfig { r = 1 }.r)
  end)

  it("rejects a non-positive theta_d_length", function()
    local err = helpers.error_of(peft.UniLoraConfig, { theta_d_length = -5 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("UniLoraConfig.theta_d_length: must be a positive integer, got -5", err.message)
    assert.are.equal(1, peft.UniLoraConfig { theta_d_length = 1 }.theta_d_length)
  end)

  it("rejects unilora_dropout outside [0, 1]", function()
    local err = helpers.error_of(peft.UniLoraConfig, { unilora_dropout = 1.5 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("UniLoraConfig.unilora_dropout: must be between 0.0 and 1.0, got 1.5", err.message)
    err = helpers.error_of(peft.UniLoraConfig, { unilora_dropout = -0.1 })
    assert.are.equal("UniLoraConfig.unilora_dropout: must be between 0.0 and 1.0, got -0.1", err.message)
    assert.are.equal(1.0, peft.UniLoraConfig { unilora_dropout = 1.0 }.unilora_dropout)
    assert.are.equal(0.0, peft.UniLoraConfig { unilora_dropout = 0.0 }.unilora_dropout)
  end)

  it("rejects a non-positive init_theta_d_bound", function()
    local err = helpers.error_of(peft.UniLoraConfig, { init_theta_d_bound = 0.0 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("UniLoraConfig.init_theta_d_bound: must be a positive number, got 0.0", err.message)
    assert.are.equal(0.5, peft.UniLoraConfig { init_theta_d_bound = 0.5 }.init_theta_d_bound)
  end)

  it("accepts only 'none', 'all' and 'unilora_only' for bias", function()
    local err = helpers.error_of(peft.UniLoraConfig, { bias = "lora_only" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("UniLoraConfig.bias: must be one of 'none', 'all', 'unilora_only', got \"lora_only\"",
      err.message)
    for _, b in ipairs { "none", "all", "unilora_only" } do
      assert.are.equal(b, peft.UniLoraConfig { bias = b }.bias)
    end
  end)

  it("checks the bounds on assignment too", function()
    local cfg = peft.UniLoraConfig {}
    local err = helpers.error_of(function() cfg.r = -1 end)
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("UniLoraConfig.r: must be a positive integer, got -1", err.message)
  end)

  it("rejects layers_to_transform with a regex target_modules", function()
    local err = helpers.error_of(peft.UniLoraConfig, { target_modules = ".*q", layers_to_transform = 0 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal(
      'UniLoraConfig.layers_to_transform: must be null when target_modules is a regular expression (".*q"), got 0',
      err.message)
    local cfg = peft.UniLoraConfig { target_modules = { "q" }, layers_to_transform = { 0, 1 } }
    assert.are.same({ 0, 1 }, cfg.layers_to_transform)
  end)

  it("rejects layers_pattern with a regex target_modules", function()
    local err = helpers.error_of(peft.UniLoraConfig, { target_modules = ".*q", layers_pattern = "h" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal(
      'UniLoraConfig.layers_pattern: must be null when target_modules is a regular expression (".*q"), got "h"',
      err.message)
    local cfg = peft.UniLoraConfig { target_modules = { "q" }, layers_pattern = "h" }
    assert.are.equal("h", cfg.layers_pattern)
  end)
end)
