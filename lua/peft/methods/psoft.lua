-- PSOFT: principal-subspace orthogonal fine-tuning.
local peft = require "peft"

local PsoftConfig = peft.declare_config {
  name = "PsoftConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.PSOFT,
  doc = "PSOFT: principal-subspace orthogonal fine-tuning.",
  fields = {},
}

local PsoftModel = peft.declare_model { name = "PsoftModel", prefix = "psoft_" }

peft.register_peft_method {
  name = "psoft",
  config_cls = PsoftConfig,
  model_cls = PsoftModel,
  prefix = "psoft_",
  is_mixed_compatible = false,
}

return PsoftConfig
