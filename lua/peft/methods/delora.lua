-- DeLoRA: decoupled low-rank adaptation with a bounded, normalised update.
local peft = require "peft"

local DeloraConfig = peft.declare_config {
  name = "DeloraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.DELORA,
  doc = "DeLoRA: decoupled low-rank adaptation with a bounded, normalised update.",
  fields = {},
}

local DeloraModel = peft.declare_model { name = "DeloraModel", prefix = "delora_" }

peft.register_peft_method {
  name = "delora",
  config_cls = DeloraConfig,
  model_cls = DeloraModel,
  prefix = "delora_",
  is_mixed_compatible = false,
}

return DeloraConfig
