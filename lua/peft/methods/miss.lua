-- MiSS: matrix shard sharing (the successor of Bone).
local peft = require "peft"

local MissConfig = peft.declare_config {
  name = "MissConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.MISS,
  doc = "MiSS: matrix shard sharing (the successor of Bone).",
  fields = {},
}

local MissModel = peft.declare_model { name = "MissModel", prefix = "miss_" }

peft.register_peft_method {
  name = "miss",
  config_cls = MissConfig,
  model_cls = MissModel,
  prefix = "miss_",
  is_mixed_compatible = false,
}

return MissConfig
