-- BOFT: butterfly-factorised orthogonal fine-tuning.
local peft = require "peft"

local BOFTConfig = peft.declare_config {
  name = "BOFTConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.BOFT,
  doc = "BOFT: butterfly-factorised orthogonal fine-tuning.",
  fields = {},
}

local BOFTModel = peft.declare_model { name = "BOFTModel", prefix = "boft_" }

peft.register_peft_method {
  name = "boft",
  config_cls = BOFTConfig,
  model_cls = BOFTModel,
  prefix = "boft_",
  is_mixed_compatible = false,
}

return BOFTConfig
