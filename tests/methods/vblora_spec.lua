-- VBLoRAConfig: fields, sets and the layers_pattern rule.
local peft = require "peft"
local helpers = require "helpers"

describe("VBLoRAConfig", function()

  it("keeps target_modules and exclude_modules given as lists as sorted sets", function()
    local cfg = peft.VBLoRAConfig { target_modules = { "v", "q", "v" }, exclude_modules = { "z", "a", "a" } }
    assert.are.same({ "q", "v" }, cfg.target_modules)
    assert.are.same({ "a", "z" }, cfg.exclude_modules)
  end)

  it("rejects a wrongly typed topk", function()
    local err = helpers.error_of(peft.VBLoRAConfig, { topk = "2" })
    assert.are.equal("TypeError", err.kind)
    assert.are.equal('VBLoRAConfig.topk: expected an integer, got "2" (PEFT reads the file, but its model code needs an integer here: a size, a count or a seed)', err.message)
  end)

  it("needs layers_to_transform when layers_pattern is given", function()
    local err = helpers.error_of(peft.VBLoRAConfig, { layers_pattern = "h" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('VBLoRAConfig.layers_pattern: needs layers_to_transform to be set as well, got "h"',
      err.message)
    local cfg = peft.VBLoRAConfig { layers_pattern = "h", layers_to_transform = { 3, 4 } }
    assert.are.same({ 3, 4 }, cfg.layers_to_transform)
  end)

  it("allows layers_to_transform with a regex target_modules, as PEFT does", function()
    local cfg = peft.VBLoRAConfig { target_modules = ".*q", layers_to_transform = 0, layers_pattern = "h" }
    assert.are.equal(".*q", cfg.target_modules)
  end)
end)
