-- P-tuning: virtual tokens produced by a small prompt encoder (MLP or LSTM).
local peft = require "peft"

local PromptEncoderConfig = peft.declare_config {
  name = "PromptEncoderConfig",
  parent = peft.PromptLearningConfig,
  peft_type = peft.PeftType.P_TUNING,
  doc = "P-tuning: virtual tokens produced by a small prompt encoder (MLP or LSTM).",
  fields = {},
}

local PromptEncoder = peft.declare_model { name = "PromptEncoder", prefix = "p_tuning_" }

peft.register_peft_method {
  name = "p_tuning",
  config_cls = PromptEncoderConfig,
  model_cls = PromptEncoder,
  prefix = "p_tuning_",
  is_mixed_compatible = false,
}

return PromptEncoderConfig
