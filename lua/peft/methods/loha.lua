-- LoHa: low-rank Hadamard product adaptation (LyCORIS).
local peft = require "peft"

local LoHaConfig = peft.declare_config {
  name = "LoHaConfig",
  parent = require("peft.lycoris").LycorisConfig,
  peft_type = peft.PeftType.LOHA,
  doc = "LoHa: low-rank Hadamard product adaptation (LyCORIS).",
  fields = {},
}

local LoHaModel = peft.declare_model { name = "LoHaModel", prefix = "hada_" }

peft.register_peft_method {
  name = "loha",
  config_cls = LoHaConfig,
  model_cls = LoHaModel,
  prefix = "hada_",
  is_mixed_compatible = true,
}

return LoHaConfig
