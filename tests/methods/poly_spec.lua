-- PolyConfig: its fields, the module sets and the poly_type literal.
local peft = require "peft"
local helpers = require "helpers"

describe("PolyConfig", function()

  it("keeps target_modules and exclude_modules lists as sorted sets", function()
    local cfg = peft.PolyConfig { target_modules = { "v", "q", "v" }, exclude_modules = { "lm_head", "lm_head" } }
    assert.are.same({ "q", "v" }, cfg.target_modules)
    assert.are.same({ "lm_head" }, cfg.exclude_modules)
  end)

  it("keeps a regex string as given", function()
    local cfg = peft.PolyConfig { target_modules = ".*(q|v)$", exclude_modules = ".*head" }
    assert.are.equal(".*(q|v)$", cfg.target_modules)
    assert.are.equal(".*head", cfg.exclude_modules)
  end)

  it("keeps modules_to_save as a list", function()
    local cfg = peft.PolyConfig { modules_to_save = { "score", "classifier", "score" } }
    assert.are.same({ "score", "classifier", "score" }, cfg.modules_to_save)
  end)

  it("accepts a multi-head routing setup", function()
    local cfg = peft.PolyConfig { n_tasks = 8, n_skills = 4, n_splits = 2 }
    assert.are.equal(2, cfg.n_splits)
  end)

  it("rejects a poly_type other than 'poly'", function()
    local err = helpers.error_of(peft.PolyConfig, { poly_type = "mhr" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('PolyConfig.poly_type: expected \'poly\', got "mhr"', err.message)
  end)
end)
