-- BeftConfig: target_modules as a set, modules_to_save and init_weights.
local peft = require "peft"
local helpers = require "helpers"

describe("BeftConfig", function()

  it("keeps a target_modules list as a sorted set", function()
    local cfg = peft.BeftConfig { target_modules = { "v", "k", "v" } }
    assert.are.same({ "k", "v" }, cfg.target_modules)
  end)

  it("keeps a regex target_modules as given", function()
    assert.are.equal(".*(k|v)$", peft.BeftConfig { target_modules = ".*(k|v)$" }.target_modules)
  end)

  it("keeps modules_to_save as a list", function()
    assert.are.same({ "score", "classifier", "score" },
      peft.BeftConfig { modules_to_save = { "score", "classifier", "score" } }.modules_to_save)
  end)

  it("rejects a non-boolean init_weights", function()
    local err = helpers.error_of(peft.BeftConfig, { init_weights = 1 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("BeftConfig.init_weights: expected a boolean, got 1", err.message)
  end)
end)
