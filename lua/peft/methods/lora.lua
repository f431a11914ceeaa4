-- LoRA: trainable low-rank matrices A and B added beside each targeted layer.
local peft = require "peft"

local LoraConfig = peft.declare_config {
  name = "LoraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.LORA,
  doc = "LoRA: trainable low-rank matrices A and B added beside each targeted layer.",
  fields = {},
}

local LoraModel = peft.declare_model { name = "LoraModel", prefix = "lora_" }

peft.register_peft_method {
  name = "lora",
  config_cls = LoraConfig,
  model_cls = LoraModel,
  prefix = "lora_",
  is_mixed_compatible = true,
}

return LoraConfig
