-- GloraConfig: fields, target_modules set, the three path literals.
local peft = require "peft"
local helpers = require "helpers"

describe("GloraConfig", function()

  it("keeps target_modules as a sorted set", function()
    assert.are.same({ "k", "q" }, peft.GloraConfig { target_modules = { "q", "k", "k" } }.target_modules)
  end)

  it("accepts every allowed path form", function()
    local cfg = peft.GloraConfig { config_A_B = "none", config_C = "vector", config_D_E = "none" }
    assert.are.equal("none", cfg.config_A_B)
    assert.are.equal("vector", cfg.config_C)
    assert.are.equal("none", cfg.config_D_E)
  end)

  it("rejects a config_A_B outside its choices", function()
    local err = helpers.error_of(peft.GloraConfig, { config_A_B = "full" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal([[GloraConfig.config_A_B: expected one of 'lora', 'vector', 'constant', 'none', got "full"]],
      err.message)
  end)

  it("rejects 'constant' for config_C", function()
    local err = helpers.error_of(peft.GloraConfig, { config_C = "constant" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal([[GloraConfig.config_C: expected one of 'lora', 'vector', 'none', got "constant"]], err.message)
  end)

  it("rejects 'lora' for config_D_E", function()
    local err = helpers.error_of(peft.GloraConfig, { config_D_E = "lora" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal([[GloraConfig.config_D_E: expected one of 'vector', 'constant', 'none', got "lora"]],
      err.message)
  end)
end)
