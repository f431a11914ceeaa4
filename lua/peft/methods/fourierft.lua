-- FourierFT: learns a sparse set of spectral coefficients per layer.
local peft = require "peft"

local FourierFTConfig = peft.declare_config {
  name = "FourierFTConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.FOURIERFT,
  doc = "FourierFT: learns a sparse set of spectral coefficients per layer.",
  fields = {},
}

local FourierFTModel = peft.declare_model { name = "FourierFTModel", prefix = "fourierft_" }

peft.register_peft_method {
  name = "fourierft",
  config_cls = FourierFTConfig,
  model_cls = FourierFTModel,
  prefix = "fourierft_",
  is_mixed_compatible = false,
}

return FourierFTConfig
