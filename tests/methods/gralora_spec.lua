-- GraloraConfig: fields, target_modules set, gralora_k and divisibility rules.
local peft = require "peft"
local helpers = require "helpers"

describe("GraloraConfig", function()

  it("keeps target_modules as a sorted set", function()
    assert.are.same({ "k", "q" }, peft.GraloraConfig { target_modules = { "q", "k", "q" } }.target_modules)
  end)

  it("rejects a gralora_k that is not positive", function()
    local err = helpers.error_of(peft.GraloraConfig, { gralora_k = 0 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("GraloraConfig.gralora_k: must be a positive integer, got 0", err.message)
    err = helpers.error_of(peft.GraloraConfig, { gralora_k = -2 })
    assert.are.equal("GraloraConfig.gralora_k: must be a positive integer, got -2", err.message)
  end)

  it("rejects an r that gralora_k does not divide", function()
    local err = helpers.error_of(peft.GraloraConfig, { r = 30, gralora_k = 4 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("GraloraConfig.r: must be divisible by gralora_k (4), got 30", err.message)
  end)

  it("accepts an r that gralora_k divides", function()
    local cfg = peft.GraloraConfig { r = 64, gralora_k = 4, hybrid_r = 8 }
    assert.are.equal(64, cfg.r)
    assert.are.equal(4, cfg.gralora_k)
    assert.are.equal(16, peft.GraloraConfig { r = 16, gralora_k = 1 }.r)
  end)

  it("takes layers_pattern as a single string only", function()
    local err = helpers.error_of(peft.GraloraConfig, { layers_pattern = { "h" } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('GraloraConfig.layers_pattern: expected a string or null, got ["h"]', err.message)
  end)
end)
