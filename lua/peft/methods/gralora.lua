-- GraLoRA: granular LoRA that splits each weight into independently adapted blocks.
local peft = require "peft"

local GraloraConfig = peft.declare_config {
  name = "GraloraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.GRALORA,
  doc = "GraLoRA: granular LoRA that splits each weight into independently adapted blocks.",
  fields = {},
}

local GraloraModel = peft.declare_model { name = "GraloraModel", prefix = "gralora_" }

peft.register_peft_method {
  name = "gralora",
  config_cls = GraloraConfig,
  model_cls = GraloraModel,
  prefix = "gralora_",
  is_mixed_compatible = false,
}

return GraloraConfig
