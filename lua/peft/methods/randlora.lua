-- RandLoRA: full-rank updates from shared random low-rank bases.
local peft = require "peft"

local RandLoraConfig = peft.declare_config {
  name = "RandLoraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.RANDLORA,
  doc = "RandLoRA: full-rank updates from shared random low-rank bases.",
  fields = {},
}

local RandLoraModel = peft.declare_model { name = "RandLoraModel", prefix = "randlora_" }

peft.register_peft_method {
  name = "randlora",
  config_cls = RandLoraConfig,
  model_cls = RandLoraModel,
  prefix = "randlora_",
  is_mixed_compatible = false,
}

return RandLoraConfig
