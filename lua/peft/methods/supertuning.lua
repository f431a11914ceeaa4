-- Super-Tuning: sparse, structured updates to selected weight blocks.
local peft = require "peft"

local SupertuningConfig = peft.declare_config {
  name = "SupertuningConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.SUPERTUNING,
  doc = "Super-Tuning: sparse, structured updates to selected weight blocks.",
  fields = {},
}

local SupertuningModel = peft.declare_model { name = "SupertuningModel", prefix = "supertuning_" }

peft.register_peft_method {
  name = "supertuning",
  config_cls = SupertuningConfig,
  model_cls = SupertuningModel,
  prefix = "supertuning_",
  is_mixed_compatible = false,
}

return SupertuningConfig
