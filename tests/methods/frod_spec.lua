-- FrodConfig: fields, sets, sparse_rate and the layers_pattern rule.
local peft = require "peft"
local helpers = require "helpers"

describe("FrodConfig", function()

  it("writes runtime_offload_base_weight like any other field", function()
    local d = peft.FrodConfig { runtime_offload_base_weight = true }:to_dict()
    assert.is_true(d.runtime_offload_base_weight)
  end)

  it("keeps target_modules given as a list as a sorted set", function()
    assert.are.same({ "q", "v" }, peft.FrodConfig { target_modules = { "v", "q", "q" } }.target_modules)
  end)

  it("rejects sparse_rate outside [0, 1]", function()
    local err = helpers.error_of(peft.FrodConfig, { sparse_rate = 1.5 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("FrodConfig.sparse_rate: must be between 0 and 1, got 1.5", err.message)
    err = helpers.error_of(peft.FrodConfig, { sparse_rate = -0.01 })
    assert.are.equal("FrodConfig.sparse_rate: must be between 0 and 1, got -0.01", err.message)
    assert.are.equal(0, peft.FrodConfig { sparse_rate = 0 }.sparse_rate)
    assert.are.equal(1.0, peft.FrodConfig { sparse_rate = 1.0 }.sparse_rate)
  end)

  it("needs layers_to_transform when layers_pattern is given", function()
    local err = helpers.error_of(peft.FrodConfig, { layers_pattern = "h" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('FrodConfig.layers_pattern: needs layers_to_transform to be set as well, got "h"',
      err.message)
    local cfg = peft.FrodConfig { layers_pattern = "h", layers_to_transform = 5 }
    assert.are.equal(5, cfg.layers_to_transform)
  end)
end)
