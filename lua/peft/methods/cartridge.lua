-- Cartridge: a trained KV-cache prefix that stands in for a long context.
local peft = require "peft"

local CartridgeConfig = peft.declare_config {
  name = "CartridgeConfig",
  parent = peft.PromptLearningConfig,
  peft_type = peft.PeftType.CARTRIDGE,
  doc = "Cartridge: a trained KV-cache prefix that stands in for a long context.",
  fields = function() return {
    { "num_frozen_tokens", "int", 1,
      "Leading virtual tokens kept frozen (an attention sink); between 0 and num_virtual_tokens.",
      min = 0 },
  } end,
  post_init = function(self, chk)
    -- num_frozen_tokens >= 0 is checked on the field (min = 0).
    local nvt = self.num_virtual_tokens
    if nvt ~= nil and self.num_frozen_tokens > nvt then
      chk.fail_value("num_frozen_tokens", "must not exceed num_virtual_tokens (%d)", nvt)
    end
  end,
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
