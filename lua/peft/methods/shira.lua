-- SHiRA: sparse high-rank adapters that train a fixed subset of weights.
local peft = require "peft"

local ShiraConfig = peft.declare_config {
  name = "ShiraConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.SHIRA,
  doc = "SHiRA: sparse high-rank adapters that train a fixed subset of weights.",
  fields = {},
}

local ShiraModel = peft.declare_model { name = "ShiraModel", prefix = "shira_" }

peft.register_peft_method {
  name = "shira",
  config_cls = ShiraConfig,
  model_cls = ShiraModel,
  prefix = "shira_",
  is_mixed_compatible = true,
}

return ShiraConfig
