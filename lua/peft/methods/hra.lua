-- HRA: Householder reflection adaptation.
local peft = require "peft"

local HRAConfig = peft.declare_config {
  name = "HRAConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.HRA,
  doc = "HRA: Householder reflection adaptation.",
  fields = {},
}

local HRAModel = peft.declare_model { name = "HRAModel", prefix = "hra_" }

peft.register_peft_method {
  name = "hra",
  config_cls = HRAConfig,
  model_cls = HRAModel,
  prefix = "hra_",
  is_mixed_compatible = false,
}

return HRAConfig
