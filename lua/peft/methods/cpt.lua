-- CPT: context-aware prompt tuning for few-shot causal language modelling.
local peft = require "peft"

local CPTConfig = peft.declare_config {
  name = "CPTConfig",
  parent = peft.PromptLearningConfig,
  peft_type = peft.PeftType.CPT,
  doc = "CPT: context-aware prompt tuning for few-shot causal language modelling.",
  fields = {},
}

local CPTEmbedding = peft.declare_model { name = "CPTEmbedding", prefix = "cpt_" }

peft.register_peft_method {
  name = "cpt",
  config_cls = CPTConfig,
  model_cls = CPTEmbedding,
  prefix = "cpt_",
  is_mixed_compatible = false,
}

return CPTConfig
