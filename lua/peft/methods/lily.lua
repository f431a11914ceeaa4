-- Lily: low-rank interconnected adaptation across layers.
local peft = require "peft"

local LilyConfig = peft.declare_config {
  name = "LilyConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.LILY,
  doc = "Lily: low-rank interconnected adaptation across layers.",
  fields = {},
}

local LilyModel = peft.declare_model { name = "LilyModel", prefix = "lily_" }

peft.register_peft_method {
  name = "lily",
  config_cls = LilyConfig,
  model_cls = LilyModel,
  prefix = "lily_",
  is_mixed_compatible = false,
}

return LilyConfig
