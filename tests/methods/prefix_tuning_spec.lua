-- PrefixTuningConfig: its fields, the 'zero' init literal.
local peft = require "peft"
local helpers = require "helpers"

describe("PrefixTuningConfig", function()

  it("accepts init_weights 'zero' and a projection", function()
    local cfg = peft.PrefixTuningConfig { init_weights = "zero", prefix_projection = true, encoder_hidden_size = 512 }
    assert.are.equal("zero", cfg.init_weights)
    assert.is_true(cfg.prefix_projection)
  end)

  it("rejects any other init_weights", function()
    local err = helpers.error_of(peft.PrefixTuningConfig, { init_weights = "random" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("PrefixTuningConfig.init_weights: expected 'zero' or null, got \"random\"", err.message)
  end)
end)
