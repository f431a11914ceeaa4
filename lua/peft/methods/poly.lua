-- Poly: a routed mixture of LoRA skills for multi-task learning.
local peft = require "peft"

local PolyConfig = peft.declare_config {
  name = "PolyConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.POLY,
  doc = "Poly: a routed mixture of LoRA skills for multi-task learning.",
  fields = {},
}

local PolyModel = peft.declare_model { name = "PolyModel", prefix = "poly_" }

peft.register_peft_method {
  name = "poly",
  config_cls = PolyConfig,
  model_cls = PolyModel,
  prefix = "poly_",
  is_mixed_compatible = false,
}

return PolyConfig
