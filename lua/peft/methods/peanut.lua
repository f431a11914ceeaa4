-- PEANuT: parameter-efficient adaptation with weight-aware neural tweakers.
local peft = require "peft"

local PeanutConfig = peft.declare_config {
  name = "PeanutConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.PEANUT,
  doc = "PEANuT: parameter-efficient adaptation with weight-aware neural tweakers.",
  fields = {},
}

local PeanutModel = peft.declare_model { name = "PeanutModel", prefix = "peanut_" }

peft.register_peft_method {
  name = "peanut",
  config_cls = PeanutConfig,
  model_cls = PeanutModel,
  prefix = "peanut_",
  is_mixed_compatible = false,
}

return PeanutConfig
