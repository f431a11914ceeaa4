-- VB-LoRA: LoRA matrices composed from a shared vector bank.
local peft = require "peft"

local VBLoRAConfig = peft.declare_config {
  name = "VBLoRAConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.VBLORA,
  doc = "VB-LoRA: LoRA matrices composed from a shared vector bank.",
  fields = {},
}

local VBLoRAModel = peft.declare_model { name = "VBLoRAModel", prefix = "vblora_" }

peft.register_peft_method {
  name = "vblora",
  config_cls = VBLoRAConfig,
  model_cls = VBLoRAModel,
  prefix = "vblora_",
  is_mixed_compatible = false,
}

return VBLoRAConfig
