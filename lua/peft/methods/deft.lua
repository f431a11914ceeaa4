-- DEFT: decomposed efficient fine-tuning.
local peft = require "peft"

local DeftConfig = peft.declare_config {
  name = "DeftConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.DEFT,
  doc = "DEFT: decomposed efficient fine-tuning.",
  fields = {},
}

local DeftModel = peft.declare_model { name = "DeftModel", prefix = "deft_" }

peft.register_peft_method {
  name = "deft",
  config_cls = DeftConfig,
  model_cls = DeftModel,
  prefix = "deft_",
  is_mixed_compatible = false,
}

return DeftConfig
