-- MultitaskPromptTuningConfig: its own init enum and fields, and the rules
-- inherited from PromptTuningConfig.
local peft = require "peft"
local helpers = require "helpers"

describe("MultitaskPromptTuningConfig", function()

  it("is a PromptTuningConfig whose prompt_tuning_init uses its own enum", function()
    local cls = peft.MultitaskPromptTuningConfig
    assert.is_true(cls:is_subclass_of(peft.PromptTuningConfig))
    assert.are.equal("Union[MultitaskPromptTuningInit, str]", cls:field("prompt_tuning_init").type)
    assert.are.same({ "TEXT", "RANDOM", "AVERAGE_SOURCE_TASKS", "EXACT_SOURCE_TASK", "ONLY_SOURCE_SHARED" },
      peft.config.enum_members("MultitaskPromptTuningInit"))
  end)

  it("accepts the source-task initialisations with their fields", function()
    local cfg = peft.MultitaskPromptTuningConfig { prompt_tuning_init = "EXACT_SOURCE_TASK",
      prompt_tuning_init_state_dict_path = "source/adapter_model.safetensors", prompt_tuning_init_task = 3,
      num_ranks = 2, num_tasks = 4 }
    assert.are.equal("EXACT_SOURCE_TASK", cfg.prompt_tuning_init)
    assert.are.equal(3, cfg.prompt_tuning_init_task)
  end)

  it("accepts null for its optional integer fields", function()
    local cfg = peft.MultitaskPromptTuningConfig { prompt_tuning_init_task = peft.null, num_ranks = peft.null }
    assert.is_nil(cfg.prompt_tuning_init_task)
    assert.is_nil(cfg.num_ranks)
  end)

  it("rejects a non-integer num_tasks", function()
    local err = helpers.error_of(peft.MultitaskPromptTuningConfig, { num_tasks = 2.5 })
    assert.are.equal("TypeError", err.kind)
    assert.are.equal("MultitaskPromptTuningConfig.num_tasks: expected an integer or null, got 2.5 (PEFT reads the file, but its model code needs an integer here: a size, a count or a seed)", err.message)
  end)

  describe("inherits the TEXT rules", function()
    it("needs tokenizer_name_or_path", function()
      local err = helpers.error_of(peft.MultitaskPromptTuningConfig,
        { prompt_tuning_init = "TEXT", prompt_tuning_init_text = "Answer:" })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("MultitaskPromptTuningConfig.tokenizer_name_or_path: must be set when prompt_tuning_init is 'TEXT', got null",
        err.message)
    end)

    it("needs prompt_tuning_init_text", function()
      local err = helpers.error_of(peft.MultitaskPromptTuningConfig,
        { prompt_tuning_init = "TEXT", tokenizer_name_or_path = "t5-small" })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal("MultitaskPromptTuningConfig.prompt_tuning_init_text: must be set when prompt_tuning_init is 'TEXT', got null",
        err.message)
    end)

    it("refuses tokenizer_kwargs without TEXT", function()
      local err = helpers.error_of(peft.MultitaskPromptTuningConfig,
        { prompt_tuning_init = "AVERAGE_SOURCE_TASKS", tokenizer_kwargs = { revision = "main" } })
      assert.are.equal("ValueError", err.kind)
      assert.are.equal('MultitaskPromptTuningConfig.tokenizer_kwargs: only allowed when prompt_tuning_init is \'TEXT\', got prompt_tuning_init "AVERAGE_SOURCE_TASKS"',
        err.message)
    end)

    it("accepts a complete TEXT initialisation", function()
      local cfg = peft.MultitaskPromptTuningConfig { prompt_tuning_init = "TEXT", prompt_tuning_init_text = "Answer:",
        tokenizer_name_or_path = "t5-small", tokenizer_kwargs = { revision = "main" } }
      assert.are.equal("TEXT", cfg.prompt_tuning_init)
    end)
  end)
end)
