-- Prefix tuning: learned key/value prefixes for every attention layer.
local peft = require "peft"

local PrefixTuningConfig = peft.declare_config {
  name = "PrefixTuningConfig",
  parent = peft.PromptLearningConfig,
  peft_type = peft.PeftType.PREFIX_TUNING,
  doc = "Prefix tuning: learned key/value prefixes for every attention layer.",
  fields = {},
}

local PrefixEncoder = peft.declare_model { name = "PrefixEncoder", prefix = "prefix_tuning_" }

peft.register_peft_method {
  name = "prefix_tuning",
  config_cls = PrefixTuningConfig,
  model_cls = PrefixEncoder,
  prefix = "prefix_tuning_",
  is_mixed_compatible = false,
}

return PrefixTuningConfig
