-- LN tuning: fine-tunes only the LayerNorm parameters.
local peft = require "peft"

local LNTuningConfig = peft.declare_config {
  name = "LNTuningConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.LN_TUNING,
  doc = "LN tuning: fine-tunes only the LayerNorm parameters.",
  fields = {},
}

local LNTuningModel = peft.declare_model { name = "LNTuningModel", prefix = "ln_tuning_" }

peft.register_peft_method {
  name = "ln_tuning",
  config_cls = LNTuningConfig,
  model_cls = LNTuningModel,
  prefix = "ln_tuning_",
  is_mixed_compatible = false,
}

return LNTuningConfig
