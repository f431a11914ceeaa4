-- OSF: orthogonal subspace fine-tuning for continual learning.
local peft = require "peft"

local OSFConfig = peft.declare_config {
  name = "OSFConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.OSF,
  doc = "OSF: orthogonal subspace fine-tuning for continual learning.",
  fields = {},
}

local OSFModel = peft.declare_model { name = "OSFModel", prefix = "osf_" }

peft.register_peft_method {
  name = "osf",
  config_cls = OSFConfig,
  model_cls = OSFModel,
  prefix = "osf_",
  is_mixed_compatible = false,
}

return OSFConfig
