-- DeloraConfig: fields, sets, bias literal, regex/layers rules, positive r.
local peft = require "peft"
local helpers = require "helpers"

describe("DeloraConfig", function()

  it("keeps target_modules and exclude_modules as sorted sets", function()
    local cfg = peft.DeloraConfig { target_modules = { "v", "q" }, exclude_modules = { "o", "k", "k" } }
    assert.are.same({ "q", "v" }, cfg.target_modules)
    assert.are.same({ "k", "o" }, cfg.exclude_modules)
  end)

  it("accepts only 'none', 'all' or 'delora_only' as bias", function()
    assert.are.equal("delora_only", peft.DeloraConfig { bias = "delora_only" }.bias)
    local err = helpers.error_of(peft.DeloraConfig, { bias = "lora_only" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal([[DeloraConfig.bias: expected one of 'none', 'all', 'delora_only', got "lora_only"]],
      err.message)
  end)

  it("rejects layers_to_transform with a regex target_modules", function()
    local err = helpers.error_of(peft.DeloraConfig, { target_modules = ".*q$", layers_to_transform = { 0 } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('DeloraConfig.layers_to_transform: must be null when target_modules is a regular expression '
      .. '(".*q$"), got [0]', err.message)
  end)

  it("accepts layers_to_transform with a list target_modules", function()
    local cfg = peft.DeloraConfig { target_modules = { "q" }, layers_to_transform = { 0 } }
    assert.are.same({ 0 }, cfg.layers_to_transform)
  end)

  it("rejects layers_pattern without layers_to_transform", function()
    local err = helpers.error_of(peft.DeloraConfig, { layers_pattern = "layers" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('DeloraConfig.layers_pattern: needs layers_to_transform to be set as well, got "layers"',
      err.message)
  end)

  it("accepts layers_pattern with layers_to_transform", function()
    local cfg = peft.DeloraConfig { layers_pattern = "layers", layers_to_transform = 2 }
    assert.are.equal("layers", cfg.layers_pattern)
  end)

  it("rejects an r that is not positive", function()
    local err = helpers.error_of(peft.DeloraConfig, { r = 0 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("DeloraConfig.r: must be a positive integer, got 0", err.message)
  end)

  it("accepts a positive r and per-module overrides", function()
    local cfg = peft.DeloraConfig { r = 1, rank_pattern = { q = 4 }, lambda_pattern = { q = 10 } }
    assert.are.equal(1, cfg.r)
    assert.are.same({ q = 10 }, cfg.lambda_pattern)
  end)
end)
