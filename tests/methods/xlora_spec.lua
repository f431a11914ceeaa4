-- XLoraConfig: the filled-in hidden_size and adapters (with warnings) and
-- the warnings about the softmax / top-k settings.
local peft = require "peft"
local helpers = require "helpers"

local function build(args)
  return peft.capture_warnings(function() return peft.XLoraConfig(args) end)
end

local GIVEN = { hidden_size = 2048, adapters = { math = "org/lora-math" } }

local function with(extra)
  local args = { hidden_size = GIVEN.hidden_size, adapters = GIVEN.adapters }
  for k, v in pairs(extra) do args[k] = v end
  return args
end

describe("XLoraConfig", function()
  it("fills in hidden_size 4096 and empty adapters, warning about each", function()
    local warnings, ok, cfg = build {}
    assert.is_true(ok)
    assert.are.equal(4096, cfg.hidden_size)
    assert.are.same({}, cfg.adapters)
    assert.are.same({
      "XLoraConfig: hidden_size not given; using 4096, make sure it matches the base model",
      "XLoraConfig: adapters not given; starting with no LoRA experts, make sure this is intended",
    }, warnings)
    assert.is_truthy(cfg:to_json():find('"adapters": {}', 1, true))
  end)

  it("does not warn when hidden_size and adapters are given", function()
    local warnings, ok, cfg = build(GIVEN)
    assert.is_true(ok)
    assert.are.same({}, warnings)
    assert.are.equal(2048, cfg.hidden_size)
    assert.are.same({ math = "org/lora-math" }, cfg.adapters)
  end)

  it("rejects adapters whose paths are not strings", function()
    local err = helpers.error_of(peft.XLoraConfig, { adapters = { math = 1 } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('XLoraConfig.adapters: expected an object whose values are strings or null (value of "math" is an integer, expected a string), got {"math": 1}',
      err.message)
  end)

  it("warns when enable_softmax_topk has no top_k_lora", function()
    local warnings, ok = build(with { enable_softmax_topk = true, enable_softmax = false })
    assert.is_true(ok)
    assert.are.same({
      "XLoraConfig: enable_softmax_topk is true but top_k_lora is null; set top_k_lora to choose the experts",
    }, warnings)
  end)

  it("warns when both softmax modes are on", function()
    local warnings, ok = build(with { enable_softmax_topk = true, top_k_lora = 2 })
    assert.is_true(ok)
    assert.are.same({
      "XLoraConfig: enable_softmax_topk and enable_softmax are both true; this performs worse, enable only one",
    }, warnings)
  end)

  it("accepts top-k softmax alone", function()
    local warnings, ok, cfg = build(with { enable_softmax_topk = true, enable_softmax = false, top_k_lora = 2 })
    assert.is_true(ok)
    assert.are.same({}, warnings)
    assert.are.equal(2, cfg.top_k_lora)
  end)

  it("warns (only) about a top_k_lora below 1", function()
    local warnings, ok, cfg = build(with { top_k_lora = 0 })
    assert.is_true(ok)
    assert.are.equal(0, cfg.top_k_lora)
    assert.are.same({ "XLoraConfig: top_k_lora should be at least 1, got 0" }, warnings)
  end)

  it("does not warn again when rebuilt from its own dict", function()
    local _, _, cfg = build {}
    local warnings, ok = build(cfg:to_dict())
    assert.is_true(ok)
    assert.are.same({}, warnings)
  end)
end)
