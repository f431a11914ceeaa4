-- PveraConfig: fields, sets, the save_projection warning and layers_pattern.
local peft = require "peft"
local helpers = require "helpers"

describe("PveraConfig", function()

  it("keeps target_modules given as a list as a sorted set", function()
    assert.are.same({ "k", "q" }, peft.PveraConfig { target_modules = { "q", "k", "q" } }.target_modules)
  end)

  it("takes an integer generator_seed", function()
    assert.are.equal(123, peft.PveraConfig { generator_seed = 123 }.generator_seed)
    local err = helpers.error_of(peft.PveraConfig, { generator_seed = "123" })
    assert.are.equal("TypeError", err.kind)
    assert.are.equal('PveraConfig.generator_seed: expected an integer or null, got "123" (PEFT reads the file, but its model code needs an integer here: a size, a count or a seed)', err.message)
  end)

  it("needs layers_to_transform when layers_pattern is given", function()
    local err = helpers.error_of(peft.PveraConfig, { layers_pattern = { "h" } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('PveraConfig.layers_pattern: needs layers_to_transform to be set as well, got ["h"]',
      err.message)
    local cfg = peft.PveraConfig { layers_pattern = { "h" }, layers_to_transform = { 0 } }
    assert.are.same({ "h" }, cfg.layers_pattern)
  end)

  it("warns when the projections are not saved", function()
    local warnings, ok, cfg = peft.capture_warnings(function()
      return peft.PveraConfig { save_projection = false }
    end)
    assert.is_true(ok)
    assert.is_false(cfg.save_projection)
    assert.are.same({
      "PveraConfig: save_projection is false: pvera_A and pvera_B are left out of the checkpoint and rebuilt "
        .. "from projection_prng_key (0) on load, which may differ across systems; set save_projection = true to be safe",
    }, warnings)
  end)

  it("does not warn when the projections are saved", function()
    local warnings, ok = peft.capture_warnings(function() return peft.PveraConfig {} end)
    assert.is_true(ok)
    assert.are.same({}, warnings)
  end)
end)
