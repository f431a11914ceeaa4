-- ShiraConfig: its fields, the target_modules set and the mask_type literal.
local peft = require "peft"
local helpers = require "helpers"

describe("ShiraConfig", function()

  it("builds the random mask without a warning", function()
    local warnings, ok, cfg = peft.capture_warnings(function()
      return peft.ShiraConfig { random_seed = 42, target_modules = { "v", "q", "v" } }
    end)
    assert.is_true(ok)
    assert.are.same({}, warnings)
    assert.are.equal(42, cfg.random_seed)
    assert.are.same({ "q", "v" }, cfg.target_modules)
  end)

  it("accepts another mask_type with a warning, as PEFT does (a custom mask function is attached at runtime)", function()
    local warnings, ok, cfg = peft.capture_warnings(peft.ShiraConfig, { mask_type = "custom" })
    assert.is_true(ok, tostring(cfg))
    assert.are.equal("custom", cfg.mask_type)
    assert.are.same({ 'ShiraConfig: mask_type "custom" is not built in; supply your own mask function' }, warnings)
    -- not in inference mode only
    warnings = peft.capture_warnings(peft.ShiraConfig, { mask_type = "custom", inference_mode = true })
    assert.are.same({}, warnings)
    local err = helpers.error_of(peft.ShiraConfig, { mask_type = 3 })
    assert.are.equal('ShiraConfig.mask_type: expected a string, got 3', err.message)
  end)

  it("rejects a non-integer random_seed", function()
    local err = helpers.error_of(peft.ShiraConfig, { random_seed = "42" })
    assert.are.equal("TypeError", err.kind)
    assert.are.equal('ShiraConfig.random_seed: expected an integer or null, got "42" (PEFT reads the file, but its model code needs an integer here: a size, a count or a seed)', err.message)
  end)
end)
