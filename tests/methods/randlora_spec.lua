-- RandLoraConfig: fields, sets and the save_projection warning.
local peft = require "peft"
local helpers = require "helpers"

describe("RandLoraConfig", function()

  it("keeps target_modules given as a list as a sorted set", function()
    assert.are.same({ "k", "v" }, peft.RandLoraConfig { target_modules = { "v", "k", "v" } }.target_modules)
  end)

  it("takes only a string for layers_pattern", function()
    assert.are.equal("layers", peft.RandLoraConfig { layers_pattern = "layers" }.layers_pattern)
    local err = helpers.error_of(peft.RandLoraConfig, { layers_pattern = { "layers" } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('RandLoraConfig.layers_pattern: expected a string or null, got ["layers"]', err.message)
  end)

  it("takes any number as randlora_alpha (PEFT only divides it by r), written back as given", function()
    assert.are.equal(320, peft.RandLoraConfig { randlora_alpha = 320 }.randlora_alpha)
    local c = peft.RandLoraConfig { randlora_alpha = 320.5 }
    assert.are.equal(320.5, c.randlora_alpha)
    assert.truthy(c:to_json():find('"randlora_alpha": 320.5', 1, true))
    local err = helpers.error_of(peft.RandLoraConfig, { randlora_alpha = true })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("RandLoraConfig.randlora_alpha: expected a number, got true", err.message)
  end)

  it("allows layers_pattern without layers_to_transform, as PEFT does", function()
    assert.are.equal("h", peft.RandLoraConfig { layers_pattern = "h" }.layers_pattern)
  end)

  it("warns when the random bases are not saved", function()
    local warnings, ok, cfg = peft.capture_warnings(function()
      return peft.RandLoraConfig { save_projection = false, projection_prng_key = 3 }
    end)
    assert.is_true(ok)
    assert.is_false(cfg.save_projection)
    assert.are.same({
      "RandLoraConfig: save_projection is false: basis_A and basis_B are left out of the checkpoint and rebuilt "
        .. "from projection_prng_key (3) on load, which may differ across systems; set save_projection = true to be safe",
    }, warnings)
  end)

  it("does not warn when the random bases are saved", function()
    local warnings, ok = peft.capture_warnings(function() return peft.RandLoraConfig {} end)
    assert.is_true(ok)
    assert.are.same({}, warnings)
  end)
end)
