-- LNTuningConfig: three module fields, each a list or a regex, kept as given.
local peft = require "peft"
local helpers = require "helpers"

describe("LNTuningConfig", function()

  it("keeps lists as given (PEFT makes no set of them)", function()
    local cfg = peft.LNTuningConfig { target_modules = { "post_attention_layernorm", "input_layernorm" },
      exclude_modules = { "norm", "norm" } }
    assert.are.same({ "post_attention_layernorm", "input_layernorm" }, cfg.target_modules)
    assert.are.same({ "norm", "norm" }, cfg.exclude_modules)
  end)

  it("takes a regex string for every module field, modules_to_save included", function()
    local cfg = peft.LNTuningConfig { target_modules = ".*decoder.*", exclude_modules = ".*encoder.*",
      modules_to_save = "classifier" }
    assert.are.equal(".*decoder.*", cfg.target_modules)
    assert.are.equal("classifier", cfg.modules_to_save)
  end)

  it("rejects a module list with a non-string item", function()
    local err = helpers.error_of(peft.LNTuningConfig, { target_modules = { "ln_f", 3 } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('LNTuningConfig.target_modules: expected a list of strings, a string or null (item 2 is an integer, expected a string), got ["ln_f", 3]',
      err.message)
  end)
end)
