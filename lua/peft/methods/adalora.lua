-- AdaLoRA: LoRA whose rank budget is reallocated across layers during training.
local peft = require "peft"

local AdaLoraConfig = peft.declare_config {
  name = "AdaLoraConfig",
  parent = require "peft.methods.lora",
  peft_type = peft.PeftType.ADALORA,
  doc = "AdaLoRA: LoRA whose rank budget is reallocated across layers during training.",
  fields = {},
}

local AdaLoraModel = peft.declare_model { name = "AdaLoraModel", prefix = "lora_" }

peft.register_peft_method {
  name = "adalora",
  config_cls = AdaLoraConfig,
  model_cls = AdaLoraModel,
  prefix = "lora_",
  is_mixed_compatible = true,
  shares_prefix_with = "lora",
}

return AdaLoraConfig
