-- VeRA: shared frozen random matrices with small trainable scaling vectors.
local peft = require "peft"

local VeraConfig = peft.declare_config {
  name = "VeraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.VERA,
  doc = "VeRA: shared frozen random matrices with small trainable scaling vectors.",
  fields = {},
}

local VeraModel = peft.declare_model { name = "VeraModel", prefix = "vera_lambda_" }

peft.register_peft_method {
  name = "vera",
  config_cls = VeraConfig,
  model_cls = VeraModel,
  prefix = "vera_lambda_",
  is_mixed_compatible = false,
}

return VeraConfig
