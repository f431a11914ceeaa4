-- PromptTuningConfig: the TEXT initialisation rules and the enum-typed init
-- field.
local peft = require "peft"
local helpers = require "helpers"

describe("PromptTuningConfig", function()
  it("has PEFT's defaults and is a prompt-learning config", function()
    local cfg = peft.PromptTuningConfig {}
    assert.are.equal("PROMPT_TUNING", cfg.peft_type)
    assert.are.equal("RANDOM", cfg.prompt_tuning_init)
    assert.is_nil(cfg.prompt_tuning_init_text)
    assert.is_nil(cfg.tokenizer_name_or_path)
    assert.is_nil(cfg.tokenizer_kwargs)
    assert.is_true(cfg.is_prompt_learning)
    assert.is_false(cfg.is_adaption_prompt)
  end)

  it("declares the PromptTuningInit enum", function()
    assert.are.same({ "TEXT", "SAMPLE_VOCAB", "RANDOM" }, peft.config.enum_members("PromptTuningInit"))
    local cfg = peft.PromptTuningConfig { prompt_tuning_init = "SAMPLE_VOCAB" }
    assert.are.equal("SAMPLE_VOCAB", cfg.prompt_tuning_init)
  end)

  it("rejects a prompt_tuning_init that is not a string", function()
    local err = helpers.error_of(peft.PromptTuningConfig, { prompt_tuning_init = 1 })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("PromptTuningConfig.prompt_tuning_init: expected a PromptTuningInit or a string, got 1",
      err.message)
  end)

  describe("with prompt_tuning_init 'TEXT'", function()
    it("needs tokenizer_name_or_path", function()
      local err = helpers.error_of(peft.PromptTuningConfig,
        { prompt_tuning_init = "TEXT", prompt_tuning_init_text = "Classify:" })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("PromptTuningConfig.tokenizer_name_or_path: must be set when prompt_tuning_init is 'TEXT', got null",
        err.message)
    end)

    it("treats an empty tokenizer_name_or_path as missing", function()
      local err = helpers.error_of(peft.PromptTuningConfig,
        { prompt_tuning_init = "TEXT", prompt_tuning_init_text = "Classify:", tokenizer_name_or_path = "" })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal('PromptTuningConfig.tokenizer_name_or_path: must be set when prompt_tuning_init is \'TEXT\', got ""',
        err.message)
    end)

    it("needs prompt_tuning_init_text", function()
      local err = helpers.error_of(peft.PromptTuningConfig,
        { prompt_tuning_init = "TEXT", tokenizer_name_or_path = "gpt2" })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("PromptTuningConfig.prompt_tuning_init_text: must be set when prompt_tuning_init is 'TEXT', got null",
        err.message)
    end)

    it("accepts a tokenizer, a text and tokenizer_kwargs", function()
      local cfg = peft.PromptTuningConfig { prompt_tuning_init = "TEXT", prompt_tuning_init_text = "Classify:",
        tokenizer_name_or_path = "gpt2", tokenizer_kwargs = { use_fast = false } }
      assert.are.equal("gpt2", cfg.tokenizer_name_or_path)
      assert.are.same({ use_fast = false }, cfg.tokenizer_kwargs)
    end)
  end)

  describe("tokenizer_kwargs", function()
    it("is refused without the TEXT initialisation", function()
      local err = helpers.error_of(peft.PromptTuningConfig, { tokenizer_kwargs = { use_fast = false } })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal('PromptTuningConfig.tokenizer_kwargs: only allowed when prompt_tuning_init is \'TEXT\', got prompt_tuning_init "RANDOM"',
        err.message)
    end)

    it("may be empty with any initialisation", function()
      local cfg = peft.PromptTuningConfig { prompt_tuning_init = "SAMPLE_VOCAB", tokenizer_kwargs = {} }
      assert.are.equal("SAMPLE_VOCAB", cfg.prompt_tuning_init)
    end)
  end)

  it("re-checks the rules on validate()", function()
    local cfg = peft.PromptTuningConfig {}
    cfg.prompt_tuning_init = "TEXT"
    local err = helpers.error_of(cfg.validate, cfg)
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("PromptTuningConfig.tokenizer_name_or_path: must be set when prompt_tuning_init is 'TEXT', got null",
      err.message)
  end)
end)
