-- IA3Config: fields, sets, and the feedforward_modules rule.
local peft = require "peft"
local helpers = require "helpers"

describe("IA3Config", function()
  it("keeps list-valued module fields as sorted sets", function()
    local cfg = peft.IA3Config { target_modules = { "v", "k", "v" }, feedforward_modules = { "k" } }
    assert.are.same({ "k", "v" }, cfg.target_modules)
    assert.are.same({ "k" }, cfg.feedforward_modules)
  end)

  it("accepts a regex string for the module fields", function()
    local cfg = peft.IA3Config { target_modules = ".*(k|v)$", feedforward_modules = "mlp" }
    assert.are.equal(".*(k|v)$", cfg.target_modules)
  end)

  it("rejects feedforward_modules that are not all targeted", function()
    local err = helpers.error_of(peft.IA3Config, { target_modules = { "k", "v" }, feedforward_modules = { "mlp", "k" } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("IA3Config.feedforward_modules: must be a subset of target_modules; not targeted: 'mlp'",
      err.message)
  end)

  it("rejects a wrongly typed field, naming field, value and type", function()
    local err = helpers.error_of(peft.IA3Config, { init_ia3_weights = "yes" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('IA3Config.init_ia3_weights: expected a boolean, got "yes"', err.message)
  end)
end)
