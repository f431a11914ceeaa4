-- TinyLoRA: LoRA with very few trainable parameters per layer.
local peft = require "peft"

local TinyLoraConfig = peft.declare_config {
  name = "TinyLoraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.TINYLORA,
  doc = "TinyLoRA: LoRA with very few trainable parameters per layer.",
  fields = {},
}

local TinyLoraModel = peft.declare_model { name = "TinyLoraModel", prefix = "tinylora_" }

peft.register_peft_method {
  name = "tinylora",
  config_cls = TinyLoraConfig,
  model_cls = TinyLoraModel,
  prefix = "tinylora_",
  is_mixed_compatible = false,
}

return TinyLoraConfig
