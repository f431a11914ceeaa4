-- OFT: orthogonal fine-tuning with block-diagonal orthogonal matrices.
local peft = require "peft"

local OFTConfig = peft.declare_config {
  name = "OFTConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.OFT,
  doc = "OFT: orthogonal fine-tuning with block-diagonal orthogonal matrices.",
  fields = {},
}

local OFTModel = peft.declare_model { name = "OFTModel", prefix = "oft_" }

peft.register_peft_method {
  name = "oft",
  config_cls = OFTConfig,
  model_cls = OFTModel,
  prefix = "oft_",
  is_mixed_compatible = false,
}

return OFTConfig
