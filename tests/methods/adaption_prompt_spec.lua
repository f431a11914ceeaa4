-- AdaptionPromptConfig: its fields and the is_adaption_prompt flag.
local peft = require "peft"
local helpers = require "helpers"

describe("AdaptionPromptConfig", function()

  it("is an adaption-prompt config, not a prompt-learning one", function()
    local cfg = peft.AdaptionPromptConfig {}
    assert.is_true(cfg.is_adaption_prompt)
    assert.is_false(cfg.is_prompt_learning)
    assert.is_true(peft.AdaptionPromptConfig.is_adaption_prompt)
    assert.is_false(peft.AdaptionPromptConfig:is_subclass_of(peft.PromptLearningConfig))
  end)

  it("accepts the usual LLaMA settings", function()
    local cfg = peft.AdaptionPromptConfig { target_modules = "self_attn", adapter_len = 10, adapter_layers = 30,
      task_type = "CAUSAL_LM" }
    assert.are.equal("self_attn", cfg.target_modules)
    assert.are.equal(10, cfg.adapter_len)
    assert.are.equal(30, cfg.adapter_layers)
  end)

  it("takes target_modules as a single name, not a list", function()
    local err = helpers.error_of(peft.AdaptionPromptConfig, { target_modules = { "self_attn" } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('AdaptionPromptConfig.target_modules: expected a string or null, got ["self_attn"]', err.message)
  end)

  it("rejects a non-integer adapter_len", function()
    local err = helpers.error_of(peft.AdaptionPromptConfig, { adapter_len = 1.5 })
    assert.are.equal("TypeError", err.kind)
    assert.are.equal("AdaptionPromptConfig.adapter_len: expected an integer or null, got 1.5 (PEFT reads the file, but its model code needs an integer here: a size, a count or a seed)", err.message)
  end)
end)
