-- LoKr: low-rank Kronecker product adaptation (LyCORIS).
local peft = require "peft"

local LoKrConfig = peft.declare_config {
  name = "LoKrConfig",
  parent = require("peft.lycoris").LycorisConfig,
  peft_type = peft.PeftType.LOKR,
  doc = "LoKr: low-rank Kronecker product adaptation (LyCORIS).",
  fields = {},
}

local LoKrModel = peft.declare_model { name = "LoKrModel", prefix = "lokr_" }

peft.register_peft_method {
  name = "lokr",
  config_cls = LoKrConfig,
  model_cls = LoKrModel,
  prefix = "lokr_",
  is_mixed_compatible = true,
}

return LoKrConfig
