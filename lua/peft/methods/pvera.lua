-- PVeRA: probabilistic VeRA with sampled scaling vectors.
local peft = require "peft"

local PveraConfig = peft.declare_config {
  name = "PveraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.PVERA,
  doc = "PVeRA: probabilistic VeRA with sampled scaling vectors.",
  fields = {},
}

local PveraModel = peft.declare_model { name = "PveraModel", prefix = "pvera_lambda_" }

peft.register_peft_method {
  name = "pvera",
  config_cls = PveraConfig,
  model_cls = PveraModel,
  prefix = "pvera_lambda_",
  is_mixed_compatible = false,
}

return PveraConfig
