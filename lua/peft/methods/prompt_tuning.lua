-- Prompt tuning: learned virtual token embeddings prepended to the input.
local peft = require "peft"

local PromptTuningConfig = peft.declare_config {
  name = "PromptTuningConfig",
  parent = peft.PromptLearningConfig,
  peft_type = peft.PeftType.PROMPT_TUNING,
  doc = "Prompt tuning: learned virtual token embeddings prepended to the input.",
  fields = {},
}

local PromptEmbedding = peft.declare_model { name = "PromptEmbedding", prefix = "prompt_tuning_" }

peft.register_peft_method {
  name = "prompt_tuning",
  config_cls = PromptTuningConfig,
  model_cls = PromptEmbedding,
  prefix = "prompt_tuning_",
  is_mixed_compatible = false,
}

return PromptTuningConfig
