-- PeanutConfig: fields, sets, r / depth / act_fn and the layers_pattern rule.
local peft = require "peft"
local helpers = require "helpers"

local ACT_LIST = "gelu, gelu_10, gelu_accurate, gelu_fast, gelu_new, gelu_python, gelu_python_tanh, "
  .. "gelu_pytorch_tanh, hardswish, laplace, leaky_relu, linear, mish, prelu, quick_gelu, relu, relu2, "
  .. "relu6, sigmoid, silu, sqrtsoftplus, swish, tanh, xielu"

describe("PeanutConfig", function()

  it("keeps target_modules and exclude_modules given as lists as sorted sets", function()
    local cfg = peft.PeanutConfig { target_modules = { "v", "q", "v" }, exclude_modules = { "o", "k", "o" } }
    assert.are.same({ "q", "v" }, cfg.target_modules)
    assert.are.same({ "k", "o" }, cfg.exclude_modules)
  end)

  it("rejects a non-positive r", function()
    local err = helpers.error_of(peft.PeanutConfig, { r = 0 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("PeanutConfig.r: must be a positive integer, got 0", err.message)
    assert.are.equal(1, peft.PeanutConfig { r = 1 }.r)
  end)

  it("rejects a negative depth", function()
    local err = helpers.error_of(peft.PeanutConfig, { depth = -1 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("PeanutConfig.depth: must be a non-negative integer, got -1", err.message)
    assert.are.equal(3, peft.PeanutConfig { depth = 3 }.depth)
  end)

  it("accepts only activations known to transformers", function()
    local err = helpers.error_of(peft.PeanutConfig, { act_fn = "rellu" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("PeanutConfig.act_fn: must be an activation name from transformers' ACT2FN "
      .. "(did you mean 'relu'?), one of " .. ACT_LIST .. ', got "rellu"', err.message)
    for _, a in ipairs { "gelu", "silu", "tanh", "xielu", "gelu_pytorch_tanh" } do
      assert.are.equal(a, peft.PeanutConfig { act_fn = a }.act_fn)
    end
  end)

  it("needs layers_to_transform when layers_pattern is given", function()
    local err = helpers.error_of(peft.PeanutConfig, { layers_pattern = "layers" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal(
      'PeanutConfig.layers_pattern: needs layers_to_transform to be set as well, got "layers"',
      err.message)
    local cfg = peft.PeanutConfig { layers_pattern = "layers", layers_to_transform = 0 }
    assert.are.equal("layers", cfg.layers_pattern)
  end)
end)
