-- X-LoRA: a learned classifier mixes several LoRA experts per token.
local peft = require "peft"

local XLoraConfig = peft.declare_config {
  name = "XLoraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.XLORA,
  doc = "X-LoRA: a learned classifier mixes several LoRA experts per token.",
  fields = {},
}

local XLoraModel = peft.declare_model { name = "XLoraModel", prefix = "xlora_" }

peft.register_peft_method {
  name = "xlora",
  config_cls = XLoraConfig,
  model_cls = XLoraModel,
  prefix = "xlora_",
  is_mixed_compatible = false,
}

return XLoraConfig
