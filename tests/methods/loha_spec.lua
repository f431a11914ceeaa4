-- LoHaConfig and its base LycorisConfig: fields, sets, the layers_pattern rule.
local peft = require "peft"
local helpers = require "helpers"

describe("LycorisConfig", function()
  local LycorisConfig = require("peft.lycoris").LycorisConfig

  it("is reachable as peft.LycorisConfig and is the parent of LoHa and LoKr", function()
    assert.are.equal(LycorisConfig, peft.LycorisConfig)
    assert.are.equal(LycorisConfig, peft.LoHaConfig.parent)
    assert.are.equal(LycorisConfig, peft.LoKrConfig.parent)
    assert.is_true(peft.LoHaConfig:is_subclass_of(LycorisConfig))
    assert.are.equal(peft.PeftConfig, LycorisConfig.parent)
  end)

  it("declares only rank_pattern and alpha_pattern on top of PeftConfig", function()
    local names = {}
    for i, f in ipairs(LycorisConfig.fields) do names[i] = f.name end
    assert.are.same({ "task_type", "peft_type", "auto_mapping", "peft_version", "base_model_name_or_path",
      "revision", "inference_mode", "rank_pattern", "alpha_pattern" }, names)
    assert.are.equal("Optional[dict]", LycorisConfig:field("rank_pattern").type)
    assert.are.equal("LycorisConfig", peft.LoHaConfig:field("alpha_pattern").declared_in)
  end)

  it("is a base class only: no PeftType and not registered", function()
    assert.is_nil(LycorisConfig.peft_type)
    assert.is_nil(peft.method("LycorisConfig"))
    for _, cls in pairs(peft.PEFT_TYPE_TO_CONFIG_MAPPING) do
      assert.are_not.equal(LycorisConfig, cls)
    end
    local cfg = LycorisConfig {}
    assert.is_nil(cfg.peft_type)
  end)

  it("defaults the pattern dicts to fresh empty objects", function()
    local a, b = peft.LoHaConfig {}, peft.LoHaConfig {}
    assert.are.same({}, a.rank_pattern)
    assert.are.same({}, a.alpha_pattern)
    a.rank_pattern.x = 4
    assert.are.same({}, b.rank_pattern)
    assert.are.same({}, peft.LoHaConfig {}.rank_pattern)
  end)

  it("keeps per-module overrides as given", function()
    local cfg = peft.LoHaConfig { rank_pattern = { ["^model.layers.0.q"] = 16 }, alpha_pattern = { q = 32 } }
    assert.are.equal(16, cfg.rank_pattern["^model.layers.0.q"])
    assert.are.equal(32, cfg.alpha_pattern.q)
  end)

  it("rejects a pattern that is not an object", function()
    local err = helpers.error_of(peft.LoHaConfig, { rank_pattern = "q=4" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('LoHaConfig.rank_pattern: expected an object or null, got "q=4"', err.message)
  end)
end)

describe("LoHaConfig", function()

  it("keeps target_modules and exclude_modules as sorted sets", function()
    local cfg = peft.LoHaConfig { target_modules = { "v", "q", "v" }, exclude_modules = { "o", "k", "o" } }
    assert.are.same({ "q", "v" }, cfg.target_modules)
    assert.are.same({ "k", "o" }, cfg.exclude_modules)
  end)

  it("accepts regex strings for the module fields", function()
    local cfg = peft.LoHaConfig { target_modules = ".*(q|v)$", exclude_modules = ".*k$" }
    assert.are.equal(".*(q|v)$", cfg.target_modules)
    assert.are.equal(".*k$", cfg.exclude_modules)
  end)

  it("rejects layers_pattern without layers_to_transform", function()
    local err = helpers.error_of(peft.LoHaConfig, { layers_pattern = "layers" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('LoHaConfig.layers_pattern: needs layers_to_transform to be set as well, got "layers"',
      err.message)
    err = helpers.error_of(peft.LoHaConfig, { layers_pattern = { "h" } })
    assert.are.equal('LoHaConfig.layers_pattern: needs layers_to_transform to be set as well, got ["h"]',
      err.message)
  end)

  it("accepts layers_pattern with layers_to_transform, and an empty pattern alone", function()
    local cfg = peft.LoHaConfig { layers_pattern = "layers", layers_to_transform = { 0, 2 } }
    assert.are.same({ 0, 2 }, cfg.layers_to_transform)
    cfg = peft.LoHaConfig { layers_pattern = "layers", layers_to_transform = 1 }
    assert.are.equal(1, cfg.layers_to_transform)
    -- an empty string or list is false in Python, so PEFT does not complain
    assert.are.equal("", peft.LoHaConfig { layers_pattern = "" }.layers_pattern)
    assert.are.same({}, peft.LoHaConfig { layers_pattern = {} }.layers_pattern)
  end)

  it("rejects wrongly typed fields", function()
    local err = helpers.error_of(peft.LoHaConfig, { r = 8.5 })
    assert.are.equal("TypeError", err.kind)
    assert.are.equal("LoHaConfig.r: expected an integer, got 8.5 (PEFT reads the file, but its model code needs an integer here: a size, a count or a seed)", err.message)
    err = helpers.error_of(peft.LoHaConfig, { init_weights = "lycoris" })
    assert.are.equal('LoHaConfig.init_weights: expected a boolean, got "lycoris"', err.message)
  end)

  it("writes the pattern dicts and sets on save", function()
    local cfg = peft.LoHaConfig { target_modules = { "v", "q" }, rank_pattern = { q = 4 } }
    local d = cfg:to_dict()
    assert.are.same({ "q", "v" }, d.target_modules)
    assert.are.same({ q = 4 }, d.rank_pattern)
    assert.are.same({}, d.alpha_pattern)
  end)
end)
