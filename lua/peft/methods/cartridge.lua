-- Cartridge: a trained KV-cache prefix that stands in for a long context.
local peft = require "peft"

local CartridgeConfig = peft.declare_config {
  name = "CartridgeConfig",
  parent = peft.PromptLearningConfig,
  peft_type = peft.PeftType.CARTRIDGE,
  doc = "Cartridge: a trained KV-cache prefix that stands in for a long context.",
  fields = {},
}

local CartridgeEncoder = peft.declare_model { name = "CartridgeEncoder", prefix = "cartridge_" }

peft.register_peft_method {
  name = "cartridge",
  config_cls = CartridgeConfig,
  model_cls = CartridgeEncoder,
  prefix = "cartridge_",
  is_mixed_compatible = false,
}

return CartridgeConfig
