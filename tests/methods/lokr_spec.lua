-- LoKrConfig: fields, sets, init_weights, the layers_pattern rule.
local peft = require "peft"
local helpers = require "helpers"

describe("LoKrConfig", function()
  it("inherits rank_pattern and alpha_pattern from LycorisConfig", function()
    assert.are.equal(peft.LycorisConfig, peft.LoKrConfig.parent)
    local cfg = peft.LoKrConfig { rank_pattern = { k = 2 }, alpha_pattern = { k = 4 } }
    assert.are.same({ k = 2 }, cfg.rank_pattern)
    assert.are.same({ k = 4 }, cfg.alpha_pattern)
    assert.are.same({}, peft.LoKrConfig {}.alpha_pattern)
  end)

  it("keeps target_modules and exclude_modules as sorted sets", function()
    local cfg = peft.LoKrConfig { target_modules = { "v", "q", "q" }, exclude_modules = { "z", "a" } }
    assert.are.same({ "q", "v" }, cfg.target_modules)
    assert.are.same({ "a", "z" }, cfg.exclude_modules)
  end)

  it("accepts init_weights true, false or 'lycoris' and nothing else", function()
    assert.are.equal("lycoris", peft.LoKrConfig { init_weights = "lycoris" }.init_weights)
    assert.is_false(peft.LoKrConfig { init_weights = false }.init_weights)
    local err = helpers.error_of(peft.LoKrConfig, { init_weights = "gaussian" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal([[LoKrConfig.init_weights: expected a boolean or 'lycoris', got "gaussian"]], err.message)
  end)

  it("rejects layers_pattern without layers_to_transform", function()
    local err = helpers.error_of(peft.LoKrConfig, { layers_pattern = { "h", "layers" } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('LoKrConfig.layers_pattern: needs layers_to_transform to be set as well, got ["h", "layers"]',
      err.message)
  end)

  it("accepts layers_pattern with layers_to_transform", function()
    local cfg = peft.LoKrConfig { layers_pattern = "h", layers_to_transform = 3 }
    assert.are.equal("h", cfg.layers_pattern)
    assert.are.equal(3, cfg.layers_to_transform)
  end)

  it("rejects a non-integer decompose_factor", function()
    local err = helpers.error_of(peft.LoKrConfig, { decompose_factor = "auto" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('LoKrConfig.decompose_factor: expected an integer, got "auto"', err.message)
  end)
end)
