-- FRoD: full-rank efficient adaptation via rotational degrees of freedom.
local peft = require "peft"

local FrodConfig = peft.declare_config {
  name = "FrodConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.FROD,
  doc = "FRoD: full-rank efficient adaptation via rotational degrees of freedom.",
  fields = {},
}

local FrodModel = peft.declare_model { name = "FrodModel", prefix = "frod_" }

peft.register_peft_method {
  name = "frod",
  config_cls = FrodConfig,
  model_cls = FrodModel,
  prefix = "frod_",
  is_mixed_compatible = false,
}

return FrodConfig
