-- PrefixTuningConfig: its fields, the 'zero' init literal and the
-- num_transformer_submodules derived from task_type.
local peft = require "peft"
local helpers = require "helpers"

describe("PrefixTuningConfig", function()
  it("has PEFT's defaults", function()
    local cfg = peft.PrefixTuningConfig {}
    assert.are.equal("PREFIX_TUNING", cfg.peft_type)
    assert.is_nil(cfg.init_weights)
    assert.is_nil(cfg.encoder_hidden_size)
    assert.is_false(cfg.prefix_projection)
    assert.is_true(cfg.is_prompt_learning)
  end)

  it("accepts init_weights 'zero' and a projection", function()
    local cfg = peft.PrefixTuningConfig { init_weights = "zero", prefix_projection = true, encoder_hidden_size = 512 }
    assert.are.equal("zero", cfg.init_weights)
    assert.is_true(cfg.prefix_projection)
  end)

  it("rejects any other init_weights", function()
    local err = helpers.error_of(peft.PrefixTuningConfig, { init_weights = "random" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("PrefixTuningConfig.init_weights: expected 'zero' or null, got \"random\"", err.message)
  end)

  describe("num_transformer_submodules", function()
    it("stays null without a task_type", function()
      assert.is_nil(peft.PrefixTuningConfig {}.num_transformer_submodules)
    end)

    it("is 2 for SEQ_2_SEQ_LM and 1 otherwise", function()
      assert.are.equal(2, peft.PrefixTuningConfig { task_type = "SEQ_2_SEQ_LM" }.num_transformer_submodules)
      assert.are.equal(1, peft.PrefixTuningConfig { task_type = "CAUSAL_LM" }.num_transformer_submodules)
    end)

    it("keeps a given value", function()
      local cfg = peft.PrefixTuningConfig { task_type = "CAUSAL_LM", num_transformer_submodules = 2 }
      assert.are.equal(2, cfg.num_transformer_submodules)
    end)
  end)
end)
