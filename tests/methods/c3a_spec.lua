-- C3AConfig: fields, target_modules set, init_weights, regex/layers rules.
local peft = require "peft"
local helpers = require "helpers"

describe("C3AConfig", function()

  it("keeps target_modules as a sorted set", function()
    assert.are.same({ "q", "v" }, peft.C3AConfig { target_modules = { "v", "q" } }.target_modules)
  end)

  it("accepts init_weights as a boolean, one of the named schemes, or null", function()
    assert.is_true(peft.C3AConfig { init_weights = true }.init_weights)
    assert.are.equal("kaiming_uniform", peft.C3AConfig { init_weights = "kaiming_uniform" }.init_weights)
    assert.is_nil(peft.C3AConfig { init_weights = peft.null }.init_weights)
    local err = helpers.error_of(peft.C3AConfig, { init_weights = "zeros" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("C3AConfig.init_weights: expected a boolean, one of 'gaussian', 'kaiming_uniform', "
      .. [['xavier_uniform' or null, got "zeros"]], err.message)
  end)

  it("rejects layers_to_transform with a regex target_modules", function()
    local err = helpers.error_of(peft.C3AConfig, { target_modules = ".*q$", layers_to_transform = { 0, 1 } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('C3AConfig.layers_to_transform: must be null when target_modules is a regular expression '
      .. '(".*q$"), got [0, 1]', err.message)
  end)

  it("rejects layers_pattern with a regex target_modules", function()
    local err = helpers.error_of(peft.C3AConfig, { target_modules = ".*q$", layers_pattern = { "h" } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('C3AConfig.layers_pattern: must be null when target_modules is a regular expression '
      .. '(".*q$"), got ["h"]', err.message)
  end)

  it("accepts the layer selection with a list target_modules", function()
    local cfg = peft.C3AConfig { target_modules = { "q" }, layers_to_transform = 0, layers_pattern = "layers",
      block_size_pattern = { q = 128 } }
    assert.are.equal(0, cfg.layers_to_transform)
    assert.are.same({ q = 128 }, cfg.block_size_pattern)
  end)
end)
