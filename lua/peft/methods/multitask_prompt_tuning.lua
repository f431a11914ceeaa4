-- Multitask prompt tuning: a shared prompt decomposed per task.
local peft = require "peft"

local MultitaskPromptTuningConfig = peft.declare_config {
  name = "MultitaskPromptTuningConfig",
  parent = require "peft.methods.prompt_tuning",
  peft_type = peft.PeftType.MULTITASK_PROMPT_TUNING,
  doc = "Multitask prompt tuning: a shared prompt decomposed per task.",
  fields = {},
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
