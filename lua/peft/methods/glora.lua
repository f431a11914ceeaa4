-- GLoRA: generalised LoRA with per-layer prompt, scale and shift modules.
local peft = require "peft"

local GloraConfig = peft.declare_config {
  name = "GloraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.GLORA,
  doc = "GLoRA: generalised LoRA with per-layer prompt, scale and shift modules.",
  fields = {},
}

local GloraModel = peft.declare_model { name = "GloraModel", prefix = "glora_" }

peft.register_peft_method {
  name = "glora",
  config_cls = GloraConfig,
  model_cls = GloraModel,
  prefix = "glora_",
  is_mixed_compatible = false,
}

return GloraConfig
