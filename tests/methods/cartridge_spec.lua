-- CartridgeConfig: the frozen-token count and its bounds.
local peft = require "peft"
local helpers = require "helpers"

describe("CartridgeConfig", function()

  it("rejects a negative num_frozen_tokens", function()
    local err = helpers.error_of(peft.CartridgeConfig, { num_frozen_tokens = -1 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("CartridgeConfig.num_frozen_tokens: must be >= 0, got -1", err.message)
  end)

  it("accepts no frozen tokens", function()
    assert.are.equal(0, peft.CartridgeConfig { num_frozen_tokens = 0 }.num_frozen_tokens)
  end)

  it("rejects more frozen tokens than virtual tokens", function()
    local err = helpers.error_of(peft.CartridgeConfig, { num_virtual_tokens = 4, num_frozen_tokens = 5 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("CartridgeConfig.num_frozen_tokens: must not exceed num_virtual_tokens (4), got 5", err.message)
  end)

  it("accepts as many frozen tokens as virtual tokens", function()
    local cfg = peft.CartridgeConfig { num_virtual_tokens = 4, num_frozen_tokens = 4 }
    assert.are.equal(4, cfg.num_frozen_tokens)
  end)

  it("checks the bound again on validate()", function()
    local cfg = peft.CartridgeConfig { num_virtual_tokens = 8 }
    cfg.num_virtual_tokens = 0
    local err = helpers.error_of(cfg.validate, cfg)
    assert.are.equal("CartridgeConfig.num_frozen_tokens: must not exceed num_virtual_tokens (0), got 1", err.message)
  end)
end)
