-- Multitask prompt tuning: a shared prompt decomposed per task.
local peft = require "peft"

-- How the multitask prompt starts out (the source-task members load a
-- prompt trained before, from prompt_tuning_init_state_dict_path).
peft.config.declare_enum("MultitaskPromptTuningInit",
  { "TEXT", "RANDOM", "AVERAGE_SOURCE_TASKS", "EXACT_SOURCE_TASK", "ONLY_SOURCE_SHARED" })

-- The rules of PromptTuningConfig (TEXT needs a tokenizer and a text;
-- tokenizer_kwargs only with TEXT) and the derived num_transformer_submodules
-- come with the inherited post_init. PEFT adds no rule of its own here; the
-- need for prompt_tuning_init_state_dict_path with a source-task init is
-- checked by PEFT only when the model is built.
local MultitaskPromptTuningConfig = peft.declare_config {
  name = "MultitaskPromptTuningConfig",
  parent = require "peft.methods.prompt_tuning",
  peft_type = peft.PeftType.MULTITASK_PROMPT_TUNING,
  doc = "Multitask prompt tuning: a shared prompt decomposed per task.",
  fields = function() return {
    { "prompt_tuning_init", "Union[MultitaskPromptTuningInit, str]", "RANDOM",
      "Starting point of the prompt: 'TEXT', 'RANDOM', or one of the source-task initialisations." },
    { "prompt_tuning_init_state_dict_path", "Optional[str]", nil,
      "Path of the source prompt's weights, used by the source-task initialisations." },
    { "prompt_tuning_init_task", "Optional[int]", 0,
      "Index of the source task whose prompt is copied by 'EXACT_SOURCE_TASK'." },
    { "num_ranks", "Optional[int]", 1,
      "Rank of the per-task low-rank factors that modulate the shared prompt." },
    { "num_tasks", "Optional[int]", 1,
      "Number of tasks trained together." },
  } end,
}

local MultitaskPromptEmbedding = peft.declare_model { name = "MultitaskPromptEmbedding", prefix = "multitask_prompt_tuning_" }

peft.register_peft_method {
  name = "multitask_prompt_tuning",
  config_cls = MultitaskPromptTuningConfig,
  model_cls = MultitaskPromptEmbedding,
  prefix = "multitask_prompt_tuning_",
  is_mixed_compatible = false,
}

return MultitaskPromptTuningConfig
