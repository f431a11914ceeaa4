-- BEFT: bias-efficient fine-tuning of selected bias terms.
local peft = require "peft"

local BeftConfig = peft.declare_config {
  name = "BeftConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.BEFT,
  doc = "BEFT: bias-efficient fine-tuning of selected bias terms.",
  fields = {},
}

local BeftModel = peft.declare_model { name = "BeftModel", prefix = "beft_" }

peft.register_peft_method {
  name = "beft",
  config_cls = BeftConfig,
  model_cls = BeftModel,
  prefix = "beft_",
  is_mixed_compatible = true,
}

return BeftConfig
