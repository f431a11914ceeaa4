-- peft.rules: Python truthiness and the shared layer-selection rules,
-- checked directly and through small helper classes that use them.
local peft = require "peft"
local rules = require "peft.rules"
local helpers = require "helpers"

local LAYER_FIELDS = {
  { "target_modules", "Optional[Union[list[str], str]]", nil, "Modules to adapt, or a regex." },
  { "layers_to_transform", "Optional[Union[list[int], int]]", nil, "Layer indices to adapt." },
  { "layers_pattern", "Optional[Union[list[str], str]]", nil, "Name of the layer list." },
}

-- A helper class (no PeftType, never registered) whose post_init runs rule.
local function class_with(name, rule)
  return peft.declare_helper { name = name, fields = LAYER_FIELDS, post_init = rule }
end

local Both = class_with("RulesSpecBothConfig", rules.layer_selection)
local Regex = class_with("RulesSpecRegexConfig", rules.regex_excludes_layers)
local RegexLayersOnly = class_with("RulesSpecRegexLayersOnlyConfig", function(self, chk)
  rules.regex_excludes_layers(self, chk, { "layers_to_transform" })
end)
local Pattern = class_with("RulesSpecPatternConfig", rules.pattern_needs_layers)

local function fails(cls, args)
  local err = helpers.error_of(cls, args)
  assert.are.equal("ValueError", err.kind)
  return err
end

-- A stand-in for chk that records the first failure instead of raising a
-- config error.
local function recorder()
  local chk = {}
  function chk.fail_value(field, message, ...)
    error({ field = field, message = string.format(message, ...) }, 0)
  end
  return chk
end

describe("rules.truthy", function()
  it("is false for nil, null, false, 0, an empty string and an empty table", function()
    for _, v in ipairs({ peft.null, false, 0, 0.0, "", {}, setmetatable({}, peft.core.json_array_mt) }) do
      assert.is_false(rules.truthy(v), "for " .. peft.types.repr(v))
    end
    assert.is_false(rules.truthy(nil))
  end)

  it("is true for everything else", function()
    for _, v in ipairs({ true, 1, -1, 0.5, "h", " ", "0", "false", { "h" }, { 0 }, { "" }, { a = 1 } }) do
      assert.is_true(rules.truthy(v), "for " .. peft.types.repr(v))
    end
    assert.is_true(rules.truthy(peft.LoraConfig {}))
    assert.is_true(rules.truthy(Both {}))
  end)
end)

describe("rules.regex_excludes_layers", function()
  it("refuses layers_to_transform with a regex target_modules", function()
    local err = fails(Regex, { target_modules = ".*q$", layers_to_transform = { 0, 1 } })
    assert.are.equal("layers_to_transform", err.field)
    assert.are.equal('RulesSpecRegexConfig.layers_to_transform: must be null when target_modules is a regular '
      .. 'expression (".*q$"), got [0, 1]', err.message)
  end)

  it("refuses layers_pattern with a regex target_modules", function()
    local err = fails(Regex, { target_modules = ".*q$", layers_pattern = "h" })
    assert.are.equal("layers_pattern", err.field)
    assert.are.equal('RulesSpecRegexConfig.layers_pattern: must be null when target_modules is a regular '
      .. 'expression (".*q$"), got "h"', err.message)
  end)

  it("refuses even an empty layers_pattern or a 0 layers_to_transform: only null passes", function()
    assert.are.equal("layers_pattern", fails(Regex, { target_modules = "q", layers_pattern = "" }).field)
    assert.are.equal("layers_pattern", fails(Regex, { target_modules = "q", layers_pattern = {} }).field)
    assert.are.equal("layers_to_transform", fails(Regex, { target_modules = "q", layers_to_transform = 0 }).field)
  end)

  it("checks layers_to_transform first", function()
    local err = fails(Regex, { target_modules = "q", layers_to_transform = 1, layers_pattern = "h" })
    assert.are.equal("layers_to_transform", err.field)
  end)

  it("accepts the layer fields with a list target_modules, or none at all", function()
    local cfg = Regex { target_modules = { "q" }, layers_to_transform = 1, layers_pattern = "h" }
    assert.are.equal(1, cfg.layers_to_transform)
    assert.are.equal("h", Regex({ layers_to_transform = { 2 }, layers_pattern = "h" }).layers_pattern)
    assert.are.equal(".*q$", Regex({ target_modules = ".*q$" }).target_modules)
    assert.are.equal("", Regex({ target_modules = "" }).target_modules)
  end)

  it("checks only the listed fields, in the order given", function()
    local cfg = RegexLayersOnly { target_modules = ".*q$", layers_pattern = "h" }
    assert.are.equal("h", cfg.layers_pattern)
    local err = fails(RegexLayersOnly, { target_modules = ".*q$", layers_to_transform = 3 })
    assert.are.equal('RulesSpecRegexLayersOnlyConfig.layers_to_transform: must be null when target_modules is a '
      .. 'regular expression (".*q$"), got 3', err.message)

    local self = { target_modules = "q", layers_to_transform = 1, layers_pattern = "h" }
    local ok, e = pcall(rules.regex_excludes_layers, self, recorder(), { "layers_pattern", "layers_to_transform" })
    assert.is_false(ok)
    assert.are.same({ field = "layers_pattern", message = 'must be null when target_modules is a regular '
      .. 'expression ("q")' }, e)
    assert.is_true(pcall(rules.regex_excludes_layers, self, recorder(), {}))
  end)
end)

describe("rules.pattern_needs_layers", function()
  it("refuses a layers_pattern without layers_to_transform", function()
    local err = fails(Pattern, { layers_pattern = "layers" })
    assert.are.equal("layers_pattern", err.field)
    assert.are.equal('RulesSpecPatternConfig.layers_pattern: needs layers_to_transform to be set as well, '
      .. 'got "layers"', err.message)
    err = fails(Pattern, { layers_pattern = { "layers", "h" } })
    assert.are.equal('RulesSpecPatternConfig.layers_pattern: needs layers_to_transform to be set as well, '
      .. 'got ["layers", "h"]', err.message)
  end)

  it("accepts an empty layers_pattern (\"\" or []) alone, as Python's truthiness does", function()
    assert.are.equal("", Pattern({ layers_pattern = "" }).layers_pattern)
    assert.are.same({}, Pattern({ layers_pattern = {} }).layers_pattern)
    assert.is_nil(Pattern({}).layers_pattern)
  end)

  it("accepts a layers_pattern with layers_to_transform, 0 included", function()
    local cfg = Pattern { layers_pattern = "h", layers_to_transform = 0 }
    assert.are.equal(0, cfg.layers_to_transform)
    assert.are.same({}, Pattern({ layers_pattern = { "h" }, layers_to_transform = {} }).layers_to_transform)
  end)

  it("applies whatever target_modules is", function()
    assert.are.equal("layers_pattern", fails(Pattern, { target_modules = ".*q$", layers_pattern = "h" }).field)
    assert.are.equal("layers_pattern", fails(Pattern, { target_modules = { "q" }, layers_pattern = "h" }).field)
  end)
end)

describe("rules.layer_selection", function()
  it("applies the regex rule first", function()
    local err = fails(Both, { target_modules = ".*q$", layers_pattern = "h" })
    assert.are.equal('RulesSpecBothConfig.layers_pattern: must be null when target_modules is a regular '
      .. 'expression (".*q$"), got "h"', err.message)
    err = fails(Both, { target_modules = ".*q$", layers_pattern = "h", layers_to_transform = 0 })
    assert.are.equal("layers_to_transform", err.field)
  end)

  it("then the layers_pattern rule", function()
    local err = fails(Both, { target_modules = { "q" }, layers_pattern = "h" })
    assert.are.equal('RulesSpecBothConfig.layers_pattern: needs layers_to_transform to be set as well, got "h"',
      err.message)
  end)

  it("accepts a valid layer selection", function()
    local cfg = Both { target_modules = { "q", "v" }, layers_to_transform = { 0, 1 }, layers_pattern = "layers" }
    assert.are.same({ 0, 1 }, cfg.layers_to_transform)
    assert.are.equal("layers", cfg.layers_pattern)
    assert.are.equal(".*q$", Both({ target_modules = ".*q$" }).target_modules)
    assert.are.equal("", Both({ layers_pattern = "" }).layers_pattern)
  end)
end)
