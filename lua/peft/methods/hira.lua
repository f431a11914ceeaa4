-- HiRA: Hadamard high-rank adaptation.
local peft = require "peft"

local HiraConfig = peft.declare_config {
  name = "HiraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.HIRA,
  doc = "HiRA: Hadamard high-rank adaptation.",
  fields = {},
}

local HiraModel = peft.declare_model { name = "HiraModel", prefix = "hira_" }

peft.register_peft_method {
  name = "hira",
  config_cls = HiraConfig,
  model_cls = HiraModel,
  prefix = "hira_",
  is_mixed_compatible = true,
}

return HiraConfig
