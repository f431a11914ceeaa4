-- ShiraConfig: its fields, the target_modules set and the mask_type literal.
local peft = require "peft"
local helpers = require "helpers"

describe("ShiraConfig", function()
  it("has PEFT's defaults", function()
    local cfg = peft.ShiraConfig {}
    assert.are.equal("SHIRA", cfg.peft_type)
    assert.are.equal(32, cfg.r)
    assert.are.equal("random", cfg.mask_type)
    assert.is_nil(cfg.random_seed)
    assert.is_nil(cfg.target_modules)
    assert.is_false(cfg.fan_in_fan_out)
    assert.is_true(cfg.init_weights)
    assert.is_nil(cfg.modules_to_save)
  end)

  it("builds the random mask without a warning", function()
    local warnings, ok, cfg = peft.capture_warnings(function()
      return peft.ShiraConfig { random_seed = 42, target_modules = { "v", "q", "v" } }
    end)
    assert.is_true(ok)
    assert.are.same({}, warnings)
    assert.are.equal(42, cfg.random_seed)
    assert.are.same({ "q", "v" }, cfg.target_modules)
  end)

  it("rejects a mask_type other than 'random'", function()
    -- PEFT would accept it with a warning (expecting a mask_fn set by hand);
    -- the annotation Literal['random'] is enforced here.
    local err = helpers.error_of(peft.ShiraConfig, { mask_type = "custom" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('ShiraConfig.mask_type: expected \'random\', got "custom"', err.message)
  end)

  it("rejects a non-integer random_seed", function()
    local err = helpers.error_of(peft.ShiraConfig, { random_seed = "42" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('ShiraConfig.random_seed: expected an integer or null, got "42"', err.message)
  end)
end)
