-- AdaMSS: adaptive multi-subspace low-rank adaptation.
local peft = require "peft"

local AdamssConfig = peft.declare_config {
  name = "AdamssConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.ADAMSS,
  doc = "AdaMSS: adaptive multi-subspace low-rank adaptation.",
  fields = {},
}

local AdamssModel = peft.declare_model { name = "AdamssModel", prefix = "adamss_" }

peft.register_peft_method {
  name = "adamss",
  config_cls = AdamssConfig,
  model_cls = AdamssModel,
  prefix = "adamss_",
  is_mixed_compatible = false,
}

return AdamssConfig
