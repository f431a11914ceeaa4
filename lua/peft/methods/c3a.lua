-- C3A: circular-convolution adaptation with block-circulant updates.
local peft = require "peft"

local C3AConfig = peft.declare_config {
  name = "C3AConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.C3A,
  doc = "C3A: circular-convolution adaptation with block-circulant updates.",
  fields = {},
}

local C3AModel = peft.declare_model { name = "C3AModel", prefix = "c3a_" }

peft.register_peft_method {
  name = "c3a",
  config_cls = C3AConfig,
  model_cls = C3AModel,
  prefix = "c3a_",
  is_mixed_compatible = false,
}

return C3AConfig
