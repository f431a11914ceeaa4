-- Uni-LoRA: one shared parameter vector projected into every LoRA matrix.
local peft = require "peft"

local UniLoraConfig = peft.declare_config {
  name = "UniLoraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.UNILORA,
  doc = "Uni-LoRA: one shared parameter vector projected into every LoRA matrix.",
  fields = {},
}

local UniLoraModel = peft.declare_model { name = "UniLoraModel", prefix = "unilora_" }

peft.register_peft_method {
  name = "unilora",
  config_cls = UniLoraConfig,
  model_cls = UniLoraModel,
  prefix = "unilora_",
  is_mixed_compatible = false,
}

return UniLoraConfig
